"""Sorting: tf.sort, tf.argsort, built on the nn family's TopKV2 as TensorFlow's sort_ops.py does."""
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from . import array_ops, nn_ops

__all__ = ["sort", "argsort"]


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """Values sorted along `axis`, through TopKV2 as in TensorFlow (sort.py)."""
    with _ops.name_scope(name, "sort", [values]):
        return _sort_or_argsort(values, axis, direction, return_argsort=False)


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """Indices that sort `values` along `axis`; equal values keep their order (top_k is stable)."""
    del stable  # TopKV2 already breaks ties by index
    with _ops.name_scope(name, "argsort", [values]):
        return _sort_or_argsort(values, axis, direction, return_argsort=True)


def _sort_or_argsort(values, axis, direction, return_argsort):
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError("Unknown direction: %s" % direction)
    values = _ops.convert_to_tensor(values, name="values")
    nd = values.shape.ndims
    if nd is None:
        raise ValueError("sort needs a tensor of known rank, got %s" % values)
    axis = int(axis)
    if not -nd <= axis < nd:
        raise ValueError("axis %d is out of range for a rank %d tensor" % (axis, nd))
    axis %= nd
    last = nd - 1
    perm = None
    if axis != last:  # move the axis last, sort, move back (the swap is its own inverse)
        perm = list(range(nd))
        perm[axis], perm[last] = last, axis
        values = array_ops.transpose(values, perm)
    n = values.shape.as_list()[-1]
    k = n if n is not None else _ops.apply1("Shape", [values], {"out_type": _dtypes.int32._enum})[-1]
    if direction == "ASCENDING":
        # Negation keeps ties in index order; ints use bitwise-not's order reversal like TensorFlow.
        neg = _ops.apply1("Neg", [values]) if values.dtype.is_floating else \
            _ops.apply1("Sub", [_ops.apply1("Neg", [values]), _ops.constant_op(1, dtype=values.dtype)])
        top_vals, idx = nn_ops.top_k(neg, k)
        result = idx if return_argsort else (
            _ops.apply1("Neg", [top_vals]) if values.dtype.is_floating else
            _ops.apply1("Neg", [_ops.apply1("Add", [top_vals, _ops.constant_op(1, dtype=values.dtype)])]))
    else:
        top_vals, idx = nn_ops.top_k(values, k)
        result = idx if return_argsort else top_vals
    return array_ops.transpose(result, perm) if perm is not None else result
