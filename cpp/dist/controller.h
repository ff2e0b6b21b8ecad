#pragma once
// The collective controller of tideflow.horovod. Kernels hand it requests (Note [async kernels]); it agrees
// with the other ranks on what is ready everywhere, checks that the ranks agree on shapes and dtypes, fuses
// small allreduces into large buffers and calls MPI, on its own thread or on the thread of a run that has
// nothing else to do. See Note [negotiation], Note [when rounds start], Note [who calls MPI] and
// Note [tensor fusion] in controller.cc.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "dist/mpi_api.h"
#include "dist/shm_allreduce.h"
#include "tensor.h"

namespace tideflow {
namespace dist {

enum class CollKind : uint8_t { Allreduce = 0, Allgather = 1, Broadcast = 2 };
// Horovod's `reduce_op` attribute values.
enum class ReduceOp : int { Average = 0, Sum = 1, Adasum = 2, Min = 3, Max = 4, Product = 5 };

struct CollRequest {
  std::string name;   // the key every rank uses for this tensor: the node's name
  std::string where;  // "'name' (Type), created at file:line", for errors
  CollKind kind = CollKind::Allreduce;
  ReduceOp op = ReduceOp::Sum;
  double prescale = 1, postscale = 1;
  int root = 0;
  Tensor input;
  std::chrono::steady_clock::time_point since;  // when it was handed to the controller
  // Called exactly once, with the result or an error: on the controller's thread, or at once on the
  // caller's when no other rank is involved (one process, or a request refused before negotiation).
  std::function<void(Tensor, std::exception_ptr)> done;
};

struct ControllerOptions {
  int64_t fusion_threshold = int64_t(64) << 20;  // bytes per fused allreduce (HOROVOD_FUSION_THRESHOLD)
  double cycle_time_ms = 5;                       // longest wait for a round (HOROVOD_CYCLE_TIME)
  double stall_warning_s = 60;                    // HOROVOD_STALL_CHECK_TIME_SECONDS
  double stall_shutdown_s = 0;                    // give up after this long; 0: never
  // Every rank's region of a shared window when all ranks share one machine (Note [shared-memory
  // allreduce]); empty: allreduces go through MPI.
  std::vector<void*> shm_regions;
  size_t shm_region_bytes = 0;
};

// One timestamped event of the controller's work, recorded when tracing is on (Note [controller trace] in
// controller.cc).
struct TraceEvent {
  int64_t ns;        // steady_clock (CLOCK_MONOTONIC, as Python's time.perf_counter_ns)
  const char* what;  // a static string: "enqueue", "round", "exchanged", "copy_in", "mpi", "done", ...
  int64_t arg;       // bytes, counts or who drives, per event
  int64_t cpu_ns;    // the recording thread's CPU time
  bool on_thread;    // recorded on the controller's thread (else on a run's)
};

struct ControllerStats {
  int64_t rounds = 0;        // negotiations
  int64_t tensors = 0;       // requests completed
  int64_t mpi_calls = 0;     // data-moving MPI calls
  int64_t shm_calls = 0;     // allreduces done in the shared window instead (counted in mpi_calls too)
  int64_t fused_tensors = 0; // allreduce requests that shared a fusion buffer with others
  int64_t bytes = 0;         // bytes passed to MPI
  int64_t negotiation_us = 0;  // time in rounds (waiting for the other ranks included)
  int64_t data_us = 0;         // time in data-moving MPI calls, copies and scaling included
};

class TF_API Controller {
 public:
  static Controller& global();

  // Starts the background thread on the communicator in `h` (already duplicated for tideflow's use).
  void start(const MpiHandles& h, int rank, int size, const ControllerOptions& opts);
  // Tells the other ranks this one stops (`reason` is shown to them), fails what is still pending here
  // and joins the thread. Returns false when an exchange could not finish (a rank never answered): MPI
  // cannot be finalized cleanly then and the caller should abort.
  bool shutdown(const std::string& reason);
  bool running() const { return running_.load(); }
  int rank() const { return rank_; }
  int size() const { return size_; }
  const std::string& library() const { return library_; }
  void enqueue(CollRequest r);
  ControllerStats stats();
  // Tracing: Note [controller trace] in controller.cc
  void set_tracing(bool on);
  std::vector<TraceEvent> take_trace();
  void trace(const char* what, int64_t arg = 0) {
    if (tracing_.load(std::memory_order_relaxed)) record(what, arg);
  }

  struct Meta;
  struct Entry;

 private:
  void loop();
  bool iterate();
  bool round_due(std::chrono::steady_clock::time_point* wake_at, bool recheck = false);
  static bool help();
  bool exchange(const std::string& mine, std::vector<std::string>* all);
  bool wait(MpiRequest* req);
  void execute(std::vector<std::string>& ready);
  void run_allreduce_group(const std::vector<CollRequest*>& group, bool fuse);
  void allreduce(const void* send, void* recv, int64_t count, DType dt, MpiOp op);
  void run_allgather(CollRequest& r, const Entry& e);
  void run_broadcast(CollRequest& r);
  void finish(const std::string& name, Tensor out, std::exception_ptr err);
  void fail_all_pending(const std::string& why);
  std::shared_ptr<Buffer> fusion_buffer(size_t nbytes);
  void warn_stalled();
  void record(const char* what, int64_t arg);

  std::unique_ptr<MpiLib> mpi_;
  std::unique_ptr<ShmAllreduce> shm_;
  std::string library_;
  int rank_ = 0, size_ = 1;
  ControllerOptions opts_;
  std::atomic<bool> running_{false};
  std::thread thread_;

  std::mutex mu_;  // guards the fields below it
  std::condition_variable cv_;
  std::deque<CollRequest> queue_;
  int64_t queued_bytes_ = 0;
  std::chrono::steady_clock::time_point first_queued_;
  bool stop_requested_ = false;
  std::string stop_reason_;
  std::string stopped_because_;  // set once no collective can run any more
  bool broken_ = false;
  ControllerStats stats_;

  std::atomic<bool> tracing_{false};
  std::mutex trace_mu_;
  std::vector<TraceEvent> trace_;

  // Whoever drives the rounds (the controller's thread, or a run's thread in help()) holds drive_mu_,
  // which guards the fields below it.
  std::mutex drive_mu_;
  bool finished_ = false;  // no round will run any more
  bool helping_ = false;   // a run's thread drives
  std::atomic<int> npending_{0};
  std::atomic<int> idle_rounds_{0};
  std::atomic<int64_t> last_round_{0};  // steady_clock ticks
  std::chrono::steady_clock::time_point last_warning_;
  std::unordered_map<std::string, CollRequest> pending_;  // this rank's requests not yet completed
  std::vector<std::string> announce_;                     // names to tell the others in the next round
  std::unordered_map<std::string, std::unique_ptr<Entry>> table_;  // what each rank announced
  std::vector<std::shared_ptr<Buffer>> fusion_pool_;  // Note [fusion views]
};

}  // namespace dist
}  // namespace tideflow
