"""Whether a formula is a law: the data's precision floor and an extrapolation check.

A smooth function on a narrow range is fitted far below any fixed tolerance
by a series with a handful of free constants (``cosh`` on ``[-1, 1]`` by
even powers and an exponential, to a relative error of ``1e-17``), and is
wrong outside the range. A law earns ``exact_`` in two ways an
approximation does not:

1. **Precision floor.** Its relative validation error is at the rounding
   error of the data (:func:`precision_floor`): a law evaluated in float64
   differs from noise-free float64 targets by a few units in the last place
   (relative errors near ``1e-31``), an approximation by far more.
2. **Extrapolation.** Its free constants (:func:`free_constants`:
   the intercept, one coefficient per term and every float inside a term),
   refitted on the inner part of the input range, predict the held-out outer
   rows to the same floor (:func:`extrapolation_loss`). A law's constants are
   the same on any part of its domain; an approximation's move, and its
   prediction of the outer rows fails.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy
from scipy import optimize

from nalu_sr._lack_of_fit import residuals_are_noise
from nalu_sr._thresholds import SYMBOLIC_MAX_ERROR
from nalu_sr.export.numpy import CallableExpression
from nalu_sr.linalg import relative_error, weighted_mean

__all__ = [
    "MAX_CHECK_ROWS",
    "NOISY_LAW_FACTOR",
    "OUTER_SHARE",
    "ROUNDING_ULPS",
    "LawCheck",
    "extrapolation_loss",
    "free_constants",
    "outer_rows",
    "precision_floor",
    "refit_constants",
    "scaled_moments",
]

#: Root-mean-square error, in units of the data's machine epsilon times the
#: target's root mean square, that a law may have on exact data: a law's
#: value is a few roundings off (about 1 ulp), and cancellation between its
#: terms or a fitted constant's last digits may multiply that; 100 ulps is
#: ``1e-26`` of relative error in float64 (laws measure ``1e-31``) and
#: ``1e-10`` in float32.
ROUNDING_ULPS = 100.0
#: Share of the rows, the farthest from the middle of the inputs, that the
#: extrapolation check holds out.
OUTER_SHARE = 0.2
#: Most rows the extrapolation check uses (evenly spaced in row order).
MAX_CHECK_ROWS = 2000
#: How many times its own error on the outer rows a formula refitted on the
#: inner rows may miss them by and still pass as a law under noise.
NOISY_LAW_FACTOR = 2.0
#: Function evaluations the refit on the inner rows may spend.
_MAX_EVALUATIONS = 200


def precision_floor(
    y: np.ndarray, dtype: np.dtype | type, weights: np.ndarray | None = None
) -> float:
    """Relative error (a share of the variance) that rounding alone explains.

    ``(ROUNDING_ULPS * eps)**2 * mean(y**2) / var(y)``, ``eps`` being the
    machine epsilon of ``dtype``: the rounding error of a value scales with
    its size, not with its spread, so a target far from zero (a large
    ``mean(y**2) / var(y)``) has a higher floor.

    Parameters
    ----------
    y : numpy.ndarray
        The targets.
    dtype : numpy dtype or type
        The precision the data came in (the coarser of the inputs' and the
        target's).
    weights : numpy.ndarray or None, default=None
        Row weights.

    Returns
    -------
    float
        The floor; ``inf`` for a constant or non-finite target.

    Examples
    --------
    >>> y = np.array([1.0, 3.0])
    >>> math.isclose(precision_floor(y, np.float64), (100 * 2.0**-52) ** 2 * 5)
    True
    """
    mean_square, variance = scaled_moments(y, weights)
    if not variance > 0:
        return math.inf
    eps = float(np.finfo(dtype).eps)
    return (ROUNDING_ULPS * eps) ** 2 * mean_square / variance


def scaled_moments(
    y: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """Return the mean square and variance of ``y / max|y|``.

    Their ratio is what the floor and the noise bound need, and it does not
    depend on the scale; dividing by the peak keeps ``1e200 ** 2`` finite.

    Parameters
    ----------
    y : numpy.ndarray
        The targets.
    weights : numpy.ndarray or None, default=None
        Row weights.

    Returns
    -------
    mean_square, variance : float
        Both ``nan`` when ``y`` is empty, zero or not finite.

    Examples
    --------
    >>> scaled_moments(np.array([1e200, 2e200]))
    (0.625, 0.0625)
    """
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    if not (math.isfinite(peak) and peak > 0):
        return math.nan, math.nan
    scaled = y / peak
    mean_square = weighted_mean(scaled**2, weights)
    return mean_square, mean_square - weighted_mean(scaled, weights) ** 2


def outer_rows(X: np.ndarray, share: float = OUTER_SHARE) -> np.ndarray:
    """Mark the rows farthest from the middle of the inputs' ranges.

    Each column is replaced by its ranks scaled to ``[-1, 1]`` (so any range
    or magnitude counts alike), a row's distance is its largest absolute
    scaled rank, and the ``share`` of rows with the largest distance are
    marked (ties broken by row order).

    Parameters
    ----------
    X : numpy.ndarray
        Inputs, shape ``(n, d)``.
    share : float, default=OUTER_SHARE
        Fraction of rows to mark.

    Returns
    -------
    numpy.ndarray of bool
        ``True`` for the outer rows.

    Examples
    --------
    >>> outer_rows(np.array([[0.0], [5.0], [2.0], [3.0], [9.0]]), 0.4).tolist()
    [True, False, False, False, True]
    """
    n_rows = len(X)
    if n_rows < 2 or X.shape[1] == 0:
        return np.zeros(n_rows, dtype=bool)
    ranks = np.argsort(np.argsort(X, axis=0, kind="stable"), axis=0, kind="stable")
    distance = np.max(np.abs(2.0 * ranks / (n_rows - 1) - 1.0), axis=1)
    n_outer = round(share * n_rows)
    marked = np.zeros(n_rows, dtype=bool)
    marked[np.argsort(-distance, kind="stable")[:n_outer]] = True
    return marked


@dataclass(frozen=True)
class _Parametrised:
    """A formula with its free constants as parameters, and their values."""

    function: CallableExpression
    start: np.ndarray
    expression: sympy.Expr
    parameters: tuple[sympy.Symbol, ...]

    def __call__(self, X: np.ndarray, values: np.ndarray) -> np.ndarray:
        columns = np.broadcast_to(values, (len(X), len(values)))
        return self.function(np.column_stack([X, columns]))


def _parametrise(
    expression: sympy.Expr, symbols: Sequence[sympy.Symbol]
) -> _Parametrised:
    """Free the intercept, one coefficient per term and every inner float."""
    names = iter(sympy.Dummy(f"c{i}") for i in range(10_000))
    parameters: list[sympy.Symbol] = []
    values: list[float] = []

    def free(value: sympy.Expr) -> sympy.Symbol:
        parameters.append(next(names))
        values.append(float(value))
        return parameters[-1]

    intercept, terms = expression.as_coeff_Add()
    total: sympy.Expr = free(intercept)
    for term in sympy.Add.make_args(terms):
        if term == 0:
            continue
        coefficient, rest = term.as_coeff_Mul()
        floats = sorted(rest.atoms(sympy.Float), key=float)
        rest = rest.xreplace({f: free(f) for f in floats})
        total = total + free(coefficient) * rest
    function = CallableExpression(total, [*symbols, *parameters])
    start = np.asarray(values, dtype=np.float64)
    return _Parametrised(function, start, total, tuple(parameters))


def refit_constants(
    expression: sympy.Expr,
    symbols: Sequence[sympy.Symbol],
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
) -> sympy.Expr | None:
    """Refit every free constant of a formula jointly by least squares.

    The free constants are those of :func:`extrapolation_loss` (intercept,
    one coefficient per term, every inner float), started from their
    values in ``expression``.

    Parameters
    ----------
    expression : sympy.Expr
        The formula, over ``symbols``.
    symbols : sequence of sympy.Symbol
        One symbol per column of ``X``.
    X, y : numpy.ndarray
        Rows and targets.
    weights : numpy.ndarray or None, default=None
        Row weights.

    Returns
    -------
    sympy.Expr or None
        The formula with the refitted constants as floats; ``None`` when it
        cannot be evaluated on the rows or has no more rows than constants.
    """
    formula = _parametrise(expression, symbols)
    if len(y) <= len(formula.start):
        return None
    values = _refit(formula, X, y, weights)
    if values is None or not np.all(np.isfinite(values)):
        return None
    fitted = dict(zip(formula.parameters, map(sympy.Float, values), strict=True))
    return formula.expression.xreplace(fitted)


def extrapolation_loss(
    expression: sympy.Expr,
    symbols: Sequence[sympy.Symbol],
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
) -> float:
    """Relative error on the outer rows after refitting constants on the inner ones.

    The free constants (intercept, term coefficients, inner floats) start
    from the formula's values and are refitted by least squares on the rows
    :func:`outer_rows` does not mark; the formula then predicts the marked
    rows. A law keeps its constants and its precision; an approximation's
    constants move and its error there grows.

    Parameters
    ----------
    expression : sympy.Expr
        The formula, over ``symbols``.
    symbols : sequence of sympy.Symbol
        One symbol per column of ``X``.
    X, y : numpy.ndarray
        Rows and targets.
    weights : numpy.ndarray or None, default=None
        Row weights.

    Returns
    -------
    float
        The relative error on the outer rows; ``inf`` when there are no
        more inner rows than free constants or the formula cannot be
        evaluated there.
    """
    return _outer_errors(_parametrise(expression, symbols), X, y, weights)[1]


def _outer_errors(
    formula: _Parametrised,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
) -> tuple[float, float]:
    """Relative errors on the outer rows: with the formula's constants, refitted.

    The second is :func:`extrapolation_loss`; the first, the formula's own
    error there, is what a law under noise refits to.
    """
    outer = outer_rows(X)
    inner = ~outer
    if int(inner.sum()) <= len(formula.start) or not outer.any():
        return math.inf, math.inf
    w_outer = _take(weights, outer)
    with np.errstate(all="ignore"):
        own = relative_error(formula(X[outer], formula.start), y[outer], w_outer)
    values = _refit(formula, X[inner], y[inner], _take(weights, inner))
    if values is None:
        return own, math.inf
    return own, relative_error(formula(X[outer], values), y[outer], w_outer)


def _take(weights: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    return None if weights is None else weights[rows]


def _refit(
    formula: _Parametrised,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
) -> np.ndarray | None:
    """Least-squares values of the free constants on these rows (``None``: no fit)."""
    scale = math.sqrt(max(float(np.mean(y**2)), np.finfo(np.float64).tiny))
    root = np.ones_like(y) if weights is None else np.sqrt(weights)

    def residuals(values: np.ndarray) -> np.ndarray:
        return np.asarray(root * (formula(X, values) - y) / scale, dtype=np.float64)

    try:
        start = residuals(formula.start)
        if not np.all(np.isfinite(start)):
            return None
        with np.errstate(all="ignore"):
            result = optimize.least_squares(
                residuals,
                formula.start,
                method="trf",
                x_scale="jac",
                xtol=1e-15,
                ftol=1e-15,
                gtol=1e-15,
                max_nfev=_MAX_EVALUATIONS,
            )
    except (ArithmeticError, ValueError, np.linalg.LinAlgError):
        return None
    return np.asarray(result.x, dtype=np.float64)


@dataclass(frozen=True)
class LawCheck:
    """The rows a fit's formulas are judged on, and the precision they must reach.

    Attributes
    ----------
    X, y : numpy.ndarray
        At most :data:`MAX_CHECK_ROWS` rows of the raw data (evenly spaced).
    weights : numpy.ndarray or None
        Their weights.
    dtype : numpy dtype
        The data's precision (see :func:`precision_floor`).
    tol : float or None, default=None
        A floor set by the user instead of the precision floor.
    """

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None
    dtype: np.dtype
    tol: float | None = None

    @classmethod
    def from_data(
        cls,
        X: np.ndarray,
        y: np.ndarray,
        weights: np.ndarray | None,
        dtype: np.dtype,
        tol: float | None = None,
    ) -> LawCheck:
        """Keep an even sample of the rows, in float64."""
        count = min(len(y), MAX_CHECK_ROWS)
        rows = np.unique(np.linspace(0, len(y) - 1, count).astype(np.int64))
        return cls(
            np.asarray(X[rows], dtype=np.float64),
            np.asarray(y[rows], dtype=np.float64),
            None if weights is None else np.asarray(weights[rows], dtype=np.float64),
            np.dtype(dtype),
            tol,
        )

    @property
    def floor(self) -> float:
        """Relative error at or below which a formula is at the data's precision."""
        return self._floor_of(np.ones(len(self.y), dtype=bool))

    def _floor_of(self, rows: np.ndarray) -> float:
        if self.tol is not None:
            return self.tol
        return precision_floor(self.y[rows], self.dtype, _take(self.weights, rows))

    def within_noise(self, loss: float) -> bool:
        """Whether a relative loss is small enough for a law under noise.

        Its mean squared error must be at most
        :data:`~nalu_sr._thresholds.SYMBOLIC_MAX_ERROR` of the target's mean
        square, the bound under which extraction lets constants become
        symbolic numbers.
        """
        mean_square, variance = scaled_moments(self.y, self.weights)
        if not mean_square > 0:
            return False
        scale = variance if variance > 0 else mean_square
        return loss * scale <= SYMBOLIC_MAX_ERROR * mean_square

    def loss(self, expression: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> float:
        """Relative error of a formula on the check rows (``inf`` if it fails).

        Parameters
        ----------
        expression : sympy.Expr
            The formula, over ``symbols``.
        symbols : sequence of sympy.Symbol
            One symbol per column of ``X``.

        Returns
        -------
        float
            The weighted relative mean squared error.
        """
        formula = _parametrise(expression, symbols)
        with np.errstate(all="ignore"):
            prediction = formula(self.X, formula.start)
        if not np.all(np.isfinite(prediction)):
            return math.inf
        return relative_error(prediction, self.y, self.weights)

    def extrapolation(
        self, expression: sympy.Expr, symbols: Sequence[sympy.Symbol]
    ) -> float:
        """Relative error on the outer rows (see :func:`extrapolation_loss`)."""
        return extrapolation_loss(expression, symbols, self.X, self.y, self.weights)

    def extrapolates(self, extrapolation: float) -> bool:
        """Whether an extrapolation error is at the outer rows' own floor."""
        if not math.isfinite(extrapolation):
            return False
        return extrapolation <= self._floor_of(outer_rows(self.X))

    def extrapolates_like_noise(
        self, expression: sympy.Expr, symbols: Sequence[sympy.Symbol]
    ) -> bool:
        """Whether a formula extrapolates, and misses, as a law under noise does.

        Refitted on the inner rows, a law misses the outer rows by about the
        noise, as it does when fitted on every row; an approximation misses
        them by far more (its constants were bent to the range). The refitted
        error must be at most :data:`NOISY_LAW_FACTOR` times the formula's
        own error on the outer rows. And a law's residuals are the noise,
        where an approximation's are a smooth function of the inputs: the
        residuals of neighbouring rows must not be correlated
        (:func:`~nalu_sr._lack_of_fit.residuals_are_noise`).

        Parameters
        ----------
        expression : sympy.Expr
            The formula, over ``symbols``.
        symbols : sequence of sympy.Symbol
            One symbol per column of ``X``.

        Returns
        -------
        bool
        """
        formula = _parametrise(expression, symbols)
        own, refitted = _outer_errors(formula, self.X, self.y, self.weights)
        if not (math.isfinite(own) and math.isfinite(refitted)):
            return False
        floor = self._floor_of(outer_rows(self.X))
        if refitted > NOISY_LAW_FACTOR * max(own, floor):
            return False
        with np.errstate(all="ignore"):
            residuals = self.y - formula(self.X, formula.start)
        return residuals_are_noise(self.X, residuals)


def free_constants(expression: sympy.Expr) -> int:
    """Count the constants a fit chose for a formula, snapped or not.

    The linear head fits an intercept and one coefficient per term, whatever
    simple numbers they end up as (``x0*x1`` has two: 1 and 0); floats inside
    a term (the ``a*x + b`` of a function term) were fitted too. Exponents
    and the integer weights of a body are its structure, not constants.

    Parameters
    ----------
    expression : sympy.Expr
        A formula.

    Returns
    -------
    int
        At least 1 (the intercept).

    Examples
    --------
    >>> x0, x1 = sympy.symbols("x0 x1")
    >>> free_constants(x0 * x1), free_constants(1.5 * x0 + 3.25)
    (2, 2)
    >>> free_constants(sympy.sin(0.5 * x0 + 0.25) + x1)
    5
    """
    terms = [t for t in sympy.Add.make_args(expression) if not t.is_number]
    nested = sum(len(term.as_coeff_Mul()[1].atoms(sympy.Float)) for term in terms)
    return 1 + len(terms) + nested
