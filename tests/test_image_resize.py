"""tf.image's bicubic, area, Lanczos, Gaussian, Mitchell and antialiased resizes (Note [resize weight
matrices]): values against an independent NumPy reference written from TensorFlow's kernels (per output
pixel, float64) and against TensorFlow itself where installed; float64 finite-difference gradients."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tideflow as tf
from tideflow.ops.image_ops import resize as resize_v2  # TF2's tf.image.resize (tideflow.v2's)
from tideflow.eager.context import eager_mode
from tideflow.ops import image_ops

RNG = np.random.RandomState(7)


# ---------------------------------------------------------------------------------------------------
# NumPy reference, one axis at a time (the methods are separable), each output pixel on its own.

def _ref_scale(n_in, n_out, align):
    return (n_in - 1) / (n_out - 1) if align and n_in > 1 and n_out > 1 else n_in / n_out


def _ref_bicubic_axis(n_in, n_out, align, half):
    """ResizeBicubic: the cubic convolution kernel (a = -0.75 legacy, -0.5 with half-pixel centers) at the
    fractional offset quantised to 1/1024 (TF's coefficient table)."""
    a = -0.5 if half else -0.75

    def k(t):
        t = abs(t)
        if t <= 1:
            return (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1
        if t < 2:
            return a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a
        return 0.0

    s = _ref_scale(n_in, n_out, align)
    m = np.zeros((n_out, n_in))
    for o in range(n_out):
        pos = (o + 0.5) * s - 0.5 if half else o * s
        base = int(np.floor(pos))
        d = np.rint((pos - base) * 1024) / 1024
        taps = [(base + j, k(d - j)) for j in (-1, 0, 1, 2)]
        if half:  # taps outside the image dropped, the rest renormalised
            taps = [(i, w) for i, w in taps if 0 <= i < n_in]
            tot = sum(w for _, w in taps)
            taps = [(i, w / tot) for i, w in taps]
        for i, w in taps:
            m[o, min(max(i, 0), n_in - 1)] += w
    return m


def _ref_area_axis(n_in, n_out, align):
    """ResizeArea: the mean of the input over the output cell [o, o+1) * scale (cells past the edge repeat
    the edge pixel)."""
    s = _ref_scale(n_in, n_out, align)
    m = np.zeros((n_out, n_in))
    for o in range(n_out):
        lo, hi = o * s, (o + 1) * s
        for i in range(int(np.floor(lo)), int(np.ceil(hi))):
            m[o, min(max(i, 0), n_in - 1)] += max(0.0, min(hi, i + 1) - max(lo, i)) / s
    return m


def _lanczos(r):
    return lambda t: np.sinc(t) * np.sinc(t / r) if abs(t) < r else 0.0


def _cubic(b, c):
    def k(t):
        t = abs(t)
        if t < 1:
            return ((12 - 9 * b - 6 * c) * t ** 3 + (-18 + 12 * b + 6 * c) * t ** 2 + (6 - 2 * b)) / 6
        if t < 2:
            return ((-b - 6 * c) * t ** 3 + (6 * b + 30 * c) * t ** 2 + (-12 * b - 48 * c) * t + (8 * b + 24 * c)) / 6
        return 0.0
    return k


KERNELS = {"lanczos3": (_lanczos(3), 3), "lanczos5": (_lanczos(5), 5),
           "gaussian": (lambda t: np.exp(-t * t / (2 * 0.5 ** 2)) if abs(t) < 1.5 else 0.0, 1.5),
           "mitchellcubic": (_cubic(1 / 3, 1 / 3), 2), "keyscubic": (_cubic(0, 0.5), 2),
           "triangle": (lambda t: max(0.0, 1 - abs(t)), 1)}


def _ref_kernel_axis(n_in, n_out, kernel, antialias):
    """ScaleAndTranslate (translation 0): output centre x + 0.5 samples input position (x + 0.5) * in/out;
    taps weighted by the kernel (widened by in/out when antialiasing a downsample), normalised."""
    k, radius = KERNELS[kernel]
    # Positions in float32 as TF's: the Gaussian is cut off at 1.5 where it is not 0, so a tap exactly at
    # the radius counts or not by float32 rounding.
    f = np.float32
    inv = f(1 / f(f(n_out) / f(n_in)))
    ks = max(inv, f(1)) if antialias else f(1)
    m = np.zeros((n_out, n_in))
    for o in range(n_out):
        c = f(o + 0.5) * inv
        t = [abs(f(i + 0.5) - c) * (f(1) / ks) for i in range(n_in)]
        w = np.array([k(float(ti)) if ti <= radius else 0.0 for ti in t])
        m[o] = w / w.sum()
    return m


def ref_resize(x, size, axis_fn):
    x = np.asarray(x, np.float64)
    batched = x.ndim == 4
    xb = x if batched else x[None]
    wh = axis_fn(xb.shape[1], size[0])
    ww = axis_fn(xb.shape[2], size[1])
    out = np.einsum("oh,nhwc,pw->nopc", wh, xb, ww)
    return out if batched else out[0]


def tf_value(tf2, make):
    if tf2.executing_eagerly():
        return make().numpy()
    with tf2.Graph().as_default(), tf2.compat.v1.Session() as s:
        return s.run(make())


def run_graph(make):
    with tf.Graph().as_default(), tf.Session() as s:
        return s.run(make())


def run_both(make):
    """make()'s value in a Session and eagerly (both must agree)."""
    g = run_graph(make)
    with eager_mode():
        e = make().numpy()
    np.testing.assert_allclose(e, g, rtol=1e-6, atol=1e-6)
    return g


SHAPES = [((1, 5, 7, 2), (9, 4)), ((1, 1, 3, 1), (2, 5)), ((6, 6, 1), (3, 3)), ((2, 4, 3, 3), (8, 11)),
          ((1, 9, 10, 1), (4, 3)), ((1, 3, 3, 1), (1, 1)), ((7, 5, 2), (7, 5)),
          ((1, 37, 41, 1), (45, 50)), ((70, 9, 1), (66, 12))]  # the last two: gathered taps (in > 8 taps)


# ---------------------------------------------------------------------------------------------------
# TF 1.x: resize_bicubic, resize_area, resize_images(BICUBIC / AREA)

@pytest.mark.parametrize("shape,size", SHAPES)
@pytest.mark.parametrize("align,half", [(False, False), (True, False), (False, True)])
def test_resize_bicubic_against_numpy(shape, size, align, half):
    x = RNG.rand(*shape).astype(np.float32)
    got = run_both(lambda: tf.image.resize_bicubic(x, size, align_corners=align, half_pixel_centers=half))
    assert got.dtype == np.float32
    want = ref_resize(x, size, lambda i, o: _ref_bicubic_axis(i, o, align, half))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape,size", SHAPES)
@pytest.mark.parametrize("align", [False, True])
def test_resize_area_against_numpy(shape, size, align):
    x = RNG.rand(*shape).astype(np.float32)
    got = run_both(lambda: tf.image.resize_area(x, size, align_corners=align))
    assert got.dtype == np.float32
    want = ref_resize(x, size, lambda i, o: _ref_area_axis(i, o, align))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape,size", SHAPES)
@pytest.mark.parametrize("align", [False, True])
def test_v1_bicubic_and_area_against_tensorflow(shape, size, align):
    tf2 = pytest.importorskip("tensorflow")
    x = RNG.rand(*shape).astype(np.float32)
    v1 = tf2.compat.v1.image
    for half in ((False, True) if not align else (False,)):
        want = tf_value(tf2, lambda: v1.resize_bicubic(x if x.ndim == 4 else x[None], size, align_corners=align,
                                                       half_pixel_centers=half))
        got = run_graph(lambda: tf.image.resize_bicubic(x, size, align_corners=align, half_pixel_centers=half))
        np.testing.assert_allclose(got, want if x.ndim == 4 else want[0], rtol=1e-5, atol=1e-5)
    want = tf_value(tf2, lambda: v1.resize_area(x if x.ndim == 4 else x[None], size, align_corners=align))
    got = run_graph(lambda: tf.image.resize_area(x, size, align_corners=align))
    np.testing.assert_allclose(got, want if x.ndim == 4 else want[0], rtol=1e-5, atol=1e-5)
    for method in (tf.image.ResizeMethodV1.BICUBIC, tf.image.ResizeMethodV1.AREA, "bicubic", "area"):
        want = tf_value(tf2, lambda: v1.resize_images(x, size, method=method, align_corners=align))
        got = run_both(lambda: tf.image.resize_images(x, size, method=method, align_corners=align))
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_v1_uint8_and_same_size_against_tensorflow():
    tf2 = pytest.importorskip("tensorflow")
    x = RNG.randint(0, 256, (2, 5, 6, 3)).astype(np.uint8)
    v1 = tf2.compat.v1.image
    for method in (2, 3):
        for size in ((7, 4), (5, 6), (3, 9)):
            want = tf_value(tf2, lambda: v1.resize_images(x, size, method=method))
            with tf.Graph().as_default(), tf.Session() as s:
                t = tf.image.resize_images(tf.constant(x), size, method=method)
                got = s.run(t)
            assert got.dtype == want.dtype  # uint8 unchanged at the same size, float32 otherwise
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-4)
    want = tf_value(tf2, lambda: v1.resize_images(x, [10, 8], method=2, preserve_aspect_ratio=True))
    got = run_graph(lambda: tf.image.resize_images(x, [10, 8], method=2, preserve_aspect_ratio=True))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-4)


# ---------------------------------------------------------------------------------------------------
# TF2: tf.image.resize with every method, with and without antialias

V2_METHODS = ["bilinear", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic"]
_KERNEL_OF = {"bilinear": "triangle", "bicubic": "keyscubic"}


def _v2_reference_axis(method, antialias):
    if method == "area":
        return lambda i, o: _ref_area_axis(i, o, False)
    if method == "bicubic" and not antialias:
        return lambda i, o: _ref_bicubic_axis(i, o, False, True)
    if method == "bilinear" and not antialias:
        return lambda i, o: _ref_kernel_axis(i, o, "triangle", False)  # the same weights as ResizeBilinear's
    return lambda i, o: _ref_kernel_axis(i, o, _KERNEL_OF.get(method, method), antialias)


@pytest.mark.parametrize("shape,size", SHAPES)
@pytest.mark.parametrize("method", V2_METHODS)
@pytest.mark.parametrize("antialias", [False, True])
def test_resize_v2_against_numpy(shape, size, method, antialias):
    x = RNG.rand(*shape).astype(np.float32)
    got = run_both(lambda: resize_v2(x, size, method=method, antialias=antialias))
    assert got.dtype == np.float32
    want = ref_resize(x, size, _v2_reference_axis(method, antialias))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-5)


@pytest.mark.parametrize("shape,size", SHAPES)
@pytest.mark.parametrize("method", V2_METHODS)
def test_resize_v2_against_tensorflow(shape, size, method):
    tf2 = pytest.importorskip("tensorflow")
    x = RNG.rand(*shape).astype(np.float32)
    for antialias in (False, True):
        want = tf_value(tf2, lambda: tf2.image.resize(x, size, method=method, antialias=antialias))
        got = run_graph(lambda: resize_v2(x, size, method=method, antialias=antialias))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float64, np.float16])
def test_resize_v2_dtypes_against_tensorflow(dtype):
    tf2 = pytest.importorskip("tensorflow")
    x = (RNG.rand(1, 6, 5, 2) * 255).astype(dtype)
    for method in V2_METHODS + ["nearest"]:
        for size in ((3, 8), (6, 5)):
            want = tf_value(tf2, lambda: tf2.image.resize(x, size, method=method, antialias=True))
            with eager_mode():
                got = resize_v2(x, size, method=method, antialias=True).numpy()
            assert got.dtype == want.dtype, (method, got.dtype, want.dtype)
            np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-5, atol=5e-4)


def test_resize_v2_preserve_aspect_ratio_against_tensorflow():
    tf2 = pytest.importorskip("tensorflow")
    x = RNG.rand(5, 9, 1).astype(np.float32)
    for method in ("bicubic", "area", "lanczos3"):
        want = tf_value(tf2, lambda: tf2.image.resize(x, [7, 7], method=method, preserve_aspect_ratio=True))
        got = run_graph(lambda: resize_v2(x, [7, 7], method=method, preserve_aspect_ratio=True))
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_placeholder_with_unknown_batch():
    x = RNG.rand(3, 4, 5, 2).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as s:
        p = tf.placeholder(tf.float32, [None, 4, 5, 2])
        t = resize_v2(p, [7, 3], method="lanczos3", antialias=True)
        assert t.shape.as_list() == [None, 7, 3, 2]
        got = s.run(t, {p: x})
    np.testing.assert_allclose(got, ref_resize(x, (7, 3), lambda i, o: _ref_kernel_axis(i, o, "lanczos3", True)),
                               rtol=1e-5, atol=1e-5)


def test_errors():
    x = np.zeros((1, 4, 4, 1), np.float32)
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="not implemented"):
            resize_v2(x, [2, 2], method="cubic")
        with pytest.raises(ValueError, match="not implemented"):
            resize_v2(x, [2, 2], method=tf.image.ResizeMethodV1.BICUBIC)  # TF2 takes the names only
        with pytest.raises(ValueError, match="not implemented"):
            tf.image.resize_images(x, [2, 2], method="lanczos3")
        with pytest.raises(ValueError, match="align_corners must be False"):
            tf.image.resize_bicubic(x, [2, 2], align_corners=True, half_pixel_centers=True)
        with pytest.raises(ValueError, match="3 or 4 dimensions"):
            tf.image.resize_area(np.zeros((4, 4), np.float32), [2, 2])
        with pytest.raises(ValueError, match="non-zero size"):
            resize_v2(np.zeros((1, 0, 4, 1), np.float32), [2, 2], method="bicubic")
        with pytest.raises(ValueError):
            resize_v2(tf.placeholder(tf.float32, [1, None, 4, 1]), [2, 2], method="area")


# ---------------------------------------------------------------------------------------------------
# gradients: float64 central differences through a Session (the float32 rounding at the end skipped)

@pytest.mark.parametrize("method,kw", [("bicubic", dict(align_corners=False, half=False)),
                                       ("bicubic", dict(align_corners=True, half=False)),
                                       ("bicubic", dict(align_corners=False, half=True)),
                                       ("area", dict(align_corners=False, half=False)),
                                       ("area", dict(align_corners=True, half=False)),
                                       ("lanczos3", dict(align_corners=False, half=False, antialias=True)),
                                       ("keyscubic", dict(align_corners=False, half=False, antialias=True))])
@pytest.mark.parametrize("size", [(3, 7), (6, 2)])
def test_gradient_float64(method, kw, size):
    xs = (1, 4, 5, 2)
    with tf.Graph().as_default(), tf.Session():
        x = tf.placeholder(tf.float64, xs)
        y = image_ops._resize(x, size, method, kw["align_corners"], kw["half"], None,
                              antialias=kw.get("antialias", False), keep_float64=True)
        assert y.dtype == tf.float64
        err = tf.test.compute_gradient_error(x, xs, y, [1, size[0], size[1], 2], delta=1e-6)
    assert err < 1e-7


@pytest.mark.parametrize("method", ["bicubic", "area", "lanczos3"])
def test_dense_and_tap_paths_agree(method, monkeypatch):
    x = RNG.rand(1, 60, 3, 2)
    got = {}
    for dense in (False, True):
        if not dense:
            with tf.Graph().as_default():
                image_ops._resize(x, (67, 5), method, False, False, None)
                assert "GatherV2" in {op.type for op in tf.get_default_graph().get_operations()}
        if dense:
            monkeypatch.setattr(image_ops, "_MAX_DENSE", 1 << 30)
            monkeypatch.setattr(image_ops, "_apply_axis", lambda x, aw, axis: image_ops._contract(x, aw.dense(), axis))
        got[dense] = run_graph(lambda: image_ops._resize(x, (67, 5), method, False, False, None, keep_float64=True))
    np.testing.assert_allclose(got[False], got[True], rtol=1e-12, atol=1e-12)


def test_gradient_float64_gathered_taps():
    xs, ys = (1, 44, 2, 1), (1, 47, 3, 1)
    for method, aa in (("bicubic", False), ("mitchellcubic", True)):
        with tf.Graph().as_default(), tf.Session():
            x = tf.placeholder(tf.float64, xs)
            y = image_ops._resize(x, ys[1:3], method, False, method == "bicubic", None, antialias=aa,
                                  keep_float64=True)
            assert "GatherV2" in {op.type for op in tf.get_default_graph().get_operations()}
            err = tf.test.compute_gradient_error(x, xs, y, ys, delta=1e-6)
        assert err < 1e-7


def test_gradient_matches_tensorflow():
    tf2 = pytest.importorskip("tensorflow")
    x = RNG.rand(2, 5, 4, 1).astype(np.float32)
    w = RNG.rand(2, 3, 7, 1).astype(np.float32)
    # TF registers no gradient for ResizeArea (tideflow's area is differentiable: test_gradient_float64)
    for method, aa in (("bicubic", False), ("lanczos5", False), ("gaussian", True), ("bilinear", True)):
        with tf2.Graph().as_default(), tf2.compat.v1.Session() as s:
            xt = tf2.constant(x)
            loss = tf2.reduce_sum(tf2.image.resize(xt, [3, 7], method=method, antialias=aa) * w)
            want = s.run(tf2.compat.v1.gradients(loss, xt)[0])
        with tf.Graph().as_default(), tf.Session() as s:
            p = tf.constant(x)
            g = tf.gradients(tf.reduce_sum(resize_v2(p, [3, 7], method=method, antialias=aa) * w), p)[0]
            got = s.run(g)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_too_large_weights_refused(monkeypatch):
    monkeypatch.setattr(image_ops, "_MAX_DENSE", 100)
    monkeypatch.setattr(image_ops, "_MAX_TAPS", 3)
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="too many taps"):
            resize_v2(np.zeros((1, 40, 4, 1), np.float32), [10, 4], method="area")
        resize_v2(np.zeros((1, 40, 4, 1), np.float32), [80, 4], method="area")  # 2 taps: gathered


def _linear_ramp_resized(coords):
    """A resize of the ramp 4 y + x ([1, 4, 4, 1]) read at source coordinates `coords` on both axes: bilinear
    interpolation reproduces a linear function exactly."""
    c = np.asarray(coords, np.float64)
    return 4 * c[:, None] + c[None, :]


def test_tf1_namespace_resize_is_resize_images():
    """TF 1.x's tf.image.resize is resize_images (source coordinate i * in / out) and its ResizeMethod the
    numbers of ResizeMethodV1; tideflow.v2's is TF2's half-pixel resize with method names (in a child process:
    importing tideflow.v2 turns on TF2 behaviour)."""
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    assert tf.image.ResizeMethod.BICUBIC == 2 and tf.compat.v1.image.resize is tf.image.resize_images
    with tf.Graph().as_default(), tf.Session() as s:
        got = s.run(tf.image.resize(x, [3, 3]))
    np.testing.assert_allclose(got[0, :, :, 0], _linear_ramp_resized(np.arange(3) * 4 / 3), rtol=1e-6)
    code = ("import json, numpy as np, tideflow.v2 as tf\n"
            "x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)\n"
            "print(json.dumps([tf.image.ResizeMethod.BICUBIC, tf.image.resize(x, [3, 3]).numpy()[0, :, :, 0].tolist()]))")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))] +
                                        [p for p in [env.get("PYTHONPATH")] if p])
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    name, v2 = json.loads(res.stdout.strip().splitlines()[-1])
    assert name == "bicubic"
    np.testing.assert_allclose(v2, _linear_ramp_resized((np.arange(3) + 0.5) * 4 / 3 - 0.5), rtol=1e-6)
