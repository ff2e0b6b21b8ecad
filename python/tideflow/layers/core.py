"""tf.layers core: Dense, Dropout, Flatten and their functional forms (TensorFlow 1.15's signatures and
defaults: kernel_initializer None means tf.get_variable's default, glorot_uniform; biases start at zero)."""
from ..keras.layers import core as keras_core
from ..ops import init_ops
from . import base

__all__ = ["Dense", "dense", "Dropout", "dropout", "Flatten", "flatten"]


class Dense(keras_core.Dense, base.Layer):
    """Densely-connected layer: activation(inputs @ kernel + bias); variables `<scope>/kernel` [in, units]
    and `<scope>/bias` [units]."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(units=units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable,
                         name=name, **kwargs)


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
          reuse=None):
    """Functional interface for the densely-connected layer (`reuse=True` shares the variables of the layer
    of the same name)."""
    layer = Dense(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                  bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                  bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable,
                  name=name, _scope=name, _reuse=reuse)
    return layer.apply(inputs)


class Dropout(keras_core.Dropout, base.Layer):
    """Dropout: zeroes a fraction `rate` of the inputs when called with training=True (a bool or tensor)."""

    def __init__(self, rate=0.5, noise_shape=None, seed=None, name=None, **kwargs):
        super().__init__(rate=rate, noise_shape=noise_shape, seed=seed, name=name, **kwargs)

    def call(self, inputs, training=False):
        return super().call(inputs, training=training)


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """Functional interface for dropout: identity unless `training` (note: `rate` is the fraction dropped,
    unlike tf.nn.dropout's keep_prob)."""
    layer = Dropout(rate, noise_shape=noise_shape, seed=seed, name=name)
    return layer.apply(inputs, training=training)


class Flatten(keras_core.Flatten, base.Layer):
    """Flattens all but the batch dimension."""


def flatten(inputs, name=None, data_format="channels_last"):
    """[batch, ...] -> [batch, prod(...)]."""
    layer = Flatten(name=name, data_format=data_format)
    return layer.apply(inputs)
