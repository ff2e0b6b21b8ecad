#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph.h"

namespace tideflow {

// Note [gradient rules]
// Each op's gradient rule (OpDef::grad) receives the forward node and the gradients of its outputs and
// returns one gradient per input, built from ordinary ops through a Builder. Rules may return a gradient
// whose shape is the broadcast shape: the driver sums it back to the input's shape in one place
// (SumToShape), so no rule undoes broadcasting itself. Because rules emit graph nodes, the gradient of a
// gradient is just another call to gradients().
//
// gradients() builds the backward pass of sum(ys) w.r.t. xs, only for nodes that lie between them
// (reachable from xs and reaching ys), summing fan-in with AddN. An x that ys do not depend on, and
// integer or bool paths, get an invalid Output (None). A reachable op without a rule raises LookupError.
//
// Note [gradient overrides]
// tf.Graph.gradient_override_map names, for some nodes, a gradient other than their op's own: either a
// function registered outside the core (Python's tf.RegisterGradient), which `external` builds and
// reports true for, or another op type whose rule is applied to the node ("Identity" for a straight-
// through Round). An overridden node is differentiated even if its own op is not differentiable.
struct GradOverrides {
  std::map<int, std::string> by_node;  // node id -> gradient name
  std::function<bool(Node& node, const std::string& name, const std::vector<Output>& out_grads,
                     std::vector<Output>* in_grads)>
      external;
};

// Note [frame gradients]
// `frame` >= 0 differentiates inside one control-flow frame (Note [frames] in graph.h): only that frame's
// nodes are walked, and xs may be values from outside it (what the frame captured), which count as
// independent inputs: paths between them outside the frame belong to the enclosing gradient. Control
// flow's gradient rules use this to build a gradient frame from the forward frame.
constexpr int kAllFrames = -2;
TF_API std::vector<Output> gradients(Graph& g, const std::vector<Output>& ys, const std::vector<Output>& xs,
                                     const std::vector<Output>& grad_ys, const std::vector<Output>& stop_gradients,
                                     const std::string& scope, const std::string& location = "",
                                     const GradOverrides* overrides = nullptr, int frame = kAllFrames);

}  // namespace tideflow
