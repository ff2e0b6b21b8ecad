"""ModeKeys and EstimatorSpec: what a model function is built for, and what it hands back to the Estimator."""
import collections

from ..framework import ops as _ops


class ModeKeys:
    """The mode a model function is built for, as tf.estimator.ModeKeys spells it."""
    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"


def _as_tensor_or_op(x, what):
    if isinstance(x, (_ops.Tensor, _ops.Operation)):
        return x
    if hasattr(x, "_as_graph_element"):  # a Variable
        return x._as_graph_element() if callable(x._as_graph_element) else x
    raise TypeError("%s must be Tensor or Operation, given: %s" % (what, x))


class EstimatorSpec(collections.namedtuple("EstimatorSpec", [
        "mode", "predictions", "loss", "train_op", "eval_metric_ops", "export_outputs", "training_chief_hooks",
        "training_hooks", "scaffold", "evaluation_hooks", "prediction_hooks"])):
    """The ops and objects a model_fn returns. TRAIN needs loss and train_op, EVAL needs loss, PREDICT
    needs predictions (a Tensor or a dict of Tensors); eval_metric_ops maps names to (value, update_op)
    pairs such as tf.metrics return. export_outputs is accepted and kept (tideflow has no SavedModel export)."""

    def __new__(cls, mode, predictions=None, loss=None, train_op=None, eval_metric_ops=None, export_outputs=None,
                training_chief_hooks=None, training_hooks=None, scaffold=None, evaluation_hooks=None,
                prediction_hooks=None):
        if mode not in (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT):
            raise ValueError("mode=%s unrecognized." % (mode,))
        if loss is None:
            if mode in (ModeKeys.TRAIN, ModeKeys.EVAL):
                raise ValueError("Missing loss.")
        else:
            loss = _ops.convert_to_tensor(loss) if not isinstance(loss, _ops.Tensor) else loss
            shape = loss.shape
            if shape.ndims is not None and shape.ndims > 0:
                if shape.as_list() == [1]:
                    from ..ops import array_ops  # lazy: keeps ops/ out of this module's import
                    loss = array_ops.reshape(loss, [])
                else:
                    raise ValueError("Loss must be scalar, given: %s" % (loss,))
        if train_op is None:
            if mode == ModeKeys.TRAIN:
                raise ValueError("Missing train_op.")
        else:
            train_op = _as_tensor_or_op(train_op, "train_op")
        if predictions is None:
            if mode == ModeKeys.PREDICT:
                raise ValueError("Missing predictions.")
            predictions = {}
        elif isinstance(predictions, dict):
            for k, v in predictions.items():
                if not isinstance(v, _ops.Tensor):
                    raise TypeError("predictions[%s] must be Tensor, given: %s" % (k, v))
        elif not isinstance(predictions, _ops.Tensor):
            raise TypeError("predictions must be Tensor or dict of Tensor, given: %s" % (predictions,))
        eval_metric_ops = dict(eval_metric_ops or {})
        for k, v in eval_metric_ops.items():
            if not (isinstance(v, tuple) and len(v) == 2):
                raise TypeError("Values of eval_metric_ops must be (metric_value, update_op) tuples, given: %s "
                                "for key: %s" % (v, k))
        hooks = [tuple(h or ()) for h in (training_chief_hooks, training_hooks, evaluation_hooks, prediction_hooks)]
        for group in hooks:
            for h in group:
                if not hasattr(h, "before_run"):
                    raise TypeError("All hooks must be SessionRunHook instances, given: %s" % (h,))
        return super().__new__(cls, mode, predictions, loss, train_op, eval_metric_ops, export_outputs,
                               hooks[0], hooks[1], scaffold, hooks[2], hooks[3])

    def _replace(self, **kwds):
        return EstimatorSpec(**dict(self._asdict(), **kwds))
