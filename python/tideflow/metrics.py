"""tf.metrics (TF 1.x): streaming metrics. Each returns (value, update_op): running update_op folds a batch
into the metric's state, value reads the result so far. The state lives in local variables (collections
LOCAL_VARIABLES and METRIC_VARIABLES) under the metric's variable scope, named as TensorFlow names them
("accuracy/total", "auc/true_positives"...), so tf.local_variables_initializer() resets a metric.

Formulas follow tensorflow/python/ops/metrics_impl.py (TF 1.15): divisions by an empty count give 0,
auc uses TF's 200 thresholds, its epsilons and its summation methods."""
from .framework import dtypes as _dtypes
from .framework import ops as _ops
from .framework.ops import GraphKeys
from .ops import array_ops, gen_ops, linalg_ops, math_ops, reduction_ops, state_ops
from .ops import variable_scope as _vs

__all__ = ["accuracy", "mean", "mean_squared_error", "root_mean_squared_error", "mean_absolute_error",
           "mean_relative_error", "precision", "recall", "auc", "true_positives", "false_positives",
           "true_negatives", "false_negatives", "true_positives_at_thresholds", "false_positives_at_thresholds",
           "true_negatives_at_thresholds", "false_negatives_at_thresholds", "precision_at_thresholds",
           "recall_at_thresholds", "mean_per_class_accuracy", "mean_iou", "mean_tensor"]

# Note [metric state]: TF keeps a metric's running sums in local, non-trainable variables of the
# METRIC_VARIABLES collection: Savers (global variables only) skip them, local_variables_initializer resets
# them, and an Estimator's evaluate() starts every evaluation from zero through its local init op.
METRIC_VARIABLES = GraphKeys.METRIC_VARIABLES


def _metric_variable(shape, dtype, name, validate_shape=True):
    return state_ops.Variable(lambda: array_ops.zeros(shape, dtype), trainable=False,
                              collections=[GraphKeys.LOCAL_VARIABLES, METRIC_VARIABLES],
                              validate_shape=validate_shape, name=name)


def _float(x):
    return math_ops.cast(x, _dtypes.float32)


def _rank(t):
    return t.shape.ndims


def _remove_squeezable_dimensions(predictions, labels, weights):
    """Squeezes a trailing size-1 dimension from predictions or labels when their ranks differ by one, and
    fits weights to predictions' rank the same way (TF's confusion_matrix.remove_squeezable_dimensions)."""
    predictions = _ops.convert_to_tensor(predictions)
    if labels is not None:
        labels = _ops.convert_to_tensor(labels)
        pr, lr = _rank(predictions), _rank(labels)
        if pr is not None and lr is not None:
            if pr - lr == 1 and predictions.shape.as_list()[-1] == 1:
                predictions = array_ops.squeeze(predictions, [-1])
            elif lr - pr == 1 and labels.shape.as_list()[-1] == 1:
                labels = array_ops.squeeze(labels, [-1])
    if weights is None:
        return predictions, labels, None
    weights = _ops.convert_to_tensor(weights)
    wr, pr = _rank(weights), _rank(predictions)
    if wr == 0:
        return predictions, labels, weights
    if wr is not None and pr is not None:
        if wr - pr == 1 and weights.shape.as_list()[-1] == 1:
            weights = array_ops.squeeze(weights, [-1])
        elif pr - wr == 1:
            weights = array_ops.expand_dims(weights, -1)
    return predictions, labels, weights


def _broadcast_weights(weights, values):
    """weights * ones_like(values): the weight of every value (TF's weights_broadcast_ops)."""
    weights = _float(weights)
    if weights.shape.is_fully_defined() and values.shape.is_fully_defined() and \
            weights.shape.as_list() == values.shape.as_list():
        return weights
    return math_ops.multiply(weights, array_ops.ones_like(values))


def _collect(metrics_collections, updates_collections, value, update_op):
    if metrics_collections:
        _ops.add_to_collections(metrics_collections, value)
    if updates_collections:
        _ops.add_to_collections(updates_collections, update_op)
    return value, update_op


def _scope_values(*ts):
    return [t for t in ts if isinstance(t, _ops.Tensor)]


def mean(values, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """The (weighted) mean of every value seen: total/count in variables "mean/total" and "mean/count"."""
    with _vs.variable_scope(name, "mean", _scope_values(values, weights)):
        values = _float(_ops.convert_to_tensor(values))
        total = _metric_variable([], _dtypes.float32, name="total")
        count = _metric_variable([], _dtypes.float32, name="count")
        if weights is None:
            num_values = _float(array_ops.size(values))
        else:
            values, _, weights = _remove_squeezable_dimensions(values, None, weights)
            weights = _broadcast_weights(weights, values)
            values = math_ops.multiply(values, weights)
            num_values = reduction_ops.reduce_sum(weights)
        update_total_op = state_ops.assign_add(total, reduction_ops.reduce_sum(values))
        with _ops.control_dependencies([values]):
            update_count_op = state_ops.assign_add(count, num_values)
        mean_t = math_ops.div_no_nan(total, count, name="value")
        update_op = math_ops.div_no_nan(update_total_op, update_count_op, name="update_op")
        return _collect(metrics_collections, updates_collections, mean_t, update_op)


def mean_tensor(values, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """The element-wise (weighted) mean of every `values` tensor seen (all of one fully defined shape)."""
    with _vs.variable_scope(name, "mean", _scope_values(values, weights)):
        values = _float(_ops.convert_to_tensor(values))
        if not values.shape.is_fully_defined():
            raise ValueError("mean_tensor needs values of a fully defined shape, got %s" % values.shape)
        total = _metric_variable(values.shape.as_list(), _dtypes.float32, name="total_tensor")
        count = _metric_variable(values.shape.as_list(), _dtypes.float32, name="count_tensor")
        num_values = array_ops.ones_like(values)
        if weights is not None:
            values, _, weights = _remove_squeezable_dimensions(values, None, weights)
            weights = _broadcast_weights(weights, values)
            values = math_ops.multiply(values, weights)
            num_values = math_ops.multiply(num_values, weights)
        update_total_op = state_ops.assign_add(total, values)
        with _ops.control_dependencies([values]):
            update_count_op = state_ops.assign_add(count, num_values)
        mean_t = math_ops.div_no_nan(total, count, name="value")
        update_op = math_ops.div_no_nan(update_total_op, update_count_op, name="update_op")
        return _collect(metrics_collections, updates_collections, mean_t, update_op)


def _check_compatible(predictions, labels):
    if not predictions.shape.is_compatible_with(labels.shape):
        raise ValueError("Shapes %s and %s are incompatible" % (predictions.shape, labels.shape))


def accuracy(labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """How often predictions equal labels: mean(equal(predictions, labels)) in "accuracy/total|count"."""
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    _check_compatible(predictions, labels)
    if labels.dtype != predictions.dtype:
        predictions = math_ops.cast(predictions, labels.dtype)
    is_correct = _float(math_ops.equal(predictions, labels))
    return mean(is_correct, weights, metrics_collections, updates_collections, name or "accuracy")


def _float_pair(labels, predictions, weights):
    # No cast, as in TF: labels and predictions of different dtypes are a TypeError.
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    _check_compatible(predictions, labels)
    return predictions, labels, weights


def mean_squared_error(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                       name=None):
    predictions, labels, weights = _float_pair(labels, predictions, weights)
    squared_error = math_ops.squared_difference(labels, predictions)
    return mean(squared_error, weights, metrics_collections, updates_collections, name or "mean_squared_error")


def mean_absolute_error(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                        name=None):
    predictions, labels, weights = _float_pair(labels, predictions, weights)
    absolute_errors = gen_ops.abs(math_ops.subtract(predictions, labels))
    return mean(absolute_errors, weights, metrics_collections, updates_collections, name or "mean_absolute_error")


def mean_relative_error(labels, predictions, normalizer, weights=None, metrics_collections=None,
                        updates_collections=None, name=None):
    predictions, labels, weights = _float_pair(labels, predictions, weights)
    normalizer = _float(_ops.convert_to_tensor(normalizer))
    relative_errors = math_ops.where(math_ops.equal(normalizer, 0.0), array_ops.zeros_like(labels),
                                      math_ops.divide(gen_ops.abs(math_ops.subtract(labels, predictions)),
                                                      normalizer))
    return mean(relative_errors, weights, metrics_collections, updates_collections, name or "mean_relative_error")


def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                            name=None):
    predictions, labels, weights = _float_pair(labels, predictions, weights)
    mse, update_mse_op = mean(math_ops.squared_difference(labels, predictions), weights, None, None,
                              name or "root_mean_squared_error")
    rmse = gen_ops.sqrt(mse)
    update_rmse_op = gen_ops.sqrt(update_mse_op)
    return _collect(metrics_collections, updates_collections, rmse, update_rmse_op)


def _count_condition(values, weights=None, metrics_collections=None, updates_collections=None):
    """Sums (weighted) true entries of a bool tensor into a "count" variable of the current scope."""
    count = _metric_variable([], _dtypes.float32, name="count")
    values = _float(values)
    if weights is not None:
        _, _, weights = _remove_squeezable_dimensions(values, None, weights)
        values = math_ops.multiply(values, _broadcast_weights(weights, values))
    value_tensor = array_ops.identity(count)
    update_op = state_ops.assign_add(count, reduction_ops.reduce_sum(values))
    return _collect(metrics_collections, updates_collections, value_tensor, update_op)


def _bool_pair(labels, predictions, weights):
    predictions, labels, weights = _remove_squeezable_dimensions(
        math_ops.cast(_ops.convert_to_tensor(predictions), _dtypes.bool),
        math_ops.cast(_ops.convert_to_tensor(labels), _dtypes.bool), weights)
    _check_compatible(predictions, labels)
    return predictions, labels, weights


def _condition_metric(default_name, label_value, prediction_value):
    def metric(labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None):
        with _vs.variable_scope(name, default_name, _scope_values(predictions, labels, weights)):
            predictions, labels, weights = _bool_pair(labels, predictions, weights)
            is_label = labels if label_value else gen_ops.logical_not(labels)
            is_pred = predictions if prediction_value else gen_ops.logical_not(predictions)
            return _count_condition(math_ops.logical_and(is_label, is_pred), weights, metrics_collections,
                                    updates_collections)
    metric.__name__ = default_name
    metric.__doc__ = "The (weighted) number of %s: labels %s and predictions %s, cast to bool." % (
        default_name.replace("_", " "), label_value, prediction_value)
    return metric


true_positives = _condition_metric("true_positives", True, True)
false_positives = _condition_metric("false_positives", False, True)
true_negatives = _condition_metric("true_negatives", False, False)
false_negatives = _condition_metric("false_negatives", True, False)


def _tp_ratio(labels, predictions, weights, metrics_collections, updates_collections, name, default_name,
              other):
    """tp / (tp + other), 0 while the denominator is 0: precision (other = false_positives) and recall
    (false_negatives), with their counts' variables in the metric's scope as TF names them."""
    with _vs.variable_scope(name, default_name, _scope_values(predictions, labels, weights)):
        predictions, labels, weights = _bool_pair(labels, predictions, weights)
        tp, tp_update = true_positives(labels, predictions, weights)
        o, o_update = other(labels, predictions, weights)

        def compute(t, f, name):
            return math_ops.where(math_ops.greater(t + f, 0), math_ops.divide(t, t + f), 0 * t, name=name)
        return _collect(metrics_collections, updates_collections, compute(tp, o, "value"),
                        compute(tp_update, o_update, "update_op"))


def precision(labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """tp / (tp + fp), 0 while nothing was predicted positive; state in "precision/true_positives/count"..."""
    return _tp_ratio(labels, predictions, weights, metrics_collections, updates_collections, name, "precision",
                     false_positives)


def recall(labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """tp / (tp + fn), 0 while no label was positive."""
    return _tp_ratio(labels, predictions, weights, metrics_collections, updates_collections, name, "recall",
                     false_negatives)


def _confusion_matrix_at_thresholds(labels, predictions, thresholds, weights=None, includes=None):
    """Per-threshold counts "tp", "fn", "tn", "fp" (a prediction is positive when > threshold) as
    ({key: variable}, {key: update_op}), variables named true_positives... in the current scope."""
    includes = includes or ("tp", "fn", "tn", "fp")
    for k in includes:
        if k not in ("tp", "fn", "tn", "fp"):
            raise ValueError("Invalid key: %s." % k)
    predictions, labels, weights = _remove_squeezable_dimensions(
        _float(_ops.convert_to_tensor(predictions)), math_ops.cast(_ops.convert_to_tensor(labels), _dtypes.bool),
        weights)
    _check_compatible(predictions, labels)
    num_thresholds = len(thresholds)
    predictions_2d = array_ops.reshape(predictions, [-1, 1])
    labels_2d = array_ops.reshape(labels, [1, -1])
    thresh = array_ops.reshape(_ops.convert_to_tensor([float(t) for t in thresholds], _dtypes.float32),
                               [num_thresholds, 1])
    # [num_thresholds, n] by broadcasting instead of TF's two tiles: the same comparisons.
    pred_is_pos = math_ops.greater(array_ops.transpose(predictions_2d), thresh)
    label_is_pos = math_ops.logical_and(labels_2d, math_ops.greater(thresh, -1e30))
    pred_is_neg = gen_ops.logical_not(pred_is_pos)
    label_is_neg = gen_ops.logical_not(label_is_pos)
    weights_row = None
    if weights is not None:
        weights_row = array_ops.reshape(_broadcast_weights(weights, predictions), [1, -1])
    names = {"tp": "true_positives", "fn": "false_negatives", "tn": "true_negatives", "fp": "false_positives"}
    conds = {"tp": (label_is_pos, pred_is_pos), "fn": (label_is_pos, pred_is_neg),
             "tn": (label_is_neg, pred_is_neg), "fp": (label_is_neg, pred_is_pos)}
    values, update_ops = {}, {}
    for k in ("tp", "fn", "tn", "fp"):
        if k not in includes:
            continue
        var = _metric_variable([num_thresholds], _dtypes.float32, name=names[k])
        hit = _float(math_ops.logical_and(*conds[k]))
        if weights_row is not None:
            hit = math_ops.multiply(hit, weights_row)
        values[k] = var
        update_ops[k] = state_ops.assign_add(var, reduction_ops.reduce_sum(hit, 1))
    return values, update_ops


def _auc_thresholds(num_thresholds):
    kepsilon = 1e-7  # so that predictions of exactly 0 and 1 fall inside the end thresholds
    return [0.0 - kepsilon] + [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)] + \
        [1.0 + kepsilon]


def _interpolate_pr_auc(tp, fp, fn, num_thresholds):
    """PR AUC integrated with precision interpolated between thresholds (Davis & Goadrich 2006), as TF's
    'careful_interpolation'."""
    dtp = tp[:num_thresholds - 1] - tp[1:]
    p = tp + fp
    prec_slope = math_ops.div_no_nan(dtp, math_ops.maximum(p[:num_thresholds - 1] - p[1:], 0), name="prec_slope")
    intercept = tp[1:] - math_ops.multiply(prec_slope, p[1:])
    safe_p_ratio = math_ops.where(
        math_ops.logical_and(math_ops.greater(p[:num_thresholds - 1], 0), math_ops.greater(p[1:], 0)),
        math_ops.div_no_nan(p[:num_thresholds - 1], math_ops.maximum(p[1:], 0), name="recall_relative_ratio"),
        array_ops.ones_like(p[1:]))
    return reduction_ops.reduce_sum(
        math_ops.div_no_nan(prec_slope * (dtp + intercept * gen_ops.log(safe_p_ratio)),
                            math_ops.maximum(tp[1:] + fn[1:], 0), name="pr_auc_increment"),
        name="interpolate_pr_auc")


def auc(labels, predictions, weights=None, num_thresholds=200, metrics_collections=None, updates_collections=None,
        curve="ROC", name=None, summation_method="trapezoidal", thresholds=None):
    """Area under the ROC or PR curve from per-threshold confusion counts (predictions in [0, 1]).
    summation_method: 'trapezoidal' (TF's default), 'careful_interpolation' (PR: interpolated precision;
    ROC: trapezoidal), 'minoring' or 'majoring' (Riemann sums of the lower/upper value)."""
    if curve not in ("ROC", "PR"):
        raise ValueError("curve must be either ROC or PR, %s unknown" % curve)
    if summation_method not in ("trapezoidal", "careful_interpolation", "minoring", "majoring"):
        raise ValueError("Invalid summation_method: %s" % summation_method)
    with _vs.variable_scope(name, "auc", _scope_values(labels, predictions, weights)):
        if thresholds is not None:
            thresholds = sorted(thresholds)
            num_thresholds = len(thresholds) + 2
            thresholds = [0.0 - 1e-7] + list(thresholds) + [1.0 + 1e-7]
        else:
            if num_thresholds < 2:
                raise ValueError("num_thresholds must be > 1.")
            thresholds = _auc_thresholds(num_thresholds)
        values, update_ops = _confusion_matrix_at_thresholds(labels, predictions, thresholds, weights)
        epsilon = 1.0e-6

        def interpolate(x, y, name):
            if summation_method in ("trapezoidal", "careful_interpolation"):
                return reduction_ops.reduce_sum(math_ops.multiply(
                    x[:num_thresholds - 1] - x[1:], (y[:num_thresholds - 1] + y[1:]) / 2.), name=name)
            pick = math_ops.minimum if summation_method == "minoring" else math_ops.maximum
            return reduction_ops.reduce_sum(math_ops.multiply(x[:num_thresholds - 1] - x[1:],
                                                              pick(y[:num_thresholds - 1], y[1:])), name=name)

        def compute(tp, fn, tn, fp, name):
            if curve == "PR" and summation_method == "careful_interpolation":
                return array_ops.identity(_interpolate_pr_auc(tp, fp, fn, num_thresholds), name=name)
            rec = math_ops.divide(tp + epsilon, tp + fn + epsilon)
            if curve == "ROC":
                fp_rate = math_ops.divide(fp, fp + tn + epsilon)
                return interpolate(fp_rate, rec, name)
            prec = math_ops.divide(tp + epsilon, tp + fp + epsilon)
            return interpolate(rec, prec, name)

        keys = ("tp", "fn", "tn", "fp")
        auc_value = compute(*[values[k] for k in keys], name="value")
        update_op = compute(*[update_ops[k] for k in keys], name="update_op")
        return _collect(metrics_collections, updates_collections, auc_value, update_op)


def _at_thresholds(default_name, key):
    def metric(labels, predictions, thresholds, weights=None, metrics_collections=None, updates_collections=None,
               name=None):
        with _vs.variable_scope(name, default_name, _scope_values(predictions, labels, weights)):
            values, update_ops = _confusion_matrix_at_thresholds(labels, predictions, thresholds, weights,
                                                                 includes=(key,))
            return _collect(metrics_collections, updates_collections, values[key], update_ops[key])
    metric.__name__ = default_name
    metric.__doc__ = "Per-threshold %s (a prediction counts as positive when > threshold)." % default_name
    return metric


true_positives_at_thresholds = _at_thresholds("true_positives", "tp")
false_positives_at_thresholds = _at_thresholds("false_positives", "fp")
true_negatives_at_thresholds = _at_thresholds("true_negatives", "tn")
false_negatives_at_thresholds = _at_thresholds("false_negatives", "fn")


def _ratio_at_thresholds(labels, predictions, thresholds, weights, metrics_collections, updates_collections,
                         name, kind, other):
    """tp / (epsilon + tp + other) per threshold: precision (other = "fp") and recall ("fn")."""
    with _vs.variable_scope(name, kind + "_at_thresholds", _scope_values(predictions, labels, weights)):
        values, update_ops = _confusion_matrix_at_thresholds(labels, predictions, thresholds, weights,
                                                             includes=("tp", other))
        epsilon = 1e-7

        def compute(tp, o, name):
            return math_ops.divide(tp, epsilon + tp + o, name=kind + "_" + name)
        return _collect(metrics_collections, updates_collections, compute(values["tp"], values[other], "value"),
                        compute(update_ops["tp"], update_ops[other], "update_op"))


def precision_at_thresholds(labels, predictions, thresholds, weights=None, metrics_collections=None,
                            updates_collections=None, name=None):
    """tp / (tp + fp) for each threshold (a prediction is positive when > threshold)."""
    return _ratio_at_thresholds(labels, predictions, thresholds, weights, metrics_collections,
                                updates_collections, name, "precision", "fp")


def recall_at_thresholds(labels, predictions, thresholds, weights=None, metrics_collections=None,
                         updates_collections=None, name=None):
    """tp / (tp + fn) for each threshold (a prediction is positive when > threshold)."""
    return _ratio_at_thresholds(labels, predictions, thresholds, weights, metrics_collections,
                                updates_collections, name, "recall", "fn")


def _flat_int64(t):
    t = math_ops.cast(_ops.convert_to_tensor(t), _dtypes.int64)
    return array_ops.reshape(t, [-1]) if _rank(t) != 1 else t


def mean_per_class_accuracy(labels, predictions, num_classes, weights=None, metrics_collections=None,
                            updates_collections=None, name=None):
    """The mean over classes of each class's accuracy (classes never seen count as 0). The update op returns
    the per-class accuracies, as TF's does."""
    with _vs.variable_scope(name, "mean_accuracy", _scope_values(predictions, labels, weights)):
        labels = _flat_int64(labels)
        predictions = _flat_int64(predictions)
        total = _metric_variable([num_classes], _dtypes.float32, name="total")
        count = _metric_variable([num_classes], _dtypes.float32, name="count")
        ones = array_ops.ones_like(labels, dtype=_dtypes.float32)
        is_correct = _float(math_ops.equal(predictions, labels))
        if weights is not None:
            weights = _float(_ops.convert_to_tensor(weights))
            if _rank(weights) is None or _rank(weights) > 1:
                weights = array_ops.reshape(weights, [-1])
            is_correct = math_ops.multiply(is_correct, weights)
            ones = math_ops.multiply(ones, weights)
        update_total_op = state_ops.scatter_add(total, labels, ones)
        update_count_op = state_ops.scatter_add(count, labels, is_correct)
        per_class = math_ops.div_no_nan(count, total)
        mean_accuracy_v = reduction_ops.reduce_mean(per_class, name="mean_accuracy")
        update_op = math_ops.div_no_nan(update_count_op, update_total_op, name="update_op")
        return _collect(metrics_collections, updates_collections, mean_accuracy_v, update_op)


def mean_iou(labels, predictions, num_classes, weights=None, metrics_collections=None, updates_collections=None,
             name=None):
    """Mean intersection-over-union over the classes that occur, from a running float64 confusion matrix
    ("mean_iou/total_confusion_matrix", rows labels, columns predictions); the update op returns it."""
    with _vs.variable_scope(name, "mean_iou", _scope_values(predictions, labels, weights)):
        labels = _flat_int64(labels)
        predictions = _flat_int64(predictions)
        total_cm = _metric_variable([num_classes, num_classes], _dtypes.float64, name="total_confusion_matrix")
        w = array_ops.ones_like(labels, dtype=_dtypes.float64)
        if weights is not None:
            w = math_ops.multiply(w, array_ops.reshape(math_ops.cast(weights, _dtypes.float64), [-1]))
        update_op = state_ops.scatter_nd_add(total_cm, array_ops.stack([labels, predictions], axis=1), w)
        cm = total_cm
        sum_over_row = _float(reduction_ops.reduce_sum(cm, 0))
        sum_over_col = _float(reduction_ops.reduce_sum(cm, 1))
        cm_diag = _float(linalg_ops.matrix_diag_part(cm))
        denominator = sum_over_row + sum_over_col - cm_diag
        num_valid = reduction_ops.reduce_sum(_float(math_ops.not_equal(denominator, 0)), name="num_valid_entries")
        denominator = math_ops.where(math_ops.greater(denominator, 0), denominator,
                                      array_ops.ones_like(denominator))
        iou = math_ops.divide(cm_diag, denominator)
        mean_iou_v = math_ops.where(math_ops.greater(num_valid, 0),
                                     math_ops.divide(reduction_ops.reduce_sum(iou, name="mean_iou"), num_valid),
                                     0 * num_valid)
        return _collect(metrics_collections, updates_collections, mean_iou_v, update_op)


def _graph_only(fn):
    """TF 1.x's tf.metrics need a graph (their state is local variables run by update ops)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _ops.executing_eagerly():
            raise RuntimeError("tf.metrics.%s is not supported when eager execution is enabled." % fn.__name__)
        return fn(*args, **kwargs)
    return wrapper


for _name in __all__:
    globals()[_name] = _graph_only(globals()[_name])
del _name
