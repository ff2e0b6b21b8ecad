"""tf.summary's message classes (Event, Summary, HistogramProto, TensorProto...) against TensorBoard's
protobuf classes on random messages: what we serialize (through the C++ core's encoder, Note [one protobuf
encoder]) parses with protobuf to the same message built with protobuf's API, and protobuf's bytes parse
back into ours without losing anything."""
import math

import pytest

import tideflow as tf

hypothesis = pytest.importorskip("hypothesis")
event_pb2 = pytest.importorskip("tensorboard.compat.proto.event_pb2")
from hypothesis import given, settings, strategies as st  # noqa: E402
from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2  # noqa: E402

INT64 = st.integers(-2**63, 2**63 - 1)
INT32 = st.integers(-2**31, 2**31 - 1)
DOUBLE = st.floats(allow_nan=False)
FLOAT = st.floats(allow_nan=False, width=32)
TEXT = st.text(max_size=12)
BYTES = st.binary(max_size=12)


def _opt(**fields):
    """A dict holding any subset of the given fields (absent ones stay unset in both message APIs)."""
    return st.fixed_dictionaries({}, optional=fields)


# A message is (kind, fields): built with either API by _build, so both sides hold the same values.
DIM = st.tuples(st.just("Dim"), _opt(size=INT64, name=TEXT))
SHAPE = st.tuples(st.just("TensorShape"), _opt(dim=st.lists(DIM, max_size=3), unknown_rank=st.booleans()))
TENSOR = st.tuples(st.just("Tensor"), _opt(
    dtype=st.integers(0, 20), tensor_shape=SHAPE, tensor_content=BYTES, float_val=st.lists(FLOAT, max_size=4),
    double_val=st.lists(DOUBLE, max_size=4), int_val=st.lists(INT32, max_size=4),
    string_val=st.lists(BYTES, max_size=3), int64_val=st.lists(INT64, max_size=4),
    bool_val=st.lists(st.booleans(), max_size=4)))
HISTO = st.tuples(st.just("Histogram"), _opt(
    min=DOUBLE, max=DOUBLE, num=DOUBLE, sum=DOUBLE, sum_squares=DOUBLE, bucket_limit=st.lists(DOUBLE, max_size=5),
    bucket=st.lists(DOUBLE, max_size=5)))
IMAGE = st.tuples(st.just("Image"), _opt(height=INT32, width=INT32, colorspace=st.integers(0, 4),
                                         encoded_image_string=BYTES))
PLUGIN = st.tuples(st.just("PluginData"), _opt(plugin_name=TEXT, content=BYTES))
METADATA = st.tuples(st.just("Metadata"), _opt(plugin_data=PLUGIN, display_name=TEXT, summary_description=TEXT))
ONE_OF_VALUE = st.one_of(st.fixed_dictionaries({"simple_value": FLOAT}), st.fixed_dictionaries({"image": IMAGE}),
                         st.fixed_dictionaries({"histo": HISTO}), st.fixed_dictionaries({"tensor": TENSOR}))
VALUE = st.tuples(st.just("Value"), st.builds(lambda a, b: {**a, **b}, _opt(node_name=TEXT, tag=TEXT, metadata=METADATA),
                                              ONE_OF_VALUE))
SUMMARY = st.tuples(st.just("Summary"), _opt(value=st.lists(VALUE, max_size=3)))
SESSION_LOG = st.tuples(st.just("SessionLog"), _opt(status=st.integers(0, 3), checkpoint_path=TEXT, msg=TEXT))
RUN_METADATA = st.tuples(st.just("TaggedRunMetadata"), _opt(tag=TEXT, run_metadata=BYTES))
EVENT = st.tuples(st.just("Event"), st.builds(
    lambda a, b: {**a, **b}, _opt(wall_time=DOUBLE, step=INT64),
    st.one_of(st.fixed_dictionaries({"file_version": TEXT}), st.fixed_dictionaries({"graph_def": BYTES}),
              st.fixed_dictionaries({"summary": SUMMARY}), st.fixed_dictionaries({"session_log": SESSION_LOG}),
              st.fixed_dictionaries({"tagged_run_metadata": RUN_METADATA}))))

OURS = {"Dim": tf.summary.TensorShapeProto.Dim, "TensorShape": tf.summary.TensorShapeProto,
        "Tensor": tf.summary.TensorProto, "Histogram": tf.summary.HistogramProto, "Image": tf.summary.Summary.Image,
        "PluginData": tf.summary.SummaryMetadata.PluginData, "Metadata": tf.summary.SummaryMetadata,
        "Value": tf.summary.Summary.Value, "Summary": tf.summary.Summary, "SessionLog": tf.summary.SessionLog,
        "TaggedRunMetadata": tf.summary.TaggedRunMetadata, "Event": tf.summary.Event}
THEIRS = {"Dim": tensor_shape_pb2.TensorShapeProto.Dim, "TensorShape": tensor_shape_pb2.TensorShapeProto,
          "Tensor": tensor_pb2.TensorProto, "Histogram": summary_pb2.HistogramProto,
          "Image": summary_pb2.Summary.Image, "PluginData": summary_pb2.SummaryMetadata.PluginData,
          "Metadata": summary_pb2.SummaryMetadata, "Value": summary_pb2.Summary.Value, "Summary": summary_pb2.Summary,
          "SessionLog": event_pb2.SessionLog, "TaggedRunMetadata": event_pb2.TaggedRunMetadata,
          "Event": event_pb2.Event}


def _build(msg, classes):
    kind, fields = msg

    def conv(v):
        if isinstance(v, tuple):
            return _build(v, classes)
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v
    return classes[kind](**{k: conv(v) for k, v in fields.items()})


@settings(max_examples=150, deadline=None)
@given(EVENT)
def test_our_bytes_are_protobufs_bytes(msg):
    ours, theirs = _build(msg, OURS), _build(msg, THEIRS)
    assert event_pb2.Event.FromString(ours.SerializeToString()) == theirs
    back = tf.summary.Event.FromString(theirs.SerializeToString())
    assert event_pb2.Event.FromString(back.SerializeToString()) == theirs


def test_out_of_range_values():
    # Negative int64 take ten bytes; a double beyond float32's range is an infinity in a float field, as
    # protobuf stores it.
    v = tf.summary.Summary.Value(tag="t", simple_value=1e40)
    e = tf.summary.Event(step=-5, summary=tf.summary.Summary(value=[v]))
    ref = event_pb2.Event.FromString(e.SerializeToString())
    assert ref.step == -5 and ref.summary.value[0].simple_value == math.inf
    assert tf.summary.Event.FromString(e.SerializeToString()).step == -5


@pytest.mark.parametrize("data", [b"\x08", b"\x08\x80", b"\x12\x05ab", b"\x0f", b"\x08" + b"\xff" * 11])
def test_malformed_bytes_raise_value_error(data):
    with pytest.raises(ValueError, match="Error parsing message"):
        tf.summary.Event.FromString(data)


def test_unknown_fields_and_wire_types_are_skipped():
    # field 99 (unknown) and field 1 (wall_time, a double) sent as a varint are both skipped
    data = b"\x9a\x06\x02hi" + b"\x08\x05" + event_pb2.Event(step=7).SerializeToString()
    e = tf.summary.Event.FromString(data)
    assert e.step == 7 and not e.HasField("wall_time")
