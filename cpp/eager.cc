#include "eager.h"

#include <atomic>
#include <list>
#include <mutex>
#include <unordered_map>

#include "op_registry.h"
#include "threadpool.h"

namespace tideflow {
namespace eager {

namespace {

std::atomic<int64_t> g_next_id{1};

const OpDef& const_def() {
  static const OpDef* d = &OpRegistry::global().get("Const");
  return *d;
}

const OpDef& identity_def() {
  static const OpDef* d = &OpRegistry::global().get("Identity");
  return *d;
}

// ---- Note [eager execution]: the node a kernel sees, and its scratch Const inputs ----

// One set per nesting depth, since a kernel may run eager ops itself (a py_function's body). Reused call
// after call, so a small op allocates nothing here.
struct ExecNodes {
  struct Scratch {
    Node node;
    AttrValue* value;  // the node's "value" and "dtype" attributes (std::map entries never move)
    AttrValue* dtype;
  };
  Node node;
  std::vector<std::unique_ptr<Scratch>> consts;
  std::vector<Tensor> ins, outs;

  Node* input_node(size_t i, const Tensor& t) {
    while (consts.size() <= i) {
      auto s = std::make_unique<Scratch>();
      Node* n = &s->node;
      n->op = &const_def();
      n->name = "input_" + std::to_string(consts.size());
      s->value = &(n->attrs["value"] = Tensor());
      s->dtype = &(n->attrs["dtype"] = DType::Float32);
      n->out_dtypes.resize(1);
      n->out_shapes.resize(1);
      consts.push_back(std::move(s));
    }
    Scratch& s = *consts[i];
    Node* n = &s.node;
    *s.value = t;
    *s.dtype = t.dtype();
    n->out_dtypes[0] = t.dtype();
    n->out_shapes[0].known_rank = true;
    n->out_shapes[0].dims = t.dims();
    return n;
  }
  // Drops every reference to the call's tensors, so buffers are freed as soon as the caller lets go.
  void release(size_t n) {
    for (size_t i = 0; i < n && i < consts.size(); ++i) *consts[i]->value = Tensor();
    ins.clear();
    outs.clear();
  }
};

thread_local std::vector<std::unique_ptr<ExecNodes>> t_exec;
thread_local size_t t_depth = 0;

struct DepthGuard {
  ExecNodes* en;
  size_t n_inputs = 0;
  DepthGuard() {
    if (t_exec.size() <= t_depth) t_exec.push_back(std::make_unique<ExecNodes>());
    en = t_exec[t_depth++].get();
  }
  ~DepthGuard() {
    en->release(n_inputs);
    --t_depth;
  }
};

// ---- the kernel cache for ops with per-node state ----

struct CachedKernel {
  std::mutex mu;  // one execution at a time: the node's inputs are set per call
  Node node;
};

void append_attr(std::string& k, const AttrValue& v) {
  k.push_back((char)v.index());
  std::visit(
      [&](auto&& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
        } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, int64_t> || std::is_same_v<T, double> ||
                             std::is_same_v<T, DType>) {
          k.append(reinterpret_cast<const char*>(&x), sizeof x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          k += x;
          k.push_back('\0');
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<double>> ||
                             std::is_same_v<T, std::vector<DType>>) {
          k.append(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(x[0]));
          k.push_back('\0');
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          for (auto& s : x) k += s + '\0';
        } else if constexpr (std::is_same_v<T, PartialShape>) {
          k += x.str();
        } else {  // a tensor attribute: stateful ops take none; identity is enough to keep keys distinct
          const void* p = x.raw();
          k.append(reinterpret_cast<const char*>(&p), sizeof p);
        }
      },
      v);
}

class KernelCache {
 public:
  static constexpr size_t kCapacity = 4096;
  std::shared_ptr<CachedKernel> get(const OpDef& op, AttrMap&& attrs, const std::string& name) {
    std::string key = op.name;
    key.push_back('\0');
    for (auto& kv : attrs) {
      key += kv.first;
      key.push_back('=');
      append_attr(key, kv.second);
    }
    std::lock_guard<std::mutex> l(mu_);
    auto it = map_.find(key);
    if (it != map_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
    auto k = std::make_shared<CachedKernel>();
    k->node.op = &op;
    k->node.attrs = std::move(attrs);
    k->node.name = name.empty() ? op.name : name;
    lru_.emplace_front(key, k);
    map_.emplace(std::move(key), lru_.begin());
    // An evicted kernel restarts its stream if its (seed, seed2) is ever used again; with kCapacity
    // distinct kernels in between that only happens to programs that reuse explicit seeds on purpose.
    while (lru_.size() > kCapacity) {
      resources().erase(&lru_.back().second->node);
      map_.erase(lru_.back().first);
      lru_.pop_back();
    }
    return k;
  }
  void clear() {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& e : lru_) resources().erase(&e.second->node);
    map_.clear();
    lru_.clear();
  }

 private:
  using Lru = std::list<std::pair<std::string, std::shared_ptr<CachedKernel>>>;
  std::mutex mu_;
  Lru lru_;
  std::unordered_map<std::string, Lru::iterator> map_;
};

KernelCache& kernel_cache() {
  static KernelCache* c = new KernelCache();  // leaked: eager tensors may be released after static destruction
  return *c;
}

// ---- tapes ----
thread_local std::vector<std::shared_ptr<Tape>> t_tapes;

void record(const OpDef& op, const AttrMap& attrs, const Input* inputs, size_t n,
            const std::vector<EagerTensor>& outputs) {
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = inputs[i].id;
  for (auto& tape : t_tapes) {
    if (!tape->should_record(ids)) continue;
    TapeEntry e;
    e.op = &op;
    e.attrs = attrs;
    e.input_ids = ids;
    e.inputs.reserve(n);
    for (size_t i = 0; i < n; ++i) e.inputs.push_back(*inputs[i].value);
    for (auto& o : outputs) {
      e.outputs.push_back(o.value);
      e.output_ids.push_back(o.id);
    }
    tape->maybe_record(std::move(e));
  }
}

}  // namespace

int64_t new_tensor_id() { return g_next_id.fetch_add(1, std::memory_order_relaxed); }

Resources& resources() {
  static Resources* r = new Resources();  // leaked, as the kernel cache
  return *r;
}

void clear_kernel_cache() { kernel_cache().clear(); }

const OpDef& op_def(const std::string& type) { return OpRegistry::global().get(type); }

// ---- variables ----

namespace {
std::atomic<int64_t> g_live_variables{0};
}  // namespace

Variable::Variable(const std::string& name, DType dtype, PartialShape shape, bool trainable)
    : handle_(std::make_unique<Node>()), slot_(std::make_shared<VarSlot>()), id_(new_tensor_id()),
      trainable_(trainable) {
  handle_->op = &op_def("VariableV2");
  handle_->name = name;
  handle_->attrs["dtype"] = dtype;
  handle_->attrs["shape"] = shape;
  handle_->out_dtypes = {dtype};
  handle_->out_shapes = {std::move(shape)};
  resources().bind(handle_.get(), slot_);
  g_live_variables.fetch_add(1);
}

Variable::~Variable() {
  resources().erase(handle_.get());
  g_live_variables.fetch_sub(1);
}

int64_t Variable::live() { return g_live_variables.load(); }

Tensor Variable::read_untaped() const {
  Tensor v = slot_->read();
  if (!v.valid())
    throw Error(ErrorCode::FailedPrecondition,
                "Error while reading resource variable " + handle_->name + ": it holds no value yet.");
  return v;
}

EagerTensor Variable::read() {
  Tensor v = read_untaped();
  EagerTensor out(v);
  for (auto& tape : t_tapes) {
    if (tape->watch_accessed_variables() && trainable_) tape->watch_variable(this);
    if (!tape->watching(id_)) continue;
    TapeEntry e;
    e.op = &identity_def();
    e.inputs = {v};
    e.input_ids = {id_};
    e.outputs = {v};
    e.output_ids = {out.id};
    tape->maybe_record(std::move(e));
  }
  return out;
}

// ---- execution ----

void execute_into(const OpDef& op, AttrMap attrs, const Input* inputs, size_t n, const std::string& name,
                  std::vector<EagerTensor>* out) {
  if (op.num_inputs >= 0 && (int)n != op.num_inputs)
    throw invalid_argument("Op " + op.name + " takes " + std::to_string(op.num_inputs) + " inputs, got " +
                           std::to_string(n) + " [Op:" + op.name + "]");
  DepthGuard guard;
  ExecNodes& en = *guard.en;
  std::shared_ptr<CachedKernel> cached;
  std::unique_lock<std::mutex> cached_lock;
  Node* node = &en.node;
  if (op.stateful && op.ref_inputs.empty()) {
    cached = kernel_cache().get(op, std::move(attrs), name);
    cached_lock = std::unique_lock<std::mutex>(cached->mu);
    node = &cached->node;
  } else {
    node->op = &op;
    node->attrs = std::move(attrs);
    const std::string& nm = name.empty() ? op.name : name;
    if (node->name != nm) node->name = nm;
  }
  guard.n_inputs = n;
  node->inputs.resize(n);
  en.ins.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Input& in = inputs[i];
    if (op.is_ref_input((int)i)) {
      if (!in.var)
        throw type_error("Input " + std::to_string(i) + " of " + op.name + " must be a variable to update [Op:" +
                         op.name + "]");
      node->inputs[i] = in.var->handle()->out(0);
      en.ins[i] = Tensor();
    } else {
      if (!in.value) throw type_error("Input " + std::to_string(i) + " of " + op.name + " is a variable, not a value");
      node->inputs[i] = en.input_node(i, *in.value)->out(0);
      en.ins[i] = *in.value;
    }
  }
  node->out_dtypes.clear();
  node->out_shapes.clear();
  InferCtx ictx{*node};
  try {
    check_op_rules(ictx);  // Note [op type rules]
    if (op.shape) op.shape(ictx);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::ValueError && e.code() != ErrorCode::TypeError) throw;
    throw invalid_argument(std::string(e.what()) + " [Op:" + op.name + "]");
  }
  if (!op.cpu && !op.cpu_async)
    throw Error(ErrorCode::Unimplemented, "no CPU kernel registered for op type '" + op.name + "'");
  en.outs.assign(node->num_outputs(), Tensor());
  KernelCtx kctx{*node, en.ins, en.outs, resources(), thread_cap()};
  try {
    if (op.cpu) op.cpu(kctx);
    else run_async_kernel(op.cpu_async, kctx);  // a collective: waits here for the other ranks
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::ResourceExhausted, "out of memory [Op:" + op.name + "]");
  } catch (const std::exception& e) {
    throw Error(ErrorCode::Internal, std::string(e.what()) + " [Op:" + op.name + "]");
  }
  std::vector<EagerTensor>& result = *out;
  result.clear();
  for (size_t i = 0; i < en.outs.size(); ++i) {
    if (!en.outs[i].valid())
      throw Error(ErrorCode::Internal, "kernel produced no output " + std::to_string(i) + " [Op:" + op.name + "]");
    result.emplace_back(std::move(en.outs[i]));
  }
  if (!t_tapes.empty() && op.ref_inputs.empty() && !op.not_differentiable) record(op, node->attrs, inputs, n, result);
}

// ---- tapes ----

void Tape::watch_variable(Variable* v) {
  watched_.insert(v->id());
  if (watched_var_set_.insert(v->id()).second) watched_vars_.push_back(v->id());
}

bool Tape::should_record(const std::vector<int64_t>& ids) const {
  for (int64_t id : ids)
    if (watched_.count(id)) return true;
  return false;
}

void Tape::maybe_record(TapeEntry&& e) {
  if (!should_record(e.input_ids)) return;
  for (size_t i = 0; i < e.output_ids.size(); ++i)
    if (is_any_float(e.outputs[i].dtype())) watched_.insert(e.output_ids[i]);
  entries_.push_back(std::move(e));
}

void push_tape(const std::shared_ptr<Tape>& t) { t_tapes.push_back(t); }

void pop_tape(const Tape* t) {
  for (size_t i = t_tapes.size(); i-- > 0;)
    if (t_tapes[i].get() == t) {
      t_tapes.erase(t_tapes.begin() + i);
      return;
    }
}

bool any_tape() { return !t_tapes.empty(); }

bool is_watched(int64_t id) {
  for (auto& t : t_tapes)
    if (t->watching(id)) return true;
  return false;
}

void record_custom(const std::vector<EagerTensor>& inputs, const std::vector<EagerTensor>& outputs,
                   BackwardFn backward) {
  std::vector<int64_t> ids;
  for (auto& in : inputs) ids.push_back(in.id);
  for (auto& tape : t_tapes) {
    if (!tape->should_record(ids)) continue;
    TapeEntry e;
    e.input_ids = ids;
    for (auto& in : inputs) e.inputs.push_back(in.value);
    for (auto& o : outputs) {
      e.outputs.push_back(o.value);
      e.output_ids.push_back(o.id);
    }
    e.backward = backward;
    tape->maybe_record(std::move(e));
  }
}

// ---- the builder that executes on demand (Note [tapes], Note [demand-driven replay]) ----

// Note [demand-driven replay]
// A gradient rule returns the gradients of all of an op's inputs, but the tape needs only those that lead
// to a source: the MatMul of a first layer has no use for the gradient of the data. Graph mode never runs
// such nodes, because the plan prunes them; eagerly, the builder gives the same economy by building lazily:
// op() runs the shape function only (so rules still see dtypes and shapes), and a node executes when its
// value is needed, i.e. when the driver asks for a gradient it keeps. Executed nodes are recorded by the
// tapes still recording, exactly as any eager op.

namespace {

// A node of the replay: once evaluated, the values of its outputs with their ids. Every Output a gradient
// rule handles during a replay points at one of these.
struct ValueNode : Node {
  std::vector<Tensor> values;
  std::vector<int64_t> ids;
  bool evaluated = false;
};

class EagerBuilder : public Builder {
 public:
  std::vector<Output> op(const std::string& type, std::vector<Output> inputs, AttrMap attrs) override {
    const OpDef& d = op_def(type);
    ValueNode* n = make(d, std::move(attrs));
    n->inputs = std::move(inputs);
    if (d.num_inputs >= 0 && (int)n->inputs.size() != d.num_inputs)
      throw value_error("op " + d.name + " takes " + std::to_string(d.num_inputs) + " inputs, got " +
                        std::to_string(n->inputs.size()));
    InferCtx ctx{*n};
    check_op_rules(ctx);  // Note [op type rules]
    if (d.shape) d.shape(ctx);
    std::vector<Output> r;
    for (int i = 0; i < n->num_outputs(); ++i) r.push_back(n->out(i));
    return r;
  }

  // A known value (an op's input during replay, a seed): a Const node, as rules expect of constants.
  Output leaf(const Tensor& t, int64_t id) {
    AttrMap a;
    a["value"] = t;
    a["dtype"] = t.dtype();
    ValueNode* n = make(const_def(), std::move(a));
    n->evaluated = true;
    return add(n, t, id);
  }

  // The forward node of a tape entry: its op and attrs, leaves for its inputs, its recorded outputs.
  Node* forward(const TapeEntry& e) {
    std::vector<Output> ins;
    for (size_t i = 0; i < e.inputs.size(); ++i) ins.push_back(leaf(e.inputs[i], e.input_ids[i]));
    ValueNode* n = make(*e.op, e.attrs);
    n->inputs = std::move(ins);
    n->evaluated = true;
    for (size_t i = 0; i < e.outputs.size(); ++i) add(n, e.outputs[i], e.output_ids[i]);
    return n;
  }

  // Executes what `o` needs (inputs first, iteratively), then returns its value.
  const Tensor& value(const Output& o) {
    auto* root = static_cast<ValueNode*>(o.node);
    std::vector<ValueNode*> stack{root};
    while (!stack.empty()) {
      ValueNode* n = stack.back();
      if (n->evaluated) {
        stack.pop_back();
        continue;
      }
      bool ready = true;
      for (const Output& in : n->inputs) {
        auto* v = static_cast<ValueNode*>(in.node);
        if (!v->evaluated) {
          stack.push_back(v);
          ready = false;
        }
      }
      if (!ready) continue;
      std::vector<Input> ins;
      ins.reserve(n->inputs.size());
      for (const Output& in : n->inputs) {
        auto* v = static_cast<ValueNode*>(in.node);
        ins.push_back(Input{&v->values[in.index], v->ids[in.index], nullptr});
      }
      std::vector<EagerTensor> outs;
      execute_into(*n->op, n->attrs, ins.data(), ins.size(), "", &outs);
      for (auto& t : outs) {
        n->values.push_back(std::move(t.value));
        n->ids.push_back(t.id);
      }
      n->evaluated = true;
      stack.pop_back();
    }
    return root->values[o.index];
  }
  int64_t id(const Output& o) {
    value(o);
    return static_cast<ValueNode*>(o.node)->ids[o.index];
  }

 private:
  ValueNode* make(const OpDef& d, AttrMap attrs) {
    auto n = std::make_unique<ValueNode>();
    n->op = &d;
    n->name = d.name;
    n->attrs = std::move(attrs);
    nodes_.push_back(std::move(n));
    return nodes_.back().get();
  }
  static Output add(ValueNode* n, Tensor t, int64_t id) {
    n->out_dtypes.push_back(t.dtype());
    n->out_shapes.push_back(PartialShape(t.dims()));
    n->values.push_back(std::move(t));
    n->ids.push_back(id);
    return Output{n, (int)n->values.size() - 1};
  }
  std::vector<std::unique_ptr<ValueNode>> nodes_;
};

Tensor filled(DType dt, const Dims& dims, double v) {
  Tensor t(dt, dims);
  dispatch<kNumeric>(dt, "gradient seed", [&](auto z) {
    using T = decltype(z);
    T* p = t.data<T>();
    for (int64_t i = 0, n = t.size(); i < n; ++i) p[i] = static_cast<T>(v);
  });
  return t;
}

}  // namespace

std::vector<EagerTensor> Tape::gradient(const std::vector<EagerTensor>& targets, const std::vector<int64_t>& sources,
                                        const std::vector<std::pair<DType, Dims>>& source_types,
                                        const std::vector<EagerTensor>& output_gradients, bool unconnected_zero) {
  used_ = true;
  // Entries recorded while this runs (a persistent tape computing inside its own context) are not replayed.
  const size_t n = entries_.size();
  // Only what this tape watched can have a gradient: an unwatched tensor is a constant to it, even if a
  // recorded op read it (TensorFlow answers None).
  std::unordered_set<int64_t> from_src;
  for (int64_t s : sources)
    if (watched_.count(s)) from_src.insert(s);
  std::vector<char> useful(n, 0);
  for (size_t k = 0; k < n; ++k) {
    const TapeEntry& e = entries_[k];
    for (int64_t id : e.input_ids)
      if (from_src.count(id)) useful[k] = 1;
    if (useful[k])
      for (int64_t id : e.output_ids) from_src.insert(id);
  }

  EagerBuilder b;
  std::unordered_map<int64_t, std::vector<Output>> pending;
  for (size_t i = 0; i < targets.size(); ++i) {
    const EagerTensor& t = targets[i];
    if (!from_src.count(t.id) || !is_any_float(t.value.dtype())) continue;
    Output seed = i < output_gradients.size() && output_gradients[i].value.valid()
                      ? b.leaf(output_gradients[i].value, output_gradients[i].id)
                      : b.leaf(filled(t.value.dtype(), t.value.dims(), 1.0), new_tensor_id());
    pending[t.id].push_back(seed);
  }
  auto sum_of = [&](int64_t id) -> Output {
    auto it = pending.find(id);
    if (it == pending.end() || it->second.empty()) return Output{};
    auto& v = it->second;
    if (v.size() > 1) v = {b.op1("AddN", v)};
    b.value(v[0]);
    return v[0];
  };

  for (size_t k = n; k-- > 0;) {
    if (!useful[k]) continue;
    const TapeEntry& e = entries_[k];
    std::vector<Output> out_grads(e.outputs.size());
    bool any = false;
    for (size_t j = 0; j < e.outputs.size(); ++j) {
      out_grads[j] = sum_of(e.output_ids[j]);
      any |= out_grads[j].valid();
    }
    if (!any) continue;
    std::vector<Output> in_grads;
    if (e.backward) {
      std::vector<EagerTensor> og(e.outputs.size());
      for (size_t j = 0; j < e.outputs.size(); ++j) {
        if (out_grads[j].valid()) og[j] = EagerTensor(b.value(out_grads[j]), b.id(out_grads[j]));
        else if (is_any_float(e.outputs[j].dtype())) og[j] = EagerTensor(filled(e.outputs[j].dtype(), e.outputs[j].dims(), 0));
      }
      std::vector<EagerTensor> ig = e.backward(og);
      for (auto& g : ig) in_grads.push_back(g.value.valid() ? b.leaf(g.value, g.id) : Output{});
    } else {
      Node* fwd = b.forward(e);
      for (size_t j = 0; j < e.outputs.size(); ++j)
        if (!out_grads[j].valid() && is_any_float(e.outputs[j].dtype()))
          out_grads[j] = b.op1("ZerosLike", {fwd->out((int)j)});
      if (!e.op->grad)
        throw Error(ErrorCode::LookupError, "No gradient defined for operation '" + e.op->name + "' (op type: " +
                                                e.op->name + ")");
      GradCtx ctx{b, *fwd, out_grads};
      in_grads = e.op->grad(ctx);
    }
    if (in_grads.size() != e.inputs.size())
      throw Error(e.backward ? ErrorCode::ValueError : ErrorCode::Internal,
                  "Num gradients " + std::to_string(in_grads.size()) + " generated for op " +
                      (e.op ? e.op->name : std::string("custom_gradient")) + " do not match num inputs " +
                      std::to_string(e.inputs.size()));
    for (size_t i = 0; i < in_grads.size(); ++i) {
      Output gx = in_grads[i];
      const int64_t id = e.input_ids[i];
      if (!gx.valid() || !from_src.count(id) || !is_any_float(e.inputs[i].dtype())) continue;
      if (!(gx.shape() == PartialShape(e.inputs[i].dims())))
        gx = b.op1("SumToShape", {gx, b.leaf(e.inputs[i], id)});
      b.value(gx);
      pending[id].push_back(gx);
    }
  }

  std::vector<EagerTensor> result;
  for (size_t i = 0; i < sources.size(); ++i) {
    Output g = sum_of(sources[i]);
    if (g.valid()) result.emplace_back(b.value(g), b.id(g));
    else if (unconnected_zero && in_set(source_types[i].first, kNumeric))
      result.emplace_back(filled(source_types[i].first, source_types[i].second, 0));
    else result.emplace_back();
  }
  return result;
}

void Tape::release() {
  entries_.clear();
  entries_.shrink_to_fit();
  watched_.clear();
}

}  // namespace eager
}  // namespace tideflow
