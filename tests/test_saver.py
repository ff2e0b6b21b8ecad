"""tf.train.Saver, the checkpoint state file and the safetensors checkpoint format."""
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import tideflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG_DIR = os.path.dirname(os.path.abspath(tf.__file__))  # source tree or site-packages


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _values():
    return {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
        "f64": np.float64(np.pi),
        "i32": np.array([[-(2**31), 2**31 - 1]], dtype=np.int32),
        "i64": np.array([-(2**63), 2**63 - 1, 5], dtype=np.int64),
        "flag": np.array([True, False, True]),
        "scalar_i": np.int32(-4),
    }


def _make_vars(values=None):
    values = values or _values()
    return {k: tf.Variable(v, name=k) for k, v in values.items()}


def _crc32c(data):  # bitwise reference implementation (Castagnoli polynomial, reflected)
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


# ---------------------------------------------------------------------------------------------------
# Round trips


def test_round_trip_all_dtypes_and_scalars(tmp_path):
    vals = _values()
    vs = _make_vars(vals)
    bump = [tf.assign(v, np.zeros_like(vals[k])) for k, v in vs.items()]
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, str(tmp_path / "model"))
        assert prefix == str(tmp_path / "model")
        sess.run(bump)
        saver.restore(sess, prefix)
        for k, v in vs.items():
            got = sess.run(v)
            assert got.dtype == np.asarray(vals[k]).dtype and got.shape == np.shape(vals[k])
            np.testing.assert_array_equal(got, vals[k])


def test_restore_in_a_new_session_and_graph(tmp_path):
    vals = _values()
    vs = _make_vars(vals)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = tf.train.Saver().save(sess, str(tmp_path / "m"))
    tf.reset_default_graph()
    vs = _make_vars({k: np.zeros_like(v) for k, v in vals.items()})
    saver = tf.train.Saver()
    with tf.Session() as sess:  # no initializer: restore initializes
        saver.restore(sess, prefix)
        for k, v in vs.items():
            np.testing.assert_array_equal(sess.run(v), vals[k])


def test_restore_does_not_alias_fetched_values(tmp_path):
    v = tf.Variable(np.ones(4, np.float32), name="v")
    inc = tf.assign_add(v, np.ones(4, np.float32))
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(v.initializer)
        p = saver.save(sess, str(tmp_path / "m"))
        saver.restore(sess, p)
        held = sess.run(v)
        sess.run(inc)
        np.testing.assert_array_equal(held, np.ones(4))  # a fetched array never changes
        np.testing.assert_array_equal(sess.run(v), 2 * np.ones(4))
        saver.restore(sess, p)
        np.testing.assert_array_equal(sess.run(v), np.ones(4))


def test_global_step_in_prefix_and_metadata(tmp_path):
    v = tf.Variable(1.0, name="v")
    step = tf.Variable(0, dtype=tf.int64, name="global_step", trainable=False)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert saver.save(sess, str(tmp_path / "model"), global_step=7) == str(tmp_path / "model-7")
        sess.run(tf.assign(step, np.int64(42)))
        p = saver.save(sess, str(tmp_path / "model"), global_step=step)
        assert p == str(tmp_path / "model-42")
        p2 = saver.save(sess, str(tmp_path / "model"), global_step=step.value())
        assert p2 == p
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model-42.meta", "model-42.safetensors",
                                            "model-7.meta", "model-7.safetensors"]
    reader = tf.train.NewCheckpointReader(p)
    assert reader.global_step == 42
    assert reader.metadata()["tideflow.format"] == "1"
    np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path), "v:0"), np.float32(1.0))
    assert tf.train.list_variables(str(tmp_path)) == [("global_step", []), ("v", [])]


def test_state_file_content_and_latest_checkpoint(tmp_path):
    tf.Variable([1.0, 2.0], name="w")
    saver = tf.train.Saver()
    d = str(tmp_path)
    assert tf.train.latest_checkpoint(d) is None
    assert tf.train.get_checkpoint_state(d) is None
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in (1, 2, 3):
            saver.save(sess, os.path.join(d, "model"), global_step=step)
    lines = open(os.path.join(d, "checkpoint")).read().splitlines()
    assert lines[0] == 'model_checkpoint_path: "%s/model-3"' % d
    assert lines[1:4] == ['all_model_checkpoint_paths: "%s/model-%d"' % (d, i) for i in (1, 2, 3)]
    assert all(line.startswith("all_model_checkpoint_timestamps: ") for line in lines[4:7])
    st = tf.train.get_checkpoint_state(d)
    assert st.model_checkpoint_path == os.path.join(d, "model-3")
    assert st.all_model_checkpoint_paths == [os.path.join(d, "model-%d" % i) for i in (1, 2, 3)]
    assert tf.train.latest_checkpoint(d) == os.path.join(d, "model-3")
    assert tf.train.checkpoint_exists(os.path.join(d, "model-2"))
    assert not tf.train.checkpoint_exists(os.path.join(d, "model-9"))
    assert saver.last_checkpoints == [os.path.join(d, "model-%d" % i) for i in (1, 2, 3)]


def test_state_file_relative_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("ckpts")
    tf.Variable(3.0, name="w")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.save(sess, "ckpts/model", global_step=5, latest_filename="latest")
    assert open("ckpts/latest").read().splitlines()[0] == 'model_checkpoint_path: "model-5"'
    assert tf.train.latest_checkpoint("ckpts", latest_filename="latest") == os.path.join("ckpts", "model-5")


def test_state_file_written_by_tensorflow_is_read(tmp_path):
    (tmp_path / "checkpoint").write_text(
        'model_checkpoint_path: "model.ckpt-20"\nall_model_checkpoint_paths: "model.ckpt-10"\n'
        'all_model_checkpoint_paths: "model.ckpt-20"\nall_model_checkpoint_timestamps: 1.5e9\n'
        'all_model_checkpoint_timestamps: 1.6e9\nlast_preserved_timestamp: 1.4e9\n')
    st = tf.train.get_checkpoint_state(str(tmp_path))
    assert st.model_checkpoint_path == str(tmp_path / "model.ckpt-20")
    assert st.all_model_checkpoint_paths == [str(tmp_path / "model.ckpt-10"), str(tmp_path / "model.ckpt-20")]
    assert st.all_model_checkpoint_timestamps == [1.5e9, 1.6e9]
    assert st.last_preserved_timestamp == 1.4e9
    assert tf.train.latest_checkpoint(str(tmp_path)) is None  # the data file is not there


def test_max_to_keep_deletes_every_file_of_old_checkpoints(tmp_path):
    tf.Variable(np.zeros(3, np.float32), name="w")
    saver = tf.train.Saver(max_to_keep=2)
    d = str(tmp_path)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # A temporary file a killed writer left behind goes with its checkpoint.
        open(os.path.join(d, "model-1.safetensors.tmp.99999"), "wb").close()
        for step in range(1, 6):
            saver.save(sess, os.path.join(d, "model"), global_step=step)
    assert sorted(os.listdir(d)) == ["checkpoint", "model-4.meta", "model-4.safetensors", "model-5.meta",
                                     "model-5.safetensors"]
    st = tf.train.get_checkpoint_state(d)
    assert st.all_model_checkpoint_paths == [os.path.join(d, "model-4"), os.path.join(d, "model-5")]


@pytest.mark.parametrize("keep", [None, 0])
def test_max_to_keep_none_or_zero_keeps_all(tmp_path, keep):
    tf.Variable(np.zeros(3, np.float32), name="w")
    saver = tf.train.Saver(max_to_keep=keep)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, 8):
            saver.save(sess, str(tmp_path / "model"), global_step=step, write_meta_graph=False)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint"] + ["model-%d.safetensors" % i for i in range(1, 8)]
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model-7")


def test_keep_checkpoint_every_n_hours_preserves_old_checkpoints(tmp_path):
    tf.Variable(1.0, name="w")
    saver = tf.train.Saver(max_to_keep=1, keep_checkpoint_every_n_hours=1e-9)  # every checkpoint is "old"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(3):
            time.sleep(0.01)
            saver.save(sess, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "m-0.safetensors", "m-1.safetensors", "m-2.safetensors"]
    assert saver.last_checkpoints == [str(tmp_path / "m-2")]


# ---------------------------------------------------------------------------------------------------
# Subsets, renames and errors


def test_dict_and_subset_restore(tmp_path):
    a = tf.Variable([1.0, 2.0], name="a")
    b = tf.Variable(5, name="b")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        p = tf.train.Saver({"weights/renamed": a, "count": b}).save(sess, str(tmp_path / "m"))
    assert sorted(n for n, _ in tf.train.list_variables(p)) == ["count", "weights/renamed"]
    tf.reset_default_graph()
    x = tf.Variable([0.0, 0.0], name="x")
    y = tf.Variable(-1, name="y")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.train.Saver({"weights/renamed": x}).restore(sess, p)  # a subset, under another name
        np.testing.assert_array_equal(sess.run(x), [1.0, 2.0])
        assert sess.run(y) == -1
        tf.train.Saver(var_list={"count": y}).restore(sess, p)
        assert sess.run(y) == 5


def test_var_list_validation():
    a = tf.Variable(1.0, name="a")
    with pytest.raises(ValueError, match="No variables to save"):
        tf.train.Saver(var_list=[])
    with pytest.raises(TypeError, match="Variable"):
        tf.train.Saver(var_list=[a.value()])
    assert tf.train.Saver(var_list=[], allow_empty=True).save(None, "unused") is None
    saver = tf.train.Saver(var_list=[a, a._variable])  # the same variable twice is one entry
    assert saver.as_saver_def()["var_list"] == [["a", "a"]]


def test_missing_variables_one_error_naming_each(tmp_path):
    tf.Variable(1.0, name="present")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        p = tf.train.Saver().save(sess, str(tmp_path / "m"))
    tf.reset_default_graph()
    tf.Variable(1.0, name="present")
    tf.Variable(1.0, name="missing_one")
    tf.Variable([1], name="missing_two")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.NotFoundError) as e:
            tf.train.Saver().restore(sess, p)
    msg = str(e.value)
    assert "'missing_one'" in msg and "'missing_two'" in msg and "'present'" in msg  # checkpoint keys listed
    assert "2 of 3 variables not found" in msg and p in msg


def test_shape_and_dtype_mismatch_one_error_naming_each(tmp_path):
    tf.Variable(np.zeros((2, 3), np.float32), name="w")
    tf.Variable(np.zeros(4, np.float32), name="b")
    tf.Variable(np.zeros(2, np.float32), name="ok")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        p = tf.train.Saver().save(sess, str(tmp_path / "m"))
    tf.reset_default_graph()
    w = tf.Variable(np.ones((3, 2), np.float32), name="w")
    tf.Variable(np.zeros(4, np.float64), name="b")
    ok = tf.Variable(np.ones(2, np.float32), name="ok")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            tf.train.Saver().restore(sess, p)
        np.testing.assert_array_equal(sess.run(ok), [1, 1])  # nothing was assigned
        np.testing.assert_array_equal(sess.run(w), np.ones((3, 2)))
    msg = str(e.value)
    assert "'w'" in msg and "the graph has float32 (3, 2), the checkpoint has float32 (2, 3)" in msg
    assert "'b'" in msg and "the graph has float64 (4,), the checkpoint has float32 (4,)" in msg
    assert "'ok'" not in msg


def test_save_uninitialized_and_bad_paths(tmp_path):
    tf.Variable(1.0, name="never_initialized")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="never_initialized"):
            saver.save(sess, str(tmp_path / "m"))
        with pytest.raises(ValueError, match="Parent directory"):
            saver.save(sess, str(tmp_path / "no_such_dir" / "m"))
        with pytest.raises(ValueError, match="not a valid checkpoint"):
            saver.restore(sess, str(tmp_path / "nothing"))
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------------------------------
# The file format and corruption


def _save_simple(tmp_path, **values):
    vs = {k: tf.Variable(v, name=k) for k, v in values.items()}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return vs, tf.train.Saver().save(sess, str(tmp_path / "m"), global_step=3)


def test_safetensors_package_reads_checkpoint(tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import load_file
    vals = _values()
    _, p = _save_simple(tmp_path, **vals)
    loaded = load_file(p + ".safetensors")
    assert sorted(loaded) == sorted(vals)
    for k, v in vals.items():
        assert loaded[k].dtype == np.asarray(v).dtype
        np.testing.assert_array_equal(loaded[k], v)
    with safe_open(p + ".safetensors", "np") as f:
        meta = f.metadata()
    assert meta["tideflow.format"] == "1" and meta["global_step"] == "3"
    for k, v in vals.items():
        assert meta["crc32c:" + k] == "%08x" % _crc32c(np.ascontiguousarray(v).tobytes())
    # The layout: 8-byte little-endian header length, JSON header, data; the data starts 8-aligned.
    raw = open(p + ".safetensors", "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert (8 + n) % 8 == 0
    assert header["f32"]["dtype"] == "F32" and header["f32"]["shape"] == [2, 3]
    assert header["flag"]["dtype"] == "BOOL" and header["scalar_i"]["shape"] == []


def test_reads_files_from_other_safetensors_writers(tmp_path):
    from safetensors.numpy import save_file
    save_file({"w": np.arange(4, dtype=np.float64), "n": np.array(3, np.int64)}, str(tmp_path / "ext.safetensors"))
    w = tf.Variable(np.zeros(4), name="w")
    with tf.Session() as sess:
        tf.train.Saver({"w": w}).restore(sess, str(tmp_path / "ext"))
        np.testing.assert_array_equal(sess.run(w), np.arange(4))
    r = tf.train.NewCheckpointReader(str(tmp_path / "ext"))
    assert r.get_variable_to_dtype_map() == {"w": tf.float64, "n": tf.int64}
    assert r.global_step is None


def test_corrupted_byte_raises_data_loss_naming_tensor(tmp_path):
    vals = {"first": np.arange(100, dtype=np.float32), "second": np.arange(50, dtype=np.int64)}
    (vs, p) = _save_simple(tmp_path, **vals)
    path = p + ".safetensors"
    raw = bytearray(open(path, "rb").read())
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    begin, _ = header["first"]["data_offsets"]
    raw[8 + n + begin + 17] ^= 0x04
    open(path, "wb").write(bytes(raw))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(vs["second"], np.zeros(50, np.int64)))
        with pytest.raises(tf.errors.DataLossError) as e:
            tf.train.Saver().restore(sess, p)
        np.testing.assert_array_equal(sess.run(vs["second"]), np.zeros(50))  # all or nothing
    assert "'first'" in str(e.value) and path in str(e.value) and "checksum" in str(e.value)
    with pytest.raises(tf.errors.DataLossError, match="'first'"):
        tf.train.load_variable(p, "first")
    np.testing.assert_array_equal(tf.train.load_variable(p, "second"), vals["second"])  # intact tensors read


@pytest.mark.parametrize("cut", [3, 20, -1, -150])
def test_truncated_file_raises_data_loss(tmp_path, cut):
    _, p = _save_simple(tmp_path, a=np.arange(64, dtype=np.float32), b=np.ones(8, np.int32))
    path = p + ".safetensors"
    raw = open(path, "rb").read()
    open(path, "wb").write(raw[:cut] if cut > 0 else raw[:len(raw) + cut])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.DataLossError, match="truncated") as e:
            tf.train.Saver().restore(sess, p)
    assert path in str(e.value)


def test_damaged_header_raises_data_loss(tmp_path):
    _, p = _save_simple(tmp_path, a=np.arange(4, dtype=np.float32), b=np.arange(4, dtype=np.float32))
    path = p + ".safetensors"
    raw = open(path, "rb").read()
    for old, new in ((b'"data_offsets":[0,16]', b'"data_offsets":[0,12]'), (b'"shape":[4]', b'"shape":[5]'),
                     (b'{"a":', b'["a":'), (b'"F32"', b'"X32"')):
        assert old in raw
        open(path, "wb").write(raw.replace(old, new, 1))
        with pytest.raises(tf.errors.DataLossError) as e:
            tf.train.NewCheckpointReader(p)
        assert path in str(e.value)
    with open(path, "wb") as f:  # an absurd header length
        f.write(struct.pack("<Q", 2**62) + raw[8:])
    with pytest.raises(tf.errors.DataLossError, match="header length"):
        tf.train.NewCheckpointReader(p)


def test_every_flipped_bit_and_every_truncation_is_detected(tmp_path):
    _, p = _save_simple(tmp_path, a=np.arange(5, dtype=np.float32), b=np.array([True, False]), c=np.int64(7))
    path = p + ".safetensors"
    good = open(path, "rb").read()

    def load(data):
        open(path, "wb").write(data)
        r = tf.train.NewCheckpointReader(p)
        return {n: r.get_tensor(n) for n in r.get_variable_to_shape_map()}

    assert sorted(load(good)) == ["a", "b", "c"]
    for pos in range(len(good)):
        for bit in (0x01, (0x04, 0x10, 0x20, 0x80)[pos % 4]):
            data = bytearray(good)
            data[pos] ^= bit
            with pytest.raises(tf.errors.DataLossError):
                load(bytes(data))
    for n in range(len(good)):
        with pytest.raises(tf.errors.DataLossError):
            load(good[:n])


# ---------------------------------------------------------------------------------------------------
# Crash safety

_WRITER = textwrap.dedent("""
    import sys, numpy as np
    sys.path.insert(0, sys.argv[2])
    import tideflow as tf
    v = tf.Variable(np.zeros(2_000_000, np.float32), name="big")
    step = tf.placeholder(tf.float32, [])
    fill = tf.assign(v, tf.fill([2_000_000], step)) if hasattr(tf, "fill") else None
    saver = tf.train.Saver(max_to_keep=3)
    with tf.Session() as sess:
        sess.run(v.initializer)
        for i in range(1000):
            if fill is not None:
                sess.run(fill, {step: float(i)})
            else:
                v.load(np.full(2_000_000, i, np.float32), sess)
            saver.save(sess, sys.argv[1] + "/model", global_step=i, write_meta_graph=(i % 2 == 0))
            print(i, flush=True)
""")


def test_sigkill_during_save_leaves_last_checkpoint_restorable(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    rng = random.Random(1234)
    for round_ in range(4):
        d = tmp_path / ("run%d" % round_)
        d.mkdir()
        proc = subprocess.Popen([sys.executable, str(script), str(d), os.path.dirname(PKG_DIR)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = proc.stdout.readline()  # one checkpoint is complete
        assert first.strip() == b"0", proc.stderr.read().decode()
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()

        latest = tf.train.latest_checkpoint(str(d))
        assert latest is not None
        step = int(latest.rsplit("-", 1)[1])
        tf.reset_default_graph()
        v = tf.Variable(np.full(2_000_000, -1, np.float32), name="big")
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, latest)
            got = sess.run(v)
        assert np.all(got == step)
        # Every complete-looking file is a valid checkpoint; partial writes only exist as temporaries.
        for f in os.listdir(d):
            if f.endswith(".safetensors"):
                r = tf.train.NewCheckpointReader(str(d / f))
                assert np.all(r.get_tensor("big") == r.global_step)
            else:
                assert f == "checkpoint" or f.endswith(".meta") or ".tmp." in f, f
        shutil.rmtree(d)


# ---------------------------------------------------------------------------------------------------
# C++ programs use the same files


def test_cpp_program_resumes_a_python_model_and_python_reads_its_files(tmp_path):
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no C++ compiler")
    w = tf.Variable(np.array([1.5, 2.5, 3.5], np.float32), name="w")
    x = tf.placeholder(tf.float32, [3], name="x")
    tf.assign_add(w, x, name="bump")
    tf.identity(w, name="y")
    with tf.Session() as sess:
        sess.run(w.initializer)
        tf.train.Saver().save(sess, str(tmp_path / "py"), write_state=False)

    src = tmp_path / "ckpt.cc"
    src.write_text(textwrap.dedent(r"""
        #include <cstdio>
        #include "io/checkpoint.h"
        #include "io/graph_io.h"
        #include "session.h"
        using namespace tideflow;
        int main(int argc, char** argv) {
          std::string dir = argv[1];
          // Resume the Python model: its graph from the meta graph, its variables from the checkpoint.
          auto g = std::make_shared<Graph>();
          read_meta_graph(*g, dir + "/py.meta");
          Session s(g);
          restore_variables(s, dir + "/py.safetensors", {{"w", g->find("w")}});
          Tensor one(DType::Float32, {3});
          for (int i = 0; i < 3; ++i) one.data<float>()[i] = 1;
          s.run({g->find("x")->out()}, {one}, {}, {g->find("bump")});
          Tensor y = s.run({}, {}, {g->find("y")->out()})[0];
          std::printf("%s %g %g\n", y.summary().c_str(), (double)y.data<float>()[0], (double)y.data<float>()[2]);
          save_variables(s, dir + "/cpp.safetensors", {{"w", g->find("w")}}, {{"global_step", "9"}});
          write_meta_graph(dir + "/cpp.meta", *g);
          write_checkpoint_state(dir, CheckpointState{dir + "/cpp", {dir + "/cpp"}});
          // Plain tensors, and the error for a missing one.
          Tensor a(DType::Float64, {2, 2});
          for (int i = 0; i < 4; ++i) a.data<double>()[i] = 0.5 * i;
          save_checkpoint(dir + "/plain.safetensors", {{"a", a}, {"n", Tensor::scalar<int64_t>(9)}});
          std::printf("%g\n", load_checkpoint(dir + "/plain.safetensors").at("a").data<double>()[3]);
          try {
            load_checkpoint_tensor(dir + "/py.safetensors", "nope");
          } catch (const Error& e) {
            std::printf("code %d\n", (int)e.code());
          }
          return 0;
        }
    """))
    exe = tmp_path / "ckpt"
    import scipy_openblas32
    lib, blas = PKG_DIR, scipy_openblas32.get_lib_dir()
    subprocess.run([cxx, "-std=c++17", "-O1", str(src), "-I", os.path.join(ROOT, "cpp"), "-L", lib, "-ltideflow",
                    "-Wl,-rpath," + lib, "-Wl,-rpath," + blas, "-Wl,-rpath-link," + blas, "-o", str(exe)],
                   check=True)
    # libtideflow finds OpenBLAS next to an installed package; a dev build needs the wheel's directory.
    env = dict(os.environ, LD_LIBRARY_PATH=blas + os.pathsep + os.environ.get("LD_LIBRARY_PATH", ""))
    out = subprocess.run([str(exe), str(tmp_path)], check=True, capture_output=True, text=True, env=env).stdout
    assert out.splitlines() == ["float32[3] 2.5 4.5", "1.5", "code 5"]

    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "cpp")
    assert tf.train.NewCheckpointReader(str(tmp_path / "cpp")).global_step == 9
    np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path / "plain"), "a"), [[0, 0.5], [1, 1.5]])
    with tf.Graph().as_default() as g:
        assert tf.train.import_meta_graph(str(tmp_path / "cpp.meta")) is None  # C++ keeps no collections
        w2 = g.get_tensor_by_name("w:0")
        with tf.Session() as sess:
            tf.train.Saver([w2]).restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
            np.testing.assert_array_equal(sess.run("y:0"), [2.5, 3.5, 4.5])
