"""tideflow.horovod on MPI: allreduce bandwidth against mpi4py's own Allreduce, and the scaling of an MLP
training step over 2 processes. Needs mpi4py with an MPI library and mpiexec (pip install ".[mpi]").

    python bench/horovod.py                  # both, 2 ranks, prints tables with the machine and commit
    python bench/horovod.py -w allreduce --rounds 7

Allreduce: float32 buffers of 4-64 MB summed over 2 ranks; tideflow runs `hvd.allreduce(x, op=hvd.Sum)` as
a graph op (fed from NumPy, result fetched), mpi4py runs `comm.Allreduce(a, b)` into a preallocated buffer;
interleaved rounds, medians; bandwidth = buffer bytes / time. MLP: 784-256-128-10, ReLU, sparse softmax
cross-entropy, SGD, fed batches; 2 ranks with batch 128 each (hvd.DistributedOptimizer, one thread per rank)
against one process with batch 256 (one thread, and the default two) and with batch 128 (one thread), and
against two processes training alone at the same time (what sharing the machine costs without any
communication); launches alternate so that the machine's changing load hits each setting alike.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def phases(spans, events):
    """Per-step phase times (us, medians over steps) and counts (means) from the controller's trace
    (Note [controller trace]): `spans` are the steps' (start, end) in perf_counter_ns, `events` the
    controller's (ns, what, arg)."""
    rows = []
    for t0, t1 in spans:
        ev = [(ns, w, a) for ns, w, a, _, _ in events if t0 <= ns <= t1]
        enq = [ns for ns, w, _ in ev if w == "enqueue"]
        data = [ns for ns, w, a in ev if w == "exchanged" and a > 0]
        first = lambda what, after=0: next((ns for ns, w, _ in ev if w == what and ns >= after), None)
        r = {"rounds": sum(w == "round" for _, w, _ in ev),
             "help_rounds": sum(w == "help_round" for _, w, _ in ev),
             "thread_rounds": sum(w == "thread_round" for _, w, _ in ev),
             "thread_wakes": sum(w == "thread_wake" for _, w, _ in ev),
             "mpi_calls": sum(w == "mpi" for _, w, _ in ev),
             "copied_MB": sum(a for _, w, a in ev if w in ("copy_in", "copy_out")) / 2**20,
             "step": (t1 - t0) / 1e3}
        if enq and data:
            x = data[-1]
            start = max(ns for ns, w, _ in ev if w == "round" and ns <= x)
            r["until_last_request"] = (enq[-1] - t0) / 1e3
            r["request_to_round"] = (start - enq[-1]) / 1e3
            r["negotiation"] = (x - start) / 1e3
            prev = x
            for what in ("copy_in", "mpi", "copy_out"):
                t = first(what, prev)
                if t is not None:
                    r[what] = (t - prev) / 1e3
                    prev = t
            end = first("round_end", x)
            if end is not None:
                r["round_end_to_step_end"] = (t1 - end) / 1e3
        rows.append(r)
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    out = {}
    for k in keys:
        v = [r[k] for r in rows if k in r]
        out[k] = round(statistics.mean(v), 2) if k in ("rounds", "help_rounds", "thread_rounds", "thread_wakes",
                                                        "mpi_calls", "copied_MB") else round(statistics.median(v), 1)
    return out


def _traced(hvd, fn, steps):
    spans = []
    hvd._take_trace()
    hvd._trace(True)
    for _ in range(steps):
        t0 = time.perf_counter_ns()
        fn()
        spans.append((t0, time.perf_counter_ns()))
    hvd._trace(False)
    return phases(spans, hvd._take_trace())


def _median_time(fn, reps):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


# ---- the rank side ----

def _print_trace(comm, what, summary):
    """Rank 0 prints every rank's phase summary (one writer: lines of two processes interleave)."""
    got = comm.gather(summary)
    if comm.rank == 0:
        for rank, ph in enumerate(got):
            print("TRACE " + json.dumps({"rank": rank, "what": what, "phases": ph}), flush=True)


def worker_allreduce(rounds, sizes_mb, trace=False):
    import tideflow as tf
    import tideflow.horovod as hvd
    from mpi4py import MPI
    hvd.init()
    comm = MPI.COMM_WORLD
    res = {}
    for mb in sizes_mb:
        n = mb * (1 << 20) // 4
        a = np.full(n, 1.0 + hvd.rank(), np.float32)
        b = np.empty_like(a)
        g = tf.Graph()
        with g.as_default():
            x = tf.placeholder(tf.float32, [n])
            s = hvd.allreduce(x, op=hvd.Sum, name="sum%d" % mb)
            avg = hvd.allreduce(x, name="avg%d" % mb)
        sess = tf.Session(graph=g)
        reps = 3 if mb >= 32 else 6
        fns = {"mpi4py": lambda: comm.Allreduce(a, b),
               "tideflow": lambda: sess.run(s, {x: a}),
               "tideflow_avg": lambda: sess.run(avg, {x: a})}
        for f in fns.values():  # warm-up, and the check that both reduce alike
            f()
        np.testing.assert_array_equal(sess.run(s, {x: a}), np.full(n, 3.0, np.float32))
        times = {k: [] for k in fns}
        for _ in range(rounds):
            for k, f in fns.items():
                comm.Barrier()
                times[k].append(_median_time(f, reps))
        res[mb] = {k: statistics.median(v) for k, v in times.items()}
        if trace:
            comm.Barrier()
            _print_trace(comm, "allreduce %d MB" % mb, _traced(hvd, fns["tideflow"], 20))
        sess.close()
    if hvd.rank() == 0:
        print("RESULT " + json.dumps(res), flush=True)


def build_mlp(tf, opt_wrap, seed=0):
    tf.set_random_seed(seed)
    x = tf.placeholder(tf.float32, [None, 784])
    y = tf.placeholder(tf.int64, [None])
    h = x
    for i, (a, b) in enumerate([(784, 256), (256, 128), (128, 10)]):
        w = tf.Variable(tf.truncated_normal([a, b], stddev=0.05), name="w%d" % i)
        bias = tf.Variable(tf.zeros([b]), name="b%d" % i)
        h = tf.matmul(h, w) + bias
        if i < 2:
            h = tf.nn.relu(h)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
    return x, y, opt_wrap(tf.train.GradientDescentOptimizer(0.1)).minimize(loss)


def mlp_step_time(distributed, batch, threads, rounds, steps, pair=False, trace=False):
    import tideflow as tf
    comm = None
    if pair:  # two processes at once, each alone: only the barrier comes from MPI
        from mpi4py import MPI
        comm = MPI.COMM_WORLD
        wrap, bcast = (lambda o: o), None
    elif distributed:
        import tideflow.horovod as hvd
        from mpi4py import MPI
        hvd.init()
        comm = MPI.COMM_WORLD
        wrap, bcast = hvd.DistributedOptimizer, hvd.broadcast_global_variables
    else:
        wrap, bcast = (lambda o: o), None
    rng = np.random.RandomState(1 + (comm.rank if comm else 0))
    xb = rng.rand(batch, 784).astype(np.float32)
    yb = rng.randint(0, 10, batch).astype(np.int64)
    g = tf.Graph()
    with g.as_default():
        x, y, train = build_mlp(tf, wrap)
        init = tf.global_variables_initializer()
        sync = bcast(0) if bcast else None
    cfg = tf.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads) if threads else None
    sess = tf.Session(graph=g, config=cfg)
    sess.run(init)
    if sync is not None:
        sess.run(sync)
    feed = {x: xb, y: yb}

    def run_steps():
        for _ in range(steps):
            sess.run(train, feed)
    run_steps()
    ts = []
    for _ in range(rounds):
        if comm:
            comm.Barrier()
        t0 = time.perf_counter()
        run_steps()
        ts.append((time.perf_counter() - t0) / steps)
    if trace and distributed and not pair:
        comm.Barrier()
        _print_trace(comm, "MLP step", _traced(hvd, lambda: sess.run(train, feed), steps))
    return statistics.median(ts)


# ---- the driver ----

def machine():
    import platform
    cpu = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "%s, %d cores, Python %s" % (cpu, os.cpu_count(), platform.python_version())


def commit():
    try:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        return subprocess.check_output(["git", "-C", root, "rev-parse", "--short", "HEAD"], text=True).strip()
    except Exception:
        return "unknown"


def mpiexec():
    import shutil
    for cand in (os.path.join(os.path.dirname(sys.executable), "mpiexec"), shutil.which("mpiexec")):
        if cand and os.path.exists(cand):
            return cand
    sys.exit("mpiexec not found: pip install '.[mpi]'")


TRACES = []


def launch(ranks, args):
    cmd = ([mpiexec(), "-n", str(ranks)] if ranks else []) + [sys.executable, os.path.abspath(__file__)] + args
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    for line in out.stdout.splitlines():
        if line.startswith("TRACE "):
            TRACES.append(json.loads(line[6:]))
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    sys.exit("%s failed:\n%s\n%s" % (" ".join(cmd), out.stdout, out.stderr))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-w", nargs="+", default=["allreduce", "mlp"], choices=["allreduce", "mlp"])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--sizes", type=int, nargs="+", default=[4, 16, 64], help="allreduce sizes in MB")
    p.add_argument("--steps", type=int, default=50, help="MLP steps per round")
    p.add_argument("--trace", action="store_true",
                   help="also print the controller's phase times per step, per rank (Note [controller trace])")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=128, help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker == "allreduce":
        return worker_allreduce(a.rounds, a.sizes, a.trace)
    if a.worker in ("mlp", "mlp-single", "mlp-pair"):
        t = mlp_step_time(a.worker == "mlp", a.batch, a.threads, a.rounds, a.steps, a.worker == "mlp-pair", a.trace)
        if a.worker == "mlp-single":
            print("RESULT " + json.dumps(t), flush=True)
        else:
            from mpi4py import MPI
            ts = MPI.COMM_WORLD.gather(t)
            if MPI.COMM_WORLD.rank == 0:
                print("RESULT " + json.dumps(max(ts)), flush=True)
        return

    print("machine: %s\ncommit: %s\nload average at start: %.1f\n" % (machine(), commit(), os.getloadavg()[0]))
    if "allreduce" in a.w:
        res = launch(2, ["--worker", "allreduce", "--rounds", str(a.rounds), "--sizes"] + [str(s) for s in a.sizes]
                     + (["--trace"] if a.trace else []))
        print("### allreduce, float32, 2 ranks (median of %d interleaved rounds)\n" % a.rounds)
        print("| size | mpi4py Allreduce | tideflow hvd.allreduce Sum | tideflow / mpi4py | tideflow Average |")
        print("|---|---|---|---|---|")
        for mb, r in sorted(res.items(), key=lambda kv: int(kv[0])):
            bw = {k: int(mb) / 1024 / v for k, v in r.items()}
            print("| %s MB | %.2f GB/s (%.1f ms) | %.2f GB/s (%.1f ms) | %.0f%% | %.2f GB/s |"
                  % (mb, bw["mpi4py"], r["mpi4py"] * 1e3, bw["tideflow"], r["tideflow"] * 1e3,
                     100 * bw["tideflow"] / bw["mpi4py"], bw["tideflow_avg"]))
        print()
    if "mlp" in a.w:
        # Launches alternate, one round each, so that the machine's changing load hits every setting alike.
        common = ["--rounds", "1", "--steps", str(a.steps)]
        runs = {"2 ranks x batch 128 (1 thread each)": (2, ["--worker", "mlp", "--batch", "128"]),
                "2 separate processes x batch 128 at once, no communication": (2, ["--worker", "mlp-pair", "--batch", "128"]),
                "1 process, batch 256, 1 thread": (0, ["--worker", "mlp-single", "--batch", "256", "--threads", "1"]),
                "1 process, batch 256, 2 threads": (0, ["--worker", "mlp-single", "--batch", "256", "--threads", "2"]),
                "1 process, batch 128, 1 thread": (0, ["--worker", "mlp-single", "--batch", "128", "--threads", "1"])}
        times = {k: [] for k in runs}
        for _ in range(a.rounds):
            for k, (ranks, args) in runs.items():
                extra = ["--trace"] if a.trace and "mlp" in args else []
                times[k].append(launch(ranks, args + common + ["--threads", "1"] + extra if ranks else args + common))
        t = {k: statistics.median(v) for k, v in times.items()}
        print("### MLP 784-256-128-10 SGD step (median of %d alternating launches of %d steps)\n" % (a.rounds, a.steps))
        print("| run | ms/step | examples/s |")
        print("|---|---|---|")
        for k, v in t.items():
            n = 128 if k.startswith("1 process, batch 128") else 256
            print("| %s | %.3f | %.0f |" % (k, v * 1e3, n / v))
        t2 = t["2 ranks x batch 128 (1 thread each)"]
        print("\nscaling efficiency, 2 ranks against one process on one core (batch 128 each): %.0f%%"
              % (100 * t["1 process, batch 128, 1 thread"] / t2))
        print("the same against two processes running at once without communicating (what sharing the machine "
              "alone costs): %.0f%%" % (100 * t["2 separate processes x batch 128 at once, no communication"] / t2))
        print("throughput, 2 ranks x 128 against one process with batch 256 on 2 threads: %.2fx"
              % (t["1 process, batch 256, 2 threads"] / t2))
        print("throughput, 2 ranks x 128 against one process with batch 256 on 1 thread: %.2fx"
              % (t["1 process, batch 256, 1 thread"] / t2))
    if TRACES:
        print("\n### controller phases per step (us; counts per step), per rank\n")
        for t in TRACES:
            print("%s, rank %d: %s" % (t["what"], t["rank"], json.dumps(t["phases"])))
    print("\nload average at end: %.1f" % os.getloadavg()[0])


if __name__ == "__main__":
    main()
