#pragma once
#include <memory>
#include <vector>

#include "plan.h"
#include "resources.h"

namespace tideflow {

// Runs a plan once: each node at most once, intermediates freed after their last reader. With
// `parallel`, ready nodes that are expensive go to the inter-op pool while cheap ones run inline.
std::vector<Tensor> execute(const Plan& plan, std::vector<Tensor> feed_values, Resources& state, int threads,
                            bool parallel);

// Note [frame runs]
// Control-flow kernels run a frame's plan once per branch taken or loop iteration. A PlanRunner keeps the
// sequential run state (slots and read counters) between runs, so an iteration costs its kernels and no
// set-up; a plan worth the inter-op pool (several expensive nodes) goes through execute() each time.
class TF_API PlanRunner {
 public:
  PlanRunner(const Plan& plan, Resources& state, int threads, bool parallel);
  ~PlanRunner();
  // Runs the plan once on `feeds` (moved from); `out` receives the fetched values.
  void run(std::vector<Tensor>& feeds, std::vector<Tensor>& out);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace tideflow
