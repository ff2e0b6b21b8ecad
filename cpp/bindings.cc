// Python bindings: convert, call, return. No logic lives here.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstring>

#include "bindings_util.h"
#include "gradients.h"
#include "op_registry.h"
#include "plan.h"
#include "session.h"

namespace nb = nanobind;
using namespace nb::literals;
using namespace tideflow;
using namespace tideflow_py;

namespace {

// ErrorCode -> Python exception class, filled by tideflow.framework.errors. Deliberately leaked: a static
// Python object would be released after the interpreter is gone.
PyObject* g_error_classes = nullptr;

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
  Prepared prepared;
};

// Session.run's cached path and a callable's call: the kernels run without the GIL.
nb::list run_prepared(Session& s, const Prepared& p, nb::list feed_values) {
  std::vector<Tensor> vals = tensors_from_py(feed_values);
  std::vector<Tensor> out;
  {
    nb::gil_scoped_release r;
    out = s.run(p, std::move(vals));
  }
  return tensors_to_py(out);
}

// The same with each node's timing: (outputs, [(node name, op type, input names, start us, end us, thread)]).
nb::tuple run_prepared_traced(Session& s, const Prepared& p, nb::list feed_values) {
  std::vector<Tensor> vals = tensors_from_py(feed_values), out;
  std::vector<NodeStat> stats;
  {
    nb::gil_scoped_release r;
    out = s.run_traced(p, std::move(vals), &stats);
  }
  nb::list nodes;
  for (const NodeStat& st : stats) {
    nb::list ins;
    for (const Output& o : st.node->inputs) ins.append(o.index ? o.node->name + ":" + std::to_string(o.index) : o.node->name);
    nodes.append(nb::make_tuple(st.node->name, st.node->type(), ins, st.start_us, st.end_us, st.thread));
  }
  return nb::make_tuple(tensors_to_py(out), nodes);
}

}  // namespace

NB_MODULE(_core, m) {
  nb::enum_<DType>(m, "DType")
      .value("float32", DType::Float32)
      .value("float64", DType::Float64)
      .value("int32", DType::Int32)
      .value("int64", DType::Int64)
      .value("bool", DType::Bool)
      .value("string", DType::String)
      .value("variant", DType::Variant)
      .value("uint8", DType::UInt8)
      .value("int8", DType::Int8)
      .value("int16", DType::Int16)
      .value("uint16", DType::UInt16)
      .value("float16", DType::Float16)
      .value("bfloat16", DType::BFloat16);

  nb::class_<ShapeAttr>(m, "Shape")
      .def("__init__", [](ShapeAttr* s, nb::handle h) { new (s) ShapeAttr{shape_from_py(h)}; }, nb::arg("dims").none())
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
      // Messages may quote bytes from files or tensors; invalid UTF-8 becomes U+FFFD instead of a
      // UnicodeDecodeError that would hide the real error.
      const char* what = e.what();
      PyObject* msg = PyUnicode_DecodeUTF8(what, (Py_ssize_t)std::strlen(what), "replace");
      PyErr_SetObject(cls ? cls : PyExc_RuntimeError, msg);
      Py_XDECREF(msg);
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
      .def("add_control_input", [](Graph& g, int id, int c) { g.add_control_input(g.node(id), g.node(c)); })
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
      .def("__init__", [](Session* s, std::shared_ptr<Graph> g, int inter, int intra, size_t plan_cache_capacity) {
        new (s) Session(std::move(g), SessionOptions{inter, intra, plan_cache_capacity});
      }, "graph"_a, "inter_op_threads"_a = 0, "intra_op_threads"_a = 0, "plan_cache_capacity"_a = 256)
      .def("cached_plans", &Session::cached_plans)
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
      // Session.run's cached path (python framework/session.py): the fetches' and feeds' analysis once.
      .def("prepare",
           [](Session& s, const std::vector<OutKey>& feeds, const std::vector<OutKey>& fetches,
              const std::vector<int>& targets) {
             return s.prepare(outputs_of(s.graph(), feeds), outputs_of(s.graph(), fetches), nodes_of(s.graph(), targets));
           })
      .def("run_prepared",
           [](Session& s, const Prepared& p, nb::list feed_values) { return run_prepared(s, p, feed_values); })
      // (outputs, [(node name, op type, input names, start us, end us, thread)]): Note [step stats].
      .def("run_prepared_traced",
           [](Session& s, const Prepared& p, nb::list feed_values) { return run_prepared_traced(s, p, feed_values); })
      .def("close", &Session::close)
      .def_prop_ro("closed", &Session::closed)
      .def("variable_value", [](Session& s, int id) -> nb::object {
        Tensor t = s.state().var(s.graph().node(id)).read();
        return t.valid() ? tensor_to_py(t) : nb::none();
      });

  nb::class_<Prepared>(m, "Prepared");

  nb::class_<PyCallable>(m, "Callable")
      .def("__call__", [](PyCallable& c, nb::list feed_values) { return run_prepared(*c.sess, c.prepared, feed_values); })
      .def("call_traced",
           [](PyCallable& c, nb::list feed_values) { return run_prepared_traced(*c.sess, c.prepared, feed_values); })
      // (node name, name of the producer its kernel absorbed or None) in run order: what a step runs.
      .def_prop_ro("planned", [](const PyCallable& c) {
        nb::list out;
        for (const PlanNode& pn : c.prepared.plan->nodes)
          out.append(nb::make_tuple(pn.node->name, pn.fused ? nb::cast(pn.fused->name) : nb::none()));
        return out;
      });

  m.def("make_callable", [](std::shared_ptr<Session> s, const std::vector<OutKey>& feeds,
                            const std::vector<OutKey>& fetches, const std::vector<int>& targets) {
    auto plan = s->prepare(outputs_of(s->graph(), feeds), outputs_of(s->graph(), fetches), nodes_of(s->graph(), targets));
    return PyCallable{s, plan};
  });

  m.def("gradients", [](Graph& g, const std::vector<OutKey>& ys, const std::vector<OutKey>& xs,
                        nb::list grad_ys, const std::vector<OutKey>& stop, const std::string& scope,
                        const std::string& location, nb::dict overrides, nb::object external) {
    auto keys_to_outputs = [&](nb::handle list) {
      std::vector<Output> v;
      for (nb::handle h : list) {
        if (h.is_none()) v.push_back(Output{});
        else {
          auto k = nb::cast<OutKey>(h);
          v.push_back(Output{g.node(k.first), k.second});
        }
      }
      return v;
    };
    std::vector<Output> gy = keys_to_outputs(grad_ys);
    // Note [gradient overrides]: Python answers None when `name` is not one of its registered functions.
    GradOverrides ov;
    for (auto [k, v] : overrides) ov.by_node[nb::cast<int>(k)] = nb::cast<std::string>(v);
    ov.external = [&](Node& n, const std::string& name, const std::vector<Output>& out_grads,
                      std::vector<Output>* in_grads) {
      nb::list gk;
      for (auto& o : out_grads) gk.append(o.valid() ? nb::cast(OutKey{o.node->id, o.index}) : nb::none());
      nb::object r = external(n.id, name, gk);
      if (r.is_none()) return false;
      *in_grads = keys_to_outputs(r);
      return true;
    };
    auto res = gradients(g, outputs_of(g, ys), outputs_of(g, xs), gy, outputs_of(g, stop), scope, location,
                         overrides.size() ? &ov : nullptr);
    nb::list out;
    for (auto& o : res) out.append(o.valid() ? nb::cast(OutKey{o.node->id, o.index}) : nb::none());
    return out;
  });

  m.def("registered_ops", [] { return OpRegistry::global().names(); });
  // (num_inputs (-1: variadic), ref inputs, stateful): what the fuzzer (tests/fuzz) needs to build an op.
  m.def("op_signature", [](const std::string& name) {
    const OpDef& d = OpRegistry::global().get(name);
    return nb::make_tuple(d.num_inputs, d.ref_inputs, d.stateful);
  });
  m.def("allocation_cap", &allocation_cap);
  m.def("set_allocation_cap", &set_allocation_cap, "bytes"_a);
  m.def("duplicate_ops", [] { return OpRegistry::global().duplicates(); });
  // The ops that carry a Python API (Note [ops carry their Python API]): (name, num_inputs, args, api, doc).
  m.def("op_apis", [] {
    nb::list out;
    const OpRegistry& r = OpRegistry::global();
    for (const std::string& name : r.names()) {
      const OpDef& d = r.get(name);
      if (!d.api.empty()) out.append(nb::make_tuple(name, d.num_inputs, d.arg_names, d.api, d.doc));
    }
    return out;
  });
  m.def("op_gradient_kind", [](const std::string& name) {  // "rule", "none" (not differentiable), "missing"
    const OpDef& d = OpRegistry::global().get(name);
    return std::string(d.grad ? "rule" : d.not_differentiable ? "none" : "missing");
  });
  bind_io(m);
  bind_summary(m);
  bind_pyfunc(m);
  bind_control_flow(m);
  bind_mpi(m);
  bind_eager(m);
}
