"""Graph, Operation and Tensor: thin Python handles over the C++ graph, plus the default-graph stack,
name scopes, control dependencies and tensor conversion. In eager mode the entry points (apply_op,
convert_to_tensor, constant_op) hand over to tideflow.eager.execute."""
import abc
import contextlib
import os
import re
import sys
import threading

import numpy as np

from .. import _core
from . import dtypes as _dtypes
from . import attr_types as _attr_types
from .tensor_shape import TensorShape, as_shape, dimension_value as _dimension_value

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_location():
    """file:line of the first caller frame outside the tideflow package (framework frames trimmed)."""
    f = sys._getframe(2)
    while f is not None:
        fn = f.f_code.co_filename
        if not fn.startswith(_PKG_DIR) and not fn.startswith("<frozen"):
            return "%s:%d" % (fn, f.f_lineno)
        f = f.f_back
    return ""


_VALID_OP_NAME_REGEX = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE_NAME_REGEX = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")


# framework/tf_export.py writes GraphDefs; it sits above this module (it reads node attributes through
# Graph), so it installs its writer here when imported, which `import tideflow` always does.
_graph_def_writer = [None]


class GraphKeys:
    """Standard collection names (GLOBAL_VARIABLES, TRAINABLE_VARIABLES, SUMMARIES, UPDATE_OPS, LOSSES...)."""
    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    GLOBAL_STEP = "global_step"
    TRAIN_OP = "train_op"
    SAVERS = "savers"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    ACTIVATIONS = "activations"
    WEIGHTS = "weights"
    BIASES = "biases"
    QUEUE_RUNNERS = "queue_runners"
    VARIABLES = GLOBAL_VARIABLES


class Operation:
    """A node of a Graph."""
    __slots__ = ("_graph", "_id", "_outputs", "_name", "_type", "_traceback", "__weakref__")

    def __init__(self, graph, node_id):
        self._graph = graph
        self._id = node_id
        c = graph._c
        self._name = c.node_name(node_id)
        self._type = c.node_type(node_id)
        self._outputs = tuple(Tensor(self, i, _dtypes.as_dtype(c.output_dtype(node_id, i)))
                              for i in range(c.node_num_outputs(node_id)))

    name = property(lambda self: self._name, doc="The operation's unique name in its graph.")
    type = property(lambda self: self._type, doc="The op type, e.g. \"MatMul\".")
    graph = property(lambda self: self._graph, doc="The Graph holding the operation.")
    outputs = property(lambda self: list(self._outputs), doc="The tensors the operation produces.")
    device = property(lambda self: self._graph._c.node_device(self._id), doc="The device recorded for it.")

    @property
    def inputs(self):
        """The tensors this operation consumes, in order."""
        return [self._graph._tensor(i, k) for i, k in self._graph._c.node_inputs(self._id)]

    @property
    def control_inputs(self):
        """The operations that must run before this one (control dependencies)."""
        return [self._graph._op(i) for i in self._graph._c.node_control_inputs(self._id)]

    @property
    def location(self):
        """The user's file:line that created this op."""
        return self._graph._c.node_location(self._id)

    def values(self):
        """The operation's outputs as a tuple."""
        return tuple(self._outputs)

    def get_attr(self, name):
        """The value of attribute `name` (a DType for type attributes, lists, shapes, ints, floats, strings).

        Raises:
          ValueError: the operation has no such attribute.
        """
        attrs = self._graph._c.node_attrs(self._id)
        if name not in attrs:
            raise ValueError("Operation '%s' has no attr named '%s'." % (self._name, name))
        v = attrs[name]
        if isinstance(v, _core.DType):
            return _dtypes.as_dtype(v)
        if isinstance(v, _core.Shape):
            return TensorShape(v.dims)
        return v

    @property
    def node_def(self):
        """The operation as a NodeDef message (name, op, inputs, device, attrs)."""
        return {"name": self._name, "op": self._type,
                "input": [t.name for t in self.inputs] + ["^" + c.name for c in self.control_inputs],
                "attr": self._graph._c.node_attrs(self._id)}

    def _add_control_input(self, op):
        if not isinstance(op, Operation):
            raise TypeError("op must be an Operation: %s" % (op,))
        if op._graph is not self._graph:
            raise ValueError("Operation %s must be from the same graph as %s." % (op.name, self._name))
        self._graph._c.add_control_input(self._id, op._id)

    def _add_control_inputs(self, ops):
        for op in ops:
            self._add_control_input(op)

    def run(self, feed_dict=None, session=None):
        """Runs the operation in `session` (or the default session) with `feed_dict`.

        Raises:
          ValueError: no session. tf.errors.OpError: as Session.run.
        """
        _session_for(self._graph, session).run(self, feed_dict)

    def __repr__(self):
        return "<tf.Operation '%s' type=%s>" % (self._name, self._type)


class Tensor(metaclass=abc.ABCMeta):
    """A symbolic handle to one output of an Operation. EagerTensor registers as a virtual subclass, so
    isinstance(x, tf.Tensor) holds for eager tensors too, as in TensorFlow."""
    __slots__ = ("_op", "_value_index", "_dtype", "_shape", "__weakref__")
    __array_priority__ = 100  # NumPy defers `ndarray + tensor` to Tensor.__radd__

    def __init__(self, op, value_index, dtype):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = None

    op = property(lambda self: self._op, doc="The Operation that produces this tensor.")
    graph = property(lambda self: self._op._graph, doc="The Graph holding this tensor.")
    dtype = property(lambda self: self._dtype, doc="The tf.DType of the tensor's elements.")
    value_index = property(lambda self: self._value_index, doc="Which output of its operation it is.")
    device = property(lambda self: self._op.device, doc="The device its operation was placed on (recorded).")

    @property
    def name(self):
        """"op_name:output_index", e.g. "MatMul:0"."""
        return "%s:%d" % (self._op._name, self._value_index)

    @property
    def shape(self):
        """The static TensorShape the graph inferred (dimensions or the rank may be unknown: None)."""
        if self._shape is None:
            self._shape = TensorShape(self.graph._c.output_shape(self._op._id, self._value_index))
        return self._shape

    def get_shape(self):
        """The static TensorShape (the same as .shape)."""
        return self.shape

    def set_shape(self, shape):
        """Refines the static shape with `shape` (unknown dimensions become known).

        Raises:
          ValueError: `shape` is not compatible with the current static shape.
        """
        shape = as_shape(shape)
        if shape.ndims is None:  # an unknown shape adds nothing to what is known
            return
        self.graph._c.set_output_shape(self._op._id, self._value_index,
                                       None if shape.ndims is None else shape.as_list())
        self._shape = None

    def consumers(self):
        """The Operations that take this tensor as an input."""
        g = self.graph
        out = []
        for i in range(g._c.num_nodes()):
            if (self._op._id, self._value_index) in g._c.node_inputs(i):
                out.append(g._op(i))
        return out

    def eval(self, feed_dict=None, session=None):
        """The tensor's value: `session.run(self, feed_dict)`, in `session` or the default session.

        Raises:
          ValueError: no session was given and there is no default one (or it runs another graph).
          tf.errors.OpError: as Session.run.
        """
        return _session_for(self.graph, session).run(self, feed_dict)

    def _key(self):
        return (self._op._id, self._value_index)

    def __repr__(self):
        return "<tf.Tensor '%s' shape=%s dtype=%s>" % (self.name, self.shape, self._dtype.name)

    def __str__(self):  # TensorFlow's: Tensor("MatMul:0", shape=(1, 1), dtype=float32)
        shape = self.shape
        return "Tensor(\"%s\"%s, dtype=%s%s)" % (self.name, "" if shape.ndims is None else ", shape=%s" % (shape,),
                                               self._dtype.name, ", device=%s" % self.device if self.device else "")

    __hash__ = object.__hash__  # identity, in C: Session.run hashes every fetch

    def __eq__(self, other):  # TF1: tensors compare by identity
        return self is other

    def __ne__(self, other):
        return self is not other

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not None:` "
                        "to test a tensor's existence, or run the graph to get its value.")

    def __iter__(self):
        # TF1 graph mode refuses to iterate; tideflow unstacks along a known first dimension (what
        # tf.unstack(t) builds), so `a, b = t` works. Built here with apply_op: framework sits below ops/.
        shape = self.shape
        if shape.ndims is None or _dimension_value(shape[0]) is None:
            raise TypeError("Cannot iterate over a tensor whose first dimension is unknown: %s" % self.name)
        return iter(apply_op("Unpack", [self], {"num": _dimension_value(shape[0]), "axis": 0}, name="unstack").outputs)

    def __len__(self):
        raise TypeError("len is not well defined for symbolic Tensors (%s). Use tf.shape(x)[0]." % self.name)

    # Note [operators installed by the op modules]
    # Tensor knows no arithmetic: the op modules that define the ops install the Python operators, as
    # TensorFlow does (math_ops: + - * / // % ** < <= > >= & | ^ ~ unary - abs; linalg_ops: @; array_ops:
    # indexing). So framework/ never imports ops/, and an operator is built by the same wrapper as the
    # function (`x + y` is math_ops' add through apply_op). ops/state_ops forwards each of them from
    # Variable to these. __eq__/__ne__ stay identity comparisons (TF1), so they are not in the set.
    OVERLOADABLE_OPERATORS = frozenset((
        "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
        "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__", "__matmul__",
        "__rmatmul__", "__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__", "__lt__", "__le__",
        "__gt__", "__ge__", "__neg__", "__abs__", "__invert__", "__getitem__"))

    @classmethod
    def _override_operator(cls, operator, func):
        """Installs `func` as Tensor's `operator` (TensorFlow's Tensor._override_operator)."""
        if operator not in cls.OVERLOADABLE_OPERATORS:
            raise ValueError("Overriding %s is disallowed" % operator)
        setattr(cls, operator, func)


# ---------------------------------------------------------------------------------------------------
# Conversion

_conversion_functions = []  # (type, fn)


def register_tensor_conversion_function(base_type, conversion_func, priority=100):
    """Registers `conversion_func(value, dtype, name, as_ref)` to turn instances of `base_type` into tensors in convert_to_tensor (lower `priority` first)."""
    _conversion_functions.append((base_type, conversion_func))


def _np_value(value, dtype):
    """TF's conversion of Python values: ints become int32, floats float32, bools bool, strings string."""
    if dtype is not None:
        dtype = _dtypes.as_dtype(dtype)
        if dtype is _dtypes.string:
            return np.asarray(value, dtype=object)
        if dtype.is_integer and not isinstance(value, (np.ndarray, np.generic)) and np.asarray(value).dtype.kind == "f":
            raise TypeError("Expected %s, got %r of type '%s' instead." % (dtype.name, value, type(value).__name__))
        try:
            return np.asarray(value, dtype=_dtypes._np_for(dtype))
        except OverflowError:  # NumPy's untyped error for a Python int the dtype cannot hold
            raise ValueError("Can't convert Python int %s to a %s tensor: value out of range"
                             % (str(value)[:100], dtype.name)) from None
    arr = np.asarray(value)
    if arr.dtype.kind in "SUO":
        return np.asarray(value, dtype=object)
    if arr.dtype == np.float64 and not isinstance(value, np.ndarray) and not isinstance(value, np.generic):
        return arr.astype(np.float32)
    if arr.dtype == np.int64 and not isinstance(value, np.ndarray) and not isinstance(value, np.generic):
        if arr.size and (arr.max() > 2**31 - 1 or arr.min() < -2**31):
            return arr
        return arr.astype(np.int32)
    _dtypes.as_dtype(arr.dtype)  # raises for unsupported dtypes
    return arr


def _string_bytes(x):
    """One element of a string tensor: str and bytes only, as TensorFlow (bytes(3) would be 3 NUL bytes)."""
    if isinstance(x, str):
        return x.encode()
    if isinstance(x, (bytes, bytearray, np.bytes_)):
        return bytes(x)
    raise TypeError("Expected string, but got %r of type '%s'." % (x, type(x).__name__))


def _string_value(arr):
    arr = np.asarray(arr, dtype=object)
    flat = [_string_bytes(x) for x in arr.reshape(-1)]
    return ("strings", list(arr.shape), flat)


_eager = None  # tideflow.eager.execute, set when it loads
executing_eagerly = _core.executing_eagerly  # control_flow_ops asks here (Note [eager control flow])


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, as_ref=False):
    """Tensors pass through (dtype checked); Variables give their value; anything else becomes a Const."""
    if _core.executing_eagerly() or getattr(value, "_is_eager", False):
        return _eager.convert_to_tensor(value, dtype, name, preferred_dtype, as_ref)
    if isinstance(value, Tensor):
        if dtype is not None and _dtypes.as_dtype(dtype) is not value.dtype:
            raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s: %r"
                             % (_dtypes.as_dtype(dtype).name, value.dtype.name, value))
        return value
    for base, fn in _conversion_functions:
        if isinstance(value, base):
            return fn(value, dtype=dtype, name=name, as_ref=as_ref)
    if isinstance(value, Operation):
        raise TypeError("Can't convert Operation '%s' to Tensor (target dtype=%s, name=%s)"
                        % (value.name, dtype, name))
    if dtype is None and preferred_dtype is not None:
        try:
            return constant_op(value, preferred_dtype, name=name)
        except (TypeError, ValueError):
            pass
    return constant_op(value, dtype, name=name)


convert_to_tensor_v2 = convert_to_tensor


def constant_op(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """A constant tensor holding `value` (a Python or NumPy value), cast to `dtype` and, if `shape` is given,
    broadcast from a scalar or reshaped to it.

    Raises:
      TypeError: value cannot be converted to dtype. ValueError: value does not fit `shape` (or differs with
      verify_shape).
    """
    if _core.executing_eagerly():
        return _eager.constant(value, dtype, shape, name, verify_shape)
    arr = _constant_array(value, dtype, shape, verify_shape)
    dt = _dtypes.as_dtype(dtype if dtype is not None else arr.dtype)  # bfloat16 values may be float32 arrays
    value_attr = _string_value(arr) if dt is _dtypes.string else _dtypes._core_value(
        arr if arr.flags.c_contiguous else np.ascontiguousarray(arr), dt)
    return apply_op("Const", [], {"value": value_attr, "dtype": dt._enum}, name=name or "Const").outputs[0]


def _constant_array(value, dtype, shape, verify_shape):
    arr = _np_value(value, dtype)
    if shape is not None:
        shape = [int(d) for d in as_shape(shape).as_list()]
        if arr.size == 1 or arr.ndim == 0:
            arr = np.full(shape, arr.reshape(-1)[0] if arr.size else 0, dtype=arr.dtype)
        elif int(np.prod(shape)) == arr.size and not verify_shape:
            arr = arr.reshape(shape)
        else:
            raise TypeError("Expected Tensor's shape: %s, got %s." % (tuple(shape), arr.shape)
                            if verify_shape else
                            "Eager execution of tf.constant with unsupported shape (value has %d elements, "
                            "shape is %s with %d elements)." % (arr.size, tuple(shape), int(np.prod(shape))))
    return arr


def is_tensor(x):
    """True for a tf.Tensor, EagerTensor, Variable, IndexedSlices or anything registered as tensor-like."""
    return isinstance(x, Tensor) or any(isinstance(x, b) for b, _ in _conversion_functions)


# ---------------------------------------------------------------------------------------------------
# Graph


class Graph:
    """A dataflow graph. Nodes live in C++; Python keeps handles, scopes and collections."""

    def __init__(self):
        self._c = _core.Graph()
        self._ops = []  # node id -> Operation (created lazily)
        self._name_stack = ""
        self._control_deps = []  # list of lists of Operations, innermost last
        self._device_stack = []
        self._collections = {}
        self._seed = None
        self._seed_offset = 0
        self._lock = threading.RLock()
        self._attr_scope = {}
        self._variable_scope_store = None  # set by variable_scope
        self._finalized = False
        self._gradient_override_map = {}  # op type -> gradient name, inside gradient_override_map
        self._grad_overrides = {}         # node id -> gradient name (Note [gradient overrides])

    # ---- nodes ----
    def _op(self, node_id):
        ops = self._ops
        if node_id >= len(ops):
            ops.extend([None] * (node_id + 1 - len(ops)))
        op = ops[node_id]
        if op is None:
            op = ops[node_id] = Operation(self, node_id)
        return op

    def _tensor(self, node_id, index):
        op = self._op(node_id)
        if index >= len(op._outputs):  # an If gains outputs for the saved values its gradient reads
            c = self._c
            op._outputs += tuple(Tensor(op, i, _dtypes.as_dtype(c.output_dtype(node_id, i)))
                                 for i in range(len(op._outputs), c.node_num_outputs(node_id)))
        return op._outputs[index]

    def _unique_op_name(self, name):
        if name.endswith("/"):  # a scope name used as an op name: taken as it is (TF semantics)
            return name[:-1]
        return self.unique_name(name)

    def create_op(self, op_type, inputs, attrs=None, name=None, control_inputs=()):
        """Adds a node (TF's Graph.create_op): inputs are Tensors of this graph. Op wrappers call apply_op,
        the mode-aware entry point, rather than this."""
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        if name is not None and not isinstance(name, str):  # tf.shape(x, tf.int64): a dtype where name goes
            raise TypeError("expected string or bytes-like object, got '%s'" % type(name).__name__)
        name = self._unique_op_name(name or op_type)
        ctrl = []
        for deps in self._control_deps:
            ctrl.extend(deps)
        ctrl.extend(control_inputs)
        seen = set()
        for c in ctrl:
            if c._graph is not self:
                raise ValueError("Operation %s must be from the same graph as the op being created (%s)."
                                 % (c.name, name))
        ctrl_ids = [c._id for c in ctrl if not (c._id in seen or seen.add(c._id))]
        device = self._device_stack[-1] if self._device_stack else ""
        if callable(device):  # a device function (tf.device(fn)) picks the device from the op it is given
            device = _DeviceFunctionArg(op_type, name).device_from(device)
        node_id = self._c.add_node(op_type, name, [t._key() for t in inputs], attrs or {}, ctrl_ids,
                                   _user_location(), device)
        override = self._gradient_override_map.get(op_type)
        if override is not None:
            self._grad_overrides[node_id] = override
        return self._op(node_id)

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map):
        """Ops of the mapped types created inside take the named gradient instead of their own: a
        function registered with tf.RegisterGradient, or another op type's rule (e.g. "Identity")."""
        if not isinstance(op_type_map, dict):
            raise TypeError("op_type_map must be a dictionary mapping strings to strings")
        saved = dict(self._gradient_override_map)
        for op_type, grad_name in op_type_map.items():
            if not (isinstance(op_type, str) and isinstance(grad_name, str)):
                raise TypeError("op_type_map must be a dictionary mapping strings to strings")
            self._gradient_override_map[op_type] = grad_name
        try:
            yield
        finally:
            self._gradient_override_map = saved

    def unique_name(self, name, mark_as_used=True):
        """`name` made unique in this graph (name, name_1, ...) under the current name scope; recorded as used when mark_as_used."""
        if self._name_stack:
            name = self._name_stack + "/" + name
        return self._c.unique_name(name, mark_as_used)

    def get_name_scope(self):
        """The current name scope ("" at the top), e.g. "layer1/dense"."""
        return self._name_stack

    def get_operations(self):
        """The graph's operations in creation order."""
        return [self._op(i) for i in range(self._c.num_nodes())]

    def get_operation_by_name(self, name):
        """The operation named `name`.

        Raises:
          KeyError: no such operation. TypeError / ValueError: `name` is not an operation name.
        """
        if not isinstance(name, str):
            raise TypeError("Operation names are strings (or similar), not %s." % type(name).__name__)
        node_id = self._c.find(name)
        if node_id < 0:
            raise KeyError("The name %r refers to an Operation not in the graph." % name)
        return self._op(node_id)

    def get_tensor_by_name(self, name):
        """The tensor named `name` ("op_name:index").

        Raises:
          KeyError: no such operation or output. ValueError: the name has no ":index".
        """
        if not isinstance(name, str):
            raise TypeError("Tensor names are strings (or similar), not %s." % type(name).__name__)
        m = re.match(r"^(.*):(\d+)$", name)
        if not m:
            raise ValueError("The name %r looks like an (invalid) Operation name, not a Tensor. Tensor names "
                             "must be of the form \"<op_name>:<output_index>\"." % name)
        op = self.get_operation_by_name(m.group(1))
        i = int(m.group(2))
        if i >= len(op._outputs):
            raise KeyError("The name %r refers to a Tensor which does not exist. The operation, %r, exists "
                           "but only has %d outputs." % (name, op.name, len(op._outputs)))
        return op._outputs[i]

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        """The Tensor or Operation that `obj` (a tensor, an operation, a variable, or their names) stands for.

        Raises:
          TypeError: obj cannot be one (or the kind is not allowed). ValueError: it belongs to another graph.
          KeyError: no element has that name.
        """
        if isinstance(obj, str):
            if ":" in obj and allow_tensor:
                return self.get_tensor_by_name(obj)
            if allow_operation:
                return self.get_operation_by_name(obj)
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError("Tensor %s is not an element of this graph." % obj)
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError("Operation %s is not an element of this graph." % obj)
            return obj
        if hasattr(obj, "_as_graph_element"):
            return self.as_graph_element(obj._as_graph_element(), allow_tensor, allow_operation)
        raise TypeError("Can not convert a %s into a Tensor or Operation." % type(obj).__name__)

    def as_graph_def(self, from_version=None, add_shapes=False):
        """The graph as a TensorFlow GraphDef message, which TensorFlow imports (framework/tf_export.py)."""
        return _graph_def_writer[0](self, add_shapes=add_shapes)

    def finalize(self):
        """Makes the graph read-only: adding an operation afterwards raises RuntimeError (MonitoredSession does this)."""
        self._finalized = True
        self._c.finalize()

    @property
    def finalized(self):
        """Whether finalize() was called."""
        return self._finalized

    @property
    def version(self):
        """The number of operations created so far (grows as ops are added)."""
        return self._c.num_nodes()

    # ---- seeds ----
    @property
    def seed(self):
        """The graph-level random seed (tf.set_random_seed), or None."""
        return self._seed

    @seed.setter
    def seed(self, s):
        """The graph-level random seed (tf.set_random_seed), or None."""
        self._seed = s
        self._seed_offset = 0

    # ---- contexts ----
    def as_default(self):
        """A context manager making this the default graph: ops built inside go into it."""
        return _default_graph_stack.get_controller(self)

    @contextlib.contextmanager
    def name_scope(self, name):
        """Graph.name_scope: a name is uniquified and nested under the current scope; one ending in "/"
        re-enters that absolute scope; None or "" resets to the root. Yields the scope with its "/"."""
        if isinstance(name, bytes):
            name = name.decode()
        if name:
            # Nested scopes may start with "_" or "-", root scopes must look like op names (TF's rules).
            kind, regex = ("", _VALID_SCOPE_NAME_REGEX) if self._name_stack else ("root ", _VALID_OP_NAME_REGEX)
            if not regex.match(name):
                raise ValueError("'%s' is not a valid %sscope name. A %sscope name has to match the following "
                                 "pattern: %s" % (name, kind, kind, regex.pattern))
        old = self._name_stack
        if not name:
            new, returned = "", ""
        elif name.endswith("/"):
            new, returned = name[:-1], name
        else:
            new = self.unique_name(name)
            returned = new + "/"
        self._name_stack = new
        try:
            yield returned
        finally:
            self._name_stack = old

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """A context manager: ops built inside run only after `control_inputs`; None clears the enclosing dependencies."""
        if control_inputs is None:
            saved, self._control_deps = self._control_deps, []
            try:
                yield
            finally:
                self._control_deps = saved
            return
        ops = []
        for c in control_inputs:
            if hasattr(c, "_as_graph_element") and not isinstance(c, (Tensor, Operation)):
                c = c._as_graph_element()
            if isinstance(c, Tensor):
                c = c.op
            if not isinstance(c, Operation):
                raise TypeError("Control input must be Operation or Tensor: %r" % (c,))
            ops.append(c)
        self._control_deps.append(ops)
        try:
            yield
        finally:
            self._control_deps.pop()

    @contextlib.contextmanager
    def device(self, device_name):
        """A context manager recording a device on the ops built inside (tideflow runs on the CPU)."""
        self._device_stack.append(device_name or "")
        try:
            yield
        finally:
            self._device_stack.pop()

    # ---- collections ----
    def add_to_collection(self, name, value):
        """Adds `value` to collection `name`."""
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        """Adds `value` to each collection in `names`."""
        for n in ([names] if isinstance(names, str) else set(names)):
            self.add_to_collection(n, value)

    def get_collection_ref(self, name):
        """The list of collection `name` itself, created empty if missing (modify it in place)."""
        return self._collections.setdefault(name, [])

    def get_collection(self, name, scope=None):
        """A copy of collection `name`, optionally only the items whose `name` matches the regular expression `scope`."""
        items = self._collections.get(name, [])
        if scope is None:
            return list(items)
        c = re.compile(scope)
        return [x for x in items if hasattr(x, "name") and c.match(x.name)]

    def get_all_collection_keys(self):
        """The names of the graph's non-empty collections."""
        return [k for k in self._collections if isinstance(k, str)]

    def clear_collection(self, name):
        """Empties collection `name`."""
        self._collections.pop(name, None)


# ---------------------------------------------------------------------------------------------------
# Default graph stack (thread-local stacks over one process-wide default graph)


class _DefaultStack(threading.local):
    def __init__(self):
        super().__init__()
        self.stack = []

    @contextlib.contextmanager
    def get_controller(self, default):
        self.stack.append(default)
        try:
            yield default
        finally:
            if self.stack and self.stack[-1] is default:
                self.stack.pop()
            elif default in self.stack:
                self.stack.remove(default)


class _DefaultGraphStack(_DefaultStack):
    _global_default = None

    @contextlib.contextmanager
    def get_controller(self, default):
        _core._enter_graph()  # graph mode inside, also in an eager program (Note [eager mode])
        try:
            with super().get_controller(default) as g:
                yield g
        finally:
            _core._exit_graph()

    def get_default(self):
        if self.stack:
            return self.stack[-1]
        if _DefaultGraphStack._global_default is None:
            _DefaultGraphStack._global_default = Graph()
        return _DefaultGraphStack._global_default

    def reset(self):
        if self.stack:
            raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. If you need a "
                                 "cleared graph, exit the nesting and create a new graph.")
        _DefaultGraphStack._global_default = Graph()


_default_graph_stack = _DefaultGraphStack()
_default_session_stack = _DefaultStack()


def get_default_graph():
    """The graph new ops go into: the innermost `with g.as_default()` graph, else the global default graph."""
    return _default_graph_stack.get_default()


def reset_default_graph():
    """Replaces the global default graph with a new empty one.

    Raises:
      AssertionError: called inside a `with g.as_default()` block or with a default session open (TensorFlow's rule).
    """
    _default_graph_stack.reset()


def get_default_session():
    """The innermost session entered with `with sess:` / `sess.as_default()`, or None."""
    s = _default_session_stack.stack
    return s[-1] if s else None


def _session_for(graph, session):
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError("Cannot evaluate tensor using `eval()`: No default session is registered. Use "
                             "`with sess.as_default()` or pass an explicit session to `eval(session=sess)`")
    if session.graph is not graph:
        raise ValueError("Cannot use the given session to evaluate tensor: the tensor's graph is different "
                         "from the session's graph.")
    return session


# ---------------------------------------------------------------------------------------------------
# Building ops


def _graph_of(inputs):
    for t in inputs:
        if type(t) is Tensor:
            return t.graph
        if isinstance(getattr(t, "graph", None), Graph):
            return t.graph
    return get_default_graph()


def apply_op(op_type, inputs, attrs=None, name=None, control_inputs=()):
    """The one entry point that builds an op from Python: op type, inputs, attributes, name.

    Every op wrapper in tideflow (ops/, train/, summary.py, losses.py, ...) comes here; nothing else calls
    Graph.create_op or the C++ graph's add_node (tests/test_layers.py checks it). This is therefore the
    only place that knows the execution mode. In graph mode the node is added to the default graph, where
    its shape function runs at once (shape and dtype errors raise here, naming the user's file:line) and
    the current name scope, control dependencies, device and gradient overrides apply; the Operation is
    returned. In eager mode the op's shape function and kernel run at once on the input values and eager
    tensors come back, with no graph node (Note [eager execution] in cpp/eager.h).

    `inputs` are Tensors of the default graph; any other value (a Python number, list, ndarray, a
    Variable) is converted with convert_to_tensor. `attrs` maps attribute names to values as the op's
    registry row declares them. `name` defaults to the op type and is made unique in the current scope."""
    _attr_types.check(op_type, attrs)  # Note [attribute kinds]
    if _core.executing_eagerly():
        return _eager.apply_op(op_type, inputs, attrs, name)
    g = get_default_graph()
    tensors = []
    for x in inputs:
        t = x if type(x) is Tensor else convert_to_tensor(x)
        if t.graph is not g and getattr(g, "_capture_outer", None) is not None:
            t = g._capture_outer(t)  # a tf.data function's graph reads the outer graph's tensor (data/)
        if t.graph is not g:
            raise ValueError("Tensor %s must be from the same graph as the op being created (%s)."
                             % (t.name, name or op_type))
        tensors.append(t)
    return g.create_op(op_type, tensors, attrs, name, control_inputs)


def apply1(op_type, inputs, attrs=None, name=None):
    """apply_op for the common single-output op: returns its output Tensor."""
    if _core.executing_eagerly():
        _attr_types.check(op_type, attrs)
        return _eager.apply1(op_type, inputs, attrs, name)
    return apply_op(op_type, inputs, attrs, name)._outputs[0]


def name_scope(name, default_name=None, values=None):
    """tf.name_scope (TF1): `name`, else `default_name`, opened with Graph.name_scope in the graph of
    `values` (else the default graph), which becomes the default graph inside. Eagerly it only names the
    eager variables made inside (a cheap object, not a generator: every eager op opens one)."""
    n = default_name if name is None else name
    if n is None and values is not None:
        # tf.name_scope(None) with no values is the idiom that resets to the root scope; with values it is
        # a mistake.
        raise ValueError("At least one of name (%s) and default_name (%s) must be provided."
                         % (name, default_name))
    if n is not None and not isinstance(n, (str, bytes)):
        raise TypeError("name_scope name must be a string, got %r" % (n,))
    if _core.executing_eagerly():
        return _eager.NameScope(n)
    return _graph_name_scope(n, values)


@contextlib.contextmanager
def _graph_name_scope(n, values):
    g = _graph_of(values) if values else get_default_graph()
    with g.as_default(), g.name_scope(n) as scope:
        yield scope


def get_name_scope():
    if _core.executing_eagerly():
        return _eager.scope_name()[:-1]
    return get_default_graph().get_name_scope()


def control_dependencies(control_inputs):
    """A context manager: ops built inside run only after `control_inputs` (ops or tensors) have run; None clears the enclosing dependencies."""
    if _core.executing_eagerly():  # ops run in program order anyway
        return contextlib.nullcontext()
    return get_default_graph().control_dependencies(control_inputs)


class _DeviceFunctionArg:
    """What a device function sees of the op being created: its type and name as an Operation has them
    (`op.type`, `op.name`) and as a NodeDef does (`op.node_def.op`, `op.node_def.name`), and no device yet."""

    def __init__(self, op_type, name):
        self.type = self.op = op_type
        self.name = name
        self.device = ""
        self.node_def = self

    def device_from(self, fn):
        device = fn(self)
        if device is not None and not isinstance(device, str):
            device = getattr(device, "to_string", lambda: str(device))()
        return device or ""


def device(device_name):
    """A context manager recording `device_name_or_function` on the ops built inside (tideflow runs on the CPU)."""
    if _core.executing_eagerly():
        return contextlib.nullcontext()
    return get_default_graph().device(device_name)


def add_to_collection(name, value):
    """Adds `value` to the default graph's collection `name`."""
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    """Adds `value` to each of the default graph's collections `names`."""
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    """A copy of the default graph's collection `key`, optionally only items whose name matches the regular expression `scope`."""
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    """The default graph's collection `key` itself (a list to modify in place)."""
    return get_default_graph().get_collection_ref(key)
