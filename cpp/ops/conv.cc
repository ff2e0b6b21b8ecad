// Dense convolutions: Conv2D and Conv3D, their input and filter gradients (Conv2DBackpropInput,
// Conv2DBackpropFilter, Conv3DBackpropInputV2, Conv3DBackpropFilterV2) and the gradients of those, as in
// TensorFlow's nn_grad.py. All six run the same three kernels (2-D is 3-D with depth 1): im2col tiles
// multiplied by the tile product of kernels/tile_gemm.h (float32) or gemm.h (float64), with faster routes where
// the geometry allows (Note [im2col tiles]). Channels-first data is transposed to channels-last and back
// around the kernels.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "ops/reduced_float.h"
#include "conv_gemm.h"
#include "conv_util.h"
#include "kernels/gemm.h"
#include "kernels/tile_gemm.h"
#include "plan.h"

namespace tideflow {
namespace {

using window::Attrs;
using window::Dim;
using window::Geometry;
using window::scratch;

// Note [im2col tiles]
// Over channels-last data a convolution is a product: the receptive field of each output pixel, laid out
// (kd, kh, kw, c) like the filter's rows, is one row of a patch matrix [rows, K], the filter is [K, OC],
// and patches x filter lands directly in NDHWC order. Patch rows are built a tile at a time (Note
// [kernel scratch]) and multiplied by a single-threaded gemm; tiles run in parallel and stay in cache,
// and the whole patch matrix (40 MB for a 64x14x14 layer with 5x5x32 filters) never exists.
// The input gradient is the same product transposed: a tile of dY times the filter's transpose gives
// the patch-shaped gradient, which col2im adds back into the input's pixels. Windows of one image
// overlap, so images run in parallel and an image's tiles run in order. The filter gradient sums
// patches^T x dY over tiles into a fixed number of partial sums (set by the thread count, never by the
// scheduling) added in order, so a run repeats bit for bit.
// Faster routes: a 1x1, stride-1, unpadded convolution is one gemm on the data itself; float32 2-D
// convolutions and filter gradients skip im2col (Note [Winograd convolutions] in conv_winograd.cc for
// 3x3 and 5x5 filters with unit strides, else Note [implicit patches] in conv_implicit.cc, or Note
// [stacked rows] in conv_stacked.cc for few channels); with unit
// strides the input gradient is a forward convolution (backprop_input_as_conv) and needs no col2im.
constexpr int64_t kTileBytes = 192 << 10;

int64_t tile_rows(int64_t k, size_t elem) {
  int64_t r = kTileBytes / std::max<int64_t>(1, k * (int64_t)elem);
  return std::max<int64_t>(32, std::min<int64_t>(4096, r / 8 * 8));
}

// One tile's product on this thread, all operands dense: C[m, n] (+)= op(A) B with op(A) = A [m, k], or
// with ta the transpose of A stored [k, m]. Float32 goes to Note [tile products] in kernels/tile_gemm.cc.
template <class T>
void tile_product(bool ta, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c, bool accumulate) {
  if constexpr (std::is_same_v<T, float>)
    tilegemm::sgemm(ta, m, n, k, a, ta ? m : k, b, n, c, n, accumulate);
  else
    gemm(a, b, c, m, n, k, ta, false, 1, T(1), accumulate ? T(1) : T(0));
}

// Position of output row r (a pixel of the flattened [n, od, oh, ow] grid) and its window's corner.
struct RowPos {
  int64_t n, od, oh, ow;
  RowPos(const Geometry& g, int64_t r) {
    ow = r % g.s[2].out;
    r /= g.s[2].out;
    oh = r % g.s[1].out;
    r /= g.s[1].out;
    od = r % g.s[0].out;
    n = r / g.s[0].out;
  }
  void next(const Geometry& g) {
    if (++ow < g.s[2].out) return;
    ow = 0;
    if (++oh < g.s[1].out) return;
    oh = 0;
    if (++od < g.s[0].out) return;
    od = 0;
    ++n;
  }
};

// Walks the window of output row p over input `img` (one image, channels-last): calls
// span(col_offset, pixel_offset_or_-1, count) for runs of `count` window pixels that are contiguous in
// the input (pixel_offset < 0: the run lies in the padding). Offsets are in elements.
template <class Span>
void walk_window(const Geometry& g, const RowPos& p, Span&& span) {
  const Dim &D = g.s[0], &H = g.s[1], &W = g.s[2];
  const int64_t C = g.c;
  const int64_t id0 = p.od * D.stride - D.pad_lo, ih0 = p.oh * H.stride - H.pad_lo, iw0 = p.ow * W.stride - W.pad_lo;
  const bool w_inside = W.dil == 1 && iw0 >= 0 && iw0 + W.k <= W.in;
  int64_t col = 0;
  for (int64_t kd = 0; kd < D.k; ++kd) {
    const int64_t id = id0 + kd * D.dil;
    if (id < 0 || id >= D.in) {
      span(col, -1, H.k * W.k);
      col += H.k * W.k * C;
      continue;
    }
    for (int64_t kh = 0; kh < H.k; ++kh) {
      const int64_t ih = ih0 + kh * H.dil;
      const int64_t row = (id * H.in + ih) * W.in;
      if (ih < 0 || ih >= H.in) {
        span(col, -1, W.k);
      } else if (w_inside) {
        span(col, (row + iw0) * C, W.k);
      } else {
        for (int64_t kw = 0; kw < W.k; ++kw) {
          const int64_t iw = iw0 + kw * W.dil;
          span(col + kw * C, iw < 0 || iw >= W.in ? -1 : (row + iw) * C, 1);
        }
      }
      col += W.k * C;
    }
  }
}

template <class T>
inline void copy_or_zero(T* d, const T* s, int64_t n) {
  if (n <= 16) {  // a few channels (a first layer): a call to memcpy costs more than the copy
    if (s) for (int64_t i = 0; i < n; ++i) d[i] = s[i];
    else for (int64_t i = 0; i < n; ++i) d[i] = T(0);
  } else if (s) {
    std::memcpy(d, s, (size_t)n * sizeof(T));
  } else {
    std::memset(d, 0, (size_t)n * sizeof(T));
  }
}

// col[r - r0] = the patch of output row r, for r in [r0, r1). Runs of pixels along one output row share
// their (kd, kh) bounds checks; each window row is then one copy when it lies inside the image.
template <class T>
void im2col(const T* x, const Geometry& g, int64_t r0, int64_t r1, T* col) {
  const Dim &D = g.s[0], &H = g.s[1], &W = g.s[2];
  const int64_t C = g.c, K = g.taps() * C, img = g.in_pixels() * C, span = W.k * C;
  RowPos p(g, r0);
  for (int64_t r = r0; r < r1;) {
    const int64_t run = std::min(r1 - r, W.out - p.ow);  // output pixels left on this output row
    const T* src = x + p.n * img;
    T* base = col + (r - r0) * K;
    int64_t at = 0;
    for (int64_t kd = 0; kd < D.k; ++kd) {
      const int64_t id = p.od * D.stride - D.pad_lo + kd * D.dil;
      for (int64_t kh = 0; kh < H.k; ++kh, at += span) {
        const int64_t ih = p.oh * H.stride - H.pad_lo + kh * H.dil;
        const bool inside = id >= 0 && id < D.in && ih >= 0 && ih < H.in;
        const T* rowp = inside ? src + (id * H.in + ih) * W.in * C : nullptr;
        // Pixels [j0, j1) of the run have their whole window row inside the image.
        int64_t j0 = run, j1 = run;
        if (inside && W.dil == 1 && C < 8) {
          j0 = std::min(run, std::max<int64_t>(0, (W.pad_lo - p.ow * W.stride + W.stride - 1) / W.stride));
          const int64_t last = W.in - W.k + W.pad_lo;  // the last inside window starts at column <= this
          j1 = last < 0 ? j0 : std::max(j0, std::min(run, last / W.stride - p.ow + 1));
          // Few channels: element by element across the pixels, with no per-pixel branches.
          for (int64_t e = 0; e < span; ++e)
            for (int64_t j = j0; j < j1; ++j) base[j * K + at + e] = rowp[((p.ow + j) * W.stride - W.pad_lo) * C + e];
        }
        for (int64_t j = 0; j < run; ++j) {
          if (j == j0) j = j1;
          if (j >= run) break;
          T* d = base + j * K + at;
          const int64_t iw0 = (p.ow + j) * W.stride - W.pad_lo;
          if (!inside) {
            copy_or_zero<T>(d, nullptr, span);
          } else if (W.dil == 1 && iw0 >= 0 && iw0 + W.k <= W.in) {
            copy_or_zero(d, rowp + iw0 * C, span);
          } else {
            for (int64_t kw = 0; kw < W.k; ++kw) {
              const int64_t iw = iw0 + kw * W.dil;
              copy_or_zero(d + kw * C, iw >= 0 && iw < W.in ? rowp + iw * C : nullptr, C);
            }
          }
        }
      }
    }
    r += run;
    for (int64_t j = 0; j < run; ++j) p.next(g);
  }
}

// dx[the pixels of row r's window] += col[r - r0], for r in [r0, r1).
template <class T>
void col2im_add(const T* col, const Geometry& g, int64_t r0, int64_t r1, T* dx) {
  const int64_t K = g.taps() * g.c, img = g.in_pixels() * g.c;
  RowPos p(g, r0);
  for (int64_t r = r0; r < r1; ++r, p.next(g)) {
    const T* src = col + (r - r0) * K;
    T* dst = dx + p.n * img;
    walk_window(g, p, [&](int64_t at, int64_t from, int64_t count) {
      if (from < 0) return;
      const T* s = src + at;
      T* d = dst + from;
      for (int64_t i = 0, n = count * g.c; i < n; ++i) d[i] += s[i];
    });
  }
}

// y [rows, OC] = patches(x) [rows, K] x f [K, OC].
// With `post` (float32 only), each finished block of y gets Note [convolution output pass].
template <class T>
void conv_forward(const KernelCtx& c, const T* x, const T* f, T* y, const Geometry& g,
                  const convgemm::OutputPass* post = nullptr) {
  const int64_t K = g.taps() * g.c, rows = g.n * g.out_pixels(), OC = g.oc;
  if (rows == 0 || OC == 0) return;
  auto finish = [&](T* block, int64_t pixels) {
    if constexpr (std::is_same_v<T, float>)
      if (post) (*post)(block, pixels, OC);
  };
  if (g.pointwise()) {
    gemm(x, f, y, rows, OC, K, false, false, c.threads);
    if (post) c.parallel_for(rows, OC, [&](int64_t b, int64_t e) { finish(y + b * OC, e - b); });
    return;
  }
  if constexpr (std::is_same_v<T, float>)
    if (K > 0 && (convgemm::winograd_forward(c, x, f, y, g, post) || convgemm::forward(c, x, f, y, g, post) ||
                  convgemm::stacked_forward(c, x, f, y, g, post)))
      return;
  const int64_t tile = tile_rows(K, sizeof(T)), tiles = (rows + tile - 1) / tile;
  c.parallel_for(tiles, tile * K * OC, [&](int64_t b, int64_t e) {
    T* col = scratch<T>(tile * K, 0);
    for (int64_t t = b; t < e; ++t) {
      const int64_t r0 = t * tile, r1 = std::min(rows, r0 + tile);
      im2col(x, g, r0, r1, col);
      tile_product(false, r1 - r0, OC, K, col, f, y + r0 * OC, false);
      finish(y + r0 * OC, r1 - r0);
    }
  });
}

// With unit strides the input gradient is itself a convolution: of dY, padded by ek - 1 - pad on each
// side, with the filter flipped in space and its channel dims swapped. Returns false where that does not
// hold (strides, or an explicit padding wider than the window).
template <class T>
bool backprop_input_as_conv(const KernelCtx& c, const T* dy, const T* f, T* dx, const Geometry& g) {
  Geometry t = g;
  for (int i = 0; i < 3; ++i) {
    const Dim& d = g.s[i];
    Dim& e = t.s[i];
    if (d.stride != 1 || d.pad_lo > d.eff_k() - 1 || d.pad_hi > d.eff_k() - 1) return false;
    e.in = d.out;
    e.out = d.in;
    e.pad_lo = d.eff_k() - 1 - d.pad_lo;
    e.pad_hi = d.eff_k() - 1 - d.pad_hi;
  }
  t.c = g.oc;
  t.oc = g.c;
  const int64_t taps = g.taps(), C = g.c, OC = g.oc;
  std::vector<T> flipped((size_t)(taps * C * OC));
  for (int64_t tap = 0; tap < taps; ++tap)
    for (int64_t ci = 0; ci < C; ++ci)
      for (int64_t o = 0; o < OC; ++o) flipped[((taps - 1 - tap) * OC + o) * C + ci] = f[(tap * C + ci) * OC + o];
  conv_forward(c, dy, flipped.data(), dx, t);
  return true;
}

// dx = col2im(dy [rows, OC] x f^T [OC, K]).
template <class T>
void conv_backprop_input(const KernelCtx& c, const T* dy, const T* f, T* dx, const Geometry& g) {
  const int64_t K = g.taps() * g.c, OC = g.oc, per_image = g.out_pixels(), img = g.in_pixels() * g.c;
  if (g.pointwise()) return gemm(dy, f, dx, g.n * per_image, g.c, OC, false, true, c.threads);
  if (K > 0 && OC > 0 && backprop_input_as_conv(c, dy, f, dx, g)) return;
  const bool by_image = g.n >= c.threads;
  // The filter's transpose [OC, K], so each tile is a plain product.
  std::vector<T> ft((size_t)(K * OC));
  for (int64_t i = 0; i < K; ++i)
    for (int64_t j = 0; j < OC; ++j) ft[j * K + i] = f[i * OC + j];
  // One image at a time lets gemm split a tile over the threads: make the tiles big enough for that.
  int64_t tile = tile_rows(K, sizeof(T));
  if (!by_image) tile = std::max(tile, std::min<int64_t>(per_image, 256));
  auto image = [&](int64_t n, int threads) {
    T* out = dx + n * img;
    std::fill(out, out + img, T(0));
    if (K == 0 || OC == 0) return;
    T* col = scratch<T>(tile * K, 0);
    for (int64_t r0 = n * per_image, end = r0 + per_image; r0 < end; r0 += tile) {
      const int64_t r1 = std::min(end, r0 + tile);
      if (threads > 1) gemm(dy + r0 * OC, ft.data(), col, r1 - r0, K, OC, false, false, threads);
      else tile_product(false, r1 - r0, K, OC, dy + r0 * OC, ft.data(), col, false);
      col2im_add(col, g, r0, r1, dx);
    }
  };
  if (by_image)
    c.parallel_for(g.n, std::max<int64_t>(1, per_image * K * OC), [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) image(n, 1);
    });
  else
    for (int64_t n = 0; n < g.n; ++n) image(n, c.threads);
}

// df [K, OC] = sum over tiles of patches(x)^T x dy.
template <class T>
void conv_backprop_filter(const KernelCtx& c, const T* x, const T* dy, T* df, const Geometry& g) {
  const int64_t K = g.taps() * g.c, rows = g.n * g.out_pixels(), OC = g.oc;
  if (K == 0 || OC == 0) return;
  if (rows == 0) return std::fill(df, df + K * OC, T(0));
  if (g.pointwise()) return gemm(x, dy, df, g.c, OC, rows, true, false, c.threads);
  if constexpr (std::is_same_v<T, float>)
    if (convgemm::winograd_backprop_filter(c, x, dy, df, g) || convgemm::backprop_filter(c, x, dy, df, g) ||
        convgemm::stacked_backprop_filter(c, x, dy, df, g))
      return;
  const int64_t tile = tile_rows(K, sizeof(T)), tiles = (rows + tile - 1) / tile;
  const int64_t parts = std::min<int64_t>(c.threads, tiles);
  std::vector<T> partial((size_t)((parts - 1) * K * OC));
  c.parallel_for(parts, int64_t(1) << 40, [&](int64_t pb, int64_t pe) {
    T* col = scratch<T>(tile * K, 0);
    for (int64_t p = pb; p < pe; ++p) {
      T* sum = p == 0 ? df : partial.data() + (p - 1) * K * OC;
      for (int64_t t = tiles * p / parts, te = tiles * (p + 1) / parts, first = t; t < te; ++t) {
        const int64_t r0 = t * tile, r1 = std::min(rows, r0 + tile);
        im2col(x, g, r0, r1, col);
        tile_product(true, K, OC, r1 - r0, col, dy + r0 * OC, sum, t != first);
      }
    }
  });
  for (int64_t p = 1; p < parts; ++p) {
    const T* s = partial.data() + (p - 1) * K * OC;
    for (int64_t i = 0; i < K * OC; ++i) df[i] += s[i];
  }
}

// ---- attributes, shapes, checks ----

window::Spec spec_of(const std::string& type) {
  const bool three = type.rfind("Conv3D", 0) == 0;
  return window::Spec{three ? "Conv3D" : "Conv2D", three ? 3 : 2, false, !three};
}

Attrs read(const InferCtx& c) {
  Attrs a;
  std::string err = window::read_attrs(c.node.attrs, spec_of(c.node.type()), &a);
  if (!err.empty()) c.fail(err);
  return a;
}
Attrs read(const KernelCtx& c) {
  Attrs a;
  std::string err = window::read_attrs(c.node.attrs, spec_of(c.node.type()), &a);
  if (!err.empty()) c.fail(err);
  return a;
}

void float_dtypes(InferCtx& c, int a, int b) {
  if (!in_set(c.dtype(a), kFloat))  // float16 and bfloat16 via_float32 (Note [computing in float32])
    c.type_fail(std::string("Value passed to parameter 'input' has DataType ") + dtype_name(c.dtype(a)) +
                " not in list of allowed values: " + dtypes_str(kFloat));
  c.expect_same_dtype(a, b);
}

// A partial shape of rank `rank` (unknown dims where unknown), failing on another rank.
PartialShape ranked(InferCtx& c, const PartialShape& s, int rank, const char* what) {
  if (!s.known_rank) return PartialShape::unknown_of_rank(rank);
  if (s.rank() != rank)
    c.fail(std::string(what) + ": Shape must be rank " + std::to_string(rank) + " but is rank " +
           std::to_string(s.rank()));
  return s;
}

void check_equal(InferCtx& c, int64_t a, int64_t b, const char* what) {
  if (a >= 0 && b >= 0 && a != b)
    c.fail(std::string(what) + ": Dimensions must be equal, but are " + std::to_string(a) + " and " +
           std::to_string(b));
}

// Output shape of a convolution of `x` by a filter of shape `f` (both of the op's rank).
PartialShape conv_out_shape(InferCtx& c, const Attrs& a, const PartialShape& x, const PartialShape& f) {
  const int nsp = a.nsp;
  check_equal(c, x.dims[a.channel_axis()], f.dims[nsp], "input depth must equal the filter's input depth");
  Dims in = x.dims;
  std::vector<int64_t> k(f.dims.begin(), f.dims.begin() + nsp);
  for (int i = 0; i < nsp; ++i)
    if (k[i] < 0) in[a.spatial_axis(i)] = -1, k[i] = 1;  // an unknown window leaves that dim unknown
  Geometry g;
  std::string err = window::geometry(a, in, k, &g);
  if (!err.empty()) c.fail(err);
  return PartialShape(window::out_dims(a, g, f.dims[nsp + 1]));
}

void conv_shape(InferCtx& c) {
  float_dtypes(c, 0, 1);
  Attrs a = read(c);
  const int rank = a.nsp + 2;
  PartialShape x = ranked(c, c.shape(0), rank, "input"), f = ranked(c, c.shape(1), rank, "filter");
  c.set_output(0, c.dtype(0), conv_out_shape(c, a, x, f));
}

// A shape given as a tensor (input_sizes, filter_sizes): known dims, or unknown of the op's rank.
PartialShape sizes_arg(InferCtx& c, int i, int rank, const char* what) {
  if (c.dtype(i) != DType::Int32 && c.dtype(i) != DType::Int64)
    c.type_fail(std::string(what) + " must be int32 or int64, got " + dtype_name(c.dtype(i)));
  if (c.shape(i).known_rank && c.shape(i).rank() != 1)
    c.fail(std::string(what) + " must be a vector, got shape " + c.shape(i).str());
  std::vector<int64_t> v;
  if (!c.const_ints(i, &v)) return PartialShape::unknown_of_rank(rank);
  if ((int)v.size() != rank)
    c.fail(std::string(what) + " must have " + std::to_string(rank) + " elements, got " + std::to_string(v.size()));
  for (int64_t d : v)
    if (d < 0) c.fail(std::string(what) + " must not be negative, got " + dims_str(v));
  return PartialShape(v);
}

void check_out_backprop(InferCtx& c, const Attrs& a, const PartialShape& x, const PartialShape& f,
                        const PartialShape& dy) {
  const PartialShape want = conv_out_shape(c, a, x, f);
  if (!want.compatible_with(dy))
    c.fail("out_backprop has shape " + dy.str() + " but the convolution's output shape is " + want.str());
}

void backprop_input_shape(InferCtx& c) {
  float_dtypes(c, 1, 2);
  Attrs a = read(c);
  const int rank = a.nsp + 2;
  PartialShape x = sizes_arg(c, 0, rank, "input_sizes");
  PartialShape f = ranked(c, c.shape(1), rank, "filter"), dy = ranked(c, c.shape(2), rank, "out_backprop");
  x.dims[a.channel_axis()] = x.dims[a.channel_axis()] >= 0 ? x.dims[a.channel_axis()] : f.dims[a.nsp];
  if (x.dims[0] < 0) x.dims[0] = dy.dims[0];
  check_out_backprop(c, a, x, f, dy);
  c.set_output(0, c.dtype(1), x);
}

void backprop_filter_shape(InferCtx& c) {
  float_dtypes(c, 0, 2);
  Attrs a = read(c);
  const int rank = a.nsp + 2;
  PartialShape x = ranked(c, c.shape(0), rank, "input");
  PartialShape f = sizes_arg(c, 1, rank, "filter_sizes"), dy = ranked(c, c.shape(2), rank, "out_backprop");
  if (f.dims[a.nsp] < 0) f.dims[a.nsp] = x.dims[a.channel_axis()];
  if (f.dims[a.nsp + 1] < 0) f.dims[a.nsp + 1] = dy.dims[a.channel_axis()];
  check_out_backprop(c, a, x, f, dy);
  c.set_output(0, c.dtype(0), f);
}

// ---- kernels ----

// Geometry of a convolution of input dims `x` by filter dims `f`, checked at run time.
Geometry run_geometry(const KernelCtx& c, const Attrs& a, const Dims& x, const Dims& f) {
  const int rank = a.nsp + 2;
  if ((int)x.size() != rank || (int)f.size() != rank)
    c.fail("input and filter must be " + std::to_string(rank) + "-dimensional, got input shape " + dims_str(x) +
           " and filter shape " + dims_str(f));
  if (x[a.channel_axis()] != f[a.nsp])
    c.fail("input depth must equal the filter's input depth: input shape " + dims_str(x) + ", filter shape " +
           dims_str(f));
  Geometry g;
  std::string err = window::geometry(a, x, std::vector<int64_t>(f.begin(), f.begin() + a.nsp), &g);
  if (!err.empty()) c.fail(err);
  g.oc = f[a.nsp + 1];
  return g;
}

void conv_run(KernelCtx& c, const convgemm::OutputPass* post) {
  const Attrs a = read(c);
  const Tensor &x = c.in(0), &f = c.in(1);
  const Geometry g = run_geometry(c, a, x.dims(), f.dims());
  const Dims out = window::out_dims(a, g, g.oc);
  dispatch_float(x.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    Tensor keep_x;
    const T* xl = window::channels_last<T>(c, a, x, &keep_x);
    T* y = window::alloc_checked(c, 0, x.dtype(), out).template data<T>();
    if (!a.channels_first) return conv_forward(c, xl, f.data<T>(), y, g, post);
    Tensor tmp(x.dtype(), out);
    conv_forward(c, xl, f.data<T>(), tmp.data<T>(), g);
    window::to_channels_first(c, tmp.data<T>(), y, g.n, g.oc, g.out_pixels());
  });
}

void conv_kernel(KernelCtx& c) { conv_run(c, nullptr); }

// Note [convolution output pass] in conv_gemm.h: Relu(Add(Conv2D(x, f), bias)) or Relu(BiasAdd(...)) as
// one kernel (a chain, Note [fused chains] in plan.h). Inputs: the bias, then x and f. `I` is the Add's
// input that the convolution feeds. Anything but a float32 channels-last convolution and a float32 bias
// vector over its channels runs the three nodes' own kernels in turn.
template <int I>
void conv_bias_relu_kernel(KernelCtx& c) {
  const Node& add = *c.fused;
  Node& conv = *add.inputs[I].node;
  const Tensor &bias = c.in(0), &x = c.in(1), &f = c.in(2);
  std::vector<Tensor> conv_in{x, f}, conv_out(1);
  KernelCtx cc{conv, conv_in, conv_out, c.res, c.threads, c.parallel};
  const bool nhwc = add.attrs.get_or<std::string>("data_format", "NHWC") == "NHWC" &&
                    conv.attrs.get_or<std::string>("data_format", "NHWC") == "NHWC";
  if (nhwc && x.dtype() == DType::Float32 && f.dtype() == DType::Float32 && bias.dtype() == DType::Float32 &&
      bias.rank() == 1 && f.rank() == 4 && bias.dim(0) == f.dim(3)) {
    const convgemm::OutputPass post{bias.data<float>(), true};
    conv_run(cc, &post);
    c.set(0, std::move(conv_out[0]));
    return;
  }
  conv.op->cpu(cc);
  std::vector<Tensor> add_in(2), add_out(1);
  add_in[I] = std::move(conv_out[0]);
  add_in[1 - I] = bias;
  Node& producer = const_cast<Node&>(add);
  KernelCtx ac{producer, add_in, add_out, c.res, c.threads, c.parallel};
  producer.op->cpu(ac);
  std::vector<Tensor> relu_in{std::move(add_out[0])};
  KernelCtx rc{c.node, relu_in, c.outputs, c.res, c.threads, c.parallel};
  c.node.op->cpu(rc);
}

void expect_out_backprop(const KernelCtx& c, const Attrs& a, const Geometry& g, const Tensor& dy) {
  const Dims want = window::out_dims(a, g, g.oc);
  if (dy.dims() != want)
    c.fail("Size of out_backprop doesn't match computed: actual = " + dims_str(dy.dims()) + ", computed = " +
           dims_str(want));
}

Dims sizes_value(const KernelCtx& c, int i, const char* what) {
  const Tensor& t = c.in(i);
  if (t.rank() != 1) c.fail(std::string(what) + " must be a vector, got shape " + dims_str(t.dims()));
  Dims d = t.to_int_vector();
  for (int64_t v : d)
    if (v < 0) c.fail(std::string(what) + " must not be negative, got " + dims_str(d));
  return d;
}

void backprop_input_kernel(KernelCtx& c) {
  const Attrs a = read(c);
  const Tensor &f = c.in(1), &dy = c.in(2);
  const Dims xd = sizes_value(c, 0, "input_sizes");
  const Geometry g = run_geometry(c, a, xd, f.dims());
  expect_out_backprop(c, a, g, dy);
  dispatch_float(f.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    Tensor keep;
    const T* dyl = window::channels_last<T>(c, a, dy, &keep);
    T* dx = window::alloc_checked(c, 0, f.dtype(), xd).template data<T>();
    if (!a.channels_first) return conv_backprop_input(c, dyl, f.data<T>(), dx, g);
    Tensor tmp(f.dtype(), xd);
    conv_backprop_input(c, dyl, f.data<T>(), tmp.data<T>(), g);
    window::to_channels_first(c, tmp.data<T>(), dx, g.n, g.c, g.in_pixels());
  });
}

void backprop_filter_kernel(KernelCtx& c) {
  const Attrs a = read(c);
  const Tensor &x = c.in(0), &dy = c.in(2);
  const Dims fd = sizes_value(c, 1, "filter_sizes");
  const Geometry g = run_geometry(c, a, x.dims(), fd);
  expect_out_backprop(c, a, g, dy);
  dispatch_float(x.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    Tensor keep_x, keep_dy;
    const T* xl = window::channels_last<T>(c, a, x, &keep_x);
    const T* dyl = window::channels_last<T>(c, a, dy, &keep_dy);
    T* df = window::alloc_checked(c, 0, x.dtype(), fd).template data<T>();
    conv_backprop_filter(c, xl, dyl, df, g);
  });
}

// ---- gradients (nn_grad.py) ----

struct ConvOps {
  const char *fwd, *input, *filter;
};
ConvOps ops_of(const Node& n) {
  if (n.type().rfind("Conv3D", 0) == 0) return {"Conv3D", "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2"};
  return {"Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"};
}

Output shape_of(GradCtx& g, Output x) { return g.b.op1("Shape", {x}, AttrMap{{"out_type", DType::Int32}}); }

// d/dx = BackpropInput(shape(x), w, g); d/dw = BackpropFilter(x, shape(w), g).
std::vector<Output> conv_grad(GradCtx& g) {
  const ConvOps o = ops_of(g.node);
  const AttrMap& at = g.node.attrs;
  return {g.b.op1(o.input, {shape_of(g, g.x(0)), g.x(1), g.g()}, at),
          g.b.op1(o.filter, {g.x(0), shape_of(g, g.x(1)), g.g()}, at)};
}

// BackpropInput(sizes, w, dy) is linear in w and dy: d/dw = BackpropFilter(g, shape(w), dy),
// d/ddy = Conv(g, w).
std::vector<Output> backprop_input_grad(GradCtx& g) {
  const ConvOps o = ops_of(g.node);
  const AttrMap& at = g.node.attrs;
  return {Output{}, g.b.op1(o.filter, {g.g(), shape_of(g, g.x(1)), g.x(2)}, at), g.b.op1(o.fwd, {g.g(), g.x(1)}, at)};
}

// BackpropFilter(x, sizes, dy): d/dx = BackpropInput(shape(x), g, dy), d/ddy = Conv(x, g).
std::vector<Output> backprop_filter_grad(GradCtx& g) {
  const ConvOps o = ops_of(g.node);
  const AttrMap& at = g.node.attrs;
  return {g.b.op1(o.input, {shape_of(g, g.x(0)), g.g(), g.x(2)}, at), Output{}, g.b.op1(o.fwd, {g.x(0), g.g()}, at)};
}

}  // namespace

REGISTER_OP("Conv2D").inputs(2).expensive().exact_grads().shape(conv_shape).cpu(via_float32<conv_kernel>).grad(conv_grad);
// Note [convolution output pass]: the bias on either side of an Add, or a BiasAdd.
const bool kConvBiasRelu = register_chain_fusion({"Relu", 0, "Add", 0, "Conv2D", conv_bias_relu_kernel<0>}) &&
                           register_chain_fusion({"Relu", 0, "Add", 1, "Conv2D", conv_bias_relu_kernel<1>}) &&
                           register_chain_fusion({"Relu", 0, "BiasAdd", 0, "Conv2D", conv_bias_relu_kernel<0>});
REGISTER_OP("Conv2DBackpropInput").inputs(3).expensive().shape(backprop_input_shape).cpu(via_float32<backprop_input_kernel>)
    .grad(backprop_input_grad);
REGISTER_OP("Conv2DBackpropFilter").inputs(3).expensive().shape(backprop_filter_shape).cpu(via_float32<backprop_filter_kernel>)
    .grad(backprop_filter_grad);

REGISTER_OP("Conv3D").inputs(2).expensive().exact_grads().shape(conv_shape).cpu(via_float32<conv_kernel>).grad(conv_grad);
REGISTER_OP("Conv3DBackpropInputV2").inputs(3).expensive().shape(backprop_input_shape).cpu(via_float32<backprop_input_kernel>)
    .grad(backprop_input_grad);
REGISTER_OP("Conv3DBackpropFilterV2").inputs(3).expensive().shape(backprop_filter_shape)
    .cpu(via_float32<backprop_filter_kernel>).grad(backprop_filter_grad);

}  // namespace tideflow
