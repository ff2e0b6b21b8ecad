#pragma once
#include <type_traits>

#include "export.h"

namespace tideflow {

// Runs `mine` on the calling thread and `theirs` on a partner thread that polls for work between calls
// (Note [spinning partner] in spin_pair.cc), and returns when both have run. When the partner is not
// there to take `theirs` (asleep, busy with another caller's pair, or not yet started) the calling
// thread runs it after `mine`: every call completes whoever runs it, so the split is only ever a speed-up.
// An exception from either is rethrown here once both are over.
struct PairTask {
  void (*fn)(void*);
  void* arg;
};
TF_API void run_pair_tasks(PairTask mine, PairTask theirs);

template <class A, class B>
void run_pair(A&& mine, B&& theirs) {
  using MA = std::remove_reference_t<A>;
  using MB = std::remove_reference_t<B>;
  run_pair_tasks(PairTask{[](void* p) { (*static_cast<MA*>(p))(); }, (void*)&mine},
                 PairTask{[](void* p) { (*static_cast<MB*>(p))(); }, (void*)&theirs});
}

// For tests and benchmarks, since the process started: how many `theirs` the partner thread ran, how
// many the callers ran themselves because the partner did not take them, how often the partner was
// woken from its sleep, and how often a caller waited for a preempted partner (Note [spinning partner]).
TF_API long long pair_partner_runs();
TF_API long long pair_caller_runs();
TF_API long long pair_partner_wakes();
TF_API long long pair_stragglers();
// For tests: every `theirs` waits for the partner (on a busy machine whether it takes one is luck).
TF_API void set_pair_force_partner(bool on);

}  // namespace tideflow
