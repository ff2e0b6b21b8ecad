"""`import tideflow.compat.v2 as tf` is `import tideflow.v2 as tf` (eager execution on)."""
import sys as _sys

from .. import v2 as _v2

_sys.modules[__name__] = _v2
