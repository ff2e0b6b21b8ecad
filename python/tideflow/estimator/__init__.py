"""tf.estimator (TF 1.x): Estimator, EstimatorSpec, RunConfig, ModeKeys and tf.estimator.inputs.

ModeKeys loads with `import tideflow`; the rest loads on first use (it pulls in the training loop)."""
import importlib as _importlib

from .model_fn import ModeKeys

_LAZY = {"Estimator": "estimator", "EstimatorSpec": "model_fn", "RunConfig": "run_config",
         "LinearRegressor": "canned", "LinearClassifier": "canned", "DNNRegressor": "canned",
         "DNNClassifier": "canned"}

__all__ = ["ModeKeys", "Estimator", "EstimatorSpec", "RunConfig", "inputs", "LinearRegressor", "LinearClassifier",
           "DNNRegressor", "DNNClassifier"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(_importlib.import_module("." + _LAZY[name], __name__), name)
    elif name == "inputs":
        value = _importlib.import_module(".inputs", __name__)  # tf.estimator.inputs.numpy_input_fn
    else:
        raise AttributeError("module 'tideflow.estimator' has no attribute %r" % name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
