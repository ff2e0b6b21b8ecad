"""tf.summary (filled by the TensorBoard issue)."""
