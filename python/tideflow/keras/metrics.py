"""tf.keras.metrics: stateful metrics (their totals live in variables, so a compiled step updates them inside
its traced graph) and the metric functions. Strings resolve as Keras resolves them: 'accuracy'/'acc' become
binary, sparse categorical or categorical accuracy from the loss and the output's shape
(`resolve_accuracy`)."""
import re

from .. import losses_v2 as _lfn
from ..eager import function as _function
from ..framework import dtypes as _dtypes
from ..framework.tensor_shape import dimension_value as _dim
from ..framework import ops as _ops
from ..ops import array_ops, math_ops, nn_ops, reduction_ops, state_ops

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
           "MeanSquaredError", "MeanAbsoluteError", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "BinaryCrossentropy", "accuracy", "binary_accuracy", "categorical_accuracy",
           "sparse_categorical_accuracy", "get", "serialize", "deserialize"]


def _weight(values, sample_weight):
    values = math_ops.cast(values, _dtypes.float32)
    if sample_weight is None:
        return values, None
    sw = math_ops.cast(_ops.convert_to_tensor(sample_weight), _dtypes.float32)
    if sw.shape.ndims is not None and values.shape.ndims is not None:
        if sw.shape.ndims == values.shape.ndims + 1 and _dim(sw.shape[-1]) == 1:
            sw = array_ops.squeeze(sw, axis=[-1])
        while sw.shape.ndims < values.shape.ndims:
            sw = array_ops.expand_dims(sw, -1)
    sw = sw + array_ops.zeros_like(values)
    return values * sw, sw


class Metric:
    """A metric's state is a few float32 variables (created when the metric is made, outside any trace);
    `update_state` adds to them, `result` reads them, `reset_state` zeroes them."""

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = _dtypes.as_dtype(dtype or _dtypes.float32)
        self._variables = []

    def add_weight(self, name, shape=(), initializer="zeros", dtype=None):
        with _function.init_scope():
            v = state_ops.Variable(array_ops.zeros(shape, dtype or self.dtype), name=self.name + "/" + name,
                                   trainable=False, collections=[_ops.GraphKeys.LOCAL_VARIABLES]
                                   if not _ops._core.executing_eagerly() else None)
        self._variables.append(v)
        return v

    variables = property(lambda self: list(self._variables))
    weights = variables

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def reset_state(self):
        for v in self._variables:
            v.assign(array_ops.zeros(v.shape, v.dtype))

    reset_states = reset_state

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype.name}


def _snake(name):
    s = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()


class _Reduce(Metric):
    def __init__(self, name=None, dtype=None, mean=True):
        super().__init__(name, dtype)
        self._mean = mean
        self.total = self.add_weight("total")
        if mean:
            self.count = self.add_weight("count")

    def update_state(self, values, sample_weight=None):
        values, sw = _weight(_ops.convert_to_tensor(values), sample_weight)
        ups = [self.total.assign_add(reduction_ops.reduce_sum(values))]
        if self._mean:
            n = reduction_ops.reduce_sum(sw) if sw is not None else math_ops.cast(array_ops.size(values),
                                                                                  _dtypes.float32)
            ups.append(self.count.assign_add(n))
        return ups

    def result(self):
        # Fresh reads (not a graph variable's snapshot): in a step graph they are ordered after this step's
        # updates.
        if not self._mean:
            return self.total.read_value()
        return math_ops.div_no_nan(self.total.read_value(), self.count.read_value())


class Mean(_Reduce):
    """The (weighted) mean of the values given so far."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype, mean=True)


class Sum(_Reduce):
    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype, mean=False)


class MeanMetricWrapper(Mean):
    """The mean over examples of fn(y_true, y_pred, **kwargs)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or fn.__name__, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


# ---- metric functions ----

def accuracy(y_true, y_pred):
    y_pred = _ops.convert_to_tensor(y_pred)
    y_true = math_ops.cast(_ops.convert_to_tensor(y_true), y_pred.dtype)
    return math_ops.cast(math_ops.equal(y_true, y_pred), _dtypes.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_pred = _ops.convert_to_tensor(y_pred)
    y_true = math_ops.cast(_ops.convert_to_tensor(y_true), y_pred.dtype)
    pred = math_ops.cast(math_ops.greater(y_pred, math_ops.cast(threshold, y_pred.dtype)), y_pred.dtype)
    return reduction_ops.reduce_mean(math_ops.cast(math_ops.equal(y_true, pred), _dtypes.float32), axis=-1)


def categorical_accuracy(y_true, y_pred):
    return math_ops.cast(math_ops.equal(reduction_ops.argmax(y_true, axis=-1), reduction_ops.argmax(y_pred, axis=-1)),
                         _dtypes.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """Labels may come as [batch] or [batch, 1] integers (or floats holding integers)."""
    y_pred = _ops.convert_to_tensor(y_pred)
    y_true = _ops.convert_to_tensor(y_true)
    if y_true.shape.ndims is not None and y_pred.shape.ndims is not None and \
            y_true.shape.ndims == y_pred.shape.ndims and _dim(y_true.shape[-1]) == 1:
        y_true = array_ops.squeeze(y_true, axis=[-1])
    pred = reduction_ops.argmax(y_pred, axis=-1)
    return math_ops.cast(math_ops.equal(math_ops.cast(y_true, _dtypes.int64), pred), _dtypes.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return math_ops.cast(nn_ops.in_top_k(y_pred, reduction_ops.argmax(y_true, axis=-1), k), _dtypes.float32)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_true = _ops.convert_to_tensor(y_true)
    if y_true.shape.ndims == 2:
        y_true = array_ops.squeeze(y_true, axis=[-1])
    return math_ops.cast(nn_ops.in_top_k(y_pred, math_ops.cast(y_true, _dtypes.int32), k), _dtypes.float32)


def _metric_class(class_name, fn, default_name, **defaults):
    def __init__(self, name=default_name, dtype=None, **kwargs):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **{**defaults, **kwargs})
    return type(class_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": "Keras's %s metric." % class_name})


Accuracy = _metric_class("Accuracy", accuracy, "accuracy")
BinaryAccuracy = _metric_class("BinaryAccuracy", binary_accuracy, "binary_accuracy", threshold=0.5)
CategoricalAccuracy = _metric_class("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy")
SparseCategoricalAccuracy = _metric_class("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                          "sparse_categorical_accuracy")
TopKCategoricalAccuracy = _metric_class("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                        "top_k_categorical_accuracy", k=5)
SparseTopKCategoricalAccuracy = _metric_class("SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
                                              "sparse_top_k_categorical_accuracy", k=5)
MeanSquaredError = _metric_class("MeanSquaredError", _lfn.mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _metric_class("MeanAbsoluteError", _lfn.mean_absolute_error, "mean_absolute_error")
CategoricalCrossentropy = _metric_class("CategoricalCrossentropy", _lfn.categorical_crossentropy,
                                        "categorical_crossentropy", from_logits=False)
SparseCategoricalCrossentropy = _metric_class("SparseCategoricalCrossentropy", _lfn.sparse_categorical_crossentropy,
                                              "sparse_categorical_crossentropy", from_logits=False)
BinaryCrossentropy = _metric_class("BinaryCrossentropy", _lfn.binary_crossentropy, "binary_crossentropy",
                                   from_logits=False)

mse = MSE = mean_squared_error = _lfn.mean_squared_error
mae = MAE = mean_absolute_error = _lfn.mean_absolute_error
categorical_crossentropy = _lfn.categorical_crossentropy
sparse_categorical_crossentropy = _lfn.sparse_categorical_crossentropy
binary_crossentropy = _lfn.binary_crossentropy

_FUNCTIONS = {"accuracy": accuracy, "binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
              "sparse_categorical_accuracy": sparse_categorical_accuracy,
              "top_k_categorical_accuracy": top_k_categorical_accuracy,
              "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
              "mse": mse, "mean_squared_error": mse, "mae": mae, "mean_absolute_error": mae,
              "categorical_crossentropy": categorical_crossentropy,
              "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
              "binary_crossentropy": binary_crossentropy}
_CLASSES = {c.__name__: c for c in (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                                   TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
                                   MeanAbsoluteError, CategoricalCrossentropy, SparseCategoricalCrossentropy,
                                   BinaryCrossentropy, Mean, Sum)}


def serialize(metric):
    if isinstance(metric, Metric):
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    return metric.__name__


def deserialize(config):
    if isinstance(config, dict):
        return _CLASSES[config["class_name"]](**config.get("config", {}))
    if config in _CLASSES:
        return _CLASSES[config]()
    fn = _FUNCTIONS.get(config)
    if fn is None:
        raise ValueError("Unknown metric function: %s" % config)
    return fn


def get(identifier):
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError("Could not interpret metric identifier: %s" % (identifier,))


def _loss_name(loss):
    fn = getattr(loss, "fn", loss)
    return getattr(fn, "__name__", "")


def resolve_accuracy(name, loss, output_shape):
    """Keras's rule for 'accuracy'/'acc': binary when the output has one unit or the loss is binary
    crossentropy, sparse categorical for sparse categorical crossentropy, else categorical. The metric keeps
    the name the user wrote."""
    lname = _loss_name(loss)
    last = output_shape[-1] if output_shape else None
    if lname == "binary_crossentropy" or last == 1:
        return BinaryAccuracy(name=name)
    if lname == "sparse_categorical_crossentropy":
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def make(identifier, loss=None, output_shape=None):
    """A Metric object for a compile() metric entry."""
    if isinstance(identifier, Metric):
        return identifier
    if identifier in ("accuracy", "acc"):
        return resolve_accuracy(identifier, loss, output_shape)
    if isinstance(identifier, str) and identifier in _CLASSES:
        return _CLASSES[identifier]()
    if isinstance(identifier, str):
        fn = deserialize(identifier)
        return MeanMetricWrapper(fn, name=identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))
    raise ValueError("Could not interpret metric identifier: %s" % (identifier,))
