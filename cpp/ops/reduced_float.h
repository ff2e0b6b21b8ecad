// float16 and bfloat16 for kernels written for float32: convert, run the float32 kernel, round once.
#pragma once
#include <utility>
#include <vector>

#include "kernels/convert.h"
#include "op_registry.h"

namespace tideflow {

// A float32 copy of a float16 or bfloat16 tensor, and back.
inline Tensor to_float32(const KernelCtx& c, const Tensor& t) {
  Tensor f(DType::Float32, t.dims());
  float* o = f.data<float>();
  c.parallel_for(t.size(), 2, [&](int64_t lo, int64_t hi) {
    if (t.dtype() == DType::Float16) convert::half_to_float(t.data<half>() + lo, o + lo, hi - lo);
    else convert::bfloat16_to_float(t.data<bfloat16>() + lo, o + lo, hi - lo);
  });
  return f;
}

inline Tensor from_float32(const KernelCtx& c, const Tensor& f, DType to) {
  Tensor t(to, f.dims());
  const float* in = f.data<float>();
  c.parallel_for(f.size(), 2, [&](int64_t lo, int64_t hi) {
    if (to == DType::Float16) convert::float_to_half(in + lo, t.data<half>() + lo, hi - lo);
    else convert::float_to_bfloat16(in + lo, t.data<bfloat16>() + lo, hi - lo);
  });
  return t;
}

// Note [computing in float32]
// Kernels that accumulate (matmul, convolutions, pooling, softmax, normalization) take float16 and
// bfloat16 through `.cpu(via_float32<kernel>)`: the float16/bfloat16 inputs are converted to float32, the
// kernel's float32 instantiation runs, and each output the node declares float16 or bfloat16 is rounded
// back to nearest even. One rounding at the end is at least as accurate as TensorFlow's CPU kernels, which
// compute these types in float32 per step (Eigen's half and bfloat16); results may differ from TF's in the
// last bit. Inputs of other dtypes (shapes, indices, float32 statistics of FusedBatchNorm) pass unchanged.
// Ops with variable (ref) inputs are not wrapped: their kernels write the variable in place.
template <KernelFn K>
void via_float32(KernelCtx& c) {
  bool any = false;
  for (const Tensor& t : c.inputs) any |= t.valid() && is_half_float(t.dtype());
  if (!any) return K(c);
  std::vector<Tensor> original = c.inputs;
  for (Tensor& t : c.inputs)
    if (t.valid() && is_half_float(t.dtype())) t = to_float32(c, t);
  try {
    K(c);
  } catch (...) {
    c.inputs = std::move(original);
    throw;
  }
  c.inputs = std::move(original);
  for (size_t i = 0; i < c.outputs.size() && i < c.node.out_dtypes.size(); ++i) {
    Tensor& o = c.outputs[i];
    const DType want = c.node.out_dtypes[i];
    if (o.valid() && o.dtype() == DType::Float32 && is_half_float(want)) o = from_float32(c, o, want);
  }
}

}  // namespace tideflow
