"""Training of the NALU-paper suites: penalty schedules and the training run.

The steps themselves are nalu_sr's own loop (:func:`nalu_sr.training.run_steps`);
this module adds what the protocol needs on top: a fresh batch at every step,
Madsen & Johansen's regulariser schedules and a projection of every unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from nalu_sr.training import Objective, StepHooks, fractional_ramp, run_steps
from nalu_sr.units import ArithmeticUnit


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
        return fractional_ramp(step, iterations, self.start, self.end, self.weight)


#: No regulariser (the paper's models and plain MLPs).
NO_PENALTY = PenaltySchedule()
#: Madsen & Johansen's schedules, as fractions of their 5·10⁶ iterations:
#: NAU → NMU: lambda 10 ramped over 1e6..2e6; NAU → NAU: 0.01 over 5e3..5e4.
PRODUCT_SCHEDULE = PenaltySchedule(10.0, 0.2, 0.4)
SUM_SCHEDULE = PenaltySchedule(0.01, 0.001, 0.01)


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
    A non-finite loss stops the run and marks it diverged. The steps are
    nalu_sr's own loop (:func:`nalu_sr.training.run_steps`).
    """
    units = arithmetic_units(model)

    def data_loss(step: int) -> torch.Tensor:
        x, y = sample(generator)
        return torch.mean((model(x) - y) ** 2)

    def constrain_units(step: int) -> bool:
        for unit in units:
            unit.constrain_()
        return False

    objective = Objective(
        data_loss,
        lambda step: schedule.at(step, iterations),
        lambda: unit_penalty(model),
    )
    model.train()
    result = run_steps(
        model.parameters(),
        objective,
        iterations,
        learning_rate,
        StepHooks(after=constrain_units),
    )
    if result.diverged:
        return TrainOutcome(math.inf, True, len(result.history))
    model.eval()
    return TrainOutcome(result.loss, False, iterations)
