"""tf.keras.models: the model classes (whole-model saving is not supported: use save_weights/load_weights)."""
from .engine.sequential import Sequential
from .engine.training import Model

__all__ = ["Model", "Sequential", "clone_model"]


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model of the same architecture with fresh weights (Sequential models and functional models of
    layers that round-trip through get_config)."""
    if input_tensors is not None or clone_function is not None:
        raise NotImplementedError("clone_model supports only its default arguments")
    if isinstance(model, Sequential):
        layers = [type(la).from_config(la.get_config()) for la in model.layers]
        clone = Sequential(name=model.name + "_clone")
        if getattr(model, "_graph_input", None) is not None:
            from .engine.input_layer import Input  # lazy: only for cloning
            clone.add(Input(batch_shape=tuple(model._graph_input.shape.as_list())))
        for la in layers:
            clone.add(la)
        return clone
    raise NotImplementedError("clone_model supports Sequential models")
