"""Sparse variable updates (tf.scatter_*, tf.scatter_nd_*, Variable.scatter_*) and tf.count_up_to: values
against NumPy references that apply the rows in order, TensorFlow's error messages, copy-on-write and
concurrent runs."""
import threading

import numpy as np
import pytest

import tideflow as tf
from tideflow import _core

COMBINE = {
    "update": lambda a, b: b,
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "min": np.minimum,
    "max": np.maximum,
}


def _int_div(a, b):
    """Integer division truncating toward zero, as C++ (and TF's kernel) divides."""
    q = np.abs(a) // np.abs(b)
    return np.where((a < 0) != (b < 0), -q, q).astype(a.dtype)


def np_scatter(kind, var, indices, updates):
    """Applies the rows one after another, as TF's CPU kernel does (repeated indices accumulate; for update
    the last row wins)."""
    out = var.copy()
    idx = np.asarray(indices).reshape(-1)
    upd = np.broadcast_to(updates, idx.shape + var.shape[1:]) if np.ndim(updates) == 0 else \
        np.asarray(updates).reshape(idx.shape + var.shape[1:])
    for i, r in enumerate(idx):
        if kind == "div" and np.issubdtype(var.dtype, np.integer):
            out[r] = _int_div(out[r], upd[i])
        else:
            out[r] = COMBINE[kind](out[r], upd[i])
    return out


def np_scatter_nd(kind, var, indices, updates):
    out = var.copy()
    indices = np.asarray(indices)
    depth = indices.shape[-1]
    idx = indices.reshape(-1, depth)
    upd = np.asarray(updates).reshape((idx.shape[0],) + var.shape[depth:])
    for i, r in enumerate(idx):
        out[tuple(r)] = COMBINE[kind](out[tuple(r)], upd[i])
    return out


def _values(dtype, shape, rng, positive=False):
    if np.issubdtype(np.dtype(dtype), np.integer):
        x = rng.randint(1 if positive else -9, 10, size=shape)
        if positive:
            x *= rng.choice([-1, 1], size=shape)
        return x.astype(dtype)
    x = rng.normal(size=shape)
    if positive:
        x = np.sign(x) * (np.abs(x) + 0.5)
    return x.astype(dtype)


def _run(fn, var_value, *args, fetch_var=True):
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(var_value, name="v")
        out = fn(v, *args)
        with tf.Session() as sess:
            sess.run(v.initializer)
            got = sess.run(out)
            return got, sess.run(v) if fetch_var else None


KINDS = ["update", "add", "sub", "mul", "div", "min", "max"]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("kind", KINDS)
def test_scatter_matches_numpy_with_repeated_indices(kind, dtype):
    rng = np.random.RandomState(KINDS.index(kind))
    var = _values(dtype, (5, 3), rng)
    indices = np.array([4, 0, 4, 2, 4, 0], np.int32)
    updates = _values(dtype, (6, 3), rng, positive=(kind == "div"))
    got, after = _run(getattr(tf, "scatter_" + kind), var, indices, updates)
    want = np_scatter(kind, var, indices, updates)
    assert got.dtype == np.dtype(dtype) and got.shape == (5, 3)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(after, want)


@pytest.mark.parametrize("kind", KINDS)
def test_scatter_index_shapes_int64_and_scalar_updates(kind):
    rng = np.random.RandomState(7)
    var = _values("float64", (6, 2, 2), rng)
    indices = np.array([[5, 1, 5], [0, 1, 3]], np.int64)  # 2-D indices: updates of shape [2, 3, 2, 2]
    updates = _values("float64", (2, 3, 2, 2), rng, positive=True)
    got, _ = _run(getattr(tf, "scatter_" + kind), var, indices, updates)
    np.testing.assert_array_equal(got, np_scatter(kind, var, indices, updates))
    got, _ = _run(getattr(tf, "scatter_" + kind), var, indices, np.float64(2.5))  # broadcast, as TF allows
    np.testing.assert_array_equal(got, np_scatter(kind, var, indices, np.float64(2.5)))
    got, _ = _run(getattr(tf, "scatter_" + kind), var, np.zeros([0], np.int32), np.zeros((0, 2, 2)))
    np.testing.assert_array_equal(got, var)


def test_scatter_update_bool_and_one_dimensional():
    got, _ = _run(tf.scatter_update, np.array([False, False, False]), [1, 0, 1], [True, True, False])
    np.testing.assert_array_equal(got, [True, False, False])
    got, _ = _run(tf.scatter_update, np.arange(5, dtype=np.int32), [1, 1, 1], [7, 8, 9])
    np.testing.assert_array_equal(got, [0, 9, 2, 3, 4])  # the last writer wins


ND_KINDS = ["update", "add", "sub", "min", "max"]


@pytest.mark.parametrize("dtype", ["float32", "int64"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("kind", ND_KINDS)
def test_scatter_nd_matches_numpy(kind, depth, dtype):
    rng = np.random.RandomState(depth)
    var = _values(dtype, (4, 3, 2), rng)
    indices = np.stack([rng.randint(0, n, size=(2, 3)) for n in (4, 3, 2)[:depth]], axis=-1)
    indices[1, 2] = indices[0, 0]  # a repeated index
    updates = _values(dtype, (2, 3) + var.shape[depth:], rng)
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(var, name="v")
        out = getattr(v, "scatter_nd_" + kind)(indices, updates) if kind in ("min", "max") else \
            getattr(tf, "scatter_nd_" + kind)(v, indices, updates)
        with tf.Session() as sess:
            sess.run(v.initializer)
            got = sess.run(out)
            np.testing.assert_array_equal(sess.run(v), got)
    np.testing.assert_array_equal(got, np_scatter_nd(kind, var, indices, updates))


def test_out_of_range_indices_name_the_position_and_leave_the_variable():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.arange(15, dtype=np.float32).reshape(5, 3), name="v")
        i = tf.placeholder(tf.int32)
        u = tf.placeholder(tf.float32)
        add = tf.scatter_add(v, i, u)
        nd = tf.scatter_nd_add(v, i, u)
        with tf.Session() as sess:
            sess.run(v.initializer)
            before = sess.run(v)
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[2\] = 7 is not in \[0, 5\)"):
                sess.run(add, {i: [0, 1, 7], u: np.ones((3, 3))})
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = -1 is not in \[0, 5\)"):
                sess.run(add, {i: [0, -1], u: np.ones((2, 3))})
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1,0\] = 5 is not in \[0, 5\)"):
                sess.run(add, {i: [[0], [5]], u: np.ones((2, 1, 3))})
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match=r"indices\[1\] = \[2, 5\] does not index into shape \[5,3\]"):
                sess.run(nd, {i: [[0, 1], [2, 5]], u: np.ones(2)})
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"updates.shape = indices.shape \+ params"):
                sess.run(add, {i: [0, 1], u: np.ones((3, 3))})
            with pytest.raises(tf.errors.InvalidArgumentError, match="updates must have shape"):
                sess.run(nd, {i: [[0, 1], [2, 2]], u: np.ones(3)})
            np.testing.assert_array_equal(sess.run(v), before)  # every index is checked before writing


def test_graph_construction_errors():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.zeros((5, 3), np.float32), name="v")
        with pytest.raises(ValueError, match="Shapes must be compatible"):
            tf.scatter_add(v, [0, 1], np.ones((3, 3), np.float32))
        with pytest.raises(ValueError, match="Shapes must be compatible"):
            tf.scatter_nd_add(v, [[0, 1], [2, 2]], np.ones(3, np.float32))
        with pytest.raises(TypeError, match="allowed values: int32, int64"):
            tf.scatter_add(v, tf.constant([0.5]), np.ones((1, 3), np.float32))
        with pytest.raises(TypeError):
            tf.scatter_add(v, [0], tf.constant(np.ones((1, 3), np.float64)))
        with pytest.raises(TypeError, match="variable"):
            tf.scatter_add(tf.constant([1.0]), [0], [1.0])
        # A NumPy float64 array converts to the variable's dtype, as in TF.
        assert tf.scatter_add(v, [0], np.ones((1, 3))).dtype == tf.float32
        out = tf.scatter_update(v, [0], np.ones((1, 3), np.float32))
        assert out.op.type == "ScatterUpdate" and out.op.name == "ScatterUpdate" and out.shape.as_list() == [5, 3]
        assert tf.scatter_nd_sub(v, [[0]], np.ones((1, 3), np.float32), name="sub").op.name == "sub"


def test_integer_division_by_zero_is_an_error():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.arange(5, dtype=np.int32), name="v")
        with tf.Session() as sess:
            sess.run(v.initializer)
            with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
                sess.run(tf.scatter_div(v, [0, 1], [2, 0]))
            np.testing.assert_array_equal(sess.run(v), np.arange(5))
            low = tf.Variable(np.array([np.iinfo(np.int32).min], np.int32), name="low")
            sess.run(low.initializer)
            np.testing.assert_array_equal(sess.run(tf.scatter_div(low, [0], [-1])), [np.iinfo(np.int32).min])


def test_uninitialized_variable_is_failed_precondition():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.zeros(3, np.float32), name="v")
        c = tf.Variable(0, name="c")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value v"):
                sess.run(tf.scatter_add(v, [0], [1.0]))
            with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value v"):
                sess.run(tf.scatter_nd_update(v, [[0]], [1.0]))
            with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value c"):
                sess.run(tf.count_up_to(c, 3))


def test_copy_on_write_keeps_fetched_arrays():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.zeros((4, 2), np.float32), name="v")
        add = tf.scatter_add(v, [1, 1], np.ones((2, 2), np.float32))
        nd = tf.scatter_nd_update(v, [[0, 0]], [9.0])
        with tf.Session() as sess:
            sess.run(v.initializer)
            held = sess.run(v)
            first = sess.run(add)
            second = sess.run(add)
            sess.run(nd.op)
            np.testing.assert_array_equal(held, np.zeros((4, 2)))
            np.testing.assert_array_equal(first[1], [2, 2])
            np.testing.assert_array_equal(second[1], [4, 4])
            assert second[0, 0] == 0
            got = sess.run(v)
            assert got[0, 0] == 9 and got[1, 0] == 4


def test_concurrent_runs_from_two_threads_lose_no_update():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.zeros((3, 100), np.float64), name="v")
        c = tf.Variable(np.int64(0), name="c")
        add = tf.scatter_add(v, [0, 2, 0], np.ones((3, 100)))
        sub = tf.scatter_nd_sub(v, [[1]], -np.ones((1, 100)))
        count = c.count_up_to(10 ** 6)
        n = 200
        with tf.Session() as sess:
            sess.run([v.initializer, c.initializer])
            errors, fetched = [], []

            def work():
                try:
                    for _ in range(n):
                        fetched.append(sess.run([add, sub, count])[2])
                except Exception as e:  # pragma: no cover - reported below
                    errors.append(e)
            threads = [threading.Thread(target=work) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors
            got = sess.run(v)
            np.testing.assert_array_equal(got[0], np.full(100, 4.0 * n))
            np.testing.assert_array_equal(got[1], np.full(100, 2.0 * n))
            np.testing.assert_array_equal(got[2], np.full(100, 2.0 * n))
            assert sorted(fetched) == list(range(2 * n)) and sess.run(c) == 2 * n


def test_variable_methods_take_indexed_slices():
    g = tf.Graph()
    with g.as_default():
        var = np.arange(15, dtype=np.float32).reshape(5, 3)
        v = tf.Variable(var, name="v")
        rows = tf.IndexedSlices(tf.constant([[1.0, 2, 3], [4, 5, 6]]), tf.constant([2, 2]), tf.constant([5, 3]))
        assert rows.dtype == tf.float32 and rows.graph is g and rows.name == rows.values.name
        assert rows.indices.dtype == tf.int32 and rows.dense_shape is not None and "IndexedSlices" in repr(rows)
        with tf.Session() as sess:
            for kind in KINDS:
                sess.run(v.initializer)
                got = sess.run(getattr(v, "scatter_" + kind)(rows))
                want = np_scatter(kind, var, [2, 2], np.array([[1.0, 2, 3], [4, 5, 6]], np.float32))
                np.testing.assert_allclose(got, want, rtol=1e-6)
            for kind in ("update", "add", "sub", "min", "max"):
                sess.run(v.initializer)
                got = sess.run(getattr(v, "scatter_nd_" + kind)([[1, 2], [0, 0]], [10.0, -1.0]))
                np.testing.assert_array_equal(got, np_scatter_nd(kind, var, [[1, 2], [0, 0]], [10.0, -1.0]))
        with pytest.raises(TypeError, match="sparse_delta is not IndexedSlices"):
            v.scatter_sub([1.0])


def test_scatter_ops_are_not_differentiable():
    for op in ("ScatterUpdate", "ScatterAdd", "ScatterSub", "ScatterMul", "ScatterDiv", "ScatterMin", "ScatterMax",
               "ScatterNdUpdate", "ScatterNdAdd", "ScatterNdSub", "ScatterNdMin", "ScatterNdMax", "CountUpTo"):
        assert _core.op_gradient_kind(op) == _core.op_gradient_kind("AssignAdd"), op
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.ones((2, 2), np.float32), name="v")
        out = tf.scatter_add(v, [0], np.ones((1, 2), np.float32))
        assert tf.gradients(tf.reduce_sum(out), [v]) == [None]


def test_count_up_to_counts_to_the_limit():
    g = tf.Graph()
    with g.as_default():
        c = tf.Variable(0, name="c")
        c64 = tf.Variable(np.int64(5), name="c64")
        up = tf.count_up_to(c, 3)
        up64 = c64.count_up_to(6)
        assert up.op.type == "CountUpTo" and up.op.name == "CountUpTo" and up.dtype == tf.int32
        assert up64.dtype == tf.int64 and up.shape.as_list() == []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert [sess.run(up) for _ in range(3)] == [0, 1, 2]
            with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 3"):
                sess.run(up)
            assert sess.run(c) == 3
            assert sess.run(up64) == 5
            with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 6"):
                sess.run(up64)
        with pytest.raises(TypeError):
            tf.count_up_to(tf.Variable(1.0), 3)
        with pytest.raises(ValueError, match="rank 0"):
            tf.count_up_to(tf.Variable([1, 2]), 3)


def test_count_up_to_within_control_dependencies():
    g = tf.Graph()
    with g.as_default():
        c = tf.Variable(0, name="c")
        with tf.control_dependencies([c.count_up_to(2)]):
            after = c + 10
        with tf.Session() as sess:
            sess.run(c.initializer)
            assert sess.run(after) == 11
            assert sess.run(after) == 12
            with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 2"):
                sess.run(after)


def test_matches_tensorflow():
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    tf1.disable_resource_variables()
    rng = np.random.RandomState(3)
    var = rng.normal(size=(5, 3)).astype(np.float32)
    indices = np.array([4, 0, 4, 2], np.int32)
    updates = (rng.normal(size=(4, 3)) + 3).astype(np.float32)
    nd_indices = np.array([[0, 1], [4, 2], [0, 1]], np.int64)
    nd_updates = rng.normal(size=3).astype(np.float32)

    def run(t):
        out = []
        g = t.Graph()
        with g.as_default():
            v = t.Variable(var)
            c = t.Variable(np.int64(0))
            ops = [getattr(t, "scatter_" + k)(v, indices, updates) for k in KINDS]
            ops += [getattr(t, "scatter_nd_" + k)(v, nd_indices, nd_updates) for k in ("update", "add", "sub")]
            up = t.count_up_to(c, 2)
            with t.Session(graph=g) as sess:
                for op in ops:
                    sess.run(v.initializer)
                    out.append(sess.run(op))
                sess.run(c.initializer)
                out.append(np.array([sess.run(up), sess.run(up), sess.run(c)]))
        return out
    for got, want in zip(run(tf), run(tf1)):
        np.testing.assert_array_equal(got, want)
