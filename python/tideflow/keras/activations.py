"""Keras activation identifiers: `get` turns a name ("relu", "softmax", ...) or a callable into the function
a layer applies to its output (None: no activation)."""
from ..ops import gen_ops, math_ops, nn_ops

__all__ = ["get", "linear", "softmax", "hard_sigmoid", "exponential"]


def linear(x):
    return x


def softmax(x, axis=-1):
    return nn_ops.softmax(x, axis=axis)


def hard_sigmoid(x):
    """clip(0.2 * x + 0.5, 0, 1)."""
    return math_ops.minimum(math_ops.maximum(x * 0.2 + 0.5, 0.), 1.)


def exponential(x):
    return gen_ops.exp(x)


_BY_NAME = {"relu": nn_ops.relu, "relu6": nn_ops.relu6, "elu": nn_ops.elu, "selu": nn_ops.selu,
            "softplus": nn_ops.softplus, "softsign": nn_ops.softsign, "sigmoid": nn_ops.sigmoid,
            "tanh": nn_ops.tanh, "softmax": softmax, "linear": linear, "hard_sigmoid": hard_sigmoid,
            "exponential": exponential, "swish": nn_ops.swish}


def get(identifier):
    if identifier is None or callable(identifier) and not isinstance(identifier, str):
        return identifier
    fn = _BY_NAME.get(identifier)
    if fn is None:
        raise ValueError("Unknown activation function: %s" % (identifier,))
    return fn


relu = nn_ops.relu
relu6 = nn_ops.relu6
elu = nn_ops.elu
selu = nn_ops.selu
softplus = nn_ops.softplus
softsign = nn_ops.softsign
sigmoid = nn_ops.sigmoid
tanh = nn_ops.tanh
swish = nn_ops.swish
__all__ += ["relu", "relu6", "elu", "selu", "softplus", "softsign", "sigmoid", "tanh", "swish", "serialize",
            "deserialize"]


def serialize(activation):
    for k, v in _BY_NAME.items():
        if v is activation:
            return k
    return getattr(activation, "__name__", activation)


def deserialize(name):
    return get(name)
