// Philox4x32-10, the counter-based generator behind the random op family (private to cpp/ops/random.cc).
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace tideflow {
namespace philox {

using Block = std::array<uint32_t, 4>;

// Note [Philox layout]
// Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC11). A 64-bit key and a 128-bit counter
// map to 128 random bits; block i of a stream is a pure function of (key, counter + i), so any thread can
// compute any block and a kernel's output does not depend on how its work was split. The layout is
// TensorFlow's PhiloxRandom(seed, seed2): key = seed, counter = seed2 << 64 | position, so a seeded op
// draws the same bits TensorFlow draws for the same (seed, seed2) and the same number of earlier draws.
class Philox4x32 {
 public:
  Philox4x32(uint64_t key, uint64_t counter_hi, uint64_t counter_lo)
      : k0_((uint32_t)key), k1_((uint32_t)(key >> 32)), hi_(counter_hi), lo_(counter_lo) {}

  // The block `offset` counters past this stream's start (128-bit addition, as TensorFlow's Skip).
  Block at(uint64_t offset) const {
    uint64_t lo = lo_ + offset;
    uint64_t hi = hi_ + (lo < lo_ ? 1 : 0);
    Block c{(uint32_t)lo, (uint32_t)(lo >> 32), (uint32_t)hi, (uint32_t)(hi >> 32)};
    uint32_t k0 = k0_, k1 = k1_;
    for (int r = 0; r < 10; ++r) {
      uint64_t p0 = (uint64_t)kM0 * c[0];
      uint64_t p1 = (uint64_t)kM1 * c[2];
      c = Block{(uint32_t)(p1 >> 32) ^ c[1] ^ k0, (uint32_t)p1, (uint32_t)(p0 >> 32) ^ c[3] ^ k1, (uint32_t)p0};
      k0 += kW0;
      k1 += kW1;
    }
    return c;
  }

 private:
  static constexpr uint32_t kM0 = 0xD2511F53, kM1 = 0xCD9E8D57;  // round multipliers
  static constexpr uint32_t kW0 = 0x9E3779B9, kW1 = 0xBB67AE85;  // Weyl key increments (golden ratio, sqrt 3)
  uint32_t k0_, k1_;
  uint64_t hi_, lo_;
};

// One 32-bit sample at a time from consecutive blocks (TensorFlow's SingleSampleAdapter), for
// distributions that use a variable number of samples per output.
class SampleStream {
 public:
  // Starts at 32-bit sample `first` of the stream (sample i is word i % 4 of block i / 4).
  SampleStream(const Philox4x32& gen, uint64_t first) : gen_(gen), next_(first / 4) {
    if (first % 4 != 0) {
      buf_ = gen_.at(next_++);
      used_ = (int)(first % 4);
    }
  }
  uint32_t operator()() {
    if (used_ == 4) {
      buf_ = gen_.at(next_++);
      used_ = 0;
    }
    return buf_[used_++];
  }

 private:
  const Philox4x32& gen_;
  uint64_t next_;
  Block buf_{};
  int used_ = 4;
};

// [0, 1) from the 23 low bits as a float mantissa: exponent 127 gives [1, 2), minus one. Every value is a
// multiple of 2^-23, so 1.0 can never come out.
inline float uint32_to_float(uint32_t x) {
  uint32_t bits = (127u << 23) | (x & 0x7fffffu);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f - 1.0f;
}

// [0, 1) from 52 bits: the low 20 bits of `hi` and all of `lo` form the mantissa.
inline double uint64_to_double(uint32_t hi, uint32_t lo) {
  uint64_t bits = (1023ull << 52) | ((uint64_t)(hi & 0xfffffu) << 32) | lo;
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d - 1.0;
}

// Box-Muller: two uniforms to two independent standard normals. u1 is kept away from 0 so log stays finite.
inline void box_muller(float u1, float u2, float* z0, float* z1) {
  if (u1 < 1.0e-7f) u1 = 1.0e-7f;
  const float r = std::sqrt(-2.0f * std::log(u1));
  const float theta = (float)(2.0 * M_PI * u2);  // the product in double, as TensorFlow computes it
  *z0 = std::sin(theta) * r;
  *z1 = std::cos(theta) * r;
}
inline void box_muller(double u1, double u2, double* z0, double* z1) {
  if (u1 < 1.0e-7) u1 = 1.0e-7;
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * M_PI * u2;
  *z0 = std::sin(theta) * r;
  *z1 = std::cos(theta) * r;
}

}  // namespace philox
}  // namespace tideflow
