"""The rank side of tests/test_horovod.py: run as `mpiexec -n 2 python tests/horovod_worker.py MODE OUTDIR`.
Checks run on every rank and raise on failure (the launcher then fails); results that the test compares
with a single-process run go to OUTDIR/MODE-rankR.npz. `python horovod_worker.py reference OUTDIR` trains the
same models in one process, without tideflow.horovod, on the concatenated batches."""
import os
import sys
import time

import numpy as np

import tideflow as tf

MODE, OUT = sys.argv[1], sys.argv[2]
STEPS = 6
BATCH = 8  # per rank; the single-process reference uses 2 * BATCH


def data(seed, n, d_in, classes=None):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, d_in).astype(np.float32)
    if classes is None:
        return x, (x @ rng.randn(d_in, 1) + 0.5).astype(np.float32)
    return x, rng.randint(0, classes, size=n).astype(np.int32)


def regression(optimizer):
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.Variable(tf.random_normal([5, 1], seed=1), name="w")
    b = tf.Variable(tf.zeros([1]), name="b")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    return x, y, loss, optimizer(tf.train.GradientDescentOptimizer(0.1)).minimize(loss)


def mlp(optimizer):
    x = tf.placeholder(tf.float32, [None, 12], name="x")
    y = tf.placeholder(tf.int32, [None], name="y")
    w1 = tf.get_variable("w1", [12, 16])
    b1 = tf.get_variable("b1", [16], initializer=tf.zeros_initializer())
    w2 = tf.get_variable("w2", [16, 4])
    b2 = tf.get_variable("b2", [4], initializer=tf.zeros_initializer())
    h = tf.nn.relu(tf.matmul(x, w1) + b1)
    logits = tf.matmul(h, w2) + b2
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    step = tf.train.get_or_create_global_step()
    return x, y, loss, optimizer(tf.train.AdamOptimizer(0.01)).minimize(loss, global_step=step)


MODELS = {"regression": (regression, dict(d_in=5)), "mlp": (mlp, dict(d_in=12, classes=4))}


def batches(model, rank, size):
    """Step i's batch for `rank`: rows [rank*BATCH, (rank+1)*BATCH) of that step's 2*BATCH rows."""
    _, kw = MODELS[model]
    out = []
    for i in range(STEPS):
        x, y = data(100 + i, size * BATCH, **kw)
        out.append((x[rank * BATCH:(rank + 1) * BATCH], y[rank * BATCH:(rank + 1) * BATCH]))
    return out


def weights(sess):
    return {v.op.name: sess.run(v) for v in tf.trainable_variables()}


def reference():
    """One process, batch 2*BATCH, the initial weights of rank 0 (graph seed 0)."""
    for model, (build, _) in MODELS.items():
        with tf.Graph().as_default():
            tf.set_random_seed(0)
            x, y, loss, train = build(lambda opt: opt)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                for bx, by in _full_batches(model):
                    sess.run(train, {x: bx, y: by})
                np.savez(os.path.join(OUT, "%s-reference.npz" % model), **weights(sess))


def _full_batches(model):
    _, kw = MODELS[model]
    return [data(100 + i, 2 * BATCH, **kw) for i in range(STEPS)]


def train():
    import tideflow.horovod as hvd
    hvd.init()
    r = hvd.rank()
    assert hvd.size() == 2
    # regression: a plain Session and broadcast_global_variables
    with tf.Graph().as_default():
        tf.set_random_seed(r)  # every rank starts elsewhere; the broadcast makes them start from rank 0
        x, y, loss, train_op = regression(hvd.DistributedOptimizer)
        bcast = hvd.broadcast_global_variables(0)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(bcast)
            start = weights(sess)
            for bx, by in batches("regression", r, 2):
                sess.run(train_op, {x: bx, y: by})
            np.savez(os.path.join(OUT, "regression-rank%d.npz" % r), **weights(sess))
            np.savez(os.path.join(OUT, "regression-start-rank%d.npz" % r), **start)
    # MLP: MonitoredTrainingSession with BroadcastGlobalVariablesHook, Adam, a global step
    with tf.Graph().as_default():
        tf.set_random_seed(r)
        x, y, loss, train_op = mlp(hvd.DistributedOptimizer)
        final = tf.train.FinalOpsHook({v.op.name: v for v in tf.trainable_variables()})
        hooks = [hvd.BroadcastGlobalVariablesHook(0), tf.train.StopAtStepHook(last_step=STEPS), final]
        data_iter = iter(batches("mlp", r, 2))
        with tf.train.MonitoredTrainingSession(hooks=hooks) as sess:
            while not sess.should_stop():
                bx, by = next(data_iter)
                sess.run(train_op, {x: bx, y: by})
        np.savez(os.path.join(OUT, "mlp-rank%d.npz" % r), **final.final_ops_values)


def collectives():
    import tideflow.horovod as hvd
    hvd.init()
    r, n = hvd.rank(), hvd.size()
    assert n == 2 and hvd.local_size() == 2 and hvd.local_rank() == r
    # every rank can compute every rank's input
    def value(rank, shape, dtype):
        v = np.random.RandomState(rank * 1000 + len(shape)).uniform(-5, 5, size=shape)
        return v.astype(dtype)

    cases = []
    for dtype in (np.float32, np.float64, np.int32, np.int64):
        for shape in ((), (0,), (5,), (3, 4), (2, 3, 4)):
            cases.append((dtype, shape))
    ops = {"Sum": (hvd.Sum, lambda a: sum(a)), "Average": (hvd.Average, lambda a: sum(a) / len(a)),
           "Min": (hvd.Min, lambda a: np.minimum(*a)), "Max": (hvd.Max, lambda a: np.maximum(*a)),
           "Product": (hvd.Product, lambda a: a[0] * a[1])}
    with tf.Graph().as_default():
        fetches, expected = [], []
        for dtype, shape in cases:
            mine = tf.constant(value(r, shape, dtype))
            both = [value(k, shape, dtype) for k in range(n)]
            for name, (op, ref) in ops.items():
                fetches.append(hvd.allreduce(mine, op=op))
                want = ref(both)
                if name == "Average" and np.issubdtype(dtype, np.integer):
                    want = np.trunc(sum(both).astype(np.float64) / n)
                expected.append(np.asarray(want).astype(dtype))
            # allgather: the first dimension differs between ranks
            if shape:
                g_mine = np.concatenate([value(r, shape, dtype)] * (r + 1)) if shape[0] else value(r, shape, dtype)
                fetches.append(hvd.allgather(tf.constant(g_mine)))
                expected.append(np.concatenate(
                    [np.concatenate([value(k, shape, dtype)] * (k + 1)) if shape[0] else value(k, shape, dtype)
                     for k in range(n)]))
            fetches.append(hvd.broadcast(mine, 1))
            expected.append(value(1, shape, dtype))
        # scaling factors and bools
        fetches.append(hvd.allreduce(tf.constant([1.0, 2.0]), op=hvd.Sum, prescale_factor=0.5, postscale_factor=3.0))
        expected.append(np.array([3.0, 6.0], np.float32))
        flags = np.array([True, r == 0, False])
        fetches.append(hvd.broadcast(tf.constant(flags), 0))
        expected.append(np.array([True, True, False]))
        fetches.append(hvd.allgather(tf.constant(flags)))
        expected.append(np.array([True, True, False, True, False, False]))
        # Python scalars, placeholders and variables as inputs
        v = tf.Variable(np.full((2, 2), r + 1.0, np.float32))
        fetches.append(hvd.allreduce(v))
        expected.append(np.full((2, 2), 1.5, np.float32))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got = sess.run(fetches)
        for g, e, f in zip(got, expected, fetches):
            assert g.dtype == e.dtype and g.shape == e.shape, (f, g.dtype, g.shape, e.dtype, e.shape)
            np.testing.assert_allclose(g, e, rtol=1e-6 if g.dtype != np.float32 else 1e-5, err_msg=f.name)

        # IndexedSlices: values and indices gathered, values averaged
        sl = tf.IndexedSlices(tf.constant(np.full((2, 3), r + 1.0, np.float32)), tf.constant([r, 2]),
                              dense_shape=tf.constant([4, 3]))
        avg = hvd.allreduce(sl)
        with tf.Session() as sess:
            vals, idx = sess.run([avg.values, avg.indices])
        np.testing.assert_allclose(vals, np.concatenate([np.full((2, 3), 0.5), np.full((2, 3), 1.0)]))
        assert idx.tolist() == [0, 2, 1, 2]

    # DistributedOptimizer with IndexedSlices gradients: allgathered, or made dense with sparse_as_dense
    with tf.Graph().as_default():
        emb = tf.Variable(np.zeros((4, 2), np.float32))

        class SparseGrads(tf.train.GradientDescentOptimizer):
            def compute_gradients(self, loss, var_list=None, **kw):
                rows = tf.constant([r, 3])  # rank 0 touches rows 0 and 3, rank 1 rows 1 and 3
                return [(tf.IndexedSlices(tf.constant(np.full((2, 2), r + 1.0, np.float32)), rows,
                                          dense_shape=tf.constant([4, 2])), emb)]

        sparse = hvd.DistributedOptimizer(SparseGrads(1.0)).compute_gradients(tf.constant(0.0))[0][0]
        assert isinstance(sparse, tf.IndexedSlices)
        step = hvd.DistributedOptimizer(SparseGrads(1.0), sparse_as_dense=True).minimize(tf.constant(0.0))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            idx, vals = sess.run([sparse.indices, sparse.values])
            sess.run(step)
            w = sess.run(emb)
        assert idx.tolist() == [0, 3, 1, 3] and vals[:, 0].tolist() == [0.5, 0.5, 1.0, 1.0], (idx, vals)
        # the dense average of rank 0's and rank 1's gradients, applied with rate 1
        np.testing.assert_allclose(w[:, 0], [-0.5, -1.0, 0.0, -1.5])

    # Ranks on one machine reduce in a shared window (Note [shared-memory allreduce]) unless TIDEFLOW_HVD_SHM=0:
    # its results are MPI's own, bit for bit, for buffers of several 4 MB pieces with odd sizes, fed (reduced
    # into a new output) and computed (reduced in the fusion buffer), NaNs included where MPI defines the
    # result (a sum or product; which rank's NaN or number a min/max keeps depends on MPICH's algorithm).
    from mpi4py import MPI
    shm_before = hvd._stats()["shm_calls"]
    with tf.Graph().as_default():
        for dtype in (np.float32, np.float64, np.int32, np.int64):
            x = value(r, (1_500_001,), dtype)
            if dtype in (np.float32, np.float64):
                x[::7] = np.nan if r == 0 else x[::7]
                x[3::11] = np.nan if r == 1 else x[3::11]
            p = tf.placeholder(dtype, x.shape)
            with tf.Session() as sess:
                for op, mop in ((hvd.Sum, MPI.SUM), (hvd.Min, MPI.MIN), (hvd.Max, MPI.MAX), (hvd.Product, MPI.PROD)):
                    xs = x if op in (hvd.Sum, hvd.Product) else np.where(x != x, 0, x).astype(dtype)
                    want = np.empty_like(xs)
                    MPI.COMM_WORLD.Allreduce(xs, want, op=mop)
                    for t in (hvd.allreduce(p, op=op), hvd.allreduce(p * 1, op=op)):
                        got = sess.run(t, {p: xs})
                        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8), err_msg=str((dtype, op)))
    used = hvd._stats()["shm_calls"] - shm_before
    assert used == (0 if os.environ.get("TIDEFLOW_HVD_SHM") == "0" else 32), used

    # A large fed input is reduced into an output buffer that is reused once nobody holds it: results the
    # caller keeps never change.
    with tf.Graph().as_default():
        big = tf.placeholder(tf.float32, [300000])
        red = hvd.allreduce(big, op=hvd.Sum)
        with tf.Session() as sess:
            kept = [sess.run(red, {big: np.full(300000, k + r, np.float32)}) for k in range(3)]
            for k in range(3):
                assert (kept[k] == 2 * k + 1).all(), (k, kept[k][:3])
            del kept
            for k in range(3):
                assert (sess.run(red, {big: np.full(300000, k, np.float32)}) == 2 * k).all()

    # Fused results are views of a fusion buffer (Note [fusion views]): results the caller keeps, or writes
    # into, never change another step's results.
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [5])
        outs = [hvd.allreduce(p * float(i + 1), op=hvd.Sum) for i in range(3)] + [hvd.allreduce(p * 2.0)]
        with tf.Session() as sess:
            kept = [sess.run(outs, {p: np.full(5, k + r, np.float32)}) for k in range(3)]
            kept[0][1][:] = -7.0
            for k in range(1, 3):
                for i in range(3):
                    assert (kept[k][i] == (i + 1) * (2 * k + 1)).all(), (k, i, kept[k][i])
                assert (kept[k][3] == 2 * k + 1).all(), (k, kept[k][3])
            del kept
            for k in range(3):
                got = sess.run(outs, {p: np.full(5, k, np.float32)})
                assert all((got[i] == (i + 1) * 2 * k).all() for i in range(3)) and (got[3] == 2 * k).all(), got

    # Tensor fusion: many small gradients ready together go to MPI in few calls
    with tf.Graph().as_default():
        before = hvd._stats()
        # long names: the round's message outgrows the fixed-size exchange and takes the second one
        with tf.name_scope("a_rather_long_name_scope_that_makes_every_announcement_longer"):
            parts = [tf.constant(np.full((3,), float(i + r), np.float32)) for i in range(80)]
        # two executor threads: the async nodes run beside pool helpers
        with tf.Session(config=tf.ConfigProto(inter_op_parallelism_threads=2)) as sess:
            got = sess.run([hvd.allreduce(p, op=hvd.Sum) for p in parts])
        for i, g in enumerate(got):
            np.testing.assert_allclose(g, np.full((3,), 2.0 * i + 1))
        after = hvd._stats()
        calls = after["mpi_calls"] - before["mpi_calls"]
        assert calls < 80 and after["fused_tensors"] > before["fused_tensors"], (before, after)

    # Gradients through the collectives (Horovod's rules)
    with tf.Graph().as_default():
        x = tf.constant(np.arange(6, dtype=np.float64).reshape(3, 2) + r)
        rows = tf.constant(np.arange(2 * (r + 1), dtype=np.float64).reshape(r + 1, 2))
        s = tf.reduce_sum(hvd.allreduce(x, op=hvd.Sum) * (r + 1.0))
        g_sum = tf.gradients(s, x)[0]
        gat = hvd.allgather(rows)
        g_gat = tf.gradients(tf.reduce_sum(gat * tf.constant(np.arange(6, dtype=np.float64).reshape(3, 2))), rows)[0]
        b = hvd.broadcast(x, 0)
        g_b = tf.gradients(tf.reduce_sum(b * 2.0), x)[0]
        with tf.Session() as sess:
            gs, gg, gb = sess.run([g_sum, g_gat, g_b])
        np.testing.assert_allclose(gs, np.full((3, 2), 3.0))  # sum over ranks of (rank + 1)
        w = np.arange(6, dtype=np.float64).reshape(3, 2) * 2  # summed over both ranks
        np.testing.assert_allclose(gg, w[:1] if r == 0 else w[1:])
        np.testing.assert_allclose(gb, np.full((3, 2), 4.0 if r == 0 else 0.0))

    # Ranks that disagree: a typed error on every rank, and the collectives still work afterwards
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [None])
        red = hvd.allreduce(p)
        gat = hvd.allgather(tf.reshape(p, [-1, 1]) if r == 0 else tf.reshape(p, [1, -1]))
        bc = hvd.broadcast(p, 0)
        with tf.Session() as sess:
            for t, feed, words in ((red, np.ones(2 + r), "Mismatched allreduce tensor shapes"),
                                   (gat, np.ones(2 + r), "Mismatched allgather tensor shapes"),
                                   (bc, np.ones(2 + r), "Mismatched broadcast tensor shapes")):
                try:
                    sess.run(t, {p: feed})
                except tf.errors.FailedPreconditionError as e:
                    assert words in str(e) and "rank 0 has float32[2" in str(e), str(e)
                    assert t.op.name in str(e)
                else:
                    raise AssertionError("no error for mismatched %s" % t.op.type)
            np.testing.assert_allclose(sess.run(red, {p: np.ones(4) * (r + 1)}), np.full(4, 1.5))
    with tf.Graph().as_default():
        d = tf.constant(np.ones(3, np.float32 if r == 0 else np.float64))
        with tf.Session() as sess:
            try:
                sess.run(hvd.allreduce(d, name="dtype_check"))
            except tf.errors.FailedPreconditionError as e:
                assert "Mismatched data types" in str(e) and "rank 1 has float64[3]" in str(e), str(e)
            else:
                raise AssertionError("no error for mismatched dtypes")
    # Objects
    assert hvd.broadcast_object({"r": r}, root_rank=1) == {"r": 1}
    assert hvd.allgather_object(r * 10) == [0, 10]
    print("rank %d: collectives ok" % r, flush=True)


def single():
    """No launcher: one process, every collective is the identity."""
    import tideflow.horovod as hvd
    hvd.init()
    assert (hvd.size(), hvd.rank(), hvd.local_size(), hvd.local_rank()) == (1, 0, 1, 0)
    x = tf.constant([[1.0, 2.0]])
    with tf.Session() as sess:
        a, g, b = sess.run([hvd.allreduce(x), hvd.allgather(x), hvd.broadcast(x, 0)])
    assert a.tolist() == g.tolist() == b.tolist() == [[1.0, 2.0]]
    print("single ok", flush=True)


def fail():
    """Rank 1 stops (how: argv[3]) while rank 0 waits in an allreduce; rank 0 must end with a message."""
    import tideflow.horovod as hvd
    hvd.init()
    r = hvd.rank()
    how = sys.argv[3]
    x = tf.placeholder(tf.float32, [3])
    s = hvd.allreduce(x)
    with tf.Session() as sess:
        sess.run(s, {x: np.ones(3)})
        if r == 1:
            time.sleep(0.3)
            if how == "raise":
                raise ValueError("boom on rank 1")
            if how == "exit":
                sys.exit(0)
            if how == "kill":
                os.kill(os.getpid(), 9)
        try:
            sess.run(s, {x: np.ones(3)})
        except tf.errors.UnknownError as e:
            print("rank %d got: %s" % (r, str(e).splitlines()[0]), flush=True)
            raise


def stall():
    """The ranks disagree on a collective's name: a warning, then (HOROVOD_STALL_SHUTDOWN_TIME_SECONDS) an
    error on every rank."""
    import tideflow.horovod as hvd
    hvd.init()
    r = hvd.rank()
    y = hvd.allreduce(tf.constant([1.0, 2.0]), name="only_on_rank_%d" % r)
    with tf.Session() as sess:
        try:
            sess.run(y)
        except tf.errors.UnknownError as e:
            print("rank %d got: %s" % (r, str(e).splitlines()[0]), flush=True)


def eager():
    """Eager mode: the collectives run at once; a DistributedGradientTape loop on batch b per rank ends
    with the weights of one process stepping on batch 2b (computed here with NumPy)."""
    tf.enable_eager_execution()
    import tideflow.horovod as hvd
    hvd.init()
    r = hvd.rank()
    x = np.arange(6, dtype=np.float32).reshape(3, 2) * (r + 1)
    np.testing.assert_array_equal(hvd.allreduce(tf.constant(x)).numpy(), x / (r + 1) * 1.5)
    np.testing.assert_array_equal(hvd.allreduce(x, op=hvd.Sum).numpy(), x / (r + 1) * 3)
    np.testing.assert_array_equal(hvd.allgather(tf.constant(x[: r + 1])).numpy(),
                                  np.concatenate([x[:1] / (r + 1), x[:2] / (r + 1) * 2]))
    np.testing.assert_array_equal(hvd.broadcast(tf.constant(x), 1).numpy(), x / (r + 1) * 2)
    rng = np.random.RandomState(0)
    X, Y = rng.randn(2 * BATCH, 3).astype(np.float32), rng.randn(2 * BATCH, 1).astype(np.float32)
    w0 = rng.randn(3, 1).astype(np.float32)
    w = tf.Variable(w0 * (r + 1))  # rank 1 starts elsewhere: the broadcast must fix it
    hvd.broadcast_variables([w], 0)
    opt = tf.train.GradientDescentOptimizer(0.1)
    xb, yb = X[r * BATCH:(r + 1) * BATCH], Y[r * BATCH:(r + 1) * BATCH]
    ref = w0.astype(np.float64)
    for _ in range(STEPS):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) - yb))
        tape = hvd.DistributedGradientTape(tape)
        (g,) = tape.gradient(loss, [w])
        opt.apply_gradients([(g, w)])
        ref -= 0.1 * 2 * X.T @ (X @ ref - Y) / len(X)
    np.testing.assert_allclose(w.numpy(), ref, rtol=1e-5, atol=1e-6)
    print("rank %d: eager ok" % r)


if __name__ == "__main__":
    {"reference": reference, "train": train, "collectives": collectives, "single": single, "fail": fail,
     "stall": stall, "eager": eager}[MODE]()
