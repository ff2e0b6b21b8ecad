// Bindings for checkpoints (safetensors), the checkpoint state file and meta graphs. Convert, call, return.
#include <nanobind/stl/map.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/tuple.h>

#include "bindings_util.h"
#include "io/checkpoint.h"
#include "io/graph_io.h"
#include "session.h"

namespace tideflow_py {

namespace {

std::vector<std::pair<std::string, const Node*>> var_nodes(Session& s, const std::vector<std::string>& names,
                                                           const std::vector<int>& ids) {
  if (names.size() != ids.size()) throw invalid_argument("one checkpoint name per variable expected");
  std::vector<std::pair<std::string, const Node*>> v;
  for (size_t i = 0; i < names.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= s.graph().num_nodes()) throw invalid_argument("no node with id " + std::to_string(ids[i]));
    v.emplace_back(names[i], s.graph().node(ids[i]));
  }
  return v;
}

nb::tuple imported(const ImportedGraph& r) {
  std::vector<int> ids;
  for (Node* n : r.nodes) ids.push_back(n->id);
  return nb::make_tuple(ids, nb::bytes(r.meta_json.data(), r.meta_json.size()));
}

}  // namespace

void bind_tfio(nb::module_& m);  // TensorFlow's own files (bindings_tfio.cc)

void bind_io(nb::module_& m) {
  bind_tfio(m);

  m.def("save_checkpoint", [](const std::string& path, const std::vector<std::string>& names, nb::list values,
                              const Metadata& metadata) {
    if (names.size() != nb::len(values)) throw invalid_argument("one value per tensor name expected");
    std::vector<std::pair<std::string, Tensor>> ts;
    for (size_t i = 0; i < names.size(); ++i) ts.emplace_back(names[i], tensor_from_py(values[i]));
    nb::gil_scoped_release r;
    save_checkpoint(path, ts, metadata);
  });

  nb::class_<CheckpointReader>(m, "CheckpointReader")
      .def("__init__", [](CheckpointReader* r, const std::string& path) {
        nb::gil_scoped_release g;
        new (r) CheckpointReader(path);
      })
      .def_prop_ro("path", &CheckpointReader::path)
      .def("metadata", &CheckpointReader::metadata)
      .def("has", &CheckpointReader::has)
      .def("entries", [](const CheckpointReader& r) {  // [(name, safetensors dtype, shape)] sorted by name
        std::vector<std::tuple<std::string, std::string, Dims>> v;
        for (auto& kv : r.entries()) v.emplace_back(kv.first, kv.second.dtype, kv.second.dims);
        return v;
      })
      .def("read", [](const CheckpointReader& r, const std::string& name) {
        Tensor t;
        {
          nb::gil_scoped_release g;
          t = r.read(name);
        }
        return tensor_to_py(t);
      });

  m.def("save_variables", [](Session& s, const std::string& path, const std::vector<std::string>& names,
                             const std::vector<int>& ids, const Metadata& metadata) {
    auto vars = var_nodes(s, names, ids);
    nb::gil_scoped_release r;
    save_variables(s, path, vars, metadata);
  });
  m.def("restore_variables", [](Session& s, const std::string& path, const std::vector<std::string>& names,
                                const std::vector<int>& ids) {
    auto vars = var_nodes(s, names, ids);
    nb::gil_scoped_release r;
    restore_variables(s, path, vars);
  });

  m.def("write_checkpoint_state", [](const std::string& dir, const std::string& model_path,
                                     const std::vector<std::string>& all_paths, const std::vector<double>& timestamps,
                                     double last_preserved, const std::string& filename) {
    write_checkpoint_state(dir, CheckpointState{model_path, all_paths, timestamps, last_preserved}, filename);
  });
  m.def("read_checkpoint_state", [](const std::string& dir, const std::string& filename) -> nb::object {
    CheckpointState st;
    if (!read_checkpoint_state(dir, &st, filename)) return nb::none();
    return nb::make_tuple(st.model_checkpoint_path, st.all_model_checkpoint_paths, st.all_model_checkpoint_timestamps,
                          st.last_preserved_timestamp);
  });

  m.def("write_file_atomic", [](const std::string& path, nb::bytes data) {
    write_file_atomic(path, {{data.c_str(), data.size()}});
  });

  m.def("serialize_meta_graph", [](Graph& g, const std::string& meta_json, bool clear_devices) {
    std::string b = serialize_meta_graph(g, meta_json, ExportOptions{clear_devices});
    return nb::bytes(b.data(), b.size());
  });
  m.def("import_meta_graph", [](Graph& g, nb::bytes data, const std::string& scope, bool clear_devices,
                                const std::string& source) {
    return imported(import_meta_graph(g, std::string(data.c_str(), data.size()), ImportOptions{scope, clear_devices}, source));
  });
  m.def("read_meta_graph", [](Graph& g, const std::string& path, const std::string& scope, bool clear_devices) {
    return imported(read_meta_graph(g, path, ImportOptions{scope, clear_devices}));
  });
}

}  // namespace tideflow_py
