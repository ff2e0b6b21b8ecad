// Constants, placeholders, variables and the ops that update them; identity and no-op.
#include <cstring>

#include "op_registry.h"
#include "resources.h"

namespace tideflow {
namespace {

void check_var_input(InferCtx& c) {
  const Node* v = c.node.inputs[0].node;
  if (v->type() != "VariableV2")
    c.type_fail("Input 0 must be a variable to update, got '" + v->name + "' of type " + v->type());
}

REGISTER_OP("Const").inputs(0).not_differentiable()
    .shape([](InferCtx& c) {
      const Tensor& t = c.attr<Tensor>("value");
      c.set_output(0, t.dtype(), PartialShape(t.dims()));
    })
    .cpu([](KernelCtx& c) { c.set(0, c.attr<Tensor>("value")); });

REGISTER_OP("Placeholder").inputs(0).not_differentiable()
    .shape([](InferCtx& c) { c.set_output(0, c.attr<DType>("dtype"), c.attr<PartialShape>("shape")); })
    .cpu([](KernelCtx& c) { c.fail("You must feed a value for placeholder tensor '" + c.node.name + "'"); });

REGISTER_OP("PlaceholderWithDefault").inputs(1)
    .shape([](InferCtx& c) {
      PartialShape s = c.node.attrs.get_or<PartialShape>("shape", c.shape(0));
      if (!s.compatible_with(c.shape(0))) c.fail("default value shape " + c.shape(0).str() + " contradicts " + s.str());
      c.set_output(0, c.dtype(0), s);
    })
    .cpu([](KernelCtx& c) {
      // A default of unknown static shape is checked when it arrives: the output keeps the declared shape.
      PartialShape s = c.node.attrs.get_or<PartialShape>("shape", PartialShape::unknown());
      if (!s.compatible_with(PartialShape(c.in(0).dims())))
        c.fail("default value shape " + dims_str(c.in(0).dims()) + " contradicts the declared shape " + s.str());
      c.set(0, c.in(0));
    })
    .grad([](GradCtx& g) { return std::vector<Output>{g.g()}; });

REGISTER_OP("VariableV2").inputs(0).stateful().not_differentiable()
    .shape([](InferCtx& c) { c.set_output(0, c.attr<DType>("dtype"), c.attr<PartialShape>("shape")); })
    .cpu([](KernelCtx& c) {
      Tensor v = c.res.var(&c.node).read();
      if (!v.valid())
        throw Error(ErrorCode::FailedPrecondition, "Attempting to use uninitialized value " + c.node.name +
                                                       "\n\t [[node " + c.node.describe() + "]]");
      c.set(0, std::move(v));
    });

REGISTER_OP("IsVariableInitialized").inputs(1).ref_input(0).not_differentiable()
    .shape([](InferCtx& c) {
      check_var_input(c);
      c.set_output(0, DType::Bool, PartialShape(Dims{}));
    })
    .cpu([](KernelCtx& c) { c.set(0, Tensor::scalar<bool>(c.ref(0).read().valid())); });

// Assign takes the new value's buffer when it can (no copy); a value someone else holds is copied so the
// variable never aliases a fed array or another variable.
REGISTER_OP("Assign").inputs(2).ref_input(0).stateful().not_differentiable()
    .shape([](InferCtx& c) {
      check_var_input(c);
      c.expect_same_dtype(0, 1);
      bool validate = c.node.attrs.get_or<bool>("validate_shape", true);
      if (validate && !c.shape(0).compatible_with(c.shape(1)))
        c.fail("Shapes must be equal: variable " + c.shape(0).str() + " vs value " + c.shape(1).str());
      c.set_output(0, c.dtype(0), validate ? c.shape(0).merge(c.shape(1)) : c.shape(1));
    })
    .cpu([](KernelCtx& c) {
      const Node* var = c.node.inputs[0].node;
      const Tensor& val = c.in(1);
      if (c.node.attrs.get_or<bool>("validate_shape", true) && !var->out_shapes[0].compatible_with(val.dims()))
        c.fail("Assign requires shapes of both tensors to match: variable " + var->out_shapes[0].str() +
               " vs value " + val.summary());
      Tensor v = val.unique() ? val : val.deep_copy();
      VarSlot& slot = c.ref(0);
      {
        std::lock_guard<std::mutex> l(slot.mu);
        slot.value = v;
      }
      c.set(0, std::move(v));
    });

// Note [variable updates]
// Updates write in place when the variable's buffer is held by nobody else (no fetched array, no
// in-flight reader); otherwise they write a fresh buffer and swap it in, so values the user already holds
// never change and concurrent runs never corrupt memory (TF's non-locking semantics, made memory-safe).
template <class Op>
void update_var(KernelCtx& c, Op op) {
  VarSlot& v = c.ref(0);
  const Tensor& rhs = c.in(1);
  std::lock_guard<std::mutex> l(v.mu);
  if (!v.value.valid())
    throw Error(ErrorCode::FailedPrecondition, "Attempting to use uninitialized value " + c.node.inputs[0].node->name +
                                                   "\n\t [[node " + c.node.describe() + "]]");
  if (v.value.dims() != rhs.dims())
    c.fail("Shapes must be equal: variable " + v.value.summary() + " vs update " + rhs.summary());
  Tensor dst = v.value.unique() ? v.value : Tensor(v.value.dtype(), v.value.dims());
  dispatch<kNumeric>(rhs.dtype(), c.node.type().c_str(), [&](auto z) {
    using T = decltype(z);
    const T* a = v.value.data<T>();
    const T* b = rhs.data<T>();
    T* o = dst.data<T>();
    for (int64_t i = 0, n = rhs.size(); i < n; ++i) o[i] = op(a[i], b[i]);
  });
  v.value = dst;
  c.set(0, std::move(dst));
}

void var_update_shape(InferCtx& c) {
  check_var_input(c);
  c.expect_same_dtype(0, 1);
  if (!c.shape(0).compatible_with(c.shape(1)))
    c.fail("Shapes must be equal: " + c.shape(0).str() + " vs " + c.shape(1).str());
  c.set_output(0, c.dtype(0), c.shape(0));
}

REGISTER_OP("AssignAdd").inputs(2).ref_input(0).stateful().not_differentiable().shape(var_update_shape)
    .cpu([](KernelCtx& c) { update_var(c, [](auto a, auto b) { return a + b; }); });

REGISTER_OP("AssignSub").inputs(2).ref_input(0).stateful().not_differentiable().shape(var_update_shape)
    .cpu([](KernelCtx& c) { update_var(c, [](auto a, auto b) { return a - b; }); });

// Variable.initialized_value(): the variable's value once initialized, else the initial value.
REGISTER_OP("InitializedValue").inputs(2).ref_input(0).stateful()
    .shape([](InferCtx& c) {
      check_var_input(c);
      c.set_output(0, c.dtype(0), c.shape(0).merge(c.shape(1)));
    })
    .cpu([](KernelCtx& c) {
      Tensor v = c.ref(0).read();
      c.set(0, v.valid() ? v : c.in(1));
    })
    .grad([](GradCtx& g) { return std::vector<Output>{Output{}, g.g()}; });

// report_uninitialized_variables: input 0 holds the names, inputs 1.. whether each is initialized.
REGISTER_OP("ReportUninitialized").inputs(-1).not_differentiable()
    .shape([](InferCtx& c) {
      if (c.num_inputs() < 1 || c.dtype(0) != DType::String) c.type_fail("input 0 must hold the names (string)");
      for (int i = 1; i < c.num_inputs(); ++i)
        if (c.dtype(i) != DType::Bool || (c.shape(i).known_rank && c.shape(i).rank() != 0))
          c.type_fail("inputs 1.. must be bool scalars (is each variable initialized)");
      c.set_output(0, DType::String, PartialShape::unknown_of_rank(1));
    })
    .cpu([](KernelCtx& c) {
      std::vector<std::string> out;
      const auto& names = c.in(0).string_values();
      if ((int64_t)names.size() != (int64_t)c.inputs.size() - 1)
        c.fail("got " + std::to_string(names.size()) + " names for " + std::to_string(c.inputs.size() - 1) + " flags");
      for (size_t i = 1; i < c.inputs.size(); ++i)
        if (c.in((int)i).size() != 1) c.fail("flag " + std::to_string(i) + " must be a scalar");
      for (size_t i = 1; i < c.inputs.size(); ++i)
        if (!*c.in((int)i).data<bool>()) out.push_back(names[i - 1]);
      int64_t n = (int64_t)out.size();
      c.set(0, Tensor::strings({n}, std::move(out)));
    });

REGISTER_OP("Identity").inputs(1).shape(shape_unchanged)
    .cpu([](KernelCtx& c) { c.set(0, c.in(0)); })
    .grad([](GradCtx& g) { return std::vector<Output>{g.g()}; });

// IdentityN(inputs...): each output is the matching input. tf.custom_gradient hangs its gradient on one.
REGISTER_OP("IdentityN").inputs(-1)
    .shape([](InferCtx& c) {
      for (int i = 0; i < c.num_inputs(); ++i) c.set_output(i, c.dtype(i), c.shape(i));
    })
    .cpu([](KernelCtx& c) {
      for (size_t i = 0; i < c.inputs.size(); ++i) c.set((int)i, c.in((int)i));
    })
    .grad([](GradCtx& g) { return g.grads; });

REGISTER_OP("StopGradient").inputs(1).shape(shape_unchanged).not_differentiable()
    .cpu([](KernelCtx& c) { c.set(0, c.in(0)); });

REGISTER_OP("NoOp").inputs(0).not_differentiable()
    .shape([](InferCtx&) {})
    .cpu([](KernelCtx&) {});

}  // namespace
}  // namespace tideflow
