"""Stacks of arithmetic units and their composed symbolic meaning."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import sympy
import torch
from torch import nn

from nalu_sr.extraction.emit import emit
from nalu_sr.extraction.graph import build_graph
from nalu_sr.units import ArithmeticUnit, SnappedUnit


class StackedModel(nn.Module):
    """Arithmetic units applied one after another, e.g. NAU then NMU.

    Parameters
    ----------
    units : sequence of ArithmeticUnit
        The layers; each one's ``in_features`` must equal the previous
        one's ``out_features``.

    Raises
    ------
    ValueError
        If the stack is empty or two consecutive sizes do not match.

    Examples
    --------
    >>> from nalu_sr import NAU, NMU
    >>> from nalu_sr.model import StackedModel
    >>> model = StackedModel([NAU(3, 2), NMU(2, 1)])
    >>> model.in_features, model.out_features
    (3, 1)
    """

    def __init__(self, units: Sequence[ArithmeticUnit]) -> None:
        super().__init__()
        if not units:
            raise ValueError("a StackedModel needs at least one unit")
        for previous, unit in itertools.pairwise(units):
            if previous.out_features != unit.in_features:
                raise ValueError(
                    f"{type(previous).__name__} has {previous.out_features} outputs "
                    f"but the next {type(unit).__name__} takes {unit.in_features}"
                )
        self.units = nn.ModuleList(units)

    @property
    def in_features(self) -> int:
        """Number of inputs of the first unit."""
        return self._unit(0).in_features

    @property
    def out_features(self) -> int:
        """Number of outputs of the last unit."""
        return self._unit(-1).out_features

    def _unit(self, index: int) -> ArithmeticUnit:
        unit = self.units[index]
        assert isinstance(unit, ArithmeticUnit)
        return unit

    def arithmetic_units(self) -> list[ArithmeticUnit]:
        """Return the units in order."""
        return [self._unit(i) for i in range(len(self.units))]

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Re-initialise every unit, in order, from ``generator``."""
        for unit in self.arithmetic_units():
            unit.reset_parameters(generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the units in order to inputs of shape ``(..., in_features)``."""
        for unit in self.arithmetic_units():
            x = unit(x)
        return x

    def penalty(self) -> torch.Tensor:
        """Return the sum of the units' regularisers."""
        return torch.stack([unit.penalty() for unit in self.arithmetic_units()]).sum()

    def discreteness_error(self) -> float:
        """Return the largest discreteness error of any unit."""
        return max(unit.discreteness_error() for unit in self.arithmetic_units())

    def discrete_parameters(self) -> list[tuple[nn.Parameter, torch.Tensor]]:
        """Return every unit's snappable parameters with their targets."""
        return [
            pair
            for unit in self.arithmetic_units()
            for pair in unit.discrete_parameters()
        ]

    def constrain_(self) -> None:
        """Project every unit's parameters into their valid range."""
        for unit in self.arithmetic_units():
            unit.constrain_()

    def snap(self, reference_inputs: torch.Tensor | None = None) -> list[SnappedUnit]:
        """Snap every unit, feeding reference inputs through the stack.

        Parameters
        ----------
        reference_inputs : torch.Tensor or None, default=None
            Typical model inputs, for units whose choice depends on the input.

        Returns
        -------
        list of SnappedUnit
            One record per unit, in order.
        """
        records = []
        x = reference_inputs
        for unit in self.arithmetic_units():
            records.append(unit.snap(x))
            if x is not None:
                with torch.no_grad():
                    x = unit(x)
        return records


def compose_sympy(
    records: Sequence[SnappedUnit], inputs: Sequence[sympy.Expr]
) -> list[sympy.Expr]:
    """Compose snapped units into one SymPy expression per model output.

    A convenience over the extraction route: the records become an expression
    graph (:func:`~nalu_sr.extraction.build_graph`) that
    :func:`~nalu_sr.extraction.emit` reads off, so this function and the
    estimator's extraction give the same expressions.

    Parameters
    ----------
    records : sequence of SnappedUnit
        Snapped units in stack order.
    inputs : sequence of sympy.Expr
        One expression (usually a symbol) per model input.

    Returns
    -------
    list of sympy.Expr
        One expression per output of the last unit; ``inputs`` themselves
        when there are no records.

    Raises
    ------
    ValueError
        If a unit's ``in_features`` does not match the number of values it
        reads.

    Examples
    --------
    >>> from fractions import Fraction
    >>> import sympy
    >>> from nalu_sr.units import ProductOutput, SnappedUnit
    >>> square = SnappedUnit("nmu", 1, (ProductOutput((Fraction(2),)),), 0.0)
    >>> compose_sympy([square, square], sympy.symbols("x0:1"))
    [x0**4]
    """
    if not records:
        return list(inputs)
    return emit(build_graph(records, len(inputs)), inputs)
