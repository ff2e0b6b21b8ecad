#pragma once
#include <cstdint>

namespace tideflow {

// C[m,n] = op(A) op(B), all row-major: A is stored [m,k] ([k,m] when ta), B is [k,n] ([n,k] when tb),
// C is dense [m,n]. Runs on OpenBLAS, split over up to `threads` threads of tideflow's pool; see
// Note [one thread pool] in gemm.cc. k must be > 0.
void gemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb, int threads);
void gemm(const double* a, const double* b, double* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
          int threads);

}  // namespace tideflow
