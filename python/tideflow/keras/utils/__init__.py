"""Keras utilities the layers share."""
