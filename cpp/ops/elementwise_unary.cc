// Unary elementwise ops, Cast, and ZerosLike/OnesLike (which the gradient driver uses to seed and pad).
#include <cmath>
#include <limits>
#include <type_traits>

#include "elementwise.h"
#include "kernels/special_math.h"
#include "kernels/vector_math.h"

namespace tideflow {
namespace {
using namespace elementwise;  // NOLINT: the family's private helpers

// ---- shared by the family ----

template <DTypeSet Kinds>
void unary_shape(InferCtx& c) {
  check_dtype(c, 0, Kinds);
  c.set_output(0, c.dtype(0), c.shape(0));
}

// Note [float32 transcendentals]
// libm's expf, logf and tanhf are scalar calls (tanhf alone took 20 ms on a 512x1024 activation, 8x
// TensorFlow's Eigen kernels), so a functor may name a whole-array float32 function as its `f32` member,
// and unary_kernel hands each parallel_for chunk of a float32 input to it instead of calling the functor
// per element. Exp, Log, Tanh and Sigmoid name the polynomial kernels of vector_math.h (AVX2 + FMA when
// the CPU has them, ~2 ulp). float64 keeps libm through operator(): the float64 gradient checks need
// every digit.
template <class F, class = void> struct has_f32 : std::false_type {};
template <class F> struct has_f32<F, std::void_t<decltype(F::f32)>> : std::true_type {};

// Per element, vectorized math costs a few cheap ops where libm costs kTranscendental.
constexpr int64_t kVectorMath = 4;

// out = F::f32(in) over float32 arrays, a chunk per call (Note [float32 transcendentals]).
template <class F>
void unary_map_f32(KernelCtx& c) {
  const float* x = c.in(0).data<float>();
  const int64_t n = c.in(0).size();
  Dims dims = c.in(0).dims();
  float* o = alloc_output(c, DType::Float32, dims).data<float>();
  c.parallel_for(n, kVectorMath, [&](int64_t lo, int64_t hi) { F::f32(x + lo, o + lo, hi - lo); });
}

template <class F, DTypeSet Kinds, int64_t Cost = kCheap>
void unary_kernel(KernelCtx& c) {
  if constexpr (has_f32<F>::value)
    if (c.in(0).dtype() == DType::Float32) return unary_map_f32<F>(c);
  if constexpr (Kinds == kBool) unary_map<bool, bool>(c, F{}, Cost);
  else dispatch<Kinds>(c.in(0).dtype(), c.node.type().c_str(), [&](auto z) {
    unary_map<decltype(z), decltype(z)>(c, F{}, Cost);
  });
}

// Functions libm has, for float and double alike (lgamma is log|Gamma(x)|, +inf at the poles, as TF).
#define TIDEFLOW_LIBM_UNARY(Name, fn) \
  struct Name { template <class T> T operator()(T x) const { return std::fn(x); } };

// ---- arithmetic and math functions ----

struct NegF { template <class T> T operator()(T x) const { return wrap_neg(x); } };
std::vector<Output> neg_grad(GradCtx& g) { return {emit(g, "Neg", {g.g()})}; }
REGISTER_OP("Neg").inputs(1).args({"x"}).api({"math.negative", "negative"})
    .doc("-x, elementwise.")
    .shape(unary_shape<kFloat | kSignedInt>).cpu(unary_kernel<NegF, kFloat | kSignedInt>).grad(neg_grad);

struct SquareF { template <class T> T operator()(T x) const { return wrapping_mul(x, x); } };
std::vector<Output> square_grad(GradCtx& g) {
  return {emit(g, "Mul", {g.g(), emit(g, "Mul", {scalar_like(g, 2.0, g.x(0)), g.x(0)})})};
}
REGISTER_OP("Square").inputs(1).args({"x"}).api({"math.square", "square"})
    .doc("x * x, elementwise.")
    .shape(unary_shape<kNumeric>).cpu(unary_kernel<SquareF, kNumeric>).grad(square_grad);

// d sqrt(x) = 0.5 / y; d rsqrt(x) = -0.5 y^3; both from the output, so x can be freed early.
struct SqrtF { template <class T> T operator()(T x) const { return std::sqrt(x); } };
std::vector<Output> sqrt_grad(GradCtx& g) {
  return {emit(g, "RealDiv", {emit(g, "Mul", {g.g(), scalar_like(g, 0.5, g.y())}), g.y()})};
}
REGISTER_OP("Sqrt").inputs(1).args({"x"}).api({"math.sqrt", "sqrt"})
    .doc("The square root of x, elementwise (NaN below 0).")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<SqrtF, kFloat>).grad(sqrt_grad);

struct RsqrtF { template <class T> T operator()(T x) const { return T(1) / std::sqrt(x); } };
std::vector<Output> rsqrt_grad(GradCtx& g) {
  Output y3 = emit(g, "Mul", {emit(g, "Square", {g.y()}), g.y()});
  return {emit(g, "Mul", {emit(g, "Mul", {g.g(), scalar_like(g, -0.5, g.y())}), y3})};
}
REGISTER_OP("Rsqrt").inputs(1).args({"x"}).api({"math.rsqrt", "rsqrt"})
    .doc("1 / sqrt(x), elementwise.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<RsqrtF, kFloat>).grad(rsqrt_grad);

struct ExpF {
  static constexpr auto f32 = vecmath::exp_f32;
  template <class T> T operator()(T x) const { return std::exp(x); }
};
std::vector<Output> exp_grad(GradCtx& g) { return {emit(g, "Mul", {g.g(), g.y()})}; }
REGISTER_OP("Exp").inputs(1).args({"x"}).api({"math.exp", "exp"})
    .doc("e to the power x, elementwise.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<ExpF, kFloat, kTranscendental>)
    .grad(exp_grad);

struct LogF {
  static constexpr auto f32 = vecmath::log_f32;
  template <class T> T operator()(T x) const { return std::log(x); }
};
std::vector<Output> log_grad(GradCtx& g) { return {emit(g, "Mul", {g.g(), emit(g, "Reciprocal", {g.x(0)})})}; }
REGISTER_OP("Log").inputs(1).args({"x"}).api({"math.log", "log"})
    .doc("The natural logarithm of x, elementwise (-inf at 0, NaN below).")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<LogF, kFloat, kTranscendental>)
    .grad(log_grad);

struct Log1pF { template <class T> T operator()(T x) const { return std::log1p(x); } };
std::vector<Output> log1p_grad(GradCtx& g) {
  Output one_px = emit(g, "Add", {scalar_like(g, 1.0, g.x(0)), g.x(0)});
  return {emit(g, "Mul", {g.g(), emit(g, "Reciprocal", {one_px})})};
}
REGISTER_OP("Log1p").inputs(1).args({"x"}).api({"math.log1p", "log1p"})
    .doc("log(1 + x), accurate for small x.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<Log1pF, kFloat, kTranscendental>)
    .grad(log1p_grad);

struct AbsF { template <class T> T operator()(T x) const { return x < 0 ? wrap_neg(x) : x; } };
// g * sign(x): 0 at x == 0, as TF.
std::vector<Output> abs_grad(GradCtx& g) { return {emit(g, "Mul", {g.g(), emit(g, "Sign", {g.x(0)})})}; }
REGISTER_OP("Abs").inputs(1).args({"x"}).api({"math.abs", "abs"})
    .doc("|x|, elementwise.")
    .shape(unary_shape<kFloat | kSignedInt>).cpu(unary_kernel<AbsF, kFloat | kSignedInt>).grad(abs_grad);

struct SignF { template <class T> T operator()(T x) const {
  if constexpr (is_float_v<T>) if (std::isnan(x)) return x;
  return static_cast<T>((x > 0) - (x < 0));
} };
std::vector<Output> sign_grad(GradCtx& g) { return {emit(g, "ZerosLike", {g.x(0)})}; }
REGISTER_OP("Sign").inputs(1).args({"x"}).api({"math.sign", "sign"})
    .doc("-1, 0 or 1: the sign of x, elementwise.")
    .shape(unary_shape<kFloat | kSignedInt>).cpu(unary_kernel<SignF, kFloat | kSignedInt>).grad(sign_grad);

struct SinF { template <class T> T operator()(T x) const { return std::sin(x); } };
std::vector<Output> sin_grad(GradCtx& g) { return {emit(g, "Mul", {g.g(), emit(g, "Cos", {g.x(0)})})}; }
REGISTER_OP("Sin").inputs(1).args({"x"}).api({"math.sin", "sin"})
    .doc("The sine of x (radians), elementwise.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<SinF, kFloat, kTranscendental>)
    .grad(sin_grad);

struct CosF { template <class T> T operator()(T x) const { return std::cos(x); } };
std::vector<Output> cos_grad(GradCtx& g) {
  return {emit(g, "Mul", {g.g(), emit(g, "Neg", {emit(g, "Sin", {g.x(0)})})})};
}
REGISTER_OP("Cos").inputs(1).args({"x"}).api({"math.cos", "cos"})
    .doc("The cosine of x (radians), elementwise.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<CosF, kFloat, kTranscendental>)
    .grad(cos_grad);

struct TanhF {
  static constexpr auto f32 = vecmath::tanh_f32;
  template <class T> T operator()(T x) const { return std::tanh(x); }
};
std::vector<Output> tanh_grad(GradCtx& g) { return {emit(g, "TanhGrad", {g.y(), g.g()})}; }
REGISTER_OP("Tanh").inputs(1).args({"x"}).api({"math.tanh", "nn.tanh", "tanh"})
    .doc("The hyperbolic tangent of x, elementwise.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<TanhF, kFloat, kTranscendental>)
    .grad(tanh_grad);

// Both branches of the stable form, blended: e = exp(-|x|) never overflows, and x < 0 gives e / (1 + e).
struct SigmoidF {
  static constexpr auto f32 = vecmath::sigmoid_f32;
  template <class T> T operator()(T x) const {
    T e = std::exp(-std::abs(x));
    T s = T(1) / (T(1) + e);
    return x >= 0 ? s : T(e * s);
  }
};
std::vector<Output> sigmoid_grad(GradCtx& g) { return {emit(g, "SigmoidGrad", {g.y(), g.g()})}; }
REGISTER_OP("Sigmoid").inputs(1).args({"x"}).api({"math.sigmoid", "nn.sigmoid", "sigmoid"})
    .doc("1 / (1 + exp(-x)), elementwise.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<SigmoidF, kFloat, kTranscendental>)
    .grad(sigmoid_grad);

struct ReciprocalF { template <class T> T operator()(T x) const { return T(1) / x; } };
// d(1/x) = -y^2.
std::vector<Output> reciprocal_grad(GradCtx& g) {
  return {emit(g, "Mul", {emit(g, "Neg", {g.g()}), emit(g, "Square", {g.y()})})};
}
REGISTER_OP("Reciprocal").inputs(1).args({"x"}).api({"math.reciprocal", "reciprocal"})
    .doc("1 / x, elementwise.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<ReciprocalF, kFloat>)
    .grad(reciprocal_grad);

// Piecewise constant: TF's gradients are None.
struct FloorF { template <class T> T operator()(T x) const { return std::floor(x); } };
REGISTER_OP("Floor").inputs(1).args({"x"}).api({"math.floor", "floor"})
    .doc("The largest integer not greater than x, elementwise.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<FloorF, kFloat>).not_differentiable();
struct CeilF { template <class T> T operator()(T x) const { return std::ceil(x); } };
REGISTER_OP("Ceil").inputs(1).args({"x"}).api({"math.ceil", "ceil"})
    .doc("The smallest integer not less than x, elementwise.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<CeilF, kFloat>).not_differentiable();
// Note [round half to even]: TF and NumPy round halves to the even neighbour (0.5 -> 0, 1.5 -> 2,
// -2.5 -> -2). nearbyint does exactly that in the default rounding mode; integers are already rounded.
struct RoundF { template <class T> T operator()(T x) const {
  if constexpr (is_float_v<T>) return std::nearbyint(x);
  else return x;
} };
REGISTER_OP("Round").inputs(1).shape(unary_shape<kNumeric>).cpu(unary_kernel<RoundF, kNumeric>)
    .not_differentiable();
// tf.rint is Round under another name, for floats only (as TF).
REGISTER_OP("Rint").inputs(1).args({"x"}).api({"math.rint", "rint"})
    .doc("Rounds half to even, like round, for float tensors.")
    .shape(unary_shape<kF32F64>).cpu(unary_kernel<RoundF, kF32F64>).not_differentiable();

TIDEFLOW_LIBM_UNARY(Expm1F, expm1)
std::vector<Output> expm1_grad(GradCtx& g) { return {emit(g, "Mul", {g.g(), emit(g, "Exp", {g.x(0)})})}; }
REGISTER_OP("Expm1").inputs(1).args({"x"}).api({"math.expm1", "expm1"})
    .doc("exp(x) - 1, accurate for small x.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<Expm1F, kFloat, kTranscendental>)
    .grad(expm1_grad);

TIDEFLOW_LIBM_UNARY(ErfF, erf)
// d erf(x) = 2/sqrt(pi) exp(-x^2); erfc's is its negative.
template <int Sign>
std::vector<Output> erf_grad(GradCtx& g) {
  Output c = scalar_like(g, Sign * 1.1283791670955126, g.g());  // 2 / sqrt(pi)
  Output e = emit(g, "Exp", {emit(g, "Neg", {emit(g, "Square", {g.x(0)})})});
  return {emit(g, "Mul", {emit(g, "Mul", {g.g(), c}), e})};
}
REGISTER_OP("Erf").inputs(1).args({"x"}).api({"math.erf", "erf"})
    .doc("The Gauss error function, 2/sqrt(pi) times the integral of exp(-t^2) from 0 to x.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<ErfF, kFloat, kTranscendental>)
    .grad(erf_grad<1>);
TIDEFLOW_LIBM_UNARY(ErfcF, erfc)
REGISTER_OP("Erfc").inputs(1).args({"x"}).api({"math.erfc", "erfc"})
    .doc("1 - erf(x), accurate where erf(x) is close to 1.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<ErfcF, kFloat, kTranscendental>)
    .grad(erf_grad<-1>);

TIDEFLOW_LIBM_UNARY(LgammaF, lgamma)
std::vector<Output> lgamma_grad(GradCtx& g) { return {emit(g, "Mul", {g.g(), emit(g, "Digamma", {g.x(0)})})}; }
REGISTER_OP("Lgamma").inputs(1).args({"x"}).api({"math.lgamma", "lgamma"})
    .doc("log|Gamma(x)|; +inf at the poles (non-positive integers).")
    .shape(unary_shape<kF32F64 | dset(DType::Float16)>)
    .cpu(unary_kernel<LgammaF, kF32F64 | dset(DType::Float16), kTranscendental>)
    .grad(lgamma_grad);

struct DigammaF { template <class T> T operator()(T x) const { return static_cast<T>(special::digamma(x)); } };
std::vector<Output> digamma_grad(GradCtx& g) {
  return {emit(g, "Mul", {g.g(), emit(g, "Polygamma", {scalar_like(g, 1.0, g.x(0)), g.x(0)})})};
}
REGISTER_OP("Digamma").inputs(1).args({"x"}).api({"math.digamma", "digamma"})
    .doc("d/dx lgamma(x); NaN at the poles (non-positive integers).")
    .shape(unary_shape<kF32F64 | dset(DType::Float16)>)
    .cpu(unary_kernel<DigammaF, kF32F64 | dset(DType::Float16), kTranscendental>)
    .grad(digamma_grad);

TIDEFLOW_LIBM_UNARY(TanF, tan)
// d tan(x) = sec(x)^2.
std::vector<Output> tan_grad(GradCtx& g) {
  return {emit(g, "Mul", {emit(g, "Square", {emit(g, "Reciprocal", {emit(g, "Cos", {g.x(0)})})}), g.g()})};
}
REGISTER_OP("Tan").inputs(1).args({"x"}).api({"math.tan", "tan"})
    .doc("The tangent of x (radians), elementwise.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<TanF, kFloat, kTranscendental>)
    .grad(tan_grad);

// 1 / sqrt(1 - x^2), the magnitude of asin's and acos's derivatives.
Output inv_sqrt_one_minus_square(GradCtx& g) {
  Output one_m_x2 = emit(g, "Sub", {scalar_like(g, 1.0, g.x(0)), emit(g, "Square", {g.x(0)})});
  return emit(g, "Reciprocal", {emit(g, "Sqrt", {one_m_x2})});
}

TIDEFLOW_LIBM_UNARY(AsinF, asin)
std::vector<Output> asin_grad(GradCtx& g) { return {emit(g, "Mul", {g.g(), inv_sqrt_one_minus_square(g)})}; }
REGISTER_OP("Asin").inputs(1).args({"x"}).api({"math.asin", "asin"})
    .doc("The arcsine of x in [-pi/2, pi/2] (NaN outside [-1, 1]).")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<AsinF, kFloat, kTranscendental>)
    .grad(asin_grad);

TIDEFLOW_LIBM_UNARY(AcosF, acos)
std::vector<Output> acos_grad(GradCtx& g) {
  return {emit(g, "Mul", {emit(g, "Neg", {g.g()}), inv_sqrt_one_minus_square(g)})};
}
REGISTER_OP("Acos").inputs(1).args({"x"}).api({"math.acos", "acos"})
    .doc("The arccosine of x in [0, pi] (NaN outside [-1, 1]).")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<AcosF, kFloat, kTranscendental>)
    .grad(acos_grad);

// atan: 1 / (1 + x^2); atanh: 1 / (1 - x^2).
template <const char* AddOrSub>
std::vector<Output> atan_grad(GradCtx& g) {
  Output den = emit(g, AddOrSub, {scalar_like(g, 1.0, g.x(0)), emit(g, "Square", {g.x(0)})});
  return {emit(g, "Mul", {g.g(), emit(g, "Reciprocal", {den})})};
}
constexpr char kAdd[] = "Add";
constexpr char kSub[] = "Sub";

TIDEFLOW_LIBM_UNARY(AtanF, atan)
REGISTER_OP("Atan").inputs(1).args({"x"}).api({"math.atan", "atan"})
    .doc("The arctangent of x in (-pi/2, pi/2).")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<AtanF, kFloat, kTranscendental>)
    .grad(atan_grad<kAdd>);

// sinh' = cosh and cosh' = sinh, of x.
template <const char* Other>
std::vector<Output> hyperbolic_grad(GradCtx& g) { return {emit(g, "Mul", {g.g(), emit(g, Other, {g.x(0)})})}; }
constexpr char kSinh[] = "Sinh";
constexpr char kCosh[] = "Cosh";

TIDEFLOW_LIBM_UNARY(SinhF, sinh)
REGISTER_OP("Sinh").inputs(1).args({"x"}).api({"math.sinh", "sinh"})
    .doc("The hyperbolic sine of x, elementwise.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<SinhF, kFloat, kTranscendental>)
    .grad(hyperbolic_grad<kCosh>);
TIDEFLOW_LIBM_UNARY(CoshF, cosh)
REGISTER_OP("Cosh").inputs(1).args({"x"}).api({"math.cosh", "cosh"})
    .doc("The hyperbolic cosine of x, elementwise.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<CoshF, kFloat, kTranscendental>)
    .grad(hyperbolic_grad<kSinh>);

// asinh' = 1 / cosh(y) and acosh' = 1 / sinh(y), from the output y.
template <const char* Fn>
std::vector<Output> area_hyperbolic_grad(GradCtx& g) { return {emit(g, "RealDiv", {g.g(), emit(g, Fn, {g.y()})})}; }

TIDEFLOW_LIBM_UNARY(AsinhF, asinh)
REGISTER_OP("Asinh").inputs(1).args({"x"}).api({"math.asinh", "asinh"})
    .doc("The inverse hyperbolic sine of x, elementwise.")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<AsinhF, kFloat, kTranscendental>)
    .grad(area_hyperbolic_grad<kCosh>);
TIDEFLOW_LIBM_UNARY(AcoshF, acosh)
REGISTER_OP("Acosh").inputs(1).args({"x"}).api({"math.acosh", "acosh"})
    .doc("The inverse hyperbolic cosine of x (NaN below 1).")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<AcoshF, kFloat, kTranscendental>)
    .grad(area_hyperbolic_grad<kSinh>);
TIDEFLOW_LIBM_UNARY(AtanhF, atanh)
REGISTER_OP("Atanh").inputs(1).args({"x"}).api({"math.atanh", "atanh"})
    .doc("The inverse hyperbolic tangent of x (NaN outside [-1, 1]).")
    .shape(unary_shape<kFloat>).cpu(unary_kernel<AtanhF, kFloat, kTranscendental>)
    .grad(atan_grad<kSub>);
#undef TIDEFLOW_LIBM_UNARY

struct ReluF { template <class T> T operator()(T x) const { return x < 0 ? T(0) : x; } };  // NaN stays NaN (TF)
// From the output, as TF: relu(x) > 0 exactly where x > 0, and the gradient at 0 is 0.
std::vector<Output> relu_grad(GradCtx& g) { return {emit(g, "ReluGrad", {g.g(), g.y()})}; }
// Note [bias and ReLU in one pass]
// relu(a + b), a layer's bias added to its product and rectified, runs as one kernel when nothing else
// reads the sum (Note [fused producers]): the sum is never written out and read back, one pass over the
// layer's activations less (a CNN's first layer: 6.4 MB each way per step). The values are the same:
// the sum rounds once, then is clamped, and NaN stays NaN.
struct AddReluF { template <class T> T operator()(T a, T b) const { return ReluF{}(T(a + b)); } };
void add_relu_kernel(KernelCtx& c) {
  dispatch_numeric(c.in(0).dtype(), "Add", [&](auto z) {
    using T = decltype(z);
    binary_map<T, T>(c, AddReluF{}, kCheap);
  });
}
REGISTER_OP("Relu").inputs(1).args({"features"}).api({"nn.relu", "relu"})
    .doc("max(features, 0), elementwise.")
    .shape(unary_shape<kNumeric>).cpu(unary_kernel<ReluF, kNumeric>).grad(relu_grad)
    .exact_grads().fuse(0, "Add", add_relu_kernel);

struct LogicalNotF { bool operator()(bool x) const { return !x; } };
REGISTER_OP("LogicalNot").inputs(1).args({"x"}).api({"math.logical_not", "logical_not"})
    .doc("not x, elementwise, for bool tensors.")
    .shape(unary_shape<kBool>).cpu(unary_kernel<LogicalNotF, kBool>)
    .not_differentiable();

// ---- IsNan, IsInf, IsFinite ----

// Float tests with a bool output: tf.is_nan, tf.is_inf, tf.is_finite.
void float_test_shape(InferCtx& c) {
  check_dtype(c, 0, kFloat);
  c.set_output(0, DType::Bool, c.shape(0));
}

template <class F>
void float_test_kernel(KernelCtx& c) {
  dispatch<kFloat>(c.in(0).dtype(), c.node.type().c_str(), [&](auto z) { unary_map<decltype(z), bool>(c, F{}, kCheap); });
}

struct IsNanF { template <class T> bool operator()(T x) const { return x != x; } };
REGISTER_OP("IsNan").inputs(1).args({"x"}).api({"math.is_nan", "debugging.is_nan", "is_nan"})
    .doc("Where x is NaN, as a bool tensor.")
    .shape(float_test_shape).cpu(float_test_kernel<IsNanF>).not_differentiable();
struct IsInfF {
  template <class T> bool operator()(T x) const { return std::abs(x) == std::numeric_limits<T>::infinity(); }
};
REGISTER_OP("IsInf").inputs(1).args({"x"}).api({"math.is_inf", "debugging.is_inf", "is_inf"})
    .doc("Where x is +inf or -inf, as a bool tensor.")
    .shape(float_test_shape).cpu(float_test_kernel<IsInfF>).not_differentiable();
struct IsFiniteF {  // false for NaN: the comparison is unordered
  template <class T> bool operator()(T x) const { return std::abs(x) < std::numeric_limits<T>::infinity(); }
};
REGISTER_OP("IsFinite").inputs(1).args({"x"}).api({"math.is_finite", "debugging.is_finite", "is_finite"})
    .doc("Where x is neither infinite nor NaN, as a bool tensor.")
    .shape(float_test_shape).cpu(float_test_kernel<IsFiniteF>).not_differentiable();

// ---- Cast ----

void cast_shape(InferCtx& c) {
  check_dtype(c, 0, kPod);
  DType dst = c.attr<DType>("DstT");
  if (!dtype_in(dst, kPod)) c.type_fail(std::string("Cast to ") + dtype_name(dst) + " is not supported");
  c.set_output(0, dst, c.shape(0));
}

// Note [cast semantics]
// Cast is TensorFlow's CPU Cast, value by value (cast_value in dtype.h): integers narrow modulo 2^bits
// (uint8 200 -> int8 -56); a float becomes an integer by truncation toward zero. Out of range, C++ leaves
// the conversion undefined and TensorFlow's result depends on the source type and on where the element
// falls (its vectorized loop saturates, the scalar tail wraps: tf.cast of [300.7] and of 4096 copies of it
// to uint8 differ). We follow the vectorized loop, which converts most of any real tensor: truncate to
// int32 as x86 does (INT_MIN when out of range or NaN; int64 likewise for int64), then saturate to an
// 8- or 16-bit type: 300.7 -> uint8 255, -3 -> uint8 0, 1e10 and NaN -> int8 -128. x -> bool is x != 0
// (NaN is true) and bool -> x is 0/1; float16 and bfloat16 round to nearest even, every conversion into
// them through float32 (float64 -> float16 may round twice, as TF). tests/test_dtypes.py compares every pair
// with TensorFlow.
void cast_kernel(KernelCtx& c) {
  const DType src = c.in(0).dtype(), dst = c.attr<DType>("DstT");
  if (src == dst) {
    c.set(0, c.in(0));
    return;
  }
  dispatch<kPod>(src, "Cast", [&](auto zs) {
    using S = decltype(zs);
    dispatch<kPod>(dst, "Cast", [&](auto zd) {
      using D = decltype(zd);
      unary_map<S, D>(c, [](S v) { return cast_value<D>(v); }, kCheap);
    });
  });
}

// Float-to-float casts pass the gradient back in the source dtype; through an int or bool there is none.
std::vector<Output> cast_grad(GradCtx& g) {
  DType src = g.x(0).dtype();
  if (!is_any_float(src) || !is_any_float(g.y().dtype())) return {Output{}};
  AttrMap a;
  a["DstT"] = src;
  return {emit(g, "Cast", {g.g()}, a)};
}
REGISTER_OP("Cast").inputs(1).shape(cast_shape).cpu(cast_kernel).grad(cast_grad);

// ---- ZerosLike / OnesLike ----

template <int V>
void fill_like_kernel(KernelCtx& c) {
  const Dims dims = c.in(0).dims();
  const DType dt = c.in(0).dtype();
  dispatch<kPod>(dt, c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    T* o = c.alloc_or_forward(0, 0, dt, dims).template data<T>();
    const T v = static_cast<T>(V);
    c.parallel_for(num_elements(dims), kCheap, [&](int64_t lo, int64_t hi) { std::fill(o + lo, o + hi, v); });
  });
}
REGISTER_OP("ZerosLike").inputs(1).shape(unary_shape<kPod>).cpu(fill_like_kernel<0>).not_differentiable();
REGISTER_OP("OnesLike").inputs(1).shape(unary_shape<kPod>).cpu(fill_like_kernel<1>).not_differentiable();

}  // namespace
}  // namespace tideflow
