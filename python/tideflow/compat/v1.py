"""`import tideflow.compat.v1 as tf` is `import tideflow as tf`."""
import sys as _sys

_sys.modules[__name__] = _sys.modules["tideflow"]
