"""Debugging ops: tf.Assert and tf.assert_*, check_numerics (and its gradient), add_check_numerics_ops,
tf.Print and tf.print; message formats compared with TensorFlow where it is installed."""
import re
import sys

import numpy as np
import pytest

import tideflow as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default():
        yield


def _fails(sess, fetch, feed=None, error=tf.errors.InvalidArgumentError):
    with pytest.raises(error) as e:
        sess.run(fetch, feed)
    return e.value.message


# ---- Assert and the assert_* family ----

def test_assert_passes_and_fails_with_tf_message():
    x = tf.placeholder(tf.float32, name="x")
    a = tf.Assert(tf.reduce_all(x > 0), ["x is", x, "count", tf.size(x)])
    assert a.type == "Assert" and a.name == "Assert/Assert" and a.outputs == []
    with tf.Session() as sess:
        assert sess.run(a, {x: [1.0, 2.0]}) is None
        msg = _fails(sess, a, {x: [1.0, -2.0, 3.5, 4.0]})
        assert msg.startswith("assertion failed: [x is] [1 -2 3.5...] [count] [4]\n")
        assert "'Assert/Assert' (Assert)" in msg and "test_debug_ops.py" in msg
        # the session stays usable after the failed step
        assert sess.run(a, {x: [3.0]}) is None
        assert sess.run(tf.size(x), {x: [1.0, 2.0]}) == 2


def test_assert_summarize_and_layouts():
    c = tf.placeholder(tf.bool, [])
    data = [tf.constant(np.arange(24, dtype=np.int64).reshape(2, 3, 4)), tf.constant([True, False, True]),
            tf.constant(np.zeros((0, 3), np.float32)), tf.constant(["a\nb", "q'\""]), tf.constant(np.float32(1 / 3)),
            tf.constant(np.float64(0.1) + 0.2), tf.constant([np.nan, np.inf, -np.inf], dtype=tf.float32)]
    with tf.Session() as sess:
        msg = _fails(sess, tf.Assert(c, data), {c: False}).split("\n")[0]
        assert msg == ("assertion failed: [[[0 1 2...]]...] [1 0 1] [] [a\\nb q\\'\\\"] [0.333333343] "
                       "[0.30000000000000004] [nan inf -inf]")
        msg = _fails(sess, tf.Assert(c, data[:1], summarize=6), {c: False}).split("\n")[0]
        assert msg == "assertion failed: [[[0 1 2 3][4 5...]]...]"
        msg = _fails(sess, tf.Assert(c, data[:1], summarize=-1), {c: False}).split("\n")[0]
        assert msg.endswith("[20 21 22 23]]]")


def test_assert_condition_must_be_a_bool_scalar():
    with pytest.raises(TypeError):
        tf.Assert(tf.constant(1.0), ["x"])
    c = tf.placeholder(tf.bool)
    with tf.Session() as sess:
        assert "should be a scalar" in _fails(sess, tf.Assert(c, ["x"]), {c: [True, True]})


@pytest.mark.parametrize("fn,sym,good,bad", [
    (tf.assert_equal, "==", ([1, 2], [1, 2]), ([1, 2], [1, 3])),
    (tf.assert_none_equal, "!=", ([1, 2], [3, 4]), ([1, 2], [3, 2])),
    (tf.assert_less, "<", ([1, 2], [2, 3]), ([1, 2], [2, 2])),
    (tf.assert_less_equal, "<=", ([1, 2], [1, 2]), ([1, 3], [1, 2])),
    (tf.assert_greater, ">", ([2, 3], [1, 2]), ([2, 2], [1, 2])),
    (tf.assert_greater_equal, ">=", ([2, 3], [2, 3]), ([2, 1], [2, 3])),
])
def test_binary_asserts(fn, sym, good, bad):
    x = tf.placeholder(tf.int32, name="x")
    y = tf.placeholder(tf.int32, name="y")
    a = fn(x, y, message="custom")
    assert a.type == "Assert" and a.name == fn.__name__ + "/Assert/Assert"
    assert getattr(tf.debugging, fn.__name__) is fn
    with tf.Session() as sess:
        sess.run(a, {x: good[0], y: good[1]})
        msg = _fails(sess, a, {x: bad[0], y: bad[1]})
    assert msg.startswith("assertion failed: [custom] [Condition x %s y did not hold element-wise:] [x (x:0) = ] "
                          "[%s] [y (y:0) = ] [%s]" % (sym, " ".join(map(str, bad[0])), " ".join(map(str, bad[1]))))


@pytest.mark.parametrize("fn,sym,good,bad", [
    (tf.assert_positive, ">", [1.0, 2.0], [1.0, 0.0]),
    (tf.assert_negative, "<", [-1.0], [-1.0, 0.0]),
    (tf.assert_non_negative, ">=", [0.0, 1.0], [0.0, -1.0]),
    (tf.assert_non_positive, "<=", [0.0, -1.0], [0.0, 1.0]),
])
def test_sign_asserts(fn, sym, good, bad):
    x = tf.placeholder(tf.float32, name="x")
    a = fn(x)
    assert a.name.startswith(fn.__name__ + "/")
    with tf.Session() as sess:
        sess.run(a, {x: good})
        msg = _fails(sess, a, {x: bad})
        assert msg.startswith("assertion failed: [] [Condition x %s 0 did not hold element-wise:] [x (x:0) = ] "
                              % sym)
        assert "[Pfx.  ]" in _fails(sess, fn(x, message="Pfx"), {x: bad})


def test_assert_in_control_dependencies():
    x = tf.placeholder(tf.float32, [None], name="x")
    with tf.control_dependencies([tf.assert_positive(x, message="x must be positive")]):
        y = tf.sqrt(x)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {x: [4.0, 9.0]}), [2.0, 3.0])
        msg = _fails(sess, y, {x: [4.0, -1.0]})
        assert "x must be positive" in msg and "[4 -1]" in msg
        np.testing.assert_allclose(sess.run(y, {x: [1.0]}), [1.0])


def test_asserts_on_constants_fail_at_build_time():
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        tf.assert_equal(tf.constant([1, 2]), tf.constant([1, 3]), message="mm")
    assert re.fullmatch(r"mm\nCondition x == y did not hold element-wise:\nx \(Const:0\) = \n\[1 2\]\n"
                        r"y \(Const_1:0\) = \n\[1 3\]", e.value.message)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"mm\.  \nCondition x > 0"):
        tf.assert_positive(tf.constant([1, -1]), message="mm")
    ok = tf.assert_equal(tf.constant([1, 2]), [1, 2])  # a Python value takes the tensor's dtype
    with tf.Session() as sess:
        sess.run(ok)
    v = tf.constant(3.0)
    assert tf.assert_equal(v, v).type == "NoOp"


def test_assert_rank_and_type():
    with pytest.raises(ValueError, match=r"^mm\.  Tensor Const:0 must have rank 2\.  Received rank 1, shape"):
        tf.assert_rank(tf.constant([1, -1]), 2, message="mm")
    assert tf.assert_rank(tf.placeholder(tf.float32, [None, 3]), 2).name.endswith("static_checks_determined_all_ok")
    with pytest.raises(ValueError, match="rank at least 3"):
        tf.assert_rank_at_least(tf.placeholder(tf.float32, [None, 3]), 3)
    z = tf.placeholder(tf.int32, name="z")
    a = tf.debugging.assert_rank(z, 2)
    with tf.Session() as sess:
        sess.run(a, {z: [[1]]})
        msg = _fails(sess, a, {z: [1, 2]})
        assert msg.startswith("assertion failed: [] [Tensor z:0 must have rank] [2] [Received shape: ] [2]")
    with pytest.raises(TypeError, match=r"^mm\.  Const_1:0 must be of type tf\.float32; got tf\.int32"):
        tf.assert_type(tf.constant([1]), tf.float32, message="mm")
    assert tf.assert_type(tf.constant([1.0]), tf.float32).type == "NoOp"
    with pytest.raises(TypeError):
        tf.assert_integer(tf.constant(1.0))
    with pytest.raises(ValueError, match="Expected scalar shape"):
        tf.assert_scalar(tf.constant([1.0]))


# ---- check_numerics ----

@pytest.mark.parametrize("value,what", [([1.0, np.nan], "NaN"), ([np.inf, 1.0], "Inf"),
                                        ([np.nan, -np.inf], "Inf and NaN")])
def test_check_numerics(value, what):
    x = tf.placeholder(tf.float32, name="x")
    c = tf.check_numerics(x, "my msg")
    assert c.op.type == "CheckNumerics" and tf.debugging.check_numerics is tf.check_numerics
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(c, {x: [1.0, 2.0]}), [1.0, 2.0])
        msg = _fails(sess, c, {x: value})
        assert msg.startswith("my msg : Tensor had %s values\n" % what) and "'CheckNumerics'" in msg
        np.testing.assert_array_equal(sess.run(c * 2.0, {x: [1.5]}), [3.0])


def test_check_numerics_rejects_integers():
    with pytest.raises(TypeError):
        tf.check_numerics(tf.constant([1, 2]), "m")


def test_check_numerics_gradient_catches_non_finite_gradients():
    x = tf.placeholder(tf.float64, name="x")
    c = tf.check_numerics(x, "on x")
    (g,) = tf.gradients(tf.log(c), x)
    (g_nan,) = tf.gradients(c * tf.constant(np.nan, tf.float64), x)
    assert "CheckNumerics" in [op.type for op in tf.get_default_graph().get_operations()
                               if op.name.startswith("gradients/")]
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(g, {x: [2.0]}), [0.5])
        msg = _fails(sess, g, {x: [0.0, 1.0]})
        assert msg.startswith("Not a number (NaN) or infinity (Inf) values detected in gradient. on x : "
                              "Tensor had Inf values")
        assert "Tensor had NaN values" in _fails(sess, g_nan, {x: [1.0]})


def test_verify_tensor_all_finite():
    x = tf.placeholder(tf.float32)
    v = tf.verify_tensor_all_finite(x, "vmsg")
    assert v.op.type == "Identity" and v.op.name == "VerifyFinite/control_dependency"
    w = tf.debugging.assert_all_finite(x * 2.0, "wmsg")
    with tf.Session() as sess:
        assert sess.run(v, {x: 2.0}) == 2.0
        assert _fails(sess, v, {x: np.inf}).startswith("vmsg : Tensor had Inf values")
        assert _fails(sess, w, {x: np.nan}).startswith("wmsg : Tensor had NaN values")


def test_add_check_numerics_ops():
    x = tf.placeholder(tf.float32, name="x")
    y = tf.log(x, name="lg")
    z = tf.reduce_sum(y, name="total")
    check = tf.add_check_numerics_ops()
    n_checks = sum(op.type == "CheckNumerics" for op in tf.get_default_graph().get_operations())
    assert n_checks == 3  # x, lg, total (the int32 reduction axes are not checked)
    with tf.Session() as sess:
        sess.run([z, check], {x: [1.0, 2.0]})
        msg = _fails(sess, [z, check], {x: [1.0, -1.0]})
        assert msg.startswith("lg:0 : Tensor had NaN values")
        assert sess.run(z, {x: [1.0, -1.0]}) != sess.run(z, {x: [1.0, -1.0]})  # unchecked fetches still run


# ---- tf.Print and tf.print ----

def test_Print_writes_message_and_data_to_stderr(capfd):  # noqa: N802
    x = tf.placeholder(tf.float32, name="x")
    p = tf.Print(x, [x, "str", tf.constant([[1, 2], [3, 4]])], message="MSG: ", summarize=2)
    assert p.op.type == "Print" and p.dtype == tf.float32
    with tf.Session() as sess:
        capfd.readouterr()
        np.testing.assert_array_equal(sess.run(p * 2.0, {x: [1.0, 2.0, 3.0]}), [2.0, 4.0, 6.0])
    assert capfd.readouterr().err == "MSG: [1 2...][str][[1 2]...]\n"


def test_Print_first_n_counts_per_session(capfd):  # noqa: N802
    x = tf.placeholder(tf.int32, name="x")
    p = tf.Print(x, [x], first_n=2)
    capfd.readouterr()
    with tf.Session() as sess:
        for i in range(4):
            sess.run(p, {x: i})
    assert capfd.readouterr().err == "[0]\n[1]\n"
    with tf.Session() as sess:
        sess.run(p, {x: 7})
    assert capfd.readouterr().err == "[7]\n"


def test_Print_gradient_flows_to_the_input_only():  # noqa: N802
    x = tf.placeholder(tf.float32, name="x")
    d = tf.placeholder(tf.float32, name="d")
    p = tf.Print(x, [d], first_n=0)
    gx, gd = tf.gradients(p * 3.0, [x, d])
    assert gd is None
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(gx, {x: [1.0, 2.0], d: 0.0}), [3.0, 3.0])


def test_print_in_control_dependencies(capfd):
    x = tf.constant(np.arange(10))
    with tf.control_dependencies([tf.print("x:", x, {"k": x[:2]}, [1, x[0]])]):
        y = x * 3
    p_out = tf.print(x, output_stream=sys.stdout, summarize=-1, sep=",", end="END")
    p2 = tf.print(tf.constant(1.5), tf.constant(["a", "b"]), sep="|")
    assert p_out.type == "PrintV2" and p_out.outputs == []
    capfd.readouterr()
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y), np.arange(10) * 3)
        sess.run(p_out)
        sess.run(p2)
    out, err = capfd.readouterr()
    assert err == "x: [0 1 2 ... 7 8 9] {'k': [0 1]} [1, 0]\n1.5|[\"a\" \"b\"]\n"
    assert out == "[0 1 2 3 4 5 6 7 8 9]END"


def test_print_summarizes_each_dimension(capfd):
    m = tf.constant(np.arange(100).reshape(10, 10))
    p = tf.print(m, summarize=2)
    capfd.readouterr()
    with tf.Session() as sess:
        sess.run(p)
    assert capfd.readouterr().err == "[[0 1 ... 8 9]\n [10 11 ... 18 19]\n ...\n [80 81 ... 88 89]\n [90 91 ... 98 99]]\n"


def test_print_to_file_and_bad_stream(tmp_path):
    path = tmp_path / "out.txt"
    p = tf.print("v", tf.constant(2), output_stream="file://" + str(path))
    with tf.Session() as sess:
        sess.run(p)
        sess.run(p)
    assert path.read_text() == "v 2\nv 2\n"
    with pytest.raises(ValueError, match="Unsupported output stream"):
        tf.print("x", output_stream=object())


def test_string_format():
    s = tf.strings.format("a={} b={}", [tf.constant([1, 2]), tf.constant("q")])
    with tf.Session() as sess:
        assert sess.run(s) == b'a=[1 2] b="q"'
    with pytest.raises(ValueError, match="placeholder"):
        tf.strings.format("{}", [tf.constant(1), tf.constant(2)])


# ---- against TensorFlow ----

def test_messages_and_printing_match_tensorflow(capfd):
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    values = [np.float32(1 / 3), np.arange(24, dtype=np.int64).reshape(2, 3, 4), np.array([True, False]),
              np.array(["a\nb", "c\\"]), np.zeros((0, 2), np.float32), np.arange(7, dtype=np.int32).reshape(7, 1),
              np.array([0.1, 1e20, np.nan, -np.inf]), np.float32(123456789.0)]

    def build(t):
        c = t.placeholder(t.bool, [])
        consts = [t.constant(v) for v in values]
        x = t.placeholder(t.float32, name="x")
        fetches = [t.Assert(c, ["msg"] + consts), t.Assert(c, consts, summarize=5),
                   t.assert_less(x, t.zeros_like(x), message="m"), t.check_numerics(x, "cn")]
        prints = [t.print("p:", *consts, sep="|", output_stream=sys.stdout),
                  t.print(*consts[:2], summarize=1, output_stream=sys.stdout)]
        feed = lambda: {c: False, x: [np.nan, 1.0, np.inf, 2.0]}  # noqa: E731
        return fetches, prints, feed

    def collect(t, sess, built):
        fetches, prints, feed = built
        msgs = []
        for f in fetches:
            with pytest.raises(t.errors.InvalidArgumentError) as e:
                sess.run(f, feed())
            msgs.append(re.search(r"(assertion failed: .*|cn : .*)", e.value.message).group(1))
        capfd.readouterr()
        for p in prints:
            sess.run(p)
        return msgs, capfd.readouterr().out

    with tf1.Graph().as_default() as g:
        built = build(tf1)
        with tf1.Session(graph=g) as sess:
            want = collect(tf1, sess, built)
    built = build(tf)
    with tf.Session() as sess:
        got = collect(tf, sess, built)
    assert got[0] == want[0]
    assert got[1] == want[1]
