// The C API's optimizers: python/tideflow/train/*.py ported node for node, so a model trained from C++
// has the graph, slot variables and numbers a Python program gets (one fused Apply* kernel of
// cpp/train/optimizers.cc per variable; slots "w/Adam", "w/Adam_1"; hyperparameters as float32
// constants cast to each variable's dtype; TensorFlow's defaults and argument checks).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "c_api_internal.h"
#include "gradients.h"

using namespace tideflow;
using namespace tideflow::capi;

namespace {

constexpr double kRequired = std::numeric_limits<double>::quiet_NaN();

struct Spec {
  const char* kind;
  std::vector<std::pair<const char*, double>> params;  // name, default (kRequired: none)
};

const std::vector<Spec>& specs() {
  static const std::vector<Spec> s = {
      {"GradientDescent", {{"learning_rate", kRequired}}},
      {"Momentum", {{"learning_rate", kRequired}, {"momentum", kRequired}, {"use_nesterov", 0}}},
      {"Adam", {{"learning_rate", 0.001}, {"beta1", 0.9}, {"beta2", 0.999}, {"epsilon", 1e-8}}},
      {"Adagrad", {{"learning_rate", kRequired}, {"initial_accumulator_value", 0.1}}},
      {"RMSProp",
       {{"learning_rate", kRequired}, {"decay", 0.9}, {"momentum", 0.0}, {"epsilon", 1e-10}, {"centered", 0}}},
      {"Adadelta", {{"learning_rate", 0.001}, {"rho", 0.95}, {"epsilon", 1e-8}}},
      {"Ftrl",
       {{"learning_rate", kRequired}, {"learning_rate_power", -0.5}, {"initial_accumulator_value", 0.1},
        {"l1_regularization_strength", 0.0}, {"l2_regularization_strength", 0.0},
        {"l2_shrinkage_regularization_strength", 0.0}, {"beta", 0.0}}},
      {"ProximalGradientDescent",
       {{"learning_rate", kRequired}, {"l1_regularization_strength", 0.0}, {"l2_regularization_strength", 0.0}}},
      {"ProximalAdagrad",
       {{"learning_rate", kRequired}, {"initial_accumulator_value", 0.1}, {"l1_regularization_strength", 0.0},
        {"l2_regularization_strength", 0.0}}},
      {"AdagradDA",
       {{"learning_rate", kRequired}, {"initial_gradient_squared_accumulator_value", 0.1},
        {"l1_regularization_strength", 0.0}, {"l2_regularization_strength", 0.0}}},
  };
  return s;
}

// Python's "%f" and "%s" (repr) of a float, for messages worded as TensorFlow's Python code words them.
std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%f", v);
  return buf;
}

std::string repr(double v) {
  char buf[40];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string r = buf;
  if (r.find_first_of(".eEn") == std::string::npos) r += ".0";
  return r;
}

}  // namespace

struct TFL_Optimizer {
  std::string kind, name;
  std::map<std::string, double> values;
  std::map<std::string, Output> tensors;
  // Slots by (slot name, variable node) and non-slot variables by (name, graph), as Python keys them.
  std::map<std::pair<std::string, const Node*>, Node*> slots;
  std::map<std::pair<std::string, const Graph*>, Node*> non_slots;
  std::vector<std::shared_ptr<TFL_Graph>> graphs;  // the graphs its slots live in, kept alive

  double value(const char* k) const { return values.at(k); }
  bool flag(const char* k) const { return values.at(k) != 0; }
};

namespace {

// ---- node building, as the Python layer names things ----

Output op1(TFL_Graph& g, const std::string& type, std::vector<Output> inputs, AttrMap attrs = {},
           const std::string& name = "") {
  return create_op(g, type, name, std::move(inputs), std::move(attrs))->out(0);
}

Output scalar(TFL_Graph& g, double v, DType dt, const std::string& name) {
  Tensor t(dt, {});
  dispatch_numeric(dt, "constant", [&](auto z) { *t.data<decltype(z)>() = static_cast<decltype(z)>(v); });
  return constant(g, t, name);
}

Output cast(TFL_Graph& g, const Output& x, DType dt) {
  if (x.dtype() == dt) return x;
  AttrMap a;
  a["DstT"] = dt;
  return op1(g, "Cast", {x}, std::move(a), "Cast");
}

// A tensor of the variable's shape filled with `value`: a constant while small, a Fill beyond 1000
// elements so the graph does not carry a large constant (slot_creator._filled).
Output filled(TFL_Graph& g, const PartialShape& shape, double value, DType dt, const std::string& name) {
  int64_t n = num_elements(shape.dims);
  if (n < 1000) {
    Tensor t(dt, shape.dims);
    dispatch_numeric(dt, "slot", [&](auto z) {
      using T = decltype(z);
      std::fill(t.data<T>(), t.data<T>() + n, static_cast<T>(value));
    });
    return constant(g, t, name);
  }
  Tensor dims(DType::Int32, {(int64_t)shape.dims.size()});
  for (size_t i = 0; i < shape.dims.size(); ++i) dims.data<int32_t>()[i] = (int32_t)shape.dims[i];
  return op1(g, "Fill", {constant(g, dims, "shape"), scalar(g, value, dt, "value")}, {}, name);
}

Output snapshot_of(TFL_Graph& g, Node* var) {
  const TFL_Graph::Variable* v = g.find_variable(var);
  return v && v->snapshot.valid() ? v->snapshot : var->out(0);
}

struct Hypers {
  std::map<std::string, Output> t;
  const Output& operator[](const std::string& k) const { return t.at(k); }
};

class Builder {
 public:
  Builder(TFL_Optimizer& opt, TFL_Graph& g) : o_(opt), g_(g) {
    auto ref = g.ref();
    if (std::find(o_.graphs.begin(), o_.graphs.end(), ref) == o_.graphs.end()) o_.graphs.push_back(ref);
  }

  // ---- slots (slot_creator.create_filled_slot) ----
  Node* slot(Node* var, double value, const std::string& slot_name, const std::string& op_name) {
    auto key = std::make_pair(slot_name, (const Node*)var);
    auto it = o_.slots.find(key);
    if (it != o_.slots.end()) return it->second;
    const PartialShape& shape = var->out_shapes[0];
    if (!shape.fully_defined())
      throw value_error("Cannot create the slot '" + slot_name + "' for variable '" + var->name + "' of shape " +
                        shape.str() + ": its shape must be fully defined");
    ClearControlDependencies no_deps(g_);
    NameScope root(g_, "");
    std::string scope = unique_name(g_, var->name + "/" + op_name) + "/";
    Output init;
    {
      NameScope ns(g_, scope);
      init = filled(g_, shape, value, var->out_dtypes[0], value == 0 ? "zeros" : "Const");
    }
    Node* s = add_variable(g_, scope, init, false, {"variables"}).var;
    o_.slots[key] = s;
    return s;
  }

  // A float32 scalar variable of the optimizer (Adam's beta1_power), under the caller's name scope.
  Node* non_slot(double initial, const std::string& name) {
    auto key = std::make_pair(name, (const Graph*)&g_);
    auto it = o_.non_slots.find(key);
    if (it != o_.non_slots.end()) return it->second;
    ClearControlDependencies no_deps(g_);
    std::string scope = unique_name(g_, name) + "/";
    Output init;
    {
      NameScope ns(g_, scope);
      init = scalar(g_, initial, DType::Float32, "initial_value");
    }
    Node* v = add_variable(g_, scope, init, false, {"variables"}).var;
    o_.non_slots[key] = v;
    return v;
  }

  // ---- hyperparameters (Optimizer._hyper): a given tensor, else a float32 constant ----
  Output hyper(const std::string& param, const std::string& node_name) {
    auto it = o_.tensors.find(param);
    if (it != o_.tensors.end()) return it->second;
    return scalar(g_, o_.value(param.c_str()), DType::Float32, node_name);
  }

  void create_slots(const std::vector<Node*>& vars) {
    const std::string& k = o_.kind;
    const std::string& n = o_.name;
    if (k == "Adam") {  // TensorFlow colocates the powers with the first variable by name; no placement here
      non_slot(o_.value("beta1"), "beta1_power");
      non_slot(o_.value("beta2"), "beta2_power");
    }
    for (Node* v : vars) {
      if (k == "Momentum") slot(v, 0, "momentum", n);
      else if (k == "Adam") slot(v, 0, "m", n), slot(v, 0, "v", n);
      else if (k == "Adagrad" || k == "ProximalAdagrad") slot(v, o_.value("initial_accumulator_value"), "accumulator", n);
      else if (k == "RMSProp") {
        slot(v, 1, "rms", n);
        if (o_.flag("centered")) slot(v, 0, "mg", n);
        slot(v, 0, "momentum", n);
      } else if (k == "Adadelta") slot(v, 0, "accum", n), slot(v, 0, "accum_update", n);
      else if (k == "Ftrl") slot(v, o_.value("initial_accumulator_value"), "accum", n), slot(v, 0, "linear", n);
      else if (k == "AdagradDA") {
        slot(v, 0, "gradient_accumulator", n);
        slot(v, o_.value("initial_gradient_squared_accumulator_value"), "gradient_squared_accumulator", n);
      }
    }
  }

  void prepare() {
    const std::string& k = o_.kind;
    if (k == "Adadelta") {
      h_.t["lr"] = hyper("learning_rate", "lr");
      h_.t["rho"] = hyper("rho", "rho");
      h_.t["epsilon"] = hyper("epsilon", "epsilon");
      return;
    }
    h_.t["learning_rate"] = hyper("learning_rate", "learning_rate");
    for (const char* p : {"momentum", "beta1", "beta2", "epsilon", "decay"})
      if (o_.values.count(p)) h_.t[p] = hyper(p, p);
    if (k == "Ftrl" || k == "ProximalGradientDescent" || k == "ProximalAdagrad") {
      h_.t["l1"] = hyper("l1_regularization_strength", "l1_regularization_strength");
      if (k != "Ftrl") h_.t["l2"] = hyper("l2_regularization_strength", "l2_regularization_strength");
    }
    if (k == "Ftrl") {
      // beta enters as extra online L2, beta / (2 lr), so the kernels need no beta input (as in TF).
      double beta = o_.value("beta");
      Output l2;
      if (beta != 0.0) {
        const Output& lr = h_["learning_rate"];
        DType dt = lr.dtype();
        Output denom = op1(g_, "Mul", {scalar(g_, 2.0, dt, "Const"), op1(g_, "Maximum", {lr, scalar(g_, 1e-36, dt, "Const")}, {}, "Maximum")}, {}, "Mul");
        Output ratio = op1(g_, "RealDiv", {scalar(g_, beta, dt, "Const"), denom}, {}, "truediv");
        l2 = op1(g_, "Add", {scalar(g_, o_.value("l2_regularization_strength"), dt, "Const"), ratio}, {}, "Add");
      } else {
        l2 = hyper("l2_regularization_strength", "adjusted_l2_regularization_strength");
      }
      h_.t["l2"] = l2;
      h_.t["l2_shrinkage"] = hyper("l2_shrinkage_regularization_strength", "l2_shrinkage_regularization_strength");
      h_.t["power"] = hyper("learning_rate_power", "learning_rate_power");
    }
    if (k == "AdagradDA") {
      // As TF: the step the update uses is the global step read before this step's increment, plus one.
      Output step = o_.tensors.at("global_step");
      Output id = op1(g_, "Identity", {step}, {}, "Identity");
      NameScope add(g_, "add");
      h_.t["step"] = op1(g_, "Add", {id, scalar(g_, 1, id.dtype(), "y")}, {}, add.scope());
    }
  }

  Output apply_dense(const Output& grad, Node* var) {
    const std::string& k = o_.kind;
    DType dt = var->out_dtypes[0];
    auto c = [&](const Output& t) { return cast(g_, t, dt); };
    auto ref = [](Node* n) { return n->out(0); };
    auto s = [&](const char* name) { return ref(o_.slots.at({name, var})); };
    AttrMap a;
    a["use_locking"] = o_.values.count("use_locking") ? o_.flag("use_locking") : false;
    auto apply = [&](const std::string& type, std::vector<Output> in) {
      return create_op(g_, type, type, std::move(in), a)->out(0);
    };
    if (k == "GradientDescent") return apply("ApplyGradientDescent", {ref(var), c(h_["learning_rate"]), grad});
    if (k == "Momentum") {
      a["use_nesterov"] = o_.flag("use_nesterov");
      return apply("ApplyMomentum", {ref(var), s("momentum"), c(h_["learning_rate"]), grad, c(h_["momentum"])});
    }
    if (k == "Adam") {
      a["use_nesterov"] = false;
      Node* b1 = o_.non_slots.at({"beta1_power", &g_});
      Node* b2 = o_.non_slots.at({"beta2_power", &g_});
      std::vector<Output> in = {ref(var), s("m"), s("v")};
      for (const Output& t : {snapshot_of(g_, b1), snapshot_of(g_, b2), h_["learning_rate"], h_["beta1"], h_["beta2"],
                              h_["epsilon"]})
        in.push_back(c(t));
      in.push_back(grad);
      return apply("ApplyAdam", std::move(in));
    }
    if (k == "Adagrad") return apply("ApplyAdagrad", {ref(var), s("accumulator"), c(h_["learning_rate"]), grad});
    if (k == "RMSProp") {
      std::vector<Output> hy = {c(h_["learning_rate"]), c(h_["decay"]), c(h_["momentum"]), c(h_["epsilon"])};
      std::vector<Output> in;
      if (o_.flag("centered")) in = {ref(var), s("mg"), s("rms"), s("momentum")};
      else in = {ref(var), s("rms"), s("momentum")};
      in.insert(in.end(), hy.begin(), hy.end());
      in.push_back(grad);
      return apply(o_.flag("centered") ? "ApplyCenteredRMSProp" : "ApplyRMSProp", std::move(in));
    }
    if (k == "Adadelta")
      return apply("ApplyAdadelta", {ref(var), s("accum"), s("accum_update"), c(h_["lr"]), c(h_["rho"]),
                                     c(h_["epsilon"]), grad});
    if (k == "Ftrl") {
      std::vector<Output> in = {ref(var), s("accum"), s("linear"), grad, c(h_["learning_rate"]), c(h_["l1"]), c(h_["l2"])};
      if (o_.value("l2_shrinkage_regularization_strength") <= 0.0) {
        in.push_back(c(h_["power"]));
        return apply("ApplyFtrl", std::move(in));
      }
      in.push_back(c(h_["l2_shrinkage"]));
      in.push_back(c(h_["power"]));
      return apply("ApplyFtrlV2", std::move(in));
    }
    if (k == "ProximalGradientDescent")
      return apply("ApplyProximalGradientDescent", {ref(var), c(h_["learning_rate"]), c(h_["l1"]), c(h_["l2"]), grad});
    if (k == "ProximalAdagrad")
      return apply("ApplyProximalAdagrad",
                   {ref(var), s("accumulator"), c(h_["learning_rate"]), c(h_["l1"]), c(h_["l2"]), grad});
    if (k == "AdagradDA") {
      Output step = op1(g_, "Identity", {h_["step"]}, {}, "Identity");
      Output l1 = c(scalar(g_, o_.value("l1_regularization_strength"), DType::Float32, "Const"));
      Output l2 = c(scalar(g_, o_.value("l2_regularization_strength"), DType::Float32, "Const"));
      return apply("ApplyAdagradDA", {ref(var), s("gradient_accumulator"), s("gradient_squared_accumulator"), grad,
                                      c(h_["learning_rate"]), l1, l2, step});
    }
    throw Error(ErrorCode::Internal, "no update rule for optimizer " + k);
  }

  // Optimizer._finish: a group of the updates (Adam first advances its beta powers after them).
  Node* finish(const std::vector<Node*>& updates, const std::string& name) {
    std::vector<Node*> deps = updates;
    if (o_.kind == "Adam") {
      g_.control_stack.push_back({false, updates});
      try {
        for (const char* p : {"beta1", "beta2"}) {
          Node* power = o_.non_slots.at({std::string(p) + "_power", &g_});
          Output product;
          {
            NameScope mul(g_, "mul");
            Output read = op1(g_, "Identity", {power->out(0)}, {}, "read");
            product = op1(g_, "Mul", {read, h_[p]}, {}, mul.scope());
          }
          AttrMap aa;
          aa["validate_shape"] = true;
          deps.push_back(create_op(g_, "Assign", "Assign", {power->out(0), product}, std::move(aa)));
        }
      } catch (...) {
        g_.control_stack.pop_back();
        throw;
      }
      g_.control_stack.pop_back();
    }
    return group(deps, name);
  }

  Node* group(const std::vector<Node*>& deps, const std::string& name) {
    g_.control_stack.push_back({false, deps});
    try {
      Node* n = create_op(g_, "NoOp", name, {});
      g_.control_stack.pop_back();
      return n;
    } catch (...) {
      g_.control_stack.pop_back();
      throw;
    }
  }

 private:
  TFL_Optimizer& o_;
  TFL_Graph& g_;
  Hypers h_;
};

void check_float(const Output& t, const std::string& what) {
  if (!is_floating(t.dtype()))
    throw value_error("Invalid type " + std::string(dtype_name(t.dtype())) + " for " + what +
                      ", expected: [float32, float64].");
}

Node* variable_node(const TFL_Operation* op, const char* fn) {
  Node* n = checked_op(op, fn, "a variable");
  if (n->type() != "VariableV2")
    throw type_error("Trying to optimize unsupported type '" + n->name + "' (" + n->type() +
                     "): optimizers update variables (VariableV2 nodes)");
  return n;
}

std::vector<Node*> vars_or_trainable(TFL_Graph& g, TFL_Operation* const* var_list, int n, const char* fn) {
  std::vector<Node*> vars;
  if (var_list) {
    require(n >= 0, fn, "nvars is negative");
    for (int i = 0; i < n; ++i) vars.push_back(variable_node(var_list[i], fn));
  } else {
    for (const TFL_Graph::Variable& v : collection_variables(g, "trainable_variables")) vars.push_back(v.var);
  }
  return vars;
}

std::vector<Output> compute_gradients(TFL_Optimizer& opt, TFL_Graph& g, const Output& loss,
                                      const std::vector<Node*>& vars) {
  check_float(loss, "'" + loss.node->name + ":" + std::to_string(loss.index) + "'");
  if (vars.empty())
    throw value_error("No variables to optimize: loss " + loss.node->name +
                      " depends on no trainable variable. Create variables with trainable=True or pass var_list.");
  std::vector<Output> xs;
  for (Node* v : vars) {
    if (v->graph != &g) throw value_error("Variable '" + v->name + "' is not from the loss's graph");
    xs.push_back(v->out(0));
  }
  NameScope scope(g, "gradients");
  return gradients(g, {loss}, xs, {}, {}, scope.scope());
}

std::string var_names(const std::vector<Node*>& vars) {
  std::string s = "[";
  for (size_t i = 0; i < vars.size(); ++i) s += (i ? ", " : "") + std::string("'") + vars[i]->name + "'";
  return s + "]";
}

Node* apply_gradients(TFL_Optimizer& opt, TFL_Graph& g, const std::vector<Output>& grads, const std::vector<Node*>& vars,
                      Node* global_step, const std::string& name) {
  if (vars.empty()) throw value_error("No variables provided.");
  std::vector<Node*> with_grad;
  for (size_t i = 0; i < vars.size(); ++i) {
    if (vars[i]->graph != &g) throw value_error("Variable '" + vars[i]->name + "' is not from the graph");
    if (!grads[i].valid()) continue;
    if (grads[i].node->graph != &g) throw value_error("The gradient for '" + vars[i]->name + "' is not from the graph");
    if (grads[i].dtype() != vars[i]->out_dtypes[0])
      throw type_error("Gradient " + grads[i].node->name + ":" + std::to_string(grads[i].index) + " has dtype " +
                       dtype_name(grads[i].dtype()) + " but variable " + vars[i]->name + " has dtype " +
                       dtype_name(vars[i]->out_dtypes[0]) + ".");
    with_grad.push_back(vars[i]);
  }
  if (with_grad.empty()) throw value_error("No gradients provided for any variable: " + var_names(vars) + ".");
  if (opt.kind == "AdagradDA" && !opt.tensors.count("global_step"))
    throw value_error("AdagradDA needs the \"global_step\" parameter (TFL_OptimizerSetParamTensor)");
  if (global_step && (global_step->type() != "VariableV2" || global_step->graph != &g || !is_integer(global_step->out_dtypes[0])))
    throw type_error("global_step must be an integer variable of the graph, got '" + global_step->name + "'");
  Builder b(opt, g);
  {
    ClearControlDependencies no_deps(g);
    b.create_slots(with_grad);
  }
  NameScope scope(g, name.empty() ? opt.name : name);
  b.prepare();
  std::vector<Node*> updates;
  for (size_t i = 0; i < vars.size(); ++i) {
    if (!grads[i].valid()) continue;
    NameScope update(g, "update_" + vars[i]->name);
    updates.push_back(b.apply_dense(grads[i], vars[i]).node);
  }
  Node* train_op;
  if (!global_step) {
    train_op = b.finish(updates, scope.scope());
  } else {
    Node* finished = b.finish(updates, "update");
    g.control_stack.push_back({false, {finished}});
    try {
      Tensor one(global_step->out_dtypes[0], {});
      dispatch_numeric(one.dtype(), "global_step", [&](auto z) { *one.data<decltype(z)>() = 1; });
      Output c = constant(g, one, "Const");
      train_op = create_op(g, "AssignAdd", scope.scope(), {global_step->out(0), c});
    } catch (...) {
      g.control_stack.pop_back();
      throw;
    }
    g.control_stack.pop_back();
  }
  auto& ops = g.collections["train_op"];
  bool present = std::any_of(ops.begin(), ops.end(), [&](const TFL_Graph::Item& it) { return it.name == train_op->name; });
  if (!present) ops.push_back({TFL_Graph::Item::kOp, train_op->name, {}});
  return train_op;
}

}  // namespace

TFL_Optimizer* TFL_NewOptimizer(const char* kind, const char* const* param_names, const double* param_values,
                                int nparams, const char* name, TFL_Status* status) {
  return guarded<TFL_Optimizer*>(status, nullptr, [&] {
    const char* fn = "TFL_NewOptimizer";
    require(kind != nullptr, fn, "kind is NULL");
    require(nparams >= 0 && (nparams == 0 || (param_names && param_values)), fn, "bad parameter arrays");
    const Spec* spec = nullptr;
    std::string known;
    for (const Spec& s : specs()) {
      known += (known.empty() ? "" : ", ") + std::string(s.kind);
      if (kind == std::string(s.kind)) spec = &s;
    }
    if (!spec) throw value_error(std::string("Unknown optimizer '") + kind + "'; tideflow has " + known);
    auto opt = std::make_unique<TFL_Optimizer>();
    opt->kind = spec->kind;
    opt->name = name && *name ? name : spec->kind;
    for (auto& [p, d] : spec->params) opt->values[p] = d;
    for (int i = 0; i < nparams; ++i) {
      require(param_names[i] != nullptr, fn, "a parameter name is NULL");
      std::string p = param_names[i];
      if (!opt->values.count(p) && p != "use_locking")
        throw value_error(std::string(kind) + "Optimizer takes no parameter '" + p + "'");
      if (!std::isfinite(param_values[i]))
        throw value_error(std::string(kind) + "Optimizer: parameter '" + p + "' is not a finite number");
      opt->values[p] = param_values[i];
    }
    // The learning rate may come as a tensor later (TFL_OptimizerSetParamTensor); the rest must be numbers.
    for (auto& [p, d] : opt->values)
      if (std::isnan(d) && p != "learning_rate")
        throw value_error(std::string(kind) + "Optimizer needs the parameter '" + p + "'");
    const std::string& k = opt->kind;
    auto v = [&](const char* p) { return opt->values.at(p); };
    if ((k == "Adagrad" || k == "ProximalAdagrad") && v("initial_accumulator_value") <= 0)
      throw value_error("initial_accumulator_value must be positive: " + repr(v("initial_accumulator_value")));
    if (k == "AdagradDA" && v("initial_gradient_squared_accumulator_value") <= 0)
      throw value_error("initial_gradient_squared_accumulator_value must be positive: " +
                        repr(v("initial_gradient_squared_accumulator_value")));
    if (k == "Ftrl") {
      if (v("initial_accumulator_value") < 0)
        throw value_error("initial_accumulator_value " + fmt(v("initial_accumulator_value")) + " needs to be positive or zero");
      if (v("learning_rate_power") > 0)
        throw value_error("learning_rate_power " + fmt(v("learning_rate_power")) + " needs to be negative or zero");
      for (const char* p : {"l1_regularization_strength", "l2_regularization_strength",
                            "l2_shrinkage_regularization_strength"})
        if (v(p) < 0) throw value_error(std::string(p) + " " + fmt(v(p)) + " needs to be positive or zero");
    }
    return opt.release();
  });
}

void TFL_OptimizerSetParamTensor(TFL_Optimizer* opt, const char* param, TFL_Output value, TFL_Status* status) {
  guarded<int>(status, 0, [&] {
    const char* fn = "TFL_OptimizerSetParamTensor";
    require(opt != nullptr && param != nullptr, fn, "optimizer or param is NULL");
    std::string p = param;
    bool step = p == "global_step" && opt->kind == "AdagradDA";
    if (!step && !opt->values.count(p)) throw value_error(opt->kind + "Optimizer takes no parameter '" + p + "'");
    Output t = checked_output(value, fn, "value");
    if (step ? !is_integer(t.dtype()) : !is_numeric(t.dtype()))
      throw type_error(opt->kind + "Optimizer: parameter '" + p + "' cannot be a " + dtype_name(t.dtype()) + " tensor");
    opt->tensors[p] = t;
    return 0;
  });
}

void TFL_DeleteOptimizer(TFL_Optimizer* opt) { delete opt; }

namespace {
void check_learning_rate(const TFL_Optimizer& opt) {
  if (std::isnan(opt.values.at("learning_rate")) && !opt.tensors.count("learning_rate"))
    throw value_error(opt.kind + "Optimizer needs the parameter 'learning_rate'");
}
}  // namespace

TFL_Operation* TFL_OptimizerMinimize(TFL_Optimizer* opt, TFL_Output loss, TFL_Operation* const* var_list, int nvars,
                                     TFL_Operation* global_step, const char* name, TFL_Status* status) {
  return guarded<TFL_Operation*>(status, nullptr, [&] {
    const char* fn = "TFL_OptimizerMinimize";
    require(opt != nullptr, fn, "optimizer is NULL");
    check_learning_rate(*opt);
    Output l = checked_output(loss, fn, "loss");
    TFL_Graph& g = *graph_of(l.node);
    std::vector<Node*> vars = vars_or_trainable(g, var_list, nvars, fn);
    for (Node* v : vars) check_float(v->out(0), "'" + v->name + "'");
    std::vector<Output> grads = compute_gradients(*opt, g, l, vars);
    if (std::none_of(grads.begin(), grads.end(), [](const Output& o) { return o.valid(); }))
      throw value_error("No gradients provided for any variable, check your graph for ops that do not support "
                        "gradients, between variables " + var_names(vars) + " and loss " + l.node->name + ":" +
                        std::to_string(l.index) + ".");
    Node* step = global_step ? checked_op(global_step, fn, "global_step") : nullptr;
    return oper(apply_gradients(*opt, g, grads, vars, step, name ? name : ""));
  });
}

void TFL_OptimizerComputeGradients(TFL_Optimizer* opt, TFL_Output loss, TFL_Operation* const* vars, int n,
                                   TFL_Output* grads, TFL_Status* status) {
  for (int i = 0; grads && i < n; ++i) grads[i] = TFL_Output{nullptr, 0};
  guarded<int>(status, 0, [&] {
    const char* fn = "TFL_OptimizerComputeGradients";
    require(opt != nullptr, fn, "optimizer is NULL");
    require(n >= 0 && (n == 0 || (vars && grads)), fn, "bad variable or gradient arrays");
    Output l = checked_output(loss, fn, "loss");
    std::vector<Node*> vs;
    for (int i = 0; i < n; ++i) vs.push_back(variable_node(vars[i], fn));
    for (Node* v : vs) check_float(v->out(0), "'" + v->name + "'");
    std::vector<Output> r = compute_gradients(*opt, *graph_of(l.node), l, vs);
    for (int i = 0; i < n; ++i) grads[i] = r[i].valid() ? tfl(r[i]) : TFL_Output{nullptr, 0};
    return 0;
  });
}

TFL_Operation* TFL_OptimizerApplyGradients(TFL_Optimizer* opt, const TFL_Output* grads, TFL_Operation* const* vars,
                                           int n, TFL_Operation* global_step, const char* name, TFL_Status* status) {
  return guarded<TFL_Operation*>(status, nullptr, [&] {
    const char* fn = "TFL_OptimizerApplyGradients";
    require(opt != nullptr, fn, "optimizer is NULL");
    require(n > 0 && grads && vars, fn, "no (gradient, variable) pairs given");
    check_learning_rate(*opt);
    std::vector<Node*> vs;
    std::vector<Output> gs;
    for (int i = 0; i < n; ++i) {
      vs.push_back(variable_node(vars[i], fn));
      gs.push_back(grads[i].oper ? checked_output(grads[i], fn, "a gradient") : Output{});
    }
    Node* step = global_step ? checked_op(global_step, fn, "global_step") : nullptr;
    return oper(apply_gradients(*opt, *graph_of(vs[0]), gs, vs, step, name ? name : ""));
  });
}

TFL_Operation* TFL_OptimizerGetSlot(const TFL_Optimizer* opt, const TFL_Operation* var, const char* slot_name) {
  if (!opt || !var || !slot_name) return nullptr;
  auto it = opt->slots.find({slot_name, node(var)});
  return it == opt->slots.end() ? nullptr : oper(it->second);
}
