"""Issue 15's leak bounds: many Session.run calls and many graph + session + FileWriter lifecycles leave
resident memory, threads and file descriptors flat.

The issue's sizes are 100,000 runs and 1,000 lifecycles. The normal suite runs a fifth and three tenths
of them (about 5 s); TIDEFLOW_LONG_TESTS=1 runs the full sizes (about 25 s on a loaded 2-core machine).
The bounds are stated per size: a leak of one run's tensors (32 KB) would add 640 MB at 20,000 runs, one
graph's worth per lifecycle tens of MB at 300, so the margins below catch any per-call leak while allowing
the allocator's and interpreter's one-time growth."""
import gc
import os
import threading

import numpy as np
import pytest

import tideflow as tf

LONG = os.environ.get("TIDEFLOW_LONG_TESTS", "") not in ("", "0")
RUNS = 100_000 if LONG else 20_000
LIFECYCLES = 1_000 if LONG else 300


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _fds():
    return len(os.listdir("/proc/self/fd"))


def _report(name, n, before, after):
    # printed so that `pytest -s` shows the figures of a long run
    print("%s: %d iterations, RSS %+.2f MB, threads %d -> %d, fds %d -> %d"
          % (name, n, (after[2] - before[2]) / 2**20, before[0], after[0], before[1], after[1]))


@pytest.mark.not_sanitized("ASan's quarantine of freed memory and its shadow pages grow resident memory")
def test_many_runs_keep_memory_threads_fds_flat():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [64, 64])
        w = tf.Variable(np.eye(64, dtype=np.float32))
        y = tf.reduce_sum(tf.matmul(x, w) * 0.5)
        train = tf.assign_add(w, tf.zeros([64, 64]))
        xv = np.ones((64, 64), np.float32)
        with tf.Session() as s:
            s.run(w.initializer)
            for _ in range(2000):  # the allocator's and the plan cache's one-time growth
                s.run([y, train], {x: xv})
            gc.collect()
            before = threading.active_count(), _fds(), _rss()
            for _ in range(RUNS):
                s.run([y, train], {x: xv})
            gc.collect()
            after = threading.active_count(), _fds(), _rss()
    _report("runs", RUNS, before, after)
    # Each run moves about 32 KB of tensors; leaking one run's worth would add RUNS * 32 KB (640 MB or more).
    assert after[2] - before[2] < 8 << 20, "RSS grew by %.1f MB over %d runs" % ((after[2] - before[2]) / 2**20, RUNS)
    assert after[0] <= before[0] and after[1] <= before[1], (before, after)


@pytest.mark.not_sanitized("ASan's quarantine of freed memory and its shadow pages grow resident memory")
def test_graph_session_filewriter_lifecycles_keep_memory_threads_fds_flat(tmp_path):
    def life(i):
        with tf.Graph().as_default() as g:
            v = tf.Variable(float(i), name="v")
            s = tf.summary.scalar("v", v)
            with tf.Session() as sess:
                sess.run(v.initializer)
                w = tf.summary.FileWriter(str(tmp_path / ("run%d" % (i % 3))), g)
                w.add_summary(sess.run(s), i)
                w.close()

    for i in range(30):
        life(i)
    gc.collect()
    before = threading.active_count(), _fds(), _rss()
    for i in range(LIFECYCLES):
        life(i)
    gc.collect()
    after = threading.active_count(), _fds(), _rss()
    _report("lifecycles", LIFECYCLES, before, after)
    assert after[0] <= before[0], "threads %d -> %d" % (before[0], after[0])
    assert after[1] <= before[1], "file descriptors %d -> %d" % (before[1], after[1])
    assert after[2] - before[2] < 16 << 20, \
        "RSS grew by %.1f MB over %d lifecycles" % ((after[2] - before[2]) / 2**20, LIFECYCLES)
