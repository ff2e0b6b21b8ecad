"""Relu(Add(Conv2D(x, f), bias)) as one kernel (Note [convolution output pass] in cpp/ops/conv_gemm.h,
Note [fused chains] in cpp/plan.h): the same numbers as the separate kernels, bit for bit, on every
convolution route, and the separate kernels wherever the chain does not apply."""
import numpy as np
import pytest

import tideflow as tf
from tideflow import _core
from tideflow.framework.session import _Fetcher


def _planned(sess, feeds, fetches):
    f = _Fetcher(sess.graph, fetches)
    return dict(_core.make_callable(sess._c, [p._key() for p in feeds], f.keys, f.targets).planned)


def _layer(xv, fv, bv, strides=(1, 1), padding="SAME", dilations=(1, 1), form="add", fetch_conv=False, threads=1,
           data_format="NHWC"):
    """relu(conv2d(x, f) + b) and whether the plan ran the convolution inside the Relu's kernel."""
    with tf.Graph().as_default():
        x = tf.placeholder(xv.dtype, [None] + list(xv.shape[1:]))
        f = tf.constant(fv)
        b = tf.Variable(bv, name="b")
        conv = tf.nn.conv2d(x, f, [1] + list(strides) + [1] if data_format == "NHWC" else [1, 1] + list(strides),
                            padding, dilations=[1] + list(dilations) + [1], data_format=data_format)
        if form == "add":
            s = conv + b
        elif form == "radd":
            s = b + conv
        else:
            s = tf.nn.bias_add(conv, b, data_format=data_format)
        y = tf.nn.relu(s)
        cfg = tf.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads)
        with tf.Session(config=cfg) as sess:
            sess.run(b.initializer)
            fetches = [y, conv] if fetch_conv else [y]
            planned = _planned(sess, [x], fetches)
            chained = conv.op.name not in planned
            return sess.run(fetches, {x: xv})[0], chained


def _data(x_shape, f_shape, seed=0, dtype=np.float32):
    rng = np.random.RandomState(seed)
    return (rng.randn(*x_shape).astype(dtype), rng.randn(*f_shape).astype(dtype),
            rng.randn(f_shape[-1]).astype(dtype))


# One geometry per forward route: Winograd 5x5 and 3x3, stacked rows (one channel), implicit patches
# (strided), im2col (dilated), and a 1x1 product.
ROUTES = [
    ((2, 12, 11, 16), (5, 5, 16, 16), (1, 1), "SAME", (1, 1)),
    ((2, 9, 10, 16), (3, 3, 16, 24), (1, 1), "VALID", (1, 1)),
    ((3, 14, 13, 1), (5, 5, 1, 8), (1, 1), "SAME", (1, 1)),
    ((2, 11, 12, 8), (3, 3, 8, 12), (2, 2), "SAME", (1, 1)),
    ((2, 10, 10, 3), (3, 3, 3, 5), (1, 1), "SAME", (2, 2)),
    ((2, 5, 6, 7), (1, 1, 7, 9), (1, 1), "VALID", (1, 1)),
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("x_shape,f_shape,strides,padding,dil", ROUTES)
def test_conv_bias_relu_in_one_kernel_gives_the_separate_kernels_numbers(x_shape, f_shape, strides, padding, dil,
                                                                         threads):
    xv, fv, bv = _data(x_shape, f_shape)
    got, chained = _layer(xv, fv, bv, strides, padding, dil, threads=threads)
    want, unchained = _layer(xv, fv, bv, strides, padding, dil, fetch_conv=True, threads=threads)
    assert chained and not unchained  # fetching the convolution keeps it a node of its own
    np.testing.assert_array_equal(got, want)
    assert (got >= 0).all() and (got == 0).any() and (got > 0).any()


@pytest.mark.parametrize("form", ["radd", "bias_add"])
def test_bias_on_either_side_or_by_bias_add(form):
    xv, fv, bv = _data(*ROUTES[0][:2], seed=1)
    got, chained = _layer(xv, fv, bv, form=form)
    want, unchained = _layer(xv, fv, bv, form=form, fetch_conv=True)
    assert chained and not unchained
    np.testing.assert_array_equal(got, want)


def test_non_finite_values_leave_winograd_and_still_get_the_pass():
    xv, fv, bv = _data(*ROUTES[0][:2], seed=2)
    xv[0, 3, 4, 5] = np.inf
    xv[1, 7, 2, 0] = np.nan
    got, chained = _layer(xv, fv, bv)
    want, _ = _layer(xv, fv, bv, fetch_conv=True)
    assert chained
    np.testing.assert_array_equal(got, want)  # NaN == NaN here
    assert np.isnan(got).any()


def test_the_chain_falls_back_to_the_separate_kernels():
    # float64 and a bias that is not one value per channel run the three kernels in turn.
    xv, fv, bv = _data(*ROUTES[1][:2], seed=3, dtype=np.float64)
    got, chained = _layer(xv, fv, bv)
    want, _ = _layer(xv, fv, bv, fetch_conv=True)
    assert chained
    np.testing.assert_array_equal(got, want)
    xv, fv, _ = _data(*ROUTES[1][:2], seed=4)
    wide = np.random.RandomState(5).randn(1, 1, 1, ROUTES[1][1][-1]).astype(np.float32)  # [1, 1, 1, OC]
    got, chained = _layer(xv, fv, wide)
    want, _ = _layer(xv, fv, wide, fetch_conv=True)
    assert chained
    np.testing.assert_array_equal(got, want)


def test_a_training_step_through_the_chain_gives_the_same_weights():
    rng = np.random.RandomState(6)
    xv = rng.rand(4, 12, 12, 1).astype(np.float32)
    yv = rng.randint(0, 3, 4).astype(np.int64)

    def train(fetch_conv):
        with tf.Graph().as_default():
            tf.set_random_seed(0)
            x = tf.placeholder(tf.float32, [None, 12, 12, 1])
            y = tf.placeholder(tf.int64, [None])
            w1 = tf.Variable(tf.truncated_normal([5, 5, 1, 16], stddev=0.1))
            b1 = tf.Variable(tf.constant(0.1, shape=[16]))
            c1 = tf.nn.conv2d(x, w1, [1, 1, 1, 1], "SAME")
            h = tf.nn.max_pool(tf.nn.relu(c1 + b1), [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
            w2 = tf.Variable(tf.truncated_normal([3, 3, 16, 16], stddev=0.1))
            b2 = tf.Variable(tf.constant(0.1, shape=[16]))
            c2 = tf.nn.conv2d(h, w2, [1, 1, 1, 1], "SAME")
            h = tf.nn.relu(c2 + b2)
            logits = tf.layers.dense(tf.reshape(h, [-1, 6 * 6 * 16]), 3)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            step = tf.train.AdamOptimizer(1e-2).minimize(loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                fetches = [step, c1, c2] if fetch_conv else step
                planned = _planned(sess, [x, y], fetches)
                assert (c1.op.name in planned) == fetch_conv and (c2.op.name in planned) == fetch_conv
                for _ in range(3):
                    sess.run(fetches, {x: xv, y: yv})
                return sess.run([w1, b1, w2, b2])

    for got, want in zip(train(False), train(True)):
        np.testing.assert_array_equal(got, want)


def test_add_gradient_needs_no_sum_when_the_bias_cannot_widen_the_input():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4, 4, 3])
        b = tf.Variable(np.ones(3, np.float32))
        c = tf.Variable(np.ones((4, 1, 3), np.float32))
        u = tf.placeholder(tf.float32, [None, 3])
        ys = [x + b, c * x, x - u]
        grads = tf.gradients(ys, [x])
        kinds = [op.type for op in tf.get_default_graph().get_operations() if op.name.startswith("gradients/")]
        # x + b and c * x keep x's shape; x - u may widen x ([?, 4, 4, 3] - [?, 3] with a batch of 1).
        assert kinds.count("SumToShape") == 1
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            xv = np.random.RandomState(0).randn(2, 4, 4, 3).astype(np.float32)
            g, = sess.run(grads, {x: xv, u: np.ones((4, 3), np.float32)})
        np.testing.assert_allclose(g, np.full(xv.shape, 1 + 1 + 1, np.float32))


# ---- Note [ReLU gradient in the pooling gradient's pass] (cpp/ops/pooling.cc) ----

def _relu_pool_grad(hv, dv, ksize, strides, padding, fetch_pool_grad=False, threads=1):
    with tf.Graph().as_default():
        h = tf.placeholder(hv.dtype, hv.shape)
        y = tf.nn.relu(h)
        p = tf.nn.max_pool(y, [1] + ksize + [1], [1] + strides + [1], padding)
        dp = tf.placeholder(hv.dtype, p.shape)
        gh, = tf.gradients(p, [h], grad_ys=[dp])
        pool_grad = gh.op.inputs[0]
        assert gh.op.type == "ReluGrad" and pool_grad.op.type == "MaxPoolGrad"
        cfg = tf.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads)
        with tf.Session(config=cfg) as sess:
            fetches = [gh, pool_grad] if fetch_pool_grad else [gh]
            planned = _planned(sess, [h, dp], fetches)
            fused = planned[gh.op.name] == pool_grad.op.name
            return sess.run(fetches, {h: hv, dp: dv})[0], fused


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape,ksize,strides,padding", [
    ((3, 8, 9, 32), [2, 2], [2, 2], "SAME"),    # disjoint windows that tile the input
    ((2, 7, 7, 5), [3, 3], [2, 2], "VALID"),    # overlapping windows: the scatter-add path
    ((2, 9, 6, 20), [2, 3], [3, 3], "VALID"),   # pixels outside every window
])
def test_relu_gradient_masks_the_pooling_gradient_in_its_pass(shape, ksize, strides, padding, threads):
    rng = np.random.RandomState(7)
    hv = rng.randn(*shape).astype(np.float32)
    hv[0, 0, 0, :3] = [0.0, -0.0, np.nan]
    out_h = [(shape[i + 1] + strides[i] - 1) // strides[i] if padding == "SAME" else
             (shape[i + 1] - ksize[i]) // strides[i] + 1 for i in range(2)]
    dv = rng.randn(shape[0], out_h[0], out_h[1], shape[3]).astype(np.float32)
    got, fused = _relu_pool_grad(hv, dv, ksize, strides, padding, threads=threads)
    want, unfused = _relu_pool_grad(hv, dv, ksize, strides, padding, fetch_pool_grad=True, threads=threads)
    assert fused and not unfused
    np.testing.assert_array_equal(got, want)
    assert (got[hv <= 0] == 0).all() and (got != 0).any()


def test_relu_gradient_of_a_float64_pooling_gradient_runs_the_two_kernels():
    rng = np.random.RandomState(8)
    hv = rng.randn(2, 6, 6, 4)
    dv = rng.randn(2, 3, 3, 4)
    got, fused = _relu_pool_grad(hv, dv, [2, 2], [2, 2], "VALID")
    want, _ = _relu_pool_grad(hv, dv, [2, 2], [2, 2], "VALID", fetch_pool_grad=True)
    assert fused
    np.testing.assert_array_equal(got, want)
