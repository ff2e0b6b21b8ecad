"""tf.train: optimizers (cpp/train), learning-rate schedules, global step, Saver and checkpoints,
MonitoredSession and its hooks."""
import importlib as _importlib

# Each module lists its public names in __all__.
for _m in ("optimizer", "gradient_descent", "momentum", "adam", "adagrad", "rmsprop", "adadelta", "ftrl",
           "proximal_gradient_descent", "proximal_adagrad", "adagrad_da", "learning_rate_decay", "training_util",
           "moving_averages", "saver", "checkpoint_management", "checkpoint_utils", "coordinator",
           "queue_runner_impl", "input"):
    _mod = _importlib.import_module("." + _m, __name__)
    for _n in _mod.__all__:
        globals()[_n] = getattr(_mod, _n)
del _m, _mod

# The training-loop modules load on first use (they are a good part of `import tideflow`'s time).
_LAZY = ("basic_session_run_hooks", "monitored_session")


_LAZY_MESSAGES = ("SaverDef",)  # protobuf classes (framework/tf_messages.py), built on first use


def __getattr__(name):
    if name in _LAZY_MESSAGES:
        from ..framework import tf_messages  # lazy: protobuf's classes are built on first use
        value = globals()[name] = getattr(tf_messages, name)
        return value
    for m in _LAZY:
        mod = _importlib.import_module("." + m, __name__)
        if name in mod.__all__:
            value = getattr(mod, name)
            globals()[name] = value
            return value
    raise AttributeError("module 'tideflow.train' has no attribute %r" % name)


def __dir__():
    names = set(globals()) | set(_LAZY_MESSAGES)
    for m in _LAZY:
        names.update(_importlib.import_module("." + m, __name__).__all__)
    return sorted(names)
