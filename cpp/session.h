#pragma once
#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph.h"
#include "resources.h"

namespace tideflow {

struct Plan;

struct TF_API SessionOptions {
  int inter_op_threads = 0;  // 0: as many as cores; 1: sequential and deterministic
  int intra_op_threads = 0;
  size_t plan_cache_capacity = 256;  // Note [plan cache]
};

// Note [plan cache]
// A plan is built for the canonical form of a request: feeds, fetches and targets each sorted by
// (node id, output) and duplicates removed, so [a, b] and [b, a] share one plan. A Prepared binds one
// caller's order to that plan. The cache keeps the `plan_cache_capacity` most recently used plans and is
// emptied when the graph's edges change (Graph::edge_version), since a new control edge can change what a
// cached plan must run; new nodes alone cannot. A Prepared keeps its plan and the edge version it was built
// at, so a caller that holds it (make_callable, Session.run's per-fetch cache in Python) skips the key and
// the cache lookup on every run; after an edge change its run goes through the cache again.
struct TF_API Prepared {
  std::shared_ptr<const Plan> plan;
  std::vector<int> feed_pos;   // the caller's feed i is the plan's feed feed_pos[i]
  std::vector<int> fetch_pos;  // the caller's fetch i is the plan's fetch fetch_pos[i]
  std::vector<Output> feeds, fetches;  // canonical: what `plan` was built for
  std::vector<Node*> targets;
  uint64_t edge_version = 0;
};

// Runs pruned subgraphs of a graph. Thread-safe: many threads may call run() at once.
class TF_API Session {
 public:
  Session(std::shared_ptr<Graph> graph, SessionOptions opts = {});
  ~Session();

  Prepared prepare(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                   const std::vector<Node*>& targets);
  std::vector<Tensor> run(const Prepared& p, std::vector<Tensor> feed_values);
  // The same, with each node's timing in `stats` (Note [step stats] in executor.cc). A run traced while
  // another traced run is in flight on this session is not traced (`stats` stays empty).
  std::vector<Tensor> run_traced(const Prepared& p, std::vector<Tensor> feed_values, std::vector<NodeStat>* stats);
  std::vector<Tensor> run(const std::vector<Output>& feeds, std::vector<Tensor> feed_values,
                          const std::vector<Output>& fetches, const std::vector<Node*>& targets = {});
  void close();
  bool closed() const { return closed_; }
  Graph& graph() { return *graph_; }
  Resources& state() { return state_; }
  size_t cached_plans();
  const SessionOptions& options() const { return opts_; }

 private:
  std::shared_ptr<Graph> graph_;
  SessionOptions opts_;
  Resources state_;
  std::shared_ptr<const Plan> cached_plan(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                                          const std::vector<Node*>& targets);
  std::vector<Tensor> run_plan(const Plan& plan, std::vector<Tensor> feed_values);

  using LruList = std::list<std::pair<std::string, std::shared_ptr<const Plan>>>;
  std::mutex cache_mu_;
  LruList lru_;  // most recently used first
  std::unordered_map<std::string, LruList::iterator> cache_;
  uint64_t cache_edge_version_ = 0;
  std::atomic<bool> closed_{false};
};

}  // namespace tideflow
