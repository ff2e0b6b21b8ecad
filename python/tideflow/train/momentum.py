"""tf.train.MomentumOptimizer: accum = momentum * accum + grad; var -= learning_rate * accum (or the
Nesterov form)."""
from ..framework import ops as _ops
from . import optimizer

__all__ = ["MomentumOptimizer"]


class MomentumOptimizer(optimizer.Optimizer):

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum", use_nesterov=False):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._momentum_tensor = self._hyper(self._momentum, "momentum")

    def _apply_dense(self, grad, var):
        accum = self.get_slot(var, "momentum")
        return _ops.apply_op("ApplyMomentum",
                             [var._ref(), accum._ref(), optimizer._cast(self._learning_rate_tensor, var.dtype), grad,
                              optimizer._cast(self._momentum_tensor, var.dtype)],
                             {"use_locking": bool(self._use_locking), "use_nesterov": bool(self._use_nesterov)},
                             name="ApplyMomentum")
