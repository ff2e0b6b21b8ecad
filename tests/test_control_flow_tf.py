"""Control flow against TensorFlow 1.x (TF 2.x's compat.v1 with v1 control flow) where it is installed: the
huber-loss regression of seed article 001 written with tf.cond gives TensorFlow's loss curve, an RNN-style
while_loop trains like TensorFlow's, and errors have TensorFlow's types and messages."""
import numpy as np
import pytest

import tideflow as tf

tft = pytest.importorskip("tensorflow.compat.v1")
tft.disable_v2_behavior()
tft.disable_control_flow_v2()
tft.disable_resource_variables()


def huber_loss(tfm, label, prediction, delta=14.0):
    # The article's huber_loss1, unchanged apart from the module.
    residual = tfm.abs(label - prediction)

    def f1():
        return 0.5 * tfm.square(residual)

    def f2():
        return delta * residual - 0.5 * tfm.square(delta)
    return tfm.cond(residual < delta, f1, f2)


def huber_regression(tfm, data, epochs):
    """Article 001's training loop in graph mode: one example per step, plain SGD at 0.01."""
    g = tfm.Graph()
    with g.as_default():
        X = tfm.placeholder(tfm.float32, name="X")
        Y = tfm.placeholder(tfm.float32, name="Y")
        w = tfm.Variable(0.0, name="weights")
        b = tfm.Variable(0.0, name="bias")
        loss = huber_loss(tfm, Y, X * w + b)
        train = tfm.train.GradientDescentOptimizer(learning_rate=0.01).minimize(loss)
        curve = []
        with tfm.Session(graph=g) as sess:
            sess.run(tfm.global_variables_initializer())
            for _ in range(epochs):
                total = 0.0
                for x, y in data:
                    _, l = sess.run([train, loss], {X: x, Y: y})
                    total += l
                curve.append(total / len(data))
            return np.array(curve), sess.run([w, b])


def test_huber_regression_from_article_001_gives_tensorflows_loss_curve():
    rng = np.random.RandomState(0)
    birth = rng.uniform(1.0, 7.5, 60).astype(np.float32)  # shaped like the birth-rate/life-expectancy data
    life = (80.0 - 4.5 * birth + rng.randn(60) * 4.0).astype(np.float32)
    life[:4] -= 30.0  # outliers, so both branches of the cond run
    data = list(zip(birth, life))
    got, got_wb = huber_regression(tf, data, 15)
    want, want_wb = huber_regression(tft, data, 15)
    np.testing.assert_allclose(got, want, rtol=2e-4)
    np.testing.assert_allclose(got_wb, want_wb, rtol=2e-4)
    assert got[-1] < 0.7 * got[0]  # it learns


def rnn_training(tfm, xs, ys, steps):
    T, B, D = xs.shape
    H = ys.shape[1]
    g = tfm.Graph()
    with g.as_default():
        tfm.set_random_seed(0)
        X = tfm.placeholder(tfm.float32, [T, B, D])
        Y = tfm.placeholder(tfm.float32, [B, H])
        init = np.random.RandomState(5).randn(D + H, H).astype(np.float32) * 0.3

        def body(t, h):
            with tfm.variable_scope("cell", reuse=tfm.AUTO_REUSE):
                W = tfm.get_variable("W", initializer=init)
                b = tfm.get_variable("b", [H], initializer=tfm.zeros_initializer())
            return t + 1, tfm.tanh(tfm.matmul(tfm.concat([X[t], h], 1), W) + b)

        _, h = tfm.while_loop(lambda t, h: t < T, body, [tfm.constant(0), tfm.zeros([B, H])])
        loss = tfm.reduce_mean(tfm.square(h - Y))
        train = tfm.train.AdamOptimizer(0.05).minimize(loss)
        with tfm.Session(graph=g) as sess:
            sess.run(tfm.global_variables_initializer())
            return [sess.run([loss, train], {X: xs, Y: ys})[0] for _ in range(steps)]


def test_rnn_style_while_loop_trains_like_tensorflow():
    rng = np.random.RandomState(1)
    xs = rng.randn(6, 4, 3).astype(np.float32)
    ys = (rng.randn(4, 5) * 0.5).astype(np.float32)
    np.testing.assert_allclose(rnn_training(tf, xs, ys, 30), rnn_training(tft, xs, ys, 30), rtol=2e-3, atol=1e-5)


def errors_of(tfm):
    """The exception type and first line of each mistake, built in a fresh graph."""
    def first(f):
        g = tfm.Graph()
        with g.as_default():
            try:
                f()
            except Exception as e:  # noqa: BLE001 (comparing whatever is raised)
                return type(e).__name__ if type(e).__name__ in ("ValueError", "TypeError") else \
                    ("ValueError" if isinstance(e, ValueError) else type(e).__name__), str(e).split("\n")[0]
        return None

    def fetch_inside():
        x = tfm.placeholder(tfm.float32, [])
        inside = []
        tfm.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, inside.append(a * 2.0) or inside[0]),
                       [tfm.constant(0), x])
        tfm.Session().run(inside[0], {x: 1.0})

    def use_inside():
        inside = []
        tfm.while_loop(lambda i: i < 3, lambda i: inside.append(i + 1) or inside[0], [tfm.constant(0)])
        inside[0] * 2

    x = lambda: tfm.placeholder(tfm.float32, [], name="x")  # noqa: E731
    return [
        first(fetch_inside), first(use_inside),
        first(lambda: tfm.cond(True, lambda: 1.0, lambda: 2.0)),
        first(lambda: tfm.cond(x() > 0, lambda: 1.0, lambda: tfm.constant(2))),
        first(lambda: tfm.cond(x() > 0, lambda: None, lambda: 1.0)),
        first(lambda: tfm.cond(x() > 0, lambda: (1.0, 2.0), lambda: 2.0)),
        first(lambda: tfm.cond(x(), lambda: 1.0, lambda: 2.0)),
        first(lambda: tfm.while_loop(lambda i: i < 3, lambda i: tfm.concat([i, i], 0), [tfm.ones([2])])),
        first(lambda: tfm.while_loop(lambda i: i < 3, lambda i: i, [tfm.ones([2])],
                                     shape_invariants=[tfm.TensorShape([3])])),
        first(lambda: tfm.while_loop(lambda i: i, lambda i: i + 1, [tfm.constant(0)])),
        first(lambda: tfm.while_loop(lambda i: i < 3, lambda i: (i + 1, i), [tfm.constant(0)])),
        first(lambda: tfm.while_loop(lambda i: i < 3, lambda i: tfm.Variable(i) + 1, [tfm.constant(0)])),
        first(lambda: tfm.case([x() > 0], default=lambda: 2.0)),
    ]


def test_errors_match_tensorflow():
    got, want = errors_of(tf), errors_of(tft)
    for g, w in zip(got, want):
        assert g is not None and w is not None
        assert g[0] == w[0], (g, w)
        # TF 2.x writes some messages differently from TF 1.x; the part both share must match.
        assert g[1][:60] == w[1][:60] or g[1].replace("'", "")[:40] == w[1].replace("'", "")[:40], (g, w)
