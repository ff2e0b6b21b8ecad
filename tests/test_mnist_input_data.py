"""tensorflow.examples.tutorials.mnist.input_data: the TF 1.x tutorials' MNIST reader, on small MNIST-format
files written here (the idx format: big-endian magic number and sizes, then uint8 data, gzipped)."""
import gzip
import os

import numpy as np
import pytest

import tideflow as tf
from tideflow.examples.tutorials.mnist import input_data


def _write(tmp_path, n_train=60, n_test=20, rows=4, cols=3):
    rng = np.random.RandomState(7)
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.randint(0, 256, size=(n, rows, cols)).astype(np.uint8)
        labels = rng.randint(0, 10, size=n).astype(np.uint8)
        with gzip.open(tmp_path / ("%s-images-idx3-ubyte.gz" % prefix), "wb") as f:
            f.write(np.array([2051, n, rows, cols], ">u4").tobytes() + images.tobytes())
        with gzip.open(tmp_path / ("%s-labels-idx1-ubyte.gz" % prefix), "wb") as f:
            f.write(np.array([2049, n], ">u4").tobytes() + labels.tobytes())
        data[prefix] = images, labels
    return data


def test_read_data_sets_splits_scales_and_one_hots(tmp_path):
    data = _write(tmp_path)
    mnist = input_data.read_data_sets(str(tmp_path), one_hot=True, validation_size=10)
    images, labels = data["train"]
    assert (mnist.train.num_examples, mnist.validation.num_examples, mnist.test.num_examples) == (50, 10, 20)
    assert mnist.train.images.shape == (50, 12) and mnist.train.images.dtype == np.float32
    np.testing.assert_allclose(mnist.validation.images, images[:10].reshape(10, 12) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(mnist.test.labels, np.eye(10)[data["t10k"][1]])
    raw = input_data.read_data_sets(str(tmp_path), dtype=np.uint8, reshape=False, validation_size=0)
    np.testing.assert_array_equal(raw.train.images[..., 0], images)
    np.testing.assert_array_equal(raw.train.labels, labels)


def test_next_batch_walks_shuffled_epochs_as_tensorflow_does(tmp_path):
    data = _write(tmp_path)
    mnist = input_data.read_data_sets(str(tmp_path), validation_size=0, seed=5)
    images, labels = data["train"]
    rng = np.random.RandomState(5)  # the last DataSet built (test) seeded NumPy's generator with 5
    first = np.arange(60)
    rng.shuffle(first)
    second = np.arange(60)
    batches = [mnist.train.next_batch(25) for _ in range(3)]
    rng.shuffle(second)
    order = np.concatenate([first, first[second]])  # the second epoch shuffles the first epoch's order
    for i, (x, y) in enumerate(batches):
        idx = order[25 * i:25 * i + 25]
        np.testing.assert_array_equal(y, labels[idx])
        np.testing.assert_allclose(x, images[idx].reshape(-1, 12) / 255.0, rtol=1e-6)
    assert mnist.train.epochs_completed == 1
    plain = input_data.read_data_sets(str(tmp_path), validation_size=0)
    x, y = plain.train.next_batch(10, shuffle=False)
    np.testing.assert_array_equal(y, labels[:10])


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz is not in .*Put the four MNIST files"):
        input_data.read_data_sets(str(tmp_path / "MNIST_data"), source_url="file:///nonexistent/")
    assert not os.listdir(tmp_path / "MNIST_data")


def test_bad_files_are_refused(tmp_path):
    _write(tmp_path)
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(np.array([2051, 3], ">u4").tobytes())
    with pytest.raises(ValueError, match="Invalid magic number 2051 in MNIST label file"):
        input_data.read_data_sets(str(tmp_path))
    with pytest.raises(ValueError, match="Validation size should be between 0 and 60. Received: 61."):
        _write(tmp_path)
        input_data.read_data_sets(str(tmp_path), validation_size=61)
