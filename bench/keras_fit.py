"""tf.keras model.fit: tideflow (`import tideflow.v2`) against TensorFlow 2's Keras (tf.keras, Keras 3) and,
when installed, tf_keras (Keras 2), same program text, one process, one thread, interleaved rounds; CPU time
(time.process_time) per epoch and wall time, medians, ratios tideflow / peer (< 1: tideflow is faster).

Workload (issue 13): Dense 128-64-10 (relu) on 64 inputs, Adam, sparse categorical crossentropy from logits,
metrics=['accuracy'], batch 64, one epoch over 60,000 random examples, verbose=0.

    python bench/keras_fit.py --rounds 5   (not keras.py: the name would shadow the keras package)"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from run import commit, machine  # noqa: E402

N, D, BATCH = 60000, 64, 64


def _data():
    rng = np.random.RandomState(0)
    return rng.rand(N, D).astype(np.float32), rng.randint(0, 10, N).astype(np.int64)


def make_model(keras):
    model = keras.Sequential([keras.layers.Dense(128, activation="relu", input_shape=(D,)),
                              keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def epoch_timer(keras):
    x, y = _data()
    model = make_model(keras)
    model.fit(x[:BATCH * 20], y[:BATCH * 20], batch_size=BATCH, epochs=1, verbose=0)  # trace / warm up

    def run():
        c0, w0 = time.process_time(), time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        return time.process_time() - c0, time.perf_counter() - w0
    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only-tideflow", action="store_true")
    args = ap.parse_args()
    import tideflow.v2 as tdf
    from tideflow.eager import context
    context.set_intra_op_parallelism_threads(1)
    runners = {"tideflow": epoch_timer(tdf.keras)}
    if not args.only_tideflow:
        try:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            import tensorflow as tf2
            tf2.config.threading.set_intra_op_parallelism_threads(1)
            tf2.config.threading.set_inter_op_parallelism_threads(1)
            runners["tf.keras (Keras 3)"] = epoch_timer(tf2.keras)
            try:
                import tf_keras
                runners["tf_keras (Keras 2)"] = epoch_timer(tf_keras)
            except ImportError:
                pass
        except ImportError:
            pass
    samples = {k: [] for k in runners}
    for _ in range(args.rounds):
        for k, fn in runners.items():
            samples[k].append(fn())
    print("machine: %s\ncommit: %s\none thread; medians of %d interleaved rounds; one epoch = %d steps of batch %d\n"
          % (machine(), commit(), args.rounds, N // BATCH + (N % BATCH > 0), BATCH))
    print("| framework | CPU s/epoch | wall s/epoch | tideflow / it (CPU) | tideflow / it (wall) |")
    print("|---|---|---|---|---|")
    med = {k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v)) for k, v in samples.items()}
    for k, (c, w) in med.items():
        print("| %s | %.3f | %.3f | %.3f | %.3f |" % (k, c, w, med["tideflow"][0] / c, med["tideflow"][1] / w))


if __name__ == "__main__":
    main()
