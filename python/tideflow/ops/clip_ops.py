"""Clipping: tf.clip_by_value, clip_by_norm, global_norm, clip_by_global_norm. Compositions of elementwise
and reduction ops, so their gradients come from those ops' rules."""
import collections.abc

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from . import math_ops

__all__ = ["clip_by_value", "clip_by_norm", "global_norm", "clip_by_global_norm", "clip_by_average_norm"]


def _op(op_type, *inputs, name=None, **attrs):
    return _ops.apply1(op_type, list(inputs), attrs or None, name=name)


def _as(x, dtype):
    """`x` as a tensor of `dtype`: Python numbers converted directly, tensors cast when needed."""
    if _ops.is_tensor(x):
        t = _ops.convert_to_tensor(x)
        return t if t.dtype is dtype else math_ops.cast(t, dtype)
    return _ops.convert_to_tensor(x, dtype=dtype)


def _all_axes(t):
    if t.shape.ndims is not None:
        return _ops.convert_to_tensor(list(range(t.shape.ndims)), dtype=_dtypes.int32, name="range")
    return _op("Range", 0, _op("Rank", t), 1)


def _sum_of_squares(t, axes=None, keep_dims=False):
    axes = _all_axes(t) if axes is None else _ops.convert_to_tensor(axes, dtype=_dtypes.int32, name="axes")
    return _op("Sum", _op("Mul", t, t), axes, keep_dims=keep_dims)


def _check_shape_kept(t, clipped, what):
    if not t.shape.is_compatible_with(clipped.shape) or (
            t.shape.ndims is not None and clipped.shape.ndims != t.shape.ndims):
        raise ValueError("%s would change the shape of %s from %s to %s by broadcasting; the clip bounds "
                         "must broadcast to the tensor's shape." % (what, t.name, t.shape, clipped.shape))


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """min(max(t, clip_value_min), clip_value_max), elementwise; bounds may be scalars or broadcast to t."""
    with _ops.name_scope(name, "clip_by_value") as scope:
        t = _ops.convert_to_tensor(t, name="t")
        t_min = _op("Minimum", t, _as(clip_value_max, t.dtype))
        _check_shape_kept(t, t_min, "clip_by_value")
        t_max = _op("Maximum", t_min, _as(clip_value_min, t.dtype), name=scope)
        _check_shape_kept(t, t_max, "clip_by_value")
        return t_max


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """t * clip_norm / max(l2norm(t), clip_norm), the L2 norm taken over `axes` (default: all)."""
    with _ops.name_scope(name, "clip_by_norm") as scope:
        t = _ops.convert_to_tensor(t, name="t")
        clip_norm = _as(clip_norm, t.dtype)
        l2sum = _sum_of_squares(t, axes, keep_dims=True)
        # sqrt's gradient is infinite at 0: take the root only where the sum is positive (TF's safe form).
        pred = _op("Greater", l2sum, _as(0, t.dtype))
        l2sum_safe = _op("Select", pred, l2sum, _op("OnesLike", l2sum))
        l2norm = _op("Select", pred, _op("Sqrt", l2sum_safe), l2sum)
        clipped = _op("RealDiv", _op("Mul", t, clip_norm), _op("Maximum", l2norm, clip_norm))
        return _op("Identity", clipped, name=scope)


def global_norm(t_list, name=None):
    """sqrt(sum of the squares of every element of every tensor in t_list); None entries are ignored."""
    if not isinstance(t_list, collections.abc.Sequence) or isinstance(t_list, str):
        raise TypeError("t_list should be a sequence")
    with _ops.name_scope(name, "global_norm"):
        values = [_ops.convert_to_tensor(t, name="t_%d" % i) for i, t in enumerate(t_list) if t is not None]
        if not values:
            return _ops.convert_to_tensor(0.0, name="global_norm")
        for v in values[1:]:
            if v.dtype is not values[0].dtype:
                raise TypeError("global_norm needs tensors of one dtype, got %s and %s (%s)"
                                % (values[0].dtype.name, v.dtype.name, v.name))
        squares = [_sum_of_squares(v) for v in values]
        total = squares[0] if len(squares) == 1 else _op("AddN", *squares)
        return _op("Sqrt", total, name="global_norm")


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scales every tensor by clip_norm / max(global_norm, clip_norm); returns (clipped list, global norm).
    A non-finite norm makes every clipped value NaN, as in TensorFlow."""
    if not isinstance(t_list, collections.abc.Sequence) or isinstance(t_list, str):
        raise TypeError("t_list should be a sequence")
    t_list = list(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    use_norm = _ops.convert_to_tensor(use_norm)
    with _ops.name_scope(name, "clip_by_global_norm") as scope:
        dt = use_norm.dtype
        clip_norm = _as(clip_norm, dt)
        one = _as(1.0, dt)
        scale = _op("Mul", clip_norm, _op("Minimum", _op("RealDiv", one, use_norm), _op("RealDiv", one, clip_norm)))
        # (norm - norm) is 0 for a finite norm and NaN otherwise: poisons the scale when the norm is inf/NaN.
        scale = _op("Add", scale, _op("Sub", use_norm, use_norm))
        out = []
        for i, t in enumerate(t_list):
            if t is None:
                out.append(None)
                continue
            v = _ops.convert_to_tensor(t, name="t_%d" % i)
            out.append(_op("Identity", _op("Mul", v, _as(scale, v.dtype)), name="%s_%d" % (scope, i)))
        return out, use_norm


def clip_by_average_norm(t, clip_norm, name=None):
    """TF1's t * clip_norm * min(size(t) / l2norm(t), 1 / clip_norm): clips by the L2 norm divided by the
    number of elements."""
    with _ops.name_scope(name, "clip_by_average_norm", [t, clip_norm]) as scope:
        t = _ops.convert_to_tensor(t, name="t")
        clip_norm = _as(clip_norm, t.dtype)
        n_element = _as(_op("Size", t, out_type=_dtypes.int32._enum), t.dtype)
        l2norm_inv = _op("Rsqrt", _sum_of_squares(t))
        scale = _op("Minimum", _op("Mul", l2norm_inv, n_element), _op("RealDiv", _as(1.0, t.dtype), clip_norm))
        return _op("Identity", _op("Mul", _op("Mul", t, clip_norm), scale), name=scope)
