#include "spin_pair.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TF_PAUSE() _mm_pause()
#else
#define TF_PAUSE() std::this_thread::yield()
#endif

#include "threadpool.h"

namespace tideflow {
namespace {

// Note [spinning partner]
// A loop of small steps (an LSTM's time steps: ~100 us of products each, Note [LSTM steps on one
// thread] in ops/rnn.cc) gains from a second core only if handing it half a step costs about a
// microsecond. A pool task costs far more: a condition-variable wake is tens of microseconds, and the
// pool's workers poll for only ~50 us between tasks (Note [spinning workers]). So a loop's kernel hands
// half of each step to one partner thread that, once woken, polls a generation counter with `pause`
// between reads; handing over is a store on one side and a compare-and-swap on the other.
//
// Bounds: the partner polls only for kPartnerSpin of its own running time after its last task (a
// step's gaps, and the gap between a forward loop and its gradient loop, are shorter; time it spends
// preempted does not count), and stops at once when the thread pool has queued work (the partner then
// leaves the core to the pool); then it sleeps on a condition variable until the next pair wakes it.
// So an idle process has no core spinning once the partner has polled 0.2 ms after its last pair.
//
// Placement: Linux puts a woken thread on its waker's CPU when the other cores look busy, even when one
// of them is about to idle (a helper that polls for a while before it sleeps). The partner then waits
// behind its own caller for the rest of a time slice, 3 ms, while the other core sits idle: measured
// on the bench's LSTM, a wake took 0.68 ms on average and the caller ran 15% of the halves itself. So
// the caller narrows the partner's affinity to the other CPUs before waking it, and the partner, once
// awake, widens it back (a thread is never moved off the CPU it runs on by widening). A partner that
// finds itself on its caller's CPU while polling moves off the same way (leave_cpu).
//
// Never a hang and never a wrong split: a task is claimed by a compare-and-swap of its generation, by
// the partner or, once the caller's own half is done, by the caller, whichever comes first; the caller
// waits only for a task the partner has claimed and is running. A caller that finds the partner busy
// with another caller's pair runs both halves itself. Which thread runs a half never changes what it
// computes, so results do not depend on the partner's timing.
//
// A straggling partner: on a machine with more runnable threads than cores, the partner may be preempted
// holding a half, and its caller then waits a time slice (milliseconds) for a 50 us half: with a loop's
// ~100 hand-overs a step, two threads would be slower than one. So a wait over kStraggler makes pairs run
// on their callers for 20 ms, doubled for each straggler in a row (up to 1.3 s), and 4096 pairs without
// one reset the back-off. On idle cores no wait comes near 0.5 ms.
constexpr auto kPartnerSpin = std::chrono::microseconds(200);
constexpr auto kStraggler = std::chrono::microseconds(500);
constexpr auto kBackOff = std::chrono::milliseconds(10);
constexpr auto kPreempted = std::chrono::microseconds(50);

using Clock = std::chrono::steady_clock;

int current_cpu() {
#if defined(__linux__)
  return sched_getcpu();  // glibc reads it from the rseq area: a load, no system call
#else
  return -2;
#endif
}

#if defined(__linux__)
// The CPUs of `allowed` other than `cpu`, if there are any.
bool other_cpus(const cpu_set_t& allowed, int cpu, cpu_set_t* others) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  *others = allowed;
  CPU_CLR(cpu, others);
  return CPU_COUNT(others) > 0;
}
#endif

// Moves the calling thread off `cpu` (Note [spinning partner], placement): the kernel migrates a thread
// at once when its affinity excludes its CPU, and restoring the mask leaves it where it is. Where `cpu`
// is the only one allowed, it yields instead.
void leave_cpu(int cpu) {
#if defined(__linux__)
  cpu_set_t allowed, others;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 && other_cpus(allowed, cpu, &others) &&
      sched_setaffinity(0, sizeof others, &others) == 0) {
    sched_setaffinity(0, sizeof allowed, &allowed);
    return;
  }
#endif
  std::this_thread::yield();
}

struct Partner {
  std::atomic<bool> owned{false};      // a caller's pair holds the slot
  std::atomic<uint64_t> posted{0};     // generation of the last task offered
  std::atomic<uint64_t> taken{0};      // generation of the last task claimed (by partner or caller)
  std::atomic<uint64_t> finished{0};   // generation of the last task the partner finished
  PairTask task{};                     // written by the owner before `posted`, read by the claimer
  std::exception_ptr error;            // the partner's task's exception, read after `finished`
  std::atomic<bool> polling{false};    // the partner thread is awake
  std::atomic<int> caller_cpu{-1};     // the CPU the last caller posted from
  std::mutex mu;
  std::condition_variable cv;
  bool wake = false;  // guarded by mu
#if defined(__linux__)
  pid_t tid = 0;      // the partner thread's id (guarded by mu)
  bool narrowed = false;  // the caller narrowed the partner's affinity; `allowed` restores it (guarded by mu)
  cpu_set_t allowed;
#endif
  std::atomic<long long> partner_runs{0}, caller_runs{0}, wakes{0}, stragglers{0};
  std::atomic<int64_t> shun_until{0};  // steady-clock ticks: until then pairs run on their callers
  int backoff = 0;                     // stragglers in a row (guarded by owned)
  int good = 0;                        // pairs since the last straggler (guarded by owned)

  Partner() { std::thread([this] { loop(); }).detach(); }

  bool claim(uint64_t g) {
    uint64_t prev = g - 1;
    return taken.compare_exchange_strong(prev, g, std::memory_order_acq_rel);
  }

  // Wakes the partner thread, away from the caller's CPU (Note [spinning partner], placement).
  void wake_up(int cpu) {
    {
      std::lock_guard<std::mutex> l(mu);
#if defined(__linux__)
      cpu_set_t others;
      if (tid > 0 && !narrowed && sched_getaffinity(0, sizeof allowed, &allowed) == 0 &&
          other_cpus(allowed, cpu, &others) && sched_setaffinity(tid, sizeof others, &others) == 0)
        narrowed = true;
#endif
      wake = true;
    }
    cv.notify_one();
  }

  void loop() {
#if defined(__linux__)
    pthread_setname_np(pthread_self(), "tideflow-pair");  // for top and perf
    {
      std::lock_guard<std::mutex> l(mu);
      tid = (pid_t)syscall(SYS_gettid);
    }
#endif
    for (;;) {
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return wake; });
        wake = false;
#if defined(__linux__)
        if (narrowed) sched_setaffinity(0, sizeof allowed, &allowed);
        narrowed = false;
#endif
      }
      wakes.fetch_add(1, std::memory_order_relaxed);
      polling.store(true, std::memory_order_seq_cst);
      // Idle time counts only while this thread runs: a gap between two clock reads (every 32 polls,
      // ~1 us) of over kPreempted means the thread was preempted, and a preempted partner that gets
      // its core back finds the caller's next half sooner polling than asleep.
      auto last = Clock::now();
      Clock::duration idle{0};
      for (unsigned n = 1;; ++n) {
        const uint64_t g = posted.load(std::memory_order_acquire);
        if (g != taken.load(std::memory_order_relaxed) && claim(g)) {
          const PairTask t = task;
          try {
            t.fn(t.arg);
          } catch (...) {
            error = std::current_exception();
          }
          partner_runs.fetch_add(1, std::memory_order_relaxed);
          finished.store(g, std::memory_order_release);
          last = Clock::now();
          idle = Clock::duration(0);
          n = 0;
          continue;
        }
        // The clock and the pool's queue are read every 32 polls (~1 us): the reads cost more than a poll.
        if (n % 32 == 0) {
          const auto now = Clock::now();
          if (now - last < kPreempted) idle += now - last;
          last = now;
          if (idle > kPartnerSpin || ThreadPool::global().has_queued()) break;
          // On the caller's own CPU polling only takes time from the caller.
          const int cpu = current_cpu();
          if (cpu == caller_cpu.load(std::memory_order_relaxed)) leave_cpu(cpu);
        }
        TF_PAUSE();
      }
      // A task posted from here on finds `polling` false and wakes this thread again; one posted just
      // before is taken back by its caller.
      polling.store(false, std::memory_order_seq_cst);
    }
  }
};

std::atomic<bool> g_force_partner{false};

Partner& partner() {
  static Partner* p = new Partner();  // leaked on purpose, as the pool: the thread outlives static destructors
  return *p;
}

void run_serially(PairTask mine, PairTask theirs) {
  mine.fn(mine.arg);
  theirs.fn(theirs.arg);
}

}  // namespace

void run_pair_tasks(PairTask mine, PairTask theirs) {
  Partner& p = partner();
  const bool forced = g_force_partner.load(std::memory_order_relaxed);
  if (!forced && Clock::now().time_since_epoch().count() < p.shun_until.load(std::memory_order_relaxed))
    return run_serially(mine, theirs);
  if (p.owned.exchange(true, std::memory_order_acquire)) return run_serially(mine, theirs);
  // Every earlier generation was claimed and, if by the partner, finished: the next one is taken + 1.
  const uint64_t g = p.taken.load(std::memory_order_relaxed) + 1;
  p.task = theirs;
  p.caller_cpu.store(current_cpu(), std::memory_order_relaxed);
  p.posted.store(g, std::memory_order_seq_cst);
  if (!p.polling.load(std::memory_order_seq_cst)) p.wake_up(p.caller_cpu.load(std::memory_order_relaxed));
  std::exception_ptr mine_error, their_error;
  try {
    mine.fn(mine.arg);
  } catch (...) {
    mine_error = std::current_exception();
  }
  if (forced) {
    // Tests: leave the half to the partner, waking it for as long as it is not polling.
    while (p.taken.load(std::memory_order_acquire) != g) {
      if (!p.polling.load(std::memory_order_seq_cst)) p.wake_up(-1);
      std::this_thread::yield();
    }
  }
  if (p.claim(g)) {
    p.caller_runs.fetch_add(1, std::memory_order_relaxed);
    try {
      theirs.fn(theirs.arg);
    } catch (...) {
      their_error = std::current_exception();
    }
  } else {
    // The partner is running it: poll, and after 30 us (a preempted partner on a busy machine, or one
    // on this CPU) give the core away between polls.
    const auto start = Clock::now(), spin_until = start + std::chrono::microseconds(30);
    for (unsigned n = 1; p.finished.load(std::memory_order_acquire) != g; ++n) {
      if (n % 32 != 0 || Clock::now() < spin_until) TF_PAUSE();
      else std::this_thread::yield();
    }
    const auto now = Clock::now();
    if (!forced && now - start > kStraggler) {
      p.stragglers.fetch_add(1, std::memory_order_relaxed);
      p.backoff = std::min(p.backoff + 1, 7);
      p.good = 0;
      p.shun_until.store((now + kBackOff * (1 << p.backoff)).time_since_epoch().count(), std::memory_order_relaxed);
    } else if (++p.good >= 4096) {
      p.backoff = 0;
      p.good = 0;
    }
    their_error = p.error;
    p.error = nullptr;
  }
  p.owned.store(false, std::memory_order_release);
  if (mine_error) std::rethrow_exception(mine_error);
  if (their_error) std::rethrow_exception(their_error);
}

long long pair_partner_runs() { return partner().partner_runs.load(); }
long long pair_caller_runs() { return partner().caller_runs.load(); }
long long pair_partner_wakes() { return partner().wakes.load(); }
long long pair_stragglers() { return partner().stragglers.load(); }
void set_pair_force_partner(bool on) { g_force_partner.store(on); }

}  // namespace tideflow
