"""Settings of a training run: one validated base, extended for network bodies."""

from __future__ import annotations

import math
from dataclasses import dataclass

from nalu_sr.training.schedules import fractional_ramp


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run (:func:`~nalu_sr.training.train_module`).

    Parameters
    ----------
    max_iter : int, default=3000
        Number of optimiser steps.
    learning_rate : float, default=0.01
        Adam's learning rate.
    batch_size : int or None, default=None
        Rows per step, drawn with replacement; ``None`` uses the full data.
    penalty_weight : float, default=0.0
        Peak weight of the regulariser.
    penalty_start : float, default=0.4
        Fraction of ``max_iter`` at which the regulariser ramp starts.
    penalty_end : float, default=0.7
        Fraction of ``max_iter`` at which the ramp reaches its peak.

    Raises
    ------
    ValueError
        Naming the first invalid field.
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
        if not (self.penalty_weight >= 0 and math.isfinite(self.penalty_weight)):
            raise ValueError(
                f"penalty_weight must be finite and >= 0, got {self.penalty_weight}"
            )
        if not 0.0 <= self.penalty_start <= self.penalty_end <= 1.0:
            raise ValueError(
                "penalty_start and penalty_end need "
                "0 <= penalty_start <= penalty_end <= 1, "
                f"got {self.penalty_start} and {self.penalty_end}"
            )

    def penalty_at(self, step: int) -> float:
        """Regulariser weight at ``step``.

        Parameters
        ----------
        step : int
            Current optimiser step.

        Returns
        -------
        float
            The ramped weight (see :func:`~nalu_sr.training.fractional_ramp`).
        """
        return fractional_ramp(
            step,
            self.max_iter,
            self.penalty_start,
            self.penalty_end,
            self.penalty_weight,
        )


@dataclass(frozen=True)
class BodyTrainConfig(TrainConfig):
    """Settings of :func:`~nalu_sr.training.varpro.train_body`.

    The fields of :class:`TrainConfig` with the defaults the regressor trains
    its bodies with, plus the snapping and head settings.

    Parameters
    ----------
    max_iter : int, default=800
        Number of optimiser steps.
    learning_rate : float, default=0.05
        Adam's learning rate.
    batch_size : int or None, default=None
        Rows per step (drawn with replacement); ``None`` uses all rows.
    penalty_weight : float, default=0.05
        Peak weight of the pull towards snapped values.
    penalty_start : float, default=0.3
        Fraction of ``max_iter`` at which the pull starts to ramp up.
    penalty_end : float, default=0.6
        Fraction of ``max_iter`` at which the pull reaches its peak.
    n_snap_rounds : int, default=4
        Progressive snapping rounds, spread over the last 40% of steps.
    ridge : float, default=1e-9
        Relative ridge term that keeps the head's normal equations solvable.

    Raises
    ------
    ValueError
        Naming the first invalid field.
    """

    max_iter: int = 800
    learning_rate: float = 0.05
    penalty_weight: float = 0.05
    penalty_start: float = 0.3
    penalty_end: float = 0.6
    n_snap_rounds: int = 4
    ridge: float = 1e-9

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_snap_rounds < 1:
            raise ValueError(f"n_snap_rounds must be >= 1, got {self.n_snap_rounds}")
        if not (self.ridge >= 0 and math.isfinite(self.ridge)):
            raise ValueError(f"ridge must be finite and >= 0, got {self.ridge}")
