"""Shape and indexing ops: tf.reshape, tf.concat, slicing, gather... (cpp/ops/array.cc, array_index.cc).
Also installs Tensor.__getitem__ / Variable.__getitem__ (TensorFlow's _slice_helper)."""
import builtins as _builtins
import math
import numbers

import numpy as np

from .. import _core
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.tensor_shape import Dimension, TensorShape, as_shape

__all__ = ["placeholder", "placeholder_with_default", "identity", "identity_n", "reshape", "expand_dims", "squeeze", "concat",
           "stack", "unstack", "unpack", "split", "slice", "strided_slice", "gather", "tile", "pad", "shape",
           "size", "rank", "broadcast_to", "fill", "zeros", "ones", "zeros_like", "ones_like", "range",
           "one_hot", "transpose", "matrix_transpose", "newaxis", "reverse", "invert_permutation",
           "boolean_mask", "linspace", "lin_space", "gather_nd", "scatter_nd", "tensor_scatter_nd_update",
           "tensor_scatter_nd_add", "tensor_scatter_nd_sub", "tensor_scatter_update", "tensor_scatter_add",
           "tensor_scatter_sub", "dynamic_partition", "dynamic_stitch", "unique", "unique_with_counts",
           "setdiff1d", "unravel_index", "meshgrid", "sequence_mask", "reverse_sequence", "roll", "shape_n",
           "searchsorted", "broadcast_static_shape", "broadcast_dynamic_shape", "reverse_v2",
           "space_to_depth", "depth_to_space"]

newaxis = None


def _shape_attr(shape):
    if shape is None:
        return _core.Shape(None)
    s = as_shape(shape)
    return _core.Shape(None if s.ndims is None else s.as_list())


def placeholder(dtype, shape=None, name=None):
    """A value that must be fed to Session.run. `None` dims accept any size."""
    if _ops._core.executing_eagerly():
        raise RuntimeError("tf.placeholder() is not compatible with eager execution.")
    dtype = _dtypes.as_dtype(dtype)
    return _ops.apply1("Placeholder", [], {"dtype": dtype._enum, "shape": _shape_attr(shape)},
                       name=name or "Placeholder")


def placeholder_with_default(input, shape, name=None):  # noqa: A002
    """A tensor that is `input` unless fed: feeding it replaces the value (a PlaceholderWithDefault node).

    Args:
      input: the default value. shape: the static shape (may be less specific than input's, e.g. [None, 3]).

    Raises:
      ValueError: `shape` is not compatible with input's shape.
    """
    return _ops.apply1("PlaceholderWithDefault", [input], {"shape": _shape_attr(shape)},
                       name=name or "PlaceholderWithDefault")


def identity_n(input, name=None):  # noqa: A002
    """A list of tensors passed through one IdentityN node."""
    return list(_ops.apply_op("IdentityN", list(input), name=name or "IdentityN").outputs)


def identity(input, name=None):  # noqa: A002
    """A tensor with the same value and shape as `input` (an Identity node)."""
    return _ops.apply1("Identity", [input], name=name or "Identity")


# ---------------------------------------------------------------------------------------------------
# Conversion helpers


def _is_tensorlike(x):
    return isinstance(x, _ops.Tensor) or (_ops.is_tensor(x) and not isinstance(x, (list, tuple, np.ndarray)))


def _contains_tensor(x):
    if isinstance(x, (list, tuple)):
        return any(_contains_tensor(v) for v in x)
    return _is_tensorlike(x)


def _to_tensor(value, dtype=None, name=None):
    """convert_to_tensor with TensorFlow's auto-packing: a (nested) list holding tensors becomes a Pack of
    its elements, so `tf.reshape(x, [tf.shape(x)[0], -1])` works. A TensorShape converts to its dims."""
    if isinstance(value, TensorShape):
        if not value.is_fully_defined():
            raise ValueError("Cannot convert a partially known TensorShape %s to a Tensor." % value)
        value = value.as_list()
    if isinstance(value, (list, tuple)) and _contains_tensor(value):
        return _autopack(value, dtype, name or "packed")
    return _ops.convert_to_tensor(value, dtype=dtype, name=name)


def _autopack(values, dtype, name):
    elems = [v if not isinstance(v, (list, tuple)) else _autopack(v, dtype, name) for v in values]
    if dtype is None:
        for v in elems:
            if _is_tensorlike(v):
                dtype = _ops.convert_to_tensor(v).dtype
                break
    tensors = [_ops.convert_to_tensor(v, dtype=dtype) for v in elems]
    return _ops.apply1("Pack", tensors, {"axis": 0, "N": len(tensors)}, name=name)


def _dim_value(v):
    if isinstance(v, Dimension):
        if v.value is None:
            raise ValueError("Cannot convert an unknown Dimension to a Tensor: %s" % v)
        return v.value
    if isinstance(v, (list, tuple)):
        return [_dim_value(x) for x in v]
    return v


def _int_tensor(value, name=None):
    """A shape/axis argument: int32 unless it is an int64 array or tensor, or needs 64 bits."""
    if isinstance(value, (list, tuple, Dimension)):
        value = _dim_value(value)
    if _contains_tensor(value) or isinstance(value, TensorShape):
        return _to_tensor(value, name=name)
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu" and arr.size:
        raise TypeError("Expected int32 or int64 values, got %r of dtype %s." % (value, arr.dtype))
    wide = arr.size and (arr.max() > np.iinfo(np.int32).max or arr.min() < np.iinfo(np.int32).min)
    dt = np.int64 if wide or (arr.dtype == np.int64 and isinstance(value, np.ndarray)) else np.int32
    return _ops.constant_op(arr.astype(dt), name=name or "Const")


def _static_ints(t):
    """The value of a Const tensor (for Python-side decisions), else None."""
    if getattr(t, "_is_eager", False) and not getattr(t, "_is_eager_variable", False):
        return np.asarray(t)  # an eager tensor is its value
    if isinstance(t, _ops.Tensor) and t.op.type == "Const":
        return np.asarray(t.op.get_attr("value"))
    return None


# ---------------------------------------------------------------------------------------------------
# Reshaping


def reshape(tensor, shape, name=None):
    """`tensor`'s elements in a new shape (row-major order kept); one dimension of `shape` may be -1 (inferred).

    Raises:
      ValueError (build time) / InvalidArgumentError (run time): the element counts differ.
    """
    return _ops.apply1("Reshape", [tensor, _int_tensor(shape)], name=name or "Reshape")


def expand_dims(input, axis=None, name=None, dim=None):  # noqa: A002
    """`input` with a dimension of size 1 inserted at `axis` (negative counts from the end; `dim` is the old name).

    Raises:
      ValueError: axis is outside [-rank-1, rank].
    """
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'")
        axis = dim
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    return _ops.apply1("ExpandDims", [input, _int_tensor(axis)], name=name or "ExpandDims")


def squeeze(input, axis=None, name=None, squeeze_dims=None):  # noqa: A002
    """`input` without its size-1 dimensions: all of them, or those listed in `axis` (`squeeze_dims` is the old name).

    Raises:
      ValueError / InvalidArgumentError: a listed dimension is not 1.
    """
    if squeeze_dims is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'squeeze_dims' and 'axis'")
        axis = squeeze_dims
    if axis is None:
        axis = []
    elif isinstance(axis, numbers.Integral):
        axis = [axis]
    return _ops.apply1("Squeeze", [input], {"squeeze_dims": [int(a) for a in axis]}, name=name or "Squeeze")


def concat(values, axis, name="concat"):
    """`values` (a list of tensors of one dtype and rank) joined along `axis`; other dimensions must agree.

    Raises:
      ValueError: ranks or other dimensions differ, or axis is out of range.
    """
    if not isinstance(values, (list, tuple)):
        values = [values]
    if len(values) == 1:  # TF: a single value is passed through, after checking the axis
        with _ops.name_scope(name):
            _int_tensor(axis, name="concat_dim")
            return identity(values[0], name=name)
    return _ops.apply1("ConcatV2", list(values) + [_int_tensor(axis, name="axis")], name=name)


def stack(values, axis=0, name="stack"):
    """The rank-R tensors `values` (same shape and dtype) stacked into one rank-(R+1) tensor along a new `axis`.

    Raises:
      ValueError: shapes differ or axis is out of range.
    """
    if axis == 0 and not _contains_tensor(values):
        return _ops.convert_to_tensor(values, name=name)
    tensors = [_to_tensor(v) for v in values]
    return _ops.apply1("Pack", tensors, {"axis": int(axis), "N": len(tensors)}, name=name)


def unstack(value, num=None, axis=0, name="unstack"):
    """The rank-R tensor `value` split along `axis` into a list of rank-(R-1) tensors (`num` of them: needed when the
    dimension is unknown).

    Raises:
      ValueError: num is unknown and cannot be inferred.
    """
    value = _ops.convert_to_tensor(value)
    if num is None:
        s = value.shape
        if s.ndims is None:
            raise ValueError("Cannot infer num from shape %s" % s)
        if not -s.ndims <= axis < s.ndims:
            raise ValueError("axis = %d not in [%d, %d)" % (axis, -s.ndims, s.ndims))
        num = s.as_list()[axis]
        if num is None:
            raise ValueError("Cannot infer num from shape %s" % s)
    return _ops.apply_op("Unpack", [value], {"num": int(num), "axis": int(axis)}, name=name).outputs


unpack = unstack


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Splits `value` along `axis`: into `num_or_size_splits` equal parts (an int dividing the dimension) or parts
    of the listed sizes (one may be -1). Returns a list of tensors.

    Raises:
      ValueError / InvalidArgumentError: the sizes do not add up to the dimension.
    """
    if isinstance(num_or_size_splits, (numbers.Integral, np.integer)):
        return _ops.apply_op("Split", [_int_tensor(axis, name="split_dim"), value],
                             {"num_split": int(num_or_size_splits)}, name=name).outputs
    sizes = _int_tensor(num_or_size_splits, name="Const")
    if num is None:
        n = sizes.shape.as_list()[0] if sizes.shape.ndims == 1 else None
        if n is None:
            raise ValueError("Cannot infer num from shape %s" % sizes.shape)
        num = n
    return _ops.apply_op("SplitV", [value, sizes, _int_tensor(axis, name="split_dim")],
                         {"num_split": int(num)}, name=name).outputs


def tile(input, multiples, name=None):  # noqa: A002
    """`input` repeated `multiples[i]` times along each dimension i (a shape input[i] * multiples[i])."""
    return _ops.apply1("Tile", [input, _int_tensor(multiples)], name=name or "Tile")


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """`tensor` padded by `paddings` ([rank, 2]: before and after each dimension) in mode "CONSTANT" (with
    constant_values), "REFLECT" or "SYMMETRIC".

    Raises:
      ValueError: paddings is not [rank, 2] or the mode is unknown.
    """
    if mode.upper() != "CONSTANT":
        raise ValueError("Unsupported padding mode %r: tideflow implements mode='CONSTANT'." % mode)
    tensor = _ops.convert_to_tensor(tensor)
    if not _is_tensorlike(constant_values) and np.all(np.asarray(constant_values) == 0):
        return _ops.apply1("Pad", [tensor, _int_tensor(paddings)], name=name or "Pad")
    cv = _ops.convert_to_tensor(constant_values, dtype=tensor.dtype)
    return _ops.apply1("PadV2", [tensor, _int_tensor(paddings), cv], name=name or "PadV2")


def broadcast_to(input, shape, name=None):  # noqa: A002
    """`input` broadcast (NumPy's rules) to `shape`.

    Raises:
      ValueError / InvalidArgumentError: the shapes are not broadcast-compatible.
    """
    return _ops.apply1("BroadcastTo", [input, _int_tensor(shape)], name=name or "BroadcastTo")


def transpose(a, perm=None, name="transpose", conjugate=False):
    """`a` with its dimensions permuted: output dimension i is input dimension perm[i] (reversed when perm is None).

    Raises:
      ValueError: perm is not a permutation of range(rank).
    """
    with _ops.name_scope(name, "transpose", [a]) as scope:
        a = _ops.convert_to_tensor(a, name="a")
        if perm is None:
            nd = a.shape.ndims
            if nd is not None:
                perm = _ops.constant_op(np.arange(nd - 1, -1, -1, dtype=np.int32), name="perm")
            else:  # reversed range(rank), as a strided slice with stride -1
                r = _ops.apply1("Range", [_ops.constant_op(0), rank(a), _ops.constant_op(1)], name="range")
                perm = strided_slice(r, [0], [0], [-1], begin_mask=1, end_mask=1, name="perm")
        return _ops.apply1("Transpose", [a, _int_tensor(perm, name="perm")], name=scope)


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """`a` with its last two dimensions swapped (a batch of matrices transposed)."""
    with _ops.name_scope(name, "matrix_transpose", [a]):
        a = _ops.convert_to_tensor(a, name="a")
        nd = a.shape.ndims
        if nd is None:
            raise ValueError("matrix_transpose needs a tensor of known rank, got %s" % a)
        if nd < 2:
            raise ValueError("Argument 'a' should be a (batch) matrix, with rank >= 2.  Found: %s" % a.shape)
        perm = list(_builtins.range(nd - 2)) + [nd - 1, nd - 2]
        return transpose(a, perm, name="transpose")


def invert_permutation(x, name=None):
    """The inverse permutation y of the 1-D int tensor x: y[x[i]] = i."""
    return _ops.apply1("InvertPermutation", [_int_tensor(x)], name=name or "InvertPermutation")


def reverse(tensor, axis, name=None):
    """tf.reverse over the given axes, as a strided slice with stride -1 on each."""
    with _ops.name_scope(name, "ReverseV2", [tensor]) as scope:
        tensor = _ops.convert_to_tensor(tensor)
        nd = tensor.shape.ndims
        if nd is None:
            raise ValueError("reverse needs a tensor of known rank, got %s" % tensor)
        axes = np.atleast_1d(np.asarray(axis))
        strides = [1] * nd
        for ax in axes.tolist():
            if not -nd <= ax < nd:
                raise ValueError("axis %d is out of range [%d, %d)" % (ax, -nd, nd))
            strides[ax % nd] = -1
        mask = (1 << nd) - 1
        if nd == 0:
            return identity(tensor, name=scope)
        return strided_slice(tensor, [0] * nd, [0] * nd, strides, begin_mask=mask, end_mask=mask, name=scope)


# ---------------------------------------------------------------------------------------------------
# Slicing and gathering


def slice(input_, begin, size, name=None):  # noqa: A001
    """The part of `input_` starting at `begin` (one index per dimension) of `size` elements each (-1: to the end).

    Raises:
      InvalidArgumentError: the slice leaves the tensor.
    """
    return _ops.apply1("Slice", [input_, _int_tensor(begin), _int_tensor(size)], name=name or "Slice")


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0,
                  shrink_axis_mask=0, var=None, name=None):
    """`input_[begin:end:strides]` per dimension, with TensorFlow's masks (begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask) as Tensor.__getitem__ builds them."""
    begin, end = _int_tensor(begin), _int_tensor(end)
    if strides is None:
        b = _static_ints(begin)
        strides = (_ops.constant_op(np.ones(b.shape, b.dtype)) if b is not None else
                   _ops.apply1("Fill", [shape(begin), _ops.constant_op(1, dtype=begin.dtype)]))
    attrs = {"begin_mask": int(begin_mask), "end_mask": int(end_mask), "ellipsis_mask": int(ellipsis_mask),
             "new_axis_mask": int(new_axis_mask), "shrink_axis_mask": int(shrink_axis_mask)}
    return _ops.apply1("StridedSlice", [input_, begin, end, _int_tensor(strides)], attrs,
                       name=name or "StridedSlice")


def gather(params, indices, validate_indices=None, name=None, axis=None, batch_dims=0):
    """Slices of `params` along `axis` (0 by default) at `indices`: the output shape is
    params.shape[:axis] + indices.shape + params.shape[axis+1:]. Differentiable with respect to params
    (an IndexedSlices gradient).

    Raises:
      InvalidArgumentError: an index is outside [0, params.shape[axis]).
    """
    if batch_dims != 0:
        raise ValueError("tideflow's gather supports batch_dims=0 only, got %r" % (batch_dims,))
    return _ops.apply1("GatherV2", [params, _int_tensor(indices), _int_tensor(0 if axis is None else axis)],
                       {"batch_dims": 0}, name=name or "GatherV2")


_INDEX_ERROR = ("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar tf.int32/tf.int64 "
                "tensors are valid indices, got %r")


def _check_index(idx):
    if isinstance(idx, (bool, np.bool_)):
        raise TypeError(_INDEX_ERROR % (idx,))
    if isinstance(idx, (numbers.Integral, np.integer)):
        return
    if _is_tensorlike(idx):
        t = _ops.convert_to_tensor(idx)
        if t.dtype in (_dtypes.int32, _dtypes.int64) and t.shape.ndims in (0, None):
            return
    raise TypeError(_INDEX_ERROR % (idx,))


def _pack_indices(vals, name):
    # Constant tensor indices fold into the constant, so shape inference sees them.
    vals = [int(_static_ints(v)) if _static_ints(v) is not None and _static_ints(v).ndim == 0 else v
            for v in vals]
    if not _contains_tensor(vals):
        return _ops.constant_op(np.array(vals, dtype=np.int32).reshape(-1), name=name)
    dt = _dtypes.int64 if any(_is_tensorlike(v) and _ops.convert_to_tensor(v).dtype is _dtypes.int64
                              for v in vals) else _dtypes.int32
    ts = [_ops.convert_to_tensor(v) if _is_tensorlike(v) else _ops.constant_op(int(v), dtype=dt) for v in vals]
    if any(t.dtype is not dt for t in ts):
        ts = [t if t.dtype is dt else _ops.apply1("Cast", [t], {"DstT": dt._enum, "SrcT": t.dtype._enum})
              for t in ts]
    return _ops.apply1("Pack", ts, {"axis": 0, "N": len(ts)}, name=name)


def _slice_helper(tensor, slice_spec, var=None):
    """Tensor.__getitem__, mapped to StridedSlice exactly as TensorFlow's _slice_helper does."""
    if (isinstance(slice_spec, (bool, np.bool_)) or (isinstance(slice_spec, np.ndarray) and slice_spec.dtype == bool)
            or (isinstance(slice_spec, _ops.Tensor) and slice_spec.dtype is _dtypes.bool)):
        return boolean_mask(tensor, slice_spec)
    if not isinstance(slice_spec, (list, tuple)):
        slice_spec = [slice_spec]
    begin, end, strides = [], [], []
    begin_mask = end_mask = ellipsis_mask = new_axis_mask = shrink_axis_mask = 0
    for index, s in enumerate(slice_spec):
        if isinstance(s, _builtins.slice):
            if s.start is not None:
                _check_index(s.start)
                begin.append(s.start)
            else:
                begin.append(0)
                begin_mask |= 1 << index
            if s.stop is not None:
                _check_index(s.stop)
                end.append(s.stop)
            else:
                end.append(0)
                end_mask |= 1 << index
            if s.step is not None:
                _check_index(s.step)
                strides.append(s.step)
            else:
                strides.append(1)
        elif s is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            ellipsis_mask |= 1 << index
        elif s is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            new_axis_mask |= 1 << index
        else:
            _check_index(s)
            begin.append(s)
            # The end of a shrunk axis is ignored (the kernel uses begin + 1); a tensor index keeps its own
            # value there so indexing needs no arithmetic op.
            end.append(s + 1 if isinstance(s, (numbers.Integral, np.integer)) else s)
            strides.append(1)
            shrink_axis_mask |= 1 << index
    with _ops.name_scope(None, "strided_slice", [tensor]) as name:
        if begin:
            pb, pe, ps = _pack_indices(begin, "stack"), _pack_indices(end, "stack_1"), _pack_indices(strides, "stack_2")
        else:
            pb = pe = ps = _ops.constant_op(np.zeros([0], np.int32), name="Const")
        return strided_slice(tensor, pb, pe, ps, begin_mask=begin_mask, end_mask=end_mask,
                             ellipsis_mask=ellipsis_mask, new_axis_mask=new_axis_mask,
                             shrink_axis_mask=shrink_axis_mask, var=var, name=name)


_ops.Tensor._override_operator("__getitem__", _slice_helper)


# ---------------------------------------------------------------------------------------------------
# Shapes and constant-filled tensors


def shape(input, name=None, out_type=_dtypes.int32):  # noqa: A002
    """TF1 semantics: a fully known static shape gives a Const, otherwise a Shape op."""
    out_type = _dtypes.as_dtype(out_type)
    input = _ops.convert_to_tensor(input)  # noqa: A001
    if input.shape.is_fully_defined():
        return _ops.constant_op(np.array(input.shape.as_list(), dtype=out_type.as_numpy_dtype),
                                name=name or "Shape")
    return _ops.apply1("Shape", [input], {"out_type": out_type._enum}, name=name or "Shape")


def size(input, name=None, out_type=_dtypes.int32):  # noqa: A002
    """The number of elements of `input`, as a scalar of `out_type`."""
    out_type = _dtypes.as_dtype(out_type)
    input = _ops.convert_to_tensor(input)  # noqa: A001
    if input.shape.is_fully_defined():
        return _ops.constant_op(np.array(input.shape.num_elements(), dtype=out_type.as_numpy_dtype),
                                name=name or "Size")
    return _ops.apply1("Size", [input], {"out_type": out_type._enum}, name=name or "Size")


def rank(input, name=None):  # noqa: A002
    """The number of dimensions of `input`, as an int32 scalar."""
    input = _ops.convert_to_tensor(input)  # noqa: A001
    if input.shape.ndims is not None:
        return _ops.constant_op(np.array(input.shape.ndims, dtype=np.int32), name=name or "Rank")
    return _ops.apply1("Rank", [input], name=name or "Rank")


def fill(dims, value, name=None):
    """A tensor of shape `dims` (a 1-D int tensor) filled with the scalar `value`."""
    return _ops.apply1("Fill", [_int_tensor(dims), value], name=name or "Fill")


def _filled(shape_, dtype, value, name, default_name):
    dtype = _dtypes.as_dtype(dtype)
    with _ops.name_scope(name, default_name) as scope:
        if not _contains_tensor(shape_):
            dims = [int(d) for d in as_shape(shape_).as_list()] if not isinstance(shape_, np.ndarray) \
                else [int(d) for d in shape_.reshape(-1)]
            if math.prod(dims) < 1000:  # TF: small results are constants (exact: np.prod wraps at 2**64)
                return _ops.constant_op(np.full(dims, value, dtype=dtype.as_numpy_dtype), name=scope)
        shape_t = _int_tensor(shape_, name="shape_as_tensor")
        return _ops.apply1("Fill", [shape_t, _ops.constant_op(np.array(value, dtype=dtype.as_numpy_dtype))],
                           name=scope)


def zeros(shape, dtype=_dtypes.float32, name=None):  # noqa: A002
    """A tensor of `shape` and `dtype` (float32) filled with zeros."""
    return _filled(shape, dtype, 0 if _dtypes.as_dtype(dtype) is not _dtypes.string else "", name, "zeros")


def ones(shape, dtype=_dtypes.float32, name=None):  # noqa: A002
    """A tensor of `shape` and `dtype` (float32) filled with ones."""
    return _filled(shape, dtype, 1, name, "ones")


def _filled_like(tensor, dtype, value, name, default_name):
    with _ops.name_scope(name, default_name, [tensor]) as scope:
        tensor = _ops.convert_to_tensor(tensor, name="tensor")
        dtype = _dtypes.as_dtype(dtype or tensor.dtype)
        if tensor.shape.is_fully_defined():
            return _filled(tensor.shape.as_list(), dtype, value, scope, default_name)
        return _ops.apply1("Fill", [shape(tensor), _ops.constant_op(np.array(value, dtype=dtype.as_numpy_dtype))],
                           name=scope)


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    """Zeros with the shape (and dtype, unless given) of `tensor`."""
    return _filled_like(tensor, dtype, 0, name, "zeros_like")


def ones_like(tensor, dtype=None, name=None, optimize=True):
    """Ones with the shape (and dtype, unless given) of `tensor`."""
    return _filled_like(tensor, dtype, 1, name, "ones_like")


_RANGE_ORDER = [_dtypes.int32, _dtypes.int64, _dtypes.float32, _dtypes.float64]


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001
    """tf.range(limit) or tf.range(start, limit, delta); the dtype is the widest of the arguments'."""
    if limit is None:
        start, limit = 0, start
    with _ops.name_scope(name, "Range", [start, limit, delta]) as scope:
        args = []
        for v, n in ((start, "start"), (limit, "limit"), (delta, "delta")):
            args.append((_ops.convert_to_tensor(v, dtype=dtype, name=n) if _is_tensorlike(v) or dtype is not None
                         else v, n))
        if dtype is None:
            dts = [a.dtype if _is_tensorlike(a) else _ops._np_value(a, None).dtype for a, _ in args]
            dts = [_dtypes.as_dtype(d) for d in dts]
            for d in dts:
                if d not in _RANGE_ORDER:
                    raise TypeError("range does not support dtype %s" % d.name)
            dtype = max(dts, key=_RANGE_ORDER.index)
        dtype = _dtypes.as_dtype(dtype)
        ts = []
        for a, n in args:
            if not _is_tensorlike(a):
                ts.append(_ops.constant_op(np.asarray(a, dtype=dtype.as_numpy_dtype), name=n))
            elif a.dtype is not dtype:
                ts.append(_ops.apply1("Cast", [a], {"DstT": dtype._enum, "SrcT": a.dtype._enum}, name="Cast"))
            else:
                ts.append(a)
        return _ops.apply1("Range", ts, {"Tidx": dtype._enum}, name=scope)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot vectors: `depth` values per index, on_value (1) at the index and off_value (0) elsewhere, on a
    new dimension at `axis` (last by default); indices outside [0, depth) give all off_value.
    """
    with _ops.name_scope(name, "one_hot", [indices, depth, on_value, off_value]) as scope:
        on_t = _ops.convert_to_tensor(on_value, dtype=dtype) if on_value is not None else None
        off_t = _ops.convert_to_tensor(off_value, dtype=dtype) if off_value is not None else None
        if on_t is not None and off_t is not None and on_t.dtype is not off_t.dtype:
            raise TypeError("dtype of on_value (%s) is inconsistent with dtype of off_value (%s)"
                            % (on_t.dtype.name, off_t.dtype.name))
        if dtype is None:
            dtype = on_t.dtype if on_t is not None else off_t.dtype if off_t is not None else _dtypes.float32
        dtype = _dtypes.as_dtype(dtype)
        if on_t is None:
            on_t = _ops.constant_op(np.array(1, dtype=dtype.as_numpy_dtype), name="on_value")
        if off_t is None:
            off_t = _ops.constant_op(np.array(0, dtype=dtype.as_numpy_dtype), name="off_value")
        indices = _ops.convert_to_tensor(indices, name="indices")
        return _ops.apply1("OneHot", [indices, _int_tensor(depth, name="depth"), on_t, off_t],
                           {"axis": -1 if axis is None else int(axis)}, name=scope)


def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    """The elements (or slices) of `tensor` where `mask` is true; mask's dims match tensor's from `axis`."""
    with _ops.name_scope(name, "boolean_mask", [tensor, mask]):
        tensor = _ops.convert_to_tensor(tensor, name="tensor")
        mask = _ops.convert_to_tensor(mask, name="mask")
        nm = mask.shape.ndims
        if nm == 0:
            raise ValueError("mask cannot be scalar.")
        if nm is None:
            raise ValueError("Number of mask dimensions must be specified, even if some dimensions are None.  "
                             "E.g. shape=[None] is ok, but shape=None is not.")
        axis = 0 if axis is None else int(axis)
        ts = tensor.shape
        if ts.ndims is not None:
            if axis < 0:
                axis += ts.ndims
            if not TensorShape(ts.as_list()[axis:axis + nm]).is_compatible_with(mask.shape):
                raise ValueError("Shapes %s and %s are incompatible" % (TensorShape(ts.as_list()[axis:axis + nm]),
                                                                        mask.shape))
        if nm > 1:  # merge the masked dims into one (-1) so a 1-D mask picks along it
            s = shape(tensor)
            tensor = reshape(tensor, concat([s[:axis], [-1], s[axis + nm:]], 0))
            if ts.ndims is not None:
                dims = ts.as_list()
                lead = TensorShape(dims[axis:axis + nm]).num_elements()
                tensor.set_shape(dims[:axis] + [lead] + dims[axis + nm:])
            mask = reshape(mask, [-1])
        indices = squeeze(_ops.apply1("Where", [mask], name="Where"), axis=[1])
        return gather(tensor, indices, axis=axis)


def linspace(start, stop, num, name=None):
    """`num` evenly spaced values from start to stop inclusive (TF's LinSpace), as a composite of Range and
    the elementwise ops."""
    with _ops.name_scope(name, "LinSpace", [start, stop, num]) as scope:
        start = _ops.convert_to_tensor(start, name="start")
        stop = _ops.convert_to_tensor(stop, dtype=start.dtype, name="stop")
        num = _int_tensor(num, name="num")
        dt = start.dtype
        cast = lambda t: _ops.apply1("Cast", [t], {"DstT": dt._enum, "SrcT": t.dtype._enum})  # noqa: E731
        one = _ops.constant_op(1, dtype=num.dtype)
        intervals = cast(_ops.apply1("Maximum", [_ops.apply1("Sub", [num, one]), one]))
        step = _ops.apply1("RealDiv", [_ops.apply1("Sub", [stop, start]), intervals])
        idx = cast(_ops.apply1("Range", [_ops.constant_op(0, dtype=num.dtype), num, one]))
        return _ops.apply1("Add", [start, _ops.apply1("Mul", [idx, step])], name=scope)


lin_space = linspace


# ---------------------------------------------------------------------------------------------------
# N-d indexing: GatherNd, ScatterNd, TensorScatter* (cpp/ops/array_index.cc)


def gather_nd(params, indices, name=None, batch_dims=0):
    """Slices of `params` at the index tuples in the last dimension of `indices`: the output shape is
    indices.shape[:-1] + params.shape[indices.shape[-1]:].

    Raises:
      InvalidArgumentError: an index is out of range.
    """
    if batch_dims != 0:
        raise ValueError("tideflow's gather_nd supports batch_dims=0 only, got %r" % (batch_dims,))
    return _ops.apply1("GatherNd", [params, _int_tensor(indices)], name=name or "GatherNd")


def scatter_nd(indices, updates, shape, name=None):
    """Zeros of `shape` with `updates` added at `indices` (repeated indices sum, as in TensorFlow)."""
    indices = _int_tensor(indices)
    shape = _ops.convert_to_tensor(shape, dtype=indices.dtype) if not _ops.is_tensor(shape) else shape
    return _ops.apply1("ScatterNd", [indices, updates, shape], name=name or "ScatterNd")


def _tensor_scatter(op_type):
    def f(tensor, indices, updates, name=None):
        tensor = _ops.convert_to_tensor(tensor, name="tensor")
        updates = _ops.convert_to_tensor(updates, dtype=tensor.dtype, name="updates")
        return _ops.apply1(op_type, [tensor, _int_tensor(indices), updates], name=name or op_type)
    f.__name__ = f.__qualname__ = "tensor_scatter_nd_" + op_type[len("TensorScatter"):].lower()
    f.__doc__ = "A copy of `tensor` with `updates` applied at `indices` (%s)." % op_type
    return f


tensor_scatter_nd_update = tensor_scatter_update = _tensor_scatter("TensorScatterUpdate")
tensor_scatter_nd_add = tensor_scatter_add = _tensor_scatter("TensorScatterAdd")
tensor_scatter_nd_sub = tensor_scatter_sub = _tensor_scatter("TensorScatterSub")


# ---------------------------------------------------------------------------------------------------
# Partition, stitch, unique, set difference (cpp/ops/segment.cc)


def dynamic_partition(data, partitions, num_partitions, name=None):
    """Splits `data` into `num_partitions` tensors by the int32 `partitions` (shape a prefix of data's): element i goes to output partitions[i]."""
    op = _ops.apply_op("DynamicPartition", [data, _int_tensor(partitions)],
                       {"num_partitions": int(num_partitions)}, name=name or "DynamicPartition")
    return list(op.outputs)


def dynamic_stitch(indices, data, name=None):
    """Interleaves `data` tensors into one: merged[indices[m][i]] = data[m][i] (later values win on repeated indices)."""
    indices = [_int_tensor(i) for i in indices]
    data = [_ops.convert_to_tensor(d) for d in data]
    if len(indices) != len(data):
        raise ValueError("List argument 'indices' to 'DynamicStitch' Op with length %d must match length %d of "
                         "argument 'data'." % (len(indices), len(data)))
    return _ops.apply1("DynamicStitch", indices + data, {"N": len(data)}, name=name or "DynamicStitch")


def _out_idx(out_idx):
    dt = _dtypes.as_dtype(out_idx)
    if dt not in (_dtypes.int32, _dtypes.int64):
        raise TypeError("out_idx must be int32 or int64, got %s" % dt.name)
    return {"out_idx": dt._enum}


def unique(x, out_idx=_dtypes.int32, name=None):
    """(y, idx): the distinct elements of 1-D `x` in order of first appearance, and for each x[i] its position in y."""
    op = _ops.apply_op("Unique", [x], _out_idx(out_idx), name=name or "Unique")
    return UniqueResult(*op.outputs)


def unique_with_counts(x, out_idx=_dtypes.int32, name=None):
    """(y, idx, count): as unique, plus how many times each element of y occurs in x."""
    op = _ops.apply_op("UniqueWithCounts", [x], _out_idx(out_idx), name=name or "UniqueWithCounts")
    return UniqueWithCountsResult(*op.outputs)


def setdiff1d(x, y, index_dtype=_dtypes.int32, name=None):
    """The values of 1-D `x` not in `y`, in x's order, and their positions in x (TF's ListDiff)."""
    x = _ops.convert_to_tensor(x, name="x")
    y = _ops.convert_to_tensor(y, dtype=x.dtype, name="y")
    op = _ops.apply_op("ListDiff", [x, y], _out_idx(index_dtype), name=name or "ListDiff")
    return SetDiffResult(*op.outputs)


def unravel_index(indices, dims, name=None):
    """The coordinates, in an array of shape `dims`, of the flat indices `indices` (NumPy's unravel_index); shape [len(dims)] + indices.shape."""
    indices = _int_tensor(indices)
    dims = _ops.convert_to_tensor(dims, dtype=indices.dtype, name="dims") if not _ops.is_tensor(dims) else dims
    return _ops.apply1("UnravelIndex", [indices, dims], name=name or "UnravelIndex")




def searchsorted(sorted_sequence, values, side="left", out_type=_dtypes.int32, name=None):
    """For each row of `values`, the positions in the sorted innermost dimension of `sorted_sequence` where they would be inserted (side "left" or "right")."""
    if side not in ("left", "right"):
        raise ValueError("side must be either 'right' or 'left'.  Saw: %s." % side)
    sorted_sequence = _ops.convert_to_tensor(sorted_sequence, name="sorted_sequence")
    values = _ops.convert_to_tensor(values, dtype=sorted_sequence.dtype, name="values")
    op_type = "LowerBound" if side == "left" else "UpperBound"
    return _ops.apply1(op_type, [sorted_sequence, values], {"out_type": _dtypes.as_dtype(out_type)._enum},
                       name=name or op_type)


# ---------------------------------------------------------------------------------------------------
# Shape helpers and small compositions


def meshgrid(*args, **kwargs):
    """N-D coordinate grids from 1-D vectors (indexing 'xy' swaps the first two axes, as in NumPy)."""
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError("Invalid keyword arguments to meshgrid(): %s" % ", ".join(sorted(kwargs)))
    if indexing not in ("xy", "ij"):
        raise ValueError("indexing parameter must be either 'xy' or 'ij'")
    with _ops.name_scope(name, "meshgrid", args):
        ndim = len(args)
        s0 = (1,) * ndim
        output = [reshape(stack([x]), s0[:i] + (-1,) + s0[i + 1:]) for i, x in enumerate(args)]
        shapes = [size(x) for x in args]
        output_dtype = _ops.convert_to_tensor(args[0]).dtype
        if indexing == "xy" and ndim > 1:
            output[0] = reshape(output[0], (1, -1) + (1,) * (ndim - 2))
            output[1] = reshape(output[1], (-1, 1) + (1,) * (ndim - 2))
            shapes[0], shapes[1] = shapes[1], shapes[0]
        mult_fact = ones(shapes, output_dtype)
        return [_ops.apply1("Mul", [x, mult_fact]) for x in output]


def sequence_mask(lengths, maxlen=None, dtype=_dtypes.bool, name=None):
    """mask[i..., j] = j < lengths[i...], with maxlen defaulting to max(lengths)."""
    with _ops.name_scope(name, "SequenceMask", [lengths, maxlen]):
        lengths = _ops.convert_to_tensor(lengths, name="lengths")
        if not lengths.dtype.is_integer:
            raise TypeError("lengths must be an integer tensor, got %s" % lengths.dtype.name)
        if maxlen is None:
            r = _ops.apply1("Range", [0, rank(lengths), 1])
            maxlen = _ops.apply1("Max", [lengths, r])
            maxlen = _ops.apply1("Maximum", [_ops.constant_op(0, dtype=lengths.dtype), maxlen])
        else:
            maxlen = _ops.convert_to_tensor(maxlen, name="maxlen")
            if maxlen.shape.ndims is not None and maxlen.shape.ndims != 0:
                raise ValueError("maxlen must be scalar for sequence_mask")
        # maxlen's dtype is the authority, as in TensorFlow: casting maxlen to int32 lengths would wrap
        # 2**32 + 2 to 2 (a silently narrow mask); lengths <= maxlen fit maxlen's dtype.
        row = _ops.apply1("Range", [_ops.constant_op(0, dtype=maxlen.dtype), maxlen,
                                    _ops.constant_op(1, dtype=maxlen.dtype)])
        matrix = expand_dims(lengths, -1)
        if matrix.dtype != maxlen.dtype:
            matrix = _ops.apply1("Cast", [matrix], {"DstT": maxlen.dtype._enum, "SrcT": matrix.dtype._enum})
        result = _ops.apply1("Less", [row, matrix])
        dtype = _dtypes.as_dtype(dtype)
        if dtype is _dtypes.bool:
            return result
        return _ops.apply1("Cast", [result], {"DstT": dtype._enum, "SrcT": _dtypes.bool._enum})


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None, seq_dim=None,  # noqa: A002
                     batch_dim=None):
    """`input` with the first seq_lengths[b] elements along `seq_axis` reversed, for each b along `batch_axis`."""
    seq_axis = seq_axis if seq_axis is not None else seq_dim
    batch_axis = batch_axis if batch_axis is not None else (batch_dim if batch_dim is not None else 0)
    if seq_axis is None:
        raise ValueError("reverse_sequence needs seq_axis")
    return _ops.apply1("ReverseSequence", [input, _int_tensor(seq_lengths)],
                       {"seq_dim": int(seq_axis), "batch_dim": int(batch_axis)}, name=name or "ReverseSequence")


def roll(input, shift, axis, name=None):  # noqa: A002
    """`input` shifted cyclically by `shift` along `axis` (NumPy's roll; lists of shifts and axes allowed)."""
    return _ops.apply1("Roll", [input, _int_tensor(shift), _int_tensor(axis)], name=name or "Roll")


def shape_n(input, out_type=_dtypes.int32, name=None):  # noqa: A002
    """The shapes of several tensors (a Shape node each; TensorFlow uses one ShapeN node)."""
    with _ops.name_scope(name, "ShapeN", input):
        return [shape(t, out_type=out_type) for t in input]


def broadcast_static_shape(shape_x, shape_y):
    """The broadcast of two TensorShapes; ValueError when they are incompatible."""
    x, y = as_shape(shape_x), as_shape(shape_y)
    if x.ndims is None or y.ndims is None:
        return TensorShape(None)
    xd, yd = x.as_list(), y.as_list()
    n = max(len(xd), len(yd))
    xd, yd = [1] * (n - len(xd)) + xd, [1] * (n - len(yd)) + yd
    out = []
    for a, b in zip(xd, yd):
        if a == 1:
            out.append(b)
        elif b == 1:
            out.append(a)
        elif a is None or b is None:
            out.append(a if b is None else b)
        elif a == b:
            out.append(a)
        else:
            raise ValueError("Incompatible shapes for broadcasting: %s and %s" % (shape_x, shape_y))
    return TensorShape(out)


def broadcast_dynamic_shape(shape_x, shape_y):
    """The broadcast shape (a 1-D int tensor) of two shape tensors, by NumPy's rules."""
    shape_x = _int_tensor(shape_x)
    shape_y = _ops.convert_to_tensor(shape_y, dtype=shape_x.dtype) if not _ops.is_tensor(shape_y) else shape_y
    return _ops.apply1("BroadcastArgs", [shape_x, shape_y], name="BroadcastArgs")


reverse_v2 = reverse


def space_to_depth(input, block_size, name=None, data_format="NHWC"):  # noqa: A002
    """Moves block_size x block_size spatial blocks of an NHWC `input` into the depth dimension: [N, H/b, W/b, C*b*b]."""
    return _ops.apply1("SpaceToDepth", [input], {"block_size": int(block_size), "data_format": data_format},
                       name=name or "SpaceToDepth")


def depth_to_space(input, block_size, name=None, data_format="NHWC"):  # noqa: A002
    """The inverse of space_to_depth: [N, H, W, C] becomes [N, H*b, W*b, C/(b*b)]."""
    return _ops.apply1("DepthToSpace", [input], {"block_size": int(block_size), "data_format": data_format},
                       name=name or "DepthToSpace")


import collections as _collections  # noqa: E402

UniqueResult = _collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCountsResult = _collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])
SetDiffResult = _collections.namedtuple("ListDiff", ["out", "idx"])
