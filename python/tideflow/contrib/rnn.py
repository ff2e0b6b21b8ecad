"""tf.contrib.rnn: TensorFlow 1.x's RNN cells (ops/rnn_cell_impl.py, with the fused LSTMBlockCell) and static RNNs."""
from ..ops.rnn import static_bidirectional_rnn, static_rnn  # noqa: F401
from ..ops.rnn_cell_impl import *  # noqa: F401,F403
from ..ops.rnn_cell_impl import __all__ as _cells

__all__ = list(_cells) + ["static_rnn", "static_bidirectional_rnn"]
