// Linear algebra beyond products and inverses (those are matmul.cc): diagonals and bands (MatrixDiag,
// MatrixDiagPart, MatrixSetDiag, MatrixBandPart, Diag, DiagPart), determinants, Cholesky and solves.
// Every op works on a batch of matrices in the last two dims. Factorizations are LAPACK/BLAS from
// scipy-openblas32 (symbols prefixed scipy_); see Note [inverse by LAPACK] in matmul.cc for the
// row-major/column-major reading they rely on.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "op_registry.h"

extern "C" {
// Fortran passes the length of each character argument last (gfortran ABI, as lapack.h declares it).
void scipy_sgetrf_(const int* m, const int* n, float* a, const int* lda, int* ipiv, int* info);
void scipy_dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void scipy_sgetrs_(const char* trans, const int* n, const int* nrhs, const float* a, const int* lda, const int* ipiv,
                   float* b, const int* ldb, int* info, size_t);
void scipy_dgetrs_(const char* trans, const int* n, const int* nrhs, const double* a, const int* lda,
                   const int* ipiv, double* b, const int* ldb, int* info, size_t);
void scipy_spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info, size_t);
void scipy_dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t);
void scipy_cblas_strsm(int order, int side, int uplo, int trans, int diag, int m, int n, float alpha, const float* a,
                       int lda, float* b, int ldb);
void scipy_cblas_dtrsm(int order, int side, int uplo, int trans, int diag, int m, int n, double alpha,
                       const double* a, int lda, double* b, int ldb);
}

namespace tideflow {
namespace {

// CBLAS enum values (cblas.h).
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112, kUpper = 121, kLower = 122, kNonUnit = 131,
              kLeft = 141;

int getrf(int n, float* a, int* piv) { int info; scipy_sgetrf_(&n, &n, a, &n, piv, &info); return info; }
int getrf(int n, double* a, int* piv) { int info; scipy_dgetrf_(&n, &n, a, &n, piv, &info); return info; }
void getrs(char t, int n, int k, const float* a, const int* piv, float* b) {
  int info;
  scipy_sgetrs_(&t, &n, &k, a, &n, piv, b, &n, &info, 1);
}
void getrs(char t, int n, int k, const double* a, const int* piv, double* b) {
  int info;
  scipy_dgetrs_(&t, &n, &k, a, &n, piv, b, &n, &info, 1);
}
int potrf(int n, float* a) { int info; scipy_spotrf_("U", &n, a, &n, &info, 1); return info; }
int potrf(int n, double* a) { int info; scipy_dpotrf_("U", &n, a, &n, &info, 1); return info; }
void trsm(int uplo, int trans, int n, int k, const float* a, float* b) {
  scipy_cblas_strsm(kRowMajor, kLeft, uplo, trans, kNonUnit, n, k, 1.0f, a, n, b, k);
}
void trsm(int uplo, int trans, int n, int k, const double* a, double* b) {
  scipy_cblas_dtrsm(kRowMajor, kLeft, uplo, trans, kNonUnit, n, k, 1.0, a, n, b, k);
}

std::string rank_str(int r) { return std::to_string(r); }

// ---- shape functions ----

// Input `i` must be of rank >= `r` when its rank is known.
void need_rank(InferCtx& c, int i, int r) {
  const PartialShape& s = c.shape(i);
  if (s.known_rank && s.rank() < r)
    c.fail("Shape must be at least rank " + rank_str(r) + " but is rank " + rank_str(s.rank()));
}

void need_square(InferCtx& c, int i) {
  need_rank(c, i, 2);
  const PartialShape& s = c.shape(i);
  if (!s.known_rank) return;
  int64_t r = s.dims[s.rank() - 2], q = s.dims[s.rank() - 1];
  if (r >= 0 && q >= 0 && r != q)
    c.fail("Dimensions must be equal, but are " + std::to_string(q) + " and " + std::to_string(r));
}

void need_float(InferCtx& c, const char* op) {
  if (!is_floating(c.dtype(0))) c.type_fail(std::string(op) + " does not support dtype " + dtype_name(c.dtype(0)));
}

// Merges two dims known-or-unknown (-1); fails on a conflict.
int64_t merge_dim(InferCtx& c, int64_t a, int64_t b) {
  if (a >= 0 && b >= 0 && a != b)
    c.fail("Dimensions must be equal, but are " + std::to_string(a) + " and " + std::to_string(b));
  return a >= 0 ? a : b;
}

// The shape of a batch of matrices with the last two dims dropped; unknown rank stays unknown.
PartialShape batch_of(const PartialShape& s, int drop) {
  if (!s.known_rank) return PartialShape::unknown();
  return PartialShape(Dims(s.dims.begin(), s.dims.end() - drop));
}

// Batch dims of inputs 0 and 1 (each dropping `d0`, `d1` trailing dims), merged.
PartialShape merge_batch(InferCtx& c, int d0, int d1) {
  PartialShape a = batch_of(c.shape(0), d0), b = batch_of(c.shape(1), d1);
  if (!a.known_rank) return b;
  if (!b.known_rank) return a;
  if (a.rank() != b.rank())
    c.fail("Shapes must be equal rank, but are " + rank_str(a.rank()) + " and " + rank_str(b.rank()));
  for (int i = 0; i < a.rank(); ++i) a.dims[i] = merge_dim(c, a.dims[i], b.dims[i]);
  return a;
}

// ---- kernel helpers ----

int64_t batch_count(const Dims& d, int drop) {
  int64_t n = 1;
  for (size_t i = 0; i + drop < d.size(); ++i) n *= d[i];
  return n;
}

void kernel_square(KernelCtx& c, const Tensor& x) {
  if (x.rank() < 2) c.fail("Input must have rank >= 2, got " + rank_str(x.rank()));
  if (x.dim(x.rank() - 1) != x.dim(x.rank() - 2))
    c.fail("Input matrix must be square, got " + dims_str(x.dims()));
}

// Leading dims of a and b (without the last `da`, `db` dims) must agree.
void kernel_same_batch(KernelCtx& c, const Tensor& a, int da, const Tensor& b, int db) {
  Dims x(a.dims().begin(), a.dims().end() - da), y(b.dims().begin(), b.dims().end() - db);
  if (x != y)
    c.fail("Batch dimensions of the inputs must match: " + dims_str(a.dims()) + " vs " + dims_str(b.dims()));
}

// ---- gradient helpers ----

Output bmm(GradCtx& g, Output a, Output b, bool adj_a = false, bool adj_b = false) {
  return g.b.op1("BatchMatMulV2", {a, b}, AttrMap{{"adj_x", adj_a}, {"adj_y", adj_b}});
}

Output band(GradCtx& g, Output x, int64_t lo, int64_t up) {
  return g.b.op1("MatrixBandPart", {x, g.b.scalar((double)lo, DType::Int64), g.b.scalar((double)up, DType::Int64)});
}

// ---- MatrixDiag / MatrixDiagPart / MatrixSetDiag / MatrixBandPart ----

void matrix_diag_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  if (x.rank() < 1) c.fail("input must be at least 1-dim, received shape: " + dims_str(x.dims()));
  const int64_t n = x.dim(x.rank() - 1), nb = batch_count(x.dims(), 1);
  Dims od = x.dims();
  od.push_back(n);
  dispatch<kPod>(x.dtype(), "MatrixDiag", [&](auto z) {
    using T = decltype(z);
    Tensor& ot = c.alloc(0, x.dtype(), od);
    if (ot.size() == 0) return;  // Note [empty outputs return early]: [10^12, 0] is 10^12 empty matrices
    T* out = ot.template data<T>();
    const T* in = x.data<T>();
    std::fill(out, out + nb * n * n, T(0));
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t i = 0; i < n; ++i) out[(b * n + i) * n + i] = in[b * n + i];
  });
}

REGISTER_OP("MatrixDiag").inputs(1)
    .shape([](InferCtx& c) {
      need_rank(c, 0, 1);
      PartialShape s = c.shape(0);
      if (s.known_rank) s.dims.push_back(s.dims.back());
      c.set_output(0, c.dtype(0), s);
    })
    .cpu(matrix_diag_kernel)
    .grad([](GradCtx& g) { return std::vector<Output>{g.b.op1("MatrixDiagPart", {g.g()})}; });

void matrix_diag_part_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  if (x.rank() < 2) c.fail("input must be at least 2-dim, received shape: " + dims_str(x.dims()));
  const int64_t m = x.dim(x.rank() - 2), n = x.dim(x.rank() - 1), k = std::min(m, n);
  const int64_t nb = batch_count(x.dims(), 2);
  Dims od(x.dims().begin(), x.dims().end() - 2);
  od.push_back(k);
  dispatch<kPod>(x.dtype(), "MatrixDiagPart", [&](auto z) {
    using T = decltype(z);
    Tensor& ot = c.alloc(0, x.dtype(), od);
    if (ot.size() == 0) return;  // Note [empty outputs return early]
    T* out = ot.template data<T>();
    const T* in = x.data<T>();
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t i = 0; i < k; ++i) out[b * k + i] = in[b * m * n + i * n + i];
  });
}

REGISTER_OP("MatrixDiagPart").inputs(1)
    .shape([](InferCtx& c) {
      need_rank(c, 0, 2);
      PartialShape s = c.shape(0);
      if (s.known_rank) {
        int64_t m = s.dims[s.rank() - 2], n = s.dims[s.rank() - 1];
        s.dims.pop_back();
        s.dims.back() = m >= 0 && n >= 0 ? std::min(m, n) : (m == 0 || n == 0 ? 0 : -1);
      }
      c.set_output(0, c.dtype(0), s);
    })
    .cpu(matrix_diag_part_kernel)
    // Not MatrixDiag(g): that is only right for square matrices.
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("MatrixSetDiag", {g.b.op1("ZerosLike", {g.x(0)}), g.g()})};
    });

void matrix_set_diag_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  const Tensor& d = c.in(1);
  if (x.rank() < 2) c.fail("input must be at least 2-dim, received shape: " + dims_str(x.dims()));
  const int64_t m = x.dim(x.rank() - 2), n = x.dim(x.rank() - 1), k = std::min(m, n);
  Dims want(x.dims().begin(), x.dims().end() - 2);
  want.push_back(k);
  if (d.dims() != want)
    c.fail("must have diagonal.shape == input.shape[:-2] + [min(input.shape[-2:])], but received input shape: " +
           dims_str(x.dims()) + " and diagonal shape: " + dims_str(d.dims()));
  if (d.dtype() != x.dtype()) c.fail("input and diagonal must have the same dtype");
  const int64_t nb = batch_count(x.dims(), 2);
  dispatch<kPod>(x.dtype(), "MatrixSetDiag", [&](auto z) {
    using T = decltype(z);
    Tensor& ot = c.alloc(0, x.dtype(), x.dims());
    if (ot.size() == 0) return;  // Note [empty outputs return early]
    T* out = ot.template data<T>();
    std::memcpy(out, x.data<T>(), x.size() * sizeof(T));
    const T* dv = d.data<T>();
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t i = 0; i < k; ++i) out[b * m * n + i * n + i] = dv[b * k + i];
  });
}

REGISTER_OP("MatrixSetDiag").inputs(2)
    .shape([](InferCtx& c) {
      c.expect_same_dtype(0, 1);
      need_rank(c, 0, 2);
      need_rank(c, 1, 1);
      PartialShape s = c.shape(0);
      const PartialShape& d = c.shape(1);
      if (s.known_rank && d.known_rank) {
        if (d.rank() != s.rank() - 1)
          c.fail("Shape must be rank " + rank_str(s.rank() - 1) + " but is rank " + rank_str(d.rank()));
        for (int i = 0; i + 2 < s.rank(); ++i) s.dims[i] = merge_dim(c, s.dims[i], d.dims[i]);
        int64_t m = s.dims[s.rank() - 2], n = s.dims[s.rank() - 1];
        if (m >= 0 && n >= 0) merge_dim(c, std::min(m, n), d.dims.back());
      }
      c.set_output(0, c.dtype(0), s);
    })
    .cpu(matrix_set_diag_kernel)
    .grad([](GradCtx& g) {
      Output gx = g.b.op1("MatrixSetDiag", {g.g(), g.b.op1("ZerosLike", {g.x(1)})});
      return std::vector<Output>{gx, g.b.op1("MatrixDiagPart", {g.g()})};
    });

void matrix_band_part_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  if (x.rank() < 2) c.fail("input must be at least 2-dim, received shape: " + dims_str(x.dims()));
  for (int i = 1; i <= 2; ++i)
    if (c.in(i).size() != 1 || !is_integer(c.in(i).dtype()))
      c.fail(std::string(i == 1 ? "num_lower" : "num_upper") + " must be an integer scalar, got " +
             c.in(i).summary());
  const int64_t m = x.dim(x.rank() - 2), n = x.dim(x.rank() - 1);
  const int64_t lo = c.in(1).int_at(0), up = c.in(2).int_at(0);
  if (lo > m) c.fail("num_lower must be negative or less or equal to number of rows (" + std::to_string(m) +
                     ") got: " + std::to_string(lo));
  if (up > n) c.fail("num_upper must be negative or less or equal to number of columns (" + std::to_string(n) +
                     ") got: " + std::to_string(up));
  const int64_t nb = batch_count(x.dims(), 2);
  dispatch<kPod>(x.dtype(), "MatrixBandPart", [&](auto z) {
    using T = decltype(z);
    Tensor& ot = c.alloc(0, x.dtype(), x.dims());
    if (ot.size() == 0) return;  // Note [empty outputs return early]
    T* out = ot.template data<T>();
    const T* in = x.data<T>();
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          const bool keep = (lo < 0 || i - j <= lo) && (up < 0 || j - i <= up);
          const int64_t o = (b * m + i) * n + j;
          out[o] = keep ? in[o] : T(0);
        }
  });
}

REGISTER_OP("MatrixBandPart").inputs(3)
    .shape([](InferCtx& c) {
      need_rank(c, 0, 2);
      for (int i = 1; i <= 2; ++i) {
        if (!is_integer(c.dtype(i))) c.type_fail("num_lower and num_upper must be integers");
        if (c.shape(i).known_rank && c.shape(i).rank() != 0)
          c.fail("Shape must be rank 0 but is rank " + rank_str(c.shape(i).rank()));
      }
      c.set_output(0, c.dtype(0), c.shape(0));
    })
    .cpu(matrix_band_part_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("MatrixBandPart", {g.g(), g.x(1), g.x(2)}), Output{}, Output{}};
    });

// ---- Diag / DiagPart: rank k <-> rank 2k ----

void diag_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  if (x.rank() < 1) c.fail("Input must be at least rank 1, got 0");
  Dims od = x.dims();
  od.insert(od.end(), x.dims().begin(), x.dims().end());
  const int64_t n = x.size();
  dispatch<kPod>(x.dtype(), "Diag", [&](auto z) {
    using T = decltype(z);
    T* out = c.alloc(0, x.dtype(), od).template data<T>();
    const T* in = x.data<T>();
    std::fill(out, out + n * n, T(0));
    for (int64_t i = 0; i < n; ++i) out[i * n + i] = in[i];
  });
}

REGISTER_OP("Diag").inputs(1)
    .shape([](InferCtx& c) {
      need_rank(c, 0, 1);
      PartialShape s = c.shape(0);
      if (s.known_rank) {
        Dims d = s.dims;
        s.dims.insert(s.dims.end(), d.begin(), d.end());
      }
      c.set_output(0, c.dtype(0), s);
    })
    .cpu(diag_kernel)
    .grad([](GradCtx& g) { return std::vector<Output>{g.b.op1("DiagPart", {g.g()})}; });

void diag_part_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  const int r = x.rank();
  if (r == 0 || r % 2) c.fail("The rank of the tensor should be even and positive, got shape " + dims_str(x.dims()));
  const int h = r / 2;
  for (int i = 0; i < h; ++i)
    if (x.dim(i) != x.dim(i + h))
      c.fail("Invalid shape " + dims_str(x.dims()) + ": dimensions " + std::to_string(i) + " and " +
             std::to_string(i + h) + " do not match.");
  Dims od(x.dims().begin(), x.dims().begin() + h);
  const int64_t n = num_elements(od);
  dispatch<kPod>(x.dtype(), "DiagPart", [&](auto z) {
    using T = decltype(z);
    T* out = c.alloc(0, x.dtype(), od).template data<T>();
    const T* in = x.data<T>();
    for (int64_t i = 0; i < n; ++i) out[i] = in[i * n + i];
  });
}

REGISTER_OP("DiagPart").inputs(1)
    .shape([](InferCtx& c) {
      const PartialShape& s = c.shape(0);
      if (!s.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown());
      if (s.rank() == 0 || s.rank() % 2)
        c.fail("Input must have even rank <= 6, input rank is " + rank_str(s.rank()));
      const int h = s.rank() / 2;
      Dims d(h);
      for (int i = 0; i < h; ++i) d[i] = merge_dim(c, s.dims[i], s.dims[i + h]);
      c.set_output(0, c.dtype(0), PartialShape(d));
    })
    .cpu(diag_part_kernel)
    .grad([](GradCtx& g) { return std::vector<Output>{g.b.op1("Diag", {g.g()})}; });

// ---- determinants ----

// LU of one matrix (transposition does not change the determinant): sign and log|det|, sign 0 and
// log -inf for an exactly singular one.
template <class T>
void lu_slogdet(int n, T* a, int* piv, T* sign, T* logabs) {
  if (n > 0) getrf(n, a, piv);  // LAPACK rejects lda = 0
  T s = 1, l = 0;
  for (int i = 0; i < n; ++i) {
    const T u = a[(int64_t)i * n + i];
    if (piv[i] != i + 1) s = -s;
    if (u == 0) { *sign = 0; *logabs = -std::numeric_limits<T>::infinity(); return; }
    if (u < 0) s = -s;
    l += std::log(std::abs(u));
  }
  *sign = s;
  *logabs = l;
}

// Both determinant ops: `log_form` writes (sign, log|det|), else det = sign * exp(log|det|) computed as a
// plain product so small matrices match NumPy to the last bit where the product does not overflow.
template <bool log_form>
void determinant_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  kernel_square(c, x);
  const int n = (int)x.dim(x.rank() - 1);
  const int64_t nn = (int64_t)n * n, nb = batch_count(x.dims(), 2);
  Dims od(x.dims().begin(), x.dims().end() - 2);
  dispatch_float(x.dtype(), log_form ? "LogMatrixDeterminant" : "MatrixDeterminant", [&](auto z) {
    using T = decltype(z);
    T* o0 = c.alloc(0, x.dtype(), od).template data<T>();
    T* o1 = log_form ? c.alloc(1, x.dtype(), od).template data<T>() : nullptr;
    const T* in = x.data<T>();
    c.parallel_for(nb, nn * n + 1, [&](int64_t b, int64_t e) {
      std::vector<T> a(nn);
      std::vector<int> piv(n);
      for (int64_t i = b; i < e; ++i) {
        if (nn) std::memcpy(a.data(), in + i * nn, nn * sizeof(T));
        if (log_form) {
          lu_slogdet(n, a.data(), piv.data(), o0 + i, o1 + i);
          continue;
        }
        if (n) getrf(n, a.data(), piv.data());
        T d = 1;
        for (int k = 0; k < n; ++k) d *= piv[k] != k + 1 ? -a[(int64_t)k * n + k] : a[(int64_t)k * n + k];
        o0[i] = d;
      }
    });
  });
}

void determinant_shape(InferCtx& c, int outputs) {
  need_float(c, outputs == 1 ? "MatrixDeterminant" : "LogMatrixDeterminant");
  need_square(c, 0);
  PartialShape b = batch_of(c.shape(0), 2);
  for (int i = 0; i < outputs; ++i) c.set_output(i, c.dtype(0), b);
}

// x[..., None, None]: a per-matrix scalar spread over its matrix.
Output per_matrix(GradCtx& g, Output x) {
  Output axis = g.b.scalar(-1, DType::Int32);
  return g.b.op1("ExpandDims", {g.b.op1("ExpandDims", {x, axis}), axis});
}

// d det(A) = det(A) tr(A^-1 dA), so dA = g det(A) A^-T (TF's rule; singular A has no gradient there).
REGISTER_OP("MatrixDeterminant").inputs(1).expensive()
    .shape([](InferCtx& c) { determinant_shape(c, 1); })
    .cpu(determinant_kernel<false>)
    .grad([](GradCtx& g) {
      Output inv = g.b.op1("MatrixInverse", {g.x(0)}, AttrMap{{"adjoint", true}});
      return std::vector<Output>{g.b.op1("Mul", {per_matrix(g, g.b.op1("Mul", {g.g(), g.y()})), inv})};
    });

// Only log|det| is differentiable (the sign is piecewise constant): dA = g A^-T.
REGISTER_OP("LogMatrixDeterminant").inputs(1).expensive()
    .shape([](InferCtx& c) { determinant_shape(c, 2); })
    .cpu(determinant_kernel<true>)
    .grad([](GradCtx& g) {
      Output inv = g.b.op1("MatrixInverse", {g.x(0)}, AttrMap{{"adjoint", true}});
      return std::vector<Output>{g.b.op1("Mul", {per_matrix(g, g.g(1)), inv})};
    });

// ---- Cholesky ----

// The column-major upper triangle is the row-major lower one, so potrf("U") reads only the lower triangle
// (as TF does) and leaves L there; the other triangle is then cleared.
void cholesky_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  kernel_square(c, x);
  const int n = (int)x.dim(x.rank() - 1);
  const int64_t nn = (int64_t)n * n, nb = batch_count(x.dims(), 2);
  dispatch_float(x.dtype(), "Cholesky", [&](auto z) {
    using T = decltype(z);
    T* out = c.alloc(0, x.dtype(), x.dims()).template data<T>();
    if (nn == 0 || nb == 0) return;
    std::memcpy(out, x.data<T>(), nb * nn * sizeof(T));
    c.parallel_for(nb, nn * n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        T* a = out + i * nn;
        if (potrf(n, a) != 0)
          c.fail("Cholesky decomposition was not successful. The input might not be valid.");
        for (int r = 0; r < n; ++r)
          for (int q = r + 1; q < n; ++q) a[(int64_t)r * n + q] = 0;
      }
    });
  });
}

// TF's _CholeskyGrad: with M = L^T g, phi(M) its lower triangle with the diagonal halved, and
// X = L^-T phi(M) L^-1, dA = (X + X^T) / 2 = L^-T (phi(M) + phi(M)^T) L^-1 / 2. L^-1 comes from a
// triangular solve against the identity, and phi(M)^T is folded into a product's adjoint flag.
std::vector<Output> cholesky_grad(GradCtx& g) {
  Output l = g.y();
  Output eye = g.b.op1("MatrixDiag", {g.b.op1("OnesLike", {g.b.op1("MatrixDiagPart", {l})})});
  Output linv = g.b.op1("MatrixTriangularSolve", {l, eye}, AttrMap{{"lower", true}, {"adjoint", false}});
  Output middle = bmm(g, l, g.g(), true, false);
  Output half = g.b.op1("Mul", {g.b.scalar(0.5, l.dtype()), g.b.op1("MatrixDiagPart", {middle})});
  Output phi = band(g, g.b.op1("MatrixSetDiag", {middle, half}), -1, 0);
  Output s = g.b.op1("Add", {bmm(g, linv, phi, true, false), bmm(g, linv, phi, true, true)});
  Output ga = bmm(g, s, linv);
  return {g.b.op1("Mul", {ga, g.b.scalar(0.5, l.dtype())})};
}

REGISTER_OP("Cholesky").inputs(1).expensive()
    .shape([](InferCtx& c) {
      need_float(c, "Cholesky");
      need_square(c, 0);
      c.set_output(0, c.dtype(0), c.shape(0));
    })
    .cpu(cholesky_kernel)
    .grad(cholesky_grad);

// ---- MatrixSolve / MatrixTriangularSolve ----

void solve_shape(InferCtx& c, const char* op) {
  need_float(c, op);
  c.expect_same_dtype(0, 1);
  need_square(c, 0);
  need_rank(c, 1, 2);
  PartialShape batch = merge_batch(c, 2, 2);
  const PartialShape& a = c.shape(0);
  const PartialShape& r = c.shape(1);
  int64_t n = a.known_rank ? a.dims[a.rank() - 1] : -1, k = -1;
  if (r.known_rank) {
    n = merge_dim(c, n, r.dims[r.rank() - 2]);
    k = r.dims[r.rank() - 1];
  }
  if (!batch.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown());
  batch.dims.push_back(n);
  batch.dims.push_back(k);
  c.set_output(0, c.dtype(0), batch);
}

// Checks shared by both solves; returns n and k (rhs columns).
void solve_dims(KernelCtx& c, const Tensor& a, const Tensor& r, int* n, int* k) {
  kernel_square(c, a);
  if (r.rank() < 2) c.fail("Input rhs must have rank >= 2, got " + rank_str(r.rank()));
  kernel_same_batch(c, a, 2, r, 2);
  *n = (int)a.dim(a.rank() - 1);
  *k = (int)r.dim(r.rank() - 1);
  if (r.dim(r.rank() - 2) != *n)
    c.fail("Input matrix and right-hand side must have the same number of rows: " + dims_str(a.dims()) + " vs " +
           dims_str(r.dims()));
}

// getrf on the column-major view factors A^T, so getrs with "T" solves A X = B and "N" solves A^T X = B.
// The right-hand side goes through a column-major copy.
void matrix_solve_kernel(KernelCtx& c) {
  const Tensor& a = c.in(0);
  const Tensor& r = c.in(1);
  int n, k;
  solve_dims(c, a, r, &n, &k);
  const bool adjoint = c.node.attrs.get_or<bool>("adjoint", false);
  const int64_t nn = (int64_t)n * n, nk = (int64_t)n * k, nb = batch_count(a.dims(), 2);
  dispatch_float(a.dtype(), "MatrixSolve", [&](auto z) {
    using T = decltype(z);
    T* out = c.alloc(0, a.dtype(), r.dims()).template data<T>();
    if (nk == 0 || nb == 0) return;
    const T* ap = a.data<T>();
    const T* rp = r.data<T>();
    c.parallel_for(nb, nn * (n + k), [&](int64_t b, int64_t e) {
      std::vector<T> lu(nn), cm(nk);
      std::vector<int> piv(n);
      for (int64_t i = b; i < e; ++i) {
        std::memcpy(lu.data(), ap + i * nn, nn * sizeof(T));
        if (getrf(n, lu.data(), piv.data()) > 0) c.fail("Input matrix is not invertible.");
        const T* src = rp + i * nk;
        for (int p = 0; p < n; ++p)
          for (int q = 0; q < k; ++q) cm[(int64_t)q * n + p] = src[(int64_t)p * k + q];
        getrs(adjoint ? 'N' : 'T', n, k, lu.data(), piv.data(), cm.data());
        T* dst = out + i * nk;
        for (int p = 0; p < n; ++p)
          for (int q = 0; q < k; ++q) dst[(int64_t)p * k + q] = cm[(int64_t)q * n + p];
      }
    });
  });
}

// Row-major trsm needs no transposes; only the named triangle of the matrix is read.
void triangular_solve_kernel(KernelCtx& c) {
  const Tensor& a = c.in(0);
  const Tensor& r = c.in(1);
  int n, k;
  solve_dims(c, a, r, &n, &k);
  const bool lower = c.node.attrs.get_or<bool>("lower", true);
  const bool adjoint = c.node.attrs.get_or<bool>("adjoint", false);
  const int64_t nn = (int64_t)n * n, nk = (int64_t)n * k, nb = batch_count(a.dims(), 2);
  dispatch_float(a.dtype(), "MatrixTriangularSolve", [&](auto z) {
    using T = decltype(z);
    T* out = c.alloc(0, a.dtype(), r.dims()).template data<T>();
    if (nk == 0 || nb == 0) return;
    std::memcpy(out, r.data<T>(), nb * nk * sizeof(T));
    const T* ap = a.data<T>();
    c.parallel_for(nb, nn * k, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T* m = ap + i * nn;
        for (int d = 0; d < n; ++d)
          if (m[(int64_t)d * n + d] == 0) c.fail("Input matrix is not invertible.");
        trsm(lower ? kLower : kUpper, adjoint ? kTrans : kNoTrans, n, k, m, out + i * nk);
      }
    });
  });
}

// Solves share TF's rule: with C the solution, dB = solve(A, g, adjoint = !adjoint) and
// dA = -dB C^T (or -C dB^T for the adjoint system).
std::vector<Output> solve_grad(GradCtx& g, bool triangular) {
  const bool adj = g.node.attrs.get_or<bool>("adjoint", false);
  const bool lower = g.node.attrs.get_or<bool>("lower", true);
  AttrMap attrs{{"adjoint", !adj}};
  if (triangular) attrs["lower"] = lower;
  Output gb = g.b.op1(triangular ? "MatrixTriangularSolve" : "MatrixSolve", {g.x(0), g.g()}, attrs);
  Output c = g.y();
  Output ga = g.b.op1("Neg", {adj ? bmm(g, c, gb, false, true) : bmm(g, gb, c, false, true)});
  if (triangular) ga = lower ? band(g, ga, -1, 0) : band(g, ga, 0, -1);
  return {ga, gb};
}

REGISTER_OP("MatrixSolve").inputs(2).expensive()
    .shape([](InferCtx& c) { solve_shape(c, "MatrixSolve"); })
    .cpu(matrix_solve_kernel)
    .grad([](GradCtx& g) { return solve_grad(g, false); });

REGISTER_OP("MatrixTriangularSolve").inputs(2).expensive()
    .shape([](InferCtx& c) { solve_shape(c, "MatrixTriangularSolve"); })
    .cpu(triangular_solve_kernel)
    .grad([](GradCtx& g) { return solve_grad(g, true); });

}  // namespace
}  // namespace tideflow
