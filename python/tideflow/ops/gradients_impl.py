"""tf.gradients: the backward pass is built in C++ (cpp/gradients.cc) from each op's gradient rule."""
from .. import _core
from ..framework import ops as _ops

__all__ = ["gradients", "stop_gradient", "hessians"]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients="none"):
    """Symbolic derivatives of sum(ys) w.r.t. each x in xs; None where ys do not depend on x."""
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
                              [s._key() for s in stops], scope, loc)
    out = [None if r is None else g._tensor(*r) for r in res]
    if unconnected_gradients == "zero":
        from . import array_ops
        out = [array_ops.zeros_like(x) if o is None else o for o, x in zip(out, xs)]
    return out


def stop_gradient(input, name=None):  # noqa: A002 (TF's argument name)
    return _ops.apply1("StopGradient", [input], name=name or "StopGradient")


def hessians(ys, xs, name="hessians", **kwargs):
    """Hessian of sum(ys) for each x (x flattened), built from gradients of gradients."""
    from . import array_ops
    xs = _as_list(xs)
    out = []
    for x in xs:
        g = gradients(ys, x)[0]
        n = x.shape.num_elements()
        flat = array_ops.reshape(g, [-1])
        rows = [gradients(flat[i], x)[0] for i in range(n)]
        out.append(array_ops.reshape(array_ops.stack(rows), x.shape.as_list() + x.shape.as_list()))
    return out
