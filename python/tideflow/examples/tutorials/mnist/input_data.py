"""MNIST for TF 1.x tutorials: `input_data.read_data_sets(dir, one_hot=True)` gives train (55,000 images),
validation (5,000) and test (10,000) sets whose `next_batch(n)` walks the examples in a shuffled order,
reshuffling each epoch, as TensorFlow's tutorial module does (same NumPy draws for the same seeds).

The four files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
t10k-labels-idx1-ubyte.gz) are read from `train_dir`; a missing one is downloaded from `source_url` when the
network allows, and otherwise the error says which file to put where."""
import collections
import gzip
import os
import shutil
import urllib.request

import numpy as np

from ....framework import dtypes
from ....framework import ops as _ops

DEFAULT_SOURCE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"

Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])

__all__ = ["read_data_sets", "DataSet", "Datasets", "extract_images", "extract_labels", "dense_to_one_hot",
           "maybe_download", "load_mnist"]


def _header(stream, magic, what, name):
    """The big-endian uint32 header fields after checking the file's magic number."""
    first = np.frombuffer(stream.read(4), dtype=">u4")
    if first.size != 1 or first[0] != magic:
        raise ValueError("Invalid magic number %d in MNIST %s file: %s" % (first[0] if first.size else -1, what, name))
    return first


def extract_images(f):
    """The images of an idx3 gzip file as a uint8 array [index, y, x, 1]."""
    print("Extracting", f.name)
    with gzip.GzipFile(fileobj=f) as stream:
        _header(stream, 2051, "image", f.name)
        n, rows, cols = (int(v) for v in np.frombuffer(stream.read(12), dtype=">u4"))
        data = np.frombuffer(stream.read(n * rows * cols), dtype=np.uint8)
        if data.size != n * rows * cols:
            raise ValueError("MNIST image file %s is truncated: %d of %d bytes" % (f.name, data.size, n * rows * cols))
        return data.reshape(n, rows, cols, 1)


def dense_to_one_hot(labels_dense, num_classes):
    """Class indices [n] as one-hot float64 rows [n, num_classes]."""
    one_hot = np.zeros((labels_dense.shape[0], num_classes))
    one_hot[np.arange(labels_dense.shape[0]), labels_dense.ravel()] = 1
    return one_hot


def extract_labels(f, one_hot=False, num_classes=10):
    """The labels of an idx1 gzip file: uint8 [n], or one-hot rows."""
    print("Extracting", f.name)
    with gzip.GzipFile(fileobj=f) as stream:
        _header(stream, 2049, "label", f.name)
        n = int(np.frombuffer(stream.read(4), dtype=">u4")[0])
        labels = np.frombuffer(stream.read(n), dtype=np.uint8)
        if labels.size != n:
            raise ValueError("MNIST label file %s is truncated: %d of %d labels" % (f.name, labels.size, n))
        return dense_to_one_hot(labels, num_classes) if one_hot else labels


class DataSet:
    """Images and labels with an epoch-wise shuffled `next_batch`. `dtype` float32 scales pixels to [0, 1],
    uint8 keeps 0..255; `reshape` flattens each image to rows*cols values."""

    def __init__(self, images, labels, fake_data=False, one_hot=False, dtype=dtypes.float32, reshape=True,
                 seed=None):
        # TensorFlow seeds NumPy's global generator here: with the graph seed when no seed is given (none
        # when the graph has none), else with the given seed.
        np.random.seed(_ops.get_default_graph().seed if seed is None else seed)
        kind = np.dtype(getattr(dtype, "as_numpy_dtype", dtype)).name  # tf.uint8, np.uint8 or "uint8"
        if kind not in ("uint8", "float32"):
            raise TypeError("Invalid image dtype %r, expected uint8 or float32" % (dtype,))
        if fake_data:
            self._num_examples = 10000
            self.one_hot = one_hot
        else:
            if images.shape[0] != labels.shape[0]:
                raise ValueError("images.shape: %s labels.shape: %s" % (images.shape, labels.shape))
            self._num_examples = images.shape[0]
            if reshape:
                if images.shape[3] != 1:
                    raise ValueError("reshape=True needs one channel, got images of shape %s" % (images.shape,))
                images = images.reshape(images.shape[0], images.shape[1] * images.shape[2])
            if kind == "float32":
                images = np.multiply(images.astype(np.float32), 1.0 / 255.0)
        self._images, self._labels = images, labels
        self._epochs_completed = 0
        self._index_in_epoch = 0

    images = property(lambda self: self._images)
    labels = property(lambda self: self._labels)
    num_examples = property(lambda self: self._num_examples)
    epochs_completed = property(lambda self: self._epochs_completed)

    def _shuffle(self):
        perm = np.arange(self._num_examples)
        np.random.shuffle(perm)
        self._images, self._labels = self._images[perm], self._labels[perm]

    def next_batch(self, batch_size, fake_data=False, shuffle=True):
        """The next `batch_size` (images, labels). An epoch's last batch takes the rest of the epoch and
        the first examples of the next, reshuffled, epoch."""
        if fake_data:
            label = [1] + [0] * 9 if self.one_hot else 0
            return [[1] * 784 for _ in range(batch_size)], [label for _ in range(batch_size)]
        start = self._index_in_epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:
            self._shuffle()
        if start + batch_size <= self._num_examples:
            self._index_in_epoch += batch_size
            return self._images[start:self._index_in_epoch], self._labels[start:self._index_in_epoch]
        self._epochs_completed += 1
        images_rest, labels_rest = self._images[start:], self._labels[start:]
        if shuffle:
            self._shuffle()
        self._index_in_epoch = end = batch_size - (self._num_examples - start)
        return (np.concatenate((images_rest, self._images[:end]), axis=0),
                np.concatenate((labels_rest, self._labels[:end]), axis=0))


def maybe_download(filename, work_directory, source_url):
    """`work_directory/filename`, downloaded from `source_url` first if it is not there."""
    path = os.path.join(work_directory, filename)
    if os.path.exists(path):
        return path
    os.makedirs(work_directory, exist_ok=True)
    try:
        with urllib.request.urlopen(source_url, timeout=30) as r, open(path + ".part", "wb") as f:
            shutil.copyfileobj(r, f)
    except OSError as e:
        raise FileNotFoundError(
            "MNIST file %s is not in %s and could not be downloaded from %s (%s). Put the four MNIST files (%s) "
            "in %s and run again." % (filename, os.path.abspath(work_directory), source_url, e,
                                      ", ".join([TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS]),
                                      os.path.abspath(work_directory))) from None
    os.replace(path + ".part", path)
    print("Successfully downloaded", filename, os.path.getsize(path), "bytes.")
    return path


def read_data_sets(train_dir, fake_data=False, one_hot=False, dtype=dtypes.float32, reshape=True,
                   validation_size=5000, seed=None, source_url=DEFAULT_SOURCE_URL):
    """Datasets(train, validation, test) of MNIST from `train_dir`; the first `validation_size` training
    examples form the validation set."""
    options = dict(dtype=dtype, reshape=reshape, seed=seed)
    if fake_data:
        return Datasets(*[DataSet([], [], fake_data=True, one_hot=one_hot, **options) for _ in range(3)])
    source_url = source_url or DEFAULT_SOURCE_URL
    arrays = []
    for name, extract in ((TRAIN_IMAGES, extract_images), (TRAIN_LABELS, extract_labels),
                          (TEST_IMAGES, extract_images), (TEST_LABELS, extract_labels)):
        with open(maybe_download(name, train_dir, source_url + name), "rb") as f:
            arrays.append(extract(f) if extract is extract_images else extract(f, one_hot=one_hot))
    train_images, train_labels, test_images, test_labels = arrays
    if not 0 <= validation_size <= len(train_images):
        raise ValueError("Validation size should be between 0 and {}. Received: {}."
                         .format(len(train_images), validation_size))
    return Datasets(train=DataSet(train_images[validation_size:], train_labels[validation_size:], **options),
                    validation=DataSet(train_images[:validation_size], train_labels[:validation_size], **options),
                    test=DataSet(test_images, test_labels, **options))


def load_mnist(train_dir="MNIST-data"):
    return read_data_sets(train_dir)
