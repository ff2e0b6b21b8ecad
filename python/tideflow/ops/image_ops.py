"""tf.image basics: PNG decoding and encoding, resizing (TF2's tf.image.resize and TF 1.x's
resize_images / resize_bilinear / resize_nearest_neighbor / resize_bicubic / resize_area) and
convert_image_dtype.

Note [tf.image]
- PNG is this module's own codec on zlib (8- and 16-bit gray, gray+alpha, RGB, RGBA; palettes and 1/2/4-bit
  gray on decoding; no interlacing), so the files are what PIL, libpng and TensorFlow read and write. In
  a graph decode_png/encode_png are stateless PyFunc nodes (the codec runs when the node runs); eagerly
  they run at once.
- tideflow has no 8-bit integer dtype yet: decoded images are int32 (values 0..255, TensorFlow's uint8
  values) unless a uint8 dtype exists (framework/dtypes.py); encode_png takes integer images in 0..255.
- Resizing is built from ops (GatherV2 along height and width, then the interpolation weights, for
  nearest and bilinear; one MatMul per axis with a weight matrix for bicubic, area and ScaleAndTranslate's
  kernels, Note [resize weight matrices]), so it runs in graphs and eagerly and is differentiable; the
  source rows/columns and weights are computed here from the static sizes, with TensorFlow's coordinate
  rules: half-pixel centers for TF2's resize, TF 1.x's `x * scale` (align_corners: scale (in-1)/(out-1))
  for resize_images. Everything but nearest returns float32, as TensorFlow's kernels."""
import functools
import struct
import zlib

import numpy as np

from .. import _core
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from . import array_ops, image_resize as _resize_w, linalg_ops, math_ops, script_ops

__all__ = ["decode_png", "encode_png", "resize", "resize_images", "resize_bilinear", "resize_nearest_neighbor",
           "resize_bicubic", "resize_area",
           "convert_image_dtype", "ResizeMethod", "ResizeMethodV1", "decode_image"]

_U8 = getattr(_dtypes, "uint8", None) or _dtypes.int32
_U16 = getattr(_dtypes, "uint16", None) or _dtypes.int32

# ---------------------------------------------------------------------------------------------------
# PNG codec

_SIG = b"\x89PNG\r\n\x1a\n"


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png_bytes(image, compression=-1):
    """An [h, w, c] (c in 1..4) array of 0..255 (or uint16) values as PNG bytes, rows unfiltered."""
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4):
        raise ValueError("image must be 3-dimensional [height, width, channels] with 1-4 channels, got shape %s"
                         % (a.shape,))
    h, w, c = a.shape
    sixteen = a.dtype == np.uint16
    if not sixteen:
        if a.size and (a.min() < 0 or a.max() > 255):
            raise ValueError("encode_png: pixel values must be in [0, 255] for 8-bit images")
        a = a.astype(np.uint8)
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = a.astype(">u2") if sixteen else a
    rows = raw.reshape(h, w * c).view(np.uint8)
    data = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()
    level = -1 if compression is None or int(compression) < 0 else min(int(compression), 9)
    ihdr = struct.pack(">IIBBBBB", w, h, 16 if sixteen else 8, color, 0, 0, 0)
    return _SIG + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(data, level)) + _chunk(b"IEND", b"")


def _unfilter(data, h, stride, bpp):
    """Undoes PNG's per-row filters (None, Sub, Up, Average, Paeth) into an [h, stride] uint8 array."""
    out = np.zeros((h, stride), np.uint8)
    prior = np.zeros(stride, np.int32)
    pos = 0
    for y in range(h):
        ftype = data[pos]
        row = np.frombuffer(data, np.uint8, stride, pos + 1).astype(np.int32)
        pos += stride + 1
        if ftype == 0:
            cur = row
        elif ftype == 1:  # Sub: a running sum per byte of the pixel
            pad = (-stride) % bpp
            r = np.concatenate([row, np.zeros(pad, np.int32)]).reshape(-1, bpp)
            cur = (np.cumsum(r, axis=0) & 0xFF).reshape(-1)[:stride]
        elif ftype == 2:  # Up
            cur = (row + prior) & 0xFF
        elif ftype in (3, 4):  # Average, Paeth: each byte depends on the one a pixel to its left
            cur = row.tolist()
            up = prior.tolist()
            for i in range(stride):
                left = cur[i - bpp] if i >= bpp else 0
                if ftype == 3:
                    cur[i] = (cur[i] + ((left + up[i]) >> 1)) & 0xFF
                else:
                    ul = up[i - bpp] if i >= bpp else 0
                    p = left + up[i] - ul
                    pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - ul)
                    pred = left if pa <= pb and pa <= pc else (up[i] if pb <= pc else ul)
                    cur[i] = (cur[i] + pred) & 0xFF
            cur = np.array(cur, np.int32)
        else:
            raise ValueError("Invalid PNG data: unknown row filter %d" % ftype)
        out[y] = cur
        prior = cur
    return out


def decode_png_bytes(contents, channels=0):
    """PNG bytes as an [h, w, c] uint8 (uint16 for 16-bit files) array; channels=0 keeps the file's."""
    b = bytes(contents)
    if not b.startswith(_SIG):
        raise ValueError("Invalid PNG data, size %d" % len(b))
    pos, idat, palette, trns, header = 8, [], None, None, None
    while pos + 8 <= len(b):
        n, kind = struct.unpack(">I4s", b[pos:pos + 8])
        body = b[pos + 8:pos + 8 + n]
        if len(body) != n:
            raise ValueError("Invalid PNG data: truncated %s chunk" % kind.decode("latin-1"))
        pos += 12 + n
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, np.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            trns = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("Invalid PNG data: no IHDR chunk")
    w, h, depth, color, _, _, interlace = header
    if interlace:
        raise ValueError("Interlaced PNG files are not supported")
    samples = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color)
    if samples is None or depth not in (1, 2, 4, 8, 16):
        raise ValueError("Invalid PNG data: color type %d, bit depth %d" % (color, depth))
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as e:
        raise ValueError("Invalid PNG data: %s" % e) from None
    bits = w * samples * depth
    stride = (bits + 7) // 8
    if len(raw) < h * (stride + 1):
        raise ValueError("Invalid PNG data: image data too short")
    rows = _unfilter(raw, h, stride, max(1, samples * depth // 8))
    if depth == 16:
        px = rows.view(">u2").astype(np.uint16).reshape(h, w, samples)
    elif depth == 8:
        px = rows.reshape(h, w, samples)
    else:
        unpacked = np.unpackbits(rows, axis=1)[:, :w * depth].reshape(h, w, depth)
        vals = (unpacked * (1 << np.arange(depth - 1, -1, -1, dtype=np.uint8))).sum(axis=2).astype(np.uint8)
        px = vals[..., None] if color == 3 else (vals * (255 // ((1 << depth) - 1))).astype(np.uint8)[..., None]
    if color == 3:
        if palette is None:
            raise ValueError("Invalid PNG data: palette image without PLTE")
        idx = px[..., 0]
        rgb = palette[np.minimum(idx, len(palette) - 1)]
        if trns is not None:
            alpha = np.full(len(palette), 255, np.uint8)
            t = np.frombuffer(trns, np.uint8)[:len(palette)]
            alpha[:len(t)] = t
            px = np.concatenate([rgb, alpha[np.minimum(idx, len(palette) - 1)][..., None]], axis=2)
        else:
            px = rgb
    return _channels(px, channels)


def _channels(px, channels):
    c = px.shape[2]
    channels = int(channels or 0)
    if channels in (0, c):
        return px
    opaque = np.iinfo(px.dtype).max
    gray = px[..., :1] if c <= 2 else np.round(
        px[..., 0] * 0.299 + px[..., 1] * 0.587 + px[..., 2] * 0.114).astype(px.dtype)[..., None]
    alpha = px[..., -1:] if c in (2, 4) else np.full(px.shape[:2] + (1,), opaque, px.dtype)
    color = np.repeat(px[..., :1], 3, axis=2) if c <= 2 else px[..., :3]
    if channels == 1:
        return gray
    if channels == 2:
        return np.concatenate([gray, alpha], axis=2)
    if channels == 3:
        return color
    if channels == 4:
        return np.concatenate([color, alpha], axis=2)
    raise ValueError("channels must be 0, 1, 2, 3 or 4, got %d" % channels)


def _to_uint8(a):
    """Image values as uint8 for encoding: floats in [0, 1] scaled with saturation (convert_image_dtype),
    integers clipped to 0..255."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return np.clip(a * 255.5, 0, 255).astype(np.uint8)  # TF: x * (max + 0.5), saturating cast
    return np.clip(a, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------------
# decode_png / encode_png ops

def _as_tensor_value(a, dtype):
    return _ops.convert_to_tensor(np.ascontiguousarray(a.astype(dtype.as_numpy_dtype)))


def decode_png(contents, channels=0, dtype=None, name=None):
    """tf.image.decode_png: a PNG string as an [h, w, channels] image (Note [tf.image])."""
    if int(channels or 0) not in (0, 1, 3, 4):
        raise ValueError("`channels` must be 0, 1, 3 or 4 but got %d" % int(channels))
    want16 = dtype is not None and _dtypes.as_dtype(dtype) is _U16 and _U16 is not _U8
    out_dtype = _U16 if want16 else _U8
    if _core.executing_eagerly():
        c = contents.numpy() if hasattr(contents, "numpy") else contents
        px = decode_png_bytes(c, channels)
        if px.dtype == np.uint16 and not want16:
            px = (px >> 8).astype(np.uint8)
        return _as_tensor_value(px, out_dtype)

    def run(c):
        px = decode_png_bytes(c.item() if isinstance(c, np.ndarray) else c, channels)
        if px.dtype == np.uint16 and not want16:
            px = (px >> 8).astype(np.uint8)
        return px.astype(out_dtype.as_numpy_dtype)
    out = script_ops.py_func(run, [contents], out_dtype, stateful=False, name=name or "DecodePng")
    out.set_shape([None, None, int(channels) or None])
    return out


def encode_png(image, compression=-1, name=None):
    """tf.image.encode_png: an [h, w, c] integer image (0..255) as a PNG string."""
    if _core.executing_eagerly():
        a = image.numpy() if hasattr(image, "numpy") else np.asarray(image)
        return _ops.convert_to_tensor(encode_png_bytes(a, compression))

    def run(a):
        return np.array(encode_png_bytes(a, compression), dtype=object)
    out = script_ops.py_func(run, [image], _dtypes.string, stateful=False, name=name or "EncodePng")
    out.set_shape([])
    return out


def decode_image(contents, channels=None, dtype=None, name=None, expand_animations=True):
    """tf.image.decode_image for PNG files (the only format tideflow decodes)."""
    return decode_png(contents, channels or 0, name=name)


# ---------------------------------------------------------------------------------------------------
# convert_image_dtype

def convert_image_dtype(image, dtype, saturate=False, name=None):
    """TensorFlow's rules: integers scale by the ratio of the dtypes' ranges (max+1, by shifts), integers
    to floats by 1/max, floats to integers by (max + 0.5) then a (saturating) cast, floats to floats cast."""
    image = _ops.convert_to_tensor(image)
    dtype = _dtypes.as_dtype(dtype)
    src = image.dtype
    if not (src.is_floating or src.is_integer) or not (dtype.is_floating or dtype.is_integer):
        raise AttributeError("dtype must be either floating point or integer")
    with _ops.name_scope(name, "convert_image", [image]):
        if src is dtype:
            return array_ops.identity(image)
        if src.is_integer and dtype.is_integer:
            in_max, out_max = int(src.max), int(dtype.max)
            if in_max > out_max:
                scale = (in_max + 1) // (out_max + 1)
                return math_ops.cast(math_ops.floordiv(image, _ops.convert_to_tensor(scale, dtype=src)), dtype)
            scale = (out_max + 1) // (in_max + 1)
            return math_ops.multiply(math_ops.cast(image, dtype), _ops.convert_to_tensor(scale, dtype=dtype))
        if src.is_floating and dtype.is_floating:
            return math_ops.cast(image, dtype)
        if src.is_integer:
            cast = math_ops.cast(image, dtype)
            return math_ops.multiply(cast, _ops.convert_to_tensor(1.0 / float(src.max), dtype=dtype))
        scaled = math_ops.multiply(image, _ops.convert_to_tensor(float(dtype.max) + 0.5, dtype=src))
        if saturate:  # clamp to the source floats that the target holds (TF's saturate_cast)
            npf = src.as_numpy_dtype
            lo, hi = npf(dtype.min), npf(dtype.max)
            if int(hi) > int(dtype.max):
                hi = np.nextafter(hi, npf(0))
            if int(lo) < int(dtype.min):
                lo = np.nextafter(lo, npf(0))
            scaled = math_ops.minimum(math_ops.maximum(scaled, _ops.convert_to_tensor(lo, dtype=src)),
                                      _ops.convert_to_tensor(hi, dtype=src))
        return math_ops.cast(scaled, dtype)


# ---------------------------------------------------------------------------------------------------
# resize (Note [tf.image])

class ResizeMethod:
    """TF2's names of tf.image.resize's interpolation methods (strings), all implemented (Note [tf.image]):
    BILINEAR and NEAREST_NEIGHBOR (half-pixel centers), BICUBIC (Keys' cubic, a = -0.5), AREA (ResizeArea's
    area-weighted average), LANCZOS3 / LANCZOS5, GAUSSIAN and MITCHELLCUBIC (ScaleAndTranslate's kernels).
    `antialias=True` widens the bilinear, bicubic, Lanczos, Gaussian and Mitchell kernels when downsampling;
    AREA and NEAREST_NEIGHBOR ignore it."""
    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


class ResizeMethodV1:
    """TF 1.x's numbers of tf.image.resize_images' interpolation methods, all implemented: BILINEAR
    (ResizeBilinear), NEAREST_NEIGHBOR (ResizeNearestNeighbor), BICUBIC (ResizeBicubic: a = -0.75, edge
    taps clamped) and AREA (ResizeArea), each with `align_corners`."""
    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


def _linear_coords(out_size, in_size, align_corners, half_pixel):
    """Source rows (lower, upper) and the weight of `upper` for each output row, in float32 as TF's
    compute_interpolation_weights."""
    scale = _resize_w.resize_scale(in_size, out_size, align_corners)
    i = np.arange(out_size, dtype=np.float32)
    x = ((i + np.float32(0.5)) * scale - np.float32(0.5)) if half_pixel else i * scale
    lo_f = np.floor(x)
    lower = np.maximum(lo_f, 0).astype(np.int64)
    upper = np.minimum(np.ceil(x), in_size - 1).astype(np.int64)
    return np.minimum(lower, in_size - 1), upper, (x - lo_f).astype(np.float32)


def _nearest_coords(out_size, in_size, align_corners, half_pixel):
    scale = _resize_w.resize_scale(in_size, out_size, align_corners)
    i = np.arange(out_size, dtype=np.float32)
    if half_pixel:
        src = np.floor((i + np.float32(0.5)) * scale)
    elif align_corners:
        src = np.round(i * scale)
    else:
        src = np.floor(i * scale)
    return np.minimum(src.astype(np.int64), in_size - 1)


def _static_size(size):
    if _ops.is_tensor(size) and type(size).__name__ != "EagerTensor":
        from . import control_flow_util  # lazy: constant folding of a graph size tensor
        v = getattr(control_flow_util, "constant_value", None)
        v = v(size) if v is not None else None
        if v is None:
            raise ValueError("tideflow's resize needs a size known when the graph is built, got %s" % (size,))
        size = v
    vals = [int(x) for x in np.asarray(size).reshape(-1)]
    if len(vals) != 2:
        raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, new_width")
    if min(vals) <= 0:
        raise ValueError("'size' must be positive, got %s" % vals)
    return vals


@functools.lru_cache(maxsize=128)  # eager calls and repeated graph builds reuse the NumPy weights
def _weights(kind, out_size, in_size, align_corners, half_pixel, antialias, extra_scale=1.0):
    if kind == "bicubic":
        return _resize_w.bicubic_weights(out_size, in_size, align_corners, half_pixel)
    if kind == "area":
        return _resize_w.area_weights(out_size, in_size, align_corners, extra_scale)
    return _resize_w.scale_and_translate_weights(out_size, in_size, kind, antialias)


def _contract(x, w, axis):
    """x with `axis` contracted against w [out, in]: `axis` moved first, one MatMul, moved back."""
    nd = x.shape.ndims
    perm = [axis] + [i for i in range(nd) if i != axis]
    xt = array_ops.transpose(x, perm) if axis else x
    dims = xt.shape.as_list()
    y = linalg_ops.matmul(_ops.convert_to_tensor(w.astype(x.dtype.as_numpy_dtype)),
                          array_ops.reshape(xt, [dims[0], -1]))
    rest = dims[1:]
    if all(d is not None for d in rest):
        y = array_ops.reshape(y, [w.shape[0]] + rest)
    else:
        y = array_ops.reshape(y, array_ops.concat([[w.shape[0]], array_ops.shape(xt)[1:]], 0))
        y.set_shape([w.shape[0]] + rest)
    return array_ops.transpose(y, list(np.argsort(perm))) if axis else y


def _tap_sum(x, idx, w, axis):
    """x along `axis` resampled as sum_k x[idx[:, k]] * w[:, k]: K gathers, for weights with few taps."""
    shape = [1] * x.shape.ndims
    shape[axis] = idx.shape[0]
    out = None
    for k in range(idx.shape[1]):
        term = math_ops.multiply(array_ops.gather(x, idx[:, k].astype(np.int32), axis=axis),
                                 _ops.convert_to_tensor(w[:, k].reshape(shape).astype(x.dtype.as_numpy_dtype)))
        out = term if out is None else math_ops.add(out, term)
    return out


# Dense [out, in] matrices up to this many entries (16 MiB of float32); past it, or when an output reads
# few of the inputs (in > 8 taps per output), the taps are gathered instead (Note [resize weight matrices]).
_MAX_DENSE = 1 << 22
_MAX_TAPS = 64


def _apply_axis(x, aw, axis):
    idx, w = aw.taps()
    k = idx.shape[1]
    if aw.in_size <= 8 * k and aw.out_size * aw.in_size <= _MAX_DENSE:
        return _contract(x, aw.dense(), axis)
    if k > _MAX_TAPS and aw.out_size * aw.in_size > _MAX_DENSE:
        raise ValueError("tideflow's resize from %d to %d reads %d inputs per output: too many taps for a "
                         "gather and too large a weight matrix (%d x %d)" % (aw.in_size, aw.out_size, k,
                                                                            aw.out_size, aw.in_size))
    if k > _MAX_TAPS:
        return _contract(x, aw.dense(), axis)
    return _tap_sum(x, idx, w, axis)


def _resize(images, size, method, align_corners, half_pixel, name, float_out=True, antialias=False,
            keep_float64=False):
    """The resize graph. `method`: "nearest" (gathers), "bilinear" (ResizeBilinear's two taps), "bicubic"
    (ResizeBicubic), "area" (ResizeArea) or a ScaleAndTranslate kernel name ("triangle", "keyscubic",
    "lanczos3", ...; Note [resize weight matrices]). Everything but nearest returns float32 as TensorFlow
    does (float64 images are computed in float64, then rounded; `keep_float64` skips the rounding, for
    gradient checks)."""
    images = _ops.convert_to_tensor(images)
    shape = images.shape
    if shape.ndims not in (3, 4):
        raise ValueError("'images' must have either 3 or 4 dimensions.")
    if align_corners and half_pixel:
        raise ValueError("If half_pixel_centers is True, align_corners must be False.")
    dims = shape.as_list()
    batched = shape.ndims == 4
    hax, wax = (1, 2) if batched else (0, 1)
    in_h, in_w = dims[hax], dims[wax]
    if in_h is None or in_w is None:
        raise ValueError("tideflow's resize needs the input height and width known when the graph is built")
    if in_h == 0 or in_w == 0:
        raise ValueError("input image must be of non-zero size, got height %d and width %d" % (in_h, in_w))
    out_h, out_w = _static_size(size)
    with _ops.name_scope(name, "resize", [images]):
        if method == "nearest":
            ys = _nearest_coords(out_h, in_h, align_corners, half_pixel)
            xs = _nearest_coords(out_w, in_w, align_corners, half_pixel)
            out = array_ops.gather(array_ops.gather(images, ys.astype(np.int32), axis=hax), xs.astype(np.int32),
                                   axis=wax)
            return math_ops.cast(out, _dtypes.float32) if float_out and not images.dtype.is_floating else out
        x = images if images.dtype in (_dtypes.float32, _dtypes.float64) else math_ops.cast(images, _dtypes.float32)
        if method == "bilinear":
            dt = x.dtype
            bshape = [1] * shape.ndims
            for ax, (n_in, n_out) in ((wax, (in_w, out_w)), (hax, (in_h, out_h))):  # width first, as TF
                lo, hi, frac = _linear_coords(n_out, n_in, align_corners, half_pixel)
                a = array_ops.gather(x, lo.astype(np.int32), axis=ax)
                b = array_ops.gather(x, hi.astype(np.int32), axis=ax)
                wshape = list(bshape)
                wshape[ax] = n_out
                w = _ops.convert_to_tensor(frac.reshape(wshape).astype(dt.as_numpy_dtype))
                x = math_ops.add(a, math_ops.multiply(math_ops.subtract(b, a), w))
        else:
            extra = _resize_w.area_scale(in_h, out_h, in_w, out_w, align_corners) if method == "area" else 1.0
            wh = _weights(method, out_h, in_h, align_corners, half_pixel, antialias, extra)
            ww = _weights(method, out_w, in_w, align_corners, half_pixel, antialias)
            x = _apply_axis(_apply_axis(x, wh, hax), ww, wax)  # height first, as ResizeBicubic and ScaleAndTranslate
        if x.dtype != _dtypes.float32 and not keep_float64:
            x = math_ops.cast(x, _dtypes.float32)
        return x


_V2_METHODS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")
_V1_METHODS = {0: "bilinear", 1: "nearest", 2: "bicubic", 3: "area", "bilinear": "bilinear", "nearest": "nearest",
               "bicubic": "bicubic", "area": "area"}


def _preserve_aspect(images, size):
    """TF's preserve_aspect_ratio: the largest size within `size` of the image's aspect, rounded half to
    even in float32 as TF's math_ops.round."""
    dims = _ops.convert_to_tensor(images).shape.as_list()
    h, w = (dims[1], dims[2]) if len(dims) == 4 else (dims[0], dims[1])
    scale = min(np.float32(size[0]) / np.float32(h), np.float32(size[1]) / np.float32(w))
    return [max(1, int(np.rint(scale * np.float32(h)))), max(1, int(np.rint(scale * np.float32(w))))]


def resize(images, size, method=ResizeMethod.BILINEAR, preserve_aspect_ratio=False, antialias=False, name=None):
    """TF2's tf.image.resize (half-pixel centers).

    BILINEAR, NEAREST_NEIGHBOR and BICUBIC without antialias are TF's ResizeBilinear / ResizeNearestNeighbor
    / ResizeBicubic with half_pixel_centers; AREA is ResizeArea; LANCZOS3, LANCZOS5, GAUSSIAN, MITCHELLCUBIC
    and antialiased BILINEAR / BICUBIC are ScaleAndTranslate's kernels. Returns float32 except for
    NEAREST_NEIGHBOR, which keeps the dtype. An unknown method raises ValueError, as TF."""
    if method not in _V2_METHODS:  # TensorFlow's words for a method it does not know (all of its own are here)
        raise ValueError("Resize method is not implemented: {}".format(method))
    size = _static_size(size)
    if preserve_aspect_ratio:
        size = _preserve_aspect(images, size)
    if method == "nearest":
        return _resize(images, size, "nearest", False, True, name, False)
    if method in ("bilinear", "bicubic") and not antialias:
        return _resize(images, size, method, False, True, name)
    if method == "area":
        return _resize(images, size, "area", False, False, name)
    kernel = {"bilinear": "triangle", "bicubic": "keyscubic"}.get(method, method)
    return _resize(images, size, kernel, False, False, name, antialias=bool(antialias))


def resize_images(images, size, method=ResizeMethodV1.BILINEAR, align_corners=False,
                  preserve_aspect_ratio=False, name=None):
    """TF 1.x's tf.image.resize_images: `x * scale` coordinates (align_corners maps corner to corner);
    ResizeMethodV1 numbers or the TF2 names of bilinear, nearest, bicubic and area. Like TF it returns
    `images` unchanged when the size is already the requested one."""
    m = _V1_METHODS.get(method) if isinstance(method, (int, str)) else None
    if m is None:  # TensorFlow's words for a method it does not know (all of its own are here)
        raise ValueError("Resize method is not implemented: {}".format(method))
    size = _static_size(size)
    if preserve_aspect_ratio:
        size = _preserve_aspect(images, size)
    images = _ops.convert_to_tensor(images)
    dims = images.shape.as_list() if images.shape.ndims in (3, 4) else None
    if dims is not None and dims[-3:-1] == list(size):
        return images
    return _resize(images, size, m, align_corners, False, name, m != "nearest")


def resize_bicubic(images, size, align_corners=False, half_pixel_centers=False, name=None):
    """Resizes `images` to `size` by bicubic interpolation (ResizeBicubic).

    Legacy coordinates `x * scale` use the cubic convolution kernel with a = -0.75 and clamp the taps to the
    edge; half_pixel_centers uses Keys' cubic (a = -0.5) and drops taps outside the image, renormalising the
    rest (as TF2's resize).

    Args:
      images: [batch, height, width, channels] or [height, width, channels], a real dtype.
      size: two ints (or an int32 tensor of 2 values known when the graph is built), the new height and width.
      align_corners: maps the corner pixels of input and output onto each other.
      half_pixel_centers: samples at pixel centers (x + 0.5) * scale - 0.5.
      name: a name for the operation.

    Returns:
      [batch, new_height, new_width, channels] (or without batch, as given), of float32.

    Raises:
      ValueError: `images` is not of rank 3 or 4, its height or width or `size` is unknown when the graph is
        built, `size` is not two positive ints, or both align_corners and half_pixel_centers are set.
    """
    return _resize(images, size, "bicubic", align_corners, half_pixel_centers, name or "ResizeBicubic")


def resize_area(images, size, align_corners=False, name=None):
    """Resizes `images` to `size` by area interpolation (ResizeArea): each output pixel is the average of
    the input pixels its cell covers, weighted by the covered fraction.

    Args:
      images: [batch, height, width, channels] or [height, width, channels], a real dtype.
      size: two ints (or an int32 tensor of 2 values known when the graph is built), the new height and width.
      align_corners: scales by (in - 1) / (out - 1) instead of in / out.
      name: a name for the operation.

    Returns:
      [batch, new_height, new_width, channels] (or without batch, as given), of float32.

    Raises:
      ValueError: `images` is not of rank 3 or 4, its height or width or `size` is unknown when the graph is
        built, or `size` is not two positive ints.
    """
    return _resize(images, size, "area", align_corners, False, name or "ResizeArea")


def resize_bilinear(images, size, align_corners=False, half_pixel_centers=False, name=None):
    """Resizes `images` to `size` by bilinear interpolation (ResizeBilinear).

    Args:
      images: [batch, height, width, channels] or [height, width, channels], a real dtype.
      size: two ints (or an int32 tensor of 2 values known when the graph is built), the new height and width.
      align_corners: maps the corner pixels of input and output onto each other.
      half_pixel_centers: samples at pixel centers (x + 0.5) * scale - 0.5, as TF2's resize does.
      name: a name for the operation.

    Returns:
      [batch, new_height, new_width, channels] (or without batch, as given), of float32.

    Raises:
      ValueError: `images` is not of rank 3 or 4, its height or width or `size` is unknown when the graph is
        built, or `size` is not two positive ints.
    """
    return _resize(images, size, "bilinear", align_corners, half_pixel_centers, name or "ResizeBilinear", True)


def resize_nearest_neighbor(images, size, align_corners=False, half_pixel_centers=False, name=None):
    """Resizes `images` to `size` by the nearest pixel (ResizeNearestNeighbor).

    Args:
      images: [batch, height, width, channels] or [height, width, channels], a real dtype.
      size: two ints (or an int32 tensor of 2 values known when the graph is built), the new height and width.
      align_corners: maps the corner pixels of input and output onto each other.
      half_pixel_centers: samples at pixel centers (x + 0.5) * scale - 0.5, as TF2's resize does.
      name: a name for the operation.

    Returns:
      [batch, new_height, new_width, channels] (or without batch, as given), of the input's dtype.

    Raises:
      ValueError: `images` is not of rank 3 or 4, its height or width or `size` is unknown when the graph is
        built, or `size` is not two positive ints.
    """
    return _resize(images, size, "nearest", align_corners, half_pixel_centers, name or "ResizeNearestNeighbor",
                   False)
