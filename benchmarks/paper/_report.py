"""Reports of the NALU-paper suites: stored rows read back into markdown tables.

Every function here reads rows as :class:`benchmarks._common.ResultStore`
returns them (strings), so a report can be rebuilt from a resumed CSV file.
The static and recurrent suites share the whole report layout
(:class:`ArithmeticReport`); the MLP suite shares its opening.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic

import numpy as np

from benchmarks._common import markdown_table, report_header, wilson_interval
from benchmarks.paper._tasks import OPERATIONS, ConfigT, normalised_score

#: One stored result row, as read back from the CSV file.
Row = dict[str, str]

#: Scores above this are printed as ">999", as in the NALU paper's table.
SCORE_CAP = 999.0


# ---------------------------------------------------------------- cells


def parse_float(text: str) -> float:
    """A float from a CSV cell ('' and 'nan' give NaN, 'inf' gives inf)."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def median(values: Sequence[float]) -> float:
    """Median that tolerates infinities (NaN for an empty list)."""
    return float(np.median(values)) if len(values) else math.nan


def format_score(score: float) -> str:
    """A normalised score as printed in the tables: one decimal, or ">999"."""
    if math.isnan(score):
        return "–"
    if score > SCORE_CAP:
        return ">999"
    return f"{score:.1f}"


def success_cell(successes: int, total: int) -> str:
    """``"2/3 (21–94%)"``: successes out of runs and the 95% Wilson interval."""
    if total == 0:
        return "–"
    low, high = wilson_interval(successes, total)
    return f"{successes}/{total} ({100 * low:.0f}–{100 * high:.0f}%)"


def median_score(runs: Sequence[Row], which: str) -> float:
    """Median normalised score over runs; ``which`` names the test set."""
    scores = [
        normalised_score(
            parse_float(run[f"{which}_mse"]), parse_float(run[f"baseline_{which}_mse"])
        )
        for run in runs
    ]
    return median([s for s in scores if not math.isnan(s)])


@dataclass(frozen=True)
class Cells:
    """The rows of a report and the (op, model) cells they fill.

    Attributes
    ----------
    rows : list of dict
        The stored runs that belong to the report's configuration.
    ops, models : sequence of str
        The table rows (operations) and columns (models), in order.
    labels : mapping
        Model name -> column label.
    """

    rows: list[Row]
    ops: Sequence[str]
    models: Sequence[str]
    labels: Mapping[str, str]

    def runs(self, op: str, model: str) -> list[Row]:
        """The stored runs of one (op, model) cell."""
        return [row for row in self.rows if row["op"] == op and row["model"] == model]

    def op_runs(self, op: str) -> list[Row]:
        """The stored runs of one operation, every model."""
        return [row for row in self.rows if row["op"] == op]


# ---------------------------------------------------------------- tables


def op_table(
    ops: Sequence[str],
    models: Sequence[str],
    labels: Mapping[str, str],
    cell: Callable[[str, str], Any],
) -> str:
    """A table with a row per op, a column per model, cells from ``cell(op, model)``."""
    table = [
        [OPERATIONS[op].label, *(cell(op, model) for model in models)] for op in ops
    ]
    return markdown_table(["Op", *(labels[model] for model in models)], table)


def score_table(cells: Cells, which: str) -> str:
    """Median normalised score per op (rows) and model (columns)."""
    return op_table(
        cells.ops,
        cells.models,
        cells.labels,
        lambda op, model: format_score(median_score(cells.runs(op, model), which)),
    )


def success_table(cells: Cells) -> str:
    """Successes/runs per cell with the rate and its 95% Wilson interval."""

    def cell(op: str, model: str) -> str:
        runs = cells.runs(op, model)
        return success_cell(sum(run["success"] == "True" for run in runs), len(runs))

    return op_table(cells.ops, cells.models, cells.labels, cell)


def detail_table(cells: Cells) -> str:
    """Per op: the median success threshold, seconds per run (median, max), runs."""
    table = []
    for op in cells.ops:
        runs = cells.op_runs(op)
        seconds = [parse_float(run["seconds"]) for run in runs]
        thresholds = [parse_float(run["threshold"]) for run in runs]
        table.append(
            [
                OPERATIONS[op].label,
                median(thresholds),
                median(seconds),
                max(seconds, default=math.nan),
                len(runs),
            ]
        )
    headers = [
        "Op",
        "ε-threshold (extrap. MSE, median over seeds)",
        "Median s/run",
        "Max s/run",
        "Runs",
    ]
    return markdown_table(headers, table)


# ---------------------------------------------------------------- prose


def success_line(cells: Cells, counts: Counter[tuple[str, str]]) -> str:
    """The bullet that counts successful runs, per (op, model) cell."""
    total = len(cells.rows)
    if not counts:
        return f"- None of the {total} runs met the success criterion."
    listing = ", ".join(
        f"{cells.labels[model]} on {OPERATIONS[op].label} ({count})"
        for (op, model), count in sorted(counts.items())
    )
    won = sum(counts.values())
    return f"- {won} of {total} runs met the success criterion: {listing}."


def findings(cells: Cells) -> str:
    """Bullet points read off this run's rows: successes, and flattering scores.

    A cell "looks solved" when its median extrapolation score is below 1
    (the NALU paper would print 0.x) although no seed met the success
    criterion; listing those cells shows how far the two metrics disagree.
    """
    counts = Counter(
        (row["op"], row["model"]) for row in cells.rows if row["success"] == "True"
    )
    lines = [success_line(cells, counts)]
    flattered = [
        f"{cells.labels[model]} on {OPERATIONS[op].label}"
        for op in cells.ops
        for model in cells.models
        if (op, model) not in counts
        and median_score(cells.runs(op, model), "extrapolation") < 1.0
    ]
    if flattered:
        lines.append(
            "- Median extrapolation score below 1 but no successful seed: "
            + ", ".join(flattered)
            + "."
        )
    return "\n".join(lines)


def timing_line(rows: Sequence[Row], wall_seconds: float | None) -> str:
    """A bullet with the summed per-run times and, if runs happened now, the wall time.

    A resumed invocation that had nothing left to run has no wall time of its
    own; the summed per-run seconds still say what the rows cost.
    """
    total = sum(parse_float(row["seconds"]) for row in rows)
    text = f"- Runs in this report: {len(rows)}, {total:.0f} s summed over runs"
    if wall_seconds is not None:
        text += f"; wall time of this invocation {wall_seconds:.0f} s"
    return text + "."


def scoring_line(seeds: int, random_inits: int, note: str = "") -> str:
    """The setup bullet that says how scores are normalised (``note`` appended)."""
    return (
        f"- {seeds} seeds per cell; scores are medians over seeds of "
        f"100 × MSE / mean MSE of {random_inits} untrained networks of "
        f"the same kind{note}."
    )


def jobs_line(jobs: int) -> str:
    """The setup bullet that says how many processes ran."""
    return f"- {jobs} parallel job(s), one torch thread each."


# ---------------------------------------------------------------- reports


def report_opening(
    title: str,
    setup: Sequence[str],
    rows: Sequence[Row],
    wall_seconds: float | None,
) -> list[str]:
    """Header and setup section (bullets, then the timing bullet) of a report."""
    return [
        report_header(title),
        "",
        "## Setup\n",
        "\n".join([*setup, timing_line(rows, wall_seconds)]),
    ]


@dataclass(frozen=True)
class ArithmeticReport(Generic[ConfigT]):
    """The report of an arithmetic-task suite (static or recurrent).

    Both suites print the same tables of their own runs; they differ in the
    attributes below.

    Attributes
    ----------
    title : str
        The report's title.
    setup_lines : callable
        ``setup_lines(config, seeds, jobs)``: the setup bullets.
    published : callable
        ``published(cells)``: the papers' tables as ``(heading, table)``
        pairs, printed between our success rates and the thresholds.
    interpretation : str
        The general "What this shows" bullets.
    """

    title: str
    setup_lines: Callable[[ConfigT, int, int], list[str]]
    published: Callable[[Cells], list[tuple[str, str]]]
    interpretation: str

    def build(
        self,
        cells: Cells,
        config: ConfigT,
        seeds: int,
        jobs: int,
        wall_seconds: float | None,
    ) -> str:
        """The markdown report of the runs in ``cells``."""
        setup = self.setup_lines(config, seeds, jobs)
        parts = [
            *report_opening(self.title, setup, cells.rows, wall_seconds),
            "\n## Interpolation error (ours; 100 = untrained network, median over "
            "seeds)\n",
            score_table(cells, "interpolation"),
            "## Extrapolation error (ours; 100 = untrained network, median over "
            "seeds)\n",
            score_table(cells, "extrapolation"),
            "## Success rate (ours: successes/seeds and 95% Wilson interval)\n",
            success_table(cells),
        ]
        for heading, table in self.published(cells):
            parts += [f"## {heading}\n", table]
        parts += [
            "## Thresholds and cost\n",
            detail_table(cells),
            "## What this shows\n",
            "In this run:\n",
            findings(cells) + "\n",
            "In general:\n",
            self.interpretation,
        ]
        return "\n".join(parts)
