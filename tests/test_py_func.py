"""tf.py_func, tf.numpy_function, tf.py_function: Python functions run by graph nodes."""
import gc
import threading
import time
import weakref

import numpy as np
import pytest

import tideflow as tf
from tideflow import _core


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default():
        yield


def _run(fetches, feed=None, config=None):
    with tf.Session(config=config) as sess:
        return sess.run(fetches, feed)


def test_single_multiple_and_scalar_outputs():
    x = tf.constant([1.0, 2.0, 3.0])
    y = tf.py_func(lambda a: a * 2, [x], tf.float32)
    assert isinstance(y, tf.Tensor) and y.op.type == "PyFunc" and y.dtype == tf.float32
    assert y.shape.ndims is None  # only the function knows its output shapes
    s, n = tf.py_func(lambda a: (np.float32(a.sum()), np.int64(a.size)), [x], [tf.float32, tf.int64])
    (one,) = tf.py_func(lambda a: a[:1], [x], [tf.float32])
    b = tf.py_func(lambda a, k: a > k, [x, 1.5], tf.bool)  # non-tensor inputs become constants
    r = _run([y, s, n, one, b])
    np.testing.assert_array_equal(r[0], [2, 4, 6])
    assert r[1] == 6.0 and r[2] == 3 and np.ndim(r[1]) == 0 and np.ndim(r[2]) == 0
    np.testing.assert_array_equal(r[3], [1.0])
    np.testing.assert_array_equal(r[4], [False, True, True])


def test_inputs_are_numpy_arrays_and_private_copies():
    v = tf.Variable([1.0, 2.0])
    seen = []

    def scribble(a, c):
        seen.append((type(a), a.dtype, a.shape, c.dtype))
        a += 100  # must not reach the variable's value
        c[...] = -1
        return a

    c = tf.constant([5, 6], dtype=tf.int32)
    y = tf.py_func(scribble, [v, c], tf.float32)
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(y), [101, 102])
        np.testing.assert_array_equal(sess.run([v, c]), [[1, 2], [5, 6]])
    assert seen[0] == (np.ndarray, np.float32, (2,), np.int32)


def test_strings_in_and_out():
    s = tf.constant([b"ab", b"c"])
    lens = tf.py_func(lambda a: np.array([len(x) for x in a], np.int32), [s], tf.int32)
    up = tf.py_func(lambda a: [x.upper() for x in a.tolist()][0], [s], tf.string)
    text = tf.py_func(lambda a: "caf\u00e9", [s], tf.string)  # str is encoded as UTF-8
    r = _run([lens, up, text])
    np.testing.assert_array_equal(r[0], [2, 1])
    assert r[1] == b"AB" and r[2] == "caf\u00e9".encode()


def test_no_outputs_returns_the_operation():
    calls = []
    op = tf.py_func(lambda a: calls.append(a.tolist()), [tf.constant(3)], [])
    assert isinstance(op, tf.Operation) and op.type == "PyFunc" and len(op.outputs) == 0
    _run(op)
    assert calls == [3]


def test_op_types_and_attributes():
    x = tf.constant(1.0)
    assert tf.py_func(lambda a: a, [x], tf.float32, stateful=False).op.type == "PyFuncStateless"
    assert tf.numpy_function(lambda a: a, [x], tf.float32).op.type == "PyFunc"
    f = tf.py_function(lambda a: a, [x], tf.float32, name="eager")
    assert f.op.type == "EagerPyFunc" and f.op.name == "eager"
    y = tf.py_func(lambda a: a, [x], [tf.float32, tf.int32])[0]
    assert y.op.get_attr("token").startswith("pyfunc_")
    assert [tf.as_dtype(d) for d in y.op.get_attr("Tout")] == [tf.float32, tf.int32]
    for t in ("PyFunc", "PyFuncStateless", "EagerPyFunc"):
        assert _core.op_gradient_kind(t) == "none"
    assert _core.registered_ops().count("PyFunc") == 1


def test_output_dtype_and_count_errors_name_the_node():
    x = tf.constant([1.0])
    wrong_dtype = tf.py_func(lambda a: a.astype(np.float64), [x], tf.float32, name="wd")
    py_int = tf.py_func(lambda a: 3, [x], tf.float32, name="pi")
    too_many = tf.py_func(lambda a: [a, a], [x], tf.float32, name="tm")
    too_few = tf.py_func(lambda a: a, [x], [tf.float32, tf.float32], name="tf")[0]
    missing = tf.py_func(lambda a: None, [x], tf.float32, name="none")
    odd = tf.py_func(lambda a: object(), [x], tf.float32, name="odd")
    half = tf.py_func(lambda a: a.astype(np.float16), [x], tf.float32, name="half")
    ok = tf.py_func(lambda a: a + 1, [x], tf.float32)
    cases = [(wrong_dtype, r"0-th value returned by pyfunc_\d+ is float64, but expects float32"),
             (py_int, "is int64, but expects float32"),
             (too_many, r"returns 2 values, but expects to see 1 values"),
             (too_few, r"returns 1 values, but expects to see 2 values"),
             (missing, r"returns 0 values, but expects to see 1 values"),
             (odd, "is object, but expects float32"),
             (half, "is float16, but expects float32")]
    with tf.Session() as sess:
        for t, msg in cases:
            with pytest.raises(tf.errors.InvalidArgumentError, match=msg) as e:
                sess.run(t)
            assert "'%s' (PyFunc)" % t.op.name in str(e.value)
        np.testing.assert_array_equal(sess.run(ok), [2.0])  # the session is still usable


def test_py_function_converts_to_tout():
    x = tf.constant([1.0, 2.0])
    f64 = tf.py_function(lambda a: a.astype(np.float64) / 4, [x], tf.float32)
    i = tf.py_function(lambda a: 7, [x], tf.int32)
    f = tf.py_function(lambda a: 2, [x], tf.float64)
    lossy = tf.py_function(lambda a: a, [x], tf.int32)  # float -> int is refused, as by convert_to_tensor
    r = _run([f64, i, f])
    assert r[0].dtype == np.float32 and r[1].dtype == np.int32 and r[2].dtype == np.float64
    np.testing.assert_array_equal(r[0], [0.25, 0.5])
    with pytest.raises(tf.errors.InvalidArgumentError, match="is float32, but expects int32"):
        _run(lossy)


@pytest.mark.parametrize("exc, cls", [
    (ValueError("boom"), tf.errors.InvalidArgumentError),
    (TypeError("boom"), tf.errors.InvalidArgumentError),
    (RuntimeError("boom"), tf.errors.UnknownError),
    (KeyError("boom"), tf.errors.UnknownError),
    (StopIteration("boom"), tf.errors.OutOfRangeError),
    (NotImplementedError("boom"), tf.errors.UnimplementedError),
    (MemoryError("boom"), tf.errors.ResourceExhaustedError),
])
def test_exceptions_become_tf_errors(exc, cls):
    def raising_function(a):
        raise exc

    x = tf.constant(1.0)
    y = tf.py_func(raising_function, [x], tf.float32, name="raiser")
    z = tf.py_func(lambda a: a * 3, [x], tf.float32)
    with tf.Session() as sess:
        with pytest.raises(cls) as e:
            sess.run(y)
        msg = str(e.value)
        assert msg.startswith(type(exc).__name__ + ":") and "boom" in msg
        assert "Traceback (most recent call last)" in msg and "raising_function" in msg
        assert "'raiser' (PyFunc)" in msg
        assert sess.run(z) == 3.0
        with pytest.raises(cls):  # and fails the same way again
            sess.run(y)


def test_stateful_function_runs_once_per_step():
    calls = []

    def count(a):
        calls.append(1)
        return np.float32(len(calls))

    y = tf.py_func(count, [tf.constant(0.0)], tf.float32)
    z = y + y * 2  # two readers, one execution
    with tf.Session() as sess:
        assert sess.run([y, z, y]) == [1.0, 3.0, 1.0]
        assert sess.run(z) == 6.0
    assert len(calls) == 2


def test_control_dependencies():
    log = []
    v = tf.Variable(1.0)
    inc = tf.assign_add(v, 1.0)
    with tf.control_dependencies([inc]):
        seen = tf.py_func(lambda a: log.append(float(a)) or a, [v.read_value()], tf.float32)
    side = tf.py_func(lambda: log.append("side"), [], [])
    with tf.control_dependencies([side]):
        out = tf.identity(seen)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(out) == 2.0
        assert sess.run(out) == 3.0
    assert sorted(log, key=str) == sorted([2.0, "side", 3.0, "side"], key=str)


def test_default_gradient_is_none_and_override_map():
    x = tf.placeholder(tf.float32, [3])
    y = tf.py_func(lambda a: a ** 3, [x], tf.float32)
    assert tf.gradients(tf.reduce_sum(y), x) == [None]

    @tf.RegisterGradient("TestPyFuncCubeGrad")
    def _cube_grad(op, grad):
        assert op.type == "PyFunc"
        inp = op.inputs[0]
        return grad * tf.py_func(lambda a: 3 * a ** 2, [inp], tf.float32)

    with tf.get_default_graph().gradient_override_map({"PyFunc": "TestPyFuncCubeGrad"}):
        y2 = tf.py_func(lambda a: a ** 3, [x], tf.float32)
    (g,) = tf.gradients(tf.reduce_sum(y2), x)
    np.testing.assert_allclose(_run(g, {x: [1.0, 2.0, -3.0]}), [3.0, 12.0, 27.0])


def _assert_threads_finish(threads, timeout=60):
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "deadlock: a thread did not finish"


def test_two_python_threads_run_py_funcs_at_once():
    x = tf.placeholder(tf.float32, [None])
    y = tf.py_func(lambda a: (time.sleep(0.001), a * 2)[1], [x], tf.float32)
    z = tf.py_func(lambda a: a + 1, [y], tf.float32)
    errors = []
    sess = tf.Session()
    other = tf.Session()

    def work(s, k):
        try:
            for i in range(50):
                v = np.full(3, k * 100 + i, np.float32)
                np.testing.assert_array_equal(s.run(z, {x: v}), v * 2 + 1)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    _assert_threads_finish([threading.Thread(target=work, args=(s, k)) for k, s in enumerate([sess, sess, other])])
    sess.close()
    other.close()
    assert not errors, errors


def test_parallel_executor_runs_several_py_funcs():
    config = tf.ConfigProto(inter_op_parallelism_threads=2, intra_op_parallelism_threads=2)
    x = tf.constant(np.arange(4, dtype=np.float32))
    threads = set()

    def slow(a, k):
        threads.add(threading.get_ident())
        time.sleep(0.005)
        return a * k

    outs = [tf.py_func(slow, [x, np.float32(k)], tf.float32) for k in range(8)]
    total = tf.add_n(outs)
    with tf.Session(config=config) as sess:
        for _ in range(5):
            np.testing.assert_array_equal(sess.run(total), np.arange(4) * sum(range(8)))
    assert threads  # (which threads ran them is the executor's choice)

    # A function that runs another step itself (on another graph) from inside a pool thread.
    inner_graph = tf.Graph()
    with inner_graph.as_default():
        p = tf.placeholder(tf.float32, [])
        q = tf.py_func(lambda a: a + 1, [p], tf.float32)
    inner = tf.Session(graph=inner_graph, config=config)
    nested = [tf.py_func(lambda a: inner.run(q, {p: a}), [np.float32(k)], tf.float32) for k in range(4)]
    with tf.Session(config=config) as sess:
        assert sess.run(nested) == [1.0, 2.0, 3.0, 4.0]
    inner.close()


def test_functions_live_as_long_as_their_graph():
    class F:
        def __call__(self, a):
            return a

    g = tf.Graph()
    f = F()
    ref = weakref.ref(f)
    with g.as_default():
        y = tf.py_func(f, [tf.constant(1.0)], tf.float32)
        token = y.op.get_attr("token")
    del f
    gc.collect()
    assert ref() is not None
    with tf.Session(graph=g) as sess:
        assert sess.run(y) == 1.0
    del g, y, sess
    gc.collect()
    assert ref() is None
    from tideflow.ops import script_ops
    assert token not in script_ops._registry


def test_builtin_and_ufunc_functions():
    x = tf.constant([0.0, 1.0])
    np.testing.assert_allclose(_run(tf.py_func(np.exp, [x], tf.float32)), np.exp([0.0, 1.0]).astype(np.float32))
    assert _run(tf.py_func(len, [x], tf.int64)) == 2


def test_against_tensorflow():
    tf_ref = pytest.importorskip("tensorflow")
    tf1 = tf_ref.compat.v1

    def build(mod):
        def boom(a):
            raise KeyError("k")
        x = mod.constant([1.0, 2.0])
        good = mod.py_func(lambda a: (a * 2, np.int64(a.size)), [x], [mod.float32, mod.int64])
        return good, [mod.py_func(f, [x], mod.float32) for f in (
            boom, lambda a: a.astype(np.float64), lambda a: [a, a], lambda a: None)]

    with tf_ref.Graph().as_default():
        ref_good, ref_bad = build(tf1)
        with tf1.Session() as sess:
            ref_vals = sess.run(ref_good)
            ref_errs = []
            for t in ref_bad:
                with pytest.raises(tf_ref.errors.OpError) as e:
                    sess.run(t)
                ref_errs.append(type(e.value).__name__)
    good, bad = build(tf)
    with tf.Session() as sess:
        vals = sess.run(good)
        errs = []
        for t in bad:
            with pytest.raises(tf.errors.OpError) as e:
                sess.run(t)
            errs.append(type(e.value).__name__)
    np.testing.assert_array_equal(vals[0], ref_vals[0])
    assert vals[1] == ref_vals[1]
    assert errs == ref_errs
