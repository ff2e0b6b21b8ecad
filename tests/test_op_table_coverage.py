"""Every registered op is tested: it is built by some op-table row (tests/op_table/, whose forward values are
checked against NumPy and gradients by finite differences), or it is a gradient op that the float64 gradient
check of a row builds, or it has a named exemption below saying where it is tested instead."""
import numpy as np
import pytest

import tideflow as tf
from op_table import ROWS

# Ops no row builds, and where each is checked instead. Keep each reason true: an op that a row builds
# must leave this list (test_exemptions_are_current).
_OPTIMIZERS = "a fused optimizer update of variables: tests/test_optimizers.py (NumPy versions of TF's training_ops, and TF)"
_SCATTER = "updates a variable in place: tests/test_state_scatter.py (NumPy reference per kind, errors, threads)"
_RANDOM = "random draws: tests/test_random.py (TensorFlow's exact numbers for the same seeds, moments, errors)"
_ARRAY_MORE = "integer results or data-dependent shapes: tests/test_array_more.py (NumPy values, errors)"
_SUMMARY = "serialized Summary protos: tests/test_summary.py (TensorBoard's protobuf classes, TF's kernels)"
EXEMPT = {
    "Placeholder": "fed, not computed: every row feeds its inputs through placeholders",
    "VariableV2": "state, not a function of inputs: tests/test_scopes.py, test_session.py, test_saver.py",
    "Assign": "variable update: tests/test_session.py (assign through placeholders, two sessions)",
    "AssignAdd": "variable update: tests/test_session.py",
    "AssignSub": "variable update: tests/test_session.py",
    "InitializedValue": "reads a variable, initializing it first: tests/test_session.py, test_optimizers.py",
    "IsVariableInitialized": "session state: tests/test_session.py",
    "ReportUninitialized": "session state: tests/test_session.py",
    "CountUpTo": "variable update: tests/test_state_scatter.py",
    "NoOp": "no output (tf.group, tf.no_op): tests/test_session.py, test_graph.py",
    "Assert": "no output; fails a step: tests/test_debug_ops.py (TensorFlow's messages)",
    "PrintV2": "writes to a stream: tests/test_debug_ops.py (TensorFlow's formatting)",
    "StringFormat": "string output: tests/test_debug_ops.py",
    "PyFunc": "runs Python: tests/test_py_func.py",
    "PyFuncStateless": "runs Python: tests/test_py_func.py",
    "EagerPyFunc": "runs Python: tests/test_py_func.py",
    "ScalarSummary": _SUMMARY,
    "HistogramSummary": _SUMMARY,
    "ImageSummary": _SUMMARY,
    "TensorSummaryV2": _SUMMARY,
    "MergeSummary": _SUMMARY,
    "RandomUniform": _RANDOM,
    "RandomUniformInt": _RANDOM,
    "RandomStandardNormal": _RANDOM,
    "TruncatedNormal": _RANDOM,
    "RandomShuffle": _RANDOM,
    "Multinomial": _RANDOM,
    "Bincount": _ARRAY_MORE,
    "BroadcastArgs": _ARRAY_MORE,
    "HistogramFixedWidth": _ARRAY_MORE,
    "InTopKV2": _ARRAY_MORE,
    "ListDiff": _ARRAY_MORE,
    "LowerBound": _ARRAY_MORE,
    "UpperBound": _ARRAY_MORE,
    "Unique": _ARRAY_MORE,
    "UniqueWithCounts": _ARRAY_MORE,
    "UnravelIndex": _ARRAY_MORE,
    "InvertPermutation": "integer permutation: tests/test_array_ops.py",
    "GatherLastAxis": "TopKGrad's adjoint, built by top_k's second-order gradient: tests/test_array_more.py",
    **{op: _SCATTER for op in ("ScatterUpdate", "ScatterAdd", "ScatterSub", "ScatterMul", "ScatterDiv",
                               "ScatterMin", "ScatterMax", "ScatterNdUpdate", "ScatterNdAdd", "ScatterNdSub",
                               "ScatterNdMin", "ScatterNdMax")},
    **{op: _OPTIMIZERS for op in ("ApplyGradientDescent", "ApplyMomentum", "ApplyAdam", "ApplyAdagrad",
                                  "ApplyRMSProp", "ApplyCenteredRMSProp", "ApplyAdadelta", "ApplyFtrl",
                                  "ApplyFtrlV2", "ApplyProximalGradientDescent", "ApplyProximalAdagrad")},
    "ApplyAdagradDA": "a fused optimizer update of variables: tests/test_adagrad_da.py (NumPy and TF)",
    **{op: "TensorFlow's older name for FusedBatchNormV3/GradV3 (same shape function and kernel, rows in "
           "tests/op_table/conv.py), registered for imported TensorFlow graphs"
       for op in ("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormGrad", "FusedBatchNormGradV2")},
    **{op: "control flow, built by tf.cond / tf.while_loop around traced frames, not from plain inputs: "
           "tests/test_control_flow.py, test_functional_ops.py, test_control_flow_tf.py (NumPy, closed forms, finite "
           "differences, TensorFlow)" for op in ("If", "While", "WhileGrad")},
    "_Arg": "a loop variable's view inside a while body (fed by the While kernel): tests/test_control_flow.py",
    **{op: "a collective over MPI ranks: tests/test_horovod.py launches mpiexec -n 2 (NumPy, gradients, fusion, "
           "mismatches)" for op in ("HorovodAllreduce", "HorovodAllgather", "HorovodBroadcast")},
    **{op: "random draws of candidate classes: tests/test_candidate_sampling.py (TensorFlow's exact numbers and "
           "expected counts for the same seeds, NumPy formulas, errors)"
       for op in ("UniformCandidateSampler", "LogUniformCandidateSampler", "LearnedUnigramCandidateSampler",
                  "FixedUnigramCandidateSampler", "AllCandidateSampler")},
    "ComputeAccidentalHits": "integer results of data-dependent length: tests/test_candidate_sampling.py (NumPy)",
    "BroadcastGradientArgs": "the reduction indices of TensorFlow's gradient graphs: tests/test_tf_files.py "
                             "(against TensorFlow's results)",
}

# Gradient ops no row builds forward: the float64 finite-difference check of the named row builds them
# (and so checks their values). test_gradient_only_ops_are_built_by_their_rows keeps this true.
GRADIENT_ONLY = {
    "GatherGrad": "gather_axis0",
    "SliceGrad": "slice",
    "StridedSliceGrad": "getitem_basic",
    "TileGrad": "tile",
    "TopKGrad": "top_k",
    "ConcatOffset": "concat_axis1",
    "AvgPool3DGrad": "avg_pool3d",
    "LRNGrad": "lrn",
    "LSTMBlockCellGradFused": "lstm_block_cell_grad",
}


def _op_types(build):
    """The op types a function adds to a fresh graph."""
    g = tf.Graph()
    with g.as_default():
        first = build()
        return {op.type for op in g.get_operations()[first:]}


def _placeholders(arrays):
    phs = [tf.placeholder(tf.as_dtype(a.dtype), shape=a.shape) for a in arrays]
    return phs, len(tf.get_default_graph().get_operations())


def _forward(row, shapes, dt):
    arrays = row.inputs(np.random.RandomState(0), shapes, dt)

    def build():
        phs, n = _placeholders(arrays)
        row.build(tf, *phs)
        return n
    return _op_types(build)


def _backward(row, shapes):
    arrays = row.inputs(np.random.RandomState(1), shapes, "float64")

    def build():
        phs, _ = _placeholders(arrays)
        out = row.build(tf, *phs)
        which = row.grad_inputs if row.grad_inputs is not None else [
            i for i, a in enumerate(arrays) if a.dtype == np.float64]
        n = len(tf.get_default_graph().get_operations())
        tf.gradients(out, [phs[i] for i in which])
        return n
    return _op_types(build)


@pytest.fixture(scope="module")
def built():
    """(op type -> first row building it forward, op type -> rows whose gradient check builds it)."""
    forward, backward = {}, {}
    for row in ROWS:
        for shapes in row.shapes:  # ops may depend on rank (MatMul / BatchMatMulV2) and dtype (Round)
            for dt in row.dtypes:
                for t in _forward(row, shapes, dt):
                    forward.setdefault(t, row.name)
        if row.grad and "float64" in row.dtypes:
            for shapes in row.shapes:
                if all(int(np.prod(s)) > 0 for s in shapes):  # test_ops_gradients skips empty samples
                    for t in _backward(row, shapes):
                        backward.setdefault(t, set()).add(row.name)
    return forward, backward


def test_every_registered_op_is_tested(built):
    forward, _ = built
    registered = set(tf._core.registered_ops())
    missing = sorted(registered - set(forward) - set(EXEMPT) - set(GRADIENT_ONLY))
    assert not missing, ("registered ops without an op-table row (tests/op_table/) or a named exemption in "
                         "this file: %s" % missing)


def test_exemptions_are_current(built):
    forward, _ = built
    registered = set(tf._core.registered_ops())
    for table in (EXEMPT, GRADIENT_ONLY):
        assert not set(table) - registered, "no such op: %s" % sorted(set(table) - registered)
        rowed = {op: forward[op] for op in table if op in forward}
        assert not rowed, "now built by an op-table row, so drop the exemption: %s" % rowed
    assert not set(EXEMPT) & set(GRADIENT_ONLY)


def test_gradient_only_ops_are_built_by_their_rows(built):
    _, backward = built
    wrong = {op: sorted(backward.get(op, ())) for op, row in GRADIENT_ONLY.items() if row not in backward.get(op, ())}
    assert not wrong, "the named row's gradient check does not build these (rows that do): %s" % wrong
