// Per-channel ops of convolutional networks: BiasAdd / BiasAddGrad, FusedBatchNorm (and V2, V3) with
// FusedBatchNormGrad (V2, V3), and local response normalization (LRN, LRNGrad), with TensorFlow's
// gradient rules. Channels-last data is a [rows, C] matrix whose channel loop is innermost (vectorized);
// channels-first data is [N, C, pixels], handled by BiasAdd directly and by batch norm through
// transposes.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/reduced_float.h"
#include "conv_util.h"

namespace tideflow {
namespace {

bool channels_first(const Node& n) {
  const std::string f = n.attrs.get_or<std::string>("data_format", "NHWC");
  return f.size() >= 2 && f[0] == 'N' && f[1] == 'C';
}

void check_format(const InferCtx& c, bool allow_3d) {
  const std::string f = c.node.attrs.get_or<std::string>("data_format", "NHWC");
  const bool ok = f == "NHWC" || f == "NCHW" || (allow_3d && (f == "NDHWC" || f == "NCDHW"));
  if (!ok)
    c.fail("Value for attr 'data_format' of \"" + f + "\" is not in the list of allowed values: \"NHWC\", \"NCHW\"" +
           (allow_3d ? ", \"NDHWC\", \"NCDHW\"" : ""));
}

// Note [channel sums]
// Per-channel sums over rows go through a fixed number of partial sums (set by the row count, never by
// the thread count or the scheduling) added in order, in double for float data: results repeat bit for
// bit and a float32 sum over 10^6 rows keeps its digits.
template <class T, class Row>
std::vector<double> channel_sums(const KernelCtx& c, int64_t rows, int64_t C, int k, Row&& row) {
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(16, rows / 256));
  std::vector<double> part((size_t)(parts * k * C), 0.0);
  c.parallel_for(parts, std::max<int64_t>(1, rows / parts * C * k), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p)
      for (int64_t r = rows * p / parts; r < rows * (p + 1) / parts; ++r) row(r, part.data() + p * k * C);
  });
  std::vector<double> sum(part.begin(), part.begin() + k * C);
  for (int64_t p = 1; p < parts; ++p)
    for (int64_t i = 0; i < k * C; ++i) sum[i] += part[p * k * C + i];
  return sum;
}

// ---- BiasAdd ----

void bias_add_shape(InferCtx& c) {
  check_format(c, false);
  c.expect_same_dtype(0, 1);
  if (!in_set(c.dtype(0), kNumeric)) c.type_fail(std::string("BiasAdd does not support dtype ") + dtype_name(c.dtype(0)));
  const PartialShape &x = c.shape(0), &b = c.shape(1);
  if (x.known_rank && x.rank() < 2) c.fail("Shape must be at least rank 2 but is rank " + std::to_string(x.rank()));
  if (b.known_rank && b.rank() != 1) c.fail("Shape must be rank 1 but is rank " + std::to_string(b.rank()));
  if (x.known_rank && b.known_rank) {
    const int64_t xc = x.dims[channels_first(c.node) ? 1 : x.rank() - 1], bc = b.dims[0];
    if (xc >= 0 && bc >= 0 && xc != bc)
      c.fail("Dimensions must be equal, but are " + std::to_string(xc) + " and " + std::to_string(bc));
  }
  c.set_output(0, c.dtype(0), x);
}

// x viewed as [outer, C, inner]: inner is 1 for channels-last, the pixel count for channels-first.
void bias_layout(const KernelCtx& c, const Tensor& x, int64_t* outer, int64_t* C, int64_t* inner) {
  if (x.rank() < 2) c.fail("input must be at least 2-dimensional, got shape " + dims_str(x.dims()));
  const int axis = channels_first(c.node) ? 1 : x.rank() - 1;
  *C = x.dim(axis);
  *outer = 1;
  for (int i = 0; i < axis; ++i) *outer *= x.dim(i);
  *inner = 1;
  for (int i = axis + 1; i < x.rank(); ++i) *inner *= x.dim(i);
}

void bias_add_kernel(KernelCtx& c) {
  const Tensor &x = c.in(0), &b = c.in(1);
  int64_t outer, C, inner;
  bias_layout(c, x, &outer, &C, &inner);
  if (b.rank() != 1 || b.dim(0) != C)
    c.fail("Must provide as many biases as the channel dimension of the input tensor: " + dims_str(b.dims()) +
           " vs. " + dims_str(x.dims()));
  dispatch<kNumeric>(x.dtype(), "BiasAdd", [&](auto z) {
    using T = decltype(z);
    const T* in = x.data<T>();  // before the forward, which may take x's buffer out of its slot
    const T* bias = b.data<T>();
    Tensor& y = c.alloc_or_forward(0, 0, x.dtype(), x.dims());
    if (y.size() == 0) return;  // Note [empty outputs return early]: [10^12, 0] has 10^12 empty rows
    T* out = y.template data<T>();
    c.parallel_for(outer, C * inner, [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o) {
        const T* xi = in + o * C * inner;
        T* yo = out + o * C * inner;
        if (inner == 1) {
          for (int64_t ch = 0; ch < C; ++ch) yo[ch] = xi[ch] + bias[ch];
        } else {
          for (int64_t ch = 0; ch < C; ++ch)
            for (int64_t i = 0; i < inner; ++i) yo[ch * inner + i] = xi[ch * inner + i] + bias[ch];
        }
      }
    });
  });
}

void bias_add_grad_shape(InferCtx& c) {
  check_format(c, false);
  if (!in_set(c.dtype(0), kNumeric))
    c.type_fail(std::string("BiasAddGrad does not support dtype ") + dtype_name(c.dtype(0)));
  const PartialShape& x = c.shape(0);
  if (x.known_rank && x.rank() < 2) c.fail("Shape must be at least rank 2 but is rank " + std::to_string(x.rank()));
  const int64_t ch = x.known_rank ? x.dims[channels_first(c.node) ? 1 : x.rank() - 1] : -1;
  c.set_output(0, c.dtype(0), PartialShape(Dims{ch}));
}

void bias_add_grad_kernel(KernelCtx& c) {
  const Tensor& g = c.in(0);
  int64_t outer, C, inner;
  bias_layout(c, g, &outer, &C, &inner);
  dispatch<kNumeric>(g.dtype(), "BiasAddGrad", [&](auto z) {
    using T = decltype(z);
    if (g.size() == 0) {  // Note [empty outputs return early]: the sums of nothing, not 10^12 empty rows
      T* out = c.alloc(0, g.dtype(), {C}).template data<T>();
      std::fill(out, out + C, T(0));
      return;
    }
    const T* d = g.data<T>();
    std::vector<double> s = channel_sums<T>(c, outer, C, 1, [&](int64_t o, double* acc) {
      const T* row = d + o * C * inner;
      if (inner == 1) {
        for (int64_t ch = 0; ch < C; ++ch) acc[ch] += (double)row[ch];
      } else {
        for (int64_t ch = 0; ch < C; ++ch) {
          double t = 0;
          for (int64_t i = 0; i < inner; ++i) t += (double)row[ch * inner + i];
          acc[ch] += t;
        }
      }
    });
    T* out = c.alloc(0, g.dtype(), {C}).template data<T>();
    for (int64_t ch = 0; ch < C; ++ch) out[ch] = static_cast<T>(s[ch]);
  });
}

// ---- FusedBatchNorm ----

// Note [fused batch norm]
// Training normalizes with the batch's mean and biased variance over every axis but the channels, and
// returns the unbiased variance (n / (n - 1)) as batch_variance, as TensorFlow's CPU kernel; the
// reserve spaces carry the mean and the biased variance to the gradient. Inference uses the given mean
// and variance and passes them through. Scale, offset, mean and variance share x's dtype, except that
// float16 and bfloat16 x keep them in float32, as TensorFlow's U (the kernels run in float32, Note
// [computing in float32]).
int spatial_rank(const std::string& fmt) { return fmt.size() == 5 ? 3 : 2; }

// The dtype of scale, offset and the statistics for x of dtype `t` (TensorFlow's U).
DType stats_dtype(DType t) { return is_half_float(t) ? DType::Float32 : t; }

void expect_stats_dtype(InferCtx& c, int from, int to) {
  const DType u = stats_dtype(c.dtype(0));
  for (int i = from; i < to; ++i)
    if (c.dtype(i) != u)
      c.type_fail("Input " + std::to_string(i) + " (a per-channel input) must be " + dtype_name(u) + " for x of dtype " +
                  dtype_name(c.dtype(0)) + ", got " + dtype_name(c.dtype(i)));
}

void fused_bn_shape(InferCtx& c) {
  check_format(c, true);
  if (!in_set(c.dtype(0), kFloat))
    c.type_fail(std::string("Value passed to parameter 'x' has DataType ") + dtype_name(c.dtype(0)) +
                " not in list of allowed values: " + dtypes_str(kFloat));
  expect_stats_dtype(c, 1, 5);
  const DType u = stats_dtype(c.dtype(0));
  const std::string fmt = c.node.attrs.get_or<std::string>("data_format", "NHWC");
  const int rank = spatial_rank(fmt) + 2;
  PartialShape x = c.shape(0);
  if (x.known_rank && x.rank() != rank)
    c.fail("input must be " + std::to_string(rank) + "-dimensional: Shape must be rank " + std::to_string(rank) +
           " but is rank " + std::to_string(x.rank()));
  if (!x.known_rank) x = PartialShape::unknown_of_rank(rank);
  int64_t ch = x.dims[channels_first(c.node) ? 1 : rank - 1];
  const bool training = c.node.attrs.get_or<bool>("is_training", true);
  for (int i = 1; i < 5; ++i) {
    const PartialShape& s = c.shape(i);
    if (!s.known_rank) continue;
    if (s.rank() != 1) c.fail("scale, offset, mean and variance must be 1-dimensional, got " + s.str());
    if (training && i >= 3) continue;  // unused when training
    const int64_t d = s.dims[0];
    if (ch >= 0 && d >= 0 && d != ch)
      c.fail("Dimensions must be equal, but are " + std::to_string(ch) + " and " + std::to_string(d) +
             " (channels of x and of the per-channel inputs)");
    if (ch < 0) ch = d;
  }
  c.set_output(0, c.dtype(0), x);
  for (int i = 1; i < 5; ++i) c.set_output(i, u, PartialShape(Dims{ch}));
  if (c.node.type() == "FusedBatchNormV3") c.set_output(5, u, PartialShape(Dims{0}));
}

template <class T>
void fused_bn(KernelCtx& c, const T* x, T* y, int64_t rows, int64_t C, const T* scale, const T* offset,
              const T* mean_in, const T* var_in, double eps, bool training, T* out_mean, T* out_var, T* rs1, T* rs2) {
  std::vector<double> mean(C), var(C);
  if (training) {
    std::vector<double> s = channel_sums<T>(c, rows, C, 1, [&](int64_t r, double* acc) {
      const T* xr = x + r * C;
      for (int64_t ch = 0; ch < C; ++ch) acc[ch] += (double)xr[ch];
    });
    for (int64_t ch = 0; ch < C; ++ch) mean[ch] = rows ? s[ch] / (double)rows : 0.0;
    std::vector<double> q = channel_sums<T>(c, rows, C, 1, [&](int64_t r, double* acc) {
      const T* xr = x + r * C;
      for (int64_t ch = 0; ch < C; ++ch) {
        const double d = (double)xr[ch] - mean[ch];
        acc[ch] += d * d;
      }
    });
    const double adjust = rows > 1 ? (double)rows / (double)(rows - 1) : 1.0;
    for (int64_t ch = 0; ch < C; ++ch) {
      var[ch] = rows ? q[ch] / (double)rows : 0.0;
      out_mean[ch] = rs1[ch] = (T)mean[ch];
      rs2[ch] = (T)var[ch];
      out_var[ch] = (T)(var[ch] * adjust);
    }
  } else {
    for (int64_t ch = 0; ch < C; ++ch) {
      mean[ch] = mean_in[ch];
      var[ch] = var_in[ch];
      out_mean[ch] = rs1[ch] = mean_in[ch];
      out_var[ch] = rs2[ch] = var_in[ch];
    }
  }
  // y = x * a + b per channel.
  std::vector<T> a(C), b(C);
  for (int64_t ch = 0; ch < C; ++ch) {
    const double inv = 1.0 / std::sqrt(var[ch] + eps);
    a[ch] = (T)(inv * (double)scale[ch]);
    b[ch] = (T)((double)offset[ch] - mean[ch] * inv * (double)scale[ch]);
  }
  c.parallel_for(rows, C, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r)
      for (int64_t ch = 0; ch < C; ++ch) y[r * C + ch] = x[r * C + ch] * a[ch] + b[ch];
  });
}

// The tensor's data in channels-last order, and its [rows, C] sizes.
template <class T>
const T* bn_rows(const KernelCtx& c, const Tensor& t, bool first, Tensor* keep, int64_t* rows, int64_t* C) {
  *C = t.dim(first ? 1 : t.rank() - 1);
  *rows = *C ? t.size() / *C : 0;
  if (!first) return t.data<T>();
  *keep = Tensor(t.dtype(), t.dims());
  window::to_channels_last(c, t.data<T>(), keep->data<T>(), t.dim(0), *C, t.dim(0) && *C ? t.size() / (t.dim(0) * *C) : 0);
  return keep->data<T>();
}

template <class T>
void store_layout(const KernelCtx& c, const Tensor& like, bool first, T* rows_data, T* out) {
  const int64_t C = like.dim(1), n = like.dim(0);
  window::to_channels_first(c, rows_data, out, n, C, n && C ? like.size() / (n * C) : 0);
}

void expect_vec(const KernelCtx& c, const Tensor& t, int64_t C, const char* what) {
  if (t.rank() != 1 || t.dim(0) != C)
    c.fail(std::string(what) + " must be a 1-dimensional tensor of " + std::to_string(C) + " channels, got shape " +
           dims_str(t.dims()));
}

void fused_bn_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  const std::string fmt = c.node.attrs.get_or<std::string>("data_format", "NHWC");
  if (x.rank() != spatial_rank(fmt) + 2) c.fail("input must be " + std::to_string(spatial_rank(fmt) + 2) +
                                                "-dimensional, got shape " + dims_str(x.dims()));
  const bool first = channels_first(c.node), training = c.node.attrs.get_or<bool>("is_training", true);
  const double eps = c.node.attrs.get_or<double>("epsilon", 1e-4);
  dispatch_float(x.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    Tensor keep, tmp;
    int64_t rows, C;
    const T* xl = bn_rows<T>(c, x, first, &keep, &rows, &C);
    expect_vec(c, c.in(1), C, "scale");
    expect_vec(c, c.in(2), C, "offset");
    if (!training) {
      expect_vec(c, c.in(3), C, "mean");
      expect_vec(c, c.in(4), C, "variance");
    }
    T* y = c.alloc(0, x.dtype(), x.dims()).template data<T>();
    T* yl = first ? (tmp = Tensor(x.dtype(), x.dims())).template data<T>() : y;
    T* outs[4];
    for (int i = 0; i < 4; ++i) outs[i] = c.alloc(1 + i, x.dtype(), {C}).template data<T>();
    if (c.node.type() == "FusedBatchNormV3") c.alloc(5, x.dtype(), {0});
    fused_bn<T>(c, xl, yl, rows, C, c.in(1).data<T>(), c.in(2).data<T>(), training ? nullptr : c.in(3).data<T>(),
                training ? nullptr : c.in(4).data<T>(), eps, training, outs[0], outs[1], outs[2], outs[3]);
    if (first) store_layout(c, x, first, yl, y);
  });
}

void fused_bn_grad_shape(InferCtx& c) {
  check_format(c, true);
  c.expect_same_dtype(0, 1);
  if (!in_set(c.dtype(0), kFloat)) c.type_fail("FusedBatchNormGrad needs float inputs");
  expect_stats_dtype(c, 2, c.num_inputs());
  const DType u = stats_dtype(c.dtype(0));
  if (!c.shape(0).compatible_with(c.shape(1)))
    c.fail("y_backprop and x must have the same shape, got " + c.shape(0).str() + " and " + c.shape(1).str());
  const PartialShape x = c.shape(1).merge(c.shape(0));
  int64_t ch = x.known_rank && x.rank() >= 2 ? x.dims[channels_first(c.node) ? 1 : x.rank() - 1] : -1;
  if (ch < 0 && c.shape(2).known_rank && c.shape(2).rank() == 1) ch = c.shape(2).dims[0];
  c.set_output(0, c.dtype(0), x);
  c.set_output(1, u, PartialShape(Dims{ch}));
  c.set_output(2, u, PartialShape(Dims{ch}));
  c.set_output(3, u, PartialShape(Dims{0}));
  c.set_output(4, u, PartialShape(Dims{0}));
}

void fused_bn_grad_kernel(KernelCtx& c) {
  const Tensor &dy = c.in(0), &x = c.in(1);
  if (dy.dims() != x.dims() || x.rank() < 4)
    c.fail("y_backprop and x must have the same 4-D or 5-D shape, got " + dims_str(dy.dims()) + " and " +
           dims_str(x.dims()));
  const bool first = channels_first(c.node), training = c.node.attrs.get_or<bool>("is_training", true);
  const double eps = c.node.attrs.get_or<double>("epsilon", 1e-4);
  dispatch_float(x.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    Tensor kx, kdy, tmp;
    int64_t rows, C;
    const T* xl = bn_rows<T>(c, x, first, &kx, &rows, &C);
    const T* dyl = bn_rows<T>(c, dy, first, &kdy, &rows, &C);
    expect_vec(c, c.in(2), C, "scale");
    expect_vec(c, c.in(3), C, "reserve_space_1 (mean)");
    expect_vec(c, c.in(4), C, "reserve_space_2 (variance)");
    const T *scale = c.in(2).data<T>(), *mean = c.in(3).data<T>(), *var = c.in(4).data<T>();
    std::vector<double> s = channel_sums<T>(c, rows, C, 2, [&](int64_t r, double* acc) {
      const T *xr = xl + r * C, *dr = dyl + r * C;
      for (int64_t ch = 0; ch < C; ++ch) {
        acc[ch] += (double)dr[ch];
        acc[C + ch] += (double)dr[ch] * ((double)xr[ch] - (double)mean[ch]);
      }
    });
    std::vector<T> k_dy(C), k_x(C), k_0(C);  // dx = dy * k_dy + (x - mean) * k_x + k_0
    T* dscale = c.alloc(1, x.dtype(), {C}).template data<T>();
    T* doffset = c.alloc(2, x.dtype(), {C}).template data<T>();
    const double n = (double)std::max<int64_t>(1, rows);
    for (int64_t ch = 0; ch < C; ++ch) {
      const double inv = 1.0 / std::sqrt((double)var[ch] + eps), sc = (double)scale[ch] * inv;
      doffset[ch] = (T)s[ch];
      dscale[ch] = (T)(s[C + ch] * inv);
      k_dy[ch] = (T)sc;
      k_x[ch] = training ? (T)(-sc * inv * inv * s[C + ch] / n) : T(0);
      k_0[ch] = training ? (T)(-sc * s[ch] / n) : T(0);
    }
    T* dx = c.alloc(0, x.dtype(), x.dims()).template data<T>();
    T* dxl = first ? (tmp = Tensor(x.dtype(), x.dims())).template data<T>() : dx;
    c.parallel_for(rows, C, [&](int64_t lo, int64_t hi) {
      // Inference's dx is dy * scale / sqrt(var + eps) alone, as TensorFlow's: the training terms, zero
      // there, would turn an infinite x or mean into NaN (inf * 0).
      if (!training) {
        for (int64_t r = lo; r < hi; ++r)
          for (int64_t ch = 0; ch < C; ++ch) dxl[r * C + ch] = dyl[r * C + ch] * k_dy[ch];
        return;
      }
      for (int64_t r = lo; r < hi; ++r)
        for (int64_t ch = 0; ch < C; ++ch)
          dxl[r * C + ch] = dyl[r * C + ch] * k_dy[ch] + (xl[r * C + ch] - mean[ch]) * k_x[ch] + k_0[ch];
    });
    if (first) store_layout(c, x, first, dxl, dx);
    c.alloc(3, x.dtype(), {0});
    c.alloc(4, x.dtype(), {0});
  });
}

// nn_grad.py's _BaseFusedBatchNormGrad: training passes the reserve spaces, inference the population
// mean and variance; the batch statistics outputs get no gradient.
std::vector<Output> fused_bn_grad(GradCtx& g) {
  const std::string& t = g.node.type();
  const char* grad_op = t == "FusedBatchNormV3" ? "FusedBatchNormGradV3"
                        : t == "FusedBatchNormV2" ? "FusedBatchNormGradV2" : "FusedBatchNormGrad";
  const bool training = g.node.attrs.get_or<bool>("is_training", true);
  std::vector<Output> in{g.g(0), g.x(0), g.x(1), training ? g.y(3) : g.x(3), training ? g.y(4) : g.x(4)};
  if (t == "FusedBatchNormV3") in.push_back(g.y(5));
  AttrMap at;
  for (const char* k : {"epsilon", "data_format", "is_training"})
    if (g.node.attrs.has(k)) at[k] = g.node.attrs.at(k);
  std::vector<Output> d = g.b.op(grad_op, in, at);
  return {d[0], d[1], d[2], Output{}, Output{}};
}

// Note [batch norm second order]
// The gradient of FusedBatchNormGrad (TF: _FusedBatchNormGradGrad, a GradientTape over a composite) is
// written out here from the closed forms, in ordinary ops. Per channel, with s = 1 / sqrt(var + eps),
// xh = (x - mean) s, P(c) = c - mean(c) - xh mean(c xh) (the batch-norm projection), and upstream
// gradients G (for dx), gs (for dscale), go (for doffset), training gives
//   d/ddy    = scale s P(G) + gs xh + go
//   d/dscale = sum(G s (dy - mean(dy) - xh m)),                        m = mean(dy xh)
//   d/dx     = s [gs P(dy) - scale s (xh (mean(G (dy - mean(dy))) - m mean(G xh)) + mean(G xh) P(dy) + m P(G))]
// and inference (fixed mean and variance): d/ddy = G scale s + gs (x - mean) s + go, d/dx = gs dy s,
// d/dscale = sum(G dy) s. The mean and variance inputs get no gradient, as in TensorFlow.
std::vector<Output> fused_bn_grad_grad(GradCtx& g) {
  Builder& b = g.b;
  const std::string fmt = g.node.attrs.get_or<std::string>("data_format", "NHWC");
  const bool first = channels_first(g.node), training = g.node.attrs.get_or<bool>("is_training", true);
  const int rank = spatial_rank(fmt) + 2;
  const double eps = g.node.attrs.get_or<double>("epsilon", 1e-4);
  std::vector<int64_t> axes, cshape(rank, 1);
  for (int i = 0; i < rank; ++i)
    if (i != (first ? 1 : rank - 1)) axes.push_back(i);
  cshape[first ? 1 : rank - 1] = -1;
  const Output ax = b.ints(axes), shape = b.ints(cshape);
  const DType dt = g.x(1).dtype();
  auto op = [&](const char* t, Output x, Output y) { return b.op1(t, {x, y}); };
  auto chan = [&](Output v) { return b.op1("Reshape", {v, shape}); };  // [C] -> broadcastable
  auto mean = [&](Output t) { return b.op1("Mean", {t, ax}, AttrMap{{"keep_dims", true}}); };
  auto sum_c = [&](Output t) { return b.op1("Sum", {t, ax}, AttrMap{{"keep_dims", false}}); };
  const Output dy = g.x(0), x = g.x(1), scale = chan(g.x(2)), mu = chan(g.x(3));
  const Output G = g.g(0), gs = chan(g.g(1)), go = chan(g.g(2));
  const Output s = b.op1("Rsqrt", {op("Add", chan(g.x(4)), b.scalar(eps, dt))});
  const Output xc = op("Sub", x, mu);
  if (!training) {
    Output ddy = op("Add", op("Add", op("Mul", op("Mul", G, scale), s), op("Mul", op("Mul", gs, xc), s)), go);
    Output dx = op("Mul", op("Mul", gs, dy), s);
    Output dscale = op("Mul", sum_c(op("Mul", G, dy)), b.op1("Reshape", {s, b.ints({-1})}));
    std::vector<Output> r{ddy, dx, dscale, Output{}, Output{}};
    if (g.node.inputs.size() == 6) r.push_back(Output{});
    return r;
  }
  const Output xh = op("Mul", xc, s);
  auto P = [&](Output c) { return op("Sub", op("Sub", c, mean(c)), op("Mul", xh, mean(op("Mul", c, xh)))); };
  const Output dyc = op("Sub", dy, mean(dy));
  const Output m = mean(op("Mul", dy, xh)), mg = mean(op("Mul", G, xh)), Pdy = P(dy), PG = P(G);
  const Output ss = op("Mul", scale, s);
  Output ddy = op("Add", op("Add", op("Mul", ss, PG), op("Mul", gs, xh)), go);
  Output dscale = sum_c(op("Mul", op("Mul", G, s), op("Sub", dyc, op("Mul", xh, m))));
  Output inner = op("Add", op("Add", op("Mul", xh, op("Sub", mean(op("Mul", G, dyc)), op("Mul", m, mg))),
                                     op("Mul", mg, Pdy)), op("Mul", m, PG));
  Output dx = op("Mul", s, op("Sub", op("Mul", gs, Pdy), op("Mul", ss, inner)));
  std::vector<Output> r{ddy, dx, dscale, Output{}, Output{}};
  if (g.node.inputs.size() == 6) r.push_back(Output{});
  return r;
}

// ---- LRN ----

struct LrnAttrs {
  int64_t radius;
  double bias, alpha, beta;
};
LrnAttrs lrn_attrs(const Node& n) {
  return {n.attrs.get_or<int64_t>("depth_radius", 5), n.attrs.get_or<double>("bias", 1.0),
          n.attrs.get_or<double>("alpha", 1.0), n.attrs.get_or<double>("beta", 0.5)};
}

void lrn_check(const InferCtx& c) {
  const LrnAttrs a = lrn_attrs(c.node);
  if (a.radius < 0 || a.radius > (int64_t(1) << 30)) c.fail("depth_radius = " + std::to_string(a.radius) + " is out of range");
}

// norm[c] = bias + alpha * sum of x^2 over channels [c - r, c + r] of one pixel, via prefix sums.
template <class T>
void lrn_norm(const T* x, int64_t C, const LrnAttrs& a, double* prefix, double* norm) {
  prefix[0] = 0;
  for (int64_t ch = 0; ch < C; ++ch) prefix[ch + 1] = prefix[ch] + (double)x[ch] * (double)x[ch];
  for (int64_t ch = 0; ch < C; ++ch) {
    const int64_t lo = std::max<int64_t>(0, ch - a.radius), hi = std::min<int64_t>(C, ch + a.radius + 1);
    norm[ch] = a.bias + a.alpha * (prefix[hi] - prefix[lo]);
  }
}

// Note [LRN and special values]
// TensorFlow's CPU LRN sums each depth window as a product with a 0/1 band matrix (lrn_op.cc), so every
// square of a depth vector enters every sum of that vector: one NaN makes the whole vector NaN, and an
// infinite square (of +-inf, or of a float32 above 1.8e19) gives inf to the windows holding it and
// inf * 0 = NaN to all the others. Only for depth > 384 with beta 0.5 or 1 does it run a sliding sum of
// alpha * x^2 in the input's type, whose NaNs follow the window (inf - inf once an infinity has left it).
// The double prefix sums here stay the fast path; a vector whose sum of squares is NaN or reaches the
// dtype's largest value (checked once per vector) has its sums redone by the kernel's rule.
inline bool lrn_band(int64_t C, const LrnAttrs& a) {
  const float beta = (float)a.beta;  // TF holds the attributes as the input's float type
  return !(C > 384 && (beta == 0.5f || beta == 1.0f));
}

template <class T>
void lrn_band_specials(const T* x, int64_t C, const LrnAttrs& a, double* norm) {
  int64_t first_inf = -1, last_inf = -1;
  bool nan = false;
  for (int64_t ch = 0; ch < C; ++ch) {
    const T sq = x[ch] * x[ch];  // in the input's precision, where TF's squares overflow
    nan |= sq != sq;
    if (std::isinf(sq)) {
      if (first_inf < 0) first_inf = ch;
      last_inf = ch;
    }
  }
  if (!nan && first_inf < 0) return;  // large but finite squares: the prefix sums stand
  const double inf = std::numeric_limits<double>::infinity();
  for (int64_t ch = 0; ch < C; ++ch) {
    const bool outside = first_inf < ch - a.radius || last_inf > ch + a.radius;
    norm[ch] = nan || outside ? std::numeric_limits<double>::quiet_NaN() : a.bias + a.alpha * inf;
  }
}

// The sliding sum of TensorFlow's deep-vector kernel, in the input's precision (where a square overflows).
template <class T>
void lrn_sliding_specials(const T* x, int64_t C, const LrnAttrs& a, double* norm) {
  const T alpha = (T)a.alpha, bias = (T)a.bias;
  auto sq = [&](int64_t i) { return i < 0 || i >= C ? T(0) : x[i] * x[i] * alpha; };
  T acc = 0;
  for (int64_t i = -a.radius; i < a.radius; ++i) acc += sq(i);
  for (int64_t i = 0; i < C; ++i) {
    acc += sq(i + a.radius);
    norm[i] = (double)(bias + acc);
    acc -= sq(i - a.radius);
  }
}

// norm^-beta, with the common exponents exact and cheap.
inline double neg_pow(double n, double beta) {
  if (beta == 0.5) return 1.0 / std::sqrt(n);
  if (beta == 1.0) return 1.0 / n;
  if (beta == 0.75) {
    const double r = 1.0 / std::sqrt(n);
    return r * std::sqrt(r);
  }
  return std::pow(n, -beta);
}

void lrn_shape(InferCtx& c) {
  lrn_check(c);
  if (!in_set(c.dtype(0), kF32F64 | dset(DType::Float16)))  // float16 via_float32, as TF's CPU kernels
    c.type_fail(std::string("LRN does not support dtype ") + dtype_name(c.dtype(0)));
  if (c.shape(0).known_rank && c.shape(0).rank() != 4)
    c.fail("input must be 4-dimensional: Shape must be rank 4 but is rank " + std::to_string(c.shape(0).rank()));
  c.set_output(0, c.dtype(0), c.shape(0).known_rank ? c.shape(0) : PartialShape::unknown_of_rank(4));
}

void lrn_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  if (x.rank() != 4) c.fail("input must be 4-dimensional, got shape " + dims_str(x.dims()));
  const LrnAttrs a = lrn_attrs(c.node);
  const int64_t C = x.dim(3), rows = C ? x.size() / C : 0;
  dispatch_float(x.dtype(), "LRN", [&](auto z) {
    using T = decltype(z);
    const T* in = x.data<T>();
    T* out = c.alloc(0, x.dtype(), x.dims()).template data<T>();
    const bool band = lrn_band(C, a);  // Note [LRN and special values]
    const double big = (double)std::numeric_limits<T>::max();
    c.parallel_for(rows, 8 * C, [&](int64_t lo, int64_t hi) {
      double* prefix = window::scratch<double>(2 * C + 1, 0);
      double* norm = prefix + C + 1;
      for (int64_t r = lo; r < hi; ++r) {
        lrn_norm(in + r * C, C, a, prefix, norm);
        if (!(prefix[C] < big)) {  // a NaN, an infinity or squares that overflow the input's type
          if (band) lrn_band_specials(in + r * C, C, a, norm);
          else lrn_sliding_specials(in + r * C, C, a, norm);
        }
        for (int64_t ch = 0; ch < C; ++ch) out[r * C + ch] = (T)((double)in[r * C + ch] * neg_pow(norm[ch], a.beta));
      }
    });
  });
}

void lrn_grad_shape(InferCtx& c) {
  lrn_check(c);
  if (!in_set(c.dtype(0), kF32F64 | dset(DType::Float16)))
    c.type_fail(std::string("LRNGrad does not support dtype ") + dtype_name(c.dtype(0)));
  c.expect_same_dtype(0, 1);
  c.expect_same_dtype(0, 2);
  PartialShape s = c.shape(0);
  for (int i = 1; i < 3; ++i) {
    if (!s.compatible_with(c.shape(i)))
      c.fail("input_grads, input_image and output_image must have the same shape");
    s = s.merge(c.shape(i));
  }
  if (s.known_rank && s.rank() != 4) c.fail("inputs must be 4-dimensional");
  c.set_output(0, c.dtype(0), s.known_rank ? s : PartialShape::unknown_of_rank(4));
}

// dx[k] = dy[k] norm[k]^-beta - 2 alpha beta x[k] sum_{|j-k|<=r} dy[j] out[j] / norm[j] (TF's LRNGrad,
// with the window sum done by prefix sums).
void lrn_grad_kernel(KernelCtx& c) {
  const Tensor &dy = c.in(0), &x = c.in(1), &y = c.in(2);
  if (x.rank() != 4 || dy.dims() != x.dims() || y.dims() != x.dims())
    c.fail("input_grads, input_image and output_image must be 4-D of one shape, got " + dims_str(dy.dims()) + ", " +
           dims_str(x.dims()) + ", " + dims_str(y.dims()));
  const LrnAttrs a = lrn_attrs(c.node);
  const int64_t C = x.dim(3), rows = C ? x.size() / C : 0;
  dispatch_float(x.dtype(), "LRNGrad", [&](auto z) {
    using T = decltype(z);
    const T *g = dy.data<T>(), *in = x.data<T>(), *outv = y.data<T>();
    T* dx = c.alloc(0, x.dtype(), x.dims()).template data<T>();
    c.parallel_for(rows, 12 * C, [&](int64_t lo, int64_t hi) {
      double* prefix = window::scratch<double>(3 * C + 2, 0);
      double* norm = prefix + C + 1;
      double* tp = norm + C;  // prefix sums of dy * out / norm
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t o = r * C;
        lrn_norm(in + o, C, a, prefix, norm);
        tp[0] = 0;
        for (int64_t ch = 0; ch < C; ++ch) tp[ch + 1] = tp[ch] + (double)g[o + ch] * (double)outv[o + ch] / norm[ch];
        for (int64_t k = 0; k < C; ++k) {
          const int64_t jl = std::max<int64_t>(0, k - a.radius), jh = std::min<int64_t>(C, k + a.radius + 1);
          dx[o + k] = (T)((double)g[o + k] * neg_pow(norm[k], a.beta) -
                          2.0 * a.alpha * a.beta * (double)in[o + k] * (tp[jh] - tp[jl]));
        }
      }
    });
  });
}

}  // namespace

REGISTER_OP("BiasAdd").inputs(2).shape(bias_add_shape).cpu(bias_add_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.g(), g.b.op1("BiasAddGrad", {g.g()}, g.node.attrs)};
    });
// The gradient of a per-channel sum broadcasts back over x's shape: BiasAdd of zeros (TF reshapes and
// tiles; same values).
REGISTER_OP("BiasAddGrad").inputs(1).shape(bias_add_grad_shape).cpu(bias_add_grad_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("BiasAdd", {g.b.op1("ZerosLike", {g.x(0)}), g.g()}, g.node.attrs)};
    });

REGISTER_OP("FusedBatchNorm").inputs(5).shape(fused_bn_shape).cpu(via_float32<fused_bn_kernel>).grad(fused_bn_grad);
REGISTER_OP("FusedBatchNormV2").inputs(5).shape(fused_bn_shape).cpu(via_float32<fused_bn_kernel>).grad(fused_bn_grad);
REGISTER_OP("FusedBatchNormV3").inputs(5).shape(fused_bn_shape).cpu(via_float32<fused_bn_kernel>).grad(fused_bn_grad);
REGISTER_OP("FusedBatchNormGrad").inputs(5).shape(fused_bn_grad_shape).cpu(via_float32<fused_bn_grad_kernel>)
    .grad(fused_bn_grad_grad);
REGISTER_OP("FusedBatchNormGradV2").inputs(5).shape(fused_bn_grad_shape).cpu(via_float32<fused_bn_grad_kernel>)
    .grad(fused_bn_grad_grad);
REGISTER_OP("FusedBatchNormGradV3").inputs(6).shape(fused_bn_grad_shape).cpu(via_float32<fused_bn_grad_kernel>)
    .grad(fused_bn_grad_grad);

REGISTER_OP("LRN").inputs(1).shape(lrn_shape).cpu(via_float32<lrn_kernel>)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("LRNGrad", {g.g(), g.x(0), g.y()}, g.node.attrs)};
    });
REGISTER_OP("LRNGrad").inputs(3).shape(lrn_grad_shape).cpu(via_float32<lrn_grad_kernel>);

}  // namespace tideflow
