"""tf.train.AdadeltaOptimizer (Zeiler 2012): step sizes from running averages of squared gradients and
squared updates."""
from ..framework import ops as _ops
from . import optimizer

__all__ = ["AdadeltaOptimizer"]


class AdadeltaOptimizer(optimizer.Optimizer):

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False, name="Adadelta"):
        super().__init__(use_locking, name)
        self._lr, self._rho, self._epsilon = learning_rate, rho, epsilon

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _prepare(self):
        self._lr_t = self._hyper(self._lr, "lr")
        self._rho_t = self._hyper(self._rho, "rho")
        self._epsilon_t = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        accum, accum_update = self.get_slot(var, "accum"), self.get_slot(var, "accum_update")
        hyper = [optimizer._cast(t, var.dtype) for t in (self._lr_t, self._rho_t, self._epsilon_t)]
        return _ops.apply_op("ApplyAdadelta", [var._ref(), accum._ref(), accum_update._ref()] + hyper + [grad],
                             {"use_locking": bool(self._use_locking)}, name="ApplyAdadelta")
