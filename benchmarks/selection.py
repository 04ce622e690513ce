"""Approximations chosen by score against the near-best rule, on the same fits.

When no candidate of a fit is exact, :func:`nalu_sr.selection.select_candidate`
first takes the simplest candidate near the best loss (the rule before the
score) and then, if that one carries fitted floats, the candidate of lowest
:func:`~nalu_sr.selection.approximation_score` no more complex. This suite
fits each problem of a ground-truth suite once (SRBench protocol of
``benchmarks.sr``), applies both rules to the same candidate table and
reports, over the fits with no exact candidate, the median complexity, test
R^2 and SRBench solutions of each rule's choice::

    python -m benchmarks run selection --problem-suite feynman --budget 30 --jobs 2

Fits with an exact candidate are counted, not compared: both rules take the
simplest law there.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import sympy

if not __package__:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    ResultStore,
    markdown_table,
    parallel_map,
    progress,
    report_header,
    write_report,
)

DESCRIPTION = "approximations: the score rule against the near-best rule, same fits"
SUITE_NAMES = ("feynman", "strogatz", "functions", "arithmetic")
KEY_FIELDS = ("problem", "noise", "seed", "budget", "rule")
#: The estimator's rule ("score", at its COMPLEXITY_COST) and two other
#: costs per node, measured on the same candidates.
COSTS = {"score": 3e-5, "score 1e-5": 1e-5, "score 1e-4": 1e-4}
RULES = ("near-best", *COSTS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the selection suite."""
    # Not --suite: that is the name of the suite being run (selection).
    parser.add_argument(
        "--problem-suite", choices=SUITE_NAMES, default="feynman",
        help="the problems to fit (feynman)",
    )  # fmt: skip
    parser.add_argument("--budget", type=float, default=30.0, help="max_time (30)")
    parser.add_argument("--noise", type=float, default=0.0, help="gamma (0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=10_000, help="rows sampled")
    parser.add_argument("--problems", nargs="+", metavar="NAME", help="only these")


def candidates_of(table: Any) -> list[Any]:
    """The candidates of an ``equations_`` table, in its order.

    Parameters
    ----------
    table : pandas.DataFrame or list of dict
        A fitted estimator's ``equations_``.

    Returns
    -------
    list of Candidate
    """
    from nalu_sr._equations import table_rows
    from nalu_sr.extraction.candidate import Candidate

    return [
        Candidate(
            row["sympy_format"],
            int(row["complexity"]),
            row["train_loss"],
            row["loss"],
            row["architecture"],
            int(row["width"]),
            row["seed"],
            extrapolation_loss=row["extrapolation_loss"],
            exact=bool(row["exact"]),
        )
        for row in table_rows(table)
    ]


def rule_choices(
    model: Any, n_rows: int, candidates: list[Any] | None = None
) -> dict[str, int]:
    """The row each rule chooses from a fitted estimator's table.

    Parameters
    ----------
    model : NALURegressor
        A fitted estimator.
    n_rows : int
        Rows it was fitted on (for the held-out count).
    candidates : list or None, default=None
        ``candidates_of(model.equations_)``, when the caller has it already.

    Returns
    -------
    dict
        Rule name -> index into ``model.equations_``.
    """
    from nalu_sr._fit_data import held_out_rows
    from nalu_sr.selection import near_best, select_candidate, selection_complexity

    if candidates is None:
        candidates = candidates_of(model.equations_)
    held_out = held_out_rows(n_rows, model.validation_fraction)
    args = (candidates, model.precision_floor_, model.selection_factor, held_out)
    laws = [(selection_complexity(c), c.validation_loss, i)
            for i, c in enumerate(candidates) if c.exact]  # fmt: skip
    choices = {"near-best": min(laws)[2] if laws else near_best(*args)}
    for rule, cost in COSTS.items():
        choices[rule] = select_candidate(*args, complexity_cost=cost)
    return choices


def fit_problem(task: tuple[Any, float, int, float, int]) -> list[dict[str, Any]]:
    """Fit one problem and score each rule's choice on the test rows.

    Parameters
    ----------
    task : tuple
        ``(problem, noise, seed, budget, rows)``.

    Returns
    -------
    list of dict
        One row per rule.
    """
    import torch

    from benchmarks.sr.judge import complexity, judge
    from benchmarks.sr.parsers import rename_symbols
    from benchmarks.sr.protocol import make_dataset
    from benchmarks.sr.runner import r2_score
    from benchmarks.sr.tools import predict
    from nalu_sr import NALURegressor

    problem, noise, seed, budget, rows = task
    data = make_dataset(problem, noise, seed, rows)
    torch.set_num_threads(1)  # the fits share the cores, as in benchmarks.sr
    model = NALURegressor(max_time=budget, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(data.X_train, data.y_train)
    candidates = candidates_of(model.equations_)
    choices = rule_choices(model, len(data.y_train), candidates)
    judged: dict[int, dict[str, Any]] = {}
    for index in sorted(set(choices.values())):
        expression = rename_symbols(
            sympy.sympify(candidates[index].expression), problem.n_features
        )
        r2 = r2_score(data.y_test, predict(expression, data.X_test))
        verdict = judge(expression, problem.truth, problem.symbols, problem.ranges,
                        r2, timeout=30.0)  # fmt: skip
        judged[index] = {
            "complexity": complexity(expression), "r2_test": r2,
            "symbolic_constants": symbolic_constants(expression),
            "whole_floats": whole_floats(expression),
            "solved": verdict.solved, "model": str(expression)[:2000],
        }  # fmt: skip
    same = len(set(choices.values())) == 1
    return [
        {"problem": problem.name, "noise": noise, "seed": seed, "budget": budget,
         "rule": rule, "exact": bool(model.exact_), "same": same, **judged[index]}
        for rule, index in choices.items()
    ]  # fmt: skip


def symbolic_constants(expression: sympy.Expr) -> bool:
    """Whether a formula shows pi, e or a rational with a term above 100.

    Parameters
    ----------
    expression : sympy.Expr
        A formula.

    Returns
    -------
    bool
    """
    if expression.has(sympy.pi) or expression.has(sympy.E):
        return True
    return any(
        abs(r.p) > 100 or r.q > 100
        for r in expression.atoms(sympy.Rational)
        if not r.is_Integer
    )


def whole_floats(expression: sympy.Expr) -> bool:
    """Whether a formula has a float that is a whole number (``1.0*x``).

    Parameters
    ----------
    expression : sympy.Expr
        A formula.

    Returns
    -------
    bool
    """
    return any(float(f) == int(f) for f in expression.atoms(sympy.Float))


def summary(rows: list[dict[str, Any]]) -> str:
    """Per rule, over the fits with no exact candidate: medians and solutions.

    Parameters
    ----------
    rows : list of dict
        Result rows as :func:`fit_problem` makes them (or read back as text).

    Returns
    -------
    str
        A markdown table.
    """
    table = []
    for rule in RULES:
        mine = [r for r in rows if r["rule"] == rule and not _true(r["exact"])]
        r2 = [float(r["r2_test"]) for r in mine]
        table.append([
            rule, len(mine), statistics.median(int(r["complexity"]) for r in mine),
            statistics.median(r2), float(np.mean(r2)), min(r2),
            sum(_true(r["solved"]) for r in mine),
        ] if mine else [rule, 0, "", "", "", "", 0])  # fmt: skip
    headers = ["rule", "fits with no exact candidate", "median complexity",
               "median test R^2", "mean test R^2", "min test R^2",
               "solved"]  # fmt: skip
    return markdown_table(headers, table)


def _true(value: Any) -> bool:
    return value is True or value == "True"


def largest_drops(rows: list[dict[str, Any]], count: int = 10) -> str:
    """The fits where the score rule lost most test R^2, as markdown items."""
    pairs: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        pairs.setdefault(row["problem"], {})[row["rule"]] = row
    drops = sorted(
        (float(p["near-best"]["r2_test"]) - float(p["score"]["r2_test"]), name, p)
        for name, p in pairs.items()
        if {"near-best", "score"} <= set(p) and not _true(p["score"]["exact"])
    )[::-1][:count]  # fmt: skip
    return "".join(
        f"- {name}: R^2 {float(p['near-best']['r2_test']):.6f} -> "
        f"{float(p['score']['r2_test']):.6f}, complexity "
        f"{p['near-best']['complexity']} -> {p['score']['complexity']}: "
        f"`{p['score']['model'][:200]}`\n"
        for _, name, p in drops
    )


def run(args: argparse.Namespace) -> int:
    """Fit the missing problems, then print and write the comparison."""
    from benchmarks.sr.problems import load_problems, missing_data

    if missing_data(args.problem_suite) is not None:
        print(f"{args.problem_suite}: skipped, benchmark data not found")
        return 0
    problems = load_problems(args.problem_suite)
    if args.problems:
        problems = [p for p in problems if p.name in set(args.problems)]
    output = Path(args.output)
    name = f"selection-{args.problem_suite}-noise{args.noise:g}"
    store = ResultStore(output / f"{name}.csv", KEY_FIELDS)
    tasks = [(p, args.noise, args.seed, args.budget, args.rows) for p in problems
             if not store.is_done({"problem": p.name, "noise": args.noise,
                                   "seed": args.seed, "budget": args.budget,
                                   "rule": RULES[-1]})]  # fmt: skip
    for found in progress(parallel_map(fit_problem, tasks, args.jobs or 1), len(tasks),
                          "selection"):  # fmt: skip
        for row in found:
            store.append(row)
    wanted = {p.name for p in problems}
    rows = [r for r in store.rows() if r["problem"] in wanted]
    exact = len({r["problem"] for r in rows if _true(r["exact"])})
    chosen = [r for r in rows if r["rule"] == "score"]
    dressed = sum(_true(r["symbolic_constants"]) and not _true(r["exact"])
                  for r in chosen)  # fmt: skip
    floats = sum(_true(r["whole_floats"]) and _true(r["exact"]) for r in chosen)
    solved = sum(_true(r["solved"]) for r in chosen)
    false = sum(_true(r["exact"]) and not _true(r["solved"]) for r in chosen)
    text = (f"{len(wanted)} problems; {exact} fits had an exact candidate "
            f"(exact_ claims), {false} of them not solved (false claims); "
            f"{solved} solved by the chosen formula. Chosen approximations "
            f"with pi, e or a rational term above 100: {dressed}. Exact "
            f"formulas with a whole float such as 1.0: {floats}.\n\n"
            f"{summary(rows)}\n\nLargest test R^2 drops of the score rule:\n\n"
            f"{largest_drops(rows)}")  # fmt: skip
    print(text)
    title = f"Selection of approximations, {args.problem_suite}, noise {args.noise:g}"
    write_report(output / f"{name}.md", report_header(title) + "\n" + text)
    return 0
