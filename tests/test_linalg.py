"""The linalg family (cpp/ops/linalg.cc): errors as TF raises them, static and batched shapes, tf.eye, the
tf.linalg names, and values and gradients compared with TensorFlow."""
import numpy as np
import pytest

import tideflow as tf


def run(t, feed=None):
    with tf.Session() as s:
        return s.run(t, feed)


def spd(rng, *shape):
    b = rng.uniform(-1, 1, size=shape)
    return b @ np.swapaxes(b, -1, -2) + np.eye(shape[-1]) * shape[-1]


# ---- errors ----

def test_cholesky_not_positive_definite():
    with tf.Graph().as_default():
        c = tf.cholesky(tf.constant([[1.0, 2.0], [2.0, 1.0]]))
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="Cholesky decomposition was not successful. The input might not be valid."):
            run(c)


def test_cholesky_one_bad_matrix_in_a_batch():
    a = np.stack([np.eye(2), -np.eye(2)])
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.InvalidArgumentError, match="Cholesky decomposition was not successful"):
            run(tf.cholesky(tf.constant(a)))


def test_solve_singular():
    with tf.Graph().as_default():
        x = tf.matrix_solve(tf.constant([[1.0, 2.0], [2.0, 4.0]]), tf.constant([[1.0], [2.0]]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Input matrix is not invertible."):
            run(x)


def test_triangular_solve_zero_diagonal():
    with tf.Graph().as_default():
        x = tf.matrix_triangular_solve(tf.constant([[1.0, 0.0], [2.0, 0.0]]), tf.constant([[1.0], [2.0]]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Input matrix is not invertible."):
            run(x)


@pytest.mark.parametrize("fn", [lambda x: tf.cholesky(x), lambda x: tf.matrix_determinant(x),
                                lambda x: tf.linalg.slogdet(x)[0], lambda x: tf.matrix_solve(x, x),
                                lambda x: tf.matrix_triangular_solve(x, x)])
def test_non_square_static_and_dynamic(fn):
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Dimensions must be equal"):
            fn(tf.constant(np.ones((2, 3))))
        p = tf.placeholder(tf.float64, [None, None])
        with pytest.raises(tf.errors.InvalidArgumentError, match="square"):
            run(fn(p), {p: np.ones((2, 3))})


def test_solve_shape_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
            tf.matrix_solve(tf.constant(np.eye(2)), tf.constant(np.ones((3, 1))))
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
            tf.matrix_solve(tf.constant(np.ones((2, 2, 2))), tf.constant(np.ones((3, 2, 1))))
        p = tf.placeholder(tf.float64)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Batch dimensions"):
            run(tf.matrix_solve(p, tf.constant(np.ones((3, 2, 1)))), {p: np.ones((2, 2, 2))})


def test_integer_input_rejected():
    with tf.Graph().as_default():
        with pytest.raises(TypeError):
            tf.cholesky(tf.constant([[1, 0], [0, 1]]))
        with pytest.raises(TypeError):
            tf.matrix_determinant(tf.constant([[1, 0], [0, 1]]))


def test_diag_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="at least rank 1"):
            tf.diag(tf.constant(1.0))
        with pytest.raises(ValueError, match="even"):
            tf.diag_part(tf.constant(np.ones((2, 3, 2))))
        with pytest.raises(ValueError, match="Dimensions must be equal"):
            tf.diag_part(tf.constant(np.ones((2, 3))))
        with pytest.raises(ValueError, match="at least rank 1"):
            tf.matrix_diag(tf.constant(1.0))
        with pytest.raises(ValueError):
            tf.matrix_set_diag(tf.constant(np.ones((2, 3))), tf.constant(np.ones(3)))
        p = tf.placeholder(tf.float64)
        with pytest.raises(tf.errors.InvalidArgumentError, match="diagonal.shape"):
            run(tf.matrix_set_diag(p, tf.constant(np.ones(3))), {p: np.ones((2, 3))})


def test_band_part_bounds():
    with tf.Graph().as_default():
        x = tf.constant(np.ones((3, 3)))
        with pytest.raises(tf.errors.InvalidArgumentError, match="num_lower must be negative or less or equal"):
            run(tf.matrix_band_part(x, 5, 0))
        with pytest.raises(tf.errors.InvalidArgumentError, match="num_upper"):
            run(tf.matrix_band_part(x, 0, 4))
        # int64 bounds, as TF's Tindex allows
        got = run(tf.matrix_band_part(x, tf.constant(1, tf.int64), tf.constant(0, tf.int64)))
        np.testing.assert_array_equal(got, np.tril(np.triu(np.ones((3, 3)), -1)))


# ---- shapes and special values ----

def test_static_shapes():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [None, 4, 4])
        assert tf.cholesky(p).shape.as_list() == [None, 4, 4]
        assert tf.matrix_determinant(p).shape.as_list() == [None]
        s, l = tf.linalg.slogdet(p)
        assert s.shape.as_list() == [None] and l.shape.as_list() == [None]
        r = tf.placeholder(tf.float32, [5, None, 2])
        assert tf.matrix_solve(p, r).shape.as_list() == [5, 4, 2]
        assert tf.matrix_triangular_solve(p, r).shape.as_list() == [5, 4, 2]
        q = tf.placeholder(tf.float32, [2, 3, 5])
        assert tf.matrix_diag_part(q).shape.as_list() == [2, 3]
        assert tf.matrix_diag(q).shape.as_list() == [2, 3, 5, 5]
        assert tf.diag(q).shape.as_list() == [2, 3, 5, 2, 3, 5]
        assert tf.diag_part(tf.placeholder(tf.float32, [2, None, 2, 3])).shape.as_list() == [2, 3]
        assert tf.matrix_band_part(q, 1, 1).shape.as_list() == [2, 3, 5]
        assert tf.linalg.trace(q).shape.as_list() == [2]
        u = tf.placeholder(tf.float32)
        assert tf.cholesky(u).shape.ndims is None


def test_batched_values_with_unknown_shapes():
    rng = np.random.RandomState(0)
    a = spd(rng, 2, 3, 4, 4)
    b = rng.uniform(-1, 1, size=(2, 3, 4, 2))
    with tf.Graph().as_default():
        pa, pb = tf.placeholder(tf.float64), tf.placeholder(tf.float64)
        out = run([tf.cholesky(pa), tf.matrix_determinant(pa), tf.linalg.slogdet(pa).log_abs_determinant,
                   tf.matrix_solve(pa, pb), tf.cholesky_solve(tf.cholesky(pa), pb), tf.linalg.trace(pa)],
                  {pa: a, pb: b})
    np.testing.assert_allclose(out[0], np.linalg.cholesky(a), rtol=1e-10)
    np.testing.assert_allclose(out[1], np.linalg.det(a), rtol=1e-10)
    np.testing.assert_allclose(out[2], np.linalg.slogdet(a)[1], rtol=1e-10)
    np.testing.assert_allclose(out[3], np.linalg.solve(a, b), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out[4], np.linalg.solve(a, b), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out[5], np.trace(a, axis1=-2, axis2=-1), rtol=1e-12)


def test_singular_determinants():
    with tf.Graph().as_default():
        x = tf.constant([[1.0, 2.0], [2.0, 4.0]])
        det, (sign, logdet) = run([tf.matrix_determinant(x), tf.linalg.slogdet(x)])
    assert det == 0 and sign == 0 and logdet == -np.inf


def test_empty_matrices():
    with tf.Graph().as_default():
        x = tf.constant(np.zeros((3, 0, 0)))
        det, (sign, logdet), chol = run([tf.matrix_determinant(x), tf.linalg.slogdet(x), tf.cholesky(x)])
    np.testing.assert_array_equal(det, np.ones(3))
    np.testing.assert_array_equal(sign, np.ones(3))
    np.testing.assert_array_equal(logdet, np.zeros(3))
    assert chol.shape == (3, 0, 0)


def test_cholesky_reads_only_the_lower_triangle():
    with tf.Graph().as_default():
        got = run(tf.cholesky(tf.constant([[4.0, 100.0], [2.0, 5.0]])))
    np.testing.assert_allclose(got, [[2.0, 0.0], [1.0, 2.0]])


@pytest.mark.parametrize("args,expected", [
    ((3,), np.eye(3)),
    ((2, 3), np.eye(2, 3)),
    ((3, 2, [2]), np.stack([np.eye(3, 2)] * 2)),
    ((2, None, [2, 1]), np.tile(np.eye(2), (2, 1, 1, 1))),
])
def test_eye(args, expected):
    with tf.Graph().as_default():
        e = tf.eye(*args, dtype=tf.float64)
        assert e.shape.as_list() == list(expected.shape)
        np.testing.assert_array_equal(run(e), expected)
        assert tf.linalg.eye(2).dtype == tf.float32


def test_namespaces():
    for n in ("diag", "diag_part", "set_diag", "band_part", "eye", "trace", "det", "slogdet", "cholesky", "solve",
              "triangular_solve", "cholesky_solve", "inv", "matmul"):
        assert callable(getattr(tf.linalg, n)), n
    for n in ("matrix_diag", "matrix_diag_part", "matrix_set_diag", "matrix_band_part", "diag", "diag_part", "eye",
              "matrix_determinant", "cholesky", "matrix_solve", "matrix_triangular_solve", "cholesky_solve"):
        assert callable(getattr(tf, n)), n
        assert callable(getattr(tf.compat.v1, n)), n


def test_gradient_kinds():
    from tideflow import _core
    for op in ("MatrixDiag", "MatrixDiagPart", "MatrixSetDiag", "MatrixBandPart", "Diag", "DiagPart",
               "MatrixDeterminant", "LogMatrixDeterminant", "Cholesky", "MatrixSolve", "MatrixTriangularSolve"):
        assert _core.op_gradient_kind(op) == "rule", op


# ---- against TensorFlow ----

@pytest.fixture(scope="module")
def tf_ref():
    t = pytest.importorskip("tensorflow")
    v1 = t.compat.v1
    v1.disable_eager_execution()
    return v1


def _both(tf_ref, build, arrays):
    """build(module, *constants) -> list of tensors, in TensorFlow and in tideflow."""
    out = []
    for m in (tf_ref, tf):
        with m.Graph().as_default():
            ts = build(m, *[m.constant(a) for a in arrays])
            with m.Session() as s:
                out.append(s.run(ts))
    return out


def test_values_match_tensorflow(tf_ref):
    rng = np.random.RandomState(3)
    a = spd(rng, 2, 4, 4)
    g = rng.uniform(-1, 1, size=(2, 4, 4)) + 5 * np.eye(4)
    b = rng.uniform(-1, 1, size=(2, 4, 3))

    def build(m, a, g, b):
        return [m.cholesky(a), m.matrix_determinant(g), m.linalg.slogdet(g)[0], m.linalg.slogdet(g)[1],
                m.matrix_solve(g, b), m.matrix_solve(g, b, adjoint=True),
                m.matrix_triangular_solve(g, b, lower=False, adjoint=True), m.cholesky_solve(m.cholesky(a), b),
                m.matrix_band_part(g, 1, 0), m.matrix_diag_part(b), m.matrix_diag(b),
                m.matrix_set_diag(b, m.matrix_diag_part(b) * 2.0), m.diag(b[0]), m.diag_part(m.diag(b[0])),
                m.eye(3, 2, batch_shape=[2], dtype=m.float64), m.linalg.trace(b)]

    want, got = _both(tf_ref, build, [a, g, b])
    for w, x in zip(want, got):
        np.testing.assert_allclose(x, w, rtol=1e-10, atol=1e-12)


def test_gradients_match_tensorflow(tf_ref):
    rng = np.random.RandomState(4)
    a = spd(rng, 2, 3, 3)
    g = rng.uniform(-1, 1, size=(2, 3, 3)) + 4 * np.eye(3)
    b = rng.uniform(-1, 1, size=(2, 3, 2))
    w = rng.uniform(-1, 1, size=(2, 3, 3))

    def build(m, a, g, b, w):
        ys = [m.reduce_sum(m.cholesky(a) * w), m.reduce_sum(m.matrix_determinant(g)),
              m.reduce_sum(m.linalg.slogdet(g)[1]), m.reduce_sum(m.matrix_solve(g, b) * b),
              m.reduce_sum(m.matrix_triangular_solve(g, b, lower=True, adjoint=True) * b),
              m.reduce_sum(m.matrix_set_diag(g * 2.0, m.matrix_diag_part(g) * m.matrix_diag_part(g)) * w),
              m.reduce_sum(m.matrix_band_part(g, 0, 1) * w)]
        out = []
        for y in ys:
            out += [x for x in m.gradients(y, [a, g, b]) if x is not None]
        return out

    want, got = _both(tf_ref, build, [a, g, b, w])
    assert len(want) == len(got)
    for x, y in zip(want, got):
        np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-10)
