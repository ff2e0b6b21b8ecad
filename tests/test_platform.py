"""tf.logging, tf.flags and tf.app: the scaffolding TF 1.x scripts start with."""
import logging
import os
import subprocess
import sys
import textwrap

import pytest

import tideflow as tf
from tideflow import flags as tf_flags


def test_logging_levels_and_verbosity(caplog):
    # caplog sees the records: with a configured root logger (pytest's), tf.logging adds no handler of its
    # own, as TF 1.x does, so messages are not printed twice.
    assert tf.logging.INFO == logging.INFO and tf.logging.WARN == logging.WARN
    caplog.set_level(logging.NOTSET)
    old = tf.logging.get_verbosity()
    try:
        tf.logging.set_verbosity(tf.logging.WARN)
        tf.logging.info("hidden %d", 1)
        tf.logging.warning("shown %d", 2)
        tf.logging.set_verbosity(tf.logging.INFO)
        tf.logging.info("now shown %s", "too")
        for i in range(5):
            tf.logging.log_first_n(tf.logging.INFO, "first %d", 2, i)
        assert tf.logging.get_verbosity() == tf.logging.INFO
    finally:
        tf.logging.set_verbosity(old)
    got = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert got == [("tideflow", "WARNING", "shown 2"), ("tideflow", "INFO", "now shown too"),
                   ("tideflow", "INFO", "first 0"), ("tideflow", "INFO", "first 1")]


def test_logging_prints_like_tensorflow_when_nothing_is_configured(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-c", "import tideflow as tf; tf.logging.info('no'); "
                        "tf.logging.set_verbosity(tf.logging.INFO); tf.logging.info('step %d', 3)"],
                       capture_output=True, text=True, env=env)
    assert r.stderr.strip() == "INFO:tideflow:step 3"


def _fresh_flags():
    # absl's FlagValues underneath tf.flags (flags.py): a private set, so tests do not touch FLAGS
    fv = tf_flags.FlagValues()
    tf_flags.DEFINE_integer("epochs", 10, "", flag_values=fv)
    tf_flags.DEFINE_float("lr", 0.1, "", flag_values=fv)
    tf_flags.DEFINE_boolean("fast", False, "", flag_values=fv)
    tf_flags.DEFINE_string(flag_name="name", default_value="m", docstring="", flag_values=fv)  # TF's old names
    return fv


def test_flag_forms():
    fv = _fresh_flags()
    rest = fv(["prog", "--epochs", "3", "--lr=0.5", "--fast", "pos", "--name=x", "--", "--epochs=9"])
    assert (fv.epochs, fv.lr, fv.fast, fv.name) == (3, 0.5, True, "x")
    assert rest == ["prog", "pos", "--epochs=9"]
    fv = _fresh_flags()
    fv(["prog", "--nofast"])
    assert fv.fast is False and fv.epochs == 10
    fv.epochs = 7
    assert fv.epochs == 7 and fv.flag_values_dict()["epochs"] == 7


def test_flag_errors():
    with pytest.raises(tf_flags.UnrecognizedFlagError, match="bogus"):
        _fresh_flags()(["prog", "--bogus=1"])
    assert _fresh_flags()(["prog", "--bogus=1"], known_only=True) == ["prog", "--bogus=1"]
    with pytest.raises(tf_flags.IllegalFlagValueError, match="epochs"):
        _fresh_flags()(["prog", "--epochs=abc"])
    with pytest.raises(tf_flags.Error, match="lr"):
        _fresh_flags()(["prog", "--lr"])
    with pytest.raises(tf_flags.DuplicateFlagError, match="defined twice"):
        tf_flags.DEFINE_integer("epochs", 1, "", flag_values=_fresh_flags())


def test_reading_a_flag_before_run_parses_argv(monkeypatch):
    # TF 1.x (not plain absl): FLAGS.x before tf.app.run parses sys.argv; an unknown flag raises then
    tf.flags.DEFINE_integer("tideflow_test_early_read", 1, "")
    was_parsed = tf.flags.FLAGS.is_parsed()
    if was_parsed:
        tf.flags.FLAGS.unparse_flags()
    try:
        monkeypatch.setattr(sys, "argv", ["prog", "--tideflow_test_early_read=5"])
        assert tf.flags.FLAGS.tideflow_test_early_read == 5
        tf.flags.FLAGS.unparse_flags()
        monkeypatch.setattr(sys, "argv", ["prog", "--tideflow_test_early_read=6", "--other=1"])
        with pytest.raises(tf_flags.UnrecognizedFlagError, match="other"):
            tf.flags.FLAGS.tideflow_test_early_read
    finally:
        tf.flags.FLAGS.unparse_flags()


def test_app_run_parses_flags_and_exits_with_mains_value(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent("""
        import tideflow as tf
        tf.app.flags.DEFINE_integer("steps", 5, "how many")
        tf.app.flags.DEFINE_list("layers", "8,4", "sizes")
        tf.flags.DEFINE_enum("opt", "sgd", ["sgd", "adam"], "optimizer")
        FLAGS = tf.app.flags.FLAGS
        def main(argv):
            print(FLAGS.steps, FLAGS.layers, FLAGS.opt, argv[1:])
            return 3
        if __name__ == "__main__":
            tf.app.run()
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, str(script), "--steps=2", "--opt", "adam", "more"], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 3, r.stderr
    assert r.stdout.strip() == "2 ['8', '4'] adam ['more']"
    r = subprocess.run([sys.executable, str(script), "--opt=rmsprop"], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "should be one of <sgd|adam>" in r.stderr
    # Undefined flags reach main, as in TF 1.x (argparse-based scripts call tf.app.run too).
    r = subprocess.run([sys.executable, str(script), "--use-adasum", "--steps=4"], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 3 and r.stdout.strip() == "4 ['8', '4'] sgd ['--use-adasum']", r.stderr
