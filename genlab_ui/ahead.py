"""Work ahead: compute what a control's next step will ask for while the person looks at this one.

/transport's guidance row takes a few hundred ms of sampling per setting. After each repaint
the page names the neighbouring settings (``ahead``); one background thread, shared by the
process, computes them into the shared store (``loaders.shared_result``), one network step at
a time, and stands aside whenever a session computes something it waits for (``result`` runs
that under ``foreground``); it runs at a job's low priority, so other sessions' reruns go first. A step to a neighbour then only paints. It is best effort: work a
newer call makes stale is dropped before it starts, and a session never computes a setting
twice: one the thread is already computing is waited for.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from genlab.families.ddpm import lower_priority
from genlab_ui import loaders

Store = tuple[OrderedDict, threading.Lock]
# compute(None) runs in a session's thread; compute(give_way) in the background thread, where it
# calls give_way between steps (and should run any worker threads of its own at a low priority)
Compute = Callable[[Callable[[int, int], None] | None], Any]

_idle = threading.Event()
_idle.set()
_lock = threading.Lock()
_busy = 0  # foreground computations running
_queued: dict[tuple, Future] = {}  # (store name, key) -> background work, queued or running
_later: dict[str, Future] = {}  # name -> the latest ``later`` work
_pool: ThreadPoolExecutor | None = None


@contextmanager
def foreground():
    """Around a computation a session waits for: background work pauses at its next step."""
    global _busy
    with _lock:
        _busy += 1
        _idle.clear()
    try:
        yield
    finally:
        with _lock:
            _busy -= 1
            if _busy == 0:
                _idle.set()


def give_way(*_) -> None:
    """Between two steps of background work: wait while any session computes (an on_step)."""
    _idle.wait()


def cached(store: Store, key: tuple) -> tuple[bool, Any]:
    """(True, the value) when ``key`` is in ``store``, else (False, None); computes nothing."""
    items, lock = store
    with lock:
        if key in items:
            items.move_to_end(key)
            return True, items[key]
    return False, None


def result(name: str, key: tuple, compute: Compute, *, store: Store, keep: int) -> Any:
    """``compute(None)`` once per key for every session, as ``loaders.shared_result``; a key the
    background thread is computing is waited for, one it has only queued is taken over."""
    hit, value = cached(store, key)
    if hit:
        return value
    with _lock:
        work = _queued.get((name, key))
    if work is not None and work.cancel():  # only queued: computed here instead
        with _lock:
            _queued.pop((name, key), None)
    elif work is not None:  # running (or just done): join it
        try:
            return work.result()
        except Exception:  # noqa: BLE001 - computed again below, where the error shows
            pass
    with foreground():
        return loaders.shared_result(name, key, lambda: compute(None), keep=keep, store=store)


def _background(name: str, key: tuple, compute: Compute, store: Store, keep: int) -> Any:
    try:
        hit, value = cached(store, key)
        return value if hit else loaders.shared_result(name, key, lambda: compute(give_way), keep=keep,
                                                        store=store)
    finally:
        with _lock:
            _queued.pop((name, key), None)


def _background_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(1, thread_name_prefix="genlab-ahead", initializer=lower_priority)
        return _pool


def later(name: str, warm: Callable[[], Any], *, after_s: float = 0.15) -> None:
    """Run ``warm()`` on the background thread once this run has sent its page: best-effort work
    whose results land in caches the next step reads (e.g. a seed's neighbours, drawn and
    encoded). In the run itself it would take the cores the browser is painting with (/gans'
    seed row: 40–80 ms of it after every click); here it starts ``after_s`` later, once the
    browser has painted (the background thread is niced, but the browser's processes are not
    the server's threads it yields to; work queued behind it waits that long too). A call
    replaces the same ``name``'s work that has not started: name it per session
    (``session_name``)."""
    pool = _background_pool()
    with _lock:
        for done in [n for n, f in _later.items() if f.done()]:
            del _later[done]
        earlier = _later.get(name)
        if earlier is not None:
            earlier.cancel()
        _later[name] = pool.submit(_warm, warm, time.monotonic() + after_s)


def session_name(name: str) -> str:
    """``name`` for this session alone (a ``later`` of another session does not replace it)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return f"{name}:{ctx.session_id if ctx is not None else ''}"


def _warm(warm: Callable[[], Any], start: float) -> None:
    time.sleep(max(0.0, start - time.monotonic()))
    try:
        warm()
    except Exception:  # noqa: BLE001 - best effort: the step that needs it computes it again
        pass


def ahead(name: str, work: Iterable[tuple[tuple, Compute]], *, store: Store, keep: int) -> None:
    """Queue ``(key, compute)`` pairs, first first, for the background thread; what an earlier
    call queued in store ``name`` and this one does not name is dropped unless it has started."""
    work = [(k, c) for k, c in work if not cached(store, k)[0]]
    wanted = {k for k, _ in work}
    pool = _background_pool()
    with _lock:
        for (n, k), queued in list(_queued.items()):
            if n == name and k not in wanted and queued.cancel():
                del _queued[(n, k)]
        for key, compute in work:
            if (name, key) not in _queued:
                _queued[(name, key)] = pool.submit(_background, name, key, compute, store, keep)
