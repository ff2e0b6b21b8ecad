"""Optimizers: the fused Apply* kernels (cpp/train/optimizers.cc) against NumPy versions of TensorFlow's
documented formulas and against TensorFlow's own kernels; then the tf.train optimizer classes."""
import numpy as np
import pytest

import tideflow as tf
from tideflow.framework import ops as tf_ops

# ---------------------------------------------------------------------------------------------------
# NumPy references: TensorFlow's documented update formulas (training_ops.cc), in the variable's dtype.
# Each takes the arrays (var and slots, updated in place), the gradient and the hyperparameters.


def np_gradient_descent(a, g, h):
    a["var"] -= h["alpha"] * g


def np_momentum(a, g, h, nesterov=False):
    a["accum"] = a["accum"] * h["momentum"] + g
    if nesterov:
        a["var"] -= h["lr"] * (g + h["momentum"] * a["accum"])
    else:
        a["var"] -= h["lr"] * a["accum"]


def np_adam(a, g, h, nesterov=False):
    t = a["var"].dtype.type
    lr_t = h["lr"] * np.sqrt(t(1) - h["beta2_power"]) / (t(1) - h["beta1_power"])
    a["m"] = h["beta1"] * a["m"] + (t(1) - h["beta1"]) * g
    a["v"] = h["beta2"] * a["v"] + (t(1) - h["beta2"]) * g * g
    m_hat = h["beta1"] * a["m"] + (t(1) - h["beta1"]) * g if nesterov else a["m"]
    a["var"] -= lr_t * m_hat / (np.sqrt(a["v"]) + h["epsilon"])


def np_adagrad(a, g, h):
    a["accum"] += g * g
    a["var"] -= h["lr"] * g / np.sqrt(a["accum"])


def np_rmsprop(a, g, h):
    t = a["var"].dtype.type
    a["ms"] = h["rho"] * a["ms"] + (t(1) - h["rho"]) * g * g
    a["mom"] = h["momentum"] * a["mom"] + h["lr"] * g / np.sqrt(a["ms"] + h["epsilon"])
    a["var"] -= a["mom"]


def np_centered_rmsprop(a, g, h):
    t = a["var"].dtype.type
    a["mg"] = h["rho"] * a["mg"] + (t(1) - h["rho"]) * g
    a["ms"] = h["rho"] * a["ms"] + (t(1) - h["rho"]) * g * g
    a["mom"] = h["momentum"] * a["mom"] + h["lr"] * g / np.sqrt(a["ms"] - a["mg"] ** 2 + h["epsilon"])
    a["var"] -= a["mom"]


def np_adadelta(a, g, h):
    t = a["var"].dtype.type
    a["accum"] = h["rho"] * a["accum"] + (t(1) - h["rho"]) * g * g
    update = np.sqrt(a["accum_update"] + h["epsilon"]) / np.sqrt(a["accum"] + h["epsilon"]) * g
    a["accum_update"] = h["rho"] * a["accum_update"] + (t(1) - h["rho"]) * update * update
    a["var"] -= h["lr"] * update


def _adam_hyper(step):
    return dict(beta1_power=0.9 ** step, beta2_power=0.999 ** step, lr=0.01, beta1=0.9, beta2=0.999,
                epsilon=1e-7)


# op type -> (inputs in order, slots, reference, hyperparameters for step k (1-based), attrs)
KERNELS = {
    "ApplyGradientDescent": (["var", "alpha", "delta"], [], np_gradient_descent,
                             lambda k: dict(alpha=0.05), {}),
    "ApplyMomentum": (["var", "accum", "lr", "grad", "momentum"], ["accum"], np_momentum,
                      lambda k: dict(lr=0.05, momentum=0.9), {}),
    "ApplyMomentum-nesterov": (["var", "accum", "lr", "grad", "momentum"], ["accum"],
                               lambda a, g, h: np_momentum(a, g, h, nesterov=True),
                               lambda k: dict(lr=0.05, momentum=0.9), {"use_nesterov": True}),
    "ApplyAdam": (["var", "m", "v", "beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon", "grad"],
                  ["m", "v"], np_adam, _adam_hyper, {}),
    "ApplyAdam-nesterov": (["var", "m", "v", "beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon",
                            "grad"], ["m", "v"], lambda a, g, h: np_adam(a, g, h, nesterov=True), _adam_hyper,
                           {"use_nesterov": True}),
    "ApplyAdagrad": (["var", "accum", "lr", "grad"], ["accum"], np_adagrad, lambda k: dict(lr=0.1), {}),
    "ApplyRMSProp": (["var", "ms", "mom", "lr", "rho", "momentum", "epsilon", "grad"], ["ms", "mom"],
                     np_rmsprop, lambda k: dict(lr=0.01, rho=0.9, momentum=0.5, epsilon=1e-6), {}),
    "ApplyCenteredRMSProp": (["var", "mg", "ms", "mom", "lr", "rho", "momentum", "epsilon", "grad"],
                             ["mg", "ms", "mom"], np_centered_rmsprop,
                             lambda k: dict(lr=0.01, rho=0.9, momentum=0.5, epsilon=1e-6), {}),
    "ApplyAdadelta": (["var", "accum", "accum_update", "lr", "rho", "epsilon", "grad"], ["accum", "accum_update"],
                      np_adadelta, lambda k: dict(lr=1.0, rho=0.95, epsilon=1e-6), {}),
}
GRAD_NAMES = ("grad", "delta")
STEPS = 100


def _initial_arrays(slots, shape, dtype, rng):
    """The variable and its slots; accumulators of squares start positive, the mean gradient at zero."""
    a = {"var": rng.normal(size=shape).astype(dtype)}
    for s in slots:
        if s in ("m", "mom"):
            a[s] = rng.normal(scale=0.1, size=shape).astype(dtype)
        elif s == "mg":
            a[s] = np.zeros(shape, dtype)
        else:
            a[s] = rng.uniform(0.1, 1.0, size=shape).astype(dtype)
    return a


def _grads(shape, dtype, steps=STEPS, seed=1):
    rng = np.random.RandomState(seed)
    return [rng.normal(size=shape).astype(dtype) for _ in range(steps)]


def _op_type(key):
    return key.split("-")[0]


def _build_apply(key, arrays, dtype, grad_shape=None):
    """Variables for the var and slots, placeholders for the gradient and every hyperparameter."""
    names, slots, _, _, attrs = KERNELS[key]
    variables = {n: tf.Variable(arrays[n], name=n) for n in ["var"] + slots}
    feeds = {}
    inputs = []
    for n in names:
        if n in variables:
            inputs.append(variables[n]._ref())
        else:
            shape = (grad_shape if grad_shape is not None else arrays["var"].shape) if n in GRAD_NAMES else ()
            feeds[n] = tf.placeholder(tf.as_dtype(dtype), shape=shape, name=n + "_in")
            inputs.append(feeds[n])
    out = tf_ops.apply1(_op_type(key), inputs, attrs)
    return variables, feeds, out


def _run_tideflow(key, arrays, grads, dtype):
    names, slots, _, hyper, _ = KERNELS[key]
    g = tf.Graph()
    with g.as_default():
        variables, feeds, out = _build_apply(key, arrays, dtype)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for k, grad in enumerate(grads, 1):
                fd = {feeds[n]: v for n, v in hyper(k).items()}
                fd[feeds[[n for n in names if n in GRAD_NAMES][0]]] = grad
                new_var = sess.run(out, fd)
            return new_var, {n: sess.run(v) for n, v in variables.items()}


def _run_numpy(key, arrays, grads, dtype):
    _, _, ref, hyper, _ = KERNELS[key]
    a = {n: v.copy() for n, v in arrays.items()}
    t = np.dtype(dtype).type
    for k, grad in enumerate(grads, 1):
        ref(a, grad, {n: t(v) for n, v in hyper(k).items()})
    return a


TOL = {"float32": dict(rtol=2e-4, atol=2e-5), "float64": dict(rtol=1e-11, atol=1e-12)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", sorted(KERNELS))
def test_kernel_trajectory_matches_numpy(key, dtype):
    shape = (3, 5)
    arrays = _initial_arrays(KERNELS[key][1], shape, dtype, np.random.RandomState(0))
    grads = _grads(shape, dtype)
    new_var, got = _run_tideflow(key, arrays, grads, dtype)
    want = _run_numpy(key, arrays, grads, dtype)
    assert new_var.dtype == np.dtype(dtype)
    np.testing.assert_allclose(new_var, want["var"], **TOL[dtype])
    for n in want:
        assert got[n].dtype == np.dtype(dtype)
        np.testing.assert_allclose(got[n], want[n], err_msg=n, **TOL[dtype])
    assert np.abs(want["var"] - arrays["var"]).max() > 1e-2  # the trajectory actually moved


def _run_tensorflow(key, arrays, grads, dtype):
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    tf1.disable_resource_variables()
    names, slots, _, hyper, attrs = KERNELS[key]
    g = tf1.Graph()
    with g.as_default():
        variables = {n: tf1.Variable(arrays[n], name=n) for n in ["var"] + slots}
        feeds, kwargs = {}, {}
        for n in names:
            if n in variables:
                kwargs[n] = variables[n]
            else:
                feeds[n] = tf1.placeholder(dtype, shape=arrays["var"].shape if n in GRAD_NAMES else ())
                kwargs[n] = feeds[n]
        out = getattr(tf1.raw_ops, _op_type(key))(**kwargs, **attrs)
        with tf1.Session(graph=g) as sess:
            sess.run(tf1.global_variables_initializer())
            for k, grad in enumerate(grads, 1):
                fd = {feeds[n]: v for n, v in hyper(k).items()}
                fd[feeds[[n for n in names if n in GRAD_NAMES][0]]] = grad
                sess.run(out, fd)
            return {n: sess.run(v) for n, v in variables.items()}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", sorted(KERNELS))
def test_kernel_trajectory_matches_tensorflow(key, dtype):
    shape = (4, 3)
    arrays = _initial_arrays(KERNELS[key][1], shape, dtype, np.random.RandomState(2))
    grads = _grads(shape, dtype, seed=3)
    want = _run_tensorflow(key, arrays, grads, dtype)
    _, got = _run_tideflow(key, arrays, grads, dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    for n in want:
        np.testing.assert_allclose(got[n], want[n], err_msg=n, **tol)


def test_kernel_large_variable_runs_in_parallel_chunks():
    shape = (300, 700)  # 210K elements: several parallel_for chunks
    key = "ApplyAdam"
    arrays = _initial_arrays(KERNELS[key][1], shape, "float32", np.random.RandomState(4))
    grads = _grads(shape, "float32", steps=3)
    _, got = _run_tideflow(key, arrays, grads, "float32")
    want = _run_numpy(key, arrays, grads, "float32")
    for n in want:
        np.testing.assert_allclose(got[n], want[n], rtol=1e-5, atol=1e-6)


def test_kernel_scalar_variable():
    arrays = {"var": np.float64(2.0), "accum": np.float64(0.0)}
    g = tf.Graph()
    with g.as_default():
        variables, feeds, out = _build_apply("ApplyMomentum", arrays, "float64")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            r1 = sess.run(out, {feeds["lr"]: 0.5, feeds["momentum"]: 0.9, feeds["grad"]: 1.0})
            r2 = sess.run(out, {feeds["lr"]: 0.5, feeds["momentum"]: 0.9, feeds["grad"]: 1.0})
    assert r1 == 1.5 and r2 == pytest.approx(1.5 - 0.5 * 1.9)


def test_kernel_does_not_change_arrays_already_fetched():
    """Copy-on-write (Note [variable updates]): a fetched value keeps its contents after the update."""
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.ones(4, np.float32), name="v")
        grad = tf.placeholder(tf.float32, [4])
        step = tf_ops.apply1("ApplyGradientDescent", [v._ref(), np.float32(0.5), grad])
        with tf.Session() as sess:
            sess.run(v.initializer)
            before = sess.run(v)
            after = sess.run(step, {grad: np.ones(4, np.float32)})
            again = sess.run(step, {grad: np.ones(4, np.float32)})
            final = sess.run(v)
    np.testing.assert_array_equal(before, np.ones(4))
    np.testing.assert_array_equal(after, np.full(4, 0.5))
    np.testing.assert_array_equal(again, np.zeros(4))
    np.testing.assert_array_equal(final, np.zeros(4))


def test_kernel_uninitialized_slot_is_failed_precondition():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.ones(3, np.float32), name="v")
        acc = tf.Variable(np.zeros(3, np.float32), name="acc")
        step = tf_ops.apply1("ApplyAdagrad", [v._ref(), acc._ref(), np.float32(0.1), np.ones(3, np.float32)])
        with tf.Session() as sess:
            sess.run(v.initializer)
            with pytest.raises(tf.errors.FailedPreconditionError, match="acc"):
                sess.run(step)


def test_kernel_static_shape_and_dtype_errors():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.ones((2, 3), np.float32), name="v")
        acc = tf.Variable(np.zeros((3, 2), np.float32), name="acc")
        with pytest.raises(ValueError, match="gradient"):
            tf_ops.apply1("ApplyGradientDescent", [v._ref(), np.float32(0.1), np.ones(3, np.float32)])
        with pytest.raises(ValueError, match="acc"):
            tf_ops.apply1("ApplyAdagrad", [v._ref(), acc._ref(), np.float32(0.1), np.ones((2, 3), np.float32)])
        with pytest.raises(ValueError, match="scalar"):
            tf_ops.apply1("ApplyGradientDescent", [v._ref(), np.ones(2, np.float32), np.ones((2, 3), np.float32)])
        with pytest.raises(TypeError, match="float64"):
            tf_ops.apply1("ApplyGradientDescent", [v._ref(), np.float64(0.1), np.ones((2, 3), np.float32)])
        with pytest.raises(TypeError, match="variable"):
            tf_ops.apply1("ApplyGradientDescent", [v.value(), np.float32(0.1), np.ones((2, 3), np.float32)])
        iv = tf.Variable(np.ones(3, np.int32), name="iv")
        with pytest.raises(TypeError, match="float"):
            tf_ops.apply1("ApplyGradientDescent", [iv._ref(), np.int32(1), np.ones(3, np.int32)])


def test_kernel_runtime_shape_error_names_node():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.ones((2, 3), np.float32), name="v")
        grad = tf.placeholder(tf.float32, [None, None])
        step = tf_ops.apply1("ApplyGradientDescent", [v._ref(), np.float32(0.1), grad], name="my_update")
        with tf.Session() as sess:
            sess.run(v.initializer)
            with pytest.raises(tf.errors.InvalidArgumentError, match="my_update") as e:
                sess.run(step, {grad: np.ones((3, 2), np.float32)})
    assert "[2,3]" in str(e.value) and "[3,2]" in str(e.value)
