"""What fit/evaluate/predict accept, as batches: NumPy arrays (or eager tensors, lists/tuples/dicts of them)
sliced by batch_size and shuffled per epoch; Python generators, Keras Sequences and any iterable of
(x, y[, sample_weight]) batches; and datasets (objects with `element_spec`, e.g. tf.data.Dataset), iterated
afresh each epoch."""
import numpy as np

from ...util import nest

__all__ = ["DataHandler", "unpack_x_y_sample_weight", "pack", "is_array_data", "train_validation_split"]


def unpack_x_y_sample_weight(data):
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, found: %s"
                     % (data,))


def pack(x, y=None, sample_weight=None):
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _is_array(a):
    return isinstance(a, np.ndarray) or (hasattr(a, "numpy") and hasattr(a, "shape") and hasattr(a, "dtype"))


def is_array_data(x):
    flat = nest.flatten(x)
    return bool(flat) and all(_is_array(a) or isinstance(a, (list, float, int)) for a in flat) and \
        not hasattr(x, "element_spec")


def _as_arrays(x):
    def conv(a):
        if isinstance(a, np.ndarray):
            return a
        if hasattr(a, "numpy"):
            return a.numpy()
        arr = np.asarray(a)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        return arr
    return nest.map_structure(conv, x)


def train_validation_split(arrays, validation_split):
    """Keras's split: the last `validation_split` fraction of the samples (before any shuffling)."""
    if not 0 < validation_split < 1:
        raise ValueError("`validation_split` must be between 0 and 1, got %s" % validation_split)
    x, y, sw = arrays
    x, y = _as_arrays(x), None if y is None else _as_arrays(y)
    n = len(nest.flatten(x)[0])
    split = int(n * (1.0 - validation_split))
    if split == 0 or split == n:
        raise ValueError("Training data contains %d samples, which is not sufficient to split it into a validation "
                         "and training set as specified by `validation_split=%s`." % (n, validation_split))

    def part(a, sl):
        return None if a is None else nest.map_structure(lambda v: v[sl], a)
    train = (part(x, slice(0, split)), part(y, slice(0, split)), part(sw, slice(0, split)))
    val = (part(x, slice(split, None)), part(y, slice(split, None)), part(sw, slice(split, None)))
    return train, val


def class_weights_to_sample_weights(x, y, sample_weight, class_weight):
    """Keras's class_weight for array data: each example weighs class_weight[its class] (the class is the label,
    or the argmax of a one-hot label), times its sample weight."""
    if not is_array_data(x) or y is None or isinstance(y, (list, tuple, dict)):
        raise ValueError("`class_weight` is supported for single-output models trained on arrays only")
    y = _as_arrays(y)
    labels = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    labels = labels.astype(np.int64)
    w = np.array([class_weight.get(int(c), 1.0) for c in range(int(labels.max()) + 1)], np.float32)
    cw = w[labels]
    return cw if sample_weight is None else cw * _as_arrays(sample_weight).astype(np.float32)


def unpack_validation(validation_data):
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3) and \
            not hasattr(validation_data, "element_spec"):
        return tuple(validation_data) + (None,) * (3 - len(validation_data))
    return validation_data, None, None


class DataHandler:
    """Batches for one or more epochs; `steps` is the number of batches per epoch (None when unknown)."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None, shuffle=False, epochs=1):
        self._steps_per_epoch = steps_per_epoch
        self._shuffle = shuffle
        self._iterator = None
        if is_array_data(x):
            self._kind = "arrays"
            self._x = _as_arrays(x)
            self._y = None if y is None else _as_arrays(y)
            self._sw = None if sample_weight is None else _as_arrays(sample_weight)
            sizes = {len(a) for a in nest.flatten(self._x) + nest.flatten(self._y) + nest.flatten(self._sw)
                     if a is not None}
            if len(sizes) > 1:
                raise ValueError("Data cardinality is ambiguous: make sure all arrays contain the same number of "
                                 "samples. Sizes: %s" % sorted(sizes))
            self._n = sizes.pop()
            self._batch_size = batch_size or 32
            steps = -(-self._n // self._batch_size)
            self.steps = steps if steps_per_epoch is None else steps_per_epoch
            if shuffle == "batch":
                self._shuffle = True
        else:
            if y is not None:
                raise ValueError("`y` argument is not supported when using a dataset, generator or iterable as "
                                 "input: give (x, y) batches instead.")
            if batch_size is not None and hasattr(x, "element_spec"):
                raise ValueError("The `batch_size` argument must not be specified for the given input type: "
                                 "datasets are already batched.")
            self._kind = "iterable"
            self._source = x
            self._reiterable = hasattr(x, "element_spec") or (hasattr(x, "__getitem__") and hasattr(x, "__len__")) \
                or (hasattr(x, "__iter__") and not hasattr(x, "__next__"))
            n = None
            if hasattr(x, "__len__") and not hasattr(x, "element_spec"):
                try:
                    n = len(x)
                except TypeError:
                    n = None
            elif hasattr(x, "cardinality"):
                try:
                    c = int(x.cardinality())
                    n = c if c >= 0 else None
                except Exception:  # noqa: BLE001 (unknown cardinality)
                    n = None
            self.steps = steps_per_epoch if steps_per_epoch is not None else n
            self._peeked = None

    def peek(self):
        """One batch, to see the data's structure."""
        if self._kind == "arrays":
            sl = slice(0, min(self._n, self._batch_size))
            return pack(*[None if a is None else nest.map_structure(lambda v: v[sl], a)
                          for a in (self._x, self._y, self._sw)])
        if self._peeked is None:
            if self._reiterable:
                it = iter(self._source) if not hasattr(self._source, "__getitem__") or \
                    hasattr(self._source, "element_spec") else (self._source[i] for i in range(len(self._source)))
                self._peeked = self._normalize(next(it))
            else:
                self._iterator = iter(self._source)
                first = next(self._iterator)
                self._peeked = self._normalize(first)
                self._pending = [first]
        return self._peeked

    @staticmethod
    def _normalize(batch):
        if isinstance(batch, list):
            batch = tuple(batch)
        if not isinstance(batch, tuple):
            batch = (batch,)
        return tuple(_as_arrays(b) if b is not None and not hasattr(b, "numpy") else b for b in batch)

    def epoch_batches(self):
        if self._kind == "arrays":
            yield from self._array_batches()
        else:
            yield from self._iter_batches()

    def _array_batches(self):
        n, bs = self._n, self._batch_size
        idx = np.random.permutation(n) if self._shuffle else None
        steps = self.steps
        start = 0
        for _ in range(steps):
            if start >= n:
                if self._steps_per_epoch is None:
                    return
                start = 0  # steps_per_epoch beyond the data: start over (Keras warns and stops; we wrap)
            stop = min(start + bs, n)
            if idx is None:
                sl = slice(start, stop)
            else:
                sl = idx[start:stop]
            yield pack(*[None if a is None else nest.map_structure(lambda v: v[sl], a)
                         for a in (self._x, self._y, self._sw)])
            start = stop

    def _iter_batches(self):
        src = self._source
        if self._reiterable:
            if hasattr(src, "__getitem__") and hasattr(src, "__len__") and not hasattr(src, "element_spec"):
                it = (src[i] for i in range(len(src)))
            else:
                it = iter(src)
        else:
            if self._iterator is None:
                self._iterator = iter(src)
                self._pending = []
            pending, self._pending = getattr(self, "_pending", []), []

            def chain():
                yield from pending
                yield from self._iterator
            it = chain()
        count = 0
        for batch in it:
            yield self._normalize(batch)
            count += 1
            if self._steps_per_epoch is not None and count >= self._steps_per_epoch:
                break
        if self._reiterable and hasattr(src, "on_epoch_end"):
            src.on_epoch_end()
        if self.steps is None:
            self.steps = count
