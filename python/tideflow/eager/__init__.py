"""Eager execution: ops run at once on the graph mode's C++ kernels, GradientTape replays the same
gradient rules, tf.function traces Python into graphs run by the Session's executor.

Importing this package wires the eager paths into the single entry points of framework/ops.py
(apply_op, convert_to_tensor, constant_op) and into tf.Variable's constructor."""
from .. import _core
from ..framework import ops as _ops
from ..ops import state_ops as _state_ops
from . import context, tensor, execute, nest, backprop, variables  # noqa: F401

_ops._eager = execute
tensor._install()


def _variable_class():
    """The class tf.Variable(...) makes: eager variables while executing eagerly or while a tf.function
    creates its variables (variables.creator_hooks)."""
    if _core.executing_eagerly():
        return variables.EagerVariable
    for hook in reversed(variables.creator_hooks):
        cls = hook()
        if cls is not None:
            return cls
    return None


_state_ops._eager_creator = _variable_class
