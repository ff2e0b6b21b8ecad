// If: tf.cond, tf.case and tf.switch_case run one branch frame as a cached sub-plan (Note [control flow]
// in control_flow.cc); its gradient is an If over the branches' gradient frames (Note [cond gradients]).
#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "ops/control_flow_frames.h"

namespace tideflow {
namespace {

using namespace cf;

void if_shape(InferCtx& c) {
  Frame& t = frame_of(c.node, "then_frame");
  Frame& e = frame_of(c.node, "else_frame");
  if (c.dtype(0) != DType::Bool) c.type_fail(std::string("The predicate must be bool, got ") + dtype_name(c.dtype(0)));
  if (c.shape(0).known_rank && c.shape(0).rank() != 0)
    c.fail("Shape must be rank 0 but is rank " + std::to_string(c.shape(0).rank()));
  if (t.outputs.size() != e.outputs.size())
    c.fail("The branches return " + std::to_string(t.outputs.size()) + " and " + std::to_string(e.outputs.size()) +
           " values");
  for (size_t i = 0; i < t.outputs.size(); ++i) {
    const Output &a = t.outputs[i], &b = e.outputs[i];
    if (a.dtype() != b.dtype())
      c.type_fail("Outputs of 'true_fn' and 'false_fn' must have the same type(s). Received " +
                  std::string(dtype_name(a.dtype())) + " from 'true_fn' and " + dtype_name(b.dtype()) +
                  " from 'false_fn'.");
    c.set_output((int)i, a.dtype(), common_shape(a.shape(), b.shape()));
  }
}

void if_kernel(KernelCtx& c) {
  const Tensor& p = c.in(0);
  if (p.dtype() != DType::Bool || p.rank() != 0) c.fail("The predicate of a cond must be a bool scalar, got " + p.summary());
  const bool taken = *p.data<bool>();
  const int nout = (int)c.outputs.size();
  // The key: the branch, and which of the outputs after the results the running plan reads.
  std::vector<int64_t> key{taken};
  for (int i = 0; i < nout; ++i) key.push_back(c.output_used(i));
  const char* which = taken ? "then_frame" : "else_frame";
  const int fid = (int)c.attr<int64_t>(which);
  auto fp = frame_plan(c, key, fid, [&](PlanSpec& s) {
    Frame& f = frame_of(c.node, which);
    for (size_t j = 1; j < c.node.inputs.size(); ++j)
      if (!is_var(c.node.inputs[j])) s.feed(c.node.inputs[j], (int)j);
    for (auto& [o, j] : f.aliases) s.feed(o, j);
    for (size_t i = 0; i < f.outputs.size(); ++i) {
      s.fetches.push_back(f.outputs[i]);
      s.dst.push_back((int)i);
    }
    for (size_t k = 0; k < f.saved.size(); ++k) {
      int o = f.saved_outputs[k];
      if (o < nout && c.output_used(o)) {
        s.fetches.push_back(f.saved[k]);
        s.dst.push_back(o);
      }
    }
    for (int i = 0; i < nout; ++i) s.dtypes.push_back(c.node.out_dtypes[i]);
  });
  for (size_t j = 1; j < c.inputs.size(); ++j)  // the branch reads variables itself (Note [control flow])
    if (is_var(c.node.inputs[j])) c.inputs[j] = Tensor();
  std::vector<Tensor> feeds, out;
  fill_feeds(*fp, feeds, [&](int src) { return c.in(src); });
  Runner(*fp, c).run(feeds, out);
  for (size_t i = 0; i < out.size(); ++i) c.outputs[fp->dst[i]] = std::move(out[i]);
  for (int i = 0; i < nout; ++i)
    if (!c.outputs[i].valid()) c.outputs[i] = dummy(fp->dtypes[i]);
}

// Note [cond gradients]
// The gradient of If is an If on the same predicate whose branches are the gradients of the forward
// branches (gradients() inside each forward frame: Note [frame gradients]), built in new frames. What a
// gradient branch reads from the forward branch (an input or output of a forward node that its rule needs)
// must be kept from the forward run: such a value becomes a saved value of the forward If, carried by a
// new output of it (Graph::append_output; the other branch's run leaves a placeholder there), and the
// gradient branch is fed it under its own name (Frame::aliases). Keeping saved values as ordinary outputs
// makes second order work through the same driver: the gradient of a gradient If reaches the forward If
// through those outputs, and its rule then differentiates the forward branch for them too. (TF2 also
// turns intermediates into outputs; here they are appended only when a gradient needs them.)
//
std::vector<Output> if_grad(GradCtx& gc) {
  Node& F = gc.node;
  Graph& g = *F.graph;
  const int nin = (int)F.inputs.size();
  Frame* branch[2] = {&frame_of(F, "then_frame"), &frame_of(F, "else_frame")};
  const std::string scope = grad_scope(gc.b), loc = grad_location(gc.b);
  int nf[2];
  std::vector<std::vector<Output>> xs(2), dx(2);
  bool any = false;
  for (int b = 0; b < 2; ++b) {
    Frame& f = *branch[b];
    // What the branch's nodes see for each input: the input itself, or the value it is aliased to.
    xs[b].assign(F.inputs.begin(), F.inputs.end());
    for (auto& [o, j] : f.aliases) xs[b][j] = o;
    std::vector<Output> ys, gys;
    for (size_t i = 0; i < f.outputs.size(); ++i)
      if (is_any_float(F.out_dtypes[i]) && !is_zero_grad(gc.grads[i], F.out((int)i))) {
        ys.push_back(f.outputs[i]);
        gys.push_back(gc.grads[i]);
      }
    for (size_t k = 0; k < f.saved.size(); ++k) {
      int o = f.saved_outputs[k];
      if (o < (int)gc.grads.size() && is_any_float(F.out_dtypes[o]) && !is_zero_grad(gc.grads[o], F.out(o))) {
        ys.push_back(f.saved[k]);
        gys.push_back(gc.grads[o]);
      }
    }
    nf[b] = g.new_frame("cond_grad");
    std::vector<Output> wrt(xs[b].begin() + 1, xs[b].end());
    dx[b] = in_frame(g, nf[b], [&] {
      return ys.empty() ? std::vector<Output>(wrt.size())
                        : gradients(g, ys, wrt, gys, {}, scope, loc, gc.overrides, f.id);
    });
    dx[b].insert(dx[b].begin(), Output{});  // the predicate
    for (auto& d : dx[b]) any |= d.valid();
  }
  std::vector<Output> result(nin);
  if (!any) return result;
  // Each differentiable input gets one output of the gradient If; a branch without a gradient for it
  // returns zeros.
  std::vector<int> out_of(nin, -1);
  int nout = 0;
  for (int j = 1; j < nin; ++j) {
    if (!is_any_float(F.inputs[j].dtype()) || (!dx[0][j].valid() && !dx[1][j].valid())) continue;
    out_of[j] = nout++;
    for (int b = 0; b < 2; ++b) {
      Output d = dx[b][j];
      if (!d.valid()) d = in_frame(g, nf[b], [&] { return gc.b.op1("ZerosLike", {xs[b][j]}); });
      g.frame(nf[b]).outputs.push_back(d);
    }
  }
  // The gradient If's inputs: the predicate, then what its branches read from outside.
  std::vector<Output> ins{F.inputs[0]};
  auto input_index = [&](const Output& o) {
    for (size_t i = 1; i < ins.size(); ++i)
      if (ins[i] == o) return (int)i;
    ins.push_back(o);
    return (int)ins.size() - 1;
  };
  for (int b = 0; b < 2; ++b) {
    Frame& f = *branch[b];
    GradReads r = gradient_reads(g, nf[b], f, F);
    std::vector<std::pair<Output, int>> aliases;
    for (const Output& o : r.fwd) {
      int k = -1;
      {
        std::lock_guard<std::mutex> l(g.mutex());
        for (size_t s = 0; s < f.saved.size(); ++s)
          if (f.saved[s] == o) k = (int)s;
      }
      int out;
      if (k >= 0) {
        out = f.saved_outputs[k];
      } else {
        out = g.append_output(&F, o.dtype(), PartialShape::unknown());
        std::lock_guard<std::mutex> l(g.mutex());
        f.saved.push_back(o);
        f.saved_outputs.push_back(out);
      }
      aliases.emplace_back(o, input_index(F.out(out)));
    }
    for (auto& [o, src] : r.alias) aliases.emplace_back(o, input_index(src));
    for (const Output& o : r.outer) input_index(o);
    g.frame(nf[b]).aliases = std::move(aliases);
  }
  AttrMap attrs;
  attrs["then_frame"] = (int64_t)nf[0];
  attrs["else_frame"] = (int64_t)nf[1];
  std::vector<Output> outs = gc.b.op("If", ins, attrs);
  for (int j = 1; j < nin; ++j)
    if (out_of[j] >= 0) result[j] = outs[out_of[j]];
  return result;
}

REGISTER_OP("If").inputs(-1).stateful().shape(if_shape).cpu(if_kernel).grad(if_grad);

// A value a frame's owner feeds on each run (a loop variable, an incoming gradient); never run itself.
REGISTER_OP("_Arg").inputs(0).not_differentiable()
    .shape([](InferCtx& c) { c.set_output(0, c.attr<DType>("dtype"), c.attr<PartialShape>("shape")); })
    .cpu([](KernelCtx& c) {
      c.fail("'" + c.node.name + "' is a control-flow frame's argument; only its loop or branch can run it");
    });

}  // namespace
}  // namespace tideflow
