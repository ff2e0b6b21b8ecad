"""Forward values of every op-table row against NumPy, fed through placeholders and as constants; in
eager mode the row runs eagerly and must equal the graph mode's result."""
import numpy as np
import pytest

import tideflow as tf
from tideflow.eager.context import eager_mode
from eager_rows import build_eagerly
from op_table import ROWS

CASES = [(row, shapes, dt) for row in ROWS for shapes in row.shapes for dt in row.dtypes]


def _id(case):
    row, shapes, dt = case
    return "%s-%s-%s" % (row.name, "x".join(str(list(s)) for s in shapes).replace(" ", ""), dt)


def _check(r, expected, row, dt):
    r = np.asarray(r)
    assert r.shape == expected.shape, (r.shape, expected.shape)
    assert r.dtype == expected.dtype or expected.dtype == np.float64 and r.dtype == np.float32, (r.dtype, expected.dtype)
    np.testing.assert_allclose(r, expected.astype(r.dtype) if r.dtype != expected.dtype else expected,
                               rtol=row.rtol if dt != "float32" else max(row.rtol, 1e-5),
                               atol=row.atol if dt != "float32" else max(row.atol, 1e-5))


@pytest.mark.parametrize("mode", ["graph", "eager"])
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_forward(case, mode):
    row, shapes, dt = case
    rng = np.random.RandomState(0)
    arrays = row.inputs(rng, shapes, dt)
    expected = np.asarray(row.ref(*arrays))
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
