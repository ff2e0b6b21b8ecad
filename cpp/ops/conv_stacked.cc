// Float32 2-D convolutions and filter gradients over few channels by stacked rows (Note [stacked rows]).
#include <algorithm>
#include <vector>

#include "conv_gemm.h"
#include "kernels/tile_gemm.h"

namespace tideflow {
namespace convgemm {
namespace {

using window::Dim;
using window::Geometry;
using window::scratch;

// Note [stacked rows]
// With few channels (a first layer: one or three), a window row holds too few values for Note [implicit
// patches] (KW * C of them), and im2col spent as long gathering patches as multiplying them. So the input
// rows a band of output rows reads are copied once into Z [out row][padded column][kh][c] = the padded
// input at row oh * sh + kh * dh: then the window of output pixel (oh, ow) is the KW * KH * C values of Z
// starting at row oh, column ow * sw, all contiguous (columns are consecutive, each holding its KH * C).
// The window's values come in (kw, kh, c) order where the filter's rows are (kh, kw, c), so the product
// uses the filter with its rows permuted (and the filter gradient is permuted back), and each output row
// block is one tile product over a table of row offsets (Note [tile products]), reading Z in place. Z is
// KH times the band's input; at most ~256 output pixels' worth at a time, so it stays in cache.
constexpr int64_t kMaxRow = 32;   // KW * C at or above this: Note [implicit patches] instead
constexpr int64_t kMinTaps = 4;   // fewer filter rows or taps: im2col's gather is short anyway

bool suits(const Geometry& g) {
  const Dim &H = g.s[1], &W = g.s[2];
  return g.s[0].in == 1 && g.s[0].k == 1 && g.s[0].out == 1 && W.dil == 1 && W.k * g.c < kMaxRow && H.k > 1 &&
         H.k * W.k >= kMinTaps && H.pad_lo < H.eff_k() && W.pad_lo < W.k;
}

struct Stack {
  int64_t Wp, depth;  // padded width; values per Z column (KH * C)
  int64_t group;      // output rows per band
};

Stack plan(const Geometry& g) {
  const Dim &H = g.s[1], &W = g.s[2];
  Stack s;
  s.Wp = (W.out - 1) * W.stride + W.k;
  s.depth = H.k * g.c;
  s.group = std::max<int64_t>(1, std::min<int64_t>(H.out, 256 / std::max<int64_t>(1, W.out)));
  return s;
}

// Z for output rows [oh0, oh0 + rows) of image `img`, and the offsets of their windows in it.
void build(const float* img, const Geometry& g, const Stack& s, int64_t oh0, int64_t rows, float* z, int64_t* off) {
  const Dim &H = g.s[1], &W = g.s[2];
  const int64_t C = g.c, in_rows = (rows - 1) * H.stride + H.eff_k();
  float* band = scratch<float>(in_rows * s.Wp * C, 0);
  window::pad_rows(img, g, oh0 * H.stride - H.pad_lo, in_rows, s.Wp, band);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t kh = 0; kh < H.k; ++kh) {
      const float* src = band + (r * H.stride + kh * H.dil) * s.Wp * C;
      float* dst = z + r * s.Wp * s.depth + kh * C;
      for (int64_t iw = 0; iw < s.Wp; ++iw)
        for (int64_t c = 0; c < C; ++c) dst[iw * s.depth + c] = src[iw * C + c];
    }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t ow = 0; ow < W.out; ++ow) off[r * W.out + ow] = (r * s.Wp + ow * W.stride) * s.depth;
}

// Row (kh, kw, c) of the filter <-> row (kw, kh, c) of the stacked order.
int64_t stacked_row(const Geometry& g, int64_t kh, int64_t kw, int64_t c) { return (kw * g.s[1].k + kh) * g.c + c; }

}  // namespace

bool stacked_forward(const KernelCtx& c, const float* x, const float* f, float* y, const Geometry& g,
                     const OutputPass* post) {
  if (!suits(g)) return false;
  const Dim &H = g.s[1], &W = g.s[2];
  const int64_t C = g.c, OC = g.oc, OH = H.out, OW = W.out, K = g.taps() * C;
  const Stack s = plan(g);
  std::vector<float> fp((size_t)(K * OC));
  for (int64_t kh = 0; kh < H.k; ++kh)
    for (int64_t kw = 0; kw < W.k; ++kw)
      for (int64_t ci = 0; ci < C; ++ci)
        std::copy_n(f + ((kh * W.k + kw) * C + ci) * OC, OC, fp.data() + stacked_row(g, kh, kw, ci) * OC);
  const int64_t bands = (OH + s.group - 1) / s.group;
  c.parallel_for(g.n * bands, s.group * OW * K * OC, [&](int64_t b, int64_t e) {
    float* z = scratch<float>(s.group * s.Wp * s.depth, 1);
    int64_t* off = scratch<int64_t>(s.group * OW, 2);
    for (int64_t u = b; u < e; ++u) {
      const int64_t n = u / bands, oh0 = (u % bands) * s.group, rows = std::min(s.group, OH - oh0);
      build(x + n * H.in * W.in * C, g, s, oh0, rows, z, off);
      tilegemm::sgemm_rows(false, rows * OW, OC, K, z, off, fp.data(), OC, y + (n * OH + oh0) * OW * OC, OC, false);
      if (post) (*post)(y + (n * OH + oh0) * OW * OC, rows * OW, OC);
    }
  });
  return true;
}

bool stacked_backprop_filter(const KernelCtx& c, const float* x, const float* dy, float* df, const Geometry& g) {
  if (!suits(g)) return false;
  const Dim &H = g.s[1], &W = g.s[2];
  const int64_t C = g.c, OC = g.oc, OH = H.out, OW = W.out, K = g.taps() * C, size = K * OC;
  const Stack s = plan(g);
  const int64_t bands = (OH + s.group - 1) / s.group, units = g.n * bands;
  // A fixed number of partial sums, added in order (Note [im2col tiles] in conv.cc).
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(c.threads, units));
  std::vector<float> sums((size_t)(parts * size));
  c.parallel_for(parts, int64_t(1) << 40, [&](int64_t pb, int64_t pe) {
    float* z = scratch<float>(s.group * s.Wp * s.depth, 1);
    int64_t* off = scratch<int64_t>(s.group * OW, 2);
    for (int64_t p = pb; p < pe; ++p) {
      float* sum = sums.data() + p * size;
      for (int64_t u = units * p / parts, first = u; u < units * (p + 1) / parts; ++u) {
        const int64_t n = u / bands, oh0 = (u % bands) * s.group, rows = std::min(s.group, OH - oh0);
        build(x + n * H.in * W.in * C, g, s, oh0, rows, z, off);
        tilegemm::sgemm_rows(true, K, OC, rows * OW, z, off, dy + (n * OH + oh0) * OW * OC, OC, sum, OC, u != first);
      }
    }
  });
  for (int64_t p = 1; p < parts; ++p)
    for (int64_t i = 0; i < size; ++i) sums[i] += sums[p * size + i];
  for (int64_t kh = 0; kh < H.k; ++kh)
    for (int64_t kw = 0; kw < W.k; ++kw)
      for (int64_t ci = 0; ci < C; ++ci)
        std::copy_n(sums.data() + stacked_row(g, kh, kw, ci) * OC, OC, df + ((kh * W.k + kw) * C + ci) * OC);
  return true;
}

}  // namespace convgemm
}  // namespace tideflow
