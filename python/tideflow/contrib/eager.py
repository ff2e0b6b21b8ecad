"""tf.contrib.eager (`tfe`): TensorFlow 1.x's eager execution API on tideflow's eager mode."""
from .. import app
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
    """tfe.Iterator(dataset): iterates a dataset eagerly (tf.data arrives with its own issue; any iterable of
    tensors or NumPy values works here)."""

    def __init__(self, dataset):
        self._it = iter(dataset)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    next = __next__
