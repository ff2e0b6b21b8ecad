"""tf.graph_util: freezing (convert_variables_to_constants), extract_sub_graph, remove_training_nodes,
and tf.train.write_graph / tf.io.write_graph. They work on GraphDef messages (framework/tf_messages.py),
as TensorFlow's do, so a frozen graph written here is a TensorFlow frozen graph."""
import os

from .. import _core
from . import ops as _ops
from . import tf_messages as _pb
from .importer import as_graph_def, parse_input

__all__ = ["convert_variables_to_constants", "extract_sub_graph", "remove_training_nodes",
           "tensor_shape_from_node_def_name", "must_run_on_cpu", "write_graph"]

_VARIABLE_OPS = ("VariableV2", "Variable", "VarHandleOp")


def _node_name(n):
    return parse_input(n)[0]


def extract_sub_graph(graph_def, dest_nodes):
    """The nodes `dest_nodes` need (through data and control inputs), in their original order."""
    if not isinstance(graph_def, _pb.GraphDef):
        graph_def = as_graph_def(graph_def)
    if isinstance(dest_nodes, str):
        raise TypeError("dest_nodes must be a list.")
    name_to_node = {n.name: n for n in graph_def.node}
    for d in dest_nodes:
        if d not in name_to_node:
            raise AssertionError("%s is not in graph" % d)
    keep, stack = set(), list(dest_nodes)
    while stack:
        n = stack.pop()
        if n in keep:
            continue
        keep.add(n)
        if n not in name_to_node:
            raise ValueError("Node %s is an input of the extracted graph but not in the GraphDef" % n)
        stack.extend(_node_name(i) for i in name_to_node[n].input)
    out = _pb.GraphDef()
    out.node.extend(n for n in graph_def.node if n.name in keep)
    out.library.CopyFrom(graph_def.library)
    out.versions.CopyFrom(graph_def.versions)
    return out


def convert_variables_to_constants(sess, input_graph_def, output_node_names, variable_names_whitelist=None,
                                   variable_names_blacklist=None):
    """Freezing: the subgraph `output_node_names` need, with every variable it reads replaced by a Const
    holding the variable's value in `sess` (resource-variable reads become Identity), as TensorFlow's
    graph_util does. The result runs without a Session's variables, here or in TensorFlow."""
    input_graph_def = as_graph_def(input_graph_def)
    inference = extract_sub_graph(input_graph_def, output_node_names)
    names = []
    for n in inference.node:
        if n.op in _VARIABLE_OPS:
            if variable_names_whitelist is not None and n.name not in variable_names_whitelist:
                continue
            if variable_names_blacklist is not None and n.name in variable_names_blacklist:
                continue
            names.append(n.name)
    values = dict(zip(names, sess.run([n + ":0" for n in names]))) if names else {}
    frozen = set()
    out = _pb.GraphDef()
    for n in inference.node:
        new = out.node.add()
        if n.name in values:
            dtype = n.attr["dtype"]
            new.name, new.op = n.name, "Const"
            new.attr["dtype"].CopyFrom(dtype)
            new.attr["value"].tensor.CopyFrom(_pb.make_tensor_proto(values[n.name]))
            if n.device:
                new.device = n.device
            frozen.add(n.name)
        elif n.op == "ReadVariableOp" and _node_name(n.input[0]) in values:
            new.name, new.op = n.name, "Identity"
            new.input.extend(n.input)
            new.attr["T"].CopyFrom(n.attr["dtype"])
            if n.device:
                new.device = n.device
        else:
            new.CopyFrom(n)
    out.library.CopyFrom(inference.library)
    out.versions.CopyFrom(inference.versions)
    return out


def remove_training_nodes(input_graph, protected_nodes=None):
    """Drops Identity and CheckNumerics nodes (wiring their consumers to their inputs), except those in
    `protected_nodes` or with control inputs; TensorFlow's cleanup before freezing."""
    input_graph = as_graph_def(input_graph)
    protected = set(protected_nodes or ())
    drop = {}
    for n in input_graph.node:
        if n.op in ("Identity", "CheckNumerics") and n.name not in protected and \
                not any(i.startswith("^") for i in n.input) and n.input:
            drop[n.name] = n.input[0]

    def resolve(ref):
        ctrl = ref.startswith("^")
        name, idx = parse_input(ref)
        seen = set()
        while name in drop and idx in (0,) and name not in seen:
            seen.add(name)
            name, idx = parse_input(drop[name])
        if ctrl:
            return "^" + name
        return name if idx == 0 else "%s:%d" % (name, idx)
    out = _pb.GraphDef()
    for n in input_graph.node:
        if n.name in drop:
            continue
        new = out.node.add()
        new.CopyFrom(n)
        del new.input[:]
        new.input.extend(resolve(i) for i in n.input)
    out.library.CopyFrom(input_graph.library)
    out.versions.CopyFrom(input_graph.versions)
    return out


def tensor_shape_from_node_def_name(graph, input_name):
    """The static shape of the tensor `input_name` ("op" or "op:index") of `graph`."""
    if ":" not in input_name:
        input_name += ":0"
    return graph.get_tensor_by_name(input_name).get_shape()


def must_run_on_cpu(node, pin_variables_on_cpu=False):
    """True when `node` must run on the CPU (TF 1.x's placement helper; tideflow runs everything there)."""
    return False


def write_graph(graph_or_graph_def, logdir, name, as_text=True):
    """Writes a GraphDef (of a tf.Graph, or as given) to logdir/name, text format by default as TensorFlow
    writes it; returns the path. The file is written atomically."""
    if isinstance(graph_or_graph_def, _ops.Graph):
        graph_def = graph_or_graph_def.as_graph_def()
    else:
        graph_def = as_graph_def(graph_or_graph_def)
    logdir = os.fspath(logdir)
    if logdir and not os.path.isdir(logdir):
        os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    data = str(graph_def).encode("utf-8") if as_text else graph_def.SerializeToString()
    _core.write_file_atomic(path, data)
    return path

