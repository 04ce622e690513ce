"""Workers and deadlines of nalu_sr._parallel."""

import os
import time

import pytest
import torch

from nalu_sr._parallel import (
    Workers,
    WorkersLostError,
    local_deadline,
    use_one_thread,
    wall_deadline,
)


def test_results_come_back_in_call_order():
    with Workers(1) as workers:
        assert workers.size == 1
        assert list(workers.map(pow, [(2, 3), (3, 2), (5, 0)])) == [8, 9, 1]


def test_a_worker_that_dies_is_one_clear_error():
    with Workers(2) as workers, pytest.raises(WorkersLostError) as error:
        list(workers.map(os._exit, [(1,), (1,)]))
    message = str(error.value)
    assert message.startswith("lost the search's workers (TerminatedWorkerError: ")
    assert "\n" not in message


def test_workers_that_give_no_result_in_time_are_one_clear_error():
    started = time.perf_counter()
    with Workers(2, timeout=0.5) as workers, pytest.raises(WorkersLostError) as error:
        list(workers.map(time.sleep, [(30,), (0,)]))
    assert str(error.value) == (
        "lost the search's workers (TimeoutError: no result within 0.5 s)"
    )
    assert time.perf_counter() - started < 25  # the sleeping worker was stopped


def test_a_cluster_without_workers_is_one_clear_error(monkeypatch):
    def no_workers(n_jobs):
        raise TimeoutError("DaskDistributedBackend has no worker after 10 seconds.")

    monkeypatch.setattr("joblib.effective_n_jobs", no_workers)
    with pytest.raises(WorkersLostError) as error:
        Workers(2)
    assert str(error.value) == (
        "lost the search's workers (TimeoutError: "
        "DaskDistributedBackend has no worker after 10 seconds.)"
    )


def test_one_job_at_a_time_is_not_timed():
    with Workers(1, timeout=0.01) as workers:
        assert list(workers.map(time.sleep, [(0.05,)])) == [None]


def test_errors_of_the_job_itself_pass_through():
    with Workers(1) as workers, pytest.raises(ZeroDivisionError):
        list(workers.map(divmod, [(1, 0)]))


def test_deadlines_cross_clocks_and_come_back():
    assert wall_deadline(None) is None
    assert local_deadline(None) is None
    deadline = time.perf_counter() + 30.0
    wall = wall_deadline(deadline)
    assert wall is not None
    assert abs(wall - (time.time() + 30.0)) < 1.0
    back = local_deadline(wall)
    assert back is not None
    assert abs(back - deadline) < 1e-3


def test_use_one_thread_sets_one_thread():
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        use_one_thread()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(previous)
