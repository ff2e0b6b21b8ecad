"""RNN cells, dynamic_rnn and static_rnn (the old tf.nn.rnn) against hand-written NumPy recurrences, without
TensorFlow: BasicRNNCell, GRUCell, BasicLSTMCell, LSTMCell (peepholes, cell_clip, projection) and
LSTMBlockCell read their variables back from the session and the same steps are run in NumPy, with and
without sequence_length (outputs past a sequence's end are zero, its state is carried through), batch- and
time-major; float64 finite differences check the gradients through the loop."""
import numpy as np
import pytest

import tideflow as tf

B, T, D = 3, 5, 4
SEQ = np.array([5, 2, 3], np.int32)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---- NumPy cells: step(params, x, state) -> (output, state) ----

def np_basic_rnn(p, x, h):
    h = np.tanh(np.concatenate([x, h], 1) @ p["basic_rnn_cell/kernel"] + p["basic_rnn_cell/bias"])
    return h, h


def np_gru(p, x, h):
    value = _sigmoid(np.concatenate([x, h], 1) @ p["gru_cell/gates/kernel"] + p["gru_cell/gates/bias"])
    r, u = np.split(value, 2, axis=1)
    c = np.tanh(np.concatenate([x, r * h], 1) @ p["gru_cell/candidate/kernel"] + p["gru_cell/candidate/bias"])
    h = u * h + (1 - u) * c
    return h, h


def np_lstm(scope, forget_bias=1.0, peepholes=False, cell_clip=None, num_proj=None):
    def step(p, x, state):
        c, m = state
        z = np.concatenate([x, m], 1) @ p[scope + "/kernel"] + p[scope + "/bias"]
        i, j, f, o = np.split(z, 4, axis=1)
        if peepholes:
            c = (_sigmoid(f + forget_bias + p[scope + "/w_f_diag"] * c) * c
                 + _sigmoid(i + p[scope + "/w_i_diag"] * c) * np.tanh(j))
        else:
            c = _sigmoid(f + forget_bias) * c + _sigmoid(i) * np.tanh(j)
        if cell_clip is not None:
            c = np.clip(c, -cell_clip, cell_clip)
        o = o + p[scope + "/w_o_diag"] * c if peepholes else o
        m = _sigmoid(o) * np.tanh(c)
        if num_proj is not None:
            m = m @ p[scope + "/projection/kernel"]
        return m, (c, m)
    return step


def np_dynamic_rnn(step, params, x, state, seq=None):
    """x [batch, time, depth]; the recurrence of dynamic_rnn with TF's sequence_length semantics."""
    outs = []
    flat = lambda s: list(s) if isinstance(s, tuple) else [s]  # noqa: E731
    pack = lambda like, v: tuple(v) if isinstance(like, tuple) else v[0]  # noqa: E731
    for t in range(x.shape[1]):
        out, new = step(params, x[:, t], state)
        if seq is not None:
            done = (t >= seq)[:, None]
            out = np.where(done, 0.0, out)
            new = pack(state, [np.where(done, s, n) for s, n in zip(flat(state), flat(new))])
        outs.append(out)
        state = new
    return np.stack(outs, 1), state


CELLS = {
    "basic_rnn": (lambda tf: tf.nn.rnn_cell.BasicRNNCell(6), np_basic_rnn, False),
    "gru": (lambda tf: tf.nn.rnn_cell.GRUCell(6), np_gru, False),
    "basic_lstm": (lambda tf: tf.nn.rnn_cell.BasicLSTMCell(6, forget_bias=0.5), np_lstm("basic_lstm_cell", 0.5),
                   True),
    "lstm": (lambda tf: tf.nn.rnn_cell.LSTMCell(6), np_lstm("lstm_cell"), True),
    "lstm_peephole_clip": (lambda tf: tf.nn.rnn_cell.LSTMCell(6, use_peepholes=True, cell_clip=0.3),
                           np_lstm("lstm_cell", peepholes=True, cell_clip=0.3), True),
    "lstm_projection": (lambda tf: tf.nn.rnn_cell.LSTMCell(6, num_proj=3, use_peepholes=True),
                        np_lstm("lstm_cell", peepholes=True, num_proj=3), True),
    "lstm_block": (lambda tf: tf.contrib.rnn.LSTMBlockCell(6, use_peephole=True, cell_clip=0.4),
                   np_lstm("lstm_cell", peepholes=True, cell_clip=0.4), True),
}


def _params(sess, prefix="rnn/"):
    vs = tf.trainable_variables()
    return {v.op.name[len(prefix):]: val for v, val in zip(vs, sess.run(vs))}


def _zero_state(cell_name, is_lstm, dtype):
    if not is_lstm:
        return np.zeros((B, 6), dtype)
    m = 3 if cell_name == "lstm_projection" else 6
    return (np.zeros((B, 6), dtype), np.zeros((B, m), dtype))


def _init_uniform(sess):
    """Variables drawn uniformly from [-0.8, 0.8] (the default initializers leave biases at 0 or 1)."""
    rng = np.random.RandomState(7)
    for v in tf.trainable_variables():
        v.load(rng.uniform(-0.8, 0.8, v.shape.as_list()).astype(v.dtype.as_numpy_dtype), sess)


@pytest.mark.parametrize("with_seq", [False, True], ids=["full", "sequence_length"])
@pytest.mark.parametrize("time_major", [False, True], ids=["batch_major", "time_major"])
@pytest.mark.parametrize("name", sorted(CELLS))
def test_dynamic_rnn_equals_numpy(name, time_major, with_seq):
    make, step, is_lstm = CELLS[name]
    rng = np.random.RandomState(0)
    xv = rng.uniform(-1, 1, (B, T, D)).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [T, B, D] if time_major else [B, T, D])
        seq = tf.placeholder(tf.int32, [B]) if with_seq else None
        outputs, state = tf.nn.dynamic_rnn(make(tf), x, sequence_length=seq, dtype=tf.float32,
                                           time_major=time_major)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            _init_uniform(sess)
            feed = {x: xv.transpose(1, 0, 2) if time_major else xv}
            if with_seq:
                feed[seq] = SEQ
            out, st = sess.run([outputs, state], feed)
            params = _params(sess)
    if time_major:
        out = out.transpose(1, 0, 2)
    ref_out, ref_st = np_dynamic_rnn(step, params, xv.astype(np.float64), _zero_state(name, is_lstm, np.float64),
                                     SEQ if with_seq else None)
    np.testing.assert_allclose(out, ref_out, rtol=2e-5, atol=2e-6)
    if with_seq:
        assert not out[1, 2:].any() and not out[2, 3:].any()
    for got, want in zip(tf.nest.flatten(st), tf.nest.flatten(ref_st)):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


def test_dynamic_rnn_initial_state_and_final_state_carry():
    """Running the two halves of the sequences one after the other, the second from the first's final state,
    gives the whole run's outputs and state (article 003 feeds final_s_ back as init_s so)."""
    rng = np.random.RandomState(1)
    xv = rng.uniform(-1, 1, (B, T + 3, D)).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [B, None, D])
        cell = tf.nn.rnn_cell.BasicLSTMCell(5)
        init = cell.zero_state(B, tf.float32)
        outputs, state = tf.nn.dynamic_rnn(cell, x, initial_state=init)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            whole_out, whole_st = sess.run([outputs, state], {x: xv})
            first_out, first_st = sess.run([outputs, state], {x: xv[:, :4]})
            second_out, second_st = sess.run([outputs, state], {x: xv[:, 4:], init: first_st})
    np.testing.assert_allclose(np.concatenate([first_out, second_out], 1), whole_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(second_st.c, whole_st.c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(second_st.h, whole_st.h, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("with_seq", [False, True], ids=["full", "sequence_length"])
def test_old_name_tf_nn_rnn_is_static_rnn(with_seq):
    """tf.nn.rnn(cell, inputs) of TensorFlow before 1.0 (article 003 mentions it): a list of [batch, depth]
    steps in, a list of outputs and the final state out, the same numbers as dynamic_rnn."""
    rng = np.random.RandomState(2)
    xv = rng.uniform(-1, 1, (B, T, D)).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [B, T, D])
        cell = tf.nn.rnn_cell.BasicLSTMCell(6, state_is_tuple=True)
        outputs, state = tf.nn.rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32,
                                   sequence_length=SEQ if with_seq else None)
        assert isinstance(outputs, list) and len(outputs) == T
        assert [v.op.name for v in tf.trainable_variables()] == ["rnn/basic_lstm_cell/kernel",
                                                                 "rnn/basic_lstm_cell/bias"]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            _init_uniform(sess)
            out, st = sess.run([outputs, state], {x: xv})
            params = _params(sess)
    ref_out, ref_st = np_dynamic_rnn(np_lstm("basic_lstm_cell"), params, xv.astype(np.float64),
                                     (np.zeros((B, 6)), np.zeros((B, 6))), SEQ if with_seq else None)
    np.testing.assert_allclose(np.stack(out, 1), ref_out, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(st.c, ref_st[0], rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(st.h, ref_st[1], rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("with_seq", [False, True], ids=["full", "sequence_length"])
@pytest.mark.parametrize("name", ["basic_rnn", "gru", "basic_lstm", "lstm_projection"])
def test_dynamic_rnn_gradients_finite_differences(name, with_seq):
    """float64 gradients of a weighted sum of the outputs and final state, w.r.t. the inputs and the initial
    state, through the loop's gradient (row by row over the stacked outputs) and the cells' rules."""
    make, _, is_lstm = CELLS[name]
    rng = np.random.RandomState(3)
    xv = rng.uniform(-1, 1, (B, 4, D))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [B, 4, D])
        cell = make(tf)
        zero = cell.zero_state(B, tf.float64)
        init = tf.nest.map_structure(lambda z: z + 0.1, zero)
        outputs, state = tf.nn.dynamic_rnn(cell, x, initial_state=init,
                                           sequence_length=SEQ - 1 if with_seq else None)
        flat = [outputs] + tf.nest.flatten(state)
        wrng = np.random.RandomState(4)
        y = tf.add_n([tf.reduce_sum(t * wrng.uniform(0.5, 1.5, t.shape.as_list())) for t in flat])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            _init_uniform(sess)
            err = tf.test.compute_gradient_error(x, [B, 4, D], y, [], x_init_value=xv, delta=1e-6)
            assert err < 1e-6, err
            # The variables: the gradient against central differences along random directions.
            tvars = tf.trainable_variables()
            grads = sess.run(tf.gradients(y, tvars), {x: xv})
            drng = np.random.RandomState(5)
            for v, g in zip(tvars, grads):
                val = sess.run(v)
                for _ in range(3):
                    d = drng.uniform(-1, 1, val.shape)
                    v.load(val + 1e-6 * d, sess)
                    plus = sess.run(y, {x: xv})
                    v.load(val - 1e-6 * d, sess)
                    minus = sess.run(y, {x: xv})
                    v.load(val, sess)
                    assert abs((plus - minus) / 2e-6 - np.sum(g * d)) < 1e-6, v.op.name
