"""tf.contrib.learn.datasets (TF 1.x tutorials' data helpers): the shipped iris data, the CSV loaders in
TensorFlow's file format, load_dataset, and the MNIST reader behind load_dataset("mnist")."""
import numpy as np
import pytest

import tideflow as tf
from test_mnist_input_data import _write

ds = tf.contrib.learn.datasets


def test_iris_is_fishers_data():
    d = ds.load_dataset("iris")
    assert d.data.shape == (150, 4) and d.data.dtype == np.float64 and d.target.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(d.target), [50, 50, 50])
    np.testing.assert_array_equal(d.data[0], [5.1, 3.5, 1.4, 0.2])
    np.testing.assert_allclose(d.data.mean(0), [5.843333, 3.057333, 3.758, 1.199333], rtol=1e-6)
    np.testing.assert_array_equal(ds.load_iris().data, d.data)


def test_csv_loaders_in_tensorflows_format(tmp_path):
    p = tmp_path / "iris_training.csv"
    p.write_text("3,2,a,b\n1.5,2.5,0\n3.5,4.5,1\n5.5,6.5,2\n")
    d = ds.base.load_csv_with_header(str(p), target_dtype=np.int32, features_dtype=np.float32)
    np.testing.assert_array_equal(d.data, [[1.5, 2.5], [3.5, 4.5], [5.5, 6.5]])
    np.testing.assert_array_equal(d.target, [0, 1, 2])
    assert d.data.dtype == np.float32 and d.target.dtype == np.int32
    first = ds.base.load_csv_with_header(str(p), target_dtype=np.float64, features_dtype=np.float64, target_column=0)
    np.testing.assert_array_equal(first.target, [1.5, 3.5, 5.5])
    np.testing.assert_array_equal(first.data, [[2.5, 0], [4.5, 1], [6.5, 2]])
    p.write_text("2,2\n1,2,0\n3,4,1\n5,6,2\n")
    with pytest.raises(ValueError, match="more rows"):
        ds.base.load_csv_with_header(str(p), np.int32, np.float32)

    q = tmp_path / "plain.csv"
    q.write_text("1,2,7\n3,4,8\n")
    d = ds.base.load_csv_without_header(str(q), target_dtype=np.int64, features_dtype=np.float32)
    np.testing.assert_array_equal(d.data, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(d.target, [7, 8])

    r = tmp_path / "rows.csv"
    r.write_text("".join("%d,%d\n" % (i, i) for i in range(7)))
    ds.base.shrink_csv(str(r), 3)
    assert (tmp_path / "rows_small.csv").read_text().split() == ["0,0", "3,3", "6,6"]


def test_split_and_errors():
    train, test = ds.base.split_into_train_and_test(ds.load_iris(), test_ratio=0.2)
    assert train.data.shape == (120, 4) and test.data.shape == (30, 4)
    np.testing.assert_array_equal(test.target, ds.load_iris().target[120:])
    with pytest.raises(ValueError, match="out of bounds"):
        ds.base.split_into_train_and_test(ds.load_iris(), test_ratio=1.5)
    with pytest.raises(ValueError, match="not found: cifar"):
        ds.load_dataset("cifar")
    with pytest.raises(FileNotFoundError, match="data_path"):
        ds.load_dataset("boston")


def test_load_dataset_mnist_reads_MNIST_data_dir(tmp_path, monkeypatch):
    # TensorFlow's load_mnist reads ./MNIST-data with the tutorials' 5,000-example validation split.
    (tmp_path / "MNIST-data").mkdir()
    data = _write(tmp_path / "MNIST-data", n_train=5010, n_test=4, rows=2, cols=2)
    monkeypatch.chdir(tmp_path)
    m = ds.load_dataset("mnist")
    assert (m.train.num_examples, m.validation.num_examples, m.test.num_examples) == (10, 5000, 4)
    np.testing.assert_array_equal(m.train.labels, data["train"][1][5000:])
    assert m.train.images.shape == (10, 4) and m.train.images.dtype == np.float32
    assert ds.mnist.read_data_sets is tf.examples.tutorials.mnist.input_data.read_data_sets
