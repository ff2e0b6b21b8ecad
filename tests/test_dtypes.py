"""The 8- and 16-bit dtypes (issue 12): feeds, fetches and constants, casts with TensorFlow's rounding and
wrapping, variables and checkpoints, TensorFlow file interop, build-time type errors, gradients, uint8
image pipelines. Op-by-op values are the op table's (tests/op_table, add_dtypes blocks)."""
import numpy as np
import pytest

import tideflow as tf
from tideflow.eager.context import eager_mode
from op_table.common import np_dtype

NEW = ["uint8", "int8", "int16", "uint16", "float16", "bfloat16"]
ALL = ["float32", "float64", "int32", "int64", "bool"] + NEW

# Casts' hard cases: halfway values of float16 and bfloat16, subnormals, out-of-range and special values.
SPECIAL = np.array([0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 127.9, 128.0, 255.5, 256.0, 300.7, -1.0, -129.0, 32768.0,
                    65504.0, 65519.99, 65520.0, 1e10, -1e10, np.inf, -np.inf, np.nan, 1 + 2.0 ** -11,
                    1 + 3 * 2.0 ** -11, 1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8, 1e-8, 6e-8, 3e-5, 3.0e38, -40000.0,
                    2.0 ** 31, -2.0 ** 31 - 1, 2.0 ** 63, 1.0000000596046448, 0.1])


def _values(dt):
    """SPECIAL as dtype `dt` (cast with NumPy's C casts; only the values tideflow and TF see matter)."""
    with np.errstate(all="ignore"):
        return SPECIAL.astype(np_dtype(dt))


def _bits(a):
    """Bit patterns of float arrays (NaNs compared as NaN), values of the others."""
    a = np.asarray(a)
    if a.dtype.kind in "fV" or a.dtype.name == "bfloat16":
        f = a.astype(np.float64)
        return np.where(np.isnan(f), np.nan, f), np.signbit(f)
    return a, None


def _assert_same(got, want, what):
    assert np.asarray(got).dtype == np.asarray(want).dtype, (what, np.asarray(got).dtype, np.asarray(want).dtype)
    g, gs = _bits(got)
    w, ws = _bits(want)
    np.testing.assert_array_equal(g, w, err_msg=what)
    if gs is not None:
        np.testing.assert_array_equal(gs, ws, err_msg=what + " (signs)")


def _tf_eval(tft, build):
    """TensorFlow's values of build() in a graph of its own (other tests may turn TF's eager mode off)."""
    g = tft.Graph()
    with g.as_default():
        outs = build()
        with tft.compat.v1.Session(graph=g) as s:
            return s.run(outs)


def test_dtype_objects():
    ml = pytest.importorskip("ml_dtypes")
    assert tf.half is tf.float16 and tf.as_dtype("half") is tf.float16
    assert tf.as_dtype(np.float16) is tf.float16 and tf.as_dtype(np.uint8) is tf.uint8
    assert tf.as_dtype(ml.bfloat16) is tf.bfloat16 and tf.bfloat16.as_numpy_dtype is ml.bfloat16
    assert tf.uint8.is_integer and tf.uint8.is_unsigned and not tf.int8.is_unsigned
    assert tf.float16.is_floating and tf.bfloat16.is_floating and not tf.uint16.is_floating
    assert (tf.uint8.min, tf.uint8.max, tf.int8.min, tf.int16.max, tf.uint16.max) == (0, 255, -128, 32767, 65535)
    assert tf.float16.max == 65504 and float(tf.bfloat16.max) == float(ml.finfo(ml.bfloat16).max)
    assert [getattr(tf, d).size for d in NEW] == [1, 1, 2, 2, 2, 2]
    assert repr(tf.bfloat16) == "tf.bfloat16" and tf.bfloat16.name == "bfloat16"


@pytest.mark.parametrize("dt", NEW)
def test_feed_fetch_and_constants(dt):
    x = (np.arange(24) - 5).reshape(2, 3, 4) * 3
    with np.errstate(all="ignore"):
        x = x.astype(np_dtype(dt))
    with tf.Graph().as_default():
        p = tf.placeholder(getattr(tf, dt), [None, 3, 4])
        c = tf.constant(x)
        c2 = tf.constant([1.5, -2, 7], dtype=getattr(tf, dt)) if dt in ("float16", "bfloat16") else None
        assert p.dtype is getattr(tf, dt) and c.dtype is getattr(tf, dt)
        with tf.Session() as s:
            got_p, got_c = s.run([tf.identity(p), c], {p: x})
            if c2 is not None:
                _assert_same(s.run(c2), np.array([1.5, -2, 7]).astype(np_dtype(dt)), "constant from floats")
    _assert_same(got_p, x, "feed")
    _assert_same(got_c, x, "constant")
    with eager_mode():
        e = tf.constant(x)
        assert e.dtype is getattr(tf, dt)
        _assert_same(e.numpy(), x, "eager constant")
        _assert_same(tf.reshape(e, [6, 4]).numpy(), x.reshape(6, 4), "eager reshape")


def test_feeding_another_dtype_converts_as_numpy():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float16, [3])
        b = tf.placeholder(tf.bfloat16, [3])
        with tf.Session() as s:
            got, got_b = s.run([p * 2, b + 1], {p: [0.1, 70000.0, -1.0], b: np.array([1.0, 256.0, 3.0], np.float32)})
    np.testing.assert_array_equal(got, np.array([0.1, np.inf, -1.0], np.float16) * np.float16(2))
    assert got_b.dtype == np_dtype("bfloat16")
    # bfloat16(256 + 1) is 256: 8 significant bits
    np.testing.assert_array_equal(got_b.astype(np.float32), [2.0, 256.0, 4.0])


def test_float_to_half_and_bfloat16_round_to_nearest_even():
    """Random float32 bit patterns and every halfway case near 1 against NumPy's float16 and ml_dtypes'
    bfloat16 conversions (both round to nearest even), on the vector and the scalar path (odd length)."""
    rng = np.random.RandomState(1)
    bits = rng.randint(0, 2 ** 32, size=20001, dtype=np.uint64).astype(np.uint32)
    halfway = (np.arange(0x3f800000, 0x3f800000 + (1 << 16), 0x800, dtype=np.uint32)[:, None] +
               np.array([0xfff, 0x1000, 0x1001], np.uint32)).ravel()  # float16 halfway cases
    halfway_bf = (np.arange(0x3f800000, 0x3f800000 + (1 << 20), 1 << 16, dtype=np.uint32)[:, None] +
                  np.array([0x7fff, 0x8000, 0x8001], np.uint32)).ravel()
    x = np.concatenate([bits, halfway, halfway_bf, [0x7f7fffff, 0x477ff000, 0x477fefff, 0x33000000, 0x33000001]])
    x = x.astype(np.uint32).view(np.float32)
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [None])
        h, b = tf.cast(p, tf.float16), tf.cast(p, tf.bfloat16)
        back = tf.cast(tf.constant(np.arange(65536, dtype=np.uint16).view(np.float16)), tf.float32)
        with tf.Session() as s:
            got_h, got_b, got_back = s.run([h, b, back], {p: x})
    with np.errstate(all="ignore"):
        _assert_same(got_h, x.astype(np.float16), "float32 -> float16")
        _assert_same(got_b, x.astype(np_dtype("bfloat16")), "float32 -> bfloat16")
        _assert_same(got_back, np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32), "float16 -> float32")


@pytest.mark.parametrize("src", ALL)
def test_casts_match_tensorflow(src):
    """Every cast from `src` to each dtype, on hard values, equals TensorFlow's Cast bit for bit. Out-of-range
    floats to integers are undefined in C++ and TensorFlow's result depends on the element's position (Note
    [cast semantics]): TensorFlow runs here on many copies, so that each value takes its vectorized loop."""
    tft = pytest.importorskip("tensorflow")
    x = _values(src)
    dsts = [d for d in ALL if d != src]
    with tf.Graph().as_default():
        c = tf.constant(x)
        outs = [tf.cast(c, getattr(tf, d)) for d in dsts]
        with tf.Session() as s:
            got = s.run(outs)
    with eager_mode():
        got_eager = [tf.cast(tf.constant(x), getattr(tf, d)).numpy() for d in dsts]
    wants = _tf_eval(tft, lambda: [tft.cast(tft.constant(np.tile(x, 1024)), getattr(tft, d)) for d in dsts])
    for d, g, e, want in zip(dsts, got, got_eager, wants):
        want = want[:len(x)]
        if d == "uint8" and src in ("float64", "float16"):
            # TensorFlow's loop for these two wraps through int16 above 32767 (32768 -> 0): we saturate
            xf = x.astype(np.float64)
            big = (xf >= 32768) & (xf < 2.0 ** 31)
            assert (g[big] == 255).all() and (want[big] == 0).all()
            g, e, want = g[~big], e[~big], want[~big]
        _assert_same(g, want, "%s -> %s" % (src, d))
        _assert_same(e, want, "eager %s -> %s" % (src, d))


def test_small_integers_wrap_as_numpy():
    a = np.array([200, 255, 0, 17], np.uint8)
    b = np.array([100, 1, 1, 20], np.uint8)
    i8 = np.array([127, -128, 100, -3], np.int8)
    with tf.Graph().as_default(), tf.Session() as s:
        got = s.run([tf.add(a, b), tf.subtract(a, b), tf.multiply(a, b), tf.add(i8, np.int8(1)),
                     tf.negative(i8), tf.multiply(i8, i8), tf.reduce_sum(a), tf.reduce_sum(i8)])
    with np.errstate(all="ignore"):
        want = [a + b, a - b, a * b, i8 + np.int8(1), -i8, i8 * i8, np.sum(a, dtype=np.uint8),
                np.sum(i8, dtype=np.int8)]
    for g, w in zip(got, want):
        _assert_same(g, w, "wrapping")


def test_half_results_round_once_from_float32():
    """A float16 matmul, conv2d, softmax and mean are the float32 results rounded once."""
    rng = np.random.RandomState(0)
    a = rng.uniform(-1, 1, (3, 5)).astype(np.float16)
    w = rng.uniform(-1, 1, (5, 4)).astype(np.float16)
    img = rng.uniform(-1, 1, (1, 5, 5, 2)).astype(np.float16)
    k = rng.uniform(-1, 1, (3, 3, 2, 3)).astype(np.float16)
    with tf.Graph().as_default(), tf.Session() as s:
        got = s.run([tf.matmul(a, w), tf.nn.conv2d(img, k, [1, 1, 1, 1], "SAME"), tf.nn.softmax(a),
                     tf.reduce_mean(a, axis=1)])
        ref = s.run([tf.matmul(a.astype(np.float32), w.astype(np.float32)),
                     tf.nn.conv2d(img.astype(np.float32), k.astype(np.float32), [1, 1, 1, 1], "SAME"),
                     tf.nn.softmax(a.astype(np.float32)), tf.reduce_mean(a.astype(np.float32), axis=1)])
    for g, r in zip(got, ref):
        assert g.dtype == np.float16
        np.testing.assert_array_equal(g, r.astype(np.float16))


def test_half_ops_against_tensorflow():
    """float16 and bfloat16 ops tideflow computes in float32 and rounds once agree with TensorFlow's to an ulp."""
    tft = pytest.importorskip("tensorflow")
    rng = np.random.RandomState(2)
    for dt in ("float16", "bfloat16"):
        x = rng.uniform(-2, 2, (4, 6)).astype(np_dtype(dt))
        w = rng.uniform(-1, 1, (6, 3)).astype(np_dtype(dt))
        img = rng.uniform(0, 1, (1, 6, 6, 2)).astype(np_dtype(dt))
        k = rng.uniform(-1, 1, (3, 3, 2, 2)).astype(np_dtype(dt))
        b = rng.uniform(-1, 1, (2,)).astype(np_dtype(dt))

        def build(t):
            x_, w_, img_, k_, b_ = (t.constant(v) for v in (x, w, img, k, b))
            return _ops_of(t, x_, w_, img_, k_, b_)

        def _ops_of(t, x, w, img, k, b):
            conv = t.nn.conv2d(img, k, [1, 1, 1, 1], "VALID")
            return [t.matmul(x, w), t.nn.softmax(x), t.exp(x), t.tanh(x), t.sqrt(t.abs(x)), x * x + x,
                    t.reduce_sum(x, 0), t.reduce_max(x, 1), t.nn.relu(t.nn.bias_add(conv, b)),
                    t.nn.max_pool2d(img, 2, 2, "VALID") if hasattr(t.nn, "max_pool2d") else
                    t.nn.max_pool(img, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
                    t.nn.avg_pool(img, [1, 2, 2, 1], [1, 2, 2, 1], "VALID") if t is tf else
                    t.nn.avg_pool2d(img, 2, 2, "VALID")]

        with tf.Graph().as_default(), tf.Session() as s:
            got = s.run(build(tf))
        want = _tf_eval(tft, lambda: build(tft))
        ulp = 2.0 ** (-10 if dt == "float16" else -7)
        for i, (g, wv) in enumerate(zip(got, want)):
            assert g.dtype == wv.dtype, (dt, i, g.dtype, wv.dtype)
            g32, w32 = g.astype(np.float32), wv.astype(np.float32)
            np.testing.assert_allclose(g32, w32, rtol=2 * ulp, atol=2 * ulp * np.abs(w32).max(), err_msg="%s op %d" % (dt, i))


def test_unsupported_dtypes_raise_at_build_time():
    u8 = np.zeros((2, 2), np.uint8)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.uint8, [1, 4, 4, 1])
        with pytest.raises(TypeError):
            tf.matmul(u8, u8)  # TF has no uint8 MatMul kernel
        with pytest.raises(TypeError):
            tf.nn.conv2d(tf.cast(x, tf.int8), tf.zeros([1, 1, 1, 1], tf.int8), [1, 1, 1, 1], "SAME")
        with pytest.raises(TypeError):
            tf.sqrt(tf.constant([1, 4], tf.int16))
        with pytest.raises(TypeError):
            tf.nn.softmax(tf.constant([[1, 2]], tf.uint8))
        with pytest.raises(TypeError):
            tf.negative(tf.constant([1], tf.uint16))
        with pytest.raises(TypeError):
            tf.math.lgamma(tf.constant([1.0], tf.bfloat16))  # TF has lgamma for float16 only
        with pytest.raises(TypeError):
            tf.add(tf.constant([1], tf.uint8), tf.constant([1], tf.int8))  # no implicit promotion


@pytest.mark.parametrize("dt", NEW)
def test_variables_and_checkpoints_round_trip(dt, tmp_path):
    x = (np.arange(12).reshape(3, 4) * 7 - 20)
    with np.errstate(all="ignore"):
        x = x.astype(np_dtype(dt))
        y = (x.astype(np.float64) + 1).astype(np_dtype(dt))
    for fmt in ("safetensors", "tensorflow"):
        (tmp_path / fmt).mkdir()
        path = str(tmp_path / fmt / "m")
        with tf.Graph().as_default():
            v = tf.Variable(x, name="v")
            assert v.dtype.base_dtype is getattr(tf, dt)
            saver = tf.train.Saver(format=fmt) if fmt == "tensorflow" else tf.train.Saver()
            with tf.Session() as s:
                s.run(v.initializer)
                s.run(tf.assign(v, y))
                saver.save(s, path)
        with tf.Graph().as_default():
            v = tf.Variable(np.zeros_like(x), name="v")
            saver = tf.train.Saver()
            with tf.Session() as s:
                saver.restore(s, path)
                _assert_same(s.run(v), y, "%s restore" % fmt)
        reader = tf.train.load_checkpoint(path)
        _assert_same(reader.get_tensor("v"), y, "%s reader" % fmt)


def test_safetensors_files_name_the_dtypes(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    from safetensors import safe_open
    vals = {d: np.arange(6).reshape(2, 3).astype(np.float32) for d in NEW}
    with tf.Graph().as_default():
        vs = [tf.Variable(tf.cast(vals[d], getattr(tf, d)), name=d) for d in NEW]
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            p = tf.train.Saver().save(s, str(tmp_path / "m"))
    with safe_open(p + ".safetensors", "np") as f:
        got = {k: f.get_slice(k).get_dtype() for k in f.keys()}
    assert got == {"uint8": "U8", "int8": "I8", "int16": "I16", "uint16": "U16", "float16": "F16", "bfloat16": "BF16"}
    with safe_open(p + ".safetensors", "np") as f:  # tensor by tensor: NumPy has no bfloat16 without ml_dtypes
        for d in NEW:
            if d != "bfloat16":
                np.testing.assert_array_equal(f.get_tensor(d), vals[d].astype(d))
    # a file written by safetensors is read back
    st.save_file({"a": np.array([1.5, -2], np.float16), "b": np.array([250, 3], np.uint8)}, str(tmp_path / "o.safetensors"))
    r = tf.train.load_checkpoint(str(tmp_path / "o.safetensors"))
    _assert_same(r.get_tensor("a"), np.array([1.5, -2], np.float16), "foreign F16")
    _assert_same(r.get_tensor("b"), np.array([250, 3], np.uint8), "foreign U8")


def test_tensorflow_checkpoints_and_graphs_interoperate(tmp_path):
    tft = pytest.importorskip("tensorflow")
    tf1 = tft.compat.v1
    vals = {d: (np.arange(6).reshape(2, 3) * 11 - 9).astype(np_dtype(d)) for d in NEW}
    (tmp_path / "tf").mkdir()
    (tmp_path / "tfl").mkdir()
    # TensorFlow writes a checkpoint, tideflow restores it
    g = tft.Graph()
    with g.as_default():
        tvs = [tf1.Variable(vals[d], name=d) for d in NEW]
        with tf1.Session(graph=g) as s:
            s.run(tf1.global_variables_initializer())
            tf_path = tf1.train.Saver().save(s, str(tmp_path / "tf" / "m"))
    with tf.Graph().as_default():
        vs = [tf.Variable(np.zeros_like(vals[d]), name=d) for d in NEW]
        with tf.Session() as s:
            tf.train.Saver().restore(s, tf_path)
            for d, v in zip(NEW, vs):
                _assert_same(s.run(v), vals[d], "TF checkpoint " + d)
            # tideflow writes TensorFlow's format, TensorFlow reads it
            tfl_path = tf.train.Saver(format="tensorflow").save(s, str(tmp_path / "tfl" / "m"))
    r = tft.train.load_checkpoint(tfl_path)
    for d in NEW:
        _assert_same(r.get_tensor(d), vals[d], "tideflow checkpoint in TF " + d)
    # a tideflow GraphDef with the dtypes runs in TensorFlow
    with tf.Graph().as_default() as g2:
        img = tf.placeholder(tf.uint8, [None, 2, 2, 3], name="img")
        h = tf.cast(img, tf.float16, name="h") * tf.constant(0.5, tf.float16)
        tf.identity(tf.cast(h, tf.bfloat16) + tf.constant(1, tf.bfloat16), name="out")
        tf.identity(tf.cast(img, tf.int16) - tf.constant(300, tf.int16), name="out16")
        gd = g2.as_graph_def()
    feed = np.arange(24, dtype=np.uint8).reshape(2, 2, 2, 3) * 10
    with tf.Session(graph=g2) as s:
        mine = s.run(["out:0", "out16:0"], {"img:0": feed})
    tg = tft.Graph()
    with tg.as_default():
        tf1.import_graph_def(tf1.GraphDef.FromString(gd.SerializeToString()), name="")
        with tf1.Session(graph=tg) as s:
            theirs = s.run(["out:0", "out16:0"], {"img:0": feed})
    for m, t in zip(mine, theirs):
        _assert_same(m, t, "GraphDef in TF")
    # and TensorFlow's GraphDef with the dtypes runs in tideflow
    with tf.Graph().as_default():
        tf.import_graph_def(tf.GraphDef.FromString(tg.as_graph_def().SerializeToString()), name="")
        with tf.Session() as s:
            back = s.run(["out:0", "out16:0"], {"img:0": feed})
    for m, t in zip(back, theirs):
        _assert_same(m, t, "TF GraphDef in tideflow")


def test_float16_gradients_and_training():
    rng = np.random.RandomState(3)
    xv = rng.uniform(-1, 1, (8, 4)).astype(np.float16)
    wv = rng.uniform(-1, 1, (4, 2)).astype(np.float16)
    with tf.Graph().as_default():
        x = tf.constant(xv)
        w = tf.Variable(wv)
        loss = tf.reduce_mean(tf.square(tf.nn.relu(tf.matmul(x, w)) - 0.25))
        (gw,) = tf.gradients(loss, [w])
        assert gw.dtype is tf.float16
        x32 = tf.constant(xv.astype(np.float32))
        w32 = tf.constant(wv.astype(np.float32))
        (gw32,) = tf.gradients(tf.reduce_mean(tf.square(tf.nn.relu(tf.matmul(x32, w32)) - 0.25)), [w32])
        train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        with tf.Session() as s:
            s.run(w.initializer)
            g16, g32 = s.run([gw, gw32])
            l0 = s.run(loss)
            for _ in range(20):
                s.run(train)
            l1 = s.run(loss)
    np.testing.assert_allclose(g16.astype(np.float32), g32, rtol=1e-2, atol=2e-3)
    assert l1 < l0


def test_uint8_image_pipeline():
    rng = np.random.RandomState(4)
    imgs = rng.randint(0, 256, (2, 4, 4, 3)).astype(np.uint8)
    with tf.Graph().as_default():
        p = tf.placeholder(tf.uint8, [None, 4, 4, 3])
        flipped = tf.reverse(p, [2])
        crop = tf.slice(p, [0, 1, 1, 0], [-1, 2, 2, -1])
        chw = tf.transpose(p, [0, 3, 1, 2])
        both = tf.concat([p, flipped], axis=3)
        picked = tf.gather(tf.reshape(p, [-1, 3]), [0, 5, 31])
        stacked = tf.stack([p[0], p[1]])
        padded = tf.pad(p, [[0, 0], [1, 1], [1, 1], [0, 0]])
        brighter = tf.minimum(tf.cast(p, tf.int16) + 40, 255)
        floats = tf.cast(p, tf.float32) / 255.0
        half = tf.cast(p, tf.float16) * tf.constant(1 / 255.0, tf.float16)
        maxed = tf.reduce_max(p, axis=[1, 2])
        with tf.Session() as s:
            got = s.run([flipped, crop, chw, both, picked, stacked, padded, brighter, floats, half, maxed], {p: imgs})
    want = [imgs[:, :, ::-1], imgs[:, 1:3, 1:3], imgs.transpose(0, 3, 1, 2),
            np.concatenate([imgs, imgs[:, :, ::-1]], 3), imgs.reshape(-1, 3)[[0, 5, 31]], imgs,
            np.pad(imgs, [[0, 0], [1, 1], [1, 1], [0, 0]]), np.minimum(imgs.astype(np.int16) + 40, 255),
            imgs.astype(np.float32) / np.float32(255.0),
            imgs.astype(np.float16) * np.float16(1 / 255.0), imgs.max(axis=(1, 2))]
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype, (i, g.dtype, w.dtype)
        np.testing.assert_array_equal(g, w, err_msg=str(i))
