#pragma once
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "tensor.h"

namespace tideflow {

using AttrValue = std::variant<std::monostate, bool, int64_t, double, std::string, DType, std::vector<int64_t>,
                               std::vector<double>, std::vector<std::string>, PartialShape, Tensor,
                               std::vector<DType>>;

// Node attributes by name, ordered so that serialized graphs are deterministic.
class TF_API AttrMap : public std::map<std::string, AttrValue> {
 public:
  using std::map<std::string, AttrValue>::map;
  bool has(const std::string& k) const { return count(k) > 0; }
  template <class T> const T& get(const std::string& k) const {
    auto it = find(k);
    if (it == end()) throw invalid_argument("missing attribute '" + k + "'");
    const T* v = std::get_if<T>(&it->second);
    if (!v) throw invalid_argument("attribute '" + k + "' has the wrong type");
    return *v;
  }
  template <class T> T get_or(const std::string& k, T dflt) const {
    auto it = find(k);
    if (it == end()) return dflt;
    const T* v = std::get_if<T>(&it->second);
    return v ? *v : dflt;
  }
};

}  // namespace tideflow
