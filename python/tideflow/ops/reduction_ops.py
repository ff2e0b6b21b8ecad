"""Reductions: tf.reduce_sum/mean/max/min/prod/any/all, reduce_logsumexp, count_nonzero, argmax/argmin
(cpp/ops/reduce.cc). Each node is named after its op type ("Sum", "Mean"...) with its axis constant under
its scope ("Sum/reduction_indices"), as in TensorFlow 1.x."""
import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from . import array_ops, gen_ops, math_ops

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any", "reduce_all",
           "reduce_logsumexp", "count_nonzero", "argmax", "argmin", "arg_max", "arg_min", "cumsum", "cumprod",
           "segment_sum", "segment_mean", "segment_max", "segment_min", "segment_prod", "unsorted_segment_sum",
           "unsorted_segment_max", "unsorted_segment_min", "unsorted_segment_prod", "unsorted_segment_mean",
           "unsorted_segment_sqrt_n", "bincount", "histogram_fixed_width"]


def _keep(keepdims, keep_dims):
    """TF1 accepts the deprecated `keep_dims` alias; giving both is an error, as there."""
    if keepdims is not None and keep_dims is not None:
        raise ValueError("Cannot specify both 'keep_dims' and 'keepdims'")
    k = keepdims if keepdims is not None else keep_dims
    return bool(k) if k is not None else False


def _axis(axis, reduction_indices):
    if axis is not None and reduction_indices is not None:
        raise ValueError("Cannot specify both 'axis' and 'reduction_indices'")
    return axis if axis is not None else reduction_indices


def _axes_tensor(x, axis):
    """The reduction axes as an int tensor: every axis when None (a constant when x's rank is known)."""
    if axis is None:
        rank = x.shape.ndims
        if rank is not None:
            return _ops.convert_to_tensor(np.arange(rank, dtype=np.int32), name="Const")
        return _ops.apply1("Range", [np.int32(0), array_ops.rank(x), np.int32(1)], name="range")
    if _ops.is_tensor(axis):
        return _ops.convert_to_tensor(axis)
    arr = np.asarray(axis)
    if arr.dtype.kind not in "iu" and arr.size:
        raise TypeError("Reduction axes must be integers, got %r" % (axis,))
    return _ops.convert_to_tensor(arr.astype(np.int32), name="reduction_indices")


def _reduce(op_type, input_tensor, axis, keepdims, name):
    with _ops.name_scope(name, op_type, [input_tensor]) as scope:
        x = _ops.convert_to_tensor(input_tensor, name="input_tensor")
        axes = _axes_tensor(x, axis)
        return _ops.apply1(op_type, [x, axes], {"keep_dims": keepdims}, name=scope)


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """Sum over `axis` (all axes when None; an empty list reduces nothing)."""
    return _reduce("Sum", input_tensor, _axis(axis, reduction_indices), _keep(keepdims, keep_dims), name)


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """Mean over `axis`; integer inputs give the truncated integer mean, as TensorFlow does."""
    return _reduce("Mean", input_tensor, _axis(axis, reduction_indices), _keep(keepdims, keep_dims), name)


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """The maximum of `input_tensor`'s elements along `axis` (an int or list; all axes when None), dropping the
    reduced dimensions unless `keepdims` (`keep_dims` and `reduction_indices` are the old names).

    Raises:
      ValueError: an axis is out of range.
    """
    return _reduce("Max", input_tensor, _axis(axis, reduction_indices), _keep(keepdims, keep_dims), name)


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """The minimum of `input_tensor`'s elements along `axis` (an int or list; all axes when None), dropping the
    reduced dimensions unless `keepdims` (`keep_dims` and `reduction_indices` are the old names).

    Raises:
      ValueError: an axis is out of range.
    """
    return _reduce("Min", input_tensor, _axis(axis, reduction_indices), _keep(keepdims, keep_dims), name)


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """The product of `input_tensor`'s elements along `axis` (an int or list; all axes when None), dropping the
    reduced dimensions unless `keepdims` (`keep_dims` and `reduction_indices` are the old names).

    Raises:
      ValueError: an axis is out of range.
    """
    return _reduce("Prod", input_tensor, _axis(axis, reduction_indices), _keep(keepdims, keep_dims), name)


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """The logical OR of `input_tensor`'s elements along `axis` (an int or list; all axes when None), dropping the
    reduced dimensions unless `keepdims` (`keep_dims` and `reduction_indices` are the old names).

    Raises:
      ValueError: an axis is out of range.
    """
    return _reduce("Any", input_tensor, _axis(axis, reduction_indices), _keep(keepdims, keep_dims), name)


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """The logical AND of `input_tensor`'s elements along `axis` (an int or list; all axes when None), dropping the
    reduced dimensions unless `keepdims` (`keep_dims` and `reduction_indices` are the old names).

    Raises:
      ValueError: an axis is out of range.
    """
    return _reduce("All", input_tensor, _axis(axis, reduction_indices), _keep(keepdims, keep_dims), name)


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """log(sum(exp(x))) computed as max + log(sum(exp(x - max))), so large inputs do not overflow. The
    shift carries no gradient (it cancels out). As TensorFlow, an infinite max shifts by 0 instead: a slice
    holding +inf gives +inf, one of only -inf gives -inf (shifting by the max would give inf - inf = NaN)."""
    axis = _axis(axis, reduction_indices)
    keep = _keep(keepdims, keep_dims)
    with _ops.name_scope(name, "ReduceLogSumExp", [input_tensor]) as scope:
        x = _ops.convert_to_tensor(input_tensor, name="input_tensor")
        axes = _axes_tensor(x, axis)
        raw_max = _ops.apply1("Max", [x, axes], {"keep_dims": True})
        shift = _ops.apply1("StopGradient", [_ops.apply1(
            "Select", [gen_ops.is_finite(raw_max), raw_max, array_ops.zeros_like(raw_max)])])
        lse = gen_ops.log(_ops.apply1("Sum", [gen_ops.exp(math_ops.subtract(x, shift)), axes],
                                       {"keep_dims": keep}))
        if not keep:
            shift = array_ops.reshape(shift, _ops.apply1("Shape", [lse], {"out_type": _dtypes.int32._enum}))
        return math_ops.add(lse, shift, name=scope)


def count_nonzero(input_tensor=None, axis=None, keepdims=None, dtype=_dtypes.int64, name=None,
                  reduction_indices=None, keep_dims=None, input=None):  # noqa: A002 (TF's name)
    """Number of non-zero (non-False, non-empty) elements along `axis`, as `dtype` (int64 by default)."""
    if input_tensor is None:
        input_tensor = input
    axis = _axis(axis, reduction_indices)
    keep = _keep(keepdims, keep_dims)
    with _ops.name_scope(name, "count_nonzero", [input_tensor]):
        x = _ops.convert_to_tensor(input_tensor, name="input")
        zero = _ops.convert_to_tensor(False if x.dtype.is_bool else 0, dtype=x.dtype)
        nonzero = math_ops.cast(math_ops.not_equal(x, zero), _dtypes.int64)
        return math_ops.cast(reduce_sum(nonzero, axis=axis, keepdims=keep), _dtypes.as_dtype(dtype))


def _arg(op_type, input, axis, name, dimension, output_type):  # noqa: A002
    if axis is not None and dimension is not None:
        raise ValueError("Cannot specify both 'axis' and 'dimension'")
    axis = axis if axis is not None else dimension
    if axis is None:
        axis = 0
    output_type = _dtypes.as_dtype(output_type)
    with _ops.name_scope(name, op_type, [input]) as scope:
        x = _ops.convert_to_tensor(input, name="input")
        dim = axis if _ops.is_tensor(axis) else _ops.convert_to_tensor(np.int32(axis), name="dimension")
        return _ops.apply1(op_type, [x, dim], {"output_type": output_type._enum}, name=scope)


def argmax(input, axis=None, name=None, dimension=None, output_type=_dtypes.int64):  # noqa: A002
    """Index of the largest value along `axis` (0 by default); ties give the first index."""
    return _arg("ArgMax", input, axis, name, dimension, output_type)


def argmin(input, axis=None, name=None, dimension=None, output_type=_dtypes.int64):  # noqa: A002
    """Index of the smallest value along `axis` (0 by default); ties give the first index."""
    return _arg("ArgMin", input, axis, name, dimension, output_type)


def arg_max(input, dimension, name=None, output_type=_dtypes.int64):  # noqa: A002
    """The index of the largest value along `dimension` (TF 0.x's name for tf.argmax), as output_type."""
    return _arg("ArgMax", input, None, name, dimension, output_type)


def arg_min(input, dimension, name=None, output_type=_dtypes.int64):  # noqa: A002
    """The index of the smallest value along `dimension` (TF 0.x's name for tf.argmin), as output_type."""
    return _arg("ArgMin", input, None, name, dimension, output_type)


def _cumulative(op_type, x, axis, exclusive, reverse, name):
    with _ops.name_scope(name, op_type, [x]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        axis = axis if _ops.is_tensor(axis) else _ops.convert_to_tensor(np.int32(axis), name="axis")
        return _ops.apply1(op_type, [x, axis], {"exclusive": bool(exclusive), "reverse": bool(reverse)},
                           name=scope)


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Running sums along `axis`; `exclusive` leaves each element out of its own sum, `reverse` sums from
    the end."""
    return _cumulative("Cumsum", x, axis, exclusive, reverse, name)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Running products along `axis`, with cumsum's `exclusive` and `reverse`."""
    return _cumulative("Cumprod", x, axis, exclusive, reverse, name)


# ---------------------------------------------------------------------------------------------------
# Segment reductions (cpp/ops/segment.cc)


def _segment(op_type):
    def f(data, segment_ids, name=None):
        return _ops.apply1(op_type, [data, array_ops._int_tensor(segment_ids)], name=name or op_type)
    f.__name__ = f.__qualname__ = "segment_" + op_type[len("Segment"):].lower()
    f.__doc__ = "%s over the rows of `data` grouped by sorted `segment_ids`." % op_type
    return f


def _unsorted_segment(op_type):
    def f(data, segment_ids, num_segments, name=None):
        return _ops.apply1(op_type, [data, array_ops._int_tensor(segment_ids), array_ops._int_tensor(num_segments)],
                           name=name or op_type)
    f.__name__ = f.__qualname__ = "unsorted_segment_" + op_type[len("UnsortedSegment"):].lower()
    f.__doc__ = "%s into `num_segments` rows; negative ids are dropped." % op_type
    return f


segment_sum = _segment("SegmentSum")
segment_mean = _segment("SegmentMean")
segment_max = _segment("SegmentMax")
segment_min = _segment("SegmentMin")
segment_prod = _segment("SegmentProd")
unsorted_segment_sum = _unsorted_segment("UnsortedSegmentSum")
unsorted_segment_max = _unsorted_segment("UnsortedSegmentMax")
unsorted_segment_min = _unsorted_segment("UnsortedSegmentMin")
unsorted_segment_prod = _unsorted_segment("UnsortedSegmentProd")


def _unsorted_segment_n(data, segment_ids, num_segments):
    """The number of rows in each segment, shaped to broadcast against the segment sums (TF's
    _unsorted_segment_N), at least 1 so empty segments divide to 0."""
    segment_ids = array_ops._int_tensor(segment_ids)
    num_segments = array_ops._int_tensor(num_segments)
    ones = array_ops.ones(array_ops.shape(segment_ids), dtype=data.dtype)
    n = unsorted_segment_sum(ones, segment_ids, num_segments)
    nd = _ops.apply1("Sub", [array_ops.rank(data), array_ops.rank(segment_ids)])
    bshape = array_ops.concat([array_ops.expand_dims(num_segments, 0) if num_segments.dtype is _dtypes.int32 else
                               math_ops.cast(array_ops.expand_dims(num_segments, 0), _dtypes.int32),
                               array_ops.fill(array_ops.expand_dims(nd, 0), 1)], 0)
    n = array_ops.reshape(n, bshape)
    return _ops.apply1("Maximum", [n, _ops.constant_op(1, dtype=data.dtype)])


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """For each segment id k in [0, num_segments), the mean of data's rows with segment_ids == k (0 for empty segments)."""
    with _ops.name_scope(name, "UnsortedSegmentMean"):
        data = _ops.convert_to_tensor(data, name="data")
        n = _unsorted_segment_n(data, segment_ids, num_segments)
        total = unsorted_segment_sum(data, segment_ids, num_segments)
        out = _ops.apply1("RealDiv", [total, n])
        out.set_shape(total.shape)
        return out


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None):
    """For each segment id k in [0, num_segments), the sum of data's rows with segment_ids == k divided by sqrt(their count)."""
    with _ops.name_scope(name, "UnsortedSegmentSqrtN"):
        data = _ops.convert_to_tensor(data, name="data")
        n = _unsorted_segment_n(data, segment_ids, num_segments)
        total = unsorted_segment_sum(data, segment_ids, num_segments)
        out = _ops.apply1("RealDiv", [total, _ops.apply1("Sqrt", [n])])
        out.set_shape(total.shape)
        return out


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=_dtypes.int32, name=None):
    """Counts of each value of the int32 `arr` (or the sums of `weights` there), length max(arr) + 1
    bounded by minlength/maxlength (TF1's tf.bincount)."""
    with _ops.name_scope(name, "bincount", [arr, weights, minlength, maxlength]):
        arr = _ops.convert_to_tensor(arr, name="arr", dtype=_dtypes.int32)
        nonempty = _ops.apply1("Greater", [array_ops.size(arr), 0])
        r = _ops.apply1("Range", [0, array_ops.rank(arr), 1])
        output_size = _ops.apply1("Add", [_ops.apply1("Max", [arr, r]), 1])
        output_size = _ops.apply1("Mul", [math_ops.cast(nonempty, _dtypes.int32), output_size])
        if minlength is not None:
            output_size = _ops.apply1("Maximum", [array_ops._int_tensor(minlength), output_size])
        if maxlength is not None:
            output_size = _ops.apply1("Minimum", [array_ops._int_tensor(maxlength), output_size])
        if weights is not None:
            weights = _ops.convert_to_tensor(weights, name="weights")
            return _ops.apply1("Bincount", [arr, output_size, weights])
        weights = _ops.constant_op(np.zeros([0], _dtypes.as_dtype(dtype).as_numpy_dtype))
        return _ops.apply1("Bincount", [arr, output_size, weights])


def histogram_fixed_width(values, value_range, nbins=100, dtype=_dtypes.int32, name=None):
    """Counts of `values` in `nbins` equal-width bins over value_range [min, max] (values outside go to the end bins), as `dtype`."""
    with _ops.name_scope(name, "histogram_fixed_width", [values, value_range, nbins]):
        values = _ops.convert_to_tensor(values, name="values")
        value_range = _ops.convert_to_tensor(value_range, dtype=values.dtype, name="value_range")
        return _ops.apply1("HistogramFixedWidth", [values, value_range, array_ops._int_tensor(nbins)],
                           {"dtype": _dtypes.as_dtype(dtype)._enum})
