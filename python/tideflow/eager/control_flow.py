"""tf.cond and tf.while_loop when executing eagerly: the predicate has a value, so the taken branch (the
loop body) runs as ordinary Python, as TensorFlow's eager mode does. Graph-mode control flow (executor
frames) is separate work (ops/control_flow_ops.py); its cond/while_loop hand eager calls to these."""
from .. import _core
from ..framework import ops as _ops
from . import nest

__all__ = ["cond", "while_loop"]


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """Calls true_fn() or false_fn() by the value of the scalar `pred`."""
    true_fn = true_fn if true_fn is not None else fn1
    false_fn = false_fn if false_fn is not None else fn2
    if not callable(true_fn):
        raise TypeError("true_fn must be callable.")
    if not callable(false_fn):
        raise TypeError("false_fn must be callable.")
    if not _core.executing_eagerly():
        raise NotImplementedError("tf.cond in graph mode (or inside tf.function) needs graph-mode control flow, "
                                  "which is not built yet; call it eagerly.")
    p = _ops.convert_to_tensor(pred)
    if p.shape.ndims not in (0, None) and p._num_elements() != 1:
        raise ValueError("Shape must be rank 0 but is rank %d for 'cond' (the predicate)" % p.shape.ndims)
    result = true_fn() if bool(p) else false_fn()
    if not strict and isinstance(result, (list, tuple)) and len(result) == 1:
        return result[0]
    return result


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10, back_prop=True,
               swap_memory=False, name=None, maximum_iterations=None, return_same_structure=False):
    """Runs body while cond holds, in Python (TensorFlow's eager while_loop)."""
    if not callable(cond):
        raise TypeError("cond must be callable.")
    if not callable(body):
        raise TypeError("body must be callable.")
    if not _core.executing_eagerly():
        raise NotImplementedError("tf.while_loop in graph mode (or inside tf.function) needs graph-mode control "
                                  "flow, which is not built yet; call it eagerly.")
    single = not isinstance(loop_vars, (list, tuple))
    vars_ = [loop_vars] if single else list(loop_vars)
    n = 0
    while (maximum_iterations is None or n < int(maximum_iterations)) and bool(cond(*vars_)):
        out = body(*vars_)
        if single:
            out = [out]
        elif not isinstance(out, (list, tuple)):
            out = [out]
        if len(nest.flatten(out)) != len(nest.flatten(vars_)):
            raise ValueError("body returned %d values, loop_vars has %d" % (len(out), len(vars_)))
        vars_ = list(out)
        n += 1
    if single:
        return vars_[0]
    return type(loop_vars)(vars_) if isinstance(loop_vars, tuple) and not hasattr(loop_vars, "_fields") else vars_
