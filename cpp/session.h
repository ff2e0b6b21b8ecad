#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph.h"

namespace tideflow {

// A variable's value in one Session. Readers take a reference to the current buffer under the lock;
// writers update in place only when no reader still holds the buffer (copy-on-write), so a fetched
// value never changes under the user and concurrent runs never corrupt memory.
struct TF_API VarSlot {
  std::mutex mu;
  Tensor value;  // invalid until initialized
  Tensor read() {
    std::lock_guard<std::mutex> l(mu);
    return value;
  }
};

// Everything a Session owns beyond the graph: variable values and per-node counters.
class TF_API SessionState {
 public:
  VarSlot& var(const Node* n);
  // A per-node counter that lives as long as the session: returns its value and adds `count`. Random
  // ops take a fresh block of Philox counters per execution; Print counts its runs for first_n.
  uint64_t next_count(const Node* n, uint64_t count);
  std::vector<std::pair<const Node*, Tensor>> variables();

 private:
  std::mutex mu_;
  std::unordered_map<const Node*, std::unique_ptr<VarSlot>> vars_;
  std::unordered_map<const Node*, uint64_t> rng_;
};

struct Plan;

struct TF_API SessionOptions {
  int inter_op_threads = 0;  // 0: as many as cores; 1: sequential and deterministic
  int intra_op_threads = 0;
};

// Runs pruned subgraphs of a graph. Thread-safe: many threads may call run() at once.
class TF_API Session {
 public:
  Session(std::shared_ptr<Graph> graph, SessionOptions opts = {});
  ~Session();

  std::shared_ptr<const Plan> prepare(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                                      const std::vector<Node*>& targets);
  std::vector<Tensor> run(const Plan& plan, std::vector<Tensor> feed_values);
  std::vector<Tensor> run(const std::vector<Output>& feeds, std::vector<Tensor> feed_values,
                          const std::vector<Output>& fetches, const std::vector<Node*>& targets = {});
  void close();
  bool closed() const { return closed_; }
  Graph& graph() { return *graph_; }
  SessionState& state() { return state_; }
  const SessionOptions& options() const { return opts_; }

 private:
  std::shared_ptr<Graph> graph_;
  SessionOptions opts_;
  SessionState state_;
  std::mutex cache_mu_;
  std::unordered_map<std::string, std::shared_ptr<const Plan>> cache_;
  std::atomic<bool> closed_{false};
};

}  // namespace tideflow
