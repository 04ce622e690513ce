"""From a sum the function search found to a verified candidate formula.

The beam search (:mod:`nalu_sr.functions.search`) finds which terms a sum
has; here its constants are snapped (to simple numbers where the fit allows,
for laws only), its head is refitted on every training row under the target
transform, the formula is inverted back to the target and checked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import sympy
import torch

from nalu_sr.extraction.candidate import (
    Candidate,
    Head,
    Split,
    expression_complexity,
    fit_head,
    symbolic_fit,
)
from nalu_sr.extraction.simplify import simplify_found
from nalu_sr.functions.refine import (
    degenerate,
    fitted_slots,
    head_prediction,
    snap_constants,
)
from nalu_sr.functions.terms import Term, term_matrix
from nalu_sr.functions.transforms import TargetTransform, noise_weights
from nalu_sr.linalg import relative_error
from nalu_sr.units.snapped import to_sympy_number


def to_candidate(
    terms: Sequence[Term],
    transform: TargetTransform,
    split: Split,
    symbols: Sequence[sympy.Symbol],
    tol: float,
    deadline: float | None = None,
) -> Candidate | None:
    """Snap a sum's constants, refit its head on all rows, verify, emit.

    Constants may become simple numbers (multiples of pi or e included)
    only in an exact formula or in one whose every constant is then simple
    (a law under noise): when a formula that is not exact keeps fitted
    floats (an approximation), its constants are snapped again without
    them, since a ``21*E/35`` or an ``8/11`` in a fitted series means nothing.
    """
    symbolic = _symbolic_start(terms, transform, split)
    fitted = _fit_terms(terms, transform, split, tol, symbolic)
    if symbolic and fitted is not None and _approximate(fitted, tol):
        fitted = _fit_terms(terms, transform, split, tol, symbolic=False)
    if fitted is None:
        return None
    terms, head, train_loss, val_loss = fitted
    expression = transform.inverse_sympy(_head_expression(head, terms, symbols))
    expression = simplify_found(expression, symbols, split.X_val, deadline)
    return Candidate(
        expression=expression,
        complexity=expression_complexity(expression),
        train_loss=train_loss,
        validation_loss=val_loss,
        architecture=f"function/{transform.name}",
        width=len(head.columns),
        seed=None,
    )


def transformed(split: Split, transform: TargetTransform) -> Split:
    """Return the rows with the target transformed, weighted by its noise."""
    with np.errstate(all="ignore"):
        z_train = transform.forward(split.y_train)
        z_val = transform.forward(split.y_val)
    return Split(
        split.X_train,
        z_train,
        split.X_val,
        z_val,
        noise_weights(transform, split.y_train, split.w_train),
        noise_weights(transform, split.y_val, split.w_val),
    )


#: Share of the training rows on which an unsnapped fit may have no inverse
#: (the square root of a sum fitted slightly below zero, at a distance near
#: zero under noise) and still be judged on the others by :func:`_symbolic_start`.
MAX_UNDEFINED_SHARE = 0.01


def _symbolic_start(
    terms: Sequence[Term], transform: TargetTransform, split: Split
) -> bool:
    """Whether the sum's unsnapped fit is close enough for symbolic constants.

    It is judged on the rows where it has an inverse: snapping the fitted
    intercept to zero usually gives back the few others.
    """
    X_train = torch.as_tensor(split.X_train, dtype=torch.float64)
    z_split = transformed(split, transform)
    with np.errstate(all="ignore"):
        H_start = term_matrix(terms, X_train)
        fitted = head_prediction(H_start, z_split.y_train, z_split.w_train)
        prediction = transform.inverse(fitted)
    rows = np.isfinite(prediction)
    if np.mean(rows) < 1 - MAX_UNDEFINED_SHARE:
        return False
    weights = None if split.w_train is None else split.w_train[rows]
    return symbolic_fit(prediction[rows], split.y_train[rows], weights)


class _FittedTerms(NamedTuple):
    """Snapped terms, their head, and the losses on the original target."""

    terms: list[Term]
    head: Head
    train_loss: float
    validation_loss: float


def _fit_terms(
    start: Sequence[Term],
    transform: TargetTransform,
    split: Split,
    tol: float,
    symbolic: bool,
) -> _FittedTerms | None:
    """Snap inner constants, fit the head on the transformed target, score it."""
    X_train = torch.as_tensor(split.X_train, dtype=torch.float64)
    X_val = torch.as_tensor(split.X_val, dtype=torch.float64)
    z_split = transformed(split, transform)
    with np.errstate(all="ignore"):
        terms, _ = snap_constants(
            start, X_train, z_split.y_train, tol, symbolic, z_split.w_train
        )
        if any(degenerate(t, X_train) for t in terms):
            terms = list(start)  # snapping refits; keep a sound start
        H_train, H_val = term_matrix(terms, X_train), term_matrix(terms, X_val)
    if not np.all(np.isfinite(z_split.y_val)):
        return None
    finite = np.all(np.isfinite(H_train), axis=0) & np.all(np.isfinite(H_val), axis=0)
    columns = [int(j) for j in np.flatnonzero(finite)]
    # Whether the fit is within the noise was judged on y (_symbolic_start):
    # a transform changes the scale of the residuals, and z alone misjudges it.
    head = fit_head(H_train, H_val, z_split, columns, tol, symbolic)
    with np.errstate(all="ignore"):
        val_loss = relative_error(
            transform.inverse(head.predict(H_val)), split.y_val, split.w_val
        )
        train_loss = relative_error(
            transform.inverse(head.predict(H_train)), split.y_train, split.w_train
        )
    if not math.isfinite(val_loss):
        return None
    return _FittedTerms(terms, head, train_loss, val_loss)


def _approximate(fitted: _FittedTerms, tol: float) -> bool:
    """Whether a fit is not exact and still holds a fitted float somewhere."""
    if fitted.validation_loss <= tol:
        return False
    head = fitted.head
    numbers = [*head.coefficients, head.intercept]
    return bool(fitted_slots(fitted.terms)) or any(
        isinstance(number, float) for number in numbers
    )


def _head_expression(
    head: Head, terms: Sequence[Term], symbols: Sequence[sympy.Symbol]
) -> sympy.Expr:
    total = to_sympy_number(head.intercept)
    for column, coefficient in zip(head.columns, head.coefficients, strict=True):
        total = total + to_sympy_number(coefficient) * terms[column].to_sympy(symbols)
    return total
