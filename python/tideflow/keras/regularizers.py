"""Keras regularizers: L1L2 (l1, l2, l1_l2) and `get`. A regularizer maps a weight to a scalar loss; layers
add it to their losses (and tf.layers to the REGULARIZATION_LOSSES collection)."""
from ..ops import gen_ops, math_ops, reduction_ops

__all__ = ["Regularizer", "L1L2", "l1", "l2", "l1_l2", "get"]


class Regularizer:
    def __call__(self, x):
        return 0.

    def get_config(self):
        return {}


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2)."""

    def __init__(self, l1=0., l2=0.):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        if not self.l1 and not self.l2:
            return math_ops.cast(0., x.dtype)
        regularization = None
        if self.l1:
            regularization = self.l1 * reduction_ops.reduce_sum(gen_ops.abs(x))
        if self.l2:
            term = self.l2 * reduction_ops.reduce_sum(gen_ops.square(x))
            regularization = term if regularization is None else regularization + term
        return regularization

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def l1(l=0.01):  # noqa: E741 (Keras's name)
    return L1L2(l1=l)


def l2(l=0.01):  # noqa: E741
    return L1L2(l2=l)


def l1_l2(l1=0.01, l2=0.01):  # noqa: F811
    return L1L2(l1=l1, l2=l2)


def get(identifier):
    if identifier is None or callable(identifier) and not isinstance(identifier, str):
        return identifier
    if isinstance(identifier, dict):
        if identifier.get("class_name") != "L1L2":
            raise ValueError("Unknown regularizer: %s" % identifier.get("class_name"))
        return L1L2(**identifier.get("config", {}))
    if identifier in ("l1", "l2", "l1_l2"):
        return {"l1": l1, "l2": l2, "l1_l2": l1_l2}[identifier]()
    raise ValueError("Could not interpret regularizer identifier: " + str(identifier))


class L1(L1L2):
    def __init__(self, l1=0.01, **kwargs):
        super().__init__(l1=kwargs.pop("l", l1))


class L2(L1L2):
    def __init__(self, l2=0.01, **kwargs):
        super().__init__(l2=kwargs.pop("l", l2))


__all__ += ["L1", "L2"]
