"""The data side of a fit: units, validation split, training sample, input scale.

Each helper draws from the fit's random state in a fixed order (split, then
the search plan, then the sample of rows), so that a seed gives one result.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy
import torch
from sklearn.utils.validation import _check_sample_weight, validate_data
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from nalu_sr.extraction.candidate import Candidate, Split

#: Below this many rows, every row both trains and validates.
MIN_ROWS_TO_SPLIT = 10

#: Columns (and targets) whose root mean square lies within this many decades
#: of 1 are searched as they are; the others are divided by a power of ten.
KEPT_DECADES = 3


@dataclass(frozen=True)
class DecadeScales:
    """Powers of ten that bring each input column and the target near 1.

    The search runs on ``X[:, j] / 10**inputs[j]`` and ``y / 10**target``:
    least squares and simple-number matching work in floating point relative
    to numbers of order 1, so a law in farads (1e-12) would otherwise hide
    behind rounding. Dividing by powers of ten is undone exactly on the
    formulas (see :meth:`restore`).

    Attributes
    ----------
    inputs : tuple of int
        Decade of each input column (0: left as it is).
    target : int
        Decade of the target.
    """

    inputs: tuple[int, ...]
    target: int

    def normalise(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Divide every column and the target by its power of ten.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Raw inputs.
        y : ndarray of shape (n_samples,)
            Raw targets.

        Returns
        -------
        X, y : ndarray
            The data the search runs on (``X`` itself when no column moves).
        """
        if not any(self.inputs):
            return X, _shift(y, self.target)
        columns = [_shift(X[:, j], k) for j, k in enumerate(self.inputs)]
        return np.column_stack(columns), _shift(y, self.target)

    def restore(
        self, expression: sympy.Expr, symbols: Sequence[sympy.Symbol]
    ) -> sympy.Expr:
        """Rewrite a formula found on normalised data over the raw features.

        ``y / 10**t = f(x / 10**k)`` gives ``y = 10**t * f(x / 10**k)``; the
        powers of ten are exact rationals, so exact constants (integers,
        ``pi``) stay exact.

        Parameters
        ----------
        expression : sympy.Expr
            A formula over the normalised features.
        symbols : sequence of sympy.Symbol
            The feature symbols, in column order.

        Returns
        -------
        sympy.Expr
            The same law over the raw features and target.
        """
        ten = sympy.Integer(10)
        mapping = {
            symbol: symbol / ten**k
            for symbol, k in zip(symbols, self.inputs, strict=True)
            if k != 0
        }
        restored = expression.xreplace(mapping) if mapping else expression
        if mapping and restored.has(sympy.log):
            restored = _split_decade_logs(restored)
        return restored * ten**self.target if self.target else restored

    def restore_candidates(
        self, candidates: Sequence[Candidate], symbols: Sequence[sympy.Symbol]
    ) -> list[Candidate]:
        """Restore every candidate's formula; complexity and losses are kept.

        Complexity stays that of the normalised formula, so that the choice
        among candidates does not depend on the units of the data.

        Parameters
        ----------
        candidates : sequence of Candidate
            Candidates found on the normalised data.
        symbols : sequence of sympy.Symbol
            The feature symbols, in column order.

        Returns
        -------
        list of Candidate
            The candidates, their formulas over the raw features.
        """
        if not any(self.inputs) and not self.target:
            return list(candidates)
        return [
            dataclasses.replace(c, expression=self.restore(c.expression, symbols))
            for c in candidates
        ]


#: Numbers that add up to within this share of their sizes are rounding: 0.
CANCELLED_RTOL = 1e-12


def _split_decade_logs(expression: sympy.Expr) -> sympy.Expr:
    """Write ``log(x/10**k)`` as ``log(x) - k*log(10)`` and add up the numbers.

    A law ``log(x)`` found on ``x / 10**5`` comes back as
    ``log(x/100000) + 11.5129254649702``: the fitted intercept is
    ``5*log(10)`` in floating point, and the two cancel to rounding.
    """

    def decade(node: sympy.Expr) -> bool:
        if not (isinstance(node, sympy.log) and bool(node.args[0].is_Mul)):
            return False
        return any(_power_of_ten(f) for f in node.args[0].args)

    def split(node: sympy.Expr) -> sympy.Expr:
        factors = node.args[0].args
        tens = [f for f in factors if _power_of_ten(f)]
        rest = sympy.Mul(*(f for f in factors if not _power_of_ten(f)))
        return sympy.log(rest) + sum(sympy.log(f) for f in tens)

    expanded = expression.replace(decade, split)
    return expanded.replace(lambda n: isinstance(n, sympy.Add), _add_up_numbers)


def _power_of_ten(factor: sympy.Expr) -> bool:
    if not factor.is_Rational or factor <= 0:
        return False
    value = sympy.Rational(factor)
    for number in (value.p, value.q):
        while number % 10 == 0:
            number //= 10
        if number != 1:
            return False
    return bool(value != 1)


def _add_up_numbers(node: sympy.Add) -> sympy.Expr:
    """Add a sum's numbers into one float once a float is among them."""
    numbers = [term for term in node.args if term.is_number]
    if len(numbers) < 2 or not any(term.atoms(sympy.Float) for term in numbers):
        return node
    total = float(sum(float(term) for term in numbers))
    size = sum(abs(float(term)) for term in numbers)
    rest = [term for term in node.args if not term.is_number]
    if abs(total) <= CANCELLED_RTOL * size:
        return sympy.Add(*rest)
    return sympy.Add(*rest, sympy.Float(total))


def decade_scales(X: np.ndarray, y: np.ndarray) -> DecadeScales:
    """Choose the power of ten of each input column and of the target.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,)
        Targets.

    Returns
    -------
    DecadeScales
        ``floor(log10(rms))`` of each column and of ``y``, or 0 where that
        is within :data:`KEPT_DECADES` of 0 (or the values are all zero).
    """
    return DecadeScales(tuple(_decade(column) for column in X.T), _decade(y))


def _decade(values: np.ndarray) -> int:
    """Decade of the root mean square of ``values``; 0 near 1 or for zeros."""
    values = np.asarray(values, dtype=np.float64)
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    if largest == 0 or not math.isfinite(largest):
        return 0
    # Dividing by the largest first keeps the squares from overflowing.
    rms = largest * float(np.sqrt(np.mean((values / largest) ** 2)))
    decade = math.floor(math.log10(rms))
    return decade if abs(decade) > KEPT_DECADES else 0


def _shift(values: np.ndarray, decade: int) -> np.ndarray:
    """Divide by ``10**decade``, by an exactly representable power of ten.

    Shifted values are float64 whatever the input's precision.
    """
    if decade == 0:
        return values
    values = np.asarray(values, dtype=np.float64)
    return values / 10.0**decade if decade > 0 else values * 10.0**-decade


def split_rows(
    X: np.ndarray,
    y: np.ndarray,
    validation_fraction: float,
    random_state: np.random.RandomState,
    weights: np.ndarray | None = None,
) -> Split:
    """Shuffle and hold out validation rows (or validate on all rows if few).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,)
        Targets.
    validation_fraction : float
        Share of the rows held out, in (0, 1).
    random_state : numpy.random.RandomState
        Draws the permutation (nothing is drawn when no row is held out, see
        :func:`held_out_rows`).
    weights : ndarray of shape (n_samples,) or None, default=None
        Positive row weights (see :func:`row_weights`); they follow their rows.

    Returns
    -------
    Split
        Training and validation rows, in the inputs' own precision (float32
        stays float32; consumers cast blocks of rows, see
        :func:`nalu_sr.extraction.candidate.hidden_features`); the targets
        are float64.
    """
    n_val = held_out_rows(len(y), validation_fraction)
    if n_val == 0:
        X = np.asarray(X, dtype=np.float64)  # a few rows only
        return Split(X, y, X, y, weights, weights)
    order = random_state.permutation(len(y))
    val, train = order[:n_val], order[n_val:]
    # Rows keep their precision: float32 inputs stay float32 (half the bytes
    # of a float64 split) and are cast a block of rows at a time where used.
    X_train, X_val = X[train], X[val]
    if weights is None:
        return Split(X_train, y[train], X_val, y[val])
    return Split(X_train, y[train], X_val, y[val], weights[train], weights[val])


def row_weights(
    sample_weight: Any, X: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check ``sample_weight`` and drop the rows whose weight is zero.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), float or None
        scikit-learn's ``sample_weight``: non-negative and finite, not all zero.
    X : ndarray of shape (n_samples, n_features)
        Inputs (already validated).
    y : ndarray of shape (n_samples,)
        Targets.

    Returns
    -------
    X, y : ndarray
        The rows with a positive weight.
    weights : ndarray or None
        Their weights divided by their mean; ``None`` when every kept weight
        is the same, so that the fit is exactly the unweighted one.

    Raises
    ------
    ValueError
        For negative, non-finite or all-zero weights, or a wrong length.
    """
    if sample_weight is None:
        return X, y, None
    weights = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    kept = weights > 0
    X, y, weights = X[kept], y[kept], weights[kept]
    if np.all(weights == weights[0]):
        return X, y, None
    return X, y, weights / weights.mean()


#: Said after scikit-learn's first line when the data hold NaN.
MISSING_VALUES_HINT = (
    "nalu_sr needs finite values: drop or impute those rows first (for example "
    "with sklearn.impute.SimpleImputer in a pipeline)"
)


def validate_rows(
    estimator: Any, X: Any, y: Any = "no_validation", **options: Any
) -> Any:
    """Return scikit-learn's ``validate_data``, its refusals in one line.

    scikit-learn explains a NaN in several lines; a user reads one, so the
    refusal keeps the first and a short hint.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator the data are for.
    X : array-like
        Inputs.
    y : array-like, None or "no_validation", default="no_validation"
        Targets, as ``validate_data`` takes them (``"no_validation"``
        validates ``X`` alone).
    **options
        Passed on to ``validate_data``.

    Returns
    -------
    ndarray or tuple of ndarray
        What ``validate_data`` returns.

    Raises
    ------
    ValueError
        Its refusal, in one line.
    """
    try:
        return validate_data(estimator, X, y, **options)
    except ValueError as error:
        lines = [line.strip() for line in str(error).strip().splitlines()]
        if len(lines) <= 1:
            raise
        if "NaN" in lines[0]:
            message = f"{lines[0]} {MISSING_VALUES_HINT}."
        else:
            message = " ".join(line for line in lines if line)
        raise ValueError(message) from error


def held_out_rows(n_rows: int, validation_fraction: float) -> int:
    """Return how many validation rows :func:`split_rows` holds out.

    Parameters
    ----------
    n_rows : int
        Rows of the data.
    validation_fraction : float
        Share of the rows held out, in (0, 1).

    Returns
    -------
    int
        0 below :data:`MIN_ROWS_TO_SPLIT` rows (every row then both trains
        and validates), otherwise at least 1.
    """
    if n_rows < MIN_ROWS_TO_SPLIT:
        return 0
    return max(1, round(validation_fraction * n_rows))


def rows_needed(n_constants: int, validation_fraction: float) -> int:
    """Fewest rows whose held-out validation rows outnumber ``n_constants``.

    Parameters
    ----------
    n_constants : int
        Free constants of a formula.
    validation_fraction : float
        Share of the rows held out, in (0, 1).

    Returns
    -------
    int
        The smallest ``n`` with ``held_out_rows(n, validation_fraction) >
        n_constants``.
    """
    # Start just below the answer of the rounding-free equation, then step up.
    n_rows = max(MIN_ROWS_TO_SPLIT, math.floor(n_constants / validation_fraction) - 1)
    while held_out_rows(n_rows, validation_fraction) <= n_constants:
        n_rows += 1
    return n_rows


def sample_rows(
    n_rows: int, max_samples: int | None, random_state: np.random.RandomState
) -> np.ndarray | None:
    """Training rows that bodies train on: all (``None``) or a sorted sample.

    Parameters
    ----------
    n_rows : int
        Training rows.
    max_samples : int or None
        Most rows to train bodies on; ``None`` means all.
    random_state : numpy.random.RandomState
        Draws the sample, when one is needed.

    Returns
    -------
    ndarray or None
        Sorted row indices, or ``None`` for every row.
    """
    if max_samples is None or n_rows <= max_samples:
        return None
    return np.sort(random_state.choice(n_rows, max_samples, replace=False))


def input_scale(X: np.ndarray) -> float:
    """Return a positive constant of the inputs' order: their root mean square."""
    # vdot sums the squares without an array of them (a copy of X).
    scale = float(np.sqrt(np.vdot(X, X) / X.size)) if X.size else 1.0
    return scale if np.isfinite(scale) and scale > 0 else 1.0


@contextmanager
def search_threads(n_threads: int | None) -> Iterator[None]:
    """Temporarily set torch's and BLAS's threads; small problems run fastest on one.

    The search solves thousands of small least-squares problems; threads only
    add overhead there, and on a busy machine they wait for cores (a
    100-input linear fit took 0.27 s instead of milliseconds). ``None``
    leaves both as they are.
    """
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(limits=n_threads, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(previous)


def data_precision(X: np.ndarray, y: np.ndarray) -> np.dtype:
    """Return the coarser floating-point precision of the inputs and the target.

    Integers and float64 give float64; a float32 (or float16) input or target
    gives its own, whose rounding then bounds how exactly a law can fit.

    Examples
    --------
    >>> data_precision(np.ones((2, 1), np.float32), np.ones(2)).name
    'float32'
    """
    kinds = [np.asarray(a).dtype for a in (X, y)]
    floats = [k for k in kinds if np.issubdtype(k, np.floating)]
    if not floats:
        return np.dtype(np.float64)
    return max(floats, key=lambda k: float(np.finfo(k).eps))
