"""tf.contrib: the parts of TensorFlow 1.x's contrib that programs still use, one submodule each
(contrib/layers.py is tf.contrib.layers, contrib/eager.py is tfe). A submodule loads on first use, so `import tideflow` stays fast
and adding one needs no edit here."""
import importlib


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        module = importlib.import_module("." + name, __name__)  # lazy: each contrib part loads on first use
    except ModuleNotFoundError as e:
        if e.name == __name__ + "." + name:
            raise AttributeError("module 'tideflow.contrib' has no attribute %r (tideflow implements "
                                 "tf.contrib.layers and the parts listed in the README)" % name) from None
        raise
    globals()[name] = module
    return module
