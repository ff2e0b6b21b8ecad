#include "shape.h"

#include <algorithm>

namespace tideflow {

std::string dims_str(const Dims& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

bool PartialShape::fully_defined() const {
  if (!known_rank) return false;
  return std::all_of(dims.begin(), dims.end(), [](int64_t x) { return x >= 0; });
}

bool PartialShape::compatible_with(const Dims& d) const {
  if (!known_rank) return true;
  if (d.size() != dims.size()) return false;
  for (size_t i = 0; i < d.size(); ++i)
    if (dims[i] >= 0 && dims[i] != d[i]) return false;
  return true;
}

bool PartialShape::compatible_with(const PartialShape& o) const {
  if (!known_rank || !o.known_rank) return true;
  if (dims.size() != o.dims.size()) return false;
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i] >= 0 && o.dims[i] >= 0 && dims[i] != o.dims[i]) return false;
  return true;
}

PartialShape PartialShape::merge(const PartialShape& o) const {
  if (!known_rank) return o;
  if (!o.known_rank) return *this;
  PartialShape r = *this;
  for (size_t i = 0; i < dims.size() && i < o.dims.size(); ++i)
    if (r.dims[i] < 0) r.dims[i] = o.dims[i];
  return r;
}

std::string PartialShape::str() const {
  if (!known_rank) return "<unknown>";
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += dims[i] < 0 ? "?" : std::to_string(dims[i]);
  }
  if (dims.size() == 1) s += ",";
  return s + ")";
}

bool broadcast_shapes(const PartialShape& a, const PartialShape& b, PartialShape* out) {
  if (!a.known_rank || !b.known_rank) {
    *out = PartialShape::unknown();
    return true;
  }
  size_t n = std::max(a.dims.size(), b.dims.size());
  Dims r(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = i < n - a.dims.size() ? 1 : a.dims[i - (n - a.dims.size())];
    int64_t y = i < n - b.dims.size() ? 1 : b.dims[i - (n - b.dims.size())];
    if (x == 1) r[i] = y;
    else if (y == 1) r[i] = x;
    else if (x < 0 && y < 0) r[i] = -1;
    else if (x < 0) r[i] = y;
    else if (y < 0) r[i] = x;
    else if (x == y) r[i] = x;
    else return false;
  }
  *out = PartialShape(r);
  return true;
}

bool broadcast_dims(const Dims& a, const Dims& b, Dims* out) {
  size_t n = std::max(a.size(), b.size());
  out->assign(n, 1);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (x == y || y == 1) (*out)[i] = x;
    else if (x == 1) (*out)[i] = y;
    else return false;
  }
  return true;
}

}  // namespace tideflow
