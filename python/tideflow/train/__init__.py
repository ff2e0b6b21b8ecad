"""tf.train: optimizers (cpp/train), learning-rate schedules, global step, Saver and checkpoints,
MonitoredSession and its hooks."""
import importlib as _importlib

# Each module lists its public names in __all__.
for _m in ("optimizer", "gradient_descent", "momentum", "adam", "adagrad", "rmsprop", "adadelta", "ftrl",
           "proximal_gradient_descent", "proximal_adagrad", "adagrad_da", "learning_rate_decay", "training_util",
           "moving_averages", "saver", "checkpoint_management", "basic_session_run_hooks", "monitored_session"):
    _mod = _importlib.import_module("." + _m, __name__)
    for _n in _mod.__all__:
        globals()[_n] = getattr(_mod, _n)
del _importlib, _m, _mod
