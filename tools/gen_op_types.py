"""Generates cpp/op_types.inc: for every op tideflow registers under a TensorFlow op's name, TensorFlow's
rules for its inputs' dtypes and its attributes, from the op registry of an installed TensorFlow:

  - the dtypes each input accepts (a fixed dtype, or the allowed list of its type attribute),
  - the allowed list of each type attribute that no input carries (Size's out_type: int32 or int64),
  - the minimum of each integer attribute (Split's num_split >= 1) and the allowed strings of string
    attributes (padding: SAME or VALID),
  - the integer attributes that count outputs (Split's num_split, Unpack's num), which have a maximum.

tideflow checks them when a node is built (Note [op type rules] in cpp/op_rules.cc), so a kernel never
runs on a dtype it was not written for and a bad attribute is refused with TensorFlow's error at the line
that built the node. Ops whose inputs do not line up with TensorFlow's (another arity) are left out and
listed. Run from the repository root, with tideflow built in place, after adding ops:
    python tools/gen_op_types.py
Only needs TensorFlow at generation time; the output is committed."""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tensorflow.core.framework import types_pb2  # noqa: E402
from tensorflow.python.framework import op_def_registry  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from tideflow import _core  # noqa: E402

# TensorFlow's enum names -> tideflow's dtype names (dtype_name in cpp/dtype.h). Names tideflow does not
# have are kept: the C++ side ignores them until tideflow has the dtype.
NAMES = {"DT_FLOAT": "float32", "DT_DOUBLE": "float64", "DT_INT32": "int32", "DT_INT64": "int64",
         "DT_BOOL": "bool", "DT_STRING": "string", "DT_HALF": "float16", "DT_BFLOAT16": "bfloat16",
         "DT_UINT8": "uint8", "DT_INT8": "int8", "DT_INT16": "int16", "DT_UINT16": "uint16",
         "DT_UINT32": "uint32", "DT_UINT64": "uint64", "DT_VARIANT": "variant"}

# Dtypes tideflow's kernels accept beyond TensorFlow's lists, added to every input that takes float32:
# float64 pooling, LRN, batch norm and LSTM cells (TensorFlow's CPU kernels stop at float32), and int32 images for
# tf.summary.image (tideflow has no uint8 yet).
EXTENSIONS = {op: "float64" for op in (
    "MaxPool3D", "MaxPool3DGrad", "MaxPool3DGradGrad", "LRN", "LRNGrad", "FusedBatchNorm", "FusedBatchNormV2",
    "FusedBatchNormV3", "FusedBatchNormGrad", "FusedBatchNormGradV2", "FusedBatchNormGradV3", "LSTMBlockCell")}
EXTENSIONS["ImageSummary"] = "int32"

# Ops that share TensorFlow's name but not its inputs or attributes' meaning.
SKIP = {"If", "While", "Print", "PyFunc", "PyFuncStateless", "EagerPyFunc", "_Arg"}


def type_names(enums):
    out = []
    for e in enums:
        n = types_pb2.DataType.Name(e)
        if n.endswith("_REF"):
            n = n[:-4]
        out.append(NAMES.get(n, n[3:].lower()))
    return "|".join(out)


def rules(op_def, extra=""):
    attrs = {a.name: a for a in op_def.attr}
    args = []
    bound = set()
    for a in op_def.input_arg:
        lst = bool(a.number_attr or a.type_list_attr)
        if a.type:
            types = type_names([a.type])
        elif a.type_attr:
            bound.add(a.type_attr)
            allowed = attrs[a.type_attr].allowed_values.list.type
            types = type_names(allowed) if allowed else ""
        else:  # a list of mixed types (IdentityN): anything
            bound.add(a.type_list_attr)
            types = ""
        if extra and "float32" in types.split("|"):
            types += "".join("|" + t for t in extra.split("|") if t not in types.split("|"))
        args.append((a.name, types, lst))
    attr_rules = []
    # Attributes that count outputs (Split's num_split, Unpack's num): bounded before the shape function
    # makes that many outputs (Note [op type rules]).
    counts = {a.number_attr for a in op_def.output_arg if a.number_attr}
    for a in op_def.attr:
        if a.name in counts:
            attr_rules.append((a.name, "n", "", 0))
        if a.type == "type" and a.name not in bound and a.allowed_values.list.type:
            attr_rules.append((a.name, "t", type_names(a.allowed_values.list.type), 0))
        elif a.type == "int" and a.has_minimum:
            attr_rules.append((a.name, "m", "", a.minimum))
        elif a.type == "string" and a.allowed_values.list.s:
            attr_rules.append((a.name, "s", "|".join(s.decode() for s in a.allowed_values.list.s), 0))
    return args, attr_rules


def main():
    lines, skipped = [], []
    for name in sorted(_core.registered_ops()):
        op_def = op_def_registry.get(name)
        if op_def is None or name in SKIP:
            continue
        num_inputs = _core.op_signature(name)[0]
        args, attr_rules = rules(op_def, EXTENSIONS.get(name, ""))
        has_list = any(lst for _, _, lst in args)
        if num_inputs >= 0 and not has_list and num_inputs != len(args):
            skipped.append("%s (%d inputs, TensorFlow %d)" % (name, num_inputs, len(args)))
            continue
        if all(not t for _, t, _ in args) and not attr_rules:
            continue
        a = ", ".join('{"%s", "%s", %s}' % (n, t, "true" if lst else "false") for n, t, lst in args)
        r = ", ".join('{"%s", \'%s\', "%s", %d}' % x for x in attr_rules)
        lines.append('{"%s", {%s}, {%s}},' % (name, a, r))
    header = ("// Generated by tools/gen_op_types.py from TensorFlow %s's op registry; do not edit.\n"
              "// {op, {{input, allowed dtypes ('|'-separated, empty: any), is a list}...},\n"
              "//      {{attribute, 't' allowed dtypes | 'm' integer minimum | 's' allowed strings | 'n' an output count, values, minimum}...}}\n"
              % tf.__version__)
    if skipped:
        header += "// Left out (inputs differ from TensorFlow's): " + ", ".join(skipped) + "\n"
    with open(os.path.join(ROOT, "cpp", "op_types.inc"), "w") as f:
        f.write(header + "\n".join(lines) + "\n")
    print("%d ops, %d left out: %s" % (len(lines), len(skipped), ", ".join(skipped)))


if __name__ == "__main__":
    main()
