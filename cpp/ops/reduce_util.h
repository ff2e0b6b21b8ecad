// Private to the reduction family (reduce.cc, argmax_cumsum.cc): what both files' kernels and shape
// functions share.
#pragma once
#include <string>

#include "op_registry.h"

namespace tideflow {
namespace reduce_util {

// Columns (kept inner dims) are walked in tiles of this many lanes, so that a tile stays in cache while
// the rows of the reduced or scanned axis stream past (Note [reduction blocks] in reduce.cc).
constexpr int64_t kColTile = 1024;

inline void check_axes_dtype(InferCtx& c, int i) {
  if (c.dtype(i) != DType::Int32 && c.dtype(i) != DType::Int64)
    c.type_fail(std::string("Reduction axes must be int32 or int64, got ") + dtype_name(c.dtype(i)));
}

}  // namespace reduce_util
}  // namespace tideflow
