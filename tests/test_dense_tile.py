"""Dense layers' float32 products on the tile kernel (Note [unpacked dense products] in cpp/kernels/gemm.cc):
x @ W with a few rows, dy @ W^T and the smaller weight gradients x^T @ dy (an LSTM step's) run by it instead of
OpenBLAS where AVX-512 is there. Each shape, on
awkward sizes (odd rows, columns and depths, vector tails, both bounds of the route), is computed in a fresh
process with the route (the default) and without it (TIDEFLOW_DENSE_TILE=0: OpenBLAS), on one thread and
two; both must match a float64 NumPy product, each other within rounding, and the route must give the
same bits on one thread and two."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tideflow as tf


# (m, n, k, transpose_a, transpose_b). The first ROUTE rows take the route; the others are just outside it
# (too many rows, too few columns, too short a depth, too large a result, both transposed, one row) and must
# be unchanged.
CASES = [
    (2, 256, 256, False, False),
    (7, 301, 257, False, False),
    (64, 1024, 700, False, False),
    (128, 259, 300, False, False),
    (33, 1000, 517, False, False),
    (64, 512, 156, False, False),  # an LSTM step's product
    (128, 256, 32, False, False),
    (2, 128, 1024, False, True),
    (5, 131, 1030, False, True),
    (64, 700, 1024, False, True),
    (63, 257, 1100, False, True),
    (64, 128, 16400, False, True),  # dy^T past the kept scratch: a buffer for the call alone
    (156, 512, 64, True, False),  # an LSTM step's weight gradient
    (40, 300, 300, True, False),
    (1024, 128, 64, True, False),
    (3, 1023, 65, True, False),
    (129, 256, 256, False, False),
    (64, 255, 256, False, False),
    (64, 300, 31, False, False),
    (65, 300, 1100, False, True),
    (1025, 128, 64, True, False),
    (156, 127, 64, True, False),
    (156, 512, 63, True, False),
    (1024, 1025, 64, True, False),
    (40, 300, 300, True, True),
    (1, 300, 1100, False, True),
]
ROUTE = 16

_CHILD = r"""
import json, sys
import numpy as np
import tideflow as tf
cases, threads = json.loads(sys.argv[1]), int(sys.argv[2])
rng = np.random.RandomState(5)
out = []
for m, n, k, ta, tb in cases:
    a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
    with tf.Graph().as_default():
        y = tf.matmul(tf.constant(a), tf.constant(b), transpose_a=ta, transpose_b=tb)
        cfg = tf.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads)
        with tf.Session(config=cfg) as sess:
            out.append(sess.run(y).tobytes().hex())
print(json.dumps(out))
"""


def _run(env, threads):
    e = dict(os.environ, **env)
    # The child imports the tideflow this process runs (the source tree's or an installed one).
    here = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))
    e["PYTHONPATH"] = os.pathsep.join([here] + [p for p in [e.get("PYTHONPATH")] if p])
    r = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(CASES), str(threads)], env=e, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return [np.frombuffer(bytes.fromhex(h), np.float32).reshape(c[0], c[1]) for h, c in zip(json.loads(r.stdout), CASES)]


@pytest.fixture(scope="module")
def runs():
    return {(route, threads): _run({} if route else {"TIDEFLOW_DENSE_TILE": "0"}, threads)
            for route in (True, False) for threads in (1, 2)}


@pytest.fixture(scope="module")
def references():
    """The same operands as the child's (same seed, same order), multiplied in float64."""
    rng = np.random.RandomState(5)
    out = []
    for m, n, k, ta, tb in CASES:
        a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32).astype(np.float64)
        b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32).astype(np.float64)
        out.append((a.T if ta else a) @ (b.T if tb else b))
    return out


@pytest.mark.parametrize("i", range(len(CASES)))
def test_route_matches_reference_and_openblas(runs, references, i):
    ref = references[i]
    k = CASES[i][2]
    tol = 4 * k * np.finfo(np.float32).eps  # operands in [-1, 1]: |sum| <= k
    for key, ys in runs.items():
        y = ys[i]
        assert y.shape == ref.shape
        np.testing.assert_allclose(y, ref, rtol=0, atol=tol, err_msg=str(key))
    np.testing.assert_allclose(runs[(True, 1)][i], runs[(False, 1)][i], rtol=0, atol=2 * tol)


@pytest.mark.parametrize("i", range(len(CASES)))
def test_route_same_bits_on_one_thread_and_two(runs, i):
    assert np.array_equal(runs[(True, 1)][i], runs[(True, 2)][i])


def _avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return " avx512f" in f.read() and os.environ.get("TIDEFLOW_KERNEL_ISA") in (None, "")
    except OSError:
        return False


def test_route_is_taken(runs):
    """Where AVX-512 is there, the route's sums are not OpenBLAS's: some product deeper than one chunk of
    the tile kernel differs in the last bits (else the switch or the route would be dead)."""
    if not _avx512():
        pytest.skip("the route runs on AVX-512 only")
    assert any(not np.array_equal(runs[(True, 1)][i], runs[(False, 1)][i]) for i in range(ROUTE))


@pytest.mark.parametrize("i", range(ROUTE, len(CASES)))
def test_outside_the_route_openblas_unchanged(runs, i):
    assert np.array_equal(runs[(True, 1)][i], runs[(False, 1)][i])
