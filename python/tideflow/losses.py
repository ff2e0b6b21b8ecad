"""tf.losses (TF1): weighted losses that reduce to a scalar and join the LOSSES collection.

Formulas, defaults, reductions and scope names follow tf.compat.v1.losses ("log_loss/...",
"softmax_cross_entropy_loss/xentropy"...). As in TF, log_loss, mean_squared_error, absolute_difference and
huber_loss compute in float32; the cross-entropy losses keep the logits' dtype (TF rounds those through
float32 on the way; here a float64 loss stays float64 throughout)."""
import numpy as np

from .framework import dtypes as _dtypes
from .framework import ops as _ops
from .framework.ops import GraphKeys
from .ops import array_ops, gen_ops, math_ops, nn_ops, reduction_ops
from .framework.tensor_shape import dimension_value as _dimension_value

__all__ = ["Reduction", "compute_weighted_loss", "absolute_difference", "log_loss", "mean_squared_error",
           "huber_loss", "hinge_loss", "softmax_cross_entropy", "sparse_softmax_cross_entropy",
           "sigmoid_cross_entropy", "add_loss", "get_losses", "get_regularization_loss",
           "get_regularization_losses", "get_total_loss"]


class Reduction:
    """How a weighted loss tensor becomes the returned loss."""
    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_OVER_NONZERO_WEIGHTS,
                cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError("Invalid Reduction Key %s." % key)


def _check_weights(weights, losses):
    """Static form of TF's assert_broadcastable: weights are a scalar or have the losses' rank with each
    dim 1 or equal."""
    ws, ls = weights.shape, losses.shape
    if ws.ndims in (None, 0) or ls.ndims is None:
        return
    bad = ws.ndims != ls.ndims or any(w is not None and l is not None and w not in (1, l)
                                      for w, l in zip(ws.as_list(), ls.as_list()))
    if bad:
        raise ValueError("weights can not be broadcast to values. values.rank=%d. weights.rank=%d. "
                         "values.shape=%s. weights.shape=%s." % (ls.ndims, ws.ndims, ls, ws))


def _like(value, t):
    """A constant of t's dtype."""
    return _ops.convert_to_tensor(value, dtype=t.dtype)


def _safe_div(num, den, name="value"):
    """num / den, 0 where den is 0 (TF's div_no_nan), with no NaN in the gradient either."""
    nonzero = math_ops.not_equal(den, _like(0, den))
    safe_den = math_ops.where(nonzero, den, _ops.apply1("OnesLike", [den]))
    return math_ops.where(nonzero, math_ops.truediv(num, safe_den), _ops.apply1("ZerosLike", [num]), name=name)


def _num_present(losses, weights):
    """How many losses carry a non-zero weight (weights broadcast to the losses' shape)."""
    with _ops.name_scope(None, "num_present", (losses, weights)) as scope:
        present = math_ops.cast(math_ops.not_equal(weights, _like(0, weights)), losses.dtype)
        present = math_ops.multiply(present, _ops.apply1("OnesLike", [losses]))
        return reduction_ops.reduce_sum(present, name=scope)


def _num_elements(losses):
    with _ops.name_scope(None, "num_elements", [losses]) as scope:
        return math_ops.cast(array_ops.size(losses), losses.dtype, name=scope)


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """losses * weights reduced as `reduction` says, added to `loss_collection`."""
    Reduction.validate(reduction)
    with _ops.name_scope(scope, "weighted_loss", (losses, weights)):
        losses = _ops.convert_to_tensor(losses)
        weights = math_ops.cast(_ops.convert_to_tensor(weights), losses.dtype)
        _check_weights(weights, losses)
        weighted = math_ops.multiply(losses, weights)
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            loss = reduction_ops.reduce_sum(weighted)
            if reduction == Reduction.MEAN:
                total_weight = math_ops.multiply(_ops.apply1("OnesLike", [losses]), weights)
                loss = _safe_div(loss, reduction_ops.reduce_sum(total_weight))
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                loss = _safe_div(loss, _num_present(losses, weights))
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = _safe_div(loss, _num_elements(losses))
        add_loss(loss, loss_collection)
        return loss


def _float32_pair(labels, predictions, what="predictions"):
    if labels is None:
        raise ValueError("labels must not be None.")
    if predictions is None:
        raise ValueError("%s must not be None." % what)
    predictions = math_ops.cast(_ops.convert_to_tensor(predictions), _dtypes.float32)
    labels = math_ops.cast(_ops.convert_to_tensor(labels), _dtypes.float32)
    if not predictions.shape.is_compatible_with(labels.shape):
        raise ValueError("Shapes %s and %s are incompatible" % (predictions.shape, labels.shape))
    return labels, predictions


def absolute_difference(labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                        reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """|predictions - labels|, weighted and reduced."""
    with _ops.name_scope(scope, "absolute_difference", (predictions, labels, weights)) as scope:
        labels, predictions = _float32_pair(labels, predictions)
        losses = gen_ops.abs(math_ops.subtract(predictions, labels))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None, loss_collection=GraphKeys.LOSSES,
             reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """-labels * log(predictions + eps) - (1 - labels) * log(1 - predictions + eps), weighted and reduced."""
    with _ops.name_scope(scope, "log_loss", (predictions, labels, weights)) as scope:
        labels, predictions = _float32_pair(labels, predictions)
        eps, one = _like(epsilon, predictions), _like(1.0, predictions)
        pos = math_ops.multiply(labels, gen_ops.log(math_ops.add(predictions, eps)))
        neg = math_ops.multiply(math_ops.subtract(one, labels),
                                gen_ops.log(math_ops.add(math_ops.subtract(one, predictions), eps)))
        losses = math_ops.subtract(gen_ops.negative(pos), neg)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """(predictions - labels)^2, weighted and reduced."""
    with _ops.name_scope(scope, "mean_squared_error", (predictions, labels, weights)) as scope:
        labels, predictions = _float32_pair(labels, predictions)
        losses = math_ops.squared_difference(predictions, labels)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """0.5 * e^2 for |e| <= delta, delta * (|e| - 0.5 * delta) beyond, e = predictions - labels."""
    with _ops.name_scope(scope, "huber_loss", (predictions, labels, weights)) as scope:
        labels, predictions = _float32_pair(labels, predictions)
        error = gen_ops.abs(math_ops.subtract(predictions, labels))
        d = _like(delta, error)
        quadratic = math_ops.minimum(error, d)
        linear = math_ops.subtract(error, quadratic)
        losses = math_ops.add(math_ops.multiply(_like(0.5, error), math_ops.multiply(quadratic, quadratic)),
                              math_ops.multiply(d, linear))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def hinge_loss(labels, logits, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """relu(1 - (2 * labels - 1) * logits) for labels in {0, 1}."""
    with _ops.name_scope(scope, "hinge_loss", (logits, labels, weights)) as scope:
        labels, logits = _float32_pair(labels, logits, "logits")
        one = _like(1.0, logits)
        signs = math_ops.subtract(math_ops.multiply(_like(2.0, logits), labels), one)
        losses = gen_ops.relu(math_ops.subtract(one, math_ops.multiply(logits, signs)))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """sigmoid_cross_entropy_with_logits, labels optionally smoothed towards 1/2, weighted and reduced."""
    if multi_class_labels is None:
        raise ValueError("multi_class_labels must not be None.")
    if logits is None:
        raise ValueError("logits must not be None.")
    with _ops.name_scope(scope, "sigmoid_cross_entropy_loss", (logits, multi_class_labels, weights)) as scope:
        logits = _ops.convert_to_tensor(logits)
        labels = math_ops.cast(_ops.convert_to_tensor(multi_class_labels), logits.dtype)
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError("Shapes %s and %s are incompatible" % (logits.shape, labels.shape))
        if label_smoothing > 0:
            labels = math_ops.add(math_ops.multiply(labels, _like(1 - label_smoothing, logits)),
                                  _like(0.5 * label_smoothing, logits))
        losses = nn_ops.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Softmax cross-entropy per row (labels optionally smoothed: labels * (1 - s) + s / classes, and never
    differentiated), weighted per row and reduced."""
    if onehot_labels is None:
        raise ValueError("onehot_labels must not be None.")
    if logits is None:
        raise ValueError("logits must not be None.")
    with _ops.name_scope(scope, "softmax_cross_entropy_loss", (logits, onehot_labels, weights)) as scope:
        logits = _ops.convert_to_tensor(logits)
        labels = math_ops.cast(_ops.convert_to_tensor(onehot_labels), logits.dtype)
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError("Shapes %s and %s are incompatible" % (logits.shape, labels.shape))
        if label_smoothing > 0:
            classes = math_ops.cast(array_ops.shape(labels)[-1], logits.dtype)
            labels = math_ops.add(math_ops.multiply(labels, _like(1 - label_smoothing, logits)),
                                  math_ops.truediv(_like(label_smoothing, logits), classes))
        labels = _ops.apply1("StopGradient", [labels], name="labels_stop_gradient")
        losses = nn_ops.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Sparse softmax cross-entropy per row (labels: class indices; a trailing dim of 1 is squeezed as TF
    does), weighted and reduced."""
    if labels is None:
        raise ValueError("labels must not be None.")
    if logits is None:
        raise ValueError("logits must not be None.")
    with _ops.name_scope(scope, "sparse_softmax_cross_entropy_loss", (logits, labels, weights)) as scope:
        logits = _ops.convert_to_tensor(logits)
        labels = _ops.convert_to_tensor(labels)
        lr, gr = labels.shape.ndims, logits.shape.ndims
        if lr is not None and gr is not None and lr == gr and _dimension_value(labels.shape[-1]) == 1:
            labels = array_ops.squeeze(labels, [-1])
        weights = _ops.convert_to_tensor(weights)
        wr, lr = weights.shape.ndims, labels.shape.ndims
        if wr is not None and lr is not None and wr == lr + 1 and _dimension_value(weights.shape[-1]) == 1:
            weights = array_ops.squeeze(weights, [-1])
        losses = nn_ops.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def add_loss(loss, loss_collection=GraphKeys.LOSSES):
    """Adds `loss` to `loss_collection` (nothing when the collection is None or empty)."""
    if loss_collection:
        _ops.add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=GraphKeys.LOSSES):
    return _ops.get_collection(loss_collection, scope)


def get_regularization_losses(scope=None):
    return _ops.get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope=None, name="total_regularization_loss"):
    """Sum of the regularization losses, or a 0.0 constant when there are none."""
    losses = get_regularization_losses(scope)
    if losses:
        return math_ops.add_n(losses, name=name)
    return _ops.convert_to_tensor(np.float32(0.0), name=name)


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None):
    """Sum of the LOSSES collection (and the regularization losses); ValueError when there are none."""
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses += get_regularization_losses(scope)
    if not losses:
        raise ValueError("No losses found: tf.losses.get_total_loss() sums the LOSSES collection, which is "
                         "empty in this graph.")
    return math_ops.add_n(losses, name=name)
