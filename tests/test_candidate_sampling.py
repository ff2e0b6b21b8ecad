"""Candidate samplers (cpp/ops/candidate_sampling.cc) and the sampled losses built on them
(ops/sampled_losses.py): TensorFlow's exact draws and expected counts for the same seeds (where TF is
installed), the expected-count formulas and the accidental-hit removal against NumPy, the losses against a
NumPy transcription of TF's formula, errors, and a word2vec-style training run whose loss falls."""
import numpy as np
import pytest

import tideflow as tf

TRUE = np.array([[1, 4], [7, 7], [0, 19]], np.int64)


@pytest.fixture(scope="module")
def v1():
    tf_ref = pytest.importorskip("tensorflow")
    v1 = tf_ref.compat.v1
    v1.disable_eager_execution()
    return v1


def _samplers(t):
    return {
        "uniform": lambda u: t.nn.uniform_candidate_sampler(TRUE, 2, 6, u, 20, seed=3),
        "log_uniform": lambda u: t.nn.log_uniform_candidate_sampler(TRUE, 2, 6, u, 20, seed=3),
        "learned_unigram": lambda u: t.nn.learned_unigram_candidate_sampler(TRUE, 2, 6, u, 20, seed=3),
        "fixed_unigram": lambda u: t.nn.fixed_unigram_candidate_sampler(
            TRUE, 2, 6, u, 20, distortion=0.75, num_reserved_ids=2, unigrams=[float(i % 7 + 1) for i in range(18)],
            seed=3),
        "fixed_unigram_shard": lambda u: t.nn.fixed_unigram_candidate_sampler(
            TRUE, 2, 6, u, 20, num_shards=2, shard=1, unigrams=[float(i + 1) for i in range(40)], seed=3),
        "all": lambda u: t.nn.all_candidate_sampler(TRUE, 2, 20, u, seed=3),
    }


def _draw(t, kind, unique, runs=3):
    with t.Graph().as_default() as g:
        t.set_random_seed(11)
        s = _samplers(t)[kind](unique)
        with t.Session(graph=g) as sess:
            return [sess.run(list(s)) for _ in range(runs)]


@pytest.mark.parametrize("unique", [True, False])
@pytest.mark.parametrize("kind", sorted(_samplers(tf)))
def test_samplers_draw_tensorflows_numbers(v1, kind, unique):
    ours, theirs = _draw(tf, kind, unique), _draw(v1, kind, unique)
    for run_ours, run_theirs in zip(ours, theirs):  # three runs: each draws from a fresh stretch of the stream
        for a, b in zip(run_ours, run_theirs):
            np.testing.assert_array_equal(a, b)


def _log_uniform_p(c, r):
    return np.log((c + 2.0) / (c + 1.0)) / np.log(r + 1.0)


def test_expected_counts_follow_the_formulas():
    r, k = 50, 10
    with tf.Graph().as_default():
        plain = tf.nn.log_uniform_candidate_sampler(TRUE, 2, k, False, r, seed=1)
        uniq = tf.nn.log_uniform_candidate_sampler(TRUE, 2, k, True, r, seed=1)
        unif = tf.nn.uniform_candidate_sampler(TRUE, 2, k, True, r, seed=1)
        assert plain.sampled_candidates.shape.as_list() == [k]
        assert plain.true_expected_count.shape.as_list() == [3, 2]
        with tf.Session() as sess:
            (s0, t0, e0), (s1, t1, e1), (s2, t2, e2) = sess.run([list(plain), list(uniq), list(unif)])
    # Drawn with replacement: expected count = p * num_sampled.
    np.testing.assert_allclose(e0, k * _log_uniform_p(s0, r), rtol=1e-5)
    np.testing.assert_allclose(t0, k * _log_uniform_p(TRUE, r), rtol=1e-5)
    # Unique draws: 1 - (1 - p)^tries, for the one number of tries that explains every count.
    assert len(set(s1)) == k and len(set(s2)) == k
    p = _log_uniform_p(s1, r)
    tries = np.log1p(-e1) / np.log1p(-p)
    assert np.allclose(tries, np.round(tries[0]), rtol=1e-3) and round(tries[0]) >= k
    np.testing.assert_allclose(t1, 1 - (1 - _log_uniform_p(TRUE, r)) ** round(tries[0]), rtol=1e-4)
    assert np.allclose(e2, e2[0]) and np.allclose(t2, e2[0])  # uniform: one probability for all


def test_log_uniform_draws_follow_the_distribution():
    r, k = 10, 20000
    with tf.Graph().as_default():
        s = tf.nn.log_uniform_candidate_sampler(TRUE[:, :1], 1, k, False, r, seed=5).sampled_candidates
        with tf.Session() as sess:
            draws = sess.run(s)
    freq = np.bincount(draws, minlength=r) / k
    np.testing.assert_allclose(freq, _log_uniform_p(np.arange(r), r), atol=0.01)


def test_learned_unigram_counts_the_true_classes_per_session():
    with tf.Graph().as_default():
        s = tf.nn.learned_unigram_candidate_sampler([[3], [3], [5]], 1, 4, False, 8, seed=2)
        for _ in range(2):
            with tf.Session() as sess:
                first = sess.run(s.true_expected_count)
                second = sess.run(s.true_expected_count)
                np.testing.assert_allclose(first.ravel(), 4 * np.array([1, 1, 1]) / 8, rtol=1e-6)
                # after one run: class 3 seen twice and 5 once, on top of a count of 1 each
                np.testing.assert_allclose(second.ravel(), 4 * np.array([3, 3, 2]) / 11, rtol=1e-6)


def test_fixed_unigram_reads_a_vocabulary_file(tmp_path):
    vocab = tmp_path / "vocab.csv"
    vocab.write_text("the,10\nof,5\nand,4.5\ncat,0.5\n")
    with tf.Graph().as_default():
        s = tf.nn.fixed_unigram_candidate_sampler([[0], [3]], 1, 2, False, 4, vocab_file=str(vocab), seed=1)
        missing = tf.nn.fixed_unigram_candidate_sampler([[0]], 1, 2, False, 4, vocab_file=str(tmp_path / "no"))
        with tf.Session() as sess:
            counts = sess.run(s.true_expected_count)
            with pytest.raises(tf.errors.NotFoundError):
                sess.run(missing)
    np.testing.assert_allclose(counts.ravel(), 2 * np.array([10, 0.5]) / 20, rtol=1e-6)


def test_sampler_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="num_true columns"):
            tf.nn.uniform_candidate_sampler(TRUE, 1, 3, True, 20)
        with pytest.raises(ValueError, match="Must provide either vocab_file or unigrams"):
            tf.nn.fixed_unigram_candidate_sampler(TRUE, 2, 3, True, 20)
        with pytest.raises(ValueError, match="range_max"):
            tf.nn.uniform_candidate_sampler(TRUE, 2, 3, True, 0)
        labels = tf.placeholder(tf.int64, [None, 2])
        out_of_range = tf.nn.log_uniform_candidate_sampler(labels, 2, 3, True, 10)
        too_many = tf.nn.uniform_candidate_sampler(labels, 2, 30, True, 20)
        zero_weights = tf.nn.fixed_unigram_candidate_sampler(labels, 2, 3, True, 4, unigrams=[1.0, 0.0, 2.0, 0.0])
        wrong_size = tf.nn.fixed_unigram_candidate_sampler(labels, 2, 3, True, 4, unigrams=[1.0, 2.0])
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
                sess.run(out_of_range, {labels: [[0, 10]]})
            with pytest.raises(tf.errors.InvalidArgumentError, match="range is too small"):
                sess.run(too_many, {labels: [[0, 1]]})
            with pytest.raises(tf.errors.InvalidArgumentError, match="only 2 classes have nonzero probability"):
                sess.run(zero_weights, {labels: [[0, 1]]})  # would never finish: refused
            with pytest.raises(tf.errors.InvalidArgumentError, match="must be equal to weights size"):
                sess.run(wrong_size, {labels: [[0, 1]]})


def test_unseeded_samplers_draw_new_numbers_each_run():
    with tf.Graph().as_default():
        s = tf.nn.uniform_candidate_sampler(TRUE, 2, 8, False, 10 ** 6).sampled_candidates
        with tf.Session() as sess:
            a, b = sess.run(s), sess.run(s)
    assert not np.array_equal(a, b)


def test_compute_accidental_hits_against_numpy():
    true = np.array([[5, 2], [9, 9], [1, 3]], np.int64)
    sampled = np.array([2, 9, 4, 2, 1], np.int64)  # 2 repeats: its last position counts
    with tf.Graph().as_default():
        hits = tf.nn.compute_accidental_hits(true, sampled, num_true=2)
        with tf.Session() as sess:
            idx, ids, w = sess.run(list(hits))
    last = {c: j for j, c in enumerate(sampled)}
    expect = [(i, last[c]) for i in range(3) for c in true[i] if c in last]
    assert list(zip(idx.tolist(), ids.tolist())) == expect
    assert idx.dtype == np.int32 and ids.dtype == np.int64
    np.testing.assert_array_equal(w, np.full(len(expect), -np.finfo(np.float32).max, np.float32))


# ---- sampled losses ----

def _np_sampled_logits(W, b, labels, X, sampled, true_ec, sampled_ec, remove_hits):
    """TF's _compute_sampled_logits, transcribed to NumPy."""
    num_true = labels.shape[1]
    true_logits = np.einsum("bd,btd->bt", X, W[labels]) + b[labels]
    sampled_logits = X @ W[sampled].T + b[sampled]
    if remove_hits:  # -FLT_MAX once per hit position (a row holding a true class twice does not double it)
        last = {c: j for j, c in enumerate(sampled)}
        hits = np.zeros_like(sampled_logits)
        for i in range(labels.shape[0]):
            for c in labels[i]:
                if c in last:
                    hits[i, last[c]] = -np.finfo(np.float32).max
        sampled_logits = sampled_logits + hits
    true_logits = true_logits - np.log(true_ec)
    sampled_logits = sampled_logits - np.log(sampled_ec)
    logits = np.concatenate([true_logits, sampled_logits], 1)
    targets = np.concatenate([np.ones_like(true_logits) / num_true, np.zeros_like(sampled_logits)], 1)
    return logits, targets


def _np_nce(logits, targets):
    return (np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))).sum(1)


def _np_sampled_softmax(logits, targets):
    m = logits.max(1, keepdims=True)
    log_softmax = logits - m - np.log(np.exp(logits - m).sum(1, keepdims=True))
    return -(targets * log_softmax).sum(1)


@pytest.mark.parametrize("remove_hits", [False, True])
def test_sampled_losses_match_numpy(remove_hits):
    rng = np.random.RandomState(0)
    W = rng.randn(20, 5).astype(np.float32)
    b = rng.randn(20).astype(np.float32)
    X = rng.randn(3, 5).astype(np.float32)
    sampled = np.array([7, 2, 11, 4, 0, 13], np.int64)  # hits 7 (row 1) and 0 (row 2)
    true_ec = rng.uniform(0.1, 1, TRUE.shape).astype(np.float32)
    sampled_ec = rng.uniform(0.1, 1, 6).astype(np.float32)
    with tf.Graph().as_default():
        sv = (tf.constant(sampled), tf.constant(true_ec), tf.constant(sampled_ec))
        args = dict(weights=tf.constant(W), biases=tf.constant(b), labels=TRUE, inputs=tf.constant(X), num_sampled=6,
                    num_classes=20, num_true=2, sampled_values=sv, remove_accidental_hits=remove_hits)
        nce = tf.nn.nce_loss(**args)
        ssm = tf.nn.sampled_softmax_loss(**args)
        sharded = tf.nn.sampled_softmax_loss(**dict(args, weights=[tf.constant(W[:10]), tf.constant(W[10:])],
                                                    partition_strategy="div"))
        with tf.Session() as sess:
            got_nce, got_ssm, got_sharded = sess.run([nce, ssm, sharded])
    logits, targets = _np_sampled_logits(W, b, TRUE, X, sampled, true_ec, sampled_ec, remove_hits)
    np.testing.assert_allclose(got_nce, _np_nce(logits, targets), rtol=1e-5)
    np.testing.assert_allclose(got_ssm, _np_sampled_softmax(logits, targets), rtol=1e-5)
    np.testing.assert_allclose(got_sharded, got_ssm, rtol=1e-6)
    assert np.isfinite(got_nce).all()


def test_sampled_losses_and_gradients_match_tensorflow(v1):
    rng = np.random.RandomState(3)
    W = rng.randn(30, 4).astype(np.float32)
    b = rng.randn(30).astype(np.float32)
    X = rng.randn(3, 4).astype(np.float32)
    labels = np.array([[2], [17], [29]], np.int64)

    def build(t):
        t.set_random_seed(4)
        w, bb, x = t.constant(W), t.constant(b), t.constant(X)
        nce = t.nn.nce_loss(w, bb, labels, x, 8, 30, remove_accidental_hits=True)
        ssm = t.nn.sampled_softmax_loss(w, bb, labels, x, 8, 30, seed=5)
        loss = t.reduce_sum(nce) + t.reduce_sum(ssm)
        return [nce, ssm] + [t.convert_to_tensor(g) for g in t.gradients(loss, [w, bb, x])]

    with tf.Graph().as_default():
        with tf.Session() as sess:
            ours = sess.run(build(tf))
    with v1.Graph().as_default():
        with v1.Session() as sess:
            theirs = sess.run(build(v1))
    for a, t_ in zip(ours, theirs):
        np.testing.assert_allclose(a, t_, rtol=2e-5, atol=2e-6)


def test_word2vec_style_training_reduces_the_loss():
    """Skip-gram on a toy corpus whose words co-occur in fixed groups: NCE and sampled softmax both learn."""
    vocab, dim, batch = 60, 16, 64
    rng = np.random.RandomState(0)
    groups = rng.permutation(vocab).reshape(-1, 4)  # each word's contexts are the other words of its group

    def pairs(n):
        g = groups[rng.randint(len(groups), size=n)]
        a, c = rng.randint(4, size=n), rng.randint(1, 4, size=n)
        return g[np.arange(n), a], g[np.arange(n), (a + c) % 4]

    for loss_fn in (tf.nn.nce_loss, tf.nn.sampled_softmax_loss):
        with tf.Graph().as_default():
            tf.set_random_seed(1)
            centers = tf.placeholder(tf.int32, [batch])
            contexts = tf.placeholder(tf.int64, [batch, 1])
            emb = tf.Variable(tf.random_uniform([vocab, dim], -1.0, 1.0))
            out_w = tf.Variable(tf.truncated_normal([vocab, dim], stddev=1.0 / np.sqrt(dim)))
            out_b = tf.Variable(tf.zeros([vocab]))
            loss = tf.reduce_mean(loss_fn(out_w, out_b, contexts, tf.nn.embedding_lookup(emb, centers),
                                          num_sampled=8, num_classes=vocab))
            train = tf.train.AdamOptimizer(0.05).minimize(loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                losses = []
                for _ in range(150):
                    c, ctx = pairs(batch)
                    losses.append(sess.run([train, loss], {centers: c, contexts: ctx[:, None]})[1])
                # the learned embeddings rank a word's true contexts above the others
                logits = sess.run(tf.matmul(emb, out_w, transpose_b=True) + out_b)
        first, last = np.mean(losses[:20]), np.mean(losses[-20:])
        assert last < 0.6 * first, (loss_fn.__name__, first, last)
        hits = np.mean([np.isin(np.argsort(-logits[w])[:3], g[g != w]).mean() for g in groups for w in g])
        assert hits > 0.8, (loss_fn.__name__, hits)
