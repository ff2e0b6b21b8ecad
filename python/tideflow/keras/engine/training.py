"""keras.Model: the functional model (Model(inputs, outputs)), subclassed models, and training
(compile / fit / evaluate / predict, *_on_batch), weights I/O and summary().

Note [keras compiled step]
fit/evaluate/predict run one Python function per batch, `train_step` (forward under a GradientTape with
training=True, compiled loss plus the layers' losses, optimizer.apply_gradients, metric updates) and its
test/predict siblings. Unless compile(run_eagerly=True), each is wrapped in tf.function
(tideflow.eager.function): traced once per input signature into one graph, then every batch is one call of
its cached Session plan; the model's weights, optimizer slots and metric totals are eager variables that
the plan reads and updates in place (the last, smaller batch traces once more). The metric values it
returns are the running results over the epoch (Keras 2's stateful metrics), which the progress bar shows
as they are."""
import inspect
import json
import os

import numpy as np

from ... import _core
from ...eager import backprop as _backprop
from ...eager import function as _function
from ...framework import dtypes as _dtypes
from ...framework import ops as _ops
from ...framework.tensor_shape import TensorShape
from ...ops import array_ops, gradients_impl, math_ops
from ...util import nest
from .. import callbacks as callbacks_module
from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from ..utils import layer_utils
from . import data_adapter, graph_mode
from .base_layer import Layer, keras_history, to_snake_case, unique_layer_name
from .input_layer import Input, InputLayer, keras_graph, scratch_graph

__all__ = ["Model"]


def _accepts(layer, arg):
    cache = layer.__dict__.setdefault("_call_args_cache", {})
    if arg not in cache:
        try:
            params = inspect.signature(layer.call).parameters
            cache[arg] = arg in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
        except (TypeError, ValueError):
            cache[arg] = False
    return cache[arg]


def _key(t):
    return t._key()


def _to_numpy(x):
    if isinstance(x, (list, tuple)):
        return type(x)(_to_numpy(v) for v in x)
    if isinstance(x, dict):
        return {k: _to_numpy(v) for k, v in x.items()}
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


class Model(Layer):
    """Model(inputs, outputs, name=None) is a functional model; a subclass that defines `call` is a
    subclassed model. Both train with compile/fit (Note [keras compiled step])."""

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", None)
        outputs = kwargs.pop("outputs", None)
        if len(args) >= 1:
            inputs = args[0]
        if len(args) >= 2:
            outputs = args[1]
        name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        dtype = kwargs.pop("dtype", None)
        self._is_graph_network = inputs is not None
        if name is None:
            base = "model" if self._is_graph_network else to_snake_case(type(self).__name__)
            name = unique_layer_name(base)
        super().__init__(trainable=trainable, name=name, dtype=dtype, **kwargs)
        self.optimizer = None
        self.compiled_loss = None
        self._compiled = False
        self.stop_training = False
        self.history = None
        self._train_fn = self._test_fn = self._predict_fn = None
        self._metric_objects = []
        self._run_eagerly = False
        if self._is_graph_network:
            self._init_graph_network(inputs, outputs)

    # ---- the functional graph ----------------------------------------------------------------------
    def _init_graph_network(self, inputs, outputs):
        self._nested_inputs = inputs
        self._nested_outputs = outputs
        self.inputs = list(nest.flatten(inputs))
        self.outputs = list(nest.flatten(outputs))
        for t in self.inputs + self.outputs:
            if keras_history(t) is None:
                raise ValueError("Input tensors to a Functional model must come from `tf.keras.Input`. Received: "
                                 "%s (missing previous layer metadata)." % (t,))
        # Post-order walk from the outputs: each node after the nodes that feed it.
        nodes, seen = [], set()
        input_keys = {_key(t) for t in self.inputs}

        def visit(layer, node_index):
            k = (id(layer), node_index)
            if k in seen:
                return
            seen.add(k)
            node = layer._inbound_nodes[node_index]
            if not any(_key(t) in input_keys for t in node.output_tensors):
                for inbound in node.inbound:
                    visit(inbound[0], inbound[1])
            nodes.append(node)

        for t in self.inputs:  # the inputs first, in order (Keras lists its InputLayers first)
            layer, ni, _ = keras_history(t)
            visit(layer, ni)
        for t in self.outputs:
            layer, ni, _ = keras_history(t)
            visit(layer, ni)
        reached = {_key(t) for n in nodes for t in n.output_tensors}
        for t in self.inputs:
            if _key(t) not in reached:
                raise ValueError("Graph disconnected: input %s" % (t,))
        self._network_nodes = nodes
        layers = []
        for n in nodes:
            if not any(n.layer is x for x in layers):
                layers.append(n.layer)
        self.__dict__["_layers"] = layers
        self.input_names = [keras_history(t)[0].name for t in self.inputs]
        self.output_names = [keras_history(t)[0].name for t in self.outputs]
        self._input_layers = [keras_history(t)[0] for t in self.inputs]
        self.built = True
        self._batch_input_shape_list = [tuple(TensorShape(t.shape).as_list()) for t in self.inputs]

    @property
    def output_shape(self):
        outs = self.__dict__.get("outputs")
        if outs:
            shapes = [tuple(TensorShape(t.shape).as_list()) for t in outs]
            return shapes[0] if len(shapes) == 1 else shapes
        return super().output_shape

    @property
    def input_shape(self):
        ins = self.__dict__.get("inputs")
        if not ins:
            raise AttributeError("The model has no defined input shape yet.")
        shapes = [tuple(TensorShape(t.shape).as_list()) for t in ins]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def layers(self):
        return [x for x in self.__dict__.get("_layers", []) if not (isinstance(x, InputLayer) and
                                                                     not self._is_graph_network)]

    def get_layer(self, name=None, index=None):
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError("Was asked to retrieve layer at index %d but model only has %d layers."
                                 % (index, len(self.layers)))
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError("No such layer: %s. Existing layers are: %s." % (name, [x.name for x in self.layers]))

    def call(self, inputs, training=None, mask=None):
        if not self._is_graph_network:
            raise NotImplementedError("When subclassing the `Model` class, you should implement a `call()` method.")
        return self._run_graph(inputs, training)

    def _run_graph(self, inputs, training):
        if isinstance(inputs, dict):
            missing = [n for n in self.input_names if n not in inputs]
            if missing:
                raise ValueError("Missing data for input(s) %s. You passed a data dictionary with keys %s."
                                 % (missing, sorted(inputs)))
            flat = [inputs[n] for n in self.input_names]
        else:
            flat = nest.flatten(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError("Layer \"%s\" expects %d input(s), but it received %d input tensors."
                             % (self.name, len(self.inputs), len(flat)))
        values = {}
        for t, x in zip(self.inputs, flat):
            if not _ops.is_tensor(x):
                x = _ops.convert_to_tensor(x, dtype=t.dtype)
            values[_key(t)] = x
        for node in self._network_nodes:
            if isinstance(node.layer, InputLayer):
                continue
            if all(_key(t) in values for t in node.output_tensors):
                continue  # a model input made by another layer (nested models' inputs)
            args = nest.map_structure(lambda t: values[_key(t)] if type(t) is _ops.Tensor and _key(t) in values
                                      else t, (node.inputs, node.args))
            kwargs = dict(node.kwargs)
            if training is not None and _accepts(node.layer, "training"):
                kwargs["training"] = training
            out = node.layer(args[0], *args[1], **kwargs)
            for t, v in zip(node.output_tensors, nest.flatten(out)):
                values[_key(t)] = v
        return nest.pack_sequence_as(self._nested_outputs, [values[_key(t)] for t in self.outputs])

    def compute_output_shape(self, input_shape):
        if self._is_graph_network:
            return nest.map_structure(lambda t: TensorShape(t.shape), self._nested_outputs)
        raise NotImplementedError

    def build(self, input_shape):
        """Builds a subclassed model's weights by calling it on placeholders of `input_shape` in a scratch
        graph (nothing runs); a functional model is built already."""
        if self._is_graph_network:
            self.built = True
            return
        if input_shape is None:
            raise ValueError("Input shape must be defined when calling build on a model subclass network.")
        g = scratch_graph("build_graph")
        with g.as_default():
            def ph(s):
                return _ops.apply1("Placeholder", [], {"dtype": _dtypes.float32._enum,
                                                       "shape": _core.Shape(TensorShape(s).as_list())}, name="x")
            if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0],
                                                                                    (list, tuple, TensorShape)):
                x = [ph(s) for s in input_shape]
            else:
                x = ph(input_shape)
            kwargs = {"training": False} if _accepts(self, "training") else {}
            self.call(x, **kwargs)
        self.built = True

    def _maybe_build(self, inputs):
        # Keras's Model.build is a default: a call does not run it (the layers build themselves inside call);
        # a subclass that overrides build gets it called as any layer's.
        if not self.built and type(self).build is Model.build and not self._is_graph_network:
            flat = nest.flatten(inputs)
            if self._dtype is None and flat and hasattr(flat[0], "dtype"):
                self._dtype = _dtypes.as_dtype(flat[0].dtype).base_dtype.name
            return
        super()._maybe_build(inputs)

    def __call__(self, inputs, *args, **kwargs):
        if not self._is_graph_network and not self.built and _core.executing_eagerly():
            # Layers built inside call make their weights now (eagerly); Keras marks the model built.
            out = super().__call__(inputs, *args, **kwargs)
            self.built = True
            return out
        return super().__call__(inputs, *args, **kwargs)

    # ---- compile ----------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=None, jit_compile=None, **kwargs):
        """Chooses the optimizer, loss(es) and metrics; run_eagerly=True runs steps op by op (debugging)."""
        for k in kwargs:
            if k not in ("sample_weight_mode", "target_tensors", "distribute", "pss_evaluation_shards"):
                raise TypeError("Invalid keyword argument(s) in `compile()`: %s" % (k,))
        self.optimizer = optimizers_module.get(optimizer)
        self._loss_spec, self._metrics_spec, self._loss_weights = loss, metrics, loss_weights
        self._weighted_metrics_spec = weighted_metrics
        self._run_eagerly = bool(run_eagerly)
        if not _core.executing_eagerly():
            self._steps_graph = _ops.get_default_graph()
        self._compiled = True
        self._compiled_ready = False
        self._train_fn = self._test_fn = self._predict_fn = None

    @property
    def run_eagerly(self):
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value):
        self._run_eagerly = bool(value)
        self._train_fn = self._test_fn = self._predict_fn = None

    def _output_names(self):
        if self._is_graph_network:
            return list(self.output_names)
        return None

    def _prepare_compiled(self, y_pred_structure):
        """Resolves losses and metrics once the outputs' structure is known (Keras does it on the first
        batch): one loss per output, Keras's names for multi-output logs (`<output>_loss`)."""
        if self._compiled_ready:
            return
        outs = nest.flatten(y_pred_structure)
        n = len(outs)
        names = self._output_names() or (["output_%d" % (i + 1) for i in range(n)])
        if len(names) != n:
            names = ["output_%d" % (i + 1) for i in range(n)]
        spec = self._loss_spec
        if isinstance(spec, dict):
            losses = [spec.get(nm) for nm in names]
        elif isinstance(spec, (list, tuple)):
            if len(spec) != n:
                raise ValueError("When passing a list as loss, it should have one entry per model outputs. The "
                                 "model has %d outputs, but you passed loss=%s" % (n, spec))
            losses = list(spec)
        else:
            losses = [spec] * n
        self._losses_fns = [losses_module.get(lo) for lo in losses]
        lw = self._loss_weights
        if isinstance(lw, dict):
            self._loss_w = [lw.get(nm, 1.0) for nm in names]
        elif isinstance(lw, (list, tuple)):
            self._loss_w = list(lw)
        else:
            self._loss_w = [1.0] * n
        self._out_names = names
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._out_loss_trackers = [metrics_module.Mean(name=nm + "_loss") for nm in names] if n > 1 else []
        ms = self._metrics_spec
        per_out = []
        for i in range(n):
            if isinstance(ms, dict):
                m = ms.get(names[i], [])
            elif isinstance(ms, (list, tuple)) and ms and isinstance(ms[0], (list, tuple)):
                m = ms[i]
            else:
                m = ms or []
            m = m if isinstance(m, (list, tuple)) else [m]
            shape = TensorShape(outs[i].shape).as_list() if TensorShape(outs[i].shape).ndims else None
            objs = []
            for ident in m:
                obj = metrics_module.make(ident, self._losses_fns[i], shape)
                if n > 1:
                    obj.name = names[i] + "_" + obj.name
                objs.append(obj)
            per_out.append(objs)
        self._per_output_metrics = per_out
        self._compiled_ready = True

    @property
    def metrics(self):
        if not self._compiled or not getattr(self, "_compiled_ready", False):
            return []
        return [self._loss_tracker] + self._out_loss_trackers + [m for ms in self._per_output_metrics for m in ms]

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        if not _core.executing_eagerly():
            graph_mode.reset_metrics(self)
            return
        for m in self.metrics:
            m.reset_state()

    def _graph_of_steps(self):
        return self.__dict__.get("_steps_graph") or _ops.get_default_graph()

    def get_weights(self, session=None):
        if session is None and not _core.executing_eagerly() and self.weights and \
                not getattr(self.weights[0], "_is_eager_variable", False):
            session = graph_mode.get_session(self.weights[0].graph)
        return super().get_weights(session)

    def set_weights(self, weights, session=None):
        if session is None and not _core.executing_eagerly() and self.weights and \
                not getattr(self.weights[0], "_is_eager_variable", False):
            session = graph_mode.get_session(self.weights[0].graph)
        return super().set_weights(weights, session)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
        ys = self._flat_targets(y)
        ps = nest.flatten(y_pred)
        if len(ys) != len(ps):
            raise ValueError("The model has %d outputs but %d targets were given." % (len(ps), len(ys)))
        sws = [None] * len(ps) if sample_weight is None else (
            nest.flatten(sample_weight) if len(nest.flatten(sample_weight)) == len(ps) else [sample_weight] * len(ps))
        total = None
        per = []
        for fn, w, yt, yp, sw in zip(self._losses_fns, self._loss_w, ys, ps, sws):
            if fn is None:
                per.append(None)
                continue
            if isinstance(fn, losses_module.Loss):
                val = fn(yt, yp, sample_weight=sw)
            else:
                val = losses_module.compute_weighted_loss(fn(yt, yp), sw)
            per.append(val)
            term = val * w if w != 1.0 else val
            total = term if total is None else total + term
        g = _ops.get_default_graph() if not _core.executing_eagerly() else None
        reg = [lo for lo in self.losses if (type(lo) is _ops.Tensor) == (g is not None) and
               (g is None or lo.graph is g)]
        if reg:
            total = total + _ops.apply1("AddN", [_ops.convert_to_tensor(r) for r in reg]) if len(reg) > 1 else \
                total + reg[0]
        return total, per

    def _update_metrics(self, y, y_pred, sample_weight, total, per, batch):
        self._loss_tracker.update_state(total, sample_weight=batch)
        for tr, val in zip(self._out_loss_trackers, per):
            if val is not None:
                tr.update_state(val, sample_weight=batch)
        sws = [None] * len(self._per_output_metrics) if sample_weight is None else (
            nest.flatten(sample_weight) if len(nest.flatten(sample_weight)) == len(self._per_output_metrics)
            else [sample_weight] * len(self._per_output_metrics))
        for ms, yt, yp, sw in zip(self._per_output_metrics, self._flat_targets(y), nest.flatten(y_pred), sws):
            for m in ms:
                m.update_state(yt, yp, sample_weight=sw)
        return {m.name: m.result() for m in self.metrics}

    def _flat_targets(self, y):
        if isinstance(y, dict):
            return [y.get(n) for n in self._out_names]
        return nest.flatten(y)

    @staticmethod
    def _batch_size(x):
        first = nest.flatten(x)[0]
        return math_ops.cast(array_ops.shape(first)[0], _dtypes.float32)

    # ---- steps --------------------------------------------------------------------------------------
    def train_step(self, data):
        x, y, sw = data_adapter.unpack_x_y_sample_weight(data)
        with _backprop.GradientTape() as tape:
            y_pred = self(x, training=True)
            total, per = self.compute_loss(x, y, y_pred, sw)
        variables = self.trainable_variables
        if _core.executing_eagerly() or getattr(_ops.get_default_graph(), "_building_function", False):
            grads = tape.gradient(total, variables)
        else:  # TF1 graph mode: the variables are graph variables (Note [keras graph-mode steps])
            grads = gradients_impl.gradients(total, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return self._update_metrics(y, y_pred, sw, total, per, self._batch_size(x))

    def test_step(self, data):
        x, y, sw = data_adapter.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        total, per = self.compute_loss(x, y, y_pred, sw)
        return self._update_metrics(y, y_pred, sw, total, per, self._batch_size(x))

    def predict_step(self, data):
        x, _, _ = data_adapter.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _make_fn(self, step):
        if not _core.executing_eagerly():
            return graph_mode.GraphStep(self, step, step.__name__.replace("_step", ""))
        if self._run_eagerly:
            return step
        return _function.function(step, name=step.__name__)

    def make_train_function(self):
        if self._train_fn is None:
            self._train_fn = self._make_fn(self.train_step)
        return self._train_fn

    def make_test_function(self):
        if self._test_fn is None:
            self._test_fn = self._make_fn(self.test_step)
        return self._test_fn

    def make_predict_function(self):
        if self._predict_fn is None:
            self._predict_fn = self._make_fn(self.predict_step)
        return self._predict_fn

    def _assert_compiled(self):
        if not self._compiled:
            raise RuntimeError("You must compile your model before training/testing. Use "
                               "`model.compile(optimizer, loss)`.")

    def _ready(self, data):
        """Resolves losses and metrics against the model's outputs for this kind of data."""
        if self._compiled_ready:
            return
        x, _, _ = data_adapter.unpack_x_y_sample_weight(data)
        if self._is_graph_network:
            self._prepare_compiled(self._nested_outputs)
        else:
            y_pred = self(nest.map_structure(lambda a: a[:1] if hasattr(a, "__getitem__") else a, x),
                          training=False)
            self._prepare_compiled(y_pred)

    # ---- fit / evaluate / predict -------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
            max_queue_size=10, workers=1, use_multiprocessing=False):
        """Trains for `epochs` epochs (from `initial_epoch`); returns the History."""
        self._assert_compiled()
        if class_weight is not None:
            sample_weight = data_adapter.class_weights_to_sample_weights(x, y, sample_weight, class_weight)
        verbose = 1 if verbose == "auto" else verbose
        if validation_split and validation_data is None:
            if not data_adapter.is_array_data(x):
                raise ValueError("`validation_split` is only supported for Tensors or NumPy arrays")
            (x, y, sample_weight), validation_data = data_adapter.train_validation_split(
                (x, y, sample_weight), validation_split)
        data = data_adapter.DataHandler(x, y, sample_weight, batch_size=batch_size, steps_per_epoch=steps_per_epoch,
                                        shuffle=shuffle, epochs=epochs - initial_epoch)
        val_handler = None
        if validation_data is not None:
            vx, vy, vsw = data_adapter.unpack_validation(validation_data)
            val_handler = data_adapter.DataHandler(vx, vy, vsw, batch_size=validation_batch_size or batch_size,
                                                   steps_per_epoch=validation_steps, shuffle=False)
        self._ready(data.peek())
        cbs = callbacks_module.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                            verbose=verbose, epochs=epochs, steps=data.steps)
        self.history = cbs.history
        train_fn = self.make_train_function()
        self.stop_training = False
        cbs.on_train_begin()
        logs = epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            ran = 0
            for step, batch in enumerate(data.epoch_batches()):
                cbs.on_train_batch_begin(step)
                logs = train_fn(batch)
                ran += 1
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if not ran:
                # A one-shot generator is exhausted: Keras stops with this warning.
                print("WARNING: Your input ran out of data; interrupting training. Make sure that your dataset or "
                      "generator can generate at least `steps_per_epoch * epochs` batches.")
                break
            epoch_logs = {k: float(v) for k, v in logs.items()}
            if val_handler is not None and (epoch + 1) % validation_freq == 0 if isinstance(validation_freq, int) \
                    else val_handler is not None and epoch + 1 in validation_freq:
                val_logs = self.evaluate(val_handler, verbose=0, return_dict=True, _callbacks=cbs)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(epoch_logs)
        return self.history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, max_queue_size=10, workers=1, use_multiprocessing=False, return_dict=False,
                 _callbacks=None, **kwargs):
        """Loss and metrics over the data: a scalar (loss only), a list in `metrics_names` order, or a dict."""
        self._assert_compiled()
        verbose = 1 if verbose == "auto" else verbose
        data = x if isinstance(x, data_adapter.DataHandler) else data_adapter.DataHandler(
            x, y, sample_weight, batch_size=batch_size, steps_per_epoch=steps, shuffle=False)
        self._ready(data.peek())
        cbs = _callbacks or callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                                          verbose=verbose, epochs=1, steps=data.steps)
        test_fn = self.make_test_function()
        self.reset_metrics()
        cbs.on_test_begin()
        logs = {}
        for step, batch in enumerate(data.epoch_batches()):
            cbs.on_test_batch_begin(step)
            logs = test_fn(batch)
            cbs.on_test_batch_end(step, logs)
        logs = {k: float(v) for k, v in logs.items()}
        cbs.on_test_end(logs)
        if return_dict:
            return logs
        vals = [logs[n] for n in self.metrics_names if n in logs]
        return vals[0] if len(vals) == 1 else vals

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, max_queue_size=10, workers=1,
                use_multiprocessing=False):
        """The model's outputs over the data, concatenated along the batch as NumPy arrays."""
        verbose = 1 if verbose == "auto" else verbose
        data = data_adapter.DataHandler(x, None, None, batch_size=batch_size, steps_per_epoch=steps, shuffle=False)
        cbs = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                                            epochs=1, steps=data.steps, mode="predict")
        predict_fn = self.make_predict_function()
        outs = []
        cbs.on_predict_begin()
        for step, batch in enumerate(data.epoch_batches()):
            cbs.on_predict_batch_begin(step)
            out = predict_fn(batch)
            outs.append(_to_numpy(out))
            cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        if not outs:
            raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs). Please use "
                             "`Model.compile(..., run_eagerly=True)`, or `tf.config.run_functions_eagerly(True)` "
                             "for more information of where went wrong, or file a issue/bug to `tf.keras`.")
        return nest.map_structure(lambda *a: np.concatenate(a, axis=0), *outs) if len(outs) > 1 else outs[0]

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True,
                       return_dict=False):
        self._assert_compiled()
        batch = data_adapter.pack(x, y, sample_weight)
        self._ready(batch)
        if reset_metrics:
            self.reset_metrics()
        logs = {k: float(v) for k, v in self.make_train_function()(batch).items()}
        return self._logs_out(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        self._assert_compiled()
        batch = data_adapter.pack(x, y, sample_weight)
        self._ready(batch)
        if reset_metrics:
            self.reset_metrics()
        logs = {k: float(v) for k, v in self.make_test_function()(batch).items()}
        return self._logs_out(logs, return_dict)

    def predict_on_batch(self, x):
        return _to_numpy(self.make_predict_function()(data_adapter.pack(x, None, None)))

    def _logs_out(self, logs, return_dict):
        if return_dict:
            return logs
        vals = [logs[n] for n in self.metrics_names if n in logs]
        return vals[0] if len(vals) == 1 else vals

    # ---- weights ------------------------------------------------------------------------------------
    def save_weights(self, filepath, overwrite=True, save_format=None, options=None):
        """Writes the weights to a safetensors checkpoint (tideflow's format; TF's .h5 is not supported):
        one tensor per weight, keyed by its position and name, in `weights` order."""
        if save_format not in (None, "tf", "safetensors"):
            raise ValueError("save_format must be 'tf' or 'safetensors' (HDF5 is not supported)")
        if str(filepath).endswith((".h5", ".keras", ".hdf5")):
            raise NotImplementedError("Saving weights as HDF5 (.h5) is not supported; use a .safetensors or "
                                      "checkpoint prefix path")
        path = _weights_path(filepath)
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, exist_ok=True)
        weights = self.weights
        names = ["%04d/%s" % (i, w.name.split(":")[0]) for i, w in enumerate(weights)]
        _core.save_checkpoint(path, names, [np.ascontiguousarray(v) for v in self.get_weights()],
                              {"format": "keras_weights", "count": str(len(weights))})

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, options=None):
        """Reads weights written by save_weights, in order (by_name=True matches the weight names instead)."""
        path = _weights_path(filepath)
        if not os.path.exists(path):
            raise FileNotFoundError("Unable to open weights file: %s" % path)
        reader = _core.CheckpointReader(path)
        entries = sorted(name for name, _, _ in reader.entries())
        weights = self.weights
        if by_name:
            by = {e.split("/", 1)[1]: e for e in entries}
            values = []
            for w in weights:
                e = by.get(w.name.split(":")[0])
                if e is None:
                    raise ValueError("No weight named %s in %s" % (w.name, path))
                values.append(reader.read(e))
        else:
            if len(entries) != len(weights):
                raise ValueError("Weight count mismatch: the model has %d weights, the file %s holds %d."
                                 % (len(weights), path, len(entries)))
            values = [reader.read(e) for e in entries]
        self.set_weights(values)

    # ---- summary ------------------------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        """Prints the layers, their output shapes and parameter counts as Keras 2 (tf_keras) prints them."""
        if not self.built:
            raise ValueError("This model has not yet been built. Build the model first by calling `build()` or "
                             "by calling the model on a batch of data.")
        layer_utils.print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                                  show_trainable=show_trainable)

    def get_config(self):
        return {"name": self.name, "layers": [{"class_name": type(la).__name__, "config": la.get_config()}
                                              for la in self.layers]}

    def to_json(self, **kwargs):
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, default=str, **kwargs)


def _weights_path(filepath):
    filepath = os.fspath(filepath)
    return filepath if filepath.endswith(".safetensors") else filepath + ".safetensors"
