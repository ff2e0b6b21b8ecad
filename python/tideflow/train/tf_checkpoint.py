"""TensorFlow's V2 checkpoints (tensor bundles: PREFIX.index + PREFIX.data-NNNNN-of-NNNNN) next to
tideflow's own PREFIX.safetensors.

Reading and writing happen in C++ (cpp/io/tf_bundle.cc, Note [tensor bundles]); this module tells the
formats apart for checkpoint_management and the Saver, and adapts the bundle reader to the interface
CheckpointReader uses."""
import glob
import os

from .. import _core
from ..framework import errors

__all__ = []

TIDEFLOW = "tideflow"      # PREFIX.safetensors (the default)
TENSORFLOW = "tensorflow"  # TensorFlow's V2 bundle

_ST_EXT = ".safetensors"
# tideflow's dtypes under the safetensors names CheckpointReader uses; others keep TensorFlow's name.
_CODES = {1: "F32", 2: "F64", 3: "I32", 9: "I64", 10: "BOOL", 7: "STRING"}


def index_file(prefix):
    return os.fspath(prefix) + ".index"


def is_bundle(prefix):
    return os.path.isfile(index_file(prefix))


def checkpoint_format(prefix):
    """TIDEFLOW or TENSORFLOW for the files at `prefix` (the newer when both exist), None when neither."""
    prefix = os.fspath(prefix)
    st = prefix if prefix.endswith(_ST_EXT) else prefix + _ST_EXT
    have_st, have_tf = os.path.isfile(st), (not prefix.endswith(_ST_EXT)) and is_bundle(prefix)
    if have_st and have_tf:
        return TIDEFLOW if os.path.getmtime(st) >= os.path.getmtime(index_file(prefix)) else TENSORFLOW
    return TIDEFLOW if have_st else TENSORFLOW if have_tf else None


def bundle_files(prefix):
    """The index and every data shard of the bundle at `prefix`, plus temporaries a killed writer left."""
    prefix = os.fspath(prefix)
    esc = glob.escape(prefix)
    return [index_file(prefix)] + glob.glob(esc + ".data-[0-9]*-of-[0-9]*") + glob.glob(esc + ".index.tmp.*")


def raise_if_v1(prefix):
    """A clear error for TensorFlow's V1 checkpoints (one file named PREFIX, or PREFIX-NNNNN-of-NNNNN)."""
    prefix = os.fspath(prefix)
    if os.path.isfile(prefix) or glob.glob(glob.escape(prefix) + "-[0-9]*-of-[0-9]*"):
        raise errors.UnimplementedError(
            None, None, "%s is a TensorFlow V1 checkpoint (the tensor-slices format), which tideflow does not read. "
            "Re-save it in the V2 format with TensorFlow: tf.train.Saver(write_version=tf.train.SaverDef.V2)." % prefix)


def slice_of(variable, full_name=None):
    """(checkpoint tensor name, full shape, [(start, length)...]) of a part of a partitioned variable."""
    info = getattr(variable, "_save_slice_info", None)
    if info is None:
        raise ValueError("%s is listed as a part of partitioned variable %s but has no slice information"
                         % (getattr(variable, "name", variable), full_name))
    if full_name is not None and info.full_name != full_name:
        raise ValueError("%s is a part of %s, not of %s" % (variable.name, info.full_name, full_name))
    return info.full_name, list(info.full_shape), list(zip(info.var_offset, info.var_shape))


def bundle_keys(names, ids, slices):
    """The arguments of _core.save_variables_tf / restore_variables_tf: checkpoint names (a partition is
    stored under its full variable's name), node ids and, per variable, None or (full shape, slice)."""
    keys, parts = [], []
    for n in names:
        s = slices.get(n)
        keys.append(n if s is None else s[0])
        parts.append(None if s is None else (s[1], s[2]))
    return keys, ids, parts


class BundleReader:
    """A TensorFlow bundle behind the interface of _core.CheckpointReader (entries, read, has, metadata)."""

    def __init__(self, prefix):
        self._r = _core.TfBundleReader(os.fspath(prefix))
        self._entries = [(n, _CODES.get(dt) or _core.tf_datatype_name(dt), shape)
                         for n, dt, shape, _ in self._r.entries()]

    path = property(lambda self: self._r.prefix)

    def entries(self):
        return self._entries

    def read(self, name):
        return self._r.read(name)

    def has(self, name):
        return self._r.has(name)

    def metadata(self):
        return {}
