"""RunOptions(trace_level=FULL_TRACE) fills RunMetadata.step_stats with the executor's node timings (Note
[step stats] in cpp/executor.cc), and tensorflow.python.client.timeline turns them into a Chrome trace; the
step stats are TensorFlow's proto, so TensorFlow's own timeline module reads them too."""
import json
import time

import numpy as np
import pytest

import tideflow as tf
from tideflow.python.client import timeline

CPU = "/job:localhost/replica:0/task:0/device:CPU:0"


def _graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 16], name="x")
        w = tf.Variable(tf.ones([16, 8]), name="w")
        y = tf.tanh(tf.matmul(x, w, name="mm"), name="out")
        init = tf.global_variables_initializer()
    return g, x, y, init


def _traced(level=tf.RunOptions.FULL_TRACE, threads=1):
    g, x, y, init = _graph()
    cfg = tf.ConfigProto(inter_op_parallelism_threads=threads, intra_op_parallelism_threads=threads)
    with tf.Session(graph=g, config=cfg) as s:
        s.run(init)
        md = tf.RunMetadata()
        t0 = time.time()
        out = s.run(y, {x: np.ones((4, 16), np.float32)}, options=tf.RunOptions(trace_level=level), run_metadata=md)
        t1 = time.time()
        plain = s.run(y, {x: np.ones((4, 16), np.float32)})
    np.testing.assert_array_equal(out, plain)
    return md, t0, t1


@pytest.mark.parametrize("threads", [1, 2])
def test_full_trace_records_each_node(threads):
    md, t0, t1 = _traced(threads=threads)
    assert len(md.step_stats.dev_stats) == 1 and md.step_stats.dev_stats[0].device == CPU
    stats = {n.node_name: n for n in md.step_stats.dev_stats[0].node_stats}
    assert {"mm", "out", "w/read"} <= set(stats)
    mm = stats["mm"]
    assert mm.timeline_label == "mm = MatMul(x, w/read)"
    assert int(t0 * 1e6) - 1000 <= mm.all_start_micros <= int(t1 * 1e6) + 1000
    assert mm.op_end_rel_micros == mm.all_end_rel_micros >= 0
    assert stats["out"].all_start_micros >= mm.all_start_micros + mm.all_end_rel_micros  # tanh after its input


def test_no_trace_without_a_trace_level():
    md, _, _ = _traced(level=tf.RunOptions.NO_TRACE)
    assert len(md.step_stats.dev_stats) == 0


def test_loop_bodies_are_traced_per_iteration():
    with tf.Graph().as_default():
        m = tf.constant(np.eye(4, dtype=np.float32) * 0.5)
        _, r = tf.while_loop(lambda i, v: i < 5, lambda i, v: (i + 1, tf.matmul(v, m, name="step")),
                             [tf.constant(0), tf.ones([4, 4])])
        with tf.Session() as s:
            md = tf.RunMetadata()
            out = s.run(r, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=md)
    np.testing.assert_allclose(out, np.full((4, 4), 0.5 ** 5))
    ops = [n.timeline_label.split(" = ")[1].split("(")[0] for n in md.step_stats.dev_stats[0].node_stats]
    assert ops.count("MatMul") == 5


def test_chrome_trace():
    md, _, _ = _traced()
    trace = json.loads(timeline.Timeline(md.step_stats).generate_chrome_trace_format())
    names = {e["args"]["name"]: e for e in trace["traceEvents"] if e["ph"] == "X"}
    assert names["mm"]["name"] == "MatMul" and names["mm"]["cat"] == "Op"
    assert names["mm"]["args"] == {"name": "mm", "op": "MatMul", "input0": "x", "input1": "w/read"}
    procs = [e["args"]["name"] for e in trace["traceEvents"] if e["ph"] == "M"]
    assert procs == [CPU + " Compute", CPU + " Tensors"]
    analysis = timeline.Timeline(md.step_stats).analyze_step_stats()
    assert analysis.allocator_maximums == {} and "traceEvents" in analysis.chrome_trace.format_to_string()


def test_tensorflows_timeline_reads_the_step_stats():
    pytest.importorskip("tensorflow")
    from tensorflow.core.framework import step_stats_pb2
    from tensorflow.python.client import timeline as tf_timeline
    md, _, _ = _traced()
    theirs = step_stats_pb2.StepStats.FromString(md.step_stats.SerializeToString())
    trace = json.loads(tf_timeline.Timeline(theirs).generate_chrome_trace_format(show_dataflow=False))
    ops = {e["args"]["name"]: e["name"] for e in trace["traceEvents"] if e.get("ph") == "X"}
    assert ops["mm"] == "MatMul" and ops["out"] == "Tanh"


def test_callable_with_options():
    g, x, y, init = _graph()
    with tf.Session(graph=g) as s:
        s.run(init)
        f = s.make_callable(y, [x], accept_options=True)
        md = tf.RunMetadata()
        out = f(np.ones((2, 16), np.float32), options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                run_metadata=md)
        np.testing.assert_allclose(out, np.tanh(np.full((2, 8), 16.0)))
        assert "mm" in {n.node_name for n in md.step_stats.dev_stats[0].node_stats}
        plain = s.make_callable(y, [x])
        with pytest.raises(TypeError, match="options"):
            plain(np.ones((2, 16), np.float32), options=tf.RunOptions())
