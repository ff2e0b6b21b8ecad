#pragma once
// Note [python callbacks]
// PyFunc, PyFuncStateless and EagerPyFunc run a Python function, yet the core never links against Python:
// the bindings install one callback at module init, and the kernel hands it the node's token, the input
// tensors and the declared output dtypes. Taking the GIL, finding the function and converting values is
// the callback's business; checking what came back (count, dtypes) is the kernel's, so the errors name
// the node whatever the bindings do.
#include <functional>
#include <string>
#include <vector>

#include "tensor.h"

namespace tideflow {

struct PyFuncCall {
  const std::string& token;
  bool eager;                      // EagerPyFunc: results are converted to the declared dtypes
  std::vector<Tensor> inputs;      // private copies: Python may write into them
  const std::vector<DType>& tout;
};

// Returns the function's results, or throws Error (the code says which tf.errors class Python sees).
using PyFuncCallback = std::function<std::vector<Tensor>(PyFuncCall&)>;

TF_API void set_py_func_callback(PyFuncCallback cb);

}  // namespace tideflow
