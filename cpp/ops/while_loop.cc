// While: tf.while_loop, map_fn, scan, foldl and foldr run one body frame per iteration as a cached
// sub-plan (Note [control flow] in control_flow.cc); WhileGrad runs the gradient's frame backwards over
// the forward iterations' traces (Note [loop gradients]).
#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "ops/control_flow_frames.h"

namespace tideflow {
namespace {

using namespace cf;

// Note [traces]
// What a while loop records for its gradient when its trace output is read: per iteration, the values of
// Frame::saved, and the dims of its inputs (for the zeros of gradients when no iteration ran). Held by a
// Variant tensor, so it lives in the running plan like any value and is freed after its last reader.
struct Trace {
  std::vector<std::vector<Tensor>> steps;
  std::vector<Dims> input_dims;
};

struct WhileCounts {
  int vars, sliced, stacked;
  explicit WhileCounts(const Node& n)
      : vars((int)n.attrs.get<int64_t>("num_vars")), sliced((int)n.attrs.get<int64_t>("num_sliced")),
        stacked((int)n.attrs.get<int64_t>("num_stacked")) {}
};

void while_shape(InferCtx& c) {
  Frame& f = frame_of(c.node, "frame");
  WhileCounts k(c.node);
  if ((int)f.args.size() != k.vars || (int)f.cond_args.size() != k.vars || (int)f.outputs.size() != k.vars ||
      (int)f.slice_args.size() != k.sliced || (int)f.stacked.size() != k.stacked || !f.pred.valid())
    c.fail("the loop's frame does not match its counts");
  if (c.num_inputs() < k.vars + k.sliced) c.fail("too few inputs");
  for (int j = 0; j < k.vars; ++j) {
    const Node* a = f.args[j];
    if (c.dtype(j) != a->out_dtypes[0] || f.outputs[j].dtype() != a->out_dtypes[0])
      c.type_fail("Loop variable " + std::to_string(j) + " enters the loop as " + dtype_name(c.dtype(j)) +
                  " and the body returns " + dtype_name(f.outputs[j].dtype()));
    c.set_output(j, a->out_dtypes[0], a->out_shapes[0]);
  }
  for (int r = 0; r < k.sliced; ++r)
    if (c.shape(k.vars + r).known_rank && c.shape(k.vars + r).rank() < 1)
      c.fail("A sliced input must have rank at least 1, got " + c.shape(k.vars + r).str());
  for (int q = 0; q < k.stacked; ++q) {
    const PartialShape& s = f.stacked[q].shape();
    PartialShape out = PartialShape::unknown();
    if (s.known_rank) {
      Dims d{-1};
      d.insert(d.end(), s.dims.begin(), s.dims.end());
      out = PartialShape(d);
    }
    c.set_output(k.vars + q, f.stacked[q].dtype(), out);
  }
  c.set_output(k.vars + k.stacked, DType::Variant, PartialShape(Dims{}));
}

// Stacks one value per iteration into [N, ...] (in reverse order for foldr/scan(reverse=True)).
Tensor stack_rows(KernelCtx& c, const std::vector<Tensor>& rows, DType dt, const PartialShape& row_shape,
                  bool reverse) {
  Dims row;
  if (rows.empty()) {  // no iteration ran: [0, ...], unknown dims taken as 0
    if (row_shape.known_rank)
      for (int64_t d : row_shape.dims) row.push_back(d < 0 ? 0 : d);
  } else {
    row = rows[0].dims();
  }
  Dims d{(int64_t)rows.size()};
  d.insert(d.end(), row.begin(), row.end());
  Tensor out(dt, d);
  const int64_t n = (int64_t)rows.size();
  for (int64_t i = 0; i < n; ++i) {
    if (rows[i].dims() != row)
      c.fail("A value stacked over the loop's iterations has shape " + dims_str(rows[i].dims()) + " at iteration " +
             std::to_string(i) + " but " + dims_str(row) + " at iteration 0");
    set_row(out, reverse ? n - 1 - i : i, rows[i]);
  }
  return out;
}

void while_kernel(KernelCtx& c) {
  const WhileCounts k(c.node);
  const int nin = (int)c.inputs.size();
  const bool reverse = c.node.attrs.get_or<bool>("reverse", false);
  const int trace_out = k.vars + k.stacked;
  const bool record = c.output_used(trace_out);
  const int fid = (int)c.attr<int64_t>("frame");
  std::shared_ptr<Trace> trace;
  if (record) {
    trace = std::make_shared<Trace>();
    for (int i = 0; i < nin; ++i) trace->input_dims.push_back(c.in(i).dims());
  }
  // Variables are read by the frame's own nodes (Note [control flow]): drop the values read for this node.
  for (int i = k.vars + k.sliced; i < nin; ++i)
    if (is_var(c.node.inputs[i])) c.inputs[i] = Tensor();
  auto captures = [&](PlanSpec& s) {
    for (int i = k.vars + k.sliced; i < nin; ++i)
      if (!is_var(c.node.inputs[i])) s.feed(c.node.inputs[i], i);
  };
  auto cond = frame_plan(c, {0}, fid, [&](PlanSpec& s) {
    Frame& f = frame_of(c.node, "frame");
    for (int j = 0; j < k.vars; ++j) s.feed(f.cond_args[j]->out(0), -1 - j);
    for (int j = 0; j < k.vars; ++j) s.feed(f.args[j]->out(0), -1 - j);
    captures(s);
    s.fetches.push_back(f.pred);
  });
  auto body = frame_plan(c, {1, record}, fid, [&](PlanSpec& s) {
    Frame& f = frame_of(c.node, "frame");
    for (int j = 0; j < k.vars; ++j) s.feed(f.cond_args[j]->out(0), -1 - j);
    for (int j = 0; j < k.vars; ++j) s.feed(f.args[j]->out(0), -1 - j);
    for (int r = 0; r < k.sliced; ++r) s.feed(f.slice_args[r]->out(0), -1 - (k.vars + r));
    captures(s);
    s.fetches = f.outputs;
    s.fetches.insert(s.fetches.end(), f.stacked.begin(), f.stacked.end());
    if (record) s.fetches.insert(s.fetches.end(), f.saved.begin(), f.saved.end());
    for (Node* a : f.args) s.shapes.push_back(a->out_shapes[0]);
    for (const Output& o : f.stacked) {
      s.shapes.push_back(o.shape());
      s.dtypes.push_back(o.dtype());
    }
  });
  std::vector<Tensor> vars(c.inputs.begin(), c.inputs.begin() + k.vars);
  for (int j = 0; j < k.vars; ++j) c.inputs[j] = Tensor();  // the loop holds the only reference
  std::vector<int64_t> rows(k.sliced);
  for (int r = 0; r < k.sliced; ++r) {
    const Tensor& x = c.in(k.vars + r);
    if (x.rank() < 1) c.fail("A sliced input must have rank at least 1, got " + x.summary());
    rows[r] = x.dim(0);
  }
  std::vector<std::vector<Tensor>> stacked(k.stacked);
  Runner cond_run(*cond, c), body_run(*body, c);
  std::vector<Tensor> feeds, out;
  for (int64_t it = 0;; ++it) {
    fill_feeds(*cond, feeds, [&](int src) { return src < 0 ? vars[-1 - src] : c.in(src); });
    cond_run.run(feeds, out);
    const Tensor& p = out[0];
    if (p.dtype() != DType::Bool || p.rank() != 0)
      c.fail("The loop condition must be a bool scalar, got " + p.summary());
    if (!*p.data<bool>()) break;
    for (int r = 0; r < k.sliced; ++r)
      if (it >= rows[r])
        c.fail("Iteration " + std::to_string(it) + " reads element " + std::to_string(it) + " of an input with " +
               std::to_string(rows[r]) + " elements");
    fill_feeds(*body, feeds, [&](int src) {
      if (src >= 0) return c.in(src);
      const int v = -1 - src;
      if (v < k.vars) return vars[v];
      const int r = v - k.vars;
      return row_of(c.in(k.vars + r), reverse ? rows[r] - 1 - it : it);
    });
    for (Tensor& v : vars) v = Tensor();
    body_run.run(feeds, out);
    for (int j = 0; j < k.vars; ++j) {
      if (!body->shapes[j].compatible_with(out[j].dims()))
        c.fail("Loop variable " + std::to_string(j) + " has shape " + dims_str(out[j].dims()) + " after iteration " +
               std::to_string(it) + ", which does not match its shape invariant " + body->shapes[j].str() +
               ". To allow the shape to vary across iterations, use the `shape_invariants` argument of "
               "tf.while_loop to specify a less-specific shape.");
      vars[j] = std::move(out[j]);
    }
    for (int q = 0; q < k.stacked; ++q) stacked[q].push_back(std::move(out[k.vars + q]));
    if (record) trace->steps.emplace_back(std::make_move_iterator(out.begin() + k.vars + k.stacked),
                                          std::make_move_iterator(out.end()));
  }
  for (int j = 0; j < k.vars; ++j) c.set(j, std::move(vars[j]));
  for (int q = 0; q < k.stacked; ++q)
    c.set(k.vars + q, stack_rows(c, stacked[q], body->dtypes[q], body->shapes[k.vars + q], reverse));
  c.set(trace_out, Tensor::variant(trace));
}

// Note [loop gradients]
// The gradient of a while loop is a WhileGrad node running a backward frame N times, for the forward
// iterations N-1 down to 0; N is however many the forward run made, so trip counts may depend on data.
// The backward frame is gradients() of one body run (Note [frame gradients]): from the body's next
// variables and stacked values back to its variables, sliced elements and captures, seeded by its args
// (the gradients w.r.t. the next variables, carried from one backward iteration to the next) and by rows
// of the stacked outputs' gradients. Every forward value the backward frame reads becomes a saved value of
// the loop (Frame::saved, appended here), which the forward kernel records per iteration into its trace
// output (Note [traces]) whenever that output is read; WhileGrad feeds iteration i's record under the
// forward names (Frame::aliases). Nothing is recomputed and nothing unrolled. Captures' gradients are
// summed over iterations; sliced inputs' gradients are assembled row by row. Nested loops compose: an inner
// loop's trace is one more forward value of the outer body, saved per outer iteration.
std::vector<Output> while_grad(GradCtx& gc) {
  Node& W = gc.node;
  Graph& g = *W.graph;
  const WhileCounts k(W);
  const int nin = (int)W.inputs.size();
  std::vector<Output> result(nin);
  if (!W.attrs.get_or<bool>("back_prop", true)) return result;
  Frame& fw = frame_of(W, "frame");
  const std::string scope = grad_scope(gc.b), loc = grad_location(gc.b);
  std::vector<int> vars, stacked;  // float loop variables; stacked outputs that received a gradient
  for (int j = 0; j < k.vars; ++j)
    if (is_any_float(W.inputs[j].dtype())) vars.push_back(j);
  for (int q = 0; q < k.stacked; ++q)
    if (is_any_float(fw.stacked[q].dtype()) && !is_zero_grad(gc.grads[k.vars + q], W.out(k.vars + q)))
      stacked.push_back(q);
  if (vars.empty() && stacked.empty()) return result;
  const int nf = g.new_frame("while_grad");
  Frame& bg = g.frame(nf);
  std::vector<int64_t> sliced_inputs, cap_inputs, stacked_idx(stacked.begin(), stacked.end());
  in_frame(g, nf, [&] {
    auto arg = [&](DType dt, const PartialShape& s) {
      AttrMap a;
      a["dtype"] = dt;
      a["shape"] = s;
      return gc.b.op1("_Arg", {}, a).node;
    };
    std::vector<Output> ys, gys, xs;
    for (int j : vars) {
      bg.args.push_back(arg(fw.args[j]->out_dtypes[0], fw.args[j]->out_shapes[0]));
      ys.push_back(fw.outputs[j]);
      gys.push_back(bg.args.back()->out(0));
    }
    for (int q : stacked) {
      bg.slice_args.push_back(arg(fw.stacked[q].dtype(), fw.stacked[q].shape()));
      ys.push_back(fw.stacked[q]);
      gys.push_back(bg.slice_args.back()->out(0));
    }
    for (int j : vars) xs.push_back(fw.args[j]->out(0));
    std::vector<int> wrt;  // the loop inputs behind xs beyond the variables, those whose gradients are used
    for (int r = 0; r < k.sliced; ++r)
      if (is_any_float(W.inputs[k.vars + r].dtype()) && gc.wants(k.vars + r)) {
        xs.push_back(fw.slice_args[r]->out(0));
        wrt.push_back(k.vars + r);
      }
    for (int i = k.vars + k.sliced; i < nin; ++i)
      if (is_any_float(W.inputs[i].dtype()) && gc.wants(i)) {
        xs.push_back(W.inputs[i]);
        wrt.push_back(i);
      }
    std::vector<Output> dx = gradients(g, ys, xs, gys, {}, scope, loc, gc.overrides, fw.id);
    for (size_t a = 0; a < vars.size(); ++a) {
      Output d = dx[a];
      if (!d.valid()) {  // the next variables do not depend on this one
        Node* x = fw.args[vars[a]];
        d = x->out_shapes[0].fully_defined()
                ? gc.b.op1("Fill", {gc.b.ints(x->out_shapes[0].dims), gc.b.scalar(0, x->out_dtypes[0])})
                : gc.b.op1("ZerosLike", {x->out(0)});
      }
      bg.outputs.push_back(d);
    }
    for (size_t a = 0; a < wrt.size(); ++a) {
      const Output& d = dx[vars.size() + a];
      if (!d.valid()) continue;
      (wrt[a] < k.vars + k.sliced ? sliced_inputs : cap_inputs).push_back(wrt[a]);
    }
    // Outputs: the variables' gradients, then the sliced elements', then the captures'.
    for (int pass = 0; pass < 2; ++pass)
      for (size_t a = 0; a < wrt.size(); ++a) {
        const Output& d = dx[vars.size() + a];
        if (d.valid() && (wrt[a] < k.vars + k.sliced) == (pass == 0)) bg.outputs.push_back(d);
      }
    return 0;
  });
  // What the backward frame reads: forward values (saved and fed from the trace), or outer captures.
  GradReads r = gradient_reads(g, nf, fw, W);
  if (!r.alias.empty())
    throw Error(ErrorCode::Unimplemented, "Second-order gradients of tf.while_loop are not supported (op " +
                                              W.describe() + ")");
  std::vector<Output> ins;
  for (int j : vars) ins.push_back(gc.grads[j]);
  for (int q : stacked) ins.push_back(gc.grads[k.vars + q]);
  for (const Output& o : r.outer) ins.push_back(o);
  ins.push_back(W.out(k.vars + k.stacked));
  {
    std::lock_guard<std::mutex> l(g.mutex());
    for (const Output& o : r.fwd) {
      int idx = -1;
      for (size_t s = 0; s < fw.saved.size(); ++s)
        if (fw.saved[s] == o) idx = (int)s;
      if (idx < 0) {
        idx = (int)fw.saved.size();
        fw.saved.push_back(o);
      }
      bg.aliases.emplace_back(o, idx);
    }
  }
  g.bump_edge_version();  // the forward loop's body plan now fetches more values
  AttrMap attrs;
  attrs["frame"] = (int64_t)nf;
  attrs["num_state"] = (int64_t)vars.size();
  attrs["stacked"] = stacked_idx;
  attrs["sliced_inputs"] = sliced_inputs;
  attrs["cap_inputs"] = cap_inputs;
  attrs["reverse"] = W.attrs.get_or<bool>("reverse", false);
  std::vector<Output> outs = gc.b.op("WhileGrad", ins, attrs);
  size_t o = 0;
  for (int j : vars) result[j] = outs[o++];
  for (int64_t i : sliced_inputs) result[i] = outs[o++];
  for (int64_t i : cap_inputs) result[i] = outs[o++];
  return result;
}

REGISTER_OP("While").inputs(-1).stateful().shape(while_shape).cpu(while_kernel).grad(while_grad);

// WhileGrad(grads of the variables..., grads of stacked outputs..., captures..., trace)
//   -> grads of the initial variables..., of the sliced inputs..., of the captures...
void while_grad_shape(InferCtx& c) {
  Frame& f = frame_of(c.node, "frame");
  const int ns = (int)c.attr<int64_t>("num_state");
  const int nsl = (int)c.attr<std::vector<int64_t>>("sliced_inputs").size();
  if ((int)f.outputs.size() != ns + nsl + (int)c.attr<std::vector<int64_t>>("cap_inputs").size())
    c.fail("the gradient frame does not match its counts");
  for (size_t i = 0; i < f.outputs.size(); ++i) {
    PartialShape s = f.outputs[i].shape();
    if ((int)i >= ns && (int)i < ns + nsl) {  // rows -> the sliced input
      if (s.known_rank) {
        Dims d{-1};
        d.insert(d.end(), s.dims.begin(), s.dims.end());
        s = PartialShape(d);
      }
    }
    c.set_output((int)i, f.outputs[i].dtype(), s);
  }
}

template <class T>
void add_into(Tensor& acc, const Tensor& d) {
  T* a = acc.data<T>();
  const T* b = d.data<T>();
  for (int64_t i = 0, n = acc.size(); i < n; ++i) a[i] += b[i];
}

void while_grad_kernel(KernelCtx& c) {
  const int nin = (int)c.inputs.size();
  const int ns = (int)c.attr<int64_t>("num_state");
  const auto& stacked = c.attr<std::vector<int64_t>>("stacked");
  const auto& sliced = c.attr<std::vector<int64_t>>("sliced_inputs");
  const auto& caps = c.attr<std::vector<int64_t>>("cap_inputs");
  const bool reverse = c.attr<bool>("reverse");
  const int nst = (int)stacked.size();
  const Trace* trace = c.in(nin - 1).variant_as<Trace>();
  if (!trace) c.fail("The forward while loop did not record the values its gradient needs");
  const int64_t n = (int64_t)trace->steps.size();
  const int fid = (int)c.attr<int64_t>("frame");
  const int base = ns + nst;  // per-run values: the state, the rows of stacked gradients, then saved values
  auto fp = frame_plan(c, {0}, fid, [&](PlanSpec& s) {
    Frame& f = frame_of(c.node, "frame");
    for (int j = 0; j < ns; ++j) s.feed(f.args[j]->out(0), -1 - j);
    for (int q = 0; q < nst; ++q) s.feed(f.slice_args[q]->out(0), -1 - (ns + q));
    for (int i = ns + nst; i < nin - 1; ++i)
      if (!is_var(c.node.inputs[i])) s.feed(c.node.inputs[i], i);
    for (auto& [o, idx] : f.aliases) s.feed(o, -1 - (base + idx));
    s.fetches = f.outputs;
    for (const Output& o : f.outputs) s.dtypes.push_back(o.dtype());
  });
  std::vector<Tensor> state(c.inputs.begin(), c.inputs.begin() + ns);
  for (int q = 0; q < nst; ++q)
    if (c.in(ns + q).rank() < 1 || c.in(ns + q).dim(0) != n)
      c.fail("The gradient of a stacked loop output has shape " + c.in(ns + q).summary() + " but the loop ran " +
             std::to_string(n) + " iterations");
  std::vector<Tensor> dsliced(sliced.size()), dcaps(caps.size());
  for (size_t r = 0; r < sliced.size(); ++r) dsliced[r] = zeros(fp->dtypes[ns + r], trace->input_dims[sliced[r]]);
  Runner run(*fp, c);
  std::vector<Tensor> feeds, out;
  for (int64_t it = n - 1; it >= 0; --it) {
    const std::vector<Tensor>& saved = trace->steps[it];
    fill_feeds(*fp, feeds, [&](int src) {
      if (src >= 0) return c.in(src);
      const int v = -1 - src;
      if (v < ns) return state[v];
      if (v < base) return row_of(c.in(v), reverse ? n - 1 - it : it);
      if (v - base >= (int)saved.size()) c.fail("The forward while loop recorded fewer values than its gradient reads");
      return saved[v - base];
    });
    for (Tensor& t : state) t = Tensor();
    run.run(feeds, out);
    for (int j = 0; j < ns; ++j) state[j] = std::move(out[j]);
    for (size_t r = 0; r < sliced.size(); ++r) {
      Tensor& d = dsliced[r];
      const Tensor& row = out[ns + r];
      const int64_t rows = d.dim(0);
      if (it >= rows || Dims(d.dims().begin() + 1, d.dims().end()) != row.dims())
        c.fail("The gradient of a sliced element has shape " + row.summary() + ", which does not fit " + d.summary());
      set_row(d, reverse ? rows - 1 - it : it, row);
    }
    for (size_t i = 0; i < caps.size(); ++i) {
      Tensor& acc = dcaps[i];
      Tensor& d = out[ns + sliced.size() + i];
      if (!acc.valid()) {
        acc = std::move(d);
        continue;
      }
      if (acc.dims() != d.dims() || acc.dtype() != d.dtype())
        c.fail("The gradient of a loop capture has shape " + d.summary() + " in one iteration and " + acc.summary() +
               " in another");
      if (!acc.unique()) acc = acc.deep_copy();
      dispatch<kFloat>(acc.dtype(), "WhileGrad", [&](auto z) { add_into<decltype(z)>(acc, d); });
    }
  }
  int o = 0;
  for (int j = 0; j < ns; ++j) c.set(o++, std::move(state[j]));
  for (auto& d : dsliced) c.set(o++, std::move(d));
  for (size_t i = 0; i < caps.size(); ++i, ++o)
    c.set(o, dcaps[i].valid() ? std::move(dcaps[i]) : zeros(fp->dtypes[o], trace->input_dims[caps[i]]));
}

REGISTER_OP("WhileGrad").inputs(-1).stateful().shape(while_grad_shape).cpu(while_grad_kernel)
    .grad([](GradCtx& g) -> std::vector<Output> {
      throw Error(ErrorCode::Unimplemented,
                  "Second-order gradients of tf.while_loop are not supported (op " + g.node.describe() + ")");
    });

}  // namespace
}  // namespace tideflow
