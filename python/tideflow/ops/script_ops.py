"""tf.py_func, tf.numpy_function and tf.py_function: graph nodes that call a Python function when they run.

The node (op type PyFunc, PyFuncStateless with stateful=False, EagerPyFunc for py_function) carries a token;
its C++ kernel takes the GIL and calls `_dispatch` (installed in the core below), which finds the function
by token, calls it with the inputs as NumPy arrays and returns its results as arrays. Each graph keeps its
functions alive (`Graph._py_funcs`, token -> function); the registry here only holds them weakly, as TF's
FuncRegistry does, so dropping a graph frees its functions.

Differences from TensorFlow: py_function's function receives NumPy arrays, not EagerTensors (arrays behave
alike for arithmetic and `.numpy()`-free code; call np.asarray on what TF code would call .numpy() on), and
none of the three is differentiable unless a gradient is attached with gradient_override_map.
"""
import itertools
import threading
import traceback
import weakref

import numpy as np

from .. import _core
from ..framework import dtypes as _dtypes
from ..framework import errors as _errors
from ..framework import ops as _ops

__all__ = ["py_func", "numpy_function", "py_function"]


class _Func:
    """Holds a function for the weak registry: NumPy ufuncs and builtins cannot be weakly referenced."""
    __slots__ = ("func", "__weakref__")

    def __init__(self, func):
        self.func = func


_registry = weakref.WeakValueDictionary()  # token -> _Func; strong references live on the graphs
_lock = threading.Lock()
_tokens = itertools.count()

# Python exceptions -> tf.errors codes, as TensorFlow's PyFunc kernel maps them; anything else is UNKNOWN.
_ERROR_CODES = ((ValueError, _errors.INVALID_ARGUMENT), (TypeError, _errors.INVALID_ARGUMENT),
                (StopIteration, _errors.OUT_OF_RANGE), (MemoryError, _errors.RESOURCE_EXHAUSTED),
                (NotImplementedError, _errors.UNIMPLEMENTED))


class _BadOutput(Exception):
    pass


def _register(graph, func):
    entry = _Func(func)
    with _lock:
        token = "pyfunc_%d" % next(_tokens)
        funcs = graph.__dict__.get("_py_funcs")
        if funcs is None:
            funcs = graph._py_funcs = {}
        funcs[token] = entry
        _registry[token] = entry
    return token


def _strings(arr, i, token, expected):
    vals = []
    for x in arr.reshape(-1).tolist():
        if isinstance(x, str):
            x = x.encode("utf-8")
        if not isinstance(x, bytes):
            raise _BadOutput("%d-th value returned by %s is %s, but expects %s"
                             % (i, token, type(x).__name__, expected.name))
        vals.append(x)
    return ("strings", list(arr.shape), vals)


def _convert(value, dtype, eager, i, token):
    """One result as a value the core turns into a tensor: a C-contiguous array or a tagged string list.
    py_func keeps the result's own dtype (the kernel checks it against Tout, as TensorFlow does);
    py_function converts it to Tout when NumPy can without changing its kind of number."""
    if isinstance(value, (bytes, str)):
        value = np.array(value, dtype=object)
    arr = np.asarray(value)
    if arr.dtype.kind in "SUO":
        if dtype is not _dtypes.string and arr.dtype.kind != "O":
            raise _BadOutput("%d-th value returned by %s is string, but expects %s" % (i, token, dtype.name))
        if dtype is _dtypes.string or arr.dtype.kind != "O":
            return _strings(arr, i, token, dtype)
        try:
            arr = arr.astype(dtype.as_numpy_dtype)  # e.g. a list mixing Python numbers
        except (TypeError, ValueError):
            raise _BadOutput("%d-th value returned by %s is object, but expects %s"
                             % (i, token, dtype.name)) from None
    if eager and dtype is not _dtypes.string and arr.dtype != dtype.as_numpy_dtype:
        if np.can_cast(arr.dtype, dtype.as_numpy_dtype, "same_kind"):
            arr = arr.astype(dtype.as_numpy_dtype)
    if arr.dtype not in _dtypes._BY_NP:
        raise _BadOutput("%d-th value returned by %s is %s, but expects %s"
                         % (i, token, arr.dtype.name, dtype.name))
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr if arr.flags.c_contiguous else arr.copy(order="C")  # (ascontiguousarray makes 0-d 1-d)


def _error_message(e):
    """"ValueError: boom" and the traceback from the user's function down, as TensorFlow reports it."""
    head = "".join(traceback.format_exception_only(type(e), e)).rstrip("\n")
    tb = e.__traceback__.tb_next if e.__traceback__ is not None else None  # skip _dispatch's own frame
    return head + "\n" + "".join(traceback.format_exception(type(e), e, tb))


def _dispatch(token, eager, args, tout):
    """Called by the PyFunc kernel with the GIL held: (0, [values]) or (error code, message)."""
    entry = _registry.get(token)
    if entry is None:
        return _errors.INVALID_ARGUMENT, "ValueError: callback %s is not found" % token
    try:
        ret = entry.func(*args)
    except Exception as e:  # noqa: BLE001 (every error becomes the step's error)
        if isinstance(e, _errors.OpError):  # a tf.errors error keeps its code and message (tf.data's iterators)
            return e.error_code, str(e)
        code = next((c for cls, c in _ERROR_CODES if isinstance(e, cls)), _errors.UNKNOWN)
        return code, _error_message(e)
    if ret is None:  # "returns 0 values", as in TensorFlow
        values = []
    elif isinstance(ret, (list, tuple)):
        values = list(ret)
    else:
        values = [ret]
    if len(values) != len(tout):
        return _errors.INVALID_ARGUMENT, ("%s returns %d values, but expects to see %d values."
                                          % (token, len(values), len(tout)))
    dtypes = [_dtypes.as_dtype(d) for d in tout]
    try:
        return 0, [_convert(v, dtypes[i], eager, i, token) for i, v in enumerate(values)]
    except _BadOutput as e:
        return _errors.INVALID_ARGUMENT, str(e)
    except Exception as e:  # noqa: BLE001 (np.asarray of an arbitrary object)
        return _errors.INVALID_ARGUMENT, "cannot convert the values returned by %s: %s" % (token, e)


_core._set_py_func_dispatcher(_dispatch)


def _internal_py_func(func, inp, Tout, op_type, name):
    if not callable(func):
        raise TypeError("Expected func to be callable, got func of type %s" % type(func).__name__)
    is_list = isinstance(Tout, (list, tuple))
    touts = [_dtypes.as_dtype(t) for t in (Tout if is_list else [Tout])]
    if inp is None:
        inp = []
    elif not isinstance(inp, (list, tuple)):
        inp = [inp]
    g = _ops.get_default_graph()
    token = _register(g, func)
    op = _ops.apply_op(op_type, list(inp), {"token": token, "Tout": [t._enum for t in touts]}, name=name)
    if not touts:
        return op
    return list(op.outputs) if is_list else op.outputs[0]


def py_func(func, inp, Tout, stateful=True, name=None):
    """tf.py_func (TF1): a node that runs `func(*arrays)` when the graph runs. `inp` lists tensors (or values
    converted to tensors); `func` gets them as NumPy arrays and returns one value or a list, whose dtypes must
    match `Tout` (a dtype, giving one tensor, or a list of dtypes, giving a list; [] gives the Operation).
    Outputs have unknown shapes. stateful=False makes a PyFuncStateless node, which promises a pure
    function. An exception raised by `func` fails the step: ValueError and TypeError as
    InvalidArgumentError, StopIteration as OutOfRangeError, NotImplementedError as UnimplementedError,
    MemoryError as ResourceExhaustedError, others as UnknownError, the message holding the traceback."""
    return _internal_py_func(func, inp, Tout, "PyFunc" if stateful else "PyFuncStateless", name)


def numpy_function(func, inp, Tout, stateful=True, name=None):
    """tf.numpy_function: py_func under its TF2 name."""
    return _internal_py_func(func, inp, Tout, "PyFunc" if stateful else "PyFuncStateless", name)


def py_function(func, inp, Tout, name=None):
    """tf.py_function: like py_func, but results are converted to `Tout` where NumPy can without changing
    their kind (float64 -> float32, Python ints -> int32). TensorFlow hands `func` EagerTensors; tideflow
    hands it NumPy arrays."""
    return _internal_py_func(func, inp, Tout, "EagerPyFunc", name)
