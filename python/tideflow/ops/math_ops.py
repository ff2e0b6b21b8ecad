"""Elementwise math: tf.add, tf.exp, tf.where, tf.cast... and the Tensor/Variable operator overloads
(cpp/ops/elementwise_*.cc). Names follow TensorFlow 1.x: functions name their node after the op type
("Add"), operators after the Python operator ("add", "truediv"), so graphs read as TF's do."""
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.tensor_shape import dimension_value as _dimension_value

__all__ = [
    "add", "subtract", "multiply", "divide", "truediv", "realdiv", "div", "floordiv", "floor_div", "mod",
    "floormod", "pow", "maximum", "minimum", "round", "add_n", "equal", "not_equal", "less", "less_equal",
    "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "where", "cast", "to_float",
    "to_double", "to_int32", "to_int64", "squared_difference", "scalar_mul", "div_no_nan", "truncatediv",
    "truncatemod", "atan2", "polygamma", "zeta", "log_sigmoid",
]  # xlogy and xdivy are only in tf.math, as in TensorFlow


# ---------------------------------------------------------------------------------------------------
# Conversion and node building

def _pair(x, y, reflected=False):
    """TensorFlow's conversion of binary-op arguments: x converts on its own and y, unless it already is a
    tensor, takes x's dtype (`x * 2` on float32 x multiplies by a float32 2). For a reflected operator
    (`2 - x`) the Python value x takes the tensor y's dtype instead. Two tensors of different dtypes are
    not promoted: the op's shape function raises TypeError naming the node."""
    if x is None or y is None:  # NumPy would quietly make None a NaN
        raise ValueError("None values not supported.")
    if reflected:
        y = _ops.convert_to_tensor(y, name="y")
        x = _ops.convert_to_tensor(x, dtype=y.dtype, name="x")
        return x, y
    x = _ops.convert_to_tensor(x, name="x")
    y = _ops.convert_to_tensor(y, name="y") if _ops.is_tensor(y) else _ops.convert_to_tensor(
        y, dtype=x.dtype, name="y")
    return x, y


def _binary(op_type, x, y, name=None, default_name=None, reflected=False):
    """One binary node; its constants live under its name scope ("add/y"), as in TensorFlow."""
    with _ops.name_scope(name, default_name or op_type, [x, y]) as scope:
        x, y = _pair(x, y, reflected)
        return _ops.apply1(op_type, [x, y], name=scope)


def _unary(op_type, x, name=None):
    return _ops.apply1(op_type, [x], name=name or op_type)


# ---------------------------------------------------------------------------------------------------
# Arithmetic

def add(x, y, name=None):
    """x + y elementwise, with NumPy broadcasting (a Add node); y is converted to x's dtype.

    Raises:
      ValueError: the shapes do not broadcast. TypeError: the dtypes differ.
    """
    return _binary("Add", x, y, name)


def subtract(x, y, name=None):
    """x - y elementwise, with NumPy broadcasting (a Sub node); y is converted to x's dtype.

    Raises:
      ValueError: the shapes do not broadcast. TypeError: the dtypes differ.
    """
    return _binary("Sub", x, y, name)


def multiply(x, y, name=None):
    """x * y elementwise, with NumPy broadcasting (a Mul node); y is converted to x's dtype.

    Raises:
      ValueError: the shapes do not broadcast. TypeError: the dtypes differ.
    """
    return _binary("Mul", x, y, name)


def realdiv(x, y, name=None):
    """x / (real division) y elementwise, with NumPy broadcasting (a RealDiv node); y is converted to x's dtype.

    Raises:
      ValueError: the shapes do not broadcast. TypeError: the dtypes differ.
    """
    return _binary("RealDiv", x, y, name)


def div_no_nan(x, y, name=None):
    """x / y, and 0 wherever y is 0."""
    with _ops.name_scope(name, "div_no_nan", [x, y]) as scope:
        x, y = _pair(x, y, False)
        if x.dtype is not y.dtype:
            raise TypeError("x and y must have the same dtype, got %r != %r" % (x.dtype, y.dtype))
        return _ops.apply1("DivNoNan", [x, y], name=scope)


def _truediv(x, y, name, default_name, reflected=False):
    # Python 3 division: integers divide as floats (TensorFlow's table: float32 for the 8- and 16-bit
    # integers, float64 for int32/int64), floats as they are.
    with _ops.name_scope(name, default_name, [x, y]) as scope:
        x, y = _pair(x, y, reflected)
        if x.dtype is not y.dtype:
            raise TypeError("x and y must have the same dtype, got %r != %r" % (x.dtype, y.dtype))
        if x.dtype.is_bool:
            raise TypeError("Invalid dtype %r in __truediv__" % x.dtype)
        if x.dtype.is_integer:
            to = _dtypes.float64 if x.dtype in (_dtypes.int32, _dtypes.int64) else _dtypes.float32
            x, y = cast(x, to), cast(y, to)
        return _ops.apply1("RealDiv", [x, y], name=scope)


def truediv(x, y, name=None):
    """x / y with Python 3 semantics: int32/int64 operands are cast to float64 first, smaller integers to
    float32."""
    return _truediv(x, y, name, "truediv")


def divide(x, y, name=None):
    """x / y elementwise (Python 3 division: integers give floats, as tf.divide)."""
    return _truediv(x, y, name, "truediv")


def _div(x, y, name, default_name, reflected=False):
    with _ops.name_scope(name, default_name, [x, y]) as scope:
        x, y = _pair(x, y, reflected)
        return _ops.apply1("FloorDiv" if x.dtype.is_integer else "RealDiv", [x, y], name=scope)


def div(x, y, name=None):
    """TF1's Python 2 division: floor division for integers, true division for floats."""
    return _div(x, y, name, "div")


def floordiv(x, y, name=None):
    """Rounds toward negative infinity, for floats too (floor(x / y)); integer division by zero raises
    InvalidArgumentError when run."""
    return _binary("FloorDiv", x, y, name, "floordiv")


def floor_div(x, y, name=None):
    """x // (floor division) y elementwise, with NumPy broadcasting (a FloorDiv node); y is converted to x's dtype.

    Raises:
      ValueError: the shapes do not broadcast. TypeError: the dtypes differ.
    """
    return _binary("FloorDiv", x, y, name)


def floormod(x, y, name=None):
    """Python's remainder: the result has the divisor's sign, x == floordiv(x, y) * y + mod(x, y)."""
    return _binary("FloorMod", x, y, name)


mod = floormod


def truncatediv(x, y, name=None):
    """Division rounding toward zero (C's): -7 / 2 == -3. Integer division by zero raises
    InvalidArgumentError when run."""
    return _binary("TruncateDiv", x, y, name)


def truncatemod(x, y, name=None):
    """C's remainder: the result has the dividend's sign, x == truncatediv(x, y) * y + truncatemod(x, y)."""
    return _binary("TruncateMod", x, y, name)


def atan2(y, x, name=None):
    """The angle of the point (x, y) in [-pi, pi], its quadrant taken from both signs."""
    return _binary("Atan2", y, x, name)


def xlogy(x, y, name=None):
    """x * log(y), and 0 wherever x == 0 (whatever y is)."""
    return _binary("Xlogy", x, y, name)


def xdivy(x, y, name=None):
    """x / y, and 0 wherever x == 0 (whatever y is)."""
    return _binary("Xdivy", x, y, name)


def polygamma(a, x, name=None):
    """The a-th derivative of digamma at x, for integer-valued a >= 0 of x's float dtype (NaN for other a)."""
    return _binary("Polygamma", a, x, name)


def zeta(x, q, name=None):
    """The Hurwitz zeta function, sum over k >= 0 of (k + q)^-x."""
    return _binary("Zeta", x, q, name)


def pow(x, y, name=None):  # noqa: A001 (TF's name)
    """x ** (power) y elementwise, with NumPy broadcasting (a Pow node); y is converted to x's dtype.

    Raises:
      ValueError: the shapes do not broadcast. TypeError: the dtypes differ.
    """
    return _binary("Pow", x, y, name)


def maximum(x, y, name=None):
    """x max y elementwise, with NumPy broadcasting (a Maximum node); y is converted to x's dtype.

    Raises:
      ValueError: the shapes do not broadcast. TypeError: the dtypes differ.
    """
    return _binary("Maximum", x, y, name)


def minimum(x, y, name=None):
    """x min y elementwise, with NumPy broadcasting (a Minimum node); y is converted to x's dtype.

    Raises:
      ValueError: the shapes do not broadcast. TypeError: the dtypes differ.
    """
    return _binary("Minimum", x, y, name)


def squared_difference(x, y, name=None):
    """x (x - y)^2 y elementwise, with NumPy broadcasting (a SquaredDifference node); y is converted to x's dtype.

    Raises:
      ValueError: the shapes do not broadcast. TypeError: the dtypes differ.
    """
    return _binary("SquaredDifference", x, y, name)


def scalar_mul(scalar, x, name=None):
    """The scalar `scalar` times tensor `x` (also an IndexedSlices' values)."""
    x = _ops.convert_to_tensor(x)
    scalar = _ops.convert_to_tensor(scalar, dtype=x.dtype, name="scalar")
    if scalar.shape.ndims != 0:
        raise ValueError("Only scalar multiply works, got shape %s" % scalar.shape)
    return _ops.apply1("Mul", [scalar, x], name=name or "Mul")


def add_n(inputs, name=None):
    """Sums a list of tensors of one shape and dtype."""
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError("inputs must be a non-empty list of tensors of the same shape and dtype, got %r"
                         % (inputs,))
    inputs = [_ops.convert_to_tensor(t) for t in inputs]
    if len(inputs) == 1:  # TF 1.x: the input itself, or an Identity when the caller names the result
        return _ops.apply1("Identity", inputs, name=name) if name else inputs[0]
    return _ops.apply1("AddN", inputs, name=name or "AddN")


# ---------------------------------------------------------------------------------------------------
# Unary (the plain ones, tf.exp, tf.erf..., are made from the registry by gen_ops.py)

def log_sigmoid(x, name=None):
    """log(1 / (1 + exp(-x))) = -softplus(-x), finite for any finite x and TensorFlow's -0 and -inf at
    +inf and -inf. Each sign has its exact form, evaluated on an input clamped to its side so that the
    branch not taken stays finite and its zero gradient never becomes inf * 0 = NaN:
        x > 0:  -log1p(exp(-x))          x <= 0:  x - log1p(exp(x))
    At x == 0 the second form's gradient is TensorFlow's 0.5 (sigmoid(-x))."""
    with _ops.name_scope(name, "LogSigmoid", [x]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        zero = _ops.convert_to_tensor(0, dtype=x.dtype)
        pos = maximum(x, zero)
        neg = minimum(x, zero)
        pos_branch = _unary("Neg", _unary("Log1p", _unary("Exp", _unary("Neg", pos))))
        neg_branch = subtract(neg, _unary("Log1p", _unary("Exp", neg)))
        return _ops.apply1("Select", [greater(x, zero), pos_branch, neg_branch], name=scope)


def round(x, name=None):  # noqa: A001 (TF's name)
    """Rounds half to even (banker's rounding), like TensorFlow and NumPy; integers come back unchanged."""
    x = _ops.convert_to_tensor(x)
    if x.dtype.is_integer:
        return x
    return _unary("Round", x, name)


# ---------------------------------------------------------------------------------------------------
# Comparisons and logic

def equal(x, y, name=None):
    """A bool tensor: x == y elementwise, with NumPy broadcasting (a Equal node).

    Raises:
      ValueError: the shapes do not broadcast.
    """
    return _binary("Equal", x, y, name)


def not_equal(x, y, name=None):
    """A bool tensor: x != y elementwise, with NumPy broadcasting (a NotEqual node).

    Raises:
      ValueError: the shapes do not broadcast.
    """
    return _binary("NotEqual", x, y, name)


def less(x, y, name=None):
    """A bool tensor: x < y elementwise, with NumPy broadcasting (a Less node).

    Raises:
      ValueError: the shapes do not broadcast.
    """
    return _binary("Less", x, y, name)


def less_equal(x, y, name=None):
    """A bool tensor: x <= y elementwise, with NumPy broadcasting (a LessEqual node).

    Raises:
      ValueError: the shapes do not broadcast.
    """
    return _binary("LessEqual", x, y, name)


def greater(x, y, name=None):
    """A bool tensor: x > y elementwise, with NumPy broadcasting (a Greater node).

    Raises:
      ValueError: the shapes do not broadcast.
    """
    return _binary("Greater", x, y, name)


def greater_equal(x, y, name=None):
    """A bool tensor: x >= y elementwise, with NumPy broadcasting (a GreaterEqual node).

    Raises:
      ValueError: the shapes do not broadcast.
    """
    return _binary("GreaterEqual", x, y, name)


def logical_and(x, y, name=None):
    """x AND y for bool tensors, elementwise with broadcasting."""
    return _binary("LogicalAnd", x, y, name)


def logical_or(x, y, name=None):
    """x OR y for bool tensors, elementwise with broadcasting."""
    return _binary("LogicalOr", x, y, name)


def logical_xor(x, y, name="LogicalXor"):
    """x XOR y for bool tensors, elementwise with broadcasting."""
    with _ops.name_scope(name, "LogicalXor", [x, y]) as scope:
        x, y = _pair(x, y)
        return logical_and(logical_or(x, y), _unary("LogicalNot", logical_and(x, y)), name=scope)


def _selects_rows(condition, x):
    """TF1's tf.where with a vector condition and x of rank >= 2 picks whole rows (first dimension) rather
    than broadcasting against x's last dimension; only lengths known to differ from x's first dimension
    fall back to where_v2 broadcasting."""
    if condition.shape.ndims != 1 or x.shape.ndims is None or x.shape.ndims < 2:
        return False
    n, rows = _dimension_value(condition.shape[0]), _dimension_value(x.shape[0])
    return n is None or rows is None or n == rows


def where(condition, x=None, y=None, name=None):
    """Elements of x where condition is true, else of y. TF1's forms (condition of x's shape, or a vector
    choosing rows) keep their meaning; otherwise condition, x and y broadcast as in tf.where_v2. Without x
    and y: the coordinates of condition's true elements, one int64 row each, in row-major order."""
    if x is None and y is None:  # coordinates of the true elements, int64 [num_true, rank] (array family's op)
        return _ops.apply1("Where", [condition], name=name or "Where")
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    with _ops.name_scope(name, "Select", [condition, x, y]) as scope:
        condition = _ops.convert_to_tensor(condition, dtype=None if _ops.is_tensor(condition) else _dtypes.bool,
                                           name="condition")
        x, y = _pair(x, y)
        if _selects_rows(condition, x):
            condition = _ops.apply1("Reshape", [condition, [-1] + [1] * (x.shape.ndims - 1)], name="condition")
        return _ops.apply1("Select", [condition, x, y], name=scope)





# ---------------------------------------------------------------------------------------------------
# Casts

def cast(x, dtype, name=None):
    """Converts x to dtype (float -> int truncates toward zero, x -> bool is x != 0). A tensor that already
    has the dtype comes back unchanged."""
    dtype = _dtypes.as_dtype(dtype)
    x = _ops.convert_to_tensor(x)
    if x.dtype is dtype:
        return x
    return _ops.apply1("Cast", [x], {"DstT": dtype._enum}, name=name or "Cast")


def to_float(x, name="ToFloat"):
    """`x` cast to float32 (TF 1.x's shorthand for tf.cast)."""
    return cast(x, _dtypes.float32, name=name)


def to_double(x, name="ToDouble"):
    """`x` cast to float64 (TF 1.x's shorthand for tf.cast)."""
    return cast(x, _dtypes.float64, name=name)


def to_int32(x, name="ToInt32"):
    """`x` cast to int32 (TF 1.x's shorthand for tf.cast; floats truncate toward zero)."""
    return cast(x, _dtypes.int32, name=name)


def to_int64(x, name="ToInt64"):
    """`x` cast to int64 (TF 1.x's shorthand for tf.cast; floats truncate toward zero)."""
    return cast(x, _dtypes.int64, name=name)


# ---------------------------------------------------------------------------------------------------
# Operator overloads on Tensor (Note [operators installed by the op modules] in framework/ops.py; `@` comes
# from linalg_ops, indexing from array_ops, Variable forwards to these in state_ops). __eq__/__ne__ stay
# identity comparisons (TF1).

def _binary_operator(op_type, default_name):
    def forward(self, other):
        return _binary(op_type, self, other, None, default_name)

    def reflected(self, other):
        return _binary(op_type, other, self, None, default_name, reflected=True)

    return forward, reflected


def _install_overloads():
    ops = {}
    for op_type, default_name, names in (("Add", "add", "add"), ("Sub", "sub", "sub"), ("Mul", "mul", "mul"),
                                         ("FloorDiv", "floordiv", "floordiv"), ("FloorMod", "mod", "mod"),
                                         ("Pow", "pow", "pow"), ("LogicalAnd", "and", "and"),
                                         ("LogicalOr", "or", "or")):
        ops["__%s__" % names], ops["__r%s__" % names] = _binary_operator(op_type, default_name)
    ops["__truediv__"] = lambda self, other: _truediv(self, other, None, "truediv")
    ops["__rtruediv__"] = lambda self, other: _truediv(other, self, None, "truediv", reflected=True)
    ops["__xor__"] = lambda self, other: logical_xor(self, other, name="xor")
    ops["__rxor__"] = lambda self, other: logical_xor(*_pair(other, self, reflected=True), name="xor")
    ops["__lt__"] = lambda self, other: _binary("Less", self, other)
    ops["__le__"] = lambda self, other: _binary("LessEqual", self, other)
    ops["__gt__"] = lambda self, other: _binary("Greater", self, other)
    ops["__ge__"] = lambda self, other: _binary("GreaterEqual", self, other)
    ops["__neg__"] = lambda self: _unary("Neg", self)
    ops["__abs__"] = lambda self: _unary("Abs", self)
    ops["__invert__"] = lambda self: _unary("LogicalNot", self)
    for k, fn in ops.items():
        _ops.Tensor._override_operator(k, fn)


_install_overloads()
