"""TF 1.x queues: tf.FIFOQueue, tf.RandomShuffleQueue, tf.PaddingFIFOQueue (also tf.queue.*).

Note [queues as Python state]
A queue's elements live in a Python object (_QueueState) that the graph owns; every queue operation
(enqueue, dequeue_many, close, size...) is one stateful PyFunc node (ops/script_ops.py) whose function
works on that object under its condition variable. Waiting (a full queue for an enqueue, too few elements
for a dequeue) is Condition.wait, which releases the GIL, and runs block only their own thread: a run
executes its nodes on its caller thread (pool helpers join in but never are the only way forward), so a
queue runner's blocked enqueue never stops the training thread's dequeue. Attempts are served in arrival
order, as TensorFlow's queues serve them: each side has a line of tickets and only the head takes or puts
elements, one at a time, so dequeue_many(n) accumulates across producers and never needs n <= capacity.
TensorFlow keeps one queue per session; here the graph holds one, and Session.close cancels the waits on
it (CancelledError) and empties it (Graph._on_session_close), so a program that closes a session and opens
another on the same graph starts with fresh queues, as in TensorFlow. Two sessions open at once on one
graph share its queues (a difference from TensorFlow).
"""
import collections
import threading

import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import errors as _errors
from ..framework import ops as _ops
from ..framework import random_seed as _random_seed
from ..framework import tensor_shape as _tensor_shape
from . import script_ops

__all__ = ["QueueBase", "FIFOQueue", "RandomShuffleQueue", "PaddingFIFOQueue", "PriorityQueue"]

_WAIT_S = 0.5  # waits also wake this often, so a lost notification can never leave a run blocked for good


class _QueueState:
    """The elements and waiting lines of one queue (Note [queues as Python state])."""

    def __init__(self, kind, name, capacity, dtypes, shapes, min_after_dequeue=0, seed=None):
        self.kind, self.name, self.capacity = kind, name, capacity
        self.dtypes, self.shapes = dtypes, shapes
        self.min_after_dequeue = min_after_dequeue
        self.seed = seed
        self.cv = threading.Condition()
        self._reset_locked()
        self.gen = 0

    def _reset_locked(self):
        self.items = collections.deque()
        self.closed = False
        self.cancel_pending = False
        self.enq_line = collections.deque()
        self.deq_line = collections.deque()
        self.rng = np.random.RandomState(self.seed)

    def reset(self):
        """Session.close: wakes every waiter with CancelledError and leaves an empty open queue."""
        with self.cv:
            self.gen += 1
            self._reset_locked()
            self.cv.notify_all()

    # ---- helpers, all with self.cv held ----
    def _full(self):
        return self.capacity is not None and self.capacity >= 0 and len(self.items) >= self.capacity

    def _can_take(self):
        if not self.items:
            return False
        return self.closed or self.kind != "shuffle" or len(self.items) > self.min_after_dequeue

    def _take(self):
        if self.kind == "shuffle":
            i = self.rng.randint(len(self.items))
            self.items[i], self.items[-1] = self.items[-1], self.items[i]
            return self.items.pop()
        return self.items.popleft()

    def _closed_error(self):
        return _errors.CancelledError(None, None, "%s '%s' is closed." % (self._type(), self.name))

    def _type(self):
        return {"fifo": "FIFOQueue", "shuffle": "RandomShuffleQueue", "padding": "PaddingFIFOQueue"}[self.kind]

    def _check_gen(self, gen):
        if self.gen != gen:
            raise _errors.CancelledError(None, None, "The queue operation on '%s' was cancelled: its session "
                                         "was closed." % self.name)

    def _leave(self, line, ticket):
        try:
            line.remove(ticket)
        except ValueError:
            pass  # a reset emptied the line
        self.cv.notify_all()

    # ---- operations ----
    def enqueue(self, elements):
        """Puts the elements (tuples of arrays) in, waiting for room; in order with other enqueues."""
        with self.cv:
            if self.closed:
                raise self._closed_error()
            gen, ticket = self.gen, object()
            self.enq_line.append(ticket)
            try:
                i = 0
                while i < len(elements):
                    self._check_gen(gen)
                    if self.closed and self.cancel_pending:
                        raise self._closed_error()
                    if self.enq_line and self.enq_line[0] is ticket and not self._full():
                        self.items.append(elements[i])
                        i += 1
                        self.cv.notify_all()
                        continue
                    self.cv.wait(_WAIT_S)
            finally:
                self._leave(self.enq_line, ticket)

    def dequeue(self, n, allow_smaller):
        """Takes n elements (n None: one), waiting for them; in order with other dequeues."""
        want = 1 if n is None else n
        with self.cv:
            gen, ticket = self.gen, object()
            self.deq_line.append(ticket)
            got = []
            try:
                while len(got) < want:
                    self._check_gen(gen)
                    head = self.deq_line[0] is ticket
                    if head and self._can_take():
                        got.append(self._take())
                        self.cv.notify_all()
                        continue
                    if head and self.closed:  # nothing more will come for this attempt
                        if allow_smaller and got:
                            break
                        for e in reversed(got):  # TensorFlow puts a failed attempt's elements back
                            self.items.appendleft(e)
                        raise _errors.OutOfRangeError(
                            None, None, "%s '%s' is closed and has insufficient elements (requested %d, current "
                            "size %d)" % (self._type(), self.name, want, len(self.items)))
                    self.cv.wait(_WAIT_S)
            finally:
                self._leave(self.deq_line, ticket)
        return got

    def close(self, cancel_pending_enqueues):
        with self.cv:
            self.closed = True
            self.cancel_pending = self.cancel_pending or bool(cancel_pending_enqueues)
            self.cv.notify_all()

    def size(self):
        with self.cv:
            return len(self.items)

    def is_closed(self):
        with self.cv:
            return self.closed


def _graph_states(graph):
    states = graph.__dict__.get("_queue_states")
    if states is None:
        states = graph._queue_states = []
        hooks = graph.__dict__.get("_on_session_close")
        if hooks is None:
            hooks = graph._on_session_close = []
        hooks.append(lambda: [s.reset() for s in list(states)])
    return states


def _as_shape_list(shapes, n, unknown_rank_ok):
    if shapes is None:
        return [_tensor_shape.TensorShape(None)] * n
    if not isinstance(shapes, (list, tuple)) or (shapes and not isinstance(shapes[0], (list, tuple,
                                                                                      _tensor_shape.TensorShape))
                                                 and not (shapes[0] is None and len(shapes) == n and n > 1)):
        shapes = [shapes]
    shapes = [_tensor_shape.TensorShape(s) for s in shapes]
    if len(shapes) != n:
        raise ValueError("Queue shapes must have the same length as dtypes")
    if not unknown_rank_ok and any(s.ndims is None for s in shapes):
        raise ValueError("Queue shapes must have a known rank")
    return shapes


def _np_value(x, dtype):
    # A copy: the kernel's input arrays may share memory with tensors the run frees or reuses afterwards.
    return np.array(x, dtype=object if dtype is _dtypes.string else dtype.as_numpy_dtype, copy=True)


class QueueBase:
    """The operations every queue has; the graph nodes are PyFunc nodes over one _QueueState."""

    def __init__(self, kind, dtypes, shapes, names, capacity, default_name, name, min_after_dequeue=0, seed=None):
        if _ops._core.executing_eagerly():
            raise RuntimeError("Queues are not supported by tideflow when eager execution is enabled. "
                               "Instead, please use tf.data to get data into your model.")
        if not isinstance(dtypes, (list, tuple)):
            dtypes = [dtypes]
        self._dtypes = [_dtypes.as_dtype(d) for d in dtypes]
        self._shapes = _as_shape_list(shapes, len(self._dtypes), kind != "padding")
        if names is not None:
            if not isinstance(names, (list, tuple)):
                names = [names]
            if len(names) != len(self._dtypes):
                raise ValueError("Queue names must have the same length as dtypes")
        self._names = list(names) if names is not None else None
        g = _ops.get_default_graph()
        # The queue's own node: a string constant naming the queue; `queue_ref` as TensorFlow has one.
        self._queue_ref = _ops.constant_op(np.array(b"queue", dtype=object), name=name or default_name)
        full = self._queue_ref.op.name
        self._name = full.split("/")[-1]
        self._state = _QueueState(kind, full, capacity, self._dtypes, self._shapes, min_after_dequeue, seed)
        _graph_states(g).append(self._state)

    # ---- properties ----
    queue_ref = property(lambda self: self._queue_ref)
    name = property(lambda self: self._name)
    dtypes = property(lambda self: list(self._dtypes))
    shapes = property(lambda self: list(self._shapes))
    names = property(lambda self: self._names)

    @staticmethod
    def from_list(index, queues):
        raise NotImplementedError("QueueBase.from_list is not supported by tideflow")

    # ---- element structure ----
    def _flatten(self, vals):
        if self._names is not None:
            if not isinstance(vals, dict):
                raise ValueError("You must enqueue a dictionary in a Queue with names")
            if sorted(self._names) != sorted(vals.keys()):
                raise ValueError("Keys in dictionary to enqueue do not match names of Queue.  Dictionary: (%s),"
                                 "Queue: (%s)" % (sorted(vals.keys()), sorted(self._names)))
            vals = [vals[k] for k in self._names]
        elif isinstance(vals, dict):
            raise ValueError("Queue must have names to enqueue a dictionary")
        elif not isinstance(vals, (list, tuple)):
            vals = [vals]
        if len(vals) != len(self._dtypes):
            raise ValueError("Expected %d components to enqueue, got %d" % (len(self._dtypes), len(vals)))
        out = []
        for i, (v, dt) in enumerate(zip(vals, self._dtypes)):
            t = _ops.convert_to_tensor(v, dtype=dt, name="component_%d" % i)
            out.append(t)
        return out

    def _pack(self, tensors):
        if self._names is not None:
            return dict(zip(self._names, tensors))
        if len(tensors) == 1:
            return tensors[0]
        return tensors

    def _element_shape_check(self, tensors, batched):
        for t, s in zip(tensors, self._shapes):
            ts = t.shape
            if batched:
                if ts.ndims == 0:
                    raise ValueError("Shape %s must have rank at least 1" % ts)
                ts = ts[1:] if ts.ndims is not None else ts
            if not ts.is_compatible_with(s):
                raise ValueError("Shapes %s and %s are incompatible" % (ts, s))

    def _run_check(self, arr, i):
        s = self._shapes[i]
        if s.ndims is None:
            return
        if arr.ndim != s.ndims or any(d is not None and d != a for d, a in zip(s.as_list(), arr.shape)):
            raise _errors.InvalidArgumentError(
                None, None, "Shape mismatch in tuple component %d. Expected %s, got %s"
                % (i, s.as_list(), list(arr.shape)))

    # ---- operations ----
    def enqueue(self, vals, name=None):
        return self._enqueue_node(vals, False, None, name or "%s_enqueue" % self._name)

    def enqueue_many(self, vals, name=None):
        return self._enqueue_node(vals, True, None, name or "%s_EnqueueMany" % self._name)

    def _enqueue_where(self, vals, keep, many, name=None):
        """tf.train.maybe_batch's enqueue: only the elements whose `keep` (a bool scalar, or one per row
        with `many`) is true."""
        return self._enqueue_node(vals, many, keep, name or "%s_%s" % (self._name,
                                                                       "EnqueueMany" if many else "enqueue"))

    def _enqueue_node(self, vals, many, keep, name):
        tensors = self._flatten(vals)
        self._element_shape_check(tensors, many)
        q = self

        def fn(*arrs):
            if keep is not None:
                mask, arrs = np.asarray(arrs[-1], dtype=bool), arrs[:-1]
                if mask.ndim == 0 and not mask:
                    return
            arrs = [_np_value(a, dt) for a, dt in zip(arrs, q._dtypes)]
            if not many:
                for i, a in enumerate(arrs):
                    q._run_check(a, i)
                q._state.enqueue([tuple(arrs)])
                return
            n = None
            for i, a in enumerate(arrs):
                if a.ndim == 0:
                    raise _errors.InvalidArgumentError(None, None, "Shape mismatch in tuple component %d. "
                                                       "Expected [batch,...], got scalar" % i)
                if n is None:
                    n = a.shape[0]
                elif a.shape[0] != n:
                    raise _errors.InvalidArgumentError(
                        None, None, "Shape mismatch in tuple component %d. Expected batch size %d, got %d"
                        % (i, n, a.shape[0]))
            rows = range(n)
            if keep is not None and mask.ndim == 1:
                if mask.shape[0] != n:
                    raise _errors.InvalidArgumentError(None, None, "keep_input has %d entries for a batch of %d"
                                                       % (mask.shape[0], n))
                rows = np.nonzero(mask)[0]
            elements = []
            for j in rows:
                elem = tuple(a[j, ...] for a in arrs)  # 0-d arrays, strings included
                for i, e in enumerate(elem):
                    q._run_check(e, i)
                elements.append(elem)
            q._state.enqueue(elements)
        inputs = tensors + ([keep] if keep is not None else [])
        return script_ops.py_func(fn, inputs, [], name=name)

    def _dequeue_op(self, n, allow_smaller, name):
        state = self
        dts = list(self._dtypes)
        inputs = [] if n is None else [_ops.convert_to_tensor(n, dtype=_dtypes.int32, name="n")]

        def fn(*args):
            count = None
            if args:
                count = int(np.asarray(args[0]))
                if count < 0:
                    raise _errors.InvalidArgumentError(None, None, "Request n must be >= 0: %d" % count)
            got = state._state.dequeue(count, allow_smaller)
            if count is None:
                return [np.asarray(e) for e in got[0]]
            return [state._batch([e[i] for e in got], i, count) for i in range(len(dts))]

        outs = script_ops.py_func(fn, inputs, dts, name=name)
        static_n = None
        if n is not None and not allow_smaller and isinstance(n, (int, np.integer)):
            static_n = int(n)
        for t, s in zip(outs, self._shapes):
            if n is None:
                t.set_shape(s)
            elif s.ndims is not None:
                t.set_shape(_tensor_shape.TensorShape([static_n]).concatenate(s))
        return self._pack(outs)

    def _batch(self, parts, i, count):
        dt = self._dtypes[i]
        if not parts:  # dequeue_many(0): an empty batch of the component's shape
            shape = [0] + [d or 0 for d in (self._shapes[i].as_list() if self._shapes[i].ndims is not None else [])]
            return np.zeros(shape, dtype=object if dt is _dtypes.string else dt.as_numpy_dtype)
        return np.stack(parts)

    def dequeue(self, name=None):
        return self._dequeue_op(None, False, name or "%s_Dequeue" % self._name)

    def dequeue_many(self, n, name=None):
        return self._dequeue_op(n, False, name or "%s_DequeueMany" % self._name)

    def dequeue_up_to(self, n, name=None):
        return self._dequeue_op(n, True, name or "%s_DequeueUpTo" % self._name)

    def close(self, cancel_pending_enqueues=False, name=None):
        st = self._state
        return script_ops.py_func(lambda: st.close(cancel_pending_enqueues), [], [],
                                  name=name or "%s_Close" % self._name)

    def is_closed(self, name=None):
        st = self._state
        return script_ops.py_func(lambda: np.bool_(st.is_closed()), [], _dtypes.bool,
                                  name=name or "%s_IsClosed" % self._name)

    def size(self, name=None):
        st = self._state
        t = script_ops.py_func(lambda: np.int32(st.size()), [], _dtypes.int32, name=name or "%s_Size" % self._name)
        t.set_shape([])
        return t


class FIFOQueue(QueueBase):
    """tf.FIFOQueue / tf.queue.FIFOQueue: elements come out in the order they went in."""

    def __init__(self, capacity, dtypes, shapes=None, names=None, shared_name=None, name="fifo_queue"):
        super().__init__("fifo", dtypes, shapes, names, capacity, "fifo_queue", name)


class PaddingFIFOQueue(QueueBase):
    """tf.PaddingFIFOQueue: a FIFOQueue whose shapes may have None dimensions; dequeue_many pads each
    component with zeros (empty strings) to the largest element of the batch."""

    def __init__(self, capacity, dtypes, shapes, names=None, shared_name=None, name="padding_fifo_queue"):
        if shapes is None:
            raise ValueError("PaddingFIFOQueue requires shapes")
        super().__init__("padding", dtypes, shapes, names, capacity, "padding_fifo_queue", name)
        if any(s.ndims is None for s in self._shapes):
            raise ValueError("Shapes must be fully defined in rank for PaddingFIFOQueue: %s" % self._shapes)

    def _batch(self, parts, i, count):
        if not parts:
            return super()._batch(parts, i, count)
        dt = self._dtypes[i]
        rank = parts[0].ndim
        shape = [len(parts)] + [max(p.shape[d] for p in parts) for d in range(rank)]
        out = np.zeros(shape, dtype=object if dt is _dtypes.string else dt.as_numpy_dtype)
        if dt is _dtypes.string:
            out[...] = b""
        for j, p in enumerate(parts):
            out[(j,) + tuple(slice(0, k) for k in p.shape)] = p if p.ndim else p.item()
        return out


class RandomShuffleQueue(QueueBase):
    """tf.RandomShuffleQueue: dequeues a random element; until closed, keeps at least min_after_dequeue
    elements behind each dequeue so the remaining ones stay mixed."""

    def __init__(self, capacity, min_after_dequeue, dtypes, shapes=None, names=None, seed=None, shared_name=None,
                 name="random_shuffle_queue"):
        seed1, seed2 = _random_seed.get_seed(seed)
        if seed1 is None and seed2 is None:
            rs = None
        else:
            rs = ((int(seed1 or 0) & 0xFFFFFFFF) * 1000003 + (int(seed2 or 0) & 0xFFFFFFFF)) % (2 ** 32)
        if min_after_dequeue >= capacity:
            raise ValueError("min_after_dequeue (%d) must be less than capacity (%d)" % (min_after_dequeue, capacity))
        super().__init__("shuffle", dtypes, shapes, names, capacity, "random_shuffle_queue", name,
                         min_after_dequeue=int(min_after_dequeue), seed=rs)


class PriorityQueue:
    """tf.PriorityQueue: not supported by tideflow (constructing one raises NotImplementedError)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("tf.PriorityQueue is not supported by tideflow")
