"""tf.math and the operator overloads: TF1's conversion rules, division semantics, errors, casts, and the
gradient corner cases TensorFlow defines (ties, kinks, None gradients)."""
import re

import numpy as np
import pytest

import tideflow as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


# ---- the seed program and operator overloads ----

def test_seed_program_value_and_gradients():
    x = tf.Variable(3, name="x", dtype=tf.float32)
    y = tf.Variable(4, name="y", dtype=tf.float32)
    f = x * x * y + y + 2
    gx, gy = tf.gradients(f, [x, y])
    assert run(f) == 42.0
    assert run([gx, gy]) == [24.0, 10.0]  # 2xy, x^2 + 1
    xi = tf.Variable(3, name="xi")  # the book's int32 version
    yi = tf.Variable(4, name="yi")
    fi = xi * xi * yi + yi + 2
    assert fi.dtype == tf.int32 and run(fi) == 42


def test_binary_operators_and_names():
    a = tf.placeholder(tf.float32, [2, 3], name="a")
    b = tf.placeholder(tf.float32, [3], name="b")
    av = np.array([[-3.5, -1, 0.5], [1, 2.5, 4]], np.float32)
    bv = np.array([2, -1.5, 3], np.float32)
    cases = [(a + b, "add", av + bv), (a - b, "sub", av - bv), (a * b, "mul", av * bv),
             (a / b, "truediv", av / bv), (a // b, "floordiv", av // bv), (a % b, "mod", np.mod(av, bv)),
             (abs(a) ** b, "pow", np.abs(av) ** bv), (-a, "Neg", -av), (abs(a), "Abs", np.abs(av)),
             (a < b, "Less", av < bv), (a <= b, "LessEqual", av <= bv), (a > b, "Greater", av > bv),
             (a >= b, "GreaterEqual", av >= bv)]
    got = run([t for t, _, _ in cases], {a: av, b: bv})
    for (t, name, want), g in zip(cases, got):
        assert t.op.name.split("_")[0] == name or t.op.name == name, t.op.name
        np.testing.assert_allclose(g, want, rtol=1e-6)
        assert g.dtype == want.dtype


def test_reflected_operators_take_the_tensor_dtype():
    x = tf.placeholder(tf.float64, [3])
    xv = np.array([1.0, 2.0, 4.0])
    outs = [2 + x, 2 - x, 2 * x, 2 / x, 7 // x, 7 % x, 2 ** x]
    assert all(o.dtype == tf.float64 for o in outs)
    got = run(outs, {x: xv})
    for g, want in zip(got, [2 + xv, 2 - xv, 2 * xv, 2 / xv, 7 // xv, 7 % xv, 2 ** xv]):
        np.testing.assert_allclose(g, want)
    assert re.match(r"^sub_\d+/x$", (2 - x).op.inputs[0].op.name)


def test_python_scalars_convert_to_the_tensor_dtype():
    for dt in (tf.float32, tf.float64, tf.int32, tf.int64):
        x = tf.placeholder(dt, [2])
        y = x * 2
        assert y.dtype == dt and y.op.inputs[1].dtype == dt
        assert re.match(r"^mul(_\d+)?/y$", y.op.inputs[1].op.name)
    f = tf.placeholder(tf.float32, [2])
    assert tf.add(f, 1).dtype == tf.float32
    assert run(f * np.array([1.0, 2.0]), {f: [3, 4]}).dtype == np.float32  # float64 array adopts float32


def test_no_implicit_promotion():
    i = tf.placeholder(tf.int32, [2])
    f = tf.placeholder(tf.float32, [2], name="fl")
    with pytest.raises(TypeError):
        i * 2.5  # TF: "Expected int32 ... got 2.5"
    with pytest.raises(TypeError, match=r"'add'.*\(Add\).*float32.*int32|'add'.*int32.*float32"):
        f + i
    with pytest.raises(TypeError, match="test_math_ops.py"):  # names the user's line
        tf.multiply(f, tf.cast(i, tf.float64))
    with pytest.raises(TypeError):  # as TF: the first argument fixes the dtype
        tf.add(2, f)
    with pytest.raises(TypeError, match="not in the list of allowed values"):
        tf.sqrt(i)
    with pytest.raises(ValueError, match="None"):
        f + None


def test_eq_is_identity_and_bool_is_refused():
    x = tf.constant(1.0)
    y = tf.constant(1.0)
    assert (x == x) is True and (x == y) is False and (x != y) is True
    assert len({x, y}) == 2
    with pytest.raises(TypeError):
        bool(x > y)


def test_bool_operators():
    p = tf.constant([True, True, False, False])
    q = tf.constant([True, False, True, False])
    names_values = run([p & q, p | q, p ^ q, ~p, True & q, False | q])
    want = [[1, 0, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 1, 0], [1, 0, 1, 0]]
    for g, w in zip(names_values, want):
        np.testing.assert_array_equal(g, np.array(w, bool))
    assert [(p & q).op.name, (p | q).op.name, (p ^ q).op.name] == ["and_2", "or_2", "xor_1"]
    assert (~p).op.type == "LogicalNot"
    with pytest.raises(TypeError):
        tf.constant([1.0]) & tf.constant([2.0])


def test_variable_overloads():
    v = tf.Variable([1.0, -2.0], name="v")
    outs = [v + 1, 1 - v, v * v, v / 2, -v, abs(v), v ** 2, v > 0, 3 // v, v % 3]
    vv = np.array([1.0, -2.0], np.float32)
    want = [vv + 1, 1 - vv, vv * vv, vv / 2, -vv, np.abs(vv), vv ** 2, vv > 0, 3 // vv, vv % 3]
    for g, w in zip(run(outs), want):
        np.testing.assert_allclose(g, w)
    assert (v + 1).op.inputs[0].op.name == "v/read"


def test_matmul_operator_delegates_to_linalg():
    a = tf.constant([[1.0, 2.0]])
    b = tf.constant([[3.0], [4.0]])
    np.testing.assert_allclose(run(a @ b), [[11.0]])
    np.testing.assert_allclose(run(np.array([[1.0, 0.0]], np.float32) @ b), [[3.0]])


# ---- division ----

@pytest.mark.parametrize("dt", [tf.int32, tf.int64])
def test_int_truediv_is_float64(dt):
    x = tf.constant([7, -7, 1], dtype=dt)
    y = tf.constant([2, 2, 3], dtype=dt)
    z = x / y
    assert z.dtype == tf.float64 and z.op.type == "RealDiv" and z.op.name == "truediv"
    assert [i.op.type for i in z.op.inputs] == ["Cast", "Cast"]
    assert z.op.inputs[0].op.name == "truediv/Cast"
    np.testing.assert_allclose(run(z), [3.5, -3.5, 1 / 3])
    assert tf.truediv(x, y).dtype == tf.float64 and tf.divide(x, y).dtype == tf.float64


def test_float_truediv_and_div():
    x = tf.constant([7.0, -7.0])
    z = tf.truediv(x, 2.0)
    assert z.dtype == tf.float32 and z.op.type == "RealDiv" and z.op.inputs[0] is x
    i = tf.constant([7, -7])
    assert tf.div(i, 2).op.type == "FloorDiv" and tf.div(x, 2.0).op.type == "RealDiv"
    np.testing.assert_array_equal(run(tf.div(i, 2)), [3, -4])
    with pytest.raises(TypeError):
        tf.constant([True]) / tf.constant([True])
    assert np.isinf(run(tf.constant(1.0) / 0.0))  # float division by zero is IEEE, not an error


@pytest.mark.parametrize("dt", [np.int32, np.int64, np.float32, np.float64])
def test_floor_division_and_mod_follow_python(dt):
    xs = np.array([7, -7, 7, -7, 0, 6, -6], dt)
    ys = np.array([2, 2, -2, -2, 3, -3, 4], dt)
    q, r = run([tf.floordiv(xs, ys), tf.floormod(xs, ys)])
    assert q.dtype == dt and r.dtype == dt
    np.testing.assert_array_equal(q, [int(a) // int(b) for a, b in zip(xs, ys)])
    np.testing.assert_array_equal(r, [int(a) % int(b) for a, b in zip(xs, ys)])
    np.testing.assert_array_equal(q * ys + r, xs)
    assert run(tf.mod(tf.constant(-7.5, dtype=tf.as_dtype(dt)) if dt in (np.float32, np.float64)
                      else tf.constant(-7, dtype=tf.as_dtype(dt)), 2)) in (0.5, 1)


@pytest.mark.parametrize("dt", [np.int32, np.int64])
def test_int_min_divided_by_minus_one_does_not_trap(dt):
    lo = np.iinfo(dt).min
    q, r = run([tf.floordiv(np.array([lo, 5], dt), np.array([-1, -1], dt)),
                tf.floormod(np.array([lo, 5], dt), np.array([-1, -1], dt))])
    np.testing.assert_array_equal(q, [lo, -5])  # wraps, as TF
    np.testing.assert_array_equal(r, [0, 0])


@pytest.mark.parametrize("dt", [tf.int32, tf.int64])
@pytest.mark.parametrize("fn", [tf.floordiv, tf.floormod, tf.div])
def test_integer_division_by_zero_is_invalid_argument(dt, fn):
    x = tf.placeholder(dt, [None], name="num")
    y = tf.placeholder(dt, [None], name="den")
    z = fn(x, y)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero") as e:
        run(z, {x: [1, 2, 3], y: [1, 0, 1]})
    assert z.op.name in str(e.value)
    np.testing.assert_array_equal(run(z, {x: [4], y: [2]}), [2 if fn is not tf.floormod else 0])


def test_int_pow_negative_exponent_is_invalid_argument():
    z = tf.pow(tf.constant([2, 3]), tf.constant([3, -1]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="negative integer powers"):
        run(z)
    np.testing.assert_array_equal(run(tf.pow(tf.constant([2, -3, 0]), 3)), [8, -27, 0])


# ---- broadcasting, big tensors, buffer reuse ----

def test_broadcast_shape_errors():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        tf.add(tf.constant(np.ones((2, 3), np.float32)), tf.constant(np.ones(4, np.float32)))
    a = tf.placeholder(tf.float32, [None])
    b = tf.placeholder(tf.float32, [None])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[2\] vs. \[3\]"):
        run(a + b, {a: [1, 2], b: [1, 2, 3]})


def test_large_broadcasts_run_in_parallel_chunks():
    rng = np.random.RandomState(0)
    av = rng.randn(300, 1, 170).astype(np.float32)
    bv = rng.randn(7, 170).astype(np.float32)
    cv = rng.randn(300, 7, 1) > 0
    a, b, c = tf.constant(av), tf.constant(bv), tf.constant(cv)
    got = run([a * b, tf.maximum(a, b), tf.where(c, a, b), tf.exp(a * b), a > b])
    want = [av * bv, np.maximum(av, bv), np.where(cv, av, bv), np.exp(av * bv), av > bv]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_in_place_reuse_never_clobbers_fetched_values():
    a = tf.placeholder(tf.float64, [50000])
    av = np.linspace(-1, 1, 50000)
    t = a + 1
    u = t * 2
    w = tf.exp(u) - u
    t_v, u_v, w_v = run([t, u, w], {a: av})
    np.testing.assert_allclose(t_v, av + 1)
    np.testing.assert_allclose(u_v, 2 * (av + 1))
    np.testing.assert_allclose(w_v, np.exp(2 * (av + 1)) - 2 * (av + 1))
    np.testing.assert_array_equal(av, np.linspace(-1, 1, 50000))  # the fed array is never written


def test_in_place_reuse_never_writes_variables_or_constants():
    v = tf.Variable([1.0, 2.0])
    c = tf.constant([3.0, 4.0])
    outs = [-v, v + 1, tf.exp(c), c * 2, tf.add_n([v.value(), c, c])]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(outs)
        second = sess.run(outs)
        np.testing.assert_array_equal(sess.run(v), [1, 2])
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(run(c), [3, 4])


# ---- AddN, Cast, where, rounding ----

def test_add_n():
    xs = [tf.constant(np.full((2, 2), i, np.float32)) for i in range(1, 5)]
    np.testing.assert_allclose(run(tf.add_n(xs)), np.full((2, 2), 10))
    assert tf.add_n(xs).op.type == "AddN"
    assert tf.add_n(xs[:1]) is xs[0]
    with pytest.raises(ValueError):
        tf.add_n([])
    with pytest.raises(ValueError, match="Shapes must be equal"):
        tf.add_n([xs[0], tf.constant([1.0, 2.0, 3.0])])
    with pytest.raises(TypeError):
        tf.add_n([xs[0], tf.constant(np.ones((2, 2)))])


def test_cast_round_trips():
    f = tf.constant([-2.7, -0.5, 0.0, 0.5, 2.7])
    i = tf.cast(f, tf.int32)
    np.testing.assert_array_equal(run(i), [-2, 0, 0, 0, 2])  # truncation toward zero
    np.testing.assert_array_equal(run(tf.cast(i, tf.float32)), [-2, 0, 0, 0, 2])
    np.testing.assert_array_equal(run(tf.cast(tf.cast(f, tf.bool), tf.float64)), [1, 1, 0, 1, 1])
    big = tf.constant(np.array([2**40 + 3, -5], np.int64))
    np.testing.assert_array_equal(run(tf.cast(tf.cast(big, tf.float64), tf.int64)), [2**40 + 3, -5])
    np.testing.assert_array_equal(run(tf.cast(tf.cast(tf.constant([1, -1]), tf.int64), tf.int32)), [1, -1])
    np.testing.assert_array_equal(run(tf.cast(tf.constant([True, False]), tf.int64)), [1, 0])
    assert tf.cast(f, tf.float32) is f
    assert tf.cast(f, "float64").dtype == tf.float64
    assert tf.to_float(i).op.name == "ToFloat" and tf.to_double(i).dtype == tf.float64
    assert tf.to_int32(f).dtype == tf.int32 and tf.to_int64(f).op.name == "ToInt64"
    assert run(tf.cast(3.9, tf.int32)) == 3


def test_where_broadcasts_like_where_v2():
    c = tf.constant([True, False, True])
    x = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(run(tf.where(c, x, -1.0)), [[1, -1, 3], [4, -1, 6]])
    assert tf.where(c, x, -1.0).op.type == "Select"
    # ...and a cond of x's shape is TF1's elementwise form
    np.testing.assert_array_equal(run(tf.where(x > 2.5, x, -x)), [[-1, -2, 3], [4, 5, 6]])
    with pytest.raises(ValueError):
        tf.where(c, x)
    with pytest.raises(TypeError):
        tf.where(tf.constant([1, 0, 1]), x, x)


def test_where_without_x_and_y_gives_coordinates():
    coords = tf.where(tf.constant([[True, False], [False, True], [True, True]]))
    assert coords.dtype == tf.int64 and coords.shape.as_list() == [None, 2]
    np.testing.assert_array_equal(run(coords), [[0, 0], [1, 1], [2, 0], [2, 1]])
    np.testing.assert_array_equal(run(tf.where(tf.constant([0.0, 2.0, 0.0, -1.0]))), [[1], [3]])


def test_where_vector_condition_selects_rows_as_tf1():
    c = tf.constant([True, False])
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(run(tf.where(c, x, -x)), [[1, 2], [-3, -4]])
    cp = tf.placeholder(tf.bool, [None])
    xp = tf.placeholder(tf.float32, [None, 3])
    np.testing.assert_array_equal(run(tf.where(cp, xp, 0.0), {cp: [False, True], xp: np.ones((2, 3))}),
                                  [[0, 0, 0], [1, 1, 1]])


def test_nan_propagates_like_tf():
    nan = float("nan")
    x = tf.constant([nan, 1.0, nan, -1.0])
    y = tf.constant([1.0, nan, nan, 2.0])
    mx, mn, r = run([tf.maximum(x, y), tf.minimum(x, y), tf.relu(x)])
    np.testing.assert_array_equal(mx, [nan, nan, nan, 2.0])
    np.testing.assert_array_equal(mn, [nan, nan, nan, -1.0])
    np.testing.assert_array_equal(r, [nan, 1.0, nan, 0.0])


def test_float32_exp_sigmoid_tanh_within_a_few_ulp():
    # Vectorized float32 polynomials (Note [float32 transcendentals]) against float64 NumPy.
    x = np.concatenate([np.linspace(-105, 90, 400001), [0.0, 1e-30, -1e-30, 0.3, -0.62, 0.63, 88.7, -87.5]])
    x = x.astype(np.float32)
    x64 = x.astype(np.float64)
    e, s, t = run([tf.exp(x), tf.sigmoid(x), tf.tanh(x)])
    with np.errstate(over="ignore"):
        refs = [np.exp(x64), 1 / (1 + np.exp(-x64)), np.tanh(x64)]
        refs32 = [r.astype(np.float32) for r in refs]
    tiny = np.finfo(np.float32).tiny
    for got, ref, ref32, max_ulp in zip((e, s, t), refs, refs32, (2, 4, 3)):
        normal = np.isfinite(ref32) & (np.abs(ref32) >= tiny)
        ulps = np.abs(got[normal] - ref[normal]) / np.spacing(np.abs(ref32[normal]))
        assert ulps.max() <= max_ulp, ulps.max()
        np.testing.assert_allclose(got[~normal], ref32[~normal], atol=2e-45)  # subnormals and infinities
    special = np.array([np.inf, -np.inf, np.nan, 89.0, -200.0], np.float32)
    e, s, t = run([tf.exp(special), tf.sigmoid(special), tf.tanh(special)])
    np.testing.assert_array_equal(e, [np.inf, 0, np.nan, np.inf, 0])
    np.testing.assert_array_equal(s, [1, 0, np.nan, 1, 0])
    np.testing.assert_array_equal(t, [1, -1, np.nan, 1, -1])


def test_round_half_to_even_and_sigmoid_extremes():
    np.testing.assert_array_equal(run(tf.round(tf.constant([0.5, 1.5, 2.5, -0.5, -1.5, 2.6]))),
                                  [0, 2, 2, -0.0, -2, 3])
    assert tf.round(tf.constant([1, 2])).op.type == "Const"  # ints are already rounded
    s = run(tf.sigmoid(tf.constant([-1000.0, 1000.0], tf.float64)))
    np.testing.assert_array_equal(s, [0.0, 1.0])


# ---- gradient corner cases (TensorFlow's definitions) ----

def _grads(y, xs, feed=None):
    return run(tf.gradients(y, xs), feed)


def test_maximum_minimum_ties_go_to_x():
    x = tf.constant([1.0, 2.0, 3.0])
    y = tf.constant([1.0, 1.0, 5.0])
    gx, gy = _grads(tf.maximum(x, y), [x, y])
    np.testing.assert_array_equal(gx, [1, 1, 0])
    np.testing.assert_array_equal(gy, [0, 0, 1])
    gx, gy = _grads(tf.minimum(x, y), [x, y])
    np.testing.assert_array_equal(gx, [1, 0, 1])
    np.testing.assert_array_equal(gy, [0, 1, 0])


def test_kinks_abs_sign_relu_at_zero():
    x = tf.constant([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(_grads(tf.abs(x), [x])[0], [-1, 0, 1])
    np.testing.assert_array_equal(_grads(tf.sign(x), [x])[0], [0, 0, 0])
    np.testing.assert_array_equal(_grads(tf.relu(x), [x])[0], [0, 0, 1])


def test_pow_exponent_gradient_uses_log_of_positive_base_only():
    x = tf.constant([-2.0, 0.0, 2.0])
    y = tf.constant([2.0, 2.0, 3.0])
    gx, gy = _grads(tf.pow(x, y), [x, y])
    np.testing.assert_allclose(gx, [-4.0, 0.0, 12.0])
    np.testing.assert_allclose(gy, [0.0, 0.0, 8 * np.log(2.0)])
    assert np.all(np.isfinite(gy))


def test_select_routes_gradient_and_cond_gets_none():
    c = tf.constant([True, False, True])
    x = tf.constant([1.0, 2.0, 3.0])
    y = tf.constant([4.0, 5.0, 6.0])
    gc, gx, gy = tf.gradients(tf.where(c, x, y) * 2.0, [c, x, y])
    assert gc is None
    np.testing.assert_array_equal(run(gx), [2, 0, 2])
    np.testing.assert_array_equal(run(gy), [0, 2, 0])


def test_none_gradients_of_comparisons_and_step_functions():
    x = tf.constant([1.5, -2.5])
    for f in (tf.floor, tf.ceil, tf.round, lambda t: tf.floordiv(t, 2.0),
              lambda t: tf.cast(tf.greater(t, 0.0), tf.float32), lambda t: tf.cast(tf.equal(t, t), tf.float32)):
        assert tf.gradients(f(x), [x]) == [None]
    assert tf.gradients(tf.cast(tf.cast(x, tf.int32), tf.float32), [x]) == [None]


def test_cast_gradient_returns_to_source_dtype():
    x = tf.constant([1.0, 2.0], tf.float64)
    g = tf.gradients(tf.cast(x, tf.float32) * 3.0, [x])[0]
    assert g.dtype == tf.float64
    np.testing.assert_array_equal(run(g), [3, 3])


def test_floormod_gradient():
    x = tf.constant([7.5, -7.5])
    y = tf.constant([2.0, 2.0])
    gx, gy = _grads(tf.floormod(x, y), [x, y])
    np.testing.assert_array_equal(gx, [1, 1])
    np.testing.assert_array_equal(gy, [-3, 4])  # -floor(x / y)


def test_second_order_through_fused_gradient_kernels():
    xv = np.array([-1.3, 0.4, 2.0])
    x = tf.constant(xv)
    s = 1 / (1 + np.exp(-xv))
    t = np.tanh(xv)
    for f, d2 in ((tf.sigmoid, s * (1 - s) * (1 - 2 * s)), (tf.tanh, -2 * t * (1 - t * t)),
                  (tf.relu, np.zeros(3)), (tf.exp, np.exp(xv)), (tf.sin, -np.sin(xv)), (tf.square, 2 * np.ones(3)),
                  (tf.reciprocal, 2 / xv ** 3)):
        g1 = tf.gradients(f(x), [x])[0]
        g2 = tf.gradients(g1, [x])[0]
        np.testing.assert_allclose(run(g2), d2, rtol=1e-10, atol=1e-12, err_msg=f.__name__)


@pytest.mark.parametrize("fn", [tf.add, tf.subtract, tf.multiply, tf.truediv, tf.pow, tf.maximum, tf.minimum,
                                tf.squared_difference, tf.floormod, lambda a, b: tf.where(a > 1.0, a, b)])
def test_broadcast_gradient_wrt_full_shaped_operand(fn):
    # The other operand's gradient needs SumToShape (reductions family); the full-shaped one does not.
    rng = np.random.RandomState(3)
    av = rng.uniform(0.5, 2.0, (2, 3))
    for bv in (rng.uniform(0.5, 2.0, (3,)), np.float64(1.3), rng.uniform(0.5, 2.0, (2, 1))):
        a = tf.placeholder(tf.float64, [2, 3])
        b = tf.constant(bv)
        y = fn(a, b)
        with tf.Session():
            err = tf.test.compute_gradient_error(a, [2, 3], y, [2, 3], x_init_value=av, delta=1e-6)
        assert err < 1e-4


def test_add_n_of_one_input_is_the_input_or_a_named_identity():
    x = tf.constant([1., 2.])
    assert tf.add_n([x]) is x  # TF 1.x returns the input itself
    named = tf.add_n([x], name="total")
    assert (named.name, named.op.type) == ("total:0", "Identity")
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(named), [1., 2.])
