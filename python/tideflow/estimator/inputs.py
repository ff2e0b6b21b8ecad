"""tf.estimator.inputs: input functions over in-memory NumPy arrays (and pandas frames when pandas is there).

Note [numpy_input_fn on tf.data]: TF 1.x feeds these through a FIFO/RandomShuffle queue filled by
threads; tideflow builds the same stream as a tf.data pipeline (from_tensor_slices, shuffle with a
queue_capacity buffer, repeat num_epochs, batch) ending in an iterator, so the input function returns
(features, labels) tensors and running out of epochs raises OutOfRangeError, which ends train/evaluate/
predict as TF's queue does. Batches keep TF's shapes: the last batch of a finite stream may be smaller."""
import collections

import numpy as np

__all__ = ["numpy_input_fn", "pandas_input_fn"]


def _check_shuffle(shuffle):
    if not isinstance(shuffle, bool):
        raise ValueError("shuffle must be provided and explicitly set as boolean (it is recommended to set it as "
                         "True for training); got {}".format(shuffle))


def _dataset(features, target, batch_size, num_epochs, shuffle, queue_capacity, seed=None):
    from .. import data  # lazy: tf.data loads with the first input function
    elements = features if target is None else (features, target)
    ds = data.Dataset.from_tensor_slices(elements)
    if shuffle:
        ds = ds.shuffle(max(int(queue_capacity), 1), seed=seed)
    ds = ds.repeat(num_epochs)
    return ds.batch(batch_size)


def numpy_input_fn(x, y=None, batch_size=128, num_epochs=1, shuffle=None, queue_capacity=1000, num_threads=1):
    """An input_fn yielding batches of `x` (a dict of arrays or one array) and `y` (an array, a dict of
    arrays, or None) for `num_epochs` epochs (None: forever), shuffled when `shuffle` is True."""
    _check_shuffle(shuffle)
    if not isinstance(x, dict) and not isinstance(x, np.ndarray):
        raise TypeError("x must be a dict or array; got {}".format(type(x).__name__))
    if isinstance(x, dict) and not x:
        raise ValueError("x cannot be an empty dict")
    if isinstance(x, dict) and isinstance(y, dict):
        overlap = set(x) & set(y)
        if overlap:
            raise ValueError("{} duplicate keys are found in both x and y: {}".format(len(overlap), overlap))
    if num_epochs is not None and num_epochs <= 0:
        raise ValueError("num_epochs must be > 0 or None, got {}".format(num_epochs))
    if batch_size <= 0:
        raise ValueError("batch_size must be > 0, got {}".format(batch_size))
    if num_threads <= 0:
        raise ValueError("num_threads must be > 0, got {}".format(num_threads))

    def input_fn():
        features = collections.OrderedDict(sorted(x.items())) if isinstance(x, dict) else x
        target = collections.OrderedDict(sorted(y.items())) if isinstance(y, dict) else y
        arrays = list(features.values()) if isinstance(features, dict) else [features]
        if target is not None:
            arrays += list(target.values()) if isinstance(target, dict) else [target]
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            raise ValueError("Length of tensors in x and y is mismatched. All elements in x and y must have the "
                             "same length. Lengths: {}".format(sorted(len(a) for a in arrays)))
        ds = _dataset(features if isinstance(features, dict) else np.asarray(features),
                      None if target is None else (target if isinstance(target, dict) else np.asarray(target)),
                      batch_size, num_epochs, shuffle, queue_capacity)
        batch = ds.make_one_shot_iterator().get_next()
        if target is None:
            return batch
        return batch[0], batch[1]
    return input_fn


def pandas_input_fn(x, y=None, batch_size=128, num_epochs=1, shuffle=None, queue_capacity=1000, num_threads=1,
                    target_column="target"):
    """numpy_input_fn over a pandas DataFrame's columns (features by column name) and a Series target."""
    try:
        import pandas as pd  # lazy: optional dependency
    except ImportError as e:
        raise TypeError("pandas_input_fn should not be called without pandas installed") from e
    _check_shuffle(shuffle)
    x = x.copy()
    if y is not None:
        if target_column in x:
            raise ValueError("Cannot use name %s for target column: DataFrame already has a column with that "
                             "name: %s" % (target_column, x.columns))
        if not np.array_equal(x.index, y.index):
            raise ValueError("Index for x and y are mismatched.\nIndex for x: %s\nIndex for y: %s\n"
                             % (x.index, y.index))
        y = y.values if isinstance(y, pd.Series) else {k: y[k].values for k in y.columns}
    features = {str(k): x[k].values for k in x.columns}
    return numpy_input_fn(features, y, batch_size=batch_size, num_epochs=num_epochs, shuffle=shuffle,
                          queue_capacity=queue_capacity, num_threads=num_threads)
