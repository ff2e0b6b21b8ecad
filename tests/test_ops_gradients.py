"""Float64 central-difference gradient check of every differentiable op-table row: in graph mode through
the Session with tf.test.compute_gradient_error; in eager mode the GradientTape's gradient (the same C++
rules replayed on recorded values) must equal tf.gradients and the finite differences of the eager
forward pass."""
import numpy as np
import pytest

import tideflow as tf
from tideflow.eager.context import eager_mode
from eager_rows import build_eagerly
from op_table import ROWS

CASES = [(row, shapes) for row in ROWS if row.grad and "float64" in row.dtypes for shapes in row.shapes
         if all(int(np.prod(s)) > 0 for s in shapes)]


def _id(case):
    row, shapes = case
    return "%s-%s" % (row.name, "x".join(str(list(s)) for s in shapes).replace(" ", ""))


def _which(row, arrays):
    return row.grad_inputs if row.grad_inputs is not None else [
        i for i, a in enumerate(arrays) if a.dtype == np.float64]


@pytest.mark.parametrize("mode", ["graph", "eager"])
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_gradient(case, mode):
    row, shapes = case
    rng = np.random.RandomState(1)
    arrays = row.inputs(rng, shapes, "float64")
    which = _which(row, arrays)
    if mode == "eager":
        return _eager_gradient(row, arrays, which)
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), shape=a.shape) for a in arrays]
        out = row.build(tf, *phs)
        y_shape = out.shape.as_list()
        with tf.Session():
            for i in which:
                others = {p: a for j, (p, a) in enumerate(zip(phs, arrays)) if j != i}
                err = tf.test.compute_gradient_error(phs[i], arrays[i].shape, out, y_shape,
                                                     x_init_value=arrays[i], extra_feed_dict=others,
                                                     delta=1e-6)
                assert err < row.grad_tol, "input %d: gradient error %g" % (i, err)


def _eager_gradient(row, arrays, which):
    rng = np.random.RandomState(2)
    with eager_mode():
        xs = [tf.constant(a) for a in arrays]
        with tf.GradientTape() as tape:
            for i in which:
                tape.watch(xs[i])
            out = build_eagerly(row, xs)
        w = rng.uniform(0.5, 1.5, size=out.shape.as_list()).astype(out.dtype.as_numpy_dtype)
        grads = tape.gradient(out, [xs[i] for i in which], output_gradients=tf.constant(w))

        def f(vals):
            return float(np.sum(w * build_eagerly(row, [tf.constant(v) for v in vals]).numpy()))

        numeric = []
        for i in which:
            num = np.zeros_like(arrays[i])
            for k in range(arrays[i].size):
                plus = [a.copy() for a in arrays]
                minus = [a.copy() for a in arrays]
                plus[i].reshape(-1)[k] += 1e-6
                minus[i].reshape(-1)[k] -= 1e-6
                num.reshape(-1)[k] = (f(plus) - f(minus)) / 2e-6
            numeric.append(num)
    g = tf.Graph()
    with g.as_default():
        consts = [tf.constant(a) for a in arrays]
        out = row.build(tf, *consts)
        sym = tf.gradients(out, [consts[i] for i in which], grad_ys=tf.constant(w))
        with tf.Session() as sess:
            sym = sess.run([s if s is not None else tf.zeros_like(consts[i]) for s, i in zip(sym, which)])
    for k, i in enumerate(which):
        got = np.zeros_like(arrays[i]) if grads[k] is None else grads[k].numpy()
        assert got.shape == arrays[i].shape
        np.testing.assert_allclose(got, sym[k], rtol=1e-10, atol=1e-12, err_msg="input %d: tape vs tf.gradients" % i)
        err = np.max(np.abs(got - numeric[k])) if got.size else 0.0
        scale = max(1.0, float(np.max(np.abs(w)))) if w.size else 1.0
        assert err < row.grad_tol * scale * 4, "input %d: tape vs finite differences %g" % (i, err)
