"""How a fuzz case is run: graph mode (a Session runs the node) or eager mode (the kernel runs at once).

A backend's run(case) builds the case's op through the public entry point (framework/ops.py apply_op) and
runs it, raising whatever tideflow raises. The worker classifies the outcome (worker.py: classify) and a
backend may raise CheckFailed when a result breaks an invariant: a fetched value whose dtype or shape
disagrees with what the op's shape function promised, or a deterministic op that gives different bits on
two runs (uninitialized memory).
"""
import numpy as np

from corpus import decode, decode_values


class CheckFailed(Exception):
    """A run that returned, but returned something inconsistent."""


def to_array(spec):
    dt, dims = spec["dtype"], spec["dims"]
    if dt == "string":
        return np.array([s.encode("utf-8", "surrogatepass") for s in spec["values"]], dtype=object).reshape(dims)
    return np.array(decode_values(spec["values"], dt), dtype=dt).reshape(dims)


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype == object:  # flat: tolist() of an empty [10**5, 10**5, 0] array builds 10**10 lists
        return a.ravel().tolist() == b.ravel().tolist()
    return a.tobytes() == b.tobytes()


class GraphBackend:
    """Each case adds its nodes to a shared graph, run by one Session; a fresh graph every `batch` cases
    keeps plans and nodes from piling up."""
    name = "graph"

    def __init__(self, signatures, batch=50):
        import tideflow as tf
        self.tf = tf
        self.sig = signatures
        self.batch = batch
        self.count = 0
        self.graph = self.sess = None

    def _fresh(self):
        if self.sess is not None:
            self.sess.close()
        self.graph = self.tf.Graph()
        self.sess = self.tf.Session(graph=self.graph)

    def close(self):
        if self.sess is not None:
            self.sess.close()
            self.sess = None

    def _input(self, spec, feeds):
        tf = self.tf
        mode, dt = spec["mode"], spec["dtype"]
        arr = to_array(spec)
        if mode == "const":
            return tf.constant(arr if dt != "string" else arr.tolist(), dtype=dt)
        if mode == "ref":
            v = tf.Variable(arr if dt != "string" else arr.tolist(), dtype=dt)
            self.sess.run(v.initializer)
            return v._variable
        if mode == "unknown":
            shape = None
        elif mode == "partial":
            shape = [d if k else None for d, k in zip(spec["dims"], spec["known"])]
        else:
            shape = spec["dims"]
        ph = tf.placeholder(dt, shape)
        feeds[ph] = arr
        return ph

    def run(self, case):
        from tideflow.framework import ops as _ops
        if self.count % self.batch == 0:
            self._fresh()
        self.count += 1
        feeds = {}
        with self.graph.as_default():
            inputs = [self._input(s, feeds) for s in case["inputs"]]
            attrs = {k: decode(v) for k, v in case["attrs"].items()}
            op = _ops.apply_op(case["op"], inputs, attrs)
        outs = list(op.outputs)
        fetch = outs if outs else op
        got = self.sess.run(fetch, feeds)
        if not outs:
            return
        for t, v in zip(outs, got):
            want = t.dtype
            arr = np.asarray(v)
            if want.name == "string":
                ok = arr.dtype == object or isinstance(v, bytes)
            else:
                ok = arr.dtype == want.as_numpy_dtype
            if not ok:
                raise CheckFailed("%s: output %s is declared %s but the kernel returned %s"
                                  % (case["op"], t.name, want.name, arr.dtype))
            if not t.shape.is_compatible_with(arr.shape):
                raise CheckFailed("%s: output %s is declared %s but the kernel returned shape %s"
                                  % (case["op"], t.name, t.shape, arr.shape))
        if not self.sig[case["op"]][2]:  # deterministic: a second run gives the same bits
            again = self.sess.run(fetch, feeds)
            for t, a, b in zip(outs, got, again):
                if not _same_bits(a, b):
                    raise CheckFailed("%s: output %s differs between two runs of the same inputs"
                                      % (case["op"], t.name))


def _check_outputs(case, outs, got):
    for i, (t, v) in enumerate(zip(outs, got)):
        arr = np.asarray(v)
        want = t.dtype
        ok = (arr.dtype == object or isinstance(v, bytes)) if want.name == "string" else arr.dtype == want.as_numpy_dtype
        if not ok:
            raise CheckFailed("%s: output %d is declared %s but the kernel returned %s" % (case["op"], i, want.name,
                                                                                         arr.dtype))


class EagerBackend:
    """The op runs eagerly (Note [eager execution] in cpp/eager.h): inputs are eager tensors (every mode
    but "ref" is a value: eager has no placeholders), ref inputs eager variables. The shape function and
    the op-table rules run on the values, then the kernel; a deterministic op runs twice and must agree."""
    name = "eager"

    def __init__(self, signatures):
        import tideflow as tf
        from tideflow.eager.context import eager_mode
        self.tf = tf
        self.sig = signatures
        self.eager_mode = eager_mode

    def close(self):
        pass

    def _input(self, spec):
        tf = self.tf
        arr = to_array(spec)
        value = arr.tolist() if spec["dtype"] == "string" else arr
        if spec["mode"] == "ref":
            return tf.Variable(value, dtype=spec["dtype"])._handle
        return tf.constant(value, dtype=spec["dtype"])

    def run(self, case):
        from tideflow.framework import ops as _ops
        with self.eager_mode():
            inputs = [self._input(s) for s in case["inputs"]]
            attrs = {k: decode(v) for k, v in case["attrs"].items()}
            outs = _ops.apply_op(case["op"], inputs, attrs).outputs
            got = [o.numpy() for o in outs]
            _check_outputs(case, outs, got)
            if not self.sig[case["op"]][2] and not any(s["mode"] == "ref" for s in case["inputs"]):
                again = [o.numpy() for o in _ops.apply_op(case["op"], inputs, attrs).outputs]
                for i, (a, b) in enumerate(zip(got, again)):
                    if not _same_bits(a, b):
                        raise CheckFailed("%s: output %d differs between two runs of the same inputs" % (case["op"], i))


BACKENDS = {"graph": GraphBackend, "eager": EagerBackend}
