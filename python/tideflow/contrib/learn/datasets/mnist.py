"""tf.contrib.learn.datasets.mnist: the MNIST reader of the TF 1.x tutorials (the same module as
tensorflow.examples.tutorials.mnist.input_data)."""
from ....examples.tutorials.mnist.input_data import (  # noqa: F401
    DataSet, Datasets, dense_to_one_hot, extract_images, extract_labels, load_mnist, maybe_download,
    read_data_sets)

__all__ = ["read_data_sets", "load_mnist", "DataSet", "Datasets", "extract_images", "extract_labels",
           "dense_to_one_hot", "maybe_download"]
