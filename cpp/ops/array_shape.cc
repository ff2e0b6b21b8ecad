// Shape ops: Reshape, ExpandDims and Squeeze (views of the input buffer), BroadcastTo, and Shape, Size
// and Rank. Slicing and gathering live in array_slice.cc and array_gather.cc.
#include "array_util.h"

namespace tideflow {
namespace {

using namespace array_util;

// ---------------------------------------------------------------------------------------------------
// Reshape, ExpandDims, Squeeze: views of the input buffer.

// Resolves a reshape target against `n` input elements (n < 0: unknown, the -1 stays unknown).
// Returns an error message, or "" on success.
std::string resolve_reshape(Dims& target, int64_t n) {
  int unknown = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      if (unknown >= 0) return "Only one input size may be -1, not both " + std::to_string(unknown) + " and " + std::to_string(i);
      unknown = (int)i;
    } else if (target[i] < 0) {
      return "Size " + std::to_string(i) + " must be non-negative, not " + std::to_string(target[i]);
    } else if (__builtin_mul_overflow(known, target[i], &known)) {
      return "Requested shape " + dims_str(target) + " has too many elements";
    }
  }
  if (n < 0) return "";
  if (unknown >= 0) {
    if (known == 0) {
      if (n != 0) return "Reshape cannot infer the missing input size for an empty tensor unless all specified input sizes are non-zero";
      target[unknown] = 0;
    } else if (n % known != 0) {
      return "Input to reshape is a tensor with " + std::to_string(n) + " values, but the requested shape requires a multiple of " +
             std::to_string(known);
    } else {
      target[unknown] = n / known;
    }
  } else if (known != n) {
    return "Input to reshape is a tensor with " + std::to_string(n) + " values, but the requested shape has " + std::to_string(known);
  }
  return "";
}

// Reshape to a partly known target: known entries stand; an unknown entry is inferred when it is the only
// open one and the input's size is known.
PartialShape reshape_partial(InferCtx& c, Dims target) {
  const PartialShape& in = c.shape(0);
  int open = -1, n_open = 0, literal = 0;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == kUnknownDim || target[i] == -1) {
      literal += target[i] == -1;
      open = (int)i;
      ++n_open;
      target[i] = -1;
    } else if (target[i] < 0) {
      c.fail("Size " + std::to_string(i) + " must be non-negative, not " + std::to_string(target[i]));
    } else if (__builtin_mul_overflow(known, target[i], &known)) {
      c.fail("Requested shape " + dims_str(target) + " has too many elements");
    }
  }
  if (literal > 1) c.fail("Only one input size may be -1");
  // checked: an input of [2^40, 2^40] has more elements than int64 holds (UBSan found the product
  // overflowing here); its inferred dim stays unknown
  const int64_t n_in = in.fully_defined() ? checked_num_elements(in.dims) : -1;
  if (n_open == 1 && n_in >= 0 && known > 0) target[open] = n_in / known;
  return PartialShape(target);
}

void reshape_shape(InferCtx& c) {
  expect_int(c, 1, "shape");
  std::vector<int64_t> target;
  if (!shape_tensor_value(c.node.inputs[1], &target)) return c.set_output(0, c.dtype(0), PartialShape::unknown());
  for (int64_t d : target)
    if (d == kUnknownDim) return c.set_output(0, c.dtype(0), reshape_partial(c, target));
  const PartialShape& in = c.shape(0);
  const Dims requested = target;
  std::string err = resolve_reshape(target, in.fully_defined() ? checked_num_elements(in.dims) : -1);
  // A partly known input still fixes a factor of the element count: a fully specified target must be a
  // multiple of the known dims' product (the unknown dims multiply it by a whole number).
  if (err.empty() && in.known_rank && !in.fully_defined()) {
    int64_t known = 1;
    bool target_known = true;
    for (int64_t d : in.dims)
      if (d >= 0 && __builtin_mul_overflow(known, d, &known)) known = 0;  // too large to constrain anything
    for (int64_t d : target) target_known &= d >= 0;
    if (target_known && known > 0 && num_elements(target) % known != 0)
      err = "Cannot reshape a tensor with a multiple of " + std::to_string(known) + " elements to shape " + dims_str(target) +
            " (" + std::to_string(num_elements(target)) + " elements)";
  }
  if (!err.empty()) c.fail(err + " (input shape " + in.str() + ", requested shape " + dims_str(requested) + ")");
  c.set_output(0, c.dtype(0), PartialShape(target));
}

void reshape_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  const Tensor& s = c.in(1);
  if (s.rank() > 1) c.fail("shape must be a vector, got " + s.summary());
  Dims target = s.to_int_vector();
  std::string err = resolve_reshape(target, x.size());
  if (!err.empty()) c.fail(err + " (requested shape " + dims_str(s.to_int_vector()) + ")");
  c.set(0, x.reshaped(target));
}

// Gradient of a view: reshape the incoming gradient back to the input's shape.
std::vector<Output> reshape_back_grad(GradCtx& g) {
  std::vector<Output> r(g.node.inputs.size());
  r[0] = g.b.op1("Reshape", {g.g(), shape_of(g.b, g.x(0))});
  return r;
}
REGISTER_OP("Reshape").inputs(2).exact_grads().shape(reshape_shape).cpu(reshape_kernel).grad(reshape_back_grad);

void expand_dims_shape(InferCtx& c) {
  expect_int(c, 1, "axis");
  const PartialShape& in = c.shape(0);
  int64_t axis;
  if (!in.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown());
  if (!const_scalar(c, 1, &axis)) return c.set_output(0, c.dtype(0), PartialShape::unknown_of_rank(in.rank() + 1));
  int64_t a = canonical_axis(axis, in.rank(), true);
  if (a < 0) c.fail("axis " + std::to_string(axis) + " is out of range " + range_str(in.rank(), true));
  Dims d = in.dims;
  d.insert(d.begin() + a, 1);
  c.set_output(0, c.dtype(0), PartialShape(d));
}

void expand_dims_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  int64_t axis = scalar_arg(c, 1, "axis");
  int64_t a = canonical_axis(axis, x.rank(), true);
  if (a < 0) c.fail("Tried to expand dim index " + std::to_string(axis) + " for tensor with " + std::to_string(x.rank()) + " dimensions.");
  Dims d = x.dims();
  d.insert(d.begin() + a, 1);
  c.set(0, x.reshaped(d));
}

REGISTER_OP("ExpandDims").inputs(2).shape(expand_dims_shape).cpu(expand_dims_kernel).grad(reshape_back_grad);

// Squeeze: which dims go. `dims` may hold -1 (unknown) at graph build; returns false when the result's rank
// cannot be known (unknown dims and no explicit squeeze_dims).
template <class Fail>
bool squeeze_dims(const Dims& dims, const std::vector<int64_t>& axes, Dims* out, Fail&& fail) {
  const int64_t r = (int64_t)dims.size();
  std::vector<char> drop(r, 0);
  if (axes.empty()) {
    for (int64_t i = 0; i < r; ++i) {
      if (dims[i] < 0) return false;
      drop[i] = dims[i] == 1;
    }
  } else {
    for (int64_t a : axes) {
      int64_t k = canonical_axis(a, r);
      if (k < 0) fail("Tried to squeeze dim index " + std::to_string(a) + " for tensor with " + std::to_string(r) + " dimensions.");
      if (dims[k] >= 0 && dims[k] != 1)
        fail("Can not squeeze dim[" + std::to_string(a) + "], expected a dimension of 1, got " + std::to_string(dims[k]));
      drop[k] = 1;
    }
  }
  out->clear();
  for (int64_t i = 0; i < r; ++i) if (!drop[i]) out->push_back(dims[i]);
  return true;
}

REGISTER_OP("Squeeze").inputs(1)
    .shape([](InferCtx& c) {
      const PartialShape& s = c.shape(0);
      const auto& axes = c.node.attrs.get_or<std::vector<int64_t>>("squeeze_dims", {});
      Dims out;
      if (s.known_rank && squeeze_dims(s.dims, axes, &out, [&](const std::string& m) { c.fail(m); }))
        c.set_output(0, c.dtype(0), PartialShape(out));
      else
        c.set_output(0, c.dtype(0), PartialShape::unknown());
    })
    .cpu([](KernelCtx& c) {
      const Tensor& x = c.in(0);
      Dims out;
      squeeze_dims(x.dims(), c.node.attrs.get_or<std::vector<int64_t>>("squeeze_dims", {}), &out,
                   [&](const std::string& m) { c.fail(m); });
      c.set(0, x.reshaped(out));
    })
    .grad(reshape_back_grad);

// ---------------------------------------------------------------------------------------------------
// BroadcastTo(x, shape): one strided view (Note [strided views]), step 0 along the broadcast dims.

// BroadcastTo: x's dims aligned to the right of `target`; returns an error or "". Unknown (-1) dims pass.
std::string check_broadcast_to(const Dims& x, const Dims& target) {
  auto fail = [&] { return "Unable to broadcast tensor of shape " + dims_str(x) + " to tensor of shape " + dims_str(target); };
  if (x.size() > target.size()) return fail();
  size_t off = target.size() - x.size();
  for (size_t i = 0; i < x.size(); ++i)
    if (x[i] >= 0 && target[off + i] >= 0 && x[i] != 1 && x[i] != target[off + i]) return fail();
  return "";
}

void broadcast_to_shape(InferCtx& c) {
  expect_int(c, 1, "shape");
  PartialShape target = shape_from_tensor(c, 1);
  const PartialShape& s = c.shape(0);
  if (s.known_rank && target.known_rank) {
    std::string err = check_broadcast_to(s.dims, target.dims);
    if (!err.empty()) c.fail(err);
  }
  c.set_output(0, c.dtype(0), target);
}

void broadcast_to_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  Dims target = c.in(1).to_int_vector();
  for (int64_t d : target) if (d < 0) c.fail("shape " + dims_str(target) + " has a negative dimension");
  std::string err = check_broadcast_to(x.dims(), target);
  if (!err.empty()) c.fail(err);
  if (target == x.dims()) return c.set(0, x);
  const size_t off = target.size() - x.dims().size();
  Dims xs = strides_of(x.dims()), os = strides_of(target);
  View v;
  for (size_t i = 0; i < target.size(); ++i) {
    bool from_x = i >= off && x.dim((int)(i - off)) == target[i];
    v.add(target[i], from_x ? xs[i - off] : 0, os[i]);
  }
  copy_view_any(c, x, c.alloc(0, x.dtype(), target), v);
}

REGISTER_OP("BroadcastTo").inputs(2).shape(broadcast_to_shape).cpu(broadcast_to_kernel)
    .grad([](GradCtx& g) { return std::vector<Output>{g.b.op1("SumToShape", {g.g(), g.x(0)}), Output{}}; });

// ---------------------------------------------------------------------------------------------------
// Shape, Size, Rank: not differentiable.

DType out_type(const AttrMap& a) { return a.get_or<DType>("out_type", DType::Int32); }

Tensor int_tensor(DType dt, const Dims& dims, const std::vector<int64_t>& v) {
  Tensor t(dt, dims);
  for (size_t i = 0; i < v.size(); ++i) {
    if (dt == DType::Int64) t.data<int64_t>()[i] = v[i];
    else t.data<int32_t>()[i] = (int32_t)v[i];
  }
  return t;
}

REGISTER_OP("Shape").inputs(1).not_differentiable()
    .shape([](InferCtx& c) {
      c.set_output(0, out_type(c.node.attrs), PartialShape(Dims{c.shape(0).known_rank ? (int64_t)c.shape(0).rank() : -1}));
    })
    .cpu([](KernelCtx& c) {
      const Dims& d = c.in(0).dims();
      c.set(0, int_tensor(out_type(c.node.attrs), {(int64_t)d.size()}, d));
    });

REGISTER_OP("Size").inputs(1).not_differentiable()
    .shape([](InferCtx& c) { c.set_output(0, out_type(c.node.attrs), PartialShape(Dims{})); })
    .cpu([](KernelCtx& c) { c.set(0, int_tensor(out_type(c.node.attrs), {}, {c.in(0).size()})); });

REGISTER_OP("Rank").inputs(1).not_differentiable()
    .shape([](InferCtx& c) { c.set_output(0, DType::Int32, PartialShape(Dims{})); })
    .cpu([](KernelCtx& c) { c.set(0, int_tensor(DType::Int32, {}, {c.in(0).rank()})); });

}  // namespace
}  // namespace tideflow
