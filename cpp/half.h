#pragma once
// float16 and bfloat16 element types: storage of 16 bits, arithmetic in float32.
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace tideflow {

// Note [reduced-precision floats]
// `half` (IEEE binary16, TF's float16) and `bfloat16` (the upper 16 bits of a float32) store 16 bits and
// convert to float implicitly; C++ arithmetic on them is float arithmetic, and storing the result back
// rounds it to nearest-even. This is what Eigen's half and bfloat16 do for TensorFlow's CPU kernels, so a
// templated elementwise kernel written for float runs on them per element with TensorFlow's rounding.
// Kernels that accumulate (reductions, matmul, convolutions, softmax) instead run their float32
// instantiation on float32 copies and round once at the end (`via_float32` in ops/reduced_float.h), as
// TensorFlow does for bfloat16 sums; that is at least as accurate as TF's per-step rounding.
// Conversions from every other type go through float32, as Eigen's do: a double rounds to float first,
// so float64 -> float16 may round twice, exactly as tf.cast does (tested against TF).
// There are no operators on the types themselves, only the conversion: a mixed expression such as
// `h * 0.5` is plain float/double arithmetic, and a kernel branch chosen with std::is_floating_point_v
// would silently take the integer path, so kernels ask `is_float_v<T>` (dtype.h) instead.

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float float_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Round to nearest even, with subnormals; NaN stays a (quiet) NaN of the same sign, overflow is inf.
inline uint16_t half_bits_from_float(float v) {
  uint32_t f = float_bits(v);
  const uint32_t sign = f & 0x80000000u;
  f ^= sign;
  uint16_t o;
  if (f >= 0x47800000u) {  // >= 65536 (rounds to inf), inf or NaN
    o = f > 0x7f800000u ? 0x7e00 : 0x7c00;
  } else if (f < 0x38800000u) {  // below 2^-14: a subnormal half or zero
    // Adding 0.5 aligns the ten result bits at the bottom of the float's mantissa; the FPU rounds to
    // nearest even.
    const uint32_t magic = 0x3f000000u;  // 0.5f
    o = static_cast<uint16_t>(float_bits(float_from_bits(f) + float_from_bits(magic)) - magic);
  } else {
    const uint32_t odd = (f >> 13) & 1u;
    f += 0xc8000fffu + odd;  // rebias the exponent (-112 << 23, mod 2^32) and round half to even
    o = static_cast<uint16_t>(f >> 13);  // a carry into the exponent gives the next binade or inf
  }
  return static_cast<uint16_t>(o | (sign >> 16));
}

inline float half_bits_to_float(uint16_t h) {
  const uint32_t shifted_exp = 0x7c00u << 13;
  uint32_t o = (uint32_t)(h & 0x7fffu) << 13;
  const uint32_t exp = shifted_exp & o;
  o += (127u - 15u) << 23;
  if (exp == shifted_exp) {
    o += (128u - 16u) << 23;  // inf or NaN
  } else if (exp == 0) {
    o += 1u << 23;  // zero or subnormal: renormalize through the FPU
    o = float_bits(float_from_bits(o) - float_from_bits(113u << 23));
  }
  return float_from_bits(o | ((uint32_t)(h & 0x8000u) << 16));
}

inline uint16_t bfloat16_bits_from_float(float v) {
  const uint32_t f = float_bits(v);
  if ((f & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((f >> 16) | 0x40u);  // quiet NaN, sign kept
  return static_cast<uint16_t>((f + 0x7fffu + ((f >> 16) & 1u)) >> 16);
}
inline float bfloat16_bits_to_float(uint16_t b) { return float_from_bits((uint32_t)b << 16); }

#define TIDEFLOW_16BIT_FLOAT(Name, to_bits, from_bits)                                                   \
  struct Name {                                                                                        \
    uint16_t bits = 0;                                                                                 \
    Name() = default;                                                                                  \
    template <class A, std::enable_if_t<std::is_arithmetic_v<A>, int> = 0>                              \
    Name(A v) : bits(to_bits(static_cast<float>(v))) {} /* NOLINT: implicit, as a float result stores */ \
    operator float() const { return from_bits(bits); }                                                 \
    static Name from_raw(uint16_t b) {                                                                 \
      Name h;                                                                                          \
      h.bits = b;                                                                                      \
      return h;                                                                                        \
    }                                                                                                  \
    template <class A> Name& operator+=(A v) { return *this = Name(float(*this) + v); }                \
    template <class A> Name& operator-=(A v) { return *this = Name(float(*this) - v); }                \
    template <class A> Name& operator*=(A v) { return *this = Name(float(*this) * v); }                \
    template <class A> Name& operator/=(A v) { return *this = Name(float(*this) / v); }                \
  };

TIDEFLOW_16BIT_FLOAT(half, half_bits_from_float, half_bits_to_float)
TIDEFLOW_16BIT_FLOAT(bfloat16, bfloat16_bits_from_float, bfloat16_bits_to_float)
#undef TIDEFLOW_16BIT_FLOAT

static_assert(sizeof(half) == 2 && sizeof(bfloat16) == 2, "16-bit floats are two bytes");

}  // namespace tideflow

// numeric_limits, for kernels that ask for infinity(), lowest() or max() of their element type.
namespace tideflow::detail {
template <class T, uint16_t Max, uint16_t Min, uint16_t Eps, uint16_t Denorm, int Digits>
struct Float16Limits {
  static constexpr bool is_specialized = true, is_signed = true, is_integer = false, is_exact = false;
  static constexpr bool has_infinity = true, has_quiet_NaN = true, has_signaling_NaN = true;
  static constexpr int digits = Digits, radix = 2;
  static T min() { return T::from_raw(Min); }
  static T lowest() { return T::from_raw(Max | 0x8000); }
  static T max() { return T::from_raw(Max); }
  static T epsilon() { return T::from_raw(Eps); }
  static T denorm_min() { return T::from_raw(Denorm); }
  static T infinity() { return T::from_raw(Max + 1); }  // the largest finite value plus one ulp
  static T quiet_NaN() { return T::from_raw(Max == 0x7bff ? 0x7e00 : 0x7fc0); }
};
}  // namespace tideflow::detail

namespace std {
template <>
struct numeric_limits<tideflow::half> : tideflow::detail::Float16Limits<tideflow::half, 0x7bff, 0x0400, 0x1400, 0x0001, 11> {};
template <>
struct numeric_limits<tideflow::bfloat16>
    : tideflow::detail::Float16Limits<tideflow::bfloat16, 0x7f7f, 0x0080, 0x3c00, 0x0001, 8> {};
}  // namespace std
