"""Variable scopes and tf.get_variable, with TensorFlow 1.x semantics.

Note [variable scopes and name scopes]
A variable scope names the variables made by tf.get_variable; a name scope names ops. tf.variable_scope
opens both: its variable scope is "outer/name" (never uniquified when named, so that re-opening it shares
variables), while its name scope is uniquified like any name scope ("name", then "name_1"...). So re-opening
`variable_scope("s")` gives variables "s/v" but ops "s_1/op". Entering with a VariableScope object also opens
a fresh name scope (from the last part of its name); its `original_name_scope` stays the first one.
tf.get_variable names variables by the variable scope alone: it clears the name scope while it builds one.
Scopes opened with only a default_name are uniquified as variable scopes too ("dense", "dense_1"), counted
per enclosing scope by the store below, as TF does.
"""
import enum
import functools
import inspect
import threading

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.ops import GraphKeys
from ..framework.tensor_shape import as_shape
from . import init_ops
from . import state_ops

__all__ = ["AUTO_REUSE", "VariableScope", "variable_scope", "variable_op_scope", "get_variable_scope",
           "get_variable", "get_local_variable", "no_regularizer"]


class _ReuseMode(enum.Enum):
    """reuse=tf.AUTO_REUSE: get_variable returns the variable when it exists and creates it otherwise."""
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE


def no_regularizer(_):
    """A regularizer that adds nothing: overrides a scope's default regularizer for one variable."""
    return None


# ---------------------------------------------------------------------------------------------------
# Per-graph stores


class _VariableStore:
    """The variables made by tf.get_variable in one graph, by full name."""

    def __init__(self):
        self._vars = {}

    def get_variable(self, name, shape=None, dtype=_dtypes.float32, initializer=None, regularizer=None,
                     reuse=None, trainable=None, collections=None, caching_device=None, partitioner=None,
                     validate_shape=True, use_resource=None, custom_getter=None, constraint=None, **kwargs):
        if custom_getter is not None and not callable(custom_getter):
            raise ValueError("Passed a custom_getter which is not callable: %s" % custom_getter)
        if partitioner is not None:
            raise ValueError("Partitioned variables are not supported (variable %s was given a partitioner)."
                             % name)
        if trainable is None:
            trainable = True

        def true_getter(name, shape=None, dtype=_dtypes.float32, initializer=None, regularizer=None,
                        reuse=None, trainable=True, collections=None, caching_device=None, partitioner=None,
                        validate_shape=True, use_resource=None, constraint=None, **_):
            if "%s/part_0" % name in self._vars:
                raise ValueError("No partitioner was provided, but a partitioned version of the variable was "
                                 "found: %s/part_0. Perhaps a variable of the same name was already created "
                                 "with partitioning?" % name)
            return self._get_single_variable(name, shape, dtype, initializer, regularizer, reuse, trainable,
                                             collections, validate_shape, constraint)

        args = dict(name=name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                    reuse=reuse, trainable=trainable, collections=collections, caching_device=caching_device,
                    partitioner=partitioner, validate_shape=validate_shape, use_resource=use_resource,
                    constraint=constraint)
        if custom_getter is not None:
            return custom_getter(getter=true_getter, **args)
        return true_getter(**args)

    def _get_single_variable(self, name, shape, dtype, initializer, regularizer, reuse, trainable, collections,
                             validate_shape, constraint):
        initializing_from_value = initializer is not None and not callable(initializer)
        if shape is not None and initializing_from_value:
            raise ValueError("If initializer is a constant, do not specify shape.")
        dtype = _dtypes.as_dtype(dtype)
        shape = as_shape(shape)
        eager = _ops._core.executing_eagerly()
        if eager and reuse is True:  # TF 1.x: eager variables are not stored, so there is nothing to reuse
            raise RuntimeError("When eager execution is enabled variable reuse is only supported when an "
                               "EagerVariableStore is active. See the documentation on EagerVariableStore for "
                               "example usage.")

        if name in self._vars and not eager:
            found = self._vars[name]
            if reuse is False:
                raise ValueError("Variable %s already exists, disallowed. Did you mean to set reuse=True or "
                                 "reuse=tf.AUTO_REUSE in VarScope? Originally defined at:\n\n  %s"
                                 % (name, found.op.location))
            if not shape.is_compatible_with(found.get_shape()):
                raise ValueError("Trying to share variable %s, but specified shape %s and found shape %s."
                                 % (name, shape, found.get_shape()))
            if dtype is not found.dtype:
                raise ValueError("Trying to share variable %s, but specified dtype %s and found dtype %s."
                                 % (name, dtype.name, found.dtype.name))
            return found

        if reuse is True:
            raise ValueError("Variable %s does not exist, or was not created with tf.get_variable(). Did you "
                             "mean to set reuse=tf.AUTO_REUSE in VarScope?" % name)

        if initializer is None:
            if shape.ndims is None:
                raise ValueError("Variable %s did not get an initializer, so its `shape` argument must be "
                                 "specified." % name)
            initializer = _default_initializer(name, dtype)
        if initializing_from_value:
            init_val, variable_dtype = initializer, None
        else:
            if inspect.isclass(initializer):
                initializer = initializer()
            if shape.is_fully_defined():
                call = functools.partial(initializer, shape.as_list(), dtype=dtype)
                if init_ops._accepts_partition_info(initializer):
                    call = functools.partial(call, partition_info=None)
                variable_dtype = dtype
            elif init_ops._needs_no_arguments(initializer):
                call, variable_dtype = initializer, None
            else:
                raise ValueError("The initializer passed is not valid. It should be a callable with no arguments "
                                 "and the shape should not be provided or an instance of "
                                 "`tf.keras.initializers.*' and `shape` should be fully defined.")

            def init_val():
                # Called inside the variable's name scope: TF puts the initializer's ops under "Initializer".
                with _ops.name_scope("Initializer"):
                    return _ops.convert_to_tensor(call(), dtype=variable_dtype, name="initial_value")

        v = state_ops.Variable(initial_value=init_val, name=name, trainable=trainable, collections=collections,
                               dtype=variable_dtype, validate_shape=validate_shape, constraint=constraint)
        if eager:
            return v
        self._vars[name] = v

        if regularizer:
            with _ops.get_default_graph().control_dependencies(None), _ops.name_scope(name + "/Regularizer/"):
                loss = regularizer(v)
            if loss is not None:
                _ops.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        return v


def _default_initializer(name, dtype):
    """Glorot-uniform for floats, zeros for integers, bools and strings (TF's defaults)."""
    if dtype.is_floating:
        return init_ops.glorot_uniform_initializer()
    if dtype.is_integer or dtype.is_bool or dtype is _dtypes.string:
        return init_ops.zeros_initializer()
    raise ValueError("An initializer for variable %s of %s is required" % (name, dtype.base_dtype))


class _VariableScopeStore(threading.local):
    """The current variable scope and how often each scope name has been opened (per thread)."""

    def __init__(self):
        super().__init__()
        self.current_scope = VariableScope(False)
        self.variable_scopes_count = {}

    def open_variable_scope(self, scope_name):
        self.variable_scopes_count[scope_name] = self.variable_scopes_count.get(scope_name, 0) + 1

    def close_variable_subscopes(self, scope_name):
        """Leaving a scope resets its sub-scopes' counts: the next `outer/dense` starts at "dense" again."""
        for k in list(self.variable_scopes_count):
            if scope_name is None or k.startswith(scope_name + "/"):
                self.variable_scopes_count[k] = 0

    def variable_scope_count(self, scope_name):
        return self.variable_scopes_count.get(scope_name, 0)


class _GraphStores:
    """What one graph keeps for variable scoping (held in Graph._variable_scope_store)."""

    def __init__(self):
        self.var_store = _VariableStore()
        self.scope_store = _VariableScopeStore()


def _stores(graph=None):
    g = graph or _ops.get_default_graph()
    with g._lock:
        if g._variable_scope_store is None:
            g._variable_scope_store = _GraphStores()
        return g._variable_scope_store


def _get_default_variable_store():
    return _stores().var_store


def get_variable_scope_store():
    return _stores().scope_store


def get_variable_scope():
    """The current VariableScope (the root scope, named "", outside any tf.variable_scope)."""
    return get_variable_scope_store().current_scope


# ---------------------------------------------------------------------------------------------------
# VariableScope


def _wrap_custom_getter(custom_getter, old_getter):
    """Nested custom getters compose: the inner scope's getter receives the outer's as its `getter`."""
    if old_getter is None:
        return custom_getter

    def wrapped(getter, *args, **kwargs):
        return custom_getter(functools.partial(old_getter, getter), *args, **kwargs)
    return wrapped


class VariableScope:
    """The defaults tf.get_variable uses inside a tf.variable_scope: name prefix, reuse, initializer,
    regularizer, dtype, custom getter..."""

    def __init__(self, reuse, name="", initializer=None, regularizer=None, caching_device=None,
                 partitioner=None, custom_getter=None, name_scope="", dtype=_dtypes.float32, use_resource=None,
                 constraint=None):
        self._name = name
        self._initializer = initializer
        self._regularizer = regularizer
        self._reuse = reuse
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint

    name = property(lambda self: self._name)
    original_name_scope = property(lambda self: self._name_scope)
    reuse = property(lambda self: self._reuse)
    initializer = property(lambda self: self._initializer)
    dtype = property(lambda self: self._dtype)
    use_resource = property(lambda self: self._use_resource)
    regularizer = property(lambda self: self._regularizer)
    caching_device = property(lambda self: self._caching_device)
    partitioner = property(lambda self: self._partitioner)
    custom_getter = property(lambda self: self._custom_getter)
    constraint = property(lambda self: self._constraint)

    def reuse_variables(self):
        """From here on, get_variable in this scope (and scopes opened inside it) shares existing variables."""
        self._reuse = True

    def set_initializer(self, initializer):
        self._initializer = initializer

    def set_dtype(self, dtype):
        self._dtype = dtype

    def set_use_resource(self, use_resource):
        self._use_resource = use_resource

    def set_regularizer(self, regularizer):
        self._regularizer = regularizer

    def set_caching_device(self, caching_device):
        self._caching_device = caching_device

    def set_partitioner(self, partitioner):
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter):
        self._custom_getter = custom_getter

    def get_collection(self, name):
        return _ops.get_collection(name, self._name + "/" if self._name else "")

    def trainable_variables(self):
        return self.get_collection(GraphKeys.TRAINABLE_VARIABLES)

    def global_variables(self):
        return self.get_collection(GraphKeys.GLOBAL_VARIABLES)

    def local_variables(self):
        return self.get_collection(GraphKeys.LOCAL_VARIABLES)

    def get_variable(self, var_store, name, shape=None, dtype=None, initializer=None, regularizer=None,
                     reuse=None, trainable=None, collections=None, caching_device=None, partitioner=None,
                     validate_shape=True, use_resource=None, custom_getter=None, constraint=None, **kwargs):
        """Fills unset arguments from this scope, then asks the store for `<scope name>/<name>`."""
        regularizer = self._regularizer if regularizer is None else regularizer
        caching_device = self._caching_device if caching_device is None else caching_device
        partitioner = self._partitioner if partitioner is None else partitioner
        custom_getter = self._custom_getter if custom_getter is None else custom_getter
        reuse = self._reuse if reuse is None else reuse
        use_resource = self._use_resource if use_resource is None else use_resource
        full_name = self._name + "/" + name if self._name else name
        # Variable names depend on the variable scope only: leave the name scope while creating one.
        with _ops.name_scope(None):
            if dtype is not None and initializer is not None and not callable(initializer):
                # Like TF this converts a value initializer once just to read its dtype (a dead Const at the
                # root, which keeps later op names identical to TF's).
                init_dtype = _ops.convert_to_tensor(initializer).dtype
                if init_dtype is not _dtypes.as_dtype(dtype):
                    raise ValueError("Initializer type '%s' and explicit dtype '%s' don't match."
                                     % (init_dtype, _dtypes.as_dtype(dtype)))
            initializer = self._initializer if initializer is None else initializer
            constraint = self._constraint if constraint is None else constraint
            dtype = self._dtype if dtype is None else dtype
            return var_store.get_variable(full_name, shape=shape, dtype=dtype, initializer=initializer,
                                          regularizer=regularizer, reuse=reuse, trainable=trainable,
                                          collections=collections, caching_device=caching_device,
                                          partitioner=partitioner, validate_shape=validate_shape,
                                          use_resource=use_resource, custom_getter=custom_getter,
                                          constraint=constraint)

    def __repr__(self):
        return "<tf.VariableScope '%s' reuse=%r>" % (self._name, self._reuse)


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=None,
                 collections=None, caching_device=None, partitioner=None, validate_shape=True, use_resource=None,
                 custom_getter=None, constraint=None, synchronization=None, aggregation=None):
    """Gets the variable `<current variable scope>/name`, or creates it (see the errors for the reuse
    rules). `initializer` is an initializer object or class, a callable(shape, dtype[, partition_info]),
    a Tensor or a value (which then gives the shape); the default is glorot_uniform for floats, zeros
    otherwise."""
    return get_variable_scope().get_variable(
        _get_default_variable_store(), name, shape=shape, dtype=dtype, initializer=initializer,
        regularizer=regularizer, trainable=trainable, collections=collections, caching_device=caching_device,
        partitioner=partitioner, validate_shape=validate_shape, use_resource=use_resource,
        custom_getter=custom_getter, constraint=constraint)


def get_local_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=False,
                       collections=None, caching_device=None, partitioner=None, validate_shape=True,
                       use_resource=None, custom_getter=None, constraint=None, synchronization=None,
                       aggregation=None):
    """get_variable for a non-trainable variable in the LOCAL_VARIABLES collection."""
    collections = list(collections or []) + [GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                        trainable=False, collections=collections, caching_device=caching_device,
                        partitioner=partitioner, validate_shape=validate_shape, use_resource=use_resource,
                        custom_getter=custom_getter, constraint=constraint)


# ---------------------------------------------------------------------------------------------------
# Entering scopes


class _pure_variable_scope:  # noqa: N801 (TF's name)
    """Switches the current VariableScope without touching name scopes (see variable_scope)."""

    def __init__(self, name_or_scope, reuse=None, initializer=None, regularizer=None, caching_device=None,
                 partitioner=None, custom_getter=None, old_name_scope=None, dtype=_dtypes.float32,
                 use_resource=None, constraint=None):
        self._name_or_scope = name_or_scope
        self._reuse = reuse
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._old_name_scope = old_name_scope
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint
        self._var_scope_store = get_variable_scope_store()
        self._last_variable_scope_object = None
        if isinstance(name_or_scope, VariableScope):
            self._new_name = name_or_scope.name
            scope = VariableScope(name_or_scope.reuse if not reuse else reuse, name=self._new_name,
                                  initializer=name_or_scope.initializer, regularizer=name_or_scope.regularizer,
                                  caching_device=name_or_scope.caching_device,
                                  partitioner=name_or_scope.partitioner, custom_getter=name_or_scope.custom_getter,
                                  name_scope=name_or_scope.original_name_scope, dtype=name_or_scope.dtype,
                                  use_resource=name_or_scope.use_resource, constraint=name_or_scope.constraint)
            self._apply_overrides(scope)
            self._cached_variable_scope_object = scope

    def _apply_overrides(self, scope):
        if self._initializer is not None:
            scope.set_initializer(self._initializer)
        if self._regularizer is not None:
            scope.set_regularizer(self._regularizer)
        if self._caching_device is not None:
            scope.set_caching_device(self._caching_device)
        if self._partitioner is not None:
            scope.set_partitioner(self._partitioner)
        if self._custom_getter is not None:
            scope.set_custom_getter(_wrap_custom_getter(self._custom_getter, scope.custom_getter))
        if self._dtype is not None:
            scope.set_dtype(self._dtype)
        if self._use_resource is not None:
            scope.set_use_resource(self._use_resource)

    def __enter__(self):
        store = self._var_scope_store
        self._old = store.current_scope
        if isinstance(self._name_or_scope, VariableScope):
            store.open_variable_scope(self._new_name)
            self._old_subscopes = dict(store.variable_scopes_count)
            scope = self._cached_variable_scope_object
        else:
            old = self._old
            self._new_name = old.name + "/" + self._name_or_scope if old.name else self._name_or_scope
            self._reuse = self._reuse or old.reuse  # reuse is inherited: reuse=False cannot turn it off
            name_scope = self._name_or_scope if self._old_name_scope is None else self._old_name_scope
            scope = VariableScope(self._reuse, name=self._new_name, initializer=old.initializer,
                                  regularizer=old.regularizer, caching_device=old.caching_device,
                                  partitioner=old.partitioner, custom_getter=old.custom_getter,
                                  name_scope=name_scope, dtype=old.dtype, use_resource=old.use_resource,
                                  constraint=self._constraint)
            self._apply_overrides(scope)
            store.open_variable_scope(self._new_name)
        store.current_scope = scope
        self._last_variable_scope_object = scope
        return scope

    def __exit__(self, *exc):
        store = self._var_scope_store
        if store.current_scope is not self._last_variable_scope_object:
            raise RuntimeError("Improper nesting of variable_scope.")
        if isinstance(self._name_or_scope, VariableScope):
            store.variable_scopes_count = self._old_subscopes
        else:
            store.close_variable_subscopes(self._new_name)
        store.current_scope = self._old


def _get_unique_variable_scope(prefix):
    """`prefix`, or `prefix_N` with the first N not yet opened in the current variable scope."""
    store = get_variable_scope_store()
    current = get_variable_scope()
    name = current.name + "/" + prefix if current.name else prefix
    if store.variable_scope_count(name) == 0:
        return prefix
    idx = 1
    while store.variable_scope_count(name + ("_%d" % idx)) > 0:
        idx += 1
    return prefix + ("_%d" % idx)


class variable_scope:  # noqa: N801 (TF's name)
    """tf.variable_scope(name_or_scope, default_name=None, values=None, initializer=None, regularizer=None,
    caching_device=None, partitioner=None, custom_getter=None, reuse=None, dtype=None, use_resource=None,
    constraint=None, auxiliary_name_scope=True): opens a variable scope and a name scope, and yields the
    VariableScope. See Note [variable scopes and name scopes]."""

    def __init__(self, name_or_scope, default_name=None, values=None, initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None, reuse=None, dtype=None,
                 use_resource=None, constraint=None, auxiliary_name_scope=True):
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._values = values
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._reuse = reuse
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint
        if default_name is None and name_or_scope is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if reuse is False:
            self._reuse = None  # scopes always inherit reuse: False means "inherit", like None
        if not (self._reuse is True or self._reuse is None or self._reuse is AUTO_REUSE):
            raise ValueError("The reuse parameter must be True or False or None.")
        if not isinstance(auxiliary_name_scope, bool):
            raise TypeError("The auxiliary_name_scope must be `True` or `False`, while get {}"
                            .format(auxiliary_name_scope))
        self._auxiliary_name_scope = auxiliary_name_scope
        self._graph = _ops._graph_of(values) if values else _ops.get_default_graph()
        self._cached_pure_variable_scope = None
        self._name_scope_arg = None  # what the name scope was opened with, to re-open it on re-entry

    def _pure_args(self):
        return dict(initializer=self._initializer, regularizer=self._regularizer,
                    caching_device=self._caching_device, partitioner=self._partitioner,
                    custom_getter=self._custom_getter, dtype=self._dtype, use_resource=self._use_resource,
                    constraint=self._constraint)

    def __enter__(self):
        self._exits = []  # context managers to leave, innermost last
        if not _ops._core.executing_eagerly():  # eagerly, scopes only name the variables
            self._enter(self._graph.as_default())
        try:
            if self._cached_pure_variable_scope is not None:
                # Re-entering this same object: the same variable scope under a fresh name scope.
                if self._name_scope_arg is not None:
                    self._enter(self._name_scope(self._name_scope_arg))
                return self._enter(self._cached_pure_variable_scope)
            return self._enter_uncached()
        except BaseException:
            self._leave(None, None, None)
            raise

    def _enter(self, cm):
        value = cm.__enter__()
        self._exits.append(cm)
        return value

    def _leave(self, *exc):
        err = None
        while self._exits:
            cm = self._exits.pop()
            try:
                cm.__exit__(*exc)
            except BaseException as e:  # keep unwinding; report the first failure
                err = err or e
        if err is not None:
            raise err

    def _open_name_scope(self, name):
        self._name_scope_arg = name
        return self._enter(self._name_scope(name))

    def _name_scope(self, name):
        return _ops.name_scope(name) if _ops._core.executing_eagerly() else self._graph.name_scope(name)

    def _enter_uncached(self):
        # With auxiliary_name_scope=False the current name scope is re-entered instead of a new one opened.
        reenter = None
        if not self._auxiliary_name_scope:
            current = _ops.get_name_scope()
            reenter = current + "/" if current else ""
        if self._name_or_scope is not None:
            if not isinstance(self._name_or_scope, (VariableScope, str)):
                raise TypeError("VariableScope: name_or_scope must be a string or VariableScope.")
            if isinstance(self._name_or_scope, str):
                name_scope = self._name_or_scope
            else:
                name_scope = self._name_or_scope.name.split("/")[-1]
            if name_scope or reenter is not None:
                entered = self._open_name_scope(name_scope if reenter is None else reenter)
                old_name_scope = (entered if isinstance(self._name_or_scope, str)
                                  else self._name_or_scope.original_name_scope)
                pure = _pure_variable_scope(self._name_or_scope, reuse=self._reuse, old_name_scope=old_name_scope,
                                            **self._pure_args())
            else:
                # Only the root scope ("") gets here: no name scope to open.
                pure = _pure_variable_scope(self._name_or_scope, reuse=self._reuse, **self._pure_args())
        else:
            if self._reuse:
                raise ValueError("reuse=True cannot be used without a name_or_scope")
            entered = self._open_name_scope(self._default_name if reenter is None else reenter)
            unique = _get_unique_variable_scope(self._default_name)
            pure = _pure_variable_scope(unique, old_name_scope=entered, **self._pure_args())
        scope = self._enter(pure)
        self._cached_pure_variable_scope = pure
        return scope

    def __exit__(self, *exc):
        self._leave(*exc)


def variable_op_scope(values, name_or_scope, default_name=None, initializer=None, regularizer=None,
                      caching_device=None, partitioner=None, custom_getter=None, reuse=None, dtype=None,
                      use_resource=None, constraint=None):
    """Deprecated TF1 spelling of variable_scope(name_or_scope, default_name, values, ...)."""
    return variable_scope(name_or_scope, default_name=default_name, values=values, initializer=initializer,
                          regularizer=regularizer, caching_device=caching_device, partitioner=partitioner,
                          custom_getter=custom_getter, reuse=reuse, dtype=dtype, use_resource=use_resource,
                          constraint=constraint)
