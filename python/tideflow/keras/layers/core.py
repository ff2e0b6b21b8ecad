"""Keras's core layers: Dense, Dropout, Flatten (built as TensorFlow 1.15's Keras builds them, so op names
read the same: dense/MatMul, dense/BiasAdd, dropout/dropout/..., flatten/Reshape)."""
import numpy as np

from ...framework import dtypes as _dtypes
from ...framework import ops as _ops
from ...framework.tensor_shape import TensorShape, dimension_value as _dim
from ...ops import array_ops, linalg_ops, nn_ops
from ...ops.smart_cond import smart_cond
from .. import activations, constraints, initializers, regularizers
from ..engine.base_layer import Layer
from ..engine.input_spec import InputSpec
from ..utils import conv_utils

__all__ = ["Dense", "Dropout", "Flatten"]


def _serialize(x):
    return x.get_config() if hasattr(x, "get_config") else getattr(x, "__name__", x)


def _set_weight_options(layer, args):
    """Stores a constructor's `activation`, `use_bias` and each `<weight>_initializer`, `_regularizer` and
    `_constraint` argument (`args`: the constructor's locals()) on `layer` as the objects Keras keeps (names
    resolved by the getters); activity_regularizer goes to Layer.__init__ instead."""
    getters = {"initializer": initializers.get, "regularizer": regularizers.get, "constraint": constraints.get}
    for key, value in args.items():
        kind = key.rsplit("_", 1)[-1]
        if kind in getters and key != "activity_regularizer":
            setattr(layer, key, getters[kind](value))
    layer.activation = activations.get(args["activation"])
    layer.use_bias = args["use_bias"]


class Dense(Layer):
    """outputs = activation(inputs @ kernel + bias). Inputs of rank > 2 are multiplied along their last axis
    (a tensordot), as in Keras."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        if "input_shape" not in kwargs and "input_dim" in kwargs:
            kwargs["input_shape"] = (kwargs.pop("input_dim"),)
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        self.units = int(units)
        _set_weight_options(self, locals())
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        dtype = _dtypes.as_dtype(self.dtype or _dtypes.float32)
        if not dtype.is_floating:
            raise TypeError("Unable to build `Dense` layer with non-floating point dtype %s" % (dtype,))
        input_shape = TensorShape(input_shape)
        last_dim = _dim(input_shape[-1])
        if last_dim is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be defined. Found `None`.")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last_dim})
        self.kernel = self.add_weight("kernel", shape=[last_dim, self.units], initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      dtype=self.dtype, trainable=True)
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=[self.units], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        dtype=self.dtype, trainable=True)
        else:
            self.bias = None
        self.built = True

    def call(self, inputs):
        rank = inputs.shape.ndims
        if rank is not None and rank > 2 and not inputs.shape.is_fully_defined():
            # tensordot needs known shapes: flatten the leading dimensions into rows and restore them.
            last = _dim(inputs.shape[-1])
            outputs = linalg_ops.matmul(array_ops.reshape(inputs, [-1, last]), self.kernel)
            outputs = array_ops.reshape(outputs, array_ops.concat([array_ops.shape(inputs)[:-1], [self.units]], 0))
            outputs.set_shape(inputs.shape.as_list()[:-1] + [self.units])
        elif rank is not None and rank > 2:
            outputs = linalg_ops.tensordot(inputs, self.kernel, [[rank - 1], [0]])
            outputs.set_shape(inputs.shape.as_list()[:-1] + [self.units])
        else:
            outputs = linalg_ops.matmul(inputs, self.kernel)
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias)
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        input_shape = TensorShape(input_shape)
        if input_shape.ndims is not None and input_shape.ndims < 2:
            raise ValueError("Shape %s must have rank at least 2" % input_shape)
        if _dim(input_shape[-1]) is None:
            raise ValueError("The innermost dimension of input_shape must be defined, but saw: %s" % input_shape)
        return input_shape[:-1].concatenate([self.units])

    def get_config(self):
        config = {"units": self.units, "activation": _serialize(self.activation), "use_bias": self.use_bias,
                  "kernel_initializer": _serialize(self.kernel_initializer),
                  "bias_initializer": _serialize(self.bias_initializer),
                  "kernel_regularizer": _serialize(self.kernel_regularizer),
                  "bias_regularizer": _serialize(self.bias_regularizer),
                  "activity_regularizer": _serialize(self.activity_regularizer),
                  "kernel_constraint": _serialize(self.kernel_constraint),
                  "bias_constraint": _serialize(self.bias_constraint)}
        return {**super().get_config(), **config}


class Dropout(Layer):
    """Zeroes a fraction `rate` of the inputs (scaling the rest by 1 / (1 - rate)) when `training`, else
    passes them through (an Identity). `training` may be a Python bool or a boolean tensor (a tf.cond)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True

    def _get_noise_shape(self, inputs):
        if self.noise_shape is None:
            return None
        concrete = array_ops.shape(inputs)
        return _ops.convert_to_tensor([concrete[i] if v is None else v for i, v in enumerate(self.noise_shape)]) \
            if any(v is None for v in self.noise_shape) else list(self.noise_shape)

    def call(self, inputs, training=None):
        if training is None:
            training = False  # Keras's learning phase (issue 13) defaults to inference

        def dropped_inputs():
            return nn_ops.dropout(inputs, noise_shape=self._get_noise_shape(inputs), seed=self.seed, rate=self.rate)

        return smart_cond(training, dropped_inputs, lambda: array_ops.identity(inputs))

    def compute_output_shape(self, input_shape):
        return TensorShape(input_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


class Flatten(Layer):
    """Reshapes [batch, d1, d2, ...] to [batch, d1 * d2 * ...] (channels moved last first for channels_first,
    so the order matches channels_last models)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        ndim = inputs.shape.ndims
        if self.data_format == "channels_first" and ndim is not None and ndim > 1:
            inputs = array_ops.transpose(inputs, [0] + list(range(2, ndim)) + [1])
        if ndim == 1:
            return array_ops.expand_dims(inputs, 1)
        rest = inputs.shape[1:]
        if rest.is_fully_defined():
            flat = int(np.prod(rest.as_list(), dtype=np.int64))
            shape_dtype = _dtypes.int64 if flat > np.iinfo(np.int32).max else _dtypes.int32
            outputs = array_ops.reshape(inputs, _ops.convert_to_tensor((-1, flat), dtype=shape_dtype))
        else:
            batch = _dim(inputs.shape[0])
            outputs = array_ops.reshape(inputs, (batch, -1) if batch else
                                        array_ops.stack([array_ops.shape(inputs)[0], -1]))
        outputs.set_shape(self.compute_output_shape(inputs.shape))
        return outputs

    def compute_output_shape(self, input_shape):
        input_shape = TensorShape(input_shape).as_list()
        if not input_shape:
            return TensorShape([1])
        output_shape = [input_shape[0]]
        rest = input_shape[1:]
        output_shape.append(int(np.prod(rest)) if rest and all(d is not None for d in rest) else
                            (None if rest else 1))
        return TensorShape(output_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
