"""tf.train.AdagradDAOptimizer: Adagrad dual averaging, for sparse linear models trained with l1/l2
regularization. Slots `gradient_accumulator` (zeros) and `gradient_squared_accumulator` (starting at
initial_gradient_squared_accumulator_value); the update uses the global step, so minimize/apply_gradients
are usually given the same global_step variable (int64)."""
from ..framework import ops as _ops
from ..ops import array_ops
from . import optimizer

__all__ = ["AdagradDAOptimizer"]


class AdagradDAOptimizer(optimizer.Optimizer):

    def __init__(self, learning_rate, global_step, initial_gradient_squared_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0, use_locking=False,
                 name="AdagradDA"):
        if initial_gradient_squared_accumulator_value <= 0.0:
            raise ValueError("initial_gradient_squared_accumulator_value must be positive: %s"
                             % initial_gradient_squared_accumulator_value)
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_gradient_squared_accumulator_value = initial_gradient_squared_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._global_step = global_step
        self._global_step_on_worker = None

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(v, 0.0, "gradient_accumulator", self._name)
            self._get_or_make_slot(v, self._initial_gradient_squared_accumulator_value,
                                   "gradient_squared_accumulator", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        # As TF: the step the update uses is the global step read before this step's increment, plus one.
        self._global_step_on_worker = array_ops.identity(self._global_step) + 1

    def _apply_dense(self, grad, var):
        g_acc = self.get_slot(var, "gradient_accumulator")
        gg_acc = self.get_slot(var, "gradient_squared_accumulator")
        global_step = array_ops.identity(self._global_step_on_worker)
        lr, l1, l2 = (optimizer._cast(_ops.convert_to_tensor(t), var.dtype) for t in (
            self._learning_rate_tensor, self._l1_regularization_strength, self._l2_regularization_strength))
        return _ops.apply_op("ApplyAdagradDA", [var._ref(), g_acc._ref(), gg_acc._ref(), grad, lr, l1, l2,
                                                global_step],
                             {"use_locking": bool(self._use_locking)}, name="ApplyAdagradDA")
