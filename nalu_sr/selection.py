"""Model selection: from the candidates of a search to the chosen formula.

Candidates go in; out come the chosen formula and the table of every
candidate (``NALURegressor.equations_``), as :class:`FittedFormulas`. The
table is numbered by complexity, then validation loss; the chosen formula is
the simplest one whose validation loss is close to the best
(:func:`select_candidate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy

from nalu_sr._equations import build_table
from nalu_sr._thresholds import POOR_FIT_LOSS
from nalu_sr.extraction.candidate import Candidate
from nalu_sr.model import StackedModel
from nalu_sr.search import SearchOutcome

__all__ = [
    "POOR_FIT_LOSS",
    "SELECTION_SLACK",
    "FittedFormulas",
    "choose",
    "poor_fit_message",
    "select_candidate",
]

#: Relative loss (a share of the target's variance) that each unit of
#: ``selection_factor - 1`` allows above the best candidate.
SELECTION_SLACK = 0.01


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
        Whether ``loss`` is at most the estimator's ``tol``.
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


def choose(
    outcome: SearchOutcome,
    symbols: list[sympy.Symbol],
    tol: float,
    selection_factor: float,
) -> FittedFormulas:
    """Sort the candidates of a search, choose one, and tabulate them all.

    Parameters
    ----------
    outcome : SearchOutcome
        The search's candidates, with their modules and histories.
    symbols : list of sympy.Symbol
        Symbols of the features.
    tol : float
        Relative validation error at or below which a formula is exact.
    selection_factor : float
        See :func:`select_candidate`.

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
    chosen = select_candidate(candidates, tol, selection_factor)
    best = candidates[chosen]
    return FittedFormulas(
        symbols=symbols,
        table=build_table(candidates, chosen, tol),
        best_index=chosen,
        expression=best.expression,
        loss=best.validation_loss,
        exact=best.validation_loss <= tol,
        n_iter=outcome.n_trained,
        module=outcome.modules[order[chosen]],
        history=outcome.histories[order[chosen]],
    )


def select_candidate(
    candidates: Sequence[Candidate], tol: float, selection_factor: float
) -> int:
    """Index of the simplest candidate whose validation loss is near the best.

    A candidate qualifies when its loss is at most ``selection_factor`` times
    the best loss and at most ``(selection_factor - 1) * 0.01`` above it, or
    at most ``tol``; among those the lowest complexity wins, then the lower
    loss. The additive bound matters for poor fits only: with a best relative
    loss of 0.6, twice the best would admit a constant (loss about 1).

    Parameters
    ----------
    candidates : sequence of Candidate
        At least one candidate.
    tol : float
        Relative validation error at or below which a candidate is exact.
    selection_factor : float
        At least 1.

    Returns
    -------
    int
        Position of the chosen candidate in ``candidates``.
    """
    best = min(c.validation_loss for c in candidates)
    slack = (selection_factor - 1) * SELECTION_SLACK
    threshold = max(min(best * selection_factor, best + slack), tol)
    qualified = [
        (c.complexity, c.validation_loss, i)
        for i, c in enumerate(candidates)
        if c.validation_loss <= threshold
    ]
    return min(qualified)[2]


def poor_fit_message(formulas: FittedFormulas) -> str | None:
    """Say why the chosen formula fits poorly, or return ``None`` if it does not.

    Parameters
    ----------
    formulas : FittedFormulas
        A fit's result.

    Returns
    -------
    str or None
        The text of a :class:`~nalu_sr.exceptions.PoorFitWarning` when the
        loss exceeds :data:`POOR_FIT_LOSS`.
    """
    if formulas.loss <= POOR_FIT_LOSS:
        return None
    return (
        f"no formula fits the data well: the best has a relative "
        f"validation error of {formulas.loss:.3g} "
        f"(R^2 = {1 - formulas.loss:.3g}): {formulas.expression}"
    )
