"""tf.data.Dataset: input pipelines of NumPy slices, generators and traced map functions.

Note [tf.data pipelines]
- A Dataset is a description; iterating it (Python iteration in eager mode, an iterator's get_next node in
  graph mode, data/iterator_ops.py) runs a chain of Python generators over *flat elements*: tuples of
  NumPy arrays (or EagerTensors a traced function returned), one per component of `element_spec`
  (nest.flatten order). Elements become EagerTensors only where the user receives them.
- Functions given to map/filter are traced ONCE into a graph (placeholders shaped by the input
  element_spec, as TensorFlow traces them) and each element runs that graph through a cached plan
  (cpp Session/Prepared behind _core.EagerFunction, which releases the GIL while it runs; with
  num_parallel_calls each worker thread owns a plan of the same graph). No Python runs per element inside
  the function. flat_map/interleave trace their function the same way: it returns a Dataset built from
  the traced graph's tensors (sources may hold graph tensors), and each element binds their values
  (a `ctx`: id(graph tensor) -> array) before iterating that dataset.
- Index plans: a dataset whose elements are rows of arrays (from_tensor_slices, range, and maps of them,
  through take/skip/shuffle/repeat) exposes `_plan(ctx)`: a stream of row indices plus `gather(rows)`.
  batch() then gathers whole batches with one fancy index per component instead of stacking element by
  element, and shuffle() shuffles indices. A map function takes part when its traced graph is elementwise
  (unary ops, binary ops on equal element shapes or with a scalar constant): it is then traced a second
  time with a leading batch dimension and runs once per batch (TensorFlow's map vectorization; it commutes
  with batching exactly, since each output row depends only on the same input row).
- shuffle follows TensorFlow's algorithm: fill a buffer of buffer_size elements, then pick one uniformly at
  random and refill its slot from the input. Seeds follow tf.random's rules (graph/global seed + op seed);
  the random stream of iteration k is Philox(seed, seed2, k), so seeded pipelines are reproducible and
  reshuffle_each_iteration gives each epoch (each new iterator, each repeat) its own order. The orders
  differ from TensorFlow's own (its Philox stream is consumed differently).
- Dtypes tideflow has no kernels for (uint8, int16, float16...) are widened at the source to int32 /
  float32 (MNIST's uint8 images arrive as int32; tf.cast(x, tf.float32) / 255. works unchanged)."""
import itertools
import os
import queue
import threading
import weakref

import numpy as np

from .. import _core
from ..eager import function as _function
from ..eager import nest
from ..eager import tensor as _tensor
from ..framework import dtypes as _dtypes
from ..framework import errors as _errors
from ..framework import ops as _ops
from ..framework import random_seed as _random_seed
from ..framework.tensor_shape import TensorShape, as_shape
from . import iterator_ops
from .structure import _normalize_structure, _shape_structure

EagerTensor = _tensor.EagerTensor
TensorSpec = _function.TensorSpec

__all__ = ["Dataset", "DatasetV2", "AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "TensorSpec"]

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2
_INF = float("inf")


# ---------------------------------------------------------------------------------------------------
# Values: dtypes, arrays, specs

_WIDEN = {np.dtype(np.uint8): np.int32, np.dtype(np.int8): np.int32, np.dtype(np.int16): np.int32,
          np.dtype(np.uint16): np.int32, np.dtype(np.uint32): np.int64, np.dtype(np.uint64): np.int64,
          np.dtype(np.float16): np.float32}


def _tf_dtype(npdt):
    npdt = np.dtype(npdt)
    if npdt.kind in "OUS":
        return _dtypes.string
    return _dtypes.as_dtype(np.dtype(_WIDEN.get(npdt, npdt)))


def _source_array(value):
    """A component of a source: a NumPy array (widened lazily), from any value tf.constant accepts."""
    if _is_graph_tensor(value) and value.op.type == "Const":
        value = value.op.get_attr("value")
    if type(value) is EagerTensor:
        return value.numpy() if value.dtype is _dtypes.string else np.asarray(value)
    if isinstance(value, np.ndarray):
        # A copy, as TensorFlow makes a constant of it: later writes to the user's array change nothing.
        return np.array(value, order="C")
    if getattr(value, "_is_eager_variable", False):
        return value.numpy()
    return _ops._constant_array(value, None, None, False)


def _fix(a, dt):
    """`a` as the dtype its spec says (widening, strings as object arrays of bytes)."""
    if dt is _dtypes.string:
        if a.dtype.kind == "O":
            return a
        return np.asarray(np.vectorize(lambda s: s.encode() if isinstance(s, str) else bytes(s),
                                       otypes=[object])(a), dtype=object) if a.size else a.astype(object)
    want = dt.as_numpy_dtype
    return a if a.dtype == want else a.astype(want)


def _to_eager(v):
    if type(v) is EagerTensor:
        return v
    if v.dtype.kind == "O":
        return _tensor.from_array(_ops._string_value(v))
    return _core.eager_tensor_from_array(v)


def _arr(v):
    """An array of the value (a read-only view of an EagerTensor's buffer; strings copied)."""
    if type(v) is EagerTensor:
        return v.numpy() if v.dtype is _dtypes.string else v._array_view()
    return v


def _to_numpy(v):
    if type(v) is EagerTensor:
        return v.numpy()
    if not isinstance(v, np.ndarray):
        return v
    return v[()] if v.ndim == 0 else v


def _spec(shape, dtype):
    return TensorSpec(shape, dtype)


def _is_graph_tensor(x):
    return type(x) is not EagerTensor and isinstance(x, _ops.Tensor)




def _source_structure(x):
    """A source's structure: tuples, namedtuples and dicts nest; a list is one tensor (tf.data's rule)."""
    if isinstance(x, dict):
        return type(x)((k, _source_structure(v)) for k, v in x.items())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*[_source_structure(v) for v in x])
    if isinstance(x, tuple):
        return tuple(_source_structure(v) for v in x)
    if isinstance(x, list):
        return _SourceList(x)
    return x


class _SourceList:
    """A list given to a source: one value, not a structure."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _Arg:
    """A scalar argument (a count, a range bound) that may be a graph tensor, read when iteration starts."""
    __slots__ = ("value", "tensor")

    def __init__(self, v, owner):
        self.tensor = None
        if _is_graph_tensor(v) and v.op.type == "Const":
            v = v.op.get_attr("value")
        if _is_graph_tensor(v):
            self.tensor, self.value = v, None
            owner.__dict__.setdefault("_tensors", []).append(v)
        else:
            self.value = int(np.asarray(v.numpy() if type(v) is EagerTensor else v))

    def get(self, ctx):
        if self.tensor is None:
            return self.value
        if id(self.tensor) not in ctx:
            raise _errors.FailedPreconditionError(None, None, "The dataset's argument %s has no value: run the "
                                                  "iterator's initializer." % (self.tensor,))
        return int(np.asarray(ctx[id(self.tensor)]))


def _flat_specs(spec):
    return nest.flatten(spec)


def _most_specific_compatible(a, b):
    """The spec both elements satisfy: dims that differ become None (concatenate, the branches of a cycle)."""
    if a.dtype is not b.dtype:
        raise TypeError("Incompatible dtypes %s and %s" % (a.dtype.name, b.dtype.name))
    if a.shape.ndims is None or b.shape.ndims is None or a.shape.ndims != b.shape.ndims:
        return TensorSpec(None, a.dtype)
    return TensorSpec([x if x == y else None for x, y in zip(a.shape.as_list(), b.shape.as_list())], a.dtype)


def _check_shape(arr_shape, spec, what):
    s = spec.shape
    if s.ndims is None:
        return
    if len(arr_shape) != s.ndims or any(d is not None and d != e for d, e in zip(s.as_list(), arr_shape)):
        raise _errors.InvalidArgumentError(None, None, "%s yielded an element of shape %s where an element of "
                                           "shape %s was expected." % (what, TensorShape(list(arr_shape)), s))


# ---------------------------------------------------------------------------------------------------
# Traced functions (Note [tf.data pipelines])

class _DatasetFuncGraph(_function._FuncGraph):
    """The graph of a dataset function. Tensors of an outer TF 1.x graph it reads are captured: constants
    by value, anything else (a placeholder...) as a placeholder here whose value the pipeline binds when
    its iterator is initialized (the dataset then holds that outer tensor as a graph input)."""

    def __init__(self, name):
        super().__init__(name)
        self.outer = []  # (placeholder here, outer tensor)
        self._outer_map = {}

    def _capture_outer(self, t):
        got = self._outer_map.get(id(t))
        if got is not None:
            return got
        with self.as_default(), self.control_dependencies(None), self.name_scope(None):
            if t.op.type == "Const":
                got = _ops.constant_op(t.op.get_attr("value"), dtype=t.dtype, name="captured")
            else:
                got = _ops.apply1("Placeholder", [], {"dtype": t.dtype._enum, "shape": _core.Shape(
                    None if t.shape.ndims is None else t.shape.as_list())}, name="captured")
                self.outer.append((got, t))
        self._outer_map[id(t)] = got
        return got


class _Graph:
    """A traced graph: placeholders for the flat inputs; compile(fetches) gives a callable per thread,
    taking the flat inputs followed by the values of the outer tensors captured (`outer`)."""

    def __init__(self, name, specs):
        self.g = _DatasetFuncGraph(name)
        with self.g.as_default():
            self.placeholders = [
                _ops.apply1("Placeholder", [], {"dtype": s.dtype._enum, "shape": _core.Shape(
                    None if s.shape.ndims is None else s.shape.as_list())}, name="args_%d" % i)
                for i, s in enumerate(specs)]
        self.start = self.g._c.num_nodes()

    def compile(self, fetches):
        g = self.g
        must_run = _function._order_program(g, self.start)
        caps = list(g._tensor_caps.values())
        feeds = [p._key() for p in self.placeholders] + [p._key() for p, _ in g.outer] + [p._key() for p, _ in caps]
        keys = [t._key() for t in fetches]
        cap_values = [t for _, t in caps]
        variables = list(g.captured_variables)

        def make():
            fn = _core.EagerFunction(g._c, feeds, keys, must_run)
            for nid, v in variables:
                fn.bind_variable(nid, v._handle)
            return fn
        return _Compiled(make, cap_values)

    @property
    def outer(self):
        return [t for _, t in self.g.outer]


class _Compiled:
    """The plan of a traced graph; each thread runs its own copy (Sessions are not shared across threads)."""

    def __init__(self, make, cap_values):
        self._make = make
        self._caps = cap_values
        self._local = threading.local()
        self._main = make()
        self._main_thread = threading.get_ident()

    def __call__(self, flat):
        if threading.get_ident() == self._main_thread:
            fn = self._main
        else:
            fn = getattr(self._local, "fn", None)
            if fn is None:
                fn = self._local.fn = self._make()
        return fn(list(flat) + self._caps if self._caps else list(flat))


def _outer_values(tensors, ctx):
    """The values bound to the outer graph tensors a traced function reads (Note [graph iterators])."""
    out = []
    for t in tensors:
        if id(t) not in ctx:
            raise _errors.FailedPreconditionError(None, None, "The dataset function reads %s, which has no value: "
                                                  "use make_initializable_iterator and run its initializer." % (t,))
        out.append(ctx[id(t)])
    return out


def _call_user_fn(fn, spec, args):
    elem = nest.pack_sequence_as(spec, list(args))
    if isinstance(spec, tuple) and not hasattr(spec, "_fields"):
        return fn(*elem)
    return fn(elem)


# Ops whose output row i depends only on input row i (Note [tf.data pipelines]: map vectorization).
_UNARY = {"Cast", "Identity", "Neg", "Abs", "Sqrt", "Rsqrt", "Exp", "Log", "Log1p", "Square", "Relu", "Relu6",
          "Sigmoid", "Tanh", "Floor", "Ceil", "Round", "Sign", "Reciprocal", "Inv", "Sin", "Cos", "LogicalNot",
          "IsNan", "IsFinite", "Softplus", "Elu", "Selu", "Expm1", "StopGradient"}
_BINARY = {"Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "FloorDiv", "FloorMod", "TruncateDiv", "Maximum",
           "Minimum", "Pow", "SquaredDifference", "Equal", "NotEqual", "Less", "LessEqual", "Greater",
           "GreaterEqual", "LogicalAnd", "LogicalOr", "DivNoNan", "Mod"}


def _elementwise(graph, placeholders, outputs):
    """Whether the traced element function maps each input row to the same output row, elementwise."""
    kind = {}  # tensor key -> "const" | shape tuple of a data tensor
    outer = {p.op._id for p, _ in graph.outer if p.shape.ndims == 0}
    for p in placeholders:
        if not p.shape.is_fully_defined():
            return False
        kind[p._key()] = tuple(p.shape.as_list())
    pset = {p.op._id for p in placeholders}
    for op in graph.get_operations():
        if op._id in pset:
            continue
        t = op.type
        if op.control_inputs:
            return False
        if op._id in outer:
            kind[op.outputs[0]._key()] = "const"
            continue
        if t == "Const":
            if op.outputs[0].shape.ndims != 0:
                return False
            kind[op.outputs[0]._key()] = "const"
            continue
        ins = [kind.get(x._key()) for x in op.inputs]
        if any(k is None for k in ins):
            return False
        if t in _UNARY and len(ins) == 1:
            out = ins[0]
        elif t in _BINARY and len(ins) == 2:
            data = [k for k in ins if k != "const"]
            if len(data) == 2 and data[0] != data[1]:
                return False
            out = data[0] if data else "const"
        else:
            return False
        for o in op.outputs:
            kind[o._key()] = out
    return all(kind.get(o._key()) not in (None, "const") for o in outputs)


class _TracedFn:
    """A map/filter function traced once for `spec` (Note [tf.data pipelines])."""

    def __init__(self, fn, spec, name, try_vectorize=False):
        self.fn, self.in_spec = fn, spec
        specs = _flat_specs(spec)
        tr = _Graph(name, specs)
        with tr.g.as_default():
            result = _call_user_fn(fn, spec, tr.placeholders)
            result = _normalize_structure(result)
            flat = [_ops.convert_to_tensor(o) for o in nest.flatten(result)]
        self.structure = result
        self.outer = tr.outer
        self.out_specs = [TensorSpec(t.shape, t.dtype) for t in flat]
        self.out_spec = nest.pack_sequence_as(result, self.out_specs)
        self.call = tr.compile(flat)
        self.batched = None
        if try_vectorize and flat and _elementwise(tr.g, tr.placeholders, flat):
            btr = _Graph(name + "_batched", [TensorSpec([None] + s.shape.as_list(), s.dtype) for s in specs])
            with btr.g.as_default():
                bflat = [_ops.convert_to_tensor(o) for o in nest.flatten(
                    _normalize_structure(_call_user_fn(fn, spec, btr.placeholders)))]
            if len(bflat) == len(flat) and btr.outer == self.outer:
                self.batched = btr.compile(bflat)


class _TracedDatasetFn:
    """A function returning a Dataset (flat_map, interleave), traced once: per element, the values of the
    graph tensors the returned dataset's sources hold are computed from the element (Note [tf.data
    pipelines])."""

    def __init__(self, fn, spec, name):
        tr = _Graph(name, _flat_specs(spec))
        with tr.g.as_default():
            ds = _call_user_fn(fn, spec, tr.placeholders)
        if not isinstance(ds, DatasetV2):
            raise TypeError("`map_func` must return a `Dataset` object. Got %s" % type(ds).__name__)
        self.dataset = ds
        self.inputs = ds._graph_inputs()
        self.call = tr.compile(self.inputs) if self.inputs else None
        self.outer = tr.outer

    def iterate(self, elem, extra=()):
        ctx = {}
        if self.call is not None:
            for t, v in zip(self.inputs, self.call(list(elem) + list(extra))):
                ctx[id(t)] = np.asarray(v) if v.dtype is not _dtypes.string else v.numpy()
        return self.dataset._gen(ctx)


# ---------------------------------------------------------------------------------------------------
# Index plans (Note [tf.data pipelines])

class _Plan:
    """Rows of arrays: `indices()` starts a stream of row numbers, in chunks (int64 arrays) so that no
    Python runs per row; `gather(rows)` gives the flat components for those rows (leading dimension
    len(rows)), as fresh arrays nobody else holds."""
    __slots__ = ("indices", "gather")

    def __init__(self, indices, gather):
        self.indices, self.gather = indices, gather


_CHUNK = 4096


def _range_chunks(n):
    for i in range(0, n, _CHUNK):
        yield np.arange(i, min(i + _CHUNK, n), dtype=np.int64)


def _rechunk(stream, n):
    """The rows of `stream` in chunks of exactly n (the last one shorter)."""
    pending, have = [], 0
    for c in stream:
        while len(c):
            if not have and len(c) >= n:
                k = len(c) - len(c) % n
                for i in range(0, k, n):
                    yield c[i:i + n]
                c = c[k:]
                continue
            part = c[:n - have]
            pending.append(part)
            have += len(part)
            c = c[len(part):]
            if have == n:
                yield np.concatenate(pending) if len(pending) > 1 else pending[0]
                pending, have = [], 0
    if have:
        yield np.concatenate(pending) if len(pending) > 1 else pending[0]


def _take_chunks(stream, count):
    if count < 0:
        yield from stream
        return
    left = count
    for c in stream:
        if left <= 0:
            return
        if len(c) >= left:
            yield c[:left]
            return
        yield c
        left -= len(c)


def _skip_chunks(stream, count):
    if count < 0:
        for _ in stream:
            pass
        return
    left = count
    for c in stream:
        if left >= len(c):
            left -= len(c)
            continue
        yield c[left:]
        left = 0


def _readonly(a):
    a.flags.writeable = False  # fresh arrays: eager tensors wrap them without a copy
    return a


def _plan_elements(plan):
    gather = plan.gather
    for rows in _rechunk(plan.indices(), 256):
        comps = gather(rows)
        for i in range(len(rows)):
            yield tuple(c[i, ...] for c in comps)  # 0-d arrays stay arrays (strings too)


# ---------------------------------------------------------------------------------------------------
# Dataset

class DatasetV2:
    """A sequence of elements, each a nested structure (tuples, dicts) of tensors: tf.data.Dataset."""

    def __init__(self, element_spec):
        self._element_spec = element_spec
        self._flat = _flat_specs(element_spec)

    # ---- what subclasses define ----
    def _gen(self, ctx):
        """A generator of flat elements (tuples of arrays / EagerTensors)."""
        plan = self._plan(ctx)
        if plan is None:
            raise NotImplementedError
        return _plan_elements(plan)

    def _plan(self, ctx):
        return None

    def _inputs(self):
        return []

    def _card(self):
        return UNKNOWN_CARDINALITY

    def _graph_inputs(self):
        """The graph tensors this pipeline's sources hold (values bound through ctx)."""
        seen, out = set(), []
        for d in self._walk():
            for t in getattr(d, "_tensors", ()):
                if id(t) not in seen:
                    seen.add(id(t))
                    out.append(t)
        return out

    def _walk(self):
        yield self
        for d in self._inputs():
            yield from d._walk()

    # ---- properties ----
    @property
    def element_spec(self):
        return self._element_spec

    @property
    def output_types(self):
        return nest.pack_sequence_as(self._element_spec, [s.dtype for s in self._flat])

    @property
    def output_shapes(self):
        return nest.pack_sequence_as(self._element_spec, [s.shape for s in self._flat])

    @property
    def output_classes(self):
        return nest.pack_sequence_as(self._element_spec, [_ops.Tensor for _ in self._flat])

    def cardinality(self):
        return _ops.convert_to_tensor(np.int64(self._card()))

    def __len__(self):
        c = self._card()
        if c == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if c == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return c

    def __bool__(self):
        return True

    def __repr__(self):
        return "<%s element_spec=%r>" % ("_" + type(self).__name__, self._element_spec)

    # ---- iteration ----
    def __iter__(self):
        if not _core.executing_eagerly():
            raise RuntimeError("`tf.data.Dataset` only supports Python-style iteration in eager mode or within "
                               "tf.function.")
        return OwnedIterator(self)

    def as_numpy_iterator(self):
        if not _core.executing_eagerly():
            raise RuntimeError("`tf.data.Dataset.as_numpy_iterator()` is only supported in eager mode.")
        spec = self._element_spec
        for flat in self._gen({}):
            yield nest.pack_sequence_as(spec, [_to_numpy(v) for v in flat])

    def _elements_flat(self, ctx=None):
        return self._gen(ctx or {})

    # ---- sources ----
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        return TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors, name=None):
        return TensorDataset(tensors)

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None, output_signature=None,
                       name=None):
        return GeneratorDataset(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def range(*args, **kwargs):
        return RangeDataset(*args, **kwargs)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None):
        """The files matching the glob pattern(s), sorted, shuffled unless shuffle=False (as TensorFlow)."""
        import glob  # lazy: only list_files reads the file system
        patterns = [file_pattern] if isinstance(file_pattern, (str, bytes)) else list(
            _to_numpy(_source_array(file_pattern)).reshape(-1))
        names = sorted({f for p in patterns for f in glob.glob(p.decode() if isinstance(p, bytes) else str(p))})
        if not names:
            raise _errors.InvalidArgumentError(None, None, "Expected 'file_pattern' to be a string or a list of "
                                               "strings matching at least one file, got %r" % (file_pattern,))
        ds = TensorSliceDataset(np.array([n.encode() for n in names], dtype=object))
        return ds.shuffle(len(names), seed) if shuffle is None or shuffle else ds

    @staticmethod
    def zip(*datasets, name=None):
        if len(datasets) == 1 and not isinstance(datasets[0], DatasetV2):
            datasets = datasets[0]
        return ZipDataset(datasets)

    # ---- transformations ----
    def concatenate(self, dataset, name=None):
        return ConcatenateDataset(self, dataset)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        return MapDataset(self, map_func, num_parallel_calls)

    def filter(self, predicate, name=None):
        return FilterDataset(self, predicate)

    def flat_map(self, map_func, name=None):
        return InterleaveDataset(self, map_func, 1, 1)

    def interleave(self, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
                   deterministic=None, name=None):
        return InterleaveDataset(self, map_func, cycle_length, block_length)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
        return ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        return BatchDataset(self, batch_size, drop_remainder)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False,
                     name=None):
        return PaddedBatchDataset(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def unbatch(self, name=None):
        return UnbatchDataset(self)

    def repeat(self, count=None, name=None):
        return RepeatDataset(self, count)

    def take(self, count, name=None):
        return TakeDataset(self, count)

    def skip(self, count, name=None):
        return SkipDataset(self, count)

    def prefetch(self, buffer_size, name=None):
        return PrefetchDataset(self, buffer_size)

    def cache(self, filename="", name=None):
        return CacheDataset(self, filename)

    def enumerate(self, start=0, name=None):
        return ZipDataset((RangeDataset(start, np.iinfo(np.int64).max), self))

    def shard(self, num_shards, index, name=None):
        n, i = int(num_shards), int(index)
        if n <= 0 or not 0 <= i < n:
            raise _errors.InvalidArgumentError(None, None, "Index must be between 0 and %d (currently index = "
                                               "%d)." % (n - 1, i))
        return ShardDataset(self, n, i)

    def apply(self, transformation_func):
        ds = transformation_func(self)
        if not isinstance(ds, DatasetV2):
            raise TypeError("`transformation_func` must return a `tf.data.Dataset` object. Got %s."
                            % type(ds).__name__)
        return ds

    def with_options(self, options, name=None):
        return self

    def options(self):
        return Options()

    def reduce(self, initial_state, reduce_func, name=None):
        """Folds the elements eagerly (tf.data.Dataset.reduce)."""
        state = initial_state
        for elem in self:
            state = reduce_func(state, elem)
        return state

    # ---- TF 1.x iterators (data/iterator_ops.py) ----
    def make_one_shot_iterator(self):
        return iterator_ops.make_one_shot_iterator(self)

    def make_initializable_iterator(self, shared_name=None):
        return iterator_ops.make_initializable_iterator(self, shared_name)


Dataset = DatasetV2


class Options:
    """tf.data.Options: accepted and ignored (threading and optimizations are the pipeline's own)."""

    def __init__(self):
        self.experimental_deterministic = True
        self.deterministic = True


# ---------------------------------------------------------------------------------------------------
# Iteration in eager mode

class OwnedIterator:
    """iter(dataset): yields elements as EagerTensors in the dataset's structure."""

    def __init__(self, dataset):
        self._dataset = dataset
        self._spec = dataset._element_spec
        self._single = not nest.is_nested(self._spec)
        self._it = dataset._gen({})

    @property
    def element_spec(self):
        return self._spec

    def __iter__(self):
        return self

    def __next__(self):
        flat = next(self._it)
        if self._single:
            return _to_eager(flat[0])
        return nest.pack_sequence_as(self._spec, [_to_eager(v) for v in flat])

    next = __next__

    def get_next(self):
        try:
            return self.__next__()
        except StopIteration:
            raise _errors.OutOfRangeError(None, None, "End of sequence") from None

    def get_next_as_optional(self):
        raise NotImplementedError("get_next_as_optional is not supported by tideflow's tf.data.")


# ---------------------------------------------------------------------------------------------------
# Sources

class TensorSliceDataset(DatasetV2):
    def __init__(self, tensors):
        tensors = _source_structure(tensors)
        flat = [x.value if type(x) is _SourceList else x for x in nest.flatten(tensors)]
        if not flat:
            raise ValueError("Invalid `element`. `element` should not be empty.")
        self._tensors = [x for x in flat if _is_graph_tensor(x)]
        self._comps = []  # per component: ("array", arr) or ("tensor", graph tensor)
        specs = []
        n = None
        for x in flat:
            if _is_graph_tensor(x):
                shape = x.shape
                if shape.ndims == 0:
                    raise ValueError("Unbatching a tensor is only supported for rank >= 1")
                self._comps.append(("tensor", x))
                specs.append(TensorSpec(shape[1:] if shape.ndims is not None else None, x.dtype))
                d = shape[0] if shape.ndims is not None else None
                d = getattr(d, "value", d)
            else:
                a = _source_array(x)
                if a.ndim == 0:
                    raise ValueError("Unbatching a tensor is only supported for rank >= 1")
                dt = _tf_dtype(a.dtype)
                if dt is _dtypes.string:
                    a = _fix(a, dt)
                self._comps.append(("array", a))
                specs.append(TensorSpec(a.shape[1:], dt))
                d = a.shape[0]
            if d is not None:
                if n is not None and n != d:
                    raise ValueError("Dimensions %d and %d are not compatible" % (n, d))
                n = d
        self._n = n
        super().__init__(nest.pack_sequence_as(tensors, specs))

    def _arrays(self, ctx):
        out = []
        for (kind, v), s in zip(self._comps, self._flat):
            if kind == "tensor":
                if id(v) not in ctx:
                    raise _errors.FailedPreconditionError(
                        None, None, "The dataset's source %s has no value: run the iterator's initializer "
                        "(graph tensors feed a dataset through make_initializable_iterator)." % (v,))
                v = ctx[id(v)]
            out.append(v)
        n = {a.shape[0] for a in out}
        if len(n) > 1:
            raise _errors.InvalidArgumentError(None, None, "All components must have the same size in the "
                                               "0th dimension; got %s." % sorted(n))
        return out

    def _plan(self, ctx):
        arrs = self._arrays(ctx)
        n = arrs[0].shape[0]
        dts = [s.dtype for s in self._flat]

        def gather(rows):
            return tuple(_readonly(_fix(a[rows], dt)) for a, dt in zip(arrs, dts))
        return _Plan(lambda: _range_chunks(n), gather)

    def _card(self):
        return UNKNOWN_CARDINALITY if self._n is None else self._n


class TensorDataset(DatasetV2):
    def __init__(self, tensors):
        tensors = _source_structure(tensors)
        flat = [x.value if type(x) is _SourceList else x for x in nest.flatten(tensors)]
        self._tensors = [x for x in flat if _is_graph_tensor(x)]
        self._comps, specs = [], []
        for x in flat:
            if _is_graph_tensor(x):
                self._comps.append(("tensor", x))
                specs.append(TensorSpec(x.shape, x.dtype))
            else:
                a = _source_array(x)
                dt = _tf_dtype(a.dtype)
                a = _fix(a, dt)
                self._comps.append(("array", a))
                specs.append(TensorSpec(a.shape, dt))
        super().__init__(nest.pack_sequence_as(tensors, specs))

    def _plan(self, ctx):
        vals = []
        for (kind, v), s in zip(self._comps, self._flat):
            if kind == "tensor":
                if id(v) not in ctx:
                    raise _errors.FailedPreconditionError(None, None, "The dataset's source %s has no value: run "
                                                          "the iterator's initializer." % (v,))
                v = _fix(np.asarray(ctx[id(v)]), s.dtype)
            vals.append(v)
        return _Plan(lambda: _range_chunks(1), lambda rows: tuple(
            _readonly(np.repeat(v[None], len(rows), axis=0)) for v in vals))

    def _card(self):
        return 1


class RangeDataset(DatasetV2):
    def __init__(self, *args, output_type=_dtypes.int64, dtype=None, name=None):
        if not 1 <= len(args) <= 3:
            raise ValueError("Invalid arguments to RangeDataset: %s" % (args,))
        vals = [_Arg(a, self) for a in args]
        self._args = (_Arg(0, self), vals[0], _Arg(1, self)) if len(vals) == 1 else tuple(
            vals + [_Arg(1, self)])[:3]
        if self._args[2].tensor is None and self._args[2].value == 0:
            raise _errors.InvalidArgumentError(None, None, "step must be a non-zero integer.")
        self._dtype = _dtypes.as_dtype(dtype or output_type)
        super().__init__(TensorSpec([], self._dtype))

    def _range(self, ctx):
        start, stop, step = (a.get(ctx) for a in self._args)
        if step == 0:
            raise _errors.InvalidArgumentError(None, None, "step must be a non-zero integer.")
        return range(start, stop, step)

    def _plan(self, ctx):
        r, npdt = self._range(ctx), self._dtype.as_numpy_dtype
        return _Plan(lambda: _range_chunks(len(r)),
                     lambda rows: (_readonly((rows * r.step + r.start).astype(npdt)),))

    def _card(self):
        if any(a.tensor is not None for a in self._args):
            return UNKNOWN_CARDINALITY
        return len(self._range({}))


class GeneratorDataset(DatasetV2):
    def __init__(self, generator, output_types, output_shapes, args, output_signature):
        if not callable(generator):
            raise TypeError("`generator` must be a Python callable.")
        if output_signature is not None:
            if output_types is not None or output_shapes is not None:
                raise TypeError("The `output_types` and `output_shapes` arguments can not be used together "
                                "with the `output_signature` argument.")
            spec = _normalize_structure(output_signature)
        else:
            if output_types is None:
                raise TypeError("The `output_types` argument can not be None.")
            output_types = _normalize_structure(output_types)
            types = nest.flatten(output_types)
            if output_shapes is None:
                shapes = [None] * len(types)
            else:
                shapes = nest.flatten(_shape_structure(output_shapes, output_types))
            spec = nest.pack_sequence_as(output_types, [TensorSpec(s, t) for s, t in zip(shapes, types)])
        self._generator, self._args = generator, args
        super().__init__(spec)

    def _gen(self, ctx):
        args = () if self._args is None else tuple(
            _to_numpy(_source_array(a)) if not isinstance(a, (str, bytes)) else a for a in self._args)
        spec, specs = self._element_spec, self._flat
        for value in self._generator(*args):
            value = _source_structure(value)
            try:
                flat = nest.flatten(value) if nest.is_nested(spec) else [value]
                flat = [x.value if type(x) is _SourceList else x for x in flat]
                if nest.is_nested(spec):
                    nest.pack_sequence_as(spec, flat)
                if len(flat) != len(specs):
                    raise ValueError
            except (ValueError, StopIteration, TypeError, RuntimeError):
                raise TypeError("`generator` yielded an element that did not match the expected structure. "
                                "The expected structure was %s, but the yielded element was %r."
                                % (self.output_types, value)) from None
            out = []
            for v, s in zip(flat, specs):
                a = _source_array(v) if not isinstance(v, (str, bytes)) else np.array(v, dtype=object)
                if s.dtype is not _dtypes.string and _tf_dtype(a.dtype) is not s.dtype and not (
                        a.dtype.kind in "iub" and s.dtype.is_integer or a.dtype.kind in "fiub" and s.dtype.is_floating
                        or a.dtype.kind == "b" and s.dtype is _dtypes.bool):
                    raise TypeError("`generator` yielded an element of type %s where an element of type %s was "
                                    "expected." % (_tf_dtype(a.dtype).name, s.dtype.name))
                a = _fix(a, s.dtype)
                _check_shape(a.shape, s, "`generator`")
                out.append(a)
            yield tuple(out)




# ---------------------------------------------------------------------------------------------------
# Transformations

class _Unary(DatasetV2):
    def __init__(self, input_ds, spec=None):
        self._input = input_ds
        super().__init__(input_ds._element_spec if spec is None else spec)

    def _inputs(self):
        return [self._input]


class ZipDataset(DatasetV2):
    def __init__(self, datasets):
        datasets = _normalize_structure(datasets) if not isinstance(datasets, DatasetV2) else datasets
        flat = nest.flatten(datasets)
        for d in flat:
            if not isinstance(d, DatasetV2):
                raise TypeError("Invalid `datasets`. `datasets` is expected to be a (nested) structure of "
                                "`tf.data.Dataset` objects. Encountered object with type %s." % type(d).__name__)
        self._datasets = flat
        super().__init__(nest.pack_sequence_as(datasets, [d._element_spec for d in flat]))

    def _inputs(self):
        return self._datasets

    def _gen(self, ctx):
        for parts in zip(*[d._gen(ctx) for d in self._datasets]):
            yield tuple(v for p in parts for v in p)

    def _card(self):
        cards = [d._card() for d in self._datasets]
        finite = [c for c in cards if c >= 0]
        if finite:
            return min(finite)
        return UNKNOWN_CARDINALITY if UNKNOWN_CARDINALITY in cards else INFINITE_CARDINALITY


class ConcatenateDataset(DatasetV2):
    def __init__(self, a, b):
        if repr(nest.pack_sequence_as(a._element_spec, [0] * len(a._flat))) != repr(
                nest.pack_sequence_as(b._element_spec, [0] * len(b._flat))):
            raise TypeError("Incompatible dataset elements:\n  %s vs.  %s" % (a._element_spec, b._element_spec))
        specs = [_most_specific_compatible(x, y) for x, y in zip(a._flat, b._flat)]
        self._a, self._b = a, b
        super().__init__(nest.pack_sequence_as(a._element_spec, specs))

    def _inputs(self):
        return [self._a, self._b]

    def _gen(self, ctx):
        yield from self._a._gen(ctx)
        yield from self._b._gen(ctx)

    def _card(self):
        a, b = self._a._card(), self._b._card()
        if INFINITE_CARDINALITY in (a, b):
            return INFINITE_CARDINALITY
        if UNKNOWN_CARDINALITY in (a, b):
            return UNKNOWN_CARDINALITY
        return a + b


def _parallelism(n):
    if n is None:
        return 1
    n = int(n)
    if n == AUTOTUNE:
        return max(1, os.cpu_count() or 1)
    if n <= 0:
        raise ValueError("num_parallel_calls must be positive or tf.data.AUTOTUNE, got %d" % n)
    return n


class _Workers:
    """Runs a traced plan over elements on a few threads, in order (map's num_parallel_calls). The plans
    release the GIL while they run, so elements really overlap."""
    _pools = {}
    _lock = threading.Lock()

    @classmethod
    def pool(cls, n):
        from concurrent.futures import ThreadPoolExecutor  # lazy: only parallel maps need it
        with cls._lock:
            p = cls._pools.get(n)
            if p is None:
                p = cls._pools[n] = ThreadPoolExecutor(n, thread_name_prefix="tf_data_map")
            return p


class MapDataset(_Unary):
    def __init__(self, input_ds, map_func, num_parallel_calls=None):
        self._fn = _TracedFn(map_func, input_ds._element_spec, getattr(map_func, "__name__", "map_fn"),
                             try_vectorize=True)
        self._par = _parallelism(num_parallel_calls)
        self._tensors = list(self._fn.outer)
        super().__init__(input_ds, self._fn.out_spec)

    def _plan(self, ctx):
        if self._fn.batched is None:
            return None
        plan = self._input._plan(ctx)
        if plan is None:
            return None
        gather, call = plan.gather, self._fn.batched
        extra = tuple(_outer_values(self._fn.outer, ctx))
        return _Plan(plan.indices, lambda rows: tuple(_arr(v) for v in call(gather(rows) + extra)))

    def _gen(self, ctx):
        plan = self._plan(ctx)
        if plan is not None:
            return _plan_elements(plan)
        return self._map(ctx)

    def _map(self, ctx):
        call = self._fn.call
        extra = tuple(_outer_values(self._fn.outer, ctx))
        src = self._input._gen(ctx)
        if self._par == 1:
            for elem in src:
                yield tuple(call(elem + extra))
            return
        pool, window = _Workers.pool(self._par), []
        for elem in src:
            window.append(pool.submit(call, elem + extra))
            if len(window) >= self._par * 2:
                yield tuple(window.pop(0).result())
        for f in window:
            yield tuple(f.result())

    def _card(self):
        return self._input._card()


class FilterDataset(_Unary):
    def __init__(self, input_ds, predicate):
        self._fn = _TracedFn(predicate, input_ds._element_spec, getattr(predicate, "__name__", "predicate"))
        s = self._fn.out_specs
        if len(s) != 1 or s[0].dtype is not _dtypes.bool or s[0].shape.ndims not in (0, None):
            raise ValueError("Invalid `predicate`. `predicate` must return a `tf.bool` scalar tensor, but its "
                             "return type was %s." % (self._fn.out_spec,))
        self._tensors = list(self._fn.outer)
        super().__init__(input_ds)

    def _gen(self, ctx):
        call = self._fn.call
        extra = tuple(_outer_values(self._fn.outer, ctx))
        for elem in self._input._gen(ctx):
            if bool(call(elem + extra)[0]):
                yield elem


class InterleaveDataset(_Unary):
    def __init__(self, input_ds, map_func, cycle_length, block_length):
        self._fn = _TracedDatasetFn(map_func, input_ds._element_spec, getattr(map_func, "__name__", "map_fn"))
        self._cycle = _parallelism(cycle_length) if cycle_length not in (None, AUTOTUNE) else (
            max(1, os.cpu_count() or 1))
        self._block = 1 if block_length is None else int(block_length)
        if self._block <= 0:
            raise ValueError("block_length must be positive")
        self._tensors = list(self._fn.outer)
        super().__init__(input_ds, self._fn.dataset._element_spec)

    def _gen(self, ctx):
        src = self._input._gen(ctx)
        fn = self._fn
        extra = _outer_values(fn.outer, ctx)
        if self._cycle == 1:
            for elem in src:
                yield from fn.iterate(elem, extra)
            return
        # TensorFlow's interleave: up to cycle_length open iterators, block_length elements from each in turn;
        # an exhausted one is replaced by the next input element's dataset in the same slot.
        slots = [None] * self._cycle
        exhausted = False
        active = 0
        for i in range(self._cycle):
            elem = next(src, None)
            if elem is None:
                exhausted = True
                break
            slots[i] = fn.iterate(elem, extra)
            active += 1
        i = 0
        while active:
            it = slots[i]
            if it is not None:
                produced = 0
                while produced < self._block:
                    v = next(it, None)
                    if v is None:
                        break
                    produced += 1
                    yield v
                if produced < self._block:
                    slots[i] = None
                    active -= 1
                    if not exhausted:
                        elem = next(src, None)
                        if elem is None:
                            exhausted = True
                        else:
                            slots[i] = fn.iterate(elem, extra)
                            active += 1
                            continue  # the new iterator takes this slot's turn now, as TensorFlow does
            i = (i + 1) % self._cycle


class _Philox:
    """The random stream of one shuffle iteration (Note [tf.data pipelines])."""

    def __init__(self, seed, seed2, iteration):
        key = ((int(seed) & 0xFFFFFFFFFFFFFFFF) << 64) | (int(seed2) & 0xFFFFFFFFFFFFFFFF)
        self.gen = self._rng = np.random.Generator(np.random.Philox(key=key, counter=iteration))
        self._buf, self._i = None, 0

    def uniform(self):
        if self._buf is None or self._i >= len(self._buf):
            self._buf, self._i = self._rng.random(1024).tolist(), 0
        u = self._buf[self._i]
        self._i += 1
        return u


def _shuffled_chunks(stream, size, rng):
    """TensorFlow's buffer shuffle on chunks of row numbers, vectorized: output k is the row in slot j_k
    (uniform in [0, size)) when step k runs, i.e. the input written to j_k most recently before k (or the
    slot's value from the fill), and input k then takes slot j_k. The final drain picks uniformly among the
    rows left, a uniformly random order of them."""
    buf = np.empty(0, np.int64)
    for c in stream:
        if len(buf) < size:
            need = size - len(buf)
            buf = np.concatenate([buf, c[:need]])
            c = c[need:]
            if not len(c):
                continue
        k = len(c)
        j = rng.gen.integers(0, size, k)
        order = np.lexsort((np.arange(k), j))  # by slot, then by step
        js, xs = j[order], c[order]
        first = np.ones(k, bool)
        first[1:] = js[1:] != js[:-1]
        prev = np.empty(k, np.int64)
        prev[1:] = xs[:-1]
        out = np.empty(k, np.int64)
        out[order] = np.where(first, buf[js], prev)
        last = np.ones(k, bool)
        last[:-1] = first[1:]
        buf[js[last]] = xs[last]
        yield out
    if len(buf):
        yield buf[rng.gen.permutation(len(buf))]


def _shuffled(stream, size, rng):
    buf = []
    for x in stream:
        if len(buf) < size:
            buf.append(x)
            continue
        j = int(rng.uniform() * size)
        yield buf[j]
        buf[j] = x
    while buf:
        j = int(rng.uniform() * len(buf))
        yield buf[j]
        buf[j] = buf[-1]
        buf.pop()


class ShuffleDataset(_Unary):
    def __init__(self, input_ds, buffer_size, seed=None, reshuffle_each_iteration=None):
        n = int(buffer_size)
        if n == AUTOTUNE:
            n = 1 << 20
        if n <= 0:
            raise _errors.InvalidArgumentError(None, None, "buffer_size must be greater than zero.")
        self._size = n
        s, s2 = _random_seed.get_seed(seed)
        if s is None or (s == 0 and s2 == 0):
            s, s2 = (int.from_bytes(os.urandom(8), "little") for _ in range(2))
        self._seeds = (s, s2)
        self._reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)
        self._iteration = itertools.count()
        super().__init__(input_ds)

    def _rng(self):
        return _Philox(self._seeds[0], self._seeds[1], next(self._iteration) if self._reshuffle else 0)

    def _plan(self, ctx):
        plan = self._input._plan(ctx)
        if plan is None:
            return None
        indices, size = plan.indices, self._size
        return _Plan(lambda: _shuffled_chunks(indices(), size, self._rng()), plan.gather)

    def _gen(self, ctx):
        plan = self._plan(ctx)
        if plan is not None:
            return _plan_elements(plan)
        return _shuffled(self._input._gen(ctx), self._size, self._rng())

    def _card(self):
        return self._input._card()


class RepeatDataset(_Unary):
    def __init__(self, input_ds, count):
        self._arg = _Arg(-1 if count is None else count, self)
        self._count = -2 if self._arg.tensor is not None else self._arg.value  # -2: read at iteration
        super().__init__(input_ds)

    def _epochs(self, ctx):
        n = self._arg.get(ctx)
        return itertools.count() if n < 0 else range(n)

    def _plan(self, ctx):
        plan = self._input._plan(ctx)
        if plan is None:
            return None
        indices = plan.indices

        def stream():
            for _ in self._epochs(ctx):
                empty = True
                for c in indices():
                    empty = empty and not len(c)
                    yield c
                if empty:
                    return
        return _Plan(stream, plan.gather)

    def _gen(self, ctx):
        plan = self._plan(ctx)
        if plan is not None:
            yield from _plan_elements(plan)
            return
        for _ in self._epochs(ctx):
            empty = True
            for e in self._input._gen(ctx):
                empty = False
                yield e
            if empty:
                return

    def _card(self):
        c = self._input._card()
        if self._count == -2:
            return UNKNOWN_CARDINALITY
        if self._count == 0 or c == 0:
            return 0
        if self._count < 0:
            return INFINITE_CARDINALITY if c != UNKNOWN_CARDINALITY else UNKNOWN_CARDINALITY
        return c * self._count if c >= 0 else c


class TakeDataset(_Unary):
    def __init__(self, input_ds, count):
        self._arg = _Arg(count, self)
        self._count = self._arg.value
        super().__init__(input_ds)

    def _plan(self, ctx):
        plan = self._input._plan(ctx)
        if plan is None:
            return None
        indices, n = plan.indices, self._arg.get(ctx)
        return _Plan(lambda: _take_chunks(indices(), n), plan.gather)

    def _gen(self, ctx):
        plan = self._plan(ctx)
        if plan is not None:
            return _plan_elements(plan)
        n = self._arg.get(ctx)
        return itertools.islice(self._input._gen(ctx), None if n < 0 else n)

    def _card(self):
        if self._count is None:
            return UNKNOWN_CARDINALITY
        c = self._input._card()
        if self._count < 0:
            return c
        if c == INFINITE_CARDINALITY:
            return self._count
        return min(c, self._count) if c >= 0 else UNKNOWN_CARDINALITY


class SkipDataset(_Unary):
    def __init__(self, input_ds, count):
        self._arg = _Arg(count, self)
        self._count = self._arg.value
        super().__init__(input_ds)

    def _start(self, it, n):
        if n < 0:
            for _ in it:
                pass
            return iter(())
        return itertools.islice(it, n, None)

    def _plan(self, ctx):
        plan = self._input._plan(ctx)
        if plan is None:
            return None
        indices, n = plan.indices, self._arg.get(ctx)
        return _Plan(lambda: _skip_chunks(indices(), n), plan.gather)

    def _gen(self, ctx):
        plan = self._plan(ctx)
        if plan is not None:
            return _plan_elements(plan)
        return self._start(self._input._gen(ctx), self._arg.get(ctx))

    def _card(self):
        if self._count is None:
            return UNKNOWN_CARDINALITY
        c = self._input._card()
        if c < 0:
            return c
        return 0 if self._count < 0 else max(0, c - self._count)


class ShardDataset(_Unary):
    def __init__(self, input_ds, n, i):
        self._n, self._i = n, i
        super().__init__(input_ds)

    def _gen(self, ctx):
        return itertools.islice(self._input._gen(ctx), self._i, None, self._n)

    def _card(self):
        c = self._input._card()
        return c if c < 0 else (c - self._i + self._n - 1) // self._n if c > self._i else 0


def _stack(values, spec_index):
    """One batch component from the elements' values; shapes must agree, as TensorFlow's batch requires."""
    values = [_arr(v) for v in values]
    shape = np.shape(values[0])
    for i, v in enumerate(values):
        if np.shape(v) != shape:
            raise _errors.InvalidArgumentError(
                None, None, "Cannot batch tensors with different shapes in component %d. First element had shape "
                "%s and element %d had shape %s." % (spec_index, list(shape), i, list(np.shape(v))))
    return _readonly(np.stack(values))


class BatchDataset(_Unary):
    def __init__(self, input_ds, batch_size, drop_remainder):
        self._n = int(batch_size)
        if self._n <= 0:
            raise _errors.InvalidArgumentError(None, None, "Batch size must be greater than zero.")
        self._drop = bool(drop_remainder)
        lead = self._n if self._drop else None
        specs = [TensorSpec(TensorShape([lead]).concatenate(s.shape), s.dtype) for s in input_ds._flat]
        super().__init__(input_ds, nest.pack_sequence_as(input_ds._element_spec, specs))

    def _gen(self, ctx):
        n, drop = self._n, self._drop
        plan = self._input._plan(ctx)
        if plan is not None:
            gather = plan.gather
            for rows in _rechunk(plan.indices(), n):
                if drop and len(rows) < n:
                    return
                yield gather(rows)
            return
        it = self._input._gen(ctx)
        ncomp = len(self._flat)
        while True:
            elems = list(itertools.islice(it, n))
            if not elems or (drop and len(elems) < n):
                return
            yield tuple(_stack([e[k] for e in elems], k) for k in range(ncomp))

    def _card(self):
        c = self._input._card()
        if c < 0:
            return c
        return c // self._n if self._drop else -(-c // self._n)


class PaddedBatchDataset(_Unary):
    def __init__(self, input_ds, batch_size, padded_shapes, padding_values, drop_remainder):
        self._n = int(batch_size)
        if self._n <= 0:
            raise _errors.InvalidArgumentError(None, None, "Batch size must be greater than zero.")
        self._drop = bool(drop_remainder)
        flat = input_ds._flat
        if padded_shapes is None:
            shapes = [s.shape for s in flat]
            for s in shapes:
                if s.ndims is None:
                    raise ValueError("You must provide `padded_shapes` argument because component has unknown rank.")
        else:
            shapes = nest.flatten(_shape_structure(padded_shapes, _normalize_structure(input_ds.output_types)))
        self._shapes = [as_shape(s) for s in shapes]
        if padding_values is None:
            pads = [b"" if s.dtype is _dtypes.string else 0 for s in flat]
        else:
            pads = nest.flatten(_normalize_structure(padding_values))
            if len(pads) == 1 and len(flat) > 1:
                pads = pads * len(flat)
        self._pads = [_to_numpy(_source_array(p)) if not isinstance(p, (str, bytes)) else p for p in pads]
        lead = self._n if self._drop else None
        specs = []
        for s, ps in zip(flat, self._shapes):
            if s.shape.ndims is not None and ps.ndims != s.shape.ndims:
                raise ValueError("The padded shape %s is not compatible with the shape %s of the corresponding "
                                 "input component." % (ps, s.shape))
            specs.append(TensorSpec(TensorShape([lead]).concatenate(ps), s.dtype))
        super().__init__(input_ds, nest.pack_sequence_as(input_ds._element_spec, specs))

    def _gen(self, ctx):
        it = self._input._gen(ctx)
        n = self._n
        while True:
            elems = list(itertools.islice(it, n))
            if not elems or (self._drop and len(elems) < n):
                return
            out = []
            for k, (ps, s) in enumerate(zip(self._shapes, self._input._flat)):
                vals = [np.asarray(e[k]) if type(e[k]) is not EagerTensor or s.dtype is not _dtypes.string
                        else e[k].numpy() for e in elems]
                rank = vals[0].ndim
                target = []
                for d in range(rank):
                    m = max(v.shape[d] for v in vals)
                    want = ps.as_list()[d] if ps.ndims is not None else None
                    if want is not None:
                        if m > want:
                            raise _errors.InvalidArgumentError(
                                None, None, "Attempted to pad to a smaller size than the input element.")
                        m = want
                    target.append(m)
                dt = s.dtype.as_numpy_dtype if s.dtype is not _dtypes.string else object
                batch = np.full([len(vals)] + target, self._pads[k], dtype=dt)
                for i, v in enumerate(vals):
                    batch[(i,) + tuple(slice(0, d) for d in v.shape)] = v
                out.append(batch)
            yield tuple(out)

    def _card(self):
        c = self._input._card()
        if c < 0:
            return c
        return c // self._n if self._drop else -(-c // self._n)


class UnbatchDataset(_Unary):
    def __init__(self, input_ds):
        specs = []
        for s in input_ds._flat:
            if s.shape.ndims == 0:
                raise ValueError("Cannot unbatch an input with scalar components.")
            specs.append(TensorSpec(s.shape[1:] if s.shape.ndims is not None else None, s.dtype))
        super().__init__(input_ds, nest.pack_sequence_as(input_ds._element_spec, specs))

    def _gen(self, ctx):
        for elem in self._input._gen(ctx):
            arrs = [np.asarray(v) if type(v) is not EagerTensor or v.dtype is not _dtypes.string else v.numpy()
                    for v in elem]
            n = {a.shape[0] for a in arrs}
            if len(n) != 1:
                raise _errors.InvalidArgumentError(None, None, "Input element must have the same batch size in "
                                                   "each component.")
            for i in range(n.pop()):
                yield tuple(a[i] for a in arrs)


class CacheDataset(_Unary):
    """cache(): the first complete pass is kept in memory and replayed (a file name is accepted; the cache
    stays in memory)."""

    def __init__(self, input_ds, filename):
        self._cache = None
        super().__init__(input_ds)

    def _gen(self, ctx):
        if self._cache is not None:
            yield from self._cache
            return
        seen = []
        for e in self._input._gen(ctx):
            seen.append(e)
            yield e
        self._cache = seen

    def _card(self):
        return self._input._card()


class PrefetchDataset(_Unary):
    """prefetch(n): a background thread runs the input pipeline up to n elements ahead, so producing the
    next batch overlaps the training step (whose kernels release the GIL)."""

    def __init__(self, input_ds, buffer_size):
        n = int(buffer_size)
        self._n = 4 if n == AUTOTUNE else n
        if self._n < 0:
            raise _errors.InvalidArgumentError(None, None, "buffer_size must be >= 0 or AUTOTUNE")
        super().__init__(input_ds)

    def _gen(self, ctx):
        src = self._input._gen(ctx)
        if self._n == 0:
            return src
        return _Prefetcher(src, self._n)

    def _card(self):
        return self._input._card()


_DONE = object()


class _Prefetcher:
    def __init__(self, src, n):
        self._q = queue.Queue(n)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=_prefetch_loop, args=(src, self._q, self._stop),
                                        name="tf_data_prefetch", daemon=True)
        self._thread.start()
        self._done = False
        weakref.finalize(self, self._stop.set)

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        item = self._q.get()
        if item is _DONE:
            self._done = True
            raise StopIteration
        if isinstance(item, _Raised):
            self._done = True
            raise item.error
        return item


class _Raised:
    def __init__(self, error):
        self.error = error


def _prefetch_loop(src, q, stop):
    def put(x):
        while not stop.is_set():
            try:
                q.put(x, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False
    try:
        for item in src:
            if not put(item):
                return
    except BaseException as e:  # noqa: BLE001 (handed to the consumer, raised there)
        put(_Raised(e))
        return
    put(_DONE)


class TextLineDataset(DatasetV2):
    """tf.data.TextLineDataset: the lines of text files (without their line endings), file after file;
    compression_type "" / None, "GZIP" or "ZLIB"."""

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        if isinstance(filenames, DatasetV2):
            self._files = filenames
        else:
            self._files = TensorSliceDataset(_source_array(filenames).reshape(-1).astype(object)
                                             if not isinstance(filenames, (str, bytes)) else
                                             np.array([filenames], dtype=object))
        self._compression = (compression_type or "").upper()
        if self._compression not in ("", "GZIP", "ZLIB"):
            raise _errors.InvalidArgumentError(None, None, "Unsupported compression_type: %s" % compression_type)
        super().__init__(TensorSpec([], _dtypes.string))

    def _inputs(self):
        return [self._files]

    def _gen(self, ctx):
        import gzip  # lazy: only text files read here
        import io
        import zlib
        for (f,) in self._files._gen(ctx):
            name = _to_numpy(f)
            name = name.decode() if isinstance(name, bytes) else str(name)
            try:
                with open(name, "rb") as fh:
                    data = fh.read()
            except OSError as e:
                raise _errors.NotFoundError(None, None, "%s; No such file or directory" % name) from e
            if self._compression == "GZIP":
                data = gzip.GzipFile(fileobj=io.BytesIO(data)).read()
            elif self._compression == "ZLIB":
                data = zlib.decompress(data)
            for line in data.splitlines():
                yield (np.array(line.rstrip(b"\r"), dtype=object),)
