// Summary ops: each returns a string scalar holding a serialized Summary protobuf, as TensorFlow 1.x does,
// so `sess.run([loss, summary])` hands the bytes to FileWriter.add_summary. Scalars, histograms (TF's
// default buckets), images (PNG, encoded here), tensors (the text plugin) and MergeSummary.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <set>

#include "op_registry.h"
#include "checksum.h"
#include "summary/graph_def.h"
#include "summary/protobuf_lite.h"

namespace tideflow {
namespace {

// Summary.Value fields (summary.proto).
enum ValueField { kTag = 1, kSimpleValue = 2, kImage = 4, kHisto = 5, kTensor = 8, kMetadata = 9 };

// Appends Summary.value = Value{tag, <payload field>} to `summary`.
void add_value(pb::Writer& summary, const std::string& tag, ValueField field, const std::string& payload) {
  pb::Writer v;
  v.bytes(kTag, tag);
  v.bytes(field, payload);
  summary.message(1, v);
}

const std::string& scalar_string(const KernelCtx& c, int i, const char* what) {
  const Tensor& t = c.in(i);
  if (t.dtype() != DType::String || t.size() != 1)
    c.fail(std::string(what) + " must be a string scalar, got " + t.summary());
  return t.string_values()[0];
}

void expect_string_scalar(InferCtx& c, int i, const char* what) {
  if (c.dtype(i) != DType::String) c.type_fail(std::string(what) + " must be a string, got " + dtype_name(c.dtype(i)));
  if (c.shape(i).known_rank && c.shape(i).rank() != 0 && !(c.shape(i).rank() == 1 && c.shape(i).dims[0] == 1))
    c.fail(std::string(what) + " must be a scalar, got shape " + c.shape(i).str());
}

void string_scalar_output(InferCtx& c) { c.set_output(0, DType::String, PartialShape(Dims{})); }

// ---- scalars ----

// Note [scalar summaries]
// ScalarSummary(tags, values) takes a tags tensor of the values' shape, one Summary.Value per element;
// tf.summary.scalar passes a scalar of each. simple_value is a float, as in TensorFlow.
void scalar_summary_shape(InferCtx& c) {
  if (c.dtype(0) != DType::String) c.type_fail("tags must be a string tensor, got " + std::string(dtype_name(c.dtype(0))));
  if (!in_set(c.dtype(1), kPod))
    c.type_fail("values must be numeric, got " + std::string(dtype_name(c.dtype(1))));
  if (!c.shape(0).compatible_with(c.shape(1)))
    c.fail("tags and values must have the same shape: " + c.shape(0).str() + " vs " + c.shape(1).str());
  string_scalar_output(c);
}

void scalar_summary_kernel(KernelCtx& c) {
  const Tensor& tags = c.in(0);
  const Tensor& values = c.in(1);
  if (tags.dims() != values.dims())
    c.fail("tags and values are not the same shape: " + dims_str(tags.dims()) + " != " + dims_str(values.dims()));
  pb::Writer s;
  const auto& names = tags.string_values();
  for (int64_t i = 0; i < values.size(); ++i) {
    pb::Writer v;
    v.bytes(kTag, names[i]);
    v.f32(kSimpleValue, (float)values.double_at(i));
    s.message(1, v);
  }
  c.set(0, Tensor::string_scalar(s.release()));
}

REGISTER_OP("ScalarSummary").inputs(2).not_differentiable().shape(scalar_summary_shape).cpu(scalar_summary_kernel);

// ---- histograms ----

// TensorFlow's default bucket limits (core/lib/histogram/histogram.cc): ±1e-12 growing by 10% up to
// 1e20, then ±DBL_MAX, mirrored around 0. TensorBoard assumes these buckets when it compresses histograms.
const std::vector<double>& default_bucket_limits() {
  static const std::vector<double> limits = [] {
    std::vector<double> pos, neg;
    for (double v = 1.0e-12; v < 1.0e20; v *= 1.1) {
      pos.push_back(v);
      neg.push_back(-v);
    }
    pos.push_back(DBL_MAX);
    neg.push_back(-DBL_MAX);
    std::vector<double> all(neg.rbegin(), neg.rend());
    all.push_back(0.0);
    all.insert(all.end(), pos.begin(), pos.end());
    return all;
  }();
  return limits;
}

struct Histogram {
  double min = DBL_MAX, max = -DBL_MAX, num = 0, sum = 0, sum_squares = 0;
  std::vector<double> buckets;

  Histogram() : buckets(default_bucket_limits().size(), 0.0) {}
  void add(double x) {
    const auto& lim = default_bucket_limits();
    // DBL_MAX is the last limit: upper_bound points past it (TF clamps to the last bucket too).
    const size_t i = std::upper_bound(lim.begin(), lim.end(), x) - lim.begin();
    buckets[std::min(i, buckets.size() - 1)] += 1;
    min = std::min(min, x);
    max = std::max(max, x);
    num += 1;
    sum += x;
    sum_squares += x * x;
  }
  void merge(const Histogram& o) {
    min = std::min(min, o.min);
    max = std::max(max, o.max);
    num += o.num;
    sum += o.sum;
    sum_squares += o.sum_squares;
    for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += o.buckets[i];
  }
  // HistogramProto, collapsing each run of empty buckets into one (Histogram::EncodeToProto).
  std::string encode() const {
    const auto& lim = default_bucket_limits();
    std::vector<double> limits, counts;
    for (size_t i = 0; i < buckets.size();) {
      double end = lim[i], count = buckets[i];
      ++i;
      if (count <= 0.0) {
        while (i < buckets.size() && buckets[i] <= 0.0) end = lim[i++];
      }
      limits.push_back(end);
      counts.push_back(count);
    }
    pb::Writer w;
    w.f64(1, min);
    w.f64(2, max);
    w.f64(3, num);
    w.f64(4, sum);
    w.f64(5, sum_squares);
    w.packed_f64(6, limits);
    w.packed_f64(7, counts);
    return w.release();
  }
};

void histogram_summary_shape(InferCtx& c) {
  expect_string_scalar(c, 0, "tag");
  if (!in_set(c.dtype(1), kPod))
    c.type_fail("values must be numeric, got " + std::string(dtype_name(c.dtype(1))));
  string_scalar_output(c);
}

void histogram_summary_kernel(KernelCtx& c) {
  const std::string& tag = scalar_string(c, 0, "tag");
  const Tensor& values = c.in(1);
  const int64_t n = values.size();
  // Large inputs fill one histogram per block in parallel, then merge; few blocks keep the merge cheap.
  const int64_t block = std::max<int64_t>(1 << 16, (n + 63) / 64);
  const int64_t nblocks = std::max<int64_t>(1, (n + block - 1) / block);
  std::vector<Histogram> parts(nblocks);
  std::vector<char> nonfinite(nblocks, 0);
  dispatch<kPod>(values.dtype(), "HistogramSummary", [&](auto z) {
    using T = decltype(z);
    const T* p = values.data<T>();
    c.parallel_for(nblocks, block, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        Histogram& h = parts[b];
        for (int64_t i = b * block, e = std::min(n, (b + 1) * block); i < e; ++i) {
          double x = (double)p[i];
          if (!std::isfinite(x)) {
            nonfinite[b] = 1;
            break;
          }
          h.add(x);
        }
      }
    });
  });
  if (std::find(nonfinite.begin(), nonfinite.end(), 1) != nonfinite.end())
    c.fail("Nan in summary histogram for: " + tag);
  for (int64_t b = 1; b < nblocks; ++b) parts[0].merge(parts[b]);
  pb::Writer s;
  add_value(s, tag, kHisto, parts[0].encode());
  c.set(0, Tensor::string_scalar(s.release()));
}

REGISTER_OP("HistogramSummary").inputs(2).not_differentiable().expensive()
    .shape(histogram_summary_shape).cpu(histogram_summary_kernel);

// ---- images ----

// Note [PNG encoding]
// Image summaries need PNG bytes and tideflow links no image library, so this writes the simplest valid
// PNG: 8-bit grey / RGB / RGBA, filter type 0 on every row, and a zlib stream of stored (uncompressed)
// deflate blocks with its Adler-32. Files are larger than a compressing encoder's, which matters little
// for the few small images a summary holds.
void put_be32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back((char)(v >> (8 * i)));
}

void png_chunk(std::string& out, const char* type, const std::string& data) {
  put_be32(out, (uint32_t)data.size());
  size_t start = out.size();
  out.append(type, 4);
  out.append(data);
  put_be32(out, crc32_ieee_extend(0, out.data() + start, out.size() - start));
}

std::string zlib_stored(const std::string& raw) {
  std::string z = {(char)0x78, (char)0x01};  // deflate, 32K window, no preset dictionary; (0x7801 % 31 == 0)
  size_t pos = 0;
  do {
    size_t len = std::min<size_t>(65535, raw.size() - pos);
    bool last = pos + len == raw.size();
    z.push_back(last ? 1 : 0);  // BFINAL, BTYPE=00 (stored)
    z.push_back((char)(len & 0xff));
    z.push_back((char)(len >> 8));
    z.push_back((char)(~len & 0xff));
    z.push_back((char)((~len >> 8) & 0xff));
    z.append(raw, pos, len);
    pos += len;
  } while (pos < raw.size());
  put_be32(z, adler32_extend(1, raw.data(), raw.size()));
  return z;
}

std::string encode_png(const uint8_t* pixels, int64_t height, int64_t width, int channels) {
  static const char kColorType[5] = {0, 0, 4, 2, 6};  // grey, grey+alpha, RGB, RGBA by channel count
  std::string ihdr;
  put_be32(ihdr, (uint32_t)width);
  put_be32(ihdr, (uint32_t)height);
  ihdr += {8, kColorType[channels], 0, 0, 0};  // bit depth, colour type, compression, filter, interlace
  std::string raw;
  const size_t row = (size_t)width * channels;
  raw.reserve((row + 1) * height);
  for (int64_t y = 0; y < height; ++y) {
    raw.push_back(0);  // filter: none
    raw.append(reinterpret_cast<const char*>(pixels + y * row), row);
  }
  std::string png = "\x89PNG\r\n\x1a\n";
  png_chunk(png, "IHDR", ihdr);
  png_chunk(png, "IDAT", zlib_stored(raw));
  png_chunk(png, "IEND", "");
  return png;
}

// Float images become uint8 the way TensorFlow's ImageSummary does it (summary_image_op.cc), per image:
// all values >= 0 are scaled by 255 / max; with negative values, scaled by 127 / max|v| and centred on
// 128. Pixels with a non-finite channel take the bad colour (red). uint8 images are written as they are;
// int32 images (tideflow's stand-in for uint8 before it had the dtype) must already lie in [0, 255].
template <class T>
void to_uint8(const T* v, int64_t hw, int depth, uint8_t* out) {
  static const uint8_t kBad[4] = {255, 0, 0, 255};
  auto finite_pixel = [&](int64_t i) {
    for (int j = 0; j < depth; ++j)
      if (!std::isfinite((double)v[i * depth + j])) return false;
    return true;
  };
  T lo = std::numeric_limits<T>::infinity(), hi = -lo;
  for (int64_t i = 0; i < hw; ++i) {
    if (!finite_pixel(i)) continue;
    for (int j = 0; j < depth; ++j) {
      lo = std::min(lo, v[i * depth + j]);
      hi = std::max(hi, v[i * depth + j]);
    }
  }
  const T kZero = T(1e-6);
  T scale, offset;
  if (lo < 0) {
    T m = std::max(std::abs(lo), std::abs(hi));
    scale = m < kZero ? T(0) : T(127) / m;
    offset = T(128);
  } else {
    scale = hi < kZero ? T(0) : T(255) / hi;
    offset = T(0);
  }
  for (int64_t i = 0; i < hw; ++i) {
    bool ok = finite_pixel(i);
    for (int j = 0; j < depth; ++j)
      out[i * depth + j] = ok ? (uint8_t)std::clamp(v[i * depth + j] * scale + offset, T(0), T(255)) : kBad[j];
  }
}

void image_summary_shape(InferCtx& c) {
  expect_string_scalar(c, 0, "tag");
  DType d = c.dtype(1);
  if (!in_set(d, dset(DType::UInt8) | dset(DType::Float16) | kF32F64 | dset(DType::Int32)))  // TF's, and int32
    c.type_fail("images must be uint8, float16, float32 or float64 (or int32 holding values 0..255), got " +
                std::string(dtype_name(d)));
  const PartialShape& s = c.shape(1);
  if (s.known_rank && s.rank() != 4) c.fail("images must be 4-D [batch, height, width, channels], got " + s.str());
  if (s.known_rank && s.dims[3] >= 0 && s.dims[3] != 1 && s.dims[3] != 3 && s.dims[3] != 4)
    c.fail("images must have 1, 3 or 4 channels, got shape " + s.str());
  if (c.node.attrs.get_or<int64_t>("max_images", 3) < 1) c.fail("max_images must be at least 1");
  string_scalar_output(c);
}

void image_summary_kernel(KernelCtx& c) {
  const std::string& tag = scalar_string(c, 0, "tag");
  const Tensor& t = c.in(1);
  if (t.rank() != 4 || (t.dim(3) != 1 && t.dim(3) != 3 && t.dim(3) != 4))
    c.fail("images must be 4-D with 1, 3 or 4 channels, got " + t.summary());
  const int64_t max_images = c.node.attrs.get_or<int64_t>("max_images", 3);
  const int64_t h = t.dim(1), w = t.dim(2);
  const int depth = (int)t.dim(3);
  if (h < 1 || w < 1 || h > (1 << 24) || w > (1 << 24))
    c.fail("image height and width must be in [1, 2^24], got " + t.summary());
  const int64_t n = std::min(t.dim(0), max_images), hw = h * w, per = hw * depth;
  if (t.dtype() == DType::Int32) {
    const int32_t* p = t.data<int32_t>();
    for (int64_t i = 0; i < n * per; ++i)
      if (p[i] < 0 || p[i] > 255) c.fail("int32 images hold uint8 values: got " + std::to_string(p[i]) + " outside [0, 255]");
  }
  std::vector<std::string> pngs(n);
  c.parallel_for(n, per * 4, [&](int64_t b0, int64_t b1) {
    std::vector<uint8_t> pixels(per);
    for (int64_t b = b0; b < b1; ++b) {
      if (t.dtype() == DType::UInt8) {
        std::copy(t.data<uint8_t>() + b * per, t.data<uint8_t>() + (b + 1) * per, pixels.begin());
      } else if (t.dtype() == DType::Int32) {
        const int32_t* p = t.data<int32_t>() + b * per;
        for (int64_t i = 0; i < per; ++i) pixels[i] = (uint8_t)p[i];
      } else if (t.dtype() == DType::Float16) {  // scaled in float32, as TF's Eigen::half images
        std::vector<float> f(t.data<half>() + b * per, t.data<half>() + (b + 1) * per);
        to_uint8(f.data(), hw, depth, pixels.data());
      } else if (t.dtype() == DType::Float32) {
        to_uint8(t.data<float>() + b * per, hw, depth, pixels.data());
      } else {
        to_uint8(t.data<double>() + b * per, hw, depth, pixels.data());
      }
      pngs[b] = encode_png(pixels.data(), h, w, depth);
    }
  });
  pb::Writer s;
  for (int64_t b = 0; b < n; ++b) {
    pb::Writer img;  // Summary.Image: height=1 width=2 colorspace=3 encoded_image_string=4
    img.int64(1, h);
    img.int64(2, w);
    img.int64(3, depth);
    img.bytes(4, pngs[b]);
    // TensorFlow names images "tag/image/i", or "tag/image" when max_images is 1.
    add_value(s, max_images > 1 ? tag + "/image/" + std::to_string(b) : tag + "/image", kImage, img.data());
  }
  c.set(0, Tensor::string_scalar(s.release()));
}

REGISTER_OP("ImageSummary").inputs(2).not_differentiable().expensive()
    .shape(image_summary_shape).cpu(image_summary_kernel);

// ---- tensors (text and other plugins) ----

void tensor_summary_shape(InferCtx& c) {
  expect_string_scalar(c, 0, "tag");
  expect_string_scalar(c, 2, "serialized_summary_metadata");
  string_scalar_output(c);
}

void tensor_summary_kernel(KernelCtx& c) {
  const std::string& tag = scalar_string(c, 0, "tag");
  const std::string& metadata = scalar_string(c, 2, "serialized_summary_metadata");
  try {  // reject garbage now rather than in TensorBoard
    pb::Reader r(metadata);
    pb::Reader::Field f;
    while (r.next(&f)) {
    }
  } catch (const std::exception& e) {
    c.fail(std::string("serialized_summary_metadata is not a SummaryMetadata proto: ") + e.what());
  }
  pb::Writer v;
  v.bytes(kTag, tag);
  v.bytes(kMetadata, metadata);
  v.bytes(kTensor, tensor_proto(c.in(1)));
  pb::Writer s;
  s.message(1, v);
  c.set(0, Tensor::string_scalar(s.release()));
}

// TensorSummaryV2(tag, tensor, serialized_summary_metadata): the tensor as a TensorProto, for plugins
// such as text.
REGISTER_OP("TensorSummaryV2").inputs(3).not_differentiable().shape(tensor_summary_shape).cpu(tensor_summary_kernel);

// ---- merging ----

// Appends the tags of a serialized Summary to `tags`; returns false when it does not parse as one.
bool summary_tags(const std::string& s, std::vector<std::string>* tags) {
  try {
    pb::Reader r(s);
    pb::Reader::Field f, g;
    while (r.next(&f)) {
      if (f.number != 1 || f.type != pb::kLengthDelimited) return false;
      pb::Reader vr(f.bytes);
      while (vr.next(&g))
        if (g.number == kTag && g.type == pb::kLengthDelimited) tags->emplace_back(g.bytes);
    }
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

// Serialized Summary protos concatenate into their merge (Note [protobuf wire format]); the kernel parses
// each input only to reject malformed ones and duplicate tags, as TensorFlow's MergeSummary does.
void merge_summary_kernel(KernelCtx& c) {
  std::set<std::string> seen;
  std::vector<std::string> tags;
  std::string out;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Tensor& t = c.in((int)i);
    if (t.dtype() != DType::String) c.fail("MergeSummary inputs must be strings, got " + t.summary());
    for (const std::string& s : t.string_values()) {
      tags.clear();
      if (!summary_tags(s, &tags)) c.fail("Could not parse one of the summary inputs (input " + std::to_string(i) + ")");
      for (const auto& tag : tags)
        if (!tag.empty() && !seen.insert(tag).second) c.fail("Duplicate tag " + tag + " found in summary inputs");
      out += s;
    }
  }
  c.set(0, Tensor::string_scalar(std::move(out)));
}

REGISTER_OP("MergeSummary").inputs(-1).not_differentiable()
    .shape([](InferCtx& c) {
      if (c.num_inputs() == 0) c.fail("MergeSummary needs at least one input");
      for (int i = 0; i < c.num_inputs(); ++i)
        if (c.dtype(i) != DType::String) c.type_fail("MergeSummary inputs must be strings, got " + std::string(dtype_name(c.dtype(i))));
      string_scalar_output(c);
    })
    .cpu(merge_summary_kernel);

}  // namespace
}  // namespace tideflow
