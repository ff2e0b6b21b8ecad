"""tf.metrics: streaming values against NumPy references over several batches, TF's variable names and
collections, reset through local_variables_initializer, and (where TensorFlow is installed) the same
streams through tf.compat.v1.metrics."""
import numpy as np
import pytest

import tideflow as tf

RNG = np.random.RandomState(0)
BATCHES = [(RNG.randint(0, 2, 9), RNG.rand(9).astype(np.float32), RNG.rand(9).astype(np.float32))
           for _ in range(3)]
ALL_L = np.concatenate([b[0] for b in BATCHES])
ALL_P = np.concatenate([b[1] for b in BATCHES])
ALL_W = np.concatenate([b[2] for b in BATCHES])


def _stream(lib, make, batches=BATCHES):
    """(final value, update-op results per batch, sorted local variable names) of one metric."""
    g = lib.Graph()
    with g.as_default():
        L = lib.placeholder(lib.int64, [None])
        P = lib.placeholder(lib.float32, [None])
        W = lib.placeholder(lib.float32, [None])
        value, update = make(lib, L, P, W)
        names = sorted(v.op.name for v in lib.local_variables())
        with lib.Session() as s:
            s.run(lib.local_variables_initializer())
            ups = [s.run(update, {L: l, P: p, W: w}) for l, p, w in batches]
            return s.run(value), ups, names


def _np_auc(labels, preds, weights, curve="ROC", n=200, method="trapezoidal"):
    th = np.array([-1e-7] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + 1e-7], np.float64)
    pos = preds[None, :] > th[:, None]
    lab = labels.astype(bool)[None, :]
    w = weights[None, :]
    tp, fp = (w * (pos & lab)).sum(1), (w * (pos & ~lab)).sum(1)
    fn, tn = (w * (~pos & lab)).sum(1), (w * (~pos & ~lab)).sum(1)
    eps = 1e-6
    rec = (tp + eps) / (tp + fn + eps)
    if curve == "ROC":
        x, y = fp / (fp + tn + eps), rec
    else:
        x, y = rec, (tp + eps) / (tp + fp + eps)
    if method == "trapezoidal":
        return np.sum((x[:-1] - x[1:]) * (y[:-1] + y[1:]) / 2)
    pick = np.minimum if method == "minoring" else np.maximum
    return np.sum((x[:-1] - x[1:]) * pick(y[:-1], y[1:]))


PRED_CLS = (ALL_P > 0.5).astype(np.int64)
CASES = {
    "accuracy": (lambda lib, L, P, W: lib.metrics.accuracy(L, lib.cast(P > 0.5, lib.int64)),
                 np.mean(PRED_CLS == ALL_L)),
    "accuracy_weighted": (lambda lib, L, P, W: lib.metrics.accuracy(L, lib.cast(P > 0.5, lib.int64), weights=W),
                          np.sum(ALL_W * (PRED_CLS == ALL_L)) / ALL_W.sum()),
    "mean": (lambda lib, L, P, W: lib.metrics.mean(P), ALL_P.mean()),
    "mean_weighted": (lambda lib, L, P, W: lib.metrics.mean(P, W), np.sum(ALL_P * ALL_W) / ALL_W.sum()),
    "mean_squared_error": (lambda lib, L, P, W: lib.metrics.mean_squared_error(lib.cast(L, lib.float32), P, W),
                           np.sum(ALL_W * (ALL_P - ALL_L) ** 2) / ALL_W.sum()),
    "root_mean_squared_error": (lambda lib, L, P, W: lib.metrics.root_mean_squared_error(lib.cast(L, lib.float32), P),
                                np.sqrt(np.mean((ALL_P - ALL_L) ** 2))),
    "mean_absolute_error": (lambda lib, L, P, W: lib.metrics.mean_absolute_error(lib.cast(L, lib.float32), P),
                            np.mean(np.abs(ALL_P - ALL_L))),
    "precision": (lambda lib, L, P, W: lib.metrics.precision(L, P > 0.5, W),
                  np.sum(ALL_W * (PRED_CLS & ALL_L)) / np.sum(ALL_W * PRED_CLS)),
    "recall": (lambda lib, L, P, W: lib.metrics.recall(L, P > 0.5),
               np.sum(PRED_CLS & ALL_L) / np.sum(ALL_L)),
    "true_positives": (lambda lib, L, P, W: lib.metrics.true_positives(L, P > 0.5), np.sum(PRED_CLS & ALL_L)),
    "false_positives": (lambda lib, L, P, W: lib.metrics.false_positives(L, P > 0.5, W),
                        np.sum(ALL_W * (PRED_CLS & (1 - ALL_L)))),
    "true_negatives": (lambda lib, L, P, W: lib.metrics.true_negatives(L, P > 0.5),
                       np.sum((1 - PRED_CLS) & (1 - ALL_L))),
    "false_negatives": (lambda lib, L, P, W: lib.metrics.false_negatives(L, P > 0.5),
                        np.sum((1 - PRED_CLS) & ALL_L)),
    "auc": (lambda lib, L, P, W: lib.metrics.auc(L, P), _np_auc(ALL_L, ALL_P, np.ones_like(ALL_P))),
    "auc_weighted": (lambda lib, L, P, W: lib.metrics.auc(L, P, W), _np_auc(ALL_L, ALL_P, ALL_W)),
    "auc_pr": (lambda lib, L, P, W: lib.metrics.auc(L, P, curve="PR"),
               _np_auc(ALL_L, ALL_P, np.ones_like(ALL_P), "PR")),
    "auc_minoring": (lambda lib, L, P, W: lib.metrics.auc(L, P, num_thresholds=20, summation_method="minoring"),
                     _np_auc(ALL_L, ALL_P, np.ones_like(ALL_P), n=20, method="minoring")),
    "auc_pr_careful": (lambda lib, L, P, W: lib.metrics.auc(L, P, curve="PR",
                                                            summation_method="careful_interpolation"), None),
    "mean_per_class_accuracy": (
        lambda lib, L, P, W: lib.metrics.mean_per_class_accuracy(L, lib.cast(P > 0.3, lib.int64), 3, W), None),
    "mean_iou": (lambda lib, L, P, W: lib.metrics.mean_iou(L, lib.cast(P > 0.3, lib.int64), 3, W), None),
    "precision_at_thresholds": (
        lambda lib, L, P, W: lib.metrics.precision_at_thresholds(L, P, [0.2, 0.5, 0.8]),
        np.array([np.sum((ALL_P > t) & (ALL_L == 1)) / (1e-7 + np.sum(ALL_P > t)) for t in (0.2, 0.5, 0.8)])),
    "recall_at_thresholds": (
        lambda lib, L, P, W: lib.metrics.recall_at_thresholds(L, P, [0.2, 0.5, 0.8], W),
        np.array([np.sum(ALL_W * ((ALL_P > t) & (ALL_L == 1))) / (1e-7 + np.sum(ALL_W * ALL_L))
                  for t in (0.2, 0.5, 0.8)])),
}


def _np_mean_per_class():
    pred = (ALL_P > 0.3).astype(np.int64)
    acc = []
    for c in range(3):
        m = ALL_L == c
        tot = np.sum(ALL_W[m])
        acc.append(np.sum(ALL_W[m] * (pred[m] == c)) / tot if tot > 0 else 0.0)
    return np.mean(acc)


def _np_mean_iou():
    pred = (ALL_P > 0.3).astype(np.int64)
    cm = np.zeros((3, 3))
    np.add.at(cm, (ALL_L, pred), ALL_W)
    denom = cm.sum(0) + cm.sum(1) - np.diag(cm)
    valid = denom > 0
    return np.sum(np.diag(cm)[valid] / denom[valid]) / valid.sum()


CASES["mean_per_class_accuracy"] = (CASES["mean_per_class_accuracy"][0], _np_mean_per_class())
CASES["mean_iou"] = (CASES["mean_iou"][0], _np_mean_iou())


@pytest.mark.parametrize("name", sorted(CASES))
def test_metric_matches_numpy(name):
    make, expected = CASES[name]
    value, updates, _ = _stream(tf, make)
    if expected is not None:
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)
    # update_op returns the value after its batch: the last one is the final value (per-class accuracies
    # and the confusion matrix for the two whose update op returns its state).
    if name not in ("mean_per_class_accuracy", "mean_iou"):
        np.testing.assert_allclose(updates[-1], value, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(CASES))
def test_metric_matches_tensorflow(name):
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    tf1.disable_resource_variables()
    make, _ = CASES[name]
    ours = _stream(tf, make)
    theirs = _stream(tf1, make)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert ours[2] == theirs[2]  # variable names, e.g. accuracy/count, auc/true_positives


def test_metric_variables_collections_and_reset():
    with tf.Graph().as_default():
        labels = tf.constant([1, 0, 1, 1], tf.int64)
        preds = tf.constant([1, 1, 1, 0], tf.int64)
        acc, update = tf.metrics.accuracy(labels, preds, metrics_collections=["m"], updates_collections=["u"])
        acc2, _ = tf.metrics.accuracy(labels, preds)
        assert [v.op.name for v in tf.get_collection(tf.GraphKeys.METRIC_VARIABLES)] == [
            "accuracy/total", "accuracy/count", "accuracy_1/total", "accuracy_1/count"]
        assert tf.get_collection("m") == [acc] and tf.get_collection("u") == [update]
        assert not tf.global_variables() and not tf.trainable_variables()
        with tf.Session() as s:
            s.run(tf.local_variables_initializer())
            assert s.run(acc) == 0.0  # nothing seen yet: 0, not NaN
            s.run(update)
            s.run(update)
            assert s.run(acc) == pytest.approx(0.5)
            assert s.run(acc2) == 0.0
            s.run(tf.local_variables_initializer())
            assert s.run(acc) == 0.0


def test_metric_shapes_squeeze_and_errors():
    with tf.Graph().as_default():
        labels = tf.constant([[1], [0], [2]], tf.int64)  # [3, 1] against predictions [3]: squeezed as in TF
        acc, update = tf.metrics.accuracy(labels, tf.constant([1, 2, 2], tf.int64))
        with tf.Session() as s:
            s.run(tf.local_variables_initializer())
            assert s.run(update) == pytest.approx(2 / 3)
        with pytest.raises(ValueError):
            tf.metrics.accuracy(tf.constant([1, 2]), tf.constant([1, 2, 3]))
        with pytest.raises(ValueError):
            tf.metrics.auc(tf.constant([1]), tf.constant([0.5]), curve="XY")


def test_metrics_refuse_eager_mode():
    from tideflow.eager.context import eager_mode
    with eager_mode():
        with pytest.raises(RuntimeError, match="tf.metrics.auc is not supported when eager execution is enabled"):
            tf.metrics.auc([1, 0], [0.3, 0.2])
