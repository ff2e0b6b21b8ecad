#pragma once
// TensorFlow's V2 checkpoints ("tensor bundles"): PREFIX.index, a LevelDB-style table mapping tensor names
// to BundleEntryProto records, and the tensors' bytes in PREFIX.data-NNNNN-of-NNNNN shards. Read with
// every checksum checked, and written so that TensorFlow's Saver restores them. See Note [tensor bundles].
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor.h"

namespace tideflow {

class Session;
struct Node;

// A hyper-rectangle of a tensor, one (start, length) per dimension; length -1 takes the whole dimension.
using TensorSlice = std::vector<std::pair<int64_t, int64_t>>;

// "PREFIX.index" and "PREFIX.data-00003-of-00008".
TF_API std::string bundle_index_file(const std::string& prefix);
TF_API std::string bundle_data_file(const std::string& prefix, int shard, int num_shards);

// Opens a bundle: the whole index is read, its block checksums and the table's ordering verified, every
// entry decoded and checked (dtype, shape, shard, byte range, slices). Tensors are read on demand and
// checked against their CRC32C. Errors: NotFound when PREFIX.index does not exist, DataLoss for
// truncated or corrupted files (naming the file and tensor), Unimplemented for what tideflow cannot hold
// (dtypes it lacks, big-endian bundles, newer bundle versions).
class TF_API TfBundleReader {
 public:
  struct Entry {
    int64_t dtype = 0;  // TensorFlow's DataType value
    Dims shape;
    int shard = 0;
    uint64_t offset = 0, size = 0;
    uint32_t crc32c = 0;             // unmasked
    std::vector<TensorSlice> slices;  // non-empty for a partitioned tensor saved as slices
  };

  explicit TfBundleReader(const std::string& prefix);
  ~TfBundleReader();
  TfBundleReader(const TfBundleReader&) = delete;
  TfBundleReader& operator=(const TfBundleReader&) = delete;

  const std::string& prefix() const { return prefix_; }
  int num_shards() const { return num_shards_; }
  // The tensors by name, sorted (slice entries are reached through their full tensor).
  const std::map<std::string, Entry>& entries() const { return entries_; }
  bool has(const std::string& name) const { return entries_.count(name) > 0; }
  const Entry& entry(const std::string& name) const;  // NotFound
  // The full tensor (a partitioned one assembled from its slices), verified.
  Tensor read(const std::string& name) const;
  // One slice of a tensor.
  Tensor read_slice(const std::string& name, const TensorSlice& slice) const;

 private:
  Tensor read_entry(const std::string& name, const Entry& e) const;

  std::string prefix_;
  int num_shards_ = 1;
  std::map<std::string, Entry> entries_;
  std::map<std::string, Entry> slice_entries_;  // by encoded slice key
  std::vector<int> fds_;                        // one per shard, opened with the index
  std::vector<uint64_t> sizes_;
};

// One tensor to write: the whole tensor, or (with `full_shape`) a slice of a partitioned one, stored as
// TensorFlow's BundleWriter::AddSlice does.
struct TF_API BundleTensor {
  std::string name;
  Tensor value;
  Dims full_shape;     // only for slices
  TensorSlice slice;   // empty: the whole tensor
};

// Writes PREFIX.data-00000-of-00001 and then PREFIX.index, each to a temporary name, synced and renamed,
// so a reader sees a complete bundle or the previous one. Names must be unique and non-empty.
TF_API void write_tf_bundle(const std::string& prefix, const std::vector<BundleTensor>& tensors);

// ---- a Session's variables ----
struct TF_API BundleVar {
  std::string name;    // the checkpoint key
  const Node* node;    // a VariableV2
  TensorSlice slice;   // empty, or the part of the checkpoint tensor this variable holds
  Dims full_shape;     // the checkpoint tensor's shape when `slice` is set
};
// As save_variables / restore_variables (io/checkpoint.h) for TensorFlow's format: one consistent value per
// variable; restoring verifies everything (one NotFound naming every missing tensor, one InvalidArgument
// naming every mismatch) before assigning anything.
TF_API void save_variables_tf(Session& sess, const std::string& prefix, const std::vector<BundleVar>& vars);
TF_API void restore_variables_tf(Session& sess, const std::string& prefix, const std::vector<BundleVar>& vars);

}  // namespace tideflow
