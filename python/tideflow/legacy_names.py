"""Names TensorFlow dropped at 1.0 that older programs and articles still call: tf.mul, tf.sub, tf.neg,
tf.pack, tf.select, tf.batch_matmul, tf.listdiff, tf.inv, tf.op_scope, tf.initialize_local_variables, the
pre-1.0 summary functions (tf.scalar_summary, tf.merge_all_summaries, ...) and tf.train.SummaryWriter, with
the semantics of TensorFlow 0.12, the last version that had them. (tf.initialize_all_variables, tf.unpack,
tf.arg_max, tf.all_variables are TF 1.x names and live with their modern forms.)"""
from .framework import dtypes as _dtypes
from .framework import ops as _ops
from .framework.ops import GraphKeys
from .ops import array_ops, linalg_ops, math_ops, state_ops
from .ops import gen_ops
from . import summary as _summary

__all__ = ["mul", "sub", "neg", "pack", "select", "batch_matmul", "listdiff", "inv", "op_scope",
           "initialize_local_variables", "scalar_summary", "histogram_summary", "image_summary", "merge_summary",
           "merge_all_summaries"]  # and SummaryWriter, which is tf.train.SummaryWriter


def mul(x, y, name=None):
    """TF 0.12's tf.mul: tf.multiply."""
    return math_ops.multiply(x, y, name=name)


def sub(x, y, name=None):
    """TF 0.12's tf.sub: tf.subtract."""
    return math_ops.subtract(x, y, name=name)


def neg(x, name=None):
    """TF 0.12's tf.neg: tf.negative."""
    return gen_ops.negative(x, name=name)


def pack(values, axis=0, name="pack"):
    """TF 0.12's tf.pack: tf.stack (its node named "pack")."""
    return array_ops.stack(values, axis=axis, name=name)


def select(condition, t, e, name=None):
    """TF 0.12's tf.select: tf.where with both branches."""
    return math_ops.where(condition, t, e, name=name)


def batch_matmul(x, y, adj_x=None, adj_y=None, name=None):
    """TF 0.12's tf.batch_matmul: tf.matmul over leading batch dims, with adjoints."""
    return linalg_ops.matmul(x, y, adjoint_a=bool(adj_x), adjoint_b=bool(adj_y), name=name)


def listdiff(x, y, out_idx=_dtypes.int32, name=None):
    """TF 0.12's tf.listdiff: tf.setdiff1d."""
    return array_ops.setdiff1d(x, y, index_dtype=out_idx, name=name)


def inv(x, name=None):
    """TF 0.12's tf.inv: tf.reciprocal."""
    return gen_ops.reciprocal(x, name=name)


def op_scope(values, name, default_name=None):
    """TF 0.12's tf.op_scope(values, name, default_name): tf.name_scope(name, default_name, values)."""
    return _ops.name_scope(name, default_name, values)


def initialize_local_variables():
    """TF 0.12's tf.initialize_local_variables: tf.local_variables_initializer."""
    return state_ops.local_variables_initializer()


def _collect(val, collections, default):
    for key in default if collections is None else collections:
        _ops.add_to_collection(key, val)


def scalar_summary(tags, values, collections=None, name=None):
    """TF 0.12's summary of scalars: `tags` (a string or string tensor) and `values` of one shape, one
    value per element; the tags are used as given (no name scope prefix, unlike tf.summary.scalar)."""
    with _ops.name_scope(name, "ScalarSummary", [tags, values]) as scope:
        tags = _ops.convert_to_tensor(tags, dtype=_dtypes.string, name="tags")
        val = _ops.apply1("ScalarSummary", [tags, _ops.convert_to_tensor(values, name="values")], name=scope)
        _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def histogram_summary(tag, values, collections=None, name=None):
    """TF 0.12's histogram summary: `tag` as given."""
    with _ops.name_scope(name, "HistogramSummary", [tag, values]) as scope:
        tag = _ops.convert_to_tensor(tag, dtype=_dtypes.string, name="tag")
        val = _ops.apply1("HistogramSummary", [tag, _ops.convert_to_tensor(values, name="values")], name=scope)
        _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def image_summary(tag, tensor, max_images=3, collections=None, name=None):
    """TF 0.12's image summary: `tag` as given, tags 'tag/image/0'..."""
    with _ops.name_scope(name, "ImageSummary", [tag, tensor]) as scope:
        tag = _ops.convert_to_tensor(tag, dtype=_dtypes.string, name="tag")
        val = _ops.apply1("ImageSummary", [tag, _ops.convert_to_tensor(tensor, name="tensor")],
                          {"max_images": int(max_images)}, name=scope)
        _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def merge_summary(inputs, collections=None, name=None):
    """TF 0.12's tf.merge_summary: tf.summary.merge."""
    return _summary.merge(inputs, collections=collections, name=name)


def merge_all_summaries(key=GraphKeys.SUMMARIES):
    """TF 0.12's tf.merge_all_summaries: tf.summary.merge_all (None when there is no summary)."""
    return _summary.merge_all(key)


class SummaryWriter(_summary.FileWriter):
    """TF 0.12's tf.train.SummaryWriter: tf.summary.FileWriter, flushing every two minutes by default as
    it did."""

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None):
        super().__init__(logdir, graph=graph, max_queue=max_queue, flush_secs=flush_secs, graph_def=graph_def)
