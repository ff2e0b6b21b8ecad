// Float32 convolution kernels that multiply with the tile products of kernels/tile_gemm.h instead of
// through im2col: Winograd's minimal filtering (conv_winograd.cc) and implicit patches (conv_implicit.cc).
#pragma once
#include <cstdint>

#include "conv_util.h"

namespace tideflow {
namespace convgemm {

// Float32 2-D convolutions that multiply views of a padded copy of the input instead of a patch matrix
// (Note [implicit patches] in conv_implicit.cc). They return false, touching nothing, when the geometry
// does not suit them (depth, dilated columns, too few values per filter row); the caller then uses the
// im2col kernels.
bool forward(const KernelCtx& c, const float* x, const float* f, float* y, const window::Geometry& g);
bool backprop_filter(const KernelCtx& c, const float* x, const float* dy, float* df, const window::Geometry& g);

// The same for few channels by stacked rows (Note [stacked rows] in conv_stacked.cc): false, touching
// nothing, unless a window row holds fewer than 32 values (and the filter has several rows).
bool stacked_forward(const KernelCtx& c, const float* x, const float* f, float* y, const window::Geometry& g);
bool stacked_backprop_filter(const KernelCtx& c, const float* x, const float* dy, float* df,
                             const window::Geometry& g);

// The same by Winograd's minimal filtering (Note [Winograd convolutions] in conv_winograd.cc): false,
// touching nothing or leaving the output to be overwritten, when the geometry does not suit it (strides,
// dilations, filters other than 3x3 and 5x5, few channels) or the data holds inf or NaN.
bool winograd_forward(const KernelCtx& c, const float* x, const float* f, float* y, const window::Geometry& g);
bool winograd_backprop_filter(const KernelCtx& c, const float* x, const float* dy, float* df,
                              const window::Geometry& g);

}  // namespace convgemm
}  // namespace tideflow
