#include "executor.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>

#include "op_registry.h"
#include "threadpool.h"

namespace tideflow {

namespace {

Error with_node(const Node& n, const std::string& what) {
  return Error(ErrorCode::Internal, what + "\n\t [[node " + n.describe() + "]]");
}

// Note [step stats]
// RunOptions(trace_level=...) asks for RunMetadata.step_stats: while a Session's Resources are tracing
// (Session::run_traced), each kernel that runs with them is timed with the wall clock and recorded with a
// small number for its thread, as TensorFlow's NodeExecStats record all_start_micros and a thread id
// (tf's timeline turns them into a Chrome trace). Untraced runs pay one relaxed load per node.
int64_t wall_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
uint32_t thread_number() {
  static std::atomic<uint32_t> next{0};
  thread_local const uint32_t mine = next.fetch_add(1);
  return mine;
}
void record(StepTrace& trace, const NodeStat& s) {
  std::lock_guard<std::mutex> l(trace.mu);
  trace.stats.push_back(s);
}

// Note [run state]
// Slots hold values; reads[s] counts down as readers take slot s, and the last reader moves the tensor
// out instead of copying the handle, so an elementwise kernel can reuse the buffer in place and the
// memory is freed as soon as possible. In parallel mode the counters are atomic.
template <bool kParallel>
struct RunState {
  using Counter = std::conditional_t<kParallel, std::atomic<int>, int>;
  const Plan& plan;
  Resources& state;
  int threads;
  bool allow_parallel = false;  // the caller allows the inter-op pool (passed on to control-flow kernels)
  std::vector<Tensor> slots;
  std::unique_ptr<Counter[]> reads, pending;

  RunState(const Plan& p, Resources& s, int t) : plan(p), state(s), threads(t), slots(p.num_slots) {
    reads.reset(new Counter[p.num_slots]);
    for (int i = 0; i < p.num_slots; ++i) reads[i] = p.slot_reads[i];
    pending.reset(new Counter[p.nodes.size()]);
    for (size_t i = 0; i < p.nodes.size(); ++i) pending[i] = p.nodes[i].pending;
  }

  Tensor read_variable(const Node& var, const Node& reader) {
    Tensor v = state.var(&var).read();
    if (!v.valid())
      throw Error(ErrorCode::FailedPrecondition, "Attempting to use uninitialized value " + var.name +
                                                     "\n\t [[node " + reader.describe() + "]]");
    return v;
  }

  void take_inputs(const PlanNode& pn, std::vector<Tensor>& inputs) {
    Node& n = *pn.node;
    if (inputs.size() != pn.in_slots.size()) inputs.resize(pn.in_slots.size());
    for (size_t i = 0; i < pn.in_slots.size(); ++i) {
      int s = pn.in_slots[i];
      if (s < 0) inputs[i] = pn.in_vars.empty() || !pn.in_vars[i] ? Tensor() : read_variable(*pn.in_vars[i], n);
      else if constexpr (kParallel) {
        // Copy before counting down: a reader on another thread may be the last one and clear the slot,
        // which is only safe once every other reader holds its own reference.
        inputs[i] = slots[s];
        if (--reads[s] == 0) slots[s] = Tensor();
      } else if (--reads[s] == 0) {
        inputs[i] = std::move(slots[s]);
      } else {
        inputs[i] = slots[s];
      }
    }
  }

  void store_outputs(const PlanNode& pn, std::vector<Tensor>& outputs) {
    Node& n = *pn.node;
    for (int i = 0; i < pn.num_outputs; ++i) {
      if (!outputs[i].valid()) throw with_node(n, "kernel produced no output " + std::to_string(i));
      if (reads[pn.out_slot + i] > 0) slots[pn.out_slot + i] = std::move(outputs[i]);
      else outputs[i] = Tensor();
    }
  }

  void run_node(int pi, std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) {
    const PlanNode& pn = plan.nodes[pi];
    Node& n = *pn.node;
    take_inputs(pn, inputs);
    // The vectors keep their size from node to node (in a chain it rarely changes) and hold only empty
    // tensors between nodes: clear() + resize() would construct every element again through a call.
    if (outputs.size() != (size_t)pn.num_outputs) {
      outputs.clear();
      outputs.resize(pn.num_outputs);
    }
    KernelCtx ctx{n, inputs, outputs, state, threads};
    ctx.fused = pn.fused;
    ctx.parallel = allow_parallel;
    ctx.slot_reads = &plan.slot_reads;
    ctx.out_slot = pn.out_slot;
    KernelFn kernel = pn.fusion ? pn.fusion->kernel : n.op->cpu;
    if (!kernel) throw with_node(n, "no CPU kernel registered for op type '" + n.type() + "'");
    const bool traced = state.tracing.load(std::memory_order_relaxed);  // Note [step stats]
    const int64_t start_us = traced ? wall_micros() : 0;
    try {
      kernel(ctx);
    } catch (const Error& e) {
      // An allocation refused deep inside a kernel (Note [checked sizes]) learns which node asked.
      // So does a kernel refused a dtype it was not written for (Note [op type rules]).
      if ((e.code() == ErrorCode::ResourceExhausted || e.code() == ErrorCode::Internal) &&
          !std::strstr(e.what(), "[[node "))
        throw Error(e.code(), std::string(e.what()) + "\n\t [[node " + n.describe() + "]]");
      throw;
    } catch (const std::bad_alloc&) {
      throw Error(ErrorCode::ResourceExhausted, "out of memory\n\t [[node " + n.describe() + "]]");
    } catch (const std::exception& e) {
      throw with_node(n, e.what());
    }
    if (traced) record(state.trace, NodeStat{&n, start_us, wall_micros(), thread_number()});
    store_outputs(pn, outputs);
    for (Tensor& t : inputs) t = Tensor();  // drop the references now: the last one frees the memory
  }
};

void run_sequential(RunState<false>& rs) {
  std::vector<Tensor> inputs, outputs;
  for (size_t pi = 0; pi < rs.plan.nodes.size(); ++pi) rs.run_node((int)pi, inputs, outputs);
}

std::atomic<int> g_waiting_on_async{0};
std::atomic<void (*)()> g_async_wait_listener{nullptr};
std::atomic<bool (*)()> g_async_helper{nullptr};

void waiting_on_async(int delta) {
  g_waiting_on_async += delta;
  if (delta > 0)
    if (auto fn = g_async_wait_listener.load()) fn();
}

// Note [ready queue]
// In parallel mode a thread runs a node and then, inline, the first consumer it made ready; further
// expensive consumers go to a queue shared by the run. Pool helpers (at most threads - 1) take from the
// queue, and so does the calling thread once its own chain ends, instead of waiting: if the helper is
// still waking up, the caller runs the node itself and the late helper finds nothing to do. Helpers hold
// the queue by a shared pointer, so the run can end without waiting for helpers that never started.
// Async nodes (Note [async kernels] in op_registry.h) are launched as soon as they are ready; their
// completions, on whatever thread finishes the work, count down their consumers and queue those that
// become ready. A run that fails returns without waiting for async work still in flight: its late
// completion finds the queue marked done and drops its outputs.
struct ReadyQueue {
  std::mutex mu;
  std::condition_variable cv;  // the caller waits here for helpers' drains and async completions
  std::deque<int> nodes;
  int active = 0;       // helper drains in progress
  int helpers = 0;      // helper tasks scheduled and not yet gone
  int outstanding = 0;  // async nodes launched and not yet complete
  int completing = 0;   // async completions touching the run's state right now
  bool done = false;
  std::exception_ptr error;
};

// An async node's kernel context, alive until its work calls done.
struct AsyncCall {
  std::vector<Tensor> inputs, outputs;
  KernelCtx ctx;
  int pi;
  AsyncCall(Node& n, Resources& s, int threads, int index) : ctx{n, inputs, outputs, s, threads}, pi(index) {}
};

struct ParallelRun {
  RunState<true>& rs;
  int max_helpers;
  std::shared_ptr<ReadyQueue> q = std::make_shared<ReadyQueue>();
  std::atomic<bool> abort{false};

  void fail(std::exception_ptr e) {
    std::lock_guard<std::mutex> l(q->mu);
    if (!q->error) q->error = e;
    abort = true;
    q->cv.notify_all();
  }

  // Runs `first` and everything it makes ready on this thread; extra expensive nodes go to the queue.
  void drain(int first) {
    std::vector<int> local{first};
    std::vector<Tensor> inputs, outputs;
    while (!local.empty() && !abort.load(std::memory_order_relaxed)) {
      int pi = local.back();
      local.pop_back();
      if (rs.plan.nodes[pi].async) {
        start_async(pi);
        continue;
      }
      try {
        rs.run_node(pi, inputs, outputs);
      } catch (...) {
        fail(std::current_exception());
        return;
      }
      bool kept = false;
      for (int c : rs.plan.nodes[pi].consumers) {
        if (--rs.pending[c] != 0) continue;
        if (rs.plan.nodes[c].async) {
          start_async(c);  // a collective starts before the work that can overlap with it
          continue;
        }
        if (kept && rs.plan.nodes[c].expensive) push(c);
        else local.push_back(c);
        kept = true;
      }
    }
  }

  void start_async(int pi) {
    const PlanNode& pn = rs.plan.nodes[pi];
    Node& n = *pn.node;
    auto* call = new AsyncCall(n, rs.state, rs.threads, pi);
    try {
      rs.take_inputs(pn, call->inputs);
    } catch (...) {
      delete call;
      fail(std::current_exception());
      return;
    }
    call->outputs.resize(n.num_outputs());
    {
      std::lock_guard<std::mutex> l(q->mu);
      q->outstanding++;
    }
    std::shared_ptr<ReadyQueue> queue = q;
    try {
      n.op->cpu_async(call->ctx, [queue, self = this, call](std::exception_ptr e) { complete(queue, self, call, e); });
    } catch (...) {  // the kernel failed before handing its work on: done will never be called
      complete(queue, this, call, std::current_exception());
    }
  }

  // An async node's work is over. `self` is only touched while the run waits for this completion.
  static void complete(const std::shared_ptr<ReadyQueue>& q, ParallelRun* self, AsyncCall* call,
                       std::exception_ptr e) {
    std::unique_ptr<AsyncCall> own(call);
    {
      std::lock_guard<std::mutex> l(q->mu);
      if (q->done) return;
      q->completing++;
    }
    const PlanNode& pn = self->rs.plan.nodes[call->pi];
    if (!e) {
      try {
        self->rs.store_outputs(pn, call->outputs);
      } catch (...) {
        e = std::current_exception();
      }
    }
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const Error&) {
      } catch (const std::bad_alloc&) {
        e = std::make_exception_ptr(Error(ErrorCode::ResourceExhausted, "out of memory\n\t [[node " +
                                                                            pn.node->describe() + "]]"));
      } catch (const std::exception& x) {
        e = std::make_exception_ptr(with_node(*pn.node, x.what()));
      } catch (...) {
        e = std::make_exception_ptr(with_node(*pn.node, "unknown error"));
      }
      self->fail(e);
    } else {
      for (int c : pn.consumers) {
        if (--self->rs.pending[c] != 0 || self->abort) continue;
        if (self->rs.plan.nodes[c].async) self->start_async(c);
        else self->push(c);
      }
    }
    std::lock_guard<std::mutex> l(q->mu);
    q->completing--;
    q->outstanding--;
    q->cv.notify_all();
  }

  void push(int pi) {
    bool helper;
    {
      std::lock_guard<std::mutex> l(q->mu);
      q->nodes.push_back(pi);
      helper = q->helpers < max_helpers;
      if (helper) q->helpers++;
    }
    q->cv.notify_all();
    if (helper) ThreadPool::global().schedule([q = q, self = this] { help(q, self); });
  }

  // A pool task: drains queued nodes until the queue is empty. `self` is only touched while a node taken
  // from the queue is running, and the run cannot end then.
  static void help(const std::shared_ptr<ReadyQueue>& q, ParallelRun* self) {
    std::unique_lock<std::mutex> l(q->mu);
    while (!q->done && !q->nodes.empty()) {
      int pi = q->nodes.front();
      q->nodes.pop_front();
      q->active++;
      l.unlock();
      self->drain(pi);
      l.lock();
      q->active--;
      q->cv.notify_all();
    }
    q->helpers--;
  }

  // Nothing left that this run must wait for: helpers idle, and async work over (or abandoned on error).
  bool quiet() const {
    return q->active == 0 && q->completing == 0 && (q->outstanding == 0 || abort.load());
  }

  // The caller's part once its own chain ends: queued nodes, then waiting for the helpers' drains and
  // the async nodes in flight. While it waits it runs pool tasks too: a helper's product split for two
  // threads would otherwise find the only worker busy (the helper itself) and run on one. The wait for
  // helpers polls for ~kPoll, then blocks.
  void finish() {
    using clock = std::chrono::steady_clock;
    static constexpr auto kPoll = std::chrono::microseconds(200);
    std::unique_lock<std::mutex> l(q->mu);
    auto poll_until = clock::now() + kPoll;
    for (;;) {
      if (abort) q->nodes.clear();
      if (!q->nodes.empty()) {
        int pi = q->nodes.front();
        q->nodes.pop_front();
        l.unlock();
        drain(pi);
        l.lock();
        poll_until = clock::now() + kPoll;
      } else if (quiet()) {
        q->done = true;
        break;
      } else {
        // Helpers finish soon: poll for them. Async work waits on other processes: sleep, and leave the
        // core to whoever does that work.
        const bool polling = q->active > 0 && clock::now() < poll_until;
        if (!polling) {
          const bool on_async = q->active == 0 && q->outstanding > 0 && !abort;
          if (on_async) {
            if (auto helper = g_async_helper.load()) {
              l.unlock();
              const bool worked = helper();  // may complete our async nodes, which takes q->mu
              l.lock();
              if (worked) continue;
            }
            waiting_on_async(+1);
          }
          q->cv.wait(l, [&] { return !q->nodes.empty() || quiet(); });
          if (on_async) waiting_on_async(-1);
          continue;
        }
        l.unlock();
        if (ThreadPool::global().try_run_one()) poll_until = clock::now() + kPoll;
        else cpu_relax();
        l.lock();
      }
    }
    if (q->error) std::rethrow_exception(q->error);
  }
};

}  // namespace

int runs_waiting_on_async() { return g_waiting_on_async.load(); }

void run_async_kernel(AsyncKernelFn kernel, KernelCtx& ctx) {
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::exception_ptr error;
  };
  auto w = std::make_shared<Wait>();  // `done` may be called after a failed launch returned: it owns w too
  kernel(ctx, [w](std::exception_ptr e) {
    std::lock_guard<std::mutex> l(w->mu);
    w->error = e;
    w->done = true;
    w->cv.notify_all();
  });
  std::unique_lock<std::mutex> l(w->mu);
  while (!w->done) {
    if (auto helper = g_async_helper.load()) {
      l.unlock();
      const bool worked = helper();
      l.lock();
      if (worked) continue;
    }
    waiting_on_async(+1);
    w->cv.wait(l, [&] { return w->done; });
    waiting_on_async(-1);
  }
  if (w->error) std::rethrow_exception(w->error);
}
void set_async_wait_listener(void (*fn)()) { g_async_wait_listener = fn; }
void set_async_helper(bool (*helper)()) { g_async_helper = helper; }

std::vector<Tensor> execute(const Plan& plan, std::vector<Tensor> feed_values, Resources& state, int threads,
                            bool parallel) {
  auto finish = [&](auto& rs) {
    std::vector<Tensor> out;
    out.reserve(plan.fetch_slots.size());
    for (int s : plan.fetch_slots) out.push_back(rs.slots[s]);
    return out;
  };
  // Plans with async nodes always run from the ready queue (Note [ready queue]), on one thread if asked.
  const bool helpers = parallel && threads > 1 && plan.parallel;
  if (!helpers && !plan.has_async) {
    RunState<false> rs(plan, state, threads);
    rs.allow_parallel = parallel && threads > 1;
    for (size_t i = 0; i < feed_values.size(); ++i) rs.slots[plan.feed_slots[i]] = std::move(feed_values[i]);
    run_sequential(rs);
    return finish(rs);
  }
  RunState<true> rs(plan, state, threads);
  rs.allow_parallel = true;
  for (size_t i = 0; i < feed_values.size(); ++i) rs.slots[plan.feed_slots[i]] = std::move(feed_values[i]);
  ParallelRun pr{rs, helpers ? threads - 1 : 0};
  const auto& ready = plan.initial_ready;
  for (size_t i = 1; i < ready.size(); ++i) {
    if (plan.nodes[ready[i]].expensive) pr.push(ready[i]);
    else pr.drain(ready[i]);
  }
  if (!ready.empty()) pr.drain(ready[0]);
  pr.finish();
  return finish(rs);
}

struct PlanRunner::State {
  const Plan& plan;
  Resources& res;
  int threads;
  bool parallel;
  std::unique_ptr<RunState<false>> rs;  // null: each run goes through execute()
};

PlanRunner::PlanRunner(const Plan& plan, Resources& state, int threads, bool parallel)
    : s_(new State{plan, state, threads, parallel, nullptr}) {
  if (parallel && threads > 1 && plan.parallel) return;
  s_->rs = std::make_unique<RunState<false>>(plan, state, threads);
  s_->rs->allow_parallel = parallel && threads > 1;
}

PlanRunner::~PlanRunner() = default;

void PlanRunner::run(std::vector<Tensor>& feeds, std::vector<Tensor>& out) {
  const Plan& plan = s_->plan;
  if (!s_->rs) {
    out = execute(plan, std::move(feeds), s_->res, s_->threads, s_->parallel);
    return;
  }
  RunState<false>& rs = *s_->rs;
  for (int i = 0; i < plan.num_slots; ++i) rs.reads[i] = plan.slot_reads[i];
  for (size_t i = 0; i < feeds.size(); ++i) rs.slots[plan.feed_slots[i]] = std::move(feeds[i]);
  try {
    run_sequential(rs);
  } catch (...) {
    for (Tensor& t : rs.slots) t = Tensor();
    throw;
  }
  out.resize(plan.fetch_slots.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = rs.slots[plan.fetch_slots[i]];
  // What a run leaves behind: fetched values and feeds nobody read.
  for (int s : plan.fetch_slots) rs.slots[s] = Tensor();
  for (int s : plan.feed_slots) rs.slots[s] = Tensor();
}

}  // namespace tideflow
