"""tf.train.AdagradDAOptimizer and its ApplyAdagradDA kernel: trajectories against a NumPy version of
TensorFlow's training_ops functor and against TensorFlow itself."""
import numpy as np
import pytest

import tideflow as tf
from tideflow import _core
from tideflow.framework import ops as tf_ops


def np_adagrad_da(a, g, lr, l1, l2, step):
    """TF's ApplyAdagradDA functor, with its grouping of the operations."""
    t = a["var"].dtype.type
    lr, l1, l2, step = t(lr), t(l1), t(l2), t(step)
    a["g_acc"] += g
    a["gg_acc"] += g * g
    denom = l2 * step * lr + np.sqrt(a["gg_acc"])
    if l1 > 0:
        a["var"] = lr * t(-1) * np.sign(a["g_acc"]) * np.maximum(np.abs(a["g_acc"]) - step * l1, t(0)) / denom
    else:
        a["var"] = lr * a["g_acc"] * t(-1) / denom


HYPER = {"l1": dict(lr=0.1, l1=0.05, l2=0.02), "no_l1": dict(lr=0.2, l1=0.0, l2=0.1)}
STEPS = 60


def _arrays(dtype, shape=(4, 3), seed=0):
    rng = np.random.RandomState(seed)
    a = {"var": rng.normal(size=shape).astype(dtype), "g_acc": rng.normal(scale=0.1, size=shape).astype(dtype),
         "gg_acc": rng.uniform(0.1, 1.0, size=shape).astype(dtype)}
    grads = [rng.normal(size=shape).astype(dtype) for _ in range(STEPS)]
    return a, grads


def _run_kernel(t, a, grads, h, dtype, first_step=1):
    """Runs the raw kernel under framework `t`, feeding the int64 global step; returns the final arrays."""
    g = t.Graph()
    with g.as_default():
        vs = {n: t.Variable(a[n], name=n) for n in ("var", "g_acc", "gg_acc")}
        grad = t.placeholder(dtype, a["var"].shape)
        step = t.placeholder(t.int64, ())
        scalars = [t.constant(h[k], dtype=dtype) for k in ("lr", "l1", "l2")]
        if t is tf:
            out = tf_ops.apply1("ApplyAdagradDA", [vs["var"]._ref(), vs["g_acc"]._ref(), vs["gg_acc"]._ref(), grad]
                                + scalars + [step])
        else:
            out = t.raw_ops.ApplyAdagradDA(var=vs["var"], gradient_accumulator=vs["g_acc"],
                                           gradient_squared_accumulator=vs["gg_acc"], grad=grad, lr=scalars[0],
                                           l1=scalars[1], l2=scalars[2], global_step=step)
        with t.Session(graph=g) as sess:
            sess.run(t.global_variables_initializer())
            for k, gr in enumerate(grads):
                # Fetching every other output keeps the buffer alive: both copy-on-write paths run.
                sess.run(out if k % 2 else out.op, {grad: gr, step: first_step + k})
            return {n: sess.run(v) for n, v in vs.items()}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", sorted(HYPER))
def test_kernel_matches_numpy(key, dtype):
    a, grads = _arrays(dtype)
    got = _run_kernel(tf, a, grads, HYPER[key], dtype)
    want = {n: v.copy() for n, v in a.items()}
    for k, gr in enumerate(grads):
        np_adagrad_da(want, gr, step=1 + k, **HYPER[key])
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    for n in want:
        assert got[n].dtype == np.dtype(dtype)
        np.testing.assert_allclose(got[n], want[n], err_msg=n, **tol)
    assert np.abs(want["var"] - a["var"]).max() > 1e-2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", sorted(HYPER))
def test_kernel_matches_tensorflow(key, dtype):
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    tf1.disable_resource_variables()
    a, grads = _arrays(dtype, seed=1)
    want = _run_kernel(tf1, a, grads, HYPER[key], dtype, first_step=3)
    got = _run_kernel(tf, a, grads, HYPER[key], dtype, first_step=3)
    tol = dict(rtol=1e-6, atol=1e-7) if dtype == "float32" else dict(rtol=1e-13, atol=1e-14)
    for n in want:
        np.testing.assert_allclose(got[n], want[n], err_msg=n, **tol)


OPTIMIZERS = {
    "default": lambda t, gs: t.train.AdagradDAOptimizer(0.1, gs),
    "l1-l2": lambda t, gs: t.train.AdagradDAOptimizer(0.3, gs, initial_gradient_squared_accumulator_value=0.5,
                                                      l1_regularization_strength=0.01,
                                                      l2_regularization_strength=0.05),
    "l2-named": lambda t, gs: t.train.AdagradDAOptimizer(0.2, gs, l2_regularization_strength=0.1, name="DA"),
}
_CLASS_HYPER = {"default": (0.1, 0.0, 0.0, 0.1), "l1-l2": (0.3, 0.01, 0.05, 0.5), "l2-named": (0.2, 0.0, 0.1, 0.1)}


def _train(t, key, dtype, steps):
    rng = np.random.RandomState(5)
    inits = [("theta", rng.normal(size=(3, 2)).astype(dtype)), ("bias", rng.normal(size=(2,)).astype(dtype))]
    grads = [[rng.normal(size=v.shape).astype(dtype) for _ in range(steps)] for _, v in inits]
    g = t.Graph()
    with g.as_default():
        variables = [t.Variable(v, name=n) for n, v in inits]
        phs = [t.placeholder(dtype, shape=v.shape) for _, v in inits]
        step = t.train.get_or_create_global_step()
        opt = OPTIMIZERS[key](t, step)
        train = opt.apply_gradients(list(zip(phs, variables)), global_step=step)
        with t.Session(graph=g) as sess:
            sess.run(t.global_variables_initializer())
            for k in range(steps):
                sess.run(train, {p: gr[k] for p, gr in zip(phs, grads)})
            out = {v.op.name: sess.run(v) for v in variables + opt.variables()}
            return out, sess.run(step), train.name, inits, grads


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", sorted(OPTIMIZERS))
def test_optimizer_matches_numpy(key, dtype):
    steps = 50
    got, got_step, _, inits, grads = _train(tf, key, dtype, steps)
    assert got_step == steps
    # The hyperparameters pass through float32 tensors (as TF's); the slot starts at the exact value.
    lr, l1, l2 = (float(np.float32(x)) for x in _CLASS_HYPER[key][:3])
    gg0 = _CLASS_HYPER[key][3]
    for (name, init), gs in zip(inits, grads):
        a = {"var": init.copy(), "g_acc": np.zeros_like(init), "gg_acc": np.full(init.shape, gg0, dtype)}
        for k, gr in enumerate(gs):
            np_adagrad_da(a, gr, lr, l1, l2, step=k + 1)  # the step read before its increment, plus one
        tol = dict(rtol=2e-5, atol=2e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(got[name], a["var"], **tol)
        assert got[name].dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", sorted(OPTIMIZERS))
def test_optimizer_matches_tensorflow(key, dtype):
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    tf1.disable_resource_variables()
    steps = 50
    want, want_step, want_name, _, _ = _train(tf1, key, dtype, steps)
    got, got_step, got_name, _, _ = _train(tf, key, dtype, steps)
    assert sorted(got) == sorted(want)  # the same slot names
    assert got_step == want_step == steps and got_name == want_name
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    for n in want:
        assert got[n].dtype == want[n].dtype, n
        np.testing.assert_allclose(got[n], want[n], err_msg=n, **tol)


def test_slots_names_and_errors():
    assert _core.op_gradient_kind("ApplyAdagradDA") == _core.op_gradient_kind("ApplyAdam")
    with pytest.raises(ValueError, match="initial_gradient_squared_accumulator_value"):
        tf.train.AdagradDAOptimizer(0.1, None, initial_gradient_squared_accumulator_value=0.0)
    g = tf.Graph()
    with g.as_default():
        theta = tf.Variable(np.zeros((2, 2), np.float32), name="theta")
        grad = tf.placeholder(tf.float32, [2, 2])
        step = tf.train.get_or_create_global_step()
        opt = tf.train.AdagradDAOptimizer(0.1, step, initial_gradient_squared_accumulator_value=0.25)
        train = opt.apply_gradients([(grad, theta)], global_step=step)
        assert opt.get_slot_names() == ["gradient_accumulator", "gradient_squared_accumulator"]
        assert opt.get_slot(theta, "gradient_accumulator").op.name == "theta/AdagradDA"
        assert opt.get_slot(theta, "gradient_squared_accumulator").op.name == "theta/AdagradDA_1"
        assert train.name == "AdagradDA"
        assert g.get_operation_by_name("AdagradDA/update_theta/ApplyAdagradDA").type == "ApplyAdagradDA"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(opt.get_slot(theta, "gradient_squared_accumulator")),
                                          np.full((2, 2), 0.25, np.float32))
        # The kernel's step input is int64, as TF's.
        with pytest.raises(TypeError, match="int64"):
            tf.train.AdagradDAOptimizer(0.1, tf.Variable(0, name="step32")).apply_gradients([(grad, theta)])
