"""Ordering without data: tf.no_op, tf.group, tf.tuple (TensorFlow's control_flow_ops, where tf.cond and
tf.while_loop will go too)."""
from ..framework import ops as _ops
from . import array_ops

__all__ = ["no_op", "group"]  # tf.tuple is installed by _namespaces (a `tuple` here would shadow the builtin)


def no_op(name=None):
    return _ops.apply_op("NoOp", [], name=name or "NoOp")


def group(*inputs, **kwargs):
    """An op that runs all `inputs` (ops, tensors, or nested lists of them)."""
    name = kwargs.pop("name", None)
    flat = []

    def walk(x):
        if isinstance(x, (list, tuple)):
            for y in x:
                walk(y)
        elif isinstance(x, dict):
            for y in x.values():
                walk(y)
        elif x is not None:
            flat.append(x)
    walk(inputs)
    with _ops.control_dependencies(flat):
        return no_op(name=name or "group_deps")


def tuple_(tensors, name=None, control_inputs=None):
    """tf.tuple: each tensor passed through an Identity that waits for all of them (and `control_inputs`)."""
    with _ops.name_scope(name, "tuple", tensors):
        gating = [t for t in tensors if t is not None]
        if control_inputs:
            for c in control_inputs:
                if isinstance(c, _ops.Tensor):
                    c = c.op
                elif not isinstance(c, _ops.Operation):
                    raise TypeError("Control input must be Operation or Tensor: %s" % c)
                gating.append(c)
        gate = group(*gating)
        out = []
        for t in tensors:
            if t is None:
                out.append(None)
                continue
            with _ops.control_dependencies([gate]):
                out.append(group(t, name="control_dependency") if isinstance(t, _ops.Operation)
                           else array_ops.identity(t, name="control_dependency"))
        return out
