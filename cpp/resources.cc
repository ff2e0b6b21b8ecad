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

void Resources::bind(const Node* n, std::shared_ptr<VarSlot> slot) {
  std::lock_guard<std::mutex> l(mu_);
  vars_[n] = std::move(slot);
}

void Resources::erase(const Node* n) {
  std::lock_guard<std::mutex> l(mu_);
  vars_.erase(n);
  rng_.erase(n);
}

std::vector<std::pair<const Node*, Tensor>> Resources::variables() {
  std::vector<std::pair<const Node*, Tensor>> out;
  std::lock_guard<std::mutex> l(mu_);
  for (auto& kv : vars_) out.emplace_back(kv.first, kv.second->read());
  return out;
}

}  // namespace tideflow
