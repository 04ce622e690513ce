"""The contract every arithmetic unit follows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from fractions import Fraction
from typing import ClassVar

import torch
from torch import nn

from nalu_sr.units.snapped import LinearCombination, LinearOutput, SnappedUnit


class ArithmeticUnit(nn.Module, ABC):
    """Base class of the arithmetic units: a layer with a discrete meaning.

    Every unit maps ``(..., in_features)`` to ``(..., out_features)`` and
    offers the same small contract, so that models, training loops and the
    extraction stage can treat units alike.

    Parameters
    ----------
    in_features : int
        Number of inputs.
    out_features : int
        Number of outputs.
    """

    #: Registry name of the unit kind, used in reports and snapped records.
    kind: str = "unit"

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        for label, value in (
            ("in_features", in_features),
            ("out_features", out_features),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{label} must be a positive int, got {value!r}")
        self.in_features = in_features
        self.out_features = out_features

    @abstractmethod
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw fresh parameters from the unit's published initialisation.

        Parameters
        ----------
        generator : torch.Generator or None, default=None
            Source of randomness; the same seed gives the same parameters.
        """

    @abstractmethod
    def penalty(self) -> torch.Tensor:
        """Return the unit's discreteness / sparsity regulariser (a scalar).

        It is zero exactly when every weight and gate sits on a value it
        would snap to; training ramps its weight up to make the unit discrete.
        """

    @abstractmethod
    def discreteness_error(self) -> float:
        """Return the largest distance of a weight or gate from its snapped value."""

    @abstractmethod
    def snap(self, reference_inputs: torch.Tensor | None = None) -> SnappedUnit:
        """Return the unit's discrete meaning, one record per output.

        Parameters
        ----------
        reference_inputs : torch.Tensor or None, default=None
            Typical inputs, used only by units whose choice depends on the
            input (the NALU's input-dependent gate).

        Returns
        -------
        SnappedUnit
            What each output computes once weights and gates are snapped.
        """

    def discrete_parameters(self) -> list[tuple[nn.Parameter, torch.Tensor]]:
        """Return each snappable parameter with the values it would snap to.

        Training uses the pairs to pull parameters towards their snapped
        values and to freeze them there one by one (progressive snapping).
        Units whose snapped values are not reachable in parameter space
        (the tanh-sigmoid weights of NAC and NALU) return an empty list.

        Returns
        -------
        list of (torch.nn.Parameter, torch.Tensor)
            Parameters and same-shaped detached targets.
        """
        return []

    def constrain_(self) -> None:
        """Project parameters back into their valid range, in place.

        Called by training loops after every optimiser step. Units without
        constrained parameters do nothing.
        """

    def extra_repr(self) -> str:
        """Describe the unit's sizes for ``repr``."""
        return f"in_features={self.in_features}, out_features={self.out_features}"


class ClampedWeightUnit(ArithmeticUnit):
    """A unit whose ``weight`` is clamped to a range and snaps to its integers.

    NAU, NMU and PrimitiveAttention share this: the forward pass reads
    :meth:`clamped_weight`, :meth:`constrain_` clamps the parameter itself
    after each optimiser step, and the snapped values are the rounded
    clamped weights. Subclasses create the ``weight`` parameter and set
    ``weight_range``.

    Parameters
    ----------
    in_features : int
        Number of inputs.
    out_features : int
        Number of outputs.
    """

    weight: nn.Parameter
    #: Lowest and highest value the weight may take; the integers in between
    #: are its snapped values.
    weight_range: ClassVar[tuple[float, float]] = (-1.0, 1.0)

    def clamped_weight(self) -> torch.Tensor:
        """Return the weight clamped to ``weight_range``, differentiably."""
        low, high = self.weight_range
        return self.weight.clamp(low, high)

    def constrain_(self) -> None:
        """Clamp the weight to ``weight_range`` in place."""
        low, high = self.weight_range
        with torch.no_grad():
            self.weight.clamp_(low, high)

    def discrete_parameters(self) -> list[tuple[nn.Parameter, torch.Tensor]]:
        """Return the weight with its nearest integers in ``weight_range``."""
        low, high = self.weight_range
        return [(self.weight, torch.round(self.weight.detach().clamp(low, high)))]

    def discreteness_error(self) -> float:
        """Return the largest distance of a clamped weight from an integer."""
        weight = self.clamped_weight()
        return max_distance(weight, torch.round(weight))


def fractions_of(row: torch.Tensor, denominator: int = 1) -> tuple[Fraction, ...]:
    """Round each value of a 1-D tensor to the nearest multiple of ``1/denominator``."""
    return tuple(Fraction(round(float(v) * denominator), denominator) for v in row)


def linear_snap(
    kind: str, weight: torch.Tensor, discreteness_error: float
) -> SnappedUnit:
    """Snapped record of a unit whose outputs are ``W x`` with W on {-1, 0, 1}."""
    outputs = tuple(
        LinearOutput(LinearCombination(fractions_of(row.clamp(-1, 1))))
        for row in weight.detach()
    )
    return SnappedUnit(kind, weight.shape[1], outputs, discreteness_error)


def max_distance(values: torch.Tensor, snapped: torch.Tensor) -> float:
    """Largest absolute difference between ``values`` and ``snapped`` (0 if empty)."""
    if values.numel() == 0:
        return 0.0
    return float(torch.max(torch.abs(values.detach() - snapped.detach())))
