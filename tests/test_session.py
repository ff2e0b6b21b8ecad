"""Sessions: the seed's programs, fetch structures, feeds, pruning, variables, errors, threads, memory."""
import collections
import threading

import numpy as np
import pytest

import tideflow as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def _f():
    x = tf.Variable(3, name="x")
    y = tf.Variable(4, name="y")
    return x, y, x * x * y + y + 2


def test_seed_f_explicit_runs():
    x, y, f = _f()
    sess = tf.Session()
    sess.run(x.initializer)
    sess.run(y.initializer)
    assert sess.run(f) == 42
    sess.close()


def test_seed_f_with_block_and_eval():
    x, y, f = _f()
    with tf.Session() as sess:
        x.initializer.run()
        y.initializer.run()
        assert f.eval() == 42
        assert tf.get_default_session() is sess
    assert tf.get_default_session() is None


def test_seed_f_global_initializer():
    _, _, f = _f()
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        init.run()
        assert f.eval() == 42


def test_fetch_structures():
    a = tf.constant(1.0, name="a")
    b = tf.constant([2, 3], name="b")
    P = collections.namedtuple("P", ["x", "y"])
    with tf.Session() as sess:
        r = sess.run({"a": a, "nested": [b, (a, b)], "p": P(a, b), "op": tf.no_op()})
        assert r["a"] == 1.0 and r["op"] is None
        np.testing.assert_array_equal(r["nested"][0], [2, 3])
        assert isinstance(r["nested"][1], tuple)
        assert isinstance(r["p"], P) and r["p"].x == 1.0
        assert sess.run("a:0") == 1.0
        assert sess.run([a, a]) == [1.0, 1.0]


def test_placeholders_with_none_dims_and_batch_sizes():
    x = tf.placeholder(tf.float32, shape=[None, 3])
    y = tf.identity(x)
    with tf.Session() as sess:
        for n in (1, 5, 0):
            v = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
            np.testing.assert_array_equal(sess.run(y, {x: v}), v)
        np.testing.assert_array_equal(sess.run(y, feed_dict={"Placeholder:0": [[1, 2, 3]]}), [[1, 2, 3]])


def test_feed_shape_mismatch_names_tensor_and_shapes():
    x = tf.placeholder(tf.float32, shape=[None, 2], name="inp")
    with tf.Session() as sess:
        with pytest.raises(ValueError) as e:
            sess.run(tf.identity(x), {x: np.zeros((3,), np.float32)})
    assert "inp:0" in str(e.value) and "(3,)" in str(e.value) and "(?, 2)" in str(e.value)


def test_unfed_placeholders_listed():
    a = tf.placeholder(tf.float32, name="a")
    b = tf.placeholder(tf.int32, shape=[2], name="b")
    out = tf.group(tf.identity(a), tf.identity(b))
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(out)
        assert "'a'" in str(e.value) and "'b'" in str(e.value)
        sess.run(out, {a: 1.0, b: [1, 2]})  # usable after the error


def test_feeding_any_tensor_cuts_graph():
    v = tf.Variable(5.0)
    r = tf.identity(v)
    with tf.Session() as sess:
        # v is never initialized: feeding r cuts the read away.
        assert sess.run(tf.identity(r), {r: 7.0}) == 7.0


def test_feed_value_cannot_be_tensor():
    x = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        with pytest.raises(TypeError):
            sess.run(x, {x: tf.constant(1.0)})


def test_shared_input_runs_once():
    counter = tf.Variable(0, name="counter")
    x = tf.assign_add(counter, 1)
    y = tf.identity(x)
    z = tf.identity(x)
    with tf.Session() as sess:
        sess.run(counter.initializer)
        ry, rz = sess.run([y, z])
        assert ry == rz == 1
        assert sess.run(counter) == 1
        sess.run(y)
        assert sess.run(counter) == 2


def test_pruning_only_runs_what_fetches_need():
    counter = tf.Variable(0)
    inc = tf.assign_add(counter, 1)
    unrelated = tf.identity(tf.constant(1))
    with tf.Session() as sess:
        sess.run(counter.initializer)
        sess.run(unrelated)
        assert sess.run(counter) == 0
        del inc


def test_assign_through_placeholder():
    v = tf.Variable(np.zeros(3, np.float32))
    p = tf.placeholder(tf.float32, shape=[3])
    upd = tf.assign(v, p)
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(upd, {p: [1, 2, 3]})
        np.testing.assert_array_equal(sess.run(v), [1, 2, 3])
        np.testing.assert_array_equal(v.eval(), [1, 2, 3])


def test_two_sessions_keep_separate_values():
    v = tf.Variable(1.0)
    add = v.assign_add(1.0)
    s1, s2 = tf.Session(), tf.Session()
    s1.run(v.initializer)
    s2.run(v.initializer)
    s1.run(add)
    s1.run(add)
    assert s1.run(v) == 3.0 and s2.run(v) == 1.0
    s1.close()
    s2.close()


def test_two_graphs():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        a = tf.constant(1.0) + 0
    with g2.as_default():
        b = tf.constant(2.0) + 0
    with tf.Session(graph=g1) as s1, tf.Session(graph=g2) as s2:
        assert s1.run(a) == 1.0 and s2.run(b) == 2.0
        with pytest.raises(ValueError):
            s1.run(b)


def test_uninitialized_variables_all_named():
    a = tf.Variable(1.0, name="alpha")
    b = tf.Variable(2.0, name="beta")
    s = tf.identity(a) + tf.identity(b)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError) as e:
            sess.run(s)
        assert "alpha" in str(e.value) and "beta" in str(e.value)
        assert sorted(sess.run(tf.report_uninitialized_variables())) == [b"alpha", b"beta"]
        sess.run(tf.variables_initializer([a, b]))
        assert sess.run(s) == 3.0
        assert list(sess.run(tf.report_uninitialized_variables())) == []


def test_variable_api():
    init = tf.constant([1.0, 2.0])
    v = tf.Variable(init, name="w", trainable=False)
    u = tf.Variable(v.initialized_value() * 2, name="u")
    assert v.name == "w:0" and v.op.name == "w" and v.initial_value is init
    assert v in tf.global_variables() and v not in tf.trainable_variables()
    assert u in tf.trainable_variables()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(u), [2.0, 4.0])
        sess.run(v.assign([5.0, 6.0]))
        sess.run(v.assign_sub([1.0, 1.0]))
        np.testing.assert_array_equal(sess.run(v), [4.0, 5.0])
        assert sess.run(tf.is_variable_initialized(v))


def test_variable_from_random_initial_value_and_callable():
    v = tf.Variable(tf.random_uniform([3, 2], -1.0, 1.0, seed=1), name="r")
    c = tf.Variable(lambda: tf.constant(2.0), name="c")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a = sess.run(v)
        assert a.shape == (3, 2) and np.all(a >= -1) and np.all(a < 1)
        np.testing.assert_array_equal(sess.run(v), a)  # reading does not redraw
        assert sess.run(c) == 2.0


def test_make_callable_and_plan_cache():
    x = tf.placeholder(tf.float32, shape=[None])
    y = x * 2.0
    with tf.Session() as sess:
        f = sess.make_callable([y], feed_list=[x])
        np.testing.assert_array_equal(f(np.array([1, 2], np.float32))[0], [2, 4])
        np.testing.assert_array_equal(f([3.0])[0], [6.0])
        g = sess.make_callable(y, [x])
        np.testing.assert_array_equal(g([1.0]), [2.0])


def test_closed_session_raises():
    a = tf.constant(1)
    sess = tf.Session()
    sess.close()
    with pytest.raises(RuntimeError):
        sess.run(a)


def test_fetched_arrays_never_alias_engine_state():
    # Note [what users hold]: variables, constants and feeds are copied out; writing into a fetched array
    # changes nothing the graph or the session keeps, in this Session or a new one.
    big = np.random.RandomState(0).rand(512, 512).astype(np.float32)
    v = tf.Variable(big)
    c = tf.constant([1, 2, 3])
    p = tf.placeholder(tf.float32, shape=[512, 512])
    ident = tf.identity(p)
    with tf.Session() as sess:
        sess.run(v.initializer)
        a = sess.run(v)
        b = sess.run(v)
        assert not np.shares_memory(a, b)
        b += 10
        np.testing.assert_array_equal(sess.run(v), big)
        k = sess.run(c)
        k[0] = 100
        np.testing.assert_array_equal(sess.run(c), [1, 2, 3])
        out = sess.run(ident, {p: big})
        assert not np.shares_memory(out, big)
        out[0, 0] = -1.0
        assert big[0, 0] != -1.0
        sess.run(v.assign_add(np.ones((512, 512), np.float32)))
        np.testing.assert_array_equal(a, big)  # a fetched value never changes under the user
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(c), [1, 2, 3])


def test_feed_is_wrapped_not_copied():
    # An aligned, contiguous feed is read in place by the kernels (no copy on the way in).
    big = np.random.RandomState(1).rand(256, 256).astype(np.float32)
    p = tf.placeholder(tf.float32, shape=[256, 256])
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(p * 2.0, {p: big}), big * 2.0)


def test_kernel_error_names_op_and_session_survives():
    a = tf.placeholder(tf.float32, shape=[None])
    b = tf.placeholder(tf.float32, shape=[None])
    s = tf.add(a, b, name="my_add")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(s, {a: [1, 2], b: [1, 2, 3]})
        msg = str(e.value)
        assert "my_add" in msg and "test_session.py" in msg and "[2]" in msg and "[3]" in msg
        np.testing.assert_array_equal(sess.run(s, {a: [1, 2], b: [3, 4]}), [4, 6])


def test_config_threads_and_sequential_determinism():
    x = tf.placeholder(tf.float32, shape=[None, 64])
    w = tf.constant(np.random.RandomState(0).rand(64, 64).astype(np.float32))
    y = tf.reduce_sum(tf.matmul(x, w) + tf.matmul(x, w * 2.0))
    feed = {x: np.random.RandomState(1).rand(256, 64).astype(np.float32)}
    cfg = tf.ConfigProto(inter_op_parallelism_threads=1, intra_op_parallelism_threads=1)
    with tf.Session(config=cfg) as s1:
        r1 = s1.run(y, feed)
    with tf.Session(config=tf.ConfigProto(inter_op_parallelism_threads=2)) as s2:
        r2 = s2.run(y, feed)
    np.testing.assert_allclose(r1, r2, rtol=1e-5)


def test_concurrent_runs_from_threads():
    x = tf.placeholder(tf.float32, shape=[None])
    v = tf.Variable(np.zeros(1000, np.float32))
    y = x * 3.0 + 1.0
    upd = tf.assign_add(v, tf.ones([1000]))
    errors = []
    with tf.Session() as sess:
        sess.run(v.initializer)

        def work(k):
            try:
                for i in range(200):
                    val = np.full(10, k * 1000 + i, np.float32)
                    np.testing.assert_array_equal(sess.run(y, {x: val}), val * 3 + 1)
                    sess.run(upd)
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not errors, errors
        final = sess.run(v)
        # Non-locking semantics like TF: updates may race, but values stay sane.
        assert np.all(final >= 1) and np.all(final <= 800)


@pytest.mark.not_sanitized("ASan's quarantine of freed memory and its shadow pages grow resident memory")
def test_memory_stays_flat():
    psutil = pytest.importorskip("psutil")
    x = tf.placeholder(tf.float32, shape=[None])
    y = tf.identity(x * 2.0 + 1.0)
    feed = np.ones(100, np.float32)
    proc = psutil.Process()
    with tf.Session() as sess:
        for _ in range(2000):
            sess.run(y, {x: feed})
        before = proc.memory_info().rss
        for _ in range(20000):
            sess.run(y, {x: feed})
        after = proc.memory_info().rss
    assert after - before < 8 * 1024 * 1024, (after - before) / 1e6


def test_parallel_executor_fan_out_stress():
    # One value read by many consumers that run on different pool threads: every reader must get it
    # intact (a reader copying while the last reader clears the value once crashed the demo).
    x = tf.placeholder(tf.float32, shape=[None, 64])
    ws = [tf.constant(np.random.RandomState(i).rand(64, 64).astype(np.float32)) for i in range(8)]
    h = tf.nn.relu(x)
    outs = [tf.reduce_sum(tf.matmul(h, w) * (i + 1.0)) for i, w in enumerate(ws)]
    xv = np.random.RandomState(9).rand(32, 64).astype(np.float32)
    expected = [np.float32((np.maximum(xv, 0) @ w0).sum() * (i + 1)) for i, w0 in
                enumerate(np.random.RandomState(i).rand(64, 64).astype(np.float32) for i in range(8))]
    with tf.Session(config=tf.ConfigProto(inter_op_parallelism_threads=4)) as sess:
        for _ in range(300):
            got = sess.run(outs, {x: xv})
            np.testing.assert_allclose(got, expected, rtol=1e-4)


# ---- Note [plan cache] and Note [plan order] ----

def test_plan_cache_key_is_canonical():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(1.0)
        b = tf.constant(2.0)
        p = tf.placeholder(tf.float32)
        q = tf.placeholder(tf.float32)
        s = p + q
    with tf.Session(graph=g) as sess:
        assert sess.run([a, b]) == [1.0, 2.0]
        assert sess.run([b, a]) == [2.0, 1.0]
        assert sess.run([a, a, b]) == [1.0, 1.0, 2.0]
        assert sess._c.cached_plans() == 1
        assert sess.run(s, {p: 1.0, q: 5.0}) == 6.0
        assert sess.run(s, {q: 5.0, p: 1.0}) == 6.0
        assert sess.run([p, s], {q: 3.0, p: 2.0}) == [2.0, 5.0]
        assert sess._c.cached_plans() == 3


def test_fetch_structures_cached_apart():
    # Session.run caches a flat list fetch under a tuple key: a list and a tuple of the same tensors must
    # still come back as a list and a tuple, and a mutated list is a new fetch.
    g = tf.Graph()
    with g.as_default():
        a, b = tf.constant(1.0), tf.constant(2.0)
        p = tf.placeholder(tf.float32)
    with tf.Session(graph=g) as sess:
        fetches = [a, b]
        for _ in range(2):
            assert sess.run(fetches) == [1.0, 2.0] and type(sess.run(fetches)) is list
            assert sess.run((a, b)) == (1.0, 2.0)
            assert sess.run([(a, b)]) == [(1.0, 2.0)]
            assert sess.run([[a], {"b": b}]) == [[1.0], {"b": 2.0}]
        fetches.append(a)
        assert sess.run(fetches) == [1.0, 2.0, 1.0]
        assert sess.run([p, a], {p: 3.0}) == [3.0, 1.0]
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run([p, a])  # the same fetches unfed: another prepared plan, which needs the feed


def test_plan_cache_is_bounded_lru():
    from tideflow import _core
    g = tf.Graph()
    with g.as_default():
        cs = [tf.constant(float(i)) for i in range(5)]
    c = _core.Session(g._c, 0, 0, 2)
    run = lambda t: float(c.run([], [], [t._key()], [])[0])  # noqa: E731
    for i in range(5):
        assert run(cs[i]) == i
    assert c.cached_plans() == 2
    run(cs[3])  # the most recent two are 3 and 4; touching 3 makes 4 the eviction candidate
    run(cs[0])
    assert c.cached_plans() == 2
    assert run(cs[3]) == 3.0 and c.cached_plans() == 2
    uncached = _core.Session(g._c, 0, 0, 0)
    assert float(uncached.run([], [], [cs[1]._key()], [])[0]) == 1.0
    assert uncached.cached_plans() == 0


def test_control_edge_added_later_orders_the_run():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(1.0)
        read = v.read_value()  # reads the variable when it runs (Note [variable reads])
        update = tf.assign(v, 10.0)
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        assert sess.run(read) == 1.0  # cached before the edge exists
        assert sess.run([read]) == [1.0]
        call = sess.make_callable(read)
        read.op._add_control_input(update.op)
        assert sess.run(read) == 10.0  # the new edge invalidated the cached plan
        sess.run(init)
        assert sess.run([read]) == [10.0]  # and the list fetch's prepared plan
        sess.run(init)
        assert call() == 10.0  # and a callable made before the edge
    with tf.Session(graph=g) as sess:
        sess.run(init)
        assert sess.run(read) == 10.0


def test_control_edge_cycle_is_an_error():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(1.0)
        b = tf.identity(a)
        a.op._add_control_input(b.op)
    with tf.Session(graph=g) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="cycle"):
            sess.run(b)


def test_control_input_from_another_graph():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        a = tf.constant(1.0)
    with g2.as_default():
        b = tf.constant(2.0)
        with pytest.raises(ValueError, match="same graph"):
            with tf.control_dependencies([a]):
                tf.identity(b)
        with pytest.raises(ValueError, match="same graph"):
            b.op._add_control_input(a.op)
