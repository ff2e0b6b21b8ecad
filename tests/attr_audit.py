"""The attribute audit (issue 15), run by tests/test_attr_audit.py in a child process: every registered op
that some program builds (the fuzzer's corpus, tests/fuzz/corpus.py) is built again with each of its
attributes replaced, one at a time, by hostile values: negative, zero, 2**31, 2**62, 2**63 - 1, -2**63, 2**64,
values of the wrong kind, empty and too long lists, unknown strings and dtypes. The op must either work or
fail with a typed error: ValueError/TypeError while the graph is built, a tf.errors.OpError when it runs
(worker.py: classify). A crash or a hang takes this process down; the parent notices and names the case.

Protocol: argv = [start index]; one line per case on stdout: "START i op attr value" before the case runs,
"DONE i outcome detail" after it.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "fuzz"))

# Hostile values by the kind of the attribute they replace (encoded as tests/fuzz/corpus.py encodes).
HUGE = (-1, 0, -2**31, 2**31, 2**62, 2**63 - 1, -2**63, 2**64)
WRONG = ("x", [1, 2], 1.5, {"dtype": "string"}, True)


def hostile(v):
    if isinstance(v, bool):
        return [5, "x", [True]]
    if isinstance(v, int):
        return list(HUGE) + ["x", [1], 1.5]
    if isinstance(v, float) or (isinstance(v, dict) and "f" in v):
        return [{"f": "nan"}, {"f": "inf"}, -1.0, 1e300, "x", [1.0]]
    if isinstance(v, str):
        return ["", "bogus", "x" * 300, 5, ["SAME"]]
    if isinstance(v, list):
        n = max(len(v), 1)
        if v and not all(isinstance(e, int) and not isinstance(e, bool) for e in v):
            return [[], v + v[:1], 5, "x"]
        return ([[], [0] * n, [-1] * n, [2**31] * n, [2**62] * n, [2**63 - 1] * n, [-2**63] * n, v + [1], v * 3,
                 ["x"] * n, 5])
    if isinstance(v, dict) and "dtype" in v and "array" not in v:
        return [{"dtype": "string"}, {"dtype": "bool"}, {"dtype": "uint16"}, 5, "x"]
    if isinstance(v, dict) and "shape" in v:
        d = v["shape"] or [1]
        return [{"shape": [-5] * len(d)}, {"shape": [2**62] * len(d)}, {"shape": [2**63 - 1] * len(d)},
                {"shape": d + [2**40, 2**40]}, 5, "x"]
    return list(WRONG)


def _input_spec(inp):
    dt, dims, is_ref, const = inp
    known = dims is not None and all(d is not None and d >= 0 for d in dims)
    dims = list(dims) if known else [2]
    n = 1
    for d in dims:
        n *= d
    if n > 64:  # keep inputs small: sizes come from the attributes under test
        dims, n = [2], 2
    if const is not None and len(const) == n:
        values = const
    else:
        values = [""] * n if dt == "string" else [False] * n if dt == "bool" else [1] * n
    return {"dtype": dt, "dims": dims, "mode": "ref" if is_ref else "const", "values": values}


def _wrong_kind(case):
    """Whether the replaced value is plainly of another kind than TensorFlow's OpDef declares."""
    from tideflow.framework.tf_op_defs import OP_DEFS
    d = OP_DEFS.get(case["op"])
    kind = {a[0]: a[1] for a in d[2]}.get(case["attr"]) if d else None
    v = case["bad"]
    if kind in ("bool", "int", "type"):
        return v == "x" or isinstance(v, list) or (kind != "int" and isinstance(v, int) and not isinstance(v, bool))
    if kind == "string":
        return not isinstance(v, str)
    return False


def cases():
    from corpus import build_corpus
    out = []
    corpus = build_corpus()
    for op in sorted(corpus):
        seed = corpus[op][0]
        inputs = [_input_spec(i) for i in seed["inputs"]]
        for name, value in sorted(seed["attrs"].items()):
            if name in ("value", "_class") or name.startswith("_"):
                continue
            for bad in hostile(value):
                attrs = dict(seed["attrs"])
                attrs[name] = bad
                out.append({"op": op, "inputs": inputs, "attrs": attrs, "attr": name, "bad": bad})
    return out


def main(argv):
    import tideflow as tf  # noqa: F401 - loads the core before the corpus
    from backends import GraphBackend
    from corpus import decode
    from worker import classify
    start = int(argv[0]) if argv else 0
    all_cases = cases()
    sig = {c["op"]: (None, None, True) for c in all_cases}  # nondeterministic: one run each
    backend = GraphBackend(sig, batch=40)
    print("COUNT %d" % len(all_cases), flush=True)
    for i in range(start, len(all_cases)):
        c = all_cases[i]
        print("START %d %s %s %s" % (i, c["op"], c["attr"], json.dumps(c["bad"])[:80]), flush=True)
        try:
            [decode(v) for v in c["attrs"].values()]
        except Exception as e:  # noqa: BLE001 - a value the harness cannot encode as an attribute
            print("DONE %d skip %s" % (i, type(e).__name__), flush=True)
            continue
        try:
            backend.run(c)
            outcome, detail = "ok", ""
        except Exception as e:  # noqa: BLE001 - classified below
            outcome, detail = classify(e)
        if outcome == "ok" and _wrong_kind(c):
            outcome, detail = "bad", "a value of the wrong kind was accepted (TensorFlow raises TypeError)"
        print("DONE %d %s %s" % (i, outcome, detail.replace("\n", " ")[:300]), flush=True)
    backend.close()


if __name__ == "__main__":
    main(sys.argv[1:])
