// dynamic_rnn's LSTM step split in two (Note [LSTM sequence products]): LSTMBlockInputProjection, the inputs'
// share of every step's product as one product before the loop, and LSTMBlockCellRecurrent, the step on
// it; with their gradient ops, which make the weight gradient as one product after the loop.
#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/gemm.h"
#include "op_registry.h"
#include "ops/lstm_math.h"

namespace tideflow {
namespace {

using namespace lstm_math;

// Note [LSTM sequence products]
// dynamic_rnn over an LSTM cell (rnn.py, Note [hoisted LSTM inputs]) splits LSTMBlockCell's product
// [x, h_prev] w into the part that does not depend on the recurrence and the part that does, so that
// the first runs as one product over all time steps, outside the loop, and so does the weight gradient,
// as TF's LSTMBlockFusedCell (BlockLSTM, BlockLSTMGrad) computes them:
//   before the loop  p = LSTMBlockInputProjection(x [T, B, I], w, b) = x w[:I] + b        [T, B, 4H]
//   step t           LSTMBlockCellRecurrent(p[t], cs_prev, h_prev, w, wci, wcf, wco): the gates of
//                    Note [LSTM block cell] on p[t] + h_prev w[I:]
// Backward, each step's LSTMBlockCellRecurrentGrad gives dicfo_t as the gradient of p[t] (the loop
// assembles them row by row into dp, [T, B, 4H]) and dh_prev = dicfo_t w[I:]^T; the step leaves w alone
// (attribute w_grad_outside). The projection's gradient then makes all of w's gradient at once:
//   dw[:I] = x^T dp,  dw[I:] = h_prevs^T dp,  db = sum dp,  dx = dp w[:I]^T     (products with K = T B)
// where h_prevs [T, B, P] is each step's h_prev, a value the loop stacks for it; the projection's
// attribute h_prev_stacked names which of its While consumer's stacked outputs. That replaces T products
// with K = B and a sum of T weight gradients in the backward loop by two products over K = T B. Standalone
// (h_prev_stacked = -1, or the step op without w_grad_outside) each op's gradient is complete by itself,
// which the op-table rows check by finite differences.

// ---- LSTMBlockInputProjection(x [T, B, I], w [I + P, 4H], b [4H]) -> p [T, B, 4H] = x w[:I] + b -------
void lstm_input_projection_shape(InferCtx& c) {
  c.expect_same_dtype(0, 1);
  c.expect_same_dtype(0, 2);
  if (!is_floating(c.dtype(0)))
    c.type_fail(std::string("LSTMBlockInputProjection needs float32 or float64 inputs, got ") +
                dtype_name(c.dtype(0)));
  const PartialShape &x = c.shape(0), &w = c.shape(1), &b = c.shape(2);
  if ((x.known_rank && x.rank() != 3) || (w.known_rank && w.rank() != 2) || (b.known_rank && b.rank() != 1))
    c.fail("x must be [time, batch, input], w a matrix and b a vector, got " + x.str() + ", " + w.str() + ", " +
           b.str());
  const int64_t I = x.known_rank ? x.dims[2] : -1, K = w.known_rank ? w.dims[0] : -1,
                G = w.known_rank ? w.dims[1] : -1, nb = b.known_rank ? b.dims[0] : -1;
  if (G >= 0 && G % 4) c.fail("w must have 4 * cell_size columns, got " + std::to_string(G));
  if (G >= 0 && nb >= 0 && G != nb) c.fail("b must have w's " + std::to_string(G) + " elements, got " + b.str());
  if (I >= 0 && K >= 0 && K < I)
    c.fail("w must have at least input_size = " + std::to_string(I) + " rows, got " + std::to_string(K));
  c.set_output(0, c.dtype(0), PartialShape(Dims{x.known_rank ? x.dims[0] : -1, x.known_rank ? x.dims[1] : -1,
                                                G >= 0 ? G : nb}));
}

void lstm_input_projection_kernel(KernelCtx& c) {
  const Tensor &x = c.in(0), &w = c.in(1), &b = c.in(2);
  if (x.rank() != 3 || w.rank() != 2 || b.rank() != 1 || w.dim(1) != b.dim(0) || w.dim(0) < x.dim(2))
    c.fail("x must be [time, batch, input], w [input + h_prev's size, 4 * cell_size] and b [4 * cell_size], got " +
           x.summary() + ", " + w.summary() + ", " + b.summary());
  dispatch_float(x.dtype(), "LSTMBlockInputProjection", [&](auto z) {
    using T = decltype(z);
    const int64_t R = x.dim(0) * x.dim(1), I = x.dim(2), G = w.dim(1);
    T* p = c.alloc(0, x.dtype(), {x.dim(0), x.dim(1), G}).template data<T>();
    const T* bias = b.data<T>();
    for (int64_t r = 0; r < R; ++r) std::memcpy(p + r * G, bias, sizeof(T) * G);
    if (R > 0 && G > 0) gemm(x.data<T>(), w.data<T>(), p, R, G, I, false, false, c.threads, T(1), T(1));
  });
}

// LSTMBlockInputProjectionGrad(x, w, dp, h_prevs) -> dx, dw, db (Note [LSTM sequence products]); h_prevs is
// [T, B, P] with P = w's rows - I, or an empty vector when nothing recurrent feeds w's last rows (their
// gradient is then zero). Attributes x_grad and w_grad skip outputs nobody uses (an empty tensor).
void lstm_input_projection_grad_shape(InferCtx& c) {
  for (int i = 1; i < 4; ++i) c.expect_same_dtype(0, i);
  const DType dt = c.dtype(0);
  c.set_output(0, dt, c.attr<bool>("x_grad") ? c.shape(0) : PartialShape(Dims{0}));
  const bool w = c.attr<bool>("w_grad");
  c.set_output(1, dt, w ? c.shape(1) : PartialShape(Dims{0}));
  c.set_output(2, dt, w ? PartialShape(Dims{c.shape(1).known_rank ? c.shape(1).dims[1] : -1}) : PartialShape(Dims{0}));
}

void lstm_input_projection_grad_kernel(KernelCtx& c) {
  const Tensor &x = c.in(0), &w = c.in(1), &dp = c.in(2), &hs = c.in(3);
  const bool want_x = c.attr<bool>("x_grad"), want_w = c.attr<bool>("w_grad");
  if (x.rank() != 3 || w.rank() != 2 || w.dim(0) < x.dim(2) || dp.dims() != Dims{x.dim(0), x.dim(1), w.dim(1)})
    c.fail("x must be [time, batch, input], w [input + h_prev's size, 4 * cell_size] and p's gradient [time, "
           "batch, 4 * cell_size], got " + x.summary() + ", " + w.summary() + ", " + dp.summary());
  const int64_t T_ = x.dim(0), B = x.dim(1), I = x.dim(2), K = w.dim(0), G = w.dim(1), P = K - I, R = T_ * B;
  const bool recurrent = !(hs.rank() == 1 && hs.dim(0) == 0);
  if (recurrent && hs.dims() != Dims{T_, B, P})
    c.fail("the stacked h_prev must be [" + std::to_string(T_) + ", " + std::to_string(B) + ", " + std::to_string(P) +
           "] for this x and w, got " + hs.summary());
  dispatch_float(x.dtype(), "LSTMBlockInputProjectionGrad", [&](auto z) {
    using T = decltype(z);
    const DType dt = x.dtype();
    const T* d = dp.data<T>();
    if (want_x) {
      T* dx = c.alloc(0, dt, x.dims()).template data<T>();
      if (R > 0 && I > 0 && G > 0) gemm(d, w.data<T>(), dx, R, I, G, false, true, c.threads);
      else std::fill(dx, dx + R * I, T(0));
    } else {
      c.alloc(0, dt, {0});
    }
    if (!want_w) {
      c.alloc(1, dt, {0});
      c.alloc(2, dt, {0});
      return;
    }
    T* dw = c.alloc(1, dt, {K, G}).template data<T>();
    T* db = c.alloc(2, dt, {G}).template data<T>();
    if (R == 0 || G == 0) {  // empty products: BLAS leaves C alone
      std::fill(dw, dw + K * G, T(0));
    } else {
      if (I > 0) gemm(x.data<T>(), d, dw, I, G, R, true, false, c.threads);
      if (P > 0) {
        if (recurrent) gemm(hs.data<T>(), d, dw + I * G, P, G, R, true, false, c.threads);
        else std::fill(dw + I * G, dw + K * G, T(0));
      }
    }
    std::fill(db, db + G, T(0));
    for (int64_t r = 0; r < R; ++r)  // in row order: the sum does not depend on the thread split
      for (int64_t k = 0; k < G; ++k) db[k] += d[r * G + k];
  });
}

// The While node that slices p, and the stacked output of it that h_prev_stacked names.
Output stacked_h_prevs(GradCtx& g, int64_t q) {
  const Output p = g.y(0);
  for (const auto& n : g.node.graph->nodes()) {
    if (n->type() != "While") continue;
    const int64_t vars = n->attrs.get<int64_t>("num_vars"), sliced = n->attrs.get<int64_t>("num_sliced"),
                  stacked = n->attrs.get<int64_t>("num_stacked");
    for (int64_t r = vars; r < vars + sliced; ++r)
      if (n->inputs[r] == p) {
        if (q >= stacked) break;
        return n->out((int)(vars + q));
      }
  }
  throw value_error("op " + g.node.describe() + " names stacked output " + std::to_string(q) +
                    " of the while loop that slices it, and no loop slices it so (Note [LSTM sequence products])");
}

std::vector<Output> lstm_input_projection_grad(GradCtx& g) {
  const int64_t q = g.node.attrs.get_or<int64_t>("h_prev_stacked", -1);
  const DType dt = g.x(0).dtype();
  Output hs = q >= 0 ? stacked_h_prevs(g, q) : g.b.constant(Tensor(dt, {0}));
  AttrMap at;
  at["x_grad"] = g.wants(0);
  at["w_grad"] = g.wants(1) || g.wants(2);
  std::vector<Output> d = g.b.op("LSTMBlockInputProjectionGrad", {g.x(0), g.x(1), g.g(0), hs}, at);
  if (!g.wants(0)) d[0] = Output{};
  if (!g.wants(1) && !g.wants(2)) d[1] = d[2] = Output{};
  return d;
}

REGISTER_OP("LSTMBlockInputProjection").inputs(3).expensive().shape(lstm_input_projection_shape)
    .cpu(lstm_input_projection_kernel).grad(lstm_input_projection_grad);
REGISTER_OP("LSTMBlockInputProjectionGrad").inputs(4).expensive().shape(lstm_input_projection_grad_shape)
    .cpu(lstm_input_projection_grad_kernel);

// ---- LSTMBlockCellRecurrent(p, cs_prev, h_prev, w, wci, wcf, wco) -> i, cs, f, o, ci, co, h ----------
// LSTMBlockCell with x w[:I] + b given as p ([B, 4H]); the product is h_prev w[I:], w's last P rows.
struct RecDims {
  int64_t batch, prev, cell, rows;
};

// Checks p, cs_prev, h_prev, w, wci, wcf, wco when known (the gradient op has no p: `at` is cs_prev's index,
// 1 in the step, 0 in its gradient); fills the batch and cell sizes when known.
void lstm_recurrent_check_shapes(InferCtx& c, int at, int64_t* batch, int64_t* cell) {
  const int n = at + 6;
  for (int i = 1; i < n; ++i) c.expect_same_dtype(0, i);
  if (!is_floating(c.dtype(0)))
    c.type_fail(std::string("LSTMBlockCellRecurrent needs float32 or float64 inputs, got ") + dtype_name(c.dtype(0)));
  static const char* names[] = {"p", "cs_prev", "h_prev", "w", "wci", "wcf", "wco"};
  static const int ranks[] = {2, 2, 2, 2, 1, 1, 1};
  const int off = 1 - at;  // names[i + off] is input i's
  for (int i = 0; i < n; ++i)
    if (c.shape(i).known_rank && c.shape(i).rank() != ranks[i + off])
      c.fail(std::string(names[i + off]) + " must be rank " + std::to_string(ranks[i + off]) + " but is rank " +
             std::to_string(c.shape(i).rank()));
  auto dim = [&](int i, int d) { return c.shape(i).known_rank ? c.shape(i).dims[d] : int64_t(-1); };
  auto agree = [&](int64_t& v, int64_t d, const std::string& what) {
    if (d < 0) return;
    if (v >= 0 && v != d) c.fail(what + ": dimensions must agree, got " + std::to_string(v) + " and " + std::to_string(d));
    v = d;
  };
  const int cs = at, h = at + 1, w = at + 2;
  int64_t B = -1, G = -1, H = -1;
  if (at == 1) {
    agree(B, dim(0, 0), "batch size of p and cs_prev");
    agree(G, dim(0, 1), "columns of p and w");
  }
  agree(B, dim(cs, 0), "batch size of p and cs_prev");
  agree(B, dim(h, 0), "batch size of cs_prev and h_prev");
  agree(G, dim(w, 1), "columns of p and w");
  if (G >= 0 && G % 4) c.fail("p and w must have 4 * cell_size columns, got " + std::to_string(G));
  agree(H, dim(cs, 1), "cell size of cs_prev and w");
  agree(H, G >= 0 ? G / 4 : -1, "cell size of cs_prev and w");
  if (dim(h, 1) >= 0 && dim(w, 0) >= 0 && dim(w, 0) < dim(h, 1))
    c.fail("w must have at least h_prev's " + std::to_string(dim(h, 1)) + " rows, got " + std::to_string(dim(w, 0)));
  if (c.attr<bool>("use_peephole"))
    for (int i = w + 1; i < n; ++i) agree(H, dim(i, 0), std::string("cell size of cs_prev and ") + names[i + off]);
  *batch = B;
  *cell = H;
}

void lstm_recurrent_shape(InferCtx& c) {
  int64_t B, H;
  lstm_recurrent_check_shapes(c, 1, &B, &H);
  for (int i = 0; i < 7; ++i) c.set_output(i, c.dtype(0), PartialShape(Dims{B, H}));
}

// The runtime checks: `at` is cs_prev's input index as in lstm_recurrent_check_shapes.
RecDims lstm_recurrent_dims(const KernelCtx& c, int at, bool peephole) {
  const Tensor &cs = c.in(at), &h = c.in(at + 1), &w = c.in(at + 2);
  if (cs.rank() != 2 || h.rank() != 2 || w.rank() != 2 || (at == 1 && c.in(0).rank() != 2))
    c.fail("p, cs_prev, h_prev and w must be matrices, got " + (at == 1 ? c.in(0).summary() + ", " : "") +
           cs.summary() + ", " + h.summary() + ", " + w.summary());
  RecDims d{cs.dim(0), h.dim(1), cs.dim(1), w.dim(0)};
  if ((at == 1 && c.in(0).dims() != Dims{d.batch, 4 * d.cell}) || h.dim(0) != d.batch || w.dim(1) != 4 * d.cell ||
      d.rows < d.prev)
    c.fail("p must be [batch, 4 * cell_size], h_prev [batch, P] and w [at least P, 4 * cell_size] for cs_prev " +
           cs.summary() + "; got " + (at == 1 ? c.in(0).summary() + ", " : "") + h.summary() + ", " + w.summary());
  if (peephole)
    for (int i = at + 3; i < at + 6; ++i)
      if (c.in(i).rank() != 1 || c.in(i).dim(0) != d.cell)
        c.fail("peephole weights must be [" + std::to_string(d.cell) + "], got " + c.in(i).summary());
  return d;
}

void lstm_recurrent_kernel(KernelCtx& c) {
  const bool peep = c.attr<bool>("use_peephole");
  const RecDims d = lstm_recurrent_dims(c, 1, peep);
  const double forget_bias = c.attr<double>("forget_bias"), clip = c.attr<double>("cell_clip");
  dispatch_float(c.in(0).dtype(), "LSTMBlockCellRecurrent", [&](auto z) {
    using T = decltype(z);
    const DType dt = c.in(0).dtype();
    const int64_t B = d.batch, H = d.cell, P = d.prev;
    T* out[7];
    for (int i = 0; i < 7; ++i) out[i] = c.alloc(i, dt, {B, H}).template data<T>();
    if (B == 0 || H == 0) return;
    // The product accumulates onto p, in p's own buffer when nothing else holds it (the loop's fresh row).
    Tensor icfo_t = c.inputs[0].unique() ? std::move(c.inputs[0]) : c.in(0).deep_copy();
    T* icfo = icfo_t.data<T>();
    if (P > 0)  // beta = 1: no zeroing pass over C, no bias pass
      gemm(c.in(2).data<T>(), c.in(3).data<T>() + (d.rows - P) * 4 * H, icfo, B, 4 * H, P, false, false, c.threads,
           T(1), T(1));
    const T *wci = peep ? c.in(4).data<T>() : nullptr, *wcf = peep ? c.in(5).data<T>() : nullptr,
            *wco = peep ? c.in(6).data<T>() : nullptr;
    const T* cs_prev = c.in(1).data<T>();
    c.parallel_for(B, 40 * H, [&](int64_t lo, int64_t hi) {
      lstm_gates<T>(lo, hi, H, icfo, nullptr, cs_prev, (T)forget_bias, (T)clip, wci, wcf, wco, out);
    });
  });
}

std::vector<Output> lstm_recurrent_grad(GradCtx& g) {
  const bool outside = g.node.attrs.get_or<bool>("w_grad_outside", false);
  AttrMap at;
  at["use_peephole"] = g.node.attrs.get_or<bool>("use_peephole", false);
  at["cell_clip"] = g.node.attrs.get_or<double>("cell_clip", -1.0);
  at["w_grad"] = !outside && g.wants(3);
  // p's value is not needed (its gradient is dicfo): the loop need not keep each step's row for it.
  std::vector<Output> in(g.node.inputs.begin() + 1, g.node.inputs.end());
  for (int i = 0; i < 6; ++i) in.push_back(g.y(i));  // i, cs, f, o, ci, co
  in.push_back(g.g(1));                               // cs_grad
  in.push_back(g.g(6));                               // h_grad
  std::vector<Output> d = g.b.op("LSTMBlockCellRecurrentGrad", in, at);
  if (outside || !g.wants(3)) d[3] = Output{};  // outside: the projection's gradient makes it
  return d;
}

REGISTER_OP("LSTMBlockCellRecurrent").inputs(7).expensive().shape(lstm_recurrent_shape).cpu(lstm_recurrent_kernel)
    .grad(lstm_recurrent_grad);

// LSTMBlockCellRecurrentGrad(cs_prev, h_prev, w, wci, wcf, wco, i, cs, f, o, ci, co, cs_grad, h_grad)
//   -> dp (= dicfo), dcs_prev, dh_prev = dicfo w[I:]^T, dw (zeros in the first I rows, h_prev^T dicfo in
//   the rest; an empty tensor without attribute w_grad), dwci, dwcf, dwco.
void lstm_recurrent_grad_shape(InferCtx& c) {
  int64_t B, H;
  lstm_recurrent_check_shapes(c, 0, &B, &H);
  for (int i = 6; i < 14; ++i) c.expect_same_dtype(0, i);
  const DType dt = c.dtype(0);
  c.set_output(0, dt, PartialShape(Dims{B, H >= 0 ? 4 * H : -1}));
  c.set_output(1, dt, PartialShape(Dims{B, H}));
  c.set_output(2, dt, c.shape(1));
  c.set_output(3, dt, c.attr<bool>("w_grad") ? c.shape(2) : PartialShape(Dims{0}));
  for (int i = 4; i < 7; ++i) c.set_output(i, dt, c.shape(i - 1));
}

void lstm_recurrent_grad_kernel(KernelCtx& c) {
  const bool peep = c.attr<bool>("use_peephole"), want_w = c.attr<bool>("w_grad");
  const double clip = c.node.attrs.get_or<double>("cell_clip", -1.0);
  const RecDims d = lstm_recurrent_dims(c, 0, peep);
  for (int i = 6; i < 14; ++i)
    if (c.in(i).dims() != Dims{d.batch, d.cell})
      c.fail("the cell's values and their gradients must be [" + std::to_string(d.batch) + ", " +
             std::to_string(d.cell) + "], got " + c.in(i).summary() + " for input " + std::to_string(i));
  dispatch_float(c.in(0).dtype(), "LSTMBlockCellRecurrentGrad", [&](auto z) {
    using T = decltype(z);
    const DType dt = c.in(0).dtype();
    const int64_t B = d.batch, H = d.cell, P = d.prev, K = d.rows;
    const T *h_prev = c.in(1).data<T>(), *w = c.in(2).data<T>() + (K - P) * 4 * H;
    const T *wci = peep ? c.in(3).data<T>() : nullptr, *wcf = peep ? c.in(4).data<T>() : nullptr,
            *wco = peep ? c.in(5).data<T>() : nullptr;
    T* dicfo = c.alloc(0, dt, {B, 4 * H}).template data<T>();
    T* dcs_prev = c.alloc(1, dt, {B, H}).template data<T>();
    T* dh_prev = c.alloc(2, dt, {B, P}).template data<T>();
    T* dw = want_w ? c.alloc(3, dt, {K, 4 * H}).template data<T>() : (c.alloc(3, dt, {0}), nullptr);
    T* dpeep[3];
    for (int i = 0; i < 3; ++i) {
      dpeep[i] = c.alloc(4 + i, dt, c.in(3 + i).dims()).template data<T>();
      std::fill(dpeep[i], dpeep[i] + c.in(3 + i).size(), T(0));
    }
    lstm_gate_grads<T>(c, B, H, c.in(0).data<T>(), wci, wcf, wco, clip, 6, dicfo, dcs_prev, dpeep);
    if (dw) std::fill(dw, dw + K * 4 * H, T(0));
    if (B == 0 || H == 0 || P == 0) {  // empty products: BLAS leaves C alone
      std::fill(dh_prev, dh_prev + B * P, T(0));
      return;
    }
    gemm(dicfo, w, dh_prev, B, P, 4 * H, false, true, c.threads);
    if (dw) gemm(h_prev, dicfo, dw + (K - P) * 4 * H, P, 4 * H, B, true, false, c.threads);
  });
}

REGISTER_OP("LSTMBlockCellRecurrentGrad").inputs(14).expensive().shape(lstm_recurrent_grad_shape)
    .cpu(lstm_recurrent_grad_kernel);

}  // namespace
}  // namespace tideflow
