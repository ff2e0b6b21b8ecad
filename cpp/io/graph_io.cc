#include "io/graph_io.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <queue>
#include <unordered_map>

#include "io/checkpoint.h"
#include "io/json.h"
#include "op_registry.h"

namespace tideflow {

// Note [meta graph format]
// A binary envelope around a JSON description, so the file is versioned, checksummed and safe to load
// (nothing in it is executed), while the structure stays readable with any JSON tool:
//   magic "\x89TFMETA\n" | u32 version | u32 flags (0) | u64 graph_len | u64 meta_len | u64 blob_len
//   | graph JSON | caller's meta JSON | blob | u32 crc32c of everything before it        (little-endian)
// The graph JSON lists nodes in a topological order (data and control edges) with name, op, inputs
// ["node", index], control inputs, device, location, recorded output shapes and attributes. Each
// attribute is tagged with its kind ({"i": 3}, {"shape": [2, -1]}, ...). Doubles are stored as their 64
// bit patterns (hex) and numeric tensor constants as raw bytes in the blob at 8-byte aligned offsets, so
// every value, NaN payloads included, comes back bit-exact. The magic's first byte and newline catch
// 7-bit and text-mode transfers; the checksum catches truncation and flipped bytes.

// Note [frames in meta graphs]
// Control-flow frames (Note [frames] in graph.h) travel as an optional "frames" list: kind, parent, and the
// frame's argument nodes, outputs, condition, aliases and saved values by name; each member node records
// its frame. Owners (If, While, WhileGrad) name frames by index in their int attributes kFrameAttrs, which
// an import shifts past the frames the graph already has, and an If gets back the outputs that carry its
// saved values (Note [cond gradients] in ops/cond.cc). A frame's members and the values it lists
// precede its owner in the file.
namespace {

const char* const kFrameAttrs[] = {"then_frame", "else_frame", "frame"};
bool owner_op(const std::string& op) { return op == "If" || op == "While" || op == "WhileGrad"; }
bool owns_frames(const Node& n) { return owner_op(n.type()); }

constexpr char kMagic[8] = {'\x89', 'T', 'F', 'M', 'E', 'T', 'A', '\n'};
constexpr size_t kFixedHeader = 8 + 4 + 4 + 3 * 8;

const DType kAllDTypes[] = {DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::Bool, DType::String,
                            DType::Variant, DType::UInt8, DType::Int8, DType::Int16, DType::UInt16, DType::Float16,
                            DType::BFloat16};
static_assert(sizeof(kAllDTypes) / sizeof(kAllDTypes[0]) == kNumDTypes, "every dtype has a name in saved graphs");

DType dtype_from_name(const std::string& s, bool* ok) {
  for (DType d : kAllDTypes)
    if (s == dtype_name(d)) { *ok = true; return d; }
  *ok = false;
  return DType::Float32;
}

std::string double_bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", (unsigned long long)u);
  return b;
}

void put_u32(std::string& o, uint32_t v) {
  for (int i = 0; i < 4; ++i) o += (char)(v >> (8 * i));
}
void put_u64(std::string& o, uint64_t v) {
  for (int i = 0; i < 8; ++i) o += (char)(v >> (8 * i));
}
uint64_t get_le(const std::string& s, size_t off, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= (uint64_t)(uint8_t)s[off + i] << (8 * i);
  return v;
}

// ---- writing ----

class GraphWriter {
 public:
  std::string json;
  std::string blob;
  bool clear_devices = false;

  void dims(const Dims& d) {
    json += "[";
    for (size_t i = 0; i < d.size(); ++i) json += (i ? "," : "") + std::to_string(d[i]);
    json += "]";
  }

  void strings(const std::vector<std::string>& v) {
    json += "[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) json += ",";
      json::quote(json, v[i]);
    }
    json += "]";
  }

  void tensor(const Tensor& t) {
    json += "{\"tensor\":{\"dtype\":\"";
    json += dtype_name(t.dtype());
    json += "\",\"shape\":";
    dims(t.dims());
    if (t.dtype() == DType::String) {
      json += ",\"strings\":";
      strings(t.string_values());
    } else {
      blob.append((8 - blob.size() % 8) % 8, '\0');
      json += ",\"offset\":" + std::to_string(blob.size()) + ",\"nbytes\":" + std::to_string(t.nbytes());
      blob.append(static_cast<const char*>(t.raw()), t.nbytes());
    }
    json += "}}";
  }

  void attr(const AttrValue& v) {
    std::visit(
        [&](auto&& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            json += "{\"none\":null}";
          } else if constexpr (std::is_same_v<T, bool>) {
            json += x ? "{\"b\":true}" : "{\"b\":false}";
          } else if constexpr (std::is_same_v<T, int64_t>) {
            json += "{\"i\":" + std::to_string(x) + "}";
          } else if constexpr (std::is_same_v<T, double>) {
            json += "{\"f\":\"" + double_bits(x) + "\"}";
          } else if constexpr (std::is_same_v<T, std::string>) {
            json += "{\"s\":";
            json::quote(json, x);
            json += "}";
          } else if constexpr (std::is_same_v<T, DType>) {
            json += "{\"type\":\"" + std::string(dtype_name(x)) + "\"}";
          } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
            json += "{\"list_i\":";
            dims(x);
            json += "}";
          } else if constexpr (std::is_same_v<T, std::vector<double>>) {
            json += "{\"list_f\":[";
            for (size_t i = 0; i < x.size(); ++i) json += (i ? ",\"" : "\"") + double_bits(x[i]) + "\"";
            json += "]}";
          } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            json += "{\"list_s\":";
            strings(x);
            json += "}";
          } else if constexpr (std::is_same_v<T, PartialShape>) {
            json += "{\"shape\":";
            if (x.known_rank) dims(x.dims);
            else json += "null";
            json += "}";
          } else if constexpr (std::is_same_v<T, Tensor>) {
            tensor(x);
          } else if constexpr (std::is_same_v<T, std::vector<DType>>) {
            json += "{\"list_type\":[";
            for (size_t i = 0; i < x.size(); ++i) json += (i ? ",\"" : "\"") + std::string(dtype_name(x[i])) + "\"";
            json += "]}";
          } else {
            static_assert(sizeof(T) == 0, "every AttrValue kind needs a serialized form");
          }
        },
        v);
  }

  void node(const Node& n) {
    json += "{\"name\":";
    json::quote(json, n.name);
    json += ",\"op\":";
    json::quote(json, n.type());
    json += ",\"inputs\":[";
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      json += i ? ",[" : "[";
      json::quote(json, n.inputs[i].node->name);
      json += "," + std::to_string(n.inputs[i].index) + "]";
    }
    json += "],\"control\":[";
    for (size_t i = 0; i < n.control_inputs.size(); ++i) {
      if (i) json += ",";
      json::quote(json, n.control_inputs[i]->name);
    }
    json += "],\"device\":";
    json::quote(json, clear_devices ? std::string() : n.device);
    json += ",\"location\":";
    json::quote(json, n.location);
    json += ",\"shapes\":[";
    for (size_t i = 0; i < n.out_shapes.size(); ++i) {
      if (i) json += ",";
      if (n.out_shapes[i].known_rank) dims(n.out_shapes[i].dims);
      else json += "null";
    }
    json += "]";
    if (n.frame >= 0) json += ",\"frame\":" + std::to_string(n.frame);
    json += ",\"attrs\":{";
    bool first = true;
    for (auto& kv : n.attrs) {
      if (!first) json += ",";
      first = false;
      json::quote(json, kv.first);
      json += ":";
      attr(kv.second);
    }
    json += "}}";
  }

  void output(const Output& o) {
    json += "[";
    json::quote(json, o.node->name);
    json += "," + std::to_string(o.index) + "]";
  }
  void outputs(const char* key, const std::vector<Output>& v) {
    json += ",\"" + std::string(key) + "\":[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) json += ",";
      output(v[i]);
    }
    json += "]";
  }
  void names(const char* key, const std::vector<Node*>& v) {
    json += ",\"" + std::string(key) + "\":[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) json += ",";
      json::quote(json, v[i]->name);
    }
    json += "]";
  }

  void frame(const Frame& f) {  // Note [frames in meta graphs]
    json += "{\"kind\":";
    json::quote(json, f.kind);
    json += ",\"parent\":" + std::to_string(f.parent);
    names("args", f.args);
    names("cond_args", f.cond_args);
    names("slice_args", f.slice_args);
    outputs("outputs", f.outputs);
    outputs("stacked", f.stacked);
    json += ",\"pred\":";
    if (f.pred.valid()) output(f.pred);
    else json += "null";
    json += ",\"aliases\":[";
    for (size_t i = 0; i < f.aliases.size(); ++i) {
      json += i ? ",[" : "[";
      output(f.aliases[i].first);
      json += "," + std::to_string(f.aliases[i].second) + "]";
    }
    json += "]";
    outputs("saved", f.saved);
    json += ",\"saved_outputs\":[";
    for (size_t i = 0; i < f.saved_outputs.size(); ++i) json += (i ? "," : "") + std::to_string(f.saved_outputs[i]);
    json += "]}";
  }
};

// The frames an owner node runs (Note [frames in meta graphs]).
std::vector<int> frames_of(const Node& n) {
  std::vector<int> out;
  if (!owns_frames(n)) return out;
  for (const char* k : kFrameAttrs)
    if (n.attrs.has(k)) out.push_back((int)n.attrs.get<int64_t>(k));
  return out;
}

// Nodes in id order are topological over data edges (an input exists before its consumer), but a
// control edge added later (Operation._add_control_input) may point forward; Kahn's algorithm with the
// smallest id first keeps the file order stable and close to creation order.
std::vector<const Node*> topological(const Graph& g) {
  int n = g.num_nodes();
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> consumers(n);
  for (int i = 0; i < n; ++i) {
    const Node* x = g.node(i);
    for (auto& in : x->inputs) { consumers[in.node->id].push_back(i); ++pending[i]; }
    for (const Node* c : x->control_inputs) { consumers[c->id].push_back(i); ++pending[i]; }
    for (int f : frames_of(*x))  // a frame's members before its owner
      for (const Node* m : g.frame(f).nodes) { consumers[m->id].push_back(i); ++pending[i]; }
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i)
    if (!pending[i]) ready.push(i);
  std::vector<const Node*> order;
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    order.push_back(g.node(i));
    for (int c : consumers[i])
      if (--pending[c] == 0) ready.push(c);
  }
  if ((int)order.size() != n)
    throw invalid_argument("cannot export the graph: its control dependencies form a cycle");
  return order;
}

// ---- reading ----

struct NodeSpec {
  int frame = -1;
  std::string name, op, device, location;
  std::vector<std::pair<std::string, int>> inputs;
  std::vector<std::string> control;
  std::vector<PartialShape> shapes;
  AttrMap attrs;
};

class GraphReader {
 public:
  GraphReader(const std::string& source, const std::string& blob) : src_(source), blob_(blob) {}

  [[noreturn]] void fail(const std::string& m) const {
    throw Error(ErrorCode::DataLoss, "Meta graph " + src_ + " is corrupted: " + m);
  }

  const json::Value& field(const json::Value& o, const char* k, json::Value::Kind kind, const std::string& ctx) const {
    const json::Value* v = o.find(k);
    if (!v || !v->is(kind)) fail(ctx + ": missing or malformed \"" + k + "\"");
    return *v;
  }

  std::string str(const json::Value& v, const std::string& ctx) const {
    if (!v.is(json::Value::String)) fail(ctx + ": expected a string");
    return v.s;
  }

  Dims dims(const json::Value& v, const std::string& ctx, bool allow_unknown) const {
    if (!v.is(json::Value::Array)) fail(ctx + ": expected a list of dimensions");
    Dims d;
    for (auto& x : v.arr) {
      if (!x.is(json::Value::Int) || x.i < (allow_unknown ? -1 : 0)) fail(ctx + ": bad dimension");
      d.push_back(x.i);
    }
    return d;
  }

  PartialShape shape(const json::Value& v, const std::string& ctx) const {
    if (v.is(json::Value::Null)) return PartialShape::unknown();
    return PartialShape(dims(v, ctx, true));
  }

  DType dtype(const json::Value& v, const std::string& ctx) const {
    bool ok = false;
    DType d = dtype_from_name(str(v, ctx), &ok);
    if (!ok) fail(ctx + ": unknown dtype \"" + v.s + "\"");
    return d;
  }

  double dbl(const json::Value& v, const std::string& ctx) const {
    std::string s = str(v, ctx);
    if (s.size() != 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos) fail(ctx + ": bad float bits");
    uint64_t u = std::strtoull(s.c_str(), nullptr, 16);
    double d;
    std::memcpy(&d, &u, 8);
    return d;
  }

  std::vector<std::string> strings(const json::Value& v, const std::string& ctx) const {
    if (!v.is(json::Value::Array)) fail(ctx + ": expected a list of strings");
    std::vector<std::string> out;
    for (auto& x : v.arr) out.push_back(str(x, ctx));
    return out;
  }

  Tensor tensor(const json::Value& v, const std::string& ctx) const {
    if (!v.is(json::Value::Object)) fail(ctx + ": malformed tensor");
    DType dt = dtype(field(v, "dtype", json::Value::String, ctx), ctx);
    Dims d = dims(field(v, "shape", json::Value::Array, ctx), ctx, false);
    if (dt == DType::String) {
      auto vals = strings(field(v, "strings", json::Value::Array, ctx), ctx);
      if ((int64_t)vals.size() != num_elements(d)) fail(ctx + ": string tensor " + dims_str(d) + " has " + std::to_string(vals.size()) + " values");
      return Tensor::strings(d, std::move(vals));
    }
    int64_t off = field(v, "offset", json::Value::Int, ctx).i;
    int64_t nbytes = field(v, "nbytes", json::Value::Int, ctx).i;
    // Check the sizes before allocating: a damaged shape must not ask for terabytes.
    uint64_t want = dtype_size(dt);
    for (int64_t x : d) {
      if (x && want > UINT64_MAX / (uint64_t)x) fail(ctx + ": tensor shape overflows");
      want *= (uint64_t)x;
    }
    if ((uint64_t)nbytes != want || off < 0 || (uint64_t)off > blob_.size() ||
        (uint64_t)nbytes > blob_.size() - (uint64_t)off)
      fail(ctx + ": tensor bytes out of range");
    Tensor t(dt, d);
    if (nbytes) std::memcpy(t.raw(), blob_.data() + off, (size_t)nbytes);
    return t;
  }

  AttrValue attr(const json::Value& v, const std::string& ctx) const {
    if (!v.is(json::Value::Object) || v.obj.size() != 1) fail(ctx + ": an attribute must be {kind: value}");
    const std::string& k = v.obj[0].first;
    const json::Value& x = v.obj[0].second;
    if (k == "none") return std::monostate{};
    if (k == "b" && x.is(json::Value::Bool)) return x.b;
    if (k == "i" && x.is(json::Value::Int)) return x.i;
    if (k == "f") return dbl(x, ctx);
    if (k == "s") return str(x, ctx);
    if (k == "type") return dtype(x, ctx);
    if (k == "shape") return shape(x, ctx);
    if (k == "tensor") return tensor(x, ctx);
    if (k == "list_i" && x.is(json::Value::Array)) {
      std::vector<int64_t> out;
      for (auto& e : x.arr) {
        if (!e.is(json::Value::Int)) fail(ctx + ": bad int list");
        out.push_back(e.i);
      }
      return out;
    }
    if (k == "list_f" && x.is(json::Value::Array)) {
      std::vector<double> out;
      for (auto& e : x.arr) out.push_back(dbl(e, ctx));
      return out;
    }
    if (k == "list_s") return strings(x, ctx);
    if (k == "list_type" && x.is(json::Value::Array)) {
      std::vector<DType> out;
      for (auto& e : x.arr) out.push_back(dtype(e, ctx));
      return out;
    }
    fail(ctx + ": unknown attribute kind \"" + k + "\"");
  }

  NodeSpec node(const json::Value& v, size_t i) const {
    std::string ctx = "node #" + std::to_string(i);
    if (!v.is(json::Value::Object)) fail(ctx + " is not an object");
    NodeSpec s;
    s.name = field(v, "name", json::Value::String, ctx).s;
    if (json::is_utf8(s.name)) ctx = "node '" + s.name + "'";
    s.op = field(v, "op", json::Value::String, ctx).s;
    s.device = field(v, "device", json::Value::String, ctx).s;
    s.location = field(v, "location", json::Value::String, ctx).s;
    for (auto& in : field(v, "inputs", json::Value::Array, ctx).arr) {
      if (!in.is(json::Value::Array) || in.arr.size() != 2 || !in.arr[0].is(json::Value::String) ||
          !in.arr[1].is(json::Value::Int) || in.arr[1].i < 0)
        fail(ctx + ": malformed input");
      s.inputs.emplace_back(in.arr[0].s, (int)in.arr[1].i);
    }
    s.control = strings(field(v, "control", json::Value::Array, ctx), ctx);
    if (const json::Value* f = v.find("frame")) {
      if (!f->is(json::Value::Int) || f->i < 0) fail(ctx + ": malformed frame");
      s.frame = (int)f->i;
    }
    bool text_ok = json::is_utf8(s.name) && json::is_utf8(s.op) && json::is_utf8(s.device) && json::is_utf8(s.location);
    for (auto& in : s.inputs) text_ok = text_ok && json::is_utf8(in.first);
    for (auto& c : s.control) text_ok = text_ok && json::is_utf8(c);
    if (!text_ok) fail("node #" + std::to_string(i) + ": names, op types and devices must be UTF-8");
    for (auto& sh : field(v, "shapes", json::Value::Array, ctx).arr) s.shapes.push_back(shape(sh, ctx));
    for (auto& kv : field(v, "attrs", json::Value::Object, ctx).obj) {
      if (!json::is_utf8(kv.first)) fail(ctx + ": an attribute name is not UTF-8");
      s.attrs[kv.first] = attr(kv.second, ctx + " attr '" + kv.first + "'");
    }
    return s;
  }

 private:
  const std::string& src_;
  const std::string& blob_;
};

}  // namespace

std::string serialize_meta_graph(const Graph& g, const std::string& meta_json, const ExportOptions& opts) {
  std::string meta = meta_json.empty() ? "{}" : meta_json;
  json::parse(meta, "meta graph metadata", ErrorCode::ValueError);  // never write what we cannot read back
  GraphWriter w;
  w.clear_devices = opts.clear_devices;
  {
    std::lock_guard<std::mutex> l(g.mutex());  // the graph may be growing on another thread
    w.json = "{\"nodes\":[";
    bool first = true;
    for (const Node* n : topological(g)) {
      if (!first) w.json += ",\n";
      first = false;
      w.node(*n);
    }
    w.json += "]";
    if (g.num_frames()) {
      w.json += ",\"frames\":[";
      for (int f = 0; f < g.num_frames(); ++f) {
        if (f) w.json += ",\n";
        w.frame(g.frame(f));
      }
      w.json += "]";
    }
    w.json += "}";
  }
  std::string out(kMagic, 8);
  put_u32(out, kMetaGraphFormatVersion);
  put_u32(out, 0);
  put_u64(out, w.json.size());
  put_u64(out, meta.size());
  put_u64(out, w.blob.size());
  out.reserve(out.size() + w.json.size() + meta.size() + w.blob.size() + 4);
  out += w.json;
  out += meta;
  out += w.blob;
  put_u32(out, crc32c(out.data(), out.size()));
  return out;
}

void write_meta_graph(const std::string& path, const Graph& g, const std::string& meta_json, const ExportOptions& opts) {
  std::string bytes = serialize_meta_graph(g, meta_json, opts);
  write_file_atomic(path, {{bytes.data(), bytes.size()}});
}

ImportedGraph import_meta_graph(Graph& g, const std::string& bytes, const ImportOptions& opts,
                                const std::string& source) {
  auto loss = [&](const std::string& m) { return Error(ErrorCode::DataLoss, "Meta graph " + source + " is corrupted: " + m); };
  size_t head = std::min(bytes.size(), sizeof kMagic);
  if (bytes.compare(0, head, std::string(kMagic, head)) != 0)
    throw value_error(source + " is not a tideflow meta graph file (its first bytes are not the meta graph "
                      "magic); TensorFlow .meta protobufs cannot be read");
  if (bytes.size() < kFixedHeader) throw loss("truncated (" + std::to_string(bytes.size()) + " bytes)");
  uint32_t version = (uint32_t)get_le(bytes, 8, 4);
  if (version > (uint32_t)kMetaGraphFormatVersion)
    throw value_error("Meta graph " + source + " has format version " + std::to_string(version) +
                      "; this tideflow reads versions up to " + std::to_string(kMetaGraphFormatVersion) +
                      ". Upgrade tideflow to load it.");
  if (version == 0) throw loss("format version 0");
  uint64_t lens[3] = {get_le(bytes, 16, 8), get_le(bytes, 24, 8), get_le(bytes, 32, 8)};
  uint64_t total = kFixedHeader + 4;
  for (uint64_t l : lens) {
    if (l > bytes.size()) throw loss("truncated (a section claims " + std::to_string(l) + " bytes)");
    total += l;
  }
  if (total > bytes.size())
    throw loss("truncated (" + std::to_string(bytes.size()) + " of " + std::to_string(total) + " bytes)");
  if (total < bytes.size()) throw loss(std::to_string(bytes.size() - total) + " unexpected trailing bytes");
  uint32_t want = (uint32_t)get_le(bytes, total - 4, 4);
  if (crc32c(bytes.data(), total - 4) != want) throw loss("checksum mismatch");

  std::string graph_json = bytes.substr(kFixedHeader, lens[0]);
  ImportedGraph result;
  result.meta_json = bytes.substr(kFixedHeader + lens[0], lens[1]);
  std::string blob = bytes.substr(kFixedHeader + lens[0] + lens[1], lens[2]);
  json::Value doc = json::parse(graph_json, "Meta graph " + source);
  GraphReader r(source, blob);
  const json::Value& nodes = r.field(doc, "nodes", json::Value::Array, "graph");

  // Validate everything a node could fail on before adding any, so a bad file leaves the graph untouched
  // in all but shape-function failures.
  std::string prefix = opts.scope.empty() ? "" : (opts.scope.back() == '/' ? opts.scope : opts.scope + "/");
  std::vector<NodeSpec> specs;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < nodes.arr.size(); ++i) {
    NodeSpec s = r.node(nodes.arr[i], i);
    if (!index.emplace(s.name, i).second) r.fail("duplicate node name '" + s.name + "'");
    for (auto& in : s.inputs)
      if (!index.count(in.first) || in.first == s.name) r.fail("node '" + s.name + "' reads '" + in.first + "' before it is defined");
    for (auto& c : s.control)
      if (!index.count(c) || c == s.name) r.fail("node '" + s.name + "' depends on '" + c + "' before it is defined");
    if (!OpRegistry::global().find(s.op))
      throw Error(ErrorCode::NotFound, "Meta graph " + source + " uses op type '" + s.op + "' (node '" + s.name +
                                           "'), which this build of tideflow does not register");
    if (g.find(prefix + s.name))
      throw value_error("Cannot import meta graph " + source + ": node '" + prefix + s.name +
                        "' already exists in the graph. Import into a fresh graph or pass import_scope.");
    specs.push_back(std::move(s));
  }

  // Note [frames in meta graphs]: the frames, created up front; their lists are filled from names when
  // their owner is reached (everything they list precedes it).
  const json::Value* frames = doc.find("frames");
  const size_t nframes = frames ? frames->arr.size() : 0;
  if (frames && !frames->is(json::Value::Array)) r.fail("malformed frames");
  for (size_t f = 0; f < nframes; ++f) {
    const json::Value& fv = frames->arr[f];
    std::string ctx = "frame #" + std::to_string(f);
    if (!fv.is(json::Value::Object)) r.fail(ctx + " is not an object");
    r.field(fv, "kind", json::Value::String, ctx);
    const json::Value& parent = r.field(fv, "parent", json::Value::Int, ctx);
    if (parent.i < -1 || parent.i >= (int64_t)f) r.fail(ctx + ": bad parent");
  }
  for (const NodeSpec& s : specs)
    if (s.frame >= (int)nframes) r.fail("node '" + s.name + "' is in frame " + std::to_string(s.frame) + ", which the file lacks");
  const int base = g.num_frames(), outer = g.current_frame();
  struct Restore {
    Graph& g;
    int outer;
    ~Restore() {
      g.set_current_frame(outer);
      g.allow_foreign_reads(-1);
    }
  } restore{g, outer};
  g.allow_foreign_reads(1);  // gradient frames read their forward frame's values
  for (size_t f = 0; f < nframes; ++f) {
    int parent = (int)frames->arr[f].find("parent")->i;
    g.set_current_frame(parent < 0 ? outer : base + parent);
    g.new_frame(frames->arr[f].find("kind")->s);
  }
  std::vector<Node*> made;
  made.reserve(specs.size());
  auto made_node = [&](const json::Value& name, const std::string& ctx) -> Node* {
    if (!name.is(json::Value::String) || !index.count(name.s) || index[name.s] >= made.size())
      r.fail(ctx + ": lists a node that is not defined before the frame's owner");
    return made[index[name.s]];
  };
  auto made_output = [&](const json::Value& o, const std::string& ctx) {
    if (!o.is(json::Value::Array) || o.arr.size() != 2 || !o.arr[1].is(json::Value::Int)) r.fail(ctx + ": malformed output");
    Node* n = made_node(o.arr[0], ctx);
    if (o.arr[1].i < 0 || o.arr[1].i >= n->num_outputs()) r.fail(ctx + ": output index out of range");
    return n->out((int)o.arr[1].i);
  };
  std::vector<char> filled(nframes, 0);
  auto fill = [&](size_t f) {
    if (f >= nframes) r.fail("an op names frame " + std::to_string(f) + ", which the file lacks");
    if (filled[f]) return;
    filled[f] = 1;
    const json::Value& fv = frames->arr[f];
    std::string ctx = "frame #" + std::to_string(f);
    Frame& fr = g.frame(base + (int)f);
    auto nodes = [&](const char* k) {
      std::vector<Node*> v;
      for (auto& x : r.field(fv, k, json::Value::Array, ctx).arr) v.push_back(made_node(x, ctx));
      return v;
    };
    auto outs = [&](const char* k) {
      std::vector<Output> v;
      for (auto& x : r.field(fv, k, json::Value::Array, ctx).arr) v.push_back(made_output(x, ctx));
      return v;
    };
    fr.args = nodes("args");
    fr.cond_args = nodes("cond_args");
    fr.slice_args = nodes("slice_args");
    fr.outputs = outs("outputs");
    fr.stacked = outs("stacked");
    fr.saved = outs("saved");
    const json::Value* pred = fv.find("pred");
    if (pred && !pred->is(json::Value::Null)) fr.pred = made_output(*pred, ctx);
    for (auto& a : r.field(fv, "aliases", json::Value::Array, ctx).arr) {
      if (!a.is(json::Value::Array) || a.arr.size() != 2 || !a.arr[1].is(json::Value::Int)) r.fail(ctx + ": malformed alias");
      fr.aliases.emplace_back(made_output(a.arr[0], ctx), (int)a.arr[1].i);
    }
    for (auto& x : r.field(fv, "saved_outputs", json::Value::Array, ctx).arr) {
      if (!x.is(json::Value::Int)) r.fail(ctx + ": malformed saved_outputs");
      fr.saved_outputs.push_back((int)x.i);
    }
    if (fr.saved_outputs.size() && fr.saved_outputs.size() != fr.saved.size()) r.fail(ctx + ": saved lists disagree");
  };
  for (NodeSpec& s : specs) {
    std::vector<int> owned;
    if (owner_op(s.op))
      for (const char* k : kFrameAttrs)
        if (s.attrs.has(k)) {
          auto* id = std::get_if<int64_t>(&s.attrs[k]);
          if (!id || *id < 0) r.fail("node '" + s.name + "': malformed frame attribute");
          fill((size_t)*id);
          owned.push_back((int)(*id += base));
        }
    g.set_current_frame(s.frame < 0 ? outer : base + s.frame);
    std::vector<Output> inputs;
    for (auto& in : s.inputs) {
      Node* src = made[index[in.first]];
      if (in.second >= src->num_outputs())
        r.fail("node '" + s.name + "' reads output " + std::to_string(in.second) + " of '" + in.first + "', which has " +
               std::to_string(src->num_outputs()));
      inputs.push_back(src->out(in.second));
    }
    std::vector<Node*> control;
    for (auto& c : s.control) control.push_back(made[index[c]]);
    Node* n = g.add_node(s.op, prefix + s.name, std::move(inputs), std::move(s.attrs), std::move(control), s.location,
                         opts.clear_devices ? "" : s.device);
    if (s.op == "If") {  // the outputs that carry saved values, in output order
      std::vector<std::pair<int, DType>> extra;
      for (int f : owned)
        for (size_t k = 0; k < g.frame(f).saved_outputs.size(); ++k)
          extra.emplace_back(g.frame(f).saved_outputs[k], g.frame(f).saved[k].dtype());
      std::sort(extra.begin(), extra.end(), [](auto& a, auto& b) { return a.first < b.first; });
      for (auto& [i, dt] : extra)
        if (g.append_output(n, dt, PartialShape::unknown()) != i) r.fail("node '" + s.name + "': bad saved outputs");
    }
    if (s.shapes.size() != n->out_shapes.size())
      r.fail("node '" + s.name + "' records " + std::to_string(s.shapes.size()) + " output shapes, its op has " +
             std::to_string(n->out_shapes.size()));
    for (size_t i = 0; i < s.shapes.size(); ++i) {
      if (!n->out_shapes[i].compatible_with(s.shapes[i]))
        throw value_error("Meta graph " + source + ": node '" + s.name + "' output " + std::to_string(i) +
                          " was recorded with shape " + s.shapes[i].str() + " but now infers " +
                          n->out_shapes[i].str());
      n->out_shapes[i] = n->out_shapes[i].merge(s.shapes[i]);
    }
    made.push_back(n);
  }
  result.nodes = std::move(made);
  return result;
}

ImportedGraph read_meta_graph(Graph& g, const std::string& path, const ImportOptions& opts) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::NotFound, "Meta graph file " + path + " does not exist or cannot be opened");
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw Error(ErrorCode::DataLoss, "could not read meta graph file " + path);
  return import_meta_graph(g, bytes, opts, path);
}

}  // namespace tideflow
