"""TensorFlow's own files without TensorFlow: checkpoints (tensor bundles), GraphDefs and MetaGraphDefs
written by TensorFlow (tests/data/tf, made by make_tf_files.py) read back and run, tideflow's TensorFlow
format written and read back, and corrupted files refused."""
import os
import shutil
import struct

import numpy as np
import pytest

import tideflow as tf
from tideflow import _core
from tideflow.framework import text_format
from tideflow.framework import tf_messages as pb

DATA = os.path.join(os.path.dirname(__file__), "data", "tf")
CKPT = os.path.join(DATA, "ckpt")
E = np.load(os.path.join(DATA, "expected.npz"))


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


# ---------------------------------------------------------------------------------------------------
# Checkpoints written by TensorFlow


def test_list_and_load_variables_of_a_tensorflow_checkpoint():
    assert tf.train.latest_checkpoint(CKPT) == os.path.join(CKPT, "model-3")
    names = dict(tf.train.list_variables(CKPT))
    assert names["w"] == [4, 5] and names["w/Adam_1"] == [4, 5] and names["global_step"] == []
    np.testing.assert_array_equal(tf.train.load_variable(CKPT, "w"), E["ckpt_w"])
    np.testing.assert_array_equal(tf.train.load_variable(CKPT, "flags:0"), E["ckpt_flags"])
    assert tf.train.load_variable(CKPT, "global_step") == 3


def test_checkpoint_reader_of_a_tensorflow_checkpoint():
    r = tf.train.NewCheckpointReader(os.path.join(CKPT, "model-3"))
    assert r.has_tensor("b2") and not r.has_tensor("nope")
    dt = r.get_variable_to_dtype_map()
    assert dt["w"] == tf.float32 and dt["global_step"] == tf.int64 and dt["flags"] == tf.bool
    assert dt["tags"] == tf.string
    assert list(r.get_tensor("tags")) == [b"alpha", b"", b"\x00\xff"]
    assert b"w (DT_FLOAT) [4,5]\n" in r.debug_string()
    with pytest.raises(tf.errors.NotFoundError, match="Key nope not found"):
        r.get_tensor("nope")


def test_partitioned_variable_is_assembled_from_its_slices():
    prefix = os.path.join(DATA, "sliced", "model")
    assert tf.train.list_variables(prefix) == [("emb", [7, 2])]
    np.testing.assert_array_equal(tf.train.load_variable(prefix, "emb"), E["emb"])
    r = _core.TfBundleReader(prefix)
    np.testing.assert_array_equal(r.read_slice("emb", [(3, 2), (0, -1)]), E["emb"][3:5])
    # restored into an unpartitioned variable, as TensorFlow allows
    v = tf.Variable(tf.zeros([7, 2]), name="emb")
    with tf.Session() as s:
        tf.train.Saver([v]).restore(s, prefix)
        np.testing.assert_array_equal(s.run(v), E["emb"])


def test_saver_restores_a_tensorflow_checkpoint_into_a_tideflow_graph():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    w = tf.Variable(tf.zeros([4, 5]), name="w")
    b = tf.Variable(tf.zeros([5]), name="b")
    h = tf.nn.bias_add(tf.matmul(x, w), b)
    h = tf.nn.relu6(h) + tf.nn.elu(h) + tf.nn.leaky_relu(h, 0.1) + tf.nn.softplus(h) - tf.nn.selu(h)
    w2 = tf.get_variable("w2", [5, 3])
    b2 = tf.get_variable("b2", [3])
    logits = tf.matmul(h, w2) + b2
    with tf.Session() as s:
        tf.train.Saver([w, b, w2, b2]).restore(s, tf.train.latest_checkpoint(CKPT))
        np.testing.assert_allclose(s.run(logits, {x: E["X"]}), E["ckpt_logits"], rtol=1e-5, atol=1e-5)


def test_restore_names_missing_and_mismatched_variables():
    v = tf.Variable(tf.zeros([3, 3]), name="w")
    u = tf.Variable(0.0, name="missing_one")
    with tf.Session() as s:
        with pytest.raises(tf.errors.NotFoundError, match="missing_one"):
            tf.train.Saver([v, u]).restore(s, os.path.join(CKPT, "model-3"))
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"'w'.*float32 \(3, 3\).*DT_FLOAT \(4, 5\)"):
            tf.train.Saver([v]).restore(s, os.path.join(CKPT, "model-3"))


def test_init_from_checkpoint_reads_tensorflow_checkpoints():
    w = tf.get_variable("w", [4, 5])
    tf.train.init_from_checkpoint(CKPT, {"w": "w"})
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(s.run(w), E["ckpt_w"])


def test_a_v1_checkpoint_is_refused_by_name(tmp_path):
    (tmp_path / "model.ckpt").write_bytes(b"\x00" * 64)
    with pytest.raises(tf.errors.UnimplementedError, match="V1 checkpoint"):
        tf.train.NewCheckpointReader(str(tmp_path / "model.ckpt"))
    with pytest.raises(ValueError, match="V1"):
        tf.train.Saver(var_list=[tf.Variable(1.0)], write_version=tf.train.SaverDef.V1)


# ---------------------------------------------------------------------------------------------------
# GraphDefs and meta graphs written by TensorFlow


@pytest.mark.parametrize("name", ["frozen.pb", "frozen.pbtxt"])
def test_frozen_graph_from_tensorflow_runs(name):
    with open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    gd = tf.GraphDef()
    if name.endswith("txt"):
        text_format.Parse(data, gd)
    else:
        gd.ParseFromString(data)
    ops = {n.op for n in gd.node}
    assert {"AddV2", "BiasAdd", "Relu6", "Elu", "LeakyRelu", "Softplus", "Selu"} <= ops  # mapped ops
    probs, = tf.import_graph_def(gd, return_elements=["probs:0"], name="frozen")
    assert probs.name == "frozen/probs:0"
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(probs, {"frozen/x:0": E["X"]}), E["frozen_probs"], rtol=1e-5, atol=1e-6)


def test_import_graph_def_input_map_and_prefixes():
    gd = pb.GraphDef.FromString(open(os.path.join(DATA, "frozen.pb"), "rb").read())
    x = tf.placeholder(tf.float32, [None, 4], name="features")
    a, = tf.import_graph_def(gd, input_map={"x": x * 1.0}, return_elements=["probs:0"])
    b, op = tf.import_graph_def(gd, input_map={"x:0": x}, return_elements=["probs:0", "probs"])
    assert a.name == "import/probs:0" and b.name == "import_1/probs:0" and op is b.op
    with tf.Session() as s:
        ra, rb = s.run([a, b], {x: E["X"]})
    np.testing.assert_allclose(ra, E["frozen_probs"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rb, E["frozen_probs"], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="not found in graph_def"):
        tf.import_graph_def(gd, input_map={"nope:0": x})
    with pytest.raises(ValueError, match="not found in graph_def"):
        tf.import_graph_def(gd, return_elements=["nope:0"])
    # name="" keeps the names; a clash is made unique, as TensorFlow does
    c, = tf.import_graph_def(gd, return_elements=["probs:0"], name="")
    d, = tf.import_graph_def(gd, return_elements=["probs:0"], name="")
    assert c.name == "probs:0" and d.name == "probs_1:0"


def test_tensorflow_meta_graph_resumes_training():
    saver = tf.train.import_meta_graph(os.path.join(CKPT, "model-3.meta"))
    assert sorted(saver._vars)[:3] == ["b", "b/Adam", "b/Adam_1"] and len(saver._vars) == 17
    assert tf.get_collection("my_ints") == [7] and tf.get_collection("my_floats") == [0.5]
    assert len(tf.trainable_variables()) == 4 and len(tf.global_variables()) == 17
    train = tf.get_collection("train_op")[0]
    feed = {"x:0": E["X"], "y:0": E["Y"]}
    with tf.Session() as s:
        saver.restore(s, tf.train.latest_checkpoint(CKPT))
        np.testing.assert_allclose(s.run("logits:0", feed), E["ckpt_logits"], rtol=1e-5, atol=1e-5)
        losses = []
        for _ in range(2):
            s.run(train, feed)
            losses.append(s.run("loss:0", feed))
        np.testing.assert_allclose(losses, E["resumed_losses"], rtol=1e-5)
        np.testing.assert_allclose(s.run("logits:0", feed), E["resumed_logits"], rtol=1e-4, atol=1e-5)
        assert s.run("global_step:0") == 5


def test_resource_variable_graph_from_tensorflow_2():
    saver = tf.train.import_meta_graph(os.path.join(DATA, "resource", "model.meta"))
    feed = {"x:0": E["X"]}
    with tf.Session() as s:
        saver.restore(s, os.path.join(DATA, "resource", "model"))
        s.run(tf.get_collection("train_op")[0], feed)
        np.testing.assert_allclose(s.run("loss:0", feed), E["resource_loss"], rtol=1e-5)


def test_unsupported_ops_are_named_before_anything_is_added():
    gd = pb.GraphDef()
    gd.node.add(name="x", op="Placeholder").attr["dtype"].type = pb.DT_FLOAT
    gd.node.add(name="c1", op="StatelessRandomUniformV2", input=["x", "x"])
    gd.node.add(name="c2", op="StatelessRandomUniformV2", input=["c1", "x"])
    gd.node.add(name="p", op="PartitionedCall", input=["c2"])
    before = len(tf.get_default_graph().get_operations())
    with pytest.raises(tf.errors.NotFoundError, match=r"StatelessRandomUniformV2 \(c1, c2\)\n.*PartitionedCall \(p\)"):
        tf.import_graph_def(gd)
    assert len(tf.get_default_graph().get_operations()) == before


def test_unsupported_attribute_values_and_dtypes_are_refused():
    gd = pb.GraphDef()
    n = gd.node.add(name="x", op="Placeholder")
    n.attr["dtype"].type = pb.DT_COMPLEX64
    with pytest.raises(tf.errors.UnimplementedError, match="DT_COMPLEX64"):
        tf.import_graph_def(gd)
    gd = pb.GraphDef()
    gd.node.add(name="x", op="Placeholder").attr["dtype"].type = pb.DT_FLOAT
    c = gd.node.add(name="c", op="Cast", input=["x"])
    c.attr["DstT"].type = pb.DT_INT32
    c.attr["Truncate"].b = True
    with pytest.raises(tf.errors.UnimplementedError, match="Truncate=True"):
        tf.import_graph_def(gd)


def _node(gd, name, op, inputs=(), **attrs):
    n = gd.node.add(name=name, op=op, input=list(inputs))
    for k, v in attrs.items():
        if isinstance(v, np.ndarray):
            n.attr[k].tensor.CopyFrom(tf.make_tensor_proto(v))
        elif isinstance(v, float):
            n.attr[k].f = v
        elif isinstance(v, str):
            n.attr[k].s = v.encode()
        else:
            n.attr[k].type = v
    return n


def test_mapped_ops_and_tensorflow_gradient_ops_against_numpy():
    rng = np.random.RandomState(1)
    xv = rng.randn(3, 4).astype(np.float32)
    gv = rng.randn(3, 4).astype(np.float32)
    gd = pb.GraphDef()
    _node(gd, "x", "Const", value=xv, dtype=pb.DT_FLOAT)
    _node(gd, "g", "Const", value=gv, dtype=pb.DT_FLOAT)
    _node(gd, "bias", "Const", value=np.arange(4, dtype=np.float32), dtype=pb.DT_FLOAT)
    _node(gd, "add", "AddV2", ["x", "g"])
    _node(gd, "biasadd", "BiasAdd", ["x", "bias"], data_format="NHWC")
    _node(gd, "biasgrad", "BiasAddGrad", ["g"])
    _node(gd, "relu6g", "Relu6Grad", ["g", "x"])
    _node(gd, "elug", "EluGrad", ["g", "x"])
    _node(gd, "softplusg", "SoftplusGrad", ["g", "x"])
    _node(gd, "leakyg", "LeakyReluGrad", ["g", "x"], alpha=0.3)
    _node(gd, "l2", "L2Loss", ["x"])
    _node(gd, "cond", "Const", value=np.array([True, False, True]), dtype=pb.DT_BOOL)
    _node(gd, "sel", "Select", ["cond", "x", "g"])  # TF1: a vector condition picks rows
    _node(gd, "s0", "Const", value=np.array([2, 1, 3], np.int32), dtype=pb.DT_INT32)
    _node(gd, "s1", "Const", value=np.array([1, 4, 1], np.int32), dtype=pb.DT_INT32)
    _node(gd, "bga", "BroadcastGradientArgs", ["s0", "s1"])
    names = ["add", "biasadd", "biasgrad", "relu6g", "elug", "softplusg", "leakyg", "l2", "sel", "bga:0", "bga:1"]
    outs = tf.import_graph_def(gd, return_elements=[n if ":" in n else n + ":0" for n in names], name="")
    with tf.Session() as s:
        r = dict(zip(names, s.run(outs)))
    sig = 1 / (1 + np.exp(-xv))
    np.testing.assert_allclose(r["add"], xv + gv, rtol=1e-6)
    np.testing.assert_allclose(r["biasadd"], xv + np.arange(4), rtol=1e-6)
    np.testing.assert_allclose(r["biasgrad"], gv.sum(0), rtol=1e-5)
    np.testing.assert_allclose(r["relu6g"], gv * ((xv > 0) & (xv < 6)), rtol=1e-6)
    np.testing.assert_allclose(r["elug"], np.where(xv < 0, gv * (xv + 1), gv), rtol=1e-6)
    np.testing.assert_allclose(r["softplusg"], gv * sig, rtol=1e-5)
    np.testing.assert_allclose(r["leakyg"], np.where(xv > 0, gv, 0.3 * gv), rtol=1e-6)
    np.testing.assert_allclose(r["l2"], (xv ** 2).sum() / 2, rtol=1e-5)
    np.testing.assert_allclose(r["sel"], np.where(np.array([True, False, True])[:, None], xv, gv))
    assert r["bga:0"].tolist() == [1] and r["bga:1"].tolist() == [0, 2]


@pytest.mark.parametrize("s0, s1, r0, r1", [
    ([2, 1, 3], [1, 4, 1], [1], [0, 2]), ([1, 1], [1, 1], [], []), ([3], [2, 1, 3], [0, 1], [1]),
    ([], [2, 3], [0, 1], []), ([1, 2], [2], [0], [0]), ([1], [1, 1, 1], [0, 1, 2], [0, 1, 2]),
    ([0, 1], [1, 5], [1], [0]), ([2, 1, 1, 3], [1, 1, 1], [1, 2], [0, 1, 2, 3])])
def test_broadcast_gradient_args_follows_tensorflow(s0, s1, r0, r1):
    # cases checked against TensorFlow 2.21's kernel
    a, b = tf.placeholder(tf.int64, [None]), tf.placeholder(tf.int64, [None])
    out = tf.get_default_graph().create_op("BroadcastGradientArgs", [a, b]).outputs
    with tf.Session() as s:
        g0, g1 = s.run(out, {a: np.array(s0, np.int64), b: np.array(s1, np.int64)})
    assert g0.tolist() == r0 and g1.tolist() == r1 and g0.dtype == np.int64
    with tf.Session() as s, pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes"):
        s.run(out, {a: [2, 3], b: [4, 3]})


# ---------------------------------------------------------------------------------------------------
# tideflow writes TensorFlow's formats and reads them back


def _model():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    w = tf.Variable(tf.random_normal([4, 5], seed=1), name="w")
    b = tf.Variable(tf.zeros([5]), name="b")
    h = tf.nn.relu(tf.matmul(x, w) + b)
    w2 = tf.get_variable("w2", [5, 3], initializer=tf.glorot_uniform_initializer(seed=2))
    logits = tf.identity(tf.matmul(h, w2), name="logits")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits), name="loss")
    gs = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(0.05).minimize(loss + 0.01 * tf.reduce_sum(tf.square(w)), global_step=gs)
    tf.add_to_collection("train_op", train)
    return train, loss, logits


def test_saver_writes_and_reads_tensorflow_bundles(tmp_path):
    train, loss, logits = _model()
    feed = {"x:0": E["X"], "y:0": E["Y"]}
    saver = tf.train.Saver(format="tensorflow", max_to_keep=1)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        s.run(train, feed)
        p1 = saver.save(s, str(tmp_path / "m"), global_step=1)
        s.run(train, feed)
        p2 = saver.save(s, str(tmp_path / "m"), global_step=2)
        want = s.run(logits, feed)
    files = sorted(os.listdir(tmp_path))
    assert files == ["checkpoint", "m-2.data-00000-of-00001", "m-2.index", "m-2.meta"]  # m-1 deleted
    assert not tf.train.checkpoint_exists(p1) and tf.train.latest_checkpoint(str(tmp_path)) == p2
    # the meta graph is TensorFlow's MetaGraphDef, with TensorFlow's save subgraph
    mg = pb.MetaGraphDef.FromString((tmp_path / "m-2.meta").read_bytes())
    assert mg.saver_def.restore_op_name == "save/restore_all" and mg.saver_def.version == pb.SaverDef.V2
    assert {"SaveV2", "RestoreV2", "SumToShape"} & {n.op for n in mg.graph_def.node} == {"SaveV2", "RestoreV2"}
    tf.reset_default_graph()
    saver = tf.train.import_meta_graph(p2 + ".meta")
    with tf.Session() as s:
        saver.restore(s, p2)
        np.testing.assert_array_equal(s.run("logits:0", feed), want)
        s.run(tf.get_collection("train_op")[0], feed)  # the lowered gradient graph trains
        assert s.run("global_step:0") == 3


def test_graph_def_round_trip_through_tensorflow_format():
    train, loss, logits = _model()
    g = tf.get_default_graph()
    gd = g.as_graph_def()
    text = str(gd)
    assert pb.GraphDef.FromString(gd.SerializeToString()) == gd == text_format.Parse(text, pb.GraphDef())
    feed_x, feed_y = E["X"], E["Y"]
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        frozen = tf.graph_util.convert_variables_to_constants(s, gd, ["logits"])
        want = s.run(logits, {"x:0": feed_x})
    assert {n.op for n in frozen.node} <= {"Placeholder", "Const", "Identity", "MatMul", "Add", "Relu"}
    with tf.Graph().as_default():
        out, = tf.import_graph_def(frozen, return_elements=["logits:0"], name="")
        with tf.Session() as s:
            np.testing.assert_array_equal(s.run(out, {"x:0": feed_x}), want)
    # the whole training graph, with tideflow's gradient ops written as TensorFlow's
    with tf.Graph().as_default() as g2:
        tf.import_graph_def(gd, name="")
        inits = [op for op in g2.get_operations()
                 if op.type == "Assign" and op.name == op.inputs[0].op.name + "/Assign"]
        with tf.Session() as s:
            s.run(inits)
            before = s.run("loss:0", {"x:0": feed_x, "y:0": feed_y})
            for _ in range(3):
                s.run("Adam", {"x:0": feed_x, "y:0": feed_y})
            assert s.run("loss:0", {"x:0": feed_x, "y:0": feed_y}) < before
            assert s.run("global_step:0") == 3


def test_extract_sub_graph_and_remove_training_nodes():
    _model()
    gd = tf.get_default_graph().as_graph_def()
    sub = tf.graph_util.extract_sub_graph(gd, ["logits"])
    names = {n.name for n in sub.node}
    assert "logits" in names and "w" in names and "loss" not in names and "Adam" not in names
    with pytest.raises(TypeError):
        tf.graph_util.extract_sub_graph(gd, "logits")
    with pytest.raises(AssertionError, match="nope is not in graph"):
        tf.graph_util.extract_sub_graph(gd, ["nope"])
    pruned = tf.graph_util.remove_training_nodes(sub, protected_nodes=["logits"])
    assert "w/read" not in {n.name for n in pruned.node} and "logits" in {n.name for n in pruned.node}


def test_write_graph_and_text_meta_graph(tmp_path):
    _model()
    p = tf.train.write_graph(tf.get_default_graph(), str(tmp_path), "g.pbtxt")
    assert open(p).read().startswith("node {")
    p2 = tf.io.write_graph(tf.get_default_graph().as_graph_def(), str(tmp_path), "g.pb", as_text=False)
    assert pb.GraphDef.FromString(open(p2, "rb").read()) == text_format.Parse(open(p).read(), pb.GraphDef())
    mg = tf.train.export_meta_graph(str(tmp_path / "m.meta.txt"), as_text=True)
    assert isinstance(mg, pb.MetaGraphDef) and "train_op" in mg.collection_def
    tf.reset_default_graph()
    tf.train.import_meta_graph(str(tmp_path / "m.meta.txt"))  # text format, no saver: global variables
    assert len(tf.global_variables()) == len(mg.collection_def["variables"].bytes_list.value)


def test_tensor_proto_helpers():
    for v in (np.arange(6, dtype=np.float64).reshape(2, 3), np.array(3, np.int32), np.array([True, False]),
              np.array([b"a", b"\x00b"], dtype=object), np.zeros([0, 2], np.float32)):
        p = tf.make_tensor_proto(v)
        back = tf.make_ndarray(pb.TensorProto.FromString(p.SerializeToString()))
        assert back.shape == v.shape and back.dtype == v.dtype and (back == v).all()
    p = tf.make_tensor_proto(1.5, shape=[2, 2])
    np.testing.assert_array_equal(tf.make_ndarray(p), np.full([2, 2], 1.5, np.float32))
    # a TensorProto with fewer values than elements repeats the last, as TensorFlow reads it
    t = pb.TensorProto(dtype=pb.DT_INT64)
    t.tensor_shape.dim.add(size=4)
    t.int64_val.extend([1, 2])
    np.testing.assert_array_equal(tf.make_ndarray(t), [1, 2, 2, 2])


def test_messages_behave_like_protobuf():
    n = tf.NodeDef(name="a", op="Const")
    n.attr["dtype"].type = pb.DT_FLOAT
    assert n.attr["dtype"].WhichOneof("value") == "type" and "dtype" in n.attr and "T" not in n.attr
    n.attr["dtype"].i = 3  # a oneof keeps one member
    assert n.attr["dtype"].WhichOneof("value") == "i"
    m = pb.MetaGraphDef()
    assert not m.HasField("graph_def")
    m.graph_def.node.add(name="x")
    assert m.HasField("graph_def")
    m.saver_def.version = pb.SaverDef.V2
    with pytest.raises(TypeError):
        n.name = 3
    with pytest.raises(AttributeError):
        n.nope = 1
    c = pb.MetaGraphDef()
    c.CopyFrom(m)
    assert c == m and str(c) == str(m) and c.ByteSize() == len(m.SerializeToString())


# ---------------------------------------------------------------------------------------------------
# Corrupted files


def _copy_bundle(tmp_path, src=os.path.join(CKPT, "model-3")):
    dst = str(tmp_path / "model-3")
    for suffix in (".index", ".data-00000-of-00001"):
        shutil.copy(src + suffix, dst + suffix)
    return dst


def _read_all(prefix):
    r = _core.TfBundleReader(prefix)
    return {n: r.read(n) for n, *_ in r.entries()}


def test_every_flipped_bit_of_a_bundle_is_caught(tmp_path):
    prefix = _copy_bundle(tmp_path)
    good = _read_all(prefix)
    for suffix in (".index", ".data-00000-of-00001"):
        path = prefix + suffix
        data = open(path, "rb").read()
        # every byte of the index (keys, entries, block framing); every fifth of the data (CRC32C covers all)
        for i in range(0, len(data), 1 if suffix == ".index" else 5):
            bad = bytearray(data)
            bad[i] ^= 1 << (i % 8)
            open(path, "wb").write(bytes(bad))
            try:
                got = _read_all(prefix)
            except tf.errors.DataLossError:
                continue
            # the only bytes that may change silently are padding that no checksum covers (the footer's)
            assert suffix == ".index" and i >= len(data) - 48, (suffix, i)
            assert all(np.array_equal(got[k], good[k]) for k in good)
        open(path, "wb").write(data)


def test_truncated_bundles_are_caught(tmp_path):
    prefix = _copy_bundle(tmp_path)
    for suffix in (".index", ".data-00000-of-00001"):
        path = prefix + suffix
        data = open(path, "rb").read()
        for n in range(0, len(data), max(1, len(data) // 50)):
            open(path, "wb").write(data[:n])
            with pytest.raises(tf.errors.DataLossError):
                _read_all(prefix)
        open(path, "wb").write(data)
    os.remove(prefix + ".data-00000-of-00001")
    with pytest.raises(tf.errors.NotFoundError, match="data file"):
        _core.TfBundleReader(prefix)


def test_restore_of_a_corrupted_bundle_changes_no_variable(tmp_path):
    prefix = _copy_bundle(tmp_path)
    data = bytearray(open(prefix + ".data-00000-of-00001", "rb").read())
    data[-3] ^= 0xFF
    open(prefix + ".data-00000-of-00001", "wb").write(bytes(data))
    names = [n for n, _ in tf.train.list_variables(prefix) if n not in ("tags",)]
    r = tf.train.NewCheckpointReader(CKPT + "/model-3")
    vs = [tf.Variable(np.zeros(r.get_variable_to_shape_map()[n], r.get_variable_to_dtype_map()[n].as_numpy_dtype),
                      name=n) for n in names]
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.DataLossError, match="checksum"):
            tf.train.Saver(vs).restore(s, prefix)
        assert all(not np.any(x) for x in s.run(vs))


def test_corrupted_and_truncated_graph_defs_are_refused():
    data = open(os.path.join(DATA, "frozen.pb"), "rb").read()
    full = pb.GraphDef.FromString(data)
    for n in range(1, len(data)):
        try:
            cut = pb.parse(pb.GraphDef, data[:n])  # as tideflow reads a file: checked by its codec
        except tf.errors.DataLossError:
            continue
        # A cut inside a field is always caught. Protobuf has no end marker, so a cut between two top-level
        # fields leaves a valid message: the nodes before the cut, unchanged (importing it then fails on
        # the missing nodes).
        assert list(cut.node) == list(full.node)[:len(cut.node)], n
    rng = np.random.RandomState(0)
    for _ in range(300):
        bad = bytearray(data)
        for i in rng.randint(0, len(bad), size=3):
            bad[i] = rng.randint(256)
        try:
            gd = pb.parse(pb.GraphDef, bytes(bad))
            with tf.Graph().as_default():
                tf.import_graph_def(gd)
        except (tf.errors.OpError, ValueError, TypeError):
            pass  # refused with an error; never a crash


def test_malformed_text_is_refused_with_its_position():
    with pytest.raises(tf.errors.DataLossError, match=r"line 2, column 3.*no field named 'nmae'"):
        text_format.Parse('node {\n  nmae: "x"\n}\n', pb.GraphDef())
    with pytest.raises(tf.errors.DataLossError, match="unterminated string"):
        text_format.Parse('node { name: "x }', pb.GraphDef())
    with pytest.raises(tf.errors.DataLossError, match="out of range"):
        text_format.Parse("versions { producer: 99999999999 }", pb.GraphDef())
    with pytest.raises(tf.errors.DataLossError):
        text_format.Parse("node { " * 200, pb.GraphDef())


def test_oversized_tensor_proto_is_refused_before_allocating():
    t = pb.TensorProto(dtype=pb.DT_FLOAT, float_val=[1.0])
    for d in (1 << 20, 1 << 20):
        t.tensor_shape.dim.add(size=d)
    with pytest.raises(tf.errors.ResourceExhaustedError):
        tf.make_ndarray(t)
    t = pb.TensorProto(dtype=pb.DT_FLOAT, tensor_content=b"\0" * 12)
    t.tensor_shape.dim.add(size=4)
    with pytest.raises(tf.errors.DataLossError, match="12 bytes"):
        tf.make_ndarray(t)


def _snappy(raw):
    """A snappy stream for `raw`: literal runs, and 4..11-byte copies where bytes repeat."""
    out = bytearray(_enc(len(raw)))
    lit = bytearray()

    def flush():
        if lit:
            out.append((len(lit) - 1) << 2)
            out.extend(lit)
            lit.clear()
    i = 0
    while i < len(raw):
        j = raw.rfind(raw[i:i + 4], max(0, i - 2047), i) if 4 <= i <= len(raw) - 4 else -1
        if j >= 0:
            flush()
            length = 4
            while i + length < len(raw) and length < 11 and raw[j + length] == raw[i + length]:
                length += 1
            off = i - j
            out += bytes([1 | ((length - 4) << 2) | ((off >> 8) << 5), off & 0xFF])
            i += length
        else:
            lit.append(raw[i])
            if len(lit) == 60:
                flush()
            i += 1
    flush()
    return bytes(out)


def _varint(b, p):
    v = shift = 0
    while True:
        c = b[p]
        p += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, p


def _enc(v):
    out = bytearray()
    while True:
        b, v = v & 0x7F, v >> 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _masked_crc(b):
    """CRC32C, masked as LevelDB stores it (a plain bitwise version for the test)."""
    crc = 0xFFFFFFFF
    for byte in b:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    crc ^= 0xFFFFFFFF
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xa282ead8) & 0xFFFFFFFF


def _block(body, kind):
    return body + bytes([kind]) + struct.pack("<I", _masked_crc(body + bytes([kind])))


def test_snappy_compressed_tables_are_read(tmp_path):
    # TensorFlow writes uncompressed tables; LevelDB's snappy-compressed blocks are read too. Rebuild the
    # bundle's index with its (single) data block snappy-compressed.
    prefix = _copy_bundle(tmp_path)
    data = open(prefix + ".index", "rb").read()
    footer = data[-48:]
    _, p = _varint(footer, 0)
    _, p = _varint(footer, p)
    index_off, p = _varint(footer, p)
    index_size, _ = _varint(footer, p)
    index = data[index_off:index_off + index_size]
    shared, q = _varint(index, 0)  # the index's only entry: the data block's separator key and handle
    non_shared, q = _varint(index, q)
    _, q = _varint(index, q)
    key = index[q:q + non_shared]
    block_off, h = _varint(index, q + non_shared)
    block_size, _ = _varint(index, h)
    raw = data[block_off:block_off + block_size]
    comp = _snappy(raw)
    assert shared == 0 and len(comp) < len(raw)
    new = bytearray(_block(comp, 1))
    meta = struct.pack("<II", 0, 1)
    meta_off = len(new)
    new += _block(meta, 0)
    handle = _enc(0) + _enc(len(comp))
    ib = _enc(0) + _enc(len(key)) + _enc(len(handle)) + key + handle + struct.pack("<II", 0, 1)
    ib_off = len(new)
    new += _block(ib, 0)
    foot = _enc(meta_off) + _enc(len(meta)) + _enc(ib_off) + _enc(len(ib))
    new += foot + b"\0" * (40 - len(foot)) + struct.pack("<Q", 0xdb4775248b80fb57)
    open(prefix + ".index", "wb").write(bytes(new))
    got = _read_all(prefix)
    np.testing.assert_array_equal(got["w"], E["ckpt_w"])
    assert list(got["tags"]) == [b"alpha", b"", b"\x00\xff"]
    # a damaged snappy stream is refused
    bad = bytearray(new)
    bad[3] ^= 0x40
    bad[len(comp) + 1:len(comp) + 5] = struct.pack("<I", _masked_crc(bytes(bad[:len(comp) + 1])))
    open(prefix + ".index", "wb").write(bytes(bad))
    with pytest.raises(tf.errors.DataLossError):
        _read_all(prefix)


def test_cpp_program_reads_and_writes_tensorflow_files(tmp_path):
    import subprocess
    import textwrap
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no C++ compiler")
    src = tmp_path / "tfio.cc"
    src.write_text(textwrap.dedent(r"""
        #include <cstdio>
        #include <fstream>
        #include <iterator>
        #include "io/tf_bundle.h"
        #include "io/tf_proto.h"
        using namespace tideflow;
        int main(int argc, char** argv) {
          std::string data = argv[1], out = argv[2];
          TfBundleReader r(data + "/ckpt/model-3");  // a checkpoint TensorFlow wrote
          Tensor w = r.read("w");
          int step = (int)r.read("global_step").data<int64_t>()[0];
          std::printf("%zu %s %d\n", r.entries().size(), w.summary().c_str(), step);
          std::ifstream f(data + "/frozen.pb", std::ios::binary);
          std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
          tfpb::Message gd = tfpb::decode(tfpb::message_spec("tensorflow.GraphDef"), bytes, "frozen.pb");
          std::printf("%zu %s\n", gd.msgs("node").size(), gd.msgs("node").back()->s("op").c_str());
          Tensor a(DType::Float32, {2});
          a.data<float>()[0] = 1.5f;
          a.data<float>()[1] = -2.0f;
          write_tf_bundle(out + "/cpp", {{"a", a, {}, {}}, {"w", w, {}, {}}});
          try {
            r.read("nope");
          } catch (const Error& e) {
            std::printf("code %d\n", (int)e.code());
          }
          return 0;
        }
    """))
    exe = tmp_path / "tfio"
    import scipy_openblas32
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lib = os.path.dirname(tf.__file__)
    blas = scipy_openblas32.get_lib_dir()
    subprocess.run([cxx, "-std=c++17", "-O1", str(src), "-I", os.path.join(root, "cpp"), "-L", lib, "-ltideflow",
                    "-Wl,-rpath," + lib, "-Wl,-rpath," + blas, "-Wl,-rpath-link," + blas, "-o", str(exe)], check=True)
    env = dict(os.environ, LD_LIBRARY_PATH=blas + os.pathsep + os.environ.get("LD_LIBRARY_PATH", ""))
    out = subprocess.run([str(exe), DATA, str(tmp_path)], check=True, capture_output=True, text=True, env=env).stdout
    n_nodes = len(pb.GraphDef.FromString(open(os.path.join(DATA, "frozen.pb"), "rb").read()).node)
    assert out.splitlines() == ["17 float32[4,5] 3", "%d Softmax" % n_nodes, "code 5"]
    np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path / "cpp"), "a"), [1.5, -2.0])
    np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path / "cpp"), "w"), E["ckpt_w"])


def test_import_meta_graph_with_scope_input_map_and_collection_filter():
    x = tf.placeholder(tf.float32, [None, 4], name="features")
    saver = tf.train.import_meta_graph(os.path.join(CKPT, "model-3.meta"), import_scope="m",
                                       input_map={"x:0": x}, restore_collections_predicate=lambda k: k != "my_ints")
    assert tf.get_collection("my_ints") == [] and tf.get_collection("my_floats") == [0.5]
    assert tf.get_collection("train_op")[0].name == "m/Adam"
    logits = tf.get_default_graph().get_tensor_by_name("m/logits:0")
    with tf.Session() as s:
        saver.restore(s, os.path.join(CKPT, "model-3"))
        np.testing.assert_allclose(s.run(logits, {x: E["X"]}), E["ckpt_logits"], rtol=1e-5, atol=1e-5)
        # saved under the names in the file, so the scope does not change the checkpoint's keys
        assert "w" in saver._vars and s.run("m/w:0").shape == (4, 5)


def test_partitioned_variable_meta_graph_saves_slices_again(tmp_path):
    saver = tf.train.import_meta_graph(os.path.join(DATA, "sliced", "model.meta"))
    parts = tf.global_variables()
    assert [v.op.name for v in parts] == ["emb/part_0", "emb/part_1", "emb/part_2"]
    assert [list(v._save_slice_info.var_offset) for v in parts] == [[0, 0], [3, 0], [5, 0]]
    with tf.Session() as s:
        saver.restore(s, os.path.join(DATA, "sliced", "model"))
        np.testing.assert_array_equal(s.run("emb_full:0"), E["emb"])
        s.run(parts[1].assign(np.full([2, 2], 7.0, np.float32)))
        out = saver.save(s, str(tmp_path / "again"))
    want = E["emb"].copy()
    want[3:5] = 7.0
    assert tf.train.list_variables(out) == [("emb", [7, 2])]  # one tensor, three slices, as TensorFlow writes
    np.testing.assert_array_equal(tf.train.load_variable(out, "emb"), want)
    mg = pb.MetaGraphDef.FromString(open(out + ".meta", "rb").read())
    specs = [n for n in mg.graph_def.node if n.name == "save/SaveV2/shape_and_slices"][0]
    assert list(tf.make_ndarray(specs.attr["value"].tensor)) == [b"7 2 0,3:0,2", b"7 2 3,2:0,2", b"7 2 5,2:0,2"]


def test_bundle_with_many_blocks(tmp_path):
    # more than 256 KiB of index: several data blocks, each with its restart points, and an index block
    names = ["%05d_%s" % (i, "abcdefghij"[i % 10] * 40) for i in range(12000)]
    values = [np.array([i, -i], np.int32) for i in range(12000)]
    _core.write_tf_bundle(str(tmp_path / "big"), names, values)
    data = open(str(tmp_path / "big.index"), "rb").read()
    _, p = _varint(data[-48:], 0)
    _, p = _varint(data[-48:], p)
    index_off, p = _varint(data[-48:], p)
    index_size, _ = _varint(data[-48:], p)
    n_blocks = struct.unpack("<I", data[index_off + index_size - 4:index_off + index_size])[0]
    assert n_blocks >= 3  # one index entry (and restart point) per data block
    r = _core.TfBundleReader(str(tmp_path / "big"))
    assert [n for n, *_ in r.entries()] == sorted(names)
    for i in (0, 1, 5999, 11999):
        np.testing.assert_array_equal(r.read(names[i]), values[i])
