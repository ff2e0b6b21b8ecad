"""tf.cond, tf.case, tf.switch_case and tf.while_loop in graph mode, with TensorFlow 1.x's names, results
and errors. A branch or loop body is traced once, into a control-flow frame of the graph (its nodes keep
TF1's names: cond/add, while/mul), and runs as a cached sub-plan of one If or While node; nothing is
unrolled and only the branch taken runs (Note [control flow] in cpp/ops/control_flow.cc)."""
import functools

from .. import _core
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.tensor_shape import TensorShape, as_shape
from ..util import nest
from . import array_ops, debug_ops, math_ops, reduction_ops
from .control_flow_util import _frame, group, no_op  # noqa: F401 (tf.group and tf.no_op live here in TensorFlow)

__all__ = ["cond", "case", "switch_case", "while_loop", "no_op", "group"]


def _executing_eagerly():
    """Whether ops run eagerly.

    Note [eager control flow]
    The one place eager execution plugs in. When it is on, cond calls the branch taken and while_loop runs a
    Python loop, as TensorFlow does; graph mode builds frames."""
    ctx = getattr(_ops, "executing_eagerly", None)
    return bool(ctx and ctx())


def _arg(dtype, shape, name):
    shape = as_shape(shape)
    return _ops.apply1("_Arg", [], {"dtype": dtype._enum,
                                    "shape": _core.Shape(None if shape.ndims is None else shape.as_list())},
                       name=name)


def _owner(op_type, g, frames, inputs, attrs, name):
    """The If/While node: its inputs are `inputs` then what the frames read from outside them."""
    caps, ctrl = _core.frame_captures(g._c, frames)
    inputs = list(inputs) + [g._tensor(*k) for k in caps]
    return _ops.apply_op(op_type, inputs, attrs, name=name, control_inputs=[g._op(i) for i in ctrl])


def _keys(tensors):
    return [t._key() for t in tensors]


def _check_results(g, fid, tensors, what):
    """What a frame returns must live in it or around it (Note [frames] in cpp/graph.h)."""
    for t in tensors:
        f = _core.node_frame(g._c, t.op._id)
        if not _core.frame_within(g._c, fid, f):
            raise ValueError("%s returned '%s', which belongs to another cond branch or loop body. Return values "
                             "computed in the function itself or outside the construct." % (what, t.name))


# ---------------------------------------------------------------------------------------------------
# cond


def _unpack_if_singleton(res):
    if isinstance(res, (list, tuple)) and len(res) == 1:
        return res[0]
    return res


def _check_pred(pred, node, op_type, arg="pred", times=1):
    """TF1's checks of a predicate by the Switch (cond) or LoopCond (while_loop) node it feeds."""
    if pred.dtype is not _dtypes.bool:
        raise TypeError("Input '%s' of '%s' Op has type %s that does not match expected type of bool."
                        % (arg, op_type, pred.dtype.name))
    if pred.shape.ndims not in (None, 0):
        dims = "[%s]" % ",".join("?" if d is None else str(d) for d in pred.shape.as_list())
        name = pred.op.name if pred.value_index == 0 else pred.name
        attrs = "T=DT_BOOL" if op_type == "Switch" else ""
        raise ValueError("Shape must be rank 0 but is rank %d for '{{node %s}} = %s[%s](%s)' with input shapes: %s."
                         % (pred.shape.ndims, node, op_type, attrs, ", ".join([name] * times),
                            ", ".join([dims] * times)))


def _branch(g, fn, pred):
    """Traces fn() in a new frame: (frame, fn's result, its leaves as tensors)."""
    with _frame(g, "cond") as fid:
        result = fn()
        if result is None:
            return fid, None, None

        def leaf(x):
            if isinstance(x, _ops.Operation):  # TF1: the op runs, the predicate's value stands in for it
                with _ops.control_dependencies([x]):
                    return array_ops.identity(pred)
            return _ops.convert_to_tensor(x)
        flat = [leaf(x) for x in nest.flatten(result)]
    return fid, result, flat


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """`true_fn()` if `pred` else `false_fn()`; only the branch taken runs, its stateful ops included.
    Both must return the same (nested) structure of tensors with the same dtypes; singleton lists and
    tuples are unpacked unless `strict`."""
    if fn1 is not None:
        if true_fn is not None:
            raise TypeError("cond(): 'true_fn' and 'fn1' may not be set simultaneously.")
        true_fn = fn1
    elif true_fn is None:
        raise TypeError("cond(): 'true_fn' argument required")
    if fn2 is not None:
        if false_fn is not None:
            raise TypeError("cond(): 'false_fn' and 'fn2' may not be set simultaneously.")
        false_fn = fn2
    elif false_fn is None:
        raise TypeError("cond(): 'false_fn' argument required")
    if not callable(true_fn):
        raise TypeError("'true_fn' must be callable.")
    if not callable(false_fn):
        raise TypeError("'false_fn' must be callable.")
    if _executing_eagerly():  # Note [eager control flow]
        result = true_fn() if bool(pred) else false_fn()
        return result if strict else _unpack_if_singleton(result)
    with _ops.name_scope(name, "cond", [pred]) as scope:
        if isinstance(pred, bool):
            raise TypeError("'pred' must not be a Python bool.")
        pred = _ops.convert_to_tensor(pred)
        _check_pred(pred, scope + "Switch", "Switch", times=2)
        g = pred.graph
        ft, orig_t, res_t = _branch(g, true_fn, pred)
        if orig_t is None:
            raise ValueError("'true_fn' must have a return value.")
        ff, orig_f, res_f = _branch(g, false_fn, pred)
        if orig_f is None:
            raise ValueError("'false_fn' must have a return value.")
        if not strict:
            orig_t, orig_f = _unpack_if_singleton(orig_t), _unpack_if_singleton(orig_f)
        nest.assert_same_structure(orig_t, orig_f)
        if not res_t:
            raise ValueError("'true_fn' and 'false_fn' must return at least one result.")
        for x, y in zip(res_t, res_f):
            if x.dtype is not y.dtype:
                raise ValueError("Outputs of 'true_fn' and 'false_fn' must have the same type(s). Received %s "
                                 "from 'true_fn' and %s from 'false_fn'." % (x.dtype.name, y.dtype.name))
        _check_results(g, ft, res_t, "'true_fn'")
        _check_results(g, ff, res_f, "'false_fn'")
        _core.set_frame(g._c, ft, [], [], [], _keys(res_t), [], [])
        _core.set_frame(g._c, ff, [], [], [], _keys(res_f), [], [])
        # TF1's results are cond/Merge:0, cond/Merge_1:0, ...: the If itself is cond/Merge (no extra node for
        # the usual single result), identities name the others.
        op = _owner("If", g, [ft, ff], [pred], {"then_frame": ft, "else_frame": ff}, "Merge")
        merges = [op.outputs[0]] + [array_ops.identity(op.outputs[i], name="Merge_%d" % i) for i in range(1, len(res_t))]
        result = nest.pack_sequence_as(orig_t, merges)
        return result if strict else _unpack_if_singleton(result)


# ---------------------------------------------------------------------------------------------------
# case, switch_case: nested conds, as TF1 builds them


def _assert_at_most_n_true(predicates, n, msg):
    preds_c = array_ops.stack(predicates, name="preds_c")
    num_true = reduction_ops.reduce_sum(math_ops.cast(preds_c, _dtypes.int32), name="num_true_conds")
    condition = math_ops.less_equal(num_true, _ops.constant_op(n, name="n_true_conds"))
    names = ", ".join(getattr(p, "name", "?") for p in predicates)
    return debug_ops.Assert(condition, ["%s: more than %d conditions (%s) evaluated as True:" % (msg, n, names),
                                        preds_c], summarize=len(predicates))


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """The result of the first callable whose predicate is true (of the only one, with `exclusive`), else
    of `default`. Without a default, the last pair's callable serves as one and asserts that its predicate
    holds, as TF1 does."""
    if not isinstance(pred_fn_pairs, (list, tuple, dict)):
        raise TypeError("'pred_fn_pairs' must be a list, tuple, or dict. Received: %s" % type(pred_fn_pairs))
    if isinstance(pred_fn_pairs, dict):
        pred_fn_pairs = sorted(pred_fn_pairs.items(), key=lambda item: item[0].name)
    for pair in pred_fn_pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError("Each entry in 'pred_fn_pairs' must be a 2-tuple. Received %s." % (pair,))
        p, fn = pair
        if not isinstance(p, _ops.Tensor):
            raise TypeError("pred must be a Tensor, got: %s" % (p,))
        if p.dtype is not _dtypes.bool:
            raise TypeError("pred must be Tensor of type bool: %s" % p.name)
        if not callable(fn):
            raise TypeError("fn for pred %s must be callable." % p.name)
    if default is not None and not callable(default):
        raise TypeError("default must be callable.")
    predicates = [p for p, _ in pred_fn_pairs]
    actions = [fn for _, fn in pred_fn_pairs]
    with _ops.name_scope(name, "case", [predicates]):
        if default is None:
            k = len(predicates) - 1
            last_pred, last_fn = predicates[k], actions[k]
            others = predicates[:k]
            all_preds = list(predicates)
            predicates, actions = predicates[:k], actions[:k]

            def default():
                deps = [debug_ops.Assert(last_pred, ["Input error: None of conditions evaluated as True:",
                                                     array_ops.stack(all_preds, name="preds_c")])]
                if others:
                    deps.insert(0, _assert_at_most_n_true(
                        others, 0, "Implementation error: selected default action #%d was called, but some of "
                        "other predicates are True: " % k))
                with _ops.control_dependencies(deps):
                    return last_fn()
        fn = default
        for p, action in reversed(list(zip(predicates, actions))):
            fn = functools.partial(cond, p, true_fn=action, false_fn=fn, strict=strict)
        if exclusive:
            with _ops.control_dependencies([_assert_at_most_n_true(predicates, 1, "Input error: exclusive=True")]):
                return fn()
        return fn()


def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """branch_fns[branch_index](); an index out of range runs `default` (else the last branch)."""
    if not isinstance(branch_index, _ops.Tensor):
        raise TypeError("'branch_index' must be a Tensor, got %s" % type(branch_index))
    if not branch_index.dtype.is_integer:
        raise TypeError("'branch_index' must be an integer Tensor, got %s" % branch_index.dtype)
    if not branch_fns:
        raise ValueError("Must provide at least one item in 'branch_fns'")
    if not isinstance(branch_fns, (list, tuple, dict)):
        raise TypeError("'branch_fns' must be a list, tuple, or dict")
    if isinstance(branch_fns, dict):
        branch_fns = list(branch_fns.items())
    if all(callable(fn) for fn in branch_fns):
        branch_fns = list(enumerate(branch_fns))
    for pair in branch_fns:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError("Each entry in 'branch_fns' must be a 2-tuple. Received %s." % (pair,))
        key, fn = pair
        if not isinstance(key, int):
            raise TypeError("key must be a Python `int`, got %s" % type(key))
        if not callable(fn):
            raise TypeError("fn for key %d must be callable." % key)
    keys = [k for k, _ in branch_fns]
    if min(keys) < 0 or max(keys) >= len(keys) or len(set(keys)) != len(keys):
        raise ValueError("branch indices (keys) must form contiguous range of [0 to %d) but found {%s}"
                         % (len(keys), ",".join(map(str, sorted(keys)))))
    actions = [fn for _, fn in sorted(branch_fns, key=lambda kv: kv[0])]
    if default is not None:
        actions.append(default)
    with _ops.name_scope(name, "switch_case", [branch_index]):
        fn = actions[-1]
        for i in reversed(range(len(actions) - 1)):
            fn = functools.partial(cond, math_ops.equal(branch_index, i), true_fn=actions[i], false_fn=fn)
        return fn()


# ---------------------------------------------------------------------------------------------------
# while_loop


def _shape_less_than_or_equal(s1, s2):
    if s2.ndims is None:
        return True
    if s1.ndims != s2.ndims:
        return False
    return all(d2 is None or d1 == d2 for d1, d2 in zip(s1.as_list(), s2.as_list()))


def _to_loop_tensor(x):
    t = _ops.convert_to_tensor(x)
    if t.dtype is _dtypes.variant:
        raise TypeError("A loop variable cannot be a variant tensor: %s" % t.name)
    return t


def _loop(cond_fn, body_fn, loop_vars, shape_invariants, *, back_prop=True, parallel_iterations=10,
          swap_memory=False, sliced=(), reverse=False, stacks=False, scope):
    """Builds one While node. `cond_fn(*vars)`; `body_fn(*vars, *rows)` returns the next variables, or
    (next variables, values to stack over iterations) with `stacks`. `rows` are row i of each tensor of
    `sliced` at iteration i (from the end with `reverse`). Returns (results shaped like the body's result,
    stacked tensors)."""
    if _executing_eagerly():
        return _eager_loop(cond_fn, body_fn, loop_vars, sliced, reverse, stacks)
    g = _ops.get_default_graph()
    flat = [_to_loop_tensor(x) for x in nest.flatten(loop_vars)]
    packed_init = nest.pack_sequence_as(loop_vars, flat)
    if shape_invariants is not None:
        nest.assert_same_structure(loop_vars, shape_invariants, check_types=False)
        invariants = [as_shape(s) for s in nest.flatten(shape_invariants)]
    else:
        invariants = [t.shape for t in flat]
    for t, inv in zip(flat, invariants):
        if not _shape_less_than_or_equal(t.shape, inv):
            raise ValueError("The shape invariant specified for %s is not compatible with the initial shape of "
                             "the loop variable. It enters the loop with shape %s, but the specified shape "
                             "invariant is %s." % (t.name, t.shape, inv))
    with _frame(g, "while") as fid:
        cond_args = [_arg(t.dtype, inv, "Merge") for t, inv in zip(flat, invariants)]
        pred = cond_fn(*nest.pack_sequence_as(packed_init, cond_args))
        pred = _ops.convert_to_tensor(pred)
        _check_pred(pred, scope + "LoopCond", "LoopCond", "input")
        body_args = [_arg(t.dtype, inv, "Identity") for t, inv in zip(flat, invariants)]
        rows = [_arg(s.dtype, s.shape[1:] if s.shape.ndims else TensorShape(None), "elem") for s in sliced]
        result = body_fn(*(list(nest.pack_sequence_as(packed_init, body_args)) + rows))
        stacked = []
        if stacks:
            result, stacked = result
            stacked = [_ops.convert_to_tensor(x) for x in stacked]
        if not nest.is_nested(result):
            result = [result]
        nest.assert_same_structure(list(nest.pack_sequence_as(packed_init, body_args)), list(result))
        next_vars = [_to_loop_tensor(x) for x in nest.flatten(result)]
        if len(next_vars) != len(flat):
            raise ValueError("Number of inputs and outputs of 'body' must match 'loop_vars'. Got %d for the "
                             "number of inputs/outputs, and %d for 'loop_vars'." % (len(flat), len(next_vars)))
        for init, arg, nxt in zip(flat, body_args, next_vars):
            if nxt.dtype is not init.dtype:
                raise TypeError("Input '%s' of the loop enters as %s, but the body returns %s (%s). The body must "
                                "return the loop variables' dtypes." % (init.name, init.dtype.name, nxt.dtype.name,
                                                                       nxt.name))
            if not _shape_less_than_or_equal(nxt.shape, arg.shape):
                raise ValueError("Input tensor '%s' enters the loop with shape %s, but has shape %s after one "
                                 "iteration. To allow the shape to vary across iterations, use the "
                                 "`shape_invariants` argument of tf.while_loop to specify a less-specific shape."
                                 % (init.name, init.shape, nxt.shape))
    _check_results(g, fid, next_vars + stacked + [pred], "The loop's body or condition")
    _core.set_frame(g._c, fid, [a.op._id for a in body_args], [a.op._id for a in cond_args],
                    [r.op._id for r in rows], _keys(next_vars), _keys(stacked), [pred._key()])
    attrs = {"frame": fid, "num_vars": len(flat), "num_sliced": len(sliced), "num_stacked": len(stacked),
             "back_prop": bool(back_prop), "parallel_iterations": int(parallel_iterations),
             "swap_memory": bool(swap_memory), "reverse": bool(reverse)}
    op = _owner("While", g, [fid], flat + list(sliced), attrs, scope)
    exits = [array_ops.identity(op.outputs[i], name="Exit") for i in range(len(flat))]
    return nest.pack_sequence_as(result, exits), op.outputs[len(flat):len(flat) + len(stacked)]


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10, back_prop=True,
               swap_memory=False, name=None, maximum_iterations=None, return_same_structure=False):
    """Repeats `body` while `cond` is true (TF1's while_loop). The loop is one While node running its body
    as a cached plan per iteration, whatever the trip count; iterations run in order (parallel_iterations
    and swap_memory are accepted). With back_prop, tf.gradients differentiates it from the values the
    forward run recorded."""
    if not callable(cond):
        raise TypeError("'cond' must be callable.")
    if not callable(body):
        raise TypeError("'body' must be callable.")
    if parallel_iterations < 1:
        raise TypeError("'parallel_iterations' must be a positive integer.")
    if _executing_eagerly():
        return _eager_while(cond, body, loop_vars, maximum_iterations, return_same_structure)
    with _ops.name_scope(name, "while", loop_vars) as scope:
        if not loop_vars:
            raise ValueError("'loop_vars' must be provided.")
        try_to_pack = len(loop_vars) == 1 and not return_same_structure
        if maximum_iterations is not None:
            maximum_iterations = _ops.convert_to_tensor(maximum_iterations, name="maximum_iterations")
            if maximum_iterations.shape.ndims != 0:
                raise ValueError("'maximum_iterations' must be a scalar. Received shape: %s"
                                 % maximum_iterations.shape)
            counter = _ops.constant_op(0, dtype=maximum_iterations.dtype, name="iteration_counter")
            orig_cond, orig_body = cond, body
            if try_to_pack:
                loop_vars = (counter, loop_vars[0])
                cond = lambda i, lv: math_ops.logical_and(i < maximum_iterations, orig_cond(lv))  # noqa: E731
                body = lambda i, lv: (i + 1, orig_body(lv))  # noqa: E731
            else:
                loop_vars = (counter, loop_vars)
                cond = lambda i, lv: math_ops.logical_and(i < maximum_iterations, orig_cond(*lv))  # noqa: E731
                body = lambda i, lv: (i + 1, orig_body(*lv))  # noqa: E731
            if shape_invariants is not None:
                shape_invariants = (TensorShape([]), shape_invariants)
            try_to_pack = False
        result, _ = _loop(cond, body, loop_vars, shape_invariants, back_prop=back_prop,
                          parallel_iterations=parallel_iterations, swap_memory=swap_memory, scope=scope)
        if maximum_iterations is not None:
            return result[1]
        if return_same_structure:
            return result
        return result[0] if len(nest.flatten(result)) == 1 else result


def _eager_loop(cond_fn, body_fn, loop_vars, sliced, reverse, stacks):
    """Note [eager control flow]: _loop as a Python loop (map_fn, scan, foldl, foldr)."""
    result, rows_out, it = list(loop_vars), [], 0
    while bool(cond_fn(*result)):
        rows = [s[len(s) - 1 - it] if reverse else s[it] for s in sliced]
        out = body_fn(*(list(result) + rows))
        if stacks:
            out, stacked = out
            rows_out.append(list(stacked))
        result = list(out) if nest.is_nested(out) else [out]
        it += 1
    if reverse:
        rows_out.reverse()
    stacked = [array_ops.stack(list(col)) for col in zip(*rows_out)] if rows_out else []
    return result, stacked


def _eager_while(cond, body, loop_vars, maximum_iterations, return_same_structure):
    """Note [eager control flow]: a Python loop, as TensorFlow runs it eagerly."""
    try_to_pack = len(loop_vars) == 1 and not return_same_structure
    packed = False
    i = 0
    while (maximum_iterations is None or i < int(maximum_iterations)) and bool(cond(*loop_vars)):
        loop_vars = body(*loop_vars)
        if try_to_pack and not isinstance(loop_vars, (list, tuple)):
            packed = True
            loop_vars = (loop_vars,)
        i += 1
    return loop_vars[0] if packed else loop_vars
