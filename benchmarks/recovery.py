"""Exact-recovery benchmark of NALURegressor on the arithmetic suite.

For each formula and seed: 1,000 noise-free training rows with every input
drawn from U(1, 5); fit with default settings; count an exact recovery when
``sympy.simplify(found - truth) == 0`` after rounding the found formula's float
constants to 6 significant digits; measure R^2 on 1,000 rows drawn from
U(1, 21), a range five times wider. Stores one row per fit in
``<output>/<report>.csv`` (finished fits are skipped on the next run), prints
a markdown table and writes it with the command, machine and date to
``<output>/<report>.md``.

Run: ``python -m benchmarks run recovery [--seeds 10] [--jobs 2] [--only NAME ...]
[--range LOW HIGH] [--report NAME] [--output DIR]``. ``python
benchmarks/recovery.py ARGS`` is the same command.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sympy

if not __package__:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    ResultStore,
    parallel_map,
    progress,
    report_header,
    write_report,
)
from benchmarks.sr.problems import ARITHMETIC_FORMULAS
from nalu_sr import NALURegressor

DESCRIPTION = "exact recovery of the arithmetic formulas by default NALURegressor fits"

N_ROWS = 1000
DEFAULT_SEEDS = 10
QUICK_SEEDS = 2
DEFAULT_RANGE = (1.0, 5.0)
#: Formulas with no real value on negative inputs, skipped for mixed-sign ranges.
POSITIVE_ONLY = {"sqrt(x0)"}
#: The arithmetic suite (shared with ``python -m benchmarks run arithmetic``).
SUITE = ARITHMETIC_FORMULAS
KEY_FIELDS = ("formula", "seed", "low", "high")
#: One fit: formula, seed and the training range.
Task = tuple[str, int, float, float]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the recovery suite."""
    parser.add_argument(
        "--seeds", type=int,
        help=f"seeds 0..N-1 ({DEFAULT_SEEDS}; quick {QUICK_SEEDS})",
    )  # fmt: skip
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these")
    parser.add_argument(
        "--range", nargs=2, type=float, default=DEFAULT_RANGE, metavar=("LOW", "HIGH"),
        help="training inputs U(LOW, HIGH) (1 5)",
    )  # fmt: skip
    parser.add_argument(
        "--report", default="recovery", metavar="NAME",
        help="file names <output>/NAME.md and NAME.csv (recovery)",
    )  # fmt: skip


def _sample(truth, symbols, low, high, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(low, high, size=(N_ROWS, len(symbols)))
    y = sympy.lambdify(symbols, truth, "numpy")(*X.T)
    frame = pd.DataFrame(X, columns=[str(s) for s in symbols])
    return frame, np.broadcast_to(np.asarray(y, dtype=float), (N_ROWS,))


def is_exact(found: sympy.Expr, truth: sympy.Expr) -> bool:
    """Exact recovery after rounding float constants to 6 significant digits."""
    rounded = found.xreplace({f: sympy.Float(f, 6) for f in found.atoms(sympy.Float)})
    rounded = sympy.nsimplify(rounded, [sympy.pi], rational=True)
    try:
        return sympy.simplify(rounded - truth) == 0
    except Exception:
        return False


def extrapolation_range(low: float, high: float) -> tuple[float, float]:
    """A range five times as wide: to the right of a positive range, else around 0."""
    if low >= 0:
        return low, low + 5 * (high - low)
    return 5 * low, 5 * high


def run_one(name: str, seed: int, low: float = 1.0, high: float = 5.0) -> dict:
    truth, symbols = SUITE[name]
    X, y = _sample(truth, symbols, low, high, seed)
    X_far, y_far = _sample(
        truth, symbols, *extrapolation_range(low, high), seed + 10_000
    )
    started = time.perf_counter()
    model = NALURegressor(random_state=seed).fit(X, y)
    seconds = time.perf_counter() - started
    return {
        "formula": name,
        "seed": seed,
        "low": low,
        "high": high,
        "exact": is_exact(model.expression_, truth),
        "claimed_exact": bool(model.exact_),
        "r2_extrapolation": float(model.score(X_far, y_far)),
        "seconds": seconds,
        "found": str(model.expression_),
    }


def _run_task(task: Task) -> dict:
    return run_one(*task)


def selected_formulas(only: list[str] | None, low: float) -> list[str]:
    """The formulas to fit: ``only`` (else all), less those undefined below 0."""
    names = only or list(SUITE)
    unknown = sorted(set(names) - set(SUITE))
    if unknown:
        raise SystemExit(f"unknown formulas: {', '.join(unknown)}")
    return [name for name in names if low > 0 or name not in POSITIVE_ONLY]


def _parsed(row: dict[str, str]) -> dict[str, Any]:
    """A stored row with its numbers and truth value read back."""
    return {
        **row,
        "seed": int(row["seed"]),
        "exact": row["exact"] == "True",
        "claimed_exact": row.get("claimed_exact", "") == "True",
        "r2_extrapolation": float(row["r2_extrapolation"]),
        "seconds": float(row["seconds"]),
    }


def _summarise(rows: list[dict]) -> list[dict]:
    summary = []
    for name in dict.fromkeys(row["formula"] for row in rows):
        mine = [row for row in rows if row["formula"] == name]
        summary.append(
            {
                "formula": name,
                "exact": f"{sum(r['exact'] for r in mine)}/{len(mine)}",
                "exact_ claimed": (
                    f"{sum(r['claimed_exact'] for r in mine)}/{len(mine)}"
                ),
                "R2>0.9999 (extrap.)": (
                    f"{sum(r['r2_extrapolation'] > 0.9999 for r in mine)}/{len(mine)}"
                ),
                "median s": f"{statistics.median(r['seconds'] for r in mine):.1f}",
                "a formula found (seed 0)": mine[0]["found"],
            }
        )
    return summary


def _markdown(summary: list[dict]) -> str:
    header = list(summary[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in summary:
        lines.append(
            "| "
            + " | ".join(
                f"`{v}`" if k.startswith("a formula") else str(v)
                for k, v in row.items()
            )
            + " |"
        )
    return "\n".join(lines)


def _protocol(low: float, high: float, jobs: int) -> str:
    return (
        f"- Protocol: {N_ROWS} noise-free rows, inputs U{(low, high)}, default "
        f"`NALURegressor(random_state=seed)`; extrapolation R^2 on "
        f"U{extrapolation_range(low, high)}; seconds are wall time per fit with "
        f"{jobs} fits in parallel.\n\n"
    )


def _key(task: Task) -> tuple[str, ...]:
    """A task's key fields as :class:`ResultStore` compares them (strings)."""
    return tuple(str(field) for field in task)


def _stored_key(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(row[field] for field in KEY_FIELDS)


def _fit_missing(store: ResultStore, tasks: list[Task], jobs: int) -> None:
    done = {_stored_key(row) for row in store.rows()}
    missing = [task for task in tasks if _key(task) not in done]
    results = parallel_map(_run_task, missing, jobs)
    for row in progress(results, len(missing), "recovery"):
        store.append(row)


def _stored_rows(store: ResultStore, tasks: list[Task]) -> list[dict[str, Any]]:
    """The rows of ``tasks``, in task order (the table shows seed 0's formula)."""
    stored = {_stored_key(row): row for row in store.rows()}
    return [_parsed(stored[_key(task)]) for task in tasks]


def run(args: argparse.Namespace) -> int:
    """Fit the missing (formula, seed) pairs, then print and write the report."""
    low, high = args.range
    seeds = args.seeds
    if seeds is None:
        seeds = QUICK_SEEDS if args.quick else DEFAULT_SEEDS
    names = selected_formulas(args.only, low)
    tasks = [(name, seed, low, high) for name in names for seed in range(seeds)]
    output = Path(args.output)
    store = ResultStore(output / f"{args.report}.csv", KEY_FIELDS)
    _fit_missing(store, tasks, args.jobs)
    table = _markdown(_summarise(_stored_rows(store, tasks)))
    print(table)
    title = f"Exact-recovery benchmark, inputs U{(low, high)}"
    header = report_header(title) + _protocol(low, high, args.jobs)
    write_report(output / f"{args.report}.md", header + table + "\n")
    return 0


if __name__ == "__main__":
    from benchmarks.__main__ import main

    sys.exit(main(["run", "recovery", *sys.argv[1:]]))
