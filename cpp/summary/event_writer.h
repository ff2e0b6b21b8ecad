#pragma once
// TensorBoard event files written from C++, so a C++ program can log without Python.
//
//   tideflow::EventWriter w("/tmp/logs");
//   for (int step = 0; step < 100; ++step) w.add_scalar("loss", loss, step);
//   w.close();   // or let the destructor flush and close
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "export.h"

namespace tideflow {

class Graph;

// Summary and Event messages (tensorflow/core/framework/summary.proto, util/event.proto).
namespace summary_proto {
// A Summary holding one Value{tag, simple_value}.
TF_API std::string scalar(const std::string& tag, float value);
// An Event: wall_time, step and one payload field. Every payload of the `what` oneof is length-delimited
// (file_version, graph_def, summary, session_log), so one encoder serves them all.
enum EventField { kFileVersion = 3, kGraphDef = 4, kSummary = 5, kSessionLog = 7, kMetaGraphDef = 9 };
TF_API std::string event(double wall_time, int64_t step, EventField field, const std::string& payload);
// SessionLog{status, checkpoint_path, msg}; status: 0 unspecified, 1 START, 2 STOP, 3 CHECKPOINT.
TF_API std::string session_log(int status, const std::string& checkpoint_path, const std::string& msg);
}  // namespace summary_proto

// Frames one record the TFRecord way: uint64 length (LE), masked CRC-32C of the length, the data, masked
// CRC-32C of the data.
TF_API std::string tfrecord_frame(const std::string& data);

// Note [event writer thread]
// Adders serialize an Event and push it on a queue; one background thread per writer appends the framed
// records to the file through stdio's buffer and fflush()es every flush_secs, on flush() and on close(),
// so a training loop never waits on the disk. The queue holds at most max_queue events: a producer that
// outruns the disk waits rather than growing memory without bound. flush() returns once every event
// added before it is in the file. Events added after close() are dropped, as TensorFlow 1.x does.
class TF_API EventWriter {
 public:
  // Creates `logdir` (and parents) and a new event file in it,
  // `events.out.tfevents.<seconds>.<hostname><filename_suffix>`; a name already taken (two writers in one
  // second) gets ".1", ".2"... appended, so writers never share a file. Throws a clear Error when the
  // directory or the file cannot be created.
  explicit EventWriter(std::string logdir, int max_queue = 10, double flush_secs = 120,
                       std::string filename_suffix = "");
  ~EventWriter();  // flushes and closes; never throws
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  // A serialized Event, written as is.
  void add_event(std::string serialized_event);
  // A serialized Summary at `step`; wall_time < 0 means now.
  void add_summary(const std::string& summary, int64_t step, double wall_time = -1);
  void add_scalar(const std::string& tag, double value, int64_t step, double wall_time = -1);
  void add_graph_def(const std::string& graph_def, int64_t step = 0, double wall_time = -1);
  void add_graph(const Graph& g, int64_t step = 0);
  void add_session_log(int status, const std::string& msg, const std::string& checkpoint_path, int64_t step,
                       double wall_time = -1);

  void flush();
  void close();
  // After close(): starts a new event file in the same directory.
  void reopen();
  bool closed() const;
  const std::string& logdir() const { return logdir_; }
  std::string filename() const;  // the current (or last) event file's path

  static double now();  // seconds since the epoch

 private:
  void open_file();
  void run();
  void write_record(const std::string& data);
  void check_error();

  std::string logdir_, suffix_, filename_;
  size_t max_queue_;
  bool wake_now() const;
  double flush_secs_;
  FILE* file_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // thread: something to write, flush, or stop
  std::condition_variable space_cv_;  // producers: room in the queue
  std::condition_variable done_cv_;   // flush(): a flush finished
  std::deque<std::string> queue_;
  uint64_t flush_requested_ = 0, flush_done_ = 0;
  bool stop_ = false, closed_ = true;
  std::string error_;  // the first I/O error of the writer thread, reported by flush()/close()
  std::thread thread_;
};

}  // namespace tideflow
