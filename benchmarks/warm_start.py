"""A warm restart against one longer fit, on the function suite.

For every law and seed of the function suite, three fits of the same data:
one of ``2 * budget`` seconds, and one of ``budget`` seconds with
``warm_start=True`` followed by a second ``fit`` of ``budget`` seconds that
continues it. Each is judged by the SRBench rule (symbolic solution); the
warm restart should find at least what the one longer fit finds::

    python -m benchmarks run warm-start --budget 10 --seeds 5 --jobs 2
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    ResultStore,
    format_rate,
    markdown_table,
    parallel_map,
    progress,
    report_header,
    write_report as write_markdown,
)

DESCRIPTION = "warm_start: two fits of T seconds against one of 2T, function suite"
KEY_FIELDS = ("problem", "seed", "budget", "rows")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the warm-start suite."""
    parser.add_argument("--budget", type=float, default=10.0, help="T in seconds (10)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (5)")
    parser.add_argument("--rows", type=int, default=1000, help="sampled rows (1000)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these laws")


def _solved(problem: Any, model: Any, data: Any) -> tuple[bool, float]:
    """Judge a fitted model on the problem's test rows (SRBench's rule)."""
    from benchmarks.sr.judge import judge
    from benchmarks.sr.runner import r2_score
    from benchmarks.sr.tools import predict

    expression = model.expression_
    r2 = r2_score(data.y_test, predict(expression, data.X_test))
    verdict = judge(expression, problem.truth, problem.symbols, problem.ranges, r2)
    return bool(verdict.solved), r2


def fit_case(task: tuple[str, int, float, int]) -> dict[str, Any]:
    """Fit one law and seed three ways; return the result row.

    Parameters
    ----------
    task : tuple
        ``(problem name, seed, budget, rows)``.

    Returns
    -------
    dict
        Solved, seconds and formula of each fit.
    """
    import torch

    from benchmarks.sr.problems import function_problems
    from benchmarks.sr.protocol import make_dataset
    from nalu_sr import NALURegressor

    name, seed, budget, rows = task
    problem = next(p for p in function_problems() if p.name == name)
    data = make_dataset(problem, 0.0, seed, rows)
    torch.set_num_threads(1)  # the cases share the cores
    row: dict[str, Any] = {"problem": name, "seed": seed, "budget": budget,
                           "rows": rows}  # fmt: skip
    warm = NALURegressor(random_state=seed, max_time=budget, warm_start=True)
    models = {
        "one_fit": NALURegressor(random_state=seed, max_time=2 * budget),
        "first": warm,
        "warm": warm,
    }
    for fit_name, model in models.items():
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(data.X_train, data.y_train)
        row[f"{fit_name}_seconds"] = round(time.perf_counter() - started, 2)
        solved, r2 = _solved(problem, model, data)
        row[f"{fit_name}_solved"] = solved
        row[f"{fit_name}_r2"] = r2
        row[f"{fit_name}_formula"] = str(model.expression_)[:200]
    return row


def _true(value: Any) -> bool:
    return value is True or value == "True"


def report(rows: list[dict[str, Any]], budget: float) -> str:
    """Solved counts of each fit and the cases where they differ, as markdown.

    Parameters
    ----------
    rows : list of dict
        Result rows (as :func:`fit_case` makes them, or read back as text).
    budget : float
        T, for the headers.

    Returns
    -------
    str
    """
    n = len(rows)
    names = {"one_fit": f"one fit of {2 * budget:g} s",
             "first": f"first fit of {budget:g} s",
             "warm": f"after a warm second fit of {budget:g} s"}  # fmt: skip
    table = []
    for key, label in names.items():
        solved = sum(_true(r[f"{key}_solved"]) for r in rows)
        seconds = sorted(float(r[f"{key}_seconds"]) for r in rows)
        median = seconds[len(seconds) // 2] if seconds else float("nan")
        table.append([label, f"{solved}/{n}", format_rate(solved, n), f"{median:.2f}"])
    lost = [
        r for r in rows if _true(r["one_fit_solved"]) and not _true(r["warm_solved"])
    ]
    gained = [
        r for r in rows if _true(r["warm_solved"]) and not _true(r["one_fit_solved"])
    ]
    lines = "".join(
        f"- {r['problem']} seed {r['seed']}: one fit `{r['one_fit_formula']}`, "
        f"warm `{r['warm_formula']}`\n"
        for r in lost + gained
    )
    headers = ["fit", "solved", "rate (95% CI)", "median seconds"]
    return (
        f"{markdown_table(headers, table)}\n\nSolved by the one fit, not by the warm "
        f"restart: {len(lost)}; the reverse: {len(gained)}.\n\n{lines}"
    )


def run(args: argparse.Namespace) -> int:
    """Fit the missing cases, print and write the report; 1 if warm finds less."""
    from benchmarks.sr.problems import function_problems

    names = args.only or [p.name for p in function_problems()]
    seeds = 1 if args.quick else args.seeds
    tasks = [(name, seed, args.budget, args.rows) for name in names
             for seed in range(seeds)]  # fmt: skip
    output = Path(args.output)
    store = ResultStore(output / "warm-start.csv", KEY_FIELDS)
    missing = [
        t for t in tasks if not store.is_done(dict(zip(KEY_FIELDS, t, strict=True)))
    ]
    for row in progress(parallel_map(fit_case, missing, args.jobs or 1),
                        len(missing), "warm-start"):  # fmt: skip
        store.append(row)
    wanted = {tuple(str(v) for v in t) for t in tasks}
    rows = [r for r in store.rows() if tuple(r[f] for f in KEY_FIELDS) in wanted]
    text = report(rows, args.budget)
    print(text)
    header = report_header("warm_start against one longer fit") + (
        f"- Protocol: the function suite's laws, {args.rows} noise-free rows split "
        f"75/25, seeds 0..{seeds - 1}; `NALURegressor(random_state=seed)` with "
        f"`max_time={2 * args.budget:g}`, against `warm_start=True, "
        f"max_time={args.budget:g}` fitted twice on the same rows; SRBench's "
        "symbolic-solution rule on the test rows.\n\n"
    )
    write_markdown(output / f"warm-start-{args.budget:g}s.md", header + text)
    lost = [
        r for r in rows if _true(r["one_fit_solved"]) and not _true(r["warm_solved"])
    ]
    return 1 if lost else 0
