"""keras.Input and InputLayer: the symbolic tensors the functional API is built from.

Note [keras symbolic graph]
With eager execution on, a symbolic Keras tensor is a placeholder in one process-wide scratch graph (a
tf.function graph, so eager variables can be read there): layers called on it run in graph mode and record a
Node (base_layer.Node) per call; weights they build there are eager variables (a creator hook), so a
functional model built from symbols owns ordinary eager weights. Nothing in that graph ever runs: a
functional Model re-runs its layers on real inputs (eagerly, or inside the traced training step). In TF1
graph mode the symbols are placeholders of the default graph, as in TF 1.x Keras."""
from ... import _core
from ...eager import function as _function
from ...eager import variables as _eager_variables
from ...framework import dtypes as _dtypes
from ...framework import ops as _ops
from ...framework.tensor_shape import TensorShape
from .base_layer import Layer, Node, set_keras_history

__all__ = ["Input", "InputLayer", "keras_graph", "scratch_graph"]

_state = {"graph": None}


def keras_graph():
    """The graph symbolic Keras tensors live in: the scratch graph when eager, else the default graph."""
    if not _core.executing_eagerly() and not getattr(_ops.get_default_graph(), "_building_function", False):
        return _ops.get_default_graph()
    g = _state["graph"]
    if g is None:
        g = _state["graph"] = scratch_graph("keras_graph")
    return g


def scratch_graph(name):
    g = _function._FuncGraph(name)
    g._keras_scratch = True
    return g


def _creator_hook():
    # Weights built while layers run on symbols in a Keras scratch graph are eager variables.
    if getattr(_ops.get_default_graph(), "_keras_scratch", False):
        return _eager_variables.EagerVariable
    return None


_eager_variables.creator_hooks.insert(0, _creator_hook)


class InputLayer(Layer):
    """The layer behind keras.Input: it owns one placeholder of shape [batch_size] + input_shape."""

    def __init__(self, input_shape=None, batch_size=None, dtype=None, input_tensor=None, sparse=False, name=None,
                 ragged=False, batch_input_shape=None, **kwargs):
        if sparse or ragged:
            raise NotImplementedError("sparse and ragged Keras inputs are not supported")
        if not name:
            name = _unique_input_name()
        if batch_input_shape is None:
            if input_shape is None and input_tensor is None:
                raise ValueError("An Input layer should be passed either a `batch_input_shape` or an `input_shape`.")
            if input_shape is not None:
                batch_input_shape = (batch_size,) + tuple(input_shape)
        super().__init__(dtype=dtype, name=name)
        self.built = True
        self.is_placeholder = input_tensor is None
        if input_tensor is None:
            dtype = _dtypes.as_dtype(dtype or "float32")
            g = keras_graph()
            with g.as_default(), _ops.name_scope(None):
                input_tensor = _ops.apply1("Placeholder", [], {
                    "dtype": dtype._enum, "shape": _core.Shape(list(batch_input_shape))}, name=name)
        else:
            batch_input_shape = tuple(TensorShape(input_tensor.shape).as_list())
        self._batch_input_shape = tuple(batch_input_shape)
        self._dtype = _dtypes.as_dtype(input_tensor.dtype).name
        node = Node(self, [], [input_tensor], (), {})
        node.inputs, node.input_tensors, node.inbound = input_tensor, [], []
        node.outputs = [input_tensor]
        self._inbound_nodes.append(node)
        set_keras_history(input_tensor, (self, 0, 0))

    def get_config(self):
        return {"batch_input_shape": self._batch_input_shape, "dtype": self.dtype, "sparse": False,
                "ragged": False, "name": self.name}


_input_count = [0]


def _unique_input_name():
    # Keras numbers anonymous inputs from 1: input_1, input_2...
    _input_count[0] += 1
    return "input_%d" % _input_count[0]


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=False, tensor=None, ragged=False,
          batch_shape=None, **kwargs):  # noqa: N802 (Keras's name)
    """A symbolic tensor of shape (batch_size, *shape) to build a functional Model from (Note [keras
    symbolic graph])."""
    if "batch_input_shape" in kwargs:
        batch_shape = kwargs.pop("batch_input_shape")
    if kwargs:
        raise ValueError("Unrecognized keyword arguments: %s" % list(kwargs))
    if shape is None and batch_shape is None and tensor is None:
        raise ValueError("Please provide to Input a `shape` or a `tensor` argument. Note that `shape` does not "
                         "include the batch dimension.")
    if shape is not None and not isinstance(shape, (list, tuple)):
        shape = tuple(TensorShape(shape).as_list()) if hasattr(shape, "as_list") else (shape,)
    layer = InputLayer(input_shape=shape, batch_size=batch_size, dtype=dtype, input_tensor=tensor, name=name,
                       batch_input_shape=batch_shape)
    return layer._inbound_nodes[0].outputs[0]
