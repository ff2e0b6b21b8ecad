#!/usr/bin/env bash
# Builds tideflow's core under sanitizers and runs tests on it (issue 15).
#
#   tools/sanitize.sh asan [PYTEST ARGS...]   AddressSanitizer + UndefinedBehaviorSanitizer: build-asan/,
#                                             then pytest on it (default: the whole suite, tests/)
#   tools/sanitize.sh tsan [ROUNDS]           ThreadSanitizer: build-tsan/ (the library), then
#                                             tests/cpp/threads.cpp: 8 threads sharing one Session
#                                             (training, fetching, making callables, closing)
#   tools/sanitize.sh ci [PYTEST ARGS...]     CI's subset: the engine instrumented with ASan + UBSan and
#                                             linked with an existing build's other objects, then the
#                                             C++ test programs and the engine's test files on it
#
# The dev build (python/tideflow/_core*.so) is untouched: the ASan build is staged in build-asan/py, a copy
# of python/ with the sanitized libraries, and Python runs it with the sanitizer runtimes preloaded (the
# interpreter itself is not instrumented); pytest runs with -s, since a sanitizer report ends the process and
# pytest's capture would lose it. Leak detection is off (CPython keeps interned objects until
# exit); every UBSan finding is fatal. JOBS=n sets the build's parallelism (default: nproc).
# The build type is RelWithDebInfo because CMakeLists.txt pins Release's flags to -O3: -O1 compiles the
# instrumented core in about half the time and keeps ASan's reports exact.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
MODE="${1:-asan}"
shift || true
JOBS="${JOBS:-$(nproc)}"
CXX_BIN="${CXX:-g++}"
OPENBLAS_DIR="$(python -c 'import scipy_openblas32 as s; print(s.get_lib_dir())')"
export LD_LIBRARY_PATH="$OPENBLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

case "$MODE" in
asan)
  FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g1"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" \
    -DCMAKE_CXX_FLAGS="$FLAGS" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
  ninja -C build-asan -j"$JOBS" tideflow _core
  rm -rf build-asan/py
  mkdir -p build-asan/py
  cp -r python/tideflow build-asan/py/
  find build-asan/py/tideflow -maxdepth 1 \( -name '_core*.so' -o -name 'libtideflow*.so*' \) -delete
  cp build-asan/_core*.so build-asan/libtideflow*.so* build-asan/py/tideflow/
  PRELOAD="$($CXX_BIN -print-file-name=libasan.so) $($CXX_BIN -print-file-name=libubsan.so)"
  [ $# -gt 0 ] || set -- tests
  LD_PRELOAD="$PRELOAD" \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:handle_segv=1:detect_stack_use_after_return=0" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  PYTHONPATH="$ROOT/build-asan/py" TIDEFLOW_SANITIZED=asan \
    python -m pytest -q -s -rs -p no:cacheprovider "$@"
  ;;
tsan)
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread -g1" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" >/dev/null
  ninja -C build-tsan -j"$JOBS" tideflow
  "$CXX_BIN" -std=c++17 -O1 -g -fsanitize=thread -I cpp/include tests/cpp/threads.cpp -o build-tsan/threads \
    -L build-tsan -ltideflow -Wl,-rpath,"$ROOT/build-tsan" -pthread
  # OpenBLAS is not instrumented; its own threads are off (tideflow runs it single-threaded per call).
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" OPENBLAS_NUM_THREADS=1 build-tsan/threads "${1:-3}"
  ;;
ci)
  # CI's subset (.ci/run): the engine (session, plan, executor, graph, gradients, tensor, thread pool, resources,
  # C API, optimizers and the ops a training step runs) compiled with ASan + UBSan and linked with the plain
  # objects of an existing build (tools/sanitize_subset.py; default: the one `pip install .` leaves in
  # build/<wheel tag>/, else build-dev/), staged with that build's Python package in build-san-ci/py. Then
  # tests/cpp/threads.cpp and errors.cpp and the engine's test files run on it; any report fails the run.
  BASE="${TIDEFLOW_SAN_BASE:-$(dirname "$(ls -d build/*/build.ninja build-dev/build.ninja 2>/dev/null | head -1)")}"
  FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  python tools/sanitize_subset.py "$BASE" build-san-ci --flags "$FLAGS" --jobs "$JOBS"
  # (grep reads all of nm's output: with -q, nm could die of SIGPIPE and pipefail would fail the check)
  nm -D build-san-ci/libtideflow.so | grep __asan_report >/dev/null || { echo "build-san-ci: not instrumented" >&2; exit 1; }
  # The Python package built with those objects: in place (python/tideflow) or installed by pip.
  if grep -q "TIDEFLOW_INPLACE:BOOL=ON" "$BASE/CMakeCache.txt"; then
    PKG="$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BASE/CMakeCache.txt")/python/tideflow"
  else PKG="$(cd / && python -c 'import os, tideflow; print(os.path.dirname(tideflow.__file__))')"; fi
  rm -rf build-san-ci/py
  mkdir -p build-san-ci/py
  cp -r "$PKG" build-san-ci/py/tideflow
  cp build-san-ci/libtideflow.so build-san-ci/py/tideflow/libtideflow.so
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:handle_segv=1:detect_stack_use_after_return=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  for prog in threads errors; do
    "$CXX_BIN" -std=c++17 -O1 -g1 $FLAGS -I cpp/include "tests/cpp/$prog.cpp" -o "build-san-ci/$prog" \
      -L build-san-ci -ltideflow -Wl,-rpath,"$ROOT/build-san-ci" -pthread
  done
  OPENBLAS_NUM_THREADS=1 build-san-ci/threads "${SAN_CI_ROUNDS:-2}"
  tmp="$(mktemp -d)"
  build-san-ci/errors "$tmp" > build-san-ci/errors.out
  rm -rf "$tmp"
  echo "errors.cpp: $(wc -l < build-san-ci/errors.out) cases, ended normally"
  PRELOAD="$($CXX_BIN -print-file-name=libasan.so) $($CXX_BIN -print-file-name=libubsan.so)"
  [ $# -gt 0 ] || set -- tests/test_session.py tests/test_graph.py tests/test_c_api.py tests/test_fuzz_findings.py tests/test_reliability.py
  LD_PRELOAD="$PRELOAD" PYTHONPATH="$ROOT/build-san-ci/py" TIDEFLOW_SANITIZED=asan \
    python -m pytest -q -s -rs -p no:cacheprovider "$@"
  ;;
*)
  echo "usage: $0 asan [pytest args...] | tsan [rounds] | ci [pytest args...]" >&2
  exit 2
  ;;
esac
