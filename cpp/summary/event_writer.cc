#include "summary/event_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "errors.h"
#include "checksum.h"
#include "summary/graph_def.h"
#include "summary/protobuf_lite.h"

namespace tideflow {

namespace summary_proto {

std::string scalar(const std::string& tag, float value) {
  pb::Writer v;
  v.bytes(1, tag);   // Summary.Value.tag
  v.f32(2, value);   // Summary.Value.simple_value
  pb::Writer s;
  s.message(1, v);   // Summary.value
  return s.release();
}

std::string event(double wall_time, int64_t step, EventField field, const std::string& payload) {
  pb::Writer e;
  e.implicit_f64(1, wall_time);
  e.implicit_int64(2, step);
  e.bytes((int)field, payload);
  return e.release();
}

std::string session_log(int status, const std::string& checkpoint_path, const std::string& msg) {
  pb::Writer w;
  w.implicit_int64(1, status);
  if (!checkpoint_path.empty()) w.bytes(2, checkpoint_path);
  if (!msg.empty()) w.bytes(3, msg);
  return w.release();
}

}  // namespace summary_proto

std::string tfrecord_frame(const std::string& data) {
  std::string out;
  out.reserve(data.size() + 16);
  uint64_t len = data.size();
  char header[8];
  for (int i = 0; i < 8; ++i) header[i] = (char)(len >> (8 * i));
  auto put32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back((char)(v >> (8 * i)));
  };
  out.append(header, 8);
  put32(crc32c_mask(crc32c(header, 8)));
  out.append(data);
  put32(crc32c_mask(crc32c(data.data(), data.size())));
  return out;
}

namespace {

// TensorFlow's mapping of errno to error codes for file-system failures (permission problems have no
// code of their own here and read as FailedPrecondition).
ErrorCode code_for_errno(int e) {
  switch (e) {
    case ENOENT: return ErrorCode::NotFound;
    case EEXIST: return ErrorCode::AlreadyExists;
    case ENOSPC: case EDQUOT: return ErrorCode::ResourceExhausted;
    default: return ErrorCode::FailedPrecondition;
  }
}

std::string hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

}  // namespace

double EventWriter::now() {
  using namespace std::chrono;
  return duration_cast<duration<double>>(system_clock::now().time_since_epoch()).count();
}

EventWriter::EventWriter(std::string logdir, int max_queue, double flush_secs, std::string filename_suffix)
    : logdir_(std::move(logdir)), suffix_(std::move(filename_suffix)),
      max_queue_(max_queue > 0 ? (size_t)max_queue : 1), flush_secs_(flush_secs > 0 ? flush_secs : 120) {
  if (logdir_.empty()) throw invalid_argument("EventWriter: logdir must not be empty");
  open_file();
}

EventWriter::~EventWriter() {
  try {
    close();
  } catch (...) {
  }
}

void EventWriter::open_file() {
  std::error_code ec;
  std::filesystem::create_directories(logdir_, ec);
  if (ec || !std::filesystem::is_directory(logdir_))
    throw Error(code_for_errno(ec ? ec.value() : ENOTDIR),
                "Cannot create the summary log directory '" + logdir_ + "': " +
                    (ec ? ec.message() : std::string("a file of that name is in the way")) +
                    ". Pass a logdir you can write to.");
  char secs[32];
  std::snprintf(secs, sizeof(secs), "%010lld", (long long)now());
  std::string base = logdir_ + "/events.out.tfevents." + secs + "." + hostname() + suffix_;
  // O_EXCL makes taking the name atomic: two writers racing for one second's name get different files.
  int fd = -1;
  std::string name = base;
  for (int i = 1; fd < 0; ++i) {
    fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) break;
    if (errno != EEXIST || i > 100000)
      throw Error(code_for_errno(errno), "Cannot create event file '" + name + "': " + std::strerror(errno) +
                                             ". Pass a logdir you can write to.");
    name = base + "." + std::to_string(i);
  }
  file_ = fdopen(fd, "wb");
  if (!file_) {
    ::close(fd);
    throw Error(ErrorCode::Internal, "fdopen failed for event file '" + name + "'");
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    filename_ = name;
    stop_ = false;
    closed_ = false;
    error_.clear();
    queue_.clear();
  }
  // The first record names the format version; readers check it before anything else.
  write_record(summary_proto::event(now(), 0, summary_proto::kFileVersion, "brain.Event:2"));
  std::fflush(file_);
  thread_ = std::thread([this] { run(); });
}

void EventWriter::write_record(const std::string& data) {
  std::string rec = tfrecord_frame(data);
  if (std::fwrite(rec.data(), 1, rec.size(), file_) != rec.size()) {
    std::lock_guard<std::mutex> l(mu_);
    if (error_.empty()) error_ = "writing event file '" + filename_ + "' failed: " + std::strerror(errno);
  }
}

void EventWriter::run() {
  using clock = std::chrono::steady_clock;
  auto interval = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(flush_secs_));
  auto next_flush = clock::now() + interval;
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    work_cv_.wait_until(l, next_flush, [&] { return wake_now(); });
    std::deque<std::string> batch;
    batch.swap(queue_);
    uint64_t requested = flush_requested_;
    bool stop = stop_;
    space_cv_.notify_all();
    l.unlock();
    for (auto& e : batch) write_record(e);
    bool flushed = false;
    if (stop || requested > flush_done_ || clock::now() >= next_flush) {
      if (std::fflush(file_) != 0) {
        std::lock_guard<std::mutex> g(mu_);
        if (error_.empty()) error_ = "flushing event file '" + filename_ + "' failed: " + std::strerror(errno);
      }
      next_flush = clock::now() + interval;
      flushed = true;
    }
    l.lock();
    if (flushed) {
      flush_done_ = requested;
      done_cv_.notify_all();
    }
    if (stop && queue_.empty()) return;
  }
}

void EventWriter::add_event(std::string serialized_event) {
  std::unique_lock<std::mutex> l(mu_);
  if (closed_) return;
  space_cv_.wait(l, [&] { return queue_.size() < max_queue_ || stop_; });
  if (stop_) return;
  queue_.push_back(std::move(serialized_event));
  if (wake_now()) work_cv_.notify_one();
}

// Note [batched writes]
// Waking the writer thread for every event costs a thread switch per training step, and on a machine
// whose cores are all running the step that switch lands on the step itself. So added events wait in
// the queue until it is half full, a flush is asked for, or flush_secs pass (FileWriter's documented
// contract: at most max_queue pending events, written at least every flush_secs). Caller holds mu_.
bool EventWriter::wake_now() const {
  return queue_.size() >= (max_queue_ + 1) / 2 || stop_ || flush_requested_ > flush_done_;
}

void EventWriter::add_summary(const std::string& summary, int64_t step, double wall_time) {
  add_event(summary_proto::event(wall_time < 0 ? now() : wall_time, step, summary_proto::kSummary, summary));
}

void EventWriter::add_scalar(const std::string& tag, double value, int64_t step, double wall_time) {
  add_summary(summary_proto::scalar(tag, (float)value), step, wall_time);
}

void EventWriter::add_graph_def(const std::string& graph_def, int64_t step, double wall_time) {
  add_event(summary_proto::event(wall_time < 0 ? now() : wall_time, step, summary_proto::kGraphDef, graph_def));
}

void EventWriter::add_graph(const Graph& g, int64_t step) { add_graph_def(graph_to_graph_def(g), step); }

void EventWriter::add_session_log(int status, const std::string& msg, const std::string& checkpoint_path,
                                  int64_t step, double wall_time) {
  add_event(summary_proto::event(wall_time < 0 ? now() : wall_time, step, summary_proto::kSessionLog,
                                 summary_proto::session_log(status, checkpoint_path, msg)));
}

void EventWriter::check_error() {
  std::string e;
  {
    std::lock_guard<std::mutex> l(mu_);
    e.swap(error_);
  }
  if (!e.empty()) throw Error(ErrorCode::DataLoss, e);
}

void EventWriter::flush() {
  {
    std::unique_lock<std::mutex> l(mu_);
    if (closed_) return;
    uint64_t mine = ++flush_requested_;
    work_cv_.notify_one();
    done_cv_.wait(l, [&] { return flush_done_ >= mine; });
  }
  check_error();
}

void EventWriter::close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) return;
    closed_ = true;
    stop_ = true;
    work_cv_.notify_one();
    space_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  bool close_failed = std::fclose(file_) != 0;
  file_ = nullptr;
  if (close_failed) {
    std::lock_guard<std::mutex> l(mu_);
    if (error_.empty()) error_ = "closing event file '" + filename_ + "' failed: " + std::strerror(errno);
  }
  check_error();
}

void EventWriter::reopen() {
  if (!closed()) return;
  open_file();
}

bool EventWriter::closed() const {
  std::lock_guard<std::mutex> l(mu_);
  return closed_;
}

std::string EventWriter::filename() const {
  std::lock_guard<std::mutex> l(mu_);
  return filename_;
}

}  // namespace tideflow
