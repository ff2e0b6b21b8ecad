// Float32 2-D convolutions and filter gradients by Winograd's minimal filtering (Note [Winograd convolutions]).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "conv_gemm.h"
#include "kernels/tile_gemm.h"
#include "kernels/winograd.h"

namespace tideflow {
namespace convgemm {
namespace {

using window::Dim;
using window::Geometry;
using window::scratch;

// Note [Winograd convolutions]
// A stride-1, undilated float32 2-D convolution with a 3x3 or 5x5 filter over enough channels runs in
// Winograd's domain (kernels/winograd.h): per 2x2 outputs and input channel, F(2x2, 3x3) does 16
// multiplications where the direct product does 36; 5x5 filters use F(3x3, 5x5), 49 per 3x3 outputs where
// the direct product does 225 (F(2x2, 5x5), 36 per 2x2, when the output is smaller). The output is cut
// into m x m tiles. A work unit is a band of tile rows of one image (about kUnitFloats of transformed
// data, so it stays in L2): its input rows are copied with the padding written out (as in Note [implicit
// patches]), each tile's t x t window is transformed into V [t*t][tiles][C], then for each of the t*t
// positions one tile product M = V x U with the transformed filter U [t*t][C][OC] (Note [tile products]),
// and each tile's M is transformed back into its m x m outputs. The filter gradient transforms dY's tiles
// instead of the filter, sums V^T x dY~ per position over the tiles into a fixed number of partial sums
// added in order (as in Note [im2col tiles]), and transforms the sum back. The input gradient of a
// unit-stride convolution is a forward convolution (conv.cc), so it comes here too.
// Rounding differs from a direct sum's (Note [Winograd transforms]): about 10x a direct sum's error for
// 5x5 filters, still 50x below the float32 tolerance of the convolution tests against TensorFlow;
// TIDEFLOW_CONV_WINOGRAD=0 in the environment turns the route off. Non-finite values: a tile mixes all its
// inputs, so an inf would turn outputs whose windows do not hold it into NaN. A unit that meets inf or
// NaN in its input or output gradient (or a filter that holds one) makes the op return false, and the
// caller reruns it by the direct kernels, which give each output what its own window holds.
constexpr int64_t kMinChannels = 16;   // fewer: the products over channels are too short to pay
constexpr int64_t kUnitFloats = 96 << 10;  // V and M (or dY~) of one unit

struct Tiling {
  int m, r, t;
  int64_t th, tw;   // tile rows and columns of one image
  int64_t band;     // tile rows per unit
  int64_t bands;    // units per image
  int64_t Wp;       // width of the padded input rows
  int64_t rows(int64_t tiles_rows) const { return tiles_rows * m + r - 1; }
};

bool enabled() {
  static const bool on = [] {
    const char* env = std::getenv("TIDEFLOW_CONV_WINOGRAD");
    return !(env && std::strcmp(env, "0") == 0);
  }();
  return on;
}

bool plan(const Geometry& g, Tiling* p) {
  const Dim &D = g.s[0], &H = g.s[1], &W = g.s[2];
  if (!enabled() || D.in != 1 || D.k != 1 || D.out != 1 || H.k != W.k || (H.k != 3 && H.k != 5)) return false;
  if (H.stride != 1 || W.stride != 1 || H.dil != 1 || W.dil != 1 || H.out < 2 || W.out < 2) return false;
  if (g.c < kMinChannels || g.oc < kMinChannels || g.n < 1) return false;
  // 5x5 filters take the larger tiles of F(3x3, 5x5) (0.6x the multiplications of F(2x2, 5x5)) unless
  // the output is too small for one.
  p->r = (int)H.k;
  p->m = p->r == 5 && H.out >= 3 && W.out >= 3 ? 3 : 2;
  p->t = winograd::tile(p->m, p->r);
  p->th = (H.out + p->m - 1) / p->m;
  p->tw = (W.out + p->m - 1) / p->m;
  const int64_t tiles = std::max<int64_t>(1, kUnitFloats / (p->t * p->t * (g.c + g.oc)));
  p->band = std::max<int64_t>(1, std::min(p->th, tiles / p->tw));
  p->bands = (p->th + p->band - 1) / p->band;
  p->Wp = p->tw * p->m + p->r - 1;
  return true;
}

// False when some value is inf or NaN (all exponent bits set).
bool all_finite(const float* p, int64_t n) {
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, p + i, sizeof b);
    bad |= (~b & 0x7f800000u) == 0;
  }
  return !bad;
}

// One unit's tiles: image n, tile rows [tr0, tr1).
struct Unit {
  int64_t n, tr0, tr1, tiles;
  Unit(const Tiling& p, int64_t u) : n(u / p.bands), tr0((u % p.bands) * p.band) {
    tr1 = std::min(p.th, tr0 + p.band);
    tiles = (tr1 - tr0) * p.tw;
  }
};

// v [t*t][tiles][C] = the transformed input windows of unit `un`; false when the input holds inf or NaN.
bool transform_input(const float* x, const Geometry& g, const Tiling& p, const Unit& un, float* band, float* v) {
  const int64_t C = g.c, rows = p.rows(un.tr1 - un.tr0);
  window::pad_rows(x + un.n * g.in_pixels() * C, g, un.tr0 * p.m - g.s[1].pad_lo, rows, p.Wp, band);
  if (!all_finite(band, rows * p.Wp * C)) return false;
  for (int64_t i = 0; i < un.tiles; ++i) {
    const int64_t tr = i / p.tw, tc = i % p.tw;
    winograd::input(p.m, p.r, band + (tr * p.m * p.Wp + tc * p.m) * C, p.Wp * C, C, C, v + i * C, un.tiles * C);
  }
  return true;
}

}  // namespace

bool winograd_forward(const KernelCtx& c, const float* x, const float* f, float* y, const Geometry& g,
                      const OutputPass* post) {
  Tiling p;
  if (!plan(g, &p)) return false;
  const int64_t C = g.c, OC = g.oc, T2 = p.t * p.t, OH = g.s[1].out, OW = g.s[2].out;
  if (!all_finite(f, g.taps() * C * OC)) return false;
  std::vector<float> u((size_t)(T2 * C * OC));
  winograd::filter(p.m, p.r, f, C * OC, u.data());
  const int64_t most = p.band * p.tw;
  std::atomic<bool> bad{false};
  c.parallel_for(g.n * p.bands, most * T2 * C * OC, [&](int64_t b, int64_t e) {
    float* band = scratch<float>(p.rows(p.band) * p.Wp * C, 0);
    float* v = scratch<float>(T2 * most * C, 1);
    float* mm = scratch<float>(T2 * most * OC, 2);
    for (int64_t i = b; i < e && !bad.load(std::memory_order_relaxed); ++i) {
      const Unit un(p, i);
      if (!transform_input(x, g, p, un, band, v)) {
        bad = true;
        break;
      }
      for (int64_t xi = 0; xi < T2; ++xi)
        tilegemm::sgemm(false, un.tiles, OC, C, v + xi * un.tiles * C, C, u.data() + xi * C * OC, OC,
                        mm + xi * un.tiles * OC, OC, false);
      for (int64_t k = 0; k < un.tiles; ++k) {
        const int64_t oh = (un.tr0 + k / p.tw) * p.m, ow = (k % p.tw) * p.m;
        winograd::output(p.m, p.r, mm + k * OC, un.tiles * OC, OC, y + ((un.n * OH + oh) * OW + ow) * OC, OW * OC,
                         OC, (int)std::min<int64_t>(p.m, OH - oh), (int)std::min<int64_t>(p.m, OW - ow));
      }
      if (post) {
        const int64_t oh0 = un.tr0 * p.m, oh1 = std::min(OH, un.tr1 * p.m);
        (*post)(y + (un.n * OH + oh0) * OW * OC, (oh1 - oh0) * OW, OC);
      }
    }
  });
  return !bad;
}

bool winograd_backprop_filter(const KernelCtx& c, const float* x, const float* dy, float* df, const Geometry& g) {
  Tiling p;
  if (!plan(g, &p)) return false;
  const int64_t C = g.c, OC = g.oc, T2 = p.t * p.t, OH = g.s[1].out, OW = g.s[2].out, size = T2 * C * OC;
  const int64_t units = g.n * p.bands, most = p.band * p.tw;
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(c.threads, units));
  std::vector<float> sums((size_t)(parts * size));
  std::atomic<bool> bad{false};
  c.parallel_for(parts, int64_t(1) << 40, [&](int64_t pb, int64_t pe) {
    float* band = scratch<float>(p.rows(p.band) * p.Wp * C, 0);
    float* v = scratch<float>(T2 * most * C, 1);
    float* dyt = scratch<float>(T2 * most * OC, 2);
    for (int64_t part = pb; part < pe; ++part) {
      float* du = sums.data() + part * size;
      for (int64_t i = units * part / parts; i < units * (part + 1) / parts; ++i) {
        if (bad.load(std::memory_order_relaxed)) return;
        const Unit un(p, i);
        const int64_t oh0 = un.tr0 * p.m, oh1 = std::min(OH, un.tr1 * p.m);
        const float* dyn = dy + un.n * OH * OW * OC;
        if (!transform_input(x, g, p, un, band, v) || !all_finite(dyn + oh0 * OW * OC, (oh1 - oh0) * OW * OC)) {
          bad = true;
          return;
        }
        for (int64_t k = 0; k < un.tiles; ++k) {
          const int64_t oh = (un.tr0 + k / p.tw) * p.m, ow = (k % p.tw) * p.m;
          winograd::output_grad(p.m, p.r, dyn + (oh * OW + ow) * OC, OW * OC, OC, (int)std::min<int64_t>(p.m, OH - oh),
                                (int)std::min<int64_t>(p.m, OW - ow), OC, dyt + k * OC, un.tiles * OC);
        }
        for (int64_t xi = 0; xi < T2; ++xi)
          tilegemm::sgemm(true, C, OC, un.tiles, v + xi * un.tiles * C, C, dyt + xi * un.tiles * OC, OC,
                          du + xi * C * OC, OC, i != units * part / parts);
      }
    }
  });
  if (bad) return false;
  for (int64_t part = 1; part < parts; ++part)
    for (int64_t i = 0; i < size; ++i) sums[i] += sums[part * size + i];
  winograd::filter_grad(p.m, p.r, sums.data(), C * OC, df);
  return true;
}

}  // namespace convgemm
}  // namespace tideflow
