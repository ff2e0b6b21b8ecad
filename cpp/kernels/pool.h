// Float32 max-pooling windows over channels-last data, vectorized across channels and compiled for
// AVX-512, AVX2 and a portable build picked at run time (kernels/tile_gemm.h's isa()). The ops are in
// ops/pooling.cc; see Note [pooling kernels] in pool.cc.
#pragma once
#include <cstdint>

namespace tideflow {
namespace poolk {

// best[c] = the maximum of pix[i][c] over the window's npix >= 1 pixels (c < n), by Note [max pooling
// and NaN]'s rule (the first NaN wins; among equal values the first); with `at`, at[c] = idx[i] of the
// pixel that won.
void window_max(const float* const* pix, const int32_t* idx, int npix, int64_t n, float* best, int32_t* at);

// The gradient of one max-pooling window that shares no pixel with another: out[i][c] = d[c] where
// pixel i holds the window's maximum of channel c (as window_max picks it), else 0.
void route_max(const float* const* pix, float* const* out, int npix, int64_t n, const float* d);

}  // namespace poolk
}  // namespace tideflow
