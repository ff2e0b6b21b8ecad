"""Learning-rate schedules of the global step (TF1's tf.train.*_decay), built from elementwise ops."""
import math

from ..framework import ops as _ops
from ..ops import math_ops

__all__ = ["exponential_decay", "inverse_time_decay", "natural_exp_decay", "polynomial_decay",
           "piecewise_constant", "cosine_decay"]


def _as(x, dtype):
    """`x` as a tensor of `dtype`: Python numbers converted directly, tensors cast when needed."""
    if _ops.is_tensor(x):
        t = _ops.convert_to_tensor(x)
        return t if t.dtype is dtype else math_ops.cast(t, dtype)
    return _ops.convert_to_tensor(x, dtype=dtype)


def _op(op_type, *inputs, name=None):
    return _ops.apply1(op_type, list(inputs), name=name)


def _check_step(global_step, fn):
    if global_step is None:
        raise ValueError("global_step is required for %s." % fn)


def _progress(learning_rate, global_step, decay_steps, staircase):
    """(learning rate, global_step / decay_steps, floored when staircase), in the learning rate's dtype."""
    lr = _ops.convert_to_tensor(learning_rate, name="learning_rate")
    p = _op("RealDiv", _as(global_step, lr.dtype), _as(decay_steps, lr.dtype))
    if staircase:
        p = _op("Floor", p)
    return lr, p


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """learning_rate * decay_rate ^ (global_step / decay_steps)."""
    _check_step(global_step, "exponential_decay")
    with _ops.name_scope(name, "ExponentialDecay") as scope:
        lr, p = _progress(learning_rate, global_step, decay_steps, staircase)
        return _op("Mul", lr, _op("Pow", _as(decay_rate, lr.dtype), p), name=scope)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """learning_rate * exp(-decay_rate * global_step / decay_steps)."""
    _check_step(global_step, "natural_exp_decay")
    with _ops.name_scope(name, "NaturalExpDecay") as scope:
        lr, p = _progress(learning_rate, global_step, decay_steps, staircase)
        exponent = _op("Exp", _op("Neg", _op("Mul", _as(decay_rate, lr.dtype), p)))
        return _op("Mul", lr, exponent, name=scope)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """learning_rate / (1 + decay_rate * global_step / decay_steps)."""
    _check_step(global_step, "inverse_time_decay")
    with _ops.name_scope(name, "InverseTimeDecay") as scope:
        lr, p = _progress(learning_rate, global_step, decay_steps, staircase)
        denom = _op("Add", _as(1, lr.dtype), _op("Mul", _as(decay_rate, lr.dtype), p))
        return _op("RealDiv", lr, denom, name=scope)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                     name=None):
    """(learning_rate - end) * (1 - step / decay_steps) ^ power + end, with step clipped at decay_steps, or
    with `cycle` decay_steps stretched to the next multiple of itself past the step."""
    _check_step(global_step, "polynomial_decay")
    with _ops.name_scope(name, "PolynomialDecay") as scope:
        lr = _ops.convert_to_tensor(learning_rate, name="learning_rate")
        dt = lr.dtype
        step = _as(global_step, dt)
        steps = _as(decay_steps, dt)
        if cycle:
            # ceil(step / steps), but at least 1 so that step 0 does not divide by zero
            mult = _op("Ceil", _op("RealDiv", step, steps))
            one = _as(1, dt)
            mult = _op("Select", _op("Equal", step, _as(0, dt)), one, mult)
            steps = _op("Mul", steps, mult)
        else:
            step = _op("Minimum", step, steps)
        frac = _op("Sub", _as(1, dt), _op("RealDiv", step, steps))
        end = _as(end_learning_rate, dt)
        return _op("Add", _op("Mul", _op("Sub", lr, end), _op("Pow", frac, _as(power, dt))), end, name=scope)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)
    (Loshchilov & Hutter's SGDR without restarts)."""
    _check_step(global_step, "cosine_decay")
    with _ops.name_scope(name, "CosineDecay") as scope:
        lr = _ops.convert_to_tensor(learning_rate, name="learning_rate")
        dt = lr.dtype
        steps = _as(decay_steps, dt)
        fraction = _op("RealDiv", _op("Minimum", _as(global_step, dt), steps), steps)
        cosine = _op("Mul", _as(0.5, dt), _op("Add", _as(1, dt), _op("Cos", _op("Mul", _as(math.pi, dt), fraction))))
        decayed = _op("Add", _op("Mul", _as(1 - alpha, dt), cosine), _as(alpha, dt))
        return _op("Mul", lr, decayed, name=scope)


def piecewise_constant(x, boundaries, values, name=None):
    """values[0] while x <= boundaries[0], values[i] while boundaries[i-1] < x <= boundaries[i], and
    values[-1] past the last boundary."""
    if len(values) != len(boundaries) + 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    with _ops.name_scope(name, "PiecewiseConstant") as scope:
        x = _ops.convert_to_tensor(x)
        vals = [_ops.convert_to_tensor(v) for v in values]
        for v in vals[1:]:
            if v.dtype is not vals[0].dtype:
                raise ValueError("Values must have elements all with the same dtype (%s vs %s)."
                                 % (vals[0].dtype.name, v.dtype.name))
        out = vals[-1]
        for i in reversed(range(len(boundaries))):
            cond = _op("LessEqual", x, _as(boundaries[i], x.dtype))
            out = _op("Select", cond, vals[i], out, name=scope if i == 0 else None)
        return out
