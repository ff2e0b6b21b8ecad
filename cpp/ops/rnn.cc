// Recurrent cells as single ops: LSTMBlockCell (TensorFlow's fused LSTM step) and LSTMBlockCellGradFused,
// its whole gradient. BasicLSTMCell and LSTMCell build LSTMBlockCell when it computes what
// their composite computes (Note [fused LSTM cells] in python/tideflow/ops/rnn_cell_impl.py).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/gemm.h"
#include "kernels/vector_math.h"
#include "op_registry.h"
#include "spin_pair.h"

namespace tideflow {
namespace {

// Note [LSTM block cell]
// One step of an LSTM, TF's LSTMBlockCell with its inputs, attributes and outputs:
//   xh = [x, h_prev]                      icfo = xh w + b, split into i, ci, f, o (the i, j, f, o of
//   i  = sigmoid(icfo_i + wci cs_prev)    BasicLSTMCell's kernel, so the two share variables)
//   f  = sigmoid(icfo_f + forget_bias + wcf cs_prev)
//   ci = tanh(icfo_c)
//   cs = clip(ci i + cs_prev f, cell_clip)  (no clip when cell_clip <= 0)
//   o  = sigmoid(icfo_o + wco cs)         co = tanh(cs)      h = co o
// peephole terms only with use_peephole. One gemm for the product, then one pass per batch row over its
// 4H gate pre-activations (float32 through vector_math's sigmoid and tanh, float64 through libm, as the
// Sigmoid and Tanh ops compute them). h_prev may be narrower or wider than the cell (LSTMCell's
// projection feeds back num_proj values; w has I + P rows), a generalization of TF's op.
// The outputs i, cs, f, o, ci, co are what the gradient needs; their own gradients are ignored, as
// TF ignores them (only cs and h are states a cell passes on).
struct LstmDims {
  int64_t batch, input, prev, cell;
};

// Checks the shapes of x, cs_prev, h_prev, w, wci, wcf, wco, b (inputs 0..7) when known; fills what is.
void lstm_check_shapes(InferCtx& c, int64_t* batch, int64_t* cell) {
  for (int i = 1; i < 8; ++i) c.expect_same_dtype(0, i);
  if (!is_floating(c.dtype(0)))
    c.type_fail(std::string("LSTMBlockCell needs float32 or float64 inputs, got ") + dtype_name(c.dtype(0)));
  static const char* names[] = {"x", "cs_prev", "h_prev", "w", "wci", "wcf", "wco", "b"};
  static const int ranks[] = {2, 2, 2, 2, 1, 1, 1, 1};
  for (int i = 0; i < 8; ++i)
    if (c.shape(i).known_rank && c.shape(i).rank() != ranks[i])
      c.fail(std::string(names[i]) + " must be rank " + std::to_string(ranks[i]) + " but is rank " +
             std::to_string(c.shape(i).rank()));
  auto dim = [&](int i, int d) { return c.shape(i).known_rank ? c.shape(i).dims[d] : int64_t(-1); };
  auto agree = [&](int64_t& v, int64_t d, const std::string& what) {
    if (d < 0) return;
    if (v >= 0 && v != d) c.fail(what + ": dimensions must agree, got " + std::to_string(v) + " and " + std::to_string(d));
    v = d;
  };
  int64_t B = -1, H = -1, I = dim(0, 1), P = dim(2, 1);
  agree(B, dim(0, 0), "batch size of x and cs_prev");
  agree(B, dim(1, 0), "batch size of x and cs_prev");
  agree(B, dim(2, 0), "batch size of x and h_prev");
  agree(H, dim(1, 1), "cell size of cs_prev and w");
  const int64_t w4 = dim(3, 1), nb = dim(7, 0);
  if (w4 >= 0 && w4 % 4) c.fail("w must have 4 * cell_size columns, got " + std::to_string(w4));
  agree(H, w4 >= 0 ? w4 / 4 : -1, "cell size of cs_prev and w");
  if (nb >= 0 && nb % 4) c.fail("b must have 4 * cell_size elements, got " + std::to_string(nb));
  agree(H, nb >= 0 ? nb / 4 : -1, "cell size of cs_prev and b");
  if (I >= 0 && P >= 0 && dim(3, 0) >= 0 && dim(3, 0) != I + P)
    c.fail("w must have input_size + h_prev's size = " + std::to_string(I + P) + " rows, got " +
           std::to_string(dim(3, 0)));
  if (c.attr<bool>("use_peephole"))
    for (int i = 4; i < 7; ++i) agree(H, dim(i, 0), std::string("cell size of cs_prev and ") + names[i]);
  *batch = B;
  *cell = H;
}

void lstm_block_cell_shape(InferCtx& c) {
  int64_t B, H;
  lstm_check_shapes(c, &B, &H);
  for (int i = 0; i < 7; ++i) c.set_output(i, c.dtype(0), PartialShape(Dims{B, H}));
}

// The runtime checks of the kernels: every shape, before any memory is touched.
LstmDims lstm_dims(const KernelCtx& c, bool peephole) {
  const Tensor &x = c.in(0), &cs = c.in(1), &h = c.in(2), &w = c.in(3), &b = c.in(7);
  if (x.rank() != 2 || cs.rank() != 2 || h.rank() != 2 || w.rank() != 2 || b.rank() != 1)
    c.fail("x, cs_prev, h_prev and w must be matrices and b a vector, got " + x.summary() + ", " + cs.summary() +
           ", " + h.summary() + ", " + w.summary() + ", " + b.summary());
  LstmDims d{x.dim(0), x.dim(1), h.dim(1), cs.dim(1)};
  if (cs.dim(0) != d.batch || h.dim(0) != d.batch)
    c.fail("x, cs_prev and h_prev must have the same batch size, got " + x.summary() + ", " + cs.summary() + ", " +
           h.summary());
  if (w.dim(0) != d.input + d.prev || w.dim(1) != 4 * d.cell || b.dim(0) != 4 * d.cell)
    c.fail("w must be [" + std::to_string(d.input + d.prev) + ", " + std::to_string(4 * d.cell) + "] and b [" +
           std::to_string(4 * d.cell) + "] for this x, h_prev and cs_prev; got " + w.summary() + ", " + b.summary());
  if (peephole)
    for (int i = 4; i < 7; ++i)
      if (c.in(i).rank() != 1 || c.in(i).dim(0) != d.cell)
        c.fail("peephole weights must be [" + std::to_string(d.cell) + "], got " + c.in(i).summary());
  return d;
}

// Note [LSTM steps on one thread]
// Inside dynamic_rnn's loop a cell runs once per time step, and a step of a small cell is little work (the
// bench's [64, 156] x [156, 512] product is 5M multiply-adds, about 50 us on one core). Split over the
// pool, every step wakes the other thread for each product and gate pass, and between them (the loop's
// own bookkeeping, the next step's setup) it polls for work (Note [spinning workers]): CPU time the
// split does not earn back. So a step whose product is below kStepWork multiply-adds never uses the pool:
// it runs on the calling thread, products and gate passes alike, and the pool's threads sleep through the
// loop (with two threads a step of 1M multiply-adds or more is shared with a spinning partner instead,
// Note [LSTM steps on a pair]); bigger cells and batches still split over the pool. Measured with two
// threads (bench/README.md, LSTM training step).
constexpr int64_t kStepWork = int64_t(16) << 20;

// The threads for a step whose product is [rows, k] x [k, cols] (in double: no overflow for any sizes).
int step_threads(const KernelCtx& c, int64_t rows, int64_t cols, int64_t k) {
  return double(rows) * double(cols) * double(k) < double(kStepWork) ? 1 : c.threads;
}

// Note [LSTM steps on a pair]
// With two threads or more, a small step (Note [LSTM steps on one thread]) of at least kPairWork
// multiply-adds is shared with the spinning partner thread (Note [spinning partner] in spin_pair.cc),
// whose hand-over costs about a microsecond where a pool task's wake costs tens:
//   forward: the caller multiplies [x, h] by the first half of w's columns, the partner by the rest;
//     then the caller runs the gates of batch rows [0, cut), the partner of rows [cut, B). (Row blocks
//     of the product would need one hand-over instead of two, but a block of half the rows takes 63 us
//     where one of half the columns takes 55: the bench's whole product is 109 us.)
//   gradient: the same rows for the gate gradients (and [x, h]); then the caller computes x_grad and
//     h_prev_grad whole and the first columns of w_grad and b_grad, the partner the other columns, the
//     cut chosen so the two have about the same multiply-adds.
// The numbers are the one-thread numbers bit for bit: the gates and gate gradients of a row, and each
// column of b_grad (a sum over the batch in row order), are computed alone; the products are blocks whose
// bits match the whole product's. On AVX-512 the bench's two products run on the tile kernel (Note
// [unpacked dense products] in kernels/gemm.cc), where each element's sum has one order whatever the cut.
// Elsewhere they are OpenBLAS calls, and there the match is OpenBLAS's behaviour, not a law: measured over batch 2-200, cells 1-256 and inputs 0-100 (float32 and float64), column blocks of
// [B, K] x [K, 4H] and of [K, B] x [B, 4H] (transposed A) match when the cut is a multiple of 16 and 4H
// is too, so the pair needs cell % 4 == 0 and cuts on multiples of 16; blocks of the products with
// transposed B (x_grad and h_prev_grad) did not always match, so those stay whole.
// tests/test_rnn_pair.py checks the one- and two-thread bits.
constexpr int64_t kPairWork = int64_t(1) << 20;

// The caller's batch rows [0, cut) for the gates of a step that pairs, or 0 when it does not. A batch or
// K = I + P of one would make gemm call gemv, whose bits no gemm block matches.
int64_t pair_cut(const KernelCtx& c, const LstmDims& d) {
  const double work = double(d.batch) * double(4 * d.cell) * double(d.input + d.prev);
  if (c.threads < 2 || work < double(kPairWork) || work >= double(kStepWork) || d.cell % 4 != 0 ||
      d.input + d.prev < 2 || d.batch < 2)
    return 0;
  return d.batch / 2;
}

// Runs fn over the batch rows [0, B): on the calling thread when the step has one, else c.parallel_for.
template <class F>
void for_rows(const KernelCtx& c, int threads, int64_t B, int64_t cost_per_row, F&& fn) {
  if (threads <= 1) fn(int64_t(0), B);
  else c.parallel_for(B, cost_per_row, fn);
}

template <class T>
void sigmoid_n(const T* in, T* out, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    vecmath::sigmoid_f32(in, out, n);
  } else {
    for (int64_t k = 0; k < n; ++k) {  // the Sigmoid op's float64 formula
      const T e = std::exp(-std::abs(in[k])), s = T(1) / (T(1) + e);
      out[k] = in[k] >= 0 ? s : e * s;
    }
  }
}

template <class T>
void tanh_n(const T* in, T* out, int64_t n) {
  if constexpr (std::is_same_v<T, float>) vecmath::tanh_f32(in, out, n);
  else for (int64_t k = 0; k < n; ++k) out[k] = std::tanh(in[k]);
}

// Copies [x, h_prev] row by row into xh ([B, I + P]), rows [lo, hi) (all by default).
template <class T>
void concat_rows(const T* x, const T* h, T* xh, const LstmDims& d, int64_t lo = 0, int64_t hi = -1) {
  const int64_t K = d.input + d.prev;
  for (int64_t r = lo; r < (hi < 0 ? d.batch : hi); ++r) {
    std::memcpy(xh + r * K, x + r * d.input, sizeof(T) * d.input);
    std::memcpy(xh + r * K + d.input, h + r * d.prev, sizeof(T) * d.prev);
  }
}

void lstm_block_cell_kernel(KernelCtx& c) {
  const bool peep = c.attr<bool>("use_peephole");
  const LstmDims d = lstm_dims(c, peep);
  const double forget_bias = c.attr<double>("forget_bias"), clip = c.attr<double>("cell_clip");
  dispatch_float(c.in(0).dtype(), "LSTMBlockCell", [&](auto z) {
    using T = decltype(z);
    const DType dt = c.in(0).dtype();
    const int64_t B = d.batch, H = d.cell, K = d.input + d.prev;
    T* out[7];
    for (int i = 0; i < 7; ++i) out[i] = c.alloc(i, dt, {B, H}).template data<T>();
    T *i_o = out[0], *cs_o = out[1], *f_o = out[2], *o_o = out[3], *ci_o = out[4], *co_o = out[5], *h_o = out[6];
    Tensor xh_t(dt, {B, K}), icfo_t(dt, {B, 4 * H});
    T *xh = xh_t.data<T>(), *icfo = icfo_t.data<T>();
    const T *cs_prev = c.in(1).data<T>(), *bias = c.in(7).data<T>();
    const T *wci = peep ? c.in(4).data<T>() : nullptr, *wcf = peep ? c.in(5).data<T>() : nullptr,
            *wco = peep ? c.in(6).data<T>() : nullptr;
    const T fb = (T)forget_bias, lim = (T)clip;
    auto gates = [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        T* g = icfo + r * 4 * H;  // pre-activations i, ci, f, o; overwritten in place
        const T* cp = cs_prev + r * H;
        T *ir = i_o + r * H, *fr = f_o + r * H, *orr = o_o + r * H, *cir = ci_o + r * H, *csr = cs_o + r * H,
          *cor = co_o + r * H, *hr = h_o + r * H;
        for (int64_t k = 0; k < 4 * H; ++k) g[k] += bias[k];
        for (int64_t k = 0; k < H; ++k) g[2 * H + k] += fb;
        if (peep)
          for (int64_t k = 0; k < H; ++k) {
            g[k] += wci[k] * cp[k];
            g[2 * H + k] += wcf[k] * cp[k];
          }
        sigmoid_n(g, ir, H);
        tanh_n(g + H, cir, H);
        sigmoid_n(g + 2 * H, fr, H);
        for (int64_t k = 0; k < H; ++k) csr[k] = cir[k] * ir[k] + cp[k] * fr[k];
        if (lim > 0)
          for (int64_t k = 0; k < H; ++k) csr[k] = std::min(std::max(csr[k], -lim), lim);
        if (peep)
          for (int64_t k = 0; k < H; ++k) g[3 * H + k] += wco[k] * csr[k];
        sigmoid_n(g + 3 * H, orr, H);
        tanh_n(csr, cor, H);
        for (int64_t k = 0; k < H; ++k) hr[k] = cor[k] * orr[k];
      }
    };
    const T *x = c.in(0).data<T>(), *h = c.in(2).data<T>(), *w = c.in(3).data<T>();
    concat_rows(x, h, xh, d);
    if (const int64_t cut = pair_cut(c, d)) {  // Note [LSTM steps on a pair]
      const int64_t j = (2 * H + 8) / 16 * 16;
      run_pair([&] { gemm_cols(xh, w, icfo, B, 4 * H, K, false, false, 0, j); },
               [&] { gemm_cols(xh, w, icfo, B, 4 * H, K, false, false, j, 4 * H); });
      run_pair([&] { gates(0, cut); }, [&] { gates(cut, B); });
      return;
    }
    if (B == 0 || H == 0) return;
    const int nt = step_threads(c, B, 4 * H, K);
    gemm(xh, w, icfo, B, 4 * H, K, false, false, nt);
    for_rows(c, nt, B, 40 * H, gates);
  });
}

// The gradient is one LSTMBlockCellGradFused node: TF's LSTMBlockCellGrad (the gate gradients) and the
// products, slices and bias sum TF's _LSTMBlockCellGrad builds around it, in one kernel (Note [LSTM
// block cell gradient]). Gradients reaching i, f, o, ci, co are ignored (Note [LSTM block cell]).
std::vector<Output> lstm_block_cell_grad(GradCtx& g) {
  AttrMap at;
  at["use_peephole"] = g.node.attrs.get_or<bool>("use_peephole", false);
  at["cell_clip"] = g.node.attrs.get_or<double>("cell_clip", -1.0);
  at["x_grad"] = g.wants(0);
  at["w_grad"] = g.wants(3) || g.wants(7);
  std::vector<Output> in(g.node.inputs.begin(), g.node.inputs.end());
  for (int i = 0; i < 6; ++i) in.push_back(g.y(i));  // i, cs, f, o, ci, co
  in.push_back(g.g(1));                               // cs_grad
  in.push_back(g.g(6));                               // h_grad
  std::vector<Output> d = g.b.op("LSTMBlockCellGradFused", in, at);
  if (!g.wants(0)) d[0] = Output{};
  if (!g.wants(3) && !g.wants(7)) d[3] = d[7] = Output{};
  return d;
}

REGISTER_OP("LSTMBlockCell").inputs(8).expensive().exact_grads().shape(lstm_block_cell_shape).cpu(lstm_block_cell_kernel)
    .grad(lstm_block_cell_grad);

// Note [LSTM block cell gradient]
// LSTMBlockCellGradFused(x, cs_prev, h_prev, w, wci, wcf, wco, b, i, cs, f, o, ci, co, cs_grad, h_grad)
//   -> the gradients of the eight inputs of LSTMBlockCell, in their order.
// With the derivatives of Note [LSTM block cell], per unit:
//   do  = h_grad co o (1 - o)                 dcs = (h_grad o (1 - co^2) + cs_grad [+ do wco]) * [not clipped]
//   di  = dcs ci i (1 - i)    df = dcs cs_prev f (1 - f)    dci = dcs i (1 - ci^2)
//   cs_prev_grad = dcs f [+ di wci + df wcf]   peephole grads: the products summed over the batch
// (TF's LSTMBlockCellGrad computes these; where cell_clip clipped cs its gradient stops, as through the
// composite's clip_by_value, where TF's kernel passes it on). Then, with dicfo = [di, dci, df, do]:
//   [x_grad, h_prev_grad] = dicfo w^T      w_grad = [x, h_prev]^T dicfo      b_grad = sum_batch dicfo
// TF builds those as MatMul, Slice, ConcatV2 and BiasAddGrad nodes; here they are gemm calls on the
// rows of w (no slice copies), one node per step. Inside dynamic_rnn's loop that is one node to run per
// step of the backward loop. Attributes x_grad and w_grad (set when the gradient driver needs them)
// skip the product for x (a placeholder's sequence needs none) or for w and b (frozen weights); a
// skipped output is an empty tensor.
void lstm_block_cell_grad_shape(InferCtx& c) {
  int64_t B, H;
  lstm_check_shapes(c, &B, &H);
  for (int i = 8; i < 16; ++i) c.expect_same_dtype(0, i);
  const DType dt = c.dtype(0);
  auto like = [&](int i, bool wanted) { c.set_output(i, dt, wanted ? c.shape(i) : PartialShape(Dims{0})); };
  like(0, c.attr<bool>("x_grad"));
  c.set_output(1, dt, PartialShape(Dims{B, H}));
  like(2, true);
  like(3, c.attr<bool>("w_grad"));
  for (int i = 4; i < 7; ++i) like(i, true);
  like(7, c.attr<bool>("w_grad"));
}

// One batch row of the gate gradients; Peep and Clip are template arguments so the loop over the cell's
// units has no branches and vectorizes.
template <class T, bool Peep, bool Clip>
void lstm_grad_row(int64_t H, T lim, const T* __restrict ig, const T* __restrict cs_prev, const T* __restrict fg,
                   const T* __restrict og, const T* __restrict ci, const T* __restrict co, const T* __restrict dcs_in,
                   const T* __restrict dh, const T* __restrict wci, const T* __restrict wcf, const T* __restrict wco,
                   T* __restrict dcs_prev, T* __restrict gr) {
  for (int64_t k = 0; k < H; ++k) {
    const T i = ig[k], f = fg[k], o = og[k], c = ci[k], tc = co[k], cp = cs_prev[k];
    const T d_o = dh[k] * tc * o * (T(1) - o);
    T dc = dh[k] * o * (T(1) - tc * tc) + dcs_in[k];
    if constexpr (Peep) dc += d_o * wco[k];
    if constexpr (Clip) {
      const T u = c * i + cp * f;  // cs before clipping
      dc = (u < -lim || u > lim) ? T(0) : dc;
    }
    const T di = dc * c * i * (T(1) - i), df = dc * cp * f * (T(1) - f);
    T dprev = dc * f;
    if constexpr (Peep) dprev += di * wci[k] + df * wcf[k];
    dcs_prev[k] = dprev;
    gr[k] = di;
    gr[H + k] = dc * i * (T(1) - c * c);
    gr[2 * H + k] = df;
    gr[3 * H + k] = d_o;
  }
}

void lstm_block_cell_grad_kernel(KernelCtx& c) {
  const bool peep = c.attr<bool>("use_peephole"), want_x = c.attr<bool>("x_grad"), want_w = c.attr<bool>("w_grad");
  const double clip = c.node.attrs.get_or<double>("cell_clip", -1.0);
  const LstmDims d = lstm_dims(c, peep);
  for (int i = 8; i < 16; ++i)
    if (c.in(i).dims() != Dims{d.batch, d.cell})
      c.fail("the cell's values and their gradients must be [" + std::to_string(d.batch) + ", " +
             std::to_string(d.cell) + "], got " + c.in(i).summary() + " for input " + std::to_string(i));
  dispatch_float(c.in(0).dtype(), "LSTMBlockCellGradFused", [&](auto z) {
    using T = decltype(z);
    const DType dt = c.in(0).dtype();
    const int64_t B = d.batch, H = d.cell, I = d.input, P = d.prev, K = I + P;
    const T *x = c.in(0).data<T>(), *cs_prev = c.in(1).data<T>(), *h_prev = c.in(2).data<T>(), *w = c.in(3).data<T>();
    const T *wci = peep ? c.in(4).data<T>() : nullptr, *wcf = peep ? c.in(5).data<T>() : nullptr,
            *wco = peep ? c.in(6).data<T>() : nullptr;
    const T *ig = c.in(8).data<T>(), *cs = c.in(9).data<T>(), *fg = c.in(10).data<T>(), *og = c.in(11).data<T>(),
            *ci = c.in(12).data<T>(), *co = c.in(13).data<T>(), *dcs_in = c.in(14).data<T>(),
            *dh = c.in(15).data<T>();
    T* dx = want_x ? c.alloc(0, dt, {B, I}).template data<T>() : (c.alloc(0, dt, {0}), nullptr);
    T* dcs_prev = c.alloc(1, dt, {B, H}).template data<T>();
    T* dh_prev = c.alloc(2, dt, {B, P}).template data<T>();
    T* dw = want_w ? c.alloc(3, dt, {K, 4 * H}).template data<T>() : (c.alloc(3, dt, {0}), nullptr);
    T* db = want_w ? c.alloc(7, dt, {4 * H}).template data<T>() : (c.alloc(7, dt, {0}), nullptr);
    T* dpeep[3];
    for (int i = 0; i < 3; ++i) {
      dpeep[i] = c.alloc(4 + i, dt, c.in(4 + i).dims()).template data<T>();
      std::fill(dpeep[i], dpeep[i] + c.in(4 + i).size(), T(0));
    }
    Tensor dicfo_t(dt, {B, 4 * H});
    T* dicfo = dicfo_t.data<T>();
    const T lim = (T)clip;
    auto row = peep ? (clip > 0 ? lstm_grad_row<T, true, true> : lstm_grad_row<T, true, false>)
                    : (clip > 0 ? lstm_grad_row<T, false, true> : lstm_grad_row<T, false, false>);
    auto gate_grads = [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t o = r * H;
        row(H, lim, ig + o, cs_prev + o, fg + o, og + o, ci + o, co + o, dcs_in + o, dh + o, wci, wcf, wco,
            dcs_prev + o, dicfo + 4 * o);
      }
    };
    // b_grad's columns [j0, j1): sums over the batch in row order.
    auto bias_grad = [&](int64_t j0, int64_t j1) {
      std::fill(db + j0, db + j1, T(0));
      for (int64_t r = 0; r < B; ++r) {
        const T* gr = dicfo + r * 4 * H;
        for (int64_t k = j0; k < j1; ++k) db[k] += gr[k];
      }
    };
    const int64_t cut = pair_cut(c, d);
    Tensor xh_t;
    T* xh = nullptr;
    if (dw) {
      xh_t = Tensor(dt, {B, K});
      xh = xh_t.data<T>();
    }
    const int nt = cut ? 1 : step_threads(c, B, 4 * H, K);
    if (cut) {  // Note [LSTM steps on a pair]
      auto rows = [&](int64_t lo, int64_t hi) {
        gate_grads(lo, hi);
        if (xh) concat_rows(x, h_prev, xh, d, lo, hi);
      };
      run_pair([&] { rows(0, cut); }, [&] { rows(cut, B); });
    } else {
      for_rows(c, nt, B, 20 * H, gate_grads);
    }
    if (peep)  // batch sums, in row order so results do not depend on the thread split
      for (int64_t r = 0; r < B; ++r) {
        const T* gr = dicfo + r * 4 * H;
        for (int64_t k = 0; k < H; ++k) {
          dpeep[0][k] += gr[k] * cs_prev[r * H + k];
          dpeep[1][k] += gr[2 * H + k] * cs_prev[r * H + k];
          dpeep[2][k] += gr[3 * H + k] * cs[r * H + k];
        }
      }
    if (B == 0 || H == 0) {  // empty products: BLAS leaves C alone
      if (dx) std::fill(dx, dx + B * I, T(0));
      std::fill(dh_prev, dh_prev + B * P, T(0));
      if (dw) std::fill(dw, dw + K * 4 * H, T(0));
      if (db) std::fill(db, db + 4 * H, T(0));
      return;
    }
    // [x_grad, h_prev_grad] = dicfo w^T: w's rows for x, then for h_prev, each read in place.
    auto input_grads = [&] {
      if (dx && I > 0) gemm(dicfo, w, dx, B, I, 4 * H, false, true, nt);
      if (P > 0) gemm(dicfo, w + I * 4 * H, dh_prev, B, P, 4 * H, false, true, nt);
    };
    if (cut && dw) {
      // The caller's columns [0, j) of w_grad even out the multiply-adds: it has B * 4H * (I' + P) for
      // the input gradients (I' = I when x_grad is wanted, else 0), the two share B * K * 4H.
      const int64_t in_cols = (dx ? I : 0) + P;
      const int64_t j = std::max<int64_t>(0, (4 * H * (K - in_cols) / (2 * K) + 8) / 16 * 16);
      run_pair(
          [&] {
            input_grads();
            gemm_cols(xh, dicfo, dw, K, 4 * H, B, true, false, 0, j);
            bias_grad(0, j);
          },
          [&] {
            gemm_cols(xh, dicfo, dw, K, 4 * H, B, true, false, j, 4 * H);
            bias_grad(j, 4 * H);
          });
      return;
    }
    input_grads();
    if (dw) {
      if (!cut) concat_rows(x, h_prev, xh, d);
      gemm(xh, dicfo, dw, K, 4 * H, B, true, false, nt);
      bias_grad(0, 4 * H);
    }
  });
}

REGISTER_OP("LSTMBlockCellGradFused").inputs(16).expensive().shape(lstm_block_cell_grad_shape)
    .cpu(lstm_block_cell_grad_kernel);

}  // namespace
}  // namespace tideflow
