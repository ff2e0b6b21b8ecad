#include "dist/shm_allreduce.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <thread>

#include "errors.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TIDEFLOW_PAUSE() _mm_pause()
#else
#define TIDEFLOW_PAUSE() ((void)0)
#endif

namespace tideflow {
namespace dist {

ShmAllreduce::ShmAllreduce(const std::vector<void*>& regions, int rank, size_t region_bytes)
    : regions_(regions), rank_(rank), size_((int)regions.size()) {
  if (region_bytes < region_bytes_for(4096) || rank < 0 || rank >= size_)
    throw invalid_argument("shared-memory allreduce: region of " + std::to_string(region_bytes) + " bytes");
  // Slots hold whole cache lines, so the parts ranks write never share one.
  slot_bytes_ = (region_bytes - kHeader) / 2 / 64 * 64;
  new (regions_[rank_]) std::atomic<uint64_t>(0);  // the others' become visible after init's barrier
}

bool ShmAllreduce::covers(DType dt) {
  return dt == DType::Float32 || dt == DType::Float64 || dt == DType::Int32 || dt == DType::Int64;
}

void ShmAllreduce::wait_all() {
  const uint64_t target = ++count_;
  counter(rank_).store(target, std::memory_order_release);
  for (int q = 0; q < size_; ++q) {
    if (q == rank_) continue;
    // Spin while the other rank is likely close behind (its core is its own); yield the core after that,
    // since a rank still computing its step may take milliseconds.
    auto start = std::chrono::steady_clock::now();
    int spins = 0;
    while (counter(q).load(std::memory_order_acquire) < target) {
      if (++spins < 4096) {
        TIDEFLOW_PAUSE();
        continue;
      }
      spins = 0;
      if (std::chrono::steady_clock::now() - start > std::chrono::microseconds(200)) std::this_thread::yield();
    }
  }
}

// Writes into this rank's slot with streaming stores: the other ranks read the slot last step, so its
// lines sit in their caches, and ordinary stores would fetch each line back before overwriting it (0.94 MB
// took 390 us so; streamed, 42 us). SSE2's are in every x86-64 CPU.
static void copy_to_slot(char* d, const char* s, size_t n) {
  size_t i = 0;
#if defined(__x86_64__)
  if (((uintptr_t)d & 15) == 0) {
    for (; i + 64 <= n; i += 64)
      for (size_t k = 0; k < 64; k += 16)
        _mm_stream_si128(reinterpret_cast<__m128i*>(d + i + k), _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + k)));
    _mm_sfence();
  }
#endif
  std::memcpy(d + i, s + i, n - i);
}

template <class T>
static void reduce_part(const std::vector<const T*>& in, T* out, int64_t n, MpiOp op) {
  std::copy(in[0], in[0] + n, out);
  for (size_t q = 1; q < in.size(); ++q) {
    const T* x = in[q];
    switch (op) {
      case MpiOp::Sum: for (int64_t i = 0; i < n; ++i) out[i] += x[i]; break;
      case MpiOp::Prod: for (int64_t i = 0; i < n; ++i) out[i] *= x[i]; break;
      // With a NaN the later rank's value wins, as in MPICH's reduction of two ranks.
      case MpiOp::Min: for (int64_t i = 0; i < n; ++i) out[i] = out[i] < x[i] ? out[i] : x[i]; break;
      case MpiOp::Max: for (int64_t i = 0; i < n; ++i) out[i] = out[i] > x[i] ? out[i] : x[i]; break;
    }
  }
}

void ShmAllreduce::allreduce(const void* send, void* recv, int64_t count, DType dt, MpiOp op) {
  const size_t es = dtype_size(dt);
  const int64_t piece = (int64_t)(slot_bytes_ / es);
  const char* src = static_cast<const char*>(send ? send : recv);
  char* dst = static_cast<char*>(recv);
  for (int64_t at = 0; at < count; at += piece) {
    const int64_t n = std::min(piece, count - at);
    const int s = next_slot_;
    next_slot_ ^= 1;
    copy_to_slot(slot(rank_, s), src + at * es, n * es);
    wait_all();
    // Rank q reduces elements [part(q), part(q + 1)) of the piece, cut at cache lines.
    const int64_t per_line = 64 / (int64_t)es;
    auto part = [&](int q) { return std::min(n, ((n * q / size_) + per_line - 1) / per_line * per_line); };
    const int64_t lo = part(rank_), hi = part(rank_ + 1);
    if (hi > lo) {
      // The result goes out (every input is in the slots by now, so `recv` may be `send`) and into this
      // rank's own slot, whose part [lo, hi) no other rank reads, for the others to copy.
      char* out = dst + (at + lo) * es;
      switch (dt) {
#define TF_SHM_REDUCE(D, T)                                                                       \
  case DType::D: {                                                                                \
    std::vector<const T*> in(size_);                                                              \
    for (int q = 0; q < size_; ++q) in[q] = reinterpret_cast<const T*>(slot(q, s) + lo * es);     \
    reduce_part<T>(in, reinterpret_cast<T*>(out), hi - lo, op);                                  \
    break;                                                                                        \
  }
        TF_SHM_REDUCE(Float32, float)
        TF_SHM_REDUCE(Float64, double)
        TF_SHM_REDUCE(Int32, int32_t)
        TF_SHM_REDUCE(Int64, int64_t)
#undef TF_SHM_REDUCE
        default: throw invalid_argument("shared-memory allreduce: unsupported dtype");
      }
      copy_to_slot(slot(rank_, s) + lo * es, out, (hi - lo) * es);
    }
    wait_all();
    for (int q = 0; q < size_; ++q) {
      if (q == rank_) continue;
      const int64_t a = part(q), b = part(q + 1);
      if (b > a) std::memcpy(dst + (at + a) * es, slot(q, s) + a * es, (b - a) * es);
    }
  }
}

}  // namespace dist
}  // namespace tideflow
