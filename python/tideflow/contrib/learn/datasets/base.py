"""tf.contrib.learn.datasets.base: the `Dataset` / `Datasets` tuples and the CSV loaders of TF 1.x's
tutorials (`load_csv_with_header` reads the iris quickstart's files), with TensorFlow's file formats: a header
row `n_samples,n_features[,names...]`, then one example per row with its target in `target_column`."""
import collections
import csv
import os

import numpy as np

from ....examples.tutorials.mnist.input_data import maybe_download  # noqa: F401  (TF's base has it too)

Dataset = collections.namedtuple("Dataset", ["data", "target"])
Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])

_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def load_csv_with_header(filename, target_dtype, features_dtype, target_column=-1):
    """A Dataset from a CSV file whose first row is `n_samples,n_features,...`: data [n_samples, n_features]
    in `features_dtype`, target [n_samples] in `target_dtype` (each row's `target_column`)."""
    with open(filename, newline="") as f:
        rows = csv.reader(f)
        header = next(rows)
        n_samples, n_features = int(header[0]), int(header[1])
        data = np.zeros((n_samples, n_features), dtype=features_dtype)
        target = np.zeros((n_samples,), dtype=target_dtype)
        for i, row in enumerate(rows):
            if i >= n_samples:
                raise ValueError("%s has more rows than the %d its header states" % (filename, n_samples))
            target[i] = np.asarray(row.pop(target_column), dtype=target_dtype)
            data[i] = np.asarray(row, dtype=features_dtype)
    return Dataset(data=data, target=target)


def load_csv_without_header(filename, target_dtype, features_dtype, target_column=-1):
    """A Dataset from a CSV file of examples only (no header row)."""
    data, target = [], []
    with open(filename, newline="") as f:
        for row in csv.reader(f):
            target.append(row.pop(target_column))
            data.append(np.asarray(row, dtype=features_dtype))
    return Dataset(data=np.array(data), target=np.array(target, dtype=target_dtype))


def shrink_csv(filename, ratio):
    """Writes every `ratio`-th row of `filename` (its first included) to the same name with `_small` before
    the first dot, as TensorFlow's helper does."""
    small = filename.replace(".", "_small.")
    with open(filename, newline="") as src, open(small, "w", newline="") as dst:
        writer = csv.writer(dst)
        for i, row in enumerate(csv.reader(src)):
            if i % ratio == 0:
                writer.writerow(row)


def load_iris(data_path=None):
    """Fisher's iris data (150 examples, 4 float64 features, int64 classes 0-2), shipped with tideflow as
    with TensorFlow."""
    return load_csv_with_header(data_path or os.path.join(_DATA, "iris.csv"), target_dtype=np.int64,
                                features_dtype=np.float64)


def load_boston(data_path=None):
    """The Boston housing data from `data_path`, a CSV in TensorFlow's format (header `506,13,<names>`,
    the price last). tideflow does not ship this dataset (scikit-learn withdrew it), so the path is needed.

    Raises:
      FileNotFoundError: no `data_path` given.
    """
    if data_path is None:
        raise FileNotFoundError("tideflow does not ship the Boston housing data: pass load_boston(data_path=...) "
                                "a CSV in TensorFlow's boston_house_prices.csv format")
    return load_csv_with_header(data_path, target_dtype=np.float64, features_dtype=np.float64)


def split_into_train_and_test(dataset, test_ratio=0.3, shuffle=False):
    """(train, test) Datasets: the first (1 - test_ratio) of the examples and the rest, after a NumPy
    permutation when `shuffle`."""
    if not 0 <= test_ratio <= 1:
        raise ValueError("The test_ratio value is out of bounds: %s" % test_ratio)
    n_train = int(dataset.data.shape[0] * (1.0 - test_ratio))
    x, y = dataset.data[:], dataset.target[:]
    if shuffle:
        order = np.random.permutation(range(x.shape[0]))
        x, y = x[order], y[order]
    return Dataset(data=x[:n_train], target=y[:n_train]), Dataset(data=x[n_train:], target=y[n_train:])


__all__ = ["Dataset", "Datasets", "load_csv_with_header", "load_csv_without_header", "shrink_csv", "load_iris",
           "load_boston", "split_into_train_and_test", "maybe_download"]
