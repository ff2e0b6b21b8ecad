"""Op-table rows of the elementwise family (cpp/ops/elementwise_*.cc, python/tideflow/ops/math_ops.py)."""
import numpy as np
import scipy.special as sp

from tideflow.framework import ops as _ops

from .common import HALF, SIGNED_SMALL_INT, SMALL_INT, OpRow, add_dtypes, np_dtype

FLOATS = ("float32", "float64")
NUMERIC = ("float32", "float64", "int32", "int64")
POD = NUMERIC + ("bool",)
ALL_POD = POD + HALF + SMALL_INT

# Same shape, (2,3) vs (3,), (2,1) vs (1,3), scalar on either side, scalar-scalar, empty, rank 3 vs 2.
BINARY = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), ()), ((), ()),
          ((0, 3), (3,)), ((3, 1, 4), (2, 1))]
UNARY = [((2, 3),), ((),), ((0, 3),), ((3, 1, 4),)]
SAME3 = [((2, 3),) * 3, ((),) * 3, ((0, 3),) * 3]


def _away_from_zero(a, eps=0.3):
    """Moves values at least eps away from 0 (poles of division, kinks of abs/relu/sign)."""
    a = np.asarray(a)
    if a.dtype.kind == "u":
        return np.where(a == 0, 1, a).astype(a.dtype)
    if a.dtype.kind == "i":
        return np.where(a >= 0, a + 1, a - 1).astype(a.dtype)
    if a.dtype.kind == "b":
        return a
    return np.where(a >= 0, a + eps, a - eps).astype(a.dtype)


def _divisor_nonzero(arrays):
    return [arrays[0], _away_from_zero(arrays[1])]


def _all_away_from_zero(arrays):
    return [_away_from_zero(a) for a in arrays]


def _small_ints(rng, shapes, dtype):
    """Values that tie often, so equality and <= are exercised on equal elements too."""
    return [rng.randint(-2, 3, size=s).astype(dtype) for s in shapes]


def _pow_inputs(rng, shapes, dtype):
    if np.dtype(dtype).kind == "i":
        return [rng.randint(-3, 4, size=shapes[0]).astype(dtype), rng.randint(0, 4, size=shapes[1]).astype(dtype)]
    return [rng.uniform(0.3, 2.0, size=shapes[0]).astype(dtype), rng.uniform(-2, 2, size=shapes[1]).astype(dtype)]


def _halves(rng, shapes, dtype):
    """Multiples of 0.5, so half of the values are ties for round-half-to-even."""
    return [(rng.randint(-6, 7, size=s) / 2.0).astype(dtype) for s in shapes]


def _specials(rng, shapes, dtype):
    """NaN, infinities and ordinary values, for the float tests."""
    return [np.resize(np.array([np.nan, np.inf, -np.inf, 0.0, -1.5, 3.0], dtype), s) for s in shapes]


def _off_poles(arrays):
    """Moves values <= 0.3 to the middle of their unit interval, away from Gamma's poles at 0, -1, -2..."""
    out = []
    for a in arrays:
        fl = np.floor(a)
        out.append(np.where(a <= 0.3, fl + 0.25 + 0.5 * (a - fl), a).astype(a.dtype))
    return out


def _polygamma_inputs(rng, shapes, dtype):
    """Orders 0..3 and x > 0.3, where the finite-difference check stays well conditioned."""
    return [rng.randint(0, 4, size=shapes[0]).astype(dtype), rng.uniform(0.3, 4.0, size=shapes[1]).astype(dtype)]


def _zeta_inputs(rng, shapes, dtype):
    return [rng.uniform(1.5, 4.0, size=shapes[0]).astype(dtype), rng.uniform(0.5, 3.0, size=shapes[1]).astype(dtype)]


def _x_zero_specials(rng, shapes, dtype):
    """x == 0 against y of 0, inf, NaN and ordinary values, where xlogy and xdivy are 0."""
    return [np.array([0, 0, 0, 0, 1.5, -2], dtype), np.array([0, np.inf, np.nan, 2, 0.5, 4], dtype)]


def _xlogy(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0, x * np.log(y)).astype(x.dtype)


def _xdivy(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0, x / y).astype(x.dtype)


def _selu(x):
    scale, alpha = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
    return (scale * np.where(x < 0, alpha * np.expm1(np.minimum(x, 0)), x)).astype(x.dtype)


def _truncatediv(x, y):
    return np.trunc(np.true_divide(x, y)).astype(x.dtype)


def _y_positive(arrays):
    return [arrays[0], np.abs(arrays[1]) + np.asarray(0.3, arrays[1].dtype)]


def _op(op_type):
    """Builds a raw op by type (for ops without a public Python function, e.g. the fused gradients)."""
    return lambda tf, *xs: _ops.apply1(op_type, list(xs))


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return (1 / (1 + np.exp(-x))).astype(x.dtype)


def _cast_row(dst):
    # Values in [0, 100], which every dtype holds: out-of-range casts are tests/test_dtypes.py's.
    return OpRow("cast_to_" + dst, lambda tf, x: tf.cast(x, dst), lambda x: x.astype(np_dtype(dst)), UNARY,
                 dtypes=ALL_POD, grad=False, low=0, high=100, extra={"native_ref": True})


ROWS = [
    # ---- binary arithmetic ----
    OpRow("add", lambda tf, x, y: tf.add(x, y), np.add, BINARY, dtypes=NUMERIC),
    OpRow("add_operator", lambda tf, x, y: x + y, np.add, BINARY[:2], dtypes=NUMERIC),
    OpRow("subtract", lambda tf, x, y: tf.subtract(x, y), np.subtract, BINARY, dtypes=NUMERIC),
    OpRow("multiply", lambda tf, x, y: tf.multiply(x, y), np.multiply, BINARY, dtypes=NUMERIC),
    OpRow("realdiv", lambda tf, x, y: tf.realdiv(x, y), np.divide, BINARY, dtypes=FLOATS,
          avoid=_divisor_nonzero, grad_tol=1e-3),
    OpRow("div_no_nan", lambda tf, x, y: tf.div_no_nan(x, y), np.divide, BINARY, dtypes=FLOATS,
          avoid=_divisor_nonzero, grad_tol=1e-3),
    OpRow("div_no_nan[zeros]", lambda tf, x, y: tf.math.divide_no_nan(x, y),
          lambda x, y: np.where(y == 0, 0, x / np.where(y == 0, 1, y)).astype(x.dtype), [((2, 3), (2, 3))],
          dtypes=FLOATS, grad=False,
          make=lambda rng, shapes, dt: [np.array([[1, np.inf, np.nan], [2, 3, 0]], dt),
                                        np.array([[0, 0, 0], [2, 0.5, 0]], dt)]),
    OpRow("truediv", lambda tf, x, y: tf.truediv(x, y), np.true_divide, BINARY, dtypes=NUMERIC,
          avoid=_divisor_nonzero, grad_tol=1e-3),
    OpRow("floordiv", lambda tf, x, y: tf.floordiv(x, y), np.floor_divide, BINARY, dtypes=NUMERIC,
          avoid=_divisor_nonzero, grad=False, low=-9, high=9),
    OpRow("floormod", lambda tf, x, y: tf.floormod(x, y), np.mod, BINARY, dtypes=NUMERIC,
          avoid=_divisor_nonzero, low=-9, high=9, grad_tol=1e-3),
    OpRow("pow", lambda tf, x, y: tf.pow(x, y), np.power, BINARY, dtypes=NUMERIC, make=_pow_inputs,
          grad_tol=1e-3),
    OpRow("maximum", lambda tf, x, y: tf.maximum(x, y), np.maximum, BINARY, dtypes=NUMERIC),
    OpRow("minimum", lambda tf, x, y: tf.minimum(x, y), np.minimum, BINARY, dtypes=NUMERIC),
    OpRow("squared_difference", lambda tf, x, y: tf.squared_difference(x, y), lambda x, y: (x - y) ** 2,
          BINARY, dtypes=NUMERIC),
    OpRow("scalar_mul", lambda tf, x: tf.scalar_mul(2.5, x), lambda x: (2.5 * x).astype(x.dtype), UNARY),

    OpRow("truncatediv", lambda tf, x, y: tf.truncatediv(x, y), _truncatediv, BINARY, dtypes=NUMERIC,
          avoid=_divisor_nonzero, grad=False, low=-9, high=9),
    OpRow("truncatemod", lambda tf, x, y: tf.truncatemod(x, y), np.fmod, BINARY, dtypes=NUMERIC,
          avoid=_divisor_nonzero, grad=False, low=-9, high=9),
    OpRow("atan2", lambda tf, y, x: tf.atan2(y, x), np.arctan2, BINARY, avoid=_all_away_from_zero, grad_tol=1e-3),
    OpRow("xlogy", lambda tf, x, y: tf.math.xlogy(x, y), _xlogy, BINARY, avoid=_y_positive, grad_tol=1e-3),
    OpRow("xlogy[x=0]", lambda tf, x, y: tf.math.xlogy(x, y), _xlogy, [((6,), (6,))], grad=False,
          make=_x_zero_specials),
    OpRow("xdivy", lambda tf, x, y: tf.math.xdivy(x, y), _xdivy, BINARY, avoid=_divisor_nonzero, grad_tol=1e-3),
    OpRow("xdivy[x=0]", lambda tf, x, y: tf.math.xdivy(x, y), _xdivy, [((6,), (6,))], grad=False,
          make=_x_zero_specials),
    OpRow("polygamma", lambda tf, n, x: tf.math.polygamma(n, x),
          lambda n, x: sp.polygamma(n.astype(int), x).astype(x.dtype), BINARY[:6], make=_polygamma_inputs,
          grad_inputs=[1], grad_tol=1e-3),
    OpRow("zeta", lambda tf, x, q: tf.math.zeta(x, q), lambda x, q: sp.zeta(x, q).astype(x.dtype), BINARY[:6],
          make=_zeta_inputs, grad_inputs=[1], grad_tol=1e-3),

    # ---- comparisons and logic (no gradients) ----
    OpRow("equal", lambda tf, x, y: tf.equal(x, y), np.equal, BINARY, dtypes=POD, grad=False),
    OpRow("equal_ties", lambda tf, x, y: tf.equal(x, y), np.equal, BINARY[:3], dtypes=NUMERIC, make=_small_ints,
          grad=False),
    OpRow("not_equal", lambda tf, x, y: tf.not_equal(x, y), np.not_equal, BINARY, dtypes=POD,
          grad=False),
    OpRow("less", lambda tf, x, y: tf.less(x, y), np.less, BINARY, dtypes=NUMERIC, make=_small_ints, grad=False),
    OpRow("less_equal", lambda tf, x, y: tf.less_equal(x, y), np.less_equal, BINARY, dtypes=NUMERIC,
          make=_small_ints, grad=False),
    OpRow("greater", lambda tf, x, y: tf.greater(x, y), np.greater, BINARY, dtypes=NUMERIC, make=_small_ints,
          grad=False),
    OpRow("greater_equal", lambda tf, x, y: tf.greater_equal(x, y), np.greater_equal, BINARY, dtypes=NUMERIC,
          make=_small_ints, grad=False),
    OpRow("logical_and", lambda tf, x, y: tf.logical_and(x, y), np.logical_and, BINARY, dtypes=("bool",),
          grad=False),
    OpRow("logical_or", lambda tf, x, y: tf.logical_or(x, y), np.logical_or, BINARY, dtypes=("bool",), grad=False),
    OpRow("logical_xor", lambda tf, x, y: tf.logical_xor(x, y), np.logical_xor, BINARY, dtypes=("bool",),
          grad=False),
    OpRow("logical_not", lambda tf, x: tf.logical_not(x), np.logical_not, UNARY, dtypes=("bool",), grad=False),

    # ---- unary ----
    OpRow("negative", lambda tf, x: tf.negative(x), np.negative, UNARY, dtypes=NUMERIC),
    OpRow("square", lambda tf, x: tf.square(x), np.square, UNARY, dtypes=NUMERIC),
    OpRow("sqrt", lambda tf, x: tf.sqrt(x), np.sqrt, UNARY, low=0.2, high=3.0),
    OpRow("rsqrt", lambda tf, x: tf.rsqrt(x), lambda x: (1 / np.sqrt(x)).astype(x.dtype), UNARY, low=0.3,
          high=3.0, grad_tol=1e-3),
    OpRow("exp", lambda tf, x: tf.exp(x), np.exp, UNARY),
    OpRow("log", lambda tf, x: tf.log(x), np.log, UNARY, low=0.2, high=3.0),
    OpRow("log1p", lambda tf, x: tf.log1p(x), np.log1p, UNARY, low=-0.7, high=3.0),
    OpRow("abs", lambda tf, x: tf.abs(x), np.abs, UNARY, dtypes=NUMERIC, avoid=_all_away_from_zero),
    OpRow("sign", lambda tf, x: tf.sign(x), np.sign, UNARY + [((5,),)], dtypes=NUMERIC,
          make=lambda rng, shapes, dt: [np.resize(np.array([-2, 0, 3], dt), s) for s in shapes], grad=False),
    OpRow("sign_grad", lambda tf, x: tf.sign(x), np.sign, UNARY, dtypes=FLOATS, avoid=_all_away_from_zero),
    OpRow("sin", lambda tf, x: tf.sin(x), np.sin, UNARY),
    OpRow("cos", lambda tf, x: tf.cos(x), np.cos, UNARY),
    OpRow("tanh", lambda tf, x: tf.tanh(x), np.tanh, UNARY, low=-3, high=3),
    OpRow("sigmoid", lambda tf, x: tf.sigmoid(x), _sigmoid, UNARY, low=-6, high=6),
    OpRow("sigmoid_extreme", lambda tf, x: tf.sigmoid(x), _sigmoid, [((4,),)], grad=False,
          make=lambda rng, shapes, dt: [np.array([-800, -30, 30, 800], dt)]),
    OpRow("expm1", lambda tf, x: tf.expm1(x), np.expm1, UNARY),
    OpRow("expm1_tiny", lambda tf, x: tf.expm1(x), np.expm1, [((4,),)], grad=False, rtol=1e-6,
          make=lambda rng, shapes, dt: [np.array([1e-10, -3e-8, 1e-5, 0], dt)]),
    OpRow("erf", lambda tf, x: tf.erf(x), sp.erf, UNARY),
    OpRow("erfc", lambda tf, x: tf.erfc(x), sp.erfc, UNARY),
    OpRow("lgamma", lambda tf, x: tf.lgamma(x), sp.gammaln, UNARY, low=-3, high=5, avoid=_off_poles,
          grad_tol=1e-3),
    OpRow("digamma", lambda tf, x: tf.digamma(x), sp.digamma, UNARY, low=-3, high=5, avoid=_off_poles,
          grad_tol=1e-3),
    OpRow("digamma_large", lambda tf, x: tf.digamma(x), sp.digamma, [((5,),)], grad=False,
          make=lambda rng, shapes, dt: [np.array([9.5, 10, 123.25, 1e6, 1e20], dt)]),
    OpRow("tan", lambda tf, x: tf.tan(x), np.tan, UNARY, low=-1.2, high=1.2, grad_tol=1e-3),
    OpRow("asin", lambda tf, x: tf.asin(x), np.arcsin, UNARY, low=-0.9, high=0.9, grad_tol=1e-3),
    OpRow("acos", lambda tf, x: tf.acos(x), np.arccos, UNARY, low=-0.9, high=0.9, grad_tol=1e-3),
    OpRow("atan", lambda tf, x: tf.atan(x), np.arctan, UNARY, low=-3, high=3),
    OpRow("sinh", lambda tf, x: tf.sinh(x), np.sinh, UNARY),
    OpRow("cosh", lambda tf, x: tf.cosh(x), np.cosh, UNARY),
    OpRow("asinh", lambda tf, x: tf.asinh(x), np.arcsinh, UNARY, low=-3, high=3),
    OpRow("acosh", lambda tf, x: tf.acosh(x), np.arccosh, UNARY, low=1.2, high=4, grad_tol=1e-3),
    OpRow("atanh", lambda tf, x: tf.atanh(x), np.arctanh, UNARY, low=-0.9, high=0.9, grad_tol=1e-3),
    OpRow("log_sigmoid", lambda tf, x: tf.math.log_sigmoid(x), lambda x: -np.logaddexp(0, -x).astype(x.dtype),
          UNARY + [((3,),)], low=-6, high=6),
    OpRow("log_sigmoid_extreme", lambda tf, x: tf.log_sigmoid(x), lambda x: -np.logaddexp(0, -x).astype(x.dtype),
          [((6,),)], grad=False, make=lambda rng, shapes, dt: [np.array([-1000, -100, -20, 20, 100, 1000], dt)]),
    OpRow("selu", lambda tf, x: tf.nn.selu(x), _selu, UNARY, low=-3, high=3, avoid=_all_away_from_zero),
    OpRow("selu_large", lambda tf, x: tf.nn.selu(x), _selu, [((4,),)], make=lambda rng, shapes, dt: [
          np.array([-200, -0.5, 0.5, 200], dt)]),
    OpRow("swish", lambda tf, x: tf.nn.swish(x), lambda x: (x * _sigmoid(x)).astype(x.dtype), UNARY, low=-4,
          high=4),
    OpRow("reciprocal", lambda tf, x: tf.reciprocal(x), np.reciprocal, UNARY, avoid=_all_away_from_zero,
          grad_tol=1e-3),
    OpRow("relu", lambda tf, x: tf.nn.relu(x) if hasattr(tf.nn, "relu") else tf.relu(x),
          lambda x: np.maximum(x, 0).astype(x.dtype), UNARY, dtypes=NUMERIC, avoid=_all_away_from_zero),
    OpRow("floor", lambda tf, x: tf.floor(x), np.floor, UNARY, grad=False, low=-4, high=4),
    OpRow("ceil", lambda tf, x: tf.ceil(x), np.ceil, UNARY, grad=False, low=-4, high=4),
    OpRow("round", lambda tf, x: tf.round(x), np.round, UNARY + [((13,),)], dtypes=NUMERIC, grad=False,
          make=_halves),
    OpRow("rint", lambda tf, x: tf.rint(x), np.rint, UNARY + [((13,),)], grad=False, make=_halves),

    OpRow("is_nan", lambda tf, x: tf.is_nan(x), np.isnan, UNARY + [((6,),)], grad=False, make=_specials),
    OpRow("is_inf", lambda tf, x: tf.is_inf(x), np.isinf, UNARY + [((6,),)], grad=False, make=_specials),
    OpRow("is_finite", lambda tf, x: tf.is_finite(x), np.isfinite, UNARY + [((6,),)], grad=False, make=_specials),

    # ---- Select (where_v2 broadcasting), AddN, casts, fill-likes ----
    OpRow("where", lambda tf, c, x, y: tf.where(c, x, y), np.where,
          [((2, 3),) * 3, ((2, 3), (3,), ()), ((2, 1), (1, 3), (2, 3)), ((), (2, 3), (2, 3)), ((3,), (2, 3), (2, 1)),
           ((0, 3), (3,), (0, 3))],
          dtypes=POD, input_dtypes=lambda dt: ["bool", dt, dt]),
    OpRow("add_n", lambda tf, a, b, c: tf.add_n([a, b, c]), lambda a, b, c: a + b + c, SAME3, dtypes=NUMERIC),
    OpRow("add_n_two", lambda tf, a, b: tf.add_n([a, b]), np.add, [((4, 5), (4, 5))], dtypes=NUMERIC),
] + [_cast_row(d) for d in ALL_POD] + [
    OpRow("ZerosLike", _op("ZerosLike"), np.zeros_like, UNARY, dtypes=POD, grad=False),
    OpRow("OnesLike", _op("OnesLike"), np.ones_like, UNARY, dtypes=POD, grad=False),

    # ---- fused gradient kernels; their own rules give second-order gradients ----
    OpRow("ReluGrad", _op("ReluGrad"), lambda g, x: np.where(x > 0, g, 0).astype(g.dtype),
          [((2, 3), (2, 3)), ((), ()), ((0, 3), (0, 3))], avoid=_all_away_from_zero),
    OpRow("SigmoidGrad", _op("SigmoidGrad"), lambda y, dy: dy * y * (1 - y), [((2, 3), (2, 3)), ((), ())]),
    OpRow("TanhGrad", _op("TanhGrad"), lambda y, dy: dy * (1 - y * y), [((2, 3), (2, 3)), ((), ())]),
]

# float16 and bfloat16 (HALF) and the 8- and 16-bit integers where TensorFlow's CPU kernels have them
# (cpp/dtype.h: Note [dtype sets]).
_ARITH = HALF + SMALL_INT
_ADD = HALF + ("int8", "int16", "uint8")  # TensorFlow's Add has no uint16 kernel (AddV2 has)
add_dtypes(ROWS, {
    "add": _ADD, "add_operator": _ADD, "subtract": _ARITH, "multiply": _ARITH, "realdiv": HALF,
    "div_no_nan": HALF, "div_no_nan[zeros]": HALF, "truediv": _ARITH, "floordiv": _ARITH, "floormod": _ARITH,
    "pow": HALF + SIGNED_SMALL_INT, "maximum": _ARITH, "minimum": _ARITH, "squared_difference": HALF,
    "scalar_mul": HALF, "truncatediv": _ARITH, "atan2": HALF, "xlogy": HALF, "xlogy[x=0]": HALF, "xdivy": HALF,
    "xdivy[x=0]": HALF,
    "equal": _ARITH, "equal_ties": _ARITH, "not_equal": _ARITH, "less": _ARITH, "less_equal": _ARITH,
    "greater": _ARITH, "greater_equal": _ARITH,
    "negative": HALF + SIGNED_SMALL_INT, "square": _ARITH, "sqrt": HALF, "rsqrt": HALF, "exp": HALF, "log": HALF,
    "log1p": HALF, "abs": HALF + SIGNED_SMALL_INT, "sign": HALF + SIGNED_SMALL_INT, "sign_grad": HALF, "sin": HALF,
    "cos": HALF, "tanh": HALF, "sigmoid": HALF, "sigmoid_extreme": HALF, "expm1": HALF, "erf": HALF, "erfc": HALF,
    "lgamma": ("float16",), "digamma": ("float16",), "tan": HALF, "asin": HALF, "acos": HALF, "atan": HALF,
    "sinh": HALF, "cosh": HALF, "asinh": HALF, "acosh": HALF, "atanh": HALF, "swish": HALF, "reciprocal": HALF,
    "relu": _ARITH, "floor": HALF, "ceil": HALF, "round": _ARITH, "is_nan": HALF, "is_inf": HALF,
    "is_finite": HALF, "where": _ARITH, "add_n": _ARITH, "add_n_two": _ARITH, "ZerosLike": _ARITH,
    "OnesLike": _ARITH, "ReluGrad": HALF, "SigmoidGrad": HALF, "TanhGrad": HALF,
})
