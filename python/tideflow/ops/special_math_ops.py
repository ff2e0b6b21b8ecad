"""tf.einsum: Einstein summation built from transpose, reshape, reduce_sum and a batched matmul, as
TensorFlow 1.x's special_math_ops.py does, so its gradient comes from those ops' rules and it runs the
same in graph and eager mode.

Note [einsum as matmul]
Operands are contracted pairwise, left to right. Before a pair meets, an index that appears in one operand
only and neither in the other operands nor in the output is summed out (reduce_sum). The remaining indices
of the pair fall into four groups: batch (in both and kept), contracted (in both, summed), and the free
indices of each side. Each side is transposed to [batch, free, contracted] (the right one to [batch,
contracted, free]), reshaped to rank 3, multiplied with one BatchMatMul, and the product reshaped back to
its index list; a final transpose gives the output order. Shapes may be unknown until run time: unknown
sizes come from tf.shape.
"""
import string

from ..framework import ops as _ops
from . import array_ops, linalg_ops, reduction_ops

__all__ = ["einsum"]


def _parse(equation, ranks):
    """(input index strings, output index string) with "..." expanded to capital letters."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
        explicit = True
    else:
        lhs, out, explicit = eq, None, False
    inputs = lhs.split(",")
    if len(inputs) != len(ranks):
        raise ValueError("einsum: equation %r has %d inputs but %d tensors were given"
                         % (equation, len(inputs), len(ranks)))
    letters = set(eq) - set(".,->")
    for c in letters:
        if c not in string.ascii_letters:
            raise ValueError("einsum: invalid character %r in equation %r" % (c, equation))
    spare = [c for c in string.ascii_uppercase[::-1] if c not in letters]
    ell_rank = 0
    for s, r in zip(inputs, ranks):
        if "..." in s:
            if r is None:
                raise ValueError("einsum: an operand with '...' needs a known rank")
            ell_rank = max(ell_rank, r - (len(s) - 3))
    ell = "".join(spare[:ell_rank][::-1])
    expanded = []
    for s, r in zip(inputs, ranks):
        if "..." in s:
            n = r - (len(s) - 3)
            if n < 0:
                raise ValueError("einsum: operand %r has rank %d, fewer than its indices" % (s, r))
            s = s.replace("...", ell[ell_rank - n:])
        elif r is not None and len(s) != r:
            raise ValueError("einsum: operand %r has %d indices but rank %d" % (s, len(s), r))
        if len(set(s)) != len(s):
            raise ValueError("einsum: repeated index in operand %r (diagonals are not supported)" % s)
        expanded.append(s)
    if explicit:
        if "..." in out:
            out = out.replace("...", ell)
        elif ell and any("..." in s for s in inputs):
            out = ell + out  # TensorFlow keeps the broadcast dimensions in front
    else:
        counts = {}
        for s in expanded:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    if len(set(out)) != len(out):
        raise ValueError("einsum: repeated index in the output %r" % out)
    for c in out:
        if not any(c in s for s in expanded):
            raise ValueError("einsum: output index %r appears in no input of %r" % (c, equation))
    return expanded, out


def _dims(x, idx):
    """{index: size} with an int where the static shape knows it, else a scalar tensor."""
    static = x.get_shape().as_list() if x.get_shape().ndims is not None else [None] * len(idx)
    dyn = None
    sizes = {}
    for i, c in enumerate(idx):
        if static[i] is not None:
            sizes[c] = static[i]
        else:
            if dyn is None:
                dyn = array_ops.shape(x)
            sizes[c] = dyn[i]
    return sizes


def _prod(values):
    p = 1
    for v in values:
        p = p * v
    return p


def _shape(values):
    if all(isinstance(v, int) for v in values):
        return list(values)
    return array_ops.stack([v for v in values])


def _sum_out(x, idx, keep):
    """x with the indices not in `keep` summed out."""
    axes = [i for i, c in enumerate(idx) if c not in keep]
    if axes:
        x = reduction_ops.reduce_sum(x, axis=axes)
        idx = "".join(c for c in idx if c in keep)
    return x, idx


def _transpose(x, idx, want):
    if idx == want:
        return x
    return array_ops.transpose(x, [idx.index(c) for c in want])


def _contract(a, ai, b, bi, keep):
    """The product of a and b summed over their shared indices not in `keep`, and its index string."""
    batch = [c for c in ai if c in bi and c in keep]
    contracted = [c for c in ai if c in bi and c not in keep]
    free_a = [c for c in ai if c not in bi]
    free_b = [c for c in bi if c not in ai]
    da, db = _dims(a, ai), _dims(b, bi)
    a = _transpose(a, ai, "".join(batch + free_a + contracted))
    b = _transpose(b, bi, "".join(batch + contracted + free_b))
    bs = [da[c] for c in batch]
    m, k, n = _prod([da[c] for c in free_a]), _prod([da[c] for c in contracted]), _prod([db[c] for c in free_b])
    a = array_ops.reshape(a, _shape([_prod(bs), m, k]))
    b = array_ops.reshape(b, _shape([_prod(bs), k, n]))
    c = linalg_ops.matmul(a, b)
    c = array_ops.reshape(c, _shape(bs + [da[x] for x in free_a] + [db[x] for x in free_b]))
    return c, "".join(batch + free_a + free_b)


def einsum(equation, *inputs, **kwargs):
    """Einstein summation: tf.einsum("ij,jk->ik", a, b) is tf.matmul(a, b).

    Args:
      equation: subscripts as NumPy's einsum takes them: one letter per dimension of each input, inputs
        separated by ",", optionally "->" and the output's letters (without it, the letters that appear
        once, sorted). A letter shared by inputs multiplies along that dimension; a letter missing from the
        output is summed over. "..." stands for leading dimensions that must agree between inputs.
      *inputs: the tensors, one per input of `equation`, all of one dtype.
      name: an optional name scope.

    Returns:
      A tensor with the output's dimensions in the output's letter order.

    Raises:
      ValueError: a malformed equation, a letter repeated within one input or in the output, a number of
        indices that does not match an input's rank, an output letter found in no input.
      InvalidArgumentError: (at run time) sizes of a shared letter that differ.
    """
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError("einsum: unexpected keyword arguments %s" % sorted(kwargs))
    if not inputs:
        raise ValueError("einsum: no input tensors")
    with _ops.name_scope(name, "einsum", list(inputs)):
        xs = [_ops.convert_to_tensor(x, name="input_%d" % i) for i, x in enumerate(inputs)]
        idx, out = _parse(equation, [x.get_shape().ndims for x in xs])
        x, xi = xs[0], idx[0]
        for j in range(1, len(xs)):
            later = set(out).union(*idx[j:])
            x, xi = _sum_out(x, xi, later)
            y, yi = _sum_out(xs[j], idx[j], set(out).union(xi, *idx[j + 1:]))
            x, xi = _contract(x, xi, y, yi, set(out).union(*idx[j + 1:]))
        x, xi = _sum_out(x, xi, set(out))
        return _transpose(x, xi, out)
