"""Meta graphs: tf.train.export_meta_graph / import_meta_graph and resuming training from them."""
import logging
import os
import struct

import numpy as np
import pytest

import tideflow as tf
from tideflow import _core


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _bits(a):
    a = np.asarray(a)
    return a.dtype.str, a.shape, a.tobytes()


F32_SPECIALS = np.array([0x7FC00001, 0xFFA00005, 0x7F800000, 0x80000000, 0x3F800001], np.uint32).view(np.float32)
F64_SPECIALS = np.array([0x7FF8000000000123, 0xFFF0000000000001, 0xFFF0000000000000, 0x0000000000000001],
                        np.uint64).view(np.float64)


def test_constants_round_trip_bit_exact_in_a_fresh_graph(tmp_path):
    consts = {
        "f32": F32_SPECIALS.reshape(5, 1),
        "f64": F64_SPECIALS,
        "i64": np.array([-(2**63), 2**63 - 1], np.int64),
        "i32": np.array(-7, np.int32),
        "b": np.array([[True], [False]]),
        "empty": np.zeros((0, 3), np.float32),
    }
    for k, v in consts.items():
        tf.constant(v, name=k)
    tf.constant(np.array([b"caf\xc3\xa9", b"\xff\x00raw"], dtype=object), name="s")
    path = str(tmp_path / "g.meta")
    tf.train.export_meta_graph(path)

    with tf.Graph().as_default() as g2:
        assert tf.train.import_meta_graph(path) is None  # no variables: no Saver
        with tf.Session() as sess:
            for k, v in consts.items():
                t = g2.get_tensor_by_name(k + ":0")
                assert t.dtype == tf.as_dtype(v.dtype) and t.shape.as_list() == list(v.shape)
                assert _bits(sess.run(t)) == _bits(v), k
            assert list(sess.run("s:0")) == [b"caf\xc3\xa9", b"\xff\x00raw"]


def _canon(v):
    if isinstance(v, float):
        return ("f", struct.pack("<d", v))
    if isinstance(v, (list, tuple)):
        return tuple(_canon(x) for x in v)
    if isinstance(v, np.ndarray):
        return ("t",) + ((v.dtype.str, v.shape, tuple(v.reshape(-1))) if v.dtype == object else _bits(v))
    if isinstance(v, _core.Shape):
        return ("shape", v.dims)
    if isinstance(v, _core.DType):
        return ("type", str(v))
    return v


def test_every_attribute_kind_round_trips(tmp_path):
    nan_payload = struct.unpack("<d", struct.pack("<Q", 0x7FF800000000ABCD))[0]
    attrs = {
        "b": True, "i": -(2**40), "f": nan_payload, "f2": -0.0, "s": "h\u00e9\x00llo \"q\"\n",
        "type": tf.float64._enum, "list_i": [1, -2, 3], "list_f": [1.5, -0.0, float("inf"), nan_payload],
        "list_s": ["a", "b\n\"c\\"], "list_type": [tf.int32._enum, tf.bool._enum],
        "shape": _core.Shape([None, 3]), "shape_unknown": _core.Shape(None), "shape_scalar": _core.Shape([]),
        "tensor": np.array([[1, 2]], np.int64), "tensor_f": F32_SPECIALS,
        "tensor_s": ("strings", [2], [b"x", b"\xff\xfe"]), "empty": [],
    }
    g = tf.get_default_graph()
    op = g.create_op("NoOp", [], attrs, name="carrier")
    before = {k: _canon(v) for k, v in g._c.node_attrs(op._id).items()}
    assert set(before) == set(attrs)
    md = tf.train.export_meta_graph()
    with tf.Graph().as_default() as g2:
        tf.train.import_meta_graph(md)
        op2 = g2.get_operation_by_name("carrier")
        after = {k: _canon(v) for k, v in g2._c.node_attrs(op2._id).items()}
    assert after == before


def test_structure_round_trip(tmp_path):
    with tf.device("/cpu:0"):
        x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.placeholder(tf.float32, None, name="y")
    y.set_shape([4, 3])
    with tf.control_dependencies([x.op]):
        z = tf.identity(y, name="z")
    late = tf.identity(x, name="late")
    z.op._add_control_input(late.op)  # a control edge to a node created later
    path = str(tmp_path / "g.meta")
    tf.train.export_meta_graph(path)
    g1 = tf.get_default_graph()
    desc1 = [(o.name, o.type, [t.name for t in o.inputs], sorted(c.name for c in o.control_inputs), o.device,
              o.location, [t.shape.as_list() if t.shape.ndims is not None else None for t in o.outputs])
             for o in g1.get_operations()]
    with tf.Graph().as_default() as g2:
        tf.train.import_meta_graph(path)
        desc2 = [(o.name, o.type, [t.name for t in o.inputs], sorted(c.name for c in o.control_inputs), o.device,
                  o.location, [t.shape.as_list() if t.shape.ndims is not None else None for t in o.outputs])
                 for o in g2.get_operations()]
        assert sorted(desc2) == sorted(desc1)
        assert g2.get_tensor_by_name("y:0").shape.as_list() == [4, 3]  # set_shape survives
        assert g2.get_operation_by_name("late").location == late.op.location  # errors still point at the user
        assert "test_meta_graph.py:" in late.op.location
        with tf.Session() as sess:
            out = sess.run("z:0", {"x:0": np.ones((2, 3)), "y:0": np.full((4, 3), 2.0)})
            np.testing.assert_array_equal(out, np.full((4, 3), 2.0))


def test_collections_and_variables_round_trip(tmp_path, caplog):
    w = tf.Variable(np.arange(3, dtype=np.float32), name="w")
    n = tf.Variable(5, name="counter", trainable=False)
    hidden = tf.Variable(1.0, name="hidden", collections=[], trainable=False)
    x = tf.placeholder(tf.float32, [3], name="x")
    train = tf.group(tf.assign_add(w, x), tf.assign_add(n, 1), name="train")
    tf.add_to_collection(tf.GraphKeys.TRAIN_OP, train)
    for item in (x, train, 3, True, 2.5, float("nan"), "text", b"\x00\xff"):
        tf.add_to_collection("mixed", item)
    tf.add_to_collection("unsupported", object())
    tf.add_to_collection("unsupported", x)
    path = str(tmp_path / "g.meta")
    with caplog.at_level(logging.WARNING):
        tf.train.export_meta_graph(path)
    assert "unsupported" in caplog.text

    with tf.Graph().as_default() as g2:
        saver = tf.train.import_meta_graph(path)
        gv = tf.global_variables()
        assert [v.name for v in gv] == ["w:0", "counter:0"]
        assert [v.name for v in tf.trainable_variables()] == ["w:0"]
        assert tf.trainable_variables()[0] is gv[0]  # one Variable object per variable
        w2 = gv[0]
        assert w2.initializer.name == "w/Assign" and w2.value().name == "w/read:0"
        assert w2.initial_value.name == "w/initial_value:0" and w2.graph is g2
        assert tf.get_collection(tf.GraphKeys.TRAIN_OP)[0] is g2.get_operation_by_name("train")
        mixed = tf.get_collection("mixed")
        assert mixed[0] is g2.get_tensor_by_name("x:0") and mixed[1] is g2.get_operation_by_name("train")
        assert mixed[2:5] == [3, True, 2.5] and type(mixed[3]) is bool
        assert np.isnan(mixed[5]) and mixed[6:] == ["text", b"\x00\xff"]
        assert tf.get_collection("unsupported") == []
        assert sorted(dict(saver.as_saver_def()["var_list"])) == ["counter", "w"]  # not the uncollected one
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.get_collection(tf.GraphKeys.TRAIN_OP)[0], {"x:0": np.ones(3)})
            np.testing.assert_array_equal(sess.run(w2), [1, 2, 3])
            assert sess.run("counter:0") == 6
    del hidden


def test_import_scope_clear_devices_and_name_clashes(tmp_path):
    with tf.device("/cpu:0"):
        tf.Variable([1.0, 2.0], name="v")
    path = str(tmp_path / "g.meta")
    tf.train.export_meta_graph(path)
    with tf.Graph().as_default() as g2:
        s1 = tf.train.import_meta_graph(path, import_scope="a")
        s2 = tf.train.import_meta_graph(path, import_scope="b", clear_devices=True)
        assert [v.name for v in tf.global_variables()] == ["a/v:0", "b/v:0"]
        assert g2.get_operation_by_name("a/v").device == "/cpu:0"
        assert g2.get_operation_by_name("b/v").device == ""
        assert g2.get_operation_by_name("a/v/Assign").inputs[1].name == "a/v/initial_value:0"
        # Checkpoint keys stay the names in the file, so both copies restore from one checkpoint.
        assert s1.as_saver_def()["var_list"] == [["v", "a/v"]] and s2.as_saver_def()["var_list"] == [["v", "b/v"]]
        n = g2._c.num_nodes()
        with pytest.raises(ValueError, match="'a/v/initial_value' already exists"):
            tf.train.import_meta_graph(path, import_scope="a")
        assert g2._c.num_nodes() == n


def test_saver_export_records_its_var_list(tmp_path):
    a = tf.Variable(1.5, name="a")
    tf.Variable(2.5, name="b")
    saver = tf.train.Saver({"renamed_a": a})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, str(tmp_path / "m"), global_step=1)
    assert os.path.exists(prefix + ".meta")
    with tf.Graph().as_default() as g2:
        s2 = tf.train.import_meta_graph(prefix + ".meta")
        assert s2.as_saver_def()["var_list"] == [["renamed_a", "a"]]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.assign(g2.get_tensor_by_name("a:0"), 0.0))
            s2.restore(sess, prefix)
            assert sess.run("a:0") == 1.5 and sess.run("b:0") == 2.5


def test_seed_round_trip_and_metagraphdef_object():
    tf.set_random_seed(1234)
    tf.constant(1.0, name="c")
    md = tf.train.export_meta_graph(collection_list=[])
    assert md.collection_def == {} and isinstance(md.SerializeToString(), bytes)
    with tf.Graph().as_default() as g2:
        tf.train.import_meta_graph(md)
        assert g2.seed == 1234
        assert g2.get_tensor_by_name("c:0").dtype == tf.float32


def test_malformed_truncated_and_future_files(tmp_path):
    tf.Variable(np.arange(4, dtype=np.float32), name="v")
    tf.constant(np.arange(10, dtype=np.float64), name="c")
    good = tf.train.export_meta_graph().SerializeToString()

    def attempt(data, exc, match):
        path = str(tmp_path / "bad.meta")
        open(path, "wb").write(data)
        with tf.Graph().as_default() as g:
            with pytest.raises(exc, match=match) as e:
                tf.train.import_meta_graph(path)
            assert g._c.num_nodes() == 0 and tf.global_variables() == []
        assert path in str(e.value)

    # files not in tideflow's format are read as TensorFlow MetaGraphDefs (text or binary), which these aren't
    attempt(b"model_checkpoint_path: 'not a meta graph'", tf.errors.DataLossError, "not valid protobuf text")
    attempt(b"\x08\x01\x12\x04" + good[4:], tf.errors.DataLossError, "corrupted")
    for cut in (5, 30, len(good) // 2, len(good) - 1):
        attempt(good[:cut], tf.errors.DataLossError, "truncated")
    attempt(good + b"\x00", tf.errors.DataLossError, "trailing")
    for pos in (60, len(good) // 2, len(good) - 10):
        flipped = bytearray(good)
        flipped[pos] ^= 0x20
        attempt(bytes(flipped), tf.errors.DataLossError, "checksum")
    future = bytearray(good)
    future[8:12] = struct.pack("<I", 2)
    attempt(bytes(future), ValueError, "format version 2")
    with pytest.raises(tf.errors.NotFoundError):
        tf.train.import_meta_graph(str(tmp_path / "missing.meta"))


def test_every_flipped_bit_is_detected():
    tf.Variable(np.arange(4, dtype=np.float32), name="v")
    tf.constant(np.arange(3, dtype=np.float64), name="c")
    tf.add_to_collection("mixed", 1.5)
    good = tf.train.export_meta_graph().SerializeToString()
    from tideflow.framework.meta_graph import MetaGraphDef
    with tf.Graph().as_default() as g:
        for pos in range(len(good)):
            data = bytearray(good)
            data[pos] ^= (0x01, 0x08, 0x20, 0x80)[pos % 4]
            with pytest.raises((tf.errors.DataLossError, ValueError)):
                tf.train.import_meta_graph(MetaGraphDef(bytes(data), {}))
        assert g._c.num_nodes() == 0
        tf.train.import_meta_graph(MetaGraphDef(good, {}))
        assert tf.get_collection("mixed") == [1.5]


def test_resume_training_from_meta_graph_with_assign_ops(tmp_path):
    theta = tf.Variable([1.0, 2.0], name="theta")
    step = tf.Variable(0, name="global_step", trainable=False)
    delta = tf.placeholder(tf.float32, [2], name="delta")
    train = tf.group(tf.assign_add(theta, delta), tf.assign_add(step, 1), name="train")
    tf.add_to_collection(tf.GraphKeys.TRAIN_OP, train)
    deltas = [np.array([0.5, -1.0], np.float32) * k for k in range(1, 7)]
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for d in deltas[:3]:
            sess.run(train, {delta: d})
        prefix = saver.save(sess, str(tmp_path / "model"), global_step=step)
        for d in deltas[3:]:
            sess.run(train, {delta: d})
        expected = sess.run(theta)
    assert prefix.endswith("model-3")

    with tf.Graph().as_default() as g2:
        saver2 = tf.train.import_meta_graph(prefix + ".meta")
        train2 = tf.get_collection(tf.GraphKeys.TRAIN_OP)[0]
        with tf.Session() as sess:
            saver2.restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
            for d in deltas[3:]:
                sess.run(train2, {"delta:0": d})
            np.testing.assert_array_equal(sess.run(g2.get_tensor_by_name("theta:0")), expected)
            assert sess.run("global_step:0") == 6
            saver2.save(sess, str(tmp_path / "model"), global_step=g2.get_tensor_by_name("global_step:0"))
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model-6")



def test_resume_training_with_adam_from_meta_graph(tmp_path):
    target = np.array([1.0, -2.0, 3.0], np.float32)
    theta = tf.Variable(np.zeros(3, np.float32), name="theta")
    loss = tf.square(tf.subtract(theta, target), name="loss")  # minimize sums a vector loss, as TF does
    gs = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(0.1).minimize(loss, global_step=gs, name="train")
    tf.add_to_collection(tf.GraphKeys.TRAIN_OP, train)
    tf.add_to_collection("loss", loss)
    saver = tf.train.Saver()
    config = tf.ConfigProto(inter_op_parallelism_threads=1)
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(5):
            sess.run(train)
        prefix = saver.save(sess, str(tmp_path / "model"), global_step=gs)
        for _ in range(5):
            sess.run(train)
        expected_theta, expected_loss = sess.run([theta, loss])
    names = [n for n, _ in tf.train.list_variables(prefix)]
    assert "theta" in names and "theta/Adam" in names and "theta/Adam_1" in names

    with tf.Graph().as_default() as g2:
        saver2 = tf.train.import_meta_graph(prefix + ".meta")
        assert {v.op.name for v in tf.global_variables()} >= {"theta", "theta/Adam", "theta/Adam_1"}
        assert [v.op.name for v in tf.trainable_variables()] == ["theta"]
        train2 = tf.get_collection(tf.GraphKeys.TRAIN_OP)[0]
        with tf.Session(config=config) as sess:
            saver2.restore(sess, prefix)
            for _ in range(5):
                sess.run(train2)
            np.testing.assert_array_equal(sess.run(g2.get_tensor_by_name("theta:0")), expected_theta)
            np.testing.assert_array_equal(sess.run(tf.get_collection("loss")[0]), expected_loss)
            assert sess.run(tf.train.get_or_create_global_step()) == 10


def test_savers_collection_is_not_reported_as_unsupported(tmp_path, caplog):
    # The default Saver sits in the SAVERS collection (MonitoredTrainingSession's Scaffold puts it there);
    # the meta graph describes it with its saver_def, so exporting stays quiet and import gives a Saver.
    v = tf.Variable([1.0, 2.0], name="v")
    saver = tf.train.Saver()
    tf.add_to_collection(tf.GraphKeys.SAVERS, saver)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with caplog.at_level(logging.WARNING):
            prefix = saver.save(sess, str(tmp_path / "m"), global_step=1)
    assert not [r for r in caplog.records if "Issue encountered" in r.getMessage()]
    with tf.Graph().as_default():
        restored = tf.train.import_meta_graph(prefix + ".meta")
        with tf.Session() as sess:
            restored.restore(sess, prefix)
            np.testing.assert_array_equal(sess.run("v:0"), [1.0, 2.0])
