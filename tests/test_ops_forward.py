"""Forward values of every op-table row against NumPy, fed through placeholders and as constants; in
eager mode the row runs eagerly and must equal the graph mode's result. The 8- and 16-bit dtypes run on a
row's first two sample shapes (op_table/common.py: add_dtypes)."""
import numpy as np
import pytest

import tideflow as tf
from tideflow.eager.context import eager_mode
from eager_rows import build_eagerly
from op_table import ROWS
from op_table.common import reference, tolerances

_WIDE = ("float32", "float64", "int32", "int64", "bool", "string")
CASES = [(row, shapes, dt) for row in ROWS for dt in row.dtypes
         for shapes in (row.shapes if dt in _WIDE else row.shapes[:2])]


def _id(case):
    row, shapes, dt = case
    return "%s-%s-%s" % (row.name, "x".join(str(list(s)) for s in shapes).replace(" ", ""), dt)


def _check(r, expected, row, dt):
    r = np.asarray(r)
    assert r.shape == expected.shape, (r.shape, expected.shape)
    assert r.dtype == expected.dtype or expected.dtype == np.float64 and r.dtype == np.float32, (r.dtype, expected.dtype)
    rtol, atol = tolerances(row, dt)
    if r.dtype.kind == "V" or r.dtype == np.float16 or r.dtype.name == "bfloat16":  # compare as float32
        r, want = r.astype(np.float32), expected.astype(np.float32)
    else:
        want = expected.astype(r.dtype) if r.dtype != expected.dtype else expected
    np.testing.assert_allclose(r, want, rtol=rtol, atol=atol)


@pytest.mark.parametrize("mode", ["graph", "eager"])
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_forward(case, mode):
    row, shapes, dt = case
    rng = np.random.RandomState(0)
    arrays = row.inputs(rng, shapes, dt)
    expected = reference(row, arrays, dt)
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), shape=a.shape) for a in arrays]
        out = row.build(tf, *phs) if mode == "graph" else None
        consts = [tf.constant(a) for a in arrays]
        out_c = row.build(tf, *consts)
        if out is not None:
            assert out.shape.is_compatible_with(expected.shape), (out.shape, expected.shape)
        with tf.Session() as sess:
            got = sess.run(out, dict(zip(phs, arrays))) if out is not None else None
            got_c = sess.run(out_c)
    if mode == "graph":
        for r in (got, got_c):
            _check(r, expected, row, dt)
        return
    with eager_mode():
        e = build_eagerly(row, [tf.constant(a) for a in arrays])
        assert isinstance(e, tf.Tensor), type(e)
        assert e.shape.as_list() == list(np.shape(got_c)), (e.shape, np.shape(got_c))
        e = e.numpy()
    _check(e, expected, row, dt)
    # The same kernels on the same values: eager equals graph mode exactly.
    np.testing.assert_array_equal(np.asarray(e), np.asarray(got_c))
