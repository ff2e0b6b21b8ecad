// Sparse in-place variable updates: TF1's Scatter* and ScatterNd* ref ops, and CountUpTo.
//
// Note [scatter updates]
// Every index is checked before the first element is written, so a bad index leaves the variable as it
// was (TF's CPU kernel stops at the bad index, having applied the earlier ones). The rows are then applied
// one after another in index order, as TF's CPU kernel applies them: a repeated index accumulates for
// add/sub/mul/div/min/max and the last row wins for update. The write follows Note [variable updates] in
// state.cc: in place when nobody else holds the variable's buffer, else into a copy that is swapped in.
#include <algorithm>
#include <mutex>
#include <type_traits>

#include "op_registry.h"
#include "resources.h"

namespace tideflow {
namespace {

void check_ref_var(InferCtx& c) {
  const Node* v = c.node.inputs[0].node;
  if (v->type() != "VariableV2")
    c.type_fail("Input 0 must be a variable to update, got '" + v->name + "' of type " + v->type());
}

void check_indices_dtype(InferCtx& c, int i) {
  DType d = c.dtype(i);
  if (d != DType::Int32 && d != DType::Int64)
    c.type_fail(std::string("indices must be int32 or int64, got ") + dtype_name(d));
}

[[noreturn]] void uninitialized(const KernelCtx& c) {
  throw Error(ErrorCode::FailedPrecondition, "Attempting to use uninitialized value " + c.node.inputs[0].node->name +
                                                 "\n\t [[node " + c.node.describe() + "]]");
}

// "[1,0]": the position of flat element i in a tensor of shape `dims`, as TF's SliceDebugString prints it.
std::string position(const Dims& dims, int64_t i) {
  std::vector<int64_t> pos(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    pos[d] = i % dims[d];
    i /= dims[d];
  }
  std::string s = "[";
  for (size_t d = 0; d < pos.size(); ++d) s += (d ? "," : "") + std::to_string(pos[d]);
  return s + "]";
}

enum class Combine { Update, Add, Sub, Mul, Div, Min, Max };

template <Combine K, class T>
inline void combine(T& a, T b) {
  if constexpr (K == Combine::Update) a = b;
  else if constexpr (K == Combine::Add) a += b;
  else if constexpr (K == Combine::Sub) a -= b;
  else if constexpr (K == Combine::Mul) a = wrapping_mul(a, b);
  else if constexpr (K == Combine::Div && std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    a = std::is_signed_v<T> && b == T(-1) ? T(U(0) - U(a)) : T(a / b);  // the lowest value over -1 would trap
  } else if constexpr (K == Combine::Div) a /= b;
  else if constexpr (K == Combine::Min) a = std::min(a, b);
  else a = std::max(a, b);
}

// Applies row r of `updates` (or its single element, broadcast, when it is a scalar) to `slice` elements
// at dst + offsets[r], for r in order (Note [scatter updates]).
template <Combine K>
void scatter_rows(KernelCtx& c, VarSlot& v, const Tensor& updates, const std::vector<int64_t>& offsets,
                  int64_t slice) {
  auto body = [&](auto z) {
    using T = decltype(z);
    const T* u = updates.data<T>();
    const bool scalar = updates.rank() == 0;
    if constexpr (K == Combine::Div && std::is_integral_v<T>) {
      for (int64_t i = 0, n = scalar ? 1 : updates.size(); i < n; ++i)
        if (u[i] == T(0) && !offsets.empty() && slice > 0) c.fail("Integer division by zero in " + c.node.type());
    }
    Tensor dst = v.value.unique() ? v.value : v.value.deep_copy();
    T* p = dst.data<T>();
    for (size_t r = 0; r < offsets.size(); ++r) {
      T* row = p + offsets[r];
      if (scalar)
        for (int64_t j = 0; j < slice; ++j) combine<K>(row[j], u[0]);
      else
        for (int64_t j = 0; j < slice; ++j) combine<K>(row[j], u[(int64_t)r * slice + j]);
    }
    v.value = dst;
    c.set(0, std::move(dst));
  };
  if constexpr (K == Combine::Update)
    dispatch<kPod>(updates.dtype(), c.node.type().c_str(), body);
  else
    dispatch<kNumeric>(updates.dtype(), c.node.type().c_str(), body);
}

// Scatter*(ref, indices, updates): ref[indices[i], ...] op= updates[i, ...].
template <Combine K>
void scatter_kernel(KernelCtx& c) {
  const Tensor& indices = c.in(1);
  const Tensor& updates = c.in(2);
  VarSlot& v = c.ref(0);
  std::lock_guard<std::mutex> l(v.mu);
  Tensor old = v.value;
  if (!old.valid()) uninitialized(c);
  if (old.rank() < 1) c.fail("params must be at least 1-D, got shape " + dims_str(old.dims()));
  if (updates.dtype() != old.dtype())
    c.fail("variable holds " + old.summary() + " but the updates are " + updates.summary());
  Dims want = indices.dims();
  want.insert(want.end(), old.dims().begin() + 1, old.dims().end());
  if (updates.rank() != 0 && updates.dims() != want)
    c.fail("Must have updates.shape = indices.shape + params.shape[1:] or updates.shape = [], got updates.shape " +
           dims_str(updates.dims()) + ", indices.shape " + dims_str(indices.dims()) + ", params.shape " +
           dims_str(old.dims()));
  const int64_t n = indices.size(), rows = old.dim(0), slice = rows == 0 ? 0 : old.size() / rows;
  std::vector<int64_t> offsets(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t idx = indices.int_at(i);
    if (idx < 0 || idx >= rows)
      c.fail("indices" + position(indices.dims(), i) + " = " + std::to_string(idx) + " is not in [0, " +
             std::to_string(rows) + ")");
    offsets[i] = idx * slice;
  }
  old = Tensor();  // so that the variable's buffer counts as unshared when only the variable holds it
  scatter_rows<K>(c, v, updates, offsets, slice);
}

void scatter_shape(InferCtx& c) {
  check_ref_var(c);
  check_indices_dtype(c, 1);
  c.expect_same_dtype(0, 2);
  const PartialShape& var = c.shape(0);
  if (var.rank() == 0) c.fail("Shape must be at least rank 1 but is rank 0");
  const PartialShape& idx = c.shape(1);
  const PartialShape& upd = c.shape(2);
  if (var.known_rank && idx.known_rank && upd.rank() != 0) {
    Dims want = idx.dims;
    want.insert(want.end(), var.dims.begin() + 1, var.dims.end());
    if (!upd.compatible_with(PartialShape(want)))
      c.fail("Shapes must be compatible: updates " + upd.str() + " vs indices.shape + params.shape[1:] " +
             PartialShape(want).str());
  }
  c.set_output(0, c.dtype(0), var);
}

#define TIDEFLOW_SCATTER(name, kind)                                                                     \
  REGISTER_OP(name).inputs(3).ref_input(0).stateful().not_differentiable().shape(scatter_shape)          \
      .cpu(scatter_kernel<Combine::kind>)
TIDEFLOW_SCATTER("ScatterUpdate", Update);
TIDEFLOW_SCATTER("ScatterAdd", Add);
TIDEFLOW_SCATTER("ScatterSub", Sub);
TIDEFLOW_SCATTER("ScatterMul", Mul);
TIDEFLOW_SCATTER("ScatterDiv", Div);
TIDEFLOW_SCATTER("ScatterMin", Min);
TIDEFLOW_SCATTER("ScatterMax", Max);
#undef TIDEFLOW_SCATTER

// ScatterNd*(ref, indices, updates): indices has shape [..., K]; each index row names a slice
// ref[i0, ..., iK-1, ...], and updates has shape indices.shape[:-1] + ref.shape[K:].
template <Combine K>
void scatter_nd_kernel(KernelCtx& c) {
  const Tensor& indices = c.in(1);
  const Tensor& updates = c.in(2);
  VarSlot& v = c.ref(0);
  std::lock_guard<std::mutex> l(v.mu);
  Tensor old = v.value;
  if (!old.valid()) uninitialized(c);
  if (updates.dtype() != old.dtype())
    c.fail("variable holds " + old.summary() + " but the updates are " + updates.summary());
  if (indices.rank() < 1) c.fail("Index tensor must have at least 1 dimension, got " + indices.summary());
  const int64_t depth = indices.dims().back();
  if (depth > old.rank())
    c.fail("Dimensions [0," + std::to_string(depth) + ") of indices[shape=" + dims_str(indices.dims()) +
           "] must match dimensions [0," + std::to_string(depth) + ") of input[shape=" + dims_str(old.dims()) + "]");
  Dims want(indices.dims().begin(), indices.dims().end() - 1);
  want.insert(want.end(), old.dims().begin() + depth, old.dims().end());
  if (updates.dims() != want)
    c.fail("updates must have shape indices.shape[:-1] + params.shape[" + std::to_string(depth) +
           ":], got updates.shape " + dims_str(updates.dims()) + ", indices.shape " + dims_str(indices.dims()) +
           ", params.shape " + dims_str(old.dims()));
  int64_t slice = 1;
  for (int d = (int)depth; d < old.rank(); ++d) slice *= old.dim(d);
  const Dims outer(indices.dims().begin(), indices.dims().end() - 1);
  // Index vectors of depth 0 hold no data: [10^12, 0] indices with an empty variable would make a table of
  // 10^12 zero offsets for nothing (Note [empty outputs return early]); with data, n <= updates.size().
  const int64_t n = depth == 0 && updates.size() == 0 ? 0 : num_elements(outer);
  std::vector<int64_t> offsets(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (int64_t d = 0; d < depth; ++d) {
      const int64_t x = indices.int_at(i * depth + d);
      if (x < 0 || x >= old.dim((int)d)) {
        std::string row;
        for (int64_t e = 0; e < depth; ++e) row += (e ? ", " : "") + std::to_string(indices.int_at(i * depth + e));
        c.fail("indices" + position(outer, i) + " = [" + row + "] does not index into shape " +
               dims_str(old.dims()));
      }
      off = off * old.dim((int)d) + x;
    }
    offsets[i] = off * slice;
  }
  old = Tensor();
  scatter_rows<K>(c, v, updates, offsets, slice);
}

void scatter_nd_shape(InferCtx& c) {
  check_ref_var(c);
  check_indices_dtype(c, 1);
  c.expect_same_dtype(0, 2);
  const PartialShape& var = c.shape(0);
  const PartialShape& idx = c.shape(1);
  const PartialShape& upd = c.shape(2);
  if (idx.rank() == 0) c.fail("Shape must be at least rank 1 but is rank 0");
  if (var.known_rank && idx.known_rank && idx.dims.back() >= 0) {
    const int64_t depth = idx.dims.back();
    if (depth > var.rank())
      c.fail("indices.shape[-1] must be <= params.rank, got indices.shape " + idx.str() + " and params shape " +
             var.str());
    Dims want(idx.dims.begin(), idx.dims.end() - 1);
    want.insert(want.end(), var.dims.begin() + depth, var.dims.end());
    if (!upd.compatible_with(PartialShape(want)))
      c.fail("Shapes must be compatible: updates " + upd.str() + " vs indices.shape[:-1] + params.shape[" +
             std::to_string(depth) + ":] " + PartialShape(want).str());
  }
  c.set_output(0, c.dtype(0), var);
}

#define TIDEFLOW_SCATTER_ND(name, kind)                                                                  \
  REGISTER_OP(name).inputs(3).ref_input(0).stateful().not_differentiable().shape(scatter_nd_shape)       \
      .cpu(scatter_nd_kernel<Combine::kind>)
TIDEFLOW_SCATTER_ND("ScatterNdUpdate", Update);
TIDEFLOW_SCATTER_ND("ScatterNdAdd", Add);
TIDEFLOW_SCATTER_ND("ScatterNdSub", Sub);
TIDEFLOW_SCATTER_ND("ScatterNdMin", Min);
TIDEFLOW_SCATTER_ND("ScatterNdMax", Max);
#undef TIDEFLOW_SCATTER_ND

// CountUpTo(ref, limit): increments an integer scalar variable and returns its value before; fails with
// OutOfRange once the value has reached `limit` (a queue-free epoch counter in TF1 input pipelines).
REGISTER_OP("CountUpTo").inputs(1).ref_input(0).stateful().not_differentiable()
    .shape([](InferCtx& c) {
      check_ref_var(c);
      DType d = c.dtype(0);
      if (d != DType::Int32 && d != DType::Int64)
        c.type_fail(std::string("CountUpTo needs an int32 or int64 variable, got ") + dtype_name(d));
      if (c.shape(0).rank() > 0) c.fail("Shape must be rank 0 but is rank " + std::to_string(c.shape(0).rank()));
      c.set_output(0, d, PartialShape(Dims{}));
    })
    .cpu([](KernelCtx& c) {
      const int64_t limit = c.attr<int64_t>("limit");
      VarSlot& v = c.ref(0);
      std::lock_guard<std::mutex> l(v.mu);
      if (!v.value.valid()) uninitialized(c);
      if (v.value.rank() != 0) c.fail("input is not a scalar: " + dims_str(v.value.dims()));
      dispatch_numeric(v.value.dtype(), "CountUpTo", [&](auto z) {
        using T = decltype(z);
        if constexpr (std::is_integral_v<T>) {
          const T before = *v.value.data<T>();
          if ((int64_t)before >= limit)
            throw Error(ErrorCode::OutOfRange, "Reached limit of " + std::to_string(limit) + "\n\t [[node " +
                                                   c.node.describe() + "]]");
          Tensor dst = v.value.unique() ? v.value : Tensor(v.value.dtype(), {});
          *dst.data<T>() = before + 1;
          v.value = dst;
          c.set(0, Tensor::scalar<T>(before));
        } else {
          c.fail(std::string("CountUpTo needs an int32 or int64 variable, got ") + dtype_name(v.value.dtype()));
        }
      });
    });

}  // namespace
}  // namespace tideflow
