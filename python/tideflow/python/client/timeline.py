"""tensorflow.python.client.timeline: a Chrome trace (chrome://tracing, Perfetto) of a traced step.

    run_metadata = tf.RunMetadata()
    sess.run(train_op, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=run_metadata)
    trace = timeline.Timeline(run_metadata.step_stats).generate_chrome_trace_format()

One "X" event per node run (category "Op", named by the op type, args the node name, op and inputs, parsed
from NodeExecStats.timeline_label as TensorFlow's module does) on a process per device ("<device> Compute")
and a thread per executor thread. tideflow records no tensor allocations, so the dataflow arrows and memory
counters of TensorFlow's trace are absent (`show_dataflow` and `show_memory` are accepted)."""
import collections
import json

__all__ = ["Timeline", "StepStatsAnalysis", "AllocationMaximum"]

AllocationMaximum = collections.namedtuple("AllocationMaximum", ("timestamp", "num_bytes", "tensors"))
StepStatsAnalysis = collections.namedtuple("StepStatsAnalysis", ("chrome_trace", "allocator_maximums"))


class _ChromeTraceFormatter:
    """Collects trace events and formats them as Chrome's trace JSON."""

    def __init__(self):
        self._events, self._metadata = [], []

    def emit_pid(self, name, pid):
        self._metadata.append({"name": "process_name", "ph": "M", "pid": pid, "args": {"name": name}})

    def emit_tid(self, name, pid, tid):
        self._metadata.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}})

    def emit_region(self, timestamp, duration, pid, tid, category, name, args):
        self._events.append({"ph": "X", "cat": category, "name": name, "pid": pid, "tid": tid, "ts": timestamp,
                             "dur": duration, "args": args})

    def format_to_string(self, pretty=False):
        trace = {"traceEvents": self._metadata + self._events}
        if pretty:
            return json.dumps(trace, indent=4, separators=(",", ": "))
        return json.dumps(trace, separators=(",", ":"))


def _parse_op_label(label):
    """'name = Op(in1, in2)' -> (name, op, [in1, in2])."""
    name, rest = label.split(" = ", 1)
    op, rest = rest.split("(", 1)
    inputs = [] if rest == ")" else rest[:-1].split(", ")
    return name, op, inputs


class Timeline:
    """A timeline of one step's RunMetadata.step_stats (`graph` is accepted for TensorFlow's signature)."""

    def __init__(self, step_stats, graph=None):
        self._step_stats = step_stats
        self._graph = graph

    def analyze_step_stats(self, show_dataflow=True, show_memory=True, op_time="schedule"):
        """StepStatsAnalysis(chrome_trace, allocator_maximums={}): the trace formatter and, as tideflow records
        no allocations, no allocator maximums."""
        trace = _ChromeTraceFormatter()
        for pid, dev in enumerate(self._step_stats.dev_stats):
            trace.emit_pid(dev.device + " Compute", 2 * pid)
            trace.emit_pid(dev.device + " Tensors", 2 * pid + 1)
            for ns in dev.node_stats:
                if ns.timeline_label:
                    _, op, inputs = _parse_op_label(ns.timeline_label)
                else:
                    op, inputs = ns.node_name, []
                args = {"name": ns.node_name, "op": op}
                for i, name in enumerate(inputs):
                    args["input%d" % i] = name
                trace.emit_region(ns.all_start_micros, ns.all_end_rel_micros, 2 * pid, ns.thread_id, "Op", op, args)
        return StepStatsAnalysis(chrome_trace=trace, allocator_maximums={})

    def generate_chrome_trace_format(self, show_dataflow=True, show_memory=False, op_time="schedule"):
        """The step as Chrome trace JSON (a string)."""
        return self.analyze_step_stats(show_dataflow, show_memory, op_time).chrome_trace.format_to_string(pretty=True)
