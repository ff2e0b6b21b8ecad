// Debugging ops: Assert, CheckNumerics, Print (tf.Print) and StringFormat + PrintV2 (tf.print). Values are
// rendered as TensorFlow renders them (Tensor::SummarizeValue), so messages read the same as TF's.
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "op_registry.h"
#include "resources.h"

namespace tideflow {
namespace {

// TF prints the shortest of %.6g / %.9g (float) or %.15g / %.17g (double) that reads back exactly.
template <class T> std::string format_real(T v) {
  if (std::isnan(v)) return std::signbit(v) ? "-nan" : "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  constexpr bool is_f = std::is_same<T, float>::value;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", is_f ? FLT_DIG : DBL_DIG, (double)v);
  T back = is_f ? (T)std::strtof(buf, nullptr) : (T)std::strtod(buf, nullptr);
  if (back != v) std::snprintf(buf, sizeof buf, "%.*g", is_f ? FLT_DIG + 3 : DBL_DIG + 2, (double)v);
  return buf;
}

// absl::Utf8SafeCEscape: control characters, quotes and backslashes escaped; UTF-8 bytes kept as they are.
std::string c_escape(const std::string& s) {
  std::string out;
  for (unsigned char ch : s) {
    switch (ch) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\'': out += "\\'"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (ch < 0x20 || ch == 0x7f) {
          char b[8];
          std::snprintf(b, sizeof b, "\\%03o", ch);
          out += b;
        } else {
          out += (char)ch;
        }
    }
  }
  return out;
}

std::string element(const Tensor& t, int64_t i, bool v2) {
  switch (t.dtype()) {
    case DType::Float32: return format_real(t.data<float>()[i]);
    case DType::Float64: return format_real(t.data<double>()[i]);
    case DType::Int32: return std::to_string(t.data<int32_t>()[i]);
    case DType::Int64: return std::to_string(t.data<int64_t>()[i]);
    case DType::Bool: return t.data<bool>()[i] ? "1" : "0";
    case DType::UInt8: return std::to_string(t.data<uint8_t>()[i]);
    case DType::Int8: return std::to_string(t.data<int8_t>()[i]);
    case DType::Int16: return std::to_string(t.data<int16_t>()[i]);
    case DType::UInt16: return std::to_string(t.data<uint16_t>()[i]);
    case DType::Float16: return format_real((float)t.data<half>()[i]);
    case DType::BFloat16: return format_real((float)t.data<bfloat16>()[i]);
    case DType::String: {
      std::string e = c_escape(t.string_values()[i]);
      return v2 ? "\"" + e + "\"" : e;
    }
    case DType::Variant: break;
  }
  return "?";
}

// TF's PrintOneDim: the first `limit` elements in row-major order, rows cut short with "...".
void print_dim_v1(const Tensor& t, int dim, int64_t limit, int64_t* idx, std::string* out) {
  if (*idx >= limit) return;
  int64_t count = t.dim(dim);
  if (dim == t.rank() - 1) {
    for (int64_t i = 0; i < count; ++i) {
      if (*idx >= limit) {
        if (dim != 0) *out += "...";
        return;
      }
      if (i > 0) *out += " ";
      *out += element(t, (*idx)++, false);
    }
    return;
  }
  for (int64_t i = 0; i < count; ++i) {
    bool opened = false;
    if (*idx < limit) {
      *out += "[";
      opened = true;
    }
    print_dim_v1(t, dim + 1, limit, idx, out);
    if (*idx < limit || opened) *out += "]";
  }
}

// Tensor::SummarizeValue(max_entries) as tf.Print and Assert show it.
std::string summarize_v1(const Tensor& t, int64_t max_entries) {
  int64_t n = t.size();
  int64_t limit = max_entries < 0 ? n : std::min(max_entries, n);
  std::string out;
  if (t.rank() == 0) {
    for (int64_t i = 0; i < limit; ++i) out += (i ? " " : "") + element(t, i, false);
  } else {
    int64_t idx = 0;
    print_dim_v1(t, 0, limit, &idx, &out);
  }
  if (n > limit) out += "...";
  return out;
}

// Writes and flushes at once: output from C++ and Python's own buffers then interleave in program order
// as far as the user can see, and nothing is lost if the process dies after the step.
void write_stream(const std::string& stream, const std::string& s) {
  if (stream.rfind("file://", 0) == 0) {
    std::string path = stream.substr(7);
    std::FILE* f = std::fopen(path.c_str(), "ab");
    if (!f) throw Error(ErrorCode::NotFound, "PrintV2: cannot open " + path + " for appending");
    std::fwrite(s.data(), 1, s.size(), f);
    std::fclose(f);
    return;
  }
  std::FILE* f = stream == "stdout" ? stdout : stderr;
  static std::mutex mu;  // one line at a time when several nodes print concurrently
  std::lock_guard<std::mutex> l(mu);
  std::fwrite(s.data(), 1, s.size(), f);
  std::fflush(f);
}

[[noreturn]] void op_failed(const KernelCtx& c, const std::string& msg) {
  throw invalid_argument(msg + "\n\t [[node " + c.node.describe() + "]]");
}

// Assert(condition, data...): no outputs; fails with the data rendered when condition is false. Stateful
// so it is never deduplicated with an identical assertion elsewhere in the graph.
REGISTER_OP("Assert").inputs(-1).stateful().not_differentiable()
    .shape([](InferCtx& c) {
      if (c.num_inputs() < 1) c.fail("Assert needs a condition");
      if (c.dtype(0) != DType::Bool) c.type_fail("condition must be bool, got " + std::string(dtype_name(c.dtype(0))));
    })
    .cpu([](KernelCtx& c) {
      const Tensor& cond = c.in(0);
      if (cond.rank() != 0 || cond.size() != 1) {
        Dims d = cond.dims();
        c.fail("In[0] should be a scalar: " + PartialShape(d).str());
      }
      if (*cond.data<bool>()) return;
      int64_t summarize = c.node.attrs.get_or<int64_t>("summarize", 3);
      std::string msg = "assertion failed: ";
      for (size_t i = 1; i < c.inputs.size(); ++i) {
        msg += "[" + summarize_v1(c.in((int)i), summarize) + "]";
        if (i + 1 < c.inputs.size()) msg += " ";
      }
      op_failed(c, msg);
    });

template <class T> int non_finite_bits(const T* p, int64_t n) {
  int bits = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(p[i])) bits |= 1;
    else if (std::isinf(p[i])) bits |= 2;
  }
  return bits;
}

// CheckNumerics(tensor): the tensor itself (the same buffer), or an error naming what was found.
REGISTER_OP("CheckNumerics").inputs(1)
    .shape([](InferCtx& c) {
      if (!in_set(c.dtype(0), kFloat))
        c.type_fail("CheckNumerics needs a floating-point tensor, got " + std::string(dtype_name(c.dtype(0))));
      shape_unchanged(c);
    })
    .cpu([](KernelCtx& c) {
      const Tensor& t = c.in(0);
      std::atomic<int> bits{0};
      dispatch<kFloat>(t.dtype(), "CheckNumerics", [&](auto z) {
        using T = decltype(z);
        const T* p = t.data<T>();
        c.parallel_for(t.size(), 1, [&](int64_t b, int64_t e) { bits |= non_finite_bits(p + b, e - b); });
      });
      if (int b = bits.load()) {
        const char* what = b == 3 ? "Inf and NaN" : b == 2 ? "Inf" : "NaN";
        op_failed(c, c.attr<std::string>("message") + " : Tensor had " + what + " values");
      }
      c.set(0, t);
    })
    .grad([](GradCtx& g) {
      // TF's rule: a non-finite gradient is as much a bug as a non-finite value, and is reported as one.
      std::string msg = "Not a number (NaN) or infinity (Inf) values detected in gradient. " +
                        g.node.attrs.get<std::string>("message");
      return std::vector<Output>{g.b.op1("CheckNumerics", {g.g()}, AttrMap{{"message", msg}})};
    });

// Print(input, data...): input passed through (same buffer); message + data written to stderr. first_n
// counts per node per Session, as TF's kernel instance does.
REGISTER_OP("Print").inputs(-1).stateful()
    .shape([](InferCtx& c) {
      if (c.num_inputs() < 1) c.fail("Print needs an input");
      shape_unchanged(c);
    })
    .cpu([](KernelCtx& c) {
      c.set(0, c.in(0));
      int64_t first_n = c.node.attrs.get_or<int64_t>("first_n", -1);
      if (first_n >= 0 && (int64_t)c.res.next_count(&c.node, 1) >= first_n) return;
      int64_t summarize = c.node.attrs.get_or<int64_t>("summarize", 3);
      std::string msg = c.node.attrs.get_or<std::string>("message", "");
      for (size_t i = 1; i < c.inputs.size(); ++i) msg += "[" + summarize_v1(c.in((int)i), summarize) + "]";
      write_stream("stderr", msg + "\n");
    })
    .grad([](GradCtx& g) {
      std::vector<Output> out(g.node.inputs.size());
      out[0] = g.g();
      return out;
    });

void dim_spacing(int dim, int rank, std::string* out) {
  if (dim == rank - 1) {
    *out += " ";
    return;
  }
  out->append(rank - dim - 1, '\n');
  out->append(dim + 1, ' ');
}

// TF's PrintOneDimV2 (tf.print): the first and last `ends` entries of every dimension, NumPy style.
void print_dim_v2(const Tensor& t, int dim, int64_t ends, int64_t base, std::string* out) {
  if (dim == t.rank()) {
    *out += element(t, base, true);
    return;
  }
  *out += "[";
  int64_t count = t.dim(dim);
  int64_t start_of_end = std::max(ends, count - ends);
  int64_t stride = 1;
  for (int d = dim + 1; d < t.rank(); ++d) stride *= t.dim(d);
  for (int64_t i = 0; i < ends && i < count; ++i) {
    if (i > 0) dim_spacing(dim, t.rank(), out);
    print_dim_v2(t, dim + 1, ends, base + stride * i, out);
  }
  if (count > 2 * ends) {
    dim_spacing(dim, t.rank(), out);
    *out += "...";
  }
  for (int64_t i = start_of_end; i < count; ++i) {
    dim_spacing(dim, t.rank(), out);
    print_dim_v2(t, dim + 1, ends, base + stride * i, out);
  }
  *out += "]";
}

std::string summarize_v2(const Tensor& t, int64_t max_entries) {
  int64_t n = t.size();
  // TF caps the per-dimension count by the element count (not the dimension), and so do we.
  int64_t limit = max_entries < 0 ? n : std::min(max_entries, n);
  if (t.rank() == 0) return n ? element(t, 0, true) : "";
  std::string out;
  print_dim_v2(t, 0, limit, 0, &out);
  return out;
}

// StringFormat(inputs...): `template` with each `placeholder` replaced by the next input, summarized.
REGISTER_OP("StringFormat").inputs(-1).not_differentiable()
    .shape([](InferCtx& c) {
      const std::string& tmpl = c.attr<std::string>("template");
      const std::string& ph = c.attr<std::string>("placeholder");
      if (ph.empty()) c.fail("placeholder must not be empty");
      int n = 0;
      for (size_t p = tmpl.find(ph); p != std::string::npos; p = tmpl.find(ph, p + ph.size())) ++n;
      if (n != c.num_inputs())
        c.fail(std::to_string(n) + " placeholder(s) in template does not match " + std::to_string(c.num_inputs()) +
               " tensor(s) provided as input");
      c.set_output(0, DType::String, PartialShape(Dims{}));
    })
    .cpu([](KernelCtx& c) {
      const std::string& tmpl = c.attr<std::string>("template");
      const std::string& ph = c.attr<std::string>("placeholder");
      int64_t summarize = c.node.attrs.get_or<int64_t>("summarize", 3);
      std::string out;
      size_t pos = 0;
      for (size_t i = 0; i < c.inputs.size(); ++i) {
        size_t p = tmpl.find(ph, pos);
        out.append(tmpl, pos, p - pos);
        out += summarize_v2(c.in((int)i), summarize);
        pos = p + ph.size();
      }
      out.append(tmpl, pos, std::string::npos);
      c.set(0, Tensor::string_scalar(std::move(out)));
    });

bool is_valid_stream(const std::string& s) {
  return s == "stdout" || s == "stderr" || s == "log(info)" || s == "log(warning)" || s == "log(error)" ||
         s.rfind("file://", 0) == 0;
}

// PrintV2(string): writes the string and `end` to output_stream ("stderr", "stdout", "log(...)" which goes
// to stderr, or "file://path", appended). No outputs: run it or depend on it.
REGISTER_OP("PrintV2").inputs(1).stateful().not_differentiable()
    .shape([](InferCtx& c) {
      if (c.dtype(0) != DType::String) c.type_fail("PrintV2 prints a string, got " + std::string(dtype_name(c.dtype(0))));
      if (c.shape(0).known_rank && c.shape(0).rank() != 0)
        c.fail("Input is expected to be scalar, but got " + c.shape(0).str());
      std::string s = c.node.attrs.get_or<std::string>("output_stream", "stderr");
      if (!is_valid_stream(s)) c.fail("Unknown output stream: " + s);
    })
    .cpu([](KernelCtx& c) {
      const Tensor& t = c.in(0);
      if (t.rank() != 0) c.fail("Input is expected to be scalar, but got " + t.summary());
      write_stream(c.node.attrs.get_or<std::string>("output_stream", "stderr"),
                   t.string_values()[0] + c.node.attrs.get_or<std::string>("end", "\n"));
    });

}  // namespace
}  // namespace tideflow
