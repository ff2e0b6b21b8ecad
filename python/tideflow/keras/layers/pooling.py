"""Keras's pooling layers: MaxPooling1D/2D/3D and AveragePooling1D/2D/3D (MaxPool / AvgPool nodes; the 1-D
ones pool a height-1 image, as TensorFlow 1.15's Keras does)."""
from ...framework.tensor_shape import TensorShape
from ...ops import array_ops, conv_ops
from ..engine.base_layer import Layer
from ..engine.input_spec import InputSpec
from ..utils import conv_utils

__all__ = ["Pooling1D", "Pooling2D", "Pooling3D", "MaxPooling1D", "AveragePooling1D", "MaxPooling2D",
           "AveragePooling2D", "MaxPooling3D", "AveragePooling3D"]


class _Pooling(Layer):
    rank = None
    kind = None  # "max" or "avg"

    def __init__(self, pool_size, strides=None, padding="valid", data_format="channels_last", name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if data_format is None:
            data_format = "channels_last"
        if strides is None:
            strides = pool_size
        self.pool_size = conv_utils.normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = conv_utils.normalize_tuple(strides, self.rank, "strides")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _window(self, values):
        return (1, 1) + values if self.data_format == "channels_first" else (1,) + values + (1,)

    def call(self, inputs):
        padding = self.padding.upper()
        if self.rank == 1:
            axis = 2 if self.data_format == "channels_last" else 3
            x = array_ops.expand_dims(inputs, axis)
            pool = conv_ops.max_pool if self.kind == "max" else conv_ops.avg_pool
            df = "NHWC" if self.data_format == "channels_last" else "NCHW"
            window = (1,) + self.pool_size + (1, 1) if df == "NHWC" else (1, 1) + self.pool_size + (1,)
            step = (1,) + self.strides + (1, 1) if df == "NHWC" else (1, 1) + self.strides + (1,)
            return array_ops.squeeze(pool(x, list(window), list(step), padding, data_format=df), [axis])
        df = conv_utils.convert_data_format(self.data_format, self.rank + 2)
        if self.rank == 2:
            pool = conv_ops.max_pool if self.kind == "max" else conv_ops.avg_pool
        else:
            pool = conv_ops.max_pool3d if self.kind == "max" else conv_ops.avg_pool3d
        return pool(inputs, list(self._window(self.pool_size)), list(self._window(self.strides)), padding,
                    data_format=df)

    def compute_output_shape(self, input_shape):
        shape = TensorShape(input_shape).as_list()
        first = self.data_format == "channels_first"
        space = shape[2:] if first else shape[1:-1]
        new = [conv_utils.conv_output_length(d, self.pool_size[i], self.padding, self.strides[i])
               for i, d in enumerate(space)]
        return TensorShape(shape[:2] + new if first else shape[:1] + new + shape[-1:])

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


def _pool_class(name, rank, kind):
    doc = "%s pooling over %d-D windows of `pool_size`, moved by `strides` (default: pool_size)." % (
        "Max" if kind == "max" else "Average", rank)
    return type(name, (_Pooling,), {"rank": rank, "kind": kind, "__doc__": doc, "__module__": __name__})


MaxPooling1D = _pool_class("MaxPooling1D", 1, "max")
AveragePooling1D = _pool_class("AveragePooling1D", 1, "avg")
MaxPooling2D = _pool_class("MaxPooling2D", 2, "max")
AveragePooling2D = _pool_class("AveragePooling2D", 2, "avg")
MaxPooling3D = _pool_class("MaxPooling3D", 3, "max")
AveragePooling3D = _pool_class("AveragePooling3D", 3, "avg")
Pooling1D = Pooling2D = Pooling3D = _Pooling
