// Concat, split, pack and unpack, tile and pad: ops that copy pieces of their inputs side by side or
// into a larger output, one strided view per piece (Note [strided views]).
#include "array_util.h"

namespace tideflow {
namespace {

using namespace array_util;

// ---------------------------------------------------------------------------------------------------
// Concat / Split / Pack / Unpack: each input or output is a block of rows of the other side; a strided
// view per piece (Note [strided views]) turns into one contiguous copy per outer index.

// Copies `pieces` side by side along `axis` of `out` (concat and pack).
void concat_into(const KernelCtx& c, const std::vector<const Tensor*>& pieces, int64_t axis, Tensor& out) {
  const Dims& od = out.dims();
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= od[i];
  for (size_t i = axis + 1; i < od.size(); ++i) inner *= od[i];
  const int64_t out_row = od[axis] * inner;
  int64_t offset = 0;
  for (const Tensor* p : pieces) {
    const int64_t row = (p->rank() > axis ? p->dim((int)axis) : 1) * inner;
    View v;
    v.dbase = offset;
    v.add(outer, row, out_row);
    v.add(row, 1, 1);
    copy_view_any(c, *p, out, v);
    offset += row;
  }
}

// Cuts `x` along `axis` into pieces of `sizes` (split and unpack); `out_dims[k]` is the k-th output's shape.
void split_from(KernelCtx& c, const Tensor& x, int64_t axis, const std::vector<int64_t>& sizes,
                const std::vector<Dims>& out_dims) {
  const Dims& xd = x.dims();
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= xd[i];
  for (size_t i = axis + 1; i < xd.size(); ++i) inner *= xd[i];
  const int64_t x_row = xd[axis] * inner;
  int64_t offset = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    const int64_t row = sizes[k] * inner;
    Tensor& o = c.alloc((int)k, x.dtype(), out_dims[k]);
    View v;
    v.sbase = offset;
    v.add(outer, x_row, row);
    v.add(row, 1, 1);
    copy_view_any(c, x, o, v);
    offset += row;
  }
}

void concat_shape(InferCtx& c) {
  const int n = c.num_inputs() - 1;
  if (n < 1) c.fail("ConcatV2 needs at least one value and an axis");
  for (int i = 1; i < n; ++i) c.expect_same_dtype(0, i);
  expect_int(c, n, "axis");
  int rank = -1;
  for (int i = 0; i < n; ++i) {
    int r = c.shape(i).rank();
    if (r < 0) continue;
    if (rank >= 0 && r != rank) c.fail("Shape must be rank " + std::to_string(rank) + " but is rank " + std::to_string(r) + " for input " + std::to_string(i));
    rank = r;
  }
  if (rank == 0) c.fail("Can't concatenate scalars (use tf.stack instead)");
  int64_t axis;
  if (rank < 0) return c.set_output(0, c.dtype(0), PartialShape::unknown());
  if (!const_scalar(c, n, &axis)) return c.set_output(0, c.dtype(0), PartialShape::unknown_of_rank(rank));
  int64_t a = canonical_axis(axis, rank);
  if (a < 0) c.fail("axis " + std::to_string(axis) + " is out of range " + range_str(rank));
  Dims out(rank, -1);
  int64_t total = 0;
  bool all_ranks = true;
  for (int i = 0; i < n; ++i) {
    const PartialShape& s = c.shape(i);
    if (!s.known_rank) { all_ranks = false; continue; }
    for (int d = 0; d < rank; ++d) {
      if (d == a) continue;
      if (out[d] >= 0 && s.dims[d] >= 0 && out[d] != s.dims[d])
        c.fail("Dimension " + std::to_string(d) + " in both shapes must be equal, but are " + std::to_string(out[d]) + " and " +
               std::to_string(s.dims[d]) + ". Shapes are " + c.shape(0).str() + " and " + s.str());
      if (out[d] < 0) out[d] = s.dims[d];
    }
    if (total >= 0) total = s.dims[a] < 0 ? -1 : total + s.dims[a];
  }
  out[a] = all_ranks ? total : -1;
  c.set_output(0, c.dtype(0), PartialShape(out));
}

void concat_kernel(KernelCtx& c) {
  const int n = (int)c.inputs.size() - 1;
  const Tensor& x0 = c.in(0);
  if (x0.rank() == 0) c.fail("Can't concatenate scalars (use tf.stack instead)");
  int64_t axis = scalar_arg(c, n, "axis"), a = canonical_axis(axis, x0.rank());
  if (a < 0) c.fail("ConcatOp : Expected concatenating dimensions in the range " + range_str(x0.rank()) + ", but got " + std::to_string(axis));
  Dims od = x0.dims();
  od[a] = 0;
  std::vector<const Tensor*> pieces;
  for (int i = 0; i < n; ++i) {
    const Tensor& t = c.in(i);
    bool ok = t.rank() == x0.rank();
    for (int d = 0; ok && d < x0.rank(); ++d) ok = d == a || t.dim(d) == x0.dim(d);
    if (!ok) c.fail("ConcatOp : Dimensions of inputs should match: shape[0] = " + dims_str(x0.dims()) + " vs. shape[" +
                    std::to_string(i) + "] = " + dims_str(t.dims()));
    od[a] += t.dim((int)a);
    pieces.push_back(&t);
  }
  if (n == 1) return c.set(0, x0);
  concat_into(c, pieces, a, c.alloc(0, x0.dtype(), od));
}

std::vector<Output> concat_grad(GradCtx& g) {
  const int n = (int)g.node.inputs.size() - 1;
  std::vector<Output> ins{g.x(n)}, r(n + 1);
  for (int i = 0; i < n; ++i) ins.push_back(shape_of(g.b, g.x(i)));
  std::vector<Output> offs = g.b.op("ConcatOffset", ins);
  for (int i = 0; i < n; ++i) r[i] = g.b.op1("Slice", {g.g(), offs[i], ins[i + 1]});
  return r;
}

REGISTER_OP("ConcatV2").inputs(-1).shape(concat_shape).cpu(concat_kernel).grad(concat_grad);

// ConcatV2's gradient: the offset of each input within the output along the concat axis.
void concat_offset_kernel(KernelCtx& c) {
  const int n = (int)c.inputs.size() - 1;
  const Tensor& s0 = c.in(1);
  int64_t axis = scalar_arg(c, 0, "axis"), a = canonical_axis(axis, s0.size());
  if (a < 0) c.fail("Concat dim is out of range: " + std::to_string(axis) + " vs. " + std::to_string(s0.size()));
  int64_t off = 0;
  for (int i = 0; i < n; ++i) {
    const Tensor& s = c.in(i + 1);
    Tensor& o = c.alloc(i, s.dtype(), s.dims());
    dispatch_numeric(s.dtype(), "ConcatOffset", [&](auto z) {
      using T = decltype(z);
      T* p = o.data<T>();
      for (int64_t d = 0; d < s.size(); ++d) p[d] = d == a ? (T)off : T(0);
    });
    off += s.int_at(a);
  }
}

REGISTER_OP("ConcatOffset").inputs(-1).not_differentiable()
    .shape([](InferCtx& c) {
      if (c.num_inputs() < 2) c.fail("ConcatOffset needs the axis and at least one shape");
      for (int i = 1; i < c.num_inputs(); ++i) c.set_output(i - 1, c.dtype(i), c.shape(i));
    })
    .cpu(concat_offset_kernel);

void pack_shape(InferCtx& c) {
  const int n = c.num_inputs();
  if (n < 1) c.fail("Pack needs at least one value");
  PartialShape s = c.shape(0);
  for (int i = 1; i < n; ++i) {
    c.expect_same_dtype(0, i);
    if (!s.compatible_with(c.shape(i)))
      c.fail("Shapes of all inputs must match: values[0].shape = " + c.shape(0).str() + " != values[" + std::to_string(i) +
             "].shape = " + c.shape(i).str());
    s = s.merge(c.shape(i));
  }
  if (!s.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown());
  int64_t axis = c.node.attrs.get_or<int64_t>("axis", 0), a = canonical_axis(axis, s.rank(), true);
  if (a < 0) c.fail("axis " + std::to_string(axis) + " is out of range " + range_str(s.rank(), true));
  s.dims.insert(s.dims.begin() + a, n);
  c.set_output(0, c.dtype(0), s);
}

void pack_kernel(KernelCtx& c) {
  const int n = (int)c.inputs.size();
  const Tensor& x0 = c.in(0);
  int64_t axis = c.node.attrs.get_or<int64_t>("axis", 0), a = canonical_axis(axis, x0.rank(), true);
  if (a < 0) c.fail("axis " + std::to_string(axis) + " is out of range " + range_str(x0.rank(), true));
  std::vector<const Tensor*> pieces;
  for (int i = 0; i < n; ++i) {
    if (c.in(i).dims() != x0.dims())
      c.fail("Shapes of all inputs must match: values[0].shape = " + dims_str(x0.dims()) + " != values[" + std::to_string(i) +
             "].shape = " + dims_str(c.in(i).dims()));
    pieces.push_back(&c.in(i));
  }
  Dims od = x0.dims();
  od.insert(od.begin() + a, n);
  Tensor& out = c.alloc(0, x0.dtype(), od);
  // Each piece is one slot along `a`: view it as having a dim of 1 there.
  std::vector<Tensor> views;
  Dims pd = x0.dims();
  pd.insert(pd.begin() + a, 1);
  for (const Tensor* p : pieces) views.push_back(p->reshaped(pd));
  std::vector<const Tensor*> vp;
  for (auto& v : views) vp.push_back(&v);
  concat_into(c, vp, a, out);
}

REGISTER_OP("Pack").inputs(-1).shape(pack_shape).cpu(pack_kernel)
    .grad([](GradCtx& g) {
      AttrMap a{{"num", (int64_t)g.node.inputs.size()}, {"axis", g.node.attrs.get_or<int64_t>("axis", 0)}};
      return g.b.op("Unpack", {g.g()}, a);
    });

void unpack_shape(InferCtx& c) {
  const PartialShape& s = c.shape(0);
  int64_t num = c.node.attrs.get_or<int64_t>("num", -1);
  if (!s.known_rank) {
    if (num < 0) c.fail("Cannot infer num from shape " + s.str());
    for (int i = 0; i < num; ++i) c.set_output(i, c.dtype(0), PartialShape::unknown());
    return;
  }
  int64_t axis = c.node.attrs.get_or<int64_t>("axis", 0), a = canonical_axis(axis, s.rank());
  if (a < 0) c.fail("axis = " + std::to_string(axis) + " not in " + range_str(s.rank()));
  int64_t d = s.dims[a];
  if (num < 0) {
    if (d < 0) c.fail("Cannot infer num from shape " + s.str());
    num = d;
  } else if (d >= 0 && d != num) {
    c.fail("Dimension must be " + std::to_string(num) + " but is " + std::to_string(d));
  }
  Dims od = s.dims;
  od.erase(od.begin() + a);
  for (int i = 0; i < num; ++i) c.set_output(i, c.dtype(0), PartialShape(od));
}

void unpack_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  int64_t a = canonical_axis(c.node.attrs.get_or<int64_t>("axis", 0), x.rank());
  const int num = (int)c.outputs.size();
  if (a < 0 || x.dim((int)a) != num)
    c.fail("Input shape " + dims_str(x.dims()) + " cannot be unstacked into " + std::to_string(num) + " pieces along axis " +
           std::to_string(c.node.attrs.get_or<int64_t>("axis", 0)));
  Dims od = x.dims();
  od.erase(od.begin() + a);
  split_from(c, x, a, std::vector<int64_t>(num, 1), std::vector<Dims>(num, od));
}

REGISTER_OP("Unpack").inputs(1).shape(unpack_shape).cpu(unpack_kernel)
    .grad([](GradCtx& g) {
      AttrMap a{{"axis", g.node.attrs.get_or<int64_t>("axis", 0)}};
      return std::vector<Output>{g.b.op1("Pack", g.grads, a)};
    });

// Split and SplitV: the output shapes for given sizes (an entry -1: unknown).
void set_split_outputs(InferCtx& c, int value_idx, int64_t axis_or_unknown, bool axis_known, const std::vector<int64_t>& sizes) {
  const PartialShape& s = c.shape(value_idx);
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (!s.known_rank) { c.set_output((int)i, c.dtype(value_idx), PartialShape::unknown()); continue; }
    if (!axis_known) { c.set_output((int)i, c.dtype(value_idx), PartialShape::unknown_of_rank(s.rank())); continue; }
    Dims d = s.dims;
    d[axis_or_unknown] = sizes[i];
    c.set_output((int)i, c.dtype(value_idx), PartialShape(d));
  }
}

int64_t split_axis(InferCtx& c, int axis_idx, int value_idx, bool* known) {
  int64_t axis;
  const PartialShape& s = c.shape(value_idx);
  *known = s.known_rank && const_scalar(c, axis_idx, &axis);
  if (!*known) return 0;
  int64_t a = canonical_axis(axis, s.rank());
  if (a < 0) c.fail("axis " + std::to_string(axis) + " is out of range " + range_str(s.rank()));
  return a;
}

// Gradient of Split/SplitV: concatenate the output gradients along the split axis.
std::vector<Output> split_grad(GradCtx& g, Output axis) {
  std::vector<Output> ins = g.grads;
  ins.push_back(axis);
  std::vector<Output> r(g.node.inputs.size());
  Output cat = g.b.op1("ConcatV2", ins);
  for (size_t i = 0; i < r.size(); ++i) if (is_any_float(g.x((int)i).dtype())) r[i] = cat;
  return r;
}

void split_shape(InferCtx& c) {
  expect_int(c, 0, "axis");
  int64_t num = c.attr<int64_t>("num_split");
  if (num <= 0) c.fail("num_split must be positive, got " + std::to_string(num));
  bool known;
  int64_t a = split_axis(c, 0, 1, &known);
  int64_t size = -1;
  if (known) {
    int64_t d = c.shape(1).dims[a];
    if (d >= 0 && d % num != 0)
      c.fail("Dimension size must be evenly divisible by " + std::to_string(num) + " but is " + std::to_string(d));
    if (d >= 0) size = d / num;
  }
  set_split_outputs(c, 1, a, known, std::vector<int64_t>(num, size));
}

void split_kernel(KernelCtx& c) {
  const Tensor& x = c.in(1);
  const int num = (int)c.outputs.size();
  int64_t axis = scalar_arg(c, 0, "split_dim"), a = canonical_axis(axis, x.rank());
  if (a < 0) c.fail("-input rank(-" + std::to_string(x.rank()) + ") <= split_dim < input rank (" + std::to_string(x.rank()) + "), but got " + std::to_string(axis));
  if (x.dim((int)a) % num != 0)
    c.fail("Number of ways to split should evenly divide the split dimension, but got split_dim " + std::to_string(axis) +
           " (size = " + std::to_string(x.dim((int)a)) + ") and num_split " + std::to_string(num));
  Dims od = x.dims();
  od[a] /= num;
  split_from(c, x, a, std::vector<int64_t>(num, od[a]), std::vector<Dims>(num, od));
}

REGISTER_OP("Split").inputs(2).shape(split_shape).cpu(split_kernel)
    .grad([](GradCtx& g) { return split_grad(g, g.x(0)); });

// SplitV's sizes with a -1 resolved against `dim` (dim < 0: unknown). Returns an error or "".
std::string resolve_split_sizes(std::vector<int64_t>& sizes, int64_t dim) {
  int unknown = -1;
  int64_t sum = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == -1) {
      if (unknown >= 0) return "Only one dimensions can have a value of -1. Second one found at dimension " + std::to_string(i);
      unknown = (int)i;
    } else if (sizes[i] < 0) {
      return "size_splits must be non-negative (or -1), got " + std::to_string(sizes[i]);
    } else {
      sum += sizes[i];
    }
  }
  if (dim < 0) return "";
  if (unknown >= 0) {
    if (sum > dim) return "Determined shape must either match input shape along split_dim exactly if fully specified, or be less than the size of the input along split_dim if not fully specified.  Got: " + std::to_string(sum);
    sizes[unknown] = dim - sum;
  } else if (sum != dim) {
    return "Determined shape must either match input shape along split_dim exactly if fully specified, or be less than the size of the input along split_dim if not fully specified.  Got: " + std::to_string(sum);
  }
  return "";
}

void splitv_shape(InferCtx& c) {
  expect_int(c, 1, "size_splits");
  expect_int(c, 2, "axis");
  int64_t num = c.attr<int64_t>("num_split");
  bool known;
  int64_t a = split_axis(c, 2, 0, &known);
  std::vector<int64_t> sizes;
  if (!c.const_ints(1, &sizes)) {
    sizes.assign(num, -1);
  } else {
    if ((int64_t)sizes.size() != num) c.fail("size_splits has " + std::to_string(sizes.size()) + " entries but num_split is " + std::to_string(num));
    std::string err = resolve_split_sizes(sizes, known ? c.shape(0).dims[a] : -1);
    if (!err.empty()) c.fail(err);
  }
  set_split_outputs(c, 0, a, known, sizes);
}

void splitv_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  int64_t axis = scalar_arg(c, 2, "split_dim"), a = canonical_axis(axis, x.rank());
  if (a < 0) c.fail("-input rank(-" + std::to_string(x.rank()) + ") <= split_dim < input rank (" + std::to_string(x.rank()) + "), but got " + std::to_string(axis));
  std::vector<int64_t> sizes = c.in(1).to_int_vector();
  if (sizes.size() != c.outputs.size()) c.fail("size_splits has " + std::to_string(sizes.size()) + " entries, expected " + std::to_string(c.outputs.size()));
  std::string err = resolve_split_sizes(sizes, x.dim((int)a));
  if (!err.empty()) c.fail(err);
  std::vector<Dims> od(sizes.size(), x.dims());
  for (size_t i = 0; i < sizes.size(); ++i) od[i][a] = sizes[i];
  split_from(c, x, a, sizes, od);
}

REGISTER_OP("SplitV").inputs(3).shape(splitv_shape).cpu(splitv_kernel)
    .grad([](GradCtx& g) { return split_grad(g, g.x(2)); });

// ---------------------------------------------------------------------------------------------------
// Tile, TileGrad, Pad: one strided view each (Note [strided views]).

// Note [tile as a view]
// Output dim d of a tile has size m_d * x_d and its index is t_d * x_d + k_d. Splitting every output dim
// into (t_d, k_d) gives a row-major view of the output whose source step is 0 along t_d and x's stride
// along k_d; TileGrad walks the same view the other way, gathering dy into [x elements, tiles] and
// summing each row.
View tile_view(const Dims& xd, const Dims& m) {
  Dims xs = strides_of(xd), od(xd.size());
  for (size_t i = 0; i < xd.size(); ++i) od[i] = xd[i] * m[i];
  Dims os = strides_of(od);
  View v;
  for (size_t i = 0; i < xd.size(); ++i) {
    v.add(m[i], 0, xd[i] * os[i]);
    v.add(xd[i], xs[i], os[i]);
  }
  return v;
}

void tile_shape(InferCtx& c) {
  const PartialShape& s = c.shape(0);
  std::vector<int64_t> m;
  if (!per_dim_arg(c, "multiples", &m)) return;
  if (s.known_rank && (int64_t)m.size() != s.rank())
    c.fail("Shape must be rank 1 with " + std::to_string(s.rank()) + " entries (one per dimension of the input), but multiples has " + std::to_string(m.size()));
  Dims d(m.size(), -1);
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] < 0) c.fail("Expected multiples[" + std::to_string(i) + "] >= 0, but got " + std::to_string(m[i]));
    if (s.known_rank && s.dims[i] >= 0 && __builtin_mul_overflow(s.dims[i], m[i], &d[i]))
      c.fail("Tile's output dimension " + std::to_string(i) + " overflows: " + std::to_string(s.dims[i]) + " * " +
             std::to_string(m[i]));
    else if (m[i] == 0) d[i] = 0;
  }
  c.set_output(0, c.dtype(0), PartialShape(d));
}

Dims check_multiples(KernelCtx& c, const Tensor& x, const Tensor& mt) {
  Dims m = mt.to_int_vector();
  if ((int64_t)m.size() != x.rank())
    c.fail("Expected multiples argument to be a vector of length " + std::to_string(x.rank()) + " but got length " + std::to_string(m.size()));
  for (size_t i = 0; i < m.size(); ++i)
    if (m[i] < 0) c.fail("Expected multiples[" + std::to_string(i) + "] >= 0, but got " + std::to_string(m[i]));
  return m;
}

void tile_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  Dims m = check_multiples(c, x, c.in(1));
  Dims od = x.dims();
  for (size_t i = 0; i < od.size(); ++i)
    if (__builtin_mul_overflow(od[i], m[i], &od[i]))  // a wrapped size would walk 2^62 tiles into 0 bytes
      c.fail("Tile's output dimension " + std::to_string(i) + " overflows: " + std::to_string(x.dim(i)) + " * " +
             std::to_string(m[i]));
  if (od == x.dims()) return c.set(0, x);
  copy_view_any(c, x, c.alloc(0, x.dtype(), od), tile_view(x.dims(), m));
}

REGISTER_OP("Tile").inputs(2).shape(tile_shape).cpu(tile_kernel)
    .grad([](GradCtx& g) { return std::vector<Output>{g.b.op1("TileGrad", {g.g(), g.x(1)}), Output{}}; });

void tile_grad_shape(InferCtx& c) {
  const PartialShape& s = c.shape(0);
  std::vector<int64_t> m;
  if (!s.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown());
  if (!c.const_ints(1, &m)) return c.set_output(0, c.dtype(0), PartialShape::unknown_of_rank(s.rank()));
  if ((int64_t)m.size() != s.rank()) c.fail("multiples has " + std::to_string(m.size()) + " entries for a rank " + std::to_string(s.rank()) + " gradient");
  Dims d(m.size(), -1);
  for (size_t i = 0; i < m.size(); ++i)
    if (s.dims[i] >= 0 && m[i] > 0) d[i] = s.dims[i] / m[i];
  c.set_output(0, c.dtype(0), PartialShape(d));
}

void tile_grad_kernel(KernelCtx& c) {
  const Tensor& dy = c.in(0);
  Dims m = c.in(1).to_int_vector();
  if ((int64_t)m.size() != dy.rank()) c.fail("multiples must have one entry per dimension of the gradient");
  Dims xd(m.size());
  int64_t tiles = 1;
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] <= 0 || dy.dim((int)i) % m[i] != 0) c.fail("gradient shape is not a tiling by multiples " + dims_str(m));
    xd[i] = dy.dim((int)i) / m[i];
    tiles *= m[i];
  }
  if (tiles == 1) return c.set(0, dy.reshaped(xd));
  // Gather dy into [x elements, tiles] through the tile view with the roles of its steps swapped.
  View tv = tile_view(xd, m);
  Dims ms = strides_of(m);
  const int64_t nx = num_elements(xd);
  View v;
  for (size_t i = 0; i < xd.size(); ++i) {
    v.add(m[i], tv.dstep[2 * i], ms[i]);
    v.add(xd[i], tv.dstep[2 * i + 1], tv.sstep[2 * i + 1] * tiles);
  }
  Tensor tmp(dy.dtype(), {nx, tiles});
  Tensor& out = c.alloc(0, dy.dtype(), xd);
  dispatch<kNumeric>(dy.dtype(), "TileGrad", [&](auto z) {
    using T = decltype(z);
    copy_view<T>(c, dy.data<T>(), tmp.data<T>(), v);
    const T* t = tmp.data<T>();
    T* o = out.data<T>();
    c.parallel_for(nx, tiles, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        compute_t<T> acc = 0;
        for (int64_t j = 0; j < tiles; ++j) acc += t[i * tiles + j];
        o[i] = acc;
      }
    });
  });
}

// The sum of a tiled gradient over its tiles: TileGrad(dy, multiples) has the shape of Tile's input.
REGISTER_OP("TileGrad").inputs(2).shape(tile_grad_shape).cpu(tile_grad_kernel)
    .grad([](GradCtx& g) { return std::vector<Output>{g.b.op1("Tile", {g.g(), g.x(1)}), Output{}}; });

void pad_shape(InferCtx& c) {
  expect_int(c, 1, "paddings");
  const PartialShape& s = c.shape(0);
  const PartialShape& ps = c.shape(1);
  if (ps.known_rank && (ps.rank() != 2 || (ps.dims[1] >= 0 && ps.dims[1] != 2)))
    c.fail("paddings must be a matrix with 2 columns, got shape " + ps.str());
  if (c.num_inputs() == 3) {
    c.expect_same_dtype(0, 2);
    if (c.shape(2).rank() > 0) c.fail("constant_values must be a scalar, got shape " + c.shape(2).str());
  }
  int rank = s.known_rank ? s.rank() : (ps.known_rank && ps.dims[0] >= 0 ? (int)ps.dims[0] : -1);
  if (s.known_rank && ps.known_rank && ps.dims[0] >= 0 && ps.dims[0] != rank)
    c.fail("The first dimension of paddings must be the rank of inputs " + std::to_string(rank) + ", got " + ps.str());
  std::vector<int64_t> p;
  if (rank < 0) return c.set_output(0, c.dtype(0), PartialShape::unknown());
  if (!c.const_ints(1, &p)) return c.set_output(0, c.dtype(0), PartialShape::unknown_of_rank(rank));
  Dims d(rank, -1);
  for (int i = 0; i < rank; ++i) {
    if (p[2 * i] < 0 || p[2 * i + 1] < 0) c.fail("Paddings must be non-negative: " + std::to_string(p[2 * i]) + " " + std::to_string(p[2 * i + 1]));
    if (s.known_rank && s.dims[i] >= 0) d[i] = s.dims[i] + p[2 * i] + p[2 * i + 1];
  }
  c.set_output(0, c.dtype(0), PartialShape(d));
}

void pad_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  const Tensor& pt = c.in(1);
  if (pt.rank() != 2 || pt.dim(0) != x.rank() || pt.dim(1) != 2)
    c.fail("paddings must be a matrix of shape [" + std::to_string(x.rank()) + ", 2], got " + pt.summary());
  Dims p = pt.to_int_vector(), od = x.dims();
  for (int i = 0; i < x.rank(); ++i) {
    if (p[2 * i] < 0 || p[2 * i + 1] < 0) c.fail("Paddings must be non-negative: " + std::to_string(p[2 * i]) + " " + std::to_string(p[2 * i + 1]));
    od[i] += p[2 * i] + p[2 * i + 1];
  }
  if (od == x.dims()) return c.set(0, x);
  Tensor& out = c.alloc(0, x.dtype(), od);
  Dims xs = strides_of(x.dims()), os = strides_of(od);
  View v;
  for (int i = 0; i < x.rank(); ++i) {
    v.dbase += p[2 * i] * os[i];
    v.add(x.dim(i), xs[i], os[i]);
  }
  dispatch_any(x.dtype(), [&](auto z) {
    using T = decltype(z);
    T fill = c.inputs.size() == 3 ? *c.in(2).data<T>() : T{};
    std::fill_n(out.data<T>(), out.size(), fill);
    copy_view<T>(c, x.data<T>(), out.data<T>(), v);
  });
}

// Pad's gradient: slice the interior back out, starting at the "before" column of paddings.
std::vector<Output> pad_grad(GradCtx& g) {
  Builder& b = g.b;
  Output before = b.op1("Slice", {g.x(1), b.ints({0, 0}), b.ints({-1, 1})});
  before = b.op1("Reshape", {before, b.ints({-1})});
  std::vector<Output> r(g.node.inputs.size());
  r[0] = b.op1("Slice", {g.g(), before, shape_of(b, g.x(0))});
  return r;
}

REGISTER_OP("Pad").inputs(2).shape(pad_shape).cpu(pad_kernel).grad(pad_grad);
REGISTER_OP("PadV2").inputs(3).shape(pad_shape).cpu(pad_kernel).grad(pad_grad);

}  // namespace
}  // namespace tideflow
