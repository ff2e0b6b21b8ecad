// Note [op type rules]
// A kernel is written for some dtypes; given another it would read the buffer as the wrong type (a string
// tensor's std::string objects as floats, an int32 count written into a float32 output). So the dtypes an
// op accepts, and the attributes TensorFlow constrains, are rules in the op table, checked in one place
// before the shape function runs (check_op_rules, called by Graph::add_node and by anything else that runs
// shape functions): a bad dtype is TensorFlow's TypeError at the line that built the node, a bad attribute
// value (num_split = 0, padding = "bogus") its ValueError. The rules of ops that carry a TensorFlow name
// are TensorFlow's own, generated into op_types.inc from its op registry (tools/gen_op_types.py); dtypes
// tideflow lacks are ignored there, so new dtypes join the rules by name. An op row may add rules of its
// own (OpDefBuilder::input_types, attr_types). Behind the rules, Tensor::data<T>() refuses to view a
// tensor as another type (tensor.h), so a rule that is missing shows as an error, never as wrong numbers.
// Attributes that count a node's outputs (Split's num_split, Unpack's num, DynamicPartition's
// num_partitions) are bounded by kMaxOutputs here, before a shape function makes that many outputs: on an
// input of unknown shape nothing else bounds them, and tf.split(x, 2**31 - 1) would build 2**31 output
// descriptions (tens of GB) before failing.
#include <mutex>
#include <unordered_map>

#include "op_registry.h"

namespace tideflow {

namespace {

constexpr int64_t kMaxOutputs = int64_t(1) << 16;  // a million outputs took minutes to build and fetch

struct ArgRule {
  const char* name;
  const char* types;  // '|'-separated dtype names; empty: any
  bool list;
};
struct AttrRule {
  const char* name;
  char kind;  // 't': allowed dtypes, 'm': integer minimum, 's': allowed strings, 'n': an output count
  const char* values;
  int64_t minimum;
};
struct TableRow {
  const char* op;
  std::vector<ArgRule> args;
  std::vector<AttrRule> attrs;
};

const std::vector<TableRow>& table() {
  static const std::vector<TableRow> rows = {
#include "op_types.inc"
  };
  return rows;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t bar = s.find('|', start);
    if (bar == std::string::npos) bar = s.size();
    if (bar > start) out.push_back(s.substr(start, bar - start));
    start = bar + 1;
  }
  return out;
}

}  // namespace

uint64_t dtype_mask(const std::string& names) {
  uint64_t m = 0;
  for (const std::string& n : split(names))
    for (int d = 0; d < kNumDTypes; ++d)
      if (n == dtype_name(static_cast<DType>(d))) m |= uint64_t(1) << d;
  return m;
}

std::string dtype_list(uint64_t mask) {
  std::string s;
  for (int d = 0; d < kNumDTypes; ++d)
    if (mask >> d & 1) s += (s.empty() ? "" : ", ") + std::string(dtype_name(static_cast<DType>(d)));
  return s.empty() ? "(none)" : s;
}

const OpRules* OpRules::generated(const std::string& op) {
  static std::once_flag once;
  static std::unordered_map<std::string, OpRules>* rules;
  std::call_once(once, [] {
    rules = new std::unordered_map<std::string, OpRules>();  // never destroyed: kernels may run at exit
    for (const TableRow& row : table()) {
      OpRules& r = (*rules)[row.op];
      for (const ArgRule& a : row.args)
        r.inputs.push_back({a.name, *a.types ? dtype_mask(a.types) : ~uint64_t(0), a.list});
      for (const AttrRule& a : row.attrs) {
        OpRules::Attr x{a.name, a.kind, 0, {}, a.minimum};
        if (a.kind == 't') x.dtypes = dtype_mask(a.values);
        if (a.kind == 's') x.strings = split(a.values);
        r.attrs.push_back(std::move(x));
      }
    }
  });
  auto it = rules->find(op);
  return it == rules->end() ? nullptr : &it->second;
}

static void check_inputs(InferCtx& c, const std::vector<OpRules::Input>& args) {
  int lists = 0;
  for (const auto& a : args) lists += a.list;
  const int n = c.num_inputs();
  const int list_len = n - ((int)args.size() - lists);
  if (lists > 1 || list_len < 0 || (lists == 0 && n != (int)args.size())) return;  // arity is checked elsewhere
  int i = 0;
  for (const auto& a : args) {
    for (int k = 0, count = a.list ? list_len : 1; k < count; ++k, ++i) {
      const DType d = c.dtype(i);
      if (!(a.dtypes >> static_cast<int>(d) & 1))
        c.type_fail("Value passed to parameter '" + a.name + "' has DataType " + dtype_name(d) +
                    " not in list of allowed values: " + dtype_list(a.dtypes));
    }
  }
}

static void check_attrs(InferCtx& c, const std::vector<OpRules::Attr>& attrs) {
  for (const auto& r : attrs) {
    auto it = c.node.attrs.find(r.name);
    if (it == c.node.attrs.end()) continue;
    const AttrValue& v = it->second;
    if (r.kind == 't') {
      if (const DType* d = std::get_if<DType>(&v); d && !(r.dtypes >> static_cast<int>(*d) & 1))
        c.type_fail("Value passed to parameter '" + r.name + "' has DataType " + dtype_name(*d) +
                    " not in list of allowed values: " + dtype_list(r.dtypes));
    } else if (r.kind == 'm') {
      if (const int64_t* x = std::get_if<int64_t>(&v); x && *x < r.minimum)
        c.fail("Value for attr '" + r.name + "' of " + std::to_string(*x) + " must be at least minimum " +
               std::to_string(r.minimum));
    } else if (r.kind == 'n') {
      if (const int64_t* x = std::get_if<int64_t>(&v); x && *x > kMaxOutputs)
        c.fail("Value for attr '" + r.name + "' of " + std::to_string(*x) + " makes more outputs than a node may have (" +
               std::to_string(kMaxOutputs) + ")");
    } else if (r.kind == 's') {
      const std::string* s = std::get_if<std::string>(&v);
      if (!s) continue;
      bool ok = false;
      std::string allowed;
      for (const std::string& a : r.strings) {
        ok = ok || a == *s;
        allowed += (allowed.empty() ? "\"" : ", \"") + a + "\"";
      }
      if (!ok)
        c.fail("Value for attr '" + r.name + "' of \"" + *s + "\" is not in the list of allowed values: " + allowed);
    }
  }
}

void check_op_rules(InferCtx& c) {
  const OpDef& def = *c.node.op;
  for (const OpRules* r : {OpRules::generated(def.name), static_cast<const OpRules*>(def.rules.get())}) {
    if (!r) continue;
    check_inputs(c, r->inputs);
    check_attrs(c, r->attrs);
  }
}

OpDefBuilder& OpDefBuilder::input_types(int i, const std::string& types) {
  if (!def_->rules) def_->rules = std::make_shared<OpRules>();
  auto& in = def_->rules->inputs;
  while ((int)in.size() <= i) in.push_back({"input " + std::to_string(in.size()), ~uint64_t(0), false});
  in[i].dtypes = dtype_mask(types);
  return *this;
}

OpDefBuilder& OpDefBuilder::attr_types(const std::string& attr, const std::string& types) {
  if (!def_->rules) def_->rules = std::make_shared<OpRules>();
  def_->rules->attrs.push_back({attr, 't', dtype_mask(types), {}, 0});
  return *this;
}

}  // namespace tideflow
