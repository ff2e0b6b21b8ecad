"""tf.layers (python/tideflow/layers/) on the Keras-style engine (keras/engine/base_layer.py): outputs, variable
names and shapes against TensorFlow's tf.compat.v1.layers (from tf_keras, where installed) with the same
weights, NumPy references for batch norm's moving statistics, TF1's reuse rules, UPDATE_OPS,
regularization losses, constraints and the Layer API."""
import warnings

import numpy as np
import pytest

import tideflow as tf


@pytest.fixture(scope="module")
def ref():
    """TensorFlow 1.x graph mode and its tf.layers (tf_keras's legacy_tf_layers)."""
    tf_ref = pytest.importorskip("tensorflow")
    pytest.importorskip("tf_keras")
    from tf_keras.src.legacy_tf_layers import convolutional, core, normalization, pooling
    v1 = tf_ref.compat.v1
    v1.disable_eager_execution()
    v1.disable_resource_variables()
    ns = type("TFLayers", (), {})()
    for mod in (core, convolutional, pooling, normalization):
        for k in dir(mod):
            if not k.startswith("_"):
                setattr(ns, k, getattr(mod, k))
    ns.v1 = v1
    return ns


def _run_tf(ref, build, feed, values=None):
    """Builds `build(layers, x, tf)` in a TF graph, loads `values` into its variables when given; returns
    (variable names and shapes, their values, the outputs, the outputs' names)."""
    v1 = ref.v1
    with v1.Graph().as_default() as g, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v1.set_random_seed(0)
        x = v1.placeholder(v1.float32, feed.shape)
        outs = build(ref, x, v1)
        with v1.Session(graph=g) as sess:
            sess.run(v1.global_variables_initializer())
            variables = v1.global_variables()
            for v, val in zip(variables, values or []):
                v.load(val, sess)
            values = sess.run(variables)
            results = sess.run(outs, {x: feed})
        return [(v.name, tuple(v.shape.as_list())) for v in variables], values, results, \
            [o.name for o in (outs if isinstance(outs, (list, tuple)) else [outs])]


def _run_tide(build, feed, values=None):
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, feed.shape)
        outs = build(tf.layers, x, tf)
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            variables = tf.global_variables()
            if values is not None:
                for v, val in zip(variables, values):
                    v.load(val, sess)
            results = sess.run(outs, {x: feed})
        return [(v.name, tuple(v.shape.as_list())) for v in variables], results, \
            [o.name for o in (outs if isinstance(outs, (list, tuple)) else [outs])]


RNG = np.random.RandomState(0)
CASES = {
    "dense": ((3, 5), lambda L, x, t: [L.dense(x, 4, activation=t.nn.relu), L.dense(x, 2, use_bias=False)]),
    "dense_rank3": ((2, 3, 5), lambda L, x, t: L.dense(x, 4, name="proj")),
    "conv1d": ((2, 9, 3), lambda L, x, t: L.conv1d(x, 4, 3, strides=2)),
    "conv2d": ((2, 7, 7, 3), lambda L, x, t: [L.conv2d(x, 4, 3, padding="same", activation=t.nn.relu),
                                              L.conv2d(x, 2, (2, 3), strides=(2, 1)),
                                              L.conv2d(x, 2, 3, dilation_rate=2)]),
    "conv3d": ((1, 5, 5, 5, 2), lambda L, x, t: L.conv3d(x, 3, 2, strides=2, padding="same")),
    "conv2d_transpose": ((2, 4, 4, 3), lambda L, x, t: [L.conv2d_transpose(x, 2, 3, strides=2, padding="same"),
                                                        L.conv2d_transpose(x, 2, 3, strides=2)]),
    "separable_conv2d": ((2, 6, 6, 3), lambda L, x, t: L.separable_conv2d(x, 4, 3, depth_multiplier=2)),
    "pooling": ((2, 6, 6, 3), lambda L, x, t: [L.max_pooling2d(x, 2, 2), L.average_pooling2d(x, 3, 2, padding="same"),
                                               L.flatten(x)]),
    "pooling1d": ((2, 7, 3), lambda L, x, t: [L.max_pooling1d(x, 2, 2), L.average_pooling1d(x, 3, 1)]),
    "pooling3d": ((1, 4, 4, 4, 2), lambda L, x, t: [L.max_pooling3d(x, 2, 2), L.average_pooling3d(x, 2, 2)]),
    "batch_norm_inference": ((4, 5, 5, 3), lambda L, x, t: [L.batch_normalization(x), L.batch_normalization(
        t.reshape(x, [4, -1]), center=False)]),
    "batch_norm_training": ((4, 5, 5, 3), lambda L, x, t: [L.batch_normalization(x, training=True),
                                                         L.batch_normalization(x, axis=1, training=True)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_layers_match_tensorflow(ref, case):
    shape, build = CASES[case]
    feed = RNG.randn(*shape).astype(np.float32)
    tf_vars, values, tf_out, tf_names = _run_tf(ref, build, feed)
    # Random statistics so inference-mode batch norm is not the identity.
    values = [v + RNG.rand(*v.shape).astype(np.float32) if "moving" in n else v for (n, _), v in zip(tf_vars, values)]
    tf_vars, values, tf_out, tf_names = _run_tf(ref, build, feed, values)
    our_vars, our_out, our_names = _run_tide(build, feed, values)
    assert our_vars == tf_vars
    assert our_names == tf_names
    for a, b in zip(our_out, tf_out):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)


def test_default_initializers_and_names():
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 30])
        y = tf.layers.dense(x, 20)
        z = tf.layers.dense(y, 10, kernel_initializer=tf.constant_initializer(0.5),
                            bias_initializer=tf.constant_initializer(-1.0))
        names = [v.name for v in tf.global_variables()]
        assert names == ["dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"]
        assert y.op.name == "dense/BiasAdd" and z.op.name == "dense_1/BiasAdd"
        assert "dense/MatMul" in [o.name for o in tf.get_default_graph().get_operations()]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            k, b, k1, b1 = sess.run(tf.global_variables())
        limit = np.sqrt(6.0 / (30 + 20))  # glorot_uniform, tf.get_variable's default
        assert np.abs(k).max() <= limit and np.abs(k).max() > 0.8 * limit and abs(k.mean()) < 0.05
        np.testing.assert_array_equal(b, 0)
        np.testing.assert_array_equal(k1, 0.5)
        np.testing.assert_array_equal(b1, -1.0)


def test_reuse_rules():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        a = tf.layers.dense(x, 2, name="fc")
        b = tf.layers.dense(x, 2, name="fc", reuse=True)
        assert [v.name for v in tf.global_variables()] == ["fc/kernel:0", "fc/bias:0"]
        assert a.op.name == "fc/BiasAdd" and b.op.name == "fc_1/BiasAdd"
        with pytest.raises(ValueError, match="fc/kernel already exists"):
            tf.layers.dense(x, 2, name="fc")
        with tf.variable_scope("outer"):
            tf.layers.dense(x, 2, name="fc")
        with tf.variable_scope("outer", reuse=True):
            tf.layers.dense(x, 2, name="fc")
        with tf.variable_scope("outer", reuse=tf.AUTO_REUSE):
            tf.layers.dense(x, 2, name="fc")
            tf.layers.dense(x, 2, name="other")
            tf.layers.dense(x, 2, name="other")
        assert len(tf.global_variables()) == 6
        with pytest.raises(ValueError, match="does not exist"):
            tf.layers.dense(x, 2, name="missing", reuse=True)
        # A layer object owns its variables: a second call shares them, ops get fresh names in its scope.
        layer = tf.layers.Dense(2, name="fc")
        c, d = layer(x), layer(x)
        assert layer.scope_name == "fc_1"
        # (name scopes "fc_1" and "fc_2" went to the reuse and to the call that raised, as in TF)
        assert c.op.name == "fc_3/BiasAdd" and d.op.name == "fc_3/BiasAdd_1"
        assert [v.name for v in layer.variables] == ["fc_1/kernel:0", "fc_1/bias:0"]
        with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
            layer(tf.placeholder(tf.float32, [None, 4]))
        unnamed = [tf.layers.Conv2D(1, 1) for _ in range(2)]
        img = tf.placeholder(tf.float32, [1, 2, 2, 1])
        assert [u(img).op.name for u in unnamed] == ["conv2d/BiasAdd", "conv2d_1/BiasAdd"]
        scoped = tf.layers.Dense(1)
        scoped(x, scope="chosen")
        assert scoped.scope_name == "chosen" and scoped.kernel.name == "chosen/kernel:0"


def test_templates_and_scope_reuse_share_layers():
    def net(x):
        return tf.layers.dense(tf.layers.dense(x, 4, activation=tf.nn.tanh), 1)

    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        tpl = tf.make_template("net", net)
        y1, y2 = tpl(x), tpl(x * 2.0)
        assert [v.name for v in tf.trainable_variables()] == [
            "net/dense/kernel:0", "net/dense/bias:0", "net/dense_1/kernel:0", "net/dense_1/bias:0"]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            feed = np.ones((2, 3), np.float32)
            a, b = sess.run([y1, y2], {x: feed})
            c = sess.run(y1, {x: 2 * feed})
        np.testing.assert_allclose(b, c, rtol=1e-6)
        assert not np.allclose(a, b)


def _moments(x, axes):
    return x.mean(axes), x.var(axes)


@pytest.mark.parametrize("fused", [True, False])
def test_batch_norm_updates_moving_statistics(fused):
    rng = np.random.RandomState(1)
    data = (rng.randn(6, 3, 3, 2) * 3 + 1).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, data.shape)
        y = tf.layers.batch_normalization(x, training=True, momentum=0.9, fused=fused)
        updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        assert [u.name for u in updates] == ["batch_normalization/AssignMovingAvg",
                                             "batch_normalization/AssignMovingAvg_1"]
        assert [v.name for v in tf.trainable_variables()] == ["batch_normalization/gamma:0",
                                                              "batch_normalization/beta:0"]
        assert [v.name for v in tf.global_variables()][2:] == ["batch_normalization/moving_mean:0",
                                                               "batch_normalization/moving_variance:0"]
        assert y.op.type == ("FusedBatchNormV3" if fused else "Add")
        with tf.control_dependencies(updates):
            train = tf.identity(y)
        mm, mv = tf.global_variables()[2:]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out = sess.run(train, {x: data})
            got_mean, got_var = sess.run([mm, mv])
            out_only = sess.run(y, {x: data})
            assert np.allclose(sess.run(mm), got_mean)  # running y alone leaves the statistics alone
    mean, var = _moments(data, (0, 1, 2))
    np.testing.assert_allclose(out, (data - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out_only, out, rtol=1e-6)
    n = data.size / data.shape[-1]
    batch_var = var * n / (n - 1) if fused else var  # the fused kernel averages the unbiased variance, as TF
    np.testing.assert_allclose(got_mean, 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_var, 0.9 + 0.1 * batch_var, rtol=1e-5)


def test_batch_norm_training_flag_as_tensor_and_frozen_layers():
    rng = np.random.RandomState(2)
    data = (rng.randn(8, 4) * 2 + 3).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, data.shape)
        training = tf.placeholder(tf.bool, [])
        y = tf.layers.batch_normalization(x, training=training, momentum=0.5)
        updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        assert len(updates) == 2
        inference = tf.layers.batch_normalization(x, training=False)
        frozen = tf.layers.BatchNormalization(trainable=False)
        frozen(x, training=True)
        assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2  # neither adds updates
        assert frozen.updates == [] and frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 4
        assert inference.op.name.startswith("batch_normalization_1/")
        mm = [v for v in tf.global_variables() if v.name == "batch_normalization/moving_mean:0"][0]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run([y] + updates, {x: data, training: False})
            np.testing.assert_array_equal(sess.run(mm), 0)  # updates inside the cond leave stats when false
            out_false = sess.run(y, {x: data, training: False})
            sess.run([y] + updates, {x: data, training: True})
            np.testing.assert_allclose(sess.run(mm), 0.5 * data.mean(0), rtol=1e-5)
            out_true = sess.run(y, {x: data, training: True})
    np.testing.assert_allclose(out_false, data / np.sqrt(1 + 1e-3), rtol=1e-5)
    mean, var = _moments(data, 0)
    np.testing.assert_allclose(out_true, (data - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)


def test_dropout_training_argument():
    data = np.ones((200, 50), np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, data.shape)
        training = tf.placeholder_with_default(False, [])
        off = tf.layers.dropout(x, 0.3)
        on = tf.layers.dropout(x, 0.3, training=True, seed=1)
        flag = tf.layers.dropout(x, 0.3, training=training)
        assert off.op.type == "Identity" and off.op.name == "dropout/Identity"
        with tf.Session() as sess:
            a, b, c, d = sess.run([off, on, flag, flag], {x: data})[:3] + [sess.run(flag, {x: data, training: True})]
    np.testing.assert_array_equal(a, data)
    np.testing.assert_array_equal(c, data)
    for kept in (b, d):
        assert set(np.unique(kept)) <= {0.0, np.float32(1 / 0.7)}
        assert 0.25 < (kept == 0).mean() < 0.35


def test_regularizers_constraints_and_collections():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        layer = tf.layers.Dense(2, kernel_initializer=tf.constant_initializer(2.0),
                                kernel_regularizer=lambda w: tf.reduce_sum(tf.abs(w)),
                                bias_regularizer=lambda b: tf.constant(0.5),
                                activity_regularizer=lambda y: tf.reduce_sum(tf.square(y)),
                                kernel_constraint=lambda w: tf.clip_by_value(w, -1.0, 1.0))
        y = layer(x)
        layer(x)  # a second call: a second activity loss, no second weight loss
        losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        assert [t.name for t in losses] == ["dense/kernel/Regularizer/Sum:0", "dense/bias/Regularizer/Const:0",
                                            "dense/ActivityRegularizer/truediv:0",
                                            "dense/ActivityRegularizer_1/truediv:0"]
        assert layer.losses == losses
        assert layer.get_losses_for(None) == losses[:2]
        assert layer.get_losses_for(x) == losses[2:]
        assert layer.kernel.constraint is not None
        train = tf.train.GradientDescentOptimizer(0.01).minimize(tf.reduce_sum(y))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            feed = np.array([[1, 2, 3]], np.float32)
            vals = sess.run(losses, {x: feed})
            sess.run(train, {x: feed})
            kernel = sess.run(layer.kernel)
        assert vals[:2] == [12.0, 0.5]
        assert vals[2] == pytest.approx(2 * 12.0 ** 2)
        np.testing.assert_array_equal(kernel, 1.0)  # the optimizer applies the constraint after its update
        total = tf.losses.get_regularization_loss()
        assert total.op.type in ("AddN", "Identity")


def test_layer_properties():
    with tf.Graph().as_default():
        img = tf.placeholder(tf.float32, [None, 8, 8, 2])
        conv = tf.layers.Conv2D(3, 3, padding="same")
        bn = tf.layers.BatchNormalization()
        pool = tf.layers.MaxPooling2D(2, 2)
        flat = tf.layers.Flatten()
        dense = tf.layers.Dense(5, trainable=False)
        assert not conv.built and conv.variables == []
        out = dense(flat(pool(bn(conv(img), training=True))))
        assert conv.built and [w.shape.as_list() for w in conv.weights] == [[3, 3, 2, 3], [3]]
        assert conv.count_params() == 3 * 3 * 2 * 3 + 3
        assert [v.name for v in bn.trainable_variables] == ["batch_normalization/gamma:0",
                                                            "batch_normalization/beta:0"]
        assert [v.name for v in bn.non_trainable_variables] == ["batch_normalization/moving_mean:0",
                                                                "batch_normalization/moving_variance:0"]
        assert len(bn.updates) == 2 and bn.get_updates_for(None) == [] and bn.get_updates_for(img) == bn.updates
        assert dense.trainable_weights == [] and len(dense.non_trainable_weights) == 2
        assert dense.kernel not in tf.trainable_variables()
        assert out.shape.as_list() == [None, 5]
        assert dense.compute_output_shape([None, 48]).as_list() == [None, 5]
        assert conv.compute_output_shape([None, 8, 8, 2]).as_list() == [None, 8, 8, 3]
        assert pool.compute_output_shape([None, 8, 8, 3]).as_list() == [None, 4, 4, 3]
        assert flat.compute_output_shape([None, 4, 4, 3]).as_list() == [None, 48]
        assert tf.layers.Conv2DTranspose(2, 3, strides=2).compute_output_shape([1, 4, 4, 1]).as_list() == [1, 9, 9, 2]
        assert conv.get_config()["filters"] == 3 and conv.get_config()["padding"] == "same"
        assert isinstance(conv.input_spec, tf.layers.InputSpec) and conv.input_spec.axes == {-1: 2}
        with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
            tf.layers.conv2d(tf.placeholder(tf.float32, [1, 2, 3]), 1, 1)
        with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
            tf.layers.dense(tf.placeholder(tf.float32, [3]), 1)
        with pytest.raises(ValueError, match="last dimension of the inputs to `Dense` should be defined"):
            tf.layers.dense(tf.placeholder(tf.float32, [None, None]), 1)
        with pytest.raises(ValueError, match="`kernel_size` argument must be a tuple of 2 integers"):
            tf.layers.Conv2D(1, (1, 2, 3))
        with pytest.raises(ValueError, match="`padding` argument"):
            tf.layers.Conv2D(1, 1, padding="full")
        with pytest.raises(ValueError, match="No name available for layer scope"):
            tf.layers.Dense(1).scope_name
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            with sess.as_default():
                weights = conv.get_weights()
                conv.set_weights([np.ones_like(w) for w in weights])
                assert all((w == 1).all() for w in conv.get_weights())


def test_custom_layers_on_both_engines():
    """A user Layer: build/add_weight/call once per layer object; tf.layers names by variable scope,
    the Keras engine (issue 13's base) by name scope, and tracks sublayers."""
    from tideflow.keras.engine.base_layer import Layer as KerasLayer
    from tideflow.keras.layers.core import Dense as KerasDense

    class Scale(tf.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", [int(input_shape[-1])], initializer=tf.ones_initializer())
            self.c = self.add_weight("count", [], initializer=tf.zeros_initializer(), trainable=False)
            super().build(input_shape)

        def call(self, inputs):
            self.add_update(tf.assign_add(self.c, 1.0))
            return inputs * self.w

    class Block(KerasLayer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = KerasDense(3)
            self.outer = KerasDense(2)

        def call(self, inputs):
            return self.outer(self.inner(inputs))

    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        s = Scale()
        y = s(x)
        assert [v.name for v in s.weights] == ["scale/w:0", "scale/count:0"]
        assert s.trainable_weights == [s.w] and len(s.updates) == 1
        assert s.updates[0] in tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        assert s.get_updates_for(None) == s.updates  # the counter does not depend on the inputs
        block = Block()
        z = block(y)
        assert [v.name for v in block.weights] == ["block/dense/kernel:0", "block/dense/bias:0",
                                                   "block/dense_1/kernel:0", "block/dense_1/bias:0"]
        assert z.op.name == "block/dense_1/BiasAdd"
        z2 = block(y)
        assert z2.op.name == "block_1/dense_1/BiasAdd" and len(block.weights) == 4
        block.trainable = False
        assert block.trainable_weights == [] and len(block.non_trainable_weights) == 4
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run([y] + s.updates, {x: np.ones((1, 4))})
            assert sess.run(s.c) == 1.0


@pytest.mark.parametrize("build,perm", [
    (lambda L, x, df: L.conv2d(x, 3, 3, strides=2, padding="same", data_format=df, name="c"), (0, 3, 1, 2)),
    (lambda L, x, df: L.conv2d_transpose(x, 3, 3, strides=2, data_format=df, name="c"), (0, 3, 1, 2)),
    (lambda L, x, df: L.separable_conv2d(x, 3, 3, data_format=df, name="c"), (0, 3, 1, 2)),
    (lambda L, x, df: L.max_pooling2d(x, 2, 2, data_format=df), (0, 3, 1, 2)),
    (lambda L, x, df: L.flatten(L.average_pooling2d(x, 2, 1, data_format=df), data_format=df), None),
])
def test_channels_first_matches_channels_last(build, perm):
    """NCHW layers give the NHWC results transposed (TensorFlow's CPU kernels lack most NCHW forms, so
    tideflow's NHWC path, checked against TF above, is the reference)."""
    data = np.random.RandomState(4).randn(2, 6, 6, 2).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.constant(data)
        last = build(tf.layers, x, "channels_last")
        with tf.variable_scope("", reuse=tf.AUTO_REUSE):
            first = build(tf.layers, tf.transpose(x, [0, 3, 1, 2]), "channels_first")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            a, b = sess.run([last, first])
    np.testing.assert_allclose(b, a if perm is None else a.transpose(perm), rtol=1e-5, atol=1e-5)
