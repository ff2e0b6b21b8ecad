#include "io/tf_proto.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "io/json.h"
#include "summary/protobuf_lite.h"

namespace tideflow {
namespace tfpb {

// Note [TensorFlow protobufs]
// TensorFlow keeps graphs, meta graphs and checkpoint indexes as protocol buffers. tideflow reads and writes
// them itself: tools/gen_tf_protos.py turns the descriptors of an installed TensorFlow into tf_schema.inc
// (message name, fields by number with name, kind, repetition, sub-type and oneof; enum names), and this
// file decodes the binary wire format (see Note [protobuf wire format]) and protobuf's text format into a
// generic Message tree, and encodes both back. Everything that reads a TensorFlow file goes through
// decode/parse_text, so the checks live in one place: every length is bounded by the bytes that remain,
// nesting is limited, wire types must fit the field, strings must be UTF-8, and any violation is a
// DataLoss naming the file and the field path. Nothing is executed and nothing larger than the input is
// allocated while decoding. All TensorFlow protos are proto3: repeated numbers are written packed (both
// forms are read), scalar fields without presence are left out when they hold their default, fields are
// written in number order (as protobuf does), and unknown fields are skipped when reading.

#include "io/tf_schema.inc"

namespace {

constexpr int kMaxDepth = 100;  // protobuf's own default recursion limit

const std::unordered_map<std::string_view, const MessageSpec*>& message_index() {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string_view, const MessageSpec*>;
    for (const MessageSpec& s : kMessages) (*m)[s.name] = &s;
    return m;
  }();
  return *index;
}

bool is_varint_kind(Kind k) {
  switch (k) {
    case Kind::Int64: case Kind::UInt64: case Kind::Int32: case Kind::UInt32: case Kind::SInt32:
    case Kind::SInt64: case Kind::Bool: case Kind::Enum:
      return true;
    default:
      return false;
  }
}
bool is_fixed32_kind(Kind k) { return k == Kind::Fixed32 || k == Kind::SFixed32 || k == Kind::Float; }
bool is_fixed64_kind(Kind k) { return k == Kind::Fixed64 || k == Kind::SFixed64 || k == Kind::Double; }
bool is_float_kind(Kind k) { return k == Kind::Float || k == Kind::Double; }
bool is_bytes_kind(Kind k) { return k == Kind::String || k == Kind::Bytes; }

}  // namespace

const char* kind_name(Kind k) {
  static const char* names[] = {"double", "float", "int64", "uint64", "int32", "uint32", "sint32", "sint64", "fixed32",
                                "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes", "enum", "message"};
  return names[(int)k];
}

const FieldSpec* MessageSpec::field(int number) const {
  for (int i = 0; i < num_fields; ++i)
    if (fields[i].number == number) return &fields[i];
  return nullptr;
}

const FieldSpec* MessageSpec::field(std::string_view n) const {
  for (int i = 0; i < num_fields; ++i)
    if (n == fields[i].name) return &fields[i];
  return nullptr;
}

const char* EnumSpec::value_name(int64_t number) const {
  for (int i = 0; i < num_values; ++i)
    if (values[i].number == number) return values[i].name;
  return nullptr;
}

const MessageSpec* find_message(std::string_view full_name) {
  auto& idx = message_index();
  auto it = idx.find(full_name);
  return it == idx.end() ? nullptr : it->second;
}

const EnumSpec* find_enum(std::string_view full_name) {
  for (const EnumSpec& e : kEnums)
    if (full_name == e.name) return &e;
  return nullptr;
}

const MessageSpec& message_spec(std::string_view full_name) {
  const MessageSpec* s = find_message(full_name);
  if (!s) throw invalid_argument("unknown protobuf message type '" + std::string(full_name) + "'");
  return *s;
}

std::vector<const MessageSpec*> all_messages() {
  std::vector<const MessageSpec*> v;
  for (const MessageSpec& s : kMessages) v.push_back(&s);
  return v;
}

std::vector<const EnumSpec*> all_enums() {
  std::vector<const EnumSpec*> v;
  for (const EnumSpec& e : kEnums) v.push_back(&e);
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Message

Message& Message::operator=(const Message& o) {
  if (this == &o) return *this;
  spec = o.spec;
  fields.clear();
  fields.reserve(o.fields.size());
  for (const Field& f : o.fields) {
    Field c{f.spec, {}};
    c.values.reserve(f.values.size());
    for (const Value& v : f.values) {
      Value w;
      w.i = v.i;
      w.d = v.d;
      w.s = v.s;
      if (v.m) w.m = std::make_unique<Message>(*v.m);
      c.values.push_back(std::move(w));
    }
    fields.push_back(std::move(c));
  }
  return *this;
}

namespace {

const FieldSpec& spec_field(const MessageSpec* spec, std::string_view name) {
  const FieldSpec* f = spec ? spec->field(name) : nullptr;
  if (!f) throw invalid_argument(std::string("protobuf message ") + (spec ? spec->name : "?") + " has no field '" +
                                 std::string(name) + "'");
  return *f;
}

const std::string& empty_string() {
  static const std::string* e = new std::string;
  return *e;
}

}  // namespace

const Field* Message::find(std::string_view name) const {
  for (const Field& f : fields)
    if (name == f.spec->name) return &f;
  return nullptr;
}

int64_t Message::i(std::string_view name, int64_t dflt) const {
  const Field* f = find(name);
  return f && !f->values.empty() ? f->values.back().i : dflt;
}

double Message::d(std::string_view name, double dflt) const {
  const Field* f = find(name);
  return f && !f->values.empty() ? f->values.back().d : dflt;
}

const std::string& Message::s(std::string_view name) const {
  const Field* f = find(name);
  return f && !f->values.empty() ? f->values.back().s : empty_string();
}

const Message* Message::msg(std::string_view name) const {
  const Field* f = find(name);
  return f && !f->values.empty() ? f->values.back().m.get() : nullptr;
}

std::vector<const Message*> Message::msgs(std::string_view name) const {
  std::vector<const Message*> out;
  if (const Field* f = find(name))
    for (const Value& v : f->values) out.push_back(v.m.get());
  return out;
}

const std::vector<Value>* Message::values(std::string_view name) const {
  const Field* f = find(name);
  return f ? &f->values : nullptr;
}

Field& Message::field(std::string_view name) {
  const FieldSpec& fs = spec_field(spec, name);
  auto it = std::lower_bound(fields.begin(), fields.end(), fs.number,
                             [](const Field& f, int n) { return f.spec->number < n; });
  if (it != fields.end() && it->spec == &fs) return *it;
  if (fs.oneof >= 0)  // a oneof holds one member
    fields.erase(std::remove_if(fields.begin(), fields.end(), [&](const Field& f) { return f.spec->oneof == fs.oneof; }),
                 fields.end());
  it = std::lower_bound(fields.begin(), fields.end(), fs.number,
                        [](const Field& f, int n) { return f.spec->number < n; });
  return *fields.insert(it, Field{&fs, {}});
}

void Message::set_i(std::string_view name, int64_t v) {
  Field& f = field(name);
  f.values.resize(1);
  f.values[0].i = v;
}

void Message::set_d(std::string_view name, double v) {
  Field& f = field(name);
  f.values.resize(1);
  f.values[0].d = v;
}

void Message::set_s(std::string_view name, std::string v) {
  Field& f = field(name);
  f.values.resize(1);
  f.values[0].s = std::move(v);
}

Message& Message::set_msg(std::string_view name) {
  Field& f = field(name);
  if (f.values.empty()) f.values.emplace_back();
  Value& v = f.values.back();
  if (!v.m) v.m = std::make_unique<Message>(message_spec(f.spec->type_name));
  return *v.m;
}

void Message::add_i(std::string_view name, int64_t v) {
  Value x;
  x.i = v;
  field(name).values.push_back(std::move(x));
}

void Message::add_s(std::string_view name, std::string v) {
  Value x;
  x.s = std::move(v);
  field(name).values.push_back(std::move(x));
}

Message& Message::add_msg(std::string_view name) {
  Field& f = field(name);
  Value x;
  x.m = std::make_unique<Message>(message_spec(f.spec->type_name));
  f.values.push_back(std::move(x));
  return *f.values.back().m;
}

void Message::clear(std::string_view name) {
  fields.erase(std::remove_if(fields.begin(), fields.end(), [&](const Field& f) { return name == f.spec->name; }),
               fields.end());
}

// ---------------------------------------------------------------------------------------------------
// Binary wire format

namespace {

class WireDecoder {
 public:
  explicit WireDecoder(const std::string& what) : what_(what) {}

  void message(Message& m, std::string_view data, int depth, const std::string& path) {
    if (depth > kMaxDepth) fail(path, "messages nested deeper than " + std::to_string(kMaxDepth));
    const char* p = data.data();
    const char* end = p + data.size();
    while (p < end) {
      uint64_t key = varint(p, end, path);
      int number = (int)(key >> 3);
      uint32_t wire = (uint32_t)(key & 7);
      if ((key >> 3) == 0 || (key >> 3) > 536870911) fail(path, "invalid field number " + std::to_string(key >> 3));
      const FieldSpec* fs = m.spec->field(number);
      std::string fpath = path.empty() ? std::string(fs ? fs->name : "?") : path + "." + (fs ? fs->name : "?");
      if (!fs) {
        skip(p, end, wire, path + (path.empty() ? "" : ".") + "<field " + std::to_string(number) + ">");
        continue;
      }
      Kind k = fs->kind;
      if (wire == pb::kLengthDelimited && !is_bytes_kind(k) && k != Kind::Message) {
        if (!fs->repeated) fail(fpath, "a packed list in a singular field");
        std::string_view body = bytes(p, end, fpath);
        const char* q = body.data();
        const char* qe = q + body.size();
        Field& f = m.field(fs->name);
        while (q < qe) f.values.push_back(scalar(*fs, q, qe, expected_wire(k), fpath));
        continue;
      }
      if (wire != expected_wire(k))
        fail(fpath, "wire type " + std::to_string(wire) + " does not fit a " + kind_name(k) + " field");
      if (k == Kind::Message) {
        std::string_view body = bytes(p, end, fpath);
        Message* sub;
        if (fs->repeated) {
          sub = &m.add_msg(fs->name);
        } else {
          sub = &m.set_msg(fs->name);  // a repeated occurrence of a singular message merges into it
        }
        message(*sub, body, depth + 1, fpath);
        continue;
      }
      Value v = scalar(*fs, p, end, wire, fpath);
      Field& f = m.field(fs->name);
      if (fs->repeated) f.values.push_back(std::move(v));
      else {
        f.values.resize(1);
        f.values[0] = std::move(v);
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& path, const std::string& m) const {
    throw Error(ErrorCode::DataLoss, what_ + " is corrupted: " + (path.empty() ? "" : "field " + path + ": ") + m);
  }

  static uint32_t expected_wire(Kind k) {
    if (is_varint_kind(k)) return pb::kVarint;
    if (is_fixed32_kind(k)) return pb::kFixed32;
    if (is_fixed64_kind(k)) return pb::kFixed64;
    return pb::kLengthDelimited;
  }

  uint64_t varint(const char*& p, const char* end, const std::string& path) const {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p == end) fail(path, "truncated varint");
      uint8_t b = (uint8_t)*p++;
      if (shift == 63 && (b & 0x7e)) fail(path, "varint overflows 64 bits");
      v |= (uint64_t)(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail(path, "varint longer than ten bytes");
  }

  uint64_t fixed(const char*& p, const char* end, int n, const std::string& path) const {
    if (end - p < n) fail(path, "truncated fixed-width value");
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= (uint64_t)(uint8_t)p[i] << (8 * i);
    p += n;
    return v;
  }

  std::string_view bytes(const char*& p, const char* end, const std::string& path) const {
    uint64_t n = varint(p, end, path);
    if (n > (uint64_t)(end - p))
      fail(path, "length " + std::to_string(n) + " runs past the end (" + std::to_string(end - p) + " bytes left)");
    std::string_view s(p, (size_t)n);
    p += n;
    return s;
  }

  void skip(const char*& p, const char* end, uint32_t wire, const std::string& path) const {
    switch (wire) {
      case pb::kVarint: varint(p, end, path); return;
      case pb::kFixed64: fixed(p, end, 8, path); return;
      case pb::kFixed32: fixed(p, end, 4, path); return;
      case pb::kLengthDelimited: bytes(p, end, path); return;
      default: fail(path, "unsupported wire type " + std::to_string(wire));
    }
  }

  Value scalar(const FieldSpec& fs, const char*& p, const char* end, uint32_t wire, const std::string& path) const {
    Value v;
    Kind k = fs.kind;
    if (wire == pb::kLengthDelimited) {
      std::string_view b = bytes(p, end, path);
      if (k == Kind::String && !json::is_utf8(std::string(b))) fail(path, "string is not valid UTF-8");
      v.s.assign(b.data(), b.size());
      return v;
    }
    if (wire == pb::kVarint) {
      uint64_t u = varint(p, end, path);
      switch (k) {
        case Kind::Int32: case Kind::Enum: v.i = (int32_t)(uint32_t)u; break;
        case Kind::UInt32: v.i = (uint32_t)u; break;
        case Kind::SInt32: { uint32_t x = (uint32_t)u; v.i = (int32_t)((x >> 1) ^ (~(x & 1) + 1)); break; }
        case Kind::SInt64: v.i = (int64_t)((u >> 1) ^ (~(u & 1) + 1)); break;
        case Kind::Bool: v.i = u != 0; break;
        default: v.i = (int64_t)u;
      }
      return v;
    }
    if (wire == pb::kFixed32) {
      uint32_t u = (uint32_t)fixed(p, end, 4, path);
      if (k == Kind::Float) {
        float f;
        std::memcpy(&f, &u, 4);
        v.d = f;
      } else {
        v.i = k == Kind::SFixed32 ? (int64_t)(int32_t)u : (int64_t)u;
      }
      return v;
    }
    uint64_t u = fixed(p, end, 8, path);
    if (k == Kind::Double) std::memcpy(&v.d, &u, 8);
    else v.i = (int64_t)u;
    return v;
  }

  const std::string& what_;
};

void encode_into(const Message& m, pb::Writer& w) {
  // A map entry's key and value are written even when they hold defaults, as protobuf writes them.
  const bool entry = m.spec != nullptr && m.spec->map_entry;
  for (const Field& f : m.fields) {
    const FieldSpec& fs = *f.spec;
    Kind k = fs.kind;
    if (k == Kind::Message) {
      for (const Value& v : f.values) {
        pb::Writer sub;
        if (v.m) encode_into(*v.m, sub);
        w.message(fs.number, sub);
      }
      continue;
    }
    if (is_bytes_kind(k)) {  // an empty string without presence is the default: left out, as protobuf does
      for (const Value& v : f.values)
        if (fs.repeated || fs.presence || entry || !v.s.empty()) w.bytes(fs.number, v.s);
      continue;
    }
    auto zz32 = [](int64_t x) { return (uint64_t)(((uint32_t)x << 1) ^ (uint32_t)((int32_t)x >> 31)); };
    auto zz64 = [](int64_t x) { return ((uint64_t)x << 1) ^ (uint64_t)(x >> 63); };
    auto raw = [&](pb::Writer& out, const Value& v) {
      switch (k) {
        case Kind::Float: { float x = (float)v.d; uint32_t u; std::memcpy(&u, &x, 4); out.raw_fixed32(u); break; }
        case Kind::Double: { uint64_t u; std::memcpy(&u, &v.d, 8); out.raw_fixed64(u); break; }
        case Kind::Fixed32: case Kind::SFixed32: out.raw_fixed32((uint32_t)v.i); break;
        case Kind::Fixed64: case Kind::SFixed64: out.raw_fixed64((uint64_t)v.i); break;
        case Kind::SInt32: out.raw_varint(zz32(v.i)); break;
        case Kind::SInt64: out.raw_varint(zz64(v.i)); break;
        case Kind::UInt32: out.raw_varint((uint32_t)v.i); break;
        case Kind::Bool: out.raw_varint(v.i ? 1 : 0); break;
        default: out.raw_varint((uint64_t)v.i);  // int32 and enums: negative values take ten bytes
      }
    };
    if (fs.repeated) {
      if (f.values.empty()) continue;
      pb::Writer body;
      for (const Value& v : f.values) raw(body, v);
      w.bytes(fs.number, body.data());
      continue;
    }
    if (f.values.empty()) continue;
    const Value& v = f.values[0];
    bool is_default = is_float_kind(k) ? (v.d == 0 && !std::signbit(v.d)) : v.i == 0;
    if (is_default && !fs.presence && !entry) continue;  // proto3 leaves defaults out
    uint32_t wire = is_varint_kind(k) ? pb::kVarint : is_fixed32_kind(k) ? pb::kFixed32 : pb::kFixed64;
    w.raw_varint(((uint64_t)fs.number << 3) | wire);
    raw(w, v);
  }
}

}  // namespace

Message decode(const MessageSpec& spec, std::string_view data, const std::string& what) {
  Message m(spec);
  WireDecoder(what).message(m, data, 0, "");
  return m;
}

std::string encode(const Message& m) {
  pb::Writer w;
  encode_into(m, w);
  return w.release();
}

// ---------------------------------------------------------------------------------------------------
// Text format

namespace {

std::string c_escape(std::string_view s) {
  std::string o;
  o.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      case '"': o += "\\\""; break;
      case '\'': o += "\\'"; break;
      case '\\': o += "\\\\"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char b[5];
          std::snprintf(b, sizeof b, "\\%03o", c);
          o += b;
        } else {
          o += (char)c;
        }
    }
  }
  return o;
}

// The shortest decimal that reads back as the same float / double, as protobuf prints them.
std::string format_float(double d, bool single) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char b[40];
  for (int prec = single ? 6 : 15; prec <= (single ? 9 : 17); ++prec) {
    std::snprintf(b, sizeof b, "%.*g", prec, d);
    if (single ? (std::strtof(b, nullptr) == (float)d) : (std::strtod(b, nullptr) == d)) break;
  }
  std::string s = b;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";  // "1.0", as TensorFlow's Python writes it
  return s;
}

std::string scalar_text(const FieldSpec& fs, const Value& v) {
  switch (fs.kind) {
    case Kind::Float: return format_float(v.d, true);
    case Kind::Double: return format_float(v.d, false);
    case Kind::Bool: return v.i ? "true" : "false";
    case Kind::UInt64: case Kind::Fixed64: return std::to_string((uint64_t)v.i);
    case Kind::String: case Kind::Bytes: return "\"" + c_escape(v.s) + "\"";
    case Kind::Enum: {
      const EnumSpec* e = find_enum(fs.type_name);
      const char* n = e ? e->value_name(v.i) : nullptr;
      return n ? std::string(n) : std::to_string(v.i);
    }
    default: return std::to_string(v.i);
  }
}

void print_message(const Message& m, int indent, std::string& out) {
  std::string pad(indent, ' ');
  for (const Field& f : m.fields) {
    const FieldSpec& fs = *f.spec;
    if (fs.kind != Kind::Message) {
      for (const Value& v : f.values) out += pad + fs.name + ": " + scalar_text(fs, v) + "\n";
      continue;
    }
    std::vector<const Value*> vals;
    for (const Value& v : f.values) vals.push_back(&v);
    const MessageSpec* sub = find_message(fs.type_name);
    if (sub && sub->map_entry) {  // map entries print sorted by key, as protobuf does
      std::stable_sort(vals.begin(), vals.end(), [](const Value* a, const Value* b) {
        const Field* ka = a->m ? a->m->find("key") : nullptr;
        const Field* kb = b->m ? b->m->find("key") : nullptr;
        if (!ka || !kb) return ka == nullptr && kb != nullptr;
        const Value& x = ka->values.back();
        const Value& y = kb->values.back();
        return is_bytes_kind(ka->spec->kind) ? x.s < y.s : x.i < y.i;
      });
    }
    for (const Value* v : vals) {
      out += pad + fs.name + " {\n";
      if (v->m) print_message(*v->m, indent + 2, out);
      out += pad + "}\n";
    }
  }
}

class TextParser {
 public:
  TextParser(std::string_view text, const std::string& what) : t_(text), what_(what) {}

  void parse(Message& m) {
    next();
    message(m, '\0', 0);
  }

 private:
  enum TokKind { End, Ident, Number, String, Symbol };
  struct Token {
    TokKind kind = End;
    std::string text;  // identifier, number, unescaped string or the symbol
    int line = 1, col = 1;
  };

  [[noreturn]] void fail(const std::string& m) const {
    throw Error(ErrorCode::DataLoss, what_ + " is not valid protobuf text (line " + std::to_string(tok_.line) +
                                         ", column " + std::to_string(tok_.col) + "): " + m);
  }

  void next() {
    // whitespace and comments
    while (p_ < t_.size()) {
      char c = t_[p_];
      if (c == '\n') {
        ++line_;
        line_start_ = p_ + 1;
        ++p_;
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
        ++p_;
      } else if (c == '#') {
        while (p_ < t_.size() && t_[p_] != '\n') ++p_;
      } else {
        break;
      }
    }
    tok_.line = line_;
    tok_.col = (int)(p_ - line_start_) + 1;
    tok_.text.clear();
    if (p_ >= t_.size()) {
      tok_.kind = End;
      return;
    }
    char c = t_[p_];
    if (std::isalpha((unsigned char)c) || c == '_') {
      size_t b = p_;
      while (p_ < t_.size() && (std::isalnum((unsigned char)t_[p_]) || t_[p_] == '_')) ++p_;
      tok_.kind = Ident;
      tok_.text = std::string(t_.substr(b, p_ - b));
      return;
    }
    if (std::isdigit((unsigned char)c) || (c == '.' && p_ + 1 < t_.size() && std::isdigit((unsigned char)t_[p_ + 1]))) {
      size_t b = p_;
      ++p_;
      while (p_ < t_.size()) {
        char d = t_[p_];
        if (std::isalnum((unsigned char)d) || d == '.' || d == '_' ||
            ((d == '-' || d == '+') && (t_[p_ - 1] == 'e' || t_[p_ - 1] == 'E') &&
             !(p_ >= 2 && (t_[b + 1] == 'x' || t_[b + 1] == 'X'))))
          ++p_;
        else
          break;
      }
      tok_.kind = Number;
      tok_.text = std::string(t_.substr(b, p_ - b));
      return;
    }
    if (c == '"' || c == '\'') {
      tok_.kind = String;
      string_literal(c);
      return;
    }
    tok_.kind = Symbol;
    tok_.text = std::string(1, c);
    ++p_;
  }

  void string_literal(char q) {
    ++p_;
    std::string& out = tok_.text;
    while (true) {
      if (p_ >= t_.size() || t_[p_] == '\n') fail("unterminated string");
      char c = t_[p_++];
      if (c == q) return;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (p_ >= t_.size()) fail("unterminated string");
      char e = t_[p_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\\': case '\'': case '"': case '?': out += e; break;
        case 'x': case 'X': {
          int v = 0, k = 0;
          while (k < 2 && p_ < t_.size() && std::isxdigit((unsigned char)t_[p_])) v = v * 16 + hexval(t_[p_++]), ++k;
          if (!k) fail("\\x without hex digits");
          out += (char)v;
          break;
        }
        case 'u': case 'U': {
          int n = e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int k = 0; k < n; ++k) {
            if (p_ >= t_.size() || !std::isxdigit((unsigned char)t_[p_])) fail("bad \\u escape");
            cp = cp * 16 + hexval(t_[p_++]);
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail("bad unicode code point");
          json::append_utf8(out, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            int v = e - '0', k = 1;
            while (k < 3 && p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '7') v = v * 8 + (t_[p_++] - '0'), ++k;
            if (v > 255) fail("octal escape out of range");
            out += (char)v;
          } else {
            fail(std::string("unknown escape \\") + e);
          }
      }
    }
  }

  static int hexval(char h) {
    return std::isdigit((unsigned char)h) ? h - '0' : std::tolower((unsigned char)h) - 'a' + 10;
  }

  bool sym(char c) const { return tok_.kind == Symbol && tok_.text[0] == c; }
  void expect(char c) {
    if (!sym(c)) fail(std::string("expected '") + c + "', found " + describe());
    next();
  }
  std::string describe() const {
    switch (tok_.kind) {
      case End: return "the end of the input";
      case String: return "a string";
      default: return "'" + tok_.text + "'";
    }
  }

  void message(Message& m, char close, int depth) {
    if (depth > kMaxDepth) fail("messages nested deeper than " + std::to_string(kMaxDepth));
    while (true) {
      if (tok_.kind == End) {
        if (close) fail(std::string("expected '") + close + "' before the end of the input");
        return;
      }
      if (close && sym(close)) {
        next();
        return;
      }
      if (sym('[')) {
        any_expansion(m, depth);
      } else {
        if (tok_.kind != Ident) fail("expected a field name, found " + describe());
        const FieldSpec* fs = m.spec->field(tok_.text);
        if (!fs) fail("message " + std::string(m.spec->name) + " has no field named '" + tok_.text + "'");
        next();
        field(m, *fs, depth);
      }
      if (sym(',') || sym(';')) next();
    }
  }

  void field(Message& m, const FieldSpec& fs, int depth) {
    if (fs.kind == Kind::Message) {
      if (sym(':')) next();
      if (sym('[')) {
        if (!fs.repeated) fail(std::string("field ") + fs.name + " is not repeated");
        next();
        while (!sym(']')) {
          sub_message(m.add_msg(fs.name), depth);
          if (sym(',')) next();
          else if (!sym(']')) fail("expected ',' or ']' in a list");
        }
        next();
        return;
      }
      sub_message(fs.repeated ? m.add_msg(fs.name) : m.set_msg(fs.name), depth);
      return;
    }
    expect(':');
    if (sym('[')) {
      if (!fs.repeated) fail(std::string("field ") + fs.name + " is not repeated");
      next();
      while (!sym(']')) {
        m.field(fs.name).values.push_back(scalar(fs));
        if (sym(',')) next();
        else if (!sym(']')) fail("expected ',' or ']' in a list");
      }
      next();
      return;
    }
    Value v = scalar(fs);
    Field& f = m.field(fs.name);
    if (fs.repeated) f.values.push_back(std::move(v));
    else {
      f.values.resize(1);
      f.values[0] = std::move(v);
    }
  }

  void sub_message(Message& sub, int depth) {
    char close;
    if (sym('{')) close = '}';
    else if (sym('<')) close = '>';
    else fail("expected '{' or '<', found " + describe());
    next();
    message(sub, close, depth + 1);
  }

  // `[type.googleapis.com/tensorflow.X] { ... }` inside a google.protobuf.Any.
  void any_expansion(Message& m, int depth) {
    next();
    std::string url;
    while (!sym(']')) {
      if (tok_.kind == End) fail("unterminated [...]");
      url += tok_.text;
      next();
    }
    next();
    if (std::string(m.spec->name) != "google.protobuf.Any") fail("extensions ([" + url + "]) are not supported");
    size_t slash = url.rfind('/');
    const MessageSpec* inner = find_message(slash == std::string::npos ? url : url.substr(slash + 1));
    if (!inner) fail("unknown message type in Any: " + url);
    if (sym(':')) next();
    Message sub(*inner);
    sub_message(sub, depth);
    m.set_s("type_url", url);
    m.set_s("value", encode(sub));
  }

  Value scalar(const FieldSpec& fs) {
    Value v;
    Kind k = fs.kind;
    if (is_bytes_kind(k)) {
      if (tok_.kind != String) fail(std::string("field ") + fs.name + " expects a string, found " + describe());
      while (tok_.kind == String) {  // adjacent literals concatenate
        v.s += tok_.text;
        next();
      }
      if (k == Kind::String && !json::is_utf8(v.s)) fail(std::string("field ") + fs.name + ": string is not UTF-8");
      return v;
    }
    bool neg = false;
    if (sym('-')) {
      neg = true;
      next();
    }
    std::string tok = tok_.text;
    TokKind tk = tok_.kind;
    if (tk != Number && tk != Ident) fail(std::string("field ") + fs.name + " expects a value, found " + describe());
    next();
    if (k == Kind::Bool) {
      if (!neg && (tok == "true" || tok == "True" || tok == "t" || tok == "1")) v.i = 1;
      else if (!neg && (tok == "false" || tok == "False" || tok == "f" || tok == "0")) v.i = 0;
      else fail(std::string("field ") + fs.name + " expects true or false, found '" + tok + "'");
      return v;
    }
    if (k == Kind::Enum && tk == Ident) {
      const EnumSpec* e = find_enum(fs.type_name);
      for (int i = 0; e && i < e->num_values; ++i)
        if (tok == e->values[i].name) {
          if (neg) break;
          v.i = e->values[i].number;
          return v;
        }
      fail(std::string("unknown value '") + tok + "' for enum field " + fs.name);
    }
    if (is_float_kind(k)) {
      std::string low;
      for (char c : tok) low += (char)std::tolower((unsigned char)c);
      if (tk == Ident) {
        if (low == "inf" || low == "infinity") v.d = HUGE_VAL;
        else if (low == "nan") v.d = NAN;
        else fail(std::string("field ") + fs.name + " expects a number, found '" + tok + "'");
      } else {
        if (!low.empty() && low.back() == 'f' && low.find('x') == std::string::npos) low.pop_back();
        char* end = nullptr;
        v.d = std::strtod(low.c_str(), &end);
        if (!end || *end) fail(std::string("field ") + fs.name + ": malformed number '" + tok + "'");
      }
      if (k == Kind::Float) v.d = (float)v.d;
      if (neg) v.d = -v.d;
      return v;
    }
    if (tk != Number) fail(std::string("field ") + fs.name + " expects an integer, found '" + tok + "'");
    errno = 0;
    char* end = nullptr;
    unsigned long long u = std::strtoull(tok.c_str(), &end, 0);
    if (!end || *end || errno == ERANGE) fail(std::string("field ") + fs.name + ": malformed integer '" + tok + "'");
    bool is_unsigned = k == Kind::UInt32 || k == Kind::UInt64 || k == Kind::Fixed32 || k == Kind::Fixed64;
    bool is32 = k == Kind::Int32 || k == Kind::SInt32 || k == Kind::SFixed32 || k == Kind::Enum ||
                k == Kind::UInt32 || k == Kind::Fixed32;
    if (is_unsigned) {
      if (neg || (is32 && u > 0xFFFFFFFFull)) fail(std::string("field ") + fs.name + ": integer out of range");
      v.i = (int64_t)u;
      return v;
    }
    unsigned long long lim = is32 ? (neg ? 0x80000000ull : 0x7FFFFFFFull) : (neg ? 0x8000000000000000ull : 0x7FFFFFFFFFFFFFFFull);
    if (u > lim) fail(std::string("field ") + fs.name + ": integer out of range");
    v.i = neg ? (int64_t)(0 - u) : (int64_t)u;
    return v;
  }

  std::string_view t_;
  const std::string& what_;
  size_t p_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  Token tok_;
};

}  // namespace

Message parse_text(const MessageSpec& spec, std::string_view text, const std::string& what) {
  Message m(spec);
  TextParser(text, what).parse(m);
  return m;
}

std::string to_text(const Message& m) {
  std::string out;
  print_message(m, 0, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Tensors

namespace {

// DataType values (tensorflow/core/framework/types.proto).
constexpr int kDtFloat = 1, kDtDouble = 2, kDtInt32 = 3, kDtUInt8 = 4, kDtInt16 = 5, kDtInt8 = 6, kDtString = 7,
              kDtInt64 = 9, kDtBool = 10, kDtBFloat16 = 14, kDtUInt16 = 17, kDtHalf = 19;

// A TensorProto whose few values are repeated to fill a large shape (tf.zeros([1 << 20, 1 << 20])) must
// not make us allocate without bound.
constexpr uint64_t kMaxExpandedBytes = uint64_t(4) << 30;

}  // namespace

int datatype_of(DType d) {
  switch (d) {
    case DType::Float32: return kDtFloat;
    case DType::Float64: return kDtDouble;
    case DType::Int32: return kDtInt32;
    case DType::Int64: return kDtInt64;
    case DType::Bool: return kDtBool;
    case DType::String: return kDtString;
    case DType::UInt8: return kDtUInt8;
    case DType::Int8: return kDtInt8;
    case DType::Int16: return kDtInt16;
    case DType::UInt16: return kDtUInt16;
    case DType::Float16: return kDtHalf;
    case DType::BFloat16: return kDtBFloat16;
    case DType::Variant: break;
  }
  return 0;
}

bool dtype_of_datatype(int64_t t, DType* out) {
  switch (t) {
    case kDtFloat: *out = DType::Float32; return true;
    case kDtDouble: *out = DType::Float64; return true;
    case kDtInt32: *out = DType::Int32; return true;
    case kDtInt64: *out = DType::Int64; return true;
    case kDtBool: *out = DType::Bool; return true;
    case kDtString: *out = DType::String; return true;
    case kDtUInt8: *out = DType::UInt8; return true;
    case kDtInt8: *out = DType::Int8; return true;
    case kDtInt16: *out = DType::Int16; return true;
    case kDtUInt16: *out = DType::UInt16; return true;
    case kDtHalf: *out = DType::Float16; return true;
    case kDtBFloat16: *out = DType::BFloat16; return true;
    default: return false;
  }
}

std::string datatype_name(int64_t t) {
  const EnumSpec* e = find_enum("tensorflow.DataType");
  const char* n = e ? e->value_name(t) : nullptr;
  return n ? n : "DataType " + std::to_string(t);
}

Message shape_to_proto(const PartialShape& s) {
  Message m("tensorflow.TensorShapeProto");
  if (!s.known_rank) {
    m.set_i("unknown_rank", 1);
    return m;
  }
  for (int64_t d : s.dims) {
    Message& dim = m.add_msg("dim");
    if (d != 0) dim.set_i("size", d < 0 ? -1 : d);
  }
  return m;
}

PartialShape shape_from_proto(const Message& m, const std::string& what) {
  if (m.i("unknown_rank")) {
    if (m.has("dim") && !m.msgs("dim").empty())
      throw Error(ErrorCode::DataLoss, what + ": a shape with unknown rank lists dimensions");
    return PartialShape::unknown();
  }
  std::vector<int64_t> dims;
  for (const Message* d : m.msgs("dim")) {
    int64_t n = d->i("size");
    if (n < -1) throw Error(ErrorCode::DataLoss, what + ": negative dimension " + std::to_string(n));
    dims.push_back(n);
  }
  return PartialShape(dims);
}

Tensor tensor_from_proto(const Message& m, const std::string& what) {
  auto loss = [&](const std::string& s) { return Error(ErrorCode::DataLoss, what + ": " + s); };
  int64_t dt_enum = m.i("dtype");
  DType dt;
  if (!dtype_of_datatype(dt_enum, &dt))
    throw Error(ErrorCode::Unimplemented, what + " holds a tensor of dtype " + datatype_name(dt_enum) +
                                              ", which tideflow does not support");
  const Message* shp = m.msg("tensor_shape");
  PartialShape ps = shp ? shape_from_proto(*shp, what) : PartialShape(std::vector<int64_t>{});
  if (!ps.known_rank) throw loss("a constant tensor needs a known shape");
  Dims dims = ps.dims;
  uint64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) throw loss("a constant tensor needs a fully known shape, got " + ps.str());
    if (d && n > UINT64_MAX / 64 / (uint64_t)d) throw loss("shape " + ps.str() + " overflows");
    n *= (uint64_t)d;
  }
  const std::string& content = m.s("tensor_content");
  if (dt == DType::String) {
    const std::vector<Value>* sv = m.values("string_val");
    size_t have = sv ? sv->size() : 0;
    if (have > n) throw loss("holds " + std::to_string(have) + " strings for shape " + ps.str());
    if (have < n && n * sizeof(std::string) > kMaxExpandedBytes)
      throw Error(ErrorCode::ResourceExhausted, what + ": string tensor of shape " + ps.str() + " is too large");
    std::vector<std::string> vals;
    vals.reserve(n);
    for (uint64_t k = 0; k < n; ++k) vals.push_back(have ? (*sv)[std::min<uint64_t>(k, have - 1)].s : std::string());
    return Tensor::strings(dims, std::move(vals));
  }
  size_t esize = dtype_size(dt);
  uint64_t nbytes = n * esize;
  if (!content.empty()) {
    if (content.size() != nbytes)
      throw loss("tensor_content holds " + std::to_string(content.size()) + " bytes, " + dtype_name(dt) + ps.str() +
                 " needs " + std::to_string(nbytes));
    Tensor t(dt, dims);
    if (nbytes) std::memcpy(t.raw(), content.data(), nbytes);
    if (dt == DType::Bool)
      for (uint64_t k = 0; k < nbytes; ++k)
        if ((uint8_t)content[k] > 1) throw loss("a bool element is neither 0 nor 1");
    return t;
  }
  // TensorProto's typed fields: int_val also holds the 8- and 16-bit integers, half_val the bits of
  // float16 and bfloat16 values.
  const char* field = dt == DType::Float32 ? "float_val" : dt == DType::Float64 ? "double_val"
                      : dt == DType::Int64 ? "int64_val" : dt == DType::Bool ? "bool_val"
                      : is_half_float(dt) ? "half_val" : "int_val";
  const std::vector<Value>* vals = m.values(field);
  size_t have = vals ? vals->size() : 0;
  if (have > n) throw loss("holds " + std::to_string(have) + " values in " + field + " for shape " + ps.str());
  if (have < n && nbytes > kMaxExpandedBytes)
    throw Error(ErrorCode::ResourceExhausted, what + ": a constant of shape " + ps.str() + " (" + std::to_string(nbytes) +
                                                  " bytes) is larger than tideflow expands from a TensorProto");
  Tensor t(dt, dims);
  auto fill = [&](auto zero, auto get) {
    using T = decltype(zero);
    T* out = static_cast<T*>(t.raw());
    T last = zero;
    for (uint64_t k = 0; k < n; ++k) {
      if (k < have) last = get((*vals)[k]);
      out[k] = last;
    }
  };
  switch (dt) {
    case DType::Float32: fill(0.0f, [](const Value& v) { return (float)v.d; }); break;
    case DType::Float64: fill(0.0, [](const Value& v) { return v.d; }); break;
    case DType::Int32: fill(int32_t(0), [](const Value& v) { return (int32_t)v.i; }); break;
    case DType::Int64: fill(int64_t(0), [](const Value& v) { return v.i; }); break;
    case DType::Bool: fill(false, [](const Value& v) { return v.i != 0; }); break;
    case DType::UInt8: fill(uint8_t(0), [](const Value& v) { return (uint8_t)v.i; }); break;
    case DType::Int8: fill(int8_t(0), [](const Value& v) { return (int8_t)v.i; }); break;
    case DType::Int16: fill(int16_t(0), [](const Value& v) { return (int16_t)v.i; }); break;
    case DType::UInt16: fill(uint16_t(0), [](const Value& v) { return (uint16_t)v.i; }); break;
    case DType::Float16: case DType::BFloat16: fill(uint16_t(0), [](const Value& v) { return (uint16_t)v.i; }); break;
    default: break;
  }
  return t;
}

Message tensor_to_proto(const Tensor& t) {
  Message m("tensorflow.TensorProto");
  m.set_i("dtype", datatype_of(t.dtype()));
  m.set_msg("tensor_shape") = shape_to_proto(PartialShape(t.dims()));
  if (t.dtype() == DType::String) {
    for (const auto& s : t.string_values()) m.add_s("string_val", s);
    return m;
  }
  if (t.size() != 1) {
    if (t.nbytes()) m.set_s("tensor_content", std::string(static_cast<const char*>(t.raw()), t.nbytes()));
    return m;
  }
  // A scalar (or one element) in its typed field reads better in text format, as TensorFlow writes it.
  Value v;
  switch (t.dtype()) {
    case DType::Float32: v.d = t.data<float>()[0]; m.field("float_val").values.push_back(std::move(v)); break;
    case DType::Float64: v.d = t.data<double>()[0]; m.field("double_val").values.push_back(std::move(v)); break;
    case DType::Int32: v.i = t.data<int32_t>()[0]; m.field("int_val").values.push_back(std::move(v)); break;
    case DType::Int64: v.i = t.data<int64_t>()[0]; m.field("int64_val").values.push_back(std::move(v)); break;
    case DType::Bool: v.i = t.data<bool>()[0]; m.field("bool_val").values.push_back(std::move(v)); break;
    case DType::Float16: case DType::BFloat16:
      v.i = static_cast<const uint16_t*>(t.raw())[0];  // the half's bits, as TF's half_val holds them
      m.field("half_val").values.push_back(std::move(v));
      break;
    default:  // the 8- and 16-bit integers
      v.i = t.int_at(0);
      m.field("int_val").values.push_back(std::move(v));
      break;
  }
  return m;
}

}  // namespace tfpb
}  // namespace tideflow
