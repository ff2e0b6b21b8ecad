"""Keras initializer identifiers: `get` turns a name ("glorot_uniform", "zeros", ...), a config dict or an
initializer into an initializer callable. The objects are TF1's init_ops classes, with Keras's defaults
where they differ (random ones draw from +-0.05 / stddev 0.05, as Keras's did)."""
import functools

import numpy as np

from .. import _core
from ..ops import init_ops, random_ops

__all__ = ["get", "serialize", "deserialize"]


def _keras_default(cls, **defaults):
    @functools.wraps(cls, updated=())
    def make(*args, **kwargs):
        return cls(*args, **{**defaults, **kwargs})
    return make


_BY_NAME = {
    "zeros": init_ops.Zeros, "zeros_initializer": init_ops.Zeros,
    "ones": init_ops.Ones, "ones_initializer": init_ops.Ones,
    "constant": init_ops.Constant, "constant_initializer": init_ops.Constant,
    "uniform": _keras_default(init_ops.RandomUniform, minval=-0.05, maxval=0.05),
    "random_uniform": _keras_default(init_ops.RandomUniform, minval=-0.05, maxval=0.05),
    "normal": _keras_default(init_ops.RandomNormal, stddev=0.05),
    "random_normal": _keras_default(init_ops.RandomNormal, stddev=0.05),
    "truncated_normal": _keras_default(init_ops.TruncatedNormal, stddev=0.05),
    "variance_scaling": init_ops.VarianceScaling,
    "glorot_uniform": init_ops.GlorotUniform, "glorot_normal": init_ops.GlorotNormal,
    "he_normal": init_ops.he_normal, "he_uniform": init_ops.he_uniform,
    "lecun_normal": init_ops.lecun_normal, "lecun_uniform": init_ops.lecun_uniform,
    "identity": init_ops.Identity,
}
_CLASS_NAMES = {"Zeros": "zeros", "Ones": "ones", "Constant": "constant", "RandomUniform": "random_uniform",
                "RandomNormal": "random_normal", "TruncatedNormal": "truncated_normal",
                "VarianceScaling": "variance_scaling", "GlorotUniform": "glorot_uniform",
                "GlorotNormal": "glorot_normal", "Identity": "identity"}


def deserialize(config):
    """{"class_name": ..., "config": {...}} -> an initializer."""
    name = config["class_name"]
    make = _BY_NAME.get(_CLASS_NAMES.get(name, name))
    if make is None:
        raise ValueError("Unknown initializer: %s" % name)
    return make(**config.get("config", {}))


def serialize(initializer):
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def get(identifier):
    """None stays None (the layer or tf.get_variable picks its default)."""
    if identifier is None or callable(identifier) and not isinstance(identifier, str):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        make = _BY_NAME.get(identifier)
        if make is None:
            raise ValueError("Unknown initializer: %s" % identifier)
        return make()
    raise ValueError("Could not interpret initializer identifier: " + str(identifier))


class Orthogonal:
    """Keras's orthogonal initializer: Q of the QR decomposition of a standard normal [rows, cols] draw (signs
    fixed by R's diagonal), times `gain`. The decomposition runs in NumPy on the eager draw, so it is for eager
    programs (weights are made eagerly, also inside a traced step)."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None, partition_info=None):
        if not _core.executing_eagerly():
            raise NotImplementedError("The orthogonal initializer runs eagerly only")
        shape = list(shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional")
        rows = int(np.prod(shape[:-1]))
        cols = shape[-1]
        flat = (max(rows, cols), min(rows, cols))
        a = random_ops.random_normal(flat, seed=self.seed).numpy().astype(np.float64)
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        dt = "float32" if dtype is None else getattr(dtype, "as_numpy_dtype", dtype)
        return (self.gain * q.reshape(shape)).astype(dt)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


_BY_NAME["orthogonal"] = Orthogonal
_BY_NAME["Orthogonal"] = Orthogonal
