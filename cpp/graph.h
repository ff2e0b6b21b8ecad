#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "attr.h"

namespace tideflow {

struct OpDef;
struct Node;
class Graph;

// One output of a node: what flows along an edge. `node == nullptr` means "no tensor" (a None gradient).
struct TF_API Output {
  Node* node = nullptr;
  int index = 0;
  bool valid() const { return node != nullptr; }
  DType dtype() const;
  const PartialShape& shape() const;
  bool operator==(const Output& o) const { return node == o.node && index == o.index; }
};

struct TF_API Node {
  int id = 0;
  int frame = -1;  // Note [frames]: the control-flow frame the node belongs to; -1 is the top level
  std::string name;
  const OpDef* op = nullptr;
  Graph* graph = nullptr;
  std::vector<Output> inputs;
  std::vector<Node*> control_inputs;
  AttrMap attrs;
  std::vector<DType> out_dtypes;
  std::vector<PartialShape> out_shapes;
  std::string device;
  std::string location;  // the user's file:line that created the node, for error messages

  const std::string& type() const;
  int num_outputs() const { return (int)out_dtypes.size(); }
  Output out(int i = 0) { return Output{this, i}; }
  // "'scope/name' (Type), created at file.py:12"
  std::string describe() const;
};

// Note [frames]
// A cond branch, a while loop (its cond and body) and their gradients keep their nodes in the main graph
// under TF1's names (`cond/add`, `while/mul`), each node tagged with the frame it was built in. Frames nest.
// A frame is run by its owner, an If/While node of the enclosing frame, as a sub-plan fed with the values
// the frame lists; a node reads values of its own frame and of enclosing ones only (add_node checks this,
// except while gradients are built: a gradient frame reads the forward frame's values, which its owner
// feeds from saved copies). What each field means for each owner: Note [control flow] in
// ops/control_flow.cc.
struct TF_API Frame {
  int id = 0;
  int parent = -1;
  std::string kind;                // "cond", "while", "cond_grad", "while_grad": for messages
  std::vector<Node*> nodes;        // members, in creation order
  std::vector<Node*> args;         // fed per run: a loop's variables, a gradient frame's incoming gradients
  std::vector<Node*> cond_args;    // fed per run: a while loop's condition's view of its variables
  std::vector<Node*> slice_args;   // fed per run: one row of each sliced input (map_fn, scan)
  std::vector<Output> outputs;     // what one run returns
  std::vector<Output> stacked;     // values stacked across a loop's iterations (map_fn, scan)
  Output pred;                     // a while loop's condition
  std::vector<std::pair<Output, int>> aliases;  // other frames' values fed from an owner input / saved entry
  std::vector<Output> saved;       // values recorded for gradients
  std::vector<int> saved_outputs;  // If: the owner's output that carries saved[i]
};

// The dataflow graph. Nodes are never removed, so Node* stays valid for the graph's life. Adding a node
// runs the op's shape function at once: shape and dtype errors surface at the line that built the node.
class TF_API Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;

  Node* add_node(const std::string& type, const std::string& name, std::vector<Output> inputs, AttrMap attrs,
                 std::vector<Node*> control_inputs = {}, std::string location = "", std::string device = "");
  // TensorFlow's name uniquifier: "x", "x_1", "x_2" (case-insensitive, as TF does).
  std::string unique_name(const std::string& name, bool mark_as_used = true);
  bool name_in_use(const std::string& name) const;

  Node* node(int id) const { return nodes_.at(id).get(); }
  Node* find(const std::string& name) const;
  int num_nodes() const { return (int)nodes_.size(); }
  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }

  void finalize() { finalized_ = true; }
  bool finalized() const { return finalized_; }
  std::mutex& mutex() const { return mu_; }
  int version() const { return (int)nodes_.size(); }
  // Adds a control edge to an existing node (from another node of this graph) and bumps edge_version.
  void add_control_input(Node* n, Node* c);
  // Bumped whenever an existing node's edges change (not when nodes are added), so a Session knows its
  // cached plans may be stale (Note [plan cache] in session.h).
  uint64_t edge_version() const { return edge_version_.load(std::memory_order_acquire); }
  void bump_edge_version() { edge_version_.fetch_add(1, std::memory_order_acq_rel); }
  // Appends an output to an existing node (an If's saved values, Note [cond gradients]) and bumps
  // edge_version; returns its index.
  int append_output(Node* n, DType dt, PartialShape s);

  // Note [frames]. New nodes join the current frame; a new frame is a child of the current one.
  int new_frame(const std::string& kind);
  Frame& frame(int id) const { return *frames_.at(id); }
  int num_frames() const { return (int)frames_.size(); }
  int current_frame() const { return current_frame_; }
  void set_current_frame(int id);
  bool frame_within(int inner, int outer) const;  // inner is outer or nested in it (-1: the top level)
  // While positive, add_node lets nodes read values of frames that do not enclose them (gradient frames).
  void allow_foreign_reads(int delta) { foreign_reads_ += delta; }

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unordered_map<std::string, Node*> by_name_;
  std::unordered_map<std::string, int> names_in_use_;
  bool finalized_ = false;
  std::atomic<uint64_t> edge_version_{0};
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Frame>> frames_;
  int loop_of(int f) const;
  void check_frame_read(const Node* src, const std::string& reader) const;
  int current_frame_ = -1;
  int foreign_reads_ = 0;
};

// Gradient rules and composite ops emit nodes through a Builder. In graph mode it adds nodes to a graph
// under a name scope; an eager builder (later) executes them at once. See Note [gradient rules].
class TF_API Builder {
 public:
  virtual ~Builder() = default;
  virtual std::vector<Output> op(const std::string& type, std::vector<Output> inputs, AttrMap attrs = {}) = 0;
  Output op1(const std::string& type, std::vector<Output> inputs, AttrMap attrs = {}) {
    return op(type, std::move(inputs), std::move(attrs))[0];
  }
  Output scalar(double v, DType dt);           // a Const
  Output ints(const std::vector<int64_t>& v);  // an int32 vector Const
  Output constant(const Tensor& t);
};

class TF_API GraphBuilder : public Builder {
 public:
  GraphBuilder(Graph& g, std::string scope, std::string location = "")
      : g_(g), scope_(std::move(scope)), location_(std::move(location)) {}
  std::vector<Output> op(const std::string& type, std::vector<Output> inputs, AttrMap attrs = {}) override;
  void set_scope(std::string s) { scope_ = std::move(s); }
  const std::string& scope() const { return scope_; }
  const std::string& location() const { return location_; }
  Graph& graph() { return g_; }

 private:
  Graph& g_;
  std::string scope_;  // "gradients/mul_grad/"
  std::string location_;
};

}  // namespace tideflow
