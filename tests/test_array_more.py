"""Errors, edge cases and TensorFlow comparisons for gather_nd/scatter_nd, segment reductions,
partition/stitch, unique, top_k/in_top_k, sorting and searching, and the small shape helpers."""
import numpy as np
import pytest

import tideflow as tf


def _run(x, feed=None):
    with tf.Session() as sess:
        return sess.run(x, feed_dict=feed)


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def test_gather_nd_out_of_range_message():
    p = tf.placeholder(tf.float32, [3, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = \[5\] does not index into param shape \[3,2\]"):
        _run(tf.gather_nd(p, [[0], [5]]), {p: np.zeros((3, 2))})


def test_gather_nd_negative_index_is_an_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not index into"):
        _run(tf.gather_nd(tf.zeros([3, 2]), tf.placeholder_with_default([[-1, 0]], [None, 2])))


def test_scatter_nd_duplicates_sum_and_empty():
    out = tf.scatter_nd([[1], [1], [3]], [1.0, 2.0, 5.0], [4])
    np.testing.assert_array_equal(_run(out), [0, 3, 0, 5])
    empty = tf.scatter_nd(np.zeros((0, 1), np.int32), np.zeros((0, 2), np.float32), [3, 2])
    np.testing.assert_array_equal(_run(empty), np.zeros((3, 2)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not index into shape"):
        _run(tf.scatter_nd(tf.placeholder_with_default([[4]], [None, 1]), [1.0], [4]))


def test_tensor_scatter_update_gradient():
    t = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    u = tf.constant([10.0])
    y = tf.tensor_scatter_nd_update(t, [[0, 1]], u)
    gt, gu = tf.gradients(tf.reduce_sum(y * [[1.0, 2.0], [3.0, 4.0]]), [t, u])
    r = _run([y, gt, gu])
    np.testing.assert_array_equal(r[0], [[1, 10], [3, 4]])
    np.testing.assert_array_equal(r[1], [[1, 0], [3, 4]])
    np.testing.assert_array_equal(r[2], [2])


def test_segment_errors():
    x = tf.constant([1.0, 2.0, 3.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="segment ids are not increasing"):
        _run(tf.segment_sum(x, tf.placeholder_with_default([1, 0, 2], [None])))
    with pytest.raises(tf.errors.InvalidArgumentError, match="segment ids must be >= 0"):
        _run(tf.math.segment_max(x, tf.placeholder_with_default([-1, 0, 0], [None])))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"segment_ids\[2\] = 7 is out of range \[0, 3\)"):
        _run(tf.unsorted_segment_sum(x, tf.placeholder_with_default([0, 1, 7], [None]), 3))


def test_segment_empty_segments_and_dropped_ids():
    x = tf.constant([1.0, 5.0, 3.0])
    np.testing.assert_array_equal(_run(tf.math.segment_max(x, [0, 0, 2])), [5, 0, 3])
    np.testing.assert_array_equal(_run(tf.math.segment_prod(x, [0, 0, 2])), [5, 1, 3])
    r = _run(tf.math.unsorted_segment_max(x, [0, -1, 0], 2))
    assert r[0] == 3 and r[1] == np.finfo(np.float32).min
    np.testing.assert_array_equal(_run(tf.math.unsorted_segment_mean(x, [0, -1, 0], 2)), [2, 0])
    np.testing.assert_array_equal(_run(tf.segment_sum(tf.zeros([0, 2]), tf.zeros([0], tf.int32))).shape, (0, 2))


def test_bincount():
    np.testing.assert_array_equal(_run(tf.bincount([1, 1, 4])), [0, 2, 0, 0, 1])
    np.testing.assert_array_equal(_run(tf.math.bincount([1, 1, 4], minlength=7, maxlength=3)), [0, 2, 0])
    np.testing.assert_allclose(_run(tf.bincount([0, 2], weights=[0.5, 1.5])), [0.5, 0, 1.5])
    assert _run(tf.bincount(np.zeros([0], np.int32))).shape == (0,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
        _run(tf.bincount(tf.placeholder_with_default([-1, 2], [None])))


def test_dynamic_partition_and_stitch():
    parts = tf.dynamic_partition([10, 20, 30, 40], [1, 0, 1, 1], 2)
    r = _run(parts)
    np.testing.assert_array_equal(r[0], [20])
    np.testing.assert_array_equal(r[1], [10, 30, 40])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"partitions\[1\] = 3 is not in \[0, 2\)"):
        _run(tf.dynamic_partition([1, 2], tf.placeholder_with_default([0, 3], [None]), 2))
    # Stitching back by the original positions restores the input (TF's documented round trip).
    idx = tf.dynamic_partition(tf.range(4), [1, 0, 1, 1], 2)
    np.testing.assert_array_equal(_run(tf.dynamic_stitch(idx, parts)), [10, 20, 30, 40])
    # Later indices win.
    np.testing.assert_array_equal(_run(tf.dynamic_stitch([[0, 1], [1]], [[1, 2], [9]])), [1, 9])


def test_unique_and_setdiff():
    y, idx, count = _run(tf.unique_with_counts([4, 1, 4, 4, 2]))
    np.testing.assert_array_equal(y, [4, 1, 2])
    np.testing.assert_array_equal(idx, [0, 1, 0, 0, 2])
    np.testing.assert_array_equal(count, [3, 1, 1])
    y, idx = _run(tf.unique(tf.constant(["b", "a", "b"]), out_idx=tf.int64))
    assert list(y) == [b"b", b"a"] and idx.dtype == np.int64
    assert _run(tf.unique(tf.zeros([0]))).y.shape == (0,)
    out, idx = _run(tf.setdiff1d([1, 2, 2, 3], [2]))
    np.testing.assert_array_equal(out, [1, 3])
    np.testing.assert_array_equal(idx, [0, 3])
    with pytest.raises(ValueError, match="unique expects a 1D vector"):
        tf.unique([[1, 2]])


def test_top_k_ties_errors_and_gradient():
    v, i = _run(tf.nn.top_k([[1.0, 3.0, 3.0, 2.0]], k=3))
    np.testing.assert_array_equal(v, [[3, 3, 2]])
    np.testing.assert_array_equal(i, [[1, 2, 3]])
    with pytest.raises(ValueError, match="input must have at least k columns. Had 2, needed 3"):
        tf.nn.top_k([1.0, 2.0], 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Need k >= 0"):
        _run(tf.math.top_k([1.0, 2.0], tf.placeholder_with_default(-1, [])))
    x = tf.constant([[1.0, 5.0, 2.0], [7.0, 0.0, 4.0]])
    g = tf.gradients(tf.reduce_sum(tf.nn.top_k(x, 2).values * [[1.0, 10.0]]), x)[0]
    np.testing.assert_array_equal(_run(g), [[0, 1, 10], [1, 0, 10]])
    # Second order goes through GatherLastAxis: d/dw of the gradient's weighted sum.
    w = tf.constant([[1.0, 10.0], [1.0, 10.0]])
    gw = tf.gradients(tf.nn.top_k(x, 2).values * w, x)[0]
    gg = tf.gradients(tf.reduce_sum(gw * x), w)[0]
    np.testing.assert_array_equal(_run(gg), [[5, 2], [7, 4]])


def test_in_top_k():
    pred = [[0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [np.nan, 1.0, 0.0]]
    np.testing.assert_array_equal(_run(tf.nn.in_top_k(pred, [1, 0, 0], 1)), [True, False, False])
    np.testing.assert_array_equal(_run(tf.nn.in_top_k(pred, [1, 0, 5], 2)), [True, True, False])


def test_sort_argsort_searchsorted():
    x = [3, 1, 2, 1]
    np.testing.assert_array_equal(_run(tf.sort(x)), [1, 1, 2, 3])
    np.testing.assert_array_equal(_run(tf.argsort(x, stable=True)), [1, 3, 2, 0])
    np.testing.assert_array_equal(_run(tf.argsort([2.0, 1.0, 2.0], direction="DESCENDING")), [0, 2, 1])
    with pytest.raises(ValueError, match="Unknown direction"):
        tf.sort(x, direction="UP")
    seq = [[1, 3, 3, 5]]
    np.testing.assert_array_equal(_run(tf.searchsorted(seq, [[3, 6]])), [[1, 4]])
    np.testing.assert_array_equal(_run(tf.searchsorted(seq, [[3, 0]], side="right")), [[3, 0]])


def test_sequence_mask_meshgrid_roll():
    np.testing.assert_array_equal(_run(tf.sequence_mask([0, 2], 3, dtype=tf.float32)), [[0, 0, 0], [1, 1, 0]])
    assert _run(tf.sequence_mask([[1], [3]])).shape == (2, 1, 3)
    X, Y = _run(tf.meshgrid([1, 2, 3], [4, 5], indexing="ij"))
    nX, nY = np.meshgrid([1, 2, 3], [4, 5], indexing="ij")
    np.testing.assert_array_equal(X, nX)
    np.testing.assert_array_equal(Y, nY)
    np.testing.assert_array_equal(_run(tf.roll([[1, 2, 3]], shift=[1, 1], axis=[1, 1])), [[2, 3, 1]])
    x = tf.constant([1.0, 2.0, 3.0])
    g = tf.gradients(tf.reduce_sum(tf.roll(x, 1, 0) * [1.0, 2.0, 3.0]), x)[0]
    np.testing.assert_array_equal(_run(g), [2, 3, 1])


def test_reverse_sequence_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"seq_lengths\(1\) > input.dims\(1\)"):
        _run(tf.reverse_sequence([[1, 2], [3, 4]], tf.placeholder_with_default([1, 3], [None]), seq_axis=1))


def test_space_depth_errors():
    with pytest.raises(ValueError, match="divisible"):
        tf.space_to_depth(tf.zeros([1, 3, 4, 1]), 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="should be divisible by block_size"):
        _run(tf.space_to_depth(tf.placeholder_with_default(np.zeros([1, 3, 4, 1], np.float32), [None] * 4), 2))


def test_shape_helpers_and_tuple():
    assert tf.broadcast_static_shape(tf.TensorShape([2, 1]), tf.TensorShape([3])).as_list() == [2, 3]
    with pytest.raises(ValueError, match="Incompatible shapes"):
        tf.broadcast_static_shape(tf.TensorShape([2]), tf.TensorShape([3]))
    np.testing.assert_array_equal(_run(tf.broadcast_dynamic_shape([2, 1], [5, 1, 3])), [5, 2, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes"):
        _run(tf.broadcast_dynamic_shape(tf.placeholder_with_default([2], [None]), [3]))
    a, b = tf.shape_n([tf.zeros([2, 3]), tf.zeros([4])])
    np.testing.assert_array_equal(_run(b), [4])
    v = tf.Variable(0)
    inc = tf.assign_add(v, 1)
    x, = tf.tuple([tf.constant(5)], control_inputs=[inc])
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(x) == 5 and sess.run(v) == 1
    np.testing.assert_array_equal(_run(tf.unravel_index(5, [2, 3])), [1, 2])
    np.testing.assert_array_equal(_run(tf.reverse_v2([1, 2], [0])), [2, 1])
    np.testing.assert_array_equal(_run(tf.histogram_fixed_width([-1.0, 0.0, 1.5, 2.0, 5.0], [0.0, 2.0], nbins=2)),
                                  [2, 3])


def test_clip_by_average_norm():
    t = np.array([[3.0, 4.0]], np.float32)
    expected = t * 1.0 * min(2 / 5.0, 1.0)
    np.testing.assert_allclose(_run(tf.clip_by_average_norm(t, 1.0)), expected, rtol=1e-6)


# ---- comparisons with TensorFlow ----

def _tf_ref(build, *args):
    tf_ref = pytest.importorskip("tensorflow")
    tf1 = tf_ref.compat.v1
    g = tf1.Graph()
    with g.as_default():
        out = build(tf1, *[tf1.constant(a) for a in args])
        with tf1.Session(graph=g) as sess:
            return sess.run(out)


def _grad_on_ties(tf_, x, f):
    """The gradient of f at round(x), where rows tie, so the sharing between equal extremes shows."""
    z = tf_.round(x)
    return tf_.gradients(f(z) * [[1.0, 2.0]], z)[0]


CASES = {
    "segment_mean": lambda tf_, x: tf_.math.segment_mean(x, [0, 0, 2, 2, 2]),
    "unsorted_segment_prod": lambda tf_, x: tf_.math.unsorted_segment_prod(x, [1, -1, 1, 0, 3], 4),
    "unsorted_segment_mean": lambda tf_, x: tf_.math.unsorted_segment_mean(x, [1, -1, 1, 0, 3], 4),
    "segment_min_grad": lambda tf_, x: _grad_on_ties(tf_, x, lambda z: tf_.math.segment_min(z, [0, 0, 0, 1, 1])),
    "unsorted_max_grad": lambda tf_, x: _grad_on_ties(
        tf_, x, lambda z: tf_.math.unsorted_segment_max(z, [0, 1, 0, -1, 1], 2)),
    "segment_prod_grad": lambda tf_, x: tf_.gradients(
        tf_.math.segment_prod(x * [[0.0], [1.0], [1.0], [1.0], [0.0]], [0, 0, 0, 1, 1]), x)[0],
    "top_k": lambda tf_, x: tf_.nn.top_k(tf_.round(x), 2),
    "argsort": lambda tf_, x: tf_.argsort(tf_.round(x), axis=0),
    "gather_nd_grad": lambda tf_, x: tf_.gradients(tf_.gather_nd(x, [[1, 0], [1, 0], [4, 1]]) * [1.0, 2.0, 3.0], x)[0],
    "scatter_nd": lambda tf_, x: tf_.scatter_nd([[1], [1], [0]], x[:3], [3, 2]),
    "dynamic_partition_grad": lambda tf_, x: tf_.gradients(
        [p * 2.0 for p in tf_.dynamic_partition(x, [1, 0, 1, 1, 0], 2)], x)[0],
    "space_to_depth": lambda tf_, x: tf_.space_to_depth(tf_.reshape(tf_.tile(x, [2, 2]), [1, 2, 20, 1])[:, :, :4], 2),
    "reverse_sequence": lambda tf_, x: tf_.reverse_sequence(x, [1, 2, 0, 2, 1], seq_axis=1, batch_axis=0),
    "clip_by_average_norm": lambda tf_, x: tf_.clip_by_average_norm(x, 0.5),
    "sequence_mask": lambda tf_, x: tf_.sequence_mask([1, 3, 0]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_tensorflow(name):
    x = np.random.RandomState(0).uniform(-3, 3, size=(5, 2)).astype(np.float32)
    ref = _tf_ref(CASES[name], x)
    tf.reset_default_graph()
    got = _run(CASES[name](tf, tf.constant(x)))
    if isinstance(ref, tuple) or isinstance(ref, list):
        for r, o in zip(ref, got):
            np.testing.assert_allclose(o, r, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_gather_nd_error_matches_tensorflow():
    tf_ref = pytest.importorskip("tensorflow")
    tf1 = tf_ref.compat.v1
    g = tf1.Graph()
    with g.as_default():
        p = tf1.placeholder(tf1.float32, [3, 2])
        out = tf1.gather_nd(p, [[0], [5]])
        with tf1.Session(graph=g) as sess:
            with pytest.raises(tf_ref.errors.InvalidArgumentError) as e:
                sess.run(out, {p: np.zeros((3, 2))})
    assert "indices[1] = [5] does not index into param shape [3,2]" in str(e.value)
