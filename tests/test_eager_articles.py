"""The eager programs of the articles tideflow follows (seeds 001, 002, 004), each run as a whole program
in a fresh interpreter: the TF 2 ones with only the import line changed (`import tideflow.v2 as tf`), the
TF 1.x eager one with `import tideflow as tf` and tfe. Where TensorFlow 2 is installed the same text runs
under it too and values (and printed lines) must agree; otherwise the values are checked against NumPy."""
import numpy as np
import pytest

from eager_scripts import have_tensorflow, run

TIDEFLOW_V2 = "import tideflow.v2 as tf"
TENSORFLOW_V2 = "import tensorflow as tf"
TIDEFLOW_V1 = "import tideflow as tf\ntf.enable_eager_execution()"
TENSORFLOW_V1 = "import tensorflow.compat.v1 as tf\ntf.enable_eager_execution()"


def _both(body, tideflow_import=TIDEFLOW_V2, tensorflow_import=TENSORFLOW_V2):
    ours = run(body, tideflow_import)
    theirs = run(body, tensorflow_import) if have_tensorflow() else None
    return ours, theirs


def _close(a, b, rtol=1e-5, atol=1e-6):
    """Nested lists of numbers (tensors reported by scripts) equal within tolerance; None matches None."""
    if a is None or b is None:
        assert a is None and b is None, (a, b)
        return
    if isinstance(a, list) and any(isinstance(x, list) or x is None for x in a):
        assert isinstance(b, list) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            _close(x, y, rtol, atol)
        return
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol)


# ---- 001: eager matmul, NumPy interop, tfe gradients, huber regression --------------------------------

MATMUL_PRINTING = """
import numpy as np
x = [[2.]]
m = tf.matmul(x, x)
print(m)
print(repr(m))
x = tf.constant([1.0, 2.0, 3.0])
assert type(x.numpy()) == np.ndarray
squared = np.square(x)
print(squared)
for i in x:
    print(i)
y = tf.constant([[1., 2.], [3., 4.]])
for i in range(y.shape[0]):
    for j in range(y.shape[1]):
        print(y[i, j])
print(tf.constant(3), tf.constant([1, 2, 3]), tf.constant(True), tf.constant("hi"))
print(repr(tf.constant(2.5)), repr(tf.constant([[1, 2]], dtype=tf.int64)))
print(tf.zeros([12, 12]))
print(tf.constant([1.5, 2.0], dtype=tf.float64))
v = tf.Variable([1.0, 2.0])
print(repr(v))
report("float", float(tf.constant(2.5)))
report("int", int(tf.constant(7)))
report("len", len(y))
report("bool", bool(tf.constant(1.0) > 0.5))
report("index", [10, 20, 30][tf.constant(1)])
report("array", np.asarray(y))
report("sum", np.sum(y))
"""


def test_matmul_printing_and_numpy_interop():
    (lines, vals), theirs = _both(MATMUL_PRINTING, TIDEFLOW_V1, TENSORFLOW_V1)
    assert lines[0] == "tf.Tensor([[4.]], shape=(1, 1), dtype=float32)"
    assert lines[1] == "<tf.Tensor: shape=(1, 1), dtype=float32, numpy=array([[4.]], dtype=float32)>"
    assert lines[2] == "[1. 4. 9.]"
    assert lines[3] == "tf.Tensor(1.0, shape=(), dtype=float32)"
    assert vals == {"float": 2.5, "int": 7, "len": 2, "bool": True, "index": 20,
                    "array": [[1.0, 2.0], [3.0, 4.0]], "sum": 10.0}
    if theirs is not None:
        assert lines == theirs[0]  # printed exactly as TensorFlow prints
        assert vals == theirs[1]


def test_graph_tensor_prints_as_tf1():
    lines, _ = run("""
x = tf.placeholder(tf.float32, shape=[1, 1])
m = tf.matmul(x, x)
print(m)
print(repr(m))
with tf.Session() as sess:
    print(sess.run(m, feed_dict={x: [[2.]]}))
""", "import tideflow as tf")
    assert lines == ['Tensor("MatMul:0", shape=(1, 1), dtype=float32)',
                     "<tf.Tensor 'MatMul:0' shape=(1, 1) dtype=float32>", "[[4.]]"]


TFE_GRADIENTS = """
import tideflow.contrib.eager as tfe
def f(x, y):
    return x ** 2 + y ** 3
g = tfe.gradients_function(f)
report("grads", g(1., 2.))
val, grads = tfe.value_and_gradients_function(f)(1., 2.)
report("value", val)
report("vgrads", grads)
report("dx_only", tfe.gradients_function(f, params=[0])(3., 2.))
x = tfe.Variable(initial_value=1.0, name="x")
y = tfe.Variable(initial_value=1.0, name="y")
def h(t):
    return 2 * x * t
gv = tfe.implicit_gradients(h)(1.)
report("implicit", [[float(gr), float(v)] for gr, v in gv])
report("implicit_vars", len(gv))
report("implicit_name", 0 if gv[0][1] is x else 1)
val, gv = tfe.implicit_value_and_gradients(h)(3.)
report("ivalue", val)
report("igrad", gv[0][0])
"""


def test_tfe_gradient_functions():
    _, v = run(TFE_GRADIENTS, TIDEFLOW_V1)
    assert v["grads"] == [2.0, 12.0]  # dx = 2x, dy = 3y^2
    assert v["value"] == 9.0 and v["vgrads"] == [2.0, 12.0]
    assert v["dx_only"] == [6.0]
    assert v["implicit"] == [[2.0, 1.0]]  # only x is used: [(2, x)]
    assert v["implicit_vars"] == 1 and v["implicit_name"] == 0
    assert v["ivalue"] == 6.0 and v["igrad"] == 6.0


HUBER_TAPE = """
import numpy as np
rng = np.random.RandomState(0)
xs = rng.uniform(0, 10, 40).astype(np.float32)
ys = (3 * xs + 5 + rng.normal(0, 4, 40)).astype(np.float32)
ys[::7] += 40  # outliers, where the huber loss is linear
w = tf.Variable(0.0)
b = tf.Variable(0.0)

def prediction(x):
    return x * w + b

def huber_loss(y, y_predicted, m=1.0):
    t = y - y_predicted
    return 0.5 * t ** 2 if tf.abs(t) <= m else m * (tf.abs(t) - 0.5 * m)

def huber_loss1(label, prediction, delta=1.0):
    residual = tf.abs(label - prediction)
    def f1(): return 0.5 * tf.square(residual)
    def f2(): return delta * residual - 0.5 * tf.square(delta)
    return tf.cond(residual < delta, f1, f2)

def train(loss_fn, epochs=20):
    w.assign(0.0)
    b.assign(0.0)
    optimizer = tf.train.GradientDescentOptimizer(learning_rate=0.01)
    totals = []
    for epoch in range(epochs):
        total = 0.0
        for x_i, y_i in zip(xs, ys):
            with tf.GradientTape() as tape:
                loss = loss_fn(y_i, prediction(x_i))
            grads = tape.gradient(loss, [w, b])
            optimizer.apply_gradients(zip(grads, [w, b]))
            total += loss
        totals.append(float(total) / len(xs))
    return totals, float(w.numpy()), float(b.numpy())

report("huber", train(huber_loss))
report("huber_cond", train(huber_loss1))
"""

HUBER_TFE = HUBER_TAPE.replace("""            with tf.GradientTape() as tape:
                loss = loss_fn(y_i, prediction(x_i))
            grads = tape.gradient(loss, [w, b])
            optimizer.apply_gradients(zip(grads, [w, b]))""", """            loss, gradients = grad_fn(x_i, y_i)
            optimizer.apply_gradients(gradients)""").replace("""    totals = []""", """    totals = []
    def loss_for_example(x, y):
        return loss_fn(y, prediction(x))
    grad_fn = tfe.implicit_value_and_gradients(loss_for_example)""")


def _huber_numpy(xs, ys, epochs=20):
    w = b = 0.0
    totals = []
    for _ in range(epochs):
        total = 0.0
        for x, y in zip(xs.astype(np.float64), ys.astype(np.float64)):
            t = y - (x * w + b)
            loss = 0.5 * t * t if abs(t) <= 1 else abs(t) - 0.5
            dt = t if abs(t) <= 1 else np.sign(t)
            w, b = w + 0.01 * dt * x, b + 0.01 * dt
            total += loss
        totals.append(total / len(xs))
    return totals, w, b


def test_huber_regression_eager_cond_and_tfe():
    ours, theirs = _both(HUBER_TAPE, TIDEFLOW_V1, TENSORFLOW_V1)
    _, tfe_vals = run("import tideflow.contrib.eager as tfe\n" + HUBER_TFE, TIDEFLOW_V1)
    rng = np.random.RandomState(0)
    xs = rng.uniform(0, 10, 40).astype(np.float32)
    ys = (3 * xs + 5 + rng.normal(0, 4, 40)).astype(np.float32)
    ys[::7] += 40
    ref_totals, ref_w, ref_b = _huber_numpy(xs, ys)
    for key in ("huber", "huber_cond"):
        totals, w, b = ours[1][key]
        np.testing.assert_allclose(totals, ref_totals, rtol=1e-3)
        np.testing.assert_allclose([w, b], [ref_w, ref_b], rtol=1e-3)
        assert tfe_vals[key][1:] == [w, b]  # tfe.implicit_value_and_gradients: the same steps
        if theirs is not None:
            np.testing.assert_allclose(ours[1][key][0], theirs[1][key][0], rtol=1e-5)
            np.testing.assert_allclose(ours[1][key][1:], theirs[1][key][1:], rtol=1e-5)


# ---- 002: tapes, activations, losses, Himmelblau ----------------------------------------------------

TAPES = """
w = tf.Variable(1.)
b = tf.Variable(2.)
x = tf.Variable(3.)
with tf.GradientTape() as t1:
    with tf.GradientTape() as t2:
        y = x * w + b
    dy_dw, dy_db = t2.gradient(y, [w, b])
d2y_dw2 = t1.gradient(dy_dw, w)
print(dy_dw, dy_db, d2y_dw2)
assert dy_dw.numpy() == 3.0
assert d2y_dw2 is None

x = tf.constant(3.0)
with tf.GradientTape(persistent=True) as g:
    g.watch(x)
    y = x * x
    z = y * y
report("dz_dx", g.gradient(z, x))
report("dy_dx", g.gradient(y, x))
del g

x = tf.Variable(2.0)
with tf.GradientTape() as t1:
    with tf.GradientTape() as t2:
        y = x ** 3
    dy = t2.gradient(y, x)
d2y = t1.gradient(dy, x)
report("third_power", [dy, d2y])

for name, fn, lo, hi in (("sigmoid", tf.sigmoid, -10., 10.), ("tanh", tf.tanh, -5., 5.),
                         ("relu", tf.nn.relu, -1., 1.)):
    a = tf.linspace(lo, hi, 10)
    with tf.GradientTape() as tape:
        tape.watch(a)
        y = fn(a)
    grads = tape.gradient(y, [a])
    report(name, [a, y, grads[0]])
a = tf.linspace(-10., 10., 10)
print(a)
with tf.GradientTape() as tape:
    tape.watch(a)
    y = tf.sigmoid(a)
print(tape.gradient(y, [a]))
"""


def test_persistent_nested_tapes_and_activations():
    ours, theirs = _both(TAPES)
    lines, v = ours
    assert lines[0] == ("tf.Tensor(3.0, shape=(), dtype=float32) tf.Tensor(1.0, shape=(), dtype=float32) None")
    assert v["dz_dx"] == 108.0 and v["dy_dx"] == 6.0
    assert v["third_power"] == [12.0, 12.0]
    for name, f, df in (("sigmoid", lambda a: 1 / (1 + np.exp(-a)), lambda a: np.exp(-a) / (1 + np.exp(-a)) ** 2),
                        ("tanh", np.tanh, lambda a: 1 - np.tanh(a) ** 2),
                        ("relu", lambda a: np.maximum(a, 0), lambda a: (a > 0).astype(np.float64))):
        a, y, g = (np.asarray(t, np.float64) for t in v[name])
        np.testing.assert_allclose(y, f(a), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(g, df(a), rtol=1e-4, atol=1e-7)
    if theirs is not None:
        # 1 - tanh(a)^2 near |tanh| = 1 magnifies one ulp of the float32 tanh (both use polynomial
        # approximations) to a 1e-4 relative difference.
        for k in ("dz_dx", "dy_dx", "third_power", "sigmoid", "tanh", "relu"):
            _close(v[k], theirs[1][k], rtol=5e-4, atol=1e-7)
        assert lines[0] == theirs[0][0]
        assert len(lines) == len(theirs[0])


LOSSES = """
tf.random.set_seed(7)
x = tf.random.normal([2, 4])
w = tf.random.normal([4, 3])
b = tf.zeros([3])
y = tf.constant([2, 0])
with tf.GradientTape() as tape:
    tape.watch([w, b])
    prob = tf.nn.softmax(x @ w + b, axis=1)
    loss = tf.reduce_mean(tf.losses.MSE(tf.one_hot(y, depth=3), prob))
grads = tape.gradient(loss, [w, b])
report("x", x)
report("w", w)
report("mse", [loss, grads[0], grads[1]])
with tf.GradientTape() as tape:
    tape.watch([w, b])
    logits = x @ w + b
    loss = tf.reduce_mean(tf.losses.categorical_crossentropy(tf.one_hot(y, depth=3), logits, from_logits=True))
grads = tape.gradient(loss, [w, b])
report("ce", [loss, grads[0], grads[1]])
with tf.GradientTape() as tape:
    tape.watch([w, b])
    prob = tf.nn.softmax(x @ w + b)
    loss = tf.reduce_mean(tf.losses.categorical_crossentropy(tf.one_hot(y, depth=3), prob))
report("ce_prob", [loss] + tape.gradient(loss, [w, b]))
p = tf.constant([[0.2, 0.7], [0.9, 0.4]])
t = tf.constant([[0., 1.], [1., 1.]])
for name in ("binary_crossentropy", "mean_absolute_error", "huber", "kld", "log_cosh", "poisson",
             "mean_squared_logarithmic_error", "hinge"):
    if hasattr(tf.losses, name):  # Keras 3 dropped some of Keras 2's function names
        report(name, getattr(tf.losses, name)(t, p))
report("sparse", tf.losses.sparse_categorical_crossentropy(y, x @ w + b, from_logits=True))
"""


def _softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_mse_and_cross_entropy_gradients():
    ours, theirs = _both(LOSSES)
    v = ours[1]
    x, w = np.asarray(v["x"], np.float64), np.asarray(v["w"], np.float64)
    onehot = np.eye(3)[[2, 0]]
    # NumPy reference for the MSE flow: loss = mean((onehot - softmax(xw))^2) over both axes.
    p = _softmax(x @ w)
    d_p = 2 * (p - onehot) / 6
    d_z = p * (d_p - (d_p * p).sum(1, keepdims=True))
    loss, gw, gb = v["mse"]
    np.testing.assert_allclose(loss, ((p - onehot) ** 2).mean(), rtol=1e-5)
    np.testing.assert_allclose(gw, x.T @ d_z, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(gb, d_z.sum(0), rtol=1e-4, atol=1e-7)
    loss, gw, gb = v["ce"]
    np.testing.assert_allclose(loss, -np.log((p * onehot).sum(1)).mean(), rtol=1e-5)
    np.testing.assert_allclose(gw, x.T @ ((p - onehot) / 2), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(gb, ((p - onehot) / 2).sum(0), rtol=1e-4, atol=1e-7)
    if theirs is not None:
        # tf.random.set_seed(7): the same normal draws as TensorFlow 2.
        np.testing.assert_array_equal(v["x"], theirs[1]["x"])
        np.testing.assert_array_equal(v["w"], theirs[1]["w"])
        compared = [k for k in v if k in theirs[1] and k not in ("x", "w")]
        assert {"mse", "ce", "ce_prob", "binary_crossentropy", "huber", "sparse"} <= set(compared)
        for k in compared:
            _close(v[k], theirs[1][k], rtol=2e-5, atol=1e-6)


HIMMELBLAU = """
import numpy as np
def himmelblau(x):
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2
x = tf.constant([-4, 0.])
trace = []
for step in range(200):
    with tf.GradientTape() as tape:
        tape.watch([x])
        y = himmelblau(x)
    grads = tape.gradient(y, [x])[0]
    x -= 0.01 * grads
    if step % 20 == 0:
        print('step {}: x = {}, f(x) = {}'.format(step, x.numpy(), y.numpy()))
        trace.append([float(x[0]), float(x[1]), float(y)])
report("x", x)
report("trace", trace)
"""


def test_himmelblau_gradient_descent():
    ours, theirs = _both(HIMMELBLAU)
    lines, v = ours
    # From [-4, 0] gradient descent reaches the minimum near (-3.779, -3.283), where f = 0.
    np.testing.assert_allclose(v["x"], [-3.7793102, -3.283186], atol=1e-4)
    assert v["trace"][-1][2] < 1e-6
    assert lines[0].startswith("step 0: x = [")
    if theirs is not None:
        np.testing.assert_allclose(v["x"], theirs[1]["x"], rtol=1e-5)
        np.testing.assert_allclose(v["trace"], theirs[1]["trace"], rtol=1e-4, atol=1e-4)


# ---- 004: the derivative of x^2 and linear regression with apply_gradients ---------------------------

LINREG = """
import numpy as np
x = tf.Variable(initial_value=3.)
with tf.GradientTape() as tape:
    y = tf.square(x)
y_grad = tape.gradient(y, x)
report("square", [y.numpy(), y_grad.numpy()])

rng = np.random.RandomState(0)
x_data = rng.uniform(-1, 1, 10000).astype(np.float32)
y_true = (2.0 * x_data + 0.7 + rng.normal(0, 0.1, 10000)).astype(np.float32)
BATCH_SIZE = 64
def next_batch(x_data, batch_size):
    batch_index = rng.randint(len(x_data), size=(BATCH_SIZE))
    return x_data[batch_index], y_true[batch_index]
w = tf.Variable(initial_value=0.)
b = tf.Variable(initial_value=0.)
optimizer = tf.compat.v1.train.GradientDescentOptimizer(learning_rate=0.1)
losses = []
for step in range(300):
    x_train, y_train = next_batch(x_data, BATCH_SIZE)
    with tf.GradientTape() as tape:
        y_pred = w * x_train + b
        loss = tf.reduce_sum(tf.square(y_pred - y_train)) / (BATCH_SIZE)
    grads = tape.gradient(loss, [w, b])
    optimizer.apply_gradients(grads_and_vars=zip(grads, [w, b]))
    losses.append(float(loss))
report("wb", [w.numpy(), b.numpy()])
report("losses", losses[::30])
"""


def test_linear_regression_apply_gradients():
    ours, theirs = _both(LINREG)
    v = ours[1]
    assert v["square"] == [9.0, 6.0]
    np.testing.assert_allclose(v["wb"], [2.0, 0.7], atol=0.05)
    if theirs is not None:
        np.testing.assert_allclose(v["wb"], theirs[1]["wb"], rtol=1e-5)
        np.testing.assert_allclose(v["losses"], theirs[1]["losses"], rtol=1e-4)


# ---- the MLP step: eager, under tf.function, and TensorFlow 2 ----------------------------------------

MLP = """
import numpy as np
rng = np.random.RandomState(0)
xb = rng.rand(32, 20).astype(np.float32)
yb = rng.randint(0, 5, 32).astype(np.int64)
init = [((rng.randn(a, b) * 0.1).astype(np.float32), np.zeros(b, np.float32)) for a, b in [(20, 16), (16, 5)]]

def make(use_function):
    params = []
    for w, b in init:
        params += [tf.Variable(w), tf.Variable(b)]
    opt = tf.compat.v1.train.AdamOptimizer(0.01)
    def step(x, y):
        with tf.GradientTape() as tape:
            h = tf.nn.relu(tf.matmul(x, params[0]) + params[1])
            logits = tf.matmul(h, params[2]) + params[3]
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        grads = tape.gradient(loss, params)
        opt.apply_gradients(zip(grads, params))
        return loss
    if use_function:
        step = tf.function(step)
    losses = [float(step(tf.constant(xb), tf.constant(yb))) for _ in range(30)]
    return losses, [p.numpy() for p in params]

eager_losses, eager_params = make(False)
fn_losses, fn_params = make(True)
report("eager", eager_losses)
report("function", fn_losses)
report("params_equal", all(np.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(eager_params, fn_params)))
"""


def test_mlp_eager_function_and_tensorflow_agree():
    ours, theirs = _both(MLP)
    v = ours[1]
    np.testing.assert_allclose(v["eager"], v["function"], rtol=1e-5)
    assert v["params_equal"]
    assert v["eager"][-1] < v["eager"][0] * 0.7
    if theirs is not None:
        np.testing.assert_allclose(v["eager"], theirs[1]["eager"], rtol=1e-4)
        np.testing.assert_allclose(v["function"], theirs[1]["function"], rtol=1e-4)


def test_readme_eager_quickstart():
    import os
    import re
    readme = open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")).read()
    section = readme[readme.index("## Eager quickstart"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    lines, _ = run(code, "")
    assert lines[:2] == ["tf.Tensor([[4.]], shape=(1, 1), dtype=float32)", "[1. 4.]"]
    assert float(lines[2]) < 0.2
