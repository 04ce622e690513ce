"""Entry point: ``python -m benchmarks list`` and ``python -m benchmarks run SUITE``.

Each suite is a module with ``DESCRIPTION`` (one line), ``add_arguments(parser)``
and ``run(args) -> int``. Suites are imported only when run, so a suite whose
optional dependencies are missing does not break the others.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from benchmarks._common import RESULTS_DIR

#: Suite name -> module path.
SUITES: dict[str, str] = {
    "mlp-extrapolation": "benchmarks.paper.mlp_extrapolation",
    "static": "benchmarks.paper.static_arithmetic",
    "recurrent": "benchmarks.paper.recurrent",
    "arithmetic": "benchmarks.sr.suite",
    "feynman": "benchmarks.sr.suite",
    "strogatz": "benchmarks.sr.suite",
}


def load_suite(name: str) -> ModuleType:
    """Import the module that implements suite ``name``."""
    return importlib.import_module(SUITES[name])


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m benchmarks`` argument parser, one sub-parser per suite."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the suites")
    run = commands.add_parser("run", help="run one suite")
    suites = run.add_subparsers(dest="suite", required=True, metavar="SUITE")
    for name in SUITES:
        module = load_suite(name)
        sub = suites.add_parser(name, help=module.DESCRIPTION)
        sub.add_argument("--quick", action="store_true", help="a small subset")
        sub.add_argument("--jobs", type=int, default=1, help="parallel processes")
        sub.add_argument(
            "--output",
            default=str(RESULTS_DIR),
            help="folder for the CSV results, plots and the markdown report",
        )
        module.add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen suite."""
    args = build_parser().parse_args(argv)
    if args.command == "list":
        for name in SUITES:
            print(f"{name:20s} {load_suite(name).DESCRIPTION}")
        return 0
    return int(load_suite(args.suite).run(args))


if __name__ == "__main__":
    sys.exit(main())
