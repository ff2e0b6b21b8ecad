// Ops that TensorFlow's own gradient graphs use and tideflow's gradient rules do not (tideflow sums a
// broadcast gradient with SumToShape): they let a training graph written by TensorFlow
// (tf.train.import_meta_graph of a TensorFlow .meta) run and keep training here.
#include "array_util.h"

namespace tideflow {
namespace {

using namespace array_util;

// BroadcastGradientArgs(s0, s1) -> (r0, r1): for `x0 op x1` broadcast to a common shape, the axes of the
// result that each input's gradient must be summed over. TensorFlow's rules (tensorflow/core/util/bcast.h):
// equal shapes reduce nothing; otherwise, with both shapes padded on the left with 1s, an axis where one
// side is 1 and the other is not is reduced for the 1 side, and an axis where both are 1 for both sides.
void broadcast_gradient_args_kernel(KernelCtx& c) {
  Dims a = c.in(0).to_int_vector(), b = c.in(1).to_int_vector();
  std::vector<int64_t> r0, r1;
  if (a != b) {
    const size_t n = std::max(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
      int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
      int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
      if (x != y && x != 1 && y != 1) c.fail("Incompatible shapes: " + dims_str(a) + " vs. " + dims_str(b));
      if (x == 1) r0.push_back((int64_t)i);
      if (y == 1) r1.push_back((int64_t)i);
    }
  }
  for (int k = 0; k < 2; ++k) {
    const std::vector<int64_t>& r = k ? r1 : r0;
    Tensor& t = c.alloc(k, c.in(0).dtype(), Dims{(int64_t)r.size()});
    for (size_t i = 0; i < r.size(); ++i) {
      if (t.dtype() == DType::Int32) t.data<int32_t>()[i] = (int32_t)r[i];
      else t.data<int64_t>()[i] = r[i];
    }
  }
}

}  // namespace

REGISTER_OP("BroadcastGradientArgs").inputs(2).not_differentiable()
    .shape([](InferCtx& c) {
      expect_int(c, 0, "s0");
      c.expect_same_dtype(0, 1);
      c.set_output(0, c.dtype(0), PartialShape(Dims{-1}));
      c.set_output(1, c.dtype(0), PartialShape(Dims{-1}));
    })
    .cpu(broadcast_gradient_args_kernel);

}  // namespace tideflow
