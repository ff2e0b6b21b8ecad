"""Random tensors: tf.random_uniform, tf.random_normal, tf.truncated_normal, tf.random_shuffle,
tf.multinomial (cpp/ops/random.cc). Seeds follow TF1's rules (framework/random_seed.py): with the same
graph seed and op seeds, a program draws the same numbers in every Session; for the same (seed, seed2)
attrs they are TensorFlow's numbers, run after run (Note [Philox layout] in cpp/kernels/philox.h)."""
import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework import random_seed as _random_seed
from ..framework.tensor_shape import Dimension, TensorShape

__all__ = ["random_uniform", "random_normal", "truncated_normal", "random_shuffle", "multinomial"]


def _shape_tensor(shape):
    """A 1-D integer tensor from a list, tuple, TensorShape or integer tensor (TF's shape_tensor);
    a list holding tensors is packed, as TF's auto-packing conversion does."""
    if isinstance(shape, _ops.Tensor) or _ops.is_tensor(shape):
        t = _ops.convert_to_tensor(shape)
        if not t.dtype.is_integer:
            raise TypeError("The shape of a random tensor must be int32 or int64, got %s: %r" % (t.dtype.name, t))
        return t
    if isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise ValueError("Cannot draw a random tensor of partially known shape %s; pass a shape tensor "
                             "such as tf.shape(x) instead." % shape)
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)):
        dims = [int(d) if isinstance(d, Dimension) else d for d in shape]
        if any(_ops.is_tensor(d) for d in dims):
            parts = [_ops.convert_to_tensor(d, dtype=_dtypes.int32) for d in dims]
            return _ops.apply1("Pack", parts, {"axis": 0, "N": len(parts)}, name="shape")
        arr = np.asarray(dims, dtype=np.int64).reshape(-1)
        if arr.size == 0 or (arr.max() <= 2**31 - 1 and arr.min() >= -2**31):
            arr = arr.astype(np.int32)
        return _ops.convert_to_tensor(arr, name="shape")
    return _ops.convert_to_tensor(shape, name="shape")


def _seed_attrs(seed):
    seed1, seed2 = _random_seed.get_seed(seed)
    return {"seed": int(seed1), "seed2": int(seed2)}


def random_uniform(shape, minval=0, maxval=None, dtype=_dtypes.float32, seed=None, name=None):
    """Values uniform in [minval, maxval): floats default to [0, 1); integers need maxval."""
    dtype = _dtypes.as_dtype(dtype)
    if dtype not in (_dtypes.float16, _dtypes.bfloat16, _dtypes.float32, _dtypes.float64, _dtypes.int32,
                     _dtypes.int64):
        raise ValueError("Argument `dtype` got invalid value %s. Accepted dtypes are float16, bfloat16, float32, "
                         "float64, int32 and int64." % dtype.name)
    if maxval is None:
        if dtype.is_integer:
            raise ValueError("Must specify maxval for integer dtype %r" % dtype)
        maxval = 1
    with _ops.name_scope(name, "random_uniform", [shape, minval, maxval]) as name:
        shape = _shape_tensor(shape)
        # As TensorFlow: the default float range [0, 1) adds no affine ops.
        minval_is_zero = isinstance(minval, int) and minval == 0
        maxval_is_one = isinstance(maxval, int) and maxval == 1
        if not minval_is_zero or not maxval_is_one or dtype.is_integer:
            minval = _ops.convert_to_tensor(minval, dtype=dtype, name="min")
            maxval = _ops.convert_to_tensor(maxval, dtype=dtype, name="max")
        attrs = _seed_attrs(seed)
        if dtype.is_integer:
            return _ops.apply1("RandomUniformInt", [shape, minval, maxval], attrs, name=name)
        attrs["dtype"] = dtype._enum
        result = _ops.apply1("RandomUniform", [shape], attrs)
        if minval_is_zero:
            if not maxval_is_one:
                result = _ops.apply1("Mul", [result, maxval])
            return result
        scale = _ops.apply1("Mul", [result, _ops.apply1("Sub", [maxval, minval], name="sub")], name="mul")
        return _ops.apply1("Add", [scale, minval], name=name)


def _scaled(op_type, shape, mean, stddev, dtype, seed, name, default_name):
    """rnd * stddev + mean around a standard sample, with TensorFlow's node names."""
    dtype = _dtypes.as_dtype(dtype)
    with _ops.name_scope(name, default_name, [shape, mean, stddev]) as name:
        shape = _shape_tensor(shape)
        mean = _ops.convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev = _ops.convert_to_tensor(stddev, dtype=dtype, name="stddev")
        attrs = _seed_attrs(seed)
        attrs["dtype"] = dtype._enum
        rnd = _ops.apply1(op_type, [shape], attrs)
        return _ops.apply1("Add", [_ops.apply1("Mul", [rnd, stddev], name="mul"), mean], name=name)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=_dtypes.float32, seed=None, name=None):
    """Values from a normal distribution (Box-Muller over Philox draws)."""
    return _scaled("RandomStandardNormal", shape, mean, stddev, dtype, seed, name, "random_normal")


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_dtypes.float32, seed=None, name=None):
    """Values from a normal distribution, redrawn until within two standard deviations of the mean."""
    return _scaled("TruncatedNormal", shape, mean, stddev, dtype, seed, name, "truncated_normal")


def random_shuffle(value, seed=None, name=None):
    """A random permutation of `value` along its first dimension; a new one on every run."""
    return _ops.apply1("RandomShuffle", [value], _seed_attrs(seed), name=name or "RandomShuffle")


def _draw_classes(logits, num_samples, seed, output_dtype):
    logits = _ops.convert_to_tensor(logits, name="logits")
    num_samples = _ops.convert_to_tensor(num_samples, dtype=_dtypes.int32, name="num_samples")
    attrs = _seed_attrs(seed)
    attrs["output_dtype"] = _dtypes.as_dtype(output_dtype or _dtypes.int64)._enum
    return _ops.apply1("Multinomial", [logits, num_samples], attrs)


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """`num_samples` class indices per row of `logits` [batch, classes], drawn from softmax(logits)."""
    with _ops.name_scope(name, "multinomial", [logits]):
        return _draw_classes(logits, num_samples, seed, output_dtype)


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """tf.random.categorical: multinomial under its TF2 name."""
    with _ops.name_scope(name, "categorical", [logits]):
        return _draw_classes(logits, num_samples, seed, dtype)
