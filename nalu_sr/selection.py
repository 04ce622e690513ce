"""Model selection: from the candidates of a search to the chosen formula.

Candidates go in; out come the chosen formula and the table of every
candidate (``NALURegressor.equations_``), as :class:`FittedFormulas`. The
table is numbered by complexity, then validation loss; the chosen formula is
the simplest one whose validation loss is close to the best
(:func:`select_candidate`). It is called exact only when held-out rows,
more of them than it has free constants, confirm it (:func:`choose`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy

from nalu_sr._equations import build_table
from nalu_sr._thresholds import POOR_FIT_LOSS
from nalu_sr.dimensions import Units
from nalu_sr.exactness import LawCheck, free_constants
from nalu_sr.extraction.candidate import Candidate, expression_complexity
from nalu_sr.extraction.constants import (
    NEAR_INTEGRAL_RTOL,
    decimal_constants,
    dressed,
    integral_floats,
)
from nalu_sr.model import StackedModel
from nalu_sr.search import SearchOutcome

__all__ = [
    "COMPLEXITY_COST",
    "POOR_FIT_LOSS",
    "SELECTION_SLACK",
    "STANDARD_ERRORS",
    "FittedFormulas",
    "approximation_score",
    "choose",
    "judge_candidates",
    "near_best",
    "noise_margin",
    "select_candidate",
    "selection_complexity",
]

#: Relative loss (a share of the target's variance) that each unit of
#: ``selection_factor - 1`` allows above the best candidate.
SELECTION_SLACK = 0.01
#: Relative loss (of R^2) each node of an approximation must buy, per unit of
#: ``selection_factor - 1`` (see :func:`approximation_score`).
COMPLEXITY_COST = 3e-5
#: Standard errors of a validation loss that a candidate may lie above the
#: best one at the default ``selection_factor`` of 2 (see :func:`noise_margin`).
STANDARD_ERRORS = 1.0


@dataclass(frozen=True)
class FittedFormulas:
    """The chosen formula and the table of candidates: what a fit leaves.

    A model file holds the same, less the torch module and training history.

    Attributes
    ----------
    symbols : list of sympy.Symbol
        Symbols of the features, in column order.
    table : pandas.DataFrame or list of dict
        Every candidate, one row each (see ``NALURegressor.equations_``).
    best_index : int
        Row of the chosen formula in ``table``.
    expression : sympy.Expr
        The chosen formula.
    loss : float
        Its relative validation error.
    exact : bool
        Whether the chosen formula is a law (see :func:`judge_candidates`).
    n_iter : int
        Training runs performed.
    module : StackedModel or None
        The trained body of the chosen formula, if known.
    history : list of float
        Training loss per step of the chosen formula's run, if known.
    """

    symbols: list[sympy.Symbol]
    table: Any
    best_index: int
    expression: sympy.Expr
    loss: float
    exact: bool
    n_iter: int
    module: StackedModel | None = None
    history: list[float] = field(default_factory=list)
    precision_floor: float = 1e-16


def judge_candidates(
    candidates: Sequence[Candidate],
    check: LawCheck,
    symbols: Sequence[sympy.Symbol],
    n_held_out: int | None = None,
) -> list[Candidate]:
    """Mark the laws among the candidates; write the others' numbers as decimals.

    A candidate is exact when (a) its validation loss is at most
    ``check.floor`` (the data's precision floor, or the user's ``tol``), (b)
    its free constants, refitted on the inner rows, predict the outer rows
    to their floor (:meth:`LawCheck.extrapolates`), and (c) more validation
    rows were held out than it has
    :func:`~nalu_sr.exactness.free_constants` (``n_held_out`` ``None`` skips
    (c)). A law's whole-number floats become integers. A
    formula that is not exact keeps symbolic numbers only if they are all
    simple (no fitted float beside them, no rational term above 100) and it
    fits within the noise (:meth:`LawCheck.within_noise`) and extrapolates
    as a law under noise does (:meth:`LawCheck.extrapolates_like_noise`);
    otherwise its multiples of pi or e, roots and large rationals become
    decimals (:func:`~nalu_sr.extraction.constants.decimal_constants`).

    Parameters
    ----------
    candidates : sequence of Candidate
        Candidates over ``symbols``, on the rows ``check`` holds.
    check : LawCheck
        The rows and the floor.
    symbols : sequence of sympy.Symbol
        Symbols of the features.
    n_held_out : int or None, default=None
        Validation rows held out of training.

    Returns
    -------
    list of Candidate
        The candidates with ``exact`` and ``extrapolation_loss`` set.
    """
    floor = check.floor
    judged = []
    for candidate in candidates:
        extrapolation: float | None = None
        exact = False
        if candidate.validation_loss <= floor:
            extrapolation = check.extrapolation(candidate.expression, symbols)
            confirmed = n_held_out is None or n_held_out > free_constants(
                candidate.expression
            )
            exact = check.extrapolates(extrapolation) and confirmed
        expression = _tidy(candidate, check, exact, symbols)
        judged.append(
            dataclasses.replace(
                candidate,
                expression=expression,
                complexity=expression_complexity(expression),
                extrapolation_loss=extrapolation,
                exact=exact,
            )
        )
    return judged


def _tidy(
    candidate: Candidate,
    check: LawCheck,
    exact: bool,
    symbols: Sequence[sympy.Symbol],
) -> sympy.Expr:
    """Return a law without whole floats, an approximation with decimals.

    A law's floats within a few ulps of a whole number become that number
    when the formula still reaches the floor. A formula that is not exact
    keeps symbolic numbers only when they are all simple, it fits within
    the noise and, refitted on the inner rows, it predicts the outer ones
    about as well as it fits them (:meth:`LawCheck.extrapolates_like_noise`):
    a law under noise, whose ``2*pi`` is the point. Otherwise its numbers
    become decimals.
    """
    expression = candidate.expression
    if exact:
        rounded = integral_floats(expression, NEAR_INTEGRAL_RTOL)
        if rounded != expression and check.loss(rounded, symbols) <= check.floor:
            expression = rounded
        return integral_floats(expression)
    decimals = decimal_constants(expression)
    if decimals == expression:
        return expression
    if dressed(expression) or not check.within_noise(candidate.validation_loss):
        return decimals
    if not check.extrapolates_like_noise(expression, symbols):
        return decimals  # symbolic numbers on a formula bent to the range
    return expression


def choose(
    outcome: SearchOutcome,
    symbols: list[sympy.Symbol],
    tol: float,
    selection_factor: float,
    n_held_out: int | None = None,
    units: Units | None = None,
) -> FittedFormulas:
    """Sort the candidates of a search, choose one, and tabulate them all.

    Parameters
    ----------
    outcome : SearchOutcome
        The search's candidates, with their modules and histories.
    symbols : list of sympy.Symbol
        Symbols of the features.
    tol : float
        The precision floor the candidates were judged at (see
        :func:`judge_candidates`, which set their ``exact``).
    selection_factor : float
        See :func:`select_candidate`.
    n_held_out : int or None, default=None
        Validation rows held out of training (0 when the formulas were
        validated on their own training rows); they bound how far above the
        best loss a simpler formula may be chosen (see
        :func:`select_candidate`). ``None`` sets no bound.
    units : Units or None, default=None
        The dimensions of the features and the target: candidates whose
        dimension matches come first among equals (see
        :func:`select_candidate`).

    Returns
    -------
    FittedFormulas
        The chosen formula and the table, numbered by complexity, then loss.
    """
    found = outcome.candidates
    order = sorted(
        range(len(found)),
        key=lambda i: (found[i].complexity, found[i].validation_loss),
    )
    candidates = [found[i] for i in order]
    consistent = None
    if units is not None:
        consistent = units.consistent([c.expression for c in candidates])
    chosen = select_candidate(
        candidates, tol, selection_factor, n_held_out, consistent=consistent
    )
    best = candidates[chosen]
    return FittedFormulas(
        symbols=symbols,
        table=build_table(candidates, chosen),
        best_index=chosen,
        expression=best.expression,
        loss=best.validation_loss,
        exact=best.exact,
        n_iter=outcome.n_trained,
        module=outcome.modules[order[chosen]],
        history=outcome.histories[order[chosen]],
        precision_floor=tol,
    )


def select_candidate(
    candidates: Sequence[Candidate],
    tol: float,
    selection_factor: float,
    n_held_out: int | None = None,
    *,
    complexity_cost: float = COMPLEXITY_COST,
    consistent: Sequence[bool] | None = None,
) -> int:
    """Index of the simplest law, else of the shortest good approximation.

    With ``consistent`` (whether each candidate's physical dimension matches
    the target's, see :mod:`nalu_sr.dimensions`), the laws and the
    candidates near the best that match come first: a penalty that decides
    among formulas the data cannot tell apart, never against a better fit.

    1. When some candidates are ``exact`` (laws, see
       :func:`judge_candidates`), the one of lowest
       :func:`selection_complexity` among them wins, then the lower loss.
    2. Otherwise the simplest candidate near the best: its loss at most
       ``selection_factor`` times the best, at most ``(selection_factor - 1)
       * 0.01`` above it and, with ``n_held_out`` validation rows, at most
       ``(1 + m) ** (selection_factor - 1)`` times it, ``m`` being their
       :func:`noise_margin` (or at most ``tol``). The margin matters under
       noise, where every loss is at least the noise's share: a law at the
       noise floor must not lose to a shorter series 5% above it.
    3. If that candidate has only snapped numbers (a law under noise), it is
       chosen. If it has fitted floats (an approximation), the candidate of
       lowest :func:`approximation_score` no more complex than it wins: a
       formula much shorter and almost as accurate, as PySR's
       ``model_selection="best"`` prefers.

    Parameters
    ----------
    candidates : sequence of Candidate
        At least one candidate.
    tol : float
        Relative validation error at or below which a candidate is exact.
    selection_factor : float
        At least 1.
    n_held_out : int or None, default=None
        Validation rows the losses were measured on (held out of training);
        ``None`` or 0 sets no margin.
    complexity_cost : float, default=COMPLEXITY_COST
        The cost per node of :func:`approximation_score` (benchmarks compare
        others).
    consistent : sequence of bool or None, default=None
        Per candidate, whether its dimension matches the target's; ``None``
        when no units are known.

    Returns
    -------
    int
        Position of the chosen candidate in ``candidates``.
    """
    mismatch = [False] * len(candidates) if consistent is None else [
        not match for match in consistent
    ]  # fmt: skip
    laws = [
        (mismatch[i], selection_complexity(c), c.validation_loss, i)
        for i, c in enumerate(candidates)
        if c.exact
    ]
    if laws:
        return min(laws)[3]
    near = near_best(candidates, tol, selection_factor, n_held_out, consistent)
    if not candidates[near].expression.atoms(sympy.Float):
        return near  # snapped numbers only: a law under noise, never traded
    return _shortest_good(candidates, near, selection_factor, complexity_cost)


def near_best(
    candidates: Sequence[Candidate],
    tol: float,
    selection_factor: float,
    n_held_out: int | None,
    consistent: Sequence[bool] | None = None,
) -> int:
    """Return the simplest candidate whose loss the data cannot tell from the best.

    Step 2 of :func:`select_candidate` (see there), on its own.

    Parameters
    ----------
    candidates : sequence of Candidate
        At least one candidate.
    tol : float
        A loss every candidate at or below qualifies.
    selection_factor : float
        At least 1.
    n_held_out : int or None
        Validation rows the losses were measured on; ``None`` or 0 sets no
        noise margin.
    consistent : sequence of bool or None, default=None
        Per candidate, whether its dimension matches the target's: those
        that match come first among the qualified.

    Returns
    -------
    int
        Position of the candidate in ``candidates``.
    """
    best = min(c.validation_loss for c in candidates)
    slack = (selection_factor - 1) * SELECTION_SLACK
    near = min(best * selection_factor, best + slack)
    if n_held_out:
        margin = (1 + noise_margin(n_held_out)) ** (selection_factor - 1)
        near = min(near, best * margin)
    threshold = max(near, tol)
    qualified = [
        (consistent is not None and not consistent[i], selection_complexity(c),
         c.validation_loss, i)
        for i, c in enumerate(candidates)
        if c.validation_loss <= threshold
    ]  # fmt: skip
    return min(qualified)[3]


def approximation_score(
    candidate: Candidate,
    selection_factor: float,
    complexity_cost: float = COMPLEXITY_COST,
) -> float:
    """Return the score an approximation is chosen by: loss plus a cost per node.

    ``validation_loss + (selection_factor - 1) * COMPLEXITY_COST *
    selection_complexity``: at the default factor of 2, each node (or fitted
    float) must buy 3e-5 of relative loss (of R^2). A formula ten nodes
    shorter wins when its loss is at most 3e-4 higher, so the chosen
    formula's R^2 is within ``COMPLEXITY_COST`` times the complexity it sheds
    of the most accurate one.

    Parameters
    ----------
    candidate : Candidate
        A formula of the search.
    selection_factor : float
        At least 1; 1 leaves the loss alone.
    complexity_cost : float, default=COMPLEXITY_COST
        The cost per node at a factor of 2.

    Returns
    -------
    float
        The score; lower is better.

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> short = Candidate(0.5 * x, 3, 2e-4, 2e-4, "", 0, 0)
    >>> long = Candidate(0.5 * x + 0.25 * x**2, 9, 1e-8, 1e-8, "", 0, 0)
    >>> approximation_score(short, 2.0) < approximation_score(long, 2.0)
    True
    """
    cost = (selection_factor - 1) * complexity_cost
    return candidate.validation_loss + cost * selection_complexity(candidate)


def _shortest_good(
    candidates: Sequence[Candidate],
    near: int,
    selection_factor: float,
    complexity_cost: float,
) -> int:
    """Return the best-scoring candidate no more complex than ``candidates[near]``."""
    ceiling = selection_complexity(candidates[near])
    scored = [
        (
            approximation_score(c, selection_factor, complexity_cost),
            selection_complexity(c),
            i,
        )
        for i, c in enumerate(candidates)
        if selection_complexity(c) <= ceiling
    ]
    return min(scored)[2]


def selection_complexity(candidate: Candidate) -> int:
    """Return the complexity that selection compares: nodes plus fitted floats.

    A fitted float is one node of the tree, yet each is a number the data
    chose: ``0.0795*x0**1.00007/(x1**0.9995*x2**1.9986)`` has 11 nodes and
    the law ``x0/(4*pi*x1*x2**2)`` 12, and under noise both fit equally
    well. Counting each float twice prefers the law.

    Parameters
    ----------
    candidate : Candidate
        A formula of the search.

    Returns
    -------
    int
        Its complexity plus the number of distinct floats in it.

    Examples
    --------
    >>> from nalu_sr.extraction.candidate import expression_complexity
    >>> x = sympy.Symbol("x")
    >>> formula = 0.5 * x**1.002
    >>> candidate = Candidate(formula, expression_complexity(formula), 0, 0, "", 0, 0)
    >>> candidate.complexity, selection_complexity(candidate)
    (5, 7)
    """
    return candidate.complexity + len(candidate.expression.atoms(sympy.Float))


def noise_margin(n_rows: int) -> float:
    """Relative loss above the best that ``n_rows`` validation rows cannot tell apart.

    The mean square of ``n`` Gaussian residuals has a relative standard error
    of ``sqrt(2 / n)``; a loss within :data:`STANDARD_ERRORS` of them of the
    best one is as good as the best on these rows. One is enough: a law and
    a formula that only fits the noise better differ on held-out rows by far
    less (both err by the same noise there), while an approximation 5% above
    the noise floor is plain on 1500 rows.

    Parameters
    ----------
    n_rows : int
        Validation rows (positive).

    Returns
    -------
    float
        The margin, a fraction of the best loss.

    Examples
    --------
    >>> round(noise_margin(800), 3)
    0.05
    """
    return STANDARD_ERRORS * math.sqrt(2.0 / n_rows)
