"""tf.summary: TensorFlow 1.x summary ops and the FileWriter that logs them for TensorBoard.

Summary ops return a string scalar holding a serialized `Summary` protobuf, so `sess.run([loss, merged])`
hands bytes to `FileWriter.add_summary`. Event files are written by the C++ core (a background thread per
writer). The message classes (`Summary`, `Event`, `SessionLog`...) are TensorFlow's: real protobuf
classes when the protobuf package is installed, otherwise tideflow's stand-ins (framework/tf_messages.py)
with the same fields and bytes.
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
           "FileWriterCache", "Summary", "SummaryMetadata", "SummaryDescription", "HistogramProto", "SessionLog",
           "Event", "TaggedRunMetadata", "TensorProto", "TensorShapeProto"]


# ---------------------------------------------------------------------------------------------------
# Protobuf messages: TensorFlow's classes (framework/tf_messages.py: real protobuf classes when the
# protobuf package is installed, tideflow's stand-ins otherwise), resolved on first use so that
# `import tideflow` does not pay for protobuf's import.

_MESSAGES = {"Summary": "tensorflow.Summary", "SummaryMetadata": "tensorflow.SummaryMetadata",
             "SummaryDescription": "tensorflow.SummaryDescription", "HistogramProto": "tensorflow.HistogramProto",
             "SessionLog": "tensorflow.SessionLog", "Event": "tensorflow.Event",
             "TaggedRunMetadata": "tensorflow.TaggedRunMetadata", "LogMessage": "tensorflow.LogMessage",
             "TensorProto": "tensorflow.TensorProto", "TensorShapeProto": "tensorflow.TensorShapeProto"}


def _msg(name):
    from .framework import tf_messages  # lazy: protobuf's classes are built on first use
    return tf_messages.message_class(_MESSAGES[name])


def __getattr__(name):
    if name in _MESSAGES:
        cls = globals()[name] = _msg(name)
        return cls
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


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
    cls = _msg("SummaryMetadata")
    if summary_metadata is None:
        summary_metadata = cls()
    elif isinstance(summary_metadata, (bytes, bytearray)):
        summary_metadata = cls.FromString(summary_metadata)
    else:  # a copy: the caller's message stays as it was (and may be TensorFlow's own class)
        summary_metadata = cls.FromString(summary_metadata.SerializeToString())
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
    cls = _msg("SummaryMetadata")
    metadata = cls(plugin_data=cls.PluginData(plugin_name="text"))
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
            # Bytes that are no Summary would corrupt the event file for every reader: DataLossError (the
            # C++ codec checks them; TensorFlow raises protobuf's DecodeError).
            from .framework import tf_messages  # lazy: protobuf's classes are built on first use
            tf_messages.parse(_msg("Summary"), data, "the serialized Summary given to add_summary")
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
        event = _msg("Event")()
        event.session_log.ParseFromString(_as_bytes(session_log, "session_log"))
        self.add_event(event, global_step)

    def add_event(self, event, global_step=None):
        """Adds an Event message (wall_time defaults to now) or serialized Event bytes as they are."""
        if isinstance(event, (bytes, bytearray)):
            self._writer.add_event(bytes(event))
            return
        # Event's wall_time has no presence in proto3: 0 means unset. A copy, so the caller's event keeps
        # its fields (TF's writer sets them on the event it is given; tideflow's leaves that alone).
        data = event.SerializeToString()
        event = _msg("Event").FromString(data)
        if not event.wall_time:
            event.wall_time = time.time()
        if global_step is not None:
            event.step = int(global_step)
        self._writer.add_event(event.SerializeToString())

    def add_run_metadata(self, run_metadata, tag, global_step=None):
        """Adds a TaggedRunMetadata event: `tag` names the session run in TensorBoard's graph tab."""
        data = run_metadata.SerializeToString() if hasattr(run_metadata, "SerializeToString") else b""
        event = _msg("Event")()
        event.tagged_run_metadata.tag = tag
        event.tagged_run_metadata.run_metadata = data
        self.add_event(event, global_step)

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
