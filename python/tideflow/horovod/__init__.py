"""tideflow.horovod: data-parallel training across processes with Horovod's TensorFlow 1.x API.

    import tideflow as tf
    import tideflow.horovod as hvd

    hvd.init()
    opt = hvd.DistributedOptimizer(tf.train.AdamOptimizer(0.001 * hvd.size()))
    train_op = opt.minimize(loss, global_step=tf.train.get_or_create_global_step())
    hooks = [hvd.BroadcastGlobalVariablesHook(0), tf.train.StopAtStepHook(last_step=1000 // hvd.size())]
    with tf.train.MonitoredTrainingSession(hooks=hooks) as sess: ...

and `mpirun -np 4 python train.py`. Collectives are graph ops run by the executor; a background thread in the
core negotiates with the other ranks, fuses small gradients into large buffers and calls the MPI library that
mpi4py loaded (pip install 'tideflow[mpi]'). See cpp/dist/controller.cc for the design.
"""
import warnings

from .. import _core
from ..framework import ops as _ops
from ..framework.indexed_slices import IndexedSlices
from ..util import nest as _nest
from ..ops import reduction_ops as _reduction_ops
from ..ops import state_ops as _state_ops
from ..train import basic_session_run_hooks as _hooks
from ..train import optimizer as _optimizer
from .basics import *  # noqa: F401,F403
from .basics import Adasum, Average, Sum, size, _object_comm
from .basics import Max, Min, Product  # noqa: F401
from .mpi_ops import _allreduce, _normalize_name, allgather, broadcast  # noqa: F401
from .mpi_ops import local_rank_op, local_size_op, rank_op, size_op  # noqa: F401


class Compressor:
    """Compresses a tensor before its allreduce and restores it after."""

    @staticmethod
    def compress(tensor):
        raise NotImplementedError

    @staticmethod
    def decompress(tensor, ctx):
        raise NotImplementedError


class NoneCompressor(Compressor):
    @staticmethod
    def compress(tensor):
        return tensor, None

    @staticmethod
    def decompress(tensor, ctx):
        return tensor


class FP16Compressor(Compressor):
    @staticmethod
    def compress(tensor):
        raise NotImplementedError("Compression.fp16 needs float16 tensors, which tideflow does not have yet; "
                                  "use Compression.none")

    @staticmethod
    def decompress(tensor, ctx):
        return tensor


class Compression:
    none = NoneCompressor
    fp16 = FP16Compressor


def handle_average_backwards_compatibility(op, average):
    """Horovod's: `average=` (deprecated) or `op=`, Average by default."""
    if op is not None:
        if average is not None:
            raise ValueError("The op parameter supersedes average. Please provide only one of them.")
        return op
    if average is not None:
        warnings.warn("Parameter `average` has been replaced with `op` and will be removed in v0.21.0",
                      DeprecationWarning)
        return Average if average else Sum
    return Average


def _dense(slices):
    """An IndexedSlices as the dense tensor it stands for (repeated rows add up)."""
    if slices.dense_shape is None:
        raise ValueError("an IndexedSlices without dense_shape cannot be made dense: %r" % (slices,))
    rows = _ops.convert_to_tensor(slices.dense_shape)[0]
    return _reduction_ops.unsorted_segment_sum(slices.values, slices.indices, rows)


def allreduce(tensor, average=None, device_dense="", device_sparse="", compression=Compression.none, op=None,
              prescale_factor=1.0, postscale_factor=1.0, name=None):
    """The average (op=Average, the default) or sum (op=Sum; also Min, Max, Product) of `tensor` over all
    ranks. A tf.IndexedSlices is gathered instead (values and indices from every rank, values divided by
    the number of ranks for Average), which stands for the same dense sum."""
    op = handle_average_backwards_compatibility(op, average)
    if op == Adasum:
        raise NotImplementedError("The Adasum reduction is not supported by tideflow.horovod.")
    if isinstance(tensor, IndexedSlices):
        if op not in (Average, Sum):
            raise NotImplementedError("Only Average and Sum ops are supported with tf.IndexedSlices")
        values = allgather(tensor.values, name=None if name is None else name + "_values")
        indices = allgather(tensor.indices, name=None if name is None else name + "_indices")
        factor = prescale_factor * postscale_factor / (size() if op == Average else 1)
        if factor != 1.0:
            values = values * _ops.convert_to_tensor(factor, dtype=values.dtype)
        return IndexedSlices(values, indices, dense_shape=tensor.dense_shape)
    tensor = _ops.convert_to_tensor(tensor)
    compressed, ctx = compression.compress(tensor)
    reduced = _allreduce(compressed, name=name, op=op, prescale_factor=prescale_factor,
                         postscale_factor=postscale_factor)
    return compression.decompress(reduced, ctx)


def broadcast_variables(variables, root_rank):
    """An op that assigns every variable its value on rank `root_rank` (eagerly: assigns it at once)."""
    if _ops.executing_eagerly():
        for var in variables:
            var.assign(broadcast(var, root_rank))
        return None
    return _state_ops.group(*[_state_ops.assign(var, broadcast(var, root_rank)) for var in variables])


def broadcast_global_variables(root_rank):
    """An op that assigns every global variable its value on rank `root_rank`."""
    return broadcast_variables(_state_ops.global_variables(), root_rank)


def broadcast_object(obj, root_rank=0, name=None):
    """A picklable Python object from `root_rank`, on every rank."""
    return _object_comm().bcast(obj, root=root_rank)


def allgather_object(obj, name=None):
    """Every rank's picklable object, as a list in rank order."""
    return _object_comm().allgather(obj)


class BroadcastGlobalVariablesHook(_hooks.SessionRunHook):
    """Broadcasts every global variable from `root_rank` once the session is created (after initialization
    or a restore), so that all ranks start from the same weights."""

    def __init__(self, root_rank, device=""):
        super().__init__()
        self.root_rank = root_rank
        self.bcast_op = None
        self.device = device

    def begin(self):
        if not self.bcast_op or self.bcast_op.graph is not _ops.get_default_graph():
            with _ops.device(self.device):
                self.bcast_op = broadcast_global_variables(self.root_rank)

    def after_create_session(self, session, coord):
        session.run(self.bcast_op)


def _make_allreduce_grads_fn(name, device_dense, device_sparse, compression, sparse_as_dense, op,
                             gradient_predivide_factor):
    if gradient_predivide_factor != 1.0 and op != Average:
        raise ValueError("gradient_predivide_factor not supported with op != Average")
    prescale_factor = 1.0 / gradient_predivide_factor
    postscale_factor = gradient_predivide_factor

    def allreduce_grads(grads):
        with _ops.name_scope(name + "_Allreduce"):
            if sparse_as_dense:
                grads = [_dense(g) if isinstance(g, IndexedSlices) else g for g in grads]
            # One process: nothing to average (Horovod's _allreduce_cond).
            if size() == 1:
                return list(grads)
            return [allreduce(g, device_dense=device_dense, device_sparse=device_sparse, compression=compression,
                              op=op, prescale_factor=prescale_factor, postscale_factor=postscale_factor)
                    if g is not None else None for g in grads]

    return allreduce_grads


class _DistributedOptimizer(_optimizer.Optimizer):
    """Wraps a tf.train optimizer: compute_gradients averages every gradient over the ranks (an allreduce
    per dense gradient, an allgather of values and indices per IndexedSlices) before it is applied."""

    def __init__(self, optimizer, name=None, use_locking=False, device_dense="", device_sparse="",
                 compression=Compression.none, sparse_as_dense=False, op=Average, gradient_predivide_factor=1.0):
        if name is None:
            name = "Distributed{}".format(type(optimizer).__name__)
        super().__init__(use_locking, name)
        self._optimizer = optimizer
        self._allreduce_grads = _make_allreduce_grads_fn(name, device_dense, device_sparse, compression,
                                                         sparse_as_dense, op, gradient_predivide_factor)

    def compute_gradients(self, *args, **kwargs):
        gradients = self._optimizer.compute_gradients(*args, **kwargs)
        grads, variables = zip(*gradients)
        return list(zip(self._allreduce_grads(grads), variables))

    def apply_gradients(self, *args, **kwargs):
        return self._optimizer.apply_gradients(*args, **kwargs)

    def get_slot(self, *args, **kwargs):
        return self._optimizer.get_slot(*args, **kwargs)

    def get_slot_names(self, *args, **kwargs):
        return self._optimizer.get_slot_names(*args, **kwargs)

    def variables(self, *args, **kwargs):
        return self._optimizer.variables(*args, **kwargs)


def DistributedOptimizer(optimizer, name=None, use_locking=False, device_dense="", device_sparse="",  # noqa: N802
                         compression=Compression.none, sparse_as_dense=False, backward_passes_per_step=1,
                         op=Average, gradient_predivide_factor=1.0, average_aggregated_gradients=False,
                         num_groups=0, groups=None):
    """Horovod's DistributedOptimizer for a tf.train optimizer: gradients are averaged (op=Average) or
    summed (op=Sum) over all ranks before the wrapped optimizer applies them. Fusion of small gradients
    into large reductions is automatic, so `num_groups` and `groups` change nothing."""
    if op == Adasum:
        raise NotImplementedError("The Adasum reduction is not supported by tideflow.horovod.")
    if op not in (Average, Sum):
        raise ValueError("DistributedOptimizer supports op=hvd.Average or hvd.Sum, got %r" % (op,))
    if backward_passes_per_step != 1:
        raise NotImplementedError("backward_passes_per_step > 1 (local gradient accumulation) is not supported "
                                  "by tideflow.horovod")
    if not isinstance(optimizer, _optimizer.Optimizer):
        raise ValueError("Provided optimizer doesn't inherit from either legacy TensorFlow or Keras optimizer: %s"
                         % optimizer)
    return _DistributedOptimizer(optimizer, name, use_locking, device_dense, device_sparse, compression,
                                 sparse_as_dense, op, gradient_predivide_factor)


class _DistributedGradientTape:
    """A GradientTape whose gradient() averages (op=Average) or sums (op=Sum) the gradients over all ranks;
    everything else is the wrapped tape's."""

    def __init__(self, tape, allreduce_grads):
        self._tape = tape
        self._allreduce_grads = allreduce_grads

    def __getattr__(self, name):
        return getattr(self._tape, name)

    def __enter__(self):
        self._tape.__enter__()
        return self

    def __exit__(self, *exc):
        return self._tape.__exit__(*exc)

    def gradient(self, target, sources, output_gradients=None, **kwargs):
        grads = self._tape.gradient(target, sources, output_gradients, **kwargs)
        flat = _nest.flatten(grads)
        return _nest.pack_sequence_as(grads, self._allreduce_grads(flat))


def DistributedGradientTape(gradtape, device_dense="", device_sparse="", compression=Compression.none,  # noqa: N802
                            sparse_as_dense=False, op=Average, gradient_predivide_factor=1.0, num_groups=0,
                            groups=None):
    """Horovod's DistributedGradientTape: wraps a tf.GradientTape so that `gradient` returns the gradients
    averaged (op=Average, the default) or summed (op=Sum) over all ranks, for eager training loops."""
    if op == Adasum:
        raise NotImplementedError("The Adasum reduction is not supported by tideflow.horovod.")
    if op not in (Average, Sum):
        raise ValueError("DistributedGradientTape supports op=hvd.Average or hvd.Sum, got %r" % (op,))
    fn = _make_allreduce_grads_fn("DistributedGradientTape", device_dense, device_sparse, compression,
                                  sparse_as_dense, op, gradient_predivide_factor)
    return _DistributedGradientTape(gradtape, fn)


def _stats():
    """The controller's counters: negotiation rounds, tensors, MPI data calls, fused tensors, bytes."""
    return _core._hvd_stats()


def _trace(on=True):
    """Turns the controller's event trace on or off (Note [controller trace] in cpp/dist/controller.cc;
    also TIDEFLOW_HVD_TRACE=1)."""
    _core._hvd_trace(bool(on))


def _take_trace():
    """The controller's events since the last call, as (ns, what, arg, thread CPU ns, on the controller's
    thread); ns on time.perf_counter_ns's clock."""
    return _core._hvd_take_trace()
