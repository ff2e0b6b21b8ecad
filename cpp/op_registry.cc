#include "op_registry.h"

#include "resources.h"
#include "threadpool.h"

namespace tideflow {

OpRegistry& OpRegistry::global() {
  static OpRegistry* r = new OpRegistry();  // never destroyed: static OpDefBuilders point into it
  return *r;
}

OpDef* OpRegistry::add(const std::string& name) {
  auto& slot = ops_[name];
  if (slot) duplicates_.push_back(name);
  if (!slot) {
    slot = std::make_unique<OpDef>();
    slot->name = name;
  }
  return slot.get();
}

const OpDef* OpRegistry::find(const std::string& name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : it->second.get();
}

const OpDef& OpRegistry::get(const std::string& name) const {
  const OpDef* d = find(name);
  if (!d) throw Error(ErrorCode::NotFound, "Op type not registered: '" + name + "'");
  return *d;
}

std::vector<std::string> OpRegistry::names() const {
  std::vector<std::string> v;
  for (auto& kv : ops_) v.push_back(kv.first);
  return v;
}

static std::string inputs_desc(const Node& n) {
  std::string s;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Output& in = n.inputs[i];
    s += (i ? ", " : "") + std::string("'") + in.node->name + (in.index ? ":" + std::to_string(in.index) : "") +
         "' " + dtype_name(in.dtype()) + in.shape().str();
  }
  return s.empty() ? "no inputs" : "inputs: " + s;
}

const Tensor* InferCtx::const_value(int i) const {
  const Node* n = node.inputs[i].node;
  if (n->type() != "Const") return nullptr;
  return &n->attrs.get<Tensor>("value");
}

bool InferCtx::const_ints(int i, std::vector<int64_t>* out) const {
  if (const Tensor* t = const_value(i)) {
    *out = t->to_int_vector();
    return true;
  }
  const Node* n = node.inputs[i].node;
  if (n->type() == "Shape" && n->inputs[0].shape().fully_defined()) {
    *out = n->inputs[0].shape().dims;
    return true;
  }
  return false;
}

void InferCtx::set_output(int i, DType dt, PartialShape s) {
  if ((int)node.out_dtypes.size() <= i) {
    node.out_dtypes.resize(i + 1);
    node.out_shapes.resize(i + 1);
  }
  node.out_dtypes[i] = dt;
  node.out_shapes[i] = std::move(s);
}

void InferCtx::fail(const std::string& msg) const {
  throw value_error(msg + " for " + node.describe() + " with " + inputs_desc(node));
}

void InferCtx::type_fail(const std::string& msg) const {
  throw type_error(msg + " for " + node.describe() + " with " + inputs_desc(node));
}

void InferCtx::expect_same_dtype(int a, int b) const {
  if (dtype(a) != dtype(b))
    type_fail(std::string("Input ") + std::to_string(b) + " has dtype " + dtype_name(dtype(b)) +
              " that does not match dtype " + dtype_name(dtype(a)) + " of input " + std::to_string(a));
}

VarSlot& KernelCtx::ref(int i) const { return res.var(node.inputs[i].node); }

Tensor& KernelCtx::alloc_or_forward(int out, int in_idx, DType dt, const Dims& dims) {
  Tensor& src = inputs[in_idx];
  if (src.dtype() == dt && src.unique() && src.dims() == dims) return outputs[out] = std::move(src);
  return alloc(out, dt, dims);
}

void KernelCtx::fail(const std::string& msg) const {
  std::string s;
  for (size_t i = 0; i < inputs.size(); ++i)
    s += (i ? ", " : "") + (inputs[i].valid() ? inputs[i].summary() : std::string("<ref>"));
  throw invalid_argument(msg + "\n\t [[node " + node.describe() + " with input shapes: " + s + "]]");
}

void KernelCtx::parallel_for(int64_t n, int64_t cost, const std::function<void(int64_t, int64_t)>& fn) const {
  ThreadPool::global().parallel_for(n, cost, threads, fn);
}

void shape_unchanged(InferCtx& c) { c.set_output(0, c.dtype(0), c.shape(0)); }

void shape_broadcast_binary(InferCtx& c) {
  c.expect_same_dtype(0, 1);
  PartialShape out;
  if (!broadcast_shapes(c.shape(0), c.shape(1), &out))
    c.fail("Dimensions must be compatible for broadcasting: " + c.shape(0).str() + " vs " + c.shape(1).str());
  c.set_output(0, c.dtype(0), out);
}

}  // namespace tideflow
