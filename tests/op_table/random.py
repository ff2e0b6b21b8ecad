"""Random ops have no row here: their outputs are draws, not a function of the inputs that a NumPy
reference can recompute from the table's sampled arrays, and they have no gradient to check. They are
tested in tests/test_random.py instead: the generator bit for bit against a NumPy Philox4x32-10 (itself
checked against Random123's known answers) and against TensorFlow, the distributions by their moments,
and TF1 seed semantics, shapes and thread-count independence."""
ROWS = []
