"""Inner constants: refined by least squares under the linear head, then snapped.

The head's coefficients are solved in closed form for every trial of the inner
constants (variable projection), so Levenberg-Marquardt-style trust-region
steps move only the few constants inside the primitives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import sympy
import torch
from scipy import optimize

from nalu_sr.extraction.candidate import (
    loss_limit,
)
from nalu_sr.extraction.constants import (
    ARGUMENT_BASES,
    loose_replacements,
    simple_number,
)
from nalu_sr.functions.terms import Constant, Term, monomial, term_matrix
from nalu_sr.linalg import least_squares, relative_error
from nalu_sr.primitives import Primitive, resolve_primitives

_IDENTITY = resolve_primitives(("identity",))[0]

#: Primitives whose inner scale the head absorbs when the offset is free.
_OFFSET_ONLY = frozenset({"log", "sqrt", "inv", "abs", "identity"})
_NO_CONSTANTS = frozenset({"square", "cube"})
#: Primitives with no curvature of their own to lose on a narrow range.
_LINEAR = frozenset({"identity", "square", "cube"})
_PENALTY = 1e3


def free_slots(primitive: Primitive | None) -> tuple[bool, bool]:
    """Which of ``(scale, offset)`` are fitted inside ``primitive``.

    The others are fixed at 1 and 0 because the head absorbs them.
    """
    if primitive is None or primitive.name in _NO_CONSTANTS:
        return False, False
    if primitive.name in _OFFSET_ONLY:
        return False, True
    if primitive.name == "exp":
        return True, False  # exp(a*g + b) = e**b * exp(a*g): the head has e**b
    return True, True


def head_loss(
    H: np.ndarray, z: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Relative residual of ``z`` on an intercept and ``H``; also the residuals.

    With row ``weights`` the fit and the loss are weighted, and the residuals
    are scaled by the square roots of the weights (their sum of squares is
    the weighted one).
    """
    if not np.all(np.isfinite(H)):
        return math.inf, np.full(len(z), np.nan)
    fitted = head_prediction(H, z, weights)
    residuals = z - fitted
    if weights is not None:
        residuals = residuals * np.sqrt(weights)
    return relative_error(fitted, z, weights), residuals


def head_prediction(
    H: np.ndarray, z: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Least-squares prediction of ``z`` from an intercept and the columns ``H``.

    NaN everywhere when ``H`` or ``z`` is not finite (LAPACK refuses them).
    """
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(z))):
        return np.full(len(z), np.nan)
    coefficients, intercept = least_squares(H, z, weights)
    prediction: np.ndarray = H @ coefficients + intercept
    return prediction


def terms_loss(
    terms: Sequence[Term],
    X: torch.Tensor,
    z: np.ndarray,
    weights: np.ndarray | None = None,
) -> float:
    """Relative residual of ``z`` on an intercept and the terms' columns."""
    with np.errstate(all="ignore"):
        return head_loss(term_matrix(terms, X), z, weights)[0]


def fitted_slots(terms: Sequence[Term]) -> list[tuple[int, int]]:
    """Return the (term, constant) positions that hold fitted floats."""
    slots = []
    for t, term in enumerate(terms):
        for c, free in enumerate(free_slots(term.primitive)):
            if free and not isinstance(term.constants[c], sympy.Expr):
                slots.append((t, c))
    return slots


def _with_values(
    terms: Sequence[Term], slots: Sequence[tuple[int, int]], values: Sequence[Constant]
) -> list[Term]:
    updated = list(terms)
    for (t, c), value in zip(slots, values, strict=True):
        constants = list(updated[t].constants)
        constants[c] = value
        updated[t] = updated[t].with_constants(*constants)
    return updated


class _Columns:
    """Term columns for trial constants, with each term's factor and argument cached.

    Refinement changes only the inner constants, so the monomial factors and
    the arguments are evaluated once and each trial costs one primitive call
    per function term.
    """

    def __init__(self, terms: Sequence[Term], X: torch.Tensor) -> None:
        with torch.no_grad():
            self._factors = [monomial(X, term.factor) for term in terms]
            self._arguments = [
                None if term.argument is None else term.argument.values(X)
                for term in terms
            ]

    def matrix(self, terms: Sequence[Term]) -> np.ndarray:
        """Columns of ``terms`` (the cached ones, with new constants)."""
        columns = []
        with torch.no_grad():
            for term, factor, argument in zip(
                terms, self._factors, self._arguments, strict=True
            ):
                columns.append(term.values_from(factor, argument))
        return torch.stack(columns, dim=1).numpy()


def refine(
    terms: Sequence[Term],
    X: torch.Tensor,
    z: np.ndarray,
    max_nfev: int = 60,
    weights: np.ndarray | None = None,
) -> tuple[list[Term], float]:
    """Fit the terms' free inner constants; return the terms and their loss.

    Parameters
    ----------
    terms : sequence of Term
        Terms whose float constants are starting values.
    X : torch.Tensor
        Inputs, float64.
    z : numpy.ndarray
        Targets.
    max_nfev : int, default=60
        Budget of residual evaluations.
    weights : numpy.ndarray or None, default=None
        Row weights of the fit (``sample_weight``).

    Returns
    -------
    tuple of (list of Term, float)
        The refined terms (the starting ones when refinement did not help)
        and their relative loss.
    """
    start = list(terms)
    start_loss = terms_loss(start, X, z, weights)
    slots = fitted_slots(start)
    if not slots:
        return start, start_loss

    columns = _Columns(start, X)

    def residual(theta: np.ndarray) -> np.ndarray:
        trial = _with_values(start, slots, [float(v) for v in theta])
        with np.errstate(all="ignore"):
            loss, r = head_loss(columns.matrix(trial), z, weights)
        return r if math.isfinite(loss) else np.full(len(z), _PENALTY)

    theta0 = np.array([float(start[t].constants[c]) for t, c in slots])
    try:
        result = optimize.least_squares(
            residual, theta0, method="trf", max_nfev=max_nfev
        )
    except (ValueError, np.linalg.LinAlgError):
        return start, start_loss
    refined = _with_values(start, slots, [float(v) for v in result.x])
    loss = terms_loss(refined, X, z, weights)
    return (refined, loss) if loss < start_loss else (start, start_loss)


def snap_constants(
    terms: Sequence[Term],
    X: torch.Tensor,
    z: np.ndarray,
    tol: float,
    symbolic: bool,
    weights: np.ndarray | None = None,
) -> tuple[list[Term], float]:
    """Replace inner constants by simple exact numbers where the fit allows.

    Each float constant in turn tries zero (offsets), then, when ``symbolic``
    (the fit is exact or within the noise, see
    :func:`~nalu_sr.extraction.candidate.symbolic_fit`), a simple number
    within ``1e-6`` and one within 1%; the remaining floats are refitted
    around it, and it is kept when the loss stays within
    :func:`~nalu_sr.extraction.candidate.loss_limit` of the unsnapped loss.

    Returns
    -------
    tuple of (list of Term, float)
        The terms and their loss.
    """
    current = list(terms)
    reference = terms_loss(current, X, z, weights)
    limit = loss_limit(reference, tol)
    loss = reference
    for t, c in fitted_slots(current):
        value = current[t].constants[c]
        if isinstance(value, sympy.Expr):
            continue
        for option in _options(float(value), c == 1, symbolic):
            trial = _with_values(current, [(t, c)], [option])
            trial, trial_loss = refine(trial, X, z, max_nfev=30, weights=weights)
            if trial_loss <= limit:
                current, loss = trial, trial_loss
                break
    return current, loss


def _options(value: float, is_offset: bool, symbolic: bool) -> list[sympy.Expr]:
    options: list[sympy.Expr] = [sympy.Integer(0)] if is_offset else []
    if not symbolic:
        return options
    exact = simple_number(value) or _integer_reciprocal(value)
    if exact is not None and exact != 0:
        options.append(exact)
    loose = loose_replacements(value, ARGUMENT_BASES)
    options.extend(o for o in loose if o not in options)
    return options


#: Largest integer ``k`` whose reciprocal an inner scale snaps to.
MAX_RECIPROCAL = 10_000


def _integer_reciprocal(value: float, rtol: float = 1e-6) -> sympy.Expr | None:
    """``1/k`` for an integer ``k`` within ``rtol``: the scale of a wide input.

    ``exp(-x/30)`` for ``x`` up to 100 has a scale no small-denominator
    rational matches.
    """
    if value == 0 or not math.isfinite(value):
        return None
    k = round(1 / value)
    if k == 0 or abs(k) > MAX_RECIPROCAL or abs(1 / k - value) > rtol * abs(value):
        return None
    return sympy.Rational(1, k)


#: Smallest span of a primitive's argument over the rows: below it the
#: primitive acts as its own Taylor polynomial and the term is not identifiable.
MIN_ARGUMENT_SPAN = 0.1
#: The same, relative to the argument's size, for log, sqrt and inv.
MIN_RELATIVE_SPAN = 0.05


def degenerate(term: Term, X: torch.Tensor) -> bool:
    """Whether a refined term's primitive sees too narrow a range of arguments."""
    if term.primitive is None or term.primitive.name in _LINEAR:
        return False
    with torch.no_grad():
        inner = term.inner(X)
    span = float(inner.max() - inner.min())
    if term.primitive.name in _OFFSET_ONLY:
        size = float(inner.abs().max())
        return not span > MIN_RELATIVE_SPAN * size
    return not span > MIN_ARGUMENT_SPAN


def cancellation(
    terms: Sequence[Term],
    X: torch.Tensor,
    z: np.ndarray,
    weights: np.ndarray | None = None,
) -> float:
    """Largest term contribution (coefficient times spread) over the spread of ``z``.

    A sum whose terms are thousands of times larger than the target fits only
    by cancellation: a series expansion of something else, not a law.
    """
    with np.errstate(all="ignore"):
        H = term_matrix(terms, X)
        if not np.all(np.isfinite(H)):
            return math.inf
        coefficients, _ = least_squares(H, z, weights)
        contributions = np.abs(coefficients) * H.std(axis=0)
    spread = float(z.std()) or 1.0
    return float(contributions.max(initial=0.0)) / spread


def simpler_terms(
    terms: Sequence[Term],
    X: torch.Tensor,
    z: np.ndarray,
    tol: float,
    weights: np.ndarray | None = None,
) -> tuple[list[Term], float]:
    """Drop or flatten terms whose function does no work on these rows.

    A refined term can make its function nearly constant (``sin(1e-7*x + 11/7)``)
    or nearly linear (``tanh(1e-9*g)/1e-9``); such a term is replaced by its
    factor alone, by the factor times its argument, or dropped, whichever
    comes first within :func:`~nalu_sr.extraction.candidate.loss_limit` of
    the loss of the terms as given. For a degenerate term (see
    :func:`degenerate`) the other terms' constants are refitted around each
    stand-in first: they had bent to make up for its small curvature, and a
    stand-in that fits exactly after the refit is the term's true form.
    """
    current = list(terms)
    loss = terms_loss(current, X, z, weights)
    limit = loss_limit(loss, tol)
    index = 0
    while index < len(current):
        found = _stand_in(current, index, X, z, limit, weights)
        if found is None:
            found = _polynomial_stand_in(current, index, X, z, loss, weights)
        if found is None:
            index += 1
            continue
        current, width = found
        loss = terms_loss(current, X, z, weights)
        index += width
    return current, loss


def _stand_in(
    terms: list[Term],
    index: int,
    X: torch.Tensor,
    z: np.ndarray,
    limit: float,
    weights: np.ndarray | None,
) -> tuple[list[Term], int] | None:
    """Return the terms with a simpler stand-in at ``index``, and its width."""
    refit = degenerate(terms[index], X)
    for alternative in _alternatives(terms[index]):
        trial = [*terms[:index], *alternative, *terms[index + 1 :]]
        loss = terms_loss(trial, X, z, weights)
        if loss > limit and refit:
            trial, loss = refine(trial, X, z, max_nfev=30, weights=weights)
        if loss <= limit:
            return trial, len(alternative)
    return None


def _polynomial_stand_in(
    terms: list[Term],
    index: int,
    X: torch.Tensor,
    z: np.ndarray,
    loss: float,
    weights: np.ndarray | None,
) -> tuple[list[Term], int] | None:
    """Put a quadratic in a function term's argument in its place, if no worse.

    Over the rows' range of its argument ``g`` a function acts much like
    ``c0 + c1*g + c2*g**2``: under noise ``1 - v**2/c**2`` is fitted as well
    by ``cos(1.45*v/c)``, and the greedy search meets the one function term
    before the two monomials. The monomials, when they fit the rows at least
    as well as the function, are the law (exact data leave a function that
    is the law clearly better). "As well" counts the constants, as the
    Bayesian information criterion does: each constant fewer allows the loss
    to grow by a factor ``n ** (1 / n)`` on ``n`` rows (0.7% on 1000).
    """
    for polynomial in _polynomials(terms[index]):
        trial = [*terms[:index], *polynomial, *terms[index + 1 :]]
        saved = _n_constants(terms) - _n_constants(trial)
        bound = loss * math.exp(saved * math.log(len(z)) / len(z))
        if terms_loss(trial, X, z, weights) <= bound:
            return trial, len(polynomial)
    return None


def _n_constants(terms: Sequence[Term]) -> int:
    """Return the fitted constants of a sum: one coefficient per term, inner floats."""
    return len(terms) + len(fitted_slots(terms))


def _polynomials(term: Term) -> list[list[Term]]:
    """Return ``P + P*g``, ``P + P*g**2`` and ``P + P*g + P*g**2`` for ``P*u(g)``."""
    if term.primitive is None or term.argument is None:
        return []
    if term.primitive.name in _LINEAR:
        return []
    plain = Term(term.factor)
    linear, square = (_times_power(term, k) for k in (1, 2))
    return [[plain, linear], [plain, square], [plain, linear, square]]


def _times_power(term: Term, k: int) -> Term:
    """Return the term's factor times the ``k``-th power of its argument."""
    argument = term.argument
    assert argument is not None
    if argument.exponents is not None:
        return Term(
            tuple(
                f + k * e for f, e in zip(term.factor, argument.exponents, strict=True)
            )
        )
    powered = replace(argument, power=k * argument.power)
    return Term(term.factor, _IDENTITY, powered)


def _alternatives(term: Term) -> list[list[Term]]:
    """Simpler stand-ins for a function term, simplest first."""
    if term.primitive is None or term.argument is None:
        return []
    plain = Term(term.factor)
    options: list[list[Term]] = [[], [plain]]
    argument = term.argument
    if term.primitive.name == "identity" and argument.exponents is None:
        return options
    if argument.exponents is not None:
        flattened = tuple(
            f + e for f, e in zip(term.factor, argument.exponents, strict=True)
        )
        options.append([Term(flattened)])
    else:
        options.append([Term(term.factor, _IDENTITY, argument)])
    return options
