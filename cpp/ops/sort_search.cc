// Ops that sort, search, deduplicate or count values: TopKV2, InTopKV2, LowerBound/UpperBound
// (searchsorted), Unique/UniqueWithCounts, ListDiff, Bincount, HistogramFixedWidth; and two ops that compute
// integer vectors from shapes, UnravelIndex and BroadcastArgs.
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "array_util.h"

namespace tideflow {
namespace {

using namespace array_util;

// Integer-vector results and their shapes; Unique's and ListDiff's index dtype.
Tensor int_vector(DType dt, const std::vector<int64_t>& v) {
  Tensor t(dt, {(int64_t)v.size()});
  for (size_t i = 0; i < v.size(); ++i) {
    if (dt == DType::Int64) t.data<int64_t>()[i] = v[i];
    else t.data<int32_t>()[i] = (int32_t)v[i];
  }
  return t;
}

void int_vector_shape(InferCtx& c, int out, DType dt, int64_t len) { c.set_output(out, dt, PartialShape(Dims{len})); }

DType out_idx(const AttrMap& a) { return a.get_or<DType>("out_idx", DType::Int32); }

// ---------------------------------------------------------------------------------------------------
// TopKV2(input, k; sorted): the k largest entries of each last-axis row and their indices; equal values
// keep their order (lower index first), as in TensorFlow.

void top_k_shape(InferCtx& c) {
  check_dtype_numeric(c);
  expect_int(c, 1, "k");
  const PartialShape& s = c.shape(0);
  int64_t k = -1;
  bool kk = const_scalar(c, 1, &k);
  if (kk && k < 0) c.fail("Need k >= 0, got " + std::to_string(k));
  if (!s.known_rank) {
    c.set_output(0, c.dtype(0), PartialShape::unknown());
    return c.set_output(1, DType::Int32, PartialShape::unknown());
  }
  if (s.rank() < 1) c.fail("input must be >= 1-D, got shape " + s.str());
  Dims d = s.dims;
  if (kk && d.back() >= 0 && d.back() < k)
    c.fail("input must have at least k columns. Had " + std::to_string(d.back()) + ", needed " + std::to_string(k));
  d.back() = kk ? k : -1;
  c.set_output(0, c.dtype(0), PartialShape(d));
  c.set_output(1, DType::Int32, PartialShape(d));
}

// Note [top_k order with NaN]
// A NaN compares false with everything, so where NaN lands in TensorFlow's TopKV2 (and so in tf.sort and
// tf.argsort, built on it) is whatever its CPU kernel's algorithms leave (topk_op.cc), one per case:
//  - k == 1: an Eigen max reduction of the row over 32-byte packets (a lane keeps its value when a NaN
//    arrives), then a scalar tail (a NaN replaces the running value, the next element replaces the NaN),
//    then the first index whose value equals that max. A NaN max equals nothing: index 0 and its value.
//  - k == n: std::sort of the indices by "x[b] < x[a]", then each run of equal neighbours by index.
//  - otherwise: a heap of k indices (gtl::TopN) ordered by value then lower index, pushed in index order and
//    extracted with std::sort_heap (sorted) or in heap order (sorted=False).
// We run the same algorithms with the same comparators (the standard library's heap and sort), so a row
// with NaN comes out as in TensorFlow, and a row without NaN is the usual stable descending order.
// tests/test_special_values.py checks rows of random NaN/inf mixes against TensorFlow.

template <class T>
constexpr int max_packet_lanes() { return sizeof(T) >= 8 ? 4 : sizeof(T) == 4 ? 8 : 16; }

template <class T>
int32_t top1_index(const T* x, int64_t n) {
  constexpr int P = max_packet_lanes<T>();
  const int64_t vec = n / P * P;
  T lowest = std::numeric_limits<T>::lowest();
  if constexpr (std::numeric_limits<T>::has_infinity) lowest = -std::numeric_limits<T>::infinity();
  T lane[P];
  for (int l = 0; l < P; ++l) lane[l] = lowest;
  for (int64_t j = 0; j < vec; j += P)
    for (int l = 0; l < P; ++l) lane[l] = lane[l] < x[j + l] ? x[j + l] : lane[l];
  for (int h = P / 2; h >= 1; h /= 2)
    for (int l = 0; l < h; ++l) lane[l] = lane[l] < lane[l + h] ? lane[l + h] : lane[l];
  T tail = lowest;
  for (int64_t j = vec; j < n; ++j) tail = tail > x[j] ? tail : x[j];
  const T m = vec ? (lane[0] > tail ? lane[0] : tail) : tail;
  for (int64_t j = 0; j < n; ++j) if (m == x[j]) return (int32_t)j;
  return 0;
}

template <class T>
void top_k_row(const T* x, int64_t n, int64_t k, bool sorted, int32_t* out, std::vector<int32_t>& buf) {
  if (k == 1) { out[0] = top1_index(x, n); return; }
  if (k == n) {
    std::iota(out, out + n, 0);
    std::sort(out, out + n, [x](int32_t a, int32_t b) { return x[b] < x[a]; });
    for (int32_t* run = out; run != out + n;) {
      int32_t* end = run + 1;
      if (end == out + n) break;
      if (x[*run] == x[*end]) {
        while (++end != out + n && !(x[*run] != x[*end])) {}
        std::sort(run, end);
      }
      run = end;
    }
    return;
  }
  auto above = [x](int32_t a, int32_t b) {
    if (x[b] < x[a]) return true;
    if (x[b] > x[a]) return false;
    return a < b;
  };
  buf.clear();
  for (int32_t j = 0; j <= (int32_t)k; ++j) buf.push_back(j);  // k + 1 pushed: the heap forms, drops one
  std::make_heap(buf.begin(), buf.end(), above);
  std::pop_heap(buf.begin(), buf.end(), above);
  buf.pop_back();
  for (int32_t j = (int32_t)k + 1; j < (int32_t)n; ++j) {
    if (!above(j, buf.front())) continue;
    std::pop_heap(buf.begin(), buf.end(), above);
    buf.back() = j;
    std::push_heap(buf.begin(), buf.end(), above);
  }
  if (sorted) std::sort_heap(buf.begin(), buf.end(), above);
  std::copy(buf.begin(), buf.end(), out);
}

void top_k_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  int64_t k = scalar_arg(c, 1, "k");
  if (k < 0) c.fail("Need k >= 0, got " + std::to_string(k));
  if (x.rank() < 1) c.fail("input must be >= 1-D, got shape " + dims_str(x.dims()));
  const int64_t n = x.dims().back();
  if (n < k) c.fail("input must have at least k columns. Had " + std::to_string(n) + ", needed " + std::to_string(k));
  if (n > std::numeric_limits<int32_t>::max())
    c.fail("Second dimension of flattened input must be <= INT_MAX, got " + std::to_string(n));
  const bool sorted = c.node.attrs.get_or<bool>("sorted", true);
  Dims od = x.dims();
  od.back() = k;
  const int64_t rows = n ? x.size() / n : num_elements(Dims(x.dims().begin(), x.dims().end() - 1));
  Tensor& vals = c.alloc(0, x.dtype(), od);
  int32_t* ix = c.alloc(1, DType::Int32, od).data<int32_t>();
  if (vals.size() == 0) return;  // Note [empty outputs return early]: k == 0 or n == 0 over 10^12 rows
  dispatch<kNumeric>(x.dtype(), "TopKV2", [&](auto z) {
    using T = decltype(z);
    const T* p = x.data<T>();
    T* v = vals.data<T>();
    c.parallel_for(rows, n * 4, [&](int64_t b, int64_t e) {
      std::vector<int32_t> buf;
      buf.reserve(k + 1);
      for (int64_t r = b; r < e; ++r) {
        top_k_row(p + r * n, n, k, sorted, ix + r * k, buf);
        for (int64_t j = 0; j < k; ++j) v[r * k + j] = p[r * n + ix[r * k + j]];
      }
    });
  });
}

REGISTER_OP("TopKV2").inputs(2).shape(top_k_shape).cpu(top_k_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("TopKGrad", {g.g(0), g.y(1), g.x(0)}), Output{}};
    });

// ---------------------------------------------------------------------------------------------------
// TopKV2's gradient: the k gradients of each row land at the input positions their values came from.
// TopKGrad(dy, indices, x) = zeros like x with dy[..., j] added at x[..., indices[..., j]].
void top_k_grad_kernel(KernelCtx& c) {
  const Tensor &dy = c.in(0), &ix = c.in(1), &x = c.in(2);
  if (dy.dims() != ix.dims() || x.rank() < 1) c.fail("gradient " + dy.summary() + " does not match indices " + ix.summary());
  // The rows of dy and x are the same rows: their leading dims agree (else writes land past the output).
  if (ix.rank() != x.rank() || !std::equal(x.dims().begin(), x.dims().end() - 1, ix.dims().begin()))
    c.fail("indices " + ix.summary() + " do not match the rows of " + x.summary());
  Tensor& out = c.alloc(0, dy.dtype(), x.dims());
  zero_fill(out);
  const int64_t n = x.dims().back(), k = ix.rank() ? ix.dims().back() : 0, rows = k ? ix.size() / k : 0;
  dispatch<kNumeric>(dy.dtype(), "TopKGrad", [&](auto z) {
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

REGISTER_OP("TopKGrad").inputs(3)
    .shape([](InferCtx& c) {
      c.expect_same_dtype(0, 2);
      expect_int(c, 1, "indices");
      c.set_output(0, c.dtype(0), c.shape(2));
    })
    .cpu(top_k_grad_kernel)
    .grad([](GradCtx& g) {
      // The adjoint of scattering row entries into place is gathering them back from the same positions.
      return std::vector<Output>{g.b.op1("GatherLastAxis", {g.g(), g.x(1)}), Output{}, Output{}};
    });

// GatherLastAxis(x, indices): out[..., j] = x[..., indices[..., j]], rows matching; TopKGrad's adjoint.
void gather_last_axis_kernel(KernelCtx& c) {
  const Tensor &x = c.in(0), &ix = c.in(1);
  if (x.rank() < 1 || ix.rank() != x.rank() || !std::equal(x.dims().begin(), x.dims().end() - 1, ix.dims().begin()))
    c.fail("indices " + ix.summary() + " do not match " + x.summary());
  Tensor& out = c.alloc(0, x.dtype(), ix.dims());
  const int64_t n = x.dims().back(), k = ix.dims().back(), rows = k ? ix.size() / k : 0;
  dispatch<kNumeric>(x.dtype(), "GatherLastAxis", [&](auto z) {
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

REGISTER_OP("GatherLastAxis").inputs(2)
    .shape([](InferCtx& c) { c.set_output(0, c.dtype(0), c.shape(1)); })
    .cpu(gather_last_axis_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("TopKGrad", {g.g(), g.x(1), g.x(0)}), Output{}};
    });

// ---------------------------------------------------------------------------------------------------
// InTopKV2(predictions, targets, k): whether each row's target class is among its k largest predictions;
// false for out-of-range targets and non-finite predictions.
void in_top_k_kernel(KernelCtx& c) {
  const Tensor &pred = c.in(0), &tgt = c.in(1);
  if (pred.rank() != 2) c.fail("predictions must be 2-dimensional, got " + pred.summary());
  if (tgt.rank() != 1) c.fail("targets must be 1-dimensional, got " + tgt.summary());
  if (pred.dim(0) != tgt.dim(0))
    c.fail("First dimension of predictions " + std::to_string(pred.dim(0)) + " must match length of targets " +
           std::to_string(tgt.dim(0)));
  int64_t k = scalar_arg(c, 2, "k");
  const int64_t rows = pred.dim(0), n = pred.dim(1);
  bool* o = c.alloc(0, DType::Bool, {rows}).data<bool>();
  dispatch_float(pred.dtype(), "InTopKV2", [&](auto z) {
    using T = decltype(z);
    const T* p = pred.data<T>();
    for (int64_t r = 0; r < rows; ++r) {
      int64_t t = tgt.int_at(r);
      if (t < 0 || t >= n || !std::isfinite((double)p[r * n + t])) { o[r] = false; continue; }
      const T tv = p[r * n + t];
      int64_t more = 0;
      for (int64_t j = 0; j < n; ++j) more += p[r * n + j] > tv;
      o[r] = more < k;
    }
  });
}

REGISTER_OP("InTopKV2").inputs(3).not_differentiable()
    .shape([](InferCtx& c) {
      if (!is_floating(c.dtype(0))) c.type_fail("predictions must be float32");
      expect_int(c, 1, "targets");
      const PartialShape& p = c.shape(0);
      int_vector_shape(c, 0, DType::Bool, p.known_rank && p.rank() >= 1 ? p.dims[0] : -1);
    })
    .cpu(in_top_k_kernel);

// ---------------------------------------------------------------------------------------------------
// LowerBound / UpperBound (tf.searchsorted): per row, the insertion point of each value in the sorted row.

template <bool Upper>
void bound_kernel(KernelCtx& c) {
  const Tensor &s = c.in(0), &v = c.in(1);
  if (s.rank() < 1 || v.rank() != s.rank() ||
      !std::equal(s.dims().begin(), s.dims().end() - 1, v.dims().begin()))
    c.fail("Leading dim_size of both tensors must match, got sorted_inputs " + s.summary() + " and values " + v.summary());
  const int64_t n = s.dims().back(), m = v.dims().back(), rows = num_elements(Dims(s.dims().begin(), s.dims().end() - 1));
  DType ot = c.node.attrs.get_or<DType>("out_type", DType::Int32);
  std::vector<int64_t> out(rows * m);
  dispatch_numeric(s.dtype(), "searchsorted", [&](auto z) {
    using T = decltype(z);
    const T *ps = s.data<T>(), *pv = v.data<T>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < m; ++j) {
        const T* b = ps + r * n;
        const T* it = Upper ? std::upper_bound(b, b + n, pv[r * m + j]) : std::lower_bound(b, b + n, pv[r * m + j]);
        out[r * m + j] = it - b;
      }
  });
  c.set(0, int_vector(ot, out).reshaped(v.dims()));
}

// TensorFlow's op takes any T; its kernels (and these) are numeric only.
void bound_shape(InferCtx& c) {
  c.expect_same_dtype(0, 1);
  check_dtype_numeric(c);
  c.set_output(0, c.node.attrs.get_or<DType>("out_type", DType::Int32), c.shape(1));
}
REGISTER_OP("LowerBound").inputs(2).not_differentiable().shape(bound_shape).cpu(bound_kernel<false>);
REGISTER_OP("UpperBound").inputs(2).not_differentiable().shape(bound_shape).cpu(bound_kernel<true>);

// ---------------------------------------------------------------------------------------------------
// Unique / UniqueWithCounts (first-occurrence order) and ListDiff (setdiff1d).

void unique_shape(InferCtx& c) {
  if (c.shape(0).known_rank && c.shape(0).rank() != 1) c.fail("unique expects a 1D vector.");
  DType it = out_idx(c.node.attrs);
  if (!is_integer(it)) c.type_fail("out_idx must be int32 or int64");
  c.set_output(0, c.dtype(0), PartialShape(Dims{-1}));
  c.set_output(1, it, c.shape(0).known_rank ? c.shape(0) : PartialShape(Dims{-1}));
  if (c.node.type() == "UniqueWithCounts") c.set_output(2, it, PartialShape(Dims{-1}));
}

// Hash of element values for grouping; floats by value, so -0.0 and 0.0 meet (both compare equal).
template <class T> struct ValueHash {
  size_t operator()(const T& v) const {
    if constexpr (is_float_v<T>) return std::hash<compute_t<T>>()(v == T(0) ? compute_t<T>(0) : compute_t<T>(v));
    else return std::hash<T>()(v);
  }
};

void unique_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  if (x.rank() != 1) c.fail("unique expects a 1D vector.");
  DType it = out_idx(c.node.attrs);
  const bool counts = c.node.type() == "UniqueWithCounts";
  dispatch_any(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* p = x.data<T>();
    std::unordered_map<T, int64_t, ValueHash<T>> seen;
    std::vector<int64_t> idx(x.size()), firsts, cnt;
    for (int64_t i = 0; i < x.size(); ++i) {
      auto [pos, fresh] = seen.emplace(p[i], (int64_t)firsts.size());
      if (fresh) { firsts.push_back(i); cnt.push_back(0); }
      idx[i] = pos->second;
      ++cnt[pos->second];
    }
    T* y = c.alloc(0, x.dtype(), {(int64_t)firsts.size()}).template data<T>();
    for (size_t k = 0; k < firsts.size(); ++k) y[k] = p[firsts[k]];
    c.set(1, int_vector(it, idx));
    if (counts) c.set(2, int_vector(it, cnt));
  });
}

REGISTER_OP("Unique").inputs(1).not_differentiable().shape(unique_shape).cpu(unique_kernel);
REGISTER_OP("UniqueWithCounts").inputs(1).not_differentiable().shape(unique_shape).cpu(unique_kernel);

void list_diff_kernel(KernelCtx& c) {
  const Tensor &x = c.in(0), &y = c.in(1);
  if (x.rank() != 1) c.fail("x should be a 1D vector.");
  if (y.rank() != 1) c.fail("y should be a 1D vector.");
  DType it = out_idx(c.node.attrs);
  dispatch_any(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T *px = x.data<T>(), *py = y.data<T>();
    std::unordered_map<T, bool, ValueHash<T>> ys;
    for (int64_t i = 0; i < y.size(); ++i) ys.emplace(py[i], true);
    std::vector<int64_t> keep;
    for (int64_t i = 0; i < x.size(); ++i) if (!ys.count(px[i])) keep.push_back(i);
    T* o = c.alloc(0, x.dtype(), {(int64_t)keep.size()}).template data<T>();
    for (size_t k = 0; k < keep.size(); ++k) o[k] = px[keep[k]];
    c.set(1, int_vector(it, keep));
  });
}

REGISTER_OP("ListDiff").inputs(2).not_differentiable()
    .shape([](InferCtx& c) {
      c.expect_same_dtype(0, 1);
      int_vector_shape(c, 0, c.dtype(0), -1);
      int_vector_shape(c, 1, out_idx(c.node.attrs), -1);
    })
    .cpu(list_diff_kernel);

// ---------------------------------------------------------------------------------------------------
// Bincount(arr, size, weights): counts (or summed weights) of each value in [0, size); larger values are
// dropped. Empty weights count ones.

void bincount_kernel(KernelCtx& c) {
  const Tensor &arr = c.in(0), &w = c.in(2);
  int64_t size = scalar_arg(c, 1, "size");
  if (size < 0) c.fail("size (" + std::to_string(size) + ") must be non-negative");
  if (w.size() && w.dims() != arr.dims())
    c.fail("weights " + w.summary() + " must have the same shape as arr " + arr.summary() + " or be empty");
  Tensor& out = c.alloc(0, w.dtype(), {size});
  zero_fill(out);
  dispatch_numeric(w.dtype(), "Bincount", [&](auto z) {
    using T = decltype(z);
    T* o = out.data<T>();
    for (int64_t i = 0; i < arr.size(); ++i) {
      int64_t v = arr.int_at(i);
      if (v < 0) c.fail("Input arr must be non-negative!");
      if (v < size) o[v] += w.size() ? w.data<T>()[i] : T(1);
    }
  });
}

REGISTER_OP("Bincount").inputs(3).not_differentiable()
    .shape([](InferCtx& c) {
      int64_t n = -1;
      const_scalar(c, 1, &n);
      int_vector_shape(c, 0, c.dtype(2), n);
    })
    .cpu(bincount_kernel);

// HistogramFixedWidth(values, value_range, nbins): values below/above the range land in the end bins.
void histogram_kernel(KernelCtx& c) {
  const Tensor &v = c.in(0), &range = c.in(1);
  int64_t nbins = scalar_arg(c, 2, "nbins");
  if (nbins <= 0) c.fail("nbins should be a positive number, but got '" + std::to_string(nbins) + "'");
  if (range.size() != 2) c.fail("value_range should be a vector of 2 elements, got " + range.summary());
  const double lo = range.double_at(0), hi = range.double_at(1);
  if (!(lo < hi)) c.fail("value_range should satisfy value_range[0] < value_range[1], but got '[" +
                         std::to_string(lo) + ", " + std::to_string(hi) + "]'");
  DType dt = c.node.attrs.get_or<DType>("dtype", DType::Int32);
  std::vector<int64_t> counts(nbins, 0);
  const double step = (hi - lo) / (double)nbins;
  for (int64_t i = 0; i < v.size(); ++i) {
    double x = std::max(v.double_at(i), lo);
    int64_t b = (int64_t)std::min((x - lo) / step, (double)(nbins - 1));
    ++counts[b];
  }
  c.set(0, int_vector(dt, counts));
}

REGISTER_OP("HistogramFixedWidth").inputs(3).not_differentiable()
    .shape([](InferCtx& c) {
      int64_t n = -1;
      const_scalar(c, 2, &n);
      int_vector_shape(c, 0, c.node.attrs.get_or<DType>("dtype", DType::Int32), n);
    })
    .cpu(histogram_kernel);

// ---------------------------------------------------------------------------------------------------
// UnravelIndex, BroadcastArgs: integer vectors computed from shapes.

// UnravelIndex(indices, dims): the coordinates of flat indices in a row-major array of shape dims.
void unravel_kernel(KernelCtx& c) {
  const Tensor &ix = c.in(0), &dt = c.in(1);
  if (dt.rank() != 1) c.fail("The dims argument must be a 1-D vector, got " + dt.summary());
  Dims d = dt.to_int_vector();
  int64_t total = 1;
  if (ix.rank() > 1) c.fail("The indices argument must be a scalar or a vector, got " + ix.summary());
  for (int64_t v : d) {
    if (v <= 0) c.fail("Input dims must be > 0, got " + dims_str(d));
    if (__builtin_mul_overflow(total, v, &total)) c.fail("Input dims " + dims_str(d) + " overflow int64");
  }
  std::vector<int64_t> flat = ix.to_int_vector();
  for (int64_t f : flat)
    if (f < 0 || f >= total)
      c.fail("index " + std::to_string(f) + " is out of bound as with dims " + dims_str(d));
  const int64_t n = (int64_t)flat.size(), r = (int64_t)d.size();
  std::vector<int64_t> out(r * n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t f = flat[i];
    for (int64_t k = r - 1; k >= 0; --k) { out[k * n + i] = f % d[k]; f /= d[k]; }
  }
  Dims od = ix.rank() == 0 ? Dims{r} : Dims{r, n};
  c.set(0, int_vector(ix.dtype(), out).reshaped(od));
}

REGISTER_OP("UnravelIndex").inputs(2).not_differentiable()
    .shape([](InferCtx& c) {
      expect_int(c, 0, "indices");
      int64_t r = static_length(c, 1);
      const PartialShape& s = c.shape(0);
      if (s.known_rank && s.rank() > 1) c.fail("Shape must be at most rank 1 but is rank " + std::to_string(s.rank()));
      if (!s.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown());  // a scalar gives [r]
      if (s.rank() == 0) return c.set_output(0, c.dtype(0), PartialShape(Dims{r}));
      c.set_output(0, c.dtype(0), PartialShape(Dims{r, s.dims[0]}));
    })
    .cpu(unravel_kernel);

// BroadcastArgs(s0, s1): the broadcast of two shapes given as vectors.
void broadcast_args_kernel(KernelCtx& c) {
  Dims a = c.in(0).to_int_vector(), b = c.in(1).to_int_vector();
  const size_t r = std::max(a.size(), b.size());
  Dims out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t x = i < r - a.size() ? 1 : a[i - (r - a.size())], y = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (x != y && x != 1 && y != 1) c.fail("Incompatible shapes: " + dims_str(a) + " vs. " + dims_str(b));
    out[i] = x == 1 ? y : x;
  }
  c.set(0, int_vector(c.in(0).dtype(), out));
}

REGISTER_OP("BroadcastArgs").inputs(2).not_differentiable()
    .shape([](InferCtx& c) {
      expect_int(c, 0, "s0");
      c.expect_same_dtype(0, 1);
      int_vector_shape(c, 0, c.dtype(0), -1);
    })
    .cpu(broadcast_args_kernel);

}  // namespace
}  // namespace tideflow
