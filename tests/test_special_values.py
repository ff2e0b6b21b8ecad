"""Special values through the op table (issue 15; op_table/specials.py, Note [special values]): every float
row of the elementwise, reduction, nn, pooling, segment, sorting and matmul families runs on NaN, +-inf, +-0
and the dtype's extremes, in graph and eager mode, and must give TensorFlow's results (NumPy's, through the
row's reference, where TensorFlow is not installed or cannot build the row)."""
import functools
import importlib
import os

import numpy as np
import pytest

import tideflow as tf
from tideflow.eager.context import eager_mode
from eager_rows import build_eagerly
from op_table import specials
from op_table.common import tolerances



@functools.lru_cache(maxsize=None)
def _tf1():
    """TensorFlow is the reference where installed (imported on first use, not at collection); CI without it
    compares with the rows' NumPy references (TIDEFLOW_TEST_WITHOUT_TF=1 runs so here too)."""
    if os.environ.get("TIDEFLOW_TEST_WITHOUT_TF"):
        return None
    try:
        import tensorflow.compat.v1 as tf1
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return tf1


# Rows whose special values are not compared here, and why (Note [special values]).
NOT_COMPARED = {
    "cast_to_": "a float out of an integer's range (NaN and the infinities among them) is undefined in C++, and "
                "TensorFlow's result depends on the element's position in its vectorized loop: tests/test_dtypes.py "
                "compares casts with TensorFlow on many copies of each value (Note [cast semantics])",
    "max_pool[NCHW]": "TensorFlow has no CPU MaxPool for NCHW to compare with; the row's NumPy reference propagates "
                      "NaN, while tideflow pools NCHW as its NHWC kernel does, which skips NaN as TensorFlow's "
                      "(Note [max pooling and NaN])",
    "matrix_inverse": "LAPACK's NaN and inf handling is implementation-defined in both engines",
    "range": "its float inputs are a range's bounds and step, which decide its size: a NaN or infinite one is a "
             "size error (NumPy refuses it; tests/test_reliability.py holds range's size checks), not a value "
             "that propagates",
}
# Where TensorFlow 2.21 contradicts IEEE arithmetic, tideflow keeps the IEEE answer and the case compares with
# the row's NumPy reference instead: {(row name, dtype): why}.
TF_WRONG = {
    ("erf", "float64"): "TensorFlow 2.21's float64 Erf returns NaN for +-inf and +-1.8e308 (its rational "
                        "approximation overflows); erf(+-inf) is +-1, as std::erf, NumPy and TF's float32 Erf give",
}
# Where TensorFlow's answer comes from a denormal intermediate flushed to zero (its executor runs CPU kernels in
# the processor's flush-to-zero and denormals-are-zero modes), tideflow keeps IEEE gradual underflow (Note
# [special values], Note [floor division]): at the elements whose intermediate is denormal the case compares with
# the row's reference instead: {row name: (why, the intermediate from the inputs)}.
TF_FLUSHES = {
    "floordiv": ("TensorFlow flushes a quotient below the smallest normal (-1 / 3.4e38) to -0 and floors it to -0; "
                 "tideflow floors the exact quotient to -1", lambda x, y: x / y),
}
# Rows whose NumPy reference is not TensorFlow's answer at special values, so that without TensorFlow their
# special cases are skipped rather than compared with the wrong answer: {row name or prefix: why}.
_NUMPY_NAN = "NumPy's max/min/argmax propagate or pick NaN; TensorFlow's kernels skip it or scan past it"
NUMPY_DIFFERS = {
    **{k: _NUMPY_NAN for k in ("max_pool", "pool[MAX", "max_pool1d", "max_pool_with_argmax", "argmax", "argmin",
                               "arg_max", "segment_max", "segment_min", "unsorted_segment_max",
                               "unsorted_segment_min")},
    "MaxPool3DGrad": "the reference routes each window's gradient to its argmax; TensorFlow's 3-D kernels (which "
                     "have no float64 to compare with) route it by |x - y| < 1e-5 and pick grad where x == y, with y "
                     "its own forward's (Note [3-D pooling as TensorFlow's Eigen kernels])",
    "sort_descending": "NumPy sorts NaN last; TensorFlow's order is its top_k's (Note [top_k order with NaN])",
    "MaxPoolGradGrad[third order]": "the reference gathers each window's gradient at its argmax; TensorFlow's "
                                    "MaxPoolGradGrad (and tideflow's) reads it at the first pixel equal to the given "
                                    "forward output, which differs when infinities tie",
    "floordiv": "NumPy's floor_divide gives NaN for an infinity divided by a finite number, TensorFlow's FloorDiv "
                "+-inf (Note [floor division])",
    **{k: "the reference's formula (max subtraction, x - y of infinities, scipy's conventions at poles) gives NaN "
          "or another limit where TensorFlow's kernel does not"
       for k in ("reduce_logsumexp", "cumsum", "batch_normalization", "weighted_cross_entropy_with_logits",
                 "div_no_nan", "zeta", "polygamma", "digamma", "lgamma")},
}
# Known divergences from TensorFlow that this file found and that are not fixed yet: a case of these rows that
# differs is reported as xfail with the reason (the cases that agree pass), so they stay listed until fixed.
DIVERGES = {
    **{name: "an infinite or NaN filter tap over the padding: tideflow's convolutions always multiply the "
                   "padding's zeros by the filter (0 * inf = NaN), as TensorFlow 2.21's NHWC conv2d/conv3d kernels "
                   "do (those rows agree); its kernels for these rows do not all: the dilated NCHW/NCDHW and "
                   "input-gradient routes skip the padding taps (checked element by element: TF's value is the sum "
                   "over the inside taps, +-inf, where tideflow has NaN), while its depthwise kernels multiply the "
                   "padding where tideflow's do not. Matching would mean copying which of TF's kernels runs per "
                   "layout; skipping the padding everywhere breaks the NHWC rows (tried)"
       for name in ("conv2d[NCHW]", "conv3d[NCDHW]", "conv2d_backprop_input[NCHW,dilations]",
                    "conv3d_backprop_filter_v2", "depthwise_conv2d", "depthwise_conv2d_native[NCHW]",
                    "depthwise_conv2d_native_backprop_input", "depthwise_conv2d_native_backprop_filter")},
}


def _listed(table, name):
    return next((why for key, why in table.items() if name == key or name.startswith(key)
                 or name.split("[", 1)[0] == key), None)


def _rows():
    out = []
    for fam in specials.FAMILIES:
        for row in importlib.import_module("op_table." + fam).ROWS:
            if row.specials is False:
                assert row.extra.get("specials"), "%s leaves out special values without a reason" % row.name
                continue
            if _listed(NOT_COMPARED, row.name):
                continue
            for dt in specials.SPECIAL_DTYPES:
                if dt in row.dtypes:
                    for label, _ in specials.cases(row, dt, fam == "elementwise"):
                        out.append((fam, row, dt, label))
    return out


CASES = _rows()




@functools.lru_cache(maxsize=None)
def _case_inputs(fam, row_id, dt):
    row = _BY_ID[row_id]
    return dict(specials.cases(row, dt, fam == "elementwise"))


_BY_ID = {id(c[1]): c[1] for c in CASES}


@functools.lru_cache(maxsize=None)
def _tf_results(fam, row_id, dt):
    """TensorFlow's results for every case of a row, from one graph; None when TF cannot build the row."""
    tf1 = _tf1()
    if tf1 is None:
        return None
    row = _BY_ID[row_id]
    inputs = _case_inputs(fam, row_id, dt)
    g = tf1.Graph()
    try:
        with g.as_default():
            outs = {label: row.build(tf1, *[tf1.constant(a) for a in arrays]) for label, arrays in inputs.items()}
            with tf1.Session(graph=g) as s:
                return s.run(outs)
    except Exception:  # noqa: BLE001 - a builder written with tideflow-only names: NumPy is the reference
        return None


def _unflushed(row, dt, arrays, want):
    """TensorFlow's results with the row's reference at the elements TF_FLUSHES names."""
    if row.name not in TF_FLUSHES:
        return want
    with np.errstate(all="ignore"):
        mid = np.asarray(TF_FLUSHES[row.name][1](*arrays))
        ref = np.asarray(row.ref(*arrays))
    denormal = (mid != 0) & (np.abs(mid) < np.finfo(np.dtype(dt)).tiny)
    return np.where(denormal, ref.astype(want.dtype), want)


def _expected(fam, row, dt, label, arrays):
    want = None if (row.name, dt) in TF_WRONG else _tf_results(fam, id(row), dt)
    if want is not None:
        return _unflushed(row, dt, arrays, np.asarray(want[label])), "tensorflow"
    if (row.name, dt) not in TF_WRONG and _listed(NUMPY_DIFFERS, row.name):
        pytest.skip("no TensorFlow to compare with, and NumPy's answer differs: " + _listed(NUMPY_DIFFERS, row.name))
    with np.errstate(all="ignore"):
        return np.asarray(row.ref(*arrays)), "numpy"


def _compare(got, want, row, dt, where):
    got = np.asarray(got)
    assert got.shape == want.shape, (where, got.shape, want.shape)
    if got.dtype.kind not in "fc" or want.dtype.kind not in "fc":
        np.testing.assert_array_equal(got, want.astype(got.dtype), err_msg=where)
        return
    got, want = got.astype(np.float64), want.astype(np.float64)
    bad_nan = np.isnan(got) != np.isnan(want)
    assert not bad_nan.any(), "%s: NaN differs at %s: got %s, want %s" % (
        where, np.argwhere(bad_nan)[:5].tolist(), got[bad_nan][:5], want[bad_nan][:5])
    inf = np.isinf(want) | np.isinf(got)
    np.testing.assert_array_equal(got[inf], want[inf], err_msg=where + ": infinities differ")
    fin = ~(np.isnan(want) | inf)
    rtol, atol = tolerances(row, dt)
    # Denormal results count as 0 (Note [special values]).
    tiny = float(np.finfo(np.dtype(dt)).tiny)
    np.testing.assert_allclose(got[fin], want[fin], rtol=rtol, atol=max(atol, tiny), err_msg=where)


def _id(case):
    fam, row, dt, label = case
    return "%s-%s-%s" % (row.name, dt, label)


@pytest.mark.parametrize("mode", ["graph", "eager"])
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_special_values(case, mode):
    fam, row, dt, label = case
    arrays = _case_inputs(fam, id(row), dt)[label]
    want, source = _expected(fam, row, dt, label, arrays)
    if mode == "graph":
        with tf.Graph().as_default():
            phs = [tf.placeholder(tf.as_dtype(a.dtype), shape=a.shape) for a in arrays]
            out = row.build(tf, *phs)
            with tf.Session() as sess:
                got = sess.run(out, dict(zip(phs, arrays)))
    else:
        with eager_mode():
            got = build_eagerly(row, [tf.constant(a) for a in arrays]).numpy()
    try:
        _compare(got, want, row, dt, "%s %s (%s, against %s)" % (row.name, label, mode, source))
    except AssertionError:
        why = _listed(DIVERGES, row.name)
        if why:
            pytest.xfail("known divergence: " + why)
        raise


def test_every_family_has_special_cases():
    """The generated cases reach the ops issue 15 names (a row dropped from them fails here)."""
    names = {c[1].name.split("[", 1)[0] for c in CASES}
    for n in ("reduce_max", "reduce_min", "maximum", "minimum", "max_pool", "avg_pool", "top_k", "sort_descending",
              "log_sigmoid", "reduce_logsumexp", "softplus", "clip_by_norm", "sigmoid_cross_entropy_with_logits",
              "softmax_cross_entropy_with_logits_v2", "l2_normalize", "exp", "log", "add", "pow"):
        assert n in names, n


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_top_k_sort_and_argsort_order_nan_as_tensorflow(dtype):
    """Rows mixing NaN, +-inf and +-0 come out of top_k (k = 1, k = n, in between; sorted or not), sort and
    argsort (both directions) in TensorFlow's order, index for index (Note [top_k order with NaN])."""
    tft = pytest.importorskip("tensorflow")
    rng = np.random.RandomState(3)
    rows = []
    for _ in range(60):
        n = int(rng.choice([2, 3, 5, 8, 9, 16, 17, 33, 70]))
        x = rng.randn(n).astype(dtype)
        for v, p in ((np.nan, rng.choice([0.05, 0.3, 0.8, 1.0])), (np.inf, 0.1), (-np.inf, 0.1), (0.0, 0.1),
                     (-0.0, 0.1)):
            x[rng.rand(n) < p] = v
        rows.append(x)
    calls = []
    for x in rows:
        n = len(x)
        for k in sorted({1, 2, n // 2 or 1, n - 1 or 1, n}):
            calls.append(("top_k", x, k, True))
        calls.append(("top_k", x, max(1, n // 2), False))
        for direction in ("ASCENDING", "DESCENDING"):
            calls.append(("sort", x, direction, None))
            calls.append(("argsort", x, direction, None))

    def build(t, call):
        kind, x, a, b = call
        if kind == "top_k":
            r = t.math.top_k(t.constant(x), a, sorted=b)
            return [r.values, r.indices]
        f = t.sort if kind == "sort" else t.argsort
        return [f(t.constant(x), direction=a)]

    # From a graph of its own: an earlier test may have switched TensorFlow out of eager mode.
    with tft.Graph().as_default() as tg:
        touts = [build(tft, c) for c in calls]
        with tft.compat.v1.Session(graph=tg) as ts:
            want = ts.run(touts)
    with tf.Graph().as_default():
        outs = [build(tf, c) for c in calls]
        with tf.Session() as s:
            got = s.run(outs)
    with eager_mode():
        got_eager = [[v.numpy() for v in build(tf, c)] for c in calls]
    for c, g, e, w in zip(calls, got, got_eager, want):
        for gv, ev, wv in zip(g, e, w):
            np.testing.assert_array_equal(gv, wv, err_msg="%s %s %s of %s" % (c[0], c[2], c[3], c[1]))
            np.testing.assert_array_equal(ev, wv, err_msg="eager %s %s %s of %s" % (c[0], c[2], c[3], c[1]))


def _tf_graph_run(tft, build):
    with tft.Graph().as_default() as tg:
        outs = build(tft)
        with tft.compat.v1.Session(graph=tg) as ts:
            return ts.run(outs)


@pytest.mark.parametrize("channels", [2, 8, 12, 16])
def test_3d_pooling_lanes_as_tensorflow(channels):
    """MaxPool3D, MaxPool3DGrad and MaxPool3DGradGrad on NaN, +-inf and lowest() at every kind of
    output element (Eigen's vector lanes and lone elements: channel counts below, at, between and at twice the
    8 lanes), padded and not, against TensorFlow in graph and eager mode (Note [3-D pooling as TensorFlow's
    Eigen kernels])."""
    tft = pytest.importorskip("tensorflow")
    rng = np.random.RandomState(channels)
    x = rng.permutation(3 * 4 * 5 * channels).reshape(1, 3, 4, 5, channels).astype(np.float32) / 7
    flat = x.reshape(-1)
    low = np.finfo(np.float32).min
    for v, p in ((np.nan, 0.3), (np.inf, 0.05), (-np.inf, 0.1), (low, 0.05)):
        flat[rng.rand(flat.size) < p] = v
    g = rng.randn(*x.shape).astype(np.float32)
    specs = [([1, 2, 2, 2, 1], [1, 1, 2, 2, 1], "SAME"), ([1, 1, 3, 2, 1], [1, 1, 1, 2, 1], "VALID")]

    def build(t):
        outs = []
        for k, s, pad in specs:
            xt = t.constant(x)
            y = t.nn.max_pool3d(xt, k, s, pad)
            dy = t.constant(rng_dy[str(k)])
            dx = t.gradients(y, xt, grad_ys=dy)[0]
            outs += [y, dx, t.gradients(dx, dy, grad_ys=t.constant(g))[0]]
        return outs

    rng_dy = {}
    with tf.Graph().as_default():
        for k, s, pad in specs:
            shape = tf.nn.max_pool3d(tf.constant(x), k, s, pad).shape.as_list()
            rng_dy[str(k)] = rng.randn(*shape).astype(np.float32)
    want = _tf_graph_run(tft, build)
    with tf.Graph().as_default():
        outs = build(tf)
        with tf.Session() as s:
            got = s.run(outs)
    names = ["max_pool3d", "MaxPool3DGrad", "MaxPool3DGradGrad"] * len(specs)
    for name, gv, wv in zip(names, got, want):
        np.testing.assert_array_equal(np.isnan(gv), np.isnan(wv), err_msg=name + " NaN")
        np.testing.assert_allclose(gv, wv, rtol=1e-6, atol=1e-6, err_msg=name)
    with eager_mode():
        for (k, s, pad), wv in zip(specs, want[::3]):
            ev = tf.nn.max_pool3d(tf.constant(x), k, s, pad).numpy()
            np.testing.assert_array_equal(np.isnan(ev), np.isnan(wv), err_msg="eager max_pool3d NaN")
            np.testing.assert_allclose(ev, wv, rtol=1e-6, err_msg="eager max_pool3d")


@pytest.mark.parametrize("depth,beta", [(7, 0.75), (12, 0.5), (400, 0.75), (400, 0.5), (400, 1.0)])
def test_lrn_specials_as_tensorflow(depth, beta):
    """LRN's NaN and infinities by TensorFlow's two kernels: the band-matrix product (an infinite square makes the
    windows without it NaN, also the square of a finite float32 above 1.8e19) and, for depth > 384 with beta 0.5
    or 1, the sliding sum (Note [LRN and special values])."""
    tft = pytest.importorskip("tensorflow")
    rng = np.random.RandomState(depth)
    x = rng.randn(6, 1, 1, depth).astype(np.float32)
    x[0, 0, 0, depth // 2] = np.inf
    x[1, 0, 0, 1] = -np.inf
    x[2, 0, 0, depth - 2] = np.nan
    x[3, 0, 0, depth // 3] = 3e19
    x[4, 0, 0, [0, depth - 1]] = np.inf
    want = _tf_graph_run(tft, lambda t: t.nn.lrn(t.constant(x), 2, 1.5, 0.3, beta))
    with tf.Graph().as_default():
        with tf.Session() as s:
            got = s.run(tf.nn.lrn(tf.constant(x), 2, 1.5, 0.3, beta))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
