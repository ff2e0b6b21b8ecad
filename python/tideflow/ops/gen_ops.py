"""Wrappers made from the op registry: an op whose row carries a Python API (Note [ops carry their Python
API] in cpp/op_registry.h) gets `tf.math.erf(x, name=None)` without a hand-written function.

Each wrapper builds its node with apply_op through math_ops' `_unary` / `_binary`, so it converts its
arguments by TensorFlow's rules (Python values become constants; a second input takes the first's dtype,
under the op's name scope) and names the node after the op type, as the generated TensorFlow wrappers do.
The functions are module attributes here (`gen_ops.erf`, for the ops modules to call) and `install` puts
them where the registry says (`erf` in tf, `math.erf` in tf.math).
"""
import keyword
import types

from .. import _core
from . import math_ops

__all__ = []  # installed by install(), not star-imported


def _check_identifier(what, op, name):
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError("op %s: %s %r is not a Python identifier" % (op, what, name))


# A wrapper is defined from source so that it has TensorFlow's exact signature (users pass `features=` to
# tf.nn.relu) at no per-call cost. One factory is compiled per distinct argument list (("x",) serves most
# ops) and makes a closure per op, which keeps `import tideflow` fast; the names come from the registry and
# are checked above.
_TEMPLATES = {
    1: "def make(op):\n    def wrapper({a}, name=None):\n        return _unary(op, {a}, name)\n    return wrapper\n",
    2: "def make(op):\n    def wrapper({a}, {b}, name=None):\n        return _binary(op, {a}, {b}, name)\n"
       "    return wrapper\n",
}
_factories = {}  # argument names -> make(op)


def _factory(args):
    make = _factories.get(args)
    if make is None:
        env = {"_unary": math_ops._unary, "_binary": math_ops._binary}
        source = _TEMPLATES[len(args)].format(a=args[0], b=args[-1])
        exec(compile(source, "<tideflow.ops.gen_ops>", "exec"), env)  # noqa: S102 (see above)
        make = _factories[args] = env["make"]
    return make


def _make_wrappers(op_apis):
    """(wrappers by Python name, [(dotted API name, wrapper)]) for the ops of `op_apis`, as
    _core.op_apis() lists them: (op type, number of inputs, argument names, API names, docstring)."""
    wrappers, placements = {}, []
    for op, num_inputs, args, api, doc in sorted(op_apis):
        _check_identifier("op type", op, op)
        if num_inputs not in _TEMPLATES or len(args) != num_inputs:
            raise ValueError("op %s: a generated wrapper needs 1 or 2 inputs, each named in .args(); got %d "
                             "inputs and args %r" % (op, num_inputs, args))
        for a in args:
            _check_identifier("argument", op, a)
        for name in api:
            for part in name.split("."):
                _check_identifier("API name part", op, part)
        top = [n for n in api if "." not in n]
        fn = (top[0] if top else api[0]).rpartition(".")[2]
        f = _factory(tuple(args))(op)
        f.__name__, f.__qualname__, f.__module__, f.__doc__ = fn, fn, __name__, doc or None
        f._op_type = op
        for name in api:
            short = name.rpartition(".")[2]
            if wrappers.get(short, f) is not f:
                raise ValueError("ops %s and %s both claim the Python name %r" % (wrappers[short]._op_type, op, short))
            wrappers[short] = f
            placements.append((name, f))
    return wrappers, placements


_WRAPPERS, _PLACEMENTS = _make_wrappers(_core.op_apis())
if set(_WRAPPERS) & set(globals()):
    raise ValueError("generated wrappers would replace gen_ops' own names: %s" % sorted(set(_WRAPPERS) & set(globals())))
globals().update(_WRAPPERS)


def install(ns, placements=None):
    """Puts every wrapper where its op's API names say, in the package namespace `ns` (tideflow's
    globals): "erf" as tf.erf, "math.erf" on the tf.math module (made when missing)."""
    for name, f in _PLACEMENTS if placements is None else placements:
        *path, short = name.split(".")
        target = None
        for depth, part in enumerate(path):
            holder = ns if target is None else target.__dict__
            if part not in holder:
                holder[part] = types.ModuleType("tideflow." + ".".join(path[:depth + 1]))
            target = holder[part]
        if target is None:
            ns[short] = f
        else:
            setattr(target, short, f)
