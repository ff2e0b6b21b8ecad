#include "dist/controller.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "op_registry.h"
#include "threadpool.h"

namespace tideflow {
namespace dist {

// Note [negotiation]
// Ranks reach their collectives in different orders (the executor runs whatever is ready), so MPI cannot
// be called from the kernels: the k-th collective call on one rank must match the k-th on every other.
// One thread per process calls MPI instead, in rounds that every rank runs in the same sequence. In a
// round each rank tells all others (an allgather of a small message) which requests it has received since
// its last round: name, kind, reduction, dtype, shape, root. Every rank adds all messages to the same
// table, in rank order, so every rank computes the same list of names now announced by all ranks, checks
// that the ranks agree on each (a mismatch fails that request on every rank with the same message) and
// runs the collectives in that order. A rank runs rounds while it has requests in flight (Note [when
// rounds start]) and sleeps otherwise; a round completes once every rank has joined it, and a rank that
// has nothing new joins with an empty message. Waiting for the others polls a nonblocking allgather with short sleeps, so the
// waiting rank leaves the CPU to the compute threads and notices a stall (warning after
// HOROVOD_STALL_CHECK_TIME_SECONDS, giving up after HOROVOD_STALL_SHUTDOWN_TIME_SECONDS if set).
// A rank that stops (hvd.shutdown, exit, an uncaught exception) says so in its last round; every rank
// that sees it fails its pending requests with the reason and runs no collective again, so one rank's
// error ends the others' steps with a message instead of a hang. No data moves in that round.
//
// Note [tensor fusion]
// Allreduces made ready in one round that share dtype, reduction and scaling are packed into one buffer
// of up to HOROVOD_FUSION_THRESHOLD bytes (64 MB) and reduced by one MPI call, as Horovod does: a
// backward pass yields many small gradients, and each MPI call has a fixed cost. Tensors of 1 MB or more
// get an MPI call of their own. A fresh gradient, even alone, goes through a fusion buffer: MPI libraries
// are fastest on memory they have seen before (with MPICH 5.0.2 on 2 ranks an 800 KB in-place allreduce
// took 345 us in the same buffer each time, 600 us rotating over 8 buffers and about 1.4 ms in fresh
// memory, where a gradient lives), and the copy in costs less. The Average division and Horovod's
// pre/postscale factors are folded into that copy; the outputs are views of the buffer, so nothing is
// copied out (Note [fusion views]). A fed array or a variable's value, memory that stays
// put, goes to MPI without a copy (run_allreduce_group). What a round can fuse depends on when it starts:
// Note [when rounds start].

// Note [when rounds start]
// A round costs every rank a synchronization, and it pays only if it moves enough data or lets the
// reduction overlap with computation that is left to do. A rank starts one when it has requests and
// its executor has nothing else to run (Note [async kernels]: a run is blocked on collectives alone),
// when the requests not yet announced hold an eighth of the fusion threshold (8 MB by default), or when
// they hold at least 1 MB and the oldest has waited HOROVOD_CYCLE_TIME (5 ms by default). A small model
// thus reduces all of its gradients in one round at the end of the backward pass, where no compute thread
// competes with MPI for the cores, while a large one starts reducing its first gradients during the
// backward pass. Less than 1 MB waits for the run to block however long the step takes: on a busy
// machine, where a step outlasts the cycle time, a round for a few small gradients split each step's
// reduction in two (1.4 rounds and MPI calls per step for the MLP of bench/horovod.py at load 18), and
// each round is a meeting of all ranks that the scheduler delays. Requests already announced and waiting
// for other ranks get a round every cycle time (the other ranks' rounds need this one's). Small requests
// still go after 100 ms (kSmallWait) if the run never offers its thread (a kernel of it waits for input
// from a queue, say). The controller's thread looks for work every 100 ms and is woken only when 1 MB
// or the fusion mark is crossed, a run blocks or the rank stops: a step of a small model does not wake
// it at all. The round completes when every rank has started it: ranks that trigger early wait for the
// late ones.

using Clock = std::chrono::steady_clock;

constexpr int64_t kAloneBytes = int64_t(1) << 20;  // Note [tensor fusion]
// Note [when rounds start]: the longest a few small requests wait for a run that never offers its thread.
constexpr auto kSmallWait = std::chrono::milliseconds(100);

thread_local bool tl_controller_thread = false;  // for the trace

struct Controller::Meta {
  CollKind kind = CollKind::Allreduce;
  ReduceOp op = ReduceOp::Sum;
  DType dtype = DType::Float32;
  int root = 0;
  double prescale = 1, postscale = 1;
  Dims dims;
};

struct Controller::Entry {
  std::vector<Meta> meta;
  std::vector<char> have;
  int count = 0;
};

namespace {

// ---- the round's wire format: little-endian, this build talking to itself ----
struct Writer {
  std::string s;
  template <class T> void put(T v) { s.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void str(const std::string& v) {
    put<int32_t>((int32_t)v.size());
    s += v;
  }
};

struct Reader {
  const char* p;
  const char* end;
  template <class T> T get() {
    if (end - p < (ptrdiff_t)sizeof(T)) throw Error(ErrorCode::Internal, "malformed negotiation message");
    T v;
    std::memcpy(&v, p, sizeof v);
    p += sizeof v;
    return v;
  }
  std::string str() {
    int32_t n = get<int32_t>();
    if (n < 0 || end - p < n) throw Error(ErrorCode::Internal, "malformed negotiation message");
    std::string v(p, (size_t)n);
    p += n;
    return v;
  }
};

const char* kind_name(CollKind k) {
  switch (k) {
    case CollKind::Allreduce: return "allreduce";
    case CollKind::Allgather: return "allgather";
    case CollKind::Broadcast: return "broadcast";
  }
  return "?";
}

const char* op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Average: return "Average";
    case ReduceOp::Sum: return "Sum";
    case ReduceOp::Adasum: return "Adasum";
    case ReduceOp::Min: return "Min";
    case ReduceOp::Max: return "Max";
    case ReduceOp::Product: return "Product";
  }
  return "?";
}

MpiOp mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Min: return MpiOp::Min;
    case ReduceOp::Max: return MpiOp::Max;
    case ReduceOp::Product: return MpiOp::Prod;
    default: return MpiOp::Sum;
  }
}

const char* kShutDownHelp =
    "This was caused by an exception on one of the ranks or an attempt to allreduce, allgather or broadcast "
    "a tensor after one of the ranks finished execution. If the shutdown was caused by an exception, you "
    "should see the exception in the log before the first shutdown message.";

std::exception_ptr error_at(ErrorCode code, const std::string& msg, const std::string& where) {
  return std::make_exception_ptr(Error(code, msg + (where.empty() ? "" : "\n\t [[node " + where + "]]")));
}

// out[i] = in[i] * f (in may be out); integers scale through double and truncate, as Horovod does.
void scale(const void* in, void* out, int64_t n, DType dt, double f) {
  dispatch_numeric(dt, "collective scaling", [&](auto z) {
    using T = decltype(z);
    const T* a = static_cast<const T*>(in);
    T* b = static_cast<T*>(out);
    if constexpr (std::is_floating_point_v<T>) {
      const T g = (T)f;
      for (int64_t i = 0; i < n; ++i) b[i] = a[i] * g;
    } else {
      for (int64_t i = 0; i < n; ++i) b[i] = (T)((double)a[i] * f);
    }
  });
}

void copy_scaled(const void* in, void* out, int64_t n, DType dt, double f) {
  if (f == 1.0) {
    if (in != out) std::memcpy(out, in, (size_t)n * dtype_size(dt));
  } else {
    scale(in, out, n, dt, f);
  }
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string shape_of(const Controller::Meta& m) { return std::string(dtype_name(m.dtype)) + dims_str(m.dims); }

}  // namespace

Controller& Controller::global() {
  static Controller* c = new Controller();  // leaked: the thread may outlive static destructors
  return *c;
}

void Controller::start(const MpiHandles& h, int rank, int size, const ControllerOptions& opts) {
  if (running_) throw Error(ErrorCode::FailedPrecondition, "tideflow.horovod is already initialized");
  if (thread_.joinable()) thread_.join();
  if (size < 1 || rank < 0 || rank >= size)
    throw invalid_argument("bad rank " + std::to_string(rank) + " of size " + std::to_string(size));
  if (size > 1) {
    mpi_ = MpiLib::load(h);
    library_ = mpi_->path();
  }
  rank_ = rank;
  size_ = size;
  opts_ = opts;
  shm_.reset();
  if (size > 1 && !opts.shm_regions.empty()) {
    if ((int)opts.shm_regions.size() != size) throw invalid_argument("shared-memory regions: one per rank");
    shm_ = std::make_unique<ShmAllreduce>(opts.shm_regions, rank, opts.shm_region_bytes);
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.clear();
    stop_requested_ = false;
    stop_reason_.clear();
    stopped_because_.clear();
    broken_ = false;
    stats_ = ControllerStats();
  }
  pending_.clear();
  announce_.clear();
  table_.clear();
  fusion_pool_.clear();
  finished_ = false;
  helping_ = false;
  npending_ = 0;
  idle_rounds_ = 0;
  last_round_ = 0;
  last_warning_ = Clock::now();
  if (const char* t = std::getenv("TIDEFLOW_HVD_TRACE")) set_tracing(*t && std::string(t) != "0");
  running_ = true;
  if (size > 1) {
    set_async_helper(&Controller::help);
    set_async_wait_listener([] {
      Controller& c = global();
      c.trace("run_waits");
      { std::lock_guard<std::mutex> l(c.mu_); }
      c.cv_.notify_one();
    });
    thread_ = std::thread([this] { loop(); });
  }
}

bool Controller::shutdown(const std::string& reason) {
  if (!running_) return true;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_requested_ = true;
    stop_reason_ = reason;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  running_ = false;
  shm_.reset();  // before init's window is freed
  std::lock_guard<std::mutex> l(mu_);
  return !broken_;
}

// Note [controller trace]
// TIDEFLOW_HVD_TRACE=1 (or hvd._trace(True)) records what the controller does, with timestamps: each
// request handed to it, each round with the thread that drives it (a run's thread in help(), or the
// controller's own and why it started), the negotiation's end, the copies into and out of the fusion
// buffer, each MPI call and the completions. bench/horovod.py --trace turns the events into phase times
// per training step: counts that do not depend on the machine's load (rounds, wake-ups, bytes copied)
// and the time of each phase.
void Controller::set_tracing(bool on) {
  std::lock_guard<std::mutex> l(trace_mu_);
  tracing_ = on;
  if (on) trace_.reserve(1 << 16);
}

void Controller::record(const char* what, int64_t arg) {
  const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
  timespec cpu{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
  const bool mine = tl_controller_thread;
  std::lock_guard<std::mutex> l(trace_mu_);
  if (trace_.size() < (size_t(1) << 22))
    trace_.push_back({ns, what, arg, (int64_t)cpu.tv_sec * 1000000000 + cpu.tv_nsec, mine});
}

std::vector<TraceEvent> Controller::take_trace() {
  std::lock_guard<std::mutex> l(trace_mu_);
  std::vector<TraceEvent> out;
  out.swap(trace_);
  if (tracing_) trace_.reserve(1 << 16);
  return out;
}

ControllerStats Controller::stats() {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

void Controller::enqueue(CollRequest r) {
  std::exception_ptr err;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!running_) {
      err = error_at(ErrorCode::FailedPrecondition, "Horovod has not been initialized; use hvd.init().", r.where);
    } else if (!stopped_because_.empty()) {
      err = error_at(ErrorCode::Unknown, stopped_because_, r.where);
    } else if (r.kind == CollKind::Broadcast && (r.root < 0 || r.root >= size_)) {
      err = error_at(ErrorCode::InvalidArgument,
                     "broadcast root rank " + std::to_string(r.root) + " is not in [0, " + std::to_string(size_) +
                         ")", r.where);
    } else if (size_ > 1) {
      // Wake the thread when its next round may have to start earlier (Note [when rounds start]).
      r.since = Clock::now();
      const int64_t bytes = (int64_t)r.input.nbytes();
      if (queue_.empty()) first_queued_ = Clock::now();
      auto crosses = [&](int64_t mark) { return queued_bytes_ < mark && queued_bytes_ + bytes >= mark; };
      const bool wake = crosses(kAloneBytes) || crosses(opts_.fusion_threshold / 8);
      queued_bytes_ += bytes;
      trace("enqueue", bytes);
      queue_.push_back(std::move(r));
      if (wake) cv_.notify_one();
      return;
    } else {
      stats_.tensors++;
    }
  }
  if (err) return r.done(Tensor(), err);
  // One process: every collective is the identity, up to the scale factors.
  Tensor out = r.input;
  if (r.kind == CollKind::Allreduce && r.prescale * r.postscale != 1.0) {
    out = r.input.unique() ? r.input : Tensor(r.input.dtype(), r.input.dims());
    scale(r.input.raw(), out.raw(), r.input.size(), r.input.dtype(), r.prescale * r.postscale);
  }
  r.input = Tensor();
  r.done(std::move(out), nullptr);
}

// ---- the thread ----

void Controller::loop() {
  tl_controller_thread = true;
#ifdef __linux__
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);  // the polling sleeps below are tens of microseconds
#endif
  for (;;) {
    {
      // Note [when rounds start]
      std::unique_lock<std::mutex> l(mu_);
      const auto last = Clock::time_point(Clock::duration(last_round_.load()));
      const int idle = idle_rounds_.load();
      if (idle > 0)  // rounds that moved nothing: back off up to a millisecond, or until news
        cv_.wait_until(l, last + std::chrono::microseconds(std::min(1000, 10 << std::min(idle, 7))),
                       [&] { return stop_requested_ || !queue_.empty(); });
      Clock::time_point wake_at;
      while (!round_due(&wake_at)) {
        cv_.wait_until(l, wake_at);
        trace("thread_wake");
      }
    }
    std::lock_guard<std::mutex> d(drive_mu_);
    {
      // A run's thread may have driven the round meanwhile (help()): look again.
      std::lock_guard<std::mutex> l(mu_);
      Clock::time_point ignored;
      if (!round_due(&ignored, true)) continue;
    }
    if (finished_ || !iterate()) {
      finished_ = true;
      return;
    }
  }
}

// Whether the controller's thread should start a round now (Note [when rounds start]); else when to look
// again. The caller holds mu_.
bool Controller::round_due(Clock::time_point* wake_at, bool recheck) {
  auto trace = [&](const char* what, int64_t arg) {
    if (!recheck) this->trace(what, arg);
  };
  const auto now = Clock::now();
  *wake_at = now + kSmallWait;  // enqueues wake this thread only past 1 MB or the fusion mark
  if (stop_requested_) {
    trace("thread_round", 0);
    return true;
  }
  const bool work = !queue_.empty() || npending_.load() > 0;
  if (work && runs_waiting_on_async() > 0) {
    trace("thread_round", 1);
    return true;
  }
  if (!queue_.empty() && queued_bytes_ >= opts_.fusion_threshold / 8) {
    trace("thread_round", 2);
    return true;
  }
  const auto cycle = std::chrono::microseconds((int64_t)(opts_.cycle_time_ms * 1000));
  const auto last = Clock::time_point(Clock::duration(last_round_.load()));
  auto due = Clock::time_point::max();
  if (!queue_.empty()) due = first_queued_ + (queued_bytes_ >= kAloneBytes ? cycle : kSmallWait);
  if (npending_.load() > 0) due = std::min(due, last + cycle);
  if (now >= due) {
    trace("thread_round", 3);
    return true;
  }
  *wake_at = std::min(due, *wake_at);
  return false;
}

// Note [who calls MPI]
// A run blocked on its collectives alone (Note [async kernels]) does the controller's work on its own
// thread (the executor calls help() before it sleeps), as an MPI program's thread would: no hand-off to
// the controller's thread and back, whose wake-ups cost a scheduler slice each on a busy machine. The
// controller's thread runs the rounds that start while the process still computes (Note [when rounds
// start]) and the last one at shutdown. drive_mu_ makes one thread at a time call MPI, so the rounds
// stay in the same sequence on every rank whichever thread runs them.
bool Controller::help() {
  Controller& c = global();
  if (!c.running_ || c.size_ == 1) return false;
  std::unique_lock<std::mutex> d(c.drive_mu_, std::try_to_lock);
  // After a round that moved nothing, leave the next ones to the controller's thread, which backs off.
  if (!d.owns_lock() || c.finished_ || c.idle_rounds_.load() > 0) return false;
  {
    std::lock_guard<std::mutex> l(c.mu_);
    if (c.stop_requested_ || (c.queue_.empty() && c.npending_.load() == 0)) return false;
  }
  c.helping_ = true;
  c.trace("help_round");
  const bool more = c.iterate();
  c.helping_ = false;
  if (!more) {
    c.finished_ = true;
    { std::lock_guard<std::mutex> l(c.mu_); }
    c.cv_.notify_all();
  }
  return true;
}

// One round and the collectives it makes ready; false once no collective can run any more. The caller
// holds drive_mu_.
bool Controller::iterate() {
  std::deque<CollRequest> fresh;
  bool stopping;
  std::string reason;
  {
    std::lock_guard<std::mutex> l(mu_);
    fresh.swap(queue_);
    queued_bytes_ = 0;
    stopping = stop_requested_;
    reason = stop_reason_;
  }
  for (CollRequest& r : fresh) {
    if (pending_.count(r.name)) {
      r.done(Tensor(), error_at(ErrorCode::InvalidArgument,
                                "Requested to allreduce, allgather, or broadcast a tensor with the same name as "
                                "another tensor that is currently being processed: '" + r.name +
                                    "'. A step that failed may have left it in flight.", r.where));
      continue;
    }
    announce_.push_back(r.name);
    std::string name = r.name;
    pending_.emplace(std::move(name), std::move(r));
  }
  npending_ = (int)pending_.size();
  if (pending_.empty() && !stopping) {
    trace("no_round");
    return true;
  }

  Writer w;
  w.put<uint8_t>(stopping ? 1 : 0);
  w.str(stopping ? reason : "");
  w.put<int32_t>((int32_t)announce_.size());
  for (const std::string& name : announce_) {
    const CollRequest& r = pending_.at(name);
    w.str(name);
    w.put<uint8_t>((uint8_t)r.kind);
    w.put<int32_t>((int32_t)r.op);
    w.put<uint8_t>((uint8_t)r.input.dtype());
    w.put<int32_t>(r.root);
    w.put<double>(r.prescale);
    w.put<double>(r.postscale);
    w.put<int32_t>(r.input.rank());
    for (int64_t d : r.input.dims()) w.put<int64_t>(d);
  }
  const bool announced = !announce_.empty();
  trace("round", (int64_t)announce_.size());
  announce_.clear();
  const auto round_start = Clock::now();
  last_round_ = round_start.time_since_epoch().count();

  std::vector<std::string> all;
  std::vector<std::string> ready;
  std::string stopped;
  bool others_announced = false;
  try {
    const bool exchanged = exchange(w.s, &all);
    {
      std::lock_guard<std::mutex> l(mu_);
      stats_.negotiation_us += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - round_start).count();
    }
    if (!exchanged) {
      std::lock_guard<std::mutex> l(mu_);
      broken_ = true;
      if (stopped_because_.empty())
        stopped_because_ = "Horovod has been shut down: the other ranks stopped answering. " +
                           std::string(kShutDownHelp);
    } else {
      for (int r = 0; r < size_; ++r) {
        Reader rd{all[r].data(), all[r].data() + all[r].size()};
        const bool stops = rd.get<uint8_t>() != 0;
        std::string why = rd.str();
        if (stops) stopped += (stopped.empty() ? "" : "; ") + ("rank " + std::to_string(r)) +
                              (why.empty() ? " stopped" : " stopped: " + why);
        const int32_t n = rd.get<int32_t>();
        if (n > 0 && r != rank_) others_announced = true;
        for (int32_t i = 0; i < n; ++i) {
          std::string name = rd.str();
          Meta m;
          m.kind = (CollKind)rd.get<uint8_t>();
          m.op = (ReduceOp)rd.get<int32_t>();
          m.dtype = (DType)rd.get<uint8_t>();
          m.root = rd.get<int32_t>();
          m.prescale = rd.get<double>();
          m.postscale = rd.get<double>();
          const int32_t nd = rd.get<int32_t>();
          if (nd < 0 || nd > 64) throw Error(ErrorCode::Internal, "malformed negotiation message");
          for (int32_t k = 0; k < nd; ++k) m.dims.push_back(rd.get<int64_t>());
          auto& e = table_[name];
          if (!e) {
            e = std::make_unique<Entry>();
            e->meta.resize(size_);
            e->have.assign(size_, 0);
          }
          if (e->have[r]) throw Error(ErrorCode::Internal, "rank " + std::to_string(r) + " announced '" + name + "' twice");
          e->have[r] = 1;
          e->meta[r] = std::move(m);
          if (++e->count == size_) ready.push_back(name);
        }
      }
      trace("exchanged", (int64_t)ready.size());
      std::lock_guard<std::mutex> l(mu_);
      stats_.rounds++;
      if (!stopped.empty())
        stopped_because_ = "Horovod has been shut down: " + stopped + ". " + kShutDownHelp;
    }
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> l(mu_);
    broken_ = true;
    stopped_because_ = std::string("Horovod has been shut down after an MPI failure: ") + e.what();
  }
  std::string why;
  {
    std::lock_guard<std::mutex> l(mu_);
    why = stopped_because_;
  }
  if (!why.empty()) {
    fail_all_pending(why);
    return false;
  }
  idle_rounds_ = (ready.empty() && !announced && !others_announced) ? idle_rounds_.load() + 1 : 0;
  try {
    const auto t0 = Clock::now();
    execute(ready);
    trace("round_end", (int64_t)ready.size());
    std::lock_guard<std::mutex> l(mu_);
    stats_.data_us += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
  } catch (const std::exception& e) {
    {
      std::lock_guard<std::mutex> l(mu_);
      broken_ = true;
      stopped_because_ = std::string("Horovod has been shut down after an MPI failure: ") + e.what();
      why = stopped_because_;
    }
    fail_all_pending(why);
    return false;
  }
  if (opts_.stall_warning_s > 0 && !pending_.empty() &&
      seconds(Clock::now() - last_warning_) > opts_.stall_warning_s) {
    last_warning_ = Clock::now();
    warn_stalled();
  }
  if (opts_.stall_shutdown_s > 0) {
    // Stop every rank in the next round with the reason, rather than wait for tensors that may never come.
    for (auto& kv : pending_) {
      const double waited = seconds(Clock::now() - kv.second.since);
      if (waited <= opts_.stall_shutdown_s) continue;
      std::lock_guard<std::mutex> l(mu_);
      stop_requested_ = true;
      stop_reason_ = "'" + kv.first + "' waited " + std::to_string((int)waited) +
                     " s for the other ranks (HOROVOD_STALL_SHUTDOWN_TIME_SECONDS)";
      cv_.notify_all();  // the controller's thread runs the round that says so
      break;
    }
  }
  return true;
}

// Every rank's message in one allgather of fixed-size blocks when all fit (the common case: one
// synchronization per round), else a second, exact allgather of the messages whose sizes the first told.
bool Controller::exchange(const std::string& mine, std::vector<std::string>* all) {
  constexpr int kBlock = 4096;
  // Buffers an unfinished exchange may still write into live in statics: after a failed wait MPI is
  // never called again, but the library may still own them.
  static std::string& send = *new std::string();
  static std::string& recv = *new std::string();
  static std::vector<int>& lens = *new std::vector<int>();
  static std::vector<int>& displs = *new std::vector<int>();
  const int len = (int)mine.size();
  send.assign(kBlock, '\0');
  std::memcpy(&send[0], &len, sizeof len);
  std::memcpy(&send[sizeof len], mine.data(), (size_t)std::min<int>(len, kBlock - (int)sizeof len));
  recv.assign((size_t)kBlock * size_, '\0');
  MpiRequest req;
  mpi_->iallgather_bytes(send.data(), kBlock, &recv[0], &req);
  if (!wait(&req)) return false;
  lens.assign(size_, 0);
  bool fit = true;
  for (int r = 0; r < size_; ++r) {
    std::memcpy(&lens[r], &recv[(size_t)r * kBlock], sizeof(int));
    fit = fit && lens[r] <= kBlock - (int)sizeof(int);
  }
  all->resize(size_);
  if (fit) {
    for (int r = 0; r < size_; ++r) (*all)[r] = recv.substr((size_t)r * kBlock + sizeof(int), (size_t)lens[r]);
    return true;
  }
  displs.assign(size_, 0);
  int64_t total = 0;
  for (int r = 0; r < size_; ++r) {
    displs[r] = (int)total;
    total += lens[r];
  }
  send = mine;
  recv.assign((size_t)total, '\0');
  mpi_->iallgatherv_bytes(send.data(), len, &recv[0], lens, displs, &req);
  if (!wait(&req)) return false;
  for (int r = 0; r < size_; ++r) (*all)[r] = recv.substr((size_t)displs[r], (size_t)lens[r]);
  return true;
}

bool Controller::wait(MpiRequest* req) {
  const auto start = Clock::now();
  auto warn_at = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opts_.stall_warning_s));
  int sleep_us = 0;
  while (!mpi_->test(req)) {
    const auto now = Clock::now();
    if (now - start < std::chrono::microseconds(30)) {
      cpu_relax();
      continue;
    }
    // While this process computes, sleep between polls and leave it the core. While it only waits for
    // the collectives, stay runnable (as MPI's own blocking calls do) and yield to whoever needs the core:
    // a sleeping thread on a busy machine wakes a scheduler slice late, every time.
    if ((helping_ || runs_waiting_on_async() > 0) && now - start < std::chrono::milliseconds(20)) {
      std::this_thread::yield();
      continue;
    }
    sleep_us = sleep_us ? std::min(sleep_us * 2, 100) : 5;
    std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    const double waited = seconds(now - start);
    if (opts_.stall_warning_s > 0 && now >= warn_at) {
      warn_at = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opts_.stall_warning_s));
      bool stopping;
      {
        std::lock_guard<std::mutex> l(mu_);
        stopping = stop_requested_;
      }
      std::string names;
      for (auto& kv : pending_) names += (names.empty() ? "" : ", ") + kv.first;
      std::fprintf(stderr,
                   "[tideflow.horovod] rank %d has waited %.0f s for the other ranks to reach a collective%s%s%s\n",
                   rank_, waited, stopping ? " (this rank is shutting down)" : "",
                   names.empty() ? "" : "; pending here: ", names.c_str());
    }
    if (opts_.stall_shutdown_s > 0 && waited > opts_.stall_shutdown_s) {
      std::lock_guard<std::mutex> l(mu_);
      stopped_because_ = "Horovod has been shut down: rank " + std::to_string(rank_) + " waited " +
                         std::to_string((int)waited) + " s for the other ranks (HOROVOD_STALL_SHUTDOWN_TIME_SECONDS).";
      return false;
    }
  }
  return true;
}

void Controller::warn_stalled() {
  std::string msg;
  for (auto& kv : pending_) {
    auto it = table_.find(kv.first);
    std::string missing;
    for (int r = 0; r < size_; ++r)
      if (it == table_.end() || !it->second->have[r]) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    msg += "\n  " + kv.first + (missing.empty() ? "" : " (missing ranks: " + missing + ")");
  }
  std::fprintf(stderr,
               "[tideflow.horovod] rank %d: one or more tensors were submitted to be reduced, gathered or broadcast "
               "by a subset of ranks and are waiting for the remaining ranks for more than %.0f seconds. This may "
               "indicate that different ranks are trying to submit different tensors or that only a subset of "
               "ranks is submitting tensors, which will cause deadlock.%s\n",
               rank_, opts_.stall_warning_s, msg.c_str());
}

// The message that fails `name` on every rank when the ranks disagree about it; "" when they agree.
static std::string mismatch(const std::string& name, const Controller::Entry& e) {
  const int size = (int)e.meta.size();
  const Controller::Meta& m0 = e.meta[0];
  auto by_rank = [&](auto describe) {
    std::string s;
    for (int r = 0; r < size; ++r) s += (r ? ", " : "") + ("rank " + std::to_string(r) + " has " + describe(e.meta[r]));
    return s;
  };
  for (int r = 1; r < size; ++r)
    if (e.meta[r].kind != m0.kind)
      return "Mismatched collective operations for tensor '" + name + "': " +
             by_rank([](const Controller::Meta& m) { return std::string(kind_name(m.kind)); }) + ".";
  for (int r = 1; r < size; ++r)
    if (e.meta[r].dtype != m0.dtype)
      return std::string("Mismatched data types: One or more ranks sent a different dtype for the ") +
             kind_name(m0.kind) + " of '" + name + "': " + by_rank(shape_of) + ".";
  switch (m0.kind) {
    case CollKind::Allreduce:
      for (int r = 1; r < size; ++r)
        if (e.meta[r].op != m0.op || e.meta[r].prescale != m0.prescale || e.meta[r].postscale != m0.postscale)
          return "Mismatched allreduce reduction operations for '" + name + "': " +
                 by_rank([](const Controller::Meta& m) {
                   return std::string(op_name(m.op)) + " (prescale " + std::to_string(m.prescale) + ", postscale " +
                          std::to_string(m.postscale) + ")";
                 }) + ".";
      for (int r = 1; r < size; ++r)
        if (e.meta[r].dims != m0.dims)
          return "Mismatched allreduce tensor shapes: One or more ranks sent a tensor of a different shape for '" +
                 name + "': " + by_rank(shape_of) + ".";
      break;
    case CollKind::Allgather: {
      bool bad = m0.dims.empty();
      int64_t total = 0, row = 1;
      for (size_t k = 1; k < m0.dims.size(); ++k) row *= m0.dims[k];
      for (int r = 0; r < size && !bad; ++r) {
        const Dims& d = e.meta[r].dims;
        bad = d.size() != m0.dims.size() || !std::equal(d.begin() + 1, d.end(), m0.dims.begin() + 1);
        if (!bad) total += d[0];
      }
      if (bad)
        return "Mismatched allgather tensor shapes: the tensors gathered as '" + name +
               "' must have the same rank (at least 1) and agree in every dimension but the first: " +
               by_rank(shape_of) + ".";
      if (total * row > INT32_MAX)
        return "the allgather of '" + name + "' has " + std::to_string(total * row) +
               " elements; more than 2^31-1 are not supported.";
      break;
    }
    case CollKind::Broadcast:
      for (int r = 1; r < size; ++r)
        if (e.meta[r].root != m0.root)
          return "Mismatched broadcast root ranks for '" + name + "': " +
                 by_rank([](const Controller::Meta& m) { return "root " + std::to_string(m.root); }) + ".";
      for (int r = 1; r < size; ++r)
        if (e.meta[r].dims != m0.dims)
          return "Mismatched broadcast tensor shapes: One or more ranks sent a tensor of a different shape for '" +
                 name + "': " + by_rank(shape_of) + ".";
      break;
  }
  return "";
}

// Runs the round's collectives in an order every rank derives alike from the ready list and the metadata
// they agree on: allgathers and broadcasts as they come, then the allreduces packed into groups of one
// dtype, reduction and scaling each (Note [tensor fusion]), then those larger than a group alone.
void Controller::execute(std::vector<std::string>& ready) {
  struct Group {
    std::vector<CollRequest*> members;
    int64_t bytes = 0;
  };
  std::vector<Group> groups;
  std::vector<CollRequest*> alone;
  auto same_group = [](const CollRequest& a, const CollRequest& b) {
    return a.input.dtype() == b.input.dtype() && a.op == b.op && a.prescale == b.prescale && a.postscale == b.postscale;
  };
  for (const std::string& name : ready) {
    std::unique_ptr<Entry> e = std::move(table_.at(name));
    table_.erase(name);
    CollRequest& r = pending_.at(name);  // this rank announced it, so it is pending here
    const std::string bad = mismatch(name, *e);
    if (!bad.empty()) {
      finish(name, Tensor(), error_at(ErrorCode::FailedPrecondition, bad, r.where));
      continue;
    }
    if (r.kind == CollKind::Allgather) {
      run_allgather(r, *e);
    } else if (r.kind == CollKind::Broadcast) {
      run_broadcast(r);
    } else {
      const int64_t bytes = (int64_t)r.input.nbytes();
      if (bytes >= kAloneBytes) {  // by size, which every rank agrees on
        alone.push_back(&r);
        continue;
      }
      Group* g = nullptr;
      for (Group& cand : groups)
        if (same_group(*cand.members[0], r) && cand.bytes + bytes <= opts_.fusion_threshold) g = &cand;
      if (!g) {
        groups.emplace_back();
        g = &groups.back();
      }
      g->members.push_back(&r);
      g->bytes += bytes;
    }
  }
  for (Group& g : groups) run_allreduce_group(g.members, true);
  for (CollRequest* r : alone) run_allreduce_group({r}, false);
}

void Controller::allreduce(const void* send, void* recv, int64_t count, DType dt, MpiOp op) {
  if (shm_ && ShmAllreduce::covers(dt)) {  // the same choice on every rank
    shm_->allreduce(send, recv, count, dt, op);
    std::lock_guard<std::mutex> l(mu_);
    stats_.shm_calls++;
  } else {
    mpi_->allreduce(send, recv, count, dt, op);
  }
}

void Controller::run_allreduce_group(const std::vector<CollRequest*>& group, bool fuse) {
  const CollRequest& first = *group[0];
  const DType dt = first.input.dtype();
  const MpiOp op = mpi_op(first.op);
  const double pre = first.prescale;
  const double post = first.postscale * (first.op == ReduceOp::Average ? 1.0 / size_ : 1.0);
  // A tensor alone with an input someone else holds (a fed array, a variable: memory that stays put from
  // step to step) goes to MPI as it is, into a new output; a fresh one (a gradient) takes the fusion
  // buffer, which MPI has seen before. Either way it is one MPI call, so the choice, which may differ
  // between ranks, does not change the sequence of calls. The output is the run's alone, so a fetch hands
  // it to the caller without a copy (Note [what users hold]); its memory is the block the previous step's
  // result left when it was freed (Note [big buffer reuse]), which MPI has seen before too.
  if (!fuse && !group[0]->input.unique()) {
    CollRequest& r = *group[0];
    const int64_t n = r.input.size();
    Tensor out(dt, r.input.dims());
    if (pre != 1.0) scale(r.input.raw(), out.raw(), n, dt, pre);
    const bool in_place = pre != 1.0;
    if (pre != 1.0) trace("scale", (int64_t)out.nbytes());
    allreduce(in_place ? nullptr : r.input.raw(), out.raw(), n, dt, op);
    trace("mpi", (int64_t)out.nbytes());
    if (post != 1.0) {
      scale(out.raw(), out.raw(), n, dt, post);
      trace("scale", (int64_t)out.nbytes());
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      stats_.mpi_calls++;
      stats_.bytes += (int64_t)out.nbytes();
    }
    std::string name = r.name;
    finish(name, std::move(out), nullptr);
    trace("done", 1);
    return;
  }
  // Note [fusion views]
  // The reduced values stay where MPI left them: each request's output is a view of its slice of the
  // fusion buffer (slices start 64 bytes apart), which the view keeps alive. No copy out, and the consumers
  // (the optimizer's updates) read the slices directly. A fusion buffer is reused only once no view of it
  // is left (the step's gradients are freed when the run ends), so a result someone keeps (a fetched
  // gradient) never changes; a round that finds every buffer held takes a new one. The Average division
  // and a postscale that is a power of two go into the copy in, where they are exact (scaling by 2^k
  // commutes with rounding); another postscale is a pass over the buffer after MPI.
  const size_t esize = dtype_size(dt);
  std::vector<size_t> offs;
  size_t total_bytes = 0;
  for (const CollRequest* r : group) {
    offs.push_back(total_bytes);
    total_bytes += (r->input.nbytes() + 63) / 64 * 64;
  }
  const int64_t total = (int64_t)(total_bytes / esize);
  int exp2 = 0;
  const bool fold = is_floating(dt) && post > 0 && std::frexp(post, &exp2) == 0.5;
  std::shared_ptr<Buffer> fb = fusion_buffer(total_bytes);
  char* buf = static_cast<char*>(fb->data);
  for (size_t i = 0; i < group.size(); ++i) {
    const CollRequest* r = group[i];
    copy_scaled(r->input.raw(), buf + offs[i], r->input.size(), dt, fold ? pre * post : pre);
    const size_t pad = (i + 1 < group.size() ? offs[i + 1] : total_bytes) - offs[i] - r->input.nbytes();
    if (pad) std::memset(buf + offs[i] + r->input.nbytes(), 0, pad);
  }
  trace("copy_in", (int64_t)total_bytes);
  allreduce(nullptr, buf, total, dt, op);
  trace("mpi", (int64_t)total_bytes);
  if (!fold && post != 1.0) {
    scale(buf, buf, total, dt, post);
    trace("scale", (int64_t)total_bytes);
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    stats_.mpi_calls++;
    if (group.size() > 1) stats_.fused_tensors += (int64_t)group.size();
    stats_.bytes += (int64_t)total_bytes;
  }
  for (size_t i = 0; i < group.size(); ++i) {
    CollRequest* r = group[i];
    auto view = std::make_shared<Buffer>();
    view->data = buf + offs[i];
    view->nbytes = r->input.nbytes();
    view->release = [fb] {};  // holds the fusion buffer; Buffer frees nothing of a borrowed block
    Tensor out(dt, r->input.dims(), std::move(view));
    std::string name = r->name;
    finish(name, std::move(out), nullptr);
  }
  trace("done", (int64_t)group.size());
}

// A fusion buffer of at least `nbytes` that no output views any more (Note [fusion views]): the smallest
// such buffer of the last rounds, which MPI has seen before, or a new one, kept for later rounds while the
// kept ones stay within twice the fusion threshold.
std::shared_ptr<Buffer> Controller::fusion_buffer(size_t nbytes) {
  std::shared_ptr<Buffer>* best = nullptr;
  size_t kept = 0;
  for (auto& b : fusion_pool_) {
    kept += b->nbytes;
    if (b.use_count() == 1 && b->nbytes >= nbytes && (!best || b->nbytes < (*best)->nbytes)) best = &b;
  }
  if (best) return *best;
  std::shared_ptr<Buffer> b = Buffer::allocate(std::max<size_t>(nbytes, 64));
  const size_t cap = 2 * (size_t)std::max<int64_t>(opts_.fusion_threshold, int64_t(1) << 20);
  if (kept + b->nbytes > cap) {
    // Make room by dropping buffers nobody views, smallest first.
    std::sort(fusion_pool_.begin(), fusion_pool_.end(), [](const auto& x, const auto& y) { return x->nbytes < y->nbytes; });
    for (size_t i = 0; i < fusion_pool_.size() && kept + b->nbytes > cap;) {
      if (fusion_pool_[i].use_count() == 1) {
        kept -= fusion_pool_[i]->nbytes;
        fusion_pool_.erase(fusion_pool_.begin() + (ptrdiff_t)i);
      } else {
        ++i;
      }
    }
  }
  if (kept + b->nbytes <= cap) fusion_pool_.push_back(b);
  return b;
}

void Controller::run_allgather(CollRequest& r, const Entry& e) {
  const Dims& d = r.input.dims();
  int64_t row = 1;
  for (size_t k = 1; k < d.size(); ++k) row *= d[k];
  std::vector<int64_t> counts(size_);
  Dims out_dims = d;
  out_dims[0] = 0;
  for (int k = 0; k < size_; ++k) {
    counts[k] = e.meta[k].dims[0] * row;
    out_dims[0] += e.meta[k].dims[0];
  }
  Tensor out(r.input.dtype(), out_dims);
  mpi_->allgatherv(r.input.raw(), r.input.size(), out.raw(), counts, r.input.dtype());
  {
    std::lock_guard<std::mutex> l(mu_);
    stats_.mpi_calls++;
    stats_.bytes += (int64_t)out.nbytes();
  }
  std::string name = r.name;
  finish(name, std::move(out), nullptr);
}

void Controller::run_broadcast(CollRequest& r) {
  // The root only reads its buffer, so it may be shared; elsewhere MPI writes into the output.
  Tensor out = rank_ == r.root || r.input.unique() ? r.input : Tensor(r.input.dtype(), r.input.dims());
  mpi_->bcast(out.raw(), out.size(), out.dtype(), r.root);
  {
    std::lock_guard<std::mutex> l(mu_);
    stats_.mpi_calls++;
    stats_.bytes += (int64_t)out.nbytes();
  }
  std::string name = r.name;
  finish(name, std::move(out), nullptr);
}

void Controller::finish(const std::string& name, Tensor out, std::exception_ptr err) {
  auto it = pending_.find(name);
  CollRequest r = std::move(it->second);
  pending_.erase(it);
  npending_ = (int)pending_.size();
  r.input = Tensor();  // the output may share its buffer; nobody else needs the request's reference
  {
    std::lock_guard<std::mutex> l(mu_);
    stats_.tensors++;
  }
  r.done(std::move(out), err);
}

void Controller::fail_all_pending(const std::string& why) {
  std::vector<CollRequest> reqs;
  for (auto& kv : pending_) reqs.push_back(std::move(kv.second));
  pending_.clear();
  npending_ = 0;
  table_.clear();
  announce_.clear();
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& r : queue_) reqs.push_back(std::move(r));
    queue_.clear();
  }
  for (CollRequest& r : reqs) r.done(Tensor(), error_at(ErrorCode::Unknown, why, r.where));
}

}  // namespace dist
}  // namespace tideflow
