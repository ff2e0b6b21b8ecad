"""tf.make_template (TF1 graph-mode semantics): wraps a function so that its tf.get_variable variables are
created by the first call and shared by every later one."""
import functools
import logging
import traceback

from ..framework import ops as _ops
from ..framework.ops import GraphKeys
from . import variable_scope as _vs

__all__ = ["make_template"]


def make_template(name_, func_, create_scope_now_=False, unique_name_=None, custom_getter_=None, **kwargs):
    """Returns a Template: calling it calls `func_(*args, **kwargs)` inside a variable scope named after
    `name_` (made unique like a default_name, unless `unique_name_` is given). The first call creates the
    variables; later calls re-enter the same scope with reuse=True. With create_scope_now_=True the scope is
    fixed where make_template is called instead of where the template is first called."""
    if kwargs:
        func_ = functools.partial(func_, **kwargs)
    return Template(name_, func_, create_scope_now=create_scope_now_, unique_name=unique_name_,
                    custom_getter=custom_getter_)


def _skip_common_stack_elements(stacktrace, base_case):
    for i, (trace, base) in enumerate(zip(stacktrace, base_case)):
        if trace != base:
            return stacktrace[i:]
    return stacktrace[-1:]


class Template:
    """Wraps a function to share its variables (see make_template)."""

    def __init__(self, name, func, create_scope_now=False, unique_name=None, custom_getter=None,
                 create_graph_function=False):
        if create_graph_function:
            raise ValueError("create_graph_function is not supported.")
        self._func = func
        # Errors raised inside the template name the place it was defined, as TF's do.
        self._stacktrace = traceback.format_stack()[:-2]
        self._name = name
        self._unique_name = unique_name
        self._custom_getter = custom_getter
        if name is None:
            raise ValueError("name cannot be None.")
        if create_scope_now:
            with _vs._pure_variable_scope(self._unique_name or _vs._get_unique_variable_scope(self._name),
                                          custom_getter=self._custom_getter) as vs:
                self._variable_scope = vs
        else:
            self._variable_scope = None
        self._variables_created = False  # the first call has completed
        self._first_call = True  # no call has started

    def _call_func(self, args, kwargs):
        try:
            if self._variables_created:
                vars_at_start = len(_ops.get_collection_ref(GraphKeys.GLOBAL_VARIABLES))
                trainable_at_start = len(_ops.get_collection_ref(GraphKeys.TRAINABLE_VARIABLES))
                result = self._func(*args, **kwargs)
                trainable_variables = _ops.get_collection_ref(GraphKeys.TRAINABLE_VARIABLES)
                if trainable_at_start != len(trainable_variables):
                    raise ValueError("Trainable variable created when calling a template after the first time, "
                                     "perhaps you used tf.Variable when you meant tf.get_variable: %s"
                                     % (trainable_variables[trainable_at_start:],))
                # Non-trainable variables (counters, statistics) are a legitimate reason to create more.
                variables = _ops.get_collection_ref(GraphKeys.GLOBAL_VARIABLES)
                if vars_at_start != len(variables):
                    logging.info("New variables created when calling a template after the first time, perhaps "
                                 "you used tf.Variable when you meant tf.get_variable: %s",
                                 variables[vars_at_start:])
            elif self._first_call:
                self._first_call = False
                try:
                    result = self._func(*args, **kwargs)
                except BaseException:
                    self._first_call = True
                    raise
                self._variables_created = True
            else:  # a call from another thread while the first is still running
                result = self._func(*args, **kwargs)
            return result
        except Exception as exc:
            args = exc.args
            arg0 = args[0] if args else ""
            trace = "".join(_skip_common_stack_elements(self._stacktrace, traceback.format_stack()))
            exc.args = ("%s\n\noriginally defined at:\n%s" % (arg0, trace),) + tuple(args[1:])
            raise

    def __call__(self, *args, **kwargs):
        if self._variable_scope:
            # Only the first call may create variables.
            with _vs.variable_scope(self._variable_scope, reuse=not self._first_call):
                return self._call_func(args, kwargs)
        # The scope is created where the template is first called; later calls re-enter it.
        with _vs.variable_scope(self._unique_name, self._name, custom_getter=self._custom_getter) as vs:
            self._variable_scope = vs
            return self._call_func(args, kwargs)

    name = property(lambda self: self._name)
    func = property(lambda self: self._func)
    variable_scope = property(lambda self: self._variable_scope)
    var_scope = variable_scope

    @property
    def variable_scope_name(self):
        """The scope name with a trailing "/", so that "t/" does not match "t_1/..."."""
        if self._variable_scope:
            name = self._variable_scope.name
            return name if not name or name[-1] == "/" else name + "/"
        return None

    def _collection(self, key):
        if not self._variables_created:
            return []
        return _ops.get_collection(key, self.variable_scope_name)

    @property
    def trainable_variables(self):
        return self._collection(GraphKeys.TRAINABLE_VARIABLES)

    @property
    def global_variables(self):
        return self._collection(GraphKeys.GLOBAL_VARIABLES)

    @property
    def local_variables(self):
        return self._collection(GraphKeys.LOCAL_VARIABLES)

    @property
    def non_trainable_variables(self):
        trainable = set(map(id, self.trainable_variables))
        return [v for v in self.global_variables if id(v) not in trainable]

    @property
    def variables(self):
        """Global and local variables created by the template."""
        return self.global_variables + self.local_variables

    weights = variables
    trainable_weights = trainable_variables
    non_trainable_weights = non_trainable_variables
