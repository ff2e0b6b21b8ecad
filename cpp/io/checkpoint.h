#pragma once
// Checkpoints: named tensors in a safetensors file, the `checkpoint` state file beside them, and saving /
// restoring a Session's variables. Usable from C++ without Python. See Note [checkpoint format].
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "checksum.h"
#include "tensor.h"

namespace tideflow {

class Session;
struct Node;

using Metadata = std::map<std::string, std::string>;

// CRC32C (Castagnoli), hardware-accelerated where the CPU has it.

// Writes `chunks` to `path` so that a reader sees either the old file or the complete new one, even when
// the process dies midway: a temporary `path.tmp.<pid>`, fsync, rename, fsync of the directory.
TF_API void write_file_atomic(const std::string& path, const std::vector<std::pair<const void*, size_t>>& chunks);

// "dir/model-10" -> "dir/model-10.safetensors" (a path already ending in .safetensors is kept).
TF_API std::string checkpoint_file(const std::string& prefix);

// ---- the safetensors file ----
constexpr int kCheckpointFormatVersion = 1;

// Saves `tensors` (numeric or bool; names unique) with `metadata` added to the header's __metadata__.
TF_API void save_checkpoint(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                            const Metadata& metadata = {});
// Every tensor of the file, verified. `metadata` (optional) receives the header's __metadata__.
TF_API std::map<std::string, Tensor> load_checkpoint(const std::string& path, Metadata* metadata = nullptr);
TF_API Tensor load_checkpoint_tensor(const std::string& path, const std::string& name);

// Opens a checkpoint and validates its whole header (sizes, offsets, dtypes); tensors are read one at a
// time and checked against their checksum. Files written by other safetensors writers (no checksums) are
// read too. Errors: NotFound (no file), DataLoss (truncated or corrupted, naming the file and tensor).
class TF_API CheckpointReader {
 public:
  struct Entry {
    std::string dtype;  // safetensors name: "F32", "I64", "BOOL", ...
    Dims dims;
    uint64_t begin = 0, end = 0;  // within the data section
  };

  explicit CheckpointReader(const std::string& path);
  ~CheckpointReader();
  CheckpointReader(const CheckpointReader&) = delete;
  CheckpointReader& operator=(const CheckpointReader&) = delete;

  const std::string& path() const { return path_; }
  const Metadata& metadata() const { return meta_; }
  const std::map<std::string, Entry>& entries() const { return entries_; }
  bool has(const std::string& name) const { return entries_.count(name) > 0; }
  const Entry& entry(const std::string& name) const;  // NotFound naming the file
  DType dtype(const std::string& name) const;         // Unimplemented for dtypes tideflow lacks
  Tensor read(const std::string& name) const;         // a fresh, verified tensor

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t data_start_ = 0;
  bool checksummed_ = false;  // written by tideflow: every tensor carries a checksum
  Metadata meta_;
  std::map<std::string, Entry> entries_;
};

// ---- a Session's variables ----
// `vars` pairs a checkpoint name with a VariableV2 node. Saving reads each value once under its lock (a
// consistent snapshot per variable; copy-on-write keeps it stable while the file is written). Restoring
// verifies everything first — one NotFound naming every missing tensor, one InvalidArgument naming every
// shape or dtype mismatch — then assigns each variable a tensor of its own.
TF_API void save_variables(Session& sess, const std::string& path,
                           const std::vector<std::pair<std::string, const Node*>>& vars, const Metadata& metadata = {});
TF_API void restore_variables(Session& sess, const std::string& path,
                              const std::vector<std::pair<std::string, const Node*>>& vars);

// ---- the `checkpoint` state file (TensorFlow's CheckpointState text format) ----
struct TF_API CheckpointState {
  std::string model_checkpoint_path;
  std::vector<std::string> all_model_checkpoint_paths;
  std::vector<double> all_model_checkpoint_timestamps;
  double last_preserved_timestamp = 0;
};
TF_API void write_checkpoint_state(const std::string& dir, const CheckpointState& state,
                                   const std::string& filename = "checkpoint");
// False when the file does not exist; DataLoss when it cannot be parsed.
TF_API bool read_checkpoint_state(const std::string& dir, CheckpointState* state,
                                  const std::string& filename = "checkpoint");

}  // namespace tideflow
