"""TF 1.x queues, queue runners, Coordinator, input producers, batching, readers and record decoding
(ops/data_flow_ops.py, ops/io_ops.py, train/coordinator.py, train/queue_runner_impl.py, train/input.py)."""
import threading
import time

import numpy as np
import pytest

import tideflow as tf


@pytest.fixture(autouse=True)
def _graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _in_thread(fn):
    """Starts fn in a thread; returns (thread, box) where box gets ("ok", value) or ("err", exception)."""
    box = []

    def run():
        try:
            box.append(("ok", fn()))
        except BaseException as e:  # noqa: BLE001
            box.append(("err", e))
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


# ---- queues ----

def test_fifo_order_shapes_and_names():
    q = tf.FIFOQueue(10, [tf.int32, tf.float32], shapes=[[], [2]])
    assert q.name == "fifo_queue" and q.dtypes == [tf.int32, tf.float32]
    enq = q.enqueue_many([[1, 2, 3], [[1, 1], [2, 2], [3, 3]]])
    a, b = q.dequeue()
    assert a.shape.as_list() == [] and b.shape.as_list() == [2]
    m = q.dequeue_many(2)
    assert m[0].shape.as_list() == [2] and m[1].shape.as_list() == [2, 2]
    assert m[0].op.name == "fifo_queue_DequeueMany"
    with tf.Session() as sess:
        sess.run(enq)
        assert sess.run(q.size()) == 3
        x, y = sess.run([a, b])
        assert x == 1 and y.tolist() == [1.0, 1.0]
        xs, ys = sess.run(m)
        assert xs.tolist() == [2, 3] and ys.tolist() == [[2, 2], [3, 3]]
        assert sess.run(q.size()) == 0


def test_single_component_and_names_dict():
    q = tf.queue.FIFOQueue(4, tf.int64)
    e = q.enqueue(5)
    d = q.dequeue()
    assert isinstance(d, tf.Tensor)
    qn = tf.FIFOQueue(4, [tf.int32, tf.string], shapes=[[], []], names=["i", "s"])
    en = qn.enqueue({"i": 1, "s": "a"})
    dn = qn.dequeue()
    with tf.Session() as sess:
        sess.run(e)
        assert sess.run(d) == 5
        sess.run(en)
        out = sess.run(dn)
        assert out == {"i": 1, "s": b"a"}
    with pytest.raises(ValueError):
        qn.enqueue([1, "a"])


def test_static_shape_mismatch_and_runtime_mismatch():
    q = tf.FIFOQueue(4, tf.float32, shapes=[[2]])
    with pytest.raises(ValueError):
        q.enqueue(tf.zeros([3]))
    p = tf.placeholder(tf.float32)
    e = q.enqueue(p)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Shape mismatch"):
            sess.run(e, {p: np.zeros(3, np.float32)})


def test_enqueue_blocks_at_capacity_until_dequeue():
    q = tf.FIFOQueue(2, tf.int32, shapes=[[]])
    p = tf.placeholder(tf.int32, [])
    e = q.enqueue(p)
    d = q.dequeue()
    with tf.Session() as sess:
        sess.run(e, {p: 1})
        sess.run(e, {p: 2})
        t, box = _in_thread(lambda: sess.run(e, {p: 3}))
        t.join(0.3)
        assert t.is_alive() and not box  # full: the third enqueue waits
        assert sess.run(d) == 1
        t.join(5)
        assert box == [("ok", None)]
        assert [sess.run(d) for _ in range(2)] == [2, 3]


def test_dequeue_blocks_until_enqueue_and_dequeue_many_accumulates():
    q = tf.FIFOQueue(2, tf.int32, shapes=[[]])
    p = tf.placeholder(tf.int32, [None])
    e = q.enqueue_many(p)
    dm = q.dequeue_many(5)  # more than the capacity: TF accumulates elements as they come
    with tf.Session() as sess:
        t, box = _in_thread(lambda: sess.run(dm))
        t.join(0.2)
        assert t.is_alive()
        sess.run(e, {p: [1, 2, 3, 4, 5]})
        t.join(5)
        assert box[0][0] == "ok" and box[0][1].tolist() == [1, 2, 3, 4, 5]


def test_close_out_of_range_and_dequeue_up_to():
    q = tf.FIFOQueue(10, tf.int32, shapes=[[]])
    e = q.enqueue_many([[1, 2, 3]])
    close = q.close()
    with tf.Session() as sess:
        sess.run(e)
        assert not sess.run(q.is_closed())
        sess.run(close)
        assert sess.run(q.is_closed())
        with pytest.raises(tf.errors.CancelledError, match="is closed"):
            sess.run(e)
        with pytest.raises(tf.errors.OutOfRangeError, match="insufficient elements"):
            sess.run(q.dequeue_many(4))
        assert sess.run(q.size()) == 3  # a failed dequeue_many puts its elements back
        assert sess.run(q.dequeue_up_to(2)).tolist() == [1, 2]
        assert sess.run(q.dequeue_up_to(2)).tolist() == [3]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(q.dequeue_up_to(2))
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(q.dequeue())


def test_close_wakes_blocked_dequeue_and_cancels_pending_enqueues():
    q = tf.FIFOQueue(1, tf.int32, shapes=[[]])
    d = q.dequeue()
    e = q.enqueue(7)
    with tf.Session() as sess:
        t, box = _in_thread(lambda: sess.run(d))
        t.join(0.2)
        sess.run(q.close())
        t.join(5)
        assert box and isinstance(box[0][1], tf.errors.OutOfRangeError)
    tf.reset_default_graph()
    q = tf.FIFOQueue(1, tf.int32, shapes=[[]])
    e = q.enqueue(7)
    with tf.Session() as sess:
        sess.run(e)
        t, box = _in_thread(lambda: sess.run(e))
        t.join(0.2)
        assert t.is_alive()
        sess.run(q.close(cancel_pending_enqueues=True))
        t.join(5)
        assert box and isinstance(box[0][1], tf.errors.CancelledError)
        assert sess.run(q.dequeue()) == 7


def test_session_close_while_blocked_does_not_hang():
    q = tf.FIFOQueue(1, tf.int32, shapes=[[]])
    d = q.dequeue()
    e = q.enqueue_many([[1, 2, 3]])
    sess = tf.Session()
    t1, box1 = _in_thread(lambda: sess.run(d))
    t2, box2 = _in_thread(lambda: sess.run(e))
    time.sleep(0.3)
    start = time.time()
    sess.close()
    t1.join(5)
    t2.join(5)
    assert time.time() - start < 5 and not t1.is_alive() and not t2.is_alive()
    # The dequeue got the first element (or was cancelled); the enqueue, blocked on a full queue, was cancelled.
    assert box2 and isinstance(box2[0][1], tf.errors.CancelledError)
    with tf.Session() as sess2:  # a new session starts from an empty queue, as in TensorFlow
        assert sess2.run(q.size()) == 0


def test_random_shuffle_queue_min_after_dequeue_and_seed():
    def run(seed):
        tf.reset_default_graph()
        q = tf.RandomShuffleQueue(20, 5, tf.int32, shapes=[[]], seed=seed)
        e = q.enqueue_many([np.arange(10, dtype=np.int32)])
        d = q.dequeue()
        with tf.Session() as sess:
            sess.run(e)
            got = [sess.run(d) for _ in range(5)]  # 10 - 5 = 5 dequeues allowed before closing
            assert sess.run(q.size()) == 5
            t, box = _in_thread(lambda: sess.run(d))
            t.join(0.2)
            assert t.is_alive()  # at min_after_dequeue: waits
            sess.run(q.close())
            t.join(5)
            got.append(box[0][1])
            got += sess.run(q.dequeue_many(4)).tolist()
        return [int(x) for x in got]
    a, b = run(7), run(7)
    assert a == b and sorted(a) == list(range(10))
    assert a != list(range(10))
    with pytest.raises(ValueError):
        tf.RandomShuffleQueue(5, 5, tf.int32)


def test_padding_fifo_queue_pads_batches():
    q = tf.PaddingFIFOQueue(5, [tf.int32, tf.string], shapes=[[None], []])
    p = tf.placeholder(tf.int32, [None])
    e = q.enqueue([p, "x"])
    dm = q.dequeue_many(2)
    assert dm[0].shape.as_list() == [2, None]
    with tf.Session() as sess:
        sess.run(e, {p: [1]})
        sess.run(e, {p: [2, 3, 4]})
        a, s = sess.run(dm)
        np.testing.assert_array_equal(a, [[1, 0, 0], [2, 3, 4]])
        assert s.tolist() == [b"x", b"x"]


# ---- Coordinator and QueueRunner ----

def test_coordinator_join_reraises_first_exception():
    coord = tf.train.Coordinator()

    def worker(i):
        with coord.stop_on_exception():
            if i == 1:
                raise RuntimeError("boom %d" % i)
            while not coord.should_stop():
                time.sleep(0.01)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    with pytest.raises(RuntimeError, match="boom 1"):
        coord.join(threads)
    assert coord.should_stop() and coord.joined
    coord.clear_stop()
    assert not coord.should_stop()
    coord.raise_requested_exception()  # cleared


def test_coordinator_clean_stop_and_stragglers():
    coord = tf.train.Coordinator()
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "end"))
    coord.join([])  # OutOfRangeError is a clean stop
    coord.clear_stop()
    ev = threading.Event()
    t = threading.Thread(target=ev.wait, args=(5,), daemon=True)
    t.start()
    coord.request_stop()
    with pytest.raises(RuntimeError, match="threads still running"):
        coord.join([t], stop_grace_period_secs=0.05)
    ev.set()
    coord2 = tf.train.Coordinator()
    coord2.request_stop(ValueError("v"))
    with pytest.raises(ValueError):
        coord2.raise_requested_exception()


def test_start_queue_runners_without_queues():
    v = tf.Variable(1.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        assert threads == []
        coord.request_stop()
        coord.join(threads)
        assert sess.run(v) == 1.0


def test_queue_runner_reports_errors_to_coordinator():
    q = tf.FIFOQueue(4, tf.float32, shapes=[[]])
    bad = tf.py_func(lambda: (_ for _ in ()).throw(ValueError("bad input")), [], tf.float32)
    bad.set_shape([])
    qr = tf.train.QueueRunner(q, [q.enqueue(bad)])
    tf.train.add_queue_runner(qr)
    assert tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS) == [qr]
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad input"):
            coord.join(threads)


def test_queue_runner_threads_stop_on_coordinator_stop():
    q = tf.FIFOQueue(3, tf.int32, shapes=[[]])
    qr = tf.train.QueueRunner(q, [q.enqueue(1)] * 2)
    tf.train.add_queue_runner(qr)
    d = q.dequeue()
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        assert len(threads) == 3  # two enqueue threads and the one that cancels them on stop
        assert [sess.run(d) for _ in range(5)] == [1] * 5
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=5)
        assert not any(t.is_alive() for t in threads)


# ---- producers and batching ----

def test_string_input_producer_epochs_and_names():
    q = tf.train.string_input_producer(["a", "b", "c"], num_epochs=2, shuffle=False)
    assert [v.op.name for v in tf.local_variables()] == ["input_producer/limit_epochs/epochs"]
    d = q.dequeue()
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        got = []
        with pytest.raises(tf.errors.OutOfRangeError):
            while True:
                got.append(sess.run(d))
        coord.request_stop()
        coord.join(threads)
    assert got == [b"a", b"b", b"c"] * 2


def test_range_input_producer_shuffles_each_epoch():
    tf.set_random_seed(3)
    q = tf.train.range_input_producer(6, num_epochs=3, shuffle=True, seed=1)
    d = q.dequeue_many(6)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        epochs = [sess.run(d).tolist() for _ in range(3)]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(d)
        coord.request_stop()
        coord.join(threads)
    assert all(sorted(e) == list(range(6)) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1


def test_batch_shapes_smaller_final_batch_and_dict():
    x, y = tf.train.slice_input_producer([np.arange(7, dtype=np.float32), np.arange(7, dtype=np.int64) * 10],
                                         num_epochs=1, shuffle=False)
    bx, by = tf.train.batch([x, y], 3, allow_smaller_final_batch=True)
    assert bx.shape.as_list() == [None] and bx.op.name == "batch"
    tf.reset_default_graph()
    x, y = tf.train.slice_input_producer([np.arange(7, dtype=np.float32), np.arange(7, dtype=np.int64) * 10],
                                         num_epochs=1, shuffle=False)
    b = tf.train.batch({"x": x, "y": y}, 3, allow_smaller_final_batch=True)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        sizes, xs = [], []
        try:
            while True:
                out = sess.run(b)
                sizes.append(len(out["x"]))
                xs += out["x"].tolist()
                np.testing.assert_array_equal(out["y"], out["x"].astype(np.int64) * 10)
        except tf.errors.OutOfRangeError:
            pass
        coord.request_stop()
        coord.join(threads)
    assert sizes == [3, 3, 1] and xs == list(range(7))


def test_batch_fixed_size_drops_remainder_and_needs_defined_shapes():
    x = tf.train.range_input_producer(5, num_epochs=1, shuffle=False).dequeue()
    b = tf.train.batch([x], 2, num_threads=2)
    assert b.shape.as_list() == [2]
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        got = []
        with pytest.raises(tf.errors.OutOfRangeError):
            while True:
                got.append(sorted(sess.run(b).tolist()))
        coord.request_stop()
        coord.join(threads)
    assert len(got) == 2 and sorted(sum(got, [])) in ([0, 1, 2, 3], [0, 1, 2, 4], [0, 1, 3, 4], [0, 2, 3, 4],
                                                       [1, 2, 3, 4])
    with pytest.raises(ValueError, match="fully defined"):
        tf.train.batch([tf.placeholder(tf.float32, [None])], 2)


def test_batch_enqueue_many_and_dynamic_pad():
    data = tf.constant(np.arange(12, dtype=np.int32).reshape(6, 2))
    b = tf.train.batch([data], 4, enqueue_many=True, capacity=10)
    assert b.shape.as_list() == [4, 2]
    tf.reset_default_graph()
    q = tf.FIFOQueue(5, tf.int32, shapes=[[]])
    n = q.dequeue()
    seq = tf.range(n)
    bp = tf.train.batch([seq], 2, dynamic_pad=True)
    assert bp.shape.as_list() == [2, None]
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 3, 2, 2]]))
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        np.testing.assert_array_equal(sess.run(bp), [[0, 0, 0], [0, 1, 2]])
        np.testing.assert_array_equal(sess.run(bp), [[0, 1], [0, 1]])
        sess.run(q.close())  # ends the runner's upstream dequeue (a coordinator stop alone would not)
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=5)


def test_batch_join_and_shuffle_batch_join_and_maybe_batch():
    a = tf.train.range_input_producer(4, num_epochs=1, shuffle=False).dequeue()
    b = tf.train.range_input_producer(4, num_epochs=1, shuffle=False).dequeue() + 100
    bj = tf.train.batch_join([[a], [b]], 8)
    sj = tf.train.shuffle_batch_join([[a], [b]], 2, capacity=10, min_after_dequeue=2, seed=1,
                                     allow_smaller_final_batch=True)
    assert bj.shape.as_list() == [8] and sj.shape.as_list() == [None]
    tf.reset_default_graph()
    x = tf.train.range_input_producer(10, num_epochs=1, shuffle=False).dequeue()
    mb = tf.train.maybe_batch([x], tf.equal(x % 2, 0), 5)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        assert sess.run(mb).tolist() == [0, 2, 4, 6, 8]
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=5)


def test_classic_tf1_training_loop_until_out_of_range():
    """slice_input_producer + shuffle_batch + Coordinator + start_queue_runners, training until the epochs end."""
    rng = np.random.RandomState(0)
    xs = rng.randn(64, 3).astype(np.float32)
    w_true = np.array([[1.0], [-2.0], [0.5]], np.float32)
    ys = xs @ w_true
    tf.set_random_seed(1)
    x, y = tf.train.slice_input_producer([xs, ys], num_epochs=20, shuffle=True, seed=2)
    bx, by = tf.train.shuffle_batch([x, y], batch_size=8, capacity=40, min_after_dequeue=10, num_threads=2,
                                    seed=3)
    w = tf.Variable(tf.zeros([3, 1]))
    loss = tf.reduce_mean(tf.square(tf.matmul(bx, w) - by))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        steps = 0
        try:
            while not coord.should_stop():
                sess.run(train)
                steps += 1
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
        coord.join(threads)
        assert steps == 64 * 20 // 8  # every element once per epoch; the remainder < batch_size is dropped
        np.testing.assert_allclose(sess.run(w), w_true, atol=1e-3)


def test_monitored_session_runs_queue_runners():
    x = tf.train.range_input_producer(6, num_epochs=2, shuffle=False).dequeue()
    b = tf.train.batch([x], 3)
    got = []
    with tf.train.MonitoredSession() as sess:
        while not sess.should_stop():
            got.append(sess.run(b).tolist())
    assert got == [[0, 1, 2], [3, 4, 5]] * 2


# ---- readers and decoding ----

def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def _read_all(reader, files, n_ops=1, up_to=None):
    q = tf.train.string_input_producer(files, num_epochs=1, shuffle=False)
    kv = reader.read(q) if up_to is None else reader.read_up_to(q, up_to)
    out = []
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        try:
            while True:
                k, v = sess.run(kv)
                if up_to is None:
                    out.append((k, v))
                else:
                    out.extend(zip(k.tolist(), v.tolist()))
        except tf.errors.OutOfRangeError:
            pass
        n = sess.run(reader.num_records_produced())
        coord.request_stop()
        coord.join(threads)
    assert n == len(out)
    return out


def test_text_line_reader_keys_and_header(tmp_path):
    f1 = _write(tmp_path, "a.csv", b"h1,h2\n1,2\n3,4\n")
    f2 = _write(tmp_path, "b.csv", b"h\r\n5,6\r\n\n7,8")
    out = _read_all(tf.TextLineReader(skip_header_lines=1), [f1, f2])
    assert out == [(("%s:2" % f1).encode(), b"1,2"), (("%s:3" % f1).encode(), b"3,4"),
                   (("%s:2" % f2).encode(), b"5,6"), (("%s:3" % f2).encode(), b""),
                   (("%s:4" % f2).encode(), b"7,8")]
    tf.reset_default_graph()
    out2 = _read_all(tf.TextLineReader(), [f1], up_to=2)
    assert [v for _, v in out2] == [b"h1,h2", b"1,2", b"3,4"]


def test_whole_file_and_fixed_length_readers(tmp_path):
    f1 = _write(tmp_path, "w1", b"hello")
    f2 = _write(tmp_path, "w2", b"")
    assert _read_all(tf.WholeFileReader(), [f1, f2]) == [(f1.encode(), b"hello"), (f2.encode(), b"")]
    tf.reset_default_graph()
    f3 = _write(tmp_path, "rec.bin", b"HH" + b"abcdefghij" + b"F")  # header 2, records of 3, footer 1
    out = _read_all(tf.FixedLengthRecordReader(3, header_bytes=2, footer_bytes=1), [f3])
    assert out == [(b"%s:%d" % (f3.encode(), i), r) for i, r in enumerate([b"abc", b"def", b"ghi"])]
    tf.reset_default_graph()
    out = _read_all(tf.FixedLengthRecordReader(4, hop_bytes=2), [_write(tmp_path, "hop", b"abcdefgh")])
    assert [v for _, v in out] == [b"abcd", b"cdef", b"efgh"]


def test_reader_with_decode_raw_pipeline(tmp_path):
    recs = np.arange(12, dtype=np.float32).reshape(4, 3)
    f = _write(tmp_path, "floats.bin", recs.tobytes())
    q = tf.train.string_input_producer([f], num_epochs=1, shuffle=False)
    _, value = tf.FixedLengthRecordReader(12).read(q)
    vec = tf.reshape(tf.decode_raw(value, tf.float32), [3])
    b = tf.train.batch([vec], 2)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        np.testing.assert_array_equal(sess.run(b), recs[:2])
        np.testing.assert_array_equal(sess.run(b), recs[2:])
        coord.request_stop()
        coord.join(threads)


def test_read_file_and_write_file(tmp_path):
    path = str(tmp_path / "sub" / "f.txt")
    w = tf.write_file(path, "contents")
    r = tf.read_file(path)
    with tf.Session() as sess:
        sess.run(w)
        assert sess.run(r) == b"contents"
        with pytest.raises(tf.errors.NotFoundError):
            sess.run(tf.read_file(str(tmp_path / "missing")))


def test_decode_csv_values_defaults_and_errors():
    recs = tf.constant(["1,2.5,x", ",,", '3,-1e3,"q,""t"""'])
    a, b, c = tf.decode_csv(recs, [[0], [1.5], ["d"]])
    assert a.dtype == tf.int32 and b.dtype == tf.float32 and c.dtype == tf.string
    assert a.shape.as_list() == [3]
    with tf.Session() as sess:
        va, vb, vc = sess.run([a, b, c])
        assert va.tolist() == [1, 0, 3]
        np.testing.assert_array_equal(vb, np.array([2.5, 1.5, -1000.0], np.float32))
        assert vc.tolist() == [b"x", b"d", b'q,"t"']
        with pytest.raises(tf.errors.InvalidArgumentError, match="required but missing"):
            sess.run(tf.decode_csv(tf.constant(["1,"]), [[0], tf.zeros([0], tf.int32)]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Expect 2 fields but have 3"):
            sess.run(tf.decode_csv(tf.constant(["1,2,3"]), [[0], [0]]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="not a valid int32"):
            sess.run(tf.decode_csv(tf.constant(["a"]), [[0]]))
        x, y = sess.run(tf.decode_csv("7;8", [[0], [tf.constant(0, tf.int64)]], field_delim=";"))
        assert x == 7 and y == 8 and isinstance(y, np.int64)
        (s,) = sess.run(tf.decode_csv(["1,2,3"], [[0]], select_cols=[2]))
        assert s.tolist() == [3]
    with pytest.raises(TypeError):
        tf.decode_csv(recs, [[True]])


def test_decode_raw_dtypes_and_errors():
    data = np.array([[1, 2], [3, -4]], np.int32)
    t = tf.decode_raw(tf.constant([data[0].tobytes(), data[1].tobytes()]), tf.int32)
    assert t.shape.as_list() == [2, None]
    big = tf.decode_raw(tf.constant(np.array([1.5, 2.0], ">f8").tobytes()), tf.float64, little_endian=False)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(t), data)
        np.testing.assert_array_equal(sess.run(big), [1.5, 2.0])
        with pytest.raises(tf.errors.InvalidArgumentError, match="same size"):
            sess.run(tf.decode_raw(tf.constant([b"abcd", b"ab"]), tf.int16 if hasattr(tf, "int16") else tf.int32))
        with pytest.raises(tf.errors.InvalidArgumentError, match="not a multiple"):
            sess.run(tf.decode_raw(tf.constant(b"abcde"), tf.float32))
    with pytest.raises(TypeError):
        tf.decode_raw(tf.constant(b"ab"), tf.string)


# ---- TensorFlow comparison ----

def _tf1():
    tfr = pytest.importorskip("tensorflow.compat.v1")
    tfr.disable_eager_execution()
    return tfr


def test_decode_csv_matches_tensorflow():
    tfr = _tf1()
    records = ["1,2.5,abc,7", ",-0.5,,", '3,1e-3,"x,""y""",-2', "  4, 5 ,z,1"]
    g = tfr.Graph()
    with g.as_default(), tfr.Session(graph=g) as s:
        want = s.run(tfr.decode_csv(records, [[0], [1.0], ["dflt"], [tfr.constant(9, tfr.int64)]]))
    got_t = tf.decode_csv(records, [[0], [1.0], ["dflt"], [tf.constant(9, tf.int64)]])
    with tf.Session() as sess:
        got = sess.run(got_t)
    for w, g_ in zip(want, got):
        assert w.dtype == g_.dtype
        np.testing.assert_array_equal(w, g_)


def test_batch_shapes_match_tensorflow():
    tfr = _tf1()

    def build(m):
        x, y = m.train.slice_input_producer([np.zeros((10, 3), np.float32), np.zeros(10, np.int32)],
                                            num_epochs=1)
        outs = [m.train.batch([x, y], 4), m.train.batch([x, y], 4, allow_smaller_final_batch=True),
                m.train.shuffle_batch([x, y], 4, 20, 5), m.train.batch([x], 2)]
        flat = []
        for o in outs:
            flat += o if isinstance(o, list) else [o]
        return [(t.op.name, t.shape.as_list() if t.shape.ndims is not None else None) for t in flat], \
            [v.op.name for v in m.local_variables()], [len(m.get_collection("queue_runners"))]
    g = tfr.Graph()
    with g.as_default():
        want = build(tfr)
    assert build(tf) == want


def test_match_filenames_once_feeds_a_reader(tmp_path):
    for i in range(3):
        _write(tmp_path, "part-%d.txt" % i, b"line %d\n" % i)
    _write(tmp_path, "other.dat", b"no\n")
    files = tf.train.match_filenames_once(str(tmp_path / "part-*.txt"))
    assert [v.op.name for v in tf.local_variables()] == ["matching_filenames"]
    q = tf.train.string_input_producer(files, num_epochs=1, shuffle=False)
    _, line = tf.TextLineReader().read(q)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        got = []
        with pytest.raises(tf.errors.OutOfRangeError):
            while True:
                got.append(sess.run(line))
        coord.request_stop()
        coord.join(threads)
    assert got == [b"line 0", b"line 1", b"line 2"]


def test_queue_runner_properties_match_tensorflow_defaults():
    q = tf.FIFOQueue(2, tf.int32, shapes=[[]])
    qr = tf.train.QueueRunner(q, [q.enqueue(1)])
    assert qr.queue is q and qr.name == q.name
    assert qr.queue_closed_exception_types == (tf.errors.OutOfRangeError,)
    assert qr.close_op.name.endswith("_Close") and qr.cancel_op.name.endswith("_Close_1")
    with pytest.raises(ValueError):
        tf.train.QueueRunner(q, [])


def test_reader_programs_match_tensorflow(tmp_path):
    """TensorFlow's "Reading data" how-to (string_input_producer + TextLineReader + decode_csv) and the
    fixed-length and whole-file readers: the same keys, values and columns under TensorFlow and tideflow."""
    tfr = _tf1()
    f0 = _write(tmp_path, "f0.csv", b"h,h,h\n1,2,3\n4,,6\r\n")
    f1 = _write(tmp_path, "f1.csv", b"h\n7,8,9")
    f2 = _write(tmp_path, "f2.bin", b"HHabcdefgT")

    def program(m):
        q = m.train.string_input_producer([f0, f1], num_epochs=2, shuffle=False)
        key, value = m.TextLineReader(skip_header_lines=1).read(q)
        cols = m.decode_csv(value, record_defaults=[[0], [-1], [0.5]])
        q2 = m.train.string_input_producer([f2, f0], num_epochs=1, shuffle=False)
        k2, v2 = m.FixedLengthRecordReader(3, header_bytes=2, footer_bytes=1).read(q2)
        q3 = m.train.string_input_producer([f1, f2], num_epochs=1, shuffle=False)
        k3, v3 = m.WholeFileReader().read(q3)
        out = []
        with m.Session() as sess:
            sess.run(m.local_variables_initializer())
            coord = m.train.Coordinator()
            threads = m.train.start_queue_runners(sess=sess, coord=coord)
            for fetch in ([key, value] + cols, [k2, v2], [k3, v3]):
                for _ in range(20):
                    try:
                        out.append([x.tolist() if hasattr(x, "tolist") else x for x in sess.run(fetch)])
                    except m.errors.OutOfRangeError:
                        out.append("end")
                        break
            coord.request_stop()
            coord.join(threads)
        return out
    g = tfr.Graph()
    with g.as_default():
        want = program(tfr)
    assert program(tf) == want


def test_queues_and_readers_refuse_eager_mode():
    from tideflow.eager import context
    with context.eager_mode():
        with pytest.raises(RuntimeError, match="eager execution"):
            tf.FIFOQueue(2, tf.int32)
        with pytest.raises(RuntimeError, match="eager execution"):
            tf.TextLineReader()
