"""tf.keras.backend (the few functions programs commonly call)."""
from ..framework import random_seed as _random_seed
from .engine import base_layer as _base_layer
from .engine import input_layer as _input_layer

__all__ = ["clear_session", "floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format"]

_config = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last"}


def clear_session():
    """Forgets the layer-name counters and the symbolic graph (new layers are named dense, dense_1... again)."""
    _base_layer._layer_name_uids.clear()
    _input_layer._state["graph"] = None
    _input_layer._input_count[0] = 0


def floatx():
    return _config["floatx"]


def set_floatx(value):
    _config["floatx"] = str(value)


def epsilon():
    return _config["epsilon"]


def set_epsilon(value):
    _config["epsilon"] = float(value)


def image_data_format():
    return _config["image_data_format"]


def set_random_seed(seed):
    _random_seed.set_eager_seed(seed)
