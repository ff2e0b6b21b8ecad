"""tf.data: each transformation against hand-written Python iteration (order, seeds, remainders, ends), in
eager mode (Python iteration) and graph mode (get_next nodes ending in OutOfRangeError), and against
TensorFlow's own tf.data where it is installed."""
import threading

import numpy as np
import pytest

import tideflow as tf
from tideflow.eager.context import eager_mode


def eager_list(ds):
    with eager_mode():
        return [_np(e) for e in ds]


def _np(e):
    if isinstance(e, tuple):
        return tuple(_np(x) for x in e)
    if isinstance(e, dict):
        return {k: _np(v) for k, v in e.items()}
    return e.numpy()


def graph_list(make_ds, initializable=False, feed=None):
    with tf.Graph().as_default():
        ds = make_ds()
        it = (tf.compat.v1.data.make_initializable_iterator(ds) if initializable
              else tf.compat.v1.data.make_one_shot_iterator(ds))
        nxt = it.get_next()
        out = []
        with tf.Session() as s:
            if initializable:
                s.run(it.initializer, feed)
            while True:
                try:
                    v = s.run(nxt)
                except tf.errors.OutOfRangeError:
                    break
                out.append(tuple(v) if isinstance(v, (list, tuple)) else v)
        return out


def same(a, b):
    assert len(a) == len(b), (len(a), len(b))
    for x, y in zip(a, b):
        if isinstance(x, tuple):
            assert len(x) == len(y)
            for u, v in zip(x, y):
                np.testing.assert_array_equal(u, v)
        elif isinstance(x, dict):
            assert sorted(x) == sorted(y)
            for k in x:
                np.testing.assert_array_equal(x[k], y[k])
        else:
            np.testing.assert_array_equal(x, y)


X = np.arange(30, dtype=np.float32).reshape(10, 3)
Y = np.arange(10, dtype=np.int64) * 7


# ---- sources ----

def test_from_tensor_slices_tuple_dict_and_spec():
    ds = tf.data.Dataset.from_tensor_slices((X, Y))
    spec = ds.element_spec
    assert spec[0].shape.as_list() == [3] and spec[0].dtype == tf.float32
    assert spec[1].shape.as_list() == [] and spec[1].dtype == tf.int64
    same(eager_list(ds), [(X[i], Y[i]) for i in range(10)])
    d = tf.data.Dataset.from_tensor_slices({"b": X, "a": Y})
    got = eager_list(d)
    same(got, [{"a": Y[i], "b": X[i]} for i in range(10)])
    same(graph_list(lambda: tf.data.Dataset.from_tensor_slices((X, Y))), [(X[i], Y[i]) for i in range(10)])


def test_python_values_take_tf_dtypes_and_uint8_widens():
    ds = tf.data.Dataset.from_tensor_slices([1.5, 2.5])
    assert ds.element_spec.dtype == tf.float32
    ds = tf.data.Dataset.from_tensor_slices(np.array([[1, 255]], np.uint8))
    assert ds.element_spec.dtype == tf.int32
    same(eager_list(ds), [np.array([1, 255])])
    with eager_mode():
        ds = tf.data.Dataset.from_tensor_slices(tf.constant([b"x", b"yz"]))
        assert [e.numpy() for e in ds] == [b"x", b"yz"]


def test_from_tensor_slices_mismatched_lengths():
    with pytest.raises(ValueError):
        tf.data.Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))


def test_from_tensors_and_range():
    same(eager_list(tf.data.Dataset.from_tensors((X, 3))), [(X, np.int32(3))])
    assert [int(v) for v in eager_list(tf.data.Dataset.range(2, 11, 3))] == list(range(2, 11, 3))
    assert [int(v) for v in eager_list(tf.data.Dataset.range(5, 0, -2))] == [5, 3, 1]
    assert tf.data.Dataset.range(4).element_spec.dtype == tf.int64


def test_from_generator_types_shapes_and_signature():
    def gen():
        for i in range(4):
            yield i, [float(i)] * i
    ds = tf.data.Dataset.from_generator(gen, (tf.int32, tf.float32), (tf.TensorShape([]), tf.TensorShape([None])))
    got = eager_list(ds)
    assert [int(a) for a, _ in got] == [0, 1, 2, 3]
    assert [b.tolist() for _, b in got] == [[], [1.0], [2.0, 2.0], [3.0] * 3]
    ds2 = tf.data.Dataset.from_generator(gen, output_signature=(tf.TensorSpec([], tf.int32),
                                                                 tf.TensorSpec([None], tf.float32)))
    same(eager_list(ds2), got)
    same(graph_list(lambda: ds2.padded_batch(2)), [(np.array([0, 1]), np.array([[0.0], [1.0]])),
                                                   (np.array([2, 3]), np.array([[2, 2, 0], [3, 3, 3.0]]))])
    bad = tf.data.Dataset.from_generator(lambda: iter([[1, 2]]), tf.int32, tf.TensorShape([3]))
    with pytest.raises(tf.errors.InvalidArgumentError):
        eager_list(bad)


# ---- transformations, against Python ----

def test_map_traced_once_tuple_args_and_dicts():
    calls = []

    def f(x, y):
        calls.append(1)
        return x * 2.0 + 1.0, tf.cast(y, tf.int32) + 1
    ds = tf.data.Dataset.from_tensor_slices((X, Y)).map(f)
    assert ds.element_spec[1].dtype == tf.int32
    n = len(calls)
    want = [(X[i] * 2 + 1, np.int32(Y[i] + 1)) for i in range(10)]
    same(eager_list(ds), want)
    same(eager_list(ds), want)
    assert len(calls) == n  # traced when the dataset was built; iteration runs the cached plan
    d = tf.data.Dataset.from_tensor_slices({"x": X, "y": Y}).map(lambda e: {"s": tf.reduce_sum(e["x"]), "y": e["y"]})
    same(eager_list(d), [{"s": X[i].sum(), "y": Y[i]} for i in range(10)])
    same(graph_list(lambda: tf.data.Dataset.from_tensor_slices((X, Y)).map(f)), want)


def test_map_vectorized_batches_equal_elementwise_batches():
    # An elementwise function runs once per batch (Note [tf.data pipelines]); a reduction does not.
    def pre(x, y):
        return tf.cast(x, tf.float32) / 255.0, tf.cast(y, tf.int32)
    imgs = np.random.RandomState(0).randint(0, 256, (37, 4, 4)).astype(np.uint8)
    labels = np.arange(37, dtype=np.uint8)
    ds = tf.data.Dataset.from_tensor_slices((imgs, labels)).map(pre)
    assert ds._fn.batched is not None
    red = tf.data.Dataset.from_tensor_slices(X).map(lambda x: x - tf.reduce_mean(x))
    assert red._fn.batched is None
    got = eager_list(ds.batch(8))
    assert len(got) == 5 and got[-1][0].shape == (5, 4, 4)
    np.testing.assert_allclose(np.concatenate([g[0] for g in got]), imgs.astype(np.float32) / np.float32(255.0),
                               rtol=1e-6)
    same(eager_list(red.batch(4)), [np.stack([X[i] - X[i].mean() for i in range(j, min(j + 4, 10))])
                                    for j in (0, 4, 8)])


def test_map_num_parallel_calls_keeps_order():
    ds = tf.data.Dataset.range(200).map(lambda x: x * x, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.map(lambda x: tf.reduce_sum(tf.reshape(x, [1])), num_parallel_calls=4)
    assert [int(v) for v in eager_list(ds)] == [i * i for i in range(200)]


def test_filter_flat_map_interleave():
    ds = tf.data.Dataset.range(12).filter(lambda x: tf.equal(x % 3, 0))
    assert [int(v) for v in eager_list(ds)] == [0, 3, 6, 9]
    fm = tf.data.Dataset.range(4).flat_map(lambda x: tf.data.Dataset.from_tensors(x).repeat(x))
    assert [int(v) for v in eager_list(fm)] == [1, 2, 2, 3, 3, 3]
    fm2 = tf.data.Dataset.from_tensor_slices(np.arange(6).reshape(3, 2)).flat_map(
        lambda r: tf.data.Dataset.from_tensor_slices(r * 10))
    assert [int(v) for v in eager_list(fm2)] == [0, 10, 20, 30, 40, 50]
    il = tf.data.Dataset.range(1, 4).interleave(lambda x: tf.data.Dataset.from_tensors(x).repeat(4),
                                                cycle_length=2, block_length=2)
    # TensorFlow's documented order for this pipeline
    assert [int(v) for v in eager_list(il)] == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3]
    with pytest.raises(ValueError):
        tf.data.Dataset.range(3).filter(lambda x: x)


def _tf_shuffle_reference(items, size, picks):
    """TensorFlow's buffer algorithm with a given stream of slot choices."""
    buf, out, items = [], [], list(items)
    for x in items:
        if len(buf) < size:
            buf.append(x)
            continue
        j = next(picks) % size
        out.append(buf[j])
        buf[j] = x
    return out, buf


@pytest.mark.parametrize("size", [1, 3, 10, 64, 1000])
def test_shuffle_buffer_semantics(size):
    n = 300
    ds = tf.data.Dataset.range(n).shuffle(size, seed=7)
    a = [int(v) for v in eager_list(ds)]
    assert sorted(a) == list(range(n))
    # buffer semantics: element k of the output was within the first size + k inputs
    for k, v in enumerate(a[:n - size]):
        assert v < size + k
    if size == 1:
        assert a == list(range(n))
    # reshuffled each iteration, yet reproducible from the seed
    b = [int(v) for v in eager_list(ds)]
    assert sorted(b) == list(range(n))
    if size > 3:
        assert a != b
    ds2 = tf.data.Dataset.range(n).shuffle(size, seed=7)
    assert [int(v) for v in eager_list(ds2)] == a
    fixed = tf.data.Dataset.range(n).shuffle(size, seed=7, reshuffle_each_iteration=False)
    assert [int(v) for v in eager_list(fixed)] == [int(v) for v in eager_list(fixed)]


def test_shuffle_vectorized_matches_elementwise_algorithm():
    # The chunked shuffle of index plans equals the one-row-at-a-time buffer algorithm for the same picks.
    from tideflow.data import dataset_ops as d

    class Rng:
        def __init__(self, seed):
            self.gen = np.random.default_rng(seed)
    for size, n in ((5, 50), (100, 4096 * 2 + 17), (4096 * 3, 20000)):
        out = np.concatenate(list(d._shuffled_chunks(d._range_chunks(n), size, Rng(1))))
        g = np.random.default_rng(1)
        chunks = list(d._range_chunks(n))
        picks = []
        filled = 0
        for c in chunks:  # replay the same random draws the chunked version made
            need = max(0, size - filled)
            take = min(need, len(c))
            filled += take
            if len(c) - take:
                picks.extend(g.integers(0, size, len(c) - take).tolist())
        ref, buf = _tf_shuffle_reference(range(n), size, iter(picks))
        assert out[:len(ref)].tolist() == ref
        assert sorted(out[len(ref):].tolist()) == sorted(buf)


def test_shuffle_of_a_non_indexable_pipeline_and_global_seed():
    with eager_mode():
        tf.random.set_seed(5)
        a = [int(v) for v in tf.data.Dataset.range(50).filter(lambda x: x < 40).shuffle(8)]
        tf.random.set_seed(5)
        b = [int(v) for v in tf.data.Dataset.range(50).filter(lambda x: x < 40).shuffle(8)]
        tf.random.set_seed(None)
    assert a == b and sorted(a) == list(range(40)) and a != list(range(40))


@pytest.mark.parametrize("n,batch,drop", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 5, False),
                                          (2, 5, True), (10, 10, True)])
def test_batch_remainders(n, batch, drop):
    xs = X[:n]
    want = [xs[i:i + batch] for i in range(0, n, batch) if not drop or i + batch <= n]
    ds = tf.data.Dataset.from_tensor_slices(xs).batch(batch, drop_remainder=drop)
    assert ds.element_spec.shape.as_list() == [batch if drop else None, 3]
    same(eager_list(ds), want)
    # the element-by-element path (a filter breaks the index plan) agrees
    same(eager_list(tf.data.Dataset.from_tensor_slices(xs).filter(lambda x: True).batch(batch, drop)), want)
    same(graph_list(lambda: tf.data.Dataset.from_tensor_slices(xs).batch(batch, drop)), want)
    assert len(ds) == len(want)


def test_batch_of_different_shapes_fails():
    ds = tf.data.Dataset.range(1, 4).map(lambda x: tf.fill([x], x)).batch(2)
    with pytest.raises(tf.errors.InvalidArgumentError):
        eager_list(ds)


def test_padded_batch_and_unbatch():
    ds = tf.data.Dataset.range(1, 5).map(lambda x: tf.fill([x], x)).padded_batch(3)
    got = eager_list(ds)
    np.testing.assert_array_equal(got[0], [[1, 0, 0], [2, 2, 0], [3, 3, 3]])
    np.testing.assert_array_equal(got[1], [[4, 4, 4, 4]])
    ds2 = tf.data.Dataset.range(1, 3).map(lambda x: tf.fill([x], x)).padded_batch(2, padded_shapes=[4],
                                                                                  padding_values=tf.constant(-1, tf.int64))
    np.testing.assert_array_equal(eager_list(ds2)[0], [[1, -1, -1, -1], [2, 2, -1, -1]])
    ub = tf.data.Dataset.from_tensor_slices(X).batch(4).unbatch()
    assert ub.element_spec.shape.as_list() == [3]
    same(eager_list(ub), list(X))


def test_repeat_take_skip_enumerate_concatenate_zip():
    r = tf.data.Dataset.range(4)
    assert [int(v) for v in eager_list(r.repeat(3))] == list(range(4)) * 3
    assert [int(v) for v in eager_list(r.repeat().take(10))] == (list(range(4)) * 3)[:10]
    assert [int(v) for v in eager_list(r.skip(1).take(2))] == [1, 2]
    assert [int(v) for v in eager_list(r.skip(-1))] == []
    assert [int(v) for v in eager_list(r.take(-1))] == [0, 1, 2, 3]
    assert [int(v) for v in eager_list(r.batch(3).repeat(2).unbatch())] == [0, 1, 2, 3] * 2
    assert [b.tolist() for b in eager_list(r.repeat(2).batch(3))] == [[0, 1, 2], [3, 0, 1], [2, 3]]
    e = eager_list(tf.data.Dataset.from_tensor_slices(Y[:3]).enumerate(start=5))
    assert [(int(i), int(v)) for i, v in e] == [(5, 0), (6, 7), (7, 14)]
    c = eager_list(r.concatenate(tf.data.Dataset.range(10, 12)))
    assert [int(v) for v in c] == [0, 1, 2, 3, 10, 11]
    z = eager_list(tf.data.Dataset.zip((r, r.map(lambda x: x * 2).skip(1))))
    assert [(int(a), int(b)) for a, b in z] == [(0, 2), (1, 4), (2, 6)]
    with pytest.raises(TypeError):
        r.concatenate(tf.data.Dataset.from_tensor_slices((X, Y)))
    sh = eager_list(tf.data.Dataset.range(10).shard(3, 1))
    assert [int(v) for v in sh] == [1, 4, 7]


def test_shuffle_batch_repeat_epochs_differ_and_cover():
    ds = tf.data.Dataset.range(20).shuffle(20, seed=1).batch(5).repeat(2)
    got = [b.tolist() for b in eager_list(ds)]
    assert len(got) == 8
    e1 = sum(got[:4], [])
    e2 = sum(got[4:], [])
    assert sorted(e1) == sorted(e2) == list(range(20)) and e1 != e2


def test_cardinality():
    r = tf.data.Dataset.range(10)
    with eager_mode():
        assert int(r.cardinality()) == 10
        assert int(r.batch(3).cardinality()) == 4
        assert int(r.batch(3, drop_remainder=True).cardinality()) == 3
        assert int(r.repeat().cardinality()) == tf.data.INFINITE_CARDINALITY
        assert int(r.filter(lambda x: x > 3).cardinality()) == tf.data.UNKNOWN_CARDINALITY
        assert int(tf.data.experimental.cardinality(r.repeat(2).skip(3).take(100))) == 17


def test_cache_replays_first_pass():
    calls = []

    def gen():
        calls.append(1)
        yield from range(3)
    ds = tf.data.Dataset.from_generator(gen, tf.int64).cache()
    assert [int(v) for v in eager_list(ds)] == [0, 1, 2]
    assert [int(v) for v in eager_list(ds)] == [0, 1, 2]
    assert len(calls) == 1


def test_prefetch_runs_in_background_and_propagates_errors():
    seen_threads = set()

    def gen():
        for i in range(50):
            seen_threads.add(threading.get_ident())
            yield i
    ds = tf.data.Dataset.from_generator(gen, tf.int64).prefetch(4)
    assert [int(v) for v in eager_list(ds)] == list(range(50))
    assert threading.get_ident() not in seen_threads

    def bad():
        yield 1
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        eager_list(tf.data.Dataset.from_generator(bad, tf.int64).prefetch(tf.data.AUTOTUNE))


def test_as_numpy_iterator_and_iter_types():
    with eager_mode():
        ds = tf.data.Dataset.from_tensor_slices((X[:2], Y[:2]))
        a = list(ds.as_numpy_iterator())
        assert isinstance(a[0][0], np.ndarray) and a[1][1] == 7
        x, y = next(iter(ds))
        assert type(x).__name__ == "EagerTensor" and x.shape.as_list() == [3]
        it = iter(tf.data.Dataset.range(1))
        it.get_next()
        with pytest.raises(tf.errors.OutOfRangeError):
            it.get_next()


def test_iteration_needs_eager_mode():
    with tf.Graph().as_default():
        with pytest.raises(RuntimeError):
            iter(tf.data.Dataset.range(3))


# ---- graph mode ----

def test_graph_iterator_loop_and_out_of_range():
    with tf.Graph().as_default():
        ds = tf.data.Dataset.from_tensor_slices((X, Y)).map(lambda x, y: (x + 1.0, y)).batch(4)
        it = ds.make_one_shot_iterator()
        x, y = it.get_next()
        assert x.shape.as_list() == [None, 3] and x.op.name == "IteratorGetNext"
        total = tf.reduce_sum(x)
        sums = []
        with tf.Session() as s:
            while True:
                try:
                    xv, yv, t = s.run([x, y, total])  # one element per run, shared by every fetch
                except tf.errors.OutOfRangeError:
                    break
                assert np.isclose(xv.sum(), t)
                sums.append(t)
            with pytest.raises(tf.errors.OutOfRangeError):
                s.run(x)
        np.testing.assert_allclose(sums, [(X[i:i + 4] + 1).sum() for i in (0, 4, 8)])


def test_initializable_iterator_with_placeholders_restarts():
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float32, [None, 3])
        n = tf.placeholder(tf.int64, [])
        ds = tf.data.Dataset.from_tensor_slices(ph * 2.0).take(n)
        it = ds.make_initializable_iterator()
        nxt = it.get_next()
        with tf.Session() as s:
            with pytest.raises(tf.errors.FailedPreconditionError):
                s.run(nxt)
            s.run(it.initializer, {ph: X, n: 2})
            np.testing.assert_array_equal(s.run(nxt), X[0] * 2)
            np.testing.assert_array_equal(s.run(nxt), X[1] * 2)
            with pytest.raises(tf.errors.OutOfRangeError):
                s.run(nxt)
            s.run(it.initializer, {ph: X[5:], n: -1})
            assert len([s.run(nxt) for _ in range(5)]) == 5
    assert graph_list(lambda: tf.data.Dataset.range(3), initializable=True) == [0, 1, 2]


def test_reinitializable_iterator_from_structure():
    with tf.Graph().as_default():
        train = tf.data.Dataset.range(5)
        val = tf.data.Dataset.range(100, 102)
        it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
        nxt = it.get_next()
        ti, vi = it.make_initializer(train), it.make_initializer(val)
        with tf.Session() as s:
            s.run(ti)
            assert [s.run(nxt) for _ in range(2)] == [0, 1]
            s.run(vi)
            assert [s.run(nxt) for _ in range(2)] == [100, 101]
            with pytest.raises(tf.errors.OutOfRangeError):
                s.run(nxt)
        with pytest.raises(TypeError):
            it.make_initializer(tf.data.Dataset.from_tensor_slices(X))


def test_graph_training_loop_with_monitored_session():
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        xs = np.random.RandomState(0).randn(64, 2).astype(np.float32)
        ys = xs @ np.array([[2.0], [-1.0]], np.float32)
        ds = tf.data.Dataset.from_tensor_slices((xs, ys)).shuffle(64, seed=1).batch(16).repeat(30)
        x, y = tf.compat.v1.data.make_one_shot_iterator(ds).get_next()
        w = tf.Variable(tf.zeros([2, 1]))
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
        step = tf.train.get_or_create_global_step()
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
        steps = 0
        with tf.train.MonitoredTrainingSession() as s:
            while not s.should_stop():
                s.run(train)
                steps += 1
        assert steps == 4 * 30
        with tf.Session() as s:
            pass


def test_one_shot_iterator_refuses_placeholders():
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float32, [None])
        with pytest.raises(ValueError):
            tf.data.Dataset.from_tensor_slices(ph).make_one_shot_iterator()


# ---- against TensorFlow's tf.data ----

def test_against_tensorflow_deterministic_pipelines():
    tf2 = pytest.importorskip("tensorflow")
    tfd = tf2.data

    def ref(make):
        def conv(e):
            return tuple(np.asarray(v) for v in e) if isinstance(e, tuple) else np.asarray(e)
        if tf2.executing_eagerly():
            return [conv(e) for e in make(tfd).as_numpy_iterator()]
        # other tests leave TensorFlow in graph mode (a process cannot undo it): iterate in a Session
        with tf2.Graph().as_default():
            nxt = tf2.compat.v1.data.make_one_shot_iterator(make(tfd)).get_next()
            out = []
            with tf2.compat.v1.Session() as s:
                while True:
                    try:
                        out.append(conv(s.run(nxt)))
                    except tf2.errors.OutOfRangeError:
                        return out
    pipelines = [
        lambda m: m.Dataset.from_tensor_slices((X, Y)).map(lambda x, y: (x * 2.0, y + 1)).batch(3),
        lambda m: m.Dataset.range(10).repeat(2).batch(4, drop_remainder=True),
        lambda m: m.Dataset.range(1, 4).interleave(lambda x: m.Dataset.range(x).repeat(2), cycle_length=2,
                                                   block_length=1),
        lambda m: m.Dataset.range(7).skip(2).take(3).enumerate(),
        lambda m: m.Dataset.range(1, 5).map(lambda x: tf2.fill([x], x) if m is tfd else tf.fill([x], x))
        .padded_batch(2),
        lambda m: m.Dataset.range(12).batch(5).unbatch().filter(
            lambda x: (tf2 if m is tfd else tf).equal(x % 2, 0)),
    ]
    for p in pipelines:
        want = ref(p)
        got = eager_list(p(tf.data))
        same(got, want)


def test_text_line_dataset_and_list_files(tmp_path):
    import gzip
    (tmp_path / "a.txt").write_bytes(b"one\ntwo\r\nthree")
    with gzip.open(tmp_path / "b.txt.gz", "wb") as f:
        f.write(b"four\nfive\n")
    lines = eager_list(tf.data.TextLineDataset([str(tmp_path / "a.txt")]))
    assert lines == [b"one", b"two", b"three"]
    gz = eager_list(tf.data.TextLineDataset(str(tmp_path / "b.txt.gz"), compression_type="GZIP"))
    assert gz == [b"four", b"five"]
    files = tf.data.Dataset.list_files(str(tmp_path / "*.txt"), shuffle=False)
    assert eager_list(files) == [str(tmp_path / "a.txt").encode()]
    both = tf.data.Dataset.list_files(str(tmp_path / "*"), seed=1)
    assert sorted(eager_list(both)) == sorted(str(tmp_path / n).encode() for n in ("a.txt", "b.txt.gz"))
    parsed = tf.data.TextLineDataset(str(tmp_path / "a.txt")).map(lambda s: tf.strings.length(s)) \
        if hasattr(tf.strings, "length") else None
    if parsed is not None:
        assert [int(v) for v in eager_list(parsed)] == [3, 3, 5]
    got = graph_list(lambda: tf.data.TextLineDataset(str(tmp_path / "a.txt")).batch(2))
    assert [list(b) for b in got] == [[b"one", b"two"], [b"three"]]
    with pytest.raises(tf.errors.NotFoundError):
        eager_list(tf.data.TextLineDataset(str(tmp_path / "missing.txt")))


def test_functions_read_outer_graph_tensors():
    with tf.Graph().as_default():
        c = tf.constant(2.0)
        scale = tf.placeholder(tf.float32, [])
        shift = tf.placeholder(tf.float32, [3])
        ds = tf.data.Dataset.from_tensor_slices(X).map(lambda x: x * c)  # constants: captured by value
        n1 = ds.make_one_shot_iterator().get_next()
        ds2 = tf.data.Dataset.from_tensor_slices(X).map(lambda x: x * scale + shift).filter(
            lambda x: tf.reduce_sum(x) > scale * 10.0).batch(4)
        assert ds2._input._input._fn.batched is None
        it = ds2.make_initializable_iterator()
        n2 = it.get_next()
        vec = tf.data.Dataset.from_tensor_slices(X).map(lambda x: x * scale).batch(5)
        assert vec._input._fn.batched is not None  # a scalar read from outside stays vectorizable
        it3 = vec.make_initializable_iterator()
        n3 = it3.get_next()
        with pytest.raises(ValueError):
            ds2.make_one_shot_iterator()
        with tf.Session() as s:
            np.testing.assert_array_equal(s.run(n1), X[0] * 2)
            s.run(it.initializer, {scale: 3.0, shift: [1.0, 0.0, -1.0]})
            want = [r * 3 + np.array([1, 0, -1]) for r in X if (r * 3 + np.array([1, 0, -1])).sum() > 30]
            np.testing.assert_allclose(s.run(n2), want[:4])
            s.run(it3.initializer, {scale: 0.5})
            np.testing.assert_allclose(s.run(n3), X[:5] * 0.5)


def test_sources_copy_numpy_arrays():
    a = np.arange(4.0, dtype=np.float32)
    ds = tf.data.Dataset.from_tensor_slices(a)
    a[:] = -1
    assert [float(v) for v in eager_list(ds)] == [0.0, 1.0, 2.0, 3.0]
