"""Argument normalization and output-size arithmetic for convolution and pooling layers (Keras's
conv_utils)."""
__all__ = ["normalize_tuple", "normalize_data_format", "normalize_padding", "convert_data_format",
           "conv_output_length", "deconv_output_length"]


def normalize_tuple(value, n, name):
    """An int becomes n copies; an iterable must hold n ints."""
    if isinstance(value, int):
        return (value,) * n
    try:
        value_tuple = tuple(value)
    except TypeError:
        raise ValueError("The `" + name + "` argument must be a tuple of " + str(n) + " integers. Received: "
                         + str(value)) from None
    if len(value_tuple) != n:
        raise ValueError("The `" + name + "` argument must be a tuple of " + str(n) + " integers. Received: "
                         + str(value))
    for single_value in value_tuple:
        try:
            int(single_value)
        except (ValueError, TypeError):
            raise ValueError("The `" + name + "` argument must be a tuple of " + str(n) + " integers. Received: "
                             + str(value) + " including element " + str(single_value) + " of type "
                             + str(type(single_value))) from None
    return tuple(int(v) for v in value_tuple)


def normalize_data_format(value):
    if value is None:
        value = "channels_last"
    data_format = value.lower()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError('The `data_format` argument must be one of "channels_first", "channels_last". Received: '
                         + str(value))
    return data_format


def normalize_padding(value):
    if isinstance(value, (list, tuple)):
        return value
    padding = value.lower()
    if padding not in {"valid", "same", "causal"}:
        raise ValueError('The `padding` argument must be a list/tuple or one of "valid", "same" (or "causal", only '
                         'for `Conv1D). Received: ' + str(padding))
    return padding


def convert_data_format(data_format, ndim):
    """channels_last / channels_first -> NWC, NHWC, NDHWC / NCW, NCHW, NCDHW."""
    spatial = {3: "W", 4: "HW", 5: "DHW"}.get(ndim)
    if spatial is None:
        raise ValueError("Input rank not supported:", ndim)
    if data_format == "channels_last":
        return "N" + spatial + "C"
    if data_format == "channels_first":
        return "NC" + spatial
    raise ValueError("Invalid data_format:", data_format)


def conv_output_length(input_length, filter_size, padding, stride, dilation=1):
    """Output length of a convolution along one dim (None when the input's is unknown)."""
    if input_length is None:
        return None
    assert padding in {"same", "valid", "full", "causal"}
    dilated_filter_size = filter_size + (filter_size - 1) * (dilation - 1)
    if padding in ("same", "causal"):
        output_length = input_length
    elif padding == "valid":
        output_length = input_length - dilated_filter_size + 1
    else:
        output_length = input_length + dilated_filter_size - 1
    return (output_length + stride - 1) // stride


def deconv_output_length(input_length, filter_size, padding, output_padding=None, stride=0, dilation=1):
    """Output length of a transposed convolution; `input_length` may be a scalar tensor."""
    assert padding in {"same", "valid", "full"}
    if input_length is None:
        return None
    filter_size = filter_size + (filter_size - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return input_length * stride + max(filter_size - stride, 0)
        if padding == "full":
            return input_length * stride - (stride + filter_size - 2)
        return input_length * stride
    pad = {"same": filter_size // 2, "valid": 0, "full": filter_size - 1}[padding]
    return (input_length - 1) * stride + filter_size - 2 * pad + output_padding
