// Indexing ops: Slice, StridedSlice (the engine of Tensor.__getitem__), GatherV2, and the dedicated ops
// their gradients scatter through (SliceGrad, StridedSliceGrad, GatherGrad).
#include "array_util.h"

namespace tideflow {
namespace {

using namespace array_util;

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
  if (m.ellipsis & (m.ellipsis - 1)) return "Multiple ellipses in slice spec not allowed";
  int sparse_dims = (int)ss.size();
  if ((sb && (int)sb->size() != sparse_dims) || (se && (int)se->size() != sparse_dims))
    return "Expected begin, end, and strides to be 1D equal size tensors, but got shapes of " +
           std::to_string(sb ? sb->size() : 0) + ", " + std::to_string(se ? se->size() : 0) + ", and " + std::to_string(ss.size());
  // Step 1: an implicit ellipsis at the end, and how many new axes follow the ellipsis.
  int64_t ellipsis = m.ellipsis;
  int new_after_ellipsis = 0;
  bool seen = false;
  for (int i = 0; i < sparse_dims; ++i) {
    if (seen && ((1LL << i) & m.new_axis)) ++new_after_ellipsis;
    if ((1LL << i) & ellipsis) seen = true;
  }
  if (!seen) ellipsis |= 1LL << sparse_dims++;
  // Step 2: sparse to dense.
  const int rank = (int)dims.size();
  DenseSlice& d = *out;
  d = DenseSlice();
  d.begin.assign(rank, 0);
  d.end.assign(rank, 0);
  d.strides.assign(rank, 1);
  int64_t bmask = 0, emask = 0, shrink = 0;
  int full = 0;
  for (int i = 0; i < sparse_dims; ++i) {
    if ((1LL << i) & ellipsis) {
      int next = std::min(rank - (sparse_dims - i) + 1 + new_after_ellipsis, rank);
      for (; full < next; ++full) {
        bmask |= 1LL << full;
        emask |= 1LL << full;
        d.gather.push_back(full);
      }
    } else if ((1LL << i) & m.new_axis) {
      d.gather.push_back(kNewAxis);
    } else {
      if (full == rank) return "Index out of range using input dim " + std::to_string(full) + "; input has only " + std::to_string(rank) + " dims";
      if (sb) d.begin[full] = (*sb)[i];
      if (se) d.end[full] = (*se)[i];
      d.strides[full] = ss[i];
      if (m.begin & (1LL << i)) bmask |= 1LL << full;
      if (m.end & (1LL << i)) emask |= 1LL << full;
      if (m.shrink & (1LL << i)) {
        d.gather.push_back(kShrinkAxis);
        shrink |= 1LL << full;
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
    const bool shrink_i = shrink & (1LL << i);
    if (shrink_i && s <= 0) return "only stride 1 allowed on non-range indexing.";
    const bool bm = bmask & (1LL << i), em = emask & (1LL << i);
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

std::vector<Output> strided_slice_grad(GradCtx& g) {
  Output s = shape_of(g.b, g.x(0));
  return {g.b.op1("StridedSliceGrad", {s, g.x(1), g.x(2), g.x(3), g.g()}, g.node.attrs), Output{}, Output{}, Output{}};
}

// ---------------------------------------------------------------------------------------------------
// GatherV2(params, indices, axis): out[o, m, i] = params[o, indices[m], i] over the flattened
// (before axis, indices, after axis) dims.

struct GatherDims {
  int64_t outer = 1, n = 0, inner = 1, m = 0;
};

GatherDims gather_dims(KernelCtx& c, const Dims& params, const Tensor& indices, int64_t axis) {
  GatherDims g;
  for (int64_t i = 0; i < axis; ++i) g.outer *= params[i];
  for (size_t i = axis + 1; i < params.size(); ++i) g.inner *= params[i];
  g.n = params[axis];
  g.m = indices.size();
  dispatch_numeric(indices.dtype(), "GatherV2 indices", [&](auto z) {
    using I = decltype(z);
    const I* ix = indices.data<I>();
    for (int64_t k = 0; k < g.m; ++k)
      if (ix[k] < 0 || (int64_t)ix[k] >= g.n)
        c.fail("indices[" + std::to_string(k) + "] = " + std::to_string((int64_t)ix[k]) + " is not in [0, " + std::to_string(g.n) + ")");
  });
  return g;
}

int64_t gather_axis(KernelCtx& c, int idx, int rank) {
  int64_t axis = scalar_arg(c, idx, "axis"), a = canonical_axis(axis, rank);
  if (a < 0) c.fail("Expected axis in the range " + range_str(rank) + ", but got " + std::to_string(axis));
  return a;
}

void gather_shape(InferCtx& c) {
  expect_int(c, 1, "indices");
  expect_int(c, 2, "axis");
  if (c.node.attrs.get_or<int64_t>("batch_dims", 0) != 0) c.fail("GatherV2 supports batch_dims = 0 only");
  const PartialShape &p = c.shape(0), &ix = c.shape(1);
  int64_t axis;
  if (!p.known_rank || !ix.known_rank || !const_scalar(c, 2, &axis)) {
    int r = p.known_rank && ix.known_rank ? p.rank() + ix.rank() - 1 : -1;
    return c.set_output(0, c.dtype(0), r >= 0 ? PartialShape::unknown_of_rank(r) : PartialShape::unknown());
  }
  int64_t a = canonical_axis(axis, p.rank());
  if (a < 0) c.fail("Expected axis in the range " + range_str(p.rank()) + ", but got " + std::to_string(axis));
  Dims d(p.dims.begin(), p.dims.begin() + a);
  d.insert(d.end(), ix.dims.begin(), ix.dims.end());
  d.insert(d.end(), p.dims.begin() + a + 1, p.dims.end());
  c.set_output(0, c.dtype(0), PartialShape(d));
}

void gather_kernel(KernelCtx& c) {
  const Tensor &params = c.in(0), &indices = c.in(1);
  int64_t a = gather_axis(c, 2, params.rank());
  GatherDims g = gather_dims(c, params.dims(), indices, a);
  Dims od(params.dims().begin(), params.dims().begin() + a);
  od.insert(od.end(), indices.dims().begin(), indices.dims().end());
  od.insert(od.end(), params.dims().begin() + a + 1, params.dims().end());
  Tensor& out = c.alloc(0, params.dtype(), od);
  dispatch_any(params.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* src = params.data<T>();
    T* dst = out.data<T>();
    dispatch_numeric(indices.dtype(), "GatherV2 indices", [&](auto zi) {
      using I = decltype(zi);
      const I* ix = indices.data<I>();
      c.parallel_for(g.outer * g.m, g.inner, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          int64_t o = r / g.m, k = r % g.m;
          const T* s = src + (o * g.n + (int64_t)ix[k]) * g.inner;
          std::copy(s, s + g.inner, dst + r * g.inner);
        }
      });
    });
  });
}

// GatherGrad(dy, indices, axis, params_shape): the dense gradient of GatherV2's params, rows of dy summed
// into zeros of params' shape (repeated indices accumulate). Outer slices are independent, so they run
// in parallel; rows within one outer slice may collide and run in order.
void gather_grad_shape(InferCtx& c) {
  expect_int(c, 1, "indices");
  expect_int(c, 3, "params_shape");
  std::vector<int64_t> d;
  if (c.const_ints(3, &d)) return c.set_output(0, c.dtype(0), PartialShape(d));
  int64_t len = static_length(c, 3);
  c.set_output(0, c.dtype(0), len >= 0 ? PartialShape::unknown_of_rank((int)len) : PartialShape::unknown());
}

void gather_grad_kernel(KernelCtx& c) {
  const Tensor &dy = c.in(0), &indices = c.in(1);
  Dims pd = c.in(3).to_int_vector();
  int64_t a = gather_axis(c, 2, (int)pd.size());
  GatherDims g = gather_dims(c, pd, indices, a);
  if (dy.size() != g.outer * g.m * g.inner) c.fail("gradient " + dy.summary() + " does not match params shape " + dims_str(pd));
  Tensor& out = c.alloc(0, dy.dtype(), pd);
  zero_fill(out);
  dispatch_numeric(dy.dtype(), "GatherGrad", [&](auto z) {
    using T = decltype(z);
    const T* src = dy.data<T>();
    T* dst = out.data<T>();
    dispatch_numeric(indices.dtype(), "GatherGrad indices", [&](auto zi) {
      using I = decltype(zi);
      const I* ix = indices.data<I>();
      c.parallel_for(g.outer, g.m * g.inner, [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o)
          for (int64_t k = 0; k < g.m; ++k) {
            const T* s = src + (o * g.m + k) * g.inner;
            T* d = dst + (o * g.n + (int64_t)ix[k]) * g.inner;
            for (int64_t i = 0; i < g.inner; ++i) d[i] += s[i];
          }
      });
    });
  });
}

// Where(condition): the int64 coordinates [num_true, rank] of the non-zero (true) elements, in row-major
// order; boolean_mask gathers through it.
void where_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  const int r = x.rank();
  dispatch_pod(x.dtype(), "Where", [&](auto z) {
    using T = decltype(z);
    const T* p = x.data<T>();
    int64_t n = 0;
    for (int64_t i = 0, m = x.size(); i < m; ++i) n += p[i] != T(0);
    int64_t* o = c.alloc(0, DType::Int64, {n, (int64_t)r}).template data<int64_t>();
    Dims idx(r, 0);
    for (int64_t i = 0, m = x.size(); i < m; ++i) {
      if (p[i] != T(0)) o = std::copy(idx.begin(), idx.end(), o);
      for (int k = r - 1; k >= 0 && ++idx[k] == x.dim(k); --k) idx[k] = 0;  // odometer step
    }
  });
}


// ---------------------------------------------------------------------------------------------------
// GatherNd / ScatterNd / TensorScatter{Update,Add,Sub}: the last dim of `indices` (K entries) indexes the
// first K dims of a tensor of dims `pd`; each index vector addresses a slice of `inner` elements.

struct NdIndex {
  int64_t k = 0, n = 0, inner = 1;  // index depth, number of index vectors, slice size
  std::vector<int64_t> offsets;      // element offset of each slice
};

// TensorFlow's SliceDebugString: the multi-dim position of the flat index vector `i` among `batch`.
std::string slice_debug(const Dims& batch, int64_t i) {
  if (batch.empty()) return "";
  Dims pos(batch.size());
  for (int d = (int)batch.size() - 1; d >= 0; --d) {
    pos[d] = batch[d] ? i % batch[d] : 0;
    i = batch[d] ? i / batch[d] : 0;
  }
  return dims_str(pos);
}

NdIndex nd_index(KernelCtx& c, const Tensor& indices, const Dims& pd, const char* into) {
  NdIndex r;
  if (indices.rank() < 1) c.fail("indices must be at least a vector, got " + indices.summary());
  r.k = indices.dims().back();
  if (r.k > (int64_t)pd.size())
    c.fail("index innermost dimension length must be <= params rank; saw: " + std::to_string(r.k) + " vs. " +
           std::to_string(pd.size()));
  r.n = r.k ? indices.size() / r.k : num_elements(Dims(indices.dims().begin(), indices.dims().end() - 1));
  for (size_t i = r.k; i < pd.size(); ++i) r.inner *= pd[i];
  Dims st(r.k);
  int64_t acc = r.inner;
  for (int64_t d = r.k - 1; d >= 0; --d) { st[d] = acc; acc *= pd[d]; }
  r.offsets.assign(r.n, 0);
  dispatch_numeric(indices.dtype(), "indices", [&](auto z) {
    using I = decltype(z);
    const I* ix = indices.data<I>();
    for (int64_t i = 0; i < r.n; ++i) {
      int64_t off = 0;
      for (int64_t d = 0; d < r.k; ++d) {
        int64_t v = (int64_t)ix[i * r.k + d];
        if (v < 0 || v >= pd[d]) {
          std::string vec;
          for (int64_t e = 0; e < r.k; ++e) vec += (e ? ", " : "") + std::to_string((int64_t)ix[i * r.k + e]);
          c.fail("indices" + slice_debug(Dims(indices.dims().begin(), indices.dims().end() - 1), i) + " = [" + vec +
                 "] does not index into " + into + " " + dims_str(pd));
        }
        off += v * st[d];
      }
      r.offsets[i] = off;
    }
  });
  return r;
}

// indices.shape[:-1] + pd[K:], or unknown where the parts are.
PartialShape nd_result_shape(const PartialShape& ix, const PartialShape& p) {
  if (!ix.known_rank || ix.rank() < 1 || ix.dims.back() < 0 || !p.known_rank) return PartialShape::unknown();
  Dims d(ix.dims.begin(), ix.dims.end() - 1);
  int64_t k = ix.dims.back();
  if (k <= p.rank()) d.insert(d.end(), p.dims.begin() + k, p.dims.end());
  return PartialShape(d);
}

void gather_nd_shape(InferCtx& c) {
  expect_int(c, 1, "indices");
  const PartialShape &p = c.shape(0), &ix = c.shape(1);
  if (ix.known_rank && ix.rank() == 0) c.fail("indices must be at least a vector");
  if (p.known_rank && ix.known_rank && ix.dims.back() > p.rank())
    c.fail("index innermost dimension length must be <= params rank; saw: " + std::to_string(ix.dims.back()) +
           " vs. " + std::to_string(p.rank()));
  c.set_output(0, c.dtype(0), nd_result_shape(ix, p));
}

void gather_nd_kernel(KernelCtx& c) {
  const Tensor &params = c.in(0), &indices = c.in(1);
  NdIndex r = nd_index(c, indices, params.dims(), "param shape");
  Dims od(indices.dims().begin(), indices.dims().end() - 1);
  od.insert(od.end(), params.dims().begin() + r.k, params.dims().end());
  Tensor& out = c.alloc(0, params.dtype(), od);
  dispatch_any(params.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* src = params.data<T>();
    T* dst = out.data<T>();
    c.parallel_for(r.n, r.inner, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) std::copy(src + r.offsets[i], src + r.offsets[i] + r.inner, dst + i * r.inner);
    });
  });
}

// Scatters `updates` (indices.shape[:-1] + dims[K:]) into `out` (already holding its starting values).
// Index vectors may repeat, so the loop stays sequential; 0 = assign, 1 = add, -1 = subtract.
void scatter_into(KernelCtx& c, Tensor& out, const Tensor& indices, const Tensor& updates, int mode, const char* into) {
  NdIndex r = nd_index(c, indices, out.dims(), into);
  Dims ud(indices.dims().begin(), indices.dims().end() - 1);
  ud.insert(ud.end(), out.dims().begin() + r.k, out.dims().end());
  if (ud != updates.dims())
    c.fail("updates must have shape indices.shape[:-1] + shape[indices.shape[-1]:] = " + dims_str(ud) + ", got " +
           dims_str(updates.dims()));
  auto run = [&](auto z) {
    using T = decltype(z);
    const T* u = updates.data<T>();
    T* o = out.data<T>();
    for (int64_t i = 0; i < r.n; ++i) {
      T* d = o + r.offsets[i];
      const T* s = u + i * r.inner;
      if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool>) {
        std::copy(s, s + r.inner, d);
      } else {
        if (mode == 0) std::copy(s, s + r.inner, d);
        else if (mode > 0) for (int64_t j = 0; j < r.inner; ++j) d[j] += s[j];
        else for (int64_t j = 0; j < r.inner; ++j) d[j] -= s[j];
      }
    }
  };
  if (mode != 0) {
    if (out.dtype() == DType::String || out.dtype() == DType::Bool) c.fail("adding or subtracting needs a numeric dtype");
    dispatch_numeric(out.dtype(), "scatter", run);
  } else {
    dispatch_any(out.dtype(), run);
  }
}

void scatter_nd_shape(InferCtx& c) {
  expect_int(c, 0, "indices");
  expect_int(c, 2, "shape");
  std::vector<int64_t> d;
  if (c.const_ints(2, &d)) {
    for (int64_t v : d) if (v < 0) c.fail("Dimensions must be non-negative, got shape " + dims_str(d));
    return c.set_output(0, c.dtype(1), PartialShape(d));
  }
  int64_t len = static_length(c, 2);
  c.set_output(0, c.dtype(1), len >= 0 ? PartialShape::unknown_of_rank((int)len) : PartialShape::unknown());
}

void scatter_nd_kernel(KernelCtx& c) {
  Dims shape = c.in(2).to_int_vector();
  for (int64_t v : shape) if (v < 0) c.fail("Dimensions must be non-negative, got shape " + dims_str(shape));
  Tensor& out = c.alloc(0, c.in(1).dtype(), shape);
  zero_fill(out);
  scatter_into(c, out, c.in(0), c.in(1), 1, "shape");
}

void tensor_scatter_shape(InferCtx& c) {
  expect_int(c, 1, "indices");
  c.expect_same_dtype(0, 2);
  c.set_output(0, c.dtype(0), c.shape(0));
}

template <int Mode>
void tensor_scatter_kernel(KernelCtx& c) {
  Tensor out = c.in(0).deep_copy();
  scatter_into(c, out, c.in(1), c.in(2), Mode, "shape");
  c.set(0, std::move(out));
}

// Shape(x) in the int dtype of `like` (ScatterNd wants its shape in its indices' dtype).
Output shape_as(Builder& b, Output x, Output like) {
  return b.op1("Shape", {x}, AttrMap{{"out_type", like.dtype()}});
}

// Output 0 shaped like x with out[i] = x[src(idx, i)], where idx is element i's multi-index (an odometer
// over x's dims): the element permutations Roll and ReverseSequence.
template <class Src>
void gather_elements(KernelCtx& c, const Tensor& x, Src src) {
  Tensor& out = c.alloc(0, x.dtype(), x.dims());
  if (x.size() == 0) return;
  dispatch_any(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* s = x.data<T>();
    T* o = out.data<T>();
    Dims idx(x.rank(), 0);
    for (int64_t i = 0, n = x.size(); i < n; ++i) {
      o[i] = s[src(idx, i)];
      for (int k = x.rank() - 1; k >= 0 && ++idx[k] == x.dim(k); --k) idx[k] = 0;  // odometer step
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Roll(input, shift, axis): out[(i + shift) mod n] = in[i] along each named axis (shifts on one axis add).

void roll_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  Dims sh = c.in(1).to_int_vector(), ax = c.in(2).to_int_vector();
  if (c.in(1).rank() > 1) c.fail("shift must be a scalar or a 1-D vector. Found: " + c.in(1).summary());
  if (c.in(2).rank() > 1) c.fail("axis must be a scalar or a 1-D vector. Found: " + c.in(2).summary());
  if (sh.size() != ax.size())
    c.fail("shift and axis must have the same size");
  const int r = x.rank();
  Dims total(r, 0);
  for (size_t i = 0; i < ax.size(); ++i) {
    int64_t a = canonical_axis(ax[i], r);
    if (a < 0) c.fail("axis " + std::to_string(ax[i]) + " is out of range");
    total[a] += sh[i];
  }
  for (int d = 0; d < r; ++d) if (x.dim(d)) total[d] = ((total[d] % x.dim(d)) + x.dim(d)) % x.dim(d);
  Dims st = strides_of(x.dims());
  gather_elements(c, x, [&](const Dims& idx, int64_t) {
    int64_t src = 0;
    for (int d = 0; d < r; ++d) {
      int64_t v = idx[d] - total[d];
      src += (v < 0 ? v + x.dim(d) : v) * st[d];
    }
    return src;
  });
}

// ---------------------------------------------------------------------------------------------------
// ReverseSequence(input, seq_lengths): per batch entry b, the first seq_lengths[b] elements along seq_dim
// are reversed; the rest is copied.

void reverse_sequence_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  Dims lens = c.in(1).to_int_vector();
  const int r = x.rank();
  int64_t sd = c.attr<int64_t>("seq_dim"), bd = c.node.attrs.get_or<int64_t>("batch_dim", 0);
  if (sd < 0) sd += r;
  if (bd < 0) bd += r;
  if (sd < 0 || sd >= r || bd < 0 || bd >= r || sd == bd)
    c.fail("Invalid seq_dim " + std::to_string(sd) + " or batch_dim " + std::to_string(bd) + " for input of rank " + std::to_string(r));
  if (c.in(1).rank() != 1 || (int64_t)lens.size() != x.dim(bd))
    c.fail("Length of seq_lengths != input.dims(" + std::to_string(bd) + "), (" + std::to_string(lens.size()) +
           " vs. " + std::to_string(x.dim(bd)) + ")");
  for (size_t i = 0; i < lens.size(); ++i) {
    if (lens[i] < 0) c.fail("seq_lengths(" + std::to_string(i) + ") must be nonnegative");
    if (lens[i] > x.dim(sd))
      c.fail("seq_lengths(" + std::to_string(i) + ") > input.dims(" + std::to_string(sd) + ")");
  }
  const int64_t step = strides_of(x.dims())[sd];
  gather_elements(c, x, [&](const Dims& idx, int64_t i) {
    int64_t L = lens[idx[bd]], j = idx[sd];
    return j < L ? i + (L - 1 - 2 * j) * step : i;
  });
}

// ---------------------------------------------------------------------------------------------------
// SpaceToDepth / DepthToSpace (NHWC): blocks of bs x bs pixels become bs*bs*C channels and back.
// out[b, h, w, (oy*bs + ox)*C + ch] = in[b, h*bs + oy, w*bs + ox, ch] for SpaceToDepth.

int64_t block_size(const AttrMap& a) { return a.get_or<int64_t>("block_size", 0); }

void check_block(InferCtx& c) {
  if (c.node.attrs.get_or<std::string>("data_format", "NHWC") != "NHWC") c.fail("only data_format NHWC is supported");
  if (block_size(c.node.attrs) < 2) c.fail("Value for attr 'block_size' of " + std::to_string(block_size(c.node.attrs)) +
                                           " must be at least 2");
  if (c.shape(0).known_rank && c.shape(0).rank() != 4) c.fail("input rank should be: 4 instead of: " + std::to_string(c.shape(0).rank()));
}

void space_to_depth_shape(InferCtx& c) {
  check_block(c);
  const PartialShape& s = c.shape(0);
  if (!s.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown_of_rank(4));
  int64_t bs = block_size(c.node.attrs);
  Dims d = s.dims;
  if ((d[1] >= 0 && d[1] % bs) || (d[2] >= 0 && d[2] % bs))
    c.fail("Dimension size must be evenly divisible by " + std::to_string(bs) + " but is " + std::to_string(d[1] % bs ? d[1] : d[2]));
  c.set_output(0, c.dtype(0), PartialShape(Dims{d[0], d[1] < 0 ? -1 : d[1] / bs, d[2] < 0 ? -1 : d[2] / bs,
                                                d[3] < 0 ? -1 : d[3] * bs * bs}));
}

void depth_to_space_shape(InferCtx& c) {
  check_block(c);
  const PartialShape& s = c.shape(0);
  if (!s.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown_of_rank(4));
  int64_t bs = block_size(c.node.attrs);
  Dims d = s.dims;
  if (d[3] >= 0 && d[3] % (bs * bs))
    c.fail("Dimension size must be evenly divisible by " + std::to_string(bs * bs) + " but is " + std::to_string(d[3]));
  c.set_output(0, c.dtype(0), PartialShape(Dims{d[0], d[1] < 0 ? -1 : d[1] * bs, d[2] < 0 ? -1 : d[2] * bs,
                                                d[3] < 0 ? -1 : d[3] / (bs * bs)}));
}

template <bool ToDepth>
void space_depth_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  const int64_t bs = block_size(c.node.attrs);
  if (x.rank() != 4) c.fail("input rank should be: 4 instead of: " + std::to_string(x.rank()));
  // The "space" side's dims [B, H, W, C] (H, W full size, C the narrow channel count).
  int64_t B = x.dim(0), H, W, C;
  if (ToDepth) {
    H = x.dim(1); W = x.dim(2); C = x.dim(3);
    if (H % bs || W % bs)
      c.fail("Image height " + std::to_string(H) + " and width " + std::to_string(W) +
             " should be divisible by block_size: " + std::to_string(bs));
  } else {
    if (x.dim(3) % (bs * bs))
      c.fail("Input depth dimension " + std::to_string(x.dim(3)) + " should be divisible by: " + std::to_string(bs * bs));
    H = x.dim(1) * bs; W = x.dim(2) * bs; C = x.dim(3) / (bs * bs);
  }
  Dims od = ToDepth ? Dims{B, H / bs, W / bs, C * bs * bs} : Dims{B, H, W, C};
  Tensor& out = c.alloc(0, x.dtype(), od);
  dispatch_any(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* s = x.data<T>();
    T* o = out.data<T>();
    const int64_t h2 = H / bs, w2 = W / bs, cd = C * bs * bs;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          int64_t sp = ((b * H + h) * W + w) * C;
          int64_t dp = ((b * h2 + h / bs) * w2 + w / bs) * cd + ((h % bs) * bs + (w % bs)) * C;
          if (ToDepth) std::copy(s + sp, s + sp + C, o + dp);
          else std::copy(s + dp, s + dp + C, o + sp);
        }
  });
}

// ---------------------------------------------------------------------------------------------------
// TopKV2's gradient: the k gradients of each row land at the input positions their values came from.
// TopKGrad(dy, indices, x) = zeros like x with dy[..., j] added at x[..., indices[..., j]].
void top_k_grad_kernel(KernelCtx& c) {
  const Tensor &dy = c.in(0), &ix = c.in(1), &x = c.in(2);
  if (dy.dims() != ix.dims() || x.rank() < 1) c.fail("gradient " + dy.summary() + " does not match indices " + ix.summary());
  Tensor& out = c.alloc(0, dy.dtype(), x.dims());
  zero_fill(out);
  const int64_t n = x.dims().back(), k = ix.rank() ? ix.dims().back() : 0, rows = k ? ix.size() / k : 0;
  dispatch_numeric(dy.dtype(), "TopKGrad", [&](auto z) {
    using T = decltype(z);
    const T* g = dy.data<T>();
    T* o = out.data<T>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < k; ++j) {
        int64_t p = ix.int_at(r * k + j);
        if (p < 0 || p >= n) c.fail("index " + std::to_string(p) + " out of range [0, " + std::to_string(n) + ")");
        o[r * n + p] += g[r * k + j];
      }
  });
}

// GatherLastAxis(x, indices): out[..., j] = x[..., indices[..., j]], rows matching; TopKGrad's adjoint.
void gather_last_axis_kernel(KernelCtx& c) {
  const Tensor &x = c.in(0), &ix = c.in(1);
  if (x.rank() < 1 || ix.rank() != x.rank()) c.fail("indices " + ix.summary() + " do not match " + x.summary());
  Tensor& out = c.alloc(0, x.dtype(), ix.dims());
  const int64_t n = x.dims().back(), k = ix.dims().back(), rows = k ? ix.size() / k : 0;
  dispatch_numeric(x.dtype(), "GatherLastAxis", [&](auto z) {
    using T = decltype(z);
    const T* s = x.data<T>();
    T* o = out.data<T>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < k; ++j) {
        int64_t p = ix.int_at(r * k + j);
        if (p < 0 || p >= n) c.fail("index " + std::to_string(p) + " out of range [0, " + std::to_string(n) + ")");
        o[r * k + j] = s[r * n + p];
      }
  });
}

}  // namespace

REGISTER_OP("Where").inputs(1).not_differentiable()
    .shape([](InferCtx& c) {
      if (c.dtype(0) == DType::String) c.type_fail("Where does not support string tensors");
      int r = c.shape(0).rank();
      c.set_output(0, DType::Int64, r >= 0 ? PartialShape(Dims{-1, r}) : PartialShape::unknown_of_rank(2));
    })
    .cpu(where_kernel);

REGISTER_OP("Slice").inputs(3).shape(slice_shape).cpu(slice_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("SliceGrad", {shape_of(g.b, g.x(0)), g.x(1), g.g()}), Output{}, Output{}};
    });

REGISTER_OP("SliceGrad").inputs(3).shape(scatter_grad_shape).cpu(slice_grad_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{Output{}, Output{}, g.b.op1("Slice", {g.g(), g.x(1), shape_of(g.b, g.x(2))})};
    });

REGISTER_OP("StridedSlice").inputs(4).shape(strided_slice_shape).cpu(strided_slice_kernel).grad(strided_slice_grad);

REGISTER_OP("StridedSliceGrad").inputs(5).shape(scatter_grad_shape).cpu(strided_slice_grad_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{Output{}, Output{}, Output{}, Output{},
                                 g.b.op1("StridedSlice", {g.g(), g.x(1), g.x(2), g.x(3)}, g.node.attrs)};
    });

REGISTER_OP("GatherV2").inputs(3).shape(gather_shape).cpu(gather_kernel)
    .grad([](GradCtx& g) {
      Output p = shape_of(g.b, g.x(0));
      return std::vector<Output>{g.b.op1("GatherGrad", {g.g(), g.x(1), g.x(2), p}), Output{}, Output{}};
    });

REGISTER_OP("GatherGrad").inputs(4).shape(gather_grad_shape).cpu(gather_grad_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("GatherV2", {g.g(), g.x(1), g.x(2)}), Output{}, Output{}, Output{}};
    });

REGISTER_OP("GatherNd").inputs(2).shape(gather_nd_shape).cpu(gather_nd_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("ScatterNd", {g.x(1), g.g(), shape_as(g.b, g.x(0), g.x(1))}), Output{}};
    });

REGISTER_OP("ScatterNd").inputs(3).shape(scatter_nd_shape).cpu(scatter_nd_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{Output{}, g.b.op1("GatherNd", {g.g(), g.x(0)}), Output{}};
    });

REGISTER_OP("TensorScatterUpdate").inputs(3).shape(tensor_scatter_shape).cpu(tensor_scatter_kernel<0>)
    .grad([](GradCtx& g) {
      Output zeros = g.b.op1("ZerosLike", {g.x(2)});
      return std::vector<Output>{g.b.op1("TensorScatterUpdate", {g.g(), g.x(1), zeros}), Output{},
                                 g.b.op1("GatherNd", {g.g(), g.x(1)})};
    });

REGISTER_OP("TensorScatterAdd").inputs(3).shape(tensor_scatter_shape).cpu(tensor_scatter_kernel<1>)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.g(), Output{}, g.b.op1("GatherNd", {g.g(), g.x(1)})};
    });

REGISTER_OP("TensorScatterSub").inputs(3).shape(tensor_scatter_shape).cpu(tensor_scatter_kernel<-1>)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.g(), Output{}, g.b.op1("Neg", {g.b.op1("GatherNd", {g.g(), g.x(1)})})};
    });

REGISTER_OP("Roll").inputs(3).shape(shape_unchanged).cpu(roll_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("Roll", {g.g(), g.b.op1("Neg", {g.x(1)}), g.x(2)}), Output{}, Output{}};
    });

REGISTER_OP("ReverseSequence").inputs(2).shape(shape_unchanged).cpu(reverse_sequence_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("ReverseSequence", {g.g(), g.x(1)}, g.node.attrs), Output{}};
    });

REGISTER_OP("SpaceToDepth").inputs(1).shape(space_to_depth_shape).cpu(space_depth_kernel<true>)
    .grad([](GradCtx& g) { return std::vector<Output>{g.b.op1("DepthToSpace", {g.g()}, g.node.attrs)}; });

REGISTER_OP("DepthToSpace").inputs(1).shape(depth_to_space_shape).cpu(space_depth_kernel<false>)
    .grad([](GradCtx& g) { return std::vector<Output>{g.b.op1("SpaceToDepth", {g.g()}, g.node.attrs)}; });

REGISTER_OP("TopKGrad").inputs(3).shape([](InferCtx& c) { c.set_output(0, c.dtype(0), c.shape(2)); })
    .cpu(top_k_grad_kernel)
    .grad([](GradCtx& g) {
      // The adjoint of scattering row entries into place is gathering them back from the same positions.
      return std::vector<Output>{g.b.op1("GatherLastAxis", {g.g(), g.x(1)}), Output{}, Output{}};
    });

REGISTER_OP("GatherLastAxis").inputs(2)
    .shape([](InferCtx& c) { c.set_output(0, c.dtype(0), c.shape(1)); })
    .cpu(gather_last_axis_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("TopKGrad", {g.g(), g.x(1), g.x(0)}), Output{}};
    });

}  // namespace tideflow
