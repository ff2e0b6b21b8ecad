"""tf.train.AdagradOptimizer: accum += grad^2; var -= learning_rate * grad / sqrt(accum)."""
from ..framework import ops as _ops
from . import optimizer

__all__ = ["AdagradOptimizer"]


class AdagradOptimizer(optimizer.Optimizer):

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False, name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError("initial_accumulator_value must be positive: %s" % initial_accumulator_value)
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(v, self._initial_accumulator_value, "accumulator", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        return _ops.apply_op("ApplyAdagrad",
                             [var._ref(), acc._ref(), optimizer._cast(self._learning_rate_tensor, var.dtype), grad],
                             {"use_locking": bool(self._use_locking)}, name="ApplyAdagrad")
