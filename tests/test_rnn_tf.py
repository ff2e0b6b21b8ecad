"""RNN cells and dynamic_rnn / static_rnn against TensorFlow 1.x (TF 2.x's compat.v1 with v1 control flow and
tf_keras's legacy cells) where they are installed: the same program builds the same variable names in both,
and from TensorFlow's initial values gives TensorFlow's outputs, final states and gradients."""
import os

import numpy as np
import pytest

import tideflow as tf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # TF's deprecation notes for the TF1 cells

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # TF 2.x keeps the TF1 cells in tf_keras
pytest.importorskip("tf_keras")
tft = pytest.importorskip("tensorflow.compat.v1")
tft.disable_v2_behavior()
tft.disable_control_flow_v2()
tft.disable_resource_variables()

B, T, D = 3, 5, 4
SEQ = np.array([5, 2, 3], np.int32)


def run_both(build, dtype="float32", time_major=False, seed=0, feed_seq=False):
    """Builds `build(tfm, x, seq)` in TensorFlow and in tideflow, copies TensorFlow's initial variables
    over (by name: the names must match), and returns both runs' (values, variable names). `build`
    returns a list of tensors (or nests) to fetch; the gradients of their sum w.r.t. x and every trainable
    variable are fetched too."""
    rng = np.random.RandomState(seed)
    shape = [T, B, D] if time_major else [B, T, D]
    xv = rng.uniform(-1, 1, shape).astype(dtype)
    results = []
    tf_values = None
    for tfm in (tft, tf):
        g = tfm.Graph()
        with g.as_default():
            tfm.set_random_seed(seed)
            x = tfm.placeholder(getattr(tfm, dtype), shape)
            seq = tfm.placeholder(tfm.int32, [B]) if feed_seq else None
            fetches = build(tfm, x, seq)
            flat = [t for t in tfm.nest.flatten(fetches)]
            loss = tfm.add_n([tfm.reduce_sum(t * (1.0 + 0.1 * i)) for i, t in enumerate(flat)])
            tvars = tfm.trainable_variables()
            grads = tfm.gradients(loss, [x] + tvars)
            with tfm.Session(graph=g) as s:
                s.run(tfm.global_variables_initializer())
                names = [v.op.name for v in tvars]
                if tf_values is None:
                    tf_values = dict(zip(names, s.run(tvars)))
                else:
                    assert sorted(names) == sorted(tf_values), (names, list(tf_values))
                    for v in tvars:
                        v.load(tf_values[v.op.name], s)
                feed = {x: xv}
                if feed_seq:
                    feed[seq] = SEQ
                out = s.run(flat + grads, feed)
        results.append((out, names))
    return results


def check(build, rtol=2e-5, atol=2e-6, values=False, **kw):
    (want, wnames), (got, gnames) = run_both(build, **kw)
    assert len(want) == len(got)
    for i, (w, g) in enumerate(zip(want, got)):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg="fetch %d" % i)
    return (wnames, got) if values else wnames


def _dyn(cell_fn, **kw):
    def build(tfm, x, seq):
        out, st = tfm.nn.dynamic_rnn(cell_fn(tfm), x, dtype=x.dtype, sequence_length=seq, **kw)
        return [out, st]
    return build


@pytest.mark.parametrize("feed_seq", [False, True])
def test_basic_lstm_dynamic_rnn(feed_seq):
    names = check(_dyn(lambda m: m.nn.rnn_cell.BasicLSTMCell(6)), feed_seq=feed_seq)
    assert sorted(names) == ["rnn/basic_lstm_cell/bias", "rnn/basic_lstm_cell/kernel"]


def test_basic_lstm_time_major_float64_concatenated_state():
    check(_dyn(lambda m: m.nn.rnn_cell.BasicLSTMCell(6, forget_bias=0.5, state_is_tuple=False), time_major=True),
          dtype="float64", time_major=True, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("feed_seq", [False, True])
def test_lstm_cell_peepholes_projection_clipping(feed_seq):
    names, got = check(_dyn(lambda m: m.nn.rnn_cell.LSTMCell(7, use_peepholes=True, cell_clip=0.15, num_proj=3,
                                                             proj_clip=0.08, forget_bias=0.3)),
                       feed_seq=feed_seq, values=True)
    c, m = got[1], got[2]
    assert np.isclose(np.abs(c).max(), 0.15) and np.isclose(np.abs(m).max(), 0.08)  # both clips were active
    assert sorted(names) == ["rnn/lstm_cell/bias", "rnn/lstm_cell/kernel", "rnn/lstm_cell/projection/kernel",
                             "rnn/lstm_cell/w_f_diag", "rnn/lstm_cell/w_i_diag", "rnn/lstm_cell/w_o_diag"]


def test_lstm_cell_composite_activation():
    # relu is not the fused kernel's tanh: TF's composite, op for op
    check(_dyn(lambda m: m.nn.rnn_cell.LSTMCell(5, activation=m.nn.relu, num_proj=4)), feed_seq=True)


@pytest.mark.parametrize("feed_seq", [False, True])
def test_gru_and_basic_rnn(feed_seq):
    names = check(_dyn(lambda m: m.nn.rnn_cell.GRUCell(5)), feed_seq=feed_seq)
    assert sorted(names) == ["rnn/gru_cell/candidate/bias", "rnn/gru_cell/candidate/kernel",
                             "rnn/gru_cell/gates/bias", "rnn/gru_cell/gates/kernel"]
    check(_dyn(lambda m: m.nn.rnn_cell.BasicRNNCell(5, activation=m.nn.relu)), feed_seq=feed_seq)


def test_multi_rnn_cell_with_residual_wrapper():
    def cell(m):
        return m.nn.rnn_cell.MultiRNNCell([m.nn.rnn_cell.BasicLSTMCell(4), m.nn.rnn_cell.ResidualWrapper(
            m.nn.rnn_cell.GRUCell(4)), m.nn.rnn_cell.LSTMCell(3, use_peepholes=True)])
    names = check(_dyn(cell), feed_seq=True)
    assert sorted(names) == sorted(
        ["rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel", "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias",
         "rnn/multi_rnn_cell/cell_1/gru_cell/gates/kernel", "rnn/multi_rnn_cell/cell_1/gru_cell/gates/bias",
         "rnn/multi_rnn_cell/cell_1/gru_cell/candidate/kernel", "rnn/multi_rnn_cell/cell_1/gru_cell/candidate/bias",
         "rnn/multi_rnn_cell/cell_2/lstm_cell/kernel", "rnn/multi_rnn_cell/cell_2/lstm_cell/bias",
         "rnn/multi_rnn_cell/cell_2/lstm_cell/w_f_diag", "rnn/multi_rnn_cell/cell_2/lstm_cell/w_i_diag",
         "rnn/multi_rnn_cell/cell_2/lstm_cell/w_o_diag"])


@pytest.mark.parametrize("time_major", [False, True])
def test_bidirectional_dynamic_rnn(time_major):
    def build(m, x, seq):
        (of, ob), (sf, sb) = m.nn.bidirectional_dynamic_rnn(
            m.nn.rnn_cell.LSTMCell(4, num_proj=3), m.nn.rnn_cell.GRUCell(2), x, sequence_length=seq,
            dtype=x.dtype, time_major=time_major)
        return [of, ob, sf, sb]
    names = check(build, feed_seq=True, time_major=time_major)
    assert "bidirectional_rnn/fw/lstm_cell/kernel" in names and "bidirectional_rnn/bw/gru_cell/gates/kernel" in names


def test_initial_state_and_custom_scope():
    def build(m, x, seq):
        cell = m.nn.rnn_cell.BasicLSTMCell(4)
        init = cell.zero_state(B, x.dtype)
        init = m.nn.rnn_cell.LSTMStateTuple(init.c + 0.5, m.tanh(init.h - 0.3))
        out, st = m.nn.dynamic_rnn(cell, x, initial_state=init, scope="encoder", sequence_length=seq)
        return [out, st]
    assert sorted(check(build, feed_seq=True)) == ["encoder/basic_lstm_cell/bias", "encoder/basic_lstm_cell/kernel"]


@pytest.mark.parametrize("feed_seq", [False, True])
def test_static_rnn_and_bidirectional(feed_seq):
    def build(m, x, seq):
        xs = m.unstack(x, axis=1)
        outs, st = m.nn.static_rnn(m.nn.rnn_cell.BasicLSTMCell(4), xs, dtype=x.dtype, sequence_length=seq)
        with m.variable_scope("bi"):
            bouts, sf, sb = m.nn.static_bidirectional_rnn(m.nn.rnn_cell.GRUCell(3), m.nn.rnn_cell.GRUCell(2), xs,
                                                          dtype=x.dtype, sequence_length=seq)
        return [outs, st, bouts, sf, sb]
    names = check(build, feed_seq=feed_seq)
    assert "rnn/basic_lstm_cell/kernel" in names and "bi/bidirectional_rnn/bw/gru_cell/gates/kernel" in names


def test_dropout_wrapper_keep_prob_one_and_variational_shapes():
    # keep probabilities of 1 leave the cell as it is (TF adds no dropout ops)
    check(_dyn(lambda m: m.nn.rnn_cell.DropoutWrapper(m.nn.rnn_cell.BasicLSTMCell(4), input_keep_prob=1.0,
                                                      output_keep_prob=1.0, state_keep_prob=1.0)))


def test_op_names_follow_tensorflow():
    names = {}
    for tfm in (tft, tf):
        g = tfm.Graph()
        with g.as_default():
            x = tfm.placeholder(tfm.float32, [B, T, D])
            cell = tfm.nn.rnn_cell.MultiRNNCell([tfm.nn.rnn_cell.GRUCell(3), tfm.nn.rnn_cell.BasicRNNCell(2)])
            out, st = tfm.nn.dynamic_rnn(cell, x, dtype=tfm.float32)
            names[tfm] = (out.name, {op.name for op in g.get_operations() if op.type == "MatMul"},
                          cell.scope_name, [v.op.name for v in cell.trainable_weights])
    assert names[tf] == names[tft]
