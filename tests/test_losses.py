"""tf.losses and the tf.nn cross-entropies: stability at extreme logits, values against NumPy formulas
and TensorFlow 1.x (compat.v1, when installed), reductions, weights, scope names, the LOSSES collection."""
import numpy as np
import pytest

import tideflow as tf


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


def _run(fetches, feed=None):
    with tf.Session() as s:
        return s.run(fetches, feed)


EXTREME = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0], [1000.0, 1000.0, -1000.0]])


# ---- extreme logits: finite and exact ----

@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_softmax_cross_entropy_extreme_logits(dtype):
    labels = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0, 0, 1]])
    x = tf.placeholder(dtype, [3, 3])
    y = tf.placeholder(dtype, [3, 3])
    loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=x)
    gx, gy = tf.gradients(tf.reduce_sum(loss), [x, y])
    lv, gxv, gyv = _run([loss, gx, gy], {x: EXTREME, y: labels})
    assert np.all(np.isfinite(lv)) and np.all(np.isfinite(gxv)) and np.all(np.isfinite(gyv))
    np.testing.assert_allclose(lv, [0.0, 2000.0, 2000.0 + np.log(2)], rtol=1e-6)
    softmax = np.array([[1, 0, 0], [0, 0, 1], [0.5, 0.5, 0]])
    np.testing.assert_allclose(gxv, softmax - labels, atol=1e-6)
    log_softmax = np.array([[0, -2000, -1000], [-2000, -2000, 0], [-np.log(2), -np.log(2), -2000 - np.log(2)]])
    np.testing.assert_allclose(gyv, -log_softmax, rtol=1e-6)


def test_sparse_softmax_cross_entropy_extreme_logits():
    x = tf.placeholder(tf.float32, [3, 3])
    labels = tf.constant([1, 2, 0], dtype=tf.int64)
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x)
    g = tf.gradients(tf.reduce_sum(loss), x)[0]
    lv, gv = _run([loss, g], {x: EXTREME})
    np.testing.assert_allclose(lv, [2000.0, 0.0, np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(gv, [[1, -1, 0], [0, 0, 0], [-0.5, 0.5, 0]], atol=1e-6)


def test_sigmoid_cross_entropy_extreme_logits():
    x = tf.placeholder(tf.float32, [4])
    z = tf.constant([1.0, 0.0, 0.0, 1.0])
    loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    g = tf.gradients(tf.reduce_sum(loss), x)[0]
    lv, gv = _run([loss, g], {x: [1000.0, 1000.0, -1000.0, -1000.0]})
    np.testing.assert_allclose(lv, [0.0, 1000.0, 0.0, 1000.0])
    np.testing.assert_allclose(gv, [0.0, 1.0, 0.0, -1.0])


def test_softmax_and_log_softmax_extreme_logits():
    x = tf.constant(EXTREME, dtype=tf.float32)
    s, ls = _run([tf.nn.softmax(x), tf.nn.log_softmax(x)])
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(ls))
    np.testing.assert_allclose(s[2], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(ls[0], [0.0, -2000.0, -1000.0])


def test_losses_with_extreme_logits_are_finite():
    x = tf.constant(EXTREME)
    onehot = np.eye(3)
    losses = [tf.losses.softmax_cross_entropy(onehot, x), tf.losses.sparse_softmax_cross_entropy([0, 1, 2], x),
              tf.losses.sigmoid_cross_entropy(onehot, x)]
    grads = tf.gradients(tf.add_n(losses), x)
    vals = _run(losses + grads)
    assert all(np.all(np.isfinite(v)) for v in vals)
    np.testing.assert_allclose(vals[0], (0 + 2000 + 2000 + np.log(2)) / 3, rtol=1e-6)


# ---- errors ----

def test_label_out_of_range_is_invalid_argument():
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([0, 3]),
                                                          logits=np.zeros((2, 3), np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"label value of 3 .* valid range of \[0, 3\)"):
        _run(loss)


def test_named_arguments_are_required():
    with pytest.raises(ValueError, match="named arguments"):
        tf.nn.softmax_cross_entropy_with_logits([[1.0]], [[0.0]])


def test_cross_entropy_shape_errors():
    with pytest.raises(ValueError, match="Rank mismatch"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.placeholder(tf.int32, [2, 3]),
                                                       logits=tf.placeholder(tf.float32, [2, 3]))
    with pytest.raises(ValueError):
        tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.placeholder(tf.float32, [2, 4]),
                                                   logits=tf.placeholder(tf.float32, [2, 3]))
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        tf.losses.mean_squared_error([1.0], [1.0], reduction="bogus")
    with pytest.raises(ValueError, match="weights can not be broadcast"):
        tf.losses.mean_squared_error(np.ones((2, 3)), np.ones((2, 3)), weights=np.ones((3, 2)))


# ---- values against NumPy ----

def test_log_loss_matches_numpy_formula():
    rng = np.random.RandomState(0)
    labels = (rng.rand(4, 3) > 0.5).astype(np.float32)
    preds = rng.uniform(0.01, 0.99, (4, 3)).astype(np.float32)
    weights = rng.uniform(0, 2, (4, 1)).astype(np.float32)
    weights[1] = 0
    eps = 1e-7
    per = -labels * np.log(preds + eps) - (1 - labels) * np.log(1 - preds + eps)
    loss = tf.losses.log_loss(labels, preds, weights=weights)
    none = tf.losses.log_loss(labels, preds, reduction=tf.losses.Reduction.NONE)
    lv, nv = _run([loss, none])
    np.testing.assert_allclose(lv, (per * weights).sum() / 9, rtol=1e-5)  # 9 losses carry a non-zero weight
    np.testing.assert_allclose(nv, per, rtol=1e-5)
    assert loss.name == "log_loss/value:0" and loss.dtype == tf.float32


@pytest.mark.parametrize("reduction,expected", [
    ("none", lambda per, w: per * w),
    ("weighted_sum", lambda per, w: (per * w).sum()),
    ("weighted_mean", lambda per, w: (per * w).sum() / np.broadcast_to(w, per.shape).sum()),
    ("weighted_sum_over_batch_size", lambda per, w: (per * w).sum() / per.size),
    ("weighted_sum_by_nonzero_weights", lambda per, w: (per * w).sum() / np.count_nonzero(
        np.broadcast_to(w, per.shape))),
])
def test_reductions(reduction, expected):
    labels = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]], np.float32)
    preds = np.array([[1.5, 1.0], [3.0, 5.0], [2.0, 2.0]], np.float32)
    w = np.array([[1.0], [0.0], [2.0]], np.float32)
    got = _run(tf.losses.mean_squared_error(labels, preds, weights=w, reduction=reduction))
    np.testing.assert_allclose(got, expected((preds - labels) ** 2, w), rtol=1e-6)


def test_all_zero_weights_give_zero_not_nan():
    x = tf.placeholder(tf.float32, [3])
    loss = tf.losses.absolute_difference([1.0, 2.0, 3.0], x, weights=0.0)
    g = tf.gradients(loss, x)[0]
    lv, gv = _run([loss, g], {x: [0.0, 0.0, 0.0]})
    assert lv == 0.0 and np.all(gv == 0.0)


def test_huber_and_hinge_match_formulas():
    labels = np.array([0.0, 1.0, 1.0, 0.0], np.float32)
    preds = np.array([0.5, -1.0, 3.5, 2.0], np.float32)
    e = np.abs(preds - labels)
    huber = np.where(e <= 1, 0.5 * e ** 2, e - 0.5)
    hinge = np.maximum(0, 1 - (2 * labels - 1) * preds)
    h, hi = _run([tf.losses.huber_loss(labels, preds), tf.losses.hinge_loss(labels, preds)])
    np.testing.assert_allclose(h, huber.mean(), rtol=1e-6)
    np.testing.assert_allclose(hi, hinge.mean(), rtol=1e-6)


# ---- the LOSSES collection ----

def test_losses_join_the_collection_and_total_loss_sums_them():
    a = tf.losses.mean_squared_error([1.0, 2.0], [1.5, 2.5])
    b = tf.losses.absolute_difference([1.0, 2.0], [2.0, 2.0], loss_collection=None)
    c = tf.losses.log_loss([1.0], [0.5], scope="mine")
    assert tf.losses.get_losses() == [a, c]
    assert tf.get_collection(tf.GraphKeys.LOSSES) == [a, c]
    assert tf.losses.get_losses(scope="mine") == [c]
    tf.losses.add_loss(b)
    assert tf.losses.get_losses()[-1] is b
    total = tf.losses.get_total_loss()
    av, bv, cv, tv = _run([a, b, c, total])
    np.testing.assert_allclose(tv, av + bv + cv, rtol=1e-6)
    assert total.op.name == "total_loss"
    assert c.name.startswith("mine/")


def test_total_loss_includes_regularization_losses():
    r = tf.constant(0.25)
    tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, r)
    m = tf.losses.mean_squared_error([0.0], [1.0])
    assert _run(tf.losses.get_total_loss()) == pytest.approx(1.25)
    assert _run(tf.losses.get_total_loss(add_regularization_losses=False)) == pytest.approx(1.0)
    assert _run(tf.losses.get_regularization_loss()) == pytest.approx(0.25)
    del m


def test_total_loss_without_losses_is_value_error():
    with pytest.raises(ValueError, match="No losses found"):
        tf.losses.get_total_loss()


# ---- against TensorFlow 1.x ----

def _tf_and_ours(build, feeds):
    """Runs build(module) on TensorFlow compat.v1 and on tideflow; returns both results (value, grads...)."""
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    out = []
    for mod in (tf1, tf):
        with mod.Graph().as_default():
            phs = {k: mod.placeholder(mod.as_dtype(v.dtype), v.shape, name=k) for k, v in feeds.items()}
            fetches = build(mod, phs)
            with mod.Session() as s:
                out.append(s.run(fetches, {phs[k]: v for k, v in feeds.items()}))
    return out


def _compare(build, feeds, rtol=1e-5, atol=1e-6):
    theirs, ours = _tf_and_ours(build, feeds)
    for t, o in zip(theirs, ours):
        np.testing.assert_allclose(o, t, rtol=rtol, atol=atol)


_rng = np.random.RandomState(3)
_LOGITS = (_rng.randn(5, 4) * 3).astype(np.float32)
_ONEHOT = np.eye(4, dtype=np.float32)[[0, 3, 1, 1, 2]]
_W = np.array([1.0, 0.0, 2.0, 0.5, 1.0], np.float32)


def _with_grads(mod, loss, wrt):
    return [loss] + mod.gradients(loss, wrt)


def test_softmax_cross_entropy_loss_matches_tensorflow():
    _compare(lambda mod, p: _with_grads(mod, mod.losses.softmax_cross_entropy(
        p["y"], p["x"], weights=p["w"], label_smoothing=0.1), [p["x"]]),
        {"x": _LOGITS, "y": _ONEHOT, "w": _W})


def test_sparse_softmax_cross_entropy_loss_matches_tensorflow():
    _compare(lambda mod, p: _with_grads(mod, mod.losses.sparse_softmax_cross_entropy(
        p["y"], p["x"], weights=p["w"]), [p["x"]]),
        {"x": _LOGITS, "y": np.array([0, 3, 1, 1, 2], np.int32), "w": _W})


def test_sigmoid_cross_entropy_loss_matches_tensorflow():
    _compare(lambda mod, p: _with_grads(mod, mod.losses.sigmoid_cross_entropy(
        p["y"], p["x"], label_smoothing=0.2, reduction=mod.losses.Reduction.SUM_OVER_BATCH_SIZE), [p["x"]]),
        {"x": _LOGITS, "y": _ONEHOT})


@pytest.mark.parametrize("fn", ["log_loss", "mean_squared_error", "absolute_difference", "huber_loss"])
def test_regression_losses_match_tensorflow(fn):
    preds = _rng.uniform(0.05, 0.95, (5, 4)).astype(np.float32)
    labels = (_rng.rand(5, 4) > 0.5).astype(np.float32)
    _compare(lambda mod, p: _with_grads(mod, getattr(mod.losses, fn)(p["y"], p["p"], weights=p["w"]), [p["p"]]),
             {"p": preds, "y": labels, "w": _W[:, None]})


def test_nn_cross_entropies_match_tensorflow():
    def build(mod, p):
        a = mod.nn.softmax_cross_entropy_with_logits_v2(labels=p["y"], logits=p["x"])
        b = mod.nn.softmax_cross_entropy_with_logits(labels=p["y"], logits=p["x"], dim=0)
        c = mod.nn.sigmoid_cross_entropy_with_logits(labels=p["y"], logits=p["x"])
        d = mod.nn.log_softmax(p["x"], axis=0)
        total = mod.reduce_sum(a) + mod.reduce_sum(b) + mod.reduce_sum(c) + mod.reduce_sum(d * d)
        return [a, b, c, d] + mod.gradients(total, [p["x"], p["y"]])
    _compare(build, {"x": _LOGITS.astype(np.float64), "y": _ONEHOT.astype(np.float64) * 0.7 + 0.1}, rtol=1e-9)
def test_softmax_cross_entropy_casts_labels_to_the_logits_dtype():
    # One-hot labels often come as float64 NumPy arrays (the MNIST tutorial reader's); TF casts them.
    labels = np.eye(3)[[0, 2]]
    logits = tf.constant([[1., 2., 3.], [0., 0., 5.]], tf.float32)
    for fn in (tf.nn.softmax_cross_entropy_with_logits, tf.nn.softmax_cross_entropy_with_logits_v2):
        loss = fn(labels=tf.constant(labels), logits=logits)
        assert loss.dtype == tf.float32
        with tf.Session() as sess:
            x = np.array([[1., 2., 3.], [0., 0., 5.]])
            want = -(labels * (x - np.log(np.exp(x).sum(1, keepdims=True)))).sum(1)
            np.testing.assert_allclose(sess.run(loss), want, rtol=1e-6)
