// Bindings for event files, GraphDef export and summaries.
#include <cfloat>
#include <cmath>
#include <cstring>

#include "bindings_util.h"
#include "checksum.h"
#include "summary/event_writer.h"
#include "summary/graph_def.h"
#include "summary/protobuf_lite.h"

namespace tideflow_py {

namespace {
std::string bytes_of(nb::bytes b) { return std::string(b.c_str(), b.size()); }

}  // namespace

void bind_summary(nb::module_& m) {
  nb::class_<EventWriter>(m, "EventWriter")
      .def(nb::init<std::string, int, double, std::string>(), "logdir"_a, "max_queue"_a = 10,
           "flush_secs"_a = 120.0, "filename_suffix"_a = "")
      .def("add_event", [](EventWriter& w, nb::bytes e) { w.add_event(bytes_of(e)); })
      .def("add_summary", [](EventWriter& w, nb::bytes s, int64_t step, double wall_time) {
        w.add_summary(bytes_of(s), step, wall_time);
      }, "summary"_a, "step"_a, "wall_time"_a = -1.0)
      .def("add_scalar", &EventWriter::add_scalar, "tag"_a, "value"_a, "step"_a, "wall_time"_a = -1.0)
      .def("add_graph_def", [](EventWriter& w, nb::bytes g, int64_t step, double wall_time) {
        w.add_graph_def(bytes_of(g), step, wall_time);
      }, "graph_def"_a, "step"_a = 0, "wall_time"_a = -1.0)
      .def("add_session_log", &EventWriter::add_session_log, "status"_a, "msg"_a, "checkpoint_path"_a, "step"_a,
           "wall_time"_a = -1.0)
      .def("flush", &EventWriter::flush, nb::call_guard<nb::gil_scoped_release>())
      .def("close", &EventWriter::close, nb::call_guard<nb::gil_scoped_release>())
      .def("reopen", &EventWriter::reopen)
      .def_prop_ro("closed", &EventWriter::closed)
      .def_prop_ro("logdir", &EventWriter::logdir)
      .def_prop_ro("filename", &EventWriter::filename);

  // TFRecord files (tf.python_io, python/tideflow/tfrecord.py): the framing event files use.
  m.def("tfrecord_frame", [](nb::bytes data) {
    std::string s = tfrecord_frame(bytes_of(data));
    return nb::bytes(s.data(), s.size());
  }, "data"_a, "A TFRecord: length (uint64 LE), its masked CRC-32C, the data, the data's masked CRC-32C.");
  m.def("masked_crc32c", [](nb::bytes data) { return crc32c_mask(crc32c(data.c_str(), data.size())); },
        "data"_a, "TFRecord's masked CRC-32C (Castagnoli) of `data`.");

  m.def("graph_def", [](const Graph& g) {
    std::string s = graph_to_graph_def(g);
    return nb::bytes(s.data(), s.size());
  });
}

}  // namespace tideflow_py
