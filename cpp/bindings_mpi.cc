// tideflow.horovod's link to the collective controller (cpp/dist/controller.h): start it on the
// communicator mpi4py created, stop it, read its counters.
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings_util.h"
#include "dist/controller.h"
#include "threadpool.h"

namespace tideflow_py {

using tideflow::dist::Controller;

void bind_mpi(nb::module_& m) {
  m.def("_hvd_start", [](const std::map<std::string, int64_t>& h, int rank, int size, int64_t fusion_threshold,
                         double cycle_time_ms, double stall_warning_s, double stall_shutdown_s,
                         const std::vector<uintptr_t>& shm_regions, size_t shm_region_bytes) {
    tideflow::dist::MpiHandles mh;
    auto get = [&](const char* k) {
      auto it = h.find(k);
      if (it == h.end()) throw invalid_argument(std::string("missing MPI handle '") + k + "'");
      return (intptr_t)it->second;
    };
    mh.handle_bytes = (int)get("handle_bytes");
    mh.comm = get("comm");
    mh.in_place = get("in_place");
    mh.dt_float = get("float");
    mh.dt_double = get("double");
    mh.dt_int32 = get("int32");
    mh.dt_int64 = get("int64");
    mh.dt_byte = get("byte");
    mh.op_sum = get("sum");
    mh.op_min = get("min");
    mh.op_max = get("max");
    mh.op_prod = get("prod");
    tideflow::dist::ControllerOptions o;
    o.fusion_threshold = fusion_threshold;
    o.cycle_time_ms = cycle_time_ms;
    o.stall_warning_s = stall_warning_s;
    o.stall_shutdown_s = stall_shutdown_s;
    for (uintptr_t a : shm_regions) o.shm_regions.push_back(reinterpret_cast<void*>(a));
    o.shm_region_bytes = shm_region_bytes;
    Controller::global().start(mh, rank, size, o);
    return Controller::global().library();
  }, "handles"_a, "rank"_a, "size"_a, "fusion_threshold"_a, "cycle_time_ms"_a, "stall_warning_s"_a,
     "stall_shutdown_s"_a, "shm_regions"_a = std::vector<uintptr_t>(), "shm_region_bytes"_a = 0);
  m.def("_hvd_shutdown", [](const std::string& reason) {
    nb::gil_scoped_release release;  // waits for the other ranks' last round
    return Controller::global().shutdown(reason);
  });
  m.def("_hvd_running", [] { return Controller::global().running(); });
  m.def("_hvd_stats", [] {
    auto s = Controller::global().stats();
    return std::map<std::string, int64_t>{{"rounds", s.rounds}, {"tensors", s.tensors}, {"mpi_calls", s.mpi_calls}, {"shm_calls", s.shm_calls},
                                          {"fused_tensors", s.fused_tensors}, {"bytes", s.bytes},
                                          {"negotiation_us", s.negotiation_us}, {"data_us", s.data_us}};
  });
  // Note [controller trace] in cpp/dist/controller.cc
  m.def("_hvd_trace", [](bool on) { Controller::global().set_tracing(on); });
  m.def("_hvd_take_trace", [] {
    std::vector<std::tuple<int64_t, std::string, int64_t, int64_t, bool>> out;
    for (auto& e : Controller::global().take_trace()) out.emplace_back(e.ns, e.what, e.arg, e.cpu_ns, e.on_thread);
    return out;
  });
  m.def("_set_default_threads", &tideflow::set_default_thread_cap);
  m.def("_default_threads", &tideflow::default_thread_cap);
}

}  // namespace tideflow_py
