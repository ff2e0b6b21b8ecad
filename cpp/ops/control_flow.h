// Control flow (cpp/ops/control_flow.cc): what the Python front end needs to build If and While nodes.
#pragma once
#include <vector>

#include "graph.h"

namespace tideflow {

// What the nodes of `frames` that their results need read from outside them: data inputs (the owner's captures, in order of first
// use; outer values a frame returns as they are count too) and control inputs (which the owner takes
// over). Ref inputs (an Assign's variable) are not reads.
struct FrameCaptures {
  std::vector<Output> data;
  std::vector<Node*> control;
};
TF_API FrameCaptures frame_captures(Graph& g, const std::vector<int>& frames);

}  // namespace tideflow
