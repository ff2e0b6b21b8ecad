"""The main job: a small TF1-style training run.

    python -m tideflow.demo [--logdir runs/demo] [--epochs 100]

Trains a two-layer network on a synthetic two-spirals problem with Adam, prints progress, writes
TensorBoard logs (scalars, a histogram, the graph) and checkpoints, then restores the last checkpoint
into a fresh graph through its meta graph and checks that it gives the same accuracy.
"""
import argparse
import os
import time

import numpy as np

import tideflow as tf


def spirals(n, noise, seed):
    rng = np.random.RandomState(seed)
    t = np.sqrt(rng.rand(n)) * 2 * np.pi
    cls = rng.randint(0, 2, n)
    r = t * (1 - 2 * cls)
    X = np.c_[r * np.cos(t), r * np.sin(t)] / 10 + rng.randn(n, 2) * noise
    return X.astype(np.float32), cls.astype(np.int64)


def build(hidden=64):
    tf.set_random_seed(42)
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    with tf.variable_scope("net"):
        h = x
        for i, width in enumerate([hidden, hidden]):
            w = tf.get_variable("w%d" % i, [int(h.shape[1]), width])
            b = tf.get_variable("b%d" % i, [width], initializer=tf.zeros_initializer())
            h = tf.tanh(tf.matmul(h, w) + b)
        w = tf.get_variable("w_out", [hidden, 2])
        b = tf.get_variable("b_out", [2], initializer=tf.zeros_initializer())
        logits = tf.add(tf.matmul(h, w), b, name="logits")
    with tf.name_scope("loss"):
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits),
                              name="xent")
    with tf.name_scope("eval"):
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32), name="accuracy")
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(0.03).minimize(loss, global_step=global_step)
    tf.summary.scalar("loss", loss)
    tf.summary.scalar("accuracy", accuracy)
    tf.summary.histogram("w_out", w)
    tf.add_to_collection("eval_accuracy", accuracy)
    return x, y, loss, accuracy, train_op, global_step


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logdir", default="runs/demo")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args(argv)
    os.makedirs(args.logdir, exist_ok=True)

    X, Y = spirals(2000, 0.02, seed=0)
    Xt, Yt = spirals(500, 0.02, seed=1)
    t0 = time.time()
    graph = tf.Graph()
    with graph.as_default():
        x, y, loss, accuracy, train_op, global_step = build()
        merged = tf.summary.merge_all()
        saver = tf.train.Saver(max_to_keep=3)
        init = tf.global_variables_initializer()
    writer = tf.summary.FileWriter(args.logdir, graph)
    rng = np.random.RandomState(0)
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for epoch in range(1, args.epochs + 1):
            order = rng.permutation(len(X))
            for i in range(0, len(X), args.batch):
                idx = order[i:i + args.batch]
                sess.run(train_op, {x: X[idx], y: Y[idx]})
            summary, step, l, acc = sess.run([merged, global_step, loss, accuracy], {x: Xt, y: Yt})
            writer.add_summary(summary, step)
            if epoch % max(1, args.epochs // 10) == 0 or epoch == 1:
                print("epoch %4d  step %6d  test loss %.4f  test accuracy %.3f" % (epoch, step, l, acc),
                      flush=True)
            if epoch % max(1, args.epochs // 3) == 0 or epoch == args.epochs:
                path = saver.save(sess, os.path.join(args.logdir, "model.ckpt"), global_step=step)
        final_acc = acc
    writer.close()
    print("saved %s (%.1f s); TensorBoard logs in %s" % (path, time.time() - t0, args.logdir))

    # Resume from the checkpoint in a fresh graph, as a user restarting the program would.
    with tf.Graph().as_default():
        restorer = tf.train.import_meta_graph(path + ".meta")
        acc_t = tf.get_collection("eval_accuracy")[0]
        g = tf.get_default_graph()
        with tf.Session() as sess:
            restorer.restore(sess, tf.train.latest_checkpoint(args.logdir))
            restored = sess.run(acc_t, {g.get_tensor_by_name("x:0"): Xt, g.get_tensor_by_name("y:0"): Yt})
    print("restored %s: test accuracy %.3f (was %.3f)" % (os.path.basename(path), restored, final_acc))
    if abs(restored - final_acc) > 1e-6:
        raise SystemExit("restored model disagrees with the trained one")
    return final_acc


if __name__ == "__main__":
    main()
