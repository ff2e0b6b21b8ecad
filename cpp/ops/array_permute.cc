// Ops that move every element to a new place: Transpose (and InvertPermutation, for its gradient), Roll,
// ReverseSequence, SpaceToDepth and DepthToSpace.
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

// Output 0 shaped like x with out[i] = x[src(idx, i)], where idx is element i's multi-index (an odometer
// over x's dims): the element permutations Roll and ReverseSequence.
template <class Src>
void gather_elements(KernelCtx& c, const Tensor& x, Src src) {
  Tensor& out = c.alloc(0, x.dtype(), x.dims());
  if (x.size() == 0) return;
  dispatch_any(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* s = x.data<T>();
    T* o = out.data<T>();
    Dims idx(x.rank(), 0);
    for (int64_t i = 0, n = x.size(); i < n; ++i) {
      o[i] = s[src(idx, i)];
      for (int k = x.rank() - 1; k >= 0 && ++idx[k] == x.dim(k); --k) idx[k] = 0;  // odometer step
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Roll(input, shift, axis): out[(i + shift) mod n] = in[i] along each named axis (shifts on one axis add).

void roll_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  Dims sh = c.in(1).to_int_vector(), ax = c.in(2).to_int_vector();
  if (c.in(1).rank() > 1) c.fail("shift must be a scalar or a 1-D vector. Found: " + c.in(1).summary());
  if (c.in(2).rank() > 1) c.fail("axis must be a scalar or a 1-D vector. Found: " + c.in(2).summary());
  if (sh.size() != ax.size())
    c.fail("shift and axis must have the same size");
  const int r = x.rank();
  Dims total(r, 0);
  for (size_t i = 0; i < ax.size(); ++i) {
    int64_t a = canonical_axis(ax[i], r);
    if (a < 0) c.fail("axis " + std::to_string(ax[i]) + " is out of range");
    total[a] += sh[i];
  }
  for (int d = 0; d < r; ++d) if (x.dim(d)) total[d] = ((total[d] % x.dim(d)) + x.dim(d)) % x.dim(d);
  Dims st = strides_of(x.dims());
  gather_elements(c, x, [&](const Dims& idx, int64_t) {
    int64_t src = 0;
    for (int d = 0; d < r; ++d) {
      int64_t v = idx[d] - total[d];
      src += (v < 0 ? v + x.dim(d) : v) * st[d];
    }
    return src;
  });
}

REGISTER_OP("Roll").inputs(3).shape(shape_unchanged).cpu(roll_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("Roll", {g.g(), g.b.op1("Neg", {g.x(1)}), g.x(2)}), Output{}, Output{}};
    });

// ---------------------------------------------------------------------------------------------------
// ReverseSequence(input, seq_lengths): per batch entry b, the first seq_lengths[b] elements along seq_dim
// are reversed; the rest is copied.

void reverse_sequence_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  Dims lens = c.in(1).to_int_vector();
  const int r = x.rank();
  int64_t sd = c.attr<int64_t>("seq_dim"), bd = c.node.attrs.get_or<int64_t>("batch_dim", 0);
  if (sd < 0) sd += r;
  if (bd < 0) bd += r;
  if (sd < 0 || sd >= r || bd < 0 || bd >= r || sd == bd)
    c.fail("Invalid seq_dim " + std::to_string(sd) + " or batch_dim " + std::to_string(bd) + " for input of rank " + std::to_string(r));
  if (c.in(1).rank() != 1 || (int64_t)lens.size() != x.dim(bd))
    c.fail("Length of seq_lengths != input.dims(" + std::to_string(bd) + "), (" + std::to_string(lens.size()) +
           " vs. " + std::to_string(x.dim(bd)) + ")");
  for (size_t i = 0; i < lens.size(); ++i) {
    if (lens[i] < 0) c.fail("seq_lengths(" + std::to_string(i) + ") must be nonnegative");
    if (lens[i] > x.dim(sd))
      c.fail("seq_lengths(" + std::to_string(i) + ") > input.dims(" + std::to_string(sd) + ")");
  }
  const int64_t step = strides_of(x.dims())[sd];
  gather_elements(c, x, [&](const Dims& idx, int64_t i) {
    int64_t L = lens[idx[bd]], j = idx[sd];
    return j < L ? i + (L - 1 - 2 * j) * step : i;
  });
}

REGISTER_OP("ReverseSequence").inputs(2).shape(shape_unchanged).cpu(reverse_sequence_kernel)
    .grad([](GradCtx& g) {
      return std::vector<Output>{g.b.op1("ReverseSequence", {g.g(), g.x(1)}, g.node.attrs), Output{}};
    });

// ---------------------------------------------------------------------------------------------------
// SpaceToDepth / DepthToSpace (NHWC): blocks of bs x bs pixels become bs*bs*C channels and back.
// out[b, h, w, (oy*bs + ox)*C + ch] = in[b, h*bs + oy, w*bs + ox, ch] for SpaceToDepth.

int64_t block_size(const AttrMap& a) { return a.get_or<int64_t>("block_size", 0); }

void check_block(InferCtx& c) {
  if (c.node.attrs.get_or<std::string>("data_format", "NHWC") != "NHWC") c.fail("only data_format NHWC is supported");
  if (block_size(c.node.attrs) < 2) c.fail("Value for attr 'block_size' of " + std::to_string(block_size(c.node.attrs)) +
                                           " must be at least 2");
  // bs * bs and a dimension times bs * bs must fit int64 (2**62 squared wrapped to 0: a division by zero).
  const int64_t bs = block_size(c.node.attrs);
  int64_t sq;
  if (__builtin_mul_overflow(bs, bs, &sq)) c.fail("Value for attr 'block_size' of " + std::to_string(bs) + " is too large");
  if (c.shape(0).known_rank)
    for (int64_t d : c.shape(0).dims) {
      int64_t p;
      if (d > 0 && __builtin_mul_overflow(d, sq, &p))
        c.fail("block_size " + std::to_string(bs) + " makes a dimension of " + c.shape(0).str() + " overflow");
    }
  if (c.shape(0).known_rank && c.shape(0).rank() != 4) c.fail("input rank should be: 4 instead of: " + std::to_string(c.shape(0).rank()));
}

void space_to_depth_shape(InferCtx& c) {
  check_block(c);
  const PartialShape& s = c.shape(0);
  if (!s.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown_of_rank(4));
  int64_t bs = block_size(c.node.attrs);
  Dims d = s.dims;
  if ((d[1] >= 0 && d[1] % bs) || (d[2] >= 0 && d[2] % bs))
    c.fail("Dimension size must be evenly divisible by " + std::to_string(bs) + " but is " + std::to_string(d[1] % bs ? d[1] : d[2]));
  c.set_output(0, c.dtype(0), PartialShape(Dims{d[0], d[1] < 0 ? -1 : d[1] / bs, d[2] < 0 ? -1 : d[2] / bs,
                                                d[3] < 0 ? -1 : d[3] * bs * bs}));
}

void depth_to_space_shape(InferCtx& c) {
  check_block(c);
  const PartialShape& s = c.shape(0);
  if (!s.known_rank) return c.set_output(0, c.dtype(0), PartialShape::unknown_of_rank(4));
  int64_t bs = block_size(c.node.attrs);
  Dims d = s.dims;
  if (d[3] >= 0 && d[3] % (bs * bs))
    c.fail("Dimension size must be evenly divisible by " + std::to_string(bs * bs) + " but is " + std::to_string(d[3]));
  c.set_output(0, c.dtype(0), PartialShape(Dims{d[0], d[1] < 0 ? -1 : d[1] * bs, d[2] < 0 ? -1 : d[2] * bs,
                                                d[3] < 0 ? -1 : d[3] / (bs * bs)}));
}

template <bool ToDepth>
void space_depth_kernel(KernelCtx& c) {
  const Tensor& x = c.in(0);
  const int64_t bs = block_size(c.node.attrs);
  if (x.rank() != 4) c.fail("input rank should be: 4 instead of: " + std::to_string(x.rank()));
  for (int64_t d : x.dims()) {  // the shape function checked only the static dims (Note [checked sizes])
    int64_t p;
    if (bs < 2 || __builtin_mul_overflow(bs, bs, &p) || __builtin_mul_overflow(d, p, &p))
      c.fail("block_size " + std::to_string(bs) + " makes a dimension of " + dims_str(x.dims()) + " overflow");
  }
  // The "space" side's dims [B, H, W, C] (H, W full size, C the narrow channel count).
  int64_t B = x.dim(0), H, W, C;
  if (ToDepth) {
    H = x.dim(1); W = x.dim(2); C = x.dim(3);
    if (H % bs || W % bs)
      c.fail("Image height " + std::to_string(H) + " and width " + std::to_string(W) +
             " should be divisible by block_size: " + std::to_string(bs));
  } else {
    if (x.dim(3) % (bs * bs))
      c.fail("Input depth dimension " + std::to_string(x.dim(3)) + " should be divisible by: " + std::to_string(bs * bs));
    H = x.dim(1) * bs; W = x.dim(2) * bs; C = x.dim(3) / (bs * bs);
  }
  Dims od = ToDepth ? Dims{B, H / bs, W / bs, C * bs * bs} : Dims{B, H, W, C};
  Tensor& out = c.alloc(0, x.dtype(), od);
  // Note [empty outputs return early]
  // A kernel whose loops walk outer positions (pixels, rows, windows) does so whatever the innermost size
  // is: an input of shape [1, 2, 2, 0] with block_size 10^6 has 4 * 10^12 empty pixels, a [10^12, 0] input
  // 10^12 empty rows, and those loops run for hours (hangs the fuzzer found). Such a kernel allocates its
  // outputs (an empty tensor costs nothing) and returns before its loops when they are empty, as
  // TensorFlow's kernels do; runtime validation still comes first. tests/test_fuzz_findings.py hunts the
  // class across the ops that scale an outer extent (huge dims beside a zero dim).
  if (out.size() == 0) return;
  dispatch_any(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* s = x.data<T>();
    T* o = out.data<T>();
    const int64_t h2 = H / bs, w2 = W / bs, cd = C * bs * bs;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          int64_t sp = ((b * H + h) * W + w) * C;
          int64_t dp = ((b * h2 + h / bs) * w2 + w / bs) * cd + ((h % bs) * bs + (w % bs)) * C;
          if (ToDepth) std::copy(s + sp, s + sp + C, o + dp);
          else std::copy(s + dp, s + dp + C, o + sp);
        }
  });
}

REGISTER_OP("SpaceToDepth").inputs(1).shape(space_to_depth_shape).cpu(space_depth_kernel<true>)
    .grad([](GradCtx& g) { return std::vector<Output>{g.b.op1("DepthToSpace", {g.g()}, g.node.attrs)}; });

REGISTER_OP("DepthToSpace").inputs(1).shape(depth_to_space_shape).cpu(space_depth_kernel<false>)
    .grad([](GradCtx& g) { return std::vector<Output>{g.b.op1("SpaceToDepth", {g.g()}, g.node.attrs)}; });

}  // namespace
}  // namespace tideflow
