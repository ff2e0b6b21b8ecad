#pragma once
// Eager execution: ops run at once on concrete tensors, GradientTape records them, and gradient() replays
// the graph mode's per-op gradient rules through a Builder that executes immediately.
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "graph.h"
#include "resources.h"

namespace tideflow {
namespace eager {

// Note [eager execution]
// An eager op runs the op's shape function and CPU kernel directly: no graph, no plan. The kernel sees a
// Node as in graph mode (type, attrs and name for its messages), built per call and reused across calls.
// Its value inputs are scratch Const nodes holding the input tensors, so a shape function that asks
// const_value(i) (Reshape, Fill, ...) sees the concrete value and computes the exact output shape; its ref
// inputs are the handle nodes of eager variables, which the eager Resources resolve to their slots.
// Shape-function failures are raised as InvalidArgumentError, as TensorFlow's eager kernels raise them.
// Ops with per-node state (random streams, Print's counter) run on a cached node per (type, attrs): a
// seeded op continues its Philox stream from call to call, as TensorFlow's eager kernel cache makes it;
// clear_kernel_cache() (tf.random.set_seed) restarts them.

// Every eager tensor has an id, the name tapes know it by.
TF_API int64_t new_tensor_id();

struct TF_API EagerTensor {
  Tensor value;
  int64_t id = 0;
  EagerTensor() = default;
  explicit EagerTensor(Tensor v) : value(std::move(v)), id(new_tensor_id()) {}
  EagerTensor(Tensor v, int64_t i) : value(std::move(v)), id(i) {}
};

// A variable outside any graph: a handle node (type VariableV2, the variable's name, dtype and shape, for
// kernels and their messages) and a slot. Its id stands for the variable on tapes. Freed with the object.
class TF_API Variable {
 public:
  Variable(const std::string& name, DType dtype, PartialShape shape, bool trainable);
  ~Variable();
  Variable(const Variable&) = delete;
  Node* handle() const { return handle_.get(); }
  VarSlot& slot() const { return *slot_; }
  const std::shared_ptr<VarSlot>& shared_slot() const { return slot_; }
  int64_t id() const { return id_; }
  bool trainable() const { return trainable_; }
  DType dtype() const { return handle_->out_dtypes[0]; }
  const PartialShape& shape() const { return handle_->out_shapes[0]; }
  // The current value as a new tensor; tapes watching the variable record the read (Note [variable reads
  // on tapes]). Throws FailedPrecondition before the first assignment.
  EagerTensor read();
  static int64_t live();  // variables alive now (tests check they are freed)
  // The current value, unrecorded; FailedPrecondition before the first assignment.
  Tensor read_untaped() const;

 private:
  std::unique_ptr<Node> handle_;
  std::shared_ptr<VarSlot> slot_;
  int64_t id_;
  bool trainable_;
};

// One input of an eager op: a tensor, or (for a ref input) a variable.
struct Input {
  const Tensor* value = nullptr;
  int64_t id = 0;
  Variable* var = nullptr;
};

TF_API const OpDef& op_def(const std::string& type);  // NotFound for unknown types
// Runs `op` on inputs[0..n) and leaves its outputs in *out (reused across calls by hot callers).
TF_API void execute_into(const OpDef& op, AttrMap attrs, const Input* inputs, size_t n, const std::string& name,
                         std::vector<EagerTensor>* out);
inline std::vector<EagerTensor> execute(const OpDef& op, AttrMap attrs, const std::vector<Input>& inputs,
                                        const std::string& name = "") {
  std::vector<EagerTensor> out;
  execute_into(op, std::move(attrs), inputs.data(), inputs.size(), name, &out);
  return out;
}
TF_API Resources& resources();
TF_API void clear_kernel_cache();

// ---- tapes ----

// Note [tapes]
// A tape records the ops that read a watched tensor (or a tensor computed from one): op, attrs, inputs and
// outputs with their ids. Tapes are per thread; every tape on the thread's stack records. gradient() walks
// the record backwards from the targets, applies each op's C++ gradient rule through an EagerBuilder
// (whose ops execute at once, and are themselves recorded by the tapes still recording: nested tapes give
// higher orders), sums fan-in with AddN and sums broadcast gradients back to the input's shape, exactly as
// gradients.cc does for graphs.
//
// Note [variable reads on tapes]
// A variable has an id of its own. Reading it records an Identity from that id to the read's tensor on
// every tape watching the variable, so a gradient with respect to the variable sums over all its reads.
// A tape with watch_accessed_variables watches a trainable variable when it is read.

// A custom gradient (tf.custom_gradient): given the gradients of the outputs, returns those of the inputs
// (invalid tensors for None).
using BackwardFn = std::function<std::vector<EagerTensor>(const std::vector<EagerTensor>& out_grads)>;

struct TapeEntry {
  const OpDef* op = nullptr;  // null for a custom gradient
  AttrMap attrs;
  std::vector<Tensor> inputs, outputs;
  std::vector<int64_t> input_ids, output_ids;
  BackwardFn backward;
};

class TF_API Tape {
 public:
  Tape(bool persistent, bool watch_accessed_variables)
      : persistent_(persistent), watch_accessed_(watch_accessed_variables) {}
  void watch(int64_t id) { watched_.insert(id); }
  void watch_variable(Variable* v);
  bool watching(int64_t id) const { return watched_.count(id) > 0; }
  bool persistent() const { return persistent_; }
  bool watch_accessed_variables() const { return watch_accessed_; }
  bool used() const { return used_; }
  // The ids of the variables this tape watches, in the order they were first watched.
  const std::vector<int64_t>& watched_variables() const { return watched_vars_; }
  size_t num_entries() const { return entries_.size(); }

  // Records `e` when one of its inputs is watched; its outputs then become watched.
  void maybe_record(TapeEntry&& e);
  bool should_record(const std::vector<int64_t>& input_ids) const;

  // Gradients of sum(targets) (weighted by output_gradients where given) with respect to each source (an
  // id, with the dtype and shape zeros take under `unconnected_zero`). A source the targets do not
  // depend on gets an invalid tensor (None) unless `unconnected_zero`.
  std::vector<EagerTensor> gradient(const std::vector<EagerTensor>& targets, const std::vector<int64_t>& sources,
                                    const std::vector<std::pair<DType, Dims>>& source_types,
                                    const std::vector<EagerTensor>& output_gradients, bool unconnected_zero);
  // Drops the record (a non-persistent tape after its one gradient call).
  void release();

 private:
  bool persistent_, watch_accessed_;
  bool used_ = false;
  std::unordered_set<int64_t> watched_;
  std::vector<int64_t> watched_vars_;
  std::unordered_set<int64_t> watched_var_set_;
  std::deque<TapeEntry> entries_;  // a deque: replaying entries while recording new ones keeps references valid
};

// The thread's recording tapes, innermost last. push/pop keep tapes alive while they record.
TF_API void push_tape(const std::shared_ptr<Tape>& t);
TF_API void pop_tape(const Tape* t);
TF_API bool any_tape();
// Records a custom-gradient op on the recording tapes that watch one of `inputs`.
TF_API void record_custom(const std::vector<EagerTensor>& inputs, const std::vector<EagerTensor>& outputs,
                          BackwardFn backward);
// Whether a recording tape watches `id` (tf.custom_gradient records only then).
TF_API bool is_watched(int64_t id);

}  // namespace eager
}  // namespace tideflow
