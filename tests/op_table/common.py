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

    def inputs(self, rng, shapes, dtype):
        if self.make is not None:
            arrays = self.make(rng, shapes, dtype)
        else:
            dts = self.input_dtypes(dtype) if self.input_dtypes else [dtype] * len(shapes)
            arrays = []
            for s, dt in zip(shapes, dts):
                if np.dtype(dt).kind == "b":
                    arrays.append(rng.uniform(size=s) > 0.5)
                elif np.dtype(dt).kind == "i":
                    arrays.append(rng.randint(int(self.low), int(self.high) + 1, size=s).astype(dt))
                else:
                    arrays.append(rng.uniform(self.low, self.high, size=s).astype(dt))
        if self.avoid is not None:
            arrays = self.avoid(arrays)
        return [np.asarray(a) for a in arrays]
