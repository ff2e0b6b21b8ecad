#pragma once
// A minimal protocol-buffer wire-format encoder and reader: enough to write TensorBoard's Event, Summary
// and GraphDef messages without a protobuf dependency.
//
// Note [protobuf wire format]
// A message is a sequence of fields, each a key varint (field_number << 3 | wire_type) followed by the
// value: wire type 0 a varint, 1 eight little-endian bytes, 2 a length varint and that many bytes (strings,
// bytes, nested messages, packed repeated scalars), 5 four little-endian bytes. Fields may come in any
// order and a repeated field may be split; concatenating two serialized messages merges them, which is
// how MergeSummary joins Summary protos. Proto3 omits a field without presence (not in a oneof, not a
// message) when it holds its default value; writers call the implicit_* methods for such fields, so the
// bytes are protobuf's own byte for byte (oneof members and sub-messages are always written).
//
// Note [one protobuf encoder]
// The wire format is written and read in one place, pb::Writer and pb::Reader here: the event writer,
// the summary kernels and the GraphDef export use them directly, and tideflow's message classes without
// the protobuf package (python/tideflow/framework/tf_messages.py: Summary, Event, GraphDef, ConfigProto...)
// go through cpp/io/tf_proto.cc's schema-driven codec, which writes with pb::Writer too. Python keeps no
// encoder of its own. With the protobuf package installed the message classes are protobuf's (Note [real
// protobuf classes]); both ways give TensorFlow's bytes, which tests/test_protobuf_messages.py checks.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tideflow {
namespace pb {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

class Writer {
 public:
  const std::string& data() const { return buf_; }
  std::string release() { return std::move(buf_); }
  size_t size() const { return buf_.size(); }

  void varint(int field, uint64_t v) {
    key(field, kVarint);
    raw_varint(v);
  }
  // int32/int64/enum fields: negative values take ten bytes (two's complement as uint64), as protobuf does.
  void int64(int field, int64_t v) { varint(field, (uint64_t)v); }
  void boolean(int field, bool v) { varint(field, v ? 1 : 0); }
  void fixed64(int field, uint64_t v) {
    key(field, kFixed64);
    raw_fixed64(v);
  }
  void fixed32(int field, uint32_t v) {
    key(field, kFixed32);
    raw_fixed32(v);
  }
  void f64(int field, double v) {
    uint64_t u;
    std::memcpy(&u, &v, 8);
    fixed64(field, u);
  }
  void f32(int field, float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    fixed32(field, u);
  }
  // Proto3 fields without presence: left out when zero (+0.0 for floating point, as protobuf compares bits).
  void implicit_int64(int field, int64_t v) {
    if (v != 0) int64(field, v);
  }
  void implicit_f64(int field, double v) {
    uint64_t u;
    std::memcpy(&u, &v, 8);
    if (u != 0) fixed64(field, u);
  }
  void bytes(int field, std::string_view s) {
    key(field, kLengthDelimited);
    raw_varint(s.size());
    buf_.append(s.data(), s.size());
  }
  void message(int field, const Writer& m) { bytes(field, m.buf_); }

  // Packed repeated scalars: one length-delimited field holding the concatenated values.
  void packed_f64(int field, const std::vector<double>& v) {
    key(field, kLengthDelimited);
    raw_varint(v.size() * 8);
    for (double x : v) {
      uint64_t u;
      std::memcpy(&u, &x, 8);
      raw_fixed64(u);
    }
  }
  void packed_f32(int field, const std::vector<float>& v) {
    key(field, kLengthDelimited);
    raw_varint(v.size() * 4);
    for (float x : v) {
      uint32_t u;
      std::memcpy(&u, &x, 4);
      raw_fixed32(u);
    }
  }
  void packed_varint(int field, const std::vector<int64_t>& v) {
    Writer body;
    for (int64_t x : v) body.raw_varint((uint64_t)x);
    bytes(field, body.buf_);
  }

  void raw_varint(uint64_t v) {
    while (v >= 0x80) {
      buf_.push_back((char)(v | 0x80));
      v >>= 7;
    }
    buf_.push_back((char)v);
  }
  void raw_fixed32(uint32_t v) {
    for (int i = 0; i < 4; ++i) buf_.push_back((char)(v >> (8 * i)));
  }
  void raw_fixed64(uint64_t v) {
    for (int i = 0; i < 8; ++i) buf_.push_back((char)(v >> (8 * i)));
  }

 private:
  void key(int field, WireType t) { raw_varint(((uint64_t)field << 3) | t); }
  std::string buf_;
};

// Walks the fields of one serialized message. `next()` returns false at the end and throws on malformed
// input (MergeSummary reads the Summary protos its inputs produced, which may come from anywhere).
class Reader {
 public:
  explicit Reader(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  struct Field {
    int number = 0;
    WireType type = kVarint;
    uint64_t value = 0;          // varint / fixed value
    std::string_view bytes;      // length-delimited payload
  };

  bool next(Field* f) {
    if (p_ == end_) return false;
    uint64_t k = read_varint();
    f->number = (int)(k >> 3);
    f->type = (WireType)(k & 7);
    switch (f->type) {
      case kVarint: f->value = read_varint(); break;
      case kFixed64: f->value = read_fixed(8); break;
      case kFixed32: f->value = read_fixed(4); break;
      case kLengthDelimited: {
        uint64_t n = read_varint();
        if (n > (uint64_t)(end_ - p_)) throw std::runtime_error("truncated length-delimited field");
        f->bytes = std::string_view(p_, (size_t)n);
        p_ += n;
        break;
      }
      default: throw std::runtime_error("unsupported wire type " + std::to_string((int)f->type));
    }
    if (f->number <= 0) throw std::runtime_error("invalid field number");
    return true;
  }

  // Packed repeated scalars: a Reader over the payload reads the values one by one until done().
  bool done() const { return p_ == end_; }
  uint64_t read_varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) throw std::runtime_error("truncated varint");
      uint8_t b = (uint8_t)*p_++;
      v |= (uint64_t)(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("varint longer than ten bytes");
  }
  uint64_t read_fixed(int n) {
    if (end_ - p_ < n) throw std::runtime_error("truncated fixed-width field");
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= (uint64_t)(uint8_t)p_[i] << (8 * i);
    p_ += n;
    return v;
  }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace pb
}  // namespace tideflow
