"""tf.summary's message classes (Event, Summary, HistogramProto, TensorProto...) against TensorBoard's
protobuf classes on random messages, both kinds of them: the real protobuf classes tideflow builds from its
schema when the protobuf package is installed (Note [real protobuf classes]) and the stand-ins encoded by
the C++ codec (Note [one protobuf encoder]). What we serialize parses with protobuf to the same message
built with protobuf's API, byte for byte, and protobuf's bytes parse back into ours without losing
anything."""
import math
import random
import struct

import pytest

import tideflow as tf
from tideflow.framework import proto_classes, tf_messages

event_pb2 = pytest.importorskip("tensorboard.compat.proto.event_pb2")
from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2  # noqa: E402
from google.protobuf import message as _pb_message  # noqa: E402

# "real": protobuf's classes (tf.Summary here, where protobuf is installed, unless TIDEFLOW_PROTOBUF=0);
# "stand-in": tideflow's own.
IMPLS = {"stand-in": tf_messages._message_class}
if proto_classes.available():
    IMPLS["real"] = tf_messages.message_class
needs_real = pytest.mark.skipif("real" not in IMPLS, reason="TIDEFLOW_PROTOBUF=0: no real protobuf classes")

# Random messages from a seeded generator (hypothesis in the same process as the py_func tests makes
# nanobind report leaked graphs at exit). A message is (kind, fields), built with either API by _build.


class _Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def opt(self, **fields):
        """Any subset of the fields (absent ones stay unset in both APIs); values are drawn by callables."""
        return {k: f() for k, f in fields.items() if self.r.random() < 0.6}

    def one_of(self, **fields):
        k = self.r.choice(sorted(fields))
        return {k: fields[k]()}

    def lst(self, f, n=4):
        return [f() for _ in range(self.r.randint(0, n))]

    def int64(self):
        return self.r.choice([0, 1, -1, 127, 128, 2**63 - 1, -2**63, self.r.randint(-2**63, 2**63 - 1)])

    def int32(self):
        return self.r.choice([0, -1, 2**31 - 1, -2**31, self.r.randint(-2**31, 2**31 - 1)])

    def double(self):
        return self.r.choice([0.0, -0.0, 1.5, math.inf, -math.inf, 5e-324, 1.7976931348623157e308,
                              self.r.uniform(-1e300, 1e300), self.r.random()])

    def float32(self):
        x = self.r.choice([0.0, -2.5, math.inf, 1e-45, 3.4028234663852886e38, self.r.uniform(-1e30, 1e30)])
        return struct.unpack("<f", struct.pack("<f", x))[0]  # a value float32 holds exactly

    def text(self):
        return self.r.choice(["", "a", "loss/total", "h\u00e9llo \u4e16\u754c", "x" * 300])

    def blob(self):
        return bytes(self.r.randrange(256) for _ in range(self.r.randint(0, 12)))

    def shape(self):
        dim = lambda: ("Dim", self.opt(size=self.int64, name=self.text))  # noqa: E731
        return ("TensorShape", self.opt(dim=lambda: self.lst(dim, 3), unknown_rank=lambda: self.r.random() < .5))

    def tensor(self):
        return ("Tensor", self.opt(
            dtype=lambda: self.r.randint(0, 20), tensor_shape=self.shape, tensor_content=self.blob,
            float_val=lambda: self.lst(self.float32), double_val=lambda: self.lst(self.double),
            int_val=lambda: self.lst(self.int32), string_val=lambda: self.lst(self.blob, 3),
            int64_val=lambda: self.lst(self.int64), bool_val=lambda: self.lst(lambda: self.r.random() < .5)))

    def value(self):
        histo = lambda: ("Histogram", self.opt(  # noqa: E731
            min=self.double, max=self.double, num=self.double, sum=self.double, sum_squares=self.double,
            bucket_limit=lambda: self.lst(self.double, 5), bucket=lambda: self.lst(self.double, 5)))
        image = lambda: ("Image", self.opt(  # noqa: E731
            height=self.int32, width=self.int32, colorspace=lambda: self.r.randint(0, 4), encoded_image_string=self.blob))
        plugin = lambda: ("PluginData", self.opt(plugin_name=self.text, content=self.blob))  # noqa: E731
        metadata = lambda: ("Metadata", self.opt(  # noqa: E731
            plugin_data=plugin, display_name=self.text, summary_description=self.text))
        fields = self.opt(node_name=self.text, tag=self.text, metadata=metadata)
        fields.update(self.one_of(simple_value=self.float32, image=image, histo=histo, tensor=self.tensor))
        return ("Value", fields)

    def event(self):
        fields = self.opt(wall_time=self.double, step=self.int64)
        fields.update(self.one_of(
            file_version=self.text, graph_def=self.blob,
            summary=lambda: ("Summary", self.opt(value=lambda: self.lst(self.value, 3))),
            session_log=lambda: ("SessionLog", self.opt(status=lambda: self.r.randint(0, 3),
                                                        checkpoint_path=self.text, msg=self.text)),
            tagged_run_metadata=lambda: ("TaggedRunMetadata", self.opt(tag=self.text, run_metadata=self.blob))))
        return ("Event", fields)


_NAMES = {"Dim": "tensorflow.TensorShapeProto.Dim", "TensorShape": "tensorflow.TensorShapeProto",
          "Tensor": "tensorflow.TensorProto", "Histogram": "tensorflow.HistogramProto",
          "Image": "tensorflow.Summary.Image", "PluginData": "tensorflow.SummaryMetadata.PluginData",
          "Metadata": "tensorflow.SummaryMetadata", "Value": "tensorflow.Summary.Value", "Summary": "tensorflow.Summary",
          "SessionLog": "tensorflow.SessionLog", "TaggedRunMetadata": "tensorflow.TaggedRunMetadata",
          "Event": "tensorflow.Event"}


def _ours(impl):
    return {k: IMPLS[impl](v) for k, v in _NAMES.items()}


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


@pytest.mark.parametrize("impl", sorted(IMPLS))
@pytest.mark.parametrize("seed", range(4))
def test_our_bytes_are_protobufs_bytes(seed, impl):
    ours_classes = _ours(impl)
    gen = _Gen(seed)
    for _ in range(50):
        msg = gen.event()
        ours, theirs = _build(msg, ours_classes), _build(msg, THEIRS)
        assert ours.SerializeToString() == theirs.SerializeToString(), msg
        assert ours.ByteSize() == theirs.ByteSize()
        back = ours_classes["Event"].FromString(theirs.SerializeToString())
        assert back.SerializeToString() == theirs.SerializeToString(), msg


@pytest.mark.parametrize("impl", sorted(IMPLS))
def test_out_of_range_values(impl):
    # Negative int64 take ten bytes; a double beyond float32's range is an infinity in a float field, as
    # protobuf stores it.
    c = _ours(impl)
    v = c["Value"](tag="t", simple_value=1e40)
    e = c["Event"](step=-5, summary=c["Summary"](value=[v]))
    ref = event_pb2.Event.FromString(e.SerializeToString())
    assert ref.step == -5 and ref.summary.value[0].simple_value == math.inf
    assert c["Event"].FromString(e.SerializeToString()).step == -5


@pytest.mark.parametrize("impl", sorted(IMPLS))
def test_default_valued_fields_are_left_out(impl):
    # proto3: a scalar without presence holding its default is not written (a oneof member is).
    c = _ours(impl)
    assert c["Event"](step=0, wall_time=0.0).SerializeToString() == b""
    assert c["Event"](file_version="").SerializeToString() == event_pb2.Event(file_version="").SerializeToString() \
        == b"\x1a\x00"  # a oneof member is written even when empty
    assert c["SessionLog"](status=0, msg="").ByteSize() == 0
    v = c["Value"](tag="", simple_value=0.0)
    assert v.SerializeToString() == summary_pb2.Summary.Value(tag="", simple_value=0.0).SerializeToString() \
        == b"\x15\x00\x00\x00\x00"


@needs_real
@pytest.mark.parametrize("data", [b"\x08", b"\x08\x80", b"\x12\x05ab", b"\x0f", b"\x08" + b"\xff" * 11])
def test_malformed_bytes_raise(data):
    with pytest.raises(_pb_message.DecodeError, match="Error parsing message"):
        IMPLS["real"]("tensorflow.Event").FromString(data)
    with pytest.raises(tf.errors.DataLossError):
        IMPLS["stand-in"]("tensorflow.Event").FromString(data)
    with pytest.raises(tf.errors.DataLossError):  # tideflow's own reading checks with the C++ codec
        tf_messages.parse(IMPLS["real"]("tensorflow.Event"), data)


@pytest.mark.parametrize("impl", sorted(IMPLS))
def test_unknown_fields_are_skipped(impl):
    data = b"\x9a\x06\x02hi" + event_pb2.Event(step=7).SerializeToString()  # field 99 (unknown)
    e = IMPLS[impl]("tensorflow.Event").FromString(data)
    assert e.step == 7 and not e.wall_time


@needs_real
def test_wire_types_that_do_not_fit_are_unknown_fields():
    # protobuf's rule: field 1 (wall_time, a double) sent as a varint is an unknown field
    data = b"\x08\x05" + event_pb2.Event(step=7).SerializeToString()
    e = IMPLS["real"]("tensorflow.Event").FromString(data)
    assert e.step == 7 and e.wall_time == 0
