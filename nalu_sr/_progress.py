"""What ``fit`` shows while it searches: a progress line, and per-run lines.

The search reports a :class:`~nalu_sr.search.RunEvent` after each training
run; :class:`SearchProgress` turns those events into output. The progress
line is redrawn in place on stderr, so it is only drawn where stderr is a
terminal (a log file would fill with partial lines), and only once the fit
has run for :data:`DRAW_DELAY` seconds (a fast fit shows nothing).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from nalu_sr.search import RunEvent

#: Seconds a fit runs before the progress line first appears.
DRAW_DELAY = 1.0
#: Characters of the bar between the brackets.
BAR_WIDTH = 16


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal (``False`` if unsure)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def format_status(n_done: int, n_planned: int, best_loss: float, elapsed: float) -> str:
    """Write the progress line: a bar, runs done/planned, best loss, time.

    Parameters
    ----------
    n_done, n_planned : int
        Training runs finished, and finished plus queued.
    best_loss : float
        Lowest relative validation error so far.
    elapsed : float
        Seconds since the search started.

    Returns
    -------
    str
        One line, without a line break.

    Examples
    --------
    >>> format_status(3, 12, 0.00123, 4.25)
    '[####------------] 3/12 runs, best validation loss 0.00123, 4.2 s'
    """
    filled = BAR_WIDTH * n_done // n_planned if n_planned else BAR_WIDTH
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    return (
        f"[{bar}] {n_done}/{n_planned} runs, "
        f"best validation loss {best_loss:.3g}, {elapsed:.1f} s"
    )


def format_run(event: RunEvent) -> str:
    """Write one line about a finished run (``verbose >= 2``).

    Parameters
    ----------
    event : RunEvent
        The run's report.

    Returns
    -------
    str
        The family, width and seed of the run, and its formula and
        validation loss, or why it has none.
    """
    entry = event.entry
    run = f"{entry.architecture} width={entry.width} seed={entry.seed}"
    if event.diverged:
        return f"{run}: diverged (loss not finite), replaced by a new seed"
    if event.candidate is None:
        return f"{run}: no usable formula"
    candidate = event.candidate
    return (
        f"{run}: validation loss {candidate.validation_loss:.3g}, "
        f"{candidate.expression}"
    )


class SearchProgress:
    """The search callback of ``fit``: a progress line and per-run lines.

    Parameters
    ----------
    verbose : int
        0: silent; 1: the progress line, where ``stream`` is a terminal;
        2 or more: also one line per training run on ``out``.
    stream : file-like or None, default=None
        Where the progress line goes; ``None`` means ``sys.stderr`` (read at
        construction, so redirections in force then are honoured).
    out : file-like or None, default=None
        Where per-run lines go; ``None`` means ``sys.stdout``.
    clock : callable, default=time.monotonic
        Returns the time in seconds.
    delay : float or None, default=None
        Seconds before the line is first drawn; ``None`` means
        :data:`DRAW_DELAY`.

    Examples
    --------
    >>> import io
    >>> with SearchProgress(verbose=1, stream=io.StringIO()) as progress:
    ...     progress.drawing
    False
    """

    def __init__(
        self,
        verbose: int,
        stream: TextIO | None = None,
        out: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        delay: float | None = None,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.out = sys.stdout if out is None else out
        self.verbose = verbose
        self.drawing = verbose >= 1 and is_terminal(self.stream)
        self._clock = clock
        self._delay = DRAW_DELAY if delay is None else delay
        self._started = clock()
        self._shown = 0  # characters of the line now on the terminal

    def __call__(self, event: RunEvent) -> None:
        """Report one finished run."""
        if self.verbose >= 2:
            self._clear()
            print(format_run(event), file=self.out, flush=True)
        if self.drawing and self._clock() - self._started >= self._delay:
            self._draw(event)

    def close(self) -> None:
        """End the line, if it was drawn, so that later output starts below it."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = 0

    def __enter__(self) -> SearchProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _draw(self, event: RunEvent) -> None:
        """Redraw the line in place, blanking what is left of a longer one."""
        elapsed = self._clock() - self._started
        line = format_status(event.n_done, event.n_planned, event.best_loss, elapsed)
        self.stream.write("\r" + line.ljust(self._shown))
        self.stream.flush()
        self._shown = len(line)

    def _clear(self) -> None:
        """Blank the line, so that a message printed next starts on a clean one.

        Stdout and stderr usually share the terminal: without this, a per-run
        line would be appended to the progress line.
        """
        if self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0
