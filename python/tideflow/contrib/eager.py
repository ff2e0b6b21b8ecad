"""tf.contrib.eager (`tfe`): TensorFlow 1.x's eager execution API on tideflow's eager mode."""
from .. import app
from ..keras.engine import base_layer as _base_layer
from ..eager.backprop import (GradientTape, gradients_function, value_and_gradients_function,  # noqa: F401
                              implicit_gradients, implicit_value_and_gradients, make_vjp, val_and_grad_function,
                              implicit_grad, implicit_val_and_grad)
from ..eager.context import enable_eager_execution, executing_eagerly, eager_mode, graph_mode  # noqa: F401
from ..eager.function import function as defun  # noqa: F401
from ..eager.variables import EagerVariable as Variable  # noqa: F401

in_eager_mode = executing_eagerly


def num_gpus():
    """tideflow runs on the CPU here."""
    return 0


def run(main=None, argv=None):
    """tfe.run: turns eager execution on and runs the program's main, like tf.app.run."""
    enable_eager_execution()
    app.run(main, argv)


class Iterator:
    """tfe.Iterator(dataset): iterates a tf.data.Dataset eagerly (any iterable of tensors or NumPy values
    works too); `next()` gives the next element."""

    def __init__(self, dataset):
        self._it = iter(dataset)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    next = __next__


class Network(_base_layer.Layer):
    """tfe.Network (TF 1.4-1.7): a layer made of layers. `track_layer(layer)` registers a sublayer and returns
    it; the network's `variables`/`trainable_variables` are its layers', created on the first call."""

    def track_layer(self, layer):
        if not isinstance(layer, _base_layer.Layer):
            raise TypeError("Network.track_layer() passed type %s, not a tf.layers.Layer" % type(layer).__name__)
        layers = self.__dict__.setdefault("_layers", [])
        if not any(existing is layer for existing in layers):
            layers.append(layer)
        return layer

    @property
    def layers(self):
        return list(self.__dict__.get("_layers", []))
