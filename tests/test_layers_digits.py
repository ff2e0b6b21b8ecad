"""End to end with tf.layers: conv2d, batch_normalization (moving statistics through UPDATE_OPS),
max_pooling2d, flatten, dense and dropout(training=tensor) trained with Adam on scikit-learn's 8x8 digits;
evaluated in inference mode (moving statistics, no dropout) it must reach 0.95 test accuracy."""
import numpy as np
import pytest

import tideflow as tf

datasets = pytest.importorskip("sklearn.datasets")


def test_tf_layers_cnn_learns_digits():
    digits = datasets.load_digits()
    X = (digits.images / 16.0).astype(np.float32)[..., None]
    y = digits.target.astype(np.int64)
    order = np.random.RandomState(0).permutation(len(X))
    X, y = X[order], y[order]
    split = 1437
    Xtr, ytr, Xte, yte = X[:split], y[:split], X[split:], y[split:]

    with tf.Graph().as_default():
        tf.set_random_seed(7)
        x = tf.placeholder(tf.float32, [None, 8, 8, 1], name="x")
        labels = tf.placeholder(tf.int64, [None], name="labels")
        training = tf.placeholder_with_default(False, [], name="training")
        h = tf.layers.conv2d(x, 16, 3, padding="same", use_bias=False)
        h = tf.nn.relu(tf.layers.batch_normalization(h, training=training))
        h = tf.layers.max_pooling2d(h, 2, 2)                                          # 4x4x16
        h = tf.layers.conv2d(h, 32, 3, padding="same", activation=tf.nn.relu)
        h = tf.layers.max_pooling2d(h, 2, 2)                                          # 2x2x32
        h = tf.layers.dense(tf.layers.flatten(h), 64, activation=tf.nn.relu)
        h = tf.layers.dropout(h, rate=0.25, training=training)
        logits = tf.layers.dense(h, 10)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            train = tf.train.AdamOptimizer(3e-3).minimize(loss)
        correct = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))
        assert [v.name for v in tf.trainable_variables()] == [
            "conv2d/kernel:0", "batch_normalization/gamma:0", "batch_normalization/beta:0", "conv2d_1/kernel:0",
            "conv2d_1/bias:0", "dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"]
        moving_mean = tf.global_variables()[3]
        assert moving_mean.name == "batch_normalization/moving_mean:0"

        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            batches = np.random.RandomState(1)
            for epoch in range(10):
                idx = batches.permutation(split)
                for i in range(0, split, 64):
                    b = idx[i:i + 64]
                    sess.run(train, {x: Xtr[b], labels: ytr[b], training: True})
            assert np.abs(sess.run(moving_mean)).max() > 0  # the statistics moved during training
            acc = sess.run(correct, {x: Xte, labels: yte})
    assert acc >= 0.95, acc
