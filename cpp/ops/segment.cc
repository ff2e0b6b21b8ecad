// Segment reductions (Segment* and UnsortedSegment*) and DynamicPartition/DynamicStitch: ops that group the
// rows of a tensor by an id.
#include <limits>

#include "array_util.h"

namespace tideflow {
namespace {

using namespace array_util;

// ---------------------------------------------------------------------------------------------------
// Segment reductions. data is viewed as [rows, inner] with one segment id per row; the output is
// [segments, inner]. Sorted (Segment*) ops fill segments no row reaches with 0 (1 for Prod), as TensorFlow
// does; unsorted ones leave the reduction's identity there (lowest() for Max, max() for Min) and drop rows
// whose id is negative.

enum class Red { Sum, Mean, Max, Min, Prod };

template <class T> T red_init(Red r) {
  switch (r) {
    case Red::Max: return std::numeric_limits<T>::lowest();
    case Red::Min: return std::numeric_limits<T>::max();
    case Red::Prod: return T(1);
    default: return T(0);
  }
}

// Max/Min keep the running value only while it is strictly better, so a NaN replaces it and the next
// value replaces the NaN: [1, nan] gives nan, [nan, 1] and [2, nan, 1] give 1, as TensorFlow's segment
// kernels do (their scalar scan, checked with TF 2.21 by tests/test_special_values.py).
template <class T> inline void red_step(Red r, T& acc, T v) {
  switch (r) {
    case Red::Max: if (!(acc > v)) acc = v; break;
    case Red::Min: if (!(acc < v)) acc = v; break;
    case Red::Prod: acc = wrapping_mul(acc, v); break;
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
  dispatch<kNumeric>(data.dtype(), c.node.type().c_str(), [&](auto z) {
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
      // TensorFlow's sorted kernels start a segment's max/min from its first row (so [-inf] gives -inf, not
      // lowest()); its unsorted ones from lowest()/max(), which a lone -inf does not beat.
      if (sorted && count[s] == 1 && (r == Red::Max || r == Red::Min)) std::copy_n(src, width, dst);
      else for (int64_t j = 0; j < width; ++j) red_step(r, dst[j], src[j]);
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
  if (const_scalar(c, 2, &n) && n < 0)  // TF's MakeDimForScalarInput: refused while building
    c.fail("Dimension size, given by scalar input 2, must be non-negative but is " + std::to_string(n));
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
REGISTER_OP("SegmentSum").inputs(2).shape(segment_shape).cpu(segment_kernel<Red::Sum>).grad(segment_sum_grad);

std::vector<Output> segment_mean_grad(GradCtx& g) {
  Output counts = g.b.op1("SegmentSum", {g.b.op1("OnesLike", {g.x(0)}), g.x(1)});
  return {gather0(g.b, g.b.op1("RealDiv", {g.g(), counts}), g.x(1)), Output{}};
}
REGISTER_OP("SegmentMean").inputs(2).shape(segment_shape).cpu(segment_kernel<Red::Mean>).grad(segment_mean_grad);

// Max/min: the gradient is shared equally by the elements that attain the extreme value.
std::vector<Output> segment_min_max_grad(GradCtx& g) {
  Builder& b = g.b;
  Output x = g.x(0), ids = g.x(1);
  Output selected = b.op1("Equal", {x, gather0(b, g.y(), ids)});
  Output num = b.op1("SegmentSum", {cast_to(b, selected, x.dtype()), ids});
  Output grads = gather0(b, b.op1("RealDiv", {g.g(), num}), ids);
  return {b.op1("Select", {selected, grads, b.op1("ZerosLike", {x})}), Output{}};
}
REGISTER_OP("SegmentMax").inputs(2).shape(segment_shape).cpu(segment_kernel<Red::Max>).grad(segment_min_max_grad);
REGISTER_OP("SegmentMin").inputs(2).shape(segment_shape).cpu(segment_kernel<Red::Min>).grad(segment_min_max_grad);

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
REGISTER_OP("SegmentProd").inputs(2).shape(segment_shape).cpu(segment_kernel<Red::Prod>)
    .grad([](GradCtx& g) { return prod_grad(g, true); });

REGISTER_OP("UnsortedSegmentSum").inputs(3).shape(unsorted_segment_shape).cpu(unsorted_segment_kernel<Red::Sum>)
    .grad([](GradCtx& g) {
      return std::vector<Output>{gather_drop_negatives(g.b, g.g(), g.x(1)).first, Output{}, Output{}};
    });

std::vector<Output> unsorted_min_max_grad(GradCtx& g) {
  Builder& b = g.b;
  Output x = g.x(0), ids = g.x(1), n = g.x(2);
  auto [gathered, pos] = gather_drop_negatives(b, g.y(), ids);
  Output selected = b.op1("LogicalAnd", {b.op1("Equal", {x, gathered}), pos});
  Output num = b.op1("UnsortedSegmentSum", {cast_to(b, selected, x.dtype()), ids, n});
  Output grads = gather_drop_negatives(b, b.op1("RealDiv", {g.g(), num}), ids).first;
  return {b.op1("Select", {selected, grads, b.op1("ZerosLike", {x})}), Output{}, Output{}};
}
REGISTER_OP("UnsortedSegmentMax").inputs(3).shape(unsorted_segment_shape).cpu(unsorted_segment_kernel<Red::Max>)
    .grad(unsorted_min_max_grad);
REGISTER_OP("UnsortedSegmentMin").inputs(3).shape(unsorted_segment_shape).cpu(unsorted_segment_kernel<Red::Min>)
    .grad(unsorted_min_max_grad);

REGISTER_OP("UnsortedSegmentProd").inputs(3).shape(unsorted_segment_shape).cpu(unsorted_segment_kernel<Red::Prod>)
    .grad([](GradCtx& g) { return prod_grad(g, false); });

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

REGISTER_OP("DynamicStitch").inputs(-1).shape(dynamic_stitch_shape).cpu(dynamic_stitch_kernel)
    .grad([](GradCtx& g) {
      const int n = (int)g.node.inputs.size() / 2;
      std::vector<Output> r(n);
      for (int i = 0; i < n; ++i) r.push_back(gather0(g.b, g.g(), g.x(i)));
      return r;
    });

}  // namespace
}  // namespace tideflow
