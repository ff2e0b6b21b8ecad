"""tf.train.AdamOptimizer (Kingma & Ba): bias-corrected first and second moment estimates; the running
powers beta1^t and beta2^t are non-slot variables `beta1_power` and `beta2_power`, updated after all
variables."""
from ..framework import ops as _ops
from ..ops import math_ops, state_ops
from . import optimizer

__all__ = ["AdamOptimizer"]


class AdamOptimizer(optimizer.Optimizer):

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._lr, self._beta1, self._beta2, self._epsilon = learning_rate, beta1, beta2, epsilon

    def _get_beta_accumulators(self):
        g = _ops.get_default_graph()
        return self._get_non_slot_variable("beta1_power", g), self._get_non_slot_variable("beta2_power", g)

    def _create_slots(self, var_list):
        first_var = min(var_list, key=lambda x: x.name)
        self._create_non_slot_variable(self._beta1, "beta1_power", first_var)
        self._create_non_slot_variable(self._beta2, "beta2_power", first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self):
        self._lr_t = self._hyper(self._lr, "learning_rate")
        self._beta1_t = self._hyper(self._beta1, "beta1")
        self._beta2_t = self._hyper(self._beta2, "beta2")
        self._epsilon_t = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        beta1_power, beta2_power = self._get_beta_accumulators()
        hyper = [optimizer._cast(_ops.convert_to_tensor(t), var.dtype)
                 for t in (beta1_power, beta2_power, self._lr_t, self._beta1_t, self._beta2_t, self._epsilon_t)]
        return _ops.apply_op("ApplyAdam", [var._ref(), m._ref(), v._ref()] + hyper + [grad],
                             {"use_locking": bool(self._use_locking), "use_nesterov": False}, name="ApplyAdam")

    def _finish(self, update_ops, name_scope):
        with _ops.control_dependencies(update_ops):
            beta1_power, beta2_power = self._get_beta_accumulators()
            update_beta1 = state_ops.assign(beta1_power, math_ops.multiply(beta1_power, self._beta1_t, name="mul"))
            update_beta2 = state_ops.assign(beta2_power, math_ops.multiply(beta2_power, self._beta2_t, name="mul"))
        return state_ops.group(*update_ops + [update_beta1, update_beta2], name=name_scope)
