"""Convolutions, pooling, dropout and normalization beyond the op table: TensorFlow's values and graphs
(where TensorFlow is installed), build-time validation errors, NaN in max pooling, dropout's statistics
and seeds, run-to-run determinism of the threaded kernels."""
import numpy as np
import pytest

import tideflow as tf


def _run(mod, build, arrays, graph_seed=None):
    """Builds build(mod, *constants) in a fresh graph of framework `mod` and returns the fetched values."""
    g = mod.Graph()
    with g.as_default():
        if graph_seed is not None:
            mod.set_random_seed(graph_seed)
        outs = build(mod, *[mod.constant(a) for a in arrays])
        with mod.Session() as sess:
            return sess.run(list(outs))


@pytest.fixture(scope="module")
def tf1():
    v1 = pytest.importorskip("tensorflow.compat.v1")
    v1.disable_eager_execution()
    v1.disable_resource_variables()
    return v1


def _same_as_tf(tf1, build, arrays, rtol=1e-4, atol=1e-5, graph_seed=None):
    ours = _run(tf, build, arrays, graph_seed)
    theirs = _run(tf1, build, arrays, graph_seed)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    return ours


R = np.random.RandomState(7)


def _f(*shape):
    return R.uniform(-1, 1, size=shape).astype(np.float32)


# ---- TensorFlow's values, gradients included ----

CONV_CASES = [
    # (input shape, filter shape, strides, padding, data_format, dilations)
    ((2, 7, 6, 3), (3, 3, 3, 4), [1, 2, 2, 1], "SAME", "NHWC", [1, 1, 1, 1]),  # asymmetric SAME padding
    ((1, 8, 8, 2), (2, 4, 2, 3), [1, 1, 3, 1], "SAME", "NHWC", [1, 1, 1, 1]),  # even filter sizes
    ((2, 9, 7, 2), (3, 2, 2, 5), [1, 1, 1, 1], "VALID", "NHWC", [1, 2, 3, 1]),
    ((2, 3, 6, 7), (3, 3, 3, 4), [1, 1, 2, 1], "SAME", "NCHW", [1, 1, 1, 1]),
    ((1, 6, 6, 16), (3, 3, 16, 32), [1, 1, 1, 1], "SAME", "NHWC", [1, 1, 1, 1]),  # the implicit-patch kernels
    ((2, 11, 9, 16), (5, 5, 16, 8), [1, 2, 1, 1], "SAME", "NHWC", [1, 1, 1, 1]),
    ((1, 5, 6, 2), (3, 3, 2, 2), [1, 1, 1, 1], [[0, 0], [2, 1], [0, 3], [0, 0]], "NHWC", [1, 1, 1, 1]),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=[str(i) for i in range(len(CONV_CASES))])
def test_conv2d_and_its_gradients_match_tensorflow(tf1, case):
    xs, ws, strides, padding, fmt, dil = case
    x, w = _f(*xs), _f(*ws)

    def build(m, x, w):
        y = m.nn.conv2d(x, w, strides, padding, data_format=fmt, dilations=dil)
        gy = m.constant(np.cos(np.arange(np.prod(y.shape.as_list()))).reshape(y.shape.as_list()).astype(np.float32))
        return [y] + m.gradients(y, [x, w], grad_ys=gy)
    _same_as_tf(tf1, build, [x, w], rtol=1e-4, atol=1e-4)


def test_depthwise_separable_transpose_3d_match_tensorflow(tf1):
    x, dw, pw = _f(2, 7, 6, 3), _f(3, 3, 3, 2), _f(1, 1, 6, 5)
    x3, w3 = _f(1, 5, 4, 6, 2), _f(2, 3, 2, 2, 3)
    xt, wt = _f(2, 4, 3, 5), _f(3, 3, 2, 5)

    def build(m, x, dw, pw, x3, w3, xt, wt):
        d = m.nn.depthwise_conv2d(x, dw, [1, 2, 2, 1], "SAME")
        s = m.nn.separable_conv2d(x, dw, pw, [1, 1, 1, 1], "VALID")
        c3 = m.nn.conv3d(x3, w3, [1, 2, 1, 2, 1], "SAME")
        t = m.nn.conv2d_transpose(xt, wt, [2, 8, 6, 2], [1, 2, 2, 1], "SAME")
        a = m.nn.atrous_conv2d(x, _const(m, dw[..., :1] * 0 + 1, (3, 3, 3, 4)), 2, "SAME")
        c1 = m.nn.conv1d(x[:, 0], _const(m, None, (3, 3, 4)), 2, "SAME")
        return [d, s, c3, t, a, c1] + m.gradients([m.reduce_sum(d * d), m.reduce_sum(s), m.reduce_sum(c3 * c3),
                                                   m.reduce_sum(t * t)], [x, dw, pw, x3, w3, xt, wt])
    _same_as_tf(tf1, build, [x, dw, pw, x3, w3, xt, wt], rtol=1e-4, atol=1e-4)


def _const(m, _, shape):
    return m.constant(np.sin(np.arange(np.prod(shape))).reshape(shape).astype(np.float32))


POOL_CASES = [
    ([1, 3, 3, 1], [1, 2, 2, 1], "SAME", "NHWC", (2, 7, 6, 3)),
    ([1, 2, 2, 1], [1, 2, 2, 1], "VALID", "NHWC", (2, 5, 7, 4)),
    ([1, 1, 3, 2], [1, 1, 1, 2], "SAME", "NCHW", (2, 3, 5, 6)),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=[str(i) for i in range(len(POOL_CASES))])
def test_pooling_and_gradients_match_tensorflow(tf1, case):
    ksize, strides, padding, fmt, shape = case
    x = R.permutation(np.prod(shape)).reshape(shape).astype(np.float32) / 10  # no ties

    def build(m, x):
        mp = m.nn.max_pool(x, ksize, strides, padding, data_format=fmt)
        ap = m.nn.avg_pool(x, ksize, strides, padding, data_format=fmt)
        gy = m.constant(np.cos(np.arange(np.prod(mp.shape.as_list()))).reshape(mp.shape.as_list()).astype(np.float32))
        return [mp, ap] + m.gradients(mp, x, grad_ys=gy) + m.gradients(ap, x, grad_ys=gy)
    _same_as_tf(tf1, build, [x])


def test_pool_3d_and_argmax_match_tensorflow(tf1):
    x3 = R.permutation(2 * 4 * 5 * 6 * 2).reshape(2, 4, 5, 6, 2).astype(np.float32)
    x = R.permutation(2 * 5 * 7 * 3).reshape(2, 5, 7, 3).astype(np.float32)

    def build(m, x3, x):
        mp = m.nn.max_pool3d(x3, [1, 2, 2, 3, 1], [1, 2, 1, 2, 1], "SAME")
        ap = m.nn.avg_pool3d(x3, [1, 2, 3, 2, 1], [1, 1, 2, 2, 1], "VALID")
        out, idx = m.nn.max_pool_with_argmax(x, [1, 2, 3, 1], [1, 2, 2, 1], "SAME")
        _, idx_b = m.nn.max_pool_with_argmax(x, [1, 2, 2, 1], [1, 1, 1, 1], "VALID", include_batch_in_index=True)
        return [mp, ap, out, idx, idx_b] + m.gradients([m.reduce_sum(mp * mp), m.reduce_sum(ap * ap)], x3) + \
            m.gradients(m.reduce_sum(out * out), x)
    _same_as_tf(tf1, build, [x3, x])


def test_normalization_and_bias_match_tensorflow(tf1):
    x, s, o = _f(4, 3, 5, 6), _f(6) + 2, _f(6)
    xc = _f(3, 6, 4, 2)
    mean, var = _f(6), _f(6) + 1.5

    def build(m, x, s, o, xc, mean, var):
        y, bm, bv = m.nn.fused_batch_norm(x, s, o, epsilon=1e-3)
        yc, _, _ = m.nn.fused_batch_norm(xc, s, o, data_format="NCHW")
        yi, _, _ = m.nn.fused_batch_norm(x, s, o, mean, var, epsilon=1e-3, is_training=False)
        bn = m.nn.batch_normalization(x, mean, var, o, s, 1e-3)
        lrn = m.nn.lrn(x, depth_radius=2, bias=1.2, alpha=0.5, beta=0.75)
        ba = m.nn.bias_add(xc, o, data_format="NCHW")
        loss = m.reduce_sum(y * y * x) + m.reduce_sum(yc * xc) + m.reduce_sum(yi * yi) + m.reduce_sum(lrn * x) + \
            m.reduce_sum(ba * ba)
        return [y, bm, bv, yc, yi, bn, lrn, ba] + m.gradients(loss, [x, s, o, xc])
    _same_as_tf(tf1, build, [x, s, o, xc, mean, var], rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_second_order_matches_tensorflow(tf1, training):
    x, s, o, wt = _f(3, 2, 3, 4), _f(4) + 2, _f(4), _f(3, 2, 3, 4)
    mean, var = _f(4), _f(4) + 1.5

    def build(m, x, s, o, wt, mean, var):
        if training:
            y = m.nn.fused_batch_norm(x, s, o, epsilon=1e-3)[0]
        else:
            y = m.nn.fused_batch_norm(x, s, o, mean, var, epsilon=1e-3, is_training=False)[0]
        gx, gs, go = m.gradients(m.reduce_sum(y * y * wt), [x, s, o])
        return m.gradients(m.reduce_sum(gx * gx * wt) + m.reduce_sum(gs * gs) + m.reduce_sum(go * s), [x, s, o])
    _same_as_tf(tf1, build, [x, s, o, wt, mean, var], rtol=1e-3, atol=1e-3)


def test_dropout_draws_tensorflows_masks(tf1):
    """Same graph seed and op seed: the same kept elements as TensorFlow (Philox numbers are TF's)."""
    x = np.ones((6, 50), np.float32)

    def build(m, x):
        return [m.nn.dropout(x, keep_prob=0.7, seed=5), m.nn.dropout(x, rate=0.25, noise_shape=[1, 50], seed=9),
                m.nn.dropout(x * 2, 0.5)]
    ours = _same_as_tf(tf1, build, [x], graph_seed=123)
    assert 0 < (ours[0] == 0).mean() < 0.6


def test_gradient_graphs_use_tensorflows_op_types():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 8, 8, 3])
        w = tf.get_variable("w", [3, 3, 3, 4])
        b = tf.get_variable("b", [4])
        h = tf.nn.bias_add(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME"), b)
        h = tf.nn.lrn(tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"))
        h = tf.nn.avg_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
        h, _, _ = tf.nn.fused_batch_norm(h, tf.ones([4]), tf.zeros([4]))
        h = tf.nn.depthwise_conv2d(h, tf.ones([1, 1, 4, 2]), [1, 1, 1, 1], "SAME")
        gx, gw = tf.gradients(tf.reduce_sum(h), [x, w])
        types = [o.type for o in g.get_operations()]
        for t in ("Conv2D", "BiasAdd", "MaxPool", "LRN", "AvgPool", "FusedBatchNormV3", "DepthwiseConv2dNative",
                  "Conv2DBackpropInput", "Conv2DBackpropFilter", "BiasAddGrad", "MaxPoolGrad", "LRNGrad",
                  "AvgPoolGrad", "FusedBatchNormGradV3", "DepthwiseConv2dNativeBackpropInput"):
            assert t in types, t
        assert gx.op.type == "Conv2DBackpropInput" and gw.op.type == "Conv2DBackpropFilter"
        assert gx.shape.as_list() == [2, 8, 8, 3] and gw.shape.as_list() == [3, 3, 3, 4]
        # second order: the gradient of a gradient is built from the forward ops again
        y = tf.nn.max_pool(tf.nn.conv2d(x, w, [1, 2, 2, 1], "SAME"), [1, 2, 2, 1], [1, 1, 1, 1], "SAME")
        gw2 = tf.gradients(tf.reduce_sum(y * y), w)[0]
        hess = tf.gradients(tf.reduce_sum(gw2 * gw2), x)[0]
        assert hess.shape.as_list() == [2, 8, 8, 3]
        # TensorFlow has no gradient for LRNGrad either
        with pytest.raises(LookupError, match="LRNGrad"):
            tf.gradients(tf.reduce_sum(tf.gradients(tf.reduce_sum(tf.nn.lrn(x)), x)[0]), x)


def test_names_and_static_shapes():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 28, 28, 1])
        y = tf.nn.conv2d(x, tf.zeros([5, 5, 1, 32]), [1, 1, 1, 1], "SAME")
        assert y.op.name == "Conv2D" and y.shape.as_list() == [None, 28, 28, 32]
        p = tf.nn.max_pool(y, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        assert p.op.name == "MaxPool" and p.shape.as_list() == [None, 14, 14, 32]
        t = tf.nn.conv2d_transpose(p, tf.zeros([3, 3, 8, 32]), [4, 27, 27, 8], [1, 2, 2, 1], "SAME", name="up")
        assert t.op.name == "up" and t.op.type == "Conv2DBackpropInput" and t.shape.as_list() == [4, 27, 27, 8]
        d = tf.nn.dropout(p, keep_prob=0.5)
        assert d.op.name.startswith("dropout/") and d.shape.as_list() == [None, 14, 14, 32]
        c1 = tf.nn.conv1d(tf.zeros([2, 10, 3]), tf.zeros([3, 3, 4]), 2, "VALID")
        assert c1.shape.as_list() == [2, 4, 4] and c1.op.name.startswith("conv1d")
        v = tf.nn.conv3d(tf.zeros([1, 4, 5, 6, 2]), tf.zeros([2, 2, 2, 2, 3]), [1, 1, 2, 3, 1], "SAME")
        assert v.shape.as_list() == [1, 4, 3, 2, 3]


# ---- validation: ValueError at the line that builds the node, naming it ----

@pytest.mark.parametrize("build, match", [
    (lambda: tf.nn.conv2d(tf.zeros([1, 5, 5, 3]), tf.zeros([3, 3, 3, 2]), [2, 1, 1, 1], "SAME"),
     "strides in the batch and depth"),
    (lambda: tf.nn.conv2d(tf.zeros([1, 5, 5, 3]), tf.zeros([3, 3, 3, 2]), [1, 0, 1, 1], "SAME"), "strides"),
    (lambda: tf.nn.conv2d(tf.zeros([1, 5, 5, 3]), tf.zeros([3, 3, 3, 2]), [1, 1, 1, 1], "same"),
     "attr 'padding' of \"same\""),
    (lambda: tf.nn.conv2d(tf.zeros([1, 5, 5, 3]), tf.zeros([3, 3, 4, 2]), [1, 1, 1, 1], "SAME"),
     "Dimensions must be equal, but are 3 and 4"),
    (lambda: tf.nn.conv2d(tf.zeros([1, 5, 5, 3]), tf.zeros([3, 3, 3, 2]), [1, 1, 1, 1], "SAME", data_format="NWHC"),
     "data_format"),
    (lambda: tf.nn.conv2d(tf.zeros([1, 1, 4, 3]), tf.zeros([3, 3, 3, 2]), [1, 1, 1, 1], "VALID"),
     "Computed output size would be negative"),
    (lambda: tf.nn.conv2d(tf.zeros([5, 5, 3]), tf.zeros([3, 3, 3, 2]), [1, 1, 1, 1], "VALID"), "rank 4"),
    (lambda: tf.nn.conv2d(tf.zeros([1, 5, 5, 3]), tf.zeros([3, 3, 3, 2]), [1, 1, 1, 1], "SAME",
                          dilations=[2, 1, 1, 1]), "dilations in the batch and depth"),
    (lambda: tf.nn.conv2d(tf.zeros([1, 5, 5, 3]), tf.zeros([3, 3, 3, 2]), [1, 1, 1, 1],
                          [[0, 0], [1, 1], [-1, 0], [0, 0]]), "nonnegative"),
    (lambda: tf.nn.max_pool(tf.zeros([1, 5, 5, 3]), [2, 2, 2, 1], [1, 1, 1, 1], "SAME"), "batch"),
    (lambda: tf.nn.max_pool(tf.zeros([1, 5, 5, 3]), [1, 2, 2, 1], [1, 1, 1, 1], "FULL"), "padding"),
    (lambda: tf.nn.avg_pool(tf.zeros([1, 5, 5, 3]), [1, 2, 2, 1, 1], [1, 1, 1, 1], "SAME"), "ksize"),
    (lambda: tf.nn.max_pool(tf.zeros([1, 5, 5, 3]), [1, 0, 2, 1], [1, 1, 1, 1], "SAME"), "ksize cannot be zero"),
    (lambda: tf.nn.max_pool(tf.zeros([1, 5, 5]), [1, 2, 2, 1], [1, 1, 1, 1], "SAME"), "rank 4"),
    (lambda: tf.nn.conv2d_backprop_input([1, 5, 5, 3], tf.zeros([3, 3, 3, 2]), tf.zeros([1, 4, 5, 2]), [1, 1, 1, 1],
                                         "SAME"), "out_backprop"),
    (lambda: tf.nn.depthwise_conv2d(tf.zeros([1, 5, 5, 3]), tf.zeros([3, 3, 2, 2]), [1, 1, 1, 1], "SAME"),
     "Dimensions must be equal"),
    (lambda: tf.nn.bias_add(tf.zeros([2, 3]), tf.zeros([4])), "Dimensions must be equal"),
    (lambda: tf.nn.fused_batch_norm(tf.zeros([2, 3, 3, 4]), tf.ones([3]), tf.zeros([3])), "Dimensions must be equal"),
    (lambda: tf.nn.conv2d(tf.zeros([1, 5, 5, 3], tf.int32), tf.zeros([3, 3, 3, 2], tf.int32), [1, 1, 1, 1], "SAME"),
     "DataType int32"),
])
def test_bad_arguments_raise_at_build_time(build, match):
    with tf.Graph().as_default():
        with pytest.raises((ValueError, TypeError), match=match) as e:
            build()
    msg = str(e.value)
    assert "should be of length" in msg or "ksize cannot" in msg or "created at" in msg, msg


def test_error_names_the_node():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="'my_conv' \\(Conv2D\\)"):
            tf.nn.conv2d(tf.zeros([1, 5, 5, 3]), tf.zeros([3, 3, 4, 2]), [1, 1, 1, 1], "SAME", name="my_conv")
        with pytest.raises(ValueError, match="should be of length 1, 2 or 4"):
            tf.nn.conv2d(tf.zeros([1, 5, 5, 3]), tf.zeros([3, 3, 3, 2]), [1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="rate"):
            tf.nn.dropout(tf.zeros([3]), rate=1.0)
        with pytest.raises(ValueError, match="floating point"):
            tf.nn.dropout(tf.zeros([3], tf.int32), rate=0.5)
        with pytest.raises(ValueError, match="must be None"):
            tf.nn.fused_batch_norm(tf.zeros([2, 3, 3, 4]), tf.ones([4]), tf.zeros([4]), tf.zeros([4]), tf.ones([4]))


def test_shapes_given_at_run_time_are_checked():
    with tf.Graph().as_default():
        shape = tf.placeholder(tf.int32, [4])
        y = tf.nn.conv2d_transpose(tf.ones([1, 3, 3, 2]), tf.ones([3, 3, 1, 2]), shape, [1, 2, 2, 1], "SAME")
        with tf.Session() as sess:
            assert sess.run(y, {shape: [1, 6, 5, 1]}).shape == (1, 6, 5, 1)
            with pytest.raises(tf.errors.InvalidArgumentError, match="out_backprop"):
                sess.run(y, {shape: [1, 9, 9, 1]})
            with pytest.raises(tf.errors.InvalidArgumentError, match="depth"):
                sess.run(y, {shape: [1, 6, 6, 3]})
            with pytest.raises(tf.errors.InvalidArgumentError, match="out_backprop"):
                sess.run(y, {shape: [2 ** 30, 6, 6, 1]})
        # a consistent but absurd shape is refused before any memory is touched
        from tideflow.framework import ops as _ops
        big = tf.placeholder(tf.int32, [4])
        back = _ops.apply1("AvgPoolGrad", [big, tf.ones([1, 1, 1, 1])],
                           {"ksize": [1, 2 ** 20, 2 ** 20, 1], "strides": [1, 1, 1, 1], "padding": "VALID"})
        with tf.Session() as sess:
            with pytest.raises(tf.errors.ResourceExhaustedError, match="too large"):
                sess.run(back, {big: [1, 2 ** 20, 2 ** 20, 1]})


# ---- NaN in max pooling ----

def test_max_pool_treats_nan_as_tensorflow():
    """Note [max pooling and NaN] in cpp/ops/pooling.cc: MaxPool skips NaN (a window of NaNs alone pools
    to the dtype's lowest value); the argmax and the gradient start from the window's first pixel, so a
    window starting with NaN has its argmax and gradient there (TensorFlow's CPU kernels, both ways)."""
    x = np.array([1, np.nan, 2, 3, np.nan, 0, 5, 4, np.nan, np.nan], np.float32).reshape(1, 1, 10, 1)
    with tf.Graph().as_default():
        p = tf.constant(x)
        y = tf.nn.max_pool(p, [1, 1, 2, 1], [1, 1, 2, 1], "VALID")
        g = tf.gradients(y, p, grad_ys=tf.ones_like(y))[0]
        out, idx = tf.nn.max_pool_with_argmax(p, [1, 1, 2, 1], [1, 1, 2, 1], "VALID")
        a = tf.nn.avg_pool(p, [1, 1, 2, 1], [1, 1, 2, 1], "VALID")
        with tf.Session() as sess:
            yv, gv, ov, iv, av = sess.run([y, g, out, idx, a])
    lowest = np.finfo(np.float32).min
    np.testing.assert_array_equal(yv.ravel(), [1, 3, 0, 5, lowest])
    np.testing.assert_array_equal(gv.ravel(), [1, 0, 0, 1, 1, 0, 1, 0, 1, 0])
    np.testing.assert_array_equal(iv.ravel(), [0, 3, 4, 6, 8])
    np.testing.assert_array_equal(ov.ravel(), [1, 3, np.nan, 5, np.nan])
    assert np.isnan(av.ravel()[[0, 2, 4]]).all()  # average pooling propagates NaN, as TensorFlow's


# ---- dropout ----

def test_dropout_statistics_scale_and_noise_shape():
    x = np.ones((400, 50), np.float32)
    with tf.Graph().as_default():
        keep = tf.placeholder(tf.float32, [])
        d = tf.nn.dropout(x, keep_prob=keep, seed=1)
        shared = tf.nn.dropout(x, rate=0.3, noise_shape=[400, 1], seed=2)
        same = tf.nn.dropout(x, rate=0.0)
        with tf.Session() as sess:
            v = sess.run(d, {keep: 0.8})
            kept = v != 0
            assert abs(kept.mean() - 0.8) < 0.02
            np.testing.assert_allclose(v[kept], 1 / 0.8, rtol=1e-6)
            s = sess.run(shared)
            assert (s == s[:, :1]).all() and abs((s[:, 0] != 0).mean() - 0.7) < 0.08
            assert sess.run(tf.nn.dropout(x, rate=0.5, seed=3)).shape == x.shape
        assert same.op.type == "Const"  # rate 0: x itself, as in TensorFlow


def test_seeded_dropout_repeats_across_sessions_and_changes_across_runs():
    def masks():
        with tf.Graph().as_default():
            tf.set_random_seed(11)
            d = tf.nn.dropout(tf.ones([64, 64]), rate=0.5)
            with tf.Session() as sess:
                return sess.run(d), sess.run(d)
    a1, a2 = masks()
    b1, b2 = masks()
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert (a1 != a2).any()


def test_dropout_gradient_is_the_scaled_mask():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [20, 30])
        d = tf.nn.dropout(x, keep_prob=0.6, seed=4)
        g = tf.gradients(tf.reduce_sum(d), x)[0]
        with tf.Session() as sess:
            dv, gv = sess.run([d, g], {x: np.ones((20, 30))})
    np.testing.assert_allclose(gv, dv)  # x is ones: the output is mask / keep_prob


# ---- the threaded kernels repeat bit for bit ----

@pytest.mark.parametrize("threads", [1, 2])
def test_conv_gradients_repeat_exactly(threads):
    x, w = _f(4, 12, 12, 16), _f(3, 3, 16, 24)
    with tf.Graph().as_default():
        xt, wt = tf.constant(x), tf.constant(w)
        y = tf.nn.conv2d(xt, wt, [1, 1, 1, 1], "SAME")
        grads = tf.gradients(tf.reduce_sum(y * y), [xt, wt])
        cfg = tf.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads)
        with tf.Session(config=cfg) as sess:
            first = sess.run(grads)
            for _ in range(3):
                for a, b in zip(first, sess.run(grads)):
                    np.testing.assert_array_equal(a, b)
