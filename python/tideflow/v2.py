"""TensorFlow 2's API: a TF2 program runs by changing only its import line to `import tideflow.v2 as tf`
(also `import tideflow.compat.v2 as tf`). Importing turns on TensorFlow 2's behavior (eager execution,
elementwise ==, int shapes: tf.compat.v1.enable_v2_behavior), so it must happen before graph ops are
built outside an explicit graph.

The namespace is tideflow's minus the TF 1.x graph-only API (Session, placeholder, variable scopes,
collections, tf.train's optimizers...), with TF2's spellings where they differ: `tf.losses` holds the
Keras loss functions (`tf.losses.MSE`, `categorical_crossentropy`), `tf.nn` takes `(labels, logits)`
positionally, `tf.random.normal/uniform/set_seed`, `tf.function`, `tf.TensorSpec`. `tf.compat.v1` is
tideflow itself."""
import sys as _sys
import types as _types

import tideflow as _tf
from .eager import context as _context
from . import losses_v2 as _losses_v2

_context.enable_v2_behavior()

_TF1_ONLY = {
    "placeholder", "placeholder_with_default", "Session", "InteractiveSession", "ConfigProto", "GPUOptions",
    "RunOptions", "RunMetadata", "get_variable", "get_local_variable", "variable_scope", "variable_op_scope",
    "get_variable_scope", "VariableScope", "AUTO_REUSE", "global_variables_initializer", "initialize_all_variables",
    "initialize_variables", "variables_initializer", "local_variables_initializer", "global_variables",
    "local_variables", "trainable_variables", "model_variables", "all_variables", "report_uninitialized_variables",
    "assert_variables_initialized", "is_variable_initialized", "assign", "assign_add", "assign_sub",
    "scatter_update", "scatter_add", "scatter_sub", "scatter_mul", "scatter_div", "scatter_min", "scatter_max",
    "scatter_nd_update", "scatter_nd_add", "scatter_nd_sub", "count_up_to", "set_random_seed",
    "get_default_graph", "reset_default_graph", "get_default_session", "get_collection", "get_collection_ref",
    "add_to_collection", "add_to_collections", "GraphKeys", "Print", "to_float", "to_double", "to_int32",
    "to_int64", "div", "make_template", "py_func", "enable_eager_execution", "disable_eager_execution",
    "RefVariable", "VariableV1", "app", "flags", "random_uniform", "random_normal", "truncated_normal",
    "random_shuffle", "multinomial", "losses", "train", "summary", "contrib", "v2", "compat", "nn", "random",
    "enable_v2_behavior", "disable_v2_behavior", "add_check_numerics_ops", "verify_tensor_all_finite",
}

_ns = globals()
_LAZY = [n for n in _tf._namespaces._LAZY_MESSAGES if n not in _TF1_ONLY]  # protobuf classes: on first use
for _name in dir(_tf):
    if not _name.startswith("_") and _name not in _TF1_ONLY and _name not in _LAZY:
        _ns[_name] = getattr(_tf, _name)
_ns["__version__"] = "2.0.0"  # programs that check for TF2 take their TF2 path
_ns["VERSION"] = "2.0.0"


def _module(name, names, source):
    m = _types.ModuleType("tideflow.v2." + name)
    for n in names:
        if hasattr(source, n):
            setattr(m, n, getattr(source, n))
    return m


losses = _losses_v2

# tf.nn: TensorFlow 2's signatures take labels and logits positionally.
nn = _module("nn", [n for n in dir(_tf.nn) if not n.startswith("_")], _tf.nn)


def _softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    return _tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=axis, name=name)


def _sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    return _tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name=name)


def _sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    return _tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name=name)


nn.softmax_cross_entropy_with_logits = _softmax_cross_entropy_with_logits
nn.sparse_softmax_cross_entropy_with_logits = _sparse_softmax_cross_entropy_with_logits
nn.sigmoid_cross_entropy_with_logits = _sigmoid_cross_entropy_with_logits

# tf.image: TF2's resize (half-pixel centers) and its method names, where TF 1.x has resize_images's.
image = _module("image", [n for n in dir(_tf.image) if not n.startswith("_")], _tf.image)
image.resize = _tf.ops.image_ops.resize
image.ResizeMethod = _tf.ops.image_ops.ResizeMethod

random = _module("random", ["normal", "uniform", "truncated_normal", "shuffle", "categorical"], _tf.random)
random.set_seed = _tf.random.set_seed

# tf.train in TensorFlow 2 keeps checkpoint utilities and moving averages, not the TF 1.x optimizers.
train = _module("train", ["latest_checkpoint", "list_variables", "load_variable", "load_checkpoint",
                          "get_checkpoint_state", "checkpoint_exists", "ExponentialMovingAverage",
                          "CheckpointManager", "Checkpoint"], _tf.train)

from . import summary_v2 as summary  # noqa: E402  (TF2's tf.summary; tf.compat.v1.summary is TF 1.x's)
if hasattr(_tf, "keras"):
    keras = _tf.keras
    if hasattr(_tf.keras, "optimizers"):
        optimizers = _tf.keras.optimizers

compat = _tf.compat
_sys.modules["tideflow.compat.v2"] = _sys.modules[__name__]

del _name, _ns


def __getattr__(name):
    if name in _LAZY:  # a protobuf class (tideflow's __getattr__ builds it on first use)
        value = globals()[name] = getattr(_tf, name)
        return value
    raise AttributeError("module 'tideflow.v2' has no attribute %r" % name)
