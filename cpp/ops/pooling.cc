// Pooling: MaxPool, AvgPool, MaxPool3D, AvgPool3D, MaxPoolWithArgmax and their gradients
// (MaxPoolGrad, AvgPoolGrad, MaxPool3DGrad, AvgPool3DGrad, MaxPoolGradWithArgmax) and second-order
// gradients (MaxPoolGradGrad, MaxPool3DGradGrad, MaxPoolGradGradWithArgmax), with nn_grad.py's rules.
// Kernels work over channels-last data with the channel loop innermost (vectorized); channels-first
// tensors are transposed around them. 2-D pooling is 3-D pooling with depth 1.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "ops/reduced_float.h"
#include "conv_util.h"
#include "kernels/pool.h"

namespace tideflow {
namespace {

using window::Attrs;
using window::Dim;
using window::Geometry;
using window::scratch;

// Note [max pooling and NaN]
// NaN as TensorFlow's CPU kernels treat it (checked with TF 2.21; tests/test_reliability.py compares):
// - MaxPool skips NaN: the maximum starts at the dtype's lowest value and only a greater value replaces
//   it, so [nan, 1] pools to 1 and a window of NaNs alone to lowest() (-3.4e38 for float32);
// - MaxPoolWithArgmax and the gradients start from the window's first pixel instead, then take greater
//   values: [1, nan] gives 1 at 0, [nan, 0] gives NaN at the NaN, and the gradient goes there too.
// TensorFlow's forward value and gradient thus disagree on windows that start with a NaN; tideflow gives
// the same numbers as TensorFlow rather than a third answer. (reduce_max propagates NaN in both.) Among
// equal maxima the first in scan order wins, as in TensorFlow.
template <class T>
inline bool beats(T x, T best) {
  return x > best;
}

// The window of output pixel r: input pixel ranges [lo, hi) per spatial dim (padding excluded). Loops
// over consecutive output pixels step it with next(), which costs a few adds where the constructor
// divides (a 2x2 window of 32 channels is over in about the time of those divisions).
struct Window {
  int64_t n, o[3], lo[3], hi[3];
  Window(const Geometry& g, int64_t r) {
    o[2] = r % g.s[2].out;
    r /= g.s[2].out;
    o[1] = r % g.s[1].out;
    r /= g.s[1].out;
    o[0] = r % g.s[0].out;
    n = r / g.s[0].out;
    for (int i = 0; i < 3; ++i) bounds(g, i);
  }
  void bounds(const Geometry& g, int i) {
    const Dim& d = g.s[i];
    const int64_t start = o[i] * d.stride - d.pad_lo;
    lo[i] = std::max<int64_t>(0, start);
    hi[i] = std::min(d.in, start + d.k);
  }
  // The window of output pixel r + 1.
  void next(const Geometry& g) {
    int i = 2;
    while (i >= 0 && ++o[i] == g.s[i].out) o[i--] = 0;
    if (i < 0) ++n;
    for (int j = std::max(i, 0); j < 3; ++j) bounds(g, j);
  }
  int64_t count() const { return (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]); }
  // fn(pixel index within the image) over the window, in scan order.
  template <class F>
  void each(const Geometry& g, F&& fn) const {
    for (int64_t d = lo[0]; d < hi[0]; ++d)
      for (int64_t h = lo[1]; h < hi[1]; ++h)
        for (int64_t w = lo[2]; w < hi[2]; ++w) fn((d * g.s[1].in + h) * g.s[2].in + w);
  }
};

// Float32 windows of up to this many pixels run on kernels/pool.h (Note [pooling kernels]).
constexpr int64_t kKernelPixels = 64;

// Per-channel maximum of a window of image `img` (channels [c0, c1)) into best[c - c0], and where it is
// (pixel index) into at[c - c0] when `at` is given. I is int32 for images under 2^31 pixels, so float
// values and their indices share vector lanes.
template <class T, class I>
void window_max(const Geometry& g, const Window& w, const T* img, int64_t c0, int64_t c1, T* __restrict best,
                I* __restrict at) {
  const int64_t C = g.c, n = c1 - c0, H = g.s[1].in, W = g.s[2].in;
  if constexpr (std::is_same_v<T, float> && std::is_same_v<I, int32_t>) {
    const float* pix[kKernelPixels];
    int32_t idx[kKernelPixels];
    int np = 0;
    if (w.count() > 0 && w.count() <= kKernelPixels) {
      w.each(g, [&](int64_t p) {
        pix[np] = img + p * C + c0;
        idx[np++] = (int32_t)p;
      });
      return poolk::window_max(pix, idx, np, n, best, at);
    }
  }
  bool first = true;
  for (int64_t d = w.lo[0]; d < w.hi[0]; ++d)
    for (int64_t h = w.lo[1]; h < w.hi[1]; ++h)
      for (int64_t col = w.lo[2]; col < w.hi[2]; ++col) {
        const int64_t pix = (d * H + h) * W + col;
        const T* __restrict x = img + pix * C + c0;
        if (first) {  // argmax: the first pixel seeds; values alone: lowest() does (Note [max pooling and NaN])
          if (at) {
            for (int64_t c = 0; c < n; ++c) best[c] = x[c];
            std::fill(at, at + n, (I)pix);
          } else {
            for (int64_t c = 0; c < n; ++c) best[c] = beats(x[c], std::numeric_limits<T>::lowest()) ? x[c]
                                                       : std::numeric_limits<T>::lowest();
          }
          first = false;
        } else if (at) {
          const I ip = (I)pix;
          for (int64_t c = 0; c < n; ++c) {
            const bool take = beats(x[c], best[c]);
            best[c] = take ? x[c] : best[c];
            at[c] = take ? ip : at[c];
          }
        } else {
          for (int64_t c = 0; c < n; ++c) best[c] = beats(x[c], best[c]) ? x[c] : best[c];
        }
      }
  if (first) std::fill(best, best + n, std::numeric_limits<T>::lowest());  // no window is empty
}

// Calls fn(I{}) with I = int32_t when pixel indices of one image fit, else int64_t.
template <class F>
void with_index_type(const Geometry& g, F&& fn) {
  if (g.in_pixels() < (int64_t(1) << 31)) fn(int32_t{});
  else fn(int64_t{});
}

// Runs fn(n, c0, c1) over every image and channel block: the unit of work of the gradient kernels,
// whose windows overlap within an image but never across channels.
template <class F>
void by_image_and_channels(const KernelCtx& c, const Geometry& g, int64_t cost_per_image, F&& fn) {
  const int64_t blocks = g.n >= 4 * c.threads ? 1 : std::max<int64_t>(1, std::min<int64_t>(8, g.c / 16));
  const int64_t per = (g.c + blocks - 1) / std::max<int64_t>(1, blocks);
  c.parallel_for(g.n * blocks, std::max<int64_t>(1, cost_per_image / blocks), [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      const int64_t n = u / blocks, c0 = (u % blocks) * per;
      fn(n, c0, std::min(g.c, c0 + per));
    }
  });
}

template <class T>
void max_pool(const KernelCtx& c, const T* x, T* y, const Geometry& g) {
  const int64_t C = g.c, rows = g.n * g.out_pixels(), img = g.in_pixels() * C;
  c.parallel_for(rows, g.taps() * C + 1, [&](int64_t b, int64_t e) {
    Window w(g, b);
    for (int64_t r = b; r < e; ++r, w.next(g)) {
      window_max<T, int32_t>(g, w, x + w.n * img, 0, C, y + r * C, nullptr);
    }
  });
}

template <class T>
void avg_pool(const KernelCtx& c, const T* x, T* y, const Geometry& g) {
  const int64_t C = g.c, rows = g.n * g.out_pixels(), img = g.in_pixels() * C;
  c.parallel_for(rows, g.taps() * C + 1, [&](int64_t b, int64_t e) {
    Window w(g, b);
    for (int64_t r = b; r < e; ++r, w.next(g)) {
      T* out = y + r * C;
      std::fill(out, out + C, T(0));
      const T* im = x + w.n * img;
      w.each(g, [&](int64_t pix) {
        const T* p = im + pix * C;
        for (int64_t ch = 0; ch < C; ++ch) out[ch] += p[ch];
      });
      const T inv = T(1) / T(std::max<int64_t>(1, w.count()));
      for (int64_t ch = 0; ch < C; ++ch) out[ch] *= inv;
    }
  });
}

// dx = the gradient dy of each window's output routed to its maximum. With `relu` (the features of a
// ReLU whose gradient this feeds, Note [ReLU gradient in the pooling gradient's pass]), each image's block
// of dx is then masked as ReluGrad would: relu[i] > 0 ? dx[i] : 0.
template <class T>
void max_pool_grad(const KernelCtx& c, const T* x, const T* dy, T* dx, const Geometry& g, const T* relu = nullptr) {
  const int64_t C = g.c, img = g.in_pixels() * C, per = g.out_pixels();
  // Windows that never overlap (stride >= window, the usual 2x2 / 2 pooling) own their pixels: each
  // pixel is written once, its window's gradient or zero, with no scatter. Pixels outside every window
  // are zeroed first, unless the windows tile the whole input.
  bool disjoint = true, covered = true;
  for (const Dim& d : g.s) {
    disjoint = disjoint && d.stride >= d.k;
    covered = covered && d.stride == d.k && d.pad_lo == 0 && (d.out - 1) * d.stride + d.k >= d.in;
  }
  if (!(disjoint && covered)) std::fill(dx, dx + g.n * img, T(0));
  with_index_type(g, [&](auto iz) {
    using I = decltype(iz);
    by_image_and_channels(c, g, per * g.taps() * C + 1, [&](int64_t n, int64_t c0, int64_t c1) {
      T* best = scratch<T>(c1 - c0, 0);
      I* at = scratch<I>(c1 - c0, 0);
      const T* im = x + n * img;
      T* dim = dx + n * img;
      Window w(g, n * per);
      for (int64_t r = n * per; r < (n + 1) * per; ++r, w.next(g)) {
        const T* d = dy + r * C + c0;
        if constexpr (std::is_same_v<T, float>) {
          if (disjoint && w.count() > 0 && w.count() <= kKernelPixels) {
            const float* pix[kKernelPixels];
            float* out[kKernelPixels];
            int np = 0;
            w.each(g, [&](int64_t p) {
              pix[np] = im + p * C + c0;
              out[np++] = dim + p * C + c0;
            });
            poolk::route_max(pix, out, np, c1 - c0, d);
            continue;
          }
        }
        window_max<T, I>(g, w, im, c0, c1, best, at);
        if (disjoint) {
          w.each(g, [&](int64_t pix) {
            T* __restrict out = dim + pix * C + c0;
            const I ip = (I)pix;
            for (int64_t ch = 0; ch < c1 - c0; ++ch) {
              const T v = d[ch];  // loaded either way, so the choice compiles to a blend, not a branch
              out[ch] = at[ch] == ip ? v : T(0);
            }
          });
        } else {
          for (int64_t ch = 0; ch < c1 - c0; ++ch) dim[(int64_t)at[ch] * C + c0 + ch] += d[ch];
        }
      }
      if (relu)  // this unit's pixels and channels are final: mask them while they are in cache
        for (int64_t p = 0, pixels = g.in_pixels(); p < pixels; ++p) {
          T* __restrict out = dim + p * C + c0;
          const T* __restrict f = relu + n * img + p * C + c0;
          for (int64_t ch = 0; ch < c1 - c0; ++ch) out[ch] = f[ch] > 0 ? out[ch] : T(0);
        }
    });
  });
}

template <class T>
void avg_pool_grad(const KernelCtx& c, const T* dy, T* dx, const Geometry& g) {
  const int64_t C = g.c, img = g.in_pixels() * C, per = g.out_pixels();
  std::fill(dx, dx + g.n * img, T(0));
  by_image_and_channels(c, g, per * g.taps() * C + 1, [&](int64_t n, int64_t c0, int64_t c1) {
    T* dim = dx + n * img;
    T* share = scratch<T>(c1 - c0, 0);
    Window w(g, n * per);
    for (int64_t r = n * per; r < (n + 1) * per; ++r, w.next(g)) {
      const T inv = T(1) / T(std::max<int64_t>(1, w.count()));
      for (int64_t ch = c0; ch < c1; ++ch) share[ch - c0] = dy[r * C + ch] * inv;
      w.each(g, [&](int64_t pix) {
        T* p = dim + pix * C + c0;
        for (int64_t ch = 0; ch < c1 - c0; ++ch) p[ch] += share[ch];
      });
    }
  });
}

// ---- 3-D pooling and the max-pooling second-order gradient, as TensorFlow's kernels ----

// Note [3-D pooling as TensorFlow's Eigen kernels]
// TensorFlow's CPU MaxPool3D and AvgPool3D are not its 2-D kernels but Eigen reductions over extracted
// patches, and their special values follow from how Eigen evaluates those (TF 2.21, built for AVX: 8 float
// lanes; tests/test_special_values.py and test_reliability.py compare). Padding is a value there, lowest()
// (-3.4e38), at its place in the window's scan order (planes, rows, columns). Output element i (of `size`, in
// channels-last order) is reduced in vector lanes when the 8-aligned group of output elements holding it is
// whole and lies within one pixel's channels (group start s: s + 8 <= size and s % C + 7 < C; so every
// element when C is a multiple of 8, none when C < 8), else alone:
// - max, in lanes: from -inf, x replaces the best when x > best, so NaN never does (a window of NaN and
//   -inf alone gives -inf, or lowest() where padded); alone: x replaces the best unless x < best, so a NaN
//   does and the next value replaces the NaN ([nan, 1] gives 1, [1, nan] NaN, [1, nan, padding] lowest());
// - average: elements equal to lowest() are skipped as padding, in sum and count; in lanes NaN is skipped
//   too (the padding test there is an unordered ==); a window with nothing left gives 0 / 0 = NaN. This one
//   tideflow does not copy: AvgPool3D sums every element (NaN propagates, as in the lone elements), since
//   finding the windows to redo (a NaN or lowest() among them) cost its finite path 2-3x in CPU time.
// Their gradients are loops of their own, which read the given orig_output instead of recomputing it:
// - MaxPool3DGrad routes dy[w] to every pixel of window w within 1e-5 of orig_output y[w] (|x - y| < 1e-5:
//   ties all receive it, and an infinite or NaN maximum routes nothing, inf - inf being NaN);
// - MaxPoolGradGrad and MaxPool3DGradGrad read grad at the first pixel of the window equal to y[w], 0 where
//   none is (a NaN maximum; a window of NaNs, whose 2-D max is lowest()).
// On finite data these give what the 2-D rules give (except MaxPool3DGrad's near-ties), and the forward
// kernel runs the 2-D fast path, then redoes only the elements that can differ: maxima equal to lowest() in
// unpadded windows and, when C is not a multiple of 8 and the input holds a NaN, the elements reduced alone.

// The channel loops of these kernels, compiled for AVX-512, AVX2 and the baseline, picked at load time (the
// library itself is built for baseline x86-64, whose 4 lanes made these loops several times slower than the
// pooling kernels/pool.h runs).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define POOL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define POOL_CLONES
#endif
#define POOL_LOOPS(T)                                                                                          \
  POOL_CLONES void add_where_close(const T* __restrict x, const T* __restrict y, const T* __restrict d,       \
                                   T* __restrict out, int64_t n) {                                             \
    for (int64_t i = 0; i < n; ++i) out[i] += std::abs(x[i] - y[i]) < T(1e-5) ? d[i] : T(0);                  \
  }                                                                                                            \
  POOL_CLONES void take_where_equal(const T* __restrict x, const T* __restrict y, const T* __restrict g,      \
                                    T* __restrict out, int64_t n) {                                            \
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] == y[i] ? g[i] : out[i];                                     \
  }
POOL_LOOPS(float)
POOL_LOOPS(double)
#undef POOL_LOOPS

// Whether Eigen reduces output element i of `size` (channels C) in 8-float vector lanes.
inline bool eigen_lanes(int64_t i, int64_t size, int64_t C) {
  const int64_t s = i - i % 8;
  return s + 8 <= size && s % C + 7 < C;
}

// fn(pixel index, or -1 for padding) over window w's full extent, in scan order.
template <class F>
void each_with_padding(const Geometry& g, const Window& w, F&& fn) {
  int64_t start[3];
  for (int i = 0; i < 3; ++i) start[i] = w.o[i] * g.s[i].stride - g.s[i].pad_lo;
  for (int64_t a = start[0]; a < start[0] + g.s[0].k; ++a)
    for (int64_t b = start[1]; b < start[1] + g.s[1].k; ++b)
      for (int64_t e = start[2]; e < start[2] + g.s[2].k; ++e) {
        const bool in = a >= 0 && a < g.s[0].in && b >= 0 && b < g.s[1].in && e >= 0 && e < g.s[2].in;
        fn(in ? (a * g.s[1].in + b) * g.s[2].in + e : int64_t(-1));
      }
}

template <class T>
T cuboid_max_element(const Geometry& g, const Window& w, const T* img, int64_t ch, bool lanes) {
  T best = -std::numeric_limits<T>::infinity();
  each_with_padding(g, w, [&](int64_t p) {
    const T x = p < 0 ? std::numeric_limits<T>::lowest() : img[p * g.c + ch];
    if (lanes ? x > best : !(x < best)) best = x;
  });
  return best;
}

template <class T>
bool any_nan(const KernelCtx& c, const T* x, int64_t n) {
  std::atomic<bool> found{false};
  c.parallel_for(n, 1, [&](int64_t b, int64_t e) {
    bool f = false;
    for (int64_t i = b; i < e; ++i) f |= x[i] != x[i];
    if (f) found = true;
  });
  return found;
}

template <class T>
void cuboid_max_pool(const KernelCtx& c, const T* x, T* y, const Geometry& g) {
  const int64_t C = g.c, rows = g.n * g.out_pixels(), img = g.in_pixels() * C, size = rows * C;
  const bool redo_alone = C % 8 != 0 && any_nan(c, x, g.n * img);
  const T low = std::numeric_limits<T>::lowest();
  c.parallel_for(rows, g.taps() * C + 1, [&](int64_t b, int64_t e) {
    Window w(g, b);
    for (int64_t r = b; r < e; ++r, w.next(g)) {
      T* out = y + r * C;
      window_max<T, int32_t>(g, w, x + w.n * img, 0, C, out, nullptr);  // the 2-D rule, then the differences
      const bool padded = w.count() < g.taps();
      for (int64_t ch = 0; ch < C; ++ch) {
        if ((padded || out[ch] != low) && !redo_alone) continue;  // the usual case, decided without a division
        const bool lanes = eigen_lanes(r * C + ch, size, C);
        if ((!padded && out[ch] == low) || (redo_alone && !lanes))
          out[ch] = cuboid_max_element(g, w, x + w.n * img, ch, lanes);
      }
    }
  });
}

// dx[p] = the sum, over the windows w holding pixel p, of dy[w] where |x[p] - y[w]| < 1e-5.
template <class T>
void cuboid_max_pool_grad(const KernelCtx& c, const T* x, const T* y, const T* dy, T* dx, const Geometry& g) {
  const int64_t C = g.c, img = g.in_pixels() * C, per = g.out_pixels();
  std::fill(dx, dx + g.n * img, T(0));
  by_image_and_channels(c, g, per * g.taps() * C + 1, [&](int64_t n, int64_t c0, int64_t c1) {
    const T* im = x + n * img;
    T* dim = dx + n * img;
    Window w(g, n * per);
    for (int64_t r = n * per; r < (n + 1) * per; ++r, w.next(g)) {
      const T* __restrict yr = y + r * C + c0;
      const T* __restrict d = dy + r * C + c0;
      w.each(g, [&](int64_t pix) { add_where_close(im + pix * C + c0, yr, d, dim + pix * C + c0, c1 - c0); });
    }
  });
}

// out[w] = ggx at the first pixel of window w whose x equals y[w], 0 where none does (scanned backwards,
// so that the first match is the last written).
template <class T>
void max_pool_grad_grad(const KernelCtx& c, const T* x, const T* y, const T* ggx, T* out, const Geometry& g) {
  const int64_t C = g.c, rows = g.n * g.out_pixels(), img = g.in_pixels() * C;
  const int64_t H = g.s[1].in, W = g.s[2].in;
  c.parallel_for(rows, g.taps() * C + 1, [&](int64_t b, int64_t e) {
    Window w(g, b);
    for (int64_t r = b; r < e; ++r, w.next(g)) {
      T* __restrict o = out + r * C;
      const T* __restrict yr = y + r * C;
      std::fill(o, o + C, T(0));
      for (int64_t d = w.hi[0] - 1; d >= w.lo[0]; --d)
        for (int64_t h = w.hi[1] - 1; h >= w.lo[1]; --h)
          for (int64_t col = w.hi[2] - 1; col >= w.lo[2]; --col) {
            const int64_t off = w.n * img + ((d * H + h) * W + col) * C;
            take_where_equal(x + off, yr, ggx + off, o, C);
          }
    }
  });
}

// ---- attributes and shapes ----

bool is3d(const std::string& type) { return type.find("3D") != std::string::npos; }

window::Spec spec_of(const std::string& type) {
  return window::Spec{type.c_str(), is3d(type) ? 3 : 2, true, false};
}

template <class Ctx>
Attrs read(const Ctx& c) {
  Attrs a;
  std::string err = window::read_attrs(c.node.attrs, spec_of(c.node.type()), &a);
  if (!err.empty()) c.fail(err);
  return a;
}

void float_input(InferCtx& c, int i) {
  if (!in_set(c.dtype(i), kFloat))  // float16 and bfloat16 via_float32 (Note [computing in float32])
    c.type_fail(std::string("Value passed to parameter 'input' has DataType ") + dtype_name(c.dtype(i)) +
                " not in list of allowed values: " + dtypes_str(kFloat));
}

// Pooled shape of an input of partial shape `s`.
PartialShape pooled(InferCtx& c, const Attrs& a, const PartialShape& s, Geometry* g = nullptr) {
  const int rank = a.nsp + 2;
  if (!s.known_rank) return PartialShape::unknown_of_rank(rank);
  if (s.rank() != rank)
    c.fail("input must be " + std::to_string(rank) + "-dimensional: Shape must be rank " + std::to_string(rank) +
           " but is rank " + std::to_string(s.rank()));
  Geometry geo;
  std::string err = window::geometry(a, s.dims, a.ksize, &geo);
  if (!err.empty()) c.fail(err);
  if (g) *g = geo;
  return PartialShape(window::out_dims(a, geo, geo.c));
}

// MaxPool (2-D) also takes the integer dtypes, as TensorFlow's CPU kernel (TF_CALL_REAL_NUMBER_TYPES): a
// maximum needs no arithmetic. Its gradient exists for floats only, as every gradient.
void pool_shape(InferCtx& c) {
  const Attrs a = read(c);
  if (!(c.node.type() == "MaxPool" && in_set(c.dtype(0), kInt))) float_input(c, 0);
  c.set_output(0, c.dtype(0), pooled(c, a, c.shape(0)));
}

void expect_shape(InferCtx& c, const PartialShape& want, int i, const char* what) {
  if (!want.compatible_with(c.shape(i)))
    c.fail(std::string(what) + " has shape " + c.shape(i).str() + " but the pooled shape is " + want.str());
}

// MaxPoolGrad(orig_input, orig_output, grad) -> orig_input's shape; MaxPoolGradGrad(orig_input,
// orig_output, grad of orig_input's shape) -> orig_output's shape.
void max_grad_shape(InferCtx& c, bool grad_grad) {
  float_input(c, 0);
  c.expect_same_dtype(0, 1);
  c.expect_same_dtype(0, 2);
  const Attrs a = read(c);
  const PartialShape out = pooled(c, a, c.shape(0));
  expect_shape(c, out, 1, "orig_output");
  if (grad_grad) {
    if (!c.shape(0).compatible_with(c.shape(2)))
      c.fail("grad has shape " + c.shape(2).str() + " but orig_input has shape " + c.shape(0).str());
    return c.set_output(0, c.dtype(0), out.merge(c.shape(1)));
  }
  expect_shape(c, out, 2, "grad");
  c.set_output(0, c.dtype(0), c.shape(0).known_rank ? c.shape(0) : PartialShape::unknown_of_rank(a.nsp + 2));
}

// AvgPoolGrad(orig_input_shape, grad) -> orig_input_shape.
void avg_grad_shape(InferCtx& c) {
  float_input(c, 1);
  const Attrs a = read(c);
  const int rank = a.nsp + 2;
  if (c.dtype(0) != DType::Int32 && c.dtype(0) != DType::Int64)
    c.type_fail(std::string("orig_input_shape must be int32, got ") + dtype_name(c.dtype(0)));
  std::vector<int64_t> v;
  if (!c.const_ints(0, &v)) return c.set_output(0, c.dtype(1), PartialShape::unknown_of_rank(rank));
  if ((int)v.size() != rank) c.fail("orig_input_shape must have " + std::to_string(rank) + " elements");
  for (int64_t d : v)
    if (d < 0) c.fail("orig_input_shape must not be negative, got " + dims_str(v));
  expect_shape(c, pooled(c, a, PartialShape(v)), 1, "grad");
  c.set_output(0, c.dtype(1), PartialShape(v));
}

// ---- kernels ----

Geometry run_geometry(const KernelCtx& c, const Attrs& a, const Dims& in) {
  const int rank = a.nsp + 2;
  if ((int)in.size() != rank)
    c.fail("input must be " + std::to_string(rank) + "-dimensional, got shape " + dims_str(in));
  Geometry g;
  std::string err = window::geometry(a, in, a.ksize, &g);
  if (!err.empty()) c.fail(err);
  return g;
}

void expect_dims(const KernelCtx& c, const Tensor& t, const Dims& want, const char* what) {
  if (t.dims() != want)
    c.fail(std::string(what) + " has shape " + dims_str(t.dims()) + " but should have shape " + dims_str(want));
}

template <bool kMax>
void pool_kernel(KernelCtx& c) {
  const Attrs a = read(c);
  const Tensor& x = c.in(0);
  const Geometry g = run_geometry(c, a, x.dims());
  const Dims out = window::out_dims(a, g, g.c);
  dispatch<kMax ? kF32F64 | kInt : kF32F64>(x.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    Tensor keep, tmp;
    const T* xl = window::channels_last<T>(c, a, x, &keep);
    Tensor& yt = window::alloc_checked(c, 0, x.dtype(), out);
    if (yt.size() == 0) return;  // Note [empty outputs return early]: C == 0 under 10^12 windows
    T* y = yt.template data<T>();
    T* yl = a.channels_first ? (tmp = Tensor(x.dtype(), out)).template data<T>() : y;
    const bool cuboid = is3d(c.node.type());  // Note [3-D pooling as TensorFlow's Eigen kernels]
    if constexpr (kMax) {
      if (cuboid) cuboid_max_pool(c, xl, yl, g);
      else max_pool(c, xl, yl, g);
    } else {
      avg_pool(c, xl, yl, g);  // Note [3-D pooling as TensorFlow's Eigen kernels]: its averages are not copied
    }
    if (a.channels_first) window::to_channels_first(c, yl, y, g.n, g.c, g.out_pixels());
  });
}

// MaxPoolGrad (grad_grad false) and MaxPoolGradGrad.
template <bool kGradGrad>
void max_grad_kernel(KernelCtx& c) {
  const Attrs a = read(c);
  const Tensor &x = c.in(0), &y = c.in(1), &gr = c.in(2);
  const Geometry g = run_geometry(c, a, x.dims());
  const Dims out = window::out_dims(a, g, g.c);
  expect_dims(c, y, out, "orig_output");
  expect_dims(c, gr, kGradGrad ? x.dims() : out, "grad");
  if (x.dtype() != gr.dtype()) c.fail("orig_input and grad must have the same dtype");
  dispatch_float(x.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    Tensor keep_x, keep_y, keep_g, tmp;
    const T* xl = window::channels_last<T>(c, a, x, &keep_x);
    const T* gl = window::channels_last<T>(c, a, gr, &keep_g);
    const bool cuboid = is3d(c.node.type());
    // The 2-D MaxPoolGrad recomputes the maxima; the others read orig_output (Note [3-D pooling as
    // TensorFlow's Eigen kernels]).
    const T* yl = kGradGrad || cuboid ? window::channels_last<T>(c, a, y, &keep_y) : nullptr;
    const Dims& rd = kGradGrad ? out : x.dims();
    Tensor& rt = window::alloc_checked(c, 0, x.dtype(), rd);
    if (rt.size() == 0) return;  // Note [empty outputs return early]
    T* r = rt.template data<T>();
    T* rl = a.channels_first ? (tmp = Tensor(x.dtype(), rd)).template data<T>() : r;
    if (kGradGrad) max_pool_grad_grad(c, xl, yl, gl, rl, g);
    else if (cuboid) cuboid_max_pool_grad(c, xl, yl, gl, rl, g);
    else max_pool_grad(c, xl, gl, rl, g);
    if (a.channels_first)
      window::to_channels_first(c, rl, r, g.n, g.c, kGradGrad ? g.out_pixels() : g.in_pixels());
  });
}

}  // namespace

// Note [ReLU gradient in the pooling gradient's pass]
// Backward through relu -> max_pool, ReluGrad(MaxPoolGrad(h, pool, dpool), h) reads the pooling gradient
// back from memory only to zero it where the activation h is not positive (6.4 MB each way for the CNN
// benchmark's first layer). Fused (Note [fused producers]; the pooling gradient has no other reader), the
// kernel masks each image's block of the pooling gradient right after routing it, while it is in cache,
// with ReluGrad's own rule (features > 0 ? gradient : 0): the same numbers. Inputs: ReluGrad's features,
// then MaxPoolGrad's three. Anything but float32 channels-last data whose features have the pooling
// input's shape runs the two kernels in turn.
void relu_grad_of_max_pool_grad(KernelCtx& c) {
  Node& pool = const_cast<Node&>(*c.fused);
  const Tensor &feat = c.in(0), &x = c.in(1), &y = c.in(2), &gr = c.in(3);
  const bool nhwc = pool.attrs.get_or<std::string>("data_format", "NHWC") == "NHWC";
  if (nhwc && feat.dtype() == DType::Float32 && x.dtype() == DType::Float32 && gr.dtype() == DType::Float32 &&
      feat.dims() == x.dims()) {
    std::vector<Tensor> in{x, y, gr}, out(1);
    KernelCtx pc{pool, in, out, c.res, c.threads, c.parallel};
    const Attrs a = read(pc);
    const Geometry g = run_geometry(pc, a, x.dims());
    expect_dims(pc, y, window::out_dims(a, g, g.c), "orig_output");
    expect_dims(pc, gr, window::out_dims(a, g, g.c), "grad");
    float* r = window::alloc_checked(c, 0, x.dtype(), x.dims()).data<float>();
    max_pool_grad<float>(pc, x.data<float>(), gr.data<float>(), r, g, feat.data<float>());
    return;
  }
  std::vector<Tensor> in{x, y, gr}, out(1);
  KernelCtx pc{pool, in, out, c.res, c.threads, c.parallel};
  pool.op->cpu(pc);
  std::vector<Tensor> rin{std::move(out[0]), feat};
  KernelCtx rc{c.node, rin, c.outputs, c.res, c.threads, c.parallel};
  c.node.op->cpu(rc);
}

namespace {

void avg_grad_kernel(KernelCtx& c) {
  const Attrs a = read(c);
  const Tensor& shape = c.in(0);
  const Tensor& dy = c.in(1);
  if (shape.rank() != 1) c.fail("orig_input_shape must be a vector, got shape " + dims_str(shape.dims()));
  const Dims xd = shape.to_int_vector();
  for (int64_t d : xd)
    if (d < 0) c.fail("orig_input_shape must not be negative, got " + dims_str(xd));
  const Geometry g = run_geometry(c, a, xd);
  expect_dims(c, dy, window::out_dims(a, g, g.c), "grad");
  dispatch_float(dy.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    Tensor keep, tmp;
    const T* gl = window::channels_last<T>(c, a, dy, &keep);
    Tensor& dxt = window::alloc_checked(c, 0, dy.dtype(), xd);
    if (dxt.size() == 0) return;  // Note [empty outputs return early]
    T* dx = dxt.template data<T>();
    T* dxl = a.channels_first ? (tmp = Tensor(dy.dtype(), xd)).template data<T>() : dx;
    avg_pool_grad(c, gl, dxl, g);
    if (a.channels_first) window::to_channels_first(c, dxl, dx, g.n, g.c, g.in_pixels());
  });
}

// ---- MaxPoolWithArgmax: NHWC only, as in TensorFlow ----

// argmax values are ((n * H + h) * W + w) * C + c, without the n term unless include_batch_in_index.
struct ArgmaxLayout {
  bool with_batch;
  int64_t img;
};

ArgmaxLayout argmax_layout(const Node& node, const Geometry& g) {
  return {node.attrs.get_or<bool>("include_batch_in_index", false), g.in_pixels() * g.c};
}

void argmax_shape(InferCtx& c) {
  float_input(c, 0);
  const Attrs a = read(c);
  if (a.channels_first) c.fail("MaxPoolWithArgmax supports only NHWC");
  const PartialShape out = pooled(c, a, c.shape(0));
  const DType t = c.node.attrs.get_or<DType>("Targmax", DType::Int64);
  if (!is_integer(t)) c.type_fail(std::string("Targmax must be int32 or int64, got ") + dtype_name(t));
  c.set_output(0, c.dtype(0), out);
  c.set_output(1, t, out);
}

void argmax_kernel(KernelCtx& c) {
  const Attrs a = read(c);
  const Tensor& x = c.in(0);
  const Geometry g = run_geometry(c, a, x.dims());
  const Dims out = window::out_dims(a, g, g.c);
  const ArgmaxLayout L = argmax_layout(c.node, g);
  const DType it = c.node.attrs.get_or<DType>("Targmax", DType::Int64);
  dispatch_float(x.dtype(), "MaxPoolWithArgmax", [&](auto z) {
    using T = decltype(z);
    T* y = window::alloc_checked(c, 0, x.dtype(), out).template data<T>();
    Tensor& idx = window::alloc_checked(c, 1, it, out);
    if (idx.size() == 0) return;  // Note [empty outputs return early]
    const int64_t C = g.c, rows = g.n * g.out_pixels();
    c.parallel_for(rows, g.taps() * C + 1, [&](int64_t b, int64_t e) {
      int64_t* at = scratch<int64_t>(C, 0);
      for (int64_t r = b; r < e; ++r) {
        Window w(g, r);
        window_max<T, int64_t>(g, w, x.data<T>() + w.n * L.img, 0, C, y + r * C, at);
        const int64_t base = L.with_batch ? w.n * L.img : 0;
        for (int64_t ch = 0; ch < C; ++ch) {
          const int64_t v = base + at[ch] * C + ch;
          if (it == DType::Int64) idx.data<int64_t>()[r * C + ch] = v;
          else idx.data<int32_t>()[r * C + ch] = (int32_t)v;
        }
      }
    });
  });
}

// The argmax of output element i, as an offset into the whole input; fails outside image n.
int64_t argmax_at(const KernelCtx& c, const Tensor& argmax, int64_t i, int64_t n, const ArgmaxLayout& L) {
  const int64_t v = argmax.dtype() == DType::Int64 ? argmax.data<int64_t>()[i] : argmax.data<int32_t>()[i];
  const int64_t off = L.with_batch ? v : n * L.img + v;
  if (off < n * L.img || off >= (n + 1) * L.img)
    c.fail("argmax value " + std::to_string(v) + " at position " + std::to_string(i) +
           " is outside its image (each image has " + std::to_string(L.img) + " elements)");
  return off;
}

void argmax_grad_shape(InferCtx& c, bool grad_grad) {
  float_input(c, 0);
  c.expect_same_dtype(0, 1);
  if (!is_integer(c.dtype(2))) c.type_fail("argmax must be int32 or int64");
  const Attrs a = read(c);
  const PartialShape out = pooled(c, a, c.shape(0));
  if (!out.compatible_with(c.shape(2))) c.fail("argmax has shape " + c.shape(2).str() + ", expected " + out.str());
  if (grad_grad) {
    if (!c.shape(0).compatible_with(c.shape(1))) c.fail("grad must have the input's shape " + c.shape(0).str());
    return c.set_output(0, c.dtype(0), out.merge(c.shape(2)));
  }
  expect_shape(c, out, 1, "grad");
  c.set_output(0, c.dtype(0), c.shape(0).known_rank ? c.shape(0) : PartialShape::unknown_of_rank(4));
}

// MaxPoolGradWithArgmax (scatter grad to the argmax) and MaxPoolGradGradWithArgmax (gather from it).
template <bool kGradGrad>
void argmax_grad_kernel(KernelCtx& c) {
  const Attrs a = read(c);
  const Tensor &x = c.in(0), &gr = c.in(1), &argmax = c.in(2);
  const Geometry g = run_geometry(c, a, x.dims());
  const Dims out = window::out_dims(a, g, g.c);
  expect_dims(c, argmax, out, "argmax");
  expect_dims(c, gr, kGradGrad ? x.dims() : out, "grad");
  if (!is_integer(argmax.dtype())) c.fail("argmax must be int32 or int64");
  const ArgmaxLayout L = argmax_layout(c.node, g);
  const int64_t per = g.out_pixels() * g.c;
  dispatch_float(x.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    const T* src = gr.data<T>();
    Tensor& rt = window::alloc_checked(c, 0, x.dtype(), kGradGrad ? out : x.dims());
    if (rt.size() == 0) return;  // Note [empty outputs return early]
    T* r = rt.template data<T>();
    if (!kGradGrad) std::fill(r, r + x.size(), T(0));
    c.parallel_for(g.n, per + 1, [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n)
        for (int64_t i = n * per; i < (n + 1) * per; ++i) {
          const int64_t off = argmax_at(c, argmax, i, n, L);
          if (kGradGrad) r[i] = src[off];
          else r[off] += src[i];
        }
    });
  });
}

// ---- gradients (nn_grad.py) ----

struct PoolOps {
  const char *max_grad, *max_grad_grad, *avg, *avg_grad;
};
PoolOps ops_of(const Node& n) {
  if (is3d(n.type())) return {"MaxPool3DGrad", "MaxPool3DGradGrad", "AvgPool3D", "AvgPool3DGrad"};
  return {"MaxPoolGrad", "MaxPoolGradGrad", "AvgPool", "AvgPoolGrad"};
}

Output zeros_like(GradCtx& g, Output x) { return g.b.op1("ZerosLike", {x}); }

std::vector<Output> max_pool_grad_rule(GradCtx& g) {
  return {g.b.op1(ops_of(g.node).max_grad, {g.x(0), g.y(), g.g()}, g.node.attrs)};
}

// MaxPoolGrad is linear in its grad, with the windows' maxima fixed: its gradient w.r.t. grad is
// MaxPoolGradGrad, and the reverse; the original input and output get zeros (as in TensorFlow).
template <bool kFromGradGrad>
std::vector<Output> max_grad_grad_rule(GradCtx& g) {
  const PoolOps o = ops_of(g.node);
  Output back = g.b.op1(kFromGradGrad ? o.max_grad : o.max_grad_grad, {g.x(0), g.x(1), g.g()}, g.node.attrs);
  return {zeros_like(g, g.x(0)), zeros_like(g, g.x(1)), back};
}

std::vector<Output> avg_pool_grad_rule(GradCtx& g) {
  Output shape = g.b.op1("Shape", {g.x(0)}, AttrMap{{"out_type", DType::Int32}});
  return {g.b.op1(ops_of(g.node).avg_grad, {shape, g.g()}, g.node.attrs)};
}

std::vector<Output> avg_grad_grad_rule(GradCtx& g) {
  return {Output{}, g.b.op1(ops_of(g.node).avg, {g.g()}, g.node.attrs)};
}

AttrMap argmax_attrs(const Node& n) {
  AttrMap a = n.attrs;
  a.erase("Targmax");
  return a;
}

}  // namespace

REGISTER_OP("MaxPool").inputs(1).exact_grads().shape(pool_shape).cpu(via_float32<pool_kernel<true>>).grad(max_pool_grad_rule);
REGISTER_OP("AvgPool").inputs(1).exact_grads().shape(pool_shape).cpu(via_float32<pool_kernel<false>>).grad(avg_pool_grad_rule);
REGISTER_OP("MaxPoolGrad").inputs(3).shape([](InferCtx& c) { max_grad_shape(c, false); })
    .cpu(via_float32<max_grad_kernel<false>>).grad(max_grad_grad_rule<false>);
REGISTER_OP("MaxPoolGradGrad").inputs(3).shape([](InferCtx& c) { max_grad_shape(c, true); })
    .cpu(via_float32<max_grad_kernel<true>>).grad(max_grad_grad_rule<true>);
REGISTER_OP("AvgPoolGrad").inputs(2).shape(avg_grad_shape).cpu(via_float32<avg_grad_kernel>).grad(avg_grad_grad_rule);

REGISTER_OP("MaxPool3D").inputs(1).exact_grads().shape(pool_shape).cpu(via_float32<pool_kernel<true>>).grad(max_pool_grad_rule);
REGISTER_OP("AvgPool3D").inputs(1).exact_grads().shape(pool_shape).cpu(via_float32<pool_kernel<false>>).grad(avg_pool_grad_rule);
REGISTER_OP("MaxPool3DGrad").inputs(3).shape([](InferCtx& c) { max_grad_shape(c, false); })
    .cpu(via_float32<max_grad_kernel<false>>).grad(max_grad_grad_rule<false>);
REGISTER_OP("MaxPool3DGradGrad").inputs(3).shape([](InferCtx& c) { max_grad_shape(c, true); })
    .cpu(via_float32<max_grad_kernel<true>>).grad(max_grad_grad_rule<true>);
REGISTER_OP("AvgPool3DGrad").inputs(2).shape(avg_grad_shape).cpu(via_float32<avg_grad_kernel>).grad(avg_grad_grad_rule);

REGISTER_OP("MaxPoolWithArgmax").inputs(1).shape(argmax_shape).cpu(via_float32<argmax_kernel>)
    .grad([](GradCtx& g) {
      return std::vector<Output>{
          g.b.op1("MaxPoolGradWithArgmax", {g.x(0), g.g(0), g.y(1)}, argmax_attrs(g.node))};
    });
REGISTER_OP("MaxPoolGradWithArgmax").inputs(3).shape([](InferCtx& c) { argmax_grad_shape(c, false); })
    .cpu(via_float32<argmax_grad_kernel<false>>)
    .grad([](GradCtx& g) {
      return std::vector<Output>{zeros_like(g, g.x(0)),
                                 g.b.op1("MaxPoolGradGradWithArgmax", {g.x(0), g.g(), g.x(2)}, g.node.attrs),
                                 Output{}};
    });
REGISTER_OP("MaxPoolGradGradWithArgmax").inputs(3).shape([](InferCtx& c) { argmax_grad_shape(c, true); })
    .cpu(via_float32<argmax_grad_kernel<true>>)
    .grad([](GradCtx& g) {
      return std::vector<Output>{zeros_like(g, g.x(0)),
                                 g.b.op1("MaxPoolGradWithArgmax", {g.x(0), g.g(), g.x(2)}, g.node.attrs),
                                 Output{}};
    });

}  // namespace tideflow
