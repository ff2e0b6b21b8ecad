"""The seed programs, unchanged TF1 code run with `import tideflow as tf`: linear regression on the diabetes
data (normal equation, batch gradient descent three ways, Momentum, Adam) and mini-batch logistic
regression on the moons data, checked against NumPy/scikit-learn answers."""
import numpy as np
import pytest

import tideflow as tf

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_diabetes, make_moons  # noqa: E402
from sklearn.metrics import precision_score, recall_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


@pytest.fixture(scope="module")
def diabetes():
    data = load_diabetes()
    m, n = data.data.shape
    target = data.target.reshape(-1, 1)
    with_bias = np.c_[np.ones((m, 1)), data.data]
    scaled = np.c_[np.ones((m, 1)), StandardScaler().fit_transform(data.data)]
    return with_bias, scaled, target


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


@pytest.mark.parametrize("dtype,rtol", [(tf.float32, 1e-3), (tf.float64, 1e-9)])
def test_normal_equation_matches_lstsq(diabetes, dtype, rtol):
    data, _, target = diabetes
    X = tf.constant(data, dtype=dtype, name="X")
    y = tf.constant(target, dtype=dtype, name="y")
    XT = tf.transpose(X)
    theta = tf.matmul(tf.matmul(tf.matrix_inverse(tf.matmul(XT, X)), XT), y)
    with tf.Session() as sess:
        theta_value = theta.eval()
    expected = np.linalg.lstsq(data, target, rcond=None)[0]
    assert theta_value.shape == (data.shape[1], 1)
    np.testing.assert_allclose(theta_value, expected, rtol=0, atol=rtol * np.abs(expected).max())


def _batch_gradient_descent(scaled, target, gradient_kind, n_epochs=1000, learning_rate=0.01):
    m, n1 = scaled.shape
    X = tf.constant(scaled, dtype=tf.float32, name="X")
    y = tf.constant(target, dtype=tf.float32, name="y")
    theta = tf.Variable(tf.random_uniform([n1, 1], -1.0, 1.0, seed=42), name="theta")
    y_pred = tf.matmul(X, theta, name="predictions")
    error = y_pred - y
    mse = tf.reduce_mean(tf.square(error), name="mse")
    if gradient_kind == "manual":
        gradients = 2 / m * tf.matmul(tf.transpose(X), error)
        training_op = tf.assign(theta, theta - learning_rate * gradients)
    elif gradient_kind == "autodiff":
        gradients = tf.gradients(mse, [theta])[0]
        training_op = tf.assign(theta, theta - learning_rate * gradients)
    elif gradient_kind == "optimizer":
        optimizer = tf.train.GradientDescentOptimizer(learning_rate=learning_rate)
        training_op = optimizer.minimize(mse)
    elif gradient_kind == "momentum":
        optimizer = tf.train.MomentumOptimizer(learning_rate=learning_rate, momentum=0.9)
        training_op = optimizer.minimize(mse)
    else:
        optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate)
        training_op = optimizer.minimize(mse)
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init)
        initial = theta.eval()
        for epoch in range(n_epochs):
            sess.run(training_op)
        return initial, theta.eval(), mse.eval()


def _optimal_mse(scaled, target):
    best = np.linalg.lstsq(scaled, target, rcond=None)[0]
    return ((scaled @ best - target) ** 2).mean()


def test_batch_gradient_descent_three_ways_agree(diabetes):
    _, scaled, target = diabetes
    results = {}
    for kind in ("manual", "autodiff", "optimizer"):
        tf.reset_default_graph()
        results[kind] = _batch_gradient_descent(scaled, target, kind)
    init_manual, theta_manual, mse_manual = results["manual"]
    for kind in ("autodiff", "optimizer"):
        init, theta, mse = results[kind]
        np.testing.assert_array_equal(init, init_manual)  # same seed, same start
        np.testing.assert_allclose(theta, theta_manual, rtol=1e-3, atol=1e-2)
        np.testing.assert_allclose(mse, mse_manual, rtol=1e-4)
    assert np.abs(theta_manual - init_manual).max() > 10  # it trained
    # 1000 steps of lr 0.01 on standardized features: within 1% of the least-squares optimum
    assert mse_manual < 1.01 * _optimal_mse(scaled, target)


@pytest.mark.parametrize("kind,learning_rate", [("momentum", 0.01), ("adam", 1.0)])
def test_momentum_and_adam_converge(diabetes, kind, learning_rate):
    _, scaled, target = diabetes
    _, theta, mse = _batch_gradient_descent(scaled, target, kind, learning_rate=learning_rate)
    assert mse < 1.001 * _optimal_mse(scaled, target)
    if kind == "adam":
        best = np.linalg.lstsq(scaled, target, rcond=None)[0]
        np.testing.assert_allclose(theta, best, atol=1.0)


def _moons_logistic_regression(features, learning_rate, n_epochs, batch_size=50, m=1000):
    X_moons, y_moons = make_moons(m, noise=0.1, random_state=42)
    data = np.c_[np.ones((m, 1)), features(X_moons)]
    labels = y_moons.reshape(-1, 1)
    test_size = int(m * 0.2)
    X_train, X_test = data[:-test_size], data[-test_size:]
    y_train, y_test = labels[:-test_size], labels[-test_size:]
    rng = np.random.RandomState(42)

    def random_batch(X_train, y_train, batch_size):
        rnd_indices = rng.randint(0, len(X_train), batch_size)
        return X_train[rnd_indices], y_train[rnd_indices]

    n_inputs = data.shape[1] - 1
    X = tf.placeholder(tf.float32, shape=(None, n_inputs + 1), name="X")
    y = tf.placeholder(tf.float32, shape=(None, 1), name="y")
    theta = tf.Variable(tf.random_uniform([n_inputs + 1, 1], -1.0, 1.0, seed=42), name="theta")
    logits = tf.matmul(X, theta, name="logits")
    y_proba = tf.sigmoid(logits)
    loss = tf.losses.log_loss(y, y_proba)
    optimizer = tf.train.GradientDescentOptimizer(learning_rate=learning_rate)
    training_op = optimizer.minimize(loss)
    init = tf.global_variables_initializer()
    n_batches = int(np.ceil(m / batch_size))
    with tf.Session() as sess:
        sess.run(init)
        first_loss = loss.eval({X: X_test, y: y_test})
        for epoch in range(n_epochs):
            for batch_index in range(n_batches):
                X_batch, y_batch = random_batch(X_train, y_train, batch_size)
                sess.run(training_op, feed_dict={X: X_batch, y: y_batch})
        last_loss = loss.eval({X: X_test, y: y_test})
        y_proba_val = y_proba.eval(feed_dict={X: X_test, y: y_test})
    y_pred = y_proba_val >= 0.5
    assert last_loss < first_loss
    return precision_score(y_test, y_pred), recall_score(y_test, y_pred)


def test_logistic_regression_on_moons():
    precision, recall = _moons_logistic_regression(lambda x: x, learning_rate=0.01, n_epochs=1000)
    assert precision >= 0.83 and recall >= 0.83, (precision, recall)


def test_logistic_regression_on_moons_with_squares_and_cubes():
    def enhanced(x):
        return np.c_[x, x[:, 0] ** 2, x[:, 1] ** 2, x[:, 0] ** 3, x[:, 1] ** 3]
    precision, recall = _moons_logistic_regression(enhanced, learning_rate=0.1, n_epochs=300)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
