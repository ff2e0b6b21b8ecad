"""TFRecord files (tf.python_io / tf.io): TFRecordWriter, tf_record_iterator, TFRecordOptions.

A TFRecord file is a sequence of records, each framed as the event files TensorBoard reads (the same C++
framing, cpp/summary/event_writer.cc tfrecord_frame): the data's length as a little-endian uint64, the
masked CRC-32C of those 8 bytes, the data, the masked CRC-32C of the data. With compression "ZLIB" or
"GZIP" the whole stream of records is compressed (zlib or gzip format), as TensorFlow does, so the files
read back in TensorFlow (tf.data.TFRecordDataset, tf_record_iterator) and TensorFlow's files read here.
"""
import struct
import zlib

from . import _core
from .framework import errors

__all__ = ["TFRecordWriter", "tf_record_iterator", "TFRecordOptions", "TFRecordCompressionType"]


class TFRecordCompressionType:
    """The compression of a TFRecord file: NONE, ZLIB or GZIP."""
    NONE = 0
    ZLIB = 1
    GZIP = 2


_NAMES = {TFRecordCompressionType.NONE: "", TFRecordCompressionType.ZLIB: "ZLIB",
          TFRecordCompressionType.GZIP: "GZIP"}
_WBITS = {"ZLIB": zlib.MAX_WBITS, "GZIP": 16 + zlib.MAX_WBITS}  # zlib's header choice for each format


class TFRecordOptions:
    """How a TFRecord file is compressed.

    Args:
      compression_type: "" / None / TFRecordCompressionType.NONE, "ZLIB", "GZIP" (or their
        TFRecordCompressionType values).
      compression_level: zlib's level, 0 (none) to 9 (best); None for zlib's default (6).
      window_bits: zlib's window size, 8 to 15; None for 15.
      mem_level: zlib's memory level, 1 to 9; None for 9 (TensorFlow's default).
      flush_mode, input_buffer_size, output_buffer_size, compression_method, compression_strategy: accepted
        for TensorFlow's signature; buffer sizes do not change the file's bytes.

    Raises:
      ValueError: an unknown compression type or an out-of-range level.
    """
    compression_type_map = dict(_NAMES)

    def __init__(self, compression_type=None, flush_mode=None, input_buffer_size=None,
                 output_buffer_size=None, window_bits=None, compression_level=None, compression_method=None,
                 mem_level=None, compression_strategy=None):
        if isinstance(compression_type, int):
            if compression_type not in _NAMES:
                raise ValueError("Unknown compression type: %r" % compression_type)
            compression_type = _NAMES[compression_type]
        compression_type = (compression_type or "").upper()
        if compression_type not in ("", "ZLIB", "GZIP"):
            raise ValueError('compression_type must be "", "ZLIB" or "GZIP"; got %r' % compression_type)
        if compression_level is not None and not -1 <= compression_level <= 9:
            raise ValueError("compression_level must be in [-1, 9]; got %r" % compression_level)
        if window_bits is not None and not 8 <= window_bits <= 15:
            raise ValueError("window_bits must be in [8, 15]; got %r" % window_bits)
        self.compression_type = compression_type
        self.flush_mode, self.input_buffer_size, self.output_buffer_size = flush_mode, input_buffer_size, \
            output_buffer_size
        self.window_bits, self.compression_level, self.compression_method = window_bits, compression_level, \
            compression_method
        self.mem_level, self.compression_strategy = mem_level, compression_strategy

    @classmethod
    def get_compression_type_string(cls, options):
        """The compression name ("", "ZLIB" or "GZIP") of `options` (TFRecordOptions, a name or None)."""
        return _options(options).compression_type

    def _wbits(self):
        bits = self.window_bits or zlib.MAX_WBITS
        return bits + 16 if self.compression_type == "GZIP" else bits


def _options(options):
    if options is None or isinstance(options, (str, int)):
        return TFRecordOptions(options)
    if not isinstance(options, TFRecordOptions):
        raise TypeError("options must be a TFRecordOptions, a compression name or None; got %r" % (options,))
    return options


class TFRecordWriter:
    """Writes records (bytes) to a TFRecord file (tf.python_io.TFRecordWriter / tf.io.TFRecordWriter).

    Args:
      path: the file to create (an existing one is replaced).
      options: TFRecordOptions, or a compression name "" / "ZLIB" / "GZIP".

    Use as a context manager, or call close(); records are complete on disk after flush() or close().

    Raises:
      tf.errors.NotFoundError / PermissionDeniedError: the file cannot be created.
    """

    def __init__(self, path, options=None):
        from . import gfile  # lazy: gfile's error translation, only for the open
        opts = _options(options)
        with gfile._Translating(str(path)):
            self._file = open(path, "wb")
        self._z = None
        if opts.compression_type:
            level = -1 if opts.compression_level is None else opts.compression_level
            self._z = zlib.compressobj(level, zlib.DEFLATED, opts._wbits(), opts.mem_level or 9)

    def write(self, record):
        """Appends one record: `record` is bytes (a str is encoded as UTF-8)."""
        if self._file is None:
            raise errors.FailedPreconditionError(None, None, "TFRecordWriter is closed.")
        if isinstance(record, str):
            record = record.encode("utf-8")
        framed = _core.tfrecord_frame(bytes(record))
        self._file.write(self._z.compress(framed) if self._z is not None else framed)

    def flush(self):
        """Writes everything so far to the file (a compressed stream is flushed to a byte boundary)."""
        if self._file is None:
            raise errors.FailedPreconditionError(None, None, "TFRecordWriter is closed.")
        if self._z is not None:
            self._file.write(self._z.flush(zlib.Z_FULL_FLUSH))
        self._file.flush()

    def close(self):
        """Finishes the file (and its compressed stream) and closes it; closing twice is fine."""
        if self._file is None:
            return
        if self._z is not None:
            self._file.write(self._z.flush(zlib.Z_FINISH))
        self._file.close()
        self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        f = getattr(self, "_file", None)
        if f is not None:
            self.close()


def _chunks(path, opts, size=1 << 20):
    with open(path, "rb") as f:
        z = zlib.decompressobj(opts._wbits()) if opts.compression_type else None
        while True:
            block = f.read(size)
            if not block:
                break
            yield z.decompress(block) if z is not None else block
        if z is not None:
            tail = z.flush()
            if tail:
                yield tail
            if not z.eof:
                raise errors.DataLossError(None, None, "%s: truncated %s stream" % (path, opts.compression_type))


def tf_record_iterator(path, options=None):
    """Yields the records (bytes) of the TFRecord file `path`, in order.

    Args:
      path: the file.
      options: TFRecordOptions or a compression name, as the file was written with.

    Raises:
      tf.errors.NotFoundError: no such file.
      tf.errors.DataLossError: a record's length or data fails its CRC-32C, or the file ends inside a
        record.
    """
    from . import gfile  # lazy: gfile's error translation, only for the open
    opts = _options(options)
    with gfile._Translating(str(path)):
        open(path, "rb").close()
    buf, pos, offset = b"", 0, 0
    chunks = _chunks(path, opts)

    def need(n):
        nonlocal buf, pos
        while len(buf) - pos < n:
            more = next(chunks, None)
            if more is None:
                return False
            buf = buf[pos:] + more
            pos = 0
        return True

    while True:
        if not need(1):
            return
        if not need(12):
            raise errors.DataLossError(None, None, "%s: truncated record at %d" % (path, offset))
        header = buf[pos:pos + 8]
        (length,), (crc,) = struct.unpack("<Q", header), struct.unpack("<I", buf[pos + 8:pos + 12])
        if _core.masked_crc32c(header) != crc:
            raise errors.DataLossError(None, None, "%s: corrupted record at %d (length CRC)" % (path, offset))
        pos += 12
        if not need(length + 4):
            raise errors.DataLossError(None, None, "%s: truncated record at %d" % (path, offset))
        data = buf[pos:pos + length]
        (crc,) = struct.unpack("<I", buf[pos + length:pos + length + 4])
        if _core.masked_crc32c(data) != crc:
            raise errors.DataLossError(None, None, "%s: corrupted record at %d (data CRC)" % (path, offset))
        pos += length + 4
        offset += length + 16
        yield data
