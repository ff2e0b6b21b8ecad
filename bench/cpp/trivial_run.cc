// The trivial cached run of bench/workloads.py (`tf.constant(1.0) + 1.0`, fetched again and again) from
// C++: through a Callable (the plan prepared once), through Session::run (the plan looked up per call),
// through the C ABI directly, and (built with -DTIDEFLOW_BENCH_CORE and trivial_run_core.cc) on the
// internal core with no API in between. Rounds are interleaved; prints each median in us per run.
//   trivial_run [rounds] [threads]
#include <tideflow/tideflow.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

namespace tf = tideflow;

#ifdef TIDEFLOW_BENCH_CORE
std::function<float()> core_trivial_run(int threads);
#endif

static double seconds_per_call(const std::function<void()>& f) {
  using clock = std::chrono::steady_clock;
  for (auto t0 = clock::now(); clock::now() - t0 < std::chrono::milliseconds(50);) f();  // warm up
  for (long n = 1000;; n *= 2) {
    auto t0 = clock::now();
    for (long i = 0; i < n; ++i) f();
    double s = std::chrono::duration<double>(clock::now() - t0).count();
    if (s > 0.1) return s / n;
  }
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  tf::Graph g;
  tf::Output y = tf::constant(g, tf::Tensor(1.0f)) + 1.0;
  tf::Session sess(g, {threads, threads});
  tf::Callable step = sess.make_callable({}, {y});
  float sink = 0;
  TFL_Status* st = TFL_NewStatus();
  TFL_Tensor* out = nullptr;
  std::vector<double> callable, run, c_abi, core;
#ifdef TIDEFLOW_BENCH_CORE
  std::function<float()> core_run = core_trivial_run(threads);
#endif
  for (int r = 0; r < rounds; ++r) {
#ifdef TIDEFLOW_BENCH_CORE
    core.push_back(seconds_per_call([&] { sink += core_run(); }));
#endif
    callable.push_back(seconds_per_call([&] { sink += step()[0].scalar<float>(); }));
    run.push_back(seconds_per_call([&] { sink += sess.run(y).scalar<float>(); }));
    c_abi.push_back(seconds_per_call([&] {
      TFL_CallableRun(step.c(), nullptr, &out, st);
      sink += *static_cast<const float*>(TFL_TensorData(out));
      TFL_DeleteTensor(out);
    }));
  }
  TFL_DeleteStatus(st);
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2] * 1e6;
  };
  std::printf("callable_us %.3f\nrun_us %.3f\nc_callable_us %.3f\n", median(callable), median(run), median(c_abi));
  if (!core.empty()) std::printf("core_us %.3f\n", median(core));
  std::printf("sink %g\n", static_cast<double>(sink));
  return 0;
}
