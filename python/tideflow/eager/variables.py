"""tf.Variable in eager mode: a resource variable (TensorFlow 2's semantics). Its value lives in a C++
slot reached through a handle (cpp/eager.h: eager::Variable); reads are values, updates run the graph
mode's Assign/AssignAdd/Apply* kernels at once. Freed when the last reference goes."""
from .. import _core
from ..framework import dtypes as _dtypes
from ..framework import errors
from ..framework import ops as _ops
from ..framework.tensor_shape import TensorShape, as_shape
from ..ops import math_ops, state_ops
from . import backprop as _backprop
from . import context as _context
from . import tensor as _tensor


# Functions returning the class tf.Variable(...) should make outside eager mode, or None (tf.function
# installs one while tracing: its variables are eager variables created on the first trace).
creator_hooks = []


def _execute(op_type, inputs, attrs=None):
    return _core.eager_execute(op_type, inputs, attrs, "")


class EagerVariable(state_ops.Variable):
    """tf.Variable created while executing eagerly (also tf.contrib.eager.Variable). Not added to
    collections, named `<scope>/<name>:0` without uniquification, as in TensorFlow 2."""
    _is_eager = True
    _is_eager_variable = True
    __array_priority__ = 100

    def __init__(self, initial_value=None, trainable=True, collections=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None, expected_shape=None,
                 import_scope=None, constraint=None, use_resource=None, synchronization=None,
                 aggregation=None, shape=None):
        if variable_def is not None:
            raise ValueError("variable_def is not supported in eager mode")
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        if constraint is not None and not callable(constraint):
            raise ValueError("The `constraint` argument must be a callable.")
        with _context.eager_mode():
            if callable(initial_value):
                initial_value = initial_value()
            if dtype is not None:
                dtype = _dtypes.as_dtype(dtype)
            if getattr(initial_value, "_is_eager_variable", False):
                initial_value = initial_value.read_value()
            elif type(initial_value) is _ops.Tensor:  # built while a tf.function traces: lifted out, run now
                initial_value = _lift(initial_value)
            init = _ops.convert_to_tensor(initial_value, dtype=dtype) if not (
                dtype is not None and type(initial_value) is _tensor.EagerTensor) else initial_value
            if dtype is not None and init.dtype is not dtype:
                init = math_ops.cast(init, dtype)
        if shape is not None:
            var_shape = as_shape(shape)
            if not var_shape.is_compatible_with(init.shape):
                raise ValueError("The initial value's shape (%s) is not compatible with the explicitly supplied "
                                 "`shape` argument (%s)." % (init.shape, var_shape))
        else:
            var_shape = init.shape if validate_shape else TensorShape(None)
        base = name if name is not None else "Variable"
        if isinstance(base, str) and base.endswith(":0"):
            base = base[:-2]
        full = _context.scope_name() + base if not base.startswith("/") else base[1:]
        self._handle = _core.EagerVariableHandle(full, init.dtype._enum,
                                                 None if var_shape.ndims is None else var_shape.as_list(),
                                                 bool(trainable))
        self._trainable = bool(trainable)
        self._constraint = constraint
        self._save_slice_info = None
        self._dtype = init.dtype
        _execute("Assign", [self._handle, init], {"validate_shape": bool(validate_shape)})
        _backprop._register_variable(self)

    # ---- identity ----
    name = property(lambda self: self._handle.name + ":0")
    _shared_name = property(lambda self: self._handle.name)
    _unique_id = property(lambda self: self._handle._id)
    dtype = property(lambda self: self._dtype)
    trainable = property(lambda self: self._trainable)
    constraint = property(lambda self: self._constraint)
    device = property(lambda self: _tensor._DEVICE)
    # The ref state_ops' update functions and the optimizers' Apply* ops take: the handle eagerly; in a graph
    # being traced (tf.function), the graph's node standing for this variable.
    _variable = property(lambda self: self._ref())

    @property
    def shape(self):
        s = self._handle.shape
        if s is None:
            v = self._handle.peek_tensor()
            return TensorShape(None) if v is None else v.shape
        return TensorShape(s)

    def get_shape(self):
        return self.shape

    def set_shape(self, shape):
        raise NotImplementedError("Variable.set_shape is not supported for eager variables")

    @property
    def initializer(self):
        return None

    @property
    def initial_value(self):
        raise RuntimeError("initial_value not supported in EAGER mode.")

    op = property(lambda self: _no_graph("op"))
    graph = property(lambda self: _no_graph("graph"))

    def _ref(self):
        if _core.executing_eagerly():
            return self._handle
        return _ops.convert_to_tensor(self, as_ref=True)

    def _as_graph_element(self):
        return None

    # ---- values ----
    def value(self):
        if _core.executing_eagerly():
            return self._handle.read()
        return _ops.convert_to_tensor(self)

    read_value = value

    def numpy(self):
        a = self._handle.peek()
        if a is None:
            raise _uninitialized(self)
        return a[()] if a.ndim == 0 else a

    def initialized_value(self):
        return self.read_value()

    def eval(self, session=None):
        raise NotImplementedError("eval is not supported when eager execution is enabled, is .numpy() what "
                                  "you're looking for?")

    def load(self, value, session=None):
        self.assign(value)

    # ---- updates: the same kernels as graph mode, run at once ----
    def _update(self, op_type, value, attrs=None, read_value=True):
        if not _core.executing_eagerly():  # inside tf.function: a graph op on the captured variable
            ref = self._ref()
            if not isinstance(value, _ops.Tensor) or getattr(value, "_is_eager", False):
                value = _ops.convert_to_tensor(value, dtype=self._dtype)
            out = _ops.apply1(op_type, [ref, value], attrs)
            return out if read_value else out.op
        if type(value) is not _tensor.EagerTensor:
            value = _ops.convert_to_tensor(value, dtype=self._dtype)
        _execute(op_type, [self._handle, value], attrs)
        return self if read_value else None

    def assign(self, value, use_locking=None, name=None, read_value=True):
        return self._update("Assign", value, {"validate_shape": self._handle.shape is not None}, read_value)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        return self._update("AssignAdd", delta, None, read_value)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        return self._update("AssignSub", delta, None, read_value)

    def count_up_to(self, limit):
        return _ops.apply1("CountUpTo", [self._ref()], {"limit": int(limit)})

    # ---- Python protocol ----
    def __repr__(self):
        a = self._handle.peek()
        text = "<uninitialized>" if a is None else _tensor._numpy_text(_tensor.from_array(a), is_repr=True)
        return "<tf.Variable '%s' shape=%s dtype=%s, numpy=%s>" % (self.name, self.shape, self._dtype.name, text)

    __str__ = __repr__

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __float__(self):
        return float(self.numpy())

    def __int__(self):
        return int(self.numpy())

    def __index__(self):
        return self.read_value().__index__()

    def __bool__(self):
        return bool(self.read_value())

    def __len__(self):
        return len(self.read_value())

    def __iter__(self):
        return iter(self.read_value())

    def __hash__(self):
        if _tensor._USE_EQUALITY[0]:
            raise TypeError("Variable is unhashable. Instead, use variable.ref() as the key.")
        return id(self)

    def __eq__(self, other):
        if not _tensor._USE_EQUALITY[0]:
            return self is other
        return _tensor._elementwise_compare("Equal", self.read_value(), other)

    def __ne__(self, other):
        if not _tensor._USE_EQUALITY[0]:
            return self is not other
        return _tensor._elementwise_compare("NotEqual", self.read_value(), other)

    def ref(self):
        return _tensor._TensorRef(self)

    experimental_ref = ref

    def __deepcopy__(self, memo):
        return EagerVariable(self.read_value(), trainable=self._trainable, name=self._shared_name)

    def __reduce__(self):
        raise TypeError("eager variables cannot be pickled; save them with tf.train.Checkpoint or their numpy()")


def _lift(t):
    """The value of graph tensor `t` (a tf.function's variable initializer), computed once now."""
    g = t.graph
    try:
        fn = _core.EagerFunction(g._c, [], [t._key()], [])
        for nid, v in getattr(g, "captured_variables", ()):
            fn.bind_variable(nid, v._handle)
        return fn([])[0]
    except errors.InvalidArgumentError as e:
        raise ValueError("A variable created inside a tf.function must be initialized from a value that does not "
                         "depend on the function's arguments (%s)" % e) from None


def _no_graph(what):
    raise AttributeError("Variable.%s is undefined when eager execution is enabled." % what)


def _uninitialized(v):
    return errors.FailedPreconditionError(None, None, "Error while reading resource variable %s: it holds no "
                                          "value yet." % v._shared_name)
