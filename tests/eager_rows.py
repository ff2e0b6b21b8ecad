"""Running an op-table row eagerly. Builders written for graph mode may call tf.gradients (the rows of
gradient ops: MaxPoolGrad, Conv2DBackpropFilter...), which eager mode refuses, as TensorFlow does; here it
is answered by a persistent GradientTape that watched the row's inputs while the builder ran, so the
gradient ops themselves run eagerly (and, under an outer tape, are differentiated again)."""
import tideflow as tf


class _EagerNamespace:
    """tideflow's namespace, with tf.gradients answered by `tape`."""

    def __init__(self, tape):
        self._tape = tape

    def __getattr__(self, name):
        return getattr(tf, name)

    def gradients(self, ys, xs, grad_ys=None, **kwargs):
        many = isinstance(xs, (list, tuple))
        grads = self._tape.gradient(ys, list(xs) if many else [xs], output_gradients=grad_ys)
        return list(grads)


def build_eagerly(row, inputs):
    with tf.GradientTape(persistent=True) as tape:
        for x in inputs:
            if x.dtype.is_floating:
                tape.watch(x)
        return row.build(_EagerNamespace(tape), *inputs)
