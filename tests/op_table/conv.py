"""Op-table rows of the convolution, pooling and normalization ops (cpp/ops/conv.cc, conv_depthwise.cc,
pooling.cc, nn_norm.cc; python/tideflow/ops/conv_ops.py, nn_impl.py). References are small NumPy
convolutions written from the definitions (a loop over the filter taps, each a strided slice of the
padded input times that tap's weights); the gradient rows also check the second-order rules, since
differentiating a Conv2DBackpropInput row runs its own gradient (Conv2DBackpropFilter and Conv2D)."""
import numpy as np

from .common import HALF, SMALL_INT, OpRow, add_dtypes, add_dtypes_to_families


# ---- NumPy references (channels-last; spatial dims between batch and channels) ----

def _window(n, k, s, d, padding, i=0):
    """(out, pad_lo, pad_hi) of one dim, as TensorFlow computes them."""
    ek = (k - 1) * d + 1
    if padding == "VALID":
        return (n - ek) // s + 1, 0, 0
    if padding == "SAME":
        out = -(-n // s)
        need = max(0, (out - 1) * s + ek - n)
        return out, need // 2, need - need // 2
    lo, hi = padding[i]
    return (n + lo + hi - ek) // s + 1, lo, hi


def _geometry(x_shape, k, strides, padding, dilations):
    nsp = len(k)
    dil = dilations or [1] * nsp
    dims = [_window(x_shape[1 + i], k[i], strides[i], dil[i], padding, i) for i in range(nsp)]
    return [o for o, _, _ in dims], [(lo, hi) for _, lo, hi in dims], dil


def _tap_slice(tap, outs, strides, dil):
    return tuple([slice(None)] + [slice(t * d, t * d + (o - 1) * s + 1, s)
                                  for t, o, s, d in zip(tap, outs, strides, dil)] + [slice(None)])


def np_conv(x, w, strides, padding, dilations=None):
    k = w.shape[:-2]
    outs, pads, dil = _geometry(x.shape, k, strides, padding, dilations)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    y = np.zeros([x.shape[0]] + outs + [w.shape[-1]])
    for tap in np.ndindex(*k):
        y += np.tensordot(xp[_tap_slice(tap, outs, strides, dil)], w[tap], axes=([-1], [0]))
    return y


def np_conv_backprop_input(x_shape, w, dy, strides, padding, dilations=None):
    k = w.shape[:-2]
    outs, pads, dil = _geometry(x_shape, k, strides, padding, dilations)
    dxp = np.zeros([x_shape[0]] + [n + lo + hi for n, (lo, hi) in zip(x_shape[1:-1], pads)] + [x_shape[-1]])
    for tap in np.ndindex(*k):
        dxp[_tap_slice(tap, outs, strides, dil)] += np.tensordot(dy, w[tap], axes=([-1], [1]))
    return dxp[tuple([slice(None)] + [slice(lo, lo + n) for n, (lo, _) in zip(x_shape[1:-1], pads)] + [slice(None)])]


def np_conv_backprop_filter(x, w_shape, dy, strides, padding, dilations=None):
    k = w_shape[:-2]
    outs, pads, dil = _geometry(x.shape, k, strides, padding, dilations)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    dw = np.zeros(w_shape)
    axes = list(range(x.ndim - 1))
    for tap in np.ndindex(*k):
        dw[tap] = np.tensordot(xp[_tap_slice(tap, outs, strides, dil)], dy, axes=(axes, axes))
    return dw


def np_depthwise(x, w, strides, padding, dilations=None):
    k = w.shape[:2]
    C, M = w.shape[2], w.shape[3]
    outs, pads, dil = _geometry(x.shape, k, strides, padding, dilations)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    y = np.zeros([x.shape[0]] + outs + [C * M])
    for tap in np.ndindex(*k):
        part = xp[_tap_slice(tap, outs, strides, dil)][..., :, None] * w[tap]
        y += part.reshape(part.shape[:-2] + (C * M,))
    return y


def np_pool(x, ksize, strides, padding, kind):
    outs, pads, _ = _geometry(x.shape, ksize, strides, padding, None)
    if x.dtype.kind in "iu":  # integer max pooling: exact in float64, returned in the input's dtype
        return np_pool(x.astype(np.float64), ksize, strides, padding, kind).astype(x.dtype)
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)], constant_values=fill)
    ones = np.pad(np.ones(x.shape), [(0, 0)] + pads + [(0, 0)])
    acc = np.full([x.shape[0]] + outs + [x.shape[-1]], fill)
    count = np.zeros_like(acc)
    for tap in np.ndindex(*ksize):
        sl = _tap_slice(tap, outs, strides, [1] * len(ksize))
        acc = np.maximum(acc, xp[sl]) if kind == "max" else acc + xp[sl]
        count += ones[sl]
    return acc if kind == "max" else acc / count


def np_argmax(x, ksize, strides, padding, include_batch=False):
    """Flat index of each 2-D max-pool window's (first) maximum, as MaxPoolWithArgmax returns."""
    N, H, W, C = x.shape
    outs, pads, _ = _geometry(x.shape, ksize, strides, padding, None)
    idx = np.zeros([N] + outs + [C], np.int64)
    for n, oh, ow, c in np.ndindex(*idx.shape):
        best, at = None, None
        for kh in range(ksize[0]):
            for kw in range(ksize[1]):
                h, w = oh * strides[0] - pads[0][0] + kh, ow * strides[1] - pads[1][0] + kw
                if 0 <= h < H and 0 <= w < W and (best is None or x[n, h, w, c] > best):
                    best, at = x[n, h, w, c], (h * W + w) * C + c
        idx[n, oh, ow, c] = at + (n * H * W * C if include_batch else 0)
    return idx


def nchw(a):
    return np.moveaxis(a, -1, 1)


def nhwc(a):
    return np.moveaxis(a, 1, -1)


def np_lrn(x, r=5, bias=1.0, alpha=1.0, beta=0.5):
    """The window sums as TensorFlow forms them, products with a 0/1 band matrix, elementwise so that an infinite
    square times a 0 of the band is NaN as in its kernel (Note [LRN and special values])."""
    C = x.shape[-1]
    band = (np.abs(np.arange(C)[:, None] - np.arange(C)[None, :]) <= r).astype(x.dtype)
    s = ((x * x)[..., :, None] * band).sum(-2)
    return x / (bias + alpha * s) ** beta


def np_bn_infer(x, s, o, m, v, eps):
    """Inference batch norm as TensorFlow 2.21's CPU kernel (oneDNN's) forms it, x * a + (o - m * a) with
    a = s / sqrt(v + eps): the same numbers as (x - m) / sqrt(v + eps) * s + o, but an infinite scale gives
    inf - inf = NaN where that formula gives +-inf by the sign of x - m."""
    a = s / np.sqrt(v + eps)
    return x * a + (o - m * a)


def np_bn_grads(x, scale, g, eps, mean=None, var=None, nchw_dx=False):
    """dx, dscale, doffset of batch norm (channels last) for upstream g, flattened and concatenated."""
    axes = tuple(range(x.ndim - 1))
    training = mean is None
    mean = x.mean(axis=axes) if training else mean
    var = x.var(axis=axes) if training else var
    s = 1 / np.sqrt(var + eps)
    xh = (x - mean) * s
    if training:
        dx = scale * s * (g - g.mean(axis=axes) - xh * (g * xh).mean(axis=axes))
    else:
        dx = g * scale * s
    dx = nchw(dx) if nchw_dx else dx
    return np.concatenate([dx.ravel(), (g * xh).sum(axis=axes), g.sum(axis=axes)])


def _flat_concat(tf, ts):
    return tf.concat([tf.reshape(t, [-1]) for t in ts], 0)


def np_batch_norm_train(x, scale, offset, eps, axes=(0, 1, 2)):
    m = x.mean(axis=axes)
    v = x.var(axis=axes)
    return (x - m) / np.sqrt(v + eps) * scale + offset


# ---- rows ----

def _conv_row(name, x, w, strides, padding, dilations=None, **kw):
    n = len(w) - 2
    op_strides = [1] + list(strides) + [1]
    op_dil = [1] + list(dilations or [1] * n) + [1]
    tf_pad = padding if isinstance(padding, str) else [[0, 0]] + [list(p) for p in padding] + [[0, 0]]

    def build(tf, a, b):
        fn = tf.nn.conv2d if n == 2 else tf.nn.conv3d
        return fn(a, b, op_strides, tf_pad, dilations=op_dil)
    return OpRow(name, build, lambda a, b: np_conv(a, b, strides, padding, dilations), [(x, w)], rtol=1e-4,
                 atol=1e-5, **kw)


ROWS = [
    _conv_row("conv2d[SAME]", (2, 5, 5, 3), (3, 3, 3, 4), (1, 1), "SAME"),
    # 7 wide, k 3, stride 2: SAME pads 0 before and 1 after (TF's asymmetric split)
    _conv_row("conv2d[SAME,stride2,asymmetric]", (1, 6, 7, 2), (3, 3, 2, 3), (2, 2), "SAME"),
    _conv_row("conv2d[SAME,even kernel]", (1, 5, 6, 2), (2, 4, 2, 3), (1, 2), "SAME"),
    _conv_row("conv2d[VALID,stride2x1]", (2, 6, 5, 2), (3, 2, 2, 3), (2, 1), "VALID"),
    _conv_row("conv2d[explicit]", (1, 4, 5, 2), (3, 3, 2, 2), (1, 2), ((1, 2), (0, 3))),
    _conv_row("conv2d[dilations]", (1, 7, 6, 2), (3, 2, 2, 3), (1, 1), "SAME", (2, 3)),
    _conv_row("conv2d[dilations,VALID]", (1, 7, 7, 2), (2, 2, 2, 2), (1, 1), "VALID", (3, 2)),
    _conv_row("conv2d[1x1]", (2, 3, 4, 5), (1, 1, 5, 3), (1, 1), "VALID"),
    _conv_row("conv2d[1x1,stride2]", (2, 5, 4, 3), (1, 1, 3, 2), (2, 2), "SAME"),
    _conv_row("conv2d[window larger than input]", (1, 2, 2, 2), (3, 3, 2, 2), (1, 1), "SAME"),
    _conv_row("conv2d[explicit,window wider than input,strided]", (1, 3, 2, 2), (2, 3, 2, 2), (1, 2),
              ((0, 1), (0, 2))),
    _conv_row("conv2d[one channel,SAME,strided]", (2, 7, 9, 1), (5, 5, 1, 3), (2, 3), "SAME"),
    # float32 with 16+ channels takes the implicit-patch kernels (cpp/ops/conv_implicit.cc)
    # (forward only: float64 gradients run the im2col kernels, which the rows above check)
    _conv_row("conv2d[implicit,SAME]", (2, 5, 6, 16), (3, 3, 16, 5), (1, 1), "SAME", grad=False),
    _conv_row("conv2d[implicit,strided]", (1, 7, 6, 16), (3, 2, 16, 34), (2, 2), "SAME", grad=False),
    _conv_row("conv2d[implicit,explicit,dilated rows]", (1, 7, 6, 12), (2, 3, 12, 17), (1, 1),
              ((2, 1), (1, 2)), (2, 1), grad=False),
    OpRow("conv2d_backprop_input[implicit]",
          lambda tf, w, dy: tf.nn.conv2d_backprop_input([1, 5, 6, 4], w, dy, [1, 1, 1, 1], "SAME"),
          lambda w, dy: np_conv_backprop_input((1, 5, 6, 4), w, dy, (1, 1), "SAME"),
          [((3, 3, 4, 40), (1, 5, 6, 40))], rtol=1e-4, atol=1e-4, grad=False),
    OpRow("conv2d_backprop_filter[implicit]",
          lambda tf, x, dy: tf.nn.conv2d_backprop_filter(x, [3, 3, 16, 8], dy, [1, 1, 1, 1], "SAME"),
          lambda x, dy: np_conv_backprop_filter(x, (3, 3, 16, 8), dy, (1, 1), "SAME"),
          [((3, 5, 5, 16), (3, 5, 5, 8))], rtol=1e-4, atol=1e-3, grad=False),
    OpRow("conv2d_backprop_filter[implicit,strided]",
          lambda tf, x, dy: tf.nn.conv2d_backprop_filter(x, [2, 3, 16, 8], dy, [1, 2, 2, 1], "VALID"),
          lambda x, dy: np_conv_backprop_filter(x, (2, 3, 16, 8), dy, (2, 2), "VALID"),
          [((2, 6, 7, 16), (2, 3, 3, 8))], rtol=1e-4, atol=1e-3, grad=False),
    OpRow("conv2d[NCHW]",
          lambda tf, a, b: tf.nn.conv2d(a, b, [1, 1, 2, 1], "SAME", data_format="NCHW", dilations=[1, 1, 1, 2]),
          lambda a, b: nchw(np_conv(nhwc(a), b, (2, 1), "SAME", (1, 2))), [((2, 3, 5, 6), (3, 2, 3, 4))],
          rtol=1e-4, atol=1e-5),
    OpRow("conv2d_backprop_input",
          lambda tf, w, dy: tf.nn.conv2d_backprop_input([2, 5, 6, 3], w, dy, [1, 2, 2, 1], "SAME"),
          lambda w, dy: np_conv_backprop_input((2, 5, 6, 3), w, dy, (2, 2), "SAME"),
          [((3, 3, 3, 4), (2, 3, 3, 4))], rtol=1e-4, atol=1e-5),
    OpRow("conv2d_backprop_input[NCHW,dilations]",
          lambda tf, w, dy: tf.nn.conv2d_backprop_input([1, 2, 5, 5], w, dy, [1, 1, 1, 1], "VALID",
                                                         data_format="NCHW", dilations=[1, 1, 2, 1]),
          lambda w, dy: nchw(np_conv_backprop_input((1, 5, 5, 2), w, nhwc(dy), (1, 1), "VALID", (2, 1))),
          [((2, 2, 2, 3), (1, 3, 3, 4))], rtol=1e-4, atol=1e-5),
    OpRow("conv2d_backprop_filter",
          lambda tf, x, dy: tf.nn.conv2d_backprop_filter(x, [3, 2, 3, 4], dy, [1, 2, 1, 1], "SAME"),
          lambda x, dy: np_conv_backprop_filter(x, (3, 2, 3, 4), dy, (2, 1), "SAME"),
          [((2, 5, 4, 3), (2, 3, 4, 4))], rtol=1e-4, atol=1e-4),
    OpRow("conv2d_backprop_filter[explicit]",
          lambda tf, x, dy: tf.nn.conv2d_backprop_filter(x, [2, 2, 2, 3], dy, [1, 1, 1, 1],
                                                          [[0, 0], [1, 0], [2, 1], [0, 0]]),
          lambda x, dy: np_conv_backprop_filter(x, (2, 2, 2, 3), dy, (1, 1), ((1, 0), (2, 1))),
          [((1, 3, 3, 2), (1, 3, 5, 3))], rtol=1e-4, atol=1e-4),
    OpRow("conv2d_transpose",
          lambda tf, x, w: tf.nn.conv2d_transpose(x, w, [2, 6, 5, 2], [1, 2, 2, 1], "SAME"),
          lambda x, w: np_conv_backprop_input((2, 6, 5, 2), w, x, (2, 2), "SAME"),
          [((2, 3, 3, 4), (3, 3, 2, 4))], rtol=1e-4, atol=1e-5),
    OpRow("conv1d", lambda tf, x, w: tf.nn.conv1d(x, w, 2, "SAME"),
          lambda x, w: np_conv(x[:, None], w[None], (1, 2), "SAME")[:, 0], [((2, 7, 3), (3, 3, 2))],
          rtol=1e-4, atol=1e-5),
    OpRow("conv1d[NCW,dilations]", lambda tf, x, w: tf.nn.conv1d(x, w, 1, "VALID", data_format="NCW", dilations=2),
          lambda x, w: np.moveaxis(np_conv(np.moveaxis(x, 1, -1)[:, None], w[None], (1, 1), "VALID",
                                           (1, 2))[:, 0], -1, 1), [((2, 3, 7), (2, 3, 2))], rtol=1e-4, atol=1e-5),
    _conv_row("conv3d[SAME]", (1, 3, 4, 4, 2), (2, 3, 2, 2, 3), (1, 2, 1), "SAME"),
    _conv_row("conv3d[VALID,dilations]", (2, 4, 3, 4, 2), (2, 2, 2, 2, 2), (1, 1, 1), "VALID", (2, 1, 2)),
    OpRow("conv3d[NCDHW]",
          lambda tf, a, b: tf.nn.conv3d(a, b, [1, 1, 1, 1, 2], "SAME", data_format="NCDHW"),
          lambda a, b: nchw(np_conv(nhwc(a), b, (1, 1, 2), "SAME")), [((1, 2, 3, 3, 4), (2, 2, 2, 2, 3))],
          rtol=1e-4, atol=1e-5),
    OpRow("conv3d_transpose",
          lambda tf, x, w: tf.nn.conv3d_transpose(x, w, [1, 4, 3, 4, 2], [1, 2, 1, 2, 1], "SAME"),
          lambda x, w: np_conv_backprop_input((1, 4, 3, 4, 2), w, x, (2, 1, 2), "SAME"),
          [((1, 2, 3, 2, 3), (2, 2, 2, 2, 3))], rtol=1e-4, atol=1e-5),
    OpRow("conv3d_backprop_filter_v2",
          lambda tf, x, dy: tf.nn.conv3d_backprop_filter_v2(x, [2, 2, 1, 2, 3], dy, [1, 1, 1, 1, 1], "VALID"),
          lambda x, dy: np_conv_backprop_filter(x, (2, 2, 1, 2, 3), dy, (1, 1, 1), "VALID"),
          [((1, 3, 3, 2, 2), (1, 2, 2, 2, 3))], rtol=1e-4, atol=1e-4),
    OpRow("depthwise_conv2d", lambda tf, x, w: tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME"),
          lambda x, w: np_depthwise(x, w, (1, 1), "SAME"), [((2, 5, 4, 3), (3, 3, 3, 1))], rtol=1e-4, atol=1e-5),
    OpRow("depthwise_conv2d[multiplier,stride,rate]",
          lambda tf, x, w: tf.nn.depthwise_conv2d(x, w, [1, 2, 1, 1], "VALID", rate=[1, 2]),
          lambda x, w: np_depthwise(x, w, (2, 1), "VALID", (1, 2)), [((1, 6, 6, 2), (2, 2, 2, 3))],
          rtol=1e-4, atol=1e-5),
    OpRow("depthwise_conv2d_native[NCHW]",
          lambda tf, x, w: tf.nn.depthwise_conv2d_native(x, w, [1, 1, 2, 2], "SAME", data_format="NCHW"),
          lambda x, w: nchw(np_depthwise(nhwc(x), w, (2, 2), "SAME")), [((1, 2, 5, 5), (3, 2, 2, 2))],
          rtol=1e-4, atol=1e-5),
    OpRow("depthwise_conv2d_native_backprop_input",
          lambda tf, w, dy: tf.nn.depthwise_conv2d_native_backprop_input([1, 4, 5, 2], w, dy, [1, 1, 1, 1], "SAME"),
          None, [((3, 2, 2, 2), (1, 4, 5, 4))], rtol=1e-4, atol=1e-5),
    OpRow("depthwise_conv2d_native_backprop_filter",
          lambda tf, x, dy: tf.nn.depthwise_conv2d_native_backprop_filter(x, [2, 3, 2, 2], dy, [1, 2, 1, 1],
                                                                          "SAME"),
          None, [((1, 5, 4, 2), (1, 3, 4, 4))], rtol=1e-4, atol=1e-4),
    OpRow("separable_conv2d",
          lambda tf, x, dw, pw: tf.nn.separable_conv2d(x, dw, pw, [1, 1, 1, 1], "SAME"),
          lambda x, dw, pw: np_conv(np_depthwise(x, dw, (1, 1), "SAME"), pw, (1, 1), "VALID"),
          [((1, 4, 4, 2), (3, 3, 2, 2), (1, 1, 4, 3))], rtol=1e-4, atol=1e-5),
    OpRow("atrous_conv2d", lambda tf, x, w: tf.nn.atrous_conv2d(x, w, 2, "SAME"),
          lambda x, w: np_conv(x, w, (1, 1), "SAME", (2, 2)), [((1, 6, 6, 2), (3, 3, 2, 2))], rtol=1e-4, atol=1e-5),
    OpRow("convolution[1d,strided]", lambda tf, x, w: tf.nn.convolution(x, w, "VALID", strides=[2]),
          lambda x, w: np_conv(x[:, None], w[None], (1, 2), "VALID")[:, 0], [((2, 7, 2), (3, 2, 3))],
          rtol=1e-4, atol=1e-5),
    # pooling (inputs from a permutation: no ties, so max-pool gradients have no kinks)
    OpRow("max_pool[SAME,stride2]", lambda tf, x: tf.nn.max_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
          lambda x: np_pool(x, (3, 3), (2, 2), "SAME", "max"), [((2, 5, 6, 3),)]),
    OpRow("max_pool[VALID,2x2]", lambda tf, x: tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
          lambda x: np_pool(x, (2, 2), (2, 2), "VALID", "max"), [((2, 4, 6, 3),), ((1, 5, 5, 1),)]),
    OpRow("max_pool[NCHW]", lambda tf, x: tf.nn.max_pool(x, [1, 1, 2, 3], [1, 1, 1, 2], "SAME", data_format="NCHW"),
          lambda x: nchw(np_pool(nhwc(x), (2, 3), (1, 2), "SAME", "max")), [((1, 2, 4, 5),)]),
    OpRow("avg_pool[SAME,stride2]", lambda tf, x: tf.nn.avg_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
          lambda x: np_pool(x, (3, 3), (2, 2), "SAME", "avg"), [((2, 5, 6, 3),)]),
    OpRow("avg_pool[VALID,NCHW]",
          lambda tf, x: tf.nn.avg_pool(x, [1, 1, 2, 2], [1, 1, 1, 2], "VALID", data_format="NCHW"),
          lambda x: nchw(np_pool(nhwc(x), (2, 2), (1, 2), "VALID", "avg")), [((2, 3, 4, 5),)]),
    OpRow("max_pool1d", lambda tf, x: tf.nn.max_pool1d(x, 3, 2, "SAME"),
          lambda x: np_pool(x[:, None], (1, 3), (1, 2), "SAME", "max")[:, 0], [((2, 7, 3),)]),
    OpRow("avg_pool1d[NCW]", lambda tf, x: tf.nn.avg_pool1d(x, 2, 1, "VALID", data_format="NCW"),
          lambda x: np.moveaxis(np_pool(np.moveaxis(x, 1, -1)[:, None], (1, 2), (1, 1), "VALID", "avg")[:, 0], -1, 1),
          [((2, 3, 5),)]),
    OpRow("max_pool3d", lambda tf, x: tf.nn.max_pool3d(x, [1, 2, 2, 2, 1], [1, 1, 2, 2, 1], "SAME"),
          lambda x: np_pool(x, (2, 2, 2), (1, 2, 2), "SAME", "max"), [((1, 3, 4, 5, 2),)]),
    OpRow("avg_pool3d", lambda tf, x: tf.nn.avg_pool3d(x, [1, 2, 3, 2, 1], [1, 2, 1, 2, 1], "SAME"),
          lambda x: np_pool(x, (2, 3, 2), (2, 1, 2), "SAME", "avg"), [((2, 3, 4, 4, 2),)]),
    OpRow("max_pool_v2[3d]", lambda tf, x: tf.nn.max_pool_v2(x, 2, 2, "SAME"),
          lambda x: np_pool(x, (2, 2, 2), (2, 2, 2), "SAME", "max"), [((1, 3, 4, 3, 2),)]),
    OpRow("avg_pool_v2[1d]", lambda tf, x: tf.nn.avg_pool_v2(x, [2], [1], "VALID"),
          lambda x: np_pool(x[:, None], (1, 2), (1, 1), "VALID", "avg")[:, 0], [((2, 5, 3),)]),
    OpRow("pool[MAX,2d]", lambda tf, x: tf.nn.pool(x, [2, 2], "MAX", "SAME", strides=[2, 1]),
          lambda x: np_pool(x, (2, 2), (2, 1), "SAME", "max"), [((1, 5, 4, 2),)]),
    OpRow("pool[AVG,1d]", lambda tf, x: tf.nn.pool(x, [3], "AVG", "VALID"),
          lambda x: np_pool(x[:, None], (1, 3), (1, 1), "VALID", "avg")[:, 0], [((2, 6, 2),)]),
    OpRow("max_pool_with_argmax[output]",
          lambda tf, x: tf.nn.max_pool_with_argmax(x, [1, 2, 3, 1], [1, 2, 2, 1], "SAME").output,
          lambda x: np_pool(x, (2, 3), (2, 2), "SAME", "max"), [((2, 5, 6, 3),)]),
    OpRow("max_pool_with_argmax[argmax]",
          lambda tf, x: tf.nn.max_pool_with_argmax(x, [1, 2, 3, 1], [1, 2, 2, 1], "SAME").argmax,
          lambda x: np_argmax(x, (2, 3), (2, 2), "SAME"), [((2, 5, 6, 3),)], grad=False),
    OpRow("max_pool_with_argmax[argmax,include_batch]",
          lambda tf, x: tf.nn.max_pool_with_argmax(x, [1, 2, 2, 1], [1, 1, 1, 1], "VALID",
                                                   include_batch_in_index=True).argmax,
          lambda x: np_argmax(x, (2, 2), (1, 1), "VALID", True), [((2, 3, 4, 2),)], grad=False),
    # second order: the gradient ops' own gradients (MaxPoolGradGrad, AvgPool, ...) w.r.t. the incoming grad
    OpRow("MaxPoolGrad[second order]",
          lambda tf, x, g: tf.gradients(tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 1, 1], "SAME"), x, grad_ys=g)[0],
          None, [((1, 4, 5, 2), (1, 2, 5, 2))], grad_inputs=[1]),
    OpRow("MaxPool3DGrad[second order]",
          lambda tf, x, g: tf.gradients(tf.nn.max_pool3d(x, [1, 2, 2, 2, 1], [1, 1, 2, 2, 1], "VALID"), x,
                                        grad_ys=g)[0],
          None, [((1, 3, 4, 4, 2), (1, 2, 2, 2, 2))], grad_inputs=[1]),
    OpRow("MaxPoolGradWithArgmax[second order]",
          lambda tf, x, g: tf.gradients(tf.nn.max_pool_with_argmax(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME").output,
                                        x, grad_ys=g)[0],
          None, [((1, 4, 5, 2), (1, 2, 3, 2))], grad_inputs=[1]),
    # third order: MaxPoolGradGrad (the gradient of MaxPoolGrad w.r.t. its grad) has MaxPoolGrad as its own
    OpRow("MaxPoolGradGrad[third order]",
          lambda tf, x, g, h: tf.gradients(tf.gradients(tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 1, 1], "SAME"), x,
                                                        grad_ys=g)[0], g, grad_ys=h)[0],
          None, [((1, 4, 5, 2), (1, 2, 5, 2), (1, 4, 5, 2))], grad_inputs=[2]),
    OpRow("MaxPool3DGradGrad[third order]",
          lambda tf, x, g, h: tf.gradients(tf.gradients(tf.nn.max_pool3d(x, [1, 2, 2, 2, 1], [1, 1, 2, 2, 1], "VALID"),
                                                        x, grad_ys=g)[0], g, grad_ys=h)[0],
          None, [((1, 3, 4, 4, 2), (1, 2, 2, 2, 2), (1, 3, 4, 4, 2))], grad_inputs=[2]),
    OpRow("MaxPoolGradGradWithArgmax[third order]",
          lambda tf, x, g, h: tf.gradients(tf.gradients(
              tf.nn.max_pool_with_argmax(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME").output, x, grad_ys=g)[0], g,
              grad_ys=h)[0],
          None, [((1, 4, 5, 2), (1, 2, 3, 2), (1, 4, 5, 2))], grad_inputs=[2]),
    OpRow("AvgPoolGrad[second order]",
          lambda tf, x, g: tf.gradients(tf.nn.avg_pool(x, [1, 3, 2, 1], [1, 1, 2, 1], "SAME"), x, grad_ys=g)[0],
          None, [((1, 4, 5, 2), (1, 4, 3, 2))], grad_inputs=[1]),
    OpRow("BiasAddGrad[second order]",
          lambda tf, x, b, g: tf.gradients(tf.nn.bias_add(x, b, data_format="NCHW"), b, grad_ys=g)[0],
          lambda x, b, g: g.sum(axis=(0, 2, 3)), [((2, 3, 2, 2), (3,), (2, 3, 2, 2))], grad_inputs=[2]),
    OpRow("Conv2DBackpropFilter[second order]",
          lambda tf, x, w, g: tf.gradients(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME"), w, grad_ys=g)[0],
          lambda x, w, g: np_conv_backprop_filter(x, w.shape, g, (1, 1), "SAME"),
          [((1, 4, 4, 2), (3, 3, 2, 2), (1, 4, 4, 2))], rtol=1e-4, atol=1e-4),
    # normalization
    OpRow("lrn", lambda tf, x: tf.nn.lrn(x, depth_radius=2, bias=1.5, alpha=0.3, beta=0.75),
          lambda x: np_lrn(x, 2, 1.5, 0.3, 0.75), [((2, 3, 2, 7),)]),
    OpRow("local_response_normalization[defaults]", lambda tf, x: tf.nn.local_response_normalization(x),
          np_lrn, [((1, 2, 2, 12),)]),
    OpRow("fused_batch_norm[training]",
          lambda tf, x, s, o: tf.nn.fused_batch_norm(x, s, o, epsilon=1e-3)[0],
          lambda x, s, o: np_batch_norm_train(x, s, o, 1e-3), [((2, 3, 4, 3), (3,), (3,))], rtol=1e-4, atol=1e-4),
    OpRow("fused_batch_norm[training,NCHW]",
          lambda tf, x, s, o: tf.nn.fused_batch_norm(x, s, o, epsilon=1e-3, data_format="NCHW")[0],
          lambda x, s, o: nchw(np_batch_norm_train(nhwc(x), s, o, 1e-3)), [((3, 2, 2, 3), (2,), (2,))],
          rtol=1e-4, atol=1e-4),
    OpRow("fused_batch_norm[batch_mean]", lambda tf, x, s, o: tf.nn.fused_batch_norm(x, s, o)[1],
          lambda x, s, o: x.mean(axis=(0, 1, 2)), [((2, 3, 4, 3), (3,), (3,))], grad=False),
    OpRow("fused_batch_norm[batch_variance,unbiased]", lambda tf, x, s, o: tf.nn.fused_batch_norm(x, s, o)[2],
          lambda x, s, o: x.var(axis=(0, 1, 2), ddof=1), [((2, 3, 4, 3), (3,), (3,))], grad=False),
    OpRow("fused_batch_norm[inference]",
          lambda tf, x, s, o, m, v: tf.nn.fused_batch_norm(x, s, o, m, v, epsilon=1e-3, is_training=False)[0],
          lambda x, s, o, m, v: np_bn_infer(x, s, o, m, v, 1e-3),
          [((2, 3, 2, 4), (4,), (4,), (4,), (4,))], low=0.5, high=2.0, rtol=1e-4, atol=1e-4,
          grad_inputs=[0, 1, 2]),  # TensorFlow gives mean and variance no gradient
    OpRow("fused_batch_norm[inference,NCHW]",
          lambda tf, x, s, o, m, v: tf.nn.fused_batch_norm(x, s, o, m, v, data_format="NCHW", is_training=False)[0],
          lambda x, s, o, m, v: nchw(np_bn_infer(nhwc(x), s, o, m, v, 1e-3)),
          [((2, 3, 2, 2), (3,), (3,), (3,), (3,))], low=0.5, high=2.0, rtol=1e-4, atol=1e-4, grad_inputs=[0, 1, 2]),
    # all three outputs of FusedBatchNormGradV3 in one vector, so the check covers every second-order path
    OpRow("FusedBatchNormGrad[second order,training]",
          lambda tf, x, s, o, g: _flat_concat(tf, tf.gradients(tf.nn.fused_batch_norm(x, s, o, epsilon=1e-3)[0],
                                                               [x, s, o], grad_ys=g)),
          lambda x, s, o, g: np_bn_grads(x, s, g, 1e-3), [((2, 3, 2, 3), (3,), (3,), (2, 3, 2, 3))], grad_tol=1e-3,
          rtol=1e-4, atol=1e-4),
    OpRow("FusedBatchNormGrad[second order,training,NCHW]",
          lambda tf, x, s, o, g: _flat_concat(tf, tf.gradients(
              tf.nn.fused_batch_norm(x, s, o, epsilon=1e-3, data_format="NCHW")[0], [x, s, o], grad_ys=g)),
          lambda x, s, o, g: np_bn_grads(nhwc(x), s, nhwc(g), 1e-3, nchw_dx=True), [((2, 3, 2, 2), (3,), (3,), (2, 3, 2, 2))],
          grad_tol=1e-3, rtol=1e-4, atol=1e-4),
    OpRow("FusedBatchNormGrad[second order,inference]",
          lambda tf, x, s, o, m, v, g: _flat_concat(tf, tf.gradients(
              tf.nn.fused_batch_norm(x, s, o, m, v, epsilon=1e-3, is_training=False)[0], [x, s, o], grad_ys=g)),
          lambda x, s, o, m, v, g: np_bn_grads(x, s, g, 1e-3, mean=m, var=v),
          [((2, 2, 2, 3), (3,), (3,), (3,), (3,), (2, 2, 2, 3))], low=0.5, high=2.0, grad_inputs=[0, 1, 5],
          rtol=1e-4, atol=1e-4),
    OpRow("batch_normalization",
          lambda tf, x, m, v, o, s: tf.nn.batch_normalization(x, m, v, o, s, 1e-3),
          lambda x, m, v, o, s: (x - m) / np.sqrt(v + 1e-3) * s + o,
          [((2, 3, 4), (4,), (4,), (4,), (4,))], low=0.5, high=2.0, rtol=1e-4, atol=1e-4),
]


def _no_ties(row):
    """Max-pool inputs: a shuffled grid of distinct values, at least 0.05 apart."""
    def make(rng, shapes, dtype):
        out = []
        for s in shapes:
            n = int(np.prod(s))
            out.append((rng.permutation(n).reshape(s) * (4.0 / max(n, 1)) - 2.0).astype(dtype))
        return out
    row.make = make
    return row


for _r in ROWS:
    if "max_pool" in _r.name or "MaxPool" in _r.name or "pool[MAX" in _r.name:
        _no_ties(_r)


# Rows whose reference is the adjoint of another reference.
def _set_ref(name, ref):
    for r in ROWS:
        if r.name == name:
            r.ref = ref


def _max_pool_grad_ref(x, g, ksize=(2, 2), strides=(2, 1), padding="SAME"):
    """Each window's gradient added at its (first) maximum; N-d, channels-last."""
    outs, pads, _ = _geometry(x.shape, ksize, strides, padding, None)
    dx = np.zeros_like(x)
    for idx in np.ndindex(*g.shape):
        n, o, c = idx[0], idx[1:-1], idx[-1]
        best, at = None, None
        for k in np.ndindex(*ksize):
            pos = tuple(oi * s - lo + ki for oi, s, (lo, _), ki in zip(o, strides, pads, k))
            if all(0 <= p < d for p, d in zip(pos, x.shape[1:-1])):
                v = x[(n,) + pos + (c,)]
                if best is None or v > best:
                    best, at = v, pos
        dx[(n,) + at + (c,)] += g[idx]
    return dx


def _max_pool_grad_gather_ref(x, h, ksize, strides, padding):
    """h (shaped like x) read at each window's maximum: MaxPoolGradGrad."""
    outs, pads, _ = _geometry(x.shape, ksize, strides, padding, None)
    y = np.zeros([x.shape[0]] + outs + [x.shape[-1]], x.dtype)
    for idx in np.ndindex(*y.shape):
        n, o, c = idx[0], idx[1:-1], idx[-1]
        best, at = None, None
        for k in np.ndindex(*ksize):
            pos = tuple(oi * s - lo + ki for oi, s, (lo, _), ki in zip(o, strides, pads, k))
            if all(0 <= p < d for p, d in zip(pos, x.shape[1:-1])):
                v = x[(n,) + pos + (c,)]
                if best is None or v > best:
                    best, at = v, pos
        y[idx] = h[(n,) + at + (c,)]
    return y


def _avg_pool_grad_ref(x, g):
    outs, pads, _ = _geometry(x.shape, (3, 2), (1, 2), "SAME", None)
    ones = np.pad(np.ones(x.shape), [(0, 0)] + pads + [(0, 0)])
    count = np.zeros(g.shape)
    dxp = np.zeros(ones.shape)
    for tap in np.ndindex(3, 2):
        count += ones[_tap_slice(tap, outs, (1, 2), (1, 1))]
    for tap in np.ndindex(3, 2):
        dxp[_tap_slice(tap, outs, (1, 2), (1, 1))] += g / count
    return dxp[:, pads[0][0]:pads[0][0] + x.shape[1], pads[1][0]:pads[1][0] + x.shape[2]]


def _depthwise_backprop_input_ref(w, dy):
    # adjoint of np_depthwise: the conv with a block-diagonal dense filter
    C, M = w.shape[2], w.shape[3]
    dense = np.zeros(w.shape[:2] + (C, C * M))
    for c in range(C):
        dense[:, :, c, c * M:(c + 1) * M] = w[:, :, c, :]
    return np_conv_backprop_input((1, 4, 5, 2), dense, dy, (1, 1), "SAME")


def _depthwise_backprop_filter_ref(x, dy):
    C, M = 2, 2
    full = np_conv_backprop_filter(x, (2, 3, C, C * M), dy, (2, 1), "SAME")
    return np.stack([full[:, :, c, c * M:(c + 1) * M] for c in range(C)], axis=2)


_set_ref("MaxPoolGrad[second order]", _max_pool_grad_ref)
_set_ref("MaxPool3DGrad[second order]", lambda x, g: _max_pool_grad_ref(x, g, (2, 2, 2), (1, 2, 2), "VALID"))
_set_ref("MaxPoolGradWithArgmax[second order]", lambda x, g: _max_pool_grad_ref(x, g, (2, 2), (2, 2)))
_set_ref("AvgPoolGrad[second order]", _avg_pool_grad_ref)
_set_ref("MaxPoolGradGrad[third order]", lambda x, g, h: _max_pool_grad_gather_ref(x, h, (2, 2), (2, 1), "SAME"))
_set_ref("MaxPool3DGradGrad[third order]",
         lambda x, g, h: _max_pool_grad_gather_ref(x, h, (2, 2, 2), (1, 2, 2), "VALID"))
_set_ref("MaxPoolGradGradWithArgmax[third order]",
         lambda x, g, h: _max_pool_grad_gather_ref(x, h, (2, 2), (2, 2), "SAME"))
_set_ref("depthwise_conv2d_native_backprop_input", _depthwise_backprop_input_ref)
_set_ref("depthwise_conv2d_native_backprop_filter", _depthwise_backprop_filter_ref)

# Convolutions and pooling on float16 and bfloat16, computed in float32 and rounded once (Note [computing in
# float32]), as TensorFlow's CPU kernels register them; MaxPool also on the 8- and 16-bit integers.
add_dtypes_to_families(ROWS, ["conv2d", "conv2d_backprop_input", "conv2d_backprop_filter", "conv2d_transpose",
                              "conv1d", "conv3d", "conv3d_transpose", "depthwise_conv2d", "depthwise_conv2d_native",
                              "atrous_conv2d", "convolution", "max_pool", "avg_pool",
                              "max_pool1d", "avg_pool1d", "max_pool3d", "avg_pool3d", "pool",
                              "max_pool_with_argmax"], HALF, only_with="float32")
add_dtypes(ROWS, {"max_pool[SAME,stride2]": SMALL_INT, "max_pool[VALID,2x2]": SMALL_INT})
# Two convolutions, each rounding its result: bfloat16's 8 bits lose the second one's cancellations beyond the
# table's tolerance (TensorFlow rounds the same way), so bfloat16 is left to the single convolutions.
add_dtypes(ROWS, {"separable_conv2d": ("float16",)})
