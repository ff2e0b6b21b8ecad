"""Op-table rows of the array family (cpp/ops/array.cc, array_index.cc)."""
import numpy as np

from .common import HALF, SMALL_INT, OpRow, add_dtypes

ALL = ("float32", "float64", "int32", "int64")
WITH_BOOL = ALL + ("bool",)
FLOATS = ("float32", "float64")


def _with_indices(n_index):
    """make(): a float/int data array plus valid int32 indices in [0, n_index)."""
    def make(rng, shapes, dtype):
        data = rng.uniform(-2, 2, size=shapes[0]).astype(dtype) if np.dtype(dtype).kind == "f" else \
            rng.randint(-5, 6, size=shapes[0]).astype(dtype)
        idx = rng.randint(0, n_index, size=shapes[1]).astype(np.int32)
        return [data, idx]
    return make


def _split_concat(tf, x, spec, axis):
    return tf.concat(tf.split(x, spec, axis=axis)[::-1], axis=axis)


def _np_split_concat(x, spec, axis):
    if isinstance(spec, int):
        parts = np.split(x, spec, axis=axis)
    else:
        sizes = list(spec)
        if -1 in sizes:
            sizes[sizes.index(-1)] = x.shape[axis] - (sum(sizes) + 1)
        parts = np.split(x, np.cumsum(sizes)[:-1], axis=axis)
    return np.concatenate(parts[::-1], axis=axis)


def _range_make(rng, shapes, dtype):
    if np.dtype(dtype).kind == "f":
        return [np.array(0.5, dtype), np.array(3.75, dtype), np.array(0.25, dtype)]
    return [np.array(-3, dtype), np.array(8, dtype), np.array(3, dtype)]


def _range_down_make(rng, shapes, dtype):
    return [np.array(5, dtype), np.array(-2, dtype), np.array(-2, dtype)]


def _dynamic(tf, x):
    """x with every static dim hidden, so shape functions and kernels see unknown dims."""
    return tf.placeholder_with_default(x, [None] * x.shape.ndims)


ROWS = [
    # ---- reshape family ----
    OpRow("reshape_flat", lambda tf, x: tf.reshape(x, [-1]), lambda x: x.reshape(-1),
          [((2, 3),), ((),), ((0, 3),), ((2, 3, 4),)], WITH_BOOL),
    OpRow("reshape_infer", lambda tf, x: tf.reshape(x, [3, -1]), lambda x: x.reshape(3, -1),
          [((2, 3),), ((3,),), ((3, 0),), ((6, 2),)], ALL),
    OpRow("reshape_dynamic", lambda tf, x: tf.reshape(_dynamic(tf, x), [-1, 2]), lambda x: x.reshape(-1, 2),
          [((2, 3),), ((4,),)], ALL, grad=False),
    OpRow("reshape_scalar", lambda tf, x: tf.reshape(x, []), lambda x: x.reshape(()), [((1,),), ((1, 1),)], ALL),
    OpRow("expand_dims_0", lambda tf, x: tf.expand_dims(x, 0), lambda x: np.expand_dims(x, 0),
          [((),), ((3,),), ((2, 0),)], ALL),
    OpRow("expand_dims_last", lambda tf, x: tf.expand_dims(x, -1), lambda x: np.expand_dims(x, -1),
          [((),), ((2, 3),)], ALL),
    OpRow("squeeze_all", lambda tf, x: tf.squeeze(x), lambda x: np.squeeze(x),
          [((1, 3, 1),), ((1,),), ((2, 1, 0),), ((2, 3),)], ALL),
    OpRow("squeeze_axis", lambda tf, x: tf.squeeze(x, axis=[-2]), lambda x: np.squeeze(x, axis=-2),
          [((2, 1, 3),), ((1, 1),)], ALL),
    # ---- concat / stack / split ----
    OpRow("concat_axis1", lambda tf, a, b: tf.concat([a, b], 1), lambda a, b: np.concatenate([a, b], 1),
          [((2, 3), (2, 1)), ((2, 0), (2, 2)), ((3, 2, 2), (3, 1, 2))], WITH_BOOL),
    OpRow("concat_axis0_three", lambda tf, a, b, c: tf.concat([a, b, c], 0),
          lambda a, b, c: np.concatenate([a, b, c], 0), [((1, 2), (3, 2), (2, 2)), ((1,), (0,), (2,))], ALL),
    OpRow("concat_neg_axis", lambda tf, a, b: tf.concat([a, b], -1), lambda a, b: np.concatenate([a, b], -1),
          [((2, 2, 3), (2, 2, 1))], ALL),
    OpRow("concat_single", lambda tf, a: tf.concat([a], 0), lambda a: a, [((2, 3),)], FLOATS),
    OpRow("identity_n", lambda tf, a, b: tf.stack(tf.identity_n([a, b])[::-1]), lambda a, b: np.stack([b, a]),
          [((2, 3), (2, 3)), ((), ())], ALL),
    OpRow("stack_axis0", lambda tf, a, b: tf.stack([a, b]), lambda a, b: np.stack([a, b]),
          [((2, 3), (2, 3)), ((), ()), ((0,), (0,))], ALL),
    OpRow("stack_axis1", lambda tf, a, b, c: tf.stack([a, b, c], axis=1), lambda a, b, c: np.stack([a, b, c], 1),
          [((2, 3), (2, 3), (2, 3)), ((4,), (4,), (4,))], WITH_BOOL),
    OpRow("stack_neg_axis", lambda tf, a, b: tf.stack([a, b], axis=-1), lambda a, b: np.stack([a, b], -1),
          [((2, 3), (2, 3))], ALL),
    OpRow("unstack_axis0", lambda tf, x: tf.stack(tf.unstack(x)[::-1]), lambda x: x[::-1],
          [((3, 2),), ((2,),), ((2, 3, 4),)], ALL),
    OpRow("unstack_axis1", lambda tf, x: tf.stack(tf.unstack(x, axis=1), axis=0), lambda x: np.moveaxis(x, 1, 0),
          [((2, 3),), ((2, 3, 4),)], WITH_BOOL),
    OpRow("split_even", lambda tf, x: _split_concat(tf, x, 3, 1), lambda x: _np_split_concat(x, 3, 1),
          [((2, 6),), ((1, 3, 2),), ((0, 3),)], ALL),
    OpRow("split_axis0", lambda tf, x: _split_concat(tf, x, 2, 0), lambda x: _np_split_concat(x, 2, 0),
          [((4, 3),), ((2,),)], ALL),
    OpRow("split_sizes", lambda tf, x: _split_concat(tf, x, [1, -1, 2], 0),
          lambda x: _np_split_concat(x, [1, -1, 2], 0), [((5, 2),), ((3,),)], WITH_BOOL),
    OpRow("split_sizes_axis1", lambda tf, x: _split_concat(tf, x, [2, 1], -1),
          lambda x: _np_split_concat(x, [2, 1], -1), [((2, 3),), ((2, 4, 3),)], ALL),
    # ---- slicing ----
    OpRow("slice", lambda tf, x: tf.slice(x, [1, 0], [1, -1]), lambda x: x[1:2, 0:],
          [((3, 4),), ((2, 0),)], ALL),
    OpRow("slice_3d", lambda tf, x: tf.slice(x, [0, 1, 1], [2, 2, -1]), lambda x: x[0:2, 1:3, 1:],
          [((2, 4, 3),), ((3, 3, 5),)], ALL),
    OpRow("slice_dynamic", lambda tf, x: tf.slice(_dynamic(tf, x), [1, 1], [-1, 2]), lambda x: x[1:, 1:3],
          [((3, 4),)], ALL, grad=False),
    OpRow("getitem_basic", lambda tf, x: x[1:, ::-1], lambda x: x[1:, ::-1], [((4, 5),), ((1, 3),), ((0, 2),)], WITH_BOOL),
    OpRow("getitem_int", lambda tf, x: x[-1], lambda x: x[-1], [((4, 5),), ((3,),)], ALL),
    OpRow("getitem_ellipsis", lambda tf, x: x[..., 0], lambda x: x[..., 0], [((3, 4, 5),), ((2,),)], ALL),
    OpRow("getitem_newaxis", lambda tf, x: x[:, None, -1], lambda x: x[:, None, -1], [((3, 4),)], ALL),
    OpRow("getitem_steps", lambda tf, x: x[::2, 1:-1:2], lambda x: x[::2, 1:-1:2], [((5, 7),), ((4, 6),)], ALL),
    OpRow("getitem_neg_steps", lambda tf, x: x[-1:0:-2, ::-3], lambda x: x[-1:0:-2, ::-3],
          [((6, 7),), ((1, 1),)], ALL),
    OpRow("getitem_mixed", lambda tf, x: x[1, ..., None, 1:3], lambda x: x[1, ..., None, 1:3],
          [((2, 3, 4, 5),), ((2, 4),)], WITH_BOOL),
    OpRow("getitem_out_of_range_slice", lambda tf, x: x[-10:10, 5:], lambda x: x[-10:10, 5:], [((3, 4),)], ALL),
    OpRow("getitem_tensor_index", lambda tf, x: x[tf.constant(1), 1:], lambda x: x[1, 1:], [((3, 4),)], ALL),
    OpRow("getitem_dynamic", lambda tf, x: _dynamic(tf, x)[1:, -1], lambda x: x[1:, -1], [((3, 4),)], ALL, grad=False),
    OpRow("strided_slice_masks",
          lambda tf, x: tf.strided_slice(x, [0, 3], [0, 0], [1, -1], begin_mask=1, end_mask=1),
          lambda x: x[:, 3:0:-1], [((2, 5),), ((3, 4),)], ALL),
    OpRow("reverse", lambda tf, x: tf.reverse(x, [0, -1]), lambda x: x[::-1, ..., ::-1],
          [((3, 4),), ((2, 3, 4),)], ALL),
    OpRow("gather_axis0", lambda tf, x, i: tf.gather(x, i), lambda x, i: x[i], [((5, 3), (4,)), ((5,), (2, 3))],
          ALL, grad_inputs=[0], make=_with_indices(5)),
    OpRow("gather_axis1", lambda tf, x, i: tf.gather(x, i, axis=1), lambda x, i: np.take(x, i, axis=1),
          [((2, 5, 3), (2, 2)), ((3, 5), (7,))], WITH_BOOL, grad_inputs=[0], make=_with_indices(5)),
    OpRow("gather_scalar_index", lambda tf, x, i: tf.gather(x, i, axis=-1), lambda x, i: np.take(x, i, axis=-1),
          [((2, 4), ()), ((4,), ())], ALL, grad_inputs=[0], make=_with_indices(4)),
    OpRow("boolean_mask", lambda tf, x: tf.boolean_mask(x, np.array([True, False, True])),
          lambda x: x[np.array([True, False, True])], [((3, 2),), ((3,),)], ALL + ("bool",), grad=False),
    OpRow("boolean_mask_2d", lambda tf, x: tf.boolean_mask(x, np.array([[True, False], [True, True]]), axis=1),
          lambda x: x[:, np.array([[True, False], [True, True]])], [((3, 2, 2),)], ALL, grad=False),
    # ---- tile / pad / broadcast / transpose ----
    OpRow("tile", lambda tf, x: tf.tile(x, [2, 1]), lambda x: np.tile(x, [2, 1]), [((2, 3),), ((1, 0),)], ALL),
    OpRow("tile_3d", lambda tf, x: tf.tile(x, [1, 4, 2]), lambda x: np.tile(x, [1, 4, 2]),
          [((2, 1, 3),), ((1, 2, 2),)], WITH_BOOL),
    OpRow("tile_scalar", lambda tf, x: tf.tile(x, []), lambda x: x, [((),)], ALL),
    OpRow("pad", lambda tf, x: tf.pad(x, [[1, 0], [2, 1]]), lambda x: np.pad(x, [[1, 0], [2, 1]]),
          [((2, 3),), ((0, 2),)], WITH_BOOL),
    OpRow("pad_3d", lambda tf, x: tf.pad(x, [[0, 0], [1, 1], [0, 2]]), lambda x: np.pad(x, [[0, 0], [1, 1], [0, 2]]),
          [((2, 2, 3),)], ALL),
    OpRow("pad_constant", lambda tf, x: tf.pad(x, [[1, 1]], constant_values=1.5),
          lambda x: np.pad(x, [[1, 1]], constant_values=1.5), [((3,),), ((0,),)], FLOATS),
    OpRow("broadcast_to", lambda tf, x: tf.broadcast_to(x, [2, 3]), lambda x: np.broadcast_to(x, (2, 3)),
          [((3,),), ((2, 1),), ((),), ((1, 3),)], ALL),
    OpRow("broadcast_to_3d", lambda tf, x: tf.broadcast_to(x, [2, 4, 3]), lambda x: np.broadcast_to(x, (2, 4, 3)),
          [((4, 1),), ((2, 1, 3),)], WITH_BOOL),
    OpRow("transpose_default", lambda tf, x: tf.transpose(x), lambda x: x.T, [((2, 3),), ((2, 3, 4),), ((),), ((0, 3),)],
          ALL),
    OpRow("transpose_perm", lambda tf, x: tf.transpose(x, [1, 2, 0]), lambda x: np.transpose(x, [1, 2, 0]),
          [((2, 3, 4),), ((4, 1, 3),)], WITH_BOOL),
    OpRow("transpose_batch", lambda tf, x: tf.transpose(x, [0, 2, 1]), lambda x: np.transpose(x, [0, 2, 1]),
          [((2, 3, 4),), ((2, 17, 19),)], ALL),
    OpRow("transpose_blocked", lambda tf, x: tf.transpose(x), lambda x: x.T, [((40, 50),)], ALL, grad=False),
    OpRow("transpose_identity", lambda tf, x: tf.transpose(x, [0, 1]), lambda x: x, [((2, 3),)], ALL),
    OpRow("matrix_transpose", lambda tf, x: tf.matrix_transpose(x), lambda x: np.swapaxes(x, -1, -2),
          [((2, 3, 4),), ((3, 2),)], ALL),
    # ---- big inputs: the parallel paths of each kernel (forward only) ----
    OpRow("transpose_big", lambda tf, x: tf.transpose(x, [2, 0, 1]), lambda x: np.transpose(x, [2, 0, 1]),
          [((64, 48, 33),)], ALL, grad=False),
    OpRow("concat_big", lambda tf, a, b: tf.concat([a, b], 1), lambda a, b: np.concatenate([a, b], 1),
          [((300, 100), (300, 77))], ALL, grad=False),
    OpRow("getitem_big", lambda tf, x: x[3:-2, ::-3], lambda x: x[3:-2, ::-3], [((400, 300),)], ALL, grad=False),
    OpRow("tile_big", lambda tf, x: tf.tile(x, [30, 20]), lambda x: np.tile(x, [30, 20]), [((40, 50),)], ALL, grad=False),
    OpRow("gather_big", lambda tf, x, i: tf.gather(x, i), lambda x, i: x[i], [((100, 300), (500,))], ALL,
          grad=False, make=_with_indices(100)),
    OpRow("unstack_big", lambda tf, x: tf.stack(tf.unstack(x, axis=1), axis=0), lambda x: np.moveaxis(x, 1, 0),
          [((2000, 3, 20),)], ALL, grad=False),
    # ---- shapes and filled tensors: not differentiable ----
    OpRow("shape", lambda tf, x: tf.shape(x), lambda x: np.array(x.shape, np.int32),
          [((2, 3),), ((),), ((0, 4, 1),)], ALL, grad=False),
    OpRow("shape_dynamic", lambda tf, x: tf.shape(_dynamic(tf, x)), lambda x: np.array(x.shape, np.int32),
          [((2, 3),), ((),), ((0, 4, 1),)], ALL, grad=False),
    OpRow("shape_int64", lambda tf, x: tf.shape(_dynamic(tf, x), out_type=tf.int64),
          lambda x: np.array(x.shape, np.int64), [((2, 3),)], ALL, grad=False),
    OpRow("size_dynamic", lambda tf, x: tf.size(_dynamic(tf, x)), lambda x: np.array(x.size, np.int32),
          [((2, 3),), ((),), ((0, 4),)], ALL, grad=False),
    OpRow("rank_dynamic", lambda tf, x: tf.rank(tf.placeholder_with_default(x, None)),
          lambda x: np.array(x.ndim, np.int32), [((2, 3),), ((),)], ALL, grad=False),
    OpRow("zeros_like", lambda tf, x: tf.zeros_like(x), np.zeros_like, [((2, 3),), ((),)], ALL, grad=False),
    OpRow("ones_like_dynamic", lambda tf, x: tf.ones_like(_dynamic(tf, x)), np.ones_like, [((2, 3),), ((0,),)],
          ALL, grad=False),
    OpRow("fill", lambda tf, v: tf.fill([2, 3], v), lambda v: np.full((2, 3), v), [((),)], ALL),
    OpRow("fill_empty", lambda tf, v: tf.fill([0, 3], v), lambda v: np.full((0, 3), v), [((),)], ALL, grad=False),
    OpRow("range", lambda tf, a, b, c: tf.range(a, b, c), lambda a, b, c: np.arange(a, b, c, dtype=a.dtype),
          [((), (), ())], ALL, grad=False, make=_range_make),
    OpRow("range_down", lambda tf, a, b, c: tf.range(a, b, c), lambda a, b, c: np.arange(a, b, c, dtype=a.dtype),
          [((), (), ())], ALL, grad=False, make=_range_down_make),
    OpRow("one_hot", lambda tf, i: tf.one_hot(i, 4), lambda i: (np.arange(4) == i[..., None]).astype(np.float32),
          [((5,),), ((2, 3),), ((),)], ("int32", "int64"), grad=False, low=-1, high=4),
    OpRow("one_hot_axis0", lambda tf, i: tf.one_hot(i, 3, on_value=5.0, off_value=-1.0, axis=0, dtype=tf.float64),
          lambda i: np.where(np.arange(3)[:, None] == i[None, :], 5.0, -1.0), [((4,),)], ("int32", "int64"),
          grad=False, low=-1, high=3),
]

# Data movement, shapes and fills run on every dtype, as TensorFlow's CPU kernels (cpp/dtype.h: Note [dtype
# sets]); Range and OneHot's indices keep TensorFlow's narrower lists.
add_dtypes(ROWS, {r.name: HALF + SMALL_INT for r in ROWS
                  if r.name not in ("range", "range_down", "one_hot", "one_hot_axis0", "pad_constant")})
add_dtypes(ROWS, {"pad_constant": HALF})  # its constant is 1.5
