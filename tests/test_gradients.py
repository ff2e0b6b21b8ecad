"""tf.gradients: the rules of the op table are checked numerically in test_ops_gradients.py; this file
checks the driver: lists, None results, second order, stop_gradient, pruning, and errors."""
import numpy as np
import pytest

import tideflow as tf
from tideflow.framework import ops as _ops


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def run(t, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(t, feed)


def test_lists_sums_and_unconnected():
    x = tf.placeholder(tf.float32, [3])
    z = tf.placeholder(tf.float32, [3])
    y1 = tf.reduce_sum(x * x)
    y2 = tf.reduce_sum(3.0 * x)
    gx, gz = tf.gradients([y1, y2], [x, z])
    assert gz is None
    xv = np.array([1.0, 2.0, -1.0], np.float32)
    np.testing.assert_allclose(run(gx, {x: xv}), 2 * xv + 3)
    (single,) = tf.gradients(y1, x)
    np.testing.assert_allclose(run(single, {x: xv}), 2 * xv)


def test_grad_ys_scales_and_fan_in_sums():
    x = tf.placeholder(tf.float32, [2])
    a = x * 2.0
    y = a + a * a  # a used twice: contributions summed (AddN)
    (g,) = tf.gradients(y, x, grad_ys=tf.constant([1.0, 10.0]))
    xv = np.array([1.0, 3.0], np.float32)
    np.testing.assert_allclose(run(g, {x: xv}), np.array([1.0, 10.0]) * (2 + 8 * xv))


def test_integer_and_bool_paths_are_none():
    i = tf.placeholder(tf.int32, [2])
    f = tf.cast(i, tf.float32)
    y = tf.reduce_sum(f * f)
    assert tf.gradients(y, i) == [None]
    x = tf.placeholder(tf.float32, [2])
    cond = x > 0.0
    assert tf.gradients(tf.reduce_sum(tf.cast(cond, tf.float32)), x) == [None]


def test_broadcasting_undone():
    a = tf.placeholder(tf.float64, [2, 3])
    b = tf.placeholder(tf.float64, [3])
    c = tf.placeholder(tf.float64, [])
    ga, gb, gc = tf.gradients(tf.reduce_sum(a * b + c), [a, b, c])
    assert gb.shape.as_list() == [3] and gc.shape.as_list() == []
    av, bv = np.arange(6.0).reshape(2, 3), np.array([1.0, 2.0, 3.0])
    ra, rb, rc = run([ga, gb, gc], {a: av, b: bv, c: 1.0})
    np.testing.assert_allclose(ra, np.broadcast_to(bv, (2, 3)))
    np.testing.assert_allclose(rb, av.sum(0))
    assert rc == 6.0


def test_second_derivative_of_cube_is_6x():
    x = tf.placeholder(tf.float64, [4])
    (d1,) = tf.gradients(tf.reduce_sum(x ** 3), x)
    (d2,) = tf.gradients(d1, x)
    xv = np.array([-2.0, 0.5, 1.0, 3.0])
    r1, r2 = run([d1, d2], {x: xv})
    np.testing.assert_allclose(r1, 3 * xv ** 2)
    np.testing.assert_allclose(r2, 6 * xv)


def test_hessian_vector_product():
    rng = np.random.RandomState(0)
    A = rng.rand(3, 3)
    A = A + A.T
    x = tf.placeholder(tf.float64, [3])
    v = tf.placeholder(tf.float64, [3])
    # f(x) = 0.5 x^T A x + sum(sin(x)): H = A - diag(sin(x))
    f = 0.5 * tf.reduce_sum(x * tf.squeeze(tf.matmul(tf.constant(A), tf.expand_dims(x, 1)))) + \
        tf.reduce_sum(tf.sin(x))
    (g,) = tf.gradients(f, x)
    (hv,) = tf.gradients(tf.reduce_sum(g * tf.stop_gradient(v)), x)
    xv, vv = rng.rand(3), rng.rand(3)
    np.testing.assert_allclose(run(hv, {x: xv, v: vv}), (A - np.diag(np.sin(xv))) @ vv, rtol=1e-10)
    (h,) = tf.hessians(f, x)
    np.testing.assert_allclose(run(h, {x: xv}), A - np.diag(np.sin(xv)), rtol=1e-10)


def test_second_derivative_of_affine_is_none_or_zero():
    x = tf.constant([[1.0, 2.0]])
    w = tf.Variable([[0.5], [0.25]])
    b = tf.Variable([0.1])
    y = tf.matmul(x, w) + b
    (gw,) = tf.gradients(y, w)
    (gww,) = tf.gradients(gw, w)
    assert gww is None or np.all(run(gww) == 0)
    np.testing.assert_allclose(run(gw), [[1.0], [2.0]])


def test_stop_gradient_and_stop_gradients_argument():
    x = tf.placeholder(tf.float32, [])
    a = x * x
    y = a + tf.stop_gradient(a) * x
    (g,) = tf.gradients(y, x)
    assert run(g, {x: 3.0}) == pytest.approx(2 * 3 + 9)
    (g2,) = tf.gradients(y, x, stop_gradients=[a])  # a held constant: dy/dx = a
    assert run(g2, {x: 3.0}) == pytest.approx(9)


def test_gradients_of_variables_and_names():
    w = tf.Variable(2.0, name="w")
    loss = w * w
    (g,) = tf.gradients(loss, [w])
    assert g.op.name.startswith("gradients/")
    assert run(g) == 4.0
    (g_again,) = tf.gradients(loss, [w])
    assert g_again.op.name.startswith("gradients_1/")


def test_backward_pass_only_builds_nodes_between_xs_and_ys():
    x = tf.placeholder(tf.float32, [2])
    side = tf.constant([1.0, 2.0])
    for _ in range(50):  # a long branch that does not depend on x
        side = tf.sin(side) + 1.0
    y = tf.reduce_sum(x * 2.0 + side)
    before = len(tf.get_default_graph().get_operations())
    (g,) = tf.gradients(y, x)
    added = len(tf.get_default_graph().get_operations()) - before
    assert added < 20, added
    np.testing.assert_allclose(run(g, {x: [1.0, 1.0]}), [2.0, 2.0])


def test_every_op_has_a_rule_or_is_marked_not_differentiable():
    # The driver raises LookupError naming the op and its type when it meets an op with neither. Only the
    # ops TensorFlow itself leaves without a gradient may be in that state (LSTMBlockCellGradFused does the
    # work of TF's LSTMBlockCellGrad, which has none).
    from tideflow import _core
    missing = [n for n in _core.registered_ops() if _core.op_gradient_kind(n) == "missing"]
    assert sorted(missing) == ["LRNGrad", "LSTMBlockCellGradFused", "TruncateMod"]
    assert _core.op_gradient_kind("MatMul") == "rule" and _core.op_gradient_kind("Equal") == "none"


def test_non_differentiable_ops_give_none():
    v = tf.Variable([1.0, 2.0], name="v")
    delta = tf.placeholder(tf.float32, [2], name="delta")
    upd = _ops.apply1("ApplyGradientDescent", [v._variable, tf.constant(0.1), delta], name="apply_gd")
    assert tf.gradients(upd, delta) == [None]
    assert tf.gradients(tf.argmax(delta), delta) == [None]


def test_gradient_checker_through_session():
    x = tf.placeholder(tf.float64, [2, 3])
    y = tf.reduce_sum(tf.tanh(x) * tf.exp(x), axis=1)
    with tf.Session():
        err = tf.test.compute_gradient_error(x, [2, 3], y, [2],
                                             x_init_value=np.random.RandomState(0).rand(2, 3))
    assert err < 1e-6


# ---- gradients written in Python: RegisterGradient, gradient_override_map, custom_gradient ----

def test_override_with_another_ops_rule_straight_through():
    x = tf.placeholder(tf.float32, [3])
    with tf.get_default_graph().gradient_override_map({"Round": "Identity"}):
        r = tf.round(x * 2.0)
    plain = tf.round(x)
    assert tf.gradients(tf.reduce_sum(plain), x)[0] is None  # Round itself is not differentiable
    np.testing.assert_allclose(run(tf.gradients(tf.reduce_sum(r), x)[0], {x: [0.3, 1.0, 2.0]}), [2.0] * 3)


def test_registered_python_gradient_and_its_errors():
    @tf.RegisterGradient("TestTimesTwentySquare")
    def _grad(op, grad):
        assert op.type == "Square" and op.name == "Square"
        return grad * 20.0 * op.inputs[0]

    with pytest.raises(KeyError, match="Registering two gradient with name 'TestTimesTwentySquare'"):
        tf.RegisterGradient("TestTimesTwentySquare")(_grad)
    with pytest.raises(KeyError, match="C\\+\\+ core"):
        tf.RegisterGradient("Square")(_grad)
    x = tf.placeholder(tf.float32, [3])
    with tf.get_default_graph().gradient_override_map({"Square": "TestTimesTwentySquare"}):
        sq = tf.square(x)
    outside = tf.square(x)  # created after the context: its own rule
    g_sq, g_out = tf.gradients(tf.reduce_sum(sq), x)[0], tf.gradients(tf.reduce_sum(outside), x)[0]
    assert g_sq.name.startswith("gradients/Square_grad/")
    np.testing.assert_allclose(run([g_sq, g_out], {x: [0.3, 1.0, 2.0]}), [[6.0, 20.0, 40.0], [0.6, 2.0, 4.0]],
                               rtol=1e-6)


def test_override_errors_and_not_differentiable():
    tf.NotDifferentiable("TestNoGrad")

    @tf.RegisterGradient("TestTwoGrads")
    def _two(op, grad):
        return grad, grad

    x = tf.placeholder(tf.float32, [2])
    g = tf.get_default_graph()
    with g.gradient_override_map({"Exp": "TestNoGrad", "Log": "TestTwoGrads", "Sin": "TestUnregistered"}):
        e, lg, s = tf.exp(x), tf.log(x), tf.sin(x)
    assert tf.gradients(tf.reduce_sum(e), x)[0] is None
    with pytest.raises(ValueError, match="Num gradients 2 generated for op Log do not match num inputs 1"):
        tf.gradients(tf.reduce_sum(lg), x)
    with pytest.raises(LookupError, match="No gradient defined for operation 'Sin' \\(op type: TestUnregistered\\)"):
        tf.gradients(tf.reduce_sum(s), x)
    with pytest.raises(TypeError, match="dictionary"):
        with g.gradient_override_map([("Exp", "x")]):
            pass


def test_custom_gradient_stable_log1pexp_and_reversal():
    @tf.custom_gradient
    def log1pexp(v):
        e = tf.exp(v)

        def grad(dy):
            return dy * (1 - 1 / (1 + e))
        return tf.log(1 + e), grad

    @tf.custom_gradient
    def reverse(v):
        return tf.identity(v), lambda dy: -dy

    x = tf.placeholder(tf.float32, [3])
    gl = tf.gradients(tf.reduce_sum(log1pexp(x * 50.0)), x)[0]
    gr = tf.gradients(tf.reduce_sum(reverse(x) * 2.0 + x), x)[0]
    got_l, got_r = run([gl, gr], {x: [0.3, 1.0, 2.0]})
    # The custom rule at 50x; autodiff of log(1 + exp) would give NaN for the large inputs.
    np.testing.assert_allclose(got_l, 50 * (1 - 1 / (1 + np.exp(np.float64([15, 50, 100])))), rtol=1e-6)
    np.testing.assert_allclose(got_r, [-1.0, -1.0, -1.0])


def test_custom_gradient_with_variables():
    w = tf.Variable([1.0, 2.0, 3.0], name="w")

    @tf.custom_gradient
    def scaled(v):
        def grad(dy, variables=None):
            assert [var.op.name for var in variables] == ["w"]
            return dy * 3.0, [dy * 7.0]
        return v * w, grad

    @tf.custom_gradient
    def forgets_variables(v):
        return v * w, lambda dy: dy

    x = tf.placeholder(tf.float32, [3])
    y = scaled(x)
    gx, gw = tf.gradients(tf.reduce_sum(y), [x, w])
    got = run([y, gx, gw], {x: [0.5, 1.0, 2.0]})
    np.testing.assert_allclose(got, [[0.5, 2.0, 6.0], [3.0] * 3, [7.0] * 3])
    with pytest.raises(TypeError, match="grad_fn must accept a keyword argument 'variables'"):
        forgets_variables(x)
