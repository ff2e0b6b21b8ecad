"""tf.nn.dynamic_rnn, bidirectional_dynamic_rnn, static_rnn, static_bidirectional_rnn (and the pre-1.0
tf.nn.rnn / tf.nn.bidirectional_rnn), with TensorFlow 1.x's scopes, names, shapes and errors.

Note [dynamic_rnn loop]
dynamic_rnn is one While node, as in TensorFlow (a while_loop, never unrolled): its loop variables are the
time and the cell's state; the time-major inputs are sliced one step per iteration and the outputs stacked
over iterations by the loop node itself (the row slicing and stacking map_fn and scan use; Note [control
flow] in cpp/ops/control_flow.cc), where TF1 reads and writes TensorArrays. That is the same dataflow with
no handle, no per-step TensorArray op and no extra gradient machinery: the loop's gradient assembles the
inputs' gradients row by row and reads the stacked outputs' gradients the same way. The cell is built
once, in the loop body (its variables at the top level: Note [RNN cell scopes] in rnn_cell_impl.py).
With sequence_length, the loop stops after the longest sequence (the outputs after it are zeros, as TF's
TensorArray gives for unwritten steps), and each step selects, per batch entry, the new output and state
or zeros and the old state, so a sequence's final state is its state at its last step."""
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.tensor_shape import TensorShape, as_shape
from ..util import nest
from . import array_ops, control_flow_ops, debug_ops, math_ops, reduction_ops
from . import variable_scope as vs
from .rnn_cell_impl import _concat, _static_value, assert_like_rnncell

__all__ = ["dynamic_rnn", "bidirectional_dynamic_rnn", "static_rnn", "static_bidirectional_rnn", "rnn",
           "bidirectional_rnn"]


def _transpose_batch_time(x):
    """x with its first two dims swapped (a tensor of rank < 2 comes back as it is)."""
    nd = x.shape.ndims
    if nd is not None and nd < 2:
        return x
    if nd is None:
        rank = array_ops.rank(x)
        perm = array_ops.concat(([1, 0], math_ops.range(2, rank)), axis=0)
    else:
        perm = [1, 0] + list(range(2, nd))
    x_t = array_ops.transpose(x, perm)
    if nd is not None:
        s = x.shape.as_list()
        x_t.set_shape([s[1], s[0]] + s[2:])
    return x_t


def _best_effort_input_batch_size(flat_input):
    """The batch size of time-major inputs: static when some input knows it, else a scalar tensor."""
    for input_ in flat_input:
        shape = input_.shape
        if shape.ndims is None:
            continue
        if shape.ndims < 2:
            raise ValueError("Expected input tensor %s to have rank at least 2" % input_)
        batch_size = shape[1].value
        if batch_size is not None:
            return batch_size
    return array_ops.shape(flat_input[0])[1]


def _infer_state_dtype(explicit_dtype, state):
    if explicit_dtype is not None:
        return _dtypes.as_dtype(explicit_dtype)
    if nest.is_nested(state):
        inferred = [e.dtype for e in nest.flatten(state)]
        if not inferred:
            raise ValueError("Unable to infer dtype from empty state.")
        if not all(x is inferred[0] for x in inferred):
            raise ValueError("State has tensors of different inferred_dtypes. Unable to infer a single "
                             "representative dtype.")
        return inferred[0]
    return state.dtype


def _initial_state(cell, initial_state, batch_size, dtype):
    if initial_state is not None:
        return initial_state
    if not dtype:
        raise ValueError("If there is no initial_state, you must give a dtype.")
    if getattr(cell, "get_initial_state", None) is not None:
        return cell.get_initial_state(inputs=None, batch_size=batch_size, dtype=dtype)
    return cell.zero_state(batch_size, dtype)


def _rnn_step(time, sequence_length, min_sequence_length, max_sequence_length, zero_output, state, call_cell,
              skip_conditionals=False):
    """One step of an RNN over a batch of sequences of different lengths: where time >= a sequence's length,
    the output is zero and the state passes through. Without skip_conditionals (static_rnn), conds skip the
    cell after the longest sequence and the selects before the shortest, as TensorFlow does."""
    flat_state = nest.flatten(state)
    flat_zero_output = nest.flatten(zero_output)
    copy_cond = time >= sequence_length

    def copy_one_through(output, new_output):
        if output.shape.ndims == 0:
            return new_output
        return math_ops.where(copy_cond, output, new_output)

    def copy_some_through(flat_new_output, flat_new_state):
        return ([copy_one_through(z, o) for z, o in zip(flat_zero_output, flat_new_output)]
                + [copy_one_through(s, n) for s, n in zip(flat_state, flat_new_state)])

    def maybe_copy_some_through():
        new_output, new_state = call_cell()
        nest.assert_same_structure(zero_output, new_output)
        nest.assert_same_structure(state, new_state)
        flat_new_state, flat_new_output = nest.flatten(new_state), nest.flatten(new_output)
        return control_flow_ops.cond(time < min_sequence_length, lambda: flat_new_output + flat_new_state,
                                     lambda: copy_some_through(flat_new_output, flat_new_state))

    if skip_conditionals:
        new_output, new_state = call_cell()
        nest.assert_same_structure(zero_output, new_output)
        nest.assert_same_structure(state, new_state)
        final = copy_some_through(nest.flatten(new_output), nest.flatten(new_state))
    else:
        final = control_flow_ops.cond(time >= max_sequence_length, lambda: flat_zero_output + flat_state,
                                      maybe_copy_some_through)
    if len(final) != len(flat_zero_output) + len(flat_state):
        raise ValueError("Internal error: state and output were not concatenated correctly.")
    final_output, final_state = final[:len(flat_zero_output)], final[len(flat_zero_output):]
    for out, zero in zip(final_output, flat_zero_output):
        out.set_shape(zero.shape)
    for sub, old in zip(final_state, flat_state):
        sub.set_shape(old.shape)
    return (nest.pack_sequence_as(structure=zero_output, flat_sequence=final_output),
            nest.pack_sequence_as(structure=state, flat_sequence=final_state))


def _check_sequence_length(sequence_length):
    sequence_length = math_ops.cast(sequence_length, _dtypes.int32)
    if sequence_length.shape.ndims not in (None, 1):
        raise ValueError("sequence_length must be a vector of length batch_size, but saw shape: %s"
                         % sequence_length.shape)
    return array_ops.identity(sequence_length, name="sequence_length")


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None, parallel_iterations=None,
                swap_memory=False, time_major=False, scope=None):
    """Runs `cell` over the time steps of `inputs` ([batch, time, ...], or [time, batch, ...] with
    time_major; a nested structure of such tensors for cells that take one) in a while loop (Note
    [dynamic_rnn loop]). Returns (outputs, final state): outputs [batch, time, output_size] (time-major
    with time_major), zero past each sequence's length; the final state is each sequence's state at its
    last step. `initial_state` or `dtype` gives the state to start from. parallel_iterations and
    swap_memory are accepted; steps run in order."""
    assert_like_rnncell("cell", cell)
    with vs.variable_scope(scope or "rnn") as varscope:
        flat_input = nest.flatten(inputs)
        if not time_major:
            flat_input = [_ops.convert_to_tensor(x) for x in flat_input]
            flat_input = tuple(_transpose_batch_time(x) for x in flat_input)
        else:
            flat_input = tuple(_ops.convert_to_tensor(x) for x in flat_input)
        parallel_iterations = parallel_iterations or 32
        if sequence_length is not None:
            sequence_length = _check_sequence_length(sequence_length)
        batch_size = _best_effort_input_batch_size(flat_input)
        state = _initial_state(cell, initial_state, batch_size, dtype)
        if sequence_length is not None and not _ops._core.executing_eagerly():  # TF checks in graphs only
            x_shape = array_ops.shape(sequence_length)
            packed = array_ops.stack([batch_size])
            check = debug_ops.Assert(reduction_ops.reduce_all(math_ops.equal(x_shape, packed)),
                                     ["Expected shape for Tensor %s is " % sequence_length.name, packed,
                                      " but saw shape: ", x_shape])
            with _ops.control_dependencies([check]):
                sequence_length = array_ops.identity(sequence_length, name="CheckSeqLen")
        inputs = nest.pack_sequence_as(structure=inputs, flat_sequence=flat_input)
        outputs, final_state = _dynamic_rnn_loop(cell, inputs, state, parallel_iterations=parallel_iterations,
                                                 swap_memory=swap_memory, sequence_length=sequence_length,
                                                 dtype=dtype)
        if not time_major:
            outputs = nest.map_structure(_transpose_batch_time, outputs)
        del varscope
        return outputs, final_state


def _dynamic_rnn_loop(cell, inputs, initial_state, parallel_iterations, swap_memory, sequence_length=None,
                      dtype=None):
    state = initial_state
    flat_input = nest.flatten(inputs)
    flat_output_size = nest.flatten(cell.output_size)
    input_shape = array_ops.shape(flat_input[0])
    time_steps = input_shape[0]
    batch_size = _best_effort_input_batch_size(flat_input)
    inputs_got_shape = []
    for x in flat_input:
        s = x.shape
        if s.ndims is not None and s.ndims < 3:
            raise ValueError("Shape %s must have rank at least 3" % s)
        inputs_got_shape.append(s if s.ndims is not None else TensorShape([None, None, None]))
    const_time_steps, const_batch_size = inputs_got_shape[0].as_list()[:2]
    for i, shape in enumerate(inputs_got_shape):
        if not shape[2:].is_fully_defined():
            raise ValueError("Input size (depth of inputs) must be accessible via shape inference, but saw value "
                             "None.")
        if const_time_steps != shape[0].value:
            raise ValueError("Time steps is not the same for all the elements in the input in a batch.")
        if const_batch_size != shape[1].value:
            raise ValueError("Batch_size is not the same for all the elements in the input.")
    state_dtype = _infer_state_dtype(dtype, state)

    def create_zero_arrays(size):
        return array_ops.zeros(array_ops.stack(_concat_list(batch_size, size)), state_dtype)

    flat_zero_output = tuple(create_zero_arrays(size) for size in flat_output_size)
    zero_output = nest.pack_sequence_as(structure=cell.output_size, flat_sequence=flat_zero_output)
    if sequence_length is not None:
        min_sequence_length = reduction_ops.reduce_min(sequence_length)
        max_sequence_length = reduction_ops.reduce_max(sequence_length)
    else:
        max_sequence_length = time_steps
    time = _ops.constant_op(0, dtype=_dtypes.int32, name="time")
    with _ops.name_scope("dynamic_rnn"):
        pass  # TF opens (and so takes) this name scope for its TensorArrays' names
    loop_bound = math_ops.minimum(time_steps, math_ops.maximum(1, max_sequence_length))
    flat_state = [_ops.convert_to_tensor(s) for s in nest.flatten(state)]
    n_state = len(flat_state)

    def body(time, *args):
        cur_state = nest.pack_sequence_as(state, list(args[:n_state]))
        input_t = list(args[n_state:])
        for x, shape in zip(input_t, inputs_got_shape):
            x.set_shape(shape[1:])
        input_t = nest.pack_sequence_as(structure=inputs, flat_sequence=input_t)

        def call_cell():
            return cell(input_t, cur_state)
        if sequence_length is not None:
            output, new_state = _rnn_step(time, sequence_length, min_sequence_length, max_sequence_length,
                                          zero_output, cur_state, call_cell, skip_conditionals=True)
        else:
            output, new_state = call_cell()
        nest.assert_same_structure(cur_state, new_state)
        flat_new_state = [_ops.convert_to_tensor(s) for s in nest.flatten(new_state)]
        for new, old in zip(flat_new_state, flat_state):
            if not new.shape.is_compatible_with(old.shape):
                raise ValueError("The cell's new state has shape %s where its state had shape %s"
                                 % (new.shape, old.shape))
        return [time + 1] + flat_new_state, [_ops.convert_to_tensor(o) for o in nest.flatten(output)]

    with _ops.name_scope("while") as loop_scope:
        result, stacked = control_flow_ops._loop(
            lambda t, *_: t < loop_bound, body, [time] + flat_state, None, parallel_iterations=parallel_iterations,
            swap_memory=swap_memory, sliced=list(flat_input), stacks=True, scope=loop_scope)
    final_state = nest.pack_sequence_as(state, list(result[1:]))
    final_outputs = []
    for out, size in zip(stacked, flat_output_size):
        if sequence_length is not None:
            # Steps after the longest sequence did not run: their outputs are zeros, as TF's TensorArray
            # gives for steps never written.
            missing = array_ops.zeros(array_ops.concat([array_ops.expand_dims(time_steps - array_ops.shape(out)[0], 0),
                                                        array_ops.shape(out)[1:]], 0), dtype=out.dtype)
            out = array_ops.concat([out, missing], 0)
        out.set_shape(_concat([const_time_steps, const_batch_size], size, static=True))
        final_outputs.append(out)
    return nest.pack_sequence_as(structure=cell.output_size, flat_sequence=final_outputs), final_state


def _concat_list(batch_size, size):
    """[batch_size] + size as a list of ints and scalar tensors, for tf.stack."""
    dims = as_shape(size).as_list() if not _ops.is_tensor(size) else None
    if dims is None or any(d is None for d in dims):
        raise ValueError("The cell's output_size must be fully defined, got %s" % (size,))
    return [batch_size] + dims


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None, initial_state_fw=None,
                              initial_state_bw=None, dtype=None, parallel_iterations=None, swap_memory=False,
                              time_major=False, scope=None):
    """dynamic_rnn forward (scope `fw`) and over the reversed sequences (each reversed up to its length;
    scope `bw`), under `bidirectional_rnn`. Returns ((output_fw, output_bw), (state_fw, state_bw)), the
    backward outputs reversed back into input order."""
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    with vs.variable_scope(scope or "bidirectional_rnn"):
        with vs.variable_scope("fw") as fw_scope:
            output_fw, output_state_fw = dynamic_rnn(
                cell=cell_fw, inputs=inputs, sequence_length=sequence_length, initial_state=initial_state_fw,
                dtype=dtype, parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                time_major=time_major, scope=fw_scope)
        time_axis, batch_axis = (0, 1) if time_major else (1, 0)

        def reverse(input_, seq_lengths, seq_axis, batch_axis):
            if seq_lengths is not None:
                return array_ops.reverse_sequence(input_, seq_lengths=seq_lengths, seq_axis=seq_axis,
                                                  batch_axis=batch_axis)
            return array_ops.reverse(input_, axis=[seq_axis])

        with vs.variable_scope("bw") as bw_scope:
            inputs_reverse = nest.map_structure(
                lambda inp: reverse(inp, sequence_length, time_axis, batch_axis), inputs)
            tmp, output_state_bw = dynamic_rnn(
                cell=cell_bw, inputs=inputs_reverse, sequence_length=sequence_length, initial_state=initial_state_bw,
                dtype=dtype, parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                time_major=time_major, scope=bw_scope)
    output_bw = nest.map_structure(lambda t: reverse(t, sequence_length, time_axis, batch_axis), tmp)
    return (output_fw, output_bw), (output_state_fw, output_state_bw)


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """The cell applied to a Python list of [batch, input_size] tensors, one step per list entry (built
    unrolled, as TF's static_rnn). Returns (outputs list, final state); with sequence_length, outputs past a
    sequence's end are zeros and its state is carried through."""
    assert_like_rnncell("cell", cell)
    if not nest.is_nested(inputs):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    outputs = []
    with vs.variable_scope(scope or "rnn") as varscope:
        first_input = inputs
        while nest.is_nested(first_input):
            first_input = first_input[0]
        first_input = _ops.convert_to_tensor(first_input)
        if first_input.shape.ndims != 1:
            input_shape = first_input.shape
            if input_shape.ndims is not None and input_shape.ndims < 2:
                raise ValueError("Shape %s must have rank at least 2" % input_shape)
            fixed_batch_size = input_shape[0].value if input_shape.ndims else None
            for flat_input in nest.flatten(inputs):
                s = _ops.convert_to_tensor(flat_input).shape
                if s.ndims is None:
                    continue
                if fixed_batch_size is not None and s[0].value is not None and s[0].value != fixed_batch_size:
                    raise ValueError("Dimensions %d and %d are not compatible" % (fixed_batch_size, s[0].value))
                for i, size in enumerate(s.as_list()[1:]):
                    if size is None:
                        raise ValueError("Input size (dimension %d of inputs) must be accessible via shape "
                                         "inference, but saw value None." % i)
        else:
            fixed_batch_size = first_input.shape[0].value
        batch_size = fixed_batch_size if fixed_batch_size else array_ops.shape(first_input)[0]
        state = _initial_state(cell, initial_state, batch_size, dtype)
        if sequence_length is not None:
            sequence_length = _check_sequence_length(sequence_length)
            state_dtype = _infer_state_dtype(dtype, state)

            def create_zero_output(output_size):
                out = array_ops.zeros(array_ops.stack(_concat_list(batch_size, output_size)), state_dtype)
                out.set_shape(_concat(fixed_batch_size, output_size, static=True))
                return out
            flat_zero = tuple(create_zero_output(s) for s in nest.flatten(cell.output_size))
            zero_output = nest.pack_sequence_as(structure=cell.output_size, flat_sequence=flat_zero)
            sequence_length = math_ops.cast(sequence_length, _dtypes.int32)
            min_sequence_length = reduction_ops.reduce_min(sequence_length)
            max_sequence_length = reduction_ops.reduce_max(sequence_length)
        for time, input_ in enumerate(inputs):
            if time > 0:
                varscope.reuse_variables()

            def call_cell(input_=input_, state=state):
                return cell(input_, state)
            if sequence_length is not None:
                output, state = _rnn_step(time, sequence_length, min_sequence_length, max_sequence_length,
                                          zero_output, state, call_cell)
            else:
                output, state = call_cell()
            outputs.append(output)
        return outputs, state


def _reverse_seq(input_seq, lengths):
    """A list of per-step tensors (or nests) reversed, each sequence up to its length when `lengths`."""
    if lengths is None:
        return list(reversed(input_seq))
    flat_input_seq = tuple(nest.flatten(input_) for input_ in input_seq)
    flat_results = [[] for _ in range(len(input_seq))]
    for sequence in zip(*flat_input_seq):
        input_shape = TensorShape(None if sequence[0].shape.ndims is None else [None] * sequence[0].shape.ndims)
        for input_ in sequence:
            input_shape.assert_is_compatible_with(input_.shape)
            input_.set_shape(input_shape.merge_with(input_.shape))
        s_joined = array_ops.stack(sequence)
        s_reversed = array_ops.reverse_sequence(s_joined, lengths, 0, 1)
        result = array_ops.unstack(s_reversed)
        for r, flat_result in zip(result, flat_results):
            r.set_shape(sequence[0].shape)
            flat_result.append(r)
    return [nest.pack_sequence_as(structure=input_, flat_sequence=flat_result)
            for input_, flat_result in zip(input_seq, flat_results)]


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None, initial_state_bw=None, dtype=None,
                             sequence_length=None, scope=None):
    """static_rnn forward (scope `fw`) and over the reversed list (`bw`); outputs are the two directions
    concatenated per step. Returns (outputs, state_fw, state_bw)."""
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    if not nest.is_nested(inputs):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    with vs.variable_scope(scope or "bidirectional_rnn"):
        with vs.variable_scope("fw") as fw_scope:
            output_fw, output_state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype, sequence_length,
                                                    scope=fw_scope)
        with vs.variable_scope("bw") as bw_scope:
            reversed_inputs = _reverse_seq(inputs, sequence_length)
            tmp, output_state_bw = static_rnn(cell_bw, reversed_inputs, initial_state_bw, dtype, sequence_length,
                                              scope=bw_scope)
    output_bw = _reverse_seq(tmp, sequence_length)
    flat_fw, flat_bw = nest.flatten(output_fw), nest.flatten(output_bw)
    flat_outputs = tuple(array_ops.concat([fw, bw], 1) for fw, bw in zip(flat_fw, flat_bw))
    outputs = nest.pack_sequence_as(structure=output_fw, flat_sequence=flat_outputs)
    return outputs, output_state_fw, output_state_bw


# TensorFlow before 1.0 named them so (tf.nn.rnn(cell, inputs) in article 003).
rnn = static_rnn
bidirectional_rnn = static_bidirectional_rnn
