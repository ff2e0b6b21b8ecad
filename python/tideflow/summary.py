"""tf.summary: TensorFlow 1.x summary ops and the FileWriter that logs them for TensorBoard.

Summary ops return a string scalar holding a serialized `Summary` protobuf, so `sess.run([loss, merged])`
hands bytes to `FileWriter.add_summary`. Event files are written by the C++ core (a background thread per
writer); the message classes below (`Summary`, `Event`, `SessionLog`...) are small stand-ins for
TensorFlow's protobuf classes, enough to build, serialize and parse the messages summaries use (their
bytes are encoded and decoded by the C++ core's protobuf writer and reader).
"""
import atexit
import re
import threading
import time
import weakref

from . import _core
from .framework import dtypes as _dtypes
from .framework import ops as _ops
from .framework.ops import GraphKeys

__all__ = ["scalar", "histogram", "image", "text", "tensor_summary", "merge", "merge_all", "FileWriter",
           "FileWriterCache", "Summary", "SummaryMetadata", "HistogramProto", "SessionLog", "Event",
           "TaggedRunMetadata", "TensorProto", "TensorShapeProto"]


# ---------------------------------------------------------------------------------------------------
# Protobuf messages: the schema lives here, the wire format in C++ (Note [one protobuf encoder] in
# cpp/bindings_summary.cc): SerializeToString hands (number, kind, value) triples to _core.pb_encode,
# ParseFromString reads (number, value) pairs from _core.pb_decode.

_CODES = {"int": 0, "bool": 1, "double": 2, "float": 3, "string": 4, "bytes": 4}  # PbKind; 4 also for messages
_PACKED = 8
_DEFAULTS = {"double": 0.0, "float": 0.0, "int": 0, "bool": False, "string": "", "bytes": b""}
_WIRE_KINDS = {}  # message class -> {field number: kind code}, for pb_decode


class _Repeated(list):
    """A repeated field; `add(**fields)` appends a new message, as protobuf's repeated containers do."""

    def __init__(self, cls=None, items=()):
        super().__init__(items)
        self._cls = cls

    def add(self, **kwargs):
        m = self._cls(**kwargs)
        self.append(m)
        return m


class _FieldDescriptor:
    """What a protobuf FieldDescriptor tells about one field: name, number, label, message_type."""
    LABEL_OPTIONAL, LABEL_REPEATED = 1, 3

    def __init__(self, name, number, kind, repeated):
        self.name, self.number = name, number
        self.label = self.LABEL_REPEATED if repeated else self.LABEL_OPTIONAL
        self.message_type = kind.DESCRIPTOR if isinstance(kind, type) else None
        self.kind = kind if isinstance(kind, str) else "message"


class _Descriptor:
    """What a protobuf Descriptor tells about a message type: name, full_name, fields, fields_by_name."""

    def __init__(self, cls):
        self.name = cls.__name__
        self.full_name = "tensorflow." + cls.__qualname__
        self._cls = cls

    @property
    def fields(self):
        return [_FieldDescriptor(n, num, kind, rep) for n, (num, kind, rep) in self._cls.FIELDS.items()]

    @property
    def fields_by_name(self):
        return {f.name: f for f in self.fields}

    @property
    def fields_by_number(self):
        return {f.number: f for f in self.fields}


class _DescriptorAttr:
    def __get__(self, obj, cls):
        d = cls.__dict__.get("_descriptor")
        if d is None:
            d = _Descriptor(cls)
            type.__setattr__(cls, "_descriptor", d)
        return d


class _Message:
    """A protobuf message described by FIELDS = {name: (number, kind or message class, repeated)}, with
    protobuf's message interface (DESCRIPTOR, CopyFrom, MergeFrom, ByteSize, SerializeToString,
    ParseFromString, FromString, HasField, ListFields, Clear, ClearField)."""
    FIELDS = {}
    DESCRIPTOR = _DescriptorAttr()

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            if k not in self.FIELDS:
                raise ValueError('Protocol message %s has no "%s" field.' % (type(self).__name__, k))
            setattr(self, k, v)

    def __setattr__(self, k, v):
        spec = self.FIELDS.get(k)
        if spec is None:
            raise AttributeError('Assignment not allowed (no field "%s" in protocol message %s).'
                                 % (k, type(self).__name__))
        _, kind, repeated = spec
        if repeated:
            v = _Repeated(kind if isinstance(kind, type) else None, v)
        self.__dict__.get("_implicit", set()).discard(k)
        object.__setattr__(self, k, v)

    def __getattr__(self, k):
        spec = type(self).FIELDS.get(k)
        if spec is None:
            raise AttributeError("%s has no field %s" % (type(self).__name__, k))
        _, kind, repeated = spec
        if repeated:
            v = _Repeated(kind if isinstance(kind, type) else None)
        elif isinstance(kind, type):
            # Reading an unset sub-message gives an empty one that assignments then fill in; it counts as
            # present only once it holds something (protobuf marks it present on the first write).
            v = kind()
            self.__dict__.setdefault("_implicit", set()).add(k)
        else:
            return _DEFAULTS[kind]
        object.__setattr__(self, k, v)
        return v

    def _present(self, k):
        if k not in self.__dict__:
            return False
        if k in self.__dict__.get("_implicit", ()):
            return bool(self.__dict__[k].SerializeToString())
        return True

    def HasField(self, k):
        if k not in self.FIELDS or self.FIELDS[k][2]:
            raise ValueError('Protocol message has no singular "%s" field.' % k)
        return self._present(k)

    def ListFields(self):
        return [(k, self.__dict__[k]) for k in self.FIELDS if self._present(k)]

    def SerializeToString(self):
        fields = []
        for name, (num, kind, repeated) in self.FIELDS.items():
            if not self._present(name):
                continue
            values = self.__dict__[name] if repeated else [self.__dict__[name]]
            if isinstance(kind, type):
                fields.extend((num, 4, m.SerializeToString()) for m in values)
            elif kind in ("string", "bytes"):
                fields.extend((num, 4, s.encode() if isinstance(s, str) else bytes(s)) for s in values)
            elif repeated:  # proto3 packs repeated numbers
                fields.append((num, _CODES[kind] | _PACKED, [int(v) for v in values] if kind == "int" else list(values)))
            else:
                fields.append((num, _CODES[kind], int(values[0]) if kind == "int" else values[0]))
        return _core.pb_encode(fields)

    def ParseFromString(self, data):
        """Replaces the message's contents with the message serialized in `data`; returns len(data)."""
        self.Clear()
        return self.MergeFromString(data)

    def MergeFromString(self, data):
        """Merges the message serialized in `data` into this one (protobuf's rules, as MergeFrom);
        returns len(data)."""
        other = type(self)()
        other._decode(data)
        self.MergeFrom(other)
        return len(bytes(data))

    def MergeFrom(self, other):
        """Merges `other` (a message of the same type) into this one: set scalars overwrite, repeated
        fields append copies, sub-messages merge recursively.

        Raises:
          TypeError: `other` is a different message type.
        """
        if type(other) is not type(self):
            raise TypeError("Parameter to MergeFrom() must be instance of same class: expected %s got %s."
                            % (type(self).__name__, type(other).__name__))
        for name, value in other.ListFields():
            _, kind, repeated = self.FIELDS[name]
            if repeated:
                getattr(self, name).extend(type(v).FromString(v.SerializeToString()) if isinstance(kind, type)
                                           else v for v in value)
            elif isinstance(kind, type):
                mine = getattr(self, name)
                mine.MergeFrom(value)
                self.__dict__.get("_implicit", set()).discard(name)
            else:
                setattr(self, name, value)

    def CopyFrom(self, other):
        """Makes this message a copy of `other` (a message of the same type)."""
        if other is self:
            return
        self.Clear()
        self.MergeFrom(other)

    def Clear(self):
        """Resets every field to its default."""
        for name in list(self.__dict__):
            if name in self.FIELDS or name == "_implicit":
                del self.__dict__[name]

    def ClearField(self, field_name):
        """Resets field `field_name` to its default.

        Raises:
          ValueError: the message has no such field.
        """
        if field_name not in self.FIELDS:
            raise ValueError('Protocol message %s has no "%s" field.' % (type(self).__name__, field_name))
        self.__dict__.pop(field_name, None)

    def ByteSize(self):
        """The length of the serialized message in bytes."""
        return len(self.SerializeToString())

    def IsInitialized(self):
        """True: proto3 messages have no required fields."""
        return True

    def SerializePartialToString(self):
        """The serialized message (as SerializeToString: nothing is required in proto3)."""
        return self.SerializeToString()

    def _decode(self, data):
        data = bytes(data)
        cls = type(self)
        kinds = _WIRE_KINDS.get(cls)
        if kinds is None:
            kinds = _WIRE_KINDS[cls] = {num: 4 if isinstance(kind, type) else _CODES[kind]
                                        for num, kind, _ in cls.FIELDS.values()}
        by_num = {num: (name, kind, rep) for name, (num, kind, rep) in cls.FIELDS.items()}
        for num, value in _core.pb_decode(data, kinds):
            name, kind, repeated = by_num[num]
            if isinstance(kind, type):
                value = [kind.FromString(value)]
            elif kind == "string":
                value = [value.decode("utf-8", "replace")]
            elif not isinstance(value, list):
                value = [value]
            if repeated:
                getattr(self, name).extend(value)
            elif value and isinstance(kind, type) and self._present(name):
                getattr(self, name).MergeFrom(value[-1])  # a sub-message seen twice merges (protobuf)
            elif value:
                setattr(self, name, value[-1])
        return len(data)

    @classmethod
    def FromString(cls, data):
        m = cls()
        m.ParseFromString(data)
        return m

    def __eq__(self, other):
        return type(self) is type(other) and self.SerializeToString() == other.SerializeToString()

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % kv for kv in self.ListFields()))


class TensorShapeProto(_Message):
    class Dim(_Message):
        FIELDS = {"size": (1, "int", False), "name": (2, "string", False)}

    FIELDS = {"dim": (2, Dim, True), "unknown_rank": (3, "bool", False)}


class TensorProto(_Message):
    FIELDS = {"dtype": (1, "int", False), "tensor_shape": (2, TensorShapeProto, False),
              "tensor_content": (4, "bytes", False), "float_val": (5, "float", True),
              "double_val": (6, "double", True), "int_val": (7, "int", True), "string_val": (8, "bytes", True),
              "int64_val": (10, "int", True), "bool_val": (11, "bool", True)}


class SummaryMetadata(_Message):
    """TensorFlow's SummaryMetadata protobuf: the plugin that reads a summary value."""
    class PluginData(_Message):
        FIELDS = {"plugin_name": (1, "string", False), "content": (2, "bytes", False)}

    FIELDS = {"plugin_data": (1, PluginData, False), "display_name": (2, "string", False),
              "summary_description": (3, "string", False)}


class HistogramProto(_Message):
    """TensorFlow's HistogramProto: min, max, num, sum, sum_squares and the bucket limits and counts."""
    FIELDS = {"min": (1, "double", False), "max": (2, "double", False), "num": (3, "double", False),
              "sum": (4, "double", False), "sum_squares": (5, "double", False),
              "bucket_limit": (6, "double", True), "bucket": (7, "double", True)}


class Summary(_Message):
    """TensorFlow's Summary protobuf: a list of `value`s (tag and simple_value, image, histo, tensor)."""
    class Image(_Message):
        FIELDS = {"height": (1, "int", False), "width": (2, "int", False), "colorspace": (3, "int", False),
                  "encoded_image_string": (4, "bytes", False)}

    class Value(_Message):
        pass

    FIELDS = {}


Summary.Value.FIELDS = {"node_name": (7, "string", False), "tag": (1, "string", False),
                        "metadata": (9, SummaryMetadata, False), "simple_value": (2, "float", False),
                        "image": (4, Summary.Image, False), "histo": (5, HistogramProto, False),
                        "tensor": (8, TensorProto, False)}
Summary.FIELDS = {"value": (1, Summary.Value, True)}


class SessionLog(_Message):
    """TensorFlow's SessionLog protobuf: START / STOP / CHECKPOINT events in event files."""
    STATUS_UNSPECIFIED, START, STOP, CHECKPOINT = 0, 1, 2, 3
    FIELDS = {"status": (1, "int", False), "checkpoint_path": (2, "string", False), "msg": (3, "string", False)}


class TaggedRunMetadata(_Message):
    FIELDS = {"tag": (1, "string", False), "run_metadata": (2, "bytes", False)}


class Event(_Message):
    """TensorFlow's Event protobuf, the records of event files: wall_time, step and one of summary, graph_def, session_log..."""
    FIELDS = {"wall_time": (1, "double", False), "step": (2, "int", False), "file_version": (3, "string", False),
              "graph_def": (4, "bytes", False), "summary": (5, Summary, False),
              "session_log": (7, SessionLog, False), "tagged_run_metadata": (8, TaggedRunMetadata, False),
              "meta_graph_def": (9, "bytes", False)}


# ---------------------------------------------------------------------------------------------------
# Summary ops

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


def _clean_tag(name):
    """TF's summary_op_util.clean_tag: illegal characters become '_', leading slashes go."""
    if name is not None:
        name = _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")
    return name


class _SummaryScope:
    """TF1's summary_scope: the op is named by name_scope(family/name) (so uniquified like any op); the
    tag is that scope's name, prefixed by the family again so TensorBoard groups it under the family."""

    def __init__(self, name, family=None, default_name=None, values=None):
        self._name = _clean_tag(name)
        self._family = _clean_tag(family)
        self._default_name, self._values = default_name, values

    def __enter__(self):
        base = self._name if self._family is None else "%s/%s" % (self._family, self._name)
        self._ctx = _ops.name_scope(base, self._default_name, self._values)
        scope = self._ctx.__enter__()
        tag = scope.rstrip("/")
        if self._family is not None:
            tag = "%s/%s" % (self._family, tag)
        return tag, scope

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def _collect(val, collections, default_collections):
    for key in (default_collections if collections is None else collections):
        _ops.add_to_collection(key, val)


def _summary_op(op_type, scope, tag, inputs, attrs=None, extra_strings=()):
    """Builds `op_type(tag, *inputs, *extra_strings)` named `scope` (TF names summary ops by their scope;
    the tag constant lives inside it, named after the op's input: 'train/loss/tags')."""
    with _ops.name_scope(scope):
        tag_t = _ops.constant_op(tag, _dtypes.string, name="tags" if op_type == "ScalarSummary" else "tag")
        tensors = [_ops.convert_to_tensor(x) for x in inputs]
        extra = [_ops.constant_op(s, _dtypes.string, name=n) for n, s in extra_strings]
    return _ops.apply_op(op_type, [tag_t] + tensors + extra, attrs or {}, name=scope).outputs[0]


# TensorFlow 2's bridge: eagerly, with a TF2 default writer and a step (summary_v2.py), a TF 1.x summary
# writes through TF2's and returns b"" (summary_v2 installs it; None or NotImplemented: the TF 1.x path).
_invoke_v2 = None


def _via_v2(kind, name, data, family, **kwargs):
    if _invoke_v2 is None or not _core.executing_eagerly():
        return NotImplemented
    return _invoke_v2(kind, name, data, family, **kwargs)


def scalar(name, tensor, collections=None, family=None):
    """A summary holding one scalar value (TensorBoard's scalars tab). Returns a string scalar Tensor."""
    r = _via_v2("scalar", name, tensor, family)
    if r is not NotImplemented:
        return r
    with _SummaryScope(name, family, values=[tensor]) as (tag, scope):
        val = _summary_op("ScalarSummary", scope, tag, [tensor])
        _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def histogram(name, values, collections=None, family=None):
    """A histogram of `values` over TensorFlow's default exponential buckets; NaN or Inf fails at run time."""
    r = _via_v2("histogram", name, values, family)
    if r is not NotImplemented:
        return r
    with _SummaryScope(name, family, values=[values], default_name="HistogramSummary") as (tag, scope):
        val = _summary_op("HistogramSummary", scope, tag, [values])
        _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def image(name, tensor, max_outputs=3, collections=None, family=None):
    """Up to `max_outputs` images from a [batch, height, width, channels] tensor (1, 3 or 4 channels).
    uint8 images are written as they are; floats (float16, float32, float64) are rescaled to 0..255 as
    TensorFlow does; int32 tensors hold uint8 values. Tags are
    'name/image/0', 'name/image/1'... ('name/image' when max_outputs is 1)."""
    r = _via_v2("image", name, tensor, family, max_outputs=max_outputs)
    if r is not NotImplemented:
        return r
    with _SummaryScope(name, family, values=[tensor]) as (tag, scope):
        val = _summary_op("ImageSummary", scope, tag, [tensor], {"max_images": int(max_outputs)})
        _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def tensor_summary(name, tensor, summary_description=None, collections=None, summary_metadata=None,
                   family=None, display_name=None):
    """A summary holding a whole tensor (TensorSummaryV2), tagged with plugin metadata."""
    if summary_metadata is None:
        summary_metadata = SummaryMetadata()
    elif isinstance(summary_metadata, (bytes, bytearray)):
        summary_metadata = SummaryMetadata.FromString(summary_metadata)
    if summary_description is not None:
        summary_metadata.summary_description = summary_description
    if display_name is not None:
        summary_metadata.display_name = display_name
    with _SummaryScope(name, family, values=[tensor]) as (tag, scope):
        val = _summary_op("TensorSummaryV2", scope, tag, [tensor],
                          extra_strings=[("serialized_summary_metadata", summary_metadata.SerializeToString())])
        _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def text(name, tensor, collections=None):
    """A string tensor for TensorBoard's text tab (markdown)."""
    r = _via_v2("text", name, tensor, None)
    if r is not NotImplemented:
        return r
    if not isinstance(tensor, _ops.Tensor):
        tensor = _ops.convert_to_tensor(tensor, _dtypes.string)
    if tensor.dtype is not _dtypes.string:
        raise ValueError("Expected tensor %s to have dtype string, got %s" % (tensor.name, tensor.dtype.name))
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="text"))
    return tensor_summary(name, tensor, collections=collections, summary_metadata=metadata)


def merge(inputs, collections=None, name=None):
    """One Summary holding the values of all `inputs` (string tensors of serialized Summaries). Duplicate
    tags fail at run time."""
    name = _clean_tag(name)
    inputs = [_ops.convert_to_tensor(x) for x in inputs]
    with _ops.name_scope(name, "Merge", inputs):
        val = _ops.apply_op("MergeSummary", inputs, {}, name=name).outputs[0]
        _collect(val, collections, [])
    return val


def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """Merges every summary in collection `key`; None when there is none."""
    summary_ops = _ops.get_collection(key, scope=scope)
    if not summary_ops:
        return None
    return merge(summary_ops, name=name)


# ---------------------------------------------------------------------------------------------------
# Writing event files

_open_writers = weakref.WeakSet()
_open_writers_lock = threading.Lock()


def _close_all_writers():
    """At interpreter exit every open FileWriter is flushed and closed (the C++ destructor would too, but
    objects alive at exit are not guaranteed to be collected)."""
    with _open_writers_lock:
        writers = list(_open_writers)
    for w in writers:
        try:
            w.close()
        except Exception:  # noqa: BLE001 -- nothing left to report to at exit
            pass


atexit.register(_close_all_writers)


def _as_bytes(msg, what):
    if isinstance(msg, (bytes, bytearray)):
        return bytes(msg)
    if hasattr(msg, "SerializeToString"):
        return msg.SerializeToString()
    raise TypeError("%s must be a serialized protobuf (bytes) or a message, got %s" % (what, type(msg).__name__))


class FileWriter:
    """Writes Summary protos and the graph to an event file in `logdir` for TensorBoard.

    The file is `events.out.tfevents.<time>.<host>` in `logdir` (created if missing). Events go through a
    queue of `max_queue` to a background thread that flushes every `flush_secs`, on flush(), on close()
    and at interpreter exit.
    """

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=2, graph_def=None, filename_suffix=None):
        self._logdir = str(logdir)
        self._writer = _core.EventWriter(self._logdir, int(max_queue), float(flush_secs), filename_suffix or "")
        self._closed = False
        with _open_writers_lock:
            _open_writers.add(self)
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def get_logdir(self):
        return self._logdir

    def add_summary(self, summary, global_step=None):
        """Adds a Summary (serialized bytes, as a summary op returns, or a Summary message) at global_step."""
        if summary is None:
            return
        data = _as_bytes(summary, "summary")
        if not hasattr(summary, "SerializeToString"):
            # Bytes that are no Summary would corrupt the event file for every reader (TF: DecodeError).
            Summary.FromString(data)
        self._writer.add_summary(data, 0 if global_step is None else int(global_step))

    def add_graph(self, graph, global_step=None, graph_def=None):
        """Adds the graph (a tf.Graph, or a serialized GraphDef as graph_def) for TensorBoard's graph tab."""
        if graph is not None and graph_def is not None:
            raise ValueError("Please pass only graph, or graph_def (deprecated), but not both.")
        if graph is not None:
            if not isinstance(graph, _ops.Graph):
                raise TypeError("graph must be a tf.Graph, got %s" % type(graph).__name__)
            data = _core.graph_def(graph._c)
        elif graph_def is not None:
            data = _as_bytes(graph_def, "graph_def")
        else:
            raise ValueError("Pass a graph (or graph_def) to add_graph.")
        self._writer.add_graph_def(data, 0 if global_step is None else int(global_step))

    def add_session_log(self, session_log, global_step=None):
        """Adds a SessionLog (START after a restart makes TensorBoard drop the steps after it)."""
        self.add_event(Event(session_log=session_log if isinstance(session_log, SessionLog)
                             else SessionLog.FromString(_as_bytes(session_log, "session_log"))),
                       global_step)

    def add_event(self, event, global_step=None):
        """Adds an Event message (wall_time defaults to now) or serialized Event bytes as they are."""
        if isinstance(event, (bytes, bytearray)):
            self._writer.add_event(bytes(event))
            return
        if not event.HasField("wall_time"):
            event.wall_time = time.time()
        if global_step is not None:
            event.step = int(global_step)
        self._writer.add_event(event.SerializeToString())

    def add_run_metadata(self, run_metadata, tag, global_step=None):
        """Adds a TaggedRunMetadata event: `tag` names the session run in TensorBoard's graph tab."""
        data = run_metadata.SerializeToString() if hasattr(run_metadata, "SerializeToString") else b""
        self.add_event(Event(tagged_run_metadata=TaggedRunMetadata(tag=tag, run_metadata=data)), global_step)

    def flush(self):
        """Blocks until every event added so far is in the file."""
        self._writer.flush()

    def close(self):
        """Flushes and closes the file; later events are dropped until reopen()."""
        self._writer.close()
        self._closed = True
        with _open_writers_lock:
            _open_writers.discard(self)

    def reopen(self):
        """After close(): continue in a new event file in the same directory."""
        if self._closed:
            self._writer.reopen()
            self._closed = False
            with _open_writers_lock:
                _open_writers.add(self)

    @property
    def event_file(self):
        """Path of the current event file."""
        return self._writer.filename

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FileWriterCache:
    """One FileWriter per logdir, created with the default graph on first use."""
    _cache = {}
    _lock = threading.RLock()

    @staticmethod
    def get(logdir):
        with FileWriterCache._lock:
            w = FileWriterCache._cache.get(logdir)
            if w is None:
                w = FileWriterCache._cache[logdir] = FileWriter(logdir, graph=_ops.get_default_graph())
            return w

    @staticmethod
    def clear():
        with FileWriterCache._lock:
            for w in FileWriterCache._cache.values():
                w.close()
            FileWriterCache._cache.clear()
