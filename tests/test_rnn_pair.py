"""Note [LSTM steps on a pair] (cpp/ops/rnn.cc) and Note [spinning partner] (cpp/spin_pair.cc): with two
threads a small LSTM step is shared with a spinning partner thread, and the numbers are the one-thread
numbers bit for bit, forward and gradients, whichever thread ends up running which half; once the loop is
over the partner stops spinning, and sessions do not add threads."""
import os
import time

import numpy as np
import pytest

import tideflow as tf
from tideflow import _core


def _graph(B, T, I, H, dtype, cell_kind, wrt):
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(dtype, [B, T, I])
        if cell_kind == "basic":
            cell = tf.nn.rnn_cell.BasicLSTMCell(H)
        else:  # peepholes, a clipped cell and a projection: h_prev is narrower than the cell
            cell = tf.nn.rnn_cell.LSTMCell(H, use_peepholes=True, cell_clip=0.5, num_proj=40)
        outs, st = tf.nn.dynamic_rnn(cell, x, dtype=dtype)
        loss = tf.reduce_sum(tf.square(st.h)) + tf.reduce_sum(st.c) + tf.reduce_sum(outs * 0.5)
        weights = {"x": [x], "w": cell.trainable_weights, "both": [x] + cell.trainable_weights}[wrt]
        grads = tf.gradients(loss, weights)
        init = tf.global_variables_initializer()
    return g, x, [st.h, st.c] + grads, init


def _run(threads, shape, dtype=tf.float32, cell_kind="basic", wrt="both", runs=1, seed=0):
    B, T, I, H = shape
    g, x, fetches, init = _graph(B, T, I, H, dtype, cell_kind, wrt)
    xv = np.random.RandomState(seed).uniform(-1, 1, (B, T, I)).astype(dtype.as_numpy_dtype)
    cfg = tf.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads)
    with tf.Session(graph=g, config=cfg) as sess:
        sess.run(init)
        return [sess.run(fetches, {x: xv}) for _ in range(runs)]


# Each step is over the pair's 1M multiply-adds and below the 16M of a pool split. The second has an odd
# batch (the caller takes 16 rows, the partner 17); the third peepholes, a clip and a projection (K = 100,
# h_prev 40 wide); the fourth float64.
CASES = [((64, 3, 28, 128), tf.float32, "basic", "w"),
         ((33, 2, 64, 128), tf.float32, "basic", "both"),
         ((48, 2, 60, 64), tf.float32, "lstm", "both"),
         ((64, 2, 28, 64), tf.float64, "basic", "both"),
         ((64, 2, 28, 64), tf.float32, "basic", "x")]


@pytest.mark.parametrize("shape,dtype,cell_kind,wrt", CASES)
def test_pair_gives_the_one_thread_bits(shape, dtype, cell_kind, wrt):
    one = _run(1, shape, dtype, cell_kind, wrt)[0]
    # Which thread runs a half depends on timing (the partner may be asleep or preempted): every run must
    # give the same bits, with the halves left to the partner and with whoever comes first.
    _core._pair_force_partner(True)
    try:
        before = _core._pair_runs()
        forced = _run(2, shape, dtype, cell_kind, wrt)
        after = _core._pair_runs()
    finally:
        _core._pair_force_partner(False)
    assert after[0] > before[0] and after[1] == before[1], (before, after)  # the partner ran every half
    for two in forced + _run(2, shape, dtype, cell_kind, wrt, runs=3):
        assert len(two) == len(one)
        for a, b in zip(one, two):
            np.testing.assert_array_equal(a, b)


def test_one_thread_never_pairs():
    before = _core._pair_runs()
    _run(1, (64, 2, 28, 128), runs=2)
    assert _core._pair_runs() == before


def _threads():
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_partner_stops_spinning_after_the_loop_and_threads_stay_flat():
    _run(2, (64, 3, 28, 128), runs=2)
    threads = _threads()
    time.sleep(0.05)  # the partner polls for 0.2 ms after its last half, then sleeps
    t0, c0 = time.perf_counter(), time.process_time()
    time.sleep(0.3)
    idle_cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    # A core left polling would be charged about the whole 0.3 s.
    assert idle_cpu < 0.1 * wall, (idle_cpu, wall)
    for _ in range(3):
        _run(2, (64, 2, 28, 128))
    assert _threads() <= threads


def test_two_loops_at_once_share_one_partner():
    """Two sessions' loops in two Python threads: one holds the partner, the other's pairs run both halves
    on its own thread; both give the one-thread bits."""
    import threading
    shape = (64, 3, 28, 128)
    one = _run(1, shape)[0]
    results, errors = [], []

    def work():
        try:
            results.extend(_run(2, shape, runs=3))
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)
    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(results) == 6
    for two in results:
        for a, b in zip(one, two):
            np.testing.assert_array_equal(a, b)
