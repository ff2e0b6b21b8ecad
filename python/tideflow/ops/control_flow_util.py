"""The low layer of control flow: tf.no_op, tf.group, tf.tuple, and the frames cond branches and loop
bodies are traced into (ops/state_ops.py needs them to create variables outside frames). ops/control_flow_ops.py
builds tf.cond and tf.while_loop on top."""
import contextlib

from .. import _core
from ..framework import ops as _ops
from . import array_ops

__all__ = ["no_op", "group"]  # tf.tuple is installed by _namespaces (a `tuple` here would shadow the builtin)


def no_op(name=None):
    """An op that does nothing: a target for control dependencies."""
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


# ---------------------------------------------------------------------------------------------------
# Frames


def current_frame(graph=None):
    """The control-flow frame new nodes join (-1: none)."""
    g = graph or _ops.get_default_graph()
    return _core.current_frame(g._c)


@contextlib.contextmanager
def _frame(g, kind):
    """Nodes created inside join a new frame nested in the current one. Outer control dependencies do not
    reach into it: the If/While node built afterwards carries them, as TF1's contexts do."""
    fid = _core.new_frame(g._c, kind)
    outer = _core.current_frame(g._c)
    saved_deps, g._control_deps = g._control_deps, []
    _core.set_current_frame(g._c, fid)
    try:
        yield fid
    finally:
        _core.set_current_frame(g._c, outer)
        g._control_deps = saved_deps


@contextlib.contextmanager
def outside_frames(graph=None):
    """Builds at the top level whatever frame is current: variables created inside a loop body or branch
    (tf.get_variable in dynamic_rnn's cell) get their VariableV2, initializer and initial value there, as
    TF1's init_scope does."""
    g = graph or _ops.get_default_graph()
    outer = _core.current_frame(g._c)
    if outer < 0:
        yield
        return
    saved_deps, g._control_deps = g._control_deps, []
    _core.set_current_frame(g._c, -1)
    try:
        yield
    finally:
        _core.set_current_frame(g._c, outer)
        g._control_deps = saved_deps


def in_frame(tensor):
    """Whether `tensor` (or an Operation) was built inside a cond branch or a loop body."""
    op = tensor if isinstance(tensor, _ops.Operation) else tensor.op
    return _core.node_frame(op.graph._c, op._id) >= 0
