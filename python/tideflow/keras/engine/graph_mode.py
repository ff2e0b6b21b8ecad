"""Keras in TF1 graph mode (no eager execution), as TF 1.x Keras ran it: one Session per graph (the
default session if one is open, else Keras's own, `backend.get_session()`), whose uninitialized
variables are initialized on first use; fit/evaluate/predict feed each batch to a train/test/predict graph
built once per model (the model's layers called again on placeholders with training=True or False, sharing
the weights; compiled loss, metrics and the optimizer's update in the same graph).

Note [keras graph-mode steps]
The steps are the same Python functions as in eager mode (Model.train_step...): here they are called once
on placeholders of the first batch's shapes, with the batch dimension left unknown, and the resulting
fetches are run by Session.run for every batch. Metric variables are local variables reset by a cached
assign group."""
import weakref

import numpy as np

from ... import _core
from ...eager import function as _function
from ...framework import dtypes as _dtypes
from ...framework import ops as _ops
from ...framework import session as _session
from ...ops import array_ops, state_ops
from ...util import nest

__all__ = ["get_session", "GraphStep", "run_in_session"]

_sessions = weakref.WeakKeyDictionary()  # graph -> Keras's own session


def get_session(graph=None):
    """The session Keras runs in: the default session when one is open on this graph, else one of its own
    (made once per graph). Variables not yet initialized are initialized."""
    graph = graph or _ops.get_default_graph()
    sess = _ops.get_default_session()
    if sess is None or sess.graph is not graph:
        sess = _sessions.get(graph)
        if sess is None:
            sess = _sessions[graph] = _session.Session(graph=graph)
    _initialize(sess, graph)
    return sess


def _initialize(sess, graph):
    done = graph.__dict__.setdefault("_keras_initialized", set())
    todo = [v for v in graph.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES) +
            graph.get_collection(_ops.GraphKeys.LOCAL_VARIABLES) if id(v) not in done]
    if not todo:
        return
    with graph.as_default():
        flags = sess.run([state_ops.is_variable_initialized(v) for v in todo])
        uninit = [v for v, f in zip(todo, flags) if not f]
        if uninit:
            sess.run(state_ops.variables_initializer(uninit))
    done.update(id(v) for v in todo)


def _placeholder_like(a, name):
    a = np.asarray(a) if not hasattr(a, "dtype") or not hasattr(a, "shape") else a
    dt = _dtypes.as_dtype(a.dtype)
    if dt is _dtypes.float64:
        dt = _dtypes.float32
    shape = [None] + list(a.shape[1:])
    return array_ops.placeholder(dt, shape, name=name)


class GraphStep:
    """One of a model's steps as a graph: built on the first batch, then one Session.run per batch."""

    def __init__(self, model, step, kind):
        self._model, self._step, self._kind = model, step, kind
        self._built = None
        self.graph = _ops.get_default_graph()

    def __call__(self, batch):
        with self.graph.as_default():
            if self._built is None:
                self._build(batch)
            phs, fetches = self._built
            feed = {}
            for p, a in zip(phs, nest.flatten(batch)):
                if p is not None:
                    feed[p] = a.numpy() if hasattr(a, "numpy") else a
            sess = get_session(self.graph)
            out, _ = sess.run(fetches, feed)
        return out

    def _build(self, batch):
        flat = nest.flatten(batch)
        phs = [None if a is None else _placeholder_like(a, "%s_input_%d" % (self._kind, i)) for i, a in enumerate(flat)]
        structured = nest.pack_sequence_as(batch, [p if p is not None else None for p in phs])
        g = _ops.get_default_graph()
        start = g._c.num_nodes()
        with _ops.name_scope(self._kind + "_function"):
            fetches = self._step(structured)
        # Program order and the updates nobody fetches (optimizer, metric totals, moving averages), as a
        # tf.function orders them (Note [tf.function]).
        must_run = [g._op(i) for i in _function._order_program(g, start)]
        self._built = (phs, (fetches, must_run))


def reset_metrics(model):
    """Zeroes the metric variables through the model's session (graph mode)."""
    group = model.__dict__.get("_graph_reset")
    variables = [v for m in model.metrics for v in m.variables]
    if group is None or group[0] != len(variables):
        with model._graph_of_steps().as_default():
            ops = [state_ops.assign(v, array_ops.zeros(v.shape, v.dtype)) for v in variables]
        group = model.__dict__["_graph_reset"] = (len(variables), ops)
    if group[1]:
        get_session(model._graph_of_steps()).run(group[1])


def run_in_session(graph, fetches):
    return get_session(graph).run(fetches)


def executing_eagerly():
    return _core.executing_eagerly()
