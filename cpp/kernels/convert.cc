#include "kernels/convert.h"

#include <immintrin.h>

namespace tideflow {
namespace convert {
namespace {

bool has_f16c() {
  static const bool ok = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
  return ok;
}

__attribute__((target("avx,f16c"))) void half_to_float_f16c(const half* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
  for (; i < n; ++i) out[i] = in[i];
}

// vcvtps2ph rounds to nearest even and keeps a NaN's sign, quieting it, as half_bits_from_float does, but
// it keeps the NaN's top payload bits where half.h writes the canonical 0x7e00: both are NaN.
__attribute__((target("avx,f16c"))) void float_to_half_f16c(const float* in, half* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < n; ++i) out[i] = half(in[i]);
}

}  // namespace

void half_to_float(const half* in, float* out, int64_t n) {
  if (has_f16c()) return half_to_float_f16c(in, out, n);
  for (int64_t i = 0; i < n; ++i) out[i] = in[i];
}

void float_to_half(const float* in, half* out, int64_t n) {
  if (has_f16c()) return float_to_half_f16c(in, out, n);
  for (int64_t i = 0; i < n; ++i) out[i] = half(in[i]);
}

// Plain loops: shifts and adds the compiler vectorizes.
void bfloat16_to_float(const bfloat16* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i];
}

void float_to_bfloat16(const float* in, bfloat16* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = bfloat16(in[i]);
}

}  // namespace convert
}  // namespace tideflow
