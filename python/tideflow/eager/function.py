"""tf.function: a Python function traced into a graph once per input signature and run by the Session's
executor through a cached plan (cpp Session/Prepared), instead of op by op.

Note [tf.function]
- Signature: the structure of the arguments, each tensor's dtype and shape (or the input_signature's
  TensorSpecs), and every other argument's value (Python values retrace per value, as in TensorFlow).
- Tracing builds a fresh Graph in graph mode: tensor arguments become placeholders, eager tensors the
  function closes over are fed at every call, eager variables it reads or updates are VariableV2 nodes of
  the graph that the function's Session binds to the variables' own slots (Resources::bind), so a call
  reads and updates the live variables. tf.Variable(...) inside the function makes an eager variable, on
  the first trace only (TensorFlow's rule); creating one on a later trace raises ValueError.
- Program order: ops touching a variable are chained by control edges (a read after the write before it, a
  write after the reads and the write before it), and ops with side effects (Print, Assert, py_func) run in
  the order they were written. Every update and side effect runs on each call even if no output needs it.
- Python control flow is not converted (no AutoGraph): `if`/`for`/`while` on Python values run while
  tracing; on a tensor they raise TypeError; use tf.cond / tf.while_loop for data-dependent control flow.
- Under a GradientTape a call is recorded as one op whose gradient runs the function's backward graph
  (tf.gradients of the traced graph, built on first use)."""
import contextlib
import functools
import threading
import weakref

import numpy as np

from .. import _core
from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from ..framework.tensor_shape import TensorShape, as_shape
from ..ops import gradients_impl
from . import context as _context
from . import nest
from . import tensor as _tensor
from . import variables as _variables

EagerTensor = _tensor.EagerTensor

__all__ = ["function", "TensorSpec", "Function", "ConcreteFunction", "init_scope"]


class TensorSpec:
    """The dtype and (partial) shape of a tensor argument: tf.TensorSpec, for input_signature."""

    def __init__(self, shape, dtype=_dtypes.float32, name=None):
        self.shape = as_shape(shape)
        self.dtype = _dtypes.as_dtype(dtype)
        self.name = name

    @classmethod
    def from_tensor(cls, tensor, name=None):
        return cls(tensor.shape, tensor.dtype, name)

    def is_compatible_with(self, t):
        return _dtypes.as_dtype(t.dtype) is self.dtype and self.shape.is_compatible_with(t.shape)

    def _key(self):
        return ("T", self.dtype.name, None if self.shape.ndims is None else tuple(self.shape.as_list()))

    def __eq__(self, other):
        return isinstance(other, TensorSpec) and self._key() == other._key() and self.name == other.name

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return "TensorSpec(shape=%s, dtype=%r, name=%r)" % (self.shape, self.dtype, self.name)


_STATEFUL_ORDERED = {"Print", "PrintV2", "Assert", "PyFunc", "EagerPyFunc", "PyFuncStateless"}
_RANDOM = {"RandomUniform", "RandomStandardNormal", "TruncatedNormal", "RandomUniformInt", "RandomShuffle",
           "Multinomial"}


class _Tracing(threading.local):
    def __init__(self):
        super().__init__()
        self.creator = None  # the Function whose trace may create variables now


_tracing = _Tracing()


def _creator_hook():
    f = _tracing.creator
    if f is None:
        return None
    if f._variables_frozen:
        raise ValueError("tf.function-decorated function tried to create variables on non-first call.")
    return _variables.EagerVariable


_variables.creator_hooks.append(_creator_hook)


class _FuncGraph(_ops.Graph):
    """The graph of one trace. Captures eager values (Note [tf.function])."""

    def __init__(self, name):
        super().__init__()
        self._building_function = True
        self.name = name
        self._var_nodes = {}       # variable unique id -> its VariableV2 tensor here
        self.captured_variables = []  # (node id, variable)
        self._tensor_caps = {}     # id(eager tensor) -> (placeholder, tensor)
        self.seed = _context.global_seed()

    def _capture_variable(self, var, dtype, as_ref):
        node = self._var_nodes.get(var._unique_id)
        if node is None:
            shape = var.shape
            with self.control_dependencies(None), self.name_scope(None):
                node = _ops.apply_op("VariableV2", [], {
                    "shape": _core.Shape(None if shape.ndims is None else shape.as_list()),
                    "dtype": var.dtype._enum}, name=var._shared_name).outputs[0]
            self._var_nodes[var._unique_id] = node
            self.captured_variables.append((node.op._id, var))
        if as_ref:
            return node
        if dtype is not None and _dtypes.as_dtype(dtype) is not var.dtype:
            raise ValueError("Incompatible type conversion requested to type '%s' for variable of type '%s'"
                             % (_dtypes.as_dtype(dtype).name, var.dtype.name))
        return _ops.apply1("Identity", [node], name="read")

    def _capture_tensor(self, t, dtype):
        if dtype is not None and _dtypes.as_dtype(dtype) is not t.dtype:
            raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s"
                             % (_dtypes.as_dtype(dtype).name, t.dtype.name))
        cap = self._tensor_caps.get(id(t))
        if cap is None:
            with self.control_dependencies(None), self.name_scope(None):
                ph = _ops.apply1("Placeholder", [], {"dtype": t.dtype._enum,
                                                     "shape": _core.Shape(list(t._shape_tuple()))}, name="capture")
            cap = self._tensor_caps[id(t)] = (ph, t)
        return cap[0]


def _order_program(g, start):
    """Control edges for program order (Note [tf.function]); returns the nodes that must run each call."""
    c = g._c
    last_write, reads = {}, {}
    last_effect = None
    must_run = []
    for nid in range(start, c.num_nodes()):
        typ = c.node_type(nid)
        if typ == "VariableV2":
            continue
        stateful, ref_inputs = c.node_op_info(nid)
        deps = []
        for i, (src, _) in enumerate(c.node_inputs(nid)):
            if c.node_type(src) != "VariableV2":
                continue
            if i in ref_inputs:
                if src in last_write:
                    deps.append(last_write[src])
                deps.extend(reads.get(src, ()))
                last_write[src] = nid
                reads[src] = []
            else:
                if src in last_write:
                    deps.append(last_write[src])
                reads.setdefault(src, []).append(nid)
        if typ in _STATEFUL_ORDERED:
            if last_effect is not None:
                deps.append(last_effect)
            last_effect = nid
        for d in sorted(set(deps)):
            if d != nid:
                c.add_control_input(nid, d)
        if (ref_inputs or typ in _STATEFUL_ORDERED) and stateful:
            must_run.append(nid)
    return must_run


class ConcreteFunction:
    """One trace: its graph, the Session-backed callable, and how to map arguments and results."""

    def __init__(self, graph, arg_placeholders, outputs_structure, flat_outputs, must_run, name):
        self.graph = graph
        self._args = arg_placeholders          # placeholders of the flattened tensor arguments
        self._caps = list(graph._tensor_caps.values())
        self._structure = outputs_structure
        self._flat = flat_outputs              # graph tensors, or Python values returned as they are
        self._fetch_pos = [i for i, o in enumerate(flat_outputs) if isinstance(o, _ops.Tensor)]
        feeds = [p._key() for p in self._args] + [p._key() for p, _ in self._caps]
        fetches = [flat_outputs[i]._key() for i in self._fetch_pos]
        self._fn = _core.EagerFunction(graph._c, feeds, fetches, must_run)
        self._variables = [v for _, v in graph.captured_variables]
        for nid, v in graph.captured_variables:
            self._fn.bind_variable(nid, v._handle)
        self._backward = None
        self.name = name
        self.structured_outputs = outputs_structure

    @property
    def variables(self):
        return tuple(self._variables)

    def _run(self, flat_args):
        vals = []
        for p, a in zip(self._args, flat_args):
            if type(a) is not EagerTensor:
                with _context.eager_mode():
                    a = _ops.convert_to_tensor(a, dtype=p.dtype)
            vals.append(a)
        vals += [t for _, t in self._caps]
        outs = self._fn(vals)
        return vals[:len(self._args)], outs

    def _call_flat(self, flat_args):
        inputs, outs = self._run(flat_args)
        if _core.any_tape():
            outs = self._record(inputs, outs)
        flat = list(self._flat)
        for i, t in zip(self._fetch_pos, outs):
            flat[i] = t
        return nest.pack_sequence_as(self._structure, flat)

    def __call__(self, *args, **kwargs):
        return self._call_flat([a for a in nest.flatten((args, kwargs)) if _is_tensor_arg(a)])

    # ---- differentiating a call (Note [tf.function]) ----
    def _record(self, inputs, outs):
        watched = [x for x in inputs if _core.is_watched(x)] + [v for v in self._variables if _core.is_watched(v._handle)]
        float_outs = [i for i, o in enumerate(outs) if o.dtype.is_floating]
        if not watched or not float_outs:
            return outs

        def backward(out_grads):
            fn = self._backward_function()
            gys = [g if g is not None else _tensor.from_array(np.zeros(o._shape_tuple(), o.dtype.as_numpy_dtype))
                   for g, o in zip(out_grads, outs)]
            res = fn(list(inputs) + [t for _, t in self._caps] + [gys[i] for i in float_outs])
            grads = list(res)
            return [grads.pop(0) if k else None for k in self._bw_present]

        recorded_inputs = list(inputs) + [v._handle for v in self._variables]
        return _core.record_custom_gradient(recorded_inputs, outs, backward)

    def _backward_function(self):
        if self._backward is not None:
            return self._backward
        g = self.graph
        fetched = [self._flat[i] for i in self._fetch_pos]
        float_outs = [t for t in fetched if t.dtype.is_floating]
        with g.as_default():
            gys = [_ops.apply1("Placeholder", [], {"dtype": t.dtype._enum, "shape": _core.Shape(t.shape.as_list()
                                                   if t.shape.ndims is not None else None)}, name="grad_y")
                   for t in float_outs]
            xs = list(self._args) + [g._var_nodes[v._unique_id] for v in self._variables]
            grads = gradients_impl.gradients(float_outs, xs, grad_ys=gys)
        self._bw_present = [gr is not None for gr in grads]
        present = [gr for gr in grads if gr is not None]
        feeds = [p._key() for p in self._args] + [p._key() for p, _ in self._caps] + [p._key() for p in gys]
        self._backward = _core.EagerFunction(g._c, feeds, [t._key() for t in present], [])
        for nid, v in g.captured_variables:
            self._backward.bind_variable(nid, v._handle)
        return self._backward


def _is_tensor_arg(a):
    return type(a) is EagerTensor or isinstance(a, (np.ndarray, TensorSpec)) or isinstance(a, _ops.Tensor)


def _arg_key(a):
    if type(a) is EagerTensor:
        return ("T", a.dtype.name, a._shape_tuple())
    if isinstance(a, TensorSpec):
        return a._key()
    if isinstance(a, np.ndarray):
        return ("T", _dtypes.as_dtype(a.dtype).name, a.shape)
    if getattr(a, "_is_eager_variable", False):
        return ("V", a._unique_id)
    try:
        hash(a)
    except TypeError:
        return ("O", id(a))
    return ("P", type(a).__name__, a)


class Function:
    """A callable that traces `python_function` per input signature (tf.function)."""

    def __init__(self, python_function, name=None, input_signature=None, autograph=True, jit_compile=None,
                 reduce_retracing=False, experimental_relax_shapes=None, experimental_compile=None, **kwargs):
        self._python_function = python_function
        self._name = name or getattr(python_function, "__name__", "function")
        self._input_signature = None if input_signature is None else list(input_signature)
        self._concrete = {}
        self._variables_frozen = False
        self._trace_count = 0
        functools.update_wrapper(self, python_function)

    python_function = property(lambda self: self._python_function)
    input_signature = property(lambda self: self._input_signature)

    def experimental_get_tracing_count(self):
        return self._trace_count

    def __get__(self, instance, owner):
        if instance is None:
            return self
        # A method: one Function per instance, so each object traces and owns its variables.
        cache = self.__dict__.setdefault("_bound", weakref.WeakKeyDictionary())
        try:
            bound = cache.get(instance)
        except TypeError:
            bound = None
        if bound is None:
            # The method holds its object weakly, so the cache entry dies with the object.
            ref, fn = weakref.ref(instance), self._python_function

            def method(*args, **kwargs):
                return fn(ref(), *args, **kwargs)
            bound = Function(method, name=self._name, input_signature=self._input_signature)
            try:
                cache[instance] = bound
            except TypeError:
                pass
        return bound

    def _canonical(self, args, kwargs):
        if self._input_signature is not None:
            if kwargs:
                raise TypeError("%s: keyword arguments are not supported with an input_signature" % self._name)
            flat_sig = nest.flatten(self._input_signature)
            flat_args = nest.flatten(list(args))
            if len(flat_args) != len(flat_sig):
                raise ValueError("%s: expected %d arguments matching the input_signature, got %d"
                                 % (self._name, len(flat_sig), len(flat_args)))
            conv = []
            for a, spec in zip(flat_args, flat_sig):
                t = a if type(a) is EagerTensor else _ops.convert_to_tensor(a, dtype=spec.dtype)
                if not spec.is_compatible_with(t):
                    raise ValueError("Python inputs incompatible with input_signature: %r vs %r" % (t, spec))
                conv.append(t)
            args = nest.pack_sequence_as(list(self._input_signature), conv)
            key = tuple(s._key() for s in flat_sig)
            return args, {}, key
        key = (repr(_structure_of((args, kwargs))), tuple(_arg_key(a) for a in nest.flatten((args, kwargs))))
        return args, kwargs, key

    def __call__(self, *args, **kwargs):
        if not _core.executing_eagerly() or _context._run_functions_eagerly[0]:
            return self._python_function(*args, **kwargs)  # inline: inside another trace, or debugging
        args, kwargs, key = self._canonical(args, kwargs)
        cf = self._concrete.get(key)
        if cf is None:
            cf = self._trace(*((list(self._input_signature), {}) if self._input_signature is not None
                               else (args, kwargs)), key)
        return cf._call_flat([a for a in nest.flatten((args, kwargs)) if _is_tensor_arg(a)])

    def get_concrete_function(self, *args, **kwargs):
        if self._input_signature is not None:
            args, kwargs = list(self._input_signature), {}
            key = tuple(s._key() for s in nest.flatten(self._input_signature))
        else:
            key = (repr(_structure_of((args, kwargs))), tuple(_arg_key(a) for a in nest.flatten((args, kwargs))))
        cf = self._concrete.get(key)
        if cf is None:
            cf = self._trace(args, kwargs, key)
        return cf

    def _trace(self, args, kwargs, key):
        g = _FuncGraph(self._name)
        flat = nest.flatten((args, kwargs))
        placeholders = []
        with g.as_default():
            new_flat = []
            for i, a in enumerate(flat):
                if _is_tensor_arg(a):
                    if isinstance(a, TensorSpec):
                        dt, shape = a.dtype, a.shape
                    elif isinstance(a, np.ndarray):
                        dt, shape = _dtypes.as_dtype(a.dtype), TensorShape(a.shape)
                    else:
                        dt, shape = a.dtype, a.shape
                    p = _ops.apply1("Placeholder", [], {"dtype": dt._enum, "shape": _core.Shape(
                        None if shape.ndims is None else shape.as_list())}, name=getattr(a, "name", None) or "args_%d" % i
                        if isinstance(a, TensorSpec) else "args_%d" % i)
                    placeholders.append(p)
                    new_flat.append(p)
                else:
                    new_flat.append(a)
            targs, tkwargs = nest.pack_sequence_as((args, kwargs), new_flat)
            start = g._c.num_nodes()
            saved = _tracing.creator
            _tracing.creator = self
            try:
                result = self._python_function(*targs, **tkwargs)
            finally:
                _tracing.creator = saved
            flat_out = []
            for o in nest.flatten(result):
                if o is None or isinstance(o, (str, bytes)):
                    flat_out.append(o)
                elif getattr(o, "_is_eager_variable", False) or _ops.is_tensor(o) or isinstance(o, (int, float, np.ndarray)):
                    flat_out.append(_ops.convert_to_tensor(o))
                else:
                    flat_out.append(o)
            must_run = _order_program(g, start)
        self._variables_frozen = True
        self._trace_count += 1
        cf = ConcreteFunction(g, placeholders, result, flat_out, must_run, self._name)
        self._concrete[key] = cf
        return cf


def _structure_of(x):
    if isinstance(x, dict):
        return {k: _structure_of(x[k]) for k in sorted(x)}
    if isinstance(x, (list, tuple)):
        return type(x).__name__, [_structure_of(y) for y in x]
    return None


def function(func=None, input_signature=None, autograph=True, jit_compile=None, reduce_retracing=False,
             experimental_relax_shapes=None, experimental_compile=None, name=None, **kwargs):
    """tf.function: use as `@tf.function` or `tf.function(f, input_signature=[...])`."""
    if func is None:
        return lambda f: Function(f, name=name, input_signature=input_signature)
    return Function(func, name=name, input_signature=input_signature)


defun = function


def init_scope():
    """Runs the block eagerly when the program is eager, also while a tf.function traces (TF's init_scope)."""
    if _core._eager_default():
        return _context.eager_mode()
    return contextlib.nullcontext()
