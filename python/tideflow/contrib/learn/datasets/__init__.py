"""tf.contrib.learn.datasets: reference datasets and CSV loaders, as TF 1.x's module of that name."""
from . import base, mnist

load_iris = base.load_iris
load_boston = base.load_boston

# What load_dataset knows (TensorFlow's table also has "dbpedia", a download tideflow does not carry).
DATASETS = {
    "iris": base.load_iris,  # base.Dataset
    "boston": base.load_boston,  # base.Dataset (data_path needed: see base.load_boston)
    "mnist": mnist.load_mnist,  # base.Datasets: train / validation / test
}


def load_dataset(name, size="small", test_with_fake_data=False):
    """The dataset named `name` ("iris", "boston" or "mnist"); `size` and `test_with_fake_data` are
    accepted for TensorFlow's signature (they only concern "dbpedia").

    Raises:
      ValueError: `name` is not a dataset this module knows.
    """
    if name not in DATASETS:
        raise ValueError("Name of dataset is not found: %s" % name)
    return DATASETS[name]()


__all__ = ["base", "mnist", "load_iris", "load_boston", "DATASETS", "load_dataset"]
