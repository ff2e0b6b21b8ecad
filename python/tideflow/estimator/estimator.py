"""tf.estimator.Estimator: trains, evaluates and predicts with a model_fn, keeping its state in checkpoints.

Note [estimator graphs]: as in TF 1.x, every train/evaluate/predict call builds a fresh Graph (global step,
input_fn, model_fn in that mode) and a MonitoredSession over it; the only state carried between calls is
the latest checkpoint in model_dir. train() restores it and continues (StopAtStepHook counts `steps` from
the restored global step, or stops at `max_steps`), evaluate() and predict() restore it read-only. Metric
variables are local variables, so each evaluation starts from zero through the scaffold's local init op."""
import inspect
import logging
import os
import tempfile
import time

import numpy as np

from .. import summary as _summary
from ..framework import errors
from ..framework import ops as _ops
from ..framework import random_seed as _random_seed
from ..ops import state_ops
from ..train import basic_session_run_hooks as _hooks
from ..train import checkpoint_management as _cm
from ..train import monitored_session as _ms
from ..train import saver as _saver
from ..train import training_util
from .model_fn import EstimatorSpec, ModeKeys
from .run_config import RunConfig

__all__ = ["Estimator"]

_log = logging.getLogger("tideflow")
_LOSS_METRIC_KEY = "loss"


def _fn_args(fn):
    if isinstance(fn, type) or not callable(fn):
        raise ValueError("model_fn/input_fn must be a function, given: %s" % (fn,))
    target = fn.func if hasattr(fn, "func") and hasattr(fn, "keywords") else fn  # functools.partial
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return ()
    args = tuple(params)
    if hasattr(fn, "keywords") and fn.keywords:
        args = tuple(a for a in args if a not in fn.keywords)
    return args


def _is_dataset(x):
    from ..data import dataset_ops  # lazy: tf.data loads with the first input function that uses it
    return isinstance(x, dataset_ops.DatasetV2)


class Estimator:
    """Wraps a model_fn(features, labels, mode[, params][, config]) returning an EstimatorSpec.

    model_dir holds its checkpoints and summaries; without one (here or in config) a temporary folder is
    used, as TF does. params is handed to model_fn unchanged."""

    def __init__(self, model_fn, model_dir=None, config=None, params=None, warm_start_from=None):
        if config is None:
            config = RunConfig()
            _log.info("Using default config.")
        elif not isinstance(config, RunConfig):
            raise ValueError("config must be an instance of `RunConfig`, but provided %s." % (config,))
        if model_dir is not None and config.model_dir is not None and \
                os.path.abspath(model_dir) != os.path.abspath(config.model_dir):
            raise ValueError("`model_dir` are set both in constructor and `RunConfig`, but with different values. "
                             "In constructor: '{}', in `RunConfig`: '{}' ".format(model_dir, config.model_dir))
        model_dir = model_dir or config.model_dir
        if model_dir is None:
            model_dir = tempfile.mkdtemp()
            _log.warning("Using temporary folder as model directory: %s", model_dir)
        model_dir = os.fspath(model_dir)
        self._config = config.replace(model_dir=model_dir)
        _log.info("Using config: %s", self._config)
        self._model_dir = model_dir
        args = _fn_args(model_fn)
        if "features" not in args:
            raise ValueError("model_fn (%s) must include features argument." % (model_fn,))
        if params is not None and "params" not in args:
            raise ValueError("model_fn (%s) does not include params argument, but params (%s) is passed to "
                             "Estimator." % (model_fn, params))
        self._model_fn = model_fn
        self._model_fn_args = args
        self._params = dict(params or {})
        if warm_start_from is not None:
            raise NotImplementedError("Estimator(warm_start_from=...) is not supported by tideflow yet; "
                                      "use tf.train.init_from_checkpoint inside model_fn.")

    model_dir = property(lambda self: self._model_dir)
    config = property(lambda self: self._config)
    params = property(lambda self: dict(self._params))
    model_fn = property(lambda self: self._call_model_fn_plain)

    def _call_model_fn_plain(self, features, labels, mode, config=None):
        return self._call_model_fn(features, labels, mode, config or self._config)

    # ---- checkpoints ---------------------------------------------------------------------------------
    def latest_checkpoint(self):
        return _cm.latest_checkpoint(self._model_dir)

    def get_variable_names(self):
        return [name for name, _ in _cm.list_variables(self._latest_or_fail())]

    def get_variable_value(self, name):
        return _cm.load_variable(self._latest_or_fail(), name)

    def _latest_or_fail(self):
        path = self.latest_checkpoint()
        if path is None:
            raise ValueError("Could not find trained model in model_dir: {}.".format(self._model_dir))
        return path

    # ---- graph building ------------------------------------------------------------------------------
    def _call_input_fn(self, input_fn, mode):
        args = _fn_args(input_fn)
        kwargs = {}
        if "mode" in args:
            kwargs["mode"] = mode
        if "params" in args:
            kwargs["params"] = self._params
        if "config" in args:
            kwargs["config"] = self._config
        result = input_fn(**kwargs)
        if _is_dataset(result):
            result = result.make_one_shot_iterator().get_next()
        if isinstance(result, (list, tuple)):
            if len(result) == 2:
                return result[0], result[1]
            if len(result) == 1:
                return result[0], None
            raise ValueError("input_fn should return (features, labels) as a len 2 tuple, got %d items"
                             % len(result))
        return result, None

    def _call_model_fn(self, features, labels, mode, config):
        kwargs = {}
        if "labels" in self._model_fn_args:
            kwargs["labels"] = labels
        elif labels is not None:
            raise ValueError("model_fn does not take labels, but input_fn returns labels.")
        if "mode" in self._model_fn_args:
            kwargs["mode"] = mode
        if "params" in self._model_fn_args:
            kwargs["params"] = self._params
        if "config" in self._model_fn_args:
            kwargs["config"] = config
        _log.info("Calling model_fn.")
        spec = self._model_fn(features=features, **kwargs)
        _log.info("Done calling model_fn.")
        if not isinstance(spec, EstimatorSpec):
            raise ValueError("model_fn should return an EstimatorSpec, given: %s" % (spec,))
        return spec

    def _new_graph(self):
        g = _ops.Graph()
        with g.as_default():
            if self._config.tf_random_seed is not None:
                _random_seed.set_random_seed(self._config.tf_random_seed)
        return g

    def _scaffold(self, spec):
        """The model_fn's scaffold, with a Saver keeping keep_checkpoint_max checkpoints unless one exists."""
        scaffold = spec.scaffold or _ms.Scaffold()
        if scaffold.saver is None and not _ops.get_collection(_ops.GraphKeys.SAVERS):
            saver = _saver.Saver(sharded=True, max_to_keep=self._config.keep_checkpoint_max,
                                 keep_checkpoint_every_n_hours=self._config.keep_checkpoint_every_n_hours,
                                 defer_build=True, save_relative_paths=True)
            _ops.add_to_collection(_ops.GraphKeys.SAVERS, saver)
        return scaffold

    # ---- train ---------------------------------------------------------------------------------------
    def train(self, input_fn, hooks=None, steps=None, max_steps=None, saving_listeners=None):
        """Trains from the latest checkpoint (or from initialization) until input_fn runs out, `steps` more
        steps are done, or the global step reaches `max_steps`. Returns self."""
        if steps is not None and max_steps is not None:
            raise ValueError("Can not provide both steps and max_steps.")
        if steps is not None and steps <= 0:
            raise ValueError("Must specify steps > 0, given: {}".format(steps))
        if max_steps is not None and max_steps <= 0:
            raise ValueError("Must specify max_steps > 0, given: {}".format(max_steps))
        if max_steps is not None:
            latest = self.latest_checkpoint()
            if latest is not None:
                try:
                    start = int(_cm.load_variable(latest, _ops.GraphKeys.GLOBAL_STEP))
                except (ValueError, KeyError, errors.NotFoundError):
                    start = 0
                if max_steps <= start:
                    _log.info("Skipping training since max_steps has already saved.")
                    return self
        hooks = list(hooks or [])
        if steps is not None or max_steps is not None:
            hooks.append(_hooks.StopAtStepHook(steps, max_steps))
        loss = self._train_model(input_fn, hooks, list(saving_listeners or []))
        _log.info("Loss for final step: %s.", loss)
        return self

    def _train_model(self, input_fn, hooks, saving_listeners):
        g = self._new_graph()
        with g.as_default():
            global_step = training_util.get_or_create_global_step(g)
            step_read = _hooks._get_or_create_global_step_read(g)
            features, labels = self._call_input_fn(input_fn, ModeKeys.TRAIN)
            spec = self._call_model_fn(features, labels, ModeKeys.TRAIN, self._config)
            _read_step_before_increment(g, global_step, step_read)
            if not any(s.op.name == "loss" for s in _ops.get_collection(_ops.GraphKeys.SUMMARIES)
                       if hasattr(s, "op")):
                _summary.scalar("loss", spec.loss)
            worker_hooks = list(hooks) + list(spec.training_hooks) + [_hooks.NanTensorHook(spec.loss)]
            if self._config.log_step_count_steps:
                worker_hooks.append(_hooks.LoggingTensorHook({"loss": spec.loss, "step": step_read},
                                                             every_n_iter=self._config.log_step_count_steps))
            scaffold = self._scaffold(spec)
            chief_hooks = list(spec.training_chief_hooks)
            cfg = self._config
            if cfg.save_checkpoints_secs or cfg.save_checkpoints_steps or saving_listeners:
                chief_hooks.append(_hooks.CheckpointSaverHook(
                    self._model_dir, save_secs=cfg.save_checkpoints_secs,
                    save_steps=cfg.save_checkpoints_steps if (cfg.save_checkpoints_steps or
                                                              cfg.save_checkpoints_secs) else 10 ** 9,
                    scaffold=scaffold, listeners=saving_listeners))
            loss = None
            any_step_done = False
            with _ms.MonitoredTrainingSession(
                    checkpoint_dir=self._model_dir, scaffold=scaffold, hooks=worker_hooks, chief_only_hooks=chief_hooks,
                    save_checkpoint_secs=0, save_summaries_steps=cfg.save_summary_steps or None,
                    config=cfg.session_config, log_step_count_steps=cfg.log_step_count_steps) as mon_sess:
                while not mon_sess.should_stop():
                    _, loss = mon_sess.run([spec.train_op, spec.loss])
                    any_step_done = True
            if not any_step_done:
                _log.warning("Training with estimator made no steps. Perhaps input is empty or misspecified.")
            return loss

    # ---- evaluate ------------------------------------------------------------------------------------
    def evaluate(self, input_fn, steps=None, hooks=None, checkpoint_path=None, name=None):
        """Runs the metrics of model_fn's EVAL spec over input_fn (until it runs out, or `steps` batches)
        with the latest checkpoint; returns {metric: value, 'loss': mean loss, 'global_step': step} and
        writes them as summaries to model_dir/eval[_name]."""
        if steps is not None and steps <= 0:
            raise ValueError("Must specify steps > 0, given: {}".format(steps))
        if checkpoint_path is None:
            checkpoint_path = self.latest_checkpoint()
            if checkpoint_path is None:
                _log.info("Could not find trained model in model_dir: %s, running initialization to evaluate.",
                          self._model_dir)
        from .. import metrics as _metrics  # lazy: tf.metrics loads with the first evaluation
        g = self._new_graph()
        with g.as_default():
            global_step = training_util.get_or_create_global_step(g)
            features, labels = self._call_input_fn(input_fn, ModeKeys.EVAL)
            spec = self._call_model_fn(features, labels, ModeKeys.EVAL, self._config)
            if _LOSS_METRIC_KEY in spec.eval_metric_ops:
                raise ValueError("Metric with name \"%s\" is not allowed, because Estimator already defines a "
                                 "default metric with the same name." % _LOSS_METRIC_KEY)
            metric_ops = dict(spec.eval_metric_ops)
            metric_ops[_LOSS_METRIC_KEY] = _metrics.mean(spec.loss)
            update_op = state_ops.group(*[v[1] for v in metric_ops.values()])
            final_ops = {k: v[0] for k, v in metric_ops.items()}
            final_ops["global_step"] = global_step
            all_hooks = list(hooks or []) + list(spec.evaluation_hooks)
            if steps is not None:
                all_hooks.append(_StopAfterNEvalsHook(steps))
            final_hook = _hooks.FinalOpsHook(final_ops)
            all_hooks.append(final_hook)
            scaffold = self._scaffold(spec)
            _log.info("Starting evaluation at %s", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            creator = _ms.ChiefSessionCreator(scaffold=scaffold, checkpoint_filename_with_path=checkpoint_path,
                                              config=self._config.session_config)
            with _ms.MonitoredSession(session_creator=creator, hooks=all_hooks) as sess:
                while not sess.should_stop():
                    sess.run(update_op)
            _log.info("Finished evaluation at %s", time.strftime("%Y-%m-%d-%H:%M:%S", time.gmtime()))
            results = final_hook.final_ops_values
            results = {k: (v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v) for k, v in results.items()}
            step = int(results["global_step"])
            _log.info("Saving dict for global step %d: %s", step,
                      ", ".join("%s = %s" % (k, results[k]) for k in sorted(results)))
            self._write_eval_summary(name, results, step)
            return results

    def eval_dir(self, name=None):
        return os.path.join(self._model_dir, "eval" if not name else "eval_" + name)

    def _write_eval_summary(self, name, results, step):
        values = []
        for k, v in sorted(results.items()):
            if k == "global_step":
                continue
            arr = np.asarray(v)
            if arr.ndim == 0 and np.issubdtype(arr.dtype, np.number):
                values.append(_summary.Summary.Value(tag=k, simple_value=float(arr)))
        writer = _summary.FileWriterCache.get(self.eval_dir(name))
        writer.add_summary(_summary.Summary(value=values), step)
        writer.flush()

    # ---- predict -------------------------------------------------------------------------------------
    def predict(self, input_fn, predict_keys=None, hooks=None, checkpoint_path=None, yield_single_examples=True):
        """Yields model_fn's PREDICT predictions for input_fn's features (labels, if any, are ignored): one
        example at a time (a dict per example for dict predictions), or whole batches when
        yield_single_examples is False. Runs until input_fn runs out."""
        if checkpoint_path is None:
            checkpoint_path = self.latest_checkpoint()
            if checkpoint_path is None:
                _log.info("Could not find trained model in model_dir: %s, running initialization to predict.",
                          self._model_dir)
        g = self._new_graph()
        with g.as_default():
            training_util.get_or_create_global_step(g)
            features, _ = self._call_input_fn(input_fn, ModeKeys.PREDICT)
            spec = self._call_model_fn(features, None, ModeKeys.PREDICT, self._config)
            predictions = self._extract_keys(spec.predictions, predict_keys)
            scaffold = self._scaffold(spec)
            creator = _ms.ChiefSessionCreator(scaffold=scaffold, checkpoint_filename_with_path=checkpoint_path,
                                              config=self._config.session_config)
            all_hooks = list(hooks or []) + list(spec.prediction_hooks)
            with _ms.MonitoredSession(session_creator=creator, hooks=all_hooks) as sess:
                while not sess.should_stop():
                    values = sess.run(predictions)
                    if not yield_single_examples:
                        yield values
                    elif not isinstance(values, dict):
                        for v in values:
                            yield v
                    else:
                        for i in range(self._batch_length(values)):
                            yield {k: v[i] for k, v in values.items()}

    @staticmethod
    def _extract_keys(predictions, predict_keys):
        if not predict_keys:
            return predictions
        if not isinstance(predictions, dict):
            raise ValueError("predict_keys argument is not valid in case of non-dict predictions.")
        if isinstance(predict_keys, str):
            predict_keys = [predict_keys]
        existing = predictions
        predictions = {k: v for k, v in existing.items() if k in predict_keys}
        if not predictions:
            raise ValueError("Expected to run at least one output from %s, provided %s." % (
                list(existing), predict_keys))
        return predictions

    @staticmethod
    def _batch_length(values):
        length = None
        for k, v in values.items():
            v = np.asarray(v)
            if v.ndim == 0:
                raise ValueError("Prediction %s has no batch dimension; use yield_single_examples=False." % k)
            if length is None:
                length = v.shape[0]
            elif length != v.shape[0]:
                raise ValueError("Batch length of predictions should be same. %s has different batch length than "
                                 "others." % k)
        return length or 0


# Note [global step read before its increment]
# The hooks (StopAtStepHook, StepCounterHook, the loss log) fetch `global_step + 0` in the same run as the
# train op and take it as the step *before* that run. TF's executor happens to run the dependency-free read
# first; tideflow's may run it after the optimizer's AssignAdd, so each op that changes the global step
# (other than its initializer) gets the read as a control input, making the order certain.
def _read_step_before_increment(graph, global_step, step_read):
    """Orders the global step's read before its updates (Note [global step read before its increment])."""
    if step_read is None:
        return
    var_name = getattr(global_step, "_variable", global_step).name
    init = getattr(global_step, "initializer", None)
    for op in graph.get_operations():
        if op.type in ("AssignAdd", "AssignSub", "Assign", "CountUpTo") and op is not init and \
                op.inputs and op.inputs[0].name == var_name:
            op._add_control_input(step_read.op)


class _StopAfterNEvalsHook(_hooks.SessionRunHook):
    """Stops an evaluation after `num_evals` runs of the update op, logging progress as TF does."""

    def __init__(self, num_evals, log_progress=True):
        self._num_evals = num_evals
        self._evals_completed = 0
        self._log_progress = log_progress
        self._log_frequency = 1 if num_evals < 20 else int(num_evals // 10)

    def after_run(self, run_context, run_values):
        self._evals_completed += 1
        if self._log_progress and (self._evals_completed % self._log_frequency == 0 or
                                   self._evals_completed == self._num_evals):
            _log.info("Evaluation [%d/%d]", self._evals_completed, self._num_evals)
        if self._evals_completed >= self._num_evals:
            run_context.request_stop()
