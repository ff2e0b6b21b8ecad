"""tf.app: `run(main=None, argv=None)` runs `main` through absl.app.run, as TF 1.x does: flags are parsed
from argv, `--help` / `--helpfull` print the usage and exit, `--flagfile` reads flags from a file, and
main(argv_without_flags) is called, its return value becoming the exit status. Flags nobody defined stay
in main's argv (TF 1.x's `_parse_flags_tolerate_undef`), so scripts that parse their own options with
argparse still run under tf.app.run. absl loads on first use (Note [lazy absl] in flags.py)."""
import sys as _sys

from . import flags  # noqa: F401  (tf.app.flags)

__all__ = ["run", "flags"]


def _parse_flags_tolerate_undef(argv):
    """Parses the flags the program defined and leaves the others in the returned argv."""
    return flags.FLAGS(_sys.argv if argv is None else argv, known_only=True)


def run(main=None, argv=None):
    """Runs the program: parses flags, then calls `main(argv)` and exits with its return value.

    Args:
      main: the function to run, called with the argument list left after flag parsing (argv[0] first);
        defaults to `__main__.main`.
      argv: the command line, defaulting to sys.argv.

    Raises:
      SystemExit: always, as absl.app.run does: with main's return value, or after `--help`, or with a
        usage error for a bad flag value.
    """
    from absl import app as absl_app  # lazy: Note [lazy absl] in flags.py
    main = main or _sys.modules["__main__"].main
    absl_app.run(main=main, argv=argv, flags_parser=_parse_flags_tolerate_undef)
