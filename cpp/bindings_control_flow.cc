// Python's view of control-flow frames (Note [frames] in graph.h): tideflow.ops.control_flow_ops traces a
// branch or loop body inside a new frame, records what the frame returns and asks for its captures.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/tuple.h>

#include "bindings_util.h"
#include "ops/control_flow.h"
#include "spin_pair.h"

namespace tideflow_py {

namespace {

using OutKey = std::pair<int, int>;

std::vector<Node*> nodes(Graph& g, const std::vector<int>& ids) {
  std::vector<Node*> v;
  for (int id : ids) v.push_back(g.node(id));
  return v;
}

std::vector<Output> outputs(Graph& g, const std::vector<OutKey>& keys) {
  std::vector<Output> v;
  for (auto& k : keys) v.push_back(Output{g.node(k.first), k.second});
  return v;
}

}  // namespace

void bind_control_flow(nb::module_& m) {
  // Tests and bench/lstm_pair.py: how many halves of loop steps the spinning partner ran, how many their
  // callers took back, how often the partner was woken, how often a caller waited for a preempted partner
  // (Note [spinning partner] in spin_pair.cc).
  m.def("_pair_runs", [] {
    return std::make_tuple(pair_partner_runs(), pair_caller_runs(), pair_partner_wakes(), pair_stragglers());
  });
  m.def("_pair_force_partner", &set_pair_force_partner);
  m.def("new_frame", [](Graph& g, const std::string& kind) { return g.new_frame(kind); });
  m.def("current_frame", [](Graph& g) { return g.current_frame(); });
  m.def("set_current_frame", [](Graph& g, int id) { g.set_current_frame(id); });
  m.def("node_frame", [](Graph& g, int id) { return g.node(id)->frame; });
  m.def("frame_within", [](Graph& g, int inner, int outer) { return g.frame_within(inner, outer); });
  m.def("frame_kind", [](Graph& g, int id) { return g.frame(id).kind; });
  m.def("frame_parent", [](Graph& g, int id) { return g.frame(id).parent; });
  m.def("set_frame", [](Graph& g, int id, const std::vector<int>& args, const std::vector<int>& cond_args,
                        const std::vector<int>& slice_args, const std::vector<OutKey>& outs,
                        const std::vector<OutKey>& stacked, const std::vector<OutKey>& pred) {
    Frame& f = g.frame(id);
    f.args = nodes(g, args);
    f.cond_args = nodes(g, cond_args);
    f.slice_args = nodes(g, slice_args);
    f.outputs = outputs(g, outs);
    f.stacked = outputs(g, stacked);
    if (!pred.empty()) f.pred = Output{g.node(pred[0].first), pred[0].second};  // a while loop's condition
  });
  m.def("frame_captures", [](Graph& g, const std::vector<int>& frames) {
    FrameCaptures c = frame_captures(g, frames);
    std::vector<OutKey> data;
    for (auto& o : c.data) data.emplace_back(o.node->id, o.index);
    std::vector<int> control;
    for (Node* n : c.control) control.push_back(n->id);
    return nb::make_tuple(data, control);
  });
}

}  // namespace tideflow_py
