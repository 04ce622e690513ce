"""The function search's rounds: how wide each is, what it stacks on, and one run.

The trained bodies (:mod:`nalu_sr.search`) and these rounds take turns in
:mod:`nalu_sr.search_jobs`; each round runs a
:class:`~nalu_sr.functions.FunctionSearch` and adds its candidates to the
search's outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import sympy

from nalu_sr.architectures import FUNCTIONS
from nalu_sr.functions import FunctionSearch, FunctionSearchConfig
from nalu_sr.functions.stacking import exponentials, level_features
from nalu_sr.search import SearchConfig, SearchOutcome, _add, _Context


@dataclass(frozen=True)
class FunctionRound:
    """How wide one round of the function search is, and what it stacks on.

    A round of the first level searches over the inputs (``features`` is
    empty); one of the second level searches over the inputs and features
    (:mod:`nalu_sr.functions.stacking`): the function applications of the
    formulas found so far (``"found"``) or the inputs' exponentials
    (``"exponentials"``). ``transforms`` narrows the target transforms
    searched (empty: all of them).
    """

    max_terms: int
    beam_width: int
    n_children: int
    features: str = ""
    transforms: tuple[str, ...] = ()

    @property
    def depth(self) -> int:
        """1 for a round over the inputs, 2 for one over features too."""
        return 2 if self.features else 1


#: Rounds of the function search: the first always runs, the others only
#: while ``max_time`` leaves time; each level's narrow round comes before the
#: first level's wider ones. The second level over the exponentials comes
#: first on the untransformed target alone (a fraction of a full round's
#: cost, and where products with and sums of exponentials lie), so that it
#: does not wait for the first level's wider round.
FUNCTION_ROUNDS: tuple[FunctionRound, ...] = (
    FunctionRound(3, 3, 5),
    FunctionRound(3, 3, 5, "exponentials", ("identity",)),
    FunctionRound(3, 6, 10),
    FunctionRound(3, 3, 5, "found"),
    FunctionRound(4, 10, 16),
    FunctionRound(3, 6, 10, "exponentials"),
    FunctionRound(3, 6, 10, "found"),
    FunctionRound(4, 16, 24),
)


def function_rounds(config: SearchConfig) -> list[FunctionRound]:
    """Return the rounds of the function search this configuration runs.

    Without ``max_time`` only the first round runs (the documented stopping
    rule); with it, wider rounds follow while time is left.
    """
    if FUNCTIONS not in config.architectures:
        return []
    return list(FUNCTION_ROUNDS if config.max_time is not None else FUNCTION_ROUNDS[:1])


def run_function_round(
    outcome: SearchOutcome,
    context: _Context,
    width: FunctionRound,
    deadline: float | None,
) -> None:
    """Search sums of function terms at one width; keep their candidates.

    A round that ends before the deadline counts in ``outcome.n_rounds``; one
    the deadline cut short is kept as ``outcome.paused_round``, and resumed
    there by the next call (a warm restart).
    """
    config = context.config
    settings = FunctionSearchConfig(
        config.primitives,
        tol=config.tol,
        stop_loss=config.early_stop_loss,
        max_terms=width.max_terms,
        beam_width=width.beam_width,
        n_children=width.n_children,
    )
    if width.transforms:
        settings = replace(settings, transforms=width.transforms)
    search = outcome.paused_round
    if search is None:
        features = _level_features(outcome, context, width)
        if width.depth > 1 and not features:
            outcome.n_rounds += 1  # nothing to stack on: the round is done
            return
        search = FunctionSearch(context.split, context.symbols, settings, features)
    outcome.paused_round = None
    for candidate in search.run(deadline):
        _add(outcome, candidate, None, [])
    if search.finished:
        outcome.n_rounds += 1
    else:
        outcome.paused_round = search


def _level_features(
    outcome: SearchOutcome, context: _Context, width: FunctionRound
) -> list[sympy.Expr]:
    """Return the features a second-level round searches over (none at the first)."""
    if not width.features:
        return []
    split = context.split
    rows = np.concatenate([split.X_train, split.X_val])
    if width.features == "found":
        return level_features(outcome.candidates, context.symbols, rows)
    if width.features == "exponentials":
        return exponentials(context.symbols, rows)
    return []
