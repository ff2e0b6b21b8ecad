"""tf.train.ExponentialMovingAverage: shadow variables `<var>/ExponentialMovingAverage` updated by
shadow -= (1 - decay) * (shadow - var)."""
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..ops import math_ops, state_ops
from . import slot_creator

__all__ = ["ExponentialMovingAverage"]

# TF's GraphKeys.MOVING_AVERAGE_VARIABLES: the variables that have a moving average.
MOVING_AVERAGE_VARIABLES = "moving_average_variables"


def _op(op_type, *inputs, name=None):
    return _ops.apply1(op_type, list(inputs), name=name)


def assign_moving_average(variable, value, decay, name=None):
    """variable -= (variable - value) * (1 - decay), as one AssignSub named after the scope."""
    with _ops.name_scope(name, "AssignMovingAvg") as scope:
        dt = variable.dtype
        one_minus = _op("Sub", _ops.convert_to_tensor(1.0, dtype=decay.dtype), decay, name="decay")
        one_minus = one_minus if one_minus.dtype is dt else math_ops.cast(one_minus, dt)
        step = _op("Mul", _op("Sub", _ops.convert_to_tensor(variable), _ops.convert_to_tensor(value)), one_minus)
        return state_ops.assign_sub(variable, step, name=scope)


class ExponentialMovingAverage:
    """Maintains moving averages of variables. `apply(var_list)` creates the shadow variables (starting at
    each variable's initialized value) and returns the op that updates them; with `num_updates` the decay
    is min(decay, (1 + num_updates) / (10 + num_updates)), faster early in training."""

    def __init__(self, decay, num_updates=None, zero_debias=False, name="ExponentialMovingAverage"):
        if zero_debias:
            raise NotImplementedError("zero_debias is only used for non-Variable tensors, which "
                                      "ExponentialMovingAverage.apply does not support here")
        self._decay = decay
        self._num_updates = num_updates
        self._name = name
        self._averages = {}  # id(variable) -> (variable, shadow variable)

    name = property(lambda self: self._name)

    def apply(self, var_list=None):
        if var_list is None:
            var_list = state_ops.trainable_variables()
        var_list = list(var_list)
        for var in var_list:
            if not isinstance(var, state_ops.Variable):
                raise TypeError("ExponentialMovingAverage.apply needs tf.Variable objects, got %r" % (var,))
            if var.dtype not in (_dtypes.float32, _dtypes.float64):
                raise TypeError("The variables must be half, float, or double: %s" % var.name)
            if id(var) in self._averages:
                raise ValueError("Moving average already computed for: %s" % var.name)
        for var in var_list:
            avg = slot_creator.create_slot(var, var.initialized_value, self._name)
            var.graph.add_to_collection(MOVING_AVERAGE_VARIABLES, var)
            self._averages[id(var)] = (var, avg)
        with _ops.name_scope(self._name) as scope:
            decay = _ops.convert_to_tensor(self._decay, name="decay")
            if self._num_updates is not None:
                n = math_ops.cast(self._num_updates, decay.dtype, name="num_updates")
                one, ten = (_ops.convert_to_tensor(c, dtype=decay.dtype) for c in (1.0, 10.0))
                decay = _op("Minimum", decay, _op("RealDiv", _op("Add", one, n), _op("Add", ten, n)))
            updates = [assign_moving_average(self._averages[id(v)][1], v, decay) for v in var_list]
            return state_ops.group(*updates, name=scope)

    def average(self, var):
        entry = self._averages.get(id(var))
        return entry[1] if entry is not None else None

    def average_name(self, var):
        """The name of the shadow variable of `var` (also its name in checkpoints)."""
        return var.op.name + "/" + self._name

    def variables_to_restore(self, moving_avg_variables=None):
        """{checkpoint name: variable} that restores each moving average into its variable (under the
        shadow's name) and every other global variable under its own name, as TensorFlow's."""
        if moving_avg_variables is None:
            moving_avg_variables = state_ops.trainable_variables() + _ops.get_collection(MOVING_AVERAGE_VARIABLES)
        unique = {id(v): v for v in moving_avg_variables}
        name_map = {self.average_name(v): v for v in unique.values()}
        averaged_names = {v.name for v in unique.values()}
        for v in state_ops.global_variables():
            if v.name not in averaged_names and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map
