// Eager execution for Python: the EagerTensor base class, op execution, variables, tapes and the
// operator fast path (Note [eager fast path]).
#include <nanobind/stl/function.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>

#include <cstring>

#include "bindings_util.h"
#include "eager.h"
#include "op_registry.h"
#include "plan.h"
#include "session.h"
#include "threadpool.h"

namespace tideflow_py {

namespace {

using eager::EagerTensor;
using eager::Input;
using eager::Tape;
using eager::Variable;

// Note [eager mode]
// Whether ops run eagerly: the process-wide default (tf.enable_eager_execution), unless this thread is
// inside a Graph's as_default() (graph mode, also while tf.function traces) or an explicit
// eager_mode()/graph_mode() block. Kept here so the operator fast path asks without calling Python.
bool g_eager_default = false;
thread_local int t_graph_depth = 0;
thread_local int t_mode = -1;  // -1: the default; 0: graph; 1: eager

bool executing_eagerly() {
  if (t_graph_depth > 0) return false;
  return t_mode < 0 ? g_eager_default : t_mode == 1;
}

// The Python subclass EagerTensor (tideflow.eager.tensor) that results are created as, and the tideflow
// DType objects by enum. Leaked on purpose, like the error classes.
PyTypeObject* g_tensor_type = nullptr;
PyObject* g_dtypes[kNumDTypes] = {};
PyObject* g_fallbacks = nullptr;  // operator name -> the Python implementation (math_ops), for the slow path

nb::object wrap(EagerTensor&& t) {
  if (!g_tensor_type) throw std::runtime_error("tideflow.eager.tensor is not loaded");
  nb::object o = nb::inst_alloc(nb::handle((PyObject*)g_tensor_type));
  new (nb::inst_ptr<EagerTensor>(o)) EagerTensor(std::move(t));
  nb::inst_mark_ready(o);
  return o;
}

EagerTensor* as_tensor(nb::handle h) {
  if (Py_TYPE(h.ptr()) == g_tensor_type) return nb::inst_ptr<EagerTensor>(h);
  EagerTensor* p = nullptr;
  if (nb::try_cast<EagerTensor*>(h, p)) return p;
  return nullptr;
}

nb::list wrap_all(std::vector<EagerTensor>&& ts) {
  nb::list l;
  for (auto& t : ts) l.append(wrap(std::move(t)));
  return l;
}

// Inputs from Python: EagerTensors, or eager variable handles for ref inputs.
std::vector<Input> inputs_from_py(nb::handle seq) {
  std::vector<Input> ins;
  for (nb::handle h : seq) {
    if (EagerTensor* t = as_tensor(h)) {
      ins.push_back(Input{&t->value, t->id, nullptr});
      continue;
    }
    Variable* v = nullptr;
    if (nb::try_cast<Variable*>(h, v) && v) {
      ins.push_back(Input{nullptr, v->id(), v});
      continue;
    }
    throw type_error("eager op input must be an EagerTensor or a variable handle, got " +
                     nb::cast<std::string>(nb::str(h.type())));
  }
  return ins;
}

// Note [eager fast path]
// `a + b` on eager tensors goes straight from the operator slot to the kernel: both operands are eager
// tensors, or one is a Python int/float that converts exactly to the tensor's dtype (TensorFlow's rule for
// binary operators), and eager execution is on. Everything else (NumPy arrays, variables, dtype errors,
// graph mode) takes the Python implementation of math_ops, which raises TensorFlow's errors.
enum BinOp { kAdd, kSub, kMul, kDiv, kPow, kLess, kLessEqual, kGreater, kGreaterEqual, kNumBinOps };
struct BinInfo {
  const char* op_type;
  const char* forward;
  const char* reflected;
};
const BinInfo kBin[kNumBinOps] = {
    {"Add", "__add__", "__radd__"},          {"Sub", "__sub__", "__rsub__"},
    {"Mul", "__mul__", "__rmul__"},          {"RealDiv", "__truediv__", "__rtruediv__"},
    {"Pow", "__pow__", "__rpow__"},          {"Less", "__lt__", "__gt__"},
    {"LessEqual", "__le__", "__ge__"},       {"Greater", "__gt__", "__lt__"},
    {"GreaterEqual", "__ge__", "__le__"},
};

bool scalar_like(nb::handle h, DType dt, Tensor* out) {
  PyObject* p = h.ptr();
  if (PyFloat_CheckExact(p)) {
    if (!is_floating(dt)) return false;
    double v = PyFloat_AS_DOUBLE(p);
    *out = dt == DType::Float32 ? Tensor::scalar<float>((float)v) : Tensor::scalar<double>(v);
    return true;
  }
  if (PyLong_CheckExact(p)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(p, &overflow);
    if (overflow) return false;
    switch (dt) {
      case DType::Float32: *out = Tensor::scalar<float>((float)v); return true;
      case DType::Float64: *out = Tensor::scalar<double>((double)v); return true;
      case DType::Int32:
        if (v < INT32_MIN || v > INT32_MAX) return false;
        *out = Tensor::scalar<int32_t>((int32_t)v);
        return true;
      case DType::Int64: *out = Tensor::scalar<int64_t>((int64_t)v); return true;
      default: return false;
    }
  }
  return false;
}

nb::object slow_path(const char* name, nb::handle self, nb::handle other) {
  PyObject* f = g_fallbacks ? PyDict_GetItemString(g_fallbacks, name) : nullptr;
  if (!f) return nb::borrow(Py_NotImplemented);
  return nb::borrow(f)(self, other);
}

// Runs the op when the fast path applies; returns null (no Python error set) otherwise.
PyObject* try_fast(BinOp op, EagerTensor* a, PyObject* other, bool reflected) {
  if (!executing_eagerly()) return nullptr;
  Tensor scalar;
  EagerTensor* b = as_tensor(other);
  const DType dt = a->value.dtype();
  bool ok = b ? b->value.dtype() == dt : scalar_like(other, dt, &scalar);
  if (op == kDiv && !is_floating(dt)) ok = false;  // integer true division casts first (Python side)
  if (!ok || dt == DType::String || dt == DType::Bool) return nullptr;
  static const OpDef* defs[kNumBinOps] = {};
  if (!defs[op]) defs[op] = &eager::op_def(kBin[op].op_type);
  Input x{&a->value, a->id, nullptr};
  Input y = b ? Input{&b->value, b->id, nullptr} : Input{&scalar, eager::new_tensor_id(), nullptr};
  Input ins[2] = {reflected ? y : x, reflected ? x : y};
  try {
    thread_local std::vector<EagerTensor> out;
    eager::execute_into(*defs[op], AttrMap{}, ins, 2, "", &out);
    return wrap(std::move(out[0])).release().ptr();
  } catch (...) {
    return nullptr;  // the slow path runs the op again and raises TensorFlow's error
  }
}

PyObject* slow_path(const char* name, PyObject* self, PyObject* other) {
  PyObject* f = g_fallbacks ? PyDict_GetItemString(g_fallbacks, name) : nullptr;
  if (!f) Py_RETURN_NOTIMPLEMENTED;
  return other ? PyObject_CallFunctionObjArgs(f, self, other, nullptr) : PyObject_CallFunctionObjArgs(f, self, nullptr);
}

// Note [eager fast path]: the number slots themselves, so `a + b` costs no method lookup. Python calls the
// slot with the eager tensor on either side.
template <BinOp op>
PyObject* number_slot(PyObject* l, PyObject* r) {
  bool reflected = Py_TYPE(l) != g_tensor_type && !as_tensor(l);
  PyObject* self = reflected ? r : l;
  PyObject* other = reflected ? l : r;
  EagerTensor* a = nb::inst_ptr<EagerTensor>(self);
  if (PyObject* res = try_fast(op, a, other, reflected)) return res;
  return slow_path(reflected ? kBin[op].reflected : kBin[op].forward, self, other);
}

PyObject* negative_slot(PyObject* self) {
  EagerTensor* a = nb::inst_ptr<EagerTensor>(self);
  if (executing_eagerly() && is_numeric(a->value.dtype())) {
    static const OpDef* d = &eager::op_def("Neg");
    try {
      Input in{&a->value, a->id, nullptr};
      thread_local std::vector<EagerTensor> out;
      eager::execute_into(*d, AttrMap{}, &in, 1, "", &out);
      return wrap(std::move(out[0])).release().ptr();
    } catch (...) {
    }
  }
  return slow_path("__neg__", self, nullptr);
}

template <BinOp op>
nb::object compare(nb::handle self, nb::handle other) {
  if (PyObject* r = try_fast(op, nb::inst_ptr<EagerTensor>(self), other.ptr(), false)) return nb::steal(r);
  return nb::steal(slow_path(kBin[op].forward, self.ptr(), other.ptr()));
}

PyType_Slot kTensorSlots[] = {
    {Py_nb_add, (void*)number_slot<kAdd>},
    {Py_nb_subtract, (void*)number_slot<kSub>},
    {Py_nb_multiply, (void*)number_slot<kMul>},
    {Py_nb_true_divide, (void*)number_slot<kDiv>},
    {Py_nb_negative, (void*)negative_slot},
    {0, nullptr},
};

// A NumPy view of a tensor's buffer that keeps it alive; read-only, since the tensor is immutable.
nb::object readonly_array(const Tensor& t) {
  nb::object a = array_over(t);
  if (t.dtype() != DType::String) a.attr("flags").attr("writeable") = false;
  return a;
}

Tensor to_tensor(nb::handle h) {
  if (EagerTensor* t = as_tensor(h)) return t->value;
  return tensor_from_py(h);
}

struct Function {  // a traced graph bound to a Session: tf.function's concrete function
  std::shared_ptr<Session> session;
  Prepared prepared;
};

}  // namespace

void bind_eager(nb::module_& m) {
  nb::class_<EagerTensor>(m, "EagerTensorBase", nb::is_weak_referenceable(), nb::type_slots(kTensorSlots))
      .def_prop_ro("_id", [](const EagerTensor& t) { return t.id; })
      .def_prop_ro("dtype", [](const EagerTensor& t) -> nb::object {
        PyObject* d = g_dtypes[(int)t.value.dtype()];
        if (!d) return nb::cast(t.value.dtype());
        return nb::borrow(d);
      })
      .def_prop_ro("_dtype_enum", [](const EagerTensor& t) { return t.value.dtype(); })
      .def("_shape_tuple", [](const EagerTensor& t) {
        const Dims& d = t.value.dims();
        PyObject* tup = PyTuple_New((Py_ssize_t)d.size());
        for (size_t i = 0; i < d.size(); ++i) PyTuple_SET_ITEM(tup, (Py_ssize_t)i, PyLong_FromLongLong(d[i]));
        return nb::steal<nb::tuple>(tup);
      })
      .def_prop_ro("ndim", [](const EagerTensor& t) { return t.value.rank(); })
      .def("_num_elements", [](const EagerTensor& t) { return t.value.size(); })
      // A read-only NumPy view over the buffer (no copy): __array__ and NumPy functions use it.
      .def("_array_view", [](const EagerTensor& t) { return readonly_array(t.value); })
      .def("_copy_to_array", [](const EagerTensor& t) { return tensor_to_py(t.value.deep_copy()); })
      .def("_same_buffer", [](const EagerTensor& a, const EagerTensor& b) { return a.value.raw() == b.value.raw(); })
      .def("__pow__", [](nb::handle a, nb::handle b) { return nb::steal(number_slot<kPow>(a.ptr(), b.ptr())); })
      .def("__rpow__", [](nb::handle a, nb::handle b) { return nb::steal(number_slot<kPow>(b.ptr(), a.ptr())); })
      .def("__lt__", compare<kLess>)
      .def("__le__", compare<kLessEqual>)
      .def("__gt__", compare<kGreater>)
      .def("__ge__", compare<kGreaterEqual>);

  // An array (NumPy, or an ndarray view of another eager tensor) as an eager tensor: arrays NumPy may still
  // write are copied, as TensorFlow copies them; read-only arrays are wrapped.
  m.def("eager_tensor_from_array", [](nb::handle h) {
    Tensor t = tensor_from_py(h);
    if (t.buffer() && t.buffer()->borrowed()) {
      bool writeable = nb::cast<bool>(h.attr("flags").attr("writeable"));
      if (writeable) t = t.deep_copy();
    }
    return wrap(EagerTensor(std::move(t)));
  });
  m.def("_set_eager_tensor_type", [](nb::handle cls, nb::list dtypes, nb::dict fallbacks) {
    g_tensor_type = (PyTypeObject*)cls.inc_ref().ptr();
    for (size_t i = 0; i < nb::len(dtypes) && i < (size_t)kNumDTypes; ++i) {
      Py_XDECREF(g_dtypes[i]);
      g_dtypes[i] = nb::handle(dtypes[i]).inc_ref().ptr();
    }
    Py_XDECREF(g_fallbacks);
    g_fallbacks = fallbacks.inc_ref().ptr();
  });

  // ---- mode (Note [eager mode]) ----
  m.def("executing_eagerly", executing_eagerly);
  m.def("_set_eager_default", [](bool on) { g_eager_default = on; });
  m.def("_eager_default", [] { return g_eager_default; });
  m.def("_graph_depth", [] { return t_graph_depth; });
  m.def("_set_graph_depth", [](int d) { t_graph_depth = d; });
  m.def("_enter_graph", [] { ++t_graph_depth; });
  m.def("_exit_graph", [] { if (t_graph_depth > 0) --t_graph_depth; });
  m.def("_mode", [] { return t_mode; });
  m.def("_set_mode", [](int mode) { t_mode = mode; });
  m.def("set_thread_cap", set_thread_cap);
  m.def("thread_cap", thread_cap);

  // ---- execution ----
  m.def("eager_execute", [](const std::string& type, nb::handle inputs, nb::handle attrs, const std::string& name) {
    const OpDef& op = eager::op_def(type);
    AttrMap a = attrs.is_none() ? AttrMap{} : attrs_from_py(nb::borrow<nb::dict>(attrs));
    std::vector<Input> ins = inputs_from_py(inputs);
    thread_local std::vector<EagerTensor> out;
    if (!op.expensive) {
      eager::execute_into(op, std::move(a), ins.data(), ins.size(), name, &out);
      return wrap_all(std::move(out));
    }
    // A long kernel lets other Python threads run, as TensorFlow's eager ops do. The inputs are copied
    // first: without the GIL another thread may drop the last reference to an input tensor object.
    std::vector<Tensor> held;
    held.reserve(ins.size());
    for (auto& in : ins)
      if (in.value) {
        held.push_back(*in.value);
        in.value = &held.back();
      }
    {
      nb::gil_scoped_release release;
      eager::execute_into(op, std::move(a), ins.data(), ins.size(), name, &out);
    }
    return wrap_all(std::move(out));
  }, "type"_a, "inputs"_a, "attrs"_a.none(), "name"_a = "");
  m.def("clear_kernel_cache", eager::clear_kernel_cache);
  m.def("_live_eager_variables", &Variable::live);

  // ---- variables ----
  nb::class_<Variable>(m, "EagerVariableHandle")
      .def("__init__", [](Variable* v, const std::string& name, DType dt, nb::handle shape, bool trainable) {
        new (v) Variable(name, dt, shape_from_py(shape), trainable);
      }, "name"_a, "dtype"_a, "shape"_a.none(), "trainable"_a)
      .def_prop_ro("_id", &Variable::id)
      .def_prop_ro("name", [](const Variable& v) { return v.handle()->name; })
      .def_prop_ro("dtype", &Variable::dtype)
      .def_prop_ro("shape", [](const Variable& v) { return shape_to_py(v.shape()); })
      .def_prop_ro("trainable", &Variable::trainable)
      .def_prop_ro("initialized", [](const Variable& v) { return v.slot().read().valid(); })
      .def("read", [](Variable& v) { return wrap(v.read()); })
      // The value without recording a read: for printing and checkpoints; a copy, since the variable may
      // be updated in place later.
      .def("peek", [](Variable& v) -> nb::object {
        Tensor t = v.slot().read();
        return t.valid() ? tensor_to_py(t.deep_copy()) : nb::none();
      })
      .def("peek_tensor", [](Variable& v) -> nb::object {
        Tensor t = v.slot().read();
        return t.valid() ? wrap(EagerTensor(t)) : nb::none();
      });

  // ---- tapes (Note [tapes] in eager.h) ----
  nb::class_<Tape>(m, "Tape")
      .def(nb::init<bool, bool>(), "persistent"_a, "watch_accessed_variables"_a)
      .def("watch", [](Tape& t, nb::handle x) {
        if (EagerTensor* e = as_tensor(x)) return t.watch(e->id);
        t.watch_variable(nb::cast<Variable*>(x));
      })
      .def("watching", [](Tape& t, nb::handle x) {
        if (EagerTensor* e = as_tensor(x)) return t.watching(e->id);
        return t.watching(nb::cast<Variable*>(x)->id());
      })
      .def("watched_variable_ids", &Tape::watched_variables)
      .def_prop_ro("persistent", &Tape::persistent)
      .def_prop_ro("used", &Tape::used)
      .def_prop_ro("num_entries", &Tape::num_entries)
      .def("release", &Tape::release)
      .def("gradient", [](Tape& tape, nb::list targets, nb::list sources, nb::list output_gradients, bool zero) {
        std::vector<EagerTensor> ts, ogs;
        for (nb::handle h : targets) {  // a variable as a target stands for itself (its id), as in TF
          if (EagerTensor* e = as_tensor(h)) ts.push_back(*e);
          else {
            Variable* v = nb::cast<Variable*>(h);
            ts.emplace_back(v->read_untaped(), v->id());
          }
        }
        for (nb::handle h : output_gradients) {
          EagerTensor* e = h.is_none() ? nullptr : as_tensor(h);
          ogs.push_back(e ? *e : EagerTensor());
        }
        std::vector<int64_t> ids;
        std::vector<std::pair<DType, Dims>> types;
        for (nb::handle h : sources) {
          if (EagerTensor* e = as_tensor(h)) {
            ids.push_back(e->id);
            types.emplace_back(e->value.dtype(), e->value.dims());
          } else {
            Variable* v = nb::cast<Variable*>(h);
            ids.push_back(v->id());
            Tensor cur = v->slot().read();
            types.emplace_back(v->dtype(), cur.valid() ? cur.dims() : v->shape().dims);
          }
        }
        std::vector<EagerTensor> r;
        {
          nb::gil_scoped_release release;  // the replay holds its own tensors; custom gradients take the GIL
          r = tape.gradient(ts, ids, types, ogs, zero);
        }
        nb::list out;
        for (auto& g : r) out.append(g.value.valid() ? wrap(std::move(g)) : nb::none());
        return out;
      });
  m.def("push_tape", [](std::shared_ptr<Tape> t) { eager::push_tape(t); });
  m.def("pop_tape", [](Tape* t) { eager::pop_tape(t); });
  m.def("any_tape", eager::any_tape);
  m.def("is_watched", [](nb::handle x) {
    if (EagerTensor* e = as_tensor(x)) return eager::is_watched(e->id);
    return eager::is_watched(nb::cast<Variable*>(x)->id());
  });
  // tf.custom_gradient: records `backward(list of out-gradients or None) -> list of in-gradients or None`
  // as the op producing fresh copies of `outputs` (new ids: the ops inside the function stay on the tape
  // but no gradient reaches them through the copies). Inputs are tensors or variable handles.
  m.def("record_custom_gradient", [](nb::list inputs, nb::list outputs, nb::object backward) {
    std::vector<EagerTensor> ins, outs;
    for (nb::handle h : inputs) {
      if (EagerTensor* e = as_tensor(h)) ins.push_back(*e);
      else {
        Variable* v = nb::cast<Variable*>(h);
        ins.emplace_back(v->read_untaped(), v->id());
      }
    }
    for (nb::handle h : outputs) outs.emplace_back(as_tensor(h)->value);
    eager::record_custom(ins, outs, [backward](const std::vector<EagerTensor>& og) {
      nb::gil_scoped_acquire gil;
      nb::list args;
      for (auto& g : og) args.append(g.value.valid() ? wrap(EagerTensor(g)) : nb::none());
      nb::object r = backward(args);
      std::vector<EagerTensor> res;
      for (nb::handle h : r) {
        if (h.is_none()) res.emplace_back();
        else if (EagerTensor* e = as_tensor(h)) res.push_back(*e);
        else throw type_error("a custom gradient must return eager tensors or None");
      }
      return res;
    });
    return wrap_all(std::move(outs));
  });

  // ---- tf.function: a traced graph run by a Session (its plan cached by the Prepared) ----
  nb::class_<Function>(m, "EagerFunction")
      .def("__init__", [](Function* f, std::shared_ptr<Graph> g, const std::vector<std::pair<int, int>>& feeds,
                          const std::vector<std::pair<int, int>>& fetches, const std::vector<int>& targets) {
        // A Session resets the thread cap to its options; the user's tf.config setting stays.
        const int cap = thread_cap();
        auto s = std::make_shared<Session>(g, SessionOptions{});
        set_thread_cap(cap);
        auto outs = [&](const std::vector<std::pair<int, int>>& keys) {
          std::vector<Output> v;
          for (auto& k : keys) v.push_back(Output{g->node(k.first), k.second});
          return v;
        };
        std::vector<Node*> t;
        for (int id : targets) t.push_back(g->node(id));
        Prepared p = s->prepare(outs(feeds), outs(fetches), t);  // may throw: before *f exists
        new (f) Function{s, std::move(p)};
      })
      // The node standing for an eager variable in the traced graph reads and updates that variable.
      .def("bind_variable", [](Function& f, int node_id, Variable& v) {
        f.session->state().bind(f.session->graph().node(node_id), v.shared_slot());
      })
      .def("__call__", [](Function& f, nb::list args) {
        std::vector<Tensor> feeds;
        feeds.reserve(nb::len(args));
        for (nb::handle h : args) feeds.push_back(to_tensor(h));
        std::vector<Tensor> out;
        {
          nb::gil_scoped_release r;
          out = f.session->run(f.prepared, std::move(feeds));
        }
        nb::list l;
        for (auto& t : out) l.append(wrap(EagerTensor(std::move(t))));
        return l;
      });
}

}  // namespace tideflow_py
