// Slicing: Slice and StridedSlice (the engine of Tensor.__getitem__), and the ops their gradients scatter
// through, SliceGrad and StridedSliceGrad.
#include "array_util.h"

namespace tideflow {
namespace {

using namespace array_util;

// The view that reads a box of `x` (dims `xd`) at `begin` with `steps` per dim into a contiguous `out`.
View box_view(const Dims& xd, const Dims& begin, const Dims& steps, const Dims& out) {
  Dims xs = strides_of(xd), os = strides_of(out);
  View v;
  for (size_t i = 0; i < xd.size(); ++i) {
    v.sbase += begin[i] * xs[i];
    v.add(out[i], steps[i] * xs[i], os[i]);
  }
  return v;
}

// The same box seen from the other side: a contiguous `dy` written into the box of a zeroed tensor.
View box_scatter_view(const Dims& xd, const Dims& begin, const Dims& steps, const Dims& out) {
  View v = box_view(xd, begin, steps, out);
  std::swap(v.sstep, v.dstep);
  std::swap(v.sbase, v.dbase);
  return v;
}

// SliceGrad(shape, begin, dy) and StridedSliceGrad(shape, ..., dy): zeros of `shape` with dy written into
// the box the forward op read; the output has dy's dtype and the (constant when known) `shape`.
void scatter_grad_shape(InferCtx& c) {
  const int dy = c.num_inputs() - 1;
  expect_int(c, 0, "shape");
  std::vector<int64_t> d;
  if (c.const_ints(0, &d)) return c.set_output(0, c.dtype(dy), PartialShape(d));
  int64_t len = static_length(c, 0);
  c.set_output(0, c.dtype(dy), len >= 0 ? PartialShape::unknown_of_rank((int)len) : PartialShape::unknown());
}

// ---------------------------------------------------------------------------------------------------
// Slice(x, begin, size): size -1 means "to the end".

// Resolves size -1 and checks bounds against known dims (-1: unknown, skipped). Returns an error or "".
std::string resolve_slice(const Dims& dims, const Dims& begin, Dims& size) {
  if (begin.size() != dims.size() || size.size() != dims.size())
    return "Expected begin and size arguments to be 1-D tensors of size " + std::to_string(dims.size()) + ", but got " +
           std::to_string(begin.size()) + " and " + std::to_string(size.size()) + " entries";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (size[i] == -1 && dims[i] >= 0) size[i] = dims[i] - begin[i];
    if (begin[i] < 0 || size[i] < -1 || (dims[i] >= 0 && (begin[i] > dims[i] || begin[i] + size[i] > dims[i])))
      return "Expected size[" + std::to_string(i) + "] in [0, " + std::to_string(dims[i] - begin[i]) + "], but got " +
             std::to_string(size[i]) + " (begin[" + std::to_string(i) + "] = " + std::to_string(begin[i]) + ", dim = " +
             std::to_string(dims[i]) + ")";
  }
  return "";
}

void slice_shape(InferCtx& c) {
  expect_int(c, 1, "begin");
  expect_int(c, 2, "size");
  const PartialShape& s = c.shape(0);
  std::vector<int64_t> begin, size;
  bool kb = c.const_ints(1, &begin), ks = c.const_ints(2, &size);
  int64_t rank = s.known_rank ? s.rank() : std::max(static_length(c, 1), static_length(c, 2));
  if (rank < 0) return c.set_output(0, c.dtype(0), PartialShape::unknown());
  if (!ks) return c.set_output(0, c.dtype(0), PartialShape::unknown_of_rank((int)rank));
  Dims dims = s.known_rank ? s.dims : Dims(rank, -1);
  if (!kb) {
    if ((int64_t)size.size() != rank) c.fail("size has " + std::to_string(size.size()) + " entries for a rank " + std::to_string(rank) + " input");
    // A size of -1 ("to the end") from an unknown begin stays an unknown dim (-1).
    for (auto& v : size) if (v < -1) c.fail("size entries must be >= -1, got " + dims_str(size));
    return c.set_output(0, c.dtype(0), PartialShape(size));
  }
  std::string err = resolve_slice(dims, begin, size);
  if (!err.empty()) c.fail(err);
  c.set_output(0, c.dtype(0), PartialShape(size));
}

void slice_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  Dims begin = c.in(1).to_int_vector(), size = c.in(2).to_int_vector();
  std::string err = resolve_slice(x.dims(), begin, size);
  if (!err.empty()) c.fail(err);
  if (size == x.dims()) return c.set(0, x);
  copy_view_any(c, x, c.alloc(0, x.dtype(), size), box_view(x.dims(), begin, Dims(size.size(), 1), size));
}

REGISTER_OP("Slice").inputs(3).shape(slice_shape).cpu(slice_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("SliceGrad", {shape_of(g.b, g.x(0)), g.x(1), g.g()}), Output{}, Output{}};
    });

void slice_grad_kernel(KernelCtx& c) {
  Dims shape = c.in(0).to_int_vector(), begin = c.in(1).to_int_vector();
  const Tensor& dy = c.in(2);
  Dims size = dy.dims();
  std::string err = resolve_slice(shape, begin, size);
  if (!err.empty()) c.fail(err);
  Tensor& out = c.alloc(0, dy.dtype(), shape);
  zero_fill(out);
  copy_view_any(c, dy, out, box_scatter_view(shape, begin, Dims(size.size(), 1), size));
}

REGISTER_OP("SliceGrad").inputs(3).shape(scatter_grad_shape).cpu(slice_grad_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{Output{}, Output{}, g.b.op1("Slice", {g.g(), g.x(1), shape_of(g.b, g.x(2))})};
    });

// ---------------------------------------------------------------------------------------------------
// StridedSlice

// Note [strided slice spec]
// TensorFlow's algorithm (ValidateStridedSliceOp), so masks mean exactly what they mean there. The
// "sparse" spec (begin/end/strides as written, with an ellipsis and new axes) becomes a "dense" spec with
// one (begin, end, stride) per input dim; then each dim's begin/end are made canonical (masks applied,
// negatives wrapped, clamped) and its length computed. The processing shape (one entry per input dim) is
// what the copy walks; the final shape drops shrunk dims and inserts new axes. The same code serves
// shape inference (dims -1 and begin/end possibly unknown) and the kernels.
constexpr int kShrinkAxis = -1, kNewAxis = -2;

struct SliceMasks {
  int64_t begin = 0, end = 0, ellipsis = 0, new_axis = 0, shrink = 0;
  explicit SliceMasks(const AttrMap& a)
      : begin(a.get_or<int64_t>("begin_mask", 0)), end(a.get_or<int64_t>("end_mask", 0)),
        ellipsis(a.get_or<int64_t>("ellipsis_mask", 0)), new_axis(a.get_or<int64_t>("new_axis_mask", 0)),
        shrink(a.get_or<int64_t>("shrink_axis_mask", 0)) {}
};

struct DenseSlice {
  Dims begin, end, strides, processing;
  std::vector<int> gather;  // per final dim: input dim, or kNewAxis; kShrinkAxis entries are dropped
  bool identity = true;

  Dims final_dims() const {
    Dims d;
    for (int g : gather) {
      if (g >= 0) d.push_back(processing[g]);
      else if (g == kNewAxis) d.push_back(1);
    }
    return d;
  }
};

// `dims`: input dims (-1 unknown); `sb`/`se`: sparse begin/end or nullptr when unknown; `ss`: strides.
std::string strided_slice_spec(const Dims& dims, const std::vector<int64_t>* sb, const std::vector<int64_t>* se,
                               const std::vector<int64_t>& ss, const SliceMasks& m, DenseSlice* out) {
  // Note [slice masks are int32]: TensorFlow reads the five masks as int32 (a value outside is refused when
  // the attribute is read) and tests bit i for sparse index i: an index past bit 31 has no mask bit. The
  // masks were int64 arithmetic here, and an ellipsis_mask of -2**63 overflowed in `mask - 1` (UBSan, in
  // tests/test_attr_audit.py); `1LL << i` for the 64th sparse index or dense dim was as undefined.
  const std::pair<const char*, int64_t> masks[] = {{"begin_mask", m.begin}, {"end_mask", m.end},
      {"ellipsis_mask", m.ellipsis}, {"new_axis_mask", m.new_axis}, {"shrink_axis_mask", m.shrink}};
  for (const auto& [name, v] : masks)
    if (v < INT32_MIN || v > INT32_MAX)
      return std::string("Attr ") + name + " has value " + std::to_string(v) + " out of range for an int32";
  auto bit = [](int64_t mask, int i) { return i < 32 && ((static_cast<uint32_t>(mask) >> i) & 1u); };
  const uint32_t ellipsis_bits = static_cast<uint32_t>(m.ellipsis);
  if (ellipsis_bits & (ellipsis_bits - 1)) return "Multiple ellipses in slice spec not allowed";
  int sparse_dims = (int)ss.size();
  if ((sb && (int)sb->size() != sparse_dims) || (se && (int)se->size() != sparse_dims))
    return "Expected begin, end, and strides to be 1D equal size tensors, but got shapes of " +
           std::to_string(sb ? sb->size() : 0) + ", " + std::to_string(se ? se->size() : 0) + ", and " + std::to_string(ss.size());
  // Step 1: an implicit ellipsis at the end, and how many new axes follow the ellipsis.
  int ellipsis_at = -1, new_after_ellipsis = 0;
  for (int i = 0; i < sparse_dims; ++i) {
    if (ellipsis_at >= 0 && bit(m.new_axis, i)) ++new_after_ellipsis;
    if (ellipsis_at < 0 && bit(m.ellipsis, i)) ellipsis_at = i;
  }
  if (ellipsis_at < 0) ellipsis_at = sparse_dims++;
  // Step 2: sparse to dense.
  const int rank = (int)dims.size();
  DenseSlice& d = *out;
  d = DenseSlice();
  d.begin.assign(rank, 0);
  d.end.assign(rank, 0);
  d.strides.assign(rank, 1);
  std::vector<char> bmask(rank, 0), emask(rank, 0), shrink(rank, 0);  // dense masks: a rank may pass 64
  int full = 0;
  for (int i = 0; i < sparse_dims; ++i) {
    if (i == ellipsis_at) {
      int next = std::min(rank - (sparse_dims - i) + 1 + new_after_ellipsis, rank);
      for (; full < next; ++full) {
        bmask[full] = emask[full] = 1;
        d.gather.push_back(full);
      }
    } else if (bit(m.new_axis, i)) {
      d.gather.push_back(kNewAxis);
    } else {
      if (full == rank) return "Index out of range using input dim " + std::to_string(full) + "; input has only " + std::to_string(rank) + " dims";
      if (sb) d.begin[full] = (*sb)[i];
      if (se) d.end[full] = (*se)[i];
      d.strides[full] = ss[i];
      bmask[full] = bit(m.begin, i);
      emask[full] = bit(m.end, i);
      if (bit(m.shrink, i)) {
        d.gather.push_back(kShrinkAxis);
        shrink[full] = 1;
      } else {
        d.gather.push_back(full);
      }
      ++full;
    }
  }
  // Step 3: canonical ranges and the processing shape.
  const bool known = sb && se;
  for (int i = 0; i < rank; ++i) {
    int64_t &b = d.begin[i], &e = d.end[i], s = d.strides[i], n = dims[i];
    if (s == 0) return "strides[" + std::to_string(i) + "] must be non-zero";
    const bool shrink_i = shrink[i];
    if (shrink_i && s <= 0) return "only stride 1 allowed on non-range indexing.";
    const bool bm = bmask[i], em = emask[i];
    if (n < 0) {
      d.processing.push_back(shrink_i ? 1 : -1);
      d.identity = false;
      continue;
    }
    const int64_t lo = s > 0 ? 0 : -1, hi = s > 0 ? n : n - 1;
    auto canonical = [&](int64_t x, bool masked, bool is_end) {
      if (masked) return (s > 0) != is_end ? lo : hi;
      int64_t f = x < 0 ? n + x : x;
      return f < lo ? lo : f > hi ? hi : f;
    };
    int64_t len = 0;
    bool known_len = true;
    if (known) {
      if (shrink_i) {
        int64_t f = b < 0 ? n + b : b;
        if (f < 0 || f >= n) return "slice index " + std::to_string(b) + " of dimension " + std::to_string(i) + " out of bounds.";
        b = f;
        e = f + 1;
      } else {
        b = canonical(b, bm, false);
        e = canonical(e, em, true);
      }
      len = e - b;
      d.identity &= s == 1 && b == 0 && e == n;
    } else if (shrink_i) {
      len = 1;
      d.identity = false;
    } else if (bm && em) {
      len = s < 0 ? -n : n;
      d.identity &= s == 1;
    } else {
      known_len = false;
      d.identity = false;
    }
    if (!known_len) d.processing.push_back(-1);
    else if (len == 0 || ((len < 0) != (s < 0))) d.processing.push_back(0);
    else d.processing.push_back(len / s + (len % s != 0 ? 1 : 0));
  }
  return "";
}

void strided_slice_shape(InferCtx& c) {
  for (int i = 1; i < 4; ++i) expect_int(c, i, i == 1 ? "begin" : i == 2 ? "end" : "strides");
  const PartialShape& s = c.shape(0);
  std::vector<int64_t> sb, se, ss;
  bool kb = c.const_ints(1, &sb), ke = c.const_ints(2, &se), ks = c.const_ints(3, &ss);
  if (!s.known_rank || !ks) return c.set_output(0, c.dtype(0), PartialShape::unknown());
  DenseSlice d;
  std::string err = strided_slice_spec(s.dims, kb ? &sb : nullptr, ke ? &se : nullptr, ss, SliceMasks(c.node.attrs), &d);
  if (!err.empty()) c.fail(err);
  c.set_output(0, c.dtype(0), PartialShape(d.final_dims()));
}

DenseSlice kernel_spec(KernelCtx& c, const Dims& dims, int first) {
  std::vector<int64_t> sb = c.in(first).to_int_vector(), se = c.in(first + 1).to_int_vector(),
                       ss = c.in(first + 2).to_int_vector();
  DenseSlice d;
  std::string err = strided_slice_spec(dims, &sb, &se, ss, SliceMasks(c.node.attrs), &d);
  if (!err.empty()) c.fail(err);
  return d;
}

void strided_slice_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  DenseSlice d = kernel_spec(c, x.dims(), 1);
  Dims out = d.final_dims();
  if (d.identity) return c.set(0, x.reshaped(out));
  Tensor& o = c.alloc(0, x.dtype(), out);
  copy_view_any(c, x, o, box_view(x.dims(), d.begin, d.strides, d.processing));
}

std::vector<Output> strided_slice_grad(GradCtx& g) {
  Output s = shape_of(g.b, g.x(0));
  return {g.b.op1("StridedSliceGrad", {s, g.x(1), g.x(2), g.x(3), g.g()}, g.node.attrs), Output{}, Output{}, Output{}};
}

REGISTER_OP("StridedSlice").inputs(4).shape(strided_slice_shape).cpu(strided_slice_kernel).grad(strided_slice_grad);

void strided_slice_grad_kernel(KernelCtx& c) {
  Dims shape = c.in(0).to_int_vector();
  const Tensor& dy = c.in(4);
  DenseSlice d = kernel_spec(c, shape, 1);
  if (num_elements(d.processing) != dy.size() || d.final_dims() != dy.dims())
    c.fail("shape of dy was " + dims_str(dy.dims()) + " instead of " + dims_str(d.final_dims()));
  Tensor& out = c.alloc(0, dy.dtype(), shape);
  zero_fill(out);
  copy_view_any(c, dy, out, box_scatter_view(shape, d.begin, d.strides, d.processing));
}

REGISTER_OP("StridedSliceGrad").inputs(5).shape(scatter_grad_shape).cpu(strided_slice_grad_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{Output{}, Output{}, Output{}, Output{},
                                 g.b.op1("StridedSlice", {g.g(), g.x(1), g.x(2), g.x(3)}, g.node.attrs)};
    });

}  // namespace
}  // namespace tideflow
