"""Article 002's input pipeline and custom training loop: tideflow.v2 against TensorFlow 2 (eager), one
process, one thread, interleaved rounds; CPU time (process_time, every thread of the process: TensorFlow's
tf.data runs its own threads) and wall time per batch/step, medians, ratios (tideflow / TensorFlow).

    python bench/data.py                 # both workloads
    python bench/data.py -w input --rounds 5

Workloads
- input: one epoch of `from_tensor_slices((x, y)).map(pre).shuffle(10000).batch(64)` over 60,000 rows of
  64 features (uint8 pixels, like the digits data set scaled up; `pre` casts and divides by 255), every
  batch taken as tensors.
- loop: article 002's loop, Dense 128-64-10 on 64 inputs, batch 64, Adam, GradientTape, one
  tf.summary.scalar per step to a file writer, fed by the `input` pipeline. The model and optimizer come
  from `build_model(tf)`; the default is written with tf.Variable and matmul (no Keras) so the loop runs
  before tf.keras exists. Hook for Keras: `python bench/data.py --keras` builds
  `tf.keras.Sequential([Dense(128, relu), Dense(64, relu), Dense(10)])` and `tf.keras.optimizers.Adam`,
  or import this module and pass your own `build_model` to `loop_step(tf, build_model)`."""
import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from run import commit, machine  # noqa: E402

N, D, BATCH = 60000, 64, 64


def _data():
    rng = np.random.RandomState(0)
    return rng.randint(0, 256, (N, D)).astype(np.uint8), rng.randint(0, 10, N).astype(np.uint8)


def pipeline(tf, x, y):
    def pre(x, y):
        return tf.cast(x, tf.float32) / 255.0, tf.cast(y, tf.int32)
    return tf.data.Dataset.from_tensor_slices((x, y)).map(pre).shuffle(10000).batch(BATCH)


def raw_model(tf):
    """Dense 128-64-10 with tf.Variable and matmul; returns (model(x) -> logits, variables, optimizer)."""
    rng = np.random.RandomState(1)
    params = []
    for a, b in ((D, 128), (128, 64), (64, 10)):
        params += [tf.Variable((rng.randn(a, b) * np.sqrt(2.0 / a)).astype(np.float32)),
                   tf.Variable(np.zeros(b, np.float32))]

    def model(x):
        h = x
        for i in range(3):
            h = tf.matmul(h, params[2 * i]) + params[2 * i + 1]
            if i < 2:
                h = tf.nn.relu(h)
        return h
    return model, params, tf.compat.v1.train.AdamOptimizer(1e-3)


def keras_model(tf):
    layers = tf.keras.layers
    model = tf.keras.Sequential([layers.Dense(128, activation="relu"), layers.Dense(64, activation="relu"),
                                 layers.Dense(10)])
    model.build((None, D))
    return model, None, tf.keras.optimizers.Adam(1e-3)


def loop_step(tf, build_model, logdir):
    """Returns run(steps): `steps` training steps of article 002's loop (restarting the epoch as needed)."""
    x, y = _data()
    ds = pipeline(tf, x, y)
    model, params, opt = build_model(tf)
    writer = tf.summary.create_file_writer(logdir)
    state = {"it": iter(ds), "step": 0}

    def run(steps):
        with writer.as_default():
            for _ in range(steps):
                try:
                    xb, yb = next(state["it"])
                except StopIteration:
                    state["it"] = iter(ds)
                    xb, yb = next(state["it"])
                with tf.GradientTape() as tape:
                    logits = model(xb)
                    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yb, logits=logits))
                variables = params if params is not None else model.trainable_variables
                grads = tape.gradient(loss, variables)
                opt.apply_gradients(zip(grads, variables))
                tf.summary.scalar("loss", loss, step=state["step"])
                state["step"] += 1
    return run


def input_epoch(tf):
    x, y = _data()
    ds = pipeline(tf, x, y)

    def run():
        n = 0
        for xb, yb in ds:
            n += xb.shape[0]
        assert n == N
    return run


def _measure(fn, *args):
    c0, w0 = time.process_time(), time.perf_counter()
    fn(*args)
    return time.process_time() - c0, time.perf_counter() - w0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-w", nargs="*", default=["input", "loop"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--keras", action="store_true", help="the loop's model is tf.keras.Sequential")
    args = ap.parse_args()
    import tideflow.v2 as tdf
    tdf.config.threading.set_intra_op_parallelism_threads(1)
    fws = {"tideflow": tdf}
    try:
        import tensorflow as tf2
        tf2.config.threading.set_intra_op_parallelism_threads(1)
        tf2.config.threading.set_inter_op_parallelism_threads(1)
        fws["tensorflow"] = tf2
    except ImportError:
        pass
    build = keras_model if args.keras else raw_model
    print("commit %s; %s" % (commit(), machine()))
    for w in args.w:
        runs = {}
        for name, tf in fws.items():
            if w == "input":
                runs[name] = (input_epoch(tf), ())
            else:
                runs[name] = (loop_step(tf, build, tempfile.mkdtemp()), (args.steps,))
            runs[name][0](*((10,) if w == "loop" else ()))  # warm up (traces, first allocations)
        samples = {name: [] for name in fws}
        for _ in range(args.rounds):
            for name, (fn, a) in runs.items():
                samples[name].append(_measure(fn, *a))
        per = N // BATCH if w == "input" else args.steps
        res = {}
        for name in fws:
            cpu = statistics.median(s[0] for s in samples[name]) / per * 1e6
            wall = statistics.median(s[1] for s in samples[name]) / per * 1e6
            res[name] = (cpu, wall)
            print("%-6s %-10s cpu %9.1f us/%s   wall %9.1f us/%s" % (w, name, cpu, "batch" if w == "input" else
                                                                    "step", wall, "batch" if w == "input" else "step"))
        if "tensorflow" in res:
            print("%-6s ratio tideflow/tensorflow: cpu %.3f  wall %.3f" % (
                w, res["tideflow"][0] / res["tensorflow"][0], res["tideflow"][1] / res["tensorflow"][1]))


if __name__ == "__main__":
    main()
