"""End to end with RNNs: an LSTM reading the 8 rows of each scikit-learn digit (article 003's MNIST classifier
at digits' size) must reach 0.90 test accuracy; article 003's sin -> cos regression with a BasicRNNCell, run
as the article writes it (the state fed back through zero_state's tensor), must bring its loss below a
bound."""
import numpy as np
import pytest

import tideflow as tf


def test_lstm_reads_digit_rows():
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    X = (digits.images / 16.0).astype(np.float32)  # [1797, 8 steps, 8 inputs]
    y = digits.target.astype(np.int64)
    order = np.random.RandomState(0).permutation(len(X))
    X, y = X[order], y[order]
    split = 1437
    Xtr, ytr, Xte, yte = X[:split], y[:split], X[split:], y[split:]
    with tf.Graph().as_default() as g:
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 8, 8])
        labels = tf.placeholder(tf.int64, [None])
        cell = tf.contrib.rnn.BasicLSTMCell(32)
        outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        logits = tf.layers.dense(state.h, 10)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        train = tf.train.AdamOptimizer(1e-2).minimize(loss)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))
        types = {op.type for op in g.get_operations()}
        assert {"While", "LSTMBlockCell", "LSTMBlockCellGradFused"} <= types, types
        assert [v.op.name for v in tf.trainable_variables()][:2] == ["rnn/basic_lstm_cell/kernel",
                                                                     "rnn/basic_lstm_cell/bias"]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            batches = np.random.RandomState(2)
            for _ in range(10):
                idx = batches.permutation(split)
                for i in range(0, split, 64):
                    b = idx[i:i + 64]
                    sess.run(train, {x: Xtr[b], labels: ytr[b]})
            acc = sess.run(accuracy, {x: Xte, labels: yte})
    assert acc >= 0.90, acc


def test_article_003_sin_to_cos_regression():
    """The RNN part of article 003 (Morvan Zhou's tutorial), its plotting left out: one sequence of 10 sin
    values per step, the state carried from step to step by feeding final_s_ into init_s."""
    TIME_STEP, INPUT_SIZE, CELL_SIZE, LR = 10, 1, 32, 0.02
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        tf_x = tf.placeholder(tf.float32, [None, TIME_STEP, INPUT_SIZE])
        tf_y = tf.placeholder(tf.float32, [None, TIME_STEP, INPUT_SIZE])
        rnn_cell = tf.contrib.rnn.BasicRNNCell(num_units=CELL_SIZE)
        init_s = rnn_cell.zero_state(batch_size=1, dtype=tf.float32)
        outputs, final_s = tf.nn.dynamic_rnn(rnn_cell, tf_x, initial_state=init_s, time_major=False)
        outs2D = tf.reshape(outputs, [-1, CELL_SIZE])
        net_outs2D = tf.layers.dense(outs2D, INPUT_SIZE)
        outs = tf.reshape(net_outs2D, [-1, TIME_STEP, INPUT_SIZE])
        loss = tf.losses.mean_squared_error(labels=tf_y, predictions=outs)
        train_op = tf.train.AdamOptimizer(LR).minimize(loss)
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        losses = []
        final_s_ = None
        for step in range(60):
            start, end = step * np.pi, (step + 1) * np.pi
            steps = np.linspace(start, end, TIME_STEP)
            x = np.sin(steps)[np.newaxis, :, np.newaxis]
            y = np.cos(steps)[np.newaxis, :, np.newaxis]
            if final_s_ is None:
                feed_dict = {tf_x: x, tf_y: y}
            else:
                feed_dict = {tf_x: x, tf_y: y, init_s: final_s_}
            _, pred_, final_s_, l = sess.run([train_op, outs, final_s, loss], feed_dict)
            losses.append(l)
            assert pred_.shape == (1, TIME_STEP, INPUT_SIZE)
        sess.close()
    # The first steps' loss is about 0.5 (cos against ~0); the last ten average well under 0.05.
    assert np.mean(losses[:3]) > 0.2, losses[:3]
    assert np.mean(losses[-10:]) < 0.05, losses[-10:]
