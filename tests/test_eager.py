"""Eager execution: mode switching, eager tensors and NumPy, errors, variables, GradientTape, custom
gradients, optimizers, random seeds, tf.function and memory. Each test runs in eager_mode() (the
process-wide switch stays off for the rest of the suite); whole programs that turn eager execution on
run in test_eager_articles.py."""
import gc
import os
import weakref

import numpy as np
import pytest

import tideflow as tf
from tideflow import _core
from tideflow.eager import context
from tideflow.eager.context import eager_mode

from eager_scripts import have_tensorflow, run


@pytest.fixture(autouse=True)
def eager():
    with eager_mode():
        yield


def _np(t):
    return np.asarray(t)


# ---- mode ------------------------------------------------------------------------------------------

def test_mode_switching_graph_inside_eager():
    assert tf.executing_eagerly()
    g = tf.Graph()
    with g.as_default():
        assert not tf.executing_eagerly()
        x = tf.placeholder(tf.float32, [2])
        y = x * 2.0
        assert str(y) == 'Tensor("mul:0", shape=(2,), dtype=float32)'
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y, {x: [1.0, 2.0]}), [2.0, 4.0])
        with eager_mode():
            assert tf.executing_eagerly()
    assert tf.executing_eagerly()
    with context.graph_mode():
        assert not tf.executing_eagerly()


def test_enable_eager_execution_and_v2_behavior_in_a_program():
    _, v = run("""
import tideflow as tf
report("before", tf.executing_eagerly())
tf.compat.v1.enable_eager_execution()
report("after", tf.executing_eagerly())
tf.enable_eager_execution()  # again: a no-op
with tf.Graph().as_default():
    report("in_graph", tf.executing_eagerly())
report("eq_v1", bool(tf.constant(1.0) == tf.constant(1.0)))
tf.enable_v2_behavior()
report("eq_v2", tf.constant([1, 2]) == tf.constant([1, 3]))
report("shape_int", type(tf.constant([1, 2]).shape[0]).__name__)
""", "")
    assert v == {"before": False, "after": True, "in_graph": False, "eq_v1": False, "eq_v2": [True, False],
                 "shape_int": "int"}
    lines, _ = run("""
import tideflow as tf
tf.constant(1.0) + 1.0
try:
    tf.enable_eager_execution()
except ValueError as e:
    print(e)
""", "")
    assert lines == ["tf.enable_eager_execution must be called at program startup."]


def test_graph_only_apis_refuse_eager_mode():
    with pytest.raises(RuntimeError, match="placeholder"):
        tf.placeholder(tf.float32)
    with pytest.raises(RuntimeError, match="GradientTape"):
        tf.gradients(tf.constant(1.0), tf.constant(2.0))


# ---- eager tensors -----------------------------------------------------------------------------------

def test_tensor_protocol():
    x = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert isinstance(x, tf.Tensor) and tf.is_tensor(x)
    assert x.shape == tf.TensorShape([2, 3]) and x.shape.as_list() == [2, 3]
    assert x.dtype is tf.float32 and x.ndim == 2 and len(x) == 2
    assert [r.numpy().tolist() for r in x] == [[1, 2, 3], [4, 5, 6]]
    assert float(x[1, 2]) == 6.0 and x[0, 1:].numpy().tolist() == [2.0, 3.0]
    assert x[:, None, -1].shape.as_list() == [2, 1]
    assert x[tf.constant(1)].numpy().tolist() == [4, 5, 6]
    assert int(tf.constant(7)) == 7 and [0, 1, 2][tf.constant(2)] == 2
    assert bool(tf.constant(True)) and not bool(tf.constant(0.0))
    with pytest.raises(ValueError):
        bool(tf.constant([1.0, 2.0]))
    with pytest.raises(TypeError):
        len(tf.constant(1.0))
    with pytest.raises(AttributeError):
        x.op  # noqa: B018
    assert x.device.endswith("CPU:0")
    assert "{:.1f}".format(tf.constant(2.25)) == "2.2"


def test_numpy_interop_without_copies():
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    view = np.asarray(x)
    assert not view.flags.writeable  # a view of the tensor's buffer, which is immutable
    assert np.asarray(x).__array_interface__["data"][0] == view.__array_interface__["data"][0]
    copy = x.numpy()
    copy[0, 0] = 100.0  # numpy() is the caller's own array; the tensor does not change
    assert float(x[0, 0]) == 0.0
    np.testing.assert_array_equal(np.square(x), np.arange(6).reshape(2, 3) ** 2)
    # An array NumPy can still write is copied in; a read-only one (this view) is wrapped as it is.
    a = np.ones(4, np.float32)
    t = tf.constant(a)
    a[0] = 5.0
    assert float(t[0]) == 1.0
    back = tf.convert_to_tensor(view)
    assert np.asarray(back).__array_interface__["data"][0] == view.__array_interface__["data"][0]
    assert tf.convert_to_tensor([[1, 2]]).dtype is tf.int32
    assert tf.convert_to_tensor([1.5]).dtype is tf.float32
    assert tf.convert_to_tensor(np.array([1.5])).dtype is tf.float64
    with pytest.raises(ValueError):
        tf.convert_to_tensor(tf.constant(1), dtype=tf.float32)


def test_operators_and_comparisons():
    a = tf.constant([1.0, 2.0, 4.0])
    b = tf.constant([2.0, 2.0, 2.0])
    for got, want in ((a + b, [3, 4, 6]), (a - 1, [0, 1, 3]), (1 - a, [0, -1, -3]), (a * 2, [2, 4, 8]),
                      (2 * a, [2, 4, 8]), (a / b, [0.5, 1, 2]), (8 / a, [8, 4, 2]), (-a, [-1, -2, -4]),
                      (a ** 2, [1, 4, 16]), (2 ** a, [2, 4, 16]), (a // b, [0, 1, 2]), (a % b, [1, 0, 0]),
                      (abs(-a), [1, 2, 4]), (np.ones(3, np.float32) + a, [2, 3, 5])):
        assert type(got).__name__ == "EagerTensor", got
        np.testing.assert_allclose(got.numpy(), want)
    assert (a < b).numpy().tolist() == [True, False, False]
    assert (a >= b).numpy().tolist() == [False, True, True]
    assert (tf.constant(7) // 2).numpy() == 3 and (tf.constant(7) / 2).dtype is tf.float64
    m = tf.constant([[1.0, 2.0]]) @ tf.constant([[3.0], [4.0]])
    assert m.numpy().tolist() == [[11.0]]
    assert (tf.constant([True, False]) & tf.constant([True, True])).numpy().tolist() == [True, False]
    # TF 1.x compares tensors by identity; TF 2 (equality on) elementwise.
    assert (a == a) is True and (a == b) is False
    from tideflow.eager import tensor
    tensor.enable_tensor_equality()
    try:
        assert (a == b).numpy().tolist() == [False, True, False]
        assert (a != 2.0).numpy().tolist() == [True, False, True]
        assert (a == tf.constant([1.0, 2.0])).numpy() is np.False_ or not bool(a == tf.constant([1.0, 2.0]))
        with pytest.raises(TypeError, match="unhashable"):
            hash(a)
        assert {a.ref(): 1}[a.ref()] == 1
    finally:
        tensor.disable_tensor_equality()


def test_errors_are_typed_and_raised_at_the_line():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[Op:MatMul\]"):
        tf.matmul(tf.ones([2, 3]), tf.ones([2, 3]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Add"):
        tf.constant(1.0) + tf.constant(1)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.reshape(tf.ones([6]), [4])
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.gather(tf.ones([3]), [5])
    with pytest.raises(TypeError):
        tf.constant(1) + 2.5  # TF: the float does not convert to int32


def test_printing_matches_tensorflow_format():
    assert str(tf.constant([[4.0]])) == "tf.Tensor([[4.]], shape=(1, 1), dtype=float32)"
    assert repr(tf.constant([[4.0]])) == "<tf.Tensor: shape=(1, 1), dtype=float32, numpy=array([[4.]], dtype=float32)>"
    assert repr(tf.constant(2.5)) == "<tf.Tensor: shape=(), dtype=float32, numpy=2.5>"
    assert str(tf.constant(3)) == "tf.Tensor(3, shape=(), dtype=int32)"
    assert str(tf.constant(b"hi")) == "tf.Tensor(b'hi', shape=(), dtype=string)"
    assert str(tf.zeros([2, 2])) == "tf.Tensor(\n[[0. 0.]\n [0. 0.]], shape=(2, 2), dtype=float32)"
    v = tf.Variable(1.0, name="v")
    assert repr(v) == "<tf.Variable 'v:0' shape=() dtype=float32, numpy=1.0>"


# ---- variables ---------------------------------------------------------------------------------------

def test_variables():
    graph_variables = tf.global_variables()  # what graph-mode tests before this one left in the default graph
    v = tf.Variable([1.0, 2.0])
    assert v.name == "Variable:0" and v.trainable and v.dtype is tf.float32 and v.shape.as_list() == [2]
    assert isinstance(v, tf.Variable)
    v.assign([3.0, 4.0])
    v.assign_add([1.0, 1.0])
    v.assign_sub(tf.constant([0.5, 0.5]))
    np.testing.assert_array_equal(v.numpy(), [3.5, 4.5])
    r = v.read_value()
    v.assign([0.0, 0.0])
    np.testing.assert_array_equal(r.numpy(), [3.5, 4.5])  # a read is a value: later updates don't change it
    assert float((v + 1.0)[0]) == 1.0 and float(v[1]) == 0.0
    with pytest.raises(tf.errors.InvalidArgumentError):
        v.assign([1.0, 2.0, 3.0])
    w = tf.Variable(5, trainable=False, name="counter")
    assert w.name == "counter:0" and not w.trainable and w.dtype is tf.int32
    assert int(w.count_up_to(7)) == 5 and int(w) == 6
    with tf.name_scope("layer"):
        assert tf.Variable(0.0, name="w").name == "layer/w:0"
    import tideflow.contrib.eager as tfe
    assert isinstance(tfe.Variable(1.0), tf.Variable)
    assert tf.Variable(lambda: tf.ones([2]), dtype=tf.float64).dtype is tf.float64
    assert tf.global_variables() == graph_variables  # eager variables join no collection, as in TensorFlow


def test_variables_are_freed_when_unreferenced():
    gc.collect()
    live = _core._live_eager_variables()
    v = tf.Variable(np.ones(1000, np.float32))
    ref = weakref.ref(v)
    opt = tf.train.AdamOptimizer(0.1)
    tape = tf.GradientTape()
    with tape:
        y = tf.reduce_sum(v * v)
    opt.apply_gradients(zip(tape.gradient(y, [v]), [v]))
    assert _core._live_eager_variables() == live + 5  # v, its two slots, the two beta powers
    del v, y, tape, opt
    gc.collect()
    assert ref() is None and _core._live_eager_variables() == live


# ---- GradientTape ------------------------------------------------------------------------------------

def test_tape_watching_rules():
    x = tf.constant(3.0)
    v = tf.Variable(2.0)
    frozen = tf.Variable(5.0, trainable=False)
    with tf.GradientTape() as tape:
        y = x * v * frozen
    gx, gv, gf = tape.gradient(y, [x, v, frozen])
    assert gx is None and float(gv) == 15.0 and gf is None  # only trainable variables are watched by default
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        y = x * v
    gx, gv = tape.gradient(y, [x, v])
    assert float(gx) == 2.0 and gv is None
    with tf.GradientTape() as tape:
        y = x * v
    assert [w is v for w in tape.watched_variables()] == [True]
    with tf.GradientTape() as tape:
        tape.watch(x)
    assert tape.gradient(x, x).numpy() == 1.0
    with tf.GradientTape() as tape:
        y = v * 1.0
    assert float(tape.gradient(v, v)) == 1.0  # a variable as target stands for itself


def test_tape_structures_output_gradients_and_unconnected():
    a = tf.constant([1.0, 2.0])
    b = tf.constant([[1.0], [2.0]])
    c = tf.constant(5.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([a, b, c])
        y = a * b  # broadcast [2, 2]
        z = tf.reduce_sum(a)
    g = tape.gradient({"y": y, "z": z}, {"a": a, "pair": (b, c)})
    np.testing.assert_array_equal(g["a"], [4.0, 4.0])  # 3 from y, 1 from z
    np.testing.assert_array_equal(g["pair"][0], [[3.0], [3.0]])
    assert g["pair"][1] is None
    zeros = tape.gradient(y, c, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    assert zeros.numpy() == 0.0
    w = np.array([[1.0, 0.0], [2.0, 3.0]], np.float32)
    ga = tape.gradient(y, a, output_gradients=w)
    np.testing.assert_array_equal(ga, (w * np.array([[1.0], [2.0]])).sum(0))
    del tape


def test_tape_used_once_unless_persistent():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(y, x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * x
    assert float(tape.gradient(y, x)) == 4.0 and float(tape.gradient(z, x)) == 12.0


def test_higher_order_and_second_derivative_of_linear_is_none():
    x = tf.Variable(0.5)
    with tf.GradientTape() as t1:
        with tf.GradientTape() as t2:
            with tf.GradientTape() as t3:
                y = tf.sin(x) * x
            d1 = t3.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t1.gradient(d2, x)
    xv = 0.5
    np.testing.assert_allclose([float(d1), float(d2), float(d3)],
                               [np.cos(xv) * xv + np.sin(xv), 2 * np.cos(xv) - xv * np.sin(xv),
                                -3 * np.sin(xv) - xv * np.cos(xv)], rtol=1e-5)
    w = tf.Variable(2.0)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = 3.0 * w + 1.0
        dy = inner.gradient(y, w)
    assert float(dy) == 3.0 and outer.gradient(dy, w) is None


def test_stop_recording_and_reset():
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        with tape.stop_recording():
            z = y * x  # not recorded
        w = y * 2.0
    assert tape.gradient(z, x) is None and float(tape.gradient(w, x)) == 12.0
    with pytest.raises(RuntimeError):
        with tape.stop_recording():
            pass
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        tape.reset()
        tape.watch(x)
        w = x * 5.0
    assert tape.gradient(y, x) is None
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        tape.reset()
        w = x * 5.0
        tape.watch(x)
        u = x * 4.0
    assert tape.gradient([w, u], x).numpy() == 4.0


def test_jacobian_and_batch_jacobian():
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x[:, None] * x[None, :]  # [3, 3]
    j = tape.jacobian(y, x)
    xv = np.array([1.0, 2.0, 3.0])
    want = np.zeros((3, 3, 3))
    for i in range(3):
        for k in range(3):
            want[i, k, i] += xv[k]
            want[i, k, k] += xv[i]
    np.testing.assert_allclose(j, want)
    xb = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    wm = tf.constant(np.arange(12, dtype=np.float32).reshape(3, 4))
    with tf.GradientTape() as tape:
        tape.watch(xb)
        yb = tf.tanh(tf.matmul(xb, wm))
    bj = tape.batch_jacobian(yb, xb)
    yv = np.tanh(np.arange(6).reshape(2, 3) @ np.arange(12).reshape(3, 4))
    want = (1 - yv ** 2)[:, :, None] * np.arange(12).reshape(3, 4).T[None]
    assert bj.shape.as_list() == [2, 4, 3]
    np.testing.assert_allclose(bj, want, rtol=1e-4, atol=1e-6)


def test_tape_matches_graph_gradients_for_a_model():
    rng = np.random.RandomState(0)
    xv, wv, bv = rng.randn(5, 4), rng.randn(4, 3), rng.randn(3)
    labels = np.eye(3)[[0, 2, 1, 1, 0]]
    w, b = tf.Variable(wv), tf.Variable(bv)
    with tf.GradientTape() as tape:
        loss = tf.losses.softmax_cross_entropy(labels, tf.matmul(tf.constant(xv), w) + b) + tf.nn.l2_loss(w)
    gw, gb = tape.gradient(loss, [w, b])
    with tf.Graph().as_default():
        w2, b2 = tf.Variable(wv), tf.Variable(bv)
        loss2 = tf.losses.softmax_cross_entropy(labels, tf.matmul(tf.constant(xv), w2) + b2) + tf.nn.l2_loss(w2)
        grads = tf.gradients(loss2, [w2, b2])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            gw2, gb2 = sess.run(grads)
    np.testing.assert_allclose(gw, gw2, rtol=1e-12)
    np.testing.assert_allclose(gb, gb2, rtol=1e-12)


def test_custom_gradient():
    @tf.custom_gradient
    def clip_grad(x):
        def grad(dy):
            return tf.clip_by_value(dy, -0.5, 0.5)
        return tf.identity(x), grad

    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(clip_grad(x) * 3.0)
    np.testing.assert_array_equal(tape.gradient(y, x), [0.5, 0.5])
    v = tf.Variable(2.0)

    @tf.custom_gradient
    def scaled(x):
        def grad(dy, variables=None):
            return dy * v, [dy * x * 10.0]
        return x * v, grad

    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(scaled(x))
    gx, gv = tape.gradient(y, [x, v])
    np.testing.assert_array_equal(gx, [2.0, 2.0])
    assert float(gv) == 30.0


# ---- optimizers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: tf.train.GradientDescentOptimizer(0.1),
                                  lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
                                  lambda: tf.train.AdamOptimizer(0.05),
                                  lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5, centered=True),
                                  lambda: tf.train.AdagradOptimizer(0.1), lambda: tf.train.FtrlOptimizer(0.1)],
                         ids=["sgd", "momentum", "adam", "rmsprop", "adagrad", "ftrl"])
def test_optimizers_eager_equal_graph_mode(make):
    rng = np.random.RandomState(0)
    x, y = rng.randn(16, 3), rng.randn(16, 1)
    w0 = rng.randn(3, 1)
    w = tf.Variable(w0)
    opt = make()
    gs = tf.train.get_or_create_global_step() if False else None
    for _ in range(10):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(tf.constant(x), w) - y))
        opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]), global_step=gs)
    for _ in range(5):
        opt.minimize(lambda: tf.reduce_mean(tf.square(tf.matmul(tf.constant(x), w) - y)))
    with tf.Graph().as_default():
        wg = tf.Variable(w0)
        lossg = tf.reduce_mean(tf.square(tf.matmul(tf.constant(x), wg) - y))
        train = make().minimize(lossg)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(15):
                sess.run(train)
            wgv = sess.run(wg)
    np.testing.assert_allclose(w.numpy(), wgv, rtol=1e-12, atol=1e-14)
    names = sorted(s.name for s in opt.variables())
    assert all(n.startswith(("Variable", "beta")) for n in names), names


def test_global_step_and_slots_eagerly():
    step = tf.train.get_or_create_global_step()
    assert step.name == "global_step:0" and tf.train.get_global_step() is step
    v = tf.Variable([1.0, 2.0], name="theta")
    opt = tf.train.AdamOptimizer(0.1)
    opt.minimize(lambda: tf.reduce_sum(v * v), global_step=step)
    assert int(step) == 1
    assert opt.get_slot(v, "m").name == "theta/Adam:0" and opt.get_slot(v, "v").name == "theta/Adam_1:0"
    tf.get_default_graph().clear_collection(tf.GraphKeys.GLOBAL_STEP)
    tf.get_default_graph().clear_collection(tf.GraphKeys.GLOBAL_VARIABLES)


# ---- random ------------------------------------------------------------------------------------------

def test_random_seeds_follow_tf2_rules():
    tf.random.set_seed(3)
    a1, a2 = tf.random.normal([4]).numpy(), tf.random.normal([4]).numpy()
    tf.random.set_seed(3)
    b1, b2 = tf.random.normal([4]).numpy(), tf.random.normal([4]).numpy()
    assert (a1 == b1).all() and (a2 == b2).all() and not (a1 == a2).all()
    c1, c2 = tf.random_uniform([3], seed=11).numpy(), tf.random_uniform([3], seed=11).numpy()
    assert not (c1 == c2).all()  # an op seed continues its stream from call to call
    context.set_global_seed(None)
    u = tf.random.uniform([1000]).numpy()
    assert 0.0 <= u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.05
    if have_tensorflow():
        _, ref = run("""
tf.random.set_seed(3)
report("a", [tf.random.normal([4]), tf.random.normal([4])])
report("c", [tf.random.uniform([3], seed=11), tf.random.uniform([3], seed=11)])
report("t", tf.random.truncated_normal([5], seed=2))
""", "import tensorflow as tf")
        tf.random.set_seed(3)
        assert [x.tolist() for x in (a1, a2)] == ref["a"]
        assert [tf.random_uniform([3], seed=11).numpy().tolist() for _ in range(2)] == ref["c"]
        assert tf.random.truncated_normal([5], seed=2).numpy().tolist() == ref["t"]
    context.set_global_seed(None)


# ---- tf.function -------------------------------------------------------------------------------------

def test_function_traces_once_per_signature():
    calls = []

    @tf.function
    def f(x, scale=2.0):
        calls.append(1)
        return x * scale

    assert float(f(tf.constant(1.0))) == 2.0
    assert float(f(tf.constant(5.0))) == 10.0
    assert len(calls) == 1
    f(tf.constant([1.0, 2.0]))
    f(tf.constant(1.0), scale=3.0)
    f(tf.constant(1.0, tf.float64))
    assert len(calls) == 4 and f.experimental_get_tracing_count() == 4
    f(np.array(2.0, np.float32))
    assert len(calls) == 4  # a NumPy array is a tensor of the same signature

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    def g(x):
        calls.append(2)
        return tf.reduce_sum(x, axis=1)

    np.testing.assert_array_equal(g(tf.ones([3, 2])), [2, 2, 2])
    np.testing.assert_array_equal(g(np.ones([5, 2], np.float32)), [2] * 5)
    assert calls.count(2) == 1
    with pytest.raises(ValueError):
        g(tf.ones([3, 3]))


def test_function_variables_and_program_order():
    v = tf.Variable(1.0)

    @tf.function
    def f(x):
        v.assign_add(x)
        a = v.read_value()
        v.assign(v * 10.0)
        return a, v.read_value()

    a, b = f(tf.constant(2.0))
    assert float(a) == 3.0 and float(b) == 30.0 and float(v) == 30.0

    class Model:
        def __init__(self):
            self.w = None

        @tf.function
        def __call__(self, x):
            if self.w is None:
                self.w = tf.Variable(tf.ones([2, 1]))
            return tf.matmul(x, self.w)

    m = Model()
    assert m(tf.ones([1, 2])).numpy().tolist() == [[2.0]]
    m.w.assign([[1.0], [-1.0]])
    assert m(tf.ones([3, 2])).numpy().tolist() == [[0.0]] * 3  # new signature, variable reused

    made = []

    @tf.function
    def creates(x):
        made.append(tf.Variable(1.0))
        return made[-1].read_value() + x

    creates(tf.constant(1.0))
    with pytest.raises(ValueError, match="non-first"):
        creates(tf.constant([1.0]))

    @tf.function
    def from_argument(x):
        return tf.Variable(x).read_value()

    with pytest.raises(ValueError, match="arguments"):
        from_argument(tf.constant(1.0))


def test_function_python_control_flow_is_not_converted():
    @tf.function
    def f(x):
        if x > 0:  # a graph tensor: no AutoGraph conversion
            return x
        return -x

    with pytest.raises(TypeError):
        f(tf.constant(1.0))

    @tf.function
    def g(x, n):
        for _ in range(n):  # Python loops over Python values unroll while tracing
            x = x * 2.0
        return x

    assert float(g(tf.constant(1.0), 3)) == 8.0


def test_function_gradients_and_training_step_equal_eager():
    rng = np.random.RandomState(0)
    xv, yv = rng.randn(8, 3).astype(np.float32), rng.randint(0, 2, 8)
    w0 = rng.randn(3, 2).astype(np.float32)
    results = []
    for use_function in (False, True):
        w = tf.Variable(w0)
        opt = tf.train.AdamOptimizer(0.1)

        def step(x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=tf.matmul(x, w)))
            opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
            return loss
        if use_function:
            step = tf.function(step)
        losses = [float(step(tf.constant(xv), tf.constant(yv))) for _ in range(5)]
        results.append((losses, w.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)

    f = tf.function(lambda a: tf.reduce_sum(tf.sin(a) * a))
    a = tf.constant([0.5, 1.0])
    with tf.GradientTape() as tape:
        tape.watch(a)
        r = f(a)
    np.testing.assert_allclose(tape.gradient(r, a), np.cos([0.5, 1.0]) * [0.5, 1.0] + np.sin([0.5, 1.0]), rtol=1e-6)


def test_function_runs_through_a_cached_plan():
    v = tf.Variable(0.0)

    @tf.function
    def inc():
        v.assign_add(1.0)

    for _ in range(5):
        inc()
    assert float(v) == 5.0
    cf = inc.get_concrete_function()
    assert cf.variables == (v,)
    assert [op.type for op in cf.graph.get_operations()].count("AssignAdd") == 1


# ---- control flow ------------------------------------------------------------------------------------

def test_eager_cond_and_while_loop():
    x = tf.constant(2.0)
    assert float(tf.cond(x > 1.0, lambda: x * 10.0, lambda: x)) == 20.0
    assert float(tf.cond(x > 5.0, lambda: x * 10.0, lambda: x)) == 2.0
    i, s = tf.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + tf.cast(i, tf.float32)),
                         (tf.constant(0), tf.constant(0.0)))
    assert int(i) == 5 and float(s) == 10.0
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.cond(x > 1.0, lambda: x * x, lambda: x)
    assert float(tape.gradient(y, x)) == 4.0


# ---- memory ------------------------------------------------------------------------------------------

def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.not_sanitized("ASan's quarantine of freed memory and its shadow pages grow resident memory")
def test_long_training_loop_keeps_memory_flat():
    rng = np.random.RandomState(0)
    x = tf.constant(rng.randn(64, 100).astype(np.float32))
    y = tf.constant(rng.randint(0, 10, 64))
    w1, w2 = tf.Variable(rng.randn(100, 200).astype(np.float32) * 0.1), tf.Variable(tf.zeros([200, 10]))
    opt = tf.train.AdamOptimizer(0.01)

    def step():
        with tf.GradientTape() as tape:
            h = tf.nn.relu(tf.matmul(x, w1))
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=tf.matmul(h, w2)))
        opt.apply_gradients(zip(tape.gradient(loss, [w1, w2]), [w1, w2]))
        return loss

    for _ in range(200):
        step()
    gc.collect()
    before = _rss()
    for _ in range(1500):
        step()
    gc.collect()
    grown = _rss() - before
    # Each step allocates about 0.5 MB of tensors; a leak of one step's worth would add 750 MB.
    assert grown < 8 << 20, "RSS grew by %.1f MB over 1500 steps" % (grown / 2**20)
    assert not _core.any_tape()


def test_variable_scopes_name_eager_variables_without_reuse():
    with tf.variable_scope("scope"):
        v = tf.get_variable("w", [2], initializer=tf.zeros_initializer())
        with tf.variable_scope("inner"):
            u = tf.get_variable("u", [1])
    assert v.name == "scope/w:0" and u.name == "scope/inner/u:0" and tf.executing_eagerly()
    assert tf.get_variable("w", [3]).shape.as_list() == [3]  # eager variables are not stored: a new one
    with pytest.raises(RuntimeError, match="EagerVariableStore"):
        with tf.variable_scope("scope", reuse=True):
            tf.get_variable("w", [2])


def test_python_functions_and_printing_ops_run_eagerly(capfd):
    np.testing.assert_array_equal(tf.py_func(lambda a: a * 2, [tf.constant([1.0, 2.0])], tf.float32), [2.0, 4.0])
    assert float(tf.py_function(lambda a: a * 3, [tf.constant(2.0)], tf.float32)) == 6.0
    out = tf.Print(tf.constant([1.0]), [tf.constant(5)], message="got: ")
    assert out.numpy().tolist() == [1.0]
    tf.print("hello", tf.constant([1, 2]))
    err = capfd.readouterr().err
    assert "got: [5]" in err and "hello [1 2]" in err
    with pytest.raises(tf.errors.InvalidArgumentError, match="assertion failed"):
        tf.Assert(tf.constant(False), [tf.constant(1)])


def test_tapes_are_per_thread():
    import threading
    results, errors = {}, []

    def work(k):
        try:
            with eager_mode():
                x = tf.constant(float(k))
                for _ in range(50):
                    with tf.GradientTape() as tape:
                        tape.watch(x)
                        y = tf.matmul(tf.reshape(x, [1, 1]), tf.reshape(x * x, [1, 1]))
                    g = tape.gradient(y, x)
                results[k] = float(g)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert results == {k: 3.0 * k * k for k in range(1, 5)}


def test_control_flow_inside_function():
    v = tf.Variable(0.0)

    @tf.function
    def f(x):
        y = tf.cond(x > 0.0, lambda: x * 2.0, lambda: -x)
        i, s = tf.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + y), [tf.constant(0), tf.constant(0.0)])
        v.assign_add(s)
        return s

    assert float(f(tf.constant(1.5))) == 12.0 and float(f(tf.constant(-2.0))) == 8.0
    assert float(v) == 20.0 and f.experimental_get_tracing_count() == 1
    x = tf.constant(1.5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    assert float(tape.gradient(y, x)) == 8.0


def test_tfe_network_tracks_its_layers():
    import tideflow.contrib.eager as tfe

    class Net(tfe.Network):  # TF 1.4-1.7 eager programs build models so
        def __init__(self):
            super().__init__()
            self.hidden = self.track_layer(tf.layers.Dense(4, activation=tf.nn.relu))
            self.out = self.track_layer(tf.layers.Dense(2))

        def call(self, x):
            return self.out(self.hidden(x))

    net = Net()
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y = net(x)
    assert y.shape == (2, 2) and len(net.layers) == 2
    assert [tuple(v.shape) for v in net.trainable_variables] == [(3, 4), (4,), (4, 2), (2,)]
    w1, b1, w2, b2 = [v.numpy() for v in net.trainable_variables]
    np.testing.assert_allclose(y.numpy(), np.maximum(x @ w1 + b1, 0) @ w2 + b2, rtol=1e-5)
    grads = tfe.implicit_gradients(lambda: tf.reduce_sum(net(x)))()
    assert len(grads) == 4
    with pytest.raises(TypeError, match="not a tf.layers.Layer"):
        net.track_layer(object())
