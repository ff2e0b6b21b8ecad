"""tf.nn regularization and normalization: bias_add (BiasAdd), dropout, batch_normalization,
fused_batch_norm (FusedBatchNormV3), local_response_normalization / lrn (LRN), built as TensorFlow 1.15
builds them (cpp/ops/nn_norm.cc holds the kernels)."""
import numbers

import numpy as np

from ..framework import ops as _ops
from . import array_ops, gen_ops, math_ops, random_ops

__all__ = ["bias_add", "dropout", "batch_normalization", "fused_batch_norm", "local_response_normalization",
           "lrn"]


def bias_add(value, bias, data_format=None, name=None):
    """value + bias with bias a vector along the channels (the last dim, or dim 1 for "NC..." formats):
    one BiasAdd node, whose gradient is BiasAddGrad."""
    with _ops.name_scope(name, "BiasAdd", [value, bias]) as name:
        attrs = {}
        if data_format is not None:
            if data_format.startswith("NC"):
                attrs["data_format"] = "NCHW"
            elif data_format.startswith("N") and data_format.endswith("C"):
                attrs["data_format"] = "NHWC"
            else:
                raise ValueError("data_format must be of the form `N...C` or `NC...`")
        value = _ops.convert_to_tensor(value, name="input")
        bias = _ops.convert_to_tensor(bias, dtype=value.dtype, name="bias")
        return _ops.apply1("BiasAdd", [value, bias], attrs, name=name)


def _get_noise_shape(x, noise_shape):
    if noise_shape is None:
        return array_ops.shape(x)
    if _ops.is_tensor(noise_shape):
        return noise_shape
    try:
        dims = [None if d is None else int(d) for d in noise_shape]
    except (TypeError, ValueError):
        return noise_shape
    if x.shape.ndims is not None and x.shape.ndims == len(dims):
        dims = [xd if nd is None else nd for nd, xd in zip(dims, x.shape.as_list())]
    if any(d is None for d in dims):
        raise ValueError("noise_shape %s must be fully known (or a tensor)" % (noise_shape,))
    return dims


def _constant_value(t):
    """The value of a Const tensor, else None (TF's tensor_util.constant_value, for the cases used here)."""
    if _ops.is_tensor(t) and _ops._core.executing_eagerly():  # an eager tensor is its value
        return t.numpy()
    if _ops.is_tensor(t) and t.op.type == "Const":
        return t.op.get_attr("value")
    return None


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Keeps each element of x with probability 1 - rate, scaled by 1 / (1 - rate), zeroes the rest.
    `keep_prob` is TF1's older argument (rate = 1 - keep_prob). Built as TF 1.15 builds it:
    random_uniform >= rate gives the mask, x * (1 / (1 - rate)) * cast(mask); elements share a decision
    along the dims where noise_shape is 1. A seeded dropout draws the same masks run after run."""
    if keep_prob is not None and rate is not None:
        raise ValueError("Cannot specify both 'keep_prob' and 'rate'")
    if keep_prob is not None:
        try:
            rate = 1. - keep_prob
        except TypeError:
            raise ValueError("keep_prob must be a floating point number or Tensor (got %r)" % (keep_prob,)) from None
    if rate is None:
        raise ValueError("You must provide a rate to dropout.")
    with _ops.name_scope(name, "dropout", [x]) as name:
        x = _ops.convert_to_tensor(x, name="x")
        if not x.dtype.is_floating:
            raise ValueError("x has to be a floating point tensor since it's going to be scaled. Got a %s tensor "
                             "instead." % x.dtype.name)
        if isinstance(rate, numbers.Real) and not _ops.is_tensor(rate):
            if not 0 <= rate < 1:
                raise ValueError("rate must be a scalar tensor or a float in the range [0, 1), got %g" % rate)
            if rate == 0:
                return x
        rate = _ops.convert_to_tensor(rate, dtype=x.dtype, name="rate")
        if rate.shape.ndims not in (None, 0):
            raise ValueError("Shapes %s and () are incompatible: rate must be a scalar" % rate.shape)
        value = _constant_value(rate)
        if value is not None and np.all(np.asarray(value) == 0):
            return x
        noise_shape = _get_noise_shape(x, noise_shape)
        random_tensor = random_ops.random_uniform(noise_shape, seed=seed, dtype=x.dtype)
        keep_prob = 1 - rate
        scale = 1 / keep_prob
        keep_mask = random_tensor >= rate
        ret = x * scale * math_ops.cast(keep_mask, x.dtype)
        ret.set_shape(x.shape)
        return ret


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """(x - mean) * scale / sqrt(variance + epsilon) + offset, with TF's formula and node names."""
    with _ops.name_scope(name, "batchnorm", [x, mean, variance, scale, offset]):
        x = _ops.convert_to_tensor(x, name="x")
        variance = _ops.convert_to_tensor(variance, dtype=x.dtype)
        inv = gen_ops.rsqrt(variance + variance_epsilon)
        if scale is not None:
            inv *= scale
        shift = offset - mean * inv if offset is not None else -mean * inv
        return x * math_ops.cast(inv, x.dtype) + math_ops.cast(shift, x.dtype)


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001, data_format="NHWC",
                     is_training=True, name=None):
    """(y, batch_mean, batch_variance) from one FusedBatchNormV3 node. Training normalizes with the
    batch's statistics (mean and variance must be None) and returns the unbiased variance; inference
    (is_training=False) uses the given mean and variance. epsilon is raised to 1.001e-5 at least, as in
    TensorFlow."""
    x = _ops.convert_to_tensor(x, name="input")
    scale = _ops.convert_to_tensor(scale, name="scale")
    offset = _ops.convert_to_tensor(offset, name="offset")
    if is_training:
        if mean is not None or variance is not None:
            raise ValueError("Both 'mean' and 'variance' must be None if is_training is True.")
    elif mean is None or variance is None:
        raise ValueError("Both 'mean' and 'variance' must be a 1D tensor when is_training is False.")
    # float16 and bfloat16 inputs keep their statistics in float32 (TensorFlow's U)
    stats_dtype = "float32" if x.dtype.name in ("float16", "bfloat16") else x.dtype
    if mean is None:
        mean = _ops.constant_op(np.zeros([0]), stats_dtype)
    if variance is None:
        variance = _ops.constant_op(np.zeros([0]), stats_dtype)
    epsilon = max(float(epsilon), 1.001e-5)
    attrs = {"epsilon": epsilon, "data_format": data_format, "is_training": bool(is_training)}
    op = _ops.apply_op("FusedBatchNormV3", [x, scale, offset, mean, variance], attrs,
                       name=name or "FusedBatchNormV3")
    return op.outputs[0], op.outputs[1], op.outputs[2]


def local_response_normalization(input, depth_radius=5, bias=1, alpha=1, beta=0.5, name=None):  # noqa: A002
    """LRN over the last dim of a 4-D input: x / (bias + alpha * sum of x^2 over depth_radius neighbouring
    channels) ** beta."""
    attrs = {"depth_radius": int(depth_radius), "bias": float(bias), "alpha": float(alpha), "beta": float(beta)}
    return _ops.apply1("LRN", [_ops.convert_to_tensor(input, name="input")], attrs, name=name or "LRN")


lrn = local_response_normalization
