"""Whether ops run eagerly, and the eager side of seeds and name scopes.

Note [eager mode] (cpp/bindings_eager.cc) keeps the flags in C++, so the operator fast path reads them
without calling Python: the process-wide default set by tf.enable_eager_execution(), graph mode inside
any Graph.as_default() (so tf.Graph() and tf.Session keep working inside an eager program, and
tf.function traces in graph mode), and the eager_mode()/graph_mode() blocks tests use."""
import contextlib
import threading

from .. import _core
from ..framework import ops as _ops
from ..framework import random_seed as _random_seed
from ..framework import tensor_shape as _tensor_shape
from . import tensor as _tensor

executing_eagerly = _core.executing_eagerly

def _graph_mode_used():
    """Whether the program has already built graph ops outside any explicit graph."""
    g = _ops._DefaultGraphStack._global_default
    return g is not None and g._c.num_nodes() > 0


def enable_eager_execution(config=None, device_policy=None, execution_mode=None):
    """Turns eager execution on for the rest of the program (TF 1.x). Like TensorFlow, it must come before
    any graph op is built outside an explicit `tf.Graph().as_default()`."""
    if _core._eager_default():
        return
    if _graph_mode_used():
        raise ValueError("tf.enable_eager_execution must be called at program startup.")
    if config is not None:
        _apply_config(config)
    _core._set_eager_default(True)


def disable_eager_execution():
    """Back to graph mode (tf.compat.v1.disable_eager_execution)."""
    _core._set_eager_default(False)


def _apply_config(config):
    n = getattr(config, "intra_op_parallelism_threads", 0) or getattr(config, "inter_op_parallelism_threads", 0)
    if n:
        _core.set_thread_cap(int(n))


@contextlib.contextmanager
def eager_mode():
    """Runs the block eagerly, even inside a graph's as_default() (TensorFlow's context.eager_mode())."""
    saved = _core._mode(), _core._graph_depth()
    _core._set_mode(1)
    _core._set_graph_depth(0)
    try:
        yield
    finally:
        _core._set_mode(saved[0])
        _core._set_graph_depth(saved[1])


@contextlib.contextmanager
def graph_mode():
    """Builds graph ops in the block, even when eager execution is on (TensorFlow's context.graph_mode())."""
    saved = _core._mode()
    _core._set_mode(0)
    try:
        yield
    finally:
        _core._set_mode(saved)


class _ThreadState(threading.local):
    def __init__(self):
        super().__init__()
        self.scope = ""  # the eager name scope, "a/b/" (names eager variables)


_thread = _ThreadState()

# TensorFlow 2's eager seed rules live with the graph ones (framework/random_seed.py).
set_global_seed = _random_seed.set_eager_seed
global_seed = _random_seed.eager_seed


# ---- name scopes: eager ops take no names, but eager variables are named under the open scopes ----

def scope_name():
    return _thread.scope


class NameScope:
    """The eager name scope: "a/b/" while open. A name ending in "/" is absolute; None or "" is the root."""
    __slots__ = ("_name", "_old")

    def __init__(self, name):
        self._name = name

    def __enter__(self):
        name = self._name
        old = self._old = _thread.scope
        if not name:
            new = ""
        elif isinstance(name, bytes):
            new = old + name.decode() + "/"
        elif name[-1] == "/":
            new = name
        else:
            new = old + name + "/"
        _thread.scope = new
        return new

    def __exit__(self, *exc):
        _thread.scope = self._old


name_scope = NameScope


# ---- TensorFlow 2 behavior ----

def enable_v2_behavior():
    """TensorFlow 2's behavior: eager execution, tensors compared elementwise with ==, TensorShape indexing
    to ints (tf.compat.v1.enable_v2_behavior)."""
    enable_eager_execution()
    _tensor.enable_tensor_equality()
    _tensor_shape.enable_v2_tensorshape()


def disable_v2_behavior():
    disable_eager_execution()
    _tensor.disable_tensor_equality()
    _tensor_shape.disable_v2_tensorshape()


# ---- tf.config ----

def set_intra_op_parallelism_threads(n):
    """One cap serves every thread source (Note [one thread pool]); 0 means as many as cores."""
    _core.set_thread_cap(int(n))


set_inter_op_parallelism_threads = set_intra_op_parallelism_threads


def get_intra_op_parallelism_threads():
    return _core.thread_cap()


get_inter_op_parallelism_threads = get_intra_op_parallelism_threads

_run_functions_eagerly = [False]


def run_functions_eagerly(run_eagerly):
    """tf.config.run_functions_eagerly: tf.function calls the Python function itself (for debugging)."""
    _run_functions_eagerly[0] = bool(run_eagerly)


def functions_run_eagerly():
    return _run_functions_eagerly[0]
