// Ops along one axis, tiled like the column reductions of reduce.cc: ArgMax/ArgMin and the running sums
// and products Cumsum/Cumprod.
#include <limits>
#include <algorithm>
#include <type_traits>
#include <vector>

#include "reduce_util.h"

namespace tideflow {
namespace {

using namespace reduce_util;  // NOLINT: the family's private helpers

// ---- ArgMax / ArgMin ----

template <bool kMax>
void arg_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  if (c.in(1).size() != 1) c.fail("dimension must be a scalar, got " + c.in(1).summary());
  int64_t axis = c.in(1).int_at(0);
  if (axis < -x.rank() || axis >= x.rank())
    c.fail("Expected dimension in the range [" + std::to_string(-x.rank()) + ", " + std::to_string(x.rank()) +
           "), but got " + std::to_string(axis));
  if (axis < 0) axis += x.rank();
  const int64_t n = x.dim((int)axis);
  Dims out_dims = x.dims();
  out_dims.erase(out_dims.begin() + axis);
  if (n == 0 && num_elements(out_dims) > 0)
    c.fail("Reduction axis " + std::to_string(axis) + " is empty in shape " + dims_str(x.dims()));
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.dim((int)i);
  for (int i = (int)axis + 1; i < x.rank(); ++i) inner *= x.dim(i);
  DType ot = c.node.attrs.get_or<DType>("output_type", DType::Int64);
  Tensor& out = c.alloc(0, ot, out_dims);
  dispatch<kNumeric>(x.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    auto better = [](T a, T b) { return kMax ? a > b : a < b; };
    auto run = [&](auto* o) {
      using I = std::remove_pointer_t<decltype(o)>;
      const T* p = x.data<T>();
      const int64_t tiles = (inner + kColTile - 1) / kColTile;
      c.parallel_for(outer * tiles, n * std::min(inner, kColTile), [&](int64_t b, int64_t e) {
        std::vector<T> best;
        for (int64_t t = b; t < e; ++t) {
          int64_t oo = t / tiles, i0 = (t % tiles) * kColTile, i1 = std::min(inner, i0 + kColTile);
          const T* base = p + oo * n * inner;
          I* dst = o + oo * inner;
          // Eigen's arg reducers (TF's kernels) start from (index 0, lowest) for ArgMax, (0, max) for ArgMin
          // and take a value only when strictly better: NaN never wins, a row of NaN gives 0, and the first
          // occurrence wins ties.
          best.assign(i1 - i0, kMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max());
          for (int64_t i = i0; i < i1; ++i) dst[i] = 0;
          for (int64_t r = 0; r < n; ++r) {
            const T* row = base + r * inner;
            for (int64_t i = i0; i < i1; ++i)
              if (better(row[i], best[i - i0])) { best[i - i0] = row[i]; dst[i] = (I)r; }
          }
        }
      });
    };
    if (ot == DType::Int32) run(out.data<int32_t>());
    else run(out.data<int64_t>());
  });
}

void arg_shape(InferCtx& c) {
  if (!in_set(c.dtype(0), kNumeric)) c.type_fail(std::string("Input must be numeric, got ") + dtype_name(c.dtype(0)));
  check_axes_dtype(c, 1);
  DType ot = c.node.attrs.get_or<DType>("output_type", DType::Int64);
  if (ot != DType::Int32 && ot != DType::Int64)
    c.type_fail(std::string("output_type must be int32 or int64, got ") + dtype_name(ot));
  const PartialShape& s = c.shape(0);
  std::vector<int64_t> axis;
  if (!s.known_rank) return c.set_output(0, ot, PartialShape::unknown());
  if (!c.const_ints(1, &axis) || axis.size() != 1)
    return c.set_output(0, ot, PartialShape::unknown_of_rank(std::max(0, s.rank() - 1)));
  int64_t a = axis[0];
  if (a < -s.rank() || a >= s.rank())
    c.fail("Expected dimension in the range [" + std::to_string(-s.rank()) + ", " + std::to_string(s.rank()) +
           "), but got " + std::to_string(a));
  Dims d = s.dims;
  d.erase(d.begin() + (a < 0 ? a + s.rank() : a));
  c.set_output(0, ot, PartialShape(d));
}

REGISTER_OP("ArgMax").inputs(2).not_differentiable().shape(arg_shape).cpu(arg_kernel<true>);
REGISTER_OP("ArgMin").inputs(2).not_differentiable().shape(arg_shape).cpu(arg_kernel<false>);

// ---- Cumsum, Cumprod ----

// Running sums (products) along one axis, viewed as (outer, n, inner); each tile of inner lanes carries
// its sums down the n rows (upwards when `reverse`), writing the sum before or after adding each row.
template <bool kProd>
void cumulative_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  if (c.in(1).size() != 1) c.fail("axis must be a scalar, got " + c.in(1).summary());
  int64_t axis = c.in(1).int_at(0);
  if (x.rank() == 0 || axis < -x.rank() || axis >= x.rank())
    c.fail("axis " + std::to_string(axis) + " is out of range for a tensor of rank " + std::to_string(x.rank()));
  if (axis < 0) axis += x.rank();
  const bool exclusive = c.node.attrs.get_or<bool>("exclusive", false);
  const bool reverse = c.node.attrs.get_or<bool>("reverse", false);
  int64_t outer = 1, inner = 1;
  const int64_t n = x.dim((int)axis);
  for (int64_t i = 0; i < axis; ++i) outer *= x.dim((int)i);
  for (int i = (int)axis + 1; i < x.rank(); ++i) inner *= x.dim(i);
  dispatch<kNumeric>(x.dtype(), kProd ? "Cumprod" : "Cumsum", [&](auto z) {
    using T = decltype(z);
    using A = compute_t<T>;  // 16-bit floats run in float32
    const T* in = x.data<T>();
    T* out = c.alloc(0, x.dtype(), x.dims()).template data<T>();
    if (x.size() == 0) return;
    auto step = [](A a, A v) { return kProd ? wrapping_mul(a, v) : A(a + v); };
    const int64_t tiles = (inner + kColTile - 1) / kColTile;
    c.parallel_for(outer * tiles, n * std::min(inner, kColTile), [&](int64_t b, int64_t e) {
      A acc[kColTile];
      for (int64_t t = b; t < e; ++t) {
        int64_t o = t / tiles, i0 = (t % tiles) * kColTile, w = std::min(inner, i0 + kColTile) - i0;
        std::fill(acc, acc + w, A(kProd ? 1 : 0));
        for (int64_t k = 0; k < n; ++k) {
          const int64_t r = reverse ? n - 1 - k : k;
          const T* src = in + (o * n + r) * inner + i0;
          T* dst = out + (o * n + r) * inner + i0;
          if (exclusive) {
            for (int64_t i = 0; i < w; ++i) { dst[i] = acc[i]; acc[i] = step(acc[i], src[i]); }
          } else {
            for (int64_t i = 0; i < w; ++i) dst[i] = (acc[i] = step(acc[i], src[i]));
          }
        }
      }
    });
  });
}

void cumulative_shape(InferCtx& c) {
  if (!in_set(c.dtype(0), kNumeric)) c.type_fail(std::string("Input must be numeric, got ") + dtype_name(c.dtype(0)));
  check_axes_dtype(c, 1);
  shape_unchanged(c);
}

// The attributes of a running op over the same axis in the other direction.
AttrMap reversed_attrs(const GradCtx& g) {
  return AttrMap{{"exclusive", g.node.attrs.get_or<bool>("exclusive", false)},
                 {"reverse", !g.node.attrs.get_or<bool>("reverse", false)}};
}

// Cumsum(x, axis; exclusive, reverse). Its gradient is the running sum of g in the other direction.
REGISTER_OP("Cumsum").inputs(2).shape(cumulative_shape).cpu(cumulative_kernel<false>)
    .grad([](GradCtx& g) { return std::vector<Output>{g.b.op1("Cumsum", {g.g(), g.x(1)}, reversed_attrs(g)), Output{}}; });

// Cumprod(x, axis; exclusive, reverse). TF's gradient: the running sum, in the other direction, of
// cumprod(x) * g, divided by x (DivNoNan: 0 where x is 0, as TF gives; exact there only for Prod, see
// Note [product gradient] in reduce.cc).
REGISTER_OP("Cumprod").inputs(2).shape(cumulative_shape).cpu(cumulative_kernel<true>)
    .grad([](GradCtx& g) {
      Output s = g.b.op1("Cumsum", {g.b.op1("Mul", {g.y(), g.g()}), g.x(1)}, reversed_attrs(g));
      return std::vector<Output>{g.b.op1("DivNoNan", {s, g.x(0)}), Output{}};
    });

}  // namespace
}  // namespace tideflow
