"""Checkpoint readers, tf.train.init_from_checkpoint, tf.make_template, local variables and regularizers."""
import numpy as np
import pytest

import tideflow as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _save(tmp_path, step=3):
    """A checkpoint with a/w (float32 [2,3]), a/i (int32 [2]) and top (float64 []); returns (prefix, values)."""
    w = tf.get_variable("a/w", [2, 3])
    i = tf.get_variable("a/i", [2], dtype=tf.int32, initializer=tf.constant_initializer(5))
    t = tf.get_variable("top", [], dtype=tf.float64, initializer=tf.constant_initializer(2.5))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = tf.train.Saver().save(sess, str(tmp_path / "m"), global_step=step)
        values = dict(zip(["a/w", "a/i", "top"], sess.run([w, i, t])))
    tf.reset_default_graph()
    return prefix, values


# ---- CheckpointReader ----

def test_reader_shapes_dtypes_values(tmp_path):
    prefix, values = _save(tmp_path)
    for r in (tf.train.NewCheckpointReader(prefix), tf.train.load_checkpoint(str(tmp_path)),
              tf.train.load_checkpoint(prefix)):
        assert r.get_variable_to_shape_map() == {"a/w": [2, 3], "a/i": [2], "top": []}
        dtypes = r.get_variable_to_dtype_map()
        assert dtypes == {"a/w": tf.float32, "a/i": tf.int32, "top": tf.float64}
        assert all(isinstance(d, tf.DType) for d in dtypes.values())
        assert r.has_tensor("a/w") and not r.has_tensor("a/q")
        for name, v in values.items():
            np.testing.assert_array_equal(r.get_tensor(name), v)
        assert r.get_tensor("a/i").dtype == np.int32
        assert r.debug_string() == b"a/i (DT_INT32) [2]\na/w (DT_FLOAT) [2,3]\ntop (DT_DOUBLE) []\n"
    assert tf.train.list_variables(str(tmp_path)) == [("a/i", [2]), ("a/w", [2, 3]), ("top", [])]


def test_reader_errors(tmp_path):
    prefix, _ = _save(tmp_path)
    r = tf.train.NewCheckpointReader(prefix)
    with pytest.raises(tf.errors.NotFoundError) as e:
        r.get_tensor("nope")
    assert str(e.value) == "Key nope not found in checkpoint"
    missing = str(tmp_path / "missing")
    for f in (tf.train.NewCheckpointReader, tf.train.load_checkpoint):
        with pytest.raises(tf.errors.NotFoundError) as e:
            f(missing)
        assert str(e.value) == ("Unsuccessful TensorSliceReader constructor: Failed to find any matching files "
                                "for " + missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file or checkpoints in given directory"):
        tf.train.load_checkpoint(str(empty))


# ---- init_from_checkpoint ----

def test_init_from_checkpoint_fine_tuning_flow(tmp_path):
    # Model A: train a little, save.
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2))
    with tf.variable_scope("model_a"):
        w = tf.get_variable("dense/kernel", [2, 4])
        b = tf.get_variable("dense/bias", [4], initializer=tf.zeros_initializer())
        head = tf.get_variable("head", [4, 1])
    loss = tf.reduce_sum(tf.square(tf.matmul(tf.matmul(x, w) + b, head) - 1.0))
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        want_w, want_b = sess.run([w, b])
        tf.train.Saver().save(sess, str(tmp_path / "a"))
    assert np.any(want_b != 0)

    # Model B: the same body under another scope, a new head; only the body comes from the checkpoint.
    tf.reset_default_graph()
    with tf.variable_scope("model_b"):
        with tf.variable_scope("dense"):
            w2 = tf.get_variable("kernel", [2, 4])
            b2 = tf.get_variable("bias", [4], initializer=tf.zeros_initializer())
        head2 = tf.get_variable("new_head", [4, 3], initializer=tf.ones_initializer())
    old_init = w2.initializer
    tf.train.init_from_checkpoint(str(tmp_path), {"model_a/dense/": "model_b/dense/"})
    assert w2.initializer is not old_init
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(w2), want_w)
        np.testing.assert_array_equal(sess.run(b2), want_b)
        np.testing.assert_array_equal(sess.run(head2), np.ones([4, 3], np.float32))
        # Running the initializer again reloads the checkpoint value.
        sess.run(tf.assign(w2, tf.zeros([2, 4])))
        sess.run(w2.initializer)
        np.testing.assert_array_equal(sess.run(w2), want_w)
        np.testing.assert_array_equal(sess.run(w2.initialized_value()), want_w)


def test_init_from_checkpoint_forms(tmp_path):
    prefix, values = _save(tmp_path)
    with tf.variable_scope("c"):
        with tf.variable_scope("a"):
            w = tf.get_variable("w", [2, 3])
            i = tf.get_variable("i", [2], dtype=tf.int32)
        t = tf.get_variable("top", [], dtype=tf.float64)
    by_obj = tf.get_variable("by_obj", [2, 3])
    by_name = tf.get_variable("by_name", [2, 3])
    parts = [tf.Variable(np.zeros([1, 3], np.float32), name="p0"), tf.Variable(np.zeros([1, 3], np.float32),
                                                                                 name="p1")]
    tf.train.init_from_checkpoint(prefix, {"/": "c/"})
    tf.train.init_from_checkpoint(prefix, [("a/w", by_obj), ("a/w", "by_name"), ("a/w", parts)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([w, i, t, by_obj, by_name] + parts)
    for g, want in zip(got, [values["a/w"], values["a/i"], values["top"], values["a/w"], values["a/w"]]):
        np.testing.assert_array_equal(g, want)
    np.testing.assert_array_equal(np.concatenate(got[5:]), values["a/w"])


def test_init_from_checkpoint_errors(tmp_path):
    prefix, _ = _save(tmp_path)
    d = str(tmp_path)
    with tf.variable_scope("b"):
        tf.get_variable("w", [2, 3])
        tf.get_variable("z", [3, 3])
    with pytest.raises(ValueError) as e:
        tf.train.init_from_checkpoint(d, {"a/w": "b/z"})
    assert str(e.value) == ("Shape of variable b/z:0 ((3, 3)) doesn't match with shape of tensor a/w ([2, 3]) "
                            "from checkpoint reader.")
    with pytest.raises(ValueError) as e:
        tf.train.init_from_checkpoint(d, {"a/q": "b/w"})
    assert str(e.value).startswith("Tensor a/q is not found in %s checkpoint {" % d)
    with pytest.raises(ValueError) as e:
        tf.train.init_from_checkpoint(d, {"a/": "b/"})
    assert str(e.value) == "Tensor a/z (z in a/) is not found in %s checkpoint" % d
    with pytest.raises(ValueError, match="Assignment map with scope only name b should map to scope only a"):
        tf.train.init_from_checkpoint(d, {"a": "b/"})
    with pytest.raises(ValueError, match="don't partition the shape of tensor a/w"):
        tf.train.init_from_checkpoint(d, {"a/w": [tf.Variable(np.zeros([1, 3], np.float32))]})
    with pytest.raises(tf.errors.NotFoundError, match="Failed to find any matching files"):
        tf.train.init_from_checkpoint(d + "/nope", {"a/": "b/"})


def test_init_from_checkpoint_matches_tensorflow_messages(tmp_path):
    tf_ref = pytest.importorskip("tensorflow")
    v1 = tf_ref.compat.v1
    msgs = []
    for lib, d in ((tf, tmp_path / "tideflow"), (v1, tmp_path / "tf")):
        d.mkdir()
        g = tf.Graph() if lib is tf else v1.Graph()
        with g.as_default():
            if lib is v1:
                v1.disable_eager_execution()
            lib.get_variable("a/w", [2, 3])
            with lib.Session() as sess:
                sess.run(lib.global_variables_initializer())
                lib.train.Saver().save(sess, str(d / "m"))
        g = tf.Graph() if lib is tf else v1.Graph()
        got = []
        with g.as_default():
            with lib.variable_scope("b"):
                lib.get_variable("w", [2, 3])
                lib.get_variable("z", [3, 3])
            for am in ({"a/w": "b/z"}, {"a/": "b/"}, {"a": "b/"}):
                with pytest.raises(ValueError) as e:
                    lib.train.init_from_checkpoint(str(d), am)
                got.append(str(e.value).replace(str(d), "DIR"))
            with pytest.raises(lib.errors.NotFoundError) as e:
                lib.train.NewCheckpointReader(str(d / "m")).get_tensor("x")
            got.append(str(e.value))
        msgs.append(got)
    assert msgs[0] == msgs[1]


# ---- make_template ----

def _linear(x, units=3):
    w = tf.get_variable("w", [2, units])
    b = tf.get_variable("b", [units], initializer=tf.zeros_initializer())
    return tf.matmul(x, w) + b


def test_make_template_shares_variables_and_gradients():
    x = tf.constant([[1.0, 2.0]])
    t = tf.make_template("lin", _linear, units=4)
    assert t.name == "lin" and t.variable_scope is None and t.variables == []
    y1, y2 = t(x), t(x * 2.0)
    assert t.variable_scope.name == "lin" and t.variable_scope_name == "lin/"
    assert [v.op.name for v in t.variables] == ["lin/w", "lin/b"]
    assert [v.op.name for v in t.trainable_variables] == ["lin/w", "lin/b"]
    assert [v.op.name for v in tf.trainable_variables()] == ["lin/w", "lin/b"]
    assert (y1.name, y2.name) == ("lin/add:0", "lin_1/add:0")
    gw, gb = tf.gradients(tf.reduce_sum(y1) + tf.reduce_sum(y2), t.trainable_variables)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b, gw_, gb_ = sess.run([y1, y2, gw, gb])
    np.testing.assert_allclose(b, 2 * a)  # zero bias, shared kernel
    np.testing.assert_allclose(gw_, np.tile([[3.0], [6.0]], [1, 4]))  # both calls' inputs reach the one kernel
    np.testing.assert_allclose(gb_, np.full(4, 2.0))
    # A second template of the same name gets its own scope and variables.
    t2 = tf.make_template("lin", _linear)
    t2(x)
    assert [v.op.name for v in t2.variables] == ["lin_1/w", "lin_1/b"]


def test_make_template_scope_options():
    x = tf.constant([[1.0, 2.0]])
    with tf.variable_scope("outer"):
        t = tf.make_template("lin", _linear, create_scope_now_=True)
    assert t.variable_scope.name == "outer/lin" and t.variables == []
    t(x)
    t(x)
    assert [v.op.name for v in t.variables] == ["outer/lin/w", "outer/lin/b"]
    u = tf.make_template("ignored", _linear, unique_name_="exact")
    u(x)
    assert [v.op.name for v in u.variables] == ["exact/w", "exact/b"]
    seen = []

    def getter(getter, name, *args, **kwargs):
        seen.append(name)
        return getter(name, *args, **kwargs)
    c = tf.make_template("cg", _linear, custom_getter_=getter)
    c(x)
    c(x)
    assert seen == ["cg/w", "cg/b", "cg/w", "cg/b"]
    with pytest.raises(ValueError, match="name cannot be None"):
        tf.make_template(None, _linear)


def test_make_template_rejects_late_variables():
    calls = []

    def body(x):
        calls.append(1)
        v = tf.get_variable("v", [1])
        if len(calls) > 1:
            tf.Variable(1.0, name="late")
        return x * v
    t = tf.make_template("bad", body)
    x = tf.constant([1.0])
    t(x)
    with pytest.raises(ValueError) as e:
        t(x)
    msg = str(e.value)
    assert msg.startswith("Trainable variable created when calling a template after the first time, perhaps you "
                          "used tf.Variable when you meant tf.get_variable: [<tf.Variable 'bad_1/late:0'")
    assert "originally defined at:" in msg and "test_make_template_rejects_late_variables" in msg

    def new_name(x):
        calls.append(1)
        return x * tf.get_variable("v%d" % len(calls), [1])
    t = tf.make_template("grow", new_name)
    t(x)
    with pytest.raises(ValueError, match="Variable grow/v4 does not exist"):
        t(x)


def test_make_template_matches_tensorflow_names():
    tf_ref = pytest.importorskip("tensorflow")
    v1 = tf_ref.compat.v1
    out = []
    for lib in (tf, v1):
        g = tf.Graph() if lib is tf else v1.Graph()
        with g.as_default():
            def f(x):
                return x * lib.get_variable("w", [1])
            x = lib.constant([1.0])
            t = lib.make_template("t", f)
            ys = [t(x), t(x)]
            with lib.variable_scope("o"):
                s = lib.make_template("t", f, create_scope_now_=True)
            ys += [s(x), s(x)]
            out.append(([y.name for y in ys], [v.name for v in lib.global_variables()],
                        t.variable_scope_name, s.variable_scope_name))
    assert out[0] == out[1]


# ---- local variables and regularizers ----

def test_get_local_variable_and_regularization_losses():
    def l2(v):
        return tf.reduce_sum(tf.square(v))
    with tf.variable_scope("s", regularizer=l2):
        loc = tf.get_local_variable("loc", [2], initializer=tf.ones_initializer())
        w = tf.get_variable("w", [2], initializer=tf.constant_initializer(3.0))
        n = tf.get_variable("n", [2], regularizer=tf.no_regularizer)
    tf.get_variable("own", [], initializer=tf.constant_initializer(2.0), regularizer=lambda v: 0.5 * v)
    assert tf.local_variables() == [loc]
    assert loc not in tf.global_variables() and loc not in tf.trainable_variables()
    assert tf.trainable_variables() == [w, n, tf.trainable_variables()[2]]
    losses = tf.losses.get_regularization_losses()
    assert [t.op.name for t in losses] == ["s/loc/Regularizer/Sum", "s/w/Regularizer/Sum", "own/Regularizer/mul"]
    assert tf.losses.get_regularization_losses("s/w") == [losses[1]]
    total = tf.losses.get_regularization_loss()
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        assert sess.run(total) == pytest.approx(2.0 + 18.0 + 1.0)
        assert sess.run(tf.losses.get_regularization_loss("s/w")) == pytest.approx(18.0)
    with tf.variable_scope("s", reuse=True):
        assert tf.get_local_variable("loc", [2]) is loc


def test_local_variable_and_regularizer_match_tensorflow():
    tf_ref = pytest.importorskip("tensorflow")
    v1 = tf_ref.compat.v1
    out = []
    for lib in (tf, v1):
        g = tf.Graph() if lib is tf else v1.Graph()
        with g.as_default():
            with lib.variable_scope("s", regularizer=lambda v: lib.reduce_sum(v), use_resource=False):
                lib.get_local_variable("loc", [2])
                lib.get_variable("w", [2])
                lib.get_variable("n", [2], regularizer=lib.no_regularizer)
            out.append(([v.op.name for v in lib.local_variables()], [v.op.name for v in lib.global_variables()],
                        [v.op.name for v in lib.trainable_variables()],
                        [t.op.name for t in lib.get_collection(lib.GraphKeys.REGULARIZATION_LOSSES)]))
    assert out[0] == out[1]
