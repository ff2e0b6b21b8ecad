"""protobuf's text format for TensorFlow's messages: a stand-in for `google.protobuf.text_format`
(`from tideflow.framework import text_format`), written and parsed by the C++ codec; it takes tideflow's
stand-in messages and real protobuf ones alike."""
from .. import _core
from . import tf_messages as _pb

__all__ = ["Parse", "Merge", "MessageToString", "ParseError"]


class ParseError(ValueError):
    pass


def Merge(text, message, allow_unknown_extension=False, allow_field_number=False, descriptor_pool=None):  # noqa: N802
    """Merges the text-format `text` into `message`; malformed text raises tf.errors.DataLossError."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return _pb.merge_dict(message, _core.tf_proto_parse_text(_pb.full_name(message), text,
                                                             "text for a %s" % type(message).__name__))


def Parse(text, message, allow_unknown_extension=False, allow_field_number=False, descriptor_pool=None):  # noqa: N802
    """Replaces the content of `message` with the text-format `text`; malformed text raises
    tf.errors.DataLossError."""
    message.Clear()
    return Merge(text, message)


def MessageToString(message, as_utf8=False, as_one_line=False, **kwargs):  # noqa: N802
    """`message` in protobuf's text format (on one line with as_one_line)."""
    text = _core.tf_proto_to_text(_pb.full_name(message), _pb.to_dict(message))
    if as_one_line:
        text = " ".join(line.strip() for line in text.splitlines())
    return text
