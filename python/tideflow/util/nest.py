"""tf.nest: nested structures (lists, tuples, namedtuples, dicts) as TensorFlow's nest sees them. Dicts
flatten in sorted key order; anything else (tensors, None, numbers) is a leaf."""
import collections

__all__ = ["is_nested", "flatten", "pack_sequence_as", "map_structure", "assert_same_structure"]


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(x):
    return isinstance(x, (list, tuple, collections.abc.Mapping))


is_sequence = is_nested


def _children(x):
    if isinstance(x, collections.abc.Mapping):
        return [x[k] for k in _sorted_keys(x)]
    return list(x)


def _sorted_keys(d):
    try:
        return sorted(d)
    except TypeError:
        raise TypeError("nest only supports dicts with sortable keys.") from None


def flatten(structure, expand_composites=False):
    if not is_nested(structure):
        return [structure]
    out = []
    stack = [structure]
    while stack:  # iterative, children in order
        x = stack.pop()
        if is_nested(x):
            stack.extend(reversed(_children(x)))
        else:
            out.append(x)
    return out


def _rebuild(like, values):
    if isinstance(like, collections.abc.Mapping):
        keys = _sorted_keys(like)
        d = dict(zip(keys, values))
        if type(like) in (dict, collections.OrderedDict):
            return type(like)((k, d[k]) for k in like)
        return type(like)(d)
    if _is_namedtuple(like):
        return type(like)(*values)
    return type(like)(values)


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    flat_sequence = list(flat_sequence)
    if not is_nested(structure):
        if len(flat_sequence) != 1:
            raise ValueError("Structure is a scalar but len(flat_sequence) == %d > 1" % len(flat_sequence))
        return flat_sequence[0]
    n = len(flatten(structure))
    if n != len(flat_sequence):
        raise ValueError("Could not pack sequence. Structure had %d elements, but flat_sequence had %d elements.  "
                         "Structure: %s, flat_sequence: %s." % (n, len(flat_sequence), structure, flat_sequence))
    it = iter(flat_sequence)

    def build(s):
        if not is_nested(s):
            return next(it)
        return _rebuild(s, [build(c) for c in _children(s)])
    return build(structure)


def _shape_str(s):
    if not is_nested(s):
        return "."
    inner = ", ".join(_shape_str(c) for c in _children(s))
    if isinstance(s, collections.abc.Mapping):
        return "{%s}" % ", ".join("%r: %s" % (k, _shape_str(s[k])) for k in _sorted_keys(s))
    return ("[%s]" if isinstance(s, list) else "(%s)") % inner


def _type_str(s):
    return "type=%s str=%s" % (type(s).__name__, s)


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False):
    """ValueError (differing shapes of nesting or lengths) or TypeError (differing sequence types), with
    TensorFlow's messages."""
    def fail(why, cls=ValueError):
        raise cls("The two structures don't have the same nested structure.\n\nFirst structure: %s\n\n"
                         "Second structure: %s\n\nMore specifically: %s\nEntire first structure:\n%s\n"
                         "Entire second structure:\n%s" % (_type_str(nest1), _type_str(nest2), why,
                                                           _shape_str(nest1), _shape_str(nest2)))

    def check(a, b):
        if is_nested(a) != is_nested(b):
            seq, other = (a, b) if is_nested(a) else (b, a)
            fail('Substructure "%s" is a sequence, while substructure "%s" is not' % (_type_str(seq),
                                                                                      _type_str(other)))
        if not is_nested(a):
            return
        if check_types:
            ta, tb = type(a), type(b)
            same = ta is tb or (isinstance(a, collections.abc.Mapping) and isinstance(b, collections.abc.Mapping))
            if not same and not (_is_namedtuple(a) and _is_namedtuple(b) and ta._fields == tb._fields):
                fail("The two namedtuples don't have the same sequence type. First structure %s has type %s, while "
                     "second structure %s has type %s" % (_type_str(a), ta.__name__, _type_str(b), tb.__name__),
                     TypeError)
        ca, cb = _children(a), _children(b)
        if len(ca) != len(cb):
            fail("The two structures don't have the same number of elements. First structure: %s. Second "
                 "structure: %s." % (_type_str(a), _type_str(b)))
        if isinstance(a, collections.abc.Mapping) and _sorted_keys(a) != _sorted_keys(b):
            raise ValueError("The two dictionaries don't have the same set of keys. First structure has keys %s, "
                             "while second structure has keys %s." % (_sorted_keys(a), _sorted_keys(b)))
        for x, y in zip(ca, cb):
            check(x, y)
    check(nest1, nest2)


def map_structure(func, *structure, **kwargs):
    check_types = kwargs.pop("check_types", True)
    kwargs.pop("expand_composites", None)
    if kwargs:
        raise ValueError("Only valid keyword arguments are `check_types` and `expand_composites`")
    if not structure:
        raise ValueError("Must provide at least one structure")
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types)
    flats = [flatten(s) for s in structure]
    return pack_sequence_as(structure[0], [func(*xs) for xs in zip(*flats)])
