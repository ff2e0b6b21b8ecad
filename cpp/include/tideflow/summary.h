// tideflow's C++ API, part 6: TensorBoard event files (tf.summary.FileWriter).
#pragma once

#include <memory>
#include <string>

#include "tideflow/graph.h"

namespace tideflow {
inline namespace v1 {
namespace summary {

// Writes `events.out.tfevents.*` into logdir (created with its parents) from a background thread; the
// events reach the file every flush_secs, on flush() and on close() (the destructor closes too).
//   summary::FileWriter w("runs/exp1");
//   w.add_scalar("loss", loss, step);
class FileWriter {
 public:
  explicit FileWriter(const std::string& logdir, double flush_secs = 120)
      : w_(detail::call(TFL_NewEventWriter, logdir.c_str(), flush_secs), TFL_DeleteEventWriter) {}
  // The graph, shown on TensorBoard's Graphs tab (tf.summary.FileWriter(logdir, graph)).
  FileWriter(const std::string& logdir, const Graph& graph, double flush_secs = 120) : FileWriter(logdir, flush_secs) {
    add_graph(graph);
  }
  void add_scalar(const std::string& tag, double value, int64_t step) {
    detail::call(TFL_EventWriterAddScalar, w_.get(), tag.c_str(), value, step);
  }
  // A serialized Summary, as a summary op (tf.summary.scalar / merge_all built with OpBuilder) returns it.
  void add_summary(const Tensor& summary, int64_t step) {
    std::string s = summary.string_at(0);
    detail::call(TFL_EventWriterAddSummary, w_.get(), static_cast<const void*>(s.data()), s.size(), step);
  }
  void add_graph(const Graph& g) { detail::call(TFL_EventWriterAddGraph, w_.get(), static_cast<const TFL_Graph*>(g.c())); }
  void flush() { detail::call(TFL_EventWriterFlush, w_.get()); }
  void close() { detail::call(TFL_EventWriterClose, w_.get()); }
  std::string filename() const { return TFL_EventWriterFilename(w_.get()); }

 private:
  std::shared_ptr<TFL_EventWriter> w_;
};

}  // namespace summary
}  // namespace v1
}  // namespace tideflow
