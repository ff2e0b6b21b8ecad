"""tf.summary in TensorFlow 2 (`import tideflow.v2 as tf`, tf.compat.v2.summary): file writers made
default with as_default(), and scalar/histogram/image/text summaries written at a step.

Note [TF2 summaries]
- Values are written as TensorBoard's TF2 plugins write them: a tensor summary (Summary.Value.tensor) with
  SummaryMetadata naming the plugin ("scalars": a float32 scalar; "histograms": float64 [k, 3] rows of left
  edge, right edge, count, 30 buckets by default, TensorBoard's own bucketing; "images": a string vector
  of width, height and PNG images; "text": the string tensor). TensorBoard's readers load them as tensors
  (plugin_event_accumulator), as they load TensorFlow 2's.
- Eagerly, a summary is encoded at once (a scalar by a few byte strings, no protobuf objects: article
  002's loop writes one per step) and queued to the writer's C++ event thread (summary.FileWriter).
- In a graph (a tf.function trace, or a TF 1.x graph) a summary is a stateful PyFunc node taking the
  value and the step; it writes when it runs (a tf.function runs it on every call, in program order). In
  a TF 1.x graph the node is returned and collected for tf.compat.v1.summary.all_v2_summary_ops().
- The TF 1.x API (`tf.summary.scalar(name, tensor)` returning a serialized Summary) stays in summary.py;
  tf.summary in tideflow.v2 is this module."""
import contextlib
import struct
import threading
import types as _types

import numpy as np

from . import _core
from .framework import dtypes as _dtypes
from .framework import ops as _ops
from .ops import image_ops as _image_ops
from .ops import script_ops as _script_ops
from . import summary as _summary_v1

__all__ = ["create_file_writer", "create_noop_writer", "SummaryWriter", "scalar", "histogram", "image", "text",
           "write", "flush", "record_if", "should_record_summaries", "experimental", "trace_on", "trace_off",
           "trace_export"]

_V2_COLLECTION = "_SUMMARY_V2"


class _State(threading.local):
    def __init__(self):
        super().__init__()
        self.writers = []   # the default writer stack (as_default)
        self.record = []    # record_if conditions


_state = _State()
_step = [None]  # tf.summary.experimental.set_step: process-wide, as TensorFlow's context step


# ---- writers ----

class SummaryWriter:
    """A writer of event files (tf.summary.create_file_writer)."""

    def __init__(self, logdir, max_queue, flush_millis, filename_suffix):
        self._logdir = logdir
        self._fw = _summary_v1.FileWriter(logdir, max_queue=max_queue, flush_secs=flush_millis / 1000.0,
                                          filename_suffix=filename_suffix)
        self._writer = self._fw._writer
        self._closed = False
        self._metadata_written = set()

    def as_default(self, step=None):
        """Makes this the default writer: at once (a plain call leaves it default), and until the end of the
        `with` block when used as a context manager (the previous default is restored then)."""
        return _DefaultWriter(self, step)

    def set_as_default(self, step=None):
        _state.writers.append(self)
        if step is not None:
            _step[0] = step

    def init(self):
        return None

    def flush(self):
        if not self._closed:
            self._fw.flush()

    def close(self):
        if not self._closed:
            self._fw.close()
            self._closed = True

    def _write(self, data, step):
        if not self._closed:
            self._writer.add_summary(data, int(step))

    @property
    def logdir(self):
        return self._logdir


class _NoopWriter(SummaryWriter):
    """tf.summary.create_noop_writer(): a default writer that writes nothing."""

    def __init__(self):
        self._closed = True
        self._logdir = None

    def flush(self):
        pass

    def close(self):
        pass

    def _write(self, data, step):
        pass


class _DefaultWriter:
    def __init__(self, writer, step):
        self._writer, self._step = writer, step
        self._saved_step = _step[0]
        self._depth = len(_state.writers)
        _state.writers.append(writer)
        if step is not None:
            _step[0] = step

    def __enter__(self):
        return self._writer

    def __exit__(self, *exc):
        del _state.writers[self._depth:]
        if self._step is not None:
            _step[0] = self._saved_step
        self._writer.flush()


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None, name=None,
                       experimental_trackable=False, experimental_mesh=None):
    """A SummaryWriter for `logdir` (created if missing): events queue up to max_queue (10) and are flushed
    every flush_millis (120000) ms, on flush() and when an as_default() block ends."""
    if logdir is None:
        raise ValueError("Expected logdir to be a string, got None")
    return SummaryWriter(str(logdir), 10 if max_queue is None else int(max_queue),
                         120000 if flush_millis is None else int(flush_millis),
                         ".v2" if filename_suffix is None else filename_suffix)


create_file_writer_v2 = create_file_writer


def create_noop_writer():
    return _NoopWriter()


def _default_writer():
    return _state.writers[-1] if _state.writers else None


def flush(writer=None, name=None):
    w = writer if writer is not None else _default_writer()
    if w is not None:
        w.flush()


# ---- recording ----

@contextlib.contextmanager
def record_if(condition):
    """Summaries in the block are written only while `condition` (a bool, a bool tensor or a callable
    giving one, read when each summary runs) holds."""
    _state.record.append(condition)
    try:
        yield
    finally:
        _state.record.pop()


def _recording():
    for c in _state.record:
        v = c() if callable(c) else c
        if not bool(v):
            return False
    return True


def should_record_summaries():
    """Whether a summary written now would be recorded: a default writer exists and record_if allows."""
    w = _default_writer()
    return _ops.convert_to_tensor(bool(w is not None and not isinstance(w, _NoopWriter) and _recording()))


def _get_step():
    return _step[0]


def _set_step(step):
    _step[0] = step


@contextlib.contextmanager
def _summary_scope(name, default_name=None, values=None):
    tag = _tag(name or default_name)
    with _ops.name_scope(name or default_name):
        yield tag, tag


def _tag(name):
    from .eager import context as _context  # lazy: the eager package loads after this module
    if _core.executing_eagerly():
        prefix = _context.scope_name()
    else:
        prefix = _ops.get_default_graph().get_name_scope()
        prefix = prefix + "/" if prefix else ""
    return prefix + name


# ---- encoding (Note [TF2 summaries]) ----

def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num, payload):
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _metadata(plugin, content=b"", description=None):
    m = _field(1, _field(1, plugin.encode()) + (_field(2, content) if content else b""))
    if description:
        m += _field(3, description.encode())
    return m


_DT = {_dtypes.float32: 1, _dtypes.float64: 2, _dtypes.int32: 3, _dtypes.string: 7, _dtypes.int64: 9,
       _dtypes.bool: 10}


def _shape_proto(shape):
    return b"".join(_field(2, _varint(8) + _varint(int(d))) if d else _field(2, b"") for d in shape)


def _tensor_proto(arr, dtype):
    body = _varint(8) + _varint(_DT[dtype]) + _field(2, _shape_proto(arr.shape))
    if dtype is _dtypes.string:
        for s in arr.reshape(-1).tolist():
            body += _field(8, s if isinstance(s, bytes) else str(s).encode())
    else:
        body += _field(4, np.ascontiguousarray(arr, dtype=dtype.as_numpy_dtype).tobytes())
    return body


def _summary_bytes(tag, metadata, tensor):
    return _field(1, _field(1, tag.encode()) + _field(8, tensor) + _field(9, metadata))


_SCALAR_META = _metadata("scalars")


def _scalar_tensor(v):
    # dtype DT_FLOAT, shape [], float_val [v]
    return b"\x08\x01\x12\x00\x2a\x04" + struct.pack("<f", v)


# ---- values: eagerly, or as a graph node ----

def _concrete(x):
    if x is None or isinstance(x, (int, float, bool, np.number, np.ndarray, bytes, str, list, tuple)):
        return True
    if getattr(x, "_is_eager_variable", False):
        return True
    return type(x).__name__ == "EagerTensor"


def _np(x):
    if getattr(x, "_is_eager_variable", False):
        x = x.read_value()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def _resolve_step(step):
    if step is None:
        step = _step[0]
        if step is None:
            raise ValueError("No step set. Please specify one either through the `step` argument or through "
                             "tf.summary.experimental.set_step()")
    return step


def _emit(name, step, values, encode, raw_tag=False):
    """Writes a summary of `values` at `step` (Note [TF2 summaries]); returns whether it was recorded.
    raw_tag: `name` is the whole tag already (TF 1.x summaries bridged to TF2)."""
    w = _default_writer()
    if w is None or not _recording():
        return False if _core.executing_eagerly() else _ops.convert_to_tensor(False)
    step = _resolve_step(step)
    tag = name if raw_tag else _tag(name)
    if _core.executing_eagerly():
        w._write(encode(tag, [_np(v) for v in values]), int(_np(step)))
        return True

    def write(*arrays):
        w._write(encode(tag, list(arrays[:-1])), int(arrays[-1]))
    inputs = [_ops.convert_to_tensor(v) for v in values] + [_ops.convert_to_tensor(step, dtype=_dtypes.int64)
                                                            if not _ops.is_tensor(step) else step]
    op = _script_ops.py_func(write, inputs, [], name="write_summary")
    g = _ops.get_default_graph()
    if not getattr(g, "_building_function", False):
        _ops.add_to_collection(_V2_COLLECTION, op)
        return op
    return _ops.convert_to_tensor(True)


def _scalar_parts(data, description=None):
    if _concrete(data):
        a = _np(data)
        if a.ndim != 0:
            raise ValueError("Shapes must be equal rank, but are %d and 0 for '{{node scalar_summary}}': a scalar "
                             "summary needs a scalar, got shape %s" % (a.ndim, a.shape))
    meta = _SCALAR_META if not description else _metadata("scalars", description=description)

    def encode(tag, vals):
        return _summary_bytes(tag, meta, _scalar_tensor(float(vals[0])))
    return encode


def scalar(name, data, step=None, description=None):
    """Writes a scalar (cast to float32) at `step` for TensorBoard's scalars dashboard."""
    return _emit(name, step, [data], _scalar_parts(data, description))


def _histogram_buckets(data, bucket_count):
    """TensorBoard's histogram_v2 bucketing: [k, 3] float64 rows (left edge, right edge, count)."""
    data = np.asarray(data, np.float64).reshape(-1)
    k = max(0, int(bucket_count))
    if data.size == 0 or k == 0:
        return np.zeros((k, 3), np.float64)
    lo, hi = data.min(), data.max()
    if hi - lo == 0:
        counts = np.zeros(k)
        counts[-1] = data.size
        edges = np.full(k, hi)
        return np.stack([edges, edges, counts], axis=1)
    width = (hi - lo) / k
    idx = np.minimum(np.floor((data - lo) / width).astype(np.int64), k - 1)
    counts = np.bincount(idx, minlength=k).astype(np.float64)
    edges = np.linspace(lo, hi, k + 1)
    edges[-1] = hi
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


def _histogram_parts(data, buckets=None, description=None):
    meta = _metadata("histograms", description=description)
    k = 30 if buckets is None else int(buckets)

    def encode(tag, vals):
        return _summary_bytes(tag, meta, _tensor_proto(_histogram_buckets(vals[0], k), _dtypes.float64))
    return encode


def histogram(name, data, step=None, buckets=None, description=None):
    """Writes a histogram of `data` (any shape) at `step`, in `buckets` (30) equal-width buckets."""
    return _emit(name, step, [data], _histogram_parts(data, buckets, description))


def _image_parts(data, max_outputs=3, description=None):
    max_outputs = int(max_outputs)
    meta = _metadata("images", description=description)

    def encode(tag, vals):
        a = np.asarray(vals[0])
        if a.ndim != 4 or a.shape[-1] not in (1, 3, 4):
            raise ValueError("image summary data must have shape [k, h, w, c] with c in (1, 3, 4), got %s"
                             % (a.shape,))
        a = _image_ops._to_uint8(a)
        imgs = [_image_ops.encode_png_bytes(x) for x in a[:max_outputs]]
        vals = np.array([str(a.shape[2]).encode(), str(a.shape[1]).encode()] + imgs, dtype=object)
        return _summary_bytes(tag, meta, _tensor_proto(vals, _dtypes.string))
    return encode


def image(name, data, step=None, max_outputs=3, description=None):
    """Writes up to max_outputs images of `data` ([k, h, w, c], c in 1, 3, 4; floats in [0, 1] or
    integers in [0, 255]) as PNGs at `step`."""
    return _emit(name, step, [data], _image_parts(data, max_outputs, description))


def _text_parts(data, description=None):
    meta = _metadata("text", description=description)

    def encode(tag, vals):
        a = np.asarray(vals[0], dtype=object)
        return _summary_bytes(tag, meta, _tensor_proto(a, _dtypes.string))
    return encode


def text(name, data, step=None, description=None):
    """Writes a string tensor at `step` for TensorBoard's text dashboard."""
    return _emit(name, step, [data], _text_parts(data, description))


def write(tag, tensor, step=None, metadata=None, name=None):
    """Writes `tensor` under `tag` with the given SummaryMetadata (a message or its bytes)."""
    meta = b"" if metadata is None else (metadata if isinstance(metadata, bytes) else metadata.SerializeToString())

    def encode(t, vals):
        a = np.asarray(vals[0])
        dt = _dtypes.string if a.dtype.kind in "OSU" else _dtypes.as_dtype(a.dtype)
        return _summary_bytes(t, meta, _tensor_proto(a.astype(object) if dt is _dtypes.string else a, dt))
    return _emit(tag, step, [tensor], encode)


_PARTS = {"scalar": _scalar_parts, "histogram": _histogram_parts, "image": _image_parts, "text": _text_parts}


def _invoke_from_v1(kind, name, data, family, **kwargs):
    """TF 1.x's tf.summary.scalar/histogram/image/text eagerly (summary.py): with a TF2 default writer and a
    step they write a TF2 summary under the TF 1.x tag and return b"", as TensorFlow 2 does; otherwise
    NotImplemented (the TF 1.x op runs)."""
    if _default_writer() is None or _step[0] is None:
        return NotImplemented
    with _summary_v1._SummaryScope(name, family) as (tag, _):
        _emit(tag, None, [data], _PARTS[kind](data, **kwargs), raw_tag=True)
    return _ops.convert_to_tensor(b"")


_summary_v1._invoke_v2 = _invoke_from_v1


def trace_on(graph=True, profiler=False, profiler_outdir=None):
    """Graph tracing for TensorBoard is not recorded by tideflow; accepted so programs run."""


def trace_off():
    pass


def trace_export(name, step=None, profiler_outdir=None):
    return False


def all_v2_summary_ops():
    """The summary nodes TF2 summaries made in the default TF 1.x graph (tf.compat.v1.summary)."""
    return _ops.get_collection(_V2_COLLECTION)


experimental = _types.ModuleType("tideflow.summary.experimental")
experimental.get_step = _get_step
experimental.set_step = _set_step
experimental.summary_scope = _summary_scope
