"""tf.train.ProximalGradientDescentOptimizer: FOBOS, a gradient step followed by the proximal step of L1
(soft thresholding) and L2 regularization."""
from ..framework import ops as _ops
from . import optimizer

__all__ = ["ProximalGradientDescentOptimizer"]


class ProximalGradientDescentOptimizer(optimizer.Optimizer):

    def __init__(self, learning_rate, l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="ProximalGradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._l1_tensor = self._hyper(self._l1_regularization_strength, "l1_regularization_strength")
        self._l2_tensor = self._hyper(self._l2_regularization_strength, "l2_regularization_strength")

    def _apply_dense(self, grad, var):
        # TF passes these uncast, so float64 variables fail there; casting as the other optimizers do
        # gives the same float32 results and also trains float64 variables.
        lr, l1, l2 = (optimizer._cast(t, var.dtype) for t in (self._learning_rate_tensor, self._l1_tensor,
                                                              self._l2_tensor))
        return _ops.apply_op("ApplyProximalGradientDescent", [var._ref(), lr, l1, l2, grad],
                             {"use_locking": bool(self._use_locking)}, name="ApplyProximalGradientDescent")
