"""Event files: TFRecord framing and CRCs re-parsed independently, contents read back by TensorBoard's
EventAccumulator and by a running TensorBoard server, and the FileWriter's flushing, naming and lifetime."""
import glob
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import textwrap
import time
import urllib.request

import numpy as np
import pytest

import tideflow as tf
from tideflow import _core
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.compat.proto import event_pb2

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Where the imported package lives (the source tree for in-place builds, site-packages when installed).
PKG_DIR = os.path.dirname(os.path.abspath(tf.__file__))


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


# ---- an independent TFRecord reader ----

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(c):
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_records(path):
    with open(path, "rb") as f:
        data = f.read()
    out, pos = [], 0
    while pos < len(data):
        assert pos + 12 <= len(data), "truncated record header"
        header = data[pos:pos + 8]
        n, = struct.unpack("<Q", header)
        hcrc, = struct.unpack("<I", data[pos + 8:pos + 12])
        assert hcrc == masked(crc32c(header)), "bad length CRC at offset %d" % pos
        body = data[pos + 12:pos + 12 + n]
        assert len(body) == n, "truncated record body"
        dcrc, = struct.unpack("<I", data[pos + 12 + n:pos + 16 + n])
        assert dcrc == masked(crc32c(body)), "bad data CRC at offset %d" % pos
        out.append(body)
        pos += 16 + n
    return out


def read_events(path):
    return [event_pb2.Event.FromString(r) for r in read_records(path)]


def event_files(logdir):
    return sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*")))


def accumulator(path):
    acc = ea.EventAccumulator(path, size_guidance={k: 0 for k in ea.DEFAULT_SIZE_GUIDANCE})
    acc.Reload()
    return acc


# ---- format ----

def test_crc32c_reference_vector():
    assert crc32c(b"123456789") == 0xE3069283


def test_framing_file_version_and_event_fields(tmp_path):
    x = tf.placeholder(tf.float32, [], name="x")
    s = tf.summary.scalar("loss", x)
    with tf.Session() as sess:
        w = tf.summary.FileWriter(str(tmp_path), sess.graph)
        for step in range(3):
            w.add_summary(sess.run(s, {x: step * 0.5}), global_step=step + 10)
        w.close()
    files = event_files(str(tmp_path))
    assert len(files) == 1
    name = os.path.basename(files[0])
    assert name.startswith("events.out.tfevents.") and name.endswith(socket.gethostname())
    stamp = int(name.split(".")[3])
    assert abs(stamp - time.time()) < 600
    events = read_events(files[0])
    assert events[0].file_version == "brain.Event:2"
    assert [e.WhichOneof("what") for e in events] == ["file_version", "graph_def", "summary", "summary", "summary"]
    for e in events:
        assert abs(e.wall_time - time.time()) < 600
    assert [e.step for e in events[2:]] == [10, 11, 12]
    assert [e.summary.value[0].simple_value for e in events[2:]] == [0.0, 0.5, 1.0]


def test_tensorflow_reads_our_event_files(tmp_path):
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    with tf.summary.FileWriter(str(tmp_path), graph=tf.get_default_graph()) as w:
        for step in range(5):
            w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="x", simple_value=step * 1.5)]), step)
    # TensorFlow's own record reader checks both CRCs of every record.
    events = list(tf1.train.summary_iterator(event_files(str(tmp_path))[0]))
    assert events[0].file_version == "brain.Event:2"
    assert [(e.step, e.summary.value[0].simple_value) for e in events[2:]] == [(s, s * 1.5) for s in range(5)]


def test_scalars_from_session_read_back_by_event_accumulator(tmp_path):
    v = tf.Variable(1.0, name="v")
    with tf.name_scope("train"):
        step_op = tf.assign_add(v, 0.25)
        loss = tf.identity(step_op, name="value")
        tf.summary.scalar("loss", loss)
    merged = tf.summary.merge_all()
    got = []
    with tf.Session() as sess, tf.summary.FileWriter(str(tmp_path), sess.graph) as w:
        sess.run(v.initializer)
        for step in range(25):
            val, summ = sess.run([loss, merged])
            got.append(float(val))
            w.add_summary(summ, step)
    acc = accumulator(str(tmp_path))
    events = acc.Scalars("train/loss")
    assert [e.step for e in events] == list(range(25))
    assert [e.value for e in events] == got
    names = {n.name for n in acc.Graph().node}
    assert {"v", "v/Assign", "v/read", "train/AssignAdd", "train/value", "train/loss", "Merge/MergeSummary"} <= names


def test_histograms_images_and_text_read_back(tmp_path):
    vals = tf.placeholder(tf.float32, [None], name="vals")
    tf.summary.histogram("weights", vals)
    for c in (1, 3, 4):
        tf.summary.image("img%d" % c, tf.constant(np.random.RandomState(c).rand(2, 6, 9, c).astype(np.float32)),
                         max_outputs=2)
    tf.summary.text("notes", tf.constant("hello *tensorboard*"))
    merged = tf.summary.merge_all()
    data = np.array([-2.0, 0.5, 3.0, 3.5], np.float32)
    with tf.Session() as sess, tf.summary.FileWriter(str(tmp_path)) as w:
        w.add_summary(sess.run(merged, {vals: data}), 7)
    acc = accumulator(str(tmp_path))
    h = acc.Histograms("weights")[0]
    assert h.step == 7
    hv = h.histogram_value
    assert (hv.num, hv.min, hv.max, hv.sum) == (4, -2.0, 3.5, 5.0)
    assert hv.sum_squares == pytest.approx((data.astype(np.float64) ** 2).sum())
    from PIL import Image
    import io
    for c in (1, 3, 4):
        for i in range(2):
            ev = acc.Images("img%d/image/%d" % (c, i))[0]
            assert (ev.width, ev.height) == (9, 6)
            img = Image.open(io.BytesIO(ev.encoded_image_string))
            assert img.size == (9, 6) and len(img.getbands()) == c
    t = acc.Tensors("notes")[0]
    assert list(t.tensor_proto.string_val) == [b"hello *tensorboard*"]
    assert acc.SummaryMetadata("notes").plugin_data.plugin_name == "text"


def test_ten_thousand_scalars_read_back_complete(tmp_path):
    x = tf.placeholder(tf.float32, [], name="x")
    s = tf.summary.scalar("series", x)
    n = 10000
    with tf.Session() as sess:
        w = tf.summary.FileWriter(str(tmp_path), max_queue=10)
        run = sess.make_callable(s, [x])
        for step in range(n):
            w.add_summary(run(np.float32(step * 0.001)), step)
        w.close()
    events = accumulator(str(tmp_path)).Scalars("series")
    assert len(events) == n
    assert [e.step for e in events] == list(range(n))
    assert [e.value for e in events] == [float(np.float32(step * 0.001)) for step in range(n)]
    assert len(read_records(event_files(str(tmp_path))[0])) == n + 1


def test_core_event_writer_add_scalar(tmp_path):
    w = _core.EventWriter(str(tmp_path / "cpp"), 5, 1.0)
    for step in range(100):
        w.add_scalar("direct", step * 2.0, step)
    w.close()
    events = accumulator(str(tmp_path / "cpp")).Scalars("direct")
    assert [(e.step, e.value) for e in events] == [(s, s * 2.0) for s in range(100)]


# ---- the writer's lifetime ----

def test_two_writers_in_one_directory_do_not_clobber(tmp_path):
    a = tf.summary.FileWriter(str(tmp_path))
    b = tf.summary.FileWriter(str(tmp_path))
    assert a.event_file != b.event_file
    for step in range(50):
        a.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="a", simple_value=step)]), step)
        b.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="b", simple_value=-step)]), step)
    a.close()
    b.close()
    files = event_files(str(tmp_path))
    assert files == sorted([a.event_file, b.event_file])
    for path, tag, sign in ((a.event_file, "a", 1), (b.event_file, "b", -1)):
        events = read_events(path)
        assert events[0].file_version == "brain.Event:2"
        assert [(e.step, e.summary.value[0].tag, e.summary.value[0].simple_value) for e in events[1:]] == \
            [(s, tag, sign * s) for s in range(50)]


def test_flush_and_periodic_flush(tmp_path):
    w = tf.summary.FileWriter(str(tmp_path / "manual"))  # default flush_secs=120: nothing flushes on its own
    w.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="t", simple_value=1.0)]), 1)
    w.flush()
    assert len(read_records(w.event_file)) == 2
    w.close()

    p = tf.summary.FileWriter(str(tmp_path / "periodic"), flush_secs=0.2)
    p.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="t", simple_value=2.0)]), 2)
    deadline = time.time() + 10
    while len(read_records(p.event_file)) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert len(read_records(p.event_file)) == 2
    p.close()


def test_close_drops_later_events_and_reopen_starts_a_new_file(tmp_path):
    w = tf.summary.FileWriter(str(tmp_path))
    first = w.event_file
    w.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="t", simple_value=1.0)]), 1)
    w.close()
    w.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="t", simple_value=9.0)]), 9)
    w.flush()
    assert len(read_records(first)) == 2
    w.reopen()
    assert w.event_file != first
    w.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="t", simple_value=3.0)]), 3)
    w.close()
    second = read_events(w.event_file)
    assert second[0].file_version == "brain.Event:2" and second[1].step == 3
    assert len(event_files(str(tmp_path))) == 2


def test_session_log_and_raw_events(tmp_path):
    with tf.summary.FileWriter(str(tmp_path)) as w:
        assert w.get_logdir() == str(tmp_path)
        w.add_session_log(tf.summary.SessionLog(status=tf.summary.SessionLog.START), 5)
        w.add_event(tf.summary.Event(step=6, wall_time=123.0, file_version="custom"))
        w.add_summary(None)  # TF accepts a None summary (merge_all() with no summaries) and writes nothing
    events = read_events(event_files(str(tmp_path))[0])
    assert len(events) == 3
    assert events[1].session_log.status == event_pb2.SessionLog.START and events[1].step == 5
    assert (events[2].step, events[2].wall_time, events[2].file_version) == (6, 123.0, "custom")


def test_run_metadata_and_file_writer_cache(tmp_path):
    w = tf.summary.FileWriterCache.get(str(tmp_path))
    assert tf.summary.FileWriterCache.get(str(tmp_path)) is w
    w.add_run_metadata(tf.RunMetadata(), "step3", global_step=3)
    tf.summary.FileWriterCache.clear()
    events = read_events(event_files(str(tmp_path))[0])
    assert events[1].WhichOneof("what") == "graph_def"  # the cache's writers get the default graph
    assert events[2].tagged_run_metadata.tag == "step3" and events[2].step == 3


def test_logdir_is_created_and_unwritable_logdir_fails_clearly(tmp_path):
    nested = tmp_path / "a" / "b" / "c"
    with tf.summary.FileWriter(str(nested)) as w:
        assert os.path.isdir(nested) and os.path.dirname(w.event_file) == str(nested)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(tf.errors.OpError, match="Cannot create the summary log directory '%s" % (blocker / "logs")):
        tf.summary.FileWriter(str(blocker / "logs"))


def test_open_writers_are_flushed_at_interpreter_exit(tmp_path):
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        import tideflow as tf
        w = tf.summary.FileWriter(%r)
        for step in range(200):
            w.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="t", simple_value=step)]), step)
        keep = w  # never closed, never flushed: the atexit hook must do it
    """ % (os.path.dirname(PKG_DIR), str(tmp_path)))
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    events = read_events(event_files(str(tmp_path))[0])
    assert [e.step for e in events[1:]] == list(range(200))


def test_graph_tab_has_scope_hierarchy(tmp_path):
    with tf.name_scope("layer1"):
        with tf.name_scope("inner"):
            a = tf.placeholder(tf.float32, [2], name="a")
        tf.identity(a, name="out")
    with tf.summary.FileWriter(str(tmp_path), graph=tf.get_default_graph()):
        pass
    g = accumulator(str(tmp_path)).Graph()
    nodes = {n.name: n for n in g.node}
    assert list(nodes["layer1/out"].input) == ["layer1/inner/a"]
    assert nodes["layer1/inner/a"].op == "Placeholder"


# ---- TensorBoard itself ----

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read().decode())


def test_tensorboard_server_serves_the_scalars(tmp_path):
    tb = shutil.which("tensorboard")
    if tb is None:
        pytest.skip("the tensorboard command is not installed")
    x = tf.placeholder(tf.float32, [], name="x")
    s = tf.summary.scalar("loss", x)
    expected = []
    with tf.Session() as sess, tf.summary.FileWriter(str(tmp_path), sess.graph) as w:
        for step in range(10):
            expected.append([step, 1.0 / (step + 1)])
            w.add_summary(sess.run(s, {x: 1.0 / (step + 1)}), step)
    port = _free_port()
    proc = subprocess.Popen([tb, "--logdir", str(tmp_path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = "http://127.0.0.1:%d" % port
        deadline, data, run = time.time() + 90, None, None
        while time.time() < deadline:
            try:
                runs = _get_json(base + "/data/runs")
                if runs:
                    run = runs[0]
                    data = _get_json(base + "/data/plugin/scalars/scalars?run=%s&tag=loss"
                                     % urllib.request.quote(run))
                    if len(data) == len(expected):
                        break
            except (OSError, ValueError):
                pass
            if proc.poll() is not None:
                pytest.fail("tensorboard exited with code %s" % proc.returncode)
            time.sleep(0.5)
        assert run == "."
        assert data is not None and [[d[1], d[2]] for d in data] == \
            [[st, float(np.float32(v))] for st, v in expected]
        with urllib.request.urlopen(base + "/data/plugin/graphs/graph?run=.", timeout=30) as r:
            graph_pbtxt = r.read().decode()
        assert 'name: "loss"' in graph_pbtxt and 'name: "loss/tags"' in graph_pbtxt
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- C++ programs log too ----

def test_cpp_program_logs_scalars(tmp_path):
    cxx = shutil.which("c++") or shutil.which("g++")
    lib = glob.glob(os.path.join(PKG_DIR, "libtideflow.so*"))
    if cxx is None or not lib:
        pytest.skip("needs a C++ compiler and libtideflow.so next to the package")
    src = tmp_path / "log.cc"
    src.write_text(textwrap.dedent("""
        #include "summary/event_writer.h"
        int main(int argc, char** argv) {
          tideflow::EventWriter w(argv[1]);
          for (int step = 0; step < 30; ++step) w.add_scalar("cpp/loss", 100.0 / (step + 1), step);
          return 0;  // the destructor flushes and closes
        }
    """))
    exe = tmp_path / "log"
    libdir = os.path.dirname(lib[0])
    import scipy_openblas32  # libtideflow's BLAS, which the Python package otherwise preloads
    blas = scipy_openblas32.get_lib_dir()
    subprocess.run([cxx, "-std=c++17", "-O1", "-I", os.path.join(REPO, "cpp"), str(src), "-o", str(exe),
                    "-L", libdir, "-ltideflow", "-Wl,-rpath," + libdir, "-Wl,-rpath-link," + blas, "-pthread"],
                   check=True, timeout=300)
    env = dict(os.environ, LD_LIBRARY_PATH=blas)
    subprocess.run([str(exe), str(tmp_path / "logs")], check=True, timeout=60, env=env)
    events = accumulator(str(tmp_path / "logs")).Scalars("cpp/loss")
    assert [(e.step, e.value) for e in events] == [(s, float(np.float32(100.0 / (s + 1)))) for s in range(30)]
