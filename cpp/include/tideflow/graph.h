// tideflow's C++ API, part 2: graphs, operations and their outputs, building any registered op, name
// scopes, variables, gradients.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tideflow/core.h"

#if defined(__GNUC__) || defined(__clang__)
#define TIDEFLOW_CALLER_FILE __builtin_FILE()
#define TIDEFLOW_CALLER_LINE __builtin_LINE()
#else
#define TIDEFLOW_CALLER_FILE ""
#define TIDEFLOW_CALLER_LINE 0
#endif

namespace tideflow {
inline namespace v1 {

class Graph;
class Operation;

// An op's name (empty: the op type, uniquified as TensorFlow does: "x", "x_1") and where the calling code
// is: every op-building function takes a Name last, so the nodes it builds remember the caller's
// file:line and error messages name it, as tideflow's Python API does.
class Name {
 public:
  Name(const char* name = "", const char* file = TIDEFLOW_CALLER_FILE, int line = TIDEFLOW_CALLER_LINE)  // NOLINT
      : name_(name ? name : ""), file_(file), line_(line) {}
  Name(const std::string& name, const char* file = TIDEFLOW_CALLER_FILE, int line = TIDEFLOW_CALLER_LINE)  // NOLINT
      : name_(name), file_(file), line_(line) {}
  const std::string& str() const { return name_; }
  bool empty() const { return name_.empty(); }
  std::string location() const { return file_ && *file_ ? std::string(file_) + ":" + std::to_string(line_) : ""; }
  // The same location with another name (for the nodes a helper builds besides its result).
  Name with(const std::string& name) const { return Name(name, file_, line_); }
  const std::string& or_default(const std::string& dflt) const { return name_.empty() ? dflt : name_; }

 private:
  std::string name_;
  const char* file_;
  int line_;
};

// A node of a graph. Owned by the graph: valid as long as the graph lives.
class Operation {
 public:
  Operation() = default;
  explicit Operation(TFL_Operation* op) : op_(op) {}
  bool valid() const { return op_ != nullptr; }
  explicit operator bool() const { return valid(); }
  std::string name() const { return TFL_OperationName(op_); }
  std::string type() const { return TFL_OperationOpType(op_); }
  std::string device() const { return TFL_OperationDevice(op_); }
  int num_inputs() const { return TFL_OperationNumInputs(op_); }
  int num_outputs() const { return TFL_OperationNumOutputs(op_); }
  inline class Output input(int i) const;
  inline class Output output(int i = 0) const;
  std::vector<Operation> control_inputs() const {
    std::vector<Operation> v;
    for (int i = 0; i < TFL_OperationNumControlInputs(op_); ++i) v.emplace_back(TFL_OperationControlInput(op_, i));
    return v;
  }
  TFL_Operation* c() const { return op_; }
  TFL_Graph* graph() const { return TFL_OperationGraph(op_); }
  bool operator==(const Operation& o) const { return op_ == o.op_; }
  bool operator!=(const Operation& o) const { return op_ != o.op_; }

 private:
  TFL_Operation* op_ = nullptr;
};

// One output of an operation: what flows along an edge (a symbolic tensor; its value comes from
// Session::run). An empty Output stands for "no tensor" (a gradient that is None).
class Output {
 public:
  Output() = default;
  Output(TFL_Output o) : o_(o) {}  // NOLINT: implicit on purpose
  explicit Output(Operation op, int index = 0) : o_{op.c(), index} {}
  bool valid() const { return o_.oper != nullptr; }
  explicit operator bool() const { return valid(); }
  Operation op() const { return Operation(o_.oper); }
  int index() const { return o_.index; }
  std::string name() const { return op().name() + ":" + std::to_string(o_.index); }
  DType dtype() const { return static_cast<DType>(TFL_OutputType(o_)); }
  // The static shape: rank() is -1 when unknown; shape() has -1 for unknown dims (empty for unknown rank).
  int rank() const { return TFL_OutputNumDims(o_); }
  Shape shape() const {
    int r = rank();
    Shape s(r > 0 ? r : 0);
    if (r > 0) TFL_OutputDims(o_, s.data(), r);
    return s;
  }
  TFL_Output c() const { return o_; }
  TFL_Graph* graph() const { return o_.oper ? TFL_OperationGraph(o_.oper) : nullptr; }
  bool operator==(const Output& o) const { return o_.oper == o.o_.oper && o_.index == o.o_.index; }

 private:
  TFL_Output o_{nullptr, 0};
};

inline Output Operation::input(int i) const { return Output(TFL_OperationInput(op_, i)); }
inline Output Operation::output(int i) const { return Output(TFL_Output{op_, i}); }

// Builds an operation of any registered type:
//   Operation op = OpBuilder(g, "MatMul").input(a).input(b).attr("transpose_b", true).finish();
// Shape and dtype errors surface in finish(), as ValueError / TypeError naming the node.
class OpBuilder {
 public:
  OpBuilder(TFL_Graph* g, const std::string& type, const Name& name = Name())
      : d_(TFL_NewOperation(g, type.c_str(), name.empty() ? nullptr : name.str().c_str())) {
    if (!d_) throw ResourceExhaustedError("out of memory building an operation");
    std::string loc = name.location();
    if (!loc.empty()) TFL_SetLocation(d_, loc.c_str());
  }
  inline OpBuilder(Graph& g, const std::string& type, const Name& name = Name());
  OpBuilder(const OpBuilder&) = delete;
  OpBuilder& operator=(const OpBuilder&) = delete;
  ~OpBuilder() { TFL_DeleteOperationDescription(d_); }

  OpBuilder& input(const Output& x) { return TFL_AddInput(d_, x.c()), *this; }
  OpBuilder& inputs(const std::vector<Output>& xs) {
    for (const Output& x : xs) input(x);
    return *this;
  }
  OpBuilder& control_input(const Operation& op) { return TFL_AddControlInput(d_, op.c()), *this; }
  OpBuilder& device(const std::string& dev) { return TFL_SetDevice(d_, dev.c_str()), *this; }
  OpBuilder& attr(const std::string& k, bool v) { return TFL_SetAttrBool(d_, k.c_str(), v), *this; }
  OpBuilder& attr(const std::string& k, int v) { return TFL_SetAttrInt(d_, k.c_str(), v), *this; }
  OpBuilder& attr(const std::string& k, int64_t v) { return TFL_SetAttrInt(d_, k.c_str(), v), *this; }
  OpBuilder& attr(const std::string& k, double v) { return TFL_SetAttrFloat(d_, k.c_str(), v), *this; }
  OpBuilder& attr(const std::string& k, float v) { return TFL_SetAttrFloat(d_, k.c_str(), v), *this; }
  OpBuilder& attr(const std::string& k, const char* v) { return attr(k, std::string(v)); }
  OpBuilder& attr(const std::string& k, const std::string& v) {
    return TFL_SetAttrString(d_, k.c_str(), v.data(), v.size()), *this;
  }
  OpBuilder& attr(const std::string& k, DType v) {
    return TFL_SetAttrType(d_, k.c_str(), static_cast<TFL_DataType>(v)), *this;
  }
  // A shape attribute (a placeholder's "shape"); a plain vector of ints is an int list.
  OpBuilder& attr(const std::string& k, const PartialShape& v) {
    return TFL_SetAttrShape(d_, k.c_str(), v.dims.data(), v.known_rank ? static_cast<int>(v.dims.size()) : -1), *this;
  }
  OpBuilder& attr(const std::string& k, const std::vector<int64_t>& v) {
    return TFL_SetAttrIntList(d_, k.c_str(), v.data(), static_cast<int>(v.size())), *this;
  }
  OpBuilder& attr(const std::string& k, const std::vector<double>& v) {
    return TFL_SetAttrFloatList(d_, k.c_str(), v.data(), static_cast<int>(v.size())), *this;
  }
  OpBuilder& attr(const std::string& k, const std::vector<std::string>& v) {
    std::vector<const void*> p;
    std::vector<size_t> n;
    for (const std::string& s : v) p.push_back(s.data()), n.push_back(s.size());
    return TFL_SetAttrStringList(d_, k.c_str(), p.data(), n.data(), static_cast<int>(v.size())), *this;
  }
  OpBuilder& attr(const std::string& k, const std::vector<DType>& v) {
    std::vector<TFL_DataType> t;
    for (DType d : v) t.push_back(static_cast<TFL_DataType>(d));
    return TFL_SetAttrTypeList(d_, k.c_str(), t.data(), static_cast<int>(t.size())), *this;
  }
  OpBuilder& attr(const std::string& k, const Tensor& v) { return TFL_SetAttrTensor(d_, k.c_str(), v.c()), *this; }

  Operation finish() {
    TFL_OperationDescription* d = std::exchange(d_, nullptr);
    return Operation(detail::call(TFL_FinishOperation, d));
  }
  Output finish1() { return finish().output(0); }

 private:
  TFL_OperationDescription* d_;
};

// tf.Variable: a VariableV2 node `name`, its initializer `name/Assign` and its snapshot `name/read`. As an
// Output (implicitly) it is the variable itself, read when its consumer runs; gradients with respect to
// it are what optimizers apply.
class Variable {
 public:
  Variable() = default;
  explicit Variable(const TFL_Variable& v) : v_(v) {}
  // From a value: the constant `name/initial_value`.
  inline Variable(Graph& g, const Tensor& initial_value, const Name& name = Name(), bool trainable = true);
  // From an existing tensor of the graph.
  inline Variable(Graph& g, const Output& initial_value, const Name& name = Name(), bool trainable = true);
  // From a function building the initial value under the variable's name scope ("w/random_normal").
  inline Variable(Graph& g, const std::function<Output(Graph&)>& initial_value, const Name& name = Name(),
                  bool trainable = true);

  bool valid() const { return v_.variable != nullptr; }
  Operation op() const { return Operation(v_.variable); }
  std::string name() const { return op().name(); }
  Output ref() const { return Output(TFL_Output{v_.variable, 0}); }
  operator Output() const { return ref(); }  // NOLINT: implicit on purpose
  Output value() const { return Output(v_.snapshot); }
  Operation initializer() const { return Operation(v_.initializer); }
  Output initial_value() const { return Output(v_.initial_value); }
  bool trainable() const { return v_.trainable != 0; }
  DType dtype() const { return ref().dtype(); }
  Shape shape() const { return ref().shape(); }
  const TFL_Variable& c() const { return v_; }
  bool operator==(const Variable& o) const { return v_.variable == o.v_.variable; }

 private:
  TFL_Variable v_{};
};

// Opened by Graph::name_scope / control_dependencies / device; closed when it goes out of scope.
class NameScope {
 public:
  NameScope(TFL_Graph* g, const std::string& name) : g_(g), scope_(detail::call(TFL_GraphPushNameScope, g, name.c_str())) {}
  NameScope(const NameScope&) = delete;
  NameScope& operator=(const NameScope&) = delete;
  ~NameScope() { TFL_GraphPopNameScope(g_); }
  const std::string& name() const { return scope_; }  // "layer_1/"

 private:
  TFL_Graph* g_;
  std::string scope_;
};

class ControlDependencies {
 public:
  // clear: tf.control_dependencies(None)
  ControlDependencies(TFL_Graph* g, const std::vector<Operation>& ops, bool clear = false) : g_(g) {
    std::vector<TFL_Operation*> v;
    for (const Operation& o : ops) v.push_back(o.c());
    // An empty list still opens a level (adding nothing), which the destructor closes; nullptr clears.
    static TFL_Operation* none = nullptr;
    TFL_GraphPushControlDependencies(g, clear ? nullptr : v.empty() ? &none : v.data(), clear ? 0 : static_cast<int>(v.size()));
  }
  ControlDependencies(const ControlDependencies&) = delete;
  ControlDependencies& operator=(const ControlDependencies&) = delete;
  ~ControlDependencies() { TFL_GraphPopControlDependencies(g_); }

 private:
  TFL_Graph* g_;
};

class DeviceScope {
 public:
  DeviceScope(TFL_Graph* g, const std::string& device) : g_(g) { TFL_GraphPushDevice(g, device.c_str()); }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;
  ~DeviceScope() { TFL_GraphPopDevice(g_); }

 private:
  TFL_Graph* g_;
};

// A dataflow graph (tf.Graph). Owns its operations; a Session keeps what it runs alive on its own.
class Graph {
 public:
  Graph() : g_(TFL_NewGraph()) {
    if (!g_) throw ResourceExhaustedError("out of memory creating a graph");
  }
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&& o) noexcept : g_(std::exchange(o.g_, nullptr)) {}
  Graph& operator=(Graph&& o) noexcept {
    std::swap(g_, o.g_);
    return *this;
  }
  ~Graph() { TFL_DeleteGraph(g_); }
  TFL_Graph* c() const { return g_; }

  // Lookup by name: NotFoundError when absent.
  Operation operation(const std::string& name) const {
    TFL_Operation* op = TFL_GraphOperationByName(g_, name.c_str());
    if (!op) throw NotFoundError("The name '" + name + "' refers to an Operation not in the graph.");
    return Operation(op);
  }
  bool has_operation(const std::string& name) const { return TFL_GraphOperationByName(g_, name.c_str()) != nullptr; }
  Output tensor(const std::string& name) const { return Output(detail::call(TFL_GraphTensorByName, g_, name.c_str())); }
  std::vector<Operation> operations() const {
    std::vector<Operation> v;
    for (int i = 0; i < TFL_GraphNumOperations(g_); ++i) v.emplace_back(TFL_GraphOperationAt(g_, i));
    return v;
  }
  int num_operations() const { return TFL_GraphNumOperations(g_); }

  // tf.name_scope, tf.control_dependencies, tf.device: `auto scope = g.name_scope("layer");`
  [[nodiscard]] NameScope name_scope(const std::string& name) { return NameScope(g_, name); }
  [[nodiscard]] ControlDependencies control_dependencies(const std::vector<Operation>& ops) {
    return ControlDependencies(g_, ops);
  }
  [[nodiscard]] ControlDependencies no_control_dependencies() { return ControlDependencies(g_, {}, true); }
  [[nodiscard]] DeviceScope device(const std::string& device) { return DeviceScope(g_, device); }
  std::string unique_name(const std::string& name) {
    return detail::read_string([&](char* b, size_t n) { return TFL_GraphUniqueName(g_, name.c_str(), b, n); });
  }
  void set_random_seed(int64_t seed) { TFL_GraphSetRandomSeed(g_, seed); }
  void finalize() { TFL_GraphFinalize(g_); }

  std::vector<Variable> global_variables() const {
    std::vector<Variable> v;
    TFL_Variable c;
    for (int i = 0; TFL_GraphVariableAt(g_, i, &c); ++i) v.emplace_back(c);
    return v;
  }
  std::vector<Variable> trainable_variables() const {
    std::vector<Variable> v;
    for (const std::string& n : collection("trainable_variables")) v.push_back(variable(n));
    return v;
  }
  // The variable whose node is `name`; NotFoundError when there is none.
  Variable variable(const std::string& name) const {
    TFL_Variable c;
    if (!TFL_GraphFindVariable(g_, operation(name).c(), &c))
      throw NotFoundError("'" + name + "' is not a variable of the graph");
    return Variable(c);
  }
  // Names of a collection's graph elements ("x:0" for tensors, node names for operations and variables).
  std::vector<std::string> collection(const std::string& key) const {
    std::vector<std::string> v;
    for (int i = 0; i < TFL_GraphCollectionSize(g_, key.c_str()); ++i)
      if (const char* s = TFL_GraphCollectionItem(g_, key.c_str(), i)) v.emplace_back(s);
    return v;
  }
  void add_to_collection(const std::string& key, const Output& t) {
    detail::call(TFL_GraphAddToCollection, g_, key.c_str(), t.name().c_str());
  }
  void add_to_collection(const std::string& key, const Operation& op) {
    detail::call(TFL_GraphAddToCollection, g_, key.c_str(), op.name().c_str());
  }
  // Meta graphs shared with Python (tf.train.export_meta_graph / import_meta_graph).
  void import_meta_graph(const std::string& path, const std::string& import_scope = "") {
    detail::call(TFL_ImportMetaGraph, g_, path.c_str(), import_scope.c_str());
  }
  void export_meta_graph(const std::string& path) const { detail::call(TFL_ExportMetaGraph, g_, path.c_str()); }

 private:
  TFL_Graph* g_;
};

inline OpBuilder::OpBuilder(Graph& g, const std::string& type, const Name& name) : OpBuilder(g.c(), type, name) {}

namespace detail {
inline TFL_Graph* graph_of(const Output& x, const char* what) {
  if (!x.valid()) throw ValueError(std::string(what) + ": an input is an empty Output (None)");
  return x.graph();
}
inline Output constant(TFL_Graph* g, const Tensor& value, const Name& name) {
  return OpBuilder(g, "Const", name).attr("value", value).attr("dtype", value.dtype()).finish1();
}
}  // namespace detail

inline Variable::Variable(Graph& g, const Tensor& initial_value, const Name& name, bool trainable)
    : Variable(g, std::function<Output(Graph&)>([&](Graph& gr) {
                 return detail::constant(gr.c(), initial_value, name.with("initial_value"));
               }),
               name, trainable) {}

inline Variable::Variable(Graph& g, const Output& initial_value, const Name& name, bool trainable) {
  std::string loc = name.location();
  v_ = detail::call(TFL_AddVariable, g.c(), name.empty() ? nullptr : name.str().c_str(), initial_value.c(),
                    static_cast<int>(trainable), loc.c_str());
}

inline Variable::Variable(Graph& g, const std::function<Output(Graph&)>& initial_value, const Name& name,
                          bool trainable) {
  std::string scope;
  Output init;
  {
    NameScope s(g.c(), name.or_default("Variable"));
    scope = s.name();
    init = initial_value(g);
  }
  std::string loc = name.location();
  v_ = detail::call(TFL_AddVariable, g.c(), scope.c_str(), init.c(), static_cast<int>(trainable), loc.c_str());
}

// tf.gradients: d(sum ys)/dx for each x, as graph nodes under "gradients/". An entry is an empty Output
// where ys do not depend on that x.
inline std::vector<Output> gradients(const std::vector<Output>& ys, const std::vector<Output>& xs,
                                     const std::vector<Output>& grad_ys = {}, const Name& name = Name()) {
  if (ys.empty()) throw ValueError("gradients: ys is empty");
  if (!grad_ys.empty() && grad_ys.size() != ys.size())
    throw ValueError("gradients: grad_ys must have one entry per y (" + std::to_string(ys.size()) + "), got " +
                     std::to_string(grad_ys.size()));
  std::vector<TFL_Output> y, x, gy, dx(xs.size());
  for (const Output& o : ys) y.push_back(o.c());
  for (const Output& o : xs) x.push_back(o.c());
  for (const Output& o : grad_ys) gy.push_back(o.c());
  detail::call(TFL_AddGradients, detail::graph_of(ys[0], "gradients"), y.data(), static_cast<int>(y.size()), x.data(),
               static_cast<int>(x.size()), gy.empty() ? nullptr : gy.data(), name.empty() ? nullptr : name.str().c_str(),
               dx.data());
  return std::vector<Output>(dx.begin(), dx.end());
}

// tf.global_variables_initializer: an op running every global variable's initializer.
inline Operation global_variables_initializer(Graph& g) {
  return Operation(detail::call(TFL_GlobalVariablesInitializer, g.c(), "init"));
}

}  // namespace v1
}  // namespace tideflow
