"""The row type of the op table."""
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np


@dataclass
class OpRow:
    name: str                       # test id, usually the tf function name
    build: Callable                 # build(tf, *inputs) -> tf.Tensor; inputs are placeholders
    ref: Callable                   # ref(*arrays) -> np.ndarray, the NumPy reference
    shapes: Sequence                # list of input-shape tuples, one per sample: [((2, 3), (3,)), ...]
    dtypes: Sequence = ("float32", "float64")
    grad: bool = True               # run the float64 finite-difference gradient check
    grad_inputs: Optional[Sequence[int]] = None  # which inputs to differentiate (default: all float ones)
    low: float = -2.0               # inputs are drawn uniformly from [low, high]
    high: float = 2.0
    make: Optional[Callable] = None  # make(rng, shapes, dtype) -> list of arrays, when uniform draws won't do
    avoid: Optional[Callable] = None  # avoid(arrays) -> arrays moved away from kinks/poles
    rtol: float = 1e-5
    atol: float = 1e-6
    grad_tol: float = 1e-4          # max |theoretical - numerical| in the float64 check
    input_dtypes: Optional[Callable] = None  # input_dtypes(dtype) -> list of dtypes per input
    extra: dict = field(default_factory=dict)
    # Special-value cases (op_table/specials.py): None generated, False none (reason in extra["specials"]),
    # or specials(dtype) -> list of input lists.
    specials: object = None

    def inputs(self, rng, shapes, dtype):
        if self.make is not None:
            arrays = self.make(rng, shapes, np_dtype(dtype))
        else:
            dts = self.input_dtypes(dtype) if self.input_dtypes else [dtype] * len(shapes)
            arrays = []
            for s, dt in zip(shapes, dts):
                dt = np_dtype(dt)
                if dt.kind == "b":
                    arrays.append(rng.uniform(size=s) > 0.5)
                elif dt.kind in "iu":  # unsigned types take the same draws, wrapped as NumPy and C++ wrap them
                    arrays.append(rng.randint(int(self.low), int(self.high) + 1, size=s).astype(np.int64).astype(dt))
                else:
                    arrays.append(rng.uniform(self.low, self.high, size=s).astype(dt))
        if self.avoid is not None:
            arrays = self.avoid(arrays)
        return [np.asarray(a) for a in arrays]


# ---- the 8- and 16-bit dtypes (cpp/dtype.h: Note [dtype sets]) ----
# Rows list float32/float64 (and int32/int64, bool) in `dtypes`; each family module then names, in one
# add_dtypes block, the rows whose ops TensorFlow's CPU kernels also register for these.
HALF = ("float16", "bfloat16")
SMALL_INT = ("int8", "int16", "uint8", "uint16")
SIGNED_SMALL_INT = ("int8", "int16")


def np_dtype(name):
    """The NumPy dtype of a dtype name; bfloat16 is ml_dtypes' (TensorFlow's), a test skips without it."""
    if name == "bfloat16":
        import pytest
        return np.dtype(pytest.importorskip("ml_dtypes").bfloat16)
    return np.dtype(name)


def add_dtypes(rows, extra):
    """Adds dtypes to the rows named in `extra` ({row name: dtypes}); every name must be a row."""
    by_name = {}
    for r in rows:
        by_name.setdefault(r.name, []).append(r)
    missing = sorted(set(extra) - set(by_name))
    assert not missing, "add_dtypes names no such rows: %s" % missing
    for name, dts in extra.items():
        for r in by_name[name]:
            r.dtypes = tuple(r.dtypes) + tuple(d for d in dts if d not in r.dtypes)


# float16 keeps 11 significant bits, bfloat16 8: values computed in float32 and rounded once agree with the
# reference to about 2^-11 (2^-8) relative, more when the op rounds several times (TF's per-op rounding).
HALF_TOL = {"float16": (4e-3, 1e-3), "bfloat16": (3e-2, 1e-2)}


def tolerances(row, dt):
    rtol, atol = row.rtol, row.atol
    if dt == "float32":
        rtol, atol = max(rtol, 1e-5), max(atol, 1e-5)
    if dt in HALF_TOL:
        rtol, atol = max(rtol, HALF_TOL[dt][0]), max(atol, HALF_TOL[dt][1])
    return rtol, atol


def reference(row, arrays, dt):
    """The NumPy reference of a row; for float16 and bfloat16 it is computed on float32 copies of the inputs
    (the values tideflow computes with) and float results are rounded to the row's dtype."""
    if dt not in HALF or row.extra.get("native_ref"):
        return np.asarray(row.ref(*arrays))
    half = np_dtype(dt)
    wide = [a.astype(np.float32) if a.dtype == half else a for a in arrays]
    out = np.asarray(row.ref(*wide))
    return out.astype(half) if out.dtype.kind == "f" else out


def add_dtypes_to_families(rows, families, dtypes, only_with=None):
    """Adds `dtypes` to every row whose name is one of `families` or starts with one and a '[' (rows
    generated per attribute: 'reduce_sum[axis=0,keep=1]'); with `only_with`, only to rows that already list
    that dtype (integer variants go only where the row runs int32)."""
    fams = tuple(families)
    hit = set()
    for r in rows:
        base = r.name.split("[", 1)[0]
        if base in fams and (only_with is None or only_with in r.dtypes):
            r.dtypes = tuple(r.dtypes) + tuple(d for d in dtypes if d not in r.dtypes)
            hit.add(base)
    missing = sorted(set(fams) - hit)
    assert not missing, "add_dtypes_to_families matched no rows for: %s" % missing
