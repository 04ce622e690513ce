"""Fuzz ``fit`` itself: random laws, ranges and degenerate data, one fit a process.

Each case is drawn from the seed and its index alone (so ``--case K`` rebuilds
case ``K`` without drawing the others): a random law, mostly outside the
library's grammar (nested functions such as ``sin(exp(x0))``, products of
functions, ``np.where`` piecewise laws, ``x0**x1``, sums over 5 to 8 inputs),
inputs with negatives, zeros and magnitudes from 1e-12 to 1e12, degenerate
columns (constant, duplicated, binary), 1 to 20,000 rows, 0 to 5% noise and,
now and then, a NaN or an infinity in ``X`` or ``y``. Rows where the law itself
is not finite (``log`` of a negative, ``exp`` of 1e12) are dropped before the
fit, so only the planted NaN or infinity reaches it.

Every fit runs in a fresh spawned process with
``NALURegressor(max_time=MAX_TIME, random_state=case.seed)``; the process
reports the wall time of ``fit`` and its peak resident memory
(``ru_maxrss``), and is killed ``max_time + 60`` seconds after it started::

    python -m benchmarks run fuzz-fit --cases 500 --seed 0 --max-time 10
    python -m benchmarks run fuzz-fit --seed 0 --case 17

A defect is a fit over ``max_time + 3`` seconds (or killed), a peak over
2 GiB, an exception other than a ``ValueError`` or ``TypeError`` with a
one-line message (or a crashed process), and a NaN or infinity that is not
refused with such a ``ValueError`` naming it, and an ``exact_`` fit whose
relative RMS error on 500 fresh noise-free rows of the law is above 1e-6.
The run prints a markdown table and every defect with its case, writes the
report and one JSON line per case to ``--output``, and exits with status 1
when there is any defect.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS_DIR, write_report
from benchmarks.fuzz_fit.cases import Case, generate_case, generate_cases
from benchmarks.fuzz_fit.data import make_data
from benchmarks.fuzz_fit.harness import fit_case, fresh_error, run_cases
from benchmarks.fuzz_fit.report import (
    FALSE_EXACT_ERROR,
    MEMORY_LIMIT_MIB,
    OVERRUN_SLACK,
    defects,
    report_text,
)

__all__ = [
    "FALSE_EXACT_ERROR", "MEMORY_LIMIT_MIB", "OVERRUN_SLACK", "Case", "defects",
    "fit_case", "fresh_error", "generate_case", "generate_cases", "make_data",
    "run_cases",
]  # fmt: skip


DESCRIPTION = "fuzz fit: random laws, ranges and degenerate data, one fit per process"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the fuzz-fit run (``--jobs`` and ``--output`` are common)."""
    parser.add_argument("--cases", type=int, help="cases to fit (500; quick 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-time", type=float, default=10.0, help="fit max_time")
    parser.add_argument("--case", type=int, metavar="K", help="rerun case K only")


def _progress(total: int) -> Callable[[Case, dict[str, Any]], None]:
    """A callback printing one line on stderr per finished case."""
    done = [0]

    def report(case: Case, result: dict[str, Any]) -> None:
        done[0] += 1
        what = result.get("expression") or result.get("message") or ""
        what = str(what).splitlines()[0][:80] if what else ""
        seconds = result["fit_s"] if result["fit_s"] is not None else float("nan")
        print(f"[{done[0]}/{total}] #{case.index} {result['outcome']} "
              f"{seconds:.1f} s {result['peak_mib']:.0f} MiB {what}",
              file=sys.stderr, flush=True)  # fmt: skip

    return report


def rerun_case(seed: int, index: int, max_time: float) -> int:
    """Fit one case in its own process and print everything about it.

    Parameters
    ----------
    seed : int
        The run's seed.
    index : int
        The case.
    max_time : float
        The fit's ``max_time``.

    Returns
    -------
    int
        1 when the case has a defect, else 0.
    """
    case = generate_case(seed, index)
    print(case.describe())
    (result,) = run_cases([case], max_time)
    for key, value in result.items():
        if key != "traceback":
            print(f"{key}: {value}")
    if result.get("traceback"):
        print(result["traceback"])
    found = defects(case, result, max_time)
    print(f"defects: {', '.join(found) or 'none'}")
    print("reproduce:\n    from benchmarks.fuzz_fit import generate_case, make_data\n"
          f"    X, y = make_data(generate_case({seed}, {index}))\n"
          f"    NALURegressor(max_time={max_time:g}, random_state={case.seed})"
          ".fit(X, y)")  # fmt: skip
    return 1 if found else 0


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """Within the block, SIGTERM stops the run like Ctrl-C (finished cases count)."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args: argparse.Namespace) -> int:
    """Fit the cases, print the table and the defects; 0 when there is none."""
    if args.case is not None:
        return rerun_case(args.seed, args.case, args.max_time)
    count = args.cases or (50 if getattr(args, "quick", False) else 500)
    jobs = (os.cpu_count() or 1) if args.jobs == -1 else max(1, args.jobs or 1)
    cases = generate_cases(args.seed, count)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    log = output / f"fuzz-fit-seed{args.seed}.jsonl"
    progress = _progress(count)
    with log.open("w") as handle, _sigterm_as_ctrl_c():

        def record(case: Case, result: dict[str, Any]) -> None:
            handle.write(json.dumps({"case": asdict(case), "description":
                                     case.describe(), **result}) + "\n")  # fmt: skip
            handle.flush()
            progress(case, result)

        results = run_cases(cases, args.max_time, jobs, on_result=record)
    finished = {result["index"] for result in results}
    cases = [case for case in cases if case.index in finished]
    text = report_text(args.seed, cases, results, args.max_time)
    print(text)
    write_report(output / f"fuzz-fit-seed{args.seed}.md", text)
    pairs = zip(cases, results, strict=True)
    return 1 if any(defects(c, r, args.max_time) for c, r in pairs) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run from the script's own command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--jobs", type=int, default=1, help="processes at once")
    parser.add_argument("--output", default=str(RESULTS_DIR))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
