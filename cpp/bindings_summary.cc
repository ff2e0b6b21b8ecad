// Bindings for event files, GraphDef export and summaries.
#include "bindings_util.h"

namespace tideflow_py {

void bind_summary(nb::module_& m) {}

}  // namespace tideflow_py
