"""genlab_ui.loaders.torch_call: the pages' short computations on long-lived threads."""

import threading

import pytest
import torch

from genlab_ui import loaders


def test_torch_call_runs_on_a_reused_thread_with_one_torch_thread():
    def where():
        return threading.current_thread().name, torch.get_num_threads()

    seen = {loaders.torch_call(where) for _ in range(20)}
    assert all(name.startswith("genlab-torch") and threads == 1 for name, threads in seen)
    assert len({name for name, _ in seen}) <= 2  # the same two threads, not one per call


def test_torch_call_returns_results_raises_errors_and_nests_in_place():
    assert loaders.torch_call(lambda a, b=0: a + b, 2, b=3) == 5
    with pytest.raises(ValueError, match="bad"):
        loaders.torch_call(lambda: (_ for _ in ()).throw(ValueError("bad")))
    # a call from a torch thread runs where it is (two nested waits would hold both threads)
    outer = loaders.torch_call(lambda: (threading.current_thread().name,
                                        loaders.torch_call(lambda: threading.current_thread().name)))
    assert outer[0] == outer[1]

