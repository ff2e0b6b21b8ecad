#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "export.h"

namespace tideflow {

using Dims = std::vector<int64_t>;

// The product of `d`, saturating at INT64_MAX / INT64_MIN instead of overflowing (signed overflow is
// undefined behaviour: UBSan found [2^40, 2^40] static shapes multiplied here by the plan and by Reshape's
// shape function). A tensor's dims never saturate (Note [checked sizes] refused them); a static shape that
// does is "absurdly large", which every caller treats as such.
inline int64_t num_elements(const Dims& d) {
  bool negative = false;
  for (int64_t x : d) {
    if (x == 0) return 0;
    negative ^= x < 0;
  }
  int64_t n = 1;
  for (int64_t x : d)
    if (__builtin_mul_overflow(n, x, &n)) return negative ? INT64_MIN : INT64_MAX;
  return n;
}
// Note [checked sizes]
// The element count of `d`, or -1 when a dimension is negative or the product overflows int64. Every
// allocation goes through it (Tensor's constructor), so an absurd shape is refused before memory is touched.
inline int64_t checked_num_elements(const Dims& d) {
  int64_t n = 1;
  bool zero = false;
  for (int64_t x : d) {
    if (x < 0) return -1;
    if (x == 0) zero = true;
  }
  if (zero) return 0;
  for (int64_t x : d)
    if (__builtin_mul_overflow(n, x, &n)) return -1;
  return n;
}
TF_API std::string dims_str(const Dims& d);  // "[2,3]"

// A shape known at graph-construction time: unknown rank, or a rank with some dims unknown (-1).
struct TF_API PartialShape {
  bool known_rank = false;
  Dims dims;

  PartialShape() = default;
  PartialShape(Dims d) : known_rank(true), dims(std::move(d)) {}  // NOLINT: implicit on purpose
  static PartialShape unknown() { return PartialShape(); }
  static PartialShape unknown_of_rank(int r) { return PartialShape(Dims(r, -1)); }

  int rank() const { return known_rank ? (int)dims.size() : -1; }
  bool fully_defined() const;
  bool compatible_with(const Dims& d) const;
  bool compatible_with(const PartialShape& o) const;
  PartialShape merge(const PartialShape& o) const;  // most specific of two compatible shapes
  std::string str() const;  // "(2, ?)" / "<unknown>"
  bool operator==(const PartialShape& o) const { return known_rank == o.known_rank && dims == o.dims; }
};

// NumPy broadcasting of two partial shapes; returns false when incompatible.
TF_API bool broadcast_shapes(const PartialShape& a, const PartialShape& b, PartialShape* out);
TF_API bool broadcast_dims(const Dims& a, const Dims& b, Dims* out);

}  // namespace tideflow
