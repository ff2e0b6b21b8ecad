// Matrix products and inverses: MatMul, BatchMatMulV2 (broadcast batch dims), MatrixInverse.
// Float products go to gemm.h (OpenBLAS split over the pool); integer products use a cache-friendly loop.
// MatrixInverse is LAPACK from scipy-openblas32 (symbols prefixed scipy_).
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/gemm.h"
#include "op_registry.h"
#include "ops/reduced_float.h"

extern "C" {
void scipy_sgetrf_(const int* m, const int* n, float* a, const int* lda, int* ipiv, int* info);
void scipy_dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void scipy_sgetri_(const int* n, float* a, const int* lda, const int* ipiv, float* work, const int* lwork, int* info);
void scipy_dgetri_(const int* n, double* a, const int* lda, const int* ipiv, double* work, const int* lwork, int* info);
}

namespace tideflow {
namespace {

// Integers: i-k-j order so the innermost loop streams a row of B and a row of C.
template <class T>
void int_gemm(const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb) {
  std::fill(c, c + m * n, T(0));
  for (int64_t i = 0; i < m; ++i) {
    T* ci = c + i * n;
    for (int64_t p = 0; p < k; ++p) {
      const T av = ta ? a[p * m + i] : a[i * k + p];
      if (tb) {
        for (int64_t j = 0; j < n; ++j) ci[j] += av * b[j * k + p];
      } else {
        const T* bp = b + p * n;
        for (int64_t j = 0; j < n; ++j) ci[j] += av * bp[j];
      }
    }
  }
}

// C = op(A) op(B) for one pair of matrices; k > 0.
template <class T>
void product(const KernelCtx& c, const T* a, const T* b, T* out, int64_t m, int64_t n, int64_t k, bool ta, bool tb) {
  if constexpr (std::is_floating_point_v<T>) gemm(a, b, out, m, n, k, ta, tb, c.threads);
  else int_gemm(a, b, out, m, n, k, ta, tb);
}

// TensorFlow's CPU kernels: float16 and bfloat16 (computed in float32, Note [computing in float32]), float32,
// float64, int16, int32, int64.
constexpr DTypeSet kMatMulTypes = kFloat | kI32I64 | dset(DType::Int16);

void check_matmul_dtype(InferCtx& c) {
  c.expect_same_dtype(0, 1);
  if (!in_set(c.dtype(0), kMatMulTypes))
    c.type_fail(std::string("MatMul does not support dtype ") + dtype_name(c.dtype(0)) + " (it has " +
                dtypes_str(kMatMulTypes) + ")");
}

// Rows and columns of a matrix whose last two dims are (r, c), transposed when `t`.
void mat_dims(const PartialShape& s, bool t, int64_t* rows, int64_t* cols) {
  int64_t r = s.dims[s.rank() - 2], c = s.dims[s.rank() - 1];
  *rows = t ? c : r;
  *cols = t ? r : c;
}

void check_inner(InferCtx& c, int64_t k1, int64_t k2) {
  if (k1 >= 0 && k2 >= 0 && k1 != k2)
    c.fail("Dimensions must be equal, but are " + std::to_string(k1) + " and " + std::to_string(k2));
}

// ---- MatMul ----

void matmul_shape(InferCtx& c) {
  check_matmul_dtype(c);
  const PartialShape& a = c.shape(0);
  const PartialShape& b = c.shape(1);
  for (int i = 0; i < 2; ++i)
    if (c.shape(i).known_rank && c.shape(i).rank() != 2)
      c.fail("Shape must be rank 2 but is rank " + std::to_string(c.shape(i).rank()));
  const bool ta = c.node.attrs.get_or<bool>("transpose_a", false);
  const bool tb = c.node.attrs.get_or<bool>("transpose_b", false);
  int64_t m = -1, ka = -1, kb = -1, n = -1;
  if (a.known_rank) mat_dims(a, ta, &m, &ka);
  if (b.known_rank) mat_dims(b, tb, &kb, &n);
  check_inner(c, ka, kb);
  c.set_output(0, c.dtype(0), PartialShape(Dims{m, n}));
}

void matmul_kernel(KernelCtx& c) {
  const Tensor& a = c.in(0);
  const Tensor& b = c.in(1);
  if (a.rank() != 2 || b.rank() != 2) c.fail("MatMul needs two matrices");
  const bool ta = c.node.attrs.get_or<bool>("transpose_a", false);
  const bool tb = c.node.attrs.get_or<bool>("transpose_b", false);
  const int64_t m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1);
  const int64_t kb = tb ? b.dim(1) : b.dim(0), n = tb ? b.dim(0) : b.dim(1);
  if (k != kb)
    c.fail("Matrix size-incompatible: In[0]: " + dims_str(a.dims()) + ", In[1]: " + dims_str(b.dims()));
  dispatch<kF32F64 | kI32I64 | dset(DType::Int16)>(a.dtype(), "MatMul", [&](auto z) {
    using T = decltype(z);
    T* out = c.alloc(0, a.dtype(), {m, n}).template data<T>();
    if (k == 0) std::fill(out, out + m * n, T(0));  // BLAS leaves C alone when k == 0
    else if (m > 0 && n > 0) {
      product(c, a.data<T>(), b.data<T>(), out, m, n, k, ta, tb);
    }
  });
}

Output mm(GradCtx& g, const char* op, const char* ta_name, const char* tb_name, Output a, Output b, bool ta, bool tb) {
  return g.b.op1(op, {a, b}, AttrMap{{ta_name, ta}, {tb_name, tb}});
}

// TF's rules for the four transpose combinations; used by MatMul and, with the adjoint names, by
// BatchMatMulV2 (whose sum over broadcast batch dims is the driver's SumToShape).
std::vector<Output> product_grad(GradCtx& g, const char* op, const char* ta_name, const char* tb_name) {
  const bool ta = g.node.attrs.get_or<bool>(ta_name, false);
  const bool tb = g.node.attrs.get_or<bool>(tb_name, false);
  Output a = g.x(0), b = g.x(1), d = g.g();
  auto f = [&](Output p, Output q, bool tp, bool tq) { return mm(g, op, ta_name, tb_name, p, q, tp, tq); };
  if (!ta && !tb) return {f(d, b, false, true), f(a, d, true, false)};
  if (!ta && tb) return {f(d, b, false, false), f(d, a, true, false)};
  if (ta && !tb) return {f(b, d, false, true), f(a, d, false, false)};
  return {f(b, d, true, true), f(d, a, true, true)};
}

REGISTER_OP("MatMul").inputs(2).expensive().exact_grads().shape(matmul_shape).cpu(via_float32<matmul_kernel>)
    .grad([](GradCtx& g) { return product_grad(g, "MatMul", "transpose_a", "transpose_b"); });

// ---- BatchMatMulV2 ----

// Batch dims of x and y (all but the last two) broadcast to `out`; false when incompatible.
bool batch_broadcast(const PartialShape& x, const PartialShape& y, PartialShape* out) {
  PartialShape bx(Dims(x.dims.begin(), x.dims.end() - 2)), by(Dims(y.dims.begin(), y.dims.end() - 2));
  return broadcast_shapes(bx, by, out);
}

void batch_matmul_shape(InferCtx& c) {
  check_matmul_dtype(c);
  const PartialShape& x = c.shape(0);
  const PartialShape& y = c.shape(1);
  for (int i = 0; i < 2; ++i)
    if (c.shape(i).known_rank && c.shape(i).rank() < 2)
      c.fail("Shape must be at least rank 2 but is rank " + std::to_string(c.shape(i).rank()));
  if (!x.known_rank || !y.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown());
  const bool ax = c.node.attrs.get_or<bool>("adj_x", false);
  const bool ay = c.node.attrs.get_or<bool>("adj_y", false);
  int64_t m, kx, ky, n;
  mat_dims(x, ax, &m, &kx);
  mat_dims(y, ay, &ky, &n);
  check_inner(c, kx, ky);
  PartialShape batch;
  if (!batch_broadcast(x, y, &batch))
    c.fail("Batch dimensions must be broadcastable: " + x.str() + " vs " + y.str());
  batch.dims.push_back(m);
  batch.dims.push_back(n);
  c.set_output(0, c.dtype(0), batch);
}

// Note [batched matmul]
// Each output matrix is one gemm on the matrices its batch index selects (stride 0 along broadcast batch
// dims). When y is one matrix shared by every batch and x is not transposed, the whole batch is a single
// gemm of x viewed as [batch*m, k]. Small matrices run several gemms in parallel; a large one is split
// across the threads itself.
void batch_matmul_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  const Tensor& y = c.in(1);
  if (x.rank() < 2 || y.rank() < 2) c.fail("BatchMatMulV2 needs inputs of rank 2 or more");
  const bool ax = c.node.attrs.get_or<bool>("adj_x", false);
  const bool ay = c.node.attrs.get_or<bool>("adj_y", false);
  const int rx = x.rank(), ry = y.rank();
  const int64_t m = ax ? x.dim(rx - 1) : x.dim(rx - 2), k = ax ? x.dim(rx - 2) : x.dim(rx - 1);
  const int64_t ky = ay ? y.dim(ry - 1) : y.dim(ry - 2), n = ay ? y.dim(ry - 2) : y.dim(ry - 1);
  if (k != ky)
    c.fail("Matrix size-incompatible: In[0]: " + dims_str(x.dims()) + ", In[1]: " + dims_str(y.dims()));
  Dims bx(x.dims().begin(), x.dims().end() - 2), by(y.dims().begin(), y.dims().end() - 2), batch;
  if (!broadcast_dims(bx, by, &batch))
    c.fail("In[0] and In[1] must have compatible batch dimensions: " + dims_str(x.dims()) + " vs " +
           dims_str(y.dims()));
  const int br = (int)batch.size();
  const int64_t nb = num_elements(batch);
  // Per batch dim, the matrix stride of x and y (0 where that input is broadcast).
  std::vector<int64_t> sx(br, 0), sy(br, 0);
  int64_t px = 1, py = 1;
  for (int i = br - 1; i >= 0; --i) {
    int ix = i - (br - (int)bx.size()), iy = i - (br - (int)by.size());
    if (ix >= 0 && bx[ix] != 1) sx[i] = px;
    if (iy >= 0 && by[iy] != 1) sy[i] = py;
    if (ix >= 0) px *= bx[ix];
    if (iy >= 0) py *= by[iy];
  }
  Dims out_dims = batch;
  out_dims.push_back(m);
  out_dims.push_back(n);
  dispatch<kF32F64 | kI32I64 | dset(DType::Int16)>(x.dtype(), "BatchMatMulV2", [&](auto z) {
    using T = decltype(z);
    T* out = c.alloc(0, x.dtype(), out_dims).template data<T>();
    if (nb == 0 || m == 0 || n == 0) return;
    if (k == 0) return std::fill(out, out + nb * m * n, T(0));
    const T* xp = x.data<T>();
    const T* yp = y.data<T>();
    if (num_elements(by) == 1 && !ax && num_elements(bx) == nb)
      return product(c, xp, yp, out, nb * m, n, k, false, ay);
    auto one = [&](int64_t bi) {
      int64_t ox = 0, oy = 0;
      int64_t r = bi;
      for (int i = br - 1; i >= 0; --i) {
        int64_t d = r % batch[i];
        r /= batch[i];
        ox += d * sx[i];
        oy += d * sy[i];
      }
      product(c, xp + ox * m * k, yp + oy * k * n, out + bi * m * n, m, n, k, ax, ay);
    };
    const int64_t flops = m * n * k;
    if (flops < 64 * 64 * 64) {
      c.parallel_for(nb, flops, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; ++i) one(i); });
    } else {
      for (int64_t i = 0; i < nb; ++i) one(i);
    }
  });
}

REGISTER_OP("BatchMatMulV2").inputs(2).expensive().shape(batch_matmul_shape).cpu(via_float32<batch_matmul_kernel>)
    .grad([](GradCtx& g) { return product_grad(g, "BatchMatMulV2", "adj_x", "adj_y"); });

// ---- MatrixInverse ----

int getrf(int n, float* a, int* piv) {
  int info;
  scipy_sgetrf_(&n, &n, a, &n, piv, &info);
  return info;
}
int getrf(int n, double* a, int* piv) {
  int info;
  scipy_dgetrf_(&n, &n, a, &n, piv, &info);
  return info;
}
int getri(int n, float* a, const int* piv, float* w, int lw) {
  int info;
  scipy_sgetri_(&n, a, &n, piv, w, &lw, &info);
  return info;
}
int getri(int n, double* a, const int* piv, double* w, int lw) {
  int info;
  scipy_dgetri_(&n, a, &n, piv, w, &lw, &info);
  return info;
}

// Note [inverse by LAPACK]
// LAPACK is column-major: a row-major A reads as A^T, and getrf + getri (LU with partial pivoting) turn it
// into (A^T)^-1, which reads back row-major as A^-1. For the adjoint we transpose first. A zero pivot
// (getrf info > 0) is TF's "not invertible" test.
void matrix_inverse_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  if (x.rank() < 2 || x.dim(x.rank() - 1) != x.dim(x.rank() - 2))
    c.fail("Input must be a batch of square matrices, got " + dims_str(x.dims()));
  const bool adjoint = c.node.attrs.get_or<bool>("adjoint", false);
  const int n = (int)x.dim(x.rank() - 1);
  const int64_t nn = (int64_t)n * n, nb = n ? x.size() / nn : 0;
  dispatch_float(x.dtype(), "MatrixInverse", [&](auto z) {
    using T = decltype(z);
    T* out = c.alloc(0, x.dtype(), x.dims()).template data<T>();
    const T* in = x.data<T>();
    if (nb == 0 || n == 0) return;
    c.parallel_for(nb, nn * n, [&](int64_t b, int64_t e) {
      std::vector<int> piv(n);
      std::vector<T> work((size_t)n * 64);
      for (int64_t i = b; i < e; ++i) {
        T* a = out + i * nn;
        const T* src = in + i * nn;
        if (adjoint) {
          for (int r = 0; r < n; ++r)
            for (int q = 0; q < n; ++q) a[q * n + r] = src[r * n + q];
        } else {
          std::memcpy(a, src, nn * sizeof(T));
        }
        if (getrf(n, a, piv.data()) > 0) c.fail("Input is not invertible.");
        if (getri(n, a, piv.data(), work.data(), (int)work.size()) != 0) c.fail("Input is not invertible.");
      }
    });
  });
}

// d(A^-1) = -A^-1 dA A^-1, so dA = -A^-T g A^-T (TF's rule, with the adjoint folded in).
REGISTER_OP("MatrixInverse").inputs(1).expensive()
    .shape([](InferCtx& c) {
      if (!in_set(c.dtype(0), kF32F64 | dset(DType::Float16)))  // as TF's CPU kernels
        c.type_fail(std::string("MatrixInverse does not support dtype ") + dtype_name(c.dtype(0)));
      const PartialShape& s = c.shape(0);
      if (s.known_rank) {
        if (s.rank() < 2) c.fail("Input must be at least rank 2 but is rank " + std::to_string(s.rank()));
        int64_t r = s.dims[s.rank() - 2], q = s.dims[s.rank() - 1];
        if (r >= 0 && q >= 0 && r != q) c.fail("Input matrices must be square, got " + s.str());
      }
      c.set_output(0, c.dtype(0), s);
    })
    .cpu(via_float32<matrix_inverse_kernel>)
    .grad([](GradCtx& g) {
      const bool adj = g.node.attrs.get_or<bool>("adjoint", false);
      Output inv = g.y();
      Output t = mm(g, "BatchMatMulV2", "adj_x", "adj_y", g.g(), inv, adj, !adj);
      Output r = mm(g, "BatchMatMulV2", "adj_x", "adj_y", inv, t, !adj, false);
      return std::vector<Output>{g.b.op1("Neg", {r})};
    });

}  // namespace
}  // namespace tideflow
