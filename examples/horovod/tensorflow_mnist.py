# Horovod's examples/tensorflow/tensorflow_mnist.py (Copyright 2019 Uber Technologies, Inc., Apache License
# 2.0), run on tideflow. Changed from the original, and nothing else:
#   - the imports (tideflow for tensorflow, tideflow.horovod for horovod.tensorflow);
#   - the data: scikit-learn's bundled 8x8 digits stand in for MNIST, which cannot be downloaded here;
#   - the model: conv_model's tf.layers.conv2d / max_pool / dropout layers are not in tideflow yet, so the
#     model is a two-layer perceptron written with tf.get_variable (same inputs, same loss);
#   - --num-steps (default 20000, the original's fixed count) and --batch-size flags, so a test can run it
#     briefly.
# Run it with: mpirun -np 2 python examples/horovod/tensorflow_mnist.py

import os
import errno
import tideflow as tf
import tideflow.horovod as hvd
import numpy as np
import argparse

tf.logging.set_verbosity(tf.logging.INFO)

# Training settings
parser = argparse.ArgumentParser(description='Tensorflow MNIST Example')
parser.add_argument('--use-adasum', action='store_true', default=False,
                    help='use adasum algorithm to do reduction')
parser.add_argument('--gradient-predivide-factor', type=float, default=1.0,
                    help='apply gradient predivide factor in optimizer (default: 1.0)')
parser.add_argument('--num-steps', type=int, default=20000,
                    help='number of steps, divided among the processes (default: 20000)')
parser.add_argument('--batch-size', type=int, default=100, help='batch size per process (default: 100)')
args = parser.parse_args()


def mlp_model(feature, target):
    """2-layer perceptron (conv_model in the original)."""
    # Convert the target to a one-hot tensor of shape (batch_size, 10) and
    # with a on-value of 1 for each one-hot vector of length 10.
    target = tf.one_hot(tf.cast(target, tf.int32), 10, 1, 0)

    with tf.variable_scope('fc_layer1'):
        w = tf.get_variable('kernel', [64, 128])
        b = tf.get_variable('bias', [128], initializer=tf.zeros_initializer())
        h_fc1 = tf.nn.relu(tf.matmul(feature, w) + b)

    # Compute logits (1 per class) and compute loss.
    with tf.variable_scope('fc_layer2'):
        w = tf.get_variable('kernel', [128, 10])
        b = tf.get_variable('bias', [10], initializer=tf.zeros_initializer())
        logits = tf.matmul(h_fc1, w) + b
    loss = tf.losses.softmax_cross_entropy(target, logits)

    return tf.argmax(logits, 1), loss


def train_input_generator(x_train, y_train, batch_size=64):
    assert len(x_train) == len(y_train)
    while True:
        p = np.random.permutation(len(x_train))
        x_train, y_train = x_train[p], y_train[p]
        index = 0
        while index <= len(x_train) - batch_size:
            yield x_train[index:index + batch_size], \
                  y_train[index:index + batch_size],
            index += batch_size


def load_data():
    """scikit-learn's digits, split 80/20 (keras.datasets.mnist.load_data in the original)."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    n = len(digits.images) * 4 // 5
    x, y = digits.images, digits.target
    return (x[:n], y[:n]), (x[n:], y[n:])


def main(_):
    # Horovod: initialize Horovod.
    hvd.init()

    # Load the data set.
    (x_train, y_train), (x_test, y_test) = load_data()

    # The images come as (-1, 8, 8), hence we need to reshape them into (-1, 64) to feed into our network.
    # Also, need to normalize the features between 0 and 1 (the digits' pixels are 0..16).
    x_train = np.reshape(x_train, (-1, 64)) / 16.0
    x_test = np.reshape(x_test, (-1, 64)) / 16.0

    # Build model...
    with tf.name_scope('input'):
        image = tf.placeholder(tf.float32, [None, 64], name='image')
        label = tf.placeholder(tf.float32, [None], name='label')
    predict, loss = mlp_model(image, label)

    lr_scaler = hvd.size()
    # By default, Adasum doesn't need scaling when increasing batch size. If used with NCCL,
    # scale lr by local_size
    if args.use_adasum:
        lr_scaler = hvd.local_size() if hvd.nccl_built() else 1

    # Horovod: adjust learning rate based on lr_scaler.
    opt = tf.train.AdamOptimizer(0.001 * lr_scaler)

    # Horovod: add Horovod Distributed Optimizer.
    opt = hvd.DistributedOptimizer(opt, op=hvd.Adasum if args.use_adasum else hvd.Average,
                                   gradient_predivide_factor=args.gradient_predivide_factor)

    global_step = tf.train.get_or_create_global_step()
    train_op = opt.minimize(loss, global_step=global_step)

    hooks = [
        # Horovod: BroadcastGlobalVariablesHook broadcasts initial variable states
        # from rank 0 to all other processes. This is necessary to ensure consistent
        # initialization of all workers when training is started with random weights
        # or restored from a checkpoint.
        hvd.BroadcastGlobalVariablesHook(0),

        # Horovod: adjust number of steps based on number of GPUs.
        tf.train.StopAtStepHook(last_step=args.num_steps // hvd.size()),

        tf.train.LoggingTensorHook(tensors={'step': global_step, 'loss': loss},
                                   every_n_iter=10),
    ]

    # Horovod: pin GPU to be used to process local rank (one GPU per process)
    config = tf.ConfigProto()
    config.gpu_options.allow_growth = True
    config.gpu_options.visible_device_list = str(hvd.local_rank())

    # Horovod: save checkpoints only on worker 0 to prevent other workers from
    # corrupting them.
    checkpoint_dir = './checkpoints' if hvd.rank() == 0 else None
    training_batch_generator = train_input_generator(x_train,
                                                     y_train, batch_size=args.batch_size)
    # The MonitoredTrainingSession takes care of session initialization,
    # restoring from a checkpoint, saving to a checkpoint, and closing when done
    # or an error occurs.
    with tf.train.MonitoredTrainingSession(checkpoint_dir=checkpoint_dir,
                                           hooks=hooks,
                                           config=config) as mon_sess:
        while not mon_sess.should_stop():
            # Run a training step synchronously.
            image_, label_ = next(training_batch_generator)
            mon_sess.run(train_op, feed_dict={image: image_, label: label_})


if __name__ == "__main__":
    tf.app.run()
