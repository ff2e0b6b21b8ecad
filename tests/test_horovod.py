"""tideflow.horovod: collectives and data-parallel training on MPI. The multi-process tests launch
`mpiexec -n 2` on tests/horovod_worker.py and skip when mpi4py or mpiexec is missing (pip install
'tideflow[mpi]'); the rest run everywhere."""
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

import tideflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "horovod_worker.py")
EXAMPLE = os.path.join(os.path.dirname(HERE), "examples", "horovod", "tensorflow_mnist.py")


def _env():
    # The processes import the same tideflow as this one, from wherever it was found.
    env = dict(os.environ)
    parent = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([parent] + [p for p in [env.get("PYTHONPATH")] if p])
    launcher = _mpiexec()
    if launcher:  # mpiexec starts its helpers (hydra_pmi_proxy) from PATH
        env["PATH"] = os.path.dirname(launcher) + os.pathsep + env.get("PATH", "")
    return env


def _mpiexec():
    for cand in (os.path.join(os.path.dirname(sys.executable), "mpiexec"), shutil.which("mpiexec")):
        if cand and os.path.exists(cand):
            return cand
    return None


_MPI_OK = None


def _mpi_available():
    global _MPI_OK
    if _MPI_OK is None:
        _MPI_OK = False
        if importlib.util.find_spec("mpi4py") is not None and _mpiexec():
            r = subprocess.run([sys.executable, "-c", "from mpi4py import MPI"], capture_output=True, timeout=60)
            _MPI_OK = r.returncode == 0
    return _MPI_OK


needs_mpi = pytest.mark.skipif("not _mpi_available()", reason="needs mpi4py with an MPI library and mpiexec "
                                                              "(pip install 'tideflow[mpi]')")


def _run(args, ranks=2, timeout=180, cwd=None):
    """Runs the worker (or a script) on `ranks` processes; returns (exit code, output). A run that does not
    end in time is a hang: the whole process group is killed and the test fails."""
    cmd = ([_mpiexec(), "-n", str(ranks)] if ranks else []) + [sys.executable] + args
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(), cwd=cwd,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        pytest.fail("%s hung for %d s:\n%s" % (" ".join(cmd), timeout, out))
    return p.returncode, out


# ---- without MPI ----

def test_import_and_single_process_training_need_no_mpi():
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import tideflow as tf, tideflow.horovod as hvd\n"
            "x = tf.Variable(3.0); t = tf.train.GradientDescentOptimizer(0.1).minimize(x * x)\n"
            "s = tf.Session(); s.run(tf.global_variables_initializer()); s.run(t); print(s.run(x))\n"
            "try:\n    hvd.init()\nexcept ImportError as e:\n    print('ImportError:', e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert float(lines[0]) == pytest.approx(2.4)
    assert lines[1].startswith("ImportError:") and "pip install 'tideflow[mpi]'" in r.stdout and "mpirun" in r.stdout


def test_before_init():
    import tideflow.horovod as hvd
    if hvd.is_initialized():
        pytest.skip("initialized by another test in this process")
    with pytest.raises(ValueError, match=re.escape("Horovod has not been initialized; use hvd.init().")):
        hvd.rank()
    with tf.Graph().as_default():
        y = hvd.allreduce(tf.constant([1.0, 2.0]))
        assert y.op.type == "HorovodAllreduce" and y.op.name == "HorovodAllreduce_Const_0"
        assert y.op.get_attr("reduce_op") == hvd.Average
        with tf.Session() as sess:
            with pytest.raises(tf.errors.FailedPreconditionError, match="use hvd.init"):
                sess.run(y)


def test_ops_check_their_arguments_when_built():
    import tideflow.horovod as hvd
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match="HorovodAllreduce does not support dtype bool"):
            hvd.allreduce(tf.constant([True]), op=hvd.Sum)
        with pytest.raises(ValueError, match="rank at least 1"):
            hvd.allgather(tf.constant(1.0))
        with pytest.raises(NotImplementedError, match="Adasum"):
            hvd.allreduce(tf.constant(1.0), op=hvd.Adasum)
        with pytest.raises(ValueError, match="supersedes average"):
            hvd.allreduce(tf.constant(1.0), average=True, op=hvd.Sum)
        with pytest.raises(ValueError, match="root_rank must be non-negative"):
            hvd.broadcast(tf.constant(1.0), -1)
        g = hvd.allgather(tf.placeholder(tf.float32, [None, 3]))
        assert g.shape.as_list() == [None, 3]
        with pytest.raises(NotImplementedError, match="backward_passes_per_step"):
            hvd.DistributedOptimizer(tf.train.GradientDescentOptimizer(0.1), backward_passes_per_step=2)


# ---- on MPI ----

@needs_mpi
def test_single_process_without_launcher(tmp_path):
    rc, out = _run([WORKER, "single", str(tmp_path)], ranks=0)
    assert rc == 0 and "single ok" in out, out


@needs_mpi
def test_a_launcher_of_another_mpi_is_refused():
    # mpirun said 2 processes, the MPI library sees 1: each would train alone.
    env = dict(_env(), PMI_SIZE="2", PMI_RANK="0")
    r = subprocess.run([sys.executable, "-c", "import tideflow.horovod as hvd; hvd.init()"], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode != 0 and "sees only this one" in r.stderr, r.stderr


@needs_mpi
@pytest.mark.parametrize("shm", ["1", "0"], ids=["shared_window", "mpi_messages"])
def test_collectives_against_numpy_on_two_ranks(tmp_path, monkeypatch, shm):
    # allreduce (5 ops x 4 dtypes x 5 shapes), allgather with unequal first dimensions, broadcast, scale
    # factors, bools, IndexedSlices, fusion, gradients, mismatched shapes and dtypes, objects; large
    # allreduces against mpi4py's, with the shared-memory path and without it.
    monkeypatch.setenv("TIDEFLOW_HVD_SHM", shm)
    rc, out = _run([WORKER, "collectives", str(tmp_path)])
    assert rc == 0, out
    assert "rank 0: collectives ok" in out and "rank 1: collectives ok" in out, out


@needs_mpi
def test_eager_collectives_and_distributed_gradient_tape(tmp_path):
    rc, out = _run([WORKER, "eager", str(tmp_path)])
    assert rc == 0, out
    assert "rank 0: eager ok" in out and "rank 1: eager ok" in out, out


@needs_mpi
def test_two_ranks_train_like_one_process_with_twice_the_batch(tmp_path):
    rc, out = _run([WORKER, "reference", str(tmp_path)], ranks=0)
    assert rc == 0, out
    rc, out = _run([WORKER, "train", str(tmp_path)])
    assert rc == 0, out
    for model in ("regression", "mlp"):
        ref = np.load(tmp_path / ("%s-reference.npz" % model))
        ranks = [np.load(tmp_path / ("%s-rank%d.npz" % (model, r))) for r in range(2)]
        assert sorted(ref.files) == sorted(ranks[0].files) and ref.files
        for name in ref.files:
            for r in ranks:
                np.testing.assert_allclose(r[name], ref[name], rtol=1e-5, atol=1e-6, err_msg=model + " " + name)
            np.testing.assert_array_equal(ranks[0][name], ranks[1][name])  # every rank holds the same weights
    # The ranks were seeded differently; the broadcast made both start from rank 0's weights.
    s0, s1 = (np.load(tmp_path / ("regression-start-rank%d.npz" % r)) for r in range(2))
    for name in s0.files:
        np.testing.assert_array_equal(s0[name], s1[name])


@needs_mpi
@pytest.mark.parametrize("how", ["raise", "exit", "kill"])
def test_a_failing_rank_ends_every_rank(tmp_path, how):
    rc, out = _run([WORKER, "fail", str(tmp_path), how], timeout=120)
    assert rc != 0, out
    if how == "raise":
        assert "ValueError: boom on rank 1" in out
        assert "rank 0 got: Horovod has been shut down: rank 1 stopped: it raised ValueError: boom on rank 1" in out
    elif how == "exit":
        assert "rank 0 got: Horovod has been shut down: rank 1 stopped: it exited" in out
    else:  # the launcher ends the job when a process is killed
        assert "rank 0 got" not in out


@needs_mpi
def test_stalled_tensors_warn_then_end_every_rank(tmp_path, monkeypatch):
    monkeypatch.setenv("HOROVOD_STALL_CHECK_TIME_SECONDS", "1")
    monkeypatch.setenv("HOROVOD_STALL_SHUTDOWN_TIME_SECONDS", "2")
    rc, out = _run([WORKER, "stall", str(tmp_path)], timeout=120)
    assert rc == 0, out
    assert "only_on_rank_0 (missing ranks: 1)" in out and "only_on_rank_1 (missing ranks: 0)" in out, out
    # whichever rank reached the limit first (or both) stopped every rank, with the same message
    # (the ranks' lines may run together in the launcher's output)
    got = [re.search(r"rank %d got: (Horovod has been shut down: .*?before the first shutdown message\.)" % r, out)
           for r in range(2)]
    assert all(got) and got[0].group(1) == got[1].group(1), out
    assert re.match("Horovod has been shut down: rank ([01]) stopped: 'only_on_rank_\\1' waited \\d+ s", got[0].group(1)), out


@needs_mpi
def test_horovod_mnist_example(tmp_path):
    rc, out = _run([EXAMPLE, "--num-steps", "120", "--batch-size", "50"], cwd=str(tmp_path))
    assert rc == 0, out
    losses = [float(m) for m in re.findall(r"loss = ([0-9.e+-]+), step = ", out)]
    assert len(losses) >= 12 and np.mean(losses[-4:]) < 0.5 * np.mean(losses[:4]), out
    # Only rank 0 writes checkpoints.
    assert os.path.exists(tmp_path / "checkpoints" / "checkpoint")
