"""A TF1 training program as users write it: tests/test_stubs.py runs mypy over it (through tideflow's stubs)."""
import numpy as np
import tideflow.compat.v1 as tf
from tideflow.compat.v1 import nn
from tideflow.nn import rnn_cell
import tideflow.math
import tideflow.io.gfile as gfile

flags = tf.app.flags
flags.DEFINE_integer("steps", 10, "How many steps.")
FLAGS = flags.FLAGS

X = tf.placeholder(tf.float32, shape=[None, 3], name="X")
y = tf.placeholder(tf.float32, shape=[None, 1])
w = tf.get_variable("w", [3, 1], initializer=tf.glorot_uniform_initializer())
hidden = nn.relu(tf.matmul(X, w))
loss = tf.reduce_mean(tf.square(hidden - y)) + tideflow.math.reduce_sum(tf.math.erf(w))
loss += tf.einsum("ij,jk->", X, w)
cell = rnn_cell.BasicLSTMCell(4)
train_op = tf.train.AdamOptimizer(0.1).minimize(loss, global_step=tf.train.get_or_create_global_step())
tf.summary.scalar("loss", loss)
merged = tf.summary.merge_all()
saver = tf.train.Saver()


def main(argv):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(FLAGS.steps):
            _, l = sess.run([train_op, loss], feed_dict={X: np.random.rand(8, 3), y: np.ones((8, 1))})
        if gfile.exists("/tmp"):
            saver.save(sess, "/tmp/model")
        with tf.python_io.TFRecordWriter("/tmp/r.tfrecord") as w:
            w.write(b"x")
    return 0


class MyTest(tf.test.TestCase):
    def test_it(self):
        with self.cached_session():
            self.assertAllClose(self.evaluate(tf.constant(1.0)), 1.0)


if __name__ == "__main__":
    tf.app.run(main)
