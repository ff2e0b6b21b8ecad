"""Eager-mode workloads: tideflow eager (`import tideflow.v2`) against TensorFlow 2's eager mode and PyTorch,
and tf.function against tideflow's own graph-mode Session.run, all in one process, one thread, interleaved
rounds (bench/run.py's timing), printing medians and ratios with the machine and the commit.

    python bench/eager.py                       # every workload
    python bench/eager.py -w add16 --rounds 9

TensorFlow runs eagerly here (bench/run.py puts it in graph mode, which a process cannot undo), hence a
script of its own. Each workload is defined once per framework below; the MLP step is the graph
benchmark's 784-256-128-10 network, batch 128, with Adam (tf.compat.v1.train.AdamOptimizer in both
TensorFlow and tideflow: the same fused update kernels; torch.optim.Adam for PyTorch)."""
import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from run import commit, machine, time_call  # noqa: E402

LAYERS = [(784, 256), (256, 128), (128, 10)]


def _data():
    rng = np.random.RandomState(0)
    return rng.rand(128, 784).astype(np.float32), rng.randint(0, 10, 128).astype(np.int64)


def _weights():
    rng = np.random.RandomState(1)
    return [((rng.randn(a, b) * 0.05).astype(np.float32), np.zeros(b, np.float32)) for a, b in LAYERS]


# ---- tideflow and TensorFlow 2 share the program text: `tf` is tideflow.v2 or tensorflow ----
def tf_setup(tf, name):
    if name == "add16":
        a = tf.constant(np.ones(16, np.float32))
        b = tf.constant(np.full(16, 0.5, np.float32))
        return lambda: a + b
    xb, yb = _data()
    if name in ("mlp_tape", "mlp_function"):
        params = []
        for w, b in _weights():
            params += [tf.Variable(w), tf.Variable(b)]
        opt = tf.compat.v1.train.AdamOptimizer(1e-3)
        x, y = tf.constant(xb), tf.constant(yb)

        def step(x, y):
            with tf.GradientTape() as tape:
                h = x
                for i in range(3):
                    h = tf.matmul(h, params[2 * i]) + params[2 * i + 1]
                    if i < 2:
                        h = tf.nn.relu(h)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
            grads = tape.gradient(loss, params)
            opt.apply_gradients(zip(grads, params))
            return loss
        if name == "mlp_function":
            step = tf.function(step)
        step(x, y)
        return lambda: step(x, y)
    if name == "mlp_graph":  # the same step in graph mode, run by Session.run
        v1 = tf.compat.v1
        g = tf.Graph()
        with g.as_default():
            x = v1.placeholder(tf.float32, [None, 784])
            y = v1.placeholder(tf.int64, [None])
            h = x
            for i, (w, b) in enumerate(_weights()):
                h = tf.matmul(h, v1.Variable(w)) + v1.Variable(b)
                if i < 2:
                    h = tf.nn.relu(h)
            loss = tf.reduce_mean(v1.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
            train = v1.train.AdamOptimizer(1e-3).minimize(loss)
            init = v1.global_variables_initializer()
        cfg = v1.ConfigProto(inter_op_parallelism_threads=1, intra_op_parallelism_threads=1)
        sess = v1.Session(graph=g, config=cfg)
        sess.run(init)
        feed = {x: xb, y: yb}
        sess.run(train, feed)
        return lambda: sess.run(train, feed)
    return None


def torch_setup(name):
    import torch
    torch.set_num_threads(1)
    if name == "add16":
        a, b = torch.ones(16), torch.full((16,), 0.5)
        return lambda: a + b
    if name == "mlp_tape":
        xb, yb = _data()
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                    torch.nn.ReLU(), torch.nn.Linear(128, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x, y = torch.from_numpy(xb), torch.from_numpy(yb)

        def f():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return f
    return None


WORKLOADS = {  # name -> unit
    "add16": "us/op",
    "mlp_tape": "ms/step",
    "mlp_function": "ms/step",
    "mlp_graph": "ms/step",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-w", "--workloads", nargs="*", default=list(WORKLOADS))
    ap.add_argument("--peers", nargs="*", default=["tensorflow", "torch"])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    fws = {}
    import tideflow.v2 as tdf
    tdf.config.threading.set_intra_op_parallelism_threads(1)
    fws["tideflow"] = lambda n: tf_setup(tdf, n)
    if "tensorflow" in args.peers:
        try:
            import tensorflow as tf2
            tf2.config.threading.set_intra_op_parallelism_threads(1)
            tf2.config.threading.set_inter_op_parallelism_threads(1)
            fws["tensorflow"] = lambda n: tf_setup(tf2, n)
        except ImportError:
            pass
    if "torch" in args.peers:
        try:
            import torch  # noqa: F401
            fws["torch"] = torch_setup
        except ImportError:
            pass
    print("machine: %s\ncommit: %s\none thread; medians of %d interleaved rounds\n" % (machine(), commit(), args.rounds))
    print("| workload | unit | " + " | ".join(fws) + " | tideflow / peers |")
    print("|---|---|" + "---|" * len(fws) + "---|")
    med_all = {}
    for name in args.workloads:
        fns = {fw: s(name) for fw, s in fws.items()}
        fns = {fw: f for fw, f in fns.items() if f is not None}
        samples = {fw: [] for fw in fns}
        for _ in range(args.rounds):
            for fw, fn in fns.items():
                samples[fw].append(time_call(fn))
        med = {fw: statistics.median(s) for fw, s in samples.items()}
        med_all[name] = med
        scale = 1e6 if WORKLOADS[name].startswith("us") else 1e3
        cells = ["%.3g" % (med[fw] * scale) if fw in med else "-" for fw in fws]
        ratios = ["%.2fx %s" % (med["tideflow"] / med[fw], fw) for fw in med if fw != "tideflow"]
        print("| %s | %s | %s | time %s |" % (name, WORKLOADS[name], " | ".join(cells), ", ".join(ratios)))
        sys.stdout.flush()
    if "mlp_function" in med_all and "mlp_graph" in med_all:
        # The same step as a tf.function against graph-mode Session.run, measured in alternation.
        f, g = fws["tideflow"]("mlp_function"), fws["tideflow"]("mlp_graph")
        tf_, tg = [], []
        for _ in range(args.rounds):
            tf_.append(time_call(f))
            tg.append(time_call(g))
        print("\ntideflow mlp_function / mlp_graph, in alternation: %.3fx"
              % (statistics.median(tf_) / statistics.median(tg)))


if __name__ == "__main__":
    main()
