"""Initializers (tf.constant_initializer, zeros, ones, random_*, variance scaling, glorot...): values, op
names, argument checks, and for the random ones the distribution they ask random_ops for and the statistics
of what they draw."""
import math

import numpy as np
import pytest

import tideflow as tf
from tideflow import _core
from tideflow.ops import init_ops, random_ops

def needs_random(f):  # random_ops and Fill are part of every build; these marks only document the need
    return f


needs_fill = needs_random
TRUNC = .87962566103423978


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def run(*tensors):
    with tf.Session() as sess:
        return sess.run(list(tensors))


# ---------------------------------------------------------------------------------------------------
# Constant, zeros, ones


def test_constant_initializer_values():
    a = tf.constant_initializer(3.)([2, 2])
    b = tf.constant_initializer([1., 2.])([4])  # TF1: a short list is padded with its last element
    c = tf.constant_initializer(np.arange(6.).reshape(2, 3))([2, 3])
    d = tf.constant_initializer([1, 2, 3, 4, 5, 6], dtype=tf.int32)([3, 2])
    e = tf.constant_initializer(2)([3], dtype=tf.float64)
    f = tf.constant_initializer(1.5)([])
    assert [t.op.name for t in (a, b, c, d, e, f)] == ["Const", "Const_1", "Const_2", "Const_3", "Const_4",
                                                       "Const_5"]
    assert (a.dtype, c.dtype, d.dtype, e.dtype) == (tf.float32, tf.float32, tf.int32, tf.float64)
    va, vb, vc, vd, ve, vf = run(a, b, c, d, e, f)
    np.testing.assert_array_equal(va, np.full((2, 2), 3.))
    np.testing.assert_array_equal(vb, [1., 2., 2., 2.])
    np.testing.assert_array_equal(vc, np.arange(6.).reshape(2, 3))
    np.testing.assert_array_equal(vd, [[1, 2], [3, 4], [5, 6]])
    assert ve.dtype == np.float64 and ve.tolist() == [2., 2., 2.]
    assert vf.shape == () and vf == 1.5


def test_constant_initializer_errors():
    with pytest.raises(ValueError, match="Too many elements provided. Takes at most 2, but got 3."):
        tf.constant_initializer([1., 2., 3.])([2])
    with pytest.raises(TypeError, match=r"Expected Tensor's shape: \(3,\), but got \(2,\)."):
        tf.constant_initializer([1., 2.], verify_shape=True)([3])
    with pytest.raises(TypeError, match="Invalid type for initial value="):
        tf.constant_initializer(object())
    with pytest.raises(TypeError, match="Expected int32"):
        tf.constant_initializer(0.5)([2], dtype=tf.int32)


def test_zeros_and_ones():
    z = tf.zeros_initializer()([2, 3], dtype=tf.int32)
    o = tf.ones_initializer(dtype=tf.float64)([2])
    zb = tf.zeros_initializer()([2], dtype=tf.bool)
    ob = tf.ones_initializer()([1], dtype=tf.bool)
    with tf.name_scope("ns"):
        zs = tf.zeros_initializer()([2, 3])
    assert [t.op.name for t in (z, o, zb, ob, zs)] == ["zeros", "ones", "zeros_1", "ones_1", "ns/zeros"]
    assert [t.op.type for t in (z, o)] == ["Const", "Const"]  # small: a constant, as tf.zeros builds it
    vz, vo, vzb, vob, vzs = run(z, o, zb, ob, zs)
    assert vz.dtype == np.int32 and vz.tolist() == [[0] * 3] * 2
    assert vo.dtype == np.float64 and vo.tolist() == [1., 1.]
    assert vzb.tolist() == [False, False] and vob.tolist() == [True]
    assert vzs.dtype == np.float32 and vzs.shape == (2, 3)


@needs_fill
def test_large_zeros_use_fill():
    with tf.variable_scope("big"):
        v = tf.get_variable("bz", shape=[40, 40], initializer=tf.zeros_initializer())
        w = tf.get_variable("bo", shape=[1000], initializer=tf.ones_initializer())
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert names[:3] == ["big/bz/Initializer/zeros/shape_as_tensor", "big/bz/Initializer/zeros/Const",
                         "big/bz/Initializer/zeros"]
    assert v.initializer.inputs[1].op.type == "Fill"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        vv, vw = sess.run([v, w])
    assert vv.shape == (40, 40) and not vv.any() and vw.shape == (1000,) and (vw == 1).all()


def test_configs_round_trip():
    assert tf.zeros_initializer().get_config() == {"dtype": "float32"}
    assert tf.constant_initializer(2.).get_config() == {"value": 2.0, "dtype": "float32"}
    assert tf.glorot_uniform_initializer(seed=3).get_config() == {"seed": 3, "dtype": "float32"}
    vs = tf.variance_scaling_initializer(scale=2., mode="fan_out", distribution="uniform", seed=1)
    assert vs.get_config() == {"scale": 2., "mode": "fan_out", "distribution": "uniform", "seed": 1,
                               "dtype": "float32"}
    again = tf.variance_scaling_initializer.from_config(vs.get_config())
    assert (again.scale, again.mode, again.distribution, again.seed) == (2., "fan_out", "uniform", 1)
    ru = tf.random_uniform_initializer(-1, 2, seed=4).get_config()
    assert ru == {"minval": -1, "maxval": 2, "seed": 4, "dtype": "float32"}


def test_argument_checks():
    with pytest.raises(ValueError, match="Argument `dtype` is expected to be floating point. Received: <dtype: 'int32'>"):
        tf.random_normal_initializer(dtype=tf.int32)
    with pytest.raises(ValueError, match="Argument `dtype` is expected to be floating point"):
        tf.truncated_normal_initializer(dtype=tf.int64)
    with pytest.raises(ValueError, match="Argument `scale` must be a positive float. Received: -1.0"):
        tf.variance_scaling_initializer(scale=-1.)
    with pytest.raises(ValueError, match="Argument `mode` should be one of"):
        tf.variance_scaling_initializer(mode="x")
    with pytest.raises(ValueError, match="Argument `distribution` should be one of"):
        tf.variance_scaling_initializer(distribution="x")
    with pytest.raises(NotImplementedError):
        init_ops.Initializer()([1])


def test_initializers_namespace():
    ns = tf.initializers
    assert ns.zeros is tf.zeros_initializer and ns.glorot_uniform is tf.glorot_uniform_initializer
    assert ns.global_variables is tf.global_variables_initializer
    assert isinstance(ns.he_normal(), tf.variance_scaling_initializer)
    assert not hasattr(tf, "he_normal")


@pytest.mark.parametrize("shape,fans", [([], (1, 1)), ([5], (5, 5)), ([3, 7], (3, 7)),
                                         ([2, 3, 4, 5], (24, 30)), ([3, 3, 3, 8, 16], (216, 432))])
def test_compute_fans(shape, fans):
    assert init_ops._compute_fans(shape) == fans


# ---------------------------------------------------------------------------------------------------
# What the random initializers ask random_ops for (checked with a stand-in, so no kernel is needed)


@pytest.fixture
def recorded(monkeypatch):
    calls = []

    def fake(kind):
        def draw(shape, a, b, dtype, seed=None, name=None):
            calls.append((kind, list(shape), a, b, tf.as_dtype(dtype), seed))
            return tf.constant(np.zeros(shape), dtype=dtype)
        return draw

    for kind in ("random_uniform", "random_normal", "truncated_normal"):
        monkeypatch.setattr(random_ops, kind, fake(kind), raising=False)
    return calls


def approx(x):
    return pytest.approx(x, rel=1e-12)


def test_plain_random_initializers_pass_arguments(recorded):
    tf.random_uniform_initializer(-1., 3., seed=7)([2, 3])
    tf.random_uniform_initializer(0, 10, dtype=tf.int32)([4])
    tf.random_normal_initializer(1., 2., seed=8)([5], dtype=tf.float64)
    tf.truncated_normal_initializer(0.5, 0.25)([1, 1])
    assert recorded == [("random_uniform", [2, 3], -1., 3., tf.float32, 7),
                        ("random_uniform", [4], 0, 10, tf.int32, None),
                        ("random_normal", [5], 1., 2., tf.float64, 8),
                        ("truncated_normal", [1, 1], .5, .25, tf.float32, None)]


@pytest.mark.parametrize("make,kind,bound", [
    # (initializer, distribution asked for, its limit (uniform) or stddev (normals)) for a [30, 50] matrix
    (lambda: tf.glorot_uniform_initializer(seed=1), "random_uniform", math.sqrt(6. / 80.)),
    (lambda: tf.glorot_normal_initializer(seed=1), "truncated_normal", math.sqrt(2. / 80.) / TRUNC),
    (lambda: tf.variance_scaling_initializer(seed=1), "truncated_normal", math.sqrt(1. / 30.) / TRUNC),
    (lambda: tf.variance_scaling_initializer(2., "fan_out", "untruncated_normal", seed=1), "random_normal",
     math.sqrt(2. / 50.)),
    (lambda: tf.variance_scaling_initializer(3., "fan_avg", "uniform", seed=1), "random_uniform",
     math.sqrt(9. / 40.)),
    (lambda: tf.variance_scaling_initializer(distribution="normal", seed=1), "truncated_normal",
     math.sqrt(1. / 30.) / TRUNC),
    (lambda: init_ops.he_normal(seed=1), "truncated_normal", math.sqrt(2. / 30.) / TRUNC),
    (lambda: init_ops.he_uniform(seed=1), "random_uniform", math.sqrt(6. / 30.)),
    (lambda: init_ops.lecun_normal(seed=1), "truncated_normal", math.sqrt(1. / 30.) / TRUNC),
    (lambda: init_ops.lecun_uniform(seed=1), "random_uniform", math.sqrt(3. / 30.)),
    (lambda: tf.uniform_unit_scaling_initializer(factor=2., seed=1), "random_uniform", math.sqrt(3. / 30.) * 2.),
])
def test_variance_scaling_family(recorded, make, kind, bound):
    make()([30, 50], dtype=tf.float64)
    ((got_kind, shape, a, b, dtype, seed),) = recorded
    assert (got_kind, shape, dtype, seed) == (kind, [30, 50], tf.float64, 1)
    if kind == "random_uniform":
        assert (a, b) == (approx(-bound), approx(bound))
    else:
        assert (a, b) == (0.0, approx(bound))


def test_variance_scaling_fans_of_small_shapes(recorded):
    init = tf.variance_scaling_initializer(distribution="uniform")
    init([])        # scalar: fan 1
    init([4])       # vector: fan_in = fan_out = 4
    init([0, 3])    # empty: fan clamped at 1
    assert [r[3] for r in recorded] == [approx(math.sqrt(3.)), approx(math.sqrt(3. / 4.)), approx(math.sqrt(3.))]


def test_get_variable_uses_initializer_dtype_and_scope(recorded):
    with tf.variable_scope("layer"):
        v = tf.get_variable("kernel", shape=[3, 5], dtype=tf.float64)
    limit = math.sqrt(6. / 8.)  # glorot_uniform: fan_in 3, fan_out 5
    assert recorded == [("random_uniform", [3, 5], approx(-limit), approx(limit), tf.float64, None)]
    assert v.dtype == tf.float64
    assert v.initializer.inputs[1].op.name == "layer/kernel/Initializer/Const"


# ---------------------------------------------------------------------------------------------------
# Statistics of real draws (random family)


def sample(init, shape, dtype=tf.float32):
    (val,) = run(init(shape, dtype=dtype))
    return val


@needs_random
def test_random_uniform_statistics():
    v = sample(tf.random_uniform_initializer(-1., 3., seed=1), [200, 100])
    assert v.dtype == np.float32 and v.min() >= -1. and v.max() < 3.
    assert abs(v.mean() - 1.) < 0.05 and abs(v.std() - 4. / math.sqrt(12.)) < 0.05
    ints = sample(tf.random_uniform_initializer(0, 5, seed=2, dtype=tf.int32), [1000], dtype=tf.int32)
    assert ints.dtype == np.int32 and set(np.unique(ints)) == {0, 1, 2, 3, 4}


@needs_random
def test_random_normal_statistics():
    v = sample(tf.random_normal_initializer(2., 0.5, seed=1), [200, 100], tf.float64)
    assert v.dtype == np.float64 and abs(v.mean() - 2.) < 0.02 and abs(v.std() - 0.5) < 0.02
    assert np.abs(v - 2.).max() > 1.0  # not truncated: beyond two stddevs occurs in 20000 draws


@needs_random
def test_truncated_normal_statistics():
    v = sample(tf.truncated_normal_initializer(1., 2., seed=1), [200, 100])
    assert np.abs(v - 1.).max() <= 4. + 1e-5
    assert abs(v.mean() - 1.) < 0.05 and abs(v.std() - 2. * TRUNC) < 0.05


@needs_random
@pytest.mark.parametrize("make,expected_std", [
    (lambda: tf.glorot_uniform_initializer(seed=3), math.sqrt(2. / 500.)),
    (lambda: tf.glorot_normal_initializer(seed=3), math.sqrt(2. / 500.)),
    (lambda: tf.variance_scaling_initializer(2., "fan_in", "truncated_normal", seed=3), math.sqrt(2. / 200.)),
    (lambda: tf.variance_scaling_initializer(1., "fan_out", "untruncated_normal", seed=3), math.sqrt(1. / 300.)),
])
def test_variance_scaling_keeps_the_variance(make, expected_std):
    v = sample(make(), [200, 300])
    assert abs(v.std() / expected_std - 1.) < 0.03 and abs(v.mean()) < 0.1 * expected_std


@needs_random
def test_glorot_uniform_bounds_and_seeds():
    limit = math.sqrt(6. / 500.)
    a = sample(tf.glorot_uniform_initializer(seed=5), [200, 300])
    assert np.abs(a).max() <= limit and np.abs(a).max() > 0.99 * limit
    b = sample(tf.glorot_uniform_initializer(seed=5), [200, 300])
    c = sample(tf.glorot_uniform_initializer(seed=6), [200, 300])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_identity_initializer():
    a = tf.initializers.identity()([2, 3])
    b = tf.initializers.identity(gain=2.5)([2, 2], dtype=tf.float64)
    va, vb = run(a, b)
    np.testing.assert_array_equal(va, np.eye(2, 3))
    assert vb.dtype == np.float64 and vb.tolist() == [[2.5, 0.], [0., 2.5]]
    with pytest.raises(ValueError, match="can only be used for 2D matrices"):
        tf.initializers.identity()([3])
    v = tf.get_variable("eye", shape=[3, 3], initializer=tf.initializers.identity())
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(v), np.eye(3))
