"""tf.layers convolutions: Conv1D, Conv2D, Conv3D, Conv2DTranspose, SeparableConv2D and their functional
forms (variables `conv2d/kernel`, `conv2d/bias`...; padding "valid" by default, as in TF 1.15)."""
from ..keras.layers import convolutional as keras_conv
from ..ops import init_ops
from . import base

__all__ = ["Conv1D", "conv1d", "Conv2D", "conv2d", "Conv3D", "conv3d", "Conv2DTranspose", "conv2d_transpose",
           "SeparableConv2D", "separable_conv2d", "Convolution1D", "Convolution2D", "Convolution3D",
           "Convolution2DTranspose", "Deconvolution2D", "SeparableConvolution2D", "convolution1d",
           "convolution2d", "convolution3d", "convolution2d_transpose"]

_ZEROS = init_ops.zeros_initializer()


def _conv_args(filters, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
               kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer, activity_regularizer,
               kernel_constraint, bias_constraint, trainable, name):
    return dict(filters=filters, kernel_size=kernel_size, strides=strides, padding=padding, data_format=data_format,
                dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                bias_constraint=bias_constraint, trainable=trainable, name=name)


def _tf_conv_class(keras_cls, rank):
    ones = (1,) * rank

    def __init__(self, filters, kernel_size, strides=ones if rank > 1 else 1, padding="valid",
                 data_format="channels_last", dilation_rate=ones if rank > 1 else 1, activation=None, use_bias=True,
                 kernel_initializer=None, bias_initializer=_ZEROS, kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        keras_cls.__init__(self, **_conv_args(filters, kernel_size, strides, padding, data_format, dilation_rate,
                                              activation, use_bias, kernel_initializer, bias_initializer,
                                              kernel_regularizer, bias_regularizer, activity_regularizer,
                                              kernel_constraint, bias_constraint, trainable, name), **kwargs)
    doc = "%d-D convolution layer: activation(conv%dd(inputs, kernel) + bias)." % (rank, rank)
    return type(keras_cls.__name__, (keras_cls, base.Layer), {"__init__": __init__, "__doc__": doc,
                                                             "__module__": __name__})


Conv1D = _tf_conv_class(keras_conv.Conv1D, 1)
Conv2D = _tf_conv_class(keras_conv.Conv2D, 2)
Conv3D = _tf_conv_class(keras_conv.Conv3D, 3)


def _functional(cls):
    def conv(inputs, filters, kernel_size, strides=cls.__init__.__defaults__[0], padding="valid",
             data_format="channels_last", dilation_rate=cls.__init__.__defaults__[3], activation=None, use_bias=True,
             kernel_initializer=None, bias_initializer=_ZEROS, kernel_regularizer=None, bias_regularizer=None,
             activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
             reuse=None):
        layer = cls(**_conv_args(filters, kernel_size, strides, padding, data_format, dilation_rate, activation,
                                 use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                                 activity_regularizer, kernel_constraint, bias_constraint, trainable, name),
                    _reuse=reuse, _scope=name)
        return layer.apply(inputs)
    conv.__name__ = conv.__qualname__ = cls.__name__.lower()
    conv.__doc__ = "Functional interface for the %s layer (`reuse=True` shares the variables of the layer of " \
                   "the same name)." % cls.__name__
    return conv


conv1d = _functional(Conv1D)
conv2d = _functional(Conv2D)
conv3d = _functional(Conv3D)


class Conv2DTranspose(keras_conv.Conv2DTranspose, base.Layer):
    """Transposed 2-D convolution ("deconvolution"): kernel [kh, kw, filters, in_channels]."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                 activation=None, use_bias=True, kernel_initializer=None, bias_initializer=_ZEROS,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable,
                         name=name, **kwargs)


def conv2d_transpose(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                     activation=None, use_bias=True, kernel_initializer=None, bias_initializer=_ZEROS,
                     kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                     bias_constraint=None, trainable=True, name=None, reuse=None):
    """Functional interface for transposed 2-D convolution."""
    layer = Conv2DTranspose(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                            activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable,
                            name=name, _reuse=reuse, _scope=name)
    return layer.apply(inputs)


class SeparableConv2D(keras_conv.SeparableConv2D, base.Layer):
    """Depthwise then pointwise 2-D convolution: variables depthwise_kernel, pointwise_kernel, bias."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer=None,
                 pointwise_initializer=None, bias_initializer=_ZEROS, depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, depth_multiplier=depth_multiplier, activation=activation,
                         use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         pointwise_initializer=pointwise_initializer, bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer, pointwise_regularizer=pointwise_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint, pointwise_constraint=pointwise_constraint,
                         bias_constraint=bias_constraint, trainable=trainable, name=name, **kwargs)


def separable_conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                     dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                     depthwise_initializer=None, pointwise_initializer=None, bias_initializer=_ZEROS,
                     depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                     activity_regularizer=None, depthwise_constraint=None, pointwise_constraint=None,
                     bias_constraint=None, trainable=True, name=None, reuse=None):
    """Functional interface for the depthwise separable 2-D convolution layer."""
    layer = SeparableConv2D(filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
                            data_format=data_format, dilation_rate=dilation_rate, depth_multiplier=depth_multiplier,
                            activation=activation, use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                            pointwise_initializer=pointwise_initializer, bias_initializer=bias_initializer,
                            depthwise_regularizer=depthwise_regularizer, pointwise_regularizer=pointwise_regularizer,
                            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                            depthwise_constraint=depthwise_constraint, pointwise_constraint=pointwise_constraint,
                            bias_constraint=bias_constraint, trainable=trainable, name=name, _reuse=reuse,
                            _scope=name)
    return layer.apply(inputs)


# TF 1.x aliases
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution2DTranspose = Deconvolution2D = Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
convolution1d, convolution2d, convolution3d = conv1d, conv2d, conv3d
convolution2d_transpose = deconvolution2d = conv2d_transpose
