#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dtype.h"
#include "shape.h"

namespace tideflow {

// A reference-counted block of memory, 64-byte aligned when tideflow allocates it. A buffer borrowed from
// elsewhere (a NumPy feed) carries a release callback and is never written in place.
struct TF_API Buffer {
  void* data = nullptr;
  size_t nbytes = 0;
  std::function<void()> release;  // set for borrowed memory
  std::vector<std::string>* strings = nullptr;  // string tensors own their elements here
  std::shared_ptr<void> object;                 // a variant tensor's value
  size_t reuse_bytes = 0;  // > 0: freed into the cache of Note [big buffer reuse] (tensor.cc)

  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();
  bool borrowed() const { return static_cast<bool>(release); }
  static std::shared_ptr<Buffer> allocate(size_t nbytes);
  static std::shared_ptr<Buffer> allocate_strings(size_t n);
};

// The largest single allocation tideflow makes (bytes). Default: the machine's physical memory, or the
// TIDEFLOW_ALLOCATION_CAP environment variable. A bigger tensor raises ResourceExhausted before any memory
// is touched (Note [checked sizes] in shape.h).
TF_API size_t allocation_cap();
TF_API void set_allocation_cap(size_t bytes);  // 0 restores the default

// Row-major, contiguous. Copies share the buffer (reshape is a view); `unique()` tells a kernel it may
// write into an input buffer nobody else holds.
class TF_API Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, Dims dims);  // allocates, uninitialized
  Tensor(DType dtype, Dims dims, std::shared_ptr<Buffer> buf) : dtype_(dtype), dims_(std::move(dims)), buf_(std::move(buf)) {}

  template <class T> static Tensor scalar(T v) {
    Tensor t(dtype_of<T>::value, {});
    *t.data<T>() = v;
    return t;
  }
  static Tensor string_scalar(std::string s);
  static Tensor strings(Dims dims, std::vector<std::string> values);
  static Tensor variant(std::shared_ptr<void> object);  // a Variant scalar; `object` may be null
  template <class T> T* variant_as() const { return buf_ ? static_cast<T*>(buf_->object.get()) : nullptr; }

  bool valid() const { return buf_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Dims& dims() const { return dims_; }
  int rank() const { return (int)dims_.size(); }
  int64_t dim(int i) const { return dims_[i]; }
  int64_t size() const { return num_elements(dims_); }
  size_t nbytes() const { return (size_t)size() * dtype_size(dtype_); }

  template <class T> T* data() { return static_cast<T*>(buf_->data); }
  template <class T> const T* data() const { return static_cast<const T*>(buf_->data); }
  void* raw() const { return buf_ ? buf_->data : nullptr; }
  std::vector<std::string>& string_values() const { return *buf_->strings; }
  const std::shared_ptr<Buffer>& buffer() const { return buf_; }

  bool unique() const { return buf_ && buf_.use_count() == 1 && !buf_->borrowed(); }
  Tensor reshaped(Dims d) const { return Tensor(dtype_, std::move(d), buf_); }
  Tensor deep_copy() const;
  // Scalar or element i converted to int64 / double, for shape arguments and attributes held as tensors.
  int64_t int_at(int64_t i) const;
  double double_at(int64_t i) const;
  std::vector<int64_t> to_int_vector() const;
  std::string summary() const;  // "float32[2,3]"

 private:
  DType dtype_ = DType::Float32;
  Dims dims_;
  std::shared_ptr<Buffer> buf_;
};

}  // namespace tideflow
