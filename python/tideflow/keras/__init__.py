"""The Keras engine and layers that tf.layers is built on (TensorFlow 1.15 builds tf.layers the same way:
each tf.layers class is its Keras layer plus TF1 variable scoping). The rest of tf.keras (Sequential, the
functional Model, fit) arrives with issue 13, on this same engine: see Note [layers engine] in
keras/engine/base_layer.py."""
