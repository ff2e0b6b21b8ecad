"""tf.layers pooling: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D and max_pooling2d... (pool_size and
strides required, padding "valid" by default, as in TF 1.15)."""
from ..keras.layers import pooling as keras_pooling
from . import base

__all__ = ["MaxPooling1D", "max_pooling1d", "AveragePooling1D", "average_pooling1d", "MaxPooling2D", "max_pooling2d",
           "AveragePooling2D", "average_pooling2d", "MaxPooling3D", "max_pooling3d", "AveragePooling3D",
           "average_pooling3d", "MaxPool1D", "MaxPool2D", "MaxPool3D", "AveragePool1D", "AveragePool2D",
           "AveragePool3D"]


def _tf_pool_class(keras_cls):
    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last", name=None, **kwargs):
        if strides is None:
            raise ValueError("Argument `strides` must not be None.")
        keras_cls.__init__(self, pool_size=pool_size, strides=strides, padding=padding, data_format=data_format,
                           name=name, **kwargs)
    return type(keras_cls.__name__, (keras_cls, base.Layer), {"__init__": __init__, "__doc__": keras_cls.__doc__,
                                                             "__module__": __name__})


def _functional(cls, fname):
    def pool(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
        return cls(pool_size=pool_size, strides=strides, padding=padding, data_format=data_format,
                   name=name).apply(inputs)
    pool.__name__ = pool.__qualname__ = fname
    pool.__doc__ = "Functional interface for the %s layer." % cls.__name__
    return pool


MaxPooling1D = _tf_pool_class(keras_pooling.MaxPooling1D)
AveragePooling1D = _tf_pool_class(keras_pooling.AveragePooling1D)
MaxPooling2D = _tf_pool_class(keras_pooling.MaxPooling2D)
AveragePooling2D = _tf_pool_class(keras_pooling.AveragePooling2D)
MaxPooling3D = _tf_pool_class(keras_pooling.MaxPooling3D)
AveragePooling3D = _tf_pool_class(keras_pooling.AveragePooling3D)
max_pooling1d = _functional(MaxPooling1D, "max_pooling1d")
average_pooling1d = _functional(AveragePooling1D, "average_pooling1d")
max_pooling2d = _functional(MaxPooling2D, "max_pooling2d")
average_pooling2d = _functional(AveragePooling2D, "average_pooling2d")
max_pooling3d = _functional(MaxPooling3D, "max_pooling3d")
average_pooling3d = _functional(AveragePooling3D, "average_pooling3d")
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AveragePool1D, AveragePool2D, AveragePool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
