"""The README's main job, end to end in a subprocess: it trains, logs, checkpoints and restores. It also
exercises the parallel executor on a real training graph (a read race once crashed it here)."""
import os
import subprocess
import sys

import tideflow


def test_demo_trains_logs_and_restores(tmp_path):
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(tideflow.__file__))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-m", "tideflow.demo", "--logdir", str(tmp_path), "--epochs", "30"],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    first = float(lines[0].split("test accuracy")[1])
    last_epoch = [ln for ln in lines if ln.startswith("epoch")][-1]
    assert float(last_epoch.split("test accuracy")[1]) > max(first, 0.9)
    assert "restored model.ckpt-960" in r.stdout
    files = os.listdir(tmp_path)
    assert any(f.startswith("events.out.tfevents.") for f in files)
    assert {"checkpoint", "model.ckpt-960.safetensors", "model.ckpt-960.meta"} <= set(files)
