"""TensorFlow 1.x seed rules: a graph-level seed plus per-op seeds."""
from . import ops as _ops

DEFAULT_GRAPH_SEED = 87654321


def set_random_seed(seed):
    _ops.get_default_graph().seed = seed


def get_seed(op_seed):
    """Returns (seed, seed2) for a random op. (0, 0) means: draw a nondeterministic seed at run time."""
    g = _ops.get_default_graph()
    global_seed = g.seed
    if global_seed is not None:
        if op_seed is None:
            op_seed = g._c.num_nodes()  # TF uses the graph's op count: deterministic per program
        seeds = (int(global_seed), int(op_seed))
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, int(op_seed))
    else:
        seeds = (0, 0)
    if seeds == (0, 0) and (global_seed is not None or op_seed is not None):
        seeds = (0, 2**31 - 1)  # TF avoids (0, 0), which means "nondeterministic"
    return seeds
