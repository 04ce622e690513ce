"""Shared pieces of the NALU-paper suites: the arithmetic task, runs, scoring.

The static and recurrent suites follow the protocol that Madsen & Johansen
(ICLR 2020) fixed for the NALU paper's "simple function" task: the input is a
vector ``x``; ``a`` and ``b`` are sums over two overlapping contiguous subsets
of its entries (and, in the recurrent task, over every time step); the target
is ``a ∘ b``. Everything here is model-agnostic: a model is any torch module
mapping inputs to ``(batch, 1)``; a suite plugs its models, data and threshold
into :class:`ArithmeticRunner`, which runs one (op, model, seed) the same way
for both suites. Training itself (schedules and the training run) is in
:mod:`benchmarks.paper._training`.
"""

from __future__ import annotations

import copy
import itertools
import math
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
import torch
from torch import nn

from benchmarks.paper._training import (
    NO_PENALTY,
    PRODUCT_SCHEDULE,
    SUM_SCHEDULE,
    PenaltySchedule,
    discreteness_error,
    train_model,
)

#: Madsen & Johansen's perturbation of the true weights for the success threshold.
SUCCESS_EPSILON = 1e-5


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


# ---------------------------------------------------------------- one run

#: Streams of randomness of one seed (see :func:`generator_for`): the same test
#: sets for every model, independent initial, training and baseline draws.
TEST_STREAM, TRAIN_STREAM, INIT_STREAM, RANDOM_INIT_STREAM = 1, 2, 3, 100


def generator_for(seed: int, stream: int) -> torch.Generator:
    """An independent torch generator per (seed, purpose)."""
    return torch.Generator().manual_seed(1000 * seed + stream)


@dataclass(frozen=True)
class ArithmeticConfig:
    """Protocol settings shared by the static and recurrent suites.

    A suite's subclass gives the first three fields their defaults and adds
    its own fields; the rest are Madsen & Johansen's values.
    """

    iterations: int
    input_size: int
    test_size: int
    learning_rate: float = 1e-3
    batch_size: int = 128
    subset_ratio: float = 0.25
    overlap_ratio: float = 0.5
    hidden_size: int = 2
    random_inits: int = 10


ConfigT = TypeVar("ConfigT", bound=ArithmeticConfig)


@dataclass(frozen=True)
class ArithmeticTask(Generic[ConfigT]):
    """One run: an operation, a model and a seed under a configuration."""

    op: str
    model: str
    seed: int
    config: ConfigT


def task_layout(seed: int, config: ArithmeticConfig) -> SubsetLayout:
    """The subset layout of a seed (shared by every model and operation)."""
    return SubsetLayout.draw(
        config.input_size,
        config.subset_ratio,
        config.overlap_ratio,
        np.random.default_rng(seed),
    )


@dataclass(frozen=True)
class TestSets:
    """Fixed interpolation and extrapolation inputs and targets of one seed."""

    x_interpolation: torch.Tensor
    y_interpolation: torch.Tensor
    x_extrapolation: torch.Tensor
    y_extrapolation: torch.Tensor

    @classmethod
    def of(
        cls,
        op: str,
        layout: SubsetLayout,
        x_interpolation: torch.Tensor,
        x_extrapolation: torch.Tensor,
    ) -> TestSets:
        """Test sets for inputs a suite drew, with their exact targets."""
        return cls(
            x_interpolation,
            make_target(op, layout, x_interpolation),
            x_extrapolation,
            make_target(op, layout, x_extrapolation),
        )

    def errors(self, network: nn.Module) -> tuple[float, float]:
        """Interpolation and extrapolation MSE of ``network``."""
        return (
            evaluate_mse(network, self.x_interpolation, self.y_interpolation),
            evaluate_mse(network, self.x_extrapolation, self.y_extrapolation),
        )


def task_fields(task: Any, names: Sequence[str]) -> dict[str, Any]:
    """The named fields of a task: its own (op, model, seed), else its config's."""
    return {
        name: getattr(task, name) if hasattr(task, name) else getattr(task.config, name)
        for name in names
    }


#: ``fit(task, layout, tests)``: a run's result columns (see ``train_network``).
Fit = Callable[[ArithmeticTask[ConfigT], SubsetLayout, TestSets], dict[str, Any]]


@dataclass(frozen=True)
class ArithmeticRunner(Generic[ConfigT]):
    """What a suite plugs in to run one (op, model, seed) of the arithmetic task.

    Attributes
    ----------
    build_network : callable
        ``build_network(model, op, config, generator)``: a fresh network.
    draw_batch : callable
        ``draw_batch(config, generator)``: training inputs (the targets follow
        from the subset layout).
    make_test_sets : callable
        ``make_test_sets(op, layout, seed, config)``: the seed's test sets.
    threshold : callable
        ``threshold(op, layout, x_extrapolation)``: the success threshold.
    row_fields : tuple of str
        The leading columns of a row, read by :func:`task_fields`.
    schedules : mapping
        Regulariser schedule of models other than NAU/NMU (which follows
        Madsen & Johansen); models not listed are unregularised.
    fits : mapping
        Models not trained by :meth:`train_network`, with their own :data:`Fit`.
    baseline_models : mapping
        For a model without random initialisation, the model whose untrained
        networks give its baseline.
    network_columns : mapping
        Constant columns appended to every trained network's result.
    """

    build_network: Callable[[str, str, ConfigT, torch.Generator], nn.Module]
    draw_batch: Callable[[ConfigT, torch.Generator], torch.Tensor]
    make_test_sets: Callable[[str, SubsetLayout, int, ConfigT], TestSets]
    threshold: Callable[[str, SubsetLayout, torch.Tensor], float]
    row_fields: tuple[str, ...]
    schedules: Mapping[str, PenaltySchedule] = field(default_factory=dict)
    fits: Mapping[str, Fit[ConfigT]] = field(default_factory=dict)
    baseline_models: Mapping[str, str] = field(default_factory=dict)
    network_columns: Mapping[str, Any] = field(default_factory=dict)

    def penalty_schedule(self, model: str, op: str) -> PenaltySchedule:
        """The regulariser schedule of ``model`` on ``op``."""
        if model == "nau-nmu":
            return SUM_SCHEDULE if op in ADDITIVE_OPERATIONS else PRODUCT_SCHEDULE
        return self.schedules.get(model, NO_PENALTY)

    def random_baseline(
        self, model: str, op: str, tests: TestSets, seed: int, config: ConfigT
    ) -> tuple[float, float]:
        """Mean interpolation and extrapolation MSE of untrained ``model`` networks."""
        kind = self.baseline_models.get(model, model)
        errors = [
            tests.errors(
                self.build_network(
                    kind, op, config, generator_for(seed, RANDOM_INIT_STREAM + k)
                )
            )
            for k in range(config.random_inits)
        ]
        return mean_finite(e[0] for e in errors), mean_finite(e[1] for e in errors)

    def train_network(
        self, task: ArithmeticTask[ConfigT], layout: SubsetLayout, tests: TestSets
    ) -> dict[str, Any]:
        """Train one network on fresh batches and measure it on the test sets."""
        config = task.config
        network = self.build_network(
            task.model, task.op, config, generator_for(task.seed, INIT_STREAM)
        )

        def sample(generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
            x = self.draw_batch(config, generator)
            return x, make_target(task.op, layout, x)

        outcome = train_model(
            network,
            sample,
            config.iterations,
            config.learning_rate,
            self.penalty_schedule(task.model, task.op),
            generator_for(task.seed, TRAIN_STREAM),
        )
        interpolation, extrapolation = tests.errors(network)
        return {
            "interpolation_mse": interpolation,
            "extrapolation_mse": extrapolation,
            "train_loss": outcome.final_loss,
            "diverged": outcome.diverged,
            "discreteness_error": discreteness_error(network),
            **self.network_columns,
        }

    def run(self, task: ArithmeticTask[ConfigT]) -> dict[str, Any]:
        """Run one (op, model, seed) and return its CSV row.

        Runs in a worker process, hence the thread limits (torch and BLAS, as in
        the SR runner): the benchmark machine has two cores shared by every
        job, and a BLAS call that spreads over busy cores waits for them.
        """
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(1)
        started = time.perf_counter()
        layout = task_layout(task.seed, task.config)
        tests = self.make_test_sets(task.op, layout, task.seed, task.config)
        fit = self.fits.get(task.model, self.train_network)
        with threadpool_limits(limits=1):
            result = fit(task, layout, tests)
        baseline_int, baseline_ext = self.random_baseline(
            task.model, task.op, tests, task.seed, task.config
        )
        threshold = self.threshold(task.op, layout, tests.x_extrapolation)
        return {
            **task_fields(task, self.row_fields),
            **result,
            "baseline_interpolation_mse": baseline_int,
            "baseline_extrapolation_mse": baseline_ext,
            "threshold": threshold,
            "success": result["extrapolation_mse"] < threshold,
            "seconds": round(time.perf_counter() - started, 2),
        }
