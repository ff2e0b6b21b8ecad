"""Element structures shared by datasets and iterators: nests of tuples, namedtuples and dicts."""
from ..framework.tensor_shape import as_shape


def _normalize_structure(x):
    """Lists in an element structure become tuples (TensorFlow packs them as tuples too)."""
    if isinstance(x, dict):
        return type(x)((k, _normalize_structure(v)) for k, v in x.items())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*[_normalize_structure(v) for v in x])
    if isinstance(x, (list, tuple)):
        return tuple(_normalize_structure(v) for v in x)
    return x


def _shape_structure(shapes, types):
    """output_shapes matched to output_types' structure (a shape is a list of ints, not a nested value)."""
    if isinstance(types, dict):
        return {k: _shape_structure(shapes[k], types[k]) for k in types}
    if isinstance(types, tuple):
        return tuple(_shape_structure(s, t) for s, t in zip(shapes, types))
    return as_shape(shapes)
