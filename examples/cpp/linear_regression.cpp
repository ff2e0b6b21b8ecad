// Trains y = w * x + b by gradient descent and saves the model (PREFIX.safetensors, PREFIX.meta), which
// tideflow's Python API loads with tf.train.import_meta_graph + Saver.restore.
//   linear_regression PREFIX
#include <tideflow/tideflow.h>

#include <cstdio>

namespace tf = tideflow;

int main(int argc, char** argv) {
  if (argc != 2) return std::fprintf(stderr, "usage: %s CHECKPOINT_PREFIX\n", argv[0]), 2;
  tf::Graph g;
  tf::Output x = tf::placeholder(g, tf::float32, {-1, 1}, "x");
  tf::Output y = tf::placeholder(g, tf::float32, {-1, 1}, "y");
  tf::Variable w(g, tf::Tensor({0.f}, {1, 1}), "w");
  tf::Variable b(g, tf::Tensor(0.f), "b");
  tf::Output pred = tf::add(tf::matmul(x, w), b, "pred");
  tf::Output loss = tf::reduce_mean(tf::square(pred - y), "loss");
  tf::Operation train = tf::train::GradientDescentOptimizer(0.1).minimize(loss);

  tf::Session sess(g);
  sess.run(tf::global_variables_initializer(g));
  tf::Tensor xs({0, 1, 2, 3, 4}, {5, 1}), ys({1.1f, 2.9f, 5.2f, 6.8f, 9.1f}, {5, 1});  // about 2x + 1
  tf::Callable step = sess.make_callable({x, y}, {loss}, {train});  // prepared once, run 200 times
  for (int i = 0; i < 200; ++i) step({xs, ys});

  std::vector<tf::Tensor> r = sess.run({loss, w, b}, {{x, xs}, {y, ys}});
  std::printf("loss %.9g w %.9g b %.9g\n", r[0].scalar<float>(), r[1].scalar<float>(), r[2].scalar<float>());
  std::printf("saved %s\n", tf::train::Saver(g).save(sess, argv[1]).c_str());
  return 0;
}
