// What the control-flow ops share (cond.cc: If; while_loop.cc: While and WhileGrad): frames' members,
// frame plans cached per owner node, rows of sliced and stacked values, and what a gradient frame reads.
// Internal to cpp/ops/ (the front end's view is control_flow.h); Note [control flow] in control_flow.cc.
#pragma once
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "executor.h"
#include "gradients.h"
#include "op_registry.h"
#include "ops/control_flow.h"
#include "plan.h"
#include "resources.h"

namespace tideflow::cf {

bool is_var(const Output& o);

// TF1's Merge: the dims both branches agree on.
PartialShape common_shape(const PartialShape& a, const PartialShape& b);

Frame& frame_of(const Node& n, const char* attr);

// The members of `frames` that what they return needs, over data and control edges inside them: what
// runs when the frames run. Members nothing returned depends on never run (TF1: an op in a branch runs only
// if the branch's result depends on it), so what they read is no capture.
std::vector<Node*> needed_members(Graph& g, const std::vector<int>& frames);

bool is_plain_const(const Node* n);

// Runs `f` with `frame` as the graph's current frame, letting new nodes read other frames' values (a
// gradient frame reads the forward frame's: Note [frames]).
template <class F>
auto in_frame(Graph& g, int frame, F&& f) {
  struct Restore {
    Graph& g;
    int saved;
    ~Restore() {
      g.set_current_frame(saved);
      g.allow_foreign_reads(-1);
    }
  } restore{g, g.current_frame()};
  g.set_current_frame(frame);
  g.allow_foreign_reads(1);
  return f();
}

// Note [frame plan cache]
// A frame's plan is built on its owner's first run and kept in the session's Resources (node_cache), under
// a small key: the frame run, and which optional values the run fetches (an If's saved values, a loop's
// trace). Plans are dropped when the graph's edges change (Graph::edge_version: building a gradient adds
// saved values), as the session's own cache does. Each feed has a source the owner's kernel understands:
// src >= 0 is the owner's input src; src < 0 is the kernel's per-run value -1 - src. Constants the frame
// reads are fed too, their values kept here: its own (an iteration does not run their nodes) and those of
// the forward frame a gradient frame reads (never saved per iteration: gradient_reads skips them).
struct FramePlan {
  Plan plan;
  std::vector<Tensor> fixed;    // per feed: a constant's value, or invalid
  std::vector<int> src;         // per feed
  std::vector<char> used;       // per feed: some node reads it (unread feeds are not filled)
  std::vector<int> dst;         // per fetch: where the kernel puts it (owner-specific)
  std::vector<DType> dtypes;    // owner-specific snapshot taken with the plan (an If's output dtypes)
  std::vector<PartialShape> shapes;
  // Runners (their run state) kept between the owner's runs, so a run allocates no slots or counters.
  struct Idle {
    int threads;
    bool parallel;
    std::unique_ptr<PlanRunner> runner;
  };
  mutable std::mutex mu;
  mutable std::vector<Idle> idle;
};

// A runner of a frame plan for one kernel call, taken from and given back to the plan's pool.
class Runner {
 public:
  Runner(const FramePlan& fp, KernelCtx& c) : fp_(fp), threads_(c.threads), parallel_(c.parallel) {
    {
      std::lock_guard<std::mutex> l(fp.mu);
      for (size_t i = 0; i < fp.idle.size(); ++i)
        if (fp.idle[i].threads == threads_ && fp.idle[i].parallel == parallel_) {
          r_ = std::move(fp.idle[i].runner);
          fp.idle.erase(fp.idle.begin() + i);
          break;
        }
    }
    if (!r_) r_ = std::make_unique<PlanRunner>(fp.plan, c.res, threads_, parallel_);
  }
  ~Runner() {
    std::lock_guard<std::mutex> l(fp_.mu);
    if (fp_.idle.size() < 4) fp_.idle.push_back({threads_, parallel_, std::move(r_)});
  }
  void run(std::vector<Tensor>& feeds, std::vector<Tensor>& out) { r_->run(feeds, out); }

 private:
  const FramePlan& fp_;
  int threads_;
  bool parallel_;
  std::unique_ptr<PlanRunner> r_;
};

struct FramePlans {
  std::mutex mu;
  uint64_t version = ~uint64_t(0);
  std::vector<std::pair<std::vector<int64_t>, std::shared_ptr<const FramePlan>>> plans;
};

struct PlanSpec {
  std::vector<Output> feeds, fetches;
  std::vector<int> src, dst;
  std::vector<DType> dtypes;
  std::vector<PartialShape> shapes;
  std::set<std::pair<int, int>> fed;
  void feed(const Output& o, int s) {
    if (fed.insert({o.node->id, o.index}).second) {
      feeds.push_back(o);
      src.push_back(s);
    }
  }
};

template <class Spec>
std::shared_ptr<const FramePlan> frame_plan(KernelCtx& c, std::vector<int64_t> key, int frame, Spec&& spec) {
  auto cache = std::static_pointer_cast<FramePlans>(
      c.res.node_cache(&c.node, [] { return std::static_pointer_cast<void>(std::make_shared<FramePlans>()); }));
  Graph& g = *c.node.graph;
  const uint64_t version = g.edge_version();
  {
    std::lock_guard<std::mutex> l(cache->mu);
    if (cache->version != version) {
      cache->plans.clear();
      cache->version = version;
    }
    for (auto& kv : cache->plans)
      if (kv.first == key) return kv.second;
  }
  auto fp = std::make_shared<FramePlan>();
  {
    std::lock_guard<std::mutex> gl(g.mutex());  // frames and nodes may be growing on another thread
    PlanSpec s;
    spec(s);
    const size_t nfeeds = s.feeds.size();
    for (Node* n : needed_members(g, {frame})) {
      if (is_plain_const(n)) s.feed(n->out(0), 0);
      for (const Output& in : n->inputs)
        if (in.node->frame != frame && is_plain_const(in.node)) s.feed(in, 0);
    }
    fp->plan = build_plan(g, s.feeds, s.fetches, {}, frame);
    fp->fixed.resize(s.feeds.size());
    for (size_t i = nfeeds; i < s.feeds.size(); ++i) fp->fixed[i] = s.feeds[i].node->attrs.get<Tensor>("value");
    fp->src = std::move(s.src);
    fp->dst = std::move(s.dst);
    fp->dtypes = std::move(s.dtypes);
    fp->shapes = std::move(s.shapes);
  }
  for (int slot : fp->plan.feed_slots) fp->used.push_back(fp->plan.slot_reads[slot] > 0);
  std::lock_guard<std::mutex> l(cache->mu);
  if (cache->version == version) cache->plans.emplace_back(std::move(key), fp);
  return fp;
}

// Fills a frame run's feeds: `value(src)` gives the tensor for a source (Note [frame plan cache]).
template <class Value>
void fill_feeds(const FramePlan& fp, std::vector<Tensor>& feeds, Value&& value) {
  feeds.resize(fp.src.size());
  for (size_t i = 0; i < feeds.size(); ++i)
    if (fp.used[i]) feeds[i] = fp.fixed[i].valid() ? fp.fixed[i] : value(fp.src[i]);
}

// A placeholder value for an output the run does not produce (an untaken branch's saved values).
Tensor dummy(DType dt);

// Row `r` of `x` (a sliced input's element at one iteration) as a tensor of its own.
Tensor row_of(const Tensor& x, int64_t r);

void set_row(Tensor& dst, int64_t r, const Tensor& row);

Tensor zeros(DType dt, const Dims& d);

// Everything a gradient frame reads from outside itself, classified (the same for loops):
struct GradReads {
  std::vector<Output> fwd;                       // values of the forward frame
  std::vector<std::pair<Output, Output>> alias;  // values the forward frame is fed under another name: the source
  std::vector<Output> outer;                     // values of enclosing frames: the gradient owner's captures
};

GradReads gradient_reads(Graph& g, int nf, const Frame& fwd, const Node& fwd_owner);

// The driver pads outputs that got no gradient with ZerosLike(output): such a gradient adds nothing.
bool is_zero_grad(const Output& g, const Output& y);

std::string grad_scope(Builder& b);
std::string grad_location(Builder& b);

}  // namespace tideflow::cf
