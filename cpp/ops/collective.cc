// HorovodAllreduce, HorovodAllgather, HorovodBroadcast: Horovod's TensorFlow ops, with its names,
// attributes and gradients. Their kernels are async (Note [async kernels] in op_registry.h): they hand the
// input to the collective controller (cpp/dist/controller.h), whose thread negotiates with the other
// ranks and calls MPI, and the executor goes on with the rest of the graph meanwhile.
#include "dist/controller.h"
#include "op_registry.h"

namespace tideflow {
namespace {

using dist::CollKind;
using dist::Controller;
using dist::ReduceOp;

// Horovod keys a collective by its node's name, optionally without the name scopes.
std::string collective_name(const Node& n) {
  if (!n.attrs.get_or<bool>("ignore_name_scope", false)) return n.name;
  const size_t slash = n.name.rfind('/');
  return slash == std::string::npos ? n.name : n.name.substr(slash + 1);
}

void start(KernelCtx& c, AsyncDone done, CollKind kind) {
  dist::CollRequest r;
  r.name = collective_name(c.node);
  r.where = c.node.describe();
  r.kind = kind;
  r.op = (ReduceOp)c.node.attrs.get_or<int64_t>("reduce_op", (int64_t)ReduceOp::Sum);
  r.prescale = c.node.attrs.get_or<double>("prescale_factor", 1.0);
  r.postscale = c.node.attrs.get_or<double>("postscale_factor", 1.0);
  r.root = (int)c.node.attrs.get_or<int64_t>("root_rank", 0);
  // Taken, not copied: when nothing else reads the input, the allreduce can run in its buffer.
  r.input = std::move(c.inputs[0]);
  Tensor* out = &c.outputs[0];
  r.done = [out, done = std::move(done)](Tensor t, std::exception_ptr e) {
    if (!e) *out = std::move(t);
    done(e);
  };
  Controller::global().enqueue(std::move(r));
}

void expect_dtype(InferCtx& c, const char* op, bool allow_bool) {
  const DType dt = c.dtype(0);
  if (!is_numeric(dt) && !(allow_bool && dt == DType::Bool))
    c.type_fail(std::string(op) + " does not support dtype " + dtype_name(dt) + " (float32, float64, int32, int64" +
                (allow_bool ? ", bool)" : ")"));
}

void allreduce_shape(InferCtx& c) {
  expect_dtype(c, "HorovodAllreduce", false);
  const int64_t op = c.attr<int64_t>("reduce_op");
  if (op < 0 || op > (int64_t)ReduceOp::Product) c.fail("reduce_op must be one of Horovod's Average, Sum, Min, Max, Product");
  if (op == (int64_t)ReduceOp::Adasum) c.fail("the Adasum reduction is not supported by tideflow.horovod");
  shape_unchanged(c);
}

void allgather_shape(InferCtx& c) {
  expect_dtype(c, "HorovodAllgather", true);
  const PartialShape& s = c.shape(0);
  if (s.known_rank && s.rank() == 0) c.fail("allgather needs a tensor of rank at least 1, got a scalar");
  PartialShape out = s;
  if (out.known_rank) out.dims[0] = -1;
  c.set_output(0, c.dtype(0), out);
}

void broadcast_shape(InferCtx& c) {
  expect_dtype(c, "HorovodBroadcast", true);
  if (c.attr<int64_t>("root_rank") < 0) c.fail("root_rank must be non-negative");
  shape_unchanged(c);
}

AttrMap sum_attrs(const Node& n) {
  return AttrMap{{"reduce_op", (int64_t)ReduceOp::Sum}, {"prescale_factor", 1.0}, {"postscale_factor", 1.0},
                 {"ignore_name_scope", n.attrs.get_or<bool>("ignore_name_scope", false)}};
}

const Controller& initialized(const Node& n) {
  const Controller& ctl = Controller::global();
  if (!ctl.running())
    throw value_error("the gradient of " + n.describe() + " depends on this process's rank: call hvd.init() first");
  return ctl;
}

// Horovod's rules: the gradient of an allreduce is the same allreduce of the gradient; of an allgather,
// this rank's rows of the summed gradient; of a broadcast, the summed gradient on the root, zero elsewhere.
std::vector<Output> allreduce_grad(GradCtx& g) {
  AttrMap a = g.node.attrs;
  return {g.b.op1("HorovodAllreduce", {g.g()}, a)};
}

std::vector<Output> allgather_grad(GradCtx& g) {
  const int rank = initialized(g.node).rank();
  Output summed = g.b.op1("HorovodAllreduce", {g.g()}, sum_attrs(g.node));
  Output shape = g.b.op1("Shape", {g.x(0)});
  Output rows = g.b.op1("Slice", {shape, g.b.ints({0}), g.b.ints({1})});
  Output all_rows = g.b.op1("HorovodAllgather", {rows}, AttrMap{{"ignore_name_scope", false}});
  // Every rank reads the gathered sizes (rank 0 sums an empty slice): a collective that some ranks
  // prune from their step would leave the others waiting for it.
  Output offset = g.b.op1("Sum", {g.b.op1("Slice", {all_rows, g.b.ints({0}), g.b.ints({rank})}), g.b.ints({0})},
                          AttrMap{{"keep_dims", true}});
  Output rest = g.b.op1("ZerosLike", {g.b.op1("Slice", {shape, g.b.ints({1}), g.b.ints({-1})})});
  Output begin = g.b.op1("ConcatV2", {offset, rest, g.b.ints({0})});
  return {g.b.op1("Slice", {summed, begin, shape})};
}

std::vector<Output> broadcast_grad(GradCtx& g) {
  const int rank = initialized(g.node).rank();
  Output summed = g.b.op1("HorovodAllreduce", {g.g()}, sum_attrs(g.node));
  if (rank == (int)g.node.attrs.get<int64_t>("root_rank")) return {summed};
  return {g.b.op1("Mul", {summed, g.b.scalar(0, g.g().dtype())})};
}

}  // namespace

REGISTER_OP("HorovodAllreduce").inputs(1).stateful().shape(allreduce_shape)
    .cpu_async([](KernelCtx& c, AsyncDone d) { start(c, std::move(d), CollKind::Allreduce); })
    .grad(allreduce_grad);

REGISTER_OP("HorovodAllgather").inputs(1).stateful().shape(allgather_shape)
    .cpu_async([](KernelCtx& c, AsyncDone d) { start(c, std::move(d), CollKind::Allgather); })
    .grad(allgather_grad);

REGISTER_OP("HorovodBroadcast").inputs(1).stateful().shape(broadcast_shape)
    .cpu_async([](KernelCtx& c, AsyncDone d) { start(c, std::move(d), CollKind::Broadcast); })
    .grad(broadcast_grad);

}  // namespace tideflow
