"""tf.train.init_from_checkpoint (TF1 semantics): fine-tuning from a checkpoint by overriding variables'
initializers.

Note [checkpoint initializers are constants]
TensorFlow makes each overridden initializer a RestoreV2 op that reads the file when the initializer runs.
tideflow has no graph op that reads checkpoints (the Saver moves values between the file and the Session in
C++, outside the graph), so here the tensor is read once, when init_from_checkpoint is called, verified by
the reader, and the initializer becomes `Assign(variable, Const(value))`. The visible behaviour is TF's:
nothing changes until the initializer runs, and running it (again) loads the checkpoint value. The
differences: the value is the file's content at init_from_checkpoint time, and it is held in the graph,
so it is part of an exported meta graph."""
import collections.abc
import logging

import numpy as np

from ..framework import meta_graph as _meta_graph
from ..framework import ops as _ops
from ..framework.tensor_shape import TensorShape
from ..ops import variable_scope as _vs
from . import checkpoint_management as _cm

__all__ = ["init_from_checkpoint"]


def _is_variable(x):
    return _meta_graph._is_variable(x)


def _collect_partitioned_variable(name, all_vars):
    """The variables `name/part_0`, `name/part_1`... in order, or None."""
    if name + "/part_0" not in all_vars:
        return None
    out, i = [], 0
    while name + "/part_%d" % i in all_vars:
        out.append(all_vars[name + "/part_%d" % i])
        i += 1
    return out


def _set_checkpoint_initializer(variable, value):
    """Makes `variable`'s initializer assign `value` (see Note [checkpoint initializers are constants])."""
    g = variable.graph
    if value.dtype != variable.dtype.as_numpy_dtype:
        raise ValueError("Dtype of variable %s (%s) doesn't match with dtype of tensor from checkpoint (%s)."
                         % (variable.name, variable.dtype.name, value.dtype))
    with g.as_default(), g.control_dependencies(None), _ops.name_scope(None):
        const = _ops.constant_op(value, dtype=variable.dtype, name="checkpoint_initializer")
        with _ops.name_scope(variable.op.name + "/"):
            init_op = _ops.apply_op("Assign", [variable._variable, const], {"validate_shape": True},
                                    name="checkpoint_initializer")
    variable._initializer_op = init_op
    variable._initial_value = const


def _set_variable_or_list_initializer(variable_or_list, value, tensor_name):
    """A list stands for the partitions of one variable, consecutive along the first axis."""
    if not isinstance(variable_or_list, (list, tuple)):
        _set_checkpoint_initializer(variable_or_list, value)
        return
    shapes = [v.get_shape() for v in variable_or_list]
    ok = value.ndim >= 1 and all(s.ndims == value.ndim and s.is_fully_defined() and
                                 s.as_list()[1:] == list(value.shape[1:]) for s in shapes)
    if not ok or sum(s.as_list()[0] for s in shapes) != value.shape[0]:
        raise ValueError("Shapes of variables %s (%s) don't partition the shape of tensor %s (%s) from "
                         "checkpoint reader along its first axis."
                         % (",".join(v.name for v in variable_or_list), ", ".join(str(s) for s in shapes),
                            tensor_name, list(value.shape)))
    start = 0
    for v, s in zip(variable_or_list, shapes):
        n = s.as_list()[0]
        _set_checkpoint_initializer(v, np.ascontiguousarray(value[start:start + n]))
        start += n


def init_from_checkpoint(ckpt_dir_or_file, assignment_map):
    """Overrides the initializers of the variables named in `assignment_map` so that they load tensors of the
    checkpoint (a directory's latest checkpoint or a prefix). Values load when the initializer runs.

    assignment_map (a dict or a list of pairs; keys are checkpoint names):
      * 'checkpoint_scope/': 'scope/' -- every get_variable variable under scope/ from the same name under
        checkpoint_scope/ (all of them must be in the checkpoint);
      * 'checkpoint_scope/var': 'scope/var' -- one variable by name;
      * 'checkpoint_var': variable -- a Variable object;
      * 'checkpoint_var': [variables] -- the partitions of one variable;
      * '/': 'scope/' -- every variable under scope/ from the checkpoint's root.
    Raises ValueError for names missing from the checkpoint and for shape mismatches, as TensorFlow does;
    TensorFlow reports a mismatch found through a scope mapping only when the initializer runs, tideflow
    here, and for dtype mismatches too."""
    reader = _cm.load_checkpoint(ckpt_dir_or_file)
    variable_map = reader.get_variable_to_shape_map()
    if isinstance(assignment_map, collections.abc.Mapping):
        assignment_map = assignment_map.items()
    store_vars = _vs._get_default_variable_store()._vars
    values = {}

    def load(var, tensor_name):
        if tensor_name not in values:
            values[tensor_name] = reader.get_tensor(tensor_name)
        _set_variable_or_list_initializer(var, values[tensor_name], tensor_name)

    for tensor_name_in_ckpt, current_var_or_name in sorted(assignment_map, key=lambda pair: pair[0]):
        if _is_variable(current_var_or_name) or (
                isinstance(current_var_or_name, list) and current_var_or_name
                and all(_is_variable(v) for v in current_var_or_name)):
            var = current_var_or_name
        else:
            if not isinstance(current_var_or_name, str):
                raise TypeError("assignment_map values must be variables, lists of variables or names; got %r"
                                % (current_var_or_name,))
            var = store_vars.get(current_var_or_name)
            if var is None:
                var = _collect_partitioned_variable(current_var_or_name, store_vars)
        if var is not None:
            if tensor_name_in_ckpt not in variable_map:
                raise ValueError("Tensor %s is not found in %s checkpoint %s"
                                 % (tensor_name_in_ckpt, ckpt_dir_or_file, variable_map))
            if _is_variable(var):
                if not var.get_shape().is_compatible_with(TensorShape(variable_map[tensor_name_in_ckpt])):
                    raise ValueError("Shape of variable %s (%s) doesn't match with shape of tensor %s (%s) from "
                                     "checkpoint reader." % (var.name, str(var.get_shape()), tensor_name_in_ckpt,
                                                             str(variable_map[tensor_name_in_ckpt])))
                var_name = var.name
            else:
                var_name = ",".join(v.name for v in var)
            load(var, tensor_name_in_ckpt)
            logging.debug("Initialize variable %s from checkpoint %s with %s", var_name, ckpt_dir_or_file,
                          tensor_name_in_ckpt)
            continue
        # A scope-to-scope mapping: every get_variable variable under the scope (TF's rules, quirks included).
        scopes = ""
        if "/" in current_var_or_name:
            scopes = current_var_or_name[:current_var_or_name.rindex("/")]
        if not tensor_name_in_ckpt.endswith("/"):
            raise ValueError("Assignment map with scope only name {} should map to scope only {}. Should be "
                             "'scope/': 'other_scope/'.".format(scopes, tensor_name_in_ckpt))
        scope_variables = set()
        for var_name in store_vars:
            if not scopes or var_name.startswith(scopes + "/"):
                if "/part_" in var_name:
                    var_name = var_name[:var_name.index("/part_")]
                scope_variables.add(var_name)
        for var_name in sorted(scope_variables):
            full_tensor_name = var_name[len(scopes):]
            if current_var_or_name != "/":
                full_tensor_name = full_tensor_name[1:]
            if tensor_name_in_ckpt != "/":
                full_tensor_name = tensor_name_in_ckpt + full_tensor_name
            if full_tensor_name.endswith("/"):
                full_tensor_name = full_tensor_name[:-1]
            if full_tensor_name not in variable_map:
                raise ValueError("Tensor %s (%s in %s) is not found in %s checkpoint"
                                 % (full_tensor_name, var_name[len(scopes) + 1:], tensor_name_in_ckpt,
                                    ckpt_dir_or_file))
            var = store_vars.get(var_name)
            if var is None:
                var = _collect_partitioned_variable(var_name, store_vars)
            if _is_variable(var) and not var.get_shape().is_compatible_with(
                    TensorShape(variable_map[full_tensor_name])):
                raise ValueError("Shape of variable %s (%s) doesn't match with shape of tensor %s (%s) from "
                                 "checkpoint reader." % (var.name, str(var.get_shape()), full_tensor_name,
                                                         str(variable_map[full_tensor_name])))
            load(var, full_tensor_name)
            logging.debug("Initialize variable %s from checkpoint %s with %s", var_name, ckpt_dir_or_file,
                          full_tensor_name)
