"""Float32 exp, log, tanh and sigmoid (cpp/kernels/vector_math.cc, Note [vector math]): accuracy against float64
NumPy over millions of values, TensorFlow's special values, odd lengths (the vector tail), in-place buffer
reuse, and the same checks on the portable loops (TIDEFLOW_VECMATH=scalar) in a subprocess."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tideflow as tf

TOL = 3e-7  # relative, about 2 ulp
OPS = {
    "exp": (tf.exp, np.exp),
    "log": (tf.log, np.log),
    "tanh": (tf.tanh, np.tanh),
    "sigmoid": (tf.sigmoid, lambda x: np.exp(np.minimum(x, 0)) / (1 + np.exp(-np.abs(x)))),
}


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def apply(name, x, threads=0):
    x = np.asarray(x, np.float32)
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [None])
        y = OPS[name][0](p)
        cfg = tf.ConfigProto(intra_op_parallelism_threads=threads)
        with tf.Session(config=cfg) as s:
            return s.run(y, {p: x.ravel()}).reshape(x.shape)


def from_bits(lo, hi, n, rng):
    return rng.integers(lo, hi, n, dtype=np.int64).astype(np.uint32).view(np.float32)


def sweeps():
    """Inputs per function: dense grids over the tested ranges plus random bit patterns."""
    rng = np.random.default_rng(7)
    small = np.concatenate([from_bits(0x00000001, 0x3f000000, 200_000, rng)])  # (0, 0.5): near-zero behaviour
    return {
        "exp": np.concatenate([np.linspace(-87, 88, 2_000_001, dtype=np.float32), rng.uniform(-87, 88, 500_000),
                               small, -small]),
        # every positive normal exponent, subnormals, and the neighbourhood of 1 where log cancels
        "log": np.concatenate([from_bits(0x00800000, 0x7f800000, 1_500_000, rng),
                               from_bits(0x00000001, 0x00800000, 500_000, rng),
                               np.linspace(0.5, 2, 1_000_001, dtype=np.float32)]),
        "tanh": np.concatenate([np.linspace(-20, 20, 2_000_001, dtype=np.float32), small, -small]),
        "sigmoid": np.concatenate([np.linspace(-20, 20, 2_000_001, dtype=np.float32), small, -small]),
    }


def measure():
    """Max relative error vs float64 of each function over its sweep (and tanh's absolute error)."""
    out = {}
    for name, x in sweeps().items():
        x = x.astype(np.float32)
        got = apply(name, x).astype(np.float64)
        ref = OPS[name][1](x.astype(np.float64))
        nz = ref != 0
        out[name] = float(np.max(np.abs(got[nz] - ref[nz]) / np.abs(ref[nz])))
        out[name + "_zero_ok"] = bool(np.all(got[~nz] == 0))
        if name == "tanh":
            out["tanh_abs"] = float(np.max(np.abs(got - ref)))
    return out


def check(errs):
    for name in OPS:
        assert errs[name] <= TOL, (name, errs[name])
        assert errs[name + "_zero_ok"], name
    assert errs["tanh_abs"] <= 1e-7


def test_accuracy_over_millions_of_values():
    check(measure())


def _in_child(loops, fn):
    """`fn()` of this module, JSON-encoded, in a child process whose kernels use the loops TIDEFLOW_VECMATH names
    (the child imports the tideflow this process runs)."""
    env = dict(os.environ, TIDEFLOW_VECMATH=loops)
    here = os.path.dirname(os.path.abspath(__file__))
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([here, pkg, env.get("PYTHONPATH", "")])
    code = "import json, test_vector_math as t; print(json.dumps(t.%s()))" % fn
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_portable_loops_have_the_same_accuracy():
    """The loops for CPUs without AVX2 + FMA, forced on this one."""
    check(_in_child("scalar", "measure"))


def _has_cpu_flags(*flags):
    try:
        with open("/proc/cpuinfo") as f:
            have = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return all(fl in have for fl in flags)


def bits_of_all():
    """Each function's float32 bits over its sweep, with special values and every tail length."""
    extra = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-45, -1e-45, 88.73, -104.5, 0.625, -0.625], np.float32)
    out = {}
    for name, x in sweeps().items():
        x = np.concatenate([x[::7].astype(np.float32), extra])
        out[name] = [apply(name, x[:n]).view(np.uint32).tolist() for n in (len(x), 1, 15, 17, 31)]
    return out


@pytest.mark.skipif(not _has_cpu_flags("avx512f", "avx2", "fma"), reason="the CPU has no AVX-512")
def test_sixteen_lanes_give_the_eight_lane_bits():
    """Note [vector math]: the AVX-512 loops compute what the AVX2 ones do, lane for lane."""
    eight = _in_child("avx2", "bits_of_all")
    sixteen = bits_of_all()
    for name in OPS:
        for a, b in zip(eight[name], sixteen[name]):
            assert a == b, name


def test_exp_edges():
    inf, nan = np.inf, np.nan
    x = np.array([-inf, inf, nan, -nan, 0.0, -0.0, 88.72, 88.73, 89, 1e30, -103.9, -104, -105, -1e30, -87.5, -100])
    got = apply("exp", x)
    assert got[0] == 0 and got[1] == inf and np.isnan(got[2]) and np.isnan(got[3])
    assert got[4] == 1 and got[5] == 1
    assert np.isfinite(got[6]) and got[7] == inf and got[8] == inf and got[9] == inf
    assert np.all(got[10:14] >= 0) and got[12] == 0 and got[13] == 0
    # subnormal results: within one subnormal step of the float64 value rounded to float32
    ref = np.exp(x[10:].astype(np.float64)).astype(np.float32)
    tiny = np.float32(2.0 ** -149)
    np.testing.assert_array_less(np.abs(got[10:].astype(np.float64) - ref), 1.5 * tiny + 3e-7 * ref)


def test_log_edges():
    inf, nan = np.inf, np.nan
    x = np.array([0.0, -0.0, -1e-45, -1.0, -inf, inf, nan, 1.0, 1e-45, 3.4e38, 1.1754944e-38, 1.1754942e-38])
    got = apply("log", x)
    assert got[0] == -inf and got[1] == -inf
    assert np.all(np.isnan(got[2:5])) and got[5] == inf and np.isnan(got[6]) and got[7] == 0
    ref = np.log(x[8:].astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(got[8:], ref, rtol=TOL)


def test_tanh_sigmoid_edges():
    inf, nan = np.inf, np.nan
    x = np.array([-inf, inf, nan, 0.0, -0.0, 1e-45, -1e-45, 1e-20, 30, -30, 100, -100, 1e30, -1e30])
    t = apply("tanh", x)
    np.testing.assert_array_equal(t[[0, 1, 8, 9, 10, 11, 12, 13]], [-1, 1, 1, -1, 1, -1, 1, -1])
    assert np.isnan(t[2]) and t[3] == 0 and np.signbit(t[4])
    np.testing.assert_array_equal(t[5:8], x[5:8].astype(np.float32))  # tanh(x) = x for tiny x
    s = apply("sigmoid", x)
    assert s[0] == 0 and s[1] == 1 and np.isnan(s[2]) and s[3] == 0.5 and s[4] == 0.5
    np.testing.assert_array_equal(s[[8, 10, 12, 13]], [1, 1, 1, 0])
    np.testing.assert_allclose(s[[9, 11]], [np.exp(-30.0), np.exp(-100.0)], rtol=TOL, atol=1.5e-45)  # a subnormal


@pytest.mark.parametrize("name", list(OPS))
def test_every_length_and_offset_gives_the_same_bits(name):
    """The vector tail (lengths not a multiple of 8) and parallel chunk edges round as the body does."""
    rng = np.random.default_rng(3)
    x = rng.uniform(0.01, 5, 1000).astype(np.float32) * rng.choice([-1, 1], 1000).astype(np.float32)
    if name == "log":
        x = np.abs(x)
    whole = apply(name, x, threads=1)
    for n in list(range(0, 20)) + [31, 33, 999]:
        np.testing.assert_array_equal(apply(name, x[:n]), whole[:n])
        np.testing.assert_array_equal(apply(name, x[1:1 + n]), whole[1:1 + n])
    big = np.tile(x, 301)[:300_007]  # split over threads at arbitrary points
    np.testing.assert_array_equal(apply(name, big), np.tile(whole, 301)[:300_007])


def test_in_place_chains_and_shapes():
    """Intermediates nobody else holds are overwritten in place; results and shapes stay right."""
    x = np.random.default_rng(5).uniform(-3, 3, (37, 29)).astype(np.float32)
    p = tf.placeholder(tf.float32, [None, 29])
    y = tf.sigmoid(tf.tanh(tf.exp(tf.log(tf.abs(p) + 1.0))))
    z = tf.exp(p * 1.0)
    with tf.Session() as s:
        gy, gz, gx = s.run([y, z, p], {p: x})
    x64 = x.astype(np.float64)
    ref = 1 / (1 + np.exp(-np.tanh(np.abs(x64) + 1)))
    assert gy.shape == (37, 29) and gy.dtype == np.float32
    np.testing.assert_allclose(gy, ref, rtol=1e-6)
    np.testing.assert_allclose(gz, np.exp(x64), rtol=TOL)
    np.testing.assert_array_equal(gx, x)  # the fed value itself is untouched


def test_float64_stays_on_libm():
    x = np.random.default_rng(9).uniform(-20, 20, 10_001)
    p = tf.placeholder(tf.float64, [None])
    with tf.Session() as s:
        got = s.run([tf.exp(p), tf.tanh(p), tf.sigmoid(p), tf.log(tf.abs(p))], {p: x})
    np.testing.assert_allclose(got[0], np.exp(x), rtol=1e-15)
    np.testing.assert_allclose(got[1], np.tanh(x), rtol=1e-15)
    np.testing.assert_allclose(got[2], 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(got[3], np.log(np.abs(x)), rtol=1e-15)


def test_special_values_match_tensorflow():
    tf_ref = pytest.importorskip("tensorflow")
    v1 = tf_ref.compat.v1
    inf, nan = np.inf, np.nan
    # no subnormal inputs or results: TensorFlow flushes them to zero
    x = np.array([-inf, inf, nan, 0.0, -0.0, 1.0, -1.0, 88.8, -104, -87, 30, -30, 1e-8, 1e-37], np.float32)
    g = v1.Graph()
    with g.as_default():
        c = v1.constant(x)
        outs = [v1.exp(c), v1.log(c), v1.tanh(c), v1.sigmoid(c)]
        with v1.Session() as s:
            want = s.run(outs)
    for name, w in zip(["exp", "log", "tanh", "sigmoid"], want):
        got = apply(name, x)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(w), err_msg=name)
        np.testing.assert_allclose(got, w, rtol=TOL, atol=2e-45, err_msg=name)


def test_softmax_family_float32_accuracy():
    """Softmax, log-softmax and cross-entropy take their exps from the vectorized kernel."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((64, 1003)) * 8).astype(np.float32)  # rows not a multiple of 8 or 256
    x[0, :5] = [80, -80, 0, 1e-3, -1e-3]
    labels = rng.integers(0, 1003, 64)
    onehot = np.eye(1003, dtype=np.float32)[labels]
    p = tf.placeholder(tf.float32, [None, 1003])
    with tf.Session() as s:
        sm, lsm, xent, sxent = s.run([
            tf.nn.softmax(p), tf.nn.log_softmax(p),
            tf.nn.softmax_cross_entropy_with_logits_v2(labels=onehot, logits=p),
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=p)], {p: x})
    # x - max rounded as the kernels round it (that float32 step dominates the error of far-off logits);
    # rtol covers the float32 row sums
    shifted = (x - x.max(1, keepdims=True)).astype(np.float64)
    ref_lsm = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    np.testing.assert_allclose(sm, np.exp(ref_lsm), rtol=1e-5, atol=1e-38)
    np.testing.assert_allclose(lsm, ref_lsm, rtol=1e-5, atol=2e-6)
    ref_xent = -ref_lsm[np.arange(64), labels]
    np.testing.assert_allclose(xent, ref_xent, rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(sxent, ref_xent, rtol=1e-5, atol=2e-6)
