// PyFunc, PyFuncStateless, EagerPyFunc: nodes whose kernel calls back into Python (Note [python
// callbacks] in py_func.h). Outputs have unknown shapes, as in TensorFlow: only the function knows them.
#include "ops/py_func.h"

#include <memory>
#include <mutex>

#include "op_registry.h"

namespace tideflow {

namespace {

std::mutex g_mu;
// Held by shared_ptr so a kernel keeps its callback alive while another thread replaces it.
std::shared_ptr<PyFuncCallback> g_callback;

std::shared_ptr<PyFuncCallback> callback() {
  std::lock_guard<std::mutex> l(g_mu);
  return g_callback;
}

// An empty list attribute comes from Python as an empty integer list.
std::vector<DType> tout_of(const Node& n) { return n.attrs.get_or<std::vector<DType>>("Tout", {}); }

void shape_py_func(InferCtx& c) {
  if (!c.node.attrs.has("token")) c.fail("PyFunc needs a 'token' attribute");
  std::vector<DType> tout = tout_of(c.node);
  for (size_t i = 0; i < tout.size(); ++i) c.set_output((int)i, tout[i], PartialShape::unknown());
}

void py_func_kernel(KernelCtx& c) {
  auto cb = callback();
  if (!cb || !*cb)
    throw Error(ErrorCode::FailedPrecondition,
                "no Python callback is registered to run this node\n\t [[node " + c.node.describe() + "]]");
  const std::string& token = c.attr<std::string>("token");
  const std::vector<DType> tout = tout_of(c.node);
  PyFuncCall call{token, c.node.type() == "EagerPyFunc", {}, tout};
  // A buffer someone else still holds (a variable's value, a constant, a fed NumPy array) is copied: the
  // function gets arrays it may modify in place without changing them.
  call.inputs.reserve(c.inputs.size());
  for (const Tensor& t : c.inputs) call.inputs.push_back(t.unique() ? t : t.deep_copy());
  std::vector<Tensor> outs;
  try {
    outs = (*cb)(call);
  } catch (const Error& e) {
    throw Error(e.code(), std::string(e.what()) + "\n\t [[node " + c.node.describe() + "]]");
  }
  if (outs.size() != tout.size())
    c.fail(token + " returns " + std::to_string(outs.size()) + " values, but expects to see " +
           std::to_string(tout.size()) + " values.");
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!outs[i].valid()) c.fail(std::to_string(i) + "-th value returned by " + token + " is missing");
    if (outs[i].dtype() != tout[i])
      c.fail(std::to_string(i) + "-th value returned by " + token + " is " + dtype_name(outs[i].dtype()) +
             ", but expects " + dtype_name(tout[i]));
    c.set((int)i, std::move(outs[i]));
  }
}

// TensorFlow marks all three not differentiable (EagerPyFunc's gradient needs a tape over eager tensors,
// which tideflow's NumPy arguments cannot record); a gradient can still be attached per node with
// gradient_override_map. Only the stateless form may be treated as a pure function.
REGISTER_OP("PyFunc").inputs(-1).stateful().expensive().not_differentiable().shape(shape_py_func).cpu(py_func_kernel);
REGISTER_OP("PyFuncStateless").inputs(-1).expensive().not_differentiable().shape(shape_py_func).cpu(py_func_kernel);
REGISTER_OP("EagerPyFunc").inputs(-1).stateful().expensive().not_differentiable().shape(shape_py_func)
    .cpu(py_func_kernel);

}  // namespace

void set_py_func_callback(PyFuncCallback cb) {
  auto p = cb ? std::make_shared<PyFuncCallback>(std::move(cb)) : nullptr;
  std::lock_guard<std::mutex> l(g_mu);
  g_callback = std::move(p);
}

}  // namespace tideflow
