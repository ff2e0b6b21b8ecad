"""The Keras engine: Layer and InputSpec (Note [layers engine] in base_layer.py)."""
from .base_layer import Layer  # noqa: F401
from .input_spec import InputSpec  # noqa: F401
