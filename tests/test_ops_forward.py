"""Forward values of every op-table row against NumPy, fed through placeholders and as constants. The
8- and 16-bit dtypes run on a row's first two sample shapes (op_table/common.py: add_dtypes)."""
import numpy as np
import pytest

import tideflow as tf
from op_table import ROWS
from op_table.common import reference, tolerances

_WIDE = ("float32", "float64", "int32", "int64", "bool", "string")
CASES = [(row, shapes, dt) for row in ROWS for dt in row.dtypes
         for shapes in (row.shapes if dt in _WIDE else row.shapes[:2])]


def _id(case):
    row, shapes, dt = case
    return "%s-%s-%s" % (row.name, "x".join(str(list(s)) for s in shapes).replace(" ", ""), dt)


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_forward(case):
    row, shapes, dt = case
    rng = np.random.RandomState(0)
    arrays = row.inputs(rng, shapes, dt)
    expected = reference(row, arrays, dt)
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), shape=a.shape) for a in arrays]
        out = row.build(tf, *phs)
        consts = [tf.constant(a) for a in arrays]
        out_c = row.build(tf, *consts)
        assert out.shape.is_compatible_with(expected.shape), (out.shape, expected.shape)
        with tf.Session() as sess:
            got = sess.run(out, dict(zip(phs, arrays)))
            got_c = sess.run(out_c)
    rtol, atol = tolerances(row, dt)
    for r in (got, got_c):
        r = np.asarray(r)
        assert r.shape == expected.shape, (r.shape, expected.shape)
        assert r.dtype == expected.dtype or expected.dtype == np.float64 and r.dtype == np.float32, (r.dtype, expected.dtype)
        if r.dtype.kind == "V" or r.dtype == np.float16:  # compare 16-bit floats as float32 (ml_dtypes' bfloat16)
            r, want = r.astype(np.float32), expected.astype(np.float32)
        else:
            want = expected.astype(r.dtype) if r.dtype != expected.dtype else expected
        np.testing.assert_allclose(r, want, rtol=rtol, atol=atol)
