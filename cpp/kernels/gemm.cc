// Float products: OpenBLAS calls split over tideflow's thread pool, and two hand kernels for the
// tall-and-skinny products of regressions (X @ theta and X^T g with a handful of features).
#include "kernels/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/tile_gemm.h"
#include "threadpool.h"

extern "C" {
// From scipy-openblas32's cblas.h (101 = CblasRowMajor, 111/112 = CblasNoTrans/CblasTrans).
void scipy_cblas_sgemm(int order, int transa, int transb, int m, int n, int k, float alpha, const float* a, int lda,
                       const float* b, int ldb, float beta, float* c, int ldc);
void scipy_cblas_dgemm(int order, int transa, int transb, int m, int n, int k, double alpha, const double* a, int lda,
                       const double* b, int ldb, double beta, double* c, int ldc);
void scipy_cblas_sgemv(int order, int trans, int m, int n, float alpha, const float* a, int lda, const float* x,
                       int incx, float beta, float* y, int incy);
void scipy_cblas_dgemv(int order, int trans, int m, int n, double alpha, const double* a, int lda, const double* x,
                       int incx, double beta, double* y, int incy);
void scipy_openblas_set_num_threads(int);
int scipy_openblas_get_num_threads();
}

namespace tideflow {
namespace {

constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

// Note [one thread pool]
// OpenBLAS keeps its own worker threads, which spin between calls. Beside tideflow's pool (inter-op
// nodes, elementwise parallel_for) that puts three busy threads on two cores, and two products that the
// executor runs at once each ask OpenBLAS for every core. So OpenBLAS runs each call on the calling
// thread, and a large product is cut into one block of C per thread, each an ordinary OpenBLAS call on
// a pool thread. The cuts are fixed by the shape and the thread count, so a run repeats bit for bit;
// OpenBLAS's edge kernels round differently from its main one, so a different thread count may change
// the last bit of some elements (as in TensorFlow).
//
// threadpoolctl (which scikit-learn calls) raises the count of every OpenBLAS it finds, this one
// included, so the setting is checked before each product (a load) rather than once.
void keep_blas_single_threaded() {
  if (scipy_openblas_get_num_threads() != 1) scipy_openblas_set_num_threads(1);
}

// Multiply-adds worth one extra thread: below this, waking a pool thread costs more than it saves.
constexpr int64_t kMinGemmWork = 1 << 20;
constexpr int64_t kMinGemvWork = 1 << 16;

int parts_for(int64_t work, int64_t min_work, int threads) {
  return (int)std::max<int64_t>(1, std::min<int64_t>(std::min(threads, thread_cap()), work / min_work));
}

// Runs fn(begin, end) for `parts` contiguous slices of [0, len), slice edges on multiples of `align`.
template <class Fn>
void split(int64_t len, int parts, int64_t align, Fn&& fn) {
  int64_t per = (len + parts - 1) / parts;
  per = (per + align - 1) / align * align;
  parts = (int)((len + per - 1) / per);
  if (parts <= 1) return fn(int64_t(0), len);
  ThreadPool::global().parallel_for(parts, kMinGemmWork, parts, [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) fn(p * per, std::min(len, (p + 1) * per));
  });
}

// Note [cutting a product]
// Each block of C is an OpenBLAS call that packs its rows of A and its columns of B: cut into row blocks,
// every thread packs all of B; into column blocks, all of A. A dense layer's products have few rows
// (the batch) and a large B (the weights: 12.8 MB in the CNN benchmark), which row blocks would pack once
// per thread, as much memory traffic as the multiplication's own. So C is cut along its longer side, and
// along the other only when that one is too short to give every thread 32 rows or columns.
bool row_split(int64_t m, int64_t n, int parts) {
  if (parts <= 1 || n < 32 * parts) return true;
  return m >= n && m >= 32 * parts;
}

template <class T, class Gemm, class Gemv>
void blas_product(Gemm gemm_fn, Gemv gemv_fn, const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k,
                  bool ta, bool tb, int threads, T alpha, T beta) {
  keep_blas_single_threaded();
  // Note [matrix-vector products]: one row or one column is a gemv. The gemm kernels pack panels for
  // reuse that a single column never gives back, so gemv runs at memory speed where gemm does not.
  if (n == 1 || m == 1) {
    // y[len] = op(M) v, M stored [len, k] when !mt, else [k, len]; slices of y are independent.
    const bool one_col = n == 1;
    const T* mat = one_col ? a : b;
    const T* vec = one_col ? b : a;
    const bool mt = one_col ? ta : !tb;
    const int64_t len = one_col ? m : n;
    split(len, parts_for(len * k, kMinGemvWork, threads), 16, [&](int64_t lo, int64_t hi) {
      if (mt)  // y = M^T v with M [k, len]: the slice is columns lo..hi of every row
        gemv_fn(kRowMajor, kTrans, (int)k, (int)(hi - lo), alpha, mat + lo, (int)len, vec, 1, beta, c + lo, 1);
      else
        gemv_fn(kRowMajor, kNoTrans, (int)(hi - lo), (int)k, alpha, mat + lo * k, (int)k, vec, 1, beta, c + lo, 1);
    });
    return;
  }
  const int lda = (int)(ta ? m : k), ldb = (int)(tb ? k : n);
  const int parts = parts_for(m * n * k, kMinGemmWork, threads);
  auto block = [&](int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    const T* ab = ta ? a + i0 : a + i0 * k;
    const T* bb = tb ? b + j0 * k : b + j0;
    gemm_fn(kRowMajor, ta ? kTrans : kNoTrans, tb ? kTrans : kNoTrans, (int)(i1 - i0), (int)(j1 - j0), (int)k, alpha,
            ab, lda, bb, ldb, beta, c + i0 * n + j0, (int)n);
  };
  // Cut C into row blocks (measured faster than column blocks of the same size: each thread packs its own
  // rows of A and streams all of B) unless it has too few rows; blocks stay multiples of 16 so OpenBLAS's
  // micro-kernels see no ragged edges.
  if (row_split(m, n, parts))
    split(m, m >= 32 * parts ? parts : 1, 16, [&](int64_t lo, int64_t hi) { block(lo, hi, 0, n); });
  else
    split(n, n >= 32 * parts ? parts : 1, 16, [&](int64_t lo, int64_t hi) { block(0, m, lo, hi); });
}

// ---- tall and skinny float products (AVX2 + FMA, chosen at run time) ----
#if defined(__x86_64__)

// Note [skinny products]
// A regression multiplies X [rows, w] (w a handful of features) by theta [w, 1] and its gradient is
// X^T g. OpenBLAS's gemv kernels are built for long rows and run these at a fraction of memory speed.
// Here a row is one 8-float load (two, overlapping, when 8 < w <= 16), with theta in the matching lanes
// and zeros where the second load repeats columns of the first. Loads past the end of X are avoided by
// finishing the last rows in scalar code.
bool have_avx2() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

// Lane vectors for a row of w <= 16 floats: cols 0..7 and, when w > 8, cols w-8..w-1 with repeats zeroed.
// The masks clear the loaded lanes that are not this row's (or are repeats): 0 * inf would be NaN.
struct RowLanes {
  alignas(32) float lo[8] = {}, hi[8] = {};
  alignas(32) int32_t lo_mask[8] = {}, hi_mask[8] = {};
  RowLanes(const float* x, int w) {
    for (int j = 0; j < std::min(w, 8); ++j) lo[j] = x[j], lo_mask[j] = -1;
    for (int j = 0; j < 8 && w > 8; ++j)
      if (w - 8 + j >= 8) hi[j] = x[w - 8 + j], hi_mask[j] = -1;
  }
};

// Rows r in [0, safe) can load 8 floats from r*w (and from r*w + w - 8) without leaving X.
int64_t safe_rows(int64_t rows, int w) { return w >= 8 ? rows : std::max<int64_t>(0, (rows * w - 8) / w + 1); }

// Lane products of one row with theta (before the sum across lanes).
__attribute__((target("avx2,fma"), always_inline)) inline __m256 row_lanes(const float* p, int w, __m256 tlo,
                                                                           __m256 thi, __m256 mlo, __m256 mhi) {
  __m256 s = _mm256_mul_ps(_mm256_and_ps(_mm256_loadu_ps(p), mlo), tlo);
  return w > 8 ? _mm256_fmadd_ps(_mm256_and_ps(_mm256_loadu_ps(p + w - 8), mhi), thi, s) : s;
}

// y[r] = x_r . theta for rows [r0, r1).
__attribute__((target("avx2,fma"))) void rows_dot_avx2(const float* a, const float* theta, float* y, int64_t r0,
                                                        int64_t r1, int64_t rows, int w) {
  const RowLanes t(theta, w);
  const __m256 tlo = _mm256_load_ps(t.lo), thi = _mm256_load_ps(t.hi);
  const __m256 mlo = _mm256_castsi256_ps(_mm256_load_si256((const __m256i*)t.lo_mask));
  const __m256 mhi = _mm256_castsi256_ps(_mm256_load_si256((const __m256i*)t.hi_mask));
  const int64_t safe = std::min(r1, safe_rows(rows, w));
  int64_t r = r0;
  for (; r + 8 <= safe; r += 8) {
    __m256 p[8];
    for (int i = 0; i < 8; ++i) p[i] = row_lanes(a + (r + i) * w, w, tlo, thi, mlo, mhi);
    // A hadd tree sums each row's lanes; lane i of the result is row r+i.
    __m256 q0 = _mm256_hadd_ps(_mm256_hadd_ps(p[0], p[1]), _mm256_hadd_ps(p[2], p[3]));
    __m256 q1 = _mm256_hadd_ps(_mm256_hadd_ps(p[4], p[5]), _mm256_hadd_ps(p[6], p[7]));
    _mm256_storeu_ps(y + r, _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20), _mm256_permute2f128_ps(q0, q1, 0x31)));
  }
  for (; r < r1; ++r) {
    float s = 0;
    for (int j = 0; j < w; ++j) s += a[r * w + j] * theta[j];
    y[r] = s;
  }
}

// out[w] += sum over rows [r0, r1) of g[r] * x_r.
__attribute__((target("avx2,fma"))) void cols_dot_avx2(const float* a, const float* g, float* out, int64_t r0,
                                                        int64_t r1, int64_t rows, int w) {
  __m256 lo[4], hi[4];
  for (int u = 0; u < 4; ++u) lo[u] = hi[u] = _mm256_setzero_ps();
  const int64_t safe = std::min(r1, safe_rows(rows, w));
  int64_t r = r0;
  for (; r + 4 <= safe; r += 4) {  // four rows in flight hide the FMA latency
    for (int u = 0; u < 4; ++u) {
      const float* p = a + (r + u) * w;
      const __m256 gv = _mm256_broadcast_ss(g + r + u);
      lo[u] = _mm256_fmadd_ps(_mm256_loadu_ps(p), gv, lo[u]);
      if (w > 8) hi[u] = _mm256_fmadd_ps(_mm256_loadu_ps(p + w - 8), gv, hi[u]);
    }
  }
  alignas(32) float l[8], h[8];
  _mm256_store_ps(l, _mm256_add_ps(_mm256_add_ps(lo[0], lo[1]), _mm256_add_ps(lo[2], lo[3])));
  _mm256_store_ps(h, _mm256_add_ps(_mm256_add_ps(hi[0], hi[1]), _mm256_add_ps(hi[2], hi[3])));
  for (int j = 0; j < w; ++j) out[j] += j < 8 ? l[j] : h[j - (w - 8)];
  for (; r < r1; ++r)
    for (int j = 0; j < w; ++j) out[j] += a[r * w + j] * g[r];
}

constexpr int64_t kSkinnyMinRows = 1024;

bool skinny_float(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
                  int threads) {
  if (!have_avx2() || n != 1) return false;
  if (!ta && k <= 16 && m >= kSkinnyMinRows) {  // X[m, k] @ theta[k, 1] (tb is the same layout for n == 1)
    split(m, parts_for(m * k, kMinGemvWork, threads), 8,
          [&](int64_t lo, int64_t hi) { rows_dot_avx2(a, b, c, lo, hi, m, (int)k); });
    return true;
  }
  if (ta && m <= 16 && k >= kSkinnyMinRows) {  // X^T g with X stored [k, m]
    // A fixed number of row chunks whose partial sums are added in order: the result does not depend
    // on the thread count.
    const int w = (int)m;
    const int64_t rows = k, chunks = std::min<int64_t>(16, rows / 2048 + 1), per = (rows + chunks - 1) / chunks;
    std::vector<float> partial(chunks * w, 0.f);
    const int parts = parts_for(rows * w, kMinGemvWork, threads);
    ThreadPool::global().parallel_for(chunks, kMinGemmWork, parts, [&](int64_t cb, int64_t ce) {
      for (int64_t ci = cb; ci < ce; ++ci)
        cols_dot_avx2(a, b, partial.data() + ci * w, ci * per, std::min(rows, (ci + 1) * per), rows, w);
    });
    std::fill(c, c + w, 0.f);
    for (int64_t ci = 0; ci < chunks; ++ci)
      for (int j = 0; j < w; ++j) c[j] += partial[ci * w + j];
    return true;
  }
  return false;
}
#else
bool skinny_float(const float*, const float*, float*, int64_t, int64_t, int64_t, bool, bool, int) { return false; }
#endif


// ---- dense layers' products on the tile kernel ----

// Note [unpacked dense products]
// A dense layer multiplies a batch of a few dozen rows by a large weight matrix: x[64, 3136] @ W[3136, 1024]
// forward and dy[64, 1024] @ W^T backward in the CNN benchmark. OpenBLAS packs W (12.8 MB there) on
// every such call; perf counted the packing at a quarter of its time on these products. The kernel of
// Note [tile products] packs nothing and reads W in place (one thread, AVX-512: x @ W 4.0 ms against
// OpenBLAS's 5.1, dy @ W^T 4.0 against 5.8; 1.1-2.5x over batches of 8 to 128 and other widths). It has no
// transposed B, so dy @ W^T runs as its transpose W dy^T, W's rows being its A rows: dy is transposed
// before (small) and the [n, m] result after. That pays only when k is long enough to hide the two
// transposes (at k = 512 and m = 64 it lost), hence the tighter bounds. The weight gradient x^T dy (k the
// batch) stays on OpenBLAS: the tile kernel was slower there (5.3 ms against 4.9), and with B's panels
// copied dense first only 2% faster (the product is bound by writing its 12.8 MB result). Each element of C sums
// its products in the tile kernel's fixed order whatever the cut among threads, so the result does not
// depend on the thread count; it differs from OpenBLAS's in the last bits (a different summation order).
// Only where the AVX-512 kernel runs (the one measured); TIDEFLOW_DENSE_TILE=0 keeps OpenBLAS (tests
// compare the two).
//
// An LSTM step's products are smaller: [64, 156] x [156, 512] forward and the weight gradient
// [156, 64]^T-stored x [64, 512], 5.1M multiply-adds each, 28 of each per training step. There too the
// packing costs: a sweep of one-thread times (tile / OpenBLAS) gave 0.69-0.87 for m = 64-128 rows,
// n = 256-1024 columns and any depth k from 32 to 256, and 0.78-0.91 for weight gradients (transposed A)
// of m = 64-1024 rows, n >= 128, k = 64-128, but 1.0 (no gain) below 256 columns or at k = 16. Hence the
// bounds below; the CNN's dense weight gradient ([3136, 1024], a 12.8 MB result) stays on OpenBLAS.
constexpr int64_t kTileMaxRows = 128, kTileMinCols = 256, kTileMinDepth = 32;
constexpr int64_t kTileMaxRowsT = 64, kTileMinColsT = 128, kTileMinDepthT = 1024;
constexpr int64_t kTileMaxRowsTA = 1024, kTileMinColsTA = 128, kTileMinDepthTA = 64, kTileMaxResultTA = 1 << 20;

bool dense_tile_enabled() {
  static const bool on = [] {
    const char* env = std::getenv("TIDEFLOW_DENSE_TILE");
    return tilegemm::isa() == tilegemm::Isa::Avx512 && !(env && std::strcmp(env, "0") == 0);
  }();
  return on;
}

// dst[j, i] = src[i, j] for a [rows, cols] block, in 16 x 16 squares so both sides stay in cache lines.
void transpose_into(const float* src, int64_t ld_src, float* dst, int64_t ld_dst, int64_t rows, int64_t cols) {
  constexpr int64_t kSq = 16;
  for (int64_t i0 = 0; i0 < rows; i0 += kSq)
    for (int64_t j0 = 0; j0 < cols; j0 += kSq) {
      const int64_t i1 = std::min(rows, i0 + kSq), j1 = std::min(cols, j0 + kSq);
      for (int64_t j = j0; j < j1; ++j)
        for (int64_t i = i0; i < i1; ++i) dst[j * ld_dst + i] = src[i * ld_src + j];
    }
}

// Per-thread buffers for the transposes (Note [kernel scratch] in ops/conv_util.h: a product never waits
// for other work while it holds one, so a thread never hands its buffer to a second user). Only buffers
// up to kKeptScratch floats are kept between calls; a larger one (a wide output layer's) lives in `own`
// for this call alone.
constexpr size_t kKeptScratch = size_t(1) << 20;

float* transpose_scratch(size_t n, int slot, std::vector<float>& own) {
  if (n > kKeptScratch) {
    own.resize(n);
    return own.data();
  }
  thread_local std::vector<float> bufs[2];
  std::vector<float>& b = bufs[slot];
  if (b.size() < n) b.resize(n);
  return b.data();
}

// Whether C = op(A) op(B) runs on the tile kernel; gemm and gemm_cols ask the same question, so a
// product cut into column blocks gives the whole product's bits.
bool tile_takes(int64_t m, int64_t n, int64_t k, bool ta, bool tb) {
  if (m < 2 || n < 2 || !dense_tile_enabled()) return false;
  if (ta && tb) return false;
  if (ta) return m <= kTileMaxRowsTA && n >= kTileMinColsTA && k >= kTileMinDepthTA && m * n <= kTileMaxResultTA;
  if (tb) return m <= kTileMaxRowsT && n >= kTileMinColsT && k >= kTileMinDepthT;
  return m <= kTileMaxRows && n >= kTileMinCols && k >= kTileMinDepth;
}

// Columns [j0, j1) of C on the tile kernel, for a product tile_takes. With a transposed B, C^T[n, m] =
// B[n, k] A^T[k, m]: `at` is A transposed ([k, m]) and its columns' block of C^T is transposed into C.
void tile_cols(const float* a, const float* at, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool ta,
               bool tb, int64_t j0, int64_t j1) {
  if (!tb) return tilegemm::sgemm(ta, m, j1 - j0, k, a, ta ? m : k, b + j0, n, c + j0, n, false);
  std::vector<float> own_ct;
  float* ct = transpose_scratch((size_t)((j1 - j0) * m), 1, own_ct);
  tilegemm::sgemm(false, j1 - j0, m, k, b + j0 * k, k, at, m, ct, m, false);
  transpose_into(ct, m, c + j0, n, j1 - j0, m);
}

// A with its rows and columns swapped when B is transposed (tile_cols), else nullptr.
const float* tile_at(const float* a, int64_t m, int64_t k, bool tb, std::vector<float>& own) {
  if (!tb) return nullptr;
  float* at = transpose_scratch((size_t)(k * m), 0, own);
  transpose_into(a, k, at, m, m, k);
  return at;
}

bool tile_float(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
                int threads) {
  if (!tile_takes(m, n, k, ta, tb)) return false;
  const int parts = parts_for(m * n * k, kMinGemmWork, threads);
  std::vector<float> own_at;
  const float* at = tile_at(a, m, k, tb, own_at);
  // Column blocks of C, each all of A times its columns of B (as blas_product cuts these shapes).
  split(n, n >= 32 * parts ? parts : 1, 16,
        [&](int64_t lo, int64_t hi) { tile_cols(a, at, b, c, m, n, k, ta, tb, lo, hi); });
  return true;
}
}  // namespace

// BLAS leaves C untouched when k == 0 (not even scaled by beta), so that case is done here.
template <class T>
bool empty_product(T* c, int64_t m, int64_t n, int64_t k, T beta) {
  if (k > 0) return false;
  for (int64_t i = 0; i < m * n; ++i) c[i] = beta == T(0) ? T(0) : beta * c[i];
  return true;
}

void gemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb, int threads,
          float alpha, float beta) {
  if (m == 0 || n == 0 || empty_product(c, m, n, k, beta)) return;
  if (alpha == 1 && beta == 0 && skinny_float(a, b, c, m, n, k, ta, tb, threads)) return;
  if (alpha == 1 && beta == 0 && tile_float(a, b, c, m, n, k, ta, tb, threads)) return;
  blas_product<float>(scipy_cblas_sgemm, scipy_cblas_sgemv, a, b, c, m, n, k, ta, tb, threads, alpha, beta);
}

void gemm(const double* a, const double* b, double* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
          int threads, double alpha, double beta) {
  if (m == 0 || n == 0 || empty_product(c, m, n, k, beta)) return;
  blas_product<double>(scipy_cblas_dgemm, scipy_cblas_dgemv, a, b, c, m, n, k, ta, tb, threads, alpha, beta);
}

template <class T, class Gemm>
void blas_cols(Gemm gemm_fn, const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
               int64_t j0, int64_t j1) {
  if (j1 <= j0) return;
  keep_blas_single_threaded();
  gemm_fn(kRowMajor, ta ? kTrans : kNoTrans, tb ? kTrans : kNoTrans, (int)m, (int)(j1 - j0), (int)k, T(1), a,
          (int)(ta ? m : k), tb ? b + j0 * k : b + j0, (int)(tb ? k : n), T(0), c + j0, (int)n);
}

void gemm_cols(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
               int64_t j0, int64_t j1) {
  if (j1 > j0 && tile_takes(m, n, k, ta, tb)) {
    std::vector<float> own_at;
    return tile_cols(a, tile_at(a, m, k, tb, own_at), b, c, m, n, k, ta, tb, j0, j1);
  }
  blas_cols<float>(scipy_cblas_sgemm, a, b, c, m, n, k, ta, tb, j0, j1);
}

void gemm_cols(const double* a, const double* b, double* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
               int64_t j0, int64_t j1) {
  blas_cols<double>(scipy_cblas_dgemm, a, b, c, m, n, k, ta, tb, j0, j1);
}

}  // namespace tideflow
