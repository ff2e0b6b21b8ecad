// Float32 max-pooling windows (declared in pool.h).
#include "kernels/pool.h"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/tile_gemm.h"

namespace tideflow {
namespace poolk {
namespace {

// Note [pooling kernels]
// A max-pooling window of a CNN is small (2x2) and its channels are the long axis, so the kernels run
// one window at a time with the channels in vector lanes, the window's pixels given as pointers. The
// rule of Note [max pooling and NaN] (ops/pooling.cc) is a per-lane select: x replaces the best so far
// when x > best, or when x is NaN and best is not; in lanes that compares give a mask and the select a
// blend, so the result, the index and the routed gradient are bit for bit what the scalar loop gives.
// Written once over GCC vector types, compiled for AVX-512 (16 lanes), AVX2 (8) and a portable build
// (4: SSE2 on x86-64); the library itself is built for the baseline x86-64, where the ops' own loops
// ran at 4 lanes and spent most of a CNN's pooling time in compare-and-blend instructions.
#define PK_INLINE __attribute__((always_inline)) inline

template <int W>
struct Lanes {
  typedef float f __attribute__((vector_size(4 * W)));
  typedef int32_t i __attribute__((vector_size(4 * W)));
};

template <class V>
PK_INLINE V load(const void* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V>
PK_INLINE void store(void* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

template <class F>
PK_INLINE auto beats(F x, F best) {
  return (x > best) | ((x != x) & (best == best));
}
PK_INLINE bool beats1(float x, float best) { return x > best || (x != x && best == best); }

// Channels [off, off + n) of the window, written to best[0, n) and at[0, n).
template <int W, bool kAt>
PK_INLINE void max_impl(const float* const* pix, const int32_t* idx, int npix, int64_t n, float* best, int32_t* at,
                        int64_t off = 0) {
  using F = typename Lanes<W>::f;
  using I = typename Lanes<W>::i;
  int64_t c = 0;
  for (; c + W <= n; c += W) {
    F b = load<F>(pix[0] + off + c);
    I a = I{} + idx[0];
    for (int i = 1; i < npix; ++i) {
      const F x = load<F>(pix[i] + off + c);
      const I take = beats(x, b);
      b = take ? x : b;
      if (kAt) a = take ? I{} + idx[i] : a;
    }
    store(best + c, b);
    if (kAt) store(at + c, a);
  }
  for (; c < n; ++c) {
    float b = pix[0][off + c];
    int32_t a = idx[0];
    for (int i = 1; i < npix; ++i)
      if (beats1(pix[i][off + c], b)) b = pix[i][off + c], a = idx[i];
    best[c] = b;
    if (kAt) at[c] = a;
  }
}

// Channels [off, off + n) of the window; d points at channel off's gradient.
template <int W>
PK_INLINE void route_impl(const float* const* pix, float* const* out, int npix, int64_t n, const float* d,
                          int64_t off = 0) {
  using F = typename Lanes<W>::f;
  using I = typename Lanes<W>::i;
  int64_t c = 0;
  for (; c + W <= n; c += W) {
    F b = load<F>(pix[0] + off + c);
    I a = I{};
    for (int i = 1; i < npix; ++i) {
      const F x = load<F>(pix[i] + off + c);
      const I take = beats(x, b);
      b = take ? x : b;
      a = take ? I{} + i : a;
    }
    const F g = load<F>(d + c);
    for (int i = 0; i < npix; ++i) store(out[i] + off + c, a == i ? g : F{});
  }
  for (; c < n; ++c) {
    float b = pix[0][off + c];
    int a = 0;
    for (int i = 1; i < npix; ++i)
      if (beats1(pix[i][off + c], b)) b = pix[i][off + c], a = i;
    for (int i = 0; i < npix; ++i) out[i][off + c] = i == a ? d[c] : 0.f;
  }
}

using MaxFn = void (*)(const float* const*, const int32_t*, int, int64_t, float*, int32_t*);
using RouteFn = void (*)(const float* const*, float* const*, int, int64_t, const float*);

void max_portable(const float* const* p, const int32_t* idx, int np, int64_t n, float* best, int32_t* at) {
  if (at) max_impl<4, true>(p, idx, np, n, best, at);
  else max_impl<4, false>(p, idx, np, n, best, at);
}
void route_portable(const float* const* p, float* const* o, int np, int64_t n, const float* d) {
  route_impl<4>(p, o, np, n, d);
}
#if defined(__x86_64__)
__attribute__((target("avx2"))) void max_avx2(const float* const* p, const int32_t* idx, int np, int64_t n,
                                              float* best, int32_t* at) {
  if (at) max_impl<8, true>(p, idx, np, n, best, at);
  else max_impl<8, false>(p, idx, np, n, best, at);
}
__attribute__((target("avx2"))) void route_avx2(const float* const* p, float* const* o, int np, int64_t n,
                                                const float* d) {
  route_impl<8>(p, o, np, n, d);
}
// GCC lowers the generic code's 16-lane compares and selects to scalar code (their masks are not
// vectors), so the AVX-512 build says the same with mask intrinsics.
template <bool kAt>
__attribute__((target("avx512f"))) inline void max512(const float* const* pix, const int32_t* idx, int npix,
                                                      int64_t n, float* best, int32_t* at) {
  int64_t c = 0;
  for (; c + 16 <= n; c += 16) {
    __m512 b = _mm512_loadu_ps(pix[0] + c);
    __m512i a = _mm512_set1_epi32(idx[0]);
    for (int i = 1; i < npix; ++i) {
      const __m512 x = _mm512_loadu_ps(pix[i] + c);
      const __mmask16 take = _mm512_cmp_ps_mask(x, b, _CMP_GT_OQ) |
                             (_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(b, b, _CMP_ORD_Q));
      b = _mm512_mask_mov_ps(b, take, x);
      if (kAt) a = _mm512_mask_mov_epi32(a, take, _mm512_set1_epi32(idx[i]));
    }
    _mm512_storeu_ps(best + c, b);
    if (kAt) _mm512_storeu_si512(at + c, a);
  }
  if (c < n) max_impl<4, kAt>(pix, idx, npix, n - c, best + c, kAt ? at + c : nullptr, c);
}
__attribute__((target("avx512f"))) void max_avx512(const float* const* p, const int32_t* idx, int np, int64_t n,
                                                   float* best, int32_t* at) {
  if (at) max512<true>(p, idx, np, n, best, at);
  else max512<false>(p, idx, np, n, best, at);
}
__attribute__((target("avx512f"))) void route_avx512(const float* const* pix, float* const* out, int npix, int64_t n,
                                                     const float* d) {
  int64_t c = 0;
  for (; c + 16 <= n; c += 16) {
    __m512 b = _mm512_loadu_ps(pix[0] + c);
    __m512i a = _mm512_setzero_si512();
    for (int i = 1; i < npix; ++i) {
      const __m512 x = _mm512_loadu_ps(pix[i] + c);
      const __mmask16 take = _mm512_cmp_ps_mask(x, b, _CMP_GT_OQ) |
                             (_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(b, b, _CMP_ORD_Q));
      b = _mm512_mask_mov_ps(b, take, x);
      a = _mm512_mask_mov_epi32(a, take, _mm512_set1_epi32(i));
    }
    const __m512 g = _mm512_loadu_ps(d + c);
    for (int i = 0; i < npix; ++i)
      _mm512_storeu_ps(out[i] + c, _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a, _mm512_set1_epi32(i)), g));
  }
  if (c < n) route_impl<4>(pix, out, npix, n - c, d + c, c);
}
#endif

template <class Fn>
Fn pick(Fn portable, Fn avx2, Fn avx512) {
  switch (tilegemm::isa()) {
    case tilegemm::Isa::Avx512: return avx512;
    case tilegemm::Isa::Avx2: return avx2;
    case tilegemm::Isa::Portable: break;
  }
  return portable;
}

}  // namespace

void window_max(const float* const* pix, const int32_t* idx, int npix, int64_t n, float* best, int32_t* at) {
#if defined(__x86_64__)
  static const MaxFn f = pick<MaxFn>(max_portable, max_avx2, max_avx512);
#else
  static const MaxFn f = max_portable;
#endif
  f(pix, idx, npix, n, best, at);
}

void route_max(const float* const* pix, float* const* out, int npix, int64_t n, const float* d) {
#if defined(__x86_64__)
  static const RouteFn f = pick<RouteFn>(route_portable, route_avx2, route_avx512);
#else
  static const RouteFn f = route_portable;
#endif
  f(pix, out, npix, n, d);
}

}  // namespace poolk
}  // namespace tideflow
