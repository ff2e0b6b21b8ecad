"""Float64 central-difference gradient check of every differentiable op-table row, run through the
Session with tf.test.compute_gradient_error."""
import numpy as np
import pytest

import tideflow as tf
from op_table import ROWS

CASES = [(row, shapes) for row in ROWS if row.grad and "float64" in row.dtypes for shapes in row.shapes
         if all(int(np.prod(s)) > 0 for s in shapes)]


def _id(case):
    row, shapes = case
    return "%s-%s" % (row.name, "x".join(str(list(s)) for s in shapes).replace(" ", ""))


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_gradient(case):
    row, shapes = case
    rng = np.random.RandomState(1)
    arrays = row.inputs(rng, shapes, "float64")
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), shape=a.shape) for a in arrays]
        out = row.build(tf, *phs)
        which = row.grad_inputs if row.grad_inputs is not None else [
            i for i, a in enumerate(arrays) if a.dtype == np.float64]
        y_shape = out.shape.as_list()
        with tf.Session() as sess:
            feed = {p: a for p, a in zip(phs, arrays)}
            for i in which:
                others = {p: a for j, (p, a) in enumerate(zip(phs, arrays)) if j != i}
                err = tf.test.compute_gradient_error(phs[i], arrays[i].shape, out, y_shape,
                                                     x_init_value=arrays[i], extra_feed_dict=others,
                                                     delta=1e-6)
                assert err < row.grad_tol, "input %d: gradient error %g" % (i, err)
    del feed
