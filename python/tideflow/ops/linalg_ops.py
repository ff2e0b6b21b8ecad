"""Linear algebra: tf.matmul, tf.matrix_inverse, tf.tensordot, tf.norm (cpp/ops/matmul.cc); diagonals, bands,
tf.eye, tf.trace, determinants, Cholesky and solves (cpp/ops/linalg.cc)."""
import collections

import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from . import array_ops, gen_ops, math_ops, reduction_ops

__all__ = ["matmul", "matrix_inverse", "tensordot", "norm", "trace", "matrix_diag", "matrix_diag_part",
           "matrix_set_diag", "matrix_band_part", "diag", "diag_part", "eye", "matrix_determinant", "cholesky",
           "matrix_solve", "matrix_triangular_solve", "cholesky_solve"]


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False, a_is_sparse=False,
           b_is_sparse=False, name=None):
    """a @ b. Rank-2 operands give a MatMul node; higher (or unknown) ranks a BatchMatMulV2 whose batch
    dimensions broadcast. For real dtypes adjoint is transpose."""
    if transpose_a and adjoint_a:
        raise ValueError("Only one of transpose_a and adjoint_a can be True.")
    if transpose_b and adjoint_b:
        raise ValueError("Only one of transpose_b and adjoint_b can be True.")
    ta = bool(transpose_a or adjoint_a)
    tb = bool(transpose_b or adjoint_b)
    with _ops.name_scope(name, "MatMul", [a, b]) as scope:
        a = _ops.convert_to_tensor(a, name="a")
        b = _ops.convert_to_tensor(b, name="b") if _ops.is_tensor(b) else _ops.convert_to_tensor(
            b, dtype=a.dtype, name="b")
        ra, rb = a.shape.ndims, b.shape.ndims
        if ra == 2 and rb == 2:
            return _ops.apply1("MatMul", [a, b], {"transpose_a": ta, "transpose_b": tb}, name=scope)
        return _ops.apply1("BatchMatMulV2", [a, b], {"adj_x": ta, "adj_y": tb}, name=scope)


_ops.Tensor._override_operator("__matmul__", lambda self, other: matmul(self, other))
_ops.Tensor._override_operator("__rmatmul__", lambda self, other: matmul(other, self))


def matrix_inverse(input, adjoint=False, name=None):  # noqa: A002 (TF's name)
    """Inverse of each square matrix in the last two dims (of its adjoint when `adjoint`). A singular
    matrix raises InvalidArgumentError "Input is not invertible." when run."""
    x = _ops.convert_to_tensor(input, name="input")
    return _ops.apply1("MatrixInverse", [x], {"adjoint": bool(adjoint)}, name=name or "MatrixInverse")


def tensordot(a, b, axes, name=None):
    """Sum over the last `axes` dims of a and the first `axes` of b (an int), or over the listed pairs
    ([a_axes, b_axes]), as one matmul of the two operands transposed and reshaped to matrices. Needs the
    contracted and free dims of both operands statically known."""
    with _ops.name_scope(name, "Tensordot", [a, b]) as scope:
        a = _ops.convert_to_tensor(a, name="a")
        b = _ops.convert_to_tensor(b, name="b")
        sa, sb = a.shape, b.shape
        if not (sa.is_fully_defined() and sb.is_fully_defined()):
            raise ValueError("tensordot needs fully defined shapes, got %s and %s" % (sa, sb))
        da, db = sa.as_list(), sb.as_list()
        if isinstance(axes, (int, np.integer)):
            if axes < 0 or axes > min(len(da), len(db)):
                raise ValueError("'axes' must be between 0 and the rank of both operands, got %d" % axes)
            ax_a, ax_b = list(range(len(da) - axes, len(da))), list(range(axes))
        else:
            ax_a, ax_b = ([x] if isinstance(x, (int, np.integer)) else list(x) for x in axes)
            ax_a = [x % len(da) for x in ax_a]
            ax_b = [x % len(db) for x in ax_b]
        if len(ax_a) != len(ax_b) or any(da[i] != db[j] for i, j in zip(ax_a, ax_b)):
            raise ValueError("tensordot: contracted dimensions do not match: %s axes %s vs %s axes %s"
                             % (sa, ax_a, sb, ax_b))
        free_a = [i for i in range(len(da)) if i not in ax_a]
        free_b = [i for i in range(len(db)) if i not in ax_b]
        k = int(np.prod([da[i] for i in ax_a]))
        ma = array_ops.reshape(array_ops.transpose(a, free_a + ax_a), [-1, k])
        mb = array_ops.reshape(array_ops.transpose(b, ax_b + free_b), [k, -1])
        out = matmul(ma, mb)
        return array_ops.reshape(out, [da[i] for i in free_a] + [db[i] for i in free_b], name=scope)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None, keep_dims=None):  # noqa: A002
    """Vector norms over `axis` (all elements when None): 'euclidean'/'fro'/2, 1, np.inf. Matrix norms
    other than Frobenius are not supported."""
    keep = reduction_ops._keep(keepdims, keep_dims)
    with _ops.name_scope(name, "norm", [tensor]):
        x = _ops.convert_to_tensor(tensor, name="tensor")
        if ord in ("euclidean", "fro", 2, 2.0):
            return gen_ops.sqrt(reduction_ops.reduce_sum(gen_ops.square(x), axis=axis, keepdims=keep))
        if ord in (1, 1.0):
            return reduction_ops.reduce_sum(gen_ops.abs(x), axis=axis, keepdims=keep)
        if ord == np.inf:
            return reduction_ops.reduce_max(gen_ops.abs(x), axis=axis, keepdims=keep)
        raise ValueError("'ord' must be 'euclidean', 'fro', 1, 2 or np.inf, got %r" % (ord,))


def trace(x, name=None):
    """Sum of the main diagonal of each matrix in the last two dims."""
    with _ops.name_scope(name, "Trace", [x]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        return reduction_ops.reduce_sum(matrix_diag_part(x), axis=[-1], name=scope)


def _only_main_diagonal(k):
    if not (isinstance(k, (int, np.integer)) and k == 0):
        raise NotImplementedError("only the main diagonal (k=0) is supported, got k=%r" % (k,))


def matrix_diag(diagonal, name="diag", k=0):
    """A batch of diagonal matrices: [..., N] -> [..., N, N]."""
    _only_main_diagonal(k)
    d = _ops.convert_to_tensor(diagonal, name="diagonal")
    return _ops.apply1("MatrixDiag", [d], name=name)


def matrix_diag_part(input, name="diag_part", k=0):  # noqa: A002 (TF's name)
    """The main diagonal of each matrix: [..., M, N] -> [..., min(M, N)]."""
    _only_main_diagonal(k)
    x = _ops.convert_to_tensor(input, name="input")
    return _ops.apply1("MatrixDiagPart", [x], name=name)


def matrix_set_diag(input, diagonal, name="set_diag", k=0):  # noqa: A002
    """`input` with the main diagonal of each matrix replaced by `diagonal` ([..., min(M, N)])."""
    _only_main_diagonal(k)
    x = _ops.convert_to_tensor(input, name="input")
    d = _ops.convert_to_tensor(diagonal, dtype=x.dtype, name="diagonal")
    return _ops.apply1("MatrixSetDiag", [x, d], name=name)


def matrix_band_part(input, num_lower, num_upper, name=None):  # noqa: A002
    """Keeps the entries at most num_lower below and num_upper above the diagonal (a negative count keeps
    that whole triangle) and zeroes the rest."""
    x = _ops.convert_to_tensor(input, name="input")
    lo = _ops.convert_to_tensor(num_lower, name="num_lower")
    up = _ops.convert_to_tensor(num_upper, name="num_upper")
    return _ops.apply1("MatrixBandPart", [x, lo, up], name=name or "MatrixBandPart")


def diag(diagonal, name=None):
    """TF's Diag: a rank-k tensor D becomes the rank-2k tensor with D on its diagonal."""
    d = _ops.convert_to_tensor(diagonal, name="diagonal")
    return _ops.apply1("Diag", [d], name=name or "Diag")


def diag_part(input, name=None):  # noqa: A002
    """The inverse of tf.diag: a rank-2k tensor whose first k dims equal its last k gives its diagonal."""
    x = _ops.convert_to_tensor(input, name="input")
    return _ops.apply1("DiagPart", [x], name=name or "DiagPart")


def eye(num_rows, num_columns=None, batch_shape=None, dtype=_dtypes.float32, name=None):
    """Identity matrices [*batch_shape, num_rows, num_columns], built as TF does: a MatrixDiag of ones, or
    for a non-square one a MatrixSetDiag of ones into zeros."""
    with _ops.name_scope(name, "eye", [num_rows, num_columns, batch_shape]):
        dtype = _dtypes.as_dtype(dtype)
        is_square = num_columns is None
        num_columns = num_rows if is_square else num_columns
        batch = [] if batch_shape is None else [int(b) for b in batch_shape]
        rows, cols = int(num_rows), int(num_columns)
        ones = array_ops.ones(batch + [min(rows, cols)], dtype=dtype)
        if is_square:
            return matrix_diag(ones)
        return matrix_set_diag(array_ops.zeros(batch + [rows, cols], dtype=dtype), ones)


def matrix_determinant(input, name=None):  # noqa: A002
    """Determinant of each square matrix in the last two dims (by LU)."""
    x = _ops.convert_to_tensor(input, name="input")
    return _ops.apply1("MatrixDeterminant", [x], name=name or "MatrixDeterminant")


LogMatrixDeterminant = collections.namedtuple("LogMatrixDeterminant", ["sign", "log_abs_determinant"])


def slogdet(input, name=None):  # noqa: A002
    """(sign, log|det|) of each square matrix; a singular one gives sign 0 and log|det| -inf."""
    x = _ops.convert_to_tensor(input, name="input")
    op = _ops.apply_op("LogMatrixDeterminant", [x], None, name or "LogMatrixDeterminant")
    return LogMatrixDeterminant(*op.outputs)


def cholesky(input, name=None):  # noqa: A002
    """Lower-triangular L with L L^T = A for each symmetric positive-definite A (only the lower triangle of A
    is read). A matrix that is not positive definite raises InvalidArgumentError when run."""
    x = _ops.convert_to_tensor(input, name="input")
    return _ops.apply1("Cholesky", [x], name=name or "Cholesky")


def matrix_solve(matrix, rhs, adjoint=False, name=None):
    """X with A X = B (A^T X = B when `adjoint`) for each square A; batch dims must match. A singular A
    raises InvalidArgumentError "Input matrix is not invertible." when run."""
    a = _ops.convert_to_tensor(matrix, name="matrix")
    b = _ops.convert_to_tensor(rhs, dtype=a.dtype, name="rhs")
    return _ops.apply1("MatrixSolve", [a, b], {"adjoint": bool(adjoint)}, name=name or "MatrixSolve")


def matrix_triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """X with A X = B (A^T X = B when `adjoint`), reading only the lower (or upper) triangle of A."""
    a = _ops.convert_to_tensor(matrix, name="matrix")
    b = _ops.convert_to_tensor(rhs, dtype=a.dtype, name="rhs")
    return _ops.apply1("MatrixTriangularSolve", [a, b], {"lower": bool(lower), "adjoint": bool(adjoint)},
                       name=name or "MatrixTriangularSolve")


def cholesky_solve(chol, rhs, name=None):
    """X with A X = B given chol = cholesky(A): two triangular solves, as TF composes it."""
    with _ops.name_scope(name, "cholesky_solve", [chol, rhs]):
        y = matrix_triangular_solve(chol, rhs, adjoint=False, lower=True)
        return matrix_triangular_solve(chol, y, adjoint=True, lower=True)
