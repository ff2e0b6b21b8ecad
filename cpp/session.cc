#include "session.h"

#include <algorithm>

#include "executor.h"
#include "op_registry.h"
#include "plan.h"
#include "threadpool.h"

namespace tideflow {

VarSlot& SessionState::var(const Node* n) {
  std::lock_guard<std::mutex> l(mu_);
  auto& slot = vars_[n];
  if (!slot) slot = std::make_unique<VarSlot>();
  return *slot;
}

uint64_t SessionState::next_count(const Node* n, uint64_t count) {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t& c = rng_[n];
  uint64_t start = c;
  c += count;
  return start;
}

std::vector<std::pair<const Node*, Tensor>> SessionState::variables() {
  std::vector<std::pair<const Node*, Tensor>> out;
  std::lock_guard<std::mutex> l(mu_);
  for (auto& kv : vars_) out.emplace_back(kv.first, kv.second->read());
  return out;
}

Session::Session(std::shared_ptr<Graph> graph, SessionOptions opts) : graph_(std::move(graph)), opts_(opts) {
  int cap = opts.intra_op_threads > 0 ? opts.intra_op_threads : opts.inter_op_threads;
  if (cap > 0 || thread_cap() != default_thread_cap()) set_thread_cap(cap);
}

Session::~Session() = default;

void Session::close() {
  closed_ = true;
  std::lock_guard<std::mutex> l(cache_mu_);
  cache_.clear();
}

static void append_key(std::string& k, const Output& o) {
  int64_t v = ((int64_t)o.node->id << 16) | o.index;
  k.append(reinterpret_cast<const char*>(&v), sizeof v);
}

std::shared_ptr<const Plan> Session::prepare(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                                             const std::vector<Node*>& targets) {
  if (closed_) throw Error(ErrorCode::Cancelled, "Attempted to use a closed Session.");
  std::string k;
  k.reserve(8 * (feeds.size() + fetches.size() + targets.size() + 2));
  for (auto& f : feeds) append_key(k, f);
  k.push_back('|');
  for (auto& f : fetches) append_key(k, f);
  k.push_back('|');
  for (Node* t : targets) append_key(k, Output{t, 0});
  {
    std::lock_guard<std::mutex> l(cache_mu_);
    auto it = cache_.find(k);
    if (it != cache_.end()) return it->second;
  }
  std::shared_ptr<const Plan> plan;
  {
    std::lock_guard<std::mutex> gl(graph_->mutex());  // the graph may be growing on another thread
    plan = std::make_shared<const Plan>(build_plan(*graph_, feeds, fetches, targets));
  }
  std::lock_guard<std::mutex> l(cache_mu_);
  return cache_.emplace(std::move(k), plan).first->second;
}

// Note [uninitialized variables]
// A Variable kernel fails on the first uninitialized read; the error then names every variable of the
// plan that is still uninitialized, so the user fixes them all at once.
static std::string uninitialized_in(const Plan& plan, SessionState& st) {
  std::string names;
  std::vector<const Node*> seen;
  for (const Node* v : plan.variables_read) {
    if (std::find(seen.begin(), seen.end(), v) != seen.end()) continue;
    seen.push_back(v);
    if (!st.var(v).read().valid()) names += (names.empty() ? "" : ", ") + v->name;
  }
  return names;
}

std::vector<Tensor> Session::run(const Plan& plan, std::vector<Tensor> feed_values) {
  if (closed_) throw Error(ErrorCode::Cancelled, "Attempted to use a closed Session.");
  if (feed_values.size() != plan.feed_slots.size()) throw invalid_argument("wrong number of feed values");
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
  auto plan = prepare(feeds, fetches, targets);
  return run(*plan, std::move(feed_values));
}

}  // namespace tideflow
