"""Slot variables: per-variable state of optimizers and moving averages, named `<variable op name>/<name>`
as TensorFlow's slot_creator names them (`theta/Adam`, `theta/Adam_1`, `theta/ExponentialMovingAverage`)."""
import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..ops import state_ops

__all__ = []


def _filled(dims, value, dtype, name):
    """A tensor of shape `dims` (a list of ints, or a shape tensor) filled with `value`, as TF's
    array_ops.zeros/ones build it: a constant while small, a Fill beyond 1000 elements so the graph does not
    carry a large constant."""
    if not isinstance(dims, _ops.Tensor):
        if int(np.prod(dims)) < 1000:
            return _ops.constant_op(np.full(dims, value, dtype=dtype.as_numpy_dtype), name=name)
        dims = _ops.convert_to_tensor(np.asarray(dims, np.int32), name="shape")
    return _ops.apply1("Fill", [dims, _ops.convert_to_tensor(value, dtype=dtype, name="value")], name=name)


_eager_slot_names = {}


def create_slot(primary, initial_value, name):
    """A non-trainable variable named `<primary op name>/<name>` (uniquified), created outside any name
    scope and control dependency. `initial_value` is a callable returning the initial tensor; it runs inside
    the slot's name scope."""
    if getattr(primary, "_is_eager_variable", False):
        # An eager slot. TF 1.x names it through a default-named variable scope, which uniquifies across the
        # program: `v/Adam`, `v/Adam_1`.
        base = primary._shared_name + "/" + name
        n = _eager_slot_names.get(base, 0)
        _eager_slot_names[base] = n + 1
        with _ops.name_scope(None):
            return state_ops.Variable(initial_value, trainable=False, name=base if n == 0 else "%s_%d" % (base, n),
                                      dtype=primary.dtype)
    g = primary.graph
    with g.as_default(), g.control_dependencies(None), g.name_scope(None):
        return state_ops.Variable(initial_value, trainable=False, name=primary.op.name + "/" + name,
                                  dtype=primary.dtype, validate_shape=primary.shape.is_fully_defined())


def create_filled_slot(primary, value, name):
    """A slot of the primary's shape and dtype, every element `value` (zeros for most optimizers, 0.1 for
    Adagrad's accumulator, ones for RMSProp's)."""
    shape = primary.shape
    op_name = "zeros" if value == 0 else "Const"

    def initial_value():
        if shape.is_fully_defined():
            return _filled(shape.as_list(), value, primary.dtype, op_name)
        dims = _ops.apply1("Shape", [primary.initialized_value()], {"out_type": _dtypes.int32._enum})
        return _filled(dims, value, primary.dtype, op_name)
    return create_slot(primary, initial_value, name)


def create_zeros_slot(primary, name):
    return create_filled_slot(primary, 0, name)
