"""Note [LSTM steps on one thread] (cpp/ops/rnn.cc): a small LSTM step never splits over the pool (it runs on
the calling thread, or shares its work with the spinning partner, Note [LSTM steps on a pair]), so a dynamic_rnn
training step's numbers are the same bit for bit with one thread and with two (tests/test_rnn_pair.py has more
such cases); a step above the threshold still splits, and its numbers agree with one thread's to float
rounding (a split product may round its last bits differently, as TensorFlow's do). Both against NumPy's
forward values."""
import numpy as np
import pytest

import tideflow as tf
from tideflow.ops.rnn_cell_impl import _lstm_block_cell


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _np_lstm(xs, w, b, H, forget_bias=1.0):
    B = xs.shape[0]
    c, h = np.zeros((B, H)), np.zeros((B, H))
    for t in range(xs.shape[1]):
        z = np.concatenate([xs[:, t], h], 1) @ w + b
        i, j, f, o = (z[:, k * H:(k + 1) * H] for k in range(4))
        c = c * _sigmoid(f + forget_bias) + _sigmoid(i) * np.tanh(j)
        h = np.tanh(c) * _sigmoid(o)
    return h


def _run(threads, B, T, I, H, seed=0):
    rng = np.random.RandomState(seed)
    xv = rng.uniform(-1, 1, (B, T, I)).astype(np.float32)
    wv = (rng.uniform(-1, 1, (I + H, 4 * H)) / np.sqrt(I + H)).astype(np.float32)
    bv = rng.uniform(-0.5, 0.5, 4 * H).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [B, T, I])
        cell = tf.nn.rnn_cell.BasicLSTMCell(H)
        _, st = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        loss = tf.reduce_sum(tf.square(st.h)) + tf.reduce_sum(st.c)
        kernel, bias = cell.trainable_weights
        grads = tf.gradients(loss, [x, kernel, bias])
        init = tf.global_variables_initializer()
    cfg = tf.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads)
    with tf.Session(graph=g, config=cfg) as sess:
        sess.run(init)
        kernel.load(wv, sess)
        bias.load(bv, sess)
        out = sess.run([st.h] + grads, {x: xv})
    np.testing.assert_allclose(out[0], _np_lstm(xv.astype(np.float64), wv, bv, H), rtol=1e-4, atol=1e-5)
    return out


def test_small_steps_give_the_same_bits_with_one_and_two_threads():
    # The bench's step, 64 x (28 + 128) x 512 = 5.1M multiply-adds: enough for the products to split (over
    # 1M, Note [one thread pool]) but below the step threshold; and a tiny one.
    for shape in [(64, 3, 28, 128), (16, 6, 5, 32)]:
        one, two = _run(1, *shape), _run(2, *shape)
        for a, b in zip(one, two):
            np.testing.assert_array_equal(a, b)


def test_large_steps_still_split_and_agree():
    # 128 x (64 + 256) x 1024 multiply-adds per step: above the threshold, split over two threads.
    one, two = _run(1, 128, 2, 64, 256), _run(2, 128, 2, 64, 256)
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(a).max())


@pytest.mark.parametrize("threads", [1, 2])
def test_block_cell_gradient_matches_finite_differences_with_threads(threads):
    """One LSTMBlockCell step in float64 (its gradient one LSTMBlockCellGradFused) against central differences,
    under one and two threads."""
    rng = np.random.RandomState(3)
    B, I, H = 4, 3, 5
    vals = [rng.uniform(-1, 1, s) for s in [(B, I), (B, H), (B, H), (I + H, 4 * H), (4 * H,)]]
    vals[3] /= np.sqrt(I + H)
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.float64, v.shape) for v in vals]
        _, cs, _, _, _, _, h = _lstm_block_cell(*phs)
        wc, wh = rng.uniform(-1, 1, (B, H)), rng.uniform(-1, 1, (B, H))
        loss = tf.reduce_sum(cs * wc) + tf.reduce_sum(h * wh)
        grads = tf.gradients(loss, phs)
    cfg = tf.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads)
    with tf.Session(graph=g, config=cfg) as sess:
        feed = dict(zip(phs, vals))
        got = sess.run(grads, feed)
        eps = 1e-6
        for k, v in enumerate(vals):
            for ix in [np.unravel_index(j, v.shape) for j in rng.choice(v.size, min(v.size, 6), replace=False)]:
                hi, lo = v.copy(), v.copy()
                hi[ix] += eps
                lo[ix] -= eps
                num = (sess.run(loss, {**feed, phs[k]: hi}) - sess.run(loss, {**feed, phs[k]: lo})) / (2 * eps)
                assert abs(num - got[k][ix]) < 1e-7 * max(1.0, abs(num)), (k, ix, num, got[k][ix])


def test_the_cell_gradient_needs_no_sum_to_shape_in_the_loop():
    # Note [exact gradient shapes]: LSTMBlockCell's rule gives each input its exact shape, so the backward
    # loop over an unknown batch has no SumToShape nodes; each would count as expensive (unknown shape) and
    # be handed to another thread on every iteration, putting the pair partner to sleep (Note [spinning
    # partner]). The SumToShape nodes left are outside the loop.
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 5, 3])
        cell = tf.nn.rnn_cell.BasicLSTMCell(8)
        _, st = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        tf.gradients(tf.reduce_sum(st.h), tf.trainable_variables() + [x])
    names = [op.name for op in g.get_operations() if op.type == "SumToShape"]
    assert names and not [n for n in names if "LSTMBlockCell_grad" in n], names
