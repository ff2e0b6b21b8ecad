"""Op-table rows of the fused LSTM step, LSTMBlockCell (cpp/ops/rnn.cc, Note [LSTM block cell]), with and
without peepholes, with cell_clip, a forget bias other than 1, and an h_prev narrower than the cell (the
projection LSTMCell feeds back). The NumPy reference is the LSTM written out from TensorFlow's
definition. The forward rows check all seven outputs (i, cs, f, o, ci, co, h); the gradient rows
differentiate cs and h, the two states a cell passes on, so their float64 finite-difference checks build
LSTMBlockCellGradFused (TF's LSTMBlockCell ignores the gradients of the other five outputs, as ours does)."""
import numpy as np

from tideflow.ops.rnn_cell_impl import _lstm_block_cell

from .common import OpRow


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def np_lstm_block_cell(x, cs_prev, h_prev, w, b, wci=None, wcf=None, wco=None, forget_bias=1.0, cell_clip=-1.0):
    """(i, cs, f, o, ci, co, h), as TensorFlow's LSTMBlockCell computes them."""
    H = cs_prev.shape[1]
    icfo = np.concatenate([x, h_prev], 1) @ w + b
    zi, zc, zf, zo = (icfo[:, k * H:(k + 1) * H] for k in range(4))
    if wci is not None:
        zi = zi + wci * cs_prev
        zf = zf + wcf * cs_prev
    i = _sigmoid(zi)
    f = _sigmoid(zf + forget_bias)
    ci = np.tanh(zc)
    cs = ci * i + cs_prev * f
    if cell_clip > 0:
        cs = np.clip(cs, -cell_clip, cell_clip)
    if wco is not None:
        zo = zo + wco * cs
    o = _sigmoid(zo)
    co = np.tanh(cs)
    return i, cs, f, o, ci, co, co * o


def _make(B, I, P, H, peephole):
    """x, cs_prev, h_prev, w, b (and wci, wcf, wco): w scaled by 1/sqrt(rows) so the gates are not all
    saturated and every derivative term counts in the gradient check."""
    def make(rng, shapes, dtype):
        arrays = [rng.uniform(-1.5, 1.5, s) for s in shapes]
        arrays[3] = arrays[3] / np.sqrt(I + P)
        return [a.astype(dtype) for a in arrays]
    shapes = [(B, I), (B, H), (B, P), (I + P, 4 * H), (4 * H,)] + ([(H,)] * 3 if peephole else [])
    return make, shapes


def _rows(name, B, I, P, H, peephole=False, forget_bias=1.0, cell_clip=-1.0):
    make, shapes = _make(B, I, P, H, peephole)
    kw = dict(forget_bias=forget_bias, cell_clip=cell_clip)

    def outputs(tf, x, cs, h, w, b, *peep):
        return _lstm_block_cell(x, cs, h, w, b, *peep, forget_bias=forget_bias,
                                cell_clip=cell_clip if cell_clip > 0 else None)

    def avoid(arrays):
        # Keep the unclipped cell state away from the clip's corners (where its derivative jumps), so
        # central differences see a smooth function.
        if cell_clip > 0:
            x, cs, h, w, b = arrays[:5]
            H_ = cs.shape[1]
            icfo = np.concatenate([x, h], 1) @ w + b
            zi, zc, zf = icfo[:, :H_], icfo[:, H_:2 * H_], icfo[:, 2 * H_:3 * H_]
            if peephole:
                zi = zi + arrays[5] * cs
                zf = zf + arrays[6] * cs
            u = np.tanh(zc) * _sigmoid(zi) + cs * _sigmoid(zf + forget_bias)
            near = np.abs(np.abs(u) - cell_clip) < 1e-2
            arrays[1] = np.where(near, cs * 0.5, cs).astype(cs.dtype)
        return arrays

    return [
        OpRow(name, lambda tf, *a: tf.concat(outputs(tf, *a), 1),
              lambda *a: np.concatenate(np_lstm_block_cell(*a[:5], *a[5:], **kw), 1).astype(a[0].dtype),
              [shapes], make=make, avoid=avoid, grad=False, rtol=2e-5, atol=2e-6),
        OpRow(name + "_grad", lambda tf, *a: tf.concat([outputs(tf, *a)[k] for k in (1, 6)], 1),
              lambda *a: np.concatenate([np_lstm_block_cell(*a[:5], *a[5:], **kw)[k] for k in (1, 6)],
                                        1).astype(a[0].dtype),
              [shapes], dtypes=("float64",), make=make, avoid=avoid, rtol=1e-10, atol=1e-12),
    ]


ROWS = (_rows("lstm_block_cell", 3, 4, 5, 5)
        + _rows("lstm_block_cell_peephole", 2, 3, 4, 4, peephole=True, forget_bias=0.5)
        + _rows("lstm_block_cell_clip", 3, 2, 3, 3, cell_clip=0.6)
        + _rows("lstm_block_cell_peephole_clip", 3, 3, 4, 4, peephole=True, cell_clip=0.5, forget_bias=0.0)
        + _rows("lstm_block_cell_projection", 2, 3, 2, 4))
