"""One training run of a module on a fixed data set."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from nalu_sr.training.schedules import linear_ramp


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run.

    Parameters
    ----------
    max_iter : int, default=3000
        Number of optimiser steps.
    learning_rate : float, default=0.01
        Adam's learning rate.
    batch_size : int or None, default=None
        Rows per step, drawn with replacement; ``None`` uses the full data.
    penalty_weight : float, default=0.0
        Peak weight of the units' regulariser.
    penalty_start : float, default=0.4
        Fraction of ``max_iter`` at which the regulariser ramp starts.
    penalty_end : float, default=0.7
        Fraction of ``max_iter`` at which the ramp reaches its peak.
    """

    max_iter: int = 3000
    learning_rate: float = 0.01
    batch_size: int | None = None
    penalty_weight: float = 0.0
    penalty_start: float = 0.4
    penalty_end: float = 0.7

    def __post_init__(self) -> None:
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be >= 1, got {self.max_iter}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1 or None, got {self.batch_size}")
        if not 0.0 <= self.penalty_start <= self.penalty_end <= 1.0:
            raise ValueError("need 0 <= penalty_start <= penalty_end <= 1")

    def penalty_at(self, step: int) -> float:
        """Regulariser weight at ``step``."""
        start = int(self.penalty_start * self.max_iter)
        end = int(self.penalty_end * self.max_iter)
        return linear_ramp(step, start, end, self.penalty_weight)


@dataclass
class TrainResult:
    """What one run produced.

    Attributes
    ----------
    loss : float
        Final mean squared error on the full data.
    history : list of float
        Training loss (data term) at every step.
    diverged : bool
        Whether the loss became non-finite; training stopped there.
    """

    loss: float
    history: list[float] = field(default_factory=list)
    diverged: bool = False


def _batch(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int | None,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Full data, or a random batch drawn with ``generator``."""
    if batch_size is None or batch_size >= len(X):
        return X, y
    index = torch.randint(len(X), (batch_size,), generator=generator)
    return X[index], y[index]


def _constrain(module: nn.Module) -> None:
    """Project every unit that has a ``constrain_`` method."""
    constrain = getattr(module, "constrain_", None)
    if callable(constrain):
        constrain()


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
    optimizer = torch.optim.Adam(module.parameters(), lr=config.learning_rate)
    penalty_fn = getattr(module, "penalty", None)
    history: list[float] = []
    module.train()
    for step in range(config.max_iter):
        X_batch, y_batch = _batch(X, y, config.batch_size, generator)
        data_loss = torch.mean((module(X_batch) - y_batch) ** 2)
        if not math.isfinite(float(data_loss.detach())):
            return TrainResult(math.inf, history, diverged=True)
        loss = data_loss
        weight = config.penalty_at(step)
        if weight > 0 and callable(penalty_fn):
            loss = loss + weight * penalty_fn()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        _constrain(module)
        history.append(float(data_loss.detach()))
    module.eval()
    with torch.no_grad():
        final = float(torch.mean((module(X) - y) ** 2))
    return TrainResult(final, history, diverged=not math.isfinite(final))
