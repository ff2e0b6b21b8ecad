"""Attribute values checked against TensorFlow's OpDef types before an op is built (issue 15).

Note [attribute kinds]
The core reads an attribute with AttrMap::get_or, which falls back to the default when the stored value
has another kind: keep_dims="x" or output_type=5 used to build quietly as if the attribute were absent.
TensorFlow refuses such values while building (op_def_library: "Expected bool for argument 'keep_dims'
not 'x'."), so apply_op checks every attribute that TensorFlow's OpDef declares (tf_op_defs.py) against its
kind and raises the same TypeError. Conversions TensorFlow makes are kept: an int where a float goes, any
integer or bool of NumPy's, a tuple where a list goes. Values of the right kind but out of range (negative
sizes, axes beyond the rank) are the shape functions' to refuse with ValueError."""
import numbers

import numpy as np

from . import dtypes as _dtypes
from .tf_op_defs import OP_DEFS

_KINDS = {}


def _kinds(op_type):
    k = _KINDS.get(op_type)
    if k is None:
        d = OP_DEFS.get(op_type)
        k = {a[0]: a[1] for a in d[2]} if d is not None else {}
        _KINDS[op_type] = k
    return k


def _is_bool(v):
    return isinstance(v, (bool, np.bool_))


def _is_int(v):
    return isinstance(v, (numbers.Integral, np.integer)) and not _is_bool(v)


def _is_float(v):
    return (isinstance(v, (numbers.Real, np.floating)) or _is_int(v)) and not _is_bool(v)


def _is_string(v):
    return isinstance(v, (str, bytes))


def _is_type(v):
    # tideflow's DType, the core's enum, a NumPy dtype or a dtype's name: as_dtype's inputs.
    if _is_bool(v) or isinstance(v, (numbers.Number, list, tuple, dict)):
        return False
    if isinstance(v, (str, bytes)):
        try:
            _dtypes.as_dtype(v.decode() if isinstance(v, bytes) else v)
        except (TypeError, ValueError, KeyError, AttributeError):
            return False
    return True


def _is_shape(v):
    return v is None or not (_is_bool(v) or isinstance(v, (numbers.Number, str, bytes, dict)))


_SCALAR = {"bool": _is_bool, "int": _is_int, "float": _is_float, "string": _is_string, "type": _is_type,
           "shape": _is_shape}


def check(op_type, attrs):
    """Raises TypeError, as TensorFlow does, when an attribute's value is not of its OpDef kind."""
    if not attrs:
        return
    kinds = _kinds(op_type)
    if not kinds:
        return
    for name, v in attrs.items():
        kind = kinds.get(name)
        if kind is None:
            continue
        if kind.startswith("list(") and kind[5:-1] in _SCALAR:
            ok = isinstance(v, (list, tuple, np.ndarray)) and all(_SCALAR[kind[5:-1]](e) for e in v)
            if kind == "list(shape)" and not ok:
                ok = isinstance(v, (list, tuple)) and all(_is_shape(e) for e in v)
        elif kind in _SCALAR:
            ok = _SCALAR[kind](v)
        else:  # tensor, func: the builders that pass them are the core's own
            continue
        if not ok:
            raise TypeError("Expected %s for argument '%s' not %r." % (kind, name, v))
