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

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from benchmarks.paper._report import (
    ArithmeticReport,
    Cells,
    format_score,
    jobs_line,
    op_table,
    scoring_line,
)
from benchmarks.paper._suite import (
    ITERATIONS,
    LEARNING_RATE,
    RANDOM_INITS,
    ArithmeticCommand,
    ConfigOption,
)
from benchmarks.paper._tasks import (
    ADDITIVE_OPERATIONS,
    SUCCESS_EPSILON,
    TEST_STREAM,
    ArithmeticConfig,
    ArithmeticRunner,
    ArithmeticTask,
    SubsetLayout,
    TestSets,
    generator_for,
    make_target,
    op_on_hidden,
    uniform,
)

DESCRIPTION = "NALU paper Table 1, recurrent half: a∘b of sums over a sequence"

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


@dataclass(frozen=True)
class RecurrentConfig(ArithmeticConfig):
    """Everything that defines a run apart from op, model and seed."""

    iterations: int = 20_000
    input_size: int = 10
    test_size: int = 1000
    rnn_hidden_size: int = 16
    value_range: tuple[float, float] = (1.0, 2.0)
    train_length: int = 10
    test_length: int = 1000


#: One run of this suite.
RecurrentTask = ArithmeticTask[RecurrentConfig]


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


# ---------------------------------------------------------------- data


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


def make_test_sets(
    op: str, layout: SubsetLayout, seed: int, config: RecurrentConfig
) -> TestSets:
    """Draw the seed's test sequences in float64 with their exact targets."""
    generator = generator_for(seed, TEST_STREAM)
    x_int = sequences(
        config.test_size, config.train_length, config, generator, torch.float64
    )
    x_ext = sequences(
        config.test_size, config.test_length, config, generator, torch.float64
    )
    return TestSets.of(op, layout, x_int, x_ext)


def draw_batch(config: RecurrentConfig, generator: torch.Generator) -> torch.Tensor:
    """A training batch of sequences of the training length."""
    return sequences(config.batch_size, config.train_length, config, generator)


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

RUNNER = ArithmeticRunner(
    build_network=build_network,
    draw_batch=draw_batch,
    make_test_sets=make_test_sets,
    threshold=recurrent_threshold,
    row_fields=(
        "op",
        "model",
        "seed",
        "iterations",
        "learning_rate",
        "train_length",
        "test_length",
    ),
)


def run_task(task: RecurrentTask) -> dict[str, Any]:
    """Train one recurrent network and return its CSV row."""
    return RUNNER.run(task)


# ---------------------------------------------------------------- report


def paper_table(ops: Sequence[str]) -> str:
    """The NALU paper's recurrent extrapolation scores (unverified transcription)."""
    return op_table(
        ops,
        PAPER_COLUMNS,
        MODEL_LABELS,
        lambda op, model: format_score(
            PAPER_RECURRENT_EXTRAPOLATION[op][PAPER_COLUMNS.index(model)]
        ),
    )


def setup_lines(config: RecurrentConfig, seeds: int, jobs: int) -> list[str]:
    """The protocol as run, in bullet points."""
    lo, hi = config.value_range
    return [
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
        scoring_line(seeds, config.random_inits),
        f"- Success: extrapolation MSE below that of the true accumulator "
        f"with every weight (input selection and state identity) moved "
        f"ε={SUCCESS_EPSILON:g} towards the wrong side, simulated on the "
        "same test sequences.",
        jobs_line(jobs),
    ]


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


def published_tables(cells: Cells) -> list[tuple[str, str]]:
    """The NALU paper's table, as a (heading, table) pair."""
    return [
        (
            "NALU paper Table 1, recurrent extrapolation (UNVERIFIED transcription "
            "from memory of Trask et al. 2018, arXiv 1808.00508; the paper's "
            "sequence lengths and sizes differ from ours)",
            paper_table(cells.ops),
        )
    ]


REPORT = ArithmeticReport(
    title="NALU paper Table 1, recurrent task (small scale)",
    setup_lines=setup_lines,
    published=published_tables,
    interpretation=INTERPRETATION,
)


# ---------------------------------------------------------------- command line

COMMAND = ArithmeticCommand(
    name="recurrent",
    key_fields=("op", "model", "seed", "iterations", "train_length", "test_length"),
    labels=MODEL_LABELS,
    options=(
        ITERATIONS,
        LEARNING_RATE,
        ConfigOption("train_length", int, "training length"),
        ConfigOption("test_length", int, "extrapolation length"),
        ConfigOption("test_size", int, "test sequences"),
        RANDOM_INITS,
    ),
    defaults=RecurrentConfig(),
    quick=RecurrentConfig(
        iterations=1500, learning_rate=1e-2, test_length=100, random_inits=3
    ),
    quick_ops=("add", "sub", "mul"),
    run_task=run_task,
    report=REPORT,
)


#: The suite's interface (see ``benchmarks.__main__``).
add_arguments = COMMAND.add_arguments
run = COMMAND.run
