"""Wall-clock limits for code that may run too long (a fit, ``sympy.simplify``).

A limit is a ``SIGALRM`` timer, which interrupts Python code between bytecodes
(C code such as a compiled fit loop is interrupted when it returns to Python).
Timers work in the main thread of a process, which includes joblib's loky
workers; elsewhere (another thread, Windows) the block runs without a limit.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class TimeLimitExceeded(BaseException):
    """Raised inside a :func:`time_limit` block when its time is up.

    A ``BaseException``, so that a tool's own ``except Exception`` clauses
    cannot swallow it.
    """


def limits_supported() -> bool:
    """Whether :func:`time_limit` can interrupt code here."""
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` if the block runs longer than ``seconds``.

    ``None`` or a non-positive value means no limit. An enclosing limit stays
    in force: the inner timer never outlasts it and it is re-armed afterwards.
    """
    if seconds is None or seconds <= 0 or not limits_supported():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeLimitExceeded(f"time limit of {seconds:g} s exceeded")

    previous = signal.signal(signal.SIGALRM, expire)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    if outer and outer < seconds:
        signal.setitimer(signal.ITIMER_REAL, outer)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            left = outer - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))
