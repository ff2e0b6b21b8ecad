"""CPU time per call of one workload, tideflow against TensorFlow (compat.v1 graph mode), for a loaded machine
where wall time means little.

    python bench/cpu_ratio.py -w lstm --threads 1 2 --rounds 7

Each framework runs in a worker process of its own (in one process, the idle threads one framework leaves
spinning would be charged to the other's CPU time); the driver asks the workers in turn, round after round,
for `calls` calls and reads the CPU time (all the worker's threads, from getrusage) they took, so machine
noise hits both alike. Prints the medians and their ratio."""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def worker(framework, name, threads):
    import resource
    import time
    sys.path.insert(0, HERE)
    import workloads as W
    mod = W._tf1() if framework == "tensorflow" else __import__("tideflow")
    fn = W.WORKLOADS[name][0](mod, threads)
    for _ in range(3):
        fn()

    def cpu():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime
    print("ready", flush=True)
    for line in sys.stdin:
        n = int(line)
        c, w = cpu(), time.perf_counter()
        for _ in range(n):
            fn()
        print("%.9f %.9f" % ((cpu() - c) / n, (time.perf_counter() - w) / n), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-w", "--workload", default="lstm")
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--baseline", help="another tideflow's python/ folder, measured as a third worker "
                                       "(before/after a change)")
    args = ap.parse_args()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_USE_LEGACY_KERAS="1")
    for threads in args.threads:
        procs = {}
        for fw in ("tideflow", "tensorflow") + (("baseline",) if args.baseline else ()):
            wenv = env if fw != "baseline" else dict(env, PYTHONPATH=args.baseline)
            p = subprocess.Popen([sys.executable, __file__, "--worker", fw, args.workload, str(threads)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 text=True, env=wenv)
            while p.stdout.readline().strip() != "ready":
                if p.poll() is not None:
                    raise RuntimeError("%s worker failed" % fw)
            procs[fw] = p
        cpu = {fw: [] for fw in procs}
        wall = {fw: [] for fw in procs}
        for _ in range(args.rounds):
            for fw, p in procs.items():
                p.stdin.write("%d\n" % args.calls)
                p.stdin.flush()
                c, w = map(float, p.stdout.readline().split())
                cpu[fw].append(c)
                wall[fw].append(w)
        for p in procs.values():
            p.stdin.close()
            p.wait()
        med = {fw: statistics.median(v) * 1e3 for fw, v in cpu.items()}
        medw = {fw: statistics.median(v) * 1e3 for fw, v in wall.items()}
        print("%s, %d thread(s): CPU ms/call tideflow %.2f, tensorflow %.2f, ratio %.2f  (wall %.2f / %.2f)"
              % (args.workload, threads, med["tideflow"], med["tensorflow"], med["tideflow"] / med["tensorflow"],
                 medw["tideflow"], medw["tensorflow"]), flush=True)
        if args.baseline:
            print("    baseline %.2f ms, this tideflow / baseline %.2f" % (med["baseline"], med["tideflow"] / med["baseline"]))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
