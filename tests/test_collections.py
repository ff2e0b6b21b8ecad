"""Graph collections: tf.add_to_collection, tf.get_collection(key, scope), get_collection_ref, GraphKeys,
and the variable collections filtered by scope."""
import pytest

import tideflow as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


class Named:
    def __init__(self, name):
        self.name = name


def test_add_and_get():
    tf.add_to_collection("stuff", 3)
    c = tf.constant(1., name="named")
    tf.add_to_collection("stuff", c)
    assert tf.get_collection("stuff") == [3, c]
    assert tf.get_collection("nope") == []
    got = tf.get_collection("stuff")
    got.append("not stored")  # get_collection returns a copy
    assert tf.get_collection("stuff") == [3, c]


def test_get_collection_ref_is_live():
    ref = tf.get_collection_ref("live")
    assert ref == [] and "live" in tf.get_default_graph().get_all_collection_keys()
    tf.add_to_collection("live", 1)
    ref.append(2)
    assert tf.get_collection("live") == [1, 2] and tf.get_collection_ref("live") is ref


def test_add_to_collections():
    tf.add_to_collections(["c1", "c2", "c1"], 5)  # a list is taken as a set of names
    tf.add_to_collections("c3", 6)  # a string is one name
    assert (tf.get_collection("c1"), tf.get_collection("c2"), tf.get_collection("c3")) == ([5], [5], [6])


def test_collection_keys_and_clear():
    g = tf.get_default_graph()
    g.add_to_collection("b", 1)
    g.add_to_collection(("private", "key"), 2)  # non-string keys are kept but not listed
    g.add_to_collection("a", 1)
    assert g.get_all_collection_keys() == ["b", "a"]
    g.clear_collection("b")
    assert g.get_collection("b") == [] and g.get_all_collection_keys() == ["a"]
    assert g.get_collection(("private", "key")) == [2]


def test_scope_filter_is_a_regex_match_on_names():
    items = [Named("loss/a"), Named("loss_1/b"), Named("other/loss/c"), Named("lossy"), 7]
    for x in items:
        tf.add_to_collection("k", x)
    # re.match: anchored at the start, not at the end, so "loss" also matches "loss_1/b" and "lossy".
    assert tf.get_collection("k", "loss") == items[:2] + [items[3]]
    assert tf.get_collection("k", "loss/") == [items[0]]
    assert tf.get_collection("k", ".*loss/") == [items[0], items[2]]
    assert tf.get_collection("k", "nothing") == []
    assert tf.get_collection("k") == items  # no scope: unnamed items too


def test_collections_are_per_graph():
    tf.add_to_collection("x", 1)
    with tf.Graph().as_default():
        assert tf.get_collection("x") == []
        tf.add_to_collection("x", 2)
        assert tf.get_collection("x") == [2]
    assert tf.get_collection("x") == [1]


def test_graph_keys():
    keys = tf.GraphKeys
    assert (keys.GLOBAL_VARIABLES, keys.TRAINABLE_VARIABLES, keys.LOCAL_VARIABLES) == (
        "variables", "trainable_variables", "local_variables")
    assert (keys.REGULARIZATION_LOSSES, keys.UPDATE_OPS, keys.LOSSES, keys.SUMMARIES) == (
        "regularization_losses", "update_ops", "losses", "summaries")
    assert keys.VARIABLES == keys.GLOBAL_VARIABLES


def test_variables_filtered_by_scope():
    with tf.variable_scope("enc"):
        w = tf.get_variable("w", shape=[2], initializer=tf.zeros_initializer())
        with tf.variable_scope("inner"):
            u = tf.get_variable("u", shape=[2], initializer=tf.zeros_initializer(), trainable=False)
    with tf.variable_scope("enc_1"):
        y = tf.get_variable("y", shape=[], initializer=tf.zeros_initializer())
    with tf.name_scope("enc"):
        z = tf.Variable(1., name="z")  # named by the name scope: "enc" and "enc_1" are taken
    other = tf.Variable(0., name="dec")
    assert z.name == "enc_2/z:0" and w.name == "enc/w:0"
    assert tf.global_variables() == [w, u, y, z, other]
    assert tf.global_variables("enc/") == [w, u]
    assert tf.global_variables("enc") == [w, u, y, z]
    assert tf.trainable_variables("enc/") == [w]
    assert tf.trainable_variables("enc/inner") == []
    assert tf.global_variables("enc/inner") == [u]
    assert tf.global_variables(".*z") == [z]
    assert tf.trainable_variables("dec") == [other]


def test_variable_scope_collection_helpers():
    with tf.variable_scope("s") as s:
        a = tf.get_variable("a", shape=[], initializer=tf.zeros_initializer())
        b = tf.get_variable("b", shape=[], initializer=tf.zeros_initializer(), trainable=False)
        loc = tf.get_local_variable("l", shape=[], initializer=tf.zeros_initializer())
    with tf.variable_scope("s_x"):
        tf.get_variable("c", shape=[], initializer=tf.zeros_initializer())
    assert s.global_variables() == [a, b]  # "s/" prefix: s_x/c is not included
    assert s.trainable_variables() == [a]
    assert s.local_variables() == [loc]
    assert s.get_collection(tf.GraphKeys.GLOBAL_VARIABLES) == [a, b]
    assert tf.get_variable_scope().global_variables() == tf.global_variables()


def test_global_variables_initializer_covers_get_variable():
    with tf.variable_scope("s"):
        a = tf.get_variable("a", shape=[2], initializer=tf.ones_initializer())
    b = tf.Variable([3., 4.], name="b")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        va, vb = sess.run([a, b])
    assert va.tolist() == [1., 1.] and vb.tolist() == [3., 4.]
