#include "graph.h"

#include <algorithm>
#include <cctype>

#include "op_registry.h"

namespace tideflow {

DType Output::dtype() const { return node->out_dtypes.at(index); }
const PartialShape& Output::shape() const { return node->out_shapes.at(index); }

const std::string& Node::type() const { return op->name; }

std::string Node::describe() const {
  std::string s = "'" + name + "' (" + op->name + ")";
  if (!location.empty()) s += ", created at " + location;
  return s;
}

static std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Graph::unique_name(const std::string& name, bool mark_as_used) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string key = lower(name);
  int i = names_in_use_.count(key) ? names_in_use_[key] : 0;
  if (mark_as_used) names_in_use_[key] = i + 1;
  if (i == 0) return name;
  std::string base = key, cand = key;
  while (names_in_use_.count(cand)) cand = base + "_" + std::to_string(i++);
  if (mark_as_used) names_in_use_[cand] = 1;
  return name + "_" + std::to_string(i - 1);
}

bool Graph::name_in_use(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  return names_in_use_.count(lower(name)) > 0;
}

Node* Graph::find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

Node* Graph::add_node(const std::string& type, const std::string& name, std::vector<Output> inputs, AttrMap attrs,
                      std::vector<Node*> control_inputs, std::string location, std::string device) {
  if (finalized_) throw Error(ErrorCode::ValueError, "Graph is finalized and cannot be modified (adding '" + name + "').");
  const OpDef& def = OpRegistry::global().get(type);
  auto node = std::make_unique<Node>();
  node->name = name;
  node->op = &def;
  node->graph = this;
  node->inputs = std::move(inputs);
  node->control_inputs = std::move(control_inputs);
  node->attrs = std::move(attrs);
  node->location = std::move(location);
  node->device = std::move(device);
  for (auto& in : node->inputs) {
    if (!in.valid()) throw value_error("op " + node->describe() + " got a None input");
    if (in.node->graph != this)
      throw value_error("op " + node->describe() + ": input '" + in.node->name + "' must be from the same graph");
    check_frame_read(in.node, name);
  }
  for (Node* c : node->control_inputs) {
    if (!c || c->graph != this)
      throw value_error("op " + node->describe() + ": control input must be from the same graph");
    check_frame_read(c, name);
  }
  node->frame = current_frame_;
  if (def.num_inputs >= 0 && (int)node->inputs.size() != def.num_inputs)
    throw value_error("op " + node->describe() + " takes " + std::to_string(def.num_inputs) + " inputs, got " +
                      std::to_string(node->inputs.size()));
  InferCtx ctx{*node};
  check_op_rules(ctx);  // Note [op type rules]
  if (def.shape) def.shape(ctx);
  std::lock_guard<std::mutex> lock(mu_);
  if (by_name_.count(node->name)) throw value_error("duplicate node name '" + node->name + "' in graph");
  names_in_use_.emplace(lower(node->name), 1);
  node->id = (int)nodes_.size();
  by_name_[node->name] = node.get();
  if (node->frame >= 0) frames_[node->frame]->nodes.push_back(node.get());
  nodes_.push_back(std::move(node));
  return nodes_.back().get();
}

void Graph::add_control_input(Node* n, Node* c) {
  if (c->graph != this || n->graph != this)
    throw value_error("control input '" + c->name + "' of '" + n->name + "' must be from the same graph");
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Node* x : n->control_inputs)
      if (x == c) return;
    n->control_inputs.push_back(c);
  }
  bump_edge_version();
}

int Graph::append_output(Node* n, DType dt, PartialShape s) {
  int i;
  {
    std::lock_guard<std::mutex> lock(mu_);
    i = n->num_outputs();
    n->out_dtypes.push_back(dt);
    n->out_shapes.push_back(std::move(s));
  }
  bump_edge_version();
  return i;
}

int Graph::new_frame(const std::string& kind) {
  std::lock_guard<std::mutex> lock(mu_);
  auto f = std::make_unique<Frame>();
  f->id = (int)frames_.size();
  f->parent = current_frame_;
  f->kind = kind;
  frames_.push_back(std::move(f));
  return frames_.back()->id;
}

void Graph::set_current_frame(int id) {
  if (id < -1 || id >= (int)frames_.size()) throw invalid_argument("no frame " + std::to_string(id));
  current_frame_ = id;
}

bool Graph::frame_within(int inner, int outer) const {
  for (int f = inner; f >= 0; f = frames_[f]->parent)
    if (f == outer) return true;
  return outer == -1;
}

// The innermost while loop (or its gradient) containing frame f, or -1.
int Graph::loop_of(int f) const {
  for (; f >= 0; f = frames_[f]->parent)
    if (frames_[f]->kind.compare(0, 5, "while") == 0) return f;
  return -1;
}

// Note [frames]: TF1's messages (control_flow_util.CheckInputFromValidContext). TF1 lets a node outside a
// cond read a branch's value (failing at run time when the other branch runs); here that is an error too.
void Graph::check_frame_read(const Node* src, const std::string& reader) const {
  if (foreign_reads_ > 0 || frame_within(current_frame_, src->frame)) return;
  const std::string head = "Cannot use '" + src->name + "' as input to '" + reader + "' because ";
  if (loop_of(src->frame) >= 0) {
    throw value_error(head + (loop_of(current_frame_) >= 0 ? "they are in different while loops."
                                                            : "'" + src->name + "' is in a while loop.") +
                      " See info log for more details.");
  }
  throw value_error(head + "'" + src->name + "' is in a cond branch. Return it from the branch function to " +
                    "use it outside.");
}

Output Builder::scalar(double v, DType dt) {
  Tensor t(dt, {});
  dispatch<kNumeric>(dt, "scalar constant", [&](auto z) { *t.data<decltype(z)>() = static_cast<decltype(z)>(v); });
  return constant(t);
}

Output Builder::ints(const std::vector<int64_t>& v) {
  Tensor t(DType::Int32, {(int64_t)v.size()});
  for (size_t i = 0; i < v.size(); ++i) t.data<int32_t>()[i] = (int32_t)v[i];
  return constant(t);
}

Output Builder::constant(const Tensor& t) {
  AttrMap a;
  a["value"] = t;
  a["dtype"] = t.dtype();
  return op1("Const", {}, std::move(a));
}

std::vector<Output> GraphBuilder::op(const std::string& type, std::vector<Output> inputs, AttrMap attrs) {
  std::string name = g_.unique_name(scope_ + type);
  Node* n = g_.add_node(type, name, std::move(inputs), std::move(attrs), {}, location_);
  std::vector<Output> outs;
  for (int i = 0; i < n->num_outputs(); ++i) outs.push_back(n->out(i));
  return outs;
}

}  // namespace tideflow
