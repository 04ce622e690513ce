"""Figure 1 of the NALU paper: MLPs learn the identity only where they saw data.

Every model learns the scalar identity ``y = x`` from fresh batches of
``x ~ U[-5, 5]`` and is evaluated on a grid over [-20, 20]. The MLPs (three
hidden layers of 8 units, one activation function each, as in the paper's
autoencoder) fit the training range and drift away outside it; a NAC, whose
weights can only add and subtract, and ``NALURegressor``, which returns a
formula, should extrapolate. The suite saves a plot of the absolute error
against ``x`` per model and tables of interpolation and extrapolation mean
absolute error over several seeds.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks._common import markdown_table
from benchmarks.paper._report import Row, parse_float, report_opening
from benchmarks.paper._suite import (
    ITERATIONS,
    LEARNING_RATE,
    SR_MAX_TIME,
    add_suite_arguments,
    publish,
    resolve_config,
    run_tasks,
    seed_count,
    selected_models,
)
from benchmarks.paper._tasks import (
    INIT_STREAM,
    TRAIN_STREAM,
    build_mlp,
    generator_for,
    task_fields,
    uniform,
)
from benchmarks.paper._training import NO_PENALTY, train_model

DESCRIPTION = "NALU paper Figure 1: MLPs learning y = x fail outside [-5, 5]"

SUITE = "mlp-extrapolation"
KEY_FIELDS = ("model", "seed", "iterations")

#: Activation name -> module factory (a fresh module per layer).
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "ReLU": nn.ReLU,
    "ReLU6": nn.ReLU6,
    "LeakyReLU": nn.LeakyReLU,
    "PReLU": nn.PReLU,
    "ELU": nn.ELU,
    "SELU": nn.SELU,
    "GELU": nn.GELU,
    "SiLU": nn.SiLU,
    "Softplus": nn.Softplus,
    "Sigmoid": nn.Sigmoid,
    "Tanh": nn.Tanh,
    "Hardtanh": nn.Hardtanh,
    "Softsign": nn.Softsign,
    "Tanhshrink": nn.Tanhshrink,
}
#: Model name -> label: one MLP per activation, then the arithmetic models.
MODEL_LABELS: dict[str, str] = {
    **{f"mlp-{name.lower()}": f"MLP {name}" for name in ACTIVATIONS},
    "nac": "NAC (1 unit)",
    "nac-stack": "NAC (3×8 stack)",
    "nalu-sr": "NALURegressor",
}


@dataclass(frozen=True)
class IdentityConfig:
    """Everything that defines a run apart from model and seed."""

    iterations: int = 10_000
    learning_rate: float = 1e-2
    batch_size: int = 64
    hidden_sizes: tuple[int, ...] = (8, 8, 8)
    train_range: tuple[float, float] = (-5.0, 5.0)
    test_range: tuple[float, float] = (-20.0, 20.0)
    grid_points: int = 401
    sr_rows: int = 500
    sr_max_time: float = 10.0


@dataclass(frozen=True)
class IdentityTask:
    """One run: a model and a seed under a configuration."""

    model: str
    seed: int
    config: IdentityConfig


def test_grid(config: IdentityConfig) -> np.ndarray:
    """The evaluation grid over the test range (includes both ends)."""
    return np.linspace(*config.test_range, config.grid_points)


def in_training_range(grid: np.ndarray, config: IdentityConfig) -> np.ndarray:
    """Boolean mask of grid points inside the training range."""
    low, high = config.train_range
    return (grid >= low) & (grid <= high)


def build_network(
    model: str, config: IdentityConfig, generator: torch.Generator
) -> nn.Module:
    """A freshly initialised scalar-to-scalar network of kind ``model``."""
    from nalu_sr.units import NAC

    sizes = (1, *config.hidden_sizes, 1)
    if model == "nac":
        return NAC(1, 1, generator=generator)
    if model == "nac-stack":
        return nn.Sequential(
            *(NAC(a, b, generator=generator) for a, b in itertools.pairwise(sizes))
        )
    for name, activation in ACTIVATIONS.items():
        if model == f"mlp-{name.lower()}":
            return build_mlp(sizes, activation, generator)
    raise ValueError(f"unknown model {model!r}")


def train_network(task: IdentityTask, grid: np.ndarray) -> np.ndarray:
    """Train one network on the identity and return its output on ``grid``."""
    config = task.config
    network = build_network(task.model, config, generator_for(task.seed, INIT_STREAM))

    def sample(gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = uniform((config.batch_size, 1), *config.train_range, gen)
        return x, x

    train_model(
        network,
        sample,
        config.iterations,
        config.learning_rate,
        NO_PENALTY,
        generator_for(task.seed, TRAIN_STREAM),
    )
    with torch.no_grad():
        inputs = torch.from_numpy(grid).reshape(-1, 1)
        outputs: np.ndarray = network.double()(inputs).reshape(-1).numpy()
    return outputs


def fit_regressor(task: IdentityTask, grid: np.ndarray) -> np.ndarray:
    """Fit ``NALURegressor`` on a sample of the identity; predict on ``grid``."""
    from nalu_sr import NALURegressor

    config = task.config
    rng = np.random.default_rng(task.seed)
    x = rng.uniform(*config.train_range, size=(config.sr_rows, 1))
    estimator = NALURegressor(max_time=config.sr_max_time, random_state=task.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a poor fit is a result, not a warning
        estimator.fit(x, x.ravel())
        return np.asarray(estimator.predict(grid.reshape(-1, 1)), dtype=float)


def run_task(task: IdentityTask) -> dict[str, Any]:
    """Run one (model, seed) and return its CSV row, with the error curve.

    The absolute error on every grid point is stored in the row (as text), so
    that the plot can be redrawn from the CSV of a resumed run.
    """
    torch.set_num_threads(1)  # two shared cores: one thread per worker
    started = time.perf_counter()
    grid = test_grid(task.config)
    fit = fit_regressor if task.model == "nalu-sr" else train_network
    errors = np.abs(fit(task, grid) - grid)
    errors = np.where(np.isfinite(errors), errors, np.inf)
    inside = in_training_range(grid, task.config)
    return {
        **task_fields(task, KEY_FIELDS),
        "interpolation_mae": float(np.mean(errors[inside])),
        "extrapolation_mae": float(np.mean(errors[~inside])),
        "seconds": round(time.perf_counter() - started, 2),
        "abs_errors": " ".join(f"{e:.4g}" for e in errors),
    }


# ---------------------------------------------------------------- report


def mean_and_spread(values: list[float]) -> str:
    """``"mean ± sd"`` over seeds (sd omitted for a single seed)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "–"
    mean = statistics.fmean(finite)
    text = f"{mean:.3g}"
    if len(finite) > 1:
        text += f" ± {statistics.stdev(finite):.2g}"
    if len(finite) < len(values):
        text += f" ({len(values) - len(finite)} non-finite)"
    return text


def error_table(rows: list[Row], models: list[str]) -> str:
    """Interpolation and extrapolation MAE per model, mean ± sd over seeds."""
    table = []
    for model in models:
        runs = [row for row in rows if row["model"] == model]
        interpolation = [parse_float(r["interpolation_mae"]) for r in runs]
        extrapolation = [parse_float(r["extrapolation_mae"]) for r in runs]
        table.append(
            [
                MODEL_LABELS[model],
                len(runs),
                mean_and_spread(interpolation),
                mean_and_spread(extrapolation),
            ]
        )
    headers = ["Model", "Seeds", "MAE on [-5, 5]", "MAE on [-20, 20] \\ [-5, 5]"]
    return markdown_table(headers, table)


def mean_curves(rows: list[Row], models: list[str]) -> dict[str, np.ndarray]:
    """Mean absolute-error curve over seeds, per model with stored runs."""
    curves = {}
    for model in models:
        runs = [row for row in rows if row["model"] == model]
        if runs:
            stack = np.array(
                [[float(v) for v in r["abs_errors"].split()] for r in runs]
            )
            curves[model] = stack.mean(axis=0)
    return curves


def save_plot(
    curves: dict[str, np.ndarray], config: IdentityConfig, path: Path
) -> Path | None:
    """Plot absolute error against ``x`` per model; ``None`` without matplotlib.

    The y axis is logarithmic (errors span many decades), so errors are
    floored at 1e-8: an exact formula would otherwise vanish from the plot.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    grid = test_grid(config)
    figure, axes = plt.subplots(figsize=(9, 5.5))
    axes.axvspan(*config.train_range, color="0.9", label="training range")
    colours = plt.get_cmap("tab20")
    for index, (model, curve) in enumerate(curves.items()):
        style = "-" if model.startswith("mlp-") else "--"
        axes.plot(
            grid,
            np.maximum(curve, 1e-8),
            style,
            color=colours(index % 20),
            label=MODEL_LABELS[model],
            linewidth=1.8 if style == "--" else 1.2,
        )
    axes.set_yscale("log")
    axes.set_xlabel("x")
    axes.set_ylabel("|prediction − x| (mean over seeds)")
    axes.set_title("Learning y = x on [-5, 5]: absolute error on [-20, 20]")
    axes.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


INTERPRETATION = """\
## What this shows

- Inside the training range every model fits the identity closely; outside it
  the MLPs' errors grow with the distance from the range. Saturating
  activations (Sigmoid, Tanh, Hardtanh, Softsign, ReLU6) flatten out, so their
  error grows linearly with |x|; piecewise-linear ones (ReLU, LeakyReLU,
  PReLU) can extrapolate almost linearly and often do best among the MLPs,
  but their slope is learned only approximately. This is the NALU paper's
  Figure 1 observation, reproduced qualitatively (the paper plots the same
  kind of curve; its exact architecture and budget are not fully specified).
- A NAC can only add and subtract its inputs, so once its weights reach 1
  it extrapolates; with tanh·sigmoid weights that approach 1 but never reach
  it, the remaining error grows linearly with |x|. The single NAC(1,1) uses
  stable-nalu's initialisation, which floors the fan at 5 and so draws Ŵ and
  M̂ from U[−9.5, 9.5] when fan_in + fan_out = 2: the weight starts
  saturated, and a seed that starts near 0 or negative gets almost no
  gradient and stays wrong even inside the training range. The NAC stack has
  larger fans, starts unsaturated, and learns the identity.
- NALURegressor returns a formula; when that formula is `x0` its error is
  zero everywhere (drawn at the 1e-8 floor of the log-scale plot).
- Few seeds: the spread column says how much the MLP curves vary between
  initialisations.
"""


def build_report(
    rows: list[Row],
    config: IdentityConfig,
    models: list[str],
    seeds: int,
    plot: Path | None,
    wall_seconds: float | None,
) -> str:
    """The markdown report: header, setup, the table and the plot."""
    hidden = "×".join(str(h) for h in config.hidden_sizes)
    setup = [
        f"- Identity y = x; training batches of {config.batch_size} drawn "
        f"afresh from U[{config.train_range[0]:g},{config.train_range[1]:g}]; "
        f"evaluation on {config.grid_points} grid points over "
        f"[{config.test_range[0]:g},{config.test_range[1]:g}].",
        f"- MLPs: hidden layers {hidden}, one activation each; NACs: one NAC(1,1), "
        f"and a stack of NACs with the MLP's layer sizes. Adam, "
        f"{config.iterations:,} iterations at learning rate {config.learning_rate:g}.",
        f"- NALURegressor: default settings, {config.sr_rows} rows, "
        f"`max_time={config.sr_max_time:g}` s.",
        f"- {seeds} seeds per model; MAE = mean absolute error over the grid "
        "points inside / outside the training range, then mean ± sd over seeds.",
    ]
    parts = [
        *report_opening(
            "NALU paper Figure 1: extrapolating the identity", setup, rows, wall_seconds
        ),
        "\n## Mean absolute error\n",
        error_table(rows, models),
    ]
    if plot is not None:
        parts.append(f"![absolute error against x]({plot.name})\n")
    else:
        parts.append("(No plot: matplotlib is not installed.)\n")
    parts.append(INTERPRETATION)
    return "\n".join(parts)


# ---------------------------------------------------------------- command line

#: Configuration fields settable on the command line.
OPTIONS = (ITERATIONS, LEARNING_RATE, SR_MAX_TIME)
#: The configuration with ``--quick``.
QUICK = IdentityConfig(iterations=2000, sr_max_time=5.0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Suite-specific options."""
    add_suite_arguments(
        parser, OPTIONS, IdentityConfig(), QUICK, MODEL_LABELS, seeds_per="model"
    )


def run(args: argparse.Namespace) -> int:
    """Run the missing (model, seed) pairs, then plot and report."""
    config = resolve_config(args, OPTIONS, IdentityConfig(), QUICK)
    seeds = seed_count(args)
    models = selected_models(args, MODEL_LABELS)
    tasks = [
        IdentityTask(model, seed, config)
        for seed, model in itertools.product(range(seeds), models)
    ]
    rows, wall = run_tasks(args, SUITE, KEY_FIELDS, tasks, run_task)
    plot_path = Path(args.output) / f"{SUITE}.png"
    plot = save_plot(mean_curves(rows, models), config, plot_path)
    publish(args, SUITE, build_report(rows, config, models, seeds, plot, wall))
    return 0
