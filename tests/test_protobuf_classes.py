"""TensorFlow's message classes as tideflow gives them (Note [real protobuf classes]): real
`google.protobuf` classes with TensorFlow's names, field numbers and bytes where protobuf is installed,
built on first use (not at `import tideflow`); the stand-ins otherwise (TIDEFLOW_PROTOBUF=0), with the
same bytes. FileWriter takes either, TensorFlow's own classes and bytes, and TensorBoard reads its files."""
import os
import subprocess
import sys

import numpy as np
import pytest

import tideflow as tf
from tideflow.framework import proto_classes, tf_messages

message = pytest.importorskip("google.protobuf.message")
if not proto_classes.available():
    pytest.skip("TIDEFLOW_PROTOBUF=0: no real protobuf classes", allow_module_level=True)
from google.protobuf import text_format  # noqa: E402

TOP = ("Summary", "SummaryMetadata", "HistogramProto", "SessionLog", "Event", "LogMessage", "ConfigProto",
       "GPUOptions", "GraphOptions", "OptimizerOptions", "RunOptions", "RunMetadata", "GraphDef", "NodeDef",
       "AttrValue", "NameAttrList", "MetaGraphDef", "TensorInfo", "SignatureDef")


def _child(code, **env):
    """Runs `code` in a fresh interpreter importing the tideflow this test imported."""
    path = os.path.dirname(os.path.dirname(tf.__file__))
    e = dict(os.environ, PYTHONPATH=path + os.pathsep + os.environ.get("PYTHONPATH", ""), **env)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("name", TOP)
def test_top_level_messages_are_protobuf_classes(name):
    cls = getattr(tf, name)
    assert issubclass(cls, message.Message)
    assert cls.DESCRIPTOR.full_name == "tensorflow." + name
    assert getattr(tf.compat.v1, name) is cls and name in dir(tf) and name in tf.__all__
    assert (cls.__doc__ or "").strip()


def test_namespaces_hold_the_same_classes():
    assert tf.summary.Summary is tf.Summary and tf.summary.Event is tf.Event
    assert tf.summary.SummaryDescription.DESCRIPTOR.full_name == "tensorflow.SummaryDescription"
    assert tf.train.SaverDef.DESCRIPTOR.full_name == "tensorflow.SaverDef" and tf.train.SaverDef.V2 == 2
    assert tf.Summary.Value.DESCRIPTOR.full_name == "tensorflow.Summary.Value"
    assert tf.Summary.Image and tf.Summary.Audio and tf.SummaryMetadata.PluginData
    assert tf.RunOptions.FULL_TRACE == 3 and tf.SessionLog.START == 1 and tf.LogMessage.WARN == 30
    from tideflow.compat.v1 import Summary  # noqa: PLC0415
    assert Summary is tf.Summary


def test_import_does_not_load_protobuf():
    out = _child("import sys, tideflow, tideflow.v2\n"
                 "print('google.protobuf' in sys.modules)\n"
                 "tideflow.Summary\n"
                 "print('google.protobuf' in sys.modules)")
    assert out.split() == ["False", "True"]


def _tf_module(name):
    pytest.importorskip("tensorflow")
    import importlib  # noqa: PLC0415
    return importlib.import_module(name)


def _same_layout(ours, theirs, seen):
    """Our descriptor has every field of TensorFlow's, with its name, number, type and label, and the same
    for every message type it contains."""
    if theirs.full_name in seen:
        return
    seen.add(theirs.full_name)
    assert ours.full_name == theirs.full_name
    for f in theirs.fields:
        g = ours.fields_by_name[f.name]
        assert (g.number, g.type, g.is_repeated) == (f.number, f.type, f.is_repeated), (theirs.full_name, f.name)
        # (proto2's optional fields are proto3 `optional` ones here: a synthetic oneof named "_<field>")
        assert (g.containing_oneof is None or g.containing_oneof.name.startswith("_")) == \
            (f.containing_oneof is None or f.containing_oneof.name.startswith("_"))
        if f.message_type is not None:
            assert g.message_type.full_name == f.message_type.full_name
            _same_layout(g.message_type, f.message_type, seen)
        if f.enum_type is not None:
            assert [(v.name, v.number) for v in g.enum_type.values] == [(v.name, v.number) for v in f.enum_type.values]


def test_layouts_are_tensorflows():
    summary_pb2 = _tf_module("tensorflow.core.framework.summary_pb2")
    event_pb2 = _tf_module("tensorflow.core.util.event_pb2")
    config_pb2 = _tf_module("tensorflow.core.protobuf.config_pb2")
    meta_graph_pb2 = _tf_module("tensorflow.core.protobuf.meta_graph_pb2")
    seen = set()
    for theirs in (summary_pb2.Summary, summary_pb2.SummaryMetadata, summary_pb2.HistogramProto, event_pb2.Event,
                   event_pb2.LogMessage, event_pb2.SessionLog, config_pb2.ConfigProto, config_pb2.RunOptions,
                   config_pb2.RunMetadata, meta_graph_pb2.MetaGraphDef):
        _same_layout(getattr(tf, theirs.DESCRIPTOR.name).DESCRIPTOR, theirs.DESCRIPTOR, seen)


def _pairs():
    """The same messages built with tideflow's classes and TensorFlow's."""
    summary_pb2 = _tf_module("tensorflow.core.framework.summary_pb2")
    event_pb2 = _tf_module("tensorflow.core.util.event_pb2")
    config_pb2 = _tf_module("tensorflow.core.protobuf.config_pb2")
    graph_pb2 = _tf_module("tensorflow.core.framework.graph_pb2")

    def both(make):
        return make(tf), make(type("M", (), {
            "Summary": summary_pb2.Summary, "SummaryMetadata": summary_pb2.SummaryMetadata,
            "HistogramProto": summary_pb2.HistogramProto, "Event": event_pb2.Event,
            "LogMessage": event_pb2.LogMessage, "SessionLog": event_pb2.SessionLog,
            "ConfigProto": config_pb2.ConfigProto, "GPUOptions": config_pb2.GPUOptions,
            "GraphOptions": config_pb2.GraphOptions, "OptimizerOptions": config_pb2.OptimizerOptions,
            "RunOptions": config_pb2.RunOptions, "RunMetadata": config_pb2.RunMetadata,
            "GraphDef": graph_pb2.GraphDef}))

    return [
        both(lambda m: m.Summary(value=[
            m.Summary.Value(tag="loss", simple_value=0.0),
            m.Summary.Value(tag="img", image=m.Summary.Image(height=2, width=3, colorspace=3,
                                                             encoded_image_string=b"\x89PNG")),
            m.Summary.Value(tag="snd", audio=m.Summary.Audio(sample_rate=8000.0, num_channels=1, length_frames=4,
                                                             encoded_audio_string=b"RIFF", content_type="audio/wav")),
            m.Summary.Value(tag="h", histo=m.HistogramProto(min=-1.0, max=2.5, num=3.0, sum=0.0,
                                                            bucket_limit=[0.0, 3.0], bucket=[1.0, 2.0])),
            m.Summary.Value(tag="t", metadata=m.SummaryMetadata(
                plugin_data=m.SummaryMetadata.PluginData(plugin_name="text", content=b""), display_name="T"))])),
        both(lambda m: m.Event(wall_time=1.5, step=0, log_message=m.LogMessage(level=m.LogMessage.WARN,
                                                                                 message="careful"))),
        both(lambda m: m.Event(step=-3, session_log=m.SessionLog(status=m.SessionLog.CHECKPOINT,
                                                                 checkpoint_path="/tmp/ckpt"))),
        both(lambda m: m.ConfigProto(intra_op_parallelism_threads=2, inter_op_parallelism_threads=0,
                                     allow_soft_placement=True, device_count={"CPU": 1, "GPU": 0},
                                     gpu_options=m.GPUOptions(allow_growth=True,
                                                              per_process_gpu_memory_fraction=0.5),
                                     graph_options=m.GraphOptions(optimizer_options=m.OptimizerOptions(
                                         opt_level=m.OptimizerOptions.L1, do_function_inlining=False)))),
        both(lambda m: m.RunOptions(trace_level=m.RunOptions.FULL_TRACE, timeout_in_ms=100)),
        both(lambda m: m.RunMetadata()),
    ]


def test_bytes_and_text_are_tensorflows():
    for ours, theirs in _pairs():
        assert ours.SerializeToString() == theirs.SerializeToString()
        assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)
        assert ours.ByteSize() == theirs.ByteSize()
        assert text_format.MessageToString(ours) == text_format.MessageToString(theirs)
        back = type(ours)()
        text_format.Parse(text_format.MessageToString(theirs), back)
        assert back == ours
        assert type(ours).FromString(theirs.SerializeToString()) == ours
        # tideflow's stand-in writes the same bytes (one encoder: the C++ codec)
        stand_in = tf_messages._message_class(ours.DESCRIPTOR.full_name).FromString(ours.SerializeToString())
        assert stand_in.SerializeToString() == theirs.SerializeToString()
        assert text_format.Parse(str(stand_in), type(theirs)()) == theirs  # its text is protobuf's text format


@pytest.mark.parametrize("impl", ["real", "stand-in"])
def test_protobuf_message_methods(impl):
    get = tf_messages.message_class if impl == "real" else tf_messages._message_class
    Summary, Event = get("tensorflow.Summary"), get("tensorflow.Event")  # noqa: N806
    s = Summary(value=[Summary.Value(tag="a", simple_value=1.5)])
    t = Summary()
    t.CopyFrom(s)
    assert t == s and t is not s and t.ByteSize() == len(s.SerializeToString()) == s.ByteSize() > 0
    t.value.add(tag="b", simple_value=2.0)
    t.MergeFrom(s)
    assert [v.tag for v in t.value] == ["a", "b", "a"] and [v.tag for v in s.value] == ["a"]
    e = Event(step=3)
    e.summary.CopyFrom(s)
    assert e.HasField("summary") and e.WhichOneof("what") == "summary"
    e.file_version = "brain.Event:2"
    assert not e.HasField("summary") and e.WhichOneof("what") == "file_version"
    e2 = Event()
    e2.MergeFromString(e.SerializeToString())
    assert e2 == e and e2.step == 3
    e2.ClearField("step")
    assert e2.step == 0 and e2 != e
    e2.Clear()
    assert e2.ByteSize() == 0 and e2.ListFields() == [] and e2.IsInitialized()
    d = Event.DESCRIPTOR
    assert d.full_name == "tensorflow.Event" and d.name == "Event"
    assert d.fields_by_name["step"].number == 2 and d.fields_by_number[5].name == "summary"
    assert d.fields_by_name["summary"].message_type is Summary.DESCRIPTOR
    assert not d.fields_by_name["summary"].is_repeated and Summary.DESCRIPTOR.fields_by_name["value"].is_repeated
    with pytest.raises(TypeError):
        Summary().MergeFrom(Event())
    with pytest.raises(TypeError):
        Summary().CopyFrom(Event())
    with pytest.raises(ValueError):
        Summary(no_such_field=1)


def _records(path):
    return list(tf.python_io.tf_record_iterator(path))


def test_file_writer_takes_every_kind_of_summary(tmp_path):
    event_pb2 = pytest.importorskip("tensorboard.compat.proto.event_pb2")
    summary_pb2 = pytest.importorskip("tensorboard.compat.proto.summary_pb2")
    loader = pytest.importorskip("tensorboard.backend.event_processing.event_file_loader")
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [4])
        merged = tf.summary.merge([tf.summary.scalar("avg", tf.reduce_mean(x)),
                                   tf.summary.histogram("x", x)])
        with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=1,
                                              gpu_options=tf.GPUOptions(allow_growth=True))) as sess:
            run_metadata = tf.RunMetadata()
            op_bytes = sess.run(merged, {x: [1.0, 2.0, 3.0, 6.0]},
                                options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                                run_metadata=run_metadata)
        w = tf.summary.FileWriter(str(tmp_path), graph=tf.get_default_graph())
    w.add_summary(op_bytes, 0)                                                          # bytes, step 0
    w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="real", simple_value=0.0)]), 1)  # our class
    w.add_summary(summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="tb", simple_value=2.0)]), 2)
    w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="bytes", simple_value=3.0)]).SerializeToString(), 3)
    w.add_session_log(tf.SessionLog(status=tf.SessionLog.START), 4)
    w.add_run_metadata(run_metadata, "step5", 5)
    ev = tf.Event(step=6, log_message=tf.LogMessage(level=tf.LogMessage.INFO, message="hi"))
    w.add_event(ev)
    assert not ev.wall_time  # the caller's message is left as it was
    w.close()
    path = w.event_file
    records = _records(path)
    # Every record is exactly what protobuf writes for the message it holds (defaults left out).
    for rec in records:
        assert event_pb2.Event.FromString(rec).SerializeToString() == rec
    assert len(list(loader.EventFileLoader(path).Load())) >= len(records)  # TensorBoard reads them all
    events = [event_pb2.Event.FromString(rec) for rec in records]
    assert events[0].file_version == "brain.Event:2" and events[0].step == 0
    assert events[1].HasField("graph_def")
    by_tag = {v.tag: (e.step, v) for e in events if e.HasField("summary") for v in e.summary.value}
    assert by_tag["avg"][0] == 0 and by_tag["real"][1].simple_value == 0.0 and by_tag["real"][0] == 1
    assert by_tag["tb"][0] == 2 and by_tag["bytes"][1].simple_value == 3.0
    assert by_tag["x"][1].HasField("histo") and by_tag["x"][1].histo.num == 4
    kinds = [e.WhichOneof("what") for e in events]
    assert kinds.count("session_log") == 1 and kinds.count("tagged_run_metadata") == 1
    assert [e.log_message.message for e in events if e.HasField("log_message")] == ["hi"]
    with pytest.raises(tf.errors.DataLossError):
        tf.summary.FileWriter(str(tmp_path / "bad")).add_summary(b"\x0a\x05ab")


def test_graph_import_of_corrupt_bytes_is_data_loss():
    gd = tf.GraphDef()
    gd.node.add(name="c", op="NoOp")
    data = gd.SerializeToString()
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.DataLossError):
            tf.import_graph_def(data + b"\x0a\x09", name="")
        tf.import_graph_def(data, name="")
        assert tf.get_default_graph().get_operation_by_name("c").type == "NoOp"


def test_make_ndarray_takes_tensorflows_tensor_proto():
    tensor_util = _tf_module("tensorflow.python.framework.tensor_util")
    theirs = tensor_util.make_tensor_proto(np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(tf.make_ndarray(theirs), np.arange(6).reshape(2, 3))
    ours = tf.make_tensor_proto(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert isinstance(ours, message.Message) and ours.SerializeToString() == theirs.SerializeToString()


def test_stand_ins_without_protobuf(tmp_path):
    out = _child("import sys, tideflow as tf\n"
                 "from tideflow.framework import tf_messages\n"
                 "assert issubclass(tf.Summary, tf_messages.Message) and 'google.protobuf' not in sys.modules\n"
                 "w = tf.summary.FileWriter(sys.argv[1] if len(sys.argv) > 1 else %r)\n"
                 "w.add_summary(tf.Summary(value=[tf.Summary.Value(tag='a', simple_value=0.5)]), 2)\n"
                 "w.add_summary(tf.Summary(value=[tf.Summary.Value(tag='b', simple_value=0.0)]).SerializeToString(), 0)\n"
                 "w.add_session_log(tf.SessionLog(status=tf.SessionLog.STOP), 3)\n"
                 "c = tf.ConfigProto(intra_op_parallelism_threads=1, gpu_options=tf.GPUOptions(allow_growth=True))\n"
                 "with tf.Session(config=c) as s: print(s.run(tf.constant(2.0) * 3))\n"
                 "assert tf.Event.DESCRIPTOR.fields_by_name['step'].number == 2\n"
                 "w.close(); print(w.event_file)" % str(tmp_path), TIDEFLOW_PROTOBUF="0")
    value, path = out.split()
    assert float(value) == 6.0
    event_pb2 = pytest.importorskip("tensorboard.compat.proto.event_pb2")
    events = [event_pb2.Event.FromString(r) for r in _records(path)]
    for r in _records(path):
        assert event_pb2.Event.FromString(r).SerializeToString() == r
    assert [(e.step, v.tag, v.simple_value) for e in events for v in e.summary.value] == [(2, "a", 0.5), (0, "b", 0.0)]
    assert events[-1].session_log.status == event_pb2.SessionLog.STOP
