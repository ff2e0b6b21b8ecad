"""Keras initializer identifiers: `get` turns a name ("glorot_uniform", "zeros", ...), a config dict or an
initializer into an initializer callable. The objects are TF1's init_ops classes, with Keras's defaults
where they differ (random ones draw from +-0.05 / stddev 0.05, as Keras's did)."""
import functools

from ..ops import init_ops

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
