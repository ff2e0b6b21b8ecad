"""End to end: a small CNN with dropout, trained with Adam on scikit-learn's 8x8 digits, through
tf.nn.conv2d, max_pool, bias_add, dropout and their gradients (Conv2DBackpropInput/Filter, MaxPoolGrad,
BiasAddGrad). It must reach 0.95 test accuracy in a few seconds."""
import numpy as np
import pytest

import tideflow as tf

datasets = pytest.importorskip("sklearn.datasets")


def test_cnn_with_dropout_learns_digits():
    digits = datasets.load_digits()
    X = (digits.images / 16.0).astype(np.float32)[..., None]  # [1797, 8, 8, 1]
    y = digits.target.astype(np.int64)
    rng = np.random.RandomState(0)
    order = rng.permutation(len(X))
    X, y = X[order], y[order]
    split = 1437
    Xtr, ytr, Xte, yte = X[:split], y[:split], X[split:], y[split:]

    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(42)
        x = tf.placeholder(tf.float32, [None, 8, 8, 1], name="x")
        labels = tf.placeholder(tf.int64, [None], name="labels")
        keep_prob = tf.placeholder_with_default(1.0, [], name="keep_prob")

        def conv(h, cin, cout, name):
            with tf.variable_scope(name):
                w = tf.get_variable("weights", [3, 3, cin, cout],
                                    initializer=tf.truncated_normal_initializer(stddev=0.1))
                b = tf.get_variable("biases", [cout], initializer=tf.constant_initializer(0.1))
                return tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, w, [1, 1, 1, 1], "SAME"), b))

        h = tf.nn.max_pool(conv(x, 1, 16, "conv1"), [1, 2, 2, 1], [1, 2, 2, 1], "SAME")   # 4x4x16
        h = tf.nn.max_pool(conv(h, 16, 32, "conv2"), [1, 2, 2, 1], [1, 2, 2, 1], "SAME")  # 2x2x32
        h = tf.reshape(h, [-1, 2 * 2 * 32])
        w1 = tf.get_variable("fc1/weights", [128, 64], initializer=tf.truncated_normal_initializer(stddev=0.1))
        b1 = tf.get_variable("fc1/biases", [64], initializer=tf.constant_initializer(0.1))
        h = tf.nn.dropout(tf.nn.relu(tf.matmul(h, w1) + b1), keep_prob=keep_prob)
        w2 = tf.get_variable("fc2/weights", [64, 10], initializer=tf.truncated_normal_initializer(stddev=0.1))
        logits = tf.matmul(h, w2) + tf.get_variable("fc2/biases", [10], initializer=tf.zeros_initializer())
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        train = tf.train.AdamOptimizer(3e-3).minimize(loss)
        correct = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))
        ops = {o.type for o in g.get_operations()}
        for op_type in ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "MaxPool", "MaxPoolGrad",
                        "BiasAdd", "BiasAddGrad", "RandomUniform"):
            assert op_type in ops, op_type

        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            batches = np.random.RandomState(1)
            for epoch in range(12):
                idx = batches.permutation(split)
                for i in range(0, split, 64):
                    b = idx[i:i + 64]
                    sess.run(train, {x: Xtr[b], labels: ytr[b], keep_prob: 0.75})
            acc = sess.run(correct, {x: Xte, labels: yte})
    assert acc >= 0.95, acc
