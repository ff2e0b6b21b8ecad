// Trains a small regression with Adam and logs its loss and weights as TensorBoard scalars, with the
// graph:  log_scalars LOGDIR, then  tensorboard --logdir LOGDIR
#include <tideflow/tideflow.h>

#include <cstdio>

namespace tf = tideflow;

int main(int argc, char** argv) {
  if (argc != 2) return std::fprintf(stderr, "usage: %s LOGDIR\n", argv[0]), 2;
  tf::Graph g;
  tf::Output x = tf::placeholder(g, tf::float32, {-1, 2}, "x");
  tf::Output y = tf::placeholder(g, tf::float32, {-1, 1}, "y");
  tf::Variable w(g, tf::Tensor({0.5f, -0.5f}, {2, 1}), "w");
  tf::Output loss = tf::reduce_mean(tf::square(tf::matmul(x, w) - y), "loss");
  tf::Operation train = tf::train::AdamOptimizer(0.05).minimize(loss);

  tf::Session sess(g);
  sess.run(tf::global_variables_initializer(g));
  tf::Tensor xs({1, 2, 2, 1, 3, 0, 0, 3}, {4, 2}), ys({4, 5, 3, 9}, {4, 1});  // y = x0 + 3 x1
  tf::summary::FileWriter writer(argv[1], g);
  for (int step = 0; step < 50; ++step) {
    std::vector<tf::Tensor> r = sess.run({train, loss, w}, {{x, xs}, {y, ys}});
    writer.add_scalar("loss", r[1].scalar<float>(), step);
    writer.add_scalar("weights/w0", r[2].data<float>()[0], step);
    writer.add_scalar("weights/w1", r[2].data<float>()[1], step);
  }
  writer.close();
  std::printf("%s\n", writer.filename().c_str());
  return 0;
}
