"""tf.estimator: the names TF 1.x programs use without an Estimator (model functions switch on ModeKeys)."""


class ModeKeys:
    """The mode a model function is built for, as tf.estimator.ModeKeys spells it."""
    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"


__all__ = ["ModeKeys"]
