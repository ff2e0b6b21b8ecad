"""A tideflow graph as a TensorFlow GraphDef that TensorFlow imports (Graph.as_graph_def,
tf.train.write_graph, TensorFlow-format meta graphs).

Note [exporting to TensorFlow]
tideflow's nodes carry only the attributes its kernels read; TensorFlow also wants those its OpDef
derives from input and output types (T, Tidx, N, out_type, ...). tf_op_defs.py (TensorFlow's OpDefs)
says which attribute each input and output binds, so they are filled in from the nodes' dtypes, and
attributes TensorFlow's OpDef does not list are left out (its importer refuses unknown attributes).
Defaults are left out too, as strip_default_attrs does; TensorFlow's importer adds them back. Constants
keep every value (tensor_content, bit-exact). A few of tideflow's internal gradient ops have no
TensorFlow op of the same name; they are written as the TensorFlow ops that compute the same thing
(_LOWER: SumToShape is Reshape(Sum(g, BroadcastGradientArgs(...)))). The rest (InitializedValue, ...)
are written as they are: tideflow imports them back, and TensorFlow names the op it lacks."""
import logging

import numpy as np

from .. import _core
from . import dtypes as _dtypes
from . import ops as _ops
from . import tf_messages as _pb
from .importer import TF_DATATYPE
from .tf_op_defs import OP_DEFS

__all__ = ["graph_to_graph_def", "GRAPH_DEF_VERSION"]

# TensorFlow 1.15's GraphDef version (the API tideflow follows); TensorFlow 2 reads it as well.
GRAPH_DEF_VERSION = 134

_CORE_TO_DTYPE = {d._enum: d for d in _dtypes._ALL if d is not _dtypes.variant}


def _datatype(core_dtype):
    return TF_DATATYPE[_CORE_TO_DTYPE[core_dtype]]


def _shape_proto(dims, msg):
    """Fills a TensorShapeProto from a list of dims (None / -1 unknown) or None (unknown rank)."""
    if dims is None:
        msg.unknown_rank = True
        return msg
    msg.SetInParent()
    for d in dims:
        msg.dim.add(size=-1 if d is None or d < 0 else int(d))
    return msg


def _tensor_proto(value, msg):
    if isinstance(value, np.ndarray) and value.dtype == object:
        value = _ops._string_value(value)
    elif not isinstance(value, np.ndarray):
        value = np.asarray(value)
    if not isinstance(value, tuple) and not value.flags.c_contiguous:
        value = value.copy()  # (np.ascontiguousarray would make a scalar a vector)
    _pb.merge_dict(msg, _core.tf_tensor_to_proto(value))
    msg.SetInParent()
    return msg


def set_attr(av, value, attr_type=None):
    """Fills AttrValue `av` from a tideflow attribute value (typed by TensorFlow's OpDef when known)."""
    if attr_type is None:
        attr_type = _guess_type(value)
    if attr_type == "type":
        av.type = value if isinstance(value, int) else _datatype(value)
    elif attr_type == "int":
        av.i = int(value)
    elif attr_type == "float":
        av.f = float(value)
    elif attr_type == "bool":
        av.b = bool(value)
    elif attr_type == "string":
        av.s = value.encode() if isinstance(value, str) else bytes(value)
    elif attr_type == "shape":
        _shape_proto(value.dims if isinstance(value, _core.Shape) else value, av.shape)
    elif attr_type == "tensor":
        _tensor_proto(value, av.tensor)
    elif attr_type.startswith("list("):
        av.list.SetInParent()
        inner = attr_type[5:-1]
        for x in value:
            if inner == "type":
                av.list.type.append(x if isinstance(x, int) else _datatype(x))
            elif inner == "int":
                av.list.i.append(int(x))
            elif inner == "float":
                av.list.f.append(float(x))
            elif inner == "bool":
                av.list.b.append(bool(x))
            elif inner == "string":
                av.list.s.append(x.encode() if isinstance(x, str) else bytes(x))
            elif inner == "shape":
                _shape_proto(x.dims if isinstance(x, _core.Shape) else x, av.list.shape.add())
            else:
                raise TypeError("cannot write a %s attribute" % attr_type)
    else:
        raise TypeError("cannot write a %s attribute" % attr_type)
    return av


def _guess_type(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, (str, bytes)):
        return "string"
    if isinstance(v, _core.DType):
        return "type"
    if isinstance(v, _core.Shape):
        return "shape"
    if isinstance(v, (np.ndarray, tuple)):
        return "tensor"
    if isinstance(v, list):
        if v and isinstance(v[0], _core.DType):
            return "list(type)"
        if v and isinstance(v[0], float):
            return "list(float)"
        if v and isinstance(v[0], (str, bytes)):
            return "list(string)"
        return "list(int)"
    raise TypeError("cannot write attribute value %r" % (v,))


def op_attrs(op_type, in_dtypes, out_dtypes, attrs):
    """{attr: (tf type, value)} for a node: the type and count attributes TensorFlow's OpDef binds to
    inputs and outputs, then the node's own attributes the OpDef lists. Unknown op types keep every
    attribute."""
    op_def = OP_DEFS.get(op_type)
    if op_def is None:
        return {k: (None, v) for k, v in attrs.items() if v is not None}
    in_args, out_args, attr_defs, _ = op_def
    types = {a[0]: a[1] for a in attr_defs}
    out = {}

    def bind(args, dtypes):
        fixed = sum(1 for a in args if not a[3] and not a[4])
        variadic = [a for a in args if a[3] or a[4]]
        each = (len(dtypes) - fixed) // len(variadic) if variadic else 0
        pos = 0
        for _, _, type_attr, number_attr, type_list_attr, _ in args:
            k = each if (number_attr or type_list_attr) else 1
            got = dtypes[pos:pos + k]
            if type_list_attr and type_list_attr not in out:
                out[type_list_attr] = ("list(type)", [_datatype(d) for d in got])
            if number_attr and number_attr not in out:
                out[number_attr] = ("int", k)
            if type_attr and type_attr not in out and got:
                out[type_attr] = ("type", _datatype(got[0]))
            pos += k
    bind(in_args, in_dtypes)
    for k, v in attrs.items():  # the node's own (dtype, DstT, out_type...) before what outputs imply
        if k in types and v is not None and k not in out:
            out[k] = (types[k], v)
    bind(out_args, out_dtypes)
    return out


class _Writer:
    def __init__(self, graph, add_shapes, clear_devices):
        self.g, self.c = graph, graph._c
        self.add_shapes, self.clear_devices = add_shapes, clear_devices
        self.gd = _pb.GraphDef()
        self.names = {self.c.node_name(i) for i in range(self.c.num_nodes())}
        self.missing = {}

    def unique(self, base):
        name, k = base, 1
        while name in self.names:
            name = "%s_%d" % (base, k)
            k += 1
        self.names.add(name)
        return name

    def ref(self, node_id, idx):
        n = self.c.node_name(node_id)
        return n if idx == 0 else "%s:%d" % (n, idx)

    def node(self, name, op, inputs, attrs, device="", control=(), shapes=None):
        nd = self.gd.node.add()
        nd.name, nd.op = name, op
        nd.input.extend(list(inputs) + ["^" + c for c in control])
        if device and not self.clear_devices:
            nd.device = device
        for k in sorted(attrs):
            t, v = attrs[k]
            set_attr(nd.attr[k], v, t)
        if self.add_shapes and shapes is not None:
            av = nd.attr["_output_shapes"]
            av.list.SetInParent()
            for s in shapes:
                _shape_proto(s, av.list.shape.add())
        return name

    def helper(self, base, op, inputs, in_dtypes, out_dtypes, attrs=None, device=""):
        name = self.unique(base)
        return self.node(name, op, inputs, op_attrs(op, in_dtypes, out_dtypes, attrs or {}), device)

    def const_value(self, ref):
        """The value of a Const input (by its GraphDef reference), else None."""
        node = self.c.find(ref.split(":")[0])
        if node < 0 or self.c.node_type(node) != "Const":
            return None
        return self.c.node_attrs(node).get("value")

    def const(self, base, value, device=""):
        arr = np.asarray(value)
        dt = _dtypes.as_dtype(arr.dtype)._enum
        return self.helper(base, "Const", [], [], [dt], {"value": arr, "dtype": dt}, device)

    def gates(self):
        """{Apply node id: the name of the NoOp it waits for}.

        Note [gated updates]
        tideflow's variable reads are copy-on-write, so an update never changes a value a pending reader holds
        and its graphs need no gradient gating. TensorFlow's reference variables alias their reads, and its
        optimizers gate each op's gradients (GATE_OP) so no update runs before a gradient that still reads
        the variable. A tideflow training graph run by TensorFlow would race there (seen: runs differing in
        the 5th digit), so each group of Apply* updates that one training op waits for gets a NoOp that waits
        for all their gradients (TensorFlow's GATE_GRAPH), which TensorFlow then runs deterministically."""
        c, out = self.c, {}
        for i in range(c.num_nodes()):
            if c.node_type(i) != "NoOp":
                continue
            applies = [j for j in c.node_control_inputs(i) if c.node_type(j).startswith("Apply")]
            if not applies:
                continue
            gate = self.unique(c.node_name(i) + "/gate_gradients")
            waits = []
            for j in applies:
                refs = set(c.node_op_info(j)[1])
                for k, (src, idx) in enumerate(c.node_inputs(j)):
                    name = c.node_name(src)
                    if k not in refs and name not in waits:
                        waits.append(name)
            self.node(gate, "NoOp", [], {}, c.node_device(i), waits)
            for j in applies:
                out[j] = gate
        return out

    def write(self):
        c = self.c
        gates = self.gates()
        for i in range(c.num_nodes()):
            op = c.node_type(i)
            name = c.node_name(i)
            inputs = c.node_inputs(i)
            refs = [self.ref(j, k) for j, k in inputs]
            in_dtypes = [c.output_dtype(j, k) for j, k in inputs]
            out_dtypes = [c.output_dtype(i, k) for k in range(c.node_num_outputs(i))]
            control = [c.node_name(j) for j in c.node_control_inputs(i)] + ([gates[i]] if i in gates else [])
            attrs = c.node_attrs(i)
            device = c.node_device(i)
            shapes = [c.output_shape(i, k) for k in range(len(out_dtypes))]
            lower = _LOWER.get(op)
            if lower is not None and op not in OP_DEFS:
                lower(self, name, refs, in_dtypes, out_dtypes, attrs, device, control, shapes)
                continue
            if op not in OP_DEFS:
                self.missing.setdefault(op, []).append(name)
            self.node(name, op, refs, op_attrs(op, in_dtypes, out_dtypes, attrs), device, control, shapes)
        self.gd.versions.producer = GRAPH_DEF_VERSION
        if self.missing:
            logging.getLogger("tideflow").warning(
                "The exported GraphDef uses tideflow's own op types %s, which TensorFlow does not have; tideflow "
                "imports them back, TensorFlow will not.", ", ".join(sorted(self.missing)))
        return self.gd


# ---------------------------------------------------------------------------------------------------
# tideflow's internal gradient ops as TensorFlow ops

_I32 = _dtypes.int32._enum


def _shape_of(w, base, ref, dt, device):
    return w.helper(base + "/Shape", "Shape", [ref], [dt], [_I32], {"out_type": _I32}, device)


def _lower_sum_to_shape(w, name, refs, in_dt, out_dt, attrs, device, control, shapes):
    g, like = refs
    sg = _shape_of(w, name, g, in_dt[0], device)
    sl = _shape_of(w, name, like, in_dt[1], device)
    r = w.helper(name + "/BroadcastGradientArgs", "BroadcastGradientArgs", [sl, sg], [_I32, _I32], [_I32, _I32],
                 device=device)
    s = w.helper(name + "/Sum", "Sum", [g, r], [in_dt[0], _I32], [in_dt[0]], {"keep_dims": False}, device)
    w.node(name, "Reshape", [s, sl], op_attrs("Reshape", [in_dt[0], _I32], out_dt, {}), device, control, shapes)


def _lower_broadcast_like(w, name, refs, in_dt, out_dt, attrs, device, control, shapes):
    x, like = refs
    sl = _shape_of(w, name, like, in_dt[1], device)
    w.node(name, "BroadcastTo", [x, sl], op_attrs("BroadcastTo", [in_dt[0], _I32], out_dt, {}), device, control,
           shapes)


def _lower_reduce_grad_broadcast(w, name, refs, in_dt, out_dt, attrs, device, control, shapes):
    """TensorFlow's _SumGrad / _MeanGrad: g reshaped to the reduced-with-kept-dims shape, broadcast back to
    x's shape, divided by the reduced count for a mean."""
    g, x, axes = refs
    T = in_dt[0]
    if attrs.get("x_is_shape"):
        sx = x if in_dt[1] == _I32 else \
            w.helper(name + "/Cast", "Cast", [x], [in_dt[1]], [_I32], {"DstT": _I32}, device)
    else:
        sx = _shape_of(w, name, x, in_dt[1], device)
    if in_dt[2] != _I32:
        axes = w.helper(name + "/axes", "Cast", [axes], [in_dt[2]], [_I32], {"DstT": _I32}, device)
    rank = w.helper(name + "/Size", "Size", [sx], [_I32], [_I32], {"out_type": _I32}, device)
    axes_n = w.helper(name + "/FloorMod", "FloorMod", [w.helper(name + "/add", "AddV2", [axes, rank], [_I32, _I32],
                                                               [_I32], device=device), rank],
                      [_I32, _I32], [_I32], device=device)
    zero, one = w.const(name + "/range_start", np.int32(0), device), w.const(name + "/range_delta", np.int32(1), device)
    rng = w.helper(name + "/range", "Range", [zero, rank, one], [_I32] * 3, [_I32], device=device)
    ones = w.helper(name + "/ones", "Fill", [_shape_of(w, name, axes_n, _I32, device), one], [_I32, _I32], [_I32],
                    device=device)
    kept = w.helper(name + "/DynamicStitch", "DynamicStitch", [rng, axes_n, sx, ones], [_I32] * 4, [_I32],
                    device=device)
    gr = w.helper(name + "/Reshape", "Reshape", [g, kept], [T, _I32], [T], device=device)
    if not attrs.get("mean"):
        w.node(name, "BroadcastTo", [gr, sx], op_attrs("BroadcastTo", [T, _I32], out_dt, {}), device, control, shapes)
        return
    b = w.helper(name + "/BroadcastTo", "BroadcastTo", [gr, sx], [T, _I32], [T], device=device)
    zaxis = w.const(name + "/prod_axis", np.int32(0), device)
    px = w.helper(name + "/Prod", "Prod", [sx, zaxis], [_I32, _I32], [_I32], {"keep_dims": False}, device)
    pk = w.helper(name + "/Prod_1", "Prod", [kept, zaxis], [_I32, _I32], [_I32], {"keep_dims": False}, device)
    pk1 = w.helper(name + "/Maximum", "Maximum", [pk, one], [_I32, _I32], [_I32], device=device)
    count = w.helper(name + "/floordiv", "FloorDiv", [px, pk1], [_I32, _I32], [_I32], device=device)
    cf = w.helper(name + "/Cast", "Cast", [count], [_I32], [T], {"DstT": T}, device)
    w.node(name, "RealDiv", [b, cf], op_attrs("RealDiv", [T, T], out_dt, {}), device, control, shapes)


def _lower_slice_grad(w, name, refs, in_dt, out_dt, attrs, device, control, shapes):
    """SliceGrad(input_shape, begin, g): g padded back to the input's shape (TensorFlow's _SliceGrad)."""
    shape, begin, g = refs
    I = in_dt[1]
    sg = w.helper(name + "/Shape", "Shape", [g], [in_dt[2]], [I], {"out_type": I}, device)
    rest = w.helper(name + "/sub_1", "Sub", [shape, begin], [I, I], [I], device=device)
    after = w.helper(name + "/sub", "Sub", [rest, sg], [I, I], [I], device=device)
    pads = w.helper(name + "/paddings", "Pack", [begin, after], [I, I], [I], {"axis": 1}, device)
    w.node(name, "Pad", [g, pads], op_attrs("Pad", [in_dt[2], I], out_dt, {}), device, control, shapes)


def _lower_report_uninitialized(w, name, refs, in_dt, out_dt, attrs, device, control, shapes):
    """ReportUninitialized(names, initialized...): the names whose flag is false."""
    names, flags = refs[0], refs[1:]
    S = _dtypes.string._enum
    if not flags:
        w.node(name, "Const", [], op_attrs("Const", [], [S], {"value": np.zeros([0], object), "dtype": S}), device,
               control, shapes)
        return
    B = _dtypes.bool._enum
    packed = w.helper(name + "/Pack", "Pack", flags, [B] * len(flags), [B], {"axis": 0}, device)
    notinit = w.helper(name + "/LogicalNot", "LogicalNot", [packed], [B], [B], device=device)
    where = w.helper(name + "/Where", "Where", [notinit], [B], [_dtypes.int64._enum], device=device)
    minus_one = w.const(name + "/minus_one", np.array([-1], np.int32), device)
    flat = w.helper(name + "/Reshape", "Reshape", [where, minus_one], [_dtypes.int64._enum, _I32],
                    [_dtypes.int64._enum], device=device)
    axis = w.const(name + "/axis", np.int32(0), device)
    w.node(name, "GatherV2", [names, flat, axis],
           op_attrs("GatherV2", [S, _dtypes.int64._enum, _I32], out_dt, {}), device, control, shapes)


def _lower_gather_grad(w, name, refs, in_dt, out_dt, attrs, device, control, shapes):
    """GatherGrad(g, indices, axis, params_shape) along axis 0 (an embedding's gradient): the rows of g summed
    into the indexed rows, UnsortedSegmentSum as TensorFlow's dense gradient of a gather. Other axes are
    written as they are."""
    g, indices, axis, pshape = refs
    a = w.const_value(axis)
    if a is None or np.asarray(a).size != 1 or int(np.asarray(a).reshape(-1)[0]) != 0:
        w.missing.setdefault("GatherGrad", []).append(name)
        w.node(name, "GatherGrad", refs, op_attrs("GatherGrad", in_dt, out_dt, attrs), device, control, shapes)
        return
    T, I, P = in_dt[0], in_dt[1], in_dt[3]
    p_np = np.int32 if P == _I32 else np.int64
    flat = w.helper(name + "/flat_indices", "Reshape", [indices, w.const(name + "/minus_one", np.array([-1], np.int32),
                                                                          device)], [I, _I32], [I], device=device)
    inner = w.helper(name + "/inner_shape", "Slice", [pshape, w.const(name + "/one", np.array([1], p_np), device),
                                                      w.const(name + "/all", np.array([-1], p_np), device)],
                     [P, P, P], [P], device=device)
    vshape = w.helper(name + "/values_shape", "ConcatV2",
                      [w.const(name + "/rows", np.array([-1], p_np), device), inner,
                       w.const(name + "/axis0", np.int32(0), device)], [P, P, _I32], [P], device=device)
    values = w.helper(name + "/values", "Reshape", [g, vshape], [T, P], [T], device=device)
    n = w.helper(name + "/num_rows", "StridedSlice",
                 [pshape, w.const(name + "/begin", np.array([0], p_np), device),
                  w.const(name + "/end", np.array([1], p_np), device), w.const(name + "/step", np.array([1], p_np),
                                                                               device)],
                 [P, P, P, P], [P], {"shrink_axis_mask": 1}, device)
    w.node(name, "UnsortedSegmentSum", [values, flat, n], op_attrs("UnsortedSegmentSum", [T, I, P], out_dt, {}),
           device, control, shapes)


_LOWER = {
    "GatherGrad": _lower_gather_grad,
    "SumToShape": _lower_sum_to_shape,
    "BroadcastLike": _lower_broadcast_like,
    "ReduceGradBroadcast": _lower_reduce_grad_broadcast,
    "SliceGrad": _lower_slice_grad,
    "ReportUninitialized": _lower_report_uninitialized,
}


def graph_to_graph_def(graph, add_shapes=False, clear_devices=False):
    """The whole graph as a GraphDef message (Note [exporting to TensorFlow])."""
    with graph._lock:
        return _Writer(graph, add_shapes, clear_devices).write()


_ops._graph_def_writer[0] = graph_to_graph_def  # Graph.as_graph_def
