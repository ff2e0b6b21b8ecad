"""Op-table rows of the linear-algebra family (cpp/ops/matmul.cc, python/tideflow/ops/linalg_ops.py)."""
import numpy as np

from .common import HALF, OpRow, add_dtypes_to_families

FLOATS = ("float32", "float64")
NUMERIC = ("float32", "float64", "int32", "int64")


def _t(x):
    return np.swapaxes(x, -1, -2)


def _matmul_rows():
    rows = []
    for ta in (False, True):
        for tb in (False, True):
            a_shape = (4, 3) if ta else (3, 4)
            b_shape = (5, 4) if tb else (4, 5)

            def build(tf, a, b, ta=ta, tb=tb):
                return tf.matmul(a, b, transpose_a=ta, transpose_b=tb)

            def ref(a, b, ta=ta, tb=tb):
                return np.matmul(_t(a) if ta else a, _t(b) if tb else b)

            shapes = [(a_shape, b_shape), ((1, 1), (1, 1))]
            if not (ta or tb):
                shapes += [((0, 3), (3, 2)), ((2, 0), (0, 3))]  # empty output; empty inner dim gives zeros
            rows.append(OpRow("matmul[ta=%d,tb=%d]" % (ta, tb), build, ref, shapes, dtypes=NUMERIC, rtol=1e-4,
                              atol=1e-5, low=-3, high=3))
    return rows


def _batch_rows():
    rows = []
    cases = [((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
             ((1, 3, 4), (2, 4, 2))]
    for ax in (False, True):
        for ay in (False, True):
            shapes = [(_tshape(x) if ax else x, _tshape(y) if ay else y) for x, y in cases]

            def build(tf, a, b, ax=ax, ay=ay):
                return tf.matmul(a, b, adjoint_a=ax, adjoint_b=ay)

            def ref(a, b, ax=ax, ay=ay):
                return np.matmul(_t(a) if ax else a, _t(b) if ay else b)

            rows.append(OpRow("matmul_batched[adj_a=%d,adj_b=%d]" % (ax, ay), build, ref,
                              shapes if not (ax or ay) else shapes[:3], dtypes=NUMERIC, rtol=1e-4, atol=1e-5,
                              low=-3, high=3))
    return rows


def _tshape(s):
    return s[:-2] + (s[-1], s[-2])


def _well_conditioned(rng, shapes, dtype):
    out = []
    for s in shapes:
        n = s[-1]
        a = rng.uniform(-1, 1, size=s) + np.eye(n) * (n + 1)
        out.append(a.astype(dtype))
    return out


ROWS = _matmul_rows() + _batch_rows() + [
    OpRow("matmul[python_operand]", lambda tf, a: tf.matmul(a, [[1.0], [2.0], [3.0]]),
          lambda a: a @ np.array([[1.0], [2.0], [3.0]]),
          [((2, 3),)], rtol=1e-4),
    OpRow("matrix_inverse", lambda tf, x: tf.matrix_inverse(x), np.linalg.inv,
          [((3, 3),), ((2, 4, 4),), ((1, 1),)], make=_well_conditioned, rtol=1e-4, atol=1e-5),
    OpRow("matrix_inverse[adjoint]", lambda tf, x: tf.matrix_inverse(x, adjoint=True),
          lambda x: np.linalg.inv(_t(x)), [((3, 3),), ((2, 2, 2),)], make=_well_conditioned, rtol=1e-4, atol=1e-5),
    OpRow("tensordot[axes=1]", lambda tf, a, b: tf.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1),
          [((2, 3, 4), (4, 5))], rtol=1e-4),
    OpRow("tensordot[pairs]", lambda tf, a, b: tf.tensordot(a, b, [[0, 2], [2, 0]]),
          lambda a, b: np.tensordot(a, b, [[0, 2], [2, 0]]), [((2, 3, 4), (4, 5, 2))], rtol=1e-4),
    OpRow("trace", lambda tf, x: tf.trace(x), lambda x: np.trace(x, axis1=-2, axis2=-1),
          [((3, 3),), ((2, 3, 4),)]),
    OpRow("norm", lambda tf, x: tf.norm(x), lambda x: np.linalg.norm(x.reshape(-1)), [((2, 3),), ((4,),)],
          avoid=lambda a: [a[0] + np.where(a[0] >= 0, 0.1, -0.1).astype(a[0].dtype)]),
    OpRow("norm[ord=1,axis=1]", lambda tf, x: tf.norm(x, ord=1, axis=1), lambda x: np.abs(x).sum(axis=1),
          [((2, 3),)], avoid=lambda a: [a[0] + np.where(a[0] >= 0, 0.2, -0.2).astype(a[0].dtype)]),
]

# MatMul and BatchMatMulV2 run float16 and bfloat16 through float32 (Note [computing in float32]) and int16,
# as TensorFlow's CPU kernels.
add_dtypes_to_families(ROWS, ["matmul", "matmul_batched", "tensordot", "trace"], HALF, only_with="float32")
add_dtypes_to_families(ROWS, ["matrix_inverse"], ("float16",), only_with="float32")
