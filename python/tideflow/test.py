"""tf.test: TestCase and main (loaded on first use: python/tideflow/_test_case.py), and gradient checking
through the Session, as tf.test.compute_gradient_error does."""
import numpy as np

from .framework import ops as _ops
from .ops import gradients_impl as _gradients_impl
from . import _core

__all__ = ["compute_gradient", "compute_gradient_error", "is_gpu_available", "gpu_device_name",
           "is_built_with_cuda", "TestCase", "main"]

_LAZY = {"TestCase", "main"}  # _test_case.py (unittest is ~20 ms of import time)


def __getattr__(name):
    if name in _LAZY:
        from . import _test_case  # lazy: see _LAZY
        value = getattr(_test_case, name)
        globals()[name] = value
        return value
    raise AttributeError("module 'tideflow.test' has no attribute %r" % name)


def _run(sess, t, feed):
    return np.asarray(sess.run(t, feed), dtype=np.float64)


def compute_gradient(x, x_shape, y, y_shape, x_init_value=None, delta=1e-3, init_targets=None,
                     extra_feed_dict=None, session=None):
    """(theoretical, numerical) Jacobians of y w.r.t. x, each of shape [x_size, y_size]. The theoretical
    one back-propagates unit vectors with tf.gradients; the numerical one uses central differences.
    Lists of x give lists of pairs."""
    if isinstance(x, (list, tuple)):
        inits = x_init_value or [None] * len(x)
        return [compute_gradient(xi, si, y, y_shape, vi, delta, init_targets, extra_feed_dict, session)
                for xi, si, vi in zip(x, x_shape, inits)]
    sess = session or _ops.get_default_session()
    if sess is None:
        raise ValueError("compute_gradient needs a session: pass session= or use `with tf.Session():`")
    if init_targets:
        sess.run(init_targets)
    feed = dict(extra_feed_dict or {})
    x_np_dtype = x.dtype.as_numpy_dtype
    x0 = (np.asarray(x_init_value, dtype=x_np_dtype) if x_init_value is not None
          else np.random.RandomState(1).uniform(-1, 1, x_shape).astype(x_np_dtype))
    x_size = int(np.prod(x_shape)) if len(x_shape) else 1
    y_size = int(np.prod(y_shape)) if len(y_shape) else 1
    dy = _ops.apply1("Placeholder", [], {"dtype": y.dtype._enum,
                                          "shape": _core.Shape(list(y_shape))},
                     name="grad_check_dy")
    gx = _gradients_impl.gradients(y, x, grad_ys=dy)[0]
    theo = np.zeros((x_size, y_size))
    if gx is not None:
        for j in range(y_size):
            e = np.zeros(y_size, dtype=y.dtype.as_numpy_dtype)
            e[j] = 1
            feed2 = dict(feed)
            feed2[x] = x0
            feed2[dy] = e.reshape(y_shape)
            theo[:, j] = _run(sess, gx, feed2).reshape(-1)
    num = np.zeros((x_size, y_size))
    flat = x0.reshape(-1).astype(np.float64)
    for i in range(x_size):
        for sign in (1, -1):
            v = flat.copy()
            v[i] += sign * delta
            feed2 = dict(feed)
            feed2[x] = v.reshape(x_shape).astype(x_np_dtype)
            num[i, :] += sign * _run(sess, y, feed2).reshape(-1) / (2 * delta)
    return theo, num


def compute_gradient_error(x, x_shape, y, y_shape, x_init_value=None, delta=1e-3, init_targets=None,
                           extra_feed_dict=None, session=None):
    """Max absolute difference between the theoretical and numerical Jacobians."""
    res = compute_gradient(x, x_shape, y, y_shape, x_init_value, delta, init_targets, extra_feed_dict, session)
    if isinstance(res, list):
        return max(float(np.max(np.abs(t - n))) if t.size else 0.0 for t, n in res)
    t, n = res
    return float(np.max(np.abs(t - n))) if t.size else 0.0


def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None):
    """False: tideflow runs on the CPU."""
    return False


def gpu_device_name():
    """The empty string: there is no GPU device."""
    return ""


def is_built_with_cuda():
    """False: tideflow is built without CUDA."""
    return False
