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
                # Fetching the output keeps the variable's buffer alive, so the next step writes a fresh
                # buffer and the one after writes in place: both kernel paths run.
                if k % 2 == 0 or k == len(grads):
                    new_var = sess.run(out, fd)
                else:
                    sess.run(out.op, fd)
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
        with pytest.raises(ValueError, match="same variable"):
            tf_ops.apply1("ApplyAdagrad", [v._ref(), v._ref(), np.float32(0.1), np.ones((2, 3), np.float32)])
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


# ---------------------------------------------------------------------------------------------------
# tf.train optimizer classes

OPTIMIZERS = {
    "GradientDescent": lambda t: t.train.GradientDescentOptimizer(0.1),
    "Momentum": lambda t: t.train.MomentumOptimizer(0.05, 0.9),
    "Momentum-nesterov": lambda t: t.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
    "Adam": lambda t: t.train.AdamOptimizer(0.01),
    "Adagrad": lambda t: t.train.AdagradOptimizer(0.1),
    "RMSProp": lambda t: t.train.RMSPropOptimizer(0.01),
    "RMSProp-centered": lambda t: t.train.RMSPropOptimizer(0.01, decay=0.8, momentum=0.5, epsilon=1e-6,
                                                           centered=True),
    "Adadelta": lambda t: t.train.AdadeltaOptimizer(1.0, rho=0.9, epsilon=1e-6),
}


def _train_with_fed_gradients(t, key, dtype, inits, grads, steps):
    """Runs `steps` updates of two variables with the given gradients under framework `t` (tideflow or
    TensorFlow's compat.v1); returns {variable name: value} for the optimizer's variables and the global
    step's value."""
    g = t.Graph()
    with g.as_default():
        variables = [t.Variable(v, name=n) for n, v in inits]
        phs = [t.placeholder(dtype, shape=v.shape) for _, v in inits]
        step = t.train.get_or_create_global_step()
        opt = OPTIMIZERS[key](t)
        train = opt.apply_gradients(list(zip(phs, variables)), global_step=step)
        with t.Session(graph=g) as sess:
            sess.run(t.global_variables_initializer())
            for k in range(steps):
                sess.run(train, {p: gr[k] for p, gr in zip(phs, grads)})
            out = {v.op.name: sess.run(v) for v in variables + opt.variables()}
            return out, sess.run(step), train.name


def _inits_and_grads(dtype, steps):
    rng = np.random.RandomState(5)
    inits = [("theta", rng.normal(size=(3, 2)).astype(dtype)), ("bias", rng.normal(size=(2,)).astype(dtype))]
    grads = [[rng.normal(size=v.shape).astype(dtype) for _ in range(steps)] for _, v in inits]
    return inits, grads


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", sorted(OPTIMIZERS))
def test_optimizer_matches_tensorflow(key, dtype):
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    tf1.disable_resource_variables()
    steps = 50
    inits, grads = _inits_and_grads(dtype, steps)
    want, want_step, want_name = _train_with_fed_gradients(tf1, key, dtype, inits, grads, steps)
    got, got_step, got_name = _train_with_fed_gradients(tf, key, dtype, inits, grads, steps)
    assert sorted(got) == sorted(want)  # same slot and non-slot variable names
    assert got_step == want_step == steps and got_name == want_name
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    for n in want:
        assert got[n].dtype == want[n].dtype, n
        np.testing.assert_allclose(got[n], want[n], err_msg=n, **tol)


def test_slot_variables_are_named_like_tensorflow():
    g = tf.Graph()
    with g.as_default():
        theta = tf.Variable(np.zeros((2, 2), np.float32), name="theta")
        grad = tf.placeholder(tf.float32, [2, 2])
        adam = tf.train.AdamOptimizer()
        adam.apply_gradients([(grad, theta)])
        assert adam.get_slot_names() == ["m", "v"]
        assert adam.get_slot(theta, "m").op.name == "theta/Adam"
        assert adam.get_slot(theta, "v").op.name == "theta/Adam_1"
        assert [v.op.name for v in adam.variables()] == ["beta1_power", "beta2_power", "theta/Adam", "theta/Adam_1"]
        rms = tf.train.RMSPropOptimizer(0.1)
        rms.apply_gradients([(grad, theta)])
        assert rms.get_slot(theta, "rms").op.name == "theta/RMSProp"
        assert rms.get_slot(theta, "momentum").op.name == "theta/RMSProp_1"
        ada = tf.train.AdagradOptimizer(0.1)
        ada.apply_gradients([(grad, theta)])
        assert ada.get_slot(theta, "accumulator").op.name == "theta/Adagrad"
        assert adam.get_slot(theta, "nope") is None
        trainable = tf.trainable_variables()
        assert trainable == [theta]
        global_names = {v.op.name for v in tf.global_variables()}
        assert {"theta/Adam", "theta/Adam_1", "beta1_power", "theta/RMSProp", "theta/Adagrad"} <= global_names
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(ada.get_slot(theta, "accumulator")),
                                          np.full((2, 2), 0.1, np.float32))
            np.testing.assert_array_equal(sess.run(rms.get_slot(theta, "rms")), np.ones((2, 2), np.float32))
            np.testing.assert_array_equal(sess.run(adam.get_slot(theta, "m")), np.zeros((2, 2), np.float32))


def test_large_slot_starts_filled():
    """Slots of 1000+ elements come from Fill rather than a graph constant (as TF's zeros)."""
    g = tf.Graph()
    with g.as_default():
        theta = tf.Variable(np.zeros((40, 50), np.float32), name="theta")
        opt = tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.25)
        opt.apply_gradients([(tf.placeholder(tf.float32, [40, 50]), theta)])
        acc = opt.get_slot(theta, "accumulator")
        assert acc.initial_value.op.type == "Fill"
        with tf.Session() as sess:
            sess.run(acc.initializer)
            np.testing.assert_array_equal(sess.run(acc), np.full((40, 50), 0.25, np.float32))


def test_train_op_name_collection_and_global_step():
    g = tf.Graph()
    with g.as_default():
        theta = tf.Variable(np.ones(2, np.float32), name="theta")
        grad = tf.placeholder(tf.float32, [2])
        step = tf.train.get_or_create_global_step()
        op1 = tf.train.GradientDescentOptimizer(0.5).apply_gradients([(grad, theta)])
        op2 = tf.train.GradientDescentOptimizer(0.5).apply_gradients([(grad, theta)], global_step=step,
                                                                     name="train")
        assert op1.name == "GradientDescent" and op1.type == "NoOp"
        assert op2.name == "train" and op2.type == "AssignAdd"
        assert g.get_operation_by_name("GradientDescent/update_theta/ApplyGradientDescent").type == \
            "ApplyGradientDescent"
        assert g.get_collection(tf.GraphKeys.TRAIN_OP) == [op1, op2]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(op2, {grad: np.ones(2, np.float32)})
            assert tf.train.global_step(sess, step) == 3
            np.testing.assert_allclose(sess.run(theta), np.full(2, -0.5))


def test_minimize_through_identity_with_grad_loss():
    """minimize differentiates the loss w.r.t. each variable's ref (`theta:0`) through `theta/read`."""
    g = tf.Graph()
    with g.as_default():
        theta = tf.Variable(np.array([1.0, 2.0], np.float32), name="theta")
        other = tf.Variable(np.array([5.0], np.float32), name="other")
        upstream = tf.placeholder(tf.float32, [2])
        opt = tf.train.MomentumOptimizer(0.5, 0.5)
        gv = opt.compute_gradients(tf.identity(theta), grad_loss=upstream)
        assert [v for _, v in gv] == [theta, other]
        assert gv[1][0] is None
        gated = opt.compute_gradients(tf.identity(theta), var_list=[theta], grad_loss=upstream,
                                      gate_gradients=tf.train.Optimizer.GATE_GRAPH)
        assert gated[0][0].op.type == "Identity" and gated[0][1] is theta
        train = opt.minimize(tf.identity(theta), grad_loss=upstream)
        assert opt.get_slot(other, "momentum") is None  # no gradient, no slot
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {upstream: [1.0, -1.0]})
            sess.run(train, {upstream: [1.0, -1.0]})
            np.testing.assert_allclose(sess.run(theta), [1.0 - 0.5 - 0.75, 2.0 + 0.5 + 0.75])
            np.testing.assert_allclose(sess.run(other), [5.0])


def test_learning_rate_tensor_and_callable():
    g = tf.Graph()
    with g.as_default():
        theta = tf.Variable(np.zeros(2, np.float32), name="theta")
        grad = tf.placeholder(tf.float32, [2])
        lr = tf.placeholder(tf.float32, [])
        train = tf.train.GradientDescentOptimizer(lr).apply_gradients([(grad, theta)])
        train2 = tf.train.GradientDescentOptimizer(lambda: 2.0).apply_gradients([(grad, theta)])
        with tf.Session() as sess:
            sess.run(theta.initializer)
            sess.run(train, {grad: [1.0, 2.0], lr: 0.25})
            np.testing.assert_allclose(sess.run(theta), [-0.25, -0.5])
            sess.run(train2, {grad: [1.0, 2.0]})
            np.testing.assert_allclose(sess.run(theta), [-2.25, -4.5])


def test_optimizer_errors():
    g = tf.Graph()
    with g.as_default():
        loss = tf.placeholder(tf.float32, [], name="my_loss")
        with pytest.raises(ValueError, match="my_loss"):
            tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        theta = tf.Variable(np.ones(2, np.float32), name="theta")
        with pytest.raises(ValueError, match="int32"):
            tf.train.GradientDescentOptimizer(0.1).minimize(tf.placeholder(tf.int32, []))
        with pytest.raises(ValueError, match="No gradients provided for any variable.*theta"):
            tf.train.AdamOptimizer().apply_gradients([(None, theta)])
        with pytest.raises(ValueError, match="No variables provided"):
            tf.train.AdamOptimizer().apply_gradients([])
        with pytest.raises(TypeError, match="unsupported type"):
            tf.train.AdamOptimizer().apply_gradients([(loss, loss)])
        with pytest.raises(TypeError, match="float64"):
            tf.train.GradientDescentOptimizer(0.1).apply_gradients([(tf.placeholder(tf.float64, [2]), theta)])
        with pytest.raises(ValueError, match="gate_gradients"):
            tf.train.GradientDescentOptimizer(0.1).compute_gradients(tf.identity(theta), gate_gradients=7)
        with pytest.raises(ValueError, match="initial_accumulator_value"):
            tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)
        with pytest.raises(ValueError, match="name"):
            tf.train.Optimizer(False, "")


def test_minimize_loss_independent_of_variables():
    g = tf.Graph()
    with g.as_default():
        loss = tf.placeholder(tf.float32, [], name="my_loss")
        tf.Variable(np.ones(2, np.float32), name="theta")
        with pytest.raises(ValueError, match="No gradients provided for any variable.*theta.*my_loss"):
            tf.train.GradientDescentOptimizer(0.1).minimize(loss)


def test_global_step_helpers():
    g = tf.Graph()
    with g.as_default():
        assert tf.train.get_global_step() is None
        step = tf.train.get_or_create_global_step()
        assert step.op.name == "global_step" and step.dtype == tf.int64 and step.shape.ndims == 0
        assert tf.train.get_or_create_global_step() is step
        assert tf.train.get_global_step(g) is step
        assert step in tf.global_variables() and step not in tf.trainable_variables()
        assert g.get_collection(tf.GraphKeys.GLOBAL_STEP) == [step]
        with pytest.raises(ValueError, match="already exists"):
            tf.train.create_global_step()
        with tf.Session() as sess:
            sess.run(step.initializer)
            assert tf.train.global_step(sess, step) == 0
    g2 = tf.Graph()
    with g2.as_default():
        with tf.name_scope("inner"):
            s2 = tf.train.create_global_step()
        assert s2.op.name == "global_step"
        v = tf.Variable(np.float32(0), name="x")
        with pytest.raises(TypeError, match="integer"):
            tf.train.assert_global_step(v)


# ---------------------------------------------------------------------------------------------------
# Learning-rate schedules (need the elementwise ops)


def _schedule_values(build, steps):
    g = tf.Graph()
    with g.as_default():
        step = tf.train.get_or_create_global_step()
        lr = build(step)
        with tf.Session() as sess:
            out = []
            for s in steps:
                sess.run(tf.assign(step, s))
                out.append(sess.run(lr))
            return np.array(out), lr


def test_exponential_decay():
    steps = [0, 1, 5, 10, 25]
    got, lr = _schedule_values(lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5), steps)
    np.testing.assert_allclose(got, [0.1 * 0.5 ** (k / 10) for k in steps], rtol=1e-6)
    assert lr.dtype == tf.float32 and lr.op.name == "ExponentialDecay"
    got, _ = _schedule_values(lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5, staircase=True), steps)
    np.testing.assert_allclose(got, [0.1 * 0.5 ** (k // 10) for k in steps], rtol=1e-6)
    with pytest.raises(ValueError, match="global_step"):
        tf.train.exponential_decay(0.1, None, 10, 0.5)


def test_other_schedules():
    steps = [0, 3, 10, 15, 40]
    got, _ = _schedule_values(lambda s: tf.train.inverse_time_decay(1.0, s, 5, 0.5), steps)
    np.testing.assert_allclose(got, [1.0 / (1 + 0.5 * k / 5) for k in steps], rtol=1e-6)
    got, _ = _schedule_values(lambda s: tf.train.natural_exp_decay(1.0, s, 5, 0.5, staircase=True), steps)
    np.testing.assert_allclose(got, [np.exp(-0.5 * (k // 5)) for k in steps], rtol=1e-6)
    got, _ = _schedule_values(lambda s: tf.train.polynomial_decay(1.0, s, 10, 0.1, power=2.0), steps)
    np.testing.assert_allclose(got, [(1.0 - 0.1) * (1 - min(k, 10) / 10) ** 2 + 0.1 for k in steps], rtol=1e-6)
    got, _ = _schedule_values(lambda s: tf.train.polynomial_decay(1.0, s, 10, 0.0, cycle=True), steps)
    want = [(1 - k / (10 * max(1, np.ceil(k / 10)))) for k in steps]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    got, _ = _schedule_values(lambda s: tf.train.piecewise_constant(s, [np.int64(3), np.int64(12)],
                                                                    [1.0, 0.5, 0.1]), steps)
    np.testing.assert_allclose(got, [1.0, 1.0, 0.5, 0.1, 0.1], rtol=1e-6)
    with pytest.raises(ValueError, match="length"):
        tf.train.piecewise_constant(tf.constant(1), [1, 2], [1.0, 2.0])


def test_gradient_descent_with_exponential_decay_matches_tensorflow():
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    tf1.disable_resource_variables()
    grads = np.random.RandomState(7).normal(size=(30, 3)).astype(np.float32)

    def run(t):
        g = t.Graph()
        with g.as_default():
            theta = t.Variable(np.ones(3, np.float32), name="theta")
            grad = t.placeholder(t.float32, [3])
            step = t.train.get_or_create_global_step()
            lr = t.train.exponential_decay(0.5, step, 4, 0.7, staircase=True)
            train = t.train.GradientDescentOptimizer(lr).apply_gradients([(grad, theta)], global_step=step)
            with t.Session(graph=g) as sess:
                sess.run(t.global_variables_initializer())
                for gr in grads:
                    sess.run(train, {grad: gr})
                return sess.run(theta)
    np.testing.assert_allclose(run(tf), run(tf1), rtol=1e-6)


def test_concurrent_updates_from_threads_are_not_lost():
    """Each Apply* op updates under the variables' locks: updates from several threads all land."""
    import threading
    g = tf.Graph()
    with g.as_default():
        theta = tf.Variable(np.zeros(50000, np.float32), name="theta")  # big enough for parallel_for
        grad = tf.placeholder(tf.float32, [50000])
        gd = tf.train.GradientDescentOptimizer(0.5).apply_gradients([(grad, theta)])
        mom = tf.train.MomentumOptimizer(1.0, 0.0).apply_gradients([(grad, theta)])
        ones = np.ones(50000, np.float32)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())

            def work():
                for k in range(100):
                    sess.run(gd if k % 2 else mom, {grad: ones})
            threads = [threading.Thread(target=work) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            np.testing.assert_array_equal(sess.run(theta), np.full(50000, -4 * (50 * 0.5 + 50 * 1.0)))


def test_cosine_decay():
    steps = [0, 5, 10, 20]
    got, lr = _schedule_values(lambda s: tf.train.cosine_decay(2.0, s, 10, alpha=0.1), steps)
    want = [2.0 * (0.9 * 0.5 * (1 + np.cos(np.pi * min(k, 10) / 10)) + 0.1) for k in steps]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert lr.op.name == "CosineDecay"


# ---------------------------------------------------------------------------------------------------
# tf.train.ExponentialMovingAverage


def _run_ema(t, values, decay, num_updates):
    g = t.Graph()
    with g.as_default():
        w = t.Variable(values[0], name="w")
        b = t.Variable(np.float32(1.0), name="b")
        step = t.Variable(0, trainable=False, name="step")
        new_w = t.placeholder(values[0].dtype, values[0].shape)
        ema = t.train.ExponentialMovingAverage(decay, num_updates=step if num_updates else None)
        set_w = t.assign(w, new_w)
        update = ema.apply([w, b])
        bump = t.assign_add(step, 1)
        names = sorted(ema.variables_to_restore())
        shadow_name = ema.average(w).op.name
        with t.Session(graph=g) as sess:
            sess.run([w.initializer, b.initializer])  # TF's initialized_value() reads them in a cond
            sess.run(t.global_variables_initializer())
            out = []
            for v in values[1:]:
                sess.run(set_w, {new_w: v})
                sess.run(update)
                sess.run(bump)
                out.append(sess.run(ema.average(w)))
            return np.array(out), sess.run(ema.average(b)), names, shadow_name


@pytest.mark.parametrize("num_updates", [False, True])
def test_exponential_moving_average_matches_tensorflow(num_updates):
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    tf1.disable_resource_variables()
    values = [np.random.RandomState(k).normal(size=(2, 3)) for k in range(8)]
    got = _run_ema(tf, values, 0.9, num_updates)
    want = _run_ema(tf1, values, 0.9, num_updates)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    assert got[2] == want[2] and got[3] == want[3] == "w/ExponentialMovingAverage"


def test_exponential_moving_average_errors_and_collections():
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(np.ones(2, np.float32), name="w")
        i = tf.Variable(np.ones(2, np.int32), name="i")
        ema = tf.train.ExponentialMovingAverage(0.5)
        with pytest.raises(TypeError, match="float"):
            ema.apply([i])
        ema.apply([w])
        with pytest.raises(ValueError, match="already computed"):
            ema.apply([w])
        shadow = ema.average(w)
        assert ema.average_name(w) == "w/ExponentialMovingAverage" == shadow.op.name
        assert shadow in tf.global_variables() and shadow not in tf.trainable_variables()
        assert ema.average(i) is None
        assert g.get_collection("moving_average_variables") == [w]


# ---------------------------------------------------------------------------------------------------
# Note [fused producers]: an SGD update whose gradient is a MatMul read by nothing else runs as one gemm
# accumulating into the variable. It must give what the unfused pair gives, and only when it is safe.

def _planned(sess, fetches, feed_list=()):
    from tideflow import _core
    from tideflow.framework.session import _Fetcher
    f = _Fetcher(sess.graph, fetches)
    return dict(_core.make_callable(sess._c, [t._key() for t in feed_list], f.keys, f.targets).planned)


UPDATE_W = "GradientDescent/update_w/ApplyGradientDescent"


def _dense_model(dtype=tf.float32):
    rng = np.random.RandomState(3)
    x = tf.placeholder(dtype, [None, 5], name="x")
    w = tf.Variable(rng.randn(5, 4).astype(dtype.as_numpy_dtype), name="w")
    loss = tf.reduce_sum(tf.square(tf.matmul(x, w)))
    return x, w, loss, rng.randn(7, 5).astype(dtype.as_numpy_dtype)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_sgd_update_fused_with_its_product_matches_the_formula(dtype):
    with tf.Graph().as_default():
        x, w, loss, xv = _dense_model(dtype)
        train = tf.train.GradientDescentOptimizer(0.05).minimize(loss)
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            planned = _planned(s, train, [x])
            assert "gradients/MatMul_grad/MatMul_1" not in planned
            assert planned[UPDATE_W] == "gradients/MatMul_grad/MatMul_1"
            w0 = s.run(w)
            s.run(train, {x: xv})
            w1 = s.run(w)
    lr = np.float64(np.float32(0.05))  # as in TF: the rate is a float32 tensor cast to the variable's dtype
    want = w0 - lr * (xv.T @ (2 * (xv @ w0)))
    np.testing.assert_allclose(w1, want, rtol=1e-5 if dtype == tf.float32 else 1e-12)
    # The array fetched before the update still holds the old value (the update copied, not overwrote).
    assert not np.array_equal(w0, w1)


def test_sgd_update_is_not_fused_when_the_gradient_is_also_read():
    with tf.Graph().as_default():
        x, w, loss, xv = _dense_model()
        opt = tf.train.GradientDescentOptimizer(0.05)
        (g, _), = opt.compute_gradients(loss, [w])
        train = opt.apply_gradients([(g, w)])
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            assert _planned(s, [train, g], [x])[UPDATE_W] is None
            assert _planned(s, train, [x])[UPDATE_W] == g.op.name
            w0 = s.run(w)
            _, gv = s.run([train, g], {x: xv})
            np.testing.assert_allclose(gv, xv.T @ (2 * (xv @ w0)), rtol=1e-5)
            np.testing.assert_allclose(s.run(w), w0 - 0.05 * gv, rtol=1e-6)


def test_fused_update_reports_the_products_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 5])
        d = tf.placeholder(tf.float32, [None, 4])
        w = tf.Variable(np.zeros((5, 4), np.float32), name="w")
        train = tf.train.GradientDescentOptimizer(0.1).apply_gradients([(tf.matmul(x, d, transpose_a=True), w)])
        with tf.Session() as s:
            assert _planned(s, train, [x, d])[UPDATE_W] is not None
            with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value w"):
                s.run(train, {x: np.ones((3, 5), np.float32), d: np.ones((3, 4), np.float32)})
            s.run(w.initializer)
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)Matrix size-incompatible.*MatMul"):
                s.run(train, {x: np.ones((3, 5), np.float32), d: np.ones((2, 4), np.float32)})
            np.testing.assert_array_equal(s.run(w), 0)  # nothing was lost
            s.run(train, {x: np.ones((3, 5), np.float32), d: np.ones((3, 4), np.float32)})
            np.testing.assert_allclose(s.run(w), -0.3, rtol=1e-6)


# ---------------------------------------------------------------------------------------------------
# FTRL and the proximal optimizers (ApplyFtrl, ApplyFtrlV2, ApplyProximalGradientDescent,
# ApplyProximalAdagrad): NumPy versions of TensorFlow's training_ops functors, the kernels' trajectories, the
# optimizer classes against TensorFlow, and the remaining learning-rate schedules.


def np_ftrl(a, g, h, shrinkage=False, by_lr=False):
    t = a["var"].dtype.type
    lr, l1, l2, power = h["lr"], h["l1"], h["l2"], h["lr_power"]
    root = np.sqrt if power == t(-0.5) else (lambda x: x ** -power)
    g_shrunk = g + t(2) * h["l2_shrinkage"] * a["var"] if shrinkage else g
    new_accum = a["accum"] + g * g
    if by_lr:
        a["linear"] += g_shrunk * lr - (root(new_accum) - root(a["accum"])) * a["var"]
        l1, y = l1 * lr, root(new_accum) + t(2) * l2 * lr
    else:
        a["linear"] += g_shrunk - (root(new_accum) - root(a["accum"])) / lr * a["var"]
        y = root(new_accum) / lr + t(2) * l2
    a["var"] = np.where(np.abs(a["linear"]) > l1, (l1 * np.sign(a["linear"]) - a["linear"]) / y, t(0))
    a["accum"] = new_accum


def _np_proximal_step(var, g, rate, l1, l2):
    """FOBOS: a gradient step, then soft thresholding by rate * l1 (when l1 > 0) and shrinking by L2."""
    t = var.dtype.type
    prox = var - g * rate
    if l1 > 0:
        prox = np.sign(prox) * np.maximum(np.abs(prox) - rate * l1, t(0))
    return prox / (t(1) + l2 * rate)


def np_proximal_gradient_descent(a, g, h):
    a["var"] = _np_proximal_step(a["var"], g, h["alpha"], h["l1"], h["l2"])


def np_proximal_adagrad(a, g, h):
    a["accum"] += g * g
    a["var"] = _np_proximal_step(a["var"], g, h["lr"] / np.sqrt(a["accum"]), h["l1"], h["l2"])


_FTRL_INPUTS = ["var", "accum", "linear", "grad", "lr", "l1", "l2", "lr_power"]
_FTRL_V2_INPUTS = ["var", "accum", "linear", "grad", "lr", "l1", "l2", "l2_shrinkage", "lr_power"]
_PGD_INPUTS = ["var", "alpha", "l1", "l2", "delta"]
_PADAGRAD_INPUTS = ["var", "accum", "lr", "l1", "l2", "grad"]
NEW_KERNELS = {
    "ApplyFtrl": (_FTRL_INPUTS, ["accum", "linear"], np_ftrl,
                  lambda k: dict(lr=0.1, l1=0.05, l2=0.02, lr_power=-0.5), {}),
    "ApplyFtrl-power": (_FTRL_INPUTS, ["accum", "linear"], np_ftrl,
                        lambda k: dict(lr=0.1, l1=0.0, l2=0.1, lr_power=-0.3), {}),
    "ApplyFtrl-by_lr": (_FTRL_INPUTS, ["accum", "linear"], lambda a, g, h: np_ftrl(a, g, h, by_lr=True),
                        lambda k: dict(lr=0.1, l1=0.05, l2=0.02, lr_power=-0.5), {"multiply_linear_by_lr": True}),
    "ApplyFtrlV2": (_FTRL_V2_INPUTS, ["accum", "linear"], lambda a, g, h: np_ftrl(a, g, h, shrinkage=True),
                    lambda k: dict(lr=0.1, l1=0.05, l2=0.02, l2_shrinkage=0.1, lr_power=-0.5), {}),
    "ApplyFtrlV2-power": (_FTRL_V2_INPUTS, ["accum", "linear"], lambda a, g, h: np_ftrl(a, g, h, shrinkage=True),
                          lambda k: dict(lr=0.2, l1=0.01, l2=0.0, l2_shrinkage=0.05, lr_power=-0.7), {}),
    "ApplyProximalGradientDescent": (_PGD_INPUTS, [], np_proximal_gradient_descent,
                                     lambda k: dict(alpha=0.05, l1=0.1, l2=0.2), {}),
    "ApplyProximalGradientDescent-no_l1": (_PGD_INPUTS, [], np_proximal_gradient_descent,
                                           lambda k: dict(alpha=0.05, l1=0.0, l2=0.2), {}),
    "ApplyProximalAdagrad": (_PADAGRAD_INPUTS, ["accum"], np_proximal_adagrad,
                             lambda k: dict(lr=0.1, l1=0.05, l2=0.1), {}),
    "ApplyProximalAdagrad-no_l1": (_PADAGRAD_INPUTS, ["accum"], np_proximal_adagrad,
                                   lambda k: dict(lr=0.1, l1=0.0, l2=0.1), {}),
}
KERNELS.update(NEW_KERNELS)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", sorted(NEW_KERNELS))
def test_new_kernel_trajectory_matches_numpy(key, dtype):
    test_kernel_trajectory_matches_numpy(key, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", sorted(NEW_KERNELS))
def test_new_kernel_trajectory_matches_tensorflow(key, dtype):
    test_kernel_trajectory_matches_tensorflow(key, dtype)


def test_new_kernels_are_not_differentiable_and_check_their_inputs():
    from tideflow import _core
    for op in ("ApplyFtrl", "ApplyFtrlV2", "ApplyProximalGradientDescent", "ApplyProximalAdagrad"):
        assert _core.op_gradient_kind(op) == _core.op_gradient_kind("ApplyAdam"), op
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.ones((2, 3), np.float32), name="v")
        acc = tf.Variable(np.ones((2, 3), np.float32), name="acc")
        lin = tf.Variable(np.zeros((3, 2), np.float32), name="lin")
        s = np.float32(0.1)
        with pytest.raises(ValueError, match="lin"):
            tf_ops.apply1("ApplyFtrl", [v._ref(), acc._ref(), lin._ref(), np.ones((2, 3), np.float32), s, s, s, s])
        with pytest.raises(ValueError, match="scalar"):
            tf_ops.apply1("ApplyProximalGradientDescent", [v._ref(), s, np.ones(2, np.float32), s,
                                                           np.ones((2, 3), np.float32)])
        with pytest.raises(TypeError, match="float64"):
            tf_ops.apply1("ApplyProximalAdagrad", [v._ref(), acc._ref(), s, s, np.float64(0.1),
                                                   np.ones((2, 3), np.float32)])
        with pytest.raises(ValueError, match="gradient"):
            tf_ops.apply1("ApplyFtrlV2", [v._ref(), acc._ref(), tf.Variable(np.zeros((2, 3), np.float32))._ref(),
                                          np.ones(3, np.float32), s, s, s, s, s])


def test_ftrl_large_variable_runs_in_parallel_chunks():
    shape = (300, 700)
    arrays = _initial_arrays(KERNELS["ApplyFtrlV2"][1], shape, "float32", np.random.RandomState(4))
    grads = _grads(shape, "float32", steps=3)
    _, got = _run_tideflow("ApplyFtrlV2", arrays, grads, "float32")
    want = _run_numpy("ApplyFtrlV2", arrays, grads, "float32")
    for n in want:
        np.testing.assert_allclose(got[n], want[n], rtol=1e-5, atol=1e-6)


NEW_OPTIMIZERS = {
    "Ftrl": lambda t: t.train.FtrlOptimizer(0.1),
    "Ftrl-l1-l2": lambda t: t.train.FtrlOptimizer(0.2, l1_regularization_strength=0.05,
                                                  l2_regularization_strength=0.1, initial_accumulator_value=0.5),
    "Ftrl-power-shrinkage": lambda t: t.train.FtrlOptimizer(0.1, learning_rate_power=-0.4,
                                                            l1_regularization_strength=0.01,
                                                            l2_shrinkage_regularization_strength=0.2),
    "Ftrl-beta-names": lambda t: t.train.FtrlOptimizer(0.1, l2_regularization_strength=0.01, beta=0.5,
                                                       accum_name="acc", linear_name="lin", name="F"),
    "Ftrl-fixed-rate": lambda t: t.train.FtrlOptimizer(0.05, learning_rate_power=0.0,
                                                       initial_accumulator_value=0.0),
    "ProximalGradientDescent": lambda t: t.train.ProximalGradientDescentOptimizer(0.1),
    "ProximalGradientDescent-l1-l2": lambda t: t.train.ProximalGradientDescentOptimizer(
        0.1, l1_regularization_strength=0.05, l2_regularization_strength=0.2),
    "ProximalAdagrad": lambda t: t.train.ProximalAdagradOptimizer(0.1),
    "ProximalAdagrad-l1-l2": lambda t: t.train.ProximalAdagradOptimizer(
        0.3, initial_accumulator_value=0.2, l1_regularization_strength=0.02, l2_regularization_strength=0.1),
}
OPTIMIZERS.update(NEW_OPTIMIZERS)


@pytest.mark.parametrize("key", sorted(NEW_OPTIMIZERS))
def test_new_optimizer_matches_tensorflow_float32(key):
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    tf1.disable_resource_variables()
    steps = 100
    inits, grads = _inits_and_grads("float32", steps)
    want, want_step, want_name = _train_with_fed_gradients(tf1, key, "float32", inits, grads, steps)
    got, got_step, got_name = _train_with_fed_gradients(tf, key, "float32", inits, grads, steps)
    assert sorted(got) == sorted(want)
    assert got_step == want_step == steps and got_name == want_name
    for n in want:
        assert got[n].dtype == want[n].dtype, n
        np.testing.assert_allclose(got[n], want[n], err_msg=n, rtol=1e-5, atol=1e-6)


def _f32(x):
    """A Python hyperparameter as the optimizers pass it: a float32 constant, then cast to the variable's dtype."""
    return float(np.float32(x))


# key -> (kernel reference, slots with initial values, hyperparameters as the kernel sees them)
_CLASS_REFERENCES = {
    "Ftrl": (np_ftrl, {"accum": 0.1, "linear": 0.0}, dict(lr=0.1, l1=0.0, l2=0.0, lr_power=-0.5)),
    "Ftrl-l1-l2": (np_ftrl, {"accum": 0.5, "linear": 0.0}, dict(lr=0.2, l1=0.05, l2=0.1, lr_power=-0.5)),
    "Ftrl-power-shrinkage": (lambda a, g, h: np_ftrl(a, g, h, shrinkage=True), {"accum": 0.1, "linear": 0.0},
                             dict(lr=0.1, l1=0.01, l2=0.0, l2_shrinkage=0.2, lr_power=-0.4)),
    "Ftrl-fixed-rate": (np_ftrl, {"accum": 0.0, "linear": 0.0}, dict(lr=0.05, l1=0.0, l2=0.0, lr_power=0.0)),
    "ProximalGradientDescent": (np_proximal_gradient_descent, {}, dict(alpha=0.1, l1=0.0, l2=0.0)),
    "ProximalGradientDescent-l1-l2": (np_proximal_gradient_descent, {}, dict(alpha=0.1, l1=0.05, l2=0.2)),
    "ProximalAdagrad": (np_proximal_adagrad, {"accum": 0.1}, dict(lr=0.1, l1=0.0, l2=0.0)),
    "ProximalAdagrad-l1-l2": (np_proximal_adagrad, {"accum": 0.2}, dict(lr=0.3, l1=0.02, l2=0.1)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", sorted(_CLASS_REFERENCES))
def test_new_optimizer_matches_numpy(key, dtype):
    """100 steps of the optimizer classes against the NumPy kernels; float64 too, where TF's proximal
    optimizers fail (they pass float32 hyperparameters uncast) and tideflow casts them."""
    steps = 100
    ref, slots, hyper = _CLASS_REFERENCES[key]
    inits, grads = _inits_and_grads(dtype, steps)
    got, _, _ = _train_with_fed_gradients(tf, key, dtype, inits, grads, steps)
    t = np.dtype(dtype).type
    h = {n: t(_f32(v)) for n, v in hyper.items()}
    for (name, init), gs in zip(inits, grads):
        a = {"var": init.copy()}
        a.update({s: np.full(init.shape, v, dtype) for s, v in slots.items()})
        for gr in gs:
            ref(a, gr, h)
        np.testing.assert_allclose(got[name], a["var"], **TOL[dtype])
        assert got[name].dtype == np.dtype(dtype)
        assert np.abs(a["var"] - init).max() > 1e-2


def test_new_optimizer_slots_and_ops():
    g = tf.Graph()
    with g.as_default():
        theta = tf.Variable(np.zeros((2, 2), np.float32), name="theta")
        grad = tf.placeholder(tf.float32, [2, 2])
        ftrl = tf.train.FtrlOptimizer(0.1, initial_accumulator_value=0.25)
        train = ftrl.apply_gradients([(grad, theta)])
        assert ftrl.get_slot_names() == ["accum", "linear"]
        assert ftrl.get_slot(theta, "accum").op.name == "theta/Ftrl"
        assert ftrl.get_slot(theta, "linear").op.name == "theta/Ftrl_1"
        assert ftrl.get_slot(theta, "nope") is None
        assert [v.op.name for v in ftrl.variables()] == ["theta/Ftrl", "theta/Ftrl_1"]
        assert train.name == "Ftrl" and g.get_operation_by_name("Ftrl/update_theta/ApplyFtrl").type == "ApplyFtrl"
        named = tf.train.FtrlOptimizer(0.1, accum_name="acc", linear_name="lin",
                                       l2_shrinkage_regularization_strength=0.1)
        named.apply_gradients([(grad, theta)])
        assert named.get_slot(theta, "accum").op.name == "theta/acc"
        assert named.get_slot(theta, "linear").op.name == "theta/lin"
        assert g.get_operation_by_name("Ftrl_1/update_theta/ApplyFtrlV2").type == "ApplyFtrlV2"
        pgd = tf.train.ProximalGradientDescentOptimizer(0.1)
        pgd.apply_gradients([(grad, theta)])
        assert pgd.get_slot_names() == [] and pgd.variables() == []
        assert g.get_operation_by_name(
            "ProximalGradientDescent/update_theta/ApplyProximalGradientDescent").type == "ApplyProximalGradientDescent"
        pada = tf.train.ProximalAdagradOptimizer(0.1, initial_accumulator_value=0.3)
        pada.apply_gradients([(grad, theta)])
        assert pada.get_slot_names() == ["accumulator"]
        assert pada.get_slot(theta, "accumulator").op.name == "theta/ProximalAdagrad"
        assert tf.trainable_variables() == [theta]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(ftrl.get_slot(theta, "accum")), np.full((2, 2), 0.25, np.float32))
            np.testing.assert_array_equal(sess.run(ftrl.get_slot(theta, "linear")), np.zeros((2, 2), np.float32))
            np.testing.assert_array_equal(sess.run(pada.get_slot(theta, "accumulator")),
                                          np.full((2, 2), 0.3, np.float32))


def test_new_optimizer_argument_errors():
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        tf.train.FtrlOptimizer(0.1, initial_accumulator_value=-0.1)
    with pytest.raises(ValueError, match="learning_rate_power"):
        tf.train.FtrlOptimizer(0.1, learning_rate_power=0.5)
    with pytest.raises(ValueError, match="l1_regularization_strength"):
        tf.train.FtrlOptimizer(0.1, l1_regularization_strength=-1.0)
    with pytest.raises(ValueError, match="l2_regularization_strength"):
        tf.train.FtrlOptimizer(0.1, l2_regularization_strength=-1.0)
    with pytest.raises(ValueError, match="l2_shrinkage_regularization_strength"):
        tf.train.FtrlOptimizer(0.1, l2_shrinkage_regularization_strength=-1.0)
    with pytest.raises(ValueError, match="initial_accumulator_value must be positive"):
        tf.train.ProximalAdagradOptimizer(0.1, initial_accumulator_value=0.0)


def test_proximal_l1_drives_weights_to_exact_zero():
    """The soft threshold sets weights whose gradient step stays within lr * l1 of zero to exactly zero."""
    g = tf.Graph()
    with g.as_default():
        theta = tf.Variable(np.array([0.01, -0.02, 1.0], np.float32), name="theta")
        train = tf.train.ProximalGradientDescentOptimizer(0.5, l1_regularization_strength=0.1).apply_gradients(
            [(tf.zeros([3]), theta)])
        with tf.Session() as sess:
            sess.run(theta.initializer)
            sess.run(train)
            np.testing.assert_allclose(sess.run(theta), [0.0, 0.0, 0.95])
            assert sess.run(theta)[0] == 0.0


# ---- the remaining learning-rate schedules ----

def _np_cosine_decay_restarts(lr, step, first, t_mul, m_mul, alpha):
    done = step / first
    if t_mul == 1.0:
        i = np.floor(done)
        done -= i
    else:
        i = np.floor(np.log(1 - done * (1 - t_mul)) / np.log(t_mul))
        done = (done - (1 - t_mul ** i) / (1 - t_mul)) / t_mul ** i
    return lr * ((1 - alpha) * 0.5 * m_mul ** i * (1 + np.cos(np.pi * done)) + alpha)


def _np_linear_cosine_decay(lr, step, steps, num_periods, alpha, beta):
    step = min(step, steps)
    linear = (steps - step) / steps
    return lr * ((alpha + linear) * 0.5 * (1 + np.cos(np.pi * 2 * num_periods * step / steps)) + beta)


SCHEDULE_STEPS = [0, 1, 5, 9, 10, 11, 25, 29, 30, 31, 69, 70, 100, 250]
NEW_SCHEDULES = {
    "cosine_decay_restarts": (lambda t, s: t.train.cosine_decay_restarts(0.5, s, 10),
                              lambda k: _np_cosine_decay_restarts(0.5, k, 10, 2.0, 1.0, 0.0)),
    "cosine_decay_restarts-args": (lambda t, s: t.train.cosine_decay_restarts(0.5, s, 10, t_mul=1.5, m_mul=0.8,
                                                                              alpha=0.1),
                                   lambda k: _np_cosine_decay_restarts(0.5, k, 10, 1.5, 0.8, 0.1)),
    "cosine_decay_restarts-t_mul1": (lambda t, s: t.train.cosine_decay_restarts(0.5, s, 10, t_mul=1.0, m_mul=0.5),
                                     lambda k: _np_cosine_decay_restarts(0.5, k, 10, 1.0, 0.5, 0.0)),
    "linear_cosine_decay": (lambda t, s: t.train.linear_cosine_decay(0.5, s, 100),
                            lambda k: _np_linear_cosine_decay(0.5, k, 100, 0.5, 0.0, 0.001)),
    "linear_cosine_decay-args": (lambda t, s: t.train.linear_cosine_decay(0.5, s, 100, num_periods=2.0,
                                                                          alpha=0.2, beta=0.01),
                                 lambda k: _np_linear_cosine_decay(0.5, k, 100, 2.0, 0.2, 0.01)),
    "noisy_linear_cosine_decay-no_noise": (lambda t, s: t.train.noisy_linear_cosine_decay(
        0.5, s, 100, initial_variance=0.0, num_periods=2.0, alpha=0.2),
        lambda k: _np_linear_cosine_decay(0.5, k, 100, 2.0, 0.2, 0.001)),
    "polynomial_decay-cycle": (lambda t, s: t.train.polynomial_decay(0.5, s, 10, 0.01, power=0.5, cycle=True),
                               lambda k: (0.5 - 0.01) * (1 - k / (10 * max(1, np.ceil(k / 10)))) ** 0.5 + 0.01),
    "natural_exp_decay": (lambda t, s: t.train.natural_exp_decay(0.5, s, 10, 0.3),
                          lambda k: 0.5 * np.exp(-0.3 * k / 10)),
    "inverse_time_decay-staircase": (lambda t, s: t.train.inverse_time_decay(0.5, s, 10, 0.3, staircase=True),
                                     lambda k: 0.5 / (1 + 0.3 * (k // 10))),
    "cosine_decay": (lambda t, s: t.train.cosine_decay(0.5, s, 100, alpha=0.1),
                     lambda k: 0.5 * (0.9 * 0.5 * (1 + np.cos(np.pi * min(k, 100) / 100)) + 0.1)),
    "exponential_decay-staircase": (lambda t, s: t.train.exponential_decay(0.5, s, 10, 0.7, staircase=True),
                                    lambda k: 0.5 * 0.7 ** (k // 10)),
    "piecewise_constant": (lambda t, s: t.train.piecewise_constant(s, [np.int64(10), np.int64(30)], [1.0, 0.5, 0.1]),
                           lambda k: 1.0 if k <= 10 else 0.5 if k <= 30 else 0.1),
}


def _schedule_in(t, build, steps):
    g = t.Graph()
    with g.as_default():
        step = t.train.get_or_create_global_step()
        lr = build(t, step)
        with t.Session(graph=g) as sess:
            out = []
            for s in steps:
                sess.run(t.assign(step, s))
                out.append(sess.run(lr))
            return np.array(out), lr


@pytest.mark.parametrize("key", sorted(NEW_SCHEDULES))
def test_schedule_matches_formula_and_tensorflow(key):
    build, formula = NEW_SCHEDULES[key]
    got, lr = _schedule_in(tf, build, SCHEDULE_STEPS)
    assert lr.dtype == tf.float32
    np.testing.assert_allclose(got, [formula(k) for k in SCHEDULE_STEPS], rtol=2e-5, atol=1e-7)
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    want, want_lr = _schedule_in(tf1, build, SCHEDULE_STEPS)
    # 1 + cos(x) near x = pi cancels: one ulp of cos is ~3e-8 absolute, whatever the relative size.
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    # TF's piecewise_constant ends in a tf.case and its cosine_decay in an unnamed `CosineDecay/Mul_3`;
    # the others name their result after the schedule.
    if key not in ("piecewise_constant", "cosine_decay"):
        assert lr.op.name == want_lr.op.name


def test_new_schedules_float64_and_names():
    g = tf.Graph()
    with g.as_default():
        step = tf.placeholder(tf.int64, [])
        lrs = [tf.train.cosine_decay_restarts(np.float64(0.5), step, 10, t_mul=1.5, m_mul=0.8, alpha=0.1),
               tf.train.linear_cosine_decay(np.float64(0.5), step, 100, num_periods=2.0, alpha=0.2, beta=0.01),
               tf.train.cosine_decay_restarts(0.5, step, 10, name="sgdr")]
        assert [lr.dtype for lr in lrs[:2]] == [tf.float64, tf.float64]
        assert lrs[0].op.name == "SGDRDecay" and lrs[1].op.name == "LinearCosineDecay" and lrs[2].op.name == "sgdr"
        with tf.Session() as sess:
            for k in (0, 7, 33, 140):
                a, b = sess.run(lrs[:2], {step: k})
                assert a == pytest.approx(_np_cosine_decay_restarts(0.5, k, 10, 1.5, 0.8, 0.1), rel=1e-12)
                assert b == pytest.approx(_np_linear_cosine_decay(0.5, k, 100, 2.0, 0.2, 0.01), rel=1e-12)
    for fn in (tf.train.cosine_decay_restarts, tf.train.linear_cosine_decay, tf.train.noisy_linear_cosine_decay):
        with pytest.raises(ValueError, match="global_step is required for " + fn.__name__):
            fn(0.1, None, 10)


def test_cosine_decay_restarts_with_tensor_t_mul():
    for t_mul in (1.0, 2.0):
        got, _ = _schedule_in(tf, lambda t, s: t.train.cosine_decay_restarts(0.5, s, 10, t_mul=tf.constant(t_mul)),
                              SCHEDULE_STEPS)
        np.testing.assert_allclose(got, [_np_cosine_decay_restarts(0.5, k, 10, t_mul, 1.0, 0.0)
                                         for k in SCHEDULE_STEPS], rtol=2e-5, atol=1e-7)


def test_noisy_linear_cosine_decay_noise():
    """A fresh normal draw each run, of variance initial_variance / (1 + step)^variance_decay, added to the
    linear part: (lr - lr_without_noise) / (lr * cosine) is that draw."""
    g = tf.Graph()
    with g.as_default():
        step = tf.placeholder(tf.int64, [])
        lr = tf.train.noisy_linear_cosine_decay(1.0, step, 100, initial_variance=2.0, variance_decay=0.5,
                                                num_periods=0.25, beta=0.0)
        assert lr.op.name == "NoisyLinearCosineDecay"
        with tf.Session() as sess:
            k = 20
            cosine = 0.5 * (1 + np.cos(np.pi * 2 * 0.25 * k / 100))
            draws = np.array([sess.run(lr, {step: k}) for _ in range(2000)]) / cosine - (100 - k) / 100
    assert len(np.unique(draws)) > 1900
    assert abs(draws.mean()) < 0.1
    assert draws.std() == pytest.approx(np.sqrt(2.0 / (1 + k) ** 0.5), rel=0.08)
