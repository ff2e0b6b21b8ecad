// Private to the elementwise family (elementwise_unary.cc, elementwise_binary.cc): dtype checks for shape
// functions, NumPy broadcasting of up to three inputs, and the loops that map a functor over tensors.
#pragma once
#include <algorithm>
#include <array>
#include <string>
#include <type_traits>

#include "op_registry.h"

namespace tideflow {
namespace elementwise {

// Cost units per element handed to parallel_for: plain arithmetic vs. libm calls.
constexpr int64_t kCheap = 1;
constexpr int64_t kTranscendental = 16;

// The dtypes an op accepts (a DTypeSet, Note [dtype sets] in dtype.h), checked in its shape function so a
// wrong dtype is a TypeError at the line that built the node (as TensorFlow's "not in list of allowed
// values"); its kernel dispatches over the same set.
inline bool dtype_in(DType d, DTypeSet kinds) { return in_set(d, kinds); }

inline void check_dtype(InferCtx& c, int i, DTypeSet kinds) {
  if (!dtype_in(c.dtype(i), kinds))
    c.type_fail("Input " + std::to_string(i) + " has dtype " + dtype_name(c.dtype(i)) +
                ", not in the list of allowed values: " + dtypes_str(kinds));
}

// -a without signed-overflow UB: INT_MIN stays INT_MIN, as in TensorFlow.
template <class T> T wrap_neg(T a) {
  if constexpr (std::is_integral_v<T>) return static_cast<T>(0 - static_cast<std::make_unsigned_t<T>>(a));
  else return -a;
}

// Note [broadcast iteration]
// A broadcast is the output dims plus, per input, element strides over them (0 where the input is
// broadcast). Output dims of size 1 are dropped and neighbouring dims merged whenever every input steps
// through them alike, so (2,3)+(3,) becomes a 2-d loop with strides {3,1} and {0,1}, (2,1)+(1,3) one with
// strides {1,0} and {0,1}, and (4,5,6)+(4,5,6) a single contiguous run. After collapsing, every input's
// innermost stride is 0 or 1, so the inner loops are plain vectorizable loops over a pointer or a repeated
// value.
template <int N>
struct Broadcast {
  Dims out;                     // the output dims
  Dims shape;                   // collapsed dims, at least one
  std::array<Dims, N> strides;  // per input, per collapsed dim

  bool init(const std::array<const Dims*, N>& in) {
    size_t r = 0;
    for (const Dims* d : in) r = std::max(r, d->size());
    out.assign(r, 1);
    std::array<Dims, N> full;  // each input's dims, left-padded with 1s
    for (int k = 0; k < N; ++k) {
      full[k].assign(r - in[k]->size(), 1);
      full[k].insert(full[k].end(), in[k]->begin(), in[k]->end());
      for (size_t i = 0; i < r; ++i) {
        int64_t d = full[k][i];
        if (d == 1 || d == out[i]) continue;
        if (out[i] != 1) return false;
        out[i] = d;
      }
    }
    std::array<Dims, N> contig;  // each input's row-major strides, 0 where broadcast
    for (int k = 0; k < N; ++k) {
      contig[k].assign(r, 0);
      int64_t s = 1;
      for (size_t i = r; i-- > 0;) {
        contig[k][i] = full[k][i] == out[i] ? s : 0;
        s *= full[k][i];
      }
    }
    shape.clear();
    for (auto& s : strides) s.clear();
    for (size_t i = 0; i < r; ++i) {
      if (out[i] == 1) continue;
      bool merge = !shape.empty();
      for (int k = 0; k < N && merge; ++k) merge = strides[k].back() == contig[k][i] * out[i];
      if (merge) {
        shape.back() *= out[i];
        for (int k = 0; k < N; ++k) strides[k].back() = contig[k][i];
      } else {
        shape.push_back(out[i]);
        for (int k = 0; k < N; ++k) strides[k].push_back(contig[k][i]);
      }
    }
    if (shape.empty()) {  // every dim is 1: one element
      shape.push_back(1);
      for (auto& s : strides) s.push_back(0);
    }
    return true;
  }

  int64_t inner_stride(int k) const { return strides[k].back(); }

  // Calls run(offsets, pos, len) for each stretch of the innermost collapsed dim within the flat output
  // range [begin, end): output elements pos..pos+len-1 read input k from offsets[k] with inner_stride(k).
  template <class Run>
  void for_each_run(int64_t begin, int64_t end, Run&& run) const {
    const int r = (int)shape.size();
    Dims idx(r);
    int64_t rem = begin;
    for (int i = r - 1; i >= 0; --i) {
      idx[i] = rem % shape[i];
      rem /= shape[i];
    }
    std::array<int64_t, N> off{};
    for (int k = 0; k < N; ++k)
      for (int i = 0; i < r; ++i) off[k] += idx[i] * strides[k][i];
    for (int64_t pos = begin; pos < end;) {
      int64_t len = std::min(shape[r - 1] - idx[r - 1], end - pos);
      run(off, pos, len);
      pos += len;
      idx[r - 1] += len;
      for (int k = 0; k < N; ++k) off[k] += len * strides[k][r - 1];
      for (int i = r - 1; i > 0 && idx[i] == shape[i]; --i) {
        idx[i] = 0;
        ++idx[i - 1];
        for (int k = 0; k < N; ++k) off[k] += strides[k][i - 1] - shape[i] * strides[k][i];
      }
    }
  }
};

// The output buffer: an input's, when it has the output's dtype and dims and nobody else holds it.
// Callers take their input data pointers first: forwarding moves the input tensor into the output.
inline Tensor& alloc_output(KernelCtx& c, DType dt, const Dims& dims) {
  for (int i = 0; i < (int)c.inputs.size(); ++i) {
    const Tensor& t = c.in(i);
    if (t.valid() && t.dtype() == dt && t.dims() == dims && t.unique()) return c.alloc_or_forward(0, i, dt, dims);
  }
  return c.alloc(0, dt, dims);
}

// out = f(in) elementwise; T is the input element type, R the output's.
template <class T, class R, class F>
void unary_map(KernelCtx& c, F f, int64_t cost) {
  const T* x = c.in(0).data<T>();
  const int64_t n = c.in(0).size();
  Dims dims = c.in(0).dims();
  R* o = alloc_output(c, dtype_of<R>::value, dims).template data<R>();
  c.parallel_for(n, cost, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) o[i] = f(x[i]);
  });
}

// po[j] = f(pa[j * sa], pb[j * sb]) for j < len, with each stride 0 or 1: four plain loops.
template <class T, class R, class F>
inline void binary_run(const T* pa, bool sa, const T* pb, bool sb, R* po, int64_t len, F f) {
  if (sa && sb) {
    for (int64_t j = 0; j < len; ++j) po[j] = f(pa[j], pb[j]);
  } else if (sb) {
    const T va = *pa;
    for (int64_t j = 0; j < len; ++j) po[j] = f(va, pb[j]);
  } else if (sa) {
    const T vb = *pb;
    for (int64_t j = 0; j < len; ++j) po[j] = f(pa[j], vb);
  } else {
    std::fill(po, po + len, f(*pa, *pb));
  }
}

// out = f(a, b) with NumPy broadcasting. Same shapes and a single-element operand (of no higher rank) are
// one flat run and skip building a Broadcast, which matters for small tensors; every other case goes
// through Note [broadcast iteration].
template <class T, class R, class F>
void binary_map(KernelCtx& c, F f, int64_t cost) {
  const Tensor& ta = c.in(0);
  const Tensor& tb = c.in(1);
  const T* a = ta.data<T>();
  const T* b = tb.data<T>();
  const bool flat_b = tb.size() == 1 && tb.rank() <= ta.rank();
  const bool flat_a = ta.size() == 1 && ta.rank() <= tb.rank();
  if (ta.dims() == tb.dims() || flat_a || flat_b) {
    const bool sa = !flat_a || ta.dims() == tb.dims(), sb = !flat_b || ta.dims() == tb.dims();
    const Dims dims = sa ? ta.dims() : tb.dims();
    R* o = alloc_output(c, dtype_of<R>::value, dims).template data<R>();
    c.parallel_for(num_elements(dims), cost, [&](int64_t lo, int64_t hi) {
      binary_run(a + (sa ? lo : 0), sa, b + (sb ? lo : 0), sb, o + lo, hi - lo, f);
    });
    return;
  }
  Broadcast<2> bc;
  if (!bc.init({&ta.dims(), &tb.dims()}))
    c.fail("Incompatible shapes: " + dims_str(ta.dims()) + " vs. " + dims_str(tb.dims()));
  R* o = alloc_output(c, dtype_of<R>::value, bc.out).template data<R>();
  const bool sa = bc.inner_stride(0) != 0, sb = bc.inner_stride(1) != 0;
  c.parallel_for(num_elements(bc.out), cost, [&](int64_t lo, int64_t hi) {
    bc.for_each_run(lo, hi, [&](const std::array<int64_t, 2>& off, int64_t pos, int64_t len) {
      binary_run(a + off[0], sa, b + off[1], sb, o + pos, len, f);
    });
  });
}

// Gradient rules read as formulas with these (see Note [gradient rules] in gradients.h).
inline Output emit(GradCtx& g, const char* type, std::vector<Output> in, AttrMap attrs = {}) {
  return g.b.op1(type, std::move(in), std::move(attrs));
}
inline Output scalar_like(GradCtx& g, double v, const Output& like) { return g.b.scalar(v, like.dtype()); }

}  // namespace elementwise
}  // namespace tideflow
