#pragma once
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph.h"

namespace tideflow {

class Resources;
struct VarSlot;
struct GradOverrides;
class ThreadPool;

// ---- shape inference: runs when a node is created ----
struct TF_API InferCtx {
  Node& node;
  int num_inputs() const { return (int)node.inputs.size(); }
  DType dtype(int i) const { return node.inputs[i].dtype(); }
  const PartialShape& shape(int i) const { return node.inputs[i].shape(); }
  // The value of input i when it is a constant (a Const node), else nullptr: lets reshape, fill, zeros...
  // know their output shape at graph-construction time.
  const Tensor* const_value(int i) const;
  // Like const_value, but also sees through Shape/Size/Rank of inputs whose shape is known.
  bool const_ints(int i, std::vector<int64_t>* out) const;
  void set_output(int i, DType dt, PartialShape s);
  template <class T> const T& attr(const std::string& k) const { return node.attrs.get<T>(k); }
  [[noreturn]] void fail(const std::string& msg) const;       // ValueError naming the node and its inputs
  [[noreturn]] void type_fail(const std::string& msg) const;  // TypeError
  void expect_same_dtype(int a, int b) const;
};
using ShapeFn = std::function<void(InferCtx&)>;

// ---- kernels: run by the executor ----
struct TF_API KernelCtx {
  Node& node;
  std::vector<Tensor>& inputs;
  std::vector<Tensor>& outputs;
  Resources& res;  // variables and counters (Note [resources])
  int threads = 1;  // intra-op cap for parallel_for
  bool parallel = false;  // the running plan uses the inter-op pool (control flow runs its frames likewise)
  const std::vector<int>* slot_reads = nullptr;  // the running plan's readers per slot
  int out_slot = 0;                              // the slot of this node's output 0

  const Tensor& in(int i) const { return inputs[i]; }
  // Whether the running plan reads output i (a while loop records its trace only when it is read).
  bool output_used(int i) const { return !slot_reads || (*slot_reads)[out_slot + i] > 0; }
  const Node* fused = nullptr;  // a fused kernel's producer node (Note [fused producers])

  // The variable behind ref input i (an Assign's or an optimizer's target).
  VarSlot& ref(int i) const;
  Tensor& alloc(int out, DType dt, Dims dims) { return outputs[out] = Tensor(dt, std::move(dims)); }
  // Reuse input `in_idx`'s buffer for output `out` when nobody else holds it and it fits (elementwise ops).
  Tensor& alloc_or_forward(int out, int in_idx, DType dt, const Dims& dims);
  void set(int out, Tensor t) { outputs[out] = std::move(t); }
  template <class T> const T& attr(const std::string& k) const { return node.attrs.get<T>(k); }
  [[noreturn]] void fail(const std::string& msg) const;  // InvalidArgumentError naming the node and inputs
  // Runs fn(begin, end) over [0, n) on up to `threads` threads; small n stays on this thread.
  void parallel_for(int64_t n, int64_t cost_per_item, const std::function<void(int64_t, int64_t)>& fn) const;
};
using KernelFn = void (*)(KernelCtx&);

// Note [async kernels]
// A kernel whose work finishes outside this process's control (a collective waits for the other ranks)
// must not hold an executor thread while it waits: with every thread waiting on a different collective,
// ranks that reached their collectives in different orders would wait for each other forever. An async
// kernel starts the work and returns; the work sets the outputs on the context and calls `done` exactly
// once, from any thread, with a null exception_ptr on success. The context and its inputs/outputs stay
// alive until then. The executor runs a plan holding async nodes from its ready queue, so the rest of the
// graph goes on while the work is in flight, and it launches an async node as soon as its inputs exist.
using AsyncDone = std::function<void(std::exception_ptr)>;
using AsyncKernelFn = void (*)(KernelCtx&, AsyncDone);
// A run blocked on async work alone (nothing else of its own can run) first offers its thread to whoever
// does that work: `helper` may do some of it there and says whether it did. Then the run sleeps: how many
// runs sleep so, and a function called each time one starts to, tell that worker nobody computes.
TF_API void set_async_helper(bool (*helper)());
TF_API int runs_waiting_on_async();
TF_API void set_async_wait_listener(void (*fn)());
// Runs an async kernel to its end on the calling thread, waiting as a blocked run does (eager mode).
TF_API void run_async_kernel(AsyncKernelFn kernel, KernelCtx& ctx);

// ---- gradients: graph-building rules, see Note [gradient rules] in gradients.h ----
struct TF_API GradCtx {
  Builder& b;
  Node& node;
  std::vector<Output> grads;  // one per output of node; zeros where an output received no gradient
  const GradOverrides* overrides = nullptr;  // the gradients() call's, for rules that call gradients()
  // Per input, whether the caller uses its gradient (some x of the gradients() call lies behind it along
  // float edges); null: all are. A rule may skip work for the others and return None for them.
  const std::vector<char>* wanted = nullptr;
  bool wants(int i) const { return !wanted || (*wanted)[i]; }
  Output x(int i) const { return node.inputs[i]; }
  Output y(int i = 0) const { return Output{&node, i}; }
  Output g(int i = 0) const { return grads[i]; }
};
// Returns one gradient per input; an invalid Output means "no gradient" (None).
using GradFn = std::function<std::vector<Output>(GradCtx&)>;

// Note [fused producers]
// An op may carry a kernel that also does the work of the node producing one of its inputs, when that
// node has the named type and nothing else in the step reads its value or waits on it (an SGD update of
// a weight whose gradient is a product: the product is accumulated straight into the variable). The
// plan then leaves the producer out; the fused kernel's inputs are the op's inputs without `input`,
// followed by the producer's inputs, and KernelCtx::fused is the producer (for its attributes and for
// errors, which name it).
struct Fusion {
  int input;
  std::string producer;
  KernelFn kernel;
};

// The dtypes and attribute values an op accepts (Note [op type rules] in op_rules.cc): TensorFlow's rules
// for ops that carry its names, plus any a row adds. Masks have bit d set for each allowed DType d.
struct TF_API OpRules {
  struct Input {
    std::string name;
    uint64_t dtypes;
    bool list;  // a variadic argument: covers the inputs the fixed ones leave
  };
  struct Attr {
    std::string name;
    char kind;  // 't': allowed dtypes, 'm': integer minimum, 's': allowed strings
    uint64_t dtypes;
    std::vector<std::string> strings;
    int64_t minimum;
  };
  std::vector<Input> inputs;
  std::vector<Attr> attrs;
  static const OpRules* generated(const std::string& op);  // from op_types.inc, or nullptr
};
TF_API uint64_t dtype_mask(const std::string& names);  // "float32|float64" -> a mask
// Checks a node's input dtypes and attributes against its op's rules before its shape function runs:
// TypeError / ValueError naming the node. Graph::add_node calls it; so must any other caller of shape
// functions (eager dispatch).
TF_API void check_op_rules(InferCtx& c);

struct TF_API OpDef {
  std::string name;
  int num_inputs = 0;          // -1: variadic
  std::vector<int> ref_inputs;  // inputs that name a variable to update, not a value to read
  bool stateful = false;       // never folded, never deduplicated, runs every time
  bool expensive = false;      // worth handing to another thread when several nodes are ready
  bool not_differentiable = false;  // gradient is None on purpose (comparisons, shape ops, argmax)
  // The gradient rule gives each input its exact runtime shape, never a broadcast one, so the gradient
  // driver adds no SumToShape after it (Note [exact gradient shapes] in gradients.cc).
  bool exact_grads = false;
  ShapeFn shape;
  KernelFn cpu = nullptr;
  AsyncKernelFn cpu_async = nullptr;  // instead of `cpu`: Note [async kernels]
  GradFn grad;
  std::vector<Fusion> fusions;
  std::shared_ptr<OpRules> rules;  // a row's own type rules (OpDefBuilder::input_types / attr_types)
  // Python API (Note [ops carry their Python API]): input argument names, where the generated wrapper
  // goes (tf.* names, "math.erf"), its docstring. Empty api: the op has a hand-written wrapper or none.
  std::vector<std::string> arg_names;
  std::vector<std::string> api;
  std::string doc;
  bool is_ref_input(int i) const {
    for (int r : ref_inputs) if (r == i) return true;
    return false;
  }
};

class TF_API OpRegistry {
 public:
  static OpRegistry& global();
  OpDef* add(const std::string& name);
  const OpDef* find(const std::string& name) const;
  const OpDef& get(const std::string& name) const;  // throws NotFound
  std::vector<std::string> names() const;
  // Op names registered twice (two families claiming one name): a test keeps this empty, since
  // registration runs at load time where throwing would take the process down.
  const std::vector<std::string>& duplicates() const { return duplicates_; }

 private:
  std::unordered_map<std::string, std::unique_ptr<OpDef>> ops_;
  std::vector<std::string> duplicates_;
};

// Note [ops carry their Python API]
// An ordinary op needs no hand-written Python wrapper: its row names its inputs, the tf.* names it is
// exported under and its docstring,
//   REGISTER_OP("Erf").inputs(1).args({"x"}).api({"math.erf", "erf"}).doc("The Gauss error function.")...
// and python/tideflow/ops/gen_ops.py makes `tf.math.erf(x, name=None)` and `tf.erf` from it, building the
// node through apply_op with TensorFlow's argument conversion (a second input takes the first's dtype).
// Ops with attributes or more than two inputs keep hand-written wrappers in ops/*.py.

// REGISTER_OP("Add").inputs(2).shape(...).cpu(...).grad(...); one row per op, in its family file.
class TF_API OpDefBuilder {
 public:
  explicit OpDefBuilder(const std::string& name) : def_(OpRegistry::global().add(name)) {}
  OpDefBuilder& inputs(int n) { def_->num_inputs = n; return *this; }
  OpDefBuilder& ref_input(int i) { def_->ref_inputs.push_back(i); return *this; }
  OpDefBuilder& stateful() { def_->stateful = true; return *this; }
  OpDefBuilder& expensive() { def_->expensive = true; return *this; }
  OpDefBuilder& fuse(int input, const std::string& producer, KernelFn k) {
    def_->fusions.push_back({input, producer, k});
    return *this;
  }
  // Type rules of the row's own (Note [op type rules]): the dtypes input i accepts, "float32|float64".
  OpDefBuilder& input_types(int i, const std::string& types);
  OpDefBuilder& attr_types(const std::string& attr, const std::string& types);
  OpDefBuilder& not_differentiable() { def_->not_differentiable = true; return *this; }
  OpDefBuilder& exact_grads() { def_->exact_grads = true; return *this; }
  OpDefBuilder& shape(ShapeFn f) { def_->shape = std::move(f); return *this; }
  OpDefBuilder& cpu(KernelFn f) { def_->cpu = f; return *this; }
  OpDefBuilder& cpu_async(AsyncKernelFn f) { def_->cpu_async = f; return *this; }
  OpDefBuilder& grad(GradFn f) { def_->grad = std::move(f); return *this; }
  // Python API, Note [ops carry their Python API]
  OpDefBuilder& args(std::vector<std::string> names) { def_->arg_names = std::move(names); return *this; }
  OpDefBuilder& api(std::vector<std::string> names) { def_->api = std::move(names); return *this; }
  OpDefBuilder& doc(std::string text) { def_->doc = std::move(text); return *this; }

 private:
  OpDef* def_;
};

#define TF_CONCAT_INNER(a, b) a##b
#define TF_CONCAT(a, b) TF_CONCAT_INNER(a, b)
#define REGISTER_OP(name) \
  static ::tideflow::OpDefBuilder TF_CONCAT(tf_op_registration_, __COUNTER__) = ::tideflow::OpDefBuilder(name)

// Shape functions shared by many families.
TF_API void shape_unchanged(InferCtx& c);         // output 0 = input 0
TF_API void shape_broadcast_binary(InferCtx& c);  // same dtype, broadcast shapes

}  // namespace tideflow
