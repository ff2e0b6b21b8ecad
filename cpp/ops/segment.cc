// Segment reductions, partition/stitch, unique and set difference, top_k / in_top_k, sorted search,
// bincount, histograms, unravel_index and broadcast_args: ops that group or rank elements by value or id.
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "array_util.h"

namespace tideflow {
namespace {

using namespace array_util;

// ---------------------------------------------------------------------------------------------------
// Segment reductions. data is viewed as [rows, inner] with one segment id per row; the output is
// [segments, inner]. Sorted (Segment*) ops fill segments no row reaches with 0 (1 for Prod), as TensorFlow
// does; unsorted ones leave the reduction's identity there (lowest() for Max, max() for Min) and drop rows
// whose id is negative.

void check_dtype_numeric(InferCtx& c) {
  if (c.dtype(0) == DType::String || c.dtype(0) == DType::Bool)
    c.type_fail(std::string("data must be numeric, got ") + dtype_name(c.dtype(0)));
}

enum class Red { Sum, Mean, Max, Min, Prod };

template <class T> T red_init(Red r) {
  switch (r) {
    case Red::Max: return std::numeric_limits<T>::lowest();
    case Red::Min: return std::numeric_limits<T>::max();
    case Red::Prod: return T(1);
    default: return T(0);
  }
}

template <class T> inline void red_step(Red r, T& acc, T v) {
  switch (r) {
    case Red::Max: if (v > acc) acc = v; break;
    case Red::Min: if (v < acc) acc = v; break;
    case Red::Prod: acc *= v; break;
    default: acc += v;
  }
}

void reduce_segments(KernelCtx& c, Red r, const std::vector<int64_t>& ids, int64_t segments, bool sorted) {
  const Tensor& data = c.in(0);
  const int64_t rows = (int64_t)ids.size(), inner = rows ? data.size() / rows : 0;
  Dims od{segments};
  const int id_rank = sorted ? 1 : c.in(1).rank();
  od.insert(od.end(), data.dims().begin() + id_rank, data.dims().end());
  Tensor& out = c.alloc(0, data.dtype(), od);
  const int64_t width = num_elements(Dims(data.dims().begin() + id_rank, data.dims().end()));
  dispatch_numeric(data.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    const T* x = data.data<T>();
    T* o = out.data<T>();
    std::fill_n(o, segments * width, red_init<T>(r));
    std::vector<int64_t> count(segments, 0);
    for (int64_t i = 0; i < rows; ++i) {
      int64_t s = ids[i];
      if (s < 0) continue;
      ++count[s];
      T* dst = o + s * width;
      const T* src = x + i * inner;
      for (int64_t j = 0; j < width; ++j) red_step(r, dst[j], src[j]);
    }
    for (int64_t s = 0; s < segments; ++s) {
      T* dst = o + s * width;
      if (count[s] == 0 && (sorted || r == Red::Mean)) std::fill_n(dst, width, r == Red::Prod ? T(1) : T(0));
      else if (r == Red::Mean) for (int64_t j = 0; j < width; ++j) dst[j] = dst[j] / T(count[s]);
    }
  });
}

template <Red R>
void segment_kernel(KernelCtx& c) {
  const Tensor &data = c.in(0), &sid = c.in(1);
  if (sid.rank() != 1) c.fail("segment_ids should be a vector.");
  if (data.rank() < 1 || data.dim(0) != sid.size())
    c.fail("segment_ids should be the same size as dimension 0 of input.");
  std::vector<int64_t> ids = sid.to_int_vector();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0) c.fail("segment ids must be >= 0");
    if (i && ids[i] < ids[i - 1]) c.fail("segment ids are not increasing");
  }
  reduce_segments(c, R, ids, ids.empty() ? 0 : ids.back() + 1, true);
}

template <Red R>
void unsorted_segment_kernel(KernelCtx& c) {
  const Tensor &data = c.in(0), &sid = c.in(1);
  const Dims &dd = data.dims(), &id = sid.dims();
  if (id.size() > dd.size() || !std::equal(id.begin(), id.end(), dd.begin()))
    c.fail("data.shape = " + dims_str(dd) + " does not start with segment_ids.shape = " + dims_str(id));
  int64_t n = scalar_arg(c, 2, "num_segments");
  if (n < 0) c.fail("num_segments must be non-negative, got " + std::to_string(n));
  std::vector<int64_t> ids = sid.to_int_vector();
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] >= n)
      c.fail("segment_ids[" + std::to_string(i) + "] = " + std::to_string(ids[i]) + " is out of range [0, " +
             std::to_string(n) + ")");
  reduce_segments(c, R, ids, n, false);
}

void segment_shape(InferCtx& c) {
  check_dtype_numeric(c);
  expect_int(c, 1, "segment_ids");
  const PartialShape& s = c.shape(0);
  if (c.shape(1).known_rank && c.shape(1).rank() != 1) c.fail("segment_ids should be a vector.");
  if (!s.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown());
  if (s.rank() < 1) c.fail("data must be at least a vector");
  Dims d = s.dims;
  d[0] = -1;
  std::vector<int64_t> ids;
  if (c.const_ints(1, &ids)) d[0] = ids.empty() ? 0 : ids.back() + 1;
  c.set_output(0, c.dtype(0), PartialShape(d));
}

void unsorted_segment_shape(InferCtx& c) {
  check_dtype_numeric(c);
  expect_int(c, 1, "segment_ids");
  expect_int(c, 2, "num_segments");
  const PartialShape &s = c.shape(0), &ids = c.shape(1);
  if (!s.known_rank || !ids.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown());
  if (ids.rank() > s.rank()) c.fail("segment_ids.shape = " + ids.str() + " is longer than data.shape = " + s.str());
  int64_t n = -1;
  const_scalar(c, 2, &n);
  Dims d{n};
  d.insert(d.end(), s.dims.begin() + ids.rank(), s.dims.end());
  c.set_output(0, c.dtype(0), PartialShape(d));
}

// ---- gradient helpers (TensorFlow's math_grad.py) ----
Output gather0(Builder& b, Output params, Output ids) { return b.op1("GatherV2", {params, ids, b.scalar(0, DType::Int32)}); }
Output cast_to(Builder& b, Output x, DType dt) { return b.op1("Cast", {x}, AttrMap{{"DstT", dt}}); }

// _GatherDropNegatives: gather(params, max(ids, 0)) with the rows of negative ids zeroed; also returns the
// "id >= 0" mask, shaped to broadcast against the result.
std::pair<Output, Output> gather_drop_negatives(Builder& b, Output params, Output ids) {
  Output clipped = b.op1("Maximum", {ids, b.op1("ZerosLike", {ids})});
  Output gathered = gather0(b, params, clipped);
  Output pos = b.op1("GreaterEqual", {ids, b.scalar(0, ids.dtype())});
  Output extra = b.op1("Sub", {b.op1("Rank", {gathered}), b.op1("Rank", {pos})});
  Output ones = b.op1("Fill", {b.op1("ExpandDims", {extra, b.scalar(0, DType::Int32)}), b.scalar(1, DType::Int32)});
  Output shape = b.op1("ConcatV2", {shape_of(b, pos), ones, b.scalar(0, DType::Int32)});
  pos = b.op1("Reshape", {pos, shape});
  return {b.op1("Select", {pos, gathered, b.op1("ZerosLike", {gathered})}), pos};
}

std::vector<Output> segment_sum_grad(GradCtx& g) { return {gather0(g.b, g.g(), g.x(1)), Output{}}; }

std::vector<Output> segment_mean_grad(GradCtx& g) {
  Output counts = g.b.op1("SegmentSum", {g.b.op1("OnesLike", {g.x(0)}), g.x(1)});
  return {gather0(g.b, g.b.op1("RealDiv", {g.g(), counts}), g.x(1)), Output{}};
}

// Max/min: the gradient is shared equally by the elements that attain the extreme value.
std::vector<Output> segment_min_max_grad(GradCtx& g) {
  Builder& b = g.b;
  Output x = g.x(0), ids = g.x(1);
  Output selected = b.op1("Equal", {x, gather0(b, g.y(), ids)});
  Output num = b.op1("SegmentSum", {cast_to(b, selected, x.dtype()), ids});
  Output grads = gather0(b, b.op1("RealDiv", {g.g(), num}), ids);
  return {b.op1("Select", {selected, grads, b.op1("ZerosLike", {x})}), Output{}};
}

std::vector<Output> unsorted_min_max_grad(GradCtx& g) {
  Builder& b = g.b;
  Output x = g.x(0), ids = g.x(1), n = g.x(2);
  auto [gathered, pos] = gather_drop_negatives(b, g.y(), ids);
  Output selected = b.op1("LogicalAnd", {b.op1("Equal", {x, gathered}), pos});
  Output num = b.op1("UnsortedSegmentSum", {cast_to(b, selected, x.dtype()), ids, n});
  Output grads = gather_drop_negatives(b, b.op1("RealDiv", {g.g(), num}), ids).first;
  return {b.op1("Select", {selected, grads, b.op1("ZerosLike", {x})}), Output{}, Output{}};
}

// Products: d prod / d x_i = prod / x_i, computed without dividing by zero: a segment with two zeros has
// zero gradient everywhere, one with a single zero passes the product of the others to that zero.
std::vector<Output> prod_grad(GradCtx& g, bool sorted) {
  Builder& b = g.b;
  Output x = g.x(0), ids = g.x(1);
  std::vector<Output> seg_args = {ids};
  if (!sorted) seg_args.push_back(g.x(2));
  auto seg = [&](const char* op, Output v) {
    std::vector<Output> in{v};
    in.insert(in.end(), seg_args.begin(), seg_args.end());
    return b.op1(std::string(sorted ? "" : "Unsorted") + op, in);
  };
  Output is_zero = b.op1("Equal", {x, b.scalar(0, x.dtype())});
  Output num_zeros = seg("SegmentSum", cast_to(b, is_zero, DType::Int32));
  Output grad = b.op1("Select", {b.op1("Greater", {num_zeros, b.scalar(1, DType::Int32)}),
                                 b.op1("ZerosLike", {g.g()}), g.g()});
  Output non_zero = b.op1("Select", {is_zero, b.op1("OnesLike", {x}), x});
  Output non_zero_prod = seg("SegmentProd", non_zero);
  Output idx = sorted ? ids : b.op1("Maximum", {ids, b.op1("ZerosLike", {ids})});
  Output by_el = b.op1("RealDiv", {gather0(b, g.y(), idx), non_zero});
  Output partial = b.op1("Select", {is_zero, gather0(b, non_zero_prod, idx), by_el});
  Output gathered = sorted ? gather0(b, grad, ids) : gather_drop_negatives(b, grad, ids).first;
  std::vector<Output> r{b.op1("Mul", {gathered, partial}), Output{}};
  if (!sorted) r.push_back(Output{});
  return r;
}

// ---------------------------------------------------------------------------------------------------
// DynamicPartition(data, partitions; num_partitions) and DynamicStitch(indices..., data...; N).

void dynamic_partition_shape(InferCtx& c) {
  expect_int(c, 1, "partitions");
  int64_t n = c.attr<int64_t>("num_partitions");
  if (n < 1) c.fail("num_partitions must be at least 1, got " + std::to_string(n));
  const PartialShape &s = c.shape(0), &p = c.shape(1);
  PartialShape out = PartialShape::unknown();
  if (s.known_rank && p.known_rank) {
    if (p.rank() > s.rank()) c.fail("partitions.shape " + p.str() + " must be a prefix of data.shape " + s.str());
    Dims d{-1};
    d.insert(d.end(), s.dims.begin() + p.rank(), s.dims.end());
    out = PartialShape(d);
  }
  for (int i = 0; i < n; ++i) c.set_output(i, c.dtype(0), out);
}

void dynamic_partition_kernel(KernelCtx& c) {
  const Tensor &data = c.in(0), &part = c.in(1);
  const int64_t n = c.attr<int64_t>("num_partitions");
  const Dims &dd = data.dims(), &pd = part.dims();
  if (pd.size() > dd.size() || !std::equal(pd.begin(), pd.end(), dd.begin()))
    c.fail("data.shape must start with partitions.shape, got data.shape = " + dims_str(dd) +
           ", partitions.shape = " + dims_str(pd));
  std::vector<int64_t> p = part.to_int_vector();
  std::vector<int64_t> counts(n, 0);
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] < 0 || p[i] >= n)
      c.fail("partitions" + dims_str(Dims{(int64_t)i}) + " = " + std::to_string(p[i]) + " is not in [0, " +
             std::to_string(n) + ")");
    ++counts[p[i]];
  }
  Dims inner_dims(dd.begin() + pd.size(), dd.end());
  const int64_t inner = num_elements(inner_dims);
  std::vector<Tensor*> outs;
  for (int64_t k = 0; k < n; ++k) {
    Dims od{counts[k]};
    od.insert(od.end(), inner_dims.begin(), inner_dims.end());
    outs.push_back(&c.alloc((int)k, data.dtype(), od));
  }
  dispatch_any(data.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* x = data.data<T>();
    std::vector<int64_t> pos(n, 0);
    for (size_t i = 0; i < p.size(); ++i) {
      T* o = outs[p[i]]->template data<T>() + pos[p[i]]++ * inner;
      std::copy(x + i * inner, x + (i + 1) * inner, o);
    }
  });
}

void dynamic_stitch_shape(InferCtx& c) {
  if (c.num_inputs() % 2 || c.num_inputs() == 0) c.fail("DynamicStitch needs N index tensors and N data tensors");
  const int n = c.num_inputs() / 2;
  for (int i = 0; i < n; ++i) {
    expect_int(c, i, "indices");
    c.expect_same_dtype(n, n + i);
  }
  const PartialShape &i0 = c.shape(0), &d0 = c.shape(n);
  if (!i0.known_rank || !d0.known_rank) return c.set_output(0, c.dtype(n), PartialShape::unknown());
  Dims d{-1};
  d.insert(d.end(), d0.dims.begin() + std::min(i0.rank(), d0.rank()), d0.dims.end());
  // Constant indices (the common case in graphs that stitch fixed positions) give the first dim.
  int64_t rows = 0;
  bool known = true;
  for (int i = 0; i < n && known; ++i) {
    std::vector<int64_t> v;
    known = c.const_value(i) && c.const_ints(i, &v);
    for (int64_t x : v) rows = std::max(rows, x + 1);
  }
  if (known) d[0] = rows;
  c.set_output(0, c.dtype(n), PartialShape(d));
}

void dynamic_stitch_kernel(KernelCtx& c) {
  const int n = (int)c.inputs.size() / 2;
  const Tensor &i0 = c.in(0), &d0 = c.in(n);
  if (d0.rank() < i0.rank()) c.fail("data[0].shape must start with indices[0].shape");
  Dims inner_dims(d0.dims().begin() + i0.rank(), d0.dims().end());
  const int64_t inner = num_elements(inner_dims);
  int64_t rows = 0;
  std::vector<std::vector<int64_t>> idx(n);
  for (int k = 0; k < n; ++k) {
    const Tensor &ik = c.in(k), &dk = c.in(n + k);
    Dims want = ik.dims();
    want.insert(want.end(), inner_dims.begin(), inner_dims.end());
    if (dk.dims() != want)
      c.fail("data[" + std::to_string(k) + "].shape = " + dims_str(dk.dims()) + " does not start with indices[" +
             std::to_string(k) + "].shape = " + dims_str(ik.dims()));
    idx[k] = ik.to_int_vector();
    for (int64_t v : idx[k]) {
      if (v < 0) c.fail("indices[" + std::to_string(k) + "] has a negative entry: " + std::to_string(v));
      rows = std::max(rows, v + 1);
    }
  }
  Dims od{rows};
  od.insert(od.end(), inner_dims.begin(), inner_dims.end());
  Tensor& out = c.alloc(0, d0.dtype(), od);
  zero_fill(out);
  dispatch_any(d0.dtype(), [&](auto z) {
    using T = decltype(z);
    T* o = out.data<T>();
    for (int k = 0; k < n; ++k) {
      const T* x = c.in(n + k).template data<T>();
      for (size_t i = 0; i < idx[k].size(); ++i) std::copy(x + i * inner, x + (i + 1) * inner, o + idx[k][i] * inner);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Unique / UniqueWithCounts (first-occurrence order) and ListDiff (setdiff1d).

Tensor int_vector(DType dt, const std::vector<int64_t>& v) {
  Tensor t(dt, {(int64_t)v.size()});
  for (size_t i = 0; i < v.size(); ++i) {
    if (dt == DType::Int64) t.data<int64_t>()[i] = v[i];
    else t.data<int32_t>()[i] = (int32_t)v[i];
  }
  return t;
}

DType out_idx(const AttrMap& a) { return a.get_or<DType>("out_idx", DType::Int32); }

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
    if constexpr (std::is_floating_point_v<T>) return std::hash<T>()(v == T(0) ? T(0) : v);
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

void top_k_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  int64_t k = scalar_arg(c, 1, "k");
  if (k < 0) c.fail("Need k >= 0, got " + std::to_string(k));
  if (x.rank() < 1) c.fail("input must be >= 1-D, got shape " + dims_str(x.dims()));
  const int64_t n = x.dims().back();
  if (n < k) c.fail("input must have at least k columns. Had " + std::to_string(n) + ", needed " + std::to_string(k));
  Dims od = x.dims();
  od.back() = k;
  const int64_t rows = n ? x.size() / n : num_elements(Dims(x.dims().begin(), x.dims().end() - 1));
  Tensor& vals = c.alloc(0, x.dtype(), od);
  int32_t* ix = c.alloc(1, DType::Int32, od).data<int32_t>();
  dispatch_numeric(x.dtype(), "TopKV2", [&](auto z) {
    using T = decltype(z);
    const T* p = x.data<T>();
    T* v = vals.data<T>();
    c.parallel_for(rows, n * 4, [&](int64_t b, int64_t e) {
      std::vector<int32_t> order(n);
      for (int64_t r = b; r < e; ++r) {
        const T* row = p + r * n;
        std::iota(order.begin(), order.end(), 0);
        auto greater = [&](int32_t a, int32_t bb) {
          // NaN ranks above everything (as TensorFlow's CPU kernel, which compares with >).
          bool na = row[a] != row[a], nb = row[bb] != row[bb];
          if (na != nb) return na;
          if (!na && row[a] != row[bb]) return row[a] > row[bb];
          return a < bb;
        };
        std::partial_sort(order.begin(), order.begin() + k, order.end(), greater);
        for (int64_t j = 0; j < k; ++j) {
          ix[r * k + j] = order[j];
          v[r * k + j] = row[order[j]];
        }
      }
    });
  });
}

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

// UnravelIndex(indices, dims): the coordinates of flat indices in a row-major array of shape dims.
void unravel_kernel(KernelCtx& c) {
  const Tensor &ix = c.in(0), &dt = c.in(1);
  if (dt.rank() != 1) c.fail("The dims argument must be a 1-D vector, got " + dt.summary());
  Dims d = dt.to_int_vector();
  int64_t total = 1;
  for (int64_t v : d) {
    if (v <= 0) c.fail("Input dims must be > 0, got " + dims_str(d));
    total *= v;
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

void int_vector_shape(InferCtx& c, int out, DType dt, int64_t len) { c.set_output(out, dt, PartialShape(Dims{len})); }

}  // namespace

REGISTER_OP("SegmentSum").inputs(2).shape(segment_shape).cpu(segment_kernel<Red::Sum>).grad(segment_sum_grad);
REGISTER_OP("SegmentMean").inputs(2).shape(segment_shape).cpu(segment_kernel<Red::Mean>).grad(segment_mean_grad);
REGISTER_OP("SegmentMax").inputs(2).shape(segment_shape).cpu(segment_kernel<Red::Max>).grad(segment_min_max_grad);
REGISTER_OP("SegmentMin").inputs(2).shape(segment_shape).cpu(segment_kernel<Red::Min>).grad(segment_min_max_grad);
REGISTER_OP("SegmentProd").inputs(2).shape(segment_shape).cpu(segment_kernel<Red::Prod>)
    .grad([](GradCtx& g) { return prod_grad(g, true); });

REGISTER_OP("UnsortedSegmentSum").inputs(3).shape(unsorted_segment_shape).cpu(unsorted_segment_kernel<Red::Sum>)
    .grad([](GradCtx& g) {
      return std::vector<Output>{gather_drop_negatives(g.b, g.g(), g.x(1)).first, Output{}, Output{}};
    });
REGISTER_OP("UnsortedSegmentMax").inputs(3).shape(unsorted_segment_shape).cpu(unsorted_segment_kernel<Red::Max>)
    .grad(unsorted_min_max_grad);
REGISTER_OP("UnsortedSegmentMin").inputs(3).shape(unsorted_segment_shape).cpu(unsorted_segment_kernel<Red::Min>)
    .grad(unsorted_min_max_grad);
REGISTER_OP("UnsortedSegmentProd").inputs(3).shape(unsorted_segment_shape).cpu(unsorted_segment_kernel<Red::Prod>)
    .grad([](GradCtx& g) { return prod_grad(g, false); });

REGISTER_OP("DynamicPartition").inputs(2).shape(dynamic_partition_shape).cpu(dynamic_partition_kernel)
    .grad([](GradCtx& g) {
      Builder& b = g.b;
      Output prefix = shape_of(b, g.x(1));
      Output size = b.op1("Size", {g.x(1)}, AttrMap{{"out_type", DType::Int32}});
      Output original = b.op1("Reshape", {b.op1("Range", {b.scalar(0, DType::Int32), size, b.scalar(1, DType::Int32)}), prefix});
      std::vector<Output> parts = b.op("DynamicPartition", {original, g.x(1)}, g.node.attrs);
      std::vector<Output> ins = parts;
      ins.insert(ins.end(), g.grads.begin(), g.grads.end());
      Output stitched = b.op1("DynamicStitch", ins, AttrMap{{"N", (int64_t)parts.size()}});
      return std::vector<Output>{b.op1("Reshape", {stitched, shape_of(b, g.x(0))}), Output{}};
    });

REGISTER_OP("DynamicStitch").inputs(-1).shape(dynamic_stitch_shape).cpu(dynamic_stitch_kernel)
    .grad([](GradCtx& g) {
      const int n = (int)g.node.inputs.size() / 2;
      std::vector<Output> r(n);
      for (int i = 0; i < n; ++i) r.push_back(gather0(g.b, g.g(), g.x(i)));
      return r;
    });

REGISTER_OP("Unique").inputs(1).not_differentiable().shape(unique_shape).cpu(unique_kernel);
REGISTER_OP("UniqueWithCounts").inputs(1).not_differentiable().shape(unique_shape).cpu(unique_kernel);
REGISTER_OP("ListDiff").inputs(2).not_differentiable()
    .shape([](InferCtx& c) {
      c.expect_same_dtype(0, 1);
      int_vector_shape(c, 0, c.dtype(0), -1);
      int_vector_shape(c, 1, out_idx(c.node.attrs), -1);
    })
    .cpu(list_diff_kernel);

REGISTER_OP("TopKV2").inputs(2).shape(top_k_shape).cpu(top_k_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("TopKGrad", {g.g(0), g.y(1), g.x(0)}), Output{}};
    });
REGISTER_OP("InTopKV2").inputs(3).not_differentiable()
    .shape([](InferCtx& c) {
      if (!is_floating(c.dtype(0))) c.type_fail("predictions must be float32");
      expect_int(c, 1, "targets");
      const PartialShape& p = c.shape(0);
      int_vector_shape(c, 0, DType::Bool, p.known_rank && p.rank() >= 1 ? p.dims[0] : -1);
    })
    .cpu(in_top_k_kernel);

REGISTER_OP("LowerBound").inputs(2).not_differentiable()
    .shape([](InferCtx& c) { c.set_output(0, c.node.attrs.get_or<DType>("out_type", DType::Int32), c.shape(1)); })
    .cpu(bound_kernel<false>);
REGISTER_OP("UpperBound").inputs(2).not_differentiable()
    .shape([](InferCtx& c) { c.set_output(0, c.node.attrs.get_or<DType>("out_type", DType::Int32), c.shape(1)); })
    .cpu(bound_kernel<true>);

REGISTER_OP("Bincount").inputs(3).not_differentiable()
    .shape([](InferCtx& c) {
      int64_t n = -1;
      const_scalar(c, 1, &n);
      int_vector_shape(c, 0, c.dtype(2), n);
    })
    .cpu(bincount_kernel);
REGISTER_OP("HistogramFixedWidth").inputs(3).not_differentiable()
    .shape([](InferCtx& c) {
      int64_t n = -1;
      const_scalar(c, 2, &n);
      int_vector_shape(c, 0, c.node.attrs.get_or<DType>("dtype", DType::Int32), n);
    })
    .cpu(histogram_kernel);
REGISTER_OP("UnravelIndex").inputs(2).not_differentiable()
    .shape([](InferCtx& c) {
      expect_int(c, 0, "indices");
      int64_t r = static_length(c, 1);
      const PartialShape& s = c.shape(0);
      if (s.known_rank && s.rank() == 0) return c.set_output(0, c.dtype(0), PartialShape(Dims{r}));
      c.set_output(0, c.dtype(0), PartialShape(Dims{r, s.known_rank && s.rank() == 1 ? s.dims[0] : -1}));
    })
    .cpu(unravel_kernel);
REGISTER_OP("BroadcastArgs").inputs(2).not_differentiable()
    .shape([](InferCtx& c) {
      expect_int(c, 0, "s0");
      c.expect_same_dtype(0, 1);
      int_vector_shape(c, 0, c.dtype(0), -1);
    })
    .cpu(broadcast_args_kernel);

}  // namespace tideflow
