"""tf.nn: activations, softmax and the cross-entropy losses (cpp/ops/nn.cc), l2_loss, moments; convolutions
and pooling come from conv_ops.py, bias_add, dropout and normalization from nn_impl.py.
Composites follow TensorFlow 1.x's formulas and scope names, so numbers and graphs read the same."""
import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import importer as _importer
from ..framework import ops as _ops
from . import array_ops, clip_ops, gen_ops, linalg_ops, math_ops, reduction_ops
from .gen_ops import relu, sigmoid, tanh  # noqa: F401 (tf.nn.relu...; made from the registry)
from ..framework.tensor_shape import dimension_value as _dimension_value

__all__ = ["relu", "sigmoid", "tanh", "relu6", "leaky_relu", "elu", "softplus", "softmax", "log_softmax",
           "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
           "sparse_softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits", "l2_loss",
           "weighted_cross_entropy_with_logits", "bias_add", "xw_plus_b", "moments", "l2_normalize",
           "softsign", "embedding_lookup", "selu", "swish", "silu", "top_k", "in_top_k",
           "space_to_depth", "depth_to_space"]


def relu6(features, name=None):
    """min(max(features, 0), 6)."""
    with _ops.name_scope(name, "Relu6", [features]) as scope:
        x = _ops.convert_to_tensor(features, name="features")
        return math_ops.minimum(math_ops.maximum(x, 0), 6, name=scope)


def leaky_relu(features, alpha=0.2, name=None):
    """max(alpha * x, x) (for alpha <= 1, as TensorFlow computes it)."""
    with _ops.name_scope(name, "LeakyRelu", [features, alpha]) as scope:
        x = _ops.convert_to_tensor(features, name="features")
        return math_ops.maximum(math_ops.multiply(_ops.convert_to_tensor(alpha, dtype=x.dtype), x), x, name=scope)


def elu(features, name=None):
    """x where x > 0, exp(x) - 1 elsewhere."""
    with _ops.name_scope(name, "Elu", [features]) as scope:
        x = _ops.convert_to_tensor(features, name="features")
        return math_ops.where(math_ops.greater(x, 0), x, math_ops.subtract(gen_ops.exp(x), 1), name=scope)


def selu(features, name=None):
    """scale * x for x >= 0, scale * alpha * (exp(x) - 1) below, with TF's constants (self-normalizing
    networks). The exponential branch sees min(x, 0), so large x cannot overflow it into a NaN gradient;
    the gradient at 0 is scale, as TensorFlow's SeluGrad."""
    with _ops.name_scope(name, "Selu", [features]) as scope:
        x = _ops.convert_to_tensor(features, name="features")
        scale = _ops.convert_to_tensor(1.0507009873554804934193349852946, dtype=x.dtype)
        scale_alpha = _ops.convert_to_tensor(1.0507009873554804934193349852946 * 1.6732632423543772848170429916717,
                                             dtype=x.dtype)
        neg = math_ops.multiply(scale_alpha, gen_ops.expm1(math_ops.minimum(x, 0)))
        return math_ops.where(math_ops.less(x, 0), neg, math_ops.multiply(scale, x), name=scope)


def swish(features, name=None):
    """x * sigmoid(x) (TF 1.x's tf.nn.swish, also called silu)."""
    with _ops.name_scope(name, "swish", [features]) as scope:
        x = _ops.convert_to_tensor(features, name="features")
        return math_ops.multiply(x, gen_ops.sigmoid(x), name=scope)


silu = swish


def _log1p_exp_neg_abs(x):
    """log(1 + exp(-|x|)): the bounded part of the stable softplus and logistic losses."""
    return gen_ops.log1p(gen_ops.exp(gen_ops.negative(gen_ops.abs(x))))


def softplus(features, name=None):
    """log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)) so large |x| stays finite."""
    with _ops.name_scope(name, "Softplus", [features]) as scope:
        x = _ops.convert_to_tensor(features, name="features")
        return math_ops.add(math_ops.maximum(x, 0), _log1p_exp_neg_abs(x), name=scope)


def softsign(features, name=None):
    """x / (1 + |x|)."""
    with _ops.name_scope(name, "Softsign", [features]) as scope:
        x = _ops.convert_to_tensor(features, name="features")
        return math_ops.truediv(x, math_ops.add(gen_ops.abs(x), _ops.convert_to_tensor(1, dtype=x.dtype)), name=scope)


def _last_axis_op(op_type, logits, axis, name):
    """Softmax-family op over `axis`: the kernel works on the last axis, so another axis is swapped there
    and back (TF1 does the same)."""
    with _ops.name_scope(name, op_type, [logits]) as scope:
        x = _ops.convert_to_tensor(logits, name="logits")
        rank = x.shape.ndims
        if axis is None or axis == -1 or (rank is not None and axis == rank - 1):
            return _ops.apply1(op_type, [x], name=scope)
        if rank is None:
            raise ValueError("%s over axis %d needs the rank of the logits to be known" % (op_type, axis))
        if not -rank <= axis < rank:
            raise ValueError("axis %d is out of range for logits of rank %d" % (axis, rank))
        perm = list(range(rank))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        y = _ops.apply1(op_type, [array_ops.transpose(x, perm)])
        return array_ops.transpose(y, perm, name=scope)


def softmax(logits, axis=None, name=None, dim=None):
    """exp(x) / sum(exp(x)) along `axis` (the last by default), computed with the row maximum removed."""
    return _last_axis_op("Softmax", logits, axis if axis is not None else dim, name)


def log_softmax(logits, axis=None, name=None, dim=None):
    """x - log(sum(exp(x))) along `axis` (the last by default), computed stably."""
    return _last_axis_op("LogSoftmax", logits, axis if axis is not None else dim, name)


def _rows(t):
    """t reshaped to [-1, last dim]."""
    classes = _dimension_value(t.shape[-1])
    if classes is None:
        return array_ops.reshape(t, array_ops.concat([[-1], array_ops.shape(t)[-1:]], 0))
    return array_ops.reshape(t, [-1, classes])


def _check_named(sentinel, fn):
    if sentinel is not None:
        raise ValueError("Only call `%s` with named arguments (labels=..., logits=..., ...)" % fn)


def softmax_cross_entropy_with_logits_v2(_sentinel=None, labels=None, logits=None, axis=None, name=None,
                                         dim=None):
    """-sum(labels * log_softmax(logits)) along `axis` (default last), one loss per row; gradients reach
    both logits and labels. Rank other than 2 (or another axis) is reshaped to a batch of rows."""
    _check_named(_sentinel, "softmax_cross_entropy_with_logits_v2")
    axis = axis if axis is not None else (dim if dim is not None else -1)
    with _ops.name_scope(name, "softmax_cross_entropy_with_logits", [logits, labels]) as scope:
        logits = _ops.convert_to_tensor(logits, name="logits")
        labels = _ops.convert_to_tensor(labels, name="labels")
        if labels.dtype.base_dtype != logits.dtype.base_dtype:  # TF casts labels to the logits' dtype
            labels = math_ops.cast(labels, logits.dtype)
        rank = logits.shape.ndims
        if rank == 2 and axis in (-1, 1):
            return _ops.apply_op("SoftmaxCrossEntropyWithLogits", [logits, labels], name=scope).outputs[0]
        if rank is None:
            raise ValueError("softmax_cross_entropy_with_logits needs logits of known rank, got %s" % logits)
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError("logits and labels must have the same shape, got %s and %s"
                             % (logits.shape, labels.shape))
        axis = axis % rank
        if axis != rank - 1:
            perm = list(range(rank))
            perm[axis], perm[-1] = perm[-1], perm[axis]
            logits, labels = array_ops.transpose(logits, perm), array_ops.transpose(labels, perm)
        static = logits.shape[:-1]
        batch_shape = static.as_list() if static.is_fully_defined() else array_ops.shape(logits)[:-1]
        loss = _ops.apply_op("SoftmaxCrossEntropyWithLogits", [_rows(logits), _rows(labels)]).outputs[0]
        return array_ops.reshape(loss, batch_shape, name=scope)


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1, name=None, axis=None):
    """TF1's version: like the v2 function, but no gradient flows into `labels`."""
    _check_named(_sentinel, "softmax_cross_entropy_with_logits")
    with _ops.name_scope(name, "softmax_cross_entropy_with_logits_sg", [logits, labels]) as scope:
        labels = _ops.apply1("StopGradient", [_ops.convert_to_tensor(labels)], name="labels_stop_gradient")
        return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits,
                                                    axis=axis if axis is not None else dim, name=scope)


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """-log_softmax(logits)[label] per row; labels are class indices (int32/int64) of rank
    rank(logits) - 1. A label outside [0, classes) raises InvalidArgumentError when run."""
    _check_named(_sentinel, "sparse_softmax_cross_entropy_with_logits")
    with _ops.name_scope(name, "SparseSoftmaxCrossEntropyWithLogits", [labels, logits]):
        logits = _ops.convert_to_tensor(logits, name="logits")
        labels = _ops.convert_to_tensor(labels, name="labels")
        lr, gr = labels.shape.ndims, logits.shape.ndims
        if lr is not None and gr is not None and lr != gr - 1:
            raise ValueError("Rank mismatch: Rank of labels (received %d) should equal rank of logits minus 1 "
                             "(received %d)." % (lr, gr))
        if gr == 2 or gr is None:
            return _ops.apply_op("SparseSoftmaxCrossEntropyWithLogits", [logits, labels],
                                 name=name or "SparseSoftmaxCrossEntropyWithLogits").outputs[0]
        if gr == 1:
            raise ValueError("Logits cannot be scalars - received shape %s." % logits.shape)
        flat_logits, flat_labels = _rows(logits), array_ops.reshape(labels, [-1])
        loss = _ops.apply_op("SparseSoftmaxCrossEntropyWithLogits", [flat_logits, flat_labels],
                             name=name or "SparseSoftmaxCrossEntropyWithLogits").outputs[0]
        static = labels.shape
        return array_ops.reshape(loss, static.as_list() if static.is_fully_defined() else array_ops.shape(labels))


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """Elementwise -z*log(sigmoid(x)) - (1-z)*log(1-sigmoid(x)), computed as TF does:
    max(x, 0) - x*z + log(1 + exp(-|x|)), finite for any x."""
    _check_named(_sentinel, "sigmoid_cross_entropy_with_logits")
    with _ops.name_scope(name, "logistic_loss", [logits, labels]) as scope:
        logits = _ops.convert_to_tensor(logits, name="logits")
        labels = _ops.convert_to_tensor(labels, dtype=logits.dtype, name="labels")
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError("logits and labels must have the same shape (%s vs %s)" % (logits.shape, labels.shape))
        zeros = array_ops.zeros_like(logits, dtype=logits.dtype)
        cond = math_ops.greater_equal(logits, zeros)
        relu_logits = math_ops.where(cond, logits, zeros)
        neg_abs_logits = math_ops.where(cond, gen_ops.negative(logits), logits)
        return math_ops.add(math_ops.subtract(relu_logits, math_ops.multiply(logits, labels)),
                            gen_ops.log1p(gen_ops.exp(neg_abs_logits)), name=scope)


def weighted_cross_entropy_with_logits(labels=None, logits=None, pos_weight=None, name=None, targets=None):
    """Sigmoid cross-entropy with the positive term scaled by pos_weight, in TF's stable form:
    (1 - z) * x + (1 + (q - 1) * z) * (log1p(exp(-|x|)) + max(-x, 0))."""
    labels = labels if labels is not None else targets
    with _ops.name_scope(name, "logistic_loss", [logits, labels]) as scope:
        logits = _ops.convert_to_tensor(logits, name="logits")
        labels = _ops.convert_to_tensor(labels, dtype=logits.dtype, name="labels")
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError("logits and labels must have the same shape (%s vs %s)" % (logits.shape, labels.shape))
        one = _ops.convert_to_tensor(1, dtype=logits.dtype)
        q = _ops.convert_to_tensor(pos_weight, dtype=logits.dtype)
        log_weight = math_ops.add(one, math_ops.multiply(math_ops.subtract(q, one), labels))
        softplus_neg = math_ops.add(_log1p_exp_neg_abs(logits), relu(gen_ops.negative(logits)))
        return math_ops.add(math_ops.multiply(math_ops.subtract(one, labels), logits),
                            math_ops.multiply(log_weight, softplus_neg), name=scope)


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x^2, axis), epsilon))."""
    axis = axis if axis is not None else dim
    with _ops.name_scope(name, "l2_normalize", [x]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        square_sum = reduction_ops.reduce_sum(gen_ops.square(x), axis, keepdims=True)
        inv_norm = gen_ops.rsqrt(math_ops.maximum(square_sum, _ops.convert_to_tensor(epsilon, dtype=x.dtype)))
        return math_ops.multiply(x, inv_norm, name=scope)


def l2_loss(t, name=None):
    """sum(t ** 2) / 2."""
    with _ops.name_scope(name, "L2Loss", [t]) as scope:
        t = _ops.convert_to_tensor(t, name="t")
        half = _ops.convert_to_tensor(0.5, dtype=t.dtype)
        return math_ops.multiply(reduction_ops.reduce_sum(gen_ops.square(t)), half, name=scope)


def xw_plus_b(x, weights, biases, name=None):
    """matmul(x, weights) + biases."""
    with _ops.name_scope(name, "xw_plus_b", [x, weights, biases]) as scope:
        return bias_add(linalg_ops.matmul(x, weights), biases, name=scope)


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """(mean, variance) over `axes` (Python ints); the variance is the mean squared deviation from the
    (gradient-stopped) mean, as TF1 computes it. `shift` is accepted and unused, as in TF1."""
    keep = reduction_ops._keep(keepdims, keep_dims)
    with _ops.name_scope(name, "moments", [x, axes]):
        x = _ops.convert_to_tensor(x, name="x")
        axes = [int(i) for i in np.atleast_1d(axes)]
        mean = reduction_ops.reduce_mean(x, axes, keepdims=True, name="mean")
        sq = math_ops.squared_difference(x, _ops.apply1("StopGradient", [mean]))
        variance = reduction_ops.reduce_mean(sq, axes, keepdims=True, name="variance")
        if keep:
            return mean, variance
        return array_ops.squeeze(mean, axes), array_ops.squeeze(variance, axes)


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True, max_norm=None):
    """Rows of `params` for `ids` (a gather). `params` may be one tensor or a list of shards, split by
    `partition_strategy` as TF does: "mod" puts id i in shard i % P at row i // P, "div" gives each shard
    a contiguous range (the first N % P shards one row more). The gradient is a dense tensor per shard,
    where TF gives IndexedSlices with the same values. `max_norm` clips each looked-up row's L2 norm."""
    if isinstance(params, (list, tuple)):
        params = list(params)
    else:
        params = [params]
    if not params:
        raise ValueError("Need at least one param")
    if partition_strategy not in ("mod", "div"):
        raise ValueError("Unrecognized partition strategy: " + str(partition_strategy))
    with _ops.name_scope(name, "embedding_lookup", params + [ids]) as scope:
        params = [_ops.convert_to_tensor(p, name="params") for p in params]
        ids = _ops.convert_to_tensor(ids, name="ids")
        if len(params) == 1:
            table, rows = params[0], ids
        else:
            sizes = [_dimension_value(p.shape[0]) if p.shape.ndims else None for p in params]
            if any(s is None for s in sizes):
                raise ValueError("embedding_lookup over several shards needs each shard's first dimension "
                                 "to be known, got %s" % [str(p.shape) for p in params])
            n, k = sum(sizes), len(params)
            ids64 = math_ops.cast(ids, "int64")
            if partition_strategy == "mod":
                shard, within = math_ops.floormod(ids64, k), math_ops.floordiv(ids64, k)
            else:  # "div": the first n % k shards hold n // k + 1 ids each (TF's formulas)
                per, extras = n // k, n % k
                shard = math_ops.maximum(math_ops.floordiv(ids64, per + 1),
                                         math_ops.floordiv(math_ops.subtract(ids64, extras), max(per, 1)))
                within = math_ops.where(math_ops.less(shard, extras), math_ops.floormod(ids64, per + 1),
                                        math_ops.floormod(math_ops.subtract(ids64, extras), max(per, 1)))
            offsets = _ops.convert_to_tensor(np.cumsum([0] + sizes[:-1]).astype(np.int64), name="offsets")
            rows = math_ops.add(array_ops.gather(offsets, shard), within)
            table = array_ops.concat(params, 0)
        result = array_ops.gather(table, rows, name=None if max_norm is not None else scope)
        if max_norm is None:
            return result
        ndims = result.shape.ndims
        axes = list(range(ids.shape.ndims, ndims)) if ndims is not None and ids.shape.ndims is not None else None
        return clip_ops.clip_by_norm(result, max_norm, axes=axes, name=scope)


def top_k(input, k=1, sorted=True, name=None):  # noqa: A002
    """The k largest entries of each last-axis row and their int32 indices; ties keep index order."""
    op = _ops.apply_op("TopKV2", [input, _ops.convert_to_tensor(k, dtype=_dtypes.int32, name="k")
                                  if not _ops.is_tensor(k) else k], {"sorted": bool(sorted)}, name=name or "TopKV2")
    return TopKResult(*op.outputs)


def in_top_k(predictions, targets, k, name=None):
    targets = _ops.convert_to_tensor(targets, name="targets")
    k = _ops.convert_to_tensor(k, dtype=targets.dtype, name="k") if not _ops.is_tensor(k) else k
    return _ops.apply1("InTopKV2", [predictions, targets, k], name=name or "InTopKV2")


def space_to_depth(input, block_size, name=None, data_format="NHWC"):  # noqa: A002
    return array_ops.space_to_depth(input, block_size, name=name, data_format=data_format)


def depth_to_space(input, block_size, name=None, data_format="NHWC"):  # noqa: A002
    return array_ops.depth_to_space(input, block_size, name=name, data_format=data_format)


import collections as _collections  # noqa: E402

TopKResult = _collections.namedtuple("TopKV2", ["values", "indices"])


from .conv_ops import *  # noqa: E402,F401,F403  (convolutions and pooling)
from .nn_impl import *  # noqa: E402,F401,F403  (bias_add, dropout, batch norm, lrn)
from . import conv_ops as _conv_ops, nn_impl as _nn_impl  # noqa: E402

__all__ += _conv_ops.__all__ + [n for n in _nn_impl.__all__ if n not in __all__]


# TensorFlow graphs name these as single ops; tideflow builds them from its own (framework/importer.py).
def _tf_composite(fn, **attr_names):
    return lambda x, name, attrs: fn(x, name=name, **{k: attrs[a] for k, a in attr_names.items() if a in attrs})


for _op_type, _fn in (("Relu6", _tf_composite(relu6)), ("Elu", _tf_composite(elu)), ("Selu", _tf_composite(selu)),
                      ("Softplus", _tf_composite(softplus)), ("Softsign", _tf_composite(softsign)),
                      ("LeakyRelu", _tf_composite(leaky_relu, alpha="alpha")), ("L2Loss", _tf_composite(l2_loss))):
    _importer.register_composite(_op_type, _fn)
