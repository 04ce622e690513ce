"""Stacked levels: the output of a level is a set of features for the next.

A level of the function search attends over primitives applied to arguments
built from its inputs. Stacking gives the next level the function
applications of the level below (``sin(2*x0)``, ``exp(x1/2)``) as further
inputs: its dictionary then holds products of functions (a feature as a
monomial factor: ``sin(2*x0)*exp(x1/2)``), functions of functions (a
primitive of a feature: ``log(exp(x0) + 1)``) and functions of sums of
features (``log(x0 + sqrt(x0**2 + 1))``), all searched by the same beam. The
found formula is rewritten over the inputs by substituting the features.

A feature's inner constants are frozen at the level below's fit; where they
are within :data:`SNAP_RTOL` of a simple number, the snapped feature is offered
first (a law needs the exact one, and the next level cannot refit it).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import numpy as np
import sympy

from nalu_sr.extraction.candidate import Candidate, Split
from nalu_sr.extraction.constants import simple_number
from nalu_sr.extraction.simplify import evaluate_sympy

#: Features one level passes to the next, at most.
MAX_LEVEL_FEATURES = 6
#: Candidates of the level below whose function applications become features.
MAX_SOURCE_CANDIDATES = 5
#: Relative distance within which a feature's inner constant snaps (the
#: fitted feature is offered too).
SNAP_RTOL = 1e-2
#: Inner constants below this in magnitude snap to zero.
NEGLIGIBLE = 1e-6
#: Most operations in a feature: a long one is a fitted approximation.
MAX_FEATURE_OPS = 8
_PLACEHOLDER = sympy.Dummy("c")  # never one of the formula's symbols
#: Largest denominator of a snapped inner constant.
SNAP_DENOMINATOR = 4
#: Inputs larger than this in magnitude are scaled down inside their exponential.
WIDE_INPUT = 4.0
#: Features whose standardised values correlate above this are one feature.
SAME_FEATURE_CORRELATION = 1 - 1e-9


def function_applications(expression: sympy.Expr) -> list[sympy.Expr]:
    """Return the applications of a function in ``expression``, outermost first.

    Functions (``sin``, ``exp``, custom primitives) and fractional powers of
    anything but a plain input (``sqrt(x0**2 + 1)``); each once.

    Parameters
    ----------
    expression : sympy.Expr
        A formula.

    Returns
    -------
    list of sympy.Expr
        The sub-expressions, in preorder.
    """
    found: list[sympy.Expr] = []
    for sub in sympy.preorder_traversal(expression):
        if sub in found or not sub.free_symbols:
            continue
        if isinstance(sub, sympy.Function) or _fractional_power(sub):
            found.append(sub)
    return found


def _shape(expression: sympy.Expr) -> sympy.Expr:
    """Return the expression with every float replaced by one placeholder."""
    return expression.xreplace({f: _PLACEHOLDER for f in expression.atoms(sympy.Float)})


def _fractional_power(expr: sympy.Basic) -> bool:
    return (
        isinstance(expr, sympy.Pow)
        and not expr.base.is_Symbol
        and expr.exp.is_Rational
        and not expr.exp.is_Integer
    )


def snapped(expression: sympy.Expr) -> sympy.Expr:
    """Return ``expression`` with each float near a simple rational replaced by it.

    Parameters
    ----------
    expression : sympy.Expr
        A feature with fitted inner constants.

    Returns
    -------
    sympy.Expr
        The feature with constants within :data:`SNAP_RTOL` of a rational of
        denominator at most :data:`SNAP_DENOMINATOR` made exact.
    """
    replacements = {}
    for number in expression.atoms(sympy.Float):
        if abs(float(number)) < NEGLIGIBLE:
            replacements[number] = sympy.Integer(0)
            continue
        exact = simple_number(float(number), SNAP_RTOL, SNAP_DENOMINATOR)
        if exact is not None and exact.is_Rational:
            replacements[number] = exact
    return expression.xreplace(replacements)


def level_features(
    candidates: Sequence[Candidate],
    symbols: Sequence[sympy.Symbol],
    X: np.ndarray,
    max_features: int = MAX_LEVEL_FEATURES,
) -> list[sympy.Expr]:
    """Features for the next level: the function applications of the best formulas.

    A level searched over many features at once is led astray by the ones it
    does not need (its beam is narrow); the found applications are therefore
    searched apart from the :func:`exponentials`.

    Parameters
    ----------
    candidates : sequence of Candidate
        Formulas the level below found, over ``symbols``.
    symbols : sequence of sympy.Symbol
        One symbol per column of ``X``.
    X : numpy.ndarray
        Rows on which every feature must be real, finite and varying.
    max_features : int, default=MAX_LEVEL_FEATURES
        Most features returned.

    Returns
    -------
    list of sympy.Expr
        Distinct features, those of the most accurate formulas first, each
        snapped one before its fitted original.
    """
    best = sorted(candidates, key=lambda c: c.validation_loss)[:MAX_SOURCE_CANDIDATES]
    offered = itertools.islice(_offered(c.expression for c in best), 4 * max_features)
    return distinct_features(offered, symbols, X, max_features)


def distinct_features(
    offered: Iterable[sympy.Expr],
    symbols: Sequence[sympy.Symbol],
    X: np.ndarray,
    max_features: int = MAX_LEVEL_FEATURES,
) -> list[sympy.Expr]:
    """Keep the first features that are real, finite, varying and unlike the rest.

    Parameters
    ----------
    offered : iterable of sympy.Expr
        Features over ``symbols``, in order of preference.
    symbols : sequence of sympy.Symbol
        One symbol per column of ``X``.
    X : numpy.ndarray
        Rows the features are judged on.
    max_features : int, default=MAX_LEVEL_FEATURES
        Most features returned.

    Returns
    -------
    list of sympy.Expr
        The kept features, in the offered order.
    """
    features: list[sympy.Expr] = []
    columns: list[np.ndarray] = []
    for expression in offered:
        if len(features) >= max_features:
            break
        column = _standardised(expression, symbols, X)
        if column is None or any(
            abs(float(np.mean(column * kept))) > SAME_FEATURE_CORRELATION
            for kept in columns
        ):
            continue
        features.append(expression)
        columns.append(column)
    return features


def exponentials(symbols: Sequence[sympy.Symbol], X: np.ndarray) -> list[sympy.Expr]:
    """``exp(x/s)``, then ``exp(x/(2*s))``, per input, as features of a next level.

    ``s`` is 1, or the power of ten above a wide input. The exponential
    generates the functions a composition gives beyond the primitives: a
    next level over ``f = exp(x)`` holds ``(f - 1/f)/2 = sinh(x)``,
    ``x1*(sqrt(f) + 1/sqrt(f))/2 = x1*cosh(x/2)``, ``log(f + 1)``,
    ``exp(-x)*sin(3*x)`` and ``sin(sqrt(f))``. At most
    :data:`MAX_LEVEL_FEATURES`, the full scales first.

    Parameters
    ----------
    symbols : sequence of sympy.Symbol
        One symbol per column of ``X``.
    X : numpy.ndarray
        The rows.

    Returns
    -------
    list of sympy.Expr
        One exponential per input.
    """
    sizes = [_wide_scale(float(size)) for size in np.max(np.abs(X), axis=0)]
    offered = [
        sympy.exp(s / (half * size))
        for half in (1, 2)
        for s, size in zip(symbols, sizes, strict=True)
    ]
    return distinct_features(offered, symbols, X)


def _wide_scale(size: float) -> sympy.Expr:
    if size <= WIDE_INPUT:
        return sympy.Integer(1)
    return sympy.Integer(10) ** math.ceil(math.log10(size))


def _offered(expressions: Iterable[sympy.Expr]) -> Iterable[sympy.Expr]:
    """Yield short applications, snapped then fitted, one per shape."""
    shapes: set[sympy.Expr] = set()
    for expression in expressions:
        for application in function_applications(expression):
            shape = _shape(application)
            if shape in shapes or sympy.count_ops(shape) > MAX_FEATURE_OPS:
                continue
            shapes.add(shape)
            yield snapped(application)
            yield application


def _standardised(
    expression: sympy.Expr, symbols: Sequence[sympy.Symbol], X: np.ndarray
) -> np.ndarray | None:
    """Scale values to mean 0, variance 1; ``None`` unless real, finite, varying."""
    values = evaluate_sympy(expression, symbols, X)
    if np.iscomplexobj(values):
        if not np.all(values.imag == 0):
            return None
        values = values.real
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        return None
    spread = float(np.std(values))
    if not spread > 1e-12 * max(1.0, float(np.max(np.abs(values)))):
        return None
    return (values - float(np.mean(values))) / spread


def with_features(
    split: Split, symbols: Sequence[sympy.Symbol], features: Sequence[sympy.Expr]
) -> Split:
    """Return the rows with one more column per feature.

    Parameters
    ----------
    split : Split
        Training and validation rows over ``symbols``.
    symbols : sequence of sympy.Symbol
        One symbol per input column.
    features : sequence of sympy.Expr
        Features over ``symbols``, real and finite on every row.

    Returns
    -------
    Split
        The same targets and weights; inputs then features as columns.
    """

    def widened(X: np.ndarray) -> np.ndarray:
        values = [np.real(evaluate_sympy(f, symbols, X)) for f in features]
        return np.column_stack([X, *values]).astype(np.float64)

    return Split(
        widened(split.X_train),
        split.y_train,
        widened(split.X_val),
        split.y_val,
        split.w_train,
        split.w_val,
    )
