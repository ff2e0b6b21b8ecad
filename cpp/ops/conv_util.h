// Sliding-window geometry shared by the convolution (conv.cc, conv_depthwise.cc) and pooling
// (pooling.cc) families: attribute checks with TensorFlow's rules and messages, TF's output sizes and
// paddings, channels-first <-> channels-last copies, and a per-thread scratch buffer for kernel tiles.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "array_util.h"
#include "op_registry.h"

namespace tideflow {
namespace window {

enum class Padding { Same, Valid, Explicit };

// One spatial dimension of a sliding window: input size, window size, stride, dilation, padding, output.
struct Dim {
  int64_t in = 1, k = 1, stride = 1, dil = 1, pad_lo = 0, pad_hi = 0, out = 1;
  int64_t eff_k() const { return (k - 1) * dil + 1; }
};

// Batch, channels and three spatial dims (depth, height, width). 2-D ops leave depth at 1, 1-D ops are
// 2-D ops (as in TensorFlow). `oc` is a convolution's output channels.
struct Geometry {
  int64_t n = 1, c = 1, oc = 1;
  Dim s[3];
  int64_t in_pixels() const { return s[0].in * s[1].in * s[2].in; }
  int64_t out_pixels() const { return s[0].out * s[1].out * s[2].out; }
  int64_t taps() const { return s[0].k * s[1].k * s[2].k; }
  // Every window is one pixel of the input: the op is a product over channels alone.
  bool pointwise() const {
    for (const Dim& d : s)
      if (d.k != 1 || d.stride != 1 || d.pad_lo != 0 || d.pad_hi != 0) return false;
    return true;
  }
};

// The attributes of a windowed op, checked. `nsp` spatial dims; `strides`, `dilations`, `ksize` hold the
// spatial entries only, outermost first; `pads` two per spatial dim (explicit padding).
struct Attrs {
  int nsp = 2;
  bool channels_first = false;
  Padding padding = Padding::Valid;
  std::vector<int64_t> strides, dilations, ksize, pads;
  int batch_axis() const { return 0; }
  int channel_axis() const { return channels_first ? 1 : nsp + 1; }
  int spatial_axis(int i) const { return channels_first ? 2 + i : 1 + i; }
};

// What an op reads: "Conv2D"-style ops have strides/dilations/padding(/explicit_paddings), pools add
// ksize and have no dilations.
struct Spec {
  const char* op;     // for messages: "Conv2D"
  int nsp;            // 2 or 3
  bool pool;          // reads ksize, no dilations
  bool allow_explicit;
};

// Reads and checks the attributes; returns "" or an error message in TensorFlow's words.
std::string read_attrs(const AttrMap& a, const Spec& spec, Attrs* out);

// Output size and paddings of one dimension for d.in, d.k, d.dil, d.stride (TF's
// GetWindowedOutputSizeVerbose); d.in < 0 (unknown at graph-build time) gives d.out = -1.
std::string resolve(Dim* d, Padding p, int64_t explicit_lo, int64_t explicit_hi);

// Geometry of an input of dims `in` (data layout per `a`; -1 for unknown) and windows of spatial sizes
// `k` (nsp entries). Fills g->s (leading unused dims stay trivial), g->n and g->c.
std::string geometry(const Attrs& a, const Dims& in, const std::vector<int64_t>& k, Geometry* g);

// Dims in the op's data format: batch, spatial (nsp entries, outermost first), channels.
Dims layout(const Attrs& a, int64_t n, const int64_t* spatial, int64_t c);
inline Dims out_dims(const Attrs& a, const Geometry& g, int64_t channels) {
  int64_t sp[3];
  for (int i = 0; i < a.nsp; ++i) sp[i] = g.s[3 - a.nsp + i].out;
  return layout(a, g.n, sp, channels);
}
inline Dims in_dims(const Attrs& a, const Geometry& g) {
  int64_t sp[3];
  for (int i = 0; i < a.nsp; ++i) sp[i] = g.s[3 - a.nsp + i].in;
  return layout(a, g.n, sp, g.c);
}

// dst [rows, Wp, C] = input rows ih0 .. ih0 + rows of image `img` [H, W, C] (2-D: depth 1), columns
// starting at -pad_lo, zero outside the image: the padding written out.
void pad_rows(const float* img, const Geometry& g, int64_t ih0, int64_t rows, int64_t Wp, float* dst);

// Allocates output `out` after checking that its size neither overflows nor passes a sane cap (shapes
// that arrive as tensors, like conv2d_transpose's output_shape, are the user's).
Tensor& alloc_checked(KernelCtx& c, int out, DType dt, const Dims& dims);

// dst[n][p][c] = src[n][c][p] and back: channels-first data is computed in channels-last order.
template <class T>
void to_channels_last(const KernelCtx& c, const T* src, T* dst, int64_t n, int64_t ch, int64_t pixels) {
  array_util::View v;
  v.add(n, ch * pixels, ch * pixels);
  v.add(pixels, 1, ch);
  v.add(ch, pixels, 1);
  array_util::copy_view(c, src, dst, v);
}
template <class T>
void to_channels_first(const KernelCtx& c, const T* src, T* dst, int64_t n, int64_t ch, int64_t pixels) {
  array_util::View v;
  v.add(n, ch * pixels, ch * pixels);
  v.add(ch, 1, pixels);
  v.add(pixels, ch, 1);
  array_util::copy_view(c, src, dst, v);
}

// A tensor's data in channels-last order: the tensor itself, or a transposed copy kept in `keep`.
template <class T>
const T* channels_last(const KernelCtx& c, const Attrs& a, const Tensor& t, Tensor* keep) {
  if (!a.channels_first || t.rank() < 3) return t.data<T>();
  const int64_t n = t.dim(0), ch = t.dim(1), pixels = ch && n ? t.size() / (n * ch) : 0;
  *keep = Tensor(t.dtype(), t.dims());
  to_channels_last(c, t.data<T>(), keep->data<T>(), n, ch, pixels);
  return keep->data<T>();
}

// Note [kernel scratch]
// Kernel tiles (im2col patches, partial sums) live in a per-thread buffer that grows to the largest
// request and is reused by later runs, so the hot loop never allocates. `slot` separates buffers one
// tile needs at the same time. A kernel never waits for other work while holding one (parallel_for
// chunks and single-threaded gemms do not), so a thread never hands its buffer to a second user.
template <class T>
T* scratch(size_t n, int slot) {
  thread_local std::vector<T> bufs[3];
  std::vector<T>& b = bufs[slot];
  if (b.size() < n) {
    b.clear();
    b.shrink_to_fit();
    b.resize(n);
  }
  return b.data();
}

}  // namespace window
}  // namespace tideflow
