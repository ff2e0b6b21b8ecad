"""tf.logging: TensorFlow 1.x's logging functions over Python's `logging` (logger "tideflow").

As in TF 1.x the default verbosity is WARN, messages go to stderr as `LEVEL:tideflow:message`, and
`set_verbosity(tf.logging.INFO)` shows info messages."""
import logging as _logging
import sys as _sys

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
ERROR = _logging.ERROR
FATAL = _logging.FATAL

_logger = None


def get_logger():
    global _logger
    if _logger is None:
        lg = _logging.getLogger("tideflow")
        if not lg.handlers and not _logging.getLogger().handlers:
            h = _logging.StreamHandler(_sys.stderr)
            h.setFormatter(_logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
            lg.addHandler(h)
        if lg.level == _logging.NOTSET:
            lg.setLevel(WARN)
        _logger = lg
    return _logger


def log(level, msg, *args, **kwargs):
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs):
    get_logger().debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs):
    get_logger().info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs):
    get_logger().warning(msg, *args, **kwargs)


warn = warning


def error(msg, *args, **kwargs):
    get_logger().error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs):
    get_logger().fatal(msg, *args, **kwargs)


def vlog(level, msg, *args, **kwargs):
    get_logger().log(level, msg, *args, **kwargs)


_counts = {}


def _caller_key():
    f = _sys._getframe(2)
    return f.f_code.co_filename, f.f_lineno


def log_every_n(level, msg, n, *args):
    """Logs the 1st, (n+1)th, (2n+1)th... time this line runs."""
    key = _caller_key()
    count = _counts.get(key, 0)
    _counts[key] = count + 1
    if count % max(int(n), 1) == 0:
        log(level, msg, *args)


def log_first_n(level, msg, n, *args):
    """Logs only the first n times this line runs."""
    key = _caller_key()
    count = _counts.get(key, 0)
    _counts[key] = count + 1
    if count < n:
        log(level, msg, *args)


def log_if(level, msg, condition, *args):
    if condition:
        log(level, msg, *args)


def get_verbosity():
    return get_logger().getEffectiveLevel()


def set_verbosity(v):
    get_logger().setLevel(v)
