#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tensor.h"

namespace tideflow {

struct Node;

// A variable's value. Readers take a reference to the current buffer under the lock; writers update in
// place only when no reader still holds the buffer (copy-on-write), so a fetched value never changes under
// the user and concurrent runs never corrupt memory.
struct TF_API VarSlot {
  std::mutex mu;
  Tensor value;  // invalid until initialized
  Tensor read() {
    std::lock_guard<std::mutex> l(mu);
    return value;
  }
};

// One node's run in a traced step (Note [step stats] in executor.cc): wall-clock microseconds since the
// epoch, and a small number for the thread that ran it.
struct NodeStat {
  const Node* node;
  int64_t start_us, end_us;
  uint32_t thread;
};
struct StepTrace {
  std::mutex mu;
  std::vector<NodeStat> stats;
};

// Note [resources]
// What kernels reach beyond their inputs: variable values and per-node counters (random streams, Print's
// first_n). A Session owns one, so two sessions on one graph share nothing. Kernels see it through
// KernelCtx::res and never include the session; the executor takes it as a parameter.
class TF_API Resources {
 public:
  // While `tracing`, every node run with these resources adds its timing to `trace` (nodes of loop bodies
  // too, and those of other runs on the same session meanwhile). The trace lives as long as the resources,
  // so a kernel that started before tracing ended records into live memory.
  std::atomic<bool> tracing{false};
  StepTrace trace;
  VarSlot& var(const Node* n);
  // A per-node counter that lives as long as the resources: returns its value and adds `count`. Random
  // ops take a fresh block of Philox counters per execution; Print counts its runs for first_n.
  uint64_t next_count(const Node* n, uint64_t count);
  std::vector<std::pair<const Node*, Tensor>> variables();
  // An object a kernel keeps for one node for the resources' life, made by `make` on first use: control
  // flow keeps its frames' plans here (Note [frame plan cache] in ops/control_flow_frames.h).
  std::shared_ptr<void> node_cache(const Node* n, const std::function<std::shared_ptr<void>()>& make);
  // Makes `n` resolve to a slot owned elsewhere: an eager variable's handle, or the node standing for it in
  // a graph traced by tf.function (Note [eager execution] in eager.h).
  void bind(const Node* n, std::shared_ptr<VarSlot> slot);
  // Forgets `n`'s variable and counter and its node cache (a freed eager handle or cached kernel, whose
  // address may be reused).
  void erase(const Node* n);

 private:
  std::mutex mu_;
  std::unordered_map<const Node*, std::shared_ptr<VarSlot>> vars_;
  std::unordered_map<const Node*, uint64_t> rng_;
  std::unordered_map<const Node*, std::shared_ptr<void>> node_cache_;
};

}  // namespace tideflow
