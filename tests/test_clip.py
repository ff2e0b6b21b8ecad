"""tf.clip_by_value, clip_by_norm, global_norm, clip_by_global_norm against NumPy and TensorFlow."""
import numpy as np
import pytest

import tideflow as tf


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default():
        yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_by_value(dtype):
    x = np.linspace(-3, 3, 12).reshape(3, 4).astype(dtype)
    t = tf.constant(x)
    out = tf.clip_by_value(t, -1.0, 2.0)
    assert out.dtype == tf.as_dtype(dtype) and out.op.name == "clip_by_value"
    np.testing.assert_array_equal(_run(out), np.clip(x, -1, 2))
    lo = np.array([-2, -1, 0, 1], dtype)  # per-column bounds broadcast to t
    np.testing.assert_array_equal(_run(tf.clip_by_value(t, lo, lo + 1)), np.clip(x, lo, lo + 1))


def test_clip_by_value_rejects_bounds_that_broadcast_t():
    t = tf.constant(np.ones(3, np.float32))
    with pytest.raises(ValueError, match="shape"):
        tf.clip_by_value(t, np.zeros((2, 3), np.float32), 1.0)


def test_clip_by_value_gradient_passes_inside_only():
    x = tf.constant(np.array([-2.0, -0.5, 0.5, 3.0], np.float64))
    g, = tf.gradients(tf.reduce_sum(tf.clip_by_value(x, -1.0, 1.0)), [x])
    np.testing.assert_array_equal(_run(g), [0, 1, 1, 0])


@pytest.mark.parametrize("axes", [None, [1], [0]])
def test_clip_by_norm(axes):
    x = np.random.RandomState(0).normal(size=(3, 4)).astype(np.float32) * 3
    out = tf.clip_by_norm(tf.constant(x), 2.0, axes=axes)
    norm = np.sqrt((x * x).sum(axis=None if axes is None else tuple(axes), keepdims=True))
    np.testing.assert_allclose(_run(out), x * 2.0 / np.maximum(norm, 2.0), rtol=1e-6)
    assert out.op.name.startswith("clip_by_norm")


def test_clip_by_norm_leaves_small_and_zero_tensors_alone_with_finite_gradient():
    x = tf.constant(np.array([0.3, 0.4], np.float64))
    z = tf.constant(np.zeros(3, np.float64))
    small = tf.clip_by_norm(x, 1.0)
    zero = tf.clip_by_norm(z, 1.0)
    gz, = tf.gradients(tf.reduce_sum(zero), [z])
    a, b, c = _run([small, zero, gz])
    np.testing.assert_allclose(a, [0.3, 0.4])
    np.testing.assert_array_equal(b, np.zeros(3))
    assert np.all(np.isfinite(c))


def test_global_norm_and_clip_by_global_norm():
    rng = np.random.RandomState(1)
    xs = [rng.normal(size=(2, 3)).astype(np.float32), rng.normal(size=(4,)).astype(np.float32)]
    ts = [tf.constant(x) for x in xs]
    norm = np.sqrt(sum((x * x).sum() for x in xs))
    gn = tf.global_norm(ts + [None])
    assert gn.op.name == "global_norm/global_norm"
    np.testing.assert_allclose(_run(gn), norm, rtol=1e-6)
    clipped, n = tf.clip_by_global_norm([ts[0], None, ts[1]], 1.0)
    assert clipped[1] is None
    c0, c2, nv = _run([clipped[0], clipped[2], n])
    np.testing.assert_allclose(nv, norm, rtol=1e-6)
    np.testing.assert_allclose(c0, xs[0] / norm, rtol=1e-5)
    np.testing.assert_allclose(c2, xs[1] / norm, rtol=1e-5)
    big, _ = tf.clip_by_global_norm(ts, 100.0)  # below the clip: unchanged
    r = _run(big)
    np.testing.assert_allclose(r[0], xs[0], rtol=1e-6)
    given, n2 = tf.clip_by_global_norm(ts, 1.0, use_norm=tf.constant(np.float32(2.0)))
    np.testing.assert_allclose(_run(given)[1], xs[1] / 2.0, rtol=1e-6)


def test_clip_by_global_norm_with_infinite_norm_gives_nan():
    t = tf.constant(np.array([1.0, np.inf], np.float32))
    clipped, n = tf.clip_by_global_norm([t], 1.0)
    c, nv = _run([clipped[0], n])
    assert np.isinf(nv) and np.all(np.isnan(c))


def test_clip_argument_errors():
    with pytest.raises(TypeError, match="sequence"):
        tf.clip_by_global_norm(tf.constant(1.0), 1.0)
    with pytest.raises(TypeError, match="sequence"):
        tf.global_norm("abc")


def test_clip_matches_tensorflow():
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    rng = np.random.RandomState(2)
    xs = [rng.normal(size=(3, 5)) * 4, rng.normal(size=(5,))]

    def build(t):
        ts = [t.constant(x) for x in xs]
        clipped, n = t.clip_by_global_norm(ts, 2.5)
        return [t.clip_by_value(ts[0], -0.5, 0.7), t.clip_by_norm(ts[0], 1.5, axes=[0]), n] + clipped

    with tf1.Graph().as_default() as g:
        want = tf1.Session(graph=g).run(build(tf1))
    got = _run(build(tf))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_training_with_clipped_gradients():
    """The usual pattern: compute_gradients, clip_by_global_norm, apply_gradients."""
    theta = tf.Variable(np.array([3.0, 4.0], np.float32), name="theta")
    loss = tf.reduce_sum(theta * theta)
    opt = tf.train.GradientDescentOptimizer(0.1)
    grads, variables = zip(*opt.compute_gradients(loss))
    clipped, norm = tf.clip_by_global_norm(grads, 1.0)
    train = opt.apply_gradients(zip(clipped, variables))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        n, _ = sess.run([norm, train])
        np.testing.assert_allclose(n, 10.0, rtol=1e-6)
        np.testing.assert_allclose(sess.run(theta), [3.0 - 0.06, 4.0 - 0.08], rtol=1e-6)
