"""Exact-recovery benchmark of NALURegressor on the arithmetic suite.

For each formula and seed: 1,000 noise-free training rows with every input
drawn from U(1, 5); fit with default settings; count an exact recovery when
``sympy.simplify(found - truth) == 0`` after rounding the found formula's float
constants to 6 significant digits; measure R^2 on 1,000 rows drawn from
U(1, 21), a range five times wider. Prints a markdown table and writes it with
the command, machine and date to ``docs/recovery.md`` (``--output``).

Run: ``python benchmarks/recovery.py [--seeds 10] [--jobs 2] [--only NAME ...]``
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import sympy

if not __package__:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.sr.problems import ARITHMETIC_FORMULAS
from nalu_sr import NALURegressor

N_ROWS = 1000
#: Formulas with no real value on negative inputs, skipped for mixed-sign ranges.
POSITIVE_ONLY = {"sqrt(x0)"}
#: The arithmetic suite (shared with ``python -m benchmarks run arithmetic``).
SUITE = ARITHMETIC_FORMULAS


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
        "exact": is_exact(model.expression_, truth),
        "r2_extrapolation": float(model.score(X_far, y_far)),
        "seconds": seconds,
        "found": str(model.expression_),
    }


def _summarise(rows: list[dict]) -> list[dict]:
    summary = []
    for name in dict.fromkeys(row["formula"] for row in rows):
        mine = [row for row in rows if row["formula"] == name]
        summary.append(
            {
                "formula": name,
                "exact": f"{sum(r['exact'] for r in mine)}/{len(mine)}",
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


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--range", nargs=2, type=float, default=(1.0, 5.0))
    parser.add_argument("--output", default="docs/recovery.md")
    args = parser.parse_args(argv)
    low, high = args.range
    names = [
        name
        for name in (args.only or list(SUITE))
        if low > 0 or name not in POSITIVE_ONLY
    ]
    tasks = [(name, seed, low, high) for name in names for seed in range(args.seeds)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(run_one, *zip(*tasks, strict=True)))
    table = _markdown(_summarise(rows))
    command = "python benchmarks/recovery.py " + " ".join(argv or sys.argv[1:])
    header = (
        f"# Exact-recovery benchmark, inputs U{(low, high)}\n\n"
        f"Command: `{command.strip()}`  \n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}  \nDate: {datetime.date.today()}  \n"
        f"Protocol: {N_ROWS} noise-free rows, inputs U{(low, high)}, default "
        f"`NALURegressor(random_state=seed)`; extrapolation R^2 on "
        f"U{extrapolation_range(low, high)}; seconds are wall time per fit with "
        f"{args.jobs} fits in parallel.\n\n"
    )
    print(table)
    if args.output:
        Path(args.output).write_text(header + table + "\n")
    return table


if __name__ == "__main__":
    main()
