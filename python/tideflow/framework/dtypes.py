"""tf.float32 and friends: DType objects with TensorFlow's names and NumPy equivalents."""
import numpy as np

from .. import _core

_UNSET = object()
_bfloat16_np = _UNSET


def _bfloat16_numpy():
    """ml_dtypes.bfloat16's NumPy dtype (TensorFlow's own), or None when ml_dtypes is not installed.

    Note [bfloat16 arrays] (cpp/bindings_util.h): NumPy has no bfloat16. With ml_dtypes, bfloat16 tensors
    are fed and fetched as ml_dtypes.bfloat16 arrays, without copies; without it, fetches give float32
    arrays of the same values and feeds and constants take float values, rounded to nearest even.
    """
    global _bfloat16_np
    if _bfloat16_np is _UNSET:
        try:
            import ml_dtypes  # lazy: its import costs most of a second, and only bfloat16 needs it
            _bfloat16_np = np.dtype(ml_dtypes.bfloat16)
        except ImportError:
            _bfloat16_np = None
    return _bfloat16_np


class DType:
    """A tensor element type (tf.float32, tf.int64...): its name, NumPy dtype, TF enum, limits and reference form."""
    __slots__ = ("_name", "_np", "_enum")

    def __init__(self, name, np_dtype, enum):
        self._name, self._np, self._enum = name, np_dtype, enum

    name = property(lambda self: self._name)
    as_datatype_enum = property(lambda self: int(self._enum))
    base_dtype = property(lambda self: self)
    real_dtype = property(lambda self: self)
    is_floating = property(lambda self: self._name in ("float16", "bfloat16", "float32", "float64"))
    is_integer = property(lambda self: self._name in ("int8", "int16", "int32", "int64", "uint8", "uint16"))
    is_unsigned = property(lambda self: self._name in ("uint8", "uint16"))
    is_bool = property(lambda self: self._name == "bool")
    is_complex = property(lambda self: False)
    is_quantized = property(lambda self: False)
    is_numpy_compatible = property(lambda self: self._name not in ("string", "variant"))

    @property
    def as_numpy_dtype(self):
        if self is bfloat16:
            np_dtype = _bfloat16_numpy()
            if np_dtype is None:
                raise TypeError("tf.bfloat16 has no NumPy type without the ml_dtypes package (pip install "
                                "ml_dtypes); fetched bfloat16 tensors come back as float32 arrays")
            return np_dtype.type
        return self._np.type

    @property
    def size(self):
        return 1 if self._name == "bool" else self._np.itemsize if self._np is not None else 2

    @property
    def min(self):
        return self._limit(False)

    @property
    def max(self):
        return self._limit(True)

    def _limit(self, high):
        if self is bfloat16:
            np_dtype = _bfloat16_numpy()
            v = _BFLOAT16_MAX if high else -_BFLOAT16_MAX
            return np_dtype.type(v) if np_dtype is not None else v
        if self.is_floating:
            info = np.finfo(self._np)
        elif self.is_integer:
            info = np.iinfo(self._np)
        else:
            raise TypeError("Cannot find %s value of %r with type %r." % ("maximum" if high else "minimum", self, self))
        return info.max if high else info.min

    @property
    def limits(self):
        return self.min, self.max

    def is_compatible_with(self, other):
        return self == other

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


_BFLOAT16_MAX = float(np.float32(np.ldexp(2.0 - 2.0 ** -7, 127)))  # 3.38953e38, as ml_dtypes.finfo

float32 = DType("float32", np.dtype(np.float32), _core.DType.float32)
float64 = DType("float64", np.dtype(np.float64), _core.DType.float64)
int32 = DType("int32", np.dtype(np.int32), _core.DType.int32)
int64 = DType("int64", np.dtype(np.int64), _core.DType.int64)
bool = DType("bool", np.dtype(np.bool_), _core.DType.bool)  # noqa: A001 (TF's name)
string = DType("string", np.dtype(object), _core.DType.string)
variant = DType("variant", np.dtype(object), _core.DType.variant)  # engine-internal values (loop traces)
uint8 = DType("uint8", np.dtype(np.uint8), _core.DType.uint8)
int8 = DType("int8", np.dtype(np.int8), _core.DType.int8)
int16 = DType("int16", np.dtype(np.int16), _core.DType.int16)
uint16 = DType("uint16", np.dtype(np.uint16), _core.DType.uint16)
float16 = DType("float16", np.dtype(np.float16), _core.DType.float16)
bfloat16 = DType("bfloat16", None, _core.DType.bfloat16)  # NumPy type: as_numpy_dtype (ml_dtypes)
double = float64
half = float16

_ALL = (float32, float64, int32, int64, bool, string, variant, uint8, int8, int16, uint16, float16, bfloat16)
_BY_ENUM = {d._enum: d for d in _ALL}
_BY_NAME = {d._name: d for d in _ALL}
_BY_NAME.update({"double": float64, "float": float32, "int": int64, "half": float16})
_BY_NP = {d._np: d for d in _ALL if d._np is not None and d is not string and d is not variant}


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
    if npd in _BY_NP:
        return _BY_NP[npd]
    if npd.kind in "SUO":
        return string
    if npd.name == "bfloat16":  # ml_dtypes.bfloat16 (TensorFlow's)
        return bfloat16
    raise TypeError("tideflow does not support dtype %s yet (supported: %s)"
                    % (npd, ", ".join(d.name for d in _ALL if d is not variant)))


def _core_value(arr, dtype):
    """The value the core takes for a bfloat16 tensor (Note [bfloat16 arrays]): ml_dtypes arrays as they
    are; without ml_dtypes, `arr` holds float values and travels tagged, to be rounded in C++."""
    if dtype is bfloat16 and (_bfloat16_numpy() is None or arr.dtype != _bfloat16_numpy()):
        return ("bfloat16", np.ascontiguousarray(arr, dtype=np.float32))
    return arr


def _np_for(dtype):
    """The NumPy dtype values of `dtype` are converted to: float32 stands in for bfloat16 without ml_dtypes."""
    if dtype is bfloat16:
        return _bfloat16_numpy() or np.dtype(np.float32)
    return dtype._np
