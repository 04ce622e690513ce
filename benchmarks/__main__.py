"""Entry point: ``python -m benchmarks list`` and ``python -m benchmarks run SUITE``.

Each suite is a module with ``DESCRIPTION`` (one line), ``add_arguments(parser)``
and ``run(args) -> int``. Suites are imported only when run, so a suite whose
optional dependencies are missing does not break the others, and ``list`` or
``--help`` imports none of them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NamedTuple

import joblib

from benchmarks._common import RESULTS_DIR, dask_scheduler


class Suite(NamedTuple):
    """Where a suite lives and what it does, known without importing it."""

    module: str
    description: str


_SR = "ground-truth symbolic regression (SRBench protocol) of nalu_sr and peer tools"

#: Suite name -> module path and one-line description. A test keeps each
#: description equal to its module's ``DESCRIPTION``.
SUITES: dict[str, Suite] = {
    "mlp-extrapolation": Suite(
        "benchmarks.paper.mlp_extrapolation",
        "NALU paper Figure 1: MLPs learning y = x fail outside [-5, 5]",
    ),
    "static": Suite(
        "benchmarks.paper.static_arithmetic",
        "NALU paper Table 1, static half: a∘b of subset sums (Madsen protocol)",
    ),
    "recurrent": Suite(
        "benchmarks.paper.recurrent",
        "NALU paper Table 1, recurrent half: a∘b of sums over a sequence",
    ),
    "arithmetic": Suite("benchmarks.sr.suite", _SR),
    "functions": Suite("benchmarks.sr.suite", _SR),
    "law-classes": Suite("benchmarks.sr.suite", _SR),
    "feynman": Suite("benchmarks.sr.suite", _SR),
    "strogatz": Suite("benchmarks.sr.suite", _SR),
    "parallel": Suite(
        "benchmarks.parallel",
        "candidates trained per second for n_jobs 1 and 2 and batched restarts 1/4/16",
    ),
    "recovery": Suite(
        "benchmarks.recovery",
        "exact recovery of the arithmetic formulas by default NALURegressor fits",
    ),
    "narrow-range": Suite(
        "benchmarks.narrow_range",
        "false exact_ claims on smooth functions over narrow ranges",
    ),
    "selection": Suite(
        "benchmarks.selection",
        "approximations: the score rule against the near-best rule, same fits",
    ),
    "warm-start": Suite(
        "benchmarks.warm_start",
        "warm_start: two fits of T seconds against one of 2T, function suite",
    ),
    "fuzz": Suite(
        "benchmarks.fuzz_model_files",
        "fuzz model files: random and mutated files loaded and predicted",
    ),
    "fuzz-fit": Suite(
        "benchmarks.fuzz_fit",
        "fuzz fit: random laws, ranges and degenerate data, one fit per process",
    ),
    "scaling": Suite(
        "benchmarks.scaling",
        "fit time and peak memory against rows and features",
    ),
    "max-time": Suite(
        "benchmarks.max_time",
        "wall time of fit against max_time on every problem of a suite",
    ),
}


def load_suite(name: str) -> ModuleType:
    """Import the module that implements suite ``name``."""
    return importlib.import_module(SUITES[name].module)


def requested_suite(argv: Sequence[str]) -> str | None:
    """The suite named by ``run SUITE ...``, found without parsing the options.

    Neither the top level nor ``run`` has options besides ``--help``, so the
    suite, when there is one, is the second word.
    """
    if len(argv) >= 2 and argv[0] == "run" and argv[1] in SUITES:
        return argv[1]
    return None


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every suite takes.

    ``--quick``, ``--jobs``, ``--scheduler`` and ``--output``.
    """
    parser.add_argument("--quick", action="store_true", help="a small subset")
    parser.add_argument(
        "--jobs", type=int, default=None,
        help="parallel processes (1; -1: every core or cluster worker)",
    )  # fmt: skip
    parser.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="run the grid on the dask cluster at ADDRESS (tcp://host:8786), on "
        "every worker unless --jobs is given",
    )  # fmt: skip
    parser.add_argument(
        "--output",
        default=str(RESULTS_DIR),
        help="folder for the CSV results, plots and the markdown report",
    )


def build_parser(suite: str | None = None) -> argparse.ArgumentParser:
    """The ``python -m benchmarks`` argument parser, one sub-parser per suite.

    Only ``suite`` (when given) is imported, to add its own options; the
    other sub-parsers know just their description.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the suites")
    run = commands.add_parser("run", help="run one suite")
    suites = run.add_subparsers(dest="suite", required=True, metavar="SUITE")
    for name, entry in SUITES.items():
        sub = suites.add_parser(name, help=entry.description)
        if name == suite:
            add_common_arguments(sub)
            load_suite(name).add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen suite."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(requested_suite(argv)).parse_args(argv)
    if args.command == "list":
        for name, entry in SUITES.items():
            print(f"{name:20s} {entry.description}")
        return 0
    with dask_scheduler(args.scheduler):
        if args.jobs is None:  # every worker of the cluster, or one process
            args.jobs = joblib.effective_n_jobs(-1) if args.scheduler else 1
        return int(load_suite(args.suite).run(args))


if __name__ == "__main__":
    sys.exit(main())
