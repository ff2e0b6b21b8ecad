// Softmax family over the last axis: Softmax, LogSoftmax, SoftmaxCrossEntropyWithLogits,
// SparseSoftmaxCrossEntropyWithLogits. Every kernel subtracts the row maximum first (log-sum-exp), so
// logits of any magnitude give finite results.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "ops/reduced_float.h"
#include "op_registry.h"
#include "kernels/vector_math.h"

namespace tideflow {
namespace {

template <class T>
T row_max(const T* x, int64_t n) {
  T m = x[0];
  for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// out[i] = exp(in[i]); float32 rows go through the vectorized kernel. `in` may be `out`.
template <class T>
void exp_row(const T* in, T* out, int64_t n) {
  if constexpr (std::is_same_v<T, float>) vecmath::exp_f32(in, out, n);
  else for (int64_t i = 0; i < n; ++i) out[i] = std::exp(in[i]);
}

// sum(exp(x)) of a row, a stack buffer of exps at a time.
template <class T>
T sum_exp(const T* x, int64_t n) {
  constexpr int64_t kBlock = 256;
  T buf[kBlock];
  T s = 0;
  for (int64_t j = 0; j < n; j += kBlock) {
    const int64_t len = std::min(kBlock, n - j);
    exp_row(x + j, buf, len);
    for (int64_t i = 0; i < len; ++i) s += buf[i];
  }
  return s;
}

// Runs fn(row_index) over the rows of a [rows, n] layout, in parallel for big inputs.
template <class F>
void for_rows(const KernelCtx& c, int64_t rows, int64_t n, F&& fn) {
  c.parallel_for(rows, n * 8, [&](int64_t b, int64_t e) { for (int64_t r = b; r < e; ++r) fn(r); });
}

// ---- Softmax, LogSoftmax ----

void softmax_shape(InferCtx& c) {
  if (!in_set(c.dtype(0), kFloat)) c.type_fail(std::string("Softmax needs floats, got ") + dtype_name(c.dtype(0)));
  if (c.shape(0).known_rank && c.shape(0).rank() < 1) c.fail("logits must have rank at least 1");
  shape_unchanged(c);
}

template <bool kLog>
void softmax_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  if (x.rank() < 1) c.fail("logits must have rank at least 1");
  const int64_t n = x.dim(x.rank() - 1), rows = n ? x.size() / n : 0;
  dispatch_float(x.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    const T* in = x.data<T>();
    T* out = c.alloc_or_forward(0, 0, x.dtype(), x.dims()).template data<T>();
    for_rows(c, rows, n, [&](int64_t r) {
      const T* xi = in + r * n;
      T* o = out + r * n;
      const T mx = row_max(xi, n);
      for (int64_t i = 0; i < n; ++i) o[i] = xi[i] - mx;  // in place when the input buffer was forwarded
      if (kLog) {
        const T lse = std::log(sum_exp(o, n));
        for (int64_t i = 0; i < n; ++i) o[i] -= lse;  // exact for the largest logits
      } else {  // exp once, then scale
        exp_row(o, o, n);
        T sum = 0;
        for (int64_t i = 0; i < n; ++i) sum += o[i];
        const T inv = T(1) / sum;
        for (int64_t i = 0; i < n; ++i) o[i] *= inv;
      }
    });
  });
}

Output last_axis(GradCtx& g) { return g.b.ints({-1}); }

// The softmax Jacobian applied to gy: (gy - sum(gy * s, -1)) * s.
Output softmax_backward(GradCtx& g, Output gy, Output s) {
  Output dot = g.b.op1("Sum", {g.b.op1("Mul", {gy, s}), last_axis(g)}, AttrMap{{"keep_dims", true}});
  return g.b.op1("Mul", {g.b.op1("Sub", {gy, dot}), s});
}

REGISTER_OP("Softmax").inputs(1).shape(softmax_shape).cpu(via_float32<softmax_kernel<false>>)
    .grad([](GradCtx& g) { return std::vector<Output>{softmax_backward(g, g.g(), g.y())}; });

// d/dx of x - logsumexp(x): g - softmax * sum(g, -1).
REGISTER_OP("LogSoftmax").inputs(1).shape(softmax_shape).cpu(via_float32<softmax_kernel<true>>)
    .grad([](GradCtx& g) {
      Output sum = g.b.op1("Sum", {g.g(), last_axis(g)}, AttrMap{{"keep_dims", true}});
      return std::vector<Output>{g.b.op1("Sub", {g.g(), g.b.op1("Mul", {g.b.op1("Exp", {g.y()}), sum})})};
    });

// ---- SoftmaxCrossEntropyWithLogits, SparseSoftmaxCrossEntropyWithLogits ----

// Shapes of (loss [batch], backprop [batch, classes]) from logits [batch, classes] and the labels
// (dense: [batch, classes], where a batch of 1 on either side broadcasts, as in TF; sparse: [batch] of
// class indices).
void xent_shape(InferCtx& c, bool sparse) {
  if (!in_set(c.dtype(0), kFloat)) c.type_fail(std::string("logits must be float, got ") + dtype_name(c.dtype(0)));
  if (sparse) {
    if (c.dtype(1) != DType::Int32 && c.dtype(1) != DType::Int64)
      c.type_fail(std::string("labels must be int32 or int64, got ") + dtype_name(c.dtype(1)));
  } else {
    c.expect_same_dtype(0, 1);
  }
  PartialShape logits = c.shape(0);
  if (logits.known_rank && logits.rank() != 2) c.fail("logits must be 2-dimensional");
  if (!logits.known_rank) logits = PartialShape::unknown_of_rank(2);
  PartialShape labels = c.shape(1);
  if (labels.known_rank && labels.rank() != (sparse ? 1 : 2))
    c.fail(std::string("labels must be ") + (sparse ? "1" : "2") + "-dimensional");
  if (!labels.known_rank) labels = PartialShape::unknown_of_rank(sparse ? 1 : 2);
  const int64_t classes_a = logits.dims[1], classes_b = sparse ? -1 : labels.dims[1];
  PartialShape batch;
  bool ok = sparse ? PartialShape(Dims{logits.dims[0]}).compatible_with(labels)
                   : broadcast_shapes(PartialShape(Dims{logits.dims[0]}), PartialShape(Dims{labels.dims[0]}), &batch) &&
                         (classes_a < 0 || classes_b < 0 || classes_a == classes_b);
  if (!ok)
    c.fail(std::string("logits and labels must have ") +
           (sparse ? "the same first dimension" : "broadcastable shapes") + ", got logits shape " + c.shape(0).str() + " and labels shape " + c.shape(1).str());
  PartialShape out = sparse ? logits.merge(PartialShape(Dims{labels.dims[0], -1}))
                            : PartialShape(Dims{batch.dims[0], classes_a >= 0 ? classes_a : classes_b});
  c.set_output(0, c.dtype(0), PartialShape(Dims{out.dims[0]}));
  c.set_output(1, c.dtype(0), out);
}

// One row of loss and backprop per output row; label_of(r, i) is class i's label weight in row r (the
// sparse kernel passes a one-hot). A logits batch of 1 is shared by every row (stride 0).
template <class T, class Label>
void xent_rows(KernelCtx& c, const T* logits, int64_t logits_stride, int64_t rows, int64_t n, T* loss, T* back,
               Label label_of, bool dense) {
  if (n == 0) return std::fill(loss, loss + rows, T(0));  // no classes: an empty sum
  // Like TF's kernel: one exp per element, kept in `back` and divided by the row's sum.
  for_rows(c, rows, n, [&](int64_t r) {
    const T* x = logits + r * logits_stride;
    T* b = back + r * n;
    const T mx = row_max(x, n);
    for (int64_t i = 0; i < n; ++i) b[i] = x[i] - mx;
    exp_row(b, b, n);
    T sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += b[i];
    const T lse = std::log(sum);
    T l = 0;
    for (int64_t i = 0; i < n; ++i) {
      T y = label_of(r, i);
      // The dense loss multiplies every label, as TensorFlow's kernel does: a 0 label on a logit of -inf is
      // 0 * -inf, NaN. The sparse loss reads the label's class alone, so other classes never enter.
      if (dense || y != T(0)) l -= y * (x[i] - mx - lse);
      b[i] = b[i] / sum - y;
    }
    loss[r] = l;
  });
}

void xent_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  const Tensor& y = c.in(1);
  const bool ok = x.rank() == 2 && y.rank() == 2 && x.dim(1) == y.dim(1) &&
                  (x.dim(0) == y.dim(0) || x.dim(0) == 1 || y.dim(0) == 1);
  if (!ok)
    c.fail("logits and labels must be broadcastable and 2-dimensional: logits_size=" + dims_str(x.dims()) +
           " labels_size=" + dims_str(y.dims()));
  const int64_t n = x.dim(1), rows = x.dim(0) == 1 ? y.dim(0) : x.dim(0);
  const int64_t xs = x.dim(0) == 1 ? 0 : n, ys = y.dim(0) == 1 ? 0 : n;
  dispatch_float(x.dtype(), "SoftmaxCrossEntropyWithLogits", [&](auto z) {
    using T = decltype(z);
    const T* lab = y.data<T>();
    T* loss = c.alloc(0, x.dtype(), {rows}).template data<T>();
    T* back = c.alloc(1, x.dtype(), {rows, n}).template data<T>();
    xent_rows(c, x.data<T>(), xs, rows, n, loss, back, [&](int64_t r, int64_t i) { return lab[r * ys + i]; }, true);
  });
}

void sparse_xent_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  const Tensor& y = c.in(1);
  if (x.rank() != 2 || y.rank() != 1 || y.dim(0) != x.dim(0))
    c.fail("logits must be 2-D and labels 1-D with the same first dimension, got logits shape " +
           dims_str(x.dims()) + " and labels shape " + dims_str(y.dims()));
  const int64_t rows = x.dim(0), n = x.dim(1);
  std::vector<int64_t> labels = y.to_int_vector();
  for (int64_t l : labels)
    if (l < 0 || l >= n) {
      std::string all;
      for (size_t i = 0; i < labels.size() && i < 32; ++i) all += (i ? " " : "") + std::to_string(labels[i]);
      c.fail("Received a label value of " + std::to_string(l) + " which is outside the valid range of [0, " +
             std::to_string(n) + ").  Label values: " + all);
    }
  dispatch_float(x.dtype(), "SparseSoftmaxCrossEntropyWithLogits", [&](auto z) {
    using T = decltype(z);
    T* loss = c.alloc(0, x.dtype(), {rows}).template data<T>();
    T* back = c.alloc(1, x.dtype(), x.dims()).template data<T>();
    xent_rows(c, x.data<T>(), n, rows, n, loss, back,
              [&](int64_t r, int64_t i) { return labels[r] == i ? T(1) : T(0); }, false);
  });
}

// The per-row loss gradient [batch] spread over the classes: expand_dims(g, -1) * v. The backprop
// output has the full [batch, classes] shape even when logits or labels broadcast.
Output rows_times(GradCtx& g, Output per_row, Output v) {
  Output spread = g.b.op1("ReduceGradBroadcast", {per_row, g.y(1), last_axis(g)}, AttrMap{{"keep_dims", false}});
  return g.b.op1("Mul", {spread, v});
}

// TF's rule: d logits = g_loss * backprop, plus, when the backprop output itself receives a gradient
// (second-order uses), the softmax Jacobian applied to it. Dense labels get -g_loss * log_softmax
// (and -g_backprop).
std::vector<Output> xent_grad(GradCtx& g, bool sparse) {
  Output logits = g.x(0);
  Output dlogits = rows_times(g, g.g(0), g.y(1));
  const bool back_used = g.g(1).node->type() != "ZerosLike";
  if (back_used)
    dlogits = g.b.op1("Add", {dlogits, softmax_backward(g, g.g(1), g.b.op1("Softmax", {logits}))});
  if (sparse) return {dlogits, Output{}};
  Output dlabels = rows_times(g, g.g(0), g.b.op1("LogSoftmax", {logits}));
  if (back_used) dlabels = g.b.op1("Add", {dlabels, g.g(1)});
  return {dlogits, g.b.op1("Neg", {dlabels})};
}

REGISTER_OP("SoftmaxCrossEntropyWithLogits").inputs(2).shape([](InferCtx& c) { xent_shape(c, false); })
    .cpu(via_float32<xent_kernel>).grad([](GradCtx& g) { return xent_grad(g, false); });

REGISTER_OP("SparseSoftmaxCrossEntropyWithLogits").inputs(2).shape([](InferCtx& c) { xent_shape(c, true); })
    .cpu(via_float32<sparse_xent_kernel>).grad([](GradCtx& g) { return xent_grad(g, true); });

}  // namespace
}  // namespace tideflow
