"""The eager side of framework/ops.py's single entry point: apply_op runs the op's kernel at once
(Note [eager execution] in cpp/eager.h), and convert_to_tensor makes eager tensors."""
import numpy as np

from .. import _core
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..ops import math_ops
from . import tensor as _tensor

EagerTensor = _tensor.EagerTensor
_execute = _core.eager_execute


class EagerOperation:
    """What apply_op returns in eager mode: the outputs, under the names graph-mode callers use."""
    __slots__ = ("type", "_outputs")

    def __init__(self, op_type, outputs):
        self.type = op_type
        self._outputs = tuple(outputs)

    outputs = property(lambda self: list(self._outputs))
    name = property(lambda self: self.type)

    def values(self):
        return self._outputs


def _input(x):
    """An op input: eager tensors pass; variable handles (ref inputs) pass; anything else converts."""
    t = type(x)
    if t is EagerTensor or t is _core.EagerVariableHandle:
        return x
    return convert_to_tensor(x)


def apply_op(op_type, inputs, attrs=None, name=None):
    outs = _execute(op_type, [_input(x) for x in inputs], attrs, "")
    return EagerOperation(op_type, outs)


def apply1(op_type, inputs, attrs=None, name=None):
    return _execute(op_type, [_input(x) for x in inputs], attrs, "")[0]


# ---- conversion ----

def constant(value, dtype=None, shape=None, name=None, verify_shape=False):
    """tf.constant in eager mode: the same value rules as graph mode (framework/ops.py), no Const op."""
    if type(value) is EagerTensor and shape is None:
        if dtype is not None and _dtypes.as_dtype(dtype) is not value.dtype:
            return math_ops.cast(value, dtype)
        return value
    if isinstance(value, EagerTensor):
        value = value._array_view()
    arr = _ops._constant_array(value, dtype, shape, verify_shape)
    if arr.dtype.kind == "O":
        return _tensor.from_array(_ops._string_value(arr))
    if dtype is not None:  # bfloat16 values may be float32 arrays (Note [bfloat16 arrays])
        return _tensor.from_array(_dtypes._core_value(arr, _dtypes.as_dtype(dtype)))
    return _tensor.from_array(arr)


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, as_ref=False):
    """Eager tensors pass (dtype checked); variables are read; Python and NumPy values become tensors.
    In graph mode (a Graph's as_default() or a tf.function being traced) eager values are captured: a
    tensor as a constant, a variable as the function's handle on it (eager/function.py)."""
    t = type(value)
    if not _core.executing_eagerly():
        return _capture(value, dtype, name, as_ref)
    if t is EagerTensor:
        if dtype is not None and _dtypes.as_dtype(dtype) is not value.dtype:
            raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s: %r"
                             % (_dtypes.as_dtype(dtype).name, value.dtype.name, value))
        return value
    if getattr(value, "_is_eager_variable", False):
        v = value.read_value()
        if dtype is not None and _dtypes.as_dtype(dtype) is not v.dtype:
            raise ValueError("Incompatible type conversion requested to type '%s' for variable of type '%s'"
                             % (_dtypes.as_dtype(dtype).name, v.dtype.name))
        return v
    if t is float and (dtype is None or dtype is _dtypes.float32):
        return _tensor.from_array(np.array(value, np.float32))
    if isinstance(value, _ops.Tensor):  # a graph tensor where eager execution is on
        raise TypeError("Tensor %s belongs to a graph and cannot be used in eager mode; run it in a Session, "
                        "or build it eagerly." % (value,))
    for base, fn in _ops._conversion_functions:
        if isinstance(value, base):
            return fn(value, dtype=dtype, name=name, as_ref=as_ref)
    if isinstance(value, _ops.Operation):
        raise TypeError("Can't convert Operation '%s' to Tensor (target dtype=%s, name=%s)"
                        % (value.name, dtype, name))
    if dtype is None and preferred_dtype is not None:
        try:
            return constant(value, preferred_dtype)
        except (TypeError, ValueError):
            pass
    return constant(value, dtype)


def _capture(value, dtype, name, as_ref):
    if getattr(value, "_is_eager_variable", False):
        g = _ops.get_default_graph()
        capture = getattr(g, "_capture_variable", None)
        if capture is not None:
            return capture(value, dtype, as_ref)
        value = value._handle.peek_tensor()
        if value is None:
            raise ValueError("An uninitialized eager variable cannot be captured into a graph.")
    if type(value) is EagerTensor:
        g = _ops.get_default_graph()
        capture = getattr(g, "_capture_tensor", None)
        if capture is not None:
            return capture(value, dtype)
        return _ops.constant_op(value._array_view(), dtype=dtype, name=name or "Const")
    raise TypeError("not an eager value: %r" % (value,))
from .context import NameScope  # noqa: E402,F401 (framework/ops.name_scope in eager mode)
from .context import scope_name  # noqa: E402,F401 (framework/ops.get_name_scope in eager mode)
