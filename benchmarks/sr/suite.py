"""The ground-truth suites of ``python -m benchmarks`` (arithmetic, functions, ...).

Each runs every (tool, problem, noise, seed) task of SRBench's ground-truth
protocol with the same time budget for every tool, stores one row per task in
``<output>/<suite>.csv`` (finished tasks are skipped on the next run) and
writes ``<output>/<suite>.md``. SRBench's own grid is
``--noise 0 0.001 0.01 0.1 --seeds 10``; the default is one noise-free seed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks._common import ResultStore
    from benchmarks.sr.problems import Problem
    from benchmarks.sr.runner import Task

#: SRBench's target noise levels; a copy of ``protocol.NOISE_LEVELS`` (a test
#: keeps them equal) so that building the parser does not import SymPy.
NOISE_LEVELS = (0.0, 0.001, 0.01, 0.1)

DESCRIPTION = (
    "ground-truth symbolic regression (SRBench protocol) of nalu_sr and peer tools"
)

#: ``--quick``: every n-th problem of a suite (1: all of them).
QUICK_EVERY = {
    "arithmetic": 1, "functions": 3, "law-classes": 4, "feynman": 10, "strogatz": 4,
}  # fmt: skip
QUICK_NOISE = (0.0, 0.01)
QUICK_BUDGET = 5.0
DEFAULT_BUDGET = 60.0
DEFAULT_SIMPLIFY_TIMEOUT = 30.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the ground-truth suites."""
    parser.add_argument(
        "--tools", nargs="+", metavar="TOOL",
        help="default: all available but nalu_sr_units (nalu_sr given the "
        "Feynman variables' SI units)",
    )  # fmt: skip
    parser.add_argument(
        "--budget", type=float, metavar="S",
        help=f"seconds per fit, equal for every tool ({DEFAULT_BUDGET:g}; quick "
        f"{QUICK_BUDGET:g})",
    )  # fmt: skip
    parser.add_argument(
        "--noise", type=float, nargs="+", metavar="GAMMA", choices=NOISE_LEVELS,
        help="target noise levels, from SRBench's 0 0.001 0.01 0.1 (default 0; "
        "quick 0 0.01)",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 (1)")
    parser.add_argument(
        "--rows", type=int, default=10_000,
        help="rows sampled before the 75/25 split (10000; Strogatz has 400 fixed)",
    )  # fmt: skip
    parser.add_argument("--problems", nargs="+", metavar="NAME", help="only these")
    parser.add_argument(
        "--hard-limit", type=float, metavar="S",
        help="stop a fit after this many seconds and record a failure (default "
        "10 x budget, at least 300: FFX has no budget of its own)",
    )  # fmt: skip
    parser.add_argument(
        "--simplify-timeout", type=float, default=DEFAULT_SIMPLIFY_TIMEOUT,
        metavar="S", help="seconds for the judge's symbolic steps (30)",
    )  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """The resolved options of one run."""

    suite: str
    budget: float
    noise: tuple[float, ...]
    seeds: int
    rows: int
    hard_limit: float
    simplify_timeout: float
    quick: bool


def resolve_settings(args: argparse.Namespace) -> Settings:
    """Fill the options left unset with the defaults of a full or quick run."""
    budget = args.budget or (QUICK_BUDGET if args.quick else DEFAULT_BUDGET)
    noise = args.noise or (QUICK_NOISE if args.quick else (0.0,))
    return Settings(
        suite=args.suite,
        budget=budget,
        noise=tuple(float(g) for g in noise),
        seeds=args.seeds,
        rows=args.rows,
        hard_limit=args.hard_limit or max(10 * budget, 300.0),
        simplify_timeout=args.simplify_timeout,
        quick=args.quick,
    )


def select_problems(
    problems: list[Problem], suite: str, names: Sequence[str] | None, quick: bool
) -> list[Problem]:
    """The problems named (all when none are), or the quick subset."""
    if names:
        known = {p.name: p for p in problems}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(
                f"unknown {suite} problems {unknown}; known: {', '.join(known)}"
            )
        return [known[n] for n in names]
    return problems[:: QUICK_EVERY[suite]] if quick else problems


def select_tools(names: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """Tools to run and messages about the ones skipped (not installed)."""
    from benchmarks.sr.tools import TOOLS

    unknown = [n for n in names or () if n not in TOOLS]
    if unknown:
        raise ValueError(f"unknown tools {unknown}; known: {', '.join(TOOLS)}")
    chosen, skipped = [], []
    for name in names or [n for n, tool in TOOLS.items() if tool.default]:
        reason = TOOLS[name].missing()
        if reason:
            skipped.append(f"{name} skipped ({reason})")
        else:
            chosen.append(name)
    return chosen, skipped


def build_tasks(
    settings: Settings, problems: Sequence[Problem], tools: Sequence[str]
) -> list[Task]:
    """Every (tool, problem, noise, seed) task, the tools of a problem together."""
    from benchmarks.sr.runner import Task

    return [
        Task(
            suite=settings.suite,
            tool=tool,
            problem=problem,
            noise=noise,
            seed=seed,
            budget=settings.budget,
            rows=len(problem.y) if problem.y is not None else settings.rows,
            hard_limit=settings.hard_limit,
            simplify_timeout=settings.simplify_timeout,
        )
        for problem in problems
        for noise in settings.noise
        for seed in range(settings.seeds)
        for tool in tools
    ]


def execute(tasks: list[Task], store: ResultStore, jobs: int, suite: str) -> None:
    """Run the tasks not yet stored, appending each row as it arrives."""
    from benchmarks._common import parallel_map, progress
    from benchmarks.sr.runner import run_task

    pending = [t for t in tasks if not store.is_done(t.key())]
    done = len(tasks) - len(pending)
    print(f"{suite}: {len(tasks)} runs, {done} already stored", file=sys.stderr)
    for row in progress(parallel_map(run_task, pending, jobs), len(pending), suite):
        store.append(row)


def run(args: argparse.Namespace) -> int:
    """Run one ground-truth suite and write its CSV rows and markdown report."""
    from benchmarks._common import ResultStore, write_report
    from benchmarks.sr.problems import load_problems, missing_data
    from benchmarks.sr.runner import KEY_FIELDS
    from benchmarks.sr.tables import build_report

    settings = resolve_settings(args)
    absent = missing_data(settings.suite)
    if absent is not None:
        print(f"{settings.suite}: skipped, benchmark data not found at {absent} "
              "(set NALU_SR_BENCHMARK_DATA to its folder)")  # fmt: skip
        return 0
    try:
        problems = select_problems(
            load_problems(settings.suite), settings.suite, args.problems, args.quick
        )
        tools, skipped = select_tools(args.tools)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for message in skipped:
        print(message)
    tasks = build_tasks(settings, problems, tools)
    store = ResultStore(Path(args.output) / f"{settings.suite}.csv", KEY_FIELDS)
    execute(tasks, store, args.jobs, settings.suite)
    wanted = {tuple(str(v) for v in t.key().values()) for t in tasks}
    rows = [r for r in store.rows() if tuple(r[f] for f in KEY_FIELDS) in wanted]
    report, tables = build_report(settings, rows, problems, tools, skipped)
    print(tables)
    write_report(Path(args.output) / f"{settings.suite}.md", report)
    return 0
