"""tf.train.ProximalAdagradOptimizer: FOBOS with Adagrad's per-element learning rate; slot `accumulator`
starts at initial_accumulator_value."""
from ..framework import ops as _ops
from . import optimizer

__all__ = ["ProximalAdagradOptimizer"]


class ProximalAdagradOptimizer(optimizer.Optimizer):

    def __init__(self, learning_rate, initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, use_locking=False, name="ProximalAdagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError("initial_accumulator_value must be positive: %s" % initial_accumulator_value)
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(v, self._initial_accumulator_value, "accumulator", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._l1_tensor = self._hyper(self._l1_regularization_strength, "l1_regularization_strength")
        self._l2_tensor = self._hyper(self._l2_regularization_strength, "l2_regularization_strength")

    def _apply_dense(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        # Cast for float64 variables (TF passes the float32 hyperparameters uncast and fails there).
        lr, l1, l2 = (optimizer._cast(t, var.dtype) for t in (self._learning_rate_tensor, self._l1_tensor,
                                                              self._l2_tensor))
        return _ops.apply_op("ApplyProximalAdagrad", [var._ref(), acc._ref(), lr, l1, l2, grad],
                             {"use_locking": bool(self._use_locking)}, name="ApplyProximalAdagrad")
