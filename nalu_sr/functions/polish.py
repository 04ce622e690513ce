"""Joint refit of a stacked formula's constants, then snapping.

A level of the stacked search (:mod:`nalu_sr.functions.stacking`) sees the
features of the level below with their inner constants frozen at that
level's fit: ``tanh(0.9865*x1 + 0.0127)`` where the law holds ``tanh(x1)``.
The next level fits around the error (``1.003*cos(0.998*x1 + 0.005)``) and
the composed formula is close but not exact. Refitting every constant of the
composed formula at once moves them to the law's values; snapping them then
makes the formula exact, and terms the refit drives to nothing fall away.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import sympy

from nalu_sr.exactness import refit_constants
from nalu_sr.extraction.candidate import Candidate, Split, expression_complexity
from nalu_sr.extraction.constants import simple_number
from nalu_sr.extraction.simplify import evaluate_sympy, simplify_found
from nalu_sr.linalg import relative_error

#: Terms whose root mean square is below this share of the target's are
#: dropped after the refit (what a refit leaves of a term the law lacks).
NEGLIGIBLE_TERM = 1e-9
#: Refitted constants below this in magnitude become zero (an offset the law
#: lacks); the validation loss decides whether the snapped formula is kept.
NEGLIGIBLE_CONSTANT = 1e-9
#: Relative distance within which a refitted constant snaps to a simple number.
SNAP_RTOL = 1e-6


def polished(
    candidate: Candidate,
    symbols: Sequence[sympy.Symbol],
    split: Split,
    law_loss: float,
    deadline: float | None = None,
) -> Candidate:
    """Refit a formula's constants jointly; snap them where a law results.

    Parameters
    ----------
    candidate : Candidate
        A formula over ``symbols``.
    symbols : sequence of sympy.Symbol
        One symbol per column of the rows.
    split : Split
        Training rows (the refit) and validation rows (the judge).
    law_loss : float
        Relative validation loss at or below which a formula is a law.
    deadline : float or None, default=None
        A :func:`time.perf_counter` time that simplification respects.

    Returns
    -------
    Candidate
        The snapped formula where it is a law; else the refitted one where
        it is better on the validation rows; else ``candidate``.
    """
    refitted = refit_constants(
        candidate.expression, symbols, split.X_train, split.y_train, split.w_train
    )
    if refitted is None:
        return candidate
    refitted = _without_negligible_terms(refitted, symbols, split)
    snapped = _snapped(refitted)
    snapped_loss = _validation_loss(snapped, symbols, split)
    if snapped_loss <= law_loss:
        return _as_candidate(candidate, snapped, symbols, split, deadline)
    refitted_loss = _validation_loss(refitted, symbols, split)
    if refitted_loss < candidate.validation_loss:
        return _as_candidate(candidate, refitted, symbols, split, deadline)
    return candidate


def _without_negligible_terms(
    expression: sympy.Expr, symbols: Sequence[sympy.Symbol], split: Split
) -> sympy.Expr:
    """Expand the top level and drop the terms far below the target's size."""
    scale = math.sqrt(float(np.mean(split.y_train**2)))
    kept = []
    for term in sympy.Add.make_args(sympy.expand(expression, deep=False)):
        values = evaluate_sympy(term, symbols, split.X_train)
        size = math.sqrt(float(np.mean(np.abs(values) ** 2)))
        if not size <= NEGLIGIBLE_TERM * scale:  # a nan size is kept
            kept.append(term)
    return sympy.Add(*kept)


def _snapped(expression: sympy.Expr) -> sympy.Expr:
    """Replace each float by zero or by a simple number within :data:`SNAP_RTOL`."""
    replacements: dict[sympy.Expr, sympy.Expr] = {}
    for number in expression.atoms(sympy.Float):
        value = float(number)
        if abs(value) < NEGLIGIBLE_CONSTANT:
            replacements[number] = sympy.Integer(0)
            continue
        exact = simple_number(value, SNAP_RTOL)
        if exact is not None:
            replacements[number] = exact
    return expression.xreplace(replacements)


def _validation_loss(
    expression: sympy.Expr, symbols: Sequence[sympy.Symbol], split: Split
) -> float:
    return _loss(expression, symbols, split.X_val, split.y_val, split.w_val)


def _loss(
    expression: sympy.Expr,
    symbols: Sequence[sympy.Symbol],
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
) -> float:
    """Relative error on the rows; ``inf`` where a value is complex or not finite."""
    values = evaluate_sympy(expression, symbols, X)
    if np.iscomplexobj(values) or not np.all(np.isfinite(values)):
        return math.inf
    return relative_error(values, y, weights)


def _as_candidate(
    candidate: Candidate,
    expression: sympy.Expr,
    symbols: Sequence[sympy.Symbol],
    split: Split,
    deadline: float | None,
) -> Candidate:
    expression = simplify_found(expression, symbols, split.X_val, deadline)
    return replace(
        candidate,
        expression=expression,
        complexity=expression_complexity(expression),
        train_loss=_loss(
            expression, symbols, split.X_train, split.y_train, split.w_train
        ),
        validation_loss=_validation_loss(expression, symbols, split),
    )
