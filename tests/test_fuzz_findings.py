"""Classes the long fuzz runs and the sanitizer runs found (issue 15), each hunted across the ops it can
reach rather than only at the case that showed it.

Empty outputs over huge outer extents (Note [empty outputs return early]): the 1,000,000-case graph run
found DepthToSpace([1, 2, 2, 0], block_size=10**6) hanging (4 * 10^12 empty pixels walked); BiasAdd,
TopKV2 (and tf.sort on it), MaxPool, AvgPool and their gradients, BiasAddGrad on a [10^12, 0]-like input
did the same; in a -O1 build (the sanitizer builds) so did MatrixDiag/DiagPart/SetDiag/BandPart, whose
empty inner loops -O3 happens to delete; GatherNd/ScatterNd with depth-0 index vectors built a table of
10^12 offsets. Every case below has zero elements in its output and huge dims beside the zero; each must
run at once."""
import os
import selectors
import subprocess
import sys
import time

import pytest

import tideflow as tf
from conftest import SANITIZED

_TIDEFLOW_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))
T = 10**12
M = 10**6

# name -> expression over ph(shape) (a float32 placeholder of unknown dims, fed zeros of `shape`; iph: int32)
EMPTY_OVER_HUGE = {
    "depth_to_space": "tf.nn.depth_to_space(ph([1, 2, 2, 0]), M)",
    "depth_to_space_grad": "tf.gradients(tf.nn.depth_to_space(ph([1, 2, 2, 0]), M), shapes[0][0])[0]",
    "space_to_depth": "tf.nn.space_to_depth(ph([1, 2 * M, 2 * M, 0]), M)",
    "bias_add": "tf.nn.bias_add(ph([T, 0]), ph([0]))",
    "bias_add_grad": "tf.gradients(tf.nn.bias_add(ph([T, 0]), ph([0])), shapes[1][0])[0]",
    "bias_add_grad_nchw": "tf.gradients(tf.nn.bias_add(ph([T, 5, 0]), ph([5]), data_format='NCHW'), "
                          "shapes[1][0])[0]",
    "top_k": "tf.nn.top_k(ph([T, 0]), 0)[0]",
    "sort": "tf.sort(ph([T, 0]))",
    "argsort": "tf.argsort(ph([T, 0]))",
    "max_pool": "tf.nn.max_pool(ph([1, M, M, 0]), [1, 1, 1, 1], [1, 1, 1, 1], 'VALID')",
    "avg_pool": "tf.nn.avg_pool(ph([1, M, M, 0]), [1, 1, 1, 1], [1, 1, 1, 1], 'VALID')",
    "max_pool_grad": "tf.gradients(tf.nn.max_pool(ph([1, M, M, 0]), [1, 1, 1, 1], [1, 1, 1, 1], 'VALID'), "
                     "shapes[0][0])[0]",
    "avg_pool_grad": "tf.gradients(tf.nn.avg_pool(ph([1, M, M, 0]), [1, 1, 1, 1], [1, 1, 1, 1], 'VALID'), "
                     "shapes[0][0])[0]",
    "max_pool_argmax": "tf.nn.max_pool_with_argmax(ph([1, M, M, 0]), [1, 1, 1, 1], [1, 1, 1, 1], 'VALID')[1]",
    "max_pool3d": "tf.nn.max_pool3d(ph([1, M, M, 1, 0]), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], 'VALID')",
    "tile": "tf.tile(ph([0, 1]), [1, T])",
    "pad": "tf.pad(ph([0, 1]), [[M, M], [0, 0]])",
    "broadcast_to": "tf.broadcast_to(ph([1, 0]), [M, M, 0])",
    "transpose": "tf.transpose(ph([M, M, 0]), [2, 0, 1])",
    "reverse": "tf.reverse(ph([M, M, 0]), [0])",
    "concat": "tf.concat([ph([M, M, 0]), ph([M, M, 0])], 0)",
    "strided_slice": "ph([M, M, 0])[::2, ::-1]",
    "cumsum": "tf.cumsum(ph([M, M, 0]), 0)",
    "softmax": "tf.nn.softmax(ph([T, 0]))",
    "log_softmax": "tf.nn.log_softmax(ph([T, 0]))",
    "reduce_sum": "tf.reduce_sum(ph([T, 0]), 0)",
    "argmax": "tf.argmax(ph([T, 0]), 0)",
    "reverse_sequence": "tf.reverse_sequence(ph([M, M, 0]), tf.zeros([M], tf.int64), 1, 0)",
    "matrix_diag": "tf.matrix_diag(ph([T, 0]))",
    "matrix_diag_part": "tf.matrix_diag_part(ph([T, 0, 5]))",
    "batch_matmul": "tf.matmul(ph([T, 0, 5]), ph([T, 5, 0]))",
    "gather": "tf.gather(ph([T, 0]), tf.zeros([0], tf.int32), axis=1)",
    "segment_sum": "tf.math.segment_sum(ph([0, T]), tf.zeros([0], tf.int32))",
    "split": "tf.split(ph([T, 0]), 2, 1)[0]",
    "stack": "tf.stack([ph([T, 0])] * 2, axis=1)",
    "conv2d": "tf.nn.conv2d(ph([1, M, M, 0]), ph([1, 1, 0, 0]), [1, 1, 1, 1], 'VALID')",
    "lrn": "tf.nn.lrn(ph([1, M, M, 0]))",
    "in_top_k": "tf.nn.in_top_k(ph([0, T]), tf.zeros([0], tf.int32), 1)",
    "broadcast_add": "ph([M, 1, 0]) + ph([1, M, 0])",
    "select": "tf.where(tf.zeros([M, M, 0], tf.bool), ph([M, M, 0]), ph([M, M, 0]))",
    "where": "tf.where(tf.zeros([M, M, 0], tf.bool))",
    "roll": "tf.roll(ph([M, M, 0]), 1, 0)",
    "fill": "tf.fill([M, M, 0], 1.0)",
    "random_uniform": "tf.random_uniform([T, 0])",
    "clip": "tf.clip_by_value(ph([T, 0]), 0., 1.)",
    "scatter_nd": "tf.scatter_nd(tf.zeros([0, 1], tf.int64), ph([0, 0]), tf.constant([T, 0], tf.int64))",
    "matrix_band_part": "tf.matrix_band_part(ph([T, 0, 0]), 0, 0)",
    "depthwise_backprop_filter": "tf.nn.depthwise_conv2d_native_backprop_filter(ph([1, 4, 4, 2]), "
                                 "[2**30, 0, 2, 2], ph([1, 4, 4, 4]), [1, 1, 1, 1], 'SAME')",
    "conv2d_backprop_filter": "tf.nn.conv2d_backprop_filter(ph([1, 4, 4, 2]), [2**30, 0, 2, 2], ph([1, 4, 4, 2]), "
                              "[1, 1, 1, 1], 'SAME')",
    "depthwise_conv2d": "tf.nn.depthwise_conv2d_native(ph([M, M, 1, 0]), ph([1, 1, 0, 2]), [1, 1, 1, 1], 'VALID')",
    # index vectors of depth 0 ([T, 0] indices hold no data) made a table of 10^12 offsets
    "gather_nd_k0": "tf.gather_nd(ph([0]), iph([T, 0]))",
    "scatter_nd_k0": "tf.scatter_nd(iph([T, 0]), ph([T, 0]), [0])",
    "scatter_nd_update_k0": "tf.scatter_nd_update(tf.Variable(tf.zeros([0])), iph([T, 0]), ph([T, 0]))",
    "scatter_nd_add_k0": "tf.scatter_nd_add(tf.Variable(tf.zeros([0])), iph([T, 0]), ph([T, 0]))",
}

_SCRIPT = r"""
import sys, numpy as np, tideflow as tf
T, M = 10**12, 10**6
cases = %r
for name, expr in cases.items():
    print("B " + name, flush=True)
    with tf.Graph().as_default():
        shapes = []
        def ph(shape, dtype=tf.float32):
            p = tf.placeholder(dtype, [None] * len(shape))
            shapes.append((p, shape))
            return p
        def iph(shape):
            return ph(shape, tf.int32)
        try:
            y = eval(expr)
            with tf.Session() as s:
                s.run(tf.global_variables_initializer())
                out = s.run(y, {p: np.zeros(sh, p.dtype.as_numpy_dtype) for p, sh in shapes})
            outcome = "ok %%s" %% (getattr(out, "shape", None),)
            if name == "bias_add_grad_nchw" and out.tolist() != [0.0] * 5:  # the sums of nothing
                outcome = "wrong %%s" %% out.tolist()
        except (ValueError, TypeError, tf.errors.OpError) as e:
            outcome = "typed %%s" %% type(e).__name__
    print("E %%s %%s" %% (name, outcome), flush=True)
"""


def test_empty_outputs_over_huge_extents_finish_at_once():
    env = dict(os.environ, PYTHONPATH=_TIDEFLOW_PARENT)
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT % EMPTY_OVER_HUGE], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    # Each case takes milliseconds; a minute is a hang even on a loaded machine. The first wait includes
    # importing tideflow, which under a sanitizer (instrumented core, preloaded runtimes) takes far longer.
    per_case = 300.0 if SANITIZED else 60.0
    started, outcomes = None, {}
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    last = time.monotonic()
    try:
        while True:
            if not sel.select(timeout=1.0):
                if time.monotonic() - last > per_case:
                    pytest.fail("hang: %s did not finish in %gs" % (started, per_case))
                continue
            line = proc.stdout.readline()
            if not line:
                break
            last = time.monotonic()
            kind, name, *rest = line.split(" ", 2)
            if kind == "B":
                started = name.strip()
            else:
                outcomes[name] = rest[0].strip() if rest else ""
                started = None
    finally:
        proc.kill()
        proc.wait()
    assert started is None, "crashed in %s: %s" % (started, proc.stderr.read()[-2000:])
    assert set(outcomes) == set(EMPTY_OVER_HUGE), proc.stderr.read()[-2000:]
    oks = {n for n, o in outcomes.items() if o.startswith("ok")}
    # The cases are meant to run: most must, and each of the found ones must.
    for name in ("depth_to_space", "depth_to_space_grad", "space_to_depth", "bias_add", "bias_add_grad",
                 "top_k", "sort", "argsort", "max_pool", "avg_pool", "max_pool_grad", "avg_pool_grad",
                 "gather_nd_k0", "scatter_nd_k0", "scatter_nd_update_k0", "depthwise_backprop_filter"):
        assert name in oks, (name, outcomes[name])
    assert oks == set(EMPTY_OVER_HUGE), {n: o for n, o in outcomes.items() if n not in oks}


def test_sequence_mask_keeps_a_wide_maxlen():
    """maxlen's dtype is the authority (TensorFlow's rule): an int64 maxlen beyond int32 was cast to the
    lengths' int32 and wrapped (2**32 + 2 became 2: a silently narrow mask; 10**12 a negative limit)."""
    with tf.Graph().as_default():
        m = tf.sequence_mask([1, 2, 3], 2**32 + 2)
        assert m.shape.as_list() == [3, 2**32 + 2]
        lengths = tf.placeholder(tf.int32, [None])
        narrow = tf.sequence_mask(lengths, tf.constant(4, tf.int64))
        with tf.Session() as s:
            assert s.run(narrow, {lengths: [0, 2, 5]}).tolist() == [[False] * 4, [True, True, False, False],
                                                                   [True] * 4]
            with pytest.raises(tf.errors.ResourceExhaustedError):  # a range of 10**12, as in TensorFlow
                s.run(tf.sequence_mask(lengths, 10**12), {lengths: [1]})


def test_reshape_of_shapes_beyond_int64():
    """UBSan (tools/sanitize.sh asan) found num_elements overflowing on [2^40, 2^40] static shapes, in the
    plan and in Reshape's shape function, where the wrapped product (2^80 mod 2^64 = 0) inferred a
    static dim of 0. Now the count saturates (cpp/shape.h) and Reshape's products are checked."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2**40, 2**40])
        assert tf.reshape(x, [-1, 2]).shape.as_list() == [None, 2]
        with pytest.raises(ValueError, match="too many elements"):
            tf.reshape(tf.placeholder(tf.float32, [None]), [2**40, 2**40, -1])
        with pytest.raises(ValueError, match="too many elements"):
            tf.reshape(tf.placeholder(tf.float32, [None]), [2**40, 2**40])
        with pytest.raises((ValueError, tf.errors.OpError)):
            with tf.Session() as s:
                s.run(tf.reshape(x, [-1]))


def test_tile_output_dims_that_overflow_int64():
    """The 1,000,000-case eager fuzz run (seed 17) crashed on Tile([40, 50] bool, multiples [2**62, 1]):
    40 * 2**62 wraps to 0, so the static shape claimed (0, 50) and the kernel walked 2**62 tiles into an
    empty output. Both products are checked now: ValueError at build, InvalidArgumentError at run."""
    with tf.Graph().as_default():
        x = tf.constant([[1.0, 2.0]] * 40)
        with pytest.raises(ValueError, match="overflows"):
            tf.tile(x, tf.constant([2**62, 1], tf.int64))
        m = tf.placeholder(tf.int64, [2])
        y = tf.tile(x, m)
        with tf.Session() as s:
            with pytest.raises(tf.errors.InvalidArgumentError, match="overflows"):
                s.run(y, {m: [2**62, 1]})
            assert s.run(y, {m: [2, 1]}).shape == (80, 2)


def test_strided_slice_masks_are_int32_and_ranks_may_pass_64():
    """UBSan (tools/sanitize.sh asan, in tests/test_attr_audit.py) found StridedSlice's shape function
    computing `ellipsis_mask - 1` on -2**63; the masks' bits were `1LL << i`, undefined from the 64th sparse
    index or dense dim on. TensorFlow reads the masks as int32 (Note [slice masks are int32])."""
    import numpy as np
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2, 3])
        for attr, v in (("ellipsis_mask", -2**63), ("begin_mask", 2**31), ("shrink_axis_mask", -2**31 - 1)):
            with pytest.raises(ValueError, match="%s has value %d out of range for an int32" % (attr, v)):
                tf.strided_slice(x, [0], [1], [1], **{attr: v})
        # -2**31 is an int32: its one bit (31) names no index of a 1-index spec, as an implicit ellipsis.
        y = tf.strided_slice(x, [0], [1], [1], ellipsis_mask=-2**31)
        assert y.shape.as_list() == [1, 3]
        # 70 indices: bits 0..31 are new axes, the 38 after them index a rank-2 tensor.
        with pytest.raises(ValueError, match="Index out of range"):
            tf.strided_slice(x, [0] * 70, [1] * 70, [1] * 70, new_axis_mask=-1)
        v = tf.placeholder(tf.float32, [3])
        big = tf.reshape(v, [1] * 69 + [3])  # rank 70: dense masks past bit 63 (NumPy stops at 64 dims)
        z = tf.strided_slice(big, [0] * 70, [1] * 69 + [2], [1] * 70, end_mask=1 << 5)
        assert z.shape.as_list() == [1] * 69 + [2]
        with tf.Session() as s:
            xv = np.arange(6, dtype=np.float32).reshape(2, 3)
            assert s.run(y, {x: xv}).tolist() == [[0.0, 1.0, 2.0]]
            assert s.run(tf.reshape(z, [-1]), {v: [5.0, 6.0, 7.0]}).tolist() == [5.0, 6.0]
