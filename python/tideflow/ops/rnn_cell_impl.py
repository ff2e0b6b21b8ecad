"""tf.nn.rnn_cell (and tf.contrib.rnn's cells): RNNCell and its TF 1.x subclasses, with TensorFlow's
variable names, scopes, defaults and errors.

Note [RNN cell scopes]
A cell behaves as TF 1.15's, where RNNCell subclasses the legacy tf.layers Layer. The first call fixes the
cell's variable scope, `variable_scope(None, default_name=<snake_case class name>)` opened in the variable
scope current then (so `rnn/basic_lstm_cell`, `rnn/multi_rnn_cell/cell_0/gru_cell`), and later calls reuse
it with reuse=True: variables are made once, through tf.get_variable, and an existing one is an error
unless the scope allows reuse. Ops go to the name scope that scope was first opened in (re-entered, so a
second call gives `basic_rnn_cell/MatMul_1`). Variables are created at the top level even when the first
call happens inside dynamic_rnn's loop body (state_ops.Variable builds outside frames, as TF's init_scope).
Cells that are not LayerRNNCells (MultiRNNCell, user subclasses of RNNCell) are called inside a variable
scope re-entering the one current at their first call, as TF's RNNCell.__call__ does: its name scope is why
TF names MultiRNNCell's ops `rnn/while/rnn/multi_rnn_cell/...`. The Layer part here is self-contained (a
scope, built once, weights tracked); it is the piece to unify with tf.layers.Layer.

Note [fused LSTM cells]
BasicLSTMCell and LSTMCell run one LSTMBlockCell node (cpp/ops/rnn.cc: concat, product, bias, gates and
the cell update in one kernel, TF's op of that name with a gradient op of its own) when it computes what the
composite of TF's cell computes: tanh activation, float32/float64, a positive cell_clip or none. The
variables (names, shapes, gate order i, j, f, o) are the composite's, so checkpoints move between the two
and TensorFlow. A projection and proj_clip stay ordinary ops after the node. Other activations and dtypes
build TF's composite, op for op."""
import collections
import hashlib
import inspect
import numbers
import re

import numpy as np

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.ops import GraphKeys
from ..framework.tensor_shape import TensorShape, as_shape
from ..util import nest
from . import array_ops, clip_ops, gen_ops, init_ops, linalg_ops, math_ops, nn_impl, nn_ops, random_ops
from . import variable_scope as vs

__all__ = ["RNNCell", "LayerRNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "MultiRNNCell",
           "DropoutWrapper", "ResidualWrapper", "DeviceWrapper", "LSTMStateTuple", "LSTMBlockCell"]

_BIAS_VARIABLE_NAME = "bias"
_WEIGHTS_VARIABLE_NAME = "kernel"


# ---------------------------------------------------------------------------------------------------
# Helpers


def _snake_case(name):
    """TF's layer naming: BasicLSTMCell -> basic_lstm_cell."""
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
    return "private" + s if s.startswith("_") else s


def _static_value(t):
    """A tensor's value when it is a constant known at build time (TF's tensor_util.constant_value for
    the cases used here), else None."""
    if not _ops.is_tensor(t):
        return None
    if _ops._core.executing_eagerly():  # an eager tensor is its value
        return t.numpy()
    if t.op.type == "Const":
        return np.asarray(t.op.get_attr("value"))
    if t.op.type in ("Identity", "Cast") and t.op.inputs:
        v = _static_value(t.op.inputs[0])
        return None if v is None else v.astype(t.dtype.as_numpy_dtype)
    return None


def _concat(prefix, suffix, static=False):
    """prefix + suffix as a shape: an int32 vector tensor, or a Python list (None for unknown dims) with
    `static`. Each part is an int, a TensorShape or list, or a scalar or vector tensor."""
    def part(x, what):
        if _ops.is_tensor(x):
            v = _static_value(x)
            static_part = None if v is None else [int(d) for d in np.reshape(v, [-1])]
            if x.shape.ndims == 0:
                x = array_ops.expand_dims(x, 0)
            elif x.shape.ndims != 1:
                raise ValueError("%s tensor must be either a scalar or vector, but saw tensor: %s" % (what, x))
            if static_part is None and x.shape.ndims == 1 and x.shape[0].value is not None:
                static_part = [None] * x.shape[0].value
            return x, static_part
        s = as_shape(x)
        static_part = s.as_list() if s.ndims is not None else None
        return (_ops.constant_op(s.as_list(), dtype=_dtypes.int32) if s.is_fully_defined() else None), static_part
    p, p_static = part(prefix, "prefix")
    s, s_static = part(suffix, "suffix")
    if static:
        shape = TensorShape(p_static).concatenate(s_static)
        return shape.as_list() if shape.ndims is not None else None
    if p is None or s is None:
        raise ValueError("Provided a prefix or suffix of None: %s and %s" % (prefix, suffix))
    return array_ops.concat((p, s), 0)


def _zero_state_tensors(state_size, batch_size, dtype):
    """Zeros of [batch_size] + s for each s in the (nested) state_size."""
    def get_state_shape(s):
        z = array_ops.zeros(_concat(batch_size, s), dtype=dtype)
        z.set_shape(_concat(batch_size, s, static=True))
        return z
    return nest.map_structure(get_state_shape, state_size)


def _check_supported_dtypes(dtype):
    if dtype is None:
        return
    dtype = _dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError("RNN cell only supports floating point inputs, but saw dtype: %s" % dtype.name)


def _check_rnn_cell_input_dtypes(inputs):
    for t in nest.flatten(inputs):
        _check_supported_dtypes(t.dtype)


def _hasattr(obj, attr_name):
    try:
        getattr(obj, attr_name)
    except AttributeError:
        return False
    return True


def assert_like_rnncell(cell_name, cell):
    """TypeError unless `cell` has what RNN functions use: output_size, state_size, zero_state, __call__."""
    conditions = [_hasattr(cell, "output_size"), _hasattr(cell, "state_size"),
                  _hasattr(cell, "get_initial_state") or _hasattr(cell, "zero_state"), callable(cell)]
    errors = ["'output_size' property is missing", "'state_size' property is missing",
              "either 'zero_state' or 'get_initial_state' method is required", "is not callable"]
    if not all(conditions):
        errors = [e for e, ok in zip(errors, conditions) if not ok]
        raise TypeError("The argument {!r} ({}) is not an RNNCell: {}.".format(cell_name, cell, ", ".join(errors)))


_ACTIVATIONS = {"tanh": gen_ops.tanh, "sigmoid": gen_ops.sigmoid, "relu": gen_ops.relu, "elu": nn_ops.elu,
                "selu": nn_ops.selu, "softsign": nn_ops.softsign, "softplus": nn_ops.softplus,
                "relu6": nn_ops.relu6, "linear": lambda x: x}


def _activation(activation):
    """None (tanh), a callable, or a Keras activation name."""
    if not activation:
        return gen_ops.tanh
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError("Unknown activation function: %s" % activation)
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError("activation must be callable or a string, got %r" % (activation,))
    return activation


def _initializer(init):
    """An initializer argument: None, an initializer object or class, or a Keras-style name."""
    if isinstance(init, str):
        names = {"zeros": init_ops.zeros_initializer, "ones": init_ops.ones_initializer,
                 "glorot_uniform": init_ops.glorot_uniform_initializer,
                 "glorot_normal": init_ops.glorot_normal_initializer}
        if init not in names:
            raise ValueError("Unknown initializer: %s" % init)
        return names[init]()
    return init


_layer_name_uids = {}  # (graph id, base name) -> how many layers took it: TF's backend.unique_object_name


def _unique_layer_name(base):
    g = _ops.get_default_graph()
    key = (id(g), base)
    n = _layer_name_uids.get(key, 0)
    _layer_name_uids[key] = n + 1
    return base if n == 0 else "%s_%d" % (base, n)


# ---------------------------------------------------------------------------------------------------
# RNNCell: the legacy tf.layers Layer part (Note [RNN cell scopes])


class RNNCell:
    """Abstract RNN cell: `output, new_state = cell(inputs, state)`. Subclasses define state_size,
    output_size and call(inputs, state); variables come from tf.get_variable (or add_weight in build)."""

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        scope = kwargs.pop("_scope", None)
        self._reuse = kwargs.pop("_reuse", None)
        for k in ("autocast", "input_shape", "batch_input_shape", "batch_size", "weights",
                  "activity_regularizer", "dynamic"):
            kwargs.pop(k, None)
        if kwargs:
            raise TypeError("Keyword argument not understood: %s" % ", ".join(sorted(kwargs)))
        self._trainable = trainable
        self._dtype = None if dtype is None else _dtypes.as_dtype(dtype)
        self._trainable_weights = []
        self._non_trainable_weights = []
        self._losses = []
        self.built = False
        if name is None:
            self._base_name = _snake_case(type(self).__name__)
            self._name = _unique_layer_name(self._base_name)
        else:
            self._base_name = self._name = name
        self._scope = None
        if scope:
            with vs.variable_scope(scope) as captured:
                self._scope = captured
        self._current_scope = None
        self._is_tf_rnn_cell = True

    # ---- what Layer offers ----
    name = property(lambda self: self._name)
    dtype = property(lambda self: None if self._dtype is None else self._dtype.name)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)

    @property
    def scope_name(self):
        if not self._scope:
            raise ValueError('No name available for layer scope because the layer "%s" has not been used yet. '
                             "The scope name is determined the first time the layer instance is called. You must "
                             "therefore call the layer before querying `scope_name`." % self._name)
        return self._scope.name

    @property
    def trainable_weights(self):
        return list(self._trainable_weights) if self._trainable else []

    @property
    def non_trainable_weights(self):
        if self._trainable:
            return list(self._non_trainable_weights)
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def losses(self):
        return list(self._losses)

    @property
    def graph(self):
        return _ops.get_default_graph()

    def build(self, _):
        self.built = True

    def _set_scope(self, scope=None):
        if self._scope is None:
            if self._reuse:
                with vs.variable_scope(scope if scope is not None else self._base_name) as captured:
                    self._scope = captured
            else:
                with vs.variable_scope(scope, default_name=self._base_name) as captured:
                    self._scope = captured

    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None, trainable=True,
                   constraint=None, partitioner=None, use_resource=None, **kwargs):
        """A variable named `<cell scope>/name`, made by tf.get_variable (an existing one is shared once
        the cell is built or with reuse)."""
        if dtype is None:
            dtype = self._dtype or _dtypes.float32
        self._set_scope(None)
        reuse = self.built or self._reuse
        with vs.variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False) as scope:
            self._current_scope = scope
            with _ops.name_scope(scope.original_name_scope):
                if initializer is None:
                    initializer = scope.initializer
                existing = set(id(v) for v in _ops.get_collection(GraphKeys.GLOBAL_VARIABLES))
                v = vs.get_variable(name, shape=shape, dtype=_dtypes.as_dtype(dtype), initializer=initializer,
                                    regularizer=regularizer, trainable=trainable and self._trainable,
                                    constraint=constraint, partitioner=partitioner)
                if regularizer is not None and id(v) not in existing:
                    self._losses.extend(_ops.get_collection(GraphKeys.REGULARIZATION_LOSSES)[-1:])
        self._track(v)
        return v

    add_variable = add_weight

    def _track(self, v):
        if _ops._core.executing_eagerly():  # no collections: the variable says (as TF's _rnn_get_variable asks it)
            trainable = v.trainable
        else:
            trainable = any(v is t for t in _ops.get_collection(GraphKeys.TRAINABLE_VARIABLES))
        lst = self._trainable_weights if trainable else self._non_trainable_weights
        if all(v is not w for w in lst):
            lst.append(v)

    def _rnn_get_variable(self, getter, *args, **kwargs):
        """The custom getter RNNCell.__call__ installs: the cell keeps what tf.get_variable gives its call."""
        v = getter(*args, **kwargs)
        self._track(v)
        return v

    def _check_inputs(self, inputs):
        for i, x in enumerate(nest.flatten(inputs)):
            nd = x.shape.ndims
            if getattr(self, "_input_ndim", None) is not None and nd is not None and nd != self._input_ndim:
                raise ValueError("Input %d of layer %s is incompatible with the layer: expected ndim=%d, found "
                                 "ndim=%d. Full shape received: %s" % (i, self._name, self._input_ndim, nd,
                                                                      x.shape.as_list()))

    def _layer_call(self, inputs, *args, **kwargs):
        """TF's legacy Layer.__call__: the cell's scope (built with reuse once built), its original name
        scope, build on the first call, then call()."""
        scope = kwargs.pop("scope", None)
        self._set_scope(scope)
        reuse = True if self.built else self._reuse
        inputs = nest.map_structure(lambda x: x if _ops.is_tensor(x) else _ops.convert_to_tensor(x), inputs)
        with vs.variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False) as scope:
            self._current_scope = scope
            with _ops.name_scope(scope.original_name_scope):
                if not self.built:
                    self._check_inputs(inputs)
                    if self._dtype is None:
                        first = nest.flatten(inputs)[0]
                        self._dtype = first.dtype.base_dtype if hasattr(first, "dtype") else None
                    shapes = nest.map_structure(lambda x: x.shape, inputs)
                    self.build(shapes)
                    self.built = True
                else:
                    self._check_inputs(inputs)
                if "scope" in _call_arg_names(self.call):
                    kwargs["scope"] = scope
                return self.call(inputs, *args, **kwargs)

    def __call__(self, inputs, state, scope=None):
        """(output, new_state) for one step from `state`; `scope` names the variable scope (default: the
        cell's own, fixed at its first call)."""
        if scope is not None:
            with vs.variable_scope(scope, custom_getter=self._rnn_get_variable) as scope:
                return self._layer_call(inputs, state, scope=scope)
        rnncell_scope = getattr(self, "_rnncell_scope", None)
        if rnncell_scope is None:
            rnncell_scope = vs.variable_scope(vs.get_variable_scope(), custom_getter=self._rnn_get_variable)
            self._rnncell_scope = rnncell_scope
        with rnncell_scope:
            return self._layer_call(inputs, state)

    def call(self, inputs, state):
        raise NotImplementedError("Abstract method")

    @property
    def state_size(self):
        """size(s) of the state: an int, a TensorShape, or a nested tuple of them."""
        raise NotImplementedError("Abstract method")

    @property
    def output_size(self):
        raise NotImplementedError("Abstract method")

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        if inputs is not None:
            inputs = _ops.convert_to_tensor(inputs, name="inputs")
            if batch_size is not None:
                static = batch_size
                if _ops.is_tensor(batch_size):
                    v = _static_value(batch_size)
                    static = None if v is None else int(v)
                if inputs.shape[0].value != static:
                    raise ValueError("batch size from input tensor is different from the input param. Input tensor "
                                     "batch: %s, batch_size: %s" % (inputs.shape[0].value, batch_size))
            if dtype is not None and inputs.dtype is not _dtypes.as_dtype(dtype):
                raise ValueError("dtype from input tensor is different from the input param. Input tensor dtype: "
                                 "%s, dtype: %s" % (inputs.dtype.name, _dtypes.as_dtype(dtype).name))
            batch_size = inputs.shape[0].value or array_ops.shape(inputs)[0]
            dtype = inputs.dtype
        if batch_size is None or dtype is None:
            raise ValueError("batch_size and dtype cannot be None while constructing initial state: "
                             "batch_size=%s, dtype=%s" % (batch_size, dtype))
        return self.zero_state(batch_size, dtype)

    def zero_state(self, batch_size, dtype):
        """Zeros of [batch_size, s] for each s in state_size (in the state's structure)."""
        with _ops.name_scope(type(self).__name__ + "ZeroState", values=[batch_size]):
            return _zero_state_tensors(self.state_size, batch_size, _dtypes.as_dtype(dtype))

    def get_config(self):
        return {"name": self._name, "trainable": self._trainable, "dtype": self.dtype}


def _call_arg_names(fn):
    try:
        return inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}


class LayerRNNCell(RNNCell):
    """An RNNCell whose variables are made in build(), as a tf.layers Layer's: its __call__ skips
    RNNCell's extra scope (Note [RNN cell scopes])."""

    def __call__(self, inputs, state, scope=None, *args, **kwargs):
        return self._layer_call(inputs, state, *args, scope=scope, **kwargs)


def _input_depth(cell, input_shape):
    input_shape = as_shape(input_shape)
    depth = input_shape[-1].value if input_shape.ndims else None
    if depth is None:
        raise ValueError("Expected inputs.shape[-1] to be known, saw shape: %s" % input_shape)
    return depth


# ---------------------------------------------------------------------------------------------------
# Cells


class BasicRNNCell(LayerRNNCell):
    """output = new_state = activation(W [inputs, state] + b)."""

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self._dtype)
        self._input_ndim = 2
        self._num_units = num_units
        self._activation = _activation(activation)

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        depth = _input_depth(self, inputs_shape)
        _check_supported_dtypes(self._dtype)
        self._kernel = self.add_weight(_WEIGHTS_VARIABLE_NAME, shape=[depth + self._num_units, self._num_units])
        self._bias = self.add_weight(_BIAS_VARIABLE_NAME, shape=[self._num_units],
                                     initializer=init_ops.zeros_initializer(dtype=self._dtype))
        self.built = True

    def call(self, inputs, state):
        _check_rnn_cell_input_dtypes([inputs, state])
        gate_inputs = linalg_ops.matmul(array_ops.concat([inputs, state], 1), self._kernel)
        gate_inputs = nn_impl.bias_add(gate_inputs, self._bias)
        output = self._activation(gate_inputs)
        return output, output


class GRUCell(LayerRNNCell):
    """Gated recurrent unit (Cho et al., 2014): r, u = sigmoid(W_g [x, h] + b_g);
    c = activation(W_c [x, r * h] + b_c); h' = u * h + (1 - u) * c. Gate bias starts at 1."""

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None, bias_initializer=None,
                 name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self._dtype)
        self._input_ndim = 2
        self._num_units = num_units
        self._activation = _activation(activation)
        self._kernel_initializer = _initializer(kernel_initializer)
        self._bias_initializer = _initializer(bias_initializer)

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        depth = _input_depth(self, inputs_shape)
        _check_supported_dtypes(self._dtype)
        n = self._num_units
        self._gate_kernel = self.add_weight("gates/%s" % _WEIGHTS_VARIABLE_NAME, shape=[depth + n, 2 * n],
                                            initializer=self._kernel_initializer)
        self._gate_bias = self.add_weight(
            "gates/%s" % _BIAS_VARIABLE_NAME, shape=[2 * n],
            initializer=(self._bias_initializer if self._bias_initializer is not None
                         else init_ops.constant_initializer(1.0, dtype=self._dtype)))
        self._candidate_kernel = self.add_weight("candidate/%s" % _WEIGHTS_VARIABLE_NAME, shape=[depth + n, n],
                                                 initializer=self._kernel_initializer)
        self._candidate_bias = self.add_weight(
            "candidate/%s" % _BIAS_VARIABLE_NAME, shape=[n],
            initializer=(self._bias_initializer if self._bias_initializer is not None
                         else init_ops.zeros_initializer(dtype=self._dtype)))
        self.built = True

    def call(self, inputs, state):
        _check_rnn_cell_input_dtypes([inputs, state])
        gate_inputs = linalg_ops.matmul(array_ops.concat([inputs, state], 1), self._gate_kernel)
        gate_inputs = nn_impl.bias_add(gate_inputs, self._gate_bias)
        value = gen_ops.sigmoid(gate_inputs)
        r, u = array_ops.split(value=value, num_or_size_splits=2, axis=1)
        r_state = r * state
        candidate = linalg_ops.matmul(array_ops.concat([inputs, r_state], 1), self._candidate_kernel)
        candidate = nn_impl.bias_add(candidate, self._candidate_bias)
        c = self._activation(candidate)
        new_h = u * state + (1 - u) * c
        return new_h, new_h


_LSTMStateTuple = collections.namedtuple("LSTMStateTuple", ("c", "h"))


class LSTMStateTuple(_LSTMStateTuple):
    """(c, h): an LSTM's cell state and output, as state_size, zero_state and states use them."""
    __slots__ = ()

    @property
    def dtype(self):
        c, h = self
        if c.dtype is not h.dtype:
            raise TypeError("Inconsistent internal state: %s vs %s" % (str(c.dtype), str(h.dtype)))
        return c.dtype


def _lstm_block_cell(x, cs_prev, h_prev, w, b, wci=None, wcf=None, wco=None, forget_bias=1.0, cell_clip=None,
                     name=None):
    """TF's LSTMBlockCell op: (i, cs, f, o, ci, co, h) for one step; `cell_clip` None or <= 0 clips nothing.
    Peephole weights are used when all three are given (Note [fused LSTM cells])."""
    use_peephole = wci is not None
    with _ops.name_scope(name, "LSTMBlockCell", [x, cs_prev, h_prev, w, b]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        if use_peephole:
            peep = [_ops.convert_to_tensor(p, dtype=x.dtype) for p in (wci, wcf, wco)]
        else:
            # TF feeds zeros of [cell size]; an empty vector says the same without a per-step fill.
            empty = _ops.constant_op(np.zeros([0], x.dtype.as_numpy_dtype), name="no_peephole")
            peep = [empty] * 3
        attrs = {"forget_bias": float(forget_bias),
                 "cell_clip": float(cell_clip) if cell_clip is not None else -1.0,
                 "use_peephole": bool(use_peephole)}
        return _ops.apply_op("LSTMBlockCell", [x, cs_prev, h_prev, w] + peep + [b], attrs, name=scope).outputs


def _fusable(activation, dtype, cell_clip=None):
    return (activation is gen_ops.tanh and dtype in (_dtypes.float32, _dtypes.float64)
            and (cell_clip is None or cell_clip > 0))


class BasicLSTMCell(LayerRNNCell):
    """LSTM without peepholes, clipping or projection (Zaremba et al., 2014): i, j, f, o = W [x, h] + b;
    c' = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j); h' = tanh(c') * sigmoid(o). One
    LSTMBlockCell node with the default activation (Note [fused LSTM cells])."""

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None, name=None,
                 dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self._dtype)
        self._input_ndim = 2
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = _activation(activation)

    @property
    def state_size(self):
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        depth = _input_depth(self, inputs_shape)
        _check_supported_dtypes(self._dtype)
        n = self._num_units
        self._kernel = self.add_weight(_WEIGHTS_VARIABLE_NAME, shape=[depth + n, 4 * n])
        self._bias = self.add_weight(_BIAS_VARIABLE_NAME, shape=[4 * n],
                                     initializer=init_ops.zeros_initializer(dtype=self._dtype))
        self.built = True

    def call(self, inputs, state):
        _check_rnn_cell_input_dtypes([inputs, state])
        one = _ops.constant_op(1, dtype=_dtypes.int32)
        if self._state_is_tuple:
            c, h = state
        else:
            c, h = array_ops.split(value=state, num_or_size_splits=2, axis=one)
        if _fusable(self._activation, inputs.dtype.base_dtype) and isinstance(self._forget_bias, numbers.Real):
            _, new_c, _, _, _, _, new_h = _lstm_block_cell(inputs, c, h, self._kernel, self._bias,
                                                           forget_bias=self._forget_bias)
        else:
            gate_inputs = linalg_ops.matmul(array_ops.concat([inputs, h], 1), self._kernel)
            gate_inputs = nn_impl.bias_add(gate_inputs, self._bias)
            i, j, f, o = array_ops.split(value=gate_inputs, num_or_size_splits=4, axis=one)
            forget_bias_tensor = _ops.constant_op(self._forget_bias, dtype=f.dtype)
            sigmoid = gen_ops.sigmoid
            new_c = math_ops.add(math_ops.multiply(c, sigmoid(math_ops.add(f, forget_bias_tensor))),
                                 math_ops.multiply(sigmoid(i), self._activation(j)))
            new_h = math_ops.multiply(self._activation(new_c), sigmoid(o))
        new_state = LSTMStateTuple(new_c, new_h) if self._state_is_tuple else array_ops.concat([new_c, new_h], 1)
        return new_h, new_state


class LSTMCell(LayerRNNCell):
    """LSTM with optional peepholes (Sak et al., 2014), cell clipping and a projection of the output:
    the cell of BasicLSTMCell, plus w_f_diag * c, w_i_diag * c, w_o_diag * c' inside the gates, c' clipped
    to [-cell_clip, cell_clip], and m = clip(h W_proj, proj_clip) as output and recurrent state."""

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None, num_proj=None,
                 proj_clip=None, num_unit_shards=None, num_proj_shards=None, forget_bias=1.0, state_is_tuple=True,
                 activation=None, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self._dtype)
        if num_unit_shards is not None or num_proj_shards is not None:
            raise ValueError("num_unit_shards and num_proj_shards (deprecated in TF 1.0) are not supported; use a "
                             "variable scope without partitioning")
        self._input_ndim = 2
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = _initializer(initializer)
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = _activation(activation)
        if num_proj:
            self._state_size = LSTMStateTuple(num_units, num_proj) if state_is_tuple else num_units + num_proj
            self._output_size = num_proj
        else:
            self._state_size = LSTMStateTuple(num_units, num_units) if state_is_tuple else 2 * num_units
            self._output_size = num_units

    state_size = property(lambda self: self._state_size)
    output_size = property(lambda self: self._output_size)

    def build(self, inputs_shape):
        depth = _input_depth(self, inputs_shape)
        _check_supported_dtypes(self._dtype)
        n = self._num_units
        h_depth = n if self._num_proj is None else self._num_proj
        self._kernel = self.add_weight(_WEIGHTS_VARIABLE_NAME, shape=[depth + h_depth, 4 * n],
                                       initializer=self._initializer)
        self._bias = self.add_weight(_BIAS_VARIABLE_NAME, shape=[4 * n],
                                     initializer=init_ops.zeros_initializer(dtype=self._dtype))
        if self._use_peepholes:
            self._w_f_diag = self.add_weight("w_f_diag", shape=[n], initializer=self._initializer)
            self._w_i_diag = self.add_weight("w_i_diag", shape=[n], initializer=self._initializer)
            self._w_o_diag = self.add_weight("w_o_diag", shape=[n], initializer=self._initializer)
        if self._num_proj is not None:
            self._proj_kernel = self.add_weight("projection/%s" % _WEIGHTS_VARIABLE_NAME, shape=[n, self._num_proj],
                                                initializer=self._initializer)
        self.built = True

    def call(self, inputs, state):
        _check_rnn_cell_input_dtypes([inputs, state])
        num_proj = self._num_units if self._num_proj is None else self._num_proj
        sigmoid = gen_ops.sigmoid
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev = array_ops.slice(state, [0, 0], [-1, self._num_units])
            m_prev = array_ops.slice(state, [0, self._num_units], [-1, num_proj])
        input_size = inputs.shape.with_rank(2)[1].value
        if input_size is None:
            raise ValueError("Could not infer input size from inputs.get_shape()[-1]")
        if (_fusable(self._activation, inputs.dtype.base_dtype, self._cell_clip)
                and isinstance(self._forget_bias, numbers.Real)):
            peep = ((self._w_i_diag, self._w_f_diag, self._w_o_diag) if self._use_peepholes else (None, None, None))
            _, c, _, _, _, _, m = _lstm_block_cell(inputs, c_prev, m_prev, self._kernel, self._bias, *peep,
                                                   forget_bias=self._forget_bias, cell_clip=self._cell_clip)
        else:
            lstm_matrix = linalg_ops.matmul(array_ops.concat([inputs, m_prev], 1), self._kernel)
            lstm_matrix = nn_impl.bias_add(lstm_matrix, self._bias)
            i, j, f, o = array_ops.split(value=lstm_matrix, num_or_size_splits=4, axis=1)
            if self._use_peepholes:
                c = (sigmoid(f + self._forget_bias + self._w_f_diag * c_prev) * c_prev
                     + sigmoid(i + self._w_i_diag * c_prev) * self._activation(j))
            else:
                c = sigmoid(f + self._forget_bias) * c_prev + sigmoid(i) * self._activation(j)
            if self._cell_clip is not None:
                c = clip_ops.clip_by_value(c, -self._cell_clip, self._cell_clip)
            if self._use_peepholes:
                m = sigmoid(o + self._w_o_diag * c) * self._activation(c)
            else:
                m = sigmoid(o) * self._activation(c)
        if self._num_proj is not None:
            m = linalg_ops.matmul(m, self._proj_kernel)
            if self._proj_clip is not None:
                m = clip_ops.clip_by_value(m, -self._proj_clip, self._proj_clip)
        new_state = LSTMStateTuple(c, m) if self._state_is_tuple else array_ops.concat([c, m], 1)
        return m, new_state


class LSTMBlockCell(LayerRNNCell):
    """tf.contrib.rnn.LSTMBlockCell: the LSTM of BasicLSTMCell (with optional peepholes and cell_clip) as
    one LSTMBlockCell node; variables `lstm_cell/kernel`, `lstm_cell/bias` (and `w_i_diag`, `w_f_diag`,
    `w_o_diag`) as TF's contrib names them."""

    def __init__(self, num_units, forget_bias=1.0, cell_clip=None, use_peephole=False, dtype=None, reuse=None,
                 name="lstm_cell"):
        super().__init__(_reuse=reuse, name=name, dtype=dtype)
        self._input_ndim = 2
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._use_peephole = use_peephole
        self._cell_clip = cell_clip if cell_clip is not None else -1

    state_size = property(lambda self: LSTMStateTuple(self._num_units, self._num_units))
    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        depth = _input_depth(self, inputs_shape)
        n = self._num_units
        self._kernel = self.add_weight(_WEIGHTS_VARIABLE_NAME, [depth + n, 4 * n])
        self._bias = self.add_weight(_BIAS_VARIABLE_NAME, [4 * n], initializer=init_ops.constant_initializer(0.0))
        if self._use_peephole:
            self._w_i_diag = self.add_weight("w_i_diag", [n])
            self._w_f_diag = self.add_weight("w_f_diag", [n])
            self._w_o_diag = self.add_weight("w_o_diag", [n])
        self.built = True

    def call(self, inputs, state):
        _check_rnn_cell_input_dtypes([inputs, state])
        c, h = state
        peep = (self._w_i_diag, self._w_f_diag, self._w_o_diag) if self._use_peephole else (None, None, None)
        _, cs, _, _, _, _, h = _lstm_block_cell(inputs, c, h, self._kernel, self._bias, *peep,
                                                forget_bias=self._forget_bias,
                                                cell_clip=self._cell_clip if self._cell_clip > 0 else None)
        return h, LSTMStateTuple(cs, h)


class MultiRNNCell(RNNCell):
    """Cells stacked: each one's output is the next one's input; variables under `cell_<i>/`."""

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not nest.is_nested(cells):
            raise TypeError("cells must be a list or tuple, but saw: %s." % (cells,))
        self._cells = cells
        self._state_is_tuple = state_is_tuple
        if not state_is_tuple:
            if any(nest.is_nested(c.state_size) for c in self._cells):
                raise ValueError("Some cells return tuples of states, but the flag state_is_tuple is not set.  "
                                 "State sizes are: %s" % str([c.state_size for c in self._cells]))

    @property
    def state_size(self):
        if self._state_is_tuple:
            return tuple(cell.state_size for cell in self._cells)
        return sum(cell.state_size for cell in self._cells)

    output_size = property(lambda self: self._cells[-1].output_size)

    def zero_state(self, batch_size, dtype):
        with _ops.name_scope(type(self).__name__ + "ZeroState", values=[batch_size]):
            if self._state_is_tuple:
                return tuple(cell.zero_state(batch_size, dtype) for cell in self._cells)
            return super().zero_state(batch_size, dtype)

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        return [w for cell in self._cells if isinstance(cell, RNNCell) for w in cell.trainable_weights]

    @property
    def non_trainable_weights(self):
        w = [v for cell in self._cells if isinstance(cell, RNNCell) for v in cell.non_trainable_weights]
        if not self._trainable:
            return [v for cell in self._cells if isinstance(cell, RNNCell) for v in cell.trainable_weights] + w
        return w

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    variables = weights

    def call(self, inputs, state):
        cur_state_pos = 0
        cur_inp = inputs
        new_states = []
        for i, cell in enumerate(self._cells):
            with vs.variable_scope("cell_%d" % i):
                if self._state_is_tuple:
                    if not nest.is_nested(state):
                        raise ValueError("Expected state to be a tuple of length %d, but received: %s"
                                         % (len(self.state_size), state))
                    cur_state = state[i]
                else:
                    cur_state = array_ops.slice(state, [0, cur_state_pos], [-1, cell.state_size])
                    cur_state_pos += cell.state_size
                cur_inp, new_state = cell(cur_inp, cur_state)
                new_states.append(new_state)
        new_states = tuple(new_states) if self._state_is_tuple else array_ops.concat(new_states, 1)
        return cur_inp, new_states


# ---------------------------------------------------------------------------------------------------
# Wrappers


def _children_of(x):
    return [x[k] for k in sorted(x)] if isinstance(x, dict) else list(x)


def _like(structure, children):
    if isinstance(structure, dict):
        return type(structure)(zip(sorted(structure), children))
    if hasattr(type(structure), "_fields"):
        return type(structure)(*children)
    return type(structure)(children)


def _map_structure_up_to(shallow, func, *structures):
    """func over the leaves of `shallow`, each given the matching (possibly nested) parts of `structures`
    and its index in shallow's flattening (TF's _enumerated_map_structure_up_to)."""
    counter = [0]

    def walk(s, *parts):
        if not nest.is_nested(s):
            r = func(counter[0], *parts)
            counter[0] += 1
            return r
        subs = [_children_of(p) for p in parts]
        return _like(s, [walk(c, *[sp[k] for sp in subs]) for k, c in enumerate(_children_of(s))])
    return walk(shallow, *structures)


def _default_dropout_state_filter_visitor(substate):
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)  # drop out h, never the memory c
    return True


def _shallow_filter(filter_fn, structure):
    """TF's get_traverse_shallow_structure: `structure` cut where filter_fn answers a bool (True: go on
    into it; False: leave it alone); filter_fn may answer a structure of bools for one level."""
    answer = filter_fn(structure)
    if not nest.is_nested(structure):
        if not isinstance(answer, bool):
            raise TypeError("dropout_state_filter_visitor must return a bool for a leaf, got %r" % (answer,))
        return answer
    if isinstance(answer, bool):
        if not answer:
            return False
        return _like(structure, [_shallow_filter(filter_fn, c) for c in _children_of(structure)])
    if not nest.is_nested(answer):
        raise TypeError("dropout_state_filter_visitor returned %r; expected a bool or a structure of bools" % (answer,))
    out = []
    for t, c in zip(_children_of(answer), _children_of(structure)):
        if not isinstance(t, bool):
            raise TypeError("dropout_state_filter_visitor must return a bool per branch, got %r" % (t,))
        out.append(_shallow_filter(filter_fn, c) if t else False)
    return _like(structure, out)


class _RNNCellWrapper(RNNCell):
    """A cell around another: its calls go straight to the wrapped cell's (no scope of its own)."""

    def __init__(self, cell, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assert_like_rnncell("cell", cell)
        self.cell = cell

    def __call__(self, inputs, state, scope=None):
        return self._call_wrapped_cell(inputs, state, cell_call_fn=self.cell.__call__, scope=scope)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        raise NotImplementedError

    state_size = property(lambda self: self.cell.state_size)
    output_size = property(lambda self: self.cell.output_size)

    def zero_state(self, batch_size, dtype):
        with _ops.name_scope(type(self).__name__ + "ZeroState", values=[batch_size]):
            return self.cell.zero_state(batch_size, dtype)

    @property
    def trainable_weights(self):
        return self.cell.trainable_weights if isinstance(self.cell, RNNCell) else []

    @property
    def non_trainable_weights(self):
        return self.cell.non_trainable_weights if isinstance(self.cell, RNNCell) else []

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    variables = weights


class DropoutWrapper(_RNNCellWrapper):
    """Dropout on a cell's inputs, outputs and new state (not an LSTM's memory c, by default), each with its
    keep probability. With variational_recurrent, one mask per run is drawn at construction (shape
    [1, size], shared by the batch) and reused at every step (Gal & Ghahramani, 2016); that needs `dtype`,
    and `input_size` when inputs are dropped."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None, **kwargs):
        super().__init__(cell, dtype=dtype, **kwargs)
        if dropout_state_filter_visitor is not None and not callable(dropout_state_filter_visitor):
            raise TypeError("dropout_state_filter_visitor must be callable")
        self._dropout_state_filter = dropout_state_filter_visitor or _default_dropout_state_filter_visitor
        with _ops.name_scope("DropoutWrapperInit"):
            for prob, attr in ((input_keep_prob, "input_keep_prob"), (state_keep_prob, "state_keep_prob"),
                               (output_keep_prob, "output_keep_prob")):
                tensor_prob = _ops.convert_to_tensor(prob)
                const_prob = _static_value(tensor_prob)
                if const_prob is not None:
                    if const_prob < 0 or const_prob > 1:
                        raise ValueError("Parameter %s must be between 0 and 1: %d" % (attr, const_prob))
                    setattr(self, "_%s" % attr, float(const_prob))
                else:
                    setattr(self, "_%s" % attr, tensor_prob)
        self._variational_recurrent = variational_recurrent
        self._input_size = input_size
        self._seed = seed
        self._recurrent_input_noise = None
        self._recurrent_state_noise = None
        self._recurrent_output_noise = None
        if variational_recurrent:
            if dtype is None:
                raise ValueError("When variational_recurrent=True, dtype must be provided")

            def batch_noise(s, inner_seed):
                shape = array_ops.concat(([1], as_shape(s).as_list()), 0)
                return random_ops.random_uniform(shape, seed=inner_seed, dtype=dtype)

            if not isinstance(self._input_keep_prob, numbers.Real) or self._input_keep_prob < 1.0:
                if input_size is None:
                    raise ValueError("When variational_recurrent=True and input_keep_prob < 1.0 or is unknown, "
                                     "input_size must be provided")
                self._recurrent_input_noise = _map_structure_up_to(
                    input_size, lambda i, s: batch_noise(s, self._gen_seed("input", i)), input_size)
            self._recurrent_state_noise = _map_structure_up_to(
                cell.state_size, lambda i, s: batch_noise(s, self._gen_seed("state", i)), cell.state_size)
            self._recurrent_output_noise = _map_structure_up_to(
                cell.output_size, lambda i, s: batch_noise(s, self._gen_seed("output", i)), cell.output_size)

    def _gen_seed(self, salt_prefix, index):
        if self._seed is None:
            return None
        salt = "%s_%d" % (salt_prefix, index)
        string = (str(self._seed) + salt).encode("utf-8")
        return int(hashlib.md5(string).hexdigest()[:8], 16) & 0x7FFFFFFF

    wrapped_cell = property(lambda self: self.cell)

    def _dropout(self, values, salt_prefix, recurrent_noise, keep_prob, shallow=None):
        if shallow is None:
            shallow = values
        if not self._variational_recurrent:
            def dropout(i, do_dropout, v):
                if not isinstance(do_dropout, bool) or do_dropout:
                    return nn_impl.dropout(v, rate=1.0 - keep_prob, seed=self._gen_seed(salt_prefix, i))
                return v
            return _map_structure_up_to(shallow, dropout, shallow, values)

        def variational(i, do_dropout, v, n):
            if not isinstance(do_dropout, bool) or do_dropout:
                binary = gen_ops.floor(keep_prob + n)
                ret = math_ops.divide(v, keep_prob) * binary
                ret.set_shape(v.shape)
                return ret
            return v
        return _map_structure_up_to(shallow, variational, shallow, values, recurrent_noise)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        def should_dropout(p):
            return (not isinstance(p, float)) or p < 1
        if should_dropout(self._input_keep_prob):
            inputs = self._dropout(inputs, "input", self._recurrent_input_noise, self._input_keep_prob)
        output, new_state = cell_call_fn(inputs, state, **kwargs)
        if should_dropout(self._state_keep_prob):
            shallow = _shallow_filter(self._dropout_state_filter, new_state)
            new_state = self._dropout(new_state, "state", self._recurrent_state_noise, self._state_keep_prob,
                                      shallow)
        if should_dropout(self._output_keep_prob):
            output = self._dropout(output, "output", self._recurrent_output_noise, self._output_keep_prob)
        return output, new_state


class ResidualWrapper(_RNNCellWrapper):
    """The wrapped cell's output plus its input (or residual_fn(inputs, outputs))."""

    def __init__(self, cell, residual_fn=None, **kwargs):
        super().__init__(cell, **kwargs)
        self._residual_fn = residual_fn

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        outputs, new_state = cell_call_fn(inputs, state, **kwargs)

        def default_residual_fn(inputs, outputs):
            nest.assert_same_structure(inputs, outputs)
            nest.map_structure(lambda i, o: i.shape.assert_is_compatible_with(o.shape), inputs, outputs)
            return nest.map_structure(lambda i, o: i + o, inputs, outputs)
        return (self._residual_fn or default_residual_fn)(inputs, outputs), new_state


class DeviceWrapper(_RNNCellWrapper):
    """Runs the wrapped cell's ops (and its zero state) under tf.device(device)."""

    def __init__(self, cell, device, **kwargs):
        super().__init__(cell, **kwargs)
        self._device = device

    def zero_state(self, batch_size, dtype):
        with _ops.name_scope(type(self).__name__ + "ZeroState", values=[batch_size]):
            with _ops.device(self._device):
                return self.cell.zero_state(batch_size, dtype)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        with _ops.device(self._device):
            return cell_call_fn(inputs, state, **kwargs)
