"""tf.losses (filled with the losses of the autodiff issue)."""
