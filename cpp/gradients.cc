#include "gradients.h"

#include <map>

#include "op_registry.h"

namespace tideflow {

namespace {

// Note [exact gradient shapes], for the layers of a network: the gradient of input i of an elementwise sum,
// difference or product has the output's shape, which is input i's exact shape when the other input cannot
// widen it: each of the other's dims (aligned from the right, no more of them) is 1 or a dim that input i
// statically has. conv + bias then needs no SumToShape on the convolution's side, which would read the
// convolution's output and stop the convolution, the bias and the ReLU from running as one kernel (Note
// [convolution output pass] in ops/conv_gemm.h). BiasAdd's value has its output's shape by definition.
// (Ops whose rules never broadcast say so in their row: OpDefBuilder::exact_grads.)
bool unbroadcast(const Node& n, int i) {
  const std::string& t = n.type();
  if (t == "BiasAdd") return i == 0;
  if (n.inputs.size() != 2 || (t != "Add" && t != "AddV2" && t != "Sub" && t != "Mul")) return false;
  const PartialShape &x = n.inputs[i].shape(), &o = n.inputs[1 - i].shape();
  if (!x.known_rank || !o.known_rank || o.rank() > x.rank()) return false;
  for (int d = 0; d < o.rank(); ++d) {
    const int64_t od = o.dims[o.rank() - 1 - d], xd = x.dims[x.rank() - 1 - d];
    if (od != 1 && (od < 0 || xd != od)) return false;
  }
  return true;
}
int64_t key(const Output& o) { return ((int64_t)o.node->id << 16) | o.index; }
}  // namespace

std::vector<Output> gradients(Graph& g, const std::vector<Output>& ys, const std::vector<Output>& xs,
                              const std::vector<Output>& grad_ys, const std::vector<Output>& stop_gradients,
                              const std::string& scope, const std::string& location, const GradOverrides* overrides,
                              int frame) {
  const int n = g.num_nodes();
  auto inside = [&](int id) { return frame == kAllFrames || g.node(id)->frame == frame; };  // Note [frame gradients]
  // Forward reachability from xs over data edges; consumers are derived once from the input lists.
  std::vector<std::vector<int>> consumers(n);
  for (int id = 0; id < n; ++id)
    for (auto& in : g.node(id)->inputs) consumers[in.node->id].push_back(id);
  std::vector<char> from_x(n, 0), to_y(n, 0), stop(n, 0);
  for (auto& s : stop_gradients) stop[s.node->id] = 1;
  std::vector<int> stack;
  for (auto& x : xs) if (!from_x[x.node->id]) { from_x[x.node->id] = 1; stack.push_back(x.node->id); }
  while (!stack.empty()) {
    int id = stack.back();
    stack.pop_back();
    if (stop[id]) continue;
    for (int c : consumers[id]) if (!from_x[c] && inside(c)) { from_x[c] = 1; stack.push_back(c); }
  }
  for (auto& y : ys) if (!to_y[y.node->id]) { to_y[y.node->id] = 1; stack.push_back(y.node->id); }
  while (!stack.empty()) {
    int id = stack.back();
    stack.pop_back();
    if (!inside(id)) continue;
    for (auto& in : g.node(id)->inputs)
      if (!to_y[in.node->id]) { to_y[in.node->id] = 1; stack.push_back(in.node->id); }
  }

  // The seed is ones shaped like y. When y's shape is known it does not depend on y's value, so a step
  // that fetches only the update never computes y itself (TF's constant folding gives the same).
  auto default_grad_y = [](Builder& b, const Output& y) {
    const PartialShape& s = y.shape();
    if (!s.fully_defined()) return b.op1("OnesLike", {y});
    return b.op1("Fill", {b.ints(s.dims), b.scalar(1.0, y.dtype())});
  };
  GraphBuilder b(g, scope, location);
  std::map<int64_t, std::vector<Output>> pending;  // contributions per output
  for (size_t i = 0; i < ys.size(); ++i) {
    Output gy = i < grad_ys.size() && grad_ys[i].valid() ? grad_ys[i] : default_grad_y(b, ys[i]);
    pending[key(ys[i])].push_back(gy);
  }
  auto sum_of = [&](const Output& o) -> Output {
    auto it = pending.find(key(o));
    if (it == pending.end() || it->second.empty()) return Output{};
    auto& v = it->second;
    if (v.size() > 1) v = {b.op1("AddN", v)};
    return v[0];
  };

  for (int id = n - 1; id >= 0; --id) {
    if (!from_x[id] || !to_y[id] || stop[id] || !inside(id)) continue;
    Node* node = g.node(id);
    bool any = false;
    std::vector<Output> out_grads(node->num_outputs());
    b.set_scope(scope);  // fan-in sums are named as TF names them: gradients/AddN, not after the last rule's op
    for (int i = 0; i < node->num_outputs(); ++i) {
      out_grads[i] = sum_of(node->out(i));
      any |= out_grads[i].valid();
    }
    // Note [gradient overrides]: the rule of `rule_op`, or an external function named `name`.
    const std::string* name = nullptr;
    if (overrides) {
      auto it = overrides->by_node.find(id);
      if (it != overrides->by_node.end()) name = &it->second;
    }
    const OpDef* rule_op = name ? OpRegistry::global().find(*name) : node->op;
    if (!any || (!name && node->op->not_differentiable)) continue;
    std::vector<char> wanted(node->inputs.size());  // which inputs lead back to an x along a float path
    bool wants = false;
    for (size_t i = 0; i < wanted.size(); ++i) {
      const Output& in = node->inputs[i];
      wanted[i] = from_x[in.node->id] && is_any_float(in.dtype());
      wants |= wanted[i];
    }
    if (!wants) continue;
    auto no_gradient = [&] {
      return Error(ErrorCode::LookupError, "No gradient defined for operation '" + node->name + "' (op type: " +
                                               (name ? *name : node->type()) + ")" +
                                               (node->location.empty() ? "" : ", created at " + node->location));
    };
    b.set_scope(scope + node->name + "_grad/");
    for (int i = 0; i < node->num_outputs(); ++i)
      if (!out_grads[i].valid() && is_any_float(node->out_dtypes[i])) out_grads[i] = b.op1("ZerosLike", {node->out(i)});
    std::vector<Output> in_grads;
    const bool external = name && overrides->external && overrides->external(*node, *name, out_grads, &in_grads);
    if (!external) {
      if (rule_op && rule_op->grad) {
        GradCtx ctx{b, *node, out_grads, overrides, &wanted};
        in_grads = rule_op->grad(ctx);
      } else if (rule_op && rule_op->not_differentiable) {
        in_grads.assign(node->inputs.size(), Output{});
      } else {
        throw no_gradient();
      }
    }
    if (in_grads.size() != node->inputs.size())
      throw Error(name ? ErrorCode::ValueError : ErrorCode::Internal,
                  "Num gradients " + std::to_string(in_grads.size()) + " generated for op " + node->describe() +
                      " do not match num inputs " + std::to_string(node->inputs.size()));
    for (size_t i = 0; i < in_grads.size(); ++i) {
      Output x = node->inputs[i];
      Output gx = in_grads[i];
      if (!gx.valid() || !from_x[x.node->id] || !is_any_float(x.dtype())) continue;
      // Note [exact gradient shapes]
      // A rule's result may be broadcast wider than its input at run time, so the driver sums it back
      // to the input's shape unless the static shapes prove them equal, or the op's row says its rule
      // never broadcasts (exact_grads): an elementwise op of one input (Relu: the gradient reaching its
      // output already has the output's shape), products, convolutions, pooling, reshapes, an LSTM
      // cell. Skipping the SumToShape matters beyond the op it saves:
      // - SumToShape reads its `like` input, which would keep the layer's pre-activation alive through
      //   the backward pass and stop Relu from absorbing the bias Add (Note [bias and ReLU in one pass]),
      //   and the pooling gradient's reader absorbing the ReLU gradient (Note [ReLU gradient in the
      //   pooling gradient's pass]);
      // - a node of unknown shape counts as expensive (Note [ready queue]): in a loop body over an
      //   unknown batch each one would be handed to another thread on every iteration.
      const bool exact = !external && rule_op == node->op && (node->op->exact_grads || unbroadcast(*node, (int)i));
      if (!(gx.shape() == x.shape() && (exact || x.shape().fully_defined()))) gx = b.op1("SumToShape", {gx, x});
      pending[key(x)].push_back(gx);
    }
  }

  std::vector<Output> result;
  b.set_scope(scope);
  for (auto& x : xs) result.push_back(is_any_float(x.dtype()) ? sum_of(x) : Output{});
  return result;
}

}  // namespace tideflow
