"""TensorFlow's protobuf messages as real `google.protobuf` classes, built when the protobuf package is
installed (TensorBoard brings it).

Note [real protobuf classes]
tideflow's message layouts live in one place, cpp/io/tf_schema.inc (generated from TensorFlow's
descriptors by tools/gen_tf_protos.py). With protobuf installed, the first use of a message class
(tf.Summary, tf.Event, tf.GraphDef, tf.ConfigProto...) turns that schema into a FileDescriptorProto of
package `tensorflow` (messages nested as in TensorFlow's .proto files, maps as map entries, oneofs,
proto3 `optional` for fields with presence), adds it to a descriptor pool of its own (TensorFlow's
generated classes may sit in the default pool of the same process under the same names) and makes the
classes with message_factory: they are `google.protobuf.message.Message` subclasses with TensorFlow's
full names and field numbers, so CopyFrom, MergeFrom, ByteSize, DESCRIPTOR, text_format and the bytes
are protobuf's own. Nothing here depends on the generated code of one protobuf version, and nothing is
imported before the first use: protobuf's import alone costs about 0.1 s, half of `import tideflow`.
Without protobuf (or with TIDEFLOW_PROTOBUF=0), framework/tf_messages.py's classes stand in, encoded
and decoded by the C++ codec (cpp/io/tf_proto.cc), which writes the same bytes.
"""
import os
import threading

_lock = threading.Lock()
_classes = None  # full name -> class, once built
_available = None


def available():
    """True when the protobuf package is importable and not turned off by TIDEFLOW_PROTOBUF=0."""
    global _available
    if _available is None:
        if os.environ.get("TIDEFLOW_PROTOBUF", "1").strip().lower() in ("0", "false", "no", "off"):
            _available = False
        else:
            import importlib.util  # lazy: only on the first use of a message class
            try:
                _available = importlib.util.find_spec("google.protobuf") is not None
            except (ImportError, ValueError):
                _available = False
    return _available


_TYPES = {"double": 1, "float": 2, "int64": 3, "uint64": 4, "int32": 5, "fixed64": 6, "fixed32": 7, "bool": 8,
          "string": 9, "message": 11, "bytes": 12, "uint32": 13, "enum": 14, "sfixed32": 15, "sfixed64": 16,
          "sint32": 17, "sint64": 18}
_PACKAGE = "tensorflow"


def file_descriptor_proto(schema, enums):
    """The FileDescriptorProto of every `tensorflow.*` message and enum in `schema` and `enums` (as
    _core.tf_proto_schema() gives them: {full name: (fields, map_entry)}, {full name: [(name, number)]})."""
    from google.protobuf import descriptor_pb2  # lazy (Note [real protobuf classes])

    fdp = descriptor_pb2.FileDescriptorProto(name="tideflow/tensorflow_messages.proto", package=_PACKAGE,
                                            syntax="proto3")
    if any(not n.startswith(_PACKAGE + ".") for n in schema):
        fdp.dependency.append("google/protobuf/any.proto")
    protos = {}

    def declare(full_name):
        """The DescriptorProto of message `full_name`, declared in the file or in its enclosing message
        (an enclosing message the schema does not hold, since nothing refers to it, is declared empty)."""
        dp = protos.get(full_name)
        if dp is None:
            outer, short = full_name.rsplit(".", 1)
            dp = (fdp.message_type if outer == _PACKAGE else declare(outer).nested_type).add(name=short)
            protos[full_name] = dp
        return dp

    for full_name in sorted((n for n in schema if n.startswith(_PACKAGE + ".")), key=lambda n: n.count(".")):
        fields, map_entry = schema[full_name]
        dp = declare(full_name)
        if map_entry:
            dp.options.map_entry = True
        oneofs = []
        for f in fields:  # real oneofs first: protobuf wants the synthetic ones of `optional` fields last
            if f[5] is not None and f[5] not in oneofs:
                oneofs.append(f[5])
        for o in oneofs:
            dp.oneof_decl.add(name=o)
        for name, number, kind, repeated, type_name, oneof, presence in fields:
            fp = dp.field.add(name=name, number=number, type=_TYPES[kind], label=3 if repeated else 1)
            if type_name:
                fp.type_name = "." + type_name
            if oneof is not None:
                fp.oneof_index = oneofs.index(oneof)
            elif presence and kind != "message" and not repeated and not map_entry:
                fp.proto3_optional = True
                fp.oneof_index = len(dp.oneof_decl)
                dp.oneof_decl.add(name="_" + name)
    for full_name in sorted(enums, key=lambda n: n.count(".")):
        outer = full_name.rsplit(".", 1)[0]
        if not full_name.startswith(_PACKAGE + "."):
            continue
        ep = (fdp if outer == _PACKAGE else declare(outer)).enum_type.add(name=full_name.rsplit(".", 1)[1])
        numbers = set()
        for n, v in enums[full_name]:
            ep.value.add(name=n, number=v)
            if v in numbers:
                ep.options.allow_alias = True
            numbers.add(v)
    return fdp


def _message_class_of(descriptor):
    from google.protobuf import message_factory  # lazy (Note [real protobuf classes])
    get = getattr(message_factory, "GetMessageClass", None)
    if get is not None:
        return get(descriptor)
    return message_factory.MessageFactory(descriptor.file.pool).GetPrototype(descriptor)  # protobuf < 4.21


def build(schema, enums):
    """{full name: class} for every message of `schema`, in a descriptor pool of their own."""
    from google.protobuf import descriptor_pool  # lazy (Note [real protobuf classes])

    pool = descriptor_pool.DescriptorPool()
    fdp = file_descriptor_proto(schema, enums)
    if "google/protobuf/any.proto" in fdp.dependency:
        from google.protobuf import any_pb2  # lazy
        pool.AddSerializedFile(any_pb2.DESCRIPTOR.serialized_pb)
    pool.AddSerializedFile(fdp.SerializeToString())
    classes = {}
    for full_name in sorted(schema, key=lambda n: n.count(".")):
        if schema[full_name][1]:
            continue  # map entries have no classes of their own
        d = pool.FindMessageTypeByName(full_name)
        cls = _message_class_of(d)
        fields = ", ".join(f.name for f in d.fields) or "none"
        try:
            cls.__doc__ = "TensorFlow's %s protobuf message (fields: %s)." % (full_name, fields)
        except (AttributeError, TypeError):
            pass
        classes[full_name] = cls
        outer = full_name.rsplit(".", 1)[0]
        if outer in classes:  # nested types as attributes, as generated code has them: Summary.Value
            setattr(classes[outer], d.name, cls)
    return classes


def classes():
    """{full name: class} of tideflow's schema, built on first use (None without protobuf)."""
    global _classes
    if _classes is None and available():
        with _lock:
            if _classes is None:
                from .. import _core  # lazy: _core is loaded by then; kept local so this module stays light
                _classes = build(*_core.tf_proto_schema())
    return _classes
