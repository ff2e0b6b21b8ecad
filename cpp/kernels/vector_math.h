// Float32 exp, log, tanh and sigmoid over arrays, 8 lanes at a time on AVX2 + FMA (chosen at run time),
// one at a time elsewhere. See Note [vector math] in vector_math.cc for the algorithms and their accuracy.
// `in` and `out` may be the same array (in-place kernels); any other overlap is not allowed.
#pragma once
#include <cstdint>

namespace tideflow {
namespace vecmath {

void exp_f32(const float* in, float* out, int64_t n);
void log_f32(const float* in, float* out, int64_t n);
void tanh_f32(const float* in, float* out, int64_t n);
void sigmoid_f32(const float* in, float* out, int64_t n);

}  // namespace vecmath
}  // namespace tideflow
