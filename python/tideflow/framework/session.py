"""tf.Session: runs fetches through the C++ executor. Fetch structures and feeds are parsed here."""
import collections

import numpy as np

from .. import _core
from . import dtypes as _dtypes
from . import errors
from . import ops as _ops


# tf.ConfigProto, tf.GPUOptions, tf.RunOptions, tf.RunMetadata are TensorFlow's protobuf messages
# (tf_messages.py; real protobuf classes when the package is installed), loaded on first use. Session
# honours the thread counts of a ConfigProto (one cap for the pool, intra-op work and BLAS); the other
# settings are accepted and kept, RunOptions' tracing is not recorded and RunMetadata stays empty.
_MESSAGES = ("ConfigProto", "GPUOptions", "RunOptions", "RunMetadata", "GraphOptions", "OptimizerOptions")


def __getattr__(name):
    if name in _MESSAGES:
        from . import tf_messages  # lazy: protobuf's classes are built on first use
        return getattr(tf_messages, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


class _Fetcher:
    """Flattens a fetch structure into unique tensors and target ops, and rebuilds it from results."""
    __slots__ = ("keys", "targets", "build", "prepared")

    def __init__(self, graph, fetches):
        keys, index, targets = [], {}, []

        def flat(f):
            if f is None:
                raise TypeError("Fetch argument None has invalid type <class 'NoneType'>")
            if isinstance(f, (list, tuple)) and not hasattr(f, "_as_graph_element"):
                subs = [flat(x) for x in f]
                if type(f) is list:
                    return lambda r: [s(r) for s in subs]
                if type(f) is tuple:
                    return lambda r: tuple(s(r) for s in subs)
                return lambda r: type(f)(*[s(r) for s in subs])  # namedtuple
            if isinstance(f, collections.abc.Mapping):
                subs = {k: flat(v) for k, v in f.items()}
                cls = type(f)
                return lambda r: cls((k, s(r)) for k, s in subs.items())
            try:
                el = graph.as_graph_element(f)
            except TypeError as e:
                raise TypeError("Fetch argument %r has invalid type %r, must be a string or Tensor. (%s)"
                                % (f, type(f), e)) from None
            except (KeyError, ValueError) as e:
                raise ValueError("Fetch argument %r cannot be interpreted as a Tensor. (%s)" % (f, e)) from None
            if isinstance(el, _ops.Operation):
                targets.append(el._id)
                return lambda r: None
            k = el._key()
            if k not in index:
                index[k] = len(keys)
                keys.append(k)
            i = index[k]
            return lambda r: r[i]

        self.build = flat(fetches)
        self.keys = keys
        self.targets = targets
        self.prepared = {}  # feed keys -> _core.Prepared of the fetcher's session


def _feed_value(tensor, value):
    dt = tensor.dtype
    if type(value) is np.ndarray and dt._np is not None and dt is not _dtypes.string and dt is not _dtypes.bfloat16:
        # The common case first: an array (no Tensor, no Python ints that could overflow, no bfloat16).
        arr = value if value.dtype == dt._np else np.asarray(value, dtype=dt._np)
        return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)
    if isinstance(value, (_ops.Tensor, _ops.Operation)):
        raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed values include "
                        "Python scalars, strings, lists, numpy ndarrays, or TensorHandles. For reference, the "
                        "tensor object was %s which was passed to the argument `feed_dict` with key %s."
                        % (value, tensor))
    if dt is _dtypes.string:
        return _ops._string_value(value) if np.ndim(value) else _ops._string_bytes(
            value.item() if isinstance(value, np.ndarray) else value)
    try:
        arr = np.asarray(value, dtype=dt._np if dt._np is not None else _dtypes._np_for(dt))
    except OverflowError:  # NumPy's untyped error for a Python int the dtype cannot hold
        raise ValueError("Can't feed %s to %s (%s): a value is out of range for %s"
                         % (str(value)[:100], tensor.name, dt.name, dt.name)) from None
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    return arr if dt is not _dtypes.bfloat16 else _dtypes._core_value(arr, dt)


def _result(a):
    if isinstance(a, bytes):  # a string scalar (e.g. a serialized Summary) comes back as bytes
        return a
    return a[()] if a.ndim == 0 else a  # scalars come back as NumPy scalars, like TensorFlow


_CPU = "/job:localhost/replica:0/task:0/device:CPU:0"


def _traced(run, vals, run_metadata):
    """`run(vals)` (a traced run of the executor: outputs and node timings) with the timings written into
    RunMetadata.step_stats (Note [step stats] in cpp/executor.cc); returns the outputs."""
    out, stats = run(vals)
    dev = run_metadata.step_stats.dev_stats.add()
    dev.device = _CPU
    for name, op, inputs, start, end, thread in stats:
        ns = dev.node_stats.add()
        ns.node_name = name
        ns.all_start_micros = start
        ns.op_start_rel_micros = 0
        ns.op_end_rel_micros = end - start
        ns.all_end_rel_micros = end - start
        ns.timeline_label = "%s = %s(%s)" % (name, op, ", ".join(inputs))
        ns.thread_id = thread
    return out


class BaseSession:
    """What Session and InteractiveSession share: running a graph's nodes on tideflow's executor."""

    def __init__(self, target="", graph=None, config=None):
        self._graph = graph if graph is not None else _ops.get_default_graph()
        self._config = config
        inter = getattr(config, "inter_op_parallelism_threads", 0) or 0
        intra = getattr(config, "intra_op_parallelism_threads", 0) or 0
        self._c = _core.Session(self._graph._c, int(inter), int(intra))
        self._closed = False
        self._fetch_cache = {}
        self._default_ctx = None

    graph = property(lambda self: self._graph, doc="The graph this session runs.")
    graph_def = property(lambda self: self._graph.as_graph_def() if hasattr(self._graph, "as_graph_def") else None,
                         doc="The session's graph as a GraphDef.")
    sess_str = property(lambda self: "", doc='The target: "" (in-process).')

    def _fetcher(self, fetches):
        # A flat list (`run([train_op, loss])`, the usual loop) is cached under a tuple marked as a list.
        key = (list, *fetches) if type(fetches) is list else fetches
        try:
            f = self._fetch_cache.get(key)
        except TypeError:  # unhashable structure (nested lists, a dict)
            return _Fetcher(self._graph, fetches)
        if f is None:
            f = _Fetcher(self._graph, fetches)
            if len(self._fetch_cache) < 1024:
                self._fetch_cache[key] = f
        return f

    def _feeds(self, feed_dict):
        keys, vals = [], []
        g = self._graph
        for k, v in _flatten_feeds(feed_dict):
            try:
                t = g.as_graph_element(k, allow_operation=False)
            except Exception as e:
                raise TypeError("Cannot interpret feed_dict key as Tensor: %s" % e) from None
            keys.append(t._key())
            vals.append(_feed_value(t, v))
        return keys, vals

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs the graph to compute `fetches`, with the values of `feed_dict` in place of their tensors.

        Only the nodes the fetches depend on run, each once per call; variables keep their values across
        calls.

        Args:
          fetches: a graph element (Tensor, Operation, SparseTensor-free names such as "loss:0" or
            "train_op") or any nesting of lists, tuples, dicts and namedtuples of them.
          feed_dict: {tensor or its name: value}; a value is anything NumPy converts (its shape must be
            compatible with the tensor's static shape), placeholders included.
          options, run_metadata: a RunOptions whose trace_level is above NO_TRACE, with a RunMetadata, fills
            `run_metadata.step_stats` with each node's timing on the CPU device (NodeExecStats: node_name,
            all_start_micros, op_end_rel_micros, timeline_label "name = Op(inputs)", thread_id), which
            tf.python.client.timeline turns into a Chrome trace. Other options are accepted.

        Returns:
          The fetches' structure with each tensor replaced by its value: a NumPy array (a NumPy scalar for
          a 0-d tensor, bytes for a string scalar), None for an Operation.

        Raises:
          RuntimeError: the session is closed.
          TypeError: a fetch or feed key is not a graph element of this session's graph.
          ValueError: a fed value's shape or dtype does not fit its tensor.
          tf.errors.InvalidArgumentError: an unfed placeholder the fetches need, or a kernel's run-time
            check failed (the message names the node).
          tf.errors.FailedPreconditionError: an uninitialized variable was read.
          tf.errors.OpError (its subclasses): any other failure of a node.
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        f = self._fetcher(fetches)
        if feed_dict:
            fk, fv = self._feeds(feed_dict)
            key = tuple(fk)
        else:
            fk, fv, key = (), [], ()
        p = f.prepared.get(key)
        if p is None:
            p = self._c.prepare(fk, f.keys, f.targets)
            if len(f.prepared) < 16:
                f.prepared[key] = p
        if run_metadata is not None and getattr(options, "trace_level", 0):
            return f.build([_result(a) for a in _traced(lambda v: self._c.run_prepared_traced(p, v), fv, run_metadata)])
        return f.build([_result(a) for a in self._c.run_prepared(p, fv)])

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        """A function `f(*feed_values)` that runs `fetches` with `feed_list`'s tensors fed positionally:
        Session.run with the fetch and feed analysis done once. With `accept_options=True` it also takes
        `options=` and `run_metadata=` as Session.run does (a trace fills `run_metadata.step_stats`).

        Raises:
          RuntimeError: the session is closed. TypeError: (when called) the wrong number of values.
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        f = _Fetcher(self._graph, fetches)
        feed_tensors = [self._graph.as_graph_element(t, allow_operation=False) for t in (feed_list or [])]
        call = _core.make_callable(self._c, [t._key() for t in feed_tensors], f.keys, f.targets)
        build = f.build

        def run_callable(*args, **kwargs):
            if len(args) != len(feed_tensors):
                raise TypeError("Expected %d feed values, got %d" % (len(feed_tensors), len(args)))
            unexpected = sorted(k for k in kwargs if not accept_options or k not in ("options", "run_metadata"))
            if unexpected:  # as TensorFlow's callable: options only when made with accept_options=True
                raise TypeError("run_callable() got unexpected keyword arguments: %s" % ", ".join(unexpected))
            options, run_metadata = kwargs.get("options"), kwargs.get("run_metadata")
            vals = [_feed_value(t, v) for t, v in zip(feed_tensors, args)]
            if run_metadata is not None and getattr(options, "trace_level", 0):
                return build([_result(a) for a in _traced(call.call_traced, vals, run_metadata)])
            return build([_result(a) for a in call(vals)])

        return run_callable

    def close(self):
        """Frees the session's resources (variable values); later run calls raise RuntimeError."""
        if not self._closed:
            self._closed = True
            # Graph-held state such as queues (ops/data_flow_ops.py) cancels the runs waiting on it first.
            for hook in list(getattr(self._graph, "_on_session_close", ())):
                hook()
            self._c.close()

    def as_default(self):
        """A context manager making this session the default one (Tensor.eval, Operation.run) inside it;
        unlike `with sess:`, leaving it does not close the session."""
        return _ops._default_session_stack.get_controller(self)

    def __enter__(self):
        if self._default_ctx is None:
            self._default_ctx = self.as_default()
            self._default_ctx.__enter__()
        return self

    def __exit__(self, exc_type, exc_value, tb):
        if self._default_ctx is not None:
            self._default_ctx.__exit__(exc_type, exc_value, tb)
            self._default_ctx = None
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def list_devices(self):
        """The devices the session runs on: the one CPU device."""
        return [_Device("/job:localhost/replica:0/task:0/device:CPU:0", "CPU")]


class _Device(collections.namedtuple("_Device", ["name", "device_type"])):
    pass


class Session(BaseSession):
    """A TensorFlow 1.x session: runs the nodes of one graph (tf.Session(target="", graph=None,
    config=None)).

    Args:
      target: accepted for TensorFlow's signature (in-process execution only).
      graph: the graph to run; the default graph when None.
      config: a tf.ConfigProto; its inter_op_parallelism_threads / intra_op_parallelism_threads cap the
        executor's threads.

    `with tf.Session() as sess:` makes it the default session and closes it at the end.
    """


class InteractiveSession(BaseSession):
    """A Session that installs itself as the default on construction."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        self._ctx = self.as_default()
        self._ctx.__enter__()

    def close(self):
        super().close()
        if getattr(self, "_ctx", None) is not None:
            try:
                self._ctx.__exit__(None, None, None)
            finally:
                self._ctx = None


def _flatten_feeds(feed_dict):
    """(key, value) pairs with nested tuple keys (an LSTMStateTuple of placeholders or zero states) paired
    element by element with their equally nested values, as TF's nest.flatten_dict_items does."""
    for k, v in feed_dict.items():
        if isinstance(k, tuple) and not hasattr(k, "_as_graph_element"):
            from ..util import nest  # lazy: only tuple feeds need it (an import per run costs 0.5 us)
            flat_k = nest.flatten(k)
            if not nest.is_nested(v) or len(nest.flatten(v)) != len(flat_k):
                raise ValueError("Could not flatten dictionary. Key had %d elements, but value had %d elements. "
                                 "Key: %s, value: %s." % (len(flat_k), len(nest.flatten(v)) if nest.is_nested(v)
                                                          else 1, k, v))
            yield from zip(flat_k, nest.flatten(v))
        else:
            yield k, v
