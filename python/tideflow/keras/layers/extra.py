"""Keras layers without a tf.layers twin: Activation, ReLU, Softmax, Reshape, Concatenate, Add, Embedding,
Lambda (Keras 2's arguments and defaults)."""
import numpy as np

from ...framework import dtypes as _dtypes
from ...framework import ops as _ops
from ...framework.tensor_shape import TensorShape
from ...ops import array_ops, math_ops, nn_ops
from .. import activations, initializers, regularizers, constraints
from ..engine.base_layer import Layer

__all__ = ["Activation", "ReLU", "Softmax", "Reshape", "Concatenate", "Add", "Embedding", "Lambda"]


class Activation(Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return TensorShape(input_shape)


class ReLU(Layer):
    """max(x, threshold) style ReLU: x >= threshold -> x (capped at max_value), else negative_slope * (x - threshold)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError("max_value of a ReLU layer cannot be a negative value. Received: %s" % max_value)
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be a negative value. Received: %s" % negative_slope)
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs):
        if self.max_value is None and not self.negative_slope and not self.threshold:
            return nn_ops.relu(inputs)
        x = inputs
        dt = x.dtype
        if self.threshold:
            pos = x * math_ops.cast(math_ops.greater_equal(x, math_ops.cast(self.threshold, dt)), dt)
        else:
            pos = nn_ops.relu(x)
        if self.max_value is not None:
            pos = math_ops.minimum(pos, math_ops.cast(self.max_value, dt))
        if self.negative_slope:
            neg = math_ops.cast(self.negative_slope, dt) * nn_ops.relu(math_ops.cast(self.threshold, dt) - x)
            pos = pos - neg
        return pos

    def compute_output_shape(self, input_shape):
        return TensorShape(input_shape)


class Softmax(Layer):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return nn_ops.softmax(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        return TensorShape(input_shape)


class Reshape(Layer):
    """Reshapes every example to target_shape (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def _fix(self, input_shape):
        rest = input_shape[1:]
        out = list(self.target_shape)
        if -1 in out:
            if all(d is not None for d in rest):
                known = int(np.prod([d for d in out if d != -1]))
                total = int(np.prod(rest))
                if known == 0 or total % known:
                    raise ValueError("total size of new array must be unchanged, input_shape = %s, output_shape = %s"
                                     % (rest, self.target_shape))
                out[out.index(-1)] = total // known
            else:
                out[out.index(-1)] = None
        elif all(d is not None for d in rest) and int(np.prod(rest)) != int(np.prod(out)):
            raise ValueError("total size of new array must be unchanged, input_shape = %s, output_shape = %s"
                             % (list(rest), list(self.target_shape)))
        return [input_shape[0]] + out

    def compute_output_shape(self, input_shape):
        return TensorShape(self._fix(TensorShape(input_shape).as_list()))

    def call(self, inputs):
        shape = array_ops.shape(inputs)
        target = [shape[0]] + [d for d in self.target_shape]
        out = array_ops.reshape(inputs, array_ops.stack(target))
        out.set_shape(self.compute_output_shape(inputs.shape))
        return out


class Concatenate(Layer):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return array_ops.concat(list(inputs), axis=self.axis)

    def compute_output_shape(self, input_shape):
        shapes = [TensorShape(s).as_list() for s in input_shape]
        out = list(shapes[0])
        ax = self.axis % len(out)
        out[ax] = None if any(s[ax] is None for s in shapes) else sum(s[ax] for s in shapes)
        return TensorShape(out)


class Add(Layer):
    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Embedding(Layer):
    """Maps integer ids [batch, ...] to rows of `embeddings` [input_dim, output_dim] (uniform(-0.05, 0.05))."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 activity_regularizer=None, embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        if "input_shape" not in kwargs and input_length is not None:
            kwargs["input_shape"] = (input_length,) if not isinstance(input_length, (list, tuple)) else \
                tuple(input_length)
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        if input_dim <= 0 or output_dim <= 0:
            raise ValueError("Both `input_dim` and `output_dim` should be positive, found input_dim %s and "
                             "output_dim %s" % (input_dim, output_dim))
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero, self.input_length = mask_zero, input_length

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", shape=[self.input_dim, self.output_dim],
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint, dtype="float32")
        self.built = True

    def call(self, inputs):
        if inputs.dtype not in (_dtypes.int32, _dtypes.int64):
            inputs = math_ops.cast(inputs, _dtypes.int32)
        return array_ops.gather(_ops.convert_to_tensor(self.embeddings), inputs)

    def compute_output_shape(self, input_shape):
        return TensorShape(input_shape).concatenate([self.output_dim])

    def _maybe_build(self, inputs):
        if not self.built and self._dtype is None:
            self._dtype = "float32"  # the ids' dtype is not the weights'
        super()._maybe_build(inputs)


class Lambda(Layer):
    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function, self.arguments = function, arguments or {}

    def call(self, inputs):
        return self.function(inputs, **self.arguments)
