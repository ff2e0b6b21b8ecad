// Array conversions between float32 and the 16-bit floats (Note [reduced-precision floats] in half.h):
// F16C on CPUs that have it (chosen at run time), the portable bit manipulation of half.h elsewhere; both
// round to nearest even and give identical bits.
#pragma once
#include <cstdint>

#include "dtype.h"

namespace tideflow {
namespace convert {

void half_to_float(const half* in, float* out, int64_t n);
void float_to_half(const float* in, half* out, int64_t n);
void bfloat16_to_float(const bfloat16* in, float* out, int64_t n);
void float_to_bfloat16(const float* in, bfloat16* out, int64_t n);

}  // namespace convert
}  // namespace tideflow
