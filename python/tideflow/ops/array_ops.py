"""Shape and indexing ops: tf.reshape, tf.concat, slicing, gather... (cpp/ops/array.cc)."""
from .. import _core
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.tensor_shape import as_shape

__all__ = ["placeholder", "placeholder_with_default", "identity"]


def _shape_attr(shape):
    if shape is None:
        return _core.Shape(None)
    s = as_shape(shape)
    return _core.Shape(None if s.ndims is None else s.as_list())


def placeholder(dtype, shape=None, name=None):
    """A value that must be fed to Session.run. `None` dims accept any size."""
    dtype = _dtypes.as_dtype(dtype)
    return _ops.apply1("Placeholder", [], {"dtype": dtype._enum, "shape": _shape_attr(shape)},
                       name=name or "Placeholder")


def placeholder_with_default(input, shape, name=None):  # noqa: A002
    return _ops.apply1("PlaceholderWithDefault", [input], {"shape": _shape_attr(shape)},
                       name=name or "PlaceholderWithDefault")


def identity(input, name=None):  # noqa: A002
    return _ops.apply1("Identity", [input], name=name or "Identity")
