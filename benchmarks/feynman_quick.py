"""A quick, noise-free pass of NALURegressor over the AI Feynman problems.

Not the SRBench protocol (that is the benchmark suite's job): 1,000 rows per
problem sampled from the listed ranges, default settings plus a time budget,
exact recovery judged as in ``recovery.py`` (float constants rounded to 6
significant digits, then ``simplify(found - truth) == 0``). Reads
``../shared/benchmarks/feynman.csv`` and skips cleanly when it is absent.

Run: ``python benchmarks/feynman_quick.py [--max-time 10] [--jobs 2] [--limit N]``
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import platform
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import sympy

sys.path.insert(0, str(Path(__file__).parent))
from recovery import is_exact

from nalu_sr import NALURegressor

DATA = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "feynman.csv"


def load_problems(path: Path = DATA) -> list[dict]:
    """Problems as dicts: name, formula string, variables with ranges."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    problems = []
    for row in rows:
        variables = [
            (row[f"v{i}_name"], float(row[f"v{i}_low"]), float(row[f"v{i}_high"]))
            for i in range(1, int(row["n_vars"]) + 1)
        ]
        problems.append(
            {"name": row["name"], "formula": row["formula"], "vars": variables}
        )
    return problems


def run_problem(problem: dict, max_time: float, seed: int = 0) -> dict:
    names = [name for name, _, _ in problem["vars"]]
    symbols = {name: sympy.Symbol(name, real=True) for name in names}
    truth = sympy.parse_expr(problem["formula"], local_dict=symbols)
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [rng.uniform(low, high, 1000) for _, low, high in problem["vars"]]
    )
    y = sympy.lambdify([symbols[n] for n in names], truth, "numpy")(*X.T)
    y = np.broadcast_to(np.asarray(y, dtype=float), (len(X),))
    frame = pd.DataFrame(X, columns=names)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = NALURegressor(random_state=seed, max_time=max_time).fit(frame, y)
    seconds = time.perf_counter() - started
    # Symbols may have been renamed (gamma -> gamma_); compare by name order.
    renamed = dict(
        zip(model.feature_symbols_, [symbols[n] for n in names], strict=True)
    )
    found = model.expression_.xreplace(renamed)
    return {
        "name": problem["name"],
        "exact": is_exact(found, truth),
        "r2": float(model.score(frame, y)),
        "seconds": seconds,
        "found": str(found),
        "truth": problem["formula"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--output", default="docs/feynman_quick.md")
    args = parser.parse_args(argv)
    if not DATA.exists():
        print(f"skipped: {DATA} not found")
        return
    problems = load_problems()[: args.limit]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(run_problem, problems, [args.max_time] * len(problems)))
    n_exact = sum(r["exact"] for r in rows)
    n_r2 = sum(r["r2"] > 0.999 for r in rows)
    lines = [
        "# Quick noise-free pass over the AI Feynman problems",
        "",
        "Command: `python benchmarks/feynman_quick.py "
        f"{' '.join(argv or sys.argv[1:])}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; "
        f"date {datetime.date.today()}  ",
        "Protocol: 1,000 noise-free rows per problem, default `NALURegressor`, "
        f"`max_time={args.max_time}` s, {args.jobs} fits in parallel. "
        "Not SRBench's protocol.",
        "",
        f"**Exact: {n_exact}/{len(rows)}; training R^2 > 0.999: {n_r2}/{len(rows)}; "
        f"median time {np.median([r['seconds'] for r in rows]):.1f} s.**",
        "",
        "| problem | exact | R^2 | s | found | truth |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {'yes' if r['exact'] else 'no'} | {r['r2']:.4f} | "
            f"{r['seconds']:.1f} | `{r['found'][:80]}` | `{r['truth']}` |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.output).write_text(text)


if __name__ == "__main__":
    main()
