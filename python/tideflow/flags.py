"""tf.flags / tf.app.flags: command-line flags as TF 1.x programs declare them, through absl-py (what
TensorFlow 1.x uses), so definitions, parsing, `--help`, `--helpfull` and `--flagfile` behave as TF's.

    flags = tf.app.flags
    flags.DEFINE_integer("epochs", 10, "How many epochs.")
    FLAGS = flags.FLAGS
    def main(argv): print(FLAGS.epochs)
    tf.app.run()

As in TF 1.x (tensorflow/python/platform/flags.py), reading a flag before `tf.app.run` parses `sys.argv`
instead of raising absl's UnparsedFlagAccessError (an unknown flag on the command line then raises
UnrecognizedFlagError, as in TensorFlow; tf.app.run alone lets unknown flags through), and the DEFINE_* functions also
take TF's old keyword names (`flag_name`, `default_value`, `docstring`). The flags live in absl's global
FlagValues, shared with any absl-based library in the process, as in TensorFlow.

Note [lazy absl]
absl.flags costs ~50 ms of import time, more than half of `import tideflow`; most programs never touch
flags. This module is therefore a shell: the first attribute read (tf.flags.FLAGS, tf.app.flags.DEFINE_*)
imports absl and fills the module in (PEP 562 `__getattr__`). flags.pyi gives tools the static view.
"""
import sys as _sys

__all__ = ["FLAGS", "DEFINE", "DEFINE_string", "DEFINE_integer", "DEFINE_float", "DEFINE_boolean",
           "DEFINE_bool", "DEFINE_list", "DEFINE_spaceseplist", "DEFINE_multi_string", "DEFINE_multi_integer",
           "DEFINE_multi_float", "DEFINE_multi_enum", "DEFINE_enum", "DEFINE_enum_class", "DEFINE_alias",
           "DEFINE_flag", "declare_key_flag", "adopt_module_key_flags", "mark_flag_as_required",
           "mark_flags_as_required", "mark_flags_as_mutual_exclusive", "register_validator", "validator",
           "multi_flags_validator", "register_multi_flags_validator", "Flag", "FlagValues", "ArgumentParser",
           "Error", "UnrecognizedFlagError", "IllegalFlagValueError", "UnparsedFlagAccessError",
           "DuplicateFlagError", "ValidationError", "FlagNameConflictsWithMethodError"]

# TF 1.x's keyword names for DEFINE_* arguments (tensorflow/python/platform/flags.py _RENAMED_ARGUMENTS).
_RENAMED = {"flag_name": "name", "default_value": "default", "docstring": "help"}


class _FlagValuesWrapper:
    """absl's FLAGS, except that reading a flag before parsing parses sys.argv (TF 1.x)."""

    def __init__(self, flags_object):
        self.__dict__["__wrapped"] = flags_object

    def __getattribute__(self, name):
        if name == "__dict__":
            return super().__getattribute__(name)
        return self.__dict__["__wrapped"].__getattribute__(name)

    def __getattr__(self, name):
        wrapped = self.__dict__["__wrapped"]
        if not wrapped.is_parsed():
            wrapped(_sys.argv)  # all of argv, as TensorFlow's wrapper: an unknown flag raises here
        return wrapped.__getattr__(name)

    def __setattr__(self, name, value):
        return self.__dict__["__wrapped"].__setattr__(name, value)

    def __delattr__(self, name):
        return self.__dict__["__wrapped"].__delattr__(name)

    def __dir__(self):
        return self.__dict__["__wrapped"].__dir__()

    def __getitem__(self, name):
        return self.__dict__["__wrapped"].__getitem__(name)

    def __setitem__(self, name, flag):
        return self.__dict__["__wrapped"].__setitem__(name, flag)

    def __len__(self):
        return self.__dict__["__wrapped"].__len__()

    def __iter__(self):
        return self.__dict__["__wrapped"].__iter__()

    def __str__(self):
        return self.__dict__["__wrapped"].__str__()

    def __contains__(self, name):
        return self.__dict__["__wrapped"].__contains__(name)

    def __call__(self, *args, **kwargs):
        return self.__dict__["__wrapped"].__call__(*args, **kwargs)


def _renaming(define):
    def wrapper(*args, **kwargs):
        for old, new in _RENAMED.items():
            if old in kwargs:
                kwargs[new] = kwargs.pop(old)
        return define(*args, **kwargs)
    wrapper.__name__ = wrapper.__qualname__ = define.__name__
    wrapper.__doc__ = define.__doc__
    wrapper.__wrapped__ = define
    return wrapper


def _load():
    """Fills this module from absl.flags (Note [lazy absl])."""
    from absl import flags as absl_flags  # lazy: Note [lazy absl]
    # absl credits a flag to the module that called DEFINE_* (for --help's "key flags" of the program):
    # the wrapper's frames must not count.
    absl_flags.disclaim_key_flags()
    ns = globals()
    for name in __all__:
        if name == "FLAGS":
            continue
        value = getattr(absl_flags, name)
        ns[name] = _renaming(value) if name.startswith("DEFINE_") else value
    ns["FLAGS"] = _FlagValuesWrapper(absl_flags.FLAGS)
    return absl_flags


def __getattr__(name):
    if name in __all__:
        _load()
        return globals()[name]
    raise AttributeError("module 'tideflow.flags' has no attribute %r" % name)


def __dir__():
    return sorted(__all__)
