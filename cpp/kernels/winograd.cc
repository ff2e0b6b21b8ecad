// Winograd tile transforms (declared in winograd.h).
#include "kernels/winograd.h"

#include <cstring>

#include "kernels/tile_gemm.h"

namespace tideflow {
namespace winograd {
namespace {

// Note [Winograd transforms]
// The matrices are Toom-Cook's (Lavin & Gray's for F(2x2, 3x3): the points 0, 1, -1 and infinity).
// B^T and A^T hold small multiples of 1/2 and are exact in float32; G's thirds and fifteenths round once.
// Fewer multiplications cost accuracy: an output is a signed sum of transformed values several times
// larger than the direct sum's terms, so it rounds more. For F(2x2, 5x5) the points 0, 1, -1, 1/2, -2
// (and infinity) halve the error of the customary 0, 1, -1, 2, -2. Measured on 32 channels of [-1, 1]
// data against float64, largest error over the largest output: direct sums 2e-7, F(2x2, 3x3) 3e-7,
// F(2x2, 5x5) 1.5e-6 (F(4x4, 3x3), 4e-6, is not used).
//
// Each transform L X L^T is written once over a lane type V (a GCC vector of channels, or float for the
// last channels), with the matrix a compile-time constant: after unrolling, GCC drops the products by 0
// and folds those by +-1, so the code is the sums and scalings the matrix asks for. Like Note [tile
// products] it is compiled for AVX-512, AVX2 and any CPU, and the same choice of instruction set runs.
#define WG_INLINE __attribute__((always_inline)) inline

template <int P, int Q>
struct Mat {
  float v[P][Q];
};

template <int P, int Q>
constexpr Mat<Q, P> transpose(const Mat<P, Q>& a) {
  Mat<Q, P> t{};
  for (int i = 0; i < P; ++i)
    for (int j = 0; j < Q; ++j) t.v[j][i] = a.v[i][j];
  return t;
}

constexpr float k3 = 1.f / 3, k9 = 1.f / 9, k15 = 1.f / 15, k45 = 1.f / 45;

// One F(m x m, r x r): BT [t, t], G [t, r], AT [m, t].
template <int M, int R>
struct F;

template <>
struct F<2, 3> {
  static constexpr int t = 4;
  static constexpr Mat<4, 4> BT{{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}};
  static constexpr Mat<4, 3> G{{{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}}};
  static constexpr Mat<2, 4> AT{{{1, 1, 1, 0}, {0, 1, -1, -1}}};
};

// F(2x2, 5x5) on the points 0, 1, -1, 1/2, -2: half the rounding error of 0, 1, -1, 2, -2 (Note [Winograd
// transforms]).
template <>
struct F<2, 5> {
  static constexpr int t = 6;
  static constexpr Mat<6, 6> BT{{{1, -1.5f, -2, 1.5f, 1, 0},
                                 {0, -1, 0.5f, 2.5f, 1, 0},
                                 {0, 1, -2.5f, 0.5f, 1, 0},
                                 {0, -2, -1, 2, 1, 0},
                                 {0, 0.5f, -1, -0.5f, 1, 0},
                                 {0, 1, -1.5f, -2, 1.5f, 1}}};
  static constexpr Mat<6, 5> G{{{1, 0, 0, 0, 0},
                                {k3, k3, k3, k3, k3},
                                {-k3, k3, -k3, k3, -k3},
                                {-16 * k15, -8 * k15, -4 * k15, -2 * k15, -k15},
                                {k15, -2 * k15, 4 * k15, -8 * k15, 16 * k15},
                                {0, 0, 0, 0, 1}}};
  static constexpr Mat<2, 6> AT{{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 0.5f, -2, 1}}};
};

// F(3x3, 5x5) on the points 0, 1, -1, 1/2, -1/2, 2: 49 multiplications per 9 outputs where F(2x2, 5x5)
// does 36 per 4, for 1.6x its rounding error (the most accurate of the point sets tried; Note [Winograd
// transforms]). G's first row and B^T's are scaled by -1/2 and -2 from Toom-Cook's, so G starts with e_0.
template <>
struct F<3, 5> {
  static constexpr int t = 7;
  static constexpr Mat<7, 7> BT{{{1, -0.5f, -5, 2.5f, 4, -2, 0},
                                 {0, 0.5f, 0.25f, -2.25f, -1, 1, 0},
                                 {0, -0.5f, 0.75f, 1.75f, -3, 1, 0},
                                 {0, 1, 1.5f, -2, -1.5f, 1, 0},
                                 {0, -1, 2.5f, 0, -2.5f, 1, 0},
                                 {0, 0.25f, 0, -1.25f, 0, 1, 0},
                                 {0, -0.5f, 0.25f, 2.5f, -1.25f, -2, 1}}};
  static constexpr Mat<7, 5> G{{{1, 0, 0, 0, 0},
                                {-2 * k3, -2 * k3, -2 * k3, -2 * k3, -2 * k3},
                                {-2 * k9, 2 * k9, -2 * k9, 2 * k9, -2 * k9},
                                {16 * k9, 8 * k9, 4 * k9, 2 * k9, k9},
                                {16 * k15, -8 * k15, 4 * k15, -2 * k15, k15},
                                {2 * k45, 4 * k45, 8 * k45, 16 * k45, 32 * k45},
                                {0, 0, 0, 0, 1}}};
  static constexpr Mat<3, 7> AT{{{1, 1, 1, 1, 1, 1, 0}, {0, 1, -1, 0.5f, -0.5f, 2, 0}, {0, 1, 1, 0.25f, 0.25f, 4, 1}}};
};

// Where a transform reads and writes: element (a, b) of the input at in + a * irow + b * icol (zero past
// rows x cols), element (i, j) of the output at out + i * orow + j * ocol (only i < orows, j < ocols
// written), `lanes` channels contiguous from each.
struct Args {
  const float* in;
  int64_t irow, icol;
  int rows, cols;
  float* out;
  int64_t orow, ocol;
  int orows, ocols;
  int64_t lanes;
};

template <class V>
WG_INLINE V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V>
WG_INLINE void store(float* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

// Sum over k of L[i][k] * x(k), skipping L's zeros (after unrolling, a compile-time choice).
template <class V, int P, int Q, class X>
WG_INLINE V row_times(const Mat<P, Q>& L, int i, X&& x) {
  V s{};
  bool first = true;
#pragma GCC unroll 8
  for (int k = 0; k < Q; ++k)
    if (L.v[i][k] != 0) {
      s = first ? L.v[i][k] * x(k) : s + L.v[i][k] * x(k);
      first = false;
    }
  return s;
}

// out = L X L^T for the lanes at offset l, one column of X at a time and then one row of L X at a time,
// so few vectors are live at once. MASK: the input has fewer than Q x Q elements; CUT: the output may
// have fewer than P x P.
template <class V, int P, int Q, bool MASK, bool CUT>
WG_INLINE void sandwich(const Mat<P, Q>& L, const Args& a, int64_t l) {
  V t[P][Q];  // L X
#pragma GCC unroll 8
  for (int j = 0; j < Q; ++j) {
    V x[Q];
#pragma GCC unroll 8
    for (int k = 0; k < Q; ++k)
      x[k] = !MASK || (k < a.rows && j < a.cols) ? load<V>(a.in + k * a.irow + j * a.icol + l) : V{};
#pragma GCC unroll 8
    for (int i = 0; i < P; ++i) t[i][j] = row_times<V>(L, i, [&](int k) { return x[k]; });
  }
#pragma GCC unroll 8
  for (int i = 0; i < P; ++i) {
    if (CUT && i >= a.orows) break;
#pragma GCC unroll 8
    for (int j = 0; j < P; ++j) {
      if (CUT && j >= a.ocols) break;
      store<V>(a.out + i * a.orow + j * a.ocol + l, row_times<V>(L, j, [&](int k) { return t[i][k]; }));
    }
  }
}

template <class V, int P, int Q, bool MASK, bool CUT>
WG_INLINE void over_lanes(const Mat<P, Q>& L, const Args& a) {
  constexpr int W = sizeof(V) / sizeof(float);
  int64_t l = 0;
  for (; l + W <= a.lanes; l += W) sandwich<V, P, Q, MASK, CUT>(L, a, l);
  for (; l < a.lanes; ++l) sandwich<float, P, Q, MASK, CUT>(L, a, l);
}

enum Kind { kInput, kFilter, kOutput, kOutputGrad, kFilterGrad };

template <class V, int M, int R, Kind K>
WG_INLINE void transform(const Args& a) {
  using Fm = F<M, R>;
  constexpr int t = Fm::t;
  if constexpr (K == kInput) over_lanes<V, t, t, false, false>(Fm::BT, a);
  if constexpr (K == kFilter) over_lanes<V, t, R, false, false>(Fm::G, a);
  if constexpr (K == kOutput) over_lanes<V, M, t, false, true>(Fm::AT, a);
  if constexpr (K == kOutputGrad) {
    static constexpr Mat<t, M> A = transpose(Fm::AT);
    over_lanes<V, t, M, true, false>(A, a);
  }
  if constexpr (K == kFilterGrad) {
    static constexpr Mat<R, t> GT = transpose(Fm::G);
    over_lanes<V, R, t, false, false>(GT, a);
  }
}

template <int W>
struct Lanes {
  typedef float type __attribute__((vector_size(4 * W)));
};

using Fn = void (*)(const Args&);

template <int M, int R, Kind K>
void portable(const Args& a) {
  transform<Lanes<4>::type, M, R, K>(a);
}
#if defined(__x86_64__)
template <int M, int R, Kind K>
__attribute__((target("avx2,fma"))) void avx2(const Args& a) {
  transform<Lanes<8>::type, M, R, K>(a);
}
template <int M, int R, Kind K>
__attribute__((target("avx512f"))) void avx512(const Args& a) {
  transform<Lanes<16>::type, M, R, K>(a);
}
#endif

template <int M, int R, Kind K>
Fn for_isa() {
#if defined(__x86_64__)
  switch (tilegemm::isa()) {
    case tilegemm::Isa::Avx512: return avx512<M, R, K>;
    case tilegemm::Isa::Avx2: return avx2<M, R, K>;
    case tilegemm::Isa::Portable: break;
  }
#endif
  return portable<M, R, K>;
}

template <Kind K>
void run(int m, int r, const Args& a) {
  static const Fn f23 = for_isa<2, 3, K>(), f25 = for_isa<2, 5, K>(), f35 = for_isa<3, 5, K>();
  (r == 3 ? f23 : m == 3 ? f35 : f25)(a);
}

}  // namespace

bool supported(int m, int r) { return (m == 2 && (r == 3 || r == 5)) || (m == 3 && r == 5); }

void input(int m, int r, const float* d, int64_t row, int64_t col, int64_t lanes, float* v, int64_t v_stride) {
  const int t = tile(m, r);
  run<kInput>(m, r, Args{d, row, col, t, t, v, t * v_stride, v_stride, t, t, lanes});
}

void filter(int m, int r, const float* g, int64_t lanes, float* u) {
  const int t = tile(m, r);
  run<kFilter>(m, r, Args{g, r * lanes, lanes, r, r, u, t * lanes, lanes, t, t, lanes});
}

void output(int m, int r, const float* mm, int64_t m_stride, int64_t lanes, float* y, int64_t row, int64_t col,
            int rows, int cols) {
  const int t = tile(m, r);
  run<kOutput>(m, r, Args{mm, t * m_stride, m_stride, t, t, y, row, col, rows, cols, lanes});
}

void output_grad(int m, int r, const float* dy, int64_t row, int64_t col, int rows, int cols, int64_t lanes,
                 float* out, int64_t out_stride) {
  const int t = tile(m, r);
  run<kOutputGrad>(m, r, Args{dy, row, col, rows, cols, out, t * out_stride, out_stride, t, t, lanes});
}

void filter_grad(int m, int r, const float* du, int64_t lanes, float* dg) {
  const int t = tile(m, r);
  run<kFilterGrad>(m, r, Args{du, t * lanes, lanes, t, t, dg, r * lanes, lanes, r, r, lanes});
}

}  // namespace winograd
}  // namespace tideflow
