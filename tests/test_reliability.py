"""Issue 15's classes, each hunted by a test: typed errors for hostile values, dtypes enforced by the op
table (Note [op type rules]), output counts bounded before they are built, special values (NaN, +-inf) as
TensorFlow gives them, a plan-time fusion that keeps the unfused numbers (Note [fusion keeps the
numbers]), files under attack (checkpoints truncated or flipped, kill -9 during a save) and a short run of the fuzzer
(tests/fuzz/run.py). Resources staying flat over many runs and lifecycles: tests/test_leaks.py."""
import json
import math
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

import tideflow as tf
from tideflow import _core
from conftest import SANITIZED

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# Child processes import the tideflow this process imported (the installed one in CI, python/ in a dev build).
_TIDEFLOW_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))


def _run(fetch, feed=None):
    with tf.Session() as s:
        return s.run(fetch, feed)


# ---- typed errors for values the core cannot hold ------------------------------------------------

def test_absurd_python_values_are_typed_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="out of range"):
            tf.placeholder(tf.float64, [2**64])
        with pytest.raises(ValueError, match="must be >= 0"):
            tf.placeholder(tf.float64, [-3])
        with pytest.raises(ValueError, match="out of range"):
            tf.constant(2**64, dtype=tf.int64)
        with pytest.raises(TypeError):  # a mixed list is no attribute kind: not std::bad_cast
            tf.reshape(tf.zeros([2]), [2, "x"])
        x = tf.placeholder(tf.float32, [None])
        with pytest.raises(TypeError, match="expected string"):  # TF: a dtype where `name` goes
            tf.shape(x, tf.int64)
        with pytest.raises(ValueError, match="at least k"):  # TF: k becomes int64, then the shape check
            tf.nn.top_k(tf.constant([1., 2.]), 2**31)
        big = tf.ones([2**40, 2**40])  # builds (a Fill node), as in TensorFlow; refused when run
        assert big.shape.as_list() == [2**40, 2**40]
        with pytest.raises(tf.errors.ResourceExhaustedError):
            _run(big)


def test_string_placeholder_takes_strings_only():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.string, [])
        q = tf.placeholder(tf.string, [2])
        with tf.Session() as s:
            with pytest.raises(TypeError, match="Expected string"):
                s.run(p, {p: 3})  # was three NUL bytes
            with pytest.raises(TypeError, match="Expected string"):
                s.run(q, {q: [b"a", 7]})
            assert s.run(p, {p: "abc"}) == b"abc"
            assert s.run(q, {q: np.array(["a", b"b"], dtype=object)}).tolist() == [b"a", b"b"]


# ---- dtypes enforced by the op table ---------------------------------------------------------------

def test_op_table_refuses_dtypes_at_build_time():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None])
        with pytest.raises(TypeError, match="out_type.*float32.*int32, int64"):
            tf.size(x, out_type=tf.float32)  # was 1.3e-44 for 9: the int's bits read as float
        with pytest.raises(TypeError, match="out_type"):
            tf.shape(x, out_type=tf.float32)
        with pytest.raises(TypeError, match="string"):
            tf.sqrt(tf.constant(["a"]))
        with pytest.raises(TypeError, match="string"):
            tf.nn.relu(tf.constant(["a"]))
        with pytest.raises(TypeError, match="string"):
            tf.matmul(tf.constant([["a"]]), tf.constant([["b"]]))
        with pytest.raises(ValueError, match="padding"):
            tf.nn.max_pool(tf.zeros([1, 2, 2, 1]), [1, 2, 2, 1], [1, 1, 1, 1], "BOGUS")


def test_every_generated_rule_names_a_registered_op():
    """op_types.inc is generated from TensorFlow (tools/gen_op_types.py); a stale row names a missing op."""
    rows = open(os.path.join(ROOT, "cpp", "op_types.inc")).read().splitlines()
    names = {r.split('"')[1] for r in rows if r.startswith('{"')}
    assert len(names) > 150
    assert names <= set(_core.registered_ops())


def test_a_kernel_never_reads_a_tensor_as_another_dtype():
    """Behind the rules, Tensor::data<T>() checks: an op without a rule fails typed, never with wrong bits."""
    with tf.Graph().as_default():
        names = tf.constant(["v"])
        from tideflow.framework import ops as _ops
        with pytest.raises(TypeError, match="bool"):
            _ops.apply_op("ReportUninitialized", [names, tf.constant(2.0)])


# ---- sizes and output counts checked before memory is touched --------------------------------------

@pytest.mark.parametrize("build", [
    lambda x: tf.split(x, 2**31 - 1),
    lambda x: tf.unstack(x, num=2**31),
    lambda x: tf.dynamic_partition(x, tf.zeros_like(x, tf.int32), 2**31 - 1),
    lambda x: tf.split(x, 2**16 + 1),
])
def test_output_counts_are_bounded_before_outputs_are_built(build):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32)  # unknown shape: nothing else bounds the count
        with pytest.raises(ValueError, match="more outputs than a node may have"):
            build(x)


def test_attributes_validated_at_build_time():
    with tf.Graph().as_default():
        x = tf.zeros([1, 4, 4, 4])
        with pytest.raises(ValueError):
            tf.nn.depth_to_space(x, 2**62)
        with pytest.raises(ValueError):
            tf.nn.space_to_depth(x, 0)
        with pytest.raises(ValueError):
            tf.split(tf.zeros([4]), 0)
        with pytest.raises(ValueError):
            tf.tensordot(tf.ones([2, 3]), tf.ones([3, 2]), [[1], [5]])
        with pytest.raises(ValueError):
            tf.nn.max_pool(x, [1, 0, 2, 1], [1, 1, 1, 1], "VALID")
        with pytest.raises(ValueError):
            tf.nn.max_pool(x, [1, 2, 2, 1], [1, 0, 1, 1], "VALID")
        with pytest.raises(ValueError):
            tf.unsorted_segment_sum(tf.zeros([3]), [0, 1, 2], -1)
    with tf.Graph().as_default():
        assert _run(tf.tensordot(tf.constant(2.), tf.constant(3.), 0)) == 6.0


# ---- special values -----------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_propagates_through_max_and_min_reductions(dtype):
    rng = np.random.RandomState(0)
    a = rng.randn(4, 5, 6).astype(dtype)
    a[rng.rand(*a.shape) < 0.08] = np.nan
    a[0, 0, 0] = np.nan  # first element of a row: the accumulator starts as NaN
    a[3, 4, 5] = np.nan  # last element
    with tf.Graph().as_default():
        for axis in (None, 0, 1, 2, (0, 2), (1, 2)):
            got_max, got_min = _run([tf.reduce_max(a, axis), tf.reduce_min(a, axis)])
            np.testing.assert_array_equal(got_max, np.max(a, axis))
            np.testing.assert_array_equal(got_min, np.min(a, axis))
        assert np.isnan(_run(tf.reduce_max([NAN, 1.0])))
        assert np.isnan(_run(tf.reduce_min([1.0, NAN])))
        np.testing.assert_array_equal(_run(tf.maximum([NAN, 1.0], [1.0, NAN])), [NAN, NAN])


def test_infinities_as_tensorflow():
    """Values TensorFlow 2.21 gives (checked against it in test_special_values_match_tensorflow)."""
    with tf.Graph().as_default():
        got = _run(tf.log_sigmoid([INF, -INF, NAN, 0.0, 30.0, -30.0]))
        np.testing.assert_array_equal(got[:3], [0.0, -INF, NAN])
        np.testing.assert_allclose(got[3:], [-math.log(2), -math.log1p(math.exp(-30)), -30 - math.log1p(math.exp(-30))],
                                   rtol=1e-6)
        np.testing.assert_array_equal(_run(tf.nn.softplus([INF, -INF])), [INF, 0.0])
        assert _run(tf.reduce_logsumexp([INF, 1.0])) == INF
        assert _run(tf.reduce_logsumexp([-INF, -INF])) == -INF
        assert _run(tf.reduce_logsumexp([INF, -INF])) == INF
        assert np.isnan(_run(tf.reduce_logsumexp([NAN, 1.0])))
        np.testing.assert_allclose(_run(tf.reduce_logsumexp([[1000., 1000.], [-INF, 0.]], axis=1)),
                                   [1000 + math.log(2), 0.0])


def test_log_sigmoid_gradient_stays_finite():
    with tf.Graph().as_default():
        x = tf.constant([INF, -INF, 0.0, 50.0, -50.0])
        g, = tf.gradients(tf.log_sigmoid(x), [x])
        np.testing.assert_allclose(_run(g), [0.0, 1.0, 0.5, 0.0, 1.0], atol=1e-7)


SPECIAL_CASES = [  # (name, tideflow/TF builder) run on both, compared bit for bit (NaN == NaN)
    ("reduce_max", lambda tf: tf.reduce_max([[NAN, 1.0], [2.0, 3.0], [-INF, NAN]], axis=1)),
    ("reduce_min", lambda tf: tf.reduce_min([NAN, -INF, 1.0])),
    ("maximum", lambda tf: tf.maximum([NAN, 1.0, -0.0], [1.0, NAN, 0.0])),
    ("minimum", lambda tf: tf.minimum([NAN, 1.0, INF], [1.0, NAN, -INF])),
    ("log_sigmoid", lambda tf: tf.log_sigmoid([INF, -INF, NAN, 0.0, 100.0, -100.0])),
    ("softplus", lambda tf: tf.nn.softplus([INF, -INF, NAN, 0.0, 100.0])),
    ("logsumexp", lambda tf: tf.reduce_logsumexp([[INF, 1.0], [-INF, -INF], [INF, -INF], [NAN, 0.0]], axis=1)),
    ("clip_by_norm", lambda tf: tf.clip_by_norm([INF, 1.0], 1.0)),
    ("l2_normalize", lambda tf: tf.nn.l2_normalize([INF, 1.0], 0)),
    ("sigmoid_ce", lambda tf: tf.nn.sigmoid_cross_entropy_with_logits(labels=[0., 1., 1., 0.],
                                                                        logits=[INF, INF, -INF, -INF])),
    ("softmax_ce", lambda tf: tf.nn.softmax_cross_entropy_with_logits_v2(labels=[0., 1.], logits=[INF, 1.0])),
    ("top_k", lambda tf: tf.nn.top_k([1.0, NAN, 3.0, -INF], 3).values),
    ("max_pool", lambda tf: tf.nn.max_pool(tf.constant(np.array([NAN, 1, 2, NAN], np.float32).reshape(1, 2, 2, 1)),
                                           [1, 2, 2, 1], [1, 2, 2, 1], "VALID")),
    ("max_pool_nans", lambda tf: tf.nn.max_pool(tf.constant(np.array([NAN, NAN, 3, 1, NAN, 2, -1, NAN], np.float32)
                                                            .reshape(1, 1, 8, 1)), [1, 1, 2, 1], [1, 1, 2, 1], "VALID")),
    ("max_pool_argmax", lambda tf: tf.nn.max_pool_with_argmax(
        tf.constant(np.array([1, NAN, 2, 3, NAN, 0, 5, 4], np.float32).reshape(1, 1, 8, 1)),
        [1, 1, 2, 1], [1, 1, 2, 1], "VALID")),
    ("max_pool_grad", lambda tf: (lambda x: tf.gradients(tf.nn.max_pool(x, [1, 1, 2, 1], [1, 1, 2, 1], "VALID"), x)[0])(
        tf.constant(np.array([1, NAN, 2, 3, NAN, 0, 5, 4, NAN, NAN], np.float32).reshape(1, 1, 10, 1)))),
]


@pytest.mark.parametrize("name,build", SPECIAL_CASES, ids=[c[0] for c in SPECIAL_CASES])
def test_special_values_match_tensorflow(name, build):
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    with tf1.Graph().as_default():
        with tf1.Session() as s:
            want = s.run(build(tf1))
    with tf.Graph().as_default():
        got = _run(build(tf))
    if isinstance(want, tuple):
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    # TensorFlow flushes denormals to zero (log_sigmoid(100) is -0 there, -3.7e-44 here): they count as 0.
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=float(np.finfo(np.float32).tiny), equal_nan=True)
    assert (np.isnan(got) == np.isnan(want)).all()


# ---- optimizations never change results ---------------------------------------------------------

def _regression(fetch_grad, epochs):
    rng = np.random.RandomState(0)
    X = rng.randn(2000, 8).astype(np.float32)
    Xb = np.c_[np.ones((2000, 1), np.float32), X]
    y = (Xb @ rng.randn(9, 1) + 0.1 * rng.randn(2000, 1)).astype(np.float32)
    with tf.Graph().as_default():
        Xt, yt = tf.constant(Xb), tf.constant(y)
        theta = tf.Variable(tf.random_uniform([9, 1], -1.0, 1.0, seed=42), name="theta")
        err = tf.matmul(Xt, theta) - yt
        loss = tf.reduce_mean(tf.square(err))
        opt = tf.train.GradientDescentOptimizer(0.01)
        (grad, _), = opt.compute_gradients(loss, [theta])  # X^T g: a MatMul feeding the update
        train = opt.apply_gradients([(grad, theta)])  # fused unless the gradient is fetched too
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            fetches = [train, grad] if fetch_grad else train
            from tideflow.framework.session import _Fetcher
            f = _Fetcher(s.graph, fetches)
            planned = dict(_core.make_callable(s._c, [], f.keys, f.targets).planned)
            assert (planned["GradientDescent/update_theta/ApplyGradientDescent"] is None) == fetch_grad
            for _ in range(epochs):
                s.run(fetches)
            return s.run(theta)


def test_fused_sgd_update_gives_the_unfused_numbers_bit_for_bit():
    """Note [fusion keeps the numbers]: 1,000 epochs of a regression with the fusion (run(train)) and
    without it (run([train, grad]): a fetched gradient turns it off). The tolerance is zero."""
    fused = _regression(False, 1000)
    unfused_grad_fetched = _regression(True, 1000)
    np.testing.assert_array_equal(fused, unfused_grad_fetched)


def test_fused_update_runs_and_equals_the_unfused_kernel_pair():
    from tideflow.framework.session import _Fetcher
    rng = np.random.RandomState(1)
    xv = rng.randn(300, 7).astype(np.float32)
    results = []
    for fetch_product in (False, True):
        with tf.Graph().as_default():
            x = tf.constant(xv)
            d = tf.placeholder(tf.float32, [300, 1])
            w = tf.Variable(np.zeros((7, 1), np.float32), name="w")
            prod = tf.matmul(x, d, transpose_a=True)
            train = tf.train.GradientDescentOptimizer(0.003).apply_gradients([(prod, w)])
            with tf.Session() as s:
                s.run(w.initializer)
                fetches = [train, prod] if fetch_product else train
                f = _Fetcher(s.graph, fetches)
                planned = dict(_core.make_callable(s._c, [d._key()], f.keys, f.targets).planned)
                fused_by = planned["GradientDescent/update_w/ApplyGradientDescent"]
                assert (fused_by is None) == fetch_product
                for i in range(200):
                    s.run(fetches, {d: rng.randn(300, 1).astype(np.float32) if False else
                                    np.sin(np.arange(300, dtype=np.float32) * (i + 1))[:, None]})
                results.append(s.run(w))
    np.testing.assert_array_equal(results[0], results[1])


def test_minimize_takes_any_iterable_of_variables():
    with tf.Graph().as_default():
        a = tf.Variable([1.0, 2.0], name="a")
        b = tf.Variable(3.0, name="b")
        loss = tf.reduce_sum(a * a) + b * b
        d = {"a": a, "b": b}
        opt = tf.train.GradientDescentOptimizer(0.1)
        for vl in (d.values(), {a, b}, (v for v in [a, b]), iter([a, b])):
            gv = opt.compute_gradients(loss, var_list=vl)
            assert {v.op.name for _, v in gv} == {"a", "b"}
        train = opt.minimize(loss, var_list=d.values())
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            s.run(train)
            np.testing.assert_allclose(s.run(a), [0.8, 1.6], rtol=1e-6)


# ---- files under attack --------------------------------------------------------------------------

def _small_checkpoint(tmp_path):
    with tf.Graph().as_default():
        v = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="v")
        w = tf.Variable(np.int64(7), name="w")
        saver = tf.train.Saver()
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            prefix = saver.save(s, str(tmp_path / "model"), write_meta_graph=False)
    return prefix


def _restore(prefix):
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros((2, 3), np.float32), name="v")
        w = tf.Variable(np.int64(0), name="w")
        saver = tf.train.Saver()
        with tf.Session() as s:
            saver.restore(s, prefix)
            return s.run([v, w])


def test_checkpoint_truncated_at_every_offset_or_flipped_is_refused(tmp_path):
    prefix = _small_checkpoint(tmp_path)
    path = prefix + ".safetensors"
    data = open(path, "rb").read()
    good = _restore(prefix)
    assert good[0].tolist() == [[0, 1, 2], [3, 4, 5]] and good[1] == 7
    bad = str(tmp_path / "bad")
    for n in range(len(data)):  # every truncation
        with open(bad + ".safetensors", "wb") as f:
            f.write(data[:n])
        with pytest.raises(tf.errors.DataLossError):
            _restore(bad)
    rng = np.random.RandomState(0)
    flips = [(i, 1 << rng.randint(8)) for i in range(len(data))]  # a flipped bit in every byte
    for i, bit in flips:
        b = bytearray(data)
        b[i] ^= bit
        with open(bad + ".safetensors", "wb") as f:
            f.write(bytes(b))
        try:
            got = _restore(bad)
        except tf.errors.DataLossError:
            continue
        # Whitespace in the JSON header may flip into other whitespace; the values must still be right.
        assert got[0].tolist() == good[0].tolist() and got[1] == good[1], "byte %d bit %d loaded wrong values" % (i, bit)


_SAVER_CHILD = r"""
import sys, numpy as np, tideflow as tf
v = tf.Variable(np.zeros(20000, np.float32), name="v")
inc = tf.assign_add(v, tf.ones([20000]))
saver = tf.train.Saver(max_to_keep=2)
with tf.Session() as s:
    s.run(tf.global_variables_initializer())
    step = 0
    while True:
        step += 1
        s.run(inc)
        saver.save(s, sys.argv[1], global_step=step)
        print(step, flush=True)
"""


def test_kill_during_save_leaves_the_previous_checkpoint_restorable(tmp_path):
    """kill -9 at random moments of a loop of saves (8 repetitions here, each a fresh interpreter; the
    issue's 100 are a longer run): whatever `checkpoint` names restores, with the values of a whole step."""
    env = dict(os.environ, PYTHONPATH=_TIDEFLOW_PARENT)
    rng = np.random.RandomState(0)
    prefix = str(tmp_path / "m")
    for rep in range(int(os.environ.get("TIDEFLOW_KILL_REPEATS", "8"))):
        p = subprocess.Popen([sys.executable, "-c", _SAVER_CHILD, prefix], stdout=subprocess.PIPE, env=env)
        first = p.stdout.readline()
        assert first, "the saver child did not start"
        threading.Event().wait(rng.uniform(0, 0.05))
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stdout.close()
        latest = tf.train.latest_checkpoint(str(tmp_path))
        assert latest is not None
        with tf.Graph().as_default():
            v = tf.Variable(np.zeros(20000, np.float32), name="v")
            with tf.Session() as s:
                tf.train.Saver().restore(s, latest)
                got = s.run(v)
        assert (got == got[0]).all() and got[0] >= 1, "a torn checkpoint restored: %s" % latest


def test_add_summary_refuses_bytes_that_are_not_a_summary(tmp_path):
    w = tf.summary.FileWriter(str(tmp_path))
    try:
        for junk in (b"\xff\xff\xff", b"\x0a\x05abc", b"not a summary at all \x00\x01"):
            with pytest.raises((tf.errors.DataLossError, ValueError)):
                w.add_summary(junk, 1)
        w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="x", simple_value=1.0)]).SerializeToString(), 2)
    finally:
        w.close()


# ---- the fuzzer, a short run ---------------------------------------------------------------------

@pytest.mark.parametrize("backend,cases", [("graph", 600), ("eager", 400)])
def test_fuzzer_short_run(tmp_path, backend, cases):
    """A fixed slice of the fuzzer's cases: every case ends ok or with a typed error; a crash, hang or
    untyped error fails the test with the command that replays it. Long runs:
    python tests/fuzz/run.py --minutes N [--backend eager]."""
    env = dict(os.environ, PYTHONPATH=_TIDEFLOW_PARENT)
    # Under ASan the workers cannot limit their address space (ASan maps terabytes of shadow memory); the
    # allocation cap (--cap-mb) still bounds what a case may ask for.
    memory = ["--memory-gb", "0"] if SANITIZED else []
    r = subprocess.run([sys.executable, os.path.join(HERE, "fuzz", "run.py"), "--cases", str(cases), "--seed", "15",
                        "--backend", backend, "--out", str(tmp_path), "--timeout", "60", "--quiet", "--no-minimize"]
                       + memory,
                       env=env, capture_output=True, text=True, timeout=600)
    summary = json.load(open(tmp_path / "summary.json"))
    assert summary["cases"] == cases
    assert not summary["failures"], json.dumps(summary["failures"], indent=1)[:3000]
    assert summary["ops_reached"] > 200
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


# ---- graph files under attack ------------------------------------------------------------------------

def _graph_def():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        tf.identity(tf.identity(x, name="y") + tf.constant([1.0, 2.0], name="c"), name="z")
    return g.as_graph_def()


def _node(gd, name):
    return next(n for n in gd.node if n.name == name)


def test_hostile_graph_defs_are_refused_before_anything_runs():
    gd = _graph_def()
    _node(gd, "y").input[0] = "z"  # a cycle: y <- add <- y
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="(?i)cycle"):
            tf.import_graph_def(gd, name="")
    gd = _graph_def()
    _node(gd, "z").op = "NoSuchOp"
    with tf.Graph().as_default():
        with pytest.raises((tf.errors.NotFoundError, ValueError), match="NoSuchOp"):
            tf.import_graph_def(gd, name="")
    gd = _graph_def()  # a constant claiming 2**80 elements with two floats of content: never allocated
    dims = _node(gd, "c").attr["value"].tensor.tensor_shape.dim
    dims[0].size = 2**40
    dims.add().size = 2**40
    with tf.Graph().as_default():
        with pytest.raises((ValueError, tf.errors.DataLossError, tf.errors.InvalidArgumentError)):
            tf.import_graph_def(gd, name="")
    gd = _graph_def()
    _node(gd, "x").attr["shape"].shape.dim[1].size = 2**62  # a static shape alone allocates nothing
    with tf.Graph().as_default():
        with pytest.raises(ValueError):  # the Add of [?, 2**62] and [2] does not broadcast
            tf.import_graph_def(gd, name="")


def test_deeply_nested_or_garbled_graph_bytes_are_refused():
    def ld(field, payload):  # a length-delimited protobuf field
        n, v = len(payload), b""
        while True:
            b, n = n & 0x7F, n >> 7
            v += bytes([b | (0x80 if n else 0)])
            if not n:
                break
        return bytes([field << 3 | 2]) + v + payload

    attr_value = b""  # AttrValue.func (10) -> NameAttrList.attr (2) -> entry value (2) -> AttrValue ... 5000 deep
    for _ in range(5000):
        attr_value = ld(10, ld(1, b"f") + ld(2, ld(1, b"k") + ld(2, attr_value)))
    node = ld(1, b"a") + ld(2, b"NoOp") + ld(5, ld(1, b"k") + ld(2, attr_value))
    for data in (ld(1, node), ld(1, node)[:-7], b"\x0a\xff\xff\xff\xff\x0f", b"\xff" * 40):
        with tf.Graph().as_default():
            try:
                tf.import_graph_def(data, name="")
            except (ValueError, TypeError, tf.errors.OpError):
                pass


def test_fuzzer_findings_stay_fixed():
    """Cases the long fuzz runs found (each minimized to a few lines)."""
    with tf.Graph().as_default():
        ix = tf.placeholder(tf.int32)  # unknown rank: a scalar gives [2], a vector [2, n]
        u = tf.unravel_index(ix, [2, 3])
        assert u.shape.ndims is None
        with tf.Session() as s:
            assert s.run(u, {ix: 4}).tolist() == [1, 1]
            assert s.run(u, {ix: [0, 5]}).tolist() == [[0, 1], [0, 2]]
            with pytest.raises(tf.errors.InvalidArgumentError, match="overflow"):
                s.run(tf.unravel_index(ix, tf.constant([2**40, 2**40], tf.int64)), {ix: 1})
        d = tf.placeholder(tf.int32, [4])
        with pytest.raises(ValueError, match="more outputs"):  # a million outputs: minutes to build
            tf.dynamic_partition(d, d, 1000000)
        with pytest.raises(TypeError, match="numeric"):
            tf.searchsorted(tf.constant([["a", "b"]]), tf.constant([["a"]]))
    with tf.Graph().as_default():  # the largest doubles land in the last bucket (wrote past the buckets)
        h = tf.summary.histogram("h", tf.constant([1.7976931348623157e308, -1.7976931348623157e308, 0.0], tf.float64))
        summary = tf.Summary.FromString(_run(h))
        assert summary.value[0].histo.num == 3
    from tideflow.framework import ops as _ops
    with tf.Graph().as_default():  # TopKGrad / GatherLastAxis rows that disagree wrote past the output
        dy = tf.placeholder(tf.float64, [3, 2])
        ix = tf.placeholder(tf.int32, [3, 2])
        x = tf.placeholder(tf.float64)
        g = _ops.apply_op("TopKGrad", [dy, ix, x]).outputs[0]
        back = _ops.apply_op("GatherLastAxis", [x, ix]).outputs[0]
        feed = {dy: np.ones((3, 2)), ix: np.zeros((3, 2), np.int32), x: np.zeros((0, 4))}
        with tf.Session() as s:
            for t in (g, back):
                with pytest.raises(tf.errors.InvalidArgumentError, match="match"):
                    s.run(t, feed)
        with pytest.raises(TypeError):
            _ops.apply_op("TopKGrad", [dy, tf.cast(ix, tf.bool), x])
    from tideflow.eager.context import eager_mode
    with eager_mode():  # a string constant whose values do not fill its shape (SIGSEGV eagerly)
        with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="needs 1 values"):
            _ops.apply_op("Const", [], {"dtype": tf.string._enum, "value": ("strings", [], [])})
