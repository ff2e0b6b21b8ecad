"""tf.map_fn, tf.scan, tf.foldl and tf.foldr against Python loops, with nested structures, dtype=,
initializer=, reverse=, and their gradients against float64 finite differences."""
import collections

import numpy as np
import pytest

import tideflow as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def run(fetches, feed=None):
    with tf.Session() as s:
        return s.run(fetches, feed)


def numeric_grad(f, xv, eps=1e-6):
    g = np.zeros_like(xv)
    for idx in np.ndindex(xv.shape):
        d = np.zeros_like(xv)
        d[idx] = eps
        g[idx] = (f(xv + d) - f(xv - d)) / (2 * eps)
    return g


RNG = np.random.RandomState(3)
E = RNG.randn(5, 3)


def test_map_fn_matches_a_python_loop_and_keeps_the_static_length():
    e = tf.placeholder(tf.float64, [5, 3])
    m = tf.map_fn(lambda r: tf.reduce_sum(r * r) + r[0], e)
    assert m.shape.as_list() == [5]
    np.testing.assert_allclose(run(m, {e: E}), [np.sum(r * r) + r[0] for r in E], rtol=1e-12)
    dyn = tf.placeholder(tf.float64, [None, 3])
    md = tf.map_fn(lambda r: r * 2.0, dyn)
    assert md.shape.as_list() == [None, 3]
    np.testing.assert_allclose(run(md, {dyn: E[:2]}), E[:2] * 2)
    assert run(md, {dyn: np.zeros((0, 3))}).shape == (0, 3)


def test_map_fn_nested_structures_and_dtype():
    a = tf.constant(E)
    b = tf.constant(np.arange(5, dtype=np.int32))
    Out = collections.namedtuple("Out", "s k")
    r = tf.map_fn(lambda xy: Out(tf.reduce_sum(xy[0]), xy[1] * 2), (a, b), dtype=Out(tf.float64, tf.int32))
    assert isinstance(r, Out)
    got = run(r)
    np.testing.assert_allclose(got.s, E.sum(1))
    np.testing.assert_array_equal(got.k, np.arange(5) * 2)
    d = tf.map_fn(lambda xy: {"p": xy["x"] + 1.0}, {"x": a}, dtype={"p": tf.float64})
    np.testing.assert_allclose(run(d)["p"], E + 1)
    with pytest.raises(TypeError, match="dtype is int32 but fn returned float64"):
        tf.map_fn(lambda r: r, a, dtype=tf.int32)
    with pytest.raises(ValueError, match="1\\+ dimensional"):
        tf.map_fn(lambda r: r, tf.constant(1.0))


def test_scan_matches_a_python_loop():
    e = tf.constant(E)
    plain = tf.scan(lambda acc, r: acc * 0.5 + r, e)
    init = tf.scan(lambda acc, r: acc + tf.reduce_sum(r), e, initializer=tf.constant(1.0, tf.float64))
    rev = tf.scan(lambda acc, r: acc * 0.5 + r, e, reverse=True)
    rev_init = tf.scan(lambda acc, r: (acc[0] + r, acc[1] * 2.0), e,
                       initializer=(tf.zeros([3], tf.float64), tf.constant(1.0, tf.float64)), reverse=True)
    got = run([plain, init, rev, rev_init])
    want, acc = [E[0]], E[0]
    for r in E[1:]:
        acc = acc * 0.5 + r
        want.append(acc)
    np.testing.assert_allclose(got[0], want)
    np.testing.assert_allclose(got[1], 1.0 + np.cumsum(E.sum(1)))
    want, acc = [E[-1]], E[-1]
    for r in E[-2::-1]:
        acc = acc * 0.5 + r
        want.append(acc)
    np.testing.assert_allclose(got[2], want[::-1])
    np.testing.assert_allclose(got[3][0], np.cumsum(E[::-1], 0)[::-1])
    np.testing.assert_allclose(got[3][1], 2.0 ** np.arange(5, 0, -1))
    assert plain.shape.as_list() == [5, 3]


def test_foldl_and_foldr_match_python_loops():
    e = tf.constant(E)
    fl = tf.foldl(lambda acc, r: acc * 0.5 + r, e)
    fr = tf.foldr(lambda acc, r: acc * 0.5 + r, e)
    fs = tf.foldl(lambda acc, r: acc + tf.reduce_sum(r * r), e, initializer=tf.constant(0.0, tf.float64))
    fn = tf.foldr(lambda acc, xy: acc + xy[0] * tf.cast(xy[1], tf.float64), (e, tf.range(5)),
                  initializer=tf.zeros([3], tf.float64))
    got = run([fl, fr, fs, fn])
    acc = E[0]
    for r in E[1:]:
        acc = acc * 0.5 + r
    np.testing.assert_allclose(got[0], acc)
    acc = E[-1]
    for r in E[-2::-1]:
        acc = acc * 0.5 + r
    np.testing.assert_allclose(got[1], acc)
    np.testing.assert_allclose(got[2], np.sum(E * E))
    np.testing.assert_allclose(got[3], (E * np.arange(5)[:, None]).sum(0))


@pytest.mark.parametrize("which", ["map_fn", "scan", "scan_reverse", "foldl", "foldr_init"])
def test_gradients_against_finite_differences(which):
    e = tf.placeholder(tf.float64, [5, 3])
    w = tf.placeholder(tf.float64, [3])
    wv = np.array([0.4, -0.7, 1.1])
    if which == "map_fn":
        out = tf.map_fn(lambda r: tf.tanh(r * w), e)

        def f(ev):
            return np.sum(np.tanh(ev * wv) * np.arange(15).reshape(5, 3))
    elif which.startswith("scan"):
        rev = which.endswith("reverse")
        out = tf.scan(lambda acc, r: tf.sin(acc) * w + r, e, reverse=rev)

        def f(ev):
            rows = ev[::-1] if rev else ev
            acc, res = rows[0], [rows[0]]
            for r in rows[1:]:
                acc = np.sin(acc) * wv + r
                res.append(acc)
            res = np.array(res[::-1] if rev else res)
            return np.sum(res * np.arange(15).reshape(5, 3))
    elif which == "foldl":
        out = tf.foldl(lambda acc, r: acc * r + w, e)

        def f(ev):
            acc = ev[0]
            for r in ev[1:]:
                acc = acc * r + wv
            return np.sum(acc * np.arange(3))
    else:
        out = tf.foldr(lambda acc, r: tf.reduce_sum(acc * r) * w, e, initializer=tf.ones([3], tf.float64))

        def f(ev):
            acc = np.ones(3)
            for r in ev[::-1]:
                acc = np.sum(acc * r) * wv
            return np.sum(acc * np.arange(3))
    weights = np.arange(15).reshape(5, 3) if which in ("map_fn", "scan", "scan_reverse") else np.arange(3)
    y = tf.reduce_sum(out * tf.constant(weights, tf.float64))
    g = tf.gradients(y, e)[0]
    got = run([y, g], {e: E, w: wv})
    np.testing.assert_allclose(got[0], f(E), rtol=1e-12)
    np.testing.assert_allclose(got[1], numeric_grad(f, E.copy()), rtol=1e-6, atol=1e-8)


def test_compare_with_tensorflow():
    tft = pytest.importorskip("tensorflow.compat.v1")
    tft.disable_v2_behavior()
    tft.disable_control_flow_v2()

    def build(t):
        e = t.constant(E)
        return [t.map_fn(lambda r: t.reduce_max(r) - r, e), t.scan(lambda a, r: a * r + 1.0, e),
                t.foldr(lambda a, r: a - r, e, initializer=t.zeros([3], t.float64)),
                t.scan(lambda a, r: a + r, e, reverse=True)]

    g = tft.Graph()
    with g.as_default():
        want = tft.Session(graph=g).run(build(tft))
    got = run(build(tf))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_cond_and_while_loop_inside_map_fn_with_gradient():
    e = tf.placeholder(tf.float64, [5, 3])

    def fn(r):
        s = tf.reduce_sum(r)
        y = tf.cond(s > 0, lambda: tf.reduce_sum(r * r), lambda: -tf.reduce_sum(tf.sin(r)))
        _, z = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * 0.5 + y), [0, tf.constant(0.0, tf.float64)])
        return z

    def f(ev):
        out = 0.0
        for r in ev:
            y = np.sum(r * r) if r.sum() > 0 else -np.sum(np.sin(r))
            a = 0.0
            for _ in range(3):
                a = a * 0.5 + y
            out += a
        return out

    m = tf.reduce_sum(tf.map_fn(fn, e))
    got = run([m, tf.gradients(m, e)[0]], {e: E})
    np.testing.assert_allclose(got[0], f(E), rtol=1e-12)
    np.testing.assert_allclose(got[1], numeric_grad(f, E.copy()), rtol=1e-6, atol=1e-8)
