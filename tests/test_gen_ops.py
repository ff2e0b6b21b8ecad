"""Wrappers made from the op registry (Note [ops carry their Python API] in cpp/op_registry.h,
python/tideflow/ops/gen_ops.py): each op with a Python API is reachable under every name it lists, has
TensorFlow's signature and docstring, and builds its node through apply_op with TF's conversions."""
import inspect

import numpy as np
import pytest

import tideflow as tf
from tideflow import _core
from tideflow.ops import gen_ops


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


OP_APIS = sorted(_core.op_apis())


def _resolve(dotted):
    obj = tf
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def test_every_description_names_a_registered_op():
    assert OP_APIS, "no op carries a Python API"
    registered = set(_core.registered_ops())
    assert all(op in registered for op, *_ in OP_APIS)


@pytest.mark.parametrize("op,num_inputs,args,api,doc", OP_APIS, ids=[o[0] for o in OP_APIS])
def test_wrapper_is_installed_with_signature_and_docstring(op, num_inputs, args, api, doc):
    fns = {name: _resolve(name) for name in api}
    f = fns[api[0]]
    assert all(g is f for g in fns.values()), "one function under all of %s" % api
    assert f._op_type == op and f.__doc__ == doc and doc
    params = list(inspect.signature(f).parameters.values())
    assert [p.name for p in params] == list(args) + ["name"]
    assert params[-1].default is None and all(p.default is p.empty for p in params[:-1])


@pytest.mark.parametrize("op,num_inputs,args,api,doc", OP_APIS, ids=[o[0] for o in OP_APIS])
def test_wrapper_builds_its_op(op, num_inputs, args, api, doc):
    f = _resolve(api[0])
    dtype = tf.bool if op == "LogicalNot" else tf.float64
    xs = [tf.placeholder(dtype, [2]) for _ in args]
    y = f(*xs)
    assert y.op.type == op and y.op.name == op and y.dtype in (dtype, tf.bool)
    assert [t.name for t in y.op.inputs] == [x.name for x in xs]
    named = f(**{a: x for a, x in zip(args, xs)}, name="mine")  # TF's keyword names
    assert named.op.name == "mine" and named.op.type == op


def test_python_values_become_constants():
    y = tf.exp([0.0, 1.0])
    assert y.op.inputs[0].op.type == "Const" and y.dtype == tf.float32
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y), np.exp([0.0, 1.0]), rtol=1e-6)
        np.testing.assert_array_equal(sess.run(tf.nn.relu(features=[-1, 2])), [0, 2])


def test_binary_wrappers_take_tf_conversion_rules():
    wrappers, placements = gen_ops._make_wrappers([("SquaredDifference", 2, ["x", "y"], ["testing.sqdiff"], "d")])
    f = wrappers["sqdiff"]
    assert placements == [("testing.sqdiff", f)]
    assert list(inspect.signature(f).parameters) == ["x", "y", "name"]
    x = tf.placeholder(tf.float64, [3], name="x")
    z = f(x, 2)  # the Python 2 takes x's dtype, as a constant under the op's scope
    assert z.op.type == "SquaredDifference" and z.op.name == "SquaredDifference"
    assert z.op.inputs[1].op.name == "SquaredDifference/y" and z.op.inputs[1].dtype == tf.float64
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(z, {x: [1.0, 2.0, 5.0]}), [1.0, 0.0, 9.0])
    ns = {}
    gen_ops.install(ns, placements)
    assert ns["testing"].sqdiff is f and ns["testing"].__name__ == "tideflow.testing"


@pytest.mark.parametrize("bad,match", [
    (("Exp", 1, ["x"], ["math.not-a-name"], ""), "not a Python identifier"),
    (("Exp", 1, ["lambda"], ["e"], ""), "not a Python identifier"),
    (("Exp", 1, [], ["e"], ""), "each named in .args"),
    (("Select", 3, ["c", "x", "y"], ["sel"], ""), "1 or 2 inputs"),
])
def test_bad_descriptions_fail_loudly(bad, match):
    with pytest.raises(ValueError, match=match):
        gen_ops._make_wrappers([bad])


def test_two_ops_cannot_claim_one_name():
    with pytest.raises(ValueError, match="both claim the Python name 'e'"):
        gen_ops._make_wrappers([("Exp", 1, ["x"], ["e"], ""), ("Log", 1, ["x"], ["math.e"], "")])
