"""Array ops beyond the op table: indexing against NumPy, static shape inference, error messages, output
counts, the Python API's TF semantics (dtypes, names, constants) and gradients with NumPy references."""
import numpy as np
import pytest

import tideflow as tf
from tideflow import _core


def _needs(*ops):
    """Documents the other families' ops a test relies on; all are registered in a full build."""
    missing = set(ops) - set(_core.registered_ops())
    assert not missing, "ops missing from this build: %s" % sorted(missing)
    return lambda f: f


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


X = np.arange(60, dtype=np.float32).reshape(3, 4, 5)

INDICES = [
    0, -1, 2, slice(1, None), slice(None, -1), slice(None, None, 2), slice(None, None, -1),
    slice(5, -5, -1), slice(10, None), slice(-10, None), slice(2, 1), slice(-1, -4, -1),
    (Ellipsis, 0), (None,), (None, Ellipsis, None), (1, None, slice(None, None, -2)), (slice(None), 2),
    (Ellipsis,), (), (0, 1, 2), (-1, Ellipsis, slice(1, 3), None), (slice(None), None, slice(None), -1),
    (Ellipsis, None), (slice(1, 3), slice(-2, None), slice(None, None, 3)), (2, -1, slice(4, 0, -2)),
    (slice(None, None, -1), Ellipsis, slice(None, None, -1)), (None, 1, Ellipsis, 2, None),
    (slice(0, 100, 7),), (slice(-100, 100, -1),),
]


@pytest.mark.parametrize("idx", INDICES, ids=[repr(i) for i in INDICES])
def test_getitem_matches_numpy(idx):
    x = tf.placeholder(tf.float32, X.shape)
    xd = tf.placeholder(tf.float32, [None, None, None])
    y, yd = x[idx], xd[idx]
    want = X[idx]
    assert y.shape.is_fully_defined() and tuple(y.shape.as_list()) == want.shape
    assert yd.shape.ndims == want.ndim
    got, got_d = _run([y, yd], {x: X, xd: X})
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_d, want)


def _random_index(rng, rank):
    """A random NumPy basic index for a rank-`rank` array: ints, slices (steps and negatives), None, ...."""
    items, used, ellipsis = [], 0, False
    for _ in range(rng.randint(0, rank + 3)):
        r = rng.rand()
        if r < 0.15 and not ellipsis:
            items.append(Ellipsis)
            ellipsis = True
        elif r < 0.3:
            items.append(None)
        elif used < rank and r < 0.5:
            items.append(int(rng.randint(-3, 3)))
            used += 1
        elif used < rank:
            pick = lambda: None if rng.rand() < 0.3 else int(rng.randint(-7, 7))  # noqa: E731
            step = None if rng.rand() < 0.3 else int(rng.choice([-3, -2, -1, 1, 2, 3]))
            items.append(slice(pick(), pick(), step))
            used += 1
    return tuple(items)


def test_random_getitem_matches_numpy():
    rng = np.random.RandomState(7)
    x = tf.placeholder(tf.float32, X.shape)
    checked = []
    for _ in range(150):
        idx = _random_index(rng, 3)
        want = X[idx]
        y = x[idx]
        assert tuple(y.shape.as_list()) == want.shape, idx
        checked.append((y, want))
    got = _run([y for y, _ in checked], {x: X})
    for g, (_, want) in zip(got, checked):
        np.testing.assert_array_equal(g, want)


def test_getitem_tensor_indices():
    x = tf.placeholder(tf.float32, X.shape)
    i = tf.placeholder(tf.int32, [])
    j = tf.placeholder(tf.int64, [])
    y1 = x[i]
    y2 = x[1, i:, 3]
    y3 = x[tf.constant(2), ::-1]
    y4 = x[j, j:]
    assert y3.shape.as_list() == [4, 5]
    got = _run([y1, y2, y3, y4], {x: X, i: 1, j: 2})
    np.testing.assert_array_equal(got[0], X[1])
    np.testing.assert_array_equal(got[1], X[1, 1:, 3])
    np.testing.assert_array_equal(got[2], X[2, ::-1])
    np.testing.assert_array_equal(got[3], X[2, 2:])


@_needs("Cast")
def test_getitem_mixed_index_dtypes_cast_to_int64():
    x = tf.placeholder(tf.float32, X.shape)
    i = tf.placeholder(tf.int32, [])
    j = tf.placeholder(tf.int64, [])
    np.testing.assert_array_equal(_run(x[i, j], {x: X, i: 1, j: 2}), X[1, 2])


def test_getitem_on_variable_and_shape():
    v = tf.Variable(X)
    x = tf.placeholder(tf.float32, [None, 3])
    n = tf.shape(x)[0]
    assert n.shape.as_list() == [] and n.dtype == tf.int32
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_v, got_n = sess.run([v[1:, 0], n], {x: np.zeros((7, 3), np.float32)})
    np.testing.assert_array_equal(got_v, X[1:, 0])
    assert got_n == 7


def test_getitem_errors():
    x = tf.placeholder(tf.float32, [3, 4])
    with pytest.raises(TypeError, match="valid indices"):
        x[1.5]
    with pytest.raises(TypeError, match="valid indices"):
        x[tf.constant(1.0)]
    with pytest.raises(ValueError, match="out of bounds"):
        x[3]
    with pytest.raises(ValueError, match="Index out of range using input dim 2"):
        x[0, 0, 0]
    with pytest.raises(ValueError, match="Multiple ellipses"):
        x[..., 0, ...]
    with pytest.raises(ValueError, match="must be non-zero"):
        x[::0]
    xd = tf.placeholder(tf.float32, [None, 4])
    y = xd[5]
    with pytest.raises(tf.errors.InvalidArgumentError, match="slice index 5 of dimension 0 out of bounds"):
        _run(y, {xd: np.zeros((3, 4), np.float32)})


def test_strided_slice_explicit_masks():
    x = tf.constant(X)
    # shrink axis 1, new axis at 0, ellipsis in the middle: x[None, 1, ..., ::-2]
    y = tf.strided_slice(x, [0, 1, 0, 0], [0, 2, 0, 0], [1, 1, 1, -2], begin_mask=8, end_mask=8,
                         ellipsis_mask=4, new_axis_mask=1, shrink_axis_mask=2)
    assert y.shape.as_list() == list(X[None, 1, ..., ::-2].shape)
    np.testing.assert_array_equal(_run(y), X[None, 1, ..., ::-2])
    z = tf.strided_slice(x, [1], [3])  # strides default to ones
    assert z.shape.as_list() == [2, 4, 5]
    np.testing.assert_array_equal(_run(z), X[1:3])


# ---------------------------------------------------------------------------------------------------
# Static shape inference


def test_reshape_static_shapes():
    assert tf.reshape(tf.placeholder(tf.float32, [None, 3, 4]), [-1, 12]).shape.as_list() == [None, 12]
    assert tf.reshape(tf.placeholder(tf.float32, [2, 3, 4]), [-1, 4]).shape.as_list() == [6, 4]
    s = tf.placeholder(tf.int32, [3])
    assert tf.reshape(tf.placeholder(tf.float32, [6]), s).shape.as_list() == [None, None, None]
    assert tf.reshape(tf.placeholder(tf.float32, [6]), tf.placeholder(tf.int32)).shape.ndims is None
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.reshape(x, [tf.shape(x)[0], -1])  # auto-packed shape argument
    assert y.shape.ndims == 2
    np.testing.assert_array_equal(_run(y, {x: np.ones((4, 3))}), np.ones((4, 3)))
    assert tf.reshape(x, tf.shape(tf.placeholder(tf.float32, [3, 1]))).shape.as_list() == [3, 1]
    q = tf.placeholder(tf.float32, [2, 6])
    assert tf.reshape(q, [q.shape[0], -1, 2]).shape.as_list() == [2, 3, 2]  # Dimension entries
    assert tf.reshape(q, q.shape[::-1]).shape.as_list() == [6, 2]  # a TensorShape
    with pytest.raises(ValueError, match="unknown Dimension"):
        tf.reshape(x, [x.shape[0], 3])
    # Partly known shape tensors (Note [shape tensors]): packed entries, indexed shapes.
    h = tf.placeholder(tf.float32, [None, 4, 16])
    assert tf.reshape(h, [tf.shape(h)[0], -1, 8]).shape.as_list() == [None, None, 8]
    assert tf.reshape(h, [tf.shape(h)[0], 64]).shape.as_list() == [None, 64]
    k = tf.placeholder(tf.float32, [2, 4, 16])
    assert tf.reshape(k, [tf.shape(k)[0], -1]).shape.as_list() == [2, 64]
    assert tf.reshape(k, [-1, tf.shape(h)[2]]).shape.as_list() == [8, 16]
    assert tf.reshape(k, [tf.placeholder(tf.int32, []), 32]).shape.as_list() == [4, 32]
    assert tf.reshape(h, tf.shape(h)).shape.as_list() == [None, 4, 16]
    assert tf.fill([tf.shape(h)[0], 3], 1.0).shape.as_list() == [None, 3]
    assert tf.zeros(tf.shape(h)).shape.as_list() == [None, 4, 16]
    assert tf.broadcast_to(1.0, [tf.shape(h)[-1], 2]).shape.as_list() == [16, 2]
    with pytest.raises(ValueError, match="Only one input size may be -1"):
        tf.reshape(h, [tf.shape(h)[0], -1, -1])
    y = tf.reshape(k, [tf.placeholder_with_default(2, []), -1, 8])
    assert y.shape.as_list() == [None, None, 8]
    assert _run(y, {k: np.zeros((2, 4, 16))}).shape == (2, 8, 8)


def test_partial_shapes_of_other_ops():
    a = tf.placeholder(tf.float32, [None, 3])
    b = tf.placeholder(tf.float32, [2, 4])
    assert tf.concat([a, b], 1).shape.as_list() == [2, 7]
    assert tf.concat([a, tf.placeholder(tf.float32, [5, 3])], 0).shape.as_list() == [None, 3]
    assert tf.stack([a, a], axis=1).shape.as_list() == [None, 2, 3]
    assert tf.expand_dims(a, 1).shape.as_list() == [None, 1, 3]
    assert tf.squeeze(tf.placeholder(tf.float32, [None, 1, 3]), axis=1).shape.as_list() == [None, 3]
    assert tf.squeeze(tf.placeholder(tf.float32, [None, 1, 3])).shape.ndims is None
    assert tf.squeeze(tf.placeholder(tf.float32, [2, 1, 3])).shape.as_list() == [2, 3]
    p = tf.placeholder(tf.float32, [None, 5])
    assert tf.gather(p, tf.placeholder(tf.int32, [7]), axis=1).shape.as_list() == [None, 7]
    assert tf.gather(p, tf.placeholder(tf.int32, [2, 3])).shape.as_list() == [2, 3, 5]
    assert tf.transpose(a).shape.as_list() == [3, None]
    assert tf.tile(a, [2, 2]).shape.as_list() == [None, 6]
    assert tf.pad(a, [[1, 1], [0, 2]]).shape.as_list() == [None, 5]
    assert tf.one_hot(tf.placeholder(tf.int32, [None]), 10).shape.as_list() == [None, 10]
    assert p[..., 1:].shape.as_list() == [None, 4]
    assert p[:, -1].shape.as_list() == [None]
    assert tf.range(5).shape.as_list() == [5]
    assert tf.range(2, 11, 3).shape.as_list() == [3]
    assert tf.range(tf.placeholder(tf.int32, [])).shape.as_list() == [None]
    assert tf.zeros([2, 3]).shape.as_list() == [2, 3]
    assert tf.zeros(tf.shape(a)).shape.as_list() == [None, 3]
    assert tf.broadcast_to(tf.placeholder(tf.float32, [None]), [4, 3]).shape.as_list() == [4, 3]
    assert tf.slice(a, [0, 1], [-1, 2]).shape.as_list() == [None, 2]
    assert tf.shape(a).shape.as_list() == [2]
    assert tf.shape(tf.placeholder(tf.float32)).shape.as_list() == [None]
    assert [t.shape.as_list() for t in tf.split(tf.placeholder(tf.float32, [None, 6]), 3, axis=1)] == [[None, 2]] * 3
    outs = tf.split(tf.placeholder(tf.float32, [None, 6]), [1, -1], axis=1)
    assert [t.shape.as_list() for t in outs] == [[None, 1], [None, 5]]
    outs = tf.unstack(tf.placeholder(tf.float32, [4, None]))
    assert len(outs) == 4 and all(t.shape.as_list() == [None] for t in outs)


# ---------------------------------------------------------------------------------------------------
# Errors


def test_reshape_incompatible_at_build_names_node_and_shapes():
    x = tf.placeholder(tf.float32, [2, 3], name="inp")
    with pytest.raises(ValueError) as e:
        tf.reshape(x, [4, 2], name="bad_reshape")
    msg = str(e.value)
    assert "bad_reshape" in msg and "Reshape" in msg
    assert "6 values" in msg and "[4,2]" in msg and "(2, 3)" in msg
    assert "test_array_ops.py" in msg  # the user's line
    with pytest.raises(ValueError, match="multiple of 4"):
        tf.reshape(x, [-1, 4])
    with pytest.raises(ValueError, match="Only one input size may be -1"):
        tf.reshape(x, [-1, -1])
    with pytest.raises(ValueError, match="multiple of 3 elements to shape \\[4,2\\]"):
        tf.reshape(tf.placeholder(tf.float32, [None, 3]), [4, 2])
    assert tf.reshape(tf.placeholder(tf.float32, [None, 3]), [4, 3]).shape.as_list() == [4, 3]


def test_reshape_incompatible_at_run_time():
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.reshape(x, [4, -1], name="late_reshape")
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        _run(y, {x: np.zeros((2, 3), np.float32)})
    msg = str(e.value)
    assert "late_reshape" in msg and "6 values" in msg and "multiple of 4" in msg and "[2,3]" in msg


def test_build_errors():
    a = tf.placeholder(tf.float32, [2, 3])
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal"):
        tf.concat([a, tf.placeholder(tf.float32, [3, 3])], 1)
    with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 1"):
        tf.concat([a, tf.placeholder(tf.float32, [3])], 0)
    with pytest.raises(TypeError):
        tf.concat([a, tf.placeholder(tf.int32, [2, 3])], 0)
    with pytest.raises(ValueError, match="Cannot infer num"):
        tf.unstack(tf.placeholder(tf.float32, [None, 3]))
    with pytest.raises(ValueError, match="evenly divisible by 2"):
        tf.split(a, 2, axis=1)
    with pytest.raises(ValueError, match="not a permutation"):
        tf.transpose(a, [0, 0])
    with pytest.raises(ValueError, match="Dimension must be 2 but is 3"):
        tf.transpose(a, [0, 1, 2])
    with pytest.raises(ValueError, match="Unable to broadcast"):
        tf.broadcast_to(a, [2, 4])
    with pytest.raises(ValueError, match="Shapes of all inputs must match"):
        tf.stack([a, tf.placeholder(tf.float32, [3, 2])])
    with pytest.raises(ValueError, match="Can not squeeze dim"):
        tf.squeeze(a, axis=[0])
    with pytest.raises(ValueError, match="out of range"):
        tf.expand_dims(a, 3)
    with pytest.raises(ValueError, match="Expected size"):
        tf.slice(a, [1, 0], [2, 3])
    with pytest.raises(ValueError, match="Requires start <= limit"):
        tf.range(5, 1)
    with pytest.raises(ValueError, match="Paddings must be non-negative"):
        tf.pad(a, [[-1, 0], [0, 0]])


def test_run_time_errors():
    p = tf.placeholder(tf.float32, [None, 2])
    i = tf.placeholder(tf.int32, [None])
    g = tf.gather(p, i, name="gth")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 5 is not in \[0, 3\)"):
        _run(g, {p: np.zeros((3, 2)), i: [0, 5]})
    c = tf.concat([p, tf.placeholder_with_default(np.zeros((1, 3), np.float32), [None, None])], 0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Dimensions of inputs should match"):
        _run(c, {p: np.zeros((3, 2))})
    b = tf.broadcast_to(p, [4, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unable to broadcast"):
        _run(b, {p: np.zeros((3, 2))})
    r = tf.range(tf.placeholder(tf.int32, []), 3, 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Requires start <= limit"):
        _run(r, {r.op.inputs[0]: 7})


# ---------------------------------------------------------------------------------------------------
# Output counts and the Python API


def test_unstack_and_split_output_counts():
    x = tf.placeholder(tf.float32, [3, 2, 4])
    assert len(tf.unstack(x)) == 3
    assert len(tf.unstack(x, axis=1)) == 2
    assert len(tf.unstack(x, axis=-1)) == 4
    assert len(tf.unstack(tf.placeholder(tf.float32, [None, 5]), num=7)) == 7
    assert len(tf.split(x, 4, axis=2)) == 4
    assert len(tf.split(x, [1, 2], axis=0)) == 2
    sizes = tf.placeholder(tf.int32, [None])
    outs = tf.split(x, sizes, axis=2, num=2)
    assert len(outs) == 2
    got = _run(outs, {x: np.ones((3, 2, 4)), sizes: [3, 1]})
    assert [o.shape for o in got] == [(3, 2, 3), (3, 2, 1)]
    assert [t.name for t in tf.unstack(x, name="rows")] == ["rows:0", "rows:1", "rows:2"]
    assert len(list(x)) == 3  # Tensor.__iter__ unstacks a known first dim


def test_names_and_constants_follow_tf():
    x = tf.placeholder(tf.float32, [2, 3])
    assert tf.reshape(x, [-1]).op.name == "Reshape"
    assert tf.concat([x, x], 0).op.name == "concat"
    assert tf.stack([x, x]).op.name == "stack"
    assert tf.transpose(x).op.name == "transpose"
    assert x[0].op.name == "strided_slice"
    assert tf.gather(x, [0]).op.type == "GatherV2"
    assert tf.shape(x).op.type == "Const"  # TF1: fully known shapes fold to constants
    assert tf.shape(tf.placeholder(tf.float32, [None])).op.type == "Shape"
    assert tf.stack([1, 2, 3]).op.type == "Const"
    assert tf.concat([x], 0).op.type == "Identity"
    assert tf.concat([x], 0, name="cat").op.name == "cat/cat"
    assert tf.matrix_transpose(x).op.name == "matrix_transpose/transpose"
    assert tf.zeros([100, 20]).op.inputs[0].op.name == "zeros/shape_as_tensor"
    assert tf.newaxis is None


def test_filled_tensors_dtypes_and_values():
    x = tf.placeholder(tf.int32, [2, 2])
    xd = tf.placeholder(tf.int64, [None, 3])
    z, o = tf.zeros([2, 3]), tf.ones((2,), dtype=tf.int64)
    assert z.dtype == tf.float32 and o.dtype == tf.int64
    big = tf.zeros([100, 20])  # large: a Fill op, not a constant
    assert big.op.type == "Fill"
    zl, ol, old = tf.zeros_like(x), tf.ones_like(x, dtype=tf.float64), tf.ones_like(xd)
    assert zl.dtype == tf.int32 and ol.dtype == tf.float64 and old.dtype == tf.int64
    zt = tf.zeros(tf.shape(xd), dtype=tf.float64)
    f = tf.fill([2, 2], 7.0)
    got = _run([z, o, big, zl, ol, old, zt, f], {x: np.ones((2, 2)), xd: np.ones((4, 3))})
    np.testing.assert_array_equal(got[0], np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(got[1], np.ones(2, np.int64))
    assert got[2].shape == (100, 20) and not got[2].any()
    assert got[3].dtype == np.int32 and got[4].dtype == np.float64
    np.testing.assert_array_equal(got[5], np.ones((4, 3), np.int64))
    assert got[6].shape == (4, 3) and got[6].dtype == np.float64
    np.testing.assert_array_equal(got[7], np.full((2, 2), 7.0, np.float32))


def test_range_dtypes():
    assert tf.range(5).dtype == tf.int32
    assert tf.range(1.0, 5).dtype == tf.float32
    assert tf.range(0, 5, 1, dtype=tf.int64).dtype == tf.int64
    assert tf.range(tf.constant(3, tf.int64)).dtype == tf.int64
    assert tf.range(0, 1, 0.25, dtype=tf.float64).dtype == tf.float64
    got = _run([tf.range(5), tf.range(1.0, 2.0, 0.25), tf.range(10, 0, -3)])
    np.testing.assert_array_equal(got[0], np.arange(5))
    np.testing.assert_allclose(got[1], [1.0, 1.25, 1.5, 1.75])
    np.testing.assert_array_equal(got[2], [10, 7, 4, 1])


def test_one_hot_defaults_and_values():
    y = tf.one_hot([0, 2, -1, 5], 3)
    assert y.dtype == tf.float32 and y.shape.as_list() == [4, 3]
    y2 = tf.one_hot([[1], [0]], 2, on_value=3, off_value=-1)
    assert y2.dtype == tf.int32
    got = _run([y, y2])
    np.testing.assert_array_equal(got[0], [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(got[1], [[[-1, 3]], [[3, -1]]])
    with pytest.raises(TypeError):
        tf.one_hot([0], 2, on_value=1.0, off_value=0)


def test_transpose_unknown_rank_and_reverse():
    x = tf.placeholder(tf.float32)
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    y = tf.transpose(x)
    np.testing.assert_array_equal(_run(y, {x: a}), a.T)
    r = tf.reverse(tf.constant(a), [1])
    np.testing.assert_array_equal(_run(r), a[:, ::-1])
    ip = tf.invert_permutation([2, 0, 1])
    np.testing.assert_array_equal(_run(ip), [1, 2, 0])


def test_string_tensors_move_through_array_ops():
    s = tf.constant([["a", "b"], ["c", "d"]])
    got = _run([tf.transpose(s), tf.reshape(s, [-1]), tf.concat([s, s], 1), s[1, ::-1], tf.gather(s, [1, 1])])
    assert got[0].tolist() == [[b"a", b"c"], [b"b", b"d"]]
    assert got[1].tolist() == [b"a", b"b", b"c", b"d"]
    assert got[2].tolist() == [[b"a", b"b", b"a", b"b"], [b"c", b"d", b"c", b"d"]]
    assert got[3].tolist() == [b"d", b"c"]
    assert got[4].tolist() == [[b"c", b"d"], [b"c", b"d"]]


def test_reshape_is_a_view():
    x = tf.placeholder(tf.float32, [2, 3])
    y = tf.reshape(x, [3, 2])
    z = tf.expand_dims(y, 0)
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    got_y, got_z = _run([y, z], {x: a})
    np.testing.assert_array_equal(got_z[0], a.reshape(3, 2))
    np.testing.assert_array_equal(got_y, a.reshape(3, 2))


# ---------------------------------------------------------------------------------------------------
# Gradients against NumPy


def _grad(y, x, feed, dy=None):
    dy = np.ones(y.shape.as_list(), np.float64) if dy is None else dy
    gy = tf.placeholder(tf.float64, y.shape)
    (gx,) = tf.gradients(y, [x], grad_ys=gy)
    feed = dict(feed)
    feed[gy] = dy
    return _run(gx, feed)


def test_gather_gradient_accumulates_repeated_indices():
    x = tf.placeholder(tf.float64, [4, 3])
    y = tf.gather(x, [1, 3, 1, 1], axis=0)
    dy = np.arange(12, dtype=np.float64).reshape(4, 3)
    want = np.zeros((4, 3))
    np.add.at(want, [1, 3, 1, 1], dy)
    np.testing.assert_allclose(_grad(y, x, {x: np.ones((4, 3))}, dy), want)


def test_strided_slice_gradient_scatters_into_zeros():
    x = tf.placeholder(tf.float64, [5, 4])
    y = x[::-2, 1]
    dy = np.array([1.0, 2.0, 3.0])
    want = np.zeros((5, 4))
    want[::-2, 1] = dy
    np.testing.assert_allclose(_grad(y, x, {x: np.ones((5, 4))}, dy), want)


def test_second_order_through_slice_gradients():
    # d/d(dy) of <StridedSliceGrad(dy), w> is StridedSlice(w): the gradient op's own rule.
    x = tf.placeholder(tf.float64, [4, 3])
    dy = tf.placeholder(tf.float64, [2, 3])
    y = x[1:3]
    (gx,) = tf.gradients(y, [x], grad_ys=dy)
    w = np.arange(12, dtype=np.float64).reshape(4, 3)
    (gdy,) = tf.gradients(gx, [dy], grad_ys=tf.constant(w))
    np.testing.assert_allclose(_run(gdy, {x: np.ones((4, 3)), dy: np.ones((2, 3))}), w[1:3])


def test_tile_and_pad_gradients():
    x = tf.placeholder(tf.float64, [2, 3])
    y = tf.tile(x, [2, 3])
    dy = np.arange(36, dtype=np.float64).reshape(4, 9)
    want = dy.reshape(2, 2, 3, 3).sum(axis=(0, 2))
    np.testing.assert_allclose(_grad(y, x, {x: np.ones((2, 3))}, dy), want)
    p = tf.pad(x, [[1, 2], [0, 1]])
    dp = np.arange(20, dtype=np.float64).reshape(5, 4)
    np.testing.assert_allclose(_grad(p, x, {x: np.ones((2, 3))}, dp), dp[1:3, 0:3])


@_needs("ZerosLike")
def test_unstack_gradient_with_unused_outputs():
    x = tf.placeholder(tf.float64, [3, 2])
    y = tf.unstack(x)[1]
    np.testing.assert_allclose(_grad(y, x, {x: np.ones((3, 2))}, np.array([5.0, 6.0])),
                               [[0, 0], [5, 6], [0, 0]])


@_needs("SumToShape")
def test_broadcast_to_gradient_sums():
    x = tf.placeholder(tf.float64, [3, 1])
    y = tf.broadcast_to(x, [2, 3, 4])
    dy = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    np.testing.assert_allclose(_grad(y, x, {x: np.ones((3, 1))}, dy), dy.sum(axis=(0, 2)).reshape(3, 1))


def test_boolean_mask():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    m2 = np.array([[True, False, True], [False, False, True]])
    m1 = np.array([False, True, True, False])
    x = tf.placeholder(tf.float32, [None, 3, 4])
    y2 = tf.boolean_mask(x, m2)
    y1 = tf.boolean_mask(x, m1, axis=2)
    assert y2.shape.as_list() == [None, 4] and y1.shape.as_list() == [None, 3, None]
    w = tf.constant(a)[tf.constant(a > 20)]  # a bool tensor index masks, as in TF
    assert tf.constant(a)[a[..., 0] > 5].shape.as_list() == [None, 4]
    got = _run([y2, y1, w], {x: a})
    np.testing.assert_array_equal(got[0], a[m2])
    np.testing.assert_array_equal(got[1], a[:, :, m1])
    np.testing.assert_array_equal(got[2], a[a > 20])
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.boolean_mask(x, True)
    with pytest.raises(ValueError, match="incompatible"):
        tf.boolean_mask(x, m2.T)


def test_boolean_mask_gradient_scatters_back():
    x = tf.placeholder(tf.float64, [4, 2])
    m = np.array([True, False, True, True])
    y = tf.boolean_mask(x, m)
    dy = np.arange(6, dtype=np.float64).reshape(3, 2)
    want = np.zeros((4, 2))
    want[m] = dy
    np.testing.assert_allclose(_grad(y, x, {x: np.ones((4, 2))}, dy), want)


@_needs("Cast", "Sub", "Maximum", "RealDiv", "Mul", "Add")
def test_linspace():
    got = _run([tf.linspace(1.0, 2.0, 5), tf.lin_space(tf.constant(3.0, tf.float64), 0.0, 4), tf.linspace(5.0, 9.0, 1)])
    np.testing.assert_allclose(got[0], np.linspace(1, 2, 5), rtol=1e-6)
    assert got[1].dtype == np.float64
    np.testing.assert_allclose(got[1], np.linspace(3, 0, 4))
    np.testing.assert_allclose(got[2], [5.0])


def test_gradient_ops_on_large_inputs_match_numpy():
    # Sizes past the parallel_for threshold, so the threaded paths of the gradient kernels run.
    rng = np.random.RandomState(0)
    a = rng.rand(300, 200)
    x = tf.placeholder(tf.float64, a.shape)
    idx = rng.randint(0, 200, size=150)
    cases = [
        (tf.tile(x, [2, 3]), lambda d: d.reshape(2, 300, 3, 200).sum(axis=(0, 2))),
        (tf.gather(x, idx, axis=1), lambda d: _scatter_cols(d, idx)),
        (x[::-2, 3:-4:3], lambda d: _place(d, (slice(None, None, -2), slice(3, -4, 3)))),
        (tf.slice(x, [5, 7], [200, 150]), lambda d: _place(d, (slice(5, 205), slice(7, 157)))),
        (tf.transpose(x), lambda d: d.T),
    ]
    for y, want in cases:
        dy = rng.rand(*y.shape.as_list())
        np.testing.assert_allclose(_grad(y, x, {x: a}, dy), want(dy), rtol=1e-12, atol=1e-12)


def _scatter_cols(d, idx):
    out = np.zeros((300, 200))
    np.add.at(out.T, idx, d.T)
    return out


def _place(d, index):
    out = np.zeros((300, 200))
    out[index] = d
    return out
