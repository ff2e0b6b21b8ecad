#pragma once
// Conversions shared by the binding files (bindings.cc, bindings_io.cc, bindings_summary.cc, bindings_pyfunc.cc).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "attr.h"
#include "graph.h"

namespace tideflow_py {
namespace nb = nanobind;
using namespace nb::literals;
using namespace tideflow;

// ---- tensors <-> NumPy ----

// Note [bfloat16 arrays]
// NumPy has no bfloat16; TensorFlow uses ml_dtypes.bfloat16, imported here the first time a bfloat16 tensor
// crosses (its import costs most of a second, so `import tideflow` does not pay it). With ml_dtypes a
// bfloat16 array crosses as its uint16 bit pattern: a feed is wrapped without a copy, a fetch is a uint16
// array viewed as bfloat16 (still zero-copy). Without ml_dtypes a bfloat16 fetch is a float32 array of the
// same values, and Python passes float values for bfloat16 feeds and constants as ("bfloat16", float32
// array), rounded here to nearest even (dtypes.py: _core_value).
inline nb::handle bfloat16_numpy_type() {
  static nb::handle t;  // np.dtype(ml_dtypes.bfloat16), kept alive for the process
  static bool looked = false;
  if (!looked) {
    looked = true;
    try {
      nb::object ml = nb::module_::import_("ml_dtypes");
      t = nb::module_::import_("numpy").attr("dtype")(ml.attr("bfloat16")).release();
    } catch (nb::python_error&) {  // not installed: float32 stands in
    }
  }
  return t;
}

inline DType dtype_from_dlpack(nb::dlpack::dtype d) {
  using C = nb::dlpack::dtype_code;
  const auto code = (C)d.code;
  if (d.lanes == 1) {
    if (code == C::Float && d.bits == 32) return DType::Float32;
    if (code == C::Float && d.bits == 64) return DType::Float64;
    if (code == C::Float && d.bits == 16) return DType::Float16;
    if (code == C::Bfloat && d.bits == 16) return DType::BFloat16;
    if (code == C::Int && d.bits == 32) return DType::Int32;
    if (code == C::Int && d.bits == 64) return DType::Int64;
    if (code == C::Int && d.bits == 8) return DType::Int8;
    if (code == C::Int && d.bits == 16) return DType::Int16;
    if (code == C::UInt && d.bits == 8) return DType::UInt8;
    if (code == C::UInt && d.bits == 16) return DType::UInt16;
    if (code == C::Bool && d.bits == 8) return DType::Bool;
  }
  throw type_error("unsupported array dtype for a tideflow tensor");
}

inline nb::dlpack::dtype dlpack_from_dtype(DType d) {
  using C = nb::dlpack::dtype_code;
  switch (d) {
    case DType::Float32: return nb::dtype<float>();
    case DType::Float64: return nb::dtype<double>();
    case DType::Int32: return nb::dtype<int32_t>();
    case DType::Int64: return nb::dtype<int64_t>();
    case DType::Bool: return nb::dtype<bool>();
    case DType::UInt8: return nb::dtype<uint8_t>();
    case DType::Int8: return nb::dtype<int8_t>();
    case DType::Int16: return nb::dtype<int16_t>();
    case DType::UInt16: return nb::dtype<uint16_t>();
    case DType::Float16: return nb::dlpack::dtype{(uint8_t)C::Float, 16, 1};
    case DType::BFloat16: return nb::dtype<uint16_t>();  // Note [bfloat16 arrays]: viewed afterwards
    default: throw type_error(std::string("no NumPy dtype for ") + dtype_name(d) + " tensors");
  }
}

// A C-contiguous array is wrapped, not copied: the tensor borrows its memory and keeps it alive.
// `as` overrides the dtype the array's own dtype gives (a bfloat16 array passed as its uint16 bits).
inline Tensor tensor_from_array(nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu> a, DType* as = nullptr) {
  DType dt = as ? *as : dtype_from_dlpack(a.dtype());
  if (dtype_size(dt) != a.itemsize()) throw type_error("array item size does not match the tensor's dtype");
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

// A bfloat16 tensor from an ml_dtypes array (its bits, no copy) or from float values (rounded).
inline bool bfloat16_from_py(nb::handle h, Tensor* out) {
  using Array = nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>;
  DType bf = DType::BFloat16;
  nb::object name = nb::hasattr(h, "dtype") ? nb::getattr(h.attr("dtype"), "name", nb::none()) : nb::none();
  if (nb::isinstance<nb::str>(name) && nb::cast<std::string>(name) == "bfloat16" &&
      bfloat16_numpy_type().is_valid() && h.attr("dtype").equal(bfloat16_numpy_type())) {
    nb::object bits = h.attr("view")("uint16");  // same item size: any layout views; the cast makes it C-contiguous
    *out = tensor_from_array(nb::cast<Array>(bits), &bf);
    return true;
  }
  if (nb::isinstance<nb::tuple>(h) && nb::len(h) == 2 && nb::isinstance<nb::str>(h[0]) &&
      nb::cast<std::string>(h[0]) == "bfloat16") {
    nb::object f = nb::module_::import_("numpy").attr("asarray")(h[1], "dtype"_a = "float32");
    Tensor src = tensor_from_array(nb::cast<Array>(f));
    Tensor t(DType::BFloat16, src.dims());
    const float* s = src.data<float>();
    bfloat16* d = t.data<bfloat16>();
    for (int64_t i = 0; i < src.size(); ++i) d[i] = bfloat16(s[i]);
    *out = std::move(t);
    return true;
  }
  return false;
}

inline Tensor tensor_from_py(nb::handle h) {
  if (nb::isinstance<nb::bytes>(h)) {
    nb::bytes b = nb::borrow<nb::bytes>(h);
    return Tensor::string_scalar(std::string(b.c_str(), b.size()));
  }
  if (nb::isinstance<nb::tuple>(h) && nb::len(h) == 3) {  // ("strings", shape, [bytes...]) from the Python layer
    nb::tuple t = nb::borrow<nb::tuple>(h);
    std::vector<int64_t> dims = nb::cast<std::vector<int64_t>>(t[1]);
    std::vector<std::string> vals;
    for (nb::handle x : t[2]) {
      nb::bytes b = nb::borrow<nb::bytes>(x);
      vals.emplace_back(b.c_str(), b.size());
    }
    return Tensor::strings(dims, std::move(vals));
  }
  nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu> a;
  if (nb::try_cast(h, a)) return tensor_from_array(a);
  Tensor bf;  // arrays NumPy cannot export (bfloat16) and tagged bfloat16 values
  if (bfloat16_from_py(h, &bf)) return bf;
  return tensor_from_array(nb::cast<nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>>(h));
}

// Note [what users hold]
// A fetched tensor becomes an ndarray over its buffer, which the array keeps alive, only when nothing else
// holds that buffer (a fresh result); a buffer the engine also keeps (a variable's value, a constant, a
// feed, a cached value) is copied, so writing into the array never changes the graph or the session.
// An ndarray over t's buffer, which the array keeps alive. Whoever calls it decides that aliasing is safe:
// tensor_to_py below, or an eager tensor's read-only view (the tensor is immutable).
inline nb::object array_over(const Tensor& t) {
  if (t.dtype() == DType::String) {
    auto bytes = [&](const std::string& s) { return nb::bytes(s.data(), s.size()); };
    if (t.rank() == 0) return bytes(t.string_values()[0]);
    nb::list l;
    for (auto& s : t.string_values()) l.append(bytes(s));
    nb::object np = nb::module_::import_("numpy");
    return np.attr("array")(l, "dtype"_a = "object").attr("reshape")(nb::cast(t.dims()));
  }
  if (t.dtype() == DType::BFloat16 && !bfloat16_numpy_type().is_valid()) {  // Note [bfloat16 arrays]
    Tensor f(DType::Float32, t.dims());
    for (int64_t i = 0; i < t.size(); ++i) f.data<float>()[i] = t.data<bfloat16>()[i];
    return array_over(f);
  }
  auto* holder = new std::shared_ptr<Buffer>(t.buffer());
  nb::capsule owner(holder, [](void* p) noexcept { delete static_cast<std::shared_ptr<Buffer>*>(p); });
  std::vector<size_t> shape(t.dims().begin(), t.dims().end());
  nb::object a = nb::cast(nb::ndarray<nb::numpy>(t.raw(), shape.size(), shape.data(), owner, nullptr,
                                                 dlpack_from_dtype(t.dtype())));
  if (t.dtype() == DType::Int64) {
    // NumPy builds 64-bit DLPack ints as `long long`; its own int64 is `long`, which repr leaves unnamed
    // (array([1, 2]) as TensorFlow prints it, not array([1, 2], dtype=int64)).
    static PyObject* np_int64 = nb::object(nb::module_::import_("numpy").attr("int64")).release().ptr();  // leaked
    if (!a.attr("dtype").attr("type").is(nb::handle(np_int64))) a = a.attr("view")(nb::handle(np_int64));
  }
  return t.dtype() == DType::BFloat16 ? a.attr("view")(bfloat16_numpy_type()) : a;
}

inline nb::object tensor_to_py(const Tensor& fetched) {
  return array_over(fetched.dtype() == DType::String || fetched.unique() ? fetched : fetched.deep_copy());
}

inline nb::list tensors_to_py(const std::vector<Tensor>& ts) {
  nb::list l;
  for (auto& t : ts) l.append(tensor_to_py(t));
  return l;
}

// ---- attributes ----
// A Python int as int64: out of range is TensorFlow's "Value out of range" (ValueError), another kind of
// value a TypeError; never nanobind's bad_cast.
inline int64_t int64_from_py(nb::handle h, const char* what) {
  if (!nb::isinstance<nb::int_>(h) || nb::isinstance<nb::bool_>(h)) {
    PyObject* index = PyNumber_Index(h.ptr());  // NumPy integers
    if (!index) {
      PyErr_Clear();
      throw type_error(std::string(what) + " must be an integer, got " +
                       nb::cast<std::string>(nb::str(nb::handle(Py_TYPE(h.ptr())).attr("__name__"))));
    }
    nb::object i = nb::steal(index);
    return int64_from_py(i, what);
  }
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
  if (overflow)
    throw value_error(std::string(what) + ": Value out of range: " + nb::cast<std::string>(nb::str(h)));
  return v;
}

inline PartialShape shape_from_py(nb::handle h) {
  if (h.is_none()) return PartialShape::unknown();
  Dims d;
  for (nb::handle x : h) {
    const int64_t v = x.is_none() ? -1 : int64_from_py(x, "a shape's dimension");
    if (v < -1) throw value_error("Dimension " + std::to_string(v) + " must be >= 0");
    d.push_back(v);
  }
  return PartialShape(d);
}

inline nb::object shape_to_py(const PartialShape& s) {
  if (!s.known_rank) return nb::none();
  nb::list l;
  for (int64_t d : s.dims) l.append(d < 0 ? nb::none() : nb::cast(d));
  return l;
}

struct ShapeAttr {  // marks a Python value as a shape attribute: _core.Shape(None | [dims])
  PartialShape s;
};

inline AttrValue attr_from_py(nb::handle h) {
  if (nb::isinstance<nb::bool_>(h)) return nb::cast<bool>(h);
  if (nb::isinstance<nb::int_>(h)) return int64_from_py(h, "an integer attribute");
  if (nb::isinstance<nb::float_>(h)) return nb::cast<double>(h);
  if (nb::isinstance<nb::str>(h)) return nb::cast<std::string>(h);
  if (nb::isinstance<nb::bytes>(h)) {
    nb::bytes b = nb::borrow<nb::bytes>(h);
    return std::string(b.c_str(), b.size());
  }
  if (nb::isinstance<DType>(h)) return nb::cast<DType>(h);
  if (nb::isinstance<ShapeAttr>(h)) return nb::cast<ShapeAttr>(h).s;
  bool tagged = nb::isinstance<nb::tuple>(h) && (nb::len(h) == 3 || nb::len(h) == 2) && nb::isinstance<nb::str>(h[0]) &&
                !nb::isinstance<nb::str>(h[1]);  // ("strings", ...) and ("bfloat16", values) values, not name lists
  if (!tagged && (nb::isinstance<nb::list>(h) || nb::isinstance<nb::tuple>(h))) {
    nb::sequence seq = nb::borrow<nb::sequence>(h);
    size_t n = nb::len(seq);
    if (n > 0 && nb::isinstance<nb::float_>(seq[0])) return nb::cast<std::vector<double>>(h);
    if (n > 0 && nb::isinstance<nb::str>(seq[0])) return nb::cast<std::vector<std::string>>(h);
    if (n > 0 && nb::isinstance<DType>(seq[0])) return nb::cast<std::vector<DType>>(h);
    std::vector<int64_t> v;
    for (nb::handle x : seq) v.push_back(int64_from_py(x, "an element of an integer list attribute"));
    return v;
  }
  Tensor t = tensor_from_py(h);
  return t.dtype() == DType::String ? t : t.deep_copy();  // attributes own their values
}

inline nb::object attr_to_py(const AttrValue& v) {
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

inline AttrMap attrs_from_py(nb::dict d) {
  AttrMap m;
  for (auto [k, v] : d) {
    const std::string key = nb::cast<std::string>(k);
    try {
      m[key] = attr_from_py(v);
    } catch (const nb::cast_error&) {  // a list mixing kinds, a value of no attribute kind
      throw type_error("attribute '" + key + "' has a value of an unsupported kind: " +
                       nb::cast<std::string>(nb::repr(v)).substr(0, 200));
    }
  }
  return m;
}


// Binding groups that live in their own files.
void bind_io(nb::module_& m);       // checkpoints and meta graphs (bindings_io.cc)
void bind_summary(nb::module_& m);  // event files and summaries (bindings_summary.cc)
void bind_pyfunc(nb::module_& m);   // the callback PyFunc nodes run (bindings_pyfunc.cc)
void bind_control_flow(nb::module_& m);  // control-flow frames (bindings_control_flow.cc)
void bind_mpi(nb::module_& m);      // tideflow.horovod's collective controller (bindings_mpi.cc)
void bind_eager(nb::module_& m);    // eager tensors, variables, tapes, tf.function (bindings_eager.cc)

}  // namespace tideflow_py
