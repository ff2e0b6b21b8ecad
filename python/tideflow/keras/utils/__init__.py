"""tf.keras.utils: to_categorical, Progbar, set_random_seed, Sequence."""
import random as _random

import numpy as np

from .generic_utils import Progbar

__all__ = ["to_categorical", "Progbar", "set_random_seed", "Sequence"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """Integer class labels -> one-hot rows (Keras's)."""
    y = np.array(y, dtype="int")
    input_shape = y.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    y = y.ravel()
    if not num_classes:
        num_classes = int(np.max(y)) + 1
    n = y.shape[0]
    categorical = np.zeros((n, num_classes), dtype=dtype)
    categorical[np.arange(n), y] = 1
    return np.reshape(categorical, input_shape + (num_classes,))


def set_random_seed(seed):
    """Seeds Python, NumPy and tideflow's global seed."""
    from ..backend import set_random_seed as _set  # lazy: backend imports the engine, which imports utils
    _random.seed(seed)
    np.random.seed(seed)
    _set(seed)


class Sequence:
    """Base for data sequences: `__getitem__(i)` returns batch i, `__len__` the number of batches."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def on_epoch_end(self):
        pass

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]
