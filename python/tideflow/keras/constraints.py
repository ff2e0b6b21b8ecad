"""Keras weight constraints: functions applied to a variable's new value after each optimizer update
(tf.Variable(constraint=...)). `get` accepts a callable or one of the names below."""
from ..ops import clip_ops, gen_ops, math_ops, reduction_ops

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "get"]

_EPSILON = 1e-7  # Keras's backend epsilon


def _norms(w, axis):
    return gen_ops.sqrt(reduction_ops.reduce_sum(gen_ops.square(w), axis, keepdims=True))


class Constraint:
    def __call__(self, w):
        return w

    def get_config(self):
        return {}


class MaxNorm(Constraint):
    """Rescales each slice along `axis` whose L2 norm exceeds max_value down to it (Keras's formula)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = clip_ops.clip_by_value(norms, 0., self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    def __call__(self, w):
        return w * math_ops.cast(math_ops.greater_equal(w, 0.), w.dtype)


class UnitNorm(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


_BY_NAME = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm}


def get(identifier):
    if identifier is None or callable(identifier) and not isinstance(identifier, str):
        return identifier
    cls = _BY_NAME.get(identifier)
    if cls is None:
        raise ValueError("Could not interpret constraint identifier: " + str(identifier))
    return cls()
