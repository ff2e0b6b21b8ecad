"""Debugging: tf.Assert and the tf.assert_* family (TF1's check_ops), tf.check_numerics,
tf.verify_tensor_all_finite, tf.add_check_numerics_ops, tf.Print and tf.print. The assertions are
comparison and reduction ops feeding one Assert op (cpp/ops/debug.cc), which fails the step with TF's
"assertion failed: [...] [...]" message; checks that can be decided while building raise at once, as in TF."""
import collections
import logging
import pprint
import random
import sys

import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import errors as _errors
from ..framework import ops as _ops
from . import array_ops, math_ops, reduction_ops, state_ops

__all__ = ["Assert", "assert_equal", "assert_none_equal", "assert_less", "assert_less_equal", "assert_greater",
           "assert_greater_equal", "assert_positive", "assert_negative", "assert_non_negative",
           "assert_non_positive", "assert_rank", "assert_rank_at_least", "assert_type", "assert_scalar",
           "assert_integer", "is_numeric_tensor", "check_numerics", "verify_tensor_all_finite",
           "add_check_numerics_ops", "Print", "print", "string_format"]


def _constant_value(t):
    """The value of `t` when it is a Const, else None (what TF's constant_value sees in these cases)."""
    if getattr(t, "_is_eager", False):
        return np.asarray(t)  # an eager tensor is its value
    if t.op.type == "Const":
        return np.asarray(t.op.get_attr("value"))
    return None


def _message_prefix(message):
    return "%s.  " % message if message else ""


def _assert_static(condition, data):
    """TF's build-time failure for an assertion on constants: the data joined by newlines."""
    if not condition:
        parts = []
        for x in data:
            if isinstance(x, _ops.Tensor):
                v = _constant_value(x)
                parts.append(str(x) if v is None else str(v))
            else:
                parts.append(str(x))
        raise _errors.InvalidArgumentError(None, None, "\n".join(parts))


def Assert(condition, data, summarize=None, name=None):  # noqa: N802
    """Fails the step with the summarized `data` when the bool scalar `condition` is false. Returns the
    Assert op, to run or to use in tf.control_dependencies."""
    with _ops.name_scope(name, "Assert", [condition] + list(data)):
        condition = _ops.convert_to_tensor(condition, name="Condition")
        if condition.dtype is not _dtypes.bool:
            raise TypeError("Assert's condition must be bool, got %s (%s)" % (condition.dtype.name, condition.name))
        tensors = [x if isinstance(x, _ops.Tensor) else _ops.convert_to_tensor(x, name="data_%d" % i)
                   for i, x in enumerate(data)]
        attrs = {"summarize": 3 if summarize is None else int(summarize)}
        return _ops.apply_op("Assert", [condition] + tensors, attrs, name="Assert")


def _pair(x, y):
    """x and y as tensors; a Python value takes the other side's dtype when it can (assert_equal(t, 0))."""
    if _ops.is_tensor(x):
        x = _ops.convert_to_tensor(x, name="x")
        return x, _ops.convert_to_tensor(y, name="y", preferred_dtype=x.dtype)
    if _ops.is_tensor(y):
        y_t = _ops.convert_to_tensor(y)
        x = _ops.convert_to_tensor(x, name="x", preferred_dtype=y_t.dtype)
        return x, _ops.convert_to_tensor(y_t, name="y")
    x = _ops.convert_to_tensor(x, name="x")
    return x, _ops.convert_to_tensor(y, name="y", preferred_dtype=x.dtype)


def _binary_assert(sym, opname, op_fn, np_fn, x, y, data, summarize, message, name):
    with _ops.name_scope(name, opname, [x, y] + list(data or [])):
        x, y = _pair(x, y)
        if data is None:
            data = ["Condition x %s y did not hold element-wise:" % sym,
                    "x (%s) = " % x.name, x, "y (%s) = " % y.name, y]
        if message is not None:
            data = [message] + list(data)
        condition = reduction_ops.reduce_all(op_fn(x, y))
        xs, ys = _constant_value(x), _constant_value(y)
        if xs is not None and ys is not None:
            _assert_static(np.all(np_fn(xs, ys)), data)
        return Assert(condition, data, summarize=summarize)


def assert_equal(x, y, data=None, summarize=None, message=None, name=None):
    """Asserts x == y elementwise (with broadcasting)."""
    if x is y:
        with _ops.name_scope(name, "assert_equal", [x, y]):
            return state_ops.no_op()
    return _binary_assert("==", "assert_equal", math_ops.equal, np.equal, x, y, data, summarize, message, name)


def assert_none_equal(x, y, data=None, summarize=None, message=None, name=None):
    """Asserts x != y elementwise."""
    return _binary_assert("!=", "assert_none_equal", math_ops.not_equal, np.not_equal, x, y, data, summarize,
                          message, name)


def assert_less(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert("<", "assert_less", math_ops.less, np.less, x, y, data, summarize, message, name)


def assert_less_equal(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert("<=", "assert_less_equal", math_ops.less_equal, np.less_equal, x, y, data, summarize,
                          message, name)


def assert_greater(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert(">", "assert_greater", math_ops.greater, np.greater, x, y, data, summarize, message,
                          name)


def assert_greater_equal(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert(">=", "assert_greater_equal", math_ops.greater_equal, np.greater_equal, x, y, data,
                          summarize, message, name)


def _sign_assert(opname, sym, zero_first, inner, x, data, summarize, message, name):
    message = _message_prefix(message)
    with _ops.name_scope(name, opname, [x] + list(data or [])):
        x = _ops.convert_to_tensor(x, name="x")
        if data is None:
            data = [message, "Condition x %s 0 did not hold element-wise:" % sym, "x (%s) = " % x.name, x]
        zero = _ops.convert_to_tensor(0, dtype=x.dtype)
        a, b = (zero, x) if zero_first else (x, zero)
        return inner(a, b, data=data, summarize=summarize)


def assert_positive(x, data=None, summarize=None, message=None, name=None):
    return _sign_assert("assert_positive", ">", True, assert_less, x, data, summarize, message, name)


def assert_negative(x, data=None, summarize=None, message=None, name=None):
    return _sign_assert("assert_negative", "<", False, assert_less, x, data, summarize, message, name)


def assert_non_negative(x, data=None, summarize=None, message=None, name=None):
    return _sign_assert("assert_non_negative", ">=", True, assert_less_equal, x, data, summarize, message, name)


def assert_non_positive(x, data=None, summarize=None, message=None, name=None):
    return _sign_assert("assert_non_positive", "<=", False, assert_less_equal, x, data, summarize, message, name)


def _rank_assert(opname, what, static_ok, dynamic_fn, x, rank, data, summarize, message, name):
    with _ops.name_scope(name, opname, [x, rank] + list(data or [])):
        x = _ops.convert_to_tensor(x, name="x")
        rank = _ops.convert_to_tensor(rank, name="rank")
        message = _message_prefix(message)
        if data is None:
            data = [message, "Tensor %s must have %s" % (x.name, what), rank, "Received shape: ",
                    array_ops.shape(x)]
        assert_type(rank, _dtypes.int32)
        rank_static = _constant_value(rank)
        if rank_static is not None:
            if rank_static.ndim != 0:
                raise ValueError("Rank must be a scalar.")
            ndims = x.shape.ndims
            if ndims is not None:
                if not static_ok(ndims, int(rank_static)):
                    raise ValueError("%sTensor %s must have %s %d.  Received rank %d, shape %s"
                                     % (message, x.name, what, int(rank_static), ndims, x.shape))
                return state_ops.no_op(name="static_checks_determined_all_ok")
        condition = dynamic_fn(array_ops.rank(x), rank)
        if rank_static is None:
            # assert_rank(x, [n]) instead of assert_rank(x, n) would otherwise compare elementwise.
            rank_check = assert_rank(rank, 0, data=["Rank must be a scalar. Received rank: ", rank])
            with _ops.control_dependencies([rank_check]):
                condition = _ops.apply1("Identity", [condition], name="control_dependency")
        return Assert(condition, data, summarize=summarize)


def assert_rank(x, rank, data=None, summarize=None, message=None, name=None):
    """Asserts x has rank `rank`; raises ValueError at once when x's rank is known."""
    return _rank_assert("assert_rank", "rank", lambda a, r: a == r, math_ops.equal, x, rank, data, summarize,
                        message, name)


def assert_rank_at_least(x, rank, data=None, summarize=None, message=None, name=None):
    return _rank_assert("assert_rank_at_least", "rank at least", lambda a, r: a >= r, math_ops.greater_equal,
                        x, rank, data, summarize, message, name)


def assert_type(tensor, tf_type, message=None, name=None):
    """TypeError unless tensor's dtype is tf_type (a static check; returns a NoOp)."""
    tf_type = _dtypes.as_dtype(tf_type)
    with _ops.name_scope(name, "assert_type", [tensor]):
        tensor = _ops.convert_to_tensor(tensor, name="tensor")
        if tensor.dtype is not tf_type:
            raise TypeError("%s%s must be of type %r; got %r"
                            % (_message_prefix(message), tensor.name, tf_type, tensor.dtype))
        return state_ops.no_op(name="statically_determined_correct_type")


def assert_scalar(tensor, name=None, message=None):
    """ValueError unless tensor's static shape is a scalar; returns the tensor."""
    with _ops.name_scope(name, "assert_scalar", [tensor]) as scope:
        tensor = _ops.convert_to_tensor(tensor, name=scope)
        if tensor.shape.ndims != 0:
            raise ValueError("%sExpected scalar shape for %s, saw shape: %s."
                             % (_message_prefix(message), tensor.name, tensor.shape))
        return tensor


def assert_integer(x, message=None, name=None):
    """TypeError unless x has an integer dtype (a static check; returns a NoOp)."""
    with _ops.name_scope(name, "assert_integer", [x]):
        x = _ops.convert_to_tensor(x, name="x")
        if not x.dtype.is_integer:
            raise TypeError('%sExpected "x" to be integer type.  Found: %s of dtype %s'
                            % (_message_prefix(message), x.name, x.dtype))
        return state_ops.no_op("statically_determined_was_integer")


def is_numeric_tensor(tensor):
    return isinstance(tensor, _ops.Tensor) and (tensor.dtype.is_floating or tensor.dtype.is_integer)


# ---- numerics ----

def check_numerics(tensor, message, name=None):
    """The tensor unchanged; the step fails with "<message> : Tensor had NaN values" (or Inf) otherwise."""
    tensor = _ops.convert_to_tensor(tensor)
    return _ops.apply1("CheckNumerics", [tensor], {"message": str(message)}, name=name or "CheckNumerics")


def verify_tensor_all_finite(t=None, msg=None, name=None, x=None, message=None):
    """t, once CheckNumerics has seen it finite (TF1: an identity depending on the check)."""
    t = t if x is None else x
    msg = msg if message is None else message
    with _ops.name_scope(name, "VerifyFinite", [t]):
        t = _ops.convert_to_tensor(t, name="t")
        verify = check_numerics(t, message=msg)
        if _ops._core.executing_eagerly():  # the check has run
            return verify
        with _ops.control_dependencies([verify.op]):
            return _ops.apply1("Identity", [t], name="control_dependency")


def add_check_numerics_ops():
    """A CheckNumerics for every float tensor now in the default graph, chained so the first failure in
    graph order is reported; returns an op grouping them (TF1 semantics)."""
    check = []
    for op in _ops.get_default_graph().get_operations():
        for out in op.outputs:
            if out.dtype.is_floating:
                with _ops.control_dependencies(check):
                    check = [check_numerics(out, message="%s:%d" % (op.name, out.value_index)).op]
    return state_ops.group(*check)


# ---- printing ----

def Print(input_, data, message=None, first_n=None, summarize=None, name=None):  # noqa: N802
    """input_ unchanged; writes `message` and each of `data` summarized to stderr when it runs (the first
    `first_n` runs per Session when first_n >= 0)."""
    inp = _ops.convert_to_tensor(input_)
    tensors = [x if isinstance(x, _ops.Tensor) else _ops.convert_to_tensor(x) for x in data]
    attrs = {"message": "" if message is None else str(message),
             "first_n": -1 if first_n is None else int(first_n),
             "summarize": 3 if summarize is None else int(summarize)}
    return _ops.apply1("Print", [inp] + tensors, attrs, name=name or "Print")


def string_format(template, inputs, placeholder="{}", summarize=3, name=None):
    """tf.strings.format: `template` with each placeholder replaced by the next input, summarized."""
    if isinstance(inputs, _ops.Tensor):
        inputs = [inputs]
    tensors = [_ops.convert_to_tensor(x) for x in inputs]
    attrs = {"template": template, "placeholder": placeholder, "summarize": int(summarize)}
    return _ops.apply1("StringFormat", tensors, attrs, name=name or "StringFormat")


def _placeholder_for(text):
    """A placeholder that does not occur in `text` (TF's rule, so templates come out the same)."""
    ph = "{}"
    rng = random.Random(5)
    while ph in text:
        ph += str(rng.randint(0, 9))
    return ph


def _sorted_dicts(x):
    if isinstance(x, collections.OrderedDict):
        return collections.OrderedDict(sorted(x.items()))
    return x


def _flatten(x):
    if isinstance(x, dict):
        return [y for k in sorted(x) for y in _flatten(x[k])]
    if isinstance(x, (list, tuple)):
        return [y for v in x for y in _flatten(v)]
    return [x]


def _pack(x, it):
    """x's structure with its leaves taken from the iterator `it` (in _flatten's order)."""
    if isinstance(x, dict):
        vals = {k: _pack(x[k], it) for k in sorted(x)}
        return type(x)((k, vals[k]) for k in x) if isinstance(x, collections.OrderedDict) else vals
    if isinstance(x, (list, tuple)):
        packed = [_pack(v, it) for v in x]
        return type(x)(*packed) if hasattr(x, "_fields") else type(x)(packed)
    return next(it)


def _stream_name(stream):
    if isinstance(stream, str) and stream.startswith("file://"):
        return stream
    for obj, name in ((sys.stdout, "stdout"), (sys.__stdout__, "stdout"), (sys.stderr, "stderr"),
                      (sys.__stderr__, "stderr"), (logging.info, "log(info)"), (logging.INFO, "log(info)"),
                      (logging.warning, "log(warning)"), (logging.WARNING, "log(warning)"),
                      (logging.error, "log(error)"), (logging.ERROR, "log(error)")):
        if stream is obj:
            return name
    raise ValueError("Unsupported output stream, logging level, or file.%s. Supported streams are sys.stdout, "
                     "sys.stderr, tf.logging.info, tf.logging.warning, tf.logging.error. File needs to be in the "
                     "form of 'file://<filepath>'." % (stream,))


def print_v2(*inputs, **kwargs):
    """tf.print: an op (PrintV2) that writes the inputs, tensors summarized, separated by `sep` and followed
    by `end`, to output_stream (sys.stderr by default, or sys.stdout, or "file://path") each time it runs."""
    output_stream = kwargs.pop("output_stream", sys.stderr)
    name = kwargs.pop("name", None)
    summarize = kwargs.pop("summarize", 3)
    sep = kwargs.pop("sep", " ")
    end = kwargs.pop("end", "\n")
    if kwargs:
        raise ValueError("Unrecognized keyword arguments for tf.print: %s" % kwargs)
    stream = _stream_name(output_stream)
    summarize = -1 if summarize is None else int(summarize)
    if (len(inputs) == 1 and isinstance(inputs[0], _ops.Tensor) and inputs[0].dtype is _dtypes.string
            and inputs[0].shape.ndims == 0):
        formatted = inputs[0]
    else:
        inputs = [_sorted_dicts(x) for x in inputs]
        tensor_free = " ".join(pprint.pformat(_pack(x, iter(["" if _ops.is_tensor(v) else v for v in _flatten(x)])))
                               for x in inputs)
        ph = _placeholder_for(tensor_free)
        tensors, templates = [], []
        for x in inputs:
            leaves = []
            for v in _flatten(x):
                if _ops.is_tensor(v):
                    tensors.append(v)
                    leaves.append(ph)
                else:
                    leaves.append(v)
            templates.append(x if isinstance(x, str) else pprint.pformat(_pack(x, iter(leaves))))
        template = sep.join(templates).replace("'" + ph + "'", ph)
        formatted = string_format(template, tensors, placeholder=ph, summarize=summarize,
                                  name=name + "_format" if name else None)
    return _ops.apply_op("PrintV2", [formatted], {"output_stream": stream, "end": end}, name=name or "PrintV2")


print = print_v2  # noqa: A001  (tf.print shadows the builtin in this module, as in TensorFlow)
