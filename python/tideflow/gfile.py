"""tf.gfile / tf.io.gfile on the local file system: what TF programs use to read and write model files
(`with tf.gfile.GFile(path, "rb") as f: graph_def.ParseFromString(f.read())`)."""
import glob as _glob
import os
import shutil

from .framework import errors

__all__ = ["GFile", "FastGFile", "Open", "Exists", "IsDirectory", "ListDirectory", "MakeDirs", "MkDir", "Glob",
           "Remove", "Rename", "Copy", "DeleteRecursively", "exists", "isdir", "listdir", "makedirs", "mkdir",
           "glob", "remove", "rename", "copy", "rmtree"]


class GFile:
    """A file opened with Python's open(); text modes read and write str, "b" modes bytes."""

    def __init__(self, name, mode="r"):
        self._f = open(os.fspath(name), mode)
        self.name, self.mode = os.fspath(name), mode

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __iter__(self):
        return iter(self._f)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def size(self):
        return os.fstat(self._f.fileno()).st_size


FastGFile = Open = GFile


def Exists(filename):  # noqa: N802 (TF's names)
    return os.path.exists(os.fspath(filename))


def IsDirectory(dirname):  # noqa: N802
    return os.path.isdir(os.fspath(dirname))


def ListDirectory(dirname):  # noqa: N802
    return os.listdir(os.fspath(dirname))


def MakeDirs(dirname):  # noqa: N802
    os.makedirs(os.fspath(dirname), exist_ok=True)


def MkDir(dirname):  # noqa: N802
    os.mkdir(os.fspath(dirname))


def Glob(filename):  # noqa: N802
    return sorted(_glob.glob(os.fspath(filename)))


def Remove(filename):  # noqa: N802
    os.remove(os.fspath(filename))


def Rename(oldname, newname, overwrite=False):  # noqa: N802
    if not overwrite and os.path.exists(os.fspath(newname)):
        raise errors.AlreadyExistsError(None, None, "file already exists: %s" % newname)
    os.replace(os.fspath(oldname), os.fspath(newname))


def Copy(oldpath, newpath, overwrite=False):  # noqa: N802
    if not overwrite and os.path.exists(os.fspath(newpath)):
        raise errors.AlreadyExistsError(None, None, "file already exists: %s" % newpath)
    shutil.copyfile(os.fspath(oldpath), os.fspath(newpath))


def DeleteRecursively(dirname):  # noqa: N802
    shutil.rmtree(os.fspath(dirname))


# tf.io.gfile's lower-case names
exists, isdir, listdir, makedirs, mkdir, glob, remove, rename, copy, rmtree = (
    Exists, IsDirectory, ListDirectory, MakeDirs, MkDir, Glob, Remove, Rename, Copy, DeleteRecursively)
