// Float32 convolution kernels that multiply with the tile products of kernels/tile_gemm.h instead of
// through im2col: Winograd's minimal filtering (conv_winograd.cc) and implicit patches (conv_implicit.cc).
#pragma once
#include <cstdint>

#include "conv_util.h"

namespace tideflow {
namespace convgemm {

// Note [convolution output pass]
// A convolution followed by a bias and a ReLU (Relu(Add(Conv2D(x, f), bias)), fused by Note [fused
// chains] in plan.h) adds the bias and rectifies each block of output right after the kernel wrote it,
// while it is in cache, instead of two more passes over the activations (or one, fused, Note [bias and
// ReLU in one pass]): 6.4 MB each way for the first layer of the CNN benchmark. Each output value is the
// unfused kernels' bit for bit: the convolution's own value, plus the bias rounded once, then clamped with
// ReLU's rule (NaN stays NaN). Every forward kernel takes an optional pass and applies it to the pixels it
// finished; a kernel that gives up (Winograd meeting inf or NaN) leaves the output to the next kernel,
// which applies the pass again on its own values.
struct OutputPass {
  const float* bias;  // [OC]
  bool relu;
  // y holds `pixels` rows of OC values.
  void operator()(float* y, int64_t pixels, int64_t oc) const {
    for (int64_t p = 0; p < pixels; ++p) {
      float* __restrict row = y + p * oc;
      if (relu)
        for (int64_t o = 0; o < oc; ++o) {
          const float v = row[o] + bias[o];
          row[o] = v < 0 ? 0.f : v;
        }
      else
        for (int64_t o = 0; o < oc; ++o) row[o] += bias[o];
    }
  }
};

// Float32 2-D convolutions that multiply views of a padded copy of the input instead of a patch matrix
// (Note [implicit patches] in conv_implicit.cc). They return false, touching nothing, when the geometry
// does not suit them (depth, dilated columns, too few values per filter row); the caller then uses the
// im2col kernels.
bool forward(const KernelCtx& c, const float* x, const float* f, float* y, const window::Geometry& g,
             const OutputPass* post = nullptr);
bool backprop_filter(const KernelCtx& c, const float* x, const float* dy, float* df, const window::Geometry& g);

// The same for few channels by stacked rows (Note [stacked rows] in conv_stacked.cc): false, touching
// nothing, unless a window row holds fewer than 32 values (and the filter has several rows).
bool stacked_forward(const KernelCtx& c, const float* x, const float* f, float* y, const window::Geometry& g,
                     const OutputPass* post = nullptr);
bool stacked_backprop_filter(const KernelCtx& c, const float* x, const float* dy, float* df,
                             const window::Geometry& g);

// The same by Winograd's minimal filtering (Note [Winograd convolutions] in conv_winograd.cc): false,
// touching nothing or leaving the output to be overwritten, when the geometry does not suit it (strides,
// dilations, filters other than 3x3 and 5x5, few channels) or the data holds inf or NaN.
bool winograd_forward(const KernelCtx& c, const float* x, const float* f, float* y, const window::Geometry& g,
                      const OutputPass* post = nullptr);
bool winograd_backprop_filter(const KernelCtx& c, const float* x, const float* dy, float* df,
                              const window::Geometry& g);

}  // namespace convgemm
}  // namespace tideflow
