"""The few of TensorFlow's internal `tensorflow.python` modules that programs import directly:
`tensorflow.python.client.timeline` (Chrome traces of RunMetadata.step_stats)."""
