"""tf.contrib: only tf.contrib.eager (tfe), the TensorFlow 1.x eager API that programs import as
`import tensorflow.contrib.eager as tfe`."""
from . import eager  # noqa: F401
