"""tf.train.Saver (TF1 semantics) over safetensors checkpoints.

Values move between the Session's variables and the file in C++ (cpp/io/checkpoint.cc): saving takes a
consistent snapshot of each variable, restoring verifies the whole file (names, shapes, dtypes,
checksums) before assigning anything. This module keeps TF's bookkeeping: prefixes with the global step,
max_to_keep / keep_checkpoint_every_n_hours, the `checkpoint` state file written last, meta graphs."""
import numbers
import os
import time

from .. import _core
from ..framework import meta_graph as _meta_graph
from ..framework import ops as _ops
from ..framework import tf_meta_graph as _tf_meta_graph
from ..ops import state_ops as _state_ops
from . import checkpoint_management as _cm
from . import tf_checkpoint as _tfc

__all__ = ["Saver", "export_meta_graph", "import_meta_graph"]  # and SaverDef, loaded on first use (train/__init__.py)

export_meta_graph = _meta_graph.export_meta_graph


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None, **kwargs):
    """Adds the nodes of a meta graph to the default graph (names under `import_scope`), restores its
    collections and seed, and returns a Saver for its variables (None when it has none)."""
    saver_kwargs = _meta_graph.import_scoped_meta_graph(
        meta_graph_or_file, _state_ops.Variable._from_parts, clear_devices=clear_devices, import_scope=import_scope,
        **kwargs)
    return Saver(**saver_kwargs) if saver_kwargs is not None else None


def _variable_tensor(v, what):
    """The VariableV2 output behind `v` (a Variable or its ref tensor)."""
    if _meta_graph._is_variable(v):
        return v._variable
    if isinstance(v, _ops.Tensor) and v.op.type == "VariableV2":
        return v
    raise TypeError("%s must be a Variable or a variable's tensor, got %r" % (what, v))


def _var_map(var_list, slices=None):
    """Checkpoint name -> variable tensor, in a stable order. The parts of a partitioned variable (a list
    value, or Variables carrying TensorFlow's save-slice info) go under their own op names, and `slices`
    records which slice of which TensorFlow checkpoint tensor each holds (tf_checkpoint.slice_of)."""
    slices = {} if slices is None else slices
    if isinstance(var_list, dict):
        out = {}
        for name, v in var_list.items():
            if not isinstance(name, str):
                raise TypeError("var_list keys must be checkpoint names (strings), got %r" % (name,))
            if isinstance(v, (list, tuple)):
                for part in v:
                    t = _variable_tensor(part, "var_list[%r]" % name)
                    out[t.op.name] = t
                    slices[t.op.name] = _tfc.slice_of(part, name)
                continue
            out[name] = _variable_tensor(v, "var_list[%r]" % name)
        return out
    if isinstance(var_list, (_ops.Tensor,)) or _meta_graph._is_variable(var_list):
        var_list = [var_list]
    out = {}
    for v in var_list:
        t = _variable_tensor(v, "Every element of var_list")
        name = t.op.name
        if getattr(v, "_save_slice_info", None) is not None:
            slices[name] = _tfc.slice_of(v)
        if name in out:
            if out[name] is t:
                continue
            raise ValueError("At least two variables have the same name: %s" % name)
        out[name] = t
    return out


def _core_session(sess):
    """The tf.Session behind `sess` (wrappers such as monitored sessions keep theirs in `_sess`)."""
    s = sess
    for _ in range(8):
        if isinstance(getattr(s, "_c", None), _core.Session):
            if getattr(s, "_closed", False):
                raise RuntimeError("Attempted to use a closed Session.")
            return s
        inner = getattr(s, "_sess", None) or getattr(s, "_tf_sess", None)
        if inner is None:
            break
        s = inner() if callable(inner) else inner
    raise TypeError("'sess' must be a Session; got %r" % (sess,))


class Saver:
    """Saves and restores variables (TF1's tf.train.Saver).

    var_list: None (all global variables, optimizer slots included), a list of variables (saved under their
    op names, e.g. "theta", "theta/Adam") or a dict {checkpoint name: variable}.
    Files: tideflow's PREFIX.safetensors and PREFIX.meta by default; TensorFlow's V2 bundle
    (PREFIX.index, PREFIX.data-00000-of-00001) and a TensorFlow MetaGraphDef with
    `write_version=tf.train.SaverDef.V2` or `format="tensorflow"`, so TensorFlow can restore them.
    `restore` reads either format, whichever is at the path."""

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False, saver_def=None,
                 builder=None, defer_build=False, allow_empty=False, write_version=None, pad_step_number=False,
                 save_relative_paths=False, filename=None, format=None):  # noqa: A002 (tideflow's option)
        self._format = _saver_format(write_version, format)
        if saver_def is not None:
            raise ValueError("saver_def is not supported; use tf.train.import_meta_graph, which returns a Saver")
        self._var_list_arg = var_list
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._name = name
        self._allow_empty = allow_empty
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._filename = filename
        self._last_checkpoints = []  # [(prefix, time)], oldest first
        self._checkpoints_to_be_deleted = []
        self._next_checkpoint_time = time.time() + keep_checkpoint_every_n_hours * 3600
        self._last_preserved_timestamp = 0.0
        self._vars = None
        if not defer_build:
            self.build()

    def build(self):
        if self._vars is not None:
            return
        var_list = self._var_list_arg
        if var_list is None:
            var_list = _state_ops.global_variables()
        self._slices = {}
        self._vars = _var_map(var_list, self._slices)
        if not self._vars and not self._allow_empty:
            raise ValueError("No variables to save")
        self._graph = next(iter(self._vars.values())).graph if self._vars else _ops.get_default_graph()
        for name, t in self._vars.items():
            if t.graph is not self._graph:
                raise ValueError("All variables of a Saver must be in one graph; '%s' is not." % name)

    @property
    def _is_empty(self):
        return not self._vars

    # ---- bookkeeping ----
    @property
    def last_checkpoints(self):
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints):
        self._last_checkpoints = [(p, time.time()) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time):
        self._last_checkpoints = [(p, float(t)) for p, t in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths):
        """Takes over checkpoints a previous run wrote (with their file times)."""
        kept = [p for p in checkpoint_paths if _cm.checkpoint_exists(p)]
        self.set_last_checkpoints_with_time(list(zip(kept, _cm.get_checkpoint_mtimes(kept))))

    def as_saver_def(self):
        return {"var_list": [[k, t.op.name] for k, t in self._vars.items()], "max_to_keep": self._max_to_keep,
                "keep_checkpoint_every_n_hours": self._keep_checkpoint_every_n_hours, "name": self._name}

    def _record_last_checkpoint(self, prefix):
        if self._max_to_keep is None:  # TF: nothing is tracked, nothing deleted
            return
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != prefix]
        self._last_checkpoints.append((prefix, time.time()))
        if self._max_to_keep > 0:
            while len(self._last_checkpoints) > self._max_to_keep:
                self._checkpoints_to_be_deleted.append(self._last_checkpoints.pop(0))

    def _delete_old_checkpoints(self, meta_graph_suffix):
        while self._checkpoints_to_be_deleted:
            prefix, t = self._checkpoints_to_be_deleted.pop(0)
            if t > self._next_checkpoint_time:  # one checkpoint per keep_checkpoint_every_n_hours survives
                self._next_checkpoint_time += self._keep_checkpoint_every_n_hours * 3600
                self._last_preserved_timestamp = t
                continue
            _cm.remove_checkpoint(prefix, meta_graph_suffix=meta_graph_suffix)

    # ---- save / restore ----
    def _names_and_ids(self, sess):
        if sess.graph is not self._graph:
            raise ValueError("The Session's graph is not the graph of the Saver's variables.")
        return list(self._vars.keys()), [t.op._id for t in self._vars.values()]

    def save(self, sess, save_path, global_step=None, latest_filename=None, meta_graph_suffix="meta",
             write_meta_graph=True, write_state=True, strip_default_attrs=False, save_debug_info=False):
        """Writes `save_path[-global_step].safetensors` (+ `.meta`), then the state file; returns the prefix."""
        if self._is_empty:
            return None
        latest_filename = latest_filename or "checkpoint"
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        save_path = os.fspath(save_path)
        s = _core_session(sess)
        step = None
        if global_step is not None:
            step = int(global_step) if isinstance(global_step, numbers.Integral) else int(s.run(global_step))
            prefix = "%s-%08d" % (save_path, step) if self._pad_step_number else "%s-%d" % (save_path, step)
        else:
            prefix = save_path
        save_dir = os.path.dirname(save_path) or "."
        if not os.path.isdir(save_dir):
            raise ValueError("Parent directory of %s doesn't exist, can't save." % save_path)
        names, ids = self._names_and_ids(s)
        if self._format == _tfc.TENSORFLOW:
            _core.save_variables_tf(s._c, prefix, *_tfc.bundle_keys(names, ids, self._slices))
        else:
            metadata = {} if step is None else {"global_step": str(step)}
            _core.save_variables(s._c, _cm._data_file(prefix), names, ids, metadata)
        if write_meta_graph:
            self.export_meta_graph(_cm.meta_graph_filename(prefix, meta_graph_suffix))
        if write_state:
            self._record_last_checkpoint(prefix)
            kept = self._last_checkpoints or [(prefix, time.time())]
            _cm.update_checkpoint_state(save_dir, prefix, [p for p, _ in kept], latest_filename,
                                        [t for _, t in kept], self._last_preserved_timestamp,
                                        self._save_relative_paths)
            self._delete_old_checkpoints(meta_graph_suffix)
        return prefix

    def restore(self, sess, save_path):
        """Assigns every variable of the Saver from the checkpoint; all-or-nothing."""
        if self._is_empty:
            return
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        save_path = os.fspath(save_path)
        fmt = _tfc.checkpoint_format(save_path)
        if fmt is None:
            _tfc.raise_if_v1(save_path)
            raise ValueError("The passed save_path is not a valid checkpoint: " + save_path)
        s = _core_session(sess)
        names, ids = self._names_and_ids(s)
        if fmt == _tfc.TENSORFLOW:
            _core.restore_variables_tf(s._c, save_path, *_tfc.bundle_keys(names, ids, self._slices))
        else:
            _core.restore_variables(s._c, _cm._data_file(save_path), names, ids)

    def export_meta_graph(self, filename=None, collection_list=None, as_text=False, export_scope=None,
                          clear_devices=False, clear_extraneous_savers=False, strip_default_attrs=False,
                          save_debug_info=False):
        if self._format == _tfc.TENSORFLOW or as_text:
            return _tf_meta_graph.export_meta_graph(filename=filename, saver=self, collection_list=collection_list,
                                                    as_text=as_text, graph=self._graph, clear_devices=clear_devices,
                                                    strip_default_attrs=strip_default_attrs)
        return _meta_graph.export_meta_graph(filename=filename, saver_def=self.as_saver_def(),
                                             collection_list=collection_list, as_text=as_text,
                                             graph=self._graph, export_scope=export_scope,
                                             clear_devices=clear_devices)


def _saver_format(write_version, fmt):
    """The files a Saver writes: tideflow's by default, TensorFlow's V2 bundle when asked for."""
    if fmt is not None:
        if fmt in ("tensorflow", "tf"):
            return _tfc.TENSORFLOW
        if fmt in ("tideflow", "safetensors"):
            return _tfc.TIDEFLOW
        raise ValueError("format must be 'tideflow' (safetensors, the default) or 'tensorflow' (a V2 bundle), "
                         "got %r" % (fmt,))
    if write_version is None:
        return _tfc.TIDEFLOW
    if write_version == 2:  # SaverDef.V2
        return _tfc.TENSORFLOW
    if write_version == 1:  # SaverDef.V1
        raise ValueError("TensorFlow's V1 checkpoint format is not supported; use "
                         "write_version=tf.train.SaverDef.V2 (TensorFlow's bundle) or leave it out (tideflow's format)")
    raise ValueError("write_version must be tf.train.SaverDef.V1 or V2, got %r" % (write_version,))
