"""Candidates trained per second for ``n_jobs`` and ``restart_batch``.

One search that is not stopped early (``early_stopping=False``,
``n_restarts=16``, default settings otherwise) on a law with a function,
``x1*sin(x0) + x2``, 1,000 rows with inputs U(1, 5), ``random_state=0``,
fitted once per pair of ``n_jobs`` and ``restart_batch`` (restarts trained
as one batched model) in this process. The workers are started (and have
imported ``nalu_sr``) before the clock starts, so that the table measures
the search, not the start-up of worker processes, which is timed on its
own. Candidates per second is the number of training runs (``n_iter_``,
each with its snapping and extraction) over the fit's wall time, the
closed-form candidates and the function search (which runs in this
process) included. Prints a markdown table and writes it with the command,
machine, date and load to ``<output>/parallel.md``.

Run: ``python -m benchmarks run parallel [--n-jobs 1 2]
[--restart-batch 1 4 16] [--restarts 16] [--repeats 1] [--output DIR]``.
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

DESCRIPTION = (
    "candidates trained per second for n_jobs 1 and 2 and batched restarts 1/4/16"
)

LAW = "x1*sin(x0) + x2"
N_ROWS = 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the parallel suite."""
    parser.add_argument(
        "--n-jobs", type=int, nargs="+", default=[1, 2], metavar="N",
        help="values of NALURegressor's n_jobs to time (1 2)",
    )  # fmt: skip
    parser.add_argument(
        "--restart-batch", type=int, nargs="+", default=[1, 4, 16], metavar="B",
        help="values of NALURegressor's restart_batch to time (1 4 16)",
    )  # fmt: skip
    parser.add_argument(
        "--restarts", type=int, default=16, help="n_restarts of the search (16)"
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="fits per setting, alternated (1)"
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


def time_fit(
    n_jobs: int, restart_batch: int = 1, n_restarts: int = 16
) -> dict[str, Any]:
    """Fit the benchmark's search with ``n_jobs`` workers; return its measures."""
    X, y = _data()
    load = os.getloadavg()[0]
    model = NALURegressor(
        early_stopping=False,
        n_restarts=n_restarts,
        restart_batch=restart_batch,
        random_state=0,
        n_jobs=n_jobs,
    )
    started = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - started
    return {
        "n_jobs": n_jobs,
        "restart_batch": restart_batch,
        "runs": model.n_iter_,
        "seconds": seconds,
        "per_second": model.n_iter_ / seconds,
        "formula": str(model.expression_),
        "load": load,
    }


def _table(rows: list[dict[str, Any]], startup: dict[int, float]) -> str:
    """One line per fit; speed-up against the first fit, formula against the
    first fit with the same ``restart_batch`` (batching changes the rounding)."""
    base = rows[0]["per_second"]
    formulas: dict[int, str] = {}
    for row in rows:
        formulas.setdefault(row["restart_batch"], row["formula"])
    return markdown_table(
        [
            "n_jobs", "restart_batch", "training runs", "fit seconds",
            "candidates per second", "speed-up", "same formula",
            "worker start-up (s)", "load (1 min)",
        ],
        [
            (
                row["n_jobs"], row["restart_batch"], row["runs"], row["seconds"],
                row["per_second"], row["per_second"] / base,
                "yes" if row["formula"] == formulas[row["restart_batch"]]
                else "no", startup[row["n_jobs"]], row["load"],
            )
            for row in rows
        ],
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Time the search for each ``n_jobs``, then print and write the report."""
    startup = {n: start_workers(n) for n in args.n_jobs}
    rows = []
    settings = [(n, b) for b in args.restart_batch for n in args.n_jobs]
    for _ in range(args.repeats):
        for n_jobs, restart_batch in settings:
            start_workers(n_jobs)  # the pool of another n_jobs may have replaced it
            rows.append(time_fit(n_jobs, restart_batch, args.restarts))
            print(rows[-1], file=sys.stderr, flush=True)
    table = _table(rows, startup)
    print(table)
    protocol = (
        f"- Protocol: `{LAW}`, {N_ROWS} rows, inputs U(1, 5), "
        f"`NALURegressor(early_stopping=False, n_restarts={args.restarts}, "
        "restart_batch=B, random_state=0, n_jobs=N)`; "
        "candidates per second = training runs / fit wall time; workers "
        "started before timing (start-up timed apart). Formula of the first "
        f"row: `{rows[0]['formula']}`.\n\n"
    )
    title = "Parallel candidate training (n_jobs, restart_batch)"
    header = report_header(title) + protocol
    write_report(Path(args.output) / "parallel.md", header + table)
    return 0


if __name__ == "__main__":
    from benchmarks.__main__ import main

    sys.exit(main(["run", "parallel", *sys.argv[1:]]))
