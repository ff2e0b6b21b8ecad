"""tf.layers.Layer: the Keras Layer (keras/engine/base_layer.py) with TensorFlow 1.x variable scoping.

Note [tf.layers scopes]
A tf.layers layer keeps a variable scope, captured the first time it is called (or at construction when
given `_scope`): `tf.variable_scope(name or None, default_name=<snake-case class name>)`, so unnamed layers
get "dense", "dense_1"... per enclosing scope exactly as TF1 numbers them, and a second
`tf.layers.Dense(name="fc")` object gets "fc_1". The functional forms open the named scope itself
(`_scope=name`), so a second `tf.layers.dense(x, n, name="fc")` raises TF1's "already exists" ValueError
unless `reuse=True` (or an enclosing scope's reuse / AUTO_REUSE) shares the first one's variables.
Weights come from tf.get_variable inside that scope (so `dense/kernel`,
`fc/bias`, partitioners aside, share and checkpoint as in TF1); after the first build every call re-enters
the scope with reuse=True. Ops go under the scope's first name scope, re-entered ("dense/MatMul", then
"dense/MatMul_1" for a second call of the same layer); a layer built with reuse=True in a fresh scope
puts its ops under that new name scope ("dense_1/MatMul") while sharing "dense/kernel". Regularization
losses join the REGULARIZATION_LOSSES collection and each call's updates the UPDATE_OPS collection, which
is how TF1 programs run batch norm's moving averages (`tf.control_dependencies(tf.get_collection(UPDATE_OPS))`).
"""
from ..framework import ops as _ops
from ..framework.ops import GraphKeys
from ..keras.engine import base_layer
from ..keras.engine.input_spec import InputSpec
from ..ops import variable_scope as vs
from ..util import nest

__all__ = ["Layer", "InputSpec"]


def _add_elements_to_collection(elements, collection_list):
    for name in nest.flatten(collection_list):
        collection = _ops.get_collection_ref(name)
        present = {id(e) for e in collection}
        for element in nest.flatten(elements):
            if id(element) not in present:
                collection.append(element)
                present.add(id(element))


class Layer(base_layer.Layer):
    """Base class of tf.layers: see Note [tf.layers scopes]. Arguments: trainable, name, dtype; the
    functional forms (tf.layers.dense...) also pass `_reuse` and contrib layers `_scope`."""

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        scope = kwargs.pop("_scope", None)
        self._reuse = kwargs.pop("_reuse", None)
        kwargs.pop("autocast", None)
        super().__init__(trainable=trainable, name=name, dtype=dtype, **kwargs)
        if scope:
            with vs.variable_scope(scope) as captured_scope:
                self._scope = captured_scope
        else:
            self._scope = None
        self._current_scope = None

    def _init_set_name(self, name):
        if isinstance(name, vs.VariableScope):
            base_name = name.name
            self._name = base_layer.unique_layer_name(base_layer.to_snake_case(type(self).__name__))
        else:
            base_name, self._name = name, name
        if not name:
            base_name = base_layer.to_snake_case(type(self).__name__)
            self._name = base_layer.unique_layer_name(base_name)
        self._base_name = base_name

    @property
    def scope_name(self):
        if not self._scope:
            raise ValueError('No name available for layer scope because the layer "' + self._name + '" has not been '
                             "used yet. The scope name  is determined the first time the layer instance is called. "
                             "You must therefore call the layer before querying `scope_name`.")
        return self._scope.name

    @property
    def graph(self):
        return None  # TF 1.15: layers no longer track their graph

    def _name_scope(self):
        return self._current_scope.original_name_scope

    def _set_scope(self, scope=None):
        if self._scope is None:
            if self._reuse:
                with vs.variable_scope(scope if scope is not None else self._base_name) as captured_scope:
                    self._scope = captured_scope
            else:
                with vs.variable_scope(scope, default_name=self._base_name) as captured_scope:
                    self._scope = captured_scope

    def add_loss(self, losses, inputs=None):
        new = super().add_loss(losses, inputs=inputs)
        _add_elements_to_collection(new, GraphKeys.REGULARIZATION_LOSSES)
        return new

    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None, trainable=None,
                   constraint=None, use_resource=None, synchronization=None, aggregation=None, partitioner=None,
                   **kwargs):
        """tf.get_variable(name, ...) in the layer's variable scope (reusing after the first build);
        `trainable` is ignored (False) when the layer is not trainable. The regularizer's loss is added only
        for a variable this call created."""
        for k in kwargs:
            if k != "experimental_autocast":
                raise TypeError("Unknown keyword argument:", k)
        if trainable is None:
            trainable = True
        graph = _ops.get_default_graph()
        existing = {id(v) for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES)}
        if dtype is None:
            dtype = self.dtype or "float32"
        self._set_scope(None)
        reuse = self.built or self._reuse
        with vs.variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False) as scope:
            self._current_scope = scope
            with _ops.name_scope(self._name_scope()):
                if initializer is None:
                    initializer = scope.initializer

                def getter(name, shape, dtype, initializer, trainable, constraint, partitioner=None,
                           use_resource=None, collections=None):
                    return vs.get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                                           trainable=trainable, constraint=constraint, partitioner=partitioner,
                                           use_resource=use_resource)

                variable = super().add_weight(name, shape, dtype=dtype, initializer=initializer, trainable=trainable,
                                              constraint=constraint, partitioner=partitioner, getter=getter)
                if regularizer and id(variable) not in existing:
                    self._handle_weight_regularization(name, variable, regularizer)
                if trainable and self.trainable and not _ops.executing_eagerly() and not any(
                        variable is v for v in graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)):
                    # An enclosing scope made it non-trainable (get_variable(trainable=False) in a custom getter).
                    self._trainable_weights = [w for w in self._trainable_weights if w is not variable]
                    if not any(variable is w for w in self._non_trainable_weights):
                        self._non_trainable_weights.append(variable)
        return variable

    def __call__(self, inputs, *args, **kwargs):
        """Runs the layer in its variable scope (see Note [tf.layers scopes]); `scope=` names that scope
        on the first call. The call's updates join UPDATE_OPS."""
        scope = kwargs.pop("scope", None)
        self._set_scope(scope)
        reuse = True if self.built else self._reuse
        with vs.variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False) as scope:
            self._current_scope = scope
            outputs = super().__call__(inputs, *args, **kwargs)
        _add_elements_to_collection(self.updates, GraphKeys.UPDATE_OPS)
        return outputs
