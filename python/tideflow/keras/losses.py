"""tf.keras.losses: the Keras loss functions (per-example values, from tideflow/losses_v2.py) and the loss
classes that reduce them (Keras's Reduction: sum over batch size by default, sample weights broadcast over the
per-example losses)."""
from .. import losses_v2 as _fn
from ..framework import dtypes as _dtypes
from ..framework.tensor_shape import dimension_value as _dim
from ..framework import ops as _ops
from ..ops import array_ops, math_ops, reduction_ops

__all__ = ["Loss", "Reduction", "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
           "MeanSquaredLogarithmicError", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "BinaryCrossentropy", "Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence", "Huber", "LogCosh",
           "Poisson", "CosineSimilarity", "get", "serialize", "deserialize"]

for _name in _fn.__all__:
    globals()[_name] = getattr(_fn, _name)
__all__ += list(_fn.__all__)


class Reduction:
    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls):
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError('Invalid Reduction Key: %s. Expected keys are "%s"' % (key, cls.all()))


def compute_weighted_loss(losses, sample_weight=None, reduction=Reduction.SUM_OVER_BATCH_SIZE):
    """Weights the per-example losses and reduces them: SUM_OVER_BATCH_SIZE divides the weighted sum by the
    number of loss elements (not by the sum of the weights), as Keras does."""
    losses = _ops.convert_to_tensor(losses)
    if sample_weight is not None:
        sample_weight = math_ops.cast(_ops.convert_to_tensor(sample_weight), losses.dtype)
        ls, ws = losses.shape.ndims, sample_weight.shape.ndims
        if ls is not None and ws is not None:
            if ws == ls + 1 and _dim(sample_weight.shape[-1]) == 1:
                sample_weight = array_ops.squeeze(sample_weight, axis=[-1])
            while sample_weight.shape.ndims < ls:
                sample_weight = array_ops.expand_dims(sample_weight, -1)
        losses = losses * sample_weight
    if reduction == Reduction.NONE:
        return losses
    total = reduction_ops.reduce_sum(losses)
    if reduction == Reduction.SUM:
        return total
    n = math_ops.cast(array_ops.size(losses), losses.dtype)
    return math_ops.div_no_nan(total, n)


class Loss:
    """Base class: `call(y_true, y_pred)` returns per-example losses; `__call__` weights and reduces them."""

    def __init__(self, reduction=Reduction.AUTO, name=None):
        Reduction.validate(reduction)
        self.reduction = reduction
        self.name = name

    def __call__(self, y_true, y_pred, sample_weight=None):
        losses = self.call(y_true, y_pred)
        reduction = Reduction.SUM_OVER_BATCH_SIZE if self.reduction == Reduction.AUTO else self.reduction
        return compute_weighted_loss(losses, sample_weight, reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError("Must be implemented in subclasses.")

    def get_config(self):
        return {"reduction": self.reduction, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    def __init__(self, fn, reduction=Reduction.AUTO, name=None, **kwargs):
        super().__init__(reduction=reduction, name=name)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**self._fn_kwargs, **super().get_config()}


def _wrapper(class_name, fn, default_name, **defaults):
    def __init__(self, *args, reduction=Reduction.AUTO, name=default_name, **kwargs):
        kw = dict(defaults)
        keys = list(defaults)
        for k, v in zip(keys, args):
            kw[k] = v
        for k, v in kwargs.items():
            if k not in defaults:
                raise TypeError("%s got an unexpected keyword argument '%s'" % (class_name, k))
            kw[k] = v
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, **kw)
    return type(class_name, (LossFunctionWrapper,), {"__init__": __init__, "__doc__": "Keras's %s loss." % class_name})


MeanSquaredError = _wrapper("MeanSquaredError", _fn.mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", _fn.mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _wrapper("MeanAbsolutePercentageError", _fn.mean_absolute_percentage_error,
                                       "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _wrapper("MeanSquaredLogarithmicError", _fn.mean_squared_logarithmic_error,
                                       "mean_squared_logarithmic_error")
CategoricalCrossentropy = _wrapper("CategoricalCrossentropy", _fn.categorical_crossentropy,
                                   "categorical_crossentropy", from_logits=False, label_smoothing=0.0, axis=-1)
SparseCategoricalCrossentropy = _wrapper("SparseCategoricalCrossentropy", _fn.sparse_categorical_crossentropy,
                                         "sparse_categorical_crossentropy", from_logits=False)
BinaryCrossentropy = _wrapper("BinaryCrossentropy", _fn.binary_crossentropy, "binary_crossentropy",
                              from_logits=False, label_smoothing=0.0, axis=-1)
Hinge = _wrapper("Hinge", _fn.hinge, "hinge")
SquaredHinge = _wrapper("SquaredHinge", _fn.squared_hinge, "squared_hinge")
CategoricalHinge = _wrapper("CategoricalHinge", _fn.categorical_hinge, "categorical_hinge")
KLDivergence = _wrapper("KLDivergence", _fn.kl_divergence, "kl_divergence")
Huber = _wrapper("Huber", _fn.huber, "huber_loss", delta=1.0)
LogCosh = _wrapper("LogCosh", _fn.log_cosh, "log_cosh")
Poisson = _wrapper("Poisson", _fn.poisson, "poisson")
CosineSimilarity = _wrapper("CosineSimilarity", _fn.cosine_similarity, "cosine_similarity", axis=-1)

_CLASSES = {c.__name__: c for c in (MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
                                   MeanSquaredLogarithmicError, CategoricalCrossentropy,
                                   SparseCategoricalCrossentropy, BinaryCrossentropy, Hinge, SquaredHinge,
                                   CategoricalHinge, KLDivergence, Huber, LogCosh, Poisson, CosineSimilarity)}


def serialize(loss):
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    return loss.__name__


def deserialize(name):
    if isinstance(name, dict):
        return _CLASSES[name["class_name"]](**name.get("config", {}))
    fn = globals().get(name) if name in _fn.__all__ else None
    if fn is None:
        cls = _CLASSES.get(name)
        if cls is None:
            raise ValueError("Unknown loss function: %s" % name)
        return cls()
    return fn


def get(identifier):
    """A name ('mse', 'categorical_crossentropy', 'MeanSquaredError'), config dict, Loss or function."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError("Could not interpret loss function identifier: %s" % (identifier,))


del _name
