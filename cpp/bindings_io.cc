// Bindings for checkpoints (safetensors) and meta graphs.
#include "bindings_util.h"

namespace tideflow_py {

void bind_io(nb::module_& m) {}

}  // namespace tideflow_py
