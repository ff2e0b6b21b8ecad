"""Fuzz cases: a seeded generator that walks every registered op.

A case is plain JSON (so it can be written out, replayed in a fresh process and minimized):
    {"op": "Fill", "inputs": [{"dtype": "int32", "dims": [1], "mode": "const", "values": [4611686018427387904]},
                              {"dtype": "float32", "dims": [], "mode": "feed", "values": [1.0]}],
     "attrs": {...}}                       (attribute values encoded as in corpus.py)
`mode` says how the input reaches the op: "const" (a Const node, so shape functions see its value),
"feed" (a placeholder of that static shape, fed), "unknown" (a placeholder of unknown shape, fed), "partial"
(some static dims unknown, fed), "ref" (a variable holding the values, for ops that update variables).

Case `i` of seed `s` is a function of (s, i) alone: a failure is reproduced from its two numbers. Each case
starts from a seed node that ordinary programs build (corpus.py) and applies a few mutations chosen to break
assumptions: absurd sizes (2**31, 2**62, 2**63 - 1, negative), empty and rank-0 inputs, wrong dtypes, unknown
shapes, NaN and infinities, integer extremes, missing or mistyped attributes.
"""
import math
import random

import numpy as np

DTYPES = ("float32", "float64", "int32", "int64", "bool", "string")  # extended from tideflow at load time
FEEDABLE = set(DTYPES)
MAX_ELEMENTS = 64  # inputs stay small: a case costs microseconds, and sizes come from values and attributes

INTS = (0, 1, -1, 2, 3, 4, -2, 5, 7, 8, 2**31 - 1, 2**31, -2**31, 2**32 + 1, 2**62, 2**63 - 1, -2**63, 2**64,
        -2**63 - 1, 10**6)
FLOATS = (0.0, -0.0, 1.0, -1.0, 0.5, 2.0, math.nan, math.inf, -math.inf, 1e300, -1e300, 5e-324, 1e38, 3.5)
STRINGS = ("", "SAME", "VALID", "EXPLICIT", "NHWC", "NCHW", "NDHWC", "NCDHW", "right", "left", "bogus", "\x00",
           "float32", "x" * 300)


def init_dtypes(names):
    """The fuzzer fuzzes every dtype tideflow has (new ones included)."""
    global DTYPES, FEEDABLE
    DTYPES = tuple(n for n in names if n != "variant")
    FEEDABLE = set(DTYPES)


# ---- values ----

def _np_dtype(dt):
    return object if dt == "string" else np.dtype(dt)


def _float_values(rng, n, flavor, dt):
    fi = np.finfo(dt)
    if flavor == "special":
        pool = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, float(fi.max), float(fi.min),
                float(fi.tiny), float(fi.tiny) / 4, 0.5, -2.5]
        return [rng.choice(pool) for _ in range(n)]
    if flavor == "zeros":
        return [0.0] * n
    if flavor == "big":
        return [rng.choice((-1, 1)) * 10 ** rng.uniform(20, 38) for _ in range(n)]
    if flavor == "small":
        return [float(rng.randint(-2, 5)) for _ in range(n)]
    return [round(rng.uniform(-3, 3), 3) for _ in range(n)]


def _int_values(rng, n, flavor, dt):
    ii = np.iinfo(dt) if dt in ("int32", "int64") else np.iinfo(np.dtype(dt))
    if flavor == "extreme":
        pool = [0, -1, 1, 2, int(ii.max), int(ii.min), int(ii.max) // 2 + 1, 2**30, 3]
        if ii.max > 2**40:
            pool += [2**62, 2**40, 2**33 + 1]
        pool = [v for v in pool if ii.min <= v <= ii.max]  # unsigned and 8/16-bit dtypes hold less
        return [rng.choice(pool) for _ in range(n)]
    if flavor == "zeros":
        return [0] * n
    if flavor == "big":
        return [min(int(ii.max), rng.randint(1000, 100000)) for _ in range(n)]
    return [max(int(ii.min), min(int(ii.max), rng.randint(-2, 6))) for _ in range(n)]


def make_values(rng, dt, n, flavor):
    if dt == "bool":
        return [rng.random() < 0.5 for _ in range(n)]
    if dt == "string":
        return [rng.choice(("", "a", "abc", "\x00b", "\u00e9", "9")) for _ in range(n)]
    if dt in ("float16", "bfloat16") or np.dtype(dt).kind == "f":  # NumPy has no bfloat16 of its own
        return _float_values(rng, n, flavor, "float32" if dt == "bfloat16" else dt)
    return _int_values(rng, n, flavor, dt)


FLAVORS = ("normal", "small", "small", "special", "extreme", "zeros", "big")


def _size(dims):
    return int(np.prod(dims)) if dims else 1


def random_dims(rng, rank=None):
    rank = rng.choice((0, 1, 1, 2, 2, 3, 4)) if rank is None else rank
    dims = [rng.choice((0, 1, 1, 2, 2, 3, 4)) for _ in range(rank)]
    while _size(dims) > MAX_ELEMENTS:
        dims[rng.randrange(len(dims))] = 1
    return dims


def make_input(rng, dt, dims, mode, const_value=None, flavor=None):
    n = _size(dims)
    if const_value is not None and len(const_value) == n and flavor is None:
        values = list(const_value)
    else:
        values = make_values(rng, dt, n, flavor or rng.choice(FLAVORS))
    spec = {"dtype": dt, "dims": list(dims), "mode": mode, "values": values}
    if mode == "partial":
        spec["known"] = [rng.random() < 0.5 for _ in dims]
    return spec


# ---- attributes ----

def mutate_attr(rng, v):
    """One mutation of an encoded attribute value."""
    r = rng.random()
    if r < 0.08:  # a value of another kind: shape functions must check what they read
        return rng.choice((0, 2**40, -1, "x", [1, 2], [], {"dtype": "string"}, {"shape": None}, 1.5, True))
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        return rng.choice(INTS + (v + 1, v - 1, v * 2))
    if isinstance(v, float) or (isinstance(v, dict) and "f" in v):
        f = rng.choice(FLOATS)
        return {"f": repr(f)} if not math.isfinite(f) else f
    if isinstance(v, str):
        return rng.choice(STRINGS)
    if isinstance(v, list):
        v = list(v)
        op = rng.random()
        if not v or op < 0.25:
            return v + [rng.choice(INTS[:8]) if not v or isinstance(v[0], int) else v[0]]
        if op < 0.4:
            return v[:-1]
        if op < 0.5:
            return []
        i = rng.randrange(len(v))
        v[i] = mutate_attr(rng, v[i])
        return v
    if isinstance(v, dict):
        if "dtype" in v and "array" not in v:
            return {"dtype": rng.choice(DTYPES + ("variant",))}
        if "shape" in v:
            d = v["shape"]
            if d is None or rng.random() < 0.2:
                return {"shape": random_dims(rng) if d is None else None}
            d = list(d)
            if d and rng.random() < 0.6:
                d[rng.randrange(len(d))] = rng.choice((-1, 0, 2**31, 2**62, 2**63 - 1, -5, 3, None))
            else:
                d.append(rng.choice((1, 2, 0, -1)))
            return {"shape": d}
        if "array" in v:  # a Const's value: another dtype, shape or values
            dt = rng.choice(DTYPES[:5])
            dims = random_dims(rng)
            vals = make_values(rng, dt, _size(dims), rng.choice(FLAVORS))
            if np.dtype(dt).kind == "f":
                vals = [x if math.isfinite(x) else repr(x) for x in vals]
            return {"array": vals, "dtype": dt, "dims": dims}
        if "strings" in v:
            return {"strings": [], "dims": rng.choice(([0], [2], [], [1, 3]))}
    return rng.choice(INTS)


# ---- cases ----

class Generator:
    def __init__(self, corpus, signatures, seed=0):
        self.corpus = corpus
        self.sig = signatures  # op -> (num_inputs, ref_inputs, stateful)
        self.ops = sorted(signatures)
        self.seed = seed

    def case(self, index, op=None):
        rng = random.Random(self.seed * 1000003 + index)
        op = op or self.ops[rng.randrange(len(self.ops))]
        num_inputs, refs, _ = self.sig[op]
        seeds = self.corpus.get(op)
        if seeds:
            seed = rng.choice(seeds)
            inputs = []
            for dt, dims, is_ref, value in seed["inputs"]:
                if dims is None or any(d is None or d < 0 for d in dims):
                    dims = random_dims(rng, None if dims is None else len(dims))
                mode = "ref" if is_ref else rng.choice(("const", "const", "feed", "feed", "unknown", "partial"))
                inputs.append(make_input(rng, dt, dims, mode, value if rng.random() < 0.7 else None,
                                         "small" if value is None and dt in ("int32", "int64") and rng.random() < 0.5
                                         else None))
            attrs = dict(seed["attrs"])
        else:
            n = num_inputs if num_inputs >= 0 else rng.randint(0, 4)
            inputs = [make_input(rng, "float32" if rng.random() < 0.6 else rng.choice(DTYPES), random_dims(rng),
                                 "ref" if i in refs else rng.choice(("const", "feed", "unknown")))
                      for i in range(n)]
            attrs = {}
        # How many mutations: none for a quarter of the cases (a plain seed with new values still finds
        # value-dependent bugs), usually one or two.
        k = rng.choice((0, 1, 1, 1, 2, 2, 3, 4))
        for _ in range(k):
            self._mutate(rng, op, inputs, attrs, num_inputs)
        return {"op": op, "inputs": inputs, "attrs": attrs}

    def _mutate(self, rng, op, inputs, attrs, num_inputs):
        r = rng.random()
        if attrs and r < 0.35:
            key = rng.choice(sorted(attrs))
            if rng.random() < 0.1:
                del attrs[key]
            else:
                attrs[key] = mutate_attr(rng, attrs[key])
            return
        if not inputs or r > 0.95:
            if num_inputs < 0 or rng.random() < 0.3:  # variadic, or a wrong count
                if inputs and rng.random() < 0.5:
                    inputs.pop(rng.randrange(len(inputs)))
                else:
                    src = rng.choice(inputs) if inputs else None
                    dt = src["dtype"] if src else "float32"
                    inputs.append(make_input(rng, dt, src["dims"] if src else random_dims(rng), "const"))
            return
        i = rng.randrange(len(inputs))
        spec = inputs[i]
        m = rng.random()
        if m < 0.25:  # another dtype
            dt = rng.choice(DTYPES)
            inputs[i] = make_input(rng, dt, spec["dims"], spec["mode"] if spec["mode"] != "ref" or
                                   dt not in ("string",) else "const")
        elif m < 0.5:  # another shape: rank changed, a dim emptied or grown
            dims = list(spec["dims"])
            c = rng.random()
            if c < 0.3 or not dims:
                dims = random_dims(rng)
            elif c < 0.5:
                dims[rng.randrange(len(dims))] = 0
            elif c < 0.7:
                dims = dims[:-1]
            else:
                dims.append(rng.choice((1, 2)))
            if _size(dims) > MAX_ELEMENTS:
                dims = random_dims(rng)
            inputs[i] = make_input(rng, spec["dtype"], dims, spec["mode"])
        elif m < 0.8:  # other values: specials, extremes
            inputs[i] = make_input(rng, spec["dtype"], spec["dims"], spec["mode"],
                                   flavor=rng.choice(("special", "extreme", "extreme", "zeros", "big")))
        else:  # another way in: constant (shape functions see the value), fed, unknown shape, variable
            spec = dict(spec)
            spec["mode"] = rng.choice(("const", "feed", "unknown", "partial", "ref"))
            if spec["mode"] == "partial":
                spec["known"] = [rng.random() < 0.5 for _ in spec["dims"]]
            inputs[i] = spec
