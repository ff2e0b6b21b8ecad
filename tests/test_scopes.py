"""Name scopes, variable scopes and tf.get_variable: names, sharing and errors as in TensorFlow 1.x.

Expected names were taken from TensorFlow's own compat.v1 graph mode (reference variables) running the same
programs."""
import sys

import numpy as np
import pytest

import tideflow as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def op_names():
    return [op.name for op in tf.get_default_graph().get_operations()]


def needs(*names):
    """Documents the tf functions a test relies on; all exist in a full build."""
    missing = [n for n in names if not hasattr(tf, n)]
    assert not missing, "missing from this build: tf.%s" % ", tf.".join(missing)
    return lambda f: f


# ---------------------------------------------------------------------------------------------------
# tf.name_scope


def test_name_scope_nests_uniquifies_and_yields_the_scope():
    with tf.name_scope("a") as s:
        assert s == "a/"
        assert tf.identity(tf.constant(1.), name="x").name == "a/x:0"
        assert tf.get_default_graph().get_name_scope() == "a"
        with tf.name_scope("b") as s2:
            assert s2 == "a/b/"
        with tf.name_scope("b") as s2:
            assert s2 == "a/b_1/"
        with tf.name_scope("_under") as s5:  # "_" may start a nested scope, not a root one
            assert s5 == "a/_under/"
    with tf.name_scope("a") as s:
        assert s == "a_1/"
    with tf.name_scope("A") as s:  # uniquification ignores case, keeps the given spelling
        assert s == "A_2/"
    assert op_names() == ["a/Const", "a/x"]


def test_name_scope_reenters_absolute_scope_and_none_resets():
    with tf.name_scope("a"):
        with tf.name_scope(None) as s:
            assert s == ""
            assert tf.constant(1.).name == "Const:0"
        with tf.name_scope("") as s:
            assert s == ""
        with tf.name_scope("a/b/") as s:
            assert s == "a/b/"
            assert tf.constant(1., name="k").name == "a/b/k:0"
            assert tf.constant(1., name="k").name == "a/b/k_1:0"
        assert tf.constant(1., name="k").name == "a/k:0"


def test_name_scope_default_name_and_values():
    with tf.name_scope(None, default_name="dflt") as s:
        assert s == "dflt/"
    with tf.name_scope(None, "dflt") as s:
        assert s == "dflt_1/"
    with tf.name_scope("given", "dflt") as s:
        assert s == "given/"
    with tf.name_scope("", default_name="dflt") as s:  # "" is a name: the root
        assert s == ""
    with pytest.raises(ValueError, match=r"At least one of name \(None\) and default_name \(None\)"):
        with tf.name_scope(None, values=[]):
            pass


def test_name_scope_enters_the_graph_of_its_values():
    g2 = tf.Graph()
    with g2.as_default():
        c = tf.constant(1.)
    with tf.name_scope("other", values=[c]) as s:
        assert s == "other/"
        assert tf.get_default_graph() is g2
        assert tf.identity(c).name == "other/Identity:0"
    assert tf.get_default_graph() is not g2


@pytest.mark.parametrize("bad", ["_x", "-x", "a b", "a$"])
def test_invalid_root_scope_names(bad):
    with pytest.raises(ValueError, match="is not a valid root scope name"):
        with tf.name_scope(bad):
            pass


def test_invalid_nested_scope_name():
    with tf.name_scope("ok"):
        with pytest.raises(ValueError, match="'a b' is not a valid scope name"):
            with tf.name_scope("a b"):
                pass


def test_relu_name_scopes_with_identity():
    x = tf.placeholder(tf.float32, [None, 3], name="X")

    def relu(X):
        with tf.name_scope("relu"):
            tf.Variable(np.zeros((3, 1), np.float32), name="weights")
            tf.Variable(0.0, name="bias")
            return tf.identity(X, name="max")

    assert [relu(x).op.name for _ in range(5)] == ["relu/max", "relu_1/max", "relu_2/max", "relu_3/max",
                                                   "relu_4/max"]
    assert "relu_3/weights" in op_names() and "relu_4/bias/Assign" in op_names()


@needs("maximum", "matmul", "add", "random_normal", "add_n")
def test_relu_book_example():
    n_features = 3
    X = tf.placeholder(tf.float32, shape=(None, n_features), name="X")

    def relu(X):
        with tf.name_scope("relu"):
            w_shape = (int(X.get_shape()[1]), 1)
            w = tf.Variable(tf.random_normal(w_shape), name="weights")
            b = tf.Variable(0.0, name="bias")
            z = tf.add(tf.matmul(X, w), b, name="z")
            return tf.maximum(z, 0., name="max")

    relus = [relu(X) for _ in range(5)]
    assert [r.op.name for r in relus] == ["relu/max", "relu_1/max", "relu_2/max", "relu_3/max", "relu_4/max"]
    output = tf.add_n(relus, name="output")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(output, {X: np.ones((2, n_features), np.float32)})
    assert out.shape == (2, 1) and (out >= 0).all()


# ---------------------------------------------------------------------------------------------------
# The seed example and shared variables


def test_seed_example_names_and_sharing():
    with tf.variable_scope("my_scope"):
        x0 = tf.get_variable("x", shape=(), initializer=tf.constant_initializer(0.))
        x1 = tf.Variable(0., name="x")
        x2 = tf.Variable(0., name="x")
    with tf.variable_scope("my_scope", reuse=True):
        x3 = tf.get_variable("x")
        x4 = tf.Variable(0., name="x")
    with tf.variable_scope("", default_name="", reuse=True):
        x5 = tf.get_variable("my_scope/x")
    names = [v.op.name for v in (x0, x1, x2, x3, x4, x5)]
    assert names == ["my_scope/x", "my_scope/x_1", "my_scope/x_2", "my_scope/x", "my_scope_1/x", "my_scope/x"]
    assert x0 is x3 and x0 is x5
    assert len({id(v) for v in (x0, x1, x2, x4)}) == 4
    assert x0.initializer.inputs[1].name == "my_scope/x/Initializer/Const:0"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(x5) == 0.0


def test_shared_threshold_with_reuse_true():
    x = tf.placeholder(tf.float32, [None, 3], name="X")

    def relu(X):
        with tf.variable_scope("relu", reuse=True):
            threshold = tf.get_variable("threshold")
            return tf.identity(X, name="max"), threshold

    with tf.variable_scope("relu"):
        threshold = tf.get_variable("threshold", shape=(), initializer=tf.constant_initializer(0.0))
    results = [relu(x) for _ in range(5)]
    # The scope that created the threshold took the name scope "relu"; each call re-opens it uniquified.
    assert [r.op.name for r, _ in results] == ["relu_1/max", "relu_2/max", "relu_3/max", "relu_4/max",
                                               "relu_5/max"]
    assert all(t is threshold for _, t in results)
    assert threshold.name == "relu/threshold:0"


def test_shared_threshold_created_on_first_call():
    x = tf.placeholder(tf.float32, [None, 3], name="X")

    def relu(X):
        threshold = tf.get_variable("threshold", shape=(), initializer=tf.constant_initializer(0.0))
        return tf.identity(X, name="max"), threshold

    results = []
    for relu_index in range(5):
        with tf.variable_scope("relu", reuse=(relu_index >= 1)):
            results.append(relu(x))
    assert [r.op.name for r, _ in results] == ["relu/max", "relu_1/max", "relu_2/max", "relu_3/max",
                                               "relu_4/max"]
    assert all(t is results[0][1] for _, t in results)
    assert results[0][1].name == "relu/threshold:0"
    assert [v.name for v in tf.global_variables()] == ["relu/threshold:0"]


@needs("maximum", "matmul", "add", "random_normal", "add_n")
def test_shared_threshold_book_example():
    n_features = 3
    X = tf.placeholder(tf.float32, shape=(None, n_features), name="X")

    def relu(X):
        threshold = tf.get_variable("threshold", shape=(), initializer=tf.constant_initializer(0.0))
        w = tf.Variable(tf.random_normal((n_features, 1)), name="weights")
        b = tf.Variable(0.0, name="bias")
        z = tf.add(tf.matmul(X, w), b, name="z")
        return tf.maximum(z, threshold, name="max")

    relus = []
    for relu_index in range(5):
        with tf.variable_scope("relu", reuse=(relu_index >= 1)):
            relus.append(relu(X))
    output = tf.add_n(relus, name="output")
    assert [r.op.name for r in relus] == ["relu/max", "relu_1/max", "relu_2/max", "relu_3/max", "relu_4/max"]
    assert [v.name for v in tf.global_variables() if "threshold" in v.name] == ["relu/threshold:0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(output, {X: np.zeros((1, n_features), np.float32)}).shape == (1, 1)


# ---------------------------------------------------------------------------------------------------
# tf.variable_scope naming


def test_variable_scope_names_and_name_scopes():
    with tf.variable_scope("s") as vs:
        assert (vs.name, vs.original_name_scope) == ("s", "s/")
        assert tf.constant(1, name="c").name == "s/c:0"
        with tf.variable_scope("in") as vi:
            assert (vi.name, vi.original_name_scope) == ("s/in", "s/in/")
            assert tf.get_variable_scope() is vi
    with tf.variable_scope("s") as again:  # same variable scope, uniquified name scope
        assert (again.name, again.original_name_scope) == ("s", "s_1/")
        assert tf.constant(1, name="c").name == "s_1/c:0"
    assert tf.get_variable_scope().name == ""


def test_reentering_with_a_scope_object():
    with tf.variable_scope("s") as vs:
        with tf.variable_scope("in") as vi:
            pass
    with tf.variable_scope(vs) as vs2:
        # A fresh name scope from the scope's last name part; original_name_scope is kept.
        assert (vs2.name, vs2.original_name_scope) == ("s", "s/")
        assert tf.constant(1, name="c").name == "s_1/c:0"
        v = tf.get_variable("v", shape=[2], initializer=tf.zeros_initializer())
        assert v.name == "s/v:0"
        with tf.variable_scope("in") as vi2:
            assert (vi2.name, vi2.original_name_scope) == ("s/in", "s_1/in/")
    with tf.variable_scope(vi) as vi3:  # entered from the root: name scope "in", not "s/in"
        assert (vi3.name, vi3.original_name_scope) == ("s/in", "s/in/")
        assert tf.constant(1, name="c").name == "in/c:0"
    with tf.name_scope("top"):
        with tf.variable_scope(vi):
            assert tf.constant(1, name="c").name == "top/in/c:0"


def test_get_variable_ignores_the_name_scope():
    with tf.name_scope("ns"):
        w = tf.get_variable("w", shape=[3, 4], initializer=tf.zeros_initializer())
        with tf.variable_scope("vs") as vs:
            assert vs.original_name_scope == "ns/vs/"
            assert tf.constant(1, name="c").name == "ns/vs/c:0"
            w2 = tf.get_variable("w", shape=[3, 4], initializer=tf.zeros_initializer())
    assert (w.name, w2.name) == ("w:0", "vs/w:0")
    assert "w/Initializer/zeros" in op_names()


def test_default_names_are_uniquified_per_enclosing_scope():
    seen = []
    for _ in range(3):
        with tf.variable_scope(None, default_name="dense") as d:
            c = tf.constant(1, name="c")
            with tf.variable_scope(None, default_name="sub") as s1:
                pass
            with tf.variable_scope(None, default_name="sub") as s2:
                pass
            seen.append((d.name, d.original_name_scope, c.name, s1.name, s2.name, s2.original_name_scope))
    assert seen == [("dense", "dense/", "dense/c:0", "dense/sub", "dense/sub_1", "dense/sub_1/"),
                    ("dense_1", "dense_1/", "dense_1/c:0", "dense_1/sub", "dense_1/sub_1", "dense_1/sub_1/"),
                    ("dense_2", "dense_2/", "dense_2/c:0", "dense_2/sub", "dense_2/sub_1", "dense_2/sub_1/")]
    # Leaving "dense" reset its sub-scope counts: re-opening it starts at "sub" again.
    with tf.variable_scope("dense"):
        with tf.variable_scope(None, default_name="sub") as s:
            assert (s.name, s.original_name_scope) == ("dense/sub", "dense_3/sub/")
    with tf.variable_scope("named", default_name="ignored") as n:
        assert n.name == "named"


def test_auxiliary_name_scope_false_keeps_the_current_name_scope():
    with tf.variable_scope("vsx", auxiliary_name_scope=False) as x:
        assert (x.name, x.original_name_scope) == ("vsx", "")
        assert tf.constant(1, name="c").name == "c:0"
    with tf.name_scope("ns1"):
        with tf.variable_scope("vsy", auxiliary_name_scope=False) as y:
            assert (y.name, y.original_name_scope) == ("vsy", "ns1/")
            assert tf.constant(1, name="c").name == "ns1/c:0"
            assert tf.get_variable("v", shape=[], initializer=tf.zeros_initializer()).name == "vsy/v:0"
    with pytest.raises(TypeError, match="auxiliary_name_scope"):
        tf.variable_scope("z", auxiliary_name_scope=1)


def test_reentering_the_same_variable_scope_object():
    vs = tf.variable_scope(None, default_name="re")
    with vs as a:
        assert (a.name, tf.constant(1., name="c").name) == ("re", "re/c:0")
    with vs as a:
        assert (a.name, a.original_name_scope, tf.constant(1., name="c").name) == ("re", "re/", "re_1/c:0")


def test_variable_op_scope_alias():
    with tf.variable_op_scope([], None, default_name="op") as s:
        assert s.name == "op"


def test_variable_scope_enters_the_graph_of_its_values():
    g2 = tf.Graph()
    with g2.as_default():
        c = tf.constant(1.)
    with tf.variable_scope("vs", values=[c]):
        assert tf.get_default_graph() is g2
        v = tf.get_variable("v", shape=[], initializer=tf.zeros_initializer())
    assert v.graph is g2 and v.name == "vs/v:0"


# ---------------------------------------------------------------------------------------------------
# Reuse


def test_reuse_is_inherited_and_cannot_be_switched_off():
    with tf.variable_scope("outer", reuse=True) as o:
        assert o.reuse is True
        with tf.variable_scope("inner", reuse=False) as i1:
            assert i1.reuse is True
        with tf.variable_scope("inner2") as i2:
            assert i2.reuse is True
    with tf.variable_scope("o2") as o2:
        assert o2.reuse is False
        o2.reuse_variables()
        assert tf.get_variable_scope().reuse is True
        with tf.variable_scope("i") as i3:
            assert i3.reuse is True
    assert tf.get_variable_scope().name == "" and tf.get_variable_scope().reuse is False


def test_reuse_variables_shares_within_the_scope():
    with tf.variable_scope("layer") as scope:
        a = tf.get_variable("w", shape=[2], initializer=tf.zeros_initializer())
        scope.reuse_variables()
        b = tf.get_variable("w", shape=[2])
        c = tf.get_variable("w")
    assert a is b is c


def test_reentering_a_scope_object_keeps_or_sets_reuse():
    with tf.variable_scope("s") as s:
        v = tf.get_variable("v", shape=[1], initializer=tf.zeros_initializer())
    with tf.variable_scope(s, reuse=True) as s2:
        assert s2.reuse is True and s.reuse is False
        assert tf.get_variable("v") is v
    with tf.variable_scope(s):
        with pytest.raises(ValueError, match="already exists"):
            tf.get_variable("v")


def test_auto_reuse():
    assert repr(tf.AUTO_REUSE) == "<_ReuseMode.AUTO_REUSE: 1>"
    with tf.variable_scope("ar", reuse=tf.AUTO_REUSE) as ar:
        assert ar.reuse is tf.AUTO_REUSE
        a1 = tf.get_variable("a", shape=[3], initializer=tf.ones_initializer())
        a2 = tf.get_variable("a", shape=[3])
        with tf.variable_scope("in") as inner:
            assert inner.reuse is tf.AUTO_REUSE
            b1 = tf.get_variable("b", shape=[], initializer=tf.zeros_initializer())
    with tf.variable_scope("ar", reuse=tf.AUTO_REUSE):
        a3 = tf.get_variable("a")
        with tf.variable_scope("in"):
            b2 = tf.get_variable("b")
    assert a1 is a2 is a3 and b1 is b2
    assert [v.name for v in tf.global_variables()] == ["ar/a:0", "ar/in/b:0"]


# ---------------------------------------------------------------------------------------------------
# Errors


def test_existing_variable_without_reuse_names_where_it_was_made():
    with tf.variable_scope("my_scope"):
        tf.get_variable("x", shape=(), initializer=tf.zeros_initializer()); line = sys._getframe().f_lineno  # noqa
    with pytest.raises(ValueError) as e:
        with tf.variable_scope("my_scope"):
            tf.get_variable("x", shape=())
    msg = str(e.value)
    assert msg.startswith("Variable my_scope/x already exists, disallowed. Did you mean to set reuse=True or "
                          "reuse=tf.AUTO_REUSE in VarScope? Originally defined at:")
    assert "%s:%d" % (__file__, line) in msg


def test_missing_variable_with_reuse():
    with tf.variable_scope("s", reuse=True):
        with pytest.raises(ValueError) as e:
            tf.get_variable("nope", shape=[1])
    assert str(e.value) == ("Variable s/nope does not exist, or was not created with tf.get_variable(). Did you "
                            "mean to set reuse=tf.AUTO_REUSE in VarScope?")
    tf.Variable(0., name="plain")
    with tf.variable_scope("", reuse=True):
        with pytest.raises(ValueError, match="Variable plain does not exist, or was not created with"):
            tf.get_variable("plain")


def test_shape_and_dtype_must_match_when_sharing():
    with tf.variable_scope("s"):
        tf.get_variable("v", shape=[2], initializer=tf.zeros_initializer())
    with tf.variable_scope("s", reuse=True):
        with pytest.raises(ValueError) as e:
            tf.get_variable("v", shape=[3])
        assert str(e.value) == "Trying to share variable s/v, but specified shape (3,) and found shape (2,)."
        with pytest.raises(ValueError) as e:
            tf.get_variable("v", dtype=tf.int32)
        assert str(e.value) == "Trying to share variable s/v, but specified dtype int32 and found dtype float32."
        assert tf.get_variable("v", shape=[None]).name == "s/v:0"  # compatible partial shape


def test_constant_initializer_with_shape_and_dtype_clash():
    with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape."):
        tf.get_variable("k", shape=[2], initializer=[1., 2.])
    with pytest.raises(ValueError, match="Initializer type '<dtype: 'int32'>' and explicit dtype '<dtype: 'float32'>' don't"):
        tf.get_variable("kd", initializer=[1, 2], dtype=tf.float32)
    with pytest.raises(ValueError, match="Variable kn did not get an initializer, so its `shape` argument must"):
        tf.get_variable("kn")
    with pytest.raises(ValueError, match="The initializer passed is not valid"):
        tf.get_variable("kp", initializer=tf.zeros_initializer())


def test_variable_scope_argument_errors():
    with pytest.raises(TypeError, match="If default_name is None then name_or_scope is required"):
        tf.variable_scope(None)
    with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
        with tf.variable_scope(None, default_name="x", reuse=True):
            pass
    with pytest.raises(ValueError, match="The reuse parameter must be True or False or None."):
        tf.variable_scope("x", reuse=1)
    with pytest.raises(TypeError, match="name_or_scope must be a string or VariableScope"):
        with tf.variable_scope(3):
            pass
    # A failed enter leaves every scope as it was.
    assert tf.get_variable_scope().name == "" and tf.get_default_graph().get_name_scope() == ""


def test_improper_nesting_is_detected():
    outer = tf.variable_scope("outer")
    inner = tf.variable_scope("inner")
    outer.__enter__()
    inner.__enter__()
    with pytest.raises(RuntimeError, match="Improper nesting of variable_scope."):
        outer.__exit__(None, None, None)


# ---------------------------------------------------------------------------------------------------
# tf.get_variable: initializers, dtypes, collections, regularizers, custom getters


def run_init(*variables):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(list(variables))


def test_initializer_forms():
    a = tf.get_variable("a", shape=[2, 2], initializer=tf.constant_initializer(3.))
    b = tf.get_variable("b", shape=[2], initializer=tf.zeros_initializer)  # a class is instantiated
    c = tf.get_variable("c", shape=[2], initializer=lambda shape, dtype, partition_info: tf.constant([7., 8.]))
    d = tf.get_variable("d", shape=[3], initializer=lambda shape, dtype: np.arange(3) * 1.5)
    e = tf.get_variable("e", initializer=lambda: tf.constant([7., 8., 9.]))
    f = tf.get_variable("f", initializer=[1., 2.])
    g = tf.get_variable("g", initializer=tf.constant([1, 2]))
    h = tf.get_variable("h", initializer=np.arange(4.).reshape(2, 2))
    assert (e.shape.as_list(), f.shape.as_list(), h.shape.as_list()) == ([3], [2], [2, 2])
    assert (f.dtype, g.dtype, h.dtype, d.dtype) == (tf.float32, tf.int32, tf.float64, tf.float32)
    assert [v.initializer.inputs[1].name for v in (a, b, c, e, f, g)] == [
        "a/Initializer/Const:0", "b/Initializer/zeros:0", "c/Initializer/Const:0", "e/Initializer/Const:0",
        "f/initial_value:0", "Const:0"]
    va, vb, vc, vd, ve, vf, vg, vh = run_init(a, b, c, d, e, f, g, h)
    np.testing.assert_array_equal(va, np.full((2, 2), 3., np.float32))
    np.testing.assert_array_equal(vb, [0., 0.])
    np.testing.assert_array_equal(vc, [7., 8.])
    np.testing.assert_array_equal(vd, [0., 1.5, 3.])
    np.testing.assert_array_equal(ve, [7., 8., 9.])
    np.testing.assert_array_equal(vf, [1., 2.])
    np.testing.assert_array_equal(vg, [1, 2])
    np.testing.assert_array_equal(vh, np.arange(4.).reshape(2, 2))


def test_initializer_receives_shape_and_dtype():
    got = []

    def init(shape, dtype=None, partition_info="unset"):
        got.append((shape, dtype, partition_info))
        return np.zeros(shape)

    v = tf.get_variable("v", shape=(2, 3), dtype=tf.float64, initializer=init)
    assert got == [([2, 3], tf.float64, None)]
    assert v.dtype == tf.float64


def test_default_initializers_for_non_floats():
    ki = tf.get_variable("ki", shape=[2, 3], dtype=tf.int32)
    kb = tf.get_variable("kb", shape=[2], dtype=tf.bool)
    assert ki.initializer.inputs[1].name == "ki/Initializer/zeros:0"
    assert kb.initializer.inputs[1].name == "kb/Initializer/zeros:0"
    vi, vb = run_init(ki, kb)
    np.testing.assert_array_equal(vi, np.zeros((2, 3), np.int32))
    np.testing.assert_array_equal(vb, [False, False])


def test_default_float_initializer_is_glorot_uniform():
    v = tf.get_variable("v", shape=[30, 50])
    assert v.initializer.inputs[1].op.name.startswith("v/Initializer/random_uniform")
    (val,) = run_init(v)
    limit = np.sqrt(6. / 80.)
    assert val.dtype == np.float32 and np.abs(val).max() <= limit
    assert np.abs(val).max() > 0.9 * limit and abs(val.std() - limit / np.sqrt(3.)) < 0.1 * limit


def test_scope_initializer_and_dtype_are_inherited():
    with tf.variable_scope("ini", initializer=tf.constant_initializer(5.), dtype=tf.float64) as ini:
        assert ini.dtype == tf.float64
        q = tf.get_variable("q", shape=[2])
        with tf.variable_scope("deeper"):
            q2 = tf.get_variable("q", shape=[2])
        q3 = tf.get_variable("q3", shape=[2], initializer=tf.ones_initializer(), dtype=tf.float32)
        with pytest.raises(TypeError, match="Expected int32"):  # 5.0 is no int
            tf.get_variable("qi", shape=[2], dtype=tf.int32)
    assert (q.dtype, q2.dtype, q3.dtype) == (tf.float64, tf.float64, tf.float32)
    assert q2.name == "ini/deeper/q:0"
    vq, vq2, vq3 = run_init(q, q2, q3)
    np.testing.assert_array_equal(vq, [5., 5.])
    np.testing.assert_array_equal(vq2, [5., 5.])
    np.testing.assert_array_equal(vq3, [1., 1.])


def test_trainable_and_collections():
    nt = tf.get_variable("nt", shape=[1], trainable=False, initializer=tf.ones_initializer())
    cv = tf.get_variable("cv", shape=[1], collections=["mine"], initializer=tf.ones_initializer())
    lv = tf.get_local_variable("lv", shape=[1], initializer=tf.ones_initializer())
    tv = tf.get_variable("tv", shape=[1], initializer=tf.ones_initializer())
    assert nt in tf.global_variables() and nt not in tf.trainable_variables()
    assert tf.get_collection("mine") == [cv] and cv not in tf.global_variables() and cv in tf.trainable_variables()
    assert tf.local_variables() == [lv] and lv not in tf.global_variables() and lv not in tf.trainable_variables()
    assert tf.trainable_variables() == [cv, tv]


def test_regularizers():
    with tf.variable_scope("r", regularizer=lambda v: tf.identity(v, name="l2")):
        rv = tf.get_variable("rv", shape=[], initializer=tf.zeros_initializer())
        tf.get_variable("rv2", shape=[], initializer=tf.zeros_initializer(), regularizer=tf.no_regularizer)
        tf.get_variable("rv3", shape=[], initializer=tf.zeros_initializer(),
                        regularizer=lambda v: tf.identity(v, name="own"))
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert [t.name for t in losses] == ["r/rv/Regularizer/l2:0", "r/rv3/Regularizer/own:0"]
    assert losses[0].op.inputs[0] is rv.value()


def test_custom_getters_compose_inner_first():
    calls = []

    def getter(tag):
        def g(getter, name, *args, **kwargs):
            calls.append((tag, name, kwargs["shape"]))
            return getter(name, *args, **kwargs)
        return g

    with tf.variable_scope("cg", custom_getter=getter("outer")):
        with tf.variable_scope("cg2", custom_getter=getter("inner")):
            v = tf.get_variable("v", shape=[2], initializer=tf.zeros_initializer())
    assert calls == [("inner", "cg/cg2/v", [2]), ("outer", "cg/cg2/v", [2])]
    assert v.name == "cg/cg2/v:0"

    def renaming(getter, name, *args, **kwargs):
        return getter(name + "_renamed", *args, **kwargs)
    assert tf.get_variable("w", shape=[], initializer=tf.zeros_initializer(),
                           custom_getter=renaming).name == "w_renamed:0"


def test_partitioner_is_rejected():
    with pytest.raises(ValueError, match="Partitioned variables are not supported"):
        tf.get_variable("p", shape=[4], initializer=tf.zeros_initializer(), partitioner=lambda *a, **k: [2])


def test_variable_scopes_are_per_graph():
    with tf.variable_scope("s"):
        v1 = tf.get_variable("v", shape=[], initializer=tf.zeros_initializer())
        with tf.Graph().as_default():
            assert tf.get_variable_scope().name == ""
            v2 = tf.get_variable("v", shape=[], initializer=tf.zeros_initializer())
        assert tf.get_variable_scope().name == "s"
    assert (v1.name, v2.name) == ("s/v:0", "v:0") and v1.graph is not v2.graph


def test_partition_info_only_goes_to_initializers_that_name_it():
    got = []

    def init(shape, dtype=None, **kwargs):
        got.append(kwargs)
        return np.ones(shape)

    v = tf.get_variable("v", shape=[2], initializer=init)
    assert got == [{}]
    np.testing.assert_array_equal(run_init(v)[0], [1., 1.])
