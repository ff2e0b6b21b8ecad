"""smart_cond: tf.cond when the predicate is only known at run time, a plain Python branch when it is known
while the graph is built (a Python bool, 0/1, or a constant tensor), so `training=True` builds no cond."""
import numpy as np

from ..framework import ops as _ops
from . import control_flow_ops

__all__ = ["smart_cond", "smart_constant_value"]


def smart_constant_value(pred):
    """The predicate's value when known at graph-build time, else None."""
    if isinstance(pred, _ops.Tensor):
        if pred.op.type == "Const":
            return bool(np.asarray(pred.op.get_attr("value")))
        return None
    if isinstance(pred, (bool, np.bool_)):
        return bool(pred)
    if isinstance(pred, (int, np.integer)) and pred in (0, 1):
        return bool(pred)
    if hasattr(pred, "_as_graph_element"):  # a Variable: its value is only known when run
        return None
    raise TypeError("`pred` must be a Tensor, or a Python bool, or 1 or 0. Found instead: %s" % type(pred))


def smart_cond(pred, true_fn=None, false_fn=None, name=None):
    if not callable(true_fn):
        raise TypeError("`true_fn` must be callable.")
    if not callable(false_fn):
        raise TypeError("`false_fn` must be callable.")
    value = smart_constant_value(pred)
    if value is not None:
        return true_fn() if value else false_fn()
    if hasattr(pred, "_as_graph_element") and not isinstance(pred, _ops.Tensor):
        pred = pred.value()
    return control_flow_ops.cond(pred, true_fn=true_fn, false_fn=false_fn, name=name)
