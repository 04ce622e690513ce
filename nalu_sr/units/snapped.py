"""Records of what a unit means once its weights and gates are snapped.

Every unit's :meth:`~nalu_sr.units.ArithmeticUnit.snap` returns a
:class:`SnappedUnit`: one record per output saying which operation it computes
on which inputs with which exact weights. The records are the contract between
the units and the extraction stage: they hold no tensors, so extraction can
read them (to build a graph, or a SymPy expression) without autograd.
Each record gives the symbolic (:meth:`~SnappedUnit.to_sympy`) and numeric
(:meth:`~SnappedUnit.evaluate`) meaning of one unit; composing records into a
model's formula is :func:`nalu_sr.model.compose_sympy`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeAlias

import numpy as np
import sympy
import torch

from nalu_sr.primitives import Primitive

__all__ = [
    "LinearCombination",
    "LinearOutput",
    "Number",
    "PrimitiveOutput",
    "ProductOutput",
    "SnappedOutput",
    "SnappedUnit",
    "cos_pi",
    "evaluate_primitive",
    "to_sympy_number",
]

#: A weight: exact ``Fraction``, a float constant, or an exact SymPy number
#: such as ``1/(4*pi)`` recognised by the extraction stage.
Number: TypeAlias = Fraction | float | sympy.Expr


def to_sympy_number(value: Number) -> sympy.Expr:
    """Return a weight as a SymPy number, keeping exact values exact.

    Parameters
    ----------
    value : Fraction, int, float or sympy.Expr
        A snapped weight.

    Returns
    -------
    sympy.Expr
        ``Rational`` for fractions and ints, a 15-digit ``Float`` for floats,
        and SymPy expressions unchanged.
    """
    if isinstance(value, sympy.Expr):
        return value
    if isinstance(value, Fraction | int):
        return sympy.Rational(value.numerator, value.denominator)
    return sympy.Float(value, 15)


def cos_pi(exponent: float) -> float:
    """Return ``cos(pi * exponent)``, exactly where ``2 * exponent`` is an integer.

    ``math.cos(math.pi / 2)`` is ``6e-17``, not the ``0`` that SymPy's exact
    ``cos(pi/2)`` gives, so the sign factor of a half-integer power would
    otherwise differ between the numeric and the symbolic meaning.

    Parameters
    ----------
    exponent : float
        The power's exponent.

    Returns
    -------
    float
        The sign factor ``cos(pi * exponent)`` of ``x**exponent`` for ``x < 0``.
    """
    twice = 2 * exponent
    if math.isfinite(twice) and twice == int(twice):
        return (1.0, 0.0, -1.0, 0.0)[int(twice) % 4]
    return math.cos(math.pi * exponent)


def evaluate_primitive(
    primitive: Primitive, arguments: Sequence[np.ndarray]
) -> np.ndarray:
    """Apply ``primitive``'s exact torch function to float64 numpy arguments.

    Parameters
    ----------
    primitive : Primitive
        The primitive to apply.
    arguments : sequence of numpy.ndarray
        ``primitive.arity`` arrays of the same shape.

    Returns
    -------
    numpy.ndarray
        The exact values, possibly non-finite off the primitive's domain.
    """
    tensors = [torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in arguments]
    with torch.no_grad():
        return primitive.exact_forward(*tensors).numpy()


def _signed_power(x: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """``x**exponent`` for ``x >= 0``, else ``cos(pi*exponent) * (-x)**exponent``.

    Raises ``TypeError`` where the sign test would compare ``nan`` or ``zoo``
    with 0 (SymPy raises it itself, or the condition keeps a ``zoo`` that
    makes later simplification or printing raise).
    """
    negative_branch = sympy.cos(sympy.pi * exponent) * (-x) ** exponent
    result = sympy.Piecewise((x**exponent, x >= 0), (negative_branch, True))
    if isinstance(result, sympy.Piecewise) and any(
        condition.has(sympy.nan, sympy.zoo) for _, condition in result.args
    ):
        raise TypeError("cannot take the sign of nan or zoo")
    return result


def _signed_power_or_nan(x: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """:func:`_signed_power`, or ``nan`` where ``x`` is ``nan`` or ``zoo``."""
    try:
        return _signed_power(x, exponent)
    except TypeError:
        return sympy.nan


@dataclass(frozen=True)
class LinearCombination:
    """``sum_i coefficients[i] * inputs[i] + offset``.

    Parameters
    ----------
    coefficients : tuple of Fraction or float
        One coefficient per unit input.
    offset : Fraction or float, default=Fraction(0)
        Constant term.
    """

    coefficients: tuple[Number, ...]
    offset: Number = Fraction(0)

    def to_sympy(self, inputs: Sequence[sympy.Expr]) -> sympy.Expr:
        """Return the combination as a SymPy expression of ``inputs``."""
        terms = [
            to_sympy_number(c) * x
            for c, x in zip(self.coefficients, inputs, strict=True)
            if c != 0
        ]
        return sympy.Add(*terms, to_sympy_number(self.offset))

    def evaluate(self, inputs: np.ndarray) -> np.ndarray:
        """Evaluate on ``inputs`` of shape ``(n, in_features)``."""
        weights = np.array([float(c) for c in self.coefficients])
        return np.asarray(inputs @ weights + float(self.offset))


@dataclass(frozen=True)
class LinearOutput:
    """An output that is a linear combination of the unit's inputs."""

    combination: LinearCombination

    def to_sympy(self, inputs: Sequence[sympy.Expr]) -> sympy.Expr:
        """Return the output as a SymPy expression of ``inputs``."""
        return self.combination.to_sympy(inputs)

    def evaluate(self, inputs: np.ndarray) -> np.ndarray:
        """Evaluate on ``inputs`` of shape ``(n, in_features)``."""
        return self.combination.evaluate(inputs)


@dataclass(frozen=True)
class ProductOutput:
    """An output ``prod_i inputs[i] ** exponents[i]``.

    Parameters
    ----------
    exponents : tuple of Fraction or float
        One exponent per unit input; zero means the input is not used.
    signed : bool, default=True
        ``True`` keeps signs as RealNPU and NMU do: integer exponents give
        ``x**e`` exactly, a fractional exponent on a negative input gives
        ``cos(pi*e) * |x|**e``. ``False`` takes magnitudes, as the NAC/NALU
        log-space path does: ``|x|**e``.
    """

    exponents: tuple[Number, ...]
    signed: bool = True

    def to_sympy(self, inputs: Sequence[sympy.Expr]) -> sympy.Expr:
        """Return the output as a SymPy expression of ``inputs``."""
        factors = [
            self._factor(x, to_sympy_number(e))
            for e, x in zip(self.exponents, inputs, strict=True)
            if e != 0
        ]
        return sympy.Mul(*factors)

    def _factor(self, x: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
        """One factor, with the sign convention of the unit."""
        if not self.signed:
            return sympy.Abs(x) ** exponent
        if exponent.is_integer:
            return x**exponent
        try:
            return _signed_power(x, exponent)
        except TypeError:
            # SymPy cannot compare nan or zoo with 0: x is undefined in some
            # branch. Take the power branch by branch; undefined stays nan.
            folded = sympy.piecewise_fold(x)
            if not isinstance(folded, sympy.Piecewise):
                return sympy.nan
            return sympy.Piecewise(
                *((_signed_power_or_nan(v, exponent), c) for v, c in folded.args)
            )

    def evaluate(self, inputs: np.ndarray) -> np.ndarray:
        """Evaluate on ``inputs`` of shape ``(n, in_features)``."""
        result = np.ones(inputs.shape[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            for exponent, column in zip(self.exponents, inputs.T, strict=True):
                e = float(exponent)
                if e == 0:
                    continue
                factor = np.abs(column) ** e
                if self.signed:
                    factor = factor * np.where(column < 0, cos_pi(e), 1.0)
                result = result * factor
        return result


@dataclass(frozen=True)
class PrimitiveOutput:
    """An output ``primitive(arguments[0], arguments[1], ...)``.

    Parameters
    ----------
    primitive : Primitive
        The chosen primitive.
    arguments : tuple of LinearCombination
        One linear combination of the unit's inputs per argument.
    """

    primitive: Primitive
    arguments: tuple[LinearCombination, ...]

    def to_sympy(self, inputs: Sequence[sympy.Expr]) -> sympy.Expr:
        """Return the output as a SymPy expression of ``inputs``."""
        return self.primitive.to_sympy(*(a.to_sympy(inputs) for a in self.arguments))

    def evaluate(self, inputs: np.ndarray) -> np.ndarray:
        """Evaluate on ``inputs`` of shape ``(n, in_features)`` (exact torch)."""
        arguments = [a.evaluate(inputs) for a in self.arguments]
        return evaluate_primitive(self.primitive, arguments)


SnappedOutput: TypeAlias = LinearOutput | ProductOutput | PrimitiveOutput


@dataclass(frozen=True)
class SnappedUnit:
    """The discrete meaning of one unit: one record per output.

    Parameters
    ----------
    kind : str
        The unit's registry name, for example ``"nau"``.
    in_features : int
        Number of inputs.
    outputs : tuple of SnappedOutput
        What each output computes.
    discreteness_error : float
        Largest distance of a weight or gate from its snapped value at the time
        of snapping; near 0 means the snap did not change the function.
    """

    kind: str
    in_features: int
    outputs: tuple[SnappedOutput, ...]
    discreteness_error: float

    @property
    def out_features(self) -> int:
        """Number of outputs."""
        return len(self.outputs)

    def to_sympy(self, inputs: Sequence[sympy.Expr]) -> list[sympy.Expr]:
        """Return each output as a SymPy expression of ``inputs``.

        Parameters
        ----------
        inputs : sequence of sympy.Expr
            One expression per unit input.

        Returns
        -------
        list of sympy.Expr
            One expression per output.
        """
        if len(inputs) != self.in_features:
            raise ValueError(
                f"{self.kind} unit takes {self.in_features} inputs, got {len(inputs)}"
            )
        return [output.to_sympy(inputs) for output in self.outputs]

    def evaluate(self, inputs: np.ndarray) -> np.ndarray:
        """Evaluate the snapped unit on ``inputs`` of shape ``(n, in_features)``.

        Returns
        -------
        numpy.ndarray
            Outputs of shape ``(n, out_features)``.
        """
        inputs = np.asarray(inputs, dtype=np.float64)
        return np.stack([output.evaluate(inputs) for output in self.outputs], axis=1)
