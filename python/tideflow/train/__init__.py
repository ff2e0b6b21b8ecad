"""tf.train: optimizers (cpp/train), learning-rate schedules, global step, Saver and checkpoints."""
import importlib as _importlib

# Each module lists its public names in __all__; a module not written yet is simply skipped.
for _m in ("optimizer", "gradient_descent", "momentum", "adam", "adagrad", "rmsprop", "adadelta", "ftrl",
           "proximal_gradient_descent", "proximal_adagrad",
           "learning_rate_decay", "training_util", "moving_averages", "saver", "checkpoint_management"):
    try:
        _mod = _importlib.import_module("." + _m, __name__)
    except ModuleNotFoundError as _e:
        if _e.name != __name__ + "." + _m:
            raise
        continue
    for _n in getattr(_mod, "__all__", []):
        globals()[_n] = getattr(_mod, _n)
del _importlib, _m
