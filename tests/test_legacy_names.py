"""Names older TensorFlow programs and articles call, with the semantics of the version that had them:
TF 0.12's tf.mul/sub/neg/pack/select/batch_matmul/listdiff/inv/op_scope, tf.initialize_*_variables,
tf.all_variables, the pre-1.0 summary functions and tf.train.SummaryWriter, and TF 1.x's tf.unpack and
tf.arg_max. tf.nn.rnn (TF 0.12's static RNN) comes with the RNN cells (tests/test_rnn*.py)."""
import glob
import os

import numpy as np
import pytest

import tideflow as tf

LEGACY = ["initialize_all_variables", "initialize_local_variables", "initialize_variables", "all_variables",
          "merge_all_summaries", "merge_summary", "scalar_summary", "histogram_summary", "image_summary",
          "unpack", "pack", "arg_max", "arg_min", "mul", "sub", "neg", "select", "batch_matmul", "listdiff", "inv",
          "op_scope", "to_float", "to_int32", "to_int64"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_name_exists(name):
    assert callable(getattr(tf, name))


def test_train_summary_writer_exists():
    assert issubclass(tf.train.SummaryWriter, tf.summary.FileWriter)


@pytest.mark.skipif(not hasattr(tf.nn, "rnn"), reason="tf.nn.rnn arrives with the RNN cells (issue 12, RNN part)")
def test_nn_rnn_is_the_static_rnn():
    cell = tf.nn.rnn_cell.BasicRNNCell(3)
    xs = [tf.placeholder(tf.float32, [2, 4]) for _ in range(3)]
    outputs, state = tf.nn.rnn(cell, xs, dtype=tf.float32)
    assert len(outputs) == 3 and state.shape.as_list() == [2, 3]


def test_math_and_array_names_compute_what_they_did():
    a = np.array([[1.0, -2.0], [3.0, 4.0]], np.float32)
    b = np.array([[0.5, 2.0], [-1.0, 0.25]], np.float32)
    with tf.Graph().as_default():
        x, y = tf.constant(a), tf.constant(b)
        outs = {
            "mul": tf.mul(x, y), "sub": tf.sub(x, y), "neg": tf.neg(x), "inv": tf.inv(y),
            "pack": tf.pack([x, y], axis=1), "unpack": tf.unpack(x)[1],
            "select": tf.select(x > 0, x, y), "batch_matmul": tf.batch_matmul(tf.pack([x, y]), tf.pack([y, x]),
                                                                                 adj_y=True),
            "arg_max": tf.arg_max(x, 1), "arg_min": tf.arg_min(x, 0),
            "listdiff": tf.listdiff([1, 2, 3, 4], [2, 4])[0],
        }
        assert outs["mul"].op.type == "Mul" and outs["sub"].op.type == "Sub" and outs["neg"].op.type == "Neg"
        assert outs["pack"].op.name == "pack"
        with tf.op_scope([x], None, "legacy") as scope:
            assert scope == "legacy/"
        with tf.Session() as sess:
            got = sess.run(outs)
    np.testing.assert_allclose(got["mul"], a * b)
    np.testing.assert_allclose(got["sub"], a - b)
    np.testing.assert_allclose(got["neg"], -a)
    np.testing.assert_allclose(got["inv"], 1 / b)
    np.testing.assert_allclose(got["pack"], np.stack([a, b], 1))
    np.testing.assert_allclose(got["unpack"], a[1])
    np.testing.assert_allclose(got["select"], np.where(a > 0, a, b))
    np.testing.assert_allclose(got["batch_matmul"], np.stack([a @ b.T, b @ a.T]), rtol=1e-6)
    np.testing.assert_array_equal(got["arg_max"], [0, 1])
    np.testing.assert_array_equal(got["arg_min"], [0, 0])
    np.testing.assert_array_equal(got["listdiff"], [1, 3])


def test_variable_initializers_of_old():
    with tf.Graph().as_default():
        v = tf.Variable(3.0)
        local = tf.Variable(4.0, collections=[tf.GraphKeys.LOCAL_VARIABLES])
        assert tf.all_variables() == [v]
        with tf.Session() as sess:
            sess.run([tf.initialize_all_variables(), tf.initialize_local_variables()])
            assert sess.run([v, local]) == [3.0, 4.0]
            sess.run(tf.assign(v, 5.0))
            sess.run(tf.initialize_variables([v]))
            assert sess.run(v) == 3.0


def test_summaries_of_old_use_their_tags_as_given(tmp_path):
    with tf.Graph().as_default() as g:
        with tf.name_scope("train"):
            loss = tf.constant(0.25)
            s1 = tf.scalar_summary("loss", loss)
            s2 = tf.scalar_summary(["a", "b"], tf.constant([1.0, 2.0]))
            s3 = tf.histogram_summary("weights", tf.constant([1.0, 2.0, 2.5]))
            s4 = tf.image_summary("img", tf.zeros([2, 4, 4, 1]), max_images=1)
        assert s1.op.name == "train/ScalarSummary" and s2.op.name == "train/ScalarSummary_1"
        assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [s1, s2, s3, s4]
        merged = tf.merge_all_summaries()
        pair = tf.merge_summary([s1, s3])
        assert merged.op.type == "MergeSummary" and pair.op.type == "MergeSummary"
        with tf.Session() as sess:
            data = sess.run(merged)
            writer = tf.train.SummaryWriter(str(tmp_path), g)
            writer.add_summary(data, global_step=3)
            writer.close()
    summary = tf.summary.Summary.FromString(data)
    assert [v.tag for v in summary.value] == ["loss", "a", "b", "weights", "img/image"]
    assert [v.simple_value for v in summary.value[:3]] == [0.25, 1.0, 2.0]
    assert tf.merge_all_summaries(key="nothing") is None
    files = glob.glob(os.path.join(str(tmp_path), "events.out.tfevents.*"))
    assert len(files) == 1 and os.path.getsize(files[0]) > 0
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    acc = ea.EventAccumulator(files[0])
    acc.Reload()
    assert acc.Scalars("loss")[0].step == 3 and acc.Scalars("b")[0].value == 2.0
