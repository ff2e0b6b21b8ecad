"""The trivial cached run from C++ beside the same run from Python, measured on the same machine in one
invocation: compiles bench/cpp/trivial_run.cc against tideflow's C/C++ API and runs it, then times
Python's Session.run and make_callable on the same graph.

    python bench/cpp_api.py [--rounds 5] [--threads 1]

The headers and library come from the installed package (`python -m tideflow --include-dir/--lib-dir`),
or, in a development checkout, from cpp/include and the extension's directory."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as bench_run  # noqa: E402  (machine() and commit())


def package_dirs():
    import tideflow
    pkg = os.path.dirname(os.path.abspath(tideflow.__file__))
    inc = os.path.join(pkg, "include")
    if not os.path.isfile(os.path.join(inc, "tideflow", "c_api.h")):
        inc = os.path.join(os.path.dirname(HERE), "cpp", "include")  # a development checkout
    return inc, pkg


def build(out_dir):
    """bench/cpp/trivial_run.cc on the public API; with the core's reference run (trivial_run_core.cc, on
    the internal headers) linked in when the source tree is at hand."""
    import scipy_openblas32
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if not cxx:
        sys.exit("bench/cpp_api.py needs a C++17 compiler")
    inc, lib = package_dirs()
    core_headers = os.path.join(os.path.dirname(HERE), "cpp")
    sources = [os.path.join(HERE, "cpp", "trivial_run.cc")]
    flags = ["-I" + inc]
    if os.path.isfile(os.path.join(core_headers, "session.h")):
        sources.append(os.path.join(HERE, "cpp", "trivial_run_core.cc"))
        flags += ["-I" + core_headers, "-DTIDEFLOW_BENCH_CORE"]
    exe = os.path.join(out_dir, "trivial_run")
    subprocess.run([cxx, "-std=c++17", "-O2"] + flags + sources + ["-o", exe, "-L" + lib, "-Wl,-rpath," + lib,
                    "-Wl,-rpath-link," + scipy_openblas32.get_lib_dir(), "-ltideflow"], check=True)
    return exe


def python_figures(rounds, threads):
    import tideflow as tf
    g = tf.Graph()
    with g.as_default():
        y = tf.constant(1.0) + 1.0
    sess = tf.Session(graph=g, config=tf.ConfigProto(inter_op_parallelism_threads=threads,
                                                     intra_op_parallelism_threads=threads))
    call = sess.make_callable(y)
    run_t, call_t = [], []
    for _ in range(rounds):
        run_t.append(bench_run.time_call(lambda: sess.run(y)))
        call_t.append(bench_run.time_call(call))
    return float(np.median(run_t)) * 1e6, float(np.median(call_t)) * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        exe = build(d)
        out = subprocess.run([exe, str(args.rounds), str(args.threads)], check=True, capture_output=True,
                             text=True).stdout
    cpp = {k: float(v) for k, v in (line.split() for line in out.strip().splitlines())}
    py_run, py_call = python_figures(args.rounds, args.threads)
    print("machine: %s\ncommit: %s\nthreads: %d, medians of %d rounds\n" % (bench_run.machine(), bench_run.commit(),
                                                                             args.threads, args.rounds))
    core = "%.3f" % cpp["core_us"] if "core_us" in cpp else "-"
    print("| trivial cached run (us/run) | C++ Callable | C ABI TFL_CallableRun | C++ Session::run | "
          "core (internal C++, no API) | Python make_callable | Python Session.run |")
    print("|---|---|---|---|---|---|---|")
    print("| `tf.constant(1.0) + 1.0` | %.3f | %.3f | %.3f | %s | %.3f | %.3f |"
          % (cpp["callable_us"], cpp["c_callable_us"], cpp["run_us"], core, py_call, py_run))
    print("\nC++ Callable / Python Session.run: %.2fx%s; target: C++ <= 1 us"
          % (cpp["callable_us"] / py_run,
             ", C++ Callable - core: %+.3f us" % (cpp["callable_us"] - cpp["core_us"]) if "core_us" in cpp else ""))


if __name__ == "__main__":
    main()
