// Optimizer update ops: one fused kernel per variable update (TensorFlow's training_ops).
//
// Note [fused updates]
// Each Apply* op reads the variable, its slots (accumulators), the gradient and a few scalar
// hyperparameters, and writes the new variable and slots in one pass over the elements: no temporaries,
// one load and one store per array element. The variable and its slots are ref inputs; they are updated
// under their VarSlot locks with the copy-on-write rule of Note [variable updates] in ops/state.cc (in
// place when nobody else holds the buffer, else read the old buffer and write a fresh one, then swap).
// The locks are always taken: TF's use_locking=False permits racy updates, which would not be memory-safe
// here; the attribute is accepted and ignored.
// The element formulas follow TensorFlow's CPU implementation (e.g. Adam's m += (g - m) * (1 - beta1)
// rather than beta1 * m + (1 - beta1) * g), equal in exact arithmetic and bit-closer to TF in floats.
#include <algorithm>
#include <array>
#include <cmath>
#include <mutex>
#include <utility>

#include "ops/reduced_float.h"
#include "op_registry.h"
#include "kernels/gemm.h"
#include "resources.h"

namespace tideflow {
namespace {

// Describes an op's inputs: `R` ref inputs first (the variable, then its slots), the gradient at
// `grad_index`, and every other input a scalar hyperparameter, in input order. The scalars share the
// variable's dtype except `int64_index` (when set), an int64 step count passed to the update converted to it.
template <int R, int N>
struct Layout {
  static constexpr int kRefs = R;
  static constexpr int kInputs = N;
  int grad_index;
  int int64_index = -1;
  // The scalar inputs, in order (all inputs that are neither refs nor the gradient).
  constexpr std::array<int, N - R - 1> scalars() const {
    std::array<int, N - R - 1> s{};
    int k = 0;
    for (int i = R; i < N; ++i)
      if (i != grad_index) s[k++] = i;
    return s;
  }
};

template <class L>
void apply_shape(InferCtx& c, L layout) {
  for (int r = 0; r < L::kRefs; ++r) {
    const Node* v = c.node.inputs[r].node;
    if (v->type() != "VariableV2")
      c.type_fail("Input " + std::to_string(r) + " must be a variable to update, got '" + v->name + "' of type " +
                  v->type());
  }
  // Distinct variables: the update loop holds one restrict pointer per array (Note [vectorized update loops]).
  for (int r = 1; r < L::kRefs; ++r)
    for (int q = 0; q < r; ++q)
      if (c.node.inputs[r].node == c.node.inputs[q].node)
        c.fail("Inputs " + std::to_string(q) + " and " + std::to_string(r) + " are the same variable '" +
               c.node.inputs[r].node->name + "'; the variable and its slots must be distinct variables");
  DType dt = c.dtype(0);
  if (!in_set(dt, kFloat)) c.type_fail(std::string("Optimizer updates need a float variable, got ") + dtype_name(dt));
  for (int i = 1; i < L::kInputs; ++i) {
    if (i != layout.int64_index)
      c.expect_same_dtype(0, i);
    else if (c.dtype(i) != DType::Int64)
      c.type_fail("Input " + std::to_string(i) + " (a step count) must be int64, got " + dtype_name(c.dtype(i)));
  }
  PartialShape s = c.shape(0);
  for (int r = 1; r < L::kRefs; ++r) {
    if (!s.compatible_with(c.shape(r)))
      c.fail("Shapes of the variable and its slot '" + c.node.inputs[r].node->name + "' must be equal: " + s.str() +
             " vs " + c.shape(r).str());
    s = s.merge(c.shape(r));
  }
  if (!s.compatible_with(c.shape(layout.grad_index)))
    c.fail("Shapes of the variable and the gradient must be equal: " + s.str() + " vs " +
           c.shape(layout.grad_index).str());
  s = s.merge(c.shape(layout.grad_index));
  for (int i : layout.scalars()) {
    const PartialShape& p = c.shape(i);
    if (p.rank() > 0)
      c.fail("Input " + std::to_string(i) + " (a hyperparameter) must be a scalar, got shape " + p.str());
  }
  c.set_output(0, dt, s);
}

// Note [vectorized update loops]
// The element loop loads the variable and its slots, applies the update and stores them back. Each array
// is a separate `__restrict` pointer parameter (a pack, not an array of pointers indexed in the loop), so
// the compiler needs no aliasing checks (three slots would need more run-time checks than GCC allows) and
// vectorizes the loop; `f` is taken by value so its captured hyperparameters are locals. In place, each
// array is read and written through its one pointer; otherwise old and new buffers are distinct pointers.
template <class T, size_t>
using Ptr = T* __restrict;
template <class T, size_t>
using ConstPtr = const T* __restrict;

template <class T, class F, size_t... r>
void update_in_place(std::index_sequence<r...>, F f, const T* __restrict g, int64_t begin, int64_t end,
                     Ptr<T, r>... p) {
  using A = compute_t<T>;  // float16 and bfloat16 update in float32, stored rounded (Note [computing in float32])
  for (int64_t i = begin; i < end; ++i) {
    A x[sizeof...(r)] = {A(p[i])...};
    f(x, A(g[i]));
    ((p[i] = T(x[r])), ...);
  }
}

template <class T, class F, size_t... r>
void update_into(std::index_sequence<r...>, F f, const T* __restrict g, int64_t begin, int64_t end,
                 ConstPtr<T, r>... src, Ptr<T, r>... dst) {
  using A = compute_t<T>;
  for (int64_t i = begin; i < end; ++i) {
    A x[sizeof...(r)] = {A(src[i])...};
    f(x, A(g[i]));
    ((dst[i] = T(x[r])), ...);
  }
}

template <class T, class F, size_t R, size_t... r>
void update_range(std::index_sequence<r...> idx, const F& f, const T* g, int64_t begin, int64_t end, bool in_place,
                  const std::array<const T*, R>& src, const std::array<T*, R>& dst) {
  if (in_place)
    update_in_place<T>(idx, f, g, begin, end, dst[r]...);
  else
    update_into<T>(idx, f, g, begin, end, src[r]..., dst[r]...);
}

// Runs one fused update. `make(scalars)` receives the scalar hyperparameters (type T, in input order) and
// returns the element update `f(T* x, T g)`, where x[0] is the variable and x[1..] its slots, all updated
// in place in registers.
template <class L, class Make>
void apply_update(KernelCtx& c, L layout, Make make) {
  constexpr int R = L::kRefs;
  const Tensor& grad = c.in(layout.grad_index);
  std::array<VarSlot*, R> slots;
  for (int r = 0; r < R; ++r) slots[r] = &c.ref(r);

  // Lock in address order so that two updates sharing variables never deadlock (the shape function made
  // sure the R variables are distinct).
  std::array<VarSlot*, R> order = slots;
  std::sort(order.begin(), order.end());
  std::array<std::unique_lock<std::mutex>, R> locks;
  for (int r = 0; r < R; ++r) locks[r] = std::unique_lock<std::mutex>(order[r]->mu);

  for (int r = 0; r < R; ++r) {
    const Tensor& v = slots[r]->value;
    if (!v.valid())
      throw Error(ErrorCode::FailedPrecondition, "Attempting to use uninitialized value " +
                                                     c.node.inputs[r].node->name + "\n\t [[node " +
                                                     c.node.describe() + "]]");
    if (v.dims() != grad.dims())
      c.fail(std::string(r == 0 ? "var" : "slot '" + c.node.inputs[r].node->name + "'") + " and grad do not have " +
             "the same shape: " + v.summary() + " vs " + grad.summary());
    if (v.dtype() != grad.dtype())
      c.fail("variable '" + c.node.inputs[r].node->name + "' holds " + v.summary() + " but the gradient is " +
             grad.summary());
  }
  constexpr size_t NS = L::kInputs - R - 1;
  const std::array<int, NS> scalar_idx = layout.scalars();
  for (int i : scalar_idx)
    if (c.in(i).rank() != 0)
      c.fail("Input " + std::to_string(i) + " (a hyperparameter) must be a scalar, got " + c.in(i).summary());

  // In place when the variable and every slot alone hold their buffers (Note [variable updates]); else all
  // go to fresh buffers (the rare case of a fetched value still alive), so that the loop sees either one
  // pointer per array or distinct old and new pointers (Note [vectorized update loops]).
  bool in_place = true;
  for (int r = 0; r < R; ++r) in_place = in_place && slots[r]->value.unique();
  std::array<Tensor, R> dst;
  for (int r = 0; r < R; ++r) dst[r] = in_place ? slots[r]->value : Tensor(grad.dtype(), grad.dims());

  dispatch<kFloat>(grad.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    using A = compute_t<T>;  // hyperparameters and the update's arithmetic
    std::array<A, NS> s;
    for (size_t k = 0; k < NS; ++k)
      s[k] = scalar_idx[k] == layout.int64_index ? static_cast<A>(*c.in(scalar_idx[k]).template data<int64_t>())
                                                  : A(*c.in(scalar_idx[k]).template data<T>());
    auto f = make(s);
    std::array<const T*, R> src;
    std::array<T*, R> out;
    for (int r = 0; r < R; ++r) {
      src[r] = slots[r]->value.template data<T>();
      out[r] = dst[r].template data<T>();
    }
    const T* g = grad.template data<T>();
    c.parallel_for(grad.size(), 8 * R, [&](int64_t begin, int64_t end) {
      update_range(std::make_index_sequence<R>{}, f, g, begin, end, in_place, src, out);
    });
  });
  for (int r = 0; r < R; ++r) slots[r]->value = dst[r];
  c.set(0, std::move(dst[0]));
}

bool use_nesterov(const KernelCtx& c) { return c.node.attrs.get_or<bool>("use_nesterov", false); }

template <class T>
T sign(T x) {
  return T(x > T(0)) - T(x < T(0));
}

// var -= alpha * delta
constexpr Layout<1, 3> kGradientDescent{2};  // var, alpha, delta
void apply_gradient_descent(KernelCtx& c) {
  apply_update(c, kGradientDescent, [](auto s) {
    auto alpha = s[0];
    return [=](auto* x, auto g) { x[0] -= alpha * g; };
  });
}

// Note [fusion keeps the numbers]
// ApplyGradientDescent whose delta is a MatMul (Note [fused producers]) once ran as one gemm accumulating
// into the variable (alpha = -lr, beta = 1). That is another computation: BLAS's blocked sum where the
// MatMul kernel takes its own skinny-product path (X^T g in a regression), and -lr * sum added in one
// rounding instead of two. Over a 1,000-epoch regression the drift reached 6e-5 relative, and fetching
// the gradient (which turns the fusion off) changed the trained weights. So the fused kernel runs the
// producer's own kernel and then the update's own kernel, on the same inputs and threads: the numbers are
// the unfused pair's, bit for bit (tests/test_reliability.py trains both ways and compares bits), and
// the plan still saves the producer's node and its slot.
void apply_gradient_descent_matmul(KernelCtx& c) {
  Node& mm = const_cast<Node&>(*c.fused);
  std::vector<Tensor> mm_in{c.in(2), c.in(3)}, mm_out(1);
  KernelCtx pc{mm, mm_in, mm_out, c.res, c.threads, c.parallel};
  mm.op->cpu(pc);
  std::vector<Tensor> in{c.in(0), c.in(1), std::move(mm_out[0])};
  KernelCtx uc{c.node, in, c.outputs, c.res, c.threads, c.parallel};
  apply_gradient_descent(uc);
}

REGISTER_OP("ApplyGradientDescent").inputs(3).ref_input(0).stateful().not_differentiable()
    .shape([](InferCtx& c) { apply_shape(c, kGradientDescent); })
    .fuse(2, "MatMul", apply_gradient_descent_matmul)
    .cpu(apply_gradient_descent);

// accum = accum * momentum + grad; var -= lr * accum, or with Nesterov var -= lr * (grad + momentum * accum).
constexpr Layout<2, 5> kMomentum{3};         // var, accum, lr, grad, momentum
REGISTER_OP("ApplyMomentum").inputs(5).ref_input(0).ref_input(1).stateful().not_differentiable()
    .shape([](InferCtx& c) { apply_shape(c, kMomentum); })
    .cpu([](KernelCtx& c) {
      apply_update(c, kMomentum, [nesterov = use_nesterov(c)](auto s) {
        auto lr = s[0], momentum = s[1];
        return [=](auto* x, auto g) {
          auto& var = x[0];
          auto& accum = x[1];
          accum = accum * momentum + g;
          if (nesterov)
            var -= g * lr + accum * momentum * lr;
          else
            var -= lr * accum;
        };
      });
    });

// lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t); m += (g - m)(1 - beta1); v += (g^2 - v)(1 - beta2);
// var -= lr_t * m / (sqrt(v) + epsilon), or with Nesterov lr_t * (beta1 m + (1 - beta1) g) / (sqrt(v) + epsilon).
constexpr Layout<3, 10> kAdam{9};            // var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad
REGISTER_OP("ApplyAdam").inputs(10).ref_input(0).ref_input(1).ref_input(2).stateful().not_differentiable()
    .shape([](InferCtx& c) { apply_shape(c, kAdam); })
    .cpu([](KernelCtx& c) {
      apply_update(c, kAdam, [nesterov = use_nesterov(c)](auto s) {
        using T = typename decltype(s)::value_type;
        T beta1_power = s[0], beta2_power = s[1], lr = s[2], beta1 = s[3], beta2 = s[4], epsilon = s[5];
        T alpha = lr * std::sqrt(T(1) - beta2_power) / (T(1) - beta1_power);
        return [=](T* x, T g) {
          T& var = x[0];
          T& m = x[1];
          T& v = x[2];
          m += (g - m) * (T(1) - beta1);
          v += (g * g - v) * (T(1) - beta2);
          if (nesterov)
            var -= ((g * (T(1) - beta1) + beta1 * m) * alpha) / (std::sqrt(v) + epsilon);
          else
            var -= (m * alpha) / (std::sqrt(v) + epsilon);
        };
      });
    });

// accum += grad^2; var -= lr * grad / sqrt(accum)
constexpr Layout<2, 4> kAdagrad{3};          // var, accum, lr, grad
REGISTER_OP("ApplyAdagrad").inputs(4).ref_input(0).ref_input(1).stateful().not_differentiable()
    .shape([](InferCtx& c) { apply_shape(c, kAdagrad); })
    .cpu([](KernelCtx& c) {
      apply_update(c, kAdagrad, [](auto s) {
        auto lr = s[0];
        return [=](auto* x, auto g) {
          x[1] += g * g;
          x[0] -= g * lr / std::sqrt(x[1]);
        };
      });
    });

// ms += (grad^2 - ms)(1 - rho); mom = momentum * mom + lr * grad / sqrt(ms + epsilon); var -= mom
constexpr Layout<3, 8> kRMSProp{7};          // var, ms, mom, lr, rho, momentum, epsilon, grad
REGISTER_OP("ApplyRMSProp").inputs(8).ref_input(0).ref_input(1).ref_input(2).stateful().not_differentiable()
    .shape([](InferCtx& c) { apply_shape(c, kRMSProp); })
    .cpu([](KernelCtx& c) {
      apply_update(c, kRMSProp, [](auto s) {
        using T = typename decltype(s)::value_type;
        T lr = s[0], rho = s[1], momentum = s[2], epsilon = s[3];
        return [=](T* x, T g) {
          T& var = x[0];
          T& ms = x[1];
          T& mom = x[2];
          ms += (g * g - ms) * (T(1) - rho);
          mom = mom * momentum + (g * lr) / std::sqrt(ms + epsilon);
          var -= mom;
        };
      });
    });

// As RMSProp, with the mean gradient mg += (grad - mg)(1 - rho) centering the second moment:
// mom = momentum * mom + lr * grad / sqrt(ms - mg^2 + epsilon)
constexpr Layout<4, 9> kCenteredRMSProp{8};  // var, mg, ms, mom, lr, rho, momentum, epsilon, grad
REGISTER_OP("ApplyCenteredRMSProp").inputs(9).ref_input(0).ref_input(1).ref_input(2).ref_input(3).stateful()
    .not_differentiable()
    .shape([](InferCtx& c) { apply_shape(c, kCenteredRMSProp); })
    .cpu([](KernelCtx& c) {
      apply_update(c, kCenteredRMSProp, [](auto s) {
        using T = typename decltype(s)::value_type;
        T lr = s[0], rho = s[1], momentum = s[2], epsilon = s[3];
        return [=](T* x, T g) {
          T& var = x[0];
          T& mg = x[1];
          T& ms = x[2];
          T& mom = x[3];
          ms += (g * g - ms) * (T(1) - rho);
          mg += (g - mg) * (T(1) - rho);
          mom = mom * momentum + (g * lr) / std::sqrt((ms - mg * mg) + epsilon);
          var -= mom;
        };
      });
    });

// accum = rho accum + (1 - rho) grad^2; update = sqrt(accum_update + epsilon) / sqrt(accum + epsilon) * grad;
// var -= lr * update; accum_update = rho accum_update + (1 - rho) update^2
constexpr Layout<3, 7> kAdadelta{6};         // var, accum, accum_update, lr, rho, epsilon, grad
REGISTER_OP("ApplyAdadelta").inputs(7).ref_input(0).ref_input(1).ref_input(2).stateful().not_differentiable()
    .shape([](InferCtx& c) { apply_shape(c, kAdadelta); })
    .cpu([](KernelCtx& c) {
      apply_update(c, kAdadelta, [](auto s) {
        using T = typename decltype(s)::value_type;
        T lr = s[0], rho = s[1], epsilon = s[2];
        return [=](T* x, T g) {
          T& var = x[0];
          T& accum = x[1];
          T& accum_update = x[2];
          accum = accum * rho + g * g * (T(1) - rho);
          T update = std::sqrt(accum_update + epsilon) / std::sqrt(accum + epsilon) * g;
          var -= update * lr;
          accum_update = accum_update * rho + update * update * (T(1) - rho);
        };
      });
    });

// FTRL-proximal (McMahan et al. 2013) as TF's ApplyFtrl/ApplyFtrlV2 functors compute it, including their
// special case of lr_power = -0.5 (sqrt rather than pow, which can differ in the last bit). V1 passes no
// shrinkage at all rather than a zero one, so that grad + 0 * var cannot turn an infinite var into NaN.
// multiply_linear_by_lr keeps `linear` scaled by lr, moving lr out of the divisions.
template <bool kShrinkage, class L>
void apply_ftrl(KernelCtx& c, L layout) {
  const bool by_lr = c.node.attrs.get_or<bool>("multiply_linear_by_lr", false);
  apply_update(c, layout, [by_lr](auto s) {
    using T = typename decltype(s)::value_type;
    const T lr = s[0], l1 = s[1], l2 = s[2], shrinkage = kShrinkage ? s[3] : T(0), lr_power = s[kShrinkage ? 4 : 3];
    const bool is_sqrt = lr_power == T(-0.5);
    return [=](T* x, T g) {
      T& var = x[0];
      T& accum = x[1];
      T& linear = x[2];
      const T g_shrunk = kShrinkage ? g + T(2) * shrinkage * var : g;
      const T new_accum = accum + g * g;
      const T new_root = is_sqrt ? std::sqrt(new_accum) : std::pow(new_accum, -lr_power);
      const T old_root = is_sqrt ? std::sqrt(accum) : std::pow(accum, -lr_power);
      if (by_lr) {
        linear += g_shrunk * lr - (new_root - old_root) * var;
        const T num = l1 * lr * sign(linear) - linear;
        const T y = new_root + T(2) * l2 * lr;
        var = std::abs(linear) > l1 * lr ? num / y : T(0);
      } else {
        linear += g_shrunk - (new_root - old_root) / lr * var;
        const T num = l1 * sign(linear) - linear;
        const T y = new_root / lr + T(2) * l2;
        var = std::abs(linear) > l1 ? num / y : T(0);
      }
      accum = new_accum;
    };
  });
}

// new_accum = accum + grad^2; linear += grad - (new_accum^-lr_power - accum^-lr_power) / lr * var;
// var = |linear| > l1 ? (l1 sign(linear) - linear) / (new_accum^-lr_power / lr + 2 l2) : 0; accum = new_accum
constexpr Layout<3, 8> kFtrl{3};             // var, accum, linear, grad, lr, l1, l2, lr_power
REGISTER_OP("ApplyFtrl").inputs(8).ref_input(0).ref_input(1).ref_input(2).stateful().not_differentiable()
    .shape([](InferCtx& c) { apply_shape(c, kFtrl); })
    .cpu([](KernelCtx& c) { apply_ftrl<false>(c, kFtrl); });

// As ApplyFtrl, with the shrinkage-type L2 term added to the gradient in `linear`: grad + 2 l2_shrinkage var.
constexpr Layout<3, 9> kFtrlV2{3};           // var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power
REGISTER_OP("ApplyFtrlV2").inputs(9).ref_input(0).ref_input(1).ref_input(2).stateful().not_differentiable()
    .shape([](InferCtx& c) { apply_shape(c, kFtrlV2); })
    .cpu([](KernelCtx& c) { apply_ftrl<true>(c, kFtrlV2); });

// FOBOS (Duchi & Singer 2009): prox = var - alpha * delta;
// var = sign(prox) max(|prox| - alpha l1, 0) / (1 + alpha l2), the soft threshold only when l1 > 0.
constexpr Layout<1, 5> kProximalGradientDescent{4};  // var, alpha, l1, l2, delta
REGISTER_OP("ApplyProximalGradientDescent").inputs(5).ref_input(0).stateful().not_differentiable()
    .shape([](InferCtx& c) { apply_shape(c, kProximalGradientDescent); })
    .cpu([](KernelCtx& c) {
      apply_update(c, kProximalGradientDescent, [](auto s) {
        using T = typename decltype(s)::value_type;
        const T alpha = s[0], l1 = s[1], l2 = s[2];
        const T threshold = alpha * l1, denom = T(1) + l2 * alpha;
        const bool soft = l1 > T(0);
        return [=](T* x, T g) {
          const T prox = x[0] - g * alpha;
          x[0] = (soft ? sign(prox) * std::max(std::abs(prox) - threshold, T(0)) : prox) / denom;
        };
      });
    });

// FOBOS with Adagrad's per-element rate: accum += grad^2; lr_t = lr / sqrt(accum); then as
// ApplyProximalGradientDescent with lr_t for alpha.
constexpr Layout<2, 6> kProximalAdagrad{5};          // var, accum, lr, l1, l2, grad
REGISTER_OP("ApplyProximalAdagrad").inputs(6).ref_input(0).ref_input(1).stateful().not_differentiable()
    .shape([](InferCtx& c) { apply_shape(c, kProximalAdagrad); })
    .cpu([](KernelCtx& c) {
      apply_update(c, kProximalAdagrad, [](auto s) {
        using T = typename decltype(s)::value_type;
        const T lr = s[0], l1 = s[1], l2 = s[2];
        const bool soft = l1 > T(0);
        return [=](T* x, T g) {
          T& var = x[0];
          T& accum = x[1];
          accum += g * g;
          const T rate = lr / std::sqrt(accum);
          const T prox = var - g * rate;
          var = (soft ? sign(prox) * std::max(std::abs(prox) - rate * l1, T(0)) : prox) / (T(1) + l2 * rate);
        };
      });
    });

// Adagrad dual averaging (Duchi et al. 2011): g_acc += grad; gg_acc += grad^2; with t the global step,
// var = -lr sign(g_acc) max(|g_acc| - l1 t, 0) / (l2 t lr + sqrt(gg_acc)), the threshold only when l1 > 0.
// The operations are grouped as in TF's functor, so float results match it bit for bit.
constexpr Layout<3, 8> kAdagradDA{3, 7};  // var, gradient_accum, gradient_squared_accum, grad, lr, l1, l2, global_step
REGISTER_OP("ApplyAdagradDA").inputs(8).ref_input(0).ref_input(1).ref_input(2).stateful().not_differentiable()
    .shape([](InferCtx& c) { apply_shape(c, kAdagradDA); })
    .cpu([](KernelCtx& c) {
      apply_update(c, kAdagradDA, [](auto s) {
        using T = typename decltype(s)::value_type;
        const T lr = s[0], l1 = s[1], l2 = s[2], step = s[3];
        const T l2_term = l2 * step * lr, threshold = step * l1;
        const bool soft = l1 > T(0);
        return [=](T* x, T g) {
          T& var = x[0];
          T& g_acc = x[1];
          T& gg_acc = x[2];
          g_acc += g;
          gg_acc += g * g;
          const T denom = l2_term + std::sqrt(gg_acc);
          if (soft)
            var = lr * T(-1) * sign(g_acc) * std::max(std::abs(g_acc) - threshold, T(0)) / denom;
          else
            var = lr * g_acc * T(-1) / denom;
        };
      });
    });

}  // namespace
}  // namespace tideflow
