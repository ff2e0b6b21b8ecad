// The random op family: RandomUniform, RandomStandardNormal, TruncatedNormal, RandomUniformInt,
// RandomShuffle and Multinomial, all drawing from Philox4x32-10 streams (philox.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <type_traits>

#include "op_registry.h"
#include "kernels/philox.h"
#include "resources.h"

namespace tideflow {
namespace {

using philox::Block;
using philox::Philox4x32;
using philox::SampleStream;

// Note [random streams]
// Every random node owns one stream per Session: the key and the high half of the counter come from its
// (seed, seed2) attrs, the low half from Resources::next_count, which hands each execution a
// fresh, disjoint range of counters. So each run draws new numbers, two Sessions over the same program
// with the same seeds draw the same ones, and concurrent runs never share a block. The reservation per
// run is TensorFlow's (256 blocks per output element, Note [Philox layout]), which keeps seeded results
// equal to TensorFlow's run after run. Within a run, output group g always comes from block g (or from
// its own fixed range of blocks), so the numbers do not depend on how parallel_for split the work.
constexpr uint64_t kBlocksPerOutput = 256;
constexpr int64_t kPhiloxCost = 10;  // per 32-bit sample, in parallel_for's cost units

// Note [unseeded ops]
// seed == seed2 == 0 means no seed was given anywhere: as in TensorFlow, the node draws a nondeterministic
// key once per Session and then walks its counter like a seeded one. Keys live here, by (session, node).
// The first execution in a Session is the one whose counter range starts at 0, and it always draws a
// fresh key (the reservation happens under the same lock), so an entry left by a destroyed Session
// whose address is reused is never read. Entries are never erased: one small pair per unseeded node and
// Session address.
Philox4x32 reserve_stream(KernelCtx& c, uint64_t blocks) {
  uint64_t seed = (uint64_t)c.node.attrs.get_or<int64_t>("seed", 0);
  uint64_t seed2 = (uint64_t)c.node.attrs.get_or<int64_t>("seed2", 0);
  if (seed != 0 || seed2 != 0) return Philox4x32(seed, seed2, c.res.next_count(&c.node, blocks));
  static std::mutex mu;
  static std::map<std::pair<const Resources*, const Node*>, std::pair<uint64_t, uint64_t>> keys;
  std::lock_guard<std::mutex> l(mu);
  uint64_t start = c.res.next_count(&c.node, blocks);
  auto& key = keys[{&c.res, &c.node}];
  if (start == 0) {
    std::random_device rd;
    auto draw64 = [&rd] { return (uint64_t)rd() << 32 | rd(); };
    key.first = draw64();
    key.second = draw64();
  }
  return Philox4x32(key.first, key.second, start);
}

// Fills out[0, n) group by group; the last, partial group goes through a scratch buffer.
template <class T, class Dist>
void fill(const KernelCtx& c, const Philox4x32& gen, T* out, int64_t n, const Dist& dist) {
  constexpr int K = Dist::kGroup;
  const int64_t groups = (n + K - 1) / K;
  c.parallel_for(groups, K * (kPhiloxCost + Dist::kCost), [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g) {
      const int64_t off = g * K;
      if (off + K <= n) {
        dist(gen, g, out + off);
      } else {
        T tmp[K];
        dist(gen, g, tmp);
        std::copy(tmp, tmp + (n - off), out + off);
      }
    }
  });
}

// ---- shape arguments ----

PartialShape infer_shape_arg(InferCtx& c, int i) {
  if (!is_integer(c.dtype(i)))
    c.type_fail(std::string("The shape argument must be int32 or int64, got ") + dtype_name(c.dtype(i)));
  const PartialShape& s = c.shape(i);
  if (s.known_rank && s.rank() != 1) c.fail("The shape argument must be a vector, got shape " + s.str());
  std::vector<int64_t> v;
  if (c.const_ints(i, &v)) {
    for (int64_t d : v)
      if (d < 0) c.fail("The shape argument must not hold negative dimensions, got " + dims_str(v));
    return PartialShape(v);
  }
  if (s.known_rank && s.dims[0] >= 0) return PartialShape::unknown_of_rank((int)s.dims[0]);
  return PartialShape::unknown();
}

Dims shape_arg(const KernelCtx& c, int i) {
  const Tensor& t = c.in(i);
  if (t.rank() != 1) c.fail("The shape argument must be a vector, got " + t.summary());
  Dims d = t.to_int_vector();
  for (int64_t x : d)
    if (x < 0) c.fail("The shape argument must not hold negative dimensions, got " + dims_str(d));
  return d;
}

void random_float_shape(InferCtx& c) {
  DType dt = c.attr<DType>("dtype");
  if (!in_set(dt, kFloat))
    c.type_fail(std::string("dtype must be one of ") + dtypes_str(kFloat) + ", got " + dtype_name(dt));
  c.set_output(0, dt, infer_shape_arg(c, 0));
}

template <template <class> class Dist>
void random_float_kernel(KernelCtx& c) {
  const DType dt = c.attr<DType>("dtype");
  Tensor& out = c.alloc(0, dt, shape_arg(c, 0));
  const int64_t n = out.size();
  if (n == 0) return;
  Philox4x32 gen = reserve_stream(c, (uint64_t)n * kBlocksPerOutput);
  dispatch<kFloat>(dt, c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    fill(c, gen, out.data<T>(), n, Dist<T>{});
  });
}

// ---- distributions: each fills one group of kGroup outputs from its own block(s) ----

template <class T> struct Uniform;
template <> struct Uniform<float> {
  static constexpr int kGroup = 4, kCost = 3;
  void operator()(const Philox4x32& gen, int64_t g, float* o) const {
    Block b = gen.at(g);
    for (int i = 0; i < 4; ++i) o[i] = philox::uint32_to_float(b[i]);
  }
};
template <> struct Uniform<double> {
  static constexpr int kGroup = 2, kCost = 3;
  void operator()(const Philox4x32& gen, int64_t g, double* o) const {
    Block b = gen.at(g);
    for (int i = 0; i < 2; ++i) o[i] = philox::uint64_to_double(b[2 * i], b[2 * i + 1]);
  }
};

// float16 and bfloat16 as TensorFlow's UniformDistribution: one 32-bit sample per value, its low 10 (7)
// bits as the mantissa of a number in [1, 2), minus 1.
template <class T, uint16_t kOne, uint16_t kMantissa>
struct Uniform16 {
  static constexpr int kGroup = 4, kCost = 3;
  void operator()(const Philox4x32& gen, int64_t g, T* o) const {
    Block b = gen.at(g);
    for (int i = 0; i < 4; ++i) o[i] = T(float(T::from_raw(uint16_t(kOne | (b[i] & kMantissa)))) - 1.0f);
  }
};
template <> struct Uniform<half> : Uniform16<half, 0x3c00, 0x3ff> {};
template <> struct Uniform<bfloat16> : Uniform16<bfloat16, 0x3f80, 0x7f> {};

// float16 and bfloat16 normals are the float32 draws rounded to nearest even, as TensorFlow's.
template <class D, class T>
struct Rounded {
  static constexpr int kGroup = D::kGroup, kCost = D::kCost + 1;
  void operator()(const Philox4x32& gen, int64_t g, T* o) const {
    float f[kGroup];
    D{}(gen, g, f);
    for (int i = 0; i < kGroup; ++i) o[i] = T(f[i]);
  }
};

REGISTER_OP("RandomUniform").inputs(1).stateful().not_differentiable()
    .shape(random_float_shape).cpu(random_float_kernel<Uniform>);

template <class T> struct Normal;
template <> struct Normal<float> {
  static constexpr int kGroup = 4, kCost = 70;
  void operator()(const Philox4x32& gen, int64_t g, float* o) const {
    Block b = gen.at(g);
    for (int i = 0; i < 4; i += 2)
      philox::box_muller(philox::uint32_to_float(b[i]), philox::uint32_to_float(b[i + 1]), &o[i], &o[i + 1]);
  }
};
template <> struct Normal<double> {
  static constexpr int kGroup = 2, kCost = 70;
  void operator()(const Philox4x32& gen, int64_t g, double* o) const {
    Block b = gen.at(g);
    philox::box_muller(philox::uint64_to_double(b[0], b[1]), philox::uint64_to_double(b[2], b[3]), &o[0], &o[1]);
  }
};

template <> struct Normal<half> : Rounded<Normal<float>, half> {};
template <> struct Normal<bfloat16> : Rounded<Normal<float>, bfloat16> {};

REGISTER_OP("RandomStandardNormal").inputs(1).stateful().not_differentiable()
    .shape(random_float_shape).cpu(random_float_kernel<Normal>);

// Rejection sampling of |z| < 2 uses a variable number of samples, so group g reads a sequential stream
// from its own range, kBlocksPerOutput 32-bit samples per output (TensorFlow's layout); that many are
// never used up in practice (each normal is accepted with probability 0.95).
template <class T>
struct TruncatedNormal {
  static constexpr int kGroup = std::is_same<T, float>::value ? 4 : 2, kCost = 90;
  void operator()(const Philox4x32& gen, int64_t g, T* o) const {
    SampleStream s(gen, (uint64_t)g * kGroup * kBlocksPerOutput);
    int n = 0;
    while (true) {
      T z[2];
      if constexpr (std::is_same<T, float>::value) {
        uint32_t x0 = s(), x1 = s();
        philox::box_muller(philox::uint32_to_float(x0), philox::uint32_to_float(x1), &z[0], &z[1]);
      } else {
        uint32_t x0 = s(), x1 = s(), x2 = s(), x3 = s();
        philox::box_muller(philox::uint64_to_double(x0, x1), philox::uint64_to_double(x2, x3), &z[0], &z[1]);
      }
      for (T v : z) {
        if (std::abs(v) < T(2)) {
          o[n++] = v;
          if (n == kGroup) return;
        }
      }
    }
  }
};

template <> struct TruncatedNormal<half> : Rounded<TruncatedNormal<float>, half> {};
template <> struct TruncatedNormal<bfloat16> : Rounded<TruncatedNormal<float>, bfloat16> {};

REGISTER_OP("TruncatedNormal").inputs(1).stateful().not_differentiable()
    .shape(random_float_shape).cpu(random_float_kernel<TruncatedNormal>);

// Integers in [lo, hi) as lo + bits % (hi - lo), TensorFlow's mapping: slightly biased unless the range
// is a power of two, negligibly so for ranges far below 2^32 (2^64 for int64). The range is unsigned
// because hi - lo may overflow the signed type.
template <class T>
struct UniformInt {
  using U = std::make_unsigned_t<T>;
  static constexpr int kGroup = sizeof(T) == 4 ? 4 : 2, kCost = 3;
  T lo;
  U range;
  void operator()(const Philox4x32& gen, int64_t g, T* o) const {
    Block b = gen.at(g);
    for (int i = 0; i < kGroup; ++i) {
      U bits;
      if constexpr (sizeof(T) == 4) bits = b[i];
      else bits = (uint64_t)b[2 * i] | (uint64_t)b[2 * i + 1] << 32;
      o[i] = (T)((U)lo + bits % range);  // wraps modulo 2^bits: lo + offset always lands in [lo, hi)
    }
  }
};

// RandomUniformInt(shape, minval, maxval): the output dtype is that of the bounds.
REGISTER_OP("RandomUniformInt").inputs(3).stateful().not_differentiable()
    .shape([](InferCtx& c) {
      c.expect_same_dtype(1, 2);
      if (!is_integer(c.dtype(1)))
        c.type_fail(std::string("minval and maxval must be int32 or int64, got ") + dtype_name(c.dtype(1)));
      for (int i : {1, 2})
        if (c.shape(i).known_rank && c.shape(i).rank() != 0)
          c.fail(std::string(i == 1 ? "minval" : "maxval") + " must be a scalar, got shape " + c.shape(i).str());
      c.set_output(0, c.dtype(1), infer_shape_arg(c, 0));
    })
    .cpu([](KernelCtx& c) {
      for (int i : {1, 2})
        if (c.in(i).rank() != 0) c.fail(std::string(i == 1 ? "minval" : "maxval") + " must be 0-D, got " + c.in(i).summary());
      Tensor& out = c.alloc(0, c.in(1).dtype(), shape_arg(c, 0));
      const int64_t n = out.size();
      if (n == 0) return;  // as TensorFlow: an empty output never checks the bounds
      const int64_t lo = c.in(1).int_at(0), hi = c.in(2).int_at(0);
      if (lo >= hi) c.fail("Need minval < maxval: " + std::to_string(lo) + " >= " + std::to_string(hi));
      Philox4x32 gen = reserve_stream(c, (uint64_t)n * kBlocksPerOutput);
      if (out.dtype() == DType::Int32) {
        UniformInt<int32_t> d{(int32_t)lo, (uint32_t)hi - (uint32_t)lo};
        fill(c, gen, out.data<int32_t>(), n, d);
      } else {
        UniformInt<int64_t> d{lo, (uint64_t)hi - (uint64_t)lo};
        fill(c, gen, out.data<int64_t>(), n, d);
      }
    });

// ---- RandomShuffle ----

// Fisher-Yates in TensorFlow's order of swaps: position i (from the front) trades with a uniform pick
// from [i, n), one 32-bit sample per swap (two when n needs more than 32 bits).
template <class Swap>
void fisher_yates(KernelCtx& c, int64_t n, Swap swap) {
  const bool wide = (uint64_t)n > std::numeric_limits<uint32_t>::max();
  Philox4x32 gen = reserve_stream(c, ((uint64_t)(n - 1) * (wide ? 2 : 1) + 3) / 4);
  SampleStream s(gen, 0);
  for (int64_t i = 0; i < n - 1; ++i) {
    const uint64_t bits = wide ? (uint64_t)s() | (uint64_t)s() << 32 : (uint64_t)s();
    swap(i, i + (int64_t)(bits % (uint64_t)(n - i)));
  }
}

// A vector is shuffled in place (in the input's buffer when nobody else holds it); a higher-rank tensor
// shuffles row indices, then gathers whole rows in parallel. Both give output[i] = input[perm[i]].
void shuffle_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  if (x.rank() == 0 || x.dim(0) <= 1) {
    c.set(0, x);
    return;
  }
  const int64_t n = x.dim(0);
  if (x.rank() == 1 && x.dtype() != DType::String) {
    Tensor out = x.unique() ? std::move(c.inputs[0]) : x.deep_copy();
    dispatch<kPod>(out.dtype(), "RandomShuffle", [&](auto z) {
      using T = decltype(z);
      T* v = out.data<T>();
      fisher_yates(c, n, [v](int64_t i, int64_t j) { std::swap(v[i], v[j]); });
    });
    c.set(0, std::move(out));
    return;
  }
  std::vector<int64_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  fisher_yates(c, n, [&perm](int64_t i, int64_t j) { std::swap(perm[i], perm[j]); });
  Tensor& out = c.alloc(0, x.dtype(), x.dims());
  const int64_t row = x.size() / n;
  if (x.dtype() == DType::String) {
    const auto& src = x.string_values();
    auto& dst = out.string_values();
    for (int64_t i = 0; i < n; ++i) std::copy_n(src.begin() + perm[i] * row, row, dst.begin() + i * row);
    return;
  }
  const size_t row_bytes = (size_t)row * dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.raw());
  char* dst = static_cast<char*>(out.raw());
  c.parallel_for(n, (int64_t)row_bytes / 8 + 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) std::memcpy(dst + i * row_bytes, src + perm[i] * row_bytes, row_bytes);
  });
}

REGISTER_OP("RandomShuffle").inputs(1).stateful().not_differentiable()
    .shape(shape_unchanged).cpu(shuffle_kernel);

// ---- Multinomial ----

// Each sample takes one uniform double (two 32-bit samples); row b starts at sample 2 * b * num_samples,
// where TensorFlow's single-threaded loop starts it, so seeded results match TensorFlow's and do not
// depend on how rows are split across threads. A sample is the first class whose running sum of
// exp(logit - max) exceeds u * total; non-finite logits (-inf masks) get probability zero.
template <class T, class I>
void multinomial_rows(const KernelCtx& c, const Philox4x32& gen, const T* logits, I* out, int64_t batch,
                      int64_t classes, int64_t samples) {
  c.parallel_for(batch, classes * 20 + samples * (8 * kPhiloxCost + 20), [&](int64_t begin, int64_t end) {
    std::vector<double> cdf(classes);
    for (int64_t b = begin; b < end; ++b) {
      const T* row = logits + b * classes;
      T mx = std::numeric_limits<T>::lowest();
      for (int64_t j = 0; j < classes; ++j)
        if (std::isfinite(row[j])) mx = std::max(mx, row[j]);
      double total = 0;
      for (int64_t j = 0; j < classes; ++j) {
        if (std::isfinite(row[j])) total += std::exp((double)row[j] - (double)mx);
        cdf[j] = total;
      }
      SampleStream s(gen, 2 * (uint64_t)b * (uint64_t)samples);
      for (int64_t k = 0; k < samples; ++k) {
        uint32_t x0 = s(), x1 = s();
        const double target = philox::uint64_to_double(x0, x1) * total;
        out[b * samples + k] = (I)(std::upper_bound(cdf.begin(), cdf.end(), target) - cdf.begin());
      }
    }
  });
}

void multinomial_kernel(KernelCtx& c) {
  const Tensor& logits = c.in(0);
  if (logits.rank() != 2) c.fail("logits should be a matrix, got " + logits.summary());
  if (c.in(1).rank() != 0) c.fail("num_samples should be a scalar, got " + c.in(1).summary());
  const int64_t batch = logits.dim(0), classes = logits.dim(1), samples = c.in(1).int_at(0);
  if (samples < 0) c.fail("num_samples should be nonnegative, got " + std::to_string(samples));
  if (classes == 0 && batch > 0 && samples > 0) c.fail("num_classes should be positive, got 0");
  const DType out_dt = c.node.attrs.get_or<DType>("output_dtype", DType::Int64);
  Tensor& out = c.alloc(0, out_dt, {batch, samples});
  if (out.size() == 0) return;
  const uint64_t samples_ceil4 = ((uint64_t)samples + 3) / 4 * 4;  // TensorFlow's reservation
  Philox4x32 gen = reserve_stream(c, (uint64_t)batch * samples_ceil4 * 2 * kBlocksPerOutput);
  dispatch_float(logits.dtype(), "Multinomial", [&](auto z) {
    using T = decltype(z);
    if (out_dt == DType::Int32)
      multinomial_rows(c, gen, logits.data<T>(), out.data<int32_t>(), batch, classes, samples);
    else
      multinomial_rows(c, gen, logits.data<T>(), out.data<int64_t>(), batch, classes, samples);
  });
}

// Multinomial(logits [batch, classes], num_samples): class indices drawn from softmax(logits) per row.
REGISTER_OP("Multinomial").inputs(2).stateful().not_differentiable()
    .shape([](InferCtx& c) {
      if (!is_floating(c.dtype(0))) c.type_fail(std::string("logits must be float32 or float64, got ") + dtype_name(c.dtype(0)));
      if (c.dtype(1) != DType::Int32) c.type_fail(std::string("num_samples must be int32, got ") + dtype_name(c.dtype(1)));
      const PartialShape& s = c.shape(0);
      if (s.known_rank && s.rank() != 2) c.fail("logits should be a matrix, got shape " + s.str());
      if (c.shape(1).known_rank && c.shape(1).rank() != 0) c.fail("num_samples should be a scalar, got shape " + c.shape(1).str());
      DType out = c.node.attrs.get_or<DType>("output_dtype", DType::Int64);
      if (!is_integer(out)) c.type_fail(std::string("output_dtype must be int32 or int64, got ") + dtype_name(out));
      std::vector<int64_t> k;
      int64_t samples = c.const_ints(1, &k) ? k[0] : -1;
      c.set_output(0, out, PartialShape(Dims{s.known_rank ? s.dims[0] : -1, samples}));
    })
    .cpu(multinomial_kernel);

}  // namespace
}  // namespace tideflow
