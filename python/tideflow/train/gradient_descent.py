"""tf.train.GradientDescentOptimizer: var -= learning_rate * grad."""
from ..framework import ops as _ops
from . import optimizer

__all__ = ["GradientDescentOptimizer"]


class GradientDescentOptimizer(optimizer.Optimizer):

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_tensor = None

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var):
        return _ops.apply_op("ApplyGradientDescent",
                             [var._ref(), optimizer._cast(self._learning_rate_tensor, var.dtype), grad],
                             {"use_locking": bool(self._use_locking)}, name="ApplyGradientDescent")
