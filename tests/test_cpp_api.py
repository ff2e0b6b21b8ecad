"""tideflow as a C/C++ library, the way a user gets it: the installed package's CMake config (the examples
in examples/cpp configured and built out of tree, from a fresh directory) and pkg-config file (a C
program on the C ABI, the C++ error cases). Every program runs without LD_LIBRARY_PATH, and its numbers
and errors are compared with what tideflow's Python API computes and raises.

The package is the installed tideflow's (`python -m tideflow --cmake-dir`), or TIDEFLOW_CMAKE_DIR (a
development build installed with `cmake --install build-dev --prefix DIR`: DIR/lib/cmake/tideflow).
Skipped without cmake or a C/C++ compiler."""
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tideflow as tf

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))


def _tool(*names):
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


def _find_package():
    """(cmake_dir, include_dir, lib_dir, pkgconfig_dir) or a reason to skip."""
    cmake_dir = os.environ.get("TIDEFLOW_CMAKE_DIR")
    if not cmake_dir:
        r = subprocess.run([sys.executable, "-m", "tideflow", "--cmake-dir"], capture_output=True, text=True)
        if r.returncode:
            return "tideflow's C/C++ package is not installed here (%s)" % r.stderr.strip()
        cmake_dir = r.stdout.strip()
    up = lambda *p: os.path.normpath(os.path.join(cmake_dir, *p))  # noqa: E731
    for inc, lib, pc in ((up("..", "include"), up(".."), up("..", "pkgconfig")),  # wheel: tideflow/cmake
                         (up("..", "..", "..", "include"), up("..", ".."), up("..", "..", "pkgconfig"))):  # prefix
        if os.path.isfile(os.path.join(inc, "tideflow", "c_api.h")) and os.path.isfile(os.path.join(lib, "libtideflow.so")):
            return cmake_dir, inc, lib, pc
    return "no headers and library next to %s" % cmake_dir


CMAKE, CC, CXX = _tool("cmake"), _tool("cc", "gcc", "clang"), _tool("c++", "g++", "clang++")
PACKAGE = _find_package()
needs_toolchain = pytest.mark.skipif(not (CMAKE and CC and CXX) or isinstance(PACKAGE, str),
                                     reason="needs cmake, a C and a C++ compiler and tideflow's installed C/C++ "
                                            "package: %s" % (PACKAGE if isinstance(PACKAGE, str) else "tools missing"))


def _env():
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)  # programs find libtideflow and OpenBLAS through their RPATHs
    return env


def _run(cmd, stdin=None, cwd=None, timeout=300):
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=cwd, env=_env(), timeout=timeout)
    assert r.returncode == 0, "%s failed (%d):\n%s\n%s" % (" ".join(map(str, cmd)), r.returncode, r.stdout, r.stderr)
    return r.stdout


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """examples/cpp configured from a fresh directory against the installed package, and built."""
    build = tmp_path_factory.mktemp("examples")
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    _run([CMAKE, "-S", os.path.join(REPO, "examples", "cpp"), "-B", str(build), "-DCMAKE_BUILD_TYPE=",
          "-Dtideflow_DIR=" + PACKAGE[0]] + gen)
    _run([CMAKE, "--build", str(build), "-j", "2"], timeout=600)
    return build


def _pkg_flags(lang):
    """Compile and link flags from the installed pkg-config file (or the same flags by hand without
    pkg-config)."""
    _, inc, lib, pc = PACKAGE
    if shutil.which("pkg-config") and os.path.isfile(os.path.join(pc, "tideflow.pc")):
        env = dict(_env(), PKG_CONFIG_PATH=pc)
        out = subprocess.run(["pkg-config", "--cflags", "--libs", "tideflow"], capture_output=True, text=True,
                             env=env, check=True).stdout
        return out.split()
    import scipy_openblas32
    return ["-I" + inc, "-L" + lib, "-Wl,-rpath," + lib, "-Wl,-rpath-link," + scipy_openblas32.get_lib_dir(),
            "-ltideflow"]


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """tests/cpp/run_model.c (strict C99) and tests/cpp/errors.cpp, built with the pkg-config flags. The C++
    program uses libstdc++'s pre-C++11 ABI (another std::string than libtideflow's): only C types cross
    into the library, so it works all the same."""
    d = tmp_path_factory.mktemp("programs")
    c_prog, cxx_prog = str(d / "run_model"), str(d / "errors")
    _run([CC, "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", os.path.join(HERE, "cpp", "run_model.c"),
          "-o", c_prog] + _pkg_flags("c"))
    _run([CXX, "-std=c++17", "-D_GLIBCXX_USE_CXX11_ABI=0", "-Wall", "-Wextra", "-Werror",
          os.path.join(HERE, "cpp", "errors.cpp"),
          "-o", cxx_prog] + _pkg_flags("c++"))
    return {"c": c_prog, "errors": cxx_prog}


# ---- the package's command line ----

def test_package_dirs_printed_by_python_m_tideflow():
    r = subprocess.run([sys.executable, "-m", "tideflow", "--cmake-dir", "--include-dir", "--lib-dir",
                        "--pkgconfig-dir"], capture_output=True, text=True)
    pkg = os.path.dirname(os.path.abspath(tf.__file__))
    if not os.path.isdir(os.path.join(pkg, "cmake")):  # a development build: a clear message, no traceback
        assert r.returncode == 1 and "is installed by `pip install .`" in r.stderr and "Traceback" not in r.stderr
        return
    assert r.returncode == 0, r.stderr
    cmake_dir, inc, lib, pc = r.stdout.split()
    assert os.path.isfile(os.path.join(cmake_dir, "tideflowConfig.cmake"))
    assert os.path.isfile(os.path.join(cmake_dir, "tideflowConfigVersion.cmake"))
    assert os.path.isfile(os.path.join(inc, "tideflow", "tideflow.h"))
    assert os.path.isfile(os.path.join(lib, "libtideflow.so")) and lib == pkg
    assert os.path.isfile(os.path.join(pc, "tideflow.pc"))


def test_public_headers_include_no_internal_header():
    inc = os.path.join(REPO, "cpp", "include", "tideflow")
    for name in os.listdir(inc):
        for line in open(os.path.join(inc, name)):
            m = re.match(r'\s*#\s*include\s*[<"]([^>"]+)[>"]', line)
            if m:
                assert m.group(1).startswith("tideflow/") or "/" not in m.group(1) and not m.group(1).endswith(".h") \
                    or m.group(1) in ("stddef.h", "stdint.h"), "%s includes %s" % (name, m.group(1))


# ---- the examples ----

def _python_linear_regression():
    x = tf.placeholder(tf.float32, [None, 1], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.Variable(np.zeros((1, 1), np.float32), name="w")
    b = tf.Variable(np.float32(0), name="b")
    loss = tf.reduce_mean(tf.square(tf.add(tf.matmul(x, w), b, name="pred") - y), name="loss")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    xs = np.arange(5, dtype=np.float32).reshape(5, 1)
    ys = np.array([[1.1], [2.9], [5.2], [6.8], [9.1]], np.float32)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for _ in range(200):
            s.run([loss, train], {x: xs, y: ys})
        return s.run([loss, w, b], {x: xs, y: ys})


@needs_toolchain
def test_linear_regression_example_matches_python(examples, tmp_path):
    out = _run([str(examples / "linear_regression"), str(tmp_path / "model")])
    m = re.search(r"loss (\S+) w (\S+) b (\S+)", out)
    got = [float(v) for v in m.groups()]
    loss, w, b = _python_linear_regression()
    np.testing.assert_allclose(got, [loss, w[0, 0], b], rtol=1e-6)
    assert "saved %s" % (tmp_path / "model") in out

    # Python loads what C++ saved and predicts with it.
    tf.reset_default_graph()
    saver = tf.train.import_meta_graph(str(tmp_path / "model.meta"))
    with tf.Session() as s:
        saver.restore(s, str(tmp_path / "model"))
        assert [v.op.name for v in tf.trainable_variables()] == ["w", "b"]
        pred = s.run("pred:0", {"x:0": [[10.0]]})
    np.testing.assert_allclose(pred, [[10 * got[1] + got[2]]], rtol=1e-6)
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model")


@pytest.fixture(scope="module")
def python_model(tmp_path_factory):
    """A small classifier trained and saved by Python: x [None, 4] -> 8 ReLU -> 3 softmax."""
    d = tmp_path_factory.mktemp("pymodel")
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(3)
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        labels = tf.placeholder(tf.int32, [None], name="labels")
        w1 = tf.Variable(tf.random_normal([4, 8], stddev=0.5), name="w1")
        b1 = tf.Variable(tf.zeros([8]), name="b1")
        w2 = tf.Variable(tf.random_normal([8, 3], stddev=0.5), name="w2")
        logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2, name="logits")
        probs = tf.nn.softmax(logits, name="probabilities")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        train = tf.train.AdamOptimizer(0.05).minimize(loss)
        rng = np.random.RandomState(0)
        xs = rng.randn(32, 4).astype(np.float32)
        ys = (xs[:, 0] > 0).astype(np.int32) + (xs[:, 1] > 0).astype(np.int32)
        rows = rng.randn(5, 4).astype(np.float32)
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            for _ in range(20):
                s.run(train, {x: xs, labels: ys})
            prefix = tf.train.Saver().save(s, str(d / "model"), global_step=20)
            want = s.run(probs, {x: rows})
    return prefix, rows, want


@needs_toolchain
def test_load_model_example_runs_a_python_model(examples, python_model):
    prefix, rows, want = python_model
    stdin = "\n".join(" ".join(repr(float(v)) for v in r) for r in rows)
    out = _run([str(examples / "load_model"), prefix, "x:0", "probabilities:0"], stdin=stdin)
    got = np.array([[float(v) for v in line.split()] for line in out.strip().splitlines()])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@needs_toolchain
def test_log_scalars_example_shows_in_tensorboard(examples, tmp_path):
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    path = _run([str(examples / "log_scalars"), str(tmp_path / "logs")]).strip()
    assert os.path.dirname(path) == str(tmp_path / "logs") and os.path.basename(path).startswith("events.out.tfevents.")
    acc = ea.EventAccumulator(path)
    acc.Reload()
    assert acc.Tags()["graph"] and {"loss", "weights/w0", "weights/w1"} <= set(acc.Tags()["scalars"])
    logged = [e.value for e in acc.Scalars("loss")]
    assert [e.step for e in acc.Scalars("loss")] == list(range(50))

    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.Variable(np.array([[0.5], [-0.5]], np.float32), name="w")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y), name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    feed = {x: np.array([[1, 2], [2, 1], [3, 0], [0, 3]], np.float32), y: np.array([[4], [5], [3], [9]], np.float32)}
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        want = [s.run([train, loss], feed)[1] for _ in range(50)]
    np.testing.assert_allclose(logged, want, rtol=1e-6)
    assert logged[-1] < logged[0] / 2


# ---- a C program and the C++ errors ----

@needs_toolchain
def test_c_program_runs_a_python_model(programs, python_model):
    prefix, rows, want = python_model
    out = _run([programs["c"], prefix, "x:0", "probabilities:0", str(rows.shape[0]), str(rows.shape[1])] +
               [repr(float(v)) for v in rows.reshape(-1)])
    got = np.array([[float(v) for v in line.split()] for line in out.strip().splitlines()])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def _normalize(msg):
    return re.sub(r"created at \S+:\d+", "created at <location>", msg)


def _python_errors(tmp_path):
    """The error cases of tests/cpp/errors.cpp, raised by tideflow's Python API: (class name, message)."""
    def unfed_placeholder():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        tf.Session().run(tf.reduce_sum(x))

    def feed_shape():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        tf.Session().run(tf.reduce_sum(x), {x: np.ones((2, 2), np.float32)})

    def feed_dtype():  # Python converts feeds; its core, which C++ shares, refuses a wrong dtype
        x = tf.placeholder(tf.float32, [None], name="x")
        s = tf.Session()
        s._c.run([x._key()], [np.array([1, 2], np.int32)], [x._key()], [])

    def matmul_shape():
        tf.matmul(tf.placeholder(tf.float32, [2, 3], name="a"), tf.placeholder(tf.float32, [2, 3], name="b"))

    def add_dtype():
        tf.add(tf.placeholder(tf.float32, [2], name="a"), tf.placeholder(tf.int32, [2], name="b"))

    def missing_checkpoint():
        tf.Variable([1.0, 2.0], name="w")
        tf.train.Saver().restore(tf.Session(), str(tmp_path / "no_such_model"))

    def uninitialized():
        w = tf.Variable([1.0, 2.0], name="w")
        tf.Session().run(w)

    def unknown_op():
        from tideflow.framework import ops
        ops.apply_op("NoSuchOp", [])

    def reshape_runtime():
        x = tf.placeholder(tf.float32, [None], name="x")
        tf.Session().run(tf.reshape(x, [4]), {x: np.arange(6, dtype=np.float32)})

    def bad_label():
        logits = tf.placeholder(tf.float32, [None, 3], name="logits")
        labels = tf.placeholder(tf.int32, [None], name="labels")
        tf.Session().run(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits),
                         {logits: np.zeros((1, 3), np.float32), labels: [5]})

    def closed_session():
        c = tf.constant(1.0)
        s = tf.Session()
        s.close()
        s._c.run([], [], [c._key()], [])  # the core's answer; Python's front end raises RuntimeError first

    def bad_learning_rate():
        tf.train.AdagradOptimizer(0.1, initial_accumulator_value=-1.0)

    out = {}
    for f in (unfed_placeholder, feed_shape, feed_dtype, matmul_shape, add_dtype, missing_checkpoint, uninitialized,
              unknown_op, reshape_runtime, bad_label, closed_session, bad_learning_rate):
        tf.reset_default_graph()
        try:
            f()
            out[f.__name__] = ("none", "")
        except Exception as e:  # noqa: BLE001 (we compare whatever Python raises)
            out[f.__name__] = (type(e).__name__, str(e))
    return out


@needs_toolchain
def test_cpp_errors_are_python_errors(programs, tmp_path):
    r = subprocess.run([programs["errors"], str(tmp_path)], capture_output=True, text=True, env=_env(), timeout=120)
    assert r.returncode == 0, r.stderr  # every error was an exception; nothing aborted
    got = {}
    for line in r.stdout.splitlines():
        case, cls, code, msg = line.split("\t", 3)
        got[case] = (cls, int(code), msg.replace("\\n", "\n").replace("\\t", "\t"))
    want = _python_errors(tmp_path)
    codes = {"InvalidArgumentError": 3, "NotFoundError": 5, "FailedPreconditionError": 9, "CancelledError": 1,
             "ValueError": 100, "TypeError": 101}
    for case, (py_cls, py_msg) in want.items():
        cls, code, msg = got[case]
        assert (cls, code) == (py_cls, codes[py_cls]), case
        assert _normalize(msg) == _normalize(py_msg), case
        assert "created at" not in msg or "errors.cpp:" in msg  # C++ errors name the C++ line
    assert got["no_gradients"][0] == "ValueError" and got["no_gradients"][2].startswith("No gradients provided")
    assert got["tensor_dtype"][:2] == ("TypeError", 101)
