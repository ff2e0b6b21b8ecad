"""Special-value cases of the op table (issue 15): NaN, +-inf, +-0, the dtype's largest and smallest normal
values, among ordinary ones. tests/test_special_values.py runs them on every float row of the families
below, in graph and eager mode, against TensorFlow where it is installed and the row's NumPy reference
otherwise.

A row takes part by default; `OpRow.specials` changes that: False leaves it out (the reason in
`OpRow.extra["specials"]`), a callable specials(dtype) -> [arrays...] gives its own cases. The generated cases
are:
- "grid": for a one- or two-input elementwise row, every special value (against every other one), so each
  op meets each pair once;
- "salted": the row's own inputs for its first sample shapes, with about a third of every float input's
  elements replaced by NaN, +-inf or +-0 (seeded), so reductions, pooling, sorting and the losses see them
  at the first, last and inner positions of a window or row. The extremes stay out of these: a sum of
  max, max and -inf is inf + -inf or max + -inf depending on the order of the additions, which neither
  engine promises.

Note [special values]
What is compared: the positions of NaN, the infinities with their signs, and the finite values within the
row's tolerances. Two things are not compared, because TensorFlow 2.21 itself does not keep them: the sign
of a zero result (its Eigen kernels return either zero depending on the vectorized path), and denormal
inputs and results (TensorFlow flushes them to zero on its CPU threads, ScopedFlushDenormal; tideflow keeps
IEEE gradual underflow, so a denormal input is not a special case here and a denormal result counts as 0).
"""
import numpy as np

from .common import np_dtype

# The families whose float rows get generated cases (by module). Random draws, linear algebra (LAPACK's
# NaN handling is implementation-defined in both engines) and the RNN cells are not among them.
FAMILIES = ("elementwise", "reduce", "nn", "conv", "segment", "array", "matmul")
SPECIAL_DTYPES = ("float32", "float64")


def pool(dt):
    """The special values of float dtype `dt`, then a few ordinary ones."""
    d = np_dtype(dt)
    f = np.finfo(d)
    vals = [np.nan, np.inf, -np.inf, 0.0, -0.0, float(f.max), -float(f.max), float(f.tiny), -float(f.tiny),
            1.0, -1.0, 0.5, -2.5, 3.0]
    return np.array(vals, dtype=np.float64).astype(d)


def _is_float(a):
    return a.dtype.kind == "f" or a.dtype.name == "bfloat16"


def grid_cases(row, dt):
    """Every special value (pair) for the one- and two-input elementwise rows whose inputs are all float."""
    p = pool(dt)
    n_in = len(row.shapes[0])
    dts = row.input_dtypes(dt) if row.input_dtypes else [dt] * n_in
    if any(np_dtype(d).kind != "f" and np_dtype(d).name != "bfloat16" for d in dts):
        return []
    if n_in == 1:
        return [("grid", [p.copy()])]
    if n_in == 2:
        return [("grid", [np.repeat(p, len(p)), np.tile(p, len(p))])]
    return []


def salted_cases(row, dt, samples=1, seeds=(0, 1)):
    out = []
    for shapes in [s for s in row.shapes if all(int(np.prod(x)) > 0 for x in s)][:samples]:
        for seed in seeds:
            rng = np.random.RandomState(seed)
            arrays = row.inputs(rng, shapes, dt)
            p = pool(dt)
            salted = []
            for a in arrays:
                a = np.array(a, copy=True)
                if _is_float(a) and a.size:
                    flat = a.reshape(-1)
                    hit = rng.uniform(size=flat.size) < 0.35
                    flat[hit] = p[rng.randint(0, 5, size=int(hit.sum()))]  # NaN, +-inf, +-0
                salted.append(a)
            out.append(("salted%d-%s" % (seed, "x".join(str(list(s)) for s in shapes).replace(" ", "")), salted))
    return out


def cases(row, dt, elementwise):
    if callable(row.specials):
        return [("own%d" % i, [np.asarray(a) for a in arrays]) for i, arrays in enumerate(row.specials(dt))]
    return (grid_cases(row, dt) if elementwise else []) + salted_cases(row, dt)
