"""tf.cond, tf.case, tf.switch_case and tf.while_loop in graph mode: only the branch taken runs, loops run
as one node whatever their trip count, gradients (first and, for cond, second order) against closed forms
and float64 finite differences, nesting, variables inside frames, TF1's names and errors."""
import collections

import numpy as np
import pytest

import tideflow as tf
from tideflow.ops.control_flow_util import in_frame


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def run(fetches, feed=None, init=True):
    with tf.Session() as s:
        if init:
            s.run(tf.global_variables_initializer())
        return s.run(fetches, feed)


def finite_diff(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def check_grad(y, x, feed, f, xv, rtol=1e-6):
    """tf.gradients(y, x) at x = xv against the central difference of f (a NumPy function of xv)."""
    g = tf.gradients(y, x)[0]
    feed = dict(feed)
    feed[x] = xv
    got = run(g, feed)
    np.testing.assert_allclose(got, finite_diff(f, xv), rtol=rtol, atol=1e-7)


# ---------------------------------------------------------------------------------------------------
# cond: values, names, what runs


def test_cond_picks_a_branch_and_names_its_result_like_tf1():
    x = tf.placeholder(tf.float32, [], name="x")
    y = tf.cond(x > 0, lambda: x * 3.0, lambda: x * x)
    assert y.name == "cond/Merge:0" and y.shape.ndims == 0
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert "cond/mul" in names and "cond/mul_1" in names
    assert run(y, {x: 2.0}) == 6.0 and run(y, {x: -3.0}) == 9.0


def test_untaken_branch_with_assign_does_not_run():
    v = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])

    def assigns():
        with tf.control_dependencies([tf.assign(v, 5.0)]):
            return tf.identity(v) + 1.0  # the read is ordered after the assignment

    y = tf.cond(p, assigns, lambda: tf.constant(-1.0))
    with tf.Session() as s:
        s.run(v.initializer)
        assert s.run(y, {p: False}) == -1.0
        assert s.run(v) == 0.0
        assert s.run(y, {p: True}) == 6.0
        assert s.run(v) == 5.0


def test_untaken_branch_with_failing_assert_does_not_run():
    p = tf.placeholder(tf.bool, [])

    def fails():
        with tf.control_dependencies([tf.Assert(tf.constant(False), ["boom"])]):
            return tf.constant(0.0)

    y = tf.cond(p, lambda: tf.constant(1.0), fails)
    with tf.Session() as s:
        assert s.run(y, {p: True}) == 1.0
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"assertion failed: \[boom\]"):
            s.run(y, {p: False})
        assert s.run(y, {p: True}) == 1.0  # the session stays usable


def test_stateful_op_unconnected_to_the_result_does_not_run():
    # TF1: an op inside a branch runs only when the branch's result depends on it.
    v = tf.Variable(0.0)
    never = tf.Variable(1.0)  # read only by an unconnected op: needs no initialization
    y = tf.cond(tf.constant(True), lambda: [tf.assign_add(v, 1.0), never * 2.0, tf.constant(2.0)][2],
                lambda: tf.constant(3.0))
    assert [t.op.type for t in y.op.inputs] == ["Const"]  # the If (cond/Merge) captures only the predicate
    with tf.Session() as s:
        s.run(v.initializer)
        assert s.run(y) == 2.0 and s.run(v) == 0.0


def test_cond_of_ops_returns_the_predicate_and_runs_the_op():
    v = tf.Variable(0)
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.assign_add(v, 1).op, lambda: tf.assign_add(v, 10).op)
    assert r.dtype == tf.bool
    with tf.Session() as s:
        s.run(v.initializer)
        assert s.run(r, {p: True}) and not s.run(r, {p: False})
        assert s.run(v) == 11


def test_nested_conds_and_structures():
    x = tf.placeholder(tf.float32, [])
    Pair = collections.namedtuple("Pair", "a b")

    def inner(sign):
        return tf.cond(x > 10, lambda: {"p": Pair(x, sign * x), "q": [x + 1]},
                       lambda: {"p": Pair(-x, sign * 2 * x), "q": [x - 1]})

    r = tf.cond(x > 0, lambda: inner(1.0), lambda: inner(-1.0))
    assert isinstance(r["p"], Pair) and isinstance(r["q"], list)
    for xv in (20.0, 5.0, -3.0):
        got = run(r, {x: xv})
        sign = 1.0 if xv > 0 else -1.0
        a, b, q = (xv, sign * xv, xv + 1) if xv > 10 else (-xv, sign * 2 * xv, xv - 1)
        assert (got["p"].a, got["p"].b, got["q"][0]) == (a, b, q)


def test_singletons_are_unpacked_unless_strict():
    x = tf.constant(1.0)
    assert isinstance(tf.cond(x > 0, lambda: [x], lambda: [x]), tf.Tensor)
    assert isinstance(tf.cond(x > 0, lambda: [x], lambda: [x], strict=True), list)


def test_cond_result_shape_is_what_both_branches_agree_on():
    x = tf.placeholder(tf.float32, [])
    y = tf.cond(x > 0, lambda: tf.ones([2, 3]), lambda: tf.zeros([2, 4]))
    assert y.shape.as_list() == [2, None]
    assert run(y, {x: -1.0}).shape == (2, 4)


def test_cond_errors_are_tf1s():
    x = tf.placeholder(tf.float32, [])
    with pytest.raises(TypeError, match="'pred' must not be a Python bool."):
        tf.cond(True, lambda: x, lambda: x)
    with pytest.raises(TypeError, match="does not match expected type of bool"):
        tf.cond(x, lambda: x, lambda: x)
    with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1"):
        tf.cond(tf.constant([True, False]), lambda: x, lambda: x)
    with pytest.raises(TypeError, match="'false_fn' argument required"):
        tf.cond(x > 0, lambda: x)
    with pytest.raises(TypeError, match="'true_fn' must be callable."):
        tf.cond(x > 0, x, lambda: x)
    with pytest.raises(ValueError, match="'true_fn' must have a return value."):
        tf.cond(x > 0, lambda: None, lambda: x)
    with pytest.raises(ValueError, match="must return at least one result"):
        tf.cond(x > 0, lambda: [], lambda: [])
    with pytest.raises(ValueError, match="Received float32 from 'true_fn' and int32 from 'false_fn'"):
        tf.cond(x > 0, lambda: 1.0, lambda: 1)
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        tf.cond(x > 0, lambda: (x, x), lambda: x)


def test_cond_value_cannot_be_used_or_fetched_outside():
    x = tf.placeholder(tf.float32, [])
    inside = []
    tf.cond(x > 0, lambda: inside.append(x * 3.0) or inside[0], lambda: x)
    with pytest.raises(ValueError, match="has been marked as not fetchable"):
        run(inside[0], {x: 1.0})
    with pytest.raises(ValueError, match="'cond/mul' is in a cond branch"):
        inside[0] + 1.0


def test_control_dependencies_group_identity_and_stop_gradient_inside_branches():
    x = tf.placeholder(tf.float64, [])
    v = tf.Variable(1.0, dtype=tf.float64)
    outer = tf.assign(v, 3.0)

    def branch():
        with tf.control_dependencies([outer]):  # an outer op: the cond waits for it
            r = tf.identity(v * x)
        inc = tf.assign_add(v, 1.0)
        with tf.control_dependencies([tf.group(inc)]):
            return r + tf.stop_gradient(x * x) + tf.identity(v)

    y = tf.cond(x > 0, branch, lambda: x)
    g = tf.gradients(y, x)[0]
    with tf.Session() as s:
        s.run(v.initializer)
        # 3*2 (v assigned first) + 4 (stop_gradient) + 4 (v after assign_add)
        assert s.run(y, {x: 2.0}) == 14.0
        s.run(v.initializer)
        assert s.run(g, {x: 2.0}) == 3.0  # d(v*x)/dx with v = 3; x*x is stopped


def test_outer_control_dependencies_apply_to_the_whole_cond():
    v = tf.Variable(0.0)
    with tf.control_dependencies([tf.assign(v, 7.0)]):
        y = tf.cond(tf.constant(True), lambda: tf.identity(v), lambda: tf.constant(0.0))
    with tf.Session() as s:
        s.run(v.initializer)
        assert s.run(y) == 7.0


# ---------------------------------------------------------------------------------------------------
# cond: gradients


def test_cond_gradient_closed_form_in_each_branch():
    x = tf.placeholder(tf.float32, [])
    y = tf.cond(x > 0, lambda: x * 3.0, lambda: x * x)
    g = tf.gradients(y, x)[0]
    assert run(g, {x: 2.0}) == 3.0 and run(g, {x: -3.0}) == -6.0


def test_cond_gradient_finite_differences_with_intermediates_and_captures():
    x = tf.placeholder(tf.float64, [])
    w = tf.placeholder(tf.float64, [3])
    z = tf.exp(x) * 0.5  # computed outside, used by one branch

    def heavy():
        h = tf.sin(x * w) ** 2  # intermediates the gradient needs
        return tf.reduce_sum(h * z) + tf.reduce_prod(w)

    y = tf.cond(x > 0, heavy, lambda: tf.reduce_sum(w) * x ** 3)
    wv = np.array([0.3, -1.2, 2.0])

    def f(xv):
        if xv > 0:
            return np.sum(np.sin(xv * wv) ** 2 * np.exp(xv) * 0.5) + np.prod(wv)
        return np.sum(wv) * xv ** 3

    for xv in (0.7, -0.4):
        check_grad(y, x, {w: wv}, f, xv)


def test_cond_gradient_wrt_a_variable_read_in_a_branch():
    w = tf.Variable(2.0, dtype=tf.float64)
    x = tf.placeholder(tf.float64, [])
    y = tf.cond(x > 0, lambda: w * w * x, lambda: w + x)
    g = tf.gradients(y, w)[0]
    with tf.Session() as s:
        s.run(w.initializer)
        assert s.run(g, {x: 3.0}) == 12.0 and s.run(g, {x: -1.0}) == 1.0


def test_second_order_through_cond():
    x = tf.placeholder(tf.float64, [])
    y = tf.cond(x > 0, lambda: tf.sin(x) ** 2 * x, lambda: x ** 3)
    g1 = tf.gradients(y, x)[0]
    g2 = tf.gradients(g1, x)[0]
    xv = 0.7
    got = run([g1, g2], {x: xv})
    np.testing.assert_allclose(got[0], np.sin(2 * xv) * xv + np.sin(xv) ** 2, rtol=1e-12)
    np.testing.assert_allclose(got[1], 2 * np.cos(2 * xv) * xv + 2 * np.sin(2 * xv), rtol=1e-12)
    np.testing.assert_allclose(run([g1, g2], {x: -0.7}), [3 * 0.49, -6 * 0.7], rtol=1e-12)
    h = tf.hessians(y, x)[0]
    np.testing.assert_allclose(run(h, {x: xv}), got[1], rtol=1e-12)


def test_gradient_of_nested_conds():
    x = tf.placeholder(tf.float64, [])
    y = tf.cond(x > 0, lambda: tf.cond(x > 1, lambda: tf.exp(x), lambda: x * x * x), lambda: tf.cos(x))

    def f(v):
        return np.exp(v) if v > 1 else (v ** 3 if v > 0 else np.cos(v))

    for xv in (1.5, 0.5, -0.5):
        check_grad(y, x, {}, f, xv)


# ---------------------------------------------------------------------------------------------------
# case, switch_case


def test_case_takes_the_first_true_predicate_or_the_default():
    x = tf.placeholder(tf.float32, [])
    r = tf.case([(x > 1, lambda: tf.constant(1)), (x > 0, lambda: tf.constant(2))], default=lambda: tf.constant(3))
    assert [run(r, {x: v}) for v in (2.0, 0.5, -1.0)] == [1, 2, 3]


def test_case_without_default_asserts_and_exclusive_checks():
    x = tf.placeholder(tf.float32, [])
    r = tf.case([(x > 1, lambda: tf.constant(1)), (x > 0, lambda: tf.constant(2))])
    assert run(r, {x: 0.5}) == 2
    with pytest.raises(tf.errors.InvalidArgumentError, match="None of conditions evaluated as True"):
        run(r, {x: -1.0})
    e = tf.case([(x > 1, lambda: tf.constant(1)), (x > 0, lambda: tf.constant(2))], default=lambda: tf.constant(3),
                exclusive=True)
    assert run(e, {x: 0.5}) == 2
    with pytest.raises(tf.errors.InvalidArgumentError, match="exclusive=True: more than 1 conditions"):
        run(e, {x: 2.0})
    with pytest.raises(TypeError, match="must be a 2-tuple"):
        tf.case([x > 0], default=lambda: x)


def test_switch_case_out_of_range_runs_the_default():
    i = tf.placeholder(tf.int32, [])
    r = tf.switch_case(i, [lambda: tf.constant(10), lambda: tf.constant(11)], default=lambda: tf.constant(99))
    assert [run(r, {i: k}) for k in (0, 1, 2, -1)] == [10, 11, 99, 99]
    r2 = tf.switch_case(i, {0: lambda: tf.constant(5.0), 1: lambda: tf.constant(6.0)})
    assert [run(r2, {i: k}) for k in (0, 1, 7)] == [5.0, 6.0, 6.0]
    with pytest.raises(ValueError, match="contiguous range"):
        tf.switch_case(i, {0: lambda: i, 2: lambda: i})


# ---------------------------------------------------------------------------------------------------
# while_loop: values, names, structures, errors


def test_while_loop_names_and_values_like_tf1():
    x = tf.placeholder(tf.float32, [])
    i, a = tf.while_loop(lambda i, a: i < 5, lambda i, a: (i + 1, a * x), [tf.constant(0), tf.constant(1.0)])
    assert (i.name, a.name) == ("while/Exit:0", "while/Exit_1:0")
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert {"while/Merge", "while/Identity", "while/Identity_1", "while/Less", "while/mul"} <= set(names)
    assert run([i, a], {x: 2.0}) == [5, 32.0]


def test_while_loop_structures():
    one = tf.while_loop(lambda i: i < 3, lambda i: i + 1, [tf.constant(0)])
    assert isinstance(one, tf.Tensor)
    same = tf.while_loop(lambda i: i < 3, lambda i: i + 1, [tf.constant(0)], return_same_structure=True)
    assert isinstance(same, list) and len(same) == 1
    State = collections.namedtuple("State", "i acc")
    # TF1 packs the results as the body's result: one list holding a State (three tensors, so not unpacked).
    [r] = tf.while_loop(lambda s: s.i < 4, lambda s: [State(s.i + 1, {"x": s.acc["x"] * 2, "y": s.acc["y"] + 1})],
                        [State(tf.constant(0), {"x": tf.constant(1.0), "y": tf.constant(0)})])
    assert isinstance(r, State)
    got = run(r)
    assert (got.i, got.acc["x"], got.acc["y"]) == (4, 16.0, 4)


def test_maximum_iterations():
    r = tf.while_loop(lambda i: i < 100, lambda i: i + 1, [tf.constant(0)], maximum_iterations=7)
    i, j = tf.while_loop(lambda i, j: i < 100, lambda i, j: (i + 1, j * 2), (tf.constant(0), tf.constant(1)),
                         maximum_iterations=tf.constant(5))
    assert run([r, i, j]) == [7, 5, 32]
    with pytest.raises(ValueError, match="'maximum_iterations' must be a scalar"):
        tf.while_loop(lambda i: i < 3, lambda i: i + 1, [tf.constant(0)], maximum_iterations=[1, 2])


def test_shape_invariants():
    x = tf.ones([2])
    with pytest.raises(ValueError, match=r"Input tensor 'ones:0' enters the loop with shape \(2,\), but has shape "
                                         r"\(4,\) after one iteration. To allow the shape to vary across iterations"):
        tf.while_loop(lambda a: tf.size(a) < 10, lambda a: tf.concat([a, a], 0), [x])
    with pytest.raises(ValueError, match="The shape invariant specified for ones:0 is not compatible"):
        tf.while_loop(lambda a: tf.size(a) < 10, lambda a: a, [x], shape_invariants=[tf.TensorShape([3])])
    r = tf.while_loop(lambda a: tf.size(a) < 10, lambda a: tf.concat([a, a], 0), [x],
                      shape_invariants=[tf.TensorShape([None])])
    assert r.shape.as_list() == [None]
    np.testing.assert_array_equal(run(r), np.ones(16))


def test_while_loop_errors_are_tf1s():
    i0 = tf.constant(0)
    with pytest.raises(TypeError, match="'cond' must be callable."):
        tf.while_loop(None, lambda i: i, [i0])
    with pytest.raises(TypeError, match="'parallel_iterations' must be a positive integer."):
        tf.while_loop(lambda i: i < 3, lambda i: i, [i0], parallel_iterations=0)
    with pytest.raises(ValueError, match="'loop_vars' must be provided."):
        tf.while_loop(lambda: True, lambda: 1, [])
    with pytest.raises(TypeError, match="Input 'input' of 'LoopCond' Op has type int32"):
        tf.while_loop(lambda i: i, lambda i: i + 1, [i0])
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        tf.while_loop(lambda i: i < 3, lambda i: (i + 1, i), [i0])
    with pytest.raises(TypeError, match="body returns float32"):
        tf.while_loop(lambda i: i < 3, lambda i: tf.cast(i, tf.float32), [i0])


def test_loop_values_cannot_be_used_fetched_or_fed_outside():
    inside = []

    def body(i, a):
        inside.append(a * 2.0)
        return i + 1, inside[-1]

    r = tf.while_loop(lambda i, a: i < 3, body, [tf.constant(0), tf.constant(1.0)])
    with pytest.raises(ValueError, match=r"Cannot use 'while/mul' as input to 'add' because 'while/mul' is in a "
                                         r"while loop. See info log for more details."):
        inside[0] + 1.0
    with pytest.raises(ValueError, match="Operation 'while/mul' has been marked as not fetchable"):
        run(inside[0])
    with pytest.raises(ValueError, match="Tensor while/mul:0 may not be fed."):
        run(r, {inside[0]: 3.0})

    def other_body(j):
        inside[0] + 1.0  # a value of another loop
        return j + 1

    with pytest.raises(ValueError, match="because they are in different while loops"):
        tf.while_loop(lambda j: j < 2, other_body, [tf.constant(0)])


def test_ten_thousand_iterations_in_constant_graph_size():
    def build(n):
        g = tf.Graph()
        with g.as_default():
            x = tf.placeholder(tf.float64, [])
            r = tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, a * 0.999 + x),
                              [tf.constant(0), tf.constant(0.0, tf.float64)])
        return g, x, r

    g_small, _, _ = build(10)
    g, x, (i, a) = build(10000)
    assert len(g.get_operations()) == len(g_small.get_operations())
    with tf.Session(graph=g) as s:
        got = s.run([i, a], {x: 1.0})
    assert got[0] == 10000
    np.testing.assert_allclose(got[1], (1 - 0.999 ** 10000) / 0.001, rtol=1e-10)


def test_loop_reads_see_assignments_ordered_before_them():
    counter = tf.Variable(0.0)

    def body(i, acc):
        inc = tf.assign_add(counter, 1.0)
        with tf.control_dependencies([inc]):
            seen = tf.identity(counter)  # a read of the variable after this iteration's increment
        return i + 1, acc + seen

    _, total = tf.while_loop(lambda i, acc: i < 4, body, [tf.constant(0), tf.constant(0.0)])
    with tf.Session() as s:
        s.run(counter.initializer)
        assert s.run(total) == 1 + 2 + 3 + 4
        assert s.run(counter) == 4.0
        assert s.run(total) == 5 + 6 + 7 + 8


def test_variable_created_from_a_loop_value_is_tf1s_error_and_get_variable_works():
    def body(i):
        tf.Variable(tf.cast(i, tf.float32))
        return i + 1

    with pytest.raises(ValueError, match=r"Initializer for variable while/Variable/ is from inside a control-flow "
                                         r"construct, such as a loop or conditional. When creating a variable inside "
                                         r"a loop or conditional, use a lambda as the initializer."):
        tf.while_loop(lambda i: i < 3, body, [tf.constant(0)])

    def body2(i, a):
        w = tf.get_variable("w", [], initializer=tf.constant_initializer(1.5))
        c = tf.Variable(2.0, name="c")  # a constant initial value is fine (created outside the loop)
        return i + 1, a * w + c

    _, a = tf.while_loop(lambda i, a: i < 3, body2, [tf.constant(0), tf.constant(1.0)])
    assert sorted(v.name for v in tf.global_variables()) == ["w:0", "while_1/c:0"]
    assert not any(in_frame(op) for v in tf.global_variables() for op in (v.op, v.initializer))
    assert run(a) == ((1.0 * 1.5 + 2) * 1.5 + 2) * 1.5 + 2


# ---------------------------------------------------------------------------------------------------
# while_loop: gradients


def test_gradient_of_x_to_the_fifth_via_a_five_step_loop():
    x = tf.placeholder(tf.float32, [])
    _, y = tf.while_loop(lambda i, a: i < 5, lambda i, a: (i + 1, a * x), [tf.constant(0), tf.constant(1.0)])
    g = tf.gradients(y, x)[0]
    for xv in (2.0, -1.5, 0.5):
        np.testing.assert_allclose(run(g, {x: xv}), 5 * xv ** 4, rtol=1e-6)


def test_gradient_with_a_trip_count_that_depends_on_data():
    x = tf.placeholder(tf.float64, [])
    a0 = tf.placeholder(tf.float64, [])
    n, y = tf.while_loop(lambda n, a: a < 100.0, lambda n, a: (n + 1, a * x), [tf.constant(0), a0])
    gx, ga = tf.gradients(y, [x, a0])
    for xv, av in ((2.0, 1.0), (3.0, 1.0), (1.5, 7.0)):
        k = 0
        a = av
        while a < 100.0:
            a *= xv
            k += 1
        got = run([n, y, gx, ga], {x: xv, a0: av})
        assert got[0] == k
        np.testing.assert_allclose(got[2:], [k * av * xv ** (k - 1), xv ** k], rtol=1e-12)


def test_loop_gradient_finite_differences_with_captures_and_several_variables():
    x = tf.placeholder(tf.float64, [])
    w = tf.placeholder(tf.float64, [2, 2])
    outer = tf.sin(x)

    def body(i, v, s):
        v2 = tf.tanh(tf.matmul(w, v) * x + outer)
        return i + 1, v2, s + tf.reduce_sum(v2 * v2)

    _, v, s = tf.while_loop(lambda i, v, s: i < 4, body,
                            [tf.constant(0), tf.ones([2, 1], tf.float64) * x, tf.constant(0.0, tf.float64)])
    y = tf.reduce_sum(v) + s
    wv = np.array([[0.3, -0.5], [0.8, 0.1]])

    def f(xv):
        vv = np.ones((2, 1)) * xv
        sv = 0.0
        for _ in range(4):
            vv = np.tanh(wv @ vv * xv + np.sin(xv))
            sv += np.sum(vv * vv)
        return np.sum(vv) + sv

    check_grad(y, x, {w: wv}, f, 0.6)
    gw = tf.gradients(y, w)[0]
    eps = 1e-6
    num = np.zeros((2, 2))
    with tf.Session() as s:
        for r in range(2):
            for c in range(2):
                d = np.zeros((2, 2))
                d[r, c] = eps
                num[r, c] = (s.run(y, {x: 0.6, w: wv + d}) - s.run(y, {x: 0.6, w: wv - d})) / (2 * eps)
        np.testing.assert_allclose(s.run(gw, {x: 0.6, w: wv}), num, rtol=1e-6)


def test_integer_loop_variables_and_back_prop_false_give_no_gradient():
    x = tf.placeholder(tf.float32, [])
    i, a = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x), [tf.constant(0), x])
    assert tf.gradients(i, x) == [None]
    _, b = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x), [tf.constant(0), x], back_prop=False)
    assert tf.gradients(b, x) == [None]


def test_gradient_of_unused_loop_outputs_and_passthrough_variables():
    x = tf.placeholder(tf.float64, [])
    c, a, b = tf.while_loop(lambda i, a, b: i < 3, lambda i, a, b: (i + 1, a * x, b), [tf.constant(0), x, x * 2])
    ga, gb = tf.gradients(a, x)[0], tf.gradients(b, x)[0]
    assert run([ga, gb], {x: 1.5}) == pytest.approx([4 * 1.5 ** 3, 2.0])
    gab = tf.gradients([a, b], x)[0]
    assert run(gab, {x: 1.5}) == pytest.approx(4 * 1.5 ** 3 + 2.0)


def test_zero_iterations_give_identity_and_zero_gradients():
    x = tf.placeholder(tf.float64, [3])
    _, y = tf.while_loop(lambda i, a: i < 0, lambda i, a: (i + 1, a * x), [tf.constant(0), x * 2.0])
    g = tf.gradients(tf.reduce_sum(y), x)[0]
    np.testing.assert_array_equal(run(g, {x: [1.0, 2.0, 3.0]}), [2.0, 2.0, 2.0])


def test_training_an_rnn_cell_created_with_get_variable_inside_the_body():
    rng = np.random.RandomState(0)
    T, B, D, H = 5, 4, 3, 6
    X = tf.placeholder(tf.float64, [T, B, D])
    Y = tf.placeholder(tf.float64, [B, H])

    def body(t, h):
        with tf.variable_scope("cell", reuse=tf.AUTO_REUSE):
            W = tf.get_variable("W", [D + H, H], tf.float64, initializer=tf.constant_initializer(
                rng.randn(D + H, H) * 0.3))
            b = tf.get_variable("b", [H], tf.float64, initializer=tf.zeros_initializer())
        return t + 1, tf.tanh(tf.matmul(tf.concat([X[t], h], 1), W) + b)

    _, h = tf.while_loop(lambda t, h: t < T, body, [tf.constant(0), tf.zeros([B, H], tf.float64)])
    loss = tf.reduce_mean(tf.square(h - Y))
    assert [v.name for v in tf.trainable_variables()] == ["cell/W:0", "cell/b:0"]
    gW, gb = tf.gradients(loss, tf.trainable_variables())
    xs, ys = rng.randn(T, B, D), rng.randn(B, H) * 0.5
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        Wv, bv = s.run(tf.trainable_variables())

        def np_loss(Wv, bv):
            hh = np.zeros((B, H))
            for t in range(T):
                hh = np.tanh(np.concatenate([xs[t], hh], 1) @ Wv + bv)
            return np.mean((hh - ys) ** 2)

        got = s.run([loss, gW, gb], {X: xs, Y: ys})
        np.testing.assert_allclose(got[0], np_loss(Wv, bv), rtol=1e-12)
        eps = 1e-6
        for (r, c) in ((0, 0), (4, 2), (8, 5)):
            d = np.zeros_like(Wv)
            d[r, c] = eps
            np.testing.assert_allclose(got[1][r, c], (np_loss(Wv + d, bv) - np_loss(Wv - d, bv)) / (2 * eps),
                                       rtol=1e-6)
        d = np.zeros_like(bv)
        d[3] = eps
        np.testing.assert_allclose(got[2][3], (np_loss(Wv, bv + d) - np_loss(Wv, bv - d)) / (2 * eps), rtol=1e-6)


# ---------------------------------------------------------------------------------------------------
# Nesting


def test_nested_conds_inside_a_loop_against_numpy_with_gradient():
    x = tf.placeholder(tf.float64, [])

    def body(i, a):
        a2 = tf.cond(tf.equal(i % 2, 0), lambda: a * x,
                     lambda: tf.cond(a > 0, lambda: a + tf.sin(x), lambda: a - x * x))
        return i + 1, a2

    _, y = tf.while_loop(lambda i, a: i < 7, body, [tf.constant(0), tf.constant(-1.0, tf.float64)])

    def f(xv):
        a = -1.0
        for i in range(7):
            if i % 2 == 0:
                a = a * xv
            elif a > 0:
                a = a + np.sin(xv)
            else:
                a = a - xv * xv
        return a

    for xv in (1.5, -0.8):
        np.testing.assert_allclose(run(y, {x: xv}), f(xv), rtol=1e-12)
        check_grad(y, x, {}, f, xv)


def test_loops_inside_loops_against_numpy_with_gradient():
    x = tf.placeholder(tf.float64, [])

    def outer(i, a):
        _, b = tf.while_loop(lambda j, b: j < i, lambda j, b: (j + 1, b * x + tf.cos(b)), [0, a])
        return i + 1, b

    _, y = tf.while_loop(lambda i, a: i < 4, outer, [tf.constant(0), tf.constant(0.5, tf.float64)])

    def f(xv):
        a = 0.5
        for i in range(4):
            for _ in range(i):
                a = a * xv + np.cos(a)
        return a

    np.testing.assert_allclose(run(y, {x: 1.3}), f(1.3), rtol=1e-12)
    check_grad(y, x, {}, f, 1.3)


def test_loop_inside_a_cond_with_gradient():
    x = tf.placeholder(tf.float64, [])
    y = tf.cond(x > 0, lambda: tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x), [0, x])[1],
                lambda: -x)

    for xv, want in ((1.2, 4 * 1.2 ** 3), (-2.0, -1.0)):
        assert run(tf.gradients(y, x)[0], {x: xv}) == pytest.approx(want)


def test_parallel_executor_runs_frames():
    x = tf.placeholder(tf.float64, [64, 64])
    outs = []
    for k in range(4):
        _, m = tf.while_loop(lambda i, m: i < 3, lambda i, m: (i + 1, tf.matmul(m, x) * 0.01), [0, x + k])
        outs.append(tf.cond(tf.reduce_sum(m) > 0, lambda: m * 2.0, lambda: m))
    total = tf.add_n([tf.reduce_sum(o) for o in outs])
    g = tf.gradients(total, x)[0]
    xv = np.random.RandomState(1).rand(64, 64)
    cfg = tf.ConfigProto(inter_op_parallelism_threads=2, intra_op_parallelism_threads=2)
    with tf.Session(config=cfg) as s:
        got = s.run([total, g], {x: xv})
    with tf.Session(config=tf.ConfigProto(inter_op_parallelism_threads=1)) as s:
        want = s.run([total, g], {x: xv})
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)


def test_meta_graph_round_trip_keeps_frames_and_saved_values(tmp_path):
    w = tf.Variable(1.5, name="w")
    x = tf.placeholder(tf.float32, [], name="x")
    a = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * w), [tf.constant(0), x])[1]
    y = tf.cond(a > 2, lambda: tf.sin(a) * 2, lambda: a)
    g = tf.gradients(y, [w, x])  # appends saved values to the loop and the cond before export
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        want = s.run([a, y] + g, {x: 1.0})
        path = tf.train.Saver().save(s, str(tmp_path / "model"))
    for scope in ("", "copy"):
        tf.reset_default_graph()
        saver = tf.train.import_meta_graph(path + ".meta", import_scope=scope)
        gr = tf.get_default_graph()
        pre = scope + "/" if scope else ""
        fetch = [gr.get_tensor_by_name(pre + t.name) for t in [a, y] + g]
        g2 = tf.gradients(fetch[1], gr.get_tensor_by_name(pre + "x:0"))[0]  # a new gradient of the import
        with tf.Session() as s:
            if scope:
                s.run(tf.global_variables_initializer())
            else:
                saver.restore(s, path)
            got = s.run(fetch + [g2], {pre + "x:0": 1.0})
        np.testing.assert_allclose(got[:4], want, rtol=1e-6)
        np.testing.assert_allclose(got[4], want[3], rtol=1e-6)


def test_frames_may_return_outer_values_as_they_are():
    x = tf.placeholder(tf.float64, [])
    y = tf.cond(x > 0, lambda: x, lambda: x * 2)
    _, z = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, x), [0, tf.constant(0.0, tf.float64)])
    _, z0 = tf.while_loop(lambda i, a: i < 0, lambda i, a: (i + 1, x), [0, tf.constant(7.0, tf.float64)])
    g = tf.gradients([y, z, z0], x)[0]
    assert run([y, z, z0, g], {x: 3.0}) == [3.0, 3.0, 7.0, 2.0]
    assert run([y, g], {x: -3.0}) == [-6.0, 3.0]
    inner = []
    tf.cond(x > 0, lambda: inner.append(x * 5) or inner[0], lambda: x)
    with pytest.raises(ValueError, match="'false_fn' returned 'cond_1/mul:0', which belongs to another cond"):
        tf.cond(x > 0, lambda: x, lambda: inner[0])


def test_second_order_through_a_while_loop_is_a_clear_error():
    x = tf.placeholder(tf.float64, [])
    _, y = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x), [0, x])
    g = tf.gradients(y, x)[0]
    with pytest.raises(tf.errors.UnimplementedError, match="Second-order gradients of tf.while_loop"):
        tf.gradients(g, x)


def test_eager_hook_runs_python_control_flow(monkeypatch):
    # Note [eager control flow]: one predicate switches cond and while_loop to Python execution.
    from tideflow.ops import control_flow_ops
    monkeypatch.setattr(control_flow_ops, "_executing_eagerly", lambda: True)
    assert tf.cond(True, lambda: 1, lambda: 2) == 1 and tf.cond(False, lambda: [3], lambda: [4]) == 4
    assert tf.while_loop(lambda i: i < 5, lambda i: i + 2, [0]) == 6
    assert tf.while_loop(lambda i, j: i < 3, lambda i, j: (i + 1, j * 2), [0, 1]) == (3, 8)
    assert tf.while_loop(lambda i: i < 100, lambda i: i + 1, [0], maximum_iterations=4) == 4
    assert len(tf.get_default_graph().get_operations()) == 0


def test_random_ops_draw_new_numbers_each_iteration_and_each_run():
    tf.set_random_seed(7)
    _, draws = tf.while_loop(lambda i, d: i < 4,
                             lambda i, d: (i + 1, tf.concat([d, tf.random_uniform([1], seed=3)], 0)),
                             [tf.constant(0), tf.zeros([0])], shape_invariants=[tf.TensorShape([]),
                                                                               tf.TensorShape([None])])
    with tf.Session() as s:
        a, b = s.run(draws), s.run(draws)
    assert a.shape == (4,) and len(set(a.tolist())) == 4 and not np.array_equal(a, b)
