"""Op-table rows of the debugging ops that pass a value through (cpp/ops/debug.cc,
python/tideflow/ops/debug_ops.py): the forward value is the input, the gradient the incoming gradient."""
from .common import OpRow

ROWS = [
    OpRow("check_numerics", lambda tf, x: tf.check_numerics(x, "row"), lambda x: x, [((3, 4),), ((),), ((0, 2),)]),
    OpRow("verify_tensor_all_finite", lambda tf, x: tf.verify_tensor_all_finite(x * x, "row"), lambda x: x * x,
          [((2, 3),)]),
    OpRow("Print", lambda tf, x, y: tf.Print(x, [y], message="", first_n=0), lambda x, y: x,
          [((2, 3), (3,))], grad_inputs=[0]),
    OpRow("Print[data grad is None]", lambda tf, x, y: tf.Print(x, [y], first_n=0) * 2.0 + y,
          lambda x, y: x * 2 + y, [((2, 3), (3,))]),
]
