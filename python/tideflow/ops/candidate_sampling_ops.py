"""Candidate samplers (cpp/ops/candidate_sampling.cc, Note [candidate samplers]): the negative classes of
sampled losses, drawn once per batch, with the expected count of each true and sampled class. TF 1.15's
signatures and seed rules (tf.set_random_seed plus the op's `seed`)."""
import collections

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework import random_seed

__all__ = ["uniform_candidate_sampler", "log_uniform_candidate_sampler", "learned_unigram_candidate_sampler",
           "fixed_unigram_candidate_sampler", "all_candidate_sampler", "compute_accidental_hits"]

_SAMPLER_FIELDS = ["sampled_candidates", "true_expected_count", "sampled_expected_count"]
_SamplerResults = {name: collections.namedtuple(name, _SAMPLER_FIELDS) for name in (
    "UniformCandidateSampler", "LogUniformCandidateSampler", "LearnedUnigramCandidateSampler",
    "FixedUnigramCandidateSampler", "AllCandidateSampler")}
ComputeAccidentalHits = collections.namedtuple("ComputeAccidentalHits", ["indices", "ids", "weights"])


def _sampler(op_type, true_classes, num_true, num_sampled, unique, seed, name, **attrs):
    seed1, seed2 = random_seed.get_seed(seed)
    true_classes = _ops.convert_to_tensor(true_classes, dtype=_dtypes.int64, name="true_classes")
    attrs.update(num_true=int(num_true), num_sampled=int(num_sampled), unique=bool(unique), seed=int(seed1),
                 seed2=int(seed2))
    op = _ops.apply_op(op_type, [true_classes], attrs, name=name or op_type)
    return _SamplerResults[op_type](*op.outputs)


def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, seed=None, name=None):
    """Samples num_sampled classes uniformly from [0, range_max) (without repeats when `unique`)."""
    return _sampler("UniformCandidateSampler", true_classes, num_true, num_sampled, unique, seed, name,
                    range_max=int(range_max))


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, seed=None, name=None):
    """Samples classes from the log-uniform (Zipfian) distribution P(c) = log((c + 2) / (c + 1)) /
    log(range_max + 1): frequent words first, as word2vec vocabularies are sorted."""
    return _sampler("LogUniformCandidateSampler", true_classes, num_true, num_sampled, unique, seed, name,
                    range_max=int(range_max))


def learned_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, seed=None,
                                      name=None):
    """Samples classes in proportion to how often they have appeared as true classes so far (counts start
    at 1 and are kept per Session)."""
    return _sampler("LearnedUnigramCandidateSampler", true_classes, num_true, num_sampled, unique, seed, name,
                    range_max=int(range_max))


def fixed_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, vocab_file="",
                                    distortion=1.0, num_reserved_ids=0, num_shards=1, shard=0, unigrams=(),
                                    seed=None, name=None):
    """Samples classes from fixed weights (`unigrams`, or the last CSV field of each `vocab_file` line),
    raised to the power `distortion`; the first num_reserved_ids classes have weight 0."""
    attrs = dict(range_max=int(range_max), vocab_file=str(vocab_file), distortion=float(distortion),
                 num_reserved_ids=int(num_reserved_ids), num_shards=int(num_shards), shard=int(shard))
    unigrams = [float(u) for u in unigrams]
    if unigrams:
        attrs["unigrams"] = unigrams
    return _sampler("FixedUnigramCandidateSampler", true_classes, num_true, num_sampled, unique, seed, name,
                    **attrs)


def all_candidate_sampler(true_classes, num_true, num_sampled, unique, seed=None, name=None):
    """The classes 0..num_sampled-1, each with expected count 1 (for testing sampled losses exactly)."""
    return _sampler("AllCandidateSampler", true_classes, num_true, num_sampled, unique, seed, name)


def compute_accidental_hits(true_classes, sampled_candidates, num_true, seed=None, name=None):
    """(indices, ids, weights): for each true class of row `indices[k]` that is also sampled candidate
    `ids[k]`, weight -FLT_MAX, to add to that logit."""
    seed1, seed2 = random_seed.get_seed(seed)
    true_classes = _ops.convert_to_tensor(true_classes, dtype=_dtypes.int64, name="true_classes")
    sampled = _ops.convert_to_tensor(sampled_candidates, dtype=_dtypes.int64, name="sampled_candidates")
    op = _ops.apply_op("ComputeAccidentalHits", [true_classes, sampled],
                       {"num_true": int(num_true), "seed": int(seed1), "seed2": int(seed2)},
                       name=name or "ComputeAccidentalHits")
    return ComputeAccidentalHits(*op.outputs)
