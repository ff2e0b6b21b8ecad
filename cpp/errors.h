#pragma once
#include <stdexcept>
#include <string>

#include "export.h"

namespace tideflow {

// Codes follow TensorFlow's error codes; the Python layer maps each to its tf.errors class. ValueError and
// TypeError are graph-construction errors (shape and dtype mismatches at the line that built a node).
enum class ErrorCode : int {
  Cancelled = 1, Unknown = 2, InvalidArgument = 3, NotFound = 5, AlreadyExists = 6,
  ResourceExhausted = 8, FailedPrecondition = 9, OutOfRange = 11, Unimplemented = 12, Internal = 13,
  DataLoss = 15,
  ValueError = 100, TypeError = 101, LookupError = 102,
};

class TF_API Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  ErrorCode code() const { return code_; }
 private:
  ErrorCode code_;
};

inline Error invalid_argument(const std::string& m) { return Error(ErrorCode::InvalidArgument, m); }
inline Error value_error(const std::string& m) { return Error(ErrorCode::ValueError, m); }
inline Error type_error(const std::string& m) { return Error(ErrorCode::TypeError, m); }

}  // namespace tideflow
