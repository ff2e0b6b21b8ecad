"""Process state for tideflow.horovod: MPI comes from mpi4py (an optional extra), the collectives run on the
core's controller thread (cpp/dist/controller.h), which calls the MPI library mpi4py loaded.

Note [stopping together]
A rank that stops, by hvd.shutdown() or at exit (an uncaught exception included: its type and message go
along), says so in a last negotiation round; the other ranks then fail their pending collectives with
that reason instead of waiting forever, and refuse new ones. The exiting rank waits in that round until
every other rank reaches a collective or its own exit, as MPI_Finalize would. A rank killed outright is
the launcher's to clean up: mpiexec ends the whole job when a process dies.
"""
import atexit
import os
import sys
import threading

from .. import _core

__all__ = ["init", "shutdown", "is_initialized", "size", "local_size", "cross_size", "rank", "local_rank",
           "cross_rank", "is_homogeneous", "mpi_threads_supported", "mpi_enabled", "mpi_built", "gloo_enabled",
           "gloo_built", "nccl_built", "ddl_built", "ccl_built", "cuda_built", "rocm_built",
           "Average", "Sum", "Adasum", "Min", "Max", "Product"]

# Horovod's reduction ops (the `reduce_op` attribute of HorovodAllreduce).
Average, Sum, Adasum, Min, Max, Product = 0, 1, 2, 3, 4, 5

INSTALL_HINT = (
    "tideflow.horovod runs its collectives on MPI through the mpi4py package and an MPI library. Install "
    "both with\n    pip install 'tideflow[mpi]'        (mpi4py and the MPICH wheel)\nor `pip install mpi4py` "
    "next to your system's MPI (apt-get install openmpi-bin libopenmpi-dev), then start the program with\n"
    "    mpirun -np 2 python train.py")

_NOT_INITIALIZED = "Horovod has not been initialized; use hvd.init()."


class _State:
    pass


_state = None
_lock = threading.Lock()
_exit_reason = None  # set by the excepthook: what the other ranks are told when this one exits
_hooks_installed = False


def _env_float(name, default):
    v = os.environ.get(name)
    try:
        return float(v) if v not in (None, "") else default
    except ValueError:
        raise ValueError("%s must be a number, got %r" % (name, v)) from None


def _load_mpi():
    try:
        import mpi4py  # noqa: F401
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError, OSError) as e:  # mpi4py without an MPI library to load
        raise ImportError(INSTALL_HINT + "\n(mpi4py could not load an MPI library: %s)" % e) from e
    return MPI


def _signed(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def init(comm=None, process_sets=None):
    """Starts tideflow.horovod on the processes of `comm` (an mpi4py communicator or a list of ranks of
    COMM_WORLD; default: every process mpirun started). Calling it again does nothing."""
    global _state
    with _lock:
        if _state is not None:
            return
        if process_sets not in (None, []):
            raise NotImplementedError("process sets are not supported by tideflow.horovod")
        MPI = _load_mpi()
        if MPI.Query_thread() < MPI.THREAD_MULTIPLE:
            raise RuntimeError(
                "tideflow.horovod calls MPI from a background thread and needs MPI_THREAD_MULTIPLE, but MPI was "
                "initialized with a lower thread level. Leave mpi4py.rc.thread_level at 'multiple' (its default).")
        if comm is None:
            base = MPI.COMM_WORLD
        elif isinstance(comm, (list, tuple)):
            group = MPI.COMM_WORLD.Get_group().Incl(list(comm))
            base = MPI.COMM_WORLD.Create(group)
            if base == MPI.COMM_NULL:
                raise ValueError("this process (rank %d) is not among the ranks %r" % (MPI.COMM_WORLD.rank, comm))
        else:
            base = comm
        _check_launcher(base.Get_size())
        s = _State()
        s.MPI = MPI
        # Private communicators: the controller's collectives and Python-side object exchanges must never
        # interleave with each other or with the user's own MPI calls.
        s.comm = base.Dup()
        s.obj_comm = base.Dup()
        s.rank, s.size = s.comm.Get_rank(), s.comm.Get_size()
        s.local_comm = s.comm.Split_type(MPI.COMM_TYPE_SHARED, key=s.rank)
        s.local_rank, s.local_size = s.local_comm.Get_rank(), s.local_comm.Get_size()
        s.cross_comm = s.comm.Split(s.local_rank, s.rank)
        s.cross_rank, s.cross_size = s.cross_comm.Get_rank(), s.cross_comm.Get_size()
        s.homogeneous = len(set(s.obj_comm.allgather(s.local_size))) == 1
        s.thread_multiple = MPI.Query_thread() == MPI.THREAD_MULTIPLE
        handles = {
            "handle_bytes": MPI._sizeof(s.comm), "comm": s.comm.handle, "in_place": int(MPI.IN_PLACE),
            "float": MPI.FLOAT.handle, "double": MPI.DOUBLE.handle, "int32": MPI.INT32_T.handle,
            "int64": MPI.INT64_T.handle, "byte": MPI.BYTE.handle,
            "sum": MPI.SUM.handle, "min": MPI.MIN.handle, "max": MPI.MAX.handle, "prod": MPI.PROD.handle,
        }
        nbytes = handles["handle_bytes"]
        for t in (MPI.Datatype, MPI.Op, MPI.Request):
            if MPI._sizeof(t) != nbytes:
                raise RuntimeError("this MPI library's handles differ in size (%s); tideflow.horovod cannot call it"
                                   % MPI.Get_library_version().splitlines()[0])
        # mpi4py reports handles as unsigned numbers; the core takes them as the C type's signed bits.
        bits = 8 * nbytes
        handles = {k: v if k == "handle_bytes" else _signed(v, bits) for k, v in handles.items()}
        regions, region_bytes = _shared_window(s, MPI)
        s.library = _core._hvd_start(
            handles, s.rank, s.size, int(_env_float("HOROVOD_FUSION_THRESHOLD", 64 * 1024 * 1024)),
            _env_float("HOROVOD_CYCLE_TIME", 5.0), _env_float("HOROVOD_STALL_CHECK_TIME_SECONDS", 60.0),
            _env_float("HOROVOD_STALL_SHUTDOWN_TIME_SECONDS", 0.0), regions, region_bytes)
        if regions:
            s.local_comm.Barrier()  # every rank's counter in the window is set before any allreduce uses it
        # Processes sharing a machine share its cores: each takes its part unless a Session's ConfigProto
        # says otherwise (the executor, intra-op work and BLAS all follow this one cap).
        if s.local_size > 1:
            try:
                cpus = len(os.sched_getaffinity(0))
            except AttributeError:
                cpus = os.cpu_count() or 1
            _core._set_default_threads(max(1, cpus // s.local_size))
        _state = s
        _install_exit_hooks()


_SHM_SLOT_BYTES = 4 << 20  # two per rank: Note [shared-memory allreduce] in cpp/dist/shm_allreduce.h


def _shared_window(s, MPI):
    """Every rank's region of a window all ranks share, when they all run on this machine (allreduces then
    reduce in it instead of going through MPI's messages); TIDEFLOW_HVD_SHM=0 turns it off. Returns the
    regions' addresses in rank order and their size, or ([], 0); every rank gets the same answer."""
    want = s.size > 1 and s.local_size == s.size and os.environ.get("TIDEFLOW_HVD_SHM", "1") != "0"
    if not all(s.obj_comm.allgather(want)):
        return [], 0
    region = 128 + 2 * _SHM_SLOT_BYTES
    try:
        s.shm_window = MPI.Win.Allocate_shared(region, 1, comm=s.local_comm)  # kept until the process ends
        regions = [s.shm_window.Shared_query(q)[0].address for q in range(s.local_size)]
        ok = True
    except MPI.Exception:  # e.g. a /dev/shm too small for it: MPI's messages still work
        regions, ok = [], False
    if not all(s.obj_comm.allgather(ok)):
        return [], 0
    return regions, region


# What launchers tell each process about the job (MPICH's hydra, Open MPI, horovodrun in Gloo mode).
_LAUNCHER_SIZES = (("PMI_SIZE", "an MPICH-style mpiexec"), ("OMPI_COMM_WORLD_SIZE", "Open MPI's mpirun"),
                   ("HOROVOD_SIZE", "horovodrun"))


def _check_launcher(mpi_size):
    """A launcher that started several processes while MPI sees one means each would train alone: the
    launcher belongs to another MPI library than mpi4py's, or horovodrun ran in Gloo mode."""
    if mpi_size != 1:
        return
    for var, who in _LAUNCHER_SIZES:
        try:
            n = int(os.environ.get(var, "1"))
        except ValueError:
            continue
        if n > 1:
            raise RuntimeError(
                "%s started %d processes (%s=%d), but the MPI library mpi4py loaded sees only this one, so each "
                "process would train alone. Launch with the mpirun/mpiexec of the MPI library mpi4py uses (%s)%s."
                % (who, n, var, n, _library_name(),
                   "; horovodrun needs --mpi" if var == "HOROVOD_SIZE" else ""))


def _library_name():
    try:
        from mpi4py import MPI
        return MPI.Get_library_version().strip().splitlines()[0]
    except Exception:  # noqa: BLE001 (only for a message)
        return "unknown"


def _install_exit_hooks():
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    previous = sys.excepthook

    def excepthook(etype, value, tb):
        global _exit_reason
        first = str(value).strip().splitlines()
        _exit_reason = "it raised %s%s" % (etype.__name__, (": " + first[0]) if first else "")
        previous(etype, value, tb)

    sys.excepthook = excepthook
    # Registered after mpi4py's own finalization, so it runs first (atexit is last in, first out).
    atexit.register(_at_exit)


def _at_exit():
    if _state is not None:
        _shutdown(_exit_reason or "it exited", at_exit=True)


def _shutdown(reason, at_exit=False):
    global _state
    with _lock:
        s = _state
        if s is None:
            return
        _state = None
        sys.stderr.flush()
        ok = _core._hvd_shutdown(reason)
        _core._set_default_threads(0)
        if not ok:
            # A collective never completed: MPI cannot be finalized cleanly, and the launcher ends the job.
            sys.stderr.write("[tideflow.horovod] rank %d: the other ranks stopped answering; aborting the job\n"
                             % s.rank)
            sys.stderr.flush()
            s.MPI.COMM_WORLD.Abort(1)


def shutdown():
    """Stops tideflow.horovod on this rank; the other ranks' later collectives fail with a clear error."""
    _shutdown("it called hvd.shutdown()")


def is_initialized():
    return _state is not None


def _get(field):
    s = _state
    if s is None:
        raise ValueError(_NOT_INITIALIZED)
    return getattr(s, field)


def size():
    return _get("size")


def local_size():
    return _get("local_size")


def cross_size():
    return _get("cross_size")


def rank():
    return _get("rank")


def local_rank():
    return _get("local_rank")


def cross_rank():
    return _get("cross_rank")


def is_homogeneous():
    return _get("homogeneous")


def mpi_threads_supported():
    return _get("thread_multiple")


def mpi_enabled():
    return _state is not None


def mpi_built():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def gloo_enabled():
    return False


def gloo_built():
    return False


def nccl_built():
    return 0


def ddl_built():
    return False


def ccl_built():
    return False


def cuda_built():
    return False


def rocm_built():
    return False


def _object_comm():
    return _get("obj_comm")
