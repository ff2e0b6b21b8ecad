"""The fuzzer's seeds: every op node that ordinary programs build, recorded with its inputs' dtypes and
shapes and its attributes.

The registry rows do not describe attributes, so the fuzzer learns them from use: it builds every op-table
row (tests/op_table/), their gradients, and the small programs in SEED_PROGRAMS below (the ops no row
builds: random draws, variable updates, optimizers, summaries, control flow), and records every node of
the graphs they leave (gradient ops included). A registered op nothing builds still gets cases, with no
attributes and random inputs (tests/fuzz/gen.py). The corpus is JSON: attribute values are tagged with
their kind (encode/decode below) so a case can be written out, replayed and minimized in another process.
"""
import json
import math

import numpy as np


# ---- attribute values <-> JSON ----

def encode(v):
    from tideflow import _core
    if isinstance(v, (bool, str)) or v is None:
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return {"f": repr(f)} if not math.isfinite(f) else f
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, _core.DType):
        return {"dtype": str(v).split(".")[-1]}
    if isinstance(v, _core.Shape):
        return {"shape": v.dims}
    if isinstance(v, np.ndarray):
        if v.dtype == object:
            return {"strings": [x.hex() if isinstance(x, bytes) else str(x).encode().hex() for x in v.ravel()],
                    "dims": list(v.shape)}
        return {"array": encode_values(v), "dtype": v.dtype.name, "dims": list(v.shape)}
    if isinstance(v, tuple) and len(v) == 3 and v[0] == "strings":
        return {"strings": [x.hex() for x in v[2]], "dims": list(v[1])}
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    return {"repr": repr(v)}


def encode_values(a):
    flat = a.ravel().tolist()
    if a.dtype.kind == "f":
        return [x if math.isfinite(x) else repr(x) for x in flat]
    return flat


def decode_values(vals, dtype):
    if np.dtype(dtype).kind == "f":
        return [float(x) if isinstance(x, str) else x for x in vals]
    return vals


def decode(v):
    from tideflow import _core
    if isinstance(v, list):
        return [decode(x) for x in v]
    if not isinstance(v, dict):
        return v
    if "f" in v:
        return float(v["f"])
    if "bytes" in v:
        return bytes.fromhex(v["bytes"])
    if "dtype" in v and "array" not in v:
        return getattr(_core.DType, v["dtype"])
    if "shape" in v:
        return _core.Shape(v["shape"])
    if "strings" in v:
        return ("strings", list(v["dims"]), [bytes.fromhex(x) for x in v["strings"]])
    if "array" in v:
        return np.array(decode_values(v["array"], v["dtype"]), dtype=v["dtype"]).reshape(v["dims"])
    return None


# ---- programs that build the ops no op-table row builds ----

def _seed_programs(tf):
    v = lambda shape=(3, 2), dt=None: tf.Variable(np.ones(shape, dt or np.float32))  # noqa: E731

    def optimizers():
        x = tf.placeholder(tf.float32, [3, 2])
        w = v()
        loss = tf.reduce_sum(tf.matmul(x, tf.transpose(w)))
        for opt in (tf.train.GradientDescentOptimizer(0.1), tf.train.MomentumOptimizer(0.1, 0.9),
                    tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True), tf.train.AdamOptimizer(),
                    tf.train.AdagradOptimizer(0.1), tf.train.RMSPropOptimizer(0.1),
                    tf.train.RMSPropOptimizer(0.1, momentum=0.5, centered=True), tf.train.AdadeltaOptimizer(),
                    tf.train.FtrlOptimizer(0.1), tf.train.FtrlOptimizer(0.1, l2_shrinkage_regularization_strength=0.1),
                    tf.train.ProximalGradientDescentOptimizer(0.1), tf.train.ProximalAdagradOptimizer(0.1),
                    tf.train.AdagradDAOptimizer(0.1, tf.train.get_or_create_global_step())):
            opt.minimize(loss, var_list=[w])

    def state():
        x = tf.placeholder(tf.float32, [3, 2])
        w = v()
        tf.assign(w, x), tf.assign_add(w, x), tf.assign_sub(w, x)
        tf.is_variable_initialized(w), tf.report_uninitialized_variables([w])
        w.initialized_value()
        idx = tf.constant([0, 2])
        upd = tf.ones([2, 2])
        for f in (tf.scatter_update, tf.scatter_add, tf.scatter_sub, tf.scatter_mul, tf.scatter_div,
                  tf.scatter_min, tf.scatter_max):
            f(w, idx, upd)
        nd = tf.constant([[0], [2]])
        for f in (tf.scatter_nd_update, tf.scatter_nd_add, tf.scatter_nd_sub):
            f(w, nd, upd)
        w.scatter_nd_min(nd, upd), w.scatter_nd_max(nd, upd)
        tf.count_up_to(tf.Variable(0, dtype=tf.int32), 3)

    def random():
        x = tf.placeholder(tf.float32, [3, 2])
        tf.random_uniform([2, 3], seed=1), tf.random_uniform([2], 0, 10, dtype=tf.int32, seed=2)
        tf.random_normal([3], seed=3), tf.truncated_normal([2, 2], seed=4)
        tf.random_shuffle(x, seed=5), tf.multinomial(tf.log([[0.5, 0.5]]), 3, seed=6)

    def arrays():
        x = tf.placeholder(tf.float32, [3, 2])
        i = tf.constant([1, 3, 1, 0])
        tf.bincount(i), tf.unique(i), tf.unique_with_counts(i), tf.setdiff1d(i, [1])
        tf.invert_permutation([2, 0, 1]), tf.unravel_index([5, 1], [2, 3])
        tf.searchsorted([1.0, 2.0, 3.0], [2.5]), tf.searchsorted([1.0, 2.0], [2.0], side="right")
        tf.histogram_fixed_width([1.0, 2.0, 5.0], [0.0, 5.0], nbins=4)
        tf.nn.in_top_k([[0.1, 0.9]], [1], 1), tf.broadcast_dynamic_shape([2, 1], [1, 3])
        tf.nn.top_k(x, 1)

    def debug():
        x = tf.placeholder(tf.float32, [3, 2])
        tf.Assert(tf.constant(True), [x]), tf.print(x), tf.Print(x, [x]), tf.strings.format("{}", [x]) \
            if hasattr(tf, "strings") else None
        tf.check_numerics(x, "m")

    def summaries():
        x = tf.placeholder(tf.float32, [3, 2])
        tf.summary.merge([tf.summary.scalar("s", tf.reduce_sum(x)), tf.summary.histogram("h", x),
                          tf.summary.image("i", tf.zeros([1, 2, 2, 3])), tf.summary.text("t", tf.constant("a"))])

    def control():
        x = tf.placeholder(tf.float32, [3, 2])
        tf.cond(tf.constant(True), lambda: x + 1, lambda: x - 1)
        tf.while_loop(lambda i: i < 3, lambda i: i + 1, [tf.constant(0)])
        tf.no_op(), tf.group(x), tf.identity_n([x, x]) if hasattr(tf, "identity_n") else None
        tf.placeholder_with_default(x, [3, 2])

    return [optimizers, state, random, arrays, debug, summaries, control]


def _rows(tf):
    from op_table import ROWS
    progs = []
    for row in ROWS:
        for shapes in row.shapes[:2]:
            for dt in row.dtypes[:2]:
                def build(row=row, shapes=shapes, dt=dt):
                    arrays = row.inputs(np.random.RandomState(0), shapes, dt)
                    phs = [tf.placeholder(tf.as_dtype(a.dtype), a.shape) for a in arrays]
                    out = row.build(tf, *phs)
                    outs = [o for o in (out if isinstance(out, (list, tuple)) else [out])
                            if getattr(o, "dtype", None) is not None and o.dtype.is_floating]
                    fl = [p for p in phs if p.dtype.is_floating]
                    if row.grad and outs and fl:
                        tf.gradients(outs, fl)
                progs.append(build)
    return progs


def _const_value(g, t):
    """A small constant input's value (shapes, axes, sizes matter to an op), else None."""
    if t.op.type != "Const" or t.dtype.name in ("string", "variant"):
        return None
    a = g._c.node_attrs(t.op._id)["value"]
    return encode_values(a) if a.size <= 16 else None


def build_corpus():
    """Returns {op_type: [seed, ...]}: seed = {"inputs": [[dtype, dims or None, is_ref, const value or None]],
    "attrs": {name: encoded value}}."""
    import tideflow as tf

    seen = set()
    corpus = {}
    for prog in _seed_programs(tf) + _rows(tf):
        g = tf.Graph()
        with g.as_default():
            try:
                prog()
            except Exception:  # a program this build cannot run: keep what it built
                pass
        for op in g.get_operations():
            try:
                attrs = g._c.node_attrs(op._id)
                seed = {"inputs": [[t.dtype.name, t.shape.as_list() if t.shape.ndims is not None else None,
                                    t.op.type == "VariableV2", _const_value(g, t)] for t in op.inputs],
                        "attrs": {k: encode(v) for k, v in sorted(attrs.items())}}
            except Exception:  # a value the encoder does not know: skip the seed
                continue
            key = json.dumps([op.type, seed], sort_keys=True)
            if key not in seen and len(corpus.get(op.type, ())) < 40:
                seen.add(key)
                corpus.setdefault(op.type, []).append(seed)
    return corpus
