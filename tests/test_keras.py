"""tf.keras (issue 13): Sequential / functional / subclassed models, compile-fit-evaluate-predict through the
traced step, losses, metrics, optimizers against TensorFlow's Keras, callbacks, summary() against tf_keras's
text, the progress bar, weights I/O, and training on scikit-learn's digits."""
import io
import os
import re
import contextlib

import numpy as np
import pytest

import tideflow as tf
from tideflow import _core
from tideflow.eager.context import eager_mode
from tideflow.keras import backend as K

keras = tf.keras


@pytest.fixture(autouse=True)
def eager():
    with eager_mode():
        K.clear_session()
        yield


@pytest.fixture(scope="module")
def digits():
    sk = pytest.importorskip("sklearn.datasets")
    d = sk.load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    rng = np.random.RandomState(0)
    idx = rng.permutation(len(x))
    x, y = x[idx], y[idx]
    return x[:1400], y[:1400], x[1400:], y[1400:]


def _seed(s=0):
    np.random.seed(s)
    tf.random.set_seed(s)


def _mlp(hidden=64):
    return keras.Sequential([keras.layers.Dense(hidden, activation="relu", input_shape=(64,)),
                             keras.layers.Dense(10)])


# ---- the tf.layers bug: layers run eagerly when executing eagerly ----

def test_tf_layers_functional_form_runs_eagerly():
    x = tf.ones([2, 3])
    y = tf.layers.dense(x, 2)
    z = tf.layers.Dense(3)(x)
    assert hasattr(y, "numpy") and y.numpy().shape == (2, 2)
    assert hasattr(z, "numpy") and z.numpy().shape == (2, 3)
    img = tf.ones([2, 5, 5, 3])
    for out in (tf.layers.conv2d(img, 4, 3), tf.layers.batch_normalization(img, training=True),
                tf.layers.max_pooling2d(img, 2, 2), tf.layers.dropout(img, training=True), tf.layers.flatten(img)):
        assert hasattr(out, "numpy")
    dropped = keras.layers.Dropout(0.5)(np.ones((50, 40), np.float32), training=True).numpy()
    assert set(np.unique(dropped)) == {0.0, 2.0}


# ---- training on digits ----

def test_sequential_dense_fit_digits(digits):
    xtr, ytr, xte, yte = digits
    _seed(1)
    model = _mlp()
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    hist = model.fit(xtr, ytr, epochs=8, batch_size=32, verbose=0, validation_split=0.1)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    loss, acc = model.evaluate(xte, yte, verbose=0)
    assert acc >= 0.95, acc
    pred = model.predict(xte, verbose=0)
    assert pred.shape == (len(xte), 10)
    assert np.mean(np.argmax(pred, 1) == yte) == pytest.approx(acc, abs=1e-6)
    # the traced step: one trace for full batches, one for the last short batch
    assert model._train_fn.experimental_get_tracing_count() <= 2


def test_conv2d_fit_digits(digits):
    xtr, ytr, xte, yte = digits
    _seed(2)
    model = keras.Sequential([
        keras.layers.Reshape((8, 8, 1), input_shape=(64,)),
        keras.layers.Conv2D(16, 3, activation="relu", padding="same"),
        keras.layers.MaxPool2D(),
        keras.layers.BatchNormalization(),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.1),
        keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["acc"])
    model.fit(xtr, ytr, epochs=6, batch_size=32, verbose=0)
    res = model.evaluate(xte, yte, verbose=0, return_dict=True)
    assert set(res) == {"loss", "acc"}
    assert res["acc"] >= 0.95, res
    bn = model.layers[3]
    assert not np.allclose(bn.moving_mean.numpy(), 0.0)  # the moving averages were updated in training


def test_article_002_custom_loop(digits):
    """Sequential + Adam + GradientTape, iterating NumPy batches."""
    xtr, ytr, xte, yte = digits
    _seed(3)
    model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])
    opt = keras.optimizers.Adam(learning_rate=1e-2)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for epoch in range(5):
        perm = np.random.permutation(len(xtr))
        for i in range(0, len(xtr), 32):
            xb, yb = xtr[perm[i:i + 32]], ytr[perm[i:i + 32]]
            with tf.GradientTape() as tape:
                loss = loss_fn(yb, model(xb, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
    acc = np.mean(np.argmax(model(xte).numpy(), 1) == yte)
    assert acc >= 0.90, acc
    assert int(opt.iterations.numpy()) == 5 * int(np.ceil(len(xtr) / 32))


def test_fit_accepts_generators_and_datasets(digits):
    xtr, ytr, xte, yte = digits
    _seed(4)
    model = _mlp(32)
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9), keras.losses.SparseCategoricalCrossentropy(True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])

    def gen():
        while True:
            for i in range(0, len(xtr), 50):
                yield xtr[i:i + 50], ytr[i:i + 50]

    model.fit(gen(), steps_per_epoch=28, epochs=2, verbose=0)

    class FakeDataset:
        """Iterates eagerly into tuples of tensors, as a tf.data.Dataset does."""
        element_spec = None

        def __iter__(self):
            for i in range(0, len(xtr), 64):
                yield tf.constant(xtr[i:i + 64]), tf.constant(ytr[i:i + 64])

    hist = model.fit(FakeDataset(), epochs=2, verbose=0, validation_data=FakeDataset())
    assert len(hist.history["val_loss"]) == 2
    res = model.evaluate(iter([(xte, yte)]), verbose=0, return_dict=True)
    assert res["sparse_categorical_accuracy"] >= 0.9
    out = model.predict(FakeDataset(), verbose=0)
    assert out.shape == (len(xtr), 10)


def test_on_batch_methods_and_weights(digits):
    xtr, ytr, _, _ = digits
    _seed(5)
    model = _mlp(16)
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    l0 = model.test_on_batch(xtr[:64], ytr[:64])
    for _ in range(20):
        model.train_on_batch(xtr[:64], ytr[:64])
    l1 = model.test_on_batch(xtr[:64], ytr[:64])
    assert l1[0] < l0[0]
    p = model.predict_on_batch(xtr[:5])
    w = model.get_weights()
    assert [a.shape for a in w] == [(64, 16), (16,), (16, 10), (10,)]
    model.set_weights([np.zeros_like(a) for a in w])
    np.testing.assert_array_equal(model.predict_on_batch(xtr[:5]), np.zeros((5, 10), np.float32))
    model.set_weights(w)
    np.testing.assert_allclose(model.predict_on_batch(xtr[:5]), p, rtol=1e-6)


# ---- functional and subclassed models ----

def test_functional_multi_input_output():
    _seed(6)
    a = keras.Input((8,), name="a")
    b = keras.Input((4,), name="b")
    c = keras.layers.Concatenate()([a, b])
    h = keras.layers.Dense(16, activation="relu")(c)
    o1 = keras.layers.Dense(3, name="cls")(h)
    o2 = keras.layers.Dense(1, name="reg")(h)
    model = keras.Model([a, b], [o1, o2])
    assert [x.name for x in model.layers] == ["a", "b", "concatenate", "dense", "cls", "reg"]
    xa = np.random.rand(40, 8).astype(np.float32)
    xb = np.random.rand(40, 4).astype(np.float32)
    ya = np.random.randint(0, 3, 40)
    yb = xa.sum(1, keepdims=True)
    model.compile("adam", loss={"cls": keras.losses.SparseCategoricalCrossentropy(from_logits=True), "reg": "mse"},
                  loss_weights=[1.0, 0.5], metrics={"cls": ["accuracy"]})
    hist = model.fit([xa, xb], [ya, yb], epochs=2, batch_size=8, verbose=0)
    assert set(hist.history) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}
    np.testing.assert_allclose(hist.history["loss"][-1],
                               hist.history["cls_loss"][-1] + 0.5 * hist.history["reg_loss"][-1], rtol=1e-4)
    p1, p2 = model.predict([xa, xb], verbose=0)
    assert p1.shape == (40, 3) and p2.shape == (40, 1)
    # eager call of the functional model equals predict
    e1, e2 = model([xa, xb])
    np.testing.assert_allclose(e1.numpy(), p1, rtol=1e-5, atol=1e-6)


def test_nested_models_share_weights():
    inner = keras.Sequential([keras.layers.Dense(4, activation="relu", input_shape=(3,)), keras.layers.Dense(2)])
    x = keras.Input((3,))
    y = keras.layers.Dense(1)(inner(x))
    outer = keras.Model(x, y)
    assert len(outer.weights) == 6
    data = np.random.rand(5, 3).astype(np.float32)
    ref = inner(data).numpy() @ outer.layers[-1].kernel.numpy() + outer.layers[-1].bias.numpy()
    np.testing.assert_allclose(outer(data).numpy(), ref, rtol=1e-5)


class Scale(keras.layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight("w", shape=(int(input_shape[-1]),), initializer="ones")
        self.b = self.add_weight("b", shape=(), initializer="zeros", trainable=False)

    def call(self, inputs, training=None):
        return inputs * self.w + (1.0 if training else 0.0)


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.scale = Scale()
        self.d1 = keras.layers.Dense(8, activation="relu")
        self.d2 = keras.layers.Dense(2)

    def call(self, x, training=None):
        return self.d2(self.d1(self.scale(x, training=training)))


def test_subclassed_model_and_layer():
    net = Net()
    x = np.ones((3, 5), np.float32)
    out = net(x)
    assert out.shape == (3, 2)
    assert [w.name for w in net.scale.weights] == ["net/scale/w:0", "net/scale/b:0"]
    assert len(net.trainable_variables) == 5 and len(net.weights) == 6
    assert not np.allclose(net.scale(x, training=True).numpy(), net.scale(x, training=False).numpy())
    net.compile("adam", "mse")
    net.fit(x, np.zeros((3, 2), np.float32), epochs=2, verbose=0)
    buf = io.StringIO()
    net.summary(print_fn=lambda s: buf.write(s + "\n"))
    assert "multiple" in buf.getvalue() and "Total params: 72" in buf.getvalue()


# ---- summary(): the text tf_keras 2.21 prints for the same models ----

_SUMMARY_SEQ = '''Model: "sequential"
_________________________________________________________________
 Layer (type)                Output Shape              Param #   
=================================================================
 dense (Dense)               (None, 128)               8320      
                                                                 
 dropout (Dropout)           (None, 128)               0         
                                                                 
 dense_1 (Dense)             (None, 10)                1290      
                                                                 
=================================================================
Total params: 9610 (37.54 KB)
Trainable params: 9610 (37.54 KB)
Non-trainable params: 0 (0.00 Byte)
_________________________________________________________________
'''

_SUMMARY_FUNC = '''Model: "model"
__________________________________________________________________________________________________
 Layer (type)                Output Shape                 Param #   Connected to                  
==================================================================================================
 a (InputLayer)              [(None, 8)]                  0         []                            
                                                                                                  
 b (InputLayer)              [(None, 4)]                  0         []                            
                                                                                                  
 concatenate (Concatenate)   (None, 12)                   0         ['a[0][0]',                   
                                                                     'b[0][0]']                   
                                                                                                  
 dense_2 (Dense)             (None, 3)                    39        ['concatenate[0][0]']         
                                                                                                  
 dense_3 (Dense)             (None, 1)                    13        ['concatenate[0][0]']         
                                                                                                  
==================================================================================================
Total params: 52 (208.00 Byte)
Trainable params: 52 (208.00 Byte)
Non-trainable params: 0 (0.00 Byte)
__________________________________________________________________________________________________
'''

_SUMMARY_CNN = '''Model: "sequential_1"
_________________________________________________________________
 Layer (type)                Output Shape              Param #   
=================================================================
 conv2d (Conv2D)             (None, 6, 6, 8)           80        
                                                                 
 batch_normalization (Batch  (None, 6, 6, 8)           32        
 Normalization)                                                  
                                                                 
 max_pooling2d (MaxPooling2  (None, 3, 3, 8)           0         
 D)                                                              
                                                                 
 flatten (Flatten)           (None, 72)                0         
                                                                 
 dense_4 (Dense)             (None, 10)                730       
                                                                 
=================================================================
Total params: 842 (3.29 KB)
Trainable params: 826 (3.23 KB)
Non-trainable params: 16 (64.00 Byte)
_________________________________________________________________
'''


def _summary(model):
    buf = io.StringIO()
    model.summary(print_fn=lambda s: buf.write(s + "\n"))
    return buf.getvalue()


def test_summary_text_matches_tf_keras():
    """The expected texts are what tf_keras 2.21 prints for these models built in this order (one session)."""
    m1 = keras.Sequential([keras.layers.Dense(128, activation="relu", input_shape=(64,)), keras.layers.Dropout(0.2),
                           keras.layers.Dense(10)])
    i = keras.Input((8,), name="a")
    j = keras.Input((4,), name="b")
    c = keras.layers.Concatenate()([i, j])
    m2 = keras.Model([i, j], [keras.layers.Dense(3)(c), keras.layers.Dense(1)(c)])
    m3 = keras.Sequential([keras.layers.Conv2D(8, 3, input_shape=(8, 8, 1)), keras.layers.BatchNormalization(),
                           keras.layers.MaxPool2D(), keras.layers.Flatten(), keras.layers.Dense(10)])
    assert _summary(m1) == _SUMMARY_SEQ
    assert _summary(m2) == _SUMMARY_FUNC
    assert _summary(m3) == _SUMMARY_CNN


# ---- progress bar ----

def _fit_output(verbose, epochs=2):
    _seed(7)
    x = np.random.rand(100, 4).astype(np.float32)
    y = np.random.rand(100, 1).astype(np.float32)
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(4,))])
    model.compile("sgd", "mse", metrics=["mae"])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        hist = model.fit(x, y, batch_size=25, epochs=epochs, verbose=verbose)
    return buf.getvalue(), hist


def test_progress_bar_verbose_1():
    out, hist = _fit_output(1)
    assert out.startswith("Epoch 1/2\n")
    final = re.findall(r"4/4 \[==============================\] - \d+s \d+(?:ms|us)/step - loss: (\S+) - mae: "
                       r"(\S+)\n", out)
    assert len(final) == 2
    assert float(final[-1][0]) == pytest.approx(hist.history["loss"][-1], abs=1e-4)
    assert re.search(r"1/4 \[======>\.{23}\] - ETA: \d+s - loss: \S+ - mae: \S+", out)


def test_progress_bar_verbose_2_and_0():
    out, hist = _fit_output(2)
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2"
    assert re.fullmatch(r"4/4 - \d+s - loss: \S+ - mae: \S+ - \d+m?s/epoch - \d+(?:ms|us)/step", lines[1]), lines[1]
    assert _fit_output(0)[0] == ""


# ---- callbacks ----

def test_callbacks_checkpoint_earlystopping_lambda_tensorboard(tmp_path, digits):
    xtr, ytr, xte, yte = digits
    _seed(8)
    model = _mlp(16)
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(True), metrics=["accuracy"])
    seen = []
    ckpt = str(tmp_path / "ckpt" / "w-{epoch:02d}")
    cbs = [keras.callbacks.ModelCheckpoint(ckpt, save_weights_only=True),
           keras.callbacks.ModelCheckpoint(str(tmp_path / "best"), monitor="val_accuracy", save_best_only=True),
           keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append((e, logs["loss"]))),
           keras.callbacks.TensorBoard(str(tmp_path / "tb")),
           keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)]
    hist = model.fit(xtr, ytr, epochs=5, batch_size=64, verbose=0, validation_data=(xte, yte), callbacks=cbs)
    assert hist.epoch == [0, 1]  # no improvement of 10 in the loss: stopped after the second epoch
    assert [e for e, _ in seen] == [0, 1]
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["w-01.safetensors", "w-02.safetensors"]
    other = _mlp(16)
    other.load_weights(ckpt.format(epoch=2))
    np.testing.assert_allclose(other.predict(xte, verbose=0), model.predict(xte, verbose=0), rtol=1e-5, atol=1e-6)
    assert os.path.exists(str(tmp_path / "best") + ".safetensors")
    # TensorBoard: event files with epoch scalars
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    tags = {}
    for sub in ("train", "validation"):
        files = os.listdir(tmp_path / "tb" / sub)
        assert len(files) == 1 and files[0].startswith("events.out.tfevents.")
        acc = ea.EventAccumulator(str(tmp_path / "tb" / sub))
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            tags[(sub, tag)] = [(e.step, e.value) for e in acc.Scalars(tag)]
    assert [s for s, _ in tags[("train", "epoch_loss")]] == [0, 1]
    assert tags[("train", "epoch_loss")][1][1] == pytest.approx(hist.history["loss"][1], rel=1e-6)
    assert tags[("validation", "epoch_accuracy")][0][1] == pytest.approx(hist.history["val_accuracy"][0], rel=1e-6)


def test_early_stopping_restores_best_weights():
    _seed(9)
    x = np.random.rand(64, 3).astype(np.float32)
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])
    model.compile(keras.optimizers.SGD(5.0), "mse")  # diverges: the first epoch is the best
    cb = keras.callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    model.fit(x, x[:, :1] * 3, epochs=10, batch_size=64, verbose=0, callbacks=[cb])
    assert cb.stopped_epoch > 0 and cb.best_epoch == 0


# ---- losses, metrics, schedules ----

def test_losses_classes_and_reductions():
    y = np.array([[0., 1.], [1., 0.], [1., 1.]], np.float32)
    p = np.array([[0.2, 0.8], [0.6, 0.4], [0.9, 0.7]], np.float32)
    per = np.mean((y - p) ** 2, axis=1)
    np.testing.assert_allclose(keras.losses.mse(y, p).numpy(), per, rtol=1e-6)
    assert float(keras.losses.MeanSquaredError()(y, p)) == pytest.approx(per.mean(), rel=1e-6)
    sw = np.array([1., 0., 2.], np.float32)
    assert float(keras.losses.MeanSquaredError()(y, p, sample_weight=sw)) == pytest.approx((per * sw).sum() / 3, rel=1e-6)
    assert float(keras.losses.MeanSquaredError(reduction="sum")(y, p)) == pytest.approx(per.sum(), rel=1e-6)
    np.testing.assert_allclose(keras.losses.MeanSquaredError(reduction="none")(y, p).numpy(), per, rtol=1e-6)
    assert float(keras.losses.get("mae")(y, p).numpy().mean()) == pytest.approx(np.abs(y - p).mean(), rel=1e-6)
    logits = np.array([[2., 1., 0.1], [0.5, 2.5, 0.3]], np.float32)
    labels = np.array([0, 1])
    ref = -np.log(np.exp(logits[[0, 1], labels]) / np.exp(logits).sum(1))
    assert float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)) == pytest.approx(
        ref.mean(), rel=1e-5)
    onehot = np.eye(3, dtype=np.float32)[labels]
    assert float(keras.losses.CategoricalCrossentropy(from_logits=True)(onehot, logits)) == pytest.approx(
        ref.mean(), rel=1e-5)
    pb = np.array([[0.9], [0.2]], np.float32)
    yb = np.array([[1.], [0.]], np.float32)
    ref_b = -np.mean(yb * np.log(pb + 1e-7) + (1 - yb) * np.log(1 - pb + 1e-7))
    assert float(keras.losses.BinaryCrossentropy()(yb, pb)) == pytest.approx(ref_b, rel=1e-5)


def test_metrics_accuracy_resolution_and_state():
    from tideflow.keras import metrics as M
    assert type(M.make("accuracy", keras.losses.get("sparse_categorical_crossentropy"), [None, 10])).__name__ == \
        "SparseCategoricalAccuracy"
    assert type(M.make("acc", keras.losses.CategoricalCrossentropy(), [None, 10])).__name__ == "CategoricalAccuracy"
    assert type(M.make("accuracy", "mse", [None, 1])).__name__ == "BinaryAccuracy"
    m = keras.metrics.Mean()
    m.update_state([1., 2., 3.])
    m.update_state([10.], sample_weight=[3.])
    assert float(m.result()) == pytest.approx((6 + 30) / 6)
    m.reset_state()
    assert float(m.result()) == 0.0
    acc = keras.metrics.SparseCategoricalAccuracy()
    acc.update_state([[1], [2]], [[0.1, 0.8, 0.1], [0.5, 0.3, 0.2]])
    assert float(acc.result()) == 0.5
    a = keras.metrics.Accuracy()
    a.update_state([1, 2, 3, 4], [1, 2, 0, 4])
    assert float(a.result()) == 0.75


def test_learning_rate_schedules():
    s = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert float(s(5)) == pytest.approx(0.1 * 0.5 ** 0.5, rel=1e-6)
    s2 = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert float(s2(15)) == pytest.approx(0.05, rel=1e-6)
    p = keras.optimizers.schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [float(p(i)) for i in (0, 10, 11, 20, 21)] == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.1])


# ---- optimizers and layers against TensorFlow's Keras ----
# TensorFlow runs in a fresh interpreter (other tests put it in graph mode, which a process cannot undo): the
# same case definitions are executed there and here; the TF side saves its results to an .npz file.

_CASES = """
import numpy as np
OPT_MAKERS = {
    "sgd": lambda k: k.optimizers.SGD(0.1),
    "momentum": lambda k: k.optimizers.SGD(0.1, momentum=0.9),
    "nesterov": lambda k: k.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "adam": lambda k: k.optimizers.Adam(0.01),
    "rmsprop": lambda k: k.optimizers.RMSprop(0.01),
    "rmsprop_mom": lambda k: k.optimizers.RMSprop(0.01, momentum=0.5),
    "rmsprop_centered": lambda k: k.optimizers.RMSprop(0.01, centered=True),
    "adagrad": lambda k: k.optimizers.Adagrad(0.1),
    "adam_schedule": lambda k: k.optimizers.Adam(k.optimizers.schedules.ExponentialDecay(0.05, 2, 0.5)),
    "sgd_piecewise": lambda k: k.optimizers.SGD(
        k.optimizers.schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.05, 0.01]), momentum=0.5),
}

def opt_steps(tfm, keras, make, steps=4):
    w0 = np.array([[0.5, -1.0], [2.0, 0.3]], np.float32)
    v = tfm.Variable(w0)
    opt = make(keras)
    for k in range(steps):
        g = np.array([[0.1, -0.2], [0.3, 0.05]], np.float32) * (k + 1)
        opt.apply_gradients([(tfm.constant(g), v)])
    return v.numpy()

rng = np.random.RandomState(0)
X = rng.rand(2, 6, 6, 3).astype(np.float32)
SEQ = rng.rand(2, 5, 3).astype(np.float32)
IDS = np.array([[1, 2, 9], [0, 0, 4]], np.int32)
LAYER_CASES = [
    (lambda k: k.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"), X),
    (lambda k: k.layers.MaxPooling2D(), X),
    (lambda k: k.layers.AveragePooling2D(pool_size=3, strides=1), X),
    (lambda k: k.layers.Flatten(), X),
    (lambda k: k.layers.Dense(5, activation="tanh"), X.reshape(2, -1)),
    (lambda k: k.layers.BatchNormalization(), X),
    (lambda k: k.layers.ReLU(max_value=0.5, negative_slope=0.1, threshold=0.2), X - 0.5),
    (lambda k: k.layers.Reshape((9, -1)), X),
    (lambda k: k.layers.Activation("softmax"), X),
    (lambda k: k.layers.Embedding(10, 3), IDS),
    (lambda k: k.layers.SimpleRNN(4), SEQ),
    (lambda k: k.layers.LSTM(4, return_sequences=True), SEQ),
    (lambda k: k.layers.GRU(4), SEQ),
    (lambda k: k.layers.GRU(3, return_sequences=True, go_backwards=True), SEQ),
]
"""

_TF_SCRIPT = """
import sys
import numpy as np
import tensorflow as tf
out = {}
for name, make in OPT_MAKERS.items():
    out["opt/" + name] = opt_steps(tf, tf.keras, make)
for i, (make, inp) in enumerate(LAYER_CASES):
    layer = make(tf.keras)
    out["layer%d/out" % i] = layer(inp).numpy()
    for j, w in enumerate(layer.get_weights()):
        out["layer%d/w%d" % (i, j)] = w
np.savez(sys.argv[1], **out)
"""


@pytest.fixture(scope="module")
def tf_reference(tmp_path_factory):
    import importlib.util
    import subprocess
    import sys
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed")
    path = str(tmp_path_factory.mktemp("tfref") / "ref.npz")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, "-c", _CASES + _TF_SCRIPT, path], capture_output=True, text=True,
                       timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return dict(np.load(path))


def _cases():
    ns = {}
    exec(_CASES, ns)  # noqa: S102 (the test's own case table, shared with the TensorFlow subprocess)
    return ns


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam", "rmsprop", "rmsprop_mom", "rmsprop_centered",
                                  "adagrad", "adam_schedule", "sgd_piecewise"])
def test_optimizers_match_tensorflow_keras(name, tf_reference):
    ns = _cases()
    ours = ns["opt_steps"](tf, keras, ns["OPT_MAKERS"][name])
    # float32 rounding of the learning rate and the beta powers
    np.testing.assert_allclose(ours, tf_reference["opt/" + name], rtol=1e-5, atol=1e-7)


def test_layer_outputs_match_tensorflow_keras(tf_reference):
    for i, (make, inp) in enumerate(_cases()["LAYER_CASES"]):
        ours = make(keras)
        ours(inp)
        theirs = [tf_reference["layer%d/w%d" % (i, j)] for j in range(len(ours.get_weights()))
                  if "layer%d/w%d" % (i, j) in tf_reference]
        assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs], i
        assert "layer%d/w%d" % (i, len(theirs)) not in tf_reference, i
        ours.set_weights(theirs)
        np.testing.assert_allclose(ours(inp).numpy(), tf_reference["layer%d/out" % i], rtol=1e-5, atol=1e-6,
                                   err_msg=str(i))


# ---- datasets ----

def test_datasets_missing_files_raise_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="mnist.npz"):
        keras.datasets.mnist.load_data()
    with pytest.raises(FileNotFoundError, match="fashion-mnist"):
        keras.datasets.fashion_mnist.load_data()
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py"):
        keras.datasets.cifar10.load_data()
    d = tmp_path / "datasets"
    d.mkdir()
    np.savez(d / "mnist.npz", x_train=np.zeros((3, 28, 28), np.uint8), y_train=np.arange(3, dtype=np.uint8),
             x_test=np.ones((2, 28, 28), np.uint8), y_test=np.arange(2, dtype=np.uint8))
    (xt, yt), (xs, ys) = keras.datasets.mnist.load_data()
    assert xt.shape == (3, 28, 28) and ys.tolist() == [0, 1]


def test_namespaces():
    import tideflow.compat.v1 as v1
    assert v1.keras.Sequential is keras.Sequential
    assert keras.layers.MaxPool2D is keras.layers.MaxPooling2D
    assert keras.utils.to_categorical([0, 2], 3).tolist() == [[1, 0, 0], [0, 0, 1]]


def test_recurrent_layers_weights_and_training():
    lstm = keras.layers.LSTM(3)
    lstm(np.zeros((1, 2, 4), np.float32))
    k, rk, b = lstm.get_weights()
    assert k.shape == (4, 12) and rk.shape == (3, 12)
    np.testing.assert_array_equal(b, [0] * 3 + [1] * 3 + [0] * 6)  # unit_forget_bias
    np.testing.assert_allclose(rk @ rk.T, np.eye(3), atol=1e-5)  # orthonormal rows
    _seed(10)
    x = np.random.rand(64, 6, 2).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 3).astype(np.int64)
    model = keras.Sequential([keras.layers.GRU(8, input_shape=(6, 2)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.Adam(0.05), keras.losses.SparseCategoricalCrossentropy(True), ["accuracy"])
    hist = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]


def test_graph_mode_fit_like_tf1_keras(digits):
    """TF 1.x Keras: model.fit in graph mode with a Session behind it (Note [keras graph-mode steps])."""
    from tideflow.eager.context import graph_mode
    xtr, ytr, xte, yte = digits
    with graph_mode(), tf.Graph().as_default() as g:
        tf.set_random_seed(11)
        np.random.seed(11)
        model = keras.Sequential([keras.layers.Dense(64, activation="relu", input_shape=(64,)),
                                  keras.layers.Dropout(0.1), keras.layers.Dense(10, activation="softmax")])
        assert type(model.layers[0].kernel) is not type(tf.constant(0.0))
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
        hist = model.fit(xtr, ytr, epochs=8, batch_size=32, verbose=0, validation_data=(xte, yte))
        loss, acc = model.evaluate(xte, yte, verbose=0)
        assert acc >= 0.95, acc
        assert hist.history["val_accuracy"][-1] == pytest.approx(acc, abs=1e-6)
        pred = model.predict(xte, verbose=0)
        assert np.mean(np.argmax(pred, 1) == yte) == pytest.approx(acc, abs=1e-6)
        w = model.get_weights()
        assert [a.shape for a in w] == [(64, 64), (64,), (64, 10), (10,)]
        with tf.Session(graph=g) as sess:  # a user's session: Keras initializes what it needs in it
            sess.run(tf.global_variables_initializer())
            model.set_weights(w)
            np.testing.assert_allclose(model.predict(xte[:5], verbose=0), pred[:5], rtol=1e-5, atol=1e-6)


def test_weight_names_as_tensorflow_2():
    m = keras.Sequential([keras.layers.Dense(4, input_shape=(3,)), keras.layers.BatchNormalization(),
                          keras.layers.Dense(2)])
    assert [w.name for w in m.weights] == [
        "dense/kernel:0", "dense/bias:0", "batch_normalization/gamma:0", "batch_normalization/beta:0",
        "dense_1/kernel:0", "dense_1/bias:0", "batch_normalization/moving_mean:0",
        "batch_normalization/moving_variance:0"]
    net = Net()
    net.compile("sgd", "mse")
    net.fit(np.ones((4, 5), np.float32), np.ones((4, 2), np.float32), verbose=0)  # built inside the traced step
    assert [w.name for w in net.weights] == ["net/scale/w:0", "net/dense_2/kernel:0", "net/dense_2/bias:0",
                                             "net/dense_3/kernel:0", "net/dense_3/bias:0", "net/scale/b:0"]


def test_fit_options_shuffle_initial_epoch_steps_class_weight():
    _seed(12)
    x = np.random.rand(40, 3).astype(np.float32)
    y = (x.sum(1) > 1.5).astype(np.int64)
    model = keras.models.Sequential([keras.layers.Dense(2, input_shape=(3,),
                                                        kernel_regularizer=keras.regularizers.L2(0.01))])
    model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(True), metrics=["accuracy"])
    seen = []
    cb = keras.callbacks.LambdaCallback(on_batch_end=lambda b, logs: seen.append(b))
    hist = model.fit(x, y, batch_size=8, epochs=4, initial_epoch=2, shuffle=False, steps_per_epoch=3, verbose=0,
                     callbacks=[cb])
    assert hist.epoch == [2, 3] and seen == [0, 1, 2, 0, 1, 2]
    assert int(model.optimizer.iterations.numpy()) == 6
    # the weight penalty is part of the loss
    w = model.get_weights()
    data_loss = float(keras.losses.SparseCategoricalCrossentropy(True)(y, model(x)))
    total = model.evaluate(x, y, batch_size=40, verbose=0)[0]
    assert total == pytest.approx(data_loss + 0.01 * float(np.sum(w[0] ** 2)), rel=1e-5)
    # class_weight scales each example's loss by its class's weight
    before = model.get_weights()
    model.fit(x, y, batch_size=40, epochs=1, verbose=0, class_weight={0: 0.0, 1: 0.0}, shuffle=False)
    after = model.get_weights()
    np.testing.assert_allclose(after[1], before[1], atol=1e-7)  # only the penalty moves the kernel; bias fixed


def test_custom_step_in_tf_function_builds_model_on_first_trace():
    _seed(13)
    model = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.BatchNormalization(),
                              keras.layers.Dense(2)])
    opt = keras.optimizers.RMSprop(0.01)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    acc = keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = loss_fn(y, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        acc.update_state(y, logits)
        return loss

    x = np.random.rand(64, 4).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(np.int64)
    first = float(step(x, y))
    for _ in range(40):
        last = float(step(x, y))
    assert last < 0.5 * first
    assert step.experimental_get_tracing_count() == 1
    assert [w.name for w in model.weights][:3] == ["dense/kernel:0", "dense/bias:0", "batch_normalization/gamma:0"]
    assert int(opt.iterations.numpy()) == 41
    assert not np.allclose(model.layers[1].moving_mean.numpy(), 0.0)
    assert model.output_shape == (None, 2)


def test_fit_on_tf_data_datasets(digits):
    xtr, ytr, xte, yte = digits
    if not hasattr(tf, "data"):
        pytest.skip("tf.data is not in this tree")
    _seed(14)
    ds = tf.data.Dataset.from_tensor_slices((xtr, ytr)).shuffle(len(xtr), seed=1).batch(32)
    val = tf.data.Dataset.from_tensor_slices((xte, yte)).batch(64)
    model = _mlp()
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        hist = model.fit(ds, epochs=6, validation_data=val, verbose=2)
    assert buf.getvalue().splitlines()[1].startswith("44/44 - ")  # the dataset's cardinality is the target
    assert hist.history["val_accuracy"][-1] >= 0.95
    res = model.evaluate(val, verbose=0, return_dict=True)
    assert res["accuracy"] == pytest.approx(hist.history["val_accuracy"][-1], abs=1e-6)
    assert model.predict(val.map(lambda a, b: a), verbose=0).shape == (len(xte), 10)
