// Bindings for event files, GraphDef export and summaries.
#include <cfloat>
#include <cmath>
#include <cstring>

#include "bindings_util.h"
#include "checksum.h"
#include "summary/event_writer.h"
#include "summary/graph_def.h"
#include "summary/protobuf_lite.h"

namespace tideflow_py {

namespace {
std::string bytes_of(nb::bytes b) { return std::string(b.c_str(), b.size()); }

// Note [one protobuf encoder]
// The protobuf wire format is written and read in one place, pb::Writer and pb::Reader
// (summary/protobuf_lite.h): the event writer, the summary kernels and the GraphDef export use them
// directly, and summary.py's message classes (Summary, Event, HistogramProto...) hand their fields here
// as (field number, kind, value) and get the bytes back, or bytes and get (field number, value) pairs.
// Python keeps only the schema: field names, numbers and kinds, which its message objects need anyway.
// Kinds (summary.py's _CODES): a scalar kind, or kPacked | kind for a proto3 packed repeated field.
enum PbKind : int { kInt = 0, kBool = 1, kDouble = 2, kFloat = 3, kBytes = 4, kPacked = 8 };

// int32/int64 fields: any Python int, two's complement in 64 bits (protobuf's varint of a negative int64).
uint64_t pb_u64(nb::handle h) {
  unsigned long long v = PyLong_AsUnsignedLongLongMask(h.ptr());
  if (v == (unsigned long long)-1 && PyErr_Occurred()) throw nb::python_error();
  return v;
}

// Protobuf stores a double beyond float's range in a float field as an infinity (its Python type checker
// does the same), rather than leaving the conversion undefined.
float pb_f32(nb::handle h) {
  double d = nb::cast<double>(h);
  if (std::fabs(d) > FLT_MAX && std::isfinite(d)) return d > 0 ? INFINITY : -INFINITY;
  return (float)d;
}

nb::bytes pb_encode(nb::list fields) {
  pb::Writer w;
  for (nb::handle item : fields) {
    nb::tuple t = nb::cast<nb::tuple>(item);
    int num = nb::cast<int>(t[0]), kind = nb::cast<int>(t[1]);
    nb::handle v = t[2];
    switch (kind) {
      case kInt: w.int64(num, (int64_t)pb_u64(v)); break;
      case kBool: w.boolean(num, PyObject_IsTrue(v.ptr()) == 1); break;
      case kDouble: w.f64(num, nb::cast<double>(v)); break;
      case kFloat: w.f32(num, pb_f32(v)); break;
      case kBytes: {
        nb::bytes b = nb::cast<nb::bytes>(v);
        w.bytes(num, std::string_view(b.c_str(), b.size()));
        break;
      }
      case kPacked | kInt:
      case kPacked | kBool: {
        std::vector<int64_t> xs;
        for (nb::handle x : v) xs.push_back(kind == (kPacked | kInt) ? (int64_t)pb_u64(x) : PyObject_IsTrue(x.ptr()) == 1);
        w.packed_varint(num, xs);
        break;
      }
      case kPacked | kDouble: w.packed_f64(num, nb::cast<std::vector<double>>(v)); break;
      case kPacked | kFloat: {
        std::vector<float> xs;
        for (nb::handle x : v) xs.push_back(pb_f32(x));
        w.packed_f32(num, xs);
        break;
      }
      default: throw value_error("pb_encode: unknown field kind " + std::to_string(kind));
    }
  }
  return nb::bytes(w.data().data(), w.size());
}

nb::object pb_scalar(int kind, uint64_t v) {
  switch (kind) {
    case kInt: return nb::int_((int64_t)v);
    case kBool: return nb::bool_(v != 0);
    case kDouble: {
      double d;
      std::memcpy(&d, &v, 8);
      return nb::float_(d);
    }
    default: {
      uint32_t u = (uint32_t)v;
      float f;
      std::memcpy(&f, &u, 4);
      return nb::float_((double)f);
    }
  }
}

// Fields whose number is not in `kinds`, or whose wire type does not fit the kind, are skipped as unknown
// fields, as protobuf does. A packed field comes back as a list.
nb::list pb_decode(nb::bytes data, nb::dict kinds) {
  nb::list out;
  try {
    pb::Reader r(std::string_view(data.c_str(), data.size()));
    pb::Reader::Field f;
    while (r.next(&f)) {
      nb::object key = nb::int_(f.number);
      if (!kinds.contains(key)) continue;
      int kind = nb::cast<int>(kinds[key]);
      const pb::WireType want = kind == kDouble ? pb::kFixed64 : kind == kFloat ? pb::kFixed32 : pb::kVarint;
      if (kind == kBytes) {
        if (f.type != pb::kLengthDelimited) continue;
        out.append(nb::make_tuple(f.number, nb::bytes(f.bytes.data(), f.bytes.size())));
      } else if (f.type == want) {
        out.append(nb::make_tuple(f.number, pb_scalar(kind, f.value)));
      } else if (f.type == pb::kLengthDelimited) {
        pb::Reader packed(f.bytes);
        nb::list xs;
        while (!packed.done())
          xs.append(pb_scalar(kind, want == pb::kVarint ? packed.read_varint() : packed.read_fixed(want == pb::kFixed64 ? 8 : 4)));
        out.append(nb::make_tuple(f.number, xs));
      }
    }
  } catch (const Error&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw value_error(std::string("Error parsing message: ") + e.what());
  }
  return out;
}
}  // namespace

void bind_summary(nb::module_& m) {
  nb::class_<EventWriter>(m, "EventWriter")
      .def(nb::init<std::string, int, double, std::string>(), "logdir"_a, "max_queue"_a = 10,
           "flush_secs"_a = 120.0, "filename_suffix"_a = "")
      .def("add_event", [](EventWriter& w, nb::bytes e) { w.add_event(bytes_of(e)); })
      .def("add_summary", [](EventWriter& w, nb::bytes s, int64_t step, double wall_time) {
        w.add_summary(bytes_of(s), step, wall_time);
      }, "summary"_a, "step"_a, "wall_time"_a = -1.0)
      .def("add_scalar", &EventWriter::add_scalar, "tag"_a, "value"_a, "step"_a, "wall_time"_a = -1.0)
      .def("add_graph_def", [](EventWriter& w, nb::bytes g, int64_t step, double wall_time) {
        w.add_graph_def(bytes_of(g), step, wall_time);
      }, "graph_def"_a, "step"_a = 0, "wall_time"_a = -1.0)
      .def("add_session_log", &EventWriter::add_session_log, "status"_a, "msg"_a, "checkpoint_path"_a, "step"_a,
           "wall_time"_a = -1.0)
      .def("flush", &EventWriter::flush, nb::call_guard<nb::gil_scoped_release>())
      .def("close", &EventWriter::close, nb::call_guard<nb::gil_scoped_release>())
      .def("reopen", &EventWriter::reopen)
      .def_prop_ro("closed", &EventWriter::closed)
      .def_prop_ro("logdir", &EventWriter::logdir)
      .def_prop_ro("filename", &EventWriter::filename);

  // TFRecord files (tf.python_io, python/tideflow/tfrecord.py): the framing event files use.
  m.def("tfrecord_frame", [](nb::bytes data) {
    std::string s = tfrecord_frame(bytes_of(data));
    return nb::bytes(s.data(), s.size());
  }, "data"_a, "A TFRecord: length (uint64 LE), its masked CRC-32C, the data, the data's masked CRC-32C.");
  m.def("masked_crc32c", [](nb::bytes data) { return crc32c_mask(crc32c(data.c_str(), data.size())); },
        "data"_a, "TFRecord's masked CRC-32C (Castagnoli) of `data`.");

  m.def("pb_encode", &pb_encode, "fields"_a);
  m.def("pb_decode", &pb_decode, "data"_a, "kinds"_a);

  m.def("graph_def", [](const Graph& g) {
    std::string s = graph_to_graph_def(g);
    return nb::bytes(s.data(), s.size());
  });
}

}  // namespace tideflow_py
