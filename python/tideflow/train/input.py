"""TF 1.x queue-based input pipelines: tf.train.input_producer, string_input_producer, range_input_producer,
slice_input_producer, limit_epochs, match_filenames_once, batch, shuffle_batch, batch_join,
shuffle_batch_join and the maybe_* forms. Each builds a queue (ops/data_flow_ops.py) and a QueueRunner
(queue_runner_impl.py) in GraphKeys.QUEUE_RUNNERS, with TensorFlow's names, defaults and shapes; the
threads start with tf.train.start_queue_runners. num_epochs counts epochs in a local variable
(`<scope>/limit_epochs/epochs`), so tf.local_variables_initializer() must run first, as in TensorFlow."""
import glob as _glob

import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework import tensor_shape as _tensor_shape
from ..ops import array_ops, data_flow_ops, math_ops, random_ops, script_ops, state_ops
from . import queue_runner_impl

__all__ = ["limit_epochs", "match_filenames_once", "input_producer", "string_input_producer",
           "range_input_producer", "slice_input_producer", "batch", "maybe_batch", "shuffle_batch",
           "maybe_shuffle_batch", "batch_join", "maybe_batch_join", "shuffle_batch_join",
           "maybe_shuffle_batch_join"]


def _summary_scalar(name, value):
    from .. import summary  # lazy: tf.summary sits above tf.train in the import order
    summary.scalar(name, value)


def limit_epochs(tensor, num_epochs=None, name=None):
    """`tensor`, which fails with OutOfRangeError once it has been evaluated num_epochs times."""
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError("num_epochs must be > 0 not %d." % num_epochs)
    with _ops.name_scope(name, "limit_epochs", [tensor]) as scope:
        epochs = state_ops.Variable(np.int64(0), name="epochs", trainable=False,
                                    collections=[_ops.GraphKeys.LOCAL_VARIABLES])
        counter = epochs.count_up_to(num_epochs)
        with _ops.control_dependencies([counter]):
            return array_ops.identity(tensor, name=scope.rstrip("/") if scope else None)


def match_filenames_once(pattern, name=None):
    """A local variable holding the sorted files matching `pattern` (a glob or a list of globs), found when
    tf.local_variables_initializer() runs."""
    with _ops.name_scope(name, "matching_filenames", [pattern]) as scope:
        pat = _ops.convert_to_tensor(pattern, dtype=_dtypes.string)

        def match(p):
            pats = [x.decode() if isinstance(x, bytes) else str(x) for x in np.asarray(p, dtype=object).reshape(-1)]
            files = sorted(set(f for q in pats for f in _glob.glob(q)))
            return np.array([f.encode() for f in files], dtype=object).reshape(-1)
        files = script_ops.py_func(match, [pat], _dtypes.string, name="MatchingFiles")
        files.set_shape([None])
        return state_ops.Variable(files, name=scope, trainable=False, validate_shape=False,
                                  collections=[_ops.GraphKeys.LOCAL_VARIABLES])


def input_producer(input_tensor, element_shape=None, num_epochs=None, shuffle=True, seed=None, capacity=32,
                   shared_name=None, summary_name=None, name=None, cancel_op=None):
    """A FIFOQueue of the rows of `input_tensor` (shuffled each epoch when `shuffle`), filled by a
    QueueRunner; num_epochs None cycles for ever."""
    with _ops.name_scope(name, "input_producer", [input_tensor]):
        input_tensor = _ops.convert_to_tensor(input_tensor, name="input_tensor")
        shape = input_tensor.shape
        if shape.ndims is not None and shape.ndims == 0:
            raise ValueError("Shape must be at least rank 1 but is rank 0 for input_tensor")
        element_shape = (shape[1:] if shape.ndims is not None else _tensor_shape.TensorShape(None)).merge_with(
            _tensor_shape.TensorShape(element_shape))
        if not element_shape.is_fully_defined():
            raise ValueError("Either `input_tensor` must have a fully defined shape or `element_shape` must be "
                             "specified")
        if shuffle:
            input_tensor = random_ops.random_shuffle(input_tensor, seed=seed)
        input_tensor = limit_epochs(input_tensor, num_epochs)
        q = data_flow_ops.FIFOQueue(capacity=capacity, dtypes=[input_tensor.dtype], shapes=[element_shape],
                                    shared_name=shared_name, name=name)
        enq = q.enqueue_many([input_tensor])
        queue_runner_impl.add_queue_runner(queue_runner_impl.QueueRunner(q, [enq], cancel_op=cancel_op))
        if summary_name is not None:
            _summary_scalar(summary_name, math_ops.cast(q.size(), _dtypes.float32) * (1.0 / capacity))
        return q


def string_input_producer(string_tensor, num_epochs=None, shuffle=True, seed=None, capacity=32, shared_name=None,
                          name=None, cancel_op=None):
    """A queue of the strings of `string_tensor` (file names, usually) for a reader."""
    not_null_err = "string_input_producer requires a non-null input tensor"
    if isinstance(string_tensor, (list, tuple, np.ndarray)) and len(string_tensor) == 0:
        raise ValueError(not_null_err)
    with _ops.name_scope(name, "input_producer", [string_tensor]) as scope:
        string_tensor = _ops.convert_to_tensor(string_tensor, dtype=_dtypes.string)
        if string_tensor.shape.ndims is not None and string_tensor.shape.ndims != 1:
            raise ValueError("Shape must be rank 1 but is rank %d" % string_tensor.shape.ndims)
        return input_producer(string_tensor, [], num_epochs, shuffle, seed, capacity, shared_name,
                              "fraction_of_%d_full" % capacity, scope, cancel_op)


def range_input_producer(limit, num_epochs=None, shuffle=True, seed=None, capacity=32, shared_name=None,
                         name=None):
    """A queue of the integers 0 .. limit-1."""
    with _ops.name_scope(name, "input_producer", [limit]) as scope:
        range_tensor = array_ops.range(limit)
        return input_producer(range_tensor, [], num_epochs, shuffle, seed, capacity, shared_name,
                              "fraction_of_%d_full" % capacity, scope)


def slice_input_producer(tensor_list, num_epochs=None, shuffle=True, seed=None, capacity=32, shared_name=None,
                         name=None):
    """One row of each tensor of `tensor_list` per dequeue, the same row index for all (an index queue of
    range_input_producer gathers them)."""
    with _ops.name_scope(name, "input_producer", tensor_list):
        tensor_list = [_ops.convert_to_tensor(t) for t in tensor_list]
        if not tensor_list:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        range_size = array_ops.shape(tensor_list[0])[0]
        queue = range_input_producer(range_size, num_epochs=num_epochs, shuffle=shuffle, seed=seed,
                                     capacity=capacity, shared_name=shared_name)
        index = queue.dequeue()
        return [array_ops.gather(t, index) for t in tensor_list]


# ---- batching ----

def _as_tensor_list(tensors):
    if isinstance(tensors, dict):
        return [tensors[k] for k in sorted(tensors)]
    if isinstance(tensors, (list, tuple)):
        return list(tensors)
    return [tensors]


def _as_original_type(original, dequeued):
    if isinstance(original, dict):
        if len(original) == 1:
            dequeued = [dequeued]  # a one-component queue dequeues a single tensor, as in TensorFlow
        return {k: dequeued[i] for i, k in enumerate(sorted(original))}
    return dequeued


def _validate(tensor_list):
    if not tensor_list:
        raise ValueError("Expected at least one tensor in batch().")
    return [_ops.convert_to_tensor(t) for t in tensor_list]


def _shapes(tensor_list_list, shapes, enqueue_many):
    if shapes is None:
        n = len(tensor_list_list[0])
        shapes = [_tensor_shape.TensorShape(None)] * n
        for tl in tensor_list_list:
            for i in range(n):
                s = tl[i].shape
                if enqueue_many:
                    if s.ndims == 0:
                        raise ValueError("Shape must be at least rank 1 with enqueue_many=True: %s" % tl[i].name)
                    s = s[1:] if s.ndims is not None else s
                shapes[i] = shapes[i].merge_with(s)
    return [_tensor_shape.TensorShape(s) for s in shapes]


def _check_defined(shapes, dynamic_pad, tensors):
    for s, t in zip(shapes, tensors):
        if dynamic_pad:
            if s.ndims is None:
                raise ValueError("Shape of %s must have a known rank with dynamic_pad=True" % t.name)
        elif not s.is_fully_defined():
            raise ValueError("All shapes must be fully defined: %s" % [str(x) for x in shapes])


def _keep_tensor(keep_input, enqueue_many):
    keep = _ops.convert_to_tensor(keep_input, dtype=_dtypes.bool, name="keep_input")
    nd = keep.shape.ndims
    if nd is not None and not (nd == 0 or (enqueue_many and nd == 1)):
        raise ValueError("`keep_input` must be a scalar or a vector (with enqueue_many=True)")
    return keep


def _enqueue_ops(queue, tensor_list_list, enqueue_many, keep_input):
    ops = []
    for tl in tensor_list_list:
        if keep_input is None:
            ops.append(queue.enqueue_many(tl) if enqueue_many else queue.enqueue(tl))
        else:
            ops.append(queue._enqueue_where(tl, _keep_tensor(keep_input, enqueue_many), enqueue_many))
    return ops


def _batch(tensors_list_list, originals, batch_size, keep_input, capacity, enqueue_many, shapes, dynamic_pad,
           allow_smaller_final_batch, name, default_name, threads, shuffle=False, min_after_dequeue=0, seed=None):
    if isinstance(batch_size, (int, np.integer)) and batch_size <= 0:
        raise ValueError("batch_size must be > 0, got %d" % batch_size)
    with _ops.name_scope(name, default_name, [t for tl in tensors_list_list for t in tl]) as scope:
        tensors_list_list = [_validate(tl) for tl in tensors_list_list]
        n = len(tensors_list_list[0])
        if any(len(tl) != n for tl in tensors_list_list):
            raise ValueError("Expected all inputs to batch_join to have the same length")
        types = [t.dtype for t in tensors_list_list[0]]
        for tl in tensors_list_list[1:]:
            if [t.dtype for t in tl] != types:
                raise TypeError("Expected types to be consistent: %s vs. %s." % (types, [t.dtype for t in tl]))
        shapes = _shapes(tensors_list_list, shapes, enqueue_many)
        _check_defined(shapes, dynamic_pad, tensors_list_list[0])
        if shuffle:
            queue = data_flow_ops.RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue,
                                                     seed=seed, dtypes=types, shapes=shapes)
        elif dynamic_pad:
            queue = data_flow_ops.PaddingFIFOQueue(capacity=capacity, dtypes=types, shapes=shapes)
        else:
            queue = data_flow_ops.FIFOQueue(capacity=capacity, dtypes=types, shapes=shapes)
        enq = _enqueue_ops(queue, tensors_list_list, enqueue_many, keep_input)
        if threads is not None:
            enq = enq * threads
        queue_runner_impl.add_queue_runner(queue_runner_impl.QueueRunner(queue, enq))
        if shuffle:
            full = math_ops.cast(math_ops.maximum(0, queue.size() - min_after_dequeue), _dtypes.float32) * (
                1.0 / (capacity - min_after_dequeue))
            _summary_scalar("fraction_over_%d_of_%d_full" % (min_after_dequeue, capacity - min_after_dequeue), full)
        else:
            _summary_scalar("fraction_of_%d_full" % capacity,
                            math_ops.cast(queue.size(), _dtypes.float32) * (1.0 / capacity))
        out_name = scope  # the batch's own name, as TensorFlow names it ("batch:0")
        if allow_smaller_final_batch:
            dequeued = queue.dequeue_up_to(batch_size, name=out_name)
        else:
            dequeued = queue.dequeue_many(batch_size, name=out_name)
        return _as_original_type(originals, dequeued)


def batch(tensors, batch_size, num_threads=1, capacity=32, enqueue_many=False, shapes=None, dynamic_pad=False,
          allow_smaller_final_batch=False, shared_name=None, name=None):
    """Batches of `batch_size` of `tensors` (a list or a dict) through a FIFOQueue (a PaddingFIFOQueue with
    dynamic_pad) filled by num_threads threads."""
    return _batch([_as_tensor_list(tensors)], tensors, batch_size, None, capacity, enqueue_many, shapes,
                  dynamic_pad, allow_smaller_final_batch, name, "batch", num_threads)


def maybe_batch(tensors, keep_input, batch_size, num_threads=1, capacity=32, enqueue_many=False, shapes=None,
                dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    """batch() enqueuing only the elements whose keep_input is true."""
    return _batch([_as_tensor_list(tensors)], tensors, batch_size, keep_input, capacity, enqueue_many, shapes,
                  dynamic_pad, allow_smaller_final_batch, name, "batch", num_threads)


def batch_join(tensors_list, batch_size, capacity=32, enqueue_many=False, shapes=None, dynamic_pad=False,
               allow_smaller_final_batch=False, shared_name=None, name=None):
    """Batches from several lists of tensors, one enqueuing thread per list."""
    return _batch([_as_tensor_list(t) for t in tensors_list], tensors_list[0], batch_size, None, capacity,
                  enqueue_many, shapes, dynamic_pad, allow_smaller_final_batch, name, "batch_join", None)


def maybe_batch_join(tensors_list, keep_input, batch_size, capacity=32, enqueue_many=False, shapes=None,
                     dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    return _batch([_as_tensor_list(t) for t in tensors_list], tensors_list[0], batch_size, keep_input, capacity,
                  enqueue_many, shapes, dynamic_pad, allow_smaller_final_batch, name, "batch_join", None)


def shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, num_threads=1, seed=None, enqueue_many=False,
                  shapes=None, allow_smaller_final_batch=False, shared_name=None, name=None):
    """Random batches through a RandomShuffleQueue holding at least min_after_dequeue elements between
    dequeues (until the input ends)."""
    return _batch([_as_tensor_list(tensors)], tensors, batch_size, None, capacity, enqueue_many, shapes, False,
                  allow_smaller_final_batch, name, "shuffle_batch", num_threads, True, min_after_dequeue, seed)


def maybe_shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, keep_input, num_threads=1, seed=None,
                        enqueue_many=False, shapes=None, allow_smaller_final_batch=False, shared_name=None,
                        name=None):
    return _batch([_as_tensor_list(tensors)], tensors, batch_size, keep_input, capacity, enqueue_many, shapes,
                  False, allow_smaller_final_batch, name, "shuffle_batch", num_threads, True, min_after_dequeue,
                  seed)


def shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, seed=None, enqueue_many=False,
                       shapes=None, allow_smaller_final_batch=False, shared_name=None, name=None):
    return _batch([_as_tensor_list(t) for t in tensors_list], tensors_list[0], batch_size, None, capacity,
                  enqueue_many, shapes, False, allow_smaller_final_batch, name, "shuffle_batch_join", None, True,
                  min_after_dequeue, seed)


def maybe_shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, keep_input, seed=None,
                             enqueue_many=False, shapes=None, allow_smaller_final_batch=False, shared_name=None,
                             name=None):
    return _batch([_as_tensor_list(t) for t in tensors_list], tensors_list[0], batch_size, keep_input, capacity,
                  enqueue_many, shapes, False, allow_smaller_final_batch, name, "shuffle_batch_join", None, True,
                  min_after_dequeue, seed)
