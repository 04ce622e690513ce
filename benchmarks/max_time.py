"""Wall time of ``fit`` against ``max_time``, on every problem of a suite.

``max_time`` is a promise: a fit returns within it plus a small slack (see
``docs/reliability.md``). This script measures the overrun on each problem of
a ground-truth suite, and on the reproduction of issue 11 (``y = a*b`` of two
overlapping 25-input sums out of 100 inputs)::

    python -m benchmarks run max-time --suite arithmetic --max-time 5
    python -m benchmarks run max-time --issue --max-time 20

It prints one markdown row per problem and, last, the largest overrun.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Iterator, Sequence

import numpy as np

from benchmarks._common import markdown_table
from benchmarks.sr.problems import SUITES, load_problems
from benchmarks.sr.protocol import all_rows
from nalu_sr import NALURegressor


def issue_data(seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The issue's data: 2000 rows of 100 inputs in [1, 2], ``y = a*b``."""
    rng = np.random.default_rng(seed)
    for _ in ("add", "sub", "mul"):  # the issue draws three tasks; keeps the last
        perm = rng.permutation(100)
        A, B = perm[:25], np.concatenate([perm[12:25], perm[25:37]])
        X = rng.uniform(1, 2, (2000, 100))
        rng.uniform(2, 6, (2000, 100))  # the issue's extrapolation set
    return X, X[:, A].sum(1) * X[:, B].sum(1)


def timed_fit(X: np.ndarray, y: np.ndarray, max_time: float) -> tuple[float, str]:
    """Fit with ``max_time``; return the wall time and the formula."""
    model = NALURegressor(random_state=0, max_time=max_time)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return time.perf_counter() - start, str(model.expression_)


def _datasets(args: argparse.Namespace) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    if args.issue:
        yield ("issue 11: a*b, 100 inputs", *issue_data())
        return
    for problem in load_problems(args.suite)[:: args.every]:
        X, y = all_rows(problem, args.rows, seed=0)
        yield problem.name, X, y


DESCRIPTION = "wall time of fit against max_time on every problem of a suite"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the max_time measurement."""
    parser.add_argument("--suite", choices=SUITES, default="arithmetic")
    parser.add_argument("--issue", action="store_true", help="the issue's case only")
    parser.add_argument("--max-time", type=float, default=5.0)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--every", type=int, default=1, help="every n-th problem")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurement from its own command line; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Fit every dataset with the budget; print the table and the largest overrun."""
    rows, overruns = [], []
    for name, X, y in _datasets(args):
        wall, formula = timed_fit(X, y, args.max_time)
        overruns.append(wall - args.max_time)
        rows.append((name, X.shape[1], wall, overruns[-1], formula[:60]))
        print(f"{name}: {wall:.2f} s", flush=True)
    print(markdown_table(["problem", "inputs", "wall s", "over s", "formula"], rows))
    print(f"max_time {args.max_time} s; largest overrun {max(overruns):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
