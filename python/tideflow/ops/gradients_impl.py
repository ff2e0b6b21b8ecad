"""tf.gradients: the backward pass is built in C++ (cpp/gradients.cc) from each op's gradient rule.
tf.RegisterGradient, Graph.gradient_override_map and tf.custom_gradient add gradients written in Python
(Note [gradient overrides] in cpp/gradients.h)."""
import functools
import inspect
import itertools

from .. import _core
from ..framework import ops as _ops
from . import array_ops

__all__ = ["gradients", "stop_gradient", "hessians", "RegisterGradient", "NotDifferentiable", "no_gradient",
           "custom_gradient"]

_gradient_registry = {}  # name -> fn(op, *grads) -> grads per input, or None (not differentiable)


def _register(name, fn):
    if name in _gradient_registry:
        raise KeyError("Registering two gradient with name '%s'!" % name)
    if name in _core.registered_ops() and _core.op_gradient_kind(name) != "missing":
        raise KeyError("Registering two gradient with name '%s'! (Previous registration was in tideflow's C++ "
                       "core)" % name)
    _gradient_registry[name] = fn


class RegisterGradient:
    """Decorator: `@tf.RegisterGradient("MyGrad") def _grad(op, grad): ...` returns one gradient per
    input of `op`; apply it with `graph.gradient_override_map({"Square": "MyGrad"})`."""

    def __init__(self, op_type):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, f):
        _register(self._op_type, f)
        return f


def NotDifferentiable(op_type):  # noqa: N802 (TF's name)
    """Registers `op_type` as a gradient name whose ops give None for every input."""
    if not isinstance(op_type, str):
        raise TypeError("op_type must be a string")
    _register(op_type, None)


no_gradient = NotDifferentiable


def _python_gradient(g, node_id, name, grad_keys):
    """Called by the C++ driver for an overridden node; None when `name` is not registered here."""
    if name not in _gradient_registry:
        return None
    fn = _gradient_registry[name]
    op = g._op(node_id)
    if fn is None:
        return [None] * len(op.inputs)
    grads = [None if k is None else g._tensor(*k) for k in grad_keys]
    with _ops.name_scope(op.name + "_grad"):
        res = fn(op, *grads)
    res = list(res) if isinstance(res, (list, tuple)) else [res]
    if len(res) != len(op.inputs):
        raise ValueError("Num gradients %d generated for op %s do not match num inputs %d"
                         % (len(res), op.name, len(op.inputs)))
    return [None if r is None else _ops.convert_to_tensor(r, dtype=x.dtype)._key() for r, x in zip(res, op.inputs)]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients="none"):
    """Symbolic derivatives of sum(ys) w.r.t. each x in xs; None where ys do not depend on x."""
    if _core.executing_eagerly():
        raise RuntimeError("tf.gradients is not supported when eager execution is enabled. Use tf.GradientTape "
                           "instead.")
    ys = [_ops.convert_to_tensor(y) for y in _as_list(ys)]
    xs_in = _as_list(xs)
    xs = [_ops.convert_to_tensor(x, as_ref=True) for x in xs_in]
    if grad_ys is None:
        grad_ys = [None] * len(ys)
    grad_ys = [None if g is None else _ops.convert_to_tensor(g, dtype=y.dtype) for g, y in
               zip(_as_list(grad_ys), ys)]
    stops = [_ops.convert_to_tensor(s, as_ref=True) for s in _as_list(stop_gradients or [])]
    g = ys[0].graph
    for t in ys + xs:
        if t.graph is not g:
            raise ValueError("%s must be from the same graph as %s." % (t, ys[0]))
    with g.as_default(), _ops.name_scope(name) as scope:
        loc = _ops._user_location()
        res = _core.gradients(g._c, [y._key() for y in ys], [x._key() for x in xs],
                              [None if gy is None else gy._key() for gy in grad_ys],
                              [s._key() for s in stops], scope, loc, dict(g._grad_overrides),
                              functools.partial(_python_gradient, g))
    out = [None if r is None else g._tensor(*r) for r in res]
    if unconnected_gradients == "zero":
        out = [array_ops.zeros_like(x) if o is None else o for o, x in zip(out, xs)]
    return out


def stop_gradient(input, name=None):  # noqa: A002 (TF's argument name)
    return _ops.apply1("StopGradient", [input], name=name or "StopGradient")


def hessians(ys, xs, name="hessians", **kwargs):
    """Hessian of sum(ys) for each x (x flattened), built from gradients of gradients."""
    xs = _as_list(xs)
    out = []
    for x in xs:
        g = gradients(ys, x)[0]
        n = x.shape.num_elements()
        flat = array_ops.reshape(g, [-1])
        rows = [gradients(flat[i], x)[0] for i in range(n)]
        out.append(array_ops.reshape(array_ops.stack(rows), x.shape.as_list() + x.shape.as_list()))
    return out


_custom_ids = itertools.count()
_eager_custom_gradient = None  # tideflow.eager.backprop's, installed when it loads (eager sits above ops/)


def custom_gradient(f):
    """Decorator for `f(*xs) -> (ys, grad_fn)`: the gradient of the decorated function is
    `grad_fn(*dys)` (one gradient per x), or `grad_fn(*dys, variables=vs) -> (dxs, dvs)` when `f` reads
    variables that are not among its inputs. Built as TF 1.x does in graph mode: an IdentityN over the
    results, the inputs and those variables, whose gradient is `grad_fn`."""

    @functools.wraps(f)
    def decorated(*args, **kwargs):
        if _core.executing_eagerly():
            return _eager_custom_gradient(f, args, kwargs)
        if kwargs:
            raise ValueError("The custom_gradient decorator currently supports keywords arguments only when "
                             "eager execution is enabled.")
        g = _ops.get_default_graph()
        args = [_ops.convert_to_tensor(x) for x in args]
        first_new = g._c.num_nodes()
        result, grad_fn = f(*args)
        flat = [_ops.convert_to_tensor(r) for r in (result if isinstance(result, (list, tuple)) else [result])]
        # Variables f read: their VariableV2 outputs or `read` snapshots among the new nodes' inputs.
        arg_keys = {a._key() for a in args}
        reads, seen = [], set()
        for nid in range(first_new, g._c.num_nodes()):
            for t in g._op(nid).inputs:
                src = t.op.inputs[0] if t.op.type == "Identity" and t.op.inputs[0].op.type == "VariableV2" else t
                if src.op.type == "VariableV2" and t._key() not in arg_keys and src._key() not in seen:
                    seen.add(src._key())
                    reads.append((src, t))
        by_op = {v.op.name: v for v in g.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES)
                 + g.get_collection(_ops.GraphKeys.LOCAL_VARIABLES)}
        variables = [by_op.get(src.op.name, src) for src, _ in reads]
        takes_variables = "variables" in inspect.signature(grad_fn).parameters
        if variables and not takes_variables:
            raise TypeError("If using @custom_gradient with a function that uses variables, then grad_fn must "
                            "accept a keyword argument 'variables'.")

        def internal_grad_fn(unused_op, *result_grads):
            dys = result_grads[:len(flat)]
            if variables:
                dxs, dvs = grad_fn(*dys, variables=variables)
                dvs = list(dvs)
                if len(dvs) != len(variables):
                    raise ValueError("Must return gradient for each variable from @custom_gradient grad_fn.")
            else:
                dxs, dvs = grad_fn(*dys), []
            dxs = list(dxs) if isinstance(dxs, (list, tuple)) else [dxs]
            if len(dxs) != len(args):
                raise ValueError("custom_gradient function expected to return %d gradients but returned %d "
                                 "instead." % (len(args), len(dxs)))
            return [None] * len(flat) + dxs + dvs

        name = "CustomGradient-%d" % next(_custom_ids)
        RegisterGradient(name)(internal_grad_fn)
        with g.gradient_override_map({"IdentityN": name}):
            outs = _ops.apply_op("IdentityN", flat + args + [t for _, t in reads],
                                 name="IdentityN").outputs[:len(flat)]
        if isinstance(result, (list, tuple)):
            return type(result)(outs)
        return outs[0]

    return decorated
