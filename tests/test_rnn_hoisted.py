"""dynamic_rnn's hoisted LSTM path (Note [hoisted LSTM inputs] in ops/rnn.py, Note [LSTM sequence products] in
cpp/ops/rnn.cc): the inputs' share of the product as one node before the loop and the weight gradient as one
product after it. Checked against the plain path (one LSTMBlockCell per step, its gradient per step) built
with the hoisting switched off, against float64 finite differences of the loss, and for its graph: the same
variables and While loop, the split nodes where they belong, no per-step weight gradient."""
import numpy as np
import pytest

import tideflow as tf
from tideflow.ops import rnn as rnn_mod

B, T, I, H = 3, 4, 5, 6


def _cells():
    return {
        "basic": lambda: tf.nn.rnn_cell.BasicLSTMCell(H, forget_bias=0.7),
        "block_peephole_clip": lambda: tf.contrib.rnn.LSTMBlockCell(H, use_peephole=True, cell_clip=0.9),
        "block": lambda: tf.contrib.rnn.LSTMBlockCell(H),
    }


def _build(make_cell, dtype, seed=0, time_major=False):
    """A graph with dynamic_rnn over a fed x and initial state, a loss weighing every output and the final
    state, and its gradients w.r.t. x, the initial state and the trainable variables (set from `seed`)."""
    rng = np.random.RandomState(seed)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(dtype, [T, B, I] if time_major else [B, T, I])
        c0 = tf.placeholder(dtype, [B, H])
        h0 = tf.placeholder(dtype, [B, H])
        cell = make_cell()
        out, st = tf.nn.dynamic_rnn(cell, x, initial_state=tf.nn.rnn_cell.LSTMStateTuple(c0, h0),
                                    time_major=time_major)
        w_out = tf.constant(rng.uniform(-1, 1, out.shape.as_list()).astype(dtype))
        w_c = tf.constant(rng.uniform(-1, 1, [B, H]).astype(dtype))
        w_h = tf.constant(rng.uniform(-1, 1, [B, H]).astype(dtype))
        loss = tf.reduce_sum(out * w_out) + tf.reduce_sum(st.c * w_c) + tf.reduce_sum(st.h * w_h)
        tvars = tf.trainable_variables()
        grads = tf.gradients(loss, [x, c0, h0] + tvars)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=g)
    sess.run(init)
    for v in tvars:  # the same values whatever the graph's random streams
        scale = 1.0 / np.sqrt(v.shape.as_list()[0]) if v.shape.ndims == 2 else 0.5
        v.load(rng.uniform(-1, 1, v.shape.as_list()).astype(dtype) * scale, sess)
    feed = {x: rng.uniform(-1, 1, x.shape.as_list()).astype(dtype),
            c0: rng.uniform(-1, 1, [B, H]).astype(dtype), h0: rng.uniform(-1, 1, [B, H]).astype(dtype)}
    return g, sess, feed, (x, c0, h0), tvars, [out, st.c, st.h, loss], grads


def _run(make_cell, dtype, monkeypatch=None, plain=False, **kw):
    if plain:
        monkeypatch.setattr(rnn_mod, "_hoisted_lstm_parts", lambda *a: None)
    g, sess, feed, _, tvars, fwd, grads = _build(make_cell, dtype, **kw)
    types = {op.type for op in g.get_operations()}
    return sess.run(fwd, feed), sess.run(grads, feed), types, [v.op.name for v in tvars]


@pytest.mark.parametrize("name", sorted(_cells()))
@pytest.mark.parametrize("time_major", [False, True])
def test_hoisted_path_equals_plain_path(name, time_major, monkeypatch):
    make = _cells()[name]
    fwd, grads, types, names = _run(make, np.float64, time_major=time_major)
    assert {"LSTMBlockInputProjection", "LSTMBlockCellRecurrent", "LSTMBlockInputProjectionGrad",
            "LSTMBlockCellRecurrentGrad"} <= types
    assert "LSTMBlockCellGradFused" not in types and "LSTMBlockCell" not in types
    fwd_p, grads_p, types_p, names_p = _run(make, np.float64, monkeypatch, plain=True, time_major=time_major)
    assert "LSTMBlockInputProjection" not in types_p and "LSTMBlockCellGradFused" in types_p
    assert names == names_p
    for a, b in zip(fwd + grads, fwd_p + grads_p):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def test_float32_bench_shapes_equal_plain_path(monkeypatch):
    """The bench's sizes (28 steps of 28 inputs, 128 units, batch 64) in float32: one product over all steps
    sums in another order than 28 products do, so the two agree to float32 rounding."""
    def build():
        rng = np.random.RandomState(1)
        g = tf.Graph()
        with g.as_default():
            x = tf.placeholder(tf.float32, [64, 28, 28])
            _, st = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(128), x, dtype=tf.float32)
            w = tf.constant(rng.uniform(-1, 1, [128, 10]).astype(np.float32))
            loss = tf.reduce_sum(tf.matmul(st.h, w) ** 2)
            tvars = tf.trainable_variables()
            grads = tf.gradients(loss, tvars)
            init = tf.global_variables_initializer()
        sess = tf.Session(graph=g)
        sess.run(init)
        for v in tvars:
            v.load(rng.uniform(-0.1, 0.1, v.shape.as_list()).astype(np.float32), sess)
        return sess.run([loss] + grads, {x: rng.rand(64, 28, 28).astype(np.float32)})
    hoisted = build()
    monkeypatch.setattr(rnn_mod, "_hoisted_lstm_parts", lambda *a: None)
    plain = build()
    for a, b in zip(hoisted, plain):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5 * np.abs(b).max())


@pytest.mark.parametrize("name", ["basic", "block_peephole_clip"])
def test_gradients_match_finite_differences(name):
    """Every gradient of the loss (x, initial state, kernel, bias, peepholes) against float64 central
    differences of the loss itself."""
    g, sess, feed, (x, c0, h0), tvars, fwd, grads = _build(_cells()[name], np.float64, seed=3)
    loss = fwd[3]
    got = sess.run(grads, feed)
    values = [feed[x], feed[c0], feed[h0]] + sess.run(tvars)
    eps = 1e-6
    rng = np.random.RandomState(0)
    for k, (val, gk) in enumerate(zip(values, got)):
        idx = [np.unravel_index(j, val.shape) for j in rng.choice(val.size, min(val.size, 12), replace=False)]
        for ix in idx:
            def loss_at(delta):
                v = val.copy()
                v[ix] += delta
                if k < 3:
                    return sess.run(loss, {**feed, [x, c0, h0][k]: v})
                tvars[k - 3].load(v, sess)
                out = sess.run(loss, feed)
                tvars[k - 3].load(val, sess)
                return out
            num = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
            assert abs(num - gk[ix]) < 1e-6 * max(1.0, abs(num)), (k, ix, num, gk[ix])


def test_graph_keeps_tensorflow_shape():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [B, T, I])
        out, st = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(H), x, dtype=tf.float32)
        assert [v.op.name for v in tf.trainable_variables()] == ["rnn/basic_lstm_cell/kernel",
                                                                 "rnn/basic_lstm_cell/bias"]
        assert out.shape.as_list() == [B, T, H] and st.h.shape.as_list() == [B, H]
        ops = g.get_operations()
        assert [op.type for op in ops].count("While") == 1
        step = [op for op in ops if op.type == "LSTMBlockCellRecurrent"]
        assert [op.name for op in step] == ["rnn/while/basic_lstm_cell/LSTMBlockCell"]
        proj = [op for op in ops if op.type == "LSTMBlockInputProjection"]
        assert len(proj) == 1 and proj[0].name.startswith("rnn/while/basic_lstm_cell/")


def test_sequence_length_keeps_plain_path_and_cell_reuse():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [B, T, I])
        cell = tf.nn.rnn_cell.BasicLSTMCell(H)
        out1, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, scope="shared")
        with tf.variable_scope("shared", reuse=True):
            out2, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, scope="shared")
        out3, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(H), x, sequence_length=[T, 2, 1],
                                    dtype=tf.float32, scope="seq")
        types = [op.type for op in g.get_operations()]
        assert types.count("LSTMBlockInputProjection") == 2 and types.count("LSTMBlockCell") == 1
        assert len(tf.trainable_variables()) == 4
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        a, b = sess.run([out1, out2], {x: np.random.RandomState(0).rand(B, T, I).astype(np.float32)})
    np.testing.assert_array_equal(a, b)
