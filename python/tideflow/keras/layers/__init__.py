"""Keras layers (the implementations tf.layers wraps): core, convolutional, pooling, normalization."""
