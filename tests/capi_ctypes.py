"""The C ABI (cpp/include/tideflow/c_api.h) driven from Python through ctypes, for tests that need no
compiler: libtideflow is the library the `tideflow` package already loaded, so both APIs share one op
registry and can be compared in one process."""
import ctypes as C
import os

import numpy as np

import tideflow as tf

LIB = C.CDLL(os.path.join(os.path.dirname(os.path.abspath(tf.__file__)), "libtideflow.so"))

P = C.c_void_p
CODES = {0: "OK", 1: "CancelledError", 2: "UnknownError", 3: "InvalidArgumentError", 5: "NotFoundError",
         6: "AlreadyExistsError", 8: "ResourceExhaustedError", 9: "FailedPreconditionError", 11: "OutOfRangeError",
         12: "UnimplementedError", 13: "InternalError", 15: "DataLossError", 100: "ValueError", 101: "TypeError",
         102: "LookupError"}
DT = {np.dtype(np.float32): 1, np.dtype(np.float64): 2, np.dtype(np.int32): 3, np.dtype(np.int64): 9,
      np.dtype(np.bool_): 10}
NP = {v: k for k, v in DT.items()}


class Output(C.Structure):
    _fields_ = [("oper", P), ("index", C.c_int)]

    def __hash__(self):  # usable as a feed_dict key
        return hash((self.oper, self.index))

    def __eq__(self, other):
        return (self.oper, self.index) == (other.oper, other.index)


class Variable(C.Structure):
    _fields_ = [("variable", P), ("initializer", P), ("snapshot", Output), ("initial_value", Output),
                ("trainable", C.c_int)]


def _sig(name, restype, *argtypes):
    f = getattr(LIB, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


S = C.c_char_p
I64P = C.POINTER(C.c_int64)
_sig("TFL_NewStatus", P)
_sig("TFL_DeleteStatus", None, P)
_sig("TFL_GetCode", C.c_int, P)
_sig("TFL_Message", S, P)
_sig("TFL_CodeName", S, C.c_int)
_sig("TFL_AbiVersion", C.c_int)
_sig("TFL_Version", S)
_sig("TFL_AllocateTensor", P, C.c_int, I64P, C.c_int, P)
_sig("TFL_NewTensorFromData", P, C.c_int, I64P, C.c_int, P, C.c_size_t, P)
_sig("TFL_NewStringTensor", P, I64P, C.c_int, C.POINTER(S), C.POINTER(C.c_size_t), P)
_sig("TFL_TensorNewRef", P, P)
_sig("TFL_DeleteTensor", None, P)
_sig("TFL_TensorType", C.c_int, P)
_sig("TFL_NumDims", C.c_int, P)
_sig("TFL_Dim", C.c_int64, P, C.c_int)
_sig("TFL_TensorByteSize", C.c_size_t, P)
_sig("TFL_TensorData", P, P)
_sig("TFL_TensorMutableData", P, P)
_sig("TFL_TensorStringAt", P, P, C.c_int64, C.POINTER(C.c_size_t))
_sig("TFL_NewGraph", P)
_sig("TFL_DeleteGraph", None, P)
_sig("TFL_GraphOperationByName", P, P, S)
_sig("TFL_GraphTensorByName", Output, P, S, P)
_sig("TFL_GraphNumOperations", C.c_int, P)
_sig("TFL_GraphUniqueName", C.c_size_t, P, S, C.c_char_p, C.c_size_t)
_sig("TFL_GraphPushNameScope", S, P, S, P)
_sig("TFL_GraphPopNameScope", None, P)
_sig("TFL_GraphPushControlDependencies", None, P, C.POINTER(P), C.c_int)
_sig("TFL_GraphPopControlDependencies", None, P)
_sig("TFL_GraphSetRandomSeed", None, P, C.c_int64)
_sig("TFL_GraphOpSeeds", None, P, C.c_int64, I64P, I64P)
_sig("TFL_OperationName", S, P)
_sig("TFL_OperationOpType", S, P)
_sig("TFL_OperationNumOutputs", C.c_int, P)
_sig("TFL_OperationNumControlInputs", C.c_int, P)
_sig("TFL_OutputType", C.c_int, Output)
_sig("TFL_OutputNumDims", C.c_int, Output)
_sig("TFL_OutputDims", None, Output, I64P, C.c_int)
_sig("TFL_NewOperation", P, P, S, S)
_sig("TFL_AddInput", None, P, Output)
_sig("TFL_AddControlInput", None, P, P)
_sig("TFL_SetLocation", None, P, S)
_sig("TFL_SetAttrBool", None, P, S, C.c_ubyte)
_sig("TFL_SetAttrInt", None, P, S, C.c_int64)
_sig("TFL_SetAttrFloat", None, P, S, C.c_double)
_sig("TFL_SetAttrType", None, P, S, C.c_int)
_sig("TFL_SetAttrShape", None, P, S, I64P, C.c_int)
_sig("TFL_SetAttrIntList", None, P, S, I64P, C.c_int)
_sig("TFL_SetAttrTensor", None, P, S, P)
_sig("TFL_FinishOperation", P, P, P)
_sig("TFL_DeleteOperationDescription", None, P)
_sig("TFL_AddGradients", None, P, C.POINTER(Output), C.c_int, C.POINTER(Output), C.c_int, C.POINTER(Output), S,
     C.POINTER(Output), P)
_sig("TFL_AddVariable", Variable, P, S, Output, C.c_int, S, P)
_sig("TFL_GraphNumVariables", C.c_int, P)
_sig("TFL_GraphVariableAt", C.c_int, P, C.c_int, C.POINTER(Variable))
_sig("TFL_GraphFindVariable", C.c_int, P, P, C.POINTER(Variable))
_sig("TFL_GlobalVariablesInitializer", P, P, S, P)
_sig("TFL_GetOrCreateGlobalStep", P, P, P)
_sig("TFL_GraphCollectionSize", C.c_int, P, S)
_sig("TFL_GraphCollectionItem", S, P, S, C.c_int)
_sig("TFL_GraphAddToCollection", None, P, S, S, P)
_sig("TFL_ImportMetaGraph", None, P, S, S, P)
_sig("TFL_ExportMetaGraph", None, P, S, P)
_sig("TFL_NewSession", P, P, C.c_int, C.c_int, P)
_sig("TFL_CloseSession", None, P, P)
_sig("TFL_DeleteSession", None, P)
_sig("TFL_SessionRun", None, P, C.POINTER(Output), C.POINTER(P), C.c_int, C.POINTER(Output), C.POINTER(P), C.c_int,
     C.POINTER(P), C.c_int, P)
_sig("TFL_SessionMakeCallable", P, P, C.POINTER(Output), C.c_int, C.POINTER(Output), C.c_int, C.POINTER(P), C.c_int, P)
_sig("TFL_CallableRun", None, P, C.POINTER(P), C.POINTER(P), P)
_sig("TFL_DeleteCallable", None, P)
_sig("TFL_NewOptimizer", P, S, C.POINTER(S), C.POINTER(C.c_double), C.c_int, S, P)
_sig("TFL_OptimizerSetParamTensor", None, P, S, Output, P)
_sig("TFL_DeleteOptimizer", None, P)
_sig("TFL_OptimizerMinimize", P, P, Output, C.POINTER(P), C.c_int, P, S, P)
_sig("TFL_OptimizerGetSlot", P, P, P, S)
_sig("TFL_NewSaver", P, P, C.POINTER(P), C.c_int, C.c_int, P)
_sig("TFL_DeleteSaver", None, P)
_sig("TFL_SaverSave", S, P, P, S, C.c_int64, C.c_int, P)
_sig("TFL_SaverRestore", None, P, P, S, P)
_sig("TFL_LatestCheckpoint", C.c_size_t, S, C.c_char_p, C.c_size_t, P)
_sig("TFL_LoadCheckpointTensor", P, S, S, P)
_sig("TFL_NewEventWriter", P, S, C.c_double, P)
_sig("TFL_EventWriterAddScalar", None, P, S, C.c_double, C.c_int64, P)
_sig("TFL_EventWriterAddGraph", None, P, P, P)
_sig("TFL_EventWriterClose", None, P, P)
_sig("TFL_EventWriterFilename", S, P)
_sig("TFL_DeleteEventWriter", None, P)


class CError(Exception):
    """A failed C call: `name` is TensorFlow's error class name, `code` the numeric code."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (CODES.get(code, code), message))
        self.code, self.name, self.message = code, CODES.get(code, str(code)), message


class Status:
    def __init__(self):
        self.p = LIB.TFL_NewStatus()

    def __del__(self):
        LIB.TFL_DeleteStatus(self.p)

    @property
    def code(self):
        return LIB.TFL_GetCode(self.p)

    @property
    def message(self):
        return LIB.TFL_Message(self.p).decode()


_STATUS = Status()


def call(fn, *args):
    """fn(*args, status); raises CError when the status is not OK."""
    r = fn(*args, _STATUS.p)
    if _STATUS.code:
        raise CError(_STATUS.code, _STATUS.message)
    return r


def s(x):
    return None if x is None else x.encode()


def dims(shape):
    return (C.c_int64 * max(1, len(shape)))(*shape), len(shape)


# ---- tensors ----

def tensor(value, dtype=None):
    a = np.ascontiguousarray(np.asarray(value, dtype=dtype))
    d, n = dims(a.shape)
    return call(LIB.TFL_NewTensorFromData, DT[a.dtype], d, n, a.ctypes.data, a.nbytes)


def to_numpy(t):
    dt = NP[LIB.TFL_TensorType(t)]
    shape = [LIB.TFL_Dim(t, i) for i in range(LIB.TFL_NumDims(t))]
    n = LIB.TFL_TensorByteSize(t)
    buf = C.string_at(LIB.TFL_TensorData(t), n) if n else b""
    return np.frombuffer(buf, dtype=dt).reshape(shape).copy()


# ---- graphs ----

def op(g, op_type, inputs=(), attrs=None, name=None, control=(), location=None):
    d = LIB.TFL_NewOperation(g, s(op_type), s(name))
    for x in inputs:
        LIB.TFL_AddInput(d, x)
    for c in control:
        LIB.TFL_AddControlInput(d, c)
    if location:
        LIB.TFL_SetLocation(d, s(location))
    owned = []
    for k, v in (attrs or {}).items():
        if isinstance(v, bool):
            LIB.TFL_SetAttrBool(d, s(k), int(v))
        elif isinstance(v, int):
            LIB.TFL_SetAttrInt(d, s(k), v)
        elif isinstance(v, float):
            LIB.TFL_SetAttrFloat(d, s(k), v)
        elif isinstance(v, np.dtype):
            LIB.TFL_SetAttrType(d, s(k), DT[v])
        elif isinstance(v, tuple) and v and v[0] == "shape":
            if v[1] is None:
                LIB.TFL_SetAttrShape(d, s(k), None, -1)
            else:
                LIB.TFL_SetAttrShape(d, s(k), *dims([-1 if x is None else x for x in v[1]]))
        elif isinstance(v, list):
            LIB.TFL_SetAttrIntList(d, s(k), *dims(v))
        else:
            t = tensor(v)
            owned.append(t)
            LIB.TFL_SetAttrTensor(d, s(k), t)
    try:
        return call(LIB.TFL_FinishOperation, d)
    finally:
        for t in owned:
            LIB.TFL_DeleteTensor(t)


def out(oper, i=0):
    return Output(oper, i)


def const(g, value, name="Const", dtype=None):
    a = np.asarray(value, dtype=dtype)
    return out(op(g, "Const", [], {"value": a, "dtype": a.dtype}, name))


def placeholder(g, dtype, shape, name):
    return out(op(g, "Placeholder", [], {"dtype": np.dtype(dtype), "shape": ("shape", shape)}, name))


def name_of(oper):
    return LIB.TFL_OperationName(oper).decode()


def variable(g, name, value, trainable=True):
    scope = call(LIB.TFL_GraphPushNameScope, g, s(name)).decode()
    init = const(g, value, "initial_value")
    LIB.TFL_GraphPopNameScope(g)
    return call(LIB.TFL_AddVariable, g, s(scope), init, int(trainable), None)


# ---- sessions ----

def run(sess, fetches, feeds=None, targets=()):
    feeds = feeds or {}
    fk = (Output * max(1, len(feeds)))(*feeds.keys())
    owned = [tensor(v) for v in feeds.values()]
    fv = (P * max(1, len(owned)))(*owned)
    fo = (Output * max(1, len(fetches)))(*fetches)
    res = (P * max(1, len(fetches)))()
    tg = (P * max(1, len(targets)))(*targets)
    try:
        call(LIB.TFL_SessionRun, sess, fk, fv, len(feeds), fo, res, len(fetches), tg, len(targets))
    finally:
        for t in owned:
            LIB.TFL_DeleteTensor(t)
    vals = [to_numpy(res[i]) for i in range(len(fetches))]
    for i in range(len(fetches)):
        LIB.TFL_DeleteTensor(res[i])
    return vals
