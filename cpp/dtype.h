#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "errors.h"
#include "half.h"

namespace tideflow {

// Variant: a scalar holding an object the engine passes between nodes (a while loop's trace of the
// values its gradient needs, Note [traces] in ops/while_loop.cc); never fed, fetched or serialized.
// New dtypes are appended: the numbers are stable (bindings, saved graphs).
enum class DType : int8_t {
  Float32 = 0, Float64 = 1, Int32 = 2, Int64 = 3, Bool = 4, String = 5, Variant = 6,
  UInt8 = 7, Int8 = 8, Int16 = 9, UInt16 = 10, Float16 = 11, BFloat16 = 12,
};
constexpr int kNumDTypes = 13;

inline size_t dtype_size(DType d) {
  switch (d) {
    case DType::Float32: case DType::Int32: return 4;
    case DType::Float64: case DType::Int64: return 8;
    case DType::Bool: case DType::UInt8: case DType::Int8: return 1;
    case DType::Int16: case DType::UInt16: case DType::Float16: case DType::BFloat16: return 2;
    case DType::String: return sizeof(std::string);
    case DType::Variant: return 0;
  }
  return 0;
}

inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
    case DType::String: return "string";
    case DType::Variant: return "variant";
    case DType::UInt8: return "uint8";
    case DType::Int8: return "int8";
    case DType::Int16: return "int16";
    case DType::UInt16: return "uint16";
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
  }
  return "?";
}

// Note [dtype sets]
// An op states the dtypes it accepts as a DTypeSet (a bit per DType), checked in its shape function so a
// wrong dtype is a TypeError at the line that built the node, and its kernel dispatches over the same set
// (`dispatch<Set>`), so a kernel is instantiated for, and can only run on, the dtypes it was written for.
// The sets follow TensorFlow's CPU kernel registrations (TF_CALL_REAL_NUMBER_TYPES and friends):
// kFloat covers float16 and bfloat16 (Note [reduced-precision floats] in half.h), kInt the 8- and 16-bit
// integers. The predicates is_floating/is_integer/is_numeric below keep naming the four dtypes every
// kernel family handles natively (float32/64, int32/64): existing checks written with them stay safe,
// and an op opts into the narrow dtypes by naming a set.
using DTypeSet = uint32_t;
constexpr DTypeSet dset(DType d) { return DTypeSet(1) << static_cast<int>(d); }
constexpr DTypeSet kF32F64 = dset(DType::Float32) | dset(DType::Float64);
constexpr DTypeSet kHalfFloat = dset(DType::Float16) | dset(DType::BFloat16);
constexpr DTypeSet kFloat = kF32F64 | kHalfFloat;
constexpr DTypeSet kI32I64 = dset(DType::Int32) | dset(DType::Int64);
constexpr DTypeSet kUnsigned = dset(DType::UInt8) | dset(DType::UInt16);
constexpr DTypeSet kSignedInt = kI32I64 | dset(DType::Int8) | dset(DType::Int16);
constexpr DTypeSet kInt = kSignedInt | kUnsigned;
constexpr DTypeSet kBool = dset(DType::Bool);
constexpr DTypeSet kNumeric = kFloat | kInt;
constexpr DTypeSet kPod = kNumeric | kBool;
constexpr DTypeSet kAllTypes = kPod | dset(DType::String);  // data movement: every dtype but variant

inline bool in_set(DType d, DTypeSet s) { return (s & dset(d)) != 0; }
inline std::string dtypes_str(DTypeSet s) {  // "float16, bfloat16, float32, ..." in TensorFlow's order
  static const DType order[] = {DType::Float16, DType::BFloat16, DType::Float32, DType::Float64, DType::Int8,
                                DType::Int16, DType::Int32, DType::Int64, DType::UInt8, DType::UInt16,
                                DType::Bool, DType::String};
  std::string r;
  for (DType d : order)
    if (in_set(d, s)) r += (r.empty() ? "" : ", ") + std::string(dtype_name(d));
  return r;
}

inline bool is_floating(DType d) { return d == DType::Float32 || d == DType::Float64; }
inline bool is_integer(DType d) { return d == DType::Int32 || d == DType::Int64; }
inline bool is_numeric(DType d) { return is_floating(d) || is_integer(d); }
// float16 and bfloat16, computed in float32 (Note [reduced-precision floats]).
inline bool is_half_float(DType d) { return in_set(d, kHalfFloat); }
// Every floating dtype: what gradients flow through (TensorFlow's DType.is_floating).
inline bool is_any_float(DType d) { return in_set(d, kFloat); }
inline bool is_any_integer(DType d) { return in_set(d, kInt); }

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::UInt8; };
template <> struct dtype_of<int8_t> { static constexpr DType value = DType::Int8; };
template <> struct dtype_of<int16_t> { static constexpr DType value = DType::Int16; };
template <> struct dtype_of<uint16_t> { static constexpr DType value = DType::UInt16; };
template <> struct dtype_of<half> { static constexpr DType value = DType::Float16; };
template <> struct dtype_of<bfloat16> { static constexpr DType value = DType::BFloat16; };

// A floating element type, the 16-bit ones included: kernels branch on this, never on
// std::is_floating_point_v (Note [reduced-precision floats]).
template <class T>
constexpr bool is_float_v = std::is_floating_point_v<T> || std::is_same_v<T, half> || std::is_same_v<T, bfloat16>;
// float for the 16-bit floats, else T: the type to accumulate or compute in.
template <class T>
using compute_t = std::conditional_t<std::is_same_v<T, half> || std::is_same_v<T, bfloat16>, float, T>;

// a * b for integers without signed-overflow UB (uint16 * uint16 promotes to int and may overflow):
// wraps modulo 2^bits, as TensorFlow's kernels do in practice. Floats multiply as usual.
template <class T> T wrapping_mul(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return a * b;
  }
}

// Note [dtype dispatch]
// Kernels are templates over the element type; `dispatch<Set>` picks the instantiation at run time and
// throws a clear error for a dtype outside the set, instead of a macro per dtype list (Note [dtype sets]).
// `f` receives a value of the element type (only its type matters). dispatch_float, dispatch_numeric and
// dispatch_pod are the sets over float32/64, int32/64 (and bool) that most kernels were written for.
[[noreturn]] inline void dispatch_fail(DType d, const char* what) {
  throw Error(ErrorCode::InvalidArgument, std::string(what) + " does not support dtype " + dtype_name(d));
}
template <DTypeSet S, class F> void dispatch(DType d, const char* what, F&& f) {
#define TIDEFLOW_DISPATCH_CASE(E, T)                     \
  case DType::E:                                         \
    if constexpr ((S & dset(DType::E)) != 0) { f(T{}); return; } \
    break;
  switch (d) {
    TIDEFLOW_DISPATCH_CASE(Float32, float)
    TIDEFLOW_DISPATCH_CASE(Float64, double)
    TIDEFLOW_DISPATCH_CASE(Int32, int32_t)
    TIDEFLOW_DISPATCH_CASE(Int64, int64_t)
    TIDEFLOW_DISPATCH_CASE(Bool, bool)
    TIDEFLOW_DISPATCH_CASE(UInt8, uint8_t)
    TIDEFLOW_DISPATCH_CASE(Int8, int8_t)
    TIDEFLOW_DISPATCH_CASE(Int16, int16_t)
    TIDEFLOW_DISPATCH_CASE(UInt16, uint16_t)
    TIDEFLOW_DISPATCH_CASE(Float16, half)
    TIDEFLOW_DISPATCH_CASE(BFloat16, bfloat16)
    TIDEFLOW_DISPATCH_CASE(String, std::string)
    case DType::Variant: break;
  }
#undef TIDEFLOW_DISPATCH_CASE
  dispatch_fail(d, what);
}
template <class F> void dispatch_float(DType d, const char* what, F&& f) { dispatch<kF32F64>(d, what, f); }
template <class F> void dispatch_numeric(DType d, const char* what, F&& f) {
  dispatch<kF32F64 | kI32I64>(d, what, f);
}
template <class F> void dispatch_pod(DType d, const char* what, F&& f) {
  dispatch<kF32F64 | kI32I64 | kBool>(d, what, f);
}

// TensorFlow's Cast of one value (Note [cast semantics] in ops/elementwise_unary.cc): integers narrow
// modulo 2^bits; a float becomes an integer by truncation toward zero, through int32 (int64 for int64) as
// x86's truncating conversion does (INT_MIN of that width when out of range or NaN), saturated to 8- and
// 16-bit types; anything becomes bool as x != 0; 16-bit floats convert through float32 (round to nearest even).
template <class D, class S> D cast_value(S v) {
  if constexpr (std::is_same_v<D, S>) {
    return v;
  } else if constexpr (std::is_same_v<D, bool>) {
    return static_cast<compute_t<S>>(v) != 0;
  } else if constexpr (is_float_v<S> && std::is_integral_v<D>) {
    using W = std::conditional_t<(sizeof(D) > 4), int64_t, int32_t>;
    const double x = static_cast<double>(static_cast<compute_t<S>>(v));
    constexpr double lo = sizeof(W) == 8 ? -9223372036854775808.0 : -2147483649.0;  // exclusive for int32
    constexpr double hi = sizeof(W) == 8 ? 9223372036854775808.0 : 2147483648.0;
    const bool in_range = sizeof(W) == 8 ? (x >= lo && x < hi) : (x > lo && x < hi);  // false for NaN
    const W w = in_range ? static_cast<W>(x) : W(sizeof(W) == 8 ? INT64_MIN : INT32_MIN);
    if constexpr (sizeof(D) < 4) {
      constexpr W lo_d = std::numeric_limits<D>::min(), hi_d = std::numeric_limits<D>::max();
      return static_cast<D>(w < lo_d ? lo_d : w > hi_d ? hi_d : w);
    } else {
      return static_cast<D>(w);
    }
  } else if constexpr (std::is_same_v<D, half> || std::is_same_v<D, bfloat16>) {
    return D(static_cast<float>(static_cast<compute_t<S>>(v)));
  } else {
    return static_cast<D>(static_cast<compute_t<S>>(v));
  }
}

}  // namespace tideflow
