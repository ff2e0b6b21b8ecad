"""The collective graph ops (cpp/ops/collective.cc) with Horovod's names: HorovodAllreduce, HorovodAllgather,
HorovodBroadcast. A collective is keyed by its node's name, which is the same on every rank of an SPMD
program; the gradients are registered in C++ with Horovod's rules."""
import re

from ..framework import dtypes as _dtypes
from ..framework import ops as _ops
from . import basics
from .basics import Sum

__all__ = ["allgather", "broadcast", "size_op", "local_size_op", "rank_op", "local_rank_op"]


def _normalize_name(name):
    """Horovod's: a tensor name made into an op name."""
    return re.sub("[^a-zA-Z0-9_]", "_", name)


def _default_name(op_type, tensor):
    """Horovod's: graph collectives are named after their input; eager ones run one at a time in program
    order, so the op type names them, as TensorFlow names an eager kernel."""
    if _ops.executing_eagerly():
        return op_type
    return "%s_%s" % (op_type, _normalize_name(tensor.name))


def _allreduce(tensor, name=None, op=Sum, prescale_factor=1.0, postscale_factor=1.0, ignore_name_scope=False):
    """A sum (or Min, Max, Product, Average) of `tensor` over all ranks; same shape and dtype everywhere."""
    tensor = _ops.convert_to_tensor(tensor)
    if name is None:
        name = _default_name("HorovodAllreduce", tensor)
    return _ops.apply1("HorovodAllreduce", [tensor],
                       {"reduce_op": int(op), "prescale_factor": float(prescale_factor),
                        "postscale_factor": float(postscale_factor), "ignore_name_scope": bool(ignore_name_scope)},
                       name=name)


def allgather(tensor, name=None, ignore_name_scope=False):
    """The ranks' tensors concatenated along the first dimension, in rank order. They must agree in every
    other dimension; the first may differ between ranks."""
    tensor = _ops.convert_to_tensor(tensor)
    if name is None:
        name = _default_name("HorovodAllgather", tensor)
    return _ops.apply1("HorovodAllgather", [tensor], {"ignore_name_scope": bool(ignore_name_scope)}, name=name)


def broadcast(tensor, root_rank, name=None, ignore_name_scope=False):
    """Rank `root_rank`'s value of `tensor` on every rank; same shape and dtype everywhere."""
    tensor = _ops.convert_to_tensor(tensor)
    if name is None:
        name = _default_name("HorovodBroadcast", tensor)
    return _ops.apply1("HorovodBroadcast", [tensor],
                       {"root_rank": int(root_rank), "ignore_name_scope": bool(ignore_name_scope)}, name=name)


def _int_op(value, name):
    return _ops.constant_op(value, _dtypes.int32, name=name)


# Horovod's *_op functions give the values as int32 tensors; a process's place never changes while it runs.
def size_op(name=None):
    return _int_op(basics.size(), name or "HorovodSize")


def local_size_op(name=None):
    return _int_op(basics.local_size(), name or "HorovodLocalSize")


def rank_op(name=None):
    return _int_op(basics.rank(), name or "HorovodRank")


def local_rank_op(name=None):
    return _int_op(basics.local_rank(), name or "HorovodLocalRank")
