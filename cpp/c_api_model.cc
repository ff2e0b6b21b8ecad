// The C API's model-level half: variables and collections, meta graphs shared with Python, savers and
// checkpoints, TensorBoard event files. What python/tideflow/ops/state_ops.py, framework/meta_graph.py
// and train/saver.py do around the C++ core, done here for programs without Python, in the same file
// formats and with the same names, so a model moves freely between the two.
#include <sys/stat.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "c_api_internal.h"
#include "io/checkpoint.h"
#include "io/graph_io.h"
#include "summary/event_writer.h"

using namespace tideflow;
using namespace tideflow::capi;

namespace tideflow {
namespace capi {

namespace {

std::string tensor_name(const Output& o) { return o.node->name + ":" + std::to_string(o.index); }

std::string describe(const Output& o) {
  return "Tensor(\"" + tensor_name(o) + "\", shape=" + o.shape().str() + ", dtype=" + dtype_name(o.dtype()) + ")";
}

}  // namespace

TFL_Graph::Variable add_variable(TFL_Graph& g, const std::string& scope, const Output& init, bool trainable,
                                 const std::vector<std::string>& collections, const std::string& location) {
  if (!init.valid()) throw value_error("initial_value must be specified.");
  if (init.node->graph != &g) throw value_error("initial_value " + describe(init) + " is not from this graph");
  if (!init.shape().fully_defined()) throw value_error("initial_value must have a shape specified: " + describe(init));
  // tf.Variable builds under tf.init_scope: no control dependencies of the caller reach the initializer.
  ClearControlDependencies no_deps(g);
  NameScope ns(g, scope);
  AttrMap va;
  va["shape"] = init.shape();
  va["dtype"] = init.dtype();
  Node* var = create_op(g, "VariableV2", ns.scope(), {}, std::move(va), {}, location);
  AttrMap aa;
  aa["validate_shape"] = true;
  Node* assign = create_op(g, "Assign", "Assign", {var->out(0), init}, std::move(aa), {}, location);
  Node* read = create_op(g, "Identity", "read", {var->out(0)}, {}, {}, location);
  TFL_Graph::Variable v{var, assign, read->out(0), init, trainable};
  g.add_variable_info(v);
  std::vector<std::string> keys = collections;
  if (trainable && std::find(keys.begin(), keys.end(), "trainable_variables") == keys.end())
    keys.push_back("trainable_variables");
  for (const std::string& k : keys) g.collections[k].push_back({TFL_Graph::Item::kVariable, var->name, {}});
  return v;
}

std::vector<TFL_Graph::Variable> collection_variables(const TFL_Graph& g, const std::string& key) {
  std::vector<TFL_Graph::Variable> out;
  auto it = g.collections.find(key);
  if (it == g.collections.end()) return out;
  for (const TFL_Graph::Item& item : it->second) {
    if (item.kind != TFL_Graph::Item::kVariable) continue;
    if (const TFL_Graph::Variable* v = g.find_variable(g.find(item.name))) out.push_back(*v);
  }
  return out;
}

std::vector<std::pair<std::string, const Node*>> default_saver_vars(const TFL_Graph& g) {
  std::vector<std::pair<std::string, const Node*>> out;
  if (g.has_saver) {
    for (auto& [ckpt, var] : g.saver_vars) {
      const Node* n = g.find(var);
      if (!n) throw Error(ErrorCode::NotFound, "The saver of the imported meta graph saves '" + var +
                                                   "', which is not in the graph");
      out.emplace_back(ckpt, n);
    }
    return out;
  }
  for (const TFL_Graph::Variable& v : collection_variables(g, "variables")) {
    for (auto& p : out)
      if (p.first == v.var->name) throw value_error("At least two variables have the same name: " + v.var->name);
    out.emplace_back(v.var->name, v.var);
  }
  return out;
}

}  // namespace capi
}  // namespace tideflow

TFL_Variable TFL_AddVariable(TFL_Graph* g, const char* name, TFL_Output initial_value, int trainable,
                             const char* location, TFL_Status* status) {
  TFL_Variable none{};
  return guarded<TFL_Variable>(status, none, [&] {
    const char* fn = "TFL_AddVariable";
    require(g != nullptr, fn, "graph is NULL");
    Output init = checked_output(initial_value, fn, "initial_value");
    std::string n = name && *name ? name : "Variable";
    std::string scope = n.back() == '/' ? n : unique_name(*g, n) + "/";
    TFL_Graph::Variable v = add_variable(*g, scope, init, trainable != 0, {"variables"}, location ? location : "");
    return TFL_Variable{oper(v.var), oper(v.initializer), tfl(v.snapshot),
                        v.initial_value.valid() ? tfl(v.initial_value) : TFL_Output{nullptr, 0}, v.trainable};
  });
}

namespace {
void fill(TFL_Variable* out, const TFL_Graph::Variable& v) {
  if (!out) return;
  *out = TFL_Variable{oper(v.var), oper(v.initializer), v.snapshot.valid() ? tfl(v.snapshot) : TFL_Output{nullptr, 0},
                      v.initial_value.valid() ? tfl(v.initial_value) : TFL_Output{nullptr, 0}, v.trainable};
}
}  // namespace

int TFL_GraphNumVariables(const TFL_Graph* g) {
  try {
    return g ? (int)collection_variables(*g, "variables").size() : 0;
  } catch (...) {
    return 0;
  }
}

int TFL_GraphVariableAt(const TFL_Graph* g, int i, TFL_Variable* out) {
  try {
    if (!g || i < 0) return 0;
    auto it = g->collections.find("variables");
    if (it == g->collections.end()) return 0;
    for (const TFL_Graph::Item& item : it->second) {
      if (item.kind != TFL_Graph::Item::kVariable) continue;
      const TFL_Graph::Variable* v = g->find_variable(g->find(item.name));
      if (v && i-- == 0) {
        fill(out, *v);
        return 1;
      }
    }
    return 0;
  } catch (...) {
    return 0;
  }
}

int TFL_GraphFindVariable(const TFL_Graph* g, const TFL_Operation* var, TFL_Variable* out) {
  if (!g || !var) return 0;
  const TFL_Graph::Variable* v = g->find_variable(node(var));
  if (!v) return 0;
  fill(out, *v);
  return 1;
}

TFL_Operation* TFL_GlobalVariablesInitializer(TFL_Graph* g, const char* name, TFL_Status* status) {
  return guarded<TFL_Operation*>(status, nullptr, [&] {
    require(g != nullptr, "TFL_GlobalVariablesInitializer", "graph is NULL");
    std::vector<Node*> inits;
    for (const TFL_Graph::Variable& v : collection_variables(*g, "variables")) inits.push_back(v.initializer);
    g->control_stack.push_back({false, inits});
    try {
      Node* n = create_op(*g, "NoOp", name && *name ? name : "init", {});
      g->control_stack.pop_back();
      return oper(n);
    } catch (...) {
      g->control_stack.pop_back();
      throw;
    }
  });
}

// tf.train.get_or_create_global_step: the GLOBAL_STEP collection's variable, else the node named
// "global_step", else a new int64 variable starting at 0 (not trainable).
TFL_Operation* TFL_GetOrCreateGlobalStep(TFL_Graph* g, TFL_Status* status) {
  return guarded<TFL_Operation*>(status, nullptr, [&]() -> TFL_Operation* {
    require(g != nullptr, "TFL_GetOrCreateGlobalStep", "graph is NULL");
    auto it = g->collections.find("global_step");
    Node* step = nullptr;
    if (it != g->collections.end() && !it->second.empty()) {
      if (it->second.size() > 1) throw value_error("Multiple tensors in the global_step collection.");
      step = g->find(it->second[0].name);
    } else {
      step = g->find("global_step");
    }
    if (step) {
      if (step->type() != "VariableV2" || !is_integer(step->out_dtypes[0]))
        throw type_error("Existing \"global_step\" must be an integer variable, got '" + step->name + "' (" +
                         step->type() + ", " + dtype_name(step->out_dtypes[0]) + ")");
      return oper(step);
    }
    ClearControlDependencies no_deps(*g);
    NameScope root(*g, "");
    std::string scope = unique_name(*g, "global_step") + "/";
    Output init;
    {
      NameScope ns(*g, scope);
      init = constant(*g, Tensor::scalar<int64_t>(0), "initial_value");
    }
    TFL_Graph::Variable v = add_variable(*g, scope, init, false, {"variables", "global_step"});
    return oper(v.var);
  });
}

int TFL_GraphCollectionSize(const TFL_Graph* g, const char* key) {
  if (!g || !key) return 0;
  auto it = g->collections.find(key);
  return it == g->collections.end() ? 0 : (int)it->second.size();
}

const char* TFL_GraphCollectionItem(const TFL_Graph* g, const char* key, int i) {
  if (!g || !key) return nullptr;
  auto it = g->collections.find(key);
  if (it == g->collections.end() || i < 0 || i >= (int)it->second.size()) return nullptr;
  const TFL_Graph::Item& item = it->second[i];
  return item.kind == TFL_Graph::Item::kValue ? nullptr : item.name.c_str();
}

void TFL_GraphAddToCollection(TFL_Graph* g, const char* key, const char* name, TFL_Status* status) {
  guarded<int>(status, 0, [&] {
    const char* fn = "TFL_GraphAddToCollection";
    require(g != nullptr && key != nullptr && name != nullptr, fn, "graph, key or name is NULL");
    std::string n = name;
    TFL_Graph::Item item;
    item.name = n;
    if (n.find(':') != std::string::npos) {
      TFL_Status st;
      TFL_GraphTensorByName(g, name, &st);
      if (st.code != TFL_OK) throw Error(static_cast<ErrorCode>(st.code), st.msg);
      item.kind = TFL_Graph::Item::kTensor;
    } else {
      Node* op = g->find(n);
      if (!op) throw Error(ErrorCode::NotFound, "The name '" + n + "' refers to an Operation not in the graph.");
      item.kind = g->find_variable(op) ? TFL_Graph::Item::kVariable : TFL_Graph::Item::kOp;
    }
    g->collections[key].push_back(std::move(item));
    return 0;
  });
}

// ---------------------------------------------------------------------------------------------------
// Meta graphs: the JSON section python/tideflow/framework/meta_graph.py writes and reads

namespace {

constexpr const char* kFormat = "tideflow.meta_graph";

void dump(std::string& out, const json::Value& v) {
  switch (v.kind) {
    case json::Value::Null: out += "null"; return;
    case json::Value::Bool: out += v.b ? "true" : "false"; return;
    case json::Value::Int: out += std::to_string(v.i); return;
    case json::Value::Double: {
      if (!std::isfinite(v.d)) throw value_error("a meta graph cannot hold a non-finite number");
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v.d);
      out += buf;
      if (!std::strpbrk(buf, ".eE")) out += ".0";
      return;
    }
    case json::Value::String: json::quote(out, v.s); return;
    case json::Value::Array:
      out += "[";
      for (size_t i = 0; i < v.arr.size(); ++i) {
        if (i) out += ",";
        dump(out, v.arr[i]);
      }
      out += "]";
      return;
    case json::Value::Object:
      out += "{";
      for (size_t i = 0; i < v.obj.size(); ++i) {
        if (i) out += ",";
        json::quote(out, v.obj[i].first);
        out += ":";
        dump(out, v.obj[i].second);
      }
      out += "}";
      return;
  }
}

std::string quoted(const std::string& s) {
  std::string out;
  json::quote(out, s);
  return out;
}

std::string encode_item(const TFL_Graph& g, const TFL_Graph::Item& item) {
  using Item = TFL_Graph::Item;
  if (item.kind == Item::kValue) {
    std::string s;
    dump(s, item.value);
    return s;
  }
  if (item.kind == Item::kTensor) return "{\"tensor\":" + quoted(item.name) + "}";
  const TFL_Graph::Variable* v = item.kind == Item::kVariable ? g.find_variable(g.find(item.name)) : nullptr;
  if (!v) return "{\"op\":" + quoted(item.name) + "}";
  return "{\"variable\":{\"var\":" + quoted(v->var->name) + ",\"init\":" + quoted(v->initializer->name) +
         ",\"initial_value\":" + (v->initial_value.valid() ? quoted(tensor_name(v->initial_value)) : "null") +
         ",\"snapshot\":" + quoted(tensor_name(v->snapshot)) + ",\"trainable\":" + (v->trainable ? "true" : "false") +
         "}}";
}

std::string meta_json(const TFL_Graph& g, const std::vector<std::pair<std::string, const Node*>>& saver_vars,
                      int max_to_keep) {
  std::string s = "{\"format\":" + quoted(kFormat) + ",\"meta_info\":{\"tideflow_version\":" + quoted(TFL_Version()) +
                  "},\"seed\":" + (g.has_seed ? std::to_string(g.seed) : "null") + ",\"collections\":{";
  bool first = true;
  for (auto& [key, items] : g.collections) {
    if (items.empty()) continue;
    s += (first ? "" : ",") + quoted(key) + ":[";
    first = false;
    for (size_t i = 0; i < items.size(); ++i) s += (i ? "," : "") + encode_item(g, items[i]);
    s += "]";
  }
  s += "},\"saver\":";
  if (saver_vars.empty()) return s + "null}";
  s += "{\"var_list\":[";
  for (size_t i = 0; i < saver_vars.size(); ++i)
    s += (i ? ",[" : "[") + quoted(saver_vars[i].first) + "," + quoted(saver_vars[i].second->name) + "]";
  return s + "],\"max_to_keep\":" + std::to_string(max_to_keep) +
         ",\"keep_checkpoint_every_n_hours\":10000.0,\"name\":null}}";
}

const json::Value& field(const json::Value& obj, const char* key, json::Value::Kind kind, const std::string& source) {
  const json::Value* v = obj.find(key);
  if (!v || !v->is(kind))
    throw Error(ErrorCode::DataLoss, "Meta graph " + source + ": malformed Python section (field '" + key + "')");
  return *v;
}

// The meta graph's Python section applied to g: variables, collections, seed and saver (names under
// `prefix`), as import_meta_graph in framework/meta_graph.py does.
void apply_meta(TFL_Graph& g, const std::string& raw, const std::string& prefix, const std::string& source) {
  json::Value meta = json::parse(raw.empty() ? "{}" : raw, "Meta graph " + source + ": Python section");
  if (!meta.is(json::Value::Object)) throw value_error("Meta graph " + source + ": unknown Python section");
  if (const json::Value* f = meta.find("format"))
    if (!f->is(json::Value::String) || f->s != kFormat)
      throw value_error("Meta graph " + source + ": unknown Python section (format " + (f->is(json::Value::String) ? f->s : "?") + ")");
  auto tensor = [&](const json::Value& v) -> Output {
    if (v.is(json::Value::Null)) return Output{};
    if (!v.is(json::Value::String)) throw Error(ErrorCode::DataLoss, "Meta graph " + source + ": malformed tensor name");
    TFL_Status st;
    TFL_Output o = TFL_GraphTensorByName(&g, (prefix + v.s).c_str(), &st);
    if (st.code != TFL_OK) throw Error(static_cast<ErrorCode>(st.code), "Meta graph " + source + ": " + st.msg);
    return out(o);
  };
  auto op = [&](const std::string& name) {
    Node* n = g.find(prefix + name);
    if (!n) throw Error(ErrorCode::DataLoss, "Meta graph " + source + ": no operation '" + prefix + name + "'");
    return n;
  };
  if (const json::Value* cols = meta.find("collections")) {
    if (!cols->is(json::Value::Object)) throw Error(ErrorCode::DataLoss, "Meta graph " + source + ": malformed collections");
    for (auto& [key, items] : cols->obj) {
      if (!items.is(json::Value::Array)) throw Error(ErrorCode::DataLoss, "Meta graph " + source + ": malformed collection " + key);
      auto& list = g.collections[key];
      for (const json::Value& e : items.arr) {
        if (!e.is(json::Value::Object) || e.obj.size() != 1)
          throw Error(ErrorCode::DataLoss, "Meta graph " + source + ": malformed item of collection " + key);
        const std::string& kind = e.obj[0].first;
        const json::Value& val = e.obj[0].second;
        TFL_Graph::Item item;
        if (kind == "variable") {
          std::string var = field(val, "var", json::Value::String, source).s;
          Node* vn = op(var);
          if (!g.find_variable(vn)) {
            const json::Value* tr = val.find("trainable");
            TFL_Graph::Variable v{vn, op(field(val, "init", json::Value::String, source).s),
                                  tensor(field(val, "snapshot", json::Value::String, source)),
                                  val.find("initial_value") ? tensor(*val.find("initial_value")) : Output{},
                                  !tr || !tr->is(json::Value::Bool) || tr->b};
            g.add_variable_info(v);
          }
          item = {TFL_Graph::Item::kVariable, vn->name, {}};
        } else if (kind == "tensor") {
          item = {TFL_Graph::Item::kTensor, tensor_name(tensor(val)), {}};
        } else if (kind == "op") {
          if (!val.is(json::Value::String)) throw Error(ErrorCode::DataLoss, "Meta graph " + source + ": malformed op item");
          item = {TFL_Graph::Item::kOp, op(val.s)->name, {}};
        } else {
          item.kind = TFL_Graph::Item::kValue;
          item.value = e;
        }
        list.push_back(std::move(item));
      }
    }
  }
  if (const json::Value* seed = meta.find("seed"))
    if (seed->is(json::Value::Int) && !g.has_seed) {
      g.has_seed = true;
      g.seed = seed->i;
      g.seed_offset = 0;
    }
  const json::Value* saver = meta.find("saver");
  if (saver && saver->is(json::Value::Object)) {
    std::vector<std::pair<std::string, std::string>> vars;
    for (const json::Value& p : field(*saver, "var_list", json::Value::Array, source).arr) {
      if (!p.is(json::Value::Array) || p.arr.size() != 2 || !p.arr[0].is(json::Value::String) ||
          !p.arr[1].is(json::Value::String))
        throw Error(ErrorCode::DataLoss, "Meta graph " + source + ": malformed saver var_list");
      vars.emplace_back(p.arr[0].s, op(p.arr[1].s)->name);
    }
    g.has_saver = true;
    g.saver_vars = std::move(vars);
    const json::Value* keep = saver->find("max_to_keep");
    g.saver_max_to_keep = keep && keep->is(json::Value::Int) ? (int)keep->i : 5;
  }
}

}  // namespace

namespace tideflow {
namespace capi {
void export_meta_graph(const TFL_Graph& g, const std::string& path,
                       const std::vector<std::pair<std::string, const Node*>>& saver_vars, int max_to_keep) {
  write_meta_graph(path, g, meta_json(g, saver_vars, max_to_keep));
}
}  // namespace capi
}  // namespace tideflow

void TFL_ImportMetaGraph(TFL_Graph* g, const char* path, const char* import_scope, TFL_Status* status) {
  guarded<int>(status, 0, [&] {
    const char* fn = "TFL_ImportMetaGraph";
    require(g != nullptr && path != nullptr, fn, "graph or path is NULL");
    std::string scope = import_scope ? import_scope : "";
    ImportedGraph r = read_meta_graph(*g, path, ImportOptions{scope, false});
    std::string prefix = scope.empty() || scope.back() == '/' ? scope : scope + "/";
    apply_meta(*g, r.meta_json, prefix, path);
    return 0;
  });
}

void TFL_ExportMetaGraph(TFL_Graph* g, const char* path, TFL_Status* status) {
  guarded<int>(status, 0, [&] {
    require(g != nullptr && path != nullptr, "TFL_ExportMetaGraph", "graph or path is NULL");
    export_meta_graph(*g, path, default_saver_vars(*g), g->has_saver ? g->saver_max_to_keep : 5);
    return 0;
  });
}

// ---------------------------------------------------------------------------------------------------
// Savers: train/saver.py's bookkeeping over cpp/io/checkpoint.h

struct TFL_Saver {
  std::shared_ptr<TFL_Graph> g;
  std::vector<std::pair<std::string, const Node*>> vars;
  int max_to_keep = 5;
  std::vector<std::pair<std::string, double>> last;  // kept prefixes with their times, oldest first
  std::string result;
};

namespace {

bool is_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string dirname_of(const std::string& p) {
  size_t s = p.rfind('/');
  if (s == std::string::npos) return "";
  return s == 0 ? "/" : p.substr(0, s);
}

// generate_checkpoint_state_proto's rule: with a relative directory, paths are stored relative to it.
std::string relative_to(const std::string& p, const std::string& dir) {
  if (p.empty() || p[0] == '/' || dir[0] == '/') return p;
  if (dir == ".") return p.compare(0, 2, "./") == 0 ? p.substr(2) : p;
  std::string d = dir.back() == '/' ? dir : dir + "/";
  return p.compare(0, d.size(), d) == 0 ? p.substr(d.size()) : p;
}

void remove_checkpoint(const std::string& prefix) {
  std::remove(checkpoint_file(prefix).c_str());
  std::remove((prefix + ".meta").c_str());
}

Session& session_for(TFL_Saver* saver, TFL_Session* s, const char* fn) {
  require(saver != nullptr, fn, "saver is NULL");
  require(s != nullptr, fn, "session is NULL");
  if (s->g != saver->g) throw value_error("The Session's graph is not the graph of the Saver's variables.");
  return *s->s;
}

}  // namespace

TFL_Saver* TFL_NewSaver(TFL_Graph* g, TFL_Operation* const* var_list, int nvars, int max_to_keep, TFL_Status* status) {
  return guarded<TFL_Saver*>(status, nullptr, [&] {
    const char* fn = "TFL_NewSaver";
    require(g != nullptr, fn, "graph is NULL");
    auto saver = std::make_unique<TFL_Saver>();
    saver->g = g->ref();
    saver->max_to_keep = max_to_keep;
    if (!var_list) {
      saver->vars = default_saver_vars(*g);
    } else {
      require(nvars >= 0, fn, "nvars is negative");
      for (int i = 0; i < nvars; ++i) {
        Node* n = checked_op(var_list[i], fn, "a variable");
        if (n->type() != "VariableV2" || n->graph != g)
          throw type_error("Every element of var_list must be a variable of the saver's graph, got '" + n->name +
                           "' (" + n->type() + ")");
        bool dup = false;
        for (auto& p : saver->vars) {
          if (p.second == n) dup = true;
          else if (p.first == n->name) throw value_error("At least two variables have the same name: " + n->name);
        }
        if (!dup) saver->vars.emplace_back(n->name, n);
      }
    }
    if (saver->vars.empty()) throw value_error("No variables to save");
    return saver.release();
  });
}

void TFL_DeleteSaver(TFL_Saver* saver) { delete saver; }

const char* TFL_SaverSave(TFL_Saver* saver, TFL_Session* s, const char* save_path, int64_t global_step,
                          int write_meta, TFL_Status* status) {
  return guarded<const char*>(status, nullptr, [&] {
    const char* fn = "TFL_SaverSave";
    Session& sess = session_for(saver, s, fn);
    require(save_path != nullptr && *save_path, fn, "save_path is empty");
    std::string path = save_path;
    std::string prefix = global_step >= 0 ? path + "-" + std::to_string(global_step) : path;
    std::string dir = dirname_of(path);
    if (dir.empty()) dir = ".";
    if (!is_dir(dir)) throw value_error("Parent directory of " + path + " doesn't exist, can't save.");
    Metadata meta;
    if (global_step >= 0) meta["global_step"] = std::to_string(global_step);
    save_variables(sess, checkpoint_file(prefix), saver->vars, meta);
    if (write_meta) export_meta_graph(*saver->g, prefix + ".meta", saver->vars, saver->max_to_keep);

    auto& last = saver->last;
    last.erase(std::remove_if(last.begin(), last.end(), [&](auto& p) { return p.first == prefix; }), last.end());
    last.emplace_back(prefix, (double)std::time(nullptr));
    std::vector<std::string> doomed;
    while (saver->max_to_keep > 0 && (int)last.size() > saver->max_to_keep) {
      doomed.push_back(last.front().first);
      last.erase(last.begin());
    }
    CheckpointState st;
    st.model_checkpoint_path = relative_to(prefix, dir);
    for (auto& [p, t] : last) {
      st.all_model_checkpoint_paths.push_back(relative_to(p, dir));
      st.all_model_checkpoint_timestamps.push_back(t);
    }
    write_checkpoint_state(dir, st);
    for (const std::string& p : doomed) remove_checkpoint(p);
    saver->result = prefix;
    return saver->result.c_str();
  });
}

void TFL_SaverRestore(TFL_Saver* saver, TFL_Session* s, const char* save_path, TFL_Status* status) {
  guarded<int>(status, 0, [&] {
    const char* fn = "TFL_SaverRestore";
    Session& sess = session_for(saver, s, fn);
    if (!save_path) throw value_error("Can't load save_path when it is None.");
    std::string file = checkpoint_file(save_path);
    if (!is_file(file)) throw value_error(std::string("The passed save_path is not a valid checkpoint: ") + save_path);
    restore_variables(sess, file, saver->vars);
    return 0;
  });
}

size_t TFL_LatestCheckpoint(const char* dir, char* buf, size_t buflen, TFL_Status* status) {
  std::string found = guarded<std::string>(status, "", [&]() -> std::string {
    require(dir != nullptr, "TFL_LatestCheckpoint", "dir is NULL");
    std::string d = *dir ? dir : ".";
    CheckpointState st;
    try {
      if (!read_checkpoint_state(d, &st)) return "";
    } catch (const Error&) {
      return "";  // as TensorFlow: an unreadable state file is ignored
    }
    if (st.model_checkpoint_path.empty())
      throw value_error("Invalid checkpoint state loaded from " + d + "/checkpoint");
    std::string p = st.model_checkpoint_path;
    if (p[0] != '/') p = (d.back() == '/' ? d : d + "/") + p;
    return is_file(checkpoint_file(p)) ? p : "";
  });
  if (buf && buflen) {
    size_t n = std::min(found.size(), buflen - 1);
    std::memcpy(buf, found.data(), n);
    buf[n] = '\0';
  }
  return found.size();
}

TFL_Tensor* TFL_LoadCheckpointTensor(const char* save_path, const char* name, TFL_Status* status) {
  return guarded<TFL_Tensor*>(status, nullptr, [&] {
    require(save_path != nullptr && name != nullptr, "TFL_LoadCheckpointTensor", "save_path or name is NULL");
    CheckpointReader r(checkpoint_file(save_path));
    return new TFL_Tensor{r.read(name)};
  });
}

// ---------------------------------------------------------------------------------------------------
// Event files

struct TFL_EventWriter {
  std::unique_ptr<EventWriter> w;
  std::string filename;
};

TFL_EventWriter* TFL_NewEventWriter(const char* logdir, double flush_secs, TFL_Status* status) {
  return guarded<TFL_EventWriter*>(status, nullptr, [&] {
    require(logdir != nullptr && *logdir, "TFL_NewEventWriter", "logdir is empty");
    auto w = std::make_unique<EventWriter>(logdir, 10, flush_secs > 0 ? flush_secs : 120.0);
    std::string f = w->filename();
    return new TFL_EventWriter{std::move(w), std::move(f)};
  });
}

namespace {
EventWriter& writer(TFL_EventWriter* w, const char* fn) {
  require(w != nullptr, fn, "writer is NULL");
  return *w->w;
}
}  // namespace

void TFL_EventWriterAddScalar(TFL_EventWriter* w, const char* tag, double value, int64_t step, TFL_Status* status) {
  guarded<int>(status, 0, [&] {
    require(tag != nullptr, "TFL_EventWriterAddScalar", "tag is NULL");
    writer(w, "TFL_EventWriterAddScalar").add_scalar(tag, value, step);
    return 0;
  });
}

void TFL_EventWriterAddSummary(TFL_EventWriter* w, const void* summary, size_t len, int64_t step, TFL_Status* status) {
  guarded<int>(status, 0, [&] {
    require(summary != nullptr || len == 0, "TFL_EventWriterAddSummary", "summary is NULL");
    writer(w, "TFL_EventWriterAddSummary").add_summary(std::string(static_cast<const char*>(summary), len), step);
    return 0;
  });
}

void TFL_EventWriterAddGraph(TFL_EventWriter* w, const TFL_Graph* g, TFL_Status* status) {
  guarded<int>(status, 0, [&] {
    require(g != nullptr, "TFL_EventWriterAddGraph", "graph is NULL");
    writer(w, "TFL_EventWriterAddGraph").add_graph(*g);
    return 0;
  });
}

void TFL_EventWriterFlush(TFL_EventWriter* w, TFL_Status* status) {
  guarded<int>(status, 0, [&] {
    writer(w, "TFL_EventWriterFlush").flush();
    return 0;
  });
}

void TFL_EventWriterClose(TFL_EventWriter* w, TFL_Status* status) {
  guarded<int>(status, 0, [&] {
    writer(w, "TFL_EventWriterClose").close();
    return 0;
  });
}

const char* TFL_EventWriterFilename(const TFL_EventWriter* w) { return w ? w->filename.c_str() : ""; }

void TFL_DeleteEventWriter(TFL_EventWriter* w) { delete w; }
