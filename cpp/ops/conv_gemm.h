// A single-threaded float32 product for the convolution kernels' tiles, where OpenBLAS is slow: the
// tiles are short (tens of rows) and have few columns (the output channels), so OpenBLAS spends as much
// time packing the filter and the patches as multiplying. See Note [conv products] in conv_gemm.cc.
#pragma once
#include <cstdint>

#include "conv_util.h"

namespace tideflow {
namespace convgemm {

// C[m, n] = (accumulate ? C : 0) + op(A) x B, row-major with row strides lda, ldb, ldc. op(A) is A stored
// [m, k], or with trans_a the transpose of A stored [k, m]. Runs on the calling thread. Returns false
// (touching nothing) when the CPU lacks AVX2 and FMA; callers then use gemm.h.
// Whether sgemm runs here (AVX2 and FMA).
bool available();

bool sgemm(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
           float* c, int64_t ldc, bool accumulate);

// The same with A's rows (the rows of op(A)'s k dimension when trans_a) at a + a_off[q] instead of evenly
// spaced: op(A)(i, p) is a[a_off[i] + p], or with trans_a a[a_off[p] + i].
bool sgemm_rows(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, const int64_t* a_off, const float* b,
                int64_t ldb, float* c, int64_t ldc, bool accumulate);

// Float32 2-D convolutions that multiply views of a padded copy of the input instead of a patch matrix
// (Note [implicit patches] in conv_implicit.cc). They return false, touching nothing, when the geometry
// does not suit them (depth, dilated columns, too few values per filter row) or the CPU lacks AVX2; the
// caller then uses the im2col kernels.
bool forward(const KernelCtx& c, const float* x, const float* f, float* y, const window::Geometry& g);
bool backprop_filter(const KernelCtx& c, const float* x, const float* dy, float* df, const window::Geometry& g);

}  // namespace convgemm
}  // namespace tideflow
