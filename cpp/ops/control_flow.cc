// Control flow: If (tf.cond, tf.case, tf.switch_case; cond.cc) and While (tf.while_loop, map_fn, scan,
// foldl, foldr; while_loop.cc) with WhileGrad, the loop that runs a while loop's gradient. This file holds
// the frame helpers they share (control_flow_frames.h) and what the front end asks (control_flow.h).
#include "ops/control_flow.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "ops/control_flow_frames.h"

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

namespace cf {
// Documented where declared (control_flow_frames.h).


bool is_var(const Output& o) { return o.node->type() == "VariableV2"; }

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

Tensor dummy(DType dt) { return dt == DType::Variant ? Tensor::variant(nullptr) : Tensor(dt, {0}); }

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

}  // namespace cf

FrameCaptures frame_captures(Graph& g, const std::vector<int>& frames) {
  FrameCaptures r;
  std::set<int> mine(frames.begin(), frames.end());
  std::set<std::pair<int, int>> seen;
  std::set<int> seen_ctrl;
  for (Node* n : cf::needed_members(g, frames)) {
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
