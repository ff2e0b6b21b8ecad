"""The `checkpoint` state file, checkpoint prefixes and reading checkpoints (tf.train.latest_checkpoint,
get_checkpoint_state, checkpoint_exists, list_variables, load_variable, NewCheckpointReader).

A checkpoint is named by its prefix ("dir/model-100"); its tensors live in PREFIX.safetensors and its
graph in PREFIX.meta. The state file and the safetensors format are read and written in C++
(cpp/io/checkpoint.cc), so C++ programs share them. TensorFlow's V2 checkpoints (PREFIX.index and
PREFIX.data-*) are read everywhere a checkpoint is (train/tf_checkpoint.py)."""
import glob
import logging
import os

from .. import _core
from ..framework import dtypes as _dtypes
from ..framework import errors
from . import tf_checkpoint as _tfc

__all__ = ["CheckpointState", "generate_checkpoint_state_proto", "update_checkpoint_state",
           "get_checkpoint_state", "latest_checkpoint", "checkpoint_exists", "get_checkpoint_mtimes",
           "remove_checkpoint", "meta_graph_filename", "NewCheckpointReader", "load_checkpoint",
           "list_variables", "load_variable"]

_EXT = ".safetensors"
_ST_DTYPES = {"F32": _dtypes.float32, "F64": _dtypes.float64, "I32": _dtypes.int32, "I64": _dtypes.int64,
              "BOOL": _dtypes.bool, "STRING": _dtypes.string}
# TF's DataType names, which CheckpointReader.debug_string prints.
_TF_DT_NAMES = {"F32": "DT_FLOAT", "F64": "DT_DOUBLE", "I32": "DT_INT32", "I64": "DT_INT64", "BOOL": "DT_BOOL",
                "STRING": "DT_STRING"}


def _data_file(prefix):
    prefix = os.fspath(prefix)
    return prefix if prefix.endswith(_EXT) else prefix + _EXT


def _prefix_of(path):
    path = os.fspath(path)
    return path[:-len(_EXT)] if path.endswith(_EXT) else path


def meta_graph_filename(checkpoint_filename, meta_graph_suffix="meta"):
    """"dir/model-10" -> "dir/model-10.meta"."""
    return _prefix_of(checkpoint_filename) + "." + meta_graph_suffix


class CheckpointState:
    """TensorFlow's CheckpointState message: the newest prefix and the prefixes still kept."""

    def __init__(self, model_checkpoint_path="", all_model_checkpoint_paths=(),
                 all_model_checkpoint_timestamps=(), last_preserved_timestamp=0.0):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = last_preserved_timestamp

    def __eq__(self, other):
        return isinstance(other, CheckpointState) and vars(self) == vars(other)

    def __repr__(self):
        lines = ['model_checkpoint_path: "%s"' % self.model_checkpoint_path]
        lines += ['all_model_checkpoint_paths: "%s"' % p for p in self.all_model_checkpoint_paths]
        return "\n".join(lines) + "\n"


def _save_dir(save_dir):
    return os.fspath(save_dir) or "."


def generate_checkpoint_state_proto(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                                    all_model_checkpoint_timestamps=None, last_preserved_timestamp=None):
    """TF's rule: the newest path ends the list; with a relative save_dir, relative paths are stored
    relative to it (get_checkpoint_state joins them back)."""
    save_dir = _save_dir(save_dir)
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    if not os.path.isabs(save_dir):
        if not os.path.isabs(model_checkpoint_path):
            model_checkpoint_path = os.path.relpath(model_checkpoint_path, save_dir)
        paths = [p if os.path.isabs(p) else os.path.relpath(p, save_dir) for p in paths]
    return CheckpointState(model_checkpoint_path, paths, all_model_checkpoint_timestamps or (),
                           last_preserved_timestamp or 0.0)


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None, save_relative_paths=False):
    """Writes the state file atomically (temporary file, fsync, rename)."""
    save_dir = _save_dir(save_dir)
    latest_filename = latest_filename or "checkpoint"
    if save_relative_paths:
        def rel(p):
            return os.path.relpath(p, save_dir) if os.path.isabs(p) else p
        model_checkpoint_path = rel(model_checkpoint_path)
        all_model_checkpoint_paths = [rel(p) for p in (all_model_checkpoint_paths or [])]
    st = generate_checkpoint_state_proto(save_dir, model_checkpoint_path, all_model_checkpoint_paths,
                                         all_model_checkpoint_timestamps, last_preserved_timestamp)
    if os.path.join(save_dir, latest_filename) == os.path.join(save_dir, st.model_checkpoint_path):
        raise RuntimeError("Save path '%s' conflicts with path used for checkpoint state. Please use a "
                           "different save path." % model_checkpoint_path)
    _core.write_checkpoint_state(save_dir, st.model_checkpoint_path, st.all_model_checkpoint_paths,
                                 [float(t) for t in st.all_model_checkpoint_timestamps],
                                 float(st.last_preserved_timestamp), latest_filename)


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The CheckpointState of `checkpoint_dir`, or None when there is no (readable) state file."""
    checkpoint_dir = _save_dir(checkpoint_dir)
    latest_filename = latest_filename or "checkpoint"
    try:
        st = _core.read_checkpoint_state(checkpoint_dir, latest_filename)
    except errors.OpError as e:  # TF ignores an unreadable state file, with a warning
        logging.warning("%s: %s", type(e).__name__, e)
        logging.warning("%s: Checkpoint ignored", os.path.join(checkpoint_dir, latest_filename))
        return None
    if st is None:
        return None
    model, paths, stamps, preserved = st
    if not model:
        raise ValueError("Invalid checkpoint state loaded from %s" % os.path.join(checkpoint_dir, latest_filename))

    def absolute(p):
        return p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)
    return CheckpointState(absolute(model), [absolute(p) for p in paths], stamps, preserved)


def checkpoint_exists(checkpoint_prefix):
    """True when the checkpoint's data file exists (the prefix or the .safetensors path may be given), in
    tideflow's format or as a TensorFlow bundle (PREFIX.index)."""
    return _tfc.checkpoint_format(checkpoint_prefix) is not None


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The newest checkpoint prefix recorded in the state file, or None."""
    st = get_checkpoint_state(checkpoint_dir, latest_filename)
    if st and st.model_checkpoint_path:
        if checkpoint_exists(st.model_checkpoint_path):
            return st.model_checkpoint_path
        logging.error("Couldn't match files for checkpoint %s", st.model_checkpoint_path)
    return None


def get_checkpoint_mtimes(checkpoint_prefixes):
    return [os.path.getmtime(_data_file(p) if _tfc.checkpoint_format(p) == _tfc.TIDEFLOW else _tfc.index_file(p))
            for p in checkpoint_prefixes if checkpoint_exists(p)]


def remove_checkpoint(checkpoint_prefix, checkpoint_format_version=None, meta_graph_suffix="meta"):
    """Deletes every file of a checkpoint, including temporaries a killed writer left behind."""
    prefix = _prefix_of(checkpoint_prefix)
    for f in [prefix + _EXT, prefix + "." + meta_graph_suffix] + _tfc.bundle_files(prefix):
        for g in [f] + glob.glob(glob.escape(f) + ".tmp.*"):
            try:
                os.remove(g)
            except FileNotFoundError:
                pass


# ---------------------------------------------------------------------------------------------------
# Reading checkpoints


class CheckpointReader:
    """tf.train.NewCheckpointReader: the tensors of one checkpoint, each read and verified on demand.
    Missing files and names raise NotFoundError with TensorFlow's messages."""

    def __init__(self, filepattern):
        filepattern = os.fspath(filepattern)
        fmt = _tfc.checkpoint_format(filepattern)
        if fmt is None:
            _tfc.raise_if_v1(filepattern)
            raise errors.NotFoundError(None, None, "Unsuccessful TensorSliceReader constructor: Failed to find any "
                                       "matching files for %s" % filepattern)
        self._r = _core.CheckpointReader(_data_file(filepattern)) if fmt == _tfc.TIDEFLOW else \
            _tfc.BundleReader(filepattern)
        self._entries = {name: (dt, shape) for name, dt, shape in self._r.entries()}

    def has_tensor(self, name):
        return name in self._entries

    def get_tensor(self, name):
        if name not in self._entries:
            raise errors.NotFoundError(None, None, "Key %s not found in checkpoint" % name)
        return self._r.read(name)

    def get_variable_to_shape_map(self):
        return {n: list(s) for n, (_, s) in self._entries.items()}

    def get_variable_to_dtype_map(self):
        return {n: _ST_DTYPES.get(dt, dt) for n, (dt, _) in self._entries.items()}

    def metadata(self):
        """The safetensors __metadata__: format version, global step, checksums."""
        return dict(self._r.metadata())

    @property
    def global_step(self):
        s = self._r.metadata().get("global_step")
        return int(s) if s is not None else None

    def debug_string(self):
        """b"name (DT_FLOAT) [2,3]\\n" per tensor, sorted by name, as TensorFlow prints it."""
        return "".join("%s (%s) [%s]\n" % (n, _TF_DT_NAMES.get(dt, dt), ",".join(str(d) for d in s))
                       for n, (dt, s) in sorted(self._entries.items())).encode()


def NewCheckpointReader(filepattern):  # noqa: N802 (TF's name)
    return CheckpointReader(filepattern)


def _checkpoint_file(ckpt_dir_or_file):
    ckpt_dir_or_file = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(ckpt_dir_or_file):
        p = latest_checkpoint(ckpt_dir_or_file)
        if p is None:
            raise ValueError("Couldn't find 'checkpoint' file or checkpoints in given directory %s"
                             % ckpt_dir_or_file)
        return p
    return ckpt_dir_or_file


def load_checkpoint(ckpt_dir_or_file):
    return CheckpointReader(_checkpoint_file(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file):
    """[(name, shape)] of every tensor in the checkpoint, sorted by name."""
    r = load_checkpoint(ckpt_dir_or_file)
    return sorted(r.get_variable_to_shape_map().items())


def load_variable(ckpt_dir_or_file, name):
    if name.endswith(":0"):
        name = name[:-2]
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)

