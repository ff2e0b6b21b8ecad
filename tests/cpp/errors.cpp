// Errors of the C++ API, one case per line: "case<TAB>ErrorClass<TAB>code<TAB>message" (newlines in the
// message escaped as \n). tests/test_cpp_api.py raises the same errors from Python and compares. The
// program must end normally: nothing aborts.
//   errors DIR   (DIR: an existing directory without checkpoints)
#include <tideflow/tideflow.h>

#include <cstdio>
#include <functional>

namespace tf = tideflow;

static void report(const char* name, const std::function<void()>& f) {
  std::string cls = "none", msg;
  int code = 0;
  try {
    f();
  } catch (const tf::Error& e) {
    cls = e.name();
    code = static_cast<int>(e.code());
    msg = e.what();
  } catch (const std::exception& e) {
    cls = "std::exception";
    code = -1;
    msg = e.what();
  }
  std::string esc;
  for (char c : msg) esc += c == '\n' ? std::string("\\n") : c == '\t' ? std::string("\\t") : std::string(1, c);
  std::printf("%s\t%s\t%d\t%s\n", name, cls.c_str(), code, esc.c_str());
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::string dir = argv[1];
  report("unfed_placeholder", [] {
    tf::Graph g;
    tf::Output x = tf::placeholder(g, tf::float32, {-1, 3}, "x");
    tf::Session s(g);
    s.run(tf::reduce_sum(x));
  });
  report("feed_shape", [] {
    tf::Graph g;
    tf::Output x = tf::placeholder(g, tf::float32, {-1, 3}, "x");
    tf::Session s(g);
    s.run(tf::reduce_sum(x), {{x, tf::Tensor({1, 2, 3, 4}, {2, 2})}});
  });
  report("feed_dtype", [] {
    tf::Graph g;
    tf::Output x = tf::placeholder(g, tf::float32, {-1}, "x");
    tf::Session s(g);
    s.run(x, {{x, tf::Tensor(std::vector<int32_t>{1, 2})}});
  });
  report("matmul_shape", [] {
    tf::Graph g;
    tf::matmul(tf::placeholder(g, tf::float32, {2, 3}, "a"), tf::placeholder(g, tf::float32, {2, 3}, "b"));
  });
  report("add_dtype", [] {
    tf::Graph g;
    tf::add(tf::placeholder(g, tf::float32, {2}, "a"), tf::placeholder(g, tf::int32, {2}, "b"));
  });
  report("missing_checkpoint", [&] {
    tf::Graph g;
    tf::Variable w(g, tf::Tensor({1.f, 2.f}), "w");
    tf::Session s(g);
    tf::train::Saver(g).restore(s, dir + "/no_such_model");
  });
  report("uninitialized", [] {
    tf::Graph g;
    tf::Variable w(g, tf::Tensor({1.f, 2.f}), "w");
    tf::Session s(g);
    s.run(w);
  });
  report("unknown_op", [] {
    tf::Graph g;
    tf::OpBuilder(g, "NoSuchOp").finish();
  });
  report("reshape_runtime", [] {
    tf::Graph g;
    tf::Output x = tf::placeholder(g, tf::float32, {-1}, "x");
    tf::Session s(g);
    s.run(tf::reshape(x, {4}), {{x, tf::Tensor{1, 2, 3, 4, 5, 6}}});
  });
  report("bad_label", [] {
    tf::Graph g;
    tf::Output logits = tf::placeholder(g, tf::float32, {-1, 3}, "logits");
    tf::Output labels = tf::placeholder(g, tf::int32, {-1}, "labels");
    tf::Session s(g);
    s.run(tf::nn::sparse_softmax_cross_entropy_with_logits(labels, logits),
          {{logits, tf::Tensor({0, 0, 0}, {1, 3})}, {labels, tf::Tensor(std::vector<int32_t>{5})}});
  });
  report("no_gradients", [] {
    tf::Graph g;
    tf::Variable w(g, tf::Tensor({1.f}), "w");
    tf::Output x = tf::placeholder(g, tf::float32, {1}, "x");
    tf::train::GradientDescentOptimizer(0.1).minimize(tf::reduce_sum(x), tf::Variable(), {w});
  });
  report("closed_session", [] {
    tf::Graph g;
    tf::Output c = tf::constant(g, tf::Tensor(1.f));
    tf::Session s(g);
    s.close();
    s.run(c);
  });
  report("tensor_dtype", [] { tf::Tensor(1.f).data<int32_t>(); });
  report("bad_learning_rate", [] { tf::train::AdagradOptimizer(0.1, -1.0); });
  return 0;
}
