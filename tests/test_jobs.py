"""#23: long jobs are shared, and at most ``MAX_RUNNING`` compute at once server-wide; the next
ones wait their turn, say where they stand, and can be cancelled while they wait."""

import threading
import time

import streamlit as st

from genlab_ui import jobs


def blocking(release: threading.Event):
    def compute(job: jobs.Job) -> str:
        while not release.is_set():
            job.report(0.5, "working")
            time.sleep(0.02)
        return "done"
    return compute


def until(condition, timeout: float = 5.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        assert time.perf_counter() < deadline, "timed out"
        time.sleep(0.02)


def test_a_third_long_job_waits_its_turn_and_says_so():
    st.cache_resource.clear()
    release = threading.Event()
    first = [jobs.start(("t", i), f"job {i}", blocking(release), estimate_s=30) for i in range(2)]
    until(lambda: all(not j.queued for j in first))
    third = jobs.start(("t", 2), "job 2", blocking(release), estimate_s=30)
    fourth = jobs.start(("t", 3), "job 3", blocking(release), estimate_s=30)
    until(lambda: fourth.note.startswith("queued"))
    assert third.queued and third.state == "running" and third.remaining_s() is None
    assert third.note == f"queued behind 2 running jobs (at most {jobs.MAX_RUNNING} run at once)"
    assert fourth.note == f"queued behind 2 running jobs and 1 waiting (at most {jobs.MAX_RUNNING} run at once)"
    assert jobs.start(("t", 2), "job 2", blocking(release)) is third  # the same inputs join it
    fourth.cancel()
    until(lambda: fourth.state == "cancelled", timeout=1.0)  # Cancel works while it waits
    release.set()
    until(lambda: all(j.state == "done" for j in [*first, third]))
    assert third.result == "done" and not third.queued
    st.cache_resource.clear()


def test_jobs_and_their_denoisers_run_at_a_lower_priority_than_sessions():
    import os

    import torch

    from genlab.families import ddpm

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    st.cache_resource.clear()
    mine = niceness()
    job = jobs.start(("nice",), "nice", lambda job: niceness())
    until(lambda: job.state == "done")
    assert job.result == ddpm.BACKGROUND_NICE > mine  # the job's thread
    seen = {}

    class Probe(torch.nn.Module):
        config = None

        def forward(self, x, t):
            seen.setdefault(threading.current_thread().name.startswith("genlab-denoise-bg"), set()).add(niceness())
            return x

    x, t = torch.zeros(4, 1, 28, 28), torch.zeros(4)
    ddpm.FastDenoiser(Probe(), bf16=False)(x, t)
    ddpm.FastDenoiser(Probe(), bf16=False, background=True)(x, t)
    assert seen == {False: {mine}, True: {ddpm.BACKGROUND_NICE}}  # sessions' workers, jobs' workers
    assert niceness() == mine  # the calling thread is left as it was
