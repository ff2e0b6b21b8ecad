"""tf.contrib.learn: the dataset helpers TF 1.x tutorials load their data with (`tf.contrib.learn.datasets`:
`load_dataset("mnist")`, `load_iris()`, `datasets.base.load_csv_with_header(...)`). The rest of contrib.learn
(its Estimator, SKCompat, learn_runner, the monitors) was superseded by tf.estimator in TF 1.x and is not here."""
from . import datasets

__all__ = ["datasets"]
