"""Linear algebra: tf.matmul, tf.matrix_inverse, tf.tensordot, tf.norm, tf.trace (cpp/ops/matmul.cc)."""
import numpy as np

from ..framework import ops as _ops
from . import array_ops, math_ops, reduction_ops

__all__ = ["matmul", "matrix_inverse", "tensordot", "norm", "trace"]


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
            return math_ops.sqrt(reduction_ops.reduce_sum(math_ops.square(x), axis=axis, keepdims=keep))
        if ord in (1, 1.0):
            return reduction_ops.reduce_sum(math_ops.abs(x), axis=axis, keepdims=keep)
        if ord == np.inf:
            return reduction_ops.reduce_max(math_ops.abs(x), axis=axis, keepdims=keep)
        raise ValueError("'ord' must be 'euclidean', 'fro', 1, 2 or np.inf, got %r" % (ord,))


def trace(x, name=None):
    """Sum of the main diagonal of each matrix in the last two dims (which must be statically known)."""
    with _ops.name_scope(name, "Trace", [x]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        d = x.shape.as_list() if x.shape.ndims is not None else None
        if d is None or len(d) < 2 or d[-1] is None or d[-2] is None:
            raise ValueError("trace needs the last two dimensions known, got %s" % x.shape)
        eye = np.eye(d[-2], d[-1], dtype=x.dtype.as_numpy_dtype)
        return reduction_ops.reduce_sum(math_ops.multiply(x, eye), axis=[-2, -1], name=scope)
