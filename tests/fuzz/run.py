"""The fuzzer's driver: runs generated cases in worker processes, so that a crash (SIGSEGV, SIGFPE, abort)
or a hang takes down a worker and not the run, and reports and minimizes what it finds.

    python tests/fuzz/run.py --minutes 60            # a long run; --jobs 2 on a machine with cores to spare
    python tests/fuzz/run.py --cases 2000 --seed 7   # a fixed set of cases
    python tests/fuzz/run.py --backend eager --minutes 10   # the same cases, run eagerly
    python tests/fuzz/run.py --replay OUT/case-3.json

Every case must end "ok" or "typed" (worker.py says what each outcome means). A case that crashes its worker,
runs past --timeout seconds, or ends "bad" is a failure: it is written to OUT/ as JSON, minimized (attributes
reset or dropped, inputs shrunk, constants zeroed, while the failure still reproduces in a fresh process),
and listed with the command that replays it. The exit status is 1 when anything failed. A summary with the
totals and cases per minute is printed and written to OUT/summary.json.
"""
import argparse
import importlib.util
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))


def _env():
    env = dict(os.environ)
    # the workers import the tideflow this interpreter finds (installed, or python/ of a dev build)
    spec = importlib.util.find_spec("tideflow")
    py = os.path.dirname(os.path.dirname(spec.origin)) if spec and spec.origin else os.path.join(ROOT, "python")
    env["PYTHONPATH"] = py + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("PYTHONFAULTHANDLER", "1")
    return env


def build_corpus(path):
    import corpus
    c = corpus.build_corpus()
    with open(path, "w") as f:
        json.dump(c, f)
    return c


class Worker:
    def __init__(self, args, corpus_path, start, count, stride, case_file=None):
        cmd = [sys.executable, os.path.join(HERE, "worker.py"), "--corpus", corpus_path, "--seed", str(args.seed),
               "--start", str(start), "--count", str(count), "--stride", str(stride), "--backend", args.backend,
               "--cap-mb", str(args.cap_mb), "--memory-gb", str(args.memory_gb)]
        if args.skip:
            cmd += ["--skip", args.skip]
        if case_file:
            cmd += ["--case", case_file]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
                                     start_new_session=True)
        self.buf = b""
        self.current = None   # index of the case running now
        self.last = time.monotonic()
        self.next_index = start
        self.end = start + count * stride
        self.stride = stride

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def stderr_tail(self):
        try:
            return self.proc.stderr.read()[-2000:].decode("utf-8", "replace")
        except Exception:
            return ""


def _signal_name(rc):
    if rc < 0:
        try:
            return signal.Signals(-rc).name
        except ValueError:
            return "signal %d" % -rc
    return "exit status %d" % rc


def run_one(args, corpus_path, case, timeout):
    """Runs one case in a fresh worker: ("ok"|"typed"|"bad"|"crash"|"hang", detail)."""
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(case, f)
    w = Worker(args, corpus_path, 0, 1, 1, case_file=path)
    try:
        out, err = w.proc.communicate(timeout=timeout + 30)  # + interpreter start-up
    except subprocess.TimeoutExpired:
        w.kill()
        return "hang", ""
    finally:
        os.unlink(path)
    for line in out.decode().splitlines():
        if line.startswith("E "):
            _, _, outcome, detail = line.split(" ", 3)
            return outcome, json.loads(detail)["detail"]
    return "crash", _signal_name(w.proc.returncode)


def _same_failure(a, b):
    return a[0] == b[0] and (a[0] != "bad" or a[1].split(":")[0] == b[1].split(":")[0])


def minimize(args, corpus_path, case, failure, budget=40):
    """Shrinks a failing case while it still fails the same way, within `budget` replays."""
    import copy
    tries = [0]

    def still(c):
        if tries[0] >= budget:
            return False
        tries[0] += 1
        return _same_failure(run_one(args, corpus_path, c, args.timeout), failure)

    def candidates(c):
        for k in sorted(c["attrs"]):
            d = copy.deepcopy(c)
            del d["attrs"][k]
            yield d
        for i in range(len(c["inputs"])):
            s = c["inputs"][i]
            if s["mode"] not in ("const", "ref"):
                d = copy.deepcopy(c)
                d["inputs"][i]["mode"] = "const"
                d["inputs"][i].pop("known", None)
                yield d
            if len(s["values"]) > 1:
                for keep in (0, 1):
                    d = copy.deepcopy(c)
                    dims = [min(x, keep) if j == 0 else x for j, x in enumerate(s["dims"])]
                    n = 1
                    for x in dims:
                        n *= x
                    d["inputs"][i]["dims"] = dims
                    d["inputs"][i]["values"] = s["values"][:n]
                    d["inputs"][i].pop("known", None)
                    if d["inputs"][i]["mode"] == "partial":
                        d["inputs"][i]["mode"] = "feed"
                    yield d

    best = case
    progress = True
    while progress and tries[0] < budget:
        progress = False
        for cand in candidates(best):
            if still(cand):
                best, progress = cand, True
                break
    return best, tries[0]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, help="run for this long")
    p.add_argument("--cases", type=int, help="run this many cases (default 2000 without --minutes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", type=int, default=0, help="first case index")
    p.add_argument("--jobs", type=int, default=1, help="worker processes")
    p.add_argument("--backend", default="graph", choices=("graph", "eager"))
    p.add_argument("--timeout", type=float, default=60.0, help="seconds one case may take before it is a hang")
    p.add_argument("--cap-mb", type=int, default=256, help="tideflow's allocation cap in the workers")
    p.add_argument("--memory-gb", type=float, default=6.0, help="address-space limit of a worker")
    p.add_argument("--chunk", type=int, default=20000, help="cases per worker process before it is replaced")
    p.add_argument("--skip", default="", help="comma-separated op types not to fuzz")
    p.add_argument("--out", help="where failures and the summary go (default: a new temporary directory)")
    p.add_argument("--no-minimize", action="store_true")
    p.add_argument("--minimize-minutes", type=float, default=5.0, help="time for replaying and shrinking failures")
    p.add_argument("--replay", help="run one case file and print its outcome")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    out_dir = args.out or tempfile.mkdtemp(prefix="tideflow-fuzz-")
    os.makedirs(out_dir, exist_ok=True)
    corpus_path = os.path.join(out_dir, "corpus.json")
    if not os.path.exists(corpus_path):
        build_corpus(corpus_path)
    if args.replay:
        with open(args.replay) as f:
            case = json.load(f)
        print(run_one(args, corpus_path, case, args.timeout))
        return 0
    summary = fuzz(args, corpus_path, out_dir)
    return 1 if summary["failures"] else 0


def fuzz(args, corpus_path, out_dir):
    import gen
    from tideflow import _core  # the parent regenerates the case a crashed worker was running
    from tideflow.framework import dtypes
    gen.init_dtypes([d.name for d in dtypes._ALL])
    with open(corpus_path) as f:
        corpus = json.load(f)
    skip = set(args.skip.split(",")) if args.skip else set()
    sig = {op: _core.op_signature(op) for op in _core.registered_ops() if op not in skip}
    generator = gen.Generator(corpus, sig, args.seed)

    total = args.cases if args.cases is not None else (None if args.minutes else 2000)
    deadline = time.monotonic() + 60 * args.minutes if args.minutes else None
    t0 = time.monotonic()
    counts = {"ok": 0, "typed": 0, "bad": 0, "crash": 0, "hang": 0}
    by_op = {}
    failures = {}  # (kind, op, detail head) -> record
    sel = selectors.DefaultSelector()
    jobs = max(1, args.jobs)
    next_start = [args.start + j for j in range(jobs)]
    per_worker = None if total is None else [len(range(args.start + j, args.start + total, jobs)) for j in range(jobs)]
    workers = []

    def launch(j):
        remaining = args.chunk if per_worker is None else min(args.chunk, per_worker[j])
        if remaining <= 0:
            return
        w = Worker(args, corpus_path, next_start[j], remaining, jobs)
        w.job = j
        workers.append(w)
        sel.register(w.proc.stdout, selectors.EVENT_READ, w)

    def record(kind, index, detail):
        case = generator.case(index)
        key = (kind, case["op"], detail.split(":")[0] if kind == "bad" else detail[:60])
        rec = failures.get(key)
        if rec is None:
            path = os.path.join(out_dir, "case-%d.json" % index)
            with open(path, "w") as f:
                json.dump(case, f, indent=1)
            failures[key] = rec = {"kind": kind, "op": case["op"], "index": index, "detail": detail, "count": 0,
                                   "file": path}
            if not args.quiet:
                print("FAIL %s %s case %d: %s" % (kind, case["op"], index, detail[:300]), flush=True)
        rec["count"] += 1

    def advance(w, index):
        j = w.job
        next_start[j] = index + jobs
        if per_worker is not None:
            per_worker[j] -= 1

    def retire(w, reason=None):
        sel.unregister(w.proc.stdout)
        workers.remove(w)
        if reason is not None:
            w.kill()
        else:
            w.proc.wait()
        if w.current is not None:  # died or hung inside a case
            kind = "hang" if reason == "hang" else "crash"
            detail = "no result after %gs" % args.timeout if kind == "hang" else \
                _signal_name(w.proc.returncode) + " " + w.stderr_tail().strip().splitlines()[-1:][0:1].__str__()
            counts[kind] += 1
            record(kind, w.current, detail)
            advance(w, w.current)
        if deadline is None or time.monotonic() < deadline:
            launch(w.job)

    for j in range(jobs):
        launch(j)
    last_report = time.monotonic()
    while workers:
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            for w in list(workers):
                w.current = None
                sel.unregister(w.proc.stdout)
                workers.remove(w)
                w.kill()
            break
        for key, _ in sel.select(timeout=1.0):
            w = key.data
            chunk = os.read(w.proc.stdout.fileno(), 65536)
            if not chunk:
                retire(w)
                continue
            w.buf += chunk
            *lines, w.buf = w.buf.split(b"\n")
            for line in lines:
                w.last = time.monotonic()
                parts = line.decode().split(" ", 3)
                if parts[0] == "B":
                    w.current = int(parts[1])
                elif parts[0] == "E":
                    index, outcome, detail = int(parts[1]), parts[2], json.loads(parts[3])
                    w.current = None
                    counts[outcome] += 1
                    by_op.setdefault(detail["op"], {}).setdefault(outcome, 0)
                    by_op[detail["op"]][outcome] += 1
                    advance(w, index)
                    if outcome == "bad":
                        record("bad", index, detail["detail"])
        for w in list(workers):
            if w.current is not None and time.monotonic() - w.last > args.timeout:
                retire(w, "hang")
        if not args.quiet and time.monotonic() - last_report > 30:
            last_report = time.monotonic()
            n = sum(counts.values())
            print("%d cases in %.1f min (%.0f/min): %s" % (n, (last_report - t0) / 60,
                                                           n / max(1e-9, (last_report - t0) / 60), counts), flush=True)
    elapsed = time.monotonic() - t0
    n = sum(counts.values())
    summary = {"cases": n, "minutes": round(elapsed / 60, 2), "cases_per_minute": round(n / max(elapsed / 60, 1e-9)),
               "outcomes": counts, "seed": args.seed, "start": args.start, "backend": args.backend,
               "ops": len(sig), "ops_reached": len(by_op), "failures": list(failures.values()), "out": out_dir}

    def write_summary():
        with open(os.path.join(out_dir, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1)

    write_summary()  # the figures exist even if minimizing is interrupted
    if not args.no_minimize:
        # Bounded: a hang costs --timeout per replay, so hangs are replayed once and not shrunk.
        stop = time.monotonic() + 60 * args.minimize_minutes
        for rec in failures.values():
            if time.monotonic() >= stop:
                break
            with open(rec["file"]) as f:
                case = json.load(f)
            outcome = run_one(args, corpus_path, case, args.timeout)
            rec["reproduces_alone"] = _same_failure(outcome, (rec["kind"], rec["detail"]))
            if rec["reproduces_alone"] and rec["kind"] != "hang":
                small, tries = minimize(args, corpus_path, case, outcome)
                rec["minimized"] = os.path.splitext(rec["file"])[0] + "-min.json"
                with open(rec["minimized"], "w") as f:
                    json.dump(small, f, indent=1)
        write_summary()
    if not args.quiet:
        print("%d cases in %.2f min (%d/min), %d ops: %s" % (n, elapsed / 60, summary["cases_per_minute"],
                                                            len(by_op), counts))
        for rec in failures.values():
            print("  %s %s x%d (case %d): %s\n    replay: python tests/fuzz/run.py --out %s --replay %s"
                  % (rec["kind"], rec["op"], rec["count"], rec["index"], rec["detail"][:200], out_dir,
                     rec.get("minimized", rec["file"])))
    return summary


if __name__ == "__main__":
    sys.exit(main())
