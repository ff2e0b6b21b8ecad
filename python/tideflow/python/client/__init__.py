"""tensorflow.python.client: `timeline`."""
