"""TF 1.x readers and record decoding: tf.TextLineReader, tf.WholeFileReader, tf.FixedLengthRecordReader,
tf.read_file / tf.io.read_file, tf.write_file, tf.decode_csv, tf.decode_raw.

A reader, like a queue (Note [queues as Python state] in data_flow_ops.py), is Python state the graph
holds, and its read is one stateful PyFunc node: it takes the next file name from the queue when the
current file is used up (so a closed, empty queue ends reading with OutOfRangeError, as in TensorFlow) and
returns (key, value) with TensorFlow's keys: "file:line" (1-based, header lines counted) for text lines,
"file:index" (0-based) for fixed-length records, the file name for whole files."""
import threading

import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import errors as _errors
from ..framework import ops as _ops
from . import data_flow_ops, script_ops

__all__ = ["ReaderBase", "TextLineReader", "WholeFileReader", "FixedLengthRecordReader", "read_file",
           "write_file", "decode_csv", "decode_raw"]


def _text(b):
    return b.decode("utf-8", "surrogateescape") if isinstance(b, bytes) else str(b)


def _read_bytes(path, node="ReadFile"):
    try:
        with open(_text(path), "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise _errors.NotFoundError(None, None, "%s; No such file or directory" % _text(path)) from None
    except IsADirectoryError:
        raise _errors.FailedPreconditionError(None, None, "%s; Is a directory" % _text(path)) from None
    except OSError as e:
        raise _errors.UnknownError(None, None, "%s; %s" % (_text(path), e.strerror)) from None


class ReaderBase:
    """The reader protocol: read(queue) -> (key, value) scalars, read_up_to(queue, n) -> two vectors,
    num_records_produced(), num_work_units_completed(), reset(). Subclasses give `_records(name, data)`,
    the (key, value) pairs of one file."""

    def __init__(self, default_name, name=None):
        if _ops._core.executing_eagerly():
            raise RuntimeError("Readers are not supported when eager execution is enabled. Instead, please use "
                               "tf.data to get data into your model.")
        # The reader's own node, as TensorFlow has one (its `reader_ref`).
        self._reader_ref = _ops.constant_op(np.array(b"reader", dtype=object), name=name or default_name)
        self._lock = threading.Lock()
        self._gen = 0
        self._clear()
        g = _ops.get_default_graph()
        hooks = g.__dict__.get("_on_session_close")
        if hooks is None:
            hooks = g._on_session_close = []
        hooks.append(self._session_closed)

    reader_ref = property(lambda self: self._reader_ref)
    supports_serialize = False

    def _clear(self):
        self._pending = []  # records of the current file still to hand out
        self._produced = 0
        self._completed = 0
        self._in_file = False

    def _session_closed(self):
        with self._lock:
            self._gen += 1
            self._clear()

    def _next(self, queue, gen):
        """One (key, value), taking files from `queue` as needed; holds self._lock."""
        while not self._pending:
            if self._in_file:
                self._in_file = False
                self._completed += 1
            if self._gen != gen:
                raise _errors.CancelledError(None, None, "Reader cancelled: its session was closed.")
            work = queue._state.dequeue(None, False)[0][0]
            name = work.item() if isinstance(work, np.ndarray) else work
            if isinstance(name, str):
                name = name.encode()
            self._pending = list(self._records(name, _read_bytes(name)))
            self._pending.reverse()
            self._in_file = True
        self._produced += 1
        return self._pending.pop()

    def _queue_of(self, queue):
        if not isinstance(queue, data_flow_ops.QueueBase):
            raise TypeError("A reader reads file names from a queue (tf.train.string_input_producer or a "
                            "tf.FIFOQueue of strings); got %r" % (queue,))
        if queue.dtypes[0] is not _dtypes.string:
            raise TypeError("A reader's queue must hold strings, not %s" % queue.dtypes[0].name)
        return queue

    def read(self, queue, name=None):
        queue = self._queue_of(queue)

        def fn():
            gen = self._gen
            with self._lock:
                key, value = self._next(queue, gen)
            return np.array(key, dtype=object), np.array(value, dtype=object)
        key, value = script_ops.py_func(fn, [], [_dtypes.string, _dtypes.string], name=name or "ReaderReadV2")
        key.set_shape([])
        value.set_shape([])
        return key, value

    def read_up_to(self, queue, num_records, name=None):
        queue = self._queue_of(queue)
        n = _ops.convert_to_tensor(num_records, dtype=_dtypes.int64, name="num_records")

        def fn(count):
            count = int(count)
            if count <= 0:
                raise _errors.InvalidArgumentError(None, None, "num_records must be > 0 but got %d" % count)
            gen = self._gen
            keys, values = [], []
            with self._lock:
                while len(keys) < count:
                    try:
                        k, v = self._next(queue, gen)
                    except _errors.OutOfRangeError:
                        if keys:
                            break
                        raise
                    keys.append(k)
                    values.append(v)
            return np.array(keys, dtype=object), np.array(values, dtype=object)
        keys, values = script_ops.py_func(fn, [n], [_dtypes.string, _dtypes.string],
                                          name=name or "ReaderReadUpToV2")
        keys.set_shape([None])
        values.set_shape([None])
        return keys, values

    def num_records_produced(self, name=None):
        t = script_ops.py_func(lambda: np.int64(self._produced), [], _dtypes.int64,
                               name=name or "ReaderNumRecordsProducedV2")
        t.set_shape([])
        return t

    def num_work_units_completed(self, name=None):
        t = script_ops.py_func(lambda: np.int64(self._completed), [], _dtypes.int64,
                               name=name or "ReaderNumWorkUnitsCompletedV2")
        t.set_shape([])
        return t

    def reset(self, name=None):
        def fn():
            with self._lock:
                self._clear()
        return script_ops.py_func(fn, [], [], name=name or "ReaderResetV2")

    def serialize_state(self, name=None):
        raise NotImplementedError("Reader state serialization is not supported by tideflow")

    def restore_state(self, state, name=None):
        raise NotImplementedError("Reader state serialization is not supported by tideflow")


class TextLineReader(ReaderBase):
    """Records are the lines of each file, without the line end ("\\n" or "\\r\\n"); keys "file:line"."""

    def __init__(self, skip_header_lines=None, name=None):
        self._skip = int(skip_header_lines or 0)
        super().__init__("TextLineReaderV2", name)

    def _records(self, name, data):
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()  # the final line end ends the last line; it starts none
        for i, line in enumerate(lines):
            if i < self._skip:
                continue
            if line.endswith(b"\r"):
                line = line[:-1]
            yield b"%s:%d" % (name, i + 1), line


class WholeFileReader(ReaderBase):
    """One record per file: the key is the file name, the value its contents."""

    def __init__(self, name=None):
        super().__init__("WholeFileReaderV2", name)

    def _records(self, name, data):
        yield name, data


class FixedLengthRecordReader(ReaderBase):
    """Records of record_bytes bytes between header_bytes and footer_bytes, starting every hop_bytes (every
    record_bytes when 0); a partial last record is dropped; keys "file:index"."""

    def __init__(self, record_bytes, header_bytes=None, footer_bytes=None, hop_bytes=None, name=None,
                 encoding=None):
        self._record = int(record_bytes)
        if self._record <= 0:
            raise ValueError("record_bytes must be > 0, got %d" % self._record)
        self._header, self._footer, self._hop = int(header_bytes or 0), int(footer_bytes or 0), int(hop_bytes or 0)
        if self._header < 0 or self._footer < 0 or self._hop < 0:
            raise ValueError("header_bytes, footer_bytes and hop_bytes must be >= 0")
        if encoding:
            raise NotImplementedError("FixedLengthRecordReader's encoding (compressed files) is not supported "
                                      "by tideflow")
        super().__init__("FixedLengthRecordReaderV2", name)

    def _records(self, name, data):
        body = data[self._header:max(self._header, len(data) - self._footer)]
        step = self._hop or self._record
        for i, pos in enumerate(range(0, len(body) - self._record + 1, step)):
            yield b"%s:%d" % (name, i), body[pos:pos + self._record]


def read_file(filename, name=None):
    """The contents of the file `filename` (a string scalar) as a string scalar."""
    t = script_ops.py_func(_read_bytes_value, [_ops.convert_to_tensor(filename, dtype=_dtypes.string)],
                           _dtypes.string, name=name or "ReadFile")
    t.set_shape([])
    return t


def _read_bytes_value(path):
    return np.array(_read_bytes(np.asarray(path, dtype=object).item()), dtype=object)


def write_file(filename, contents, name=None):
    """Writes `contents` to `filename` (creating its directory), as tf.write_file."""
    def fn(path, data):
        path = _text(np.asarray(path, dtype=object).item())
        data = np.asarray(data, dtype=object).item()
        import os  # lazy: only writers need it
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else str(data).encode())
    return script_ops.py_func(fn, [_ops.convert_to_tensor(filename, dtype=_dtypes.string),
                                   _ops.convert_to_tensor(contents, dtype=_dtypes.string)], [],
                              name=name or "WriteFile")


# ---- decoding ----

_CSV_TYPES = (_dtypes.float32, _dtypes.float64, _dtypes.int32, _dtypes.int64, _dtypes.string)


def _split_csv(record, delim, use_quote, rec_index):
    """Fields of one CSV record, RFC 4180 quoting as TensorFlow's DecodeCSV parses it."""
    fields = []
    i, n = 0, len(record)
    if n == 0:
        return [b""]
    while True:
        if use_quote and i < n and record[i:i + 1] == b'"':
            out = bytearray()
            i += 1
            while True:
                if i >= n:
                    raise _errors.InvalidArgumentError(
                        None, None, "Quoted field has to end with quote followed by delim or end in record %d"
                        % rec_index)
                c = record[i:i + 1]
                if c == b'"':
                    if record[i + 1:i + 2] == b'"':
                        out += b'"'
                        i += 2
                        continue
                    i += 1
                    break
                out += c
                i += 1
            if i < n and record[i:i + 1] != delim:
                raise _errors.InvalidArgumentError(
                    None, None, "Quoted field has to end with quote followed by delim or end in record %d"
                    % rec_index)
            fields.append(bytes(out))
        else:
            j = record.find(delim, i)
            field = record[i:] if j < 0 else record[i:j]
            if use_quote and b'"' in field:
                raise _errors.InvalidArgumentError(
                    None, None, "Unquoted fields cannot have quotes/CRLFs inside in record %d" % rec_index)
            fields.append(field)
            i = n if j < 0 else j
        if i >= n:
            break
        i += 1  # past the delimiter
        if i == n:
            fields.append(b"")
            break
    return fields


def _default_tensor(d, i):
    if isinstance(d, (list, tuple)):
        if not d:
            return _ops.convert_to_tensor(np.zeros(0, np.float32), name="record_defaults_%d" % i)  # required
        if len(d) == 1 and isinstance(d[0], _ops.Tensor):
            return d[0]  # [tensor]: a one-element default
    return _ops.convert_to_tensor(d, name="record_defaults_%d" % i)


def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, name=None, na_value="",
               select_cols=None):
    """Columns of CSV `records` (a string tensor): one tensor per entry of record_defaults, of its dtype and of
    the shape of `records`. An empty default ([] values) makes its column required; `na_value` counts as
    missing; select_cols picks (increasing) columns."""
    if not isinstance(record_defaults, (list, tuple)) or not record_defaults:
        raise ValueError("record_defaults must be a non-empty list")
    defaults = [_default_tensor(d, i) for i, d in enumerate(record_defaults)]
    types = []
    for i, d in enumerate(defaults):
        if d.dtype not in _CSV_TYPES:
            raise TypeError("Value for attr 'OUT_TYPE' of %s is not in the list of allowed values: float, double, "
                            "int32, int64, string (record_defaults[%d])" % (d.dtype.name, i))
        if d.shape.ndims is not None and d.shape.ndims > 1:
            raise ValueError("Shape must be at most rank 1 but is rank %d for record_defaults[%d]"
                             % (d.shape.ndims, i))
        types.append(d.dtype)
    if not isinstance(field_delim, (str, bytes)) or len(field_delim) != 1:
        raise ValueError("field_delim should be only 1 char")
    delim = field_delim.encode() if isinstance(field_delim, str) else field_delim
    na = na_value.encode() if isinstance(na_value, str) else na_value
    if select_cols is not None:
        select_cols = [int(c) for c in select_cols]
        if any(b <= a for a, b in zip(select_cols, select_cols[1:])) or (select_cols and select_cols[0] < 0):
            raise ValueError("select_cols is not strictly increasing and non-negative")
        if len(select_cols) != len(defaults):
            raise ValueError("Length of select_cols and record_defaults do not match.")
    recs = _ops.convert_to_tensor(records, dtype=_dtypes.string)

    def fn(rec_arr, *default_arrs):
        rec_arr = np.asarray(rec_arr, dtype=object)
        flat = rec_arr.reshape(-1)
        dflt = []
        for i, a in enumerate(default_arrs):
            a = np.asarray(a).reshape(-1)
            if a.size > 1:
                raise _errors.InvalidArgumentError(None, None, "record_defaults[%d] must have at most one "
                                                   "element" % i)
            dflt.append(a[0] if a.size else None)
        cols = [[] for _ in types]
        for r, rec in enumerate(flat.tolist()):
            rec = rec if isinstance(rec, bytes) else str(rec).encode()
            fields = _split_csv(rec, delim, use_quote_delim, r)
            if select_cols is None:
                if len(fields) != len(types):
                    raise _errors.InvalidArgumentError(
                        None, None, "Expect %d fields but have %d in record %d" % (len(types), len(fields), r))
                picked = fields
            else:
                if select_cols and select_cols[-1] >= len(fields):
                    raise _errors.InvalidArgumentError(
                        None, None, "Expect %d fields but have %d in record %d"
                        % (select_cols[-1] + 1, len(fields), r))
                picked = [fields[c] for c in select_cols]
            for c, (field, dt) in enumerate(zip(picked, types)):
                if field == b"" or field == na:
                    if dflt[c] is None:
                        raise _errors.InvalidArgumentError(
                            None, None, "Field %d is required but missing in record %d!" % (c, r))
                    cols[c].append(dflt[c])
                    continue
                if dt is _dtypes.string:
                    cols[c].append(field)
                    continue
                text = field.decode("utf-8", "replace")
                try:
                    if dt.is_integer:
                        v = int(text, 10)
                        info = np.iinfo(dt.as_numpy_dtype)
                        if not info.min <= v <= info.max:
                            raise ValueError
                    else:
                        v = float(text)
                except ValueError:
                    kind = {"int32": "int32", "int64": "int64", "float32": "float", "float64": "double"}[dt.name]
                    raise _errors.InvalidArgumentError(
                        None, None, "Field %d in record %d is not a valid %s: %s" % (c, r, kind, text)) from None
                cols[c].append(v)
        out = []
        for col, dt in zip(cols, types):
            npdt = object if dt is _dtypes.string else dt.as_numpy_dtype
            out.append(np.array(col, dtype=npdt).reshape(rec_arr.shape))
        return out

    outs = script_ops.py_func(fn, [recs] + defaults, types, name=name or "DecodeCSV")
    for t in outs:
        t.set_shape(recs.shape)
    return outs


def decode_raw(input_bytes=None, out_type=None, little_endian=True, name=None, bytes=None):  # noqa: A002
    """The bytes of each string reinterpreted as `out_type` numbers: shape input.shape + [len / itemsize]; all
    strings must have the same length."""
    if input_bytes is None:
        input_bytes = bytes
    if out_type is None:
        raise TypeError("decode_raw() missing required argument 'out_type'")
    dt = _dtypes.as_dtype(out_type)
    if dt is _dtypes.string or dt.name == "variant":
        raise TypeError("Value for attr 'out_type' of %s is not in the list of allowed values: the numeric dtypes"
                        % dt.name)
    npdt = np.dtype(dt.as_numpy_dtype).newbyteorder("<" if little_endian else ">")
    size = npdt.itemsize
    inp = _ops.convert_to_tensor(input_bytes, dtype=_dtypes.string)

    def fn(arr):
        arr = np.asarray(arr, dtype=object)
        flat = [x if isinstance(x, type(b"")) else str(x).encode() for x in arr.reshape(-1).tolist()]
        if not flat:
            return np.zeros(arr.shape + (0,), dtype=dt.as_numpy_dtype)
        n = len(flat[0])
        if n % size:
            raise _errors.InvalidArgumentError(
                None, None, "Input to DecodeRaw has length %d that is not a multiple of %d, the size of %s"
                % (n, size, dt.name))
        for i, x in enumerate(flat):
            if len(x) != n:
                raise _errors.InvalidArgumentError(
                    None, None, "DecodeRaw requires input strings to all be the same size, but element %d has "
                    "size %d != %d" % (i, len(x), n))
        out = np.frombuffer(b"".join(flat), dtype=npdt).astype(dt.as_numpy_dtype)
        return out.reshape(arr.shape + (n // size,))

    t = script_ops.py_func(fn, [inp], dt, name=name or "DecodeRaw")
    if inp.shape.ndims is not None:
        t.set_shape(inp.shape.concatenate([None]))
    return t
