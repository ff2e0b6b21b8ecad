"""tf.train.MonitoredSession / MonitoredTrainingSession and the standard SessionRunHooks: a training loop
stopped at a step, checkpoints saved and resumed, summaries in event files, tensor logging, the NaN check,
the order of hook calls (compared with TensorFlow), input running out, stop requests."""
import glob
import logging
import os

import numpy as np
import pytest

import tideflow as tf
from tensorboard.backend.event_processing import event_accumulator as ea


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield
    tf.summary.FileWriterCache.clear()


def _linear_model(lr=0.01):
    """y = 2x + 1 fitted by gradient descent; returns (loss, train_op, w, global_step)."""
    x = tf.constant(np.arange(8, dtype=np.float32).reshape(8, 1), name="x")
    y = 2.0 * x + 1.0
    w = tf.Variable(tf.zeros([1, 1]), name="w")
    b = tf.Variable(tf.zeros([1]), name="b")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y), name="mse")
    tf.summary.scalar("loss", loss)
    gs = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(lr).minimize(loss, global_step=gs)
    return loss, train, w, gs


def _train(sess, train):
    n = 0
    while not sess.should_stop():
        sess.run(train)
        n += 1
    return n


def _accumulator(logdir):
    acc = ea.EventAccumulator(logdir, size_guidance={k: 0 for k in ea.DEFAULT_SIZE_GUIDANCE})
    acc.Reload()
    return acc


# ---- training loop, checkpoints, resume ----

def test_stop_at_step_trains_and_lowers_the_loss():
    loss, train, _, gs = _linear_model()
    with tf.train.MonitoredTrainingSession(hooks=[tf.train.StopAtStepHook(num_steps=25)]) as sess:
        first = sess.run(loss)  # a run without the train op leaves the step at 0
        assert _train(sess, train) == 25
        assert sess.should_stop()
        with pytest.raises(RuntimeError, match="Run called even after should_stop requested"):
            sess.run(loss)
    assert first == pytest.approx(85.0)


def test_checkpoints_written_and_training_resumes_from_the_global_step(tmp_path):
    ckpt = str(tmp_path)
    loss, train, w, gs = _linear_model()
    final = tf.train.FinalOpsHook(w)
    with tf.train.MonitoredTrainingSession(checkpoint_dir=ckpt, save_checkpoint_steps=4, save_summaries_steps=None,
                                           log_step_count_steps=None,
                                           hooks=[tf.train.StopAtStepHook(last_step=10), final]) as sess:
        assert _train(sess, train) == 10
    w_at_10 = final.final_ops_values
    # Saved when the session was created (0), every 4 steps, and at the end (10).
    state = tf.train.get_checkpoint_state(ckpt)
    assert state.model_checkpoint_path == os.path.join(ckpt, "model.ckpt-10")
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == \
        ["model.ckpt-0", "model.ckpt-4", "model.ckpt-8", "model.ckpt-10"]
    assert os.path.isfile(os.path.join(ckpt, "model.ckpt-10.meta"))
    np.testing.assert_array_equal(tf.train.load_variable(ckpt, "w"), w_at_10)
    assert tf.train.load_variable(ckpt, "global_step") == 10

    # A new process (graph) continues from step 10 to 15 with the restored weights.
    tf.reset_default_graph()
    loss, train, w, gs = _linear_model()
    with tf.train.MonitoredTrainingSession(checkpoint_dir=ckpt, save_checkpoint_secs=None, save_summaries_steps=None,
                                           hooks=[tf.train.StopAtStepHook(last_step=15)]) as sess:
        assert sess.run(gs) == 10
        np.testing.assert_array_equal(sess.run(w), w_at_10)
        assert _train(sess, train) == 5
    # No saver hook this time (both checkpoint frequencies None): the newest checkpoint is still step 10.
    assert tf.train.latest_checkpoint(ckpt) == os.path.join(ckpt, "model.ckpt-10")


def test_resumed_run_matches_an_uninterrupted_one(tmp_path):
    _, train, w, _ = _linear_model()
    with tf.train.SingularMonitoredSession(hooks=[tf.train.StopAtStepHook(last_step=12)]) as sess:
        _train(sess, train)
        w_straight = sess.raw_session().run(w)

    for last_step in (5, 12):
        tf.reset_default_graph()
        _, train, w, _ = _linear_model()
        hooks = [tf.train.StopAtStepHook(last_step=last_step),
                 tf.train.CheckpointSaverHook(str(tmp_path), save_steps=100)]
        with tf.train.SingularMonitoredSession(hooks=hooks, checkpoint_dir=str(tmp_path)) as sess:
            _train(sess, train)
            w_resumed = sess.raw_session().run(w)
    np.testing.assert_allclose(w_resumed, w_straight, rtol=1e-6)


def test_checkpoint_saver_listener_calls_and_stop_request(tmp_path):
    calls = []

    class Listener(tf.train.CheckpointSaverListener):
        def begin(self):
            calls.append("begin")

        def before_save(self, session, step):
            calls.append(("before_save", int(step)))

        def after_save(self, session, step):
            calls.append(("after_save", int(step)))
            return step >= 3  # asks training to stop

        def end(self, session, step):
            calls.append(("end", int(step)))

    _, train, _, _ = _linear_model()
    hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=3, listeners=[Listener()])
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        assert _train(sess, train) == 3
    assert calls == ["begin", ("before_save", 0), ("after_save", 0), ("before_save", 3), ("after_save", 3),
                     ("end", 3)]


def test_checkpoint_saver_hook_needs_a_saver_source(tmp_path):
    _linear_model()
    with pytest.raises(ValueError, match="both saver and scaffold"):
        tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1, saver=tf.train.Saver(), scaffold=tf.train.Scaffold())
    with pytest.raises(ValueError, match="every_secs or every_steps"):
        tf.train.CheckpointSaverHook(str(tmp_path))


# ---- summaries ----

def test_summaries_and_steps_per_second_in_event_files(tmp_path):
    logdir = str(tmp_path)
    loss, train, _, _ = _linear_model()
    with tf.train.MonitoredTrainingSession(checkpoint_dir=logdir, save_summaries_steps=3, log_step_count_steps=2,
                                           hooks=[tf.train.StopAtStepHook(last_step=10)]) as sess:
        _train(sess, train)
    acc = _accumulator(logdir)
    tags = acc.Tags()["scalars"]
    assert "loss" in tags and "global_step/sec" in tags
    # The steps TensorFlow writes them at: the first summary at step 1 (after the first run's increment),
    # then every 3 steps; the step counter starts timing at step 1 and reports every 2 steps.
    assert [e.step for e in acc.Scalars("loss")] == [1, 4, 7, 10]
    assert [e.step for e in acc.Scalars("global_step/sec")] == [3, 5, 7, 9]
    assert all(e.value > 0 for e in acc.Scalars("global_step/sec"))
    losses = [e.value for e in acc.Scalars("loss")]
    assert losses == sorted(losses, reverse=True)
    assert len(glob.glob(os.path.join(logdir, "events.out.tfevents.*"))) == 1


def test_summary_saver_hook_with_explicit_op_and_writer(tmp_path):
    loss, train, _, _ = _linear_model()
    op = tf.summary.scalar("explicit", loss * 2.0)
    writer = tf.summary.FileWriter(str(tmp_path))
    hooks = [tf.train.SummarySaverHook(save_steps=2, summary_writer=writer, summary_op=op),
             tf.train.StopAtStepHook(last_step=5)]
    with tf.train.MonitoredSession(hooks=hooks) as sess:
        _train(sess, train)
    writer.close()
    acc = _accumulator(str(tmp_path))
    assert acc.Tags()["scalars"] == ["explicit"]
    assert [e.step for e in acc.Scalars("explicit")] == [1, 3, 5]
    with pytest.raises(ValueError, match="Exactly one of scaffold or summary_op"):
        tf.train.SummarySaverHook(save_steps=1)


# ---- logging, NaN ----

def test_logging_tensor_hook_every_n_iter_and_at_end(caplog):
    loss, train, _, gs = _linear_model()
    caplog.set_level(logging.INFO, logger="tideflow")
    hooks = [tf.train.LoggingTensorHook({"step": gs, "loss": "mse"}, every_n_iter=2, at_end=True),
             tf.train.StopAtStepHook(last_step=5)]
    with tf.train.MonitoredSession(hooks=hooks) as sess:
        _train(sess, train)
    lines = [r.getMessage() for r in caplog.records if r.name == "tideflow" and "loss = " in r.getMessage()]
    assert len(lines) == 4  # iterations 0, 2, 4, then at end
    assert lines[0].startswith("loss = 85.0, step = ")  # sorted tags; nothing elapsed before the first
    assert all(" sec)" in line for line in lines[1:])
    assert lines[-1].split(", ")[1].startswith("step = 5")


def test_logging_tensor_hook_formatter_and_argument_checks(caplog):
    loss, train, _, _ = _linear_model()
    caplog.set_level(logging.INFO, logger="tideflow")
    hooks = [tf.train.LoggingTensorHook([loss], every_n_iter=1, formatter=lambda v: "LOSS %.1f" % v[loss]),
             tf.train.StopAtStepHook(last_step=1)]
    with tf.train.MonitoredSession(hooks=hooks) as sess:
        _train(sess, train)
    assert "LOSS 85.0" in [r.getMessage() for r in caplog.records]
    with pytest.raises(ValueError, match="exactly one of every_n_iter and every_n_secs"):
        tf.train.LoggingTensorHook([loss])
    with pytest.raises(ValueError, match="invalid every_n_iter=0"):
        tf.train.LoggingTensorHook([loss], every_n_iter=0)


def test_nan_tensor_hook_raises_or_stops(caplog):
    x = tf.placeholder(tf.float32, [], name="x")
    gs = tf.train.get_or_create_global_step()
    inc = tf.assign_add(gs, 1)
    loss = tf.identity(x, name="loss")
    with pytest.raises(tf.train.NanLossDuringTrainingError, match="NaN loss during training"):
        with tf.train.MonitoredSession(hooks=[tf.train.NanTensorHook(loss)]) as sess:
            sess.run(inc, {x: 1.0})
            sess.run(inc, {x: np.nan})
    assert issubclass(tf.train.NanLossDuringTrainingError, RuntimeError)

    caplog.set_level(logging.WARNING, logger="tideflow")
    with tf.train.MonitoredSession(hooks=[tf.train.NanTensorHook(loss, fail_on_nan_loss=False)]) as sess:
        sess.run(inc, {x: 1.0})
        assert not sess.should_stop()
        sess.run(inc, {x: np.nan})
        assert sess.should_stop()
    assert "Model diverged with loss = NaN." in [r.getMessage() for r in caplog.records]


# ---- hook protocol ----

class _Recorder(tf.train.SessionRunHook):
    def __init__(self, log, name="h"):
        self.log, self.name = log, name

    def begin(self):
        self.log.append((self.name, "begin"))

    def after_create_session(self, session, coord):
        self.log.append((self.name, "after_create_session"))

    def before_run(self, run_context):
        self.log.append((self.name, "before_run"))
        return tf.train.SessionRunArgs(self.fetch) if hasattr(self, "fetch") else None

    def after_run(self, run_context, run_values):
        self.log.append((self.name, "after_run", run_values.results))

    def end(self, session):
        self.log.append((self.name, "end"))


def _hook_protocol_log(tfm):
    """Hook calls for two runs, with the graph built in framework `tfm` (tideflow or TensorFlow)."""
    log = []
    x = tfm.placeholder(tfm.float32, [], name="x")
    y = tfm.multiply(x, 3.0, name="y")
    a, b = _Recorder(log, "a"), _Recorder(log, "b")
    b.fetch = {"y": y}
    with tfm.train.MonitoredSession(hooks=[a, b]) as sess:
        log.append(("caller", float(sess.run(y, {x: 1.0}))))
        log.append(("caller", float(sess.run(y, {x: 2.0}))))
    return [tuple({k: float(v) for k, v in e.items()} if isinstance(e, dict) else e for e in entry)
            for entry in log]


def test_hook_call_order():
    log = _hook_protocol_log(tf)
    assert log == [("a", "begin"), ("b", "begin"), ("a", "after_create_session"), ("b", "after_create_session"),
                   ("a", "before_run"), ("b", "before_run"), ("a", "after_run", None), ("b", "after_run", {"y": 3.0}),
                   ("caller", 3.0),
                   ("a", "before_run"), ("b", "before_run"), ("a", "after_run", None), ("b", "after_run", {"y": 6.0}),
                   ("caller", 6.0), ("a", "end"), ("b", "end")]


def test_hook_call_order_matches_tensorflow():
    tf_ref = pytest.importorskip("tensorflow")
    tf1 = tf_ref.compat.v1
    tf1.disable_eager_execution()
    with tf1.Graph().as_default():
        expected = _hook_protocol_log(tf1)
    assert _hook_protocol_log(tf) == expected


def test_run_context_and_feeds_from_hooks():
    x = tf.placeholder(tf.float32, [], name="x")
    z = tf.placeholder(tf.float32, [], name="z")
    y = x + z
    seen = []

    class Hook(tf.train.SessionRunHook):
        def before_run(self, run_context):
            seen.append((run_context.original_args.fetches, dict(run_context.original_args.feed_dict),
                         isinstance(run_context.session, tf.Session)))
            return tf.train.SessionRunArgs(None, feed_dict={z: 10.0})

    with tf.train.MonitoredSession(hooks=[Hook(), tf.train.FeedFnHook(lambda: {})]) as sess:
        assert sess.run(y, {x: 1.0}) == 11.0
        with pytest.raises(RuntimeError, match="Same tensor is fed by a SessionRunHook and user"):
            sess.run(y, {x: 1.0, z: 2.0})
    assert seen[0] == (y, {x: 1.0}, True)


def test_request_stop_from_a_hook_and_from_step_fn():
    gs = tf.train.get_or_create_global_step()
    inc = tf.assign_add(gs, 1)

    class StopAfterTwo(tf.train.SessionRunHook):
        def after_run(self, run_context, run_values):
            if run_values.results >= 2:
                run_context.request_stop()
                assert run_context.stop_requested

        def before_run(self, run_context):
            return tf.train.SessionRunArgs(inc)

    with tf.train.MonitoredSession(hooks=[StopAfterTwo()]) as sess:
        n = 0
        while not sess.should_stop():
            sess.run(gs)
            n += 1
    assert n == 2

    def step_fn(step_context):
        if step_context.session.run(gs) >= 3:
            step_context.request_stop()
        return step_context.run_with_hooks(inc)

    with tf.train.MonitoredSession() as sess:
        results = []
        while not sess.should_stop():
            results.append(int(sess.run_step_fn(step_fn)))
    assert results == [1, 2, 3]
    with pytest.raises(ValueError, match="step_context"):
        with tf.train.MonitoredSession() as sess:
            sess.run_step_fn(lambda ctx: None)


def test_out_of_range_error_ends_the_loop_and_runs_end_hooks():
    gs = tf.train.get_or_create_global_step()
    x = tf.placeholder(tf.float32, [], name="x")
    train = tf.group(tf.assign_add(gs, 1), tf.identity(x))
    batches = iter([1.0, 2.0, 3.0])

    def next_batch():
        try:
            return {x: next(batches)}
        except StopIteration:
            raise tf.errors.OutOfRangeError(None, None, "End of sequence") from None

    final = tf.train.FinalOpsHook(gs)
    with tf.train.MonitoredSession(hooks=[tf.train.FeedFnHook(next_batch), final]) as sess:
        n = 0
        while not sess.should_stop():
            sess.run(train)
            n += 1
    assert n == 3 and final.final_ops_values == 3

    # Any other error propagates and skips end().
    final = tf.train.FinalOpsHook(gs)
    with pytest.raises(ValueError, match="boom"):
        with tf.train.MonitoredSession(hooks=[final]):
            raise ValueError("boom")
    assert final.final_ops_values is None


# ---- scaffold, graph, errors ----

def test_scaffold_defaults_finalize_and_unfinalize_the_graph():
    _, train, w, _ = _linear_model()
    graph = tf.get_default_graph()
    scaffold = tf.train.Scaffold()
    with tf.train.MonitoredSession(session_creator=tf.train.ChiefSessionCreator(scaffold=scaffold)) as sess:
        assert graph.finalized
        with pytest.raises(RuntimeError, match="finalized"):
            tf.constant(1.0)
        assert scaffold.init_op.type == "NoOp" and scaffold.summary_op is not None
        assert isinstance(scaffold.saver, tf.train.Saver)
        assert list(sess.run(scaffold.ready_op)) == []
        assert sess.graph is graph
    assert not graph.finalized
    assert tf.get_collection(tf.GraphKeys.SAVERS) == [scaffold.saver]
    assert tf.get_collection(tf.GraphKeys.INIT_OP) == [scaffold.init_op]


def test_scaffold_init_fn_and_feed_dict():
    v = tf.Variable(tf.zeros([2]), name="v")
    init_value = tf.placeholder(tf.float32, [2])
    init_op = tf.assign(v, init_value)
    calls = []
    scaffold = tf.train.Scaffold(init_op=init_op, init_feed_dict={init_value: [1.0, 2.0]},
                                 init_fn=lambda sc, sess: calls.append(sc))
    with tf.train.SingularMonitoredSession(scaffold=scaffold) as sess:
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
    assert calls == [scaffold]


def test_model_not_ready_is_reported():
    tf.Variable(1.0, name="never_initialized")
    scaffold = tf.train.Scaffold(init_op=tf.no_op())
    with pytest.raises(RuntimeError, match="Init operations did not make model ready.*never_initialized"):
        tf.train.MonitoredSession(session_creator=tf.train.ChiefSessionCreator(scaffold=scaffold))
    assert not tf.get_default_graph().finalized


def test_hooks_need_a_global_step():
    tf.Variable(1.0, name="v")
    for hook in (tf.train.StopAtStepHook(num_steps=1), tf.train.StepCounterHook(),
                 tf.train.SummarySaverHook(save_steps=1, summary_op=tf.constant("")),
                 tf.train.CheckpointSaverHook("/nonexistent-unused", save_steps=1)):
        with pytest.raises(RuntimeError, match="Global step should be created to use"):
            hook.begin()
    with pytest.raises(ValueError, match="One of num_steps or last_step"):
        tf.train.StopAtStepHook()
    with pytest.raises(ValueError, match="Only one of num_steps or last_step"):
        tf.train.StopAtStepHook(1, 2)


def test_second_or_step_timer():
    timer = tf.train.SecondOrStepTimer(every_steps=3)
    assert timer.should_trigger_for_step(0)
    assert timer.update_last_triggered_step(0) == (None, None)
    assert not timer.should_trigger_for_step(0)
    assert not timer.should_trigger_for_step(2)
    assert timer.should_trigger_for_step(3)
    secs, steps = timer.update_last_triggered_step(4)
    assert steps == 4 and secs >= 0 and timer.last_triggered_step() == 4
    timer = tf.train.SecondOrStepTimer(every_secs=0.0)
    timer.update_last_triggered_step(1)
    assert timer.should_trigger_for_step(2) and not timer.should_trigger_for_step(1)
    with pytest.raises(ValueError):
        tf.train.SecondOrStepTimer(every_secs=1, every_steps=1)


def test_monitored_training_session_defaults_and_close():
    _, train, _, _ = _linear_model()
    sess = tf.train.MonitoredTrainingSession()
    assert sess.run(train) is None
    sess.close()
    with pytest.raises(RuntimeError, match="already closed"):
        sess.close()
    assert sess.should_stop()
    with pytest.raises(ValueError, match="is_chief"):
        tf.train.MonitoredTrainingSession(is_chief=False)
