"""tf.compat: `v1` is tideflow itself (TensorFlow 1.x's API). `import tideflow.compat.v2 as tf` is
`import tideflow.v2 as tf`; it is not an attribute until imported, since its import turns eager execution
on."""
import sys as _sys

v1 = _sys.modules["tideflow"]
