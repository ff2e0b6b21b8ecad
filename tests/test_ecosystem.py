"""Issue 16: namespaces as modules, tf.gfile, tf.test.TestCase, TFRecord files, tf.einsum, absl flags."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tideflow as tf

# the folder of the tideflow under test (the source tree in a dev build, site-packages when installed)
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))


def _run_py(code, *args, cwd=None):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=300)


# --- namespaces ----------------------------------------------------------------------------------------

IMPORT_FORMS = [
    "import tideflow.compat.v1 as tf; tf.placeholder",
    "from tideflow.compat import v1; v1.Session",
    "from tideflow.compat.v1 import nn; nn.relu",
    "import tideflow.compat.v1.nn; tideflow.compat.v1.nn.softmax",
    "import tideflow.compat.v1.nn.rnn_cell as c; c.LSTMCell",
    "import tideflow.math as m; m.reduce_sum; m.erf",
    "from tideflow.math import reduce_sum, erf",
    "import tideflow.linalg as l; l.matmul; l.einsum",
    "import tideflow.nn; tideflow.nn.relu; tideflow.nn.conv2d",
    "from tideflow.nn import rnn_cell; rnn_cell.GRUCell",
    "import tideflow.train as t; t.AdamOptimizer; t.MonitoredTrainingSession",
    "import tideflow.summary as s; s.FileWriter",
    "import tideflow.random as r; r.normal",
    "import tideflow.debugging as d; d.assert_equal",
    "import tideflow.io as io; io.gfile.exists; io.TFRecordWriter",
    "import tideflow.io.gfile as g; g.GFile",
    "import tideflow.errors as e; e.NotFoundError",
    "import tideflow.layers as l; l.dense",
    "import tideflow.losses as l; l.mean_squared_error",
    "import tideflow.python_io as p; p.tf_record_iterator",
    "import tideflow.compat.v1.python_io as p; p.TFRecordWriter",
    "import tideflow.gfile as g; g.Exists",
    "import tideflow.app as a; a.run",
    "import tideflow.flags as f; f.DEFINE_string",
    "import tideflow.test as t; t.TestCase",
    "import tideflow.logging as l; l.info",
    "import tideflow.config.threading as t; t.set_intra_op_parallelism_threads",
    "import tideflow.compat.v2 as tf; tf.function",
]


def test_every_import_form_works_in_a_fresh_process():
    code = "\n".join("%s\nprint('ok')" % form.replace("; ", "\n") for form in IMPORT_FORMS)
    # each form in its own fresh process would cost a second per form on a loaded machine: one process,
    # but before anything else imports the namespace (tideflow itself loads first in every form)
    r = _run_py(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["ok"] * len(IMPORT_FORMS)


def test_dir_lists_the_api_and_nothing_internal():
    names = set(dir(tf))
    for internal in ("np", "math_ops", "array_ops", "_ops", "_os", "framework", "ops", "legacy_names",
                     "tf_logging", "util", "eager", "types", "sys"):
        assert internal not in names, internal
    for api in ("Session", "placeholder", "train", "nn", "math", "einsum", "gfile", "python_io", "float32"):
        assert api in names, api
    assert set(tf.__all__) <= names
    assert all(hasattr(tf, n) for n in tf.__all__)
    assert "np" not in dir(tf.math) and "reduce_sum" in tf.math.__all__
    assert sys.modules["tideflow.math"] is tf.math and sys.modules["tideflow.nn.rnn_cell"] is tf.nn.rnn_cell


def test_star_import_gives_the_api():
    ns = {}
    exec("from tideflow import *", ns)
    assert "Session" in ns and "np" not in ns and "math_ops" not in ns


def test_import_time_stays_fast():
    # absl, unittest and the TFRecord reader load on first use; `import tideflow` must not pull them in.
    r = _run_py("import sys, tideflow; print(sorted(m for m in ('absl', 'unittest', 'absl.flags') "
                "if m in sys.modules))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


# --- tf.gfile ------------------------------------------------------------------------------------------

def test_gfile_local_files(tmp_path):
    g = tf.io.gfile
    d = str(tmp_path / "a" / "b")
    g.makedirs(d)
    g.makedirs(d)  # existing is fine
    assert g.isdir(d) and tf.gfile.IsDirectory(d) and not g.exists(d + "/x")
    with g.GFile(d + "/x.txt", "w") as f:
        f.write("line1\nline2\n")
    with tf.gfile.Open(d + "/x.txt") as f:
        assert f.readline() == "line1\n" and list(f) == ["line2\n"]
    with g.GFile(d + "/y.bin", "wb") as f:
        f.write(b"\x00\x01")
    assert g.GFile(d + "/y.bin", "rb").read() == b"\x00\x01" and g.GFile(d + "/y.bin").size() == 2
    assert sorted(g.listdir(d)) == ["x.txt", "y.bin"] and sorted(tf.gfile.ListDirectory(d)) == ["x.txt", "y.bin"]
    assert g.glob(d + "/*.txt") == [d + "/x.txt"] and tf.gfile.Glob(d + "/?.bin") == [d + "/y.bin"]
    st = g.stat(d + "/x.txt")
    assert st.length == 12 and not st.is_directory and st.mtime_nsec > 0 and g.stat(d).is_directory
    g.copy(d + "/x.txt", d + "/z.txt")
    with pytest.raises(tf.errors.AlreadyExistsError):
        g.copy(d + "/x.txt", d + "/z.txt")
    g.copy(d + "/y.bin", d + "/z.txt", overwrite=True)
    with pytest.raises(tf.errors.AlreadyExistsError):
        g.rename(d + "/x.txt", d + "/z.txt")
    tf.gfile.Rename(d + "/x.txt", d + "/w.txt")
    walked = list(g.walk(str(tmp_path)))
    assert walked[0] == (str(tmp_path), ["a"], []) and walked[-1][0] == d
    assert sorted(walked[-1][2]) == ["w.txt", "y.bin", "z.txt"]
    assert [w[0] for w in tf.gfile.Walk(str(tmp_path), in_order=False)] == [d, str(tmp_path / "a"), str(tmp_path)]
    assert list(g.walk(str(tmp_path / "missing"))) == []
    g.remove(d + "/w.txt")
    with pytest.raises(tf.errors.NotFoundError):
        g.remove(d + "/w.txt")
    with pytest.raises(tf.errors.NotFoundError):
        g.GFile(d + "/w.txt").read()
    with pytest.raises(tf.errors.NotFoundError):
        g.listdir(d + "/nope")
    g.mkdir(d)  # existing: fine (TensorFlow ignores AlreadyExists here)
    with pytest.raises(tf.errors.NotFoundError):
        g.mkdir(d + "/no/such/parent")
    g.rmtree(str(tmp_path / "a"))
    assert not tf.gfile.Exists(str(tmp_path / "a"))
    with pytest.raises(tf.errors.NotFoundError):
        tf.gfile.DeleteRecursively(str(tmp_path / "a"))


def test_gfile_matches_tensorflow(tmp_path):
    tft = pytest.importorskip("tensorflow")
    for lib, root in ((tf.io.gfile, tmp_path / "ours"), (tft.io.gfile, tmp_path / "theirs")):
        lib.makedirs(str(root / "d" / "e"))
        with lib.GFile(str(root / "d" / "f.txt"), "w") as f:
            f.write("abc\n")
        lib.copy(str(root / "d" / "f.txt"), str(root / "d" / "e" / "g.txt"))
    results = []
    for lib, root in ((tf.io.gfile, tmp_path / "ours"), (tft.io.gfile, tmp_path / "theirs")):
        r = str(root)
        walk = [(os.path.relpath(a, r), sorted(b), sorted(c)) for a, b, c in lib.walk(r)]
        errs = []
        for call in (lambda: lib.remove(r + "/nope"), lambda: lib.listdir(r + "/nope"),
                     lambda: lib.copy(r + "/d/f.txt", r + "/d/e/g.txt"), lambda: lib.mkdir(r + "/d"),
                     lambda: lib.GFile(r + "/nope").read()):
            try:
                call()
                errs.append(None)
            except Exception as e:  # noqa: BLE001 (comparing the error classes)
                errs.append(type(e).__name__)
        results.append((walk, sorted(lib.listdir(r + "/d")), lib.glob(r + "/d/*.txt") != [],
                        lib.stat(r + "/d/f.txt").length, lib.isdir(r + "/d"), errs))
    assert results[0] == results[1]


# --- tf.test.TestCase -----------------------------------------------------------------------------------

def test_testcase_runs_graph_tests_and_reports_failures():
    class T(tf.test.TestCase):
        def test_pass(self):
            x = tf.constant([1.0, 2.0])
            with self.cached_session() as sess:
                self.assertAllClose(sess.run(x * 2), [2.0, 4.0])
                self.assertIs(sess, tf.get_default_session())
            with self.test_session():
                self.assertAllEqual(self.evaluate(x), [1.0, 2.0])
            with self.session() as s2:
                self.assertIsNot(s2, sess)
            self.assertAllClose({"a": [1.0, (2.0,)]}, {"a": [1.0 + 1e-9, (2.0,)]})
            self.assertNear(1.0, 1.05, 0.1)
            self.assertShapeEqual(np.zeros((2,)), x)
            self.assertTrue(os.path.isdir(self.get_temp_dir()))
            self.assertAllInRange([1, 2], 1, 2)
            with self.assertRaisesOpError("must be"):
                with self.cached_session() as sess:
                    sess.run(tf.debugging.assert_positive(tf.constant(-1.0), message="must be positive"))

        def test_fresh_graph(self):
            self.assertEqual(tf.get_default_graph().get_operations(), [])
            tf.constant(1.0)

        def test_fails(self):
            self.assertAllClose([1.0], [1.1])

        def test_fails_equal(self):
            self.assertAllEqual([1, 2], [1, 3])

    import unittest
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(T).run(result)
    assert not result.errors, result.errors
    assert sorted(t.id().rsplit(".", 1)[1] for t, _ in result.failures) == ["test_fails", "test_fails_equal"]
    assert result.testsRun == 4


def test_test_main_runs_the_scripts_tests(tmp_path):
    script = tmp_path / "t.py"
    script.write_text(textwrap.dedent("""
        import tideflow as tf
        class T(tf.test.TestCase):
            def test_ok(self):
                self.assertAllClose(self.evaluate(tf.constant(2.0) + 1), 3.0)
            def test_bad(self):
                self.assertAllEqual([1], [2])
        if __name__ == "__main__":
            tf.test.main()
    """))
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 1 and "Ran 2 tests" in r.stderr and "failures=1" in r.stderr, r.stderr


# --- TFRecord files -------------------------------------------------------------------------------------

@pytest.mark.parametrize("compression", ["", "ZLIB", "GZIP"])
def test_tfrecord_round_trip(tmp_path, compression):
    path = str(tmp_path / "r.tfrecord")
    records = [b"", b"abc", bytes(range(256)) * 300, "text"]
    opts = tf.python_io.TFRecordOptions(compression)
    with tf.python_io.TFRecordWriter(path, opts) as w:
        for r in records:
            w.write(r)
    got = list(tf.python_io.tf_record_iterator(path, options=opts))
    assert got == [b"", b"abc", bytes(range(256)) * 300, b"text"]
    assert tf.python_io.TFRecordOptions.get_compression_type_string(opts) == compression
    assert tf.io.TFRecordWriter is tf.python_io.TFRecordWriter


def test_tfrecord_framing_and_corruption(tmp_path):
    import struct
    path = str(tmp_path / "r.tfrecord")
    with tf.io.TFRecordWriter(path) as w:
        w.write(b"hello")
    data = open(path, "rb").read()
    assert len(data) == 8 + 4 + 5 + 4 and struct.unpack("<Q", data[:8])[0] == 5 and data[12:17] == b"hello"
    # the masked CRC-32C of "hello" (TensorFlow's crc32c::Mask(crc32c::Value("hello")))
    crc = 0x9a71bb4c  # CRC-32C("hello")
    assert struct.unpack("<I", data[17:])[0] == ((((crc >> 15) | (crc << 17)) & 0xffffffff) + 0xa282ead8) & 0xffffffff
    bad = bytearray(data)
    bad[13] ^= 1
    open(path, "wb").write(bytes(bad))
    with pytest.raises(tf.errors.DataLossError):
        list(tf.python_io.tf_record_iterator(path))
    open(path, "wb").write(data[:-2])
    with pytest.raises(tf.errors.DataLossError):
        list(tf.python_io.tf_record_iterator(path))
    with pytest.raises(tf.errors.NotFoundError):
        list(tf.python_io.tf_record_iterator(str(tmp_path / "missing")))
    with pytest.raises(ValueError):
        tf.python_io.TFRecordOptions("LZ4")


@pytest.mark.parametrize("compression", ["", "GZIP", "ZLIB"])
def test_tfrecord_files_tensorflow_reads_and_writes(tmp_path, compression):
    tft = pytest.importorskip("tensorflow")
    ours, theirs = str(tmp_path / "ours"), str(tmp_path / "theirs")
    records = [b"x" * n for n in (0, 1, 1000, 70000)]
    with tf.python_io.TFRecordWriter(ours, compression) as w:
        for r in records:
            w.write(r)
    # TensorFlow's own reader; tf.compat.v1.io.tf_record_iterator works whether or not another test left
    # TensorFlow in graph mode (tf.data iteration needs eager mode)
    opts = tft.compat.v1.io.TFRecordOptions(compression) if compression else None
    assert list(tft.compat.v1.io.tf_record_iterator(ours, opts)) == records
    with tft.io.TFRecordWriter(theirs, compression) as w:
        for r in records:
            w.write(r)
    assert list(tf.python_io.tf_record_iterator(theirs, compression)) == records


# --- tf.einsum ------------------------------------------------------------------------------------------

EINSUMS = [("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]), ("ij->ji", [(2, 3)]),
           ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]), ("i,j->ij", [(3,), (4,)]), ("i,i->", [(3,), (3,)]),
           ("bi,bi->b", [(2, 3), (2, 3)]), ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 1)]),
           ("ij,jk", [(2, 3), (3, 2)]), ("abc,cd,de->ae", [(2, 3, 4), (4, 2), (2, 3)]),
           ("ijk,jil->kl", [(2, 3, 2), (3, 2, 4)]), ("i,jk->", [(2,), (2, 3)])]


@pytest.mark.parametrize("equation,shapes", EINSUMS)
def test_einsum_matches_numpy_in_graph_and_eager(equation, shapes):
    rng = np.random.RandomState(0)
    xs = [rng.randn(*s) for s in shapes]
    want = np.einsum(equation, *xs)
    with tf.Graph().as_default():
        phs = [tf.placeholder(tf.float64, [None] + list(s[1:])) for s in shapes]
        out = tf.einsum(equation, *phs)
        with tf.Session() as sess:
            got = sess.run(out, dict(zip(phs, xs)))
        np.testing.assert_allclose(got, want, rtol=1e-12)
        # float64 finite differences for the gradient with respect to every input
        with tf.Session():
            for i, (p, x) in enumerate(zip(phs, xs)):
                feed = {q: v for j, (q, v) in enumerate(zip(phs, xs)) if j != i}
                err = tf.test.compute_gradient_error(p, list(x.shape), out, list(want.shape), x_init_value=x,
                                                     delta=1e-6, extra_feed_dict=feed)
                assert err < 1e-6, (equation, i, err)
    from tideflow.eager import context
    with context.eager_mode():
        np.testing.assert_allclose(tf.einsum(equation, *xs).numpy(), want, rtol=1e-12)


def test_einsum_errors():
    a = tf.zeros([2, 3])
    for eq in ("ii->i", "ij,jk->ik", "ij->k", "i->ii", "i$j->ij"):
        with pytest.raises(ValueError):
            tf.einsum(eq, a)


# --- flags ----------------------------------------------------------------------------------------------

FLAGS_SCRIPT = """
import sys
import tideflow as tf
flags = tf.app.flags
flags.DEFINE_integer("steps", 5, "How many steps.")
flags.DEFINE_string(flag_name="mode", default_value="train", docstring="What to do.")
flags.DEFINE_boolean("fast", False, "Go fast.")
FLAGS = flags.FLAGS
print("before", FLAGS.steps)
def main(argv):
    print("main", FLAGS.steps, FLAGS.mode, FLAGS.fast, argv[1:])
    return 3
tf.app.run()
"""


def _script(tmp_path, source, *args):
    path = tmp_path / "prog.py"
    path.write_text(source)
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, env=env, timeout=300)


def test_flags_through_absl(tmp_path):
    def _run_py(source, *args):
        return _script(tmp_path, source, *args)
    r = _run_py(FLAGS_SCRIPT, "--steps=7", "--fast", "pos")
    assert r.returncode == 3, r.stderr
    assert r.stdout.split("\n")[:2] == ["before 7", "main 7 train True ['pos']"]
    # tf.app.run lets flags nobody defined through to main (reading one before run would raise, as in TF)
    r = _run_py(FLAGS_SCRIPT.replace('print("before", FLAGS.steps)', ''), "--steps=7", "--unknown=1", "pos")
    assert r.returncode == 3 and "main 7 train False ['--unknown=1', 'pos']" in r.stdout, r.stderr
    r = _run_py(FLAGS_SCRIPT, "--steps=7", "--unknown=1")
    assert r.returncode == 1 and "UnrecognizedFlagError: Unknown command line flag 'unknown'" in r.stderr
    late = FLAGS_SCRIPT.replace('print("before", FLAGS.steps)', '')  # --help is a flag of tf.app.run's
    r = _run_py(late, "--help")  # absl exits 1 after --help's short usage, as TensorFlow does
    assert r.returncode == 1 and "--steps: How many steps." in r.stdout and "(default: '5')" in r.stdout
    assert "--mode: What to do." in r.stdout
    r = _run_py(late, "--helpfull")
    assert r.returncode == 1 and "--steps" in r.stdout and "absl.logging" in r.stdout
    ff = tmp_path / "flags.txt"
    ff.write_text("--steps=11\n--mode=eval\n")
    r = _run_py(FLAGS_SCRIPT, "--flagfile=%s" % ff)
    assert r.returncode == 3 and "main 11 eval False []" in r.stdout, r.stderr
    # a bad value raises absl's IllegalFlagValueError naming the flag (TensorFlow's tf.app.run does too)
    r = _run_py(FLAGS_SCRIPT.replace('print("before", FLAGS.steps)', ''), "--steps=abc")
    assert r.returncode == 1 and "IllegalFlagValueError: flag --steps=abc" in r.stderr


def test_flags_behave_as_tensorflows(tmp_path):
    pytest.importorskip("tensorflow")

    def _run_py(source, *args):
        return _script(tmp_path, source, *args)
    late = FLAGS_SCRIPT.replace('print("before", FLAGS.steps)', '')
    for source, args in ((late, ["--steps=7", "--unknown=1", "pos"]), (FLAGS_SCRIPT, ["--steps=7", "--fast"]),
                         (FLAGS_SCRIPT, ["--steps=7", "--unknown=1"]), (late, ["--fast=maybe"])):
        ours = _run_py(source, *args)
        theirs = _run_py(source.replace("import tideflow as tf", "import tensorflow.compat.v1 as tf"), *args)
        assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout), args
        errors = [[ln for ln in r.stderr.splitlines() if "Error: " in ln][-1:] for r in (ours, theirs)]
        assert errors[0] == errors[1], args  # the same exception (TensorFlow's stderr also has its own logs)
    ours = _run_py(late, "--help")
    theirs = _run_py(late.replace("import tideflow as tf", "import tensorflow.compat.v1 as tf"), "--help")
    assert ours.returncode == theirs.returncode == 1
    assert ours.stdout.replace("tideflow", "X").split("\n")[2:] == theirs.stdout.replace("tensorflow", "X").split("\n")[2:]


# --- Summary messages -----------------------------------------------------------------------------------

def test_summary_messages_have_protobufs_interface():
    s = tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=1.5)])
    t = tf.Summary()
    t.CopyFrom(s)
    assert t == s and t is not s and t.ByteSize() == len(s.SerializeToString()) > 0
    t.value.add(tag="b", simple_value=2.0)
    t.MergeFrom(s)
    assert [v.tag for v in t.value] == ["a", "b", "a"] and [v.tag for v in s.value] == ["a"]
    e = tf.Event(step=3, summary=s)
    e2 = tf.Event.FromString(e.SerializeToString())
    assert e2.step == 3 and e2.summary.value[0].simple_value == 1.5
    e2.MergeFromString(tf.Event(wall_time=2.0, summary=tf.Summary(value=[tf.Summary.Value(tag="c")])).SerializeToString())
    assert e2.wall_time == 2.0 and [v.tag for v in e2.summary.value] == ["a", "c"] and e2.step == 3
    assert e2.ParseFromString(e.SerializeToString()) > 0 and e2 == e  # Parse replaces, Merge merges
    e2.ClearField("summary")
    assert not e2.HasField("summary") and e2.step == 3
    e2.Clear()
    assert e2.ListFields() == [] and e2.ByteSize() == 0 and e2.IsInitialized()
    assert tf.Summary.DESCRIPTOR.name == "Summary" and tf.Event.DESCRIPTOR.full_name == "tensorflow.Event"
    assert tf.Summary.Value.DESCRIPTOR.fields_by_name["simple_value"].number == 2
    assert s.DESCRIPTOR.fields_by_name["value"].message_type is tf.Summary.Value.DESCRIPTOR
    with pytest.raises(TypeError):
        tf.Summary().MergeFrom(tf.Event())


def test_summary_messages_match_protobufs_bytes():
    summary_pb2 = pytest.importorskip("tensorboard.compat.proto.summary_pb2")
    event_pb2 = pytest.importorskip("tensorboard.compat.proto.event_pb2")
    ours = tf.Event(step=7, wall_time=1.25, summary=tf.Summary(value=[
        tf.Summary.Value(tag="x", simple_value=0.5),
        tf.Summary.Value(tag="h", histo=tf.HistogramProto(min=0.25, max=2.0, num=3, bucket_limit=[1.0, 2.0],
                                                        bucket=[1.0, 2.0]))]))
    theirs = event_pb2.Event(step=7, wall_time=1.25, summary=summary_pb2.Summary(value=[
        summary_pb2.Summary.Value(tag="x", simple_value=0.5),
        summary_pb2.Summary.Value(tag="h", histo=summary_pb2.HistogramProto(min=0.25, max=2.0, num=3,
                                                                           bucket_limit=[1.0, 2.0],
                                                                           bucket=[1.0, 2.0]))]))
    assert ours.SerializeToString() == theirs.SerializeToString()
    assert ours.ByteSize() == theirs.ByteSize()
    merged = event_pb2.Event()
    merged.MergeFromString(ours.SerializeToString())
    merged.MergeFromString(tf.Event(step=9).SerializeToString())
    mine = tf.Event()
    mine.MergeFromString(ours.SerializeToString())
    mine.MergeFromString(tf.Event(step=9).SerializeToString())
    assert mine.SerializeToString() == merged.SerializeToString()
    assert [f.name for f in tf.Event.DESCRIPTOR.fields] == [f.name for f in event_pb2.Event.DESCRIPTOR.fields]
