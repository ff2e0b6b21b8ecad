"""TF2 summaries (tideflow.summary_v2, tf.summary of tideflow.v2): event files read back by TensorBoard's
own readers, eagerly, inside tf.function and in a TF 1.x graph."""
import glob
import io

import numpy as np
import pytest

import tideflow as tf
from tideflow import summary_v2 as summary
from tideflow.eager.context import eager_mode


@pytest.fixture(autouse=True)
def _eager():
    with eager_mode():
        yield
    summary._step[0] = None


def _load(logdir):
    pea = pytest.importorskip("tensorboard.backend.event_processing.plugin_event_accumulator")
    ea = pea.EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    ea.Reload()
    return ea


def _values(ea, tag):
    tu = pytest.importorskip("tensorboard.util.tensor_util")
    return [(e.step, tu.make_ndarray(e.tensor_proto)) for e in ea.Tensors(tag)]


def test_scalar_per_step_read_by_tensorboard(tmp_path):
    w = summary.create_file_writer(str(tmp_path))
    with w.as_default():
        for step in range(5):
            assert summary.scalar("loss", 1.0 / (step + 1), step=step) is True
        summary.scalar("acc", tf.constant(0.75), step=9, description="accuracy")
    ea = _load(tmp_path)
    vals = _values(ea, "loss")
    assert [s for s, _ in vals] == list(range(5))
    np.testing.assert_allclose([float(v) for _, v in vals], [1.0 / (s + 1) for s in range(5)], rtol=1e-6)
    assert ea.SummaryMetadata("loss").plugin_data.plugin_name == "scalars"
    assert ea.SummaryMetadata("acc").summary_description == "accuracy"
    assert glob.glob(str(tmp_path / "events.out.tfevents.*.v2"))


def test_scalar_in_tensorflows_own_reader(tmp_path):
    tf2 = pytest.importorskip("tensorflow")
    w = summary.create_file_writer(str(tmp_path))
    with w.as_default():
        summary.scalar("x", 2.5, step=3)
    w.flush()
    [path] = glob.glob(str(tmp_path / "events.*"))
    found = []
    for e in tf2.compat.v1.train.summary_iterator(path):
        for v in e.summary.value:
            found.append((e.step, v.tag, float(tf2.make_ndarray(v.tensor))))
    assert found == [(3, "x", 2.5)]


def test_default_step_record_if_and_no_writer(tmp_path):
    assert summary.scalar("nowriter", 1.0, step=0) is False
    w = summary.create_file_writer(str(tmp_path))
    with w.as_default():
        with pytest.raises(ValueError, match="No step set"):
            summary.scalar("s", 1.0)
        summary.experimental.set_step(4)
        assert summary.experimental.get_step() == 4
        summary.scalar("s", 1.0)
        v = tf.Variable(7, dtype=tf.int64)
        summary.experimental.set_step(v)
        summary.scalar("s", 2.0)
        with summary.record_if(False):
            assert summary.scalar("s", 3.0) is False
            assert not bool(summary.should_record_summaries())
        with summary.record_if(lambda: True):
            summary.scalar("s", 4.0)
        assert bool(summary.should_record_summaries())
    assert not bool(summary.should_record_summaries())
    vals = _values(_load(tmp_path), "s")
    assert [(s, float(x)) for s, x in vals] == [(4, 1.0), (7, 2.0), (7, 4.0)]


def test_as_default_plain_call_and_step_argument(tmp_path):
    w = summary.create_file_writer(str(tmp_path), flush_millis=10, max_queue=2, filename_suffix=".mine")
    w.as_default(step=11)
    try:
        summary.scalar("p", 1.0)
        summary.flush()
    finally:
        summary._state.writers.clear()
        summary._step[0] = None
    assert [s for s, _ in _values(_load(tmp_path), "p")] == [11]
    assert glob.glob(str(tmp_path / "*.mine"))
    with summary.create_noop_writer().as_default():
        assert summary.scalar("n", 1.0, step=1) is True


def test_histogram_image_text(tmp_path):
    w = summary.create_file_writer(str(tmp_path))
    data = np.random.RandomState(0).randn(1000)
    imgs = np.random.RandomState(1).rand(4, 5, 6, 3).astype(np.float32)
    with w.as_default():
        summary.histogram("h", data, step=1)
        summary.histogram("const", np.full(10, 2.0), step=1, buckets=4)
        summary.image("img", imgs, step=2, max_outputs=2)
        summary.image("gray", (np.arange(12).reshape(1, 3, 4, 1) * 20).astype(np.int32), step=2)
        summary.text("t", "hello **world**", step=3)
    ea = _load(tmp_path)
    [(_, h)] = _values(ea, "h")
    assert h.shape == (30, 3) and h[:, 2].sum() == 1000
    np.testing.assert_allclose(h[0, 0], data.min())
    np.testing.assert_allclose(h[-1, 1], data.max())
    [(_, c)] = _values(ea, "const")
    np.testing.assert_array_equal(c, [[2, 2, 0], [2, 2, 0], [2, 2, 0], [2, 2, 10]])
    [(step, im)] = _values(ea, "img")
    assert step == 2 and list(im[:2]) == [b"6", b"5"] and len(im) == 4
    Image = pytest.importorskip("PIL.Image")
    first = np.asarray(Image.open(io.BytesIO(im[2])))
    np.testing.assert_array_equal(first, np.clip(imgs[0] * 255.5, 0, 255).astype(np.uint8))
    [(_, g)] = _values(ea, "gray")
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(g[2]))), np.arange(12).reshape(3, 4) * 20)
    [(_, t)] = _values(ea, "t")
    assert t == b"hello **world**"
    assert ea.SummaryMetadata("img").plugin_data.plugin_name == "images"
    assert ea.SummaryMetadata("h").plugin_data.plugin_name == "histograms"
    assert ea.SummaryMetadata("t").plugin_data.plugin_name == "text"


def test_summaries_inside_tf_function(tmp_path):
    w = summary.create_file_writer(str(tmp_path))

    @tf.function
    def step_fn(x, step):
        y = x * 2.0
        summary.scalar("y", y, step=step)
        summary.histogram("xs", tf.fill([3], x), step=step)
        return y
    with w.as_default():
        for i in range(3):
            step_fn(tf.constant(float(i)), tf.constant(i, tf.int64))
    assert step_fn.experimental_get_tracing_count() == 1
    vals = _values(_load(tmp_path), "y")
    assert [(s, float(v)) for s, v in vals] == [(0, 0.0), (1, 2.0), (2, 4.0)]


def test_name_scope_prefixes_tag(tmp_path):
    w = summary.create_file_writer(str(tmp_path))
    with w.as_default(), tf.name_scope("train"):
        summary.scalar("loss", 1.0, step=0)
    assert _load(tmp_path).Tags()["tensors"] == ["train/loss"]


ARTICLE_002 = """
import tempfile, glob
logdir = tempfile.mkdtemp()
x = _np.arange(40 * 6).reshape(40, 6).astype(_np.uint8)
y = _np.arange(40) % 10
def pre(x, y):
    return tf.cast(x, dtype=tf.float32) / 255., tf.cast(y, dtype=tf.int32)
db = tf.data.Dataset.from_tensor_slices((x, y)).map(pre).batch(16)
writer = tf.summary.create_file_writer(logdir)
sample = next(iter(db))[0][0]
with writer.as_default():
    tf.summary.image("sample", tf.reshape(sample, [1, 2, 3, 1]), step=0)
sizes = []
for step, (xb, yb) in enumerate(db):
    sizes.append(int(xb.shape[0]))
    with writer.as_default():
        tf.summary.scalar("train-loss", float(tf.reduce_mean(xb)), step=step)
writer.flush()
report("sizes", sizes)
report("dtypes", [xb.dtype.name, yb.dtype.name])
report("eq", tf.summary.create_file_writer is not None)
from tensorboard.backend.event_processing import plugin_event_accumulator as pea
from tensorboard.util import tensor_util
ea = pea.EventAccumulator(logdir); ea.Reload()
report("steps", [e.step for e in ea.Tensors("train-loss")])
report("losses", [float(tensor_util.make_ndarray(e.tensor_proto)) for e in ea.Tensors("train-loss")])
report("image", [tensor_util.make_ndarray(ea.Tensors("sample")[0].tensor_proto)[:2].astype(str).tolist()])
"""


def test_article_002_pipeline_and_summaries_against_tensorflow():
    pytest.importorskip("tensorboard")
    from eager_scripts import have_tensorflow, run
    _, ours = run(ARTICLE_002, "import tideflow.v2 as tf\nassert tf.summary.scalar.__module__ == 'tideflow.summary_v2'")
    assert ours["sizes"] == [16, 16, 8] and ours["steps"] == [0, 1, 2]
    assert ours["image"] == [["3", "2"]]
    if have_tensorflow():
        _, theirs = run(ARTICLE_002, "import tensorflow as tf")
        assert ours["sizes"] == theirs["sizes"] and ours["steps"] == theirs["steps"]
        assert ours["image"] == theirs["image"]
        assert ours["dtypes"] == theirs["dtypes"]
        np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-6)


def test_tf1_graph_and_namespaces(tmp_path):
    assert tf.summary.scalar is not summary.scalar  # TF 1.x's tf.summary keeps TF 1.x semantics
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [])
        w = summary.create_file_writer(str(tmp_path))
        with w.as_default():
            op = summary.scalar("g", x, step=5)
        assert tf.summary.all_v2_summary_ops() == [op]
        with tf.Session() as s:
            s.run(op, {x: 3.0})
        w.flush()
    assert [(s, float(v)) for s, v in _values(_load(tmp_path), "g")] == [(5, 3.0)]


def test_scalar_needs_a_scalar(tmp_path):
    with summary.create_file_writer(str(tmp_path)).as_default():
        with pytest.raises(ValueError):
            summary.scalar("bad", [1.0, 2.0], step=0)


LOOP_002 = """
import tempfile
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
tf.random.set_seed(0)
d = load_digits()
x_tr, x_te, y_tr, y_te = train_test_split((d.data * 15).astype(_np.uint8), d.target, test_size=0.25,
                                          random_state=0)
def pre(x, y):
    return tf.cast(x, tf.float32) / 255., tf.cast(y, tf.int32)
db = tf.data.Dataset.from_tensor_slices((x_tr, y_tr)).map(pre).shuffle(10000, seed=1).batch(64)
db_test = tf.data.Dataset.from_tensor_slices((x_te, y_te)).map(pre).batch(64)
model = tf.keras.Sequential([tf.keras.layers.Dense(128, activation="relu"),
                             tf.keras.layers.Dense(64, activation="relu"), tf.keras.layers.Dense(10)])
opt = tf.keras.optimizers.Adam(learning_rate=1e-2)
logdir = tempfile.mkdtemp()
writer = tf.summary.create_file_writer(logdir)
step = 0
for epoch in range(15):
    for x, y in db:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=model(x)))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        with writer.as_default():
            tf.summary.scalar("train-loss", float(loss), step=step)
        step += 1
correct = total = 0
for x, y in db_test:
    pred = tf.cast(tf.argmax(model(x), axis=1), tf.int32)
    correct += int(tf.reduce_sum(tf.cast(tf.equal(pred, y), tf.int32)))
    total += x.shape[0]
writer.flush()
from tensorboard.backend.event_processing import plugin_event_accumulator as pea
ea = pea.EventAccumulator(logdir, size_guidance={"tensors": 0}); ea.Reload()
report("acc", correct / total)
report("steps", step)
report("logged", [e.step for e in ea.Tensors("train-loss")])
"""


def test_article_002_loop_on_digits_learns_and_logs_every_step():
    # tf.data + Sequential + Adam + GradientTape + one scalar summary per step, as article 002 trains.
    pytest.importorskip("sklearn")
    pytest.importorskip("tensorboard")
    from eager_scripts import run
    _, v = run(LOOP_002, "import tideflow.v2 as tf")
    assert v["acc"] >= 0.90, v["acc"]
    assert v["logged"] == list(range(v["steps"])) and v["steps"] == 15 * 22


def test_tf1_summaries_eagerly_go_through_a_tf2_writer(tmp_path):
    # TensorFlow 2.21 gives: tags fam/fam/loss, h, outer/y at step 3; b"" returned; without a step the
    # TF 1.x op runs and returns the serialized Summary.
    w = summary.create_file_writer(str(tmp_path))
    with w.as_default(step=3):
        r = tf.summary.scalar("loss", 2.0, family="fam")
        tf.summary.histogram("h", [1.0, 2.0])
        with tf.name_scope("outer"):
            tf.summary.scalar("y", 2.0)
    assert r.numpy() == b""
    with w.as_default():
        v1 = tf.summary.scalar("nostep", 2.0)
    assert tf.Summary.FromString(v1.numpy()).value[0].simple_value == 2.0
    ea = _load(tmp_path)
    assert sorted(ea.Tags()["tensors"]) == ["fam/fam/loss", "h", "outer/y"]
    assert [e.step for e in ea.Tensors("outer/y")] == [3]
    assert ea.SummaryMetadata("h").plugin_data.plugin_name == "histograms"
