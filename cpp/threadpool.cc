#include "threadpool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TF_CPU_RELAX() _mm_pause()
#else
#define TF_CPU_RELAX() std::this_thread::yield()
#endif
#include <exception>
#include <memory>

namespace tideflow {

static constexpr int64_t kMinChunkCost = 32 * 1024;
static std::atomic<int> g_thread_cap{0};

int ThreadPool::hardware_threads() {
  // glibc answers by reading sysfs (~10 us); every parallel_for asks when no cap is set.
  static const int n = (int)std::max(1u, std::thread::hardware_concurrency());
  return n;
}

static std::atomic<int> g_default_cap{0};

void set_default_thread_cap(int n) {
  g_default_cap.store(n > 0 ? n : 0);
  g_thread_cap.store(0);
}

int default_thread_cap() {
  int n = g_default_cap.load();
  return n > 0 ? n : ThreadPool::hardware_threads();
}

void set_thread_cap(int n) {
  if (n <= 0) n = default_thread_cap();
  g_thread_cap.store(n);
}

int thread_cap() {
  int n = g_thread_cap.load();
  return n > 0 ? n : default_thread_cap();
}

ThreadPool& ThreadPool::global() {
  static ThreadPool* p = new ThreadPool();  // leaked on purpose: workers may outlive static destructors
  return *p;
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::ensure_workers(int n) {
  // Caller holds mu_.
  while ((int)workers_.size() < n) workers_.emplace_back([this] { worker_loop(); });
}

void ThreadPool::schedule(std::function<void()> task) {
  bool wake;
  {
    std::lock_guard<std::mutex> l(mu_);
    ensure_workers(std::max(1, thread_cap() - 1));
    queue_.push_back(std::move(task));
    queued_.fetch_add(1, std::memory_order_release);
    wake = sleepers_ > 0;
  }
  if (wake) cv_.notify_one();
}

void cpu_relax() {
  for (int i = 0; i < 64; ++i) TF_CPU_RELAX();
}

bool ThreadPool::try_run_one() {
  if (!has_queued()) return false;
  std::function<void()> task;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (queue_.empty()) return false;
    task = std::move(queue_.front());
    queue_.pop_front();
    queued_.fetch_sub(1, std::memory_order_relaxed);
  }
  task();
  return true;
}

// Note [spinning workers]
// Waking a thread blocked on a condition variable takes tens of microseconds on these machines, about
// the time a split product or a queued node saves. So an idle worker first polls the queue for a short
// while (the gaps between the products of one training step are shorter) and only then blocks; TF's
// Eigen pool and OpenBLAS do the same. The poll pauses the core between reads and ends after ~50 us.
static constexpr auto kSpin = std::chrono::microseconds(50);

void ThreadPool::worker_loop() {
  for (;;) {
    auto until = std::chrono::steady_clock::now() + kSpin;
    while (queued_.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < until)
      cpu_relax();
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> l(mu_);
      if (queue_.empty() && !stop_) {
        sleepers_++;
        cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
        sleepers_--;
      }
      if (stop_ && queue_.empty()) return;
      if (queue_.empty()) continue;
      task = std::move(queue_.front());
      queue_.pop_front();
      queued_.fetch_sub(1, std::memory_order_relaxed);
    }
    task();
  }
}

namespace {
struct ForState {
  std::atomic<int64_t> next{0};
  int64_t chunks = 0, n = 0, chunk = 0;
  std::atomic<int64_t> done{0};
  std::mutex mu;
  std::condition_variable cv;
  std::exception_ptr error;
  const std::function<void(int64_t, int64_t)>* fn = nullptr;

  void work() {
    for (;;) {
      int64_t c = next.fetch_add(1);
      if (c >= chunks) return;
      try {
        const int64_t begin = c * chunk;  // <= n: no overflow, unlike (c + 1) * chunk near INT64_MAX
        (*fn)(begin, begin + std::min(chunk, n - begin));
      } catch (...) {
        std::lock_guard<std::mutex> l(mu);
        if (!error) error = std::current_exception();
      }
      if (done.fetch_add(1) + 1 == chunks) {
        std::lock_guard<std::mutex> l(mu);
        cv.notify_all();
      }
    }
  }
};
}  // namespace

void ThreadPool::parallel_for(int64_t n, int64_t cost_per_item, int max_threads,
                              const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  int64_t total;
  if (__builtin_mul_overflow(n, std::max<int64_t>(1, cost_per_item), &total)) total = INT64_MAX;
  int threads = (int)std::min<int64_t>(std::min(max_threads, thread_cap()), total / kMinChunkCost);
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  auto st = std::make_shared<ForState>();
  st->n = n;
  st->chunks = std::min<int64_t>(n, threads * 4);  // a few chunks per thread evens out stragglers
  st->chunk = n / st->chunks + (n % st->chunks != 0);  // ceil without overflowing near INT64_MAX
  st->chunks = n / st->chunk + (n % st->chunk != 0);
  st->fn = &fn;
  for (int i = 1; i < threads; ++i) schedule([st] { st->work(); });
  st->work();
  std::unique_lock<std::mutex> l(st->mu);
  st->cv.wait(l, [&] { return st->done.load() == st->chunks; });
  if (st->error) std::rethrow_exception(st->error);
}

}  // namespace tideflow
