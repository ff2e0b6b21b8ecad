"""Runs every workload for tideflow and each installed peer in one process, interleaved, and prints
medians and ratios with the machine and the commit.

    python bench/run.py                 # everything, 1 thread and the default
    python bench/run.py -w trivial chain100 chain1000 --threads 1
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import workloads as W  # noqa: E402


def machine():
    cpu = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "%s, %d cores, Python %s, NumPy %s" % (cpu, os.cpu_count(), platform.python_version(), np.__version__)


def commit():
    try:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        return subprocess.check_output(["git", "-C", root, "rev-parse", "--short", "HEAD"], text=True).strip()
    except Exception:
        return "unknown"


def frameworks(wanted):
    fws = {}
    import tideflow
    fws["tideflow"] = ("graph", tideflow)
    if "tensorflow" in wanted:
        try:
            fws["tensorflow"] = ("graph", W._tf1())
        except ImportError:
            pass
    if "torch" in wanted:
        try:
            import torch  # noqa: F401
            fws["torch"] = ("torch", None)
        except ImportError:
            pass
    if "numpy" in wanted:
        fws["numpy"] = ("numpy", None)
    return fws


def setup(kind, mod, name, threads):
    if kind == "graph":
        return W.WORKLOADS[name][0](mod, threads)
    if kind == "torch":
        return W.torch_setup(name, threads)
    return W.numpy_setup(name, threads)


CLOCK = time.perf_counter  # --clock cpu: time.process_time, the CPU time of all the process's threads


def time_call(fn, min_time=0.2, warmup=0.15):
    """Seconds per call, repeating until one batch takes at least min_time. The warm-up also outlasts
    the threads the previous framework left spinning (OpenBLAS's spin for about 0.1 s after a call), so
    one framework's idle threads do not slow the next one's measurement."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < warmup:
        fn()
    n = 1
    while True:
        t0 = CLOCK()
        for _ in range(n):
            fn()
        t = CLOCK() - t0
        if t >= min_time:
            return t / n
        n = max(n * 2, int(n * min_time / max(t, 1e-9) * 1.2))


def value(name, seconds):
    label, units = W.WORKLOADS[name][1], W.WORKLOADS[name][2]
    if label == "us/run":
        return seconds * 1e6
    if label.startswith("ms"):
        return seconds * 1e3
    return units / seconds / 1e9


def import_times(fws, rounds=3):
    """Wall time of `import X` in a fresh interpreter. A package run from a source checkout is
    byte-compiled first, as pip leaves an installed one (with PYTHONDONTWRITEBYTECODE=1 it would
    otherwise compile every module on every import)."""
    import compileall
    import importlib.util
    out = {}
    mods = {"tideflow": "tideflow", "tensorflow": "tensorflow", "torch": "torch", "numpy": "numpy"}
    for fw in fws:
        spec = importlib.util.find_spec(mods[fw])
        for folder in (spec.submodule_search_locations or []) if spec else []:
            if "site-packages" not in folder:
                compileall.compile_dir(folder, quiet=1)
        ts = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import " + mods[fw]], check=True)
            ts.append(time.perf_counter() - t0)
        out[fw] = statistics.median(ts)
    return out


def paired_overhead(fws, threads, base, variant, rounds):
    """variant/base time for each graph framework, the two measured in alternation so machine noise
    hits both alike (used for the cost of writing a summary every step)."""
    out = []
    for fw, (kind, mod) in fws.items():
        if kind != "graph":
            continue
        fa, fb = setup(kind, mod, base, threads), setup(kind, mod, variant, threads)
        ta, tb = [], []
        for _ in range(rounds):
            ta.append(time_call(fa))
            tb.append(time_call(fb))
        out.append("%s %.3fx" % (fw, statistics.median(tb) / statistics.median(ta)))
    return ", ".join(out)


def paired_difference(fws, threads, base, variant, rounds):
    """variant - base time in us per run, measured in alternation (what a tf.cond adds to its taken
    branch)."""
    out = []
    for fw, (kind, mod) in fws.items():
        if kind != "graph":
            continue
        fa, fb = setup(kind, mod, base, threads), setup(kind, mod, variant, threads)
        ta, tb = [], []
        for _ in range(rounds):
            ta.append(time_call(fa))
            tb.append(time_call(fb))
        out.append("%s %.2f us" % (fw, (statistics.median(tb) - statistics.median(ta)) * 1e6))
    return ", ".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-w", "--workloads", nargs="*", default=list(W.WORKLOADS))
    ap.add_argument("--peers", nargs="*", default=["tensorflow", "torch", "numpy"])
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 0], help="0 = the default")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-import", action="store_true")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="cpu: process CPU time (all threads, spinning included), for a loaded machine")
    args = ap.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    fws = frameworks(args.peers)
    print("machine: %s\ncommit: %s, clock: %s, load average %.1f\n"
          % (machine(), commit(), args.clock, os.getloadavg()[0]))
    if not args.no_import:
        it = import_times(fws)
        print("| import | " + " | ".join("%s %.2f s" % (k, v) for k, v in it.items()) + " |\n")
    for threads in args.threads:
        nthreads = threads or os.cpu_count()
        try:
            from threadpoolctl import threadpool_limits
            limit = threadpool_limits(nthreads)
        except ImportError:
            limit = None
        print("### threads = %s\n" % (threads or "default (%d)" % nthreads))
        print("| workload | unit | " + " | ".join(fws) + " | tideflow / peers |")
        print("|---|---|" + "---|" * len(fws) + "---|")
        for name in args.workloads:
            fns = {}
            for fw, (kind, mod) in fws.items():
                try:
                    fn = setup(kind, mod, name, threads)
                except Exception as e:  # a peer without this workload, or a failure worth showing
                    print("  (%s %s setup failed: %s)" % (fw, name, e), file=sys.stderr)
                    fn = None
                if fn is not None:
                    fns[fw] = fn
            samples = {fw: [] for fw in fns}
            for _ in range(args.rounds):  # interleaved rounds: noise hits every framework alike
                for fw, fn in fns.items():
                    samples[fw].append(time_call(fn))
            med = {fw: statistics.median(s) for fw, s in samples.items()}
            cells = [("%.3g" % value(name, med[fw])) if fw in med else "-" for fw in fws]
            ratios = []
            if "tideflow" in med:
                for fw in med:
                    if fw != "tideflow":
                        ratios.append("%.2fx %s" % (med["tideflow"] / med[fw], fw))
            print("| %s | %s | %s | time %s |" % (name, W.WORKLOADS[name][1], " | ".join(cells),
                                                  ", ".join(ratios)))
            sys.stdout.flush()
        if "mlp" in args.workloads and "mlp_summary" in args.workloads:
            print("\nmlp_summary / mlp, measured in alternation: %s"
                  % paired_overhead(fws, threads, "mlp", "mlp_summary", args.rounds))
        if "chain100" in args.workloads and "cond_chain100" in args.workloads:
            print("\ncond_chain100 - chain100, measured in alternation: %s"
                  % paired_difference(fws, threads, "chain100", "cond_chain100", args.rounds))
        if limit is not None:
            limit.restore_original_limits()
        print()


if __name__ == "__main__":
    main()
