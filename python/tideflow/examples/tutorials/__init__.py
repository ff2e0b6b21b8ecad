"""The TF 1.x tutorials' helpers."""
