"""tf.train.Optimizer: gradients, slot variables and the train op; subclasses emit one fused Apply* op
per variable (cpp/train/optimizers.cc). Eagerly (TensorFlow 1.x's eager optimizers) apply_gradients runs
the same kernels at once, and minimize/compute_gradients take the loss as a callable."""
import collections.abc
import contextlib

from .. import _core
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.ops import GraphKeys
from ..eager import backprop as _backprop
from ..ops import array_ops, gradients_impl, math_ops, state_ops
from . import slot_creator

__all__ = ["Optimizer"]

_TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"


def _eager(var):
    return getattr(var, "_is_eager_variable", False)


def _var_key(var):
    if _eager(var):
        return var._unique_id
    return (var.op.graph, var.op.name)


def _var_name(var):
    return var._shared_name if _eager(var) else var.op.name


def _cast(t, dtype):
    return t if t.dtype is dtype else math_ops.cast(t, dtype)


class Optimizer:
    """Base class of the TF1 optimizers. Subclasses implement `_create_slots`, `_prepare`, `_apply_dense`
    and optionally `_finish`, with TensorFlow's names and semantics."""

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots = {}  # slot name -> {var key: slot Variable}
        self._non_slot_dict = {}  # (name, graph) -> Variable

    def get_name(self):
        return self._name

    # ---- the public TF1 API ----
    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                 colocate_gradients_with_ops=False, name=None, grad_loss=None):
        grads_and_vars = self.compute_gradients(loss, var_list=var_list, gate_gradients=gate_gradients,
                                                aggregation_method=aggregation_method,
                                                colocate_gradients_with_ops=colocate_gradients_with_ops,
                                                grad_loss=grad_loss)
        if not [v for g, v in grads_and_vars if g is not None]:
            raise ValueError("No gradients provided for any variable, check your graph for ops that do not "
                             "support gradients, between variables %s and loss %s."
                             % ([str(v) for _, v in grads_and_vars], loss))
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                          colocate_gradients_with_ops=False, grad_loss=None):
        """[(gradient, variable)] for the variables in var_list (default: the trainable variables); the
        gradient is None where the loss does not depend on the variable."""
        if callable(loss):
            return self._compute_gradients_of_callable(loss, var_list, grad_loss)
        if _core.executing_eagerly():
            raise RuntimeError("`loss` passed to Optimizer.compute_gradients should be a function when eager "
                               "execution is enabled.")
        if gate_gradients not in (Optimizer.GATE_NONE, Optimizer.GATE_OP, Optimizer.GATE_GRAPH):
            raise ValueError("gate_gradients must be one of: Optimizer.GATE_NONE, Optimizer.GATE_OP, "
                             "Optimizer.GATE_GRAPH. Not %s" % gate_gradients)
        loss = _ops.convert_to_tensor(loss)
        self._assert_valid_dtypes([loss])
        if grad_loss is not None:
            grad_loss = _ops.convert_to_tensor(grad_loss)
            self._assert_valid_dtypes([grad_loss])
        if var_list is None:
            g = loss.graph
            var_list = g.get_collection(GraphKeys.TRAINABLE_VARIABLES) + \
                g.get_collection(_TRAINABLE_RESOURCE_VARIABLES)
        else:
            var_list = _flatten(var_list)
        if not var_list:
            raise ValueError("No variables to optimize: loss %s depends on no trainable variable. Create "
                             "variables with trainable=True or pass var_list." % loss.name)
        for v in var_list:
            if not isinstance(v, state_ops.Variable):
                raise TypeError("Trying to optimize unsupported type %r: var_list must hold tf.Variable "
                                "objects." % (v,))
        grads = gradients_impl.gradients(loss, var_list, grad_ys=None if grad_loss is None else [grad_loss],
                                         gate_gradients=(gate_gradients == Optimizer.GATE_OP),
                                         aggregation_method=aggregation_method,
                                         colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gate_gradients == Optimizer.GATE_GRAPH:
            grads = _gate_all(grads)
        grads_and_vars = list(zip(grads, var_list))
        self._assert_valid_dtypes([v for g, v in grads_and_vars if g is not None])
        return grads_and_vars

    def _compute_gradients_of_callable(self, loss, var_list, grad_loss):
        """TensorFlow's: the loss is computed under a GradientTape, which also finds the trainable variables
        it reads when var_list is not given."""
        with _backprop.GradientTape() as tape:
            if var_list is not None:
                var_list = _flatten(var_list)
                tape.watch(var_list)
            loss_value = loss()
        if var_list is None:
            var_list = list(tape.watched_variables()) if _core.executing_eagerly() else \
                _ops.get_collection(GraphKeys.TRAINABLE_VARIABLES)
        if not var_list:
            raise ValueError("No variables to optimize: the loss function read no trainable variable.")
        grads = tape.gradient(loss_value, var_list, None if grad_loss is None else grad_loss)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """One update op per variable with a gradient, grouped into the returned train op; `global_step`
        is incremented after all updates."""
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        converted = []
        for g, v in grads_and_vars:
            if not isinstance(v, state_ops.Variable):
                raise TypeError("Trying to optimize unsupported type %r: apply_gradients needs (gradient, "
                                "tf.Variable) pairs." % (v,))
            if g is not None:
                try:
                    g = _ops.convert_to_tensor(g)
                except (TypeError, ValueError):
                    raise TypeError("Gradient must be convertible to a Tensor, or None: %r" % (g,))
                if g.dtype is not v.dtype:
                    raise TypeError("Gradient %s has dtype %s but variable %s has dtype %s."
                                    % (g if _core.executing_eagerly() else g.name, g.dtype.name, v.name,
                                       v.dtype.name))
            converted.append((g, v))
        var_list = [v for g, v in converted if g is not None]
        if not var_list:
            raise ValueError("No gradients provided for any variable: %s." % ([str(v) for _, v in converted],))
        eager = _core.executing_eagerly()
        # A tf.function being traced updates its eager variables through the graph being built.
        graph = None if eager else _ops.get_default_graph() if _eager(var_list[0]) else var_list[0].graph
        with contextlib.nullcontext() if eager else graph.as_default():
            with _ops.control_dependencies(None):
                self._create_slots(var_list)
            update_ops = []
            with _ops.name_scope(name, self._name) as scope:
                self._prepare()
                for grad, var in converted:
                    if grad is None:
                        continue
                    with _ops.name_scope("update_" + _var_name(var)):
                        update = self._apply_dense(grad, var)
                        if var.constraint is not None:  # TF1: the constraint projects the updated value
                            with _ops.control_dependencies([update]):
                                update = state_ops.assign(var, var.constraint(var))
                        update_ops.append(update)
                if global_step is None:
                    apply_updates = self._finish(update_ops, scope)
                else:
                    with _ops.control_dependencies([self._finish(update_ops, "update")]):
                        apply_updates = state_ops.assign_add(global_step, 1, name=scope)
                        apply_updates = None if eager else apply_updates.op
            if eager:  # the updates have run; nothing to collect
                return None
            if isinstance(apply_updates, _ops.Tensor):
                apply_updates = apply_updates.op
            train_ops = graph.get_collection_ref(GraphKeys.TRAIN_OP)
            if apply_updates not in train_ops:
                train_ops.append(apply_updates)
        return apply_updates

    def get_slot(self, var, name):
        named_slots = self._slots.get(name)
        if not named_slots:
            return None
        return named_slots.get(_var_key(var))

    def get_slot_names(self):
        return sorted(self._slots.keys())

    def variables(self):
        """The optimizer's variables in the default graph (slots and non-slot variables), sorted by name."""
        g = None if _core.executing_eagerly() else _ops.get_default_graph()
        out = [v for (_, vg), v in self._non_slot_dict.items() if vg is g]
        for slots in self._slots.values():
            out.extend(v for v in slots.values() if (None if _eager(v) else v.graph) is g)
        return sorted(out, key=lambda v: v.name)

    # ---- for subclasses ----
    def _create_slots(self, var_list):
        pass

    def _prepare(self):
        pass

    def _apply_dense(self, grad, var):
        raise NotImplementedError()

    def _finish(self, update_ops, name_scope):
        return state_ops.group(*update_ops, name=name_scope)

    def _call_if_callable(self, param):
        return param() if callable(param) else param

    def _hyper(self, value, name):
        """A hyperparameter as a tensor (TF converts Python numbers to float32 and casts per variable)."""
        return _ops.convert_to_tensor(self._call_if_callable(value), name=name)

    def _slot_dict(self, slot_name):
        return self._slots.setdefault(slot_name, {})

    def _get_or_make_slot(self, var, value, slot_name, op_name):
        named_slots = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named_slots:
            named_slots[key] = slot_creator.create_filled_slot(var, value, op_name)
        return named_slots[key]

    def _zeros_slot(self, var, slot_name, op_name):
        return self._get_or_make_slot(var, 0, slot_name, op_name)

    def _create_non_slot_variable(self, initial_value, name, colocate_with):
        if _eager(colocate_with):  # eager variables belong to no graph
            key = (name, None)
            if key not in self._non_slot_dict:
                with _ops.name_scope(None):
                    self._non_slot_dict[key] = state_ops.Variable(initial_value, name=name, trainable=False)
            return self._non_slot_dict[key]
        graph = colocate_with.graph
        key = (name, graph)
        v = self._non_slot_dict.get(key)
        if v is None:
            with graph.as_default(), graph.control_dependencies(None):
                v = state_ops.Variable(initial_value, name=name, trainable=False)
            self._non_slot_dict[key] = v
        return v

    def _get_non_slot_variable(self, name, graph=None):
        if (name, None) in self._non_slot_dict:  # eager variables, also read by a tf.function's trace
            return self._non_slot_dict[(name, None)]
        return self._non_slot_dict.get((name, graph or _ops.get_default_graph()))

    def _assert_valid_dtypes(self, tensors):
        valid = (_dtypes.float16, _dtypes.bfloat16, _dtypes.float32, _dtypes.float64)
        for t in tensors:
            if t.dtype not in valid:
                raise ValueError("Invalid type %s for %s, expected: %s."
                                 % (t.dtype.name, t.name, [v.name for v in valid]))


def _flatten(x):
    """var_list as TensorFlow takes it: any iterable of variables (list, tuple, set, dict.values(), a
    generator), nested; a dict gives its values."""
    if isinstance(x, dict):
        return _flatten(list(x.values()))
    if isinstance(x, (collections.abc.Set, collections.abc.MappingView, collections.abc.Iterator)):
        x = list(x)
    if isinstance(x, (list, tuple)):
        out = []
        for y in x:
            out.extend(_flatten(y))
        return out
    if isinstance(x, dict):
        return _flatten(list(x.values()))
    return [x]


def _gate_all(grads):
    """GATE_GRAPH: every gradient waits for all of them (TF's control_flow_ops.tuple)."""
    present = [g for g in grads if g is not None]
    if not present:
        return grads
    with _ops.control_dependencies([state_ops.group(*present)]):
        return [None if g is None else array_ops.identity(g) for g in grads]
