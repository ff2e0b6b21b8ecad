"""Links a libtideflow.so in which a chosen part of the core is instrumented with sanitizers and the rest is
the objects of an existing build (tools/sanitize.sh ci, issue 15).

An instrumented build of the whole core takes longer on CI's two cores than CI's budget leaves, so CI compiles
only the engine (the sources matching --sources: session, plan, executor, graph, gradients, tensor, thread
pool, resources, the C API, the optimizers, ...) with ASan + UBSan and links them with the plain objects of
the build `pip install .` just made. Mixing is sound: uninstrumented code is not checked, and it cannot cause
a false report in the instrumented part. The compile flags, definitions and include paths of each source are
the original build's (read from its build.ninja), with -O1 for -O2/-O3 and the sanitizer flags added.

    python tools/sanitize_subset.py BUILD_DIR OUT_DIR --flags "-fsanitize=..." [--sources REGEX] [--jobs N]
"""
import argparse
import concurrent.futures
import os
import re
import shlex
import subprocess
import sys
import time

# The engine: what every program runs through. The op families stay plain (the full build checks them).
DEFAULT_SOURCES = r"^cpp/[a-z_]+\.cc$|^cpp/train/|^cpp/ops/(state|matmul|reduce|array_shape|array_fill|tf_gradient_ops)\.cc$"


def relocate(path):
    """pip builds in an isolated environment that it deletes afterwards: OpenBLAS's headers and library named in
    build.ninja are gone then, and the installed scipy_openblas32 (a dependency of tideflow) stands in."""
    if os.path.exists(path) or "scipy_openblas32" not in path:
        return path
    import scipy_openblas32
    root = os.path.dirname(os.path.abspath(scipy_openblas32.__file__))
    return os.path.join(root, path.split("scipy_openblas32", 1)[1].lstrip("/"))


def relocate_flag(flag):
    if flag.startswith("-I"):
        return "-I" + relocate(flag[2:])
    return relocate(flag) if flag.startswith("/") else flag


def parse_build_ninja(path):
    """The tideflow target's compile statements {relative source: (source path, object, vars)} and its link
    statement's vars."""
    compiles, link, cur = {}, None, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("build "):
                cur = None
                m = re.match(r"build (CMakeFiles/tideflow\.dir/(\S+)\.o): CXX_COMPILER__tideflow\S* (\S+)", line)
                if m:
                    cur = {}
                    compiles[m.group(2)] = (m.group(3), m.group(1), cur)
                elif re.match(r"build \S*libtideflow\.so: CXX_SHARED_LIBRARY_LINKER__tideflow", line):
                    cur = link = {"objects": line.split(":", 1)[1].split("|")[0].split()[1:]}
            elif cur is not None and line.startswith("  ") and " = " in line:
                k, v = line.strip().split(" = ", 1)
                cur[k] = v.replace("$$", "$")
    if not compiles or link is None:
        sys.exit("%s: no tideflow target (configure and build tideflow there first)" % path)
    return compiles, link


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("build_dir", help="a built CMake (Ninja) build directory of tideflow")
    p.add_argument("out_dir")
    p.add_argument("--flags", required=True, help="sanitizer flags for compiling and linking")
    p.add_argument("--sources", default=DEFAULT_SOURCES, help="regex on sources relative to the repository root")
    p.add_argument("--jobs", type=int, default=os.cpu_count())
    p.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    args = p.parse_args()
    compiles, link = parse_build_ninja(os.path.join(args.build_dir, "build.ninja"))
    flags = shlex.split(args.flags)
    chosen = sorted(rel for rel in compiles if re.search(args.sources, rel))
    os.makedirs(os.path.join(args.out_dir, "obj"), exist_ok=True)

    def compile_one(rel):
        src, _, v = compiles[rel]
        out = os.path.join(args.out_dir, "obj", rel.replace("/", "_") + ".o")
        opt = [("-O1" if f in ("-O2", "-O3") else f) for f in shlex.split(v.get("FLAGS", ""))]
        includes = [relocate_flag(f) for f in shlex.split(v.get("INCLUDES", ""))]
        cmd = ([args.cxx] + shlex.split(v.get("DEFINES", "")) + includes + opt + flags
               + ["-c", src, "-o", out])
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            sys.exit("compiling %s failed:\n%s\n%s" % (rel, " ".join(cmd), r.stderr[-4000:]))
        return rel, out

    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        instrumented = dict(ex.map(compile_one, chosen))
    objects = []
    for rel, (_, obj, _) in sorted(compiles.items()):
        objects.append(instrumented.get(rel) or os.path.join(args.build_dir, obj))
    missing = [o for o in objects if not os.path.isfile(o)]
    if missing:
        sys.exit("objects missing in %s (build the tideflow target there first): %s" % (args.build_dir, missing[:5]))
    # The original link line less its rpath (the caller sets where the library is found).
    libs = [relocate_flag(t) for t in shlex.split(link.get("LINK_LIBRARIES", "")) if not t.startswith("-Wl,-rpath")]
    lib_dirs = ["-Wl,-rpath," + os.path.dirname(t) for t in libs if t.endswith(".so")]
    out_lib = os.path.join(args.out_dir, "libtideflow.so")
    cmd = ([args.cxx, "-shared", "-fPIC"] + flags + ["-Wl,-soname,libtideflow.so", "-o", out_lib] + objects + libs
           + lib_dirs + ["-pthread"])
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit("linking failed:\n%s" % r.stderr[-4000:])
    print("sanitize_subset: %d of %d core objects instrumented (%s), linked %s in %.0fs"
          % (len(chosen), len(compiles), args.flags, out_lib, time.time() - start))


if __name__ == "__main__":
    main()
