"""Markdown tables of the ground-truth results, and SRBench 2021's published rates.

Rows come from the result CSV, so every value arrives as a string; the
helpers here parse what they use.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._common import (
    format_rate,
    markdown_table,
    report_header,
    shared_benchmarks_dir,
)
from benchmarks.sr.problems import Problem

if TYPE_CHECKING:
    from benchmarks.sr.suite import Settings

Row = dict[str, str]

#: Published SRBench 2021 columns: (CSV column, table header).
PUBLISHED_COLUMNS = (
    ("sym_all_noise0", "all, noise 0"),
    ("sym_all_noise0.001", "all, 0.001"),
    ("sym_all_noise0.01", "all, 0.01"),
    ("sym_all_noise0.1", "all, 0.1"),
    ("sym_feynman_noise0", "Feynman, 0"),
    ("sym_strogatz_noise0", "Strogatz, 0"),
    ("acc_r2gt0.999_all_noise0", "R^2>0.999, all, 0"),
)
#: SRBench's method names for the tools run here.
PUBLISHED_NAMES = {"gplearn": "gplearn", "Operon": "pyoperon", "FFX": "ffx"}


def is_true(value: str) -> bool:
    """A boolean stored in the CSV."""
    return str(value).strip().lower() == "true"


def as_float(value: str) -> float:
    """A number stored in the CSV (NaN when empty)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def failed(row: Row) -> bool:
    """Whether the tool failed (raised or ran past the hard limit)."""
    return bool(row.get("error"))


def median_of(rows: Iterable[Row], field: str) -> float:
    """Median of a numeric column over rows where it is not NaN."""
    values = [as_float(row[field]) for row in rows]
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


def group(rows: Iterable[Row], *fields: str) -> dict[tuple[str, ...], list[Row]]:
    """Rows grouped by the values of ``fields``, in first-seen order."""
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row[f] for f in fields), []).append(row)
    return groups


def _noise_order(noise: str) -> float:
    return as_float(noise)


def summary_table(rows: Sequence[Row], tools: Sequence[str]) -> str:
    """Per tool and noise level: rates with 95% Wilson intervals and medians."""
    headers = [
        "tool", "noise", "solution rate (95% CI)", "R^2>0.999 rate",
        "median test R^2", "median extrap. R^2", "median s",
        "median complexity", "runs", "failures",
    ]  # fmt: skip
    table = []
    groups = group(rows, "tool", "noise")
    for tool in tools:
        noises = sorted({n for t, n in groups if t == tool}, key=_noise_order)
        for noise in noises:
            mine = groups[(tool, noise)]
            ran = [row for row in mine if not failed(row)]
            table.append([
                tool, as_float(noise),
                format_rate(sum(is_true(r["solved"]) for r in mine), len(mine)),
                format_rate(sum(is_true(r["accurate"]) for r in mine), len(mine)),
                median_of(ran, "r2_test"), median_of(ran, "r2_extrapolation"),
                median_of(mine, "seconds"), median_of(ran, "complexity"),
                len(mine), len(mine) - len(ran),
            ])  # fmt: skip
    return markdown_table(headers, table)


def read_published(path: Path | None = None) -> list[Row]:
    """SRBench 2021's published rates (empty when the file is absent)."""
    path = path or shared_benchmarks_dir() / "srbench_2021_groundtruth_rates.csv"
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def published_table(published: Sequence[Row], tools: Sequence[str]) -> str:
    """SRBench 2021's symbolic-solution rates (%), our tools' rows marked."""
    headers = ["method (SRBench 2021)"] + [title for _, title in PUBLISHED_COLUMNS]
    table = []
    for row in published:
        name = row["algorithm"]
        ours = PUBLISHED_NAMES.get(name)
        label = f"**{name}** (run here as {ours})" if ours in tools else name
        rates = [as_float(row[column]) for column, _ in PUBLISHED_COLUMNS]
        table.append([label, *rates])
    return markdown_table(headers, table)


def solved_mark(rows: Sequence[Row]) -> str:
    """``✓``/``✗``/``F`` (failed) for one run, ``k/n`` for several."""
    if not rows:
        return "–"
    if len(rows) == 1:
        if failed(rows[0]):
            return "F"
        return "✓" if is_true(rows[0]["solved"]) else "✗"
    return f"{sum(is_true(r['solved']) for r in rows)}/{len(rows)}"


def per_problem_table(
    rows: Sequence[Row], problems: Sequence[Problem], tools: Sequence[str]
) -> str:
    """Problem, truth and each tool's solved marks, one per noise level."""
    noises = sorted({row["noise"] for row in rows}, key=_noise_order)
    groups = group(rows, "problem", "tool", "noise")
    noise_label = " / ".join(f"{as_float(n):g}" for n in noises)
    headers = ["problem", "truth"] + [f"{tool} ({noise_label})" for tool in tools]
    table = []
    for problem in problems:
        marks = [
            " / ".join(
                solved_mark(groups.get((problem.name, tool, n), [])) for n in noises
            )
            for tool in tools
        ]
        table.append([problem.name, f"`{problem.truth}`", *marks])
    return markdown_table(headers, table)


def _count_notes(rows: Iterable[Row], test: Callable[[Row], bool]) -> Counter[str]:
    return Counter(row["tool"] for row in rows if test(row))


def exactness_lines(rows: Sequence[Row]) -> list[str]:
    """Per tool that reports it: exact claims, solved runs claimed, false claims.

    A false claim is a run the tool called exact that the judge did not solve.
    Rows written before the ``claimed_exact`` column existed count as no claim.
    """
    lines = []
    for (tool,), mine in group(rows, "tool").items():
        told = [r for r in mine if r.get("claimed_exact", "") != ""]
        if not told:
            continue
        claimed = [r for r in told if is_true(r["claimed_exact"])]
        solved = [r for r in told if is_true(r["solved"])]
        false = [r["problem"] for r in claimed if not is_true(r["solved"])]
        lines.append(
            f"{tool} called {len(claimed)} of {len(told)} runs exact; "
            f"{sum(is_true(r['claimed_exact']) for r in solved)} of the "
            f"{len(solved)} solved runs; false claims: {len(false)}"
            + (f" ({', '.join(sorted(set(false)))})" if false else "")
            + "."
        )
    return lines


def notes(rows: Sequence[Row]) -> list[str]:
    """Judge timeouts, tool failures, exact claims and dropped rows, as bullets."""
    lines = []
    timeouts = _count_notes(rows, lambda r: "timed out" in r["judge_note"])
    if timeouts:
        lines.append(f"Judge timeouts (counted as not solved): {dict(timeouts)}.")
    errors = _count_notes(rows, lambda r: r["judge_note"].startswith("judge error"))
    if errors:
        lines.append(f"Judge errors (counted as not solved): {dict(errors)}.")
    for (tool, error), count in Counter(
        (r["tool"], r["error"][:100]) for r in rows if failed(r)
    ).items():
        lines.append(f"{tool} failed {count}×: `{error}`")
    lines.extend(exactness_lines(rows))
    dropped = {
        r["problem"]: r["extrapolation_dropped"]
        for r in rows
        if as_float(r["extrapolation_dropped"]) > 0
    }
    if dropped:
        counts = ", ".join(f"{name}: {n}" for name, n in sorted(dropped.items()))
        lines.append(f"Extrapolation rows dropped (truth not finite): {counts}.")
    return [f"- {line}" for line in lines]


def protocol_lines(settings: Settings, problems: Sequence[Problem]) -> list[str]:
    """The protocol of this run, as markdown bullets."""
    fixed = problems and problems[0].y is not None
    rows = "fixed 400 rows per problem" if fixed else f"{settings.rows} sampled rows"
    return [
        f"- Problems: {len(problems)} of the {settings.suite} suite"
        + (" (the `--quick` subset)" if settings.quick else ""),
        f"- Data: {rows}, split 75/25 into training and test rows (at most "
        "10,000 for training); Gaussian noise of gamma × RMS(y_train) on the "
        "training targets only; noise-free test targets.",
        "- Extrapolation R^2: as many rows as the test set, each variable drawn "
        "from [high, high + (high − low)] of its range; rows where the truth is "
        "not finite are dropped.",
        f"- Noise levels gamma: {', '.join(f'{g:g}' for g in settings.noise)}; "
        f"seeds: {settings.seeds}; budget: {settings.budget:g} s per fit, equal "
        f"for every tool (FFX has no budget control and runs to completion); "
        f"hard limit {settings.hard_limit:g} s, then the run counts as a failure.",
        "- Solution (SRBench): test R^2 > 0.5 and, after rounding constants to 3 "
        "decimals (|c| < 1e-4 → 0), truth − model or model / truth is a constant; "
        f"symbolic steps limited to {settings.simplify_timeout:g} s (a timeout is "
        "not a solution). Accuracy: test R^2 > 0.999. Complexity: nodes of the "
        "rounded SymPy expression tree, counted the same way for every tool.",
        "- Rates are over all runs, failures included; medians over runs that "
        "did not fail (time: all runs).",
    ]


def build_report(
    settings: Settings,
    rows: Sequence[Row],
    problems: Sequence[Problem],
    tools: Sequence[str],
    skipped: Sequence[str],
) -> tuple[str, str]:
    """The markdown report and the tables part of it (to print)."""
    tables = "\n".join(
        [
            f"## Results: {settings.suite}\n",
            summary_table(rows, tools),
            *notes(rows),
            "",
            "## SRBench 2021, published\n",
            "Symbolic-solution rates (%) published by SRBench 2021 on its full "
            "protocol (130 problems, 10 seeds, up to 1M evaluations or 8 h per "
            "run, tuned settings): context, not comparable run-for-run with the "
            "table above.\n",
            published_table(read_published(), tools),
            "## Per problem\n",
            "✓ solved, ✗ not solved, F tool failed; k/n over seeds.\n",
            per_problem_table(rows, problems, tools),
        ]
    )
    header = report_header(f"Ground-truth symbolic regression: {settings.suite}")
    setup = [*protocol_lines(settings, problems), f"- Tools: {', '.join(tools)}"]
    setup += [f"- {message}" for message in skipped]
    return "\n".join([header, "## Protocol\n", *setup, "", tables]), tables
