"""Initializers for tf.get_variable (TF 1.x `init_ops`): objects called as `init(shape, dtype,
partition_info)` that build the ops computing a variable's initial value."""
import inspect
import math
import types

import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from . import random_ops, state_ops

# tf.* names (the classes too, as the TF1 module exposes them); lecun_*, he_* and identity are reached
# through tf.initializers, as in TF1.
__all__ = ["Initializer", "Constant", "constant_initializer", "Zeros", "zeros_initializer", "Ones",
           "ones_initializer", "RandomUniform", "random_uniform_initializer", "RandomNormal",
           "random_normal_initializer", "TruncatedNormal", "truncated_normal_initializer", "UniformUnitScaling",
           "uniform_unit_scaling_initializer", "VarianceScaling", "variance_scaling_initializer", "GlorotUniform",
           "glorot_uniform_initializer", "GlorotNormal", "glorot_normal_initializer", "initializers"]

# scipy.stats.truncnorm.std(a=-2, b=2, loc=0., scale=1.): the stddev of a unit normal cut at two standard
# deviations. VarianceScaling divides by it so the truncated draw keeps the requested variance (TF's value).
_TRUNCATION_STDDEV = .87962566103423978


def _assert_float_dtype(dtype):
    dtype = _dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError("Argument `dtype` is expected to be floating point. Received: %s." % dtype)
    return dtype


def _shape_list(shape):
    if isinstance(shape, _ops.Tensor):
        return shape
    return [int(d) for d in shape]


def _filled(shape, value, dtype, name):
    """tf.zeros / tf.ones as TF builds them: a Const when it has under 1000 elements, else Fill, so large
    initial values do not bloat the graph."""
    with _ops.name_scope(name) as scope:
        if not isinstance(shape, _ops.Tensor):
            shape = _shape_list(shape)
            if int(np.prod(shape)) < 1000:
                return _ops.constant_op(value, dtype=dtype, shape=shape, name=scope)
            shape = _ops.constant_op(shape, dtype=_dtypes.int32, name="shape_as_tensor")
        scalar = _ops.constant_op(value, dtype=dtype, name="Const")
        return _ops.apply1("Fill", [shape, scalar], name=scope)


class Initializer:
    """Base class: subclasses build the initial value in `__call__(shape, dtype=None, partition_info=None)`."""

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    def _dtype_for(self, dtype):
        return self.dtype if dtype is None else _dtypes.as_dtype(dtype)

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Zeros(Initializer):
    """Initializer of tensors filled with zeros (tf.zeros_initializer)."""
    def __init__(self, dtype=_dtypes.float32):
        self.dtype = _dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype_for(dtype)
        zero = False if dtype is _dtypes.bool else ("" if dtype is _dtypes.string else 0)
        return _filled(shape, zero, dtype, "zeros")

    def get_config(self):
        return {"dtype": self.dtype.name}


class Ones(Initializer):
    """Initializer of tensors filled with ones (tf.ones_initializer)."""
    def __init__(self, dtype=_dtypes.float32):
        self.dtype = _dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype_for(dtype)
        return _filled(shape, True if dtype is _dtypes.bool else 1, dtype, "ones")

    def get_config(self):
        return {"dtype": self.dtype.name}


class Constant(Initializer):
    """TF1 constant semantics: a scalar fills the shape; a shorter list is padded with its last element."""

    def __init__(self, value=0, dtype=_dtypes.float32, verify_shape=False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError("Invalid type for initial value=%s of type: %s. Expected Python scalar, list or tuple "
                            "of values, or numpy.ndarray." % (value, type(value).__name__))
        self.value = value
        self.dtype = _dtypes.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        dtype = self._dtype_for(dtype)
        verify_shape = self._verify_shape if verify_shape is None else verify_shape
        arr = _ops._np_value(self.value, dtype)
        shape = _shape_list(shape)
        if verify_shape and tuple(arr.shape) != tuple(shape):
            raise TypeError("Expected Tensor's shape: %s, but got %s." % (tuple(shape), arr.shape))
        size = int(np.prod(shape))
        if arr.size > size:
            raise ValueError("Too many elements provided. Takes at most %d, but got %d." % (size, arr.size))
        if 0 < arr.size < size:
            flat = arr.reshape(-1)
            arr = np.concatenate([flat, np.repeat(flat[-1:], size - arr.size)])
        return _ops.constant_op(arr.reshape(shape) if arr.size else arr, dtype=dtype, shape=shape, name="Const")

    def get_config(self):
        return {"value": self.value, "dtype": self.dtype.name}  # verify_shape is a __call__ argument


class RandomUniform(Initializer):
    """Initializer drawing from the uniform distribution on [minval, maxval) (tf.random_uniform_initializer)."""
    def __init__(self, minval=0, maxval=None, seed=None, dtype=_dtypes.float32):
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = _dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_uniform(shape, self.minval, self.maxval, self._dtype_for(dtype), seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed, "dtype": self.dtype.name}


class RandomNormal(Initializer):
    """Initializer drawing from the normal distribution with `mean` and `stddev` (tf.random_normal_initializer)."""
    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=_dtypes.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_normal(shape, self.mean, self.stddev, self._dtype_for(dtype), seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed, "dtype": self.dtype.name}


class TruncatedNormal(RandomNormal):
    """Normal draws more than two standard deviations from the mean are redrawn."""

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.truncated_normal(shape, self.mean, self.stddev, self._dtype_for(dtype), seed=self.seed)


class UniformUnitScaling(Initializer):
    """Deprecated in TF1 in favour of VarianceScaling; kept for old programs."""

    def __init__(self, factor=1.0, seed=None, dtype=_dtypes.float32):
        self.factor, self.seed = factor, seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        scale_shape = partition_info.full_shape if partition_info is not None else shape
        input_size = max(float(np.prod([float(d) for d in scale_shape[:-1]])), 1.0)
        max_val = math.sqrt(3 / input_size) * self.factor
        return random_ops.random_uniform(shape, -max_val, max_val, self._dtype_for(dtype), seed=self.seed)

    def get_config(self):
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}


def _compute_fans(shape):
    """(fan_in, fan_out): vectors count once, matrices are (in, out), and larger shapes are convolution
    kernels (..., in_depth, out_depth) whose leading dims form the receptive field."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive_field = int(np.prod([int(d) for d in shape[:-2]]))
    return int(shape[-2]) * receptive_field, int(shape[-1]) * receptive_field


class VarianceScaling(Initializer):
    """Draws with variance `scale / n`, n being fan_in, fan_out or their mean (`mode`), from a truncated
    normal (default; "normal" is its old alias), an untruncated normal, or a uniform distribution."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=_dtypes.float32):
        if scale <= 0.:
            raise ValueError("Argument `scale` must be a positive float. Received: %s" % scale)
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError("Argument `mode` should be one of ('fan_in', 'fan_out', 'fan_avg'). Received: %s"
                             % mode)
        distribution = distribution.lower()
        if distribution not in {"normal", "uniform", "truncated_normal", "untruncated_normal"}:
            raise ValueError("Argument `distribution` should be one of ('normal', 'uniform', 'truncated_normal', "
                             "'untruncated_normal'). Received: %s" % distribution)
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype_for(dtype)
        fan_in, fan_out = _compute_fans(partition_info.full_shape if partition_info is not None else shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.}[self.mode]
        scale = self.scale / max(1., n)
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(scale) / _TRUNCATION_STDDEV
            return random_ops.truncated_normal(shape, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.random_normal(shape, 0.0, math.sqrt(scale), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_ops.random_uniform(shape, -limit, limit, dtype, seed=self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed,
                "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    """Xavier uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)). tf.get_variable's default."""

    def __init__(self, seed=None, dtype=_dtypes.float32):
        super().__init__(scale=1.0, mode="fan_avg", distribution="uniform", seed=seed, dtype=dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Xavier normal: truncated normal with stddev sqrt(2 / (fan_in + fan_out)) (before the correction)."""

    def __init__(self, seed=None, dtype=_dtypes.float32):
        super().__init__(scale=1.0, mode="fan_avg", distribution="truncated_normal", seed=seed, dtype=dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0, dtype=_dtypes.float32):
        self.gain = gain
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        full_shape = _shape_list(partition_info.full_shape if partition_info is not None else shape)
        if len(full_shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices.")
        dtype = self._dtype_for(dtype)
        return _ops.constant_op(np.eye(*full_shape) * self.gain, dtype=dtype, name="Const")

    def get_config(self):
        return {"gain": self.gain, "dtype": self.dtype.name}


def lecun_normal(seed=None):
    """A VarianceScaling initializer: truncated normal with stddev sqrt(1 / fan_in) (LeCun et al.)."""
    return VarianceScaling(scale=1., mode="fan_in", distribution="truncated_normal", seed=seed)


def lecun_uniform(seed=None):
    """A VarianceScaling initializer: uniform in [-limit, limit], limit = sqrt(3 / fan_in)."""
    return VarianceScaling(scale=1., mode="fan_in", distribution="uniform", seed=seed)


def he_normal(seed=None):
    """A VarianceScaling initializer: truncated normal with stddev sqrt(2 / fan_in) (He et al., for ReLU layers)."""
    return VarianceScaling(scale=2., mode="fan_in", distribution="truncated_normal", seed=seed)


def he_uniform(seed=None):
    """A VarianceScaling initializer: uniform in [-limit, limit], limit = sqrt(6 / fan_in)."""
    return VarianceScaling(scale=2., mode="fan_in", distribution="uniform", seed=seed)


zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
uniform_unit_scaling_initializer = UniformUnitScaling
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal


def _accepts_partition_info(fn):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "partition_info" in params  # named only: TF does not pass it through **kwargs


def _needs_no_arguments(fn):
    """True for a callable whose every parameter has a default (TF's test for `initializer()` use)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params)


def _initializers_namespace():
    """tf.initializers: TF1's short names for the initializer classes and variable-initializer ops."""
    ns = types.ModuleType("tideflow.initializers")
    for short, obj in (("zeros", Zeros), ("ones", Ones), ("constant", Constant),
                       ("random_uniform", RandomUniform), ("random_normal", RandomNormal),
                       ("truncated_normal", TruncatedNormal), ("uniform_unit_scaling", UniformUnitScaling),
                       ("variance_scaling", VarianceScaling), ("glorot_uniform", GlorotUniform),
                       ("glorot_normal", GlorotNormal), ("identity", Identity), ("lecun_normal", lecun_normal),
                       ("lecun_uniform", lecun_uniform), ("he_normal", he_normal), ("he_uniform", he_uniform),
                       ("global_variables", state_ops.global_variables_initializer),
                       ("local_variables", state_ops.local_variables_initializer),
                       ("variables", state_ops.variables_initializer)):
        setattr(ns, short, obj)
    return ns


initializers = _initializers_namespace()
