// Python bindings: convert, call, return. No logic lives here.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstring>

#include "gradients.h"
#include "op_registry.h"
#include "plan.h"
#include "session.h"

namespace nb = nanobind;
using namespace nb::literals;
using namespace tideflow;

namespace {

// ErrorCode -> Python exception class, filled by tideflow.framework.errors. Deliberately leaked: a static
// Python object would be released after the interpreter is gone.
PyObject* g_error_classes = nullptr;

// ---- tensors <-> NumPy ----
DType dtype_from_dlpack(nb::dlpack::dtype d) {
  using C = nb::dlpack::dtype_code;
  if (d.code == (uint8_t)C::Float && d.bits == 32) return DType::Float32;
  if (d.code == (uint8_t)C::Float && d.bits == 64) return DType::Float64;
  if (d.code == (uint8_t)C::Int && d.bits == 32) return DType::Int32;
  if (d.code == (uint8_t)C::Int && d.bits == 64) return DType::Int64;
  if (d.code == (uint8_t)C::Bool && d.bits == 8) return DType::Bool;
  throw type_error("unsupported array dtype for a tideflow tensor");
}

nb::dlpack::dtype dlpack_from_dtype(DType d) {
  switch (d) {
    case DType::Float32: return nb::dtype<float>();
    case DType::Float64: return nb::dtype<double>();
    case DType::Int32: return nb::dtype<int32_t>();
    case DType::Int64: return nb::dtype<int64_t>();
    case DType::Bool: return nb::dtype<bool>();
    default: throw type_error("no NumPy dtype for string tensors");
  }
}

// A C-contiguous array is wrapped, not copied: the tensor borrows its memory and keeps it alive.
Tensor tensor_from_array(nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu> a) {
  DType dt = dtype_from_dlpack(a.dtype());
  Dims dims(a.ndim());
  for (size_t i = 0; i < a.ndim(); ++i) dims[i] = (int64_t)a.shape(i);
  auto buf = std::make_shared<Buffer>();
  buf->data = const_cast<void*>(a.data());
  buf->nbytes = (size_t)num_elements(dims) * dtype_size(dt);
  using Array = nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>;
  auto* keep = new Array(a);
  buf->release = [keep] {
    nb::gil_scoped_acquire g;
    delete keep;
  };
  if (!buf->data) buf->data = buf.get();  // empty arrays may have no data pointer
  return Tensor(dt, std::move(dims), std::move(buf));
}

Tensor tensor_from_py(nb::handle h) {
  if (nb::isinstance<nb::bytes>(h)) {
    nb::bytes b = nb::borrow<nb::bytes>(h);
    return Tensor::string_scalar(std::string(b.c_str(), b.size()));
  }
  if (nb::isinstance<nb::tuple>(h)) {  // ("strings", shape, [bytes...]) from the Python layer
    nb::tuple t = nb::borrow<nb::tuple>(h);
    std::vector<int64_t> dims = nb::cast<std::vector<int64_t>>(t[1]);
    std::vector<std::string> vals;
    for (nb::handle x : t[2]) {
      nb::bytes b = nb::borrow<nb::bytes>(x);
      vals.emplace_back(b.c_str(), b.size());
    }
    return Tensor::strings(dims, std::move(vals));
  }
  return tensor_from_array(nb::cast<nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>>(h));
}

// A fetched tensor becomes an ndarray over the same buffer, which the array keeps alive.
nb::object tensor_to_py(const Tensor& t) {
  if (t.dtype() == DType::String) {
    auto bytes = [&](const std::string& s) { return nb::bytes(s.data(), s.size()); };
    if (t.rank() == 0) return bytes(t.string_values()[0]);
    nb::list l;
    for (auto& s : t.string_values()) l.append(bytes(s));
    nb::object np = nb::module_::import_("numpy");
    return np.attr("array")(l, "dtype"_a = "object").attr("reshape")(nb::cast(t.dims()));
  }
  auto* holder = new std::shared_ptr<Buffer>(t.buffer());
  nb::capsule owner(holder, [](void* p) noexcept { delete static_cast<std::shared_ptr<Buffer>*>(p); });
  std::vector<size_t> shape(t.dims().begin(), t.dims().end());
  return nb::cast(nb::ndarray<nb::numpy>(t.raw(), shape.size(), shape.data(), owner, nullptr,
                                        dlpack_from_dtype(t.dtype())));
}

nb::list tensors_to_py(const std::vector<Tensor>& ts) {
  nb::list l;
  for (auto& t : ts) l.append(tensor_to_py(t));
  return l;
}

// ---- attributes ----
PartialShape shape_from_py(nb::handle h) {
  if (h.is_none()) return PartialShape::unknown();
  Dims d;
  for (nb::handle x : h) d.push_back(x.is_none() ? -1 : nb::cast<int64_t>(x));
  return PartialShape(d);
}

nb::object shape_to_py(const PartialShape& s) {
  if (!s.known_rank) return nb::none();
  nb::list l;
  for (int64_t d : s.dims) l.append(d < 0 ? nb::none() : nb::cast(d));
  return l;
}

struct ShapeAttr {  // marks a Python value as a shape attribute: _core.Shape(None | [dims])
  PartialShape s;
};

AttrValue attr_from_py(nb::handle h) {
  if (nb::isinstance<nb::bool_>(h)) return nb::cast<bool>(h);
  if (nb::isinstance<nb::int_>(h)) return nb::cast<int64_t>(h);
  if (nb::isinstance<nb::float_>(h)) return nb::cast<double>(h);
  if (nb::isinstance<nb::str>(h)) return nb::cast<std::string>(h);
  if (nb::isinstance<nb::bytes>(h)) {
    nb::bytes b = nb::borrow<nb::bytes>(h);
    return std::string(b.c_str(), b.size());
  }
  if (nb::isinstance<DType>(h)) return nb::cast<DType>(h);
  if (nb::isinstance<ShapeAttr>(h)) return nb::cast<ShapeAttr>(h).s;
  bool tagged = nb::isinstance<nb::tuple>(h) && nb::len(h) == 3 && nb::isinstance<nb::str>(h[0]);
  if (!tagged && (nb::isinstance<nb::list>(h) || nb::isinstance<nb::tuple>(h))) {
    nb::sequence seq = nb::borrow<nb::sequence>(h);
    size_t n = nb::len(seq);
    if (n > 0 && nb::isinstance<nb::float_>(seq[0])) return nb::cast<std::vector<double>>(h);
    if (n > 0 && nb::isinstance<nb::str>(seq[0])) return nb::cast<std::vector<std::string>>(h);
    if (n > 0 && nb::isinstance<DType>(seq[0])) return nb::cast<std::vector<DType>>(h);
    return nb::cast<std::vector<int64_t>>(h);
  }
  Tensor t = tensor_from_py(h);
  return t.dtype() == DType::String ? t : t.deep_copy();  // attributes own their values
}

nb::object attr_to_py(const AttrValue& v) {
  return std::visit(
      [](auto&& x) -> nb::object {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) return nb::none();
        else if constexpr (std::is_same_v<T, PartialShape>) return nb::cast(ShapeAttr{x});
        else if constexpr (std::is_same_v<T, Tensor>) return tensor_to_py(x);
        else return nb::cast(x);
      },
      v);
}

AttrMap attrs_from_py(nb::dict d) {
  AttrMap m;
  for (auto [k, v] : d) m[nb::cast<std::string>(k)] = attr_from_py(v);
  return m;
}

// ---- graph handles: Python refers to nodes by id, outputs by (id, index) ----
using OutKey = std::pair<int, int>;

std::vector<Output> outputs_of(Graph& g, const std::vector<OutKey>& keys) {
  std::vector<Output> v;
  v.reserve(keys.size());
  for (auto& k : keys) v.push_back(Output{g.node(k.first), k.second});
  return v;
}

std::vector<Node*> nodes_of(Graph& g, const std::vector<int>& ids) {
  std::vector<Node*> v;
  v.reserve(ids.size());
  for (int id : ids) v.push_back(g.node(id));
  return v;
}

std::vector<Tensor> tensors_from_py(nb::list vals) {
  std::vector<Tensor> v;
  v.reserve(nb::len(vals));
  for (nb::handle h : vals) v.push_back(tensor_from_py(h));
  return v;
}

struct PyCallable {  // Session.make_callable: a prepared plan
  std::shared_ptr<Session> sess;
  std::shared_ptr<const Plan> plan;
};

}  // namespace

NB_MODULE(_core, m) {
  nb::enum_<DType>(m, "DType")
      .value("float32", DType::Float32)
      .value("float64", DType::Float64)
      .value("int32", DType::Int32)
      .value("int64", DType::Int64)
      .value("bool", DType::Bool)
      .value("string", DType::String);

  nb::class_<ShapeAttr>(m, "Shape")
      .def("__init__", [](ShapeAttr* s, nb::handle h) { new (s) ShapeAttr{shape_from_py(h)}; })
      .def_prop_ro("dims", [](const ShapeAttr& s) { return shape_to_py(s.s); });

  m.def("_set_error_classes", [](nb::dict d) {
    Py_XDECREF(g_error_classes);
    g_error_classes = d.inc_ref().ptr();
  });
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const Error& e) {
      nb::object key = nb::cast((int)e.code());
      PyObject* cls = g_error_classes ? PyDict_GetItem(g_error_classes, key.ptr()) : nullptr;
      if (cls) {
        PyErr_SetObject(cls, nb::str(e.what()).ptr());
      } else {
        PyErr_SetString(PyExc_RuntimeError, e.what());
      }
    }
  });

  nb::class_<Graph>(m, "Graph")
      .def(nb::init<>())
      .def("add_node",
           [](Graph& g, const std::string& type, const std::string& name, const std::vector<OutKey>& inputs,
              nb::dict attrs, const std::vector<int>& control, const std::string& loc, const std::string& dev) {
             return g.add_node(type, name, outputs_of(g, inputs), attrs_from_py(attrs), nodes_of(g, control), loc, dev)->id;
           })
      .def("unique_name", &Graph::unique_name, "name"_a, "mark_as_used"_a = true)
      .def("name_in_use", &Graph::name_in_use)
      .def("find", [](Graph& g, const std::string& n) { Node* x = g.find(n); return x ? x->id : -1; })
      .def("num_nodes", &Graph::num_nodes)
      .def("finalize", &Graph::finalize)
      .def_prop_ro("finalized", &Graph::finalized)
      .def("node_name", [](Graph& g, int id) { return g.node(id)->name; })
      .def("node_type", [](Graph& g, int id) { return g.node(id)->type(); })
      .def("node_location", [](Graph& g, int id) { return g.node(id)->location; })
      .def("node_device", [](Graph& g, int id) { return g.node(id)->device; })
      .def("node_inputs", [](Graph& g, int id) {
        std::vector<OutKey> v;
        for (auto& o : g.node(id)->inputs) v.emplace_back(o.node->id, o.index);
        return v;
      })
      .def("node_control_inputs", [](Graph& g, int id) {
        std::vector<int> v;
        for (Node* c : g.node(id)->control_inputs) v.push_back(c->id);
        return v;
      })
      .def("add_control_input", [](Graph& g, int id, int c) { g.node(id)->control_inputs.push_back(g.node(c)); })
      .def("node_num_outputs", [](Graph& g, int id) { return g.node(id)->num_outputs(); })
      .def("output_dtype", [](Graph& g, int id, int i) { return g.node(id)->out_dtypes.at(i); })
      .def("output_shape", [](Graph& g, int id, int i) { return shape_to_py(g.node(id)->out_shapes.at(i)); })
      .def("set_output_shape", [](Graph& g, int id, int i, nb::handle s) {
        Node* n = g.node(id);
        PartialShape ps = shape_from_py(s);
        if (!n->out_shapes.at(i).compatible_with(ps))
          throw value_error("Shapes " + n->out_shapes[i].str() + " and " + ps.str() + " are incompatible");
        n->out_shapes[i] = n->out_shapes[i].merge(ps);
      })
      .def("node_attrs", [](Graph& g, int id) {
        nb::dict d;
        for (auto& kv : g.node(id)->attrs) d[kv.first.c_str()] = attr_to_py(kv.second);
        return d;
      })
      .def("node_op_info", [](Graph& g, int id) {
        const OpDef* op = g.node(id)->op;
        return nb::make_tuple(op->stateful, op->ref_inputs);
      });

  nb::class_<Session>(m, "Session")
      .def("__init__", [](Session* s, std::shared_ptr<Graph> g, int inter, int intra) {
        new (s) Session(std::move(g), SessionOptions{inter, intra});
      })
      .def("run",
           [](Session& s, const std::vector<OutKey>& feeds, nb::list feed_values, const std::vector<OutKey>& fetches,
              const std::vector<int>& targets) {
             std::vector<Tensor> vals = tensors_from_py(feed_values);
             auto f = outputs_of(s.graph(), feeds);
             auto o = outputs_of(s.graph(), fetches);
             auto t = nodes_of(s.graph(), targets);
             std::vector<Tensor> out;
             {
               nb::gil_scoped_release r;
               out = s.run(f, std::move(vals), o, t);
             }
             return tensors_to_py(out);
           })
      .def("close", &Session::close)
      .def_prop_ro("closed", &Session::closed)
      .def("variable_value", [](Session& s, int id) -> nb::object {
        Tensor t = s.state().var(s.graph().node(id)).read();
        return t.valid() ? tensor_to_py(t) : nb::none();
      });

  nb::class_<PyCallable>(m, "Callable")
      .def("__call__", [](PyCallable& c, nb::list feed_values) {
        std::vector<Tensor> vals = tensors_from_py(feed_values);
        std::vector<Tensor> out;
        {
          nb::gil_scoped_release r;
          out = c.sess->run(*c.plan, std::move(vals));
        }
        return tensors_to_py(out);
      });

  m.def("make_callable", [](std::shared_ptr<Session> s, const std::vector<OutKey>& feeds,
                            const std::vector<OutKey>& fetches, const std::vector<int>& targets) {
    auto plan = s->prepare(outputs_of(s->graph(), feeds), outputs_of(s->graph(), fetches), nodes_of(s->graph(), targets));
    return PyCallable{s, plan};
  });

  m.def("gradients", [](Graph& g, const std::vector<OutKey>& ys, const std::vector<OutKey>& xs,
                        nb::list grad_ys, const std::vector<OutKey>& stop, const std::string& scope,
                        const std::string& location) {
    std::vector<Output> gy;
    for (nb::handle h : grad_ys) {
      if (h.is_none()) gy.push_back(Output{});
      else {
        auto k = nb::cast<OutKey>(h);
        gy.push_back(Output{g.node(k.first), k.second});
      }
    }
    auto res = gradients(g, outputs_of(g, ys), outputs_of(g, xs), gy, outputs_of(g, stop), scope, location);
    nb::list out;
    for (auto& o : res) out.append(o.valid() ? nb::cast(OutKey{o.node->id, o.index}) : nb::none());
    return out;
  });

  m.def("registered_ops", [] { return OpRegistry::global().names(); });
}
