"""One target column's fit: data -> search -> candidates -> the chosen formula.

``NALURegressor.fit`` validates the data and runs :func:`fit_column` once per
target column: the law check at the data's precision floor, the search near
unit scale (continued from a warm state when there is one), the formulas put
back into the data's units, judged, and one of them chosen.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy

from nalu_sr._fit_data import (
    decade_scales,
    held_out_rows,
    input_scale,
    search_threads,
    split_rows,
)
from nalu_sr._outputs import MIN_OUTPUT_SECONDS, OutputData, fit_warnings
from nalu_sr._progress import SearchProgress
from nalu_sr._warm_start import (
    SearchState,
    resumable,
    search_params,
    start_search,
)
from nalu_sr.dimensionless import DimensionlessBasis, dimensionless_bases
from nalu_sr.dimensions import Units
from nalu_sr.exactness import LawCheck
from nalu_sr.export.numpy import CallableExpression
from nalu_sr.extraction.candidate import Candidate, Split, expression_complexity
from nalu_sr.extraction.simplify import simplify_found
from nalu_sr.linalg import relative_error, weighted_mean
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
    started = time.perf_counter()
    check = LawCheck.from_data(X, y, weights, data.precision, params["tol"])
    config = dataclasses.replace(config, stop_loss=check.floor)
    fraction = params["validation_fraction"]
    n_held_out = held_out_rows(len(y), fraction)
    grouped: list[Candidate] = []
    groups_outcome = SearchOutcome()
    if units is not None and params["dimensional_analysis"]:
        groups_outcome = search_groups(params, data, config, random_state, units)
        grouped = judge_candidates(
            groups_outcome.candidates, check, data.symbols, n_held_out
        )
        config = _time_left(config, time.perf_counter() - started)
    # The search runs near unit scale; formulas return to the raw units.
    scales = decade_scales(X, y)
    X_search, y_search = scales.normalise(X, y)
    fingerprint, restart_params = data.fingerprint(), search_params(params)
    prior = resumable(warm[0], warm[1], fingerprint, restart_params)
    split, plan, body_rows, resume = start_search(
        prior, X_search, y_search, weights, fraction, config, random_state
    )
    symbols = data.symbols
    # After an interrupt, the groups' formulas are all there is (if any).
    if any(c.exact for c in grouped) or (grouped and _ended(groups_outcome)):
        outcome = resume if resume is not None else SearchOutcome()
        outcome.interrupted = groups_outcome.interrupted
        outcome.lost_workers = groups_outcome.lost_workers
    else:
        outcome = _search(split, symbols, config, plan, body_rows, resume, params)
    state = SearchState(
        fingerprint, restart_params, split, plan, body_rows, outcome.resumed()
    )
    outcome.candidates = scales.restore_candidates(outcome.candidates, symbols)
    outcome.candidates = judge_candidates(
        outcome.candidates, check, symbols, n_held_out
    )
    _add_grouped(outcome, grouped)
    formulas = choose(
        outcome, symbols, check.floor, params["selection_factor"], n_held_out, units
    )
    messages = fit_warnings(outcome, formulas, len(y), n_held_out, fraction)
    return formulas, messages, state


def _time_left(config: SearchConfig, spent: float) -> SearchConfig:
    """Return the settings with ``max_time`` less the ``spent`` seconds."""
    if config.max_time is None or spent <= 0:
        return config
    return dataclasses.replace(
        config, max_time=max(config.max_time - spent, MIN_OUTPUT_SECONDS)
    )


def _ended(outcome: SearchOutcome) -> bool:
    """Whether a search was interrupted or lost its workers (nothing follows)."""
    return outcome.interrupted or outcome.lost_workers is not None


def _add_grouped(outcome: SearchOutcome, grouped: Sequence[Candidate]) -> None:
    """Pool the formulas found over dimensionless groups with the others."""
    outcome.candidates.extend(grouped)
    outcome.modules.extend([None] * len(grouped))
    outcome.histories.extend([] for _ in grouped)


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


#: Share of a column's ``max_time`` the search over dimensionless groups may
#: take; the search over the inputs gets the rest (all of it when the groups
#: gave no law).
GROUPS_SHARE = 0.5
#: Bases of groups tried, simplest first, until one is defined on every row.
MAX_BASES = 8


def search_groups(
    params: Mapping[str, Any],
    data: OutputData,
    config: SearchConfig,
    random_state: np.random.RandomState,
    units: Units,
) -> SearchOutcome:
    """Search the law over the inputs' dimensionless groups (Buckingham pi).

    The target divided by the basis's prefactor is searched as a function of
    its groups (see :mod:`nalu_sr.dimensionless`), on the same validation
    rows as the search over the inputs and with a copy of ``random_state``
    (the search over the inputs draws as it would without units). Its
    formulas come back over the inputs, scored on the raw target.

    Parameters
    ----------
    params : mapping
        The estimator's ``get_params()``.
    data : OutputData
        The column's validated data.
    config : SearchConfig
        The column's search settings; this search takes
        :data:`GROUPS_SHARE` of ``max_time``.
    random_state : numpy.random.RandomState
        Copied, never drawn from.
    units : Units
        The dimensions of the features and of this target.

    Returns
    -------
    SearchOutcome
        Its candidates are formulas over ``data.symbols`` (not yet judged);
        none when the units give no basis defined on every row.
    """
    for basis in dimensionless_bases(units, data.symbols)[:MAX_BASES]:
        features, target = basis.transform(data.X, data.y)
        if not (np.all(np.isfinite(features)) and np.all(np.isfinite(target))):
            continue
        if not basis.groups and not _proportional(features[:, 0], data):
            break  # every basis has the same lone prefactor
        return _search_basis(
            params, data, config, random_state, (basis, features, target)
        )
    return SearchOutcome()


#: Without any group the law can only be ``y = C * prefactor``; when that
#: leaves more than this share of the target's variance, the law needs a
#: constant the data do not hold (``g`` in ``v0*t - g*t**2/2``) and the
#: search over the groups is skipped.
MAX_PROPORTIONAL_LOSS = 0.05


def _proportional(prefactor: np.ndarray, data: OutputData) -> bool:
    """Whether the target is nearly a constant times ``prefactor``."""
    y = np.asarray(data.y, dtype=np.float64)
    scale = weighted_mean(prefactor * y, data.weights) / weighted_mean(
        prefactor**2, data.weights
    )
    loss = relative_error(scale * prefactor, y, data.weights)
    return math.isfinite(loss) and loss <= MAX_PROPORTIONAL_LOSS


def _search_basis(
    params: Mapping[str, Any],
    data: OutputData,
    config: SearchConfig,
    random_state: np.random.RandomState,
    transformed: tuple[DimensionlessBasis, np.ndarray, np.ndarray],
) -> SearchOutcome:
    """Search ``y / prefactor = f(groups)``; its formulas come over the inputs.

    ``transformed`` is the basis with its groups' values and the target
    divided by its prefactor (:meth:`DimensionlessBasis.transform`).
    """
    basis, features, target = transformed
    floor = LawCheck.from_data(
        features, target, data.weights, data.precision, params["tol"]
    ).floor
    # Rewriting may run past this search's share, never past the column's.
    deadline = (
        None if config.max_time is None else time.perf_counter() + config.max_time
    )
    budget = None if config.max_time is None else config.max_time * GROUPS_SHARE
    config = dataclasses.replace(config, max_time=budget, stop_loss=floor)
    scales = decade_scales(features, target)
    X_search, y_search = scales.normalise(features, target)
    fraction = params["validation_fraction"]
    split, plan, body_rows, _ = start_search(
        None, X_search, y_search, data.weights, fraction, config,
        copy.deepcopy(random_state),
    )  # fmt: skip
    # The split is the first draw: a second copy holds out the same raw rows.
    rows = split_rows(
        data.X, data.y, fraction, copy.deepcopy(random_state), data.weights
    )
    names = [sympy.Dummy(f"pi{i}", real=True) for i in range(basis.n_features)]
    outcome = _search(split, names, config, plan, body_rows, None, params)
    found = scales.restore_candidates(outcome.candidates, names)
    over_inputs = (
        _over_inputs(candidate, basis, (names, data.symbols), rows, deadline)
        for candidate in found
    )
    outcome.candidates = [c for c in over_inputs if c is not None]
    return outcome


def _over_inputs(
    candidate: Candidate,
    basis: DimensionlessBasis,
    names_and_symbols: tuple[Sequence[sympy.Symbol], Sequence[sympy.Symbol]],
    rows: Split,
    deadline: float | None,
) -> Candidate | None:
    """Rewrite a formula over groups over the inputs; score it on the raw rows.

    ``names_and_symbols`` are the groups' symbols and the inputs'; no
    simplification step starts after ``deadline``.
    """
    names, symbols = names_and_symbols
    expression = basis.restore(candidate.expression, names, symbols)
    expression = simplify_found(expression, symbols, rows.X_val, deadline)
    predict = CallableExpression(expression, symbols)
    try:
        with np.errstate(all="ignore"):
            train = relative_error(predict(rows.X_train), rows.y_train, rows.w_train)
            val = relative_error(predict(rows.X_val), rows.y_val, rows.w_val)
    except ValueError:
        return None
    if not (math.isfinite(train) and math.isfinite(val)):
        return None
    return dataclasses.replace(
        candidate,
        expression=expression,
        complexity=expression_complexity(expression),
        train_loss=train,
        validation_loss=val,
        architecture=f"groups/{candidate.architecture}",
    )
