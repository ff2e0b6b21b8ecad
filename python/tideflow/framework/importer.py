"""tf.import_graph_def: a TensorFlow GraphDef (a frozen inference graph, a training graph, or one
tideflow wrote) added to a tideflow graph.

Note [importing TensorFlow graphs]
tideflow registers its ops under TensorFlow's op names with TensorFlow's attribute names, so most NodeDefs
become tideflow nodes as they are: the attributes are converted (types, shapes, tensors), TensorFlow's
defaults fill the ones a graph left out (tf_op_defs.py, generated from TensorFlow's OpDefs), and shape
inference runs as for any node. Where tideflow has no op of that name, _MAPPED builds the same
computation from tideflow's ops (AddV2 is Add, Relu6 is min(max(x, 0), 6), resource-variable ops act on
tideflow's reference variables, ...); the node keeps its TensorFlow name, its helpers live under it. A
registered op always wins, so an op added to tideflow later replaces its mapping. TensorFlow attributes
tideflow does not implement are accepted only where they cannot change a result (use_locking,
grad_a, ...) or hold TensorFlow's default (_CHECKED_ATTRS); anything else, and every op type with neither
an op nor a mapping, is refused before a single node is added, in one error naming each op type and the
nodes using it. The checkpoint ops of TensorFlow's Saver (SaveV2, RestoreV2, ...) and the nodes that
only serve them are left out: tideflow's Saver reads and writes the same files without graph ops."""
import collections
import heapq

import numpy as np

from .. import _core
from . import dtypes as _dtypes
from . import errors
from . import ops as _ops
from . import tf_messages as _pb
from .tf_op_defs import OP_DEFS

__all__ = ["import_graph_def"]

# TensorFlow's DataType values of tideflow's dtypes (reference types, +100, read as their base type).
_TF_DTYPES = {1: _dtypes.float32, 2: _dtypes.float64, 3: _dtypes.int32, 9: _dtypes.int64, 10: _dtypes.bool,
              7: _dtypes.string, 4: _dtypes.uint8, 5: _dtypes.int16, 6: _dtypes.int8, 14: _dtypes.bfloat16,
              17: _dtypes.uint16, 19: _dtypes.float16}
TF_DATATYPE = {d: t for t, d in _TF_DTYPES.items()}

# Ops that read or write checkpoints in TensorFlow's Saver subgraph.
_CHECKPOINT_OPS = {"SaveV2", "RestoreV2", "MergeV2Checkpoints", "Save", "SaveSlices", "Restore", "RestoreSlice",
                   "ShardedFilename", "ShardedFilespec"}

# TensorFlow attributes tideflow's kernels do not read: allowed when `ok(value)`.
_CHECKED_ATTRS = {
    "use_locking": lambda v: True,  # tideflow's updates are atomic per variable anyway
    "grad_a": lambda v: True, "grad_b": lambda v: True, "grad_x": lambda v: True, "grad_y": lambda v: True,
    "is_async": lambda v: True,
    "container": lambda v: True, "shared_name": lambda v: True,
    "sorted": lambda v: True,  # TopKV2 always sorts, which sorted=False allows
    "bad_color": lambda v: True,
    "incompatible_shape_error": lambda v: v is True,
    "Truncate": lambda v: v is False,
    "update_slots": lambda v: v is True,
    "bad_indices_policy": lambda v: v in ("", "DEFAULT", "ERROR"),
    "validate_indices": lambda v: True,
}


class _Unsupported(Exception):
    pass


def tf_dtype(datatype, what):
    """The tideflow DType for a TensorFlow DataType value."""
    d = _TF_DTYPES.get(datatype - 100 if datatype > 100 else datatype)
    if d is None:
        raise _Unsupported("%s has dtype %s, which tideflow does not support (it has %s)"
                           % (what, _core.tf_datatype_name(datatype),
                              ", ".join(x.name for x in _TF_DTYPES.values())))
    return d


def _shape_attr(shape_proto):
    if shape_proto.unknown_rank:
        return _core.Shape(None)
    return _core.Shape([d.size if d.size >= 0 else None for d in shape_proto.dim])


def attr_to_python(av, what):
    """A tideflow attribute value for an AttrValue: DTypes as tideflow's enum, shapes as _core.Shape,
    tensors as arrays."""
    which = av.WhichOneof("value")
    if which is None:
        return None
    if which == "s":
        try:
            return av.s.decode("utf-8")
        except UnicodeDecodeError:
            return av.s
    if which in ("i", "f", "b"):
        return getattr(av, which)
    if which == "type":
        return tf_dtype(av.type, what)._enum
    if which == "shape":
        return _shape_attr(av.shape)
    if which == "tensor":
        arr = _pb.make_ndarray(av.tensor)
        return _ops._string_value(arr) if arr.dtype == object else arr
    if which == "list":
        lv = av.list
        for kind in ("s", "i", "f", "b", "type", "shape", "tensor", "func"):
            items = getattr(lv, kind)
            if not items:
                continue
            if kind == "s":
                return [s.decode("utf-8", "replace") for s in items]
            if kind == "type":
                return [tf_dtype(t, what)._enum for t in items]
            if kind == "shape":
                return [_shape_attr(s) for s in items]
            if kind in ("tensor", "func"):
                raise _Unsupported("%s is a list of %ss, which tideflow's ops do not take" % (what, kind))
            return list(items)
        return []
    raise _Unsupported("%s is a %s attribute, which tideflow does not support" % (what, which))


def _default_attr(default):
    """An AttrValue-like Python value for a default from tf_op_defs."""
    if isinstance(default, str) and default.startswith("DT_"):
        return ("type", _pb.DATA_TYPES[default])
    if isinstance(default, tuple) and default and default[0] == "shape":
        return ("shape", default[1])
    if isinstance(default, tuple) and default and default[0] == "tensor":
        return ("tensor", default[1])
    return ("value", default)


def _python_default(default, what):
    kind, v = _default_attr(default)
    if kind == "type":
        return tf_dtype(v, what)._enum
    if kind == "shape":
        return _core.Shape(v)
    if kind == "tensor":
        return None  # only ImageSummary's bad_color; tideflow does not read it
    if isinstance(v, list) and v and isinstance(v[0], str) and v[0].startswith("DT_"):
        return [tf_dtype(_pb.DATA_TYPES[t], what)._enum for t in v]
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, list):
        return [x.decode("utf-8", "replace") if isinstance(x, bytes) else x for x in v]
    return v


def node_attrs(nd):
    """A NodeDef's attributes as tideflow values, with TensorFlow's defaults for those left out (names
    starting with '_', TensorFlow's private annotations, are dropped)."""
    attrs = {}
    for k, av in nd.attr.items():
        if k.startswith("_"):
            continue
        attrs[k] = attr_to_python(av, "attribute '%s' of node '%s' (%s)" % (k, nd.name, nd.op))
    op_def = OP_DEFS.get(nd.op)
    if op_def is not None:
        for name, _, has_default, default in op_def[2]:
            if name not in attrs and has_default:
                attrs[name] = _python_default(default, "default of attribute '%s' of %s" % (name, nd.op))
    for k, ok in _CHECKED_ATTRS.items():
        if k in attrs and not ok(attrs[k]):
            raise _Unsupported("node '%s' (%s) sets %s=%r, which tideflow does not implement"
                               % (nd.name, nd.op, k, attrs[k]))
    return {k: v for k, v in attrs.items() if v is not None}


# ---------------------------------------------------------------------------------------------------
# Ops tideflow runs under another name or as a composition (Note [importing TensorFlow graphs])


def _const(value, like, name):
    return _ops.constant_op(value, dtype=like.dtype, name=name)


def _rename(op_type, keep=None):
    """An op tideflow has under another name (with the attributes named in `keep`, all when None)."""
    def build(name, inputs, attrs, nd):
        a = attrs if keep is None else {k: v for k, v in attrs.items() if k in keep}
        return _ops.apply_op(op_type, inputs, a, name=name + "/")
    return build


def _unary(fn):
    """A composition over one input; `fn(x, name)` must name its result `name` (tideflow's nn functions do)."""
    def build(name, inputs, attrs, nd):
        return fn(inputs[0], name + "/", attrs).op
    return build


def _final(op_type, inputs, name, attrs=None):
    return _ops.apply_op(op_type, inputs, attrs or {}, name=name + "/")


def _bias_add_grad(name, inputs, attrs, nd):
    g = inputs[0]
    with _ops.name_scope(name + "/"):
        channels_first = str(attrs.get("data_format", "NHWC")).startswith("NC")
        rank = g.shape.ndims
        if rank is not None:
            axes = [i for i in range(rank) if i != (1 if channels_first else rank - 1)]
            axes_t = _ops.constant_op(np.array(axes, np.int32), name="axes")
        else:
            r = _ops.apply1("Rank", [g], name="Rank")
            last = _ops.apply1("Sub", [r, _ops.constant_op(np.int32(1), name="one")], name="last")
            axes_t = _ops.apply1("Range", [_ops.constant_op(np.int32(0), name="zero"), last,
                                           _ops.constant_op(np.int32(1), name="delta")], name="axes")
            if channels_first:
                raise _Unsupported("node '%s' (BiasAddGrad, NCHW) needs its input's rank" % nd.name)
    return _final("Sum", [g, axes_t], name, {"keep_dims": False})


def _grad_composite(expr):
    """A gradient op written as `expr(g, x, attrs, const) -> tensor` over tideflow's primitive ops."""
    def build(name, inputs, attrs, nd):
        with _ops.name_scope(name + "/"):
            def const(v, like):
                return _const(v, like, "Const")
            out = expr(inputs[0], inputs[1], attrs, const)
        return _final("Identity", [out], name)
    return build


def _op(t, inputs, attrs=None):
    return _ops.apply1(t, inputs, attrs or {}, name=t)


def _relu6_grad(g, f, attrs, const):
    inside = _op("LogicalAnd", [_op("Greater", [f, const(0, f)]), _op("Less", [f, const(6, f)])])
    return _op("Select", [inside, g, _op("ZerosLike", [g])])


def _elu_grad(g, y, attrs, const):  # EluGrad(gradients, outputs)
    return _op("Select", [_op("Less", [y, const(0, y)]), _op("Mul", [g, _op("Add", [y, const(1, y)])]), g])


_SELU_SCALE = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717


def _selu_grad(g, y, attrs, const):
    neg = _op("Mul", [g, _op("Add", [y, const(_SELU_SCALE * _SELU_ALPHA, y)])])
    return _op("Select", [_op("Less", [y, const(0, y)]), neg, _op("Mul", [g, const(_SELU_SCALE, y)])])


def _softplus_grad(g, f, attrs, const):
    return _op("Mul", [g, _op("Sigmoid", [f])])


def _softsign_grad(g, f, attrs, const):
    d = _op("Add", [_op("Abs", [f]), const(1, f)])
    return _op("RealDiv", [g, _op("Square", [d])])


def _leaky_relu_grad(g, f, attrs, const):
    alpha = const(attrs.get("alpha", 0.2), g)
    return _op("Select", [_op("Greater", [f, const(0, f)]), g, _op("Mul", [g, alpha])])


def _sqrt_grad(y, dy, attrs, const):  # SqrtGrad(y, dy) = dy * 0.5 / y
    return _op("RealDiv", [_op("Mul", [dy, const(0.5, y)]), y])


def _rsqrt_grad(y, dy, attrs, const):  # dy * -0.5 * y^3
    return _op("Mul", [_op("Mul", [dy, const(-0.5, y)]), _op("Mul", [y, _op("Square", [y])])])


def _reciprocal_grad(y, dy, attrs, const):  # -dy * y^2
    return _op("Neg", [_op("Mul", [dy, _op("Square", [y])])])


def _div(name, inputs, attrs, nd):
    x = inputs[0]
    return _final("TruncateDiv" if x.dtype.is_integer else "RealDiv", inputs, name)


def _batch_matmul(name, inputs, attrs, nd):
    for k in ("Ta", "Tb", "Tout"):
        if k in attrs and attrs[k] != inputs[0].dtype._enum:
            raise _Unsupported("node '%s' (%s) mixes dtypes, which tideflow's BatchMatMulV2 does not"
                               % (nd.name, nd.op))
    return _final("BatchMatMulV2", inputs, name, {"adj_x": attrs.get("adj_x", False),
                                                  "adj_y": attrs.get("adj_y", False)})


def _select_v1(name, inputs, attrs, nd):
    """TF1's Select: a vector condition picks rows of higher-rank x and y; tideflow's Select broadcasts."""
    cond, x, y = inputs
    cr, xr = cond.shape.ndims, x.shape.ndims
    if cr is not None and xr is not None and (cr == xr or cr != 1):
        return _final("Select", inputs, name)
    with _ops.name_scope(name + "/"):
        if cr == 1 and xr is not None:
            shape = _ops.constant_op(np.array([-1] + [1] * (xr - 1), np.int32), name="row_shape")
        else:  # ranks known only at run time: reshape a vector condition, keep a full one
            rx = _ops.apply1("Rank", [x], name="rank_x")
            rc = _ops.apply1("Rank", [cond], name="rank_cond")
            one = _ops.constant_op(np.int32(1), name="one")
            rows = _ops.apply1("ConcatV2", [_ops.constant_op(np.array([-1], np.int32), name="minus_one"),
                                            _ops.apply1("Fill", [_ops.apply1("ExpandDims", [
                                                _ops.apply1("Sub", [rx, one]), _ops.constant_op(np.int32(0))]), one]),
                                            _ops.constant_op(np.int32(0), name="axis")], name="row_shape")
            same = _ops.apply1("Fill", [_ops.apply1("ExpandDims", [rx, _ops.constant_op(np.int32(0))]),
                                        _ops.apply1("Equal", [rc, rx])], name="same_rank")
            shape = _ops.apply1("Select", [same, _ops.apply1("Shape", [cond], {"out_type": _dtypes.int32._enum}),
                                           rows], name="cond_shape")
        cond = _ops.apply1("Reshape", [cond, shape], name="condition")
    return _final("Select", [cond, x, y], name)


# Resource variables (TensorFlow 2's default) run as tideflow's reference variables: the handle is the
# variable itself, reading it is an Identity, the assign and apply ops are their reference forms.
def _var_handle(name, inputs, attrs, nd):
    return _final("VariableV2", [], name, {"dtype": attrs["dtype"], "shape": attrs.get("shape", _core.Shape(None))})


def _assign_variable(name, inputs, attrs, nd):
    return _final("Assign", inputs, name, {"validate_shape": bool(attrs.get("validate_shape", False))})


def _resource_gather(name, inputs, attrs, nd):
    with _ops.name_scope(name + "/"):
        axis = _ops.constant_op(np.int32(0), name="axis")
    return _final("GatherV2", [inputs[0], inputs[1], axis], name, {"batch_dims": attrs.get("batch_dims", 0)})


_MAPPED = {
    "AddV2": _rename("Add", keep=()),
    "BiasAddGrad": _bias_add_grad,
    "Relu6Grad": _grad_composite(_relu6_grad), "EluGrad": _grad_composite(_elu_grad),
    "SeluGrad": _grad_composite(_selu_grad), "SoftplusGrad": _grad_composite(_softplus_grad),
    "SoftsignGrad": _grad_composite(_softsign_grad), "LeakyReluGrad": _grad_composite(_leaky_relu_grad),
    "SqrtGrad": _grad_composite(_sqrt_grad), "RsqrtGrad": _grad_composite(_rsqrt_grad),
    "ReciprocalGrad": _grad_composite(_reciprocal_grad),
    "SelectV2": _rename("Select", keep=()),
    "Div": _div,
    "BatchMatMul": _batch_matmul, "BatchMatMulV3": _batch_matmul,
    "Snapshot": _rename("Identity", keep=()), "PreventGradient": _rename("Identity", keep=()),
    "Variable": _rename("VariableV2", keep=("dtype", "shape")),
    "PlaceholderV2": _rename("Placeholder", keep=("dtype", "shape")),
    "VarHandleOp": _var_handle,
    "ReadVariableOp": _rename("Identity", keep=()),
    "AssignVariableOp": _assign_variable,
    "AssignAddVariableOp": _rename("AssignAdd", keep=()),
    "AssignSubVariableOp": _rename("AssignSub", keep=()),
    "VarIsInitializedOp": _rename("IsVariableInitialized", keep=()),
    "ResourceApplyGradientDescent": _rename("ApplyGradientDescent", keep=()),
    "ResourceApplyAdam": _rename("ApplyAdam", keep=("use_nesterov",)),
    "ResourceApplyMomentum": _rename("ApplyMomentum", keep=("use_nesterov",)),
    "ResourceGather": _resource_gather,
    # With duplicate indices TensorFlow leaves open which value wins; DynamicStitch's choice is one of them.
    "ParallelDynamicStitch": _rename("DynamicStitch", keep=()),
}

# Registered ops whose TensorFlow meaning tideflow's op does not cover by itself.
_OVERRIDES = {"Select": _select_v1}


def _builder(op_type):
    if op_type in _OVERRIDES:
        return _OVERRIDES[op_type]
    if op_type in _registered_ops():
        return None
    return _MAPPED.get(op_type)


_REGISTERED = None


def _registered_ops():
    global _REGISTERED
    if _REGISTERED is None:
        _REGISTERED = frozenset(_core.registered_ops())
    return _REGISTERED


def register_composite(op_type, fn):
    """Maps a TensorFlow op type tideflow has no op for onto a composition of tideflow ops over one input:
    `fn(x, name, attrs)` must name its result `name`. The op modules above this layer register theirs
    (ops/nn_ops.py: Relu6, Elu, L2Loss...), so the importer never imports them."""
    _MAPPED[op_type] = _unary(fn)


def supported(op_type):
    return op_type in _registered_ops() or op_type in _MAPPED


# ---------------------------------------------------------------------------------------------------
# The import


def parse_input(s):
    """'^name' -> (name, -1); 'name:2' -> (name, 2); 'name' -> (name, 0)."""
    if s.startswith("^"):
        return s[1:], -1
    name, sep, idx = s.rpartition(":")
    if sep and idx.isdigit():
        return name, int(idx)
    return s, 0


def checkpoint_subgraph(nodes):
    """Names of the nodes that belong to TensorFlow's Saver: the checkpoint ops, everything downstream of
    them, and the nodes of their name scope ("save/") that only they consume."""
    consumers = collections.defaultdict(set)
    for n in nodes:
        for s in n.input:
            consumers[parse_input(s)[0]].add(n.name)
    skip = {n.name for n in nodes if n.op in _CHECKPOINT_OPS}
    scopes = tuple({name.rsplit("/", 1)[0] + "/" for name in skip if "/" in name})
    stack = list(skip)
    while stack:  # downstream
        for c in consumers.get(stack.pop(), ()):
            if c not in skip:
                skip.add(c)
                stack.append(c)
    changed = True
    while changed:  # upstream nodes whose every consumer is skipped (the filename, tensor_names, ...)
        changed = False
        for n in nodes:
            if n.name not in skip and n.name.startswith(scopes) and consumers.get(n.name) and \
                    consumers[n.name] <= skip and n.op not in ("VariableV2", "VarHandleOp", "Variable"):
                skip.add(n.name)
                changed = True
    return skip


class _Importer:
    def __init__(self, graph, nodes, prefix, input_map, skip, source, clear_devices=False):
        self.g, self.nodes, self.prefix, self.skip, self.source = graph, nodes, prefix, skip, source
        self.clear_devices = clear_devices
        self.input_map = input_map
        self.used_map_keys = set()
        self.by_name = {}
        for n in nodes:
            if not n.name:
                raise ValueError("%s holds a node without a name" % source)
            if n.name in self.by_name:
                raise ValueError("%s holds two nodes named '%s'" % (source, n.name))
            self.by_name[n.name] = n
        self.ops = {}      # GraphDef name -> Operation
        self.names = {}    # GraphDef name -> name in the graph

    def check(self):
        """Everything that can be refused without adding a node: op types, attributes, inputs."""
        missing = collections.OrderedDict()
        problems = []
        self.attrs = {}
        for n in self.nodes:
            if n.name in self.skip:
                continue
            if not supported(n.op):
                missing.setdefault(n.op, []).append(n.name)
                continue
            try:
                self.attrs[n.name] = node_attrs(n)
            except _Unsupported as e:
                problems.append(str(e))
            for s in n.input:
                src, idx = parse_input(s)
                key = ("^" + src) if idx < 0 else "%s:%d" % (src, idx)
                if key in self.input_map:
                    continue
                if src not in self.by_name:
                    raise ValueError("Node '%s' in %s has an input from '%s', which is not in the GraphDef"
                                     % (n.name, self.source, src))
                if src in self.skip:
                    raise ValueError("Node '%s' in %s reads '%s', which belongs to TensorFlow's Saver subgraph "
                                     "(tideflow's tf.train.Saver reads and writes checkpoints without graph ops)"
                                     % (n.name, self.source, s))
        if missing:
            lines = ["  %s (%s%s)" % (op, ", ".join(names[:3]), ", ..." if len(names) > 3 else "")
                     for op, names in missing.items()]
            raise errors.NotFoundError(None, None, "Cannot import %s: tideflow has no op for these TensorFlow op "
                                       "types:\n%s\n(%d nodes in all). Export the part of the model tideflow runs "
                                       "(graph_util.extract_sub_graph), or freeze it without these ops."
                                       % (self.source, "\n".join(lines), sum(len(v) for v in missing.values())))
        if problems:
            raise errors.UnimplementedError(None, None, "Cannot import %s:\n  %s" % (self.source,
                                                                                    "\n  ".join(problems)))

    def order(self):
        """Kahn's algorithm over data and control edges, in file order among ready nodes."""
        live = [n for n in self.nodes if n.name not in self.skip]
        index = {n.name: i for i, n in enumerate(live)}
        pending = [0] * len(live)
        consumers = [[] for _ in live]
        for i, n in enumerate(live):
            for s in n.input:
                src, idx = parse_input(s)
                key = ("^" + src) if idx < 0 else "%s:%d" % (src, idx)
                if key in self.input_map or src not in index:
                    continue
                pending[i] += 1
                consumers[index[src]].append(i)
        ready = [i for i, p in enumerate(pending) if p == 0]
        heapq.heapify(ready)
        out = []
        while ready:
            i = heapq.heappop(ready)
            out.append(live[i])
            for c in consumers[i]:
                pending[c] -= 1
                if pending[c] == 0:
                    heapq.heappush(ready, c)
        if len(out) != len(live):
            stuck = [live[i].name for i, p in enumerate(pending) if p > 0]
            raise ValueError("%s has a cycle through %s (TensorFlow's while loops are not supported yet)"
                             % (self.source, ", ".join(stuck[:5])))
        return out

    def reserve_names(self):
        """Every imported node keeps its name under the prefix, unless a node of the graph has it already
        (then it is made unique, as TensorFlow does); names are reserved first, so helper nodes of mapped
        ops never take a name a later node needs."""
        c = self.g._c
        for n in self.nodes:
            if n.name in self.skip:
                continue
            full = self.prefix + n.name
            if c.find(full) >= 0:
                full = c.unique_name(full, True)
            else:
                c.unique_name(full, True)
            self.names[n.name] = full

    def tensor(self, src, idx, consumer):
        key = "%s:%d" % (src, idx)
        if key in self.input_map:
            self.used_map_keys.add(key)
            return self.input_map[key]
        op = self.ops[src]
        if idx >= len(op.outputs):
            raise ValueError("Node '%s' in %s reads output %d of '%s', which has %d"
                             % (consumer, self.source, idx, src, len(op.outputs)))
        return op.outputs[idx]

    def run(self, outer_control):
        self.check()
        order = self.order()
        self.reserve_names()
        g = self.g
        for n in order:
            inputs, control = [], []
            for s in n.input:
                src, idx = parse_input(s)
                if idx < 0:
                    key = "^" + src
                    if key in self.input_map:
                        self.used_map_keys.add(key)
                        control.append(self.input_map[key])
                    else:
                        control.append(self.ops[src])
                else:
                    inputs.append(self.tensor(src, idx, n.name))
            if not n.input and outer_control:
                control.extend(outer_control)
            name = self.names[n.name]
            device = "" if self.clear_devices else n.device
            try:
                with g.as_default(), g.control_dependencies(None), g.device(device), g.control_dependencies(control):
                    build = _builder(n.op)
                    if build is None:
                        op = _ops.apply_op(n.op, inputs, self.attrs[n.name], name=name + "/")
                    else:
                        op = build(name, inputs, self.attrs[n.name], n)
            except _Unsupported as e:
                raise errors.UnimplementedError(None, None, "Cannot import %s: %s" % (self.source, e)) from None
            except (ValueError, TypeError) as e:
                raise type(e)("Cannot import node '%s' (%s) of %s: %s" % (n.name, n.op, self.source, e)) from None
            self.ops[n.name] = op
        unused = [k for k in self.input_map if k not in self.used_map_keys]
        if unused:
            raise ValueError("Attempted to map inputs that were not found in graph_def: [%s]"
                             % ", ".join(sorted(unused)))
        return self.ops


def as_graph_def(graph_def):
    """Our GraphDef for a GraphDef of ours, of the protobuf package (anything with SerializeToString) or
    its bytes."""
    if isinstance(graph_def, _pb.GraphDef):
        return graph_def
    if isinstance(graph_def, (bytes, bytearray)):
        return _pb.parse(_pb.GraphDef, graph_def)
    if hasattr(graph_def, "SerializeToString"):
        return _pb.parse(_pb.GraphDef, graph_def.SerializeToString())
    raise TypeError("graph_def must be a GraphDef proto, got %s" % type(graph_def).__name__)


def _normalize_input_map(input_map, g):
    out = {}
    for k, v in (input_map or {}).items():
        if not isinstance(k, str):
            raise TypeError("input_map keys must be tensor names (strings), got %r" % (k,))
        if k.startswith("^"):
            if not isinstance(v, _ops.Operation):
                raise TypeError("input_map entry %s must map to an Operation, got %r" % (k, v))
            out[k] = v
            continue
        name, idx = parse_input(k)
        t = v if isinstance(v, _ops.Tensor) else _ops.convert_to_tensor(v)
        if t.graph is not g:
            raise ValueError("input_map value for %s is from another graph" % k)
        out["%s:%d" % (name, idx)] = t
    return out


def import_graph_def(graph_def, input_map=None, return_elements=None, name=None, op_dict=None,
                     producer_op_list=None):
    """Adds the nodes of `graph_def` to the default graph under the name scope `name` ("import" when None,
    none for ""), connecting the inputs named in `input_map` ({"x:0": tensor, "^op": operation}) to
    tensors of this graph instead; returns the Operations / Tensors named in `return_elements` (names as
    in the GraphDef, "op" or "op:0"). Raises ValueError for malformed graphs, NotFoundError naming the op
    types tideflow lacks, DataLossError when bytes of a serialized GraphDef are corrupted."""
    graph_def = as_graph_def(graph_def)
    g = _ops.get_default_graph()
    input_map = _normalize_input_map(input_map, g)
    if return_elements is not None and (isinstance(return_elements, str) or
                                        not all(isinstance(x, str) for x in return_elements)):
        raise TypeError("return_elements must be a list of strings.")
    outer = [op for deps in g._control_deps for op in deps]
    with g.control_dependencies(None):
        if name == "":
            prefix = ""
        else:
            with _ops.name_scope(name, "import", list(v for v in input_map.values()
                                                       if isinstance(v, _ops.Tensor))) as scope:
                prefix = scope
        skip = checkpoint_subgraph(list(graph_def.node))
        imp = _Importer(g, list(graph_def.node), prefix, input_map, skip, "the GraphDef")
        ops = imp.run(outer)
    if return_elements is None:
        return None
    out = []
    for r in return_elements:
        src, idx = parse_input(r)
        if src in skip:
            raise ValueError("Requested return element %s belongs to TensorFlow's Saver subgraph, which tideflow "
                             "does not import" % r)
        if src not in ops:
            raise ValueError("Requested return_element %r not found in graph_def." % r)
        if ":" in r:
            if idx >= len(ops[src].outputs):
                raise ValueError("Requested return_element %r not found in graph_def." % r)
            out.append(ops[src].outputs[idx])
        else:
            out.append(ops[src])
    return out
