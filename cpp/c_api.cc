// The C API (include/tideflow/c_api.h): status objects, tensors, graphs and operations, gradients,
// sessions and callables. Each entry point checks its arguments, calls the C++ core and turns every
// exception into a status (Note [graph handles] in c_api_internal.h says what the handles are).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>

#include "c_api_internal.h"
#include "gradients.h"
#include "op_registry.h"
#include "plan.h"

#ifndef TIDEFLOW_VERSION
#define TIDEFLOW_VERSION "unknown"
#endif

using namespace tideflow;
using namespace tideflow::capi;

// ---------------------------------------------------------------------------------------------------
// Status and errors

namespace tideflow {
namespace capi {

void set_status(TFL_Status* s, ErrorCode code, const std::string& msg) {
  s->code = static_cast<TFL_Code>(code);
  s->msg = msg;
}

void set_error_from_current_exception(TFL_Status* s) {
  try {
    throw;
  } catch (const Error& e) {
    set_status(s, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    set_status(s, ErrorCode::ResourceExhausted, "out of memory");
  } catch (const std::exception& e) {
    set_status(s, ErrorCode::Internal, e.what());
  } catch (...) {
    set_status(s, ErrorCode::Unknown, "unknown error");
  }
}

DType dtype_from_c(int dt, const char* fn) {
  switch (dt) {
    case TFL_FLOAT: return DType::Float32;
    case TFL_DOUBLE: return DType::Float64;
    case TFL_INT32: return DType::Int32;
    case TFL_INT64: return DType::Int64;
    case TFL_BOOL: return DType::Bool;
    case TFL_STRING: return DType::String;
    case TFL_UINT8: return DType::UInt8;
    case TFL_INT8: return DType::Int8;
    case TFL_INT16: return DType::Int16;
    case TFL_UINT16: return DType::UInt16;
    case TFL_HALF: return DType::Float16;
    case TFL_BFLOAT16: return DType::BFloat16;
  }
  throw invalid_argument(std::string(fn) + ": unsupported data type " + std::to_string(dt) +
                         " (tideflow has TFL_FLOAT, TFL_DOUBLE, TFL_INT32, TFL_INT64, TFL_BOOL, TFL_STRING, TFL_UINT8, "
                         "TFL_INT8, TFL_INT16, TFL_UINT16, TFL_HALF, TFL_BFLOAT16)");
}

TFL_DataType dtype_to_c(DType dt) {
  switch (dt) {
    case DType::Float32: return TFL_FLOAT;
    case DType::Float64: return TFL_DOUBLE;
    case DType::Int32: return TFL_INT32;
    case DType::Int64: return TFL_INT64;
    case DType::Bool: return TFL_BOOL;
    case DType::String: return TFL_STRING;
    case DType::UInt8: return TFL_UINT8;
    case DType::Int8: return TFL_INT8;
    case DType::Int16: return TFL_INT16;
    case DType::UInt16: return TFL_UINT16;
    case DType::Float16: return TFL_HALF;
    case DType::BFloat16: return TFL_BFLOAT16;
    case DType::Variant: break;
  }
  return TFL_FLOAT;
}

Node* checked_op(const TFL_Operation* op, const char* fn, const char* what) {
  require(op != nullptr, fn, (std::string(what) + " is NULL").c_str());
  return node(op);
}

Output checked_output(const TFL_Output& o, const char* fn, const char* what) {
  Node* n = checked_op(o.oper, fn, what);
  if (o.index < 0 || o.index >= n->num_outputs())
    throw invalid_argument(std::string(fn) + ": " + what + " refers to output " + std::to_string(o.index) + " of '" +
                           n->name + "', which has " + std::to_string(n->num_outputs()) + " outputs");
  return Output{n, o.index};
}

}  // namespace capi
}  // namespace tideflow

int TFL_AbiVersion(void) { return TFL_ABI_VERSION; }
const char* TFL_Version(void) { return TIDEFLOW_VERSION; }

TFL_Status* TFL_NewStatus(void) { return new (std::nothrow) TFL_Status(); }
void TFL_DeleteStatus(TFL_Status* s) { delete s; }
TFL_Code TFL_GetCode(const TFL_Status* s) { return s ? s->code : TFL_OK; }
const char* TFL_Message(const TFL_Status* s) { return s ? s->msg.c_str() : ""; }

void TFL_SetStatus(TFL_Status* s, TFL_Code code, const char* msg) {
  if (!s) return;
  s->code = code;
  try {
    s->msg = msg ? msg : "";
  } catch (...) {
    s->msg.clear();
  }
}

const char* TFL_CodeName(TFL_Code code) {
  switch (code) {
    case TFL_OK: return "OK";
    case TFL_CANCELLED: return "CancelledError";
    case TFL_UNKNOWN: return "UnknownError";
    case TFL_INVALID_ARGUMENT: return "InvalidArgumentError";
    case TFL_DEADLINE_EXCEEDED: return "DeadlineExceededError";
    case TFL_NOT_FOUND: return "NotFoundError";
    case TFL_ALREADY_EXISTS: return "AlreadyExistsError";
    case TFL_PERMISSION_DENIED: return "PermissionDeniedError";
    case TFL_RESOURCE_EXHAUSTED: return "ResourceExhaustedError";
    case TFL_FAILED_PRECONDITION: return "FailedPreconditionError";
    case TFL_ABORTED: return "AbortedError";
    case TFL_OUT_OF_RANGE: return "OutOfRangeError";
    case TFL_UNIMPLEMENTED: return "UnimplementedError";
    case TFL_INTERNAL: return "InternalError";
    case TFL_UNAVAILABLE: return "UnavailableError";
    case TFL_CODE_FORCE_INT: break;
    case TFL_DATA_LOSS: return "DataLossError";
    case TFL_UNAUTHENTICATED: return "UnauthenticatedError";
    case TFL_VALUE_ERROR: return "ValueError";
    case TFL_TYPE_ERROR: return "TypeError";
    case TFL_LOOKUP_ERROR: return "LookupError";
  }
  return "UnknownError";
}

// ---------------------------------------------------------------------------------------------------
// Tensors

size_t TFL_DataTypeSize(TFL_DataType dtype) {
  switch (dtype) {
    case TFL_FLOAT: case TFL_INT32: return 4;
    case TFL_DOUBLE: case TFL_INT64: return 8;
    case TFL_BOOL: case TFL_UINT8: case TFL_INT8: return 1;
    case TFL_INT16: case TFL_UINT16: case TFL_HALF: case TFL_BFLOAT16: return 2;
    default: return 0;
  }
}

const char* TFL_DataTypeName(TFL_DataType dtype) {
  switch (dtype) {
    case TFL_FLOAT: case TFL_DOUBLE: case TFL_INT32: case TFL_INT64: case TFL_BOOL: case TFL_STRING:
    case TFL_UINT8: case TFL_INT8: case TFL_INT16: case TFL_UINT16: case TFL_HALF: case TFL_BFLOAT16:
      return dtype_name(dtype_from_c(dtype, ""));
    case TFL_DATATYPE_FORCE_INT: break;
  }
  return "invalid";
}

namespace {

// Shape and size of a new tensor, checked before any memory is touched: no negative dims, no overflow,
// at most 2^62 bytes.
Dims checked_dims(const int64_t* dims, int num_dims, DType dt, const char* fn, int64_t* elements) {
  require(num_dims >= 0, fn, "num_dims is negative");
  require(num_dims == 0 || dims != nullptr, fn, "dims is NULL");
  Dims d(dims, dims + num_dims);
  int64_t n = 1;
  const int64_t cap = (int64_t{1} << 62) / (int64_t)std::max<size_t>(1, dtype_size(dt));
  for (int64_t x : d) {
    if (x < 0) throw invalid_argument(std::string(fn) + ": negative dimension in shape " + dims_str(d));
    if (x != 0 && n > cap / x)
      throw Error(ErrorCode::ResourceExhausted,
                  std::string(fn) + ": a " + dtype_name(dt) + " tensor of shape " + dims_str(d) + " is too large");
    n *= x;
  }
  *elements = n;
  return d;
}

TFL_Tensor* wrap(Tensor t) { return new TFL_Tensor{std::move(t)}; }

}  // namespace

TFL_Tensor* TFL_AllocateTensor(TFL_DataType dtype, const int64_t* dims, int num_dims, TFL_Status* status) {
  return guarded<TFL_Tensor*>(status, nullptr, [&] {
    const char* fn = "TFL_AllocateTensor";
    DType dt = dtype_from_c(dtype, fn);
    int64_t n;
    Dims d = checked_dims(dims, num_dims, dt, fn, &n);
    Tensor t(dt, std::move(d));
    if (dt != DType::String && t.nbytes()) std::memset(t.raw(), 0, t.nbytes());
    return wrap(std::move(t));
  });
}

TFL_Tensor* TFL_NewTensorFromData(TFL_DataType dtype, const int64_t* dims, int num_dims, const void* data, size_t len,
                                  TFL_Status* status) {
  return guarded<TFL_Tensor*>(status, nullptr, [&] {
    const char* fn = "TFL_NewTensorFromData";
    DType dt = dtype_from_c(dtype, fn);
    require(dt != DType::String, fn, "string tensors are made with TFL_NewStringTensor");
    int64_t n;
    Dims d = checked_dims(dims, num_dims, dt, fn, &n);
    size_t want = (size_t)n * dtype_size(dt);
    if (len != want)
      throw invalid_argument(std::string(fn) + ": " + std::to_string(len) + " bytes given for a " + dtype_name(dt) +
                             " tensor of shape " + dims_str(d) + ", which needs " + std::to_string(want));
    require(want == 0 || data != nullptr, fn, "data is NULL");
    Tensor t(dt, std::move(d));
    if (dt == DType::Bool) {
      const unsigned char* src = static_cast<const unsigned char*>(data);
      bool* dst = t.data<bool>();
      for (int64_t i = 0; i < n; ++i) dst[i] = src[i] != 0;
    } else if (want) {
      std::memcpy(t.raw(), data, want);
    }
    return wrap(std::move(t));
  });
}

TFL_Tensor* TFL_NewTensorWithDeallocator(TFL_DataType dtype, const int64_t* dims, int num_dims, void* data, size_t len,
                                         void (*deallocator)(void*, size_t, void*), void* arg, TFL_Status* status) {
  // The deallocator runs exactly once: from the buffer once it exists, here when we fail before that.
  bool owned = false;
  TFL_Tensor* r = guarded<TFL_Tensor*>(status, nullptr, [&] {
    const char* fn = "TFL_NewTensorWithDeallocator";
    DType dt = dtype_from_c(dtype, fn);
    require(dt != DType::String, fn, "string tensors are made with TFL_NewStringTensor");
    int64_t n;
    Dims d = checked_dims(dims, num_dims, dt, fn, &n);
    size_t want = (size_t)n * dtype_size(dt);
    if (len != want)
      throw invalid_argument(std::string(fn) + ": " + std::to_string(len) + " bytes given for a " + dtype_name(dt) +
                             " tensor of shape " + dims_str(d) + ", which needs " + std::to_string(want));
    require(want == 0 || data != nullptr, fn, "data is NULL");
    require(reinterpret_cast<uintptr_t>(data) % dtype_size(dt) == 0, fn, "data is not aligned to its element size");
    if (dt == DType::Bool) {
      const unsigned char* b = static_cast<const unsigned char*>(data);
      for (int64_t i = 0; i < n; ++i)
        if (b[i] > 1) throw invalid_argument(std::string(fn) + ": bool element " + std::to_string(i) + " is not 0 or 1");
    }
    auto buf = std::make_shared<Buffer>();
    buf->data = data ? data : buf.get();  // an empty tensor may come without memory
    buf->nbytes = want;
    buf->release = [deallocator, data, len, arg] {
      if (deallocator) deallocator(data, len, arg);
    };
    owned = true;
    return wrap(Tensor(dt, std::move(d), std::move(buf)));
  });
  if (!r && !owned && deallocator) deallocator(data, len, arg);
  return r;
}

TFL_Tensor* TFL_NewStringTensor(const int64_t* dims, int num_dims, const char* const* strings, const size_t* lengths,
                                TFL_Status* status) {
  return guarded<TFL_Tensor*>(status, nullptr, [&] {
    const char* fn = "TFL_NewStringTensor";
    int64_t n;
    Dims d = checked_dims(dims, num_dims, DType::String, fn, &n);
    require(n == 0 || (strings && lengths), fn, "strings or lengths is NULL");
    std::vector<std::string> v;
    v.reserve((size_t)n);
    for (int64_t i = 0; i < n; ++i) {
      require(strings[i] || lengths[i] == 0, fn, "a string element is NULL");
      v.emplace_back(strings[i] ? strings[i] : "", lengths[i]);
    }
    return wrap(Tensor::strings(std::move(d), std::move(v)));
  });
}

TFL_Tensor* TFL_TensorNewRef(const TFL_Tensor* t) {
  if (!t) return nullptr;
  return new (std::nothrow) TFL_Tensor{t->t};
}

void TFL_DeleteTensor(TFL_Tensor* t) { delete t; }

TFL_DataType TFL_TensorType(const TFL_Tensor* t) { return t ? dtype_to_c(t->t.dtype()) : TFL_FLOAT; }
int TFL_NumDims(const TFL_Tensor* t) { return t ? t->t.rank() : 0; }
int64_t TFL_Dim(const TFL_Tensor* t, int i) { return t && i >= 0 && i < t->t.rank() ? t->t.dim(i) : -1; }
int64_t TFL_TensorElementCount(const TFL_Tensor* t) { return t && t->t.valid() ? t->t.size() : 0; }

size_t TFL_TensorByteSize(const TFL_Tensor* t) {
  return t && t->t.valid() && t->t.dtype() != DType::String ? t->t.nbytes() : 0;
}

const void* TFL_TensorData(const TFL_Tensor* t) {
  return t && t->t.valid() && t->t.dtype() != DType::String ? t->t.raw() : nullptr;
}

// Note [writing tensors]
// A fetched tensor may share its buffer with what the engine keeps (a variable's value, a constant), and
// a handle made by TFL_TensorNewRef shares it with the original. Reading needs no copy; the first write
// through a handle whose buffer anyone else still holds copies it into a buffer of the handle's own.
void* TFL_TensorMutableData(TFL_Tensor* t) {
  if (!t || !t->t.valid() || t->t.dtype() == DType::String) return nullptr;
  try {
    if (t->t.buffer().use_count() > 1) t->t = t->t.deep_copy();
    return t->t.raw();
  } catch (...) {
    return nullptr;
  }
}

const char* TFL_TensorStringAt(const TFL_Tensor* t, int64_t i, size_t* len) {
  if (!t || !t->t.valid() || t->t.dtype() != DType::String || i < 0 || i >= t->t.size()) return nullptr;
  const std::string& s = t->t.string_values()[(size_t)i];
  if (len) *len = s.size();
  return s.data();
}

// ---------------------------------------------------------------------------------------------------
// Graphs, scopes and operations

const TFL_Graph::Variable* TFL_Graph::find_variable(const Node* n) const {
  auto it = variable_index.find(n);
  return it == variable_index.end() ? nullptr : &variable_info[it->second];
}

void TFL_Graph::add_variable_info(const Variable& v) {
  if (variable_index.count(v.var)) return;
  variable_info.push_back(v);
  variable_index[v.var] = variable_info.size() - 1;
}

namespace tideflow {
namespace capi {

std::string unique_name(TFL_Graph& g, const std::string& name) {
  return g.unique_name(g.name_stack.empty() ? name : g.name_stack + "/" + name);
}

Node* create_op(TFL_Graph& g, const std::string& type, const std::string& name, std::vector<Output> inputs,
                AttrMap attrs, std::vector<Node*> control, const std::string& location) {
  std::string n = name.empty() ? type : name;
  n = n.back() == '/' ? n.substr(0, n.size() - 1) : unique_name(g, n);
  std::vector<Node*> ctrl;
  size_t first = 0;
  for (size_t i = 0; i < g.control_stack.size(); ++i)
    if (g.control_stack[i].clear) first = i + 1;
  for (size_t i = first; i < g.control_stack.size(); ++i)
    for (Node* c : g.control_stack[i].ops) ctrl.push_back(c);
  ctrl.insert(ctrl.end(), control.begin(), control.end());
  std::vector<Node*> unique;
  for (Node* c : ctrl)
    if (std::find(unique.begin(), unique.end(), c) == unique.end()) unique.push_back(c);
  std::string device = g.device_stack.empty() ? "" : g.device_stack.back();
  return g.add_node(type, n, std::move(inputs), std::move(attrs), std::move(unique), location, device);
}

Output constant(TFL_Graph& g, const Tensor& value, const std::string& name) {
  AttrMap a;
  a["value"] = value;
  a["dtype"] = value.dtype();
  return create_op(g, "Const", name, {}, std::move(a))->out(0);
}

NameScope::NameScope(TFL_Graph& g, const std::string& name) : g_(g), saved_(g.name_stack) {
  if (name.empty()) {
    g_.name_stack.clear();
  } else if (name.back() == '/') {
    g_.name_stack = name.substr(0, name.size() - 1);
  } else {
    g_.name_stack = unique_name(g_, name);
  }
  scope_ = g_.name_stack.empty() ? "" : g_.name_stack + "/";
}

NameScope::~NameScope() { g_.name_stack = saved_; }

}  // namespace capi
}  // namespace tideflow

TFL_Graph* TFL_NewGraph(void) {
  try {
    auto g = std::make_shared<TFL_Graph>();
    g->weak = g;
    g->self = g;
    return g.get();
  } catch (...) {
    return nullptr;
  }
}

void TFL_DeleteGraph(TFL_Graph* g) {
  if (g) g->self.reset();  // may destroy g: nothing after this line touches it
}

TFL_Graph* TFL_OperationGraph(const TFL_Operation* op) { return op ? graph_of(node(op)) : nullptr; }
int TFL_GraphNumOperations(const TFL_Graph* g) { return g ? g->num_nodes() : 0; }

TFL_Operation* TFL_GraphOperationAt(const TFL_Graph* g, int i) {
  return g && i >= 0 && i < g->num_nodes() ? oper(g->node(i)) : nullptr;
}

TFL_Operation* TFL_GraphOperationByName(const TFL_Graph* g, const char* name) {
  if (!g || !name) return nullptr;
  try {
    return oper(g->find(name));
  } catch (...) {
    return nullptr;
  }
}

TFL_Output TFL_GraphTensorByName(const TFL_Graph* g, const char* name, TFL_Status* status) {
  return guarded<TFL_Output>(status, TFL_Output{nullptr, 0}, [&] {
    const char* fn = "TFL_GraphTensorByName";
    require(g != nullptr, fn, "graph is NULL");
    require(name != nullptr, fn, "name is NULL");
    std::string s = name, op = s;
    int index = 0;
    size_t colon = s.rfind(':');
    if (colon != std::string::npos) {
      op = s.substr(0, colon);
      std::string digits = s.substr(colon + 1);
      bool ok = !digits.empty() && digits.size() < 9 &&
                std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!ok)
        throw invalid_argument("The name '" + s + "' looks like an (invalid) Operation name, not a Tensor. Tensor names "
                               "must be of the form \"<op_name>:<output_index>\".");
      index = std::stoi(digits);
    }
    Node* n = g->find(op);
    if (!n)
      throw Error(ErrorCode::NotFound, "The name '" + s + "' refers to a Tensor which does not exist. The operation, '" +
                                           op + "', does not exist in the graph.");
    if (index >= n->num_outputs())
      throw Error(ErrorCode::NotFound, "The name '" + s + "' refers to a Tensor which does not exist. The operation, '" +
                                           op + "', exists but only has " + std::to_string(n->num_outputs()) +
                                           " outputs.");
    return TFL_Output{oper(n), index};
  });
}

namespace {
size_t copy_out(const std::string& s, char* buf, size_t buflen) {
  if (buf && buflen > 0) {
    size_t n = std::min(s.size(), buflen - 1);
    std::memcpy(buf, s.data(), n);
    buf[n] = '\0';
  }
  return s.size();
}
}  // namespace

size_t TFL_GraphUniqueName(TFL_Graph* g, const char* name, char* buf, size_t buflen) {
  if (!g || !name) return copy_out("", buf, buflen);
  try {
    return copy_out(unique_name(*g, name), buf, buflen);
  } catch (...) {
    return copy_out("", buf, buflen);
  }
}

void TFL_GraphFinalize(TFL_Graph* g) {
  if (g) g->finalize();
}

const char* TFL_GraphPushNameScope(TFL_Graph* g, const char* name, TFL_Status* status) {
  return guarded<const char*>(status, nullptr, [&]() -> const char* {
    require(g != nullptr, "TFL_GraphPushNameScope", "graph is NULL");
    std::string n = name ? name : "";
    TFL_Graph::OpenScope s{g->name_stack, ""};
    if (n.empty()) {
      g->name_stack.clear();
    } else if (n.back() == '/') {
      g->name_stack = n.substr(0, n.size() - 1);
    } else {
      // tf.name_scope's rules: a nested scope may start with "_" or "-", a root one must look like an op name.
      bool ok = std::all_of(n.begin(), n.end(), [](char c) {
        return std::isalnum((unsigned char)c) || std::strchr("_.\\/>-", c) != nullptr;
      });
      if (ok && g->name_stack.empty()) ok = std::isalnum((unsigned char)n[0]) || n[0] == '.';
      if (!ok)
        throw value_error("'" + n + "' is not a valid " + (g->name_stack.empty() ? "root " : "") + "scope name.");
      g->name_stack = unique_name(*g, n);
    }
    s.returned = g->name_stack.empty() ? "" : g->name_stack + "/";
    g->open_scopes.push_back(std::move(s));
    return g->open_scopes.back().returned.c_str();
  });
}

void TFL_GraphPopNameScope(TFL_Graph* g) {
  if (!g || g->open_scopes.empty()) return;
  g->name_stack = g->open_scopes.back().saved;
  g->open_scopes.pop_back();
}

void TFL_GraphPushControlDependencies(TFL_Graph* g, TFL_Operation* const* ops, int n) {
  if (!g) return;
  TFL_Graph::ControlScope c;
  c.clear = ops == nullptr;
  for (int i = 0; ops && i < n; ++i)
    if (ops[i]) c.ops.push_back(node(ops[i]));
  g->control_stack.push_back(std::move(c));
}

void TFL_GraphPopControlDependencies(TFL_Graph* g) {
  if (g && !g->control_stack.empty()) g->control_stack.pop_back();
}

void TFL_GraphPushDevice(TFL_Graph* g, const char* device) {
  if (g) g->device_stack.push_back(device ? device : "");
}

void TFL_GraphPopDevice(TFL_Graph* g) {
  if (g && !g->device_stack.empty()) g->device_stack.pop_back();
}

void TFL_GraphSetRandomSeed(TFL_Graph* g, int64_t seed) {
  if (!g) return;
  g->has_seed = true;
  g->seed = seed;
  g->seed_offset = 0;
}

// TensorFlow 1.x's get_seed, as python/tideflow/framework/random_seed.py applies it.
void TFL_GraphOpSeeds(TFL_Graph* g, int64_t op_seed, int64_t* seed, int64_t* seed2) {
  constexpr int64_t kDefaultGraphSeed = 87654321, kMaxInt32 = 2147483647;
  auto truncate = [](int64_t s) { return ((s % kMaxInt32) + kMaxInt32) % kMaxInt32; };
  int64_t s1 = 0, s2 = 0;
  bool any = false;
  if (g && g->has_seed) {
    if (op_seed < 0) op_seed = g->seed_offset++;
    s1 = truncate(g->seed);
    s2 = truncate(op_seed);
    any = true;
  } else if (op_seed >= 0) {
    s1 = kDefaultGraphSeed;
    s2 = truncate(op_seed);
    any = true;
  }
  if (any && s1 == 0 && s2 == 0) s2 = kMaxInt32;  // (0, 0) would mean "nondeterministic"
  if (seed) *seed = s1;
  if (seed2) *seed2 = s2;
}

const char* TFL_OperationName(const TFL_Operation* op) { return op ? node(op)->name.c_str() : ""; }
const char* TFL_OperationOpType(const TFL_Operation* op) { return op ? node(op)->type().c_str() : ""; }
const char* TFL_OperationDevice(const TFL_Operation* op) { return op ? node(op)->device.c_str() : ""; }
int TFL_OperationNumInputs(const TFL_Operation* op) { return op ? (int)node(op)->inputs.size() : 0; }

TFL_Output TFL_OperationInput(const TFL_Operation* op, int i) {
  if (!op || i < 0 || i >= (int)node(op)->inputs.size()) return TFL_Output{nullptr, 0};
  return tfl(node(op)->inputs[i]);
}

int TFL_OperationNumControlInputs(const TFL_Operation* op) { return op ? (int)node(op)->control_inputs.size() : 0; }

TFL_Operation* TFL_OperationControlInput(const TFL_Operation* op, int i) {
  if (!op || i < 0 || i >= (int)node(op)->control_inputs.size()) return nullptr;
  return oper(node(op)->control_inputs[i]);
}

int TFL_OperationNumOutputs(const TFL_Operation* op) { return op ? node(op)->num_outputs() : 0; }

TFL_DataType TFL_OutputType(TFL_Output o) {
  if (!o.oper || o.index < 0 || o.index >= node(o.oper)->num_outputs()) return TFL_FLOAT;
  return dtype_to_c(out(o).dtype());
}

int TFL_OutputNumDims(TFL_Output o) {
  if (!o.oper || o.index < 0 || o.index >= node(o.oper)->num_outputs()) return -1;
  return out(o).shape().rank();
}

void TFL_OutputDims(TFL_Output o, int64_t* dims, int num_dims) {
  if (!dims || !o.oper || o.index < 0 || o.index >= node(o.oper)->num_outputs()) return;
  const PartialShape& s = out(o).shape();
  for (int i = 0; i < num_dims && i < s.rank(); ++i) dims[i] = s.dims[i] < 0 ? -1 : s.dims[i];
}

// ---- building operations ----

struct TFL_OperationDescription {
  TFL_Graph* g = nullptr;
  std::string type, name, device, location, error;
  bool has_device = false;
  std::vector<Output> inputs;
  std::vector<Node*> control;
  AttrMap attrs;

  void fail(const std::string& what) {
    if (error.empty()) error = what;
  }
  // Attribute setters record the first problem; TFL_FinishOperation reports it.
  template <class F>
  void set(const char* name, F&& value) {
    try {
      if (!name) return fail("an attribute name is NULL");
      attrs[name] = value();
    } catch (const std::exception& e) {
      fail(std::string("attribute '") + name + "': " + e.what());
    }
  }
};

TFL_OperationDescription* TFL_NewOperation(TFL_Graph* g, const char* op_type, const char* name) {
  try {
    auto* d = new TFL_OperationDescription();
    d->g = g;
    d->type = op_type ? op_type : "";
    d->name = name ? name : "";
    return d;
  } catch (...) {
    return nullptr;
  }
}

void TFL_AddInput(TFL_OperationDescription* d, TFL_Output input) {
  if (!d) return;
  if (!input.oper) return d->fail("input " + std::to_string(d->inputs.size()) + " is NULL (a None tensor)");
  if (input.index < 0 || input.index >= node(input.oper)->num_outputs())
    return d->fail("input " + std::to_string(d->inputs.size()) + " refers to output " + std::to_string(input.index) +
                   " of '" + node(input.oper)->name + "', which has " +
                   std::to_string(node(input.oper)->num_outputs()) + " outputs");
  d->inputs.push_back(out(input));
}

void TFL_AddInputList(TFL_OperationDescription* d, const TFL_Output* inputs, int n) {
  if (!d) return;
  if (n > 0 && !inputs) return d->fail("the input list is NULL");
  for (int i = 0; i < n; ++i) TFL_AddInput(d, inputs[i]);
}

void TFL_AddControlInput(TFL_OperationDescription* d, TFL_Operation* op) {
  if (!d) return;
  if (!op) return d->fail("a control input is NULL");
  d->control.push_back(node(op));
}

void TFL_SetDevice(TFL_OperationDescription* d, const char* device) {
  if (!d) return;
  d->device = device ? device : "";
  d->has_device = true;
}

void TFL_SetLocation(TFL_OperationDescription* d, const char* location) {
  if (d) d->location = location ? location : "";
}

void TFL_SetAttrBool(TFL_OperationDescription* d, const char* name, unsigned char value) {
  if (d) d->set(name, [&] { return AttrValue(value != 0); });
}

void TFL_SetAttrInt(TFL_OperationDescription* d, const char* name, int64_t value) {
  if (d) d->set(name, [&] { return AttrValue(value); });
}

void TFL_SetAttrFloat(TFL_OperationDescription* d, const char* name, double value) {
  if (d) d->set(name, [&] { return AttrValue(value); });
}

void TFL_SetAttrString(TFL_OperationDescription* d, const char* name, const void* value, size_t len) {
  if (d) d->set(name, [&] {
    require(value || len == 0, "TFL_SetAttrString", "value is NULL");
    return AttrValue(std::string(static_cast<const char*>(value), value ? len : 0));
  });
}

void TFL_SetAttrType(TFL_OperationDescription* d, const char* name, TFL_DataType value) {
  if (d) d->set(name, [&] { return AttrValue(dtype_from_c(value, "TFL_SetAttrType")); });
}

void TFL_SetAttrShape(TFL_OperationDescription* d, const char* name, const int64_t* dims, int num_dims) {
  if (d) d->set(name, [&] {
    if (num_dims < 0) return AttrValue(PartialShape::unknown());
    require(num_dims == 0 || dims, "TFL_SetAttrShape", "dims is NULL");
    Dims v(dims, dims + num_dims);
    for (int64_t x : v) require(x >= -1, "TFL_SetAttrShape", "a dimension is below -1");
    return AttrValue(PartialShape(v));
  });
}

void TFL_SetAttrIntList(TFL_OperationDescription* d, const char* name, const int64_t* values, int n) {
  if (d) d->set(name, [&] {
    require(n >= 0 && (n == 0 || values), "TFL_SetAttrIntList", "bad list");
    return AttrValue(std::vector<int64_t>(values, values + n));
  });
}

void TFL_SetAttrFloatList(TFL_OperationDescription* d, const char* name, const double* values, int n) {
  if (d) d->set(name, [&] {
    require(n >= 0 && (n == 0 || values), "TFL_SetAttrFloatList", "bad list");
    return AttrValue(std::vector<double>(values, values + n));
  });
}

void TFL_SetAttrStringList(TFL_OperationDescription* d, const char* name, const void* const* values,
                           const size_t* lengths, int n) {
  if (d) d->set(name, [&] {
    require(n >= 0 && (n == 0 || (values && lengths)), "TFL_SetAttrStringList", "bad list");
    std::vector<std::string> v;
    for (int i = 0; i < n; ++i) {
      require(values[i] || lengths[i] == 0, "TFL_SetAttrStringList", "an element is NULL");
      v.emplace_back(static_cast<const char*>(values[i]), values[i] ? lengths[i] : 0);
    }
    return AttrValue(std::move(v));
  });
}

void TFL_SetAttrTypeList(TFL_OperationDescription* d, const char* name, const TFL_DataType* values, int n) {
  if (d) d->set(name, [&] {
    require(n >= 0 && (n == 0 || values), "TFL_SetAttrTypeList", "bad list");
    std::vector<DType> v;
    for (int i = 0; i < n; ++i) v.push_back(dtype_from_c(values[i], "TFL_SetAttrTypeList"));
    return AttrValue(std::move(v));
  });
}

void TFL_SetAttrTensor(TFL_OperationDescription* d, const char* name, const TFL_Tensor* value) {
  if (d) d->set(name, [&] {
    require(value && value->t.valid(), "TFL_SetAttrTensor", "value is NULL");
    return AttrValue(value->t.deep_copy());  // attributes own their values
  });
}

TFL_Operation* TFL_FinishOperation(TFL_OperationDescription* d, TFL_Status* status) {
  std::unique_ptr<TFL_OperationDescription> own(d);
  return guarded<TFL_Operation*>(status, nullptr, [&] {
    const char* fn = "TFL_FinishOperation";
    require(d != nullptr, fn, "the description is NULL");
    require(d->g != nullptr, fn, "the graph is NULL");
    if (!d->error.empty())
      throw invalid_argument("building '" + (d->name.empty() ? d->type : d->name) + "' (" + d->type + "): " + d->error);
    TFL_Graph& g = *d->g;
    if (d->has_device) g.device_stack.push_back(d->device);
    try {
      Node* n = create_op(g, d->type, d->name, std::move(d->inputs), std::move(d->attrs), std::move(d->control),
                          d->location);
      if (d->has_device) g.device_stack.pop_back();
      return oper(n);
    } catch (...) {
      if (d->has_device) g.device_stack.pop_back();
      throw;
    }
  });
}

void TFL_DeleteOperationDescription(TFL_OperationDescription* d) { delete d; }

// ---------------------------------------------------------------------------------------------------
// Gradients

void TFL_AddGradients(TFL_Graph* g, const TFL_Output* ys, int ny, const TFL_Output* xs, int nx,
                      const TFL_Output* grad_ys, const char* name, TFL_Output* dx, TFL_Status* status) {
  for (int i = 0; dx && i < nx; ++i) dx[i] = TFL_Output{nullptr, 0};
  guarded<int>(status, 0, [&] {
    const char* fn = "TFL_AddGradients";
    require(g != nullptr, fn, "graph is NULL");
    require(ny >= 0 && nx >= 0 && (ny == 0 || ys) && (nx == 0 || (xs && dx)), fn, "bad ys, xs or dx");
    std::vector<Output> y, x, gy;
    for (int i = 0; i < ny; ++i) y.push_back(checked_output(ys[i], fn, "a y"));
    for (int i = 0; i < nx; ++i) x.push_back(checked_output(xs[i], fn, "an x"));
    for (int i = 0; grad_ys && i < ny; ++i)
      gy.push_back(grad_ys[i].oper ? checked_output(grad_ys[i], fn, "a grad_y") : Output{});
    for (auto* list : {&y, &x, &gy})
      for (const Output& o : *list)
        if (o.valid() && o.node->graph != g)
          throw value_error(std::string(fn) + ": tensor '" + o.node->name + "' is not from this graph");
    NameScope scope(*g, name && *name ? name : "gradients");
    std::vector<Output> r = gradients(*g, y, x, gy, {}, scope.scope());
    for (int i = 0; i < nx; ++i) dx[i] = r[i].valid() ? tfl(r[i]) : TFL_Output{nullptr, 0};
    return 0;
  });
}

// ---------------------------------------------------------------------------------------------------
// Sessions

TFL_Session* TFL_NewSession(TFL_Graph* g, int inter_op_threads, int intra_op_threads, TFL_Status* status) {
  return guarded<TFL_Session*>(status, nullptr, [&] {
    const char* fn = "TFL_NewSession";
    require(g != nullptr, fn, "graph is NULL");
    require(inter_op_threads >= 0 && intra_op_threads >= 0, fn, "thread counts must be >= 0");
    auto ref = g->ref();
    auto s = std::make_shared<Session>(std::shared_ptr<Graph>(ref, static_cast<Graph*>(ref.get())),
                                       SessionOptions{inter_op_threads, intra_op_threads});
    return new TFL_Session{std::move(s), std::move(ref)};
  });
}

TFL_Graph* TFL_SessionGraph(const TFL_Session* s) { return s ? s->g.get() : nullptr; }

void TFL_CloseSession(TFL_Session* s, TFL_Status* status) {
  guarded<int>(status, 0, [&] {
    require(s != nullptr, "TFL_CloseSession", "session is NULL");
    s->s->close();
    return 0;
  });
}

void TFL_DeleteSession(TFL_Session* s) { delete s; }

namespace {

struct RunArgs {
  std::vector<Output> feeds, fetches;
  std::vector<Node*> targets;
};

RunArgs resolve(const TFL_Session* s, const TFL_Output* feeds, int nfeeds, const TFL_Output* fetches, int nfetches,
                TFL_Operation* const* targets, int ntargets, const char* fn) {
  require(s != nullptr, fn, "session is NULL");
  require(nfeeds >= 0 && nfetches >= 0 && ntargets >= 0, fn, "a count is negative");
  require((nfeeds == 0 || feeds) && (nfetches == 0 || fetches) && (ntargets == 0 || targets), fn,
          "an array is NULL");
  RunArgs a;
  const Graph* g = s->g.get();
  auto mine = [&](const Node* n) {
    if (n->graph != g) throw invalid_argument(std::string(fn) + ": '" + n->name + "' is not from the session's graph");
  };
  for (int i = 0; i < nfeeds; ++i) {
    a.feeds.push_back(checked_output(feeds[i], fn, "a feed"));
    mine(a.feeds.back().node);
  }
  for (int i = 0; i < nfetches; ++i) {
    a.fetches.push_back(checked_output(fetches[i], fn, "a fetch"));
    mine(a.fetches.back().node);
  }
  for (int i = 0; i < ntargets; ++i) {
    a.targets.push_back(checked_op(targets[i], fn, "a target"));
    mine(a.targets.back());
  }
  return a;
}

std::vector<Tensor> feed_tensors(TFL_Tensor* const* values, size_t n, const char* fn) {
  require(n == 0 || values, fn, "feed_values is NULL");
  std::vector<Tensor> v;
  v.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!values[i] || !values[i]->t.valid())
      throw invalid_argument(std::string(fn) + ": feed value " + std::to_string(i) + " is NULL");
    v.push_back(values[i]->t);
  }
  return v;
}

void hand_out(std::vector<Tensor>& res, TFL_Tensor** out) {
  size_t made = 0;
  try {
    for (; made < res.size(); ++made) out[made] = new TFL_Tensor{std::move(res[made])};
  } catch (...) {
    for (size_t i = 0; i < made; ++i) {
      delete out[i];
      out[i] = nullptr;
    }
    throw;
  }
}

}  // namespace

void TFL_SessionRun(TFL_Session* s, const TFL_Output* feeds, TFL_Tensor* const* feed_values, int nfeeds,
                    const TFL_Output* fetches, TFL_Tensor** fetch_values, int nfetches, TFL_Operation* const* targets,
                    int ntargets, TFL_Status* status) {
  for (int i = 0; fetch_values && i < nfetches; ++i) fetch_values[i] = nullptr;
  guarded<int>(status, 0, [&] {
    const char* fn = "TFL_SessionRun";
    RunArgs a = resolve(s, feeds, nfeeds, fetches, nfetches, targets, ntargets, fn);
    require(nfetches == 0 || fetch_values, fn, "fetch_values is NULL");
    std::vector<Tensor> res = s->s->run(a.feeds, feed_tensors(feed_values, (size_t)nfeeds, fn), a.fetches, a.targets);
    hand_out(res, fetch_values);
    return 0;
  });
}

struct TFL_Callable {
  std::shared_ptr<Session> s;
  std::shared_ptr<TFL_Graph> g;
  Prepared plan;
  int nfeeds = 0, nfetches = 0;
};

TFL_Callable* TFL_SessionMakeCallable(TFL_Session* s, const TFL_Output* feeds, int nfeeds, const TFL_Output* fetches,
                                      int nfetches, TFL_Operation* const* targets, int ntargets, TFL_Status* status) {
  return guarded<TFL_Callable*>(status, nullptr, [&] {
    RunArgs a = resolve(s, feeds, nfeeds, fetches, nfetches, targets, ntargets, "TFL_SessionMakeCallable");
    auto plan = s->s->prepare(a.feeds, a.fetches, a.targets);
    return new TFL_Callable{s->s, s->g, std::move(plan), nfeeds, nfetches};
  });
}

void TFL_CallableRun(TFL_Callable* c, TFL_Tensor* const* feed_values, TFL_Tensor** fetch_values, TFL_Status* status) {
  if (c && fetch_values)
    for (int i = 0; i < c->nfetches; ++i) fetch_values[i] = nullptr;
  guarded<int>(status, 0, [&] {
    const char* fn = "TFL_CallableRun";
    require(c != nullptr, fn, "callable is NULL");
    require(c->nfetches == 0 || fetch_values, fn, "fetch_values is NULL");
    std::vector<Tensor> res = c->s->run(c->plan, feed_tensors(feed_values, (size_t)c->nfeeds, fn));
    hand_out(res, fetch_values);
    return 0;
  });
}

int TFL_CallableNumFeeds(const TFL_Callable* c) { return c ? c->nfeeds : 0; }
int TFL_CallableNumFetches(const TFL_Callable* c) { return c ? c->nfetches : 0; }
void TFL_DeleteCallable(TFL_Callable* c) { delete c; }
