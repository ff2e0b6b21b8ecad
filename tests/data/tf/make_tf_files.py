"""Writes the small TensorFlow files tests/test_tf_files.py reads back without TensorFlow. Run with
TensorFlow installed (2.x, through tf.compat.v1), from this directory:

    python make_tf_files.py

Everything is seeded and tiny (a few KB per file); expected.npz keeps what TensorFlow computed."""
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_eager_execution()
HERE = os.path.dirname(os.path.abspath(__file__))
rs = np.random.RandomState(0)
X = rs.randn(6, 4).astype(np.float32)
Y = rs.randint(0, 3, 6).astype(np.int64)
expected = {"X": X, "Y": Y}


def mlp(x):
    w = tf.Variable(tf.random_normal([4, 5], seed=1), name="w")
    b = tf.Variable(tf.random_normal([5], seed=2), name="b")
    h = tf.nn.bias_add(tf.matmul(x, w), b)
    h = tf.nn.relu6(h) + tf.nn.elu(h) + tf.nn.leaky_relu(h, 0.1) + tf.nn.softplus(h) - tf.nn.selu(h)
    w2 = tf.get_variable("w2", [5, 3], initializer=tf.glorot_uniform_initializer(seed=3))
    b2 = tf.get_variable("b2", [3], initializer=tf.zeros_initializer())
    return tf.add(tf.matmul(h, w2), b2, name="logits")


def training_checkpoint():
    """An MLP trained 3 Adam steps: ckpt/model-3.{index,data,meta} and the `checkpoint` state file; then
    two more steps' losses as TensorFlow computes them."""
    d = os.path.join(HERE, "ckpt")
    shutil.rmtree(d, ignore_errors=True)
    tf.disable_resource_variables()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        y = tf.placeholder(tf.int64, [None], name="y")
        logits = mlp(x)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits), name="loss")
        gs = tf.train.get_or_create_global_step()
        flag = tf.Variable([True, False, True], name="flags", trainable=False)
        tag = tf.Variable([b"alpha", b"", b"\x00\xff"], name="tags", trainable=False)
        train = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=gs)
        tf.add_to_collection("train_op", train)
        tf.add_to_collection("my_ints", 7)
        tf.add_to_collection("my_floats", 0.5)
        saver = tf.train.Saver(max_to_keep=2)
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            for _ in range(3):
                s.run(train, {x: X, y: Y})
            saver.save(s, os.path.join(d, "model"), global_step=gs)
            expected["ckpt_logits"] = s.run(logits, {x: X})
            expected["ckpt_w"] = s.run("w:0")
            expected["ckpt_flags"] = s.run(flag)
            losses = []
            for _ in range(2):
                s.run(train, {x: X, y: Y})
                losses.append(s.run(loss, {x: X, y: Y}))
            expected["resumed_losses"] = np.array(losses, np.float32)
            expected["resumed_logits"] = s.run(logits, {x: X})
    # the state file names the checkpoint relative to its directory, as TensorFlow writes it when the
    # save path is relative; rewrite the absolute path TensorFlow stored
    with open(os.path.join(d, "checkpoint"), "w") as f:
        f.write('model_checkpoint_path: "model-3"\nall_model_checkpoint_paths: "model-3"\n')


def frozen_graph():
    """The MLP's inference graph frozen by TensorFlow: frozen.pb (binary) and frozen.pbtxt (text)."""
    tf.disable_resource_variables()
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        probs = tf.nn.softmax(mlp(x), name="probs")
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            frozen = tf.graph_util.convert_variables_to_constants(s, g.as_graph_def(), ["probs"])
            expected["frozen_probs"] = s.run(probs, {x: X})
    tf.io.write_graph(frozen, HERE, "frozen.pb", as_text=False)
    tf.io.write_graph(frozen, HERE, "frozen.pbtxt", as_text=True)


def sliced_checkpoint():
    """A variable partitioned in three and saved as slices: sliced/model.{index,data,meta}."""
    d = os.path.join(HERE, "sliced")
    shutil.rmtree(d, ignore_errors=True)
    tf.disable_resource_variables()
    with tf.Graph().as_default():
        p = tf.get_variable("emb", [7, 2], partitioner=tf.fixed_size_partitioner(3),
                            initializer=tf.random_uniform_initializer(seed=4))
        full = tf.concat(list(p), 0, name="emb_full")
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            tf.train.Saver().save(s, os.path.join(d, "model"), write_state=False)
            expected["emb"] = s.run(full)


def resource_graph():
    """TensorFlow 2's default resource variables in a compat.v1 training graph: resource/model.*"""
    d = os.path.join(HERE, "resource")
    shutil.rmtree(d, ignore_errors=True)
    tf.enable_resource_variables()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        v = tf.get_variable("v", [4, 1], initializer=tf.constant_initializer(0.25))
        out = tf.matmul(x, v, name="out")
        loss = tf.reduce_mean(tf.square(out - 1.0), name="loss")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        tf.add_to_collection("train_op", train)
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            tf.train.Saver().save(s, os.path.join(d, "model"), write_state=False)
            s.run(train, {x: X})
            expected["resource_loss"] = s.run(loss, {x: X})
    tf.disable_resource_variables()


if __name__ == "__main__":
    training_checkpoint()
    frozen_graph()
    sliced_checkpoint()
    resource_graph()
    np.savez(os.path.join(HERE, "expected.npz"), **expected)
    for root, _, files in os.walk(HERE):
        for f in sorted(files):
            p = os.path.join(root, f)
            print("%8d %s" % (os.path.getsize(p), os.path.relpath(p, HERE)))
