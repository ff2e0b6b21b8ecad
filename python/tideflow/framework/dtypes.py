"""tf.float32 and friends: DType objects with TensorFlow's names and NumPy equivalents."""
import numpy as np

from .. import _core


class DType:
    """A tensor element type (tf.float32, tf.int64...): its name, NumPy dtype, TF enum, limits and reference form."""
    __slots__ = ("_name", "_np", "_enum")

    def __init__(self, name, np_dtype, enum):
        self._name, self._np, self._enum = name, np_dtype, enum

    name = property(lambda self: self._name)
    as_numpy_dtype = property(lambda self: self._np.type)
    as_datatype_enum = property(lambda self: int(self._enum))
    base_dtype = property(lambda self: self)
    is_floating = property(lambda self: self._name in ("float32", "float64"))
    is_integer = property(lambda self: self._name in ("int32", "int64"))
    is_bool = property(lambda self: self._name == "bool")
    is_numpy_compatible = property(lambda self: self._name != "string")

    @property
    def min(self):
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self):
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    def __repr__(self):
        return "tf." + self._name

    def __str__(self):  # print(x.dtype) shows TensorFlow's form; repr stays tf.float32
        return "<dtype: '%s'>" % self._name

    def __eq__(self, other):
        try:
            return self is as_dtype(other)
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self._name)

    def __reduce__(self):
        return as_dtype, (self._name,)


float32 = DType("float32", np.dtype(np.float32), _core.DType.float32)
float64 = DType("float64", np.dtype(np.float64), _core.DType.float64)
int32 = DType("int32", np.dtype(np.int32), _core.DType.int32)
int64 = DType("int64", np.dtype(np.int64), _core.DType.int64)
bool = DType("bool", np.dtype(np.bool_), _core.DType.bool)  # noqa: A001 (TF's name)
string = DType("string", np.dtype(object), _core.DType.string)
variant = DType("variant", np.dtype(object), _core.DType.variant)  # engine-internal values (loop traces)
double = float64

_ALL = (float32, float64, int32, int64, bool, string, variant)
_BY_ENUM = {d._enum: d for d in _ALL}
_BY_NAME = {d._name: d for d in _ALL}
_BY_NAME.update({"double": float64, "float": float32, "int": int64})
_BY_NP = {d._np: d for d in _ALL if d is not string and d is not variant}


def as_dtype(x):
    """Converts a DType, a NumPy dtype or type, a name, or a core enum to a tideflow DType."""
    if isinstance(x, DType):
        return x
    if isinstance(x, _core.DType):
        return _BY_ENUM[x]
    if isinstance(x, str):
        if x in _BY_NAME:
            return _BY_NAME[x]
        raise TypeError("Cannot convert %r to a tideflow DType" % (x,))
    if x is str or x is bytes:
        return string
    try:
        npd = np.dtype(x)
    except TypeError:
        raise TypeError("Cannot convert %r to a tideflow DType" % (x,)) from None
    if npd.kind in "SUO":
        return string
    if npd in _BY_NP:
        return _BY_NP[npd]
    raise TypeError("tideflow does not support dtype %s yet (supported: %s)"
                    % (npd, ", ".join(d.name for d in _ALL)))
