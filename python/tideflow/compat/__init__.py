"""tf.compat: `v1` is tideflow itself (TensorFlow 1.x's API); `v2` is tideflow.v2, whose import turns on
eager execution, so it loads only when asked for (`import tideflow.compat.v2 as tf`, `tf.compat.v2`)."""
import sys as _sys

v1 = _sys.modules["tideflow"]


def __getattr__(name):
    if name == "v2":
        from .. import v2
        return v2
    raise AttributeError("module 'tideflow.compat' has no attribute %r" % name)
