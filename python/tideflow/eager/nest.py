"""flatten / pack_sequence_as over lists, tuples, namedtuples and dicts (sorted keys), as tf.nest does:
GradientTape.gradient returns gradients in the structure of its sources."""


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def is_nested(x):
    return isinstance(x, (list, tuple, dict))


def flatten(x):
    out = []

    def walk(y):
        if isinstance(y, dict):
            for k in sorted(y):
                walk(y[k])
        elif isinstance(y, (list, tuple)):
            for z in y:
                walk(z)
        else:
            out.append(y)
    walk(x)
    return out


def pack_sequence_as(structure, flat):
    it = iter(flat)

    def build(s):
        if isinstance(s, dict):
            built = {k: build(s[k]) for k in sorted(s)}
            return type(s)((k, built[k]) for k in s)
        if _is_namedtuple(s):
            return type(s)(*[build(z) for z in s])
        if isinstance(s, (list, tuple)):
            return type(s)(build(z) for z in s)
        return next(it)
    return build(structure)
