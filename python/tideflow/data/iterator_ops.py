"""TF 1.x iterators over a Dataset in graph mode: make_one_shot_iterator, make_initializable_iterator,
Iterator.from_structure + make_initializer, and get_next.

Note [graph iterators]
get_next() is one stateful graph node (a PyFunc node named IteratorGetNext, ops/script_ops.py) whose
kernel advances the iterator's pipeline (data/dataset_ops.py: NumPy gathers and traced map plans, no
Python tracing per element) and outputs one element per Session.run; every fetch of that run sees the same
element. At the end it fails the step with tf.errors.OutOfRangeError ("End of sequence"), so TF 1.x loops
`while True: try: sess.run(...) except tf.errors.OutOfRangeError: break` and MonitoredTrainingSession work.
The initializer is a PyFunc node too: it takes the values of the graph tensors the dataset's sources hold
(placeholders fed through feed_dict, as in TF 1.x's initializable iterators) and restarts the pipeline."""
import threading

import numpy as np

from .. import _core
from ..eager import nest
from ..framework import errors as _errors
from ..framework import ops as _ops
from ..ops import script_ops
from ..eager import function as _function
from ..eager import tensor as _tensor
from . import structure

__all__ = ["Iterator", "make_one_shot_iterator", "make_initializable_iterator"]


def _numpy(v):
    if type(v) is _tensor.EagerTensor:
        return v.numpy()
    return v


class Iterator:
    """tf.compat.v1.data.Iterator: a graph-mode iterator; get_next() gives tensors fed one element per run."""

    def __init__(self, element_spec, dataset=None, one_shot=False, shared_name=None):
        self._spec = element_spec
        self._flat = nest.flatten(element_spec)
        self._one_shot_dataset = dataset if one_shot else None
        self._it = None
        self._lock = threading.Lock()
        self._initializer = None
        self._graph = _ops.get_default_graph()

    # ---- constructors ----
    @staticmethod
    def from_structure(output_types, output_shapes=None, shared_name=None, output_classes=None):
        types = structure._normalize_structure(output_types)
        flat_types = nest.flatten(types)
        shapes = [None] * len(flat_types) if output_shapes is None else nest.flatten(
            structure._shape_structure(output_shapes, types))
        spec = nest.pack_sequence_as(types, [_function.TensorSpec(s, t) for s, t in zip(shapes, flat_types)])
        return Iterator(spec, shared_name=shared_name)

    @staticmethod
    def from_string_handle(string_handle, output_types, output_shapes=None, output_classes=None):
        raise NotImplementedError("Iterator.from_string_handle (feedable iterators) is not supported by tideflow; "
                                  "use Iterator.from_structure with make_initializer.")

    # ---- structure ----
    @property
    def element_spec(self):
        return self._spec

    @property
    def output_types(self):
        return nest.pack_sequence_as(self._spec, [s.dtype for s in self._flat])

    @property
    def output_shapes(self):
        return nest.pack_sequence_as(self._spec, [s.shape for s in self._flat])

    @property
    def output_classes(self):
        return nest.pack_sequence_as(self._spec, [_ops.Tensor for _ in self._flat])

    # ---- the graph nodes ----
    @property
    def initializer(self):
        if self._initializer is None:
            raise ValueError("Iterator does not have an initializer.")
        return self._initializer

    def make_initializer(self, dataset, name=None):
        """An op that (re)starts this iterator on `dataset`, whose element structure must match."""
        flat = dataset._flat
        if len(flat) != len(self._flat) or repr(nest.pack_sequence_as(self._spec, [0] * len(flat))) != repr(
                nest.pack_sequence_as(dataset.element_spec, [0] * len(flat))):
            raise TypeError("Expected output types %r but got dataset with output types %r."
                            % (self.output_types, dataset.output_types))
        for a, b in zip(self._flat, flat):
            if a.dtype is not b.dtype:
                raise TypeError("Expected output types %r but got dataset with output types %r."
                                % (self.output_types, dataset.output_types))
            if not a.shape.is_compatible_with(b.shape):
                raise TypeError("Expected output shapes compatible with %r but got dataset with output shapes %r."
                                % (self.output_shapes, dataset.output_shapes))
        inputs = dataset._graph_inputs()

        def start(*values):
            ctx = {id(t): v for t, v in zip(inputs, values)}
            with self._lock:
                self._it = dataset._gen(ctx)
        with _ops.name_scope(name, "make_initializer"):
            return script_ops.py_func(start, list(inputs), [], name="MakeIterator")

    def get_next(self, name=None):
        """Tensors of the next element, one element per Session.run (Note [graph iterators])."""
        flat = self._flat
        out = script_ops.py_func(self._next, [], [s.dtype for s in flat], name=name or "IteratorGetNext")
        for t, s in zip(out, flat):
            t.set_shape(s.shape)
        if not nest.is_nested(self._spec):
            return out[0]
        return nest.pack_sequence_as(self._spec, out)

    def _next(self):
        with self._lock:
            if self._it is None:
                if self._one_shot_dataset is None:
                    raise _errors.FailedPreconditionError(
                        None, None, "GetNext() failed because the iterator has not been initialized. Ensure that "
                        "you have run the initializer operation for this iterator before getting the next "
                        "element.")
                self._it = self._one_shot_dataset._gen({})
            try:
                elem = next(self._it)
            except StopIteration:
                raise _errors.OutOfRangeError(None, None, "End of sequence") from None
        return [_numpy(v) if not isinstance(v, np.ndarray) or v.flags.c_contiguous else np.ascontiguousarray(v)
                for v in elem]

    def string_handle(self, name=None):
        raise NotImplementedError("Iterator.string_handle (feedable iterators) is not supported by tideflow.")


def make_one_shot_iterator(dataset):
    """tf.compat.v1.data.make_one_shot_iterator: in graph mode an Iterator started on its first get_next
    run; in eager mode a Python iterator, as TensorFlow 2 gives."""
    if _core.executing_eagerly():
        return iter(dataset)
    if dataset._graph_inputs():
        raise ValueError("Failed to create a one-shot iterator for a dataset. `Dataset.make_one_shot_iterator()` "
                         "does not support datasets that capture stateful objects, such as a `Variable` or "
                         "`LookupTable`. In these cases, use `Dataset.make_initializable_iterator()`. (Original "
                         "error: the dataset is fed by graph tensors %s)" % dataset._graph_inputs())
    return Iterator(dataset.element_spec, dataset, one_shot=True)


def make_initializable_iterator(dataset, shared_name=None):
    """tf.compat.v1.data.make_initializable_iterator: an Iterator whose `initializer` (re)starts it; graph
    tensors the dataset's sources hold (placeholders) are read when the initializer runs."""
    if _core.executing_eagerly():
        raise RuntimeError("dataset.make_initializable_iterator is not supported when eager execution is enabled. "
                           "Use `for element in dataset` instead.")
    it = Iterator(dataset.element_spec, shared_name=shared_name)
    it._initializer = it.make_initializer(dataset)
    return it

