// TEMPORARY: the Python API of the unary elementwise ops (cpp/ops/elementwise_unary.cc), kept in a table
// while that file's rows are being reordered. Each entry moves onto its op's REGISTER_OP row as
// `.args({...}).api({...}).doc("...")` (Note [ops carry their Python API] in op_registry.h), after which
// this file goes away. python/tideflow/ops/gen_ops.py builds the wrappers (tf.math.erf, tf.erf...).
#include "op_registry.h"

namespace tideflow {
namespace {

struct ApiRow {
  const char* op;
  std::vector<std::string> args, api;
  const char* doc;
};

[[maybe_unused]] const bool described = [] {
  const ApiRow rows[] = {
      {"Neg", {"x"}, {"math.negative", "negative"}, "-x, elementwise."},
      {"Square", {"x"}, {"math.square", "square"}, "x * x, elementwise."},
      {"Sqrt", {"x"}, {"math.sqrt", "sqrt"}, "The square root of x, elementwise (NaN below 0)."},
      {"Rsqrt", {"x"}, {"math.rsqrt", "rsqrt"}, "1 / sqrt(x), elementwise."},
      {"Exp", {"x"}, {"math.exp", "exp"}, "e to the power x, elementwise."},
      {"Log", {"x"}, {"math.log", "log"}, "The natural logarithm of x, elementwise (-inf at 0, NaN below)."},
      {"Log1p", {"x"}, {"math.log1p", "log1p"}, "log(1 + x), accurate for small x."},
      {"Abs", {"x"}, {"math.abs", "abs"}, "|x|, elementwise."},
      {"Sign", {"x"}, {"math.sign", "sign"}, "-1, 0 or 1: the sign of x, elementwise."},
      {"Sin", {"x"}, {"math.sin", "sin"}, "The sine of x (radians), elementwise."},
      {"Cos", {"x"}, {"math.cos", "cos"}, "The cosine of x (radians), elementwise."},
      {"Tanh", {"x"}, {"math.tanh", "nn.tanh", "tanh"}, "The hyperbolic tangent of x, elementwise."},
      {"Sigmoid", {"x"}, {"math.sigmoid", "nn.sigmoid", "sigmoid"}, "1 / (1 + exp(-x)), elementwise."},
      {"Reciprocal", {"x"}, {"math.reciprocal", "reciprocal"}, "1 / x, elementwise."},
      {"Floor", {"x"}, {"math.floor", "floor"}, "The largest integer not greater than x, elementwise."},
      {"Ceil", {"x"}, {"math.ceil", "ceil"}, "The smallest integer not less than x, elementwise."},
      {"Rint", {"x"}, {"math.rint", "rint"}, "Rounds half to even, like round, for float tensors."},
      {"Expm1", {"x"}, {"math.expm1", "expm1"}, "exp(x) - 1, accurate for small x."},
      {"Erf", {"x"}, {"math.erf", "erf"}, "The Gauss error function, 2/sqrt(pi) times the integral of exp(-t^2) "
                                          "from 0 to x."},
      {"Erfc", {"x"}, {"math.erfc", "erfc"}, "1 - erf(x), accurate where erf(x) is close to 1."},
      {"Lgamma", {"x"}, {"math.lgamma", "lgamma"}, "log|Gamma(x)|; +inf at the poles (non-positive integers)."},
      {"Digamma", {"x"}, {"math.digamma", "digamma"}, "d/dx lgamma(x); NaN at the poles (non-positive integers)."},
      {"Tan", {"x"}, {"math.tan", "tan"}, "The tangent of x (radians), elementwise."},
      {"Asin", {"x"}, {"math.asin", "asin"}, "The arcsine of x in [-pi/2, pi/2] (NaN outside [-1, 1])."},
      {"Acos", {"x"}, {"math.acos", "acos"}, "The arccosine of x in [0, pi] (NaN outside [-1, 1])."},
      {"Atan", {"x"}, {"math.atan", "atan"}, "The arctangent of x in (-pi/2, pi/2)."},
      {"Sinh", {"x"}, {"math.sinh", "sinh"}, "The hyperbolic sine of x, elementwise."},
      {"Cosh", {"x"}, {"math.cosh", "cosh"}, "The hyperbolic cosine of x, elementwise."},
      {"Asinh", {"x"}, {"math.asinh", "asinh"}, "The inverse hyperbolic sine of x, elementwise."},
      {"Acosh", {"x"}, {"math.acosh", "acosh"}, "The inverse hyperbolic cosine of x (NaN below 1)."},
      {"Atanh", {"x"}, {"math.atanh", "atanh"}, "The inverse hyperbolic tangent of x (NaN outside [-1, 1])."},
      {"Relu", {"features"}, {"nn.relu", "relu"}, "max(features, 0), elementwise."},
      {"LogicalNot", {"x"}, {"math.logical_not", "logical_not"}, "not x, elementwise, for bool tensors."},
      {"IsNan", {"x"}, {"math.is_nan", "debugging.is_nan", "is_nan"}, "Where x is NaN, as a bool tensor."},
      {"IsInf", {"x"}, {"math.is_inf", "debugging.is_inf", "is_inf"}, "Where x is +inf or -inf, as a bool tensor."},
      {"IsFinite", {"x"}, {"math.is_finite", "debugging.is_finite", "is_finite"},
       "Where x is neither infinite nor NaN, as a bool tensor."},
  };
  for (const ApiRow& r : rows) OpRegistry::global().describe(r.op, r.args, r.api, r.doc);
  return true;
}();

}  // namespace
}  // namespace tideflow
