// Ops that make a tensor from scalars: Fill, Range, OneHot.
#include <cmath>

#include "array_util.h"

namespace tideflow {
namespace {

using namespace array_util;

void fill_shape(InferCtx& c) {
  expect_int(c, 0, "dims");
  if (c.shape(1).rank() > 0) c.fail("value must be a scalar, got shape " + c.shape(1).str());
  c.set_output(0, c.dtype(1), shape_from_tensor(c, 0));
}

void fill_kernel(KernelCtx& c) {
  const Tensor& v = c.in(1);
  if (v.rank() != 0) c.fail("value must be a scalar, got " + v.summary());
  if (c.in(0).rank() > 1) c.fail("dims must be a vector, got " + c.in(0).summary());
  Dims d = c.in(0).to_int_vector();
  for (int64_t x : d) if (x < 0) c.fail("dims " + dims_str(d) + " has a negative dimension");
  Tensor& out = c.alloc(0, v.dtype(), d);
  dispatch_any(v.dtype(), [&](auto z) {
    using T = decltype(z);
    T val = *v.data<T>();
    T* o = out.data<T>();
    c.parallel_for(out.size(), 1, [&](int64_t b, int64_t e) { std::fill(o + b, o + e, val); });
  });
}

REGISTER_OP("Fill").inputs(2).shape(fill_shape).cpu(fill_kernel)
    .grad([](GradCtx& g) {
      Output flat = g.b.op1("Reshape", {g.g(), g.b.ints({-1})});
      return std::vector<Output>{Output{}, g.b.op1("Sum", {flat, g.b.ints({0})}, AttrMap{{"keep_dims", false}})};
    });

template <class T> int64_t range_size(T start, T limit, T delta) {
  if constexpr (std::is_integral_v<T>) {
    int64_t span = (int64_t)limit - (int64_t)start, d = (int64_t)delta;
    return (std::abs(span) + std::abs(d) - 1) / std::abs(d);
  } else {
    return (int64_t)std::ceil(std::abs((double)(limit - start) / (double)delta));
  }
}

// Range's checks and length, or an error message.
template <class T> std::string check_range(T start, T limit, T delta, int64_t* n) {
  auto s = [](T v) { return std::to_string(v); };
  if (delta == 0) return "Requires delta != 0: " + s(delta);
  if (delta > 0 && start > limit) return "Requires start <= limit when delta > 0: " + s(start) + "/" + s(limit);
  if (delta < 0 && start < limit) return "Requires start >= limit when delta < 0: " + s(start) + "/" + s(limit);
  *n = range_size(start, limit, delta);
  return "";
}

void range_shape(InferCtx& c) {
  c.expect_same_dtype(0, 1);
  c.expect_same_dtype(0, 2);
  if (!is_numeric(c.dtype(0))) c.type_fail(std::string("Range does not support dtype ") + dtype_name(c.dtype(0)));
  for (int i = 0; i < 3; ++i)
    if (c.shape(i).rank() > 0) c.fail("start, limit and delta must be scalars; input " + std::to_string(i) + " has shape " + c.shape(i).str());
  const Tensor *a = c.const_value(0), *b = c.const_value(1), *d = c.const_value(2);
  int64_t n = -1;
  if (a && b && d) {
    dispatch_numeric(c.dtype(0), "Range", [&](auto z) {
      using T = decltype(z);
      std::string err = check_range(*a->data<T>(), *b->data<T>(), *d->data<T>(), &n);
      if (!err.empty()) c.fail(err);
    });
  }
  c.set_output(0, c.dtype(0), PartialShape(Dims{n}));
}

void range_kernel(KernelCtx& c) {
  dispatch_numeric(c.in(0).dtype(), "Range", [&](auto z) {
    using T = decltype(z);
    for (int i = 0; i < 3; ++i) if (c.in(i).size() != 1) c.fail("start, limit and delta must be scalars");
    T start = *c.in(0).data<T>(), limit = *c.in(1).data<T>(), delta = *c.in(2).data<T>();
    int64_t n = 0;
    std::string err = check_range(start, limit, delta, &n);
    if (!err.empty()) c.fail(err);
    T* o = c.alloc(0, c.in(0).dtype(), {n}).template data<T>();
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(start + static_cast<T>(i) * delta);
  });
}

REGISTER_OP("Range").inputs(3).not_differentiable().shape(range_shape).cpu(range_kernel);

void one_hot_shape(InferCtx& c) {
  expect_int(c, 0, "indices");
  expect_int(c, 1, "depth");
  c.expect_same_dtype(2, 3);
  const PartialShape& s = c.shape(0);
  int64_t axis = c.node.attrs.get_or<int64_t>("axis", -1), depth = -1;
  if (axis < -1) c.fail("axis must be >= -1, got " + std::to_string(axis));
  if (const_scalar(c, 1, &depth) && depth < 0) c.fail("depth must be non-negative, got " + std::to_string(depth));
  if (!s.known_rank) return c.set_output(0, c.dtype(2), PartialShape::unknown());
  if (axis > s.rank()) c.fail("axis " + std::to_string(axis) + " is out of range for indices of rank " + std::to_string(s.rank()));
  Dims d = s.dims;
  d.insert(d.begin() + (axis == -1 ? s.rank() : axis), depth);
  c.set_output(0, c.dtype(2), PartialShape(d));
}

void one_hot_kernel(KernelCtx& c) {
  const Tensor& idx = c.in(0);
  int64_t depth = scalar_arg(c, 1, "depth"), axis = c.node.attrs.get_or<int64_t>("axis", -1);
  if (depth < 0) c.fail("depth must be non-negative, got " + std::to_string(depth));
  if (axis < -1 || axis > idx.rank()) c.fail("Expected axis to be -1 or between [0, " + std::to_string(idx.rank()) + "]. But received: " + std::to_string(axis));
  if (axis == -1) axis = idx.rank();
  Dims od = idx.dims();
  od.insert(od.begin() + axis, depth);
  int64_t suffix = 1;
  for (int i = (int)axis; i < idx.rank(); ++i) suffix *= idx.dim(i);
  const int64_t prefix = suffix ? idx.size() / suffix : 0;
  Tensor& out = c.alloc(0, c.in(2).dtype(), od);
  dispatch_any(out.dtype(), [&](auto z) {
    using T = decltype(z);
    const T on = *c.in(2).data<T>(), off = *c.in(3).data<T>();
    T* o = out.data<T>();
    std::fill_n(o, out.size(), off);
    dispatch_numeric(idx.dtype(), "OneHot indices", [&](auto zi) {
      using I = decltype(zi);
      const I* ix = idx.data<I>();
      for (int64_t p = 0; p < prefix; ++p)
        for (int64_t s = 0; s < suffix; ++s) {
          int64_t k = (int64_t)ix[p * suffix + s];
          if (k >= 0 && k < depth) o[(p * depth + k) * suffix + s] = on;
        }
    });
  });
}

REGISTER_OP("OneHot").inputs(4).not_differentiable().shape(one_hot_shape).cpu(one_hot_kernel);

}  // namespace
}  // namespace tideflow
