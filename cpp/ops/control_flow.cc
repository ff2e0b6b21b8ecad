// Control flow: If (tf.cond, tf.case, tf.switch_case) and While (tf.while_loop, map_fn, scan, foldl,
// foldr), their kernels and gradient rules, and WhileGrad, the loop that runs a while loop's gradient.
#include "ops/control_flow.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "executor.h"
#include "gradients.h"
#include "op_registry.h"
#include "plan.h"
#include "resources.h"

namespace tideflow {

// Note [control flow]
// A branch or a loop is one node of the enclosing frame holding a frame (Note [frames] in graph.h) that it
// runs as a cached sub-plan (Note [frame plan cache]); nothing is unrolled, and only the branch taken runs.
//   If(pred, captures...) -> results..., saved...
//     then_frame/else_frame: Frame::outputs are the branch's results; the captures are fed as themselves,
//     Frame::aliases name other frames' values fed from an input (a gradient branch reading the forward
//     branch's saved values). Outputs after the results carry saved values (Note [cond gradients]).
//   While(vars..., sliced..., captures...) -> vars..., stacked..., trace
//     frame: cond_args (the condition's view of the variables, TF1's while/Merge), args (the body's,
//     while/Identity), slice_args (row i of each sliced input at iteration i), pred, outputs (the next
//     variables), stacked (values stacked over iterations into an output: map_fn, scan), saved (what the
//     gradient reads, recorded per iteration into the trace when it is read: Note [loop gradients]).
// Captures are what the frame's nodes read from enclosing frames. Variables count as captures (a loop
// that reads a variable is its consumer, so gradients reach it) but are never fed: frame nodes read them
// when they run (Note [variable reads] in plan.h), so reads see assignments ordered before them. Control
// inputs from frame nodes to outer nodes move to the owner (the Python front end does this).

namespace {

bool is_var(const Output& o) { return o.node->type() == "VariableV2"; }

// TF1's Merge: the dims both branches agree on.
PartialShape common_shape(const PartialShape& a, const PartialShape& b) {
  if (!a.known_rank || !b.known_rank || a.rank() != b.rank()) return PartialShape::unknown();
  Dims d(a.dims.size());
  for (size_t i = 0; i < d.size(); ++i) d[i] = a.dims[i] == b.dims[i] ? a.dims[i] : -1;
  return PartialShape(d);
}

Frame& frame_of(const Node& n, const char* attr) {
  int64_t id = n.attrs.get<int64_t>(attr);
  if (!n.graph)  // an eager node: frames are subgraphs of a graph, eager mode has none
    throw value_error("op " + n.describe() + " runs a control-flow frame of a graph; eagerly, tf.cond and "
                      "tf.while_loop run Python instead");
  if (id < 0 || id >= n.graph->num_frames())
    throw value_error("op " + n.describe() + " names control-flow frame " + std::to_string(id) +
                      ", which this graph does not have (graphs with control flow cannot be re-imported yet)");
  return n.graph->frame((int)id);
}

// The members of `frames` that what they return needs, over data and control edges inside them: what
// runs when the frames run. Members nothing returned depends on never run (TF1: an op in a branch runs only
// if the branch's result depends on it), so what they read is no capture.
std::vector<Node*> needed_members(Graph& g, const std::vector<int>& frames) {
  std::set<int> mine(frames.begin(), frames.end());
  std::vector<Node*> stack, out;
  std::set<int> seen;
  auto want = [&](const Output& o) {
    if (o.valid() && mine.count(o.node->frame) && seen.insert(o.node->id).second) stack.push_back(o.node);
  };
  for (int f : frames) {
    const Frame& fr = g.frame(f);
    for (const Output& o : fr.outputs) want(o);
    for (const Output& o : fr.stacked) want(o);
    want(fr.pred);
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    out.push_back(n);
    for (size_t i = 0; i < n->inputs.size(); ++i)
      if (!n->op->is_ref_input((int)i)) want(n->inputs[i]);
    for (Node* c : n->control_inputs) want(c->out(0));
  }
  std::sort(out.begin(), out.end(), [](Node* a, Node* b) { return a->id < b->id; });
  return out;
}

bool is_plain_const(const Node* n) { return n->type() == "Const" && n->control_inputs.empty(); }

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

// ---------------------------------------------------------------------------------------------------
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
Tensor dummy(DType dt) { return dt == DType::Variant ? Tensor::variant(nullptr) : Tensor(dt, {0}); }

// Row `r` of `x` (a sliced input's element at one iteration) as a tensor of its own.
Tensor row_of(const Tensor& x, int64_t r) {
  Dims d(x.dims().begin() + 1, x.dims().end());
  Tensor t(x.dtype(), d);
  if (x.dtype() == DType::String) {
    const int64_t n = t.size();
    for (int64_t i = 0; i < n; ++i) t.string_values()[i] = x.string_values()[r * n + i];
  } else if (t.nbytes()) {
    std::memcpy(t.raw(), static_cast<const char*>(x.raw()) + r * t.nbytes(), t.nbytes());
  }
  return t;
}

void set_row(Tensor& dst, int64_t r, const Tensor& row) {
  if (dst.dtype() == DType::String) {
    const int64_t n = row.size();
    for (int64_t i = 0; i < n; ++i) dst.string_values()[r * n + i] = row.string_values()[i];
  } else if (row.nbytes()) {
    std::memcpy(static_cast<char*>(dst.raw()) + r * row.nbytes(), row.raw(), row.nbytes());
  }
}

Tensor zeros(DType dt, const Dims& d) {
  Tensor t(dt, d);
  if (t.nbytes()) std::memset(t.raw(), 0, t.nbytes());
  return t;
}

// ---------------------------------------------------------------------------------------------------
// If

void if_shape(InferCtx& c) {
  Frame& t = frame_of(c.node, "then_frame");
  Frame& e = frame_of(c.node, "else_frame");
  if (c.dtype(0) != DType::Bool) c.type_fail(std::string("The predicate must be bool, got ") + dtype_name(c.dtype(0)));
  if (c.shape(0).known_rank && c.shape(0).rank() != 0)
    c.fail("Shape must be rank 0 but is rank " + std::to_string(c.shape(0).rank()));
  if (t.outputs.size() != e.outputs.size())
    c.fail("The branches return " + std::to_string(t.outputs.size()) + " and " + std::to_string(e.outputs.size()) +
           " values");
  for (size_t i = 0; i < t.outputs.size(); ++i) {
    const Output &a = t.outputs[i], &b = e.outputs[i];
    if (a.dtype() != b.dtype())
      c.type_fail("Outputs of 'true_fn' and 'false_fn' must have the same type(s). Received " +
                  std::string(dtype_name(a.dtype())) + " from 'true_fn' and " + dtype_name(b.dtype()) +
                  " from 'false_fn'.");
    c.set_output((int)i, a.dtype(), common_shape(a.shape(), b.shape()));
  }
}

void if_kernel(KernelCtx& c) {
  const Tensor& p = c.in(0);
  if (p.dtype() != DType::Bool || p.rank() != 0) c.fail("The predicate of a cond must be a bool scalar, got " + p.summary());
  const bool taken = *p.data<bool>();
  const int nout = (int)c.outputs.size();
  // The key: the branch, and which of the outputs after the results the running plan reads.
  std::vector<int64_t> key{taken};
  for (int i = 0; i < nout; ++i) key.push_back(c.output_used(i));
  const char* which = taken ? "then_frame" : "else_frame";
  const int fid = (int)c.attr<int64_t>(which);
  auto fp = frame_plan(c, key, fid, [&](PlanSpec& s) {
    Frame& f = frame_of(c.node, which);
    for (size_t j = 1; j < c.node.inputs.size(); ++j)
      if (!is_var(c.node.inputs[j])) s.feed(c.node.inputs[j], (int)j);
    for (auto& [o, j] : f.aliases) s.feed(o, j);
    for (size_t i = 0; i < f.outputs.size(); ++i) {
      s.fetches.push_back(f.outputs[i]);
      s.dst.push_back((int)i);
    }
    for (size_t k = 0; k < f.saved.size(); ++k) {
      int o = f.saved_outputs[k];
      if (o < nout && c.output_used(o)) {
        s.fetches.push_back(f.saved[k]);
        s.dst.push_back(o);
      }
    }
    for (int i = 0; i < nout; ++i) s.dtypes.push_back(c.node.out_dtypes[i]);
  });
  for (size_t j = 1; j < c.inputs.size(); ++j)  // the branch reads variables itself (Note [control flow])
    if (is_var(c.node.inputs[j])) c.inputs[j] = Tensor();
  std::vector<Tensor> feeds, out;
  fill_feeds(*fp, feeds, [&](int src) { return c.in(src); });
  Runner(*fp, c).run(feeds, out);
  for (size_t i = 0; i < out.size(); ++i) c.outputs[fp->dst[i]] = std::move(out[i]);
  for (int i = 0; i < nout; ++i)
    if (!c.outputs[i].valid()) c.outputs[i] = dummy(fp->dtypes[i]);
}

// Note [cond gradients]
// The gradient of If is an If on the same predicate whose branches are the gradients of the forward
// branches (gradients() inside each forward frame: Note [frame gradients]), built in new frames. What a
// gradient branch reads from the forward branch (an input or output of a forward node that its rule needs)
// must be kept from the forward run: such a value becomes a saved value of the forward If, carried by a
// new output of it (Graph::append_output; the other branch's run leaves a placeholder there), and the
// gradient branch is fed it under its own name (Frame::aliases). Keeping saved values as ordinary outputs
// makes second order work through the same driver: the gradient of a gradient If reaches the forward If
// through those outputs, and its rule then differentiates the forward branch for them too. (TF2 also
// turns intermediates into outputs; here they are appended only when a gradient needs them.)
//
// Everything a gradient frame reads from outside itself, classified (the same for loops):
struct GradReads {
  std::vector<Output> fwd;                       // values of the forward frame
  std::vector<std::pair<Output, Output>> alias;  // values the forward frame is fed under another name: the source
  std::vector<Output> outer;                     // values of enclosing frames: the gradient owner's captures
};

GradReads gradient_reads(Graph& g, int nf, const Frame& fwd, const Node& fwd_owner) {
  GradReads r;
  std::set<std::pair<int, int>> seen;
  for (Node* n : needed_members(g, {nf}))
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      const Output& o = n->inputs[i];
      if (n->op->is_ref_input((int)i) || o.node->frame == nf || is_plain_const(o.node) ||
          !seen.insert({o.node->id, o.index}).second)
        continue;
      if (o.node->frame == fwd.id) {
        r.fwd.push_back(o);
        continue;
      }
      bool aliased = false;
      for (auto& [a, j] : fwd.aliases)
        if (a == o) {
          r.alias.emplace_back(o, fwd_owner.inputs[j]);
          aliased = true;
        }
      if (!aliased) r.outer.push_back(o);
    }
  return r;
}

// The driver pads outputs that got no gradient with ZerosLike(output): such a gradient adds nothing.
bool is_zero_grad(const Output& g, const Output& y) {
  return !g.valid() || (g.node->type() == "ZerosLike" && g.node->inputs[0] == y);
}

std::string grad_scope(Builder& b) {
  auto* gb = dynamic_cast<GraphBuilder*>(&b);
  return gb ? gb->scope() : std::string();
}
std::string grad_location(Builder& b) {
  auto* gb = dynamic_cast<GraphBuilder*>(&b);
  return gb ? gb->location() : std::string();
}

std::vector<Output> if_grad(GradCtx& gc) {
  Node& F = gc.node;
  Graph& g = *F.graph;
  const int nin = (int)F.inputs.size();
  Frame* branch[2] = {&frame_of(F, "then_frame"), &frame_of(F, "else_frame")};
  const std::string scope = grad_scope(gc.b), loc = grad_location(gc.b);
  int nf[2];
  std::vector<std::vector<Output>> xs(2), dx(2);
  bool any = false;
  for (int b = 0; b < 2; ++b) {
    Frame& f = *branch[b];
    // What the branch's nodes see for each input: the input itself, or the value it is aliased to.
    xs[b].assign(F.inputs.begin(), F.inputs.end());
    for (auto& [o, j] : f.aliases) xs[b][j] = o;
    std::vector<Output> ys, gys;
    for (size_t i = 0; i < f.outputs.size(); ++i)
      if (is_any_float(F.out_dtypes[i]) && !is_zero_grad(gc.grads[i], F.out((int)i))) {
        ys.push_back(f.outputs[i]);
        gys.push_back(gc.grads[i]);
      }
    for (size_t k = 0; k < f.saved.size(); ++k) {
      int o = f.saved_outputs[k];
      if (o < (int)gc.grads.size() && is_any_float(F.out_dtypes[o]) && !is_zero_grad(gc.grads[o], F.out(o))) {
        ys.push_back(f.saved[k]);
        gys.push_back(gc.grads[o]);
      }
    }
    nf[b] = g.new_frame("cond_grad");
    std::vector<Output> wrt(xs[b].begin() + 1, xs[b].end());
    dx[b] = in_frame(g, nf[b], [&] {
      return ys.empty() ? std::vector<Output>(wrt.size())
                        : gradients(g, ys, wrt, gys, {}, scope, loc, gc.overrides, f.id);
    });
    dx[b].insert(dx[b].begin(), Output{});  // the predicate
    for (auto& d : dx[b]) any |= d.valid();
  }
  std::vector<Output> result(nin);
  if (!any) return result;
  // Each differentiable input gets one output of the gradient If; a branch without a gradient for it
  // returns zeros.
  std::vector<int> out_of(nin, -1);
  int nout = 0;
  for (int j = 1; j < nin; ++j) {
    if (!is_any_float(F.inputs[j].dtype()) || (!dx[0][j].valid() && !dx[1][j].valid())) continue;
    out_of[j] = nout++;
    for (int b = 0; b < 2; ++b) {
      Output d = dx[b][j];
      if (!d.valid()) d = in_frame(g, nf[b], [&] { return gc.b.op1("ZerosLike", {xs[b][j]}); });
      g.frame(nf[b]).outputs.push_back(d);
    }
  }
  // The gradient If's inputs: the predicate, then what its branches read from outside.
  std::vector<Output> ins{F.inputs[0]};
  auto input_index = [&](const Output& o) {
    for (size_t i = 1; i < ins.size(); ++i)
      if (ins[i] == o) return (int)i;
    ins.push_back(o);
    return (int)ins.size() - 1;
  };
  for (int b = 0; b < 2; ++b) {
    Frame& f = *branch[b];
    GradReads r = gradient_reads(g, nf[b], f, F);
    std::vector<std::pair<Output, int>> aliases;
    for (const Output& o : r.fwd) {
      int k = -1;
      {
        std::lock_guard<std::mutex> l(g.mutex());
        for (size_t s = 0; s < f.saved.size(); ++s)
          if (f.saved[s] == o) k = (int)s;
      }
      int out;
      if (k >= 0) {
        out = f.saved_outputs[k];
      } else {
        out = g.append_output(&F, o.dtype(), PartialShape::unknown());
        std::lock_guard<std::mutex> l(g.mutex());
        f.saved.push_back(o);
        f.saved_outputs.push_back(out);
      }
      aliases.emplace_back(o, input_index(F.out(out)));
    }
    for (auto& [o, src] : r.alias) aliases.emplace_back(o, input_index(src));
    for (const Output& o : r.outer) input_index(o);
    g.frame(nf[b]).aliases = std::move(aliases);
  }
  AttrMap attrs;
  attrs["then_frame"] = (int64_t)nf[0];
  attrs["else_frame"] = (int64_t)nf[1];
  std::vector<Output> outs = gc.b.op("If", ins, attrs);
  for (int j = 1; j < nin; ++j)
    if (out_of[j] >= 0) result[j] = outs[out_of[j]];
  return result;
}

REGISTER_OP("If").inputs(-1).stateful().shape(if_shape).cpu(if_kernel).grad(if_grad);

// A value a frame's owner feeds on each run (a loop variable, an incoming gradient); never run itself.
REGISTER_OP("_Arg").inputs(0).not_differentiable()
    .shape([](InferCtx& c) { c.set_output(0, c.attr<DType>("dtype"), c.attr<PartialShape>("shape")); })
    .cpu([](KernelCtx& c) {
      c.fail("'" + c.node.name + "' is a control-flow frame's argument; only its loop or branch can run it");
    });

// ---------------------------------------------------------------------------------------------------
// While

// Note [traces]
// What a while loop records for its gradient when its trace output is read: per iteration, the values of
// Frame::saved, and the dims of its inputs (for the zeros of gradients when no iteration ran). Held by a
// Variant tensor, so it lives in the running plan like any value and is freed after its last reader.
struct Trace {
  std::vector<std::vector<Tensor>> steps;
  std::vector<Dims> input_dims;
};

struct WhileCounts {
  int vars, sliced, stacked;
  explicit WhileCounts(const Node& n)
      : vars((int)n.attrs.get<int64_t>("num_vars")), sliced((int)n.attrs.get<int64_t>("num_sliced")),
        stacked((int)n.attrs.get<int64_t>("num_stacked")) {}
};

void while_shape(InferCtx& c) {
  Frame& f = frame_of(c.node, "frame");
  WhileCounts k(c.node);
  if ((int)f.args.size() != k.vars || (int)f.cond_args.size() != k.vars || (int)f.outputs.size() != k.vars ||
      (int)f.slice_args.size() != k.sliced || (int)f.stacked.size() != k.stacked || !f.pred.valid())
    c.fail("the loop's frame does not match its counts");
  if (c.num_inputs() < k.vars + k.sliced) c.fail("too few inputs");
  for (int j = 0; j < k.vars; ++j) {
    const Node* a = f.args[j];
    if (c.dtype(j) != a->out_dtypes[0] || f.outputs[j].dtype() != a->out_dtypes[0])
      c.type_fail("Loop variable " + std::to_string(j) + " enters the loop as " + dtype_name(c.dtype(j)) +
                  " and the body returns " + dtype_name(f.outputs[j].dtype()));
    c.set_output(j, a->out_dtypes[0], a->out_shapes[0]);
  }
  for (int r = 0; r < k.sliced; ++r)
    if (c.shape(k.vars + r).known_rank && c.shape(k.vars + r).rank() < 1)
      c.fail("A sliced input must have rank at least 1, got " + c.shape(k.vars + r).str());
  for (int q = 0; q < k.stacked; ++q) {
    const PartialShape& s = f.stacked[q].shape();
    PartialShape out = PartialShape::unknown();
    if (s.known_rank) {
      Dims d{-1};
      d.insert(d.end(), s.dims.begin(), s.dims.end());
      out = PartialShape(d);
    }
    c.set_output(k.vars + q, f.stacked[q].dtype(), out);
  }
  c.set_output(k.vars + k.stacked, DType::Variant, PartialShape(Dims{}));
}

// Stacks one value per iteration into [N, ...] (in reverse order for foldr/scan(reverse=True)).
Tensor stack_rows(KernelCtx& c, const std::vector<Tensor>& rows, DType dt, const PartialShape& row_shape,
                  bool reverse) {
  Dims row;
  if (rows.empty()) {  // no iteration ran: [0, ...], unknown dims taken as 0
    if (row_shape.known_rank)
      for (int64_t d : row_shape.dims) row.push_back(d < 0 ? 0 : d);
  } else {
    row = rows[0].dims();
  }
  Dims d{(int64_t)rows.size()};
  d.insert(d.end(), row.begin(), row.end());
  Tensor out(dt, d);
  const int64_t n = (int64_t)rows.size();
  for (int64_t i = 0; i < n; ++i) {
    if (rows[i].dims() != row)
      c.fail("A value stacked over the loop's iterations has shape " + dims_str(rows[i].dims()) + " at iteration " +
             std::to_string(i) + " but " + dims_str(row) + " at iteration 0");
    set_row(out, reverse ? n - 1 - i : i, rows[i]);
  }
  return out;
}

void while_kernel(KernelCtx& c) {
  const WhileCounts k(c.node);
  const int nin = (int)c.inputs.size();
  const bool reverse = c.node.attrs.get_or<bool>("reverse", false);
  const int trace_out = k.vars + k.stacked;
  const bool record = c.output_used(trace_out);
  const int fid = (int)c.attr<int64_t>("frame");
  std::shared_ptr<Trace> trace;
  if (record) {
    trace = std::make_shared<Trace>();
    for (int i = 0; i < nin; ++i) trace->input_dims.push_back(c.in(i).dims());
  }
  // Variables are read by the frame's own nodes (Note [control flow]): drop the values read for this node.
  for (int i = k.vars + k.sliced; i < nin; ++i)
    if (is_var(c.node.inputs[i])) c.inputs[i] = Tensor();
  auto captures = [&](PlanSpec& s) {
    for (int i = k.vars + k.sliced; i < nin; ++i)
      if (!is_var(c.node.inputs[i])) s.feed(c.node.inputs[i], i);
  };
  auto cond = frame_plan(c, {0}, fid, [&](PlanSpec& s) {
    Frame& f = frame_of(c.node, "frame");
    for (int j = 0; j < k.vars; ++j) s.feed(f.cond_args[j]->out(0), -1 - j);
    for (int j = 0; j < k.vars; ++j) s.feed(f.args[j]->out(0), -1 - j);
    captures(s);
    s.fetches.push_back(f.pred);
  });
  auto body = frame_plan(c, {1, record}, fid, [&](PlanSpec& s) {
    Frame& f = frame_of(c.node, "frame");
    for (int j = 0; j < k.vars; ++j) s.feed(f.cond_args[j]->out(0), -1 - j);
    for (int j = 0; j < k.vars; ++j) s.feed(f.args[j]->out(0), -1 - j);
    for (int r = 0; r < k.sliced; ++r) s.feed(f.slice_args[r]->out(0), -1 - (k.vars + r));
    captures(s);
    s.fetches = f.outputs;
    s.fetches.insert(s.fetches.end(), f.stacked.begin(), f.stacked.end());
    if (record) s.fetches.insert(s.fetches.end(), f.saved.begin(), f.saved.end());
    for (Node* a : f.args) s.shapes.push_back(a->out_shapes[0]);
    for (const Output& o : f.stacked) {
      s.shapes.push_back(o.shape());
      s.dtypes.push_back(o.dtype());
    }
  });
  std::vector<Tensor> vars(c.inputs.begin(), c.inputs.begin() + k.vars);
  for (int j = 0; j < k.vars; ++j) c.inputs[j] = Tensor();  // the loop holds the only reference
  std::vector<int64_t> rows(k.sliced);
  for (int r = 0; r < k.sliced; ++r) {
    const Tensor& x = c.in(k.vars + r);
    if (x.rank() < 1) c.fail("A sliced input must have rank at least 1, got " + x.summary());
    rows[r] = x.dim(0);
  }
  std::vector<std::vector<Tensor>> stacked(k.stacked);
  Runner cond_run(*cond, c), body_run(*body, c);
  std::vector<Tensor> feeds, out;
  for (int64_t it = 0;; ++it) {
    fill_feeds(*cond, feeds, [&](int src) { return src < 0 ? vars[-1 - src] : c.in(src); });
    cond_run.run(feeds, out);
    const Tensor& p = out[0];
    if (p.dtype() != DType::Bool || p.rank() != 0)
      c.fail("The loop condition must be a bool scalar, got " + p.summary());
    if (!*p.data<bool>()) break;
    for (int r = 0; r < k.sliced; ++r)
      if (it >= rows[r])
        c.fail("Iteration " + std::to_string(it) + " reads element " + std::to_string(it) + " of an input with " +
               std::to_string(rows[r]) + " elements");
    fill_feeds(*body, feeds, [&](int src) {
      if (src >= 0) return c.in(src);
      const int v = -1 - src;
      if (v < k.vars) return vars[v];
      const int r = v - k.vars;
      return row_of(c.in(k.vars + r), reverse ? rows[r] - 1 - it : it);
    });
    for (Tensor& v : vars) v = Tensor();
    body_run.run(feeds, out);
    for (int j = 0; j < k.vars; ++j) {
      if (!body->shapes[j].compatible_with(out[j].dims()))
        c.fail("Loop variable " + std::to_string(j) + " has shape " + dims_str(out[j].dims()) + " after iteration " +
               std::to_string(it) + ", which does not match its shape invariant " + body->shapes[j].str() +
               ". To allow the shape to vary across iterations, use the `shape_invariants` argument of "
               "tf.while_loop to specify a less-specific shape.");
      vars[j] = std::move(out[j]);
    }
    for (int q = 0; q < k.stacked; ++q) stacked[q].push_back(std::move(out[k.vars + q]));
    if (record) trace->steps.emplace_back(std::make_move_iterator(out.begin() + k.vars + k.stacked),
                                          std::make_move_iterator(out.end()));
  }
  for (int j = 0; j < k.vars; ++j) c.set(j, std::move(vars[j]));
  for (int q = 0; q < k.stacked; ++q)
    c.set(k.vars + q, stack_rows(c, stacked[q], body->dtypes[q], body->shapes[k.vars + q], reverse));
  c.set(trace_out, Tensor::variant(trace));
}

// Note [loop gradients]
// The gradient of a while loop is a WhileGrad node running a backward frame N times, for the forward
// iterations N-1 down to 0; N is however many the forward run made, so trip counts may depend on data.
// The backward frame is gradients() of one body run (Note [frame gradients]): from the body's next
// variables and stacked values back to its variables, sliced elements and captures, seeded by its args
// (the gradients w.r.t. the next variables, carried from one backward iteration to the next) and by rows
// of the stacked outputs' gradients. Every forward value the backward frame reads becomes a saved value of
// the loop (Frame::saved, appended here), which the forward kernel records per iteration into its trace
// output (Note [traces]) whenever that output is read; WhileGrad feeds iteration i's record under the
// forward names (Frame::aliases). Nothing is recomputed and nothing unrolled. Captures' gradients are
// summed over iterations; sliced inputs' gradients are assembled row by row. Nested loops compose: an inner
// loop's trace is one more forward value of the outer body, saved per outer iteration.
std::vector<Output> while_grad(GradCtx& gc) {
  Node& W = gc.node;
  Graph& g = *W.graph;
  const WhileCounts k(W);
  const int nin = (int)W.inputs.size();
  std::vector<Output> result(nin);
  if (!W.attrs.get_or<bool>("back_prop", true)) return result;
  Frame& fw = frame_of(W, "frame");
  const std::string scope = grad_scope(gc.b), loc = grad_location(gc.b);
  std::vector<int> vars, stacked;  // float loop variables; stacked outputs that received a gradient
  for (int j = 0; j < k.vars; ++j)
    if (is_any_float(W.inputs[j].dtype())) vars.push_back(j);
  for (int q = 0; q < k.stacked; ++q)
    if (is_any_float(fw.stacked[q].dtype()) && !is_zero_grad(gc.grads[k.vars + q], W.out(k.vars + q)))
      stacked.push_back(q);
  if (vars.empty() && stacked.empty()) return result;
  const int nf = g.new_frame("while_grad");
  Frame& bg = g.frame(nf);
  std::vector<int64_t> sliced_inputs, cap_inputs, stacked_idx(stacked.begin(), stacked.end());
  in_frame(g, nf, [&] {
    auto arg = [&](DType dt, const PartialShape& s) {
      AttrMap a;
      a["dtype"] = dt;
      a["shape"] = s;
      return gc.b.op1("_Arg", {}, a).node;
    };
    std::vector<Output> ys, gys, xs;
    for (int j : vars) {
      bg.args.push_back(arg(fw.args[j]->out_dtypes[0], fw.args[j]->out_shapes[0]));
      ys.push_back(fw.outputs[j]);
      gys.push_back(bg.args.back()->out(0));
    }
    for (int q : stacked) {
      bg.slice_args.push_back(arg(fw.stacked[q].dtype(), fw.stacked[q].shape()));
      ys.push_back(fw.stacked[q]);
      gys.push_back(bg.slice_args.back()->out(0));
    }
    for (int j : vars) xs.push_back(fw.args[j]->out(0));
    std::vector<int> wrt;  // the loop inputs behind xs beyond the variables, those whose gradients are used
    for (int r = 0; r < k.sliced; ++r)
      if (is_any_float(W.inputs[k.vars + r].dtype()) && gc.wants(k.vars + r)) {
        xs.push_back(fw.slice_args[r]->out(0));
        wrt.push_back(k.vars + r);
      }
    for (int i = k.vars + k.sliced; i < nin; ++i)
      if (is_any_float(W.inputs[i].dtype()) && gc.wants(i)) {
        xs.push_back(W.inputs[i]);
        wrt.push_back(i);
      }
    std::vector<Output> dx = gradients(g, ys, xs, gys, {}, scope, loc, gc.overrides, fw.id);
    for (size_t a = 0; a < vars.size(); ++a) {
      Output d = dx[a];
      if (!d.valid()) {  // the next variables do not depend on this one
        Node* x = fw.args[vars[a]];
        d = x->out_shapes[0].fully_defined()
                ? gc.b.op1("Fill", {gc.b.ints(x->out_shapes[0].dims), gc.b.scalar(0, x->out_dtypes[0])})
                : gc.b.op1("ZerosLike", {x->out(0)});
      }
      bg.outputs.push_back(d);
    }
    for (size_t a = 0; a < wrt.size(); ++a) {
      const Output& d = dx[vars.size() + a];
      if (!d.valid()) continue;
      (wrt[a] < k.vars + k.sliced ? sliced_inputs : cap_inputs).push_back(wrt[a]);
    }
    // Outputs: the variables' gradients, then the sliced elements', then the captures'.
    for (int pass = 0; pass < 2; ++pass)
      for (size_t a = 0; a < wrt.size(); ++a) {
        const Output& d = dx[vars.size() + a];
        if (d.valid() && (wrt[a] < k.vars + k.sliced) == (pass == 0)) bg.outputs.push_back(d);
      }
    return 0;
  });
  // What the backward frame reads: forward values (saved and fed from the trace), or outer captures.
  GradReads r = gradient_reads(g, nf, fw, W);
  if (!r.alias.empty())
    throw Error(ErrorCode::Unimplemented, "Second-order gradients of tf.while_loop are not supported (op " +
                                              W.describe() + ")");
  std::vector<Output> ins;
  for (int j : vars) ins.push_back(gc.grads[j]);
  for (int q : stacked) ins.push_back(gc.grads[k.vars + q]);
  for (const Output& o : r.outer) ins.push_back(o);
  ins.push_back(W.out(k.vars + k.stacked));
  {
    std::lock_guard<std::mutex> l(g.mutex());
    for (const Output& o : r.fwd) {
      int idx = -1;
      for (size_t s = 0; s < fw.saved.size(); ++s)
        if (fw.saved[s] == o) idx = (int)s;
      if (idx < 0) {
        idx = (int)fw.saved.size();
        fw.saved.push_back(o);
      }
      bg.aliases.emplace_back(o, idx);
    }
  }
  g.bump_edge_version();  // the forward loop's body plan now fetches more values
  AttrMap attrs;
  attrs["frame"] = (int64_t)nf;
  attrs["num_state"] = (int64_t)vars.size();
  attrs["stacked"] = stacked_idx;
  attrs["sliced_inputs"] = sliced_inputs;
  attrs["cap_inputs"] = cap_inputs;
  attrs["reverse"] = W.attrs.get_or<bool>("reverse", false);
  std::vector<Output> outs = gc.b.op("WhileGrad", ins, attrs);
  size_t o = 0;
  for (int j : vars) result[j] = outs[o++];
  for (int64_t i : sliced_inputs) result[i] = outs[o++];
  for (int64_t i : cap_inputs) result[i] = outs[o++];
  return result;
}

REGISTER_OP("While").inputs(-1).stateful().shape(while_shape).cpu(while_kernel).grad(while_grad);

// WhileGrad(grads of the variables..., grads of stacked outputs..., captures..., trace)
//   -> grads of the initial variables..., of the sliced inputs..., of the captures...
void while_grad_shape(InferCtx& c) {
  Frame& f = frame_of(c.node, "frame");
  const int ns = (int)c.attr<int64_t>("num_state");
  const int nsl = (int)c.attr<std::vector<int64_t>>("sliced_inputs").size();
  if ((int)f.outputs.size() != ns + nsl + (int)c.attr<std::vector<int64_t>>("cap_inputs").size())
    c.fail("the gradient frame does not match its counts");
  for (size_t i = 0; i < f.outputs.size(); ++i) {
    PartialShape s = f.outputs[i].shape();
    if ((int)i >= ns && (int)i < ns + nsl) {  // rows -> the sliced input
      if (s.known_rank) {
        Dims d{-1};
        d.insert(d.end(), s.dims.begin(), s.dims.end());
        s = PartialShape(d);
      }
    }
    c.set_output((int)i, f.outputs[i].dtype(), s);
  }
}

template <class T>
void add_into(Tensor& acc, const Tensor& d) {
  T* a = acc.data<T>();
  const T* b = d.data<T>();
  for (int64_t i = 0, n = acc.size(); i < n; ++i) a[i] += b[i];
}

void while_grad_kernel(KernelCtx& c) {
  const int nin = (int)c.inputs.size();
  const int ns = (int)c.attr<int64_t>("num_state");
  const auto& stacked = c.attr<std::vector<int64_t>>("stacked");
  const auto& sliced = c.attr<std::vector<int64_t>>("sliced_inputs");
  const auto& caps = c.attr<std::vector<int64_t>>("cap_inputs");
  const bool reverse = c.attr<bool>("reverse");
  const int nst = (int)stacked.size();
  const Trace* trace = c.in(nin - 1).variant_as<Trace>();
  if (!trace) c.fail("The forward while loop did not record the values its gradient needs");
  const int64_t n = (int64_t)trace->steps.size();
  const int fid = (int)c.attr<int64_t>("frame");
  const int base = ns + nst;  // per-run values: the state, the rows of stacked gradients, then saved values
  auto fp = frame_plan(c, {0}, fid, [&](PlanSpec& s) {
    Frame& f = frame_of(c.node, "frame");
    for (int j = 0; j < ns; ++j) s.feed(f.args[j]->out(0), -1 - j);
    for (int q = 0; q < nst; ++q) s.feed(f.slice_args[q]->out(0), -1 - (ns + q));
    for (int i = ns + nst; i < nin - 1; ++i)
      if (!is_var(c.node.inputs[i])) s.feed(c.node.inputs[i], i);
    for (auto& [o, idx] : f.aliases) s.feed(o, -1 - (base + idx));
    s.fetches = f.outputs;
    for (const Output& o : f.outputs) s.dtypes.push_back(o.dtype());
  });
  std::vector<Tensor> state(c.inputs.begin(), c.inputs.begin() + ns);
  for (int q = 0; q < nst; ++q)
    if (c.in(ns + q).rank() < 1 || c.in(ns + q).dim(0) != n)
      c.fail("The gradient of a stacked loop output has shape " + c.in(ns + q).summary() + " but the loop ran " +
             std::to_string(n) + " iterations");
  std::vector<Tensor> dsliced(sliced.size()), dcaps(caps.size());
  for (size_t r = 0; r < sliced.size(); ++r) dsliced[r] = zeros(fp->dtypes[ns + r], trace->input_dims[sliced[r]]);
  Runner run(*fp, c);
  std::vector<Tensor> feeds, out;
  for (int64_t it = n - 1; it >= 0; --it) {
    const std::vector<Tensor>& saved = trace->steps[it];
    fill_feeds(*fp, feeds, [&](int src) {
      if (src >= 0) return c.in(src);
      const int v = -1 - src;
      if (v < ns) return state[v];
      if (v < base) return row_of(c.in(v), reverse ? n - 1 - it : it);
      if (v - base >= (int)saved.size()) c.fail("The forward while loop recorded fewer values than its gradient reads");
      return saved[v - base];
    });
    for (Tensor& t : state) t = Tensor();
    run.run(feeds, out);
    for (int j = 0; j < ns; ++j) state[j] = std::move(out[j]);
    for (size_t r = 0; r < sliced.size(); ++r) {
      Tensor& d = dsliced[r];
      const Tensor& row = out[ns + r];
      const int64_t rows = d.dim(0);
      if (it >= rows || Dims(d.dims().begin() + 1, d.dims().end()) != row.dims())
        c.fail("The gradient of a sliced element has shape " + row.summary() + ", which does not fit " + d.summary());
      set_row(d, reverse ? rows - 1 - it : it, row);
    }
    for (size_t i = 0; i < caps.size(); ++i) {
      Tensor& acc = dcaps[i];
      Tensor& d = out[ns + sliced.size() + i];
      if (!acc.valid()) {
        acc = std::move(d);
        continue;
      }
      if (acc.dims() != d.dims() || acc.dtype() != d.dtype())
        c.fail("The gradient of a loop capture has shape " + d.summary() + " in one iteration and " + acc.summary() +
               " in another");
      if (!acc.unique()) acc = acc.deep_copy();
      dispatch<kFloat>(acc.dtype(), "WhileGrad", [&](auto z) { add_into<decltype(z)>(acc, d); });
    }
  }
  int o = 0;
  for (int j = 0; j < ns; ++j) c.set(o++, std::move(state[j]));
  for (auto& d : dsliced) c.set(o++, std::move(d));
  for (size_t i = 0; i < caps.size(); ++i, ++o)
    c.set(o, dcaps[i].valid() ? std::move(dcaps[i]) : zeros(fp->dtypes[o], trace->input_dims[caps[i]]));
}

REGISTER_OP("WhileGrad").inputs(-1).stateful().shape(while_grad_shape).cpu(while_grad_kernel)
    .grad([](GradCtx& g) -> std::vector<Output> {
      throw Error(ErrorCode::Unimplemented,
                  "Second-order gradients of tf.while_loop are not supported (op " + g.node.describe() + ")");
    });

}  // namespace

FrameCaptures frame_captures(Graph& g, const std::vector<int>& frames) {
  FrameCaptures r;
  std::set<int> mine(frames.begin(), frames.end());
  std::set<std::pair<int, int>> seen;
  std::set<int> seen_ctrl;
  for (Node* n : needed_members(g, frames)) {
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      const Output& o = n->inputs[i];
      if (n->op->is_ref_input((int)i) || mine.count(o.node->frame)) continue;
      if (seen.insert({o.node->id, o.index}).second) r.data.push_back(o);
    }
    for (Node* c : n->control_inputs)
      if (!mine.count(c->frame) && seen_ctrl.insert(c->id).second) r.control.push_back(c);
  }
  // A frame may also return an outer value as it is (`lambda: x`).
  for (int f : frames) {
    const Frame& fr = g.frame(f);
    std::vector<Output> returned = fr.outputs;
    returned.insert(returned.end(), fr.stacked.begin(), fr.stacked.end());
    if (fr.pred.valid()) returned.push_back(fr.pred);
    for (const Output& o : returned)
      if (!mine.count(o.node->frame) && seen.insert({o.node->id, o.index}).second) r.data.push_back(o);
  }
  return r;
}

}  // namespace tideflow
