// The LSTM cell's elementwise math, shared by LSTMBlockCell (rnn.cc) and the split step dynamic_rnn
// builds (rnn_sequence.cc): the gates of Note [LSTM block cell] and the gate gradients of Note [LSTM block
// cell gradient].
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/vector_math.h"
#include "op_registry.h"

namespace tideflow {
namespace lstm_math {

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

// The gates of Note [LSTM block cell] for batch rows [lo, hi): g holds the pre-activations ([B, 4H],
// overwritten); `bias` (4H) is added first when given. out: i, cs, f, o, ci, co, h.
template <class T>
void lstm_gates(int64_t lo, int64_t hi, int64_t H, T* icfo, const T* bias, const T* cs_prev, T fb, T lim,
                const T* wci, const T* wcf, const T* wco, T* const* out) {
  for (int64_t r = lo; r < hi; ++r) {
    T* g = icfo + r * 4 * H;
    const T* cp = cs_prev + r * H;
    T *ir = out[0] + r * H, *csr = out[1] + r * H, *fr = out[2] + r * H, *orr = out[3] + r * H,
      *cir = out[4] + r * H, *cor = out[5] + r * H, *hr = out[6] + r * H;
    if (bias)
      for (int64_t k = 0; k < 4 * H; ++k) g[k] += bias[k];
    for (int64_t k = 0; k < H; ++k) g[2 * H + k] += fb;
    if (wci)
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
    if (wco)
      for (int64_t k = 0; k < H; ++k) g[3 * H + k] += wco[k] * csr[k];
    sigmoid_n(g + 3 * H, orr, H);
    tanh_n(csr, cor, H);
    for (int64_t k = 0; k < H; ++k) hr[k] = cor[k] * orr[k];
  }
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

// The gate gradients of Note [LSTM block cell gradient] for all B rows: dicfo ([B, 4H]), dcs_prev, and
// the peephole weights' gradients (zeroed here; left alone without peepholes). The values are
// inputs `first` (i) to `first` + 7 (h_grad) of the kernel: i, cs, f, o, ci, co, cs_grad, h_grad.
template <class T>
void lstm_gate_grads(KernelCtx& c, int64_t B, int64_t H, const T* cs_prev, const T* wci, const T* wcf,
                     const T* wco, double clip, int first, T* dicfo, T* dcs_prev, T* const* dpeep) {
  const T *ig = c.in(first).data<T>(), *cs = c.in(first + 1).data<T>(), *fg = c.in(first + 2).data<T>(),
          *og = c.in(first + 3).data<T>(), *ci = c.in(first + 4).data<T>(), *co = c.in(first + 5).data<T>(),
          *dcs_in = c.in(first + 6).data<T>(), *dh = c.in(first + 7).data<T>();
  const bool peep = wci != nullptr;
  const T lim = (T)clip;
  auto row = peep ? (clip > 0 ? lstm_grad_row<T, true, true> : lstm_grad_row<T, true, false>)
                  : (clip > 0 ? lstm_grad_row<T, false, true> : lstm_grad_row<T, false, false>);
  c.parallel_for(B, 20 * H, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t o = r * H;
      row(H, lim, ig + o, cs_prev + o, fg + o, og + o, ci + o, co + o, dcs_in + o, dh + o, wci, wcf, wco,
          dcs_prev + o, dicfo + 4 * o);
    }
  });
  if (!peep) return;
  for (int i = 0; i < 3; ++i) std::fill(dpeep[i], dpeep[i] + H, T(0));
  for (int64_t r = 0; r < B; ++r) {  // batch sums in row order: results do not depend on the thread split
    const T* gr = dicfo + r * 4 * H;
    for (int64_t k = 0; k < H; ++k) {
      dpeep[0][k] += gr[k] * cs_prev[r * H + k];
      dpeep[1][k] += gr[2 * H + k] * cs_prev[r * H + k];
      dpeep[2][k] += gr[3 * H + k] * cs[r * H + k];
    }
  }
}

}  // namespace lstm_math
}  // namespace tideflow
