"""keras.Sequential: a linear stack of layers. With an input shape (first layer's input_shape, an Input/
InputLayer, or the first data it sees) it is a functional model over symbolic tensors, so summary() shows
output shapes (Keras 2's behavior); its `call` runs the layers in order."""
from ... import _core
from ...framework import ops as _ops
from ...framework.tensor_shape import TensorShape
from ...util import nest
from .base_layer import Layer, keras_history, unique_layer_name
from .input_layer import Input, InputLayer
from .training import Model, _accepts

__all__ = ["Sequential"]


class Sequential(Model):

    def __init__(self, layers=None, name=None):
        super().__init__(name=name or unique_layer_name("sequential"))
        self._is_graph_network = False
        self._seq = []
        self._graph_input = None
        self.built = False
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return [x for x in self._seq if not isinstance(x, InputLayer)]

    def add(self, layer):
        """Appends a layer (a keras.Input tensor as first element sets the input shape)."""
        if keras_history(layer) is not None and isinstance(keras_history(layer)[0], InputLayer):
            layer = keras_history(layer)[0]
        if not isinstance(layer, Layer):
            raise TypeError("The added layer must be an instance of class Layer. Received: layer=%s of type %s."
                            % (layer, type(layer)))
        self._seq.append(layer)
        self.__dict__.setdefault("_layers", [])
        if not any(layer is x for x in self.__dict__["_layers"]):
            self.__dict__["_layers"].append(layer)
        if isinstance(layer, InputLayer):
            self._graph_input = layer._inbound_nodes[0].outputs[0]
            self._rebuild_graph()
        elif self._graph_input is not None:
            self._rebuild_graph()
        elif len(self.layers) == 1 and hasattr(layer, "_batch_input_shape"):
            self._graph_input = Input(batch_shape=layer._batch_input_shape, dtype=layer.dtype,
                                      name=layer.name + "_input")
            self._rebuild_graph()

    def pop(self):
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self._seq.pop()
        self.__dict__["_layers"] = [x for x in self.__dict__["_layers"] if x is not layer]
        if self._graph_input is not None and self.layers:
            self._rebuild_graph()

    def _rebuild_graph(self):
        x = self._graph_input
        for layer in self.layers:
            x = layer(x)
        self._nested_inputs = self._graph_input
        self._nested_outputs = x
        self.inputs = [self._graph_input]
        self.outputs = [x]
        self.input_names = [keras_history(self._graph_input)[0].name]
        self.output_names = [self.layers[-1].name] if self.layers else []
        self._network_nodes = []
        self.built = True

    def build(self, input_shape=None):
        if self._graph_input is None:
            if input_shape is None:
                raise ValueError("You must provide an `input_shape` argument.")
            self._graph_input = Input(batch_shape=tuple(TensorShape(input_shape).as_list()),
                                      name=self.layers[0].name + "_input" if self.layers else None)
            self._rebuild_graph()
        self.built = True

    def _output_names(self):
        return self.output_names if self.built else None

    def call(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self.layers:
            kwargs = {"training": training} if training is not None and _accepts(layer, "training") else {}
            x = layer(x, **kwargs)
        return x

    def __call__(self, inputs, *args, **kwargs):
        if not self.built and self.layers:
            flat = nest.flatten(inputs)
            shape = getattr(flat[0], "shape", None)
            if len(flat) == 1 and shape is not None and (_core.executing_eagerly() or keras_history(flat[0]) or getattr(
                    _ops.get_default_graph(), "_building_function", False)):
                s = TensorShape(shape).as_list()
                self.build([None] + s[1:])
        return Layer.__call__(self, inputs, *args, **kwargs)
