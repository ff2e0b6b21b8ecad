#pragma once
// TensorFlow's protobuf messages (GraphDef, MetaGraphDef, the tensor bundle's entries...) read and written
// without a protobuf library: a generic message tree, decoded from and encoded to the binary wire format
// and protobuf's text format with the layouts in tf_schema.inc. See Note [TensorFlow protobufs].
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tensor.h"

namespace tideflow {
namespace tfpb {

enum class Kind : uint8_t {
  Double, Float, Int64, UInt64, Int32, UInt32, SInt32, SInt64, Fixed32, Fixed64, SFixed32, SFixed64, Bool, String,
  Bytes, Enum, Message
};

struct FieldSpec {
  const char* name;
  int number;
  Kind kind;
  bool repeated;
  const char* type_name;  // message or enum type, "" for scalars
  int oneof;              // index into MessageSpec::oneofs, -1 when none
  bool presence;          // a singular field whose presence is tracked (oneof member or sub-message)
};
struct TF_API MessageSpec {
  const char* name;  // "tensorflow.GraphDef"
  const FieldSpec* fields;  // sorted by number
  int num_fields;
  bool map_entry;  // a map<K, V> entry {key = 1, value = 2}
  const char* const* oneofs;
  int num_oneofs;
  const FieldSpec* field(int number) const;
  const FieldSpec* field(std::string_view name) const;
};
struct EnumValueSpec {
  const char* name;
  int number;
};
struct TF_API EnumSpec {
  const char* name;
  const EnumValueSpec* values;
  int num_values;
  const char* value_name(int64_t number) const;  // nullptr if unknown
};

// nullptr when the type is not in the schema.
TF_API const MessageSpec* find_message(std::string_view full_name);
TF_API const EnumSpec* find_enum(std::string_view full_name);
TF_API const MessageSpec& message_spec(std::string_view full_name);  // throws InvalidArgument
TF_API std::vector<const MessageSpec*> all_messages();
TF_API std::vector<const EnumSpec*> all_enums();
TF_API const char* kind_name(Kind k);

struct Message;

// One value of a field. Integers of every width, bools and enums live in `i` (unsigned 64-bit values as
// their bit pattern), float and double in `d`, strings and bytes in `s`, sub-messages in `m`.
struct Value {
  int64_t i = 0;
  double d = 0;
  std::string s;
  std::unique_ptr<Message> m;
};

struct Field {
  const FieldSpec* spec;
  std::vector<Value> values;  // one for a singular field
};

// A message: the fields present, in field-number order.
struct TF_API Message {
  const MessageSpec* spec = nullptr;
  std::vector<Field> fields;

  Message() = default;
  explicit Message(const MessageSpec& s) : spec(&s) {}
  explicit Message(std::string_view type) : spec(&message_spec(type)) {}
  Message(const Message& o) { *this = o; }
  Message& operator=(const Message& o);
  Message(Message&&) = default;
  Message& operator=(Message&&) = default;

  const Field* find(std::string_view name) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }
  // Singular readers give the field's default when it is absent.
  int64_t i(std::string_view name, int64_t dflt = 0) const;
  double d(std::string_view name, double dflt = 0) const;
  const std::string& s(std::string_view name) const;
  const Message* msg(std::string_view name) const;  // nullptr when absent
  // Repeated readers.
  std::vector<const Message*> msgs(std::string_view name) const;
  const std::vector<Value>* values(std::string_view name) const;  // nullptr when absent

  // Writers: create the field (keeping number order) and set / append. Setting a oneof member clears the
  // others.
  Field& field(std::string_view name);
  void set_i(std::string_view name, int64_t v);
  void set_d(std::string_view name, double v);
  void set_s(std::string_view name, std::string v);
  Message& set_msg(std::string_view name);  // the (new, empty or existing) sub-message
  void add_i(std::string_view name, int64_t v);
  void add_s(std::string_view name, std::string v);
  Message& add_msg(std::string_view name);
  void clear(std::string_view name);
};

// Decodes the wire format. Errors: DataLoss naming `what` and the field path for truncated or malformed
// input (a bad varint, a length beyond the end, a wire type that does not fit the field, invalid UTF-8 in
// a string field, nesting deeper than 100). Unknown fields are skipped.
TF_API Message decode(const MessageSpec& spec, std::string_view data, const std::string& what);
TF_API std::string encode(const Message& m);
// protobuf's text format (as TensorFlow's *.pbtxt files): `name: value`, `name { ... }`, enums by name,
// C-escaped strings, `[type.googleapis.com/...] { }` for Any fields. Errors: DataLoss with line and column.
TF_API Message parse_text(const MessageSpec& spec, std::string_view text, const std::string& what);
TF_API std::string to_text(const Message& m);

// ---- tensors ----
// TensorFlow's DataType values for tideflow's dtypes, and the names of all of them ("DT_HALF").
TF_API int datatype_of(DType d);
TF_API bool dtype_of_datatype(int64_t datatype, DType* out);  // false for types tideflow lacks
TF_API std::string datatype_name(int64_t datatype);

// A TensorProto's value: tensor_content (exactly dtype x shape bytes) or the typed repeated fields (the last
// value repeats to fill the shape, as TensorFlow reads them). Sizes are checked before anything is
// allocated; DataLoss for an inconsistent proto, Unimplemented for a dtype tideflow lacks.
TF_API Tensor tensor_from_proto(const Message& tensor_proto, const std::string& what);
TF_API Message tensor_to_proto(const Tensor& t);
TF_API Message shape_to_proto(const PartialShape& s);
TF_API PartialShape shape_from_proto(const Message& shape_proto, const std::string& what);

}  // namespace tfpb
}  // namespace tideflow
