// Gathering and scattering by index: GatherV2 (and GatherGrad, its gradient), GatherNd, ScatterNd,
// TensorScatterUpdate/Add/Sub, and Where (the coordinates boolean_mask gathers through).
#include "array_util.h"

namespace tideflow {
namespace {

using namespace array_util;

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

REGISTER_OP("GatherV2").inputs(3).shape(gather_shape).cpu(gather_kernel)
    .grad([](GradCtx& g) {
      Output p = shape_of(g.b, g.x(0));
      return std::vector<Output>{g.b.op1("GatherGrad", {g.g(), g.x(1), g.x(2), p}), Output{}, Output{}};
    });

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
  dispatch<kNumeric>(dy.dtype(), "GatherGrad", [&](auto z) {
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

REGISTER_OP("GatherGrad").inputs(4).shape(gather_grad_shape).cpu(gather_grad_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("GatherV2", {g.g(), g.x(1), g.x(2)}), Output{}, Output{}, Output{}};
    });

// ---------------------------------------------------------------------------------------------------
// GatherNd / ScatterNd / TensorScatter{Update,Add,Sub}: the last dim of `indices` (K entries) indexes the
// first K dims of a tensor of dims `pd`; each index vector addresses a slice of `inner` elements.

struct NdIndex {
  int64_t k = 0, n = 0, inner = 1;  // index depth, number of index vectors, slice size
  std::vector<int64_t> offsets;      // element offset of each slice; empty when k == 0 (all offsets 0)
  int64_t offset(int64_t i) const { return k ? offsets[i] : 0; }
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
  // With k == 0 every index vector is empty and addresses the whole tensor: n comes from indices' other
  // dims alone ([10^12, 0] indices hold no data but n = 10^12), so no per-vector table is built for it.
  if (r.k == 0) return r;
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
  if (out.size() == 0) return;  // Note [empty outputs return early]: 10^12 empty slices
  dispatch_any(params.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* src = params.data<T>();
    T* dst = out.data<T>();
    c.parallel_for(r.n, r.inner, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) std::copy(src + r.offset(i), src + r.offset(i) + r.inner, dst + i * r.inner);
    });
  });
}

// Shape(x) in the int dtype of `like` (ScatterNd wants its shape in its indices' dtype).
Output shape_as(Builder& b, Output x, Output like) {
  return b.op1("Shape", {x}, AttrMap{{"out_type", like.dtype()}});
}

REGISTER_OP("GatherNd").inputs(2).shape(gather_nd_shape).cpu(gather_nd_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("ScatterNd", {g.x(1), g.g(), shape_as(g.b, g.x(0), g.x(1))}), Output{}};
    });

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
    if (updates.size() == 0) return;  // Note [empty outputs return early]: 10^12 empty slices
    const T* u = updates.data<T>();
    T* o = out.data<T>();
    for (int64_t i = 0; i < r.n; ++i) {
      T* d = o + r.offset(i);
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
    if (!in_set(out.dtype(), kNumeric)) c.fail("adding or subtracting needs a numeric dtype");
    dispatch<kNumeric>(out.dtype(), "scatter", run);
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

REGISTER_OP("ScatterNd").inputs(3).shape(scatter_nd_shape).cpu(scatter_nd_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{Output{}, g.b.op1("GatherNd", {g.g(), g.x(0)}), Output{}};
    });

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

// ---------------------------------------------------------------------------------------------------
// Where(condition): the int64 coordinates [num_true, rank] of the non-zero (true) elements, in row-major
// order; boolean_mask gathers through it.
void where_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  const int r = x.rank();
  dispatch<kPod>(x.dtype(), "Where", [&](auto z) {
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

REGISTER_OP("Where").inputs(1).not_differentiable()
    .shape([](InferCtx& c) {
      if (c.dtype(0) == DType::String) c.type_fail("Where does not support string tensors");
      int r = c.shape(0).rank();
      c.set_output(0, DType::Int64, r >= 0 ? PartialShape(Dims{-1, r}) : PartialShape::unknown_of_rank(2));
    })
    .cpu(where_kernel);

}  // namespace
}  // namespace tideflow
