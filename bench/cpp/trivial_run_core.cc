// The trivial cached run on tideflow's internal C++ core (cpp/*.h), with no public API in between: the
// reference bench/cpp/trivial_run.cc measures its API against, interleaved in the same process. Linked
// into the same program as the public API without clashes: that API lives in tideflow::v1.
#include <functional>
#include <memory>

#include "graph.h"
#include "plan.h"
#include "session.h"

std::function<float()> core_trivial_run(int threads) {
  using namespace tideflow;
  auto g = std::make_shared<Graph>();
  AttrMap a;
  a["value"] = Tensor::scalar<float>(1.0f);
  a["dtype"] = DType::Float32;
  Node* x = g->add_node("Const", "Const", {}, a);
  Node* y = g->add_node("Const", "add/y", {}, a);
  Node* sum = g->add_node("Add", "add", {x->out(), y->out()}, {});
  auto sess = std::make_shared<Session>(g, SessionOptions{threads, threads});
  Prepared plan = sess->prepare({}, {sum->out()}, {});
  return [sess, plan] { return *sess->run(plan, {})[0].data<float>(); };
}
