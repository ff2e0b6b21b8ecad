#pragma once
// Meta graph files: a Graph serialized node by node (every attribute kind; constants bit-exact) plus a
// JSON section the caller owns (the Python layer keeps collections, the Saver's variables and the graph
// seed there). Loading never executes code. See Note [meta graph format].
#include <string>
#include <vector>

#include "graph.h"

namespace tideflow {

constexpr int kMetaGraphFormatVersion = 1;

struct TF_API ExportOptions {
  bool clear_devices = false;  // record no device placements
};

// The bytes of a meta graph file for `g`. `meta_json` must be a JSON document ("" stores "{}").
TF_API std::string serialize_meta_graph(const Graph& g, const std::string& meta_json = "", const ExportOptions& opts = {});
// Writes it atomically (temporary file, fsync, rename).
TF_API void write_meta_graph(const std::string& path, const Graph& g, const std::string& meta_json = "",
                             const ExportOptions& opts = {});

struct TF_API ImportOptions {
  std::string scope;           // "" or a prefix: node "x" becomes "scope/x"
  bool clear_devices = false;  // drop the recorded device of every node
};

struct TF_API ImportedGraph {
  std::vector<Node*> nodes;  // the new nodes, in file order
  std::string meta_json;     // the caller's section, as written
};

// Re-creates the nodes through Graph::add_node (so shapes are inferred again) and merges the recorded
// output shapes (set_shape). Errors name `source`: DataLoss for a truncated or corrupted file, ValueError
// for something that is not a meta graph or comes from a newer format, NotFound for an op this build
// lacks, ValueError for a node name already in `g`.
TF_API ImportedGraph import_meta_graph(Graph& g, const std::string& bytes, const ImportOptions& opts = {},
                                       const std::string& source = "<meta graph bytes>");
TF_API ImportedGraph read_meta_graph(Graph& g, const std::string& path, const ImportOptions& opts = {});

}  // namespace tideflow
