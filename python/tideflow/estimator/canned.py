"""Premade Estimators (TF 1.x canned estimators), basic paths over numeric feature columns: LinearRegressor,
LinearClassifier, DNNRegressor, DNNClassifier. Variable names, default optimizers (Ftrl at
min(0.2, 1/sqrt(#columns)) for linear models, Adagrad at 0.05 for DNNs), summed training losses
(TF 1.x's Reduction.SUM), prediction keys and evaluation metrics follow TF's heads; string 'classes'
predictions are left out (tideflow has no string formatting op yet)."""
import math

from .. import losses as _losses
from .. import metrics as _metrics
from ..feature_column import _check_columns, input_layer
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..layers import core as _layers_core
from ..ops import array_ops, linalg_ops, math_ops, nn_ops, reduction_ops
from ..ops import variable_scope as _vs
from ..train import adagrad as _adagrad
from ..train import ftrl as _ftrl
from ..train import optimizer as _optimizer_lib
from ..train import training_util
from .estimator import Estimator
from .model_fn import EstimatorSpec, ModeKeys

__all__ = ["LinearRegressor", "LinearClassifier", "DNNRegressor", "DNNClassifier"]


def _optimizer(opt, default_fn):
    if opt is None or opt in ("Ftrl", "Adagrad"):
        if opt == "Adagrad" or (opt is None and default_fn is None):
            return _adagrad.AdagradOptimizer(0.05)
        return default_fn() if opt is None else _ftrl.FtrlOptimizer(0.2)
    if isinstance(opt, str):
        raise ValueError("Unsupported optimizer name: %s. Pass an Optimizer instance." % opt)
    if callable(opt) and not isinstance(opt, _optimizer_lib.Optimizer):
        opt = opt()
    if not isinstance(opt, _optimizer_lib.Optimizer):
        raise ValueError("The given object is not an Optimizer instance. Given: {}".format(opt))
    return opt


def _features_dict(features):
    if not isinstance(features, dict):
        return {"": features}
    return features


def _linear_logits(features, columns, units):
    """TF's linear_model: one [n_i, units] 'weights' variable per column, summed, plus 'bias_weights'."""
    with _vs.variable_scope(None, default_name="linear_model"):
        parts = []
        for c in columns:
            with _vs.variable_scope(c._var_scope_name):
                x = c._dense_tensor(features)
                w = _vs.get_variable("weights", [c._num_elements, units], _dtypes.float32,
                                     initializer=lambda shape, dtype=None, partition_info=None:
                                     array_ops.zeros(shape, _dtypes.float32))
                parts.append(linalg_ops.matmul(x, w))
        bias = _vs.get_variable("bias_weights", [units], _dtypes.float32,
                                initializer=lambda shape, dtype=None, partition_info=None:
                                array_ops.zeros(shape, _dtypes.float32))
        total = parts[0] if len(parts) == 1 else math_ops.add_n(parts)
        return nn_ops.bias_add(total, bias, name="weighted_sum")


def _dnn_logits(features, columns, units, hidden_units, activation_fn, dropout, mode):
    net = input_layer(features, columns)
    for i, n in enumerate(hidden_units):
        net = _layers_core.dense(net, n, activation=activation_fn, name="hiddenlayer_%d" % i,
                                 kernel_initializer=None)
        if dropout is not None and mode == ModeKeys.TRAIN:
            net = _layers_core.dropout(net, rate=dropout, training=True)
    return _layers_core.dense(net, units, name="logits")


def _weights(features, weight_column):
    if weight_column is None:
        return None
    key = weight_column if isinstance(weight_column, str) else weight_column.key
    return math_ops.cast(array_ops.reshape(features[key], [-1, 1]), _dtypes.float32)


def _regression_spec(mode, logits, labels, weights, optimizer, label_dimension):
    predictions = {"predictions": logits}
    if mode == ModeKeys.PREDICT:
        return EstimatorSpec(mode, predictions=predictions)
    labels = math_ops.cast(_ops.convert_to_tensor(labels), _dtypes.float32)
    if labels.shape.ndims == 1:
        labels = array_ops.expand_dims(labels, -1)
    unweighted = math_ops.squared_difference(logits, labels)
    w = 1.0 if weights is None else weights
    loss = _losses.compute_weighted_loss(unweighted, w, reduction=_losses.Reduction.SUM)
    metric_w = None if weights is None else weights * array_ops.ones_like(unweighted)
    eval_ops = {"average_loss": _metrics.mean(unweighted, metric_w),
                "label/mean": _metrics.mean(labels, metric_w),
                "prediction/mean": _metrics.mean(logits, metric_w)}
    train_op = None
    if mode == ModeKeys.TRAIN:
        train_op = optimizer.minimize(loss, global_step=training_util.get_global_step())
    return EstimatorSpec(mode, predictions=predictions, loss=loss, train_op=train_op,
                         eval_metric_ops=eval_ops if mode == ModeKeys.EVAL else None)


def _classification_spec(mode, logits, labels, weights, optimizer, n_classes):
    if n_classes == 2:
        logistic = nn_ops.sigmoid(logits)
        two = array_ops.concat([array_ops.zeros_like(logits), logits], 1)
        probabilities = array_ops.concat([1 - logistic, logistic], 1)
        class_ids = array_ops.expand_dims(reduction_ops.argmax(two, 1), -1)
        predictions = {"logits": logits, "logistic": logistic, "probabilities": probabilities,
                       "class_ids": class_ids}
    else:
        probabilities = nn_ops.softmax(logits)
        class_ids = array_ops.expand_dims(reduction_ops.argmax(logits, 1), -1)
        predictions = {"logits": logits, "probabilities": probabilities, "class_ids": class_ids}
    if mode == ModeKeys.PREDICT:
        return EstimatorSpec(mode, predictions=predictions)
    labels = math_ops.cast(_ops.convert_to_tensor(labels), _dtypes.int64)
    if labels.shape.ndims == 1:
        labels = array_ops.expand_dims(labels, -1)
    if n_classes == 2:
        unweighted = nn_ops.sigmoid_cross_entropy_with_logits(labels=math_ops.cast(labels, _dtypes.float32),
                                                              logits=logits)
    else:
        unweighted = array_ops.expand_dims(nn_ops.sparse_softmax_cross_entropy_with_logits(
            labels=array_ops.reshape(labels, [-1]), logits=logits), -1)
    w = 1.0 if weights is None else weights
    loss = _losses.compute_weighted_loss(unweighted, w, reduction=_losses.Reduction.SUM)
    eval_ops = {"accuracy": _metrics.accuracy(labels, class_ids, weights),
                "average_loss": _metrics.mean(unweighted, weights)}
    if n_classes == 2:
        eval_ops.update({
            "prediction/mean": _metrics.mean(logistic, weights),
            "label/mean": _metrics.mean(math_ops.cast(labels, _dtypes.float32), weights),
            "auc": _metrics.auc(labels, logistic, weights),
            "auc_precision_recall": _metrics.auc(labels, logistic, weights, curve="PR",
                                                 summation_method="careful_interpolation"),
            "precision": _metrics.precision(labels, class_ids, weights),
            "recall": _metrics.recall(labels, class_ids, weights)})
    train_op = None
    if mode == ModeKeys.TRAIN:
        train_op = optimizer.minimize(loss, global_step=training_util.get_global_step())
    return EstimatorSpec(mode, predictions=predictions, loss=loss, train_op=train_op,
                         eval_metric_ops=eval_ops if mode == ModeKeys.EVAL else None)


def _check_n_classes(n_classes):
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError("n_classes must be > 1: {}".format(n_classes))


def _head_model_fn(scope, logits_fn, head, weight_column, make_optimizer):
    """A premade estimator's model_fn: logits_fn(features, mode) under `scope`, then `head` (the regression or
    classification spec) with the optimizer made while the model's graph is built."""
    def model_fn(features, labels, mode):
        features = _features_dict(features)
        with _vs.variable_scope(scope):
            logits = logits_fn(features, mode)
        return head(mode, logits, labels, _weights(features, weight_column), make_optimizer())
    return model_fn


def _regression_head(label_dimension):
    return lambda mode, logits, labels, w, opt: _regression_spec(mode, logits, labels, w, opt, label_dimension)


def _classification_head(n_classes, label_vocabulary):
    """(head, units): one logit for two classes (sigmoid), n_classes above (softmax)."""
    _check_n_classes(n_classes)
    if label_vocabulary is not None:
        raise NotImplementedError("label_vocabulary (string labels) is not supported by tideflow yet")
    head = lambda mode, logits, labels, w, opt: _classification_spec(mode, logits, labels, w, opt, n_classes)  # noqa: E731
    return head, 1 if n_classes == 2 else n_classes


def _ftrl_default(columns):
    return lambda: _ftrl.FtrlOptimizer(min(0.2, 1.0 / math.sqrt(len(columns))))


class LinearRegressor(Estimator):
    """label = sum_i x_i W_i + b over the feature columns (variables linear/linear_model/<key>/weights,
    linear/linear_model/bias_weights); summed squared error."""

    def __init__(self, feature_columns, model_dir=None, label_dimension=1, weight_column=None, optimizer="Ftrl",
                 config=None, partitioner=None, warm_start_from=None, loss_reduction=None, sparse_combiner="sum"):
        columns = _check_columns(feature_columns)
        model_fn = _head_model_fn("linear", lambda f, mode: _linear_logits(f, columns, label_dimension),
                                  _regression_head(label_dimension), weight_column,
                                  lambda: _optimizer(optimizer, _ftrl_default(columns)))
        super().__init__(model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from)


class LinearClassifier(Estimator):
    """Logistic (n_classes=2) or softmax regression over the feature columns."""

    def __init__(self, feature_columns, model_dir=None, n_classes=2, weight_column=None, label_vocabulary=None,
                 optimizer="Ftrl", config=None, partitioner=None, warm_start_from=None, loss_reduction=None,
                 sparse_combiner="sum"):
        head, units = _classification_head(n_classes, label_vocabulary)
        columns = _check_columns(feature_columns)
        model_fn = _head_model_fn("linear", lambda f, mode: _linear_logits(f, columns, units), head, weight_column,
                                  lambda: _optimizer(optimizer, _ftrl_default(columns)))
        super().__init__(model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from)


class DNNRegressor(Estimator):
    """A fully connected network (dnn/hiddenlayer_<i>, dnn/logits) regressing labels; summed squared error."""

    def __init__(self, hidden_units, feature_columns, model_dir=None, label_dimension=1, weight_column=None,
                 optimizer="Adagrad", activation_fn=nn_ops.relu, dropout=None, input_layer_partitioner=None,
                 config=None, warm_start_from=None, loss_reduction=None, batch_norm=False):
        columns = _check_columns(feature_columns)
        model_fn = _head_model_fn(
            "dnn", lambda f, mode: _dnn_logits(f, columns, label_dimension, hidden_units, activation_fn, dropout, mode),
            _regression_head(label_dimension), weight_column, lambda: _optimizer(optimizer, None))
        super().__init__(model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from)


class DNNClassifier(Estimator):
    """A fully connected network classifying into n_classes (sigmoid head for 2, softmax above)."""

    def __init__(self, hidden_units, feature_columns, model_dir=None, n_classes=2, weight_column=None,
                 label_vocabulary=None, optimizer="Adagrad", activation_fn=nn_ops.relu, dropout=None,
                 input_layer_partitioner=None, config=None, warm_start_from=None, loss_reduction=None,
                 batch_norm=False):
        head, units = _classification_head(n_classes, label_vocabulary)
        columns = _check_columns(feature_columns)
        model_fn = _head_model_fn(
            "dnn", lambda f, mode: _dnn_logits(f, columns, units, hidden_units, activation_fn, dropout, mode),
            head, weight_column, lambda: _optimizer(optimizer, None))
        super().__init__(model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from)
