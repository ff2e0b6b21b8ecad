#pragma once
// What the C API's opaque handles are, shared by c_api.cc (status, tensors, graphs, sessions),
// c_api_model.cc (variables, collections, meta graphs, savers, event files) and c_api_train.cc
// (optimizers). Nothing here is installed: users see only include/tideflow/c_api.h.
#include <deque>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph.h"
#include "io/json.h"
#include "session.h"
#include "tideflow/c_api.h"

struct TFL_Status {
  TFL_Code code = TFL_OK;
  std::string msg;
};

struct TFL_Tensor {
  tideflow::Tensor t;
};

// Note [graph handles]
// A TFL_Graph is the Graph itself (TFL_Operation* is a Node*, whose `graph` leads back to it) plus what
// Python's tf.Graph keeps beside the C++ nodes: the open name scopes, control dependencies and devices,
// the variables and collections, the graph seed and an imported saver. It is owned by shared pointers:
// `self` is the user's reference (dropped by TFL_DeleteGraph), sessions and savers hold their own, so a
// graph outlives its handle while anything still runs it.
struct TFL_Graph : tideflow::Graph {
  struct Variable {
    tideflow::Node* var = nullptr;
    tideflow::Node* initializer = nullptr;
    tideflow::Output snapshot, initial_value;
    bool trainable = true;
  };
  // A collection element: a variable, a tensor ("x:0") or an operation by name, or a value Python
  // stored (kept as its JSON encoding so that an exported meta graph gives it back).
  struct Item {
    enum Kind { kVariable, kTensor, kOp, kValue } kind = kOp;
    std::string name;  // the variable's node, the tensor or the operation
    tideflow::json::Value value;
  };
  struct ControlScope {
    bool clear = false;  // tf.control_dependencies(None)
    std::vector<tideflow::Node*> ops;
  };

  std::shared_ptr<TFL_Graph> self;
  std::weak_ptr<TFL_Graph> weak;

  std::string name_stack;                  // the open scope without its "/" ("" at the root)
  struct OpenScope {
    std::string saved;     // the name stack to restore when it closes
    std::string returned;  // "layer_1/", handed to the caller
  };
  std::deque<OpenScope> open_scopes;  // a deque: returned strings stay put while others open
  std::vector<ControlScope> control_stack;
  std::vector<std::string> device_stack;

  // Note [variables and collections]
  // As in Python, the global variables are the "variables" collection and the trainable ones the
  // "trainable_variables" collection; `variable_info` holds what tf.Variable keeps for each (its
  // initializer, snapshot, initial value), keyed by its VariableV2 node.
  std::vector<Variable> variable_info;
  std::unordered_map<const tideflow::Node*, size_t> variable_index;  // VariableV2 node -> variable_info
  std::map<std::string, std::vector<Item>> collections;
  bool has_seed = false;
  int64_t seed = 0, seed_offset = 0;
  // The saver of an imported meta graph: checkpoint name -> variable node name.
  bool has_saver = false;
  std::vector<std::pair<std::string, std::string>> saver_vars;
  int saver_max_to_keep = 5;
  mutable std::vector<std::string> scratch;  // strings returned by collection queries

  std::shared_ptr<TFL_Graph> ref() const { return weak.lock(); }
  const Variable* find_variable(const tideflow::Node* n) const;
  void add_variable_info(const Variable& v);
};

struct TFL_Session {
  std::shared_ptr<tideflow::Session> s;
  std::shared_ptr<TFL_Graph> g;
};

namespace tideflow {
namespace capi {

inline Node* node(const TFL_Operation* op) { return reinterpret_cast<Node*>(const_cast<TFL_Operation*>(op)); }
inline TFL_Operation* oper(const Node* n) { return reinterpret_cast<TFL_Operation*>(const_cast<Node*>(n)); }
inline Output out(const TFL_Output& o) { return Output{node(o.oper), o.index}; }
inline TFL_Output tfl(const Output& o) { return TFL_Output{oper(o.node), o.index}; }
inline TFL_Graph* graph_of(const Node* n) { return static_cast<TFL_Graph*>(n->graph); }

// The C API's entry discipline: status set to OK, every exception turned into a code and a message,
// `fallback` returned on failure. Nothing propagates into C.
void set_status(TFL_Status* s, ErrorCode code, const std::string& msg);
void set_error_from_current_exception(TFL_Status* s);
template <class R, class F>
R guarded(TFL_Status* s, R fallback, F&& f) {
  static thread_local TFL_Status ignored;
  if (!s) s = &ignored;
  s->code = TFL_OK;
  s->msg.clear();
  try {
    return f();
  } catch (...) {
    set_error_from_current_exception(s);
    return fallback;
  }
}

// Argument checks that name the C function, for NULL handles and out-of-range values.
inline void require(bool ok, const char* fn, const char* what) {
  if (!ok) throw invalid_argument(std::string(fn) + ": " + what);
}
DType dtype_from_c(int dt, const char* fn);
TFL_DataType dtype_to_c(DType dt);
Output checked_output(const TFL_Output& o, const char* fn, const char* what);
Node* checked_op(const TFL_Operation* op, const char* fn, const char* what);

// Graph.create_op with the graph's open scopes: `name` (empty: the op type) uniquified under the name
// scope (taken as is when it ends in "/"), the open control dependencies and device applied.
Node* create_op(TFL_Graph& g, const std::string& type, const std::string& name, std::vector<Output> inputs,
                AttrMap attrs = {}, std::vector<Node*> control = {}, const std::string& location = "");
std::string unique_name(TFL_Graph& g, const std::string& name);
Output constant(TFL_Graph& g, const Tensor& value, const std::string& name);

// tf.name_scope / tf.control_dependencies(None) for the library's own graph building.
class NameScope {
 public:
  NameScope(TFL_Graph& g, const std::string& name);  // returns through scope()
  ~NameScope();
  const std::string& scope() const { return scope_; }  // "Adam/"

 private:
  TFL_Graph& g_;
  std::string saved_, scope_;
};
class ClearControlDependencies {
 public:
  explicit ClearControlDependencies(TFL_Graph& g) : g_(g) { g_.control_stack.push_back({true, {}}); }
  ~ClearControlDependencies() { g_.control_stack.pop_back(); }

 private:
  TFL_Graph& g_;
};

// tf.Variable (c_api_model.cc): the nodes under `scope` ("w/"), recorded as a global variable.
TFL_Graph::Variable add_variable(TFL_Graph& g, const std::string& scope, const Output& initial_value, bool trainable,
                                 const std::vector<std::string>& collections, const std::string& location = "");
// The variables of a collection ("variables", "trainable_variables"), in order.
std::vector<TFL_Graph::Variable> collection_variables(const TFL_Graph& g, const std::string& key);
// The graph's saver description for an exported meta graph: checkpoint name -> variable node.
std::vector<std::pair<std::string, const Node*>> default_saver_vars(const TFL_Graph& g);
void export_meta_graph(const TFL_Graph& g, const std::string& path,
                       const std::vector<std::pair<std::string, const Node*>>& saver_vars, int max_to_keep);

}  // namespace capi
}  // namespace tideflow
