"""Each workload defined once, with one setup per framework. A setup returns a zero-argument callable
that does one unit of work; `units` says what one call is worth (ops, bytes, flops, steps)."""
import os

import numpy as np

N_BIG = 10_000_000


def _tf1():
    import tensorflow.compat.v1 as tf  # noqa: F811
    tf.disable_eager_execution()
    tf.disable_resource_variables()
    return tf


def _session(tf, threads, graph):
    cfg = tf.ConfigProto(inter_op_parallelism_threads=threads, intra_op_parallelism_threads=threads)
    return tf.Session(graph=graph, config=cfg)


# ---- graph-mode frameworks share the same program text ----------------------------------------------
def graph_trivial(tf, threads):
    g = tf.Graph()
    with g.as_default():
        y = tf.constant(1.0) + 1.0
    sess = _session(tf, threads, g)
    sess.run(y)
    return lambda: sess.run(y)


def graph_chain(n_ops):
    def setup(tf, threads):
        g = tf.Graph()
        with g.as_default():
            x = tf.placeholder(tf.float32, [16])
            c = tf.placeholder(tf.float32, [16])
            y = x
            for i in range(n_ops):
                y = y + c if i % 2 == 0 else y * c
        sess = _session(tf, threads, g)
        feed = {x: np.ones(16, np.float32), c: np.full(16, 0.999, np.float32)}
        sess.run(y, feed)
        return lambda: sess.run(y, feed)
    return setup


def graph_while(n_iter):
    """A while_loop of n_iter scalar iterations (issue 10: at most 0.5x TensorFlow's time, one thread)."""
    def setup(tf, threads):
        g = tf.Graph()
        with g.as_default():
            x = tf.placeholder(tf.float32, [])
            _, y = tf.while_loop(lambda i, a: i < n_iter, lambda i, a: (i + 1, a * 0.999 + x),
                                 [tf.constant(0), tf.constant(0.0)])
        sess = _session(tf, threads, g)
        feed = {x: 1.0}
        sess.run(y, feed)
        return lambda: sess.run(y, feed)
    return setup


def graph_cond_chain(n_ops):
    """tf.cond between two chains of n_ops ops: against chain<n_ops>, what the cond adds (issue 10: the
    untaken branch costs at most one node's overhead)."""
    def setup(tf, threads):
        g = tf.Graph()
        with g.as_default():
            x = tf.placeholder(tf.float32, [16])
            c = tf.placeholder(tf.float32, [16])
            p = tf.placeholder(tf.bool, [])

            def chain(first):
                y = x
                for i in range(n_ops):
                    y = y + c if i % 2 == first else y * c
                return y
            y = tf.cond(p, lambda: chain(0), lambda: chain(1))
        sess = _session(tf, threads, g)
        feed = {x: np.ones(16, np.float32), c: np.full(16, 0.999, np.float32), p: True}
        sess.run(y, feed)
        return lambda: sess.run(y, feed)
    return setup


def graph_matmul(n):
    def setup(tf, threads):
        g = tf.Graph()
        with g.as_default():
            a = tf.placeholder(tf.float32, [n, n])
            b = tf.placeholder(tf.float32, [n, n])
            y = tf.matmul(a, b)
        sess = _session(tf, threads, g)
        rng = np.random.RandomState(0)
        feed = {a: rng.rand(n, n).astype(np.float32), b: rng.rand(n, n).astype(np.float32)}
        sess.run(y, feed)
        return lambda: sess.run(y, feed)
    return setup


def graph_axpb(tf, threads):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [N_BIG])
        y = 2.5 * x + 1.5
    sess = _session(tf, threads, g)
    feed = {x: np.random.RandomState(0).rand(N_BIG).astype(np.float32)}
    sess.run(y, feed)
    return lambda: sess.run(y, feed)


def graph_linreg(tf, threads):
    """The seed's batch gradient descent: tf.gradients + tf.assign, one run per epoch."""
    rng = np.random.RandomState(42)
    X = np.c_[np.ones((20640, 1)), rng.randn(20640, 8)].astype(np.float32)
    yv = rng.randn(20640, 1).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        Xc = tf.constant(X, name="X")
        yc = tf.constant(yv, name="y")
        theta = tf.Variable(tf.random_uniform([9, 1], -1.0, 1.0, seed=42), name="theta")
        err = tf.matmul(Xc, theta) - yc
        mse = tf.reduce_mean(tf.square(err), name="mse")
        grad = tf.gradients(mse, [theta])[0]
        op = tf.assign(theta, theta - 0.01 * grad)
        init = tf.global_variables_initializer()
    sess = _session(tf, threads, g)
    sess.run(init)

    def epochs():
        for _ in range(1000):
            sess.run(op)
    return epochs


def graph_mlp(tf, threads, summaries=False):
    rng = np.random.RandomState(0)
    xb = rng.rand(128, 784).astype(np.float32)
    yb = rng.randint(0, 10, 128).astype(np.int64)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, 784])
        y = tf.placeholder(tf.int64, [None])
        h = x
        for i, (a, b) in enumerate([(784, 256), (256, 128), (128, 10)]):
            w = tf.Variable(tf.truncated_normal([a, b], stddev=0.05), name="w%d" % i)
            bias = tf.Variable(tf.zeros([b]), name="b%d" % i)
            h = tf.matmul(h, w) + bias
            if i < 2:
                h = tf.nn.relu(h)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf.global_variables_initializer()
        summary = tf.summary.scalar("loss", loss) if summaries else None
    sess = _session(tf, threads, g)
    sess.run(init)
    feed = {x: xb, y: yb}
    sess.run(train, feed)
    if not summaries:
        return lambda: sess.run(train, feed)
    import tempfile
    writer = tf.summary.FileWriter(tempfile.mkdtemp(prefix="bench-summary-"), flush_secs=2)
    step = [0]

    def train_and_log():
        _, s = sess.run([train, summary], feed)
        writer.add_summary(s, step[0])
        step[0] += 1
    return train_and_log


CONV_SHAPE = (8, 56, 56, 64)  # conv2d forward: 3x3, 64 -> 64 channels, SAME, batch 8


def graph_conv2d(tf, threads):
    """One 3x3 convolution, 64 -> 64 channels on 56x56, batch 8 (NHWC), input and filter held in
    variables; the run computes the output without fetching it."""
    rng = np.random.RandomState(0)
    g = tf.Graph()
    with g.as_default():
        x = tf.Variable(rng.rand(*CONV_SHAPE).astype(np.float32), name="x")
        w = tf.Variable((rng.randn(3, 3, 64, 64) * 0.05).astype(np.float32), name="w")
        y = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
        init = tf.global_variables_initializer()
    sess = _session(tf, threads, g)
    sess.run(init)
    sess.run(y.op)
    return lambda: sess.run(y.op)


def cnn_batch(n=64):
    rng = np.random.RandomState(0)
    return rng.rand(n, 28, 28, 1).astype(np.float32), rng.randint(0, 10, n).astype(np.int64)


def graph_cnn(tf, threads):
    """The peers' CNN training step: conv5x5x32-pool-conv5x5x64-pool-fc1024-fc10 with ReLUs, sparse
    softmax cross-entropy, Adam, batch 64 of 28x28x1 fed from NumPy (TF's deep-MNIST program text)."""
    xb, yb = cnn_batch()
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, 28, 28, 1])
        y = tf.placeholder(tf.int64, [None])

        def weight(shape):
            return tf.Variable(tf.truncated_normal(shape, stddev=0.1))

        def bias(n):
            return tf.Variable(tf.constant(0.1, shape=[n]))

        def conv_pool(h, cin, cout):
            h = tf.nn.relu(tf.nn.conv2d(h, weight([5, 5, cin, cout]), [1, 1, 1, 1], "SAME") + bias(cout))
            return tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")

        h = conv_pool(conv_pool(x, 1, 32), 32, 64)
        h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 7 * 7 * 64]), weight([7 * 7 * 64, 1024])) + bias(1024))
        logits = tf.matmul(h, weight([1024, 10])) + bias(10)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train = tf.train.AdamOptimizer(1e-4).minimize(loss)
        init = tf.global_variables_initializer()
    sess = _session(tf, threads, g)
    sess.run(init)
    feed = {x: xb, y: yb}
    sess.run(train, feed)
    return lambda: sess.run(train, feed)


def lstm_batch(n=64):
    rng = np.random.RandomState(0)
    return rng.rand(n, 28, 28).astype(np.float32), rng.randint(0, 10, n).astype(np.int64)


def graph_lstm(tf, threads):
    """The LSTM training step of issue 12 (article 003's MNIST classifier): dynamic_rnn over 28 steps of 28
    inputs with BasicLSTMCell(128), the last output through a dense layer to 10 classes, sparse softmax
    cross-entropy, Adam, batch 64 fed from NumPy."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # TensorFlow 2.x keeps the TF1 cells in tf_keras
    xb, yb = lstm_batch()
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, 28, 28])
        y = tf.placeholder(tf.int64, [None])
        cell = tf.nn.rnn_cell.BasicLSTMCell(128)
        _, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        w = tf.Variable(tf.truncated_normal([128, 10], stddev=0.1))
        b = tf.Variable(tf.zeros([10]))
        logits = tf.matmul(state.h, w) + b
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        init = tf.global_variables_initializer()
    sess = _session(tf, threads, g)
    sess.run(init)
    feed = {x: xb, y: yb}
    sess.run(train, feed)
    return lambda: sess.run(train, feed)


# ---- PyTorch eager ------------------------------------------------------------------------------
def torch_setup(name, threads):
    import torch
    torch.set_num_threads(threads or os.cpu_count())
    if name == "trivial":
        a = torch.tensor(1.0)
        return lambda: (a + 1.0).item()
    if name.startswith("chain"):
        n = int(name[5:])
        x = torch.ones(16)
        c = torch.full((16,), 0.999)

        def f():
            y = x
            for i in range(n):
                y = y + c if i % 2 == 0 else y * c
            return y.numpy()
        return f
    if name.startswith("matmul"):
        n = int(name[6:])
        a, b = torch.rand(n, n), torch.rand(n, n)
        return lambda: torch.mm(a, b).numpy()
    if name == "axpb":
        x = torch.rand(N_BIG)
        return lambda: (2.5 * x + 1.5).numpy()
    if name == "linreg":
        rng = np.random.RandomState(42)
        X = torch.tensor(np.c_[np.ones((20640, 1)), rng.randn(20640, 8)].astype(np.float32))
        yv = torch.tensor(rng.randn(20640, 1).astype(np.float32))

        def f():
            theta = torch.rand(9, 1, requires_grad=True)
            for _ in range(1000):
                mse = ((X @ theta - yv) ** 2).mean()
                (g,) = torch.autograd.grad(mse, theta)
                with torch.no_grad():
                    theta -= 0.01 * g
        return f
    if name == "mlp":
        rng = np.random.RandomState(0)
        xb = rng.rand(128, 784).astype(np.float32)
        yb = rng.randint(0, 10, 128)
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                    torch.nn.ReLU(), torch.nn.Linear(128, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def f():
            x = torch.from_numpy(xb)
            y = torch.from_numpy(yb)
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        return f
    if name == "conv2d":
        rng = np.random.RandomState(0)
        x = torch.from_numpy(np.ascontiguousarray(rng.rand(*CONV_SHAPE).astype(np.float32).transpose(0, 3, 1, 2)))
        w = torch.from_numpy((rng.randn(64, 64, 3, 3) * 0.05).astype(np.float32))

        def f():
            with torch.no_grad():
                torch.nn.functional.conv2d(x, w, padding=1)
        return f
    if name == "cnn":
        xb, yb = cnn_batch()
        torch.manual_seed(0)
        nn = torch.nn
        model = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(7 * 7 * 64, 1024), nn.ReLU(), nn.Linear(1024, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        xt = torch.from_numpy(np.ascontiguousarray(xb.transpose(0, 3, 1, 2)))
        yt = torch.from_numpy(yb)

        def f():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt), yt)
            loss.backward()
            opt.step()
        return f
    if name == "lstm":
        xb, yb = lstm_batch()
        torch.manual_seed(0)
        lstm, dense = torch.nn.LSTM(28, 128, batch_first=True), torch.nn.Linear(128, 10)
        opt = torch.optim.Adam(list(lstm.parameters()) + list(dense.parameters()), lr=1e-3)
        xt, yt = torch.from_numpy(xb), torch.from_numpy(yb)

        def f():
            opt.zero_grad()
            _, (h, _) = lstm(xt)
            loss = torch.nn.functional.cross_entropy(dense(h[-1]), yt)
            loss.backward()
            opt.step()
        return f
    return None


# ---- hand-written NumPy -------------------------------------------------------------------------
def numpy_setup(name, threads):
    if name == "trivial":
        a = np.float32(1.0)
        return lambda: a + np.float32(1.0)
    if name.startswith("chain"):
        n = int(name[5:])
        x = np.ones(16, np.float32)
        c = np.full(16, 0.999, np.float32)

        def f():
            y = x
            for i in range(n):
                y = y + c if i % 2 == 0 else y * c
            return y
        return f
    if name.startswith("matmul"):
        n = int(name[6:])
        rng = np.random.RandomState(0)
        a, b = rng.rand(n, n).astype(np.float32), rng.rand(n, n).astype(np.float32)
        return lambda: a @ b
    if name == "axpb":
        x = np.random.RandomState(0).rand(N_BIG).astype(np.float32)
        return lambda: 2.5 * x + 1.5
    if name == "linreg":
        rng = np.random.RandomState(42)
        X = np.c_[np.ones((20640, 1)), rng.randn(20640, 8)].astype(np.float32)
        yv = rng.randn(20640, 1).astype(np.float32)
        m = len(X)

        def f():
            theta = rng.rand(9, 1).astype(np.float32)
            for _ in range(1000):
                theta -= 0.01 * (2.0 / m) * (X.T @ (X @ theta - yv))
        return f
    if name == "mlp":
        rng = np.random.RandomState(0)
        xb = rng.rand(128, 784).astype(np.float32)
        yb = rng.randint(0, 10, 128)
        Ws = [(rng.randn(a, b) * 0.05).astype(np.float32) for a, b in [(784, 256), (256, 128), (128, 10)]]
        bs = [np.zeros(b, np.float32) for b in (256, 128, 10)]

        def f():
            acts = [xb]
            for i in range(3):
                z = acts[-1] @ Ws[i] + bs[i]
                acts.append(np.maximum(z, 0) if i < 2 else z)
            z = acts[-1]
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p[np.arange(128), yb] -= 1
            d = p / 128
            for i in (2, 1, 0):
                gw = acts[i].T @ d
                gb = d.sum(0)
                if i:
                    d = (d @ Ws[i].T) * (acts[i] > 0)
                Ws[i] -= 0.1 * gw
                bs[i] -= 0.1 * gb
        return f
    return None


# name -> (graph-mode setup, unit label, units per call)
WORKLOADS = {
    "trivial": (graph_trivial, "us/run", None),
    "chain100": (graph_chain(100), "us/run", None),
    "chain1000": (graph_chain(1000), "us/run", None),
    "cond_chain100": (graph_cond_chain(100), "us/run", None),
    "while10k": (graph_while(10_000), "ms/run", None),
    "matmul256": (graph_matmul(256), "GFLOP/s", 2 * 256**3),
    "matmul1024": (graph_matmul(1024), "GFLOP/s", 2 * 1024**3),
    "matmul2048": (graph_matmul(2048), "GFLOP/s", 2 * 2048**3),
    "axpb": (graph_axpb, "GB/s", 8 * N_BIG),
    "linreg": (graph_linreg, "ms/1000 epochs", None),
    "mlp": (graph_mlp, "ms/step", None),
    # The MLP step that also writes one scalar summary per step to an event file (issue: within 1.1x).
    "mlp_summary": (lambda tf, threads: graph_mlp(tf, threads, summaries=True), "ms/step", None),
    "conv2d": (graph_conv2d, "GFLOP/s", 2 * 8 * 56 * 56 * 64 * 64 * 9),
    "cnn": (graph_cnn, "ms/step", None),
    "lstm": (graph_lstm, "ms/step", None),
}
