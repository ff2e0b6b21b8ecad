"""tf.examples: the tutorial helpers TF 1.x programs import (tensorflow.examples.tutorials.mnist)."""
