"""Function terms ``P(x) * u(a * g(x) + b)``: their values and their formulas."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TypeAlias

import numpy as np
import sympy
import torch

from nalu_sr.primitives import Primitive

ONE: sympy.Expr = sympy.Integer(1)
ZERO: sympy.Expr = sympy.Integer(0)
#: An inner constant: a fitted float, or an exact SymPy number once snapped.
Constant: TypeAlias = float | sympy.Expr


@dataclass(frozen=True)
class Argument:
    """The argument ``g(x)`` of a primitive.

    Either a monomial ``prod_i x_i**exponents[i]`` (``weights`` is ``None``) or
    a power of a signed sum ``(sum_i weights[i] * x_i)**power``.

    Attributes
    ----------
    exponents : tuple of Fraction or None
        Exponents of the monomial form.
    weights : tuple of int or None
        Weights in {-1, 0, 1} of the sum form.
    power : int
        Power the sum is raised to (1 or 2).
    """

    exponents: tuple[Fraction, ...] | None = None
    weights: tuple[int, ...] | None = None
    power: int = 1

    def values(self, X: torch.Tensor) -> torch.Tensor:
        """Evaluate on rows ``X`` of shape ``(n, n_features)``."""
        if self.weights is not None:
            w = torch.tensor(self.weights, dtype=X.dtype, device=X.device)
            return (X @ w) ** self.power
        assert self.exponents is not None
        return monomial(X, self.exponents)

    def to_sympy(self, symbols: Sequence[sympy.Symbol]) -> sympy.Expr:
        """Return the argument over ``symbols``."""
        if self.weights is not None:
            total = sympy.Add(
                *(w * s for w, s in zip(self.weights, symbols, strict=True))
            )
            return total**self.power
        assert self.exponents is not None
        return monomial_sympy(self.exponents, symbols)


@dataclass(frozen=True)
class Term:
    """One term ``P(x) * u(scale * g(x) + offset)``, or the monomial ``P(x)`` alone.

    Attributes
    ----------
    factor : tuple of Fraction
        Exponents of the monomial factor ``P``.
    primitive : Primitive or None
        The function ``u``; ``None`` for a plain monomial term.
    argument : Argument or None
        The argument ``g``; ``None`` for a plain monomial term.
    scale, offset : float or sympy.Expr
        Inner constants ``a`` and ``b``.
    """

    factor: tuple[Fraction, ...]
    primitive: Primitive | None = None
    argument: Argument | None = None
    scale: Constant = ONE
    offset: Constant = ZERO

    @property
    def constants(self) -> tuple[Constant, Constant]:
        """The inner constants ``(scale, offset)``."""
        return self.scale, self.offset

    def with_constants(self, scale: Constant, offset: Constant) -> Term:
        """Return a copy with other inner constants."""
        return replace(self, scale=scale, offset=offset)

    def inner(self, X: torch.Tensor) -> torch.Tensor:
        """Value of ``scale * g(x) + offset``."""
        assert self.argument is not None
        return self._shifted(self.argument.values(X))

    def _shifted(self, argument: torch.Tensor) -> torch.Tensor:
        return float(self.scale) * argument + float(self.offset)

    def values(self, X: torch.Tensor) -> torch.Tensor:
        """Evaluate with the primitive's exact function (may be non-finite)."""
        argument = None if self.argument is None else self.argument.values(X)
        return self.values_from(monomial(X, self.factor), argument)

    def values_from(
        self, factor: torch.Tensor, argument: torch.Tensor | None
    ) -> torch.Tensor:
        """Evaluate from precomputed values of the factor ``P`` and argument ``g``.

        Refinement changes only the inner constants, so it evaluates ``P``
        and ``g`` once and calls this for every trial.
        """
        if self.primitive is None or argument is None:
            return factor
        return factor * self.primitive.exact_forward(self._shifted(argument))

    def to_sympy(self, symbols: Sequence[sympy.Symbol]) -> sympy.Expr:
        """Return the term over ``symbols``."""
        factor = monomial_sympy(self.factor, symbols)
        if self.primitive is None:
            return factor
        assert self.argument is not None
        inner = _number(self.scale) * self.argument.to_sympy(symbols) + _number(
            self.offset
        )
        return factor * self.primitive.to_sympy(inner)

    def describe(self) -> str:
        """Return a key that tells terms apart (used to avoid duplicates)."""
        argument = (
            None
            if self.argument is None
            else (
                self.argument.exponents,
                self.argument.weights,
                self.argument.power,
            )
        )
        name = None if self.primitive is None else self.primitive.name
        return repr((self.factor, name, argument))


def monomial(X: torch.Tensor, exponents: Sequence[Fraction]) -> torch.Tensor:
    """``prod_i X[:, i]**exponents[i]``; integer powers keep the sign of negatives."""
    result = torch.ones(X.shape[0], dtype=X.dtype, device=X.device)
    for i, exponent in enumerate(exponents):
        if exponent != 0:
            result = result * X[:, i] ** float(exponent)
    return result


def monomial_sympy(
    exponents: Sequence[Fraction], symbols: Sequence[sympy.Symbol]
) -> sympy.Expr:
    """Return ``prod_i symbols[i]**exponents[i]`` with exact exponents."""
    return sympy.Mul(
        *(
            s ** sympy.Rational(e.numerator, e.denominator)
            for e, s in zip(exponents, symbols, strict=True)
            if e != 0
        )
    )


def term_matrix(terms: Sequence[Term], X: torch.Tensor) -> np.ndarray:
    """Columns of term values on ``X`` (float64 numpy, shape ``(n, len(terms))``)."""
    if not terms:
        return np.zeros((X.shape[0], 0))
    with torch.no_grad():
        return torch.stack([term.values(X) for term in terms], dim=1).numpy()


def _number(value: Constant) -> sympy.Expr:
    if isinstance(value, sympy.Expr):
        return value
    return sympy.Float(value, 15)
