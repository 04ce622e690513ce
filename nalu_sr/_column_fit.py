"""One target column's fit: data -> search -> candidates -> the chosen formula.

``NALURegressor.fit`` validates the data and runs :func:`fit_column` once per
target column: the law check at the data's precision floor, the search near
unit scale (continued from a warm state when there is one), the formulas put
back into the data's units, judged, and one of them chosen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy

from nalu_sr._fit_data import decade_scales, held_out_rows, input_scale, search_threads
from nalu_sr._outputs import OutputData, fit_warnings
from nalu_sr._progress import SearchProgress
from nalu_sr._warm_start import (
    SearchState,
    resumable,
    search_params,
    start_search,
)
from nalu_sr.dimensions import Units
from nalu_sr.exactness import LawCheck
from nalu_sr.extraction.candidate import Split
from nalu_sr.search import PlanEntry, SearchConfig, SearchOutcome
from nalu_sr.search_jobs import run_search
from nalu_sr.selection import FittedFormulas, choose, judge_candidates


def fit_column(
    params: Mapping[str, Any],
    data: OutputData,
    config: SearchConfig,
    random_state: np.random.RandomState,
    warm: tuple[Sequence[SearchState] | None, int] = (None, 0),
    units: Units | None = None,
) -> tuple[FittedFormulas, list[tuple[str, type[Warning]]], SearchState]:
    """Search one target column; return its formulas, warnings and warm state.

    Parameters
    ----------
    params : mapping
        The estimator's ``get_params()``.
    data : OutputData
        The column's validated data.
    config : SearchConfig
        The search's settings (``max_time`` already this column's share).
    random_state : numpy.random.RandomState
        Draws the split, plan and sample of a new search.
    warm : (sequence of SearchState or None, int), default=(None, 0)
        The states a previous fit left (``warm_start``; ``None``: none) and
        this column's index among them: its search continues when the data
        and search parameters are the same (see
        :func:`~nalu_sr._warm_start.resumable`).
    units : Units or None, default=None
        The dimensions of the features and this target.

    Returns
    -------
    formulas : FittedFormulas
    messages : list of (str, Warning subclass)
    state : SearchState
        What a warm restart continues from.
    """
    X, y, weights = data.X, data.y, data.weights
    check = LawCheck.from_data(X, y, weights, data.precision, params["tol"])
    config = dataclasses.replace(config, stop_loss=check.floor)
    # The search runs near unit scale; formulas return to the raw units.
    scales = decade_scales(X, y)
    X_search, y_search = scales.normalise(X, y)
    fraction = params["validation_fraction"]
    fingerprint, restart_params = data.fingerprint(), search_params(params)
    prior = resumable(warm[0], warm[1], fingerprint, restart_params)
    split, plan, body_rows, resume = start_search(
        prior, X_search, y_search, weights, fraction, config, random_state
    )
    symbols = data.symbols
    outcome = _search(split, symbols, config, plan, body_rows, resume, params)
    state = SearchState(
        fingerprint, restart_params, split, plan, body_rows, outcome.resumed()
    )
    outcome.candidates = scales.restore_candidates(outcome.candidates, symbols)
    n_held_out = held_out_rows(len(y), fraction)
    outcome.candidates = judge_candidates(
        outcome.candidates, check, symbols, n_held_out
    )
    formulas = choose(
        outcome, symbols, check.floor, params["selection_factor"], n_held_out, units
    )
    messages = fit_warnings(outcome, formulas, len(y), n_held_out, fraction)
    return formulas, messages, state


def _search(
    split: Split,
    symbols: list[sympy.Symbol],
    config: SearchConfig,
    plan: list[PlanEntry],
    body_rows: np.ndarray | None,
    resume: SearchOutcome | None,
    params: Mapping[str, Any],
) -> SearchOutcome:
    """Run the plan's training runs and the function search, with progress."""
    threads = 1 if config.device.type == "cpu" else None
    with search_threads(threads), SearchProgress(params["verbose"]) as progress:
        return run_search(
            split,
            input_scale(split.X_train),
            symbols,
            config,
            plan,
            progress,
            body_rows=body_rows,
            resume=resume,
        )
