// tideflow's C++ API, part 3: typed helpers for the common ops, with TensorFlow 1.x's op types, node names
// and semantics (tf.add, tf.matmul, tf.reduce_mean, tf.nn.relu...), and arithmetic operators on Outputs.
// Anything else is one OpBuilder away: every registered op can be built by name.
//
// Each helper takes an optional Name last; optional flags come in a separate overload (matmul(a, b) and
// matmul(a, b, transpose_a, transpose_b)), so a name string can never be taken for a flag.
#pragma once

#include <string>
#include <vector>

#include "tideflow/graph.h"

namespace tideflow {
inline namespace v1 {

namespace detail {

// A scalar of dtype dt (Python's conversion of a number next to a tensor: it takes the tensor's dtype).
inline Tensor scalar_of(double v, DType dt) {
  switch (dt) {
    case DType::Float32: return Tensor(static_cast<float>(v));
    case DType::Float64: return Tensor(v);
    case DType::Int32: return Tensor(static_cast<int32_t>(v));
    case DType::Int64: return Tensor(static_cast<int64_t>(v));
    case DType::Bool: return Tensor(v != 0);
    default: throw TypeError(std::string("cannot make a number of dtype ") + dtype_name(dt));
  }
}

inline Tensor int32_vector(const std::vector<int64_t>& v) {
  std::vector<int32_t> w(v.begin(), v.end());
  return Tensor(w, Shape{static_cast<int64_t>(w.size())});
}

inline Output unary(const char* type, const Output& x, const Name& name) {
  return OpBuilder(graph_of(x, type), type, name).input(x).finish1();
}

inline Output binary(const char* type, const char* default_name, const Output& x, const Output& y, const Name& name) {
  return OpBuilder(graph_of(x, type), type, name.with(name.or_default(default_name))).input(x).input(y).finish1();
}

// x op number (or number op x when `reflected`): the number becomes a constant "y" (or "x") under the
// node's name scope, as TensorFlow names it ("mul/y").
inline Output binary(const char* type, const char* default_name, const Output& x, double y, bool reflected,
                     const Name& name) {
  TFL_Graph* g = graph_of(x, type);
  NameScope scope(g, name.or_default(default_name));
  Output c = constant(g, scalar_of(y, x.dtype()), name.with(reflected ? "x" : "y"));
  OpBuilder b(g, type, name.with(scope.name()));
  if (reflected) b.input(c).input(x);
  else b.input(x).input(c);
  return b.finish1();
}

}  // namespace detail

// ---- sources ---------------------------------------------------------------------------------------

// tf.placeholder: fed by Session::run. Dims of -1 accept any size; without a shape any rank is accepted.
inline Output placeholder(Graph& g, DType dtype, const Name& name = Name()) {
  return OpBuilder(g, "Placeholder", name).attr("dtype", dtype).attr("shape", PartialShape::unknown()).finish1();
}
inline Output placeholder(Graph& g, DType dtype, const PartialShape& shape, const Name& name = Name()) {
  return OpBuilder(g, "Placeholder", name).attr("dtype", dtype).attr("shape", shape).finish1();
}
inline Output placeholder_with_default(const Output& input, const PartialShape& shape, const Name& name = Name()) {
  return OpBuilder(detail::graph_of(input, "PlaceholderWithDefault"), "PlaceholderWithDefault", name)
      .input(input).attr("shape", shape).finish1();
}

// tf.constant
inline Output constant(Graph& g, const Tensor& value, const Name& name = Name()) {
  return detail::constant(g.c(), value, name);
}

// tf.fill / tf.zeros / tf.ones (a constant; a Fill node from 1000 elements on, as TensorFlow does).
inline Output fill(Graph& g, const Shape& shape, const Tensor& value, const Name& name = Name()) {
  NameScope scope(g.c(), name.or_default("Fill"));
  Output dims = detail::constant(g.c(), detail::int32_vector(shape), name.with("dims"));
  Output v = detail::constant(g.c(), value, name.with("value"));
  return OpBuilder(g, "Fill", name.with(scope.name())).input(dims).input(v).finish1();
}
inline Output zeros(Graph& g, const Shape& shape, DType dtype = float32, const Name& name = Name()) {
  return fill(g, shape, detail::scalar_of(0, dtype), name.with(name.or_default("zeros")));
}
inline Output ones(Graph& g, const Shape& shape, DType dtype = float32, const Name& name = Name()) {
  return fill(g, shape, detail::scalar_of(1, dtype), name.with(name.or_default("ones")));
}
inline Output zeros_like(const Output& x, const Name& name = Name()) { return detail::unary("ZerosLike", x, name); }
inline Output ones_like(const Output& x, const Name& name = Name()) { return detail::unary("OnesLike", x, name); }

// Random tensors (Philox4x32-10, TensorFlow 1.x's seed rules: the graph seed of Graph::set_random_seed and
// an op seed; seed < 0 means none). Same seeds, same numbers as tideflow's Python API.
namespace detail {
inline Output random(const char* type, const char* default_name, Graph& g, const Shape& shape, double a, double b,
                     DType dtype, int64_t seed, const Name& name, bool affine_uniform = false) {
  NameScope scope(g.c(), name.or_default(default_name));
  Output dims = constant(g.c(), int32_vector(shape), name.with("shape"));
  int64_t s1 = 0, s2 = 0;
  TFL_GraphOpSeeds(g.c(), seed, &s1, &s2);
  if (affine_uniform) {  // tf.random_uniform: (max - min) * U + min, nothing added for [0, 1)
    bool unit = a == 0 && b == 1;
    Output lo, hi;
    if (!unit) {
      lo = constant(g.c(), scalar_of(a, dtype), name.with("min"));
      hi = constant(g.c(), scalar_of(b, dtype), name.with("max"));
    }
    Output u = OpBuilder(g, type, name.with(unit ? scope.name() : std::string(type)))
                   .input(dims).attr("seed", s1).attr("seed2", s2).attr("dtype", dtype).finish1();
    if (unit) return u;
    Output range = OpBuilder(g, "Sub", name.with("sub")).input(hi).input(lo).finish1();
    Output scaled = OpBuilder(g, "Mul", name.with("mul")).input(u).input(range).finish1();
    return OpBuilder(g, "Add", name.with(scope.name())).input(scaled).input(lo).finish1();
  }
  Output mean = constant(g.c(), scalar_of(a, dtype), name.with("mean"));
  Output stddev = constant(g.c(), scalar_of(b, dtype), name.with("stddev"));
  Output r = OpBuilder(g, type, name.with(type)).input(dims).attr("seed", s1).attr("seed2", s2).attr("dtype", dtype).finish1();
  Output scaled = OpBuilder(g, "Mul", name.with("mul")).input(r).input(stddev).finish1();
  return OpBuilder(g, "Add", name.with(scope.name())).input(scaled).input(mean).finish1();
}
}  // namespace detail

inline Output random_normal(Graph& g, const Shape& shape, double mean = 0.0, double stddev = 1.0,
                            DType dtype = float32, int64_t seed = -1, const Name& name = Name()) {
  return detail::random("RandomStandardNormal", "random_normal", g, shape, mean, stddev, dtype, seed, name);
}
inline Output truncated_normal(Graph& g, const Shape& shape, double mean = 0.0, double stddev = 1.0,
                               DType dtype = float32, int64_t seed = -1, const Name& name = Name()) {
  return detail::random("TruncatedNormal", "truncated_normal", g, shape, mean, stddev, dtype, seed, name);
}
inline Output random_uniform(Graph& g, const Shape& shape, double minval = 0.0, double maxval = 1.0,
                             DType dtype = float32, int64_t seed = -1, const Name& name = Name()) {
  if (!is_floating(dtype)) throw ValueError("random_uniform: only float32 and float64 here; use OpBuilder(\"RandomUniformInt\")");
  return detail::random("RandomUniform", "random_uniform", g, shape, minval, maxval, dtype, seed, name, true);
}

// ---- elementwise -----------------------------------------------------------------------------------

#define TIDEFLOW_UNARY(fn, type) \
  inline Output fn(const Output& x, const Name& name = Name()) { return detail::unary(type, x, name); }
TIDEFLOW_UNARY(identity, "Identity")
TIDEFLOW_UNARY(stop_gradient, "StopGradient")
TIDEFLOW_UNARY(negative, "Neg")
TIDEFLOW_UNARY(square, "Square")
TIDEFLOW_UNARY(sqrt, "Sqrt")
TIDEFLOW_UNARY(rsqrt, "Rsqrt")
TIDEFLOW_UNARY(exp, "Exp")
TIDEFLOW_UNARY(log, "Log")
TIDEFLOW_UNARY(log1p, "Log1p")
TIDEFLOW_UNARY(abs, "Abs")
TIDEFLOW_UNARY(sign, "Sign")
TIDEFLOW_UNARY(reciprocal, "Reciprocal")
TIDEFLOW_UNARY(floor, "Floor")
TIDEFLOW_UNARY(ceil, "Ceil")
TIDEFLOW_UNARY(round, "Round")
TIDEFLOW_UNARY(sin, "Sin")
TIDEFLOW_UNARY(cos, "Cos")
TIDEFLOW_UNARY(tanh, "Tanh")
TIDEFLOW_UNARY(sigmoid, "Sigmoid")
TIDEFLOW_UNARY(logical_not, "LogicalNot")
TIDEFLOW_UNARY(shape, "Shape")
#undef TIDEFLOW_UNARY

#define TIDEFLOW_BINARY(fn, type)                                                    \
  inline Output fn(const Output& x, const Output& y, const Name& name = Name()) {    \
    return detail::binary(type, type, x, y, name);                                   \
  }                                                                                  \
  inline Output fn(const Output& x, double y, const Name& name = Name()) {           \
    return detail::binary(type, type, x, y, false, name);                            \
  }
TIDEFLOW_BINARY(add, "Add")
TIDEFLOW_BINARY(subtract, "Sub")
TIDEFLOW_BINARY(multiply, "Mul")
TIDEFLOW_BINARY(maximum, "Maximum")
TIDEFLOW_BINARY(minimum, "Minimum")
TIDEFLOW_BINARY(pow, "Pow")
TIDEFLOW_BINARY(squared_difference, "SquaredDifference")
TIDEFLOW_BINARY(floordiv, "FloorDiv")
TIDEFLOW_BINARY(mod, "FloorMod")
TIDEFLOW_BINARY(equal, "Equal")
TIDEFLOW_BINARY(not_equal, "NotEqual")
TIDEFLOW_BINARY(less, "Less")
TIDEFLOW_BINARY(less_equal, "LessEqual")
TIDEFLOW_BINARY(greater, "Greater")
TIDEFLOW_BINARY(greater_equal, "GreaterEqual")
#undef TIDEFLOW_BINARY

inline Output logical_and(const Output& x, const Output& y, const Name& name = Name()) {
  return detail::binary("LogicalAnd", "LogicalAnd", x, y, name);
}
inline Output logical_or(const Output& x, const Output& y, const Name& name = Name()) {
  return detail::binary("LogicalOr", "LogicalOr", x, y, name);
}

// tf.cast (an Output of that dtype already is returned as it is).
inline Output cast(const Output& x, DType dtype, const Name& name = Name()) {
  if (x.dtype() == dtype) return x;
  return OpBuilder(detail::graph_of(x, "Cast"), "Cast", name).input(x).attr("DstT", dtype).finish1();
}

// tf.divide / tf.truediv: integers are divided as float64 (Python 3 division, as TensorFlow does).
inline Output divide(const Output& x, const Output& y, const Name& name = Name()) {
  TFL_Graph* g = detail::graph_of(x, "truediv");
  if (x.dtype() != y.dtype())
    throw TypeError("x and y must have the same dtype, got " + std::string(dtype_name(x.dtype())) + " != " +
                    dtype_name(y.dtype()));
  if (!is_integer(x.dtype())) return detail::binary("RealDiv", "truediv", x, y, name);
  NameScope scope(g, name.or_default("truediv"));
  return OpBuilder(g, "RealDiv", name.with(scope.name()))
      .input(cast(x, float64, name.with("Cast"))).input(cast(y, float64, name.with("Cast"))).finish1();
}
inline Output divide(const Output& x, double y, const Name& name = Name()) {
  if (is_integer(x.dtype()))
    return divide(x, detail::constant(x.graph(), detail::scalar_of(y, x.dtype()), name.with("y")), name);
  return detail::binary("RealDiv", "truediv", x, y, false, name);
}

inline Output add_n(const std::vector<Output>& xs, const Name& name = Name()) {
  if (xs.empty()) throw ValueError("add_n: inputs must be a non-empty list");
  if (xs.size() == 1) return xs[0];
  return OpBuilder(detail::graph_of(xs[0], "AddN"), "AddN", name).inputs(xs).finish1();
}

inline Output where(const Output& condition, const Output& x, const Output& y, const Name& name = Name()) {
  return OpBuilder(detail::graph_of(condition, "Select"), "Select", name).input(condition).input(x).input(y).finish1();
}

// Operators, named as TensorFlow names them ("add", "sub", "mul", "truediv"); a number takes the other
// operand's dtype.
inline Output operator+(const Output& x, const Output& y) { return detail::binary("Add", "add", x, y, Name("", "", 0)); }
inline Output operator-(const Output& x, const Output& y) { return detail::binary("Sub", "sub", x, y, Name("", "", 0)); }
inline Output operator*(const Output& x, const Output& y) { return detail::binary("Mul", "mul", x, y, Name("", "", 0)); }
inline Output operator/(const Output& x, const Output& y) { return divide(x, y, Name("truediv", "", 0)); }
inline Output operator+(const Output& x, double y) { return detail::binary("Add", "add", x, y, false, Name("", "", 0)); }
inline Output operator-(const Output& x, double y) { return detail::binary("Sub", "sub", x, y, false, Name("", "", 0)); }
inline Output operator*(const Output& x, double y) { return detail::binary("Mul", "mul", x, y, false, Name("", "", 0)); }
inline Output operator/(const Output& x, double y) { return divide(x, y, Name("truediv", "", 0)); }
inline Output operator+(double x, const Output& y) { return detail::binary("Add", "add", y, x, true, Name("", "", 0)); }
inline Output operator-(double x, const Output& y) { return detail::binary("Sub", "sub", y, x, true, Name("", "", 0)); }
inline Output operator*(double x, const Output& y) { return detail::binary("Mul", "mul", y, x, true, Name("", "", 0)); }
inline Output operator-(const Output& x) { return detail::unary("Neg", x, Name("", "", 0)); }

// ---- linear algebra --------------------------------------------------------------------------------

// tf.matmul: a MatMul for rank-2 operands, a BatchMatMulV2 (batch dims broadcast) otherwise.
inline Output matmul(const Output& a, const Output& b, bool transpose_a, bool transpose_b, const Name& name = Name()) {
  TFL_Graph* g = detail::graph_of(a, "MatMul");
  if (a.rank() == 2 && b.rank() == 2)
    return OpBuilder(g, "MatMul", name.with(name.or_default("MatMul")))
        .input(a).input(b).attr("transpose_a", transpose_a).attr("transpose_b", transpose_b).finish1();
  return OpBuilder(g, "BatchMatMulV2", name.with(name.or_default("MatMul")))
      .input(a).input(b).attr("adj_x", transpose_a).attr("adj_y", transpose_b).finish1();
}
inline Output matmul(const Output& a, const Output& b, const Name& name = Name()) {
  return matmul(a, b, false, false, name);
}

// ---- shapes ----------------------------------------------------------------------------------------

inline Output reshape(const Output& x, const Shape& shape, const Name& name = Name()) {
  TFL_Graph* g = detail::graph_of(x, "Reshape");
  Output s = detail::constant(g, detail::int32_vector(shape), name.with("Reshape/shape"));
  return OpBuilder(g, "Reshape", name).input(x).input(s).finish1();
}
inline Output transpose(const Output& x, const std::vector<int64_t>& perm, const Name& name = Name()) {
  TFL_Graph* g = detail::graph_of(x, "Transpose");
  NameScope scope(g, name.or_default("transpose"));
  Output p = detail::constant(g, detail::int32_vector(perm), name.with("perm"));
  return OpBuilder(g, "Transpose", name.with(scope.name())).input(x).input(p).finish1();
}
inline Output concat(const std::vector<Output>& values, int64_t axis, const Name& name = Name()) {
  if (values.empty()) throw ValueError("concat: values must be a non-empty list");
  TFL_Graph* g = detail::graph_of(values[0], "ConcatV2");
  if (values.size() == 1) return identity(values[0], name.with(name.or_default("concat")));
  Output a = detail::constant(g, Tensor(static_cast<int32_t>(axis)), name.with(name.or_default("concat") + "/axis"));
  return OpBuilder(g, "ConcatV2", name.with(name.or_default("concat"))).inputs(values).input(a).finish1();
}
inline Output expand_dims(const Output& x, int64_t axis, const Name& name = Name()) {
  TFL_Graph* g = detail::graph_of(x, "ExpandDims");
  Output a = detail::constant(g, Tensor(static_cast<int32_t>(axis)), name.with("ExpandDims/dim"));
  return OpBuilder(g, "ExpandDims", name).input(x).input(a).finish1();
}
inline Output squeeze(const Output& x, const std::vector<int64_t>& axis = {}, const Name& name = Name()) {
  return OpBuilder(detail::graph_of(x, "Squeeze"), "Squeeze", name).input(x).attr("squeeze_dims", axis).finish1();
}

// ---- reductions ------------------------------------------------------------------------------------

// Reduction axes: {} (the default) is every axis, as TensorFlow's axis=None; {0, 1} or a single int.
struct Axes {
  bool all = true;
  std::vector<int64_t> axes;
  Axes() = default;
  Axes(std::initializer_list<int64_t> a) : all(false), axes(a) {}
  Axes(std::vector<int64_t> a) : all(false), axes(std::move(a)) {}  // NOLINT
  Axes(int64_t a) : all(false), axes{a} {}                           // NOLINT
  Axes(int a) : all(false), axes{a} {}                               // NOLINT
};

namespace detail {
inline Output reduce(const char* type, const Output& x, const Axes& axes, bool keepdims, const Name& name) {
  TFL_Graph* g = graph_of(x, type);
  NameScope scope(g, name.or_default(type));
  Output ax;
  if (!axes.all) {
    ax = constant(g, int32_vector(axes.axes), name.with("reduction_indices"));
  } else if (x.rank() >= 0) {
    std::vector<int64_t> all;
    for (int i = 0; i < x.rank(); ++i) all.push_back(i);
    ax = constant(g, int32_vector(all), name.with("Const"));
  } else {
    Output rank = OpBuilder(g, "Rank", name.with("Rank")).input(x).finish1();
    ax = OpBuilder(g, "Range", name.with("range"))
             .input(constant(g, Tensor(int32_t{0}), name.with("Const")))
             .input(rank)
             .input(constant(g, Tensor(int32_t{1}), name.with("Const")))
             .finish1();
  }
  return OpBuilder(g, type, name.with(scope.name())).input(x).input(ax).attr("keep_dims", keepdims).finish1();
}
}  // namespace detail

#define TIDEFLOW_REDUCE(fn, type)                                                                     \
  inline Output fn(const Output& x, const Name& name = Name()) {                                    \
    return detail::reduce(type, x, Axes(), false, name);                                            \
  }                                                                                                 \
  inline Output fn(const Output& x, const Axes& axes, const Name& name = Name()) {                  \
    return detail::reduce(type, x, axes, false, name);                                              \
  }                                                                                                 \
  inline Output fn(const Output& x, const Axes& axes, bool keepdims, const Name& name = Name()) {   \
    return detail::reduce(type, x, axes, keepdims, name);                                           \
  }
TIDEFLOW_REDUCE(reduce_sum, "Sum")
TIDEFLOW_REDUCE(reduce_mean, "Mean")
TIDEFLOW_REDUCE(reduce_max, "Max")
TIDEFLOW_REDUCE(reduce_min, "Min")
TIDEFLOW_REDUCE(reduce_prod, "Prod")
#undef TIDEFLOW_REDUCE

inline Output argmax(const Output& x, int64_t axis, DType output_type = int64, const Name& name = Name()) {
  TFL_Graph* g = detail::graph_of(x, "ArgMax");
  Output a = detail::constant(g, Tensor(static_cast<int32_t>(axis)), name.with("dimension"));
  return OpBuilder(g, "ArgMax", name).input(x).input(a).attr("output_type", output_type).finish1();
}
inline Output argmin(const Output& x, int64_t axis, DType output_type = int64, const Name& name = Name()) {
  TFL_Graph* g = detail::graph_of(x, "ArgMin");
  Output a = detail::constant(g, Tensor(static_cast<int32_t>(axis)), name.with("dimension"));
  return OpBuilder(g, "ArgMin", name).input(x).input(a).attr("output_type", output_type).finish1();
}

// ---- variables and control -------------------------------------------------------------------------

namespace detail {
inline Output update(const char* type, const Output& ref, const Output& value, const Name& name, bool validate) {
  OpBuilder b(graph_of(ref, type), type, name);
  b.input(ref).input(value);
  if (validate) b.attr("validate_shape", true);
  return b.finish1();
}
}  // namespace detail
inline Output assign(const Output& ref, const Output& value, const Name& name = Name()) {
  return detail::update("Assign", ref, value, name, true);
}
inline Output assign_add(const Output& ref, const Output& value, const Name& name = Name()) {
  return detail::update("AssignAdd", ref, value, name, false);
}
inline Output assign_sub(const Output& ref, const Output& value, const Name& name = Name()) {
  return detail::update("AssignSub", ref, value, name, false);
}

inline Operation no_op(Graph& g, const Name& name = Name()) { return OpBuilder(g, "NoOp", name).finish(); }

// tf.group: a NoOp that runs all of `ops`.
inline Operation group(const std::vector<Operation>& ops, const Name& name = Name()) {
  if (ops.empty()) throw ValueError("group: no operations given");
  OpBuilder b(ops[0].graph(), "NoOp", name.with(name.or_default("group_deps")));
  for (const Operation& op : ops) b.control_input(op);
  return b.finish();
}

// ---- tf.nn -----------------------------------------------------------------------------------------

namespace nn {

inline Output relu(const Output& x, const Name& name = Name()) { return detail::unary("Relu", x, name); }
inline Output relu6(const Output& x, const Name& name = Name()) { return detail::unary("Relu6", x, name); }
inline Output elu(const Output& x, const Name& name = Name()) { return detail::unary("Elu", x, name); }
inline Output softplus(const Output& x, const Name& name = Name()) { return detail::unary("Softplus", x, name); }
inline Output sigmoid(const Output& x, const Name& name = Name()) { return detail::unary("Sigmoid", x, name); }
inline Output tanh(const Output& x, const Name& name = Name()) { return detail::unary("Tanh", x, name); }
// Over the last axis.
inline Output softmax(const Output& logits, const Name& name = Name()) { return detail::unary("Softmax", logits, name); }
inline Output log_softmax(const Output& logits, const Name& name = Name()) {
  return detail::unary("LogSoftmax", logits, name);
}

// value + bias, bias a vector along the last dimension.
inline Output bias_add(const Output& value, const Output& bias, const Name& name = Name()) {
  if (bias.rank() >= 0 && bias.rank() != 1)
    throw ValueError("Shape must be rank 1 but is rank " + std::to_string(bias.rank()) + " for 'BiasAdd' bias");
  return detail::binary("Add", "BiasAdd", value, bias, name);
}

// sum(t ** 2) / 2
inline Output l2_loss(const Output& t, const Name& name = Name()) {
  TFL_Graph* g = detail::graph_of(t, "L2Loss");
  NameScope scope(g, name.or_default("L2Loss"));
  Output half = detail::constant(g, detail::scalar_of(0.5, t.dtype()), name.with("Const"));
  Output sum = reduce_sum(square(t, name.with("Square")), name.with("Sum"));
  return OpBuilder(g, "Mul", name.with(scope.name())).input(sum).input(half).finish1();
}

// One loss per row of rank-2 logits [batch, classes]; labels hold probabilities (no gradient flows into
// them, as TensorFlow 1.x's version).
inline Output softmax_cross_entropy_with_logits(const Output& labels, const Output& logits, const Name& name = Name()) {
  TFL_Graph* g = detail::graph_of(logits, "SoftmaxCrossEntropyWithLogits");
  if (logits.rank() != 2)
    throw ValueError("softmax_cross_entropy_with_logits: the C++ API takes rank-2 logits [batch, classes], got rank " +
                     std::to_string(logits.rank()));
  NameScope scope(g, name.or_default("softmax_cross_entropy_with_logits_sg"));
  Output stopped = detail::unary("StopGradient", labels, name.with("labels_stop_gradient"));
  return OpBuilder(g, "SoftmaxCrossEntropyWithLogits", name.with(scope.name())).input(logits).input(stopped).finish1();
}

// One loss per row; labels are class indices (int32 / int64) of shape [batch].
inline Output sparse_softmax_cross_entropy_with_logits(const Output& labels, const Output& logits,
                                                       const Name& name = Name()) {
  TFL_Graph* g = detail::graph_of(logits, "SparseSoftmaxCrossEntropyWithLogits");
  if (logits.rank() >= 0 && logits.rank() != 2)
    throw ValueError("sparse_softmax_cross_entropy_with_logits: the C++ API takes rank-2 logits, got rank " +
                     std::to_string(logits.rank()));
  if (labels.rank() >= 0 && logits.rank() >= 0 && labels.rank() != logits.rank() - 1)
    throw ValueError("Rank mismatch: Rank of labels (received " + std::to_string(labels.rank()) +
                     ") should equal rank of logits minus 1 (received " + std::to_string(logits.rank()) + ").");
  NameScope scope(g, name.or_default("SparseSoftmaxCrossEntropyWithLogits"));  // TF names the node inside it
  return OpBuilder(g, "SparseSoftmaxCrossEntropyWithLogits", name.with(name.or_default("SparseSoftmaxCrossEntropyWithLogits")))
      .input(logits).input(labels).finish1();
}

// max(x, 0) - x * z + log(1 + exp(-|x|)), finite for any logits x.
inline Output sigmoid_cross_entropy_with_logits(const Output& labels, const Output& logits, const Name& name = Name()) {
  TFL_Graph* g = detail::graph_of(logits, "logistic_loss");
  NameScope scope(g, name.or_default("logistic_loss"));
  Output zeros = zeros_like(logits, name.with("zeros_like"));
  Output cond = greater_equal(logits, zeros, name.with("GreaterEqual"));
  Output relu_logits = where(cond, logits, zeros, name.with("Select"));
  Output neg_abs = where(cond, negative(logits, name.with("Neg")), logits, name.with("Select"));
  Output a = subtract(relu_logits, multiply(logits, labels, name.with("Mul")), name.with("Sub"));
  Output b = log1p(exp(neg_abs, name.with("Exp")), name.with("Log1p"));
  return OpBuilder(g, "Add", name.with(scope.name())).input(a).input(b).finish1();
}

}  // namespace nn

}  // namespace v1
}  // namespace tideflow
