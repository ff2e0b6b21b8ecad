"""TensorFlow 1.x seed rules: a graph-level seed plus per-op seeds; eagerly, TensorFlow 2's: a global seed
plus an op seed per call, the next value of random.Random(global seed) (TF's internal_operation_seed)."""
import random as _random

from .. import _core
from . import ops as _ops

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1


def _truncate_seed(seed):
    return seed % _MAXINT32


_eager_seed = [None, None]  # the eager global seed and its random.Random


def set_eager_seed(seed):
    """The eager global seed. It also restarts the cached random kernels (Note [eager execution] in
    cpp/eager.h), so a program that sets the seed draws the same numbers every time."""
    if seed is None:
        _eager_seed[:] = [None, None]
    else:
        try:
            hash(seed)
        except TypeError:
            seed = int(seed)
        _eager_seed[:] = [seed, _random.Random(seed)]
    _core.clear_kernel_cache()


def eager_seed():
    return _eager_seed[0]


def set_random_seed(seed):
    if _core.executing_eagerly():
        set_eager_seed(seed)
    else:
        _ops.get_default_graph().seed = seed


def get_seed(op_seed):
    """Returns (seed, seed2) for a random op. (0, 0) means: draw a nondeterministic seed at run time."""
    eager = _core.executing_eagerly()
    if eager:
        global_seed = _eager_seed[0]
    else:
        g = _ops.get_default_graph()
        global_seed = g.seed
    if global_seed is not None:
        if op_seed is None and eager:
            op_seed = _eager_seed[1].randint(0, _MAXINT32)
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
