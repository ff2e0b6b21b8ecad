"""Op-table rows of the reduction family (cpp/ops/reduce.cc, python/tideflow/ops/reduction_ops.py)."""
import numpy as np

from tideflow.framework import ops as _ops

from .common import HALF, SMALL_INT, OpRow, add_dtypes_to_families

FLOATS = ("float32", "float64")
NUMERIC = ("float32", "float64", "int32", "int64")

# (axis, keepdims, sample shapes): every axis, one, negative, several (contiguous and not), none listed,
# scalar input, an empty input whose reduced axis is not empty, size-1 dims mixed in.
AXES = [
    (None, False, [((2, 3, 4),), ((),), ((5,),)]),
    (None, True, [((2, 3, 4),)]),
    (0, False, [((2, 3, 4),), ((5,),)]),
    (-1, False, [((2, 3, 4),), ((4, 1),), ((0, 3),)]),
    (1, True, [((2, 3, 4),), ((3, 5),)]),
    ([0, 2], False, [((2, 3, 4),), ((2, 1, 3, 1),)]),
    ([-1, -3], True, [((2, 3, 4),)]),
    ([0, 1], False, [((2, 3, 4),)]),
    ([1, 3], False, [((2, 3, 2, 4),)]),
    ([], False, [((2, 3),), ((),)]),
]


def _np_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return tuple(np.atleast_1d(axis).tolist())


def _int_mean(x, axis, keepdims):
    """TF's integer mean: the sum divided by the count, truncated toward zero."""
    s = np.sum(x, axis=axis, keepdims=keepdims, dtype=np.int64)
    n = int(np.prod([x.shape[a] for a in axis])) if axis else 1
    return np.trunc(s / max(n, 1)).astype(x.dtype)


def _mean(x, axis, keepdims):
    if x.dtype.kind == "i":
        return _int_mean(x, axis, keepdims)
    return np.mean(x, axis=axis, keepdims=keepdims) if axis else x.copy()


def _prod_of_others(x, axes):
    """For each element, the product of the other elements of its reduction group."""
    out = np.empty_like(x)
    keep = [i for i in range(x.ndim) if i not in axes]
    for idx in np.ndindex(*x.shape):
        sel = tuple(idx[i] if i in keep else slice(None) for i in range(x.ndim))
        grp = x[sel].astype(np.float64)
        pos = tuple(idx[i] for i in axes)
        flat = np.ravel_multi_index(pos, grp.shape) if grp.ndim else 0
        out[idx] = np.prod(np.delete(grp.ravel(), flat))
    return out


def _distinct(rng, shapes, dtype):
    """Values without ties (Max/Min gradients have kinks at ties)."""
    out = []
    for s in shapes:
        n = int(np.prod(s))
        v = rng.permutation(n).astype(np.float64) / max(n, 1) * 4 - 2 + rng.uniform(0, 0.1, size=n)
        out.append(v.reshape(s).astype(dtype))
    return out


def _away_from_zero(arrays):
    return [np.where(a >= 0, a + 0.5, a - 0.5).astype(a.dtype) for a in arrays]


def _small_ints(rng, shapes, dtype):
    """Ties and zeros on purpose (argmax's first-index rule, count_nonzero)."""
    return [rng.randint(-2, 3, size=s).astype(dtype) for s in shapes]


def _reduction_rows(fn_name, ref, dtypes, grad=True, **kw):
    rows = []
    for axis, keep, shapes in AXES:
        ok = [s for s in shapes if axis in (None, []) or max(np.atleast_1d(axis)) < len(s[0])
              and min(np.atleast_1d(axis)) >= -len(s[0])]
        if not ok:
            continue

        def build(tf, x, axis=axis, keep=keep):
            return getattr(tf, fn_name)(x, axis=axis, keepdims=keep)

        def np_ref(x, axis=axis, keep=keep):
            return ref(x, _np_axis(axis, x.ndim), keep)

        rows.append(OpRow("%s[axis=%s,keep=%d]" % (fn_name, axis, keep), build, np_ref, ok, dtypes=dtypes,
                          grad=grad, **kw))
    return rows


def _np_reduce(f):
    return lambda x, axis, keep: np.asarray(f(x, axis=axis, keepdims=keep) if axis else x.copy()).astype(x.dtype)


def _logsumexp(x, axis, keep):
    if not axis:
        return x.copy()
    m = np.max(x, axis=axis, keepdims=True)
    r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keep else np.squeeze(r, axis=axis)


def _op(op_type, **attrs):
    return lambda tf, *xs: _ops.apply1(op_type, list(xs), attrs)


def _sum_to(g, like):
    lead = g.ndim - like.ndim
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(like.shape) if d == 1 and g.shape[lead + i] != 1)
    return (np.sum(g, axis=axes, keepdims=True).reshape(like.shape) if axes else g.copy()).astype(g.dtype)


ROWS = (
    _reduction_rows("reduce_sum", _np_reduce(np.sum), NUMERIC)
    + _reduction_rows("reduce_mean", _mean, NUMERIC)
    + _reduction_rows("reduce_max", _np_reduce(np.max), NUMERIC, make=_distinct)
    + _reduction_rows("reduce_min", _np_reduce(np.min), NUMERIC, make=_distinct)
    + _reduction_rows("reduce_prod", _np_reduce(np.prod), NUMERIC, avoid=_away_from_zero, low=-1.5, high=1.5)
    + _reduction_rows("reduce_logsumexp", _logsumexp, FLOATS)
    + _reduction_rows("reduce_any", _np_reduce(np.any), ("bool",), grad=False)
    + _reduction_rows("reduce_all", _np_reduce(np.all), ("bool",), grad=False)
    + _reduction_rows("count_nonzero", lambda x, axis, keep: np.asarray(
        np.count_nonzero(x, axis=axis, keepdims=keep) if axis else (x != 0).astype(np.int64)).astype(np.int64),
        ("float32", "int32"), grad=False, make=_small_ints)
    + [
        OpRow("reduce_sum[reduction_indices=1,keep_dims]",
              lambda tf, x: tf.reduce_sum(x, reduction_indices=[1], keep_dims=True),
              lambda x: np.sum(x, axis=1, keepdims=True), [((2, 3, 4),)]),
        OpRow("reduce_sum[axis=tensor]", lambda tf, x: tf.reduce_sum(x, axis=tf.constant([0, -1])),
              lambda x: np.sum(x, axis=(0, 2)), [((2, 3, 4),)]),
        OpRow("reduce_sum[long_row]", lambda tf, x: tf.reduce_sum(x, axis=1), lambda x: np.sum(x, axis=1),
              [((2, 70000),)], dtypes=("float64",), grad=False, rtol=1e-9),
        OpRow("reduce_mean[long_column]", lambda tf, x: tf.reduce_mean(x, axis=0), lambda x: np.mean(x, axis=0),
              [((40000, 3),)], dtypes=("float32",), grad=False),
        OpRow("argmax", lambda tf, x: tf.argmax(x, axis=1), lambda x: np.argmax(x, axis=1).astype(np.int64),
              [((3, 4),), ((2, 5, 3),)], dtypes=NUMERIC, grad=False, make=_small_ints),
        OpRow("argmax[axis=-1,int32]", lambda tf, x: tf.argmax(x, -1, output_type=tf.int32),
              lambda x: np.argmax(x, axis=-1).astype(np.int32), [((3, 4),), ((6,),)], dtypes=FLOATS, grad=False),
        OpRow("argmin[dimension=0]", lambda tf, x: tf.argmin(x, dimension=0),
              lambda x: np.argmin(x, axis=0).astype(np.int64), [((3, 4),), ((2, 5, 3),)],
              dtypes=NUMERIC, grad=False, make=_small_ints),
        OpRow("arg_max", lambda tf, x: tf.arg_max(x, 0), lambda x: np.argmax(x, axis=0).astype(np.int64),
              [((4, 3),)], dtypes=FLOATS, grad=False),
        OpRow("cumsum", lambda tf, x: tf.cumsum(x), lambda x: np.cumsum(x, axis=0).astype(x.dtype),
              [((5,),), ((3, 4),), ((0, 2),)], dtypes=NUMERIC),
        OpRow("cumsum[axis=-1,exclusive,reverse]", lambda tf, x: tf.cumsum(x, axis=-1, exclusive=True, reverse=True),
              lambda x: (np.flip(np.cumsum(np.flip(x, -1), axis=-1), -1) - x).astype(x.dtype),
              [((3, 4),), ((2, 3, 1500),)], dtypes=NUMERIC, rtol=1e-4, atol=1e-4),
        OpRow("cumsum[axis=1,exclusive]", lambda tf, x: tf.cumsum(x, axis=1, exclusive=True),
              lambda x: (np.cumsum(x, axis=1) - x).astype(x.dtype), [((2, 4, 3),)], dtypes=FLOATS),
        OpRow("cumprod", lambda tf, x: tf.cumprod(x), lambda x: np.cumprod(x, axis=0).astype(x.dtype),
              [((5,),), ((3, 4),), ((0, 2),)], dtypes=NUMERIC, avoid=_away_from_zero, low=-1.5, high=1.5),
        OpRow("cumprod[axis=-1,exclusive,reverse]",
              lambda tf, x: tf.math.cumprod(x, axis=-1, exclusive=True, reverse=True),
              lambda x: np.flip(np.cumprod(np.concatenate([np.ones_like(x[..., :1]), np.flip(x, -1)[..., :-1]], -1),
                                           axis=-1), -1).astype(x.dtype),
              [((3, 4),), ((2, 3, 5),)], dtypes=FLOATS, avoid=_away_from_zero, low=-1.5, high=1.5),
        OpRow("SumToShape", _op("SumToShape"), _sum_to,
              [((2, 3), (3,)), ((2, 3), (2, 1)), ((4, 2, 3), (1, 3)), ((2, 3), (2, 3)), ((2, 3), ()),
               ((3, 1, 4), (3, 1, 1)), ((0, 3), (3,))], dtypes=NUMERIC, grad_inputs=[0]),
        OpRow("BroadcastLike", _op("BroadcastLike"), lambda x, like: np.broadcast_to(x, like.shape).copy(),
              [((3,), (2, 3)), ((2, 1), (2, 3)), ((), (2, 3)), ((2, 3), (2, 3)), ((1, 3), (4, 2, 3))],
              dtypes=NUMERIC, grad_inputs=[0]),
        OpRow("ProdOfOthers[axes=0,2]", lambda tf, x: _ops.apply1("ProdOfOthers", [x, tf.constant([0, 2])]),
              lambda x: _prod_of_others(x, (0, 2)), [((2, 3, 4),), ((3, 1, 2),)], dtypes=FLOATS,
              avoid=_away_from_zero, low=-1.5, high=1.5),
        OpRow("ProdOfOthers[axis=-1]", lambda tf, x: _ops.apply1("ProdOfOthers", [x, tf.constant([-1])]),
              lambda x: _prod_of_others(x, (x.ndim - 1,)), [((3, 5),), ((4,),), ((0, 2),)], dtypes=FLOATS,
              avoid=_away_from_zero, low=-1.5, high=1.5),
        OpRow("ReduceGradBroadcast[keep=0]",
              lambda tf, g, x: _ops.apply1("ReduceGradBroadcast", [g, x, tf.constant([0, 2])],
                                           {"keep_dims": False}),
              lambda g, x: np.broadcast_to(g.reshape(1, -1, 1), x.shape).copy(), [((3,), (2, 3, 4))],
              grad_inputs=[0]),
        OpRow("ReduceGradBroadcast[mean]",
              lambda tf, g, x: _ops.apply1("ReduceGradBroadcast", [g, x, tf.constant([-1])],
                                           {"keep_dims": True, "mean": True}),
              lambda g, x: np.broadcast_to(g, x.shape) / x.shape[-1], [((2, 1), (2, 5))], dtypes=FLOATS,
              grad_inputs=[0]),
    ]
)

# float16 and bfloat16 (computed in float32, rounded once) and the 8- and 16-bit integers where TensorFlow's
# CPU kernels have them (cpp/dtype.h: Note [dtype sets]). Sums and products of small integers are left out:
# NumPy accumulates them in int64, TensorFlow and tideflow wrap in the element type.
add_dtypes_to_families(ROWS, ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "argmax",
                              "argmin", "arg_max", "cumsum", "cumprod"], HALF, only_with="float32")
add_dtypes_to_families(ROWS, ["reduce_max", "reduce_min", "argmax", "argmin"], SMALL_INT, only_with="int32")
