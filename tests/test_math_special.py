"""The special and trigonometric elementwise math (expm1 ... atanh, lgamma/digamma/polygamma/zeta, atan2,
xlogy/xdivy, truncatediv/truncatemod, log_sigmoid, selu, swish): semantics at the edges (poles, signed
zeros, x == 0, halves, integer division), gradients TensorFlow defines specially, namespaces, and values
compared with TensorFlow itself where it is installed."""
import numpy as np
import pytest

import tideflow as tf

SPECIAL = np.array([0.0, -1.0, -2.5, 1.0, np.inf, -np.inf, np.nan])
QUADRANTS = (np.array([0.0, -0.0, 0.0, -0.0, 1, -1, 1, -1, 2, -2]),
             np.array([0.0, 0.0, -0.0, -0.0, -1, -1, 1, 1, 0, 0]))
HALVES = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 3.5, -4.5])
EXTREME = np.array([-1000, -100, -20, -1, 0, 1, 20, 100, 1000])


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def _programs(lib):
    """The same computations, for tideflow or TensorFlow (lib is the module)."""
    x64 = SPECIAL
    xz = np.array([0, 0, 0, 1, 2.0, 0]), np.array([0, np.inf, np.nan, 0, -1.0, -1])
    ints = np.array([7, -7, 7, -7, -2 ** 31]), np.array([2, 2, -2, -2, -1])
    return {
        "digamma": lib.math.digamma(x64),
        "lgamma": lib.math.lgamma(x64),
        "polygamma1": lib.math.polygamma(np.float64(1), x64),
        "polygamma_n": lib.math.polygamma(np.array([-1, 0.5, 0, 2, 3.0]), np.array([1.0, 1, 1, 0.5, -1.5])),
        "zeta": lib.math.zeta(np.array([1.0, 0.5, 2, 2, 3, 2, 4]), np.array([1.0, 1, 0, -1, -1.5, 1, -2])),
        "atan2": lib.atan2(*QUADRANTS),
        "xlogy": lib.math.xlogy(*xz),
        "xdivy": lib.math.xdivy(*xz),
        "rint32": lib.rint(HALVES.astype(np.float32)),
        "rint64": lib.rint(HALVES),
        "truncatediv": lib.truncatediv(*[a.astype(np.int32) for a in ints]),
        "truncatemod": lib.truncatemod(*[a.astype(np.int32) for a in ints]),
        "truncatediv_f": lib.truncatediv(np.float32([7, -7, 7.5]), np.float32([2, 2, -2])),
        "truncatemod_f": lib.truncatemod(np.float32([7, -7, 7.5]), np.float32([2, 2, -2])),
        "log_sigmoid32": lib.math.log_sigmoid(EXTREME.astype(np.float32)),
        "log_sigmoid64": lib.math.log_sigmoid(EXTREME.astype(np.float64)),
        "selu": lib.nn.selu(np.array([-200, -1.0, 0, 1, 200])),
        "swish": lib.nn.swish(np.array([-50, -1.0, 0, 1, 50])),
        "acosh_atanh_asin": [lib.acosh(np.array([0.5, 1.0])), lib.atanh(np.array([1.0, -1, 2])),
                             lib.asin(np.array([2.0, -1]))],
        "erf_erfc_expm1": [lib.erf(np.array([-10, -3, 0, 0.5])), lib.erfc(np.array([-1, 0, 5, 30.0])),
                           lib.expm1(np.array([1e-12, -1e-9, -50, 5.0]))],
        "tan_trig": [lib.tan(np.array([0, 1.0, -1.2])), lib.sinh(np.array([-2, 0.5])),
                     lib.cosh(np.array([-2, 0.5])), lib.asinh(np.array([-3, 0.5])), lib.atan(np.array([-1e9, 1]))],
    }


def _gradient_programs(lib):
    x = lib.placeholder(lib.float64, [3], name="x")
    y = lib.placeholder(lib.float64, [3], name="y")
    feed = {x: np.array([0.0, -1.0, 2.0]), y: np.array([1.0, 0.5, 3.0])}
    out = {
        "log_sigmoid": lib.gradients(lib.math.log_sigmoid(x), x)[0],
        "selu": lib.gradients(lib.nn.selu(x), x)[0],
        "swish": lib.gradients(lib.nn.swish(x), x)[0],
        "xlogy": lib.gradients(lib.math.xlogy(x, y), [x, y]),
        "xdivy": lib.gradients(lib.math.xdivy(x, y), [x, y]),
        "atan2": lib.gradients(lib.atan2(x, y), [x, y]),
        "lgamma": lib.gradients(lib.lgamma(y), y)[0],
        "digamma": lib.gradients(lib.digamma(y), y)[0],
        "polygamma": lib.gradients(lib.math.polygamma(lib.constant(2.0, lib.float64), y), y)[0],
        "zeta": lib.gradients(lib.math.zeta(lib.constant(3.0, lib.float64), y), y)[0],
        "erfc": lib.gradients(lib.erfc(x), x)[0],
        "tan_asin_acosh": lib.gradients([lib.tan(x), lib.asin(x / 3), lib.acosh(y + 1)], x)[0],
    }
    return out, feed


def _tf_ref():
    tf_ref = pytest.importorskip("tensorflow")
    v1 = tf_ref.compat.v1
    v1.disable_eager_execution()
    return v1


def _assert_same(ours, theirs, key):
    if isinstance(theirs, (list, tuple)):
        for a, b in zip(ours, theirs):
            _assert_same(a, b, key)
        return
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype, key
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-30, err_msg=key)
    if ours.dtype.kind == "f":  # signed zeros too (atan2's quadrants, rint(-0.5))
        zero = (ours == 0) & (theirs == 0)
        np.testing.assert_array_equal(np.signbit(ours[zero]), np.signbit(theirs[zero]), err_msg=key)


def test_values_match_tensorflow():
    v1 = _tf_ref()
    ours = run(_programs(tf))
    with v1.Graph().as_default(), v1.Session() as sess:
        theirs = sess.run(_programs(v1))
    for k in theirs:
        _assert_same(ours[k], theirs[k], k)


def test_gradients_match_tensorflow():
    v1 = _tf_ref()
    out, feed = _gradient_programs(tf)
    ours = run(out, feed)
    with v1.Graph().as_default(), v1.Session() as sess:
        out, feed = _gradient_programs(v1)
        theirs = sess.run(out, feed)
    for k in theirs:
        _assert_same(ours[k], theirs[k], k)


# ---- without TensorFlow ----

def test_edge_values():
    got = run(_programs(tf))
    np.testing.assert_array_equal(got["rint32"], [0, 2, 2, -0.0, -2, -2, 0, 4, -4])
    assert np.signbit(got["rint64"][3])
    np.testing.assert_array_equal(got["truncatediv"], [3, -3, -3, 3, -2 ** 31])
    np.testing.assert_array_equal(got["truncatemod"], [1, -1, 1, -1, 0])
    np.testing.assert_array_equal(got["truncatemod_f"], [1, -1, 1.5])
    np.testing.assert_array_equal(got["xlogy"], [0, 0, 0, -np.inf, np.nan, 0])
    np.testing.assert_array_equal(got["xdivy"], [0, 0, 0, np.inf, -2, 0])
    np.testing.assert_allclose(got["atan2"], np.arctan2(*QUADRANTS))
    np.testing.assert_array_equal(np.signbit(got["atan2"]), np.signbit(np.arctan2(*QUADRANTS)))
    np.testing.assert_array_equal(np.isnan(got["digamma"]), [1, 1, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(got["lgamma"][[0, 1, 4, 5]], np.inf)
    # erf(+-inf) is +-1, as libm and SciPy (TensorFlow 2.21's float64 erf gives NaN at -inf)
    np.testing.assert_array_equal(run(tf.erf(np.array([-np.inf, np.inf]))), [-1, 1])
    ls = got["log_sigmoid32"]
    assert np.all(np.isfinite(ls)) and ls[0] == -1000 and ls[-1] == 0


def test_special_gradients_at_kinks():
    out, feed = _gradient_programs(tf)
    got = run(out, feed)
    np.testing.assert_allclose(got["log_sigmoid"], 1 / (1 + np.exp([0.0, -1, 2])))  # 0.5 at x == 0
    assert got["selu"][0] == pytest.approx(1.0507009873554805)  # x == 0 takes the linear side
    np.testing.assert_array_equal([g[0] for g in got["xlogy"]], [0, 0])  # x == 0: no gradient to either


@pytest.mark.parametrize("dt", [tf.int32, tf.int64])
@pytest.mark.parametrize("fn", [tf.truncatediv, tf.truncatemod])
def test_integer_truncating_division_by_zero(fn, dt):
    x = tf.placeholder(dt, [None])
    y = tf.placeholder(dt, [None])
    z = fn(x, y)
    assert z.dtype == dt
    with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero") as e:
        run(z, {x: [1, 2, 3], y: [1, 0, 1]})
    assert z.op.name in str(e.value)


def test_no_gradients():
    x = tf.placeholder(tf.float32, [3])
    assert tf.gradients(tf.rint(x), x) == [None]
    assert tf.gradients(tf.truncatediv(x, 2.0), x) == [None]
    with pytest.raises(LookupError, match="No gradient defined for operation 'TruncateMod'"):
        tf.gradients(tf.truncatemod(x, 2.0), x)
    n = tf.constant(1.0)
    assert tf.gradients(tf.math.polygamma(n, x), n) == [None]  # TF defines none for the order


def test_dtypes_and_namespaces():
    with pytest.raises(TypeError, match="int32"):
        tf.rint(tf.constant([1]))
    with pytest.raises(TypeError):
        tf.atan2(tf.constant([1]), tf.constant([2]))
    for n in ("expm1", "rint", "erf", "erfc", "lgamma", "digamma", "tan", "asin", "acos", "atan", "sinh",
              "cosh", "asinh", "acosh", "atanh", "log_sigmoid", "atan2", "polygamma", "zeta"):
        assert getattr(tf, n) is getattr(tf.math, n), n
    assert callable(tf.truncatediv) and callable(tf.truncatemod)
    assert not hasattr(tf, "xlogy") and callable(tf.math.xlogy) and callable(tf.math.xdivy)
    assert tf.nn.silu is tf.nn.swish and callable(tf.nn.selu)
    assert tf.math.log_sigmoid(tf.constant([1.0])).op.name == "LogSigmoid"
