#pragma once
// A small JSON reader and writer for the files tideflow keeps: the safetensors header of a checkpoint and
// the structure section of a meta graph. Strict (no trailing commas, no comments, no duplicate keys),
// depth-limited, and integers stay exact int64 values (offsets, shapes, int attributes).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "errors.h"

namespace tideflow {
namespace json {

struct Value {
  enum Kind { Null, Bool, Int, Double, String, Array, Object };
  Kind kind = Null;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<Value> arr;
  std::vector<std::pair<std::string, Value>> obj;  // in file order

  bool is(Kind k) const { return kind == k; }
  const Value* find(const std::string& key) const;  // nullptr when absent (or not an object)
};

// Parses `text`; a syntax error throws Error(code, "<what>: <problem> at byte N").
Value parse(const std::string& text, const std::string& what, ErrorCode code = ErrorCode::DataLoss);

// Strict UTF-8 check (no overlong forms, no surrogates), for text that must reach Python as str.
bool is_utf8(const std::string& s);
// Appends code point `cp` to `out` as UTF-8.
void append_utf8(std::string& out, uint32_t cp);

// Appends `s` as a JSON string literal. Bytes >= 0x80 pass through unchanged, so UTF-8 stays UTF-8 and
// arbitrary byte strings (attributes) round-trip through our own reader.
void quote(std::string& out, const std::string& s);

}  // namespace json
}  // namespace tideflow
