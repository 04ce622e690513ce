"""Candidates trained per second by NALURegressor for several ``n_jobs``.

One search that is not stopped early (``early_stopping=False``, default
settings otherwise) on a law with a function, ``x1*sin(x0) + x2``, 1,000 rows
with inputs U(1, 5), ``random_state=0``, fitted once per ``n_jobs`` in this
process. The workers are started (and have imported ``nalu_sr``) before the
clock starts, so that the table measures the search, not the start-up of
worker processes, which is timed on its own. Candidates per second is the
number of training runs (``n_iter_``, each with its snapping and extraction)
over the fit's wall time, the closed-form candidates and the function search
(which runs in this process) included. Prints a markdown table and writes it
with the command, machine, date and load to ``<output>/parallel.md``.

Run: ``python -m benchmarks run parallel [--n-jobs 1 2] [--repeats 1]
[--output DIR]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np

if not __package__:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import markdown_table, report_header, write_report
from nalu_sr import NALURegressor

DESCRIPTION = "candidates trained per second for n_jobs 1 and 2 on one search"

LAW = "x1*sin(x0) + x2"
N_ROWS = 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the parallel suite."""
    parser.add_argument(
        "--n-jobs", type=int, nargs="+", default=[1, 2], metavar="N",
        help="values of NALURegressor's n_jobs to time (1 2)",
    )  # fmt: skip
    parser.add_argument(
        "--repeats", type=int, default=1, help="fits per n_jobs, alternated (1)"
    )


def _data() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).uniform(1, 5, size=(N_ROWS, 3))
    return X, X[:, 1] * np.sin(X[:, 0]) + X[:, 2]


def _import_nalu_sr() -> int:
    import nalu_sr.search_jobs  # noqa: F401 - what a worker's first job imports

    return os.getpid()


def start_workers(n_jobs: int) -> float:
    """Start joblib's workers for ``n_jobs`` and return the seconds it took."""
    started = time.perf_counter()
    joblib.Parallel(n_jobs=n_jobs)(
        joblib.delayed(_import_nalu_sr)() for _ in range(2 * n_jobs)
    )
    return time.perf_counter() - started


def time_fit(n_jobs: int) -> dict[str, Any]:
    """Fit the benchmark's search with ``n_jobs`` workers; return its measures."""
    X, y = _data()
    load = os.getloadavg()[0]
    model = NALURegressor(early_stopping=False, random_state=0, n_jobs=n_jobs)
    started = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - started
    return {
        "n_jobs": n_jobs,
        "runs": model.n_iter_,
        "seconds": seconds,
        "per_second": model.n_iter_ / seconds,
        "formula": str(model.expression_),
        "load": load,
    }


def _table(rows: list[dict[str, Any]], startup: dict[int, float]) -> str:
    base = rows[0]["per_second"]
    formula = rows[0]["formula"]
    return markdown_table(
        [
            "n_jobs", "training runs", "fit seconds", "candidates per second",
            "speed-up", "same formula", "worker start-up (s)", "load (1 min)",
        ],
        [
            (
                row["n_jobs"], row["runs"], row["seconds"], row["per_second"],
                row["per_second"] / base, "yes" if row["formula"] == formula
                else "no", startup[row["n_jobs"]], row["load"],
            )
            for row in rows
        ],
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Time the search for each ``n_jobs``, then print and write the report."""
    startup = {n: start_workers(n) for n in args.n_jobs}
    rows = []
    for _ in range(args.repeats):
        for n_jobs in args.n_jobs:
            start_workers(n_jobs)  # the pool of another n_jobs may have replaced it
            rows.append(time_fit(n_jobs))
            print(rows[-1], file=sys.stderr, flush=True)
    table = _table(rows, startup)
    print(table)
    protocol = (
        f"- Protocol: `{LAW}`, {N_ROWS} rows, inputs U(1, 5), "
        "`NALURegressor(early_stopping=False, random_state=0, n_jobs=N)`; "
        "candidates per second = training runs / fit wall time; workers "
        "started before timing (start-up timed apart). Formula of the first "
        f"row: `{rows[0]['formula']}`.\n\n"
    )
    header = report_header("Parallel candidate training (n_jobs)") + protocol
    write_report(Path(args.output) / "parallel.md", header + table)
    return 0


if __name__ == "__main__":
    from benchmarks.__main__ import main

    sys.exit(main(["run", "parallel", *sys.argv[1:]]))
