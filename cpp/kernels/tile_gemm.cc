// Float32 tile products (declared in tile_gemm.h).
#include "kernels/tile_gemm.h"

#include <cstdlib>
#include <cstring>

namespace tideflow {
namespace tilegemm {
namespace {

// Note [tile products]
// A convolution tile multiplies a patch tile [rows, K] by the filter [K, OC] with OC often 32 or 64; its
// gradients multiply dY [rows, OC] by the filter's transpose, and the patches' transpose by dY; Winograd
// convolutions multiply transformed tiles [tiles, C] by transformed filters [C, OC]. OpenBLAS packs both
// operands on every call; with so few output columns the packing of a patch tile costs about as much as
// the product (measured: a [25088, 576] x [576, 64] sgemm ran at 37% of the speed of a square one). This
// kernel packs nothing: an MR x (NV vectors) block of C lives in registers while the loop over k
// broadcasts MR values of A (from MR rows, or from one row of a transposed A) and loads NV vectors of B,
// the usual register blocking of BLAS micro-kernels. k runs in chunks of 256 so a chunk of B's columns
// stays in cache while the row blocks go by. Rows are split into blocks of as equal sizes as possible
// (14 rows run as 5 + 5 + 4, not 6 + 6 + 2: a thin block is load-bound).
//
// The kernel is written once over a GCC vector type V of W floats, as Note [vector math] does, and
// compiled three times: W = 16 for AVX-512 (32 registers: 6 x 4 accumulators), W = 8 for AVX2 + FMA
// (16 registers: 6 x 2), W = 4 for any CPU (SSE2 on x86-64, NEON elsewhere); the widest the CPU has runs.
// Each element of C sums its products in k order within a chunk, then adds the chunk to C, whatever W
// is: AVX-512 and AVX2 give the same bits (both fuse a * b + c); the portable build rounds a * b
// separately. Columns past the last whole vector go through a zero-padded copy of B's columns and a
// local block of C, so no load or store leaves the operands.
#define TG_INLINE __attribute__((always_inline)) inline

template <int W>
struct Lanes {
  typedef float type __attribute__((vector_size(4 * W)));
};

template <class V>
TG_INLINE V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V>
TG_INLINE void store(float* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

// Where A's elements are: A(i, p) is at row(i)[p] without trans_a and at row(p)[i] with it, row(q) being
// a + q * lda, or a + off[q] when an offset table is given (rows that are not evenly spaced).
struct AView {
  const float* a;
  int64_t lda;
  const int64_t* off;
  const float* row(int64_t q) const { return off ? a + off[q] : a + q * lda; }
};

constexpr int kMR = 6;
constexpr int64_t kKC = 256;

// C[MR, NV * W] (+)= rows i0.. of op(A) over k in [p0, p0 + kc) x B's rows p0.. (b points at row p0).
// Accumulators start at zero and C is added at the end: a conditional start keeps GCC from holding them
// in registers.
template <class V, int MR, int NV, bool TA>
TG_INLINE void micro(int64_t kc, const AView& A, int64_t i0, int64_t p0, const float* b, int64_t ldb, float* c,
                     int64_t ldc, bool acc) {
  constexpr int W = sizeof(V) / sizeof(float);
  const float* rows[MR];
  if (!TA)
    for (int i = 0; i < MR; ++i) rows[i] = A.row(i0 + i) + p0;
  V r[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) r[i][v] = V{};
  for (int64_t p = 0; p < kc; ++p) {
    const float* bp = b + p * ldb;
    V bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = load<V>(bp + W * v);
    const float* ap = TA ? A.row(p0 + p) + i0 : nullptr;
    for (int i = 0; i < MR; ++i) {
      const float s = TA ? ap[i] : rows[i][p];
      for (int v = 0; v < NV; ++v) r[i][v] += s * bv[v];
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) {
      float* cp = c + i * ldc + W * v;
      store(cp, acc ? r[i][v] + load<V>(cp) : r[i][v]);
    }
}

// micro for a row block of mr <= kMR rows.
template <class V, int NV, bool TA>
TG_INLINE void block(int mr, int64_t kc, const AView& A, int64_t i0, int64_t p0, const float* b, int64_t ldb, float* c,
                     int64_t ldc, bool acc) {
  switch (mr) {
    case 6: return micro<V, 6, NV, TA>(kc, A, i0, p0, b, ldb, c, ldc, acc);
    case 5: return micro<V, 5, NV, TA>(kc, A, i0, p0, b, ldb, c, ldc, acc);
    case 4: return micro<V, 4, NV, TA>(kc, A, i0, p0, b, ldb, c, ldc, acc);
    case 3: return micro<V, 3, NV, TA>(kc, A, i0, p0, b, ldb, c, ldc, acc);
    case 2: return micro<V, 2, NV, TA>(kc, A, i0, p0, b, ldb, c, ldc, acc);
    default: return micro<V, 1, NV, TA>(kc, A, i0, p0, b, ldb, c, ldc, acc);
  }
}

// Calls fn(i, mr) for the row blocks of m rows.
template <class Fn>
TG_INLINE void row_blocks(int64_t m, Fn&& fn) {
  const int64_t blocks = (m + kMR - 1) / kMR, base = m / blocks, extra = m % blocks;
  for (int64_t blk = 0, i = 0; blk < blocks; ++blk) {
    const int mr = (int)(base + (blk < extra ? 1 : 0));
    fn(i, mr);
    i += mr;
  }
}

// All rows of C's columns [0, NV * W) (b and c point at the first column).
template <class V, int NV, bool TA>
TG_INLINE void columns(int64_t m, int64_t kc, const AView& A, int64_t p0, const float* b, int64_t ldb, float* c,
                       int64_t ldc, bool acc) {
  row_blocks(m, [&](int64_t i, int mr) { block<V, NV, TA>(mr, kc, A, i, p0, b, ldb, c + i * ldc, ldc, acc); });
}

// All rows of C's last `w` < W columns, through a zero-padded copy of B's columns and a local C block.
template <class V, bool TA>
TG_INLINE void column_tail(int64_t m, int w, int64_t kc, const AView& A, int64_t p0, const float* b, int64_t ldb,
                           float* c, int64_t ldc, bool acc) {
  constexpr int W = sizeof(V) / sizeof(float);
  alignas(64) float panel[kKC * W];
  alignas(64) float local[kMR * W];
  for (int64_t p = 0; p < kc; ++p) {
    std::memcpy(panel + p * W, b + p * ldb, (size_t)w * sizeof(float));
    std::memset(panel + p * W + w, 0, (size_t)(W - w) * sizeof(float));
  }
  row_blocks(m, [&](int64_t i, int mr) {
    if (acc)
      for (int r = 0; r < mr; ++r) std::memcpy(local + r * W, c + (i + r) * ldc, (size_t)w * sizeof(float));
    block<V, 1, TA>(mr, kc, A, i, p0, panel, W, local, W, acc);
    for (int r = 0; r < mr; ++r) std::memcpy(c + (i + r) * ldc, local + r * W, (size_t)w * sizeof(float));
  });
}

// The whole product on vectors V, at most kNV of them per block of C.
template <class V, int kNV, bool TA>
TG_INLINE void product(int64_t m, int64_t n, int64_t k, const AView& A, const float* b, int64_t ldb, float* c,
                       int64_t ldc, bool accumulate) {
  constexpr int W = sizeof(V) / sizeof(float);
  for (int64_t k0 = 0; k0 < k; k0 += kKC) {
    const int64_t kc = k - k0 < kKC ? k - k0 : kKC;
    const bool acc = accumulate || k0 > 0;
    const float* bk = b + k0 * ldb;
    int64_t j = 0;
    for (; j + kNV * W <= n; j += kNV * W) columns<V, kNV, TA>(m, kc, A, k0, bk + j, ldb, c + j, ldc, acc);
    const int rest = (int)((n - j) / W);  // whole vectors left, fewer than kNV
    if (rest == 1) columns<V, 1, TA>(m, kc, A, k0, bk + j, ldb, c + j, ldc, acc);
    if constexpr (kNV > 2)
      if (rest == 2) columns<V, 2, TA>(m, kc, A, k0, bk + j, ldb, c + j, ldc, acc);
    if constexpr (kNV > 3)
      if (rest == 3) columns<V, 3, TA>(m, kc, A, k0, bk + j, ldb, c + j, ldc, acc);
    j += rest * W;
    if (j < n) column_tail<V, TA>(m, (int)(n - j), kc, A, k0, bk + j, ldb, c + j, ldc, acc);
  }
}

using ProductFn = void (*)(int64_t, int64_t, int64_t, const AView&, const float*, int64_t, float*, int64_t, bool);

template <bool TA>
void product_portable(int64_t m, int64_t n, int64_t k, const AView& A, const float* b, int64_t ldb, float* c,
                      int64_t ldc, bool acc) {
  product<Lanes<4>::type, 2, TA>(m, n, k, A, b, ldb, c, ldc, acc);
}

#if defined(__x86_64__)
template <bool TA>
__attribute__((target("avx2,fma"))) void product_avx2(int64_t m, int64_t n, int64_t k, const AView& A, const float* b,
                                                      int64_t ldb, float* c, int64_t ldc, bool acc) {
  product<Lanes<8>::type, 2, TA>(m, n, k, A, b, ldb, c, ldc, acc);
}
template <bool TA>
__attribute__((target("avx512f"))) void product_avx512(int64_t m, int64_t n, int64_t k, const AView& A,
                                                       const float* b, int64_t ldb, float* c, int64_t ldc, bool acc) {
  product<Lanes<16>::type, 4, TA>(m, n, k, A, b, ldb, c, ldc, acc);
}
#endif

Isa pick() {
#if defined(__x86_64__)
  const char* env = std::getenv("TIDEFLOW_KERNEL_ISA");
  const bool portable = env && std::strcmp(env, "portable") == 0, avx2 = env && std::strcmp(env, "avx2") == 0;
  if (!portable && !avx2 && __builtin_cpu_supports("avx512f")) return Isa::Avx512;
  if (!portable && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Portable;
}

ProductFn product_fn(bool trans_a) {
#if defined(__x86_64__)
  switch (isa()) {
    case Isa::Avx512: return trans_a ? product_avx512<true> : product_avx512<false>;
    case Isa::Avx2: return trans_a ? product_avx2<true> : product_avx2<false>;
    case Isa::Portable: break;
  }
#endif
  return trans_a ? product_portable<true> : product_portable<false>;
}

void run(bool trans_a, int64_t m, int64_t n, int64_t k, const AView& A, const float* b, int64_t ldb, float* c,
         int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::memset(c + i * ldc, 0, (size_t)n * sizeof(float));
    return;
  }
  product_fn(trans_a)(m, n, k, A, b, ldb, c, ldc, accumulate);
}

}  // namespace

void sgemm(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
           float* c, int64_t ldc, bool accumulate) {
  run(trans_a, m, n, k, AView{a, lda, nullptr}, b, ldb, c, ldc, accumulate);
}

void sgemm_rows(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, const int64_t* a_off, const float* b,
                int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  run(trans_a, m, n, k, AView{a, 0, a_off}, b, ldb, c, ldc, accumulate);
}

Isa isa() {
  static const Isa chosen = pick();
  return chosen;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "portable";
  }
}

}  // namespace tilegemm
}  // namespace tideflow
