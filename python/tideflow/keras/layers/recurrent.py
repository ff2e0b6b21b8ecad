"""Keras's recurrent layers SimpleRNN, LSTM, GRU (Keras 2's weights: kernel [input, k*units],
recurrent_kernel [units, k*units], bias; gate order LSTM i, f, c, o; GRU z, r, h with reset_after=True's
bias [2, 3*units]). The time loop is unrolled over the (static) sequence length: eagerly it runs step by step,
inside a traced training step it becomes part of the one graph."""
from ...framework import dtypes as _dtypes
from ...framework.tensor_shape import TensorShape, dimension_value as _dim
from ...ops import array_ops, init_ops, linalg_ops, math_ops
from .. import activations, regularizers
from ..engine.base_layer import Layer
from ..engine.input_spec import InputSpec
from .core import _set_weight_options

__all__ = ["SimpleRNN", "LSTM", "GRU"]


def _project(x, kernel):
    """x [..., d] @ kernel [d, n] for any leading shape (known or not): one matmul on the flattened rows."""
    d, n = _dim(kernel.shape[0]), _dim(kernel.shape[1])
    out = linalg_ops.matmul(array_ops.reshape(x, [-1, d]), kernel)
    lead = array_ops.shape(x)[:-1]
    out = array_ops.reshape(out, array_ops.concat([lead, [n]], 0))
    out.set_shape(TensorShape(x.shape).as_list()[:-1] + [n])
    return out


class _RNN(Layer):
    _GATES = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, time_major=False, **kwargs):
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        if dropout or recurrent_dropout or stateful or time_major:
            raise NotImplementedError("%s: dropout, recurrent_dropout, stateful and time_major are not supported"
                                      % type(self).__name__)
        self.units = int(units)
        _set_weight_options(self, locals())
        self.recurrent_activation = activations.get(recurrent_activation)
        self.return_sequences, self.return_state, self.go_backwards = return_sequences, return_state, go_backwards
        self.input_spec = InputSpec(ndim=3)

    def _bias_shape(self):
        return [self._GATES * self.units]

    def _bias_init(self):
        return self.bias_initializer

    def build(self, input_shape):
        input_shape = TensorShape(input_shape)
        dim = _dim(input_shape[-1])
        if dim is None:
            raise ValueError("The last dimension of the inputs to %s should be defined." % type(self).__name__)
        n = self._GATES * self.units
        self.kernel = self.add_weight("kernel", shape=[dim, n], initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", shape=[self.units, n],
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = self.add_weight("bias", shape=self._bias_shape(), initializer=self._bias_init(),
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None
        self.built = True

    def _initial_state(self, inputs):
        zeros = array_ops.zeros(array_ops.stack([array_ops.shape(inputs)[0], self.units]), inputs.dtype)
        return [zeros] * self._n_states

    _n_states = 1

    def call(self, inputs, initial_state=None, training=None, mask=None):
        if mask is not None:
            raise NotImplementedError("masks are not supported by tideflow's recurrent layers")
        steps = _dim(inputs.shape[1])
        if steps is None:
            raise ValueError("%s needs a static sequence length" % type(self).__name__)
        states = list(initial_state) if initial_state is not None else self._initial_state(inputs)
        xs = math_ops.cast(inputs, _dtypes.float32) if inputs.dtype != _dtypes.float32 else inputs
        # The input projection of every step at once (one matmul), then the recurrence.
        proj = _project(xs, self.kernel)
        if self.use_bias:
            proj = proj + self._input_bias()
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs = []
        for t in order:
            out, states = self._step(proj[:, t, :], states)
            outputs.append(out)
        last = outputs[-1]
        result = array_ops.stack(outputs, axis=1) if self.return_sequences else last
        if self.return_state:
            return [result] + list(states)
        return result

    def _input_bias(self):
        return self.bias

    def compute_output_shape(self, input_shape):
        s = TensorShape(input_shape).as_list()
        out = TensorShape([s[0], s[1], self.units] if self.return_sequences else [s[0], self.units])
        if self.return_state:
            return [out] + [TensorShape([s[0], self.units])] * self._n_states
        return out


class SimpleRNN(_RNN):
    """h = activation(x @ kernel + h @ recurrent_kernel + bias)."""

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation=activation, **kwargs)

    def _step(self, xp, states):
        h = self.activation(xp + linalg_ops.matmul(states[0], self.recurrent_kernel))
        return h, [h]


class LSTM(_RNN):
    """Gates i, f, c, o from x @ kernel + h @ recurrent_kernel + bias; c = f * c + i * tanh-ish(c~),
    h = o * activation(c). unit_forget_bias starts the forget gate's bias at one."""
    _GATES = 4
    _n_states = 2

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        u, base = self.units, self.bias_initializer

        def init(shape, dtype=None, partition_info=None):
            parts = [base([u], dtype=dtype), init_ops.Ones()([u], dtype=dtype), base([u * 2], dtype=dtype)]
            return array_ops.concat(parts, 0)
        return init

    def _step(self, xp, states):
        h, c = states
        z = xp + linalg_ops.matmul(h, self.recurrent_kernel)
        i, f, cc, o = array_ops.split(z, 4, axis=1)
        i, f, o = self.recurrent_activation(i), self.recurrent_activation(f), self.recurrent_activation(o)
        c = f * c + i * self.activation(cc)
        h = o * self.activation(c)
        return h, [h, c]


class GRU(_RNN):
    """Keras 2's GRU with reset_after=True: z, r from input and recurrent parts (each with its own bias row),
    h~ = activation(x_h + r * (h @ U_h + b_rh)), h = z * h + (1 - z) * h~."""
    _GATES = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        if not reset_after:
            raise NotImplementedError("GRU(reset_after=False) is not supported")
        self.reset_after = True

    def _bias_shape(self):
        return [2, 3 * self.units]

    def _input_bias(self):
        return self.bias[0]

    def _step(self, xp, states):
        h = states[0]
        rec = linalg_ops.matmul(h, self.recurrent_kernel)
        if self.use_bias:
            rec = rec + self.bias[1]
        x_z, x_r, x_h = array_ops.split(xp, 3, axis=1)
        r_z, r_r, r_h = array_ops.split(rec, 3, axis=1)
        z = self.recurrent_activation(x_z + r_z)
        r = self.recurrent_activation(x_r + r_r)
        hh = self.activation(x_h + r * r_h)
        h = z * h + (1.0 - z) * hh
        return h, [h]
