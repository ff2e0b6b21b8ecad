#pragma once
#include <vector>

#include "graph.h"
#include "op_registry.h"

namespace tideflow {

// Note [plan]
// What one (feeds, fetches, targets) key needs, computed once and cached by the Session: the nodes the
// fetches and targets reach, cut at fed tensors, in a topological order, with pending counts, consumer
// lists and how many times each value is read (so the executor frees it after its last reader). Values
// live in "slots": one per output of every planned node, plus the fed tensors.
//
// Note [variable reads]
// As with TF1's reference variables, a node that takes a variable as input reads it when that node runs,
// not when the VariableV2 node ran: `with tf.control_dependencies([update]): tf.identity(v)` sees the
// update. So edges from a variable are not data edges here; the consumer reads the variable's slot.
struct Fusion;

// Note [fused chains]
// A fusion through two producers (Note [fused producers] in op_registry.h): `op` reads at `input` a
// `producer` node, which reads at `inner_input` an `inner` node, and one kernel does all three nodes' work
// (Relu(Add(Conv2D(x, f), bias)): the convolution adds the bias and rectifies in its output pass, while
// each block of output is in cache). Both producers are absorbed under Note [fused producers]'s conditions
// (each read only by the next, no fetch, target or control edge); the kernel's inputs are the op's without
// `input`, then the producer's without `inner_input`, then the inner node's; KernelCtx::fused is the
// producer, whose input `inner_input` is the inner node. A chain is tried before the op's own fusions. It
// is registered by the file that holds its kernel (the convolutions'), so the op's row needs none of it.
struct ChainFusion {
  std::string op;
  int input;
  std::string producer;
  int inner_input;
  std::string inner;
  KernelFn kernel;
};
// Call from a static initializer: returns true.
bool register_chain_fusion(const ChainFusion& f);

struct PlanNode {
  Node* node;
  const Fusion* fusion = nullptr;  // run fusion->kernel, which also does `fused`'s work
  const Node* fused = nullptr;     // Note [fused producers] in op_registry.h
  const Node* fused_inner = nullptr;  // a chain's inner node (Note [fused chains])
  int fused_inner_input = -1;         // and the producer's input it feeds
  int out_slot;                 // slot of output 0; output i is out_slot + i
  int num_outputs;              // when planned (an If may gain outputs later: Note [cond gradients])
  std::vector<int> in_slots;    // -1 for ref inputs (the kernel reaches the variable itself) and reads
  std::vector<const Node*> in_vars;  // per input: the variable read when this node runs, or null
  std::vector<int> consumers;   // plan indices; one entry per data or control edge
  int pending = 0;              // data and control edges from planned nodes
  bool expensive = false;
  bool async = false;           // Note [async kernels] in op_registry.h
};

struct Plan {
  std::vector<PlanNode> nodes;      // topological order
  int num_slots = 0;
  std::vector<int> slot_reads;      // readers per slot, fetches included
  std::vector<int> feed_slots;      // where each fed value goes
  std::vector<Output> feeds;
  std::vector<int> fetch_slots;
  std::vector<int> initial_ready;
  std::vector<const Node*> variables_read;  // for Note [uninitialized variables]
  bool parallel = false;
  bool has_async = false;           // runs from the ready queue even on one thread
};

// Note [frame plans]
// `frame` >= 0 plans one control-flow frame (Note [frames] in graph.h) for its owner's kernel: only that
// frame's nodes are planned. Values from outside it (enclosing frames' values, saved values of a forward
// frame) must be among the feeds, and control edges from outside are ignored: the owner node carries them,
// so they ran before it. A top-level plan (frame -1) never enters a frame: fetching or feeding a value
// that lives in one raises TF1's errors.
Plan build_plan(Graph& g, const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                const std::vector<Node*>& targets, int frame = -1);

}  // namespace tideflow
