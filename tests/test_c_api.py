"""The C ABI (tideflow/c_api.h), called through ctypes in the process that runs tideflow's Python API, so
each result is compared with Python's: optimizers update the same variables to the same values with the
same slot names, checkpoints and meta graphs move both ways, errors carry Python's codes and messages,
and bad arguments give a status instead of a crash. Needs no compiler (tests/test_cpp_api.py builds the
C and C++ programs)."""
import ctypes as C
import os

import numpy as np
import pytest

import tideflow as tf
from capi_ctypes import LIB, CError, Output, P, Variable, call, const, op, out, placeholder, run, s, tensor, \
    to_numpy, variable, name_of


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


@pytest.fixture
def graph():
    g = LIB.TFL_NewGraph()
    yield g
    LIB.TFL_DeleteGraph(g)


@pytest.fixture
def session_of():
    made = []

    def make(g):
        sess = call(LIB.TFL_NewSession, g, 1, 1)
        made.append(sess)
        return sess
    yield make
    for sess in made:
        LIB.TFL_DeleteSession(sess)


RNG = np.random.RandomState(7)
X = RNG.randn(4, 3).astype(np.float32)
Y = RNG.randn(4, 2).astype(np.float32)
W0 = RNG.randn(3, 2).astype(np.float32)
B0 = RNG.randn(2).astype(np.float32)


# ---- status, tensors ----

def test_version_and_error_names():
    assert LIB.TFL_AbiVersion() == 1
    assert LIB.TFL_Version().decode() == tf.__tideflow_version__
    assert LIB.TFL_CodeName(3) == b"InvalidArgumentError" and LIB.TFL_CodeName(100) == b"ValueError"


def test_tensor_round_trip_and_checks():
    for a in (np.arange(6, dtype=np.float32).reshape(2, 3), np.array(7, np.int64), np.array([True, False]),
              np.zeros((0, 4), np.float64)):
        t = tensor(a)
        np.testing.assert_array_equal(to_numpy(t), a)
        assert to_numpy(t).dtype == a.dtype
        LIB.TFL_DeleteTensor(t)
    d = (C.c_int64 * 2)(2, -1)
    with pytest.raises(CError, match="negative dimension") as e:
        call(LIB.TFL_AllocateTensor, 1, d, 2)
    assert e.value.name == "InvalidArgumentError"
    with pytest.raises(CError, match="12 bytes given for a float32 tensor of shape \\[2,2\\], which needs 16"):
        call(LIB.TFL_NewTensorFromData, 1, (C.c_int64 * 2)(2, 2), 2, (C.c_char * 12)(), 12)
    with pytest.raises(CError, match="unsupported data type 42"):
        call(LIB.TFL_AllocateTensor, 42, d, 0)
    with pytest.raises(CError, match="too large") as e:
        call(LIB.TFL_AllocateTensor, 1, (C.c_int64 * 2)(2**40, 2**40), 2)
    assert e.value.name == "ResourceExhaustedError"


def test_string_tensor():
    vals = [b"abc", b"", b"x\x00y"]
    strs = (C.c_char_p * 3)(*vals)
    lens = (C.c_size_t * 3)(*[len(v) for v in vals])
    t = call(LIB.TFL_NewStringTensor, (C.c_int64 * 1)(3), 1, strs, lens)
    n = C.c_size_t()
    got = [C.string_at(LIB.TFL_TensorStringAt(t, i, C.byref(n)), n.value) for i in range(3)]
    assert got == vals and LIB.TFL_TensorData(t) is None and LIB.TFL_TensorStringAt(t, 3, None) is None
    LIB.TFL_DeleteTensor(t)


def test_writing_a_tensor_never_changes_what_others_hold(graph, session_of):
    # Note [writing tensors]: a second handle, or a variable's value fetched by a run, is copied on write.
    t = tensor(np.array([1.0, 2.0], np.float32))
    ref = LIB.TFL_TensorNewRef(t)
    C.cast(LIB.TFL_TensorMutableData(ref), C.POINTER(C.c_float))[0] = 9.0
    assert to_numpy(t).tolist() == [1.0, 2.0] and to_numpy(ref).tolist() == [9.0, 2.0]
    LIB.TFL_DeleteTensor(ref)
    alone = LIB.TFL_TensorMutableData(t)
    assert alone == LIB.TFL_TensorData(t)  # nobody else holds it: written in place
    LIB.TFL_DeleteTensor(t)

    v = variable(graph, "v", np.array([1.0, 2.0], np.float32))
    sess = session_of(graph)
    run(sess, [], targets=[v.initializer])
    res = (P * 1)()
    call(LIB.TFL_SessionRun, sess, None, None, 0, (Output * 1)(out(v.variable)), res, 1, None, 0)
    C.cast(LIB.TFL_TensorMutableData(res[0]), C.POINTER(C.c_float))[0] = 5.0
    LIB.TFL_DeleteTensor(res[0])
    assert run(sess, [out(v.variable)])[0].tolist() == [1.0, 2.0]


# ---- graphs ----

def test_names_scopes_and_control_dependencies_follow_tensorflow(graph):
    a = placeholder(graph, np.float32, [2], "a")
    assert call(LIB.TFL_GraphPushNameScope, graph, b"layer") == b"layer/"
    m = op(graph, "Neg", [a])
    LIB.TFL_GraphPopNameScope(graph)
    assert call(LIB.TFL_GraphPushNameScope, graph, b"layer") == b"layer_1/"
    n = op(graph, "Neg", [a])
    assert call(LIB.TFL_GraphPushNameScope, graph, b"") == b""
    root = op(graph, "Neg", [a])
    LIB.TFL_GraphPopNameScope(graph)
    LIB.TFL_GraphPopNameScope(graph)
    assert [name_of(x) for x in (m, n, root)] == ["layer/Neg", "layer_1/Neg", "Neg"]
    assert name_of(op(graph, "Neg", [a], name="layer/")) == "layer"  # a trailing "/" takes the name as is
    with pytest.raises(CError, match="not a valid root scope name") as e:
        call(LIB.TFL_GraphPushNameScope, graph, b"_bad")
    assert e.value.name == "ValueError"

    deps = (P * 1)(m)
    LIB.TFL_GraphPushControlDependencies(graph, deps, 1)
    c1 = op(graph, "NoOp")
    LIB.TFL_GraphPushControlDependencies(graph, None, 0)  # tf.control_dependencies(None)
    c2 = op(graph, "NoOp")
    LIB.TFL_GraphPopControlDependencies(graph)
    LIB.TFL_GraphPopControlDependencies(graph)
    assert LIB.TFL_OperationNumControlInputs(c1) == 1 and LIB.TFL_OperationNumControlInputs(c2) == 0

    buf = C.create_string_buffer(3)
    n = LIB.TFL_GraphUniqueName(graph, b"layer", buf, 3)
    assert n == len("layer_2") and buf.value == b"la"  # truncated like snprintf, name reserved


def test_tensor_lookup_errors_and_static_shapes(graph):
    x = placeholder(graph, np.float32, [None, 3], "x")
    o = call(LIB.TFL_GraphTensorByName, graph, b"x:0")
    assert o.oper == x.oper and LIB.TFL_OutputNumDims(o) == 2
    d = (C.c_int64 * 2)()
    LIB.TFL_OutputDims(o, d, 2)
    assert list(d) == [-1, 3]
    with pytest.raises(CError, match="The operation, 'y', does not exist in the graph") as e:
        call(LIB.TFL_GraphTensorByName, graph, b"y:0")
    assert e.value.name == "NotFoundError"
    with pytest.raises(CError, match="exists but only has 1 outputs"):
        call(LIB.TFL_GraphTensorByName, graph, b"x:1")


def test_graph_construction_errors_match_python(graph):
    a = placeholder(graph, np.float32, [2, 3], "a")
    b = placeholder(graph, np.float32, [2, 3], "b")
    with pytest.raises(CError) as c_err:
        op(graph, "MatMul", [a, b], {"transpose_a": False, "transpose_b": False}, location="model.cc:7")
    pa = tf.placeholder(tf.float32, [2, 3], name="a")
    pb = tf.placeholder(tf.float32, [2, 3], name="b")
    with pytest.raises(ValueError) as py_err:
        tf.matmul(pa, pb)
    py_msg = str(py_err.value)
    assert c_err.value.name == "ValueError"
    assert c_err.value.message == py_msg.replace(_location(py_msg), "model.cc:7")
    with pytest.raises(CError, match="Op type not registered: 'NoSuchOp'") as e:
        op(graph, "NoSuchOp")
    assert e.value.name == "NotFoundError"
    with pytest.raises(CError, match="input 0 is NULL"):
        op(graph, "Neg", [Output(None, 0)])
    with pytest.raises(CError, match="refers to output 3 of 'a', which has 1 outputs"):
        op(graph, "Neg", [Output(a.oper, 3)])


def _location(msg):
    i = msg.index("created at ") + len("created at ")
    return msg[i:msg.index(" ", i)]


def test_random_seeds_follow_tensorflow(graph):
    s1, s2 = C.c_int64(), C.c_int64()
    LIB.TFL_GraphOpSeeds(graph, -1, C.byref(s1), C.byref(s2))
    assert (s1.value, s2.value) == (0, 0)
    LIB.TFL_GraphOpSeeds(graph, 3, C.byref(s1), C.byref(s2))
    assert (s1.value, s2.value) == (87654321, 3)
    LIB.TFL_GraphSetRandomSeed(graph, 5)
    got = []
    for _ in range(2):
        LIB.TFL_GraphOpSeeds(graph, -1, C.byref(s1), C.byref(s2))
        got.append((s1.value, s2.value))
    from tideflow.framework import random_seed
    tf.set_random_seed(5)
    assert got == [random_seed.get_seed(None), random_seed.get_seed(None)]


def test_gradients_match_python(graph, session_of):
    x = placeholder(graph, np.float32, [3], "x")
    three = const(graph, np.float32(3), "three")
    y = out(op(graph, "Sum", [out(op(graph, "Mul", [out(op(graph, "Square", [x])), three])),
                              const(graph, np.array([0], np.int32))], {"keep_dims": False}))
    dx = (Output * 2)()
    call(LIB.TFL_AddGradients, graph, (Output * 1)(y), 1, (Output * 2)(x, three), 2, None, None, dx)
    assert name_of(dx[0].oper).startswith("gradients/")
    xv = np.array([1.0, -2.0, 0.5], np.float32)
    got = run(session_of(graph), [dx[0], dx[1]], {x: xv})
    px = tf.placeholder(tf.float32, [3])
    c3 = tf.constant(3.0)
    want = tf.Session().run(tf.gradients(tf.reduce_sum(tf.square(px) * c3), [px, c3]), {px: xv})
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    unrelated = placeholder(graph, np.float32, [3], "u")
    call(LIB.TFL_AddGradients, graph, (Output * 1)(y), 1, (Output * 1)(unrelated), 1, None, None, dx)
    assert dx[0].oper is None  # None, as tf.gradients gives


# ---- optimizers: same graph, same numbers, same slot names as Python ----

OPTIMIZERS = [
    ("GradientDescent", {"learning_rate": 0.1}),
    ("Momentum", {"learning_rate": 0.1, "momentum": 0.9, "use_nesterov": True}),
    ("Adam", {"learning_rate": 0.05}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.2}),
    ("RMSProp", {"learning_rate": 0.01, "momentum": 0.5}),
    ("RMSProp", {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Ftrl", {"learning_rate": 0.1, "l1_regularization_strength": 0.01}),
    ("Ftrl", {"learning_rate": 0.1, "l2_shrinkage_regularization_strength": 0.1, "beta": 0.5}),
    ("ProximalGradientDescent", {"learning_rate": 0.1, "l1_regularization_strength": 0.01,
                                 "l2_regularization_strength": 0.02}),
    ("ProximalAdagrad", {"learning_rate": 0.1, "l1_regularization_strength": 0.01}),
    ("AdagradDA", {"learning_rate": 0.1, "l2_regularization_strength": 0.01}),
]


def build_c_model(g, kind, params, dtype=np.float32):
    """x @ W + b against y, mean squared error, minimized by `kind` with a global step."""
    x = placeholder(g, dtype, [4, 3], "x")
    y = placeholder(g, dtype, [4, 2], "y")
    w = variable(g, "W", W0.astype(dtype))
    b = variable(g, "b", B0.astype(dtype))
    mm = op(g, "MatMul", [x, out(w.variable)], {"transpose_a": False, "transpose_b": False})
    pred = out(op(g, "Add", [out(mm), out(b.variable)]))
    sq = out(op(g, "Square", [out(op(g, "Sub", [pred, y]))]))
    loss = out(op(g, "Mean", [sq, const(g, np.array([0, 1], np.int32))], {"keep_dims": False}, "loss"))
    step = call(LIB.TFL_GetOrCreateGlobalStep, g)
    names = (C.c_char_p * len(params))(*[s(k) for k in params])
    values = (C.c_double * len(params))(*[float(v) for v in params.values()])
    opt = call(LIB.TFL_NewOptimizer, s(kind), names, values, len(params), None)
    if kind == "AdagradDA":
        call(LIB.TFL_OptimizerSetParamTensor, opt, b"global_step", out(step))
    train = call(LIB.TFL_OptimizerMinimize, opt, loss, None, 0, step, None)
    return dict(x=x, y=y, w=w, b=b, loss=loss, train=train, step=step, opt=opt)


def build_py_model(kind, params, dtype=tf.float32):
    x = tf.placeholder(dtype, [4, 3], name="x")
    y = tf.placeholder(dtype, [4, 2], name="y")
    w = tf.Variable(W0.astype(dtype.as_numpy_dtype), name="W")
    b = tf.Variable(B0.astype(dtype.as_numpy_dtype), name="b")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y), name="loss")
    step = tf.train.get_or_create_global_step()
    cls = getattr(tf.train, kind + "Optimizer")
    opt = cls(global_step=step, **params) if kind == "AdagradDA" else cls(**params)
    return dict(x=x, y=y, loss=loss, train=opt.minimize(loss, global_step=step))


def c_variables(g):
    """{name: VariableV2 node} of the global variables."""
    v = Variable()
    out_ = {}
    for i in range(LIB.TFL_GraphNumVariables(g)):
        assert LIB.TFL_GraphVariableAt(g, i, C.byref(v))
        out_[name_of(v.variable)] = v.variable
    return out_


@pytest.mark.parametrize("kind,params", OPTIMIZERS, ids=["%s-%d" % (k, i) for i, (k, _) in enumerate(OPTIMIZERS)])
def test_optimizer_matches_python(graph, session_of, kind, params):
    m = build_c_model(graph, kind, params)
    sess = session_of(graph)
    run(sess, [], targets=[call(LIB.TFL_GlobalVariablesInitializer, graph, None)])
    for _ in range(5):
        run(sess, [], {m["x"]: X, m["y"]: Y}, targets=[m["train"]])
    cvars = c_variables(graph)
    got = dict(zip(cvars, run(sess, [out(v) for v in cvars.values()])))

    p = build_py_model(kind, params)
    with tf.Session() as ps:
        ps.run(tf.global_variables_initializer())
        for _ in range(5):
            ps.run(p["train"], {p["x"]: X, p["y"]: Y})
        want = {v.op.name: ps.run(v) for v in tf.global_variables()}
    assert sorted(got) == sorted(want)  # slot and non-slot variables named as Python names them
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=2e-6, atol=1e-7, err_msg=k)
    assert got["global_step"] == 5
    slot = {"Adam": "m", "Momentum": "momentum", "Adagrad": "accumulator", "Ftrl": "accum"}.get(kind)
    if slot:
        assert name_of(LIB.TFL_OptimizerGetSlot(m["opt"], m["w"].variable, s(slot))).startswith("W/" + kind)
    LIB.TFL_DeleteOptimizer(m["opt"])


def test_optimizer_on_float64_variables_matches_python(graph, session_of):
    m = build_c_model(graph, "Adam", {"learning_rate": 0.1}, np.float64)
    sess = session_of(graph)
    run(sess, [], targets=[call(LIB.TFL_GlobalVariablesInitializer, graph, None)])
    for _ in range(3):
        run(sess, [], {m["x"]: X.astype(np.float64), m["y"]: Y.astype(np.float64)}, targets=[m["train"]])
    got = run(sess, [out(m["w"].variable)])[0]
    p = build_py_model("Adam", {"learning_rate": 0.1}, tf.float64)
    with tf.Session() as ps:
        ps.run(tf.global_variables_initializer())
        for _ in range(3):
            ps.run(p["train"], {p["x"]: X.astype(np.float64), p["y"]: Y.astype(np.float64)})
        want = ps.run(tf.get_default_graph().get_tensor_by_name("W:0"))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12)
    LIB.TFL_DeleteOptimizer(m["opt"])


def test_optimizer_argument_errors_match_python(graph):
    def new(kind, **params):
        names = (C.c_char_p * max(1, len(params)))(*[s(k) for k in params])
        values = (C.c_double * max(1, len(params)))(*params.values())
        return call(LIB.TFL_NewOptimizer, s(kind), names, values, len(params), None)
    with pytest.raises(CError, match="Unknown optimizer 'Sgd'; tideflow has GradientDescent, Momentum"):
        new("Sgd")
    with pytest.raises(CError, match="AdamOptimizer takes no parameter 'momentum'"):
        new("Adam", momentum=0.9)
    with pytest.raises(CError, match="MomentumOptimizer needs the parameter 'momentum'"):
        new("Momentum", learning_rate=0.1)
    with pytest.raises(CError) as e:
        new("Ftrl", learning_rate=0.1, learning_rate_power=0.5)
    with pytest.raises(ValueError) as py:
        tf.train.FtrlOptimizer(0.1, learning_rate_power=0.5)
    assert e.value.name == "ValueError" and e.value.message == str(py.value)
    opt = new("GradientDescent")  # the learning rate may still come as a tensor
    x = placeholder(graph, np.float32, [1], "x")
    loss = out(op(graph, "Sum", [x, const(graph, np.array([0], np.int32))], {"keep_dims": False}))
    with pytest.raises(CError, match="GradientDescentOptimizer needs the parameter 'learning_rate'"):
        call(LIB.TFL_OptimizerMinimize, opt, loss, None, 0, None, None)
    call(LIB.TFL_OptimizerSetParamTensor, opt, b"learning_rate", const(graph, np.float32(0.5)))
    with pytest.raises(CError, match="No variables to optimize") as e:
        call(LIB.TFL_OptimizerMinimize, opt, loss, None, 0, None, None)
    assert e.value.name == "ValueError"
    LIB.TFL_DeleteOptimizer(opt)


# ---- checkpoints and meta graphs, both ways ----

def test_checkpoints_and_meta_graphs_move_between_c_and_python(tmp_path, graph, session_of):
    m = build_c_model(graph, "Adam", {"learning_rate": 0.05})
    sess = session_of(graph)
    run(sess, [], targets=[call(LIB.TFL_GlobalVariablesInitializer, graph, None)])
    feeds = {m["x"]: X, m["y"]: Y}
    for _ in range(3):
        run(sess, [], feeds, targets=[m["train"]])
    saver = call(LIB.TFL_NewSaver, graph, None, 0, 5)
    prefix = call(LIB.TFL_SaverSave, saver, sess, s(str(tmp_path / "model")), 3, 1).decode()
    assert prefix == str(tmp_path / "model-3")
    c_w = run(sess, [out(m["w"].variable)])[0]

    # Python picks the model up (variables, trainable set, train op) and trains one more step ...
    py_saver = tf.train.import_meta_graph(prefix + ".meta")
    g = tf.get_default_graph()
    assert [v.op.name for v in tf.trainable_variables()] == ["W", "b"]
    assert "W/Adam_1" in [v.op.name for v in tf.global_variables()]
    assert tf.train.get_global_step() is not None
    with tf.Session() as ps:
        py_saver.restore(ps, prefix)
        np.testing.assert_array_equal(ps.run("W:0"), c_w)
        assert ps.run("global_step:0") == 3
        train_op = tf.get_collection(tf.GraphKeys.TRAIN_OP)[0]
        ps.run(train_op, {g.get_tensor_by_name("x:0"): X, g.get_tensor_by_name("y:0"): Y})
        py_w = ps.run("W:0")
        py_prefix = py_saver.save(ps, str(tmp_path / "py"), global_step=4)
    # ... exactly as C's own next step does.
    run(sess, [], feeds, targets=[m["train"]])
    np.testing.assert_array_equal(run(sess, [out(m["w"].variable)])[0], py_w)

    # And C picks up what Python saved, with the saver Python recorded.
    g2 = LIB.TFL_NewGraph()
    call(LIB.TFL_ImportMetaGraph, g2, s(py_prefix + ".meta"), None)
    assert LIB.TFL_GraphCollectionSize(g2, b"trainable_variables") == 2
    assert LIB.TFL_GraphCollectionItem(g2, b"train_op", 0) is not None
    sess2 = session_of(g2)
    saver2 = call(LIB.TFL_NewSaver, g2, None, 0, 5)
    call(LIB.TFL_SaverRestore, saver2, sess2, s(py_prefix))
    w2 = LIB.TFL_GraphOperationByName(g2, b"W")
    np.testing.assert_array_equal(run(sess2, [out(w2)])[0], py_w)
    t = call(LIB.TFL_LoadCheckpointTensor, s(py_prefix), b"W/Adam")
    assert to_numpy(t).shape == (3, 2)
    LIB.TFL_DeleteTensor(t)
    for h in (saver, saver2):
        LIB.TFL_DeleteSaver(h)
    LIB.TFL_DeleteOptimizer(m["opt"])
    LIB.TFL_DeleteGraph(g2)  # sess2 keeps the graph alive until the fixture deletes it


def test_saver_keeps_max_to_keep_and_relative_paths(tmp_path, monkeypatch, graph, session_of):
    monkeypatch.chdir(tmp_path)
    os.mkdir("ckpt")
    v = variable(graph, "v", np.float32(1.5))
    sess = session_of(graph)
    run(sess, [], targets=[v.initializer])
    saver = call(LIB.TFL_NewSaver, graph, (P * 1)(v.variable), 1, 2)
    for step in range(1, 5):
        call(LIB.TFL_SaverSave, saver, sess, b"ckpt/model", step, 0)
    assert sorted(os.listdir("ckpt")) == ["checkpoint", "model-3.safetensors", "model-4.safetensors"]
    st = tf.train.get_checkpoint_state("ckpt")
    assert st.all_model_checkpoint_paths == ["ckpt/model-3", "ckpt/model-4"]
    assert 'model_checkpoint_path: "model-4"' in open("ckpt/checkpoint").read()  # relative, as Python writes
    buf = C.create_string_buffer(256)
    n = call(LIB.TFL_LatestCheckpoint, b"ckpt", buf, 256)
    assert buf.value.decode() == tf.train.latest_checkpoint("ckpt") == "ckpt/model-4" and n == len("ckpt/model-4")
    assert call(LIB.TFL_LatestCheckpoint, str(tmp_path).encode(), buf, 256) == 0
    LIB.TFL_DeleteSaver(saver)


def test_restore_errors_match_python(tmp_path, graph, session_of):
    v = variable(graph, "v", np.float32(1.5))
    sess = session_of(graph)
    saver = call(LIB.TFL_NewSaver, graph, None, 0, 5)
    missing = str(tmp_path / "nothing")
    with pytest.raises(CError) as e:
        call(LIB.TFL_SaverRestore, saver, sess, s(missing))
    pv = tf.Variable(1.5, name="v")
    with tf.Session() as ps, pytest.raises(ValueError) as py:
        tf.train.Saver().restore(ps, missing)
    assert (e.value.name, e.value.message) == ("ValueError", str(py.value))
    # A checkpoint without the variable: NotFound naming it, as Python's restore raises.
    other = LIB.TFL_NewGraph()
    u = variable(other, "u", np.float32(2))
    s2 = session_of(other)
    run(s2, [], targets=[u.initializer])
    saver_u = call(LIB.TFL_NewSaver, other, None, 0, 5)
    prefix = call(LIB.TFL_SaverSave, saver_u, s2, s(str(tmp_path / "u")), -1, 0).decode()
    with pytest.raises(CError, match="'v'") as e:
        call(LIB.TFL_SaverRestore, saver, sess, s(prefix))
    with tf.Session() as ps, pytest.raises(tf.errors.NotFoundError) as py:
        tf.train.Saver([pv]).restore(ps, prefix)
    assert e.value.name == "NotFoundError" and e.value.message == py.value.message
    for h in (saver, saver_u):
        LIB.TFL_DeleteSaver(h)
    LIB.TFL_DeleteGraph(other)


# ---- sessions and callables ----

def test_callable_and_session_errors(graph, session_of):
    x = placeholder(graph, np.float32, [None, 3], "x")
    y = out(op(graph, "Sum", [x, const(graph, np.array([0, 1], np.int32))], {"keep_dims": False}))
    sess = session_of(graph)
    c = call(LIB.TFL_SessionMakeCallable, sess, (Output * 1)(x), 1, (Output * 1)(y), 1, None, 0)
    t = tensor(np.ones((2, 3), np.float32))
    res = (P * 1)()
    for _ in range(3):
        call(LIB.TFL_CallableRun, c, (P * 1)(t), res)
        assert to_numpy(res[0]) == 6.0
        LIB.TFL_DeleteTensor(res[0])
    with pytest.raises(CError, match="feed value 0 is NULL"):
        call(LIB.TFL_CallableRun, c, (P * 1)(None), res)
    assert res[0] is None
    LIB.TFL_DeleteTensor(t)
    LIB.TFL_DeleteCallable(c)
    with pytest.raises(CError, match="You must feed a value for placeholder tensor 'x'") as e:
        run(sess, [y])
    assert e.value.name == "InvalidArgumentError"
    call(LIB.TFL_CloseSession, sess)
    with pytest.raises(CError, match="Attempted to use a closed Session") as e:
        run(sess, [y], {x: np.ones((1, 3), np.float32)})
    assert e.value.name == "CancelledError"
    other = LIB.TFL_NewGraph()
    z = placeholder(other, np.float32, [1], "z")
    with pytest.raises(CError, match="'z' is not from the session's graph"):
        run(session_of(graph), [z])
    LIB.TFL_DeleteGraph(other)


def test_null_arguments_give_errors_not_crashes(graph):
    assert LIB.TFL_NewSession(None, 0, 0, None) is None  # a NULL status is allowed too
    with pytest.raises(CError, match="TFL_NewSession: graph is NULL"):
        call(LIB.TFL_NewSession, None, 0, 0)
    with pytest.raises(CError, match="TFL_SessionRun: session is NULL"):
        call(LIB.TFL_SessionRun, None, None, None, 0, None, None, 0, None, 0)
    with pytest.raises(CError, match="description is NULL"):
        call(LIB.TFL_FinishOperation, None)
    with pytest.raises(CError, match="graph is NULL"):
        call(LIB.TFL_AddVariable, None, b"v", Output(None, 0), 1, None)
    with pytest.raises(CError, match="initial_value is NULL"):
        call(LIB.TFL_AddVariable, graph, b"v", Output(None, 0), 1, None)
    with pytest.raises(CError, match="saver is NULL"):
        call(LIB.TFL_SaverRestore, None, None, b"x")
    with pytest.raises(CError, match="writer is NULL"):
        call(LIB.TFL_EventWriterAddScalar, None, b"t", 1.0, 0)
    assert LIB.TFL_GraphOperationByName(None, b"x") is None and LIB.TFL_OperationName(None) == b""
    assert LIB.TFL_TensorData(None) is None and LIB.TFL_NumDims(None) == 0
    d = LIB.TFL_NewOperation(graph, b"Neg", None)
    LIB.TFL_DeleteOperationDescription(d)  # abandoned: nothing added
    assert LIB.TFL_GraphNumOperations(graph) == 0
