"""Op-table rows of the linalg family beyond products (cpp/ops/linalg.cc, python/tideflow/ops/linalg_ops.py).
Factorizations get well-conditioned inputs: SPD matrices for Cholesky, diagonally dominant ones for solves
and determinants, so the float64 finite differences are accurate."""
import numpy as np

from .common import OpRow

ALL = ("float32", "float64", "int32", "int64")
FLOATS = ("float32", "float64")


def _t(x):
    return np.swapaxes(x, -1, -2)


def _dominant(a):
    n = a.shape[-1]
    return a + np.eye(n) * (n + 1)


def _make_dominant(rng, shapes, dtype):
    """First input diagonally dominant, the others (right-hand sides) uniform in [-1, 1]."""
    out = [_dominant(rng.uniform(-1, 1, size=shapes[0]))]
    out += [rng.uniform(-1, 1, size=s) for s in shapes[1:]]
    return [a.astype(dtype) for a in out]


def _make_spd(rng, shapes, dtype):
    """First input symmetric positive definite (B B^T + n I), the others uniform in [-1, 1]."""
    b = rng.uniform(-1, 1, size=shapes[0])
    out = [b @ _t(b) + np.eye(shapes[0][-1]) * shapes[0][-1]]
    out += [rng.uniform(-1, 1, size=s) for s in shapes[1:]]
    return [a.astype(dtype) for a in out]


def _sym(tf, a):
    # Cholesky reads one triangle; symmetrizing in the graph makes finite differences see both.
    return 0.5 * (a + tf.matrix_transpose(a))


def _np_matrix_diag(d):
    n = d.shape[-1]
    return d[..., None] * np.eye(n, dtype=d.dtype)


def _np_set_diag(x, d):
    out = x.copy()
    k = min(x.shape[-2:])
    idx = np.arange(k)
    out[..., idx, idx] = d
    return out


def _np_band(x, lo, up):
    m, n = x.shape[-2:]
    i, j = np.arange(m)[:, None], np.arange(n)[None, :]
    keep = ((lo < 0) | (i - j <= lo)) & ((up < 0) | (j - i <= up))
    return np.where(keep, x, np.zeros_like(x))


def _np_diag(x):
    n = x.size
    return np.diag(x.reshape(-1)).reshape(x.shape + x.shape)


def _np_diag_part(x):
    h = x.shape[:x.ndim // 2]
    n = int(np.prod(h))
    return np.diagonal(x.reshape(n, n)).reshape(h)


def _slogdet(x):
    return np.linalg.slogdet(x)


def _band_rows():
    rows = []
    for lo, up in ((0, -1), (-1, 0), (1, 0), (0, 2), (-1, -1), (0, 0)):
        rows.append(OpRow("matrix_band_part[%d,%d]" % (lo, up),
                          lambda tf, x, lo=lo, up=up: tf.matrix_band_part(x, lo, up),
                          lambda x, lo=lo, up=up: _np_band(x, lo, up),
                          [((3, 3),), ((2, 3, 4),), ((4, 2),)], ALL))
    return rows


def _solve(a, b, adjoint=False):
    return np.linalg.solve(_t(a) if adjoint else a, b)


def _tri_solve(a, b, lower=True, adjoint=False):
    m = np.tril(a) if lower else np.triu(a)
    return np.linalg.solve(_t(m) if adjoint else m, b)


ROWS = _band_rows() + [
    OpRow("matrix_diag", lambda tf, d: tf.matrix_diag(d), _np_matrix_diag, [((3,),), ((2, 4),), ((2, 0),)], ALL),
    OpRow("linalg.diag_part", lambda tf, x: tf.linalg.diag_part(x), lambda x: np.diagonal(x, 0, -2, -1).copy(),
          [((3, 3),), ((2, 3, 4),), ((2, 4, 2),), ((0, 2, 2),)], ALL),
    OpRow("matrix_set_diag", lambda tf, x, d: tf.matrix_set_diag(x, d), _np_set_diag,
          [((3, 3), (3,)), ((2, 3, 4), (2, 3)), ((2, 4, 2), (2, 2))], ALL),
    OpRow("diag", lambda tf, x: tf.diag(x), _np_diag, [((3,),), ((2, 3),), ((1, 2, 2),)], ALL),
    OpRow("diag_part", lambda tf, x: tf.diag_part(x), _np_diag_part, [((3, 3),), ((2, 3, 2, 3),)], ALL),
    OpRow("trace[batched]", lambda tf, x: tf.linalg.trace(x), lambda x: np.trace(x, axis1=-2, axis2=-1),
          [((2, 3, 3),), ((4, 2),)]),
    OpRow("matrix_determinant", lambda tf, x: tf.matrix_determinant(x), np.linalg.det,
          [((3, 3),), ((2, 4, 4),), ((1, 1),), ((2, 0, 0),)], FLOATS, make=_make_dominant, rtol=1e-4, atol=1e-4),
    OpRow("matrix_determinant[general]", lambda tf, x: tf.linalg.det(x), np.linalg.det,
          [((3, 3),), ((2, 2, 2),)], FLOATS, low=-1, high=1, rtol=1e-4, atol=1e-5, grad_tol=1e-3),
    OpRow("slogdet.log_abs_determinant", lambda tf, x: tf.linalg.slogdet(x)[1], lambda x: _slogdet(x)[1],
          [((3, 3),), ((2, 4, 4),)], FLOATS, make=_make_dominant, rtol=1e-4, atol=1e-5),
    OpRow("slogdet.sign", lambda tf, x: tf.linalg.slogdet(x)[0], lambda x: _slogdet(x)[0],
          [((3, 3),), ((2, 4, 4),), ((5, 2, 2),)], FLOATS, grad=False, low=-1, high=1),
    OpRow("cholesky", lambda tf, x: tf.cholesky(_sym(tf, x)), np.linalg.cholesky,
          [((3, 3),), ((2, 4, 4),), ((1, 1),), ((0, 2, 2),)], FLOATS, make=_make_spd, rtol=1e-4, atol=1e-5),
    OpRow("cholesky[lower_triangle_only]", lambda tf, x: tf.linalg.cholesky(x + tf.matrix_band_part(x, 0, -1)
                                                                           - tf.matrix_band_part(x, 0, 0)),
          lambda x: np.linalg.cholesky(x), [((3, 3),)], FLOATS,
          make=_make_spd, grad=False, rtol=1e-4, atol=1e-5),
    OpRow("matrix_solve", lambda tf, a, b: tf.matrix_solve(a, b), _solve,
          [((3, 3), (3, 2)), ((2, 4, 4), (2, 4, 3)), ((1, 1), (1, 1)), ((3, 3), (3, 0))], FLOATS,
          make=_make_dominant, rtol=1e-4, atol=1e-5),
    OpRow("matrix_solve[adjoint]", lambda tf, a, b: tf.linalg.solve(a, b, adjoint=True),
          lambda a, b: _solve(a, b, True), [((3, 3), (3, 2)), ((2, 4, 4), (2, 4, 1))], FLOATS,
          make=_make_dominant, rtol=1e-4, atol=1e-5),
    OpRow("cholesky_solve", lambda tf, a, b: tf.cholesky_solve(tf.cholesky(_sym(tf, a)), b), _solve,
          [((3, 3), (3, 2)), ((2, 4, 4), (2, 4, 1))], FLOATS, make=_make_spd, rtol=1e-4, atol=1e-5),
] + [
    OpRow("matrix_triangular_solve[lower=%d,adjoint=%d]" % (lower, adj),
          lambda tf, a, b, lower=lower, adj=adj: tf.matrix_triangular_solve(a, b, lower=lower, adjoint=adj),
          lambda a, b, lower=lower, adj=adj: _tri_solve(a, b, lower, adj),
          [((3, 3), (3, 2)), ((2, 4, 4), (2, 4, 3)), ((1, 1), (1, 1))], FLOATS, make=_make_dominant,
          rtol=1e-4, atol=1e-5)
    for lower in (True, False) for adj in (False, True)
]
