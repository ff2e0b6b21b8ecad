"""tf.train.FtrlOptimizer: FTRL-proximal (McMahan et al. 2013) with optional L1, online L2 (`beta` folded
into it as TF does) and shrinkage-type L2; slots `accum` (starting at initial_accumulator_value) and
`linear`. Emits ApplyFtrl, or ApplyFtrlV2 when l2_shrinkage_regularization_strength > 0."""
from ..framework import ops as _ops
from ..ops import math_ops
from . import optimizer

__all__ = ["FtrlOptimizer"]


class FtrlOptimizer(optimizer.Optimizer):

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0, use_locking=False, name="Ftrl",
                 accum_name=None, linear_name=None, l2_shrinkage_regularization_strength=0.0, beta=None):
        super().__init__(use_locking, name)
        if initial_accumulator_value < 0.0:
            raise ValueError("initial_accumulator_value %f needs to be positive or zero" % initial_accumulator_value)
        if learning_rate_power > 0.0:
            raise ValueError("learning_rate_power %f needs to be negative or zero" % learning_rate_power)
        if l1_regularization_strength < 0.0:
            raise ValueError("l1_regularization_strength %f needs to be positive or zero"
                             % l1_regularization_strength)
        if l2_regularization_strength < 0.0:
            raise ValueError("l2_regularization_strength %f needs to be positive or zero"
                             % l2_regularization_strength)
        if l2_shrinkage_regularization_strength < 0.0:
            raise ValueError("l2_shrinkage_regularization_strength %f needs to be positive or zero"
                             % l2_shrinkage_regularization_strength)
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._beta = 0.0 if beta is None else beta
        self._l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self._accum_name = accum_name
        self._linear_name = linear_name

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(v, self._initial_accumulator_value, "accum", self._accum_name or self._name)
            self._zeros_slot(v, "linear", self._linear_name or self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._l1_tensor = self._hyper(self._l1_regularization_strength, "l1_regularization_strength")
        # beta enters as extra online L2, beta / (2 lr), so that the kernels need no beta input (as in TF).
        l2 = self._l2_regularization_strength
        if self._beta != 0.0:
            lr = self._learning_rate_tensor
            l2 = math_ops.add(_ops.convert_to_tensor(l2, dtype=lr.dtype),
                              math_ops.divide(_ops.convert_to_tensor(self._beta, dtype=lr.dtype),
                                              math_ops.multiply(_ops.convert_to_tensor(2.0, dtype=lr.dtype),
                                                                math_ops.maximum(lr, _ops.convert_to_tensor(
                                                                    1e-36, dtype=lr.dtype)))))
        self._adjusted_l2_tensor = self._hyper(l2, "adjusted_l2_regularization_strength")
        self._l2_shrinkage_tensor = self._hyper(self._l2_shrinkage_regularization_strength,
                                                "l2_shrinkage_regularization_strength")
        self._learning_rate_power_tensor = self._hyper(self._learning_rate_power, "learning_rate_power")

    def _apply_dense(self, grad, var):
        accum, linear = self.get_slot(var, "accum"), self.get_slot(var, "linear")
        cast = lambda t: optimizer._cast(t, var.dtype)  # noqa: E731
        lr, l1, l2, power = (cast(t) for t in (self._learning_rate_tensor, self._l1_tensor, self._adjusted_l2_tensor,
                                               self._learning_rate_power_tensor))
        refs = [var._ref(), accum._ref(), linear._ref(), grad]
        attrs = {"use_locking": bool(self._use_locking)}
        if self._l2_shrinkage_regularization_strength <= 0.0:
            return _ops.apply_op("ApplyFtrl", refs + [lr, l1, l2, power], attrs, name="ApplyFtrl")
        return _ops.apply_op("ApplyFtrlV2", refs + [lr, l1, l2, cast(self._l2_shrinkage_tensor), power], attrs,
                             name="ApplyFtrlV2")
