"""The float32 CPU kernels behind the CNN ops, each on every instruction set it is built for
(TIDEFLOW_KERNEL_ISA=portable / avx2 / the widest, each in a fresh process since the choice is made once):
Winograd convolutions and their gradients against float64 NumPy references and against the direct kernels
(TIDEFLOW_CONV_WINOGRAD=0), inf and NaN reaching the same outputs either way, max pooling and its gradient
(Note [pooling kernels]) with NaN, ties and channel tails, and relu(a + b) run as one kernel
(Note [bias and ReLU in one pass]) with no SumToShape left behind in the gradient graph."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tideflow as tf
from tests.op_table.conv import np_conv, np_conv_backprop_filter, np_conv_backprop_input

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Geometries that take the Winograd route (stride 1, 3x3 or 5x5, >= 16 channels each side): odd output
# sizes leave partial tiles at the bottom and right, 20 and 40 channels leave vector tails.
CASES = [
    ((2, 7, 9, 16), (3, 3, 16, 20), "SAME"),
    ((1, 9, 8, 20), (5, 5, 20, 16), "SAME"),
    ((2, 8, 7, 16), (5, 5, 16, 40), "VALID"),
]

_CHILD = r"""
import json, sys
import numpy as np
import tideflow as tf
cases = json.loads(sys.argv[1])
out = {}
rng = np.random.RandomState(3)
for i, (xs, fs, pad) in enumerate(cases):
    x = rng.uniform(-1, 1, xs).astype(np.float32)
    f = rng.uniform(-1, 1, fs).astype(np.float32)
    bad = x.copy()
    bad[0, 2, 3, 1] = np.inf
    bad[-1, -1, -2, 0] = np.nan
    g = tf.Graph()
    with g.as_default():
        xp = tf.placeholder(tf.float32, xs)
        y = tf.nn.conv2d(xp, tf.constant(f), [1, 1, 1, 1], pad)
        dy = tf.constant(np.cos(np.arange(np.prod(y.shape.as_list()))).reshape(y.shape.as_list()).astype(np.float32))
        dx = tf.gradients(y, xp, grad_ys=dy)[0]
        df = tf.nn.conv2d_backprop_filter(xp, fs, dy, [1, 1, 1, 1], pad)
        with tf.Session() as s:
            out[i] = [a.tolist() for a in s.run([y, dx, df], {xp: x})]
            out["bad%d" % i] = [a.tolist() for a in s.run([y, df], {xp: bad})]
# Max pooling: 37 channels (vector lanes and a tail), ties and NaN in some windows.
px = rng.randint(0, 4, (2, 6, 8, 37)).astype(np.float32)
px[0, 0, 1, 3] = np.nan
px[1, 4, 4, 36] = np.nan
px[1, 5, 5, 36] = np.nan
g = tf.Graph()
with g.as_default():
    xp = tf.constant(px)
    outs = []
    for k, st, pad in [(2, 2, "VALID"), (3, 2, "SAME"), (2, 2, "SAME")]:
        p = tf.nn.max_pool(xp, [1, k, k, 1], [1, st, st, 1], pad)
        gp = tf.gradients(p, xp, grad_ys=tf.constant(np.arange(np.prod(p.shape.as_list()), dtype=np.float32)
                                                     .reshape(p.shape.as_list()) + 1))[0]
        outs += [p, gp]
    with tf.Session() as s:
        out["pool"] = [a.tolist() for a in s.run(outs)]
print(json.dumps(out))  # NaN and Infinity as Python's json writes and reads them
"""


def _run_child(env_extra):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__))), **env_extra)
    res = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(CASES)], env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def runs():
    # The widest ISA the CPU has, the narrower builds, and the direct kernels (Winograd off).
    return {"best": _run_child({}), "avx2": _run_child({"TIDEFLOW_KERNEL_ISA": "avx2"}),
            "portable": _run_child({"TIDEFLOW_KERNEL_ISA": "portable"}),
            "direct": _run_child({"TIDEFLOW_CONV_WINOGRAD": "0"})}


@pytest.mark.parametrize("run", ["best", "avx2", "portable", "direct"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_convolutions_match_float64_references(runs, run, case):
    xs, fs, pad = CASES[case]
    rng = np.random.RandomState(3)
    for i in range(case + 1):  # the child drew the cases in order
        x = rng.uniform(-1, 1, xs if i == case else CASES[i][0]).astype(np.float32)
        f = rng.uniform(-1, 1, fs if i == case else CASES[i][1]).astype(np.float32)
    y, dx, df = (np.array(a) for a in runs[run][str(case)])
    if run != "direct":  # the geometry did take the Winograd route: its rounding differs from a direct sum's
        assert not np.array_equal(y, np.array(runs["direct"][str(case)][0]))
    x64, f64 = x.astype(np.float64), f.astype(np.float64)
    ref = np_conv(x64, f64, [1, 1], pad)
    dy = np.cos(np.arange(ref.size)).reshape(ref.shape).astype(np.float32).astype(np.float64)
    # Winograd's rounding is within a few float32 ulps of the sums' magnitudes (Note [Winograd transforms]).
    scale = np.sqrt(np.prod(fs[:3]))
    np.testing.assert_allclose(y, ref, atol=2e-5 * scale, rtol=0)
    np.testing.assert_allclose(dx, np_conv_backprop_input(xs, f64, dy, [1, 1], pad), atol=2e-5 * scale, rtol=0)
    np.testing.assert_allclose(df, np_conv_backprop_filter(x64, fs, dy, [1, 1], pad), atol=2e-5 * np.sqrt(dy.size),
                               rtol=0)


@pytest.mark.parametrize("run", ["best", "avx2", "portable"])
def test_inf_and_nan_reach_the_same_outputs_as_the_direct_kernels(runs, run):
    for case in range(len(CASES)):
        for ours, direct in zip(runs[run]["bad%d" % case], runs["direct"]["bad%d" % case]):
            ours, direct = np.array(ours), np.array(direct)
            assert np.isnan(direct).any()
            np.testing.assert_array_equal(np.isnan(ours), np.isnan(direct))
            np.testing.assert_array_equal(np.isinf(ours), np.isinf(direct))
            fin = np.isfinite(direct)
            np.testing.assert_allclose(ours[fin], direct[fin], rtol=1e-4, atol=1e-4)


def _np_max_pool_and_grad(x, k, s, pad):
    """Forward and gradient by the rule of Note [max pooling and NaN] (TensorFlow's kernels): the value
    skips NaN (lowest() for a window of NaNs); the gradient goes to the first maximum counted from the
    window's first pixel, which wins when it is NaN."""
    N, H, W, C = x.shape
    if pad == "VALID":
        oh, ow, ph, pw = (H - k) // s + 1, (W - k) // s + 1, 0, 0
    else:
        oh, ow = -(-H // s), -(-W // s)
        ph, pw = max(0, (oh - 1) * s + k - H) // 2, max(0, (ow - 1) * s + k - W) // 2
    y = np.zeros((N, oh, ow, C), np.float32)
    dy = np.arange(y.size, dtype=np.float32).reshape(y.shape) + 1
    dx = np.zeros_like(x)
    for n, i, j, c in np.ndindex(*y.shape):
        value, best, at = np.finfo(np.float32).min, None, None
        for a in range(k):
            for b in range(k):
                h, w = i * s - ph + a, j * s - pw + b
                if 0 <= h < H and 0 <= w < W:
                    v = x[n, h, w, c]
                    if v > value:
                        value = v
                    if best is None or v > best:
                        best, at = v, (h, w)
        y[n, i, j, c] = value
        dx[n, at[0], at[1], c] += dy[n, i, j, c]
    return y, dx


@pytest.mark.parametrize("run", ["best", "avx2", "portable"])
def test_max_pooling_kernels_follow_the_nan_and_tie_rules(runs, run):
    rng = np.random.RandomState(3)
    for xs, fs, _ in CASES:  # the child's draws before the pooling input
        rng.uniform(-1, 1, xs), rng.uniform(-1, 1, fs)
    px = rng.randint(0, 4, (2, 6, 8, 37)).astype(np.float32)
    px[0, 0, 1, 3] = np.nan
    px[1, 4, 4, 36] = np.nan
    px[1, 5, 5, 36] = np.nan
    got = runs[run]["pool"]
    for t, (k, s, pad) in enumerate([(2, 2, "VALID"), (3, 2, "SAME"), (2, 2, "SAME")]):
        y, dx = _np_max_pool_and_grad(px, k, s, pad)
        np.testing.assert_array_equal(np.array(got[2 * t], np.float32), y)
        np.testing.assert_array_equal(np.array(got[2 * t + 1], np.float32), dx)


def test_relu_of_a_sum_runs_fused_with_the_same_values_and_gradients():
    x = np.array([[-1.0, 0.5, np.nan, 2.0], [0.25, -3.0, np.inf, -np.inf]], np.float32)
    b = np.array([0.5, -0.5, 1.0, 0.0], np.float32)
    g = tf.Graph()
    with g.as_default():
        xp = tf.placeholder(tf.float32, [None, 4])
        bv = tf.constant(b)
        s = xp + bv
        y = tf.nn.relu(s)
        dx, db = tf.gradients(y, [xp, bv])
        # Relu's gradient needs no SumToShape (Note [exact gradient shapes]); the bias's still does.
        kinds = [op.type for op in g.get_operations() if op.name.startswith("gradients/Relu_grad/")]
        assert "SumToShape" not in kinds
        with tf.Session() as sess:
            yv, dxv, dbv = sess.run([y, dx, db], {xp: x})
            sv = sess.run(s, {xp: x})  # the sum fetched too: the unfused kernels
    want = np.maximum(x + b, 0)
    want[np.isnan(x + b)] = np.nan
    np.testing.assert_array_equal(yv, want)
    np.testing.assert_array_equal(sv, x + b)
    mask = ((x + b) > 0).astype(np.float32)
    np.testing.assert_array_equal(dxv, mask)
    np.testing.assert_array_equal(dbv, mask.sum(0))


# Few channels (KW * C < 32) with several filter rows: Note [stacked rows], strides, dilated rows and
# padding on either side included.
STACKED = [
    ((2, 9, 8, 1), (5, 5, 1, 8), [1, 1], "SAME", [1, 1]),
    ((2, 10, 9, 3), (3, 3, 3, 5), [2, 2], "VALID", [1, 1]),
    ((1, 11, 7, 2), (3, 2, 2, 4), [1, 2], "SAME", [2, 1]),
    ((1, 6, 13, 3), (2, 7, 3, 17), [3, 1], [[0, 0], [1, 0], [3, 2], [0, 0]], [1, 1]),
]


@pytest.mark.parametrize("case", STACKED, ids=[str(i) for i in range(len(STACKED))])
def test_stacked_row_convolutions_match_float64_references(case):
    xs, fs, strides, pad, dil = case
    rng = np.random.RandomState(11)
    x, f = rng.uniform(-1, 1, xs).astype(np.float32), rng.uniform(-1, 1, fs).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        y = tf.nn.conv2d(tf.constant(x), tf.constant(f), [1] + strides + [1], pad, dilations=[1] + dil + [1])
        dy = np.cos(np.arange(np.prod(y.shape.as_list()))).reshape(y.shape.as_list()).astype(np.float32)
        df = tf.nn.conv2d_backprop_filter(tf.constant(x), fs, tf.constant(dy), [1] + strides + [1], pad,
                                          dilations=[1] + dil + [1])
        with tf.Session() as sess:
            yv, dfv = sess.run([y, df])
    np_pad = pad if isinstance(pad, str) else pad[1:3]
    ref = np_conv(x.astype(np.float64), f.astype(np.float64), strides, np_pad, dil)
    np.testing.assert_allclose(yv, ref, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(dfv, np_conv_backprop_filter(x.astype(np.float64), fs, dy.astype(np.float64), strides,
                                                            np_pad, dil), atol=1e-4, rtol=1e-5)
