"""Op-table rows of the segment family (cpp/ops/segment.cc) and the n-d indexing ops of array_index.cc:
each `make` draws valid indices / ids so forward values and float64 gradients are checked."""
import numpy as np

from .common import OpRow

ALL = ("float32", "float64", "int32", "int64")
FLOATS = ("float32", "float64")


def _data(rng, shape, dtype):
    if np.dtype(dtype).kind == "f":
        return rng.uniform(-2, 2, size=shape).astype(dtype)
    return rng.randint(-5, 6, size=shape).astype(dtype)


def _distinct(rng, shape, dtype):
    """Values with no ties (max/min/top_k gradients are only smooth there), some of them negative."""
    n = int(np.prod(shape))
    v = (rng.permutation(n) - n // 3).astype(np.float64) * 0.37 + rng.uniform(0, 0.1, size=n)
    return v.reshape(shape).astype(dtype) if np.dtype(dtype).kind == "f" else \
        (rng.permutation(n) - n // 3).reshape(shape).astype(dtype)


def _nd_make(rng, shapes, dtype):
    """params and int32 index vectors within params' leading dims (may repeat)."""
    p = _data(rng, shapes[0], dtype)
    k = shapes[1][-1]
    idx = np.stack([rng.randint(0, shapes[0][d], size=shapes[1][:-1]) for d in range(k)], -1).astype(np.int32)
    return [p, idx.reshape(shapes[1])]


def _scatter_make(rng, shapes, dtype):
    idx = np.array([[0], [2], [0], [3]], np.int32)  # a repeated index: ScatterNd sums
    return [idx, _data(rng, (4,) + tuple(shapes[0][1:]), dtype)]


def _np_scatter_nd(idx, upd, shape):
    out = np.zeros(shape, upd.dtype)
    for i, v in zip(idx.reshape(-1, idx.shape[-1]), upd.reshape((-1,) + tuple(shape[idx.shape[-1]:]))):
        out[tuple(i)] += v
    return out


def _tensor_scatter_make(rng, shapes, dtype):
    idx = np.array([[1, 0], [0, 2]], np.int32)
    return [_data(rng, shapes[0], dtype), idx, _data(rng, (2,), dtype)]


def _np_tensor_scatter(mode):
    def f(t, idx, upd):
        out = t.copy()
        for i, v in zip(idx, upd):
            if mode == "update":
                out[tuple(i)] = v
            elif mode == "add":
                out[tuple(i)] += v
            else:
                out[tuple(i)] -= v
        return out
    return f


_IDS = np.array([0, 0, 1, 3, 3, 3], np.int32)  # sorted, segment 2 empty
_UIDS = np.array([2, -1, 0, 2, 0, 4], np.int32)  # unsorted, one dropped row, segments 1 and 3 empty
_FULL = np.array([2, -1, 0, 2, 1, 0], np.int32)


def _seg_make(distinct=False):
    def make(rng, shapes, dtype):
        return [(_distinct if distinct else _data)(rng, shapes[0], dtype)]
    return make


def _np_segment(fn, ids, n, empty):
    def f(x):
        out = np.full((n,) + x.shape[1:], empty, dtype=x.dtype)
        for s in range(n):
            rows = x[ids == s]
            if len(rows):
                out[s] = fn(rows, axis=0)
        return out
    return f


def _lowest(x):
    return np.finfo(x.dtype).min if x.dtype.kind == "f" else np.iinfo(x.dtype).min


def _np_unsorted(fn, which):
    def f(x):
        out = np.zeros((5,) + x.shape[1:], dtype=x.dtype)
        empty = {"sum": 0, "prod": 1, "max": _lowest(x),
                 "min": np.finfo(x.dtype).max if x.dtype.kind == "f" else np.iinfo(x.dtype).max}[which]
        for s in range(5):
            rows = x[_UIDS == s]
            out[s] = fn(rows, axis=0) if len(rows) else empty
        return out
    return f


def _np_top_k(x, k):
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, order, -1)


def _space_to_depth(x, bs):
    b, h, w, c = x.shape
    return x.reshape(b, h // bs, bs, w // bs, bs, c).transpose(0, 1, 3, 2, 4, 5).reshape(b, h // bs, w // bs, c * bs * bs)


def _depth_to_space(x, bs):
    b, h, w, c = x.shape
    return x.reshape(b, h, w, bs, bs, c // (bs * bs)).transpose(0, 1, 3, 2, 4, 5).reshape(b, h * bs, w * bs, c // (bs * bs))


def _np_roll(x):
    return np.roll(x, (2, -1), (0, 1))


def _np_reverse_sequence(x):
    out = x.copy()
    for b, n in enumerate([2, 0, 3]):
        out[b, :n] = x[b, :n][::-1]
    return out


ROWS = [
    # ---- n-d indexing ----
    OpRow("gather_nd", lambda tf, p, i: tf.gather_nd(p, i), lambda p, i: p[tuple(np.moveaxis(i, -1, 0))],
          [((4, 3), (5, 2)), ((4, 3, 2), (2, 3, 1)), ((3,), (4, 1))], ALL, grad_inputs=[0], make=_nd_make),
    OpRow("scatter_nd", lambda tf, i, u: tf.scatter_nd(i, u, [5, 2]),
          lambda i, u: _np_scatter_nd(i, u, (5, 2)), [((5, 2),)], ALL, grad_inputs=[1], make=_scatter_make),
    OpRow("tensor_scatter_nd_update", lambda tf, t, i, u: tf.tensor_scatter_nd_update(t, i, u),
          _np_tensor_scatter("update"), [((2, 3),)], ALL, grad_inputs=[0, 2], make=_tensor_scatter_make),
    OpRow("tensor_scatter_nd_add", lambda tf, t, i, u: tf.tensor_scatter_nd_add(t, i, u),
          _np_tensor_scatter("add"), [((2, 3),)], ALL, grad_inputs=[0, 2], make=_tensor_scatter_make),
    OpRow("tensor_scatter_nd_sub", lambda tf, t, i, u: tf.tensor_scatter_nd_sub(t, i, u),
          _np_tensor_scatter("sub"), [((2, 3),)], ALL, grad_inputs=[0, 2], make=_tensor_scatter_make),
    # ---- segment reductions ----
    OpRow("segment_sum", lambda tf, x: tf.math.segment_sum(x, _IDS), _np_segment(np.sum, _IDS, 4, 0),
          [((6,),), ((6, 2),)], ALL, make=_seg_make()),
    OpRow("segment_mean", lambda tf, x: tf.math.segment_mean(x, _IDS), _np_segment(np.mean, _IDS, 4, 0),
          [((6,),), ((6, 2),)], FLOATS, make=_seg_make()),
    OpRow("segment_max", lambda tf, x: tf.math.segment_max(x, _IDS), _np_segment(np.max, _IDS, 4, 0),
          [((6,),), ((6, 2),)], ALL, make=_seg_make(True)),
    OpRow("segment_min", lambda tf, x: tf.math.segment_min(x, _IDS), _np_segment(np.min, _IDS, 4, 0),
          [((6,),), ((6, 3),)], ALL, make=_seg_make(True)),
    OpRow("segment_prod", lambda tf, x: tf.math.segment_prod(x, _IDS), _np_segment(np.prod, _IDS, 4, 1),
          [((6,),), ((6, 2),)], ALL, make=_seg_make()),
    OpRow("unsorted_segment_sum", lambda tf, x: tf.unsorted_segment_sum(x, _UIDS, 5), _np_unsorted(np.sum, "sum"),
          [((6,),), ((6, 2),)], ALL, make=_seg_make()),
    OpRow("unsorted_segment_max", lambda tf, x: tf.math.unsorted_segment_max(x, _UIDS, 5),
          _np_unsorted(np.max, "max"), [((6,),), ((6, 2),)], ALL, make=_seg_make(True), grad=False),
    OpRow("unsorted_segment_min", lambda tf, x: tf.math.unsorted_segment_min(x, _UIDS, 5),
          _np_unsorted(np.min, "min"), [((6,),), ((6, 2),)], ALL, make=_seg_make(True), grad=False),
    # Empty unsorted max/min segments hold lowest()/max(), which finite differences cannot take: the
    # gradient rows use ids that reach every segment.
    OpRow("unsorted_segment_max_full", lambda tf, x: tf.math.unsorted_segment_max(x, _FULL, 3),
          lambda x: np.stack([x[_FULL == s].max(0) for s in range(3)]), [((6,),), ((6, 2),)], FLOATS,
          make=_seg_make(True)),
    OpRow("unsorted_segment_min_full", lambda tf, x: tf.math.unsorted_segment_min(x, _FULL, 3),
          lambda x: np.stack([x[_FULL == s].min(0) for s in range(3)]), [((6,),), ((6, 2),)], FLOATS,
          make=_seg_make(True)),
    OpRow("unsorted_segment_prod", lambda tf, x: tf.math.unsorted_segment_prod(x, _UIDS, 5),
          _np_unsorted(np.prod, "prod"), [((6,),), ((6, 2),)], ALL, make=_seg_make()),
    OpRow("unsorted_segment_mean", lambda tf, x: tf.math.unsorted_segment_mean(x, _UIDS, 5),
          lambda x: np.where(np.arange(5).reshape((5,) + (1,) * (x.ndim - 1)) % 2 == 1, 0,
                             _np_unsorted(np.mean, "sum")(x)).astype(x.dtype),
          [((6,),), ((6, 2),)], FLOATS, make=_seg_make()),
    # ---- partition / stitch ----
    OpRow("dynamic_partition", lambda tf, x: tf.dynamic_partition(x, np.array([1, 0, 1, 2], np.int32), 3)[1],
          lambda x: x[np.array([1, 0, 1, 2]) == 1], [((4,),), ((4, 2),)], ALL, grad=False),
    OpRow("dynamic_partition_grad",
          lambda tf, x: tf.stack([tf.reduce_sum(p * p) for p in
                                  tf.dynamic_partition(x, np.array([1, 0, 1, 2], np.int32), 3)]),
          lambda x: np.stack([np.sum(x[np.array([1, 0, 1, 2]) == k] ** 2) for k in range(3)]).astype(x.dtype),
          [((4,),), ((4, 2),)], FLOATS),
    OpRow("dynamic_stitch", lambda tf, a, b: tf.dynamic_stitch([np.array([0, 3], np.int32), np.array([[1], [2]], np.int32)],
                                                               [a, b]),
          lambda a, b: np.concatenate([a[:1], b.reshape((2,) + a.shape[1:]), a[1:]], 0),
          [((2,), (2, 1)), ((2, 3), (2, 1, 3))], ALL),
    # ---- ranking ----
    OpRow("top_k", lambda tf, x: tf.nn.top_k(x, 2).values, lambda x: _np_top_k(x, 2), [((5,),), ((3, 4),)], ALL,
          make=_seg_make(True)),
    OpRow("top_k_indices_sorted", lambda tf, x: tf.sort(x, axis=0), lambda x: np.sort(x, axis=0),
          [((5,),), ((4, 3),)], ALL, make=_seg_make(True)),
    OpRow("sort_descending", lambda tf, x: tf.sort(x, direction="DESCENDING"), lambda x: -np.sort(-x, axis=-1),
          [((3, 4),)], ALL, make=_seg_make(True)),
    # ---- data movement ----
    OpRow("roll", lambda tf, x: tf.roll(x, [2, -1], [0, 1]), _np_roll, [((3, 4),), ((4, 1, 2),)], ALL),
    OpRow("reverse_sequence", lambda tf, x: tf.reverse_sequence(x, [2, 0, 3], seq_axis=1, batch_axis=0),
          _np_reverse_sequence, [((3, 4),), ((3, 3, 2),)], ALL),
    OpRow("space_to_depth", lambda tf, x: tf.space_to_depth(x, 2), lambda x: _space_to_depth(x, 2),
          [((1, 4, 4, 1),), ((2, 2, 4, 3),)], ALL),
    OpRow("depth_to_space", lambda tf, x: tf.depth_to_space(x, 2), lambda x: _depth_to_space(x, 2),
          [((1, 2, 2, 4),), ((2, 1, 2, 8),)], ALL),
]
