"""Runs one program text under tideflow and under TensorFlow 2 in fresh interpreters (eager execution and
TF2 behavior are process-wide, and other tests put TensorFlow in graph mode), and returns what each
printed. A script reports values with `report(name, value)`, which prints one JSON line."""
import json
import os
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.join(os.path.dirname(HERE), "python")

PRELUDE = '''
import json as _json
import numpy as _np
def report(name, value):
    if isinstance(value, (list, tuple)):
        value = [None if v is None else _np.asarray(v).tolist() for v in value]
    elif value is not None:
        value = _np.asarray(value).tolist()
    print("@@" + _json.dumps({"name": name, "value": value}))
'''


def run(body, imports, timeout=300):
    """Runs PRELUDE + `imports` + `body`; returns (printed lines, {name: value})."""
    src = PRELUDE + textwrap.dedent(imports) + "\n" + textwrap.dedent(body)
    env = dict(os.environ)
    env["PYTHONPATH"] = PYTHON_DIR + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    r = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, timeout=timeout, env=env)
    if r.returncode != 0:
        raise AssertionError("script failed:\n%s\n%s" % (r.stdout[-3000:], r.stderr[-5000:]))
    lines, values = [], {}
    for line in r.stdout.splitlines():
        if line.startswith("@@"):
            d = json.loads(line[2:])
            values[d["name"]] = d["value"]
        else:
            lines.append(line)
    return lines, values


def have_tensorflow():
    try:
        import importlib.util
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False
