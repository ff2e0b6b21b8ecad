// Binary elementwise ops with NumPy broadcasting: arithmetic, comparisons, logical ops, Select (where_v2),
// AddN, and the fused gradient kernels of Relu, Sigmoid and Tanh.
#include <cmath>
#include <type_traits>

#include "elementwise.h"
#include "kernels/special_math.h"

namespace tideflow {

// Note [ReLU gradient in the pooling gradient's pass] (pooling.cc holds the fused kernel).
void relu_grad_of_max_pool_grad(KernelCtx& c);

namespace {
using namespace elementwise;  // NOLINT: the family's private helpers

// ---- shared by the family ----

template <DTypeSet Kinds, bool BoolOut = false>
void binary_shape(InferCtx& c) {
  c.expect_same_dtype(0, 1);
  check_dtype(c, 0, Kinds);
  PartialShape out;
  if (!broadcast_shapes(c.shape(0), c.shape(1), &out))
    c.fail("Dimensions must be compatible for broadcasting: " + c.shape(0).str() + " vs. " + c.shape(1).str());
  c.set_output(0, BoolOut ? DType::Bool : c.dtype(0), out);
}

// Functors may validate their inputs before the loop (integer division by zero); most need nothing.
struct NoCheck {
  template <class T> static void check(KernelCtx&) {}
};

// The fused gradients are elementwise on equal shapes, never broadcast: their shape function promised
// input 0's shape, so inputs of unknown shape that differ at run time are TensorFlow's InvalidArgument.
struct SameShapeCheck {
  template <class T> static void check(KernelCtx& c) {
    if (c.in(0).dims() != c.in(1).dims())
      c.fail("Inputs to operation " + c.node.type() + " must have the same shape: " + dims_str(c.in(0).dims()) +
             " vs. " + dims_str(c.in(1).dims()));
  }
};

struct IntDivisorCheck {
  template <class T> static void check(KernelCtx& c) {
    if constexpr (std::is_integral_v<T>) {
      const T* b = c.in(1).data<T>();
      const int64_t n = c.in(1).size();
      if (std::find(b, b + n, T(0)) != b + n) c.fail("Integer division by zero");
    }
  }
};

// Output has the inputs' dtype.
template <class F, DTypeSet Kinds, int64_t Cost = kCheap>
void arith_kernel(KernelCtx& c) {
  dispatch<Kinds>(c.in(0).dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    F::template check<T>(c);
    binary_map<T, T>(c, F{}, Cost);
  });
}

// Output is bool.
template <class F, DTypeSet Kinds>
void compare_kernel(KernelCtx& c) {
  dispatch<Kinds>(c.in(0).dtype(), c.node.type().c_str(), [&](auto z) {
    binary_map<decltype(z), bool>(c, F{}, kCheap);
  });
}

// ---- arithmetic (gradient rules: TensorFlow's math_grad.py, written once against the Builder) ----

struct AddF : NoCheck { template <class T> T operator()(T a, T b) const { return a + b; } };
std::vector<Output> add_grad(GradCtx& g) { return {g.g(), g.g()}; }
REGISTER_OP("Add").inputs(2).shape(binary_shape<kNumeric>).cpu(arith_kernel<AddF, kNumeric>).grad(add_grad);

struct SubF : NoCheck { template <class T> T operator()(T a, T b) const { return a - b; } };
std::vector<Output> sub_grad(GradCtx& g) { return {g.g(), emit(g, "Neg", {g.g()})}; }
REGISTER_OP("Sub").inputs(2).shape(binary_shape<kNumeric>).cpu(arith_kernel<SubF, kNumeric>).grad(sub_grad);

struct MulF : NoCheck { template <class T> T operator()(T a, T b) const { return wrapping_mul(a, b); } };
std::vector<Output> mul_grad(GradCtx& g) {
  return {emit(g, "Mul", {g.g(), g.x(1)}), emit(g, "Mul", {g.x(0), g.g()})};
}
REGISTER_OP("Mul").inputs(2).shape(binary_shape<kNumeric>).cpu(arith_kernel<MulF, kNumeric>).grad(mul_grad);

struct RealDivF : NoCheck { template <class T> T operator()(T a, T b) const { return a / b; } };
std::vector<Output> real_div_grad(GradCtx& g) {
  Output x = g.x(0), y = g.x(1);
  Output gy = emit(g, "Mul", {g.g(), emit(g, "RealDiv", {emit(g, "RealDiv", {emit(g, "Neg", {x}), y}), y})});
  return {emit(g, "RealDiv", {g.g(), y}), gy};
}
REGISTER_OP("RealDiv").inputs(2).shape(binary_shape<kFloat>).cpu(arith_kernel<RealDivF, kFloat>)
    .grad(real_div_grad);

// x / y, and 0 where y == 0 (even for x of inf or NaN), as TF's DivNoNan.
struct DivNoNanF : NoCheck { template <class T> T operator()(T a, T b) const { return b == T(0) ? T(0) : T(a / b); } };
// TF's rule: the same as RealDiv's with every division a DivNoNan.
std::vector<Output> div_no_nan_grad(GradCtx& g) {
  Output x = g.x(0), y = g.x(1);
  Output gy = emit(g, "Mul", {g.g(), emit(g, "DivNoNan", {emit(g, "DivNoNan", {emit(g, "Neg", {x}), y}), y})});
  return {emit(g, "DivNoNan", {g.g(), y}), gy};
}
REGISTER_OP("DivNoNan").inputs(2).shape(binary_shape<kFloat>).cpu(arith_kernel<DivNoNanF, kFloat>)
    .grad(div_no_nan_grad);

// Note [floor division]
// FloorDiv and FloorMod round toward negative infinity, as Python and TensorFlow do: -7 // 2 == -4 and
// -7 % 2 == 1, so x == (x // y) * y + x % y and the remainder takes the divisor's sign. Integer division
// by zero is an InvalidArgumentError, checked before the loop (it would be SIGFPE on x86), and y == -1 is
// special-cased because INT_MIN / -1 traps too.
// A float quotient below the smallest normal floors exactly here (-1 / 3.4e38 = -2.9e-39 gives -1), where
// TensorFlow gives -0: its executor runs every CPU kernel under the processor's flush-to-zero and
// denormals-are-zero modes (ScopedFlushDenormal), which turn the quotient into -0 before the floor. tideflow
// keeps IEEE gradual underflow in every kernel (tests/op_table/specials.py); flushing in FloorDiv alone would
// make floordiv(x, y) differ from floor(x / y), which agree in both engines, to copy a processor mode rather
// than a rule of the op, so tests/test_special_values.py compares those elements with the exact floor.
struct FloorDivF : IntDivisorCheck {
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float_v<T>) {
      return std::floor(a / b);
    } else {
      if (b == -1) return wrap_neg(a);
      T q = a / b;
      return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
    }
  }
};
// Piecewise constant: TF gives None for both inputs.
REGISTER_OP("FloorDiv").inputs(2).shape(binary_shape<kNumeric>).cpu(arith_kernel<FloorDivF, kNumeric>)
    .not_differentiable();

struct FloorModF : IntDivisorCheck {
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float_v<T>) {
      T r = std::fmod(a, b);
      return (r != 0 && ((r < 0) != (b < 0))) ? T(r + b) : r;
    } else {
      if (b == -1) return 0;
      T r = a % b;
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    }
  }
};
// d(x mod y)/dy = -floor(x / y).
std::vector<Output> floor_mod_grad(GradCtx& g) {
  Output q = emit(g, "FloorDiv", {g.x(0), g.x(1)});
  return {g.g(), emit(g, "Mul", {g.g(), emit(g, "Neg", {q})})};
}
REGISTER_OP("FloorMod").inputs(2).shape(binary_shape<kNumeric>).cpu(arith_kernel<FloorModF, kNumeric>)
    .grad(floor_mod_grad);

// Truncating division, C's: -7 / 2 == -3 and -7 % 2 == -1 (the remainder takes the dividend's sign).
// INT_MIN / -1 wraps to INT_MIN and INT_MIN % -1 is 0, as TF, instead of trapping.
struct TruncateDivF : IntDivisorCheck {
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float_v<T>) return std::trunc(a / b);
    else return b == -1 ? wrap_neg(a) : a / b;
  }
};
// Integer division by zero is an InvalidArgumentError, as FloorDiv's; TF has no gradient for either op.
REGISTER_OP("TruncateDiv").inputs(2).shape(binary_shape<kNumeric>).cpu(arith_kernel<TruncateDivF, kNumeric>)
    .not_differentiable();

struct TruncateModF : IntDivisorCheck {
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float_v<T>) return std::fmod(a, b);
    else return b == -1 ? T(0) : a % b;
  }
};
// No gradient rule, as in TF (unlike FloorMod): differentiating through it is the driver's LookupError.
REGISTER_OP("TruncateMod").inputs(2).shape(binary_shape<kF32F64 | kI32I64>)
    .cpu(arith_kernel<TruncateModF, kF32F64 | kI32I64>);

// tf.atan2(y, x): the angle of the point (x, y), quadrant from both signs (signed zeros included).
struct Atan2F : NoCheck { template <class T> T operator()(T y, T x) const { return std::atan2(y, x); } };
// atan2(y, x): d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2).
std::vector<Output> atan2_grad(GradCtx& g) {
  Output y = g.x(0), x = g.x(1);
  Output grad_inv = emit(g, "RealDiv", {g.g(), emit(g, "Add", {emit(g, "Square", {y}), emit(g, "Square", {x})})});
  return {emit(g, "Mul", {x, grad_inv}), emit(g, "Mul", {emit(g, "Neg", {y}), grad_inv})};
}
REGISTER_OP("Atan2").inputs(2).shape(binary_shape<kFloat>).cpu(arith_kernel<Atan2F, kFloat, kTranscendental>)
    .grad(atan2_grad);

// x log(y) and x / y, but 0 wherever x == 0, whatever y is (0, inf or NaN), as TF's Xlogy and Xdivy.
struct XlogyF : NoCheck {
  template <class T> T operator()(T x, T y) const { return x == T(0) ? T(0) : T(x * std::log(y)); }
};
// 1 where x != 0, else 0: Xlogy's and Xdivy's x-derivatives keep their x == 0 zeros through it.
Output nonzero_indicator(GradCtx& g, const Output& x) {
  AttrMap a;
  a["DstT"] = x.dtype();
  return emit(g, "Cast", {emit(g, "NotEqual", {x, scalar_like(g, 0.0, x)})}, a);
}

std::vector<Output> xlogy_grad(GradCtx& g) {
  Output x = g.x(0), y = g.x(1);
  return {emit(g, "Mul", {emit(g, "Xlogy", {nonzero_indicator(g, x), y}), g.g()}),
          emit(g, "Mul", {emit(g, "Xdivy", {x, y}), g.g()})};
}
REGISTER_OP("Xlogy").inputs(2).shape(binary_shape<kFloat>).cpu(arith_kernel<XlogyF, kFloat, kTranscendental>)
    .grad(xlogy_grad);

struct XdivyF : NoCheck { template <class T> T operator()(T x, T y) const { return x == T(0) ? T(0) : T(x / y); } };
std::vector<Output> xdivy_grad(GradCtx& g) {
  Output x = g.x(0), y = g.x(1);
  Output partial_y = emit(g, "Xdivy", {emit(g, "Neg", {x}), emit(g, "Square", {y})});
  return {emit(g, "Mul", {emit(g, "Xdivy", {nonzero_indicator(g, x), y}), g.g()}), emit(g, "Mul", {partial_y, g.g()})};
}
REGISTER_OP("Xdivy").inputs(2).shape(binary_shape<kFloat>).cpu(arith_kernel<XdivyF, kFloat>).grad(xdivy_grad);

struct ZetaF : NoCheck {
  template <class T> T operator()(T x, T q) const { return static_cast<T>(special::zeta(x, q)); }
};
// Only q and x get gradients (TF has none for zeta's x or polygamma's n): d zeta(x, q)/dq = -x zeta(x + 1, q),
// d psi^(n)(x)/dx = psi^(n+1)(x).
std::vector<Output> zeta_grad(GradCtx& g) {
  Output x = g.x(0), q = g.x(1);
  Output x1 = emit(g, "Add", {x, scalar_like(g, 1.0, x)});
  return {Output{}, emit(g, "Mul", {emit(g, "Mul", {emit(g, "Neg", {x}), emit(g, "Zeta", {x1, q})}), g.g()})};
}
REGISTER_OP("Zeta").inputs(2).shape(binary_shape<kF32F64>).cpu(arith_kernel<ZetaF, kF32F64, kTranscendental>)
    .grad(zeta_grad);

struct PolygammaF : NoCheck {
  template <class T> T operator()(T n, T x) const { return static_cast<T>(special::polygamma(n, x)); }
};
std::vector<Output> polygamma_grad(GradCtx& g) {
  Output n = g.x(0), x = g.x(1);
  Output n1 = emit(g, "Add", {n, scalar_like(g, 1.0, n)});
  return {Output{}, emit(g, "Mul", {emit(g, "Polygamma", {n1, x}), g.g()})};
}
REGISTER_OP("Polygamma").inputs(2).shape(binary_shape<kF32F64>)
    .cpu(arith_kernel<PolygammaF, kF32F64, kTranscendental>).grad(polygamma_grad);

struct PowF {
  template <class T> static void check(KernelCtx& c) {
    if constexpr (std::is_integral_v<T>) {
      const T* b = c.in(1).data<T>();
      const int64_t n = c.in(1).size();
      if (std::any_of(b, b + n, [](T v) { return v < 0; }))
        c.fail("Integers to negative integer powers are not allowed");
    }
  }
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float_v<T>) {
      return std::pow(a, b);
    } else {  // square-and-multiply in unsigned arithmetic: overflow wraps, as TF's int pow does
      using U = std::make_unsigned_t<T>;
      U r = 1, base = static_cast<U>(a);
      for (U e = static_cast<U>(b); e; e >>= 1, base = wrapping_mul(base, base))
        if (e & 1) r = wrapping_mul(r, base);
      return static_cast<T>(r);
    }
  }
};
// z = x^y: dz/dx = y x^(y-1); dz/dy = z log(x), taken as 0 where x <= 0 (TF's choice: finite, not NaN).
std::vector<Output> pow_grad(GradCtx& g) {
  Output x = g.x(0), y = g.x(1), z = g.y();
  Output ym1 = emit(g, "Sub", {y, scalar_like(g, 1.0, y)});
  Output gx = emit(g, "Mul", {emit(g, "Mul", {g.g(), y}), emit(g, "Pow", {x, ym1})});
  Output pos = emit(g, "Greater", {x, scalar_like(g, 0.0, x)});
  Output safe_x = emit(g, "Select", {pos, x, emit(g, "OnesLike", {x})});
  Output log_x = emit(g, "Select", {pos, emit(g, "Log", {safe_x}), emit(g, "ZerosLike", {x})});
  Output gy = emit(g, "Mul", {emit(g, "Mul", {g.g(), z}), log_x});
  return {gx, gy};
}
REGISTER_OP("Pow").inputs(2).shape(binary_shape<kFloat | kSignedInt>)
    .cpu(arith_kernel<PowF, kFloat | kSignedInt, kTranscendental>)
    .grad(pow_grad);

// NaN in either operand gives NaN, as TF (a != a only for NaN; still a compare-and-blend when vectorized).
struct MaximumF : NoCheck { template <class T> T operator()(T a, T b) const { return (a > b || a != a) ? a : b; } };
struct MinimumF : NoCheck { template <class T> T operator()(T a, T b) const { return (a < b || a != a) ? a : b; } };
// Ties send the whole gradient to x: Maximum uses x >= y, Minimum x <= y (TF's _MaximumMinimumGrad).
template <const char* Cmp>
std::vector<Output> max_min_grad(GradCtx& g) {
  Output x_wins = emit(g, Cmp, {g.x(0), g.x(1)});
  Output zeros = emit(g, "ZerosLike", {g.g()});
  return {emit(g, "Select", {x_wins, g.g(), zeros}), emit(g, "Select", {x_wins, zeros, g.g()})};
}
constexpr char kGreaterEqual[] = "GreaterEqual";
constexpr char kLessEqual[] = "LessEqual";
REGISTER_OP("Maximum").inputs(2).shape(binary_shape<kNumeric>).cpu(arith_kernel<MaximumF, kNumeric>)
    .grad(max_min_grad<kGreaterEqual>);
REGISTER_OP("Minimum").inputs(2).shape(binary_shape<kNumeric>).cpu(arith_kernel<MinimumF, kNumeric>)
    .grad(max_min_grad<kLessEqual>);

struct SquaredDifferenceF : NoCheck {
  template <class T> T operator()(T a, T b) const { return wrapping_mul<T>(a - b, a - b); }
};
std::vector<Output> squared_difference_grad(GradCtx& g) {
  Output two_g = emit(g, "Mul", {scalar_like(g, 2.0, g.g()), g.g()});
  Output gx = emit(g, "Mul", {two_g, emit(g, "Sub", {g.x(0), g.x(1)})});
  return {gx, emit(g, "Neg", {gx})};
}
REGISTER_OP("SquaredDifference").inputs(2).shape(binary_shape<kFloat | kI32I64>)
    .cpu(arith_kernel<SquaredDifferenceF, kFloat | kI32I64>).grad(squared_difference_grad);

// ---- comparisons and logical ops: bool results, no gradient ----

struct EqualF : NoCheck { template <class T> bool operator()(T a, T b) const { return a == b; } };
REGISTER_OP("Equal").inputs(2).shape(binary_shape<kPod, true>).cpu(compare_kernel<EqualF, kPod>).not_differentiable();
struct NotEqualF : NoCheck { template <class T> bool operator()(T a, T b) const { return a != b; } };
REGISTER_OP("NotEqual").inputs(2).shape(binary_shape<kPod, true>).cpu(compare_kernel<NotEqualF, kPod>)
    .not_differentiable();
struct LessF : NoCheck { template <class T> bool operator()(T a, T b) const { return a < b; } };
REGISTER_OP("Less").inputs(2).shape(binary_shape<kNumeric, true>).cpu(compare_kernel<LessF, kNumeric>)
    .not_differentiable();
struct LessEqualF : NoCheck { template <class T> bool operator()(T a, T b) const { return a <= b; } };
REGISTER_OP("LessEqual").inputs(2).shape(binary_shape<kNumeric, true>).cpu(compare_kernel<LessEqualF, kNumeric>)
    .not_differentiable();
struct GreaterF : NoCheck { template <class T> bool operator()(T a, T b) const { return a > b; } };
REGISTER_OP("Greater").inputs(2).shape(binary_shape<kNumeric, true>).cpu(compare_kernel<GreaterF, kNumeric>)
    .not_differentiable();
struct GreaterEqualF : NoCheck { template <class T> bool operator()(T a, T b) const { return a >= b; } };
REGISTER_OP("GreaterEqual").inputs(2).shape(binary_shape<kNumeric, true>)
    .cpu(compare_kernel<GreaterEqualF, kNumeric>).not_differentiable();

template <class F>
void logical_kernel(KernelCtx& c) { binary_map<bool, bool>(c, F{}, kCheap); }

struct LogicalAndF : NoCheck { bool operator()(bool a, bool b) const { return a && b; } };
REGISTER_OP("LogicalAnd").inputs(2).shape(binary_shape<kBool>).cpu(logical_kernel<LogicalAndF>).not_differentiable();
struct LogicalOrF : NoCheck { bool operator()(bool a, bool b) const { return a || b; } };
REGISTER_OP("LogicalOr").inputs(2).shape(binary_shape<kBool>).cpu(logical_kernel<LogicalOrF>).not_differentiable();

// ---- ReluGrad, SigmoidGrad, TanhGrad: the fused gradients of Relu, Sigmoid and Tanh ----

// Fused gradient kernels take two tensors of one shape.
void same_shape_float(InferCtx& c) {
  c.expect_same_dtype(0, 1);
  check_dtype(c, 0, kFloat);
  if (!c.shape(0).compatible_with(c.shape(1)))
    c.fail("Shapes must be equal: " + c.shape(0).str() + " vs. " + c.shape(1).str());
  c.set_output(0, c.dtype(0), c.shape(0).merge(c.shape(1)));
}

// Fused gradients, TF's argument order: ReluGrad(gradients, features), {Sigmoid,Tanh}Grad(y, dy).
struct ReluGradF : SameShapeCheck { template <class T> T operator()(T g, T x) const { return x > 0 ? g : T(0); } };
// ReluGrad(g, x) is linear in g and flat in x.
std::vector<Output> relu_grad_grad(GradCtx& g) {
  return {emit(g, "ReluGrad", {g.g(), g.x(1)}), emit(g, "ZerosLike", {g.x(1)})};
}
REGISTER_OP("ReluGrad").inputs(2).shape(same_shape_float).cpu(arith_kernel<ReluGradF, kFloat>).grad(relu_grad_grad)
    .fuse(0, "MaxPoolGrad", relu_grad_of_max_pool_grad);

struct SigmoidGradF : SameShapeCheck { template <class T> T operator()(T y, T dy) const { return dy * y * (1 - y); } };
// SigmoidGrad(y, dy) = dy y (1 - y): d/dy = dy (1 - 2y), d/d(dy) = SigmoidGrad(y, g).
std::vector<Output> sigmoid_grad_grad(GradCtx& g) {
  Output y = g.x(0), dy = g.x(1);
  Output one_m_2y = emit(g, "Sub", {scalar_like(g, 1.0, y), emit(g, "Mul", {scalar_like(g, 2.0, y), y})});
  return {emit(g, "Mul", {emit(g, "Mul", {g.g(), dy}), one_m_2y}), emit(g, "SigmoidGrad", {y, g.g()})};
}
REGISTER_OP("SigmoidGrad").inputs(2).shape(same_shape_float).cpu(arith_kernel<SigmoidGradF, kFloat>)
    .grad(sigmoid_grad_grad);

struct TanhGradF : SameShapeCheck { template <class T> T operator()(T y, T dy) const { return dy * (1 - y * y); } };
// TanhGrad(y, dy) = dy (1 - y^2): d/dy = -2 y dy, d/d(dy) = TanhGrad(y, g).
std::vector<Output> tanh_grad_grad(GradCtx& g) {
  Output y = g.x(0), dy = g.x(1);
  Output m2y = emit(g, "Mul", {scalar_like(g, -2.0, y), y});
  return {emit(g, "Mul", {emit(g, "Mul", {g.g(), dy}), m2y}), emit(g, "TanhGrad", {y, g.g()})};
}
REGISTER_OP("TanhGrad").inputs(2).shape(same_shape_float).cpu(arith_kernel<TanhGradF, kFloat>)
    .grad(tanh_grad_grad);

// ---- Select: TF2's where_v2, all three inputs broadcast ----

void select_shape(InferCtx& c) {
  if (c.dtype(0) != DType::Bool)
    c.type_fail(std::string("condition must be bool, got ") + dtype_name(c.dtype(0)));
  c.expect_same_dtype(1, 2);
  check_dtype(c, 1, kPod);
  PartialShape xy, out;
  if (!broadcast_shapes(c.shape(1), c.shape(2), &xy) || !broadcast_shapes(c.shape(0), xy, &out))
    c.fail("condition, x and y must be broadcastable: " + c.shape(0).str() + ", " + c.shape(1).str() + ", " +
           c.shape(2).str());
  c.set_output(0, c.dtype(1), out);
}

void select_kernel(KernelCtx& c) {
  Broadcast<3> bc;
  if (!bc.init({&c.in(0).dims(), &c.in(1).dims(), &c.in(2).dims()}))
    c.fail("condition, x and y must be broadcastable: " + dims_str(c.in(0).dims()) + ", " +
           dims_str(c.in(1).dims()) + ", " + dims_str(c.in(2).dims()));
  dispatch<kPod>(c.in(1).dtype(), "Select", [&](auto z) {
    using T = decltype(z);
    const bool* pc = c.in(0).data<bool>();
    const T* px = c.in(1).data<T>();
    const T* py = c.in(2).data<T>();
    T* o = alloc_output(c, dtype_of<T>::value, bc.out).template data<T>();
    const int64_t sc = bc.inner_stride(0), sx = bc.inner_stride(1), sy = bc.inner_stride(2);
    c.parallel_for(num_elements(bc.out), kCheap, [&](int64_t lo, int64_t hi) {
      bc.for_each_run(lo, hi, [&](const std::array<int64_t, 3>& off, int64_t pos, int64_t len) {
        const bool* rc = pc + off[0];
        const T* rx = px + off[1];
        const T* ry = py + off[2];
        T* ro = o + pos;
        if (sc && sx && sy) {
          for (int64_t j = 0; j < len; ++j) ro[j] = rc[j] ? rx[j] : ry[j];
        } else {
          for (int64_t j = 0; j < len; ++j) ro[j] = rc[j * sc] ? rx[j * sx] : ry[j * sy];
        }
      });
    });
  });
}

// The gradient goes to whichever branch each element came from; cond gets none.
std::vector<Output> select_grad(GradCtx& g) {
  Output zeros = emit(g, "ZerosLike", {g.g()});
  return {Output{}, emit(g, "Select", {g.x(0), g.g(), zeros}), emit(g, "Select", {g.x(0), zeros, g.g()})};
}
REGISTER_OP("Select").inputs(3).shape(select_shape).cpu(select_kernel).grad(select_grad);

// ---- AddN: the gradient driver's fan-in sum ----

void add_n_shape(InferCtx& c) {
  if (c.num_inputs() < 1) c.fail("AddN needs at least one input");
  check_dtype(c, 0, kNumeric);
  PartialShape s = c.shape(0);
  for (int i = 1; i < c.num_inputs(); ++i) {
    c.expect_same_dtype(0, i);
    if (!s.compatible_with(c.shape(i)))
      c.fail("Shapes must be equal: input 0 " + s.str() + " vs. input " + std::to_string(i) + " " + c.shape(i).str());
    s = s.merge(c.shape(i));
  }
  c.set_output(0, c.dtype(0), s);
}

// Summed pairwise per chunk so each chunk stays in cache; only input 0 may be forwarded, because the
// output is written before inputs 2.. are read.
void add_n_kernel(KernelCtx& c) {
  const int m = (int)c.inputs.size();
  const Dims dims = c.in(0).dims();
  for (int i = 1; i < m; ++i)
    if (c.in(i).dims() != dims) c.fail("AddN requires inputs of the same shape");
  if (m == 1) {
    c.set(0, c.in(0));
    return;
  }
  dispatch<kNumeric>(c.in(0).dtype(), "AddN", [&](auto z) {
    using T = decltype(z);
    std::vector<const T*> p(m);
    for (int i = 0; i < m; ++i) p[i] = c.in(i).data<T>();
    T* o = c.alloc_or_forward(0, 0, dtype_of<T>::value, dims).template data<T>();
    c.parallel_for(num_elements(dims), m, [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) o[j] = p[0][j] + p[1][j];
      for (int k = 2; k < m; ++k)
        for (int64_t j = lo; j < hi; ++j) o[j] += p[k][j];
    });
  });
}

std::vector<Output> add_n_grad(GradCtx& g) { return std::vector<Output>(g.node.inputs.size(), g.g()); }
REGISTER_OP("AddN").inputs(-1).shape(add_n_shape).cpu(add_n_kernel).grad(add_n_grad);

}  // namespace
}  // namespace tideflow
