"""Sub-namespaces: tf.math, tf.linalg, tf.random, tf.debugging, tf.nn, tf.io... are built here and
published as importable modules (`import tideflow.math`, `from tideflow.compat.v1 import nn`): Note
[public namespaces]. Adding a name to a namespace is one line in install()."""
import sys
import types

from . import contrib, gfile, legacy_names, tfrecord
from .framework import graph_util, importer, tf_messages
from .ops import (candidate_sampling_ops, control_flow_util, gen_ops, image_ops, linalg_ops, math_ops, nn_ops,
                  random_ops, rnn, rnn_cell_impl, sampled_losses, special_math_ops)
from . import compat, summary_v2
from .ops import data_flow_ops, io_ops
from .train import queue_runner_impl
from .eager import context, function


def install(ns):
    def sub(name, names):
        m = types.ModuleType("tideflow." + name)
        for n in names:
            if n in ns:
                setattr(m, n, ns[n])
        return m

    ns["nn"] = sub("nn", [])  # the API of ops/nn_ops.py, without its imports
    for n in nn_ops.__all__:
        setattr(ns["nn"], n, getattr(nn_ops, n))
    # Ops made from the registry (gen_ops) go where their API names say; these are the hand-written ones.
    math_names = [n for n in ("add", "subtract", "multiply", "divide", "truediv", "floordiv", "mod", "pow",
                              "maximum", "minimum", "round", "add_n", "equal", "not_equal", "less",
                              "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
                              "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
                              "reduce_any", "reduce_all", "argmax", "argmin", "cumsum", "squared_difference",
                              "floormod", "floor_div", "realdiv", "logical_xor", "scalar_mul",
                              "reduce_logsumexp", "count_nonzero", "softplus", "cumprod", "div_no_nan", "atan2",
                              "polygamma", "zeta", "log_sigmoid", "segment_sum", "segment_mean", "segment_max",
                              "segment_min", "segment_prod", "unsorted_segment_sum", "unsorted_segment_max",
                              "unsorted_segment_min", "unsorted_segment_prod", "unsorted_segment_mean",
                              "unsorted_segment_sqrt_n", "bincount", "invert_permutation", "top_k", "in_top_k")]
    ns["tuple"] = control_flow_util.tuple_
    ns["math"] = sub("math", math_names)
    ns["math"].divide_no_nan = ns.get("div_no_nan")
    ns["math"].xlogy, ns["math"].xdivy = math_ops.xlogy, math_ops.xdivy  # tf.math only, as in TensorFlow
    ns["math"].top_k, ns["math"].in_top_k = ns["nn"].top_k, ns["nn"].in_top_k
    ns["debugging"] = sub("debugging", [n for n in ns if n.startswith("assert_")] + [
        "Assert", "check_numerics", "is_numeric_tensor"])
    ns["debugging"].assert_all_finite = ns["verify_tensor_all_finite"]
    ns.setdefault("strings", sub("strings", []))
    ns["strings"].format = ns["string_format"]
    ns["linalg"] = sub("linalg", ["matmul", "matrix_inverse", "eye", "trace", "norm", "tensordot", "cholesky",
                                  "cholesky_solve"])
    ns["linalg"].inv = ns.get("matrix_inverse")
    ns["linalg"].transpose = ns.get("matrix_transpose")
    for short, full in (("diag", "matrix_diag"), ("diag_part", "matrix_diag_part"), ("set_diag", "matrix_set_diag"),
                        ("band_part", "matrix_band_part"), ("det", "matrix_determinant"), ("solve", "matrix_solve"),
                        ("triangular_solve", "matrix_triangular_solve")):
        setattr(ns["linalg"], short, ns.get(full))
    ns["linalg"].slogdet = linalg_ops.slogdet
    ns["random"] = sub("random", [])
    for n in ("random_uniform", "random_normal", "truncated_normal", "random_shuffle", "set_random_seed"):
        if n in ns:
            setattr(ns["random"], n.replace("random_", "") if n != "random_shuffle" else "shuffle", ns[n])
    ns["random"].set_seed = ns["set_random_seed"]
    ns["random"].categorical = random_ops.categorical
    for n in candidate_sampling_ops.__all__ + sampled_losses.__all__:  # tf.nn.nce_loss, tf.nn.*_candidate_sampler
        setattr(ns["nn"], n, getattr(candidate_sampling_ops, n, None) or getattr(sampled_losses, n))
        if n.endswith("_sampler"):
            setattr(ns["random"], n, getattr(ns["nn"], n))
    ns["version"] = sub("version", [])
    for n in ("VERSION", "GIT_VERSION", "COMPILER_VERSION"):
        setattr(ns["version"], n, ns[n])
    # TensorFlow's own files (graphs, meta graphs, protos): framework/tf_messages.py, importer.py, graph_util.py.
    # The message classes (tf.GraphDef, tf.Summary, tf.ConfigProto...) load on first use: _lazy_messages.
    ns["make_tensor_proto"], ns["make_ndarray"] = tf_messages.make_tensor_proto, tf_messages.make_ndarray
    ns["import_graph_def"] = importer.import_graph_def
    ns["graph_util"] = sub("graph_util", [])
    for n in graph_util.__all__ + ["import_graph_def"]:
        setattr(ns["graph_util"], n, getattr(graph_util, n, None) or getattr(importer, n))
    ns["train"].write_graph = graph_util.write_graph
    ns["train"].SummaryWriter = legacy_names.SummaryWriter  # TF 0.12's name
    ns.setdefault("io", sub("io", []))
    ns["io"].write_graph, ns["io"].gfile = graph_util.write_graph, gfile
    ns["gfile"] = gfile
    ns["python_io"] = sub("python_io", [])  # TFRecord files (tfrecord.py), also in tf.io
    for n in tfrecord.__all__:
        setattr(ns["python_io"], n, getattr(tfrecord, n))
        setattr(ns["io"], n, getattr(tfrecord, n))
    ns["einsum"] = ns["linalg"].einsum = special_math_ops.einsum
    # tf.nn.rnn_cell, tf.nn.dynamic_rnn... and tf.contrib.rnn (ops/rnn.py, ops/rnn_cell_impl.py)
    ns["nn"].rnn_cell = sub("nn.rnn_cell", [])
    for n in rnn_cell_impl.__all__:
        if n != "LSTMBlockCell":
            setattr(ns["nn"].rnn_cell, n, getattr(rnn_cell_impl, n))
    for n in rnn.__all__:
        setattr(ns["nn"], n, getattr(rnn, n))
    ns["compat"], ns["contrib"] = compat, contrib  # compat.v1 is tideflow; compat.v2 loads when imported;
    # contrib's parts load on first use (contrib/__init__.py)
    _install_eager(ns, sub)
    ns.setdefault("image", sub("image", []))  # tf.image basics (ops/image_ops.py)
    for n in image_ops.__all__:
        setattr(ns["image"], n, getattr(image_ops, n))
    # TF 1.x's tf.image.resize is resize_images (its coordinates, ResizeMethodV1's numbers); TF2's is the
    # half-pixel one, which tideflow.v2 puts back.
    ns["image"].resize = image_ops.resize_images
    ns["image"].ResizeMethod = image_ops.ResizeMethodV1
    ns["summary"].all_v2_summary_ops = summary_v2.all_v2_summary_ops
    _install_queues(ns, sub)
    gen_ops.install(ns)  # tf.math and tf.debugging exist by now
    _publish(ns)  # last: every namespace is complete


# Note [public namespaces]
# TensorFlow's namespaces are modules: `import tensorflow.compat.v1 as tf`, `from tensorflow.compat.v1 import
# nn`, `import tensorflow.math`. tideflow's are filled here at import (hand-written names above, registry
# ops by gen_ops.install), then _publish registers each in sys.modules under its dotted name (also under
# tideflow.compat.v1.*, which is tideflow itself), so every import form finds it, and gives it and tideflow
# an `__all__` and `__dir__` of the API alone: `dir(tf)` lists no np, math_ops or framework. Tools that
# read code without running it see the same API in the checked-in stubs (*.pyi, tools/gen_stubs.py), which
# tests/test_stubs.py keeps equal to what this builds.
_PUBLIC_MODULES = ("app", "compat", "config", "contrib", "debugging", "errors", "flags", "gfile", "graph_util",
                   "image", "initializers", "io", "keras", "layers", "linalg", "logging", "losses", "math", "nest",
                   "nn", "python_io", "random", "sets", "strings", "summary", "sysconfig", "test", "train",
                   "version", "data", "saved_model", "estimator", "feature_column", "distributions", "metrics",
                   "profiler", "quantization", "lite", "signal", "spectral", "sparse", "bitwise", "dtypes",
                   "experimental", "autograph", "distribute", "lookup", "queue", "resource_loader", "user_ops",
                   "audio", "manip", "tpu", "xla", "saved_model", "v2", "compiler")


def _public(m):
    return sorted(n for n in vars(m) if not n.startswith("_"))


def _set_dir(m, names):
    m.__all__ = names
    m.__dir__ = lambda: sorted(set(names) | {n for n in vars(m) if n.startswith("__")})


# TensorFlow's protobuf messages at the top level: real protobuf classes when the package is installed
# (Note [real protobuf classes]), built on first use, since importing protobuf would take half the time of
# `import tideflow`.
_LAZY_MESSAGES = ("GraphDef", "NodeDef", "AttrValue", "NameAttrList", "MetaGraphDef", "TensorInfo", "SignatureDef",
                  "Summary", "SummaryMetadata", "HistogramProto", "SessionLog", "Event", "LogMessage",
                  "ConfigProto", "GPUOptions", "GraphOptions", "OptimizerOptions", "RunOptions", "RunMetadata")


def _lazy_messages(ns):
    def __getattr__(name):  # noqa: N807 -- the module's own, PEP 562
        if name in _LAZY_MESSAGES:
            value = ns[name] = getattr(tf_messages, name)
            return value
        raise AttributeError("module 'tideflow' has no attribute %r" % name)
    ns["__getattr__"] = __getattr__


def _publish(ns):
    _lazy_messages(ns)
    public = sorted(set(n for n in ns if not n.startswith("_") and (
        n in _PUBLIC_MODULES or not isinstance(ns[n], types.ModuleType))) | set(_LAZY_MESSAGES))

    def register(path, m):
        sys.modules.setdefault("tideflow." + path, m)
        sys.modules.setdefault("tideflow.compat.v1." + path, m)
        built = type(m) is types.ModuleType and m.__name__ == "tideflow." + path and not hasattr(m, "__file__")
        if not built:  # a package of its own (tf.train, tf.keras): its submodules import as they are
            return
        _set_dir(m, _public(m))  # made in install(): everything on it is API
        for n, v in list(vars(m).items()):
            if isinstance(v, types.ModuleType) and not n.startswith("_") and v.__name__.startswith("tideflow."):
                register(path + "." + n, v)

    for n in public:
        if n not in _LAZY_MESSAGES and isinstance(ns[n], types.ModuleType) and n != "compat":
            register(n, ns[n])
    ns["__all__"] = public
    ns["__dir__"] = lambda: sorted(set(public) | {n for n in ns if n.startswith("__")})


def _list_physical_devices(device_type=None):
    """The accelerators visible to tideflow: none (it runs on the CPU; TensorFlow lists GPUs here)."""
    return []


def _install_queues(ns, sub):
    """TF 1.x queue-based input pipelines: tf.queue.*, tf.train.queue_runner, tf.io's readers and decoders."""
    ns["queue"] = sub("queue", data_flow_ops.__all__)
    ns["train"].queue_runner = queue_runner_impl  # a module of its own, so type checkers find it too
    for n in io_ops.__all__:
        setattr(ns["io"], n, getattr(io_ops, n))


def _install_eager(ns, sub):
    """Eager execution, tf.function and their helpers (tideflow.eager), TF 1.x spellings."""
    for n in ("function", "TensorSpec", "init_scope"):
        ns[n] = getattr(function, n)
    for n in ("enable_v2_behavior", "disable_v2_behavior"):
        ns[n] = getattr(context, n)
    cfg = ns["config"] = sub("config", [])
    cfg.threading = sub("config.threading", [])
    for n in ("set_intra_op_parallelism_threads", "set_inter_op_parallelism_threads",
              "get_intra_op_parallelism_threads", "get_inter_op_parallelism_threads"):
        setattr(cfg.threading, n, getattr(context, n))
    cfg.run_functions_eagerly = context.run_functions_eagerly
    cfg.functions_run_eagerly = context.functions_run_eagerly
    cfg.experimental_run_functions_eagerly = context.run_functions_eagerly
    cfg.list_physical_devices = _list_physical_devices
    ns["random"].set_seed = ns["set_random_seed"]
