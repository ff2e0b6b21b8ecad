"""tf.map_fn, tf.scan, tf.foldl and tf.foldr (TensorFlow 1.x's signatures): one While node each. The
elements are sliced one row per iteration and per-iteration results stacked by the loop node itself (Note
[control flow] in cpp/ops/control_flow.cc), so forward and backward cost O(rows), with no TensorArray."""
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.tensor_shape import TensorShape
from ..util import nest
from . import array_ops
from .control_flow_ops import _loop

__all__ = ["map_fn", "scan", "foldl", "foldr"]


def _elems(elems):
    flat = [_ops.convert_to_tensor(e, name="elem") for e in nest.flatten(elems)]
    if not flat:
        raise ValueError("elems must be a Tensor or (possibly nested) sequence of Tensors. Got %s" % (elems,))
    for e in flat:
        if e.shape.ndims == 0:
            raise ValueError("Elements in elems must be 1+ dimensional Tensors, not scalars")
    return flat


def _length(flat):
    """The number of elements: static when known (TF1 requires the first dims to agree)."""
    static = None
    for e in flat:
        d = e.shape[0].value if e.shape.ndims else None
        if d is not None:
            if static is not None and d != static:
                raise ValueError("All elements in elems must have the same first dimension; got %d and %d"
                                 % (static, d))
            static = d
    return static, (static if static is not None else array_ops.shape(flat[0])[0])


def _check_dtypes(what, values, dtypes):
    for v, dt in zip(values, dtypes):
        if v.dtype is not dt:
            raise TypeError("%s dtype is %s but fn returned %s (%s)" % (what, dt.name, v.dtype.name, v.name))


def _with_rows(values, n_static):
    for v in values:
        if v.shape.ndims is not None:
            v.set_shape(TensorShape([n_static]).concatenate(v.shape[1:]))
    return values


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True, swap_memory=False, infer_shape=True,
           name=None):
    """Stacks fn(x) over the elements of `elems` (unpacked along dimension 0; a nested structure of tensors
    gives fn the same structure). `dtype` gives fn's output structure when it differs from `elems`."""
    if not callable(fn):
        raise TypeError("fn must be callable.")
    if parallel_iterations is None:
        parallel_iterations = 10
    with _ops.name_scope(name, "map", nest.flatten(elems)):
        flat = _elems(elems)
        n_static, n = _length(flat)
        out_structure = elems if dtype is None else dtype
        out_dtypes = [e.dtype for e in flat] if dtype is None else [_dtypes.as_dtype(d) for d in nest.flatten(dtype)]

        def body(i, *rows):
            r = fn(nest.pack_sequence_as(elems, list(rows)))
            nest.assert_same_structure(out_structure, r)
            vals = [_ops.convert_to_tensor(x) for x in nest.flatten(r)]
            _check_dtypes("TensorArray", vals, out_dtypes)
            return [i + 1], vals

        with _ops.name_scope("while") as scope:
            _, stacked = _loop(lambda i: i < n, body, [_ops.constant_op(0, name="Const")], None,
                               back_prop=back_prop, parallel_iterations=parallel_iterations,
                               swap_memory=swap_memory, sliced=flat, stacks=True, scope=scope)
        stacked = _with_rows(stacked, n_static) if infer_shape else stacked
        return nest.pack_sequence_as(out_structure, stacked)


def _accumulate(fn, elems, initializer, reverse, stack, parallel_iterations, back_prop, swap_memory):
    """foldl/foldr (stack=False) and scan (stack=True): the accumulator is a loop variable, the elements are
    sliced; without an initializer the first element (the last with `reverse`) starts the accumulator."""
    flat = _elems(elems)
    n_static, n = _length(flat)
    if initializer is None:
        first = [e[-1] if reverse else e[0] for e in flat]
        init = nest.pack_sequence_as(elems, first)
        flat = [e[:-1] if reverse else e[1:] for e in flat]
        count = n - 1
    else:
        init = initializer
        count = n
    init_flat = [_ops.convert_to_tensor(x) for x in nest.flatten(init)]
    structure = init

    def body(i, *args):
        acc = nest.pack_sequence_as(structure, list(args[:len(init_flat)]))
        x = nest.pack_sequence_as(elems, list(args[len(init_flat):]))
        r = fn(acc, x)
        nest.assert_same_structure(structure, r)
        vals = [_ops.convert_to_tensor(v) for v in nest.flatten(r)]
        return ([i + 1] + vals, vals) if stack else [i + 1] + vals

    with _ops.name_scope("while") as scope:
        result, stacked = _loop(lambda i, *a: i < count, body, [_ops.constant_op(0, name="Const")] + init_flat, None,
                                back_prop=back_prop, parallel_iterations=parallel_iterations,
                                swap_memory=swap_memory, sliced=flat, reverse=reverse, stacks=stack, scope=scope)
    if not stack:
        return nest.pack_sequence_as(structure, list(result[1:]))
    if initializer is None:  # the first element is the first (last) row of the result
        stacked = [array_ops.concat([s, array_ops.expand_dims(a, 0)] if reverse else [array_ops.expand_dims(a, 0), s],
                                    0) for a, s in zip(init_flat, stacked)]
    return nest.pack_sequence_as(structure, _with_rows(stacked, n_static))


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, infer_shape=True,
         reverse=False, name=None):
    """The stacked accumulators a_i = fn(a_{i-1}, x_i) over the elements of `elems` (from the end with
    `reverse`); without `initializer`, a_0 is the first element."""
    if not callable(fn):
        raise TypeError("fn must be callable.")
    with _ops.name_scope(name, "scan", nest.flatten(elems)):
        return _accumulate(fn, elems, initializer, reverse, True, parallel_iterations, back_prop, swap_memory)


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """fn(...fn(fn(initializer, x_0), x_1)..., x_n-1); without `initializer`, starts from x_0."""
    if not callable(fn):
        raise TypeError("fn must be callable.")
    with _ops.name_scope(name, "foldl", nest.flatten(elems)):
        return _accumulate(fn, elems, initializer, False, False, parallel_iterations, back_prop, swap_memory)


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """foldl from the last element to the first."""
    if not callable(fn):
        raise TypeError("fn must be callable.")
    with _ops.name_scope(name, "foldr", nest.flatten(elems)):
        return _accumulate(fn, elems, initializer, True, False, parallel_iterations, back_prop, swap_memory)
