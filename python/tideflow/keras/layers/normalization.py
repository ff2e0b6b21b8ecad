"""Keras's BatchNormalization (TensorFlow 1.15's V1 layer: fused by default for 4-D inputs normalized over
axis 1 or 3, moving statistics updated through the layer's updates)."""
from ...framework import dtypes as _dtypes
from ...framework import ops as _ops
from ...framework.tensor_shape import TensorShape, dimension_value as _dim
from ...ops import array_ops, math_ops, nn_ops, state_ops
from ...ops.smart_cond import smart_cond, smart_constant_value
from .. import constraints, initializers, regularizers
from ..engine.base_layer import Layer
from ..engine.input_spec import InputSpec
from .core import _serialize

__all__ = ["BatchNormalization", "assign_moving_average"]


def assign_moving_average(variable, value, momentum):
    """variable -= (variable - value) * (1 - momentum): one AssignSub named after its "AssignMovingAvg"
    scope, as TensorFlow builds it; `momentum` may be a tensor (a tf.cond of momentum and 1)."""
    with _ops.name_scope("AssignMovingAvg") as scope:
        if _ops.is_tensor(momentum):
            decay = math_ops.subtract(_ops.convert_to_tensor(1.0, dtype=momentum.dtype), momentum, name="decay")
        else:
            decay = _ops.convert_to_tensor(1.0 - momentum, name="decay")
        if decay.dtype != variable.dtype.base_dtype:
            decay = math_ops.cast(decay, variable.dtype.base_dtype)
        update_delta = (variable - math_ops.cast(value, variable.dtype.base_dtype)) * decay
        return state_ops.assign_sub(variable, update_delta, name=scope)


class BatchNormalization(Layer):
    """Normalizes each channel (`axis`) by the batch's mean and variance when training, by the moving
    averages otherwise: gamma * (x - mean) / sqrt(var + epsilon) + beta. Training adds two updates,
    moving = moving - (moving - batch) * (1 - momentum); the fused path averages the unbiased batch
    variance (FusedBatchNormV3's), the other one the biased variance (nn.moments'), as TensorFlow does.
    `training` is a Python bool or a boolean tensor (then the updates run inside a tf.cond and leave the
    statistics alone when false). Renormalization, virtual batches and `adjustment` are not supported."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 renorm=False, renorm_clipping=None, renorm_momentum=0.99, fused=None, trainable=True,
                 virtual_batch_size=None, adjustment=None, name=None, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        if renorm or virtual_batch_size is not None or adjustment is not None:
            raise NotImplementedError("BatchNormalization: renorm, virtual_batch_size and adjustment are not "
                                      "supported by tideflow")
        if isinstance(axis, list):
            self.axis = axis[:]
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError("axis must be int or list, type given: %s" % type(axis))
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.renorm = False
        self.fused = True if fused is None else fused  # V1 behaviour: decided in build from the input rank
        self.supports_masking = True

    def build(self, input_shape):
        input_shape = TensorShape(input_shape)
        if input_shape.ndims is None:
            raise ValueError("Input has undefined rank:", input_shape)
        ndims = input_shape.ndims
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        axes = [a + ndims if a < 0 else a for a in axes]
        for a in axes:
            if a < 0 or a >= ndims:
                raise ValueError("Invalid axis: %d" % a)
        if len(axes) != len(set(axes)):
            raise ValueError("Duplicate axis: %s" % axes)
        self.axis = axes
        if self.fused:
            self.fused = ndims == 4 and axes in ([1], [3])
            self._data_format = "NCHW" if axes == [1] else "NHWC"
        param_shape = [_dim(input_shape[a]) for a in axes]
        for a, d in zip(axes, param_shape):
            if d is None:
                raise ValueError("Input has undefined `axis` dimension. Input shape: ", input_shape)
        self.input_spec = InputSpec(ndim=ndims, axes={a: _dim(input_shape[a]) for a in axes})
        if len(axes) == 1:
            param_shape = param_shape  # [channels]
        else:
            param_shape = [_dim(input_shape[i]) if i in axes else 1 for i in range(ndims)]
        # float16 inputs keep float32 statistics, as TensorFlow does.
        dtype = _dtypes.as_dtype(self.dtype or _dtypes.float32)
        self._param_dtype = _dtypes.float32 if dtype.name in ("float16", "bfloat16") else dtype
        self.gamma = self.add_weight(name="gamma", shape=param_shape, dtype=self._param_dtype,
                                     initializer=self.gamma_initializer, regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint, trainable=True) if self.scale else None
        self.beta = self.add_weight(name="beta", shape=param_shape, dtype=self._param_dtype,
                                    initializer=self.beta_initializer, regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint, trainable=True) if self.center else None
        self.moving_mean = self.add_weight(name="moving_mean", shape=param_shape, dtype=self._param_dtype,
                                           initializer=self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=param_shape, dtype=self._param_dtype,
                                               initializer=self.moving_variance_initializer, trainable=False)
        self.built = True

    def _fused_batch_norm(self, inputs, training):
        beta = self.beta if self.center else _ops.constant_op(0.0, dtype=self._param_dtype,
                                                             shape=[_dim(inputs.shape[self.axis[0]])])
        gamma = self.gamma if self.scale else _ops.constant_op(1.0, dtype=self._param_dtype,
                                                              shape=[_dim(inputs.shape[self.axis[0]])])

        def training_fn():
            return nn_ops.fused_batch_norm(inputs, gamma, beta, epsilon=self.epsilon, data_format=self._data_format)

        def inference_fn():
            return nn_ops.fused_batch_norm(inputs, gamma, beta, mean=self.moving_mean, variance=self.moving_variance,
                                           epsilon=self.epsilon, is_training=False, data_format=self._data_format)

        output, mean, variance = smart_cond(training, training_fn, inference_fn)
        training_value = smart_constant_value(training)
        if training_value is None:
            momentum = smart_cond(training, lambda: _ops.convert_to_tensor(self.momentum, dtype=self._param_dtype),
                                  lambda: _ops.convert_to_tensor(1.0, dtype=self._param_dtype))
        else:
            momentum = _ops.convert_to_tensor(self.momentum)
        if training_value or training_value is None:
            self.add_update(lambda: assign_moving_average(self.moving_mean, mean, momentum))
            self.add_update(lambda: assign_moving_average(self.moving_variance, variance, momentum))
        return output

    def call(self, inputs, training=None):
        if training is None:
            training = False  # Keras's learning phase (issue 13) defaults to inference
        if self.fused:
            return self._fused_batch_norm(inputs, training)
        input_shape = inputs.shape
        ndims = input_shape.ndims
        reduction_axes = [i for i in range(ndims) if i not in self.axis]
        broadcast_shape = [1] * ndims
        broadcast_shape[self.axis[0]] = _dim(input_shape[self.axis[0]])

        def _broadcast(v):
            if v is not None and v.shape.ndims != ndims and reduction_axes != list(range(ndims - 1)):
                return array_ops.reshape(v, broadcast_shape)
            return v

        scale, offset = _broadcast(self.gamma), _broadcast(self.beta)
        training_value = smart_constant_value(training)
        if training_value is False:
            mean, variance = self.moving_mean, self.moving_variance
        else:
            keep_dims = len(self.axis) > 1
            mean, variance = nn_ops.moments(math_ops.cast(inputs, self._param_dtype), reduction_axes,
                                            keep_dims=keep_dims)
            batch_mean, batch_variance = mean, variance
            mean = smart_cond(training, lambda: batch_mean, lambda: _ops.convert_to_tensor(self.moving_mean))
            variance = smart_cond(training, lambda: batch_variance,
                                  lambda: _ops.convert_to_tensor(self.moving_variance))

            def mean_update():
                return smart_cond(training, lambda: assign_moving_average(self.moving_mean, batch_mean,
                                                                                self.momentum),
                                  lambda: self.moving_mean.value())

            def variance_update():
                return smart_cond(training, lambda: assign_moving_average(self.moving_variance, batch_variance,
                                                                                self.momentum),
                                  lambda: self.moving_variance.value())

            self.add_update(mean_update)
            self.add_update(variance_update)
        mean = math_ops.cast(mean, inputs.dtype)
        variance = math_ops.cast(variance, inputs.dtype)
        if offset is not None:
            offset = math_ops.cast(offset, inputs.dtype)
        if scale is not None:
            scale = math_ops.cast(scale, inputs.dtype)
        outputs = nn_ops.batch_normalization(inputs, _broadcast(mean), _broadcast(variance), offset, scale,
                                             self.epsilon)
        outputs.set_shape(input_shape)
        return outputs

    def compute_output_shape(self, input_shape):
        return TensorShape(input_shape)

    def get_config(self):
        config = {"axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon, "center": self.center,
                  "scale": self.scale, "beta_initializer": _serialize(self.beta_initializer),
                  "gamma_initializer": _serialize(self.gamma_initializer),
                  "moving_mean_initializer": _serialize(self.moving_mean_initializer),
                  "moving_variance_initializer": _serialize(self.moving_variance_initializer),
                  "beta_regularizer": _serialize(self.beta_regularizer),
                  "gamma_regularizer": _serialize(self.gamma_regularizer),
                  "beta_constraint": _serialize(self.beta_constraint),
                  "gamma_constraint": _serialize(self.gamma_constraint)}
        return {**super().get_config(), **config}
