#include "io/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "graph.h"
#include "io/json.h"
#include "session.h"

#if defined(__x86_64__)
#endif

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian; add byte swaps here");

namespace tideflow {

// Note [checkpoint format]
// PREFIX.safetensors is a plain safetensors file, so the `safetensors` package and other frameworks read
// it: an 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}} padded
// with spaces to 8 bytes, then the tensors back to back. Our additions live in "__metadata__" (string to
// string, as the format requires): "tideflow.format" (version), "global_step" when known,
// "crc32c:<name>" (8 hex digits) per tensor over its bytes, and "tideflow.header_crc32c" over a
// canonical form of the header (see header_crc). The reader checks what the format implies (the
// tensors tile the data section exactly, each size matches dtype x shape) plus the checksums, so
// truncation or any flipped byte surfaces as DataLoss naming the file (and the tensor) instead of wrong
// values. A file with none of our keys came from another writer and is read without checksums.

// ---------------------------------------------------------------------------------------------------
// Files

namespace {

Error io_error(const std::string& what, const std::string& path, int err) {
  ErrorCode code = ErrorCode::Unknown;
  if (err == ENOENT || err == ENOTDIR) code = ErrorCode::NotFound;
  else if (err == ENOSPC || err == EDQUOT) code = ErrorCode::ResourceExhausted;
  return Error(code, what + " " + path + ": " + std::strerror(err));
}

std::string dirname_of(const std::string& path) {
  size_t s = path.rfind('/');
  if (s == std::string::npos) return ".";
  return s == 0 ? "/" : path.substr(0, s);
}

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

void write_all(int fd, const void* data, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n) {
    ssize_t w = ::write(fd, p, std::min<size_t>(n, size_t(1) << 30));
    if (w < 0) {
      if (errno == EINTR) continue;
      throw io_error("could not write", path, errno);
    }
    p += w;
    n -= (size_t)w;
  }
}

// Reads exactly n bytes at `off`; false when the file ends first.
bool pread_all(int fd, void* data, size_t n, uint64_t off, const std::string& path) {
  char* p = static_cast<char*>(data);
  while (n) {
    ssize_t r = ::pread(fd, p, std::min<size_t>(n, size_t(1) << 30), (off_t)off);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw io_error("could not read", path, errno);
    }
    if (r == 0) return false;
    p += r;
    n -= (size_t)r;
    off += (uint64_t)r;
  }
  return true;
}

}  // namespace

void write_file_atomic(const std::string& path, const std::vector<std::pair<const void*, size_t>>& chunks) {
  std::string tmp = path + ".tmp." + std::to_string((long)::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error("could not create", tmp, errno);
  try {
    for (auto& c : chunks) write_all(fd, c.first, c.second, tmp);
    if (::fsync(fd) != 0) throw io_error("could not flush", tmp, errno);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw io_error("could not close", tmp, e);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw io_error("could not rename " + tmp + " to", path, e);
  }
  // Make the rename itself durable; a failure here leaves a complete file either way.
  int dfd = ::open(dirname_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string checkpoint_file(const std::string& prefix) {
  static const std::string ext = ".safetensors";
  if (prefix.size() >= ext.size() && prefix.compare(prefix.size() - ext.size(), ext.size(), ext) == 0) return prefix;
  return prefix + ext;
}

// ---------------------------------------------------------------------------------------------------
// safetensors

namespace {

constexpr uint64_t kMaxHeader = 100u << 20;  // the safetensors package's own limit

const char* st_dtype(DType d) {
  switch (d) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int32: return "I32";
    case DType::Int64: return "I64";
    case DType::Bool: return "BOOL";
    case DType::UInt8: return "U8";
    case DType::Int8: return "I8";
    case DType::Int16: return "I16";
    case DType::UInt16: return "U16";
    case DType::Float16: return "F16";
    case DType::BFloat16: return "BF16";
    default: return nullptr;
  }
}

const DType kStDTypes[] = {DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::Bool, DType::UInt8,
                           DType::Int8, DType::Int16, DType::UInt16, DType::Float16, DType::BFloat16};

// Element size of every safetensors dtype, so files from other writers validate fully; 0 if unknown.
size_t st_dtype_size(const std::string& s) {
  static const std::pair<const char*, size_t> sizes[] = {
      {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4}, {"F64", 8}, {"I64", 8}, {"U64", 8}};
  for (auto& kv : sizes)
    if (s == kv.first) return kv.second;
  return 0;
}

// "F32" -> "float32" for messages that compare with a graph's dtypes; other writers' dtypes stay as named.
std::string st_dtype_label(const std::string& s) {
  for (DType t : kStDTypes)
    if (s == st_dtype(t)) return dtype_name(t);
  return s;
}

std::string hex32(uint32_t v) {
  char b[9];
  std::snprintf(b, sizeof b, "%08x", v);
  return b;
}

const std::string kCrcKey = "crc32c:";
const std::string kFormatKey = "tideflow.format";
const std::string kHeaderCrcKey = "tideflow.header_crc32c";

bool is_hex32(const std::string& s) { return s.size() == 8 && s.find_first_not_of("0123456789abcdef") == std::string::npos; }

// The checksum of everything the header says, in a canonical form (the JSON text itself may be
// re-spaced or re-ordered by other tools): a flipped dtype, shape, offset, name or metadata value is
// caught even when the JSON still parses and the sizes still add up.
uint32_t header_crc(const std::map<std::string, CheckpointReader::Entry>& entries, const Metadata& meta) {
  std::string c;
  for (auto& kv : entries) {
    c += kv.first + '\0' + kv.second.dtype + '\0' + dims_str(kv.second.dims) + '\0' + std::to_string(kv.second.begin) +
         '\0' + std::to_string(kv.second.end) + '\n';
  }
  for (auto& kv : meta)
    if (kv.first != kHeaderCrcKey) c += kv.first + '\0' + kv.second + '\n';
  return crc32c(c.data(), c.size());
}

}  // namespace

void save_checkpoint(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                     const Metadata& metadata) {
  // Widest elements first keeps every tensor aligned to its element size within the file (what the
  // safetensors writers do), then by name for a deterministic file.
  std::vector<const std::pair<std::string, Tensor>*> order;
  for (auto& t : tensors) {
    if (t.first.empty() || t.first == "__metadata__")
      throw invalid_argument("cannot save a tensor named '" + t.first + "' in checkpoint " + path);
    if (!t.second.valid()) throw invalid_argument("tensor '" + t.first + "' has no value; cannot save " + path);
    if (!st_dtype(t.second.dtype()))
      throw invalid_argument("tensor '" + t.first + "' has dtype " + dtype_name(t.second.dtype()) +
                             ", which a safetensors checkpoint cannot hold (" + path + ")");
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) {
    size_t sa = dtype_size(a->second.dtype()), sb = dtype_size(b->second.dtype());
    return sa != sb ? sa > sb : a->first < b->first;
  });
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->first == order[i - 1]->first)
      throw invalid_argument("two tensors are named '" + order[i]->first + "'; cannot save " + path);

  for (auto& kv : metadata)
    if (kv.first == kFormatKey || kv.first == kHeaderCrcKey || kv.first.compare(0, kCrcKey.size(), kCrcKey) == 0)
      throw invalid_argument("metadata key '" + kv.first + "' is reserved for tideflow's checksums (" + path + ")");
  Metadata meta = metadata;
  meta[kFormatKey] = std::to_string(kCheckpointFormatVersion);
  std::map<std::string, CheckpointReader::Entry> entries;
  std::string h = "{";
  uint64_t off = 0;
  for (auto* t : order) {
    const Tensor& v = t->second;
    json::quote(h, t->first);
    h += ":{\"dtype\":\"";
    h += st_dtype(v.dtype());
    h += "\",\"shape\":[";
    for (int i = 0; i < v.rank(); ++i) h += (i ? "," : "") + std::to_string(v.dim(i));
    h += "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(off + v.nbytes()) + "]},";
    entries[t->first] = CheckpointReader::Entry{st_dtype(v.dtype()), v.dims(), off, off + v.nbytes()};
    off += v.nbytes();
    meta[kCrcKey + t->first] = hex32(crc32c(v.raw(), v.nbytes()));
  }
  meta[kHeaderCrcKey] = hex32(header_crc(entries, meta));
  h += "\"__metadata__\":{";
  bool first = true;
  for (auto& kv : meta) {
    if (!first) h += ",";
    first = false;
    json::quote(h, kv.first);
    h += ":";
    json::quote(h, kv.second);
  }
  h += "}}";
  h.append((8 - h.size() % 8) % 8, ' ');
  uint64_t hlen = h.size();
  uint8_t len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = (uint8_t)(hlen >> (8 * i));

  std::vector<std::pair<const void*, size_t>> chunks{{len_bytes, 8}, {h.data(), h.size()}};
  for (auto* t : order)
    if (t->second.nbytes()) chunks.emplace_back(t->second.raw(), t->second.nbytes());
  write_file_atomic(path, chunks);
}

CheckpointReader::CheckpointReader(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    int e = errno;
    throw e == ENOENT ? Error(ErrorCode::NotFound, "Checkpoint file " + path + " does not exist")
                      : io_error("could not open checkpoint", path, e);
  }
  try {
    struct stat st;
    if (::fstat(fd_, &st) != 0) throw io_error("could not stat", path, errno);
    uint64_t size = (uint64_t)st.st_size;
    auto loss = [&](const std::string& m) { return Error(ErrorCode::DataLoss, "Checkpoint " + path + " is corrupted: " + m); };
    uint8_t lb[8];
    if (size < 8 || !pread_all(fd_, lb, 8, 0, path))
      throw loss("truncated (" + std::to_string(size) + " bytes; the 8-byte header length is missing)");
    uint64_t hlen = 0;
    for (int i = 0; i < 8; ++i) hlen |= (uint64_t)lb[i] << (8 * i);
    if (hlen > kMaxHeader) throw loss("header length " + std::to_string(hlen) + " exceeds the 100 MB limit");
    if (8 + hlen > size)
      throw loss("truncated: the header needs " + std::to_string(hlen) + " bytes, the file holds " +
                 std::to_string(size - 8) + " after the length");
    std::string h(hlen, '\0');
    if (!pread_all(fd_, &h[0], hlen, 8, path)) throw loss("truncated header");
    data_start_ = 8 + hlen;
    if (!json::is_utf8(h)) throw loss("the header is not valid UTF-8");
    json::Value doc = json::parse(h, "Checkpoint " + path + " header");
    if (!doc.is(json::Value::Object)) throw loss("the header is not a JSON object");

    std::vector<const std::pair<const std::string, Entry>*> spans;
    for (auto& kv : doc.obj) {
      const std::string& name = kv.first;
      const json::Value& v = kv.second;
      if (name == "__metadata__") {
        if (!v.is(json::Value::Object)) throw loss("__metadata__ is not an object");
        for (auto& m : v.obj) {
          if (!m.second.is(json::Value::String)) throw loss("__metadata__ value '" + m.first + "' is not a string");
          meta_[m.first] = m.second.s;
        }
        continue;
      }
      auto bad = [&](const std::string& m) { return loss("tensor '" + name + "': " + m); };
      const json::Value* dt = v.find("dtype");
      const json::Value* shape = v.find("shape");
      const json::Value* offs = v.find("data_offsets");
      if (!v.is(json::Value::Object) || !dt || !shape || !offs || !dt->is(json::Value::String) ||
          !shape->is(json::Value::Array) || !offs->is(json::Value::Array) || offs->arr.size() != 2)
        throw bad("expected {dtype, shape, data_offsets}");
      Entry e;
      e.dtype = dt->s;
      size_t esize = st_dtype_size(e.dtype);
      if (!esize) throw bad("unknown dtype \"" + e.dtype + "\"");
      uint64_t bytes = esize;
      for (auto& d : shape->arr) {
        if (!d.is(json::Value::Int) || d.i < 0) throw bad("shape entries must be non-negative integers");
        e.dims.push_back(d.i);
        if (d.i && bytes > UINT64_MAX / (uint64_t)d.i) throw bad("shape overflows");
        bytes *= (uint64_t)d.i;
      }
      for (auto& o : offs->arr)
        if (!o.is(json::Value::Int) || o.i < 0) throw bad("data_offsets must be non-negative integers");
      e.begin = (uint64_t)offs->arr[0].i;
      e.end = (uint64_t)offs->arr[1].i;
      if (e.end < e.begin || e.end - e.begin != bytes)
        throw bad("data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + ") do not hold " +
                  e.dtype + dims_str(e.dims) + " (" + std::to_string(bytes) + " bytes)");
      spans.push_back(&*entries_.emplace(name, std::move(e)).first);
    }
    // The tensors must tile the data section exactly: a gap or overlap means a damaged header, a short
    // data section means a truncated file.
    std::sort(spans.begin(), spans.end(), [](auto* a, auto* b) {
      return a->second.begin != b->second.begin ? a->second.begin < b->second.begin : a->second.end < b->second.end;
    });
    uint64_t expect = 0;
    for (auto* s : spans) {
      const Entry& e = s->second;
      if (e.begin != expect)
        throw loss("tensor '" + s->first + "' starts at data offset " + std::to_string(e.begin) + ", expected " +
                   std::to_string(expect) + " (tensors must be contiguous)");
      expect = e.end;
    }
    uint64_t have = size - data_start_;
    if (have < expect)
      throw loss("truncated: the header describes " + std::to_string(expect) + " bytes of tensor data, the file holds " +
                 std::to_string(have));
    if (have > expect)
      throw loss(std::to_string(have - expect) + " unexpected bytes after the tensor data");

    // Any of our keys marks a tideflow file; only a file with none of them is read without checksums,
    // so a damaged key cannot switch verification off.
    for (auto& kv : meta_)
      if (kv.first == kFormatKey || kv.first == kHeaderCrcKey || kv.first.compare(0, kCrcKey.size(), kCrcKey) == 0)
        checksummed_ = true;
    if (checksummed_) {
      auto hc = meta_.find(kHeaderCrcKey);
      if (hc == meta_.end() || !is_hex32(hc->second)) throw loss("the header has no valid checksum");
      if (std::strtoul(hc->second.c_str(), nullptr, 16) != header_crc(entries_, meta_))
        throw loss("the header fails its checksum (tensor names, dtypes, shapes, offsets or metadata were altered)");
      auto fmt = meta_.find(kFormatKey);
      char* endp = nullptr;
      long ver = fmt == meta_.end() ? 0 : std::strtol(fmt->second.c_str(), &endp, 10);
      if (fmt == meta_.end() || fmt->second.empty() || *endp || ver < 1) throw loss("missing or bad " + kFormatKey);
      if (ver > kCheckpointFormatVersion)
        throw Error(ErrorCode::Unimplemented, "Checkpoint " + path + " has format version " + fmt->second +
                                                  ", newer than this tideflow reads (" +
                                                  std::to_string(kCheckpointFormatVersion) + "); upgrade tideflow");
      for (auto& kv : entries_) {
        auto c = meta_.find(kCrcKey + kv.first);
        if (c == meta_.end() || !is_hex32(c->second))
          throw loss("tensor '" + kv.first + "' has no valid checksum in the metadata");
      }
    }
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

CheckpointReader::~CheckpointReader() {
  if (fd_ >= 0) ::close(fd_);
}

const CheckpointReader::Entry& CheckpointReader::entry(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw Error(ErrorCode::NotFound, "Key " + name + " not found in checkpoint " + path_);
  return it->second;
}

DType CheckpointReader::dtype(const std::string& name) const {
  const std::string& d = entry(name).dtype;
  for (DType t : kStDTypes)
    if (d == st_dtype(t)) return t;
  throw Error(ErrorCode::Unimplemented, "tensor '" + name + "' in checkpoint " + path_ + " has dtype " + d +
                                            ", which tideflow does not support");
}

Tensor CheckpointReader::read(const std::string& name) const {
  const Entry& e = entry(name);
  Tensor t(dtype(name), e.dims);
  size_t n = (size_t)(e.end - e.begin);
  auto loss = [&](const std::string& m) {
    return Error(ErrorCode::DataLoss, "Checkpoint " + path_ + " is corrupted: tensor '" + name + "' " + m);
  };
  if (n && !pread_all(fd_, t.raw(), n, data_start_ + e.begin, path_)) throw loss("is truncated");
  if (checksummed_) {
    uint32_t want = (uint32_t)std::strtoul(meta_.at(kCrcKey + name).c_str(), nullptr, 16);
    uint32_t got = crc32c(t.raw(), n);
    if (got != want)
      throw loss("fails its checksum (stored crc32c " + hex32(want) + ", computed " + hex32(got) +
                 "); restore an older checkpoint");
  }
  if (t.dtype() == DType::Bool) {
    const uint8_t* b = static_cast<const uint8_t*>(t.raw());
    for (size_t i = 0; i < n; ++i)
      if (b[i] > 1) throw loss("holds a bool byte that is neither 0 nor 1");
  }
  return t;
}

std::map<std::string, Tensor> load_checkpoint(const std::string& path, Metadata* metadata) {
  CheckpointReader r(path);
  std::map<std::string, Tensor> out;
  for (auto& kv : r.entries()) out.emplace(kv.first, r.read(kv.first));
  if (metadata) *metadata = r.metadata();
  return out;
}

Tensor load_checkpoint_tensor(const std::string& path, const std::string& name) {
  return CheckpointReader(path).read(name);
}

// ---------------------------------------------------------------------------------------------------
// Session variables

namespace {

void check_variable(const std::string& name, const Node* n) {
  if (!n || n->type() != "VariableV2")
    throw invalid_argument("checkpoint entry '" + name + "' must map to a variable, got " +
                           (n ? n->describe() : std::string("nothing")));
}

std::string variable_summary(const Node* n) {
  return std::string(dtype_name(n->out_dtypes[0])) + " " + n->out_shapes[0].str();
}

}  // namespace

void save_variables(Session& sess, const std::string& path, const std::vector<std::pair<std::string, const Node*>>& vars,
                    const Metadata& metadata) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::string uninit;
  for (auto& v : vars) {
    check_variable(v.first, v.second);
    Tensor t = sess.state().var(v.second).read();
    if (!t.valid()) uninit += (uninit.empty() ? "" : ", ") + v.second->name;
    tensors.emplace_back(v.first, std::move(t));
  }
  if (!uninit.empty())
    throw Error(ErrorCode::FailedPrecondition, "Cannot save checkpoint " + path + ": uninitialized variables: " +
                                                   uninit + ". Run their initializers (or restore them) first.");
  save_checkpoint(path, tensors, metadata);
}

void restore_variables(Session& sess, const std::string& path,
                       const std::vector<std::pair<std::string, const Node*>>& vars) {
  CheckpointReader r(path);
  std::string missing, mismatched;
  int n_missing = 0;
  for (auto& v : vars) {
    check_variable(v.first, v.second);
    if (!r.has(v.first)) {
      missing += (missing.empty() ? "'" : ", '") + v.first + "'";
      ++n_missing;
      continue;
    }
    const auto& e = r.entry(v.first);
    const Node* n = v.second;
    bool dtype_ok = st_dtype(n->out_dtypes[0]) && e.dtype == st_dtype(n->out_dtypes[0]);
    if (!dtype_ok || !n->out_shapes[0].compatible_with(e.dims))
      mismatched += "\n  '" + v.first + "' (variable '" + n->name + "'): the graph has " + variable_summary(n) +
                    ", the checkpoint has " + st_dtype_label(e.dtype) + " " + PartialShape(e.dims).str();
  }
  if (n_missing) {
    std::string present;
    int k = 0;
    for (auto& kv : r.entries()) {
      if (k++ == 10) { present += ", ..."; break; }
      present += (present.empty() ? "'" : ", '") + kv.first + "'";
    }
    throw Error(ErrorCode::NotFound,
                "Restoring from checkpoint " + path + " failed: " + std::to_string(n_missing) + " of " +
                    std::to_string(vars.size()) + " variables not found in checkpoint: " + missing +
                    ". The checkpoint holds " + std::to_string(r.entries().size()) + " tensors (" + present +
                    "). Restore a subset with Saver(var_list=...) or map names with a dict.");
  }
  if (!mismatched.empty())
    throw invalid_argument("Restoring from checkpoint " + path +
                           " failed: shapes or dtypes differ between the graph and the checkpoint:" + mismatched +
                           "\nBuild the graph the checkpoint was saved from, or leave these variables out of "
                           "the Saver's var_list.");
  // Read and verify everything before assigning anything: a corrupted tensor leaves every variable as it was.
  std::vector<Tensor> values;
  values.reserve(vars.size());
  for (auto& v : vars) values.push_back(r.read(v.first));
  for (size_t i = 0; i < vars.size(); ++i) {
    VarSlot& slot = sess.state().var(vars[i].second);
    std::lock_guard<std::mutex> l(slot.mu);
    slot.value = std::move(values[i]);
  }
}

// ---------------------------------------------------------------------------------------------------
// The state file

namespace {

std::string text_quote(const std::string& s) {  // protobuf text-format string escaping
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char b[5];
          std::snprintf(b, sizeof b, "\\%03o", c);
          o += b;
        } else {
          o += (char)c;
        }
    }
  }
  return o + "\"";
}

bool text_unquote(const std::string& s, size_t& p, std::string* out) {
  char q = s[p];
  if (q != '"' && q != '\'') return false;
  ++p;
  while (p < s.size() && s[p] != q) {
    char c = s[p++];
    if (c != '\\') { *out += c; continue; }
    if (p >= s.size()) return false;
    char e = s[p++];
    switch (e) {
      case 'n': *out += '\n'; break;
      case 'r': *out += '\r'; break;
      case 't': *out += '\t'; break;
      case 'a': *out += '\a'; break;
      case 'b': *out += '\b'; break;
      case 'f': *out += '\f'; break;
      case 'v': *out += '\v'; break;
      case 'x': {
        int v = 0, k = 0;
        while (k < 2 && p < s.size() && std::isxdigit((unsigned char)s[p])) {
          char h = s[p++];
          v = v * 16 + (std::isdigit((unsigned char)h) ? h - '0' : (std::tolower(h) - 'a' + 10));
          ++k;
        }
        if (!k) return false;
        *out += (char)v;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0', k = 1;
          while (k < 3 && p < s.size() && s[p] >= '0' && s[p] <= '7') v = v * 8 + (s[p++] - '0'), ++k;
          *out += (char)v;
        } else {
          *out += e;  // \" \' \\ and \?
        }
    }
  }
  if (p >= s.size()) return false;
  ++p;
  return true;
}

std::string fmt_double(double d) {
  char b[32];
  std::snprintf(b, sizeof b, "%.17g", d);
  return b;
}

}  // namespace

void write_checkpoint_state(const std::string& dir, const CheckpointState& st, const std::string& filename) {
  std::string s = "model_checkpoint_path: " + text_quote(st.model_checkpoint_path) + "\n";
  for (auto& p : st.all_model_checkpoint_paths) s += "all_model_checkpoint_paths: " + text_quote(p) + "\n";
  for (double t : st.all_model_checkpoint_timestamps) s += "all_model_checkpoint_timestamps: " + fmt_double(t) + "\n";
  if (st.last_preserved_timestamp != 0) s += "last_preserved_timestamp: " + fmt_double(st.last_preserved_timestamp) + "\n";
  write_file_atomic(join(dir, filename), {{s.data(), s.size()}});
}

bool read_checkpoint_state(const std::string& dir, CheckpointState* st, const std::string& filename) {
  std::string path = join(dir, filename);
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  *st = CheckpointState{};
  std::string line;
  int lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    auto bad = [&](const std::string& m) {
      return Error(ErrorCode::DataLoss, "Checkpoint state file " + path + " line " + std::to_string(lineno) + ": " + m);
    };
    size_t p = line.find_first_not_of(" \t\r");
    if (p == std::string::npos || line[p] == '#') continue;
    size_t colon = line.find(':', p);
    if (colon == std::string::npos) throw bad("expected 'field: value'");
    std::string key = line.substr(p, colon - p);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    size_t v = line.find_first_not_of(" \t", colon + 1);
    if (v == std::string::npos) throw bad("missing value for " + key);
    if (key == "model_checkpoint_path" || key == "all_model_checkpoint_paths") {
      std::string s;
      if (!text_unquote(line, v, &s)) throw bad("malformed string for " + key);
      if (key == "model_checkpoint_path") st->model_checkpoint_path = s;
      else st->all_model_checkpoint_paths.push_back(s);
    } else if (key == "all_model_checkpoint_timestamps" || key == "last_preserved_timestamp") {
      char* end = nullptr;
      double d = std::strtod(line.c_str() + v, &end);
      if (end == line.c_str() + v) throw bad("malformed number for " + key);
      if (key == "last_preserved_timestamp") st->last_preserved_timestamp = d;
      else st->all_model_checkpoint_timestamps.push_back(d);
    }  // other fields of newer writers are ignored, as protobuf does
  }
  return true;
}

}  // namespace tideflow
