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
    import scipy_openblas32
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if not cxx:
        sys.exit("bench/cpp_api.py needs a C++17 compiler")
    inc, lib = package_dirs()
    exe = os.path.join(out_dir, "trivial_run")
    subprocess.run([cxx, "-std=c++17", "-O2", os.path.join(HERE, "cpp", "trivial_run.cc"), "-o", exe, "-I" + inc,
                    "-L" + lib, "-Wl,-rpath," + lib, "-Wl,-rpath-link," + scipy_openblas32.get_lib_dir(), "-ltideflow"],
                   check=True)
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
    cpp = dict(line.split() for line in out.strip().splitlines())
    py_run, py_call = python_figures(args.rounds, args.threads)
    print("machine: %s\ncommit: %s\nthreads: %d, medians of %d rounds\n" % (bench_run.machine(), bench_run.commit(),
                                                                             args.threads, args.rounds))
    print("| trivial cached run (us/run) | C++ Callable | C ABI TFL_CallableRun | C++ Session::run | "
          "Python make_callable | Python Session.run |")
    print("|---|---|---|---|---|---|")
    print("| `tf.constant(1.0) + 1.0` | %.3f | %.3f | %.3f | %.3f | %.3f |"
          % (float(cpp["callable_us"]), float(cpp["c_callable_us"]), float(cpp["run_us"]), py_call, py_run))
    print("\nC++ Callable / Python Session.run: %.2fx; target: C++ <= 1 us" % (float(cpp["callable_us"]) / py_run))


if __name__ == "__main__":
    main()
