"""tf.errors: TensorFlow's typed run-time errors. The core raises them by code."""
from .. import _core

OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, ALREADY_EXISTS = 0, 1, 2, 3, 4, 5, 6
PERMISSION_DENIED, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE = 7, 8, 9, 10, 11
UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS, UNAUTHENTICATED = 12, 13, 14, 15, 16


class OpError(Exception):
    """Raised when a run fails. Accepts TF's (node_def, op, message) or just a message."""
    error_code = UNKNOWN

    def __init__(self, *args, **kwargs):
        if len(args) >= 3 or "message" in kwargs:
            node_def, op, message = (list(args) + [None, None, None])[:3]
            node_def = kwargs.get("node_def", node_def)
            op = kwargs.get("op", op)
            message = kwargs.get("message", message)
        else:
            node_def, op, message = None, None, args[0] if args else ""
        super().__init__(message)
        self.node_def, self.op, self.message = node_def, op, message

    def __str__(self):
        return str(self.message)


def _make(name, code, doc):
    cls = type(name, (OpError,), {"error_code": code, "__doc__": doc})
    globals()[name] = cls
    return cls


CancelledError = _make("CancelledError", CANCELLED, "The operation or session was cancelled or closed.")
UnknownError = _make("UnknownError", UNKNOWN, "Unknown error.")
InvalidArgumentError = _make("InvalidArgumentError", INVALID_ARGUMENT, "An op received an invalid argument.")
DeadlineExceededError = _make("DeadlineExceededError", DEADLINE_EXCEEDED, "A deadline expired.")
NotFoundError = _make("NotFoundError", NOT_FOUND, "A requested entity (file, variable) was not found.")
AlreadyExistsError = _make("AlreadyExistsError", ALREADY_EXISTS, "An entity already exists.")
PermissionDeniedError = _make("PermissionDeniedError", PERMISSION_DENIED, "Permission denied.")
ResourceExhaustedError = _make("ResourceExhaustedError", RESOURCE_EXHAUSTED, "Out of memory or another resource.")
FailedPreconditionError = _make("FailedPreconditionError", FAILED_PRECONDITION,
                                "The system is not in a state to run the op (e.g. an uninitialized variable).")
AbortedError = _make("AbortedError", ABORTED, "The operation was aborted.")
OutOfRangeError = _make("OutOfRangeError", OUT_OF_RANGE, "Iterated past the valid range.")
UnimplementedError = _make("UnimplementedError", UNIMPLEMENTED, "The operation is not implemented.")
InternalError = _make("InternalError", INTERNAL, "An internal invariant was broken.")
UnavailableError = _make("UnavailableError", UNAVAILABLE, "The runtime is unavailable.")
DataLossError = _make("DataLossError", DATA_LOSS, "Unrecoverable data loss or corruption.")

_BY_CODE = {c.error_code: c for c in (CancelledError, UnknownError, InvalidArgumentError, NotFoundError,
                                     AlreadyExistsError, ResourceExhaustedError, FailedPreconditionError,
                                     OutOfRangeError, UnimplementedError, InternalError, DataLossError)}
_core._set_error_classes({**_BY_CODE, 100: ValueError, 101: TypeError, 102: LookupError})
