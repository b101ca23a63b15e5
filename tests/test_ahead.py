"""genlab_ui.ahead: neighbours computed in the background, joined rather than computed twice,
stale work dropped, and background work standing aside while a session computes."""

import threading
import time
from collections import OrderedDict

from genlab_ui import ahead


def new_store():
    return OrderedDict(), threading.Lock()


def drain():
    """Wait until the background thread has nothing queued."""
    for _ in range(500):
        with ahead._lock:
            if not ahead._queued:
                return
        time.sleep(0.01)
    raise AssertionError("background work did not finish")


def test_neighbours_are_computed_ahead_and_then_only_read():
    store, calls = new_store(), []

    def job(v):
        return (v,), lambda on_step: calls.append(v) or v * 10

    ahead.ahead("t1", [job(1), job(2)], store=store, keep=8)
    drain()
    assert sorted(calls) == [1, 2]
    assert ahead.result("t1", *job(2), store=store, keep=8) == 20
    assert ahead.result("t1", *job(3), store=store, keep=8) == 30  # not ahead: computed here
    assert sorted(calls) == [1, 2, 3]


def test_a_setting_being_computed_in_the_background_is_joined_not_recomputed():
    store, calls, started = new_store(), [], threading.Event()

    def slow(on_step):
        started.set()
        calls.append("slow")
        time.sleep(0.3)
        return "done"

    ahead.ahead("t2", [(("k",), slow)], store=store, keep=8)
    assert started.wait(5)
    assert ahead.result("t2", ("k",), lambda on_step: calls.append("again") or "again", store=store, keep=8) == "done"
    assert calls == ["slow"]


def test_work_a_newer_call_does_not_name_is_dropped_before_it_starts():
    store, calls, release = new_store(), [], threading.Event()

    def blocker(on_step):
        release.wait(5)
        return 0

    ahead.ahead("t3", [(("block",), blocker), (("stale",), lambda s: calls.append("stale"))], store=store, keep=8)
    ahead.ahead("t3", [(("block",), blocker), (("fresh",), lambda s: calls.append("fresh"))], store=store, keep=8)
    release.set()
    drain()
    assert calls == ["fresh"]


def test_background_steps_wait_while_a_session_computes():
    store, log = new_store(), []
    in_foreground = threading.Event()

    def background(on_step):
        for i in range(20):
            on_step(i, 20)  # ahead.give_way
            log.append(("bg", in_foreground.is_set()))
            time.sleep(0.005)
        return "bg"

    def foreground(on_step):
        assert on_step is None
        in_foreground.set()
        time.sleep(0.1)
        in_foreground.clear()
        return "fg"

    ahead.ahead("t4", [(("bg",), background)], store=store, keep=8)
    time.sleep(0.02)
    assert ahead.result("t4", ("fg",), foreground, store=store, keep=8) == "fg"
    drain()
    # at most the one step under way when the session started ran beside it
    assert sum(during for _, during in log) <= 1
    assert len(log) == 20


def test_later_runs_after_the_paint_off_the_session_thread_and_the_newest_replaces_a_waiting_one():
    """/gans' row warms the neighbouring seeds with ``later``: not in the run (its cores are the
    browser's while it paints), and a click that comes first replaces the warm-up not started."""
    release, ran = threading.Event(), []
    ahead.later("t5.block", lambda: release.wait(5), after_s=0)  # keeps the one thread busy
    t0 = time.monotonic()
    ahead.later("t5", lambda: ran.append(("old", threading.current_thread().name)), after_s=0)
    ahead.later("t5", lambda: ran.append(("new", threading.current_thread().name,
                                          time.monotonic() - t0)), after_s=0.2)
    assert ran == []  # nothing ran in the caller's thread
    release.set()
    for _ in range(300):
        if ran:
            break
        time.sleep(0.01)
    time.sleep(0.05)
    assert [r[0] for r in ran] == ["new"]
    assert ran[0][1].startswith("genlab-ahead") and ran[0][2] >= 0.2
    ahead.later("t5", lambda: 1 / 0, after_s=0)  # an error is dropped: best effort
    assert ahead.session_name("row").startswith("row:")
