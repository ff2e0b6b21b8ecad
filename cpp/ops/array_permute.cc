// Ops that move every element to a new place: Transpose (and InvertPermutation, for its gradient).
#include "array_util.h"

namespace tideflow {
namespace {

using namespace array_util;

// ---------------------------------------------------------------------------------------------------
// Transpose: one strided view (Note [strided views]).

void transpose_shape(InferCtx& c) {
  const PartialShape& s = c.shape(0);
  std::vector<int64_t> perm;
  if (!per_dim_arg(c, "perm", &perm)) return;
  const int64_t r = (int64_t)perm.size();
  if (s.known_rank && s.rank() != r)
    c.fail("Dimension must be " + std::to_string(s.rank()) + " but is " + std::to_string(r) + " (perm " + dims_str(perm) + ")");
  std::vector<char> seen(r, 0);
  Dims d(r, -1);
  for (int64_t i = 0; i < r; ++i) {
    if (perm[i] < 0 || perm[i] >= r || seen[perm[i]]) c.fail("perm " + dims_str(perm) + " is not a permutation of 0.." + std::to_string(r - 1));
    seen[perm[i]] = 1;
    if (s.known_rank) d[i] = s.dims[perm[i]];
  }
  c.set_output(0, c.dtype(0), PartialShape(d));
}

void transpose_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  Dims perm = c.in(1).to_int_vector();
  const int r = x.rank();
  if ((int)perm.size() != r) c.fail("transpose expects a vector of size " + std::to_string(r) + ". But input(1) is a vector of size " + std::to_string(perm.size()));
  std::vector<char> seen(r, 0);
  bool identity = true;
  for (int i = 0; i < r; ++i) {
    if (perm[i] < 0 || perm[i] >= r || seen[perm[i]]) c.fail(dims_str(perm) + " is not a valid permutation");
    seen[perm[i]] = 1;
    identity &= perm[i] == i;
  }
  if (identity) return c.set(0, x);
  Dims od(r), xs = strides_of(x.dims());
  for (int i = 0; i < r; ++i) od[i] = x.dim((int)perm[i]);
  Dims os = strides_of(od);
  View v;
  for (int i = 0; i < r; ++i) v.add(od[i], xs[perm[i]], os[i]);
  copy_view_any(c, x, c.alloc(0, x.dtype(), od), v);
}

REGISTER_OP("Transpose").inputs(2).shape(transpose_shape).cpu(transpose_kernel)
    .grad([](GradCtx& g) {
      // A constant perm gets a constant inverse, so the gradient keeps a static shape.
      Output inv;
      if (g.x(1).node->type() == "Const") {
        Dims perm = g.x(1).node->attrs.get<Tensor>("value").to_int_vector(), ip(perm.size());
        for (size_t i = 0; i < perm.size(); ++i) ip[perm[i]] = (int64_t)i;
        inv = g.b.ints(ip);
      } else {
        inv = g.b.op1("InvertPermutation", {g.x(1)});
      }
      return std::vector<Output>{g.b.op1("Transpose", {g.g(), inv}), Output{}};
    });

void invert_permutation_kernel(KernelCtx& c) {
  const Tensor& p = c.in(0);
  if (p.rank() != 1) c.fail("invert_permutation expects a 1D vector, got " + p.summary());
  Tensor& out = c.alloc(0, p.dtype(), p.dims());
  const int64_t n = p.size();
  dispatch_numeric(p.dtype(), "InvertPermutation", [&](auto z) {
    using T = decltype(z);
    const T* in = p.data<T>();
    T* o = out.data<T>();
    std::fill_n(o, n, T(-1));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = (int64_t)in[i];
      if (k < 0 || k >= n || o[k] != T(-1)) c.fail(std::to_string(k) + " is not between 0 and " + std::to_string(n) + " or is repeated");
      o[k] = (T)i;
    }
  });
}

REGISTER_OP("InvertPermutation").inputs(1).not_differentiable()
    .shape([](InferCtx& c) {
      expect_int(c, 0, "x");
      if (c.shape(0).rank() > 1) c.fail("invert_permutation expects a 1D vector, got shape " + c.shape(0).str());
      c.set_output(0, c.dtype(0), c.shape(0).known_rank ? c.shape(0) : PartialShape::unknown_of_rank(1));
    })
    .cpu(invert_permutation_kernel);

}  // namespace
}  // namespace tideflow
