"""Where a two-thread LSTM training step's time goes (Note [LSTM steps on a pair] in cpp/ops/rnn.cc): runs the
`lstm` workload of workloads.py in this process with one thread and with two, in alternating rounds, and
prints per step the wall time, the process's CPU time, each thread's CPU time (from /proc/self/task, by
thread name: the partner is "tideflow-pair", pool workers "python"), the share of the pair halves the
partner took (the rest its callers ran themselves because the partner was asleep or preempted) and how
often the partner was woken from sleep (once a step when it sleeps only after the gradient loop) and how
often a caller waited over 0.5 ms for a preempted partner (each such straggler stops the pairing for a
while: Note [spinning partner]).

    python bench/lstm_pair.py --rounds 7 --steps 50 [--pin]

On an idle machine the two-thread wall time is the number to read. On a busy one, the calling thread's CPU
time per step bounds the critical path from above (it includes any waiting for a preempted partner and the
halves it took back), as long as the partner took most halves."""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def thread_cpu():
    """CPU seconds of each thread of this process, keyed (name, tid)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open("/proc/self/task/%s/stat" % tid) as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        fields = s[s.rindex(")") + 2:].split()
        out[(name, int(tid))] = (int(fields[11]) + int(fields[12])) / tick
    return out


def worker(threads, pin):
    import json
    sys.path.insert(0, HERE)
    import tideflow as tf
    from tideflow import _core
    import workloads as W
    fn = W.WORKLOADS["lstm"][0](tf, threads)
    for _ in range(3):
        fn()
    if pin:  # the partner on CPU 1, every other thread of this process on CPU 0
        for key in thread_cpu():
            os.sched_setaffinity(key[1], {1} if key[0] == "tideflow-pair" else {0})
    print("ready", flush=True)
    for line in sys.stdin:
        n = int(line)
        p0, th0, w0, c0 = _core._pair_runs(), thread_cpu(), time.perf_counter(), time.process_time()
        for _ in range(n):
            fn()
        w, c = time.perf_counter() - w0, time.process_time() - c0
        th1, p1 = thread_cpu(), _core._pair_runs()
        per = {}
        for key, v in th1.items():
            name = "main" if key[1] == os.getpid() else key[0]
            per[name] = per.get(name, 0.0) + (v - th0.get(key, 0.0))
        partner, caller, wakes, stragglers = (p1[i] - p0[i] for i in range(4))
        print(json.dumps([w / n, c / n, {k: v / n for k, v in per.items()}, partner / max(1, partner + caller),
                          wakes / n, stragglers]), flush=True)


def main():
    import json
    import subprocess
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--pin", action="store_true",
                    help="pin the partner thread to CPU 1 and the others to CPU 0 (a busy machine's scheduler "
                         "tends to put the woken partner beside its caller)")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        return worker(args.worker, args.pin)
    # One worker process per thread count: the thread setting is process-wide (the last Session made sets it).
    procs = {}
    for t in args.threads:
        p = subprocess.Popen([sys.executable, __file__, "--worker", str(t)] + (["--pin"] if args.pin else []), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        while p.stdout.readline().strip() != "ready":
            if p.poll() is not None:
                raise RuntimeError("worker failed")
        procs[t] = p
    rows = {t: [] for t in args.threads}
    for _ in range(args.rounds):
        for t, p in procs.items():
            p.stdin.write("%d\n" % args.steps)
            p.stdin.flush()
            rows[t].append(json.loads(p.stdout.readline()))
    for p in procs.values():
        p.stdin.close()
        p.wait()
    for t in args.threads:
        r = rows[t]
        names = sorted({k for x in r for k in x[2]})
        med = lambda f: statistics.median(f(x) for x in r) * 1e3  # noqa: E731
        per = ", ".join("%s %.2f" % (k, med(lambda x: x[2].get(k, 0.0))) for k in names)
        print("threads %d: wall %.2f ms/step, CPU %.2f (per thread: %s), partner took %.0f%% of the halves, "
              "woken %.1f times a step, %d stragglers in all" % (t, med(lambda x: x[0]), med(lambda x: x[1]), per,
                                                                100 * statistics.median(x[3] for x in r),
                                                                statistics.median(x[4] for x in r),
                                                                sum(x[5] for x in r)))


if __name__ == "__main__":
    main()
