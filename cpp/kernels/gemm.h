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

}  // namespace tideflow
