"""tf.image basics: the PNG codec against PIL and TensorFlow's libpng, resize and convert_image_dtype against
TensorFlow (graph and eager)."""
import io
import zlib

import numpy as np
import pytest

import tideflow as tf
from tideflow.ops.image_ops import resize as resize_v2  # TF2's tf.image.resize (tideflow.v2's)
from tideflow.eager.context import eager_mode
from tideflow.ops import image_ops

RNG = np.random.RandomState(0)


def tf_value(tf2, make):
    """TensorFlow's value of make(): eagerly, or in a Session when other tests left TensorFlow in graph mode."""
    if tf2.executing_eagerly():
        return make().numpy()
    with tf2.Graph().as_default(), tf2.compat.v1.Session() as s:
        return s.run(make())


@pytest.mark.parametrize("c", [1, 2, 3, 4])
def test_png_round_trip_and_pil_reads_it(c):
    img = RNG.randint(0, 256, (7, 5, c)).astype(np.uint8)
    data = image_ops.encode_png_bytes(img)
    np.testing.assert_array_equal(image_ops.decode_png_bytes(data), img)
    Image = pytest.importorskip("PIL.Image")
    back = np.asarray(Image.open(io.BytesIO(data)))
    np.testing.assert_array_equal(back.reshape(img.shape), img)


def _pil_png(arr, mode, **kw):
    Image = pytest.importorskip("PIL.Image")
    buf = io.BytesIO()
    Image.fromarray(arr, mode).save(buf, format="PNG", **kw)
    return buf.getvalue()


def test_decode_pil_files_palette_gray_16bit():
    Image = pytest.importorskip("PIL.Image")
    rgb = RNG.randint(0, 256, (9, 11, 3)).astype(np.uint8)
    data = _pil_png(rgb, "RGB", optimize=True)
    np.testing.assert_array_equal(image_ops.decode_png_bytes(data), rgb)
    pal = Image.fromarray(rgb, "RGB").convert("P", palette=Image.ADAPTIVE, colors=7)
    buf = io.BytesIO()
    pal.save(buf, format="PNG")
    np.testing.assert_array_equal(image_ops.decode_png_bytes(buf.getvalue()), np.asarray(pal.convert("RGB")))
    bw = Image.fromarray((RNG.rand(5, 13) > 0.5).astype(np.uint8) * 255, "L").convert("1")
    buf = io.BytesIO()
    bw.save(buf, format="PNG")
    np.testing.assert_array_equal(image_ops.decode_png_bytes(buf.getvalue())[..., 0],
                                  np.asarray(bw.convert("L")))
    g16 = RNG.randint(0, 65536, (4, 6)).astype(np.uint16)
    enc16 = image_ops.encode_png_bytes(g16[..., None])
    np.testing.assert_array_equal(image_ops.decode_png_bytes(enc16)[..., 0], g16)
    with pytest.raises(ValueError):
        tf.image.decode_png(enc16, channels=2)


def test_decode_libpng_filtered_files_and_channels():
    tf2 = pytest.importorskip("tensorflow")
    # a smooth image makes libpng choose Sub/Up/Average/Paeth filters
    yy, xx = np.mgrid[0:40, 0:37]
    img = np.stack([(xx * 6) % 256, (yy * 5) % 256, (xx + yy) % 256, np.full_like(xx, 200)], -1).astype(np.uint8)
    data = tf_value(tf2, lambda: tf2.io.encode_png(img))
    raw = zlib.decompress(data[data.index(b"IDAT") + 4:])
    filters = {raw[r * (37 * 4 + 1)] for r in range(40)}
    assert len(filters - {0}) >= 1
    np.testing.assert_array_equal(image_ops.decode_png_bytes(data), img)
    for ch in (1, 3, 4):
        want = tf_value(tf2, lambda: tf2.io.decode_png(data, channels=ch))
        got = image_ops.decode_png_bytes(data, ch)
        assert np.abs(got.astype(int) - want.astype(int)).max() <= 1, ch
    ours = image_ops.encode_png_bytes(img)
    np.testing.assert_array_equal(tf_value(tf2, lambda: tf2.io.decode_png(ours)), img)


def test_decode_png_op_graph_and_eager():
    img = RNG.randint(0, 256, (3, 4, 3)).astype(np.uint8)
    data = image_ops.encode_png_bytes(img)
    with eager_mode():
        t = tf.image.decode_png(data, channels=4)
        assert t.shape.as_list() == [3, 4, 4]
        np.testing.assert_array_equal(t.numpy()[..., :3], img)
        assert (t.numpy()[..., 3] == 255).all()
        enc = tf.image.encode_png(tf.constant(img.astype(np.int32)))
        np.testing.assert_array_equal(image_ops.decode_png_bytes(enc.numpy()), img)
    with tf.Graph().as_default():
        s = tf.placeholder(tf.string, [])
        dec = tf.image.decode_png(s, channels=3)
        assert dec.shape.as_list() == [None, None, 3]
        enc = tf.image.encode_png(dec)
        with tf.Session() as sess:
            d, e = sess.run([dec, enc], {s: data})
        np.testing.assert_array_equal(d, img)
        np.testing.assert_array_equal(image_ops.decode_png_bytes(e), img)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(dec, {s: b"not a png"})


@pytest.mark.parametrize("shape,size", [((1, 5, 7, 2), (9, 4)), ((6, 6, 1), (3, 3)), ((2, 4, 3, 3), (8, 6)),
                                        ((1, 3, 3, 1), (1, 1))])
@pytest.mark.parametrize("method", ["bilinear", "nearest"])
def test_resize_v2_against_tensorflow(shape, size, method):
    tf2 = pytest.importorskip("tensorflow")
    x = RNG.rand(*shape).astype(np.float32)
    want = tf_value(tf2, lambda: tf2.image.resize(x, size, method=method))
    with eager_mode():
        got = resize_v2(x, size, method=method).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    with tf.Graph().as_default():
        with tf.Session() as s:
            np.testing.assert_allclose(s.run(resize_v2(tf.constant(x), size, method=method)), want,
                                       rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("align", [False, True])
def test_resize_v1_against_tensorflow(align):
    tf2 = pytest.importorskip("tensorflow")
    x = RNG.rand(2, 5, 4, 3).astype(np.float32)
    for size in ((7, 9), (3, 2)):
        want = tf_value(tf2, lambda: tf2.compat.v1.image.resize_bilinear(x, size, align_corners=align))
        wantn = tf_value(tf2, lambda: tf2.compat.v1.image.resize_nearest_neighbor(x, size, align_corners=align))
        with tf.Graph().as_default(), tf.Session() as s:
            got = s.run(tf.image.resize_bilinear(x, size, align_corners=align))
            gotn = s.run(tf.image.resize_nearest_neighbor(x, size, align_corners=align))
            got2 = s.run(tf.image.resize_images(x, size, align_corners=align))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got2, want, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(gotn, wantn)


def test_resize_integer_input_and_gradient():
    with eager_mode():
        xi = tf.constant(np.arange(16, dtype=np.int32).reshape(4, 4, 1))
        r = resize_v2(xi, [2, 2])
        assert r.dtype == tf.float32
        n = resize_v2(xi, [2, 2], method="nearest")
        assert n.dtype == tf.int32
        x = tf.constant(RNG.rand(1, 3, 3, 1).astype(np.float32))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(resize_v2(x, [5, 5]) * np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1))
        g = tape.gradient(y, x).numpy()
    eps = 1e-2
    num = np.zeros_like(g)
    base = x.numpy()
    for i in range(3):
        for j in range(3):
            for sgn in (1, -1):
                xp = base.copy()
                xp[0, i, j, 0] += sgn * eps
                with eager_mode():
                    val = float(tf.reduce_sum(resize_v2(tf.constant(xp), [5, 5]) *
                                              np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)))
                num[0, i, j, 0] += sgn * val / (2 * eps)
    np.testing.assert_allclose(g, num, rtol=1e-2, atol=1e-2)
    with pytest.raises(ValueError, match="not implemented"):  # every TF method exists (test_image_resize.py)
        resize_v2(np.zeros((2, 2, 1), np.float32), [3, 3], method="bicubicc")


def test_convert_image_dtype_against_tensorflow():
    tf2 = pytest.importorskip("tensorflow")
    f = np.array([0.0, 0.25, 0.5, 1.0, 1.5, -0.5], np.float32)
    i = np.array([0, 1, 2**30, 2**31 - 1], np.int32)
    with eager_mode():
        for sat in (False, True):
            got = tf.image.convert_image_dtype(f[:4], tf.int32, saturate=sat).numpy()
            want = tf_value(tf2, lambda: tf2.image.convert_image_dtype(f[:4], tf2.int32, saturate=sat))
            np.testing.assert_array_equal(got, want)
        got = tf.image.convert_image_dtype(f, tf.int32, saturate=True).numpy()
        want = tf_value(tf2, lambda: tf2.image.convert_image_dtype(f, tf2.int32, saturate=True))
        np.testing.assert_array_equal(got, want)
        np.testing.assert_allclose(tf.image.convert_image_dtype(i, tf.float32).numpy(),
                                   tf_value(tf2, lambda: tf2.image.convert_image_dtype(i, tf2.float32)), rtol=1e-7)
        np.testing.assert_array_equal(tf.image.convert_image_dtype(i, tf.int64).numpy(),
                                      tf_value(tf2, lambda: tf2.image.convert_image_dtype(i, tf2.int64)))
        np.testing.assert_array_equal(tf.image.convert_image_dtype(i.astype(np.int64) << 32, tf.int32).numpy(),
                                      tf_value(tf2, lambda: tf2.image.convert_image_dtype(i.astype(np.int64) << 32, tf2.int32)))
        np.testing.assert_allclose(tf.image.convert_image_dtype(f, tf.float64).numpy(), f)
