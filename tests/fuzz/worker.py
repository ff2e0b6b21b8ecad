"""Runs fuzz cases in this process and reports each one on stdout, for run.py to watch.

    python tests/fuzz/worker.py --corpus C.json --seed S --start I --count N [--backend graph]
    python tests/fuzz/worker.py --corpus C.json --case CASE.json          # one case, for minimizing

Protocol, one line per event, flushed: "B <i>" before case i runs, then "E <i> <outcome> <json detail>".
A crash or a hang shows as a "B" with no "E": run.py holds the case. Outcomes:
  ok     the op ran and its results passed the backend's checks
  typed  it failed with an error tideflow promises: ValueError or TypeError when the graph is built,
         a tf.errors.OpError when it runs
  bad    anything else: an untyped exception (IndexError, KeyError, RuntimeError, SystemError, MemoryError,
         OverflowError, ZeroDivisionError, AttributeError, ...), an InternalError or UnknownError, a message
         carrying C++ internals, or a CheckFailed (inconsistent results)
"""
import argparse
import json
import os
import re
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

# Untyped C++ leaking through: std::bad_cast, vector::_M_range_check, basic_string, nanobind's casts...
CPP_TEXT = re.compile(r"std::|bad_cast|bad_alloc|_M_|basic_string|vector::|nanobind|nb::|terminate called|"
                      r"__cxa|unordered_map::at|map::at")


def classify(exc):
    """(outcome, detail) for an exception raised by a case."""
    import tideflow as tf
    from backends import CheckFailed
    name = type(exc).__name__
    msg = str(exc)
    if isinstance(exc, CheckFailed):
        return "bad", "check: " + msg
    if CPP_TEXT.search(msg):
        return "bad", "C++ text in %s: %s" % (name, msg[:300])
    if isinstance(exc, tf.errors.OpError):
        if isinstance(exc, (tf.errors.InternalError, tf.errors.UnknownError)):
            return "bad", "%s: %s" % (name, msg[:300])
        return "typed", name
    if type(exc) in (ValueError, TypeError):
        return "typed", name
    return "bad", "%s: %s" % (name, msg[:300])


def limit_memory(gb):
    """Growth without bound shows up as a refused allocation instead of the machine swapping."""
    if gb:
        lim = int(gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))


def setup(args):
    # Any allocation above the cap is refused with ResourceExhaustedError (Note [checked sizes]): a case
    # asking for 2**40 elements is answered in microseconds instead of paging the machine.
    os.environ.setdefault("TIDEFLOW_ALLOCATION_CAP", str(args.cap_mb << 20))
    limit_memory(args.memory_gb)
    from tideflow import _core
    import gen
    from tideflow.framework import dtypes
    gen.init_dtypes([d.name for d in dtypes._ALL])
    with open(args.corpus) as f:
        corpus = json.load(f)
    sig = {op: _core.op_signature(op) for op in _core.registered_ops()}
    skip = set(args.skip.split(",")) if args.skip else set()
    sig = {k: v for k, v in sig.items() if k not in skip}
    return corpus, sig


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--case", help="a JSON file holding one case")
    p.add_argument("--backend", default="graph")
    p.add_argument("--cap-mb", type=int, default=256)
    p.add_argument("--memory-gb", type=float, default=6.0)
    p.add_argument("--skip", default="")
    args = p.parse_args(argv)
    corpus, sig = setup(args)
    import gen
    from backends import BACKENDS
    backend = BACKENDS[args.backend](sig)
    out = sys.stdout
    if args.case:
        with open(args.case) as f:
            cases = [(0, json.load(f))]
    else:
        g = gen.Generator(corpus, sig, args.seed)
        cases = ((i, g.case(i)) for i in range(args.start, args.start + args.count * args.stride, args.stride))
    for i, case in cases:
        out.write("B %d\n" % i)
        out.flush()
        t0 = time.monotonic()
        try:
            backend.run(case)
            outcome, detail = "ok", ""
        except BaseException as e:  # noqa: B036: everything is classified, KeyboardInterrupt included
            if isinstance(e, KeyboardInterrupt):
                raise
            outcome, detail = classify(e)
        out.write("E %d %s %s\n" % (i, outcome, json.dumps({"op": case["op"], "detail": detail,
                                                            "ms": round(1000 * (time.monotonic() - t0), 2)})))
        out.flush()
    backend.close()


if __name__ == "__main__":
    main()
