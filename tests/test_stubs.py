"""Issue 16: the checked-in type stubs match the API (tools/gen_stubs.py --check), a type checker reads a
TF1 program through them (and catches its mistakes), and public callables carry docstrings."""
import inspect
import os
import subprocess
import sys
import types

import pytest

import tideflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYDIR = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))  # the tideflow under test, with its stubs


def test_stubs_are_current():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_stubs.py"), "--check"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, ("stubs out of date; run `python tools/gen_stubs.py`:\n" + r.stdout + r.stderr)
    assert os.path.exists(os.path.join(PYDIR, "tideflow", "py.typed"))
    assert os.path.exists(os.path.join(PYDIR, "tideflow", "math.pyi"))  # the wheel carries the stubs


def _mypy(tmp_path, *files):
    pytest.importorskip("mypy")
    env = dict(os.environ)
    if os.path.basename(PYDIR) != "site-packages":  # a dev build; an installed package mypy finds (PEP 561)
        env["MYPYPATH"] = PYDIR
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent",
                           "--cache-dir", str(tmp_path / "cache"), "--no-error-summary", *files],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=600)


def test_type_checker_reads_a_tf1_program_and_catches_its_mistakes(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import tideflow.compat.v1 as tf\n"
                   "x = tf.placeholder(tf.float32, shape=[None], bogus_arg=1)\n"
                   "y = tf.nn.rleu(x)\n"
                   "import tideflow.math\n"
                   "tideflow.math.reduce_summ(x)\n"
                   "tf.train.AdamOptimizr(0.1)\n"
                   "tf.io.gfile.exits('/')\n")
    r = _mypy(tmp_path, os.path.join(ROOT, "tests", "typing", "tf1_program.py"), str(bad))
    assert r.returncode in (0, 1) and not r.stderr.strip(), r.stdout + r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ": error:" in ln]
    assert all(ln.startswith("bad.py") for ln in lines), r.stdout  # the sample program type-checks
    got = sorted(int(ln.split(":")[1]) for ln in lines)
    assert got == [2, 3, 5, 6, 7], r.stdout


# --- docstrings -------------------------------------------------------------------------------------------

def _namespaces():
    yield "tf", tf
    for name in sorted(sys.modules):
        m = sys.modules[name]
        if name.startswith("tideflow.") and not name.startswith("tideflow.compat") and \
                isinstance(m, types.ModuleType) and m.__name__ == name and getattr(m, "__file__", None) is None:
            yield name.replace("tideflow.", "tf.", 1), m


def _undocumented():
    """Public functions and classes of every namespace, and the public methods of tf.Session, tf.Tensor,
    tf.Graph, tf.Operation, tf.Variable, without a docstring."""
    seen, missing = set(), set()
    for mname, m in _namespaces():
        for n in m.__all__:
            v = getattr(m, n)
            if isinstance(v, types.ModuleType) or not callable(v) or id(v) in seen:
                continue
            seen.add(id(v))
            doc = v.__dict__.get("__doc__") if isinstance(v, type) else v.__doc__
            if not (doc or "").strip():
                missing.add("%s.%s" % (mname, n))
    for cls in (tf.Session, tf.InteractiveSession, tf.Tensor, tf.Graph, tf.Operation, tf.Variable):
        for a, f in vars(cls).items():
            if a.startswith("_"):
                continue
            if isinstance(f, property):  # property(fget, doc=...) or a documented fget
                if not (f.__doc__ or "").strip():
                    missing.add("tf.%s.%s" % (cls.__name__, a))
                continue
            f = getattr(f, "__func__", f)
            if callable(f) and not (inspect.getdoc(f) or "").strip():
                missing.add("tf.%s.%s" % (cls.__name__, a))
    return missing


def test_public_callables_have_docstrings():
    # Every public function and class of every namespace (and the public methods of the core classes) says
    # what it computes; a new one without a docstring fails here.
    missing = _undocumented()
    assert not missing, "public callables without a docstring: %s" % sorted(missing)


def test_docstrings_say_what_session_run_does():
    doc = inspect.getdoc(tf.Session.run)
    for word in ("fetches", "feed_dict", "Returns", "Raises"):
        assert word in doc
