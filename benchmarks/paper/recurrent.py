"""Table 1 of the NALU paper, recurrent half, at a small scale.

A recurrent network reads a sequence of input vectors (10 entries from
U[1,2] per step); ``a`` and ``b`` are sums of two fixed, overlapping subsets of
the entries, accumulated over every step, and the network must output
``a ∘ b`` after the last step. It trains on short sequences and is tested on
sequences of the same length (interpolation) and much longer ones
(extrapolation: the accumulated sums leave the training range).

Cells: LSTM and a plain ReLU RNN (each with a linear read-out), and
arithmetic cells ``h_t = unit([x_t, h_{t-1}])`` of hidden size 2 followed by
an arithmetic head: NAC → NAC, NALU → NALU, and NAU → NAU (for + and −) or
NAU → NMU (otherwise), as in Madsen & Johansen's recurrent experiment.
Scores and success criterion as in the static suite.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks._common import (
    ResultStore,
    markdown_table,
    report_header,
    write_report,
)
from benchmarks.paper._tasks import (
    ADDITIVE_OPERATIONS,
    OPERATIONS,
    SUCCESS_EPSILON,
    PenaltySchedule,
    SubsetLayout,
    discreteness_error,
    evaluate_mse,
    findings,
    make_target,
    mean_finite,
    median,
    op_on_hidden,
    parse_csv_list,
    parse_float,
    run_missing,
    score_table,
    select_rows,
    success_table,
    timing_line,
    train_model,
    uniform,
)

DESCRIPTION = "NALU paper Table 1, recurrent half: a∘b of sums over a sequence"

SUITE = "recurrent"
KEY_FIELDS = ("op", "model", "seed", "iterations", "train_length", "test_length")

MODEL_LABELS: dict[str, str] = {
    "lstm": "LSTM",
    "relu-rnn": "ReLU",
    "nac": "NAC",
    "nalu": "NALU",
    "nau-nmu": "NAU/NMU",
}

#: NALU paper Table 1, recurrent half, extrapolation scores only, as
#: transcribed in the design notes (§1.3): from memory, NOT verified.
#: Columns LSTM, ReLU, NAC, NALU; ``math.inf`` stands for ">999".
PAPER_COLUMNS = ("lstm", "relu-rnn", "nac", "nalu")
PAPER_RECURRENT_EXTRAPOLATION: dict[str, tuple[float, ...]] = {
    "add": (96.1, 85.5, 0.0, 0.0),
    "sub": (97.0, 70.9, 0.0, 0.0),
    "mul": (98.2, 97.9, 88.4, 0.0),
    "div": (95.6, 863.5, math.inf, math.inf),
    "squared": (98.0, 98.0, 123.7, 0.0),
    "root": (95.8, 34.1, math.inf, 0.0),
}

#: Regulariser schedules, as in the static suite (fractions of the budget).
PRODUCT_SCHEDULE = PenaltySchedule(10.0, 0.2, 0.4)
SUM_SCHEDULE = PenaltySchedule(0.01, 0.001, 0.01)
NO_PENALTY = PenaltySchedule()


@dataclass(frozen=True)
class RecurrentConfig:
    """Everything that defines a run apart from op, model and seed."""

    iterations: int = 20_000
    learning_rate: float = 1e-3
    batch_size: int = 128
    input_size: int = 10
    subset_ratio: float = 0.25
    overlap_ratio: float = 0.5
    hidden_size: int = 2
    rnn_hidden_size: int = 16
    value_range: tuple[float, float] = (1.0, 2.0)
    train_length: int = 10
    test_length: int = 1000
    test_size: int = 1000
    random_inits: int = 10


@dataclass(frozen=True)
class RecurrentTask:
    """One run: an operation, a model and a seed under a configuration."""

    op: str
    model: str
    seed: int
    config: RecurrentConfig


_TEST_STREAM, _TRAIN_STREAM, _INIT_STREAM, _RANDOM_INIT_STREAM = 1, 2, 3, 100


def generator_for(seed: int, stream: int) -> torch.Generator:
    """An independent torch generator per (seed, purpose)."""
    return torch.Generator().manual_seed(1000 * seed + stream)


# ---------------------------------------------------------------- models


class UnitCell(nn.Module):
    """A recurrent cell ``h_t = unit([x_t, h_{t-1}])`` with ``h_0 = 0``.

    The unit sees the current input and the previous state side by side, so
    an exact accumulator is a unit whose state-to-state block is the identity.
    """

    def __init__(self, unit: nn.Module, hidden_size: int) -> None:
        super().__init__()
        self.unit = unit
        self.hidden_size = hidden_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the last state for inputs of shape ``(batch, time, features)``."""
        state = x.new_zeros(x.shape[0], self.hidden_size)
        for step in range(x.shape[1]):
            state = self.unit(torch.cat([x[:, step], state], dim=-1))
        return state


class ClassicRNN(nn.Module):
    """An LSTM or a ReLU RNN whose last output goes through a linear read-out."""

    def __init__(
        self, kind: str, input_size: int, hidden_size: int, generator: torch.Generator
    ) -> None:
        super().__init__()
        if kind == "lstm":
            self.rnn: nn.RNNBase = nn.LSTM(input_size, hidden_size, batch_first=True)
        else:
            self.rnn = nn.RNN(
                input_size, hidden_size, nonlinearity="relu", batch_first=True
            )
        self.head = nn.Linear(hidden_size, 1)
        # PyTorch's default RNN initialisation, drawn from our generator.
        bound = 1.0 / math.sqrt(hidden_size)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.uniform_(-bound, bound, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the read-out of the last step, shape ``(batch, 1)``."""
        outputs, _ = self.rnn(x)
        read_out: torch.Tensor = self.head(outputs[:, -1])
        return read_out


def build_network(
    model: str, op: str, config: RecurrentConfig, generator: torch.Generator
) -> nn.Module:
    """A freshly initialised recurrent network of kind ``model`` for ``op``."""
    from nalu_sr.units import NAC, NALU, NAU, NMU

    if model in ("lstm", "relu-rnn"):
        return ClassicRNN(model, config.input_size, config.rnn_hidden_size, generator)
    cell_unit: Callable[..., nn.Module]
    head_unit: Callable[..., nn.Module]
    if model == "nac":
        cell_unit, head_unit = NAC, NAC
    elif model == "nalu":
        cell_unit, head_unit = NALU, NALU
    elif model == "nau-nmu":
        cell_unit = NAU
        head_unit = NAU if op in ADDITIVE_OPERATIONS else NMU
    else:
        raise ValueError(f"unknown recurrent model {model!r}")
    h = config.hidden_size
    cell = UnitCell(cell_unit(config.input_size + h, h, generator=generator), h)
    return nn.Sequential(cell, head_unit(h, 1, generator=generator))


def penalty_schedule(model: str, op: str) -> PenaltySchedule:
    """The regulariser schedule of ``model`` (only NAU/NMU is regularised)."""
    if model == "nau-nmu":
        return SUM_SCHEDULE if op in ADDITIVE_OPERATIONS else PRODUCT_SCHEDULE
    return NO_PENALTY


# ---------------------------------------------------------------- data


def task_layout(seed: int, config: RecurrentConfig) -> SubsetLayout:
    """The subset layout of a seed (shared by every model and operation)."""
    return SubsetLayout.draw(
        config.input_size,
        config.subset_ratio,
        config.overlap_ratio,
        np.random.default_rng(seed),
    )


def sequences(
    count: int,
    length: int,
    config: RecurrentConfig,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Input sequences of shape ``(count, length, input_size)``."""
    shape = (count, length, config.input_size)
    return uniform(shape, *config.value_range, generator, dtype)


@dataclass(frozen=True)
class TestSets:
    """Fixed short (interpolation) and long (extrapolation) test sequences."""

    x_interpolation: torch.Tensor
    y_interpolation: torch.Tensor
    x_extrapolation: torch.Tensor
    y_extrapolation: torch.Tensor


def make_test_sets(
    op: str, layout: SubsetLayout, seed: int, config: RecurrentConfig
) -> TestSets:
    """Draw the seed's test sequences in float64 with their exact targets."""
    generator = generator_for(seed, _TEST_STREAM)
    x_int = sequences(
        config.test_size, config.train_length, config, generator, torch.float64
    )
    x_ext = sequences(
        config.test_size, config.test_length, config, generator, torch.float64
    )
    return TestSets(
        x_int, make_target(op, layout, x_int), x_ext, make_target(op, layout, x_ext)
    )


def recurrent_threshold(
    op: str, layout: SubsetLayout, x: torch.Tensor, epsilon: float = SUCCESS_EPSILON
) -> float:
    """MSE of the ε-perturbed true recurrent solution on sequences ``x``.

    The true solution accumulates ``z_t = W_x x_t + W_h z_{t-1}`` with
    ``W_x`` selecting the two subsets and ``W_h`` the identity, then applies
    the operation to ``z_T``. Every weight of ``W_x`` and ``W_h`` is moved
    ``epsilon`` towards the wrong side (1 - ε and 0 + ε).
    """
    x64 = x.double()
    input_weights = torch.from_numpy(layout.selection_weights(epsilon))
    state_weights = torch.tensor(
        [[1.0 - epsilon, epsilon], [epsilon, 1.0 - epsilon]], dtype=torch.float64
    )
    state = x64.new_zeros(x64.shape[0], 2)
    for step in range(x64.shape[1]):
        state = x64[:, step] @ input_weights.T + state @ state_weights.T
    nearly = op_on_hidden(op, state)
    truth = make_target(op, layout, x64)
    return float(torch.mean((nearly - truth) ** 2))


# ---------------------------------------------------------------- one run


def random_baseline(
    model: str, op: str, tests: TestSets, seed: int, config: RecurrentConfig
) -> tuple[float, float]:
    """Mean interpolation and extrapolation MSE of untrained ``model`` networks."""
    interpolation, extrapolation = [], []
    for k in range(config.random_inits):
        network = build_network(
            model, op, config, generator_for(seed, _RANDOM_INIT_STREAM + k)
        )
        interpolation.append(
            evaluate_mse(network, tests.x_interpolation, tests.y_interpolation)
        )
        extrapolation.append(
            evaluate_mse(network, tests.x_extrapolation, tests.y_extrapolation)
        )
    return mean_finite(interpolation), mean_finite(extrapolation)


def run_task(task: RecurrentTask) -> dict[str, Any]:
    """Train one recurrent network and return its CSV row.

    Runs in a worker process, hence the thread limit: the benchmark machine
    has two cores shared by every job.
    """
    torch.set_num_threads(1)
    started = time.perf_counter()
    config = task.config
    layout = task_layout(task.seed, config)
    tests = make_test_sets(task.op, layout, task.seed, config)
    network = build_network(
        task.model, task.op, config, generator_for(task.seed, _INIT_STREAM)
    )

    def sample(generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = sequences(config.batch_size, config.train_length, config, generator)
        return x, make_target(task.op, layout, x)

    outcome = train_model(
        network,
        sample,
        config.iterations,
        config.learning_rate,
        penalty_schedule(task.model, task.op),
        generator_for(task.seed, _TRAIN_STREAM),
    )
    extrapolation_mse = evaluate_mse(
        network, tests.x_extrapolation, tests.y_extrapolation
    )
    baseline_int, baseline_ext = random_baseline(
        task.model, task.op, tests, task.seed, config
    )
    threshold = recurrent_threshold(task.op, layout, tests.x_extrapolation)
    return {
        "op": task.op,
        "model": task.model,
        "seed": task.seed,
        "iterations": config.iterations,
        "learning_rate": config.learning_rate,
        "train_length": config.train_length,
        "test_length": config.test_length,
        "interpolation_mse": evaluate_mse(
            network, tests.x_interpolation, tests.y_interpolation
        ),
        "extrapolation_mse": extrapolation_mse,
        "train_loss": outcome.final_loss,
        "diverged": outcome.diverged,
        "discreteness_error": discreteness_error(network),
        "baseline_interpolation_mse": baseline_int,
        "baseline_extrapolation_mse": baseline_ext,
        "threshold": threshold,
        "success": extrapolation_mse < threshold,
        "seconds": round(time.perf_counter() - started, 2),
    }


# ---------------------------------------------------------------- report


def paper_table(ops: list[str]) -> str:
    """The NALU paper's recurrent extrapolation scores (unverified transcription)."""
    table = []
    for op in ops:
        cells = [
            ">999" if math.isinf(v) else f"{v:.1f}"
            for v in PAPER_RECURRENT_EXTRAPOLATION[op]
        ]
        table.append([OPERATIONS[op].label, *cells])
    return markdown_table(["Op", *(MODEL_LABELS[m] for m in PAPER_COLUMNS)], table)


def detail_table(rows: list[dict[str, str]], ops: list[str]) -> str:
    """Per op: the success threshold, the median seconds per run, the runs."""
    table = []
    for op in ops:
        runs = [row for row in rows if row["op"] == op]
        thresholds = [parse_float(r["threshold"]) for r in runs]
        seconds = [parse_float(r["seconds"]) for r in runs]
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
        "ε-threshold (extrap. MSE, median)",
        "Median s/run",
        "Max s/run",
        "Runs",
    ]
    return markdown_table(headers, table)


def setup_lines(config: RecurrentConfig, seeds: int, jobs: int) -> str:
    """The protocol as run, in bullet points."""
    lo, hi = config.value_range
    return "\n".join(
        [
            f"- Input vectors of {config.input_size} entries from U[{lo:g},{hi:g}] "
            f"per step; subset ratio {config.subset_ratio}, overlap ratio "
            f"{config.overlap_ratio} (of the subset); a new subset position per seed.",
            f"- Training on sequences of length {config.train_length} (fresh "
            f"batches of {config.batch_size}); test sets of {config.test_size} "
            f"sequences of length {config.train_length} (interpolation) and "
            f"{config.test_length} (extrapolation).",
            f"- **{config.iterations:,} Adam iterations** at learning rate "
            f"{config.learning_rate:g}. Arithmetic cells have hidden size "
            f"{config.hidden_size}; LSTM and ReLU RNN have {config.rnn_hidden_size} "
            "units and a linear read-out.",
            "- Regularisers as in the static suite: NAU → NMU λ=10 over 20–40% of "
            "the budget, NAU → NAU λ=0.01 over 0.1–1%; the others unregularised.",
            f"- {seeds} seeds per cell; scores are medians over seeds of "
            f"100 × MSE / mean MSE of {config.random_inits} untrained networks of "
            "the same kind.",
            f"- Success: extrapolation MSE below that of the true accumulator "
            f"with every weight (input selection and state identity) moved "
            f"ε={SUCCESS_EPSILON:g} towards the wrong side, simulated on the "
            "same test sequences.",
            f"- {jobs} parallel job(s), one torch thread each.",
        ]
    )


INTERPRETATION = """\
- Extrapolation here means longer sequences, so the accumulated sums grow far
  beyond anything seen in training. A cell extrapolates only if its
  state-to-state weights are exactly the identity: an error δ in them grows
  like (1 + δ)^T over T steps.
- The budget is small and only a few seeds run, so treat the success rates as
  a smoke test of the protocol, not as a replication; the Wilson intervals
  say how little a handful of seeds can show.
- The LSTM and ReLU columns are scored against their own untrained networks,
  whose outputs are nearly constant, so a score near 100 means "no better than
  a constant" and a score above 100 means worse than one.
- The NALU paper's recurrent numbers are a transcription from memory that the
  design notes flag as unverified; only the extrapolation half is available.
"""


def build_report(
    rows: list[dict[str, str]],
    config: RecurrentConfig,
    ops: list[str],
    models: list[str],
    seeds: int,
    jobs: int,
    wall_seconds: float | None,
) -> str:
    """The markdown report: header, setup, our tables, the paper's table."""
    parts = [
        report_header("NALU paper Table 1, recurrent task (small scale)"),
        "",
        "## Setup\n",
        setup_lines(config, seeds, jobs),
    ]
    parts.append(timing_line(rows, wall_seconds))
    parts += [
        "\n## Interpolation error (ours; 100 = untrained network, median over seeds)\n",
        score_table(rows, ops, models, MODEL_LABELS, "interpolation"),
        "## Extrapolation error (ours; 100 = untrained network, median over seeds)\n",
        score_table(rows, ops, models, MODEL_LABELS, "extrapolation"),
        "## Success rate (ours: successes/seeds and 95% Wilson interval)\n",
        success_table(rows, ops, models, MODEL_LABELS),
        "## NALU paper Table 1, recurrent extrapolation (UNVERIFIED transcription "
        "from memory, see shared/design/arithmetic_units.md §1.3; the paper's "
        "sequence lengths and sizes differ from ours)\n",
        paper_table(ops),
        "## Thresholds and cost\n",
        detail_table(rows, ops),
        "## What this shows\n",
        "In this run:\n",
        findings(rows, ops, models, MODEL_LABELS) + "\n",
        "In general:\n",
        INTERPRETATION,
    ]
    return "\n".join(parts)


# ---------------------------------------------------------------- command line

QUICK_OPS = ("add", "sub", "mul")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Suite-specific options."""
    parser.add_argument("--seeds", type=int, help="seeds per cell (10; quick 3)")
    parser.add_argument(
        "--iterations", type=int, help="Adam iterations per run (20000; quick 1500)"
    )
    parser.add_argument(
        "--learning-rate", type=float, help="Adam learning rate (1e-3; quick 1e-2)"
    )
    parser.add_argument(
        "--ops", help=f"comma-separated (all six; quick {','.join(QUICK_OPS)})"
    )
    parser.add_argument(
        "--models", default=",".join(MODEL_LABELS), help="comma-separated"
    )
    parser.add_argument("--train-length", type=int, help="training length (10)")
    parser.add_argument(
        "--test-length", type=int, help="extrapolation length (1000; quick 100)"
    )
    parser.add_argument("--test-size", type=int, help="test sequences (1000)")
    parser.add_argument(
        "--random-inits", type=int, help="untrained networks per baseline (10; quick 3)"
    )


def resolve_config(args: argparse.Namespace) -> tuple[RecurrentConfig, int, list[str]]:
    """The run configuration, seed count and operations from the options."""
    quick = bool(args.quick)
    defaults = RecurrentConfig()
    config = replace(
        defaults,
        iterations=args.iterations or (1500 if quick else defaults.iterations),
        learning_rate=args.learning_rate or (1e-2 if quick else defaults.learning_rate),
        train_length=args.train_length or defaults.train_length,
        test_length=args.test_length or (100 if quick else defaults.test_length),
        test_size=args.test_size or defaults.test_size,
        random_inits=args.random_inits or (3 if quick else defaults.random_inits),
    )
    seeds = args.seeds or (3 if quick else 10)
    ops_text = args.ops or ",".join(QUICK_OPS if quick else OPERATIONS)
    ops = parse_csv_list(ops_text, OPERATIONS, "operation")
    return config, seeds, ops


def task_key(op: str, model: str, seed: int, config: RecurrentConfig) -> dict[str, Any]:
    """The result-store key of one run."""
    return {
        "op": op,
        "model": model,
        "seed": seed,
        "iterations": config.iterations,
        "train_length": config.train_length,
        "test_length": config.test_length,
    }


def run(args: argparse.Namespace) -> int:
    """Run the missing cells, then print and write the report."""
    config, seeds, ops = resolve_config(args)
    models = parse_csv_list(args.models, MODEL_LABELS, "model")
    output = Path(args.output)
    store = ResultStore(output / f"{SUITE}.csv", KEY_FIELDS)
    tasks = [
        RecurrentTask(op, model, seed, config)
        for seed in range(seeds)
        for op in ops
        for model in models
        if not store.is_done(task_key(op, model, seed, config))
    ]
    wall = run_missing(store, tasks, run_task, args.jobs, SUITE)
    selected = [
        row
        for row in select_rows(store.rows(), ops, models, seeds, config.iterations)
        if int(row["train_length"]) == config.train_length
        and int(row["test_length"]) == config.test_length
    ]
    report = build_report(selected, config, ops, models, seeds, args.jobs, wall)
    print(report)
    write_report(output / f"{SUITE}.md", report)
    return 0
