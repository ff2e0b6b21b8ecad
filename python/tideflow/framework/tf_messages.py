"""TensorFlow's protobuf messages (GraphDef, NodeDef, AttrValue, TensorProto, MetaGraphDef, SaverDef, Summary,
Event, ConfigProto, RunOptions, ...).

`message_class(full_name)` and this module's attributes (GraphDef, Summary, ...) give real
`google.protobuf` classes when the protobuf package is installed (Note [real protobuf classes] in
proto_classes.py), and otherwise the stand-ins defined here, without a protobuf library. Both share
one schema (cpp/io/tf_schema.inc) and one wire format: the stand-ins' bytes and text are read and written
by tideflow's C++ codec (Note [TensorFlow protobufs] in cpp/io/tf_proto.cc), which leaves out
default-valued fields as protobuf does, so both give the same bytes as TensorFlow. `parse` checks
everything and raises tf.errors.DataLossError for truncated or corrupted input. The stand-ins behave
like protobuf's generated classes where TF programs touch them: fields as attributes with proto3
defaults, `repeated.add()`, map fields such as `node.attr["T"].type`, HasField / WhichOneof / ClearField,
CopyFrom / MergeFrom, SerializeToString / ParseFromString / FromString, ByteSize, DESCRIPTOR, str() in
text format, == by content. Assigning a sub-message or a list is allowed (protobuf insists on CopyFrom /
extend)."""
import copy as _copy
import math as _math

import numpy as np

from .. import _core
from . import ops as _ops
from . import dtypes as _dtypes
from . import proto_classes as _real

_SCHEMA, _ENUMS = _core.tf_proto_schema()

_INT_KINDS = {"int64", "uint64", "int32", "uint32", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64",
              "enum"}
_DEFAULTS = {"double": 0.0, "float": 0.0, "bool": False, "string": "", "bytes": b""}


class _Field:
    """One field of a stand-in message; also what protobuf's FieldDescriptor tells about it (name, number,
    type, is_repeated, label, message_type, enum_type, containing_oneof, has_presence, default_value)."""
    __slots__ = ("name", "number", "kind", "repeated", "type_name", "oneof", "presence", "map")
    LABEL_OPTIONAL, LABEL_REPEATED = 1, 3

    def __init__(self, name, number, kind, repeated, type_name, oneof, presence):
        self.name, self.number, self.kind, self.repeated = name, number, kind, repeated
        self.type_name, self.oneof, self.presence = type_name, oneof, presence
        self.map = None  # (key field, value field) for map fields

    @property
    def default(self):
        return 0 if self.kind in _INT_KINDS else _DEFAULTS.get(self.kind)

    default_value = default

    @property
    def type(self):
        return _real._TYPES[self.kind]

    @property
    def is_repeated(self):
        return self.repeated or self.map is not None

    @property
    def label(self):  # protobuf before 7.0; `is_repeated` since
        return self.LABEL_REPEATED if self.is_repeated else self.LABEL_OPTIONAL

    @property
    def message_type(self):
        return _message_class(self.type_name).DESCRIPTOR if self.kind == "message" and self.map is None else None

    @property
    def enum_type(self):
        return self.type_name if self.kind == "enum" else None

    @property
    def containing_oneof(self):
        return self.oneof

    @property
    def has_presence(self):
        return not self.repeated and (self.presence or self.kind == "message")

    @property
    def full_name(self):
        return self.name

    def __repr__(self):
        return "<field %s = %d>" % (self.name, self.number)


class _Descriptor:
    """What protobuf's Descriptor tells about a stand-in message type: name, full_name, fields,
    fields_by_name, fields_by_number, oneofs_by_name."""

    def __init__(self, cls):
        self.name, self.full_name, self._cls = cls._TYPE.rsplit(".", 1)[1], cls._TYPE, cls

    @property
    def fields(self):
        return sorted(self._cls._FIELDS.values(), key=lambda f: f.number)

    @property
    def fields_by_name(self):
        return dict(self._cls._FIELDS)

    @property
    def fields_by_number(self):
        return {f.number: f for f in self._cls._FIELDS.values()}

    @property
    def oneofs_by_name(self):
        return {k: list(v) for k, v in self._cls._ONEOFS.items()}

    def __repr__(self):
        return "<Descriptor %s>" % self.full_name


class _DescriptorAttr:
    def __get__(self, obj, cls):
        d = cls.__dict__.get("_descriptor")
        if d is None:
            d = _Descriptor(cls)
            type.__setattr__(cls, "_descriptor", d)
        return d


def _coerce(field, v):
    """A Python value for a scalar field, checked as protobuf checks assignments."""
    k = field.kind
    if k in _INT_KINDS:
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            if k == "enum" and isinstance(v, str):
                values = dict(_ENUMS.get(field.type_name, ()))
                if v in values:
                    return values[v]
            raise TypeError("%r has type %s, but expected one of: int" % (v, type(v).__name__))
        return int(v)
    if k in ("float", "double"):
        if isinstance(v, (str, bytes)) or not hasattr(v, "__float__"):
            raise TypeError("%r has type %s, but expected one of: int, float" % (v, type(v).__name__))
        return float(v)
    if k == "bool":
        return bool(v)
    if k == "string":
        if isinstance(v, bytes):
            return v.decode("utf-8")
        if not isinstance(v, str):
            raise TypeError("%r has type %s, but expected one of: bytes, str" % (v, type(v).__name__))
        return v
    if k == "bytes":
        if isinstance(v, str):
            return v.encode("utf-8")
        if not isinstance(v, (bytes, bytearray)):
            raise TypeError("%r has type %s, but expected one of: bytes" % (v, type(v).__name__))
        return bytes(v)
    raise TypeError("not a scalar field")


# ---------------------------------------------------------------------------------------------------
# Containers


class RepeatedScalarContainer(list):
    __slots__ = ("_owner", "_field")

    def __init__(self, owner, field, items=()):
        super().__init__(_coerce(field, x) for x in items)
        self._owner, self._field = owner, field

    def append(self, v):
        super().append(_coerce(self._field, v))
        self._owner._modified()

    def extend(self, vs):
        super().extend(_coerce(self._field, v) for v in vs)
        self._owner._modified()

    def insert(self, i, v):
        super().insert(i, _coerce(self._field, v))
        self._owner._modified()

    def __setitem__(self, i, v):
        if isinstance(i, slice):
            super().__setitem__(i, [_coerce(self._field, x) for x in v])
        else:
            super().__setitem__(i, _coerce(self._field, v))
        self._owner._modified()

    def __iadd__(self, vs):
        self.extend(vs)
        return self

    def __deepcopy__(self, memo):
        return list(self)

    def __reduce__(self):
        return list, (list(self),)


class RepeatedCompositeContainer(list):
    __slots__ = ("_owner", "_cls")

    def __init__(self, owner, cls):
        super().__init__()
        self._owner, self._cls = owner, cls

    def add(self, **kwargs):
        m = self._cls(**kwargs)
        super().append(m)
        self._owner._modified()
        return m

    def append(self, m):
        super().append(self._own(m))
        self._owner._modified()

    def extend(self, ms):
        super().extend(self._own(m) for m in ms)
        self._owner._modified()

    def insert(self, i, m):
        super().insert(i, self._own(m))
        self._owner._modified()

    def __setitem__(self, i, m):
        if isinstance(i, slice):
            super().__setitem__(i, [self._own(x) for x in m])
        else:
            super().__setitem__(i, self._own(m))
        self._owner._modified()

    def __delitem__(self, i):
        super().__delitem__(i)
        self._owner._modified()

    def _own(self, m):
        if isinstance(m, dict):
            m = self._cls(**m)
        if not isinstance(m, self._cls):
            raise TypeError("expected a %s, got %s" % (self._cls.__name__, type(m).__name__))
        c = self._cls()
        c.CopyFrom(m)
        return c

    def __deepcopy__(self, memo):
        return [_copy.deepcopy(m, memo) for m in self]

    def __reduce__(self):
        return list, (list(self),)


class MapContainer(dict):
    """map<K, V>: a missing key reads as a new value (a message) or the default (a scalar) and is inserted,
    as protobuf's maps do."""
    __slots__ = ("_owner", "_field")

    def __init__(self, owner, field):
        super().__init__()
        self._owner, self._field = owner, field

    def _value_field(self):
        return self._field.map[1]

    def __missing__(self, key):
        vf = self._value_field()
        key = _coerce(self._field.map[0], key)
        if vf.kind == "message":
            v = _message_class(vf.type_name)()
            object.__setattr__(v, "_parent", (self._owner, None))
        else:
            v = vf.default
        super().__setitem__(key, v)
        self._owner._modified()
        return v

    def __getitem__(self, key):
        return super().__getitem__(_coerce(self._field.map[0], key))

    def __contains__(self, key):
        try:
            return super().__contains__(_coerce(self._field.map[0], key))
        except TypeError:
            return False

    def get_or_create(self, key):
        return self[key]

    def __setitem__(self, key, v):
        vf = self._value_field()
        key = _coerce(self._field.map[0], key)
        if vf.kind == "message":
            cls = _message_class(vf.type_name)
            if not isinstance(v, cls):
                raise TypeError("map values must be %s messages" % cls.__name__)
            c = cls()
            c.CopyFrom(v)
            object.__setattr__(c, "_parent", (self._owner, None))
            v = c
        else:
            v = _coerce(vf, v)
        super().__setitem__(key, v)
        self._owner._modified()

    def __delitem__(self, key):
        super().__delitem__(_coerce(self._field.map[0], key))
        self._owner._modified()

    def update(self, *args, **kwargs):
        for k, v in dict(*args, **kwargs).items():
            self[k] = v

    def __deepcopy__(self, memo):
        return {k: _copy.deepcopy(v, memo) for k, v in self.items()}

    def __reduce__(self):
        return dict, (dict(self),)


# ---------------------------------------------------------------------------------------------------
# Messages


class Message:
    """A TensorFlow protobuf message without a protobuf library; subclasses name their type in _TYPE."""
    _TYPE = None
    _FIELDS = {}
    _ONEOFS = {}
    DESCRIPTOR = _DescriptorAttr()

    def __init__(self, **kwargs):
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_implicit", set())
        object.__setattr__(self, "_parent", None)  # (message, field name) that holds this one
        for k, v in kwargs.items():
            f = self._FIELDS.get(k)
            if f is None:
                raise ValueError('Protocol message %s has no "%s" field.' % (type(self).__name__, k))
            if f.map is not None:
                getattr(self, k).update(v)
            elif f.repeated:
                getattr(self, k).extend(v)
            elif f.kind == "message" and isinstance(v, dict):
                getattr(self, k).MergeFrom(_message_class(f.type_name)(**v))
            else:
                setattr(self, k, v)

    # ---- fields ----
    def __getattr__(self, name):
        f = type(self)._FIELDS.get(name)
        if f is None:
            raise AttributeError("%s has no field %s" % (type(self).__name__, name))
        values = self.__dict__["_values"]
        if name in values:
            return values[name]
        if f.map is not None:
            v = MapContainer(self, f)
        elif f.repeated:
            v = RepeatedCompositeContainer(self, _message_class(f.type_name)) if f.kind == "message" \
                else RepeatedScalarContainer(self, f)
        elif f.kind == "message":
            # Reading an unset sub-message gives an empty one that becomes present once written to.
            v = _message_class(f.type_name)()
            object.__setattr__(v, "_parent", (self, name))
            self.__dict__["_implicit"].add(name)
        else:
            return f.default
        values[name] = v
        return v

    def __setattr__(self, name, v):
        f = type(self)._FIELDS.get(name)
        if f is None:
            raise AttributeError('Assignment not allowed (no field "%s" in protocol message %s).'
                                 % (name, type(self).__name__))
        if f.map is not None:
            m = MapContainer(self, f)
            self._values[name] = m
            m.update(v)
        elif f.repeated:
            c = RepeatedCompositeContainer(self, _message_class(f.type_name)) if f.kind == "message" \
                else RepeatedScalarContainer(self, f)
            self._values[name] = c
            c.extend(v)
        elif f.kind == "message":
            cls = _message_class(f.type_name)
            if not isinstance(v, cls):
                raise TypeError("field %s expects a %s message, got %s" % (name, cls.__name__, type(v).__name__))
            c = cls()
            c.CopyFrom(v)
            object.__setattr__(c, "_parent", (self, name))
            self._values[name] = c
            self._implicit.discard(name)
            self._set_oneof(f)
        else:
            self._values[name] = _coerce(f, v)
            self._set_oneof(f)
        self._modified()

    def _set_oneof(self, f):
        if f.oneof is not None:
            for other in self._ONEOFS[f.oneof]:
                if other != f.name:
                    self._values.pop(other, None)
                    self._implicit.discard(other)

    def _modified(self):
        """Called after a change: makes this message present in its parent (and the parent's parent)."""
        p = self.__dict__.get("_parent")
        if p is None:
            return
        parent, name = p
        if name is not None and name in parent._implicit:
            parent._implicit.discard(name)
            parent._set_oneof(parent._FIELDS[name])
        parent._modified()

    def _present(self, name):
        if name not in self._values:
            return False
        f = self._FIELDS[name]
        v = self._values[name]
        if f.repeated or f.map is not None:
            return len(v) > 0
        if f.kind == "message":
            return name not in self._implicit
        # proto3 leaves out a default value without presence; -0.0 is not the default (protobuf compares bits)
        return f.presence or v != f.default or (type(v) is float and _math.copysign(1.0, v) < 0)

    # ---- protobuf's message API ----
    def HasField(self, name):  # noqa: N802
        f = self._FIELDS.get(name)
        if f is None:
            if name in self._ONEOFS:
                return self.WhichOneof(name) is not None
            raise ValueError('Protocol message %s has no field %s.' % (type(self).__name__, name))
        if f.repeated or (f.kind != "message" and not f.presence):
            raise ValueError('Protocol message %s has no singular "%s" field with presence.'
                             % (type(self).__name__, name))
        return self._present(name)

    def WhichOneof(self, oneof):  # noqa: N802
        if oneof not in self._ONEOFS:
            raise ValueError('Protocol message has no oneof "%s" field.' % oneof)
        for n in self._ONEOFS[oneof]:
            if self._present(n):
                return n
        return None

    def ClearField(self, name):  # noqa: N802
        if name in self._ONEOFS:
            for n in self._ONEOFS[name]:
                self.ClearField(n)
            return
        if name not in self._FIELDS:
            raise ValueError('Protocol message has no "%s" field.' % name)
        self._values.pop(name, None)
        self._implicit.discard(name)

    def Clear(self):  # noqa: N802
        self._values.clear()
        self._implicit.clear()

    def SetInParent(self):  # noqa: N802
        self._modified()

    def ListFields(self):  # noqa: N802
        return [(self._FIELDS[n], self._values[n]) for n in sorted(self._values, key=lambda n: self._FIELDS[n].number)
                if self._present(n)]

    def IsInitialized(self):  # noqa: N802
        return True

    def FindInitializationErrors(self):  # noqa: N802
        return []  # proto3: nothing is required

    def DiscardUnknownFields(self):  # noqa: N802
        pass  # the stand-ins keep no unknown fields (the codec skips them when reading)

    def CopyFrom(self, other):  # noqa: N802
        if other is self:
            return
        if type(other) is not type(self):
            raise TypeError("Parameter to CopyFrom() must be instance of same class: expected %s got %s."
                            % (type(self).__name__, type(other).__name__))
        self.Clear()
        self._load(other._to_dict())
        self._modified()

    def MergeFrom(self, other):  # noqa: N802
        if type(other) is not type(self):
            raise TypeError("Parameter to MergeFrom() must be instance of same class: expected %s got %s."
                            % (type(self).__name__, type(other).__name__))
        self._load(other._to_dict())
        self._modified()

    def SerializeToString(self, deterministic=None):  # noqa: N802
        return _core.tf_proto_encode(self._TYPE, self._to_dict())

    SerializePartialToString = SerializeToString

    def ParseFromString(self, data):  # noqa: N802
        """Replaces the content with the message in `data`; DataLossError for malformed bytes."""
        self.Clear()
        return self.MergeFromString(data)

    def MergeFromString(self, data):  # noqa: N802
        data = bytes(data)
        self._load(_core.tf_proto_decode(self._TYPE, data, "a serialized %s" % type(self).__name__))
        self._modified()
        return len(data)

    @classmethod
    def FromString(cls, data):  # noqa: N802
        m = cls()
        m.ParseFromString(data)
        return m

    def ByteSize(self):  # noqa: N802
        return len(self.SerializeToString())

    # ---- Python ----
    def __eq__(self, other):
        return type(other) is type(self) and self._to_dict() == other._to_dict()

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __str__(self):
        return _core.tf_proto_to_text(self._TYPE, self._to_dict())

    def __repr__(self):
        text = str(self)
        return "%s(%s)" % (type(self).__name__, text.strip().replace("\n", " ") if len(text) < 200
                           else "%d bytes of text" % len(text))

    def __deepcopy__(self, memo):
        c = type(self)()
        c._load(self._to_dict())
        return c

    def __copy__(self):
        return self.__deepcopy__({})

    def __reduce__(self):
        return type(self).FromString, (self.SerializeToString(),)

    # ---- dict form, as the C++ codec takes and gives it ----
    def _to_dict(self):
        d = {}
        for name, v in self._values.items():
            if not self._present(name):
                continue
            f = self._FIELDS[name]
            if f.map is not None:
                d[name] = {k: (x._to_dict() if isinstance(x, Message) else x) for k, x in v.items()}
            elif f.repeated:
                d[name] = [x._to_dict() for x in v] if f.kind == "message" else list(v)
            elif f.kind == "message":
                d[name] = v._to_dict()
            else:
                d[name] = v
        return d

    def _load(self, d):
        """Merges a dict (protobuf's merge rules: scalars replace, messages merge, lists and maps extend)."""
        for name, v in d.items():
            f = self._FIELDS[name]
            if f.map is not None:
                m = getattr(self, name)
                vf = f.map[1]
                for k, x in v.items():
                    if vf.kind == "message":
                        m[k]._load(x)
                    else:
                        dict.__setitem__(m, k, x)
            elif f.repeated:
                c = getattr(self, name)
                if f.kind == "message":
                    cls = c._cls
                    for x in v:
                        sub = cls()
                        sub._load(x)
                        list.append(c, sub)
                else:
                    list.extend(c, v)
            elif f.kind == "message":
                sub = getattr(self, name)
                self._implicit.discard(name)
                self._set_oneof(f)
                sub._load(v)
            else:
                self._values[name] = v
                self._set_oneof(f)


_CLASSES = {}


def _message_class(full_name):
    cls = _CLASSES.get(full_name)
    if cls is not None:
        return cls
    fields_spec, map_entry = _SCHEMA[full_name]
    fields, oneofs = {}, {}
    for name, number, kind, repeated, type_name, oneof, presence in fields_spec:
        f = _Field(name, number, kind, repeated, type_name, oneof, presence)
        if kind == "message" and _SCHEMA[type_name][1]:  # a map<K, V>
            entry = {x[0]: _Field(*x) for x in _SCHEMA[type_name][0]}
            f.map = (entry["key"], entry["value"])
        fields[name] = f
        if oneof is not None:
            oneofs.setdefault(oneof, []).append(name)
    short = full_name.rsplit(".", 1)[-1]
    cls = type(short, (Message,), {"_TYPE": full_name, "_FIELDS": fields, "_ONEOFS": oneofs, "__slots__": (),
                                   "__module__": __name__,
                                   "__doc__": "TensorFlow's %s protobuf message (fields: %s)." % (
                                       full_name, ", ".join(fields) or "none")})
    # Values of the message's own enums as class attributes (SaverDef.V2, BundleHeaderProto.LITTLE).
    for enum_name, values in _ENUMS.items():
        if enum_name.rsplit(".", 1)[0] == full_name:
            for n, v in values:
                setattr(cls, n, v)
    _CLASSES[full_name] = cls
    return cls


def _build_all():
    for full_name in _SCHEMA:
        _message_class(full_name)
    # Nested types reachable as attributes: TensorShapeProto.Dim, AttrValue.ListValue, MetaGraphDef.MetaInfoDef.
    for full_name, cls in _CLASSES.items():
        outer = full_name.rsplit(".", 1)[0]
        if outer in _CLASSES and not _SCHEMA[full_name][1]:
            setattr(_CLASSES[outer], full_name.rsplit(".", 1)[1], cls)


_build_all()

# The classes programs see (real protobuf ones when protobuf is installed), resolved on first use.
_EXPORTED = {n: "tensorflow." + n for n in (
    "GraphDef", "NodeDef", "AttrValue", "NameAttrList", "TensorProto", "TensorShapeProto", "VersionDef",
    "FunctionDefLibrary", "MetaGraphDef", "CollectionDef", "SaverDef", "SignatureDef", "TensorInfo",
    "VariableDef", "SaveSliceInfoDef", "OpDef", "OpList", "BundleHeaderProto", "BundleEntryProto",
    "TensorSliceProto", "Summary", "SummaryMetadata", "SummaryDescription", "HistogramProto", "Event",
    "LogMessage", "SessionLog", "TaggedRunMetadata", "ConfigProto", "GPUOptions", "GraphOptions",
    "OptimizerOptions", "ThreadPoolOptionProto", "RunOptions", "RunMetadata", "RPCOptions")}


def message_class(full_name):
    """The class of a message type by its full name ("tensorflow.GraphDef"): protobuf's own when the
    protobuf package is installed, tideflow's stand-in otherwise."""
    real = _real.classes()
    if real is not None:
        return real[full_name]
    return _message_class(full_name)


def __getattr__(name):
    full = _EXPORTED.get(name)
    if full is None:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    cls = message_class(full)
    globals()[name] = cls
    return cls


def full_name(message):
    """The full type name of a message instance or class ("tensorflow.GraphDef")."""
    return message.DESCRIPTOR.full_name


def to_dict(message):
    """A message as the dict the C++ codec takes (TensorFlow's own messages included)."""
    if isinstance(message, Message):
        return message._to_dict()
    return _core.tf_proto_decode(full_name(message), message.SerializeToString(), "a %s" % type(message).__name__)


def merge_dict(message, d):
    """Merges a dict of the C++ codec's form into `message` (protobuf's merge rules); returns it."""
    if isinstance(message, Message):
        message._load(d)
        message._modified()
    else:
        message.MergeFromString(_core.tf_proto_encode(full_name(message), d))
    return message


def parse(cls, data, what=None):
    """A `cls` message from serialized bytes, checked by the C++ codec first: DataLossError (naming `what`
    and the field path) for truncated or corrupted input, as every file tideflow reads."""
    data = bytes(data)
    name = full_name(cls)
    d = _core.tf_proto_decode(name, data, what or "a serialized %s" % cls.__name__)
    m = cls()
    if isinstance(m, Message):
        m._load(d)
    else:
        m.ParseFromString(data)
    return m


# DataType values by name (types_pb2.DT_FLOAT...), and names by value.
DATA_TYPES = dict(_ENUMS["tensorflow.DataType"])
DATA_TYPE_NAMES = {v: k for k, v in DATA_TYPES.items()}
globals().update(DATA_TYPES)


# ---------------------------------------------------------------------------------------------------
# TensorProto <-> ndarray


def make_ndarray(tensor):
    """tf.make_ndarray: the value of a TensorProto as a NumPy array (strings as an object array of bytes).
    The proto is checked first: its sizes must agree with its dtype and shape (DataLossError), and dtypes
    tideflow lacks raise UnimplementedError."""
    if getattr(getattr(tensor, "DESCRIPTOR", None), "full_name", None) != "tensorflow.TensorProto":
        raise TypeError("make_ndarray expects a TensorProto, got %s" % type(tensor).__name__)
    return _core.tf_tensor_from_proto(to_dict(tensor), "TensorProto")


def make_tensor_proto(values, dtype=None, shape=None, verify_shape=False, allow_broadcast=False):
    """tf.make_tensor_proto: a TensorProto holding `values` (converted as tf.constant converts them)."""
    cls = message_class("tensorflow.TensorProto")
    if isinstance(values, cls):
        return values
    arr = _ops._np_value(values, dtype)
    if shape is not None:
        shape = [int(d) for d in shape]
        if list(arr.shape) == shape:
            pass
        elif verify_shape:
            raise TypeError("Expected Tensor's shape: %s, got %s." % (tuple(shape), arr.shape))
        elif arr.size == 1:
            arr = np.full(shape, arr.reshape(-1)[0], dtype=arr.dtype)
        elif arr.size == int(np.prod(shape, dtype=np.int64)):
            arr = arr.reshape(shape)
        else:
            raise ValueError("Too many elements provided. Needed at most %d, but received %d"
                             % (int(np.prod(shape, dtype=np.int64)), arr.size))
    if arr.dtype == object:
        value = _ops._string_value(arr)
    else:
        value = arr if arr.flags.c_contiguous else arr.copy()
        if dtype is not None:
            value = _dtypes._core_value(value, _dtypes.as_dtype(dtype))  # bfloat16 without ml_dtypes
    return merge_dict(cls(), _core.tf_tensor_to_proto(value))
