"""Meta graphs: tf.train.export_meta_graph, and the graph half of tf.train.import_meta_graph (train/saver.py
adds the Saver).

C++ (cpp/io/graph_io.cc, Note [meta graph format]) serializes the nodes; this module adds what only the
Python layer knows, as a JSON section of the same file: the collections (by element name; a variable as
its variable op, initializer, initial value and snapshot so `Variable._from_parts` rebuilds it), the
Saver's variable map and the graph seed. Nothing in the file is executed when it is loaded."""
import json
import logging
import numbers
import os
import sys

from .. import _core
from . import errors
from . import ops as _ops
from . import tf_meta_graph

__all__ = ["MetaGraphDef", "export_meta_graph", "import_scoped_meta_graph"]

_FORMAT = "tideflow.meta_graph"


class MetaGraphDef:
    """An exported meta graph held in memory: the file's bytes plus its decoded Python section."""

    def __init__(self, data, meta):
        self._bytes = bytes(data)
        self._meta = meta

    collection_def = property(lambda self: self._meta.get("collections", {}))
    saver_def = property(lambda self: self._meta.get("saver"))
    meta_info_def = property(lambda self: self._meta.get("meta_info", {}))

    def HasField(self, name):  # noqa: N802 (protobuf's name)
        return bool(getattr(self, name, None))

    def SerializeToString(self):  # noqa: N802
        return self._bytes

    def __repr__(self):
        return "<MetaGraphDef: %d bytes, collections %s>" % (len(self._bytes), sorted(self.collection_def))


# ---------------------------------------------------------------------------------------------------
# Collections

def _is_variable(x):
    return all(hasattr(x, a) for a in ("_variable", "_initializer_op", "_snapshot", "_initial_value"))


def _encode_item(x, graph):
    """A JSON description of one collection element, or None when it cannot be stored."""
    if _is_variable(x):
        if x.graph is not graph:
            return None
        return {"variable": {"var": x._variable.op.name, "init": x._initializer_op.name,
                             "initial_value": x._initial_value.name if x._initial_value is not None else None,
                             "snapshot": x._snapshot.name, "trainable": bool(getattr(x, "_trainable", True))}}
    if isinstance(x, _ops.Tensor):
        return {"tensor": x.name} if x.graph is graph else None
    if isinstance(x, _ops.Operation):
        return {"op": x.name} if x.graph is graph else None
    if isinstance(x, bool):
        return {"bool": x}
    if isinstance(x, numbers.Integral):
        return {"int": int(x)}
    if isinstance(x, numbers.Real):
        return {"float": float(x).hex()}  # exact, NaN and infinities included
    if isinstance(x, str):
        return {"str": x}
    if isinstance(x, bytes):
        return {"bytes": x.decode("latin-1")}
    return None


def _encode_collections(graph, collection_list):
    keys = graph.get_all_collection_keys() if collection_list is None else list(collection_list)
    out = {}
    for key in keys:
        if not isinstance(key, str):
            logging.warning("Only collections with string keys are exported; skipping %r.", key)
            continue
        if key == _ops.GraphKeys.SAVERS:
            continue  # a Saver is described by the meta graph's saver_def, not as a collection item
        items = graph.get_collection(key)
        encoded = [_encode_item(x, graph) for x in items]
        if any(e is None for e in encoded):
            bad = next(x for x, e in zip(items, encoded) if e is None)
            logging.warning("Issue encountered when serializing %s. Type is unsupported, or the types of the "
                            "items don't match field type in CollectionDef. (%r cannot be exported)", key, bad)
            continue
        if encoded:
            out[key] = encoded
    return out


class _Decoder:
    """Resolves element names of an imported graph (under its import scope) back to Python objects."""

    def __init__(self, graph, prefix, make_variable):
        self.g, self.prefix, self.make_variable = graph, prefix, make_variable
        self.variables = {}  # variable op name in the file -> Variable

    def tensor(self, name):
        return None if name is None else self.g.get_tensor_by_name(self.prefix + name)

    def variable(self, d):
        v = self.variables.get(d["var"])
        if v is None:
            v = self.make_variable(self.tensor(d["var"] + ":0"), self.g.get_operation_by_name(self.prefix + d["init"]),
                                     self.tensor(d["initial_value"]), self.tensor(d["snapshot"]),
                                     d.get("trainable", True))
            self.variables[d["var"]] = v
        return v

    def item(self, e):
        (kind, val), = e.items()
        if kind == "variable":
            return self.variable(val)
        if kind == "tensor":
            return self.tensor(val)
        if kind == "op":
            return self.g.get_operation_by_name(self.prefix + val)
        if kind == "float":
            return float.fromhex(val)
        if kind == "bytes":
            return val.encode("latin-1")
        if kind in ("bool", "int", "str"):
            return val
        raise ValueError("unknown collection element kind %r" % kind)


# ---------------------------------------------------------------------------------------------------
# Export / import

def export_meta_graph(filename=None, meta_info_def=None, graph_def=None, saver_def=None, collection_list=None,
                      as_text=False, graph=None, export_scope=None, clear_devices=False,
                      clear_extraneous_savers=False, strip_default_attrs=False, save_debug_info=False, **kwargs):
    """Writes the graph, its collections and `saver_def` to `filename` (atomically) when given, and returns
    the MetaGraphDef: tideflow's binary meta graph format, or TensorFlow's MetaGraphDef (which TensorFlow
    imports) in text format with `as_text=True` and in binary with `format="tensorflow"`."""
    if as_text or kwargs.get("format") == "tensorflow":
        return tf_meta_graph.export_meta_graph(filename=filename, collection_list=collection_list, as_text=as_text,
                                               graph=graph, clear_devices=clear_devices)
    if graph_def is not None:
        raise ValueError("export_meta_graph exports a Graph; graph_def is not supported (pass graph=)")
    if export_scope:
        raise ValueError("export_scope is not supported: export the whole graph and use import_scope "
                         "when importing it")
    graph = graph if graph is not None else _ops.get_default_graph()
    version = getattr(sys.modules.get("tideflow"), "__tideflow_version__", "")
    meta = {"format": _FORMAT,
            "meta_info": dict(meta_info_def or {}, tideflow_version=version),
            "seed": graph.seed,
            "collections": _encode_collections(graph, collection_list),
            "saver": saver_def}
    data = _core.serialize_meta_graph(graph._c, json.dumps(meta, allow_nan=False), bool(clear_devices))
    if filename is not None:
        _core.write_file_atomic(os.fspath(filename), data)
    return MetaGraphDef(data, meta)


def import_scoped_meta_graph(meta_graph_or_file, make_variable, clear_devices=False, import_scope=None, **kwargs):
    """Adds the nodes of a meta graph to the default graph (names under `import_scope`), restores its
    collections and seed, and returns the keyword arguments of the Saver for its variables (`var_list` maps
    checkpoint names to variables), or None when the file has no variables. `make_variable(variable, initializer_op,
    initial_value, snapshot, trainable)` rebuilds a Variable from its nodes (Variable._from_parts): the
    Variable class belongs to the ops layer above this one. TensorFlow's MetaGraphDefs (binary or text) are
    read too (framework/tf_meta_graph.py; kwargs as it takes them)."""
    if tf_meta_graph.is_tf_meta_graph(meta_graph_or_file):
        return tf_meta_graph.import_meta_graph(meta_graph_or_file, make_variable, clear_devices, import_scope, **kwargs)
    g = _ops.get_default_graph()
    scope = import_scope or ""
    if isinstance(meta_graph_or_file, MetaGraphDef):
        source = "<MetaGraphDef>"
        ids, raw = _core.import_meta_graph(g._c, meta_graph_or_file._bytes, scope, bool(clear_devices), source)
    else:
        source = os.fspath(meta_graph_or_file)
        ids, raw = _core.read_meta_graph(g._c, source, scope, bool(clear_devices))
    try:
        meta = json.loads(raw.decode("utf-8")) if raw else {}
    except ValueError as e:
        raise errors.DataLossError("Meta graph %s: its Python section is not valid JSON (%s)" % (source, e)) from None
    if not isinstance(meta, dict) or meta.get("format", _FORMAT) != _FORMAT:
        raise ValueError("Meta graph %s: unknown Python section (format %r)" % (source, meta.get("format")))

    prefix = scope if not scope or scope.endswith("/") else scope + "/"
    dec = _Decoder(g, prefix, make_variable)
    for key, items in meta.get("collections", {}).items():
        for e in items:
            g.add_to_collection(key, dec.item(e))
    if meta.get("seed") is not None and g.seed is None:
        g.seed = meta["seed"]

    saver_def = meta.get("saver")
    if saver_def:
        var_list = {}
        for ckpt_name, var_name in saver_def["var_list"]:
            v = dec.variables.get(var_name)
            var_list[ckpt_name] = v if v is not None else dec.tensor(var_name + ":0")
        return {"var_list": var_list, "max_to_keep": saver_def.get("max_to_keep", 5),
                "keep_checkpoint_every_n_hours": saver_def.get("keep_checkpoint_every_n_hours", 10000.0)}
    # No saver recorded: save the imported global variables under their names in the file.
    globals_ = {}
    for e in meta.get("collections", {}).get(_ops.GraphKeys.GLOBAL_VARIABLES, []):
        if "variable" in e:
            globals_[e["variable"]["var"]] = dec.variables[e["variable"]["var"]]
    return {"var_list": globals_} if globals_ else None
