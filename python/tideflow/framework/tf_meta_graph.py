"""TensorFlow's MetaGraphDef: tf.train.import_meta_graph of a .meta written by TensorFlow (binary or
text), and export_meta_graph / Saver(format="tensorflow") writing one that TensorFlow imports.

Note [TensorFlow meta graphs]
A MetaGraphDef is a GraphDef plus collections (variables as VariableDef protos, ops and tensors by name,
numbers, bytes) and the SaverDef naming the save and restore ops of the graph's Saver. Importing adds the
nodes (framework/importer.py, Note [importing TensorFlow graphs]) without the Saver's subgraph, rebuilds
the collections as tideflow objects (a VariableDef becomes a tideflow Variable around the imported
variable, initializer and snapshot) and returns a tideflow Saver whose variable map is read from the
SaveV2 op (its tensor_names constant and inputs), writing TensorFlow bundles. Exporting writes the graph
with tf_export (Note [exporting to TensorFlow]) and, for a Saver, the subgraph TensorFlow's Saver builds
(save/Const, save/SaveV2, save/control_dependency, save/RestoreV2, save/Assign*, save/restore_all) so that
tf.train.import_meta_graph in TensorFlow returns a working Saver."""
import logging
import os
import sys

import numpy as np

from .. import _core
from . import errors
from . import importer as _importer
from . import ops as _ops
from . import tf_export
from . import text_format
from . import tf_messages as _pb

__all__ = ["export_meta_graph", "import_meta_graph", "read_meta_graph_def", "is_tf_meta_graph"]

_TIDEFLOW_MAGIC = b"\x89TFMETA\n"
_VARIABLE_COLLECTIONS = ("variables", "trainable_variables", "local_variables", "model_variables",
                         "moving_average_variables", "metric_variables", "concatenated_variables",
                         "trainable_resource_variables")
_LOG = logging.getLogger("tideflow")


def is_tf_meta_graph(meta_graph_or_file):
    """True for a TensorFlow MetaGraphDef (message, or a file not in tideflow's meta graph format)."""
    if isinstance(meta_graph_or_file, _pb.MetaGraphDef):
        return True
    if isinstance(meta_graph_or_file, (str, os.PathLike)):
        try:
            with open(meta_graph_or_file, "rb") as f:
                head = f.read(len(_TIDEFLOW_MAGIC))
        except OSError:
            return False
        return not _TIDEFLOW_MAGIC.startswith(head)  # a file cut inside the magic is a truncated tideflow one
    return hasattr(meta_graph_or_file, "SerializeToString") and not hasattr(meta_graph_or_file, "_meta")


def _looks_like_text(data):
    head = data[:256].lstrip()
    return bool(head) and all(32 <= b < 127 or b in (9, 10, 13) for b in head[:64]) and head[:1].isalpha()


def read_meta_graph_def(path):
    """A MetaGraphDef from a binary or text-format file (DataLossError when it is neither)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, "Meta graph file %s does not exist" % path) from None
    if _looks_like_text(data):  # a binary MetaGraphDef starts with a field tag and a length: not text
        try:
            return text_format.Parse(data.decode("utf-8", "replace"), _pb.MetaGraphDef())
        except errors.DataLossError as e:
            raise errors.DataLossError(None, None, "Meta graph %s: %s" % (path, e)) from None
    try:
        return _pb.parse(_pb.MetaGraphDef, data)
    except errors.DataLossError as e:
        raise errors.DataLossError(None, None, "Meta graph %s: %s" % (path, e)) from None


# ---------------------------------------------------------------------------------------------------
# Import


def _variable_from_def(vd, g, prefix, trainable, make_variable):
    def tensor(name):
        return g.get_tensor_by_name(prefix + name) if name else None
    var = tensor(vd.variable_name)
    init = g.get_operation_by_name(prefix + _op_name(vd.initializer_name))
    snapshot = tensor(vd.snapshot_name) if vd.snapshot_name else var
    v = make_variable(var, init, tensor(vd.initial_value_name), snapshot, trainable)
    if vd.HasField("save_slice_info_def"):
        s = vd.save_slice_info_def
        v._save_slice_info = _SaveSliceInfo(s.full_name, list(s.full_shape), list(s.var_offset), list(s.var_shape))
    return v


class _SaveSliceInfo:
    """Where a variable sits in a partitioned one (TensorFlow's Variable.SaveSliceInfo)."""

    def __init__(self, full_name, full_shape, var_offset, var_shape):
        self.full_name, self.full_shape, self.var_offset, self.var_shape = full_name, full_shape, var_offset, var_shape


def _op_name(name):
    return name[1:] if name.startswith("^") else name.split(":")[0]


def _saver_var_list(mg, skip, name_to_var, g, prefix):
    """{checkpoint name: variable} from the SaveV2 ops of the SaverDef's scope."""
    nodes = {n.name: n for n in mg.graph_def.node}
    scope = _op_name(mg.saver_def.filename_tensor_name).rsplit("/", 1)[0] + "/"
    var_list = {}
    for n in mg.graph_def.node:
        if n.op not in ("SaveV2", "Save", "SaveSlices") or not n.name.startswith(scope):
            continue
        if n.op != "SaveV2":
            raise errors.UnimplementedError(None, None, "The meta graph's Saver uses %s (TensorFlow's V1 checkpoints); "
                                            "tideflow reads and writes V2 checkpoints" % n.op)

        def const(name):
            c = nodes.get(_op_name(name))
            if c is None or c.op != "Const":
                raise ValueError("The meta graph's %s does not take constant tensor names" % n.name)
            return _pb.make_ndarray(c.attr["value"].tensor)
        names, slices = const(n.input[1]), const(n.input[2])
        for key, spec, src in zip(names, slices, n.input[3:]):
            key = key.decode() if isinstance(key, bytes) else key
            node = nodes.get(_op_name(src))
            while node is not None and node.op in ("Identity", "ReadVariableOp", "Snapshot"):
                node = nodes.get(_op_name(node.input[0]))
            if node is None or node.op not in ("VariableV2", "VarHandleOp", "Variable"):
                raise ValueError("The meta graph's Saver saves '%s' from %s, which is not a variable" % (key, src))
            v = name_to_var.get(node.name)
            if spec:  # a part of a partitioned variable: the Saver stores it as a slice of `key`
                if v is None or getattr(v, "_save_slice_info", None) is None:
                    raise ValueError("The meta graph's Saver saves a slice of '%s' from %s, whose VariableDef "
                                     "(with its save-slice info) is not in the meta graph's collections" % (key, src))
                var_list.setdefault(key, []).append(v)
                continue
            var_list[key] = v if v is not None else g.get_tensor_by_name(prefix + node.name + ":0")
    return var_list


def import_meta_graph(meta_graph_or_file, make_variable, clear_devices=False, import_scope=None, **kwargs):
    """Adds a TensorFlow meta graph's nodes (under `import_scope`) and collections to the default graph;
    returns the keyword arguments of a Saver (TensorFlow's format) for its variables, or None when it has
    none. `make_variable` rebuilds a Variable from its nodes (see meta_graph.import_scoped_meta_graph).
    kwargs: input_map (as for import_graph_def) and restore_collections_predicate(key), as TensorFlow takes."""
    if isinstance(meta_graph_or_file, _pb.MetaGraphDef):
        mg, source = meta_graph_or_file, "the MetaGraphDef"
    elif isinstance(meta_graph_or_file, (str, os.PathLike)):
        mg, source = read_meta_graph_def(meta_graph_or_file), "meta graph " + os.fspath(meta_graph_or_file)
    else:
        mg, source = _pb.parse(_pb.MetaGraphDef, meta_graph_or_file.SerializeToString()), "the MetaGraphDef"
    g = _ops.get_default_graph()
    prefix = ""
    if import_scope:
        with _ops.name_scope(import_scope) as scope:
            prefix = scope
    nodes = list(mg.graph_def.node)
    skip = _importer.checkpoint_subgraph(nodes)
    input_map = _importer._normalize_input_map(kwargs.get("input_map"), g)
    keep_collection = kwargs.get("restore_collections_predicate") or (lambda key: True)
    with g.control_dependencies(None):
        _importer._Importer(g, nodes, prefix, input_map, skip, source, clear_devices).run([])

    trainable = set()
    if "trainable_variables" in mg.collection_def:
        for b in mg.collection_def["trainable_variables"].bytes_list.value:
            trainable.add(_pb.VariableDef.FromString(b).variable_name)
    variables = {}  # variable op name in the file -> Variable

    def variable(vd):
        name = _op_name(vd.variable_name)
        if name not in variables:
            variables[name] = _variable_from_def(vd, g, prefix, vd.variable_name in trainable, make_variable)
        return variables[name]

    for key in sorted(mg.collection_def):
        if not keep_collection(key):
            continue
        cd = mg.collection_def[key]
        kind = cd.WhichOneof("kind")
        try:
            if kind == "node_list":
                items = [g.as_graph_element(prefix + n) for n in cd.node_list.value if _op_name(n) not in skip]
            elif kind == "bytes_list" and key in _VARIABLE_COLLECTIONS:
                items = [variable(_pb.VariableDef.FromString(b)) for b in cd.bytes_list.value]
            elif kind == "bytes_list" and key in ("savers", "cond_context", "while_context", "queue_runners"):
                if key != "savers":
                    _LOG.warning("Collection %s of %s is not imported (tideflow has no %s)", key, source, key)
                continue
            elif kind == "bytes_list":
                items = list(cd.bytes_list.value)
            elif kind == "int64_list":
                items = list(cd.int64_list.value)
            elif kind == "float_list":
                items = list(cd.float_list.value)
            else:
                _LOG.warning("Collection %s of %s holds Any protos, which are not imported", key, source)
                continue
        except (KeyError, ValueError) as e:
            _LOG.warning("Collection %s of %s is not imported: %s", key, source, e)
            continue
        for x in items:
            g.add_to_collection(key, x)

    name_to_var = {k: v for k, v in variables.items()}
    if mg.HasField("saver_def") and mg.saver_def.filename_tensor_name:
        var_list = _saver_var_list(mg, skip, name_to_var, g, prefix)
        if not var_list:
            return None
        sd = mg.saver_def
        return {"var_list": var_list, "max_to_keep": sd.max_to_keep,
                "keep_checkpoint_every_n_hours": sd.keep_checkpoint_every_n_hours or 10000.0,
                "format": "tensorflow"}
    globals_ = [v for v in g.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES)
                if getattr(v, "graph", None) is g and v.name.startswith(prefix)]
    return {"var_list": globals_, "format": "tensorflow"} if globals_ else None


# ---------------------------------------------------------------------------------------------------
# Export


def _is_variable(x):
    return all(hasattr(x, a) for a in ("_variable", "_initializer_op", "_snapshot", "_initial_value"))


def _variable_def(v):
    vd = _pb.VariableDef(variable_name=v._variable.name, initializer_name=v._initializer_op.name,
                         snapshot_name=v._snapshot.name, trainable=bool(getattr(v, "_trainable", True)))
    if v._initial_value is not None:
        vd.initial_value_name = v._initial_value.name
    info = getattr(v, "_save_slice_info", None)
    if info is not None:
        vd.save_slice_info_def.CopyFrom(_pb.SaveSliceInfoDef(full_name=info.full_name, full_shape=info.full_shape,
                                                             var_offset=info.var_offset, var_shape=info.var_shape))
    return vd


def _collection_def(items, graph):
    """A CollectionDef for a list of items, or None when they cannot be stored together."""
    cd = _pb.CollectionDef()
    if all(_is_variable(x) for x in items):
        if any(x.graph is not graph for x in items):
            return None
        cd.bytes_list.value.extend(_variable_def(x).SerializeToString() for x in items)
    elif all(isinstance(x, (_ops.Tensor, _ops.Operation)) for x in items):
        if any(x.graph is not graph for x in items):
            return None
        cd.node_list.value.extend(x.name for x in items)
    elif all(isinstance(x, bool) for x in items):
        return None
    elif all(isinstance(x, int) for x in items):
        cd.int64_list.value.extend(items)
    elif all(isinstance(x, float) for x in items):
        cd.float_list.value.extend(items)
    elif all(isinstance(x, (str, bytes)) for x in items):
        cd.bytes_list.value.extend(x.encode() if isinstance(x, str) else x for x in items)
    else:
        return None
    return cd


def _slice_spec(s):
    """TensorFlow's shape-and-slice string ("10 3 0,4:0,3") for (name, full shape, [(start, length)...])."""
    _, shape, parts = s
    return " ".join(str(d) for d in shape) + " " + ":".join("%d,%d" % (a, b) for a, b in parts)


def _string_const(gd, name, value):
    arr = np.array(value, dtype=object)
    nd = gd.node.add(name=name, op="Const")
    nd.attr["dtype"].type = _pb.DT_STRING
    nd.attr["value"].tensor.CopyFrom(_pb.make_tensor_proto(arr))
    return name


def add_saver_subgraph(gd, saver):
    """Appends the nodes TensorFlow's Saver builds (V2, one shard) and returns its SaverDef."""
    taken = {n.name for n in gd.node}
    scope, k = "save", 0
    while scope in taken or any(n.startswith(scope + "/") for n in taken):
        k += 1
        scope = "save_%d" % k
    items = sorted(saver._vars.items())
    slices = getattr(saver, "_slices", {})
    names = [slices[n][0] if n in slices else n for n, _ in items]
    specs = [_slice_spec(slices[n]) if n in slices else "" for n, _ in items]
    refs = [t.op.name if t.value_index == 0 else t.name for _, t in items]
    dtypes = [_importer.TF_DATATYPE[t.dtype] for _, t in items]

    def add(name, op, inputs=(), attrs=None):
        nd = gd.node.add(name=scope + "/" + name, op=op)
        nd.input.extend(inputs)
        for key, (t, v) in (attrs or {}).items():
            tf_export.set_attr(nd.attr[key], v, t)
        return nd.name

    string_shape = ("shape", [])
    fn_input = _string_const(gd, scope + "/filename/input", "model")
    string_attrs = {"dtype": ("type", _pb.DT_STRING), "shape": string_shape}
    fname = add("filename", "PlaceholderWithDefault", [fn_input], string_attrs)
    const = add("Const", "PlaceholderWithDefault", [fname], string_attrs)
    tn = _string_const(gd, scope + "/SaveV2/tensor_names", [n.encode() for n in names])
    ss = _string_const(gd, scope + "/SaveV2/shape_and_slices", [s.encode() for s in specs])
    save = add("SaveV2", "SaveV2", [const, tn, ss] + refs, {"dtypes": ("list(type)", dtypes)})
    ctrl = add("control_dependency", "Identity", [const, "^" + save], {"T": ("type", _pb.DT_STRING)})
    rtn = _string_const(gd, scope + "/RestoreV2/tensor_names", [n.encode() for n in names])
    rss = _string_const(gd, scope + "/RestoreV2/shape_and_slices", [s.encode() for s in specs])
    restore = add("RestoreV2", "RestoreV2", [const, rtn, rss], {"dtypes": ("list(type)", dtypes)})
    assigns = []
    for i, ((_, t), ref, dt) in enumerate(zip(items, refs, dtypes)):
        src = restore if i == 0 else "%s:%d" % (restore, i)
        assigns.append(add("Assign" if i == 0 else "Assign_%d" % i, "Assign", [ref, src],
                           {"T": ("type", dt), "validate_shape": ("bool", True), "use_locking": ("bool", True)}))
    restore_all = add("restore_all", "NoOp", ["^" + a for a in assigns])
    sd = _pb.SaverDef(filename_tensor_name=const + ":0", save_tensor_name=ctrl + ":0",
                      restore_op_name=restore_all, max_to_keep=saver._max_to_keep or 0, sharded=False,
                      keep_checkpoint_every_n_hours=float(saver._keep_checkpoint_every_n_hours),
                      version=_pb.SaverDef.V2)
    return sd


def export_meta_graph(filename=None, saver=None, collection_list=None, as_text=False, graph=None,
                      clear_devices=False, strip_default_attrs=False, meta_info_def=None, **kwargs):
    """Writes (when `filename` is given, atomically) and returns a TensorFlow MetaGraphDef of `graph`:
    its GraphDef, collections and, for a Saver, its save/restore subgraph and SaverDef."""
    graph = graph if graph is not None else _ops.get_default_graph()
    mg = _pb.MetaGraphDef()
    info = mg.meta_info_def
    tf_mod = sys.modules.get("tideflow")
    info.tensorflow_version = getattr(tf_mod, "__version__", "1.15.0")
    info.tensorflow_git_version = getattr(tf_mod, "GIT_VERSION", "")
    if isinstance(meta_info_def, dict):
        for k, v in meta_info_def.items():
            if k in info._FIELDS and not info._FIELDS[k].repeated:
                setattr(info, k, v)
    gd = tf_export.graph_to_graph_def(graph, add_shapes=True, clear_devices=clear_devices)
    if saver is not None:
        mg.saver_def.CopyFrom(add_saver_subgraph(gd, saver))
    mg.graph_def.CopyFrom(gd)
    keys = graph.get_all_collection_keys() if collection_list is None else list(collection_list)
    for key in keys:
        if not isinstance(key, str) or key == _ops.GraphKeys.SAVERS:
            continue
        items = graph.get_collection(key)
        if not items:
            continue
        cd = _collection_def(items, graph)
        if cd is None:
            _LOG.warning("Issue encountered when serializing %s. Type is unsupported, or the types of the items "
                         "don't match field type in CollectionDef.", key)
            continue
        mg.collection_def[key].CopyFrom(cd)
    if filename is not None:
        data = str(mg).encode("utf-8") if as_text else mg.SerializeToString()
        _core.write_file_atomic(os.fspath(filename), data)
    return mg
