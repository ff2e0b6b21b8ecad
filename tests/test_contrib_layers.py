"""tf.contrib.layers (python/tideflow/contrib/layers.py): TF 1.15's variable names and collections
(`fully_connected/weights`, `Conv/biases`, MODEL_VARIABLES), values against NumPy, batch_norm's two paths
and their moving-average updates, initializer statistics and regularizer values. (TensorFlow 2 has no
contrib to compare with, so the references are NumPy and tideflow's tf.nn ops, tested elsewhere.)"""
import numpy as np
import pytest

import tideflow as tf

L = tf.contrib.layers


def _names(vs):
    return [v.name for v in vs]


def test_contrib_is_a_lazy_package():
    assert L.fully_connected is tf.contrib.layers.fully_connected
    with pytest.raises(AttributeError, match="has no attribute 'nothere'"):
        tf.contrib.nothere  # noqa: B018


def test_fully_connected_names_values_and_collections():
    rng = np.random.RandomState(0)
    feed = rng.randn(5, 4).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        h = L.fully_connected(x, 3, variables_collections={"weights": ["my_weights"]},
                              outputs_collections="outs")
        y = L.fully_connected(h, 2, activation_fn=None, scope="logits")
        z = L.fully_connected(h, 2, activation_fn=None, scope="logits", reuse=True)
        n = L.fully_connected(x, 3, normalizer_fn=L.batch_norm, normalizer_params={"is_training": False})
        assert _names(tf.global_variables()) == [
            "fully_connected/weights:0", "fully_connected/biases:0", "logits/weights:0", "logits/biases:0",
            "fully_connected_1/weights:0", "fully_connected_1/BatchNorm/beta:0",
            "fully_connected_1/BatchNorm/moving_mean:0", "fully_connected_1/BatchNorm/moving_variance:0"]
        assert _names(tf.get_collection(tf.GraphKeys.MODEL_VARIABLES)) == _names(tf.global_variables())
        assert _names(tf.trainable_variables()) == _names(tf.global_variables())[:6]
        assert _names(tf.get_collection("my_weights")) == ["fully_connected/weights:0"]
        assert tf.get_collection("outs") == [h]
        assert h.op.name == "fully_connected/Relu" and y.op.name == "logits/BiasAdd"
        assert z.op.name == "logits_1/BiasAdd"
        assert n.op.name == "fully_connected_1/Relu"
        with pytest.raises(ValueError, match="num_outputs type"):
            L.fully_connected(x, 2.0)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            w, b, w2, b2 = sess.run(tf.global_variables()[:4])
            got_h, got_y, got_z, got_n = sess.run([h, y, z, n], {x: feed})
            w3 = sess.run(tf.global_variables()[4])
    limit = np.sqrt(6.0 / 7)  # xavier (uniform) by default
    assert 0 < np.abs(w).max() <= limit
    np.testing.assert_allclose(got_h, np.maximum(feed @ w + b, 0), rtol=1e-5)
    np.testing.assert_allclose(got_y, got_h @ w2 + b2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_z, got_y)
    np.testing.assert_allclose(got_n, np.maximum(feed @ w3 / np.sqrt(1 + 0.001), 0), rtol=1e-4, atol=1e-6)


def test_conv2d_pooling_flatten_dropout():
    rng = np.random.RandomState(1)
    feed = rng.randn(2, 6, 6, 3).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, feed.shape)
        c = L.conv2d(x, 4, [3, 3])
        c2 = L.conv2d(c, 2, 1, stride=2, padding="VALID", activation_fn=None, biases_initializer=None)
        p = L.max_pool2d(c, [2, 2])
        a = L.avg_pool2d(c, 3, stride=1, padding="SAME")
        f = L.flatten(p)
        d_train = L.dropout(f, keep_prob=0.5)
        d_eval = L.dropout(f, keep_prob=0.5, is_training=False)
        assert _names(tf.global_variables()) == ["Conv/weights:0", "Conv/biases:0", "Conv_1/weights:0"]
        assert [v.shape.as_list() for v in tf.global_variables()] == [[3, 3, 3, 4], [4], [1, 1, 4, 2]]
        assert c.op.name == "Conv/Relu" and p.op.name == "MaxPool2D/MaxPool" and a.op.name == "AvgPool2D/AvgPool"
        assert f.op.name == "Flatten/flatten/Reshape" and f.shape.as_list() == [2, 36]
        assert c2.shape.as_list() == [2, 3, 3, 2]
        with pytest.raises(ValueError, match="data_format has to be either NCHW or NHWC"):
            L.max_pool2d(c, 2, data_format="NWC")
        w, b = tf.global_variables()[:2]
        ref_c = tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME") + b)
        ref_p = tf.nn.max_pool(ref_c, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
        ref_a = tf.nn.avg_pool(ref_c, [1, 3, 3, 1], [1, 1, 1, 1], "SAME")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out = sess.run([c, p, a, d_train, d_eval, f, ref_c, ref_p, ref_a], {x: feed})
    np.testing.assert_allclose(out[0], out[6], rtol=1e-6)
    np.testing.assert_allclose(out[1], out[7], rtol=1e-6)
    np.testing.assert_allclose(out[2], out[8], rtol=1e-6)
    np.testing.assert_array_equal(out[4], out[5])
    kept = out[3] != 0
    np.testing.assert_allclose(out[3][kept], 2 * out[5][kept], rtol=1e-6)


def _bn_data(shape, seed=2):
    return (np.random.RandomState(seed).randn(*shape) * 2 + 1).astype(np.float32)


def test_batch_norm_layer_path_updates_through_update_ops():
    data = _bn_data((8, 3, 3, 2))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, data.shape)
        y = L.batch_norm(x, decay=0.9, scale=True)
        assert _names(tf.global_variables()) == ["BatchNorm/gamma:0", "BatchNorm/beta:0", "BatchNorm/moving_mean:0",
                                                 "BatchNorm/moving_variance:0"]
        assert _names(tf.get_collection(tf.GraphKeys.MODEL_VARIABLES)) == _names(tf.global_variables())
        updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        assert len(updates) == 2
        mm = tf.global_variables()[2]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out = sess.run(y, {x: data})
            np.testing.assert_array_equal(sess.run(mm), 0)
            sess.run(updates, {x: data})
            got = sess.run(mm)
    mean, var = data.mean((0, 1, 2)), data.var((0, 1, 2))
    np.testing.assert_allclose(out, (data - mean) / np.sqrt(var + 0.001), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got, 0.1 * mean, rtol=1e-5)


def test_batch_norm_fused_path_rank2_and_forced_updates():
    data = _bn_data((10, 3))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, data.shape)
        training = tf.placeholder(tf.bool, [])
        y = L.batch_norm(x, decay=0.5, is_training=training)        # rank 2: contrib's fused path
        assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
        z = L.batch_norm(x, decay=0.5, updates_collections=None)    # updates run with the output
        assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
        assert y.shape.as_list() == [10, 3]
        mm1, mm2 = [v for v in tf.global_variables() if v.name.endswith("moving_mean:0")]
        mv2 = [v for v in tf.global_variables() if v.name.endswith("moving_variance:0")][1]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.get_collection(tf.GraphKeys.UPDATE_OPS), {x: data, training: False})
            np.testing.assert_array_equal(sess.run(mm1), 0)
            sess.run(tf.get_collection(tf.GraphKeys.UPDATE_OPS), {x: data, training: True})
            got1 = sess.run(mm1)
            out_z = sess.run(z, {x: data})
            got2, got_v2 = sess.run([mm2, mv2])
    mean, var = data.mean(0), data.var(0)
    np.testing.assert_allclose(got1, 0.5 * mean, rtol=1e-5)
    np.testing.assert_allclose(got2, 0.5 * mean, rtol=1e-5)
    np.testing.assert_allclose(got_v2, 0.5 + 0.5 * var * 10 / 9, rtol=1e-5)  # the unbiased batch variance
    np.testing.assert_allclose(out_z, (data - mean) / np.sqrt(var + 0.001), rtol=1e-4, atol=1e-4)


def test_layer_norm_and_one_hot():
    data = _bn_data((4, 3, 5))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, data.shape)
        y = L.layer_norm(x)
        oh = L.one_hot_encoding(tf.constant([0, 2], tf.int32), 3)
        assert _names(tf.global_variables()) == ["LayerNorm/beta:0", "LayerNorm/gamma:0"]
        assert tf.global_variables()[0].shape.as_list() == [5]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out, onehot = sess.run([y, oh], {x: data})
    mean = data.mean((1, 2), keepdims=True)
    var = data.var((1, 2), keepdims=True)
    np.testing.assert_allclose(out, (data - mean) / np.sqrt(var + 1e-12), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(onehot, [[1, 0, 0], [0, 0, 1]])
    assert oh.dtype == tf.float32


@pytest.mark.parametrize("mode,uniform", [("FAN_IN", False), ("FAN_OUT", True), ("FAN_AVG", False)])
def test_variance_scaling_initializer_statistics(mode, uniform):
    shape = [3, 3, 40, 60]
    fan_in, fan_out = 3 * 3 * 40, 3 * 3 * 60
    n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2}[mode]
    with tf.Graph().as_default():
        init = L.variance_scaling_initializer(factor=2.0, mode=mode, uniform=uniform, seed=3)
        v = tf.get_variable("v", shape, initializer=init)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            w = sess.run(v)
    if uniform:
        limit = np.sqrt(3 * 2.0 / n)
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    else:  # a normal of stddev sqrt(1.3 factor / n) cut at two deviations has stddev sqrt(factor / n)
        assert np.abs(w).max() <= 2 * np.sqrt(1.3 * 2.0 / n) + 1e-6
    assert w.std() == pytest.approx(np.sqrt(2.0 / n), rel=0.05)


def test_xavier_initializer_and_errors():
    with tf.Graph().as_default():
        v = tf.get_variable("v", [100, 300], initializer=L.xavier_initializer(seed=1))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            w = sess.run(v)
    assert w.std() == pytest.approx(np.sqrt(2.0 / 400), rel=0.03)
    assert np.abs(w).max() <= np.sqrt(6.0 / 400)
    with pytest.raises(TypeError, match="Unknown mode"):
        L.variance_scaling_initializer(mode="fan_in")
    with pytest.raises(TypeError, match="non-floating point"):
        L.xavier_initializer(dtype=tf.int32)


def test_regularizers():
    w_val = np.array([[1.0, -2.0], [3.0, -4.0]], np.float32)
    with tf.Graph().as_default():
        w = tf.constant(w_val)
        l1 = L.l1_regularizer(0.5)(w)
        l2 = L.l2_regularizer(0.5)(w)
        l12 = L.l1_l2_regularizer(0.5, 0.25)(w)
        assert L.l2_regularizer(0.0)(w) is None
        assert l2.op.name == "l2_regularizer" and l1.op.name == "l1_regularizer"
        tf.add_to_collection(tf.GraphKeys.WEIGHTS, w)
        total = L.apply_regularization(L.l1_regularizer(1.0))
        assert total.op.name.startswith("get_regularization_penalty")
        with pytest.raises(ValueError, match="scale cannot be an integer"):
            L.l2_regularizer(1)
        with pytest.raises(ValueError, match="less than 0"):
            L.l1_regularizer(-0.1)
        with tf.Session() as sess:
            got = sess.run([l1, l2, l12, total])
    assert got[0] == pytest.approx(0.5 * 10)
    assert got[1] == pytest.approx(0.5 * 30 / 2)
    assert got[2] == pytest.approx(0.5 * 10 + 0.25 * 30 / 2)
    assert got[3] == pytest.approx(10)
