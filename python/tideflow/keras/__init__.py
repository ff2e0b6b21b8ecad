"""tf.keras: Sequential, the functional Model (keras.Input), subclassed models and layers, compile/fit/
evaluate/predict with a compiled (traced) training step, losses, metrics, optimizers, callbacks, datasets.
Built on the Keras-style Layer engine tf.layers uses (see Note [layers engine] in keras/engine/base_layer.py,
Note [keras symbolic graph] in keras/engine/input_layer.py, Note [keras compiled step] in
keras/engine/training.py)."""
from . import activations, constraints, initializers, regularizers
from . import losses, metrics, optimizers, callbacks
from . import layers
from . import backend, datasets, models, utils
from .engine.input_layer import Input
from .engine.training import Model
from .engine.sequential import Sequential

__all__ = ["Input", "Model", "Sequential", "layers", "losses", "metrics", "optimizers", "callbacks", "activations",
           "initializers", "regularizers", "constraints", "backend", "datasets", "models", "utils"]
