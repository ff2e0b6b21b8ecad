#include "conv_gemm.h"

#include <algorithm>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tideflow {
namespace convgemm {

// Note [conv products]
// A convolution tile multiplies a patch tile [rows, K] by the filter [K, OC] with OC often 32 or 64;
// its gradients multiply dY [rows, OC] by the filter's transpose, and the patches' transpose by dY.
// OpenBLAS packs both operands on every call; with so few output columns the packing of a patch tile
// costs about as much as the product (measured: a [25088, 576] x [576, 64] sgemm ran at 37% of the
// speed of a square one). This kernel packs nothing: a 6x16 block of C lives in 12 AVX registers while
// the loop over k broadcasts six A values (from six patch rows, or from one row of a transposed A) and
// loads 16 floats of B, the usual register blocking of BLAS micro-kernels. k runs in chunks of 256 so a
// chunk of B's 16 columns (16 KB) stays in L1 while the row blocks go by. Column tails use 8-wide and
// masked blocks, row tails smaller blocks.
#if defined(__x86_64__)
namespace {

bool have_avx2() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

constexpr int kMR = 6;
constexpr int64_t kKC = 256;

// Where A's elements are: A(i, p) is at row(i)[p] without trans_a and at row(p)[i] with it, row(q) being
// a + q * lda, or a + off[q] when an offset table is given (rows that are not evenly spaced).
struct AView {
  const float* a;
  int64_t lda;
  const int64_t* off;
  const float* row(int64_t q) const { return off ? a + off[q] : a + q * lda; }
};

// NV: 8-float vectors per row (2 = 16 columns); MASK: the last vector is partial (mask lanes); OFF: A's
// rows come from an offset table. A block starts at row i0 (of C) and k index p0.
template <int MR, int NV, bool TA, bool MASK, bool OFF>
__attribute__((target("avx2,fma"))) void micro(int64_t kc, const AView& A, int64_t i0, int64_t p0, const float* b,
                                               int64_t ldb, float* c, int64_t ldc, bool acc, const int32_t* lanes) {
  const __m256i mask = _mm256_load_si256((const __m256i*)lanes);
  const float* rows[MR];  // without trans_a: the MR rows of A, at column p0
  if (!TA)
    for (int i = 0; i < MR; ++i) rows[i] = (OFF ? A.a + A.off[i0 + i] : A.a + (i0 + i) * A.lda) + p0;
  // Accumulators start at zero and C is added at the end: a conditional start keeps GCC from holding
  // them in registers.
  __m256 r[MR][NV];
  _Pragma("GCC unroll 8") for (int i = 0; i < MR; ++i)
    _Pragma("GCC unroll 2") for (int v = 0; v < NV; ++v) r[i][v] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    const float* bp = b + p * ldb;
    __m256 bv[NV];
    _Pragma("GCC unroll 2") for (int v = 0; v < NV; ++v)
      bv[v] = MASK && v == NV - 1 ? _mm256_maskload_ps(bp + 8 * v, mask) : _mm256_loadu_ps(bp + 8 * v);
    const float* ap = TA ? (OFF ? A.a + A.off[p0 + p] : A.a + (p0 + p) * A.lda) + i0 : nullptr;
    _Pragma("GCC unroll 8") for (int i = 0; i < MR; ++i) {
      const __m256 av = _mm256_broadcast_ss(TA ? ap + i : rows[i] + p);
      _Pragma("GCC unroll 2") for (int v = 0; v < NV; ++v) r[i][v] = _mm256_fmadd_ps(av, bv[v], r[i][v]);
    }
  }
  _Pragma("GCC unroll 8") for (int i = 0; i < MR; ++i)
    _Pragma("GCC unroll 2") for (int v = 0; v < NV; ++v) {
      float* cp = c + i * ldc + 8 * v;
      const bool part = MASK && v == NV - 1;
      __m256 out = r[i][v];
      if (acc) out = _mm256_add_ps(out, part ? _mm256_maskload_ps(cp, mask) : _mm256_loadu_ps(cp));
      if (part) _mm256_maskstore_ps(cp, mask, out);
      else _mm256_storeu_ps(cp, out);
    }
}

template <int NV, bool TA, bool MASK, bool OFF>
void rows_block(int mr, int64_t kc, const AView& A, int64_t i0, int64_t p0, const float* b, int64_t ldb, float* c,
                int64_t ldc, bool acc, const int32_t* mask) {
  switch (mr) {
    case 6: return micro<6, NV, TA, MASK, OFF>(kc, A, i0, p0, b, ldb, c, ldc, acc, mask);
    case 5: return micro<5, NV, TA, MASK, OFF>(kc, A, i0, p0, b, ldb, c, ldc, acc, mask);
    case 4: return micro<4, NV, TA, MASK, OFF>(kc, A, i0, p0, b, ldb, c, ldc, acc, mask);
    case 3: return micro<3, NV, TA, MASK, OFF>(kc, A, i0, p0, b, ldb, c, ldc, acc, mask);
    case 2: return micro<2, NV, TA, MASK, OFF>(kc, A, i0, p0, b, ldb, c, ldc, acc, mask);
    default: return micro<1, NV, TA, MASK, OFF>(kc, A, i0, p0, b, ldb, c, ldc, acc, mask);
  }
}

// All row blocks of one column block [j, j + width) for k in [k0, k0 + kc). Rows are split into blocks
// of as equal sizes as possible (14 rows run as 5 + 5 + 4, not 6 + 6 + 2: a thin block is load-bound).
template <bool TA, bool OFF>
void column_block(int64_t m, int64_t width, int64_t k0, int64_t kc, const AView& A, const float* b, int64_t ldb,
                  float* c, int64_t ldc, bool acc) {
  alignas(32) int32_t mask[8];
  for (int i = 0; i < 8; ++i) mask[i] = i < (width & 7) ? -1 : 0;
  const int64_t blocks = (m + kMR - 1) / kMR, base = m / blocks, extra = m % blocks;
  const float* bk = b + k0 * ldb;
  for (int64_t blk = 0, i = 0; blk < blocks; ++blk) {
    const int mr = (int)(base + (blk < extra ? 1 : 0));
    float* ci = c + i * ldc;
    if (width == 16) rows_block<2, TA, false, OFF>(mr, kc, A, i, k0, bk, ldb, ci, ldc, acc, mask);
    else if (width == 8) rows_block<1, TA, false, OFF>(mr, kc, A, i, k0, bk, ldb, ci, ldc, acc, mask);
    else rows_block<1, TA, true, OFF>(mr, kc, A, i, k0, bk, ldb, ci, ldc, acc, mask);
    i += mr;
  }
}

template <bool TA, bool OFF>
void product(int64_t m, int64_t n, int64_t k, const AView& A, const float* b, int64_t ldb, float* c, int64_t ldc,
             bool accumulate) {
  for (int64_t k0 = 0; k0 < k; k0 += kKC) {
    const int64_t kc = std::min(kKC, k - k0);
    const bool acc = accumulate || k0 > 0;
    for (int64_t j = 0; j < n;) {
      const int64_t width = n - j >= 16 ? 16 : n - j >= 8 ? 8 : n - j;
      column_block<TA, OFF>(m, width, k0, kc, A, b + j, ldb, c + j, ldc, acc);
      j += width;
    }
  }
}

bool run(bool trans_a, int64_t m, int64_t n, int64_t k, const AView& A, const float* b, int64_t ldb, float* c,
         int64_t ldc, bool accumulate) {
  if (!have_avx2()) return false;
  if (m <= 0 || n <= 0) return true;
  if (k <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.f);
    return true;
  }
  if (trans_a) {
    if (A.off) product<true, true>(m, n, k, A, b, ldb, c, ldc, accumulate);
    else product<true, false>(m, n, k, A, b, ldb, c, ldc, accumulate);
  } else {
    if (A.off) product<false, true>(m, n, k, A, b, ldb, c, ldc, accumulate);
    else product<false, false>(m, n, k, A, b, ldb, c, ldc, accumulate);
  }
  return true;
}

}  // namespace

bool available() { return have_avx2(); }

bool sgemm(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
           float* c, int64_t ldc, bool accumulate) {
  return run(trans_a, m, n, k, AView{a, lda, nullptr}, b, ldb, c, ldc, accumulate);
}

bool sgemm_rows(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, const int64_t* a_off, const float* b,
                int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  return run(trans_a, m, n, k, AView{a, 0, a_off}, b, ldb, c, ldc, accumulate);
}

#else
bool available() { return false; }
bool sgemm(bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t, bool) {
  return false;
}
bool sgemm_rows(bool, int64_t, int64_t, int64_t, const float*, const int64_t*, const float*, int64_t, float*, int64_t,
                bool) {
  return false;
}
#endif

}  // namespace convgemm
}  // namespace tideflow
