"""Reductions and linear algebra beyond the op table: build-time and run-time errors, SumToShape (the
gradient driver's unbroadcast), tie-splitting and second-order gradients, unknown shapes, big inputs."""
import numpy as np
import pytest

import tideflow as tf
from tideflow.framework import ops as _ops


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


def _run(fetches, feed=None):
    with tf.Session() as s:
        return s.run(fetches, feed)


# ---- build-time errors name the node, the user's line and the shapes ----

def test_matmul_inner_dim_mismatch_is_value_error_at_build():
    a = tf.placeholder(tf.float32, [2, 3], name="a")
    b = tf.placeholder(tf.float32, [4, 5], name="b")
    with pytest.raises(ValueError) as e:
        tf.matmul(a, b, name="product")
    msg = str(e.value)
    assert "Dimensions must be equal, but are 3 and 4" in msg
    assert "'product' (MatMul)" in msg
    assert "(2, 3)" in msg and "(4, 5)" in msg
    assert "test_reduce_matmul.py" in msg


def test_matmul_transposed_shapes_are_checked():
    a = tf.placeholder(tf.float32, [3, 2])
    b = tf.placeholder(tf.float32, [5, 3])
    assert tf.matmul(a, b, transpose_a=True, transpose_b=True).shape.as_list() == [2, 5]
    with pytest.raises(ValueError, match="but are 3 and 5"):
        tf.matmul(a, b, transpose_a=True)


def test_matmul_rank_and_dtype_errors():
    with pytest.raises(ValueError, match="Only one of transpose_a and adjoint_a"):
        tf.matmul(np.ones((2, 2), np.float32), [[1.0]], transpose_a=True, adjoint_a=True)
    a = tf.placeholder(tf.float32, [2, 3])
    b = tf.placeholder(tf.float64, [3, 2])
    with pytest.raises(TypeError):
        tf.matmul(a, b)
    with pytest.raises(TypeError):
        tf.matmul(tf.placeholder(tf.bool, [2, 2]), tf.placeholder(tf.bool, [2, 2]))


def test_batch_matmul_errors():
    x = tf.placeholder(tf.float32, [2, 3, 4])
    with pytest.raises(ValueError, match="but are 4 and 5"):
        tf.matmul(x, tf.placeholder(tf.float32, [5, 2]))
    with pytest.raises(ValueError, match="Batch dimensions must be broadcastable"):
        tf.matmul(x, tf.placeholder(tf.float32, [3, 4, 2]))
    y = tf.matmul(x, tf.placeholder(tf.float32, [None, 1, 4, 2]))
    assert y.shape.as_list() == [None, 2, 3, 2]


def test_matmul_runtime_mismatch_is_invalid_argument():
    a = tf.placeholder(tf.float32, [None, None])
    b = tf.placeholder(tf.float32, [None, None])
    y = tf.matmul(a, b)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Matrix size-incompatible"):
        _run(y, {a: np.ones((2, 3)), b: np.ones((4, 2))})


def test_matmul_unknown_rank_uses_batch_matmul():
    a = tf.placeholder(tf.float64)
    b = tf.placeholder(tf.float64)
    y = tf.matmul(a, b)
    assert y.op.type == "BatchMatMulV2"
    av, bv = np.random.RandomState(0).randn(2, 3, 4), np.random.RandomState(1).randn(4, 2)
    np.testing.assert_allclose(_run(y, {a: av, b: bv}), av @ bv)


def test_matmul_large_float32_matches_numpy():
    rng = np.random.RandomState(0)
    a, b = rng.randn(300, 200).astype(np.float32), rng.randn(200, 100).astype(np.float32)
    np.testing.assert_allclose(_run(tf.matmul(a, b)), a @ b, rtol=1e-4, atol=1e-3)
    x = rng.randn(64, 8, 8).astype(np.float32)  # many small matrices: the parallel batch path
    np.testing.assert_allclose(_run(tf.matmul(x, x, adjoint_b=True)), x @ np.swapaxes(x, 1, 2), rtol=1e-4,
                               atol=1e-4)


def _run_threads(fetches, threads, feed=None):
    cfg = tf.ConfigProto(inter_op_parallelism_threads=threads, intra_op_parallelism_threads=threads)
    with tf.Session(config=cfg) as s:
        return s.run(fetches, feed)


@pytest.mark.parametrize("w", range(1, 17))
@pytest.mark.parametrize("rows", [1024, 1029, 5003])
def test_skinny_products_match_float64(w, rows):
    # X @ theta and X^T g with a handful of columns run on hand kernels (Note [skinny products]): every
    # width up to 16, row counts that leave a ragged tail, on one thread and two.
    rng = np.random.RandomState(w)
    x, theta, g = (rng.randn(rows, w).astype(np.float32), rng.randn(w, 1).astype(np.float32),
                   rng.randn(rows, 1).astype(np.float32))
    want_y = x.astype(np.float64) @ theta.astype(np.float64)
    want_g = x.T.astype(np.float64) @ g.astype(np.float64)
    for threads in (1, 2):
        y, xg = _run_threads([tf.matmul(x, theta), tf.matmul(x, g, transpose_a=True)], threads)
        np.testing.assert_allclose(y, want_y, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(xg, want_g, rtol=1e-5, atol=1e-3)


def test_skinny_product_ignores_neighbouring_rows():
    # The kernel loads 8 floats per row; lanes beyond the row hold the next row. An inf there must not
    # turn the row's product into NaN (0 * inf).
    x = np.ones((2048, 3), np.float32)
    x[1::2] = np.inf
    y = _run(tf.matmul(x, np.ones((3, 1), np.float32)))
    np.testing.assert_array_equal(y[0::2], 3.0)
    assert np.isinf(y[1::2]).all()


@pytest.mark.parametrize("m,n,k,ta,tb", [(300, 1000, 80, False, False), (1000, 300, 80, True, False),
                                         (260, 517, 90, False, True), (517, 260, 90, True, True),
                                         (4000, 1, 300, False, False), (1, 4000, 300, False, True),
                                         (300, 1, 4000, True, False)])
def test_products_split_across_threads_match(m, n, k, ta, tb):
    # Large products are cut into blocks of C, one per thread (Note [one thread pool]).
    rng = np.random.RandomState(1)
    a = rng.randn(*((k, m) if ta else (m, k))).astype(np.float32)
    b = rng.randn(*((n, k) if tb else (k, n))).astype(np.float32)
    want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
    got = [_run_threads(tf.matmul(a, b, transpose_a=ta, transpose_b=tb), t) for t in (1, 2)]
    for g in got:
        np.testing.assert_allclose(g, want, rtol=1e-4, atol=1e-3)


def test_singular_inverse_is_invalid_argument():
    x = tf.placeholder(tf.float64, [2, 3, 3])
    inv = tf.matrix_inverse(x)
    good = np.eye(3) * 2
    assert np.allclose(_run(inv, {x: np.stack([good, good])}), np.eye(3) / 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Input is not invertible."):
        _run(inv, {x: np.stack([good, np.ones((3, 3))])})


def test_inverse_of_non_square_is_value_error():
    with pytest.raises(ValueError, match="square"):
        tf.matrix_inverse(tf.placeholder(tf.float32, [3, 4]))
    with pytest.raises(TypeError):
        tf.matrix_inverse(tf.placeholder(tf.int32, [3, 3]))


def test_inverse_gradient_matches_tensorflow_rule():
    rng = np.random.RandomState(2)
    a = rng.randn(3, 3) + 4 * np.eye(3)
    x = tf.placeholder(tf.float64, [3, 3])
    w = rng.randn(3, 3)
    g = tf.gradients(tf.reduce_sum(tf.matrix_inverse(x) * w), x)[0]
    ainv = np.linalg.inv(a)
    np.testing.assert_allclose(_run(g, {x: a}), -ainv.T @ w @ ainv.T, rtol=1e-10)


# ---- reductions ----

def test_invalid_reduction_axis():
    x = tf.placeholder(tf.float32, [2, 3])
    with pytest.raises(ValueError, match="Invalid reduction dimension 2 for input with 2 dimensions"):
        tf.reduce_sum(x, axis=2)
    axes = tf.placeholder(tf.int32, [None])
    y = tf.reduce_sum(x, axis=axes)
    assert y.shape.ndims is None
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid reduction dimension -3"):
        _run(y, {x: np.ones((2, 3)), axes: [-3]})


def test_reduction_dtype_errors():
    with pytest.raises(TypeError):
        tf.reduce_sum(tf.placeholder(tf.bool, [2]))
    with pytest.raises(TypeError):
        tf.reduce_any(tf.placeholder(tf.float32, [2]))
    with pytest.raises(ValueError, match="both 'keep_dims' and 'keepdims'"):
        tf.reduce_sum([1.0], keepdims=True, keep_dims=True)
    with pytest.raises(ValueError, match="both 'axis' and 'reduction_indices'"):
        tf.reduce_sum([1.0], axis=0, reduction_indices=0)


def test_reduction_names_and_static_shapes():
    x = tf.placeholder(tf.float32, [None, 3, 4])
    s = tf.reduce_sum(x, axis=[1])
    assert s.op.type == "Sum" and s.op.name == "Sum"
    assert s.shape.as_list() == [None, 4]
    m = tf.reduce_mean(x, axis=-1, keepdims=True, name="avg")
    assert m.op.name == "avg" and m.shape.as_list() == [None, 3, 1]
    assert tf.reduce_max(x).shape.as_list() == []
    assert tf.argmax(x, 1).shape.as_list() == [None, 4]
    assert tf.argmax(x, 1).dtype == tf.int64
    assert tf.argmin(x, 1, output_type=tf.int32).dtype == tf.int32


def test_unknown_rank_reduce_all_axes():
    x = tf.placeholder(tf.float32)
    y = tf.reduce_sum(x)
    assert _run(y, {x: np.ones((2, 3, 4))}) == 24


def test_integer_mean_truncates_like_tensorflow():
    x = tf.constant([[-3, 1], [7, 1]], dtype=tf.int32)
    np.testing.assert_array_equal(_run(tf.reduce_mean(x, axis=1)), [-1, 4])
    assert _run(tf.reduce_mean(x)).dtype == np.int32


def test_empty_reductions_give_identities():
    x = tf.placeholder(tf.float32, [0, 3])
    z = np.zeros((0, 3), np.float32)
    s, p, mx, mn = _run([tf.reduce_sum(x, 0), tf.reduce_prod(x, 0), tf.reduce_max(x, 0), tf.reduce_min(x, 0)], {x: z})
    np.testing.assert_array_equal(s, [0, 0, 0])
    np.testing.assert_array_equal(p, [1, 1, 1])
    assert np.all(mx == -np.inf) and np.all(mn == np.inf)
    assert np.all(np.isnan(_run(tf.reduce_mean(x, 0), {x: z})))
    a = tf.placeholder(tf.bool, [0])
    assert _run(tf.reduce_all(a), {a: np.zeros(0, bool)}) and not _run(tf.reduce_any(a), {a: np.zeros(0, bool)})


def test_argmax_of_empty_axis_is_invalid_argument():
    x = tf.placeholder(tf.float32, [2, None])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Reduction axis 1 is empty"):
        _run(tf.argmax(x, 1), {x: np.zeros((2, 0))})


def test_big_reductions_match_numpy():
    """Long rows (chunked across threads), long columns (tiled) and non-contiguous axis sets."""
    rng = np.random.RandomState(0)
    v = rng.randn(3, 200000)
    np.testing.assert_allclose(_run(tf.reduce_sum(v, 1)), v.sum(1), rtol=1e-10)
    np.testing.assert_allclose(_run(tf.reduce_sum(v)), v.sum(), rtol=1e-9)
    c = rng.randn(50000, 7)
    np.testing.assert_allclose(_run(tf.reduce_max(c, 0)), c.max(0))
    f = rng.randn(30, 40, 50, 6).astype(np.float32)
    np.testing.assert_allclose(_run(tf.reduce_mean(f, [0, 2])), f.mean((0, 2)), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(_run(tf.argmin(c, 0)), c.argmin(0))


def test_max_gradient_splits_ties_equally():
    x = tf.placeholder(tf.float64, [2, 3])
    g = tf.gradients(tf.reduce_max(x, axis=1), x)[0]
    got = _run(g, {x: [[1.0, 3.0, 3.0], [5.0, 5.0, 5.0]]})
    np.testing.assert_allclose(got, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def test_prod_gradient():
    x = tf.placeholder(tf.float64, [3])
    g = tf.gradients(tf.reduce_prod(x), x)[0]
    np.testing.assert_allclose(_run(g, {x: [2.0, 3.0, 4.0]}), [12.0, 8.0, 6.0])


def test_prod_gradient_is_exact_at_zeros():
    # The product of the other elements of each group, as TF's cumprod-based rule gives: no inf or NaN.
    x = tf.placeholder(tf.float32, [2, 3, 2])
    g = tf.gradients(tf.reduce_prod(x, axis=[0, 2]), x)[0]
    xv = np.arange(1, 13, dtype=np.float32).reshape(2, 3, 2)
    xv[0, 0, 1] = 0            # one zero in group 0: only that element gets a nonzero gradient
    xv[1, 1, 0] = xv[0, 1, 1] = 0  # two zeros in group 1: every gradient is zero
    want = np.zeros_like(xv)
    for j in range(3):
        grp = xv[:, j, :]
        for a in range(2):
            for b in range(2):
                want[a, j, b] = np.prod(np.delete(grp.ravel(), a * 2 + b))
    got = _run(g, {x: xv})
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.isfinite(got).all() and got[0, 0, 1] == 1 * 7 * 8 and (got[:, 1, :] == 0).all()


def test_prod_second_order_matches_the_formula():
    # d/dx_j of sum_i d prod/dx_i = sum over i != j of prod of the others but i and j.
    x = tf.placeholder(tf.float64, [4])
    h = tf.gradients(tf.reduce_sum(tf.gradients(tf.reduce_prod(x), x)[0]), x)[0]
    xv = np.array([1.5, -2.0, 0.5, 3.0])
    want = [sum(np.prod(np.delete(xv, [i, j])) for i in range(4) if i != j) for j in range(4)]
    np.testing.assert_allclose(_run(h, {x: xv}), want)


def test_second_order_through_mean():
    """d/dx sum(d/dx mean(x^3)) = 6x / n: differentiates ReduceGradBroadcast (into Mean)."""
    x = tf.placeholder(tf.float64, [2, 2])
    g = tf.gradients(tf.reduce_mean(x * x * x), x)[0]
    h = tf.gradients(tf.reduce_sum(g * g), x)[0]  # d/dx sum((3x^2/4)^2) = 2 * (3x^2/4) * (6x/4)
    xv = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(_run(h, {x: xv}), 2 * (3 * xv ** 2 / 4) * (6 * xv / 4))


def test_logsumexp_is_stable():
    x = tf.constant([[1000.0, 1000.0], [-1000.0, -1000.0]], dtype=tf.float64)
    np.testing.assert_allclose(_run(tf.reduce_logsumexp(x, axis=1)), [1000 + np.log(2), -1000 + np.log(2)])


# ---- SumToShape: the gradient driver's unbroadcast ----

def _sum_to(gv, like_shape, dtype=tf.float64):
    g = tf.placeholder(dtype, [None] * np.ndim(gv))
    like = tf.placeholder(dtype, [None] * len(like_shape))
    return _run(_ops.apply1("SumToShape", [g, like]), {g: gv, like: np.zeros(like_shape)})


@pytest.mark.parametrize("g_shape,like_shape", [((2, 3), (3,)), ((2, 3), (2, 1)), ((5, 2, 3), (1, 3)),
                                                ((2, 3), ()), ((4, 1, 3), (4, 1, 3)), ((3, 4, 5), (3, 1, 5)),
                                                ((2, 3, 4, 5), (3, 1, 1))])
def test_sum_to_shape(g_shape, like_shape):
    gv = np.random.RandomState(0).randn(*g_shape)
    lead = len(g_shape) - len(like_shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(like_shape) if d == 1 and g_shape[lead + i] != 1)
    expected = gv.sum(axis=axes, keepdims=True).reshape(like_shape) if axes else gv
    got = _sum_to(gv, like_shape)
    assert got.shape == like_shape
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_sum_to_shape_errors():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Cannot sum a tensor of shape \[2,3\] down to shape \[4\]"):
        _sum_to(np.ones((2, 3)), (4,))
    with pytest.raises(ValueError, match="larger rank"):
        _ops.apply1("SumToShape", [tf.placeholder(tf.float32, [3]), tf.placeholder(tf.float32, [2, 3])])


def test_sum_to_shape_static_shape_is_like_shape():
    g = tf.placeholder(tf.float32, [None, 3])
    like = tf.placeholder(tf.float32, [1, 3])
    assert _ops.apply1("SumToShape", [g, like]).shape.as_list() == [1, 3]


def test_driver_unbroadcasts_gradients():
    x = tf.placeholder(tf.float64, [2, 3])
    b = tf.placeholder(tf.float64, [3])
    c = tf.placeholder(tf.float64, [])
    gb, gc = tf.gradients(tf.reduce_sum(x * b + c), [b, c])
    xv = np.arange(6.0).reshape(2, 3)
    got_b, got_c = _run([gb, gc], {x: xv, b: np.ones(3), c: 1.0})
    np.testing.assert_allclose(got_b, xv.sum(0))
    assert got_c == 6.0


def test_batch_matmul_gradient_sums_broadcast_batch():
    rng = np.random.RandomState(0)
    xv, wv = rng.randn(4, 2, 3), rng.randn(3, 5)
    x = tf.placeholder(tf.float64, [4, 2, 3])
    w = tf.placeholder(tf.float64, [3, 5])
    gw = tf.gradients(tf.reduce_sum(tf.matmul(x, w)), w)[0]
    np.testing.assert_allclose(_run(gw, {x: xv, w: wv}), np.einsum("bij,ik->jk", xv, np.ones((2, 5))), rtol=1e-12)


def test_cumprod_gradient_follows_tensorflow_at_zeros():
    # TF's rule divides by x with div_no_nan, so an element equal to 0 gets gradient 0 (TF's choice).
    xv = np.array([2.0, 0.0, 3.0, 4.0])
    x = tf.placeholder(tf.float64, [4])
    g = _run(tf.gradients(tf.reduce_sum(tf.cumprod(x)), x)[0], {x: xv})
    want = [1 + 0 + 0 + 0, 0.0, 0.0, 0.0]  # d/dx0 (x0 + x0x1 + ...) = 1 + x1 + x1x2 + ... with x1 = 0
    np.testing.assert_allclose(g, want)
    tfr = pytest.importorskip("tensorflow")
    with tfr.Graph().as_default():
        xt = tfr.constant(xv)
        gt = tfr.gradients(tfr.reduce_sum(tfr.math.cumprod(xt)), xt)[0]
        with tfr.compat.v1.Session() as s:
            np.testing.assert_allclose(g, s.run(gt))
