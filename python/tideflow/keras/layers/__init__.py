"""tf.keras.layers: the Keras layers (tf.layers wraps core, convolutional, pooling and normalization), with
Keras's defaults where tf.layers' differ (pooling windows default to 2)."""
from ..engine.base_layer import InputSpec, Layer
from ..engine.input_layer import Input, InputLayer
from .convolutional import Conv1D, Conv2D, Conv2DTranspose, Conv3D, SeparableConv2D
from .core import Dense, Dropout, Flatten
from .extra import Activation, Add, Concatenate, Embedding, Lambda, ReLU, Reshape, Softmax
from .normalization import BatchNormalization
from .recurrent import GRU, LSTM, SimpleRNN
from . import pooling as _pooling

Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D


def _keras_pool(base, default):
    def __init__(self, pool_size=default, strides=None, padding="valid", data_format=None, **kwargs):
        base.__init__(self, pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)
    return type(base.__name__, (base,), {"__init__": __init__, "__module__": __name__, "__doc__": base.__doc__})


MaxPooling1D = MaxPool1D = _keras_pool(_pooling.MaxPooling1D, 2)
AveragePooling1D = AvgPool1D = _keras_pool(_pooling.AveragePooling1D, 2)
MaxPooling2D = MaxPool2D = _keras_pool(_pooling.MaxPooling2D, (2, 2))
AveragePooling2D = AvgPool2D = _keras_pool(_pooling.AveragePooling2D, (2, 2))
MaxPooling3D = MaxPool3D = _keras_pool(_pooling.MaxPooling3D, (2, 2, 2))
AveragePooling3D = AvgPool3D = _keras_pool(_pooling.AveragePooling3D, (2, 2, 2))
