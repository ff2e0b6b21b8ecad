"""protobuf's text format for tideflow's TensorFlow messages: a stand-in for `google.protobuf.text_format`
(`from tideflow.framework import text_format`), written and parsed by the C++ codec."""
from .. import _core

__all__ = ["Parse", "Merge", "MessageToString", "ParseError"]


class ParseError(ValueError):
    pass


def Merge(text, message, allow_unknown_extension=False, allow_field_number=False, descriptor_pool=None):  # noqa: N802
    """Merges the text-format `text` into `message`; malformed text raises tf.errors.DataLossError."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    message._load(_core.tf_proto_parse_text(message._TYPE, text, "text for a %s" % type(message).__name__))
    message._modified()
    return message


def Parse(text, message, allow_unknown_extension=False, allow_field_number=False, descriptor_pool=None):  # noqa: N802
    message.Clear()
    return Merge(text, message)


def MessageToString(message, as_utf8=False, as_one_line=False, **kwargs):  # noqa: N802
    text = str(message)
    if as_one_line:
        text = " ".join(line.strip() for line in text.splitlines())
    return text
