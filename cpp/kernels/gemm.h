#pragma once
#include <cstdint>

namespace tideflow {

// C[m,n] = alpha op(A) op(B) + beta C, all row-major: A is stored [m,k] ([k,m] when ta), B is [k,n]
// ([n,k] when tb), C is dense [m,n]. Runs on OpenBLAS, split over up to `threads` threads of tideflow's
// pool; see Note [one thread pool] in gemm.cc. With k == 0, C becomes beta C.
void gemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb, int threads,
          float alpha = 1, float beta = 0);
void gemm(const double* a, const double* b, double* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
          int threads, double alpha = 1, double beta = 0);

// Columns [j0, j1) of C = op(A) op(B) only (C dense [m, n]; its other columns untouched), on the calling
// thread, by the kernel gemm picks for the whole product: the tile kernel (Note [unpacked dense products]
// in gemm.cc), whose cuts on multiples of 16 give the whole product's bits by construction, or one
// OpenBLAS call on those columns of B and C, as gemm makes of a block of C. For m, n > 1 and k > 0 only,
// where gemm also calls a gemm kernel (not gemv). Which OpenBLAS cuts give the same bits as the whole
// product is OpenBLAS's business: Note [LSTM steps on a pair] in ops/rnn.cc says which were measured.
void gemm_cols(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
               int64_t j0, int64_t j1);
void gemm_cols(const double* a, const double* b, double* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
               int64_t j0, int64_t j1);

}  // namespace tideflow
