"""tf.data: input pipelines (Note [tf.data pipelines] in data/dataset_ops.py) and TF 1.x iterators."""
import types as _types

from .dataset_ops import (AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset, DatasetV2,  # noqa: F401
                          Options, TensorSpec, TextLineDataset)
from .iterator_ops import Iterator, make_initializable_iterator, make_one_shot_iterator  # noqa: F401

DatasetV1 = Dataset


def _cardinality(dataset):
    return dataset.cardinality()


experimental = _types.ModuleType("tideflow.data.experimental")
experimental.AUTOTUNE = AUTOTUNE
experimental.INFINITE_CARDINALITY = INFINITE_CARDINALITY
experimental.UNKNOWN_CARDINALITY = UNKNOWN_CARDINALITY
experimental.cardinality = _cardinality
experimental.make_one_shot_iterator = make_one_shot_iterator
experimental.make_initializable_iterator = make_initializable_iterator
experimental.unbatch = lambda: (lambda ds: ds.unbatch())
experimental.shuffle_and_repeat = lambda buffer_size, count=None, seed=None: (
    lambda ds: ds.shuffle(buffer_size, seed).repeat(count))
