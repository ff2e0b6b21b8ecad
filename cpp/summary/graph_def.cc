#include "summary/graph_def.h"

#include <cstring>

#include "graph.h"
#include "summary/protobuf_lite.h"

namespace tideflow {

int tf_datatype(DType d) {
  switch (d) {
    case DType::Float32: return 1;
    case DType::Float64: return 2;
    case DType::Int32: return 3;
    case DType::String: return 7;
    case DType::Int64: return 9;
    case DType::Bool: return 10;
    case DType::Variant: return 21;
    case DType::UInt8: return 4;
    case DType::Int16: return 5;
    case DType::Int8: return 6;
    case DType::BFloat16: return 14;
    case DType::UInt16: return 17;
    case DType::Float16: return 19;
  }
  return 0;  // DT_INVALID
}

std::string tensor_shape_proto(const PartialShape& s) {
  pb::Writer w;
  if (!s.known_rank) {
    w.boolean(3, true);  // unknown_rank
    return w.release();
  }
  for (int64_t d : s.dims) {
    pb::Writer dim;
    dim.implicit_int64(1, d < 0 ? -1 : d);  // Dim.size; -1 marks an unknown dimension
    w.message(2, dim);
  }
  return w.release();
}

std::string tensor_proto(const Tensor& t, bool with_values) {
  pb::Writer w;
  w.implicit_int64(1, tf_datatype(t.dtype()));
  w.bytes(2, tensor_shape_proto(PartialShape(t.dims())));
  if (!with_values) return w.release();
  if (t.dtype() == DType::String) {
    for (const auto& s : t.string_values()) w.bytes(8, s);  // string_val
  } else if (t.size() > 0) {
    // tensor_content is the raw little-endian buffer; every platform tideflow builds on is little endian.
    w.bytes(4, std::string_view(static_cast<const char*>(t.raw()), t.nbytes()));
  }
  return w.release();
}

namespace {

std::string input_name(const Output& o) {
  return o.index == 0 ? o.node->name : o.node->name + ":" + std::to_string(o.index);
}

// AttrValue (attr_value.proto): list=1 s=2 i=3 f=4 b=5 type=6 shape=7 tensor=8;
// ListValue: s=2 i=3 f=4 b=5 type=6 shape=7 (numbers packed).
std::string attr_value(const AttrValue& v) {
  pb::Writer w;
  std::visit(
      [&](auto&& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
        } else if constexpr (std::is_same_v<T, bool>) {
          w.boolean(5, x);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          w.int64(3, x);
        } else if constexpr (std::is_same_v<T, double>) {
          w.f32(4, (float)x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          w.bytes(2, x);
        } else if constexpr (std::is_same_v<T, DType>) {
          w.varint(6, (uint64_t)tf_datatype(x));
        } else if constexpr (std::is_same_v<T, PartialShape>) {
          w.bytes(7, tensor_shape_proto(x));
        } else if constexpr (std::is_same_v<T, Tensor>) {
          w.bytes(8, tensor_proto(x, x.size() <= kGraphDefMaxInlineElements));
        } else {
          pb::Writer list;
          if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
            list.packed_varint(3, x);
          } else if constexpr (std::is_same_v<T, std::vector<double>>) {
            list.packed_f32(4, std::vector<float>(x.begin(), x.end()));
          } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            for (auto& s : x) list.bytes(2, s);
          } else if constexpr (std::is_same_v<T, std::vector<DType>>) {
            std::vector<int64_t> types;
            for (DType d : x) types.push_back(tf_datatype(d));
            list.packed_varint(6, types);
          }
          w.message(1, list);
        }
      },
      v);
  return w.release();
}

void add_attr(pb::Writer& node, const std::string& key, const std::string& value) {
  pb::Writer entry;  // map<string, AttrValue> entries are messages {key = 1, value = 2}
  entry.bytes(1, key);
  entry.bytes(2, value);
  node.message(5, entry);
}

}  // namespace

std::string graph_to_graph_def(const Graph& g) {
  pb::Writer graph;
  for (const auto& n : g.nodes()) {
    pb::Writer node;
    node.bytes(1, n->name);
    node.bytes(2, n->type());
    for (const Output& in : n->inputs) node.bytes(3, input_name(in));
    for (const Node* c : n->control_inputs) node.bytes(3, "^" + c->name);
    if (!n->device.empty()) node.bytes(4, n->device);
    for (const auto& kv : n->attrs) {
      if (std::holds_alternative<std::monostate>(kv.second)) continue;
      add_attr(node, kv.first, attr_value(kv.second));
    }
    if (n->num_outputs() > 0) {
      pb::Writer list;
      for (const auto& s : n->out_shapes) list.bytes(7, tensor_shape_proto(s));
      pb::Writer shapes;
      shapes.message(1, list);
      add_attr(node, "_output_shapes", shapes.data());
    }
    graph.message(1, node);
  }
  pb::Writer versions;
  versions.int64(1, 27);  // VersionDef.producer
  graph.message(4, versions);
  return graph.release();
}

}  // namespace tideflow
