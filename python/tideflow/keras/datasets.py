"""tf.keras.datasets: mnist, fashion_mnist, cifar10 load_data() from the standard files in ~/.keras/datasets
(no download: tideflow never reaches the network). A missing file raises FileNotFoundError naming the file
and where to put it."""
import gzip
import os
import pickle
import types

import numpy as np

__all__ = ["mnist", "fashion_mnist", "cifar10"]


def _dir():
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(base, "datasets")


def _need(path, what, url):
    if not os.path.exists(path):
        raise FileNotFoundError("%s: %s not found. tideflow does not download datasets; put %s there (it is "
                                "published at %s)." % (what, path, os.path.basename(path), url))
    return path


def _mnist_load_data(path="mnist.npz"):
    """((x_train, y_train), (x_test, y_test)): uint8 images [n, 28, 28], uint8 labels."""
    full = path if os.path.isabs(path) else os.path.join(_dir(), path)
    _need(full, "MNIST", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz")
    with np.load(full, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


_FASHION = ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz"]


def _fashion_load_data():
    """Fashion-MNIST from ~/.keras/datasets/fashion-mnist/ (the four idx .gz files)."""
    d = os.path.join(_dir(), "fashion-mnist")
    paths = [_need(os.path.join(d, f), "Fashion-MNIST",
                   "https://storage.googleapis.com/tensorflow/tf-keras-datasets/" + f) for f in _FASHION]
    with gzip.open(paths[0], "rb") as f:
        y_train = np.frombuffer(f.read(), np.uint8, offset=8)
    with gzip.open(paths[1], "rb") as f:
        x_train = np.frombuffer(f.read(), np.uint8, offset=16).reshape(len(y_train), 28, 28)
    with gzip.open(paths[2], "rb") as f:
        y_test = np.frombuffer(f.read(), np.uint8, offset=8)
    with gzip.open(paths[3], "rb") as f:
        x_test = np.frombuffer(f.read(), np.uint8, offset=16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)


def _cifar_batch(path):
    with open(path, "rb") as f:
        d = pickle.load(f, encoding="bytes")
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
    return d["data"].reshape(-1, 3, 32, 32), np.asarray(d["labels"], np.uint8)


def _cifar10_load_data():
    """CIFAR-10 from ~/.keras/datasets/cifar-10-batches-py/ (data_batch_1..5, test_batch): uint8
    [n, 32, 32, 3] images (channels last), labels [n, 1]."""
    d = os.path.join(_dir(), "cifar-10-batches-py")
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (extract it in %s)" % _dir()
    xs, ys = [], []
    for i in range(1, 6):
        x, y = _cifar_batch(_need(os.path.join(d, "data_batch_%d" % i), "CIFAR-10", url))
        xs.append(x)
        ys.append(y)
    x_test, y_test = _cifar_batch(_need(os.path.join(d, "test_batch"), "CIFAR-10", url))
    x_train = np.concatenate(xs).transpose(0, 2, 3, 1)
    y_train = np.concatenate(ys).reshape(-1, 1)
    return (x_train, y_train), (x_test.transpose(0, 2, 3, 1), y_test.reshape(-1, 1))


mnist = types.SimpleNamespace(load_data=_mnist_load_data)
fashion_mnist = types.SimpleNamespace(load_data=_fashion_load_data)
cifar10 = types.SimpleNamespace(load_data=_cifar10_load_data)
