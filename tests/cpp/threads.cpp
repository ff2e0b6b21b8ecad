// Eight threads share one Session (tools/sanitize.sh builds this under ThreadSanitizer): four train a
// regression through one Callable and through Session::run, two fetch the weights and the loss, one makes
// callables and runs them, one closes the session while the others run; the survivors must get errors,
// never crash. Then a second round with no closing checks the trained numbers. Exit status 0: clean.
//   threads [ROUNDS]
#include <tideflow/tideflow.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace tf = tideflow;

static int run_round(bool close_midway, int steps) {
  tf::Graph g;
  tf::Output x = tf::placeholder(g, tf::float32, {-1, 2}, "x");
  tf::Output y = tf::placeholder(g, tf::float32, {-1, 1}, "y");
  tf::Variable w(g, tf::Tensor({0.f, 0.f}, {2, 1}), "w");
  tf::Output loss = tf::reduce_mean(tf::square(tf::matmul(x, w) - y), "loss");
  tf::Operation train = tf::train::GradientDescentOptimizer(0.05).minimize(loss);
  tf::Session sess(g);
  sess.run(tf::global_variables_initializer(g));
  tf::Tensor xs({1, 0, 0, 1, 1, 1, 2, 1}, {4, 2}), ys({3.f, -1.f, 2.f, 5.f}, {4, 1});  // y = 3 a - b
  tf::Callable step = sess.make_callable({x, y}, {loss}, {train});
  std::atomic<int> errors{0}, done{0};
  auto guarded = [&](auto body) {
    return [&, body] {
      try {
        body();
      } catch (const tf::Error&) {
        errors++;  // after close: expected
      }
      done++;
    };
  };
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back(guarded([&, i] {
      for (int k = 0; k < steps; ++k) {
        if (i % 2) step({xs, ys});
        else sess.run({loss, train}, {{x, xs}, {y, ys}});
      }
    }));
  for (int i = 0; i < 2; ++i)
    ts.emplace_back(guarded([&] {
      for (int k = 0; k < steps; ++k) {
        std::vector<tf::Tensor> r = sess.run({w.value(), loss}, {{x, xs}, {y, ys}});
        if (!std::isfinite(r[1].scalar<float>())) std::abort();
      }
    }));
  ts.emplace_back(guarded([&] {
    for (int k = 0; k < steps / 10; ++k) {
      tf::Callable c = sess.make_callable({x, y}, {loss});
      c({xs, ys});
    }
  }));
  ts.emplace_back(guarded([&] {
    if (close_midway) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      sess.close();
    }
  }));
  for (auto& t : ts) t.join();
  if (!close_midway) {
    std::vector<tf::Tensor> r = sess.run({w.value(), loss}, {{x, xs}, {y, ys}});
    const float* wv = r[0].data<float>();
    std::printf("w = %.4f %.4f loss %.3g\n", wv[0], wv[1], r[1].scalar<float>());
    if (std::fabs(wv[0] - 3) > 0.05 || std::fabs(wv[1] + 1) > 0.05) return 1;
    if (errors) return 1;
  }
  std::printf("round (close_midway=%d): %d threads done, %d saw errors\n", close_midway, (int)done, (int)errors);
  return 0;
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 3;
  for (int r = 0; r < rounds; ++r) {
    if (run_round(false, 300)) return 1;
    if (run_round(true, 300)) return 1;
  }
  std::printf("ok\n");
  return 0;
}
