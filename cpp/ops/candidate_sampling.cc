// The candidate sampler family (tf.nn.*_candidate_sampler, the negatives of nce_loss and
// sampled_softmax_loss): UniformCandidateSampler, LogUniformCandidateSampler,
// LearnedUnigramCandidateSampler, FixedUnigramCandidateSampler, AllCandidateSampler, and
// ComputeAccidentalHits.
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "op_registry.h"
#include "kernels/philox.h"
#include "resources.h"

namespace tideflow {
namespace {

using philox::Philox4x32;
using philox::SampleStream;

// Note [candidate samplers]
// Each run draws one set of num_sampled candidates for the whole batch, from TensorFlow's samplers with
// TensorFlow's arithmetic, so a seeded sampler returns TensorFlow's numbers: a run reserves 2048 32-bit
// samples per candidate (512 Philox blocks; rejection may read past them, as TF's does) from the node's
// stream (Note [random streams] in ops/random.cc: key = seed, counter = seed2 << 64 | position), and
// reads them one at a time like TF's SimplePhilox. unique=true rejects repeats; then the expected count
// of a candidate of probability p after `tries` draws is 1 - (1 - p)^tries (TF's approximation), else it
// is p * num_sampled. Uniform and log-uniform samplers are pure functions of the range; the learned
// unigram sampler counts the true classes it has seen, one count per Session (starting at 1 for every
// class), updated after each run's draw; the fixed unigram one builds Walker's alias table once per
// Session from `unigrams` or `vocab_file`. A unique draw that cannot finish (more candidates asked than
// classes of nonzero probability) fails instead of looping.

// TF's SimplePhilox over a reserved stream.
class Rng {
 public:
  explicit Rng(const Philox4x32& gen) : gen_(gen), s_(gen_, 0) {}
  uint32_t rand32() { return s_(); }
  uint64_t rand64() {
    const uint32_t lo = s_(), hi = s_();
    return lo | (uint64_t)hi << 32;
  }
  float rand_float() { return philox::uint32_to_float(s_()); }
  double rand_double() {
    const uint32_t x0 = s_(), x1 = s_();
    return philox::uint64_to_double(x0, x1);
  }
  // Exact uniform integers in [0, n) by rejection (TF's ExactUniformInt).
  template <class U, class Draw>
  static U exact_uniform(U n, Draw draw) {
    if (n == 0) return draw() * n;
    if ((n & (n - 1)) == 0) return draw() & (n - 1);
    const U rem = (std::numeric_limits<U>::max() % n) + 1;
    U r;
    do r = draw(); while (r < rem);
    return r % n;
  }
  uint32_t uniform(uint32_t n) { return exact_uniform<uint32_t>(n, [this] { return rand32(); }); }
  uint64_t uniform64(uint64_t n) { return exact_uniform<uint64_t>(n, [this] { return rand64(); }); }

 private:
  Philox4x32 gen_;
  SampleStream s_;
};

struct Sampler {
  int64_t range = 0;
  virtual ~Sampler() = default;
  virtual int64_t sample(Rng& r) const = 0;
  virtual float probability(int64_t v) const = 0;
  virtual int64_t support() const { return range; }  // classes of nonzero probability
  virtual void update(const int64_t*, int64_t) {}
};

struct UniformSampler : Sampler {
  float inv_range;
  explicit UniformSampler(int64_t r) : inv_range((float)(1.0 / (double)r)) { range = r; }
  int64_t sample(Rng& r) const override { return (int64_t)r.uniform64((uint64_t)range); }
  float probability(int64_t) const override { return inv_range; }
};

struct LogUniformSampler : Sampler {
  double log_range;
  explicit LogUniformSampler(int64_t r) : log_range(std::log1p((double)r)) { range = r; }
  int64_t sample(Rng& r) const override {
    const int64_t v = (int64_t)std::exp(r.rand_double() * log_range) - 1;
    return v % range;  // rounding could reach `range`, never in practice
  }
  float probability(int64_t v) const override { return (float)(std::log((v + 2.0) / (v + 1.0)) / log_range); }
};

// Counts of the classes seen, as a Fenwick tree: picking the class whose cumulative range holds a uniform
// draw in [0, total) is TF's WeightedPicker walk, in O(log n).
struct LearnedUnigramSampler : Sampler {
  std::vector<int32_t> tree;  // 1-based Fenwick sums
  std::vector<int32_t> weight;
  int32_t total = 0;
  int high_bit = 1;
  explicit LearnedUnigramSampler(int64_t r) : tree(r + 1, 0), weight(r, 1), total((int32_t)r) {
    range = r;
    for (int64_t i = 1; i <= r; ++i) {
      tree[i] += 1;
      const int64_t j = i + (i & -i);
      if (j <= r) tree[j] += tree[i];
    }
    while ((int64_t)high_bit * 2 <= r) high_bit *= 2;
  }
  int64_t pick(int32_t target) const {  // smallest class c with prefix_sum(c) > target
    int64_t pos = 0;
    for (int64_t step = high_bit; step > 0; step >>= 1)
      if (pos + step <= range && tree[pos + step] <= target) {
        pos += step;
        target -= tree[pos];
      }
    return pos;
  }
  int64_t sample(Rng& r) const override { return pick((int32_t)r.uniform((uint32_t)total)); }
  float probability(int64_t v) const override { return (float)weight[v] / total; }
  void update(const int64_t* values, int64_t n) override {
    const int64_t room = std::numeric_limits<int32_t>::max() - (int64_t)total;
    n = std::min(n, room);
    for (int64_t i = 0; i < n; ++i) {
      ++weight[values[i]];
      ++total;
      for (int64_t j = values[i] + 1; j <= range; j += j & -j) ++tree[j];
    }
  }
};

// Walker's alias method with TF's table construction (DistributionSampler), so draws match TF's.
struct FixedUnigramSampler : Sampler {
  std::vector<float> weights;
  float total_weight = 0;
  std::vector<float> prob;
  std::vector<int> alt;
  int64_t nonzero = 0;
  int64_t sample(Rng& r) const override {
    const float u = r.rand_float();
    const int idx = (int)r.uniform((uint32_t)prob.size());
    return u < prob[idx] ? idx : alt[idx];
  }
  float probability(int64_t v) const override {
    return v < 0 || v >= (int64_t)weights.size() ? 0.0f : weights[v] / total_weight;
  }
  int64_t support() const override { return nonzero; }
  void build_table() {
    const int n = (int)weights.size();
    prob.assign(n, 0.0f);
    alt.assign(n, -1);
    std::vector<double> pr(n);
    double sum = 0.0;
    for (float w : weights) sum += w;
    std::vector<int> high, low;
    for (int i = 0; i < n; ++i) {
      pr[i] = (weights[i] * n) / sum;
      (pr[i] < 1.0 ? low : high).push_back(i);
      if (weights[i] > 0) ++nonzero;
    }
    while (!high.empty() && !low.empty()) {
      const int l = low.back(), h = high.back();
      low.pop_back();
      high.pop_back();
      alt[l] = h;
      pr[h] -= 1.0 - pr[l];
      (pr[h] < 1.0 ? low : high).push_back(h);
    }
    for (int i = 0; i < n; ++i) prob[i] = (float)pr[i];
    for (int i : high) { prob[i] = 1.0f; alt[i] = i; }
    for (int i : low) { prob[i] = 1.0f; alt[i] = i; }
  }
};

float expected_count(float p, int batch_size, int64_t tries) {
  if (tries == batch_size) return p * batch_size;
  return -std::expm1((float)tries * std::log1p(-p));
}

// ---- shape functions ----

int64_t positive_attr(InferCtx& c, const char* name, int64_t lowest) {
  const int64_t v = c.attr<int64_t>(name);
  if (v < lowest)
    c.fail(std::string("Value for attr '") + name + "' of " + std::to_string(v) +
           " must be at least minimum " + std::to_string(lowest));
  return v;
}

void check_true_classes(InferCtx& c, int64_t num_true) {
  if (c.dtype(0) != DType::Int64)
    c.type_fail(std::string("true_classes must be int64, got ") + dtype_name(c.dtype(0)));
  const PartialShape& s = c.shape(0);
  if (s.known_rank && s.rank() != 2) c.fail("Shape must be rank 2 but is rank " + std::to_string(s.rank()) +
                                            " for true_classes " + s.str());
  if (s.known_rank && s.dims[1] >= 0 && s.dims[1] != num_true)
    c.fail("true_classes must have num_true columns, expected: " + std::to_string(s.dims[1]) +
           " was: " + std::to_string(num_true));
}

void sampler_shape(InferCtx& c) {
  const int64_t num_true = positive_attr(c, "num_true", 1);
  const int64_t num_sampled = positive_attr(c, "num_sampled", 1);
  if (c.node.type() != "AllCandidateSampler") {
    const int64_t range = positive_attr(c, "range_max", 1);
    if ((c.node.type() == "LearnedUnigramCandidateSampler" || c.node.type() == "FixedUnigramCandidateSampler") &&
        range >= std::numeric_limits<int32_t>::max())
      c.fail("range_max must be less than " + std::to_string(std::numeric_limits<int32_t>::max()) +
             " for unigram samplers, got " + std::to_string(range));
  }
  if (c.node.type() == "FixedUnigramCandidateSampler") {
    const int64_t shards = positive_attr(c, "num_shards", 1), shard = positive_attr(c, "shard", 0);
    positive_attr(c, "num_reserved_ids", 0);
    if (shard >= shards) c.fail("shard " + std::to_string(shard) + " must be less than num_shards " +
                                std::to_string(shards));
    const bool file = !c.node.attrs.get_or<std::string>("vocab_file", "").empty();
    const bool grams = c.node.attrs.has("unigrams") && !c.attr<std::vector<double>>("unigrams").empty();
    if (!file && !grams) c.fail("Must provide either vocab_file or unigrams.");
    if (file && grams) c.fail("Must only provide one of vocab_file and unigrams.");
  }
  check_true_classes(c, num_true);
  const PartialShape& s = c.shape(0);
  const int64_t batch = s.known_rank ? s.dims[0] : -1;
  c.set_output(0, DType::Int64, PartialShape(Dims{num_sampled}));
  c.set_output(1, DType::Float32, PartialShape(Dims{batch, num_true}));
  c.set_output(2, DType::Float32, PartialShape(Dims{num_sampled}));
}

// ---- kernels ----

// What a sampler node keeps for one Session: the sampler when it has state or a table, the key of an
// unseeded node, and the lock that orders runs touching them.
struct SamplerState {
  std::mutex mu;
  std::unique_ptr<Sampler> sampler;
  bool keyed = false;
  uint64_t key = 0, key2 = 0;
};

std::unique_ptr<Sampler> load_fixed_unigram(const KernelCtx& c, int64_t range) {
  auto s = std::make_unique<FixedUnigramSampler>();
  s->range = range;
  const int64_t shards = c.attr<int64_t>("num_shards"), shard = c.attr<int64_t>("shard");
  const float distortion = (float)c.node.attrs.get_or<double>("distortion", 1.0);
  for (int64_t id = 0; id < c.node.attrs.get_or<int64_t>("num_reserved_ids", 0); ++id)
    if (id % shards == shard) s->weights.push_back(0.0f);
  int64_t id = (int64_t)s->weights.size();
  auto add = [&](float w) {
    if (id % shards == shard) {
      if (!(w >= 0) || !std::isfinite(w)) c.fail("unigram weights must be finite and nonnegative, got " +
                                                 std::to_string(w) + " for id " + std::to_string(id));
      w = std::pow(w, distortion);
      s->total_weight += w;
      s->weights.push_back(w);
    }
    ++id;
  };
  const std::string file = c.node.attrs.get_or<std::string>("vocab_file", "");
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in)
      throw Error(ErrorCode::NotFound, file + "; No such file or directory\n\t [[node " + c.node.describe() + "]]");
    std::string line;
    while (std::getline(in, line)) {
      // CSV-like: the last field is the weight.
      const std::string field = line.substr(line.rfind(',') == std::string::npos ? 0 : line.rfind(',') + 1);
      char* end = nullptr;
      const float w = std::strtof(field.c_str(), &end);
      while (end && *end && std::isspace((unsigned char)*end)) ++end;
      if (field.empty() || end == field.c_str() || *end) c.fail("Wrong vocabulary format at line: " + line);
      add(w);
    }
  } else {
    for (double w : c.attr<std::vector<double>>("unigrams")) add((float)w);
  }
  if ((int64_t)s->weights.size() != range)
    c.fail("range is " + std::to_string(range) + " must be equal to weights size  " +
           std::to_string(s->weights.size()));
  if (!(s->total_weight > 0)) c.fail("the unigram weights sum to zero");
  s->build_table();
  return s;
}

void sampler_kernel(KernelCtx& c) {
  const std::string& type = c.node.type();
  const int64_t num_true = c.attr<int64_t>("num_true");
  const int64_t num_sampled = c.attr<int64_t>("num_sampled");
  const bool unique = c.attr<bool>("unique");
  const Tensor& tc = c.in(0);
  if (tc.rank() != 2) c.fail("true_classes must be a matrix");
  if (tc.dim(1) != num_true)
    c.fail("true_classes must have num_true columns, expected: " + std::to_string(tc.dim(1)) +
           " was: " + std::to_string(num_true));
  const int64_t batch = tc.dim(0);
  auto state = std::static_pointer_cast<SamplerState>(
      c.res.node_cache(&c.node, [] { return std::make_shared<SamplerState>(); }));
  std::lock_guard<std::mutex> lock(state->mu);
  std::unique_ptr<Sampler> temp;
  Sampler* sampler = state->sampler.get();
  if (!sampler) {
    const int64_t range = type == "AllCandidateSampler" ? num_sampled : c.attr<int64_t>("range_max");
    if (type == "LearnedUnigramCandidateSampler") {
      if ((uint64_t)range * 2 * sizeof(int32_t) > allocation_cap())  // its counts, like a tensor, within the cap
        throw Error(ErrorCode::ResourceExhausted,
                    "OOM: the learned unigram sampler of range_max " + std::to_string(range) + " needs " +
                    std::to_string((uint64_t)range * 8) + " bytes, over the allocation cap\n\t [[node " +
                    c.node.describe() + "]]");
      state->sampler = std::make_unique<LearnedUnigramSampler>(range);
    } else if (type == "FixedUnigramCandidateSampler") {
      state->sampler = load_fixed_unigram(c, range);
    } else if (type == "LogUniformCandidateSampler") {
      state->sampler = std::make_unique<LogUniformSampler>(range);
    } else {
      state->sampler = std::make_unique<UniformSampler>(range);  // AllCandidateSampler reads only its range
    }
    sampler = state->sampler.get();
  }
  const int64_t* truth = tc.data<int64_t>();
  for (int64_t i = 0; i < tc.size(); ++i)
    if (truth[i] < 0 || truth[i] >= sampler->range)
      c.fail("`true_candidate` out of range [0, " + std::to_string(sampler->range) + "), received " +
             std::to_string(truth[i]));
  if (unique && num_sampled > sampler->range) c.fail("Sampler's range is too small.");
  int64_t* out = c.alloc(0, DType::Int64, {num_sampled}).data<int64_t>();
  float* true_count = c.alloc(1, DType::Float32, {batch, num_true}).data<float>();
  float* sampled_count = c.alloc(2, DType::Float32, {num_sampled}).data<float>();

  if (type == "AllCandidateSampler") {
    for (int64_t i = 0; i < num_sampled; ++i) out[i] = i, sampled_count[i] = 1;
    std::fill(true_count, true_count + tc.size(), 1.0f);
    return;
  }
  if (unique && num_sampled > sampler->support())
    c.fail("cannot draw " + std::to_string(num_sampled) + " unique candidates: only " +
           std::to_string(sampler->support()) + " classes have nonzero probability");
  const uint64_t seed = (uint64_t)c.node.attrs.get_or<int64_t>("seed", 0);
  const uint64_t seed2 = (uint64_t)c.node.attrs.get_or<int64_t>("seed2", 0);
  uint64_t key = seed, key2 = seed2;
  if (seed == 0 && seed2 == 0) {  // no seed anywhere: a random key per Session, as TF's New64 pair
    if (!state->keyed) {
      std::random_device rd;
      state->key = (uint64_t)rd() << 32 | rd();
      state->key2 = (uint64_t)rd() << 32 | rd();
      state->keyed = true;
    }
    key = state->key, key2 = state->key2;
  }
  Rng rng(Philox4x32(key, key2, c.res.next_count(&c.node, 512 * (uint64_t)num_sampled)));
  int64_t tries = num_sampled;
  if (unique) {
    std::unordered_set<int64_t> used;
    int64_t picked = 0;
    tries = 0;
    while (picked < num_sampled) {
      ++tries;
      const int64_t v = sampler->sample(rng);
      if (used.insert(v).second) out[picked++] = v;
    }
  } else {
    for (int64_t i = 0; i < num_sampled; ++i) out[i] = sampler->sample(rng);
  }
  for (int64_t i = 0; i < num_sampled; ++i)
    sampled_count[i] = expected_count(sampler->probability(out[i]), (int)num_sampled, tries);
  for (int64_t i = 0; i < tc.size(); ++i)
    true_count[i] = expected_count(sampler->probability(truth[i]), (int)num_sampled, tries);
  sampler->update(truth, tc.size());
}

// (sampled_candidates [num_sampled], true_expected_count [batch, num_true], sampled_expected_count
// [num_sampled]) = XCandidateSampler(true_classes int64 [batch, num_true]); attrs num_true, num_sampled,
// unique, range_max, seed, seed2 (Note [candidate samplers]).
REGISTER_OP("UniformCandidateSampler").inputs(1).stateful().not_differentiable()
    .shape(sampler_shape).cpu(sampler_kernel);
REGISTER_OP("LogUniformCandidateSampler").inputs(1).stateful().not_differentiable()
    .shape(sampler_shape).cpu(sampler_kernel);
REGISTER_OP("LearnedUnigramCandidateSampler").inputs(1).stateful().not_differentiable()
    .shape(sampler_shape).cpu(sampler_kernel);
// + vocab_file, distortion, num_reserved_ids, num_shards, shard, unigrams
REGISTER_OP("FixedUnigramCandidateSampler").inputs(1).stateful().not_differentiable()
    .shape(sampler_shape).cpu(sampler_kernel);
// The classes 0..num_sampled-1, each expected once (no range_max).
REGISTER_OP("AllCandidateSampler").inputs(1).stateful().not_differentiable()
    .shape(sampler_shape).cpu(sampler_kernel);

// ---- ComputeAccidentalHits ----

// (indices int32, ids int64, weights float32), one entry per (row i, sampled position j) where row i's
// true classes hold sampled_candidates[j] (the last position of a repeated candidate); weights are
// -FLT_MAX, added to those logits so a true class sampled as a negative drops out of the softmax.
REGISTER_OP("ComputeAccidentalHits").inputs(2).not_differentiable()
    .shape([](InferCtx& c) {
      const int64_t num_true = positive_attr(c, "num_true", 1);
      check_true_classes(c, num_true);
      if (c.dtype(1) != DType::Int64)
        c.type_fail(std::string("sampled_candidates must be int64, got ") + dtype_name(c.dtype(1)));
      if (c.shape(1).known_rank && c.shape(1).rank() != 1)
        c.fail("Shape must be rank 1 but is rank " + std::to_string(c.shape(1).rank()) + " for sampled_candidates");
      c.set_output(0, DType::Int32, PartialShape(Dims{-1}));
      c.set_output(1, DType::Int64, PartialShape(Dims{-1}));
      c.set_output(2, DType::Float32, PartialShape(Dims{-1}));
    })
    .cpu([](KernelCtx& c) {
      const int64_t num_true = c.attr<int64_t>("num_true");
      const Tensor& tc = c.in(0);
      const Tensor& sc = c.in(1);
      if (tc.rank() != 2 || tc.dim(1) != num_true) c.fail("true_candidates must be a batch_size * num_true matrix");
      if (sc.rank() != 1)
        c.fail("sampled_candidates must be a vector, which is typically an output from CandidateSampler");
      if (tc.dim(0) > std::numeric_limits<int32_t>::max()) c.fail("batch_size does not fit the int32 indices");
      std::unordered_map<int64_t, int64_t> pos;
      const int64_t* s = sc.data<int64_t>();
      for (int64_t j = 0; j < sc.size(); ++j) pos[s[j]] = j;
      std::vector<int32_t> rows;
      std::vector<int64_t> ids;
      const int64_t* t = tc.data<int64_t>();
      for (int64_t i = 0; i < tc.dim(0); ++i)
        for (int64_t k = 0; k < num_true; ++k) {
          auto it = pos.find(t[i * num_true + k]);
          if (it != pos.end()) {
            rows.push_back((int32_t)i);
            ids.push_back(it->second);
          }
        }
      const int64_t n = (int64_t)rows.size();
      std::copy(rows.begin(), rows.end(), c.alloc(0, DType::Int32, {n}).data<int32_t>());
      std::copy(ids.begin(), ids.end(), c.alloc(1, DType::Int64, {n}).data<int64_t>());
      float* w = c.alloc(2, DType::Float32, {n}).data<float>();
      std::fill(w, w + n, -FLT_MAX);
    });

}  // namespace
}  // namespace tideflow
