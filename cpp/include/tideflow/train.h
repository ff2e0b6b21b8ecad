// tideflow's C++ API, part 5: tf.train — optimizers, the global step, savers and checkpoints, meta
// graphs saved by Python.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tideflow/session.h"

namespace tideflow {
inline namespace v1 {
namespace train {

// A hyperparameter: a number, or a tensor (a decayed learning rate).
class Hyper {
 public:
  Hyper(double v) : v_(v) {}          // NOLINT: implicit on purpose
  Hyper(const Output& t) : t_(t) {}   // NOLINT
  bool is_tensor() const { return t_.valid(); }
  double value() const { return v_; }
  const Output& tensor() const { return t_; }

 private:
  double v_ = 0;
  Output t_;
};

using GradsAndVars = std::vector<std::pair<Output, Variable>>;

// tf.train.Optimizer: the subclasses below take TensorFlow's arguments and defaults, and update each
// variable with one fused kernel; slot variables are named as TensorFlow names them ("w/Adam").
class Optimizer {
 public:
  // minimize(loss): compute_gradients + apply_gradients over the trainable variables (or var_list);
  // global_step, when given, is incremented after the updates. Returns the train op.
  Operation minimize(const Output& loss, const Variable& global_step = Variable(), const std::vector<Variable>& var_list = {},
                     const std::string& name = "") {
    std::vector<TFL_Operation*> vs = ops(var_list);
    return Operation(detail::call(TFL_OptimizerMinimize, o_.get(), loss.c(), var_list.empty() ? nullptr : vs.data(),
                                  static_cast<int>(vs.size()), global_step.valid() ? global_step.op().c() : nullptr,
                                  name.empty() ? nullptr : name.c_str()));
  }
  // (gradient, variable) pairs; the gradient is an empty Output where the loss does not depend on it.
  GradsAndVars compute_gradients(const Output& loss, const std::vector<Variable>& var_list = {}) {
    std::vector<Variable> vars = var_list;
    if (vars.empty()) {
      TFL_Graph* g = detail::graph_of(loss, "compute_gradients");
      for (int i = 0; i < TFL_GraphCollectionSize(g, "trainable_variables"); ++i) {
        TFL_Variable c;
        if (TFL_GraphFindVariable(g, TFL_GraphOperationByName(g, TFL_GraphCollectionItem(g, "trainable_variables", i)), &c))
          vars.emplace_back(c);
      }
    }
    std::vector<TFL_Operation*> vs = ops(vars);
    std::vector<TFL_Output> gs(vs.size());
    detail::call(TFL_OptimizerComputeGradients, o_.get(), loss.c(), vs.data(), static_cast<int>(vs.size()), gs.data());
    GradsAndVars r;
    for (size_t i = 0; i < vars.size(); ++i) r.emplace_back(Output(gs[i]), vars[i]);
    return r;
  }
  Operation apply_gradients(const GradsAndVars& grads_and_vars, const Variable& global_step = Variable(),
                            const std::string& name = "") {
    std::vector<TFL_Output> gs;
    std::vector<TFL_Operation*> vs;
    for (auto& [gr, v] : grads_and_vars) {
      gs.push_back(gr.c());
      vs.push_back(v.op().c());
    }
    return Operation(detail::call(TFL_OptimizerApplyGradients, o_.get(), gs.data(), vs.data(), static_cast<int>(vs.size()),
                                  global_step.valid() ? global_step.op().c() : nullptr,
                                  name.empty() ? nullptr : name.c_str()));
  }
  // A slot ("m", "v", "momentum", "accumulator"...) of a variable; an invalid Variable when there is none.
  Variable get_slot(const Variable& var, const std::string& slot) const {
    TFL_Operation* op = TFL_OptimizerGetSlot(o_.get(), var.op().c(), slot.c_str());
    TFL_Variable c{};
    if (op) TFL_GraphFindVariable(TFL_OperationGraph(op), op, &c);
    return Variable(c);
  }
  TFL_Optimizer* c() const { return o_.get(); }

 protected:
  Optimizer(const char* kind, const std::vector<std::pair<const char*, Hyper>>& params, const std::string& name) {
    std::vector<const char*> names;
    std::vector<double> values;
    for (auto& [k, h] : params)
      if (!h.is_tensor()) names.push_back(k), values.push_back(h.value());
    o_.reset(detail::call(TFL_NewOptimizer, kind, names.data(), values.data(), static_cast<int>(names.size()),
                          name.empty() ? nullptr : name.c_str()),
             TFL_DeleteOptimizer);
    for (auto& [k, h] : params)
      if (h.is_tensor()) detail::call(TFL_OptimizerSetParamTensor, o_.get(), k, h.tensor().c());
  }

 private:
  static std::vector<TFL_Operation*> ops(const std::vector<Variable>& vars) {
    std::vector<TFL_Operation*> v;
    for (const Variable& x : vars) v.push_back(x.op().c());
    return v;
  }
  std::shared_ptr<TFL_Optimizer> o_;
};

class GradientDescentOptimizer : public Optimizer {
 public:
  explicit GradientDescentOptimizer(Hyper learning_rate, const std::string& name = "GradientDescent")
      : Optimizer("GradientDescent", {{"learning_rate", learning_rate}}, name) {}
};

class MomentumOptimizer : public Optimizer {
 public:
  MomentumOptimizer(Hyper learning_rate, Hyper momentum, bool use_nesterov = false, const std::string& name = "Momentum")
      : Optimizer("Momentum", {{"learning_rate", learning_rate}, {"momentum", momentum}, {"use_nesterov", use_nesterov ? 1.0 : 0.0}},
                  name) {}
};

class AdamOptimizer : public Optimizer {
 public:
  explicit AdamOptimizer(Hyper learning_rate = 0.001, Hyper beta1 = 0.9, Hyper beta2 = 0.999, Hyper epsilon = 1e-8,
                         const std::string& name = "Adam")
      : Optimizer("Adam", {{"learning_rate", learning_rate}, {"beta1", beta1}, {"beta2", beta2}, {"epsilon", epsilon}},
                  name) {}
};

class AdagradOptimizer : public Optimizer {
 public:
  explicit AdagradOptimizer(Hyper learning_rate, double initial_accumulator_value = 0.1,
                            const std::string& name = "Adagrad")
      : Optimizer("Adagrad", {{"learning_rate", learning_rate}, {"initial_accumulator_value", initial_accumulator_value}},
                  name) {}
};

class RMSPropOptimizer : public Optimizer {
 public:
  explicit RMSPropOptimizer(Hyper learning_rate, Hyper decay = 0.9, Hyper momentum = 0.0, Hyper epsilon = 1e-10,
                            bool centered = false, const std::string& name = "RMSProp")
      : Optimizer("RMSProp",
                  {{"learning_rate", learning_rate}, {"decay", decay}, {"momentum", momentum}, {"epsilon", epsilon},
                   {"centered", centered ? 1.0 : 0.0}},
                  name) {}
};

class AdadeltaOptimizer : public Optimizer {
 public:
  explicit AdadeltaOptimizer(Hyper learning_rate = 0.001, Hyper rho = 0.95, Hyper epsilon = 1e-8,
                             const std::string& name = "Adadelta")
      : Optimizer("Adadelta", {{"learning_rate", learning_rate}, {"rho", rho}, {"epsilon", epsilon}}, name) {}
};

class FtrlOptimizer : public Optimizer {
 public:
  explicit FtrlOptimizer(Hyper learning_rate, double learning_rate_power = -0.5, double initial_accumulator_value = 0.1,
                         double l1_regularization_strength = 0.0, double l2_regularization_strength = 0.0,
                         double l2_shrinkage_regularization_strength = 0.0, double beta = 0.0,
                         const std::string& name = "Ftrl")
      : Optimizer("Ftrl",
                  {{"learning_rate", learning_rate},
                   {"learning_rate_power", learning_rate_power},
                   {"initial_accumulator_value", initial_accumulator_value},
                   {"l1_regularization_strength", l1_regularization_strength},
                   {"l2_regularization_strength", l2_regularization_strength},
                   {"l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength},
                   {"beta", beta}},
                  name) {}
};

class ProximalGradientDescentOptimizer : public Optimizer {
 public:
  explicit ProximalGradientDescentOptimizer(Hyper learning_rate, Hyper l1_regularization_strength = 0.0,
                                            Hyper l2_regularization_strength = 0.0,
                                            const std::string& name = "ProximalGradientDescent")
      : Optimizer("ProximalGradientDescent",
                  {{"learning_rate", learning_rate},
                   {"l1_regularization_strength", l1_regularization_strength},
                   {"l2_regularization_strength", l2_regularization_strength}},
                  name) {}
};

class ProximalAdagradOptimizer : public Optimizer {
 public:
  explicit ProximalAdagradOptimizer(Hyper learning_rate, double initial_accumulator_value = 0.1,
                                    Hyper l1_regularization_strength = 0.0, Hyper l2_regularization_strength = 0.0,
                                    const std::string& name = "ProximalAdagrad")
      : Optimizer("ProximalAdagrad",
                  {{"learning_rate", learning_rate},
                   {"initial_accumulator_value", initial_accumulator_value},
                   {"l1_regularization_strength", l1_regularization_strength},
                   {"l2_regularization_strength", l2_regularization_strength}},
                  name) {}
};

class AdagradDAOptimizer : public Optimizer {
 public:
  AdagradDAOptimizer(Hyper learning_rate, const Variable& global_step,
                     double initial_gradient_squared_accumulator_value = 0.1, double l1_regularization_strength = 0.0,
                     double l2_regularization_strength = 0.0, const std::string& name = "AdagradDA")
      : Optimizer("AdagradDA",
                  {{"learning_rate", learning_rate},
                   {"initial_gradient_squared_accumulator_value", initial_gradient_squared_accumulator_value},
                   {"l1_regularization_strength", l1_regularization_strength},
                   {"l2_regularization_strength", l2_regularization_strength}},
                  name) {
    detail::call(TFL_OptimizerSetParamTensor, c(), "global_step", global_step.ref().c());
  }
};

// tf.train.get_or_create_global_step: the int64 "global_step" variable.
inline Variable get_or_create_global_step(Graph& g) {
  TFL_Operation* op = detail::call(TFL_GetOrCreateGlobalStep, g.c());
  TFL_Variable c{};
  TFL_GraphFindVariable(g.c(), op, &c);
  return Variable(c);
}

// tf.train.Saver over safetensors checkpoints (PREFIX.safetensors + PREFIX.meta + the `checkpoint` state
// file), readable by tideflow's Python Saver and by the safetensors package.
class Saver {
 public:
  // var_list empty: every global variable (for an imported meta graph: what its Python saver saved).
  explicit Saver(Graph& g, const std::vector<Variable>& var_list = {}, int max_to_keep = 5) {
    std::vector<TFL_Operation*> v;
    for (const Variable& x : var_list) v.push_back(x.op().c());
    s_.reset(detail::call(TFL_NewSaver, g.c(), var_list.empty() ? nullptr : v.data(), static_cast<int>(v.size()), max_to_keep),
             TFL_DeleteSaver);
  }
  // Writes save_path[-global_step] and returns that prefix (global_step < 0: none).
  std::string save(Session& sess, const std::string& save_path, int64_t global_step = -1, bool write_meta_graph = true) {
    return detail::call(TFL_SaverSave, s_.get(), sess.c(), save_path.c_str(), global_step, static_cast<int>(write_meta_graph));
  }
  // The step taken from a variable (the global step).
  std::string save(Session& sess, const std::string& save_path, const Variable& global_step, bool write_meta_graph = true) {
    Tensor step = sess.run(global_step.ref());
    int64_t n = step.dtype() == DType::Int64 ? step.scalar<int64_t>() : step.scalar<int32_t>();
    return save(sess, save_path, n, write_meta_graph);
  }
  void restore(Session& sess, const std::string& save_path) {
    detail::call(TFL_SaverRestore, s_.get(), sess.c(), save_path.c_str());
  }

 private:
  std::shared_ptr<TFL_Saver> s_;
};

// tf.train.import_meta_graph: the graph, variables and collections of a meta graph file (from Python or
// C++), and a Saver for its variables.
inline Saver import_meta_graph(Graph& g, const std::string& path, const std::string& import_scope = "") {
  g.import_meta_graph(path, import_scope);
  return Saver(g);
}

// tf.train.latest_checkpoint: the newest prefix in dir, or "" when there is none.
inline std::string latest_checkpoint(const std::string& dir) {
  detail::Status& s = detail::status();
  std::string r = detail::read_string([&](char* b, size_t n) { return TFL_LatestCheckpoint(dir.c_str(), b, n, s.get()); });
  s.check();
  return r;
}

// tf.train.load_variable: one tensor of a checkpoint.
inline Tensor load_variable(const std::string& checkpoint, const std::string& name) {
  return Tensor(detail::call(TFL_LoadCheckpointTensor, checkpoint.c_str(), name.c_str()));
}

}  // namespace train
}  // namespace v1
}  // namespace tideflow
