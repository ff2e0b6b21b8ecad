"""Per-axis weights of tf.image's separable resize methods, built in NumPy when the graph is built
(image_ops.py applies them per axis as a MatMul or a sum of gathers).

Note [resize weight matrices]
- Every resize method but nearest is separable: out = Wh . image . Ww^T with one [out, in] matrix per axis,
  so image_ops.py contracts the height axis with Wh, then the width axis with Ww (TensorFlow's order for
  ResizeBicubic and ScaleAndTranslate); the gradient is the transposed products, which is what
  ResizeBicubicGrad / ScaleAndTranslateGrad compute. Sizes are static (Note [tf.image]).
- Each axis is one MatMul with the dense matrix when an output reads a good share of the inputs (in <= 8
  taps) and the matrix is small (<= 4M entries); otherwise (large images, few taps: upsampling, mild
  downsampling) it is a sum of K gathers times per-output weights (AxisWeights.taps), K being the most
  inputs one output reads, so large images never build an out x in matrix.
- The matrices reproduce TensorFlow's kernels' own arithmetic in float32 (coordinates, the 1024-entry
  bicubic coefficient table rounded with lrintf, clamped taps summed onto the edge pixel, renormalised
  taps, ResizeArea's fractional cell coverage); where TF computes in double and rounds (the coefficient
  table, ScaleAndTranslate's 1/scale, the Gaussian's exp) so do these. Only the summation order of the
  products differs from TF's loops, a few float32 ulps.
- ResizeArea's final 1/(height_scale * width_scale) is folded into the height matrix."""
import numpy as np

_F = np.float32
_TABLE_SIZE = 1024


def resize_scale(in_size, out_size, align_corners):
    """TensorFlow's CalculateResizeScale: a float32 quotient of the sizes (align_corners needs both sizes
    above 1, TF 2.x's rule)."""
    if align_corners and in_size > 1 and out_size > 1:
        return _F(in_size - 1) / _F(out_size - 1)
    return _F(in_size) / _F(out_size)


class AxisWeights:
    """One axis's resize weights: output row `rows[k]` takes `values[k]` times input `cols[k]` (input
    positions past the edge clamped onto it, their weights summed). `dense()` is the [out, in] matrix,
    `taps()` the same as [out, K] input indices and weights (K = the most inputs one output reads)."""

    def __init__(self, out_size, in_size, rows, cols, values):
        self.out_size, self.in_size = out_size, in_size
        rows = np.asarray(rows, np.int64)
        cols = np.clip(np.asarray(cols, np.int64), 0, in_size - 1)
        key = rows * in_size + cols
        uniq, inv = np.unique(key, return_inverse=True)
        vals = np.zeros(len(uniq), np.float64)
        np.add.at(vals, inv, np.asarray(values, np.float64))
        self.rows, self.cols, self.values = uniq // in_size, uniq % in_size, vals

    def dense(self):
        w = np.zeros((self.out_size, self.in_size), np.float64)
        w[self.rows, self.cols] = self.values
        return w.astype(np.float32)

    def taps(self):
        counts = np.bincount(self.rows, minlength=self.out_size)
        k = max(int(counts.max()) if counts.size else 0, 1)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        slot = np.arange(len(self.rows)) - first[self.rows]  # rows are sorted (np.unique)
        idx = np.zeros((self.out_size, k), np.int64)
        w = np.zeros((self.out_size, k), np.float64)
        idx[self.rows, slot] = self.cols
        w[self.rows, slot] = self.values
        return idx, w.astype(np.float32)


def _accumulate(out_size, in_size, rows, cols, weights):
    return AxisWeights(out_size, in_size, rows, cols, weights)


def _cubic_table(a):
    """ResizeBicubic's coefficient table for Keys' parameter a, computed in double and stored as float."""
    x = (np.arange(_TABLE_SIZE + 1) / _TABLE_SIZE).astype(np.float32)
    xd = x.astype(np.float64)
    near = (((a + 2) * xd - (a + 3)) * xd * xd + 1).astype(np.float32)
    x1 = (x + _F(1)).astype(np.float64)
    far = (((a * x1 - 5 * a) * x1 + 8 * a) * x1 - 4 * a).astype(np.float32)
    return near, far


_CUBIC_TABLES = {}


def bicubic_weights(out_size, in_size, align_corners=False, half_pixel_centers=False):
    """ResizeBicubic along one axis: the legacy mode (a = -0.75, taps clamped to the edge so the edge pixel
    gets their weight) or, with half-pixel centers, Keys' cubic (a = -0.5) with taps outside the image
    dropped and the rest renormalised."""
    scale = resize_scale(in_size, out_size, align_corners)
    o = np.arange(out_size, dtype=np.float32)
    loc = (o + _F(0.5)) * scale - _F(0.5) if half_pixel_centers else o * scale
    base = np.floor(loc)
    delta = (loc - base).astype(np.float32)
    offset = np.rint(delta * _F(_TABLE_SIZE)).astype(np.int64)
    a = -0.5 if half_pixel_centers else -0.75
    if a not in _CUBIC_TABLES:
        _CUBIC_TABLES[a] = _cubic_table(a)
    near, far = _CUBIC_TABLES[a]
    taps = np.stack([far[offset], near[offset], near[_TABLE_SIZE - offset], far[_TABLE_SIZE - offset]], 1)
    idx = base.astype(np.int64)[:, None] + np.arange(-1, 3)[None, :]
    if half_pixel_centers:
        taps = np.where((idx >= 0) & (idx < in_size), taps, _F(0))
        total = ((taps[:, 0] + taps[:, 1]) + taps[:, 2]) + taps[:, 3]
        ok = np.abs(total) >= _F(1000) * np.finfo(np.float32).tiny
        inv = np.where(ok, _F(1) / np.where(ok, total, _F(1)), _F(1)).astype(np.float32)
        taps = (taps * inv[:, None]).astype(np.float32)
    rows = np.repeat(np.arange(out_size), 4)
    return _accumulate(out_size, in_size, rows, idx.reshape(-1), taps.reshape(-1).astype(np.float64))


def area_weights(out_size, in_size, align_corners=False, extra_scale=1.0):
    """ResizeArea along one axis: output cell [o, o+1) * scale covers input cells partly (their covered
    fraction) or wholly (1); cells past the edge (align_corners) count as the edge cell. `extra_scale`
    multiplies the weights (ResizeArea's 1 / (height_scale * width_scale))."""
    scale = resize_scale(in_size, out_size, align_corners)
    rows, cols, ws = [], [], []
    for o in range(out_size):
        lo = _F(o) * scale
        hi = _F(o + 1) * scale
        for i in range(int(np.floor(lo)), int(np.ceil(hi))):
            fi, fi1 = _F(i), _F(i + 1)
            if fi < lo:
                s = scale if fi1 > hi else fi1 - lo
            else:
                s = hi - fi if fi1 > hi else _F(1)
            rows.append(o)
            cols.append(i)
            ws.append(float(_F(s)) * extra_scale)
    return _accumulate(out_size, in_size, np.array(rows, np.int64), np.array(cols, np.int64), np.array(ws))


def area_scale(in_h, out_h, in_w, out_w, align_corners=False):
    """ResizeArea's overall factor 1 / (height_scale * width_scale): a float32 product inverted in double."""
    return float(_F(1.0 / float(resize_scale(in_h, out_h, align_corners) * resize_scale(in_w, out_w,
                                                                                          align_corners))))


# ScaleAndTranslate's sampling kernels (sampling_kernels.h): (function of |x| in float32, radius).

def _lanczos(radius):
    r = _F(radius)
    pi = _F(3.14159265359)

    def f(x):
        x = np.abs(x).astype(np.float32)
        safe = np.where(x <= 1e-3, _F(1), x)
        v = r * np.sin(pi * safe) * np.sin(pi * safe / r) / (pi * pi * safe * safe)
        return np.where(x > r, _F(0), np.where(x <= 1e-3, _F(1), v)).astype(np.float32)
    return f, r


def _gaussian(x):
    x = np.abs(x).astype(np.float32)
    sigma = _F(1.5) / _F(3)
    v = np.exp((-x * x).astype(np.float64) / (2.0 * float(sigma) * float(sigma))).astype(np.float32)
    return np.where(x >= _F(1.5), _F(0), v)


def _box(x):
    x = np.abs(x).astype(np.float32)
    return np.where(x < _F(0.5), _F(1), np.where(x == _F(0.5), _F(0.5), _F(0))).astype(np.float32)


def _triangle(x):
    x = np.abs(x).astype(np.float32)
    return np.where(x < _F(1), _F(1) - x, _F(0)).astype(np.float32)


def _keys_cubic(x):
    x = np.abs(x).astype(np.float32)
    outer = ((_F(-0.5) * x + _F(2.5)) * x - _F(4)) * x + _F(2)
    inner = ((_F(1.5) * x - _F(2.5)) * x) * x + _F(1)
    return np.where(x >= _F(2), _F(0), np.where(x >= _F(1), outer, inner)).astype(np.float32)


def _mitchell_cubic(x):
    x = np.abs(x).astype(np.float32)
    outer = ((_F(-7.0 / 18.0) * x + _F(2)) * x - _F(10.0 / 3.0)) * x + _F(16.0 / 9.0)
    inner = ((_F(7.0 / 6.0) * x - _F(2)) * x) * x + _F(8.0 / 9.0)
    return np.where(x >= _F(2), _F(0), np.where(x >= _F(1), outer, inner)).astype(np.float32)


SAMPLING_KERNELS = {
    "lanczos1": _lanczos(1), "lanczos3": _lanczos(3), "lanczos5": _lanczos(5),
    "gaussian": (_gaussian, _F(1.5)), "box": (_box, _F(1)), "triangle": (_triangle, _F(1)),
    "keyscubic": (_keys_cubic, _F(2)), "mitchellcubic": (_mitchell_cubic, _F(2)),
}


def scale_and_translate_weights(out_size, in_size, kernel_type, antialias, scale=None, translate=0.0):
    """ScaleAndTranslate's spans along one axis as a matrix: output pixel centre x + 0.5 maps to input
    position (x + 0.5) / scale - translate / scale; the kernel's taps around it are normalised to sum 1.
    With antialias and downsampling (scale < 1) the kernel is widened by 1/scale (a low-pass filter)."""
    kernel, radius = SAMPLING_KERNELS[kernel_type]
    scale = _F(out_size) / _F(in_size) if scale is None else _F(scale)
    inv_scale = _F(1.0 / float(scale))
    inv_translate = _F(-inv_scale * _F(translate))
    kernel_scale = max(inv_scale, _F(1)) if antialias else _F(1)
    reach = _F(radius * kernel_scale)
    one_over_kernel_scale = _F(1) / kernel_scale
    rows, cols, ws = [], [], []
    for x in range(out_size):
        sample = _F(_F(_F(x) + _F(0.5)) * inv_scale + inv_translate)
        if sample < 0 or sample > in_size:
            continue  # TF leaves outputs sampled outside the image zero
        start = min(max(int(np.ceil(_F(sample - reach) - _F(0.5))), 0), in_size - 1)
        end = min(max(int(np.floor(_F(sample + reach) - _F(0.5))), 0), in_size - 1) + 1
        src = np.arange(start, end)
        pos = (src.astype(np.float32) + _F(0.5)) - sample
        w = kernel(np.abs(pos * one_over_kernel_scale).astype(np.float32))
        total = _F(0)
        for v in w:  # TF's sequential float sum
            total = _F(total + v)
        if abs(total) >= _F(1000) * np.finfo(np.float32).tiny:
            w = (w * (_F(1) / total)).astype(np.float32)
        else:
            w = np.zeros_like(w)
        rows.extend([x] * len(src))
        cols.extend(src.tolist())
        ws.extend(w.astype(np.float64).tolist())
    return _accumulate(out_size, in_size, np.array(rows, np.int64), np.array(cols, np.int64), np.array(ws))
