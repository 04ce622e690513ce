"""Shared plumbing for the benchmark suites: reports, result files, progress, jobs.

Every suite writes its raw rows to a CSV file through :class:`ResultStore`
(which makes runs resumable: finished rows are skipped on the next run) and its
tables to a markdown report that starts with :func:`report_header`.
"""

from __future__ import annotations

import csv
import datetime
import math
import os
import platform
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Default folder for results (CSV files, plots, reports); git-ignored.
RESULTS_DIR = Path(__file__).resolve().parent / "results"
#: The public benchmark data (read-only), when a ``shared/benchmarks`` folder sits
#: beside the repository's; the only path outside the repository that anything
#: reads, and optional: what needs it skips or says so when it is absent.
SHARED_BENCHMARKS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"


def shared_benchmarks_dir() -> Path:
    """Folder of the shared benchmark data (``NALU_SR_BENCHMARK_DATA`` overrides)."""
    override = os.environ.get("NALU_SR_BENCHMARK_DATA")
    return Path(override) if override else SHARED_BENCHMARKS


def machine_description() -> str:
    """One line naming the CPU, core count, Python, torch and OS."""
    import torch

    cpu = platform.processor() or platform.machine()
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}, {platform.system()} {platform.release()}"
    )


def command_line() -> str:
    """The command that started this process, as a user would retype it."""
    program, *arguments = sys.argv or [""]
    if program.endswith("__main__.py"):
        prefix = "python -m benchmarks"
    else:
        prefix = "python " + shlex.quote(program)
    return " ".join([prefix, *(shlex.quote(arg) for arg in arguments)])


def report_header(title: str, command: str | None = None) -> str:
    """Markdown header with the title, the command, the machine and the date."""
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"# {title}\n\n"
        f"- Command: `{command or command_line()}`\n"
        f"- Machine: {machine_description()}\n"
        f"- Date: {when}\n"
    )


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub markdown table; floats are printed with 3 significant digits."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]
    for row in rows:
        lines.append("| " + " | ".join(format_cell(value) for value in row) + " |")
    return "\n".join(lines) + "\n"


def format_cell(value: Any) -> str:
    """Format one table cell: floats to 3 significant digits, None as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value).replace("|", "\\|")


def wilson_interval(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95% by default).

    Returns ``(low, high)`` as fractions; ``(0, 1)`` when ``total`` is 0.
    """
    if total == 0:
        return 0.0, 1.0
    p = successes / total
    denominator = 1 + z**2 / total
    centre = (p + z**2 / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def format_rate(successes: int, total: int) -> str:
    """``"85% (72–93)"``: a success rate with its 95% Wilson interval, in percent."""
    low, high = wilson_interval(successes, total)
    rate = 100 * successes / total if total else float("nan")
    return f"{rate:.0f}% ({100 * low:.0f}–{100 * high:.0f})"


class ResultStore:
    """Append-only CSV of result rows, keyed so that finished work is skipped.

    Parameters
    ----------
    path : Path
        The CSV file; created with a header on the first append.
    key_fields : sequence of str
        The columns that identify one unit of work (for example suite, tool,
        problem, noise and seed). Keys are compared as strings.
    """

    def __init__(self, path: Path, key_fields: Sequence[str]) -> None:
        self.path = Path(path)
        self.key_fields = tuple(key_fields)
        self._rows: list[dict[str, str]] = []
        if self.path.exists():
            with self.path.open(newline="") as handle:
                self._rows = list(csv.DictReader(handle))
        self._done = {self._key(row) for row in self._rows}

    def _key(self, row: dict[str, Any]) -> tuple[str, ...]:
        return tuple(str(row.get(field, "")) for field in self.key_fields)

    def is_done(self, key: dict[str, Any]) -> bool:
        """Whether a row with these key fields is already stored."""
        return self._key(key) in self._done

    def append(self, row: dict[str, Any]) -> None:
        """Write one row (flushed at once, so an interrupted run loses nothing)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fields = list(self._rows[0]) if self._rows else list(row)
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerow(row)
        stored = {field: str(row.get(field, "")) for field in fields}
        self._rows.append(stored)
        self._done.add(self._key(stored))

    def rows(self) -> list[dict[str, str]]:
        """All stored rows, as strings (parse numbers where you use them)."""
        return list(self._rows)


def progress(iterable: Iterable[Any], total: int, description: str) -> Iterator[Any]:
    """Wrap an iterable in a progress bar on stderr (tqdm when installed).

    Quiet when stderr is not a terminal, so logs and CI output stay clean.
    """
    if not sys.stderr.isatty():
        yield from iterable
        return
    try:
        from tqdm import tqdm
    except ImportError:
        for done, item in enumerate(iterable, start=1):
            print(f"\r{description}: {done}/{total}", end="", file=sys.stderr)
            yield item
        print(file=sys.stderr)
        return
    yield from tqdm(iterable, total=total, desc=description, unit="run")


def parallel_map(
    function: Callable[[Any], Any], tasks: Sequence[Any], jobs: int
) -> Iterator[Any]:
    """Apply ``function`` to every task, in ``jobs`` processes, yielding as they end.

    With ``jobs`` 0 or 1 everything runs in this process, in order (easy to
    debug and to profile). Results arrive in completion order otherwise.
    ``jobs == -1`` means every core, or every worker of the dask cluster inside
    :func:`dask_scheduler`.
    """
    if 0 <= jobs <= 1:
        for task in tasks:
            yield function(task)
        return
    from joblib import Parallel, delayed

    runner = Parallel(n_jobs=jobs, return_as="generator_unordered")
    yield from runner(delayed(function)(task) for task in tasks)


@contextmanager
def dask_scheduler(address: str | None) -> Iterator[None]:
    """Send :func:`parallel_map`'s tasks to the dask scheduler at ``address``.

    A :class:`distributed.Client` connects to it and joblib's dask backend
    is configured for the block; ``None`` changes nothing. The workers must be
    able to import ``benchmarks`` and ``nalu_sr`` (start them from the
    repository root, or with it on ``PYTHONPATH``).
    """
    if address is None:
        yield
        return
    try:
        from distributed import Client
    except ImportError as error:
        raise SystemExit(
            '--scheduler needs dask.distributed: pip install "nalu-sr[dask]"'
        ) from error
    from joblib import parallel_config

    with Client(address), parallel_config(backend="dask"):
        yield


def write_report(path: Path, text: str) -> None:
    """Write a markdown report, creating its folder, and say where it went."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}", file=sys.stderr)
