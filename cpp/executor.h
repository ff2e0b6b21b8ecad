#pragma once
#include <vector>

#include "plan.h"
#include "resources.h"

namespace tideflow {

// Runs a plan once: each node at most once, intermediates freed after their last reader. With
// `parallel`, ready nodes that are expensive go to the inter-op pool while cheap ones run inline.
std::vector<Tensor> execute(const Plan& plan, std::vector<Tensor> feed_values, Resources& state, int threads,
                            bool parallel);

}  // namespace tideflow
