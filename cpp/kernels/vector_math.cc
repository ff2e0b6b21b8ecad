// Float32 exp, log, tanh and sigmoid over arrays (declared in vector_math.h).
#include "kernels/vector_math.h"

#include <cfloat>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>

namespace tideflow {
namespace vecmath {
namespace {

// Note [vector math]
// Each function is written once, as Eigen writes its packet math, over a lane type T: float (one lane)
// or f8 / f16, GCC vectors of 8 or 16 floats, whose arithmetic, comparisons and ?: blends act lane by
// lane. The array loops instantiate it with f16 inside a function compiled for AVX-512, with f8 inside
// one compiled for AVX2 + FMA (chosen at run time by what the CPU has), and with float elsewhere, where
// GCC still vectorizes the branch-free loop for SSE2 (CMakeLists gives this file -fno-trapping-math).
// Under AVX2 and AVX-512, a * b + c becomes one FMA (-ffp-contract=fast), so those two round alike, lane
// for lane (tests/test_vector_math.py compares their bits), and the portable build slightly differently;
// all stay within about 2 ulp of the true value (the tests measure them against float64). The 16-lane
// loop is the LSTM cell's: its gates took 0.9 ns an element in 8 lanes, 0.6 in 16 (Zen 4).
//   exp: Cephes' expf. x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two so n ln2 is exact, n rounded
//     by adding 1.5 * 2^23), a degree-6 polynomial for e^r, and 2^n built from exponent bits as
//     2^(n/2) 2^(n - n/2) so each factor is a normal float and subnormal results round once. Inputs are
//     clamped to [-104, ln(FLT_MAX)]: below, e^x rounds to 0 even as a subnormal; above is +inf.
//   log: Cephes' logf. x = 2^e m with m in [sqrt(1/2), sqrt(2)) (subnormals are first scaled by 2^23),
//     log(m) = f - f^2/2 + f^3 P(f) with f = m - 1, and e ln2 added in two parts, the big one last.
//   tanh: Cephes' tanhf. An odd polynomial where |x| < 0.625 (below, 1 - e^-2|x| would cancel), else
//     (1 - e) / (1 + e) with e = e^-2|x|, which goes to 1 without overflow.
//   sigmoid: 1 / (1 + e) for x >= 0 and e / (1 + e) below, e = e^-|x| (never overflows).
// Special values come out as TensorFlow's: exp(-inf) = 0, exp(inf) = inf, log(0) = -inf, log(x < 0) = NaN,
// log(inf) = inf, tanh(+-inf) = +-1, sigmoid(-inf) = 0, sigmoid(inf) = 1, and NaN stays NaN.

typedef float f8 __attribute__((vector_size(32)));
typedef int32_t i8 __attribute__((vector_size(32)));
typedef float f16 __attribute__((vector_size(64)));
typedef int32_t i16 __attribute__((vector_size(64)));

#define VM_INLINE __attribute__((always_inline)) inline

template <class T> struct IntLanes { using type = int32_t; };
template <> struct IntLanes<f8> { using type = i8; };
template <> struct IntLanes<f16> { using type = i16; };
template <class T> using I = typename IntLanes<T>::type;

template <class T> VM_INLINE T splat(float v) {
  if constexpr (std::is_same_v<T, float>) return v;
  else return T{} + v;
}
template <class T> VM_INLINE I<T> splat_int(int32_t v) {
  if constexpr (std::is_same_v<T, float>) return v;
  else return I<T>{} + v;
}
template <class T> VM_INLINE I<T> to_bits(T x) {
  I<T> b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
template <class T> VM_INLINE T from_bits(I<T> b) {
  T x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// c[0] x^(N-1) + ... + c[N-1].
template <class T, size_t N> VM_INLINE T horner(T x, const float (&c)[N]) {
  T p = splat<T>(c[0]);
  for (size_t i = 1; i < N; ++i) p = p * x + c[i];
  return p;
}

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int32_t kAbsMask = 0x7fffffff;
constexpr int32_t kSignMask = static_cast<int32_t>(0x80000000u);

template <class T> VM_INLINE T abs_(T x) { return from_bits<T>(to_bits(x) & kAbsMask); }
template <class T> VM_INLINE T copysign_(T mag, T sgn) {
  return from_bits<T>((to_bits(mag) & kAbsMask) | (to_bits(sgn) & kSignMask));
}

constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer in the low bits
constexpr int32_t kRoundBits = 0x4b400000;

// Small integers (|i| < 2^22) to float without a conversion instruction the generic vectors lack: in
// 1.5 * 2^23 + i the low mantissa bits are i.
template <class T> VM_INLINE T to_float(I<T> i) { return from_bits<T>(i + kRoundBits) - kRound; }

constexpr float kExpHi = 88.72283905206835f;  // ln(FLT_MAX)
constexpr float kExpLo = -104.0f;
constexpr float kExpP[] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                           4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

template <class T> VM_INLINE T pow2i(I<T> n) { return from_bits<T>((n + 127) << 23); }  // n in [-126, 127]

template <class T> VM_INLINE T exp_(T x) {
  const T c = x > kExpHi ? splat<T>(kExpHi) : (x < kExpLo ? splat<T>(kExpLo) : x);
  const T t = c * 1.44269504088896341f + kRound;
  const I<T> n = to_bits(t) - kRoundBits;
  const T fn = t - kRound;
  const T r = (c - fn * 0.693359375f) + fn * 2.12194440e-4f;
  const T p = horner(r, kExpP) * r * r + r + 1.0f;
  const I<T> n1 = n >> 1;
  T y = p * pow2i<T>(n1) * pow2i<T>(n - n1);
  y = x > kExpHi ? splat<T>(kInf) : y;
  return x != x ? x : y;
}

constexpr float kLogP[] = {7.0376836292e-2f,  -1.1514610310e-1f, 1.1676998740e-1f,
                           -1.2420140846e-1f, 1.4249322787e-1f,  -1.6668057665e-1f,
                           2.0000714765e-1f,  -2.4999993993e-1f, 3.3333331174e-1f};

template <class T> VM_INLINE T log_(T x) {
  const auto tiny = x < FLT_MIN;  // subnormal (or zero or negative, replaced at the end)
  const T xs = tiny ? x * 8388608.0f : x;
  const I<T> b = to_bits(xs);
  const I<T> e = (b >> 23) - (tiny ? splat_int<T>(126 + 23) : splat_int<T>(126));
  const T m = from_bits<T>((b & 0x007fffff) | 0x3f000000);  // in [0.5, 1)
  const auto low = m < 0.707106781186547524f;
  const T fe = to_float<T>(e) - (low ? splat<T>(1.0f) : splat<T>(0.0f));
  const T f = (low ? m + m : m) - 1.0f;
  const T z = f * f;
  T y = horner(f, kLogP) * f * z;
  y = y + fe * -2.12194440e-4f;
  y = y - z * 0.5f;
  T r = f + y;
  r = r + fe * 0.693359375f;
  r = x == kInf ? splat<T>(kInf) : r;
  r = x < 0.0f ? splat<T>(kNaN) : r;
  r = x == 0.0f ? splat<T>(-kInf) : r;
  return x != x ? x : r;
}

constexpr float kTanhP[] = {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f, 1.33314422036e-1f,
                            -3.33332819422e-1f};

template <class T> VM_INLINE T tanh_(T x) {
  const T a = abs_(x), z = x * x;
  const T small = horner(z, kTanhP) * z * x + x;
  const T e = exp_(a * -2.0f);
  const T big = (1.0f - e) / (1.0f + e);
  return copysign_(a < 0.625f ? small : big, x);  // the sign also keeps tanh(-0) = -0
}

template <class T> VM_INLINE T sigmoid_(T x) {
  const T e = exp_(from_bits<T>(to_bits(x) | kSignMask));  // e^-|x|
  return (x >= 0.0f ? splat<T>(1.0f) : e) / (1.0f + e);
}

struct Exp { template <class T> static VM_INLINE T f(T x) { return exp_(x); } };
struct Log { template <class T> static VM_INLINE T f(T x) { return log_(x); } };
struct Tanh { template <class T> static VM_INLINE T f(T x) { return tanh_(x); } };
struct Sigmoid { template <class T> static VM_INLINE T f(T x) { return sigmoid_(x); } };

template <class K> void map_scalar(const float* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = K::f(in[i]);
}

#if defined(__x86_64__)
// V lanes at a time; the tail through a zero-padded vector, so it rounds as the rest does.
template <class K, class V> VM_INLINE void map_lanes(const float* in, float* out, int64_t n) {
  constexpr int64_t L = sizeof(V) / sizeof(float);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    V v;
    std::memcpy(&v, in + i, sizeof v);
    v = K::f(v);
    std::memcpy(out + i, &v, sizeof v);
  }
  if (i < n) {
    const size_t bytes = (n - i) * sizeof(float);
    V v = {};
    std::memcpy(&v, in + i, bytes);
    v = K::f(v);
    std::memcpy(out + i, &v, bytes);
  }
}
template <class K> __attribute__((target("avx2,fma"))) void map_avx2(const float* in, float* out, int64_t n) {
  map_lanes<K, f8>(in, out, n);
}
template <class K> __attribute__((target("avx512f,avx2,fma"))) void map_avx512(const float* in, float* out, int64_t n) {
  map_lanes<K, f16>(in, out, n);
}
#endif

using MapFn = void (*)(const float*, float*, int64_t);

// TIDEFLOW_VECMATH=scalar forces the portable loops and =avx2 the 8-lane ones, so tests can check them
// on a machine with more.
template <class K> MapFn pick() {
#if defined(__x86_64__)
  const char* env = std::getenv("TIDEFLOW_VECMATH");
  const bool scalar = env && std::strcmp(env, "scalar") == 0, avx2 = env && std::strcmp(env, "avx2") == 0;
  const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!scalar && !avx2 && has_avx2 && __builtin_cpu_supports("avx512f")) return map_avx512<K>;
  if (!scalar && has_avx2) return map_avx2<K>;
#endif
  return map_scalar<K>;
}

}  // namespace

void exp_f32(const float* in, float* out, int64_t n) {
  static const MapFn f = pick<Exp>();
  f(in, out, n);
}
void log_f32(const float* in, float* out, int64_t n) {
  static const MapFn f = pick<Log>();
  f(in, out, n);
}
void tanh_f32(const float* in, float* out, int64_t n) {
  static const MapFn f = pick<Tanh>();
  f(in, out, n);
}
void sigmoid_f32(const float* in, float* out, int64_t n) {
  static const MapFn f = pick<Sigmoid>();
  f(in, out, n);
}

}  // namespace vecmath
}  // namespace tideflow
