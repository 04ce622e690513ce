"""One fit a process: fit a case, watch its time and memory, gather the results."""

from __future__ import annotations

import collections
import math
import multiprocessing
import resource
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.fuzz_fit.cases import Case
from benchmarks.fuzz_fit.data import make_data

#: A fit's process is killed this long past ``max_time`` after it started.
HARD_KILL_SLACK = 60.0
#: A process is killed when its resident memory passes this (keeps the machine).
RSS_KILL_MIB = 8192.0
REPO = Path(__file__).resolve().parents[2]


def _peak_mib() -> float:
    """Peak resident memory of this process, in MiB (``ru_maxrss`` is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _where(filename: str) -> str:
    """A frame's file, relative to the repository or to site-packages."""
    path = Path(filename)
    if "site-packages" in path.parts:
        return "/".join(path.parts[path.parts.index("site-packages") + 1 :])
    if path.is_relative_to(REPO):
        return str(path.relative_to(REPO))
    return filename


def describe_error(error: BaseException) -> dict[str, Any]:
    """An exception as plain data: type, message, innermost frames, traceback.

    Parameters
    ----------
    error : BaseException
        The exception, with its traceback.

    Returns
    -------
    dict
        ``error_type``, ``message`` (the first 500 characters), ``one_line``,
        ``frames`` (the six innermost, ``file:line in function``) and
        ``traceback`` (its last 80 lines).
    """
    message = str(error)
    frames = traceback.extract_tb(error.__traceback__)
    lines = "".join(traceback.format_exception(error)).splitlines()
    return {
        "error_type": type(error).__name__,
        "refusal": isinstance(error, (ValueError, TypeError)),
        "message": message[:500],
        "one_line": bool(message.strip()) and "\n" not in message.strip(),
        "frames": [f"{_where(f.filename)}:{f.lineno} in {f.name}" for f in frames[-6:]],
        "traceback": "\n".join(lines[-80:]),
    }


def fit_case(
    case: Case, max_time: float, on_start: Callable[[], None] | None = None
) -> dict[str, Any]:
    """Build the case's data, fit it and predict on it, here, in this process.

    Parameters
    ----------
    case : Case
        The case.
    max_time : float
        ``NALURegressor(max_time=...)``.
    on_start : callable, optional
        Called just before ``fit`` starts (the parent's clock starts there).

    Returns
    -------
    dict
        ``outcome`` (``fitted``, ``error``, ``predict-error`` or ``skipped``),
        ``fit_s``, ``peak_mib``, ``rows_used``, ``expression``, the warnings
        by category and, on an exception, :func:`describe_error`'s fields.
    """
    X, y = make_data(case)
    result: dict[str, Any] = {"index": case.index, "rows_used": len(y), "fit_s": 0.0}
    if len(y) == 0:
        return {**result, "outcome": "skipped", "peak_mib": _peak_mib()}
    from nalu_sr import NALURegressor

    model = NALURegressor(max_time=max_time, random_state=case.seed)
    result["rss_before_mib"] = _peak_mib()
    if on_start is not None:
        on_start()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        started = time.perf_counter()
        try:
            model.fit(X, y)
            result["outcome"] = "fitted"
        except Exception as error:
            result.update(outcome="error", **describe_error(error))
        result["fit_s"] = time.perf_counter() - started
        if result["outcome"] == "fitted":
            result.update(_predict(model, X, case))
    categories = collections.Counter(w.category.__name__ for w in caught)
    return {**result, "warnings": dict(categories), "peak_mib": _peak_mib()}


def _predict(model: Any, X: np.ndarray, case: Case) -> dict[str, Any]:
    """The fitted formula, its predictions and, when exact, a check on fresh rows."""
    found: dict[str, Any] = {"expression": str(model.expression_)[:300],
                             "exact": bool(model.exact_)}  # fmt: skip
    try:
        prediction = model.predict(X)
    except Exception as error:
        return {**found, "outcome": "predict-error", **describe_error(error)}
    found["nonfinite_predictions"] = int(np.sum(~np.isfinite(prediction)))
    if found["exact"]:
        found["fresh_error"] = fresh_error(model, case)
    return found


def fresh_error(model: Any, case: Case) -> float:
    """Relative RMS error of a fit on fresh noise-free rows of the case's law.

    Parameters
    ----------
    model : NALURegressor
        The fitted estimator.
    case : Case
        Its case; the fresh rows come from the same ranges and another seed.

    Returns
    -------
    float
        ``rms(predict - law) / rms(law)`` (``rms(law)`` taken as 1 when 0);
        infinity when a prediction is not finite.
    """
    fresh = replace(case, seed=case.seed + 1, noise=0.0, corrupt=None, n_rows=500)
    X, y = make_data(fresh)
    if len(y) == 0:
        return 0.0
    with np.errstate(all="ignore"):
        miss = model.predict(X) - y
        scale = float(np.sqrt(np.mean(y**2))) or 1.0
        error = float(np.sqrt(np.mean(miss**2))) / scale
    return error if math.isfinite(error) else math.inf


def _child(case: Case, max_time: float, connection: Connection) -> None:
    """The body of a fit's process: fit and send the result back."""
    try:
        result = fit_case(
            case, max_time, lambda: connection.send(("started", time.monotonic()))
        )
    except BaseException as error:  # a harness bug: report it, not a hang
        result = {"index": case.index, "outcome": "harness-error", "fit_s": 0.0,
                  "peak_mib": _peak_mib(), **describe_error(error)}  # fmt: skip
    connection.send(("done", result))
    connection.close()


@dataclass
class _Job:
    """A running fit's process, its pipe and what the parent has seen of it."""

    case: Case
    process: SpawnProcess
    connection: Connection
    spawned: float
    fit_started: float | None = None
    peak_mib: float = 0.0
    result: dict[str, Any] | None = None


def _proc_mib(pid: int | None, key: str) -> float:
    """``VmRSS`` or ``VmHWM`` of process ``pid`` from /proc, in MiB (0 if gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _start(context: Any, case: Case, max_time: float) -> _Job:
    """Spawn the process that fits ``case``."""
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(case, max_time, sender))
    process.start()
    sender.close()
    return _Job(case, process, receiver, time.monotonic())


def _drain(job: _Job) -> None:
    """Read what the process has sent: the fit's start, then its result."""
    try:
        while job.result is None and job.connection.poll():
            tag, payload = job.connection.recv()
            if tag == "started":
                job.fit_started = payload
            else:
                job.result = payload
    except (EOFError, OSError):
        pass


def _lost(job: _Job, outcome: str, message: str) -> dict[str, Any]:
    """The result of a process that was killed or died without a result."""
    now = time.monotonic()
    fit_s = now - job.fit_started if job.fit_started is not None else None
    return {"index": job.case.index, "outcome": outcome, "fit_s": fit_s,
            "peak_mib": job.peak_mib, "error_type": outcome, "message": message,
            "one_line": True, "refusal": False, "frames": []}  # fmt: skip


def _check(job: _Job, hard_limit: float) -> dict[str, Any] | None:
    """The job's result when it has ended (or is killed now); else None."""
    _drain(job)
    if job.result is None and not job.process.is_alive():
        _drain(job)  # it may have sent its result just before exiting
        if job.result is None:
            job.process.join()
            return _lost(job, "crashed", f"exit code {job.process.exitcode}")
    if job.result is not None:
        job.process.join(10)
        if job.process.is_alive():
            job.process.kill()
        return job.result
    job.peak_mib = max(job.peak_mib, _proc_mib(job.process.pid, "VmHWM"))
    elapsed = time.monotonic() - job.spawned
    over_memory = _proc_mib(job.process.pid, "VmRSS") > RSS_KILL_MIB
    if elapsed <= hard_limit and not over_memory:
        return None
    job.process.kill()
    job.process.join()
    if over_memory:
        return _lost(job, "memory-killed", f"killed at {RSS_KILL_MIB:.0f} MiB")
    return _lost(job, "killed", f"killed {elapsed:.1f} s after it started")


def run_cases(
    cases: Iterable[Case],
    max_time: float,
    jobs: int = 1,
    hard_limit: float | None = None,
    on_result: Callable[[Case, dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Fit every case in its own spawned process, ``jobs`` at a time.

    Parameters
    ----------
    cases : iterable of Case
        The cases.
    max_time : float
        ``NALURegressor(max_time=...)``.
    jobs : int, default=1
        Processes at once.
    hard_limit : float, optional
        Seconds after which a process is killed; ``max_time + 60`` by default.
    on_result : callable, optional
        Called with each case and its result as it ends.

    Returns
    -------
    list of dict
        The results, in the order of the cases (whose indices must differ);
        after Ctrl-C or SIGTERM, of the cases that had finished.
    """
    context = multiprocessing.get_context("spawn")
    limit = max_time + HARD_KILL_SLACK if hard_limit is None else hard_limit
    order = list(cases)
    waiting, running = order[::-1], list[_Job]()
    results: dict[int, dict[str, Any]] = {}
    try:
        while waiting or running:
            while waiting and len(running) < max(1, jobs):
                running.append(_start(context, waiting.pop(), max_time))
            handles = [j.connection for j in running]
            wait(handles + [j.process.sentinel for j in running], timeout=0.25)
            for job in list(running):
                result = _check(job, limit)
                if result is not None:
                    running.remove(job)
                    job.connection.close()
                    results[job.case.index] = result
                    if on_result is not None:
                        on_result(job.case, result)
    except KeyboardInterrupt:  # stop: keep what has finished
        print("interrupted: reporting the finished cases", file=sys.stderr)
        for job in running:
            job.process.kill()
            job.process.join()
    return [results[case.index] for case in order if case.index in results]
