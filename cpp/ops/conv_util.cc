#include "conv_util.h"

#include <algorithm>

namespace tideflow {
namespace window {
namespace {

std::string list_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// An int-list attribute: false with an error when it is there but not a list of ints.
bool int_list(const AttrMap& a, const std::string& k, std::vector<int64_t>* out, std::string* err) {
  auto it = a.find(k);
  if (it == a.end()) return false;
  if (const auto* v = std::get_if<std::vector<int64_t>>(&it->second)) {
    *out = *v;
    return true;
  }
  *err = "Attr '" + k + "' must be a list of ints";
  return false;
}

// Values beyond this are no window anyone means; refusing them keeps every size product in int64.
constexpr int64_t kMaxWindow = int64_t(1) << 30;

}  // namespace

std::string read_attrs(const AttrMap& a, const Spec& spec, Attrs* out) {
  const int nsp = spec.nsp, rank = nsp + 2;
  const std::string op = spec.op;
  Attrs r;
  r.nsp = nsp;
  std::string err;

  const std::string dflt = nsp == 3 ? "NDHWC" : "NHWC", first = nsp == 3 ? "NCDHW" : "NCHW";
  const std::string fmt = a.get_or<std::string>("data_format", dflt);
  if (fmt != dflt && fmt != first)
    return "Value for attr 'data_format' of \"" + fmt + "\" is not in the list of allowed values: \"" + dflt +
           "\", \"" + first + "\"";
  r.channels_first = fmt == first;

  const std::string pad = a.get_or<std::string>("padding", "");
  if (pad == "SAME") r.padding = Padding::Same;
  else if (pad == "VALID") r.padding = Padding::Valid;
  else if (pad == "EXPLICIT" && spec.allow_explicit) r.padding = Padding::Explicit;
  else
    return "Value for attr 'padding' of \"" + pad + "\" is not in the list of allowed values: \"SAME\", \"VALID\"" +
           (spec.allow_explicit ? ", \"EXPLICIT\"" : "");

  const int b = 0, ch = r.channel_axis();
  auto spatial = [&](const std::vector<int64_t>& full) {
    std::vector<int64_t> s;
    for (int i = 0; i < nsp; ++i) s.push_back(full[r.spatial_axis(i)]);
    return s;
  };
  const std::string R = std::to_string(rank);

  std::vector<int64_t> strides;
  if (!int_list(a, "strides", &strides, &err))
    return err.empty() ? op + " requires the 'strides' attribute" : err;
  if ((int)strides.size() != rank)
    return spec.pool ? "Sliding window stride field must specify " + R + " dimensions"
                     : op + " requires the stride attribute to contain " + R + " values, but got: " +
                           std::to_string(strides.size());
  if (strides[b] != 1 || strides[ch] != 1)
    return spec.pool ? "Pooling is not yet supported on the batch or depth dimension: strides " + list_str(strides)
                     : "Current implementation does not yet support strides in the batch and depth dimensions.";
  r.strides = spatial(strides);
  for (int64_t s : r.strides)
    if (s < 1 || s > kMaxWindow) return op + " requires strides between 1 and 2^30, got " + list_str(strides);

  if (spec.pool) {
    std::vector<int64_t> ksize;
    if (!int_list(a, "ksize", &ksize, &err)) return err.empty() ? op + " requires the 'ksize' attribute" : err;
    if ((int)ksize.size() != rank) return "Sliding window ksize field must specify " + R + " dimensions";
    if (ksize[b] != 1 || ksize[ch] != 1)
      return "Pooling is not yet supported on the batch or depth dimension: ksize " + list_str(ksize);
    r.ksize = spatial(ksize);
    for (int i = 0; i < nsp; ++i)
      if (r.ksize[i] < 1 || r.ksize[i] > kMaxWindow)
        return "Sliding window ksize for dimension " + std::to_string(r.spatial_axis(i)) +
               (r.ksize[i] == 0 ? " was zero." : " must be between 1 and 2^30, got " + std::to_string(r.ksize[i]));
  } else {
    std::vector<int64_t> dil(rank, 1);
    if (!int_list(a, "dilations", &dil, &err) && !err.empty()) return err;
    if ((int)dil.size() != rank)
      return op + " requires the dilation attribute to contain " + R + " values, but got: " +
             std::to_string(dil.size());
    if (dil[b] != 1 || dil[ch] != 1)
      return "Current implementation does not yet support dilations in the batch and depth dimensions.";
    r.dilations = spatial(dil);
    for (int64_t d : r.dilations)
      if (d < 1 || d > kMaxWindow) return op + " requires dilations between 1 and 2^30, got " + list_str(dil);
  }

  std::vector<int64_t> pads;
  if (!int_list(a, "explicit_paddings", &pads, &err) && !err.empty()) return err;
  if (r.padding != Padding::Explicit) {
    if (!pads.empty()) return "explicit_paddings attribute must be empty if the padding attribute is not EXPLICIT";
  } else {
    if ((int)pads.size() != 2 * rank)
      return "explicit_paddings attribute must contain " + std::to_string(2 * rank) + " values, but got: " +
             std::to_string(pads.size());
    for (int64_t p : pads)
      if (p < 0 || p > kMaxWindow) return "All elements of explicit_paddings must be nonnegative (and below 2^30)";
    if (pads[2 * b] || pads[2 * b + 1] || pads[2 * ch] || pads[2 * ch + 1])
      return "Nonzero explicit padding in the batch or depth dimensions is not supported";
    for (int i = 0; i < nsp; ++i) {
      r.pads.push_back(pads[2 * r.spatial_axis(i)]);
      r.pads.push_back(pads[2 * r.spatial_axis(i) + 1]);
    }
  }
  *out = std::move(r);
  return "";
}

std::string resolve(Dim* d, Padding p, int64_t explicit_lo, int64_t explicit_hi) {
  const int64_t ek = d->eff_k();
  d->pad_lo = d->pad_hi = 0;
  if (p == Padding::Explicit) d->pad_lo = explicit_lo, d->pad_hi = explicit_hi;
  if (d->in < 0) {
    d->out = -1;
    return "";
  }
  switch (p) {
    case Padding::Valid: d->out = (d->in - ek + d->stride) / d->stride; break;
    case Padding::Same: {
      d->out = (d->in + d->stride - 1) / d->stride;
      const int64_t need = std::max<int64_t>(0, (d->out - 1) * d->stride + ek - d->in);
      d->pad_lo = need / 2;
      d->pad_hi = need - d->pad_lo;
      break;
    }
    case Padding::Explicit: d->out = (d->in + d->pad_lo + d->pad_hi - ek + d->stride) / d->stride; break;
  }
  if (d->out < 0)
    return "Computed output size would be negative: " + std::to_string(d->out) + " [input_size: " +
           std::to_string(d->in) + ", effective_filter_size: " + std::to_string(ek) + ", stride: " +
           std::to_string(d->stride) + "]";
  return "";
}

std::string geometry(const Attrs& a, const Dims& in, const std::vector<int64_t>& k, Geometry* g) {
  *g = Geometry();
  g->n = in[a.batch_axis()];
  g->c = in[a.channel_axis()];
  for (int i = 0; i < a.nsp; ++i) {
    Dim& d = g->s[3 - a.nsp + i];
    d.in = in[a.spatial_axis(i)];
    d.k = k[i];
    d.stride = a.strides[i];
    d.dil = a.dilations.empty() ? 1 : a.dilations[i];
    if (d.k > kMaxWindow) return "window dimension " + std::to_string(d.k) + " is too large";
    std::string err = a.padding == Padding::Explicit ? resolve(&d, a.padding, a.pads[2 * i], a.pads[2 * i + 1])
                                                     : resolve(&d, a.padding, 0, 0);
    if (!err.empty()) return err;
  }
  return "";
}

Dims layout(const Attrs& a, int64_t n, const int64_t* spatial, int64_t c) {
  Dims d(a.nsp + 2);
  d[a.batch_axis()] = n;
  d[a.channel_axis()] = c;
  for (int i = 0; i < a.nsp; ++i) d[a.spatial_axis(i)] = spatial[i];
  return d;
}

void pad_rows(const float* img, const Geometry& g, int64_t ih0, int64_t rows, int64_t Wp, float* dst) {
  const Dim &H = g.s[1], &W = g.s[2];
  const int64_t C = g.c, pw = W.pad_lo;
  const int64_t c0 = std::min(Wp, std::max<int64_t>(0, pw)), c1 = std::max(c0, std::min(Wp, pw + W.in));
  for (int64_t r = 0; r < rows; ++r) {
    float* d = dst + r * Wp * C;
    const int64_t ih = ih0 + r;
    if (ih < 0 || ih >= H.in) {
      std::memset(d, 0, (size_t)(Wp * C) * sizeof(float));
      continue;
    }
    std::memset(d, 0, (size_t)(c0 * C) * sizeof(float));
    std::memcpy(d + c0 * C, img + (ih * W.in + c0 - pw) * C, (size_t)((c1 - c0) * C) * sizeof(float));
    std::memset(d + c1 * C, 0, (size_t)((Wp - c1) * C) * sizeof(float));
  }
}

Tensor& alloc_checked(KernelCtx& c, int out, DType dt, const Dims& dims) {
  constexpr int64_t kMaxBytes = int64_t(1) << 40;
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) c.fail("negative dimension in output shape " + dims_str(dims));
    if (d && n > kMaxBytes / d) n = kMaxBytes;  // saturate: reported below
    else n *= d;
  }
  if (n >= kMaxBytes / (int64_t)dtype_size(dt))
    throw Error(ErrorCode::ResourceExhausted, "output of shape " + dims_str(dims) + " (" + dtype_name(dt) +
                                                  ") is too large to allocate\n\t [[node " + c.node.describe() + "]]");
  return c.alloc(out, dt, dims);
}

}  // namespace window
}  // namespace tideflow
