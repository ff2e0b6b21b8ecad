"""tf.GradientTape and the tfe gradient functions. Eagerly the tape lives in C++ (Note [tapes] in
cpp/eager.h) and replays the same per-op gradient rules tf.gradients uses; while a graph is built (a
tf.function being traced) the tape marks which nodes it saw and gradient() is tf.gradients over them."""
import enum
import functools
import inspect
import weakref

import numpy as np

from .. import _core
from .. import tf_logging
from ..framework import ops as _ops
from ..ops import array_ops, gradients_impl
from . import nest
from . import tensor as _tensor

EagerTensor = _tensor.EagerTensor

__all__ = ["GradientTape", "UnconnectedGradients", "gradients_function", "value_and_gradients_function",
           "implicit_gradients", "implicit_value_and_gradients", "make_vjp"]

# Eager variables by id, for watched_variables() (the C++ tape knows ids only).
_variables_by_id = weakref.WeakValueDictionary()


def _register_variable(v):
    _variables_by_id[v._handle._id] = v


class UnconnectedGradients(enum.Enum):
    """What a source that the target does not depend on gets: None, or zeros of its shape."""
    NONE = "none"
    ZERO = "zero"


def _zero_unconnected(u):
    if isinstance(u, UnconnectedGradients):
        return u is UnconnectedGradients.ZERO
    if u in ("none", "zero"):
        return u == "zero"
    raise ValueError("Unknown value for unconnected_gradients: %r" % (u,))


def _is_eager_variable(x):
    return getattr(x, "_is_eager_variable", False)


def _source(x):
    """What the C++ tape takes for a source or a watched value: an eager tensor or a variable handle."""
    if type(x) is EagerTensor:
        return x
    if _is_eager_variable(x):
        return x._handle
    raise ValueError("Passed in object of type %s, not tf.Tensor or tf.Variable or ExtensionType." % type(x))


def _target(x):
    if type(x) is EagerTensor:
        return x
    if _is_eager_variable(x):
        return x._handle
    return _ops.convert_to_tensor(x)


class GradientTape:
    """Records operations for automatic differentiation, as tf.GradientTape.

    Inside `with tf.GradientTape() as tape:` every op reading a watched tensor is recorded; trainable
    variables read inside are watched automatically (unless `watch_accessed_variables=False`).
    `tape.gradient(target, sources)` returns d(sum target)/d(source) in the structure of `sources`, None
    (or zeros, with `unconnected_gradients=tf.UnconnectedGradients.ZERO`) where the target does not depend
    on a source. A tape computes one gradient unless `persistent=True`; tapes nest, and a tape records the
    gradient computations of the tapes inside it, which gives higher derivatives.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = bool(persistent)
        self._watch_accessed_variables = bool(watch_accessed_variables)
        self._recording = False
        self._released = False
        self._eager = None  # decided when first entered: eager tape or graph-mode tape
        self._tape = None
        self._graph = None
        self._intervals = []  # graph mode: [first node id, end node id or None] while recording
        self._graph_watched = []

    # ---- recording ----
    def __enter__(self):
        self._push_tape()
        return self

    def __exit__(self, typ, value, traceback):
        if self._recording:
            self._pop_tape()

    def _core_tape(self):
        if self._tape is None and not self._released:
            self._tape = _core.Tape(self._persistent, self._watch_accessed_variables)
        return self._tape

    def _push_tape(self):
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter an already-active "
                             "tape.")
        if self._eager is None:
            self._eager = _core.executing_eagerly()
        if self._eager:
            if self._core_tape() is None:
                self._tape = _core.Tape(self._persistent, self._watch_accessed_variables)
                self._released = False
            _core.push_tape(self._tape)
        else:
            self._graph = _ops.get_default_graph()
            self._intervals.append([self._graph._c.num_nodes(), None])
        self._recording = True

    def _pop_tape(self):
        if not self._recording:
            raise ValueError("Tape is not recording.")
        if self._eager:
            _core.pop_tape(self._tape)
        else:
            self._intervals[-1][1] = self._graph._c.num_nodes()
        self._recording = False

    def stop_recording(self):
        """A block whose ops this tape does not record."""
        return _StopRecording(self)

    def reset(self):
        """Forgets everything recorded, as if the block were exited and entered again with a new tape."""
        recording = self._recording
        if recording:
            self._pop_tape()
        self._tape = None
        self._released = False
        self._intervals = []
        self._graph_watched = []
        if recording:
            self._push_tape()

    def watch(self, tensor):
        """Records ops on `tensor` (tensors and variables, or nested structures of them) from now on."""
        for t in nest.flatten(tensor):
            if self._eager is False or (self._eager is None and not _core.executing_eagerly()):
                self._graph_watched.append(t)
                continue
            s = _source(t)
            dt = t.dtype
            if not dt.is_floating:
                tf_logging.warning("The dtype of the watched tensor must be floating (e.g. tf.float32), got %r", dt)
            self._core_tape().watch(s)

    def watched_variables(self):
        if not self._eager or self._tape is None:
            return ()
        vs = [_variables_by_id.get(i) for i in sorted(self._tape.watched_variable_ids())]
        return tuple(v for v in vs if v is not None)

    # ---- gradients ----
    def _check_usable(self):
        if self._released or (self._eager and self._tape is None):
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of gradients "
                               "(or jacobians)")
        if self._recording and not self._persistent:
            self._pop_tape()

    def _release(self):
        if not self._persistent and self._eager:
            self._tape.release()
            self._tape = None
            self._released = True

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients=UnconnectedGradients.NONE):
        """d(sum of `target`)/d(each source), weighted by `output_gradients` when given."""
        zero = _zero_unconnected(unconnected_gradients)
        if self._eager is None:
            self._eager = _core.executing_eagerly()
        if not self._eager:
            return self._graph_gradient(target, sources, output_gradients, zero)
        self._check_usable()
        flat_targets = [_target(t) for t in nest.flatten(target)]
        flat_sources = [_source(s) for s in nest.flatten(sources)]
        if output_gradients is None:
            ogs = [None] * len(flat_targets)
        else:
            ogs = nest.flatten(output_gradients)
            if len(ogs) != len(flat_targets):
                raise ValueError("target and output_gradients must have the same number of elements: %d vs %d"
                                 % (len(flat_targets), len(ogs)))
            ogs = [None if g is None else _ops.convert_to_tensor(g, dtype=t.dtype) for g, t in zip(ogs, flat_targets)]
        try:
            grads = self._tape.gradient(flat_targets, flat_sources, ogs, zero)
        finally:
            self._release()
        return nest.pack_sequence_as(sources, grads)

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE, parallel_iterations=None,
                 experimental_use_pfor=True):
        """The Jacobian of `target` with respect to each source: shape target.shape + source.shape. One
        backward pass per element of the target (TensorFlow vectorizes them with pfor)."""
        zero = _zero_unconnected(unconnected_gradients)
        if not (self._eager if self._eager is not None else _core.executing_eagerly()):
            return self._graph_jacobian(target, sources, zero)
        self._check_usable()
        t = target if type(target) is EagerTensor else _ops.convert_to_tensor(target)
        flat_sources = nest.flatten(sources)
        srcs = [_source(s) for s in flat_sources]
        n = t._num_elements()
        rows = [[] for _ in srcs]
        try:
            for i in range(n):
                onehot = np.zeros(n, t.dtype.as_numpy_dtype)
                onehot[i] = 1
                g = self._tape.gradient([t], srcs, [_tensor.from_array(onehot.reshape(t._shape_tuple()))], zero)
                for k, gk in enumerate(g):
                    rows[k].append(gk)
        finally:
            self._release()
        out = []
        for s, r in zip(flat_sources, rows):
            shape = list(t._shape_tuple()) + s.shape.as_list()
            if all(x is None for x in r):
                out.append(None)
                continue
            r = [array_ops.zeros(s.shape, s.dtype) if x is None else x for x in r]
            out.append(array_ops.reshape(array_ops.stack(r), shape) if r else
                       array_ops.zeros(shape, s.dtype))
        return nest.pack_sequence_as(sources, out)

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """For target [b, y...] and source [b, x...] whose batch rows are independent: the Jacobian of each
        row with respect to the same row of the source, shape [b, y..., x...]."""
        zero = _zero_unconnected(unconnected_gradients)
        if not (self._eager if self._eager is not None else _core.executing_eagerly()):
            raise NotImplementedError("batch_jacobian inside tf.function is not supported yet; call it eagerly.")
        self._check_usable()
        t = target if type(target) is EagerTensor else _ops.convert_to_tensor(target)
        tshape = t._shape_tuple()
        if len(tshape) < 1 or len(source.shape) < 1:
            raise ValueError("Need first dimension of target shape (%s) and source shape (%s) to match."
                             % (t.shape, source.shape))
        if tshape[0] != source.shape[0]:
            raise ValueError("Need first dimension of target shape (%s) and source shape (%s) to match."
                             % (t.shape, source.shape))
        b = tshape[0]
        m = int(np.prod(tshape[1:])) if len(tshape) > 1 else 1
        src = _source(source)
        cols = []
        try:
            for j in range(m):
                og = np.zeros((b, m), t.dtype.as_numpy_dtype)
                og[:, j] = 1
                g, = self._tape.gradient([t], [src], [_tensor.from_array(og.reshape(tshape))], zero)
                cols.append(g)
        finally:
            self._release()
        sshape = source.shape.as_list()
        if all(c is None for c in cols):
            return None
        cols = [array_ops.zeros(sshape, source.dtype) if c is None else c for c in cols]
        return array_ops.reshape(array_ops.stack(cols, axis=1), [b] + list(tshape[1:]) + sshape[1:])

    # ---- graph mode (inside tf.function or a Graph's as_default()) ----
    def _stops(self, graph, xs):
        """Nodes this tape did not see: created before it, after it, or while it was stopped."""
        n = graph._c.num_nodes()
        seen = np.zeros(n, bool)
        for a, b in self._intervals:
            seen[a:(n if b is None else b)] = True
        for x in xs:
            seen[x.op._id] = True
        return [graph._op(int(i)).outputs[0] for i in np.nonzero(~seen)[0] if graph._op(int(i)).outputs]

    def _graph_gradient(self, target, sources, output_gradients, zero):
        if self._recording and not self._persistent:
            self._pop_tape()
        flat_targets = [_ops.convert_to_tensor(t) for t in nest.flatten(target)]
        flat_sources = nest.flatten(sources)
        xs = [_ops.convert_to_tensor(s, as_ref=True) for s in flat_sources]
        ogs = None if output_gradients is None else nest.flatten(output_gradients)
        graph = _ops.get_default_graph()
        grads = gradients_impl.gradients(flat_targets, xs, grad_ys=ogs, stop_gradients=self._stops(graph, xs),
                                         unconnected_gradients="zero" if zero else "none")
        return nest.pack_sequence_as(sources, grads)

    def _graph_jacobian(self, target, sources, zero):
        t = _ops.convert_to_tensor(target)
        flat = array_ops.reshape(t, [-1])
        n = t.shape.num_elements()
        if n is None:
            raise ValueError("jacobian inside tf.function needs a target of known size")
        flat_sources = nest.flatten(sources)
        rows = [self._graph_gradient(flat[i], flat_sources, None, zero) for i in range(n)]
        out = []
        for k, s in enumerate(flat_sources):
            r = [row[k] for row in rows]
            if all(x is None for x in r):
                out.append(None)
                continue
            r = [array_ops.zeros_like(_ops.convert_to_tensor(s)) if x is None else x for x in r]
            out.append(array_ops.reshape(array_ops.stack(r), t.shape.as_list() + s.shape.as_list()))
        return nest.pack_sequence_as(sources, out)


class _StopRecording:
    def __init__(self, tape):
        self._t = tape

    def __enter__(self):
        if not self._t._recording:
            raise RuntimeError("Trying to stop recording a tape which is not recording.")
        self._t._pop_tape()

    def __exit__(self, *exc):
        self._t._push_tape()


# ---------------------------------------------------------------------------------------------------
# tf.custom_gradient in eager mode


def custom_gradient_eager(f, args, kwargs):
    """TensorFlow's eager custom_gradient: f runs (its ops recorded as usual), then its results are recorded
    as produced by one op whose gradient is grad_fn, from the inputs and the trainable variables f read."""
    watcher = _core.Tape(False, True)
    _core.push_tape(watcher)
    try:
        result, grad_fn = f(*args, **kwargs)
    finally:
        _core.pop_tape(watcher)
    flat_args = [_ops.convert_to_tensor(a) if not _is_eager_variable(a) else a for a in nest.flatten(args)]
    variables = [v for v in (_variables_by_id.get(i) for i in sorted(watcher.watched_variable_ids()))
                 if v is not None and all(v is not a for a in flat_args)]
    watcher.release()
    params = inspect.signature(grad_fn).parameters
    takes_variables = "variables" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
    if variables and not takes_variables:
        raise TypeError("@tf.custom_gradient grad_fn must accept keyword argument 'variables', since function "
                        "uses variables: %s" % (variables,))
    flat_result = [_ops.convert_to_tensor(r) for r in nest.flatten(result)]
    inputs = [a._handle if _is_eager_variable(a) else a for a in flat_args] + [v._handle for v in variables]

    def backward(out_grads):
        dys = [g if g is not None else None for g in out_grads]
        if variables:
            dxs, dvs = grad_fn(*dys, variables=variables)
            dvs = list(dvs)
            if len(dvs) != len(variables):
                raise ValueError("Must return gradient for each variable from @custom_gradient grad_fn.")
        else:
            dxs, dvs = grad_fn(*dys), []
        dxs = nest.flatten(dxs) if isinstance(dxs, (list, tuple)) else [dxs]
        if len(dxs) != len(flat_args):
            raise ValueError("custom_gradient function expected to return %d gradients, but returned %d instead."
                             % (len(flat_args), len(dxs)))
        return [None if g is None else _ops.convert_to_tensor(g) for g in dxs + dvs]

    outs = _core.record_custom_gradient(inputs, flat_result, backward)
    return nest.pack_sequence_as(result, outs)


gradients_impl._eager_custom_gradient = custom_gradient_eager


# ---------------------------------------------------------------------------------------------------
# tf.contrib.eager's function transformations (TensorFlow 1.x eager)


def _positions(f, params, args):
    if params is None:
        try:
            spec = inspect.getfullargspec(f)
        except TypeError:
            return list(range(len(args)))
        names = spec.args[1:] if inspect.ismethod(f) else spec.args
        return list(range(len(args))) if spec.varargs or not names else list(range(len(names)))
    out = []
    names = inspect.getfullargspec(f).args
    for p in params:
        if isinstance(p, str):
            if p not in names:
                raise ValueError("Function %s has no parameter named %s" % (f.__name__, p))
            out.append(names.index(p))
        else:
            out.append(int(p))
    return out


def make_vjp(f, params=None, persistent=True):
    """Returns fn(*args) -> (f(*args), vjp) where vjp(dy=None) gives the gradients for `params`."""

    def decorated(*args, **kwds):
        positions = _positions(f, params, args)
        tape = GradientTape(persistent=persistent)
        with tape:
            args = [_ops.convert_to_tensor(a) if i in positions else a for i, a in enumerate(args)]
            sources = [args[i] for i in positions]
            for s in sources:
                tape.watch(s)
            result = f(*args, **kwds)
            if result is None:
                raise ValueError("Cannot differentiate a function that returns None; did you forget to return a "
                                 "value from %s?" % f.__name__)

        def vjp(dy=None):
            if dy is not None:
                dy = [_ops.convert_to_tensor(x) for x in nest.flatten(dy)]
            return tape.gradient(nest.flatten(result), sources, output_gradients=dy)
        return result, vjp
    return decorated


def value_and_gradients_function(f, params=None):
    """fn(*args, dy=None) -> (f(*args), [d f / d arg for the differentiated args])."""

    @functools.wraps(f)
    def decorated(*args, **kwds):
        dy = kwds.pop("dy", None)
        if kwds:
            raise ValueError("Functions to be differentiated cannot receive keyword arguments.")
        val, vjp = make_vjp(f, params)(*args)
        return val, vjp(dy=dy)
    return decorated


val_and_grad_function = value_and_gradients_function


def gradients_function(f, params=None):
    """fn(*args, dy=None) -> the gradients of f with respect to its arguments (all, or `params`)."""

    @functools.wraps(f)
    def decorated(*args, **kwds):
        return value_and_gradients_function(f, params)(*args, **kwds)[1]
    return decorated


def implicit_value_and_gradients(f):
    """fn(*args) -> (f(*args), [(gradient, variable)]) over the trainable variables f read, in creation
    order."""

    @functools.wraps(f)
    def decorated(*args, **kwds):
        tape = GradientTape(persistent=False)
        with tape:
            end = f(*args, **kwds)
            if end is None:
                raise ValueError("Cannot differentiate a function that returns None; did you forget to return a "
                                 "value from %s?" % f.__name__)
        variables = tape.watched_variables()
        if not variables:
            raise ValueError("No trainable variables were accessed while the function was being computed.")
        grads = tape.gradient(nest.flatten(end), list(variables))
        return end, list(zip(grads, variables))
    return decorated


implicit_val_and_grad = implicit_value_and_gradients


def implicit_gradients(f):
    """fn(*args) -> [(gradient, variable)] over the trainable variables f read."""

    @functools.wraps(f)
    def decorated(*args, **kwds):
        return implicit_value_and_gradients(f)(*args, **kwds)[1]
    return decorated


implicit_grad = implicit_gradients
