// tideflow's C++ API, part 1: errors, data types and tensors. Header-only over the C ABI (c_api.h), so a
// program may be built with another compiler or standard library than tideflow itself. C++17.
#pragma once

#if __cplusplus < 201703L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 201703L)
#error "tideflow's C++ API needs C++17 (for C, include tideflow/c_api.h)"
#endif

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tideflow/c_api.h"

namespace tideflow {
// Note [inline namespace]: the C++ API's names (tideflow::Tensor, tideflow::Graph...) are spelled, and
// mangled, as tideflow::v1::..., so they can never collide with libtideflow's internal C++ symbols, which
// share the `tideflow` namespace.
inline namespace v1 {

// ---- errors ----------------------------------------------------------------------------------------

// TensorFlow's error codes, and the graph-construction errors Python raises as ValueError / TypeError /
// LookupError.
enum class Code : int {
  Ok = TFL_OK, Cancelled = TFL_CANCELLED, Unknown = TFL_UNKNOWN, InvalidArgument = TFL_INVALID_ARGUMENT,
  DeadlineExceeded = TFL_DEADLINE_EXCEEDED, NotFound = TFL_NOT_FOUND, AlreadyExists = TFL_ALREADY_EXISTS,
  PermissionDenied = TFL_PERMISSION_DENIED, ResourceExhausted = TFL_RESOURCE_EXHAUSTED,
  FailedPrecondition = TFL_FAILED_PRECONDITION, Aborted = TFL_ABORTED, OutOfRange = TFL_OUT_OF_RANGE,
  Unimplemented = TFL_UNIMPLEMENTED, Internal = TFL_INTERNAL, Unavailable = TFL_UNAVAILABLE,
  DataLoss = TFL_DATA_LOSS, Unauthenticated = TFL_UNAUTHENTICATED,
  ValueError = TFL_VALUE_ERROR, TypeError = TFL_TYPE_ERROR, LookupError = TFL_LOOKUP_ERROR,
};

// Every failure is an Error carrying the code and the message a Python user of tideflow sees; the class
// is the matching subclass below (catch InvalidArgumentError, or Error and look at code()).
class Error : public std::runtime_error {
 public:
  Error(Code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Code code() const noexcept { return code_; }
  // TensorFlow's class name: "InvalidArgumentError", "ValueError"...
  const char* name() const noexcept { return TFL_CodeName(static_cast<TFL_Code>(code_)); }

 private:
  Code code_;
};

#define TIDEFLOW_ERROR_CLASS(cls, code_value) \
  class cls : public Error {                  \
   public:                                    \
    explicit cls(const std::string& m) : Error(Code::code_value, m) {} \
  };
TIDEFLOW_ERROR_CLASS(CancelledError, Cancelled)
TIDEFLOW_ERROR_CLASS(UnknownError, Unknown)
TIDEFLOW_ERROR_CLASS(InvalidArgumentError, InvalidArgument)
TIDEFLOW_ERROR_CLASS(NotFoundError, NotFound)
TIDEFLOW_ERROR_CLASS(AlreadyExistsError, AlreadyExists)
TIDEFLOW_ERROR_CLASS(ResourceExhaustedError, ResourceExhausted)
TIDEFLOW_ERROR_CLASS(FailedPreconditionError, FailedPrecondition)
TIDEFLOW_ERROR_CLASS(OutOfRangeError, OutOfRange)
TIDEFLOW_ERROR_CLASS(UnimplementedError, Unimplemented)
TIDEFLOW_ERROR_CLASS(InternalError, Internal)
TIDEFLOW_ERROR_CLASS(DataLossError, DataLoss)
TIDEFLOW_ERROR_CLASS(ValueError, ValueError)
TIDEFLOW_ERROR_CLASS(TypeError, TypeError)
TIDEFLOW_ERROR_CLASS(LookupError, LookupError)
#undef TIDEFLOW_ERROR_CLASS

namespace detail {

[[noreturn]] inline void throw_error(Code code, const std::string& m) {
  switch (code) {
    case Code::Cancelled: throw CancelledError(m);
    case Code::InvalidArgument: throw InvalidArgumentError(m);
    case Code::NotFound: throw NotFoundError(m);
    case Code::AlreadyExists: throw AlreadyExistsError(m);
    case Code::ResourceExhausted: throw ResourceExhaustedError(m);
    case Code::FailedPrecondition: throw FailedPreconditionError(m);
    case Code::OutOfRange: throw OutOfRangeError(m);
    case Code::Unimplemented: throw UnimplementedError(m);
    case Code::Internal: throw InternalError(m);
    case Code::DataLoss: throw DataLossError(m);
    case Code::ValueError: throw ValueError(m);
    case Code::TypeError: throw TypeError(m);
    case Code::LookupError: throw LookupError(m);
    case Code::Unknown: throw UnknownError(m);
    default: throw Error(code, m);
  }
}

// One status object per thread, reused by every call: a call costs no allocation when it succeeds.
class Status {
 public:
  Status() : s_(TFL_NewStatus()) {
    if (!s_) throw ResourceExhaustedError("out of memory allocating a TFL_Status");
  }
  ~Status() { TFL_DeleteStatus(s_); }
  Status(const Status&) = delete;
  Status& operator=(const Status&) = delete;
  TFL_Status* get() const { return s_; }
  void check() const {
    TFL_Code c = TFL_GetCode(s_);
    if (c != TFL_OK) throw_error(static_cast<Code>(c), TFL_Message(s_));
  }

 private:
  TFL_Status* s_;
};

inline Status& status() {
  static thread_local Status s;
  return s;
}

// Calls a C function with the thread's status appended, and throws if it failed.
template <class F, class... A>
auto call(F&& f, A&&... args) -> decltype(f(std::forward<A>(args)..., static_cast<TFL_Status*>(nullptr))) {
  Status& s = status();
  if constexpr (std::is_void_v<decltype(f(std::forward<A>(args)..., s.get()))>) {
    f(std::forward<A>(args)..., s.get());
    s.check();
  } else {
    auto r = f(std::forward<A>(args)..., s.get());
    s.check();
    return r;
  }
}

// Reads a string a C function writes snprintf-style into a buffer.
template <class F>
std::string read_string(F&& f) {
  char buf[256];
  size_t n = f(buf, sizeof buf);
  if (n < sizeof buf) return std::string(buf, n);
  std::string s(n + 1, '\0');
  f(&s[0], s.size());
  s.resize(n);
  return s;
}

}  // namespace detail

// ---- data types and shapes -----------------------------------------------------------------------

enum class DType : int {
  Float32 = TFL_FLOAT, Float64 = TFL_DOUBLE, Int32 = TFL_INT32, Int64 = TFL_INT64, Bool = TFL_BOOL,
  String = TFL_STRING, UInt8 = TFL_UINT8, Int8 = TFL_INT8, Int16 = TFL_INT16, UInt16 = TFL_UINT16,
  Float16 = TFL_HALF, BFloat16 = TFL_BFLOAT16,  // element data: the 16 bits of each value (uint16_t)
};
constexpr DType float32 = DType::Float32;
constexpr DType float64 = DType::Float64;
constexpr DType int32 = DType::Int32;
constexpr DType int64 = DType::Int64;

inline const char* dtype_name(DType d) { return TFL_DataTypeName(static_cast<TFL_DataType>(d)); }
inline bool is_floating(DType d) { return d == DType::Float32 || d == DType::Float64; }
inline bool is_integer(DType d) { return d == DType::Int32 || d == DType::Int64; }

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

// A tensor's shape; -1 marks an unknown dimension in graph-construction (static) shapes.
using Shape = std::vector<int64_t>;

// A static shape that may also have an unknown rank (a placeholder's `shape` attribute, TF's None).
struct PartialShape {
  bool known_rank = false;
  Shape dims;
  PartialShape() = default;                                             // unknown rank
  PartialShape(Shape d) : known_rank(true), dims(std::move(d)) {}       // NOLINT: implicit on purpose
  PartialShape(std::initializer_list<int64_t> d) : known_rank(true), dims(d) {}
  static PartialShape unknown() { return PartialShape(); }
  int rank() const { return known_rank ? static_cast<int>(dims.size()) : -1; }
};

inline std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

// ---- tensors ---------------------------------------------------------------------------------------

// A value: dtype, shape and a buffer, dense and row-major. Copies share the buffer; writing through
// mutable_data() first copies a buffer someone else still holds (a session's variable, another copy),
// so it never changes a value others see.
class Tensor {
 public:
  Tensor() = default;
  // Takes ownership of a C handle.
  explicit Tensor(TFL_Tensor* owned) : t_(owned) {}
  Tensor(const Tensor& o) : t_(o.t_ ? TFL_TensorNewRef(o.t_) : nullptr) {
    if (o.t_ && !t_) throw ResourceExhaustedError("out of memory copying a tensor handle");
  }
  Tensor(Tensor&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  Tensor& operator=(Tensor o) noexcept {
    std::swap(t_, o.t_);
    return *this;
  }
  ~Tensor() { TFL_DeleteTensor(t_); }

  // A scalar: Tensor(2.5f), Tensor(int64_t{3}), Tensor(true).
  template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
  Tensor(T value) : Tensor(std::vector<std::decay_t<T>>{value}, Shape{}) {}  // NOLINT: implicit on purpose
  // Floats in braces: Tensor{1.f, 2.f, 3.f} (a vector), Tensor({1, 2, 3, 4}, {2, 2}) (a float32 matrix).
  Tensor(std::initializer_list<float> values) : Tensor(std::vector<float>(values), Shape{static_cast<int64_t>(values.size())}) {}
  Tensor(std::initializer_list<float> values, const Shape& shape) : Tensor(std::vector<float>(values), shape) {}
  // Values copied into a tensor of `shape` (default: a vector).
  template <class T>
  Tensor(const std::vector<T>& values, const Shape& shape) {
    using E = std::conditional_t<std::is_same_v<T, int>, int32_t, std::conditional_t<std::is_same_v<T, long long>, int64_t, T>>;
    constexpr DType dt = dtype_of<E>::value;
    if constexpr (std::is_same_v<T, bool>) {
      std::vector<unsigned char> b(values.begin(), values.end());
      t_ = detail::call(TFL_NewTensorFromData, static_cast<TFL_DataType>(dt), shape.data(), static_cast<int>(shape.size()),
                        static_cast<const void*>(b.data()), b.size());
    } else {
      t_ = detail::call(TFL_NewTensorFromData, static_cast<TFL_DataType>(dt), shape.data(), static_cast<int>(shape.size()),
                        static_cast<const void*>(values.data()), values.size() * sizeof(T));
    }
  }
  template <class T>
  explicit Tensor(const std::vector<T>& values) : Tensor(values, Shape{static_cast<int64_t>(values.size())}) {}

  static Tensor zeros(DType dtype, const Shape& shape) {
    return Tensor(detail::call(TFL_AllocateTensor, static_cast<TFL_DataType>(dtype), shape.data(), static_cast<int>(shape.size())));
  }
  static Tensor strings(const std::vector<std::string>& values, const Shape& shape) {
    std::vector<const char*> p;
    std::vector<size_t> n;
    for (const std::string& s : values) {
      p.push_back(s.data());
      n.push_back(s.size());
    }
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    if (static_cast<int64_t>(values.size()) != count)
      throw InvalidArgumentError("Tensor::strings: " + std::to_string(values.size()) + " values for shape " +
                                 shape_str(shape));
    return Tensor(detail::call(TFL_NewStringTensor, shape.data(), static_cast<int>(shape.size()), p.data(), n.data()));
  }
  static Tensor string(const std::string& s) { return strings({s}, {}); }

  bool valid() const { return t_ != nullptr; }
  explicit operator bool() const { return valid(); }
  DType dtype() const { return static_cast<DType>(TFL_TensorType(handle())); }
  int rank() const { return TFL_NumDims(handle()); }
  int64_t dim(int i) const { return TFL_Dim(handle(), i); }
  Shape shape() const {
    Shape s(rank());
    for (int i = 0; i < static_cast<int>(s.size()); ++i) s[i] = dim(i);
    return s;
  }
  int64_t size() const { return TFL_TensorElementCount(handle()); }
  size_t nbytes() const { return TFL_TensorByteSize(handle()); }

  // Element data, checked against the dtype (a TypeError otherwise).
  template <class T> const T* data() const {
    expect<T>("data");
    return static_cast<const T*>(TFL_TensorData(t_));
  }
  template <class T> T* mutable_data() {
    expect<T>("mutable_data");
    void* p = TFL_TensorMutableData(t_);
    if (!p && nbytes()) throw ResourceExhaustedError("out of memory copying a tensor before writing it");
    return static_cast<T*>(p);
  }
  template <class T> T scalar() const {
    if (size() != 1) throw InvalidArgumentError("Tensor::scalar: the tensor has " + std::to_string(size()) + " elements");
    return data<T>()[0];
  }
  template <class T> std::vector<T> to_vector() const {
    const T* p = data<T>();
    return std::vector<T>(p, p + size());
  }
  std::string string_at(int64_t i) const {
    size_t n = 0;
    const char* p = TFL_TensorStringAt(handle(), i, &n);
    if (!p) throw InvalidArgumentError("Tensor::string_at: not a string tensor, or index " + std::to_string(i) + " out of range");
    return std::string(p, n);
  }
  std::string summary() const { return valid() ? std::string(dtype_name(dtype())) + shape_str(shape()) : "<empty>"; }

  TFL_Tensor* c() const { return t_; }
  TFL_Tensor* release() { return std::exchange(t_, nullptr); }

 private:
  const TFL_Tensor* handle() const {
    if (!t_) throw InvalidArgumentError("use of an empty Tensor");
    return t_;
  }
  template <class T> void expect(const char* what) const {
    using E = std::conditional_t<std::is_same_v<T, int>, int32_t, std::conditional_t<std::is_same_v<T, long long>, int64_t, T>>;
    if (dtype() != dtype_of<std::remove_cv_t<E>>::value)
      throw TypeError(std::string("Tensor::") + what + ": the tensor holds " + dtype_name(dtype()) + ", not " +
                      dtype_name(dtype_of<std::remove_cv_t<E>>::value));
  }

  TFL_Tensor* t_ = nullptr;
};

inline std::string version() { return TFL_Version(); }

}  // namespace v1
}  // namespace tideflow
