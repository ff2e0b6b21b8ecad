#include "tensor.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

#include <cstdlib>
#include <cstring>

namespace tideflow {
namespace {

// Note [big buffer reuse]
// A training step allocates the same big tensors every time (a layer's activations and their gradients).
// Freed, a big block goes back to the kernel, and the next step's block of the same size is faulted in
// and zeroed by the kernel again, page by page: for a CNN's 12.8 MB weight gradient about 1 ms, as long
// as the product that fills it. So freed blocks of at least kReuseMin bytes are kept, keyed by their
// exact (rounded) size, and handed to the next allocation of that size, as TensorFlow's and PyTorch's
// caching allocators do. Bounded: at most kReuseCount blocks and kReuseBytes in all, the oldest freed for
// real first, so a program that stops allocating some size holds at most that much.
// Blocks from 512 KiB up: the CNN step's 800 KB tensors (its pooled activations, its dense layer's input
// gradient) came back from glibc as fresh pages every step, some 150 page faults a step (208 -> 58 with
// the lower bound, and more blocks kept).
constexpr size_t kReuseMin = 1 << 19, kReuseBytes = size_t(256) << 20, kReuseCount = 64;

struct FreeBlocks {
  std::mutex mu;
  std::vector<std::pair<size_t, void*>> kept;  // oldest first
  size_t bytes = 0;

  void* take(size_t n) {
    std::lock_guard<std::mutex> lock(mu);
    for (size_t i = kept.size(); i-- > 0;)
      if (kept[i].first == n) {
        void* p = kept[i].second;
        kept.erase(kept.begin() + i);
        bytes -= n;
        return p;
      }
    return nullptr;
  }
  void give(void* p, size_t n) {
    std::lock_guard<std::mutex> lock(mu);
    kept.emplace_back(n, p);
    bytes += n;
    while (bytes > kReuseBytes || kept.size() > kReuseCount) {
      std::free(kept.front().second);
      bytes -= kept.front().first;
      kept.erase(kept.begin());
    }
  }
};

// Never destroyed: buffers may be freed while the process exits.
FreeBlocks& free_blocks() {
  static FreeBlocks* f = new FreeBlocks;
  return *f;
}

}  // namespace

Buffer::~Buffer() {
  if (strings) delete strings;
  else if (release) release();
  else if (reuse_bytes) free_blocks().give(data, reuse_bytes);
  else std::free(data);
}

std::shared_ptr<Buffer> Buffer::allocate(size_t nbytes) {
  auto b = std::make_shared<Buffer>();
  size_t n = (nbytes + 63) / 64 * 64;
  // Big buffers are 2 MiB-aligned and asked to be backed by huge pages: faulting in a fresh 40 MB
  // result page by 4 KiB page costs more than the kernel that fills it (NumPy does the same).
  constexpr size_t kHuge = 2 << 20;
  bool big = n >= 4 * kHuge;
  if (big) n = (n + kHuge - 1) / kHuge * kHuge;
  const bool reuse = n >= kReuseMin;
  b->data = reuse ? free_blocks().take(n) : nullptr;
  if (!b->data) {
    b->data = std::aligned_alloc(big ? kHuge : 64, n ? n : 64);
    if (!b->data)
      throw Error(ErrorCode::ResourceExhausted, "out of memory allocating " + std::to_string(nbytes) + " bytes");
#ifdef MADV_HUGEPAGE
    if (big) madvise(b->data, n, MADV_HUGEPAGE);
#endif
  }
  if (reuse) b->reuse_bytes = n;
  b->nbytes = nbytes;
  return b;
}

std::shared_ptr<Buffer> Buffer::allocate_strings(size_t n) {
  auto b = std::make_shared<Buffer>();
  b->strings = new std::vector<std::string>(n);
  b->data = b->strings->data();
  b->nbytes = n * sizeof(std::string);
  return b;
}

static size_t default_cap() {
  if (const char* e = std::getenv("TIDEFLOW_ALLOCATION_CAP")) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(e, &end, 10);
    if (end != e && v > 0) return (size_t)v;
  }
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? (size_t)pages * (size_t)page : (size_t)1 << 40;
}

static std::atomic<size_t> g_cap{0};

size_t allocation_cap() {
  size_t c = g_cap.load(std::memory_order_relaxed);
  if (c == 0) {
    c = default_cap();
    g_cap.store(c, std::memory_order_relaxed);
  }
  return c;
}

void set_allocation_cap(size_t bytes) { g_cap.store(bytes ? bytes : default_cap()); }

Tensor::Tensor(DType dtype, Dims dims) : dtype_(dtype), dims_(std::move(dims)) {
  for (int64_t d : dims_)
    if (d < 0) throw invalid_argument("Dimension " + std::to_string(d) + " must be >= 0 in shape " + dims_str(dims_));
  const int64_t n = checked_num_elements(dims_);
  const size_t elem = dtype == DType::String ? sizeof(std::string) : dtype_size(dtype);
  size_t bytes = 0;
  const bool overflow = n < 0 || __builtin_mul_overflow((size_t)n, elem, &bytes);
  if (overflow || bytes > allocation_cap())
    throw Error(ErrorCode::ResourceExhausted,
                "OOM when allocating tensor with shape" + dims_str(dims_) + " and type " + dtype_name(dtype) + ": " +
                    (overflow ? std::string("its size in bytes overflows 64 bits")
                              : std::to_string(bytes) + " bytes exceed the allocation cap of " +
                                    std::to_string(allocation_cap()) +
                                    " bytes (TIDEFLOW_ALLOCATION_CAP or tideflow.set_allocation_cap changes it)"));
  buf_ = dtype == DType::String ? Buffer::allocate_strings(n) : Buffer::allocate(bytes);
}

Tensor Tensor::string_scalar(std::string s) { return strings({}, {std::move(s)}); }

Tensor Tensor::strings(Dims dims, std::vector<std::string> values) {
  // A string tensor owns exactly one string per element: readers index string_values() by element.
  if (checked_num_elements(dims) != (int64_t)values.size())
    throw value_error("a string tensor of shape " + dims_str(dims) + " needs " +
                      std::to_string(checked_num_elements(dims)) + " values, got " + std::to_string(values.size()));
  Tensor t(DType::String, std::move(dims));
  *t.buf_->strings = std::move(values);
  t.buf_->data = t.buf_->strings->data();
  return t;
}

Tensor Tensor::variant(std::shared_ptr<void> object) {
  auto b = std::make_shared<Buffer>();
  b->object = std::move(object);
  b->release = [] {};  // no memory of its own; marks the buffer as never writable in place
  return Tensor(DType::Variant, {}, std::move(b));
}

Tensor Tensor::deep_copy() const {
  if (dtype_ == DType::Variant) return *this;  // the object is immutable once published
  Tensor t(dtype_, dims_);
  if (dtype_ == DType::String) *t.buf_->strings = *buf_->strings;
  else if (nbytes()) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

int64_t Tensor::int_at(int64_t i) const {
  if (!in_set(dtype_, kPod)) throw invalid_argument("expected a numeric tensor, got " + summary());
  int64_t r = 0;
  dispatch<kPod>(dtype_, "int_at", [&](auto z) { r = cast_value<int64_t>(data<decltype(z)>()[i]); });
  return r;
}

double Tensor::double_at(int64_t i) const {
  if (!in_set(dtype_, kPod)) throw invalid_argument("expected a numeric tensor, got " + summary());
  double r = 0;
  dispatch<kPod>(dtype_, "double_at", [&](auto z) { r = cast_value<double>(data<decltype(z)>()[i]); });
  return r;
}

std::vector<int64_t> Tensor::to_int_vector() const {
  std::vector<int64_t> v(size());
  for (int64_t i = 0; i < size(); ++i) v[i] = int_at(i);
  return v;
}

std::string Tensor::summary() const { return std::string(dtype_name(dtype_)) + dims_str(dims_); }

void Tensor::bad_view(DType as) const {
  throw Error(ErrorCode::Internal, std::string("a kernel read a ") + dtype_name(dtype_) + " tensor as " + dtype_name(as) +
                                       ": the op's type rules should have refused this dtype (Note [op type rules])");
}

}  // namespace tideflow
