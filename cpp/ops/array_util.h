// Helpers shared by the array op families (array_*.cc, segment.cc, sort_search.cc): strided views, dtype
// dispatch over every element type, axis and shape-argument checks, and the shape tensors shape functions
// read.
#pragma once
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "op_registry.h"

namespace tideflow {
namespace array_util {

// Data-movement kernels work on every dtype, strings included: `f` receives a value of the element type.
template <class F> void dispatch_any(DType d, F&& f) { dispatch<kAllTypes>(d, "array op", f); }

inline Dims strides_of(const Dims& d) {
  Dims s(d.size());
  int64_t acc = 1;
  for (int i = (int)d.size() - 1; i >= 0; --i) { s[i] = acc; acc *= d[i]; }
  return s;
}

// Note [strided views]
// Slicing, strided slicing, transposes, tiles, broadcasts, pads, concat/split/pack/unpack and their
// gradients are all one copy: dst[dbase + sum_d j_d*dstep_d] = src[sbase + sum_d j_d*sstep_d] over the
// index box `dims`. A step may be negative (reversed strided slices) or zero (broadcast). Before copying,
// size-1 dims are dropped and neighbours that are contiguous on both sides are merged, so a slice of
// whole rows becomes one long memcpy-like row and a transpose collapses to its true rank. When the
// innermost destination dim is contiguous but the source is not (a transpose), the copy walks 32x32
// blocks of the two dims so both sides stay in cache.
struct View {
  Dims dims;
  std::vector<int64_t> sstep, dstep;
  int64_t sbase = 0, dbase = 0;

  void add(int64_t n, int64_t s, int64_t d) { dims.push_back(n); sstep.push_back(s); dstep.push_back(d); }
  int64_t size() const { return num_elements(dims); }

  void simplify() {
    View v;
    v.sbase = sbase;
    v.dbase = dbase;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] == 1) continue;
      int r = (int)v.dims.size();
      if (r > 0 && v.sstep[r - 1] == sstep[i] * dims[i] && v.dstep[r - 1] == dstep[i] * dims[i]) {
        v.dims[r - 1] *= dims[i];
        v.sstep[r - 1] = sstep[i];
        v.dstep[r - 1] = dstep[i];
      } else {
        v.add(dims[i], sstep[i], dstep[i]);
      }
    }
    *this = std::move(v);
  }
};

template <class T>
void copy_view(const KernelCtx& c, const T* src, T* dst, View v) {
  for (int64_t d : v.dims) if (d == 0) return;
  v.simplify();
  const int r = (int)v.dims.size();
  if (r == 0) { dst[v.dbase] = src[v.sbase]; return; }
  const int last = r - 1;
  const int64_t n = v.dims[last], ss = v.sstep[last], ds = v.dstep[last];
  int p = -1;  // the source's contiguous dim, for the blocked transpose walk
  if (ds == 1 && ss != 1 && n >= 16)
    for (int i = 0; i < last; ++i) if (v.sstep[i] == 1 && v.dims[i] >= 16) p = i;
  std::vector<int> outer;
  for (int i = 0; i < last; ++i) if (i != p) outer.push_back(i);
  int64_t rows = 1;
  for (int i : outer) rows *= v.dims[i];
  const int64_t row_cost = n * (p >= 0 ? v.dims[p] : 1);
  c.parallel_for(rows, row_cost, [&](int64_t b, int64_t e) {
    std::vector<int64_t> idx(outer.size());
    int64_t so = v.sbase, dof = v.dbase, rem = b;
    for (int k = (int)outer.size() - 1; k >= 0; --k) {
      int d = outer[k];
      idx[k] = rem % v.dims[d];
      rem /= v.dims[d];
      so += idx[k] * v.sstep[d];
      dof += idx[k] * v.dstep[d];
    }
    for (int64_t row = b; row < e; ++row) {
      if (p < 0) {
        const T* s = src + so;
        T* o = dst + dof;
        if (ss == 1 && ds == 1) std::copy(s, s + n, o);
        else if (ss == 0) std::fill_n(o, n, *s);
        else for (int64_t j = 0; j < n; ++j) o[j * ds] = s[j * ss];
      } else {
        const int64_t m = v.dims[p], dp = v.dstep[p];
        constexpr int64_t B = 32;
        for (int64_t i0 = 0; i0 < m; i0 += B)
          for (int64_t j0 = 0; j0 < n; j0 += B) {
            int64_t i1 = std::min(m, i0 + B), j1 = std::min(n, j0 + B);
            for (int64_t i = i0; i < i1; ++i)
              for (int64_t j = j0; j < j1; ++j) dst[dof + i * dp + j] = src[so + i + j * ss];
          }
      }
      for (int k = (int)outer.size() - 1; k >= 0; --k) {  // odometer step
        int d = outer[k];
        so += v.sstep[d];
        dof += v.dstep[d];
        if (++idx[k] < v.dims[d]) break;
        so -= v.dims[d] * v.sstep[d];
        dof -= v.dims[d] * v.dstep[d];
        idx[k] = 0;
      }
    }
  });
}

// Copies through a view for any dtype (the element type is picked at run time).
inline void copy_view_any(const KernelCtx& c, const Tensor& src, Tensor& dst, const View& v) {
  dispatch_any(src.dtype(), [&](auto z) {
    using T = decltype(z);
    copy_view<T>(c, src.data<T>(), dst.data<T>(), v);
  });
}

// Sets every element of `t` to zero (strings: empty).
inline void zero_fill(Tensor& t) {
  if (t.dtype() != DType::String && t.nbytes()) std::memset(t.raw(), 0, t.nbytes());
}

// Canonical axis in [0, rank) (or [0, rank] with `insert` for ops that add an axis); -1 when out of range.
inline int64_t canonical_axis(int64_t axis, int64_t rank, bool insert = false) {
  int64_t n = rank + (insert ? 1 : 0);
  if (axis < -n || axis >= n) return -1;
  return axis < 0 ? axis + n : axis;
}

inline std::string range_str(int64_t rank, bool insert = false) {
  int64_t n = rank + (insert ? 1 : 0);
  return "[" + std::to_string(-n) + ", " + std::to_string(n) + ")";
}

// A scalar argument (axis, depth) of a kernel; a tensor of any other size is the caller's error.
inline int64_t scalar_arg(const KernelCtx& c, int i, const char* what) {
  const Tensor& t = c.in(i);
  if (t.size() != 1) c.fail(std::string(what) + " must be a scalar, got " + t.summary());
  return t.int_at(0);
}

// A scalar shape argument (axis) from a constant input, for shape functions.
inline bool const_scalar(const InferCtx& c, int i, int64_t* v) {
  std::vector<int64_t> x;
  if (!c.const_ints(i, &x) || x.size() != 1) return false;
  *v = x[0];
  return true;
}

// The length of a 1-D shape argument when its static shape tells it, else -1.
inline int64_t static_length(const InferCtx& c, int i) {
  const PartialShape& s = c.shape(i);
  return s.rank() == 1 ? s.dims[0] : -1;
}

inline void expect_int(const InferCtx& c, int i, const char* what) {
  if (!is_integer(c.dtype(i)))
    c.type_fail(std::string(what) + " (input " + std::to_string(i) + ") must be int32 or int64, got " +
                dtype_name(c.dtype(i)));
}

// Input 0 (data) must be a number type (segment reductions, TopKV2).
inline void check_dtype_numeric(InferCtx& c) {
  if (!in_set(c.dtype(0), kNumeric))
    c.type_fail(std::string("data must be numeric, got ") + dtype_name(c.dtype(0)));
}

// Tile's multiples and Transpose's perm hold one entry per input dimension. Reads that argument when it
// is constant; otherwise the output keeps the input's rank (or the argument's static length) with
// unknown dims, and this returns false.
inline bool per_dim_arg(InferCtx& c, const char* what, std::vector<int64_t>* v) {
  expect_int(c, 1, what);
  if (c.const_ints(1, v)) return true;
  const PartialShape& s = c.shape(0);
  int64_t len = s.known_rank ? s.rank() : static_length(c, 1);
  c.set_output(0, c.dtype(0), len >= 0 ? PartialShape::unknown_of_rank((int)len) : PartialShape::unknown());
  return false;
}

// Note [shape tensors]
// Reshape, Fill and BroadcastTo take their output shape as a tensor. Like TensorFlow's shape refiner, shape
// inference reads what graph construction knows of that tensor even when it is not a constant: a Const,
// Shape(x) (x's partial shape), and a Pack of scalars, each a Const or an entry of those picked by an index
// (tf.shape(x)[0]). So `tf.reshape(h, [tf.shape(x)[0], -1, 64])` keeps its 64. Entries not known come
// back as kUnknownDim, which is not a literal -1 ("infer this dim").
constexpr int64_t kUnknownDim = INT64_MIN;

inline bool shape_tensor_value(const Output& o, Dims* out);

inline bool shape_scalar_value(const Output& o, int64_t* v) {
  const Node* n = o.node;
  if (n->type() == "Const") {
    const Tensor& t = n->attrs.get<Tensor>("value");
    if (t.rank() != 0 || !is_integer(t.dtype())) return false;
    *v = t.int_at(0);
    return true;
  }
  if (n->type() != "StridedSlice" || n->attrs.get_or<int64_t>("shrink_axis_mask", 0) != 1 ||
      n->attrs.get_or<int64_t>("ellipsis_mask", 0) != 0 || n->attrs.get_or<int64_t>("new_axis_mask", 0) != 0)
    return false;
  Dims vec;
  const Node* b = n->inputs[1].node;
  if (b->type() != "Const" || b->attrs.get<Tensor>("value").size() != 1 || !shape_tensor_value(n->inputs[0], &vec)) return false;
  int64_t k = b->attrs.get<Tensor>("value").int_at(0);
  if (k < 0) k += (int64_t)vec.size();
  if (k < 0 || k >= (int64_t)vec.size()) return false;
  *v = vec[k];
  return true;
}

inline bool shape_tensor_value(const Output& o, Dims* out) {
  const Node* n = o.node;
  const std::string& type = n->type();
  if (type == "Const") {
    const Tensor& t = n->attrs.get<Tensor>("value");
    if (t.rank() != 1 || !is_integer(t.dtype())) return false;
    *out = t.to_int_vector();
    return true;
  }
  if (type == "Shape" && n->inputs[0].shape().known_rank) {
    *out = n->inputs[0].shape().dims;
    for (auto& d : *out) if (d < 0) d = kUnknownDim;
    return true;
  }
  if (type == "Pack" && n->attrs.get_or<int64_t>("axis", 0) == 0) {
    out->clear();
    for (const Output& in : n->inputs) {
      int64_t v;
      if (in.shape().rank() != 0) return false;
      out->push_back(shape_scalar_value(in, &v) ? v : kUnknownDim);
    }
    return true;
  }
  const PartialShape& s = o.shape();
  if (s.rank() == 1 && s.dims[0] >= 0) {
    out->assign(s.dims[0], kUnknownDim);
    return true;
  }
  return false;
}

// The static shape a shape tensor describes, for ops whose output takes it whole (Fill, BroadcastTo).
inline PartialShape shape_from_tensor(InferCtx& c, int i) {
  Dims d;
  if (!shape_tensor_value(c.node.inputs[i], &d)) return PartialShape::unknown();
  for (auto& x : d) {
    if (x == kUnknownDim) x = -1;
    else if (x < 0) c.fail("shape " + dims_str(d) + " has a negative dimension");
  }
  return PartialShape(d);
}

// The int32 shape of x, for gradient rules.
inline Output shape_of(Builder& b, Output x) { return b.op1("Shape", {x}, AttrMap{{"out_type", DType::Int32}}); }

}  // namespace array_util
}  // namespace tideflow
