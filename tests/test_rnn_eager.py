"""RNNs under eager execution, as in TensorFlow 1.x eager: cells called on EagerTensors, dynamic_rnn (its
while_loop runs as a Python loop), static_rnn, bidirectional_dynamic_rnn and the wrappers give the NumPy
recurrences' values (sequence_length included), variables are named as in graph mode, and a GradientTape's
gradients equal tf.gradients' in a graph from the same weights."""
import numpy as np
import pytest

import tideflow as tf
from tideflow.eager.context import eager_mode
from test_rnn import B, CELLS, D, SEQ, T, np_dynamic_rnn, np_lstm, _zero_state


def _load(cell, rng):
    """Uniform [-0.8, 0.8] weights, as test_rnn's _init_uniform draws them (same order, same seed)."""
    for v in cell.trainable_weights:
        v.assign(rng.uniform(-0.8, 0.8, v.shape.as_list()).astype(v.dtype.as_numpy_dtype))


def _params(cell, prefix):
    return {v.name[len(prefix):-2]: v.numpy() for v in cell.trainable_weights}


@pytest.mark.parametrize("with_seq", [False, True], ids=["full", "sequence_length"])
@pytest.mark.parametrize("name", sorted(CELLS))
def test_eager_dynamic_rnn_equals_numpy(name, with_seq):
    make, step, is_lstm = CELLS[name]
    xv = np.random.RandomState(0).uniform(-1, 1, (B, T, D)).astype(np.float32)
    with eager_mode():
        cell = make(tf)
        x = tf.constant(xv)
        outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, sequence_length=SEQ if with_seq else None)
        assert all(v.name.startswith("rnn/") for v in cell.trainable_weights), [v.name for v in cell.weights]
        _load(cell, np.random.RandomState(7))
        outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, sequence_length=SEQ if with_seq else None)
        out = outputs.numpy()
        st = [s.numpy() for s in tf.nest.flatten(state)]
        params = _params(cell, "rnn/")
    ref_out, ref_st = np_dynamic_rnn(step, params, xv.astype(np.float64), _zero_state(name, is_lstm, np.float64),
                                     SEQ if with_seq else None)
    np.testing.assert_allclose(out, ref_out, rtol=2e-5, atol=2e-6)
    for got, want in zip(st, tf.nest.flatten(ref_st)):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


def test_eager_cell_call_and_variable_names():
    """A cell called directly: its variables under its own name (basic_lstm_cell/kernel:0, as TF eager names
    them), one LSTM step as NumPy computes it."""
    rng = np.random.RandomState(1)
    xv = rng.uniform(-1, 1, (B, D)).astype(np.float32)
    with eager_mode():
        cell = tf.nn.rnn_cell.BasicLSTMCell(5)
        state = cell.zero_state(B, tf.float32)
        out, new = cell(tf.constant(xv), state)
        assert [v.name for v in cell.weights] == ["basic_lstm_cell/kernel:0", "basic_lstm_cell/bias:0"]
        assert cell.trainable_weights == cell.weights
        _load(cell, np.random.RandomState(2))
        out, new = cell(tf.constant(xv), state)
        params = _params(cell, "")
        got = (out.numpy(), new.c.numpy(), new.h.numpy())
    m, (c, h) = np_lstm("basic_lstm_cell")(params, xv.astype(np.float64), (np.zeros((B, 5)), np.zeros((B, 5))))
    np.testing.assert_allclose(got[0], m, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(got[1], c, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(got[2], h, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name", ["gru", "basic_lstm", "lstm_projection", "lstm_block"])
def test_eager_tape_gradients_equal_graph_gradients(name):
    make = CELLS[name][0]
    xv = np.random.RandomState(3).uniform(-1, 1, (B, T, D)).astype(np.float64)
    with eager_mode():
        cell = make(tf)
        x = tf.constant(xv)
        tf.nn.dynamic_rnn(cell, x, dtype=tf.float64)
        _load(cell, np.random.RandomState(4))
        weights = {v.name[:-2]: v.numpy() for v in cell.trainable_weights}
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float64, sequence_length=SEQ)
            loss = tf.reduce_sum(outputs * 1.5) + tf.add_n([tf.reduce_sum(s) for s in tf.nest.flatten(state)])
        grads = tape.gradient(loss, [x] + cell.trainable_weights)
        eager = [g.numpy() for g in grads]
        names = [v.name[:-2] for v in cell.trainable_weights]
    with tf.Graph().as_default():
        cell = make(tf)
        xg = tf.constant(xv)
        outputs, state = tf.nn.dynamic_rnn(cell, xg, dtype=tf.float64, sequence_length=SEQ)
        loss = tf.reduce_sum(outputs * 1.5) + tf.add_n([tf.reduce_sum(s) for s in tf.nest.flatten(state)])
        tvars = {v.op.name: v for v in tf.trainable_variables()}
        assert sorted(tvars) == sorted(names)
        grads = tf.gradients(loss, [xg] + [tvars[n] for n in names])
        with tf.Session() as sess:
            for n, v in tvars.items():
                v.load(weights[n], sess)
            graph = sess.run(grads)
    for e, g in zip(eager, graph):
        np.testing.assert_allclose(e, g, rtol=1e-10, atol=1e-12)


def test_eager_static_bidirectional_and_wrappers():
    """static_rnn (tf.nn.rnn), bidirectional_dynamic_rnn, MultiRNNCell and DropoutWrapper run eagerly with
    the shapes graph mode gives; static_rnn's outputs and dynamic_rnn traced by tf.function equal eager
    dynamic_rnn's."""
    xv = np.random.RandomState(5).uniform(-1, 1, (B, T, D)).astype(np.float32)
    with eager_mode():
        x = tf.constant(xv)
        cell = tf.nn.rnn_cell.GRUCell(4)
        dyn, dyn_state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        outs, state = tf.nn.rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32)
        np.testing.assert_allclose(np.stack([o.numpy() for o in outs], 1), dyn.numpy(), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(state.numpy(), dyn_state.numpy(), rtol=1e-6, atol=1e-7)
        traced = tf.function(lambda x: tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)[0])  # one While node
        np.testing.assert_allclose(traced(x).numpy(), dyn.numpy(), rtol=1e-6, atol=1e-7)
        (fw, bw), (sfw, sbw) = tf.nn.bidirectional_dynamic_rnn(tf.nn.rnn_cell.GRUCell(3), tf.nn.rnn_cell.GRUCell(3),
                                                               x, sequence_length=SEQ, dtype=tf.float32)
        assert fw.shape.as_list() == bw.shape.as_list() == [B, T, 3]
        assert not fw.numpy()[1, 2:].any() and not bw.numpy()[1, 2:].any()
        multi = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.LSTMCell(3), tf.nn.rnn_cell.LSTMCell(3, num_proj=2)])
        out, st = tf.nn.dynamic_rnn(multi, x, dtype=tf.float32)
        assert out.shape.as_list() == [B, T, 2] and st[1].h.shape.as_list() == [B, 2]
        drop = tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.BasicRNNCell(8), output_keep_prob=0.5, seed=3)
        out, _ = tf.nn.dynamic_rnn(drop, x, dtype=tf.float32)
        zeros = float(np.mean(out.numpy() == 0))
        assert 0.3 < zeros < 0.7, zeros
