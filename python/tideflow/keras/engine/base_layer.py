"""The Keras Layer: the base of tf.layers (layers/base.py adds TF1 variable scopes on top) and of tf.keras.

Note [layers engine]
A layer is an object that owns weights and maps tensors to tensors, built lazily: the constructor only
records hyperparameters; the first `__call__` sees the inputs' shapes, calls `build(input_shape)` (which
creates the weights with `add_weight`) and then `call(inputs, ...)`; later calls only run `call`, sharing
the weights. `__call__` is the one place that does the bookkeeping around `call`: converting inputs,
checking them against `input_spec`, opening the layer's name scope (`_name_scope()`), building once,
activity regularization, and (issue 13) the functional API's connectivity. Subclasses override `build`,
`call` and `compute_output_shape`, never `__call__`.

Two things differ between Keras and TF1's tf.layers, and each is one overridable method here:
- where weights come from: `add_weight` calls a getter; Keras's default makes a variable named by the name
  scope (`dense/kernel`, the layer named "dense", "dense_1"... per graph); tf.layers passes
  tf.get_variable inside the layer's variable scope, so `reuse=` and scope sharing work as in TF1;
- which name scope ops go in: `_name_scope()` (Keras: the layer's name, uniquified per call; tf.layers:
  the variable scope's first name scope, re-entered).
Losses (`add_loss`, weight and activity regularizers) and updates (`add_update`, e.g. batch norm's moving
averages) are kept per layer and gathered over sublayers; each remembers whether it depends on the call's
inputs (`get_updates_for` / `get_losses_for`), which the Keras Model of issue 13 needs. Sublayers and
variables assigned as attributes are tracked, so a subclassed layer's `weights` include its parts'.

Plan for issue 13 (tf.keras on this engine): Sequential and the functional Model become Layers whose
`call` runs their sublayers; `__call__` records, for symbolic inputs, which layer made each output
(`_keras_history`) through the hook `_set_connectivity_metadata`; `fit/evaluate/predict` drive a Session
over `get_updates_for` and `losses`; the learning phase feeds `training=` where it was left None.
In graph mode a callable loss or update is evaluated once, when it is added (so `losses` does not build
new ops each time it is read); eager mode (issue 11) will keep the callables and evaluate them per step.
"""
import contextlib
import re
import weakref

import numpy as np

from ... import _core
from ...framework import dtypes as _dtypes
from ...framework import ops as _ops
from ...framework.tensor_shape import TensorShape
from ...ops import array_ops, math_ops, state_ops
from ...util import nest
from .. import initializers as _initializers
from .input_spec import InputSpec, assert_input_compatibility

__all__ = ["Layer", "InputSpec", "Node", "to_snake_case", "unique_layer_name", "keras_history"]

_layer_name_uids = weakref.WeakKeyDictionary()  # graph -> {base name: count}, as Keras's backend keeps them


def to_snake_case(name):
    """Conv2D -> conv2d, BatchNormalization -> batch_normalization (Keras's default layer names)."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    insecure = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    return insecure if insecure[0] != "_" else "private" + insecure


def unique_layer_name(base_name, graph=None):
    """base_name, then base_name_1, base_name_2... per graph (Keras's unique_object_name)."""
    uids = _layer_name_uids.setdefault(graph or _ops.get_default_graph(), {})
    count = uids.get(base_name, 0)
    uids[base_name] = count + 1
    return base_name if count == 0 else "%s_%d" % (base_name, count)


def _ancestors(targets):
    """Every op the target ops depend on, through data and control inputs (iterative)."""
    seen, stack = set(), [t.op if isinstance(t, _ops.Tensor) else t for t in targets]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return seen


def _depends_on(x, inputs):
    """Whether tensor/op `x` is computed from any of `inputs` (Keras's reachability test). Eager values
    have no history: they depend on nothing."""
    if not isinstance(x, (_ops.Tensor, _ops.Operation)):
        return False
    ops = {t.op for t in inputs if isinstance(t, _ops.Tensor)}
    return bool(ops) and not ops.isdisjoint(_ancestors([x]))


def _as_op(x):
    if isinstance(x, _ops.Operation):
        return x
    if hasattr(x, "op"):
        return x.op
    return _ops.convert_to_tensor(x).op


_call_stack = []  # the names of the layers whose __call__ is in progress, outermost first


@contextlib.contextmanager
def _calling(name):
    _call_stack.append(name)
    try:
        yield
    finally:
        _call_stack.pop()


def keras_history(t):
    """(layer, node index, tensor index) of a symbolic Keras tensor, else None."""
    if type(t) is not _ops.Tensor:
        return None
    return t.graph.__dict__.get("_keras_history", {}).get(t._key())


def set_keras_history(t, history):
    if type(t) is _ops.Tensor:
        t.graph.__dict__.setdefault("_keras_history", {})[t._key()] = history


def _shape_tuple(x):
    if isinstance(x, (list, tuple)):
        return [_shape_tuple(y) for y in x]
    return tuple(TensorShape(x.shape).as_list()) if TensorShape(x.shape).ndims is not None else None


class Node:
    """One call of a layer on symbolic tensors (the functional API's graph): its inputs (their structure and,
    flat, the (layer, node index, tensor index) that made each), outputs and the call's other arguments."""

    def __init__(self, layer, inputs, outputs, args, kwargs):
        self.layer = layer
        self.inputs = inputs
        self.outputs = outputs
        self.args = args
        self.kwargs = kwargs
        self.input_tensors = nest.flatten(inputs)
        self.output_tensors = nest.flatten(outputs)
        self.inbound = [keras_history(t) for t in self.input_tensors]

    def iterate_inbound(self):
        for (layer, node_index, tensor_index), t in zip(self.inbound, self.input_tensors):
            yield layer, node_index, tensor_index, t


class Layer:
    """Base layer (Keras's): see Note [layers engine].

    Arguments: trainable (whether its weights are trained), name (default: the class name in snake case,
    made unique per graph), dtype (of the weights; default: the first input's), activity_regularizer, and
    Keras's input_shape / batch_input_shape / batch_size (kept for the functional API)."""

    _ALLOWED_KWARGS = {"input_shape", "batch_input_shape", "batch_size", "weights", "activity_regularizer",
                       "autocast", "input_dim", "dynamic"}

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        for k in kwargs:
            if k not in self._ALLOWED_KWARGS:
                raise TypeError("Keyword argument not understood:", k)
        self._trainable = trainable
        self.built = False
        self.input_spec = None
        self.supports_masking = False
        self.stateful = False
        self._dtype = None if dtype is None else _dtypes.as_dtype(dtype).base_dtype.name
        self._trainable_weights = []
        self._non_trainable_weights = []
        self._updates = []
        self._unconditional = set()  # ids of updates and losses that do not depend on the call's inputs
        self._losses = []
        self._eager_losses = []  # losses added by the last eager call (cleared when the next one starts)
        self._layers = getattr(self, "_layers", [])
        self._call_inputs = None  # the inputs of the call in progress (for add_update / add_loss)
        self._inbound_nodes = []  # the functional API's connectivity (issue 13)
        self._activity_regularizer = kwargs.pop("activity_regularizer", None)
        self._initial_weights = kwargs.pop("weights", None)
        if "batch_input_shape" in kwargs or "input_shape" in kwargs:
            batch_input_shape = kwargs.get("batch_input_shape")
            if batch_input_shape is None:
                batch_input_shape = (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
            self._batch_input_shape = tuple(batch_input_shape)
        self._init_set_name(name)
        self._init_done = True

    # ---- naming -------------------------------------------------------------------------------------
    def _init_set_name(self, name):
        self._name = name or unique_layer_name(to_snake_case(type(self).__name__))

    def _name_scope(self):
        """The name scope `__call__` opens for the ops of `call` (and weights made there)."""
        return self._name

    name = property(lambda self: self._name)

    @property
    def dtype(self):
        return self._dtype

    # ---- tracking -----------------------------------------------------------------------------------
    def __setattr__(self, name, value):
        # Sublayers and variables assigned as attributes are this layer's too (subclassed layers and models).
        if isinstance(value, Layer) and value is not self:
            layers = self.__dict__.setdefault("_layers", [])
            if not any(value is x for x in layers):
                layers.append(value)
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Layer) for v in value):
            layers = self.__dict__.setdefault("_layers", [])
            layers.extend(v for v in value if not any(v is x for x in layers))
        elif isinstance(value, state_ops.Variable) and "_trainable_weights" in self.__dict__:
            if not any(value is w for w in self._trainable_weights + self._non_trainable_weights):
                (self._trainable_weights if value.trainable else self._non_trainable_weights).append(value)
        object.__setattr__(self, name, value)

    def _gather_layers(self):
        """This layer and its sublayers, depth first, each once."""
        out, stack, seen = [], [self], set()
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            stack.extend(reversed(layer.__dict__.get("_layers", [])))
        return out

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        for layer in self._gather_layers():
            layer._trainable = bool(value)

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        out = list(self._trainable_weights)
        for layer in self.__dict__.get("_layers", []):
            out += [w for w in layer.trainable_weights if not any(w is o for o in out)]
        return out

    @property
    def non_trainable_weights(self):
        out = list(self._non_trainable_weights) if self.trainable else \
            self._trainable_weights + self._non_trainable_weights
        for layer in self.__dict__.get("_layers", []):
            out += [w for w in layer.non_trainable_weights if not any(w is o for o in out)]
        return out

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    # ---- weights ------------------------------------------------------------------------------------
    def add_weight(self, name=None, shape=None, dtype=None, initializer=None, regularizer=None, trainable=None,
                   constraint=None, partitioner=None, use_resource=None, synchronization=None, aggregation=None,
                   getter=None, **kwargs):
        """Creates (or, through `getter`, finds) a weight of this layer and tracks it. Defaults: the layer's
        dtype (float32 before it is known), glorot_uniform for floats and zeros otherwise, trainable."""
        for k in kwargs:
            if k not in ("experimental_autocast", "caching_device", "collections"):
                raise TypeError("Unknown keyword argument:", k)
        shape = () if shape is None else shape
        dtype = _dtypes.as_dtype(dtype or self.dtype or _dtypes.float32)
        initializer = _initializers.get(initializer)
        if trainable is None:
            trainable = True
        if initializer is None and getter is None:
            if dtype.is_floating:
                initializer = _initializers.get("glorot_uniform")
            elif dtype.is_integer or dtype.is_bool:
                initializer = _initializers.get("zeros")
            else:
                raise ValueError("An initializer for variable %s of type %s is required for layer %s"
                                 % (name, dtype.base_dtype, self.name))
        variable = (getter or self._make_variable)(
            name, shape=TensorShape(shape), dtype=dtype, initializer=initializer,
            trainable=trainable and self.trainable, constraint=constraint, partitioner=partitioner,
            use_resource=use_resource, collections=kwargs.get("collections"))
        if regularizer is not None:
            self._handle_weight_regularization(name, variable, regularizer)
        if not any(variable is w for w in self._trainable_weights + self._non_trainable_weights):
            if trainable and self.trainable and variable.trainable:
                self._trainable_weights.append(variable)
            else:
                self._non_trainable_weights.append(variable)
        return variable

    add_variable = add_weight  # TF1's older name

    @staticmethod
    def _make_variable(name, shape, dtype, initializer, trainable, constraint, partitioner=None,
                       use_resource=None, collections=None):
        """Keras's getter: a variable named by the current name scope (the layer's)."""
        if partitioner is not None:
            raise ValueError("Partitioned variables are not supported (weight %s was given a partitioner)." % name)
        if callable(initializer):
            if isinstance(initializer, type):
                initializer = initializer()

            def init_val():
                return initializer(shape.as_list(), dtype=dtype)
        else:
            init_val = initializer
        if not _core.executing_eagerly() and getattr(_ops.get_default_graph(), "_building_function", False):
            # Made while a function graph is built (keras.Input's scratch graph, a tf.function's first trace):
            # an eager variable, named by the graph's name scope as TensorFlow 2 names it ("dense/kernel").
            name = "/" + "".join(n.rstrip("/") + "/" for n in _call_stack) + (name or "Variable")
        return state_ops.Variable(init_val, name=name, trainable=trainable, collections=collections,
                                  dtype=dtype, constraint=constraint)

    def _handle_weight_regularization(self, name, variable, regularizer):
        if getattr(variable, "_is_eager_variable", False):
            # An eager weight's penalty is recomputed wherever `losses` is read (eagerly, or inside the
            # traced training step), as Keras keeps it: a callable.
            self.__dict__.setdefault("_callable_losses", []).append(lambda: regularizer(variable))
            return
        with _ops.name_scope(name + "/Regularizer"):
            loss = regularizer(variable)
        self.add_loss(loss, inputs=None)

    def get_weights(self, session=None):
        """The weights' values (as NumPy arrays), read with `session` or the default session (eager
        variables read themselves)."""
        if all(getattr(w, "_is_eager_variable", False) for w in self.weights):
            return [w.numpy() for w in self.weights]
        session = session or _ops.get_default_session()
        if session is None:
            raise ValueError("get_weights needs a session: pass one or call it inside `with sess.as_default()`")
        return session.run(self.weights)

    def set_weights(self, weights, session=None):
        params = self.weights
        if len(params) != len(weights):
            raise ValueError("You called `set_weights(weights)` on layer \"%s\" with a weight list of length %d, "
                             "but the layer was expecting %d weights." % (self.name, len(weights), len(params)))
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if not p.shape.is_compatible_with(w.shape):
                raise ValueError("Layer weight shape %s not compatible with provided weight shape %s"
                                 % (p.shape, w.shape))
            if getattr(p, "_is_eager_variable", False):
                p.assign(w.astype(p.dtype.as_numpy_dtype, copy=False))
            else:
                p.load(w, session=session)

    def count_params(self):
        if not self.built:
            raise ValueError("You tried to call `count_params` on " + self.name + ", but the layer isn't built. "
                             "You can build it manually via: `" + self.name + ".build(batch_input_shape)`.")
        return int(sum(w.shape.num_elements() for w in self.weights))

    # ---- losses and updates -------------------------------------------------------------------------
    def _conditional_on(self, x, inputs):
        """Whether x depends on `inputs` (or, when None, on the inputs of the call in progress)."""
        if inputs is None:
            inputs = self._call_inputs
        if inputs is None or inputs is False:
            return False
        return _depends_on(x, nest.flatten(inputs))

    def add_loss(self, losses, inputs=None):
        """Adds loss tensors (or zero-argument callables, evaluated now in graph mode) to this layer's
        losses; `inputs` names the inputs they depend on (None: unconditional)."""
        new = []
        for loss in nest.flatten(losses):
            if callable(loss):
                loss = loss()
            if loss is None:
                continue
            loss = _ops.convert_to_tensor(loss, dtype=None if _ops.is_tensor(loss) else _dtypes.float32)
            if type(loss) is not _ops.Tensor or getattr(loss.graph, "_building_function", False):
                # An eager value (or one of a tf.function's trace) is this call's loss only: Keras keeps such
                # losses until the next call.
                self._eager_losses.append(loss)
                new.append(loss)
                continue
            if inputs is None or not self._conditional_on(loss, inputs):
                self._unconditional.add(id(loss))
            self._losses.append(loss)
            new.append(loss)
        return new

    @property
    def losses(self):
        out = []
        for layer in self._gather_layers():
            out += layer._losses + layer.__dict__.get("_eager_losses", [])
            out += [f() for f in layer.__dict__.get("_callable_losses", [])]
        return out

    def get_losses_for(self, inputs):
        """Unconditional losses for inputs=None, else the losses computed from `inputs`."""
        losses = [(loss, layer) for layer in self._gather_layers() for loss in layer._losses]
        if inputs is None:
            return [loss for loss, layer in losses if id(loss) in layer._unconditional]
        flat = nest.flatten(inputs)
        return [loss for loss, layer in losses if id(loss) not in layer._unconditional and _depends_on(loss, flat)]

    def add_update(self, updates, inputs=None):
        """Adds update ops (or callables returning them, called now in graph mode), e.g. assignments of
        moving averages. They are run by whoever trains the layer (tf.layers: through UPDATE_OPS)."""
        for u in nest.flatten(updates):
            if callable(u):
                u = u()
            if u is None:
                continue
            if _core.executing_eagerly() or getattr(_ops.get_default_graph(), "_building_function", False):
                continue  # eagerly an update has run when it is made; a tf.function runs its updates itself
            op = _as_op(u)
            if inputs is False or not self._conditional_on(op, inputs):
                self._unconditional.add(id(op))
            self._updates.append(op)

    @property
    def updates(self):
        if not self.trainable and not self.stateful:
            return []
        out = []
        for layer in self._gather_layers():
            out += [u for u in layer._updates if not any(u is o for o in out)]
        return out

    def get_updates_for(self, inputs):
        """Unconditional updates for inputs=None, else the updates computed from `inputs`."""
        if not self.trainable and not self.stateful:
            return []
        ups = [(u, layer) for layer in self._gather_layers() for u in layer._updates]
        if inputs is None:
            return [u for u, layer in ups if id(u) in layer._unconditional]
        flat = nest.flatten(inputs)
        return [u for u, layer in ups if id(u) not in layer._unconditional and _depends_on(u, flat)]

    @property
    def activity_regularizer(self):
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, regularizer):
        self._activity_regularizer = regularizer

    # ---- calling ------------------------------------------------------------------------------------
    def build(self, input_shape):
        """Creates the weights, given the inputs' shapes (TensorShapes). The default creates none."""
        self.built = True

    def call(self, inputs, **kwargs):
        """The layer's computation; the default returns the inputs."""
        return inputs

    def compute_output_shape(self, input_shape):
        raise NotImplementedError("Layer %s does not implement compute_output_shape." % type(self).__name__)

    def apply(self, inputs, *args, **kwargs):
        return self.__call__(inputs, *args, **kwargs)

    def __call__(self, inputs, *args, **kwargs):
        """Converts the inputs, checks them, builds once, then runs `call` in the layer's name scope
        (see Note [layers engine])."""
        if not self.__dict__.get("_init_done"):
            raise RuntimeError("You must call `super().__init__()` in the layer constructor.")
        inputs = nest.map_structure(
            lambda x: x if _ops.is_tensor(x) or isinstance(x, state_ops.Variable) else _ops.convert_to_tensor(x),
            inputs)
        assert_input_compatibility(self.input_spec, inputs, self.name)
        # Eagerly there is no graph to enter (entering one would switch to graph mode); the name scope only
        # names the weights made in build. Symbolic inputs (keras.Input) are graph tensors even then.
        flat_inputs = nest.flatten(inputs)
        eager = _core.executing_eagerly() and not any(type(t) is _ops.Tensor for t in flat_inputs)
        graph = contextlib.nullcontext() if eager else _ops._graph_of(flat_inputs).as_default()
        with graph, _ops.name_scope(self._name_scope()), _calling(self._name_scope()):
            self._maybe_build(inputs)
            outer, self._call_inputs = self._call_inputs, inputs
            if outer is None:
                for layer in self._gather_layers():
                    layer.__dict__["_eager_losses"] = []
            try:
                outputs = self.call(inputs, *args, **kwargs)
                if outputs is None:
                    raise ValueError("A layer's `call` method should return a Tensor or a list of Tensors, not "
                                     "None (layer: " + self.name + ").")
                self._handle_activity_regularization(inputs, outputs)
            finally:
                self._call_inputs = outer
            self._set_connectivity_metadata(inputs, outputs, args, kwargs)
        return outputs

    def _maybe_build(self, inputs):
        if self.built:
            return
        flat = nest.flatten(inputs)
        if self._dtype is None and flat and hasattr(flat[0], "dtype"):
            self._dtype = _dtypes.as_dtype(flat[0].dtype).base_dtype.name
        input_shapes = None
        if all(hasattr(x, "shape") for x in flat):
            input_shapes = nest.map_structure(lambda x: TensorShape(x.shape), inputs)
        self.build(input_shapes)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _handle_activity_regularization(self, inputs, outputs):
        if self._activity_regularizer is None:
            return
        with _ops.name_scope("ActivityRegularizer"):
            for output in nest.flatten(outputs):
                activity_loss = self._activity_regularizer(output)
                batch_size = math_ops.cast(array_ops.shape(output)[0], activity_loss.dtype)
                self.add_loss(math_ops.truediv(activity_loss, batch_size), inputs=inputs)

    def _set_connectivity_metadata(self, inputs, outputs, args, kwargs):
        """The functional API: a call on symbolic Keras tensors (keras.Input and what layers made from them)
        is recorded as a Node, and each output remembers the layer, node and position that made it."""
        flat = nest.flatten(inputs)
        if not flat or not all(keras_history(t) is not None for t in flat):
            return
        node = Node(self, inputs, outputs, args, kwargs)
        self._inbound_nodes.append(node)
        for i, t in enumerate(nest.flatten(outputs)):
            set_keras_history(t, (self, len(self._inbound_nodes) - 1, i))

    # ---- the functional API's view of a layer: its symbolic inputs and outputs -------------------------
    def _node_attr(self, attr, what):
        if not self._inbound_nodes:
            raise AttributeError("Layer " + self.name + " is not connected, no " + what + " to return.")
        if len(self._inbound_nodes) > 1:
            raise AttributeError("Layer " + self.name + " has multiple inbound nodes, hence the notion of "
                                 "\"layer " + what + "\" is ill-defined.")
        return getattr(self._inbound_nodes[0], attr)

    input = property(lambda self: self._node_attr("inputs", "input"))
    output = property(lambda self: self._node_attr("outputs", "output"))

    @property
    def output_shape(self):
        """As Keras: a shape tuple with None for unknown dimensions (a list of them for several outputs)."""
        if not self._inbound_nodes:
            raise AttributeError("The layer has never been called and thus has no defined output shape.")
        shapes = {str(_shape_tuple(n.outputs)) for n in self._inbound_nodes}
        if len(shapes) > 1:
            raise AttributeError("The layer \"" + self.name + " has multiple inbound nodes, with different "
                                 "output shapes. Hence the notion of \"output shape\" is ill-defined for the layer.")
        return _shape_tuple(self._inbound_nodes[0].outputs)

    # ---- configuration ------------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if hasattr(self, "_batch_input_shape"):
            config["batch_input_shape"] = self._batch_input_shape
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return "<%s.%s name=%s>" % (type(self).__module__, type(self).__name__, self.name)
