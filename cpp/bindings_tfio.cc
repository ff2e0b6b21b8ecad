// Bindings for TensorFlow's own files: protobuf messages as Python dicts, tensor bundles (V2 checkpoints).
// Convert, call, return.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/tuple.h>

#include "bindings_util.h"
#include "io/tf_bundle.h"
#include "io/tf_proto.h"
#include "session.h"

namespace tideflow_py {

namespace {

using tfpb::Kind;

bool is_unsigned(Kind k) { return k == Kind::UInt64 || k == Kind::Fixed64 || k == Kind::UInt32 || k == Kind::Fixed32; }

nb::object scalar_to_py(const tfpb::FieldSpec& fs, const tfpb::Value& v);
nb::dict message_to_py(const tfpb::Message& m);

nb::object scalar_to_py(const tfpb::FieldSpec& fs, const tfpb::Value& v) {
  switch (fs.kind) {
    case Kind::Float: case Kind::Double: return nb::float_(v.d);
    case Kind::Bool: return nb::bool_(v.i != 0);
    case Kind::String: return nb::str(v.s.data(), v.s.size());
    case Kind::Bytes: return nb::bytes(v.s.data(), v.s.size());
    case Kind::Message: return v.m ? nb::object(message_to_py(*v.m)) : nb::object(nb::dict());
    default: return is_unsigned(fs.kind) ? nb::cast((uint64_t)v.i) : nb::cast(v.i);
  }
}

// {field: value}; repeated fields as lists, map fields as dicts, sub-messages as dicts.
nb::dict message_to_py(const tfpb::Message& m) {
  nb::dict d;
  for (const tfpb::Field& f : m.fields) {
    const tfpb::FieldSpec& fs = *f.spec;
    const tfpb::MessageSpec* sub = fs.kind == Kind::Message ? tfpb::find_message(fs.type_name) : nullptr;
    if (sub && sub->map_entry) {
      nb::dict map;
      const tfpb::FieldSpec* kf = sub->field(1);
      const tfpb::FieldSpec* vf = sub->field(2);
      for (const tfpb::Value& e : f.values) {
        const tfpb::Field* k = e.m ? e.m->find("key") : nullptr;
        const tfpb::Field* val = e.m ? e.m->find("value") : nullptr;
        tfpb::Value empty;
        nb::object key = scalar_to_py(*kf, k && !k->values.empty() ? k->values.back() : empty);
        map[key] = (val && !val->values.empty()) ? scalar_to_py(*vf, val->values.back())
                   : vf->kind == Kind::Message ? nb::object(nb::dict()) : scalar_to_py(*vf, empty);
      }
      d[fs.name] = map;
    } else if (fs.repeated) {
      nb::list l;
      for (const tfpb::Value& v : f.values) l.append(scalar_to_py(fs, v));
      d[fs.name] = l;
    } else if (!f.values.empty()) {
      d[fs.name] = scalar_to_py(fs, f.values.back());
    }
  }
  return d;
}

void message_from_py(tfpb::Message& m, nb::handle obj, const std::string& path);

tfpb::Value scalar_from_py(const tfpb::FieldSpec& fs, nb::handle h, const std::string& path) {
  tfpb::Value v;
  auto bad = [&](const char* want) {
    return type_error(path + ": expected " + want + " for a " + tfpb::kind_name(fs.kind) + " field, got " +
                      nb::cast<std::string>(nb::str(h.type().attr("__name__"))));
  };
  switch (fs.kind) {
    case Kind::Message:
      v.m = std::make_unique<tfpb::Message>(tfpb::message_spec(fs.type_name));
      message_from_py(*v.m, h, path);
      return v;
    case Kind::Float: case Kind::Double:
      if (!nb::isinstance<nb::float_>(h) && !nb::isinstance<nb::int_>(h) && !nb::hasattr(h, "__float__")) throw bad("a number");
      v.d = nb::cast<double>(nb::float_(h));
      if (fs.kind == Kind::Float) v.d = (float)v.d;
      return v;
    case Kind::String: case Kind::Bytes:
      if (nb::isinstance<nb::str>(h)) v.s = nb::cast<std::string>(h);
      else if (nb::isinstance<nb::bytes>(h)) v.s = std::string(nb::borrow<nb::bytes>(h).c_str(), nb::len(h));
      else throw bad("str or bytes");
      return v;
    case Kind::Bool:
      v.i = nb::cast<bool>(nb::bool_(h));
      return v;
    default: {
      if (nb::isinstance<nb::float_>(h) || nb::isinstance<nb::str>(h) || nb::isinstance<nb::bytes>(h)) throw bad("an int");
      nb::int_ iv(h);
      if (is_unsigned(fs.kind)) {
        if (nb::cast<bool>(iv.attr("__lt__")(0))) throw value_error(path + ": negative value for an unsigned field");
        v.i = (int64_t)nb::cast<uint64_t>(iv);
      } else {
        v.i = nb::cast<int64_t>(iv);
      }
      bool is32 = fs.kind == Kind::Int32 || fs.kind == Kind::SInt32 || fs.kind == Kind::SFixed32 || fs.kind == Kind::Enum;
      if (is32 && (v.i < INT32_MIN || v.i > INT32_MAX)) throw value_error(path + ": value out of range for int32");
      if ((fs.kind == Kind::UInt32 || fs.kind == Kind::Fixed32) && (uint64_t)v.i > UINT32_MAX)
        throw value_error(path + ": value out of range for uint32");
      return v;
    }
  }
}

void message_from_py(tfpb::Message& m, nb::handle obj, const std::string& path) {
  if (!nb::isinstance<nb::dict>(obj)) throw type_error(path + ": expected a dict for message " + m.spec->name);
  for (auto [k, val] : nb::borrow<nb::dict>(obj)) {
    std::string name = nb::cast<std::string>(k);
    const tfpb::FieldSpec* fs = m.spec->field(name);
    if (!fs) throw value_error(std::string("protobuf message ") + m.spec->name + " has no field '" + name + "'");
    std::string fpath = path + "." + name;
    const tfpb::MessageSpec* sub = fs->kind == Kind::Message ? tfpb::find_message(fs->type_name) : nullptr;
    tfpb::Field& f = m.field(name);
    if (sub && sub->map_entry) {
      for (auto [mk, mv] : nb::borrow<nb::dict>(val)) {
        tfpb::Value e;
        e.m = std::make_unique<tfpb::Message>(*sub);
        e.m->field("key").values.push_back(scalar_from_py(*sub->field(1), mk, fpath + "[key]"));
        e.m->field("value").values.push_back(scalar_from_py(*sub->field(2), mv, fpath + "[value]"));
        f.values.push_back(std::move(e));
      }
    } else if (fs->repeated) {
      for (nb::handle x : val) f.values.push_back(scalar_from_py(*fs, x, fpath));
    } else {
      f.values.clear();
      f.values.push_back(scalar_from_py(*fs, val, fpath));
    }
  }
}

tfpb::Message from_py(const std::string& type, nb::handle obj) {
  tfpb::Message m(type);
  message_from_py(m, obj, type);
  return m;
}

std::string bytes_arg(nb::handle h) {
  if (nb::isinstance<nb::str>(h)) return nb::cast<std::string>(h);
  nb::bytes b = nb::bytes(h);
  return std::string(b.c_str(), b.size());
}

std::vector<BundleVar> bundle_vars(Session& s, const std::vector<std::string>& names, const std::vector<int>& ids,
                                   nb::list slices) {
  if (names.size() != ids.size() || names.size() != nb::len(slices))
    throw invalid_argument("one checkpoint name, node and slice per variable expected");
  std::vector<BundleVar> v;
  for (size_t i = 0; i < names.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= s.graph().num_nodes()) throw invalid_argument("no node with id " + std::to_string(ids[i]));
    BundleVar b{names[i], s.graph().node(ids[i]), {}, {}};
    if (!slices[i].is_none()) {  // (full_shape, [(start, length)...])
      nb::tuple t = nb::borrow<nb::tuple>(slices[i]);
      b.full_shape = nb::cast<Dims>(t[0]);
      b.slice = nb::cast<TensorSlice>(t[1]);
    }
    v.push_back(std::move(b));
  }
  return v;
}

}  // namespace

void bind_tfio(nb::module_& m) {
  m.def("tf_proto_schema", [] {
    nb::dict messages, enums;
    for (const tfpb::MessageSpec* s : tfpb::all_messages()) {
      nb::list fields;
      for (int i = 0; i < s->num_fields; ++i) {
        const tfpb::FieldSpec& f = s->fields[i];
        fields.append(nb::make_tuple(f.name, f.number, tfpb::kind_name(f.kind), f.repeated, f.type_name,
                                     f.oneof >= 0 ? nb::object(nb::str(s->oneofs[f.oneof])) : nb::none(), f.presence));
      }
      messages[s->name] = nb::make_tuple(fields, s->map_entry);
    }
    for (const tfpb::EnumSpec* e : tfpb::all_enums()) {
      nb::list values;
      for (int i = 0; i < e->num_values; ++i) values.append(nb::make_tuple(e->values[i].name, e->values[i].number));
      enums[e->name] = values;
    }
    return nb::make_tuple(messages, enums);
  });
  m.def("tf_proto_decode", [](const std::string& type, nb::handle data, const std::string& what) {
    return message_to_py(tfpb::decode(tfpb::message_spec(type), bytes_arg(data), what));
  });
  m.def("tf_proto_parse_text", [](const std::string& type, nb::handle text, const std::string& what) {
    return message_to_py(tfpb::parse_text(tfpb::message_spec(type), bytes_arg(text), what));
  });
  m.def("tf_proto_encode", [](const std::string& type, nb::handle obj) {
    std::string b = tfpb::encode(from_py(type, obj));
    return nb::bytes(b.data(), b.size());
  });
  m.def("tf_proto_to_text", [](const std::string& type, nb::handle obj) { return tfpb::to_text(from_py(type, obj)); });
  m.def("tf_tensor_from_proto", [](nb::handle proto, const std::string& what) {
    return tensor_to_py(tfpb::tensor_from_proto(from_py("tensorflow.TensorProto", proto), what));
  });
  m.def("tf_tensor_to_proto", [](nb::handle value) { return message_to_py(tfpb::tensor_to_proto(tensor_from_py(value))); });
  m.def("tf_datatype_name", [](int64_t t) { return tfpb::datatype_name(t); });

  nb::class_<TfBundleReader>(m, "TfBundleReader")
      .def("__init__", [](TfBundleReader* r, const std::string& prefix) {
        nb::gil_scoped_release g;
        new (r) TfBundleReader(prefix);
      })
      .def_prop_ro("prefix", &TfBundleReader::prefix)
      .def("has", &TfBundleReader::has)
      .def("entries", [](const TfBundleReader& r) {  // [(name, DataType, shape, partitioned)] sorted by name
        std::vector<std::tuple<std::string, int64_t, Dims, bool>> v;
        for (auto& kv : r.entries()) v.emplace_back(kv.first, kv.second.dtype, kv.second.shape, !kv.second.slices.empty());
        return v;
      })
      .def("read", [](const TfBundleReader& r, const std::string& name) {
        Tensor t;
        {
          nb::gil_scoped_release g;
          t = r.read(name);
        }
        return tensor_to_py(t);
      })
      .def("read_slice", [](const TfBundleReader& r, const std::string& name, const TensorSlice& slice) {
        Tensor t;
        {
          nb::gil_scoped_release g;
          t = r.read_slice(name, slice);
        }
        return tensor_to_py(t);
      });

  m.def("write_tf_bundle", [](const std::string& prefix, const std::vector<std::string>& names, nb::list values) {
    if (names.size() != nb::len(values)) throw invalid_argument("one value per tensor name expected");
    std::vector<BundleTensor> ts;
    for (size_t i = 0; i < names.size(); ++i) ts.push_back(BundleTensor{names[i], tensor_from_py(values[i]), {}, {}});
    nb::gil_scoped_release r;
    write_tf_bundle(prefix, ts);
  });
  m.def("save_variables_tf", [](Session& s, const std::string& prefix, const std::vector<std::string>& names,
                                const std::vector<int>& ids, nb::list slices) {
    auto vars = bundle_vars(s, names, ids, slices);
    nb::gil_scoped_release r;
    save_variables_tf(s, prefix, vars);
  });
  m.def("restore_variables_tf", [](Session& s, const std::string& prefix, const std::vector<std::string>& names,
                                   const std::vector<int>& ids, nb::list slices) {
    auto vars = bundle_vars(s, names, ids, slices);
    nb::gil_scoped_release r;
    restore_variables_tf(s, prefix, vars);
  });
}

}  // namespace tideflow_py
