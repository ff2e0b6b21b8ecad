"""Keras's convolution layers: Conv1D, Conv2D, Conv3D, Conv2DTranspose, SeparableConv2D. Kernels are
[*kernel_size, in_channels, filters] ([*kernel_size, filters, in_channels] for the transpose), built as
TensorFlow 1.15's Keras builds them (conv2d/Conv2D, conv2d/BiasAdd...)."""
from ...framework.tensor_shape import TensorShape, dimension_value as _dim
from ...ops import array_ops, conv_ops, nn_ops
from .. import constraints, initializers, regularizers
from ..engine.base_layer import Layer
from ..engine.input_spec import InputSpec
from ..utils import conv_utils
from .core import _serialize, _set_weight_options

__all__ = ["Conv", "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "SeparableConv2D"]


class Conv(Layer):
    """An N-D convolution layer (N = rank): outputs = activation(conv(inputs, kernel) + bias)."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, activity_regularizer=regularizers.get(activity_regularizer),
                         **kwargs)
        self.rank = rank
        self.filters = None if filters is None else int(filters)
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, rank, "strides")
        self.padding = conv_utils.normalize_padding(padding)
        if self.padding == "causal" and not isinstance(self, Conv1D):
            raise ValueError("Causal padding is only supported for `Conv1D` and ``SeparableConv1D`.")
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, rank, "dilation_rate")
        _set_weight_options(self, locals())
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def _input_channels(self, input_shape):
        dim = _dim(TensorShape(input_shape)[self._channel_axis()])
        if dim is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
        return int(dim)

    def build(self, input_shape):
        input_dim = self._input_channels(input_shape)
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (input_dim, self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, trainable=True, dtype=self.dtype)
        self._add_bias()
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis(): input_dim})
        self.built = True

    def _add_bias(self):
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        trainable=True, dtype=self.dtype)
        else:
            self.bias = None

    def _tf_data_format(self):
        return conv_utils.convert_data_format(self.data_format, self.rank + 2)

    def _convolve(self, inputs):
        padding = "VALID" if self.padding == "causal" else self.padding.upper()
        df = self._tf_data_format()
        if self.rank == 1:
            if self.padding == "causal":  # pad the past only, so output t sees inputs up to t
                left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
                pad = [[0, 0], [left, 0], [0, 0]] if df == "NWC" else [[0, 0], [0, 0], [left, 0]]
                inputs = array_ops.pad(inputs, pad)
            return conv_ops.conv1d(inputs, self.kernel, stride=self.strides[0], padding=padding, data_format=df,
                                   dilations=self.dilation_rate[0])
        conv = conv_ops.conv2d if self.rank == 2 else conv_ops.conv3d
        return conv(inputs, self.kernel, strides=self._full(self.strides), padding=padding, data_format=df,
                    dilations=self._full(self.dilation_rate))

    def _full(self, values):
        """Spatial values with the batch and channel dims' 1s, as the N-D ops take them."""
        return [1, 1] + list(values) if self.data_format == "channels_first" else [1] + list(values) + [1]

    def _finish(self, outputs):
        if self.use_bias:
            if self.data_format == "channels_first" and self.rank == 1:
                outputs += array_ops.reshape(self.bias, (1, self.filters, 1))  # BiasAdd needs rank >= 2 spatial
            else:
                outputs = nn_ops.bias_add(outputs, self.bias,
                                          data_format="NCHW" if self.data_format == "channels_first" else "NHWC")
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def call(self, inputs):
        return self._finish(self._convolve(inputs))

    def compute_output_shape(self, input_shape):
        shape = TensorShape(input_shape).as_list()
        first = self.data_format == "channels_first"
        space = shape[2:] if first else shape[1:-1]
        new_space = [conv_utils.conv_output_length(d, self.kernel_size[i], self.padding, self.strides[i],
                                                   self.dilation_rate[i]) for i, d in enumerate(space)]
        return TensorShape([shape[0], self.filters] + new_space if first else [shape[0]] + new_space + [self.filters])

    def get_config(self):
        config = {"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                  "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                  "activation": _serialize(self.activation), "use_bias": self.use_bias,
                  "kernel_initializer": _serialize(self.kernel_initializer),
                  "bias_initializer": _serialize(self.bias_initializer),
                  "kernel_regularizer": _serialize(self.kernel_regularizer),
                  "bias_regularizer": _serialize(self.bias_regularizer),
                  "activity_regularizer": _serialize(self.activity_regularizer),
                  "kernel_constraint": _serialize(self.kernel_constraint),
                  "bias_constraint": _serialize(self.bias_constraint)}
        return {**super().get_config(), **config}


def _conv_class(rank, name):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        Conv.__init__(self, rank, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                      dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                      kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                      kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                      activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                      bias_constraint=bias_constraint, **kwargs)
    return type(name, (Conv,), {"__init__": __init__, "__doc__": "A %d-D convolution layer." % rank,
                                "__module__": __name__})


Conv1D = _conv_class(1, "Conv1D")
Conv2D = _conv_class(2, "Conv2D")
Conv3D = _conv_class(3, "Conv3D")


class Conv2DTranspose(Conv2D):
    """The transpose of Conv2D (a Conv2DBackpropInput node): kernel [kh, kw, filters, in_channels]; the
    output size is in * stride (+ max(kernel - stride, 0) for "valid"), or exact with output_padding."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, **kwargs)
        self.output_padding = output_padding
        if output_padding is not None:
            self.output_padding = conv_utils.normalize_tuple(output_padding, 2, "output_padding")
            for stride, out_pad in zip(self.strides, self.output_padding):
                if out_pad >= stride:
                    raise ValueError("Stride " + str(self.strides) + " must be greater than output padding "
                                     + str(self.output_padding))

    def build(self, input_shape):
        input_shape = TensorShape(input_shape)
        if input_shape.ndims != 4:
            raise ValueError("Inputs should have rank 4. Received input shape: " + str(input_shape))
        input_dim = self._input_channels(input_shape)
        self.input_spec = InputSpec(ndim=4, axes={self._channel_axis(): input_dim})
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (self.filters, input_dim),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, trainable=True, dtype=self.dtype)
        self._add_bias()
        self.built = True

    def _out_size(self, size, i):
        pad = None if self.output_padding is None else self.output_padding[i]
        return conv_utils.deconv_output_length(size, self.kernel_size[i], padding=self.padding, output_padding=pad,
                                               stride=self.strides[i], dilation=self.dilation_rate[i])

    def call(self, inputs):
        shape = array_ops.shape(inputs)
        h_axis, w_axis = (2, 3) if self.data_format == "channels_first" else (1, 2)
        static = inputs.shape.as_list()
        height = static[h_axis] if static[h_axis] is not None else shape[h_axis]
        width = static[w_axis] if static[w_axis] is not None else shape[w_axis]
        out_h, out_w = self._out_size(height, 0), self._out_size(width, 1)
        dims = (shape[0], self.filters, out_h, out_w) if self.data_format == "channels_first" else \
            (shape[0], out_h, out_w, self.filters)
        outputs = conv_ops.conv2d_transpose(inputs, self.kernel, array_ops.stack(list(dims)),
                                            strides=list(self.strides), padding=self.padding.upper(),
                                            data_format=self._tf_data_format(), dilations=list(self.dilation_rate))
        outputs.set_shape(self.compute_output_shape(inputs.shape))
        return self._finish(outputs)

    def compute_output_shape(self, input_shape):
        shape = TensorShape(input_shape).as_list()
        c, h, w = (1, 2, 3) if self.data_format == "channels_first" else (3, 1, 2)
        shape[c] = self.filters
        shape[h] = self._out_size(shape[h], 0)
        shape[w] = self._out_size(shape[w], 1)
        return TensorShape(shape)

    def get_config(self):
        return {**super().get_config(), "output_padding": self.output_padding}


class SeparableConv2D(Conv2D):
    """A depthwise convolution (depth_multiplier outputs per input channel) followed by a 1x1 pointwise one:
    weights depthwise_kernel [kh, kw, in, depth_multiplier], pointwise_kernel [1, 1, in * dm, filters]."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        input_dim = self._input_channels(input_shape)
        self.input_spec = InputSpec(ndim=4, axes={self._channel_axis(): input_dim})
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel", shape=self.kernel_size + (input_dim, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint, trainable=True, dtype=self.dtype)
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel", shape=(1, 1, self.depth_multiplier * input_dim, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint, trainable=True, dtype=self.dtype)
        self._add_bias()
        self.built = True

    def call(self, inputs):
        first = self.data_format == "channels_first"
        strides = (1, 1) + self.strides if first else (1,) + self.strides + (1,)
        outputs = conv_ops.separable_conv2d(inputs, self.depthwise_kernel, self.pointwise_kernel,
                                            strides=list(strides), padding=self.padding.upper(),
                                            rate=list(self.dilation_rate), data_format=self._tf_data_format())
        return self._finish(outputs)

    def get_config(self):
        config = {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                  "depthwise_initializer": _serialize(self.depthwise_initializer),
                  "pointwise_initializer": _serialize(self.pointwise_initializer),
                  "depthwise_regularizer": _serialize(self.depthwise_regularizer),
                  "pointwise_regularizer": _serialize(self.pointwise_regularizer),
                  "depthwise_constraint": _serialize(self.depthwise_constraint),
                  "pointwise_constraint": _serialize(self.pointwise_constraint)}
        for k in ("kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(k)
        return config
