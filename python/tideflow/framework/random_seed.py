"""TensorFlow 1.x seed rules: a graph-level seed plus per-op seeds; eagerly, TensorFlow 2's (a global seed
plus an op seed drawn per call, tideflow.eager.context)."""
from .. import _core
from . import ops as _ops

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1


def _truncate_seed(seed):
    return seed % _MAXINT32


def set_random_seed(seed):
    if _core.executing_eagerly():
        from ..eager import context
        context.set_global_seed(seed)
    else:
        _ops.get_default_graph().seed = seed


def get_seed(op_seed):
    """Returns (seed, seed2) for a random op. (0, 0) means: draw a nondeterministic seed at run time."""
    eager = _core.executing_eagerly()
    if eager:
        from ..eager import context
        global_seed = context.global_seed()
    else:
        g = _ops.get_default_graph()
        global_seed = g.seed
    if global_seed is not None:
        if op_seed is None and eager:
            op_seed = context.internal_operation_seed()
        elif op_seed is None:
            # As TF 2.x graphs do: seeded random ops get 0, 1, 2... in creation order, so adding
            # non-random ops does not change the numbers.
            op_seed = g._seed_offset
            g._seed_offset += 1
        seeds = (_truncate_seed(int(global_seed)), _truncate_seed(int(op_seed)))
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, _truncate_seed(int(op_seed)))
    else:
        seeds = (0, 0)
    if seeds == (0, 0) and (global_seed is not None or op_seed is not None):
        seeds = (0, 2**31 - 1)  # TF avoids (0, 0), which means "nondeterministic"
    return seeds
