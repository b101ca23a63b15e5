"""Long computations off the script thread: a progress bar with the time left, Cancel, a
question before anything long, and results kept by their inputs.

Why a thread of its own: while a Streamlit script computes, a click inside a fragment waits
for the run to end (Streamlit queues fragment reruns behind a running script) and a click
elsewhere stops the run, losing the work. A job runs beside the script; the page shows it
with ``watch``, a fragment that redraws every second, so the page's other controls keep
working and Cancel stops the job at its next progress report (within a second: jobs report
at every step of a few tens of ms).

Jobs are shared by every session, keyed by their inputs like st.cache_data: a second session
asking for the same result joins the running job, and the ``KEEP`` most recent results are
kept for later reruns. The computation must not call Streamlit (it has no script run).

At most ``MAX_RUNNING`` jobs compute at once (one per core): with a class on one server, the
next ones wait their turn and say so ("queued: 2 ahead") instead of slowing every session's
sliders; Cancel works while queued too. A job's thread (and a diffusion job's workers) runs
at a lower priority than the sessions' reruns, so a running job takes the cores only when
they are free.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import streamlit as st

from genlab.families.ddpm import lower_priority
from genlab_ui import state

ASK_ABOVE_S = 20.0  # an action estimated to take longer asks first
MAX_RUNNING = 2  # jobs computing at once, server-wide (this machine has two cores)
KEEP = 12  # finished jobs kept per server process (a DDPM run of 16 images: ~4 MB)

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside a job's computation at its next report once Cancel was pressed."""


@dataclass(eq=False)
class Job:
    """One computation: its progress while it runs, then its result or what stopped it."""

    key: tuple
    label: str  # what runs, for the progress bar: "DDPM-1000, 8 images"
    estimate_s: float | None = None  # the expected duration, until progress tells better
    started: float = field(default_factory=time.perf_counter)
    fraction: float = 0.0  # done, 0..1
    note: str = ""  # where it is: "step 340 of 1,000"
    result: Any = None
    partial: Any = None  # what the computation has so far, for a live view (``report(partial=…)``)
    error: str | None = None  # "cancelled" or the exception
    ended: float | None = None
    queued: bool = True  # waiting for one of the MAX_RUNNING slots
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    def report(self, fraction: float, note: str = "", partial: Any = None) -> None:
        """Progress, from inside the computation; raises Cancelled once Cancel was pressed.
        ``partial``: the result so far, which a live view shows while the job runs."""
        if self._cancel.is_set():
            raise Cancelled
        self.fraction, self.note = min(max(float(fraction), 0.0), 1.0), note
        if partial is not None:
            self.partial = partial

    @property
    def cancelling(self) -> bool:
        """Cancel was pressed (a computation that keeps what it has checks this at its end)."""
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def state(self) -> str:
        """"running", "done", "cancelled" or "failed"."""
        if self.ended is None:
            return "running"
        return "done" if self.error is None else "cancelled" if self.error == "cancelled" else "failed"

    def seconds(self) -> float:
        """Time since the start (to the end, once ended)."""
        return (self.ended or time.perf_counter()) - self.started

    def remaining_s(self) -> float | None:
        """Seconds left: from the progress so far once it says enough, else from the estimate."""
        if self.queued and self.ended is None:
            return None  # its turn has not come: the note says how many are ahead
        elapsed = self.seconds()
        if self.fraction >= 0.05 or (self.fraction > 0 and self.estimate_s is None):
            return elapsed * (1 - self.fraction) / self.fraction
        return None if self.estimate_s is None else max(self.estimate_s - elapsed, 0.0)


@st.cache_resource(show_spinner=False)
def _registry() -> tuple[OrderedDict, threading.Lock]:
    return OrderedDict(), threading.Lock()


def get(key: tuple) -> Job | None:
    """The job for these inputs (running or ended), or None."""
    jobs, lock = _registry()
    with lock:
        return jobs.get(key)


def start(key: tuple, label: str, compute: Callable[[Job], Any], *,
          estimate_s: float | None = None) -> Job:
    """Run ``compute(job)`` in a thread (it calls ``job.report`` as it goes) unless a job with
    this key is running or done already: that one is returned. Cancelled or failed jobs run
    again."""
    jobs, lock = _registry()
    with lock:
        job = jobs.get(key)
        if job is not None and job.state in ("running", "done"):
            jobs.move_to_end(key)
            return job
        job = jobs[key] = Job(key, label, estimate_s)
        ended = [k for k, j in jobs.items() if j.state != "running"]
        for k in ended[:max(0, len(ended) - KEEP)]:
            del jobs[k]
    threading.Thread(target=_run, args=(job, compute, _slots(), jobs, lock), name="genlab-job", daemon=True).start()
    return job


@st.cache_resource(show_spinner=False)
def _slots() -> threading.Semaphore:
    return threading.Semaphore(MAX_RUNNING)


def queue_note(job: Job, jobs: OrderedDict, lock: threading.Lock) -> str:
    """Where a waiting job stands: the jobs computing, and those waiting since before it."""
    with lock:
        live = [j for j in jobs.values() if j.ended is None]
    running = sum(1 for j in live if not j.queued)
    waiting = sum(1 for j in live if j.queued and j.started < job.started)
    return (f"queued behind {running} running job{'s' * (running != 1)}"
            + (f" and {waiting} waiting" if waiting else "") + f" (at most {MAX_RUNNING} run at once)")


def _run(job: Job, compute: Callable[[Job], Any], slots: threading.Semaphore, jobs: OrderedDict,
         lock: threading.Lock) -> None:
    try:
        while not slots.acquire(timeout=0.1):  # wait for a free slot; Cancel works meanwhile
            job.note = queue_note(job, jobs, lock)
            if job._cancel.is_set():
                raise Cancelled
    except Cancelled:
        job.error, job.ended = "cancelled", time.perf_counter()
        return
    job.queued, job.note = False, ""
    lower_priority()  # the sessions' reruns get the cores first
    try:
        job.result = compute(job)
        job.fraction = 1.0
    except Cancelled:
        job.error = "cancelled"
    except Exception as exc:  # shown on the page, which keeps running
        log.exception("job %s failed", job.label)
        job.error = f"{type(exc).__name__}: {exc}"
    finally:
        job.ended = time.perf_counter()
        slots.release()


def wait_all(timeout: float = 600.0) -> list[Job]:
    """Block until every running job has ended, and return them (for tests and scripts;
    pages use ``watch``)."""
    jobs, lock = _registry()
    with lock:
        running = [job for job in jobs.values() if job.state == "running"]
    deadline = time.perf_counter() + timeout
    while any(job.state == "running" for job in running) and time.perf_counter() < deadline:
        time.sleep(0.05)
    return running


def duration(seconds: float) -> str:
    """"8 s", "1 min 05 s": a short duration for people."""
    seconds = max(0, round(seconds))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def watch(key: tuple, widget_key: str) -> None:
    """While the job for ``key`` runs: its progress bar with the time left and a Cancel button,
    redrawn every second. When it ends, the whole page reruns (and shows the result)."""
    _watch(key, widget_key)


@state.fragment(run_every=1.0)
def _watch(key: tuple, widget_key: str) -> None:
    job = get(key)
    left = None if job is None else job.remaining_s()
    if left is not None and left < 1.5 and job.state == "running":  # ends before the next redraw:
        deadline = time.perf_counter() + 2.0  # wait for it here rather than up to a second more
        while job.state == "running" and time.perf_counter() < deadline:
            time.sleep(0.05)
    if job is None or job.state != "running":
        st.rerun()  # the page shows what the job left
    text = f"{job.label}: {job.note or 'starting'}" + (f" · about {duration(left)} left" if left is not None else "")
    bar, stop = st.columns([8, 1], vertical_alignment="bottom")
    bar.progress(job.fraction, text=text)
    if stop.button("Cancel", key=f"{widget_key}.cancel", help="Stops it within a second"):
        job.cancel()
        st.rerun()


def kept_result(key: tuple, state_key: str, on_first: Callable[[Any], None] | None = None) -> Any:
    """The finished result for ``key``: kept in this session under ``state_key`` (it survives
    any rerun and the job store's eviction), else from its job, then kept; None while it is
    not done. ``on_first(result)`` runs once, when the result is first taken from the job."""
    kept = st.session_state.get(state_key)
    if kept is not None and kept[0] == key:
        return kept[1]
    job = get(key)
    if job is None or job.state != "done":
        return None
    st.session_state[state_key] = (key, job.result)
    if on_first is not None:
        on_first(job.result)
    return job.result


def ended_note(job: Job) -> str | None:
    """A line for a job that did not finish (cancelled or failed), else None."""
    if job.state == "cancelled":
        return f"{job.label}: cancelled after {duration(job.seconds())} ({job.note or 'at the start'})."
    if job.state == "failed":
        return f"{job.label} failed: {job.error}"
    return None
