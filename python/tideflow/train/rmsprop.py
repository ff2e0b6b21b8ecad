"""tf.train.RMSPropOptimizer: ms = decay * ms + (1 - decay) * grad^2 (starting at ones, as in TF);
mom = momentum * mom + lr * grad / sqrt(ms + epsilon); var -= mom. `centered` also tracks the mean gradient
and divides by an estimate of the gradient's variance instead."""
from ..framework import ops as _ops
from . import optimizer

__all__ = ["RMSPropOptimizer"]


class RMSPropOptimizer(optimizer.Optimizer):

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False, centered=False,
                 name="RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate, self._decay, self._momentum, self._epsilon = learning_rate, decay, momentum, epsilon
        self._centered = centered

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(v, 1, "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._decay_tensor = self._hyper(self._decay, "decay")
        self._momentum_tensor = self._hyper(self._momentum, "momentum")
        self._epsilon_tensor = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        hyper = [optimizer._cast(t, var.dtype) for t in (self._learning_rate_tensor, self._decay_tensor,
                                                          self._momentum_tensor, self._epsilon_tensor)]
        attrs = {"use_locking": bool(self._use_locking)}
        if self._centered:
            mg = self.get_slot(var, "mg")
            return _ops.apply_op("ApplyCenteredRMSProp", [var._ref(), mg._ref(), rms._ref(), mom._ref()] + hyper +
                                 [grad], attrs, name="ApplyCenteredRMSProp")
        return _ops.apply_op("ApplyRMSProp", [var._ref(), rms._ref(), mom._ref()] + hyper + [grad], attrs,
                             name="ApplyRMSProp")
