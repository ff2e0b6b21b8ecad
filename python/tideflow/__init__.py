"""tideflow: TensorFlow-1.x programs on a C++ dataflow core. `import tideflow as tf`."""
import ctypes as _ctypes
import os as _os

# OpenBLAS comes from the scipy-openblas32 wheel. Loading it globally before _core lets both regular and
# editable installs resolve it, whatever RPATH the extension was built with. tideflow splits products over
# its own pool (Note [one thread pool] in cpp/kernels/gemm.cc), so this private copy starts no threads of its
# own; the variable is restored at once, leaving NumPy and child processes as they were.


def _openblas_path():
    # The package's own __init__ pulls in importlib.metadata and certifi (about 30 ms of import time), so
    # the library is found through the import system without running it; the package answers if the
    # layout ever changes.
    import importlib.util
    spec = importlib.util.find_spec("scipy_openblas32")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = _os.path.join(folder, "lib", "libscipy_openblas.so")
        if _os.path.exists(path):
            return path
    import scipy_openblas32 as sob
    return _os.path.join(sob.get_lib_dir(), "lib" + sob.get_library() + ".so")


_saved = _os.environ.get("OPENBLAS_NUM_THREADS")
_os.environ["OPENBLAS_NUM_THREADS"] = "1"
try:
    _ctypes.CDLL(_openblas_path(), mode=_ctypes.RTLD_GLOBAL)
finally:
    if _saved is None:
        del _os.environ["OPENBLAS_NUM_THREADS"]
    else:
        _os.environ["OPENBLAS_NUM_THREADS"] = _saved
del _saved, _openblas_path

from . import _core  # noqa: E402

__tideflow_version__ = "0.1.0"  # this package's own version (pyproject.toml)
# TF 1.x programs branch on tf.__version__ (`int(tf.__version__.split('.')[1]) < 12` picks pre-1.0 names such
# as tf.unpack); tideflow follows TensorFlow 1.15's API, so that is the version it reports, as TF does.
__version__ = VERSION = "1.15.0"
GIT_VERSION = "v1.15.0-tideflow-" + __tideflow_version__
COMPILER_VERSION = "tideflow"

from .framework import errors  # noqa: E402
from .framework.dtypes import (DType, as_dtype, float32, float64, double, int32, int64, bool,  # noqa: E402,A004
                               string, uint8, int8, int16, uint16, float16, half, bfloat16)
from .framework.tensor_shape import TensorShape, Dimension  # noqa: E402
from .framework.ops import (Graph, Operation, Tensor, GraphKeys, get_default_graph,  # noqa: E402
                            reset_default_graph, get_default_session, name_scope, control_dependencies, device,
                            convert_to_tensor, add_to_collection, add_to_collections, get_collection,
                            get_collection_ref, is_tensor, register_tensor_conversion_function)
from .framework.ops import constant_op as constant  # noqa: E402
from .framework.random_seed import set_random_seed  # noqa: E402
from ._core import allocation_cap, set_allocation_cap  # noqa: E402,F401 (Note [checked sizes])
from .framework.session import Session, InteractiveSession  # noqa: E402 (ConfigProto...: _namespaces.py)
from .ops.state_ops import (Variable, RefVariable, VariableV1, assign, assign_add, assign_sub,  # noqa: E402
                            is_variable_initialized, global_variables, local_variables, trainable_variables,
                            model_variables, no_op, group, variables_initializer, global_variables_initializer,
                            local_variables_initializer, initialize_all_variables, initialize_variables,
                            all_variables, report_uninitialized_variables, assert_variables_initialized,
                            scatter_update, scatter_add, scatter_sub, scatter_mul, scatter_div, scatter_min,
                            scatter_max, scatter_nd_update, scatter_nd_add, scatter_nd_sub, count_up_to)
from .framework.indexed_slices import IndexedSlices  # noqa: E402
from .ops.math_ops import *  # noqa: E402,F401,F403
from .ops.array_ops import *  # noqa: E402,F401,F403
from .ops.sort_ops import *  # noqa: E402,F401,F403
from .ops.linalg_ops import *  # noqa: E402,F401,F403
from .ops.reduction_ops import *  # noqa: E402,F401,F403
from .ops.random_ops import *  # noqa: E402,F401,F403
from .ops.gradients_impl import *  # noqa: E402,F401,F403
from .ops.clip_ops import *  # noqa: E402,F401,F403
from .ops.script_ops import *  # noqa: E402,F401,F403
from .ops.variable_scope import *  # noqa: E402,F401,F403
from .ops.template import make_template  # noqa: E402
from .ops.control_flow_ops import cond, case, switch_case, while_loop  # noqa: E402
from .ops.functional_ops import map_fn, scan, foldl, foldr  # noqa: E402
from .util import nest  # noqa: E402
from .ops.init_ops import *  # noqa: E402,F401,F403
from .ops.debug_ops import *  # noqa: E402,F401,F403,A004
from .ops import nn_ops as nn  # noqa: E402
from . import losses, train, summary, test  # noqa: E402
from . import estimator, feature_column, layers, metrics  # noqa: E402
from . import data  # noqa: E402  (tf.data: data/dataset_ops.py)
from .ops.data_flow_ops import QueueBase, FIFOQueue, RandomShuffleQueue, PaddingFIFOQueue, PriorityQueue  # noqa
from .ops.io_ops import *  # noqa: E402,F401,F403 (readers, read_file, decode_csv, decode_raw)
from .legacy_names import *  # noqa: E402,F401,F403 (tf.mul, tf.scalar_summary...: TF 0.12 names)
from . import tf_logging as logging, flags, app  # noqa: E402
from .eager import context as _eager_context  # noqa: E402  (wires eager mode into the entry points)
from .eager.context import enable_eager_execution, disable_eager_execution, executing_eagerly  # noqa: E402
from .eager.backprop import GradientTape, UnconnectedGradients  # noqa: E402
from . import _namespaces  # noqa: E402

_namespaces.install(globals())
