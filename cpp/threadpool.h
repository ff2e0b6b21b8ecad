#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "export.h"

namespace tideflow {

// One process-wide pool serves both inter-op scheduling (independent nodes) and intra-op parallel_for.
// Note [no nested deadlock]: a parallel_for caller works through the chunks itself and only waits for
// chunks another thread already started, so a pool thread running a node can call parallel_for safely.
class TF_API ThreadPool {
 public:
  static ThreadPool& global();
  ~ThreadPool();
  void schedule(std::function<void()> task);
  // Runs one queued task on the calling thread, if there is one: a thread that waits for others can
  // help instead of idling.
  bool try_run_one();
  bool has_queued() const { return queued_.load(std::memory_order_acquire) > 0; }
  // fn(begin, end) over [0, n), split into chunks of at least ~32K units of cost, on at most max_threads.
  void parallel_for(int64_t n, int64_t cost_per_item, int max_threads,
                    const std::function<void(int64_t, int64_t)>& fn);
  static int hardware_threads();

 private:
  void ensure_workers(int n);
  void worker_loop();
  std::vector<std::thread> workers_;
  std::deque<std::function<void()>> queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<int> queued_{0};  // queue_.size(), readable without the lock while spinning
  int sleepers_ = 0;            // workers blocked on cv_ (guarded by mu_)
  bool stop_ = false;
};

// A hint inside a polling loop that this core is spinning (x86 `pause`).
TF_API void cpu_relax();

// One setting caps every source of threads: the executor, parallel_for and the BLAS splits of gemm.h
// (OpenBLAS itself runs single-threaded; Note [one thread pool] in kernels/gemm.cc).
TF_API void set_thread_cap(int n);
TF_API int thread_cap();
// What a Session without thread settings gets: all cores unless set (tideflow.horovod gives each of the
// processes sharing a machine its part); n <= 0 restores all cores.
TF_API void set_default_thread_cap(int n);
TF_API int default_thread_cap();

}  // namespace tideflow
