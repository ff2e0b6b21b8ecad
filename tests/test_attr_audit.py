"""Hostile attribute values on every registered op that a program builds (tests/attr_audit.py): each op with
each attribute replaced by negative, zero, 2**31, 2**62, 2**63 - 1, -2**63, 2**64, wrong kinds, empty and
over-long lists, unknown strings and dtypes. Only typed errors may come out (ValueError/TypeError at build,
tf.errors.OpError at run); a crash, a hang or an untyped exception fails the test and names the case. The
audit runs in a child process, restarted after a crash past the case that crashed, so one run lists all."""
import os
import queue
import subprocess
import sys
import threading

import pytest

from conftest import SANITIZED

HERE = os.path.dirname(os.path.abspath(__file__))
# A case (build and one run) that takes longer than this counts as a hang. The first wait of each child
# includes importing tideflow, which under a sanitizer (tools/sanitize.sh) on a loaded machine took over 30 s.
CASE_SECONDS = 150 if SANITIZED else 30


def _run_audit():
    import tideflow
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(tideflow.__file__)), HERE,
                                         env.get("PYTHONPATH", "")])
    env.setdefault("TIDEFLOW_ALLOCATION_CAP", str(256 << 20))
    bad, start, count, done = [], 0, None, 0
    while count is None or start < count:
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "attr_audit.py"), str(start)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in p.stdout] + [lines.put(None)], daemon=True).start()
        err = []
        threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True).start()
        current = None
        while True:
            try:
                line = lines.get(timeout=CASE_SECONDS)
            except queue.Empty:  # no answer in time: a hang
                p.kill()
                bad.append("%s -> hang (no answer in %d s)" % (current, CASE_SECONDS))
                start = int(current.split(" ", 1)[0]) + 1 if current else count or 0
                current = None
                break
            if line is None:
                break
            kind, _, rest = line.rstrip("\n").partition(" ")
            if kind == "COUNT":
                count = int(rest)
            elif kind == "START":
                current = rest
            elif kind == "DONE":
                i, outcome, detail = (rest.split(" ", 2) + [""])[:3]
                done += 1
                if outcome == "bad":
                    bad.append("%s -> %s" % (current, detail))
                current, start = None, int(i) + 1
        p.wait()
        if current is not None:  # died inside a case: a crash
            bad.append("%s -> crash (exit %s) %s" % (current, p.returncode, "".join(err)[-300:]))
            start = int(current.split(" ", 1)[0]) + 1
        elif count is None:
            pytest.fail("the audit did not start: %s" % "".join(err)[-2000:])
        elif start < count and p.returncode == 0:
            break
    return count, done, bad


def test_hostile_attributes_give_typed_errors_only():
    count, done, bad = _run_audit()
    assert count and count > 1000, count  # every attribute of ~400 ops, several values each
    assert not bad, "%d of %d cases broke the typed-error promise:\n%s" % (len(bad), count, "\n".join(bad[:60]))
