#include "resources.h"

namespace tideflow {

VarSlot& Resources::var(const Node* n) {
  std::lock_guard<std::mutex> l(mu_);
  auto& slot = vars_[n];
  if (!slot) slot = std::make_shared<VarSlot>();
  return *slot;
}

uint64_t Resources::next_count(const Node* n, uint64_t count) {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t& c = rng_[n];
  uint64_t start = c;
  c += count;
  return start;
}

std::shared_ptr<void> Resources::node_cache(const Node* n, const std::function<std::shared_ptr<void>()>& make) {
  std::lock_guard<std::mutex> l(mu_);
  auto& slot = node_cache_[n];
  if (!slot) slot = make();
  return slot;
}

void Resources::bind(const Node* n, std::shared_ptr<VarSlot> slot) {
  std::lock_guard<std::mutex> l(mu_);
  vars_[n] = std::move(slot);
}

void Resources::erase(const Node* n) {
  std::shared_ptr<VarSlot> var;  // released after the lock: a cached object's destructor may be long
  std::shared_ptr<void> cached;
  std::lock_guard<std::mutex> l(mu_);
  auto v = vars_.find(n);
  if (v != vars_.end()) {
    var = std::move(v->second);
    vars_.erase(v);
  }
  rng_.erase(n);
  auto c = node_cache_.find(n);
  if (c != node_cache_.end()) {
    cached = std::move(c->second);
    node_cache_.erase(c);
  }
}

std::vector<std::pair<const Node*, Tensor>> Resources::variables() {
  std::vector<std::pair<const Node*, Tensor>> out;
  std::lock_guard<std::mutex> l(mu_);
  for (auto& kv : vars_) out.emplace_back(kv.first, kv.second->read());
  return out;
}

}  // namespace tideflow
