"""tf.IndexedSlices: a sparse set of rows of a dense tensor (`values[i]` is row `indices[i]` of a tensor of
shape `dense_shape`). Minimal: it carries the parts, for Variable.scatter_* and user code that builds one."""
from . import ops as _ops

__all__ = ["IndexedSlices"]


class IndexedSlices:
    """A sparse slice of a dense tensor: `values` for rows `indices` of a tensor of `dense_shape` (gather's gradient)."""
    def __init__(self, values, indices, dense_shape=None):
        self._values = _ops.convert_to_tensor(values)
        self._indices = _ops.convert_to_tensor(indices)
        self._dense_shape = None if dense_shape is None else _ops.convert_to_tensor(dense_shape)

    values = property(lambda self: self._values)
    indices = property(lambda self: self._indices)
    dense_shape = property(lambda self: self._dense_shape)
    name = property(lambda self: self._values.name)
    dtype = property(lambda self: self._values.dtype)
    graph = property(lambda self: self._values.graph)
    op = property(lambda self: self._values.op)
    device = property(lambda self: self._values.device)

    def __repr__(self):
        return "IndexedSlices(indices=%s, values=%s%s)" % (
            self._indices, self._values, "" if self._dense_shape is None else ", dense_shape=%s" % self._dense_shape)
