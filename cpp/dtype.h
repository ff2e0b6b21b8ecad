#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "errors.h"

namespace tideflow {

// Variant: a scalar holding an object the engine passes between nodes (a while loop's trace of the
// values its gradient needs, Note [traces] in ops/control_flow.cc); never fed, fetched or serialized.
enum class DType : int8_t { Float32 = 0, Float64 = 1, Int32 = 2, Int64 = 3, Bool = 4, String = 5, Variant = 6 };
constexpr int kNumDTypes = 7;

inline size_t dtype_size(DType d) {
  switch (d) {
    case DType::Float32: case DType::Int32: return 4;
    case DType::Float64: case DType::Int64: return 8;
    case DType::Bool: return 1;
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
  }
  return "?";
}

inline bool is_floating(DType d) { return d == DType::Float32 || d == DType::Float64; }
inline bool is_integer(DType d) { return d == DType::Int32 || d == DType::Int64; }
inline bool is_numeric(DType d) { return is_floating(d) || is_integer(d); }

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };

// Note [dtype dispatch]
// Kernels are templates over the element type; these helpers pick the instantiation at run time and
// throw a clear error for a dtype the kernel does not support, instead of a macro per dtype list.
// `f` receives a value of the element type (only its type matters).
template <class F> void dispatch_float(DType d, const char* what, F&& f) {
  switch (d) {
    case DType::Float32: f(float{}); return;
    case DType::Float64: f(double{}); return;
    default: throw Error(ErrorCode::InvalidArgument, std::string(what) + " does not support dtype " + dtype_name(d));
  }
}
template <class F> void dispatch_numeric(DType d, const char* what, F&& f) {
  switch (d) {
    case DType::Float32: f(float{}); return;
    case DType::Float64: f(double{}); return;
    case DType::Int32: f(int32_t{}); return;
    case DType::Int64: f(int64_t{}); return;
    default: throw Error(ErrorCode::InvalidArgument, std::string(what) + " does not support dtype " + dtype_name(d));
  }
}
template <class F> void dispatch_pod(DType d, const char* what, F&& f) {
  if (d == DType::Bool) { f(bool{}); return; }
  dispatch_numeric(d, what, std::forward<F>(f));
}

}  // namespace tideflow
