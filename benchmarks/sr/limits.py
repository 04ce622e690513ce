"""Wall-clock limits for code that may run too long (a fit, ``sympy.simplify``).

A watchdog thread waits out the limit and then sends ``SIGUSR1`` to the main
thread, whose handler raises :class:`TimeLimitExceeded` there. Not
``SIGALRM``: tools use it themselves (FFX arms and cancels ``signal.alarm``
around each of its fits, which silently cancelled an alarm-based limit).
Python code is interrupted between bytecodes and in blocking calls such as
``sleep``; a long C call is interrupted when it returns to Python.

Limits work in the main thread of a process on POSIX systems, which includes
joblib's loky workers; elsewhere (another thread, Windows) the block runs
without a limit.
"""

from __future__ import annotations

import itertools
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_SIGNAL = getattr(signal, "SIGUSR1", None)
#: Limits whose block is still running (token -> seconds), and the expired ones.
_live: dict[int, float] = {}
_expired: set[int] = set()
_tokens = itertools.count()


class TimeLimitExceeded(BaseException):
    """Raised inside a :func:`time_limit` block when its time is up.

    A ``BaseException``, so that a tool's own ``except Exception`` clauses
    cannot swallow it.
    """


def limits_supported() -> bool:
    """Whether :func:`time_limit` can interrupt code here."""
    return (
        _SIGNAL is not None
        and hasattr(signal, "pthread_kill")
        and threading.current_thread() is threading.main_thread()
    )


def _on_signal(signum: int, frame: FrameType | None) -> None:
    # A signal for a block that has ended since is ignored.
    due = [token for token in _expired if token in _live]
    if due:
        _expired.difference_update(due)
        raise TimeLimitExceeded(f"time limit of {_live[due[0]]:g} s exceeded")


def _expire(token: int, main_thread: int) -> None:
    """Watchdog: mark the limit as expired and interrupt the main thread."""
    if token in _live:
        _expired.add(token)
        signal.pthread_kill(main_thread, _SIGNAL)  # type: ignore[arg-type]


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` if the block runs longer than ``seconds``.

    ``None`` or a non-positive value means no limit. Limits may be nested; each
    raises when its own time is up.
    """
    if seconds is None or seconds <= 0 or not limits_supported():
        yield
        return
    if signal.getsignal(_SIGNAL) is not _on_signal:  # type: ignore[arg-type]
        signal.signal(_SIGNAL, _on_signal)  # type: ignore[arg-type]
    token = next(_tokens)
    _live[token] = seconds
    watchdog = threading.Timer(seconds, _expire, (token, threading.get_ident()))
    watchdog.daemon = True
    watchdog.start()
    try:
        yield
    finally:
        _live.pop(token, None)
        _expired.discard(token)
        watchdog.cancel()
