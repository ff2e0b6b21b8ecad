"""tf.app: `run(main=None, argv=None)` parses the command-line flags (tf.app.flags), calls
`main(argv_without_flags)` (or `__main__.main`) and exits with its return value, as TF 1.x does. Flags
nobody defined stay in main's argv (TF 1.x's `_parse_flags_tolerate_undef`): scripts that parse their own
options with argparse still run under tf.app.run."""
import sys as _sys

from . import flags  # noqa: F401  (tf.app.flags)


def run(main=None, argv=None):
    args = _sys.argv if argv is None else argv
    rest = flags.FLAGS(args, known_only=True)
    if main is None:
        main = _sys.modules["__main__"].main
    _sys.exit(main(rest))
