"""tf.test.TestCase and tf.test.main (loaded on first use from tf.test: unittest costs ~20 ms of import time).

A TestCase is a unittest.TestCase that starts each test on a fresh default graph with TensorFlow's test
seed, gives sessions (test_session / cached_session / session) and evaluate(), temporary directories and
NumPy-aware assertions, as tensorflow/python/framework/test_util.py's TensorFlowTestCase does."""
import contextlib

import random
import shutil
import sys
import tempfile
import unittest

import numpy as np

from .framework import errors
from .framework import ops as _ops
from .framework import random_seed as _random_seed
from .framework.session import Session

__all__ = ["TestCase", "main"]

_DEFAULT_GRAPH_SEED = 87654321  # TensorFlow's test seed (random_seed.DEFAULT_GRAPH_SEED)


def _to_numpy(value):
    """A NumPy value for what a test compares: arrays, numbers, eager tensors, nested lists/tuples/dicts."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        return value.numpy()
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    return value


class TestCase(unittest.TestCase):
    """Base class for tests of TensorFlow programs (tf.test.TestCase).

    Each test starts on a fresh default graph with the graph-level seed 87654321. Besides unittest's
    assertions it offers assertAllClose / assertAllEqual / assertNear / assertArrayNear / assertShapeEqual
    / assertDTypeEqual / assertAllInRange / assertAllGreater / assertAllLess / assertRaisesOpError, and
    test_session / cached_session / session / evaluate to run graph code.
    """

    def __init__(self, methodName="runTest"):  # noqa: N803 (unittest's name)
        super().__init__(methodName)
        self._cached_session = None
        self._tempdir = None

    def setUp(self):
        """Resets the default graph and seeds Python, NumPy and the graph with TensorFlow's test seed."""
        self._clear_cached_session()
        random.seed(_DEFAULT_GRAPH_SEED)
        np.random.seed(_DEFAULT_GRAPH_SEED)
        _ops.reset_default_graph()
        _random_seed.set_random_seed(_DEFAULT_GRAPH_SEED)

    def tearDown(self):
        """Closes the cached session."""
        self._clear_cached_session()

    def _clear_cached_session(self):
        if self._cached_session is not None:
            self._cached_session.close()
            self._cached_session = None

    def get_temp_dir(self):
        """A temporary directory for this test, deleted when the test ends."""
        if self._tempdir is None:
            self._tempdir = tempfile.mkdtemp(prefix="tideflow_test_")
            self.addCleanup(shutil.rmtree, self._tempdir, ignore_errors=True)
        return self._tempdir

    @contextlib.contextmanager
    def session(self, graph=None, config=None, use_gpu=False, force_gpu=False):
        """A new Session on `graph` (the default graph when None), installed as the default session and
        its graph as the default graph for the `with` block; closed afterwards."""
        graph = graph if graph is not None else _ops.get_default_graph()
        with Session(graph=graph, config=config) as sess, graph.as_default(), sess.as_default():
            yield sess

    @contextlib.contextmanager
    def cached_session(self, graph=None, config=None, use_gpu=False, force_gpu=False):
        """The test's one Session (made on first use on `graph` or the default graph, closed when the test
        ends), installed as the default session for the `with` block; it is not closed on exit."""
        if self._cached_session is None:
            graph = graph if graph is not None else _ops.get_default_graph()
            self._cached_session = Session(graph=graph, config=config)
        elif graph is not None and graph is not self._cached_session.graph:
            raise ValueError("The graph used to get the cached session is different than the one that was "
                             "used to create the session. Maybe create a new session with self.session()")
        sess = self._cached_session
        with sess.graph.as_default(), sess.as_default():
            yield sess

    @property
    def test_session(self):
        """test_session(graph=None, config=None, use_gpu=False, force_gpu=False): TF 1.x's name: the
        cached session when `graph` is None, otherwise a new session on `graph`. (A property, so that test
        loaders, which collect callable `test*` class attributes, do not run it as a test.)"""
        return self._test_session

    def _test_session(self, graph=None, config=None, use_gpu=False, force_gpu=False):
        if graph is None:
            return self.cached_session(config=config, use_gpu=use_gpu, force_gpu=force_gpu)
        return self.session(graph, config, use_gpu, force_gpu)

    def evaluate(self, tensors):
        """The values of `tensors` (a tensor or a nested structure of them) as NumPy values: eager tensors
        directly, graph tensors through the default session (or the cached one)."""
        from .eager import context  # lazy: the eager runtime loads with tideflow, after this module
        if context.executing_eagerly():
            if isinstance(tensors, (list, tuple)):
                return type(tensors)(self.evaluate(t) for t in tensors)
            if isinstance(tensors, dict):
                return {k: self.evaluate(v) for k, v in tensors.items()}
            return _to_numpy(tensors)
        sess = _ops.get_default_session()
        if sess is None:
            with self.cached_session() as sess:
                return sess.run(tensors)
        return sess.run(tensors)

    # --- assertions ---------------------------------------------------------------------------------

    def assertNear(self, f1, f2, err, msg=None):  # noqa: N802 (TensorFlow's names)
        """Asserts |f1 - f2| <= err for two numbers."""
        self.assertTrue(f1 == f2 or abs(f1 - f2) <= err,
                        "%f != %f +/- %f%s" % (f1, f2, err, " (%s)" % msg if msg is not None else ""))

    def assertArrayNear(self, farray1, farray2, err, msg=None):  # noqa: N802
        """Asserts two equal-length lists of numbers are elementwise within `err`."""
        self.assertEqual(len(farray1), len(farray2), msg=msg)
        for f1, f2 in zip(farray1, farray2):
            self.assertNear(float(f1), float(f2), err, msg=msg)

    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802
        """Asserts |a - b| <= atol + rtol * |b| elementwise, for arrays, numbers, tensors or nested
        lists/tuples/dicts of them (shapes must match; NaNs match NaNs)."""
        a, b = _to_numpy(a), _to_numpy(b)
        if isinstance(a, dict) or isinstance(b, dict):
            self.assertIsInstance(a, dict, msg)
            self.assertIsInstance(b, dict, msg)
            self.assertEqual(sorted(a), sorted(b), msg)
            for k in a:
                self.assertAllClose(a[k], b[k], rtol, atol, msg="key %r: %s" % (k, msg))
            return
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and any(
                isinstance(x, (list, tuple, dict, np.ndarray)) or hasattr(x, "numpy") for x in list(a) + list(b)):
            self.assertEqual(len(a), len(b), msg)
            for i, (x, y) in enumerate(zip(a, b)):
                self.assertAllClose(x, y, rtol, atol, msg="index %d: %s" % (i, msg))
            return
        a, b = np.asarray(a), np.asarray(b)
        self.assertEqual(a.shape, b.shape, "Shape mismatch: expected %s, got %s%s" % (
            a.shape, b.shape, " (%s)" % msg if msg else ""))
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=msg or "", equal_nan=True)

    def assertAllCloseAccordingToType(self, a, b, rtol=1e-6, atol=1e-6, float_rtol=1e-6,  # noqa: N802
                                      float_atol=1e-6, half_rtol=1e-3, half_atol=1e-3, msg=None):
        """assertAllClose with tolerances widened for float32 / float16 values."""
        a, b = np.asarray(_to_numpy(a)), np.asarray(_to_numpy(b))
        if a.dtype == np.float32 or b.dtype == np.float32:
            rtol, atol = max(rtol, float_rtol), max(atol, float_atol)
        elif a.dtype == np.float16 or b.dtype == np.float16:
            rtol, atol = max(rtol, half_rtol), max(atol, half_atol)
        self.assertAllClose(a, b, rtol=rtol, atol=atol, msg=msg)

    def assertAllEqual(self, a, b, msg=None):  # noqa: N802
        """Asserts a and b have the same shape and equal elements."""
        a, b = np.asarray(_to_numpy(a)), np.asarray(_to_numpy(b))
        self.assertEqual(a.shape, b.shape, "Shape mismatch: expected %s, got %s%s" % (
            a.shape, b.shape, " (%s)" % msg if msg else ""))
        np.testing.assert_array_equal(a, b, err_msg=msg or "")

    def assertNotAllClose(self, a, b, **kwargs):  # noqa: N802
        """Asserts assertAllClose(a, b) would fail."""
        try:
            self.assertAllClose(a, b, **kwargs)
        except AssertionError:
            return
        raise AssertionError("The two values are close at all elements")

    def assertAllGreater(self, a, comparison_target):  # noqa: N802
        """Asserts every element of a is > comparison_target."""
        self.assertGreater(np.min(np.asarray(_to_numpy(a))), comparison_target)

    def assertAllLess(self, a, comparison_target):  # noqa: N802
        """Asserts every element of a is < comparison_target."""
        self.assertLess(np.max(np.asarray(_to_numpy(a))), comparison_target)

    def assertAllGreaterEqual(self, a, comparison_target):  # noqa: N802
        """Asserts every element of a is >= comparison_target."""
        self.assertGreaterEqual(np.min(np.asarray(_to_numpy(a))), comparison_target)

    def assertAllLessEqual(self, a, comparison_target):  # noqa: N802
        """Asserts every element of a is <= comparison_target."""
        self.assertLessEqual(np.max(np.asarray(_to_numpy(a))), comparison_target)

    def assertAllInRange(self, target, lower_bound, upper_bound, open_lower_bound=False,  # noqa: N802
                         open_upper_bound=False):
        """Asserts every element of target lies in [lower_bound, upper_bound] (open ends on request)."""
        t = np.asarray(_to_numpy(target))
        low = t > lower_bound if open_lower_bound else t >= lower_bound
        high = t < upper_bound if open_upper_bound else t <= upper_bound
        if not np.all(low & high):
            raise AssertionError("%d of the %d elements of target are outside the range %s%s, %s%s" % (
                int(np.sum(~(low & high))), t.size, "(" if open_lower_bound else "[", lower_bound, upper_bound,
                ")" if open_upper_bound else "]"))

    def assertShapeEqual(self, np_array, tf_tensor, msg=None):  # noqa: N802
        """Asserts a NumPy array's shape equals a tensor's static shape."""
        self.assertEqual(list(np.shape(np_array)), tf_tensor.get_shape().as_list(), msg=msg)

    def assertDTypeEqual(self, target, expected_dtype):  # noqa: N802
        """Asserts target's NumPy dtype is `expected_dtype`."""
        self.assertEqual(np.asarray(_to_numpy(target)).dtype, np.dtype(expected_dtype))

    def assertRaisesOpError(self, expected_err_re_or_predicate):  # noqa: N802
        """A context manager asserting its block raises a tf.errors.OpError whose message matches."""
        return self.assertRaisesWithPredicateMatch(errors.OpError, expected_err_re_or_predicate)

    def assertRaisesWithPredicateMatch(self, exception_type, expected_err_re_or_predicate):  # noqa: N802
        """A context manager asserting its block raises `exception_type` whose message matches the
        regular expression (or satisfies the predicate)."""
        if callable(expected_err_re_or_predicate):
            predicate = expected_err_re_or_predicate
            return _RaisesPredicate(self, exception_type, predicate)
        return self.assertRaisesRegex(exception_type, expected_err_re_or_predicate)


class _RaisesPredicate:
    def __init__(self, case, exception_type, predicate):
        self.case, self.exception_type, self.predicate = case, exception_type, predicate

    def __enter__(self):
        return self

    def __exit__(self, kind, e, tb):
        if e is None:
            raise AssertionError("%s not raised" % self.exception_type.__name__)
        if not isinstance(e, self.exception_type) or not self.predicate(e):
            return False
        return True


def main(argv=None):
    """Runs the tests of the `__main__` module (unittest's runner) and exits with its status."""
    unittest.main(module="__main__", argv=argv if argv is not None else sys.argv)



