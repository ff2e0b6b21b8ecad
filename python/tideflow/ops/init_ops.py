"""Initializers for tf.get_variable (filled by the scopes issue)."""
__all__ = []
