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

  void run_node(int pi, std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) {
    const PlanNode& pn = plan.nodes[pi];
    Node& n = *pn.node;
    inputs.resize(pn.in_slots.size());
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
    outputs.clear();
    outputs.resize(n.num_outputs());
    KernelCtx ctx{n, inputs, outputs, state, threads};
    ctx.fused = pn.fused;
    KernelFn kernel = pn.fusion ? pn.fusion->kernel : n.op->cpu;
    if (!kernel) throw with_node(n, "no CPU kernel registered for op type '" + n.type() + "'");
    try {
      kernel(ctx);
    } catch (const Error& e) {
      // An allocation refused deep inside a kernel (Note [checked sizes]) learns which node asked.
      if (e.code() == ErrorCode::ResourceExhausted && !std::strstr(e.what(), "[[node "))
        throw Error(e.code(), std::string(e.what()) + "\n\t [[node " + n.describe() + "]]");
      throw;
    } catch (const std::bad_alloc&) {
      throw Error(ErrorCode::ResourceExhausted, "out of memory\n\t [[node " + n.describe() + "]]");
    } catch (const std::exception& e) {
      throw with_node(n, e.what());
    }
    for (int i = 0; i < n.num_outputs(); ++i) {
      if (!outputs[i].valid()) throw with_node(n, "kernel produced no output " + std::to_string(i));
      if (reads[pn.out_slot + i] > 0) slots[pn.out_slot + i] = std::move(outputs[i]);
    }
    inputs.clear();
  }
};

void run_sequential(RunState<false>& rs) {
  std::vector<Tensor> inputs, outputs;
  for (size_t pi = 0; pi < rs.plan.nodes.size(); ++pi) rs.run_node((int)pi, inputs, outputs);
}

// Note [ready queue]
// In parallel mode a thread runs a node and then, inline, the first consumer it made ready; further
// expensive consumers go to a queue shared by the run. Pool helpers (at most threads - 1) take from the
// queue, and so does the calling thread once its own chain ends, instead of waiting: if the helper is
// still waking up, the caller runs the node itself and the late helper finds nothing to do. Helpers hold
// the queue by a shared pointer, so the run can end without waiting for helpers that never started.
struct ReadyQueue {
  std::mutex mu;
  std::condition_variable cv;  // the caller waits here for helpers' drains to finish
  std::deque<int> nodes;
  int active = 0;   // helper drains in progress
  int helpers = 0;  // helper tasks scheduled and not yet gone
  bool done = false;
  std::exception_ptr error;
};

struct ParallelRun {
  RunState<true>& rs;
  int max_helpers;
  std::shared_ptr<ReadyQueue> q = std::make_shared<ReadyQueue>();
  std::atomic<bool> abort{false};

  // Runs `first` and everything it makes ready on this thread; extra expensive nodes go to the queue.
  void drain(int first) {
    std::vector<int> local{first};
    std::vector<Tensor> inputs, outputs;
    while (!local.empty() && !abort.load(std::memory_order_relaxed)) {
      int pi = local.back();
      local.pop_back();
      try {
        rs.run_node(pi, inputs, outputs);
      } catch (...) {
        std::lock_guard<std::mutex> l(q->mu);
        if (!q->error) q->error = std::current_exception();
        abort = true;
        return;
      }
      bool kept = false;
      for (int c : rs.plan.nodes[pi].consumers) {
        if (--rs.pending[c] != 0) continue;
        if (kept && rs.plan.nodes[c].expensive) push(c);
        else local.push_back(c);
        kept = true;
      }
    }
  }

  void push(int pi) {
    bool helper;
    {
      std::lock_guard<std::mutex> l(q->mu);
      q->nodes.push_back(pi);
      helper = q->helpers < max_helpers;
      if (helper) q->helpers++;
    }
    q->cv.notify_one();
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

  // The caller's part once its own chain ends: queued nodes, then waiting for the helpers' drains. While
  // it waits it runs pool tasks too: a helper's product split for two threads would otherwise find the
  // only worker busy (the helper itself) and run on one. The wait polls for ~kPoll, then blocks.
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
      } else if (q->active == 0) {
        q->done = true;
        break;
      } else {
        const bool polling = clock::now() < poll_until;
        if (!polling) {
          q->cv.wait(l, [&] { return !q->nodes.empty() || q->active == 0; });
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

std::vector<Tensor> execute(const Plan& plan, std::vector<Tensor> feed_values, Resources& state, int threads,
                            bool parallel) {
  auto finish = [&](auto& rs) {
    std::vector<Tensor> out;
    out.reserve(plan.fetch_slots.size());
    for (int s : plan.fetch_slots) out.push_back(rs.slots[s]);
    return out;
  };
  if (!parallel || threads <= 1 || !plan.parallel) {
    RunState<false> rs(plan, state, threads);
    for (size_t i = 0; i < feed_values.size(); ++i) rs.slots[plan.feed_slots[i]] = std::move(feed_values[i]);
    run_sequential(rs);
    return finish(rs);
  }
  RunState<true> rs(plan, state, threads);
  for (size_t i = 0; i < feed_values.size(); ++i) rs.slots[plan.feed_slots[i]] = std::move(feed_values[i]);
  ParallelRun pr{rs, threads - 1};
  const auto& ready = plan.initial_ready;
  for (size_t i = 1; i < ready.size(); ++i) {
    if (plan.nodes[ready[i]].expensive) pr.push(ready[i]);
    else pr.drain(ready[i]);
  }
  if (!ready.empty()) pr.drain(ready[0]);
  pr.finish();
  return finish(rs);
}

}  // namespace tideflow
