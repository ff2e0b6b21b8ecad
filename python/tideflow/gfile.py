"""tf.gfile / tf.io.gfile on the local file system: what TF programs use to read and write model files
(`with tf.gfile.GFile(path, "rb") as f: graph_def.ParseFromString(f.read())`).

Both spellings are here: TF 1.x's CamelCase (tf.gfile.Exists, MakeDirs, ListDirectory, Walk...) and
tf.io.gfile's lower case (exists, makedirs, listdir, walk...). Failures raise TensorFlow's error types:
a missing file tf.errors.NotFoundError, an existing target of rename/copy/mkdir AlreadyExistsError,
other OS errors the matching tf.errors class, as TensorFlow's file system layer does. Paths may be str,
bytes or os.PathLike."""
import errno as _errno
import glob as _glob
import os
import shutil

from .framework import errors

__all__ = ["GFile", "FastGFile", "Open", "Exists", "IsDirectory", "ListDirectory", "MakeDirs", "MkDir", "Glob",
           "Remove", "Rename", "Copy", "DeleteRecursively", "Stat", "Walk", "FileStatistics", "exists", "isdir",
           "listdir", "makedirs", "mkdir", "glob", "remove", "rename", "copy", "rmtree", "stat", "walk"]


def _path(p):
    p = os.fspath(p)
    return p.decode("utf-8") if isinstance(p, bytes) else p


def _tf_error(e, path):
    """The tf.errors exception TensorFlow raises for OSError `e` on `path`."""
    cls = {_errno.ENOENT: errors.NotFoundError, _errno.EEXIST: errors.AlreadyExistsError,
           _errno.EACCES: errors.PermissionDeniedError, _errno.EPERM: errors.PermissionDeniedError,
           _errno.ENOTDIR: errors.FailedPreconditionError, _errno.EISDIR: errors.FailedPreconditionError,
           _errno.ENOTEMPTY: errors.FailedPreconditionError}.get(e.errno, errors.UnknownError)
    return cls(None, None, "%s; %s" % (path, e.strerror or e))


class _Translating:
    """`with _Translating(path):` turns an OSError into TensorFlow's error for `path`."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, e, tb):
        if isinstance(e, OSError) and not isinstance(e, errors.OpError):
            raise _tf_error(e, self.path) from e
        return False


class GFile:
    """A file on the local file system with TensorFlow's file interface (tf.gfile.GFile / tf.io.gfile.GFile).

    Args:
      name: the path.
      mode: "r", "w", "a", with "b" for bytes and "+" for update, as Python's open(); text modes read and
        write str, binary modes bytes.

    The file opens on first use, as TensorFlow's does, so a missing file raises tf.errors.NotFoundError
    from read(), not from the constructor. Iterating yields lines. Use as a context manager to close it.
    """

    def __init__(self, name, mode="r"):
        self.__name = _path(name)
        self.__mode = mode
        if mode.replace("b", "").replace("+", "") not in ("r", "w", "a"):
            raise errors.InvalidArgumentError(None, None, "mode is not 'r' or 'w' or 'a': %r" % mode)
        self._f = None

    @property
    def name(self):
        """The path the file was opened with."""
        return self.__name

    @property
    def mode(self):
        """The mode the file was opened with."""
        return self.__mode

    def _file(self):
        if self._f is None:
            with _Translating(self.__name):
                self._f = open(self.__name, self.__mode)
        return self._f

    def size(self):
        """The file's length in bytes."""
        with _Translating(self.__name):
            if self._f is not None:
                self._f.flush()
            return os.stat(self.__name).st_size

    def read(self, n=-1):
        """Reads `n` bytes (characters in text mode), or everything to the end when n is -1."""
        with _Translating(self.__name):
            return self._file().read(n)

    def readline(self):
        """The next line, with its newline; empty at the end."""
        with _Translating(self.__name):
            return self._file().readline()

    def readlines(self):
        """All remaining lines."""
        with _Translating(self.__name):
            return self._file().readlines()

    def write(self, file_content):
        """Appends `file_content` (str in text mode, bytes in binary mode; str is encoded as UTF-8)."""
        f = self._file()
        if "b" in self.__mode and isinstance(file_content, str):
            file_content = file_content.encode("utf-8")
        with _Translating(self.__name):
            f.write(file_content)

    def seek(self, offset=None, whence=0, position=None):
        """Moves to `offset` (or `position`, TF 1.x's name) relative to `whence` (0 start, 1 here, 2 end)."""
        if position is not None:
            offset = position
        with _Translating(self.__name):
            return self._file().seek(offset, whence)

    def tell(self):
        """The current position."""
        return self._file().tell()

    def flush(self):
        """Writes buffered data to the file."""
        if self._f is not None:
            self._f.flush()

    def close(self):
        """Flushes and closes the file; further reads reopen it from the start."""
        if self._f is not None:
            self._f.close()
            self._f = None

    def seekable(self):
        """True: local files can seek."""
        return True

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


FastGFile = Open = GFile


class FileStatistics:
    """What stat() returns: `length` in bytes, `mtime_nsec` (modification time in nanoseconds),
    `is_directory`."""

    def __init__(self, length=0, mtime_nsec=0, is_directory=False):
        self.length, self.mtime_nsec, self.is_directory = length, mtime_nsec, is_directory

    def __repr__(self):
        return "FileStatistics(length=%d, mtime_nsec=%d, is_directory=%s)" % (
            self.length, self.mtime_nsec, self.is_directory)


def Exists(filename):  # noqa: N802 (TF's names)
    """True when `filename` (a file or a directory) exists."""
    return os.path.exists(_path(filename))


def IsDirectory(dirname):  # noqa: N802
    """True when `dirname` is a directory."""
    return os.path.isdir(_path(dirname))


def ListDirectory(dirname):  # noqa: N802
    """The names of the entries of directory `dirname` (no paths, no "." or ".."), in no particular order.

    Raises:
      tf.errors.NotFoundError: `dirname` is not a directory.
    """
    d = _path(dirname)
    if not os.path.isdir(d):
        raise errors.NotFoundError(None, None, "Could not find directory %s" % d)
    with _Translating(d):
        return os.listdir(d)


def MakeDirs(dirname):  # noqa: N802
    """Creates `dirname` and the missing directories above it; an existing directory is fine."""
    with _Translating(_path(dirname)):
        os.makedirs(_path(dirname), exist_ok=True)


def MkDir(dirname):  # noqa: N802
    """Creates directory `dirname` (its parent must exist); an existing one is fine, as in TensorFlow
    (whose CreateDir binding ignores AlreadyExists).

    Raises:
      tf.errors.NotFoundError: the parent does not exist.
    """
    try:
        os.mkdir(_path(dirname))
    except FileExistsError:
        return
    except OSError as e:
        raise _tf_error(e, _path(dirname)) from e


def Glob(filename):  # noqa: N802
    """The paths matching the pattern `filename` (*, ?, [...] wildcards), sorted."""
    return sorted(_glob.glob(_path(filename)))


def Remove(filename):  # noqa: N802
    """Deletes file `filename`.

    Raises:
      tf.errors.NotFoundError: it does not exist.
    """
    with _Translating(_path(filename)):
        os.remove(_path(filename))


def Rename(oldname, newname, overwrite=False):  # noqa: N802
    """Renames (moves) `oldname` to `newname`.

    Raises:
      tf.errors.AlreadyExistsError: `newname` exists and `overwrite` is False.
      tf.errors.NotFoundError: `oldname` does not exist.
    """
    old, new = _path(oldname), _path(newname)
    if not overwrite and os.path.exists(new):
        raise errors.AlreadyExistsError(None, None, "file already exists: %s" % new)
    with _Translating(old):
        os.replace(old, new)


def Copy(oldpath, newpath, overwrite=False):  # noqa: N802
    """Copies file `oldpath` to `newpath`.

    Raises:
      tf.errors.AlreadyExistsError: `newpath` exists and `overwrite` is False.
      tf.errors.NotFoundError: `oldpath` does not exist.
    """
    old, new = _path(oldpath), _path(newpath)
    if not overwrite and os.path.exists(new):
        raise errors.AlreadyExistsError(None, None, "file already exists: %s" % new)
    with _Translating(old):
        shutil.copyfile(old, new)


def DeleteRecursively(dirname):  # noqa: N802
    """Deletes directory `dirname` and everything below it.

    Raises:
      tf.errors.NotFoundError: it does not exist.
    """
    with _Translating(_path(dirname)):
        shutil.rmtree(_path(dirname))


def Stat(filename):  # noqa: N802
    """FileStatistics (length, mtime_nsec, is_directory) of `filename`.

    Raises:
      tf.errors.NotFoundError: it does not exist.
    """
    with _Translating(_path(filename)):
        st = os.stat(_path(filename))
    return FileStatistics(st.st_size, st.st_mtime_ns, os.path.isdir(_path(filename)))


def Walk(top, in_order=True):  # noqa: N802
    """Yields (dirname, subdirectory names, file names) for `top` and each directory below it, parents
    first when `in_order` (TF 1.x's name for topdown). A missing `top` yields nothing."""
    return walk(top, topdown=in_order)


def walk(top, topdown=True, onerror=None):
    """Yields (dirname, subdirectory names, file names) for `top` and each directory below it, parents
    first when `topdown`, as os.walk. A missing `top` yields nothing; `onerror` gets listing errors."""
    top = _path(top)
    try:
        names = os.listdir(top)
    except OSError as e:
        if onerror is not None:
            onerror(_tf_error(e, top))
        return
    dirs = [n for n in names if os.path.isdir(os.path.join(top, n))]
    files = [n for n in names if n not in dirs]
    if topdown:
        yield top, dirs, files
    for d in dirs:
        yield from walk(os.path.join(top, d), topdown, onerror)
    if not topdown:
        yield top, dirs, files


# tf.io.gfile's lower-case names
exists, isdir, listdir, makedirs, mkdir, glob, remove, rename, copy, rmtree, stat = (
    Exists, IsDirectory, ListDirectory, MakeDirs, MkDir, Glob, Remove, Rename, Copy, DeleteRecursively, Stat)
