"""The optimiser step loop every training run in nalu_sr goes through.

:func:`run_steps` owns the loop (Adam, the ramped regulariser, divergence
detection, the loss history); :func:`train_module` fits a module to a fixed
data set with it, :func:`~nalu_sr.training.varpro.train_body` trains a body
under a least-squares head with it, and the NALU-paper benchmarks train on
fresh batches with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn

from nalu_sr.training.config import TrainConfig


@dataclass
class TrainResult:
    """What one run produced.

    Attributes
    ----------
    loss : float
        Final loss: for :func:`run_steps` the data loss of the last step, for
        :func:`train_module` the mean squared error on the full data;
        ``inf`` after divergence.
    history : list of float
        Training loss (data term) at every step.
    diverged : bool
        Whether the loss became non-finite; training stopped there.
    """

    loss: float
    history: list[float] = field(default_factory=list)
    diverged: bool = False


@dataclass(frozen=True)
class Objective:
    """What :func:`run_steps` minimises at each step.

    Attributes
    ----------
    data_loss : callable
        ``data_loss(step)``: the loss on this step's batch, a scalar tensor;
        it is what the history records and what divergence is judged on.
    weight : callable
        ``weight(step)``: the regulariser's weight at this step.
    penalty : callable or None, default=None
        ``penalty()``: the regulariser, evaluated only when the weight is > 0.
    """

    data_loss: Callable[[int], torch.Tensor]
    weight: Callable[[int], float]
    penalty: Callable[[], torch.Tensor] | None = None

    def total(self, step: int, data_loss: torch.Tensor) -> torch.Tensor:
        """Return the data loss plus the weighted regulariser at ``step``."""
        weight = self.weight(step)
        if weight > 0 and self.penalty is not None:
            return data_loss + weight * self.penalty()
        return data_loss


@dataclass(frozen=True)
class StepHooks:
    """Optional callbacks of :func:`run_steps`.

    Attributes
    ----------
    before : callable or None, default=None
        ``before(step)``, called before the step's loss is computed.
    after : callable or None, default=None
        ``after(step)``, called after the optimiser step (projections onto
        valid ranges belong here); returning ``True`` ends the run early.
    """

    before: Callable[[int], None] | None = None
    after: Callable[[int], bool] | None = None


def run_steps(
    parameters: Iterable[torch.Tensor],
    objective: Objective,
    n_steps: int,
    learning_rate: float,
    hooks: StepHooks | None = None,
) -> TrainResult:
    """Minimise ``objective`` with Adam for at most ``n_steps`` steps.

    A non-finite data loss stops the run before its step is taken and marks
    it diverged.

    Parameters
    ----------
    parameters : iterable of torch.Tensor
        What Adam updates (leaf tensors that require gradients).
    objective : Objective
        The per-step loss and regulariser.
    n_steps : int
        Largest number of steps.
    learning_rate : float
        Adam's learning rate.
    hooks : StepHooks or None, default=None
        Callbacks around each step.

    Returns
    -------
    TrainResult
        The last step's data loss (``inf`` if diverged) and the history.
    """
    hooks = hooks or StepHooks()
    optimizer = torch.optim.Adam(parameters, lr=learning_rate)
    history: list[float] = []
    for step in range(n_steps):
        if hooks.before is not None:
            hooks.before(step)
        data_loss = objective.data_loss(step)
        value = float(data_loss.detach())
        if not math.isfinite(value):
            return TrainResult(math.inf, history, diverged=True)
        optimizer.zero_grad()
        objective.total(step, data_loss).backward()
        optimizer.step()
        history.append(value)
        if hooks.after is not None and hooks.after(step):
            break
    return TrainResult(history[-1] if history else math.nan, history)


def batch_rows(
    n: int, batch_size: int | None, generator: torch.Generator | None
) -> torch.Tensor | slice:
    """All ``n`` rows, or ``batch_size`` rows drawn with replacement.

    Parameters
    ----------
    n : int
        Number of rows of the data.
    batch_size : int or None
        Rows per batch; ``None`` or at least ``n`` selects every row.
    generator : torch.Generator or None
        Source of randomness for the draw.

    Returns
    -------
    torch.Tensor or slice
        An index usable on the data's first axis.
    """
    if batch_size is None or batch_size >= n:
        return slice(None)
    return torch.randint(n, (batch_size,), generator=generator)


def constrain(module: nn.Module) -> bool:
    """Project ``module`` if it has a ``constrain_`` method.

    Returns ``False`` so that it can serve as a :class:`StepHooks` ``after``.
    """
    project = getattr(module, "constrain_", None)
    if callable(project):
        project()
    return False


def train_module(
    module: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    config: TrainConfig,
    generator: torch.Generator | None = None,
) -> TrainResult:
    """Fit ``module`` to ``(X, y)`` by Adam with a ramped unit regulariser.

    Parameters
    ----------
    module : torch.nn.Module
        A unit or a model; its ``penalty()`` and ``constrain_()`` are used
        when present.
    X : torch.Tensor
        Inputs of shape ``(n, in_features)``.
    y : torch.Tensor
        Targets of shape ``(n, out_features)``.
    config : TrainConfig
        Run settings.
    generator : torch.Generator or None, default=None
        Source of randomness for mini-batches.

    Returns
    -------
    TrainResult
        Final loss and per-step history.
    """

    def data_loss(step: int) -> torch.Tensor:
        rows = batch_rows(len(X), config.batch_size, generator)
        return torch.mean((module(X[rows]) - y[rows]) ** 2)

    penalty = getattr(module, "penalty", None)
    objective = Objective(
        data_loss, config.penalty_at, penalty if callable(penalty) else None
    )
    module.train()
    result = run_steps(
        module.parameters(),
        objective,
        config.max_iter,
        config.learning_rate,
        StepHooks(after=lambda step: constrain(module)),
    )
    if result.diverged:
        return result
    module.eval()
    with torch.no_grad():
        final = float(torch.mean((module(X) - y) ** 2))
    return TrainResult(final, result.history, diverged=not math.isfinite(final))
