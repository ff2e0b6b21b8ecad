"""The global step: an int64 scalar variable "global_step" in the GLOBAL_STEP collection."""
import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.ops import GraphKeys
from ..ops import state_ops

__all__ = ["global_step", "get_global_step", "create_global_step", "get_or_create_global_step",
           "assert_global_step"]

GLOBAL_STEP_READ_KEY = "global_step_read_op_cache"


def global_step(sess, global_step_tensor):
    """The global step's current value as a Python int."""
    return int(sess.run(global_step_tensor))


def assert_global_step(global_step_tensor):
    if not isinstance(global_step_tensor, (state_ops.Variable, _ops.Tensor)):
        raise TypeError('Existing "global_step" must be a Variable or Tensor: %s.' % global_step_tensor)
    if not global_step_tensor.dtype.is_integer:
        raise TypeError('Existing "global_step" does not have integer type: %s' % global_step_tensor.dtype)
    shape = global_step_tensor.shape
    if shape.ndims != 0 and shape.is_fully_defined():
        raise TypeError('Existing "global_step" is not scalar: %s' % shape)


def get_global_step(graph=None):
    """The global step variable of `graph` (default graph): the single entry of the GLOBAL_STEP collection,
    else the variable named "global_step", else None."""
    graph = graph or _ops.get_default_graph()
    coll = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(coll) > 1:
        raise ValueError("Multiple tensors in the global_step collection: %s" % coll)
    if coll:
        step = coll[0]
    else:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except (KeyError, ValueError):
            return None
        step = getattr(graph, "_variables_by_op", {}).get(step.op._id, step)
    assert_global_step(step)
    return step


def create_global_step(graph=None):
    """Creates the global step (int64, starts at 0, not trainable); ValueError if one exists."""
    graph = graph or _ops.get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    if _ops._core.executing_eagerly():  # an eager variable, found through the collection as TF 1.x does
        with _ops.name_scope(None):
            v = state_ops.Variable(np.int64(0), trainable=False, name="global_step", dtype=_dtypes.int64)
        graph.add_to_collections([GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP], v)
        return v
    with graph.as_default(), graph.control_dependencies(None), graph.name_scope(None):
        return state_ops.Variable(np.int64(0), trainable=False, name="global_step", dtype=_dtypes.int64,
                                  collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None):
    graph = graph or _ops.get_default_graph()
    step = get_global_step(graph)
    if step is None:
        step = create_global_step(graph)
    return step
