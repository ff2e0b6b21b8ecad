"""`from tensorflow.examples.tutorials.mnist import input_data`: MNIST as TF 1.x's tutorials read it."""
