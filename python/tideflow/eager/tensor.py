"""EagerTensor: a value computed eagerly. The data lives in C++ (_core.EagerTensorBase, which also holds the
operator fast path); this subclass adds the Python protocol as TensorFlow 2 defines it."""
import numpy as np

from .. import _core
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.tensor_shape import TensorShape, as_shape
from ..ops import array_ops, linalg_ops, math_ops  # noqa: F401 (they install Tensor's operators)

_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"

# TensorFlow 2 compares tensors elementwise with == (tf.enable_v2_behavior, `import tideflow.v2`); TF 1.x
# compares them by identity.
_USE_EQUALITY = [False]


def enable_tensor_equality():
    _USE_EQUALITY[0] = True


def disable_tensor_equality():
    _USE_EQUALITY[0] = False


def _numpy_text(t, is_repr=False):
    """TensorFlow's numpy_text: str or repr of the value, Python scalars in reprs, multi-line values on a
    line of their own."""
    if t.dtype is _dtypes.string:
        a = t._copy_to_array()
    else:
        a = t._array_view()
        if a.ndim == 0:
            a = a[()]
    if is_repr:
        text = repr(a.item()) if np.isscalar(a) and not isinstance(a, bytes) else repr(a)
    else:
        text = str(a)
    if "\n" in text:
        text = "\n" + text
    return text


def _undefined(what):
    def prop(self):
        raise AttributeError("Tensor.%s is undefined when eager execution is enabled." % what)
    return property(prop)


class _TensorRef:
    """tensor.ref(): a hashable reference to a tensor (TF2 tensors are unhashable)."""
    __slots__ = ("_t",)

    def __init__(self, t):
        self._t = t

    def deref(self):
        return self._t

    def __hash__(self):
        return id(self._t)

    def __eq__(self, other):
        return isinstance(other, _TensorRef) and other._t is self._t


class EagerTensor(_core.EagerTensorBase):
    """A tensor with a value: `numpy()`, NumPy interop, Python scalars, iteration and printing as in
    TensorFlow 2. Operators run at once."""
    __slots__ = ()
    __array_priority__ = 100
    _is_eager = True

    # ---- shape and value ----
    @property
    def shape(self):
        return TensorShape(self._shape_tuple())

    def get_shape(self):
        return self.shape

    def set_shape(self, shape):
        if not self.shape.is_compatible_with(as_shape(shape)):
            raise ValueError("Tensor's shape %s is not compatible with supplied shape %s" % (self.shape, shape))

    device = property(lambda self: _DEVICE)
    backing_device = property(lambda self: _DEVICE)

    def numpy(self):
        """A copy of the value: an ndarray, or a NumPy scalar for a 0-d tensor (TensorFlow's numpy())."""
        a = self._copy_to_array() if self.dtype is not _dtypes.string else self._array_view()
        return a[()] if isinstance(a, np.ndarray) and a.ndim == 0 else a

    def _numpy(self):
        a = self._array_view()
        return a[()] if isinstance(a, np.ndarray) and a.ndim == 0 else a

    def __array__(self, dtype=None, copy=None):
        """A read-only view of the buffer (no copy), as TensorFlow gives NumPy functions."""
        a = self._array_view()
        if dtype is not None and np.dtype(dtype) != a.dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def __len__(self):
        shape = self._shape_tuple()
        if not shape:
            raise TypeError("Scalar tensor has no `len()`")
        return shape[0]

    def __iter__(self):
        shape = self._shape_tuple()
        if not shape:
            raise TypeError("Cannot iterate over a scalar tensor.")
        return (self[i] for i in range(shape[0]))

    # ---- Python scalars (so `if` and `while` on tensors work, as in TensorFlow 2) ----
    def __bool__(self):
        x = self._numpy()
        if isinstance(x, np.ndarray):
            return bool(x.size > 0 and x)
        return bool(x)

    def __float__(self):
        return float(self._numpy())

    def __int__(self):
        return int(self._numpy())

    def __index__(self):
        return self._array_view().__index__()

    def __complex__(self):
        return complex(self._numpy())

    def __format__(self, spec):
        return self._numpy().__format__(spec)

    # ---- printing ----
    def __str__(self):
        return "tf.Tensor(%s, shape=%s, dtype=%s)" % (_numpy_text(self), self.shape, self.dtype.name)

    def __repr__(self):
        return "<tf.Tensor: shape=%s, dtype=%s, numpy=%s>" % (self.shape, self.dtype.name,
                                                             _numpy_text(self, is_repr=True))

    # ---- identity ----
    def __hash__(self):
        if _USE_EQUALITY[0]:
            raise TypeError("Tensor is unhashable. Instead, use tensor.ref() as the key.")
        return id(self)

    def __eq__(self, other):
        if not _USE_EQUALITY[0]:
            return self is other
        return _elementwise_compare("Equal", self, other)

    def __ne__(self, other):
        if not _USE_EQUALITY[0]:
            return self is not other
        return _elementwise_compare("NotEqual", self, other)

    def ref(self):
        return _TensorRef(self)

    experimental_ref = ref

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return _ops.convert_to_tensor, (self.numpy(),)

    # ---- graph-only members ----
    op = _undefined("op")
    graph = _undefined("graph")
    name = _undefined("name")
    value_index = _undefined("value_index")

    def consumers(self):
        raise RuntimeError("Tensor.consumers is not supported when eager execution is enabled.")

    def eval(self, feed_dict=None, session=None):
        raise NotImplementedError("eval is not supported when eager execution is enabled, is .numpy() what "
                                  "you're looking for?")


def _elementwise_compare(op_type, x, y):
    """TF2's == and !=: elementwise, and a scalar False (True for !=) when the shapes do not broadcast."""
    if y is None:
        return op_type == "NotEqual"
    try:
        y = _ops.convert_to_tensor(y, dtype=x.dtype) if not _ops.is_tensor(y) else _ops.convert_to_tensor(y)
    except (TypeError, ValueError):
        return op_type == "NotEqual"
    if y.dtype is not x.dtype:
        return op_type == "NotEqual"
    try:
        np.broadcast_shapes(x._shape_tuple(), tuple(y.shape.as_list()))
    except ValueError:
        return _ops.convert_to_tensor(op_type == "NotEqual")
    return (math_ops.equal if op_type == "Equal" else math_ops.not_equal)(x, y)


_I32 = 2**31 - 1


def _getitem(self, spec):
    """Tensor indexing with Python ints, slices, None and ... built straight into one StridedSlice (the
    general helper, array_ops._slice_helper, handles tensors, masks and errors, with TF's semantics)."""
    items = spec if type(spec) is tuple else (spec,)
    begin, end, strides = [], [], []
    bm = em = el = na = sh = 0
    for i, s in enumerate(items):
        t = type(s)
        if t is int and -_I32 <= s < _I32:
            begin.append(s)
            end.append(s + 1)
            strides.append(1)
            sh |= 1 << i
        elif t is slice:
            a, b, c = s.start, s.stop, s.step
            if not ((a is None or type(a) is int) and (b is None or type(b) is int) and
                    (c is None or type(c) is int)) or c == 0:
                return _slice_helper(self, spec)
            begin.append(0 if a is None else a)
            end.append(0 if b is None else b)
            strides.append(1 if c is None else c)
            if a is None:
                bm |= 1 << i
            if b is None:
                em |= 1 << i
        elif s is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            na |= 1 << i
        elif s is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            el |= 1 << i
        else:
            return _slice_helper(self, spec)
    if not _core.executing_eagerly() or max(map(abs, begin + end + strides), default=0) > _I32:
        return _slice_helper(self, spec)
    ints = [from_array(np.array(v, np.int32)) for v in (begin, end, strides)]
    return _core.eager_execute("StridedSlice", [self] + ints, {
        "begin_mask": bm, "end_mask": em, "ellipsis_mask": el, "new_axis_mask": na, "shrink_axis_mask": sh}, "")[0]


_slice_helper = None


# The Python operators, as the op modules install them on Tensor (math_ops, linalg_ops); the ones the C++
# base defines (Note [eager fast path]) use them as their slow path.
_OPERATORS = ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__", "__matmul__",
              "__rmatmul__", "__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__", "__lt__",
              "__le__", "__gt__", "__ge__", "__neg__", "__abs__", "__invert__")


def _install():
    impls = {k: _ops.Tensor.__dict__[k] for k in _OPERATORS if k in _ops.Tensor.__dict__}
    for k, fn in impls.items():
        if k not in _core.EagerTensorBase.__dict__:
            setattr(EagerTensor, k, fn)
    global _slice_helper
    _slice_helper = array_ops._slice_helper
    EagerTensor.__getitem__ = _getitem
    table = sorted(_dtypes._ALL, key=lambda d: d._enum.value)  # indexed by the core's DType number
    _core._set_eager_tensor_type(EagerTensor, table, impls)
    _ops.Tensor.register(EagerTensor)


def from_array(a):
    """An eager tensor holding `a` (copied unless NumPy cannot write it)."""
    return _core.eager_tensor_from_array(a)
