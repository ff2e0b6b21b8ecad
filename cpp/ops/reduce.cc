// Reductions (Sum Mean Max Min Prod Any All) and the broadcast/unbroadcast ops that reduction gradients
// and the gradient driver use: SumToShape, BroadcastLike, ReduceGradBroadcast.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "op_registry.h"
#include "reduce_util.h"

namespace tideflow {
namespace {

using namespace reduce_util;  // NOLINT: the family's private helpers

// ---------------------------------------------------------------------------------------------------
// Reducers: an accumulator type, its identity and one combining step (also used to merge partials).

template <class T> struct wide { using type = T; };
template <> struct wide<float> { using type = double; };  // float sums and products accumulate in double
template <> struct wide<half> { using type = float; };     // 16-bit floats in float32 (Note [reduced-precision
template <> struct wide<bfloat16> { using type = float; };  // floats] in half.h)

template <class T> struct SumR {
  using Acc = typename wide<T>::type;
  static Acc init() { return Acc(0); }
  template <class A> static A step(A a, A x) { return a + x; }
};
template <class T> struct ProdR {
  using Acc = typename wide<T>::type;
  static Acc init() { return Acc(1); }
  template <class A> static A step(A a, A x) { return wrapping_mul(a, x); }
};
template <class T> struct MaxR {
  using Acc = T;
  static Acc init() {
    using L = std::numeric_limits<T>;
    return L::has_infinity ? Acc(-L::infinity()) : L::lowest();
  }
  // NaN wins (as TensorFlow's and NumPy's max): once the accumulator holds NaN no comparison replaces it,
  // and a NaN x replaces any accumulator. Integers: x != x is false and compiles away.
  template <class A> static A step(A a, A x) { return (x > a || x != x) ? x : a; }
};
template <class T> struct MinR {
  using Acc = T;
  static Acc init() {
    using L = std::numeric_limits<T>;
    return L::has_infinity ? L::infinity() : L::max();
  }
  template <class A> static A step(A a, A x) { return (x < a || x != x) ? x : a; }  // NaN wins, as MaxR
};
struct AnyR {
  using Acc = bool;
  static Acc init() { return false; }
  template <class A> static A step(A a, A x) { return a || x; }
};
struct AllR {
  using Acc = bool;
  static Acc init() { return true; }
  template <class A> static A step(A a, A x) { return a && x; }
};

// Reduced-dimension flags for a rank-`rank` input; `fail` reports an axis out of range.
template <class Fail>
std::vector<char> axis_flags(const std::vector<int64_t>& axes, int rank, Fail&& fail) {
  std::vector<char> f(rank, 0);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank)
      fail("Invalid reduction dimension " + std::to_string(a) + " for input with " + std::to_string(rank) +
           " dimensions");
    f[a < 0 ? a + rank : a] = 1;
  }
  return f;
}

Dims reduced_dims(const Dims& d, const std::vector<char>& flags, bool keep_dims) {
  Dims out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (!flags[i]) out.push_back(d[i]);
    else if (keep_dims) out.push_back(1);
  }
  return out;
}

// Note [reduction blocks]
// Reduced axes split the input into runs of adjacent reduced or kept dims (size-1 dims join either).
// Reducing one run is a block reduction over (outer, n, inner): rows when inner == 1 (each row split into
// chunks so that one long row still uses every thread), columns otherwise (tiles of the inner dim stay in
// cache while the n rows stream past; float columns add blocks of 64 rows in float, then in double).
// Several reduced runs are reduced one at a time, innermost first, into temporaries of the accumulator
// type, so Mean divides once and float sums stay in double.
constexpr int64_t kRowChunk = 1 << 15;
constexpr int64_t kColBlock = 64;  // rows summed in the input type before joining a wider accumulator

template <class R, class In>
typename R::Acc reduce_row(const In* p, int64_t n) {
  using Acc = typename R::Acc;
  Acc l0 = R::init(), l1 = R::init(), l2 = R::init(), l3 = R::init();  // independent lanes vectorize
  int64_t r = 0;
  for (; r + 4 <= n; r += 4) {
    l0 = R::step(l0, Acc(p[r]));
    l1 = R::step(l1, Acc(p[r + 1]));
    l2 = R::step(l2, Acc(p[r + 2]));
    l3 = R::step(l3, Acc(p[r + 3]));
  }
  for (; r < n; ++r) l0 = R::step(l0, Acc(p[r]));
  return R::step(R::step(l0, l1), R::step(l2, l3));
}

// out[o * inner + i] = reduction over r of in[(o * n + r) * inner + i].
template <class R, class In>
void reduce_block(const KernelCtx& c, const In* in, typename R::Acc* out, int64_t outer, int64_t n, int64_t inner) {
  using Acc = typename R::Acc;
  if (inner == 1) {
    const int64_t chunks = std::max<int64_t>(1, (n + kRowChunk - 1) / kRowChunk);
    if (chunks == 1) {
      c.parallel_for(outer, n, [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) out[o] = reduce_row<R>(in + o * n, n);
      });
      return;
    }
    std::unique_ptr<Acc[]> part(new Acc[outer * chunks]);
    c.parallel_for(outer * chunks, kRowChunk, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        int64_t o = t / chunks, k = t % chunks;
        int64_t lo = k * kRowChunk, len = std::min(n, lo + kRowChunk) - lo;
        part[t] = reduce_row<R>(in + o * n + lo, len);
      }
    });
    for (int64_t o = 0; o < outer; ++o) {
      Acc a = R::init();
      for (int64_t k = 0; k < chunks; ++k) a = R::step(a, part[o * chunks + k]);
      out[o] = a;
    }
    return;
  }
  const int64_t tiles = (inner + kColTile - 1) / kColTile;
  c.parallel_for(outer * tiles, n * std::min(inner, kColTile), [&](int64_t b, int64_t e) {
    compute_t<In> part[kColTile];  // a few rows in the input type (vectorizes), then one step into the wide tile
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / tiles, i0 = (t % tiles) * kColTile, w = std::min(inner, i0 + kColTile) - i0;
      Acc* dst = out + o * inner + i0;
      const In* src = in + o * n * inner + i0;
      for (int64_t i = 0; i < w; ++i) dst[i] = R::init();
      for (int64_t r0 = 0; r0 < n; r0 += kColBlock) {
        const int64_t r1 = std::min(n, r0 + kColBlock);
        if constexpr (std::is_same_v<Acc, In>) {
          for (int64_t r = r0; r < r1; ++r)
            for (int64_t i = 0; i < w; ++i) dst[i] = R::step(dst[i], src[r * inner + i]);
        } else {
          std::copy(src + r0 * inner, src + r0 * inner + w, part);
          for (int64_t r = r0 + 1; r < r1; ++r)
            for (int64_t i = 0; i < w; ++i) part[i] = R::step(part[i], compute_t<In>(src[r * inner + i]));
          for (int64_t i = 0; i < w; ++i) dst[i] = R::step(dst[i], Acc(part[i]));
        }
      }
    }
  });
}

// Reduces x (type T, dims `d`) over the flagged dims and writes fin(acc) to `out` (as many elements as
// the kept dims hold). See Note [reduction blocks].
template <class R, class T, class Out, class Fin>
void reduce_into(const KernelCtx& c, const T* x, const Dims& d, const std::vector<char>& flags, Out* out, Fin fin) {
  using Acc = typename R::Acc;
  std::vector<std::pair<int64_t, bool>> runs;  // (size, reduced), size-1 dims dropped, neighbours merged
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i] == 1) continue;
    if (!runs.empty() && runs.back().second == (bool)flags[i]) runs.back().first *= d[i];
    else runs.push_back({d[i], (bool)flags[i]});
  }
  int64_t out_n = 1;
  for (auto& r : runs) if (!r.second) out_n *= r.first;
  if (num_elements(d) == 0) {  // nothing to reduce: every output holds the identity
    for (int64_t i = 0; i < out_n; ++i) out[i] = fin(R::init());
    return;
  }
  std::unique_ptr<Acc[]> cur;  // the latest pass's result; the first pass reads x
  while (true) {
    int j = -1;
    for (int k = (int)runs.size() - 1; k >= 0; --k) if (runs[k].second) { j = k; break; }
    if (j < 0) break;
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < j; ++k) outer *= runs[k].first;
    for (int k = j + 1; k < (int)runs.size(); ++k) inner *= runs[k].first;
    std::unique_ptr<Acc[]> next(new Acc[outer * inner]);
    if (cur) reduce_block<R>(c, cur.get(), next.get(), outer, runs[j].first, inner);
    else reduce_block<R>(c, x, next.get(), outer, runs[j].first, inner);
    cur = std::move(next);
    runs.erase(runs.begin() + j);
  }
  c.parallel_for(out_n, 1, [&](int64_t b, int64_t e) {
    if (cur) for (int64_t i = b; i < e; ++i) out[i] = fin(cur[i]);
    else for (int64_t i = b; i < e; ++i) out[i] = fin(Acc(x[i]));
  });
}

// ---- shared by the reductions ----

bool keep_dims_attr(const AttrMap& a) { return a.get_or<bool>("keep_dims", false); }

std::vector<int64_t> runtime_axes(const KernelCtx& c, int i) {
  const Tensor& t = c.in(i);
  if (t.dtype() != DType::Int32 && t.dtype() != DType::Int64)
    c.fail(std::string("reduction axes must be int32 or int64, got ") + dtype_name(t.dtype()));
  return t.to_int_vector();
}

void reduction_shape(InferCtx& c, bool logical) {
  if (logical ? c.dtype(0) != DType::Bool : !in_set(c.dtype(0), kNumeric))
    c.type_fail(std::string(logical ? "Input must be bool" : "Input must be numeric") + ", got " +
                dtype_name(c.dtype(0)));
  check_axes_dtype(c, 1);
  const bool keep = keep_dims_attr(c.node.attrs);
  const PartialShape& s = c.shape(0);
  std::vector<int64_t> axes;
  if (!s.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown());
  if (!c.const_ints(1, &axes))
    return c.set_output(0, c.dtype(0), keep ? PartialShape::unknown_of_rank(s.rank()) : PartialShape::unknown());
  auto flags = axis_flags(axes, s.rank(), [&](const std::string& m) { c.fail(m); });
  c.set_output(0, c.dtype(0), PartialShape(reduced_dims(s.dims, flags, keep)));
}

// The reduced-dim flags of input 0 over the axes of input 1, the output dims and the reduced count; when
// no reduced dim has more than one element the output is set to a view of the input and false returned.
bool prepare_reduction(KernelCtx& c, std::vector<char>* flags, Dims* out_dims, int64_t* count) {
  const Tensor& x = c.in(0);
  *flags = axis_flags(runtime_axes(c, 1), x.rank(), [&](const std::string& m) { c.fail(m); });
  *out_dims = reduced_dims(x.dims(), *flags, keep_dims_attr(c.node.attrs));
  *count = 1;
  bool any_reduced = false;
  for (int i = 0; i < x.rank(); ++i)
    if ((*flags)[i]) { *count *= x.dim(i); any_reduced |= x.dim(i) != 1; }
  if (any_reduced || x.size() == 0) return true;
  c.set(0, x.reshaped(*out_dims));
  return false;
}

// Runs reducer R<T> on input 0 over axes input 1; Mean divides the accumulated sum by the count.
template <template <class> class R, bool kMean = false>
void reduce_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  std::vector<char> flags;
  Dims out_dims;
  int64_t count;
  if (!prepare_reduction(c, &flags, &out_dims, &count)) return;
  dispatch<kNumeric>(x.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    using Acc = typename R<T>::Acc;
    T* out = c.alloc(0, x.dtype(), out_dims).template data<T>();
    if constexpr (kMean) {
      reduce_into<R<T>>(c, x.data<T>(), x.dims(), flags, out, [count](Acc a) {
        if constexpr (std::is_integral_v<T>) return count ? T(a / count) : T(0);
        else return T(a / Acc(count));  // an empty mean is NaN, as in TF
      });
    } else {
      reduce_into<R<T>>(c, x.data<T>(), x.dims(), flags, out, [](Acc a) { return T(a); });
    }
  });
}

template <class R>
void logical_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  std::vector<char> flags;
  Dims out_dims;
  int64_t count;
  if (!prepare_reduction(c, &flags, &out_dims, &count)) return;
  bool* out = c.alloc(0, DType::Bool, out_dims).data<bool>();
  reduce_into<R>(c, x.data<bool>(), x.dims(), flags, out, [](bool a) { return a; });
}

AttrMap keep_attr(bool keep) { return AttrMap{{"keep_dims", keep}}; }

// v (shaped like the reduction's output) broadcast back to the input's shape, divided by the count of
// reduced elements when `mean`.
// A statically known input shape is passed as a constant, so the input itself need not be computed
// when only the gradient is wanted (the square of a loss, say, is only there for its mean).
Output back_to_input(GradCtx& g, Output v, bool mean) {
  const PartialShape& xs = g.x(0).shape();
  const bool known = xs.fully_defined();
  return g.b.op1("ReduceGradBroadcast", {v, known ? g.b.ints(xs.dims) : g.x(0), g.x(1)},
                 AttrMap{{"keep_dims", keep_dims_attr(g.node.attrs)}, {"mean", mean}, {"x_is_shape", known}});
}

// ---------------------------------------------------------------------------------------------------
// Broadcasting `src` (dims `sd`, same rank as `dd`, each dim 1 or equal) to dims `dd`, times `scale`.
// Runs of dims are collapsed as in Note [reduction blocks]; each innermost row is a copy or a fill.
template <class T>
void broadcast_into(const KernelCtx& c, const T* src, const Dims& sd, const Dims& dd, T* dst, T scale) {
  struct Run { int64_t size, src_stride; bool bcast; };
  std::vector<Run> runs;
  for (size_t i = 0; i < dd.size(); ++i) {
    if (dd[i] == 1) continue;
    bool b = sd[i] == 1;
    if (!runs.empty() && runs.back().bcast == b) runs.back().size *= dd[i];
    else runs.push_back({dd[i], 0, b});
  }
  const int64_t total = num_elements(dd);
  if (total == 0) return;
  int64_t stride = 1;
  for (int k = (int)runs.size() - 1; k >= 0; --k) {
    runs[k].src_stride = runs[k].bcast ? 0 : stride;
    if (!runs[k].bcast) stride *= runs[k].size;
  }
  const int64_t row = runs.empty() ? 1 : runs.back().size;
  const bool row_bcast = !runs.empty() && runs.back().bcast;
  const int outer_runs = runs.empty() ? 0 : (int)runs.size() - 1;
  const bool unit = scale == T(1);
  auto scaled = [scale](T v) -> T {
    if constexpr (std::is_same_v<T, bool>) return v;
    else return v * scale;
  };
  c.parallel_for(total / row, row, [&](int64_t b, int64_t e) {
    std::vector<int64_t> idx(outer_runs);  // odometer over the outer runs, started at row b
    int64_t off = 0;
    for (int64_t k = outer_runs - 1, r = b; k >= 0; --k) {
      idx[k] = r % runs[k].size;
      r /= runs[k].size;
      off += idx[k] * runs[k].src_stride;
    }
    for (int64_t r = b; r < e; ++r) {
      T* o = dst + r * row;
      const T* s = src + off;
      if (row_bcast) {
        T v = scaled(s[0]);
        std::fill(o, o + row, v);
      } else if (unit) {
        std::memcpy(o, s, row * sizeof(T));
      } else {
        for (int64_t i = 0; i < row; ++i) o[i] = scaled(s[i]);
      }
      for (int k = outer_runs - 1; k >= 0; --k) {  // advance the odometer
        off += runs[k].src_stride;
        if (++idx[k] < runs[k].size) break;
        off -= runs[k].src_stride * runs[k].size;
        idx[k] = 0;
      }
    }
  });
}

// `from` right-aligned against `to` (NumPy rules), padded with leading 1s; false if not broadcastable.
bool align_for_broadcast(const Dims& from, const Dims& to, Dims* padded) {
  if (from.size() > to.size()) return false;
  padded->assign(to.size() - from.size(), 1);
  padded->insert(padded->end(), from.begin(), from.end());
  for (size_t i = 0; i < to.size(); ++i)
    if ((*padded)[i] != to[i] && (*padded)[i] != 1) return false;
  return true;
}

void broadcast_kernel(KernelCtx& c, const Tensor& src, const Dims& src_dims, const Dims& dst_dims, double scale) {
  dispatch<kPod>(src.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    T* dst = c.alloc(0, src.dtype(), dst_dims).template data<T>();
    broadcast_into<T>(c, src.data<T>(), src_dims, dst_dims, dst, T(scale));
  });
}

// ---- Sum, Mean and their gradient ReduceGradBroadcast ----

REGISTER_OP("Sum").inputs(2).shape([](InferCtx& c) { reduction_shape(c, false); }).cpu(reduce_kernel<SumR>)
    .grad([](GradCtx& g) { return std::vector<Output>{back_to_input(g, g.g(), false), Output{}}; });

REGISTER_OP("Mean").inputs(2).shape([](InferCtx& c) { reduction_shape(c, false); }).cpu(reduce_kernel<SumR, true>)
    .grad([](GradCtx& g) { return std::vector<Output>{back_to_input(g, g.g(), true), Output{}}; });

// ReduceGradBroadcast(g, x, axes; keep_dims, mean, x_is_shape): the gradient of Sum and Mean. g has the
// reduction's output shape (with or without kept dims); the result has x's shape, divided by the reduced
// count when `mean`. Only x's shape is used: with `x_is_shape`, input 1 is that shape. One kernel instead
// of Reshape + BroadcastTo + RealDiv, and it works for unknown static shapes.
REGISTER_OP("ReduceGradBroadcast").inputs(3)
    .shape([](InferCtx& c) {
      check_axes_dtype(c, 2);
      std::vector<int64_t> dims;
      if (!c.node.attrs.get_or<bool>("x_is_shape", false)) c.set_output(0, c.dtype(0), c.shape(1));
      else if (c.const_ints(1, &dims)) c.set_output(0, c.dtype(0), PartialShape(Dims(dims.begin(), dims.end())));
      else c.set_output(0, c.dtype(0), PartialShape::unknown());
    })
    .cpu([](KernelCtx& c) {
      const Tensor& g = c.in(0);
      const bool x_is_shape = c.node.attrs.get_or<bool>("x_is_shape", false);
      Dims xd;
      if (x_is_shape) for (int64_t d : c.in(1).to_int_vector()) xd.push_back(d);
      const Dims& x_dims = x_is_shape ? xd : c.in(1).dims();
      const int x_rank = (int)x_dims.size();
      auto flags = axis_flags(runtime_axes(c, 2), x_rank, [&](const std::string& m) { c.fail(m); });
      Dims kd = reduced_dims(x_dims, flags, true);
      if (num_elements(kd) != g.size())
        c.fail("Gradient of shape " + dims_str(g.dims()) + " does not match the reduced shape " + dims_str(kd));
      int64_t count = 1;
      for (int i = 0; i < x_rank; ++i) if (flags[i]) count *= x_dims[i];
      const bool mean = c.node.attrs.get_or<bool>("mean", false);
      if (mean && !is_any_float(g.dtype())) c.fail("The mean's gradient needs a floating-point gradient");
      if (kd == x_dims && !mean) return c.set(0, g.reshaped(kd));
      broadcast_kernel(c, g, kd, x_dims, mean ? 1.0 / (double)count : 1.0);
    })
    .grad([](GradCtx& g) {
      const bool mean = g.node.attrs.get_or<bool>("mean", false);
      Output r = g.b.op1(mean ? "Mean" : "Sum", {g.g(), g.x(2)}, keep_attr(keep_dims_attr(g.node.attrs)));
      return std::vector<Output>{r, Output{}, Output{}};
    });

// ---- Max, Min ----

// TF's rule for Max and Min: the gradient is split equally among the elements equal to the extremum.
std::vector<Output> extremum_grad(GradCtx& g) {
  const DType dt = g.x(0).dtype();
  Output hit = g.b.op1("Cast", {g.b.op1("Equal", {g.x(0), back_to_input(g, g.y(), false)})}, AttrMap{{"DstT", dt}});
  Output ties = g.b.op1("Sum", {hit, g.x(1)}, keep_attr(true));
  Output share = g.b.op1("RealDiv", {hit, ties});
  return {g.b.op1("Mul", {share, back_to_input(g, g.g(), false)}), Output{}};
}

REGISTER_OP("Max").inputs(2).shape([](InferCtx& c) { reduction_shape(c, false); }).cpu(reduce_kernel<MaxR>)
    .grad(extremum_grad);

REGISTER_OP("Min").inputs(2).shape([](InferCtx& c) { reduction_shape(c, false); }).cpu(reduce_kernel<MinR>)
    .grad(extremum_grad);

// ---- Prod, ProdOfOthers ----

// Gradient: g times the product of the other elements of each group (Note [product gradient]).
REGISTER_OP("Prod").inputs(2).shape([](InferCtx& c) { reduction_shape(c, false); }).cpu(reduce_kernel<ProdR>)
    .grad([](GradCtx& g) {
      Output others = g.b.op1("ProdOfOthers", {g.x(0), g.x(1)});
      return std::vector<Output>{g.b.op1("Mul", {back_to_input(g, g.g(), false), others}), Output{}};
    });

// Note [product gradient]
// d prod(x) / dx_i is the product of the other elements of x_i's reduction group. prod / x_i is that only
// when x_i != 0, so (like TF's rule, which uses exclusive cumulative products) each group is gathered into
// a row and every element gets the product of the elements before it times the product of those after
// it: exact at zeros, and no division.
void prod_of_others_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  auto flags = axis_flags(runtime_axes(c, 1), x.rank(), [&](const std::string& m) { c.fail(m); });
  // Each element's group (its index over the kept dims) and place in the group (over the reduced dims).
  int64_t groups = 1, n = 1;
  for (int i = 0; i < x.rank(); ++i) (flags[i] ? n : groups) *= x.dim(i);
  std::vector<int64_t> row_of(x.size());
  {
    Dims idx(x.rank(), 0);
    for (int64_t e = 0; e < x.size(); ++e) {
      int64_t g = 0, k = 0;
      for (int i = 0; i < x.rank(); ++i) {
        if (flags[i]) k = k * x.dim(i) + idx[i];
        else g = g * x.dim(i) + idx[i];
      }
      row_of[e] = g * n + k;
      for (int i = x.rank() - 1; i >= 0 && ++idx[i] == x.dim(i); --i) idx[i] = 0;
    }
  }
  dispatch<kFloat>(x.dtype(), "ProdOfOthers", [&](auto z) {
    using T = decltype(z);
    const T* in = x.data<T>();
    T* out = c.alloc(0, x.dtype(), x.dims()).template data<T>();
    std::vector<T> rows(x.size()), before(x.size());
    for (int64_t e = 0; e < x.size(); ++e) rows[row_of[e]] = in[e];
    c.parallel_for(groups, 3 * n, [&](int64_t b, int64_t end) {
      for (int64_t g = b; g < end; ++g) {
        const T* r = rows.data() + g * n;
        T* p = before.data() + g * n;
        T acc = 1;
        for (int64_t k = 0; k < n; ++k) { p[k] = acc; acc *= r[k]; }
        acc = 1;
        for (int64_t k = n - 1; k >= 0; --k) { p[k] *= acc; acc *= r[k]; }
      }
    });
    for (int64_t e = 0; e < x.size(); ++e) out[e] = before[row_of[e]];
  });
}

// ProdOfOthers(x, axes): for each element, the product of the other elements of its reduction group.
// Its own gradient (second order through Prod) is sum over the group of g * others, minus the element's
// own term, divided by the element: like TF's Cumprod gradient, it needs x != 0.
REGISTER_OP("ProdOfOthers").inputs(2)
    .shape([](InferCtx& c) {
      if (!in_set(c.dtype(0), kFloat)) c.type_fail(std::string("ProdOfOthers needs floats, got ") + dtype_name(c.dtype(0)));
      check_axes_dtype(c, 1);
      shape_unchanged(c);
    })
    .cpu(prod_of_others_kernel)
    .grad([](GradCtx& g) {
      Output gp = g.b.op1("Mul", {g.g(), g.y()});
      Output group = g.b.op1("ReduceGradBroadcast", {g.b.op1("Sum", {gp, g.x(1)}, keep_attr(true)), g.x(0), g.x(1)},
                             AttrMap{{"keep_dims", true}, {"mean", false}});
      return std::vector<Output>{g.b.op1("RealDiv", {g.b.op1("Sub", {group, gp}), g.x(0)}), Output{}};
    });

// ---- Any, All ----

REGISTER_OP("Any").inputs(2).not_differentiable().shape([](InferCtx& c) { reduction_shape(c, true); })
    .cpu(logical_kernel<AnyR>);

REGISTER_OP("All").inputs(2).not_differentiable().shape([](InferCtx& c) { reduction_shape(c, true); })
    .cpu(logical_kernel<AllR>);

// ---- SumToShape, BroadcastLike: the gradient driver's unbroadcast and its gradient ----

// SumToShape(grad, like): grad summed down to like's runtime shape, undoing NumPy broadcasting (leading
// dims summed away, dims where `like` has 1 summed). The gradient driver inserts it after every rule
// whose result may be broadcast, so matching shapes forward the buffer untouched.
REGISTER_OP("SumToShape").inputs(2)
    .shape([](InferCtx& c) {
      if (!in_set(c.dtype(0), kNumeric)) c.type_fail(std::string("Input must be numeric, got ") + dtype_name(c.dtype(0)));
      // A grad that cannot come from broadcasting `like` is a bug in a gradient rule: say so early.
      if (c.shape(0).known_rank && c.shape(1).known_rank && c.shape(0).rank() < c.shape(1).rank())
        c.fail("Cannot sum a tensor of shape " + c.shape(0).str() + " down to the larger rank of " + c.shape(1).str());
      c.set_output(0, c.dtype(0), c.shape(1));
    })
    .cpu([](KernelCtx& c) {
      const Tensor& g = c.in(0);
      const Dims& like = c.in(1).dims();
      if (g.dims() == like) return c.set(0, g);
      Dims padded;
      if (!align_for_broadcast(like, g.dims(), &padded))
        c.fail("Cannot sum a tensor of shape " + dims_str(g.dims()) + " down to shape " + dims_str(like));
      std::vector<char> flags(g.rank());
      for (int i = 0; i < g.rank(); ++i) flags[i] = padded[i] != g.dim(i);
      dispatch<kNumeric>(g.dtype(), "SumToShape", [&](auto z) {
        using T = decltype(z);
        using Acc = typename SumR<T>::Acc;
        reduce_into<SumR<T>>(c, g.data<T>(), g.dims(), flags, c.alloc(0, g.dtype(), like).template data<T>(),
                             [](Acc a) { return T(a); });
      });
    })
    .grad([](GradCtx& g) { return std::vector<Output>{g.b.op1("BroadcastLike", {g.g(), g.x(0)}), Output{}}; });

// BroadcastLike(x, like): x broadcast (NumPy rules) to like's runtime shape; SumToShape's gradient.
REGISTER_OP("BroadcastLike").inputs(2)
    .shape([](InferCtx& c) {
      PartialShape out;
      if (!broadcast_shapes(c.shape(0), c.shape(1), &out) || !out.compatible_with(c.shape(1)))
        c.fail("Cannot broadcast " + c.shape(0).str() + " to " + c.shape(1).str());
      c.set_output(0, c.dtype(0), c.shape(1));
    })
    .cpu([](KernelCtx& c) {
      const Tensor& x = c.in(0);
      const Dims& like = c.in(1).dims();
      if (x.dims() == like) return c.set(0, x);
      Dims padded;
      if (!align_for_broadcast(x.dims(), like, &padded))
        c.fail("Cannot broadcast shape " + dims_str(x.dims()) + " to " + dims_str(like));
      broadcast_kernel(c, x, padded, like, 1.0);
    })
    .grad([](GradCtx& g) { return std::vector<Output>{g.b.op1("SumToShape", {g.g(), g.x(0)}), Output{}}; });

}  // namespace
}  // namespace tideflow
