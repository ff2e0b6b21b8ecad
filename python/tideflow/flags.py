"""tf.flags / tf.app.flags: command-line flags as TF 1.x programs declare them.

    flags = tf.app.flags
    flags.DEFINE_integer("epochs", 10, "How many epochs.")
    FLAGS = flags.FLAGS
    def main(argv): print(FLAGS.epochs)
    tf.app.run()

Like TF 1.x (absl underneath), reading a flag before `tf.app.run` parses `sys.argv` for the known flags.
Accepted forms: `--name=value`, `--name value`, and for booleans `--name`, `--noname`, `--name=false`.
`--` ends flag parsing. An unknown `--flag` is an error when `tf.app.run` parses (absl's rule); a bad
value raises ValueError naming the flag."""
import sys as _sys

__all__ = ["FLAGS", "DEFINE_string", "DEFINE_integer", "DEFINE_float", "DEFINE_boolean", "DEFINE_bool",
           "DEFINE_list", "DEFINE_enum", "mark_flag_as_required", "Error", "UnrecognizedFlagError",
           "IllegalFlagValueError"]


class Error(Exception):
    pass


class UnrecognizedFlagError(Error):
    pass


class IllegalFlagValueError(Error, ValueError):
    pass


def _parse_bool(s):
    v = str(s).strip().lower()
    if v in ("true", "t", "1", "yes", "y"):
        return True
    if v in ("false", "f", "0", "no", "n"):
        return False
    raise ValueError("not a boolean: %r" % (s,))


class _Flag:
    def __init__(self, name, default, help, parse, kind):
        self.name, self.default, self.help, self.parse, self.kind = name, default, help, parse, kind
        self.value = default
        self.present = False

    def set(self, text):
        try:
            self.value = self.parse(text)
        except ValueError as e:
            raise IllegalFlagValueError("flag --%s=%s: %s" % (self.name, text, e)) from None
        self.present = True


class _FlagValues:
    def __init__(self):
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_parsed", False)
        object.__setattr__(self, "_required", set())

    def _define(self, flag):
        if flag.name in self._flags:
            raise Error("The flag %r is defined twice." % flag.name)
        self._flags[flag.name] = flag

    def __call__(self, argv, known_only=False):
        """Parses argv[1:]; returns argv[0] plus the arguments that are not flags."""
        rest = [argv[0]] if argv else []
        args = list(argv[1:])
        i = 0
        while i < len(args):
            a = args[i]
            i += 1
            if a == "--":
                rest.extend(args[i:])
                break
            if not a.startswith("-") or a == "-":
                rest.append(a)
                continue
            name, eq, text = a.lstrip("-").partition("=")
            flag = self._flags.get(name)
            if flag is None and name.startswith("no") and not eq:
                neg = self._flags.get(name[2:])
                if neg is not None and neg.kind == "bool":
                    neg.set("false")
                    continue
            if flag is None:
                if known_only:
                    rest.append(a)
                    continue
                raise UnrecognizedFlagError("Unknown command line flag '%s'" % name)
            if not eq:
                if flag.kind == "bool":
                    text = "true"
                elif i < len(args):
                    text = args[i]
                    i += 1
                else:
                    raise IllegalFlagValueError("flag --%s needs a value" % name)
            flag.set(text)
        missing = [n for n in self._required if self._flags[n].value is None]
        if missing and not known_only:
            raise IllegalFlagValueError("flag --%s must have a value other than None." % missing[0])
        object.__setattr__(self, "_parsed", True)
        return rest

    def is_parsed(self):
        return self._parsed

    def __getattr__(self, name):
        flags = object.__getattribute__(self, "_flags")
        if name not in flags:
            raise AttributeError(name)
        if not self._parsed:
            self(_sys.argv, known_only=True)
        return flags[name].value

    def __setattr__(self, name, value):
        if name not in self._flags:
            raise AttributeError("no flag named %r" % name)
        self._flags[name].value = value

    def __contains__(self, name):
        return name in self._flags

    def flag_values_dict(self):
        return {n: f.value for n, f in self._flags.items()}


FLAGS = _FlagValues()


def _define(name, default, help, parse, kind):
    if isinstance(default, str) and kind not in ("str", "list"):
        default = parse(default)  # absl accepts a default written as the command line would
    FLAGS._define(_Flag(name, default, help, parse, kind))


def DEFINE_string(name, default, help=None, flag_values=None, **kwargs):
    _define(name, default, help, str, "str")


def DEFINE_integer(name, default, help=None, lower_bound=None, upper_bound=None, flag_values=None, **kwargs):
    def parse(s):
        v = int(s)
        if (lower_bound is not None and v < lower_bound) or (upper_bound is not None and v > upper_bound):
            raise ValueError("%d is outside [%s, %s]" % (v, lower_bound, upper_bound))
        return v
    _define(name, default, help, parse, "int")


def DEFINE_float(name, default, help=None, lower_bound=None, upper_bound=None, flag_values=None, **kwargs):
    _define(name, default, help, float, "float")


def DEFINE_boolean(name, default, help=None, flag_values=None, **kwargs):
    _define(name, default, help, _parse_bool, "bool")


DEFINE_bool = DEFINE_boolean


def DEFINE_list(name, default, help=None, flag_values=None, **kwargs):
    def parse(s):
        return [x for x in str(s).split(",") if x] if not isinstance(s, list) else s
    _define(name, parse(default) if isinstance(default, str) else default, help, parse, "list")


def DEFINE_enum(name, default, enum_values, help=None, flag_values=None, **kwargs):
    def parse(s):
        if s not in enum_values:
            raise ValueError("value should be one of <%s>" % "|".join(enum_values))
        return s
    _define(name, default, help, parse, "str")


def mark_flag_as_required(name, flag_values=None):
    FLAGS._required.add(name)
