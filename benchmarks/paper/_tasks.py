"""Shared pieces of the NALU-paper suites: the arithmetic task, training, scoring.

The static and recurrent suites follow the protocol that Madsen & Johansen
(ICLR 2020) fixed for the NALU paper's "simple function" task: the input is a
vector ``x``; ``a`` and ``b`` are sums over two overlapping contiguous subsets
of its entries (and, in the recurrent task, over every time step); the target
is ``a ∘ b``. Everything here is model-agnostic: a model is any torch module
mapping inputs to ``(batch, 1)``.
"""

from __future__ import annotations

import copy
import itertools
import math
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks._common import (
    ResultStore,
    markdown_table,
    parallel_map,
    progress,
    wilson_interval,
)
from nalu_sr.training.schedules import linear_ramp
from nalu_sr.units import ArithmeticUnit

#: Madsen & Johansen's perturbation of the true weights for the success threshold.
SUCCESS_EPSILON = 1e-5
#: Scores above this are printed as ">999", as in the NALU paper's table.
SCORE_CAP = 999.0


@dataclass(frozen=True)
class Operation:
    """One arithmetic operation of the task.

    Attributes
    ----------
    name : str
        Short name used in results files and on the command line.
    label : str
        How the operation is written in tables (``"a × b"``).
    apply : callable
        ``apply(a, b)`` on torch tensors or numpy arrays.
    """

    name: str
    label: str
    apply: Callable[[Any, Any], Any]


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("add", "a + b", lambda a, b: a + b),
        Operation("sub", "a − b", lambda a, b: a - b),
        Operation("mul", "a × b", lambda a, b: a * b),
        Operation("div", "a / b", lambda a, b: a / b),
        Operation("squared", "a²", lambda a, b: a * a),
        Operation("root", "√a", lambda a, b: a**0.5),
    )
}
#: Operations a sum (NAU/NAC head) solves; the others need a product head.
ADDITIVE_OPERATIONS = frozenset({"add", "sub"})


@dataclass(frozen=True)
class SubsetLayout:
    """Where the two summed subsets sit in the input vector.

    ``a = sum(x[a_start:a_end])`` and ``b = sum(x[b_start:b_end])``; the
    second subset starts ``overlap`` entries before the first one ends.
    """

    input_size: int
    a_start: int
    a_end: int
    b_start: int
    b_end: int

    @classmethod
    def draw(
        cls,
        input_size: int,
        subset_ratio: float,
        overlap_ratio: float,
        rng: np.random.Generator,
    ) -> SubsetLayout:
        """Place the subsets at a random offset, Madsen & Johansen style.

        The subset size is ``floor(subset_ratio * input_size)`` and the overlap
        ``floor(overlap_ratio * subset_size)`` (both floors as in their
        threshold script); the overlap is a fraction of the subset, not of the
        input, which is what makes the published defaults (0.25, 0.5) valid.
        """
        subset = math.floor(subset_ratio * input_size)
        overlap = math.floor(overlap_ratio * subset)
        span = 2 * subset - overlap
        if subset < 1 or span > input_size:
            raise ValueError(
                f"subset ratio {subset_ratio} and overlap {overlap_ratio} do not "
                f"fit an input of size {input_size}"
            )
        a_start = int(rng.integers(0, input_size - span + 1))
        b_start = a_start + subset - overlap
        return cls(input_size, a_start, a_start + subset, b_start, b_start + subset)

    def sums(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(a, b)`` of shape ``(batch, 1)``, summed over every axis but 0.

        A static batch has shape ``(batch, input_size)``; a recurrent one
        ``(batch, time, input_size)`` and the sums run over time too.
        """
        dims = tuple(range(1, x.dim()))
        a = x[..., self.a_start : self.a_end].sum(dim=dims).unsqueeze(-1)
        b = x[..., self.b_start : self.b_end].sum(dim=dims).unsqueeze(-1)
        return a, b

    def selection_weights(self, epsilon: float = 0.0) -> np.ndarray:
        """The true first-layer weights ``(2, input_size)``, perturbed by ``epsilon``.

        Selected entries are ``1 - epsilon`` and the others ``0 + epsilon``:
        every weight moved towards the wrong side, as in the success criterion.
        """
        weights = np.full((2, self.input_size), epsilon)
        weights[0, self.a_start : self.a_end] = 1.0 - epsilon
        weights[1, self.b_start : self.b_end] = 1.0 - epsilon
        return weights


def uniform(
    shape: Sequence[int],
    low: float,
    high: float,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Samples from U[low, high] of the given shape."""
    return low + (high - low) * torch.rand(*shape, generator=generator, dtype=dtype)


def make_target(op: str, layout: SubsetLayout, x: torch.Tensor) -> torch.Tensor:
    """The task's target ``a ∘ b`` for inputs ``x``, shape ``(batch, 1)``."""
    a, b = layout.sums(x)
    target: torch.Tensor = OPERATIONS[op].apply(a, b)
    return target


def op_on_hidden(op: str, hidden: torch.Tensor) -> torch.Tensor:
    """Apply the operation to a two-column hidden layer ``(z_a, z_b)``."""
    output: torch.Tensor = OPERATIONS[op].apply(hidden[:, :1], hidden[:, 1:])
    return output


def static_threshold(
    op: str, layout: SubsetLayout, x: torch.Tensor, epsilon: float = SUCCESS_EPSILON
) -> float:
    """MSE of the ε-perturbed true solution on the test inputs ``x``.

    The true solution selects ``a`` and ``b`` in a first layer and applies the
    operation exactly; every first-layer weight is moved ``epsilon`` towards
    the wrong side. A run succeeds when its own extrapolation MSE is lower.
    """
    x64 = x.double()
    exact = torch.from_numpy(layout.selection_weights(0.0))
    perturbed = torch.from_numpy(layout.selection_weights(epsilon))
    truth = op_on_hidden(op, x64 @ exact.T)
    nearly = op_on_hidden(op, x64 @ perturbed.T)
    return float(torch.mean((nearly - truth) ** 2))


def reset_linear(layer: nn.Linear, generator: torch.Generator) -> None:
    """PyTorch's default Linear initialisation, but drawn from ``generator``."""
    bound = 1.0 / math.sqrt(layer.in_features)
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=generator)
        if layer.bias is not None:
            layer.bias.uniform_(-bound, bound, generator=generator)


def build_mlp(
    sizes: Sequence[int],
    activation: Callable[[], nn.Module] | None,
    generator: torch.Generator,
) -> nn.Sequential:
    """Linear layers of the given sizes with a fresh ``activation()`` between them.

    A new activation per layer keeps learnable ones (PReLU) unshared.
    """
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        linear = nn.Linear(fan_in, fan_out)
        reset_linear(linear, generator)
        layers.append(linear)
        if activation is not None and index < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


# ---------------------------------------------------------------- training


@dataclass(frozen=True)
class PenaltySchedule:
    """Linear warm-up of the units' regulariser, as fractions of the budget.

    Madsen & Johansen ramp ``lambda`` between two absolute iterations of a
    5·10⁶-step run; expressing the ramp as fractions keeps the same shape
    for the short budgets that fit on a laptop.
    """

    weight: float = 0.0
    start: float = 0.0
    end: float = 0.0

    def at(self, step: int, iterations: int) -> float:
        """Regulariser weight at ``step`` of a run of ``iterations`` steps."""
        if self.weight == 0.0:
            return 0.0
        start = int(self.start * iterations)
        end = int(self.end * iterations)
        return linear_ramp(step, start, end, self.weight)


#: No regulariser (the paper's models and plain MLPs).
NO_PENALTY = PenaltySchedule()


def arithmetic_units(model: nn.Module) -> list[ArithmeticUnit]:
    """Every arithmetic unit inside ``model``."""
    return [m for m in model.modules() if isinstance(m, ArithmeticUnit)]


def unit_penalty(model: nn.Module) -> torch.Tensor:
    """Sum of the regularisers of the model's arithmetic units."""
    penalties = [unit.penalty() for unit in arithmetic_units(model)]
    return torch.stack(penalties).sum() if penalties else torch.zeros(())


def discreteness_error(model: nn.Module) -> float:
    """Largest distance of any unit weight from its snapped value (NaN if none)."""
    units = arithmetic_units(model)
    if not units:
        return math.nan
    return max(unit.discreteness_error() for unit in units)


@dataclass
class TrainOutcome:
    """What a training run reports: final batch loss and whether it diverged."""

    final_loss: float
    diverged: bool
    steps: int


def train_model(
    model: nn.Module,
    sample: Callable[[torch.Generator], tuple[torch.Tensor, torch.Tensor]],
    iterations: int,
    learning_rate: float,
    schedule: PenaltySchedule,
    generator: torch.Generator,
) -> TrainOutcome:
    """Adam on fresh batches from ``sample``, with the units' ramped regulariser.

    Each step draws a new batch (the protocol samples the training range
    afresh instead of cycling a fixed data set) and, after the optimiser step,
    projects every unit back into its valid range (NAU/NMU weight clamps).
    A non-finite loss stops the run and marks it diverged.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    units = arithmetic_units(model)
    loss_value = math.nan
    model.train()
    for step in range(iterations):
        x, y = sample(generator)
        data_loss = torch.mean((model(x) - y) ** 2)
        loss_value = float(data_loss.detach())
        if not math.isfinite(loss_value):
            return TrainOutcome(math.inf, True, step)
        weight = schedule.at(step, iterations)
        loss = data_loss + weight * unit_penalty(model) if weight > 0 else data_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        for unit in units:
            unit.constrain_()
    model.eval()
    return TrainOutcome(loss_value, False, iterations)


def evaluate_mse(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 2500
) -> float:
    """Mean squared error of ``model`` on ``(x, y)`` in float64; ``inf`` if not finite.

    Evaluating in double precision keeps large extrapolation outputs (products
    of sums over [2, 6]) from overflowing, so a bad model scores a large
    finite error rather than NaN.
    """
    double = copy.deepcopy(model).double().eval()
    total = 0.0
    with torch.no_grad():
        for begin in range(0, len(x), chunk):
            pred = double(x[begin : begin + chunk].double())
            total += float(torch.sum((pred - y[begin : begin + chunk].double()) ** 2))
    mse = total / len(x)
    return mse if math.isfinite(mse) else math.inf


def mean_finite(values: Iterable[float]) -> float:
    """Mean of the finite values (NaN when there are none).

    Random initialisations of log-space units occasionally overflow even in
    float64; one infinite baseline would turn every score into 0.
    """
    finite = [v for v in values if math.isfinite(v)]
    return statistics.fmean(finite) if finite else math.nan


# ---------------------------------------------------------------- scoring


def normalised_score(mse: float, baseline_mse: float) -> float:
    """The NALU paper's metric: ``100 * mse / baseline_mse`` (100 = random init)."""
    if not math.isfinite(baseline_mse) or baseline_mse <= 0:
        return math.nan
    return 100.0 * mse / baseline_mse


def format_score(score: float) -> str:
    """A normalised score as printed in the tables: one decimal, or ">999"."""
    if math.isnan(score):
        return "–"
    if score > SCORE_CAP:
        return ">999"
    return f"{score:.1f}"


def median(values: Sequence[float]) -> float:
    """Median that tolerates infinities (NaN for an empty list)."""
    return float(np.median(values)) if len(values) else math.nan


def success_cell(successes: int, total: int) -> str:
    """``"2/3 (21–94%)"``: successes out of runs and the 95% Wilson interval."""
    if total == 0:
        return "–"
    low, high = wilson_interval(successes, total)
    return f"{successes}/{total} ({100 * low:.0f}–{100 * high:.0f}%)"


def parse_float(text: str) -> float:
    """A float from a CSV cell ('' and 'nan' give NaN, 'inf' gives inf)."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def parse_csv_list(text: str, allowed: Iterable[str], what: str) -> list[str]:
    """Split a comma-separated option and check every entry is known."""
    allowed = list(allowed)
    items = [item.strip() for item in text.split(",") if item.strip()]
    unknown = [item for item in items if item not in allowed]
    if unknown:
        raise SystemExit(
            f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(allowed)})"
        )
    return items


# ---------------------------------------------------------------- tables


def model_rows(rows: list[dict[str, str]], op: str, model: str) -> list[dict[str, str]]:
    """The stored runs of one (op, model) cell."""
    return [row for row in rows if row["op"] == op and row["model"] == model]


def median_score(runs: list[dict[str, str]], which: str) -> float:
    """Median normalised score over runs; ``which`` names the test set."""
    scores = [
        normalised_score(
            parse_float(run[f"{which}_mse"]), parse_float(run[f"baseline_{which}_mse"])
        )
        for run in runs
    ]
    return median([s for s in scores if not math.isnan(s)])


def score_table(
    rows: list[dict[str, str]],
    ops: Sequence[str],
    models: Sequence[str],
    labels: dict[str, str],
    which: str,
) -> str:
    """Median normalised score per op (rows) and model (columns)."""
    table = []
    for op in ops:
        cells = [
            format_score(median_score(model_rows(rows, op, model), which))
            for model in models
        ]
        table.append([OPERATIONS[op].label, *cells])
    return markdown_table(["Op", *(labels[m] for m in models)], table)


def success_table(
    rows: list[dict[str, str]],
    ops: Sequence[str],
    models: Sequence[str],
    labels: dict[str, str],
) -> str:
    """Successes/runs per cell with the rate and its 95% Wilson interval."""
    table = []
    for op in ops:
        cells = []
        for model in models:
            runs = model_rows(rows, op, model)
            successes = sum(run["success"] == "True" for run in runs)
            cells.append(success_cell(successes, len(runs)))
        table.append([OPERATIONS[op].label, *cells])
    return markdown_table(["Op", *(labels[m] for m in models)], table)


def select_rows(
    rows: list[dict[str, str]],
    ops: Sequence[str],
    models: Sequence[str],
    seeds: int,
    iterations: int,
) -> list[dict[str, str]]:
    """The stored rows that belong to the requested configuration."""
    return [
        row
        for row in rows
        if row["op"] in ops
        and row["model"] in models
        and int(row["seed"]) < seeds
        and int(row["iterations"]) == iterations
    ]


def run_missing(
    store: ResultStore,
    tasks: Sequence[Any],
    function: Callable[[Any], dict[str, Any]],
    jobs: int,
    description: str,
) -> float | None:
    """Run the tasks whose rows are not stored yet; return the wall time.

    ``function(task)`` returns the task's row; each row is appended as soon
    as its run ends, so an interrupted suite resumes where it stopped.
    Returns ``None`` when nothing was left to run.
    """
    if not tasks:
        return None
    started = time.perf_counter()
    results = parallel_map(function, tasks, jobs)
    for row in progress(results, len(tasks), description):
        store.append(row)
    return time.perf_counter() - started


def findings(
    rows: list[dict[str, str]],
    ops: Sequence[str],
    models: Sequence[str],
    labels: dict[str, str],
) -> str:
    """Bullet points read off this run's rows: successes, and flattering scores.

    A cell "looks solved" when its median extrapolation score is below 1
    (the NALU paper would print 0.x) although no seed met the success
    criterion; listing those cells shows how far the two metrics disagree.
    """
    won = [row for row in rows if row["success"] == "True"]
    counts: dict[tuple[str, str], int] = {}
    for row in won:
        counts[row["op"], row["model"]] = counts.get((row["op"], row["model"]), 0) + 1
    if won:
        listing = ", ".join(
            f"{labels[model]} on {OPERATIONS[op].label} ({count})"
            for (op, model), count in sorted(counts.items())
        )
        lines = [
            f"- {len(won)} of {len(rows)} runs met the success criterion: {listing}."
        ]
    else:
        lines = [f"- None of the {len(rows)} runs met the success criterion."]
    flattered = [
        f"{labels[model]} on {OPERATIONS[op].label}"
        for op in ops
        for model in models
        if (op, model) not in counts
        and median_score(model_rows(rows, op, model), "extrapolation") < 1.0
    ]
    if flattered:
        lines.append(
            "- Median extrapolation score below 1 but no successful seed: "
            + ", ".join(flattered)
            + "."
        )
    return "\n".join(lines)


def timing_line(rows: list[dict[str, str]], wall_seconds: float | None) -> str:
    """A bullet with the summed per-run times and, if runs happened now, the wall time.

    A resumed invocation that had nothing left to run has no wall time of its
    own; the summed per-run seconds still say what the rows cost.
    """
    total = sum(parse_float(row["seconds"]) for row in rows)
    text = f"- Runs in this report: {len(rows)}, {total:.0f} s summed over runs"
    if wall_seconds is not None:
        text += f"; wall time of this invocation {wall_seconds:.0f} s"
    return text + "."
