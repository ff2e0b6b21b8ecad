#include "io/tf_bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "checksum.h"
#include "graph.h"
#include "io/checkpoint.h"
#include "io/tf_proto.h"
#include "session.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "tensor bundles are read as little-endian; add byte swaps");

namespace tideflow {

// Note [tensor bundles]
// TensorFlow's V2 checkpoint is two kinds of file (tensorflow/core/util/tensor_bundle):
//  * PREFIX.index: an immutable sorted table in LevelDB's format. Data blocks hold prefix-compressed
//    entries (varint shared, varint non_shared, varint value_length, the key's new bytes, the value) and
//    end with restart offsets (u32 each, then their count); every block is followed by a compression byte
//    (0 none, 1 snappy) and the masked CRC32C of block and byte. An index block maps a separator key per
//    data block to its handle (varint offset, varint size); a 48-byte footer holds the metaindex and index
//    handles, zero padding and the magic 0xdb4775248b80fb57. The entry under "" is a BundleHeaderProto
//    (number of shards, endianness, version); every other key names a tensor and holds a BundleEntryProto
//    (dtype, shape, shard, offset, size, masked CRC32C of the bytes; or, for a partitioned variable, the
//    list of its slices, each stored under a key encoded with TensorFlow's OrderedCode).
//  * PREFIX.data-NNNNN-of-MMMMM: the tensors' bytes back to back, little-endian; strings as varint
//    lengths, a masked CRC32C of the lengths, then the bytes.
// Reading checks every block checksum, that keys are strictly increasing, that every entry's bytes lie
// inside its shard, that sizes match dtype x shape, and every tensor's CRC32C when it is read; anything
// else is DataLoss naming the file (and tensor), never a wrong value. The index is read whole: it holds
// some tens of bytes per tensor. Writing produces what TensorFlow's BundleWriter does: one shard,
// uncompressed blocks of about 256 KiB with a restart point every 16 entries.

namespace {

constexpr uint64_t kTableMagic = 0xdb4775248b80fb57ull;
constexpr size_t kFooterSize = 48;
constexpr size_t kBlockTrailer = 5;
constexpr size_t kBlockSize = 262144;
constexpr int kRestartInterval = 16;
constexpr uint64_t kMaxIndexFile = uint64_t(1) << 31;  // TensorFlow's own protos stop at 2 GB
constexpr int kBundleVersion = 1;                        // tensor_bundle.cc's kTensorBundleVersion
constexpr int kDtString = 7;

Error loss(const std::string& file, const std::string& m) {
  return Error(ErrorCode::DataLoss, "TensorFlow checkpoint file " + file + " is corrupted: " + m);
}

Error io_error(const std::string& what, const std::string& path, int err) {
  ErrorCode code = (err == ENOENT || err == ENOTDIR) ? ErrorCode::NotFound
                   : (err == ENOSPC || err == EDQUOT) ? ErrorCode::ResourceExhausted
                                                       : ErrorCode::Unknown;
  return Error(code, what + " " + path + ": " + std::strerror(err));
}

bool pread_all(int fd, void* data, size_t n, uint64_t off) {
  char* p = static_cast<char*>(data);
  while (n) {
    ssize_t r = ::pread(fd, p, std::min<size_t>(n, size_t(1) << 30), (off_t)off);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) return false;
    p += r;
    n -= (size_t)r;
    off += (uint64_t)r;
  }
  return true;
}

// Varints inside table blocks and string tensors; false when the input ends first or the value overflows.
bool get_varint(const char*& p, const char* end, uint64_t* v, int max_bytes = 10) {
  uint64_t r = 0;
  for (int i = 0; i < max_bytes; ++i) {
    if (p == end) return false;
    uint8_t b = (uint8_t)*p++;
    if (i == 9 && b > 1) return false;
    r |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *v = r;
      return true;
    }
  }
  return false;
}

void put_varint(std::string& o, uint64_t v) {
  while (v >= 0x80) {
    o += (char)(v | 0x80);
    v >>= 7;
  }
  o += (char)v;
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= (uint32_t)(uint8_t)p[i] << (8 * i);
  return v;
}

void put_u32(std::string& o, uint32_t v) {
  for (int i = 0; i < 4; ++i) o += (char)(v >> (8 * i));
}

// ---- snappy (the table format's optional block compression) ----

// Decompresses one snappy block; false when it is malformed. The declared length is bounded by what the
// input can expand to (a two-byte copy yields at most 64 bytes), so nothing oversized is allocated.
bool snappy_uncompress(std::string_view in, std::string* out) {
  const char* p = in.data();
  const char* end = p + in.size();
  uint64_t n;
  if (!get_varint(p, end, &n, 5) || n > 0xffffffffull || n > (uint64_t)in.size() * 32 + 64) return false;
  out->assign((size_t)n, '\0');
  char* o = &(*out)[0];
  size_t pos = 0;
  while (p < end) {
    uint8_t tag = (uint8_t)*p++;
    size_t len, offset;
    switch (tag & 3) {
      case 0: {
        len = (tag >> 2) + 1;
        if (len > 60) {
          size_t nb = len - 60;
          if ((size_t)(end - p) < nb) return false;
          len = 0;
          for (size_t i = 0; i < nb; ++i) len |= (size_t)(uint8_t)p[i] << (8 * i);
          len += 1;
          p += nb;
        }
        if ((size_t)(end - p) < len || n - pos < len) return false;
        std::memcpy(o + pos, p, len);
        p += len;
        pos += len;
        continue;
      }
      case 1:
        if (p == end) return false;
        len = ((tag >> 2) & 7) + 4;
        offset = ((size_t)(tag >> 5) << 8) | (uint8_t)*p++;
        break;
      case 2:
        if (end - p < 2) return false;
        len = (tag >> 2) + 1;
        offset = (uint8_t)p[0] | ((size_t)(uint8_t)p[1] << 8);
        p += 2;
        break;
      default:
        if (end - p < 4) return false;
        len = (tag >> 2) + 1;
        offset = get_u32(p);
        p += 4;
    }
    if (offset == 0 || offset > pos || n - pos < len) return false;
    for (size_t i = 0; i < len; ++i, ++pos) o[pos] = o[pos - offset];  // copies may overlap their source
  }
  return pos == n;
}

// ---- the table ----

struct BlockHandle {
  uint64_t offset = 0, size = 0;
};

bool get_handle(const char*& p, const char* end, BlockHandle* h) {
  return get_varint(p, end, &h->offset) && get_varint(p, end, &h->size);
}

void put_handle(std::string& o, const BlockHandle& h) {
  put_varint(o, h.offset);
  put_varint(o, h.size);
}

// The contents of the block at `h`, checksum verified and decompressed.
std::string read_block(const std::string& file, const std::string& data, const BlockHandle& h, const char* what) {
  if (h.offset > data.size() || h.size > data.size() - h.offset || data.size() - h.offset - h.size < kBlockTrailer)
    throw loss(file, std::string(what) + " block [" + std::to_string(h.offset) + ", +" + std::to_string(h.size) +
                         ") lies outside the file (" + std::to_string(data.size()) + " bytes)");
  const char* b = data.data() + h.offset;
  uint8_t type = (uint8_t)b[h.size];
  uint32_t want = crc32c_unmask(get_u32(b + h.size + 1));
  if (crc32c(b, h.size + 1) != want) throw loss(file, std::string(what) + " block fails its checksum");
  if (type == 0) return std::string(b, h.size);
  if (type == 1) {
    std::string out;
    if (!snappy_uncompress(std::string_view(b, h.size), &out))
      throw loss(file, std::string(what) + " block holds malformed snappy data");
    return out;
  }
  throw Error(ErrorCode::Unimplemented, "TensorFlow checkpoint file " + file + " uses block compression type " +
                                            std::to_string(type) + "; tideflow reads uncompressed and snappy tables");
}

// Appends the entries of one block in order; keys must keep increasing across blocks.
void parse_block(const std::string& file, const std::string& block, const char* what,
                 std::vector<std::pair<std::string, std::string>>* out) {
  if (block.size() < 4) throw loss(file, std::string(what) + " block is too short");
  uint32_t num_restarts = get_u32(block.data() + block.size() - 4);
  if (num_restarts == 0 || num_restarts > (block.size() - 4) / 4)
    throw loss(file, std::string(what) + " block has a bad restart count");
  size_t limit = block.size() - 4 - 4 * (size_t)num_restarts;
  for (uint32_t i = 0; i < num_restarts; ++i) {
    uint32_t r = get_u32(block.data() + limit + 4 * i);
    if (r > limit || (i == 0 && r != 0 && limit > 0)) throw loss(file, std::string(what) + " block has a bad restart offset");
  }
  const char* p = block.data();
  const char* end = p + limit;
  std::string key;
  while (p < end) {
    uint64_t shared, non_shared, vlen;
    if (!get_varint(p, end, &shared, 5) || !get_varint(p, end, &non_shared, 5) || !get_varint(p, end, &vlen, 5))
      throw loss(file, std::string(what) + " block holds a malformed entry header");
    if (shared > key.size() || non_shared > (uint64_t)(end - p) || vlen > (uint64_t)(end - p) - non_shared)
      throw loss(file, std::string(what) + " block holds an entry that runs past its end");
    key.resize((size_t)shared);
    key.append(p, (size_t)non_shared);
    p += non_shared;
    if (!out->empty() && !(out->back().first < key))
      throw loss(file, "table keys are not in increasing order");
    out->emplace_back(key, std::string(p, (size_t)vlen));
    p += vlen;
  }
}

// Every key and value of the table in `data` (the whole .index file).
std::vector<std::pair<std::string, std::string>> read_table(const std::string& file, const std::string& data) {
  if (data.size() < kFooterSize)
    throw loss(file, "truncated (" + std::to_string(data.size()) + " bytes; a table ends with a 48-byte footer)");
  const char* f = data.data() + data.size() - kFooterSize;
  uint64_t magic = (uint64_t)get_u32(f + 40) | ((uint64_t)get_u32(f + 44) << 32);
  if (magic != kTableMagic) throw loss(file, "not a table (bad magic number; truncated or not an .index file)");
  BlockHandle meta, index;
  const char* p = f;
  if (!get_handle(p, f + 40, &meta) || !get_handle(p, f + 40, &index)) throw loss(file, "malformed footer");
  std::vector<std::pair<std::string, std::string>> meta_entries;  // checked, though bundles keep nothing there
  parse_block(file, read_block(file, data, meta, "metaindex"), "metaindex", &meta_entries);
  std::string index_block = read_block(file, data, index, "index");
  std::vector<std::pair<std::string, std::string>> handles;
  parse_block(file, index_block, "index", &handles);
  std::vector<std::pair<std::string, std::string>> entries;
  for (auto& kv : handles) {
    BlockHandle h;
    const char* q = kv.second.data();
    if (!get_handle(q, q + kv.second.size(), &h) || q != kv.second.data() + kv.second.size())
      throw loss(file, "malformed block handle in the index");
    size_t before = entries.size();
    parse_block(file, read_block(file, data, h, "data"), "data", &entries);
    if (entries.size() > before && kv.first < entries.back().first)
      throw loss(file, "an index key is smaller than the last key of its block");
  }
  return entries;
}

class BlockBuilder {
 public:
  explicit BlockBuilder(int restart_interval) : interval_(restart_interval) { restarts_.push_back(0); }
  void add(const std::string& key, const std::string& value) {
    size_t shared = 0;
    if (count_ < interval_) {
      size_t n = std::min(last_.size(), key.size());
      while (shared < n && last_[shared] == key[shared]) ++shared;
    } else {
      restarts_.push_back((uint32_t)buf_.size());
      count_ = 0;
    }
    put_varint(buf_, shared);
    put_varint(buf_, key.size() - shared);
    put_varint(buf_, value.size());
    buf_.append(key, shared, std::string::npos);
    buf_ += value;
    last_ = key;
    ++count_;
  }
  size_t size_estimate() const { return buf_.size() + 4 * restarts_.size() + 4; }
  bool empty() const { return buf_.empty(); }
  std::string finish() {
    std::string out = buf_;
    for (uint32_t r : restarts_) put_u32(out, r);
    put_u32(out, (uint32_t)restarts_.size());
    return out;
  }

 private:
  int interval_;
  int count_ = 0;
  std::string buf_, last_;
  std::vector<uint32_t> restarts_;
};

class TableBuilder {
 public:
  void add(const std::string& key, const std::string& value) {
    data_.add(key, value);
    last_key_ = key;
    if (data_.size_estimate() >= kBlockSize) flush();
  }
  std::string finish() {
    flush();
    BlockHandle meta = write_block(BlockBuilder(kRestartInterval).finish());
    BlockHandle index = write_block(index_.finish());
    std::string footer;
    put_handle(footer, meta);
    put_handle(footer, index);
    footer.resize(40, '\0');
    put_u32(footer, (uint32_t)kTableMagic);
    put_u32(footer, (uint32_t)(kTableMagic >> 32));
    out_ += footer;
    return std::move(out_);
  }

 private:
  void flush() {
    if (data_.empty()) return;
    BlockHandle h = write_block(data_.finish());
    std::string hv;
    put_handle(hv, h);
    index_.add(last_key_, hv);  // the block's last key separates it from the next
    data_ = BlockBuilder(kRestartInterval);
  }
  BlockHandle write_block(const std::string& contents) {
    BlockHandle h{out_.size(), contents.size()};
    out_ += contents;
    out_ += '\0';  // no compression, as TensorFlow writes
    put_u32(out_, crc32c_mask(crc32c(out_.data() + h.offset, contents.size() + 1)));
    return h;
  }

  BlockBuilder data_{kRestartInterval}, index_{1};
  std::string out_, last_key_;
};

// ---- OrderedCode, for the keys of tensor slices (tensorflow/core/lib/strings/ordered_code.cc) ----

void oc_num_increasing(std::string& o, uint64_t v) {
  char buf[8];
  int len = 0;
  while (v) {
    buf[7 - len++] = (char)(v & 0xff);
    v >>= 8;
  }
  o += (char)len;
  o.append(buf + 8 - len, (size_t)len);
}

void oc_string(std::string& o, const std::string& s) {
  for (char c : s) {
    if (c == '\0') o += std::string("\0\xff", 2);
    else if (c == '\xff') o += std::string("\xff\0", 2);
    else o += c;
  }
  o += std::string("\0\x01", 2);
}

void oc_signed_num_increasing(std::string& o, int64_t v) {
  uint64_t x = v < 0 ? ~(uint64_t)v : (uint64_t)v;
  if (x < 64) {
    o += (char)(0x80 ^ (uint8_t)v);
    return;
  }
  int bits = 64 - __builtin_clzll(x);  // floor(log2 x) + 1
  int len = bits / 7 + 1;
  char buf[10];
  char sign = v < 0 ? '\xff' : '\0';
  buf[0] = buf[1] = sign;
  for (int i = 0; i < 8; ++i) buf[2 + i] = (char)((uint64_t)v >> (56 - 8 * i));
  static const uint8_t header[11][2] = {{0, 0},    {0x80, 0}, {0xc0, 0}, {0xe0, 0},    {0xf0, 0},   {0xf8, 0},
                                        {0xfc, 0}, {0xfe, 0}, {0xff, 0}, {0xff, 0x80}, {0xff, 0xc0}};
  char* b = buf + 10 - len;
  b[0] ^= (char)header[len][0];
  b[1] ^= (char)header[len][1];
  o.append(b, (size_t)len);
}

std::string slice_key(const std::string& name, const TensorSlice& s) {
  std::string k;
  oc_num_increasing(k, 0);
  oc_string(k, name);
  oc_num_increasing(k, s.size());
  for (auto& e : s) {
    oc_signed_num_increasing(k, e.second < 0 ? 0 : e.first);
    oc_signed_num_increasing(k, e.second);
  }
  return k;
}

std::string slice_str(const TensorSlice& s) {  // TensorFlow's "0,2:-" form
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) o += ":";
    o += s[i].second < 0 ? "-" : std::to_string(s[i].first) + "," + std::to_string(s[i].second);
  }
  return o;
}

// The slice with every extent made explicit against `full`; false when it does not fit.
bool resolve_slice(const TensorSlice& s, const Dims& full, TensorSlice* out) {
  if (s.size() != full.size()) return false;
  out->clear();
  for (size_t d = 0; d < s.size(); ++d) {
    int64_t start = s[d].first, len = s[d].second;
    if (len < 0) {
      start = 0;
      len = full[d];
    }
    if (start < 0 || len < 0 || start > full[d] || len > full[d] - start) return false;
    out->emplace_back(start, len);
  }
  return true;
}

// Copies between a full tensor and one of its slices (explicit extents), in either direction.
void copy_slice(const Tensor& full, const TensorSlice& s, const Tensor& part, bool to_full) {
  size_t es = dtype_size(full.dtype());
  const Dims& fd = full.dims();
  int r = (int)fd.size();
  if (r == 0) {
    if (full.dtype() == DType::String) {
      if (to_full) full.string_values()[0] = part.string_values()[0];
      else part.string_values()[0] = full.string_values()[0];
    } else {
      std::memcpy(to_full ? full.raw() : part.raw(), to_full ? part.raw() : full.raw(), es);
    }
    return;
  }
  // Rows of the innermost dimension are contiguous in both tensors.
  int64_t row = s[r - 1].second;
  int64_t rows = 1;
  for (int d = 0; d < r - 1; ++d) rows *= s[d].second;
  std::vector<int64_t> idx(r - 1, 0), fstride(r, 1);
  for (int d = r - 2; d >= 0; --d) fstride[d] = fstride[d + 1] * fd[d + 1];
  for (int64_t k = 0; k < rows; ++k) {
    int64_t off = s[r - 1].first;
    for (int d = 0; d < r - 1; ++d) off += (s[d].first + idx[d]) * fstride[d];
    int64_t poff = k * row;
    if (full.dtype() == DType::String) {
      auto& fv = full.string_values();
      auto& pv = part.string_values();
      for (int64_t j = 0; j < row; ++j) {
        if (to_full) fv[off + j] = pv[poff + j];
        else pv[poff + j] = fv[off + j];
      }
    } else if (row) {
      char* fp = static_cast<char*>(full.raw()) + off * es;
      char* pp = static_cast<char*>(part.raw()) + poff * es;
      if (to_full) std::memcpy(fp, pp, row * es);
      else std::memcpy(pp, fp, row * es);
    }
    for (int d = r - 2; d >= 0; --d) {
      if (++idx[d] < s[d].second) break;
      idx[d] = 0;
    }
  }
}

Dims slice_dims(const TensorSlice& explicit_slice) {
  Dims d;
  for (auto& e : explicit_slice) d.push_back(e.second);
  return d;
}

}  // namespace

std::string bundle_index_file(const std::string& prefix) { return prefix + ".index"; }

std::string bundle_data_file(const std::string& prefix, int shard, int num_shards) {
  char b[40];
  std::snprintf(b, sizeof b, ".data-%05d-of-%05d", shard, num_shards);
  return prefix + b;
}

// ---------------------------------------------------------------------------------------------------
// Reading

TfBundleReader::TfBundleReader(const std::string& prefix) : prefix_(prefix) {
  std::string file = bundle_index_file(prefix);
  std::string data;
  {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      if (e == ENOENT)
        throw Error(ErrorCode::NotFound, "Unsuccessful TensorSliceReader constructor: Failed to find any matching "
                                         "files for " + prefix);
      throw io_error("could not open", file, e);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || (uint64_t)st.st_size > kMaxIndexFile) {
      ::close(fd);
      throw loss(file, "the index file is larger than 2 GB");
    }
    data.resize((size_t)st.st_size);
    bool ok = data.empty() || pread_all(fd, &data[0], data.size(), 0);
    ::close(fd);
    if (!ok) throw loss(file, "could not read the whole file");
  }
  auto table = read_table(file, data);
  if (table.empty() || !table[0].first.empty()) throw loss(file, "the bundle header (the entry under \"\") is missing");

  tfpb::Message header = tfpb::decode(tfpb::message_spec("tensorflow.BundleHeaderProto"), table[0].second,
                                      "the bundle header in " + file);
  if (header.i("endianness") != 0)
    throw Error(ErrorCode::Unimplemented, "TensorFlow checkpoint " + prefix + " was written on a big-endian machine; "
                                          "tideflow reads little-endian bundles only");
  if (const tfpb::Message* v = header.msg("version")) {
    int64_t min_consumer = v->i("min_consumer");
    if (min_consumer > kBundleVersion)
      throw Error(ErrorCode::Unimplemented, "TensorFlow checkpoint " + prefix + " needs a reader of bundle version " +
                                                std::to_string(min_consumer) + "; tideflow reads version " +
                                                std::to_string(kBundleVersion));
    if (const std::vector<tfpb::Value>* bad = v->values("bad_consumers"))
      for (const tfpb::Value& b : *bad)
        if (b.i == kBundleVersion)
          throw Error(ErrorCode::Unimplemented, "TensorFlow checkpoint " + prefix + " excludes readers of version " +
                                                    std::to_string(kBundleVersion));
  }
  int64_t shards = header.i("num_shards");
  if (shards < 1 || shards > 100000) throw loss(file, "the header gives " + std::to_string(shards) + " shards");
  num_shards_ = (int)shards;

  for (size_t k = 1; k < table.size(); ++k) {
    const std::string& key = table[k].first;
    bool is_slice = key[0] == '\0';
    std::string what = is_slice ? "a slice entry in " + file : "the entry of tensor '" + key + "' in " + file;
    tfpb::Message m = tfpb::decode(tfpb::message_spec("tensorflow.BundleEntryProto"), table[k].second, what);
    Entry e;
    e.dtype = m.i("dtype");
    const tfpb::Message* shp = m.msg("shape");
    PartialShape ps = shp ? tfpb::shape_from_proto(*shp, what) : PartialShape(Dims{});
    if (!ps.known_rank) throw loss(file, what + " has a shape of unknown rank");
    uint64_t n = 1;
    for (int64_t d : ps.dims) {
      if (d < 0) throw loss(file, what + " has shape " + ps.str());
      if (d && n > (uint64_t(1) << 62) / (uint64_t)d) throw loss(file, what + ": shape " + ps.str() + " overflows");
      n *= (uint64_t)d;
    }
    e.shape = ps.dims;
    e.shard = (int)m.i("shard_id");
    e.offset = (uint64_t)m.i("offset");
    e.size = (uint64_t)m.i("size");
    e.crc32c = crc32c_unmask((uint32_t)m.i("crc32c"));
    for (const tfpb::Message* sl : m.msgs("slices")) {
      TensorSlice s;
      for (const tfpb::Message* ext : sl->msgs("extent"))
        s.emplace_back(ext->i("start"), ext->has("length") ? ext->i("length") : -1);
      TensorSlice ex;
      if (!resolve_slice(s, e.shape, &ex)) throw loss(file, what + " lists slice " + slice_str(s) + " outside shape " + ps.str());
      e.slices.push_back(std::move(s));
    }
    if (m.i("shard_id") < 0 || m.i("shard_id") >= num_shards_)
      throw loss(file, what + " names shard " + std::to_string(m.i("shard_id")) + " of " + std::to_string(num_shards_));
    if (m.i("offset") < 0 || m.i("size") < 0) throw loss(file, what + " has a negative offset or size");
    DType dt;
    if (e.slices.empty() && tfpb::dtype_of_datatype(e.dtype, &dt) && dt != DType::String &&
        e.size != n * dtype_size(dt))
      throw loss(file, what + " holds " + std::to_string(e.size) + " bytes, " + tfpb::datatype_name(e.dtype) + " " +
                           ps.str() + " needs " + std::to_string(n * dtype_size(dt)));
    (is_slice ? slice_entries_ : entries_).emplace(key, std::move(e));
  }
  for (auto& kv : entries_)
    for (const TensorSlice& s : kv.second.slices)
      if (!slice_entries_.count(slice_key(kv.first, s)))
        throw loss(file, "slice " + slice_str(s) + " of tensor '" + kv.first + "' has no entry");

  fds_.assign(num_shards_, -1);
  sizes_.assign(num_shards_, 0);
  try {
    for (int i = 0; i < num_shards_; ++i) {
      std::string df = bundle_data_file(prefix, i, num_shards_);
      int fd = ::open(df.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
          throw Error(ErrorCode::NotFound, "TensorFlow checkpoint " + prefix + " is incomplete: its data file " + df +
                                               " does not exist");
        throw io_error("could not open", df, e);
      }
      fds_[i] = fd;
      struct stat st;
      if (::fstat(fd, &st) != 0) throw io_error("could not stat", df, errno);
      sizes_[i] = (uint64_t)st.st_size;
    }
    auto check_range = [&](const std::string& name, const Entry& e) {
      if (!e.slices.empty()) return;
      if (e.offset > sizes_[e.shard] || e.size > sizes_[e.shard] - e.offset)
        throw loss(bundle_data_file(prefix, e.shard, num_shards_),
                   "truncated: tensor '" + name + "' needs bytes [" + std::to_string(e.offset) + ", " +
                       std::to_string(e.offset + e.size) + "), the file holds " + std::to_string(sizes_[e.shard]));
    };
    for (auto& kv : entries_) check_range(kv.first, kv.second);
    for (auto& kv : slice_entries_) check_range("<slice>", kv.second);
  } catch (...) {
    for (int fd : fds_)
      if (fd >= 0) ::close(fd);
    throw;
  }
}

TfBundleReader::~TfBundleReader() {
  for (int fd : fds_)
    if (fd >= 0) ::close(fd);
}

const TfBundleReader::Entry& TfBundleReader::entry(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw Error(ErrorCode::NotFound, "Key " + name + " not found in checkpoint");
  return it->second;
}

Tensor TfBundleReader::read_entry(const std::string& name, const Entry& e) const {
  DType dt;
  if (!tfpb::dtype_of_datatype(e.dtype, &dt))
    throw Error(ErrorCode::Unimplemented, "tensor '" + name + "' in TensorFlow checkpoint " + prefix_ + " has dtype " +
                                              tfpb::datatype_name(e.dtype) + ", which tideflow does not support");
  std::string df = bundle_data_file(prefix_, e.shard, num_shards_);
  auto bad = [&](const std::string& m) { return loss(df, "tensor '" + name + "' " + m); };
  uint64_t n = (uint64_t)num_elements(e.shape);
  if (dt != DType::String) {
    Tensor t(dt, e.shape);
    if (e.size && !pread_all(fds_[e.shard], t.raw(), e.size, e.offset)) throw bad("is truncated");
    uint32_t got = crc32c(t.raw(), e.size);
    if (got != e.crc32c)
      throw bad("fails its checksum (stored crc32c " + std::to_string(e.crc32c) + ", computed " + std::to_string(got) +
                " on the bytes read)");
    if (dt == DType::Bool)
      for (uint64_t k = 0; k < e.size; ++k)
        if (static_cast<const uint8_t*>(t.raw())[k] > 1) throw bad("holds a bool byte that is neither 0 nor 1");
    return t;
  }
  // Strings: varint lengths, masked CRC32C of the lengths, the bytes. Each length takes at least a byte,
  // so the element count is checked against the entry's size before anything is allocated.
  if (n > e.size) throw bad("cannot hold " + std::to_string(n) + " strings in " + std::to_string(e.size) + " bytes");
  std::string buf(e.size, '\0');
  if (e.size && !pread_all(fds_[e.shard], &buf[0], e.size, e.offset)) throw bad("is truncated");
  const char* p = buf.data();
  const char* end = p + buf.size();
  std::vector<uint64_t> lens(n);
  uint32_t crc = 0;
  uint64_t total = 0;
  for (uint64_t k = 0; k < n; ++k) {
    if (!get_varint(p, end, &lens[k])) throw bad("holds a malformed string length");
    if (lens[k] <= 0xffffffffull) {
      uint32_t l32 = (uint32_t)lens[k];
      crc = crc32c_extend(crc, &l32, 4);
    } else {
      crc = crc32c_extend(crc, &lens[k], 8);
    }
    if (lens[k] > e.size) throw bad("holds a string longer than its entry");
    total += lens[k];
  }
  if (end - p < 4) throw bad("is truncated before its length checksum");
  uint32_t len_crc = get_u32(p);
  if (crc32c_unmask(len_crc) != crc) throw bad("fails the checksum of its string lengths");
  crc = crc32c_extend(crc, p, 4);
  p += 4;
  if (total != (uint64_t)(end - p)) throw bad("string lengths do not add up to the entry's size");
  std::vector<std::string> vals;
  vals.reserve(n);
  for (uint64_t k = 0; k < n; ++k) {
    vals.emplace_back(p, (size_t)lens[k]);
    crc = crc32c_extend(crc, p, (size_t)lens[k]);
    p += lens[k];
  }
  if (crc != e.crc32c) throw bad("fails its checksum");
  return Tensor::strings(e.shape, std::move(vals));
}

Tensor TfBundleReader::read(const std::string& name) const {
  const Entry& e = entry(name);
  if (e.slices.empty()) return read_entry(name, e);
  // A partitioned tensor: its slices must tile the full shape exactly (no gaps, no overlaps).
  DType dt;
  if (!tfpb::dtype_of_datatype(e.dtype, &dt))
    throw Error(ErrorCode::Unimplemented, "tensor '" + name + "' in TensorFlow checkpoint " + prefix_ + " has dtype " +
                                              tfpb::datatype_name(e.dtype) + ", which tideflow does not support");
  std::vector<TensorSlice> ex(e.slices.size());
  uint64_t covered = 0;
  for (size_t i = 0; i < e.slices.size(); ++i) {
    resolve_slice(e.slices[i], e.shape, &ex[i]);
    covered += (uint64_t)num_elements(slice_dims(ex[i]));
    for (size_t j = 0; j < i; ++j) {
      bool overlap = true;
      for (size_t d = 0; d < ex[i].size(); ++d)
        overlap = overlap && ex[i][d].first < ex[j][d].first + ex[j][d].second &&
                  ex[j][d].first < ex[i][d].first + ex[i][d].second;
      if (overlap && !ex[i].empty())
        throw loss(bundle_index_file(prefix_), "slices " + slice_str(e.slices[j]) + " and " + slice_str(e.slices[i]) +
                                                    " of tensor '" + name + "' overlap");
    }
  }
  if (covered != (uint64_t)num_elements(e.shape))
    throw loss(bundle_index_file(prefix_), "the slices of tensor '" + name + "' do not cover its shape " + dims_str(e.shape));
  Tensor full = dt == DType::String ? Tensor::strings(e.shape, std::vector<std::string>(num_elements(e.shape)))
                                    : Tensor(dt, e.shape);
  for (size_t i = 0; i < e.slices.size(); ++i) {
    const Entry& se = slice_entries_.at(slice_key(name, e.slices[i]));
    if (se.dtype != e.dtype || se.shape != slice_dims(ex[i]))
      throw loss(bundle_index_file(prefix_), "slice " + slice_str(e.slices[i]) + " of tensor '" + name +
                                                  "' does not match its entry's dtype or shape");
    Tensor part = read_entry(name + "[" + slice_str(e.slices[i]) + "]", se);
    copy_slice(full, ex[i], part, true);
  }
  return full;
}

Tensor TfBundleReader::read_slice(const std::string& name, const TensorSlice& slice) const {
  const Entry& e = entry(name);
  TensorSlice ex;
  if (!resolve_slice(slice, e.shape, &ex))
    throw invalid_argument("slice " + slice_str(slice) + " does not fit tensor '" + name + "' of shape " + dims_str(e.shape));
  Tensor full = read(name);
  Dims d = slice_dims(ex);
  Tensor part = full.dtype() == DType::String ? Tensor::strings(d, std::vector<std::string>(num_elements(d)))
                                              : Tensor(full.dtype(), d);
  copy_slice(full, ex, part, false);
  return part;
}

// ---------------------------------------------------------------------------------------------------
// Writing

void write_tf_bundle(const std::string& prefix, const std::vector<BundleTensor>& tensors) {
  std::string index_file = bundle_index_file(prefix);
  std::map<std::string, tfpb::Message> entries;
  std::vector<std::pair<const void*, size_t>> chunks;
  std::vector<std::string> owned;  // string tensors' serialized bytes
  owned.reserve(tensors.size());
  uint64_t offset = 0;
  auto add = [&](const std::string& key, const Tensor& v) {
    if (entries.count(key)) throw invalid_argument("two tensors are named '" + key + "'; cannot save " + prefix);
    tfpb::Message e("tensorflow.BundleEntryProto");
    e.set_i("dtype", tfpb::datatype_of(v.dtype()));
    e.set_msg("shape") = tfpb::shape_to_proto(PartialShape(v.dims()));
    e.set_i("offset", (int64_t)offset);
    uint32_t crc;
    size_t size;
    if (v.dtype() == DType::String) {
      std::string s, lens;
      crc = 0;
      for (const auto& x : v.string_values()) {
        put_varint(lens, x.size());
        if (x.size() <= 0xffffffffull) {
          uint32_t l32 = (uint32_t)x.size();
          crc = crc32c_extend(crc, &l32, 4);
        } else {
          uint64_t l64 = x.size();
          crc = crc32c_extend(crc, &l64, 8);
        }
      }
      s = lens;
      put_u32(s, crc32c_mask(crc));
      crc = crc32c_extend(crc, s.data() + s.size() - 4, 4);
      for (const auto& x : v.string_values()) {
        s += x;
        crc = crc32c_extend(crc, x.data(), x.size());
      }
      owned.push_back(std::move(s));
      chunks.emplace_back(owned.back().data(), owned.back().size());
      size = owned.back().size();
    } else {
      size = v.nbytes();
      crc = crc32c(v.raw(), size);
      if (size) chunks.emplace_back(v.raw(), size);
    }
    e.set_i("size", (int64_t)size);
    e.set_i("crc32c", crc32c_mask(crc));
    offset += size;
    entries.emplace(key, std::move(e));
  };
  for (const BundleTensor& t : tensors) {
    if (t.name.empty()) throw invalid_argument("cannot save a tensor with an empty name in " + prefix);
    if (!t.value.valid()) throw invalid_argument("tensor '" + t.name + "' has no value; cannot save " + prefix);
    if (t.slice.empty()) {
      add(t.name, t.value);
      continue;
    }
    TensorSlice ex;
    if (!resolve_slice(t.slice, t.full_shape, &ex) || slice_dims(ex) != t.value.dims())
      throw invalid_argument("tensor '" + t.name + "': slice " + slice_str(t.slice) + " of shape " + dims_str(t.full_shape) +
                             " does not hold a value of shape " + dims_str(t.value.dims()));
    bool whole = true;
    for (size_t d = 0; d < ex.size(); ++d) whole = whole && ex[d].first == 0 && ex[d].second == t.full_shape[d];
    if (whole) {  // a single full slice is stored as the tensor itself, as TensorFlow does
      add(t.name, t.value);
      continue;
    }
    tfpb::Message& full = entries.emplace(t.name, tfpb::Message("tensorflow.BundleEntryProto")).first->second;
    if (full.has("size") || full.has("crc32c"))
      throw invalid_argument("tensor '" + t.name + "' is saved both whole and as slices in " + prefix);
    full.set_i("dtype", tfpb::datatype_of(t.value.dtype()));
    full.set_msg("shape") = tfpb::shape_to_proto(PartialShape(t.full_shape));
    tfpb::Message& sp = full.add_msg("slices");
    for (auto& e : t.slice) {
      tfpb::Message& x = sp.add_msg("extent");
      if (e.second >= 0) {
        x.set_i("start", e.first);
        x.set_i("length", e.second);
      }
    }
    add(slice_key(t.name, t.slice), t.value);
  }

  tfpb::Message header("tensorflow.BundleHeaderProto");
  header.set_i("num_shards", 1);
  header.set_i("endianness", 0);
  header.set_msg("version").set_i("producer", kBundleVersion);

  TableBuilder table;
  table.add("", tfpb::encode(header));
  for (auto& kv : entries) table.add(kv.first, tfpb::encode(kv.second));
  std::string index = table.finish();

  write_file_atomic(bundle_data_file(prefix, 0, 1), chunks);
  write_file_atomic(index_file, {{index.data(), index.size()}});
}

// ---------------------------------------------------------------------------------------------------
// Session variables

namespace {

void check_variable(const BundleVar& v) {
  if (!v.node || v.node->type() != "VariableV2")
    throw invalid_argument("checkpoint entry '" + v.name + "' must map to a variable, got " +
                           (v.node ? v.node->describe() : std::string("nothing")));
}

}  // namespace

void save_variables_tf(Session& sess, const std::string& prefix, const std::vector<BundleVar>& vars) {
  std::vector<BundleTensor> tensors;
  std::string uninit;
  for (const BundleVar& v : vars) {
    check_variable(v);
    Tensor t = sess.state().var(v.node).read();
    if (!t.valid()) uninit += (uninit.empty() ? "" : ", ") + v.node->name;
    tensors.push_back(BundleTensor{v.name, std::move(t), v.full_shape, v.slice});
  }
  if (!uninit.empty())
    throw Error(ErrorCode::FailedPrecondition, "Cannot save checkpoint " + prefix + ": uninitialized variables: " +
                                                   uninit + ". Run their initializers (or restore them) first.");
  write_tf_bundle(prefix, tensors);
}

void restore_variables_tf(Session& sess, const std::string& prefix, const std::vector<BundleVar>& vars) {
  TfBundleReader r(prefix);
  std::string missing, mismatched;
  int n_missing = 0;
  for (const BundleVar& v : vars) {
    check_variable(v);
    if (!r.has(v.name)) {
      missing += (missing.empty() ? "'" : ", '") + v.name + "'";
      ++n_missing;
      continue;
    }
    const auto& e = r.entry(v.name);
    const Node* n = v.node;
    Dims want = e.shape;
    TensorSlice ex;
    if (!v.slice.empty()) {
      if (!resolve_slice(v.slice, e.shape, &ex)) {
        mismatched += "\n  '" + v.name + "' (variable '" + n->name + "'): slice " + slice_str(v.slice) +
                      " does not fit the checkpoint's shape " + dims_str(e.shape);
        continue;
      }
      want = slice_dims(ex);
    }
    DType dt;
    bool dtype_ok = tfpb::dtype_of_datatype(e.dtype, &dt) && dt == n->out_dtypes[0];
    if (!dtype_ok || !n->out_shapes[0].compatible_with(want))
      mismatched += "\n  '" + v.name + "' (variable '" + n->name + "'): the graph has " +
                    dtype_name(n->out_dtypes[0]) + " " + n->out_shapes[0].str() + ", the checkpoint has " +
                    tfpb::datatype_name(e.dtype) + " " + PartialShape(want).str();
  }
  if (n_missing) {
    std::string present;
    int k = 0;
    for (auto& kv : r.entries()) {
      if (k++ == 10) {
        present += ", ...";
        break;
      }
      present += (present.empty() ? "'" : ", '") + kv.first + "'";
    }
    throw Error(ErrorCode::NotFound,
                "Restoring from checkpoint " + prefix + " failed: " + std::to_string(n_missing) + " of " +
                    std::to_string(vars.size()) + " variables not found in checkpoint: " + missing +
                    ". The checkpoint holds " + std::to_string(r.entries().size()) + " tensors (" + present +
                    "). Restore a subset with Saver(var_list=...) or map names with a dict.");
  }
  if (!mismatched.empty())
    throw invalid_argument("Restoring from checkpoint " + prefix +
                           " failed: shapes or dtypes differ between the graph and the checkpoint:" + mismatched +
                           "\nBuild the graph the checkpoint was saved from, or leave these variables out of "
                           "the Saver's var_list.");
  std::vector<Tensor> values;
  values.reserve(vars.size());
  for (const BundleVar& v : vars) values.push_back(v.slice.empty() ? r.read(v.name) : r.read_slice(v.name, v.slice));
  for (size_t i = 0; i < vars.size(); ++i) {
    VarSlot& slot = sess.state().var(vars[i].node);
    std::lock_guard<std::mutex> l(slot.mu);
    slot.value = std::move(values[i]);
  }
}

}  // namespace tideflow
