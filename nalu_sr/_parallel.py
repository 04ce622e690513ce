"""Run a search's jobs on joblib workers: local processes or a dask cluster.

:class:`Workers` keeps one :class:`joblib.Parallel` open for a whole search,
so that ``joblib.parallel_config(backend="dask")`` (or any other backend)
chooses where the jobs run, and turns the loss of a worker or of a cluster
into one :class:`WorkersLostError`. The deadline helpers carry a
:func:`time.perf_counter` deadline to another process or machine, where that
clock means something else, as a wall-clock time.
"""

from __future__ import annotations

import multiprocessing
import time
import warnings
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import BrokenExecutor, CancelledError
from types import TracebackType
from typing import Any

import joblib
import torch

from nalu_sr.exceptions import NaluSRError

#: What joblib raises when a worker process dies or a cluster goes away:
#: loky's ``TerminatedWorkerError`` is a ``BrokenExecutor``; dask raises
#: ``CancelledError`` for lost tasks and an ``OSError`` (``CommClosedError``)
#: or a ``TimeoutError`` for a scheduler that no longer answers; joblib's own
#: ``timeout`` (see :class:`Workers`) raises :class:`multiprocessing.TimeoutError`.
LOST_WORKER_ERRORS: tuple[type[BaseException], ...] = (
    BrokenExecutor,
    CancelledError,
    OSError,
    TimeoutError,
    multiprocessing.TimeoutError,
)

#: What dispatching jobs may raise when the workers are gone: a dask client
#: whose cluster has closed fails to count its workers with an AttributeError.
DISPATCH_ERRORS: tuple[type[BaseException], ...] = (
    *LOST_WORKER_ERRORS,
    AttributeError,
)


class WorkersLostError(NaluSRError, RuntimeError):
    """A worker died or the cluster went away while the search ran jobs on it."""


class Workers:
    """A pool of joblib workers kept for one search (a context manager).

    Parameters
    ----------
    n_jobs : int or None
        scikit-learn's convention: ``None`` means 1 unless a
        :func:`joblib.parallel_config` context says otherwise, ``-1`` means
        every core (or every worker of the configured backend).
    timeout : float or None, default=None
        Seconds to wait for any one result before the workers count as lost
        (workers that never start, a cluster without workers); ``None``
        waits. Jobs in this process (one job at a time) are not timed.

    Attributes
    ----------
    size : int
        How many jobs run at once.

    Raises
    ------
    WorkersLostError
        When the backend has no workers to offer (dask waits for them for
        ``wait_for_workers_timeout`` seconds, 10 by default) or its cluster
        is gone.
    """

    def __init__(self, n_jobs: int | None, timeout: float | None = None) -> None:
        try:
            self.size = max(1, int(joblib.effective_n_jobs(n_jobs)))
        except Exception as error:
            # n_jobs itself was checked before the fit: this is the backend
            # failing (dask: no workers, or a closed cluster's AttributeError).
            raise _lost(error) from error
        # joblib's sequential backend cannot time its jobs (and warns).
        timed = timeout if self.size > 1 else None
        self._parallel = joblib.Parallel(
            n_jobs=n_jobs, return_as="generator", timeout=timed
        )
        self._timeout = timed

    def __enter__(self) -> Workers:
        self._parallel.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self._parallel.__exit__(kind, value, traceback)
        except LOST_WORKER_ERRORS:
            pass  # closing a pool whose workers are gone; the search already knows

    def map(
        self, function: Callable[..., Any], calls: Sequence[tuple[Any, ...]]
    ) -> Generator[Any, None, None]:
        """Start ``function(*args)`` for each ``args`` of ``calls``; yield in order.

        The first jobs start at once, before the first result is asked for,
        so that this process can do other work meanwhile.

        Raises
        ------
        WorkersLostError
            When a worker dies or the cluster goes away; the message names the
            cause in one line.
        """
        if not calls:
            return _results(_no_outputs())
        try:
            outputs = self._parallel(joblib.delayed(function)(*args) for args in calls)
        except DISPATCH_ERRORS as error:
            raise _lost(error, self._timeout) from error
        return _results(outputs, self._timeout)


def _results(
    outputs: Generator[Any, None, None], timeout: float | None = None
) -> Generator[Any, None, None]:
    """Yield joblib's outputs, turning a lost worker into a WorkersLostError."""
    try:
        # Not ``yield from``: it would close ``outputs`` before the handler.
        for output in outputs:  # noqa: UP028
            yield output
    except GeneratorExit:
        # The caller stopped early (Ctrl-C in a callback): joblib cancels the
        # jobs still running and would warn about them.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "[0-9]+ tasks", UserWarning)
            outputs.close()
        raise
    except LOST_WORKER_ERRORS as error:
        raise _lost(error, timeout) from error


def _no_outputs() -> Generator[Any, None, None]:
    yield from ()


def _lost(error: BaseException, timeout: float | None = None) -> WorkersLostError:
    """One line naming what was lost, from joblib's, loky's or dask's error."""
    lines = str(error).strip().splitlines()
    cause = f": {lines[0]}" if lines else ""
    if (
        not lines
        and timeout is not None
        and isinstance(error, multiprocessing.TimeoutError)
    ):
        cause = f": no result within {timeout:g} s"
    return WorkersLostError(
        f"lost the search's workers ({type(error).__name__}{cause})"
    )


def wall_deadline(deadline: float | None) -> float | None:
    """Turn a :func:`time.perf_counter` deadline into a :func:`time.time` one."""
    if deadline is None:
        return None
    return time.time() + (deadline - time.perf_counter())


def local_deadline(deadline: float | None) -> float | None:
    """Turn a :func:`time.time` deadline into this process's ``perf_counter`` one."""
    if deadline is None:
        return None
    return time.perf_counter() + (deadline - time.time())


def use_one_thread() -> None:
    """Give torch one intra-op thread in this process (jobs run side by side).

    It is never restored: in a worker process it is the setting every job
    wants, and in the fitting process ``fit`` has already set it and restores
    it afterwards (threads of one process share the setting, so restoring it
    here could change it under a job running in another thread).
    """
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
