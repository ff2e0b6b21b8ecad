"""tf.train.QueueRunner, add_queue_runner, start_queue_runners (also tf.train.queue_runner.*): threads that
run enqueue ops until their input ends, then close the queue, as TensorFlow's queue runners do."""
import threading
import weakref

from ..framework import errors as _errors
from ..framework import ops as _ops
from .. import tf_logging as logging

__all__ = ["QueueRunner", "add_queue_runner", "start_queue_runners"]


def _session_closed(sess):
    return getattr(sess, "_closed", False)


class QueueRunner:
    """Holds a queue and its enqueue ops; create_threads starts one thread per enqueue op, each running its
    op until an error: the classes in queue_closed_exception_types (end of input, a closed queue) end it
    quietly, and when the last thread ends the queue is closed so its consumers see OutOfRangeError.
    Other errors are reported to the coordinator (or raised when there is none)."""

    def __init__(self, queue=None, enqueue_ops=None, close_op=None, cancel_op=None,
                 queue_closed_exception_types=None, queue_runner_def=None, import_scope=None):
        if queue_runner_def is not None:
            raise NotImplementedError("QueueRunner from a QueueRunnerDef is not supported by tideflow")
        if not queue or not enqueue_ops:
            raise ValueError("Must provide queue and enqueue_ops.")
        self._queue = queue
        self._enqueue_ops = list(enqueue_ops)
        self._close_op = close_op if close_op is not None else queue.close()
        self._cancel_op = cancel_op if cancel_op is not None else queue.close(cancel_pending_enqueues=True)
        if queue_closed_exception_types is None:
            queue_closed_exception_types = (_errors.OutOfRangeError,)
        self._queue_closed_exception_types = tuple(queue_closed_exception_types)
        # A cancelled enqueue (the cancel op at a coordinator stop, Session.close) also ends a thread quietly:
        # TensorFlow reports it to a coordinator that has already stopped, which ignores it.
        self._quiet_exception_types = self._queue_closed_exception_types + (_errors.CancelledError,)
        self._lock = threading.Lock()
        self._runs_per_session = weakref.WeakKeyDictionary()
        self._exceptions_raised = []

    queue = property(lambda self: self._queue)
    enqueue_ops = property(lambda self: self._enqueue_ops)
    close_op = property(lambda self: self._close_op)
    cancel_op = property(lambda self: self._cancel_op)
    queue_closed_exception_types = property(lambda self: self._queue_closed_exception_types)
    exceptions_raised = property(lambda self: self._exceptions_raised)

    @property
    def name(self):
        return self._queue.name

    def _run(self, sess, enqueue_op, coord=None):
        decremented = False
        try:
            while True:
                if coord and coord.should_stop():
                    break
                try:
                    sess.run(enqueue_op)
                except self._quiet_exception_types:
                    # The input ended (or the queue was closed): the last thread out closes the queue.
                    with self._lock:
                        self._runs_per_session[sess] -= 1
                        decremented = True
                        if self._runs_per_session[sess] == 0 and not _session_closed(sess):
                            try:
                                sess.run(self._close_op)
                            except Exception as e:  # noqa: BLE001 (the session may be closing meanwhile)
                                logging.info("Ignored exception while closing the queue: %s", e)
                    return
        except Exception as e:  # noqa: BLE001 (TensorFlow's runners hand every error to the coordinator)
            if _session_closed(sess):
                return  # Session.close cancelled this thread's run: not an error
            if coord:
                coord.request_stop(e)
            else:
                logging.error("Exception in QueueRunner: %s", str(e))
                with self._lock:
                    self._exceptions_raised.append(e)
                raise
        finally:
            if not decremented:
                with self._lock:
                    self._runs_per_session[sess] -= 1

    def _close_on_stop(self, sess, cancel_op, coord):
        coord.wait_for_stop()
        try:
            if not _session_closed(sess):
                sess.run(cancel_op)
        except Exception as e:  # noqa: BLE001
            logging.info("Ignored exception: %s", str(e))

    def create_threads(self, sess, coord=None, daemon=False, start=False):
        """Threads running the enqueue ops in `sess` (plus one that cancels pending enqueues when `coord`
        stops); none when threads of this runner still run in that session."""
        with self._lock:
            try:
                if self._runs_per_session[sess] > 0:
                    return []  # already running
            except KeyError:
                pass
            self._runs_per_session[sess] = len(self._enqueue_ops)
            self._exceptions_raised = []
        ret = [threading.Thread(target=self._run, args=(sess, op, coord)) for op in self._enqueue_ops]
        if coord:
            ret.append(threading.Thread(target=self._close_on_stop, args=(sess, self._cancel_op, coord)))
        for t in ret:
            if coord:
                coord.register_thread(t)
            if daemon:
                t.daemon = True
            if start:
                t.start()
        return ret


def add_queue_runner(qr, collection=_ops.GraphKeys.QUEUE_RUNNERS):
    """Adds a QueueRunner to a graph collection (GraphKeys.QUEUE_RUNNERS), where start_queue_runners finds it."""
    _ops.add_to_collection(collection, qr)


def start_queue_runners(sess=None, coord=None, daemon=True, start=True, collection=_ops.GraphKeys.QUEUE_RUNNERS):
    """Starts the threads of every QueueRunner in the graph's collection; returns them (an empty list when
    the graph has none)."""
    if sess is None:
        sess = _ops.get_default_session()
        if not sess:
            raise ValueError("Cannot start queue runners: No default session is registered. Use `with "
                             "sess.as_default()` or pass an explicit session to tf.start_queue_runners(sess=sess)")
    if hasattr(sess, "_tf_sess") and not hasattr(sess, "_c"):  # a MonitoredSession hands its raw session
        sess = sess._tf_sess()
    with sess.graph.as_default():
        threads = []
        for qr in _ops.get_collection(collection):
            threads.extend(qr.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads
