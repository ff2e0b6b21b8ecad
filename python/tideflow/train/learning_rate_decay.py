"""Learning-rate schedules of the global step (TF1's tf.train.*_decay), built from elementwise ops."""
import math

from ..framework import ops as _ops
from ..ops import math_ops, random_ops

__all__ = ["exponential_decay", "inverse_time_decay", "natural_exp_decay", "polynomial_decay",
           "piecewise_constant", "cosine_decay", "cosine_decay_restarts", "linear_cosine_decay",
           "noisy_linear_cosine_decay"]


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
    """learning_rate * exp(-decay_rate * global_step / decay_steps), built as TF builds it: exponential_decay
    with the rate exp(-decay_rate) (so its node is named ExponentialDecay too)."""
    _check_step(global_step, "natural_exp_decay")
    rate = decay_rate if _ops.is_tensor(decay_rate) else _ops.convert_to_tensor(decay_rate)
    return exponential_decay(learning_rate, global_step, decay_steps, _op("Exp", _op("Neg", rate)),
                             staircase=staircase, name=name)


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


def cosine_decay_restarts(learning_rate, global_step, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                          name=None):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter): period i lasts
    first_decay_steps * t_mul^i steps and starts from m_mul^i times the learning rate;
    learning_rate * ((1 - alpha) * 0.5 * m_mul^i * (1 + cos(pi * fraction of period i done)) + alpha)."""
    _check_step(global_step, "cosine_decay_restarts")
    with _ops.name_scope(name, "SGDRDecay") as scope:
        lr = _ops.convert_to_tensor(learning_rate, name="initial_learning_rate")
        dt = lr.dtype
        alpha_t, t_mul_t, m_mul_t, one = _as(alpha, dt), _as(t_mul, dt), _as(m_mul, dt), _as(1.0, dt)
        done = _op("RealDiv", _as(global_step, dt), _as(first_decay_steps, dt))

        def uniform():
            i = _op("Floor", done)
            return i, _op("Sub", done, i)

        def geometric():
            # Periods 0..i-1 together last (1 - t_mul^i) / (1 - t_mul) first periods.
            i = _op("Floor", _op("RealDiv", _op("Log", _op("Sub", one, _op("Mul", done, _op("Sub", one, t_mul_t)))),
                                 _op("Log", t_mul_t)))
            power = _op("Pow", t_mul_t, i)
            sum_r = _op("RealDiv", _op("Sub", one, power), _op("Sub", one, t_mul_t))
            return i, _op("RealDiv", _op("Sub", done, sum_r), power)
        if _ops.is_tensor(t_mul):
            # TF chooses with a cond; both branches are cheap scalars, and the geometric one's NaN at
            # t_mul = 1 is not selected.
            is_one = _op("Equal", t_mul_t, one)
            (i_u, f_u), (i_g, f_g) = uniform(), geometric()
            i_restart, fraction = _op("Select", is_one, i_u, i_g), _op("Select", is_one, f_u, f_g)
        else:
            i_restart, fraction = uniform() if t_mul == 1.0 else geometric()
        m_fac = _op("Pow", m_mul_t, i_restart)
        cosine = _op("Mul", _op("Mul", _as(0.5, dt), m_fac),
                     _op("Add", one, _op("Cos", _op("Mul", _as(math.pi, dt), fraction))))
        decayed = _op("Add", _op("Mul", _op("Sub", one, alpha_t), cosine), alpha_t)
        return _op("Mul", lr, decayed, name=scope)


def _linear_cosine(learning_rate, global_step, decay_steps, num_periods, alpha, beta, noise, name, default_name):
    """learning_rate * ((alpha + linear) * 0.5 * (1 + cos(2 pi num_periods step / decay_steps)) + beta), with
    linear = (decay_steps - step) / decay_steps and step clipped at decay_steps; `noise(step, linear)` may
    perturb the linear part."""
    with _ops.name_scope(name, default_name) as scope:
        lr = _ops.convert_to_tensor(learning_rate, name="initial_learning_rate")
        dt = lr.dtype
        steps = _as(decay_steps, dt)
        step = _op("Minimum", _as(global_step, dt), steps)
        linear = _op("RealDiv", _op("Sub", steps, step), steps)
        if noise is not None:
            linear = noise(step, linear, dt)
        done = _op("RealDiv", step, steps)
        fraction = _op("Mul", _op("Mul", _as(2.0, dt), _as(num_periods, dt)), done)
        cosine = _op("Mul", _as(0.5, dt), _op("Add", _as(1.0, dt), _op("Cos", _op("Mul", _as(math.pi, dt), fraction))))
        decayed = _op("Add", _op("Mul", _op("Add", _as(alpha, dt), linear), cosine), _as(beta, dt))
        return _op("Mul", lr, decayed, name=scope)


def linear_cosine_decay(learning_rate, global_step, decay_steps, num_periods=0.5, alpha=0.0, beta=0.001, name=None):
    """Linear cosine decay (Bello et al., Neural Optimizer Search): a cosine of num_periods periods over
    decay_steps, damped by a linear decay to zero."""
    _check_step(global_step, "linear_cosine_decay")
    return _linear_cosine(learning_rate, global_step, decay_steps, num_periods, alpha, beta, None, name,
                          "LinearCosineDecay")


def noisy_linear_cosine_decay(learning_rate, global_step, decay_steps, initial_variance=1.0, variance_decay=0.55,
                              num_periods=0.5, alpha=0.0, beta=0.001, name=None):
    """linear_cosine_decay with Gaussian noise of variance initial_variance / (1 + step)^variance_decay added
    to the linear part, a new draw on every run."""
    _check_step(global_step, "noisy_linear_cosine_decay")

    def noise(step, linear, dt):
        variance = _op("RealDiv", _as(initial_variance, dt),
                       _op("Pow", _op("Add", _as(1.0, dt), step), _as(variance_decay, dt)))
        return _op("Add", linear, random_ops.random_normal([], stddev=_op("Sqrt", variance), dtype=dt))
    return _linear_cosine(learning_rate, global_step, decay_steps, num_periods, alpha, beta, noise, name,
                          "NoisyLinearCosineDecay")
