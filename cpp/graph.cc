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
  }
  for (Node* c : node->control_inputs)
    if (!c || c->graph != this)
      throw value_error("op " + node->describe() + ": control input must be from the same graph");
  if (def.num_inputs >= 0 && (int)node->inputs.size() != def.num_inputs)
    throw value_error("op " + node->describe() + " takes " + std::to_string(def.num_inputs) + " inputs, got " +
                      std::to_string(node->inputs.size()));
  InferCtx ctx{*node};
  if (def.shape) def.shape(ctx);
  std::lock_guard<std::mutex> lock(mu_);
  if (by_name_.count(node->name)) throw value_error("duplicate node name '" + node->name + "' in graph");
  names_in_use_.emplace(lower(node->name), 1);
  node->id = (int)nodes_.size();
  by_name_[node->name] = node.get();
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

Output Builder::scalar(double v, DType dt) {
  Tensor t(dt, {});
  dispatch_numeric(dt, "scalar constant", [&](auto z) { *t.data<decltype(z)>() = static_cast<decltype(z)>(v); });
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
