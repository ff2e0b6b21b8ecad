"""tf.layers: TensorFlow 1.x's layers API (classes and functional forms), on the Keras engine in
keras/engine/base_layer.py with TF1 variable scoping (Note [tf.layers scopes] in layers/base.py)."""
from .base import Layer, InputSpec  # noqa: F401
from .core import Dense, dense, Dropout, dropout, Flatten, flatten  # noqa: F401
from .convolutional import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .normalization import BatchNormalization, batch_normalization, BatchNorm  # noqa: F401
