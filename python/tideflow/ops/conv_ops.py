"""tf.nn convolutions and pooling (cpp/ops/conv.cc, conv_depthwise.cc, pooling.cc), with TensorFlow 1.x's
signatures, defaults, name scopes and op types: tf.nn.conv2d builds one Conv2D node, its gradient builds
Conv2DBackpropInput and Conv2DBackpropFilter, and so on. Attributes are checked by the ops' shape
functions, so a bad stride or padding raises ValueError at the line that built the node.

Differences from TensorFlow 1.15, on purpose: dilated convolutions (atrous_conv2d, convolution and
depthwise_conv2d with a rate) pass the dilation to the op instead of wrapping it in SpaceToBatchND /
BatchToSpaceND (same numbers, fewer nodes), and NCHW works on the CPU."""
import numbers

import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.tensor_shape import dimension_value as _dimension_value
from . import array_ops

__all__ = ["conv1d", "conv2d", "conv2d_backprop_input", "conv2d_backprop_filter", "conv2d_transpose",
           "conv3d", "conv3d_transpose", "conv3d_backprop_input_v2", "conv3d_backprop_filter_v2",
           "depthwise_conv2d", "depthwise_conv2d_native", "depthwise_conv2d_native_backprop_input",
           "depthwise_conv2d_native_backprop_filter", "depthwise_conv2d_backprop_input",
           "depthwise_conv2d_backprop_filter", "separable_conv2d", "atrous_conv2d", "convolution",
           "max_pool", "avg_pool", "max_pool1d", "avg_pool1d", "max_pool2d", "avg_pool2d", "max_pool3d",
           "avg_pool3d", "max_pool_with_argmax", "pool", "max_pool_v2", "avg_pool_v2"]


def _get_sequence(value, n, channel_index, name):
    """TF's attribute expansion: None, an int or n spatial values become n + 2 values with 1 for the batch
    and channel dims; n + 2 values pass as they are."""
    if value is None:
        return [1] * (n + 2)
    if isinstance(value, (numbers.Integral, np.integer)):
        value = [value]
    value = [int(v) for v in value]
    if len(value) == n + 2:
        return value
    if len(value) == 1:
        value = value * n
    elif len(value) != n:
        raise ValueError("%s should be of length 1, %d or %d. Received: %s=%s of length %d"
                         % (name, n, n + 2, name, value, len(value)))
    return [1, 1] + value if channel_index == 1 else [1] + value + [1]


def _ints(values, name):
    try:
        return [int(v) for v in values]
    except TypeError:
        raise TypeError("Expected list for '%s' argument, not %r." % (name, values)) from None


def convert_padding(padding, expected_length=4):
    """(padding, explicit_paddings): a string passes through; a list of [before, after] pairs, one per
    dimension, becomes "EXPLICIT" and the flattened pairs."""
    if isinstance(padding, bytes):
        padding = padding.decode()
    if padding == "EXPLICIT":
        raise ValueError("'EXPLICIT' is not a valid value for `padding`. To use explicit padding, `padding` "
                         "must be a list.")
    explicit = []
    if isinstance(padding, (list, tuple)):
        for i, pair in enumerate(padding):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise ValueError("When `padding` is a list, each element of `padding` must be a list/tuple of "
                                 "size 2. Received: padding=%s with element at index %d of %r"
                                 % (padding, i, pair))
            explicit.extend(int(p) for p in pair)
        if len(padding) != expected_length:
            raise ValueError("When padding is a list, it must be of size %d. Received: padding=%s of size %d"
                             % (expected_length, padding, len(padding)))
        padding = "EXPLICIT"
    elif not isinstance(padding, str):
        raise TypeError("Expected string for argument 'padding' not %r." % (padding,))
    return padding, explicit


def _lookup(new_name, new_value, old_name, old_value):
    if new_value is not None and old_value is not None:
        raise ValueError("Cannot specify both '%s' and '%s'" % (old_name, new_name))
    return new_value if new_value is not None else old_value


def _conv_attrs(strides, padding, explicit, data_format, dilations):
    return {"strides": strides, "padding": padding, "explicit_paddings": explicit, "data_format": data_format,
            "dilations": dilations, "use_cudnn_on_gpu": True}


def _compatible(a, b):
    return a is None or b is None or a == b


def _sizes(value, name):
    if _ops.is_tensor(value):
        return value
    return _ops.convert_to_tensor(np.asarray(_ints(value, name), dtype=np.int32), name=name)


# ---- 2-D convolutions ----------------------------------------------------------------------------------

def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,  # noqa: A002
           data_format="NHWC", dilations=(1, 1, 1, 1), name=None, filters=None):
    """Conv2D: input [batch, in_height, in_width, in_channels] (NHWC, or NCHW) convolved with a filter
    [filter_height, filter_width, in_channels, out_channels]. `padding` is "SAME", "VALID" or a list of
    [before, after] pairs for the four dims."""
    filter = _lookup("filters", filters, "filter", filter)  # noqa: A001
    padding, explicit = convert_padding(padding)
    data_format = data_format or "NHWC"
    ci = 1 if data_format.startswith("NC") else 3
    attrs = _conv_attrs(_get_sequence(strides, 2, ci, "strides"), padding, explicit, data_format,
                        _get_sequence(dilations, 2, ci, "dilations"))
    return _ops.apply1("Conv2D", [_ops.convert_to_tensor(input, name="input"), _tensor_like(filter, input)], attrs,
                       name=name or "Conv2D")


def _tensor_like(value, like, name=None):
    """`value` as a tensor of `like`'s dtype when it is not a tensor yet (filters given as arrays)."""
    if _ops.is_tensor(value):
        return _ops.convert_to_tensor(value)
    dtype = like.dtype if _ops.is_tensor(like) else None
    return _ops.convert_to_tensor(value, dtype=dtype, name=name)


def conv2d_backprop_input(input_sizes, filter=None, out_backprop=None, strides=None, padding=None,  # noqa: A002
                          use_cudnn_on_gpu=True, data_format="NHWC", dilations=(1, 1, 1, 1), name=None,
                          filters=None):
    """The gradient of conv2d with respect to its input, of shape `input_sizes` (a 4-vector)."""
    filter = _lookup("filters", filters, "filter", filter)  # noqa: A001
    padding, explicit = convert_padding(padding)
    attrs = _conv_attrs(_ints(strides, "strides"), padding, explicit, data_format, _ints(dilations, "dilations"))
    return _ops.apply1("Conv2DBackpropInput", [_sizes(input_sizes, "input_sizes"), filter, out_backprop], attrs,
                       name=name or "Conv2DBackpropInput")


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                           use_cudnn_on_gpu=True, data_format="NHWC", dilations=(1, 1, 1, 1), name=None):
    """The gradient of conv2d with respect to its filter, of shape `filter_sizes` (a 4-vector)."""
    padding, explicit = convert_padding(padding)
    attrs = _conv_attrs(_ints(strides, "strides"), padding, explicit, data_format, _ints(dilations, "dilations"))
    return _ops.apply1("Conv2DBackpropFilter", [input, _sizes(filter_sizes, "filter_sizes"), out_backprop], attrs,
                       name=name or "Conv2DBackpropFilter")


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None, padding="SAME",  # noqa: A002
                     data_format="NHWC", name=None, input=None, filters=None, dilations=None):  # noqa: A002
    """The transpose (gradient) of conv2d: a Conv2DBackpropInput node producing `output_shape`; `filter` is
    [height, width, output_channels, in_channels]."""
    value = _lookup("input", input, "value", value)
    filter = _lookup("filters", filters, "filter", filter)  # noqa: A001
    with _ops.name_scope(name, "conv2d_transpose", [value, filter, output_shape]) as name:
        value = _ops.convert_to_tensor(value, name="value")
        filter = _tensor_like(filter, value, "filter")  # noqa: A001
        data_format = data_format or "NHWC"
        ci = 1 if data_format.startswith("NC") else 3
        if data_format not in ("NCHW", "NHWC"):
            raise ValueError("data_format has to be either NCHW or NHWC.")
        if filter.shape.ndims == 4 and value.shape.ndims == 4:
            if not _compatible(_dimension_value(value.shape[ci]), _dimension_value(filter.shape[3])):
                raise ValueError("input channels does not match filter's input channels, {} != {}"
                                 .format(value.shape[ci], filter.shape[3]))
        output_shape_ = _sizes(output_shape, "output_shape")
        if not _ops.is_tensor(output_shape):
            if len(output_shape) != 4:
                raise ValueError("output_shape must have shape (4,), got (%d,)" % len(output_shape))
            if filter.shape.ndims == 4 and not _compatible(_dimension_value(filter.shape[2]), int(output_shape[ci])):
                raise ValueError("output_shape does not match filter's output channels, {} != {}"
                                 .format(output_shape[ci], filter.shape[2]))
        padding, explicit = convert_padding(padding)
        attrs = _conv_attrs(_get_sequence(strides, 2, ci, "strides"), padding, explicit, data_format,
                            _get_sequence(dilations, 2, ci, "dilations"))
        return _ops.apply1("Conv2DBackpropInput", [output_shape_, filter, value], attrs, name=name)


def conv1d(value=None, filters=None, stride=None, padding=None, use_cudnn_on_gpu=None, data_format=None,
           name=None, input=None, dilations=None):  # noqa: A002
    """A 1-D convolution as TensorFlow builds it: expand_dims, Conv2D with a 1-row filter, squeeze.
    `value` is [batch, in_width, in_channels] (NWC) or NCW; `filters` [filter_width, in_channels,
    out_channels]."""
    value = _lookup("input", input, "value", value)
    with _ops.name_scope(name, "conv1d", [value, filters]) as name:
        if data_format in (None, "NHWC", "NWC"):
            data_format, spatial_start, ci = "NHWC", -3, 2
        elif data_format in ("NCHW", "NCW"):
            data_format, spatial_start, ci = "NCHW", -2, 1
        else:
            raise ValueError("`data_format` must be 'NWC' or 'NCW'. Received: data_format=%s" % data_format)
        strides = [1] + _get_sequence(stride, 1, ci, "stride")
        dil = [1] + _get_sequence(dilations, 1, ci, "dilations")
        value = array_ops.expand_dims(_ops.convert_to_tensor(value, name="value"), spatial_start)
        filters = array_ops.expand_dims(_tensor_like(filters, value, "filters"), 0)
        padding, explicit = convert_padding(padding, 3)
        if explicit:  # one pair per dim of the 1-D input; the new height dim gets none
            explicit = explicit[:2 * (spatial_start + 4)] + [0, 0] + explicit[2 * (spatial_start + 4):]
        result = _ops.apply1("Conv2D", [value, filters], _conv_attrs(strides, padding, explicit, data_format, dil),
                             name=name)
        return array_ops.squeeze(result, [spatial_start])


# ---- 3-D convolutions ----------------------------------------------------------------------------------

def conv3d(input, filter=None, strides=None, padding=None, data_format="NDHWC",  # noqa: A002
           dilations=(1, 1, 1, 1, 1), name=None, filters=None):
    """Conv3D: input [batch, depth, height, width, channels] (or NCDHW), filter [d, h, w, in, out];
    strides and dilations have 5 entries."""
    filter = _lookup("filters", filters, "filter", filter)  # noqa: A001
    attrs = {"strides": _ints(strides, "strides"), "padding": convert_padding(padding)[0],
             "data_format": data_format or "NDHWC", "dilations": _ints(dilations, "dilations")}
    return _ops.apply1("Conv3D", [_ops.convert_to_tensor(input, name="input"), _tensor_like(filter, input)], attrs,
                       name=name or "Conv3D")


def conv3d_backprop_input_v2(input_sizes, filter, out_backprop, strides, padding,  # noqa: A002
                             data_format="NDHWC", dilations=(1, 1, 1, 1, 1), name=None):
    """The gradient of conv3d with respect to its input (Conv3DBackpropInputV2).

    Args:
      input_sizes: an int32 tensor of 5 values, the shape of conv3d's input.
      filter: [depth, height, width, in_channels, out_channels].
      out_backprop: the gradient of conv3d's output, shaped like that output.
      strides, dilations: lists of 5 ints (batch and channel entries 1).
      padding: "VALID" or "SAME".
      data_format: "NDHWC" or "NCDHW".
      name: a name for the operation.

    Returns:
      A tensor shaped `input_sizes`, of filter's dtype.

    Raises:
      ValueError: attribute lists of the wrong length or shapes that do not fit (at graph-build time when
        known, InvalidArgumentError at run time otherwise).
    """
    attrs = {"strides": _ints(strides, "strides"), "padding": padding, "data_format": data_format,
             "dilations": _ints(dilations, "dilations")}
    return _ops.apply1("Conv3DBackpropInputV2", [_sizes(input_sizes, "input_sizes"), filter, out_backprop],
                       attrs, name=name or "Conv3DBackpropInputV2")


def conv3d_backprop_filter_v2(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                              data_format="NDHWC", dilations=(1, 1, 1, 1, 1), name=None):
    """The gradient of conv3d with respect to its filter (Conv3DBackpropFilterV2).

    Args:
      input: conv3d's input, [batch, depth, height, width, in_channels].
      filter_sizes: an int32 tensor of 5 values, the shape of conv3d's filter.
      out_backprop: the gradient of conv3d's output, shaped like that output.
      strides, dilations: lists of 5 ints (batch and channel entries 1).
      padding: "VALID" or "SAME".
      data_format: "NDHWC" or "NCDHW".
      name: a name for the operation.

    Returns:
      A tensor shaped `filter_sizes`, of input's dtype.

    Raises:
      ValueError: attribute lists of the wrong length or shapes that do not fit (at graph-build time when
        known, InvalidArgumentError at run time otherwise).
    """
    attrs = {"strides": _ints(strides, "strides"), "padding": padding, "data_format": data_format,
             "dilations": _ints(dilations, "dilations")}
    return _ops.apply1("Conv3DBackpropFilterV2", [input, _sizes(filter_sizes, "filter_sizes"), out_backprop],
                       attrs, name=name or "Conv3DBackpropFilterV2")


def conv3d_transpose(value, filter=None, output_shape=None, strides=None, padding="SAME",  # noqa: A002
                     data_format="NDHWC", name=None, input=None, filters=None, dilations=None):  # noqa: A002
    """The transpose of conv3d: a Conv3DBackpropInputV2 node producing `output_shape`."""
    value = _lookup("input", input, "value", value)
    filter = _lookup("filters", filters, "filter", filter)  # noqa: A001
    with _ops.name_scope(name, "conv3d_transpose", [value, filter, output_shape]) as name:
        value = _ops.convert_to_tensor(value, name="value")
        filter = _tensor_like(filter, value, "filter")  # noqa: A001
        data_format = data_format or "NDHWC"
        ci = 1 if data_format.startswith("NC") else 4
        attrs = {"strides": _get_sequence(strides, 3, ci, "strides"), "padding": convert_padding(padding)[0],
                 "data_format": data_format, "dilations": _get_sequence(dilations, 3, ci, "dilations")}
        return _ops.apply1("Conv3DBackpropInputV2", [_sizes(output_shape, "output_shape"), filter, value], attrs,
                           name=name)


# ---- depthwise and separable ---------------------------------------------------------------------------

def depthwise_conv2d_native(input, filter, strides, padding, data_format="NHWC",  # noqa: A002
                            dilations=(1, 1, 1, 1), name=None):
    """DepthwiseConv2dNative: each input channel c convolved with filter[:, :, c, :] (channel multiplier
    M), giving in_channels * M channels ordered c * M + m."""
    padding, explicit = convert_padding(padding)
    attrs = {"strides": _ints(strides, "strides"), "padding": padding, "explicit_paddings": explicit,
             "data_format": data_format or "NHWC", "dilations": _ints(dilations, "dilations")}
    return _ops.apply1("DepthwiseConv2dNative", [input, _tensor_like(filter, input)], attrs,
                       name=name or "DepthwiseConv2dNative")


def depthwise_conv2d_native_backprop_input(input_sizes, filter, out_backprop, strides, padding,  # noqa: A002
                                           data_format="NHWC", dilations=(1, 1, 1, 1), name=None):
    """The gradient of depthwise_conv2d_native with respect to its input (DepthwiseConv2dNativeBackpropInput;
    also tf.nn.depthwise_conv2d_backprop_input).

    Args:
      input_sizes: an int32 tensor of 4 values, the shape of the convolution's input.
      filter: [height, width, in_channels, channel_multiplier].
      out_backprop: the gradient of the output, [batch, out_height, out_width, in_channels * multiplier].
      strides, dilations: lists of 4 ints (batch and channel entries 1).
      padding: "VALID", "SAME" or explicit [[before, after]] pairs per dimension.
      data_format: "NHWC" or "NCHW".
      name: a name for the operation.

    Returns:
      A tensor shaped `input_sizes`, of filter's dtype.

    Raises:
      ValueError: attribute lists of the wrong length or shapes that do not fit (InvalidArgumentError
        when that is known only at run time).
    """
    padding, explicit = convert_padding(padding)
    attrs = {"strides": _ints(strides, "strides"), "padding": padding, "explicit_paddings": explicit,
             "data_format": data_format, "dilations": _ints(dilations, "dilations")}
    return _ops.apply1("DepthwiseConv2dNativeBackpropInput", [_sizes(input_sizes, "input_sizes"), filter,
                                                              out_backprop], attrs,
                       name=name or "DepthwiseConv2dNativeBackpropInput")


def depthwise_conv2d_native_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                                            data_format="NHWC", dilations=(1, 1, 1, 1), name=None):
    """The gradient of depthwise_conv2d_native with respect to its filter (DepthwiseConv2dNativeBackpropFilter;
    also tf.nn.depthwise_conv2d_backprop_filter).

    Args:
      input: the convolution's input, [batch, height, width, in_channels].
      filter_sizes: an int32 tensor of 4 values, the filter's shape [height, width, in_channels, multiplier].
      out_backprop: the gradient of the output, [batch, out_height, out_width, in_channels * multiplier].
      strides, dilations: lists of 4 ints (batch and channel entries 1).
      padding: "VALID", "SAME" or explicit [[before, after]] pairs per dimension.
      data_format: "NHWC" or "NCHW".
      name: a name for the operation.

    Returns:
      A tensor shaped `filter_sizes`, of input's dtype.

    Raises:
      ValueError: attribute lists of the wrong length or shapes that do not fit (InvalidArgumentError
        when that is known only at run time).
    """
    padding, explicit = convert_padding(padding)
    attrs = {"strides": _ints(strides, "strides"), "padding": padding, "explicit_paddings": explicit,
             "data_format": data_format, "dilations": _ints(dilations, "dilations")}
    return _ops.apply1("DepthwiseConv2dNativeBackpropFilter", [input, _sizes(filter_sizes, "filter_sizes"),
                                                               out_backprop], attrs,
                       name=name or "DepthwiseConv2dNativeBackpropFilter")


depthwise_conv2d_backprop_input = depthwise_conv2d_native_backprop_input
depthwise_conv2d_backprop_filter = depthwise_conv2d_native_backprop_filter


def _rate_dilations(rate, data_format):
    rate = [1, 1] if rate is None else ([int(rate)] * 2 if np.isscalar(rate) else _ints(rate, "rate"))
    if len(rate) != 2:
        raise ValueError("rate must have two entries, got %s" % (rate,))
    return [1, 1] + rate if (data_format or "NHWC").startswith("NC") else [1] + rate + [1]


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None, data_format=None,  # noqa: A002
                     dilations=None):
    """A depthwise convolution (tf.nn.depthwise_conv2d): strides are 4 values, `rate` the dilation."""
    rate = _lookup("dilations", dilations, "rate", rate)
    with _ops.name_scope(name, "depthwise", [input, filter]) as name:
        input = _ops.convert_to_tensor(input, name="tensor_in")  # noqa: A001
        filter = _tensor_like(filter, input, "filter_in")  # noqa: A001
        return depthwise_conv2d_native(input, filter, strides, padding, data_format=data_format or "NHWC",
                                       dilations=_rate_dilations(rate, data_format), name=name)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding, rate=None,  # noqa: A002
                     name=None, data_format=None, dilations=None):
    """A depthwise convolution followed by a 1x1 Conv2D mixing the channels (pointwise_filter
    [1, 1, in_channels * channel_multiplier, out_channels])."""
    rate = _lookup("dilations", dilations, "rate", rate)
    with _ops.name_scope(name, "separable_conv2d", [input, depthwise_filter, pointwise_filter]) as name:
        input = _ops.convert_to_tensor(input, name="tensor_in")  # noqa: A001
        depthwise_filter = _tensor_like(depthwise_filter, input, "depthwise_filter")
        pointwise_filter = _tensor_like(pointwise_filter, input, "pointwise_filter")
        ps = pointwise_filter.shape
        if ps.ndims is not None:
            if ps.ndims != 4:
                raise ValueError("Shape must be rank 4 but is rank %d for pointwise_filter" % ps.ndims)
            for i in (0, 1):
                if _dimension_value(ps[i]) not in (None, 1):
                    raise ValueError("Dimension %d in both shapes must be equal, but are %d and 1 for "
                                     "pointwise_filter %s" % (i, _dimension_value(ps[i]), ps))
        depthwise = depthwise_conv2d_native(input, depthwise_filter, strides, padding,
                                            data_format=data_format or "NHWC",
                                            dilations=_rate_dilations(rate, data_format), name="depthwise")
        return conv2d(depthwise, pointwise_filter, [1, 1, 1, 1], padding="VALID",
                      data_format=data_format or "NHWC", name=name)


def convolution(input, filter, padding, strides=None, dilation_rate=None, name=None,  # noqa: A002
                data_format=None, filters=None, dilations=None):
    """N-D convolution (N = 1, 2, 3 from the filter's rank) with strides and dilation rates of N values."""
    filter = _lookup("filters", filters, "filter", filter)  # noqa: A001
    dilation_rate = _lookup("dilations", dilations, "dilation_rate", dilation_rate)
    with _ops.name_scope(name, "convolution", [input, filter]) as name:
        input = _ops.convert_to_tensor(input, name="input")  # noqa: A001
        filter = _tensor_like(filter, input, "filter")  # noqa: A001
        rank = filter.shape.ndims if filter.shape.ndims is not None else input.shape.ndims
        if rank is None:
            raise ValueError("convolution needs the rank of the input or of the filter to be known")
        nsp = rank - 2
        if nsp not in (1, 2, 3):
            raise ValueError("`num_spatial_dims` must be 1, 2, or 3. Received: num_spatial_dims=%d." % nsp)
        first = data_format is not None and data_format.startswith("NC")
        ci = 1 if first else nsp + 1
        strides = _get_sequence(strides, nsp, ci, "strides")
        dil = _get_sequence(dilation_rate, nsp, ci, "dilations")
        if nsp == 1:
            return conv1d(input, filter, strides[2 if first else 1], padding, data_format="NCW" if first else "NWC",
                          dilations=dil[2 if first else 1], name=name)
        if nsp == 2:
            return conv2d(input, filter, strides, padding, data_format="NCHW" if first else "NHWC", dilations=dil,
                          name=name)
        return conv3d(input, filter, strides, padding, data_format="NCDHW" if first else "NDHWC", dilations=dil,
                      name=name)


def atrous_conv2d(value, filters, rate, padding, name=None):
    """conv2d with holes: the filter's taps `rate` pixels apart (a dilated Conv2D)."""
    if rate is None or int(rate) < 1:
        raise ValueError("rate %s should be greater than or equal to 1" % (rate,))
    return convolution(value, filters, padding, dilation_rate=[int(rate)] * 2, name=name)


# ---- pooling -------------------------------------------------------------------------------------------

def _pool(op_type, scope, value, ksize, strides, padding, data_format, name, nsp):
    with _ops.name_scope(name, scope, [value]) as name:
        ci = 1 if data_format.startswith("NC") else nsp + 1
        ksize = _get_sequence(ksize, nsp, ci, "ksize")
        strides = _get_sequence(strides, nsp, ci, "strides")
        if any(v == 0 for v in ksize):
            raise ValueError("ksize cannot be zero.")
        value = _ops.convert_to_tensor(value, name="input")
        attrs = {"ksize": ksize, "strides": strides, "padding": convert_padding(padding)[0],
                 "data_format": data_format}
        return _ops.apply1(op_type, [value], attrs, name=name)


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):  # noqa: A002
    """MaxPool over [batch, height, width, channels] (or NCHW) windows; a NaN in a window gives NaN."""
    value = _lookup("input", input, "value", value)
    return _pool("MaxPool", "MaxPool", value, ksize, strides, padding, data_format or "NHWC", name, 2)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):  # noqa: A002
    """AvgPool: each window's mean over the pixels inside the input (SAME padding is not counted)."""
    value = _lookup("input", input, "value", value)
    return _pool("AvgPool", "AvgPool", value, ksize, strides, padding, data_format or "NHWC", name, 2)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """2-D max pooling: each output element is the maximum of a window of `input`.

    Args:
      input: a float tensor of rank 4, NHWC (or NCHW when data_format says so).
      ksize, strides: an int or a list of 1, 2 or 4 ints: the window and its step per dimension;
        batch and channel entries must be 1.
      padding: "VALID" (windows inside the input) or "SAME" (output size ceil(input / stride)).
      data_format: "NHWC" or "NCHW".
      name: a name for the operation.

    Returns:
      A tensor of the input's dtype, NHWC with the pooled spatial sizes.

    Raises:
      ValueError: a zero ksize, a list of the wrong length or an unknown data_format or padding.
    """
    return _pool("MaxPool", "MaxPool2d", input, ksize, strides, padding, data_format or "NHWC", name, 2)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """2-D average pooling: each output element is the mean (padding not counted) of a window of `input`.

    Args:
      input: a float tensor of rank 4, NHWC (or NCHW when data_format says so).
      ksize, strides: an int or a list of 1, 2 or 4 ints: the window and its step per dimension;
        batch and channel entries must be 1.
      padding: "VALID" (windows inside the input) or "SAME" (output size ceil(input / stride)).
      data_format: "NHWC" or "NCHW".
      name: a name for the operation.

    Returns:
      A tensor of the input's dtype, NHWC with the pooled spatial sizes.

    Raises:
      ValueError: a zero ksize, a list of the wrong length or an unknown data_format or padding.
    """
    return _pool("AvgPool", "AvgPool2D", input, ksize, strides, padding, data_format or "NHWC", name, 2)


def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):  # noqa: A002
    """3-D max pooling: each output element is the maximum of a window of `input`.

    Args:
      input: a float tensor of rank 5, NDHWC (or NCDHW when data_format says so).
      ksize, strides: an int or a list of 1, 3 or 5 ints: the window and its step per dimension;
        batch and channel entries must be 1.
      padding: "VALID" (windows inside the input) or "SAME" (output size ceil(input / stride)).
      data_format: "NDHWC" or "NCDHW".
      name: a name for the operation.

    Returns:
      A tensor of the input's dtype, NDHWC with the pooled spatial sizes.

    Raises:
      ValueError: a zero ksize, a list of the wrong length or an unknown data_format or padding.
    """
    return _pool("MaxPool3D", "MaxPool3D", input, ksize, strides, padding, data_format or "NDHWC", name, 3)


def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):  # noqa: A002
    """3-D average pooling: each output element is the mean (padding not counted) of a window of `input`.

    Args:
      input: a float tensor of rank 5, NDHWC (or NCDHW when data_format says so).
      ksize, strides: an int or a list of 1, 3 or 5 ints: the window and its step per dimension;
        batch and channel entries must be 1.
      padding: "VALID" (windows inside the input) or "SAME" (output size ceil(input / stride)).
      data_format: "NDHWC" or "NCDHW".
      name: a name for the operation.

    Returns:
      A tensor of the input's dtype, NDHWC with the pooled spatial sizes.

    Raises:
      ValueError: a zero ksize, a list of the wrong length or an unknown data_format or padding.
    """
    return _pool("AvgPool3D", "AvgPool3D", input, ksize, strides, padding, data_format or "NDHWC", name, 3)


def _pool1d(op_type, scope, input, ksize, strides, padding, data_format, name):  # noqa: A002
    with _ops.name_scope(name, scope, [input]) as name:
        data_format = data_format or "NWC"
        if data_format not in ("NWC", "NCW"):
            raise ValueError("`data_format` must be 'NWC' or 'NCW'. Received: data_format=%s" % data_format)
        ci = 1 if data_format.startswith("NC") else 2
        ksize = [1] + _get_sequence(ksize, 1, ci, "ksize")
        strides = [1] + _get_sequence(strides, 1, ci, "strides")
        axis = 1 if data_format == "NWC" else 2
        x = array_ops.expand_dims(_ops.convert_to_tensor(input, name="input"), axis)
        attrs = {"ksize": ksize, "strides": strides, "padding": convert_padding(padding)[0],
                 "data_format": "NHWC" if data_format == "NWC" else "NCHW"}
        return array_ops.squeeze(_ops.apply1(op_type, [x], attrs, name=name), [axis])


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """1-D max pooling: each output element is the maximum of a window of `input` (a MaxPool/AvgPool over a width-only 2-D window).

    Args:
      input: a float tensor of rank 3, NWC (or NCW when data_format says so).
      ksize, strides: an int or a list of 1, 1 or 3 ints: the window and its step per dimension;
        batch and channel entries must be 1.
      padding: "VALID" (windows inside the input) or "SAME" (output size ceil(input / stride)).
      data_format: "NWC" or "NCW".
      name: a name for the operation.

    Returns:
      A tensor of the input's dtype, NWC with the pooled spatial sizes.

    Raises:
      ValueError: a zero ksize, a list of the wrong length or an unknown data_format or padding.
    """
    return _pool1d("MaxPool", "MaxPool1d", input, ksize, strides, padding, data_format, name)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """1-D average pooling: each output element is the mean (padding not counted) of a window of `input` (a MaxPool/AvgPool over a width-only 2-D window).

    Args:
      input: a float tensor of rank 3, NWC (or NCW when data_format says so).
      ksize, strides: an int or a list of 1, 1 or 3 ints: the window and its step per dimension;
        batch and channel entries must be 1.
      padding: "VALID" (windows inside the input) or "SAME" (output size ceil(input / stride)).
      data_format: "NWC" or "NCW".
      name: a name for the operation.

    Returns:
      A tensor of the input's dtype, NWC with the pooled spatial sizes.

    Raises:
      ValueError: a zero ksize, a list of the wrong length or an unknown data_format or padding.
    """
    return _pool1d("AvgPool", "AvgPool1D", input, ksize, strides, padding, data_format, name)


def _pool_nd(kind, input, ksize, strides, padding, data_format, name):  # noqa: A002
    """max_pool_v2 / avg_pool_v2: 1-D, 2-D or 3-D pooling chosen by the input's rank."""
    input = _ops.convert_to_tensor(input, name="input")  # noqa: A001
    if input.shape.ndims is not None:
        n = input.shape.ndims - 2
    elif data_format is not None:
        n = len(data_format) - 2
    else:
        raise ValueError("The input must have a rank or a data format must be given.")
    if not 1 <= n <= 3:
        raise ValueError("Input tensor must be of rank 3, 4 or 5 but was %d." % (n + 2))
    first = data_format is not None and data_format.startswith("NC")
    ci = 1 if first else n + 1
    ksize, strides = _get_sequence(ksize, n, ci, "ksize"), _get_sequence(strides, n, ci, "strides")
    if n == 1:
        fn = max_pool1d if kind == "MAX" else avg_pool1d
        return fn(input, ksize[2 if first else 1], strides[2 if first else 1], padding,
                  data_format="NCW" if first else "NWC", name=name)
    if n == 2:
        fn = max_pool if kind == "MAX" else avg_pool
        return fn(input, ksize, strides, padding, data_format=data_format or "NHWC", name=name)
    fn = max_pool3d if kind == "MAX" else avg_pool3d
    return fn(input, ksize, strides, padding, data_format=data_format or "NDHWC", name=name)


def max_pool_v2(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """TF2's tf.nn.max_pool: 1-D, 2-D or 3-D max pooling chosen by the rank of `input` (3, 4 or 5), or by
    the length of `data_format` when the rank is unknown.

    Args:
      input: a tensor [batch, spatial..., channels] (channels first when data_format starts with "NC").
      ksize, strides: an int or a list of 1, N or N + 2 ints for N spatial dimensions.
      padding: "VALID" or "SAME".
      data_format: None (channels last), or "NWC"/"NCW", "NHWC"/"NCHW", "NDHWC"/"NCDHW".
      name: a name for the operation.

    Returns:
      A tensor of the input's dtype with the pooled spatial sizes.

    Raises:
      ValueError: the rank is not 3, 4 or 5, or neither the rank nor data_format is known.
    """
    return _pool_nd("MAX", input, ksize, strides, padding, data_format, name)


def avg_pool_v2(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """TF2's tf.nn.avg_pool: 1-D, 2-D or 3-D average pooling chosen by the rank of `input` (3, 4 or 5), or by
    the length of `data_format` when the rank is unknown.

    Args:
      input: a tensor [batch, spatial..., channels] (channels first when data_format starts with "NC").
      ksize, strides: an int or a list of 1, N or N + 2 ints for N spatial dimensions.
      padding: "VALID" or "SAME".
      data_format: None (channels last), or "NWC"/"NCW", "NHWC"/"NCHW", "NDHWC"/"NCDHW".
      name: a name for the operation.

    Returns:
      A tensor of the input's dtype with the pooled spatial sizes.

    Raises:
      ValueError: the rank is not 3, 4 or 5, or neither the rank nor data_format is known.
    """
    return _pool_nd("AVG", input, ksize, strides, padding, data_format, name)


def max_pool_with_argmax(input, ksize, strides, padding, data_format="NHWC", Targmax=None,  # noqa: A002,N803
                         name=None, output_dtype=None, include_batch_in_index=False):
    """(output, argmax): max pooling and, per output element, the flat index of its maximum,
    ((b * height + y) * width + x) * channels + c with the b term only if include_batch_in_index."""
    if data_format != "NHWC":
        raise ValueError("Data formats other than 'NHWC' are not yet supported")
    if Targmax is not None and output_dtype is not None and _dtypes.as_dtype(Targmax) != _dtypes.as_dtype(
            output_dtype):
        raise ValueError("Cannot specify both 'Targmax' and 'output_dtype'")
    targ = _dtypes.as_dtype(Targmax or output_dtype or _dtypes.int64)
    attrs = {"ksize": _ints(ksize, "ksize"), "strides": _ints(strides, "strides"),
             "padding": convert_padding(padding)[0], "Targmax": targ._enum,
             "include_batch_in_index": bool(include_batch_in_index)}
    op = _ops.apply_op("MaxPoolWithArgmax", [_ops.convert_to_tensor(input, name="input")], attrs,
                       name=name or "MaxPoolWithArgmax")
    return MaxPoolWithArgmax(*op.outputs)


def pool(input, window_shape, pooling_type, padding, dilation_rate=None, strides=None,  # noqa: A002
         name=None, data_format=None, dilations=None):
    """tf.nn.pool: "MAX" or "AVG" pooling over N = len(window_shape) spatial dims (1 to 3); the dilation
    rate must be 1."""
    dilation_rate = _lookup("dilations", dilations, "dilation_rate", dilation_rate)
    if pooling_type not in ("MAX", "AVG"):
        raise ValueError("Invalid pooling_type: %s" % (pooling_type,))
    window_shape = _ints(window_shape, "window_shape")
    nsp = len(window_shape)
    if nsp not in (1, 2, 3):
        raise ValueError("Invalid number of spatial dims: %d" % nsp)
    strides = [1] * nsp if strides is None else _ints(strides, "strides")
    dil = [1] * nsp if dilation_rate is None else _ints(dilation_rate, "dilation_rate")
    if len(strides) != nsp or len(dil) != nsp:
        raise ValueError("strides and dilation_rate must have %d entries" % nsp)
    if any(d != 1 for d in dil):
        if any(s != 1 for s in strides):
            raise ValueError("strides > window_shape not supported due to inconsistency between CPU and GPU "
                             "implementations")
        raise NotImplementedError("tf.nn.pool with a dilation rate other than 1 is not supported yet")
    first = data_format is not None and data_format.startswith("NC")
    with _ops.name_scope(name, "%s_pool" % pooling_type.lower(), [input]) as scope:
        if nsp == 1:
            fn = max_pool1d if pooling_type == "MAX" else avg_pool1d
            return fn(input, window_shape, strides, padding, data_format="NCW" if first else "NWC", name=scope)
        if nsp == 2:
            fn = max_pool if pooling_type == "MAX" else avg_pool
            return fn(input, window_shape, strides, padding, data_format="NCHW" if first else "NHWC", name=scope)
        fn = max_pool3d if pooling_type == "MAX" else avg_pool3d
        return fn(input, window_shape, strides, padding, data_format="NCDHW" if first else "NDHWC", name=scope)


import collections as _collections  # noqa: E402

MaxPoolWithArgmax = _collections.namedtuple("MaxPoolWithArgmax", ["output", "argmax"])
