// Depthwise convolution: DepthwiseConv2dNative and its input and filter gradients, with nn_grad.py's
// rules (second order included). Input channel c meets only filter[:, :, c, :], so each output pixel is a
// sum over the window's taps of channel-wise products: a direct kernel whose inner loop runs over the
// channels (vectorized), with no patch matrix. Filter [kh, kw, C, M] gives C * M output channels ordered
// c * M + m.
#include <algorithm>
#include <cstring>

#include "ops/reduced_float.h"
#include "conv_util.h"

namespace tideflow {
namespace {

using window::Attrs;
using window::Dim;
using window::Geometry;

// fn(tap, pixel) for the taps of output pixel (oh, ow) that fall inside the image (2-D: depth is 1).
template <class F>
void each_tap(const Geometry& g, int64_t oh, int64_t ow, F&& fn) {
  const Dim &H = g.s[1], &W = g.s[2];
  for (int64_t kh = 0; kh < H.k; ++kh) {
    const int64_t ih = oh * H.stride - H.pad_lo + kh * H.dil;
    if (ih < 0 || ih >= H.in) continue;
    for (int64_t kw = 0; kw < W.k; ++kw) {
      const int64_t iw = ow * W.stride - W.pad_lo + kw * W.dil;
      if (iw >= 0 && iw < W.in) fn(kh * W.k + kw, ih * W.in + iw);
    }
  }
}

// out[c * M + m] += x[c] * f[c * M + m] over channels [c0, c1).
template <class T>
inline void mul_add(const T* x, const T* f, T* out, int64_t c0, int64_t c1, int64_t M) {
  if (M == 1) {
    for (int64_t c = c0; c < c1; ++c) out[c] += x[c] * f[c];
    return;
  }
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t m = 0; m < M; ++m) out[c * M + m] += x[c] * f[c * M + m];
}

template <class T>
void depthwise_forward(const KernelCtx& c, const T* x, const T* f, T* y, const Geometry& g, int64_t M) {
  const int64_t C = g.c, OC = C * M, OW = g.s[2].out, per = g.out_pixels(), img = g.in_pixels() * C;
  c.parallel_for(g.n * per, g.taps() * OC + 1, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t n = r / per, oh = (r % per) / OW, ow = r % OW;
      T* out = y + r * OC;
      std::fill(out, out + OC, T(0));
      const T* im = x + n * img;
      each_tap(g, oh, ow, [&](int64_t t, int64_t pix) { mul_add(im + pix * C, f + t * OC, out, 0, C, M); });
    }
  });
}

// dx[pixel][c] += sum_m dy[c * M + m] * f[tap][c * M + m]: images and channel blocks in parallel (windows
// of one image overlap, channels never mix).
template <class T>
void depthwise_backprop_input(const KernelCtx& c, const T* dy, const T* f, T* dx, const Geometry& g, int64_t M) {
  const int64_t C = g.c, OC = C * M, OW = g.s[2].out, per = g.out_pixels(), img = g.in_pixels() * C;
  std::fill(dx, dx + g.n * img, T(0));
  const int64_t blocks = g.n >= 4 * c.threads ? 1 : std::max<int64_t>(1, std::min<int64_t>(8, C / 16));
  const int64_t bc = (C + blocks - 1) / blocks;
  c.parallel_for(g.n * blocks, per * g.taps() * OC / blocks + 1, [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      const int64_t n = u / blocks, c0 = (u % blocks) * bc, c1 = std::min(C, c0 + bc);
      T* im = dx + n * img;
      for (int64_t r = n * per; r < (n + 1) * per; ++r) {
        const T* d = dy + r * OC;
        each_tap(g, (r % per) / OW, r % OW, [&](int64_t t, int64_t pix) {
          T* p = im + pix * C;
          const T* ft = f + t * OC;
          if (M == 1) {
            for (int64_t ch = c0; ch < c1; ++ch) p[ch] += d[ch] * ft[ch];
          } else {
            for (int64_t ch = c0; ch < c1; ++ch) {
              T s = 0;
              for (int64_t m = 0; m < M; ++m) s += d[ch * M + m] * ft[ch * M + m];
              p[ch] += s;
            }
          }
        });
      }
    }
  });
}

// df[tap][c * M + m] = sum over output pixels of x[pixel][c] * dy[c * M + m], in a fixed number of
// partial sums added in order (Note [im2col tiles] in conv.cc). dy has the filter's [C * M] layout, so
// mul_add does the product.
template <class T>
void depthwise_backprop_filter(const KernelCtx& c, const T* x, const T* dy, T* df, const Geometry& g, int64_t M) {
  const int64_t C = g.c, OC = C * M, OW = g.s[2].out, per = g.out_pixels(), img = g.in_pixels() * C;
  const int64_t fsize = g.taps() * OC, rows = g.n * per;
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(c.threads, rows / 64));
  std::vector<T> partial((size_t)(parts * fsize), T(0));
  c.parallel_for(parts, int64_t(1) << 40, [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      T* sum = partial.data() + p * fsize;
      for (int64_t r = rows * p / parts; r < rows * (p + 1) / parts; ++r) {
        const int64_t n = r / per;
        const T* im = x + n * img;
        const T* d = dy + r * OC;
        each_tap(g, (r % per) / OW, r % OW,
                 [&](int64_t t, int64_t pix) { mul_add(im + pix * C, d, sum + t * OC, 0, C, M); });
      }
    }
  });
  std::copy(partial.begin(), partial.begin() + fsize, df);
  for (int64_t p = 1; p < parts; ++p)
    for (int64_t i = 0; i < fsize; ++i) df[i] += partial[p * fsize + i];
}

// ---- attributes and shapes ----

const window::Spec kSpec{"DepthwiseConv2dNative", 2, false, true};

template <class Ctx>
Attrs read(const Ctx& c) {
  Attrs a;
  std::string err = window::read_attrs(c.node.attrs, kSpec, &a);
  if (!err.empty()) c.fail(err);
  return a;
}

void float_dtypes(InferCtx& c, int a, int b) {
  if (!in_set(c.dtype(a), kFloat))  // float16 and bfloat16 via_float32 (Note [computing in float32])
    c.type_fail(std::string("Value passed to parameter 'input' has DataType ") + dtype_name(c.dtype(a)) +
                " not in list of allowed values: " + dtypes_str(kFloat));
  c.expect_same_dtype(a, b);
}

PartialShape rank4(InferCtx& c, const PartialShape& s, const char* what) {
  if (!s.known_rank) return PartialShape::unknown_of_rank(4);
  if (s.rank() != 4) c.fail(std::string(what) + ": Shape must be rank 4 but is rank " + std::to_string(s.rank()));
  return s;
}

PartialShape out_shape(InferCtx& c, const Attrs& a, const PartialShape& x, const PartialShape& f) {
  const int64_t xc = x.dims[a.channel_axis()], fc = f.dims[2];
  if (xc >= 0 && fc >= 0 && xc != fc)
    c.fail("input depth must equal the filter's input depth: Dimensions must be equal, but are " +
           std::to_string(xc) + " and " + std::to_string(fc));
  Dims in = x.dims;
  std::vector<int64_t> k{f.dims[0], f.dims[1]};
  for (int i = 0; i < 2; ++i)
    if (k[i] < 0) in[a.spatial_axis(i)] = -1, k[i] = 1;
  Geometry g;
  std::string err = window::geometry(a, in, k, &g);
  if (!err.empty()) c.fail(err);
  const int64_t ch = xc >= 0 ? xc : fc, m = f.dims[3];
  return PartialShape(window::out_dims(a, g, ch >= 0 && m >= 0 ? ch * m : -1));
}

PartialShape sizes_arg(InferCtx& c, int i, const char* what) {
  if (!is_integer(c.dtype(i))) c.type_fail(std::string(what) + " must be int32 or int64");
  std::vector<int64_t> v;
  if (!c.const_ints(i, &v)) return PartialShape::unknown_of_rank(4);
  if (v.size() != 4) c.fail(std::string(what) + " must have 4 elements, got " + std::to_string(v.size()));
  for (int64_t d : v)
    if (d < 0) c.fail(std::string(what) + " must not be negative, got " + dims_str(v));
  return PartialShape(v);
}

void check_dy(InferCtx& c, const Attrs& a, const PartialShape& x, const PartialShape& f, int dy) {
  const PartialShape want = out_shape(c, a, x, f);
  if (!want.compatible_with(rank4(c, c.shape(dy), "out_backprop")))
    c.fail("out_backprop has shape " + c.shape(dy).str() + " but the convolution's output shape is " + want.str());
}

void forward_shape(InferCtx& c) {
  float_dtypes(c, 0, 1);
  const Attrs a = read(c);
  c.set_output(0, c.dtype(0), out_shape(c, a, rank4(c, c.shape(0), "input"), rank4(c, c.shape(1), "filter")));
}

void backprop_input_shape(InferCtx& c) {
  float_dtypes(c, 1, 2);
  const Attrs a = read(c);
  PartialShape x = sizes_arg(c, 0, "input_sizes");
  const PartialShape f = rank4(c, c.shape(1), "filter");
  if (x.dims[a.channel_axis()] < 0) x.dims[a.channel_axis()] = f.dims[2];
  check_dy(c, a, x, f, 2);
  c.set_output(0, c.dtype(1), x);
}

void backprop_filter_shape(InferCtx& c) {
  float_dtypes(c, 0, 2);
  const Attrs a = read(c);
  const PartialShape x = rank4(c, c.shape(0), "input");
  PartialShape f = sizes_arg(c, 1, "filter_sizes");
  if (f.dims[2] < 0) f.dims[2] = x.dims[a.channel_axis()];
  check_dy(c, a, x, f, 2);
  c.set_output(0, c.dtype(0), f);
}

// ---- kernels ----

Geometry run_geometry(const KernelCtx& c, const Attrs& a, const Dims& x, const Dims& f) {
  if (x.size() != 4 || f.size() != 4)
    c.fail("input and filter must be 4-dimensional, got shapes " + dims_str(x) + " and " + dims_str(f));
  if (x[a.channel_axis()] != f[2])
    c.fail("input depth must equal the filter's input depth: input shape " + dims_str(x) + ", filter shape " +
           dims_str(f));
  Geometry g;
  std::string err = window::geometry(a, x, {f[0], f[1]}, &g);
  if (!err.empty()) c.fail(err);
  g.oc = f[2] * f[3];
  return g;
}

Dims sizes_value(const KernelCtx& c, int i, const char* what) {
  const Tensor& t = c.in(i);
  if (t.rank() != 1 || t.size() != 4) c.fail(std::string(what) + " must be a 4-vector, got shape " + dims_str(t.dims()));
  Dims d = t.to_int_vector();
  for (int64_t v : d)
    if (v < 0) c.fail(std::string(what) + " must not be negative, got " + dims_str(d));
  return d;
}

void expect_dy(const KernelCtx& c, const Attrs& a, const Geometry& g, const Tensor& dy) {
  const Dims want = window::out_dims(a, g, g.oc);
  if (dy.dims() != want)
    c.fail("Size of out_backprop doesn't match computed: actual = " + dims_str(dy.dims()) + ", computed = " +
           dims_str(want));
}

void forward_kernel(KernelCtx& c) {
  const Attrs a = read(c);
  const Tensor &x = c.in(0), &f = c.in(1);
  const Geometry g = run_geometry(c, a, x.dims(), f.dims());
  const Dims out = window::out_dims(a, g, g.oc);
  dispatch_float(x.dtype(), "DepthwiseConv2dNative", [&](auto z) {
    using T = decltype(z);
    Tensor keep, tmp;
    const T* xl = window::channels_last<T>(c, a, x, &keep);
    Tensor& yt = window::alloc_checked(c, 0, x.dtype(), out);
    if (yt.size() == 0) return;  // Note [empty outputs return early]
    T* y = yt.template data<T>();
    T* yl = a.channels_first ? (tmp = Tensor(x.dtype(), out)).template data<T>() : y;
    depthwise_forward(c, xl, f.data<T>(), yl, g, f.dim(3));
    if (a.channels_first) window::to_channels_first(c, yl, y, g.n, g.oc, g.out_pixels());
  });
}

void backprop_input_kernel(KernelCtx& c) {
  const Attrs a = read(c);
  const Tensor &f = c.in(1), &dy = c.in(2);
  const Dims xd = sizes_value(c, 0, "input_sizes");
  const Geometry g = run_geometry(c, a, xd, f.dims());
  expect_dy(c, a, g, dy);
  dispatch_float(f.dtype(), "DepthwiseConv2dNativeBackpropInput", [&](auto z) {
    using T = decltype(z);
    Tensor keep, tmp;
    const T* dyl = window::channels_last<T>(c, a, dy, &keep);
    Tensor& dxt = window::alloc_checked(c, 0, f.dtype(), xd);
    if (dxt.size() == 0) return;  // Note [empty outputs return early]
    T* dx = dxt.template data<T>();
    T* dxl = a.channels_first ? (tmp = Tensor(f.dtype(), xd)).template data<T>() : dx;
    depthwise_backprop_input(c, dyl, f.data<T>(), dxl, g, f.dim(3));
    if (a.channels_first) window::to_channels_first(c, dxl, dx, g.n, g.c, g.in_pixels());
  });
}

void backprop_filter_kernel(KernelCtx& c) {
  const Attrs a = read(c);
  const Tensor &x = c.in(0), &dy = c.in(2);
  const Dims fd = sizes_value(c, 1, "filter_sizes");
  const Geometry g = run_geometry(c, a, x.dims(), fd);
  expect_dy(c, a, g, dy);
  dispatch_float(x.dtype(), "DepthwiseConv2dNativeBackpropFilter", [&](auto z) {
    using T = decltype(z);
    Tensor keep_x, keep_dy;
    const T* xl = window::channels_last<T>(c, a, x, &keep_x);
    const T* dyl = window::channels_last<T>(c, a, dy, &keep_dy);
    Tensor& dft = window::alloc_checked(c, 0, x.dtype(), fd);
    // Note [empty outputs return early]: filter_sizes [2^30, 0, 2, 2] walked 2^30 empty filter rows (a
    // hang the second 1,000,000-case fuzz run found)
    if (dft.size() == 0) return;
    T* df = dft.template data<T>();
    depthwise_backprop_filter(c, xl, dyl, df, g, fd[3]);
  });
}

// ---- gradients (nn_grad.py) ----

Output shape_of(GradCtx& g, Output x) { return g.b.op1("Shape", {x}, AttrMap{{"out_type", DType::Int32}}); }

std::vector<Output> forward_grad(GradCtx& g) {
  const AttrMap& at = g.node.attrs;
  return {g.b.op1("DepthwiseConv2dNativeBackpropInput", {shape_of(g, g.x(0)), g.x(1), g.g()}, at),
          g.b.op1("DepthwiseConv2dNativeBackpropFilter", {g.x(0), shape_of(g, g.x(1)), g.g()}, at)};
}

std::vector<Output> backprop_input_grad(GradCtx& g) {
  const AttrMap& at = g.node.attrs;
  return {Output{}, g.b.op1("DepthwiseConv2dNativeBackpropFilter", {g.g(), shape_of(g, g.x(1)), g.x(2)}, at),
          g.b.op1("DepthwiseConv2dNative", {g.g(), g.x(1)}, at)};
}

std::vector<Output> backprop_filter_grad(GradCtx& g) {
  const AttrMap& at = g.node.attrs;
  return {g.b.op1("DepthwiseConv2dNativeBackpropInput", {shape_of(g, g.x(0)), g.g(), g.x(2)}, at), Output{},
          g.b.op1("DepthwiseConv2dNative", {g.x(0), g.g()}, at)};
}

}  // namespace

REGISTER_OP("DepthwiseConv2dNative").inputs(2).expensive().shape(forward_shape).cpu(via_float32<forward_kernel>)
    .grad(forward_grad);
REGISTER_OP("DepthwiseConv2dNativeBackpropInput").inputs(3).expensive().shape(backprop_input_shape)
    .cpu(via_float32<backprop_input_kernel>).grad(backprop_input_grad);
REGISTER_OP("DepthwiseConv2dNativeBackpropFilter").inputs(3).expensive().shape(backprop_filter_shape)
    .cpu(via_float32<backprop_filter_kernel>).grad(backprop_filter_grad);

}  // namespace tideflow
