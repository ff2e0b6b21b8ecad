// The LSTM bench's step products (batch 64, [x, h] 156 wide, cell 128) whole on one thread against split
// with the spinning partner as ops/rnn.cc splits them (Note [LSTM steps on a pair]), and the hand-over
// alone (two halves of 20 us of spinning). Min and 10th percentile of 2000 calls, in microseconds.
//   L=$(python -c "import scipy_openblas32 as s; print(s.get_lib_dir())")
//   g++ -O2 -std=c++17 -Icpp bench/cpp/pair_products.cc -Lpython/tideflow -ltideflow -L$L -lscipy_openblas \
//       -Wl,-rpath,$PWD/python/tideflow:$L -o /tmp/pair_products && /tmp/pair_products [--pin]
// --pin puts the partner on CPU 1 and this thread on CPU 0 (a busy machine's scheduler tends to put the
// woken partner beside its caller, where it cannot help) and leaves every half to the partner.
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "spin_pair.h"

extern "C" void scipy_cblas_sgemm(int order, int transa, int transb, int m, int n, int k, float alpha,
                                  const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc);
extern "C" void scipy_openblas_set_num_threads(int);

using namespace tideflow;
using Clock = std::chrono::steady_clock;

static void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  sched_setaffinity(0, sizeof(s), &s);
}

int main(int argc, char** argv) {
  scipy_openblas_set_num_threads(1);
  if (argc > 1 && !std::strcmp(argv[1], "--pin")) {
    pin(0);
    set_pair_force_partner(true);  // and leave every half to it (no back-off): the min is the concurrent time
    run_pair([] {}, [] { pin(1); });
  }
  const int B = 64, K = 156, N = 512, P = 128, I = 28;
  std::vector<float> xh(B * K, 0.5f), w(K * N, 0.25f), icfo(B * N), g(B * N, 0.1f), dw(K * N), dh(B * P);
  auto fwd_cols = [&](int j0, int j1) {
    scipy_cblas_sgemm(101, 111, 111, B, j1 - j0, K, 1, xh.data(), K, w.data() + j0, N, 0, icfo.data() + j0, N);
  };
  auto dh_whole = [&] {
    scipy_cblas_sgemm(101, 111, 112, B, P, N, 1, g.data(), N, w.data() + I * N, N, 0, dh.data(), P);
  };
  auto dw_cols = [&](int j0, int j1) {
    scipy_cblas_sgemm(101, 112, 111, K, j1 - j0, B, 1, xh.data(), K, g.data() + j0, N, 0, dw.data() + j0, N);
  };
  auto spin = [](double us) {
    const auto t = Clock::now();
    while (std::chrono::duration<double, std::micro>(Clock::now() - t).count() < us) {
    }
  };
  auto us = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
  };
  for (int round = 0; round < 4; ++round) {
    std::vector<double> t[5];
    const long long p0 = pair_partner_runs(), c0 = pair_caller_runs();
    for (int i = 0; i < 2000; ++i) {
      const auto t0 = Clock::now();
      fwd_cols(0, N);
      const auto t1 = Clock::now();
      run_pair([&] { fwd_cols(0, 256); }, [&] { fwd_cols(256, N); });
      const auto t2 = Clock::now();
      dh_whole();
      dw_cols(0, N);
      const auto t3 = Clock::now();
      run_pair([&] { dh_whole(), dw_cols(0, 48); }, [&] { dw_cols(48, N); });
      const auto t4 = Clock::now();
      run_pair([&] { spin(20); }, [&] { spin(20); });
      const auto t5 = Clock::now();
      t[0].push_back(us(t0, t1)), t[1].push_back(us(t1, t2)), t[2].push_back(us(t2, t3));
      t[3].push_back(us(t3, t4)), t[4].push_back(us(t4, t5));
    }
    for (auto& v : t) std::sort(v.begin(), v.end());
    std::printf("forward product whole %.1f, pair %.1f (p10 %.1f) | gradient products whole %.1f, pair %.1f (p10 %.1f) "
                "| 20+20 us spins pair %.2f (p10 %.2f) | partner took %lld of %lld halves\n",
                t[0][0], t[1][0], t[1][200], t[2][0], t[3][0], t[3][200], t[4][0], t[4][200],
                pair_partner_runs() - p0, pair_partner_runs() - p0 + pair_caller_runs() - c0);
  }
}
