"""Graphs: default-graph stack, names as TensorFlow makes them, lookups, control dependencies, errors."""
import pytest

import tideflow as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def test_default_graph_and_as_default():
    x1 = tf.Variable(1)
    assert x1.graph is tf.get_default_graph()
    graph = tf.Graph()
    with graph.as_default():
        x2 = tf.Variable(2)
        assert tf.get_default_graph() is graph
    assert x2.graph is graph
    assert x2.graph is not tf.get_default_graph()


def test_reset_default_graph_gives_new_graph():
    g1 = tf.get_default_graph()
    tf.reset_default_graph()
    assert tf.get_default_graph() is not g1
    with tf.Graph().as_default():
        with pytest.raises(AssertionError):
            tf.reset_default_graph()


def test_unique_names_like_tensorflow():
    a = tf.constant(1.0, name="x")
    b = tf.constant(1.0, name="x")
    c = tf.constant(1.0, name="x")
    assert [a.op.name, b.op.name, c.op.name] == ["x", "x_1", "x_2"]
    assert a.name == "x:0"
    d = tf.constant(1.0, name="x_1")  # taken: TF moves on to x_1_1
    assert d.op.name == "x_1_1"
    e = tf.constant(2)
    f = tf.constant(3)
    assert (e.op.name, f.op.name) == ("Const", "Const_1")


def test_lookups():
    g = tf.get_default_graph()
    a = tf.constant([1.0, 2.0], name="a")
    i = tf.identity(a, name="i")
    assert g.get_tensor_by_name("a:0") is a
    assert g.get_operation_by_name("i") is i.op
    assert [op.name for op in g.get_operations()] == ["a", "i"]
    assert i.op.inputs[0] is a and i.op.outputs[0] is i and i.op.type == "Identity"
    assert i.op.graph is g
    with pytest.raises(KeyError):
        g.get_operation_by_name("nope")
    with pytest.raises(ValueError):
        g.get_tensor_by_name("a")
    with pytest.raises(KeyError):
        g.get_tensor_by_name("a:3")


def test_tensor_properties_and_partial_shapes():
    p = tf.placeholder(tf.float32, shape=[None, 3], name="p")
    assert p.dtype == tf.float32 and p.dtype.as_numpy_dtype is __import__("numpy").float32
    assert p.shape.as_list() == [None, 3]
    assert p.get_shape()[1] == 3 and int(p.shape[1]) == 3
    assert p.shape.ndims == 2
    q = tf.placeholder(tf.int64)
    assert q.shape.ndims is None
    with pytest.raises(ValueError):
        q.shape.as_list()
    p.set_shape([4, 3])
    assert p.shape.as_list() == [4, 3]
    with pytest.raises(ValueError):
        p.set_shape([5, 3])


def test_control_dependencies_group_and_no_op():
    v = tf.Variable(0, name="counter")
    inc = tf.assign_add(v, 1)
    with tf.control_dependencies([inc]):
        read = tf.identity(v)
    assert inc.op in read.op.control_inputs
    n = tf.no_op(name="nothing")
    g = tf.group(inc, n, name="both")
    assert g.type == "NoOp" and set(c.name for c in g.control_inputs) == {inc.op.name, "nothing"}
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(read) == 1
        sess.run(g)
        assert sess.run(v) == 2
        assert g.run() is None


def test_finalize_blocks_new_nodes():
    g = tf.Graph()
    with g.as_default():
        tf.constant(1)
        g.finalize()
        assert g.finalized
        with pytest.raises(RuntimeError):
            tf.constant(2)


def test_cross_graph_input_raises():
    a = tf.constant(1.0)
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            tf.identity(a)


def test_error_names_node_and_location():
    v = tf.Variable([1.0, 2.0], name="v")
    with pytest.raises(ValueError) as e:
        tf.assign(v, [1.0, 2.0, 3.0], name="bad_assign")
    msg = str(e.value)
    assert "bad_assign" in msg and "Assign" in msg and "(2,)" in msg and "(3,)" in msg
    assert "test_graph.py" in msg
    with pytest.raises(TypeError):
        tf.assign(v, tf.constant([1, 2]))  # an int tensor into a float variable


def test_constant_forms():
    import numpy as np
    with tf.Session() as sess:
        assert sess.run(tf.constant(3)).dtype == np.int32
        assert sess.run(tf.constant(3.0)).dtype == np.float32
        assert sess.run(tf.constant([True, False])).dtype == np.bool_
        np.testing.assert_array_equal(sess.run(tf.constant(-1.0, shape=[2, 3])), -np.ones((2, 3), np.float32))
        np.testing.assert_array_equal(sess.run(tf.constant([1, 2, 3, 4], shape=[2, 2])), [[1, 2], [3, 4]])
        assert sess.run(tf.constant(5, dtype=tf.int64)).dtype == np.int64
        assert sess.run(tf.constant(np.arange(3.0))).dtype == np.float64
        assert sess.run(tf.constant(b"hi")) == b"hi"


def test_every_op_registered_once_with_a_kernel():
    from tideflow import _core
    assert _core.duplicate_ops() == []
    assert len(_core.registered_ops()) > 100


def test_version_reports_the_tensorflow_api_followed():
    # TF 1.x programs branch on the version: the seed's `int(v[1]) < 12 and int(v[0]) < 1` must pick the
    # 1.x names (tf.global_variables_initializer), not pre-1.0 ones such as tf.unpack.
    v = tf.__version__.split(".")
    assert not (int(v[1]) < 12 and int(v[0]) < 1) and v[0] == "1"
    assert tf.VERSION == tf.version.VERSION == tf.__version__
    assert tf.__tideflow_version__ in tf.version.GIT_VERSION


def test_device_functions_pick_each_ops_device():
    seen = []

    def assign(op):  # as multi-GPU programs write them: variables on the CPU, the rest elsewhere
        seen.append((op.type, op.node_def.op, op.name))
        return "/cpu:0" if op.node_def.op in ("Variable", "VariableV2") else "/gpu:0"

    g = tf.Graph()
    with g.as_default(), tf.device(assign):
        v = tf.Variable(1.0, name="v")
        y = tf.multiply(v, 2.0, name="y")
    assert v.op.device.lower().endswith("cpu:0") and y.op.device.lower().endswith("gpu:0")
    assert ("Mul", "Mul", "y") in seen
    with g.as_default(), tf.device(lambda op: None):
        assert tf.constant(1.0).op.device == ""
