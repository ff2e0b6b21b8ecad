"""tf.Variable (TF1 reference-variable semantics) and the assign family."""
import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.ops import GraphKeys
from ..framework.tensor_shape import TensorShape, as_shape
from ..framework.indexed_slices import IndexedSlices
from .. import _core
from . import array_ops, math_ops
from .control_flow_util import group, in_frame, no_op, outside_frames  # noqa: F401 (tf.group, tf.no_op here too)


class Variable:
    """A value that lives in the Session across runs. `name:0` reads it; `initializer` assigns the initial
    value; `value()` is a snapshot (`name/read`), as in TensorFlow 1.x. Operators are Tensor's (installed
    below). Created while executing eagerly (or by a tf.function's first trace) it is an eager variable
    instead (tideflow.eager.variables)."""
    __array_priority__ = 100  # ndarray <op> Variable defers to the Variable, as for Tensor

    def __new__(cls, *args, **kwargs):
        if cls is Variable and _eager_creator is not None:
            eager_cls = _eager_creator()
            if eager_cls is not None:
                return object.__new__(eager_cls)
        return object.__new__(cls)

    def __init__(self, initial_value=None, trainable=True, collections=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None, expected_shape=None,
                 import_scope=None, constraint=None, use_resource=None, synchronization=None,
                 aggregation=None, shape=None):
        if variable_def is not None:
            raise ValueError("variable_def is not supported; use tf.train.import_meta_graph")
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        collections = list(collections)
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        g = _ops.get_default_graph()
        # Like tf.init_scope: initializers ignore outer control deps, and a variable created inside a cond
        # branch or loop body (dynamic_rnn's cell) lives at the top level.
        with outside_frames(g), g.control_dependencies(None):
            with _ops.name_scope(name, "Variable", [] if callable(initial_value) else None) as scope:
                if isinstance(initial_value, _ops.Tensor) and in_frame(initial_value):
                    raise ValueError("Initializer for variable %s is from inside a control-flow construct, such as "
                                     "a loop or conditional. When creating a variable inside a loop or conditional, "
                                     "use a lambda as the initializer." % scope)
                if callable(initial_value):
                    initial_value = initial_value()
                init = initial_value if isinstance(initial_value, _ops.Tensor) else \
                    _ops.convert_to_tensor(initial_value, dtype=dtype, name="initial_value")
                if dtype is not None and init.dtype is not _dtypes.as_dtype(dtype):
                    init = math_ops.cast(init, dtype)
                var_shape = as_shape(shape) if shape is not None else init.shape
                if not validate_shape:
                    var_shape = TensorShape(None) if shape is None else var_shape
                elif not var_shape.is_fully_defined():
                    raise ValueError("initial_value must have a shape specified: %s" % init)
                self._variable = _ops.apply_op(
                    "VariableV2", [], {"shape": _core.Shape(None if var_shape.ndims is None else var_shape.as_list()),
                                       "dtype": init.dtype._enum}, name=scope).outputs[0]
                self._initial_value = init
                self._initializer_op = _ops.apply_op("Assign", [self._variable, init],
                                                     {"validate_shape": bool(validate_shape)}, name="Assign")
                self._snapshot = _ops.apply1("Identity", [self._variable], name="read")
        self._trainable = trainable
        self._save_slice_info = None
        self._constraint = constraint
        for c in collections:
            g.add_to_collection(c, self)
        g._variables_by_op = getattr(g, "_variables_by_op", {})
        g._variables_by_op[self._variable.op._id] = self

    @classmethod
    def _from_parts(cls, variable, initializer_op, initial_value, snapshot, trainable=True):
        """Rebuilds a Variable around existing graph nodes (meta-graph import)."""
        self = cls.__new__(cls)
        self._variable, self._initializer_op = variable, initializer_op
        self._initial_value, self._snapshot = initial_value, snapshot
        self._trainable, self._save_slice_info, self._constraint = trainable, None, None
        g = variable.graph
        g._variables_by_op = getattr(g, "_variables_by_op", {})
        g._variables_by_op[variable.op._id] = self
        return self

    # ---- identity ----
    name = property(lambda self: self._variable.name, doc='The variable\'s name, e.g. "w:0".')
    op = property(lambda self: self._variable.op, doc="The variable's VariableV2 operation.")
    graph = property(lambda self: self._variable.graph, doc='The Graph holding the variable.')
    dtype = property(lambda self: self._variable.dtype, doc="The variable's dtype (a reference dtype, e.g. float32_ref).")
    device = property(lambda self: self._variable.device, doc='The device recorded for the variable.')
    initializer = property(lambda self: self._initializer_op, doc='The op that assigns the initial value.')
    initial_value = property(lambda self: self._initial_value, doc='The tensor the variable is initialized from.')
    trainable = property(lambda self: self._trainable, doc='Whether optimizers update it by default (it is in TRAINABLE_VARIABLES).')
    constraint = property(lambda self: self._constraint, doc='The projection applied after optimizer updates, or None.')

    @property
    def shape(self):
        """The variable's static TensorShape."""
        return self._variable.shape

    def get_shape(self):
        """The variable's static TensorShape (as .shape)."""
        return self._variable.shape

    def set_shape(self, shape):
        """Refines the variable's static shape. Raises ValueError when incompatible."""
        self._variable.set_shape(shape)

    def value(self):
        """A tensor holding the variable's current value (a snapshot read)."""
        return self._snapshot

    def read_value(self):
        """A new read of the variable's value (a separate Identity node), e.g. inside control dependencies."""
        return _ops.apply1("Identity", [self._variable], name="read")

    def initialized_value(self):
        """The value after initialization: runs the initializer first when needed (TF1 semantics)."""
        with _ops.name_scope(self.op.name + "/"):
            return _ops.apply1("InitializedValue", [self._variable, self._initial_value], name="initialized_value")

    def _as_graph_element(self):
        return self._variable

    def _ref(self):
        return self._variable

    def eval(self, session=None):
        """The variable's value in `session` (or the default session) as a NumPy array.

        Raises:
          tf.errors.FailedPreconditionError: the variable is uninitialized.
        """
        return self._variable.eval(session=session)

    def load(self, value, session=None):
        """Writes `value` (a NumPy-convertible value of the variable's shape) into the variable, without adding ops.

        Raises:
          ValueError: no session, or value does not fit the variable's shape and dtype.
        """
        sess = _ops._session_for(self.graph, session)
        sess.run(self._initializer_op, {self._initial_value: value})

    # ---- updates ----
    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Sets the variable to `value`; returns the new value (or the assign op when read_value=False)."""
        return assign(self, value, name=name)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        """Adds `delta` to the variable; returns the new value."""
        return assign_add(self, delta, name=name)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        """Subtracts `delta` from the variable; returns the new value."""
        return assign_sub(self, delta, name=name)

    def count_up_to(self, limit):
        """Increments the (integer) variable, returning its value before; fails with OutOfRangeError once it reaches `limit`."""
        return count_up_to(self._variable, limit)

    # TF1's RefVariable takes the sparse rows as an IndexedSlices (indices along dimension 0).
    def _scatter(self, fn, sparse_delta, use_locking, name):
        if not isinstance(sparse_delta, IndexedSlices):
            raise TypeError("sparse_delta is not IndexedSlices: %s" % (sparse_delta,))
        return fn(self._variable, sparse_delta.indices, sparse_delta.values, use_locking=use_locking, name=name)

    def scatter_update(self, sparse_delta, use_locking=False, name=None):
        """ref[sparse_delta.indices] = sparse_delta.values (a tf.IndexedSlices), in place; returns the new value.

        Raises:
          InvalidArgumentError: an index is out of range (checked before any write).
        """
        return self._scatter(scatter_update, sparse_delta, use_locking, name)

    def scatter_add(self, sparse_delta, use_locking=False, name=None):
        """ref[sparse_delta.indices] += sparse_delta.values (a tf.IndexedSlices), in place; returns the new value.

        Raises:
          InvalidArgumentError: an index is out of range (checked before any write).
        """
        return self._scatter(scatter_add, sparse_delta, use_locking, name)

    def scatter_sub(self, sparse_delta, use_locking=False, name=None):
        """ref[sparse_delta.indices] -= sparse_delta.values (a tf.IndexedSlices), in place; returns the new value.

        Raises:
          InvalidArgumentError: an index is out of range (checked before any write).
        """
        return self._scatter(scatter_sub, sparse_delta, use_locking, name)

    def scatter_mul(self, sparse_delta, use_locking=False, name=None):
        """ref[sparse_delta.indices] *= sparse_delta.values (a tf.IndexedSlices), in place; returns the new value.

        Raises:
          InvalidArgumentError: an index is out of range (checked before any write).
        """
        return self._scatter(scatter_mul, sparse_delta, use_locking, name)

    def scatter_div(self, sparse_delta, use_locking=False, name=None):
        """ref[sparse_delta.indices] /= sparse_delta.values (a tf.IndexedSlices), in place; returns the new value.

        Raises:
          InvalidArgumentError: an index is out of range (checked before any write).
        """
        return self._scatter(scatter_div, sparse_delta, use_locking, name)

    def scatter_min(self, sparse_delta, use_locking=False, name=None):
        """ref[sparse_delta.indices] = min(self, values) at sparse_delta.values (a tf.IndexedSlices), in place; returns the new value.

        Raises:
          InvalidArgumentError: an index is out of range (checked before any write).
        """
        return self._scatter(scatter_min, sparse_delta, use_locking, name)

    def scatter_max(self, sparse_delta, use_locking=False, name=None):
        """ref[sparse_delta.indices] = max(self, values) at sparse_delta.values (a tf.IndexedSlices), in place; returns the new value.

        Raises:
          InvalidArgumentError: an index is out of range (checked before any write).
        """
        return self._scatter(scatter_max, sparse_delta, use_locking, name)

    def scatter_nd_update(self, indices, updates, name=None):
        """self[indices] = updates for the index tuples in the last dimension of `indices`, in place; returns the new value."""
        return scatter_nd_update(self._variable, indices, updates, use_locking=True, name=name)

    def scatter_nd_add(self, indices, updates, name=None):
        """self[indices] += updates for the index tuples in the last dimension of `indices`, in place; returns the new value."""
        return scatter_nd_add(self._variable, indices, updates, name=name)

    def scatter_nd_sub(self, indices, updates, name=None):
        """self[indices] -= updates for the index tuples in the last dimension of `indices`, in place; returns the new value."""
        return scatter_nd_sub(self._variable, indices, updates, name=name)

    def scatter_nd_min(self, indices, updates, name=None):
        """self[indices] = min(self, updates) at updates for the index tuples in the last dimension of `indices`, in place; returns the new value."""
        return _scatter("ScatterNdMin", self._variable, indices, updates, True, name)

    def scatter_nd_max(self, indices, updates, name=None):
        """self[indices] = max(self, updates) at updates for the index tuples in the last dimension of `indices`, in place; returns the new value."""
        return _scatter("ScatterNdMax", self._variable, indices, updates, True, name)

    def __repr__(self):
        return "<tf.Variable '%s' shape=%s dtype=%s_ref>" % (self.name, self.shape, self.dtype.name)

    __hash__ = object.__hash__  # identity, in C (as Tensor's)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __iter__(self):
        return iter(self._snapshot)

    def __bool__(self):
        raise TypeError("Using a `tf.Variable` as a Python `bool` is not allowed.")


def _var_to_tensor(v, dtype=None, name=None, as_ref=False):
    # Note [reads under control dependencies]
    # TF1's snapshot aliases the variable's buffer, so `with tf.control_dependencies([update]):
    # tf.identity(v)` sees the update. Our reads are copy-on-write snapshots, so inside a
    # control_dependencies block a variable is read by a fresh op that carries those dependencies.
    # Inside a cond branch or loop body a read is a node of that frame, run each time the frame runs, so it
    # sees the assignments ordered before it (Note [control flow] in cpp/ops/control_flow.cc).
    if as_ref:
        t = v._variable
    elif v.graph is _ops.get_default_graph() and (v.graph._control_deps or _core.current_frame(v.graph._c) >= 0):
        t = _ops.apply1("Identity", [v._variable], name="read")
    else:
        t = v._snapshot
    if dtype is not None and _dtypes.as_dtype(dtype) is not t.dtype:
        raise ValueError("Incompatible type conversion requested to type '%s' for variable of type '%s'"
                         % (_dtypes.as_dtype(dtype).name, t.dtype.name))
    return t


_ops.register_tensor_conversion_function(Variable, _var_to_tensor)
_eager_creator = None  # set by tideflow.eager: returns the eager variable class when one should be made


def _forward_operator(operator):
    # Tensor's operators convert their operands (through _var_to_tensor for a Variable) inside the op's own
    # name scope, so a Variable is passed on as it is: under control dependencies its fresh read lands in
    # that scope, as when the operator was installed on Variable directly. Looked up at call time: linalg_ops
    # installs `@` after this module loads.
    def run_op(self, *args):
        return getattr(_ops.Tensor, operator)(self, *args)
    run_op.__name__ = operator
    return run_op


for _operator in _ops.Tensor.OVERLOADABLE_OPERATORS - {"__getitem__"}:
    setattr(Variable, _operator, _forward_operator(_operator))
del _operator
# Indexing slices the snapshot; `var` rides along for TF's sliced assignment signature.
Variable.__getitem__ = lambda self, slice_spec: array_ops._slice_helper(self.value(), slice_spec, self)
RefVariable = Variable
VariableV1 = Variable


def _ref_of(ref, what):
    if isinstance(ref, Variable):
        return ref._variable
    if isinstance(ref, _ops.Tensor) and ref.op.type == "VariableV2":
        return ref
    raise TypeError("%s requires a variable as its first argument, got %r" % (what, ref))


def _update(op_type, ref, value, name, attrs=None):
    r = _ref_of(ref, op_type)
    if not isinstance(value, _ops.Tensor):  # a Tensor of another dtype fails in the op's TypeError
        value = _ops.convert_to_tensor(value, dtype=r.dtype)
    return _ops.apply1(op_type, [r, value], attrs, name=name or op_type)


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """Sets the variable `ref` to `value` (shape checked unless validate_shape=False); returns the new value.

    Raises:
      ValueError: the shapes are incompatible.
    """
    return _update("Assign", ref, value, name, {"validate_shape": validate_shape is not False})


def assign_add(ref, value, use_locking=None, name=None):
    """ref += value on the variable `ref`; returns the new value."""
    return _update("AssignAdd", ref, value, name)


def assign_sub(ref, value, use_locking=None, name=None):
    """ref -= value on the variable `ref`; returns the new value."""
    return _update("AssignSub", ref, value, name)


# Note [scatter locking]
# The scatter kernels always hold the variable's lock (Note [variable updates] in cpp/ops/state.cc), so
# use_locking only records TF's attribute; the defaults are TF's (True for the *_update ops).
def _scatter(op_type, ref, indices, updates, use_locking, name):
    r = _ref_of(ref, "tf." + op_type)
    if not isinstance(indices, _ops.Tensor):
        indices = _ops.convert_to_tensor(indices, name="indices")
    if not isinstance(updates, _ops.Tensor):
        updates = _ops.convert_to_tensor(updates, dtype=r.dtype, name="updates")
    return _ops.apply1(op_type, [r, indices, updates], {"use_locking": bool(use_locking)}, name=name or op_type)


def scatter_update(ref, indices, updates, use_locking=True, name=None):
    """ref[indices[i], ...] = updates[i, ...]; with repeated indices the last row wins."""
    return _scatter("ScatterUpdate", ref, indices, updates, use_locking, name)


def scatter_add(ref, indices, updates, use_locking=False, name=None):
    """ref[indices, ...] += updates, in place on the variable `ref`; returns ref's new value (`use_locking` is
    accepted). Repeated indices apply in order.

    Raises:
      InvalidArgumentError: an index is outside [0, ref.shape[0]) (checked before any write).
    """
    return _scatter("ScatterAdd", ref, indices, updates, use_locking, name)


def scatter_sub(ref, indices, updates, use_locking=False, name=None):
    """ref[indices, ...] -= updates, in place on the variable `ref`; returns ref's new value (`use_locking` is
    accepted). Repeated indices apply in order.

    Raises:
      InvalidArgumentError: an index is outside [0, ref.shape[0]) (checked before any write).
    """
    return _scatter("ScatterSub", ref, indices, updates, use_locking, name)


def scatter_mul(ref, indices, updates, use_locking=False, name=None):
    """ref[indices, ...] *= updates, in place on the variable `ref`; returns ref's new value (`use_locking` is
    accepted). Repeated indices apply in order.

    Raises:
      InvalidArgumentError: an index is outside [0, ref.shape[0]) (checked before any write).
    """
    return _scatter("ScatterMul", ref, indices, updates, use_locking, name)


def scatter_div(ref, indices, updates, use_locking=False, name=None):
    """ref[indices, ...] /= updates, in place on the variable `ref`; returns ref's new value (`use_locking` is
    accepted). Repeated indices apply in order.

    Raises:
      InvalidArgumentError: an index is outside [0, ref.shape[0]) (checked before any write).
    """
    return _scatter("ScatterDiv", ref, indices, updates, use_locking, name)


def scatter_min(ref, indices, updates, use_locking=False, name=None):
    """ref[indices, ...] = min(ref, updates) at updates, in place on the variable `ref`; returns ref's new value (`use_locking` is
    accepted). Repeated indices apply in order.

    Raises:
      InvalidArgumentError: an index is outside [0, ref.shape[0]) (checked before any write).
    """
    return _scatter("ScatterMin", ref, indices, updates, use_locking, name)


def scatter_max(ref, indices, updates, use_locking=False, name=None):
    """ref[indices, ...] = max(ref, updates) at updates, in place on the variable `ref`; returns ref's new value (`use_locking` is
    accepted). Repeated indices apply in order.

    Raises:
      InvalidArgumentError: an index is outside [0, ref.shape[0]) (checked before any write).
    """
    return _scatter("ScatterMax", ref, indices, updates, use_locking, name)


def scatter_nd_update(ref, indices, updates, use_locking=True, name=None):
    """ref[indices[i]] = updates[i] where each indices[i] (the last axis) indexes a leading part of ref."""
    return _scatter("ScatterNdUpdate", ref, indices, updates, use_locking, name)


def scatter_nd_add(ref, indices, updates, use_locking=False, name=None):
    """ref[indices] += updates for the index tuples in the last dimension of `indices`, in place on the variable
    `ref`; returns ref's new value.

    Raises:
      InvalidArgumentError: an index is out of range (checked before any write).
    """
    return _scatter("ScatterNdAdd", ref, indices, updates, use_locking, name)


def scatter_nd_sub(ref, indices, updates, use_locking=False, name=None):
    """ref[indices] -= updates for the index tuples in the last dimension of `indices`, in place on the variable
    `ref`; returns ref's new value.

    Raises:
      InvalidArgumentError: an index is out of range (checked before any write).
    """
    return _scatter("ScatterNdSub", ref, indices, updates, use_locking, name)


def count_up_to(ref, limit, name=None):
    """Increments the integer scalar variable `ref` and returns its old value; OutOfRangeError once it has
    reached `limit`."""
    return _ops.apply1("CountUpTo", [_ref_of(ref, "tf.count_up_to")], {"limit": int(limit)},
                       name=name or "CountUpTo")


def is_variable_initialized(variable):
    """A bool scalar: whether `variable` holds a value yet."""
    return _ops.apply1("IsVariableInitialized", [_ref_of(variable, "is_variable_initialized")],
                       name="IsVariableInitialized")


def global_variables(scope=None):
    """The variables in the GLOBAL_VARIABLES collection (all tf.Variable / get_variable ones but local ones), optionally those whose name matches the regular expression `scope`."""
    return _ops.get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


def local_variables(scope=None):
    """The variables in the LOCAL_VARIABLES collection, optionally filtered by the regular expression `scope`."""
    return _ops.get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def trainable_variables(scope=None):
    """The variables in the TRAINABLE_VARIABLES collection (what optimizers update by default), optionally filtered by the regular expression `scope`."""
    return _ops.get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def model_variables(scope=None):
    """The variables in the MODEL_VARIABLES collection, optionally filtered by the regular expression `scope`."""
    return _ops.get_collection(GraphKeys.MODEL_VARIABLES, scope)


def variables_initializer(var_list, name="init"):
    """One op that runs the initializers of `var_list` (a no-op for an empty list)."""
    if not var_list:
        return no_op(name=name)
    return group(*[v.initializer for v in var_list], name=name)


def global_variables_initializer():
    """One op that initializes every global variable: run it before using them."""
    return variables_initializer(global_variables(), name="init")


def local_variables_initializer():
    """One op that initializes every local variable."""
    return variables_initializer(local_variables(), name="init")


initialize_all_variables = global_variables_initializer
initialize_variables = variables_initializer
all_variables = global_variables


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """A string tensor with the names of the variables not yet initialized in the running Session."""
    if var_list is None:
        var_list = global_variables() + local_variables()
    with _ops.name_scope(name):
        if not var_list:
            return _ops.constant_op(np.array([], dtype=object), name="Const")
        flags = [is_variable_initialized(v) for v in var_list]
        names = _ops.constant_op(np.array([v.op.name.encode() for v in var_list], dtype=object))
        return _ops.apply1("ReportUninitialized", [names] + flags, name="boolean_mask")


def assert_variables_initialized(var_list=None):
    """An op failing with FailedPreconditionError when one of `var_list` (all global variables when None) is uninitialized."""
    return report_uninitialized_variables(var_list)

