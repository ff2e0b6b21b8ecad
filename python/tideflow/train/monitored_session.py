"""tf.train.MonitoredSession and friends (TF1's monitored_session.py): a Session that initializes or
restores the model, runs hooks around every run and closes cleanly.

The layers are TF's: MonitoredSession -> _RecoverableSession (recreates the session after a preemption
error) -> _CoordinatedSession (the stop flag shared with hooks) -> _HookedSession (merges the hooks'
fetches and feeds into the caller's run) -> tf.Session. Sessions are in-process, so there is no chief to
wait for: MonitoredTrainingSession(is_chief=False) is refused."""
import inspect
import logging
import threading

from .. import summary as _summary
from ..framework import errors
from ..framework import ops as _ops
from ..framework import session as _session
from ..ops import state_ops as _state_ops
from . import basic_session_run_hooks as _hooks
from . import checkpoint_management as _cm
from . import coordinator as _coordinator
from . import queue_runner_impl as _queue_runner
from . import saver as _saver_mod

__all__ = ["Scaffold", "SessionCreator", "ChiefSessionCreator", "MonitoredSession", "SingularMonitoredSession",
           "MonitoredTrainingSession"]

_log = logging.getLogger("tideflow")

_SUMMARY_OP_KEY = "summary_op"  # TF's GraphKeys.SUMMARY_OP
_READY_FOR_LOCAL_INIT_OP_KEY = "ready_for_local_init_op"
_PREEMPTION_ERRORS = (errors.AbortedError, errors.UnavailableError)


class _UseDefault:
    def __repr__(self):
        return "USE_DEFAULT"


USE_DEFAULT = _UseDefault()


def _finalize(graph):
    # Only the Python-side flag: every op built from Python goes through Graph.create_op, which checks it, and
    # unlike the C++ flag it can be lifted again when the session closes, as TF un-finalizes a graph that was
    # not finalized before the MonitoredSession.
    graph._finalized = True


class Scaffold:
    """The ops a training session needs; those not given come from their graph collections or TF's
    defaults (finalize() builds them, then finalizes the graph):
    init_op: group(global_variables_initializer()); ready_op: report_uninitialized_variables();
    ready_for_local_init_op: the same over global variables; local_init_op: group(local_variables_initializer());
    summary_op: tf.summary.merge_all(); saver: the single Saver of the SAVERS collection or a new Saver.
    init_fn(scaffold, session) runs after init_op when the model is not restored from a checkpoint."""

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
                 ready_for_local_init_op=None, local_init_op=None, summary_op=None, saver=None,
                 copy_from_scaffold=None, local_init_feed_dict=None):
        if copy_from_scaffold is not None:
            if not isinstance(copy_from_scaffold, Scaffold):
                raise TypeError("copy_from_scaffold is not a Scaffold instance.")

            def coalesce(a, b):
                return a if a is not None else b
            init_op = coalesce(init_op, copy_from_scaffold.init_op)
            init_feed_dict = coalesce(init_feed_dict, copy_from_scaffold.init_feed_dict)
            init_fn = coalesce(init_fn, copy_from_scaffold._user_init_fn)
            ready_op = coalesce(ready_op, copy_from_scaffold.ready_op)
            ready_for_local_init_op = coalesce(ready_for_local_init_op, copy_from_scaffold.ready_for_local_init_op)
            local_init_op = coalesce(local_init_op, copy_from_scaffold.local_init_op)
            local_init_feed_dict = coalesce(local_init_feed_dict, copy_from_scaffold.local_init_feed_dict)
            summary_op = coalesce(summary_op, copy_from_scaffold.summary_op)
            saver = coalesce(saver, copy_from_scaffold.saver)
        self._user_init_fn = init_fn
        self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._init_op = init_op
        self._init_feed_dict = init_feed_dict
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._local_init_op = local_init_op
        self._local_init_feed_dict = local_init_feed_dict
        self._summary_op = summary_op
        self._saver = saver

    def finalize(self):
        """Creates the missing ops and finalizes the default graph."""
        if self._init_op is None:
            self._init_op = Scaffold.get_or_default(
                "init_op", _ops.GraphKeys.INIT_OP,
                lambda: _state_ops.group(_state_ops.global_variables_initializer(),
                                         _ops.get_collection("saved_model_initializers")))
        if self._ready_op is None:
            self._ready_op = Scaffold.get_or_default("ready_op", _ops.GraphKeys.READY_OP,
                                                     _state_ops.report_uninitialized_variables)
        if self._ready_for_local_init_op is None:
            self._ready_for_local_init_op = Scaffold.get_or_default(
                "ready_for_local_init_op", _READY_FOR_LOCAL_INIT_OP_KEY,
                lambda: _state_ops.report_uninitialized_variables(_state_ops.global_variables()))
        if self._local_init_op is None:
            self._local_init_op = Scaffold.get_or_default("local_init_op", _ops.GraphKeys.LOCAL_INIT_OP,
                                                          Scaffold.default_local_init_op)
        if self._summary_op is None:
            self._summary_op = Scaffold.get_or_default("summary_op", _SUMMARY_OP_KEY, _summary.merge_all)
        if self._saver is None:
            self._saver = _get_saver_or_default()
        self._saver.build()
        _finalize(_ops.get_default_graph())
        _log.info("Graph was finalized.")
        return self

    init_fn = property(lambda self: self._init_fn)
    init_op = property(lambda self: self._init_op)
    ready_op = property(lambda self: self._ready_op)
    ready_for_local_init_op = property(lambda self: self._ready_for_local_init_op)
    local_init_op = property(lambda self: self._local_init_op)
    local_init_feed_dict = property(lambda self: self._local_init_feed_dict)
    summary_op = property(lambda self: self._summary_op)
    saver = property(lambda self: self._saver)
    init_feed_dict = property(lambda self: self._init_feed_dict)

    @staticmethod
    def get_or_default(arg_name, collection_key, default_constructor):
        """The single op of `collection_key`, else a new default one (added to the collection)."""
        elements = _ops.get_collection(collection_key)
        if elements:
            if len(elements) > 1:
                raise RuntimeError('More than one item in the collection "%s". Please indicate which one to use '
                                   "by passing it to the tf.Scaffold constructor as:  tf.Scaffold(%s=item to use)"
                                   % (collection_key, arg_name))
            return elements[0]
        op = default_constructor()
        if op is not None:
            _ops.add_to_collection(collection_key, op)
        return op

    @staticmethod
    def default_local_init_op():
        return _state_ops.group(_state_ops.local_variables_initializer())


def _get_saver_or_default():
    savers = _ops.get_collection(_ops.GraphKeys.SAVERS)
    if savers:
        if len(savers) > 1:
            raise RuntimeError("More than one item in collection %s. Please indicate which one to use by passing "
                               "it to the constructor." % _ops.GraphKeys.SAVERS)
        return savers[0]
    saver = _saver_mod.Saver(sharded=True, allow_empty=True)
    if saver is not None:
        _ops.add_to_collection(_ops.GraphKeys.SAVERS, saver)
    return saver


# ---------------------------------------------------------------------------------------------------
# Session creation (TF's SessionManager.prepare_session)


def _ready(op, sess, msg):
    """(True, None) when `op` reports no uninitialized variable, else (False, a message naming them)."""
    if op is None:
        return True, None
    try:
        value = sess.run(op)
    except errors.FailedPreconditionError as e:
        if "uninitialized" not in str(e):
            raise
        _log.warning("%s : error while running %s: %s", msg, getattr(op, "name", op), e)
        return False, str(e)
    if value is None or getattr(value, "size", 1) == 0:
        return True, None
    names = ", ".join(v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in value.ravel())
    return False, "Variables not initialized: " + names


class SessionCreator:
    """Creates the tf.Session a MonitoredSession wraps."""

    def create_session(self):
        raise NotImplementedError("create_session is not implemented for {}.".format(self))


class ChiefSessionCreator(SessionCreator):
    """Finalizes the scaffold, then restores the model from `checkpoint_filename_with_path` or the latest
    checkpoint of `checkpoint_dir` if there is one, else runs init_op and init_fn; then local_init_op, and
    checks ready_op."""

    def __init__(self, scaffold=None, master="", config=None, checkpoint_dir=None,
                 checkpoint_filename_with_path=None):
        if checkpoint_dir and checkpoint_filename_with_path:
            raise ValueError("Can not provide both checkpoint_dir and checkpoint_filename_with_path.")
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_filename_with_path = checkpoint_filename_with_path
        self._scaffold = scaffold or Scaffold()
        self._master = master
        self._config = config

    def _restore(self, sess, saver):
        if saver is None:
            return False
        if self._checkpoint_filename_with_path:
            saver.restore(sess, self._checkpoint_filename_with_path)
            return True
        if not self._checkpoint_dir:
            return False
        state = _cm.get_checkpoint_state(self._checkpoint_dir)
        if not state or not state.model_checkpoint_path:
            _log.info("Could not find checkpoint in %s; initializing the model.", self._checkpoint_dir)
            return False
        _log.info("Restoring parameters from %s", state.model_checkpoint_path)
        saver.restore(sess, state.model_checkpoint_path)
        saver.recover_last_checkpoints(state.all_model_checkpoint_paths)
        return True

    def create_session(self):
        sc = self._scaffold.finalize()
        sess = _session.Session(self._master, graph=_ops.get_default_graph(), config=self._config)
        try:
            restored = self._restore(sess, sc.saver)
            if not restored:
                if sc.init_op is None and not sc.init_fn and sc.local_init_op is None:
                    raise RuntimeError("Model is not initialized and no init_op or init_fn or local_init_op "
                                       "was given")
                if sc.init_op is not None:
                    sess.run(sc.init_op, feed_dict=sc.init_feed_dict)
                if sc.init_fn:
                    sc.init_fn(sess)
            if sc.local_init_op is not None:
                ok, msg = _ready(sc.ready_for_local_init_op, sess, "Model not ready for local init")
                if not ok:
                    raise RuntimeError("Init operations did not make model ready for local_init.  Init op: %s, "
                                       "init fn: %s, error: %s" % (_name(sc.init_op), sc.init_fn, msg))
                sess.run(sc.local_init_op, feed_dict=sc.local_init_feed_dict)
            ok, msg = _ready(sc.ready_op, sess, "Model not ready")
            if not ok:
                raise RuntimeError("Init operations did not make model ready.  Init op: %s, init fn: %s, "
                                   "local_init_op: %s, error: %s"
                                   % (_name(sc.init_op), sc.init_fn, _name(sc.local_init_op), msg))
        except BaseException:
            sess.close()
            raise
        return sess


def _name(op):
    return getattr(op, "name", op)


# ---------------------------------------------------------------------------------------------------
# The session layers


class _Coordinator:
    """The stop flag shared by a MonitoredSession and its hooks (tf.train.Coordinator without threads)."""

    def __init__(self):
        self._stop = threading.Event()
        self._exc_info = None
        self._lock = threading.Lock()

    def request_stop(self, ex=None):
        with self._lock:
            if ex is not None and self._exc_info is None:
                self._exc_info = (type(ex), ex, ex.__traceback__) if isinstance(ex, BaseException) else ex
            self._stop.set()

    def should_stop(self):
        return self._stop.is_set()

    def clear_stop(self):
        with self._lock:
            self._stop.clear()
            self._exc_info = None

    def wait_for_stop(self, timeout=None):
        return self._stop.wait(timeout)

    def raise_requested_exception(self):
        with self._lock:
            if self._exc_info:
                raise self._exc_info[1]

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False):
        self.raise_requested_exception()


class _WrappedSession:
    def __init__(self, sess):
        self._sess = sess
        self._wrapped_is_stoppable = isinstance(sess, _WrappedSession)

    @property
    def graph(self):
        return self._sess.graph

    @property
    def sess_str(self):
        return self._sess.sess_str

    def should_stop(self):
        if self._check_stop():
            return True
        if self._sess:
            return self._wrapped_is_stoppable and self._sess.should_stop()
        return True

    def _check_stop(self):
        return False

    def close(self):
        if self._sess:
            try:
                self._sess.close()
            except _PREEMPTION_ERRORS as e:
                _log.error("An error occurred when attempting to close the session: %s", e)
            finally:
                self._sess = None

    def run(self, *args, **kwargs):
        return self._sess.run(*args, **kwargs)

    def run_step_fn(self, step_fn, raw_session, run_with_hooks):
        return step_fn(_MonitoredSession.StepContext(raw_session, run_with_hooks or self.run))


class _RecoverableSession(_WrappedSession):
    """Recreates the session (restoring the latest checkpoint) after an AbortedError or UnavailableError."""

    def __init__(self, sess_creator):
        self._sess_creator = sess_creator
        _WrappedSession.__init__(self, self._create_session())

    def _create_session(self):
        while True:
            try:
                return self._sess_creator.create_session()
            except _PREEMPTION_ERRORS as e:
                _log.info("An error was raised while a session was being created; a new session will be created. "
                          "Error: %s", e)

    def _check_stop(self):
        try:
            if self._sess:
                return self._sess._check_stop()
            return True
        except _PREEMPTION_ERRORS as e:
            _log.info("An error was raised while considering whether the session is complete; the session will "
                      "be recreated. Error: %s", e)
            self.close()
            self._sess = self._create_session()
            return False
        except Exception:  # noqa: BLE001 -- TF: any other error means the session is done
            return True

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        while True:
            try:
                if not self._sess:
                    self._sess = self._create_session()
                return self._sess.run(fetches, feed_dict=feed_dict, options=options, run_metadata=run_metadata)
            except _PREEMPTION_ERRORS as e:
                _log.info("An error was raised; the session will be recreated. Error: %s", e)
                self.close()
                self._sess = None

    def run_step_fn(self, step_fn, raw_session, run_with_hooks):
        while True:
            try:
                if not self._sess:
                    self._sess = self._create_session()
                return self._sess.run_step_fn(step_fn, raw_session, self._sess.run)
            except _PREEMPTION_ERRORS as e:
                _log.info("An error was raised; the session will be recreated. Error: %s", e)
                self.close()
                self._sess = None


class _CoordinatedSession(_WrappedSession):
    def __init__(self, sess, coord, stop_grace_period_secs=120):
        _WrappedSession.__init__(self, sess)
        self._coord = coord
        self._stop_grace_period_secs = stop_grace_period_secs

    def _check_stop(self):
        self._coord.raise_requested_exception()
        return self._coord.should_stop()

    def close(self):
        self._coord.request_stop()
        try:
            self._coord.join(stop_grace_period_secs=self._stop_grace_period_secs, ignore_live_threads=True)
        finally:
            try:
                _WrappedSession.close(self)
            except Exception:  # noqa: BLE001 -- TF ignores errors while closing
                pass

    def run(self, *args, **kwargs):
        try:
            return self._sess.run(*args, **kwargs)
        except _PREEMPTION_ERRORS:
            raise
        except Exception as original_exception:
            # An exception a thread handed to the coordinator explains the failure better than the run's own.
            try:
                self._coord.raise_requested_exception()
            except _PREEMPTION_ERRORS:
                raise
            except Exception:  # noqa: BLE001
                raise original_exception from None
            raise


class _HookedSession(_WrappedSession):
    """Runs the caller's fetches together with every hook's SessionRunArgs in one session run."""

    def __init__(self, sess, hooks):
        _WrappedSession.__init__(self, sess)
        self._hooks = hooks
        self._should_stop = False

    def _check_stop(self):
        return self._should_stop

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        if self.should_stop():
            raise RuntimeError("Run called even after should_stop requested.")
        actual_fetches = {"caller": fetches}
        run_context = _hooks.SessionRunContext(original_args=_hooks.SessionRunArgs(fetches, feed_dict),
                                               session=self._sess)
        options = options or _session.RunOptions()
        feed_dict = self._call_hook_before_run(run_context, actual_fetches, feed_dict, options)
        run_metadata = run_metadata or _session.RunMetadata()
        outputs = _WrappedSession.run(self, fetches=actual_fetches, feed_dict=feed_dict, options=options,
                                      run_metadata=run_metadata)
        for hook in self._hooks:
            hook.after_run(run_context, _hooks.SessionRunValues(results=outputs.get(hook), options=options,
                                                                run_metadata=run_metadata))
        self._should_stop = self._should_stop or run_context.stop_requested
        return outputs["caller"]

    def _call_hook_before_run(self, run_context, fetch_dict, user_feed_dict, options):
        hook_feeds = {}
        for hook in self._hooks:
            request = hook.before_run(run_context)
            if request is not None:
                if request.fetches is not None:
                    fetch_dict[hook] = request.fetches
                if request.feed_dict:
                    _raise_if_feeds_intersect(hook_feeds, request.feed_dict, "Same tensor is fed by two hooks.")
                    hook_feeds.update(request.feed_dict)
                if request.options:
                    options.trace_level = max(getattr(options, "trace_level", 0),
                                              getattr(request.options, "trace_level", 0))
        if not hook_feeds:
            return user_feed_dict
        if not user_feed_dict:
            return hook_feeds
        _raise_if_feeds_intersect(user_feed_dict, hook_feeds, "Same tensor is fed by a SessionRunHook and user.")
        hook_feeds.update(user_feed_dict)
        return hook_feeds


def _raise_if_feeds_intersect(feeds1, feeds2, message):
    intersection = set(feeds1.keys()) & set(feeds2.keys())
    if intersection:
        raise RuntimeError(message + " Conflict(s): " + str(list(intersection)))


# ---------------------------------------------------------------------------------------------------
# MonitoredSession


class _MonitoredSession:
    def __init__(self, session_creator, hooks, should_recover, stop_grace_period_secs=120):
        self._graph_was_finalized = _ops.get_default_graph().finalized
        self._hooks = list(hooks or [])
        self._step_fn_stopped = False
        for h in self._hooks:
            h.begin()
        self._coordinated_creator = self._CoordinatedSessionCreator(
            session_creator=session_creator or ChiefSessionCreator(), hooks=self._hooks,
            stop_grace_period_secs=stop_grace_period_secs)
        try:
            if should_recover:
                self._sess = _RecoverableSession(self._coordinated_creator)
            else:
                self._sess = self._coordinated_creator.create_session()
        except BaseException:
            self._unfinalize()
            raise

    @property
    def graph(self):
        if self._tf_sess() is None:
            return None
        return self._tf_sess().graph

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs `fetches` with the hooks' fetches and feeds merged in (TF's Session.run arguments)."""
        return self._sess.run(fetches, feed_dict=feed_dict, options=options, run_metadata=run_metadata)

    def run_step_fn(self, step_fn):
        """Calls step_fn(step_context): step_context.session is the raw session, run_with_hooks runs with
        hooks, request_stop() raises StopIteration and makes should_stop() True."""
        args = tuple(inspect.getfullargspec(step_fn).args)
        if args not in (("step_context",), ("self", "step_context")):
            raise ValueError("`step_fn` may either have one `step_context` argument, or `self` and `step_context` "
                             "arguments if it's an instance method. Got {} instead.".format(args))
        try:
            return self._sess.run_step_fn(step_fn, self._tf_sess(), run_with_hooks=None)
        except StopIteration:
            self._step_fn_stopped = True
            raise

    class StepContext:
        """What run_step_fn's step_fn gets: the raw session and a way to run with hooks or stop."""

        def __init__(self, session, run_with_hooks_fn):
            self._session = session
            self._run_with_hooks_fn = run_with_hooks_fn

        @property
        def session(self):
            return self._session

        def run_with_hooks(self, *args, **kwargs):
            return self._run_with_hooks_fn(*args, **kwargs)

        def request_stop(self):
            raise StopIteration("step_fn has requested the iterations to stop.")

    def should_stop(self):
        return self._sess is None or self._step_fn_stopped or self._sess.should_stop()

    def close(self):
        self._close_internal()

    def __enter__(self):
        return self

    def __exit__(self, exception_type, exception_value, traceback):
        # Running out of input (OutOfRangeError) or a step_fn's request_stop ends the loop normally.
        if exception_type in (errors.OutOfRangeError, StopIteration):
            exception_type = None
        self._close_internal(exception_type)
        return exception_type is None

    class _CoordinatedSessionCreator(SessionCreator):
        def __init__(self, session_creator, hooks, stop_grace_period_secs):
            self._session_creator = session_creator
            self._hooks = hooks
            self.coord = None
            self.tf_sess = None
            self._stop_grace_period_secs = stop_grace_period_secs

        def create_session(self):
            self.tf_sess = self._session_creator.create_session()
            if _ops.get_collection(_ops.GraphKeys.QUEUE_RUNNERS):
                # TF 1.x queue pipelines: their threads run under a real Coordinator, joined at close.
                self.coord = _coordinator.Coordinator()
                _queue_runner.start_queue_runners(sess=self.tf_sess, coord=self.coord)
            else:
                self.coord = _Coordinator()
            for hook in self._hooks:
                hook.after_create_session(self.tf_sess, self.coord)
            return _CoordinatedSession(_HookedSession(self.tf_sess, self._hooks), self.coord,
                                       self._stop_grace_period_secs)

    def _close_internal(self, exception_type=None):
        try:
            if not exception_type:
                for h in self._hooks:
                    h.end(self._coordinated_creator.tf_sess)
        finally:
            try:
                if self._sess is None:
                    raise RuntimeError("Session is already closed.")
                self._sess.close()
            finally:
                self._sess = None
                self._coordinated_creator.tf_sess = None
                self._coordinated_creator.coord = None
                self._unfinalize()

    def _unfinalize(self):
        if not self._graph_was_finalized:
            _ops.get_default_graph()._finalized = False

    def _is_closed(self):
        return self._coordinated_creator.tf_sess is None

    def _tf_sess(self):
        return self._coordinated_creator.tf_sess


class MonitoredSession(_MonitoredSession):
    """A session that creates itself with `session_creator` (default ChiefSessionCreator), calls the hooks
    around every run and recreates itself after a preemption error.

        with tf.train.MonitoredSession(hooks=[...]) as sess:
            while not sess.should_stop():
                sess.run(train_op)

    Leaving the `with` block calls every hook's end() and closes the session; an OutOfRangeError (input
    exhausted) raised inside it ends the loop without error."""

    def __init__(self, session_creator=None, hooks=None, stop_grace_period_secs=120):
        super().__init__(session_creator, hooks, should_recover=True, stop_grace_period_secs=stop_grace_period_secs)


class SingularMonitoredSession(_MonitoredSession):
    """A MonitoredSession built from a ChiefSessionCreator's arguments, without recovery; raw_session()
    gives the tf.Session."""

    def __init__(self, hooks=None, scaffold=None, master="", config=None, checkpoint_dir=None,
                 stop_grace_period_secs=120, checkpoint_filename_with_path=None):
        creator = ChiefSessionCreator(scaffold=scaffold, master=master, config=config, checkpoint_dir=checkpoint_dir,
                                      checkpoint_filename_with_path=checkpoint_filename_with_path)
        super().__init__(creator, hooks, should_recover=False, stop_grace_period_secs=stop_grace_period_secs)

    def raw_session(self):
        return self._tf_sess()


def MonitoredTrainingSession(master="", is_chief=True, checkpoint_dir=None, scaffold=None,  # noqa: N802 (TF's name)
                             hooks=None, chief_only_hooks=None, save_checkpoint_secs=USE_DEFAULT,
                             save_summaries_steps=USE_DEFAULT, save_summaries_secs=USE_DEFAULT, config=None,
                             stop_grace_period_secs=120, log_step_count_steps=100, max_wait_secs=7200,
                             save_checkpoint_steps=USE_DEFAULT, summary_dir=None, save_graph_def=True):
    """A MonitoredSession for training: restores from the latest checkpoint of `checkpoint_dir` (else
    initializes), and adds a StepCounterHook and a SummarySaverHook writing to `summary_dir` (default
    checkpoint_dir) and a CheckpointSaverHook for `checkpoint_dir`, then `hooks`.

    Defaults as TF's: checkpoints every 600 s unless save_checkpoint_steps is given, summaries every 100
    steps unless save_summaries_secs is given; None for both of a pair turns that hook off."""
    if save_summaries_steps is USE_DEFAULT and save_summaries_secs is USE_DEFAULT:
        save_summaries_steps, save_summaries_secs = 100, None
    elif save_summaries_secs is USE_DEFAULT:
        save_summaries_secs = None
    elif save_summaries_steps is USE_DEFAULT:
        save_summaries_steps = None
    if save_checkpoint_steps is USE_DEFAULT and save_checkpoint_secs is USE_DEFAULT:
        save_checkpoint_steps, save_checkpoint_secs = None, 600
    elif save_checkpoint_secs is USE_DEFAULT:
        save_checkpoint_secs = None
    elif save_checkpoint_steps is USE_DEFAULT:
        save_checkpoint_steps = None

    scaffold = scaffold or Scaffold()
    if not is_chief:
        raise ValueError("MonitoredTrainingSession(is_chief=False) waits for a chief that shares its variables "
                         "through a server; tideflow sessions are in-process, so every session is the chief.")
    all_hooks = list(chief_only_hooks or [])
    session_creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_dir=checkpoint_dir, master=master,
                                          config=config)
    summary_dir = summary_dir or checkpoint_dir
    if summary_dir:
        if log_step_count_steps and log_step_count_steps > 0:
            all_hooks.append(_hooks.StepCounterHook(output_dir=summary_dir, every_n_steps=log_step_count_steps))
        if (save_summaries_steps and save_summaries_steps > 0) or (save_summaries_secs and save_summaries_secs > 0):
            all_hooks.append(_hooks.SummarySaverHook(scaffold=scaffold, save_steps=save_summaries_steps,
                                                     save_secs=save_summaries_secs, output_dir=summary_dir))
    if checkpoint_dir:
        if (save_checkpoint_secs and save_checkpoint_secs > 0) or (save_checkpoint_steps and save_checkpoint_steps > 0):
            all_hooks.append(_hooks.CheckpointSaverHook(checkpoint_dir, save_steps=save_checkpoint_steps,
                                                        save_secs=save_checkpoint_secs, scaffold=scaffold,
                                                        save_graph_def=save_graph_def))
    if hooks:
        all_hooks.extend(hooks)
    return MonitoredSession(session_creator=session_creator, hooks=all_hooks,
                            stop_grace_period_secs=stop_grace_period_secs)
