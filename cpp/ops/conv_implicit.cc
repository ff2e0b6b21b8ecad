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

// Note [implicit patches]
// In a 2-D convolution over channels-last data, the patch row of output pixel (oh, ow) for filter row kh
// is KW * C consecutive values of input row ih = oh * sh + kh * dh - ph, starting at column
// ow * sw - pw: in a copy of the input with its padding written out as zeros, the patch rows of one
// output row form a matrix [OW, KW * C] whose rows are sw * C apart. So the output row is a sum over kh
// of such views times the filter's row kh ([KW * C, OC]), products the kernel of Note [tile products]
// (kernels/tile_gemm.cc) reads in place: nothing is packed, and the only copy is the padded input (a
// ninth of what im2col writes for a 3x3 filter). Several output rows go into one product through a table of row offsets.
// The filter gradient is the transposed product, one per image and kh over all the image's pixels.
constexpr int64_t kMinRow = 32;  // KW * C below this: im2col's longer rows use the kernel better

bool suits(const Geometry& g) {
  return g.s[0].in == 1 && g.s[0].k == 1 && g.s[0].out == 1 && g.s[2].dil == 1 && g.s[2].k * g.c >= kMinRow &&
         g.s[1].pad_lo < g.s[1].eff_k() && g.s[2].pad_lo < g.s[2].k;
}

// The padded width that covers every window of an output row.
int64_t padded_width(const Geometry& g) { return (g.s[2].out - 1) * g.s[2].stride + g.s[2].k; }

// off[(oh - oh0) * OW + ow] = where the window of output pixel (oh, ow) starts in a band whose first row
// is that of output row oh0.
int64_t* window_offsets(const Geometry& g, int64_t rows, int64_t Wp) {
  const int64_t OW = g.s[2].out, C = g.c;
  int64_t* off = scratch<int64_t>(rows * OW, 1);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t ow = 0; ow < OW; ++ow) off[r * OW + ow] = (r * g.s[1].stride * Wp + ow * g.s[2].stride) * C;
  return off;
}

}  // namespace

bool forward(const KernelCtx& c, const float* x, const float* f, float* y, const Geometry& g,
             const OutputPass* post) {
  if (!suits(g)) return false;
  const Dim &H = g.s[1], &W = g.s[2];
  const int64_t C = g.c, OC = g.oc, OH = H.out, OW = W.out, Wp = padded_width(g), row = W.k * C;
  // Work units: bands of output rows of one image, enough of them to share among the threads.
  const int64_t bands = g.n >= 2 * c.threads ? 1 : std::min<int64_t>(OH, (4 * c.threads + g.n - 1) / g.n);
  const int64_t per = (OH + bands - 1) / bands;
  // Output rows per product: up to ~256 pixels, so the C block stays in cache across the kh sums.
  const int64_t group = std::max<int64_t>(1, std::min(per, 256 / std::max<int64_t>(1, OW)));
  c.parallel_for(g.n * bands, per * OW * row * OC * H.k, [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      const int64_t n = u / bands, oh0 = (u % bands) * per, oh1 = std::min(OH, oh0 + per);
      if (oh0 >= oh1) continue;
      const int64_t rows = (oh1 - oh0 - 1) * H.stride + H.eff_k();
      float* band = scratch<float>(rows * Wp * C, 1);
      window::pad_rows(x + n * H.in * W.in * C, g, oh0 * H.stride - H.pad_lo, rows, Wp, band);
      const int64_t* off = window_offsets(g, group, Wp);
      for (int64_t oh = oh0; oh < oh1; oh += group) {
        const int64_t m = std::min(group, oh1 - oh) * OW;
        for (int64_t kh = 0; kh < H.k; ++kh)
          tilegemm::sgemm_rows(false, m, OC, row, band + ((oh - oh0) * H.stride + kh * H.dil) * Wp * C, off,
                     f + kh * row * OC, OC, y + ((n * OH + oh) * OW) * OC, OC, kh > 0);
        if (post) (*post)(y + ((n * OH + oh) * OW) * OC, m, OC);
      }
    }
  });
  return true;
}

bool backprop_filter(const KernelCtx& c, const float* x, const float* dy, float* df, const Geometry& g) {
  if (!suits(g)) return false;
  const Dim &H = g.s[1], &W = g.s[2];
  const int64_t C = g.c, OC = g.oc, OH = H.out, OW = W.out, Wp = padded_width(g), row = W.k * C;
  const int64_t fsize = H.k * row * OC, rows = (OH - 1) * H.stride + H.eff_k();
  // A fixed number of partial sums, by images, added in order (Note [im2col tiles] in conv.cc).
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(c.threads, g.n));
  std::vector<float> partial((size_t)((parts - 1) * fsize));
  c.parallel_for(parts, int64_t(1) << 40, [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      float* sum = p == 0 ? df : partial.data() + (p - 1) * fsize;
      std::fill(sum, sum + fsize, 0.f);
      float* band = scratch<float>(rows * Wp * C, 1);
      const int64_t* off = window_offsets(g, OH, Wp);
      for (int64_t n = g.n * p / parts; n < g.n * (p + 1) / parts; ++n) {
        window::pad_rows(x + n * H.in * W.in * C, g, -H.pad_lo, rows, Wp, band);
        for (int64_t kh = 0; kh < H.k; ++kh)
          tilegemm::sgemm_rows(true, row, OC, OH * OW, band + kh * H.dil * Wp * C, off, dy + n * OH * OW * OC, OC,
                     sum + kh * row * OC, OC, true);
      }
    }
  });
  for (int64_t p = 1; p < parts; ++p)
    for (int64_t i = 0; i < fsize; ++i) df[i] += partial[(p - 1) * fsize + i];
  return true;
}

}  // namespace convgemm
}  // namespace tideflow
