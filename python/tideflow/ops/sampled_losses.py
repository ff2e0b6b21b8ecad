"""Sampled losses for many classes (word2vec-style programs): tf.nn.nce_loss and
tf.nn.sampled_softmax_loss, computed as TensorFlow 1.15 computes them: the logits of the true classes and
of num_sampled candidates (log-uniform by default, shared by the batch), each minus the log of its
expected count, then a logistic loss per logit (NCE) or a softmax over them (sampled softmax)."""
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from . import array_ops, candidate_sampling_ops, gen_ops, linalg_ops, math_ops, nn_ops
from .gradients_impl import stop_gradient

__all__ = ["nce_loss", "sampled_softmax_loss"]


def _sum_rows(x):
    """Row sums as a product with a ones vector (TF's form, fast on accelerators)."""
    cols = array_ops.shape(x)[1]
    ones = array_ops.ones(array_ops.stack([cols, 1]), x.dtype)
    return array_ops.reshape(linalg_ops.matmul(x, ones), [-1])


def _compute_sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
                            sampled_values=None, subtract_log_q=True, remove_accidental_hits=False,
                            partition_strategy="mod", name=None, seed=None):
    """(out_logits [batch, num_true + num_sampled], out_labels): the true classes' logits first, with
    label 1 / num_true each, then the sampled ones with label 0. `weights` [num_classes, dim] (or a list of
    shards split by `partition_strategy`), `biases` [num_classes], `labels` int [batch, num_true], `inputs`
    [batch, dim]. remove_accidental_hits adds -FLT_MAX to a sampled logit equal to one of the row's true
    classes; subtract_log_q subtracts log(expected count) from each logit."""
    if not isinstance(weights, (list, tuple)):
        weights = [weights]
    with _ops.name_scope(name, "compute_sampled_logits", list(weights) + [biases, inputs, labels]):
        labels = _ops.convert_to_tensor(labels)
        if labels.dtype != _dtypes.int64:
            labels = math_ops.cast(labels, _dtypes.int64)
        labels_flat = array_ops.reshape(labels, [-1])
        if sampled_values is None:
            sampled_values = candidate_sampling_ops.log_uniform_candidate_sampler(
                true_classes=labels, num_true=num_true, num_sampled=num_sampled, unique=True, range_max=num_classes,
                seed=seed)
        sampled, true_expected_count, sampled_expected_count = (
            stop_gradient(s) for s in sampled_values)
        sampled = math_ops.cast(sampled, _dtypes.int64)
        all_ids = array_ops.concat([labels_flat, sampled], 0)
        inputs = _ops.convert_to_tensor(inputs, name="inputs")
        all_w = nn_ops.embedding_lookup(weights, all_ids, partition_strategy=partition_strategy)
        if all_w.dtype != inputs.dtype:
            all_w = math_ops.cast(all_w, inputs.dtype)
        n_true = array_ops.shape(labels_flat)[0]
        true_w = array_ops.slice(all_w, [0, 0], array_ops.stack([n_true, -1]))
        sampled_w = array_ops.slice(all_w, array_ops.stack([n_true, 0]), [-1, -1])
        sampled_logits = linalg_ops.matmul(inputs, sampled_w, transpose_b=True)
        all_b = nn_ops.embedding_lookup(biases, all_ids, partition_strategy=partition_strategy)
        if all_b.dtype != inputs.dtype:
            all_b = math_ops.cast(all_b, inputs.dtype)
        true_b = array_ops.slice(all_b, [0], array_ops.shape(labels_flat))
        sampled_b = array_ops.slice(all_b, array_ops.shape(labels_flat), [-1])
        dim = array_ops.shape(true_w)[1:2]
        new_true_w_shape = array_ops.concat([[-1, num_true], dim], 0)
        row_wise_dots = math_ops.multiply(array_ops.expand_dims(inputs, 1),
                                          array_ops.reshape(true_w, new_true_w_shape))
        dots_as_matrix = array_ops.reshape(row_wise_dots, array_ops.concat([[-1], dim], 0))
        true_logits = array_ops.reshape(_sum_rows(dots_as_matrix), [-1, num_true])
        true_b = array_ops.reshape(true_b, [-1, num_true])
        true_logits += true_b
        sampled_logits += sampled_b
        if remove_accidental_hits:
            acc_indices, acc_ids, acc_weights = candidate_sampling_ops.compute_accidental_hits(
                labels, sampled, num_true=num_true)
            acc_indices_2d = array_ops.reshape(acc_indices, [-1, 1])
            acc_ids_2d_int32 = array_ops.reshape(math_ops.cast(acc_ids, _dtypes.int32), [-1, 1])
            sparse_indices = array_ops.concat([acc_indices_2d, acc_ids_2d_int32], 1, "sparse_indices")
            if sampled_logits.dtype != acc_weights.dtype:
                acc_weights = math_ops.cast(acc_weights, sampled_logits.dtype)
            # TF's SparseToDense: a repeated index is written, not summed (two hits never make -inf).
            hits = array_ops.tensor_scatter_nd_update(array_ops.zeros_like(sampled_logits), sparse_indices,
                                                      acc_weights)
            sampled_logits += hits
        if subtract_log_q:
            true_logits -= gen_ops.log(true_expected_count)
            sampled_logits -= gen_ops.log(sampled_expected_count)
        out_logits = array_ops.concat([true_logits, sampled_logits], 1)
        out_labels = array_ops.concat([array_ops.ones_like(true_logits) / num_true,
                                       array_ops.zeros_like(sampled_logits)], 1)
        return out_logits, out_labels


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1, sampled_values=None,
             remove_accidental_hits=False, partition_strategy="mod", name="nce_loss"):
    """Noise-contrastive estimation loss per example [batch]: the logistic loss of telling the true classes
    (label 1 / num_true) from num_sampled noise classes (label 0), logits corrected by the noise's log
    expected counts. Use only for training; evaluate with the full softmax."""
    logits, labels = _compute_sampled_logits(
        weights=weights, biases=biases, labels=labels, inputs=inputs, num_sampled=num_sampled,
        num_classes=num_classes, num_true=num_true, sampled_values=sampled_values, subtract_log_q=True,
        remove_accidental_hits=remove_accidental_hits, partition_strategy=partition_strategy, name=name)
    sampled_losses = nn_ops.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name="sampled_losses")
    return _sum_rows(sampled_losses)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
                         sampled_values=None, remove_accidental_hits=True, partition_strategy="mod",
                         name="sampled_softmax_loss", seed=None):
    """Sampled softmax loss per example [batch] (Jean et al., 2014): the softmax cross-entropy over the
    true classes and num_sampled candidates, true classes drawn as candidates removed by default."""
    logits, labels = _compute_sampled_logits(
        weights=weights, biases=biases, labels=labels, inputs=inputs, num_sampled=num_sampled,
        num_classes=num_classes, num_true=num_true, sampled_values=sampled_values, subtract_log_q=True,
        remove_accidental_hits=remove_accidental_hits, partition_strategy=partition_strategy, name=name, seed=seed)
    labels = stop_gradient(labels, name="labels_stop_gradient")
    return nn_ops.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
