"""The seed's resume flow: a training run that dies mid-way resumes from its last checkpoint and epoch
file and ends with exactly the theta of a run that was never interrupted."""
import os
import subprocess
import sys
import textwrap

import numpy as np

import tideflow

SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    import tideflow as tf

    ckpt_dir, die_after = sys.argv[1], int(sys.argv[2])
    ckpt, epoch_file = os.path.join(ckpt_dir, "model.ckpt"), os.path.join(ckpt_dir, "epoch.txt")
    rng = np.random.RandomState(0)
    X = np.c_[np.ones((200, 1)), rng.randn(200, 3)].astype(np.float32)
    y = (X @ np.array([[1.0], [2.0], [-1.0], [0.5]]) + 0.1 * rng.randn(200, 1)).astype(np.float32)
    tf.set_random_seed(42)
    Xc, yc = tf.constant(X, name="X"), tf.constant(y, name="y")
    theta = tf.Variable(tf.random_uniform([4, 1], -1.0, 1.0, seed=42), name="theta")
    mse = tf.reduce_mean(tf.square(tf.matmul(Xc, theta) - yc), name="mse")
    train = tf.train.MomentumOptimizer(0.01, 0.9).minimize(mse)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        if os.path.isfile(epoch_file):
            start = int(open(epoch_file).read())
            saver.restore(sess, ckpt)
        else:
            start = 0
            sess.run(tf.global_variables_initializer())
        for epoch in range(start, 1000):
            if epoch % 100 == 0:
                saver.save(sess, ckpt)
                with open(epoch_file, "w") as f:
                    f.write(str(epoch))
            sess.run(train)
            if epoch == die_after:
                os._exit(3)  # a crash: no cleanup, no final save
        np.save(os.path.join(ckpt_dir, "theta.npy"), sess.run(theta))
""")


def _run(tmp_path, d, die_after):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(tideflow.__file__)) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, str(script), str(d), str(die_after)], capture_output=True, text=True,
                          timeout=300, env=env)


def test_interrupted_training_resumes_to_the_same_theta(tmp_path):
    a, b = tmp_path / "interrupted", tmp_path / "straight"
    a.mkdir()
    b.mkdir()
    r = _run(tmp_path, a, 450)
    assert r.returncode == 3, r.stderr
    assert open(a / "epoch.txt").read() == "400"
    r = _run(tmp_path, a, -1)
    assert r.returncode == 0, r.stderr
    r = _run(tmp_path, b, -1)
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(a / "theta.npy"), np.load(b / "theta.npy"))
