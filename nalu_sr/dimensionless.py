"""Dimensionless groups of a fit's inputs (Buckingham's pi theorem).

A law between quantities with units can be written as
``y = prefactor(x) * f(pi_1(x), ..., pi_k(x))``: the prefactor is a product
of powers of the inputs with the target's dimension, and each ``pi_i`` is a
dimensionless product of powers. There are ``k = n - r`` groups for ``n``
inputs whose dimension matrix has rank ``r``, so a law of 5 inputs over
3 base dimensions is a function of 2 numbers. Searching ``f`` over the
groups instead of ``y`` over the inputs is how AI Feynman (Udrescu and
Tegmark 2020, Science Advances 6:eaay2631) shrinks the Feynman problems.

The groups are not unique: any ``r`` inputs whose dimensions are independent
(the *repeating* inputs) give a basis. :func:`dimensionless_bases` lists
the bases, simplest first: the fewest and smallest exponents.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

from nalu_sr.dimensions import Dimension, Units

#: Subsets of repeating inputs looked at (the first in column order).
MAX_SUBSETS = 2000


@dataclass(frozen=True)
class DimensionlessBasis:
    """``y = prefactor(x) * f(groups(x))`` with dimensionless groups.

    Attributes
    ----------
    prefactor : tuple of Fraction
        Exponent of each input in the product with the target's dimension.
    groups : tuple of tuple of int
        Integer exponents of each input, one tuple per dimensionless group.
        Without any group (every input is needed for the prefactor) the one
        search feature is the prefactor itself: ``y = f(prefactor)``.
    repeating : tuple of int
        Columns of the repeating inputs.
    """

    prefactor: tuple[Fraction, ...]
    groups: tuple[tuple[int, ...], ...]
    repeating: tuple[int, ...]

    @property
    def n_features(self) -> int:
        """Columns of the transformed inputs."""
        return max(len(self.groups), 1)

    def _feature_exponents(self) -> list[tuple[Fraction, ...]]:
        if self.groups:
            return [tuple(Fraction(e) for e in group) for group in self.groups]
        return [self.prefactor]

    def _divisor(self) -> tuple[Fraction, ...]:
        if self.groups:
            return self.prefactor
        return tuple(Fraction(0) for _ in self.prefactor)

    def transform(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the groups' values and the target divided by the prefactor.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Raw inputs.
        y : ndarray of shape (n_samples,)
            Raw target.

        Returns
        -------
        features : ndarray of shape (n_samples, n_groups)
            Non-finite where a group is undefined (a zero to a negative
            power, a negative number to a fractional one).
        target : ndarray of shape (n_samples,)
        """
        X = np.asarray(X, dtype=np.float64)
        columns = [_monomial(X, e) for e in self._feature_exponents()]
        return np.column_stack(columns), np.asarray(y, dtype=np.float64) / _monomial(
            X, self._divisor()
        )

    def restore(
        self,
        expression: sympy.Expr,
        features: Sequence[sympy.Symbol],
        symbols: Sequence[sympy.Symbol],
    ) -> sympy.Expr:
        """Rewrite a formula over the groups as a formula over the inputs.

        Parameters
        ----------
        expression : sympy.Expr
            ``f`` over ``features``, the symbols of the groups.
        features : sequence of sympy.Symbol
            One symbol per column of :meth:`transform`'s features.
        symbols : sequence of sympy.Symbol
            The input symbols, in column order.

        Returns
        -------
        sympy.Expr
            ``prefactor(x) * f(groups(x))``.
        """
        mapping = {
            feature: _monomial_expr(symbols, exponents)
            for feature, exponents in zip(
                features, self._feature_exponents(), strict=True
            )
        }
        return _monomial_expr(symbols, self._divisor()) * expression.xreplace(mapping)

    def describe(self, symbols: Sequence[sympy.Symbol]) -> str:
        """Say the basis in words: ``y = m*c**2 * f(v/c)``."""
        features = [_monomial_expr(symbols, e) for e in self._feature_exponents()]
        inner = ", ".join(str(f) for f in features)
        divisor = _monomial_expr(symbols, self._divisor())
        return f"y = {divisor} * f({inner})" if self.groups else f"y = f({inner})"


def _monomial(X: np.ndarray, exponents: Sequence[Fraction]) -> np.ndarray:
    """``prod_j X[:, j] ** exponents[j]`` (NaN for a negative base to a fraction)."""
    values = np.ones(len(X))
    with np.errstate(all="ignore"):
        for j, exponent in enumerate(exponents):
            if exponent == 0:
                continue
            if exponent.denominator == 1:
                values = values * X[:, j] ** float(exponent)
            else:
                column = np.where(X[:, j] >= 0, X[:, j], np.nan)
                values = values * column ** float(exponent)
    return values


def _monomial_expr(
    symbols: Sequence[sympy.Symbol], exponents: Sequence[Fraction]
) -> sympy.Expr:
    result: sympy.Expr = sympy.Integer(1)
    for symbol, exponent in zip(symbols, exponents, strict=True):
        if exponent != 0:
            power = sympy.Rational(exponent.numerator, exponent.denominator)
            result = result * symbol**power
    return result


def dimensionless_bases(
    units: Units, symbols: Sequence[sympy.Symbol]
) -> list[DimensionlessBasis]:
    """Every basis of dimensionless groups for ``units``, simplest first.

    Parameters
    ----------
    units : Units
        The dimensions of the inputs and of the target.
    symbols : sequence of sympy.Symbol
        The input symbols, in column order (keys of ``units.inputs``).

    Returns
    -------
    list of DimensionlessBasis
        Empty when no product of powers of the inputs has the target's
        dimension (the law needs a dimensional constant the data do not
        hold), or when the groups would be the inputs themselves (every
        input and the target dimensionless). Bases are ordered by the sum
        of the absolute exponents, then by using later columns as
        repeating inputs; bases with the same groups and prefactor appear
        once.
    """
    matrix = _dimension_matrix([units.inputs[s] for s in symbols])
    target = sympy.Matrix([_rational(e) for e in units.target.exponents])
    rank = matrix.rank()
    if matrix.row_join(target).rank() != rank or rank == 0:
        return []
    n = len(symbols)
    found: dict[tuple[object, ...], DimensionlessBasis] = {}
    subsets = itertools.combinations(reversed(range(n)), rank)
    for subset in itertools.islice(subsets, MAX_SUBSETS):
        basis = _basis(matrix, target, sorted(subset))
        if basis is not None:
            found.setdefault((basis.prefactor, basis.groups), basis)
    return sorted(found.values(), key=_simplicity)


def _dimension_matrix(dimensions: Sequence[Dimension]) -> sympy.Matrix:
    """Return base dimensions (rows) by inputs (columns), as exact rationals."""
    columns = [[_rational(e) for e in d.exponents] for d in dimensions]
    return sympy.Matrix(columns).T


def _rational(value: Fraction) -> sympy.Rational:
    return sympy.Rational(value.numerator, value.denominator)


def _basis(
    matrix: sympy.Matrix, target: sympy.Matrix, repeating: list[int]
) -> DimensionlessBasis | None:
    """Return the basis with ``repeating`` inputs, or None if they are dependent."""
    block = matrix[:, repeating]
    if block.rank() < len(repeating):
        return None
    # Least squares is exact here: the columns are independent and the
    # right-hand sides lie in their span.
    solve = (block.T * block).inv() * block.T
    n = matrix.shape[1]
    prefactor = _spread(solve * target, repeating, n)
    groups = []
    for column in range(n):
        if column in repeating:
            continue
        exponents = [-e for e in _spread(solve * matrix[:, column], repeating, n)]
        exponents[column] = Fraction(1)
        groups.append(_integral(exponents))
    return DimensionlessBasis(tuple(prefactor), tuple(groups), tuple(repeating))


def _spread(solution: sympy.Matrix, repeating: list[int], n: int) -> list[Fraction]:
    """Place the repeating inputs' exponents among ``n`` columns."""
    exponents = [Fraction(0)] * n
    for value, column in zip(solution, repeating, strict=True):
        exponents[column] = Fraction(int(value.p), int(value.q))
    return exponents


def _integral(exponents: Sequence[Fraction]) -> tuple[int, ...]:
    """Scale a group's exponents to the smallest integers."""
    scale = math.lcm(*(e.denominator for e in exponents))
    return tuple(int(e * scale) for e in exponents)


def _simplicity(basis: DimensionlessBasis) -> tuple[Fraction, tuple[int, ...]]:
    """Sum of absolute exponents, a fractional one counting one more.

    A root in the prefactor (``sqrt(A)*kappa*T2`` rather than
    ``kappa*T2*d``) is undefined on negative inputs and hides the law's
    integer powers inside ``f``.
    """
    size = sum((abs(e) + (e.denominator > 1) for e in basis.prefactor), Fraction(0))
    size += sum(abs(e) for group in basis.groups for e in group)
    return size, tuple(-column for column in reversed(basis.repeating))
