// Winograd's minimal filtering F(m x m, r x r) (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016): the tile transforms, over channels-last data, vectorized across channels. The
// convolutions that use them are in ops/conv_winograd.cc; see Note [Winograd transforms] in winograd.cc.
//
// A tile of t x t inputs (t = m + r - 1) and an r x r filter give m x m outputs of their correlation as
// Y = A^T [(G g G^T) . (B^T d B)] A, with . the elementwise product; summed over input channels, the
// elementwise products become t^2 independent matrix products over channels. Each transform below is one
// such "sandwich" L X L^T applied to every channel (lane) at once; element (a, b) of a tile of `lanes`
// channels is at base + a * row + b * col, the lanes contiguous from there.
#pragma once
#include <cstdint>

namespace tideflow {
namespace winograd {

// The tile sizes with transforms here: F(2x2, 3x3), F(2x2, 5x5) and F(3x3, 5x5).
bool supported(int m, int r);
inline int tile(int m, int r) { return m + r - 1; }

// v[xi * v_stride + c] = (B^T d B)[xi] for the t x t input tile d (xi = a * t + b).
void input(int m, int r, const float* d, int64_t row, int64_t col, int64_t lanes, float* v, int64_t v_stride);

// u[xi * lanes + l] = (G g G^T)[xi] for an r x r filter g stored [r, r, lanes] (lanes = C * OC).
void filter(int m, int r, const float* g, int64_t lanes, float* u);

// The m x m outputs y = A^T M A of a transformed tile M (element xi at mm + xi * m_stride); only the first
// rows x cols outputs are written (a tile at the image's bottom or right edge).
void output(int m, int r, const float* mm, int64_t m_stride, int64_t lanes, float* y, int64_t row, int64_t col,
            int rows, int cols);

// The filter gradient's transforms. Y is linear in U = G g G^T, so dL/dU = sum over tiles of
// (A dY A^T) . (B^T d B), and dL/dg = G^T (dL/dU) G.
// out[xi * out_stride + l] = (A dY A^T)[xi] for an m x m output-gradient tile whose first rows x cols
// elements are at dy (zero beyond them).
void output_grad(int m, int r, const float* dy, int64_t row, int64_t col, int rows, int cols, int64_t lanes,
                 float* out, int64_t out_stride);
// dg [r, r, lanes] = G^T dU G for dU stored [t * t, lanes].
void filter_grad(int m, int r, const float* du, int64_t lanes, float* dg);

}  // namespace winograd
}  // namespace tideflow
