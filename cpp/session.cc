#include "session.h"

#include <algorithm>

#include "executor.h"
#include "op_registry.h"
#include "plan.h"
#include "threadpool.h"

namespace tideflow {

Session::Session(std::shared_ptr<Graph> graph, SessionOptions opts) : graph_(std::move(graph)), opts_(opts) {
  int cap = opts.intra_op_threads > 0 ? opts.intra_op_threads : opts.inter_op_threads;
  if (cap > 0 || thread_cap() != default_thread_cap()) set_thread_cap(cap);
}

Session::~Session() = default;

void Session::close() {
  closed_ = true;
  std::lock_guard<std::mutex> l(cache_mu_);
  cache_.clear();
  lru_.clear();
}

static void append_key(std::string& k, const Output& o) {
  int64_t v = ((int64_t)o.node->id << 16) | o.index;
  k.append(reinterpret_cast<const char*>(&v), sizeof v);
}

static bool output_less(const Output& a, const Output& b) {
  return a.node->id != b.node->id ? a.node->id < b.node->id : a.index < b.index;
}

// Sorts and deduplicates `v`; pos[i] becomes the canonical position of the caller's element i.
template <class T, class Less>
static std::vector<T> canonical(const std::vector<T>& v, Less less, std::vector<int>* pos) {
  std::vector<T> c = v;
  std::sort(c.begin(), c.end(), less);
  c.erase(std::unique(c.begin(), c.end(), [&](const T& a, const T& b) { return !less(a, b) && !less(b, a); }),
          c.end());
  if (pos) {
    pos->resize(v.size());
    for (size_t i = 0; i < v.size(); ++i)
      (*pos)[i] = (int)(std::lower_bound(c.begin(), c.end(), v[i], less) - c.begin());
  }
  return c;
}

Prepared Session::prepare(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                          const std::vector<Node*>& targets) {
  if (closed_) throw Error(ErrorCode::Cancelled, "Attempted to use a closed Session.");
  Prepared p;
  std::vector<Output> cfeeds = canonical(feeds, output_less, &p.feed_pos);
  if (cfeeds.size() != feeds.size())
    for (size_t i = 1; i < feeds.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (feeds[i] == feeds[j])
          throw invalid_argument("tensor '" + feeds[i].node->name + ":" + std::to_string(feeds[i].index) +
                                 "' is fed twice");
  p.fetches = canonical(fetches, output_less, &p.fetch_pos);
  p.targets = canonical(targets, [](Node* a, Node* b) { return a->id < b->id; }, nullptr);
  p.feeds = std::move(cfeeds);
  p.edge_version = graph_->edge_version();  // before the plan: a change meanwhile makes p stale, never wrong
  p.plan = cached_plan(p.feeds, p.fetches, p.targets);
  return p;
}

std::shared_ptr<const Plan> Session::cached_plan(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                                                 const std::vector<Node*>& targets) {
  std::string k;
  k.reserve(8 * (feeds.size() + fetches.size() + targets.size() + 2));
  for (auto& f : feeds) append_key(k, f);
  k.push_back('|');
  for (auto& f : fetches) append_key(k, f);
  k.push_back('|');
  for (Node* t : targets) append_key(k, Output{t, 0});
  const uint64_t version = graph_->edge_version();
  {
    std::lock_guard<std::mutex> l(cache_mu_);
    if (version != cache_edge_version_) {
      cache_.clear();
      lru_.clear();
      cache_edge_version_ = version;
    }
    auto it = cache_.find(k);
    if (it != cache_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  std::shared_ptr<const Plan> plan;
  {
    std::lock_guard<std::mutex> gl(graph_->mutex());  // the graph may be growing on another thread
    plan = std::make_shared<const Plan>(build_plan(*graph_, feeds, fetches, targets));
  }
  std::lock_guard<std::mutex> l(cache_mu_);
  if (graph_->edge_version() != version || opts_.plan_cache_capacity == 0) return plan;  // stale or uncached
  auto it = cache_.find(k);
  if (it != cache_.end()) return it->second->second;  // another thread built it meanwhile
  lru_.emplace_front(std::move(k), plan);
  cache_.emplace(lru_.front().first, lru_.begin());
  while (lru_.size() > opts_.plan_cache_capacity) {
    cache_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return plan;
}

size_t Session::cached_plans() {
  std::lock_guard<std::mutex> l(cache_mu_);
  return lru_.size();
}

// Note [uninitialized variables]
// A Variable kernel fails on the first uninitialized read; the error then names every variable of the
// plan that is still uninitialized, so the user fixes them all at once.
static std::string uninitialized_in(const Plan& plan, Resources& st) {
  std::string names;
  std::vector<const Node*> seen;
  for (const Node* v : plan.variables_read) {
    if (std::find(seen.begin(), seen.end(), v) != seen.end()) continue;
    seen.push_back(v);
    if (!st.var(v).read().valid()) names += (names.empty() ? "" : ", ") + v->name;
  }
  return names;
}

std::vector<Tensor> Session::run(const Prepared& p, std::vector<Tensor> feed_values) {
  if (closed_) throw Error(ErrorCode::Cancelled, "Attempted to use a closed Session.");
  if (feed_values.size() != p.feed_pos.size()) throw invalid_argument("wrong number of feed values");
  const Plan* plan = p.plan.get();
  std::shared_ptr<const Plan> replanned;
  if (graph_->edge_version() != p.edge_version) plan = (replanned = cached_plan(p.feeds, p.fetches, p.targets)).get();
  std::vector<Tensor> feeds(plan->feed_slots.size());
  for (size_t i = 0; i < feed_values.size(); ++i) feeds[p.feed_pos[i]] = std::move(feed_values[i]);
  std::vector<Tensor> out = run_plan(*plan, std::move(feeds));
  std::vector<Tensor> res(p.fetch_pos.size());
  for (size_t i = 0; i < res.size(); ++i) res[i] = out[p.fetch_pos[i]];
  return res;
}

std::vector<Tensor> Session::run_traced(const Prepared& p, std::vector<Tensor> feed_values,
                                       std::vector<NodeStat>* stats) {
  bool off = false;
  if (!state_.tracing.compare_exchange_strong(off, true)) return run(p, std::move(feed_values));
  {
    std::lock_guard<std::mutex> l(state_.trace.mu);
    state_.trace.stats.clear();  // what other runs recorded after the last traced one ended
  }
  struct Untrace {
    std::atomic<bool>& flag;
    ~Untrace() { flag.store(false); }
  } untrace{state_.tracing};
  std::vector<Tensor> out = run(p, std::move(feed_values));
  std::lock_guard<std::mutex> l(state_.trace.mu);
  *stats = std::move(state_.trace.stats);
  state_.trace.stats.clear();
  return out;
}

std::vector<Tensor> Session::run_plan(const Plan& plan, std::vector<Tensor> feed_values) {
  for (size_t i = 0; i < feed_values.size(); ++i) {
    const Output& f = plan.feeds[i];
    const Tensor& v = feed_values[i];
    if (v.dtype() != f.dtype())
      throw invalid_argument("Cannot feed value of dtype " + std::string(dtype_name(v.dtype())) + " for Tensor '" +
                             f.node->name + ":" + std::to_string(f.index) + "', which has dtype " + dtype_name(f.dtype()));
    if (!f.shape().compatible_with(v.dims()))
      throw Error(ErrorCode::ValueError, "Cannot feed value of shape " + PartialShape(v.dims()).str() + " for Tensor '" +
                                             f.node->name + ":" + std::to_string(f.index) + "', which has shape " +
                                             f.shape().str());
  }
  int threads = thread_cap();
  try {
    return execute(plan, std::move(feed_values), state_, threads, opts_.inter_op_threads != 1);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::FailedPrecondition) throw;
    std::string names = uninitialized_in(plan, state_);
    if (names.empty()) throw;
    throw Error(ErrorCode::FailedPrecondition,
                std::string(e.what()) + "\nUninitialized variables in this run: " + names +
                    ". Run tf.global_variables_initializer() (or each variable's initializer) first.");
  }
}

std::vector<Tensor> Session::run(const std::vector<Output>& feeds, std::vector<Tensor> feed_values,
                                 const std::vector<Output>& fetches, const std::vector<Node*>& targets) {
  return run(prepare(feeds, fetches, targets), std::move(feed_values));
}

}  // namespace tideflow
