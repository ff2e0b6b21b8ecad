"""The op table: one row per op (builder, NumPy reference, sample shapes, dtypes, tolerances, points to
avoid). It drives the forward tests (test_ops_forward.py) and the float64 gradient checks
(test_ops_gradients.py). Each op family keeps its rows in its own module here."""
import importlib

from .common import OpRow  # noqa: F401

ROWS = []
for _m in ("elementwise", "array", "reduce", "matmul", "linalg", "nn", "random", "debug", "segment", "conv", "rnn"):
    try:
        ROWS.extend(importlib.import_module("." + _m, __name__).ROWS)
    except ModuleNotFoundError as e:
        if e.name != __name__ + "." + _m:
            raise
