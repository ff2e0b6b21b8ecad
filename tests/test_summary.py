"""tf.summary ops: names and tags as TensorFlow 1.x gives them, collections, and the serialized Summary
protos they return, checked with TensorBoard's own protobuf classes and against TensorFlow's kernels."""
import io
import struct
import zlib

import numpy as np
import pytest

import tideflow as tf
from tensorboard.compat.proto import graph_pb2, summary_pb2


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


@pytest.fixture(scope="module")
def tf1():
    """Real TensorFlow in graph mode, the reference for histogram buckets and image scaling."""
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    return tf1


def _run(fetch, feed=None):
    with tf.Session() as sess:
        return sess.run(fetch, feed)


def _parse(data):
    s = summary_pb2.Summary()
    s.ParseFromString(data)
    return s


# ---- names, tags, collections ----

def test_scalar_names_and_tags_follow_tf1():
    x = tf.placeholder(tf.float32, [], name="x")
    with tf.name_scope("train"):
        a = tf.summary.scalar("loss", x)
        b = tf.summary.scalar("loss", x)
    c = tf.summary.scalar("acc", x, family="metrics")
    d = tf.summary.scalar("bad name!", x)
    assert [t.op.name for t in (a, b, c, d)] == ["train/loss", "train/loss_1", "metrics/acc", "bad_name_"]
    assert a.dtype is tf.string and a.shape.as_list() == []
    outs = _run([a, b, c, d], {x: 2.5})
    assert all(isinstance(o, bytes) for o in outs)
    tags = [_parse(o).value[0].tag for o in outs]
    assert tags == ["train/loss", "train/loss_1", "metrics/metrics/acc", "bad_name_"]
    assert [_parse(o).value[0].simple_value for o in outs] == [2.5] * 4


def test_summaries_collection_and_merge_all():
    x = tf.placeholder(tf.float32, [], name="x")
    assert tf.summary.merge_all() is None
    s1 = tf.summary.scalar("a", x)
    s2 = tf.summary.histogram("h", x)
    hidden = tf.summary.scalar("hidden", x, collections=[])
    other = tf.summary.scalar("other", x, collections=["mine"])
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [s1, s2]
    assert tf.get_collection("mine") == [other]
    merged = tf.summary.merge_all()
    assert merged.op.name == "Merge/MergeSummary"
    assert tf.summary.merge([s1, hidden], name="pair").op.name == "pair/pair"
    out = _parse(_run(merged, {x: 3.0}))
    assert [v.tag for v in out.value] == ["a", "h"]
    assert out.value[0].simple_value == 3.0 and out.value[1].histo.num == 1


def test_scalar_from_other_dtypes_and_variables():
    v = tf.Variable(7, name="counter")
    inc = tf.assign_add(v, 5)
    s_int = tf.summary.scalar("count", inc)
    s_f64 = tf.summary.scalar("half", tf.constant(0.5, tf.float64))
    with tf.Session() as sess:
        sess.run(v.initializer)
        got, a, b = sess.run([inc, s_int, s_f64])
    assert got == 12
    assert _parse(a).value[0].simple_value == 12.0
    assert _parse(b).value[0].simple_value == 0.5


def test_scalar_summary_rejects_non_scalar_at_build_time():
    with pytest.raises(ValueError, match="same shape"):
        tf.summary.scalar("v", tf.placeholder(tf.float32, [3]))


# ---- histograms ----

def test_histogram_matches_tensorflow(tf1):
    rng = np.random.RandomState(0)
    values = np.concatenate([rng.randn(1000) * 3, [0.0, 0.0, 1e-14, -1e-13, 1e25, -7.5]]).astype(np.float32)
    out = _parse(_run(tf.summary.histogram("weights", tf.constant(values))))
    h = out.value[0].histo
    assert out.value[0].tag == "weights"
    g = tf1.Graph()
    with g.as_default():
        ref_op = tf1.summary.histogram("weights", tf1.constant(values))
        with tf1.Session(graph=g) as sess:
            ref = summary_pb2.Summary.FromString(sess.run(ref_op)).value[0].histo
    assert (h.min, h.max, h.num) == (ref.min, ref.max, ref.num)
    np.testing.assert_allclose([h.sum, h.sum_squares], [ref.sum, ref.sum_squares], rtol=1e-12)
    assert list(h.bucket_limit) == list(ref.bucket_limit)
    assert list(h.bucket) == list(ref.bucket)
    assert h.num == values.size and sum(h.bucket) == values.size


def test_histogram_large_input_counts_everything():
    values = np.linspace(-5, 5, 300001).astype(np.float64)
    h = _parse(_run(tf.summary.histogram("big", tf.constant(values)))).value[0].histo
    assert h.num == values.size and sum(h.bucket) == values.size
    assert (h.min, h.max) == (-5.0, 5.0)
    np.testing.assert_allclose(h.sum, values.sum(), atol=1e-6)
    np.testing.assert_allclose(h.sum_squares, (values ** 2).sum(), rtol=1e-12)


def test_histogram_nan_fails_naming_the_tag():
    x = tf.placeholder(tf.float32, [None], name="vals")
    h = tf.summary.histogram("acts", x)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Nan in summary histogram for: acts"):
        _run(h, {x: np.array([1.0, np.nan], np.float32)})


def test_histogram_of_empty_tensor_has_one_bucket():
    h = _parse(_run(tf.summary.histogram("e", tf.constant(np.zeros([0], np.float32))))).value[0].histo
    assert h.num == 0 and len(h.bucket) == 1 and h.bucket[0] == 0.0


# ---- images ----

def _decode_png(data):
    """An independent PNG reader for 8-bit non-interlaced images with filter type 0 rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        typ, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert crc == zlib.crc32(typ + body)
        if typ == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, color = ihdr[:4]
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    assert depth == 8
    raw = zlib.decompress(idat)  # checks the zlib header and Adler-32
    rows = np.frombuffer(raw, np.uint8).reshape(h, 1 + w * channels)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(h, w, channels)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_image_pixels_match_tensorflow(tf1, channels):
    from PIL import Image
    rng = np.random.RandomState(channels)
    imgs = rng.rand(3, 5, 7, channels).astype(np.float32)
    imgs[1] = imgs[1] * 2 - 1  # negative values: scaled by max |v| around 128
    imgs[2] *= 0.5             # max below 1: scaled up to 255
    imgs[2, 0, 0, 0] = np.nan  # a non-finite pixel takes the bad colour
    out = _parse(_run(tf.summary.image("pics", tf.constant(imgs), max_outputs=3)))
    g = tf1.Graph()
    with g.as_default():
        ref_op = tf1.summary.image("pics", tf1.constant(imgs), max_outputs=3)
        with tf1.Session(graph=g) as sess:
            ref = summary_pb2.Summary.FromString(sess.run(ref_op))
    assert [v.tag for v in out.value] == ["pics/image/0", "pics/image/1", "pics/image/2"]
    for v, r in zip(out.value, ref.value):
        assert v.tag == r.tag
        assert (v.image.height, v.image.width, v.image.colorspace) == (5, 7, channels)
        ours = _decode_png(v.image.encoded_image_string)
        theirs = np.asarray(Image.open(io.BytesIO(r.image.encoded_image_string)))
        pil = np.asarray(Image.open(io.BytesIO(v.image.encoded_image_string)))
        np.testing.assert_array_equal(ours, theirs.reshape(ours.shape))
        np.testing.assert_array_equal(pil.reshape(ours.shape), ours)


def test_image_int32_uint8_values_and_single_tag():
    imgs = (np.arange(2 * 4 * 3 * 3) % 256).astype(np.int32).reshape(2, 4, 3, 3)
    out = _parse(_run(tf.summary.image("raw", tf.constant(imgs), max_outputs=1)))
    assert [v.tag for v in out.value] == ["raw/image"]
    np.testing.assert_array_equal(_decode_png(out.value[0].image.encoded_image_string), imgs[0])


def test_image_large_image_spans_several_stored_blocks():
    imgs = np.random.RandomState(1).randint(0, 256, size=(1, 200, 150, 3)).astype(np.int32)
    out = _parse(_run(tf.summary.image("big", tf.constant(imgs))))
    np.testing.assert_array_equal(_decode_png(out.value[0].image.encoded_image_string), imgs[0])


def test_image_errors():
    with pytest.raises(ValueError, match="1, 3 or 4 channels"):
        tf.summary.image("bad", tf.constant(np.zeros([1, 2, 2, 2], np.float32)))
    with pytest.raises(ValueError, match="4-D"):
        tf.summary.image("bad", tf.constant(np.zeros([2, 2, 3], np.float32)))
    s = tf.summary.image("range", tf.constant(np.full((1, 2, 2, 1), 300, np.int32)))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"outside \[0, 255\]"):
        _run(s)


# ---- text and tensors ----

def test_text_summary_uses_text_plugin():
    s = tf.summary.text("notes", tf.constant(["line *one*", "line two"]))
    assert s.op.name == "notes" and s.op.type == "TensorSummaryV2"
    v = _parse(_run(s)).value[0]
    assert v.tag == "notes"
    assert v.metadata.plugin_data.plugin_name == "text"
    assert v.tensor.dtype == 7  # DT_STRING
    assert [d.size for d in v.tensor.tensor_shape.dim] == [2]
    assert list(v.tensor.string_val) == [b"line *one*", b"line two"]
    with pytest.raises(ValueError, match="dtype string"):
        tf.summary.text("n", tf.constant(1.0))


def test_tensor_summary_numeric_content():
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    v = _parse(_run(tf.summary.tensor_summary("t", tf.constant(arr), display_name="T"))).value[0]
    assert v.metadata.display_name == "T"
    assert v.tensor.dtype == 1 and [d.size for d in v.tensor.tensor_shape.dim] == [2, 3]
    np.testing.assert_array_equal(np.frombuffer(v.tensor.tensor_content, np.float32).reshape(2, 3), arr)


# ---- merging ----

def test_merge_rejects_duplicate_tags():
    x = tf.placeholder(tf.float32, [], name="x")
    a = tf.summary.scalar("same", x, collections=[])
    b = tf.summary.scalar("same", x, collections=[], family="f")
    ok = tf.summary.merge([a, b])
    assert [v.tag for v in _parse(_run(ok, {x: 1.0})).value] == ["same", "f/f/same"]
    dup = tf.summary.merge([a, a])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Duplicate tag same"):
        _run(dup, {x: 1.0})
    garbage = tf.summary.merge([tf.constant(b"\xff\xff")])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Could not parse"):
        _run(garbage)


# ---- the pure-Python messages ----

def test_summary_messages_round_trip_with_protobuf():
    s = tf.summary.Summary(value=[tf.summary.Summary.Value(tag="a", simple_value=1.5)])
    s.value.add(tag="h", histo=tf.summary.HistogramProto(min=-1.0, max=2.0, num=3, bucket_limit=[0.0, 2.0],
                                                          bucket=[1.0, 2.0]))
    s.value.add(tag="neg_int_dim", tensor=tf.summary.TensorProto(
        dtype=3, tensor_shape=tf.summary.TensorShapeProto(dim=[tf.summary.TensorShapeProto.Dim(size=-1)])))
    ref = _parse(s.SerializeToString())
    assert ref.value[0].simple_value == 1.5
    assert list(ref.value[1].histo.bucket_limit) == [0.0, 2.0] and ref.value[1].histo.num == 3
    assert ref.value[2].tensor.tensor_shape.dim[0].size == -1
    back = tf.summary.Summary.FromString(ref.SerializeToString())
    assert back == s
    assert back.value[1].histo.bucket == [1.0, 2.0]
    assert back.value[2].tensor.tensor_shape.dim[0].size == -1
    with pytest.raises(ValueError):
        tf.summary.Summary.Value(nonsense=1)


def test_reading_an_unset_sub_message_does_not_set_it():
    v = tf.Summary.Value(tag="s", simple_value=1.0)
    assert v.image.width == 0 and not v.HasField("image")
    assert _parse(tf.Summary(value=[v]).SerializeToString()).value[0].WhichOneof("value") == "simple_value"
    v.metadata.display_name = "shown"
    assert v.HasField("metadata")
    assert _parse(tf.Summary(value=[v]).SerializeToString()).value[0].metadata.display_name == "shown"


def test_summary_of_a_variable():
    v = tf.Variable(3.0, name="v")
    s = tf.summary.scalar("v_value", v)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert _parse(sess.run(s)).value[0].simple_value == 3.0


# ---- GraphDef ----

def test_graph_def_has_scoped_nodes_inputs_and_attrs():
    from tideflow import _core
    with tf.name_scope("model"):
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        w = tf.Variable(np.ones((3,), np.float32), name="w")
        with tf.control_dependencies([w.initializer]):
            y = tf.identity(x, name="y")
    with tf.device("/cpu:0"):
        z = tf.identity(y, name="z")
    gd = graph_pb2.GraphDef.FromString(_core.graph_def(tf.get_default_graph()._c))
    nodes = {n.name: n for n in gd.node}
    assert gd.versions.producer == 27
    assert {"model/x", "model/w", "model/w/Assign", "model/w/read", "model/y", "z"} <= set(nodes)
    assert nodes["model/y"].op == "Identity"
    assert list(nodes["model/y"].input) == ["model/x", "^model/w/Assign"]
    assert nodes["z"].device == "/cpu:0"
    ph = nodes["model/x"].attr
    assert ph["dtype"].type == 1
    assert [d.size for d in ph["shape"].shape.dim] == [-1, 3]
    assert [d.size for d in ph["_output_shapes"].list.shape[0].dim] == [-1, 3]
    init = nodes[w.initial_value.op.name].attr["value"].tensor
    assert init.dtype == 1 and np.frombuffer(init.tensor_content, np.float32).tolist() == [1.0, 1.0, 1.0]
    assert nodes["model/w/Assign"].attr["validate_shape"].b is True
    big = tf.constant(np.zeros((100, 100), np.float32), name="big")
    gd = graph_pb2.GraphDef.FromString(_core.graph_def(tf.get_default_graph()._c))
    t = {n.name: n for n in gd.node}[big.op.name].attr["value"].tensor
    assert [d.size for d in t.tensor_shape.dim] == [100, 100] and t.tensor_content == b""
