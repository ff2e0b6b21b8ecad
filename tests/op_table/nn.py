"""Op-table rows of tf.nn (cpp/ops/nn.cc, python/tideflow/ops/nn_ops.py)."""
import numpy as np

from .common import HALF, SMALL_INT, OpRow, add_dtypes, add_dtypes_to_families

FLOATS = ("float32", "float64")


def _log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _softmax(x, axis=-1):
    return np.exp(_log_softmax(x, axis))


def _logits_and_probs(rng, shapes, dtype):
    """Logits and rows of label probabilities (summing to 1)."""
    logits = rng.uniform(-3, 3, size=shapes[0]).astype(dtype)
    p = rng.uniform(0.1, 1, size=shapes[1])
    return [logits, (p / p.sum(axis=-1, keepdims=True)).astype(dtype)]


def _logits_and_classes(rng, shapes, dtype):
    logits = rng.uniform(-3, 3, size=shapes[0]).astype(dtype)
    return [logits, rng.randint(0, shapes[0][-1], size=shapes[1]).astype(np.int64)]


def _logits_and_bits(rng, shapes, dtype):
    return [rng.uniform(-4, 4, size=shapes[0]).astype(dtype), rng.uniform(0, 1, size=shapes[1]).astype(dtype)]


def _sparse_ref(logits, labels):
    lp = _log_softmax(logits)
    return -np.take_along_axis(lp, labels[..., None].astype(np.int64), axis=-1)[..., 0]


def _away(eps, at=0.0):
    return lambda arrays: [np.where(a >= at, a + eps, a - eps).astype(a.dtype) for a in arrays]


def _clip_rows(e, max_norm):
    n = np.sqrt(np.sum(e * e, axis=-1, keepdims=True))
    return e * max_norm / np.maximum(n, max_norm)


def _clip_all(x, clip, axis):
    n = np.sqrt(np.sum(x.astype(np.float64) ** 2, axis=axis, keepdims=axis is not None))
    return (x * clip / np.maximum(n, clip)).astype(x.dtype)


ROWS = [
    OpRow("softmax", lambda tf, x: tf.nn.softmax(x), _softmax, [((2, 5),), ((3, 4, 5),), ((7,),), ((0, 3),)],
          low=-5, high=5),
    OpRow("softmax[axis=0]", lambda tf, x: tf.nn.softmax(x, axis=0), lambda x: _softmax(x, 0), [((3, 4),)]),
    OpRow("log_softmax", lambda tf, x: tf.nn.log_softmax(x), _log_softmax, [((2, 5),), ((3, 4, 5),), ((1,),)],
          low=-5, high=5),
    OpRow("log_softmax[axis=1]", lambda tf, x: tf.nn.log_softmax(x, axis=1), lambda x: _log_softmax(x, 1),
          [((2, 3, 4),)]),
    OpRow("softmax_cross_entropy_with_logits_v2",
          lambda tf, x, y: tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=x),
          lambda x, y: -np.sum(y * _log_softmax(x), axis=-1),
          [((3, 4), (3, 4)), ((2, 3, 5), (2, 3, 5)), ((3, 4), (1, 4))], make=_logits_and_probs),
    OpRow("softmax_cross_entropy_with_logits[dim=0]",
          lambda tf, x, y: tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=x, dim=0),
          lambda x, y: -np.sum(y * _log_softmax(x, 0), axis=0), [((4, 3), (4, 3))],
          make=lambda rng, s, dt: [a.T.copy() for a in _logits_and_probs(rng, [s[0][::-1], s[1][::-1]], dt)],
          grad_inputs=[0]),
    OpRow("sparse_softmax_cross_entropy_with_logits",
          lambda tf, x, y: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x), _sparse_ref,
          [((3, 4), (3,)), ((2, 3, 5), (2, 3)), ((0, 4), (0,))], make=_logits_and_classes, grad_inputs=[0]),
    OpRow("sigmoid_cross_entropy_with_logits",
          lambda tf, x, z: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
          lambda x, z: np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x))),
          [((3, 4), (3, 4)), ((), ())], make=_logits_and_bits,
          avoid=lambda a: [np.where(a[0] >= 0, a[0] + 0.1, a[0] - 0.1).astype(a[0].dtype), a[1]]),
    OpRow("weighted_cross_entropy_with_logits",
          lambda tf, x, z: tf.nn.weighted_cross_entropy_with_logits(labels=z, logits=x, pos_weight=2.5),
          lambda x, z: -(2.5 * z * np.log(1 / (1 + np.exp(-x))) + (1 - z) * np.log(1 - 1 / (1 + np.exp(-x)))),
          [((3, 4), (3, 4))], make=_logits_and_bits),
    OpRow("l2_normalize", lambda tf, x: tf.nn.l2_normalize(x, axis=1),
          lambda x: x / np.sqrt(np.sum(x * x, axis=1, keepdims=True)), [((3, 4),)]),
    # Norms of 2..4 against a clip of 1.5 (all rows clipped) and of 10 (none): away from the kink at norm == clip.
    OpRow("clip_by_norm", lambda tf, x: tf.clip_by_norm(x, 1.5), lambda x: _clip_all(x, 1.5, None),
          [((3, 4),), ((5,),)], low=0.6, high=2.0),
    OpRow("clip_by_norm[axes=1]", lambda tf, x: tf.clip_by_norm(x, 10.0, axes=[1]), lambda x: _clip_all(x, 10.0, 1),
          [((3, 4),)]),
    OpRow("softsign", lambda tf, x: tf.nn.softsign(x), lambda x: x / (1 + np.abs(x)), [((3, 4),)], avoid=_away(0.2)),
    OpRow("embedding_lookup", lambda tf, p: tf.nn.embedding_lookup(p, [[2, 0], [2, 4]]),
          lambda p: p[np.array([[2, 0], [2, 4]])], [((5, 3),)]),
    OpRow("embedding_lookup[shards,mod]",
          lambda tf, a, b: tf.nn.embedding_lookup([a, b], [3, 0, 4, 1, 1]),
          lambda a, b: np.stack([b[1], a[0], a[2], b[0], b[0]]), [((3, 2), (2, 2))]),
    OpRow("embedding_lookup[shards,div,max_norm]",
          lambda tf, a, b, c: tf.nn.embedding_lookup([a, b, c], [[6, 0], [3, 4]], partition_strategy="div",
                                                     max_norm=0.8),
          lambda a, b, c: _clip_rows(np.concatenate([a, b, c])[np.array([[6, 0], [3, 4]])], 0.8),
          [((3, 2), (2, 2), (2, 2))], low=0.5, high=2.0),
    OpRow("l2_loss", lambda tf, x: tf.nn.l2_loss(x), lambda x: np.sum(x * x) / 2, [((3, 4),), ((),)]),
    OpRow("bias_add", lambda tf, x, b: tf.nn.bias_add(x, b), lambda x, b: x + b,
          [((2, 3), (3,)), ((2, 4, 4, 3), (3,))]),
    OpRow("bias_add[NCHW]", lambda tf, x, b: tf.nn.bias_add(x, b, data_format="NCHW"),
          lambda x, b: x + b.reshape(-1, 1, 1), [((2, 3, 4, 4), (3,))]),
    OpRow("relu6", lambda tf, x: tf.nn.relu6(x), lambda x: np.minimum(np.maximum(x, 0), 6), [((3, 4),)],
          low=-3, high=9, avoid=lambda a: [np.where(np.abs(a[0] - 6) < 0.2, a[0] + 0.5, a[0])
                                           + np.where(np.abs(a[0]) < 0.2, 0.5, 0).astype(a[0].dtype)]),
    OpRow("leaky_relu", lambda tf, x: tf.nn.leaky_relu(x, alpha=0.1), lambda x: np.where(x > 0, x, 0.1 * x),
          [((3, 4),)], avoid=_away(0.2)),
    OpRow("elu", lambda tf, x: tf.nn.elu(x), lambda x: np.where(x > 0, x, np.expm1(x)), [((3, 4),)],
          avoid=_away(0.2)),
    OpRow("softplus", lambda tf, x: tf.nn.softplus(x), lambda x: np.logaddexp(0, x), [((3, 4),)], low=-30, high=30),
    OpRow("moments[mean]", lambda tf, x: tf.nn.moments(x, [0, 1])[0], lambda x: x.mean(axis=(0, 1)),
          [((2, 3, 4),)]),
    OpRow("moments[variance,keep_dims]", lambda tf, x: tf.nn.moments(x, [1], keep_dims=True)[1],
          lambda x: x.var(axis=1, keepdims=True), [((2, 3, 4),)]),
    OpRow("xw_plus_b", lambda tf, x, w, b: tf.nn.xw_plus_b(x, w, b), lambda x, w, b: x @ w + b,
          [((2, 3), (3, 4), (4,))], rtol=1e-4),
]

# float16 and bfloat16 where TensorFlow's CPU kernels have them (cpp/dtype.h: Note [dtype sets]); softmax and
# the losses compute in float32 and round once (Note [computing in float32]).
add_dtypes_to_families(ROWS, ["softmax", "log_softmax", "softmax_cross_entropy_with_logits_v2",
                              "softmax_cross_entropy_with_logits", "sparse_softmax_cross_entropy_with_logits",
                              "sigmoid_cross_entropy_with_logits", "l2_normalize", "softsign", "embedding_lookup",
                              "l2_loss", "bias_add", "relu6", "leaky_relu", "elu", "softplus", "moments",
                              "xw_plus_b"], HALF, only_with="float32")
# embedding_lookup's max_norm clips by a float norm: the integers only gather.
add_dtypes(ROWS, {"bias_add": SMALL_INT, "bias_add[NCHW]": SMALL_INT, "embedding_lookup": SMALL_INT,
                  "embedding_lookup[shards,mod]": SMALL_INT})
