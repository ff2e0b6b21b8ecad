// Single-threaded float32 products for the tiles of convolutions (and their Winograd transforms), where
// OpenBLAS is slow: the tiles are short (tens to hundreds of rows) and have few columns (the channels), so
// OpenBLAS would spend as much time packing its operands as multiplying. See Note [tile products] in
// tile_gemm.cc.
#pragma once
#include <cstdint>

namespace tideflow {
namespace tilegemm {

// C[m, n] = (accumulate ? C : 0) + op(A) x B, row-major with row strides lda, ldb, ldc. op(A) is A stored
// [m, k], or with trans_a the transpose of A stored [k, m]. Runs on the calling thread.
void sgemm(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
           float* c, int64_t ldc, bool accumulate);

// The same with A's rows (the rows of op(A)'s k dimension when trans_a) at a + a_off[q] instead of evenly
// spaced: op(A)(i, p) is a[a_off[i] + p], or with trans_a a[a_off[p] + i].
void sgemm_rows(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, const int64_t* a_off, const float* b,
                int64_t ldb, float* c, int64_t ldc, bool accumulate);

// The vector instruction set these kernels (and kernels/winograd.h's) run on: the widest the CPU has, or
// a narrower one picked by TIDEFLOW_KERNEL_ISA=avx2 or =portable in the environment (tests compare them).
enum class Isa { Portable, Avx2, Avx512 };
Isa isa();
const char* isa_name(Isa isa);

}  // namespace tilegemm
}  // namespace tideflow
