"""tf.contrib.layers essentials, built as TensorFlow 1.15 builds them: fully_connected and conv2d on the
tf.layers classes with variables renamed to contrib's `weights` / `biases` and added to MODEL_VARIABLES
(`fully_connected/weights`, `Conv/biases`), batch_norm (the tf.layers layer, or contrib's own fused path
for rank-2 inputs and `updates_collections=None`), layer_norm, dropout, flatten, pooling, one_hot_encoding,
and the initializers and regularizers that go with them. `arg_scope` is not supported."""
import math
import numbers

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.ops import GraphKeys
from ..keras.layers.normalization import assign_moving_average
from ..layers import convolutional as _conv_layers
from ..layers import core as _core_layers
from ..layers import normalization as _norm_layers
from ..layers import pooling as _pool_layers
from ..ops import array_ops, gen_ops, init_ops, math_ops, nn_ops, random_ops, reduction_ops
from ..ops import variable_scope as vs
from ..ops.smart_cond import smart_cond, smart_constant_value
from ..tf_logging import info as _log_info

__all__ = ["fully_connected", "linear", "conv2d", "convolution2d", "convolution", "conv1d", "conv3d",
           "convolution1d", "convolution3d", "flatten", "xavier_initializer", "xavier_initializer_conv2d",
           "variance_scaling_initializer", "l1_regularizer", "l2_regularizer", "l1_l2_regularizer",
           "sum_regularizer", "apply_regularization", "batch_norm", "layer_norm", "dropout", "max_pool2d",
           "avg_pool2d", "one_hot_encoding", "model_variable", "variable"]

DATA_FORMAT_NCHW, DATA_FORMAT_NHWC = "NCHW", "NHWC"


# ---- variables --------------------------------------------------------------------------------------

def _variable_collections(variables_collections, name):
    if isinstance(variables_collections, dict):
        return variables_collections.get(name)
    return variables_collections


def _add_variable_to_collections(variable, collections_set, collections_name):
    for collection in _variable_collections(collections_set, collections_name) or []:
        if not any(variable is v for v in _ops.get_collection(collection)):
            _ops.add_to_collection(collection, variable)


def _model_collections(collections):
    out = list(collections or [])
    for key in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES):
        if key not in out:
            out.append(key)
    return out


def variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=True, collections=None,
             caching_device=None, device=None, partitioner=None, custom_getter=None, use_resource=None):
    """tf.get_variable with contrib's defaults (float32, GLOBAL_VARIABLES)."""
    with _ops.device(device or ""):
        return vs.get_variable(name, shape=shape, dtype=dtype or _dtypes.float32, initializer=initializer,
                               regularizer=regularizer, trainable=trainable,
                               collections=list(collections or [GraphKeys.GLOBAL_VARIABLES]),
                               partitioner=partitioner, custom_getter=custom_getter, use_resource=use_resource)


def model_variable(name, shape=None, dtype=_dtypes.float32, initializer=None, regularizer=None, trainable=True,
                   collections=None, caching_device=None, device=None, partitioner=None, custom_getter=None,
                   use_resource=None):
    """A variable also in the MODEL_VARIABLES collection."""
    return variable(name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                    trainable=trainable, collections=_model_collections(collections), device=device,
                    partitioner=partitioner, custom_getter=custom_getter, use_resource=use_resource)


def _build_variable_getter(rename=None):
    """The custom getter contrib layers put on their scope: the core layer's `kernel` / `bias` become
    `weights` / `biases`, and every variable joins MODEL_VARIABLES."""
    def layer_variable_getter(getter, name, *args, **kwargs):
        short = name.split("/")[-1]
        if rename and short in rename:
            name = name[:len(name) - len(short)] + rename[short]
        kwargs["collections"] = _model_collections(kwargs.get("collections"))
        return getter(name, *args, **kwargs)
    return layer_variable_getter


def _collect(outputs_collections, outputs):
    if outputs_collections:
        _ops.add_to_collections(outputs_collections, outputs)
    return outputs


# ---- initializers and regularizers ------------------------------------------------------------------

def variance_scaling_initializer(factor=2.0, mode="FAN_IN", uniform=False, seed=None, dtype=_dtypes.float32):
    """contrib's variance scaling (He et al. by default): stddev sqrt(factor / n) with n = fan_in, fan_out
    or their mean; uniform draws +-sqrt(3 factor / n), normal ones a truncated normal of stddev
    sqrt(1.3 factor / n). Fans count the leading dims of a kernel, as contrib does."""
    if not _dtypes.as_dtype(dtype).is_floating:
        raise TypeError("Cannot create initializer for non-floating point type.")
    if mode not in ("FAN_IN", "FAN_OUT", "FAN_AVG"):
        raise TypeError("Unknown mode %s [FAN_IN, FAN_OUT, FAN_AVG]" % mode)

    def _initializer(shape, dtype=dtype, partition_info=None):
        dtype = _dtypes.as_dtype(dtype)
        if not dtype.is_floating:
            raise TypeError("Cannot create initializer for non-floating point type.")
        shape = [int(d) for d in shape]
        if shape:
            fan_in = float(shape[-2]) if len(shape) > 1 else float(shape[-1])
            fan_out = float(shape[-1])
        else:
            fan_in = fan_out = 1.0
        for dim in shape[:-2]:
            fan_in *= float(dim)
            fan_out *= float(dim)
        n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[mode]
        if uniform:
            limit = math.sqrt(3.0 * factor / n)
            return random_ops.random_uniform(shape, -limit, limit, dtype, seed=seed)
        return random_ops.truncated_normal(shape, 0.0, math.sqrt(1.3 * factor / n), dtype, seed=seed)
    return _initializer


def xavier_initializer(uniform=True, seed=None, dtype=_dtypes.float32):
    """Glorot and Bengio (2010): variance 2 / (fan_in + fan_out), uniform by default."""
    return variance_scaling_initializer(factor=1.0, mode="FAN_AVG", uniform=uniform, seed=seed, dtype=dtype)


xavier_initializer_conv2d = xavier_initializer


def _check_scale(scale):
    if isinstance(scale, numbers.Integral):
        raise ValueError("scale cannot be an integer: %s" % scale)
    if isinstance(scale, numbers.Real):
        if scale < 0.:
            raise ValueError("Setting a scale less than 0 on a regularizer: %g" % scale)
        if scale == 0.:
            _log_info("Scale of 0 disables regularizer.")
            return False
    return True


def l1_regularizer(scale, scope=None):
    """weights -> scale * sum(|weights|) (None when scale is 0)."""
    if not _check_scale(scale):
        return lambda _: None

    def l1(weights, name=None):
        with _ops.name_scope(scope, "l1_regularizer", [weights]) as name:
            my_scale = _ops.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return math_ops.multiply(my_scale, reduction_ops.reduce_sum(gen_ops.abs(weights)), name=name)
    return l1


def l2_regularizer(scale, scope=None):
    """weights -> scale * sum(weights^2) / 2 (tf.nn.l2_loss; None when scale is 0)."""
    if not _check_scale(scale):
        return lambda _: None

    def l2(weights):
        with _ops.name_scope(scope, "l2_regularizer", [weights]) as name:
            my_scale = _ops.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return math_ops.multiply(my_scale, nn_ops.l2_loss(weights), name=name)
    return l2


def sum_regularizer(regularizer_list, scope=None):
    """The sum of several regularizers' penalties (those returning None skipped)."""
    regularizer_list = [reg for reg in regularizer_list if reg is not None]
    if not regularizer_list:
        return None

    def sum_reg(weights):
        with _ops.name_scope(scope, "sum_regularizer", [weights]) as name:
            penalties = [p for p in (reg(weights) for reg in regularizer_list) if p is not None]
            return math_ops.add_n(penalties, name=name)
    return sum_reg


def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
    if isinstance(scale_l1, numbers.Integral):
        raise ValueError("scale_l1 cannot be an integer: %s" % (scale_l1,))
    if isinstance(scale_l2, numbers.Integral):
        raise ValueError("scale_l2 cannot be an integer: %s" % (scale_l2,))
    scope = scope or "l1_l2_regularizer"
    if scale_l1 == 0.:
        return l2_regularizer(scale_l2, scope)
    if scale_l2 == 0.:
        return l1_regularizer(scale_l1, scope)
    return sum_regularizer([l1_regularizer(scale_l1), l2_regularizer(scale_l2)], scope=scope)


def apply_regularization(regularizer, weights_list=None):
    """The summed penalty of `regularizer` over `weights_list` (default: the WEIGHTS collection), also added
    to REGULARIZATION_LOSSES."""
    if not weights_list:
        weights_list = _ops.get_collection(GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError("No weights to regularize.")
    with _ops.name_scope("get_regularization_penalty", values=weights_list) as scope:
        penalties = [regularizer(w) for w in weights_list]
        penalties = [p for p in penalties if p is not None]
        for p in penalties:
            _ops.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, p)
        if not penalties:
            return _ops.constant_op(0.0)
        return math_ops.add_n(penalties, name=scope)


# ---- layers -----------------------------------------------------------------------------------------

def fully_connected(inputs, num_outputs, activation_fn=nn_ops.relu, normalizer_fn=None, normalizer_params=None,
                    weights_initializer=xavier_initializer(), weights_regularizer=None,
                    biases_initializer=init_ops.zeros_initializer(), biases_regularizer=None, reuse=None,
                    variables_collections=None, outputs_collections=None, trainable=True, scope=None):
    """activation_fn(normalizer_fn(inputs @ weights + biases)); variables `<scope>/weights` and
    `<scope>/biases` (no biases when a normalizer_fn is given), scope "fully_connected" by default."""
    if not isinstance(num_outputs, numbers.Integral):
        raise ValueError("num_outputs type should be one of [<class 'int'>], got %s." % type(num_outputs))
    getter = _build_variable_getter({"bias": "biases", "kernel": "weights"})
    with vs.variable_scope(scope, "fully_connected", [inputs], reuse=reuse, custom_getter=getter) as sc:
        inputs = _ops.convert_to_tensor(inputs)
        layer = _core_layers.Dense(units=num_outputs, activation=None,
                                   use_bias=not normalizer_fn and biases_initializer is not None,
                                   kernel_initializer=weights_initializer, bias_initializer=biases_initializer,
                                   kernel_regularizer=weights_regularizer, bias_regularizer=biases_regularizer,
                                   activity_regularizer=None, trainable=trainable, name=sc.name,
                                   dtype=inputs.dtype.base_dtype, _scope=sc, _reuse=reuse)
        outputs = layer.apply(inputs)
        _add_variable_to_collections(layer.kernel, variables_collections, "weights")
        if layer.bias is not None:
            _add_variable_to_collections(layer.bias, variables_collections, "biases")
        if normalizer_fn is not None:
            outputs = normalizer_fn(outputs, **(normalizer_params or {}))
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return _collect(outputs_collections, outputs)


def linear(inputs, num_outputs, scope=None, **kwargs):
    """fully_connected without an activation."""
    return fully_connected(inputs, num_outputs, activation_fn=None, scope=scope, **kwargs)


def convolution(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None, rate=1,
                activation_fn=nn_ops.relu, normalizer_fn=None, normalizer_params=None,
                weights_initializer=xavier_initializer(), weights_regularizer=None,
                biases_initializer=init_ops.zeros_initializer(), biases_regularizer=None, reuse=None,
                variables_collections=None, outputs_collections=None, trainable=True, scope=None, conv_dims=None):
    """An N-D convolution (N from the input's rank: 3, 4 or 5) with contrib's defaults: SAME padding,
    ReLU, xavier weights; variables `<scope>/weights` [*kernel, in, out] and `<scope>/biases`, scope
    "Conv" by default."""
    if data_format not in (None, "NWC", "NCW", "NHWC", "NCHW", "NDHWC", "NCDHW"):
        raise ValueError("Invalid data_format: %r" % (data_format,))
    getter = _build_variable_getter({"bias": "biases", "kernel": "weights"})
    with vs.variable_scope(scope, "Conv", [inputs], reuse=reuse, custom_getter=getter) as sc:
        inputs = _ops.convert_to_tensor(inputs)
        input_rank = inputs.shape.ndims
        if conv_dims is not None and input_rank is not None and conv_dims + 2 != input_rank:
            raise ValueError("Convolution expects input with rank %d, got %d" % (conv_dims + 2, input_rank))
        layer_class = {3: _conv_layers.Conv1D, 4: _conv_layers.Conv2D, 5: _conv_layers.Conv3D}.get(input_rank)
        if layer_class is None:
            raise ValueError("Convolution not supported for input with rank", input_rank)
        df = "channels_first" if data_format and data_format.startswith("NC") else "channels_last"
        layer = layer_class(filters=num_outputs, kernel_size=kernel_size, strides=stride, padding=padding,
                            data_format=df, dilation_rate=rate, activation=None,
                            use_bias=not normalizer_fn and biases_initializer is not None,
                            kernel_initializer=weights_initializer, bias_initializer=biases_initializer,
                            kernel_regularizer=weights_regularizer, bias_regularizer=biases_regularizer,
                            activity_regularizer=None, trainable=trainable, name=sc.name,
                            dtype=inputs.dtype.base_dtype, _scope=sc, _reuse=reuse)
        outputs = layer.apply(inputs)
        _add_variable_to_collections(layer.kernel, variables_collections, "weights")
        if layer.use_bias:
            _add_variable_to_collections(layer.bias, variables_collections, "biases")
        if normalizer_fn is not None:
            outputs = normalizer_fn(outputs, **(normalizer_params or {}))
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return _collect(outputs_collections, outputs)


def _fixed_dims(n):
    def conv(*args, **kwargs):
        kwargs["conv_dims"] = n
        return convolution(*args, **kwargs)
    conv.__name__ = conv.__qualname__ = "convolution%dd" % n
    conv.__doc__ = "convolution() for %d-D inputs." % n
    return conv


convolution1d, convolution2d, convolution3d = _fixed_dims(1), _fixed_dims(2), _fixed_dims(3)
conv1d, conv2d, conv3d = convolution1d, convolution2d, convolution3d


def flatten(inputs, outputs_collections=None, scope=None):
    """[batch, ...] -> [batch, k] in the name scope "Flatten"."""
    with _ops.name_scope(scope, "Flatten", [inputs]):
        inputs = _ops.convert_to_tensor(inputs)
        return _collect(outputs_collections, _core_layers.flatten(inputs))


def _pool(layer_cls, default_scope, inputs, kernel_size, stride, padding, data_format, outputs_collections, scope):
    if data_format not in (DATA_FORMAT_NCHW, DATA_FORMAT_NHWC):
        raise ValueError("data_format has to be either NCHW or NHWC.")
    with _ops.name_scope(scope, default_scope, [inputs]) as sc:
        inputs = _ops.convert_to_tensor(inputs)
        df = "channels_first" if data_format.startswith("NC") else "channels_last"
        layer = layer_cls(pool_size=kernel_size, strides=stride, padding=padding, data_format=df, _scope=sc)
        return _collect(outputs_collections, layer.apply(inputs))


def max_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format=DATA_FORMAT_NHWC, outputs_collections=None,
               scope=None):
    """2-D max pooling with contrib's defaults (stride 2, VALID)."""
    return _pool(_pool_layers.MaxPooling2D, "MaxPool2D", inputs, kernel_size, stride, padding, data_format,
                 outputs_collections, scope)


def avg_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format=DATA_FORMAT_NHWC, outputs_collections=None,
               scope=None):
    """2-D average pooling with contrib's defaults (stride 2, VALID)."""
    return _pool(_pool_layers.AveragePooling2D, "AvgPool2D", inputs, kernel_size, stride, padding, data_format,
                 outputs_collections, scope)


def dropout(inputs, keep_prob=0.5, noise_shape=None, is_training=True, outputs_collections=None, scope=None,
            seed=None):
    """Dropout keeping `keep_prob` of the inputs when is_training (a bool or boolean tensor; default True)."""
    with vs.variable_scope(scope, "Dropout", [inputs], custom_getter=_build_variable_getter()) as sc:
        inputs = _ops.convert_to_tensor(inputs)
        layer = _core_layers.Dropout(rate=1 - keep_prob, noise_shape=noise_shape, seed=seed, name=sc.name, _scope=sc)
        return _collect(outputs_collections, layer.apply(inputs, training=is_training))


def one_hot_encoding(labels, num_classes, on_value=1.0, off_value=0.0, outputs_collections=None, scope=None):
    """Float one-hot rows for integer labels."""
    with _ops.name_scope(scope, "OneHotEncoding", [labels, num_classes]):
        labels = _ops.convert_to_tensor(labels)
        if labels.dtype == _dtypes.int32:
            labels = math_ops.cast(labels, _dtypes.int64)
        return _collect(outputs_collections,
                        array_ops.one_hot(labels, num_classes, on_value=on_value, off_value=off_value))


def batch_norm(inputs, decay=0.999, center=True, scale=False, epsilon=0.001, activation_fn=None,
               param_initializers=None, param_regularizers=None, updates_collections=GraphKeys.UPDATE_OPS,
               is_training=True, reuse=None, variables_collections=None, outputs_collections=None, trainable=True,
               batch_weights=None, fused=None, data_format=DATA_FORMAT_NHWC, zero_debias_moving_mean=False,
               scope=None, renorm=False, renorm_clipping=None, renorm_decay=0.99, adjustment=None):
    """contrib's batch normalization (scope "BatchNorm"; beta, no gamma unless scale=True; moving_mean and
    moving_variance). With the default updates_collections the moving averages are updated by ops in
    UPDATE_OPS; with updates_collections=None the output itself waits for the updates when training.
    `is_training` defaults to True here, unlike tf.layers."""
    if batch_weights is not None or renorm or adjustment is not None or zero_debias_moving_mean:
        raise NotImplementedError("batch_norm: batch_weights, renorm, adjustment and zero_debias_moving_mean are "
                                  "not supported by tideflow")
    if fused is None:
        fused = True
    inputs = _ops.convert_to_tensor(inputs)
    rank = inputs.shape.ndims
    if fused and rank in (2, 4) and (rank == 2 or updates_collections is not GraphKeys.UPDATE_OPS):
        return _fused_batch_norm(inputs, decay, center, scale, epsilon, activation_fn, param_initializers,
                                 param_regularizers, updates_collections, is_training, reuse, variables_collections,
                                 outputs_collections, trainable, data_format, scope)
    if data_format not in (DATA_FORMAT_NCHW, DATA_FORMAT_NHWC):
        raise ValueError("data_format has to be either NCHW or NHWC.")
    if updates_collections is not GraphKeys.UPDATE_OPS:
        raise NotImplementedError("batch_norm: inputs of rank %s with updates_collections other than UPDATE_OPS "
                                  "are not supported by tideflow" % rank)
    with vs.variable_scope(scope, "BatchNorm", [inputs], reuse=reuse,
                           custom_getter=_build_variable_getter()) as sc:
        inits = param_initializers or {}
        regs = param_regularizers or {}
        layer = _norm_layers.BatchNormalization(
            axis=1 if data_format == DATA_FORMAT_NCHW else -1, momentum=decay, epsilon=epsilon, center=center,
            scale=scale, beta_initializer=inits.get("beta", init_ops.zeros_initializer()),
            gamma_initializer=inits.get("gamma", init_ops.ones_initializer()),
            moving_mean_initializer=inits.get("moving_mean", init_ops.zeros_initializer()),
            moving_variance_initializer=inits.get("moving_variance", init_ops.ones_initializer()),
            beta_regularizer=regs.get("beta"), gamma_regularizer=regs.get("gamma"), trainable=trainable,
            name=sc.name, _scope=sc, _reuse=reuse, fused=fused)
        outputs = layer.apply(inputs, training=is_training)
        _add_variable_to_collections(layer.moving_mean, variables_collections, "moving_mean")
        _add_variable_to_collections(layer.moving_variance, variables_collections, "moving_variance")
        if layer.beta is not None:
            _add_variable_to_collections(layer.beta, variables_collections, "beta")
        if layer.gamma is not None:
            _add_variable_to_collections(layer.gamma, variables_collections, "gamma")
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return _collect(outputs_collections, outputs)


def _fused_batch_norm(inputs, decay, center, scale, epsilon, activation_fn, param_initializers, param_regularizers,
                      updates_collections, is_training, reuse, variables_collections, outputs_collections, trainable,
                      data_format, scope):
    """contrib's own fused path: FusedBatchNormV3 on a 4-D view (rank-2 inputs become [N, 1, 1, C])."""
    if data_format not in (DATA_FORMAT_NCHW, DATA_FORMAT_NHWC):
        raise ValueError("data_format has to be either NCHW or NHWC.")
    with vs.variable_scope(scope, "BatchNorm", [inputs], reuse=reuse):
        original_shape = inputs.shape
        original_inputs = inputs
        if original_shape.ndims == 2:
            channels = original_shape[-1].value
            if channels is None:
                raise ValueError("`C` dimension must be known but is None")
            inputs = array_ops.reshape(inputs, [-1, channels, 1, 1] if data_format == DATA_FORMAT_NCHW
                                       else [-1, 1, 1, channels])
        inputs_shape = inputs.shape
        params_shape = inputs_shape[-1:] if data_format == DATA_FORMAT_NHWC else inputs_shape[1:2]
        if not params_shape.is_fully_defined():
            raise ValueError("Inputs %s has undefined channels dimension %s." % (inputs.name, params_shape))
        inits = param_initializers or {}
        regs = param_regularizers or {}
        if center:
            beta = model_variable("beta", shape=params_shape, dtype=_dtypes.float32,
                                  initializer=inits.get("beta", init_ops.zeros_initializer()),
                                  regularizer=regs.get("beta"),
                                  collections=_variable_collections(variables_collections, "beta"), trainable=trainable)
        else:
            beta = _ops.constant_op(0.0, dtype=_dtypes.float32, shape=params_shape.as_list())
        if scale:
            gamma = model_variable("gamma", shape=params_shape, dtype=_dtypes.float32,
                                   initializer=inits.get("gamma", init_ops.ones_initializer()),
                                   regularizer=regs.get("gamma"),
                                   collections=_variable_collections(variables_collections, "gamma"),
                                   trainable=trainable)
        else:
            gamma = _ops.constant_op(1.0, dtype=_dtypes.float32, shape=params_shape.as_list())
        moving_mean = model_variable("moving_mean", shape=params_shape, dtype=_dtypes.float32,
                                     initializer=inits.get("moving_mean", init_ops.zeros_initializer()),
                                     trainable=False,
                                     collections=_variable_collections(variables_collections, "moving_mean"))
        moving_variance = model_variable("moving_variance", shape=params_shape, dtype=_dtypes.float32,
                                         initializer=inits.get("moving_variance", init_ops.ones_initializer()),
                                         trainable=False,
                                         collections=_variable_collections(variables_collections, "moving_variance"))

        def training_fn():
            return nn_ops.fused_batch_norm(inputs, gamma, beta, epsilon=epsilon, data_format=data_format)

        def inference_fn():
            return nn_ops.fused_batch_norm(inputs, gamma, beta, mean=moving_mean, variance=moving_variance,
                                           epsilon=epsilon, is_training=False, data_format=data_format)

        outputs, mean, variance = smart_cond(is_training, training_fn, inference_fn)
        training_value = smart_constant_value(is_training)
        if training_value is None or training_value:
            if updates_collections is None:
                def force_updates():
                    update_mean = assign_moving_average(moving_mean, mean, decay)
                    update_variance = assign_moving_average(moving_variance, variance, decay)
                    with _ops.control_dependencies([update_mean, update_variance]):
                        return array_ops.identity(outputs)
                outputs = smart_cond(is_training, force_updates, lambda: outputs)
            else:
                def delay_updates():
                    return (assign_moving_average(moving_mean, mean, decay),
                            assign_moving_average(moving_variance, variance, decay))
                update_mean, update_variance = smart_cond(is_training, delay_updates,
                                                          lambda: (moving_mean.value(), moving_variance.value()))
                _ops.add_to_collections(updates_collections, update_mean)
                _ops.add_to_collections(updates_collections, update_variance)
        outputs.set_shape(inputs_shape)
        if original_shape.ndims == 2:
            outputs = array_ops.reshape(outputs, array_ops.shape(original_inputs))
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return _collect(outputs_collections, outputs)


def layer_norm(inputs, center=True, scale=True, activation_fn=None, reuse=None, variables_collections=None,
               outputs_collections=None, trainable=True, begin_norm_axis=1, begin_params_axis=-1, scope=None):
    """Layer normalization (Ba et al., 2016): each example normalized over dims begin_norm_axis..., then
    scaled by gamma and shifted by beta (shape inputs.shape[begin_params_axis:]); scope "LayerNorm"."""
    with vs.variable_scope(scope, "LayerNorm", [inputs], reuse=reuse):
        inputs = _ops.convert_to_tensor(inputs)
        inputs_shape = inputs.shape
        inputs_rank = inputs_shape.ndims
        if inputs_rank is None:
            raise ValueError("Inputs %s has undefined rank." % inputs.name)
        dtype = inputs.dtype.base_dtype
        if begin_norm_axis < 0:
            begin_norm_axis = inputs_rank + begin_norm_axis
        if begin_params_axis >= inputs_rank or begin_norm_axis >= inputs_rank:
            raise ValueError("begin_params_axis (%d) and begin_norm_axis (%d) must be < rank(inputs) (%d)"
                             % (begin_params_axis, begin_norm_axis, inputs_rank))
        params_shape = inputs_shape[begin_params_axis:]
        if not params_shape.is_fully_defined():
            raise ValueError("Inputs %s: shape(inputs)[%s:] is not fully defined: %s"
                             % (inputs.name, begin_params_axis, inputs_shape))
        beta = gamma = None
        if center:
            beta = model_variable("beta", shape=params_shape, dtype=dtype, initializer=init_ops.zeros_initializer(),
                                  collections=_variable_collections(variables_collections, "beta"), trainable=trainable)
        if scale:
            gamma = model_variable("gamma", shape=params_shape, dtype=dtype, initializer=init_ops.ones_initializer(),
                                   collections=_variable_collections(variables_collections, "gamma"),
                                   trainable=trainable)
        norm_axes = list(range(begin_norm_axis, inputs_rank))
        mean, variance = nn_ops.moments(inputs, norm_axes, keep_dims=True)
        variance_epsilon = 1e-12 if dtype.name != "float16" else 1e-3
        outputs = nn_ops.batch_normalization(inputs, mean, variance, offset=beta, scale=gamma,
                                             variance_epsilon=variance_epsilon)
        outputs.set_shape(inputs_shape)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return _collect(outputs_collections, outputs)
