"""TensorFlow 2's `tf.losses` (the Keras loss functions): per-example losses, averaged (or summed) over the
last axis, with Keras's names and aliases (`tf.losses.MSE`, `categorical_crossentropy`...). tideflow.v2
exposes this module as `tf.losses`; the TF 1.x `tf.losses` (tideflow.losses) is unchanged. Formulas follow
Keras 2's backend (epsilon 1e-7 clipping of probabilities)."""
from .framework import dtypes as _dtypes
from .framework import ops as _ops
from .ops import array_ops, clip_ops, gen_ops, math_ops, nn_ops, reduction_ops

__all__ = ["mean_squared_error", "mse", "MSE", "mean_absolute_error", "mae", "MAE",
           "mean_absolute_percentage_error", "mape", "MAPE", "mean_squared_logarithmic_error", "msle", "MSLE",
           "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "hinge",
           "squared_hinge", "categorical_hinge", "kl_divergence", "kld", "KLD", "kullback_leibler_divergence",
           "huber", "log_cosh", "logcosh", "poisson", "cosine_similarity"]

_EPSILON = 1e-7


def _pair(y_true, y_pred):
    y_pred = _ops.convert_to_tensor(y_pred)
    y_true = math_ops.cast(_ops.convert_to_tensor(y_true), y_pred.dtype)
    return y_true, y_pred


def _mean_last(x):
    return reduction_ops.reduce_mean(x, axis=-1)


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    return _mean_last(math_ops.squared_difference(y_pred, y_true))


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    return _mean_last(gen_ops.abs(y_pred - y_true))


def mean_absolute_percentage_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    diff = gen_ops.abs((y_true - y_pred) / math_ops.maximum(gen_ops.abs(y_true), _EPSILON))
    return 100.0 * _mean_last(diff)


def mean_squared_logarithmic_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    a = gen_ops.log(math_ops.maximum(y_pred, _EPSILON) + 1.0)
    b = gen_ops.log(math_ops.maximum(y_true, _EPSILON) + 1.0)
    return _mean_last(math_ops.squared_difference(a, b))


def _smooth_categorical(y_true, label_smoothing):
    if not label_smoothing:
        return y_true
    n = math_ops.cast(array_ops.shape(y_true)[-1], y_true.dtype)
    return y_true * (1.0 - label_smoothing) + label_smoothing / n


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y_true * log(p)) over `axis`, where p is softmax(y_pred) with from_logits, else y_pred scaled to
    sum to one and clipped to [1e-7, 1 - 1e-7]."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _smooth_categorical(y_true, label_smoothing)
    if from_logits:
        return nn_ops.softmax_cross_entropy_with_logits_v2(labels=y_true, logits=y_pred, axis=axis)
    p = y_pred / reduction_ops.reduce_sum(y_pred, axis=axis, keepdims=True)
    p = clip_ops.clip_by_value(p, _EPSILON, 1.0 - _EPSILON)
    return -reduction_ops.reduce_sum(y_true * gen_ops.log(p), axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """categorical_crossentropy with integer class labels."""
    y_pred = _ops.convert_to_tensor(y_pred)
    y_true = math_ops.cast(_ops.convert_to_tensor(y_true), _dtypes.int64)
    if axis not in (-1, y_pred.shape.ndims - 1 if y_pred.shape.ndims is not None else -1):
        raise NotImplementedError("sparse_categorical_crossentropy supports the last axis only")
    if y_true.shape.ndims is not None and y_pred.shape.ndims is not None and \
            y_true.shape.ndims == y_pred.shape.ndims:
        y_true = array_ops.squeeze(y_true, axis=[-1])
    if from_logits:
        return nn_ops.sparse_softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    p = y_pred / reduction_ops.reduce_sum(y_pred, axis=-1, keepdims=True)
    p = clip_ops.clip_by_value(p, _EPSILON, 1.0 - _EPSILON)
    return nn_ops.sparse_softmax_cross_entropy_with_logits(labels=y_true, logits=gen_ops.log(p))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over `axis` of -(y log p + (1 - y) log(1 - p)); p = sigmoid(y_pred) with from_logits."""
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        bce = nn_ops.sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    else:
        p = clip_ops.clip_by_value(y_pred, _EPSILON, 1.0 - _EPSILON)
        bce = -(y_true * gen_ops.log(p + _EPSILON) + (1.0 - y_true) * gen_ops.log(1.0 - p + _EPSILON))
    return reduction_ops.reduce_mean(bce, axis=axis)


def _signed_labels(y_true):
    """Keras's hinge losses take labels in {-1, 1}; {0, 1} labels are mapped to them."""
    is_binary = reduction_ops.reduce_all(math_ops.logical_or(math_ops.equal(y_true, 0.0),
                                                             math_ops.equal(y_true, 1.0)))
    return math_ops.where(array_ops.fill(array_ops.shape(y_true), is_binary), 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _signed_labels(y_true)
    return _mean_last(math_ops.maximum(1.0 - y_true * y_pred, 0.0))


def squared_hinge(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _signed_labels(y_true)
    return _mean_last(gen_ops.square(math_ops.maximum(1.0 - y_true * y_pred, 0.0)))


def categorical_hinge(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    pos = reduction_ops.reduce_sum(y_true * y_pred, axis=-1)
    neg = reduction_ops.reduce_max((1.0 - y_true) * y_pred, axis=-1)
    return math_ops.maximum(neg - pos + 1.0, 0.0)


def kl_divergence(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = clip_ops.clip_by_value(y_true, _EPSILON, 1.0)
    y_pred = clip_ops.clip_by_value(y_pred, _EPSILON, 1.0)
    return reduction_ops.reduce_sum(y_true * gen_ops.log(y_true / y_pred), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Mean over the last axis of 0.5 e^2 where |e| <= delta, else delta (|e| - 0.5 delta)."""
    y_true, y_pred = _pair(y_true, y_pred)
    delta = math_ops.cast(delta, y_pred.dtype)
    error = y_pred - y_true
    abs_error = gen_ops.abs(error)
    quadratic = 0.5 * gen_ops.square(error)
    linear = delta * abs_error - 0.5 * gen_ops.square(delta)
    return _mean_last(math_ops.where(abs_error <= delta, quadratic, linear))


def log_cosh(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return _mean_last(x + nn_ops.softplus(-2.0 * x) - math_ops.cast(0.6931471805599453, x.dtype))


def poisson(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    return _mean_last(y_pred - y_true * gen_ops.log(y_pred + _EPSILON))


def cosine_similarity(y_true, y_pred, axis=-1):
    y_true, y_pred = _pair(y_true, y_pred)
    return -reduction_ops.reduce_sum(nn_ops.l2_normalize(y_true, axis=axis) * nn_ops.l2_normalize(y_pred, axis=axis),
                                     axis=axis)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
