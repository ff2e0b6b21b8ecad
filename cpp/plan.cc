#include "plan.h"

#include <algorithm>
#include <functional>
#include <map>
#include <queue>

#include "op_registry.h"

namespace tideflow {

static int64_t key(const Node* n, int i) { return ((int64_t)n->id << 16) | i; }

namespace {
struct Chain : ChainFusion {
  Fusion fusion;  // what the plan node runs: {input, producer, kernel}
};
std::vector<Chain>& chain_fusions() {
  static std::vector<Chain> chains;  // filled by static initializers, read-only afterwards
  return chains;
}
}  // namespace

bool register_chain_fusion(const ChainFusion& f) {
  Chain c{f, Fusion{f.input, f.producer, f.kernel}};
  chain_fusions().push_back(c);
  return true;
}

// Note [plan order]
// Node ids are almost a topological order: a node's inputs exist before it does. Only a control edge added
// to an existing node later (Graph::add_control_input) can point forward. Without such an edge the order is
// ids ascending; with one, Kahn's algorithm over data and control edges, smallest id first, which keeps
// the id order wherever the edges allow it (so sequential runs stay as deterministic as before).
static std::vector<int> topological_order(Graph& g, const std::vector<char>& needed) {
  std::vector<int> order;
  bool forward = false;
  for (int id = 0; id < g.num_nodes(); ++id) {
    if (!needed[id]) continue;
    order.push_back(id);
    for (Node* c : g.node(id)->control_inputs)
      if (needed[c->id] && c->id > id) forward = true;
  }
  if (!forward) return order;
  std::vector<int> pending(g.num_nodes(), 0);
  std::vector<std::vector<int>> consumers(g.num_nodes());
  auto edge = [&](int from, int to) {
    if (!needed[from]) return;
    consumers[from].push_back(to);
    pending[to]++;
  };
  for (int id : order) {
    Node* n = g.node(id);
    for (auto& in : n->inputs) edge(in.node->id, id);
    for (Node* c : n->control_inputs) edge(c->id, id);
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int id : order)
    if (pending[id] == 0) ready.push(id);
  std::vector<int> sorted;
  sorted.reserve(order.size());
  while (!ready.empty()) {
    int id = ready.top();
    ready.pop();
    sorted.push_back(id);
    for (int c : consumers[id])
      if (--pending[c] == 0) ready.push(c);
  }
  if (sorted.size() != order.size()) {
    std::string names;
    for (int id : order)
      if (pending[id] > 0 && names.size() < 400) names += (names.empty() ? "'" : ", '") + g.node(id)->name + "'";
    throw invalid_argument("Graph has a cycle (through control dependencies) among " + names);
  }
  return sorted;
}

Plan build_plan(Graph& g, const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                const std::vector<Node*>& targets, int frame) {
  Plan p;
  p.feeds = feeds;
  std::map<int64_t, int> fed;  // output -> feed slot
  std::vector<char> cut(g.num_nodes(), 0);
  for (const Output& f : feeds) {
    if (frame < 0 && f.node->frame >= 0)  // Note [frame plans]
      throw value_error("Tensor " + f.node->name + ":" + std::to_string(f.index) + " may not be fed.");
    if (fed.count(key(f.node, f.index)))
      throw invalid_argument("tensor '" + f.node->name + ":" + std::to_string(f.index) + "' is fed twice");
    int s = p.num_slots++;
    fed[key(f.node, f.index)] = s;
    p.feed_slots.push_back(s);
    cut[f.node->id] = 1;
  }

  // Iterative reverse DFS from the fetches and targets, stopping at fed nodes. Ref inputs are not reads:
  // an Assign needs its variable to exist, not to hold a value.
  std::vector<char> needed(g.num_nodes(), 0);
  std::vector<Node*> stack;
  auto want = [&](Node* n) {
    if (n->frame != frame && !cut[n->id]) {  // Note [frame plans]
      if (frame < 0)
        throw value_error("Operation '" + n->name + "' has been marked as not fetchable. Typically this happens "
                          "when it is defined in another function or code block. Use return values, explicit "
                          "Python locals or TensorFlow collections to access it.");
      throw Error(ErrorCode::Internal, "the plan of a control-flow frame reaches '" + n->name +
                                           "', which is neither in the frame nor fed");
    }
    if (!needed[n->id] && !cut[n->id]) {
      needed[n->id] = 1;
      stack.push_back(n);
    }
  };
  for (const Output& f : fetches) want(f.node);
  for (Node* t : targets) want(t);
  auto is_var_read = [&](const Node* n, size_t i) {
    const Output& in = n->inputs[i];
    return !n->op->is_ref_input((int)i) && in.node->type() == "VariableV2" && !fed.count(key(in.node, in.index));
  };
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (size_t i = 0; i < n->inputs.size(); ++i)
      if (!n->op->is_ref_input((int)i) && !is_var_read(n, i)) want(n->inputs[i].node);
    for (Node* c : n->control_inputs)
      if (c->frame == frame) want(c);
  }

  // Note [fused producers] (op_registry.h): a producer can be absorbed when the fusing node is its only
  // reader, it is no fetch or target, nothing waits on it and it waits on nothing.
  std::vector<const Fusion*> fusion_of(g.num_nodes(), nullptr);
  std::vector<const Node*> inner_of(g.num_nodes(), nullptr);  // Note [fused chains]
  std::vector<int> inner_input_of(g.num_nodes(), -1);
  std::vector<char> absorbed(g.num_nodes(), 0);
  {
    std::map<int64_t, int> uses;
    std::vector<char> pinned(g.num_nodes(), 0);
    for (int id = 0; id < g.num_nodes(); ++id) {
      if (!needed[id]) continue;
      Node* n = g.node(id);
      for (auto& in : n->inputs) uses[key(in.node, in.index)]++;
      for (Node* c : n->control_inputs) pinned[c->id] = 1;
    }
    for (const Output& f : fetches) uses[key(f.node, f.index)]++;
    for (Node* t : targets) pinned[t->id] = 1;
    auto absorbable = [&](const Output& in, const std::string& type) {
      Node* m = in.node;
      return m->type() == type && needed[m->id] && !pinned[m->id] && !absorbed[m->id] && !fusion_of[m->id] &&
             m->control_inputs.empty() && m->num_outputs() == 1 && uses[key(m, in.index)] == 1;
    };
    for (int id = 0; id < g.num_nodes(); ++id) {
      if (!needed[id] || fusion_of[id]) continue;
      Node* n = g.node(id);
      for (const auto& ch : chain_fusions()) {
        if (ch.op != n->type() || (int)n->inputs.size() <= ch.input) continue;
        const Output& in = n->inputs[ch.input];
        if (!absorbable(in, ch.producer) || (int)in.node->inputs.size() <= ch.inner_input) continue;
        const Output& inner = in.node->inputs[ch.inner_input];
        if (!absorbable(inner, ch.inner)) continue;
        fusion_of[id] = &ch.fusion;
        inner_of[id] = inner.node;
        inner_input_of[id] = ch.inner_input;
        absorbed[in.node->id] = absorbed[inner.node->id] = 1;
        break;
      }
      if (fusion_of[id]) continue;
      for (const Fusion& fu : n->op->fusions) {
        const Output& in = n->inputs[fu.input];
        Node* m = in.node;
        if (m->type() != fu.producer || !needed[m->id] || pinned[m->id] || absorbed[m->id] || fusion_of[m->id] ||
            !m->control_inputs.empty() || m->num_outputs() != 1 || uses[key(m, in.index)] != 1)
          continue;
        fusion_of[id] = &fu;
        absorbed[m->id] = 1;
        break;
      }
    }
  }

  std::vector<int> plan_index(g.num_nodes(), -1);
  std::vector<std::string> unfed;
  for (int id : topological_order(g, needed)) {
    if (absorbed[id]) continue;
    Node* n = g.node(id);
    if (n->type() == "Placeholder") {
      unfed.push_back("'" + n->name + "' with dtype " + dtype_name(n->out_dtypes[0]) + " and shape " +
                      n->out_shapes[0].str() + (n->location.empty() ? "" : " (created at " + n->location + ")"));
      continue;
    }
    plan_index[id] = (int)p.nodes.size();
    PlanNode pn;
    pn.node = n;
    pn.out_slot = p.num_slots;
    pn.num_outputs = n->num_outputs();
    p.num_slots += pn.num_outputs;
    pn.expensive = n->op->expensive;
    pn.async = n->op->cpu_async != nullptr;
    p.has_async = p.has_async || pn.async;
    if ((pn.fusion = fusion_of[id])) {
      pn.fused = n->inputs[pn.fusion->input].node;
      pn.fused_inner = inner_of[id];
      pn.fused_inner_input = inner_input_of[id];
      pn.expensive = pn.expensive || pn.fused->op->expensive || (pn.fused_inner && pn.fused_inner->op->expensive);
    }
    if (!pn.expensive)
      for (auto& s : n->out_shapes)
        if (!s.fully_defined() || num_elements(s.dims) >= 32 * 1024) pn.expensive = true;
    p.nodes.push_back(std::move(pn));
  }
  if (!unfed.empty()) {
    std::string m = "You must feed a value for placeholder tensor";
    m += unfed.size() > 1 ? "s:\n  " : " ";
    for (size_t i = 0; i < unfed.size(); ++i) m += (i ? "\n  " : "") + unfed[i];
    throw invalid_argument(m);
  }

  p.slot_reads.assign(p.num_slots, 0);
  int expensive = 0;
  for (size_t pi = 0; pi < p.nodes.size(); ++pi) {
    PlanNode& pn = p.nodes[pi];
    Node* n = pn.node;
    expensive += pn.expensive;
    if (n->type() == "VariableV2") p.variables_read.push_back(n);
    // The kernel's inputs as (node, index): the node's own, or a fused kernel's list.
    std::vector<std::pair<Node*, size_t>> ins;
    for (size_t i = 0; i < n->inputs.size(); ++i)
      if (!pn.fusion || (int)i != pn.fusion->input) ins.emplace_back(n, i);
    if (pn.fused) {
      Node* f = n->inputs[pn.fusion->input].node;
      const int skip = pn.fused_inner ? pn.fused_inner_input : -1;
      for (size_t i = 0; i < f->inputs.size(); ++i)
        if ((int)i != skip) ins.emplace_back(f, i);
      if (pn.fused_inner)
        for (size_t i = 0; i < pn.fused_inner->inputs.size(); ++i) ins.emplace_back(f->inputs[skip].node, i);
    }
    for (auto [owner, i] : ins) {
      const Output& in = owner->inputs[i];
      if (is_var_read(owner, i)) {
        if (pn.in_vars.empty()) pn.in_vars.resize(ins.size(), nullptr);
        pn.in_vars[pn.in_slots.size()] = in.node;
        p.variables_read.push_back(in.node);
      }
      if (owner->op->is_ref_input((int)i) || is_var_read(owner, i)) {
        pn.in_slots.push_back(-1);
        continue;
      }
      auto f = fed.find(key(in.node, in.index));
      if (f != fed.end()) {
        pn.in_slots.push_back(f->second);
      } else {
        if (plan_index[in.node->id] < 0)
          throw invalid_argument("node " + owner->describe() + " reads '" + in.node->name + ":" +
                                 std::to_string(in.index) +
                                 "', which is neither fed nor computable (another output of that node is fed)");
        PlanNode& src = p.nodes[plan_index[in.node->id]];
        pn.in_slots.push_back(src.out_slot + in.index);
        src.consumers.push_back((int)pi);
        pn.pending++;
      }
      p.slot_reads[pn.in_slots.back()]++;
    }
    for (Node* c : n->control_inputs) {
      if (plan_index[c->id] < 0) continue;  // fed: already satisfied
      p.nodes[plan_index[c->id]].consumers.push_back((int)pi);
      pn.pending++;
    }
  }
  for (size_t pi = 0; pi < p.nodes.size(); ++pi)
    if (p.nodes[pi].pending == 0) p.initial_ready.push_back((int)pi);
  for (const Output& f : fetches) {
    auto it = fed.find(key(f.node, f.index));
    if (it == fed.end() && plan_index[f.node->id] < 0)
      throw invalid_argument("cannot fetch '" + f.node->name + ":" + std::to_string(f.index) +
                             "': another output of its node is fed");
    int s = it != fed.end() ? it->second : p.nodes[plan_index[f.node->id]].out_slot + f.index;
    p.fetch_slots.push_back(s);
    p.slot_reads[s]++;
  }
  p.parallel = expensive >= 2;
  return p;
}

}  // namespace tideflow
