// The Python side of PyFunc nodes (Note [python callbacks] in ops/py_func.h): the kernel's callback takes
// the GIL and calls the dispatcher that tideflow.ops.script_ops installs, which finds the function by
// token, calls it and hands back NumPy values (or an error code and message).
#include "bindings_util.h"
#include "ops/py_func.h"

namespace tideflow_py {

namespace {

// Deliberately leaked, like the error classes in bindings.cc: released after the interpreter is gone it
// would crash at exit.
PyObject* g_dispatcher = nullptr;

std::vector<Tensor> call_python(PyFuncCall& call) {
  // A step still running while the interpreter shuts down must not touch it.
  if (!Py_IsInitialized()) throw Error(ErrorCode::Cancelled, "the Python interpreter is shutting down");
  // Session.run released the GIL, so this blocks only while other Python code runs; the executor's
  // threads and other sessions' steps hold no lock that a GIL holder could be waiting for.
  nb::gil_scoped_acquire gil;
  if (!g_dispatcher) throw Error(ErrorCode::FailedPrecondition, "tideflow.ops.script_ops is not loaded");
  try {
    nb::list args = tensors_to_py(call.inputs);
    call.inputs.clear();
    nb::list tout;
    for (DType d : call.tout) tout.append(nb::cast(d));
    nb::object r = nb::borrow(g_dispatcher)(call.token, call.eager, args, tout);
    nb::tuple t = nb::cast<nb::tuple>(r);
    int code = nb::cast<int>(t[0]);
    if (code != 0) throw Error((ErrorCode)code, nb::cast<std::string>(t[1]));
    std::vector<Tensor> out;
    for (nb::handle h : t[1]) out.push_back(tensor_from_py(h));
    return out;
  } catch (nb::python_error& e) {  // a fault in the dispatcher itself; the function's own are caught there
    throw Error(ErrorCode::Unknown, e.what());
  } catch (const nb::cast_error&) {
    throw Error(ErrorCode::Internal, "the py_func dispatcher returned a malformed result");
  }
}

}  // namespace

void bind_pyfunc(nb::module_& m) {
  m.def("_set_py_func_dispatcher", [](nb::object f) {
    Py_XDECREF(g_dispatcher);
    g_dispatcher = f.is_none() ? nullptr : f.inc_ref().ptr();
  });
  set_py_func_callback(call_python);
}

}  // namespace tideflow_py
